/* pb-delivery.c: the destination writer (see pb-delivery.h).
 *
 * Why each step is there:
 * - The temporary file lives in the destination's file system (tmp/ of the
 *   Maildir, or a hidden name in the eml folder) so the final rename is
 *   atomic: a reader sees no file or the whole file, never a part.
 * - fsync of the file before the rename, and of the directory after, is
 *   what makes "the file is there" survive a power cut; the caller records
 *   a message as downloaded only after both.
 * - Large batches may skip the fsync per file for one syncfs(2) of the
 *   whole file system (pb_delivery_sync_file_system): on a file system
 *   without a journal each fsync is its own trip to the disk and its own
 *   cache flush, and even with one a syncfs replaces hundreds of them.
 *   Only where syncfs is as strong as the fsyncs it replaces: see
 *   decide_sync_file_system().
 * - renameat2 (RENAME_NOREPLACE), falling back to link()+unlink() where a
 *   file system lacks it, so an existing file is never overwritten.
 * - The sink buffers 64 KiB and writes with write(2) in the calling thread:
 *   writes to a local file are page-cache copies, and one pollable stream
 *   that is always writable lets GIO's async writes run without a thread
 *   hop per chunk.
 */
#define _GNU_SOURCE /* renameat2, RENAME_NOREPLACE */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>

#include "pb-core-error.h"
#include "pb-delivery.h"

#define SINK_BUFFER_SIZE   (64 * 1024)
#define HEADER_CAPTURE_MAX (64 * 1024)
/* The Maildir rule for anybody's leftovers in tmp/ (cr.yp.to/proto/maildir.html). */
#define STALE_TEMP_SECONDS (36 * 60 * 60)
#define EML_TEMP_PREFIX    ".popbiff-tmp-"

/* ------------------------------------------------------------------ */
/* Errors                                                              */

/* Builds the error for a failed system call on @folder's behalf. */
static void
set_disk_error (GError     **error,
                int          errsv,
                const char  *folder)
{
  const char *reason = g_strerror (errsv);

  switch (errsv)
    {
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                   _("Could not save the message in “%s”: the disk is full "
                     "(%s). Free some space, then fetch again."),
                   folder, reason);
      break;
    case EROFS:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_READ_ONLY,
                   _("Could not save the message in “%s”: the folder is on a "
                     "read-only file system. Choose another folder (--folder)."),
                   folder);
      break;
    case EACCES:
    case EPERM:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("Could not save the message in “%s”: permission denied. "
                     "Check who owns the folder, or choose another one (--folder)."),
                   folder);
      break;
    case ENOENT:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("Could not save the message in “%s”: the folder does not "
                     "exist and could not be created (%s)."),
                   folder, reason);
      break;
    case ENOTDIR:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                   _("Could not save the message in “%s”: a file is in the way "
                     "where a folder should be. Move it, or choose another "
                     "folder (--folder)."),
                   folder);
      break;
    default:
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK,
                   _("Could not save the message in “%s”: %s."),
                   folder, reason);
      break;
    }
}

/* ------------------------------------------------------------------ */
/* Temporary files in use in this process: another PbDelivery on the same
 * folder (the applet fetching two accounts into one Maildir) must not clean
 * them up as leftovers of a dead run. */

G_LOCK_DEFINE_STATIC (live_temps);
static GHashTable *live_temps;

static void
live_temp_add (const char *path)
{
  G_LOCK (live_temps);
  if (live_temps == NULL)
    live_temps = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_add (live_temps, g_strdup (path));
  G_UNLOCK (live_temps);
}

static void
live_temp_remove (const char *path)
{
  G_LOCK (live_temps);
  if (live_temps != NULL)
    g_hash_table_remove (live_temps, path);
  G_UNLOCK (live_temps);
}

static gboolean
live_temp_contains (const char *path)
{
  gboolean found;

  G_LOCK (live_temps);
  found = live_temps != NULL && g_hash_table_contains (live_temps, path);
  G_UNLOCK (live_temps);
  return found;
}

/* ------------------------------------------------------------------ */
/* PbDelivery                                                          */

struct _PbDelivery
{
  GObject           parent_instance;

  char             *folder;
  PbDeliveryFormat  format;
  char             *host;            /* sanitized for Maildir names */
  char             *names_dir;       /* where committed names go: new/ or the folder */
  char             *temp_dir;        /* tmp/ or the folder */

  GMutex            lock;            /* guards reserved and the Q counter */
  GHashTable       *reserved;        /* final paths chosen but not yet committed */
  guint             sequence;        /* Q<n> of the Maildir name */

  int               folder_fd;       /* for syncfs; -1 before open */
  gboolean          can_sync_fs;     /* see decide_sync_file_system */
  GError           *sync_fs_error;   /* sticky; guarded by lock */

  guint64           total_bytes;     /* all messages' octets, for the hook */
  GPtrArray        *spare_buffers;   /* sink buffers to reuse; guarded by lock */
  PbDeliveryWriteHook hook;
  gpointer          hook_data;
};

G_DEFINE_FINAL_TYPE (PbDelivery, pb_delivery, G_TYPE_OBJECT)

static void
pb_delivery_finalize (GObject *object)
{
  PbDelivery *self = PB_DELIVERY (object);

  g_free (self->folder);
  g_free (self->host);
  g_free (self->names_dir);
  g_free (self->temp_dir);
  if (self->folder_fd >= 0)
    close (self->folder_fd);
  g_clear_error (&self->sync_fs_error);
  g_hash_table_unref (self->reserved);
  g_ptr_array_unref (self->spare_buffers);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (pb_delivery_parent_class)->finalize (object);
}

static void
pb_delivery_class_init (PbDeliveryClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pb_delivery_finalize;
}

static void
pb_delivery_init (PbDelivery *self)
{
  g_mutex_init (&self->lock);
  self->folder_fd = -1;
  self->reserved = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->spare_buffers = g_ptr_array_new_with_free_func (g_free);
}

/* Sink buffers are reused rather than freed: 64 KiB blocks freed and
 * allocated between thousands of small long-lived allocations (results,
 * state records) would fragment the heap and grow the process with every
 * message. Only as many exist as messages are being written at once. */
static guint8 *
take_buffer (PbDelivery *self)
{
  guint8 *buffer = NULL;

  g_mutex_lock (&self->lock);
  if (self->spare_buffers->len > 0)
    buffer = g_ptr_array_steal_index_fast (self->spare_buffers, self->spare_buffers->len - 1);
  g_mutex_unlock (&self->lock);
  return buffer != NULL ? buffer : g_malloc (SINK_BUFFER_SIZE);
}

static void
give_buffer (PbDelivery *self,
             guint8     *buffer)
{
  if (buffer == NULL)
    return;
  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->spare_buffers, buffer);
  g_mutex_unlock (&self->lock);
}

/* The Maildir convention: '/' and ':' in the host name would break the
 * name, so they become \057 and \072. */
static char *
sanitize_host (const char *host)
{
  GString *out = g_string_new (NULL);

  for (const char *p = host; *p != '\0'; p++)
    {
      if (*p == '/')
        g_string_append (out, "\\057");
      else if (*p == ':')
        g_string_append (out, "\\072");
      else
        g_string_append_c (out, *p);
    }
  if (out->len == 0)
    g_string_append (out, "localhost");
  return g_string_free (out, FALSE);
}

PbDelivery *
pb_delivery_new (const char       *folder,
                 PbDeliveryFormat  format)
{
  PbDelivery *self;

  g_return_val_if_fail (folder != NULL && folder[0] != '\0', NULL);

  self = g_object_new (PB_TYPE_DELIVERY, NULL);
  self->folder = g_canonicalize_filename (folder, NULL);
  self->format = format;
  self->host = sanitize_host (g_get_host_name ());
  if (format == PB_DELIVERY_FORMAT_MAILDIR)
    {
      self->names_dir = g_build_filename (self->folder, "new", NULL);
      self->temp_dir = g_build_filename (self->folder, "tmp", NULL);
    }
  else
    {
      self->names_dir = g_strdup (self->folder);
      self->temp_dir = g_strdup (self->folder);
    }
  return self;
}

const char *
pb_delivery_get_folder (PbDelivery *self)
{
  g_return_val_if_fail (PB_IS_DELIVERY (self), NULL);
  return self->folder;
}

PbDeliveryFormat
pb_delivery_get_format (PbDelivery *self)
{
  g_return_val_if_fail (PB_IS_DELIVERY (self), PB_DELIVERY_FORMAT_MAILDIR);
  return self->format;
}

void
pb_delivery_set_write_hook (PbDelivery          *self,
                            PbDeliveryWriteHook  hook,
                            gpointer             user_data)
{
  g_return_if_fail (PB_IS_DELIVERY (self));
  self->hook = hook;
  self->hook_data = user_data;
}

static gboolean
fsync_directory (const char  *dir,
                 const char  *folder,
                 GError     **error)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int errsv;

  if (fd < 0)
    {
      set_disk_error (error, errno, folder);
      return FALSE;
    }
  /* Some file systems cannot fsync a directory (EINVAL); their renames are
   * as durable as they get. */
  if (fsync (fd) != 0 && errno != EINVAL)
    {
      errsv = errno;
      close (fd);
      set_disk_error (error, errsv, folder);
      return FALSE;
    }
  close (fd);
  return TRUE;
}

/* Linux 5.8 is where syncfs(2) started to return writeback errors (the
 * superblock's errseq, sampled when the fd was opened); before, it
 * reported success even when a file's data never reached the disk. */
static gboolean
kernel_reports_syncfs_errors (void)
{
  struct utsname name;
  guint64 major, minor;
  char *end;

  if (uname (&name) != 0 || !g_str_equal (name.sysname, "Linux"))
    return FALSE;
  major = g_ascii_strtoull (name.release, &end, 10);
  if (*end != '.')
    return FALSE;
  minor = g_ascii_strtoull (end + 1, NULL, 10);
  return major > 5 || (major == 5 && minor >= 8);
}

/* Whether one syncfs may replace the fsyncs of a batch. Only local file
 * systems whose sync_fs writes back every dirty file and flushes the
 * device cache (a journal commit, or an explicit flush without a journal),
 * the same as fsync does per file. Not FUSE (syncfs does not reach the
 * daemon's storage), not network file systems (their notion of stable
 * differs per server), not anything unknown: those keep an fsync per file.
 * tmpfs is on the list because nothing on it outlives a reboot anyway. */
static gboolean
decide_sync_file_system (int folder_fd)
{
  struct statfs fs;

  if (folder_fd < 0 || !kernel_reports_syncfs_errors () || fstatfs (folder_fd, &fs) != 0)
    return FALSE;
  switch ((unsigned long) fs.f_type)
    {
    case 0xEF53UL:      /* EXT2/3/4_SUPER_MAGIC */
    case 0x58465342UL:  /* XFS_SUPER_MAGIC */
    case 0x9123683EUL:  /* BTRFS_SUPER_MAGIC */
    case 0x01021994UL:  /* TMPFS_MAGIC */
      return TRUE;
    default:
      return FALSE;
    }
}

/* mkdir that treats an existing directory as success and reports whether
 * it created one. */
static gboolean
ensure_directory (const char  *dir,
                  const char  *folder,
                  gboolean    *created,
                  GError     **error)
{
  struct stat st;

  if (mkdir (dir, 0700) == 0)
    {
      *created = TRUE;
      return TRUE;
    }
  if (errno != EEXIST)
    {
      set_disk_error (error, errno, folder);
      return FALSE;
    }
  if (stat (dir, &st) != 0)
    {
      set_disk_error (error, errno, folder);
      return FALSE;
    }
  if (!S_ISDIR (st.st_mode))
    {
      set_disk_error (error, ENOTDIR, folder);
      return FALSE;
    }
  return TRUE;
}

static gboolean
process_is_alive (pid_t pid)
{
  if (pid <= 0)
    return FALSE;
  return kill (pid, 0) == 0 || errno == EPERM;
}

/* The writer of a temporary file of ours, from its name; 0 if the name is
 * not one of ours (or was written on another host). */
static pid_t
temp_name_writer (PbDelivery *self,
                  const char *name)
{
  unsigned long pid = 0;
  const char *p;
  char *end;

  if (self->format == PB_DELIVERY_FORMAT_EML)
    {
      if (!g_str_has_prefix (name, EML_TEMP_PREFIX))
        return 0;
      pid = strtoul (name + strlen (EML_TEMP_PREFIX), &end, 10);
      return *end == '-' ? (pid_t) pid : 0;
    }

  /* <time>.M<usec>P<pid>Q<n>.<host> */
  p = strchr (name, '.');
  if (p == NULL || p[1] != 'M')
    return 0;
  p = strchr (p, 'P');
  if (p == NULL)
    return 0;
  pid = strtoul (p + 1, &end, 10);
  if (*end != 'Q')
    return 0;
  p = strchr (end, '.');
  if (p == NULL || !g_str_equal (p + 1, self->host))
    return 0;
  return (pid_t) pid;
}

/* Removes what earlier runs left in the temporary place. A file still being
 * written (by a live process, or by us) is left alone; so is anything
 * modified since this run started. */
static void
clean_leftovers (PbDelivery *self,
                 gint64      run_start)
{
  g_autoptr(GDir) dir = g_dir_open (self->temp_dir, 0, NULL);
  gint64 now = run_start / G_USEC_PER_SEC;
  const char *name;

  if (dir == NULL)
    return;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = NULL;
      struct stat st;
      pid_t writer;
      gboolean stale;

      if (self->format == PB_DELIVERY_FORMAT_EML && !g_str_has_prefix (name, EML_TEMP_PREFIX))
        continue;

      path = g_build_filename (self->temp_dir, name, NULL);
      if (lstat (path, &st) != 0 || !S_ISREG (st.st_mode))
        continue;
      /* Microseconds: a run killed a moment ago left files from this very
       * second. */
      if ((gint64) st.st_mtim.tv_sec * G_USEC_PER_SEC + st.st_mtim.tv_nsec / 1000 >= run_start ||
          live_temp_contains (path))
        continue;

      writer = temp_name_writer (self, name);
      stale = now - st.st_mtime > STALE_TEMP_SECONDS;
      if (writer != 0 && (writer == getpid () || !process_is_alive (writer)))
        stale = TRUE;

      if (stale && g_unlink (path) == 0)
        g_debug ("Removed the leftover %s of an earlier run", path);
    }
}

gboolean
pb_delivery_open (PbDelivery  *self,
                  GError     **error)
{
  gint64 run_start = g_get_real_time ();
  gboolean created = FALSE;
  g_autofree char *parent = NULL;

  g_return_val_if_fail (PB_IS_DELIVERY (self), FALSE);

  if (g_mkdir_with_parents (self->folder, 0700) != 0)
    {
      set_disk_error (error, errno, self->folder);
      return FALSE;
    }
  if (!ensure_directory (self->folder, self->folder, &created, error))
    return FALSE;

  if (self->format == PB_DELIVERY_FORMAT_MAILDIR)
    {
      static const char * const subdirs[] = { "tmp", "new", "cur" };

      for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
        {
          g_autofree char *sub = g_build_filename (self->folder, subdirs[i], NULL);

          if (!ensure_directory (sub, self->folder, &created, error))
            return FALSE;
        }
    }

  /* A new folder must itself survive a power cut before anything in it is
   * called durable. */
  if (created)
    {
      parent = g_path_get_dirname (self->folder);
      if (!fsync_directory (self->folder, self->folder, error))
        return FALSE;
      if (!fsync_directory (parent, self->folder, error))
        return FALSE;
    }

  /* Fail early, before anything is fetched, on a folder we cannot write
   * (read-only mount; permissions, which root bypasses). */
  if (access (self->temp_dir, W_OK | X_OK) != 0 || access (self->names_dir, W_OK | X_OK) != 0)
    {
      set_disk_error (error, errno, self->folder);
      return FALSE;
    }

  /* Opened before the first message is created: syncfs reports the
   * writeback errors that happened since this open, so none of ours can
   * be missed. */
  if (self->folder_fd < 0)
    self->folder_fd = open (self->folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  self->can_sync_fs = decide_sync_file_system (self->folder_fd);

  clean_leftovers (self, run_start);
  return TRUE;
}

gboolean
pb_delivery_can_sync_file_system (PbDelivery *self)
{
  g_return_val_if_fail (PB_IS_DELIVERY (self), FALSE);
  return self->can_sync_fs;
}

gboolean
pb_delivery_sync_file_system (PbDelivery  *self,
                              GError     **error)
{
  gboolean ok;

  g_return_val_if_fail (PB_IS_DELIVERY (self), FALSE);
  g_return_val_if_fail (self->can_sync_fs, FALSE);

  g_mutex_lock (&self->lock);
  if (self->sync_fs_error == NULL && syncfs (self->folder_fd) != 0)
    set_disk_error (&self->sync_fs_error, errno, self->folder);
  /* The file system reports a writeback error once per open file: after
   * that a syncfs may succeed although a file of ours was never written.
   * So one failure fails every later sync of this delivery. */
  ok = self->sync_fs_error == NULL;
  if (!ok)
    g_propagate_error (error, g_error_copy (self->sync_fs_error));
  g_mutex_unlock (&self->lock);
  return ok;
}

gboolean
pb_delivery_sync (PbDelivery  *self,
                  GError     **error)
{
  g_return_val_if_fail (PB_IS_DELIVERY (self), FALSE);
  return fsync_directory (self->names_dir, self->folder, error);
}

/* ------------------------------------------------------------------ */
/* PbDeliverySink: the stream a message is written into.              */

#define PB_TYPE_DELIVERY_SINK (pb_delivery_sink_get_type ())
G_DECLARE_FINAL_TYPE (PbDeliverySink, pb_delivery_sink, PB, DELIVERY_SINK, GOutputStream)

struct _PbDeliverySink
{
  GOutputStream  parent_instance;

  PbDelivery    *delivery;      /* owned by the message */
  int            fd;            /* owned by the message */
  guint8        *buffer;
  gsize          buffered;
  guint64        size;          /* octets accepted */
  GError        *failure;       /* the first write error, repeated after */

  GChecksum     *sha256;        /* eml: the name's hash */
  GByteArray    *headers;       /* eml: the header block, for Date: */
  gboolean       headers_done;
};

static void pb_delivery_sink_pollable_init (GPollableOutputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (PbDeliverySink, pb_delivery_sink, G_TYPE_OUTPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                      pb_delivery_sink_pollable_init))

static gboolean
sink_write_fd (PbDeliverySink  *self,
               const guint8    *data,
               gsize            len,
               GError         **error)
{
  while (len > 0)
    {
      gssize n = write (self->fd, data, len);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          set_disk_error (error, errno, self->delivery->folder);
          return FALSE;
        }
      data += n;
      len -= (gsize) n;
    }
  return TRUE;
}

static gboolean
sink_flush_buffer (PbDeliverySink  *self,
                   GError         **error)
{
  if (self->failure != NULL)
    {
      g_propagate_error (error, g_error_copy (self->failure));
      return FALSE;
    }
  if (self->buffered == 0)
    return TRUE;
  if (!sink_write_fd (self, self->buffer, self->buffered, &self->failure))
    {
      g_propagate_error (error, g_error_copy (self->failure));
      return FALSE;
    }
  self->buffered = 0;
  return TRUE;
}

/* Keeps the header block (up to the first empty line) for the eml name. */
static void
sink_capture_headers (PbDeliverySink *self,
                      const guint8   *data,
                      gsize           len)
{
  for (gsize i = 0; i < len && !self->headers_done; i++)
    {
      guint n = self->headers->len;

      /* An empty line ends the headers; so does an empty first line. */
      if (data[i] == '\n' && (n == 0 || self->headers->data[n - 1] == '\n'))
        self->headers_done = TRUE;
      else if (n >= HEADER_CAPTURE_MAX)
        self->headers_done = TRUE;
      else
        g_byte_array_append (self->headers, &data[i], 1);
    }
}

static gssize
pb_delivery_sink_write (GOutputStream  *stream,
                        const void     *data,
                        gsize           count,
                        GCancellable   *cancellable,
                        GError        **error)
{
  PbDeliverySink *self = PB_DELIVERY_SINK (stream);
  PbDelivery *delivery = self->delivery;

  if (self->failure != NULL)
    {
      g_propagate_error (error, g_error_copy (self->failure));
      return -1;
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return -1;
  if (count == 0)
    return 0;

  if (delivery->hook != NULL)
    {
      guint64 total = delivery->total_bytes + count;
      int errsv = delivery->hook (total, delivery->hook_data);

      if (errsv != 0)
        {
          set_disk_error (&self->failure, errsv, delivery->folder);
          g_propagate_error (error, g_error_copy (self->failure));
          return -1;
        }
    }

  if (self->sha256 != NULL)
    g_checksum_update (self->sha256, data, (gssize) count);
  if (self->headers != NULL && !self->headers_done)
    sink_capture_headers (self, data, count);

  if (self->buffered + count > SINK_BUFFER_SIZE)
    {
      if (!sink_flush_buffer (self, error))
        return -1;
    }
  if (count >= SINK_BUFFER_SIZE)
    {
      if (!sink_write_fd (self, data, count, &self->failure))
        {
          g_propagate_error (error, g_error_copy (self->failure));
          return -1;
        }
    }
  else
    {
      if (self->buffer == NULL)
        self->buffer = take_buffer (delivery);
      memcpy (self->buffer + self->buffered, data, count);
      self->buffered += count;
    }

  /* Read from other threads for progress only: a torn read on a 32-bit
   * machine would show a wrong number for a moment, nothing worse. */
  self->size += count;
  delivery->total_bytes += count;
  return (gssize) count;
}

/* An explicit flush comes at the end of a message: the buffer goes too,
 * so a message waiting for its batch to commit holds no memory. */
static gboolean
pb_delivery_sink_flush (GOutputStream  *stream,
                        GCancellable   *cancellable,
                        GError        **error)
{
  PbDeliverySink *self = PB_DELIVERY_SINK (stream);

  if (!sink_flush_buffer (self, error))
    return FALSE;
  give_buffer (self->delivery, g_steal_pointer (&self->buffer));
  return TRUE;
}

static gboolean
pb_delivery_sink_close (GOutputStream  *stream,
                        GCancellable   *cancellable,
                        GError        **error)
{
  /* The fd belongs to the message, which fsyncs and closes it in finish. */
  return pb_delivery_sink_flush (stream, cancellable, error);
}

static gboolean
pb_delivery_sink_can_poll (GPollableOutputStream *stream)
{
  return TRUE;
}

/* A local file is always writable; write(2) on it does not return EAGAIN. */
static gboolean
pb_delivery_sink_is_writable (GPollableOutputStream *stream)
{
  return TRUE;
}

static GSource *
pb_delivery_sink_create_source (GPollableOutputStream *stream,
                                GCancellable          *cancellable)
{
  g_autoptr(GSource) ready = g_idle_source_new ();

  return g_pollable_source_new_full (stream, ready, cancellable);
}

static gssize
pb_delivery_sink_write_nonblocking (GPollableOutputStream  *stream,
                                    const void             *buffer,
                                    gsize                   count,
                                    GError                **error)
{
  return pb_delivery_sink_write (G_OUTPUT_STREAM (stream), buffer, count, NULL, error);
}

static void
pb_delivery_sink_pollable_init (GPollableOutputStreamInterface *iface)
{
  iface->can_poll = pb_delivery_sink_can_poll;
  iface->is_writable = pb_delivery_sink_is_writable;
  iface->create_source = pb_delivery_sink_create_source;
  iface->write_nonblocking = pb_delivery_sink_write_nonblocking;
}

static void
pb_delivery_sink_finalize (GObject *object)
{
  PbDeliverySink *self = PB_DELIVERY_SINK (object);

  g_free (self->buffer);
  g_clear_error (&self->failure);
  g_clear_pointer (&self->sha256, g_checksum_free);
  g_clear_pointer (&self->headers, g_byte_array_unref);

  G_OBJECT_CLASS (pb_delivery_sink_parent_class)->finalize (object);
}

static void
pb_delivery_sink_class_init (PbDeliverySinkClass *klass)
{
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = pb_delivery_sink_finalize;
  stream_class->write_fn = pb_delivery_sink_write;
  stream_class->flush = pb_delivery_sink_flush;
  stream_class->close_fn = pb_delivery_sink_close;
}

static void
pb_delivery_sink_init (PbDeliverySink *self)
{
  self->fd = -1;
}

/* ------------------------------------------------------------------ */
/* PbDeliveryMessage                                                   */

struct _PbDeliveryMessage
{
  PbDelivery     *delivery;
  PbDeliverySink *sink;
  char           *temp_path;
  char           *unique;       /* Maildir: the name without ",S=" */
  char           *final_path;   /* chosen by finish; reserved until commit */
  guint           suffix;       /* eml: 1 for no suffix, then 2, 3, … */
  char           *eml_stem;     /* eml: "<date>-<hash>" */
  guint64         size;
  gboolean        finished;
  gboolean        committed;
};

static char *
maildir_unique (PbDelivery *self)
{
  gint64 now = g_get_real_time ();
  guint q;

  g_mutex_lock (&self->lock);
  q = self->sequence++;
  g_mutex_unlock (&self->lock);

  return g_strdup_printf ("%" G_GINT64_FORMAT ".M%06" G_GINT64_FORMAT "P%dQ%u.%s",
                          now / G_USEC_PER_SEC, now % G_USEC_PER_SEC,
                          (int) getpid (), q, self->host);
}

PbDeliveryMessage *
pb_delivery_begin (PbDelivery  *self,
                   GError     **error)
{
  g_autoptr(PbDeliveryMessage) message = NULL;
  int fd = -1;

  g_return_val_if_fail (PB_IS_DELIVERY (self), NULL);

  message = g_new0 (PbDeliveryMessage, 1);
  message->delivery = g_object_ref (self);

  if (self->format == PB_DELIVERY_FORMAT_MAILDIR)
    {
      /* Unique by construction; O_EXCL guards against a clock step back. */
      for (guint attempt = 0; fd < 0; attempt++)
        {
          g_clear_pointer (&message->unique, g_free);
          g_clear_pointer (&message->temp_path, g_free);
          message->unique = maildir_unique (self);
          message->temp_path = g_build_filename (self->temp_dir, message->unique, NULL);
          fd = open (message->temp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
          if (fd < 0 && (errno != EEXIST || attempt > 100))
            {
              set_disk_error (error, errno, self->folder);
              g_clear_pointer (&message->temp_path, g_free);
              return NULL;
            }
        }
    }
  else
    {
      g_autofree char *name = g_strdup_printf (EML_TEMP_PREFIX "%d-XXXXXX", (int) getpid ());

      message->temp_path = g_build_filename (self->temp_dir, name, NULL);
      fd = g_mkstemp_full (message->temp_path, O_WRONLY | O_CLOEXEC, 0600);
      if (fd < 0)
        {
          set_disk_error (error, errno, self->folder);
          g_clear_pointer (&message->temp_path, g_free);
          return NULL;
        }
    }
  live_temp_add (message->temp_path);

  message->sink = g_object_new (PB_TYPE_DELIVERY_SINK, NULL);
  message->sink->delivery = self;
  message->sink->fd = fd;
  if (self->format == PB_DELIVERY_FORMAT_EML)
    {
      message->sink->sha256 = g_checksum_new (G_CHECKSUM_SHA256);
      message->sink->headers = g_byte_array_new ();
    }
  return g_steal_pointer (&message);
}

GOutputStream *
pb_delivery_message_get_stream (PbDeliveryMessage *message)
{
  g_return_val_if_fail (message != NULL, NULL);
  return G_OUTPUT_STREAM (message->sink);
}

guint64
pb_delivery_message_get_size (PbDeliveryMessage *message)
{
  g_return_val_if_fail (message != NULL, 0);
  return message->sink != NULL ? message->sink->size : message->size;
}

const char *
pb_delivery_message_get_path (PbDeliveryMessage *message)
{
  g_return_val_if_fail (message != NULL, NULL);
  return message->final_path;
}

gboolean
pb_delivery_message_is_committed (PbDeliveryMessage *message)
{
  g_return_val_if_fail (message != NULL, FALSE);
  return message->committed;
}

static void
close_fd (PbDeliveryMessage *message)
{
  if (message->sink != NULL && message->sink->fd >= 0)
    {
      close (message->sink->fd);
      message->sink->fd = -1;
    }
}

static void
unreserve (PbDeliveryMessage *message)
{
  PbDelivery *self = message->delivery;

  if (message->final_path == NULL)
    return;
  g_mutex_lock (&self->lock);
  g_hash_table_remove (self->reserved, message->final_path);
  g_mutex_unlock (&self->lock);
}

void
pb_delivery_message_abort (PbDeliveryMessage *message)
{
  g_return_if_fail (message != NULL);

  if (message->committed)
    return;
  close_fd (message);
  if (message->temp_path != NULL)
    {
      if (g_unlink (message->temp_path) != 0 && errno != ENOENT)
        g_warning ("Could not remove the temporary file %s: %s",
                   message->temp_path, g_strerror (errno));
      live_temp_remove (message->temp_path);
      g_clear_pointer (&message->temp_path, g_free);
    }
  unreserve (message);
  g_clear_pointer (&message->final_path, g_free);
}

void
pb_delivery_message_free (PbDeliveryMessage *message)
{
  if (message == NULL)
    return;
  pb_delivery_message_abort (message);
  close_fd (message);
  g_clear_object (&message->sink);
  g_free (message->temp_path);
  g_free (message->unique);
  g_free (message->final_path);
  g_free (message->eml_stem);
  g_object_unref (message->delivery);
  g_free (message);
}

/* The Date: header's value, unfolded, from a captured header block. */
static char *
find_date_header (const char *headers,
                  gsize       len)
{
  g_autoptr(GString) value = NULL;
  const char *p = headers;
  const char *end = headers + len;

  while (p < end)
    {
      const char *eol = memchr (p, '\n', (gsize) (end - p));
      const char *line_end = eol != NULL ? eol : end;

      if (value != NULL)
        {
          if (p < line_end && (*p == ' ' || *p == '\t'))
            g_string_append_len (value, p, line_end - p);
          else
            break;
        }
      else if (line_end - p >= 5 && g_ascii_strncasecmp (p, "Date:", 5) == 0)
        value = g_string_new_len (p + 5, line_end - p - 5);

      p = line_end + 1;
    }
  return value != NULL ? g_strstrip (g_string_free (g_steal_pointer (&value), FALSE)) : NULL;
}

static char *
eml_date_stamp (const GByteArray *headers)
{
  static gsize gmime_ready = 0;
  g_autofree char *value = NULL;
  g_autoptr(GDateTime) when = NULL;
  g_autoptr(GDateTime) local = NULL;

  if (g_once_init_enter (&gmime_ready))
    {
      g_mime_init ();
      g_once_init_leave (&gmime_ready, 1);
    }

  if (headers != NULL)
    value = find_date_header ((const char *) headers->data, headers->len);
  if (value != NULL && value[0] != '\0')
    {
      /* Header bytes may be anything; GMime wants a C string. */
      g_autofree char *valid = g_utf8_make_valid (value, -1);

      when = g_mime_utils_header_decode_date (valid);
    }
  if (when == NULL)
    when = g_date_time_new_now_local ();
  local = g_date_time_to_local (when);
  if (local == NULL)
    local = g_date_time_new_now_local ();
  return g_date_time_format (local, "%Y-%m-%d_%H%M%S");
}

static char *
eml_path (PbDeliveryMessage *message)
{
  g_autofree char *name = NULL;

  if (message->suffix <= 1)
    name = g_strdup_printf ("%s.eml", message->eml_stem);
  else
    name = g_strdup_printf ("%s-%u.eml", message->eml_stem, message->suffix);
  return g_build_filename (message->delivery->folder, name, NULL);
}

/* Picks the first eml name that is neither on disk nor chosen by another
 * message waiting to be committed, and reserves it. */
static void
choose_eml_path (PbDeliveryMessage *message)
{
  PbDelivery *self = message->delivery;

  g_mutex_lock (&self->lock);
  for (;;)
    {
      g_autofree char *path = eml_path (message);
      struct stat st;

      if (!g_hash_table_contains (self->reserved, path) && lstat (path, &st) != 0 && errno == ENOENT)
        {
          g_hash_table_add (self->reserved, g_strdup (path));
          message->final_path = g_steal_pointer (&path);
          break;
        }
      message->suffix++;
    }
  g_mutex_unlock (&self->lock);
}

static gboolean
finish_message (PbDeliveryMessage  *message,
                gboolean            fsync_now,
                GError            **error)
{
  PbDelivery *self;
  PbDeliverySink *sink;
  int errsv;

  g_return_val_if_fail (message != NULL, FALSE);
  g_return_val_if_fail (!message->finished, FALSE);

  self = message->delivery;
  sink = message->sink;

  if (!pb_delivery_sink_flush (G_OUTPUT_STREAM (sink), NULL, error))
    goto fail;
  if (fsync_now && fsync (sink->fd) != 0)
    {
      set_disk_error (error, errno, self->folder);
      goto fail;
    }
  errsv = close (sink->fd) == 0 ? 0 : errno;
  sink->fd = -1;
  if (errsv != 0 && errsv != EINTR)
    {
      set_disk_error (error, errsv, self->folder);
      goto fail;
    }

  message->size = sink->size;
  message->finished = TRUE;

  if (self->format == PB_DELIVERY_FORMAT_MAILDIR)
    {
      g_autofree char *name = g_strdup_printf ("%s,S=%" G_GUINT64_FORMAT,
                                               message->unique, message->size);

      message->final_path = g_build_filename (self->names_dir, name, NULL);
    }
  else
    {
      g_autofree char *stamp = eml_date_stamp (sink->headers);
      g_autofree char *hash = g_strndup (g_checksum_get_string (sink->sha256), 12);

      message->eml_stem = g_strdup_printf ("%s-%s", stamp, hash);
      message->suffix = 1;
      choose_eml_path (message);
    }
  return TRUE;

fail:
  pb_delivery_message_abort (message);
  return FALSE;
}

gboolean
pb_delivery_message_finish (PbDeliveryMessage  *message,
                            GError            **error)
{
  return finish_message (message, TRUE, error);
}

gboolean
pb_delivery_message_close (PbDeliveryMessage  *message,
                           GError            **error)
{
  return finish_message (message, FALSE, error);
}

/* rename(2) that never replaces @to: renameat2 where the file system has
 * it, link+unlink where it has hard links, and a check-then-rename as the
 * last resort (FAT and some FUSE file systems). Returns 0 or an errno. */
static int
rename_no_replace (const char *from,
                   const char *to)
{
#ifdef RENAME_NOREPLACE
  if (renameat2 (AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
    return 0;
  if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
    return errno;
#endif
  if (link (from, to) == 0)
    {
      g_unlink (from);
      return 0;
    }
  if (errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP && errno != EMLINK)
    return errno;
  if (g_file_test (to, G_FILE_TEST_EXISTS))
    return EEXIST;
  return rename (from, to) == 0 ? 0 : errno;
}

gboolean
pb_delivery_message_commit (PbDeliveryMessage  *message,
                            GError            **error)
{
  PbDelivery *self;
  int errsv;

  g_return_val_if_fail (message != NULL, FALSE);
  g_return_val_if_fail (message->finished && !message->committed, FALSE);
  g_return_val_if_fail (message->final_path != NULL, FALSE);

  self = message->delivery;
  for (;;)
    {
      errsv = rename_no_replace (message->temp_path, message->final_path);
      if (errsv != EEXIST || self->format != PB_DELIVERY_FORMAT_EML)
        break;
      /* Someone else took the name since finish chose it: the next one. */
      unreserve (message);
      g_clear_pointer (&message->final_path, g_free);
      message->suffix++;
      choose_eml_path (message);
    }

  if (errsv != 0)
    {
      set_disk_error (error, errsv, self->folder);
      pb_delivery_message_abort (message);
      return FALSE;
    }

  unreserve (message);
  live_temp_remove (message->temp_path);
  g_clear_pointer (&message->temp_path, g_free);
  message->committed = TRUE;
  return TRUE;
}

/* ------------------------------------------------------------------ */

static gboolean
is_file_of_size (const char *path,
                 guint64     size)
{
  struct stat st;

  return lstat (path, &st) == 0 && S_ISREG (st.st_mode) && (guint64) st.st_size == size;
}

char *
pb_delivery_locate (const char *path,
                    guint64     size)
{
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;
  g_autofree char *maildir = NULL;
  g_autofree char *cur = NULL;
  g_autoptr(GDir) listing = NULL;
  const char *name;
  gsize base_len;

  g_return_val_if_fail (path != NULL, NULL);

  if (is_file_of_size (path, size))
    return g_strdup (path);

  /* A Maildir reader moves new/<name> to cur/<name>:2,<flags>. */
  dir = g_path_get_dirname (path);
  base = g_path_get_basename (path);
  if (!g_str_equal (strrchr (dir, G_DIR_SEPARATOR) != NULL ? strrchr (dir, G_DIR_SEPARATOR) + 1 : dir, "new"))
    return NULL;
  maildir = g_path_get_dirname (dir);
  cur = g_build_filename (maildir, "cur", NULL);
  listing = g_dir_open (cur, 0, NULL);
  if (listing == NULL)
    return NULL;

  base_len = strlen (base);
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      if (strncmp (name, base, base_len) == 0 && (name[base_len] == ':' || name[base_len] == '\0'))
        {
          g_autofree char *moved = g_build_filename (cur, name, NULL);

          if (is_file_of_size (moved, size))
            return g_steal_pointer (&moved);
        }
    }
  return NULL;
}

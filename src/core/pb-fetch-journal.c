/* pb-fetch-journal.c: see pb-fetch-journal.h and the protocol at the top of
 * pb-fetch.c. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "pb-core-error.h"
#include "pb-delivery.h"
#include "pb-fetch-journal.h"

struct _PbFetchJournal
{
  char    *path;
  int      fd;
  GString *queued;
};

static char *
journal_path_for (PbState *state)
{
  return g_strconcat (pb_state_get_path (state), ".journal", NULL);
}

static void
set_journal_error (GError     **error,
                   int          errsv,
                   const char  *path)
{
  g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK,
               _("Could not record downloads in “%s”: %s."), path, g_strerror (errsv));
}

PbFetchJournal *
pb_fetch_journal_open (PbState  *state,
                       GError  **error)
{
  g_autoptr(PbFetchJournal) self = g_new0 (PbFetchJournal, 1);
  g_autofree char *dir = NULL;

  g_return_val_if_fail (PB_IS_STATE (state), NULL);

  self->path = journal_path_for (state);
  self->queued = g_string_new (NULL);
  dir = g_path_get_dirname (self->path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      set_journal_error (error, errno, self->path);
      self->fd = -1;
      return NULL;
    }
  self->fd = open (self->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (self->fd < 0)
    {
      set_journal_error (error, errno, self->path);
      return NULL;
    }
  return g_steal_pointer (&self);
}

const char *
pb_fetch_journal_get_path (PbFetchJournal *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->path;
}

void
pb_fetch_journal_add (PbFetchJournal *self,
                      const char     *uidl,
                      const char     *path,
                      guint64         size)
{
  g_autofree char *escaped = NULL;

  g_return_if_fail (self != NULL);
  /* UIDLs are 0x21-0x7E (RFC 1939 section 7): no tab, no newline. */
  g_return_if_fail (uidl != NULL && strpbrk (uidl, "\t\n") == NULL);

  escaped = g_strescape (path, NULL);
  g_string_append_printf (self->queued, "%s\t%" G_GUINT64_FORMAT "\t%s\n", uidl, size, escaped);
}

gboolean
pb_fetch_journal_write (PbFetchJournal  *self,
                        GError         **error)
{
  const char *p;
  gsize left;

  g_return_val_if_fail (self != NULL, FALSE);

  p = self->queued->str;
  left = self->queued->len;
  while (left > 0)
    {
      gssize n = write (self->fd, p, left);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_journal_error (error, errno, self->path);
          g_string_truncate (self->queued, 0);
          return FALSE;
        }
      p += n;
      left -= (gsize) n;
    }
  g_string_truncate (self->queued, 0);
  return TRUE;
}

gboolean
pb_fetch_journal_sync (PbFetchJournal  *self,
                       GError         **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (!pb_fetch_journal_write (self, error))
    return FALSE;
  if (fdatasync (self->fd) != 0)
    {
      set_journal_error (error, errno, self->path);
      return FALSE;
    }
  return TRUE;
}

gboolean
pb_fetch_journal_is_on_device (PbFetchJournal *self,
                               dev_t           device)
{
  struct stat st;

  g_return_val_if_fail (self != NULL, FALSE);
  return fstat (self->fd, &st) == 0 && st.st_dev == device;
}

void
pb_fetch_journal_clear (PbFetchJournal *self)
{
  g_return_if_fail (self != NULL);

  /* Not synced: if the truncation is lost, recovery replays lines that are
   * already recorded, which changes nothing. */
  if (ftruncate (self->fd, 0) != 0)
    g_debug ("Could not empty %s: %s", self->path, g_strerror (errno));
}

void
pb_fetch_journal_free (PbFetchJournal *self)
{
  if (self == NULL)
    return;
  if (self->fd >= 0)
    close (self->fd);
  g_string_free (self->queued, TRUE);
  g_free (self->path);
  g_free (self);
}

gboolean
pb_fetch_journal_recover (PbState  *state,
                          GError  **error)
{
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) local_error = NULL;
  gsize length = 0;
  guint recovered = 0;

  g_return_val_if_fail (PB_IS_STATE (state), FALSE);

  path = journal_path_for (state);
  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        return TRUE;
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                  _("Could not read the download journal: "));
      return FALSE;
    }
  if (length == 0)
    return TRUE;

  lines = g_strsplit (contents, "\n", -1);
  /* The last piece has no newline: empty, or a line cut short by a kill
   * before its fdatasync (so no rename followed it). Skip it. */
  for (guint i = 0; lines[i] != NULL && lines[i + 1] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], "\t", 3);
      g_autofree char *file = NULL;
      g_autofree char *found = NULL;
      PbMessageRecord *record;
      guint64 size;

      if (g_strv_length (fields) != 3 || fields[0][0] == '\0')
        continue;
      size = g_ascii_strtoull (fields[1], NULL, 10);
      file = g_strcompress (fields[2]);
      found = pb_delivery_locate (file, size);
      if (found == NULL)
        continue;

      record = pb_state_ensure (state, fields[0]);
      if ((record->flags & PB_MESSAGE_DOWNLOADED) == 0 || g_strcmp0 (record->path, found) != 0)
        {
          record->flags |= PB_MESSAGE_DOWNLOADED;
          pb_state_set_path (state, record, found);
          recovered++;
        }
    }

  if (recovered > 0)
    {
      g_debug ("Recovered %u downloads from %s", recovered, path);
      if (!pb_state_save (state, error))
        return FALSE;
    }
  if (g_unlink (path) != 0 && errno != ENOENT)
    {
      int errsv = errno;

      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK,
                   _("Could not empty the download journal “%s”: %s."),
                   path, g_strerror (errsv));
      return FALSE;
    }
  return TRUE;
}

gboolean
pb_fetch_journal_recover_if_idle (PbState  *state,
                                  GError  **error)
{
  g_autofree char *journal = NULL;
  g_autofree char *lock_path = NULL;
  gboolean ok;
  int fd;

  g_return_val_if_fail (PB_IS_STATE (state), FALSE);

  journal = journal_path_for (state);
  if (!g_file_test (journal, G_FILE_TEST_EXISTS))
    return TRUE;

  /* The same lock a fetch holds for its whole run (pb-fetch.c). */
  lock_path = g_strconcat (pb_state_get_path (state), ".lock", NULL);
  fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      set_journal_error (error, errno, lock_path);
      return FALSE;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      close (fd);
      return TRUE;  /* a fetch is running: it records its own */
    }
  ok = pb_fetch_journal_recover (state, error);
  close (fd);  /* releases the lock */
  return ok;
}

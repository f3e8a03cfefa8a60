/* The destination writer: Maildir and eml names, never overwriting, never
 * leaving a partial file, cleaning what a killed run left, and errors that
 * name the folder. */
#include <errno.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utime.h>

#include <glib/gstdio.h>

#include "core/pb-core-error.h"
#include "core/pb-delivery.h"
#include "pb-test-util.h"

static char *
test_folder (const char *name)
{
  return g_build_filename (g_get_home_dir (), name, NULL);
}

/* Writes @content as one message and commits it; returns the path. */
static char *
deliver (PbDelivery *delivery,
         const char *content)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PbDeliveryMessage) message = NULL;
  gsize written = 0;

  message = pb_delivery_begin (delivery, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (pb_delivery_message_get_stream (message),
                             content, strlen (content), &written, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (written, ==, strlen (content));
  g_assert_true (pb_delivery_message_finish (message, &error));
  g_assert_no_error (error);
  g_assert_true (pb_delivery_message_commit (message, &error));
  g_assert_no_error (error);
  g_assert_true (pb_delivery_sync (delivery, &error));
  g_assert_no_error (error);
  return g_strdup (pb_delivery_message_get_path (message));
}

static guint
count_entries (const char *dir)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  guint n = 0;

  g_assert_nonnull (listing);
  while (g_dir_read_name (listing) != NULL)
    n++;
  return n;
}

static void
assert_file_content (const char *path,
                     const char *expected)
{
  g_autofree char *content = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &content, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (content, ==, expected);
}

static PbDelivery *
open_delivery (const char       *folder,
               PbDeliveryFormat  format)
{
  g_autoptr(GError) error = NULL;
  PbDelivery *delivery = pb_delivery_new (folder, format);

  g_assert_true (pb_delivery_open (delivery, &error));
  g_assert_no_error (error);
  return delivery;
}

static void
test_maildir_layout (void)
{
  g_autofree char *folder = test_folder ("Mail/work");
  g_autoptr(PbDelivery) delivery = open_delivery (folder, PB_DELIVERY_FORMAT_MAILDIR);
  static const char * const subdirs[] = { "tmp", "new", "cur" };

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *sub = g_build_filename (folder, subdirs[i], NULL);
      struct stat st;

      g_assert_cmpint (stat (sub, &st), ==, 0);
      g_assert_true (S_ISDIR (st.st_mode));
      g_assert_cmpint (st.st_mode & 0777, ==, 0700);
    }
}

static void
test_maildir_name (void)
{
  const char *content = "Subject: hi\n\nbody\n";
  g_autofree char *folder = test_folder ("Mail/work");
  g_autoptr(PbDelivery) delivery = open_delivery (folder, PB_DELIVERY_FORMAT_MAILDIR);
  g_autofree char *path = deliver (delivery, content);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *new_dir = g_build_filename (folder, "new", NULL);
  g_autofree char *tmp_dir = g_build_filename (folder, "tmp", NULL);
  g_autofree char *pattern = g_strdup_printf ("^[0-9]+\\.M[0-9]{6}P%dQ[0-9]+\\.[^/:]+,S=%zu$",
                                              (int) getpid (), strlen (content));
  struct stat st;

  g_assert_cmpstr (dir, ==, new_dir);
  g_assert_true (g_regex_match_simple (pattern, name, 0, 0));
  assert_file_content (path, content);
  g_assert_cmpint (stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpuint (count_entries (tmp_dir), ==, 0);
}

static void
test_maildir_unique (void)
{
  g_autofree char *folder = test_folder ("Mail/work");
  g_autoptr(PbDelivery) delivery = open_delivery (folder, PB_DELIVERY_FORMAT_MAILDIR);
  g_autofree char *new_dir = g_build_filename (folder, "new", NULL);
  g_autoptr(GHashTable) paths = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (guint i = 0; i < 200; i++)
    g_hash_table_add (paths, deliver (delivery, "same\n"));

  g_assert_cmpuint (g_hash_table_size (paths), ==, 200);
  g_assert_cmpuint (count_entries (new_dir), ==, 200);
}

static char *
sha256_prefix (const char *content)
{
  g_autofree char *hex = g_compute_checksum_for_string (G_CHECKSUM_SHA256, content, -1);

  return g_strndup (hex, 12);
}

static void
test_eml_name_from_date (void)
{
  /* Folded, with a comment: the parser must unfold it. TZ is UTC (main). */
  const char *content = "From: a@example.org\n"
                        "Date: Tue, 1 Jul 2025\n 10:11:12 +0200 (CEST)\n"
                        "Subject: x\n\nDate: Wed, 2 Jul 2025 00:00:00 +0000\n";
  g_autofree char *folder = test_folder ("eml");
  g_autoptr(PbDelivery) delivery = open_delivery (folder, PB_DELIVERY_FORMAT_EML);
  g_autofree char *path = deliver (delivery, content);
  g_autofree char *hash = sha256_prefix (content);
  g_autofree char *expected = g_strdup_printf ("%s/2025-07-01_081112-%s.eml", folder, hash);

  g_assert_cmpstr (path, ==, expected);
  assert_file_content (path, content);
  /* The temporary file is gone. */
  g_assert_cmpuint (count_entries (folder), ==, 1);
}

static void
test_eml_name_without_date (void)
{
  const char *content = "Subject: no date\n\nbody\n";
  g_autofree char *folder = test_folder ("eml");
  g_autoptr(PbDelivery) delivery = open_delivery (folder, PB_DELIVERY_FORMAT_EML);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *today = g_date_time_format (now, "%Y-%m-%d_");
  g_autofree char *path = deliver (delivery, content);
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *hash = sha256_prefix (content);
  g_autofree char *suffix = g_strdup_printf ("-%s.eml", hash);

  g_assert_true (g_str_has_prefix (name, today));
  g_assert_true (g_str_has_suffix (name, suffix));
}

static void
test_eml_never_overwrites (void)
{
  const char *content = "Date: Tue, 1 Jul 2025 10:11:12 +0000\n\nsame\n";
  g_autofree char *folder = test_folder ("eml");
  g_autoptr(PbDelivery) delivery = open_delivery (folder, PB_DELIVERY_FORMAT_EML);
  g_autofree char *hash = sha256_prefix (content);
  g_autofree char *taken = g_strdup_printf ("%s/2025-07-01_101112-%s.eml", folder, hash);
  g_autofree char *second = g_strdup_printf ("%s/2025-07-01_101112-%s-2.eml", folder, hash);
  g_autofree char *third = g_strdup_printf ("%s/2025-07-01_101112-%s-3.eml", folder, hash);
  g_autofree char *first_path = NULL;
  g_autofree char *second_path = NULL;

  g_assert_true (g_file_set_contents (taken, "the person's own file\n", -1, NULL));

  first_path = deliver (delivery, content);
  second_path = deliver (delivery, content);

  g_assert_cmpstr (first_path, ==, second);
  g_assert_cmpstr (second_path, ==, third);
  assert_file_content (taken, "the person's own file\n");
  assert_file_content (second, content);
  assert_file_content (third, content);
}

/* Two messages finished before either is committed must not pick the same
 * name, and a name taken between finish and commit moves on. */
static void
test_eml_name_race (void)
{
  const char *content = "Date: Tue, 1 Jul 2025 10:11:12 +0000\n\nsame\n";
  g_autofree char *folder = test_folder ("eml");
  g_autoptr(PbDelivery) delivery = open_delivery (folder, PB_DELIVERY_FORMAT_EML);
  g_autoptr(PbDeliveryMessage) a = pb_delivery_begin (delivery, NULL);
  g_autoptr(PbDeliveryMessage) b = pb_delivery_begin (delivery, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *b_planned = NULL;

  g_output_stream_write_all (pb_delivery_message_get_stream (a), content, strlen (content), NULL, NULL, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (pb_delivery_message_get_stream (b), content, strlen (content), NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (pb_delivery_message_finish (a, &error));
  g_assert_true (pb_delivery_message_finish (b, &error));
  g_assert_cmpstr (pb_delivery_message_get_path (a), !=, pb_delivery_message_get_path (b));

  /* Someone else writes b's name before b is committed. */
  b_planned = g_strdup (pb_delivery_message_get_path (b));
  g_assert_true (g_file_set_contents (b_planned, "intruder\n", -1, NULL));

  g_assert_true (pb_delivery_message_commit (a, &error));
  g_assert_true (pb_delivery_message_commit (b, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (pb_delivery_message_get_path (b), !=, b_planned);
  assert_file_content (b_planned, "intruder\n");
  assert_file_content (pb_delivery_message_get_path (b), content);
  g_assert_cmpuint (count_entries (folder), ==, 3);
}

static void
test_abort_leaves_nothing (gconstpointer data)
{
  PbDeliveryFormat format = GPOINTER_TO_INT (data);
  g_autofree char *folder = test_folder ("dest");
  g_autoptr(PbDelivery) delivery = open_delivery (folder, format);
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp_dir = NULL;
  PbDeliveryMessage *message;

  /* Aborted while writing. */
  message = pb_delivery_begin (delivery, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (pb_delivery_message_get_stream (message), "Subject: a\n", 11, NULL, NULL, &error);
  pb_delivery_message_abort (message);
  pb_delivery_message_free (message);

  /* Finished but never committed (freed). */
  message = pb_delivery_begin (delivery, &error);
  g_output_stream_write_all (pb_delivery_message_get_stream (message), "Subject: b\n", 11, NULL, NULL, &error);
  g_assert_true (pb_delivery_message_finish (message, &error));
  g_assert_nonnull (pb_delivery_message_get_path (message));
  pb_delivery_message_free (message);

  if (format == PB_DELIVERY_FORMAT_MAILDIR)
    {
      g_autofree char *new_dir = g_build_filename (folder, "new", NULL);

      tmp_dir = g_build_filename (folder, "tmp", NULL);
      g_assert_cmpuint (count_entries (tmp_dir), ==, 0);
      g_assert_cmpuint (count_entries (new_dir), ==, 0);
    }
  else
    g_assert_cmpuint (count_entries (folder), ==, 0);
}

static pid_t
dead_pid (void)
{
  /* A child that has exited and been reaped: its pid is free. */
  pid_t pid = fork ();
  int status;

  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    _exit (0);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  return pid;
}

static void
make_leftover (const char *path,
               gint64      age_seconds)
{
  struct utimbuf times;

  g_assert_true (g_file_set_contents (path, "partial", -1, NULL));
  times.actime = times.modtime = time (NULL) - age_seconds;
  g_assert_cmpint (g_utime (path, &times), ==, 0);
}

static void
test_cleanup_maildir_leftovers (void)
{
  g_autofree char *folder = test_folder ("Mail/work");
  g_autoptr(PbDelivery) first = open_delivery (folder, PB_DELIVERY_FORMAT_MAILDIR);
  g_autoptr(PbDelivery) second = NULL;
  g_autofree char *host_probe = NULL;
  g_autofree char *host = NULL;
  g_autofree char *dead = NULL;
  g_autofree char *alive = NULL;
  g_autofree char *foreign_old = NULL;
  g_autofree char *foreign_recent = NULL;
  g_autofree char *dead_but_new = NULL;
  g_autofree char *tmp_dir = g_build_filename (folder, "tmp", NULL);
  g_autoptr(PbDeliveryMessage) in_progress = NULL;

  /* Our own naming tells the host part; take it from a real temp file. */
  in_progress = pb_delivery_begin (first, NULL);
  {
    g_autoptr(GDir) dir = g_dir_open (tmp_dir, 0, NULL);
    host_probe = g_strdup (g_dir_read_name (dir));
  }
  host = g_strdup (strchr (strchr (host_probe, '.') + 1, '.') + 1);

  dead = g_strdup_printf ("%s/1700000000.M000001P%dQ0.%s", tmp_dir, (int) dead_pid (), host);
  alive = g_strdup_printf ("%s/1700000000.M000002P%dQ0.%s", tmp_dir, (int) getppid (), host);
  foreign_old = g_strdup_printf ("%s/1600000000.12345_1.otherhost", tmp_dir);
  foreign_recent = g_strdup_printf ("%s/1700000000.12345_2.otherhost", tmp_dir);
  dead_but_new = g_strdup_printf ("%s/1700000000.M000003P%dQ0.%s", tmp_dir, (int) dead_pid (), host);
  make_leftover (dead, 60);
  make_leftover (alive, 60);
  make_leftover (foreign_old, 40 * 60 * 60);
  make_leftover (foreign_recent, 60);
  make_leftover (dead_but_new, -60);  /* modified after the run started */

  second = open_delivery (folder, PB_DELIVERY_FORMAT_MAILDIR);

  g_assert_false (g_file_test (dead, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (foreign_old, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (alive, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (foreign_recent, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (dead_but_new, G_FILE_TEST_EXISTS));
  /* A message this process is still writing is not a leftover, however
   * old its file looks. */
  {
    g_autofree char *own = g_build_filename (tmp_dir, host_probe, NULL);

    make_leftover (own, 60);
    g_clear_object (&second);
    second = open_delivery (folder, PB_DELIVERY_FORMAT_MAILDIR);
    g_assert_true (g_file_test (own, G_FILE_TEST_EXISTS));
  }
}

static void
test_cleanup_eml_leftovers (void)
{
  g_autofree char *folder = test_folder ("eml");
  g_autoptr(PbDelivery) delivery = NULL;
  g_autofree char *dead = NULL;
  g_autofree char *mail = g_build_filename (folder, "2025-01-01_000000-0123456789ab.eml", NULL);

  g_assert_cmpint (g_mkdir_with_parents (folder, 0700), ==, 0);
  dead = g_strdup_printf ("%s/.popbiff-tmp-%d-AbC123", folder, (int) dead_pid ());
  make_leftover (dead, 60);
  make_leftover (mail, 40 * 60 * 60);

  delivery = open_delivery (folder, PB_DELIVERY_FORMAT_EML);

  g_assert_false (g_file_test (dead, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (mail, G_FILE_TEST_EXISTS));
}

static void
assert_error_names_folder (const GError *error,
                           const char   *folder)
{
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, folder));
  g_assert_cmpstr (pb_error_kind (error), ==, "disk");
}

static void
test_error_file_in_the_way (void)
{
  g_autofree char *file = test_folder ("Mail");
  g_autofree char *folder = test_folder ("Mail/work");
  g_autofree char *maildir = test_folder ("md");
  g_autofree char *new_file = test_folder ("md/new");
  g_autoptr(PbDelivery) below_file = pb_delivery_new (folder, PB_DELIVERY_FORMAT_MAILDIR);
  g_autoptr(PbDelivery) file_as_new = pb_delivery_new (maildir, PB_DELIVERY_FORMAT_MAILDIR);
  g_autoptr(GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (g_get_home_dir (), 0700), ==, 0);
  g_assert_true (g_file_set_contents (file, "not a folder", -1, NULL));
  g_assert_false (pb_delivery_open (below_file, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
  assert_error_names_folder (error, folder);
  g_clear_error (&error);

  g_assert_cmpint (g_mkdir_with_parents (maildir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (new_file, "not a folder", -1, NULL));
  g_assert_false (pb_delivery_open (file_as_new, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
  assert_error_names_folder (error, maildir);
}

/* A tmpfs mounted here, or FALSE (and the test skipped) where mounting is
 * not allowed. */
static gboolean
mount_tmpfs (const char *dir,
             gulong      flags,
             const char *options)
{
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  if (mount ("tmpfs", dir, "tmpfs", flags, options) != 0)
    {
      g_autofree char *reason = g_strdup_printf ("cannot mount a tmpfs here (%s)", g_strerror (errno));

      g_test_skip (reason);
      return FALSE;
    }
  return TRUE;
}

static void
test_error_read_only (void)
{
  g_autofree char *mountpoint = test_folder ("ro");
  g_autofree char *folder = test_folder ("ro/Mail");
  g_autoptr(PbDelivery) delivery = NULL;
  g_autoptr(GError) error = NULL;

  if (geteuid () != 0)
    {
      /* Without root, permissions do what a read-only mount would. */
      g_assert_cmpint (g_mkdir_with_parents (mountpoint, 0700), ==, 0);
      g_assert_cmpint (g_chmod (mountpoint, 0500), ==, 0);
    }
  else if (!mount_tmpfs (mountpoint, MS_RDONLY, "size=64k"))
    return;

  delivery = pb_delivery_new (folder, PB_DELIVERY_FORMAT_MAILDIR);
  g_assert_false (pb_delivery_open (delivery, &error));
  if (geteuid () == 0)
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_READ_ONLY);
  else
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  assert_error_names_folder (error, folder);

  if (geteuid () == 0)
    g_assert_cmpint (umount (mountpoint), ==, 0);
  else
    g_chmod (mountpoint, 0700);
}

static int
fail_after_100_bytes (guint64  total_bytes,
                      gpointer user_data)
{
  return total_bytes > 100 ? ENOSPC : 0;
}

static void
test_error_injected_full_disk (void)
{
  g_autofree char *folder = test_folder ("Mail/work");
  g_autofree char *tmp_dir = g_build_filename (folder, "tmp", NULL);
  g_autofree char *new_dir = g_build_filename (folder, "new", NULL);
  g_autoptr(PbDelivery) delivery = open_delivery (folder, PB_DELIVERY_FORMAT_MAILDIR);
  g_autoptr(PbDeliveryMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  char line[40];

  memset (line, 'x', sizeof line);
  pb_delivery_set_write_hook (delivery, fail_after_100_bytes, NULL);
  message = pb_delivery_begin (delivery, &error);
  for (guint i = 0; i < 10 && error == NULL; i++)
    g_output_stream_write_all (pb_delivery_message_get_stream (message), line, sizeof line, NULL, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  assert_error_names_folder (error, folder);
  g_clear_error (&error);

  /* Every later write and the finish fail the same way. */
  g_assert_false (pb_delivery_message_finish (message, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_assert_cmpuint (count_entries (tmp_dir), ==, 0);
  g_assert_cmpuint (count_entries (new_dir), ==, 0);
}

static void
test_error_real_full_disk (void)
{
  g_autofree char *mountpoint = test_folder ("small");
  g_autofree char *folder = test_folder ("small/Mail");
  g_autofree char *tmp_dir = g_build_filename (folder, "tmp", NULL);
  g_autofree char *new_dir = g_build_filename (folder, "new", NULL);
  g_autoptr(PbDelivery) delivery = NULL;
  g_autoptr(PbDeliveryMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *chunk = g_malloc0 (32 * 1024);

  if (geteuid () != 0)
    {
      g_test_skip ("mounting a small tmpfs needs root; the injected full disk covers this");
      return;
    }
  if (!mount_tmpfs (mountpoint, 0, "size=64k"))
    return;

  delivery = open_delivery (folder, PB_DELIVERY_FORMAT_MAILDIR);
  message = pb_delivery_begin (delivery, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 8 && error == NULL; i++)
    g_output_stream_write_all (pb_delivery_message_get_stream (message), chunk, 32 * 1024, NULL, NULL, &error);
  if (error == NULL)
    pb_delivery_message_finish (message, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  assert_error_names_folder (error, folder);
  pb_delivery_message_abort (message);

  g_assert_cmpuint (count_entries (tmp_dir), ==, 0);
  g_assert_cmpuint (count_entries (new_dir), ==, 0);
  g_clear_pointer (&message, pb_delivery_message_free);
  g_clear_object (&delivery);
  g_assert_cmpint (umount (mountpoint), ==, 0);
}

static char *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_assert_no_error (error);
  return contents;
}

/* A batch made durable by syncfs rather than an fsync per file (close
 * each, sync the file system, commit each, sync again) ends as the same
 * files with the same names and nothing left under a temporary name. */
static void
test_sync_file_system (gconstpointer data)
{
  PbDeliveryFormat format = GPOINTER_TO_INT (data);
  g_autofree char *folder = test_folder ("Mail/syncfs");
  g_autoptr(PbDelivery) delivery = open_delivery (folder, format);
  g_autoptr(GError) error = NULL;
  PbDeliveryMessage *messages[3];
  const char *contents[3] = {
    "Subject: one\n\n1\n",
    "Date: Tue, 1 Jul 2025 10:00:00 +0000\nSubject: two\n\n2\n",
    "Subject: three\n\nthree\n",
  };

  if (!pb_delivery_can_sync_file_system (delivery))
    {
      g_test_skip ("syncfs does not stand in for fsync on this file system or kernel");
      return;
    }

  for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
    {
      messages[i] = pb_delivery_begin (delivery, &error);
      g_assert_no_error (error);
      g_output_stream_write_all (pb_delivery_message_get_stream (messages[i]), contents[i],
                                 strlen (contents[i]), NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (pb_delivery_message_close (messages[i], &error));
      g_assert_no_error (error);
      g_assert_nonnull (pb_delivery_message_get_path (messages[i]));
    }
  g_assert_true (pb_delivery_sync_file_system (delivery, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
    {
      g_assert_true (pb_delivery_message_commit (messages[i], &error));
      g_assert_no_error (error);
    }
  g_assert_true (pb_delivery_sync_file_system (delivery, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (messages); i++)
    {
      g_autofree char *got = read_file (pb_delivery_message_get_path (messages[i]));

      g_assert_cmpstr (got, ==, contents[i]);
      pb_delivery_message_free (messages[i]);
    }
  if (format == PB_DELIVERY_FORMAT_MAILDIR)
    {
      g_autofree char *tmp_dir = g_build_filename (folder, "tmp", NULL);
      g_autofree char *new_dir = g_build_filename (folder, "new", NULL);

      g_assert_cmpuint (count_entries (tmp_dir), ==, 0);
      g_assert_cmpuint (count_entries (new_dir), ==, 3);
    }
  else
    g_assert_cmpuint (count_entries (folder), ==, 3);
}

/* syncfs only where it is as strong as fsync: yes on a tmpfs (on the list,
 * on any kernel that reports syncfs errors), no on a ramfs (not on it). */
static void
test_sync_file_system_where_known (void)
{
  g_autofree char *tmpfs_dir = test_folder ("tmpfs");
  g_autofree char *ramfs_dir = test_folder ("ramfs");
  g_autofree char *tmpfs_folder = g_build_filename (tmpfs_dir, "Mail", NULL);
  g_autofree char *ramfs_folder = g_build_filename (ramfs_dir, "Mail", NULL);
  g_autoptr(PbDelivery) on_tmpfs = NULL;
  g_autoptr(PbDelivery) on_ramfs = NULL;
  struct utsname name;
  guint major = 0, minor = 0;

  if (geteuid () != 0)
    {
      g_test_skip ("mounting a tmpfs and a ramfs needs root");
      return;
    }
  g_assert_cmpint (uname (&name), ==, 0);
  g_assert_cmpint (sscanf (name.release, "%u.%u", &major, &minor), ==, 2);

  if (!mount_tmpfs (tmpfs_dir, 0, "size=1m"))
    return;
  g_assert_cmpint (g_mkdir_with_parents (ramfs_dir, 0700), ==, 0);
  g_assert_cmpint (mount ("ramfs", ramfs_dir, "ramfs", 0, NULL), ==, 0);

  on_tmpfs = open_delivery (tmpfs_folder, PB_DELIVERY_FORMAT_MAILDIR);
  on_ramfs = open_delivery (ramfs_folder, PB_DELIVERY_FORMAT_MAILDIR);
  g_assert_cmpint (pb_delivery_can_sync_file_system (on_tmpfs), ==,
                   major > 5 || (major == 5 && minor >= 8));
  g_assert_false (pb_delivery_can_sync_file_system (on_ramfs));
  /* The file systems must be free to go. */
  g_clear_object (&on_tmpfs);
  g_clear_object (&on_ramfs);
  g_assert_cmpint (umount (tmpfs_dir), ==, 0);
  g_assert_cmpint (umount (ramfs_dir), ==, 0);
}

typedef struct {
  GMainLoop *loop;
  GError    *error;
  gsize      written;
} AsyncWrite;

static void
on_written (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  AsyncWrite *data = user_data;

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, &data->written, &data->error);
  g_main_loop_quit (data->loop);
}

/* The POP3 client writes asynchronously; a 1 MiB write must arrive whole. */
static void
test_async_write (void)
{
  g_autofree char *folder = test_folder ("Mail/work");
  g_autoptr(PbDelivery) delivery = open_delivery (folder, PB_DELIVERY_FORMAT_MAILDIR);
  g_autoptr(PbDeliveryMessage) message = pb_delivery_begin (delivery, NULL);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GError) error = NULL;
  gsize size = 1024 * 1024;
  g_autofree char *data = g_malloc (size);
  g_autofree char *content = NULL;
  gsize length = 0;
  AsyncWrite state = { loop, NULL, 0 };

  for (gsize i = 0; i < size; i++)
    data[i] = (char) ('a' + i % 26);
  g_output_stream_write_all_async (pb_delivery_message_get_stream (message), data, size,
                                   G_PRIORITY_DEFAULT, NULL, on_written, &state);
  g_main_loop_run (loop);
  g_assert_no_error (state.error);
  g_assert_cmpuint (state.written, ==, size);
  g_assert_cmpuint (pb_delivery_message_get_size (message), ==, size);

  g_assert_true (pb_delivery_message_finish (message, &error));
  g_assert_true (pb_delivery_message_commit (message, &error));
  g_assert_no_error (error);
  g_file_get_contents (pb_delivery_message_get_path (message), &content, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (content, length, data, size);
}

static void
test_locate (void)
{
  g_autofree char *folder = test_folder ("Mail/work");
  g_autoptr(PbDelivery) delivery = open_delivery (folder, PB_DELIVERY_FORMAT_MAILDIR);
  g_autofree char *path = deliver (delivery, "hello\n");
  g_autofree char *here = pb_delivery_locate (path, 6);
  g_autofree char *wrong_size = pb_delivery_locate (path, 7);
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *moved = g_strdup_printf ("%s/cur/%s:2,S", folder, name);
  g_autofree char *found = NULL;
  g_autofree char *gone = NULL;

  g_assert_cmpstr (here, ==, path);
  g_assert_null (wrong_size);

  /* A mail client read it. */
  g_assert_cmpint (g_rename (path, moved), ==, 0);
  found = pb_delivery_locate (path, 6);
  g_assert_cmpstr (found, ==, moved);

  g_assert_cmpint (g_unlink (moved), ==, 0);
  gone = pb_delivery_locate (path, 6);
  g_assert_null (gone);
}

int
main (int argc, char **argv)
{
  g_setenv ("TZ", "UTC", TRUE);
  pb_test_init (&argc, &argv);

  g_test_add_func ("/core/delivery/maildir/layout", test_maildir_layout);
  g_test_add_func ("/core/delivery/maildir/name", test_maildir_name);
  g_test_add_func ("/core/delivery/maildir/unique-names", test_maildir_unique);
  g_test_add_func ("/core/delivery/eml/name-from-date", test_eml_name_from_date);
  g_test_add_func ("/core/delivery/eml/name-without-date", test_eml_name_without_date);
  g_test_add_func ("/core/delivery/eml/never-overwrites", test_eml_never_overwrites);
  g_test_add_func ("/core/delivery/eml/name-race", test_eml_name_race);
  g_test_add_data_func ("/core/delivery/maildir/abort-leaves-nothing",
                        GINT_TO_POINTER (PB_DELIVERY_FORMAT_MAILDIR), test_abort_leaves_nothing);
  g_test_add_data_func ("/core/delivery/eml/abort-leaves-nothing",
                        GINT_TO_POINTER (PB_DELIVERY_FORMAT_EML), test_abort_leaves_nothing);
  g_test_add_func ("/core/delivery/maildir/cleans-leftovers", test_cleanup_maildir_leftovers);
  g_test_add_func ("/core/delivery/eml/cleans-leftovers", test_cleanup_eml_leftovers);
  g_test_add_func ("/core/delivery/error/file-in-the-way", test_error_file_in_the_way);
  g_test_add_func ("/core/delivery/error/read-only", test_error_read_only);
  g_test_add_func ("/core/delivery/error/injected-full-disk", test_error_injected_full_disk);
  g_test_add_func ("/core/delivery/error/full-disk", test_error_real_full_disk);
  g_test_add_data_func ("/core/delivery/maildir/sync-file-system",
                        GINT_TO_POINTER (PB_DELIVERY_FORMAT_MAILDIR), test_sync_file_system);
  g_test_add_data_func ("/core/delivery/eml/sync-file-system",
                        GINT_TO_POINTER (PB_DELIVERY_FORMAT_EML), test_sync_file_system);
  g_test_add_func ("/core/delivery/sync-file-system-where-known", test_sync_file_system_where_known);
  g_test_add_func ("/core/delivery/async-write", test_async_write);
  g_test_add_func ("/core/delivery/locate", test_locate);

  return g_test_run ();
}

/* The fetch job against a real Dovecot: byte-exact downloads of awkward
 * messages in both formats, a chosen subset, --delete removing exactly what
 * was fetched, a second fetch doing nothing, the size cap, cancelling, and
 * disk errors that delete nothing. */
#include <errno.h>
#include <sys/mount.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "core/pb-account.h"
#include "core/pb-core-error.h"
#include "core/pb-fetch.h"
#include "core/pb-state.h"
#include "pb-test-dovecot.h"
#include "pb-test-mail.h"
#include "pb-test-util.h"

typedef struct {
  PbTestDovecot *dovecot;
  PbAccount     *account;
  PbState       *state;
  char          *folder;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->dovecot = pb_test_dovecot_start (&error);
  g_assert_no_error (error);
  if (fixture->dovecot == NULL)
    return;

  fixture->account = pb_account_new ("test");
  pb_account_set_host (fixture->account, pb_test_dovecot_get_host (fixture->dovecot));
  pb_account_set_port (fixture->account, pb_test_dovecot_get_tls_port (fixture->dovecot));
  pb_account_set_security (fixture->account, PB_POP3_SECURITY_TLS);
  pb_account_set_ca_file (fixture->account, pb_test_dovecot_get_ca_file (fixture->dovecot));
  pb_account_set_user (fixture->account, pb_test_dovecot_get_user (fixture->dovecot));
  fixture->folder = g_build_filename (g_get_home_dir (), "Mail", "test", NULL);

  fixture->state = pb_state_new ("test", NULL);
  pb_state_load (fixture->state, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_clear_object (&fixture->state);
  g_clear_object (&fixture->account);
  g_clear_pointer (&fixture->dovecot, pb_test_dovecot_stop);
  g_free (fixture->folder);
}

static void
deliver (Fixture *fixture,
         GBytes  *message)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (pb_test_dovecot_deliver (fixture->dovecot, NULL, message, &error));
  g_assert_no_error (error);
}

static void
deliver_awkward (Fixture *fixture)
{
  for (int kind = 0; kind < PB_TEST_MAIL_N_KINDS; kind++)
    {
      g_autoptr(GBytes) message = pb_test_mail_awkward (kind);

      deliver (fixture, message);
    }
}

static PbFetch *
new_fetch (Fixture *fixture)
{
  PbFetch *fetch = pb_fetch_new (fixture->account, fixture->state);

  pb_fetch_set_password (fetch, pb_test_dovecot_get_password (fixture->dovecot));
  return fetch;
}

typedef struct {
  GMainLoop *loop;
  gboolean   ok;
  GError    *error;
} Wait;

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *wait = user_data;

  wait->ok = pb_fetch_run_finish (PB_FETCH (source), result, &wait->error);
  g_main_loop_quit (wait->loop);
}

/* Runs the job to its end; returns its error (NULL if it ran). */
static GError *
run_fetch (PbFetch      *fetch,
           GCancellable *cancellable)
{
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Wait wait = { loop, FALSE, NULL };

  pb_fetch_run_async (fetch, cancellable, on_done, &wait);
  g_main_loop_run (loop);
  g_assert_true (wait.ok == (wait.error == NULL));
  return wait.error;
}

static void
assert_all_ok (PbFetch *fetch,
               guint    expected)
{
  GPtrArray *results = pb_fetch_get_results (fetch);

  g_assert_cmpuint (results->len, ==, expected);
  for (guint i = 0; i < results->len; i++)
    {
      PbFetchResult *result = g_ptr_array_index (results, i);

      g_assert_no_error (result->error);
      g_assert_nonnull (result->path);
    }
}

/* The files under @dir (not recursive), as a table name -> contents. */
static GHashTable *
read_dir (const char *dir)
{
  GHashTable *files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) g_bytes_unref);
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  if (listing == NULL)
    return files;
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize length = 0;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
      g_hash_table_insert (files, g_strdup (name),
                           g_bytes_new_take (g_steal_pointer (&contents), length));
    }
  return files;
}

static guint
count_files (const char *dir)
{
  g_autoptr(GHashTable) files = read_dir (dir);

  return g_hash_table_size (files);
}

/* Every downloaded file equals what RETR of the server's file must give,
 * and each server message was downloaded exactly once. */
static void
assert_byte_exact (Fixture    *fixture,
                   PbFetch    *fetch,
                   const char *dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) server = pb_test_dovecot_list_messages (fixture->dovecot, NULL, &error);
  g_autoptr(GHashTable) local = read_dir (dir);
  GPtrArray *results = pb_fetch_get_results (fetch);

  g_assert_no_error (error);
  g_assert_cmpuint (results->len, ==, server->len);
  g_assert_cmpuint (g_hash_table_size (local), ==, server->len);

  /* Results come in server order for a fetch of everything new. */
  for (guint i = 0; i < server->len; i++)
    {
      PbTestMessage *message = g_ptr_array_index (server, i);
      PbFetchResult *result = g_ptr_array_index (results, i);
      g_autoptr(GBytes) expected = pb_test_mail_expected_retr (message->contents);
      g_autofree char *name = g_path_get_basename (result->path);
      GBytes *got = g_hash_table_lookup (local, name);

      g_assert_nonnull (got);
      g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got),
                       g_bytes_get_data (expected, NULL), g_bytes_get_size (expected));
      g_assert_cmpuint (result->size, ==, g_bytes_get_size (expected));
    }
}

static void
test_maildir_byte_exact (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *new_dir = NULL;
  g_autofree char *tmp_dir = NULL;
  g_autoptr(GPtrArray) records = NULL;

  if (fixture->dovecot == NULL)
    return;

  deliver_awkward (fixture);
  fetch = new_fetch (fixture);
  error = run_fetch (fetch, NULL);
  g_assert_no_error (error);
  assert_all_ok (fetch, PB_TEST_MAIL_N_KINDS);

  new_dir = g_build_filename (fixture->folder, "new", NULL);
  tmp_dir = g_build_filename (fixture->folder, "tmp", NULL);
  assert_byte_exact (fixture, fetch, new_dir);
  g_assert_cmpuint (count_files (tmp_dir), ==, 0);

  /* Recorded, durably: a fresh load of the state says downloaded. */
  {
    g_autoptr(PbState) reloaded = pb_state_new ("test", NULL);

    g_assert_true (pb_state_load (reloaded, &error));
    g_assert_no_error (error);
    records = pb_state_list (reloaded);
    g_assert_cmpuint (records->len, ==, PB_TEST_MAIL_N_KINDS);
    for (guint i = 0; i < records->len; i++)
      {
        PbMessageRecord *record = g_ptr_array_index (records, i);

        g_assert_cmpint (record->flags & PB_MESSAGE_DOWNLOADED, ==, PB_MESSAGE_DOWNLOADED);
        g_assert_true (g_file_test (record->path, G_FILE_TEST_IS_REGULAR));
      }
  }
}

static void
test_eml_byte_exact (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *folder = NULL;
  GPtrArray *results;

  if (fixture->dovecot == NULL)
    return;

  deliver_awkward (fixture);
  folder = g_build_filename (g_get_home_dir (), "eml", NULL);
  fetch = new_fetch (fixture);
  pb_fetch_set_format (fetch, PB_DELIVERY_FORMAT_EML);
  pb_fetch_set_folder (fetch, folder);
  error = run_fetch (fetch, NULL);
  g_assert_no_error (error);
  assert_all_ok (fetch, PB_TEST_MAIL_N_KINDS);
  assert_byte_exact (fixture, fetch, folder);

  results = pb_fetch_get_results (fetch);
  for (guint i = 0; i < results->len; i++)
    {
      PbFetchResult *result = g_ptr_array_index (results, i);
      g_autofree char *name = g_path_get_basename (result->path);

      g_assert_true (g_regex_match_simple ("^[0-9]{4}-[0-9]{2}-[0-9]{2}_[0-9]{6}-[0-9a-f]{12}(-[0-9]+)?\\.eml$",
                                           name, 0, 0));
      /* Never named after the UIDL. */
      g_assert_null (strstr (name, result->uidl));
    }
}

static GPtrArray *
server_uidls (Fixture *fixture)
{
  g_autoptr(PbFetch) probe = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PbState) scratch = NULL;
  g_autofree char *scratch_path = g_build_filename (g_get_user_cache_dir (), "uidl-probe.state", NULL);
  g_autofree char *scratch_folder = g_build_filename (g_get_user_cache_dir (), "uidl-probe", NULL);
  GPtrArray *uidls = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *results;

  /* A fetch into a scratch folder with a scratch state lists every UIDL in
   * server order, which is all this needs. */
  scratch = pb_state_new ("probe", scratch_path);
  probe = pb_fetch_new (fixture->account, scratch);
  pb_fetch_set_password (probe, pb_test_dovecot_get_password (fixture->dovecot));
  pb_fetch_set_folder (probe, scratch_folder);
  error = run_fetch (probe, NULL);
  g_assert_no_error (error);
  results = pb_fetch_get_results (probe);
  for (guint i = 0; i < results->len; i++)
    g_ptr_array_add (uidls, g_strdup (((PbFetchResult *) g_ptr_array_index (results, i))->uidl));
  return uidls;
}

static void
test_subset_and_delete (Fixture       *fixture,
                        gconstpointer  data)
{
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) uidls = NULL;
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autofree char *new_dir = NULL;
  const char *chosen[3];

  if (fixture->dovecot == NULL)
    return;

  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *subject = g_strdup_printf ("message %u", i);
      g_autoptr(GBytes) message = pb_test_mail_simple ("a@example.org", subject, "hello\n");

      deliver (fixture, message);
    }
  uidls = server_uidls (fixture);
  g_assert_cmpuint (uidls->len, ==, 5);
  before = pb_test_dovecot_list_messages (fixture->dovecot, NULL, &error);
  g_assert_no_error (error);

  chosen[0] = g_ptr_array_index (uidls, 3);
  chosen[1] = g_ptr_array_index (uidls, 1);
  chosen[2] = NULL;
  fetch = new_fetch (fixture);
  pb_fetch_set_selection (fetch, PB_FETCH_SELECT_UIDLS, chosen);
  pb_fetch_set_delete (fetch, TRUE);
  error = run_fetch (fetch, NULL);
  g_assert_no_error (error);
  assert_all_ok (fetch, 2);
  /* In the order asked for. */
  g_assert_cmpstr (((PbFetchResult *) g_ptr_array_index (pb_fetch_get_results (fetch), 0))->uidl, ==, chosen[0]);

  new_dir = g_build_filename (fixture->folder, "new", NULL);
  g_assert_cmpuint (count_files (new_dir), ==, 2);

  /* Exactly messages 2 and 4 (1-based) are gone from the server. */
  after = pb_test_dovecot_list_messages (fixture->dovecot, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (after->len, ==, 3);
  g_assert_cmpstr (((PbTestMessage *) g_ptr_array_index (after, 0))->name, ==,
                   ((PbTestMessage *) g_ptr_array_index (before, 0))->name);
  g_assert_cmpstr (((PbTestMessage *) g_ptr_array_index (after, 1))->name, ==,
                   ((PbTestMessage *) g_ptr_array_index (before, 2))->name);
  g_assert_cmpstr (((PbTestMessage *) g_ptr_array_index (after, 2))->name, ==,
                   ((PbTestMessage *) g_ptr_array_index (before, 4))->name);

  /* Only the chosen ones are recorded as downloaded. */
  for (guint i = 0; i < uidls->len; i++)
    {
      PbMessageRecord *record = pb_state_lookup (fixture->state, g_ptr_array_index (uidls, i));
      gboolean downloaded = record != NULL && (record->flags & PB_MESSAGE_DOWNLOADED) != 0;

      g_assert_cmpint (downloaded, ==, i == 1 || i == 3);
    }
}

static void
test_second_fetch_is_a_no_op (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr(PbFetch) first = NULL;
  g_autoptr(PbFetch) second = NULL;
  g_autoptr(PbFetch) again = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *new_dir = NULL;
  const char *uidl[2] = { NULL, NULL };

  if (fixture->dovecot == NULL)
    return;

  deliver_awkward (fixture);
  new_dir = g_build_filename (fixture->folder, "new", NULL);

  first = new_fetch (fixture);
  error = run_fetch (first, NULL);
  g_assert_no_error (error);
  g_assert_cmpuint (count_files (new_dir), ==, PB_TEST_MAIL_N_KINDS);

  second = new_fetch (fixture);
  pb_fetch_set_selection (second, PB_FETCH_SELECT_ALL, NULL);
  error = run_fetch (second, NULL);
  g_assert_no_error (error);
  g_assert_cmpuint (pb_fetch_get_results (second)->len, ==, 0);
  g_assert_cmpuint (count_files (new_dir), ==, PB_TEST_MAIL_N_KINDS);

  /* Named explicitly, a downloaded message is fetched again. */
  uidl[0] = ((PbFetchResult *) g_ptr_array_index (pb_fetch_get_results (first), 0))->uidl;
  again = new_fetch (fixture);
  pb_fetch_set_selection (again, PB_FETCH_SELECT_UIDLS, uidl);
  error = run_fetch (again, NULL);
  g_assert_no_error (error);
  assert_all_ok (again, 1);
  g_assert_cmpuint (count_files (new_dir), ==, PB_TEST_MAIL_N_KINDS + 1);
}

static void
test_size_cap (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) small = pb_test_mail_simple ("a@example.org", "small", "hi\n");
  g_autoptr(GBytes) big = pb_test_mail_awkward (PB_TEST_MAIL_ATTACHMENT);
  GPtrArray *results;
  PbFetchResult *skipped;

  if (fixture->dovecot == NULL)
    return;

  deliver (fixture, small);
  deliver (fixture, big);
  deliver (fixture, small);

  fetch = new_fetch (fixture);
  pb_fetch_set_max_message_size (fetch, 1024 * 1024);
  error = run_fetch (fetch, NULL);
  g_assert_no_error (error);

  results = pb_fetch_get_results (fetch);
  g_assert_cmpuint (results->len, ==, 3);
  skipped = g_ptr_array_index (results, 1);
  g_assert_error (skipped->error, PB_POP3_ERROR, PB_POP3_ERROR_TOO_LARGE);
  g_assert_null (skipped->path);
  g_assert_no_error (((PbFetchResult *) g_ptr_array_index (results, 0))->error);
  g_assert_no_error (((PbFetchResult *) g_ptr_array_index (results, 2))->error);
  /* Not recorded: a later fetch with a larger cap gets it. */
  g_assert_true (pb_state_lookup (fixture->state, skipped->uidl) == NULL ||
                 (pb_state_lookup (fixture->state, skipped->uidl)->flags & PB_MESSAGE_DOWNLOADED) == 0);
}

static void
cancel_after_three (PbFetch      *fetch,
                    const char   *uidl,
                    const char   *path,
                    const GError *error,
                    gpointer      user_data)
{
  static guint done;

  if (++done == 3)
    g_cancellable_cancel (user_data);
}

static void
test_cancel_keeps_what_is_complete (Fixture       *fixture,
                                    gconstpointer  data)
{
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(PbFetch) rest = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *new_dir = NULL;
  g_autofree char *tmp_dir = NULL;
  GPtrArray *results;
  guint kept = 0;

  if (fixture->dovecot == NULL)
    return;

  g_assert_true (pb_test_dovecot_fill (fixture->dovecot, NULL, 150, 20 * 1024, &error));
  g_assert_no_error (error);

  fetch = new_fetch (fixture);
  g_signal_connect (fetch, "message-done", G_CALLBACK (cancel_after_three), cancellable);
  error = run_fetch (fetch, cancellable);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  new_dir = g_build_filename (fixture->folder, "new", NULL);
  tmp_dir = g_build_filename (fixture->folder, "tmp", NULL);
  results = pb_fetch_get_results (fetch);
  for (guint i = 0; i < results->len; i++)
    {
      PbFetchResult *result = g_ptr_array_index (results, i);

      if (result->error == NULL)
        {
          kept++;
          g_assert_true (g_file_test (result->path, G_FILE_TEST_IS_REGULAR));
        }
    }
  /* How many were complete when the cancel landed depends on timing (a
   * whole batch is committed at once); at least the three reported. */
  g_assert_cmpuint (kept, >=, 3);
  g_assert_cmpuint (kept, <=, 150);
  g_assert_cmpuint (count_files (new_dir), ==, kept);
  g_assert_cmpuint (count_files (tmp_dir), ==, 0);

  /* The rest, exactly once. */
  rest = new_fetch (fixture);
  error = run_fetch (rest, NULL);
  g_assert_no_error (error);
  assert_all_ok (rest, 150 - kept);
  g_assert_cmpuint (count_files (tmp_dir), ==, 0);
  g_assert_cmpuint (count_files (new_dir), ==, 150);
}

static void
assert_server_untouched (Fixture *fixture,
                         guint    expected)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) server = pb_test_dovecot_list_messages (fixture->dovecot, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (server->len, ==, expected);
}

static void
test_full_disk_deletes_nothing (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *mountpoint = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *tmp_dir = NULL;
  g_autoptr(GBytes) big = NULL;
  GPtrArray *results;

  if (fixture->dovecot == NULL)
    return;
  if (geteuid () != 0)
    {
      g_test_skip ("mounting a small tmpfs needs root; test-delivery injects the error instead");
      return;
    }

  mountpoint = g_build_filename (g_get_home_dir (), "small", NULL);
  g_assert_cmpint (g_mkdir_with_parents (mountpoint, 0700), ==, 0);
  if (mount ("tmpfs", mountpoint, "tmpfs", 0, "size=1m") != 0)
    {
      g_test_skip ("cannot mount a tmpfs here");
      return;
    }

  big = pb_test_mail_awkward (PB_TEST_MAIL_ATTACHMENT);  /* 3 MiB: cannot fit */
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GBytes) small = pb_test_mail_simple ("a@example.org", "small", "hi\n");

      deliver (fixture, small);
    }
  deliver (fixture, big);

  folder = g_build_filename (mountpoint, "Mail", NULL);
  fetch = new_fetch (fixture);
  pb_fetch_set_folder (fetch, folder);
  pb_fetch_set_delete (fetch, TRUE);
  error = run_fetch (fetch, NULL);

  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_assert_nonnull (strstr (error->message, folder));
  results = pb_fetch_get_results (fetch);
  g_assert_cmpuint (results->len, ==, 3);
  g_assert_nonnull (((PbFetchResult *) g_ptr_array_index (results, 2))->error);

  /* Nothing deleted, no partial file anywhere. */
  assert_server_untouched (fixture, 3);
  tmp_dir = g_build_filename (folder, "tmp", NULL);
  g_assert_cmpuint (count_files (tmp_dir), ==, 0);

  g_clear_object (&fetch);
  g_assert_cmpint (umount (mountpoint), ==, 0);
}

static void
test_unusable_folder_fails_before_connecting (Fixture       *fixture,
                                              gconstpointer  data)
{
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *blocker = NULL;
  g_autofree char *folder = NULL;
  g_autoptr(GBytes) message = pb_test_mail_simple ("a@example.org", "x", "hi\n");
  g_autofree char *log = NULL;

  if (fixture->dovecot == NULL)
    return;

  deliver (fixture, message);
  blocker = g_build_filename (g_get_home_dir (), "blocker", NULL);
  g_assert_cmpint (g_mkdir_with_parents (g_get_home_dir (), 0700), ==, 0);
  g_assert_true (g_file_set_contents (blocker, "a file", -1, NULL));
  folder = g_build_filename (blocker, "Mail", NULL);

  fetch = new_fetch (fixture);
  pb_fetch_set_folder (fetch, folder);
  pb_fetch_set_delete (fetch, TRUE);
  error = run_fetch (fetch, NULL);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
  g_assert_nonnull (strstr (error->message, folder));
  g_assert_cmpstr (pb_error_kind (error), ==, "disk");
  assert_server_untouched (fixture, 1);
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/fetch/dovecot/maildir/byte-exact", test_maildir_byte_exact);
  ADD ("/fetch/dovecot/eml/byte-exact", test_eml_byte_exact);
  ADD ("/fetch/dovecot/subset-and-delete", test_subset_and_delete);
  ADD ("/fetch/dovecot/second-fetch-is-a-no-op", test_second_fetch_is_a_no_op);
  ADD ("/fetch/dovecot/size-cap", test_size_cap);
  ADD ("/fetch/dovecot/cancel-keeps-what-is-complete", test_cancel_keeps_what_is_complete);
  ADD ("/fetch/dovecot/full-disk-deletes-nothing", test_full_disk_deletes_nothing);
  ADD ("/fetch/dovecot/unusable-folder", test_unusable_folder_fails_before_connecting);

  return g_test_run ();
}

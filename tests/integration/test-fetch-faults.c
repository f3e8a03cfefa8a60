/* The fetch job against a scripted server that misbehaves in one way per
 * test: a -ERR to one RETR, a connection dropped or stalled in the middle
 * of a message, DELE refused, QUIT lost after DELE, LIST sizes that lie.
 * Each test reads as a transcript, then checks the folder and the state. */
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "core/pb-account.h"
#include "core/pb-check.h"
#include "core/pb-core-error.h"
#include "core/pb-fetch.h"
#include "core/pb-state.h"
#include "pb-fake-server.h"
#include "pb-test-util.h"

/* Three messages as the server sends them (CRLF, dot-stuffed) and as they
 * must land (LF, unstuffed). */
static const char * const wire[] = {
  "Subject: one\r\n\r\nfirst body\r\n",
  "Subject: two\r\n\r\n..stuffed\r\nsecond body\r\n",
  "Subject: three\r\n\r\nthird body\r\n",
};
static const char * const on_disk[] = {
  "Subject: one\n\nfirst body\n",
  "Subject: two\n\n.stuffed\nsecond body\n",
  "Subject: three\n\nthird body\n",
};

/* Greeting, CAPA (no PIPELINING: one command at a time, so the script can
 * follow), USER/PASS, CAPA again, UIDL with @uidls and LIST with
 * @list_sizes. */
static PbFakeServer *
server_listing (const char *uidls,
                const char *list_sizes)
{
  PbFakeServer *server = pb_fake_server_new ();
  g_autofree char *uidl = g_strdup_printf ("+OK\n%s\n.", uidls);
  g_autofree char *list = g_strdup_printf ("+OK 3 messages\n%s\n.", list_sizes);

  pb_fake_server_send (server, "+OK fake ready");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nUIDL\nTOP\n.");
  pb_fake_server_expect (server, "USER alice");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "PASS secret");
  pb_fake_server_send (server, "+OK logged in");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nUIDL\nTOP\n.");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, uidl);
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, list);
  return server;
}

static PbFakeServer *
server_logged_in (const char *list_sizes)
{
  return server_listing ("1 uid-one\n2 uid-two\n3 uid-three", list_sizes);
}

static PbFakeServer *
server_with_three (void)
{
  return server_logged_in ("1 26\n2 40\n3 28");
}

static void
expect_retr (PbFakeServer *server,
             guint         number)
{
  g_autofree char *command = g_strdup_printf ("RETR %u", number);
  g_autofree char *reply = g_strdup_printf ("+OK\r\n%s.\r\n", wire[number - 1]);

  pb_fake_server_expect (server, command);
  pb_fake_server_send_raw (server, reply, strlen (reply));
}

typedef struct {
  PbAccount *account;
  PbState   *state;
  char      *new_dir;
  char      *tmp_dir;
} Fixture;

static void
fixture_setup (Fixture       *fixture,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *folder = g_build_filename (g_get_home_dir (), "Mail", "fake", NULL);

  fixture->account = pb_account_new ("fake");
  pb_account_set_host (fixture->account, "127.0.0.1");
  pb_account_set_security (fixture->account, PB_POP3_SECURITY_NONE);
  pb_account_set_auth (fixture->account, PB_POP3_AUTH_USER);
  pb_account_set_user (fixture->account, "alice");
  pb_account_set_timeout (fixture->account, 10);
  fixture->state = pb_state_new ("fake", NULL);
  g_assert_true (pb_state_load (fixture->state, &error));
  fixture->new_dir = g_build_filename (folder, "new", NULL);
  fixture->tmp_dir = g_build_filename (folder, "tmp", NULL);
}

static void
fixture_teardown (Fixture       *fixture,
                  gconstpointer  data)
{
  g_clear_object (&fixture->account);
  g_clear_object (&fixture->state);
  g_free (fixture->new_dir);
  g_free (fixture->tmp_dir);
}

typedef struct {
  GMainLoop *loop;
  GError    *error;
} Wait;

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *wait = user_data;

  pb_fetch_run_finish (PB_FETCH (source), result, &wait->error);
  g_main_loop_quit (wait->loop);
}

/* Runs a fetch against @server, of @uidls or else of the new messages;
 * returns the job's error. */
static GError *
run_fetch_selecting (Fixture            *fixture,
                     PbFakeServer       *server,
                     gboolean            delete_after,
                     const char * const *uidls,
                     PbFetch           **out_fetch)
{
  g_autoptr(PbFetch) fetch = pb_fetch_new (fixture->account, fixture->state);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autofree char *problems = NULL;
  Wait wait = { loop, NULL };

  pb_account_set_port (fixture->account, pb_fake_server_get_port (server));
  pb_fetch_set_password (fetch, "secret");
  pb_fetch_set_delete (fetch, delete_after);
  if (uidls != NULL)
    pb_fetch_set_selection (fetch, PB_FETCH_SELECT_UIDLS, uidls);
  pb_fetch_run_async (fetch, NULL, on_done, &wait);
  g_main_loop_run (loop);

  problems = pb_fake_server_wait (server);
  g_assert_cmpstr (problems, ==, NULL);
  *out_fetch = g_steal_pointer (&fetch);
  return wait.error;
}

/* Runs a fetch of the new messages against @server; returns the job's
 * error. */
static GError *
run_fetch (Fixture      *fixture,
           PbFakeServer *server,
           gboolean      delete_after,
           PbFetch     **out_fetch)
{
  return run_fetch_selecting (fixture, server, delete_after, NULL, out_fetch);
}

static PbFetchResult *
result_at (PbFetch *fetch,
           guint    index)
{
  GPtrArray *results = pb_fetch_get_results (fetch);

  g_assert_cmpuint (index, <, results->len);
  return g_ptr_array_index (results, index);
}

static void
assert_landed (PbFetch *fetch,
               guint    index,
               guint    message)
{
  PbFetchResult *result = result_at (fetch, index);
  g_autofree char *contents = NULL;

  g_assert_nonnull (result->path);
  g_assert_true (g_file_get_contents (result->path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, on_disk[message - 1]);
}

static guint
count_files (const char *dir)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  guint n = 0;

  g_assert_nonnull (listing);
  while (g_dir_read_name (listing) != NULL)
    n++;
  return n;
}

static gboolean
is_downloaded (Fixture    *fixture,
               const char *uidl)
{
  g_autoptr(PbState) saved = pb_state_new ("fake", NULL);
  PbMessageRecord *record;

  /* What is on disk, not what is in memory. */
  g_assert_true (pb_state_load (saved, NULL));
  record = pb_state_lookup (saved, uidl);
  return record != NULL && (record->flags & PB_MESSAGE_DOWNLOADED) != 0;
}

static void
test_retr_error_fails_one (Fixture       *fixture,
                           gconstpointer  data)
{
  g_autoptr(PbFakeServer) server = server_with_three ();
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;

  expect_retr (server, 1);
  pb_fake_server_expect (server, "RETR 2");
  pb_fake_server_send (server, "-ERR [SYS/TEMP] cannot read that one now");
  expect_retr (server, 3);
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");

  error = run_fetch (fixture, server, FALSE, &fetch);
  g_assert_no_error (error);

  assert_landed (fetch, 0, 1);
  g_assert_error (result_at (fetch, 1)->error, PB_POP3_ERROR, PB_POP3_ERROR_SYS_TEMP);
  g_assert_null (result_at (fetch, 1)->path);
  assert_landed (fetch, 2, 3);
  g_assert_cmpuint (count_files (fixture->new_dir), ==, 2);
  g_assert_cmpuint (count_files (fixture->tmp_dir), ==, 0);
  g_assert_true (is_downloaded (fixture, "uid-one"));
  g_assert_false (is_downloaded (fixture, "uid-two"));
  g_assert_true (is_downloaded (fixture, "uid-three"));
}

/* Dovecot lets two sessions share a mailbox: a phone that deletes a message
 * after this session listed it makes the RETR fail with "Message N
 * expunged.". The person reads what happened in plain words, and the
 * server's words stay at the end; an unrelated -ERR keeps its own words. */
static void
test_expunged_by_another_client (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autoptr(PbFakeServer) server = server_with_three ();
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;
  const GError *expunged, *other;

  expect_retr (server, 1);
  pb_fake_server_expect (server, "RETR 2");
  pb_fake_server_send (server, "-ERR Message 2 expunged.");
  pb_fake_server_expect (server, "RETR 3");
  pb_fake_server_send (server, "-ERR Cannot read the message file");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");

  error = run_fetch (fixture, server, FALSE, &fetch);
  g_assert_no_error (error);

  assert_landed (fetch, 0, 1);
  expunged = result_at (fetch, 1)->error;
  g_assert_error (expunged, PB_POP3_ERROR, PB_POP3_ERROR_SERVER);
  g_assert_cmpstr (pb_error_kind (expunged), ==, "server");
  g_assert_true (g_str_has_prefix (expunged->message,
                                   "Not downloaded: another mail program deleted this message "
                                   "from the server"));
  g_assert_nonnull (strstr (expunged->message, "nothing was saved for it"));
  g_assert_true (g_str_has_suffix (expunged->message, "(server said: Message 2 expunged.)"));
  g_assert_null (result_at (fetch, 1)->path);

  other = result_at (fetch, 2)->error;
  g_assert_error (other, PB_POP3_ERROR, PB_POP3_ERROR_SERVER);
  g_assert_cmpstr (other->message, ==,
                   "The server refused the RETR command (server said: Cannot read the message file)");

  g_assert_cmpuint (count_files (fixture->new_dir), ==, 1);
  g_assert_cmpuint (count_files (fixture->tmp_dir), ==, 0);
  g_assert_false (is_downloaded (fixture, "uid-two"));
}

static gboolean
cancel_now (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

/* Ctrl-C while the server has not said a word yet: the job's error says
 * that the download was cancelled, in its own words, not GIO's generic
 * "Operation was cancelled" (which GTask would put in its place). */
static void
test_cancelled_before_greeting (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(GSocketListener) silent = g_socket_listener_new ();
  g_autoptr(PbFetch) fetch = pb_fetch_new (fixture->account, fixture->state);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;
  Wait wait = { loop, NULL };

  pb_account_set_port (fixture->account, pb_test_listen_silently (silent));
  pb_fetch_set_password (fetch, "secret");
  pb_fetch_run_async (fetch, cancellable, on_done, &wait);
  g_idle_add (cancel_now, cancellable);
  g_main_loop_run (loop);

  error = wait.error;
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (error->message, ==, "The download was cancelled.");
  g_assert_cmpuint (pb_fetch_get_results (fetch)->len, ==, 0);
}

/* Cancels once part of a second message has been written: the first one
 * (25 octets on disk) is complete, the second is arriving. */
static void
cancel_in_second_message (PbFetch  *fetch,
                          guint     done,
                          guint     total,
                          guint64   bytes_done,
                          guint64   bytes_total,
                          gdouble   rate,
                          gpointer  user_data)
{
  if (bytes_done > strlen (on_disk[0]))
    g_cancellable_cancel (user_data);
}

/* Ctrl-C in the middle of a message, deleting asked: each message says
 * what the cancel left it as, in the same plain words whether its RETR
 * was under way or not sent yet, never GIO's "Operation was cancelled". */
static void
test_cancelled_mid_retr (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autoptr(PbFakeServer) server = server_with_three ();
  g_autoptr(PbFetch) fetch = pb_fetch_new (fixture->account, fixture->state);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *problems = NULL;
  static const char partial[] = "+OK\r\nSubject: two\r\n\r\nhalf of the bo";
  Wait wait = { loop, NULL };

  expect_retr (server, 1);
  pb_fake_server_expect (server, "RETR 2");
  pb_fake_server_send_raw (server, partial, strlen (partial));
  pb_fake_server_stall (server);

  pb_account_set_port (fixture->account, pb_fake_server_get_port (server));
  pb_fetch_set_password (fetch, "secret");
  pb_fetch_set_delete (fetch, TRUE);
  g_signal_connect (fetch, "progress", G_CALLBACK (cancel_in_second_message), cancellable);
  pb_fetch_run_async (fetch, cancellable, on_done, &wait);
  g_main_loop_run (loop);
  problems = pb_fake_server_wait (server);
  g_assert_cmpstr (problems, ==, NULL);

  g_assert_error (wait.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr (wait.error->message, ==, "The download was cancelled.");
  g_clear_error (&wait.error);

  assert_landed (fetch, 0, 1);
  g_assert_true (g_str_has_suffix (result_at (fetch, 0)->error->message,
                                   "but not deleted from the server: the download was cancelled"));
  for (guint i = 1; i < 3; i++)
    {
      g_assert_null (result_at (fetch, i)->path);
      g_assert_cmpstr (result_at (fetch, i)->error->message, ==,
                       "Not downloaded: the download was cancelled.");
    }
  g_assert_cmpuint (count_files (fixture->tmp_dir), ==, 0);
  g_assert_false (pb_fake_server_received_prefix (server, "DELE"));
}

static void
test_drop_mid_retr (Fixture       *fixture,
                    gconstpointer  data)
{
  g_autoptr(PbFakeServer) server = server_with_three ();
  g_autoptr(PbFakeServer) again = server_with_three ();
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(PbFetch) rest = NULL;
  g_autoptr(GError) error = NULL;
  static const char partial[] = "+OK\r\nSubject: two\r\n\r\nhalf of the bo";

  expect_retr (server, 1);
  pb_fake_server_expect (server, "RETR 2");
  pb_fake_server_send_raw (server, partial, strlen (partial));
  pb_fake_server_drop (server);

  error = run_fetch (fixture, server, TRUE, &fetch);
  g_assert_nonnull (error);
  g_assert_cmpstr (pb_error_kind (error), ==, "network");
  g_clear_error (&error);

  /* The complete one is kept and recorded; no trace of the partial one;
   * the one never reached says why. Nothing was deleted (no DELE sent),
   * so the complete one is not "done as asked" either: its error says
   * where it is and that it is still on the server. */
  assert_landed (fetch, 0, 1);
  g_assert_nonnull (result_at (fetch, 0)->error);
  g_assert_cmpstr (pb_error_kind (result_at (fetch, 0)->error), ==, "network");
  g_assert_nonnull (strstr (result_at (fetch, 0)->error->message, result_at (fetch, 0)->path));
  g_assert_nonnull (result_at (fetch, 1)->error);
  g_assert_nonnull (result_at (fetch, 2)->error);
  g_assert_cmpuint (count_files (fixture->new_dir), ==, 1);
  g_assert_cmpuint (count_files (fixture->tmp_dir), ==, 0);
  g_assert_true (is_downloaded (fixture, "uid-one"));
  g_assert_false (pb_fake_server_received_prefix (server, "DELE"));

  /* Next time: the other two are downloaded, and only them; all three
   * are deleted, the first one too, which the dropped run left behind. */
  expect_retr (again, 2);
  expect_retr (again, 3);
  pb_fake_server_expect (again, "DELE 2");
  pb_fake_server_send (again, "+OK");
  pb_fake_server_expect (again, "DELE 3");
  pb_fake_server_send (again, "+OK");
  pb_fake_server_expect (again, "DELE 1");
  pb_fake_server_send (again, "+OK");
  pb_fake_server_expect (again, "QUIT");
  pb_fake_server_send (again, "+OK bye");
  error = run_fetch (fixture, again, TRUE, &rest);
  g_assert_no_error (error);
  assert_landed (rest, 0, 2);
  assert_landed (rest, 1, 3);
  g_assert_true (result_at (rest, 2)->earlier);
  g_assert_cmpstr (result_at (rest, 2)->path, ==, result_at (fetch, 0)->path);
  g_assert_cmpuint (count_files (fixture->new_dir), ==, 3);
}

static void
test_stall_mid_retr (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(PbFakeServer) server = server_with_three ();
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;
  static const char partial[] = "+OK\r\nSubject: one\r\n\r\nand then noth";
  gint64 started;

  pb_fake_server_expect (server, "RETR 1");
  pb_fake_server_send_raw (server, partial, strlen (partial));
  pb_fake_server_stall (server);

  pb_account_set_timeout (fixture->account, 1);
  started = g_get_monotonic_time ();
  error = run_fetch (fixture, server, TRUE, &fetch);
  g_assert_nonnull (error);
  g_assert_cmpstr (pb_error_kind (error), ==, "timeout");
  /* Gave up after the timeout, not never. */
  g_assert_cmpint (g_get_monotonic_time () - started, <, 30 * G_USEC_PER_SEC);

  g_assert_cmpuint (pb_fetch_get_results (fetch)->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_nonnull (result_at (fetch, i)->error);
  g_assert_cmpuint (count_files (fixture->new_dir), ==, 0);
  g_assert_cmpuint (count_files (fixture->tmp_dir), ==, 0);
}

static void
test_quit_dropped_after_dele (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr(PbFakeServer) server = server_with_three ();
  g_autoptr(PbFakeServer) again = server_with_three ();
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(PbFetch) next = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 1; i <= 3; i++)
    expect_retr (server, i);
  for (guint i = 1; i <= 3; i++)
    {
      g_autofree char *dele = g_strdup_printf ("DELE %u", i);

      pb_fake_server_expect (server, dele);
      pb_fake_server_send (server, "+OK marked");
    }
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_drop (server);

  error = run_fetch (fixture, server, TRUE, &fetch);
  g_assert_no_error (error);

  /* On disk and recorded, but the deletions may not have happened: each
   * result says so. */
  for (guint i = 0; i < 3; i++)
    {
      PbFetchResult *result = result_at (fetch, i);

      assert_landed (fetch, i, i + 1);
      g_assert_nonnull (result->error);
      g_assert_nonnull (strstr (result->error->message, result->path));
    }
  g_assert_true (is_downloaded (fixture, "uid-two"));

  /* The server kept them (no QUIT, no deletion): the next fetch asked to
   * delete writes no second copy, and deletes them as was asked. */
  for (guint i = 1; i <= 3; i++)
    {
      g_autofree char *dele = g_strdup_printf ("DELE %u", i);

      pb_fake_server_expect (again, dele);
      pb_fake_server_send (again, "+OK marked");
    }
  pb_fake_server_expect (again, "QUIT");
  pb_fake_server_send (again, "+OK bye");
  error = run_fetch (fixture, again, TRUE, &next);
  g_assert_no_error (error);
  g_assert_false (pb_fake_server_received_prefix (again, "RETR"));
  g_assert_cmpuint (count_files (fixture->new_dir), ==, 3);
  g_assert_cmpuint (pb_fetch_get_results (next)->len, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      PbFetchResult *result = result_at (next, i);

      g_assert_true (result->earlier);
      g_assert_no_error (result->error);
      g_assert_cmpstr (result->path, ==, result_at (fetch, i)->path);
    }
}

/* Explicit UIDLs with a one-off delete are about those messages only: a
 * message an earlier run left on the server stays there. */
static void
test_uidls_delete_leaves_others (Fixture       *fixture,
                                 gconstpointer  data)
{
  g_autoptr(PbFakeServer) server = server_with_three ();
  g_autoptr(PbFakeServer) again = server_with_three ();
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(PbFetch) next = NULL;
  g_autoptr(GError) error = NULL;
  const char *uidls[] = { "uid-three", NULL };

  /* All three downloaded and kept (no delete asked). */
  expect_retr (server, 1);
  expect_retr (server, 2);
  expect_retr (server, 3);
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");
  error = run_fetch (fixture, server, FALSE, &fetch);
  g_assert_no_error (error);

  /* Named again: fetched again, and only it is deleted. */
  expect_retr (again, 3);
  pb_fake_server_expect (again, "DELE 3");
  pb_fake_server_send (again, "+OK marked");
  pb_fake_server_expect (again, "QUIT");
  pb_fake_server_send (again, "+OK bye");
  error = run_fetch_selecting (fixture, again, TRUE, uidls, &next);
  g_assert_no_error (error);
  g_assert_cmpuint (pb_fetch_get_results (next)->len, ==, 1);
  g_assert_false (result_at (next, 0)->earlier);
}

static void
test_dele_refused (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(PbFakeServer) server = server_with_three ();
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 1; i <= 3; i++)
    expect_retr (server, i);
  pb_fake_server_expect (server, "DELE 1");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "DELE 2");
  pb_fake_server_send (server, "-ERR [SYS/PERM] read-only mailbox");
  pb_fake_server_expect (server, "DELE 3");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");

  error = run_fetch (fixture, server, TRUE, &fetch);
  g_assert_no_error (error);

  g_assert_no_error (result_at (fetch, 0)->error);
  g_assert_error (result_at (fetch, 1)->error, PB_POP3_ERROR, PB_POP3_ERROR_SYS_PERM);
  g_assert_no_error (result_at (fetch, 2)->error);
  /* Refused to delete, but downloaded and recorded all the same. */
  assert_landed (fetch, 1, 2);
  g_assert_true (is_downloaded (fixture, "uid-two"));
}

/* A broken server giving two messages one UIDL: as in a check, the first
 * is the message of that UIDL, and the other is left alone: neither
 * downloaded under the first one's name nor deleted. */
static void
test_duplicate_uidl_first_wins (Fixture       *fixture,
                                gconstpointer  data)
{
  g_autoptr(PbFakeServer) server = server_listing ("1 uid-one\n2 uid-one\n3 uid-three",
                                                   "1 26\n2 40\n3 28");
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;

  expect_retr (server, 1);
  expect_retr (server, 3);
  pb_fake_server_expect (server, "DELE 1");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "DELE 3");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");

  error = run_fetch (fixture, server, TRUE, &fetch);
  g_assert_no_error (error);
  g_assert_cmpuint (pb_fetch_get_results (fetch)->len, ==, 2);
  assert_landed (fetch, 0, 1);
  assert_landed (fetch, 1, 3);
  g_assert_true (is_downloaded (fixture, "uid-one"));
}

static void
test_list_sizes_lie (Fixture       *fixture,
                     gconstpointer  data)
{
  /* Far too small, far too large (under the size cap: over it, the LIST
   * size is believed and the message skipped), zero. */
  g_autoptr(PbFakeServer) server = server_logged_in ("1 3\n2 90000000\n3 0");
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 1; i <= 3; i++)
    expect_retr (server, i);
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");

  error = run_fetch (fixture, server, FALSE, &fetch);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    {
      g_assert_no_error (result_at (fetch, i)->error);
      assert_landed (fetch, i, i + 1);
    }
}

static void
test_listed_over_the_cap_is_skipped (Fixture       *fixture,
                                     gconstpointer  data)
{
  g_autoptr(PbFakeServer) server = server_logged_in ("1 26\n2 5000000\n3 28");
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autofree char *problems = NULL;
  Wait wait = { loop, NULL };

  /* Message 2 is never asked for. */
  expect_retr (server, 1);
  expect_retr (server, 3);
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");

  fetch = pb_fetch_new (fixture->account, fixture->state);
  pb_account_set_port (fixture->account, pb_fake_server_get_port (server));
  pb_fetch_set_password (fetch, "secret");
  pb_fetch_set_max_message_size (fetch, 1024 * 1024);
  pb_fetch_run_async (fetch, NULL, on_done, &wait);
  g_main_loop_run (loop);
  problems = pb_fake_server_wait (server);
  g_assert_cmpstr (problems, ==, NULL);
  g_assert_no_error (wait.error);

  g_assert_cmpstr (result_at (fetch, 1)->uidl, ==, "uid-two");
  g_assert_error (result_at (fetch, 1)->error, PB_POP3_ERROR, PB_POP3_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (result_at (fetch, 1)->error->message, "limit"));
  assert_landed (fetch, 0, 1);
  assert_landed (fetch, 2, 3);
}

/* This fetch's state was loaded before another fetch downloaded every
 * message and let go of the account's lock: nothing is downloaded twice. */
static void
test_state_loaded_before_another_fetch (Fixture       *fixture,
                                        gconstpointer  data)
{
  g_autoptr(PbFakeServer) server = server_with_three ();
  g_autoptr(PbState) other = pb_state_new ("fake", NULL);
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;
  const char *uidls[] = { "uid-one", "uid-two", "uid-three" };

  g_assert_true (pb_state_load (other, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (uidls); i++)
    pb_state_ensure (other, uidls[i])->flags = PB_MESSAGE_DOWNLOADED;
  g_assert_true (pb_state_save (other, NULL));

  /* No RETR. */
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");

  error = run_fetch (fixture, server, FALSE, &fetch);
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (uidls); i++)
    g_assert_true (is_downloaded (fixture, uidls[i]));
}

/* A server without UIDL (CAPA lists TOP, not UIDL), three messages, the
 * last two identical in headers and size, greeted and logged in. */
static PbFakeServer *
server_without_uidl (void)
{
  PbFakeServer *server = pb_fake_server_new ();

  pb_fake_server_send (server, "+OK fake ready");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nTOP\n.");
  pb_fake_server_expect (server, "USER alice");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "PASS secret");
  pb_fake_server_send (server, "+OK logged in");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nTOP\n.");
  return server;
}

static const char * const headers_without_uidl[] = {
  "From: Ann <ann@example.org>\nSubject: one\nMessage-ID: <1@x>",
  "From: cron@example.org\nSubject: backup done",
  "From: cron@example.org\nSubject: backup done",
};

static void
expect_tops (PbFakeServer *server,
             gboolean      refuse_second)
{
  for (guint i = 0; i < G_N_ELEMENTS (headers_without_uidl); i++)
    {
      g_autofree char *command = g_strdup_printf ("TOP %u 0", i + 1);
      g_autofree char *reply = g_strdup_printf ("+OK\n%s\n\n.", headers_without_uidl[i]);

      pb_fake_server_expect (server, command);
      pb_fake_server_send (server, refuse_second && i == 1 ? "-ERR not now" : reply);
    }
}

static void
expect_retr_of (PbFakeServer *server,
                guint         number)
{
  g_autofree char *command = g_strdup_printf ("RETR %u", number);
  g_autofree char *reply = g_strdup_printf ("+OK\r\n%s\r\n\r\nbody %u\r\n.\r\n",
                                            headers_without_uidl[number - 1], number);

  pb_fake_server_expect (server, command);
  pb_fake_server_send_raw (server, reply, strlen (reply));
}

static void
on_checked (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  *(PbCheckResult **) user_data = pb_check_run_finish (result);
}

/* Issue 3's fallback identity, in fetch: a check names the messages of a
 * server without UIDL from their headers; a fetch of everything new then
 * downloads exactly those three, records them under the same names (no
 * new records), and the two identical messages are both fetched. */
static void
test_no_uidl_same_identity_as_check (Fixture       *fixture,
                                     gconstpointer  data)
{
  g_autoptr(PbFakeServer) check_server = server_without_uidl ();
  g_autoptr(PbFakeServer) fetch_server = server_without_uidl ();
  g_autoptr(PbCheckResult) checked = NULL;
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *problems = NULL;

  pb_fake_server_expect (check_server, "STAT");
  pb_fake_server_send (check_server, "+OK 3 300");
  pb_fake_server_expect (check_server, "UIDL");
  pb_fake_server_send (check_server, "-ERR unknown command");
  pb_fake_server_expect (check_server, "LIST");
  pb_fake_server_send (check_server, "+OK\n1 100\n2 200\n3 200\n.");
  expect_tops (check_server, FALSE);
  pb_fake_server_expect (check_server, "QUIT");
  pb_fake_server_send (check_server, "+OK bye");
  pb_account_set_port (fixture->account, pb_fake_server_get_port (check_server));
  pb_check_run_async (fixture->account, fixture->state, "secret", PB_CHECK_DEFAULT_MAX_TOPS, PB_CHECK_FLAGS_NONE,
                      NULL, on_checked, &checked);
  while (checked == NULL)
    g_main_context_iteration (NULL, TRUE);
  problems = pb_fake_server_wait (check_server);
  g_assert_cmpstr (problems, ==, NULL);
  g_assert_true (pb_check_result_get_ok (checked));
  g_assert_cmpuint (pb_state_get_count (fixture->state), ==, 3);

  pb_fake_server_expect (fetch_server, "UIDL");
  pb_fake_server_send (fetch_server, "-ERR unknown command");
  pb_fake_server_expect (fetch_server, "LIST");
  pb_fake_server_send (fetch_server, "+OK\n1 100\n2 200\n3 200\n.");
  expect_tops (fetch_server, FALSE);
  for (guint number = 1; number <= 3; number++)
    expect_retr_of (fetch_server, number);
  pb_fake_server_expect (fetch_server, "QUIT");
  pb_fake_server_send (fetch_server, "+OK bye");

  error = run_fetch (fixture, fetch_server, FALSE, &fetch);
  g_assert_no_error (error);
  g_assert_cmpuint (pb_fetch_get_results (fetch)->len, ==, 3);
  g_assert_cmpuint (count_files (fixture->new_dir), ==, 3);

  /* The state the check wrote: the same three records, now downloaded. */
  g_assert_cmpuint (pb_state_get_count (fixture->state), ==, 3);
  records = pb_state_list (fixture->state);
  for (guint i = 0; i < records->len; i++)
    {
      PbMessageRecord *record = g_ptr_array_index (records, i);

      g_assert_cmpuint (strlen (record->uidl), >=, 64);
      g_assert_true (is_downloaded (fixture, record->uidl));
    }
}

/* A server without UIDL whose mail was fetched (the state names the
 * messages by their headers) now answers UIDL, and the next fetch comes
 * before any check carried the records over: it names the messages by
 * their headers too and downloads none of them a second time. */
static void
test_no_uidl_then_uidl_fetches_nothing_twice (Fixture       *fixture,
                                              gconstpointer  data)
{
  g_autoptr(PbFakeServer) first_server = server_without_uidl ();
  g_autoptr(PbFakeServer) server = pb_fake_server_new ();
  g_autoptr(PbFetch) first = NULL;
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;

  pb_fake_server_expect (first_server, "UIDL");
  pb_fake_server_send (first_server, "-ERR unknown command");
  pb_fake_server_expect (first_server, "LIST");
  pb_fake_server_send (first_server, "+OK\n1 100\n2 200\n3 200\n.");
  expect_tops (first_server, FALSE);
  for (guint number = 1; number <= 3; number++)
    expect_retr_of (first_server, number);
  pb_fake_server_expect (first_server, "QUIT");
  pb_fake_server_send (first_server, "+OK bye");
  error = run_fetch (fixture, first_server, FALSE, &first);
  g_assert_no_error (error);
  g_assert_cmpuint (count_files (fixture->new_dir), ==, 3);

  pb_fake_server_send (server, "+OK fake ready");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nUIDL\nTOP\n.");
  pb_fake_server_expect (server, "USER alice");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "PASS secret");
  pb_fake_server_send (server, "+OK logged in");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nUIDL\nTOP\n.");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "+OK\n1 uid-one\n2 uid-two\n3 uid-three\n.");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "+OK\n1 100\n2 200\n3 200\n.");
  expect_tops (server, FALSE);
  /* No RETR: all three are on disk already. */
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");

  error = run_fetch (fixture, server, FALSE, &fetch);
  g_assert_no_error (error);
  g_assert_cmpuint (pb_fetch_get_results (fetch)->len, ==, 0);
  g_assert_cmpuint (count_files (fixture->new_dir), ==, 3);
}

/* The other way round: the state knows the messages by UIDL and the
 * server refuses UIDL today. Names from headers would match no record,
 * so the fetch stops before downloading anything, and says why. */
static void
test_uidl_refused_after_uidls (Fixture       *fixture,
                               gconstpointer  data)
{
  g_autoptr(PbFakeServer) first_server = server_with_three ();
  g_autoptr(PbFakeServer) server = server_without_uidl ();
  g_autoptr(PbFetch) first = NULL;
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;

  for (guint number = 1; number <= 3; number++)
    expect_retr (first_server, number);
  pb_fake_server_expect (first_server, "QUIT");
  pb_fake_server_send (first_server, "+OK bye");
  error = run_fetch (fixture, first_server, FALSE, &first);
  g_assert_no_error (error);
  g_assert_cmpuint (count_files (fixture->new_dir), ==, 3);

  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "-ERR unknown command");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "+OK\n1 26\n2 40\n3 28\n.");

  error = run_fetch (fixture, server, FALSE, &fetch);
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_SERVER);
  g_assert_nonnull (strstr (error->message, "did not answer UIDL, but it did before"));
  g_assert_cmpuint (count_files (fixture->new_dir), ==, 3);
}

/* Without UIDL, a message whose headers the server refuses has no stable
 * name: it is not fetched (it would be fetched again once it has one) and
 * says why; the others are. */
static void
test_no_uidl_refused_headers (Fixture       *fixture,
                              gconstpointer  data)
{
  g_autoptr(PbFakeServer) server = server_without_uidl ();
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *results;
  guint failed = 0;

  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "-ERR unknown command");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "+OK\n1 100\n2 200\n3 200\n.");
  expect_tops (server, TRUE);
  expect_retr_of (server, 1);
  expect_retr_of (server, 3);
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");

  error = run_fetch (fixture, server, FALSE, &fetch);
  g_assert_no_error (error);
  results = pb_fetch_get_results (fetch);
  g_assert_cmpuint (results->len, ==, 3);
  for (guint i = 0; i < results->len; i++)
    {
      PbFetchResult *result = g_ptr_array_index (results, i);

      if (result->error != NULL)
        {
          failed++;
          g_assert_nonnull (strstr (result->error->message, "message 2"));
          g_assert_null (result->path);
        }
    }
  g_assert_cmpuint (failed, ==, 1);
  g_assert_cmpuint (count_files (fixture->new_dir), ==, 2);
}

/* Neither UIDL nor TOP: nothing can be told apart, so nothing is fetched
 * and the error says so. */
static void
test_no_uidl_no_top (Fixture       *fixture,
                     gconstpointer  data)
{
  g_autoptr(PbFakeServer) server = pb_fake_server_new ();
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GError) error = NULL;

  pb_fake_server_send (server, "+OK fake ready");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\n.");
  pb_fake_server_expect (server, "USER alice");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "PASS secret");
  pb_fake_server_send (server, "+OK logged in");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\n.");
  /* Both are tried (servers leave them out of CAPA and have them). */
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "-ERR unknown command");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "+OK\n1 100\n.");
  pb_fake_server_expect (server, "TOP 1 0");
  pb_fake_server_send (server, "-ERR unknown command");

  error = run_fetch (fixture, server, FALSE, &fetch);
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (error->message, "neither UIDL nor TOP"));
}

/* What a fetch killed between renaming message one into place and saving
 * the state leaves: the file in new/ and its journal line. Returns the
 * journal's path. */
static char *
leave_killed_fetch (Fixture *fixture)
{
  g_autofree char *file = g_build_filename (fixture->new_dir, "1.M1P1Q1.host,S=26", NULL);
  g_autofree char *escaped = g_strescape (file, NULL);
  g_autofree char *line = g_strdup_printf ("uid-one\t%zu\t%s\n", strlen (on_disk[0]), escaped);
  char *journal = g_strconcat (pb_state_get_path (fixture->state), ".journal", NULL);
  g_autofree char *dir = g_path_get_dirname (journal);

  g_assert_cmpint (g_mkdir_with_parents (fixture->new_dir, 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (file, on_disk[0], -1, NULL));
  g_assert_true (g_file_set_contents (journal, line, -1, NULL));
  return journal;
}

/* A check against a server listing uid-one and uid-two, which TOPs the
 * messages in @tops (the new ones, newest first). */
static PbCheckResult *
check_two (Fixture    *fixture,
           const char *tops)
{
  g_autoptr(PbFakeServer) server = pb_fake_server_new ();
  g_auto(GStrv) numbers = g_strsplit (tops, " ", -1);
  g_autofree char *problems = NULL;
  PbCheckResult *checked = NULL;

  pb_fake_server_send (server, "+OK fake ready");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nUIDL\nTOP\n.");
  pb_fake_server_expect (server, "USER alice");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "PASS secret");
  pb_fake_server_send (server, "+OK logged in");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nUIDL\nTOP\n.");
  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, "+OK 2 66");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "+OK\n1 uid-one\n2 uid-two\n.");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "+OK\n1 26\n2 40\n.");
  for (guint i = 0; numbers[i] != NULL; i++)
    {
      g_autofree char *command = g_strdup_printf ("TOP %s 0", numbers[i]);

      pb_fake_server_expect (server, command);
      pb_fake_server_send (server, "+OK\nSubject: something\n.");
    }
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");

  pb_account_set_port (fixture->account, pb_fake_server_get_port (server));
  pb_check_run_async (fixture->account, fixture->state, "secret", PB_CHECK_DEFAULT_MAX_TOPS, PB_CHECK_FLAGS_NONE,
                      NULL, on_checked, &checked);
  while (checked == NULL)
    g_main_context_iteration (NULL, TRUE);
  problems = pb_fake_server_wait (server);
  g_assert_cmpstr (problems, ==, NULL);
  g_assert_true (pb_check_result_get_ok (checked));
  return checked;
}

/* A check after a killed fetch applies its journal, as the next fetch
 * would: the message already in the folder is not new, and the journal is
 * gone. */
static void
test_check_applies_leftover_journal (Fixture       *fixture,
                                     gconstpointer  data)
{
  g_autofree char *journal = leave_killed_fetch (fixture);
  g_autoptr(PbCheckResult) checked = check_two (fixture, "2");

  g_assert_cmpuint (pb_check_result_get_new_count (checked), ==, 1);
  g_assert_true (is_downloaded (fixture, "uid-one"));
  g_assert_false (is_downloaded (fixture, "uid-two"));
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));
}

/* ... but not while a fetch of the account is running (it holds the
 * account's lock and still writes that journal): the journal stays. */
static void
test_check_leaves_running_fetchs_journal (Fixture       *fixture,
                                          gconstpointer  data)
{
  g_autofree char *journal = leave_killed_fetch (fixture);
  g_autofree char *lock_path = g_strconcat (pb_state_get_path (fixture->state), ".lock", NULL);
  int lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  g_autoptr(PbCheckResult) checked = NULL;

  g_assert_cmpint (lock_fd, >=, 0);
  g_assert_cmpint (flock (lock_fd, LOCK_EX | LOCK_NB), ==, 0);

  checked = check_two (fixture, "2 1");
  g_assert_cmpuint (pb_check_result_get_new_count (checked), ==, 2);
  g_assert_false (is_downloaded (fixture, "uid-one"));
  g_assert_true (g_file_test (journal, G_FILE_TEST_EXISTS));
  close (lock_fd);
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/fetch/faults/retr-error-fails-one", test_retr_error_fails_one);
  ADD ("/fetch/faults/expunged-by-another-client", test_expunged_by_another_client);
  ADD ("/fetch/faults/cancelled-before-greeting", test_cancelled_before_greeting);
  ADD ("/fetch/faults/cancelled-mid-retr", test_cancelled_mid_retr);
  ADD ("/fetch/faults/drop-mid-retr", test_drop_mid_retr);
  ADD ("/fetch/faults/stall-mid-retr", test_stall_mid_retr);
  ADD ("/fetch/faults/quit-dropped-after-dele", test_quit_dropped_after_dele);
  ADD ("/fetch/faults/dele-refused", test_dele_refused);
  ADD ("/fetch/faults/uidls-delete-leaves-others", test_uidls_delete_leaves_others);
  ADD ("/fetch/faults/list-sizes-lie", test_list_sizes_lie);
  ADD ("/fetch/faults/duplicate-uidl-first-wins", test_duplicate_uidl_first_wins);
  ADD ("/fetch/faults/listed-over-the-cap-is-skipped", test_listed_over_the_cap_is_skipped);
  ADD ("/fetch/faults/state-loaded-before-another-fetch", test_state_loaded_before_another_fetch);
  ADD ("/fetch/faults/no-uidl/same-identity-as-check", test_no_uidl_same_identity_as_check);
  ADD ("/fetch/faults/no-uidl/refused-headers", test_no_uidl_refused_headers);
  ADD ("/fetch/faults/no-uidl/then-uidl-fetches-nothing-twice", test_no_uidl_then_uidl_fetches_nothing_twice);
  ADD ("/fetch/faults/no-uidl/refused-after-uidls", test_uidl_refused_after_uidls);
  ADD ("/fetch/faults/no-uidl/no-top", test_no_uidl_no_top);
  ADD ("/fetch/faults/check-applies-leftover-journal", test_check_applies_leftover_journal);
  ADD ("/fetch/faults/check-leaves-running-fetchs-journal", test_check_leaves_running_fetchs_journal);

  return g_test_run ();
}

/* The scheduler with the real check job against a scripted server
 * (tests/lib/pb-fake-server.h): what it does after a check, as the applet
 * runs it. Here: a check that leaves new messages without headers is
 * followed by another at once, except on a server that asks for a delay
 * between logins (CAPA LOGIN-DELAY, RFC 2449 section 6.8), which would
 * refuse that second login. */
#include <gio/gio.h>

#include "core/pb-check.h"
#include "core/pb-core-error.h"
#include "core/pb-scheduler.h"
#include "pb-fake-server.h"
#include "pb-test-util.h"

#define WAIT_SECONDS 60

typedef struct {
  PbScheduler *scheduler;
  guint        started;
  GPtrArray   *finished;  /* (element-type PbCheckResult) */
} Fixture;

/* The applet's check with a password from the test, not the keyring. */
static void
run_with_password (PbAccount           *account,
                   PbState             *state,
                   GCancellable        *cancellable,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  pb_check_run_async (account, state, "secret", PB_CHECK_DEFAULT_MAX_TOPS, PB_CHECK_FLAGS_NONE,
                      cancellable, callback, user_data);
}

static void
on_started (PbScheduler *scheduler, PbAccount *account, Fixture *f)
{
  f->started++;
}

static void
on_finished (PbScheduler *scheduler, PbAccount *account, PbCheckResult *result, Fixture *f)
{
  g_ptr_array_add (f->finished, g_object_ref (result));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->scheduler = pb_scheduler_new (FALSE);
  f->finished = g_ptr_array_new_with_free_func (g_object_unref);
  pb_scheduler_set_runner (f->scheduler, run_with_password, pb_check_run_finish);
  g_signal_connect (f->scheduler, "check-started", G_CALLBACK (on_started), f);
  g_signal_connect (f->scheduler, "check-finished", G_CALLBACK (on_finished), f);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  pb_scheduler_stop (f->scheduler);
  g_clear_object (&f->scheduler);
  g_ptr_array_unref (f->finished);
}

static gboolean
on_wait_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop until @n checks have finished. */
static void
wait_finished (Fixture *f,
               guint    n)
{
  gboolean timed_out = FALSE;
  guint timeout = g_timeout_add_seconds (WAIT_SECONDS, on_wait_timeout, &timed_out);

  while (f->finished->len < n && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (timeout);
}

/* Whatever is due now (a check asked for "at once" is a 0 ms timer). */
static void
drain (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* One session: two new messages, and the headers of the newer one cannot
 * be had (TOP fails), so the check ends with one message without them. */
static PbFakeServer *
server_with_headers_missing (const char *capa)
{
  PbFakeServer *server = pb_fake_server_new ();
  g_autofree char *capa_reply = g_strdup_printf ("+OK\n%s\n.", capa);

  pb_fake_server_send (server, "+OK POP3 ready");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, capa_reply);
  pb_fake_server_expect (server, "USER alice");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "PASS secret");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, capa_reply);
  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, "+OK 2 300");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "+OK\n1 a\n2 b\n.");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "+OK\n1 100\n2 200\n.");
  pb_fake_server_expect (server, "TOP 2 0");
  pb_fake_server_send (server, "-ERR busy, try later");
  pb_fake_server_expect (server, "TOP 1 0");
  pb_fake_server_send (server, "+OK\nSubject: fine\n.");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");
  return server;
}

static void
schedule_account (Fixture      *f,
                  PbFakeServer *server)
{
  g_autoptr(PbAccount) account = pb_account_new ("fake");

  pb_account_set_host (account, "127.0.0.1");
  pb_account_set_port (account, pb_fake_server_get_port (server));
  pb_account_set_security (account, PB_POP3_SECURITY_NONE);
  pb_account_set_auth (account, PB_POP3_AUTH_USER);
  pb_account_set_user (account, "alice");
  pb_account_set_timeout (account, 30);
  pb_scheduler_add_account (f->scheduler, account);
  pb_scheduler_start (f->scheduler);
}

/* Without LOGIN-DELAY the headers left out are fetched by a second check
 * right away (here the server closes that second connection at once). */
static void
test_headers_filled_in_at_once (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server = server_with_headers_missing ("USER\nUIDL\nTOP");
  g_autofree char *problems = NULL;
  PbCheckResult *first;

  schedule_account (f, server);
  wait_finished (f, 1);
  problems = pb_fake_server_wait (server);
  g_assert_cmpstr (problems, ==, NULL);
  first = g_ptr_array_index (f->finished, 0);
  g_assert_true (pb_check_result_get_ok (first));
  g_assert_cmpuint (pb_check_result_get_unsummarized (first), ==, 1);
  g_assert_cmpint (pb_check_result_get_login_delay (first), <=, 0);

  wait_finished (f, 2);
  g_assert_cmpuint (f->started, ==, 2);
  g_assert_cmpuint (pb_fake_server_get_connections (server), ==, 2);
}

/* With CAPA LOGIN-DELAY 900 the next login would be refused: no second
 * check, the next one is planned no sooner than the server asked. */
static void
test_login_delay_no_fill_in (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server = server_with_headers_missing ("USER\nUIDL\nTOP\nLOGIN-DELAY 900");
  g_autofree char *problems = NULL;
  PbCheckResult *first;

  schedule_account (f, server);
  wait_finished (f, 1);
  problems = pb_fake_server_wait (server);
  g_assert_cmpstr (problems, ==, NULL);
  first = g_ptr_array_index (f->finished, 0);
  g_assert_true (pb_check_result_get_ok (first));
  g_assert_cmpuint (pb_check_result_get_unsummarized (first), ==, 1);
  g_assert_cmpint (pb_check_result_get_login_delay (first), ==, 900);

  drain ();
  g_assert_cmpuint (f->started, ==, 1);
  g_assert_false (pb_scheduler_is_checking (f->scheduler, "fake"));
  /* The interval is 10 minutes; the server's delay of 15 wins. */
  g_assert_cmpint (pb_scheduler_get_next_check (f->scheduler, "fake"), >=, 899);
  g_assert_cmpuint (pb_fake_server_get_connections (server), ==, 1);
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add ("/scheduler/fake/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("headers-filled-in-at-once", test_headers_filled_in_at_once);
  ADD ("login-delay-no-fill-in", test_login_delay_no_fill_in);
#undef ADD

  return g_test_run ();
}

/* The check job against a scripted server (tests/lib/pb-fake-server.h), for
 * what a real server will not do on demand: a locked mailbox, a login
 * delay, a temporary failure, no UIDL at all, UIDLs that are hostile. */
#include <string.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "core/pb-check.h"
#include "core/pb-core-error.h"
#include "pb-fake-server.h"
#include "pb-test-util.h"

typedef struct {
  PbState *state;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->state = pb_state_new ("fake", NULL);
  g_assert_true (pb_state_load (f->state, &error));
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->state);
}

/* Greeting, CAPA (@capa), USER/PASS answered with @pass_reply, and when
 * that is +OK, CAPA again (RFC 2449 section 5), answered with @capa_after:
 * real servers list less after login. */
static PbFakeServer *
server_login_capa (const char *capa,
                   const char *capa_after,
                   const char *pass_reply)
{
  PbFakeServer *server = pb_fake_server_new ();
  g_autofree char *capa_reply = g_strdup_printf ("+OK\n%s\n.", capa);
  g_autofree char *capa_after_reply = g_strdup_printf ("+OK\n%s\n.", capa_after);

  pb_fake_server_send (server, "+OK POP3 ready");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, capa_reply);
  pb_fake_server_expect (server, "USER alice");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "PASS secret");
  pb_fake_server_send (server, pass_reply);
  if (g_str_has_prefix (pass_reply, "+OK"))
    {
      pb_fake_server_expect (server, "CAPA");
      pb_fake_server_send (server, capa_after_reply);
    }
  return server;
}

static PbFakeServer *
server_login (const char *capa,
              const char *pass_reply)
{
  return server_login_capa (capa, capa, pass_reply);
}

static void
server_quit (PbFakeServer *server)
{
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(PbCheckResult **) user_data = pb_check_run_finish (result);
}

/* Runs a check of @state on the account "fake" (USER/PASS, no TLS) at
 * 127.0.0.1:@port, to the end. */
static PbCheckResult *
run_check (guint         port,
           PbState      *state,
           PbCheckFlags  flags)
{
  g_autoptr(PbAccount) account = pb_account_new ("fake");
  PbCheckResult *result = NULL;

  pb_account_set_host (account, "127.0.0.1");
  pb_account_set_port (account, port);
  pb_account_set_security (account, PB_POP3_SECURITY_NONE);
  pb_account_set_auth (account, PB_POP3_AUTH_USER);
  pb_account_set_user (account, "alice");
  pb_account_set_timeout (account, 30);

  pb_check_run_async (account, state, "secret", PB_CHECK_DEFAULT_MAX_TOPS, flags, NULL,
                      on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return result;
}

/* Runs a check against @server and asserts the server saw exactly its
 * script. */
static PbCheckResult *
check_against (Fixture      *f,
               PbFakeServer *server)
{
  PbCheckResult *result = run_check (pb_fake_server_get_port (server), f->state,
                                     PB_CHECK_FLAGS_NONE);
  g_autofree char *problems = pb_fake_server_wait (server);

  g_assert_cmpstr (problems, ==, NULL);
  return result;
}

static const char *
kind_of (PbCheckResult *result)
{
  const GError *error = pb_check_result_get_error (result);

  g_assert_nonnull (error);
  return pb_error_kind (error);
}

static void
assert_state_untouched (Fixture *f)
{
  g_assert_true (pb_state_is_fresh (f->state));
  g_assert_cmpuint (pb_state_get_count (f->state), ==, 0);
  g_assert_false (g_file_test (pb_state_get_path (f->state), G_FILE_TEST_EXISTS));
}

static void
test_in_use (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server =
    server_login ("USER\nUIDL\nTOP\nRESP-CODES", "-ERR [IN-USE] Mailbox is locked by another session");
  g_autoptr(PbCheckResult) result = check_against (f, server);

  g_assert_false (pb_check_result_get_ok (result));
  g_assert_cmpstr (kind_of (result), ==, "locked");
  assert_state_untouched (f);
}

static void
test_login_delay (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server =
    server_login ("USER\nUIDL\nTOP\nRESP-CODES\nLOGIN-DELAY 900", "-ERR [LOGIN-DELAY] Too soon");
  g_autoptr(PbCheckResult) result = check_against (f, server);

  g_assert_cmpstr (kind_of (result), ==, "login-delay");
  /* The scheduler waits at least this long before the next try. */
  g_assert_cmpint (pb_check_result_get_retry_after (result), ==, 900);
  assert_state_untouched (f);
}

static void
test_login_delay_capability (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server =
    server_login ("USER\nUIDL\nTOP\nLOGIN-DELAY 1800", "+OK logged in");
  g_autoptr(PbCheckResult) result = NULL;

  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, "+OK 0 0");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "+OK\n.");
  server_quit (server);
  result = check_against (f, server);

  g_assert_true (pb_check_result_get_ok (result));
  g_assert_cmpint (pb_check_result_get_login_delay (result), ==, 1800);
  g_assert_cmpuint (pb_check_result_get_total (result), ==, 0);
}

static void
test_sys_temp (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server =
    server_login ("USER\nUIDL\nTOP\nRESP-CODES", "-ERR [SYS/TEMP] Storage is offline, try later");
  g_autoptr(PbCheckResult) result = check_against (f, server);

  g_assert_cmpstr (kind_of (result), ==, "server");
  g_assert_nonnull (strstr (pb_check_result_get_error (result)->message, "Storage is offline"));
  assert_state_untouched (f);
}

/* A server with TOP but no UIDL: LIST and every message's headers. */
static PbFakeServer *
server_without_uidl (guint n, const char * const *tops, const char *sizes)
{
  PbFakeServer *server = server_login ("USER\nTOP", "+OK");
  g_autofree char *stat = g_strdup_printf ("+OK %u 999", n);

  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, stat);
  /* Asked although CAPA does not list it: many servers that omit it have
   * it. This one does not. */
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "-ERR unknown command");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, sizes);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *command = g_strdup_printf ("TOP %u 0", i + 1);
      g_autofree char *reply = g_strdup_printf ("+OK\n%s\n.", tops[i]);

      pb_fake_server_expect (server, command);
      pb_fake_server_send (server, reply);
    }
  server_quit (server);
  return server;
}

static void
test_no_uidl_fallback_identity (Fixture *f, gconstpointer data)
{
  static const char * const three[] = {
    "From: Ann <ann@example.org>\nSubject: one\nMessage-ID: <1@x>\n",
    "From: cron@example.org\nSubject: backup done\n",   /* no Message-ID ... */
    "From: cron@example.org\nSubject: backup done\n",   /* ... twice, same size */
  };
  g_autoptr(PbFakeServer) first_server =
    server_without_uidl (3, three, "+OK\n1 100\n2 200\n3 200\n.");
  g_autoptr(PbCheckResult) first = check_against (f, first_server);
  g_autoptr(PbFakeServer) second_server = NULL;
  g_autoptr(PbCheckResult) second = NULL;
  g_autoptr(PbFakeServer) third_server = NULL;
  g_autoptr(PbCheckResult) third = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autofree char *first_uidl = NULL;
  GPtrArray *fresh;

  g_assert_true (pb_check_result_get_ok (first));
  g_assert_cmpuint (pb_check_result_get_total (first), ==, 3);
  g_assert_cmpuint (pb_check_result_get_new_count (first), ==, 3);
  fresh = pb_check_result_get_new_messages (first);
  g_assert_cmpstr (((PbMessageRecord *) fresh->pdata[2])->subject, ==, "one");
  g_assert_cmpuint (((PbMessageRecord *) fresh->pdata[2])->size, ==, 100);

  /* Identical messages still get an identity each. */
  records = pb_state_list (f->state);
  g_assert_cmpuint (records->len, ==, 3);
  g_assert_cmpuint (strlen (((PbMessageRecord *) records->pdata[0])->uidl), ==, 64);
  g_assert_cmpstr (((PbMessageRecord *) records->pdata[1])->uidl, !=,
                   ((PbMessageRecord *) records->pdata[2])->uidl);
  first_uidl = g_strdup (((PbMessageRecord *) records->pdata[0])->uidl);
  g_clear_pointer (&records, g_ptr_array_unref);

  /* The same mailbox again: the same identities, nothing announced. */
  second_server = server_without_uidl (3, three, "+OK\n1 100\n2 200\n3 200\n.");
  second = check_against (f, second_server);
  g_assert_cmpuint (pb_check_result_get_new_count (second), ==, 3);
  g_assert_cmpuint (pb_check_result_get_announced (second)->len, ==, 0);

  /* Message 1 deleted elsewhere: the others keep their identity. */
  third_server = server_without_uidl (2, three + 1, "+OK\n1 200\n2 200\n.");
  third = check_against (f, third_server);
  g_assert_cmpuint (pb_check_result_get_new_count (third), ==, 2);
  g_assert_cmpuint (pb_check_result_get_announced (third)->len, ==, 0);
  g_assert_cmpuint (pb_state_get_count (f->state), ==, 2);
  g_assert_null (pb_state_lookup (f->state, first_uidl));
}


/* Defect: a server that listed UIDL and TOP before login and not in its
 * CAPA after login (real servers do) failed every check, although it
 * answers both. The check asks, and counts by UIDL. */
static void
test_capa_after_login_omits_uidl_and_top (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server = server_login_capa ("USER\nUIDL\nTOP", "USER", "+OK");
  g_autoptr(PbCheckResult) result = NULL;

  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, "+OK 2 300");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "+OK\n1 a\n2 b\n.");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "+OK\n1 100\n2 200\n.");
  pb_fake_server_expect (server, "TOP 2 0");
  pb_fake_server_send (server, "+OK\nSubject: second\n.");
  pb_fake_server_expect (server, "TOP 1 0");
  pb_fake_server_send (server, "+OK\nSubject: first\n.");
  server_quit (server);
  result = check_against (f, server);

  g_assert_no_error ((GError *) pb_check_result_get_error (result));
  g_assert_true (pb_check_result_get_ok (result));
  g_assert_cmpuint (pb_check_result_get_total (result), ==, 2);
  g_assert_cmpuint (pb_check_result_get_new_count (result), ==, 2);
  g_assert_cmpstr (pb_state_lookup (f->state, "a")->subject, ==, "first");
  g_assert_cmpstr (pb_state_lookup (f->state, "b")->subject, ==, "second");
}

/* Nor does a server that never lists them (CAPA with neither) lose them
 * when it answers them. */
static void
test_capa_never_lists_uidl_and_top (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server = server_login ("USER\nPIPELINING", "+OK");
  g_autoptr(PbCheckResult) result = NULL;

  pb_fake_server_expect_lines (server, 2);
  pb_fake_server_send (server, "+OK 1 100\n+OK\n1 only-one\n.");
  pb_fake_server_expect_lines (server, 2);
  pb_fake_server_send (server, "+OK\n1 100\n.\n+OK\nSubject: hello\n.");
  server_quit (server);
  result = check_against (f, server);

  g_assert_true (pb_check_result_get_ok (result));
  g_assert_cmpuint (pb_check_result_get_new_count (result), ==, 1);
  g_assert_cmpstr (pb_state_lookup (f->state, "only-one")->subject, ==, "hello");
}

/* A server that lists UIDL in CAPA and answers it with a plain -ERR (it
 * was switched off, say) is taken at its word: the mailbox, new to the
 * state, is named by its headers. */
static void
test_listed_uidl_refused_falls_back (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server = server_login ("USER\nUIDL\nTOP", "+OK");
  g_autoptr(PbCheckResult) result = NULL;
  g_autoptr(GPtrArray) records = NULL;

  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, "+OK 1 100");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "-ERR UIDL is disabled");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "+OK\n1 100\n.");
  pb_fake_server_expect (server, "TOP 1 0");
  pb_fake_server_send (server, "+OK\nSubject: hello\n.");
  server_quit (server);
  result = check_against (f, server);

  g_assert_true (pb_check_result_get_ok (result));
  g_assert_cmpuint (pb_check_result_get_new_count (result), ==, 1);
  records = pb_state_list (f->state);
  g_assert_cmpuint (records->len, ==, 1);
  g_assert_cmpuint (strlen (((PbMessageRecord *) records->pdata[0])->uidl), ==, 64);
}

/* A -ERR to UIDL that says "later" ([SYS/TEMP]) is a failure: naming the
 * messages by their headers because of it would rename them. The state is
 * left as it was. */
static void
test_uidl_sys_temp_fails (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server = server_login ("USER\nUIDL\nTOP\nRESP-CODES", "+OK");
  g_autoptr(PbCheckResult) result = NULL;

  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, "+OK 1 100");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "-ERR [SYS/TEMP] index busy");
  result = check_against (f, server);

  g_assert_cmpstr (kind_of (result), ==, "server");
  g_assert_nonnull (strstr (pb_check_result_get_error (result)->message, "index busy"));
  g_assert_false (pb_fake_server_received_prefix (server, "TOP"));
  assert_state_untouched (f);
}

/* Seeds the state with records named by UIDL, as earlier checks left it. */
static void
seed_state (Fixture *f, const char *first, ...)
{
  g_autoptr(GError) error = NULL;
  va_list args;

  va_start (args, first);
  for (const char *uidl = first; uidl != NULL; uidl = va_arg (args, const char *))
    pb_state_ensure (f->state, uidl)->flags = PB_MESSAGE_NOTIFIED;
  va_end (args);
  pb_state_set_fresh (f->state, FALSE);
  g_assert_true (pb_state_save (f->state, &error));
  g_assert_no_error (error);
}

/* The state knows this mailbox by UIDL, and today the server refuses it
 * (whether its CAPA after login lists UIDL or not): the check fails and
 * says what to do, instead of renaming every message after its headers. */
static void
test_uidl_refused_after_counting_by_uidl (Fixture *f, gconstpointer data)
{
  const char *capa_after[] = { "USER\nTOP", "USER\nUIDL\nTOP" };

  seed_state (f, "a", "b", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (capa_after); i++)
    {
      g_autoptr(PbFakeServer) server = server_login_capa ("USER\nUIDL\nTOP", capa_after[i], "+OK");
      g_autoptr(PbCheckResult) result = NULL;

      pb_fake_server_expect (server, "STAT");
      pb_fake_server_send (server, "+OK 2 300");
      pb_fake_server_expect (server, "UIDL");
      pb_fake_server_send (server, "-ERR not today");
      result = check_against (f, server);

      g_assert_cmpstr (kind_of (result), ==, "server");
      g_assert_nonnull (strstr (pb_check_result_get_error (result)->message, "not today"));
      g_assert_nonnull (strstr (pb_check_result_get_error (result)->message, "answered UIDL before"));
      g_assert_false (pb_fake_server_received_prefix (server, "TOP"));
      g_assert_cmpuint (pb_state_get_count (f->state), ==, 2);
      g_assert_nonnull (pb_state_lookup (f->state, "a"));
    }
}

/* A server without UIDL that did not send one message's headers: that
 * message has no name today. A name made from empty headers would become
 * another once they come (announced twice, fetched twice), so the check
 * fails and the state stays as it was. */
static void
test_no_uidl_headers_refused (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server = server_login ("USER\nTOP", "+OK");
  g_autoptr(PbCheckResult) result = NULL;

  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, "+OK 2 300");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "-ERR unknown command");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "+OK\n1 100\n2 200\n.");
  pb_fake_server_expect (server, "TOP 1 0");
  pb_fake_server_send (server, "+OK\nSubject: one\n.");
  pb_fake_server_expect (server, "TOP 2 0");
  pb_fake_server_send (server, "-ERR message locked");
  result = check_against (f, server);

  g_assert_cmpstr (kind_of (result), ==, "server");
  g_assert_nonnull (strstr (pb_check_result_get_error (result)->message, "message 2"));
  assert_state_untouched (f);
}

/* A mailbox first counted without UIDL (named by headers) whose server
 * answers UIDL now (it had only left it out of CAPA): each record is
 * carried over to its UIDL with what the person did with it, so nothing
 * is announced or shown as new again. */
static void
test_headers_to_uidls (Fixture *f, gconstpointer data)
{
  static const char * const two[] = {
    "From: Ann <ann@example.org>\nSubject: one\nMessage-ID: <1@x>\n",
    "From: Bob <bob@example.org>\nSubject: two\nMessage-ID: <2@x>\n",
  };
  g_autoptr(PbFakeServer) first_server = server_without_uidl (2, two, "+OK\n1 100\n2 200\n.");
  g_autoptr(PbCheckResult) first = check_against (f, first_server);
  g_autoptr(PbFakeServer) server = NULL;
  g_autoptr(PbCheckResult) result = NULL;
  g_autoptr(GPtrArray) records = pb_state_list (f->state);
  PbMessageRecord *record;

  g_assert_true (pb_check_result_get_ok (first));
  g_assert_cmpuint (records->len, ==, 2);
  ((PbMessageRecord *) records->pdata[0])->flags |= PB_MESSAGE_DISMISSED;

  server = server_login ("USER\nTOP", "+OK");
  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, "+OK 3 600");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "+OK\n1 u-one\n2 u-two\n3 u-three\n.");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "+OK\n1 100\n2 200\n3 300\n.");
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *command = g_strdup_printf ("TOP %u 0", i + 1);
      g_autofree char *reply = g_strdup_printf ("+OK\n%s\n.", i < 2 ? two[i] : "Subject: three\n");

      pb_fake_server_expect (server, command);
      pb_fake_server_send (server, reply);
    }
  server_quit (server);
  result = check_against (f, server);

  g_assert_true (pb_check_result_get_ok (result));
  g_assert_cmpuint (pb_check_result_get_total (result), ==, 3);
  /* Two new: "two" (still new) and "three" (just arrived, announced). */
  g_assert_cmpuint (pb_check_result_get_new_count (result), ==, 2);
  g_assert_cmpuint (pb_check_result_get_announced (result)->len, ==, 1);
  g_assert_cmpuint (pb_state_get_count (f->state), ==, 3);
  record = pb_state_lookup (f->state, "u-one");
  g_assert_nonnull (record);
  g_assert_cmpint (record->flags & PB_MESSAGE_DISMISSED, !=, 0);
  g_assert_cmpstr (record->subject, ==, "one");
  record = pb_state_lookup (f->state, "u-two");
  g_assert_nonnull (record);
  g_assert_cmpint (record->flags & PB_MESSAGE_NOTIFIED, !=, 0);
  g_assert_cmpuint (record->size, ==, 200);
  g_assert_cmpstr (pb_state_lookup (f->state, "u-three")->subject, ==, "three");
}

static void
test_duplicate_and_odd_uidls (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server = server_login ("USER\nUIDL\nTOP", "+OK");
  g_autoptr(PbCheckResult) result = NULL;

  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, "+OK 3 600");
  pb_fake_server_expect (server, "UIDL");
  /* A UIDL listed twice, and one that looks like a path: allowed
   * characters, never used as a file name. */
  pb_fake_server_send (server, "+OK\n1 same\n2 same\n3 ../../etc/passwd\n.");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "+OK\n1 100\n2 200\n3 300\n.");
  /* Newest first; the duplicate is not fetched. */
  pb_fake_server_expect (server, "TOP 3 0");
  pb_fake_server_send (server, "+OK\nSubject: path\n.");
  pb_fake_server_expect (server, "TOP 1 0");
  pb_fake_server_send (server, "+OK\nSubject: first of the twins\n.");
  server_quit (server);
  result = check_against (f, server);

  g_assert_true (pb_check_result_get_ok (result));
  /* Two messages can be listed and fetched, so two is the total (STAT's
   * three would leave the person looking for a third). */
  g_assert_cmpuint (pb_check_result_get_total (result), ==, 2);
  g_assert_cmpuint (pb_check_result_get_size (result), ==, 400);
  g_assert_cmpuint (pb_check_result_get_new_count (result), ==, 2);
  g_assert_cmpuint (pb_state_get_count (f->state), ==, 2);
  g_assert_cmpstr (pb_state_lookup (f->state, "same")->subject, ==, "first of the twins");
  g_assert_cmpuint (pb_state_lookup (f->state, "same")->size, ==, 100);
  g_assert_cmpstr (pb_state_lookup (f->state, "../../etc/passwd")->subject, ==, "path");
}

/* Defect: the total came from STAT even when the UIDL listing named other
 * messages (a broken server, or one that counts what it hides). The
 * listing is what the person sees in `list` and can fetch, so the total
 * and the size are the listing's, from LIST, even with nothing new. */
static void
test_stat_disagrees_with_listing (Fixture *f, gconstpointer data)
{
  static const struct {
    const char *stat;
    const char *uidl;
    const char *list;
    guint       total;
    guint64     size;
  } cases[] = {
    /* STAT counts five, two are listed. */
    { "+OK 5 999", "+OK\n1 a\n2 b\n.", "+OK\n1 100\n2 200\n.", 2, 300 },
    /* STAT counts one, three are listed. */
    { "+OK 1 100", "+OK\n1 a\n2 b\n3 c\n.", "+OK\n1 100\n2 200\n3 50\n.", 3, 350 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PbFakeServer) server = server_login ("USER\nUIDL\nTOP", "+OK");
      g_autoptr(PbCheckResult) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(PbState) state = pb_state_new ("fake", NULL);
      const char *known[] = { "a", "b", "c" };

      /* Every message known and summarized: nothing needs a TOP. */
      for (guint j = 0; j < cases[i].total; j++)
        {
          PbMessageRecord *record = pb_state_ensure (state, known[j]);

          record->flags = PB_MESSAGE_NOTIFIED;
          pb_state_set_summary (state, record, NULL, NULL, "known", 0);
        }
      pb_state_set_fresh (state, FALSE);

      pb_fake_server_expect (server, "STAT");
      pb_fake_server_send (server, cases[i].stat);
      pb_fake_server_expect (server, "UIDL");
      pb_fake_server_send (server, cases[i].uidl);
      pb_fake_server_expect (server, "LIST");
      pb_fake_server_send (server, cases[i].list);
      server_quit (server);
      result = run_check (pb_fake_server_get_port (server), state, PB_CHECK_FLAGS_NONE);
      g_assert_cmpstr (pb_fake_server_wait (server), ==, NULL);

      g_assert_true (pb_check_result_get_ok (result));
      g_assert_cmpuint (pb_check_result_get_total (result), ==, cases[i].total);
      g_assert_cmpuint (pb_check_result_get_size (result), ==, cases[i].size);
      g_assert_cmpuint (pb_check_result_get_total (result), ==, pb_state_get_count (state));
      g_assert_cmpuint (pb_check_result_get_new_count (result), ==, cases[i].total);
    }
}

static void
test_hostile_uidl_fails_cleanly (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server = server_login ("USER\nUIDL\nTOP", "+OK");
  g_autoptr(PbCheckResult) result = NULL;
  const char hostile[] = "+OK\r\n1 ok-one\r\n2 evil\x1b[2J\r\n.\r\n";

  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, "+OK 2 300");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send_raw (server, hostile, strlen (hostile));
  result = check_against (f, server);

  /* An escape sequence in a UIDL breaks the protocol: the check fails and
   * the state learns nothing from that listing. */
  g_assert_cmpstr (kind_of (result), ==, "protocol");
  assert_state_untouched (f);
}

/* Defect: a UIDL with a byte above 0x7E was "invalid", and a server with
 * UTF-8 UIDLs could not be checked at all. UTF-8 is taken as is; a byte
 * that is not UTF-8 (Latin-1) is escaped without loss (U+FFFD and its
 * hex digits), so the two "café" below stay two messages. The keys
 * survive the state file, print as they are in `list --json`, and
 * `dismiss` takes them back. */
static void
test_eight_bit_uidls (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server = server_login ("USER\nUIDL\nTOP", "+OK");
  g_autoptr(PbCheckResult) result = NULL;
  g_autoptr(PbState) reloaded = pb_state_new ("fake", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(PbTestRun) add = { 0 };
  g_auto(PbTestRun) list = { 0 };
  g_auto(PbTestRun) dismiss = { 0 };
  const char listing[] = "+OK\r\n1 caf\xc3\xa9\r\n2 caf\xe9\r\n3 \xe2\x9c\x89-\xf0\x9f\x93\xac\r\n.\r\n";
  const char *utf8 = "caf\xc3\xa9";
  const char *latin1 = "caf\xef\xbf\xbd" "E9";
  const char *emoji = "\xe2\x9c\x89-\xf0\x9f\x93\xac";
  g_autofree char *port = NULL;
  JsonArray *array;

  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, "+OK 3 600");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send_raw (server, listing, strlen (listing));
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "+OK\n1 100\n2 200\n3 300\n.");
  pb_fake_server_expect (server, "TOP 3 0");
  pb_fake_server_send (server, "+OK\nSubject: three\n.");
  pb_fake_server_expect (server, "TOP 2 0");
  pb_fake_server_send (server, "+OK\nSubject: two\n.");
  pb_fake_server_expect (server, "TOP 1 0");
  pb_fake_server_send (server, "+OK\nSubject: one\n.");
  server_quit (server);
  result = check_against (f, server);

  g_assert_no_error ((GError *) pb_check_result_get_error (result));
  g_assert_cmpuint (pb_check_result_get_total (result), ==, 3);
  g_assert_cmpuint (pb_check_result_get_new_count (result), ==, 3);

  g_assert_true (pb_state_load (reloaded, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pb_state_get_count (reloaded), ==, 3);
  g_assert_cmpstr (pb_state_lookup (reloaded, utf8)->subject, ==, "one");
  g_assert_cmpstr (pb_state_lookup (reloaded, latin1)->subject, ==, "two");
  g_assert_cmpstr (pb_state_lookup (reloaded, emoji)->subject, ==, "three");

  /* `list` checks first; with no password and nobody listening that
   * fails (status 1), and it prints what the state holds. */
  port = g_strdup_printf ("%u", pb_test_closed_port ());
  pb_test_run_popbiff (&add, NULL, "accounts", "add", "fake", "--host", "127.0.0.1",
                       "--port", port, "--user", "alice", "--security", "none", NULL);
  g_assert_cmpint (add.status, ==, 0);
  pb_test_run_popbiff (&list, NULL, "list", "fake", "--json", NULL);
  g_assert_cmpint (list.status, ==, 1);
  g_assert_true (json_parser_load_from_data (parser, list.out, -1, &error));
  g_assert_no_error (error);
  array = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (array), ==, 3);
  /* Newest first. */
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (array, 0), "uidl"),
                   ==, emoji);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (array, 1), "uidl"),
                   ==, latin1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (array, 2), "uidl"),
                   ==, utf8);

  pb_test_run_popbiff (&dismiss, NULL, "dismiss", "fake", latin1, utf8, NULL);
  g_assert_cmpint (dismiss.status, ==, 0);
  g_clear_object (&reloaded);
  reloaded = pb_state_new ("fake", NULL);
  g_assert_true (pb_state_load (reloaded, &error));
  g_assert_cmpuint (pb_state_count_new (reloaded), ==, 1);
  g_assert_true (pb_message_record_is_new (pb_state_lookup (reloaded, emoji)));

  /* A script under LC_ALL=C passes the UIDL's UTF-8 bytes as they are:
   * they are not converted from the locale's charset (which refused them
   * as "Invalid byte sequence"). */
  {
    const char * const args[] = { "dismiss", "fake", emoji, NULL };
    const char * const empty[] = { "fetch", "fake", "", NULL };
    g_auto(PbTestRun) in_c = { 0 };
    g_auto(PbTestRun) empty_run = { 0 };

    pb_test_run_popbiff_in_locale (&in_c, "C", NULL, args);
    g_assert_cmpint (in_c.status, ==, 0);
    g_clear_object (&reloaded);
    reloaded = pb_state_new ("fake", NULL);
    g_assert_true (pb_state_load (reloaded, &error));
    g_assert_cmpuint (pb_state_count_new (reloaded), ==, 0);

    /* An empty UIDL is a mistake on the command line, not a message. */
    pb_test_run_popbiffv (&empty_run, NULL, empty);
    g_assert_cmpint (empty_run.status, ==, 2);
    g_assert_nonnull (strstr (empty_run.err, "An empty UIDL names no message"));
  }
}

static void
test_top_failure_is_per_message (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server = server_login ("USER\nUIDL\nTOP\nRESP-CODES", "+OK");
  g_autoptr(PbCheckResult) result = NULL;

  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, "+OK 2 300");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "+OK\n1 a\n2 b\n.");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "+OK\n1 100\n2 200\n.");
  pb_fake_server_expect (server, "TOP 2 0");
  pb_fake_server_send (server, "-ERR no such message");
  pb_fake_server_expect (server, "TOP 1 0");
  pb_fake_server_send (server, "+OK\nSubject: fine\n.");
  server_quit (server);
  result = check_against (f, server);

  /* The message stays new, without headers; a later check tries again. */
  g_assert_true (pb_check_result_get_ok (result));
  g_assert_cmpuint (pb_check_result_get_new_count (result), ==, 2);
  g_assert_cmpuint (pb_check_result_get_unsummarized (result), ==, 1);
  g_assert_cmpstr (pb_state_lookup (f->state, "a")->subject, ==, "fine");
  g_assert_cmpint (pb_state_lookup (f->state, "b")->flags & PB_MESSAGE_SUMMARIZED, ==, 0);
}

/* A server that refuses LIST failed every check although LIST only gives
 * the sizes (UIDL names the messages, TOP gives the headers), while probe
 * said all was well. The sizes stay unknown and the check stands. */
static void
test_list_refused_leaves_sizes_unknown (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server = server_login ("USER\nUIDL\nTOP", "+OK");
  g_autoptr(PbCheckResult) result = NULL;

  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, "+OK 1 100");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "+OK\n1 a\n.");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "-ERR LIST not allowed");
  pb_fake_server_expect (server, "TOP 1 0");
  pb_fake_server_send (server, "+OK\nSubject: hello\n.");
  server_quit (server);
  result = check_against (f, server);

  g_assert_no_error ((GError *) pb_check_result_get_error (result));
  g_assert_cmpuint (pb_check_result_get_total (result), ==, 1);
  g_assert_cmpuint (pb_check_result_get_size (result), ==, 100);
  g_assert_cmpstr (pb_state_lookup (f->state, "a")->subject, ==, "hello");
  g_assert_cmpuint (pb_state_lookup (f->state, "a")->size, ==, 0);
  g_assert_true (g_file_test (pb_state_get_path (f->state), G_FILE_TEST_EXISTS));
}

static void
test_dropped_connection (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server = server_login ("USER\nUIDL\nTOP", "+OK");
  g_autoptr(PbCheckResult) result = NULL;

  pb_fake_server_expect (server, "STAT");
  pb_fake_server_drop (server);
  result = check_against (f, server);

  g_assert_cmpstr (kind_of (result), ==, "network");
  assert_state_untouched (f);
}

/* A check that fails while its state is still loading (PB_CHECK_LOAD_STATE)
 * returns only once the loading thread is done with the state: the
 * caller may use the state as soon as it has the result. The load starts
 * at login; a big state and a connection dropped right after make the
 * failure come first. */
static void
test_failure_waits_for_state_load (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server = server_login ("USER\nUIDL\nTOP", "+OK");
  g_autoptr(PbState) unloaded = pb_state_new ("fake", NULL);
  g_autoptr(PbCheckResult) result = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *problems = NULL;

  for (guint i = 0; i < 50000; i++)
    {
      g_autofree char *uidl = g_strdup_printf ("message-%u", i);

      pb_state_ensure (f->state, uidl);
    }
  g_assert_true (pb_state_save (f->state, &error));
  g_assert_no_error (error);

  pb_fake_server_expect (server, "STAT");
  pb_fake_server_drop (server);
  result = run_check (pb_fake_server_get_port (server), unloaded,
                      PB_CHECK_LOAD_STATE | PB_CHECK_COUNTS_ONLY);
  problems = pb_fake_server_wait (server);
  g_assert_cmpstr (problems, ==, NULL);

  g_assert_cmpstr (kind_of (result), ==, "network");
  g_assert_null (pb_check_result_get_state_error (result));
  g_assert_cmpuint (pb_state_get_count (unloaded), ==, 50000);
}

/* A check that cannot even try to log in (here: nobody listens) does not
 * load the state at all. */
static void
test_no_login_no_state_load (Fixture *f, gconstpointer data)
{
  g_autoptr(PbState) unloaded = pb_state_new ("fake", NULL);
  g_autoptr(PbCheckResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint port;

  pb_state_ensure (f->state, "message-1");
  g_assert_true (pb_state_save (f->state, &error));
  {
    g_autoptr(PbFakeServer) closed = pb_fake_server_new ();

    port = pb_fake_server_get_port (closed);
  }

  result = run_check (port, unloaded, PB_CHECK_LOAD_STATE | PB_CHECK_COUNTS_ONLY);

  g_assert_cmpstr (kind_of (result), ==, "network");
  g_assert_cmpuint (pb_state_get_count (unloaded), ==, 0);
}

/* A port nobody listens on: a check that connected would fail with a
 * network error. */
static guint16
closed_port (void)
{
  g_autoptr(PbFakeServer) closed = pb_fake_server_new ();

  return pb_fake_server_get_port (closed);
}

/* Makes the state file of the account "fake" a directory: there, but not
 * readable, even by root. */
static const char *
make_state_unreadable (PbState *state)
{
  const char *path = pb_state_get_path (state);

  g_assert_cmpint (g_mkdir_with_parents (path, 0700), ==, 0);
  return path;
}

/* A state the caller loaded and could not read: counting against it would
 * report every message as new, so the check fails with the disk error at
 * once, before the keyring or the network. */
static void
test_unreadable_state_fails_before_connecting (Fixture *f, gconstpointer data)
{
  const char *path = make_state_unreadable (f->state);
  g_autoptr(PbCheckResult) result = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (pb_state_load (f->state, &error));
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK);

  result = run_check (closed_port (), f->state, PB_CHECK_FLAGS_NONE);

  g_assert_cmpstr (kind_of (result), ==, "disk");
  g_assert_cmpstr (pb_check_result_get_error (result)->message, ==, error->message);
  g_assert_nonnull (strstr (pb_check_result_get_error (result)->message, path));
  g_assert_null (pb_check_result_get_state_error (result));
  g_assert_cmpuint (pb_check_result_get_total (result), ==, 0);
  g_assert_cmpuint (pb_check_result_get_new_count (result), ==, 0);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_DIR));
}

/* The same when the check loads the state itself (PB_CHECK_LOAD_STATE)
 * while it logs in: it fails with the disk error (not the notice of a
 * damaged file) and counts nothing, whether the load failed before the
 * login was done or only once the listing was in. */
static void
test_unreadable_state_fails_after_login (Fixture *f, gconstpointer data)
{
  g_autoptr(PbFakeServer) server = server_login ("USER\nUIDL\nTOP", "+OK");
  g_autoptr(PbState) unloaded = pb_state_new ("fake", NULL);
  const char *path = make_state_unreadable (unloaded);
  g_autoptr(PbCheckResult) result = NULL;
  g_autofree char *problems = NULL;

  /* Whether the client stops after the login or after STAT and UIDL
   * depends on when the load fails, so the answers go out unasked, in one
   * write, and the script holds either way. Those to LIST, TOP and QUIT
   * are for a check that wrongly went on: it fails at once (answers it
   * did not ask for) instead of waiting for them until its timeout. */
  pb_fake_server_send (server, "+OK 1 100\n"
                               "+OK\n1 message-1\n.\n"
                               "+OK\n1 100\n.\n"
                               "+OK\nSubject: hello\n\n.\n"
                               "+OK bye");
  result = run_check (pb_fake_server_get_port (server), unloaded,
                      PB_CHECK_LOAD_STATE | PB_CHECK_COUNTS_ONLY);
  problems = pb_fake_server_wait (server);
  g_assert_cmpstr (problems, ==, NULL);

  g_assert_cmpstr (kind_of (result), ==, "disk");
  g_assert_nonnull (strstr (pb_check_result_get_error (result)->message, path));
  g_assert_null (pb_check_result_get_state_error (result));
  g_assert_cmpuint (pb_check_result_get_total (result), ==, 0);
  g_assert_cmpuint (pb_check_result_get_new_count (result), ==, 0);
  g_assert_nonnull (pb_state_get_read_error (unloaded));
  g_assert_false (pb_fake_server_received_prefix (server, "LIST"));
  g_assert_false (pb_fake_server_received_prefix (server, "TOP"));
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_DIR));
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add ("/check/fake/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("in-use", test_in_use);
  ADD ("login-delay", test_login_delay);
  ADD ("login-delay-capability", test_login_delay_capability);
  ADD ("sys-temp", test_sys_temp);
  ADD ("no-uidl-fallback-identity", test_no_uidl_fallback_identity);
  ADD ("capa-after-login-omits-uidl-and-top", test_capa_after_login_omits_uidl_and_top);
  ADD ("capa-never-lists-uidl-and-top", test_capa_never_lists_uidl_and_top);
  ADD ("listed-uidl-refused-falls-back", test_listed_uidl_refused_falls_back);
  ADD ("uidl-sys-temp-fails", test_uidl_sys_temp_fails);
  ADD ("uidl-refused-after-counting-by-uidl", test_uidl_refused_after_counting_by_uidl);
  ADD ("no-uidl-headers-refused", test_no_uidl_headers_refused);
  ADD ("headers-to-uidls", test_headers_to_uidls);
  ADD ("duplicate-and-odd-uidls", test_duplicate_and_odd_uidls);
  ADD ("hostile-uidl-fails-cleanly", test_hostile_uidl_fails_cleanly);
  ADD ("stat-disagrees-with-listing", test_stat_disagrees_with_listing);
  ADD ("eight-bit-uidls", test_eight_bit_uidls);
  ADD ("top-failure-is-per-message", test_top_failure_is_per_message);
  ADD ("list-refused-leaves-sizes-unknown", test_list_refused_leaves_sizes_unknown);
  ADD ("dropped-connection", test_dropped_connection);
  ADD ("failure-waits-for-state-load", test_failure_waits_for_state_load);
  ADD ("no-login-no-state-load", test_no_login_no_state_load);
  ADD ("unreadable-state-fails-before-connecting", test_unreadable_state_fails_before_connecting);
  ADD ("unreadable-state-fails-after-login", test_unreadable_state_fails_after_login);
#undef ADD

  return g_test_run ();
}

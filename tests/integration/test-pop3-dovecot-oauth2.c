/* The engine's bearer-token logins, XOAUTH2 and OAUTHBEARER (RFC 7628),
 * against a real Dovecot whose oauth2 passdb asks a real HTTP token
 * introspection endpoint on loopback (pb_test_dovecot_start_oauth2()).
 *
 * A good token logs in and the mailbox answers; a refused token gives the
 * authentication error with the server's reason, after the engine has
 * answered the error challenge (RFC 7628 section 3.2.3), and leaves the
 * session in step so the next attempt on it works; a token too long for
 * the AUTH line goes in the continuation (RFC 5034 section 4); and only
 * the token travels: the password passdb never sees it, and the
 * introspection endpoint never sees a password. `popbiff probe` does the
 * same from the command line, the token on standard input.
 *
 * One Dovecot serves the whole program; tests that look at a mailbox or
 * at what the endpoint was asked get a user and a token of their own. */
#include <string.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "pb-test-dovecot.h"
#include "pb-test-mail.h"
#include "pb-test-pop3-sync.h"
#include "pb-test-util.h"

typedef struct {
  char *user;
  char *token;
} TokenUser;

/* A user with a mailbox of its own holding @messages messages, and a
 * bearer token that is good for it (and only for it). */
static TokenUser
fresh_token_user (PbTestDovecot *d,
                  guint          messages)
{
  static guint n;
  g_autoptr(GError) error = NULL;
  TokenUser tu;

  n++;
  tu.user = g_strdup_printf ("bearer%u", n);
  tu.token = g_strdup_printf ("pb-test-token.%s.%08x", tu.user, g_random_int ());
  pb_test_dovecot_add_user (d, tu.user, PB_TEST_DOVECOT_PASSWORD, &error);
  g_assert_no_error (error);
  pb_test_dovecot_add_bearer_token (d, tu.token, tu.user, &error);
  g_assert_no_error (error);
  for (guint i = 1; i <= messages; i++)
    {
      g_autofree char *subject = g_strdup_printf ("note %u", i);
      g_autoptr(GBytes) note = pb_test_mail_simple ("bob@example.org", subject, "hello\n");

      pb_test_dovecot_deliver (d, tu.user, note, &error);
      g_assert_no_error (error);
    }
  return tu;
}

static void
token_user_clear (TokenUser *tu)
{
  g_free (tu->user);
  g_free (tu->token);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TokenUser, token_user_clear)

static PbPop3Client *
connect_tls (PbTestDovecot *d)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PbPop3Client) client = pb_pop3_client_new ("127.0.0.1",
                                                       pb_test_dovecot_get_tls_port (d),
                                                       PB_POP3_SECURITY_TLS);

  /* Generous: seven people build on this machine's two cores. */
  pb_pop3_client_set_timeout (client, 60);
  pb_pop3_client_set_ca_file (client, pb_test_dovecot_get_ca_file (d));
  pb_test_pop3_connect (client, &error);
  g_assert_no_error (error);
  return g_steal_pointer (&client);
}

typedef struct {
  const char       *name;       /* in the test path */
  PbPop3AuthMethod  method;
  const char       *mechanism;  /* as CAPA and the engine name it */
  const char       *reason;     /* the status Dovecot's error challenge carries */
} BearerCase;

static const BearerCase xoauth2 = { "xoauth2", PB_POP3_AUTH_XOAUTH2, "XOAUTH2", "401" };
static const BearerCase oauthbearer = {
  "oauthbearer", PB_POP3_AUTH_OAUTHBEARER, "OAUTHBEARER", "invalid_token"
};

static void
assert_offered (PbPop3Client *client,
                const char   *mechanism)
{
  const char * const *offered = pb_pop3_client_get_sasl_mechanisms (client);
  g_autofree char *list = g_strjoinv (" ", (char **) offered);

  g_test_message ("SASL mechanisms offered: %s", list);
  g_assert_true (g_strv_contains (offered, mechanism));
}

/* A good token logs in, and the mailbox answers. */
static void
test_good_token (gconstpointer data)
{
  const BearerCase *c = data;
  PbTestDovecot *d = pb_test_dovecot_get_shared_oauth2 ();
  g_auto(TokenUser) tu = { NULL, NULL };
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  guint count = 0;
  guint64 size = 0;

  if (d == NULL)
    return;

  tu = fresh_token_user (d, 2);
  client = connect_tls (d);
  assert_offered (client, c->mechanism);
  pb_test_pop3_authenticate (client, tu.user, tu.token, c->method, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pb_pop3_client_get_auth_mechanism (client), ==, c->mechanism);

  pb_test_pop3_stat (client, &count, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 2);
  g_assert_cmpuint (size, >, 0);
  pb_test_pop3_quit (client, &error);
  g_assert_no_error (error);
}

/* The default user's token, as the harness documents it. */
static void
test_default_token (void)
{
  PbTestDovecot *d = pb_test_dovecot_get_shared_oauth2 ();
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  guint count = G_MAXUINT;
  guint64 size;

  if (d == NULL)
    return;

  client = pb_test_pop3_login (pb_test_dovecot_get_tls_port (d), PB_POP3_SECURITY_TLS,
                               pb_test_dovecot_get_ca_file (d), PB_TEST_DOVECOT_USER,
                               PB_TEST_DOVECOT_BEARER_TOKEN, PB_POP3_AUTH_OAUTHBEARER, &error);
  g_assert_no_error (error);
  pb_test_pop3_stat (client, &count, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count, !=, G_MAXUINT);
}

/* A refused token: Dovecot sends its JSON error as a challenge, the
 * engine answers it (XOAUTH2: an empty line; OAUTHBEARER: %x01), and
 * Dovecot's -ERR becomes the authentication error, with the reason.
 * A hang would end in the 60 s response timeout, a different error. The
 * same session then logs in with the good token: nothing of the failed
 * exchange was left unread. */
static void
test_wrong_token (gconstpointer data)
{
  const BearerCase *c = data;
  PbTestDovecot *d = pb_test_dovecot_get_shared_oauth2 ();
  g_auto(TokenUser) tu = { NULL, NULL };
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *wrong = NULL;
  guint count = 0;
  guint64 size;

  if (d == NULL)
    return;

  tu = fresh_token_user (d, 1);
  wrong = g_strconcat (tu.token, "-revoked", NULL);
  client = connect_tls (d);
  g_assert_false (pb_test_pop3_authenticate (client, tu.user, wrong, c->method, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH);
  g_assert_nonnull (strstr (error->message, c->reason));
  g_clear_error (&error);

  pb_test_pop3_authenticate (client, tu.user, tu.token, c->method, &error);
  g_assert_no_error (error);
  pb_test_pop3_stat (client, &count, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 1);
  pb_test_pop3_quit (client, &error);
  g_assert_no_error (error);
}

/* A good token for another user is refused: the endpoint's user name must
 * match the one the client logs in as. */
static void
test_token_of_another_user (gconstpointer data)
{
  const BearerCase *c = data;
  PbTestDovecot *d = pb_test_dovecot_get_shared_oauth2 ();
  g_auto(TokenUser) tu = { NULL, NULL };
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  if (d == NULL)
    return;

  tu = fresh_token_user (d, 0);
  client = pb_test_pop3_login (pb_test_dovecot_get_tls_port (d), PB_POP3_SECURITY_TLS,
                               pb_test_dovecot_get_ca_file (d), PB_TEST_DOVECOT_USER,
                               tu.token, c->method, &error);
  g_assert_null (client);
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH);
}

/* Real access tokens are often a kilobyte or more: the initial response
 * does not fit the 255-octet AUTH line (RFC 5034 section 4) and goes in
 * the first continuation instead. */
static void
test_long_token (gconstpointer data)
{
  const BearerCase *c = data;
  PbTestDovecot *d = pb_test_dovecot_get_shared_oauth2 ();
  g_auto(TokenUser) tu = { NULL, NULL };
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) token = g_string_new ("pb-test-long.");
  guint count = 0;
  guint64 size;

  if (d == NULL)
    return;

  tu = fresh_token_user (d, 3);
  while (token->len < 1500)
    g_string_append_printf (token, "%08x", g_random_int ());
  pb_test_dovecot_add_bearer_token (d, token->str, tu.user, &error);
  g_assert_no_error (error);

  client = pb_test_pop3_login (pb_test_dovecot_get_tls_port (d), PB_POP3_SECURITY_TLS,
                               pb_test_dovecot_get_ca_file (d), tu.user, token->str,
                               c->method, &error);
  g_assert_no_error (error);
  pb_test_pop3_stat (client, &count, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 3);
}

/* A user name with '=' (valid in an e-mail address's local part): the
 * OAUTHBEARER authzid must carry it escaped as "=3D" (RFC 7628 section
 * 3.1, RFC 5801 section 4), or Dovecot refuses it as badly escaped.
 * XOAUTH2 has no escaping and sends it as it is. */
static void
test_user_with_equals_sign (gconstpointer data)
{
  const BearerCase *c = data;
  PbTestDovecot *d = pb_test_dovecot_get_shared_oauth2 ();
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *mechanism = NULL;
  g_autofree char *user = NULL;
  g_autofree char *token = NULL;
  guint count = G_MAXUINT;
  guint64 size;

  if (d == NULL)
    return;

  /* Lower case: the oauth2 passdb lowercases the name it is given. */
  mechanism = g_ascii_strdown (c->mechanism, -1);
  user = g_strconcat ("billing=", mechanism, NULL);
  token = g_strdup_printf ("pb-test-token.equals.%08x", g_random_int ());
  pb_test_dovecot_add_user (d, user, PB_TEST_DOVECOT_PASSWORD, &error);
  g_assert_no_error (error);
  pb_test_dovecot_add_bearer_token (d, token, user, &error);
  g_assert_no_error (error);

  client = pb_test_pop3_login (pb_test_dovecot_get_tls_port (d), PB_POP3_SECURITY_TLS,
                               pb_test_dovecot_get_ca_file (d), user, token, c->method, &error);
  g_assert_no_error (error);
  pb_test_pop3_stat (client, &count, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 0);
}

/* Only the token travels. The endpoint was asked about exactly the token
 * the client holds (so Dovecot checked it there, not as a password), never
 * about a password; and the token is no password: PLAIN with it fails,
 * because the password passdb never sees tokens. */
static void
test_no_password_involved (gconstpointer data)
{
  const BearerCase *c = data;
  PbTestDovecot *d = pb_test_dovecot_get_shared_oauth2 ();
  g_auto(TokenUser) tu = { NULL, NULL };
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(PbPop3Client) plain = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) before = NULL;
  g_auto(GStrv) after = NULL;
  g_autofree char *log = NULL;
  g_autofree char *login_line = NULL;

  if (d == NULL)
    return;

  tu = fresh_token_user (d, 0);
  before = pb_test_dovecot_get_introspected_tokens (d);
  client = pb_test_pop3_login (pb_test_dovecot_get_tls_port (d), PB_POP3_SECURITY_TLS,
                               pb_test_dovecot_get_ca_file (d), tu.user, tu.token,
                               c->method, &error);
  g_assert_no_error (error);
  pb_test_pop3_quit (client, &error);
  g_assert_no_error (error);

  after = pb_test_dovecot_get_introspected_tokens (d);
  g_assert_cmpuint (g_strv_length (after), ==, g_strv_length (before) + 1);
  g_assert_cmpstr (after[g_strv_length (before)], ==, tu.token);
  for (guint i = 0; after[i] != NULL; i++)
    g_assert_null (strstr (after[i], PB_TEST_DOVECOT_PASSWORD));

  /* Dovecot logged the login under the bearer mechanism. */
  log = pb_test_dovecot_read_log (d);
  login_line = g_strdup_printf ("Login: user=<%s>, method=%s,", tu.user, c->mechanism);
  g_assert_nonnull (strstr (log, login_line));

  plain = pb_test_pop3_login (pb_test_dovecot_get_tls_port (d), PB_POP3_SECURITY_TLS,
                              pb_test_dovecot_get_ca_file (d), tu.user, tu.token,
                              PB_POP3_AUTH_PLAIN, &error);
  g_assert_null (plain);
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH);
  /* ... and that attempt did not reach the endpoint. */
  g_strfreev (after);
  after = pb_test_dovecot_get_introspected_tokens (d);
  g_assert_cmpuint (g_strv_length (after), ==, g_strv_length (before) + 1);
}

/* `popbiff probe --auth METHOD --password-stdin --json` runs with @secret
 * on standard input; returns its exit status and its JSON object. */
static int
run_probe (PbTestDovecot  *d,
           const char     *user,
           const char     *secret,
           const char     *method,
           JsonObject    **json)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *port = g_strdup_printf ("%u", pb_test_dovecot_get_tls_port (d));
  g_autofree char *input = g_strconcat (secret, "\n", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  JsonNode *root;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  /* As in test-cli-probe: LeakSanitizer's tracer crashes at the exit of
   * a popbiff that used TLS (google/sanitizers#1353); ASan and UBSan stay
   * on, and the engine's leaks are checked in process above. */
  if (g_getenv ("ASAN_OPTIONS") != NULL)
    {
      g_autofree char *options = g_strconcat (g_getenv ("ASAN_OPTIONS"), ":detect_leaks=0", NULL);

      g_subprocess_launcher_setenv (launcher, "ASAN_OPTIONS", options, TRUE);
    }
  process = g_subprocess_launcher_spawn (launcher, &error, pb_test_popbiff (), "probe",
                                         "127.0.0.1", "--port", port,
                                         "--ca-file", pb_test_dovecot_get_ca_file (d),
                                         "--timeout", "60", "--user", user,
                                         "--auth", method, "--password-stdin", "--json", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (*err != '\0')
    g_test_message ("probe's stderr: %s", err);

  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_nonnull (root);
  g_assert_cmpint (json_node_get_node_type (root), ==, JSON_NODE_OBJECT);
  *json = json_object_ref (json_node_get_object (root));
  return g_subprocess_get_exit_status (process);
}

/* A person trying an OAuth account from the command line: the token on
 * standard input logs in and STAT answers (exit 0); a refused token is an
 * "auth" error (exit 1). */
static void
test_cli_probe (gconstpointer data)
{
  const BearerCase *c = data;
  PbTestDovecot *d = pb_test_dovecot_get_shared_oauth2 ();
  g_auto(TokenUser) tu = { NULL, NULL };
  g_autoptr(JsonObject) good = NULL;
  g_autoptr(JsonObject) wrong = NULL;
  g_autofree char *wrong_token = NULL;
  JsonObject *login, *stat, *error;

  if (d == NULL)
    return;

  tu = fresh_token_user (d, 2);
  g_assert_cmpint (run_probe (d, tu.user, tu.token, c->name, &good), ==, 0);
  g_assert_true (json_object_get_boolean_member (good, "ok"));
  login = json_object_get_object_member (good, "login");
  g_assert_true (json_object_get_boolean_member (login, "ok"));
  g_assert_cmpstr (json_object_get_string_member (login, "mechanism"), ==, c->mechanism);
  stat = json_object_get_object_member (good, "stat");
  g_assert_cmpint (json_object_get_int_member (stat, "messages"), ==, 2);

  wrong_token = g_strconcat (tu.token, "-revoked", NULL);
  g_assert_cmpint (run_probe (d, tu.user, wrong_token, c->name, &wrong), ==, 1);
  g_assert_false (json_object_get_boolean_member (wrong, "ok"));
  login = json_object_get_object_member (wrong, "login");
  g_assert_false (json_object_get_boolean_member (login, "ok"));
  error = json_object_get_object_member (wrong, "error");
  g_assert_cmpstr (json_object_get_string_member (error, "kind"), ==, "auth");
  g_assert_nonnull (strstr (json_object_get_string_member (error, "message"), c->reason));
}

/* The password logins still work on this server, and "auto" does not
 * pick a bearer mechanism for a password. */
static void
test_password_still_works (void)
{
  PbTestDovecot *d = pb_test_dovecot_get_shared_oauth2 ();
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  if (d == NULL)
    return;

  client = connect_tls (d);
  assert_offered (client, "XOAUTH2");
  assert_offered (client, "OAUTHBEARER");
  pb_test_pop3_authenticate (client, PB_TEST_DOVECOT_USER, PB_TEST_DOVECOT_PASSWORD,
                             PB_POP3_AUTH_AUTO, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pb_pop3_client_get_auth_mechanism (client), ==, "SCRAM-SHA-256");
}

int
main (int argc, char *argv[])
{
  static const BearerCase *cases[] = { &xoauth2, &oauthbearer };
  int status;

  pb_test_init (&argc, &argv);

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      struct {
        const char    *name;
        GTestDataFunc  func;
      } tests[] = {
        { "good-token", test_good_token },
        { "wrong-token", test_wrong_token },
        { "token-of-another-user", test_token_of_another_user },
        { "long-token", test_long_token },
        { "no-password-involved", test_no_password_involved },
        { "user-with-equals-sign", test_user_with_equals_sign },
        { "cli-probe", test_cli_probe },
      };

      for (guint j = 0; j < G_N_ELEMENTS (tests); j++)
        {
          g_autofree char *path = g_strdup_printf ("/pop3/dovecot-oauth2/%s/%s",
                                                   cases[i]->name, tests[j].name);

          g_test_add_data_func (path, cases[i], tests[j].func);
        }
    }
  g_test_add_func ("/pop3/dovecot-oauth2/default-user-token", test_default_token);
  g_test_add_func ("/pop3/dovecot-oauth2/password-still-works", test_password_still_works);

  status = g_test_run ();
  pb_test_dovecot_stop_shared ();
  return status;
}

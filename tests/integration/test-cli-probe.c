/* `popbiff probe` as a person runs it: the built binary against the
 * scripted fake server, checking exit codes, the JSON shape and the human
 * output. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "pb-fake-server.h"
#include "pb-test-certs.h"
#include "pb-test-util.h"

static PbTestCerts *certs;

typedef struct {
  int   status;
  char *out;
  char *err;
} ProbeRun;

static void
probe_run_free (ProbeRun *run)
{
  g_free (run->out);
  g_free (run->err);
  g_free (run);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ProbeRun, probe_run_free)

static void
on_communicated (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

/* Runs `popbiff probe ARGS...` with @input on standard input. The main
 * loop keeps running meanwhile: the fake server accepts on it. */
static ProbeRun *
run_probe (const char  *input,
           const char  *first,
           ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  ProbeRun *run = g_new0 (ProbeRun, 1);
  va_list args;

  g_ptr_array_add (argv, (gpointer) pb_test_popbiff ());
  g_ptr_array_add (argv, (gpointer) "probe");
  va_start (args, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (args, const char *))
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                       G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                       G_SUBPROCESS_FLAGS_STDERR_PIPE);
  /* Under the sanitize setup, LeakSanitizer's tracer crashes at the exit
   * of a popbiff that used TLS (google/sanitizers#1353; it happens every
   * time, so rerunning does not help). Leaks in the engine are caught by
   * the in-process tests (test-pop3-fake); here only the leak check of the
   * child is turned off, ASan and UBSan stay on. */
  if (g_getenv ("ASAN_OPTIONS") != NULL)
    {
      g_autofree char *options = g_strconcat (g_getenv ("ASAN_OPTIONS"), ":detect_leaks=0", NULL);

      g_subprocess_launcher_setenv (launcher, "ASAN_OPTIONS", options, TRUE);
    }
  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, input, NULL, on_communicated, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_subprocess_communicate_utf8_finish (process, result, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_test_message ("stdout: %s\nstderr: %s", run->out, run->err);
  /* A crash is never an exit status the test expects. */
  run->status = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
  return run;
}

static JsonObject *
parse_object (const char *text,
              JsonParser *parser)
{
  g_autoptr(GError) error = NULL;
  JsonNode *root;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_nonnull (root);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_node_get_object (root);
}

static void
assert_server_happy (PbFakeServer *server)
{
  g_autofree char *problems = pb_fake_server_wait (server);

  g_assert_cmpstr (problems, ==, NULL);
}

/* A line "LABEL   VALUE..." of the aligned human output. */
static gboolean
has_field (const char *out,
           const char *label,
           const char *value_prefix)
{
  g_autofree char *escaped_label = g_regex_escape_string (label, -1);
  g_autofree char *escaped_value = g_regex_escape_string (value_prefix, -1);
  g_autofree char *pattern = g_strdup_printf ("^%s +%s", escaped_label, escaped_value);

  return g_regex_match_simple (pattern, out, G_REGEX_MULTILINE, 0);
}

static PbFakeServer *
mailbox_server (void)
{
  PbFakeServer *server = pb_fake_server_new ();

  pb_fake_server_send (server, "+OK Fake POP3 ready.");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nTOP\nUIDL\nUSER\nRESP-CODES\nIMPLEMENTATION FakeServer\n"
                               "EXPIRE NEVER\nLOGIN-DELAY 60\n.");
  return server;
}

static void
test_json_login_and_stat (void)
{
  g_autoptr(PbFakeServer) server = mailbox_server ();
  g_autoptr(ProbeRun) run = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *port = NULL;
  JsonObject *object, *login, *stat, *mailbox;
  JsonArray *capabilities;

  pb_fake_server_expect (server, "USER alice");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "PASS s3cret pass");
  pb_fake_server_send (server, "+OK Logged in.");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nTOP\nUIDL\n.");
  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, "+OK 12 123456");
  /* What a check does next: the listing, and headers (of the newest). */
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "+OK\n1 a\n12 b\n.");
  pb_fake_server_expect (server, "TOP 12 0");
  pb_fake_server_send (server, "+OK\nSubject: x\n.");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK Bye.");

  port = g_strdup_printf ("%u", pb_fake_server_get_port (server));
  run = run_probe ("s3cret pass\n", "127.0.0.1", "--port", port, "--security", "none",
                   "--user", "alice", "--password-stdin", "--auth", "user", "--json", NULL);
  assert_server_happy (server);
  g_assert_cmpint (run->status, ==, 0);
  /* The password never shows up in the output. */
  g_assert_null (strstr (run->out, "s3cret"));
  g_assert_null (strstr (run->err, "s3cret"));

  object = parse_object (run->out, parser);
  g_assert_true (json_object_get_boolean_member (object, "ok"));
  g_assert_cmpstr (json_object_get_string_member (object, "host"), ==, "127.0.0.1");
  g_assert_cmpstr (json_object_get_string_member (object, "security"), ==, "none");
  g_assert_cmpstr (json_object_get_string_member (object, "greeting"), ==, "Fake POP3 ready.");
  g_assert_true (json_object_get_null_member (object, "tls"));
  g_assert_true (json_object_get_null_member (object, "error"));
  /* After login the client asked CAPA again: that is what it shows. */
  capabilities = json_object_get_array_member (object, "capabilities");
  g_assert_cmpuint (json_array_get_length (capabilities), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (capabilities, 0), ==, "TOP");

  login = json_object_get_object_member (object, "login");
  g_assert_true (json_object_get_boolean_member (login, "ok"));
  g_assert_cmpstr (json_object_get_string_member (login, "mechanism"), ==, "USER");
  stat = json_object_get_object_member (object, "stat");
  g_assert_cmpint (json_object_get_int_member (stat, "messages"), ==, 12);
  g_assert_cmpint (json_object_get_int_member (stat, "size"), ==, 123456);
  mailbox = json_object_get_object_member (object, "mailbox");
  g_assert_true (json_object_get_boolean_member (mailbox, "uidl"));
  g_assert_true (json_object_get_boolean_member (mailbox, "top"));
  g_assert_cmpint (json_object_get_int_member (mailbox, "listed"), ==, 2);
  capabilities = json_object_get_array_member (object, "capabilities_before_login");
  g_assert_cmpuint (json_array_get_length (capabilities), ==, 7);
}

/* Logs in as alice (USER/PASS) to a server that lists @capa before login
 * and @capa_after after it, and answers STAT with "+OK @count 300". */
static PbFakeServer *
logged_in_server (const char *capa,
                  const char *capa_after,
                  guint       count)
{
  PbFakeServer *server = pb_fake_server_new ();
  g_autofree char *before = g_strdup_printf ("+OK\n%s\n.", capa);
  g_autofree char *after = g_strdup_printf ("+OK\n%s\n.", capa_after);
  g_autofree char *stat = g_strdup_printf ("+OK %u 300", count);

  pb_fake_server_send (server, "+OK Fake POP3 ready.");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, before);
  pb_fake_server_expect (server, "USER alice");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "PASS secret");
  pb_fake_server_send (server, "+OK Logged in.");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, after);
  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, stat);
  return server;
}

static ProbeRun *
probe_as_alice (PbFakeServer *server,
                gboolean      json)
{
  g_autofree char *port = g_strdup_printf ("%u", pb_fake_server_get_port (server));
  ProbeRun *run = run_probe ("secret\n", "127.0.0.1", "--port", port, "--security", "none",
                             "--user", "alice", "--password-stdin", "--auth", "user",
                             json ? "--json" : NULL, NULL);

  assert_server_happy (server);
  return run;
}

/* Defect: CAPA after login without UIDL and TOP made every check fail
 * while probe said all was well. Both now ask; the probe shows the CAPA
 * of either side of the login and what the check will use. */
static void
test_capa_after_login_omits_uidl (void)
{
  g_autoptr(PbFakeServer) server = logged_in_server ("USER\nUIDL\nTOP", "USER", 2);
  g_autoptr(ProbeRun) run = NULL;

  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "+OK\n1 a\n2 b\n.");
  pb_fake_server_expect (server, "TOP 2 0");
  pb_fake_server_send (server, "+OK\nSubject: x\n.");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK Bye.");
  run = probe_as_alice (server, FALSE);

  g_assert_cmpint (run->status, ==, 0);
  g_assert_true (has_field (run->out, "Capabilities:", "USER, UIDL, TOP\n"));
  g_assert_true (has_field (run->out, "After login:", "USER\n"));
  g_assert_true (has_field (run->out, "UIDL:", "yes\n"));
  g_assert_true (has_field (run->out, "TOP:", "yes\n"));
}

/* A server that refuses UIDL: the probe says the check will name messages
 * by their headers. */
static void
test_uidl_refused (void)
{
  g_autoptr(PbFakeServer) server = logged_in_server ("USER\nTOP", "USER\nTOP", 1);
  g_autoptr(ProbeRun) run = NULL;

  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "-ERR unknown command");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "+OK\n1 300\n.");
  pb_fake_server_expect (server, "TOP 1 0");
  pb_fake_server_send (server, "+OK\nSubject: x\n.");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK Bye.");
  run = probe_as_alice (server, FALSE);

  g_assert_cmpint (run->status, ==, 0);
  g_assert_true (has_field (run->out, "UIDL:", "no: a check tells messages apart by their headers"));
  g_assert_true (has_field (run->out, "TOP:", "yes\n"));
}

/* A broken server whose listing names more messages than STAT counts,
 * and refuses TOP for the extra one: the probe said "TOP: not tried (the
 * mailbox is empty)". It shows what a check counts, and that TOP was
 * refused for that one message (which fails nothing). */
static void
test_listing_disagrees_top_refused (void)
{
  g_autoptr(PbFakeServer) server = logged_in_server ("USER\nUIDL\nTOP", "USER\nUIDL\nTOP", 1);
  g_autoptr(ProbeRun) run = NULL;

  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "+OK\n1 a\n2 b\n.");
  pb_fake_server_expect (server, "TOP 2 0");
  pb_fake_server_send (server, "-ERR no such message");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK Bye.");
  run = probe_as_alice (server, FALSE);

  g_assert_cmpint (run->status, ==, 0);
  g_assert_true (has_field (run->out, "Mailbox:", "1 message, "));
  g_assert_true (has_field (run->out, "Listed:", "2 messages, not the 1 STAT counts"));
  g_assert_true (has_field (run->out, "TOP:", "not known: refused for message 2"));
  g_assert_nonnull (strstr (run->out, "no such message"));
}

/* Neither UIDL nor TOP: a check cannot work, so the probe fails the same
 * way. */
static void
test_neither_uidl_nor_top (void)
{
  g_autoptr(PbFakeServer) server = logged_in_server ("USER", "USER", 1);
  g_autoptr(ProbeRun) run = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonObject *object, *mailbox, *error;

  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "-ERR unknown command");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "+OK\n1 300\n.");
  pb_fake_server_expect (server, "TOP 1 0");
  pb_fake_server_send (server, "-ERR unknown command");
  run = probe_as_alice (server, TRUE);

  g_assert_cmpint (run->status, ==, 1);
  object = parse_object (run->out, parser);
  g_assert_false (json_object_get_boolean_member (object, "ok"));
  mailbox = json_object_get_object_member (object, "mailbox");
  g_assert_false (json_object_get_boolean_member (mailbox, "uidl"));
  g_assert_false (json_object_get_boolean_member (mailbox, "top"));
  error = json_object_get_object_member (object, "error");
  g_assert_nonnull (strstr (json_object_get_string_member (error, "message"),
                            "neither UIDL nor TOP"));
}

static void
test_json_login_failed (void)
{
  g_autoptr(PbFakeServer) server = mailbox_server ();
  g_autoptr(ProbeRun) run = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *port = NULL;
  JsonObject *object, *login, *error;

  pb_fake_server_expect (server, "USER alice");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "PASS wrong");
  pb_fake_server_send (server, "-ERR [AUTH] Authentication failed.");

  port = g_strdup_printf ("%u", pb_fake_server_get_port (server));
  run = run_probe ("wrong\n", "127.0.0.1", "--port", port, "--security", "none",
                   "--user", "alice", "--password-stdin", "--auth", "user", "--json", NULL);
  assert_server_happy (server);
  g_assert_cmpint (run->status, ==, 1);

  object = parse_object (run->out, parser);
  g_assert_false (json_object_get_boolean_member (object, "ok"));
  g_assert_cmpstr (json_object_get_string_member (object, "implementation"), ==, "FakeServer");
  g_assert_cmpstr (json_object_get_string_member (object, "expire"), ==, "never");
  g_assert_cmpint (json_object_get_int_member (object, "login_delay"), ==, 60);
  login = json_object_get_object_member (object, "login");
  g_assert_false (json_object_get_boolean_member (login, "ok"));
  g_assert_true (json_object_get_null_member (object, "stat"));
  error = json_object_get_object_member (object, "error");
  g_assert_cmpstr (json_object_get_string_member (error, "kind"), ==, "auth");
  g_assert_nonnull (strstr (json_object_get_string_member (error, "message"),
                            "Authentication failed."));
}

static void
test_json_certificate_rejected (void)
{
  g_autofree char *openssl = pb_test_require_program ("openssl");
  g_autoptr(PbFakeServer) server = NULL;
  g_autoptr(ProbeRun) run = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *port = NULL;
  g_autofree char *fingerprint = NULL;
  JsonObject *object, *tls, *certificate, *error;
  JsonArray *errors;

  if (openssl == NULL)
    return;

  server = pb_fake_server_new ();
  pb_fake_server_set_certificate (server, certs->expired_pem, certs->expired_key);
  pb_fake_server_set_implicit_tls (server, TRUE);
  fingerprint = pb_test_certs_sha256 (certs->expired_pem, NULL);

  port = g_strdup_printf ("%u", pb_fake_server_get_port (server));
  run = run_probe ("", "localhost", "--port", port, "--ca-file", certs->ca_pem,
                   "--timeout", "20", "--json", NULL);
  assert_server_happy (server);
  g_assert_cmpint (run->status, ==, 1);

  object = parse_object (run->out, parser);
  g_assert_false (json_object_get_boolean_member (object, "ok"));
  g_assert_cmpstr (json_object_get_string_member (object, "security"), ==, "tls");
  tls = json_object_get_object_member (object, "tls");
  certificate = json_object_get_object_member (tls, "certificate");
  g_assert_false (json_object_get_boolean_member (certificate, "verified"));
  g_assert_false (json_object_get_boolean_member (certificate, "pinned"));
  g_assert_cmpstr (json_object_get_string_member (certificate, "sha256"), ==, fingerprint);
  g_assert_cmpstr (json_object_get_string_member (certificate, "not_after"), ==,
                   "2021-01-01T00:00:00Z");
  errors = json_object_get_array_member (certificate, "errors");
  g_assert_cmpuint (json_array_get_length (errors), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (errors, 0), ==, "expired");
  g_assert_nonnull (json_object_get_string_member (certificate, "problem"));
  error = json_object_get_object_member (object, "error");
  g_assert_cmpstr (json_object_get_string_member (error, "kind"), ==, "certificate");
}

static void
test_human_output (void)
{
  g_autofree char *openssl = pb_test_require_program ("openssl");
  g_autoptr(PbFakeServer) server = NULL;
  g_autoptr(ProbeRun) run = NULL;
  g_autofree char *port = NULL;
  g_autofree char *fingerprint = NULL;

  if (openssl == NULL)
    return;

  server = mailbox_server ();
  pb_fake_server_set_certificate (server, certs->server_pem, certs->server_key);
  pb_fake_server_set_implicit_tls (server, TRUE);
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK Bye.");
  fingerprint = pb_test_certs_sha256 (certs->server_pem, NULL);

  port = g_strdup_printf ("%u", pb_fake_server_get_port (server));
  run = run_probe ("", "localhost", "--port", port, "--ca-file", certs->ca_pem, NULL);
  assert_server_happy (server);
  g_assert_cmpint (run->status, ==, 0);
  g_assert_true (has_field (run->out, "Greeting:", "Fake POP3 ready.\n"));
  g_assert_true (has_field (run->out, "TLS:", "TLS 1."));
  g_assert_true (has_field (run->out, "  SHA-256:", fingerprint));
  g_assert_true (has_field (run->out, "  Verified:", "yes\n"));
  g_assert_true (has_field (run->out, "Capabilities:", "TOP, UIDL, USER"));
  g_assert_nonnull (strstr (run->out, "IMPLEMENTATION FakeServer, EXPIRE NEVER"));
  g_assert_true (has_field (run->out, "Implementation:", "FakeServer\n"));
  g_assert_cmpstr (run->err, ==, "");
}

static void
test_connection_refused (void)
{
  g_autofree char *port = g_strdup_printf ("%u", pb_test_closed_port ());
  g_autoptr(ProbeRun) run = NULL;

  run = run_probe ("", "127.0.0.1", "--port", port, "--security", "starttls", NULL);
  g_assert_cmpint (run->status, ==, 1);
  g_assert_nonnull (strstr (run->err, "Check the host name"));
}

/* Without a TLS backend (glib-networking missing) the person is told what
 * to install, whether or not the account has a CA file. The listener
 * never answers: the kernel completes the TCP handshake on its own. */
static void
test_no_tls_backend (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autofree char *port = g_strdup_printf ("%u", pb_test_listen_silently (listener));

  g_setenv ("GIO_MODULE_DIR", "/nonexistent", TRUE);
  for (guint with_ca = 0; with_ca <= 1; with_ca++)
    {
      g_autoptr(ProbeRun) run = NULL;

      if (with_ca && certs == NULL)
        continue;
      run = with_ca ? run_probe ("", "127.0.0.1", "--port", port, "--ca-file", certs->ca_pem, NULL)
                    : run_probe ("", "127.0.0.1", "--port", port, NULL);
      g_assert_cmpint (run->status, ==, 1);
      g_assert_nonnull (strstr (run->err, "Install glib-networking"));
    }
  g_unsetenv ("GIO_MODULE_DIR");
}

static void
test_wrong_command_lines (void)
{
  static const char *cases[][6] = {
    { NULL },
    { "a.example", "b.example", NULL },
    { "pop.example.org:995", NULL },  /* a port or URL pasted in as the host */
    { "pop3s://pop.example.org", NULL },
    { "[::1]", NULL },
    { "host", "--security", "ssl", NULL },
    { "host", "--auth", "kerberos", "--user", "u", NULL },
    { "host", "--port", "0x", NULL },
    { "host", "--port", "-1", NULL },
    { "host", "--port", "70000", NULL },
    { "host", "--timeout", "0", NULL },
    { "host", "--user", "alice", NULL },
    { "host", "--password-stdin", NULL },
    { "host", "--pin-sha256", "abcd", NULL },
    { "host", "--ca-file", "/nonexistent/ca.pem", NULL },
    { "host", "--no-such-option", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(ProbeRun) run = run_probe ("", cases[i][0], cases[i][1], cases[i][2],
                                           cases[i][3], cases[i][4], NULL);

      g_assert_cmpint (run->status, ==, 2);
      g_assert_cmpstr (run->out, ==, "");
      g_assert_true (g_str_has_prefix (run->err, "popbiff: "));
    }
}

int
main (int argc, char **argv)
{
  g_autofree char *cert_dir = NULL;
  g_autofree char *openssl = NULL;
  int status;

  pb_test_init (&argc, &argv);

  openssl = g_find_program_in_path ("openssl");
  if (openssl != NULL)
    {
      g_autoptr(GError) error = NULL;

      cert_dir = g_dir_make_tmp ("popbiff-certs-XXXXXX", &error);
      g_assert_no_error (error);
      certs = pb_test_certs_new (cert_dir, &error);
      g_assert_no_error (error);
    }

  g_test_add_func ("/cli/probe/json-login-and-stat", test_json_login_and_stat);
  g_test_add_func ("/cli/probe/json-login-failed", test_json_login_failed);
  g_test_add_func ("/cli/probe/capa-after-login-omits-uidl", test_capa_after_login_omits_uidl);
  g_test_add_func ("/cli/probe/uidl-refused", test_uidl_refused);
  g_test_add_func ("/cli/probe/neither-uidl-nor-top", test_neither_uidl_nor_top);
  g_test_add_func ("/cli/probe/listing-disagrees-top-refused", test_listing_disagrees_top_refused);
  g_test_add_func ("/cli/probe/json-certificate-rejected", test_json_certificate_rejected);
  g_test_add_func ("/cli/probe/human-output", test_human_output);
  g_test_add_func ("/cli/probe/connection-refused", test_connection_refused);
  g_test_add_func ("/cli/probe/no-tls-backend", test_no_tls_backend);
  g_test_add_func ("/cli/probe/wrong-command-lines", test_wrong_command_lines);

  status = g_test_run ();

  if (cert_dir != NULL)
    {
      g_autoptr(GDir) dir = g_dir_open (cert_dir, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *file = g_build_filename (cert_dir, name, NULL);

          g_remove (file);
        }
      g_rmdir (cert_dir);
    }
  g_clear_pointer (&certs, pb_test_certs_free);
  return status;
}

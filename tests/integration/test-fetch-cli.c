/* "popbiff fetch …" as a script runs it: the built binary, a private
 * keyring (tests/tools/with-keyring.sh), a real Dovecot, isolated XDG
 * dirs. The --json output is the contract's array; exit codes are 0, 1, 2. */
#include <json-glib/json-glib.h>
#include <string.h>

#include "pb-fake-server.h"
#include "pb-test-dovecot.h"
#include "pb-test-mail.h"
#include "pb-test-util.h"

static gboolean
have_keyring (void)
{
  const char *mode = g_getenv ("PB_TEST_KEYRING");

  if (mode != NULL && g_str_equal (mode, "keyring"))
    return TRUE;
  g_test_skip ("not run under tests/tools/with-keyring.sh");
  return FALSE;
}

/* A Dovecot with the awkward messages and an account "mail" for it, its
 * password in the keyring. */
static PbTestDovecot *
setup_account (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PbTestDovecot) dovecot = pb_test_dovecot_start (&error);
  g_autofree char *port = NULL;
  g_autofree char *password = NULL;
  g_auto(PbTestRun) add = { 0 };

  g_assert_no_error (error);
  if (dovecot == NULL)
    return NULL;

  for (int kind = 0; kind < PB_TEST_MAIL_N_KINDS; kind++)
    {
      g_autoptr(GBytes) message = pb_test_mail_awkward (kind);

      g_assert_true (pb_test_dovecot_deliver (dovecot, NULL, message, &error));
      g_assert_no_error (error);
    }

  port = g_strdup_printf ("%u", pb_test_dovecot_get_tls_port (dovecot));
  password = g_strdup_printf ("%s\n", pb_test_dovecot_get_password (dovecot));
  pb_test_run_popbiff (&add, password, "accounts", "add", "mail",
               "--host", pb_test_dovecot_get_host (dovecot), "--port", port,
               "--user", pb_test_dovecot_get_user (dovecot),
               "--ca-file", pb_test_dovecot_get_ca_file (dovecot),
               "--password-stdin", NULL);
  g_assert_cmpint (add.status, ==, 0);
  return g_steal_pointer (&dovecot);
}

static JsonArray *
parse_array (JsonParser *parser,
             const char *text)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, text, -1, &error));
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (json_parser_get_root (parser)));
  return json_node_get_array (json_parser_get_root (parser));
}

static void
test_json_contract (void)
{
  g_autoptr(PbTestDovecot) dovecot = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonParser) again_parser = json_parser_new ();
  g_auto(PbTestRun) first = { 0 };
  g_auto(PbTestRun) again = { 0 };
  JsonArray *results;

  if (!have_keyring () || (dovecot = setup_account ()) == NULL)
    return;

  pb_test_run_popbiff (&first, NULL, "fetch", "mail", "--json", NULL);
  g_assert_cmpint (first.status, ==, 0);
  results = parse_array (parser, first.out);
  g_assert_cmpuint (json_array_get_length (results), ==, PB_TEST_MAIL_N_KINDS);
  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonObject *result = json_array_get_object_element (results, i);
      const char *path = json_object_get_string_member (result, "path");
      g_autofree char *maildir_new = g_build_filename (g_get_home_dir (), "Mail", "mail", "new", NULL);

      g_assert_cmpuint (json_object_get_size (result), ==, 4);
      g_assert_nonnull (json_object_get_string_member (result, "uidl"));
      g_assert_true (json_object_get_boolean_member (result, "ok"));
      g_assert_true (json_object_get_null_member (result, "error"));
      /* The default folder: $HOME/Mail/<account>, a Maildir. */
      g_assert_true (g_str_has_prefix (path, maildir_new));
      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
    }

  /* Nothing new: an empty array, exit 0. */
  pb_test_run_popbiff (&again, NULL, "fetch", "mail", "--json", NULL);
  g_assert_cmpint (again.status, ==, 0);
  g_assert_cmpuint (json_array_get_length (parse_array (again_parser, again.out)), ==, 0);
}

static void
test_uidls_delete_and_failures (void)
{
  g_autoptr(PbTestDovecot) dovecot = NULL;
  g_autoptr(JsonParser) listing_parser = json_parser_new ();
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GPtrArray) server = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *eml = NULL;
  g_auto(PbTestRun) all = { 0 };
  g_auto(PbTestRun) chosen = { 0 };
  JsonArray *listed;
  JsonArray *results;
  const char *first_uidl;
  const char *second_uidl;
  JsonObject *missing;

  if (!have_keyring () || (dovecot = setup_account ()) == NULL)
    return;

  /* Everything as .eml files in a folder of our choosing. */
  eml = g_build_filename (g_get_home_dir (), "eml", NULL);
  pb_test_run_popbiff (&all, NULL, "fetch", "mail", "--all", "--format", "eml", "--folder", eml, "--json", NULL);
  g_assert_cmpint (all.status, ==, 0);
  listed = parse_array (listing_parser, all.out);
  g_assert_cmpuint (json_array_get_length (listed), ==, PB_TEST_MAIL_N_KINDS);
  g_assert_true (g_str_has_suffix (json_object_get_string_member (json_array_get_object_element (listed, 0), "path"),
                                   ".eml"));
  first_uidl = json_object_get_string_member (json_array_get_object_element (listed, 0), "uidl");
  second_uidl = json_object_get_string_member (json_array_get_object_element (listed, 1), "uidl");

  /* Named again (downloaded before, so fetched again), deleted, and one
   * that is not there: exit 1, the array says which. */
  pb_test_run_popbiff (&chosen, NULL, "fetch", "mail", first_uidl, "no-such-uidl", second_uidl,
               "--delete", "--json", NULL);
  g_assert_cmpint (chosen.status, ==, 1);
  results = parse_array (parser, chosen.out);
  g_assert_cmpuint (json_array_get_length (results), ==, 3);
  g_assert_true (json_object_get_boolean_member (json_array_get_object_element (results, 0), "ok"));
  g_assert_true (json_object_get_boolean_member (json_array_get_object_element (results, 2), "ok"));
  missing = json_array_get_object_element (results, 1);
  g_assert_cmpstr (json_object_get_string_member (missing, "uidl"), ==, "no-such-uidl");
  g_assert_false (json_object_get_boolean_member (missing, "ok"));
  g_assert_true (json_object_get_null_member (missing, "path"));
  g_assert_nonnull (json_object_get_string_member (json_object_get_object_member (missing, "error"), "kind"));

  server = pb_test_dovecot_list_messages (dovecot, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (server->len, ==, PB_TEST_MAIL_N_KINDS - 2);
}

static void
test_unreachable_server (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(PbTestRun) add = { 0 };
  g_auto(PbTestRun) fetch = { 0 };
  g_autofree char *port = NULL;
  JsonArray *results;
  JsonObject *result;

  if (!have_keyring ())
    return;

  port = g_strdup_printf ("%u", pb_test_closed_port ());

  pb_test_run_popbiff (&add, "secret\n", "accounts", "add", "gone", "--host", "127.0.0.1",
               "--port", port, "--user", "u", "--password-stdin", NULL);
  g_assert_cmpint (add.status, ==, 0);

  /* The job fails as a whole: one element without a UIDL says why. */
  pb_test_run_popbiff (&fetch, NULL, "fetch", "gone", "--json", NULL);
  g_assert_cmpint (fetch.status, ==, 1);
  results = parse_array (parser, fetch.out);
  g_assert_cmpuint (json_array_get_length (results), ==, 1);
  result = json_array_get_object_element (results, 0);
  g_assert_true (json_object_get_null_member (result, "uidl"));
  g_assert_false (json_object_get_boolean_member (result, "ok"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (result, "error"), "kind"),
                   ==, "network");
}

/* Files in @dir and below it (0 when it does not exist). */
static guint
count_files (const char *dir)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  if (listing == NULL)
    return 0;
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *child = g_build_filename (dir, name, NULL);

      n += g_file_test (child, G_FILE_TEST_IS_DIR) ? count_files (child) : 1;
    }
  return n;
}

/* The state says what was downloaded already. When its file is there but
 * cannot be read (a directory where it should be; root reads a file of
 * mode 000 all the same), fetch downloads nothing, as text or as --json,
 * and says why. */
static void
test_unreadable_state_fetches_nothing (void)
{
  g_autoptr(PbTestDovecot) dovecot = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *path = g_build_filename (g_get_user_state_dir (), "popbiff", "mail.state", NULL);
  g_autofree char *folder = g_build_filename (g_get_home_dir (), "Mail", "mail", NULL);
  g_auto(PbTestRun) json = { 0 };
  g_auto(PbTestRun) text = { 0 };
  JsonArray *results;
  JsonObject *result, *error;

  if (!have_keyring () || (dovecot = setup_account ()) == NULL)
    return;
  g_assert_cmpint (g_mkdir_with_parents (path, 0700), ==, 0);

  pb_test_run_popbiff (&json, NULL, "fetch", "mail", "--all", "--json", NULL);
  g_assert_cmpint (json.status, ==, 1);
  results = parse_array (parser, json.out);
  g_assert_cmpuint (json_array_get_length (results), ==, 1);
  result = json_array_get_object_element (results, 0);
  g_assert_true (json_object_get_null_member (result, "uidl"));
  g_assert_false (json_object_get_boolean_member (result, "ok"));
  error = json_object_get_object_member (result, "error");
  g_assert_cmpstr (json_object_get_string_member (error, "kind"), ==, "disk");
  g_assert_nonnull (strstr (json_object_get_string_member (error, "message"), path));

  pb_test_run_popbiff (&text, NULL, "fetch", "mail", "--all", NULL);
  g_assert_cmpint (text.status, ==, 1);
  g_assert_cmpstr (text.out, ==, "");
  g_assert_nonnull (strstr (text.err, path));

  g_assert_cmpuint (count_files (folder), ==, 0);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_DIR));
}

static void
test_bad_command_line (void)
{
  static const char * const cases[][4] = {
    { "fetch", NULL },
    { "fetch", "x", "--format", "mbox" },
    { "fetch", "x", "--all", "some-uidl" },
    { "fetch", "no-such-account", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(PbTestRun) run = { 0 };

      pb_test_run_popbiff (&run, NULL, cases[i][0], cases[i][1], cases[i][2], cases[i][3], NULL);
      g_assert_cmpint (run.status, ==, 2);
      g_assert_cmpstr (run.out, ==, "");
      g_assert_true (g_str_has_prefix (run.err, "popbiff: "));
    }
}

/* The account "fake" (no TLS, USER/PASS alice/secret) for @server. */
static void
add_fake_account (PbFakeServer *server)
{
  g_autofree char *port = g_strdup_printf ("%u", pb_fake_server_get_port (server));
  g_auto(PbTestRun) add = { 0 };

  pb_test_run_popbiff (&add, "secret\n", "accounts", "add", "fake", "--host", "127.0.0.1",
                       "--port", port, "--security", "none", "--auth", "user",
                       "--user", "alice", "--timeout", "60", "--password-stdin", NULL);
  g_assert_cmpint (add.status, ==, 0);
}

/* Greeting, login and the listing a fetch asks for, one command at a time
 * (no PIPELINING). */
static void
script_listing (PbFakeServer *server,
                const char   *uidl,
                const char   *list)
{
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
}

/* The server refuses to delete a message that is on disk: it is not "ok",
 * but its "path" says where it is (a later fetch will not take it again,
 * so the script learns it now or never). */
static void
test_downloaded_not_deleted_has_path (void)
{
  static const char * const fetch_args[] = { "fetch", "fake", "--delete", "--json", NULL };
  g_autoptr(PbFakeServer) server = pb_fake_server_new ();
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *problems = NULL;
  g_autofree char *contents = NULL;
  g_auto(PbTestRun) fetch = { 0 };
  JsonObject *result, *error;
  JsonArray *results;
  const char *path;

  if (!have_keyring ())
    return;
  add_fake_account (server);

  script_listing (server, "+OK\n1 uid-one\n.", "+OK 1 message\n1 26\n.");
  pb_fake_server_expect (server, "RETR 1");
  pb_fake_server_send (server, "+OK\nSubject: one\n\nfirst body\n.");
  pb_fake_server_expect (server, "DELE 1");
  pb_fake_server_send (server, "-ERR [SYS/PERM] read-only mailbox");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");

  pb_test_run_popbiffv (&fetch, NULL, fetch_args);
  problems = pb_fake_server_wait (server);
  g_assert_cmpstr (problems, ==, NULL);

  g_assert_cmpint (fetch.status, ==, 1);
  results = parse_array (parser, fetch.out);
  g_assert_cmpuint (json_array_get_length (results), ==, 1);
  result = json_array_get_object_element (results, 0);
  g_assert_cmpstr (json_object_get_string_member (result, "uidl"), ==, "uid-one");
  g_assert_false (json_object_get_boolean_member (result, "ok"));
  error = json_object_get_object_member (result, "error");
  g_assert_cmpstr (json_object_get_string_member (error, "kind"), ==, "server");
  path = json_object_get_string_member (result, "path");
  g_assert_nonnull (path);
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "Subject: one\n\nfirst body\n");
}

/* --delete, and the server goes away in the middle of the second message:
 * the first is on disk, and counted so, but a line says it is still on
 * the server; nothing is claimed deleted. */
static void
test_dropped_before_dele (void)
{
  static const char * const fetch_args[] = { "fetch", "fake", "--delete", NULL };
  static const char partial[] = "+OK\r\nSubject: two\r\n\r\nhalf of the bo";
  g_autoptr(PbFakeServer) server = pb_fake_server_new ();
  g_autofree char *problems = NULL;
  g_auto(PbTestRun) fetch = { 0 };

  if (!have_keyring ())
    return;
  add_fake_account (server);

  script_listing (server, "+OK\n1 uid-one\n2 uid-two\n.", "+OK 2 messages\n1 26\n2 40\n.");
  pb_fake_server_expect (server, "RETR 1");
  pb_fake_server_send (server, "+OK\nSubject: one\n\nfirst body\n.");
  pb_fake_server_expect (server, "RETR 2");
  pb_fake_server_send_raw (server, partial, strlen (partial));
  pb_fake_server_drop (server);

  pb_test_run_popbiffv (&fetch, NULL, fetch_args);
  problems = pb_fake_server_wait (server);
  g_assert_cmpstr (problems, ==, NULL);

  g_assert_cmpint (fetch.status, ==, 1);
  g_assert_true (g_str_has_prefix (fetch.out, "Downloaded 1 of 2 messages into "));
  /* Counted, not listed (see below). */
  g_assert_nonnull (strstr (fetch.err, "popbiff: 1 message was downloaded but not deleted "
                                       "from the server: the run stopped before deleting it."));
  g_assert_nonnull (strstr (fetch.err, "popbiff: 1 message was not downloaded; "));
  g_assert_null (strstr (fetch.err, "uid-"));
}

/* A message another mail program deleted while this fetch ran: its line
 * says so once, in plain words ("not downloaded" not twice). */
static void
test_expunged_line_reads_once (void)
{
  static const char * const fetch_args[] = { "fetch", "fake", NULL };
  g_autoptr(PbFakeServer) server = pb_fake_server_new ();
  g_autofree char *problems = NULL;
  g_auto(PbTestRun) fetch = { 0 };

  if (!have_keyring ())
    return;
  add_fake_account (server);

  script_listing (server, "+OK\n1 uid-one\n2 uid-two\n.", "+OK 2 messages\n1 26\n2 40\n.");
  pb_fake_server_expect (server, "RETR 1");
  pb_fake_server_send (server, "+OK\nSubject: one\n\nfirst body\n.");
  pb_fake_server_expect (server, "RETR 2");
  pb_fake_server_send (server, "-ERR Message 2 expunged.");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");

  pb_test_run_popbiffv (&fetch, NULL, fetch_args);
  problems = pb_fake_server_wait (server);
  g_assert_cmpstr (problems, ==, NULL);

  g_assert_cmpint (fetch.status, ==, 1);
  g_assert_true (g_str_has_prefix (fetch.out, "Downloaded 1 of 2 messages into "));
  g_assert_true (g_str_has_prefix (fetch.err, "uid-two: Not downloaded: another mail program deleted "
                                              "this message from the server"));
  g_assert_null (strstr (fetch.err, "not downloaded: Not downloaded"));
}

/* --folder "~/…" as a script passes it (quoted, so no shell expands it) is
 * in the home folder, as accounts add --folder takes it: not a folder
 * named "~" in the current one. */
static void
test_folder_tilde_is_home (void)
{
  static const char * const fetch_args[] = { "fetch", "fake", "--folder", "~/fetched here",
                                              "--format", "eml", "--json", NULL };
  g_autoptr(PbFakeServer) server = pb_fake_server_new ();
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *problems = NULL;
  g_autofree char *folder = g_build_filename (g_get_home_dir (), "fetched here", NULL);
  g_autofree char *parent = NULL;
  g_auto(PbTestRun) fetch = { 0 };
  JsonArray *results;
  const char *path;

  if (!have_keyring ())
    return;
  add_fake_account (server);

  script_listing (server, "+OK\n1 uid-one\n.", "+OK 1 message\n1 26\n.");
  pb_fake_server_expect (server, "RETR 1");
  pb_fake_server_send (server, "+OK\nSubject: one\n\nfirst body\n.");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");

  pb_test_run_popbiffv (&fetch, NULL, fetch_args);
  problems = pb_fake_server_wait (server);
  g_assert_cmpstr (problems, ==, NULL);

  g_assert_cmpint (fetch.status, ==, 0);
  results = parse_array (parser, fetch.out);
  g_assert_cmpuint (json_array_get_length (results), ==, 1);
  path = json_object_get_string_member (json_array_get_object_element (results, 0), "path");
  parent = g_path_get_dirname (path);
  g_assert_cmpstr (parent, ==, folder);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
}

/* A run stopped early in a big mailbox (the server gone, or Ctrl-C) says
 * so once, with counts: not one line per message it never got to, or got
 * but had not deleted yet. */
static void
test_stopped_run_is_one_line (void)
{
  static const char * const fetch_args[] = { "fetch", "fake", "--delete", NULL };
  g_autoptr(PbFakeServer) server = pb_fake_server_new ();
  g_autoptr(GString) uidl = g_string_new ("+OK\n");
  g_autoptr(GString) list = g_string_new ("+OK 200 messages\n");
  g_autofree char *problems = NULL;
  g_auto(PbTestRun) fetch = { 0 };
  g_auto(GStrv) lines = NULL;

  if (!have_keyring ())
    return;
  add_fake_account (server);

  for (guint i = 1; i <= 200; i++)
    {
      g_string_append_printf (uidl, "%u uid-%u\n", i, i);
      g_string_append_printf (list, "%u 26\n", i);
    }
  g_string_append (uidl, ".");
  g_string_append (list, ".");
  script_listing (server, uidl->str, list->str);
  pb_fake_server_expect (server, "RETR 1");
  pb_fake_server_send (server, "+OK\nSubject: one\n\nfirst body\n.");
  pb_fake_server_expect (server, "RETR 2");
  pb_fake_server_drop (server);

  pb_test_run_popbiffv (&fetch, NULL, fetch_args);
  problems = pb_fake_server_wait (server);
  g_assert_cmpstr (problems, ==, NULL);

  g_assert_cmpint (fetch.status, ==, 1);
  g_assert_true (g_str_has_prefix (fetch.out, "Downloaded 1 of 200 messages into "));
  lines = g_strsplit (g_strchomp (fetch.err), "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  g_assert_true (g_str_has_prefix (lines[0], "popbiff: account “fake”: "));
  g_assert_cmpstr (lines[1], ==,
                   "popbiff: 1 message was downloaded but not deleted from the server: "
                   "the run stopped before deleting it.");
  g_assert_cmpstr (lines[2], ==,
                   "popbiff: 199 messages were not downloaded; the same command fetches them later.");
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

  g_test_add_func ("/cli/fetch/json-contract", test_json_contract);
  g_test_add_func ("/cli/fetch/uidls-delete-and-failures", test_uidls_delete_and_failures);
  g_test_add_func ("/cli/fetch/unreachable-server", test_unreachable_server);
  g_test_add_func ("/cli/fetch/unreadable-state-fetches-nothing", test_unreadable_state_fetches_nothing);
  g_test_add_func ("/cli/fetch/bad-command-line", test_bad_command_line);
  g_test_add_func ("/cli/fetch/downloaded-not-deleted-has-path", test_downloaded_not_deleted_has_path);
  g_test_add_func ("/cli/fetch/dropped-before-dele", test_dropped_before_dele);
  g_test_add_func ("/cli/fetch/stopped-run-is-one-line", test_stopped_run_is_one_line);
  g_test_add_func ("/cli/fetch/folder-tilde-is-home", test_folder_tilde_is_home);
  g_test_add_func ("/cli/fetch/expunged-line-reads-once", test_expunged_line_reads_once);

  return g_test_run ();
}

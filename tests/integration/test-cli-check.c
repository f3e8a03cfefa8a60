/* "popbiff check / list / dismiss" as a script runs them: the built binary,
 * a private keyring (tests/tools/with-keyring.sh), a real Dovecot, isolated
 * XDG dirs. --json is exactly the contract of DESIGN.md; the exit status is
 * 0 (all well), 1 (an account or message failed) or 2 (command line or
 * configuration). */
#include <string.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

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

static void
add_account (PbTestDovecot *dovecot,
             const char    *name,
             const char    *password)
{
  g_autofree char *port = g_strdup_printf ("%u", pb_test_dovecot_get_tls_port (dovecot));
  g_autofree char *input = g_strdup_printf ("%s\n", password);
  g_auto(PbTestRun) add = { 0 };

  pb_test_run_popbiff (&add, input, "accounts", "add", name,
               "--host", pb_test_dovecot_get_host (dovecot), "--port", port,
               "--user", pb_test_dovecot_get_user (dovecot),
               "--ca-file", pb_test_dovecot_get_ca_file (dovecot),
               "--timeout", "60", "--password-stdin", NULL);
  g_assert_cmpint (add.status, ==, 0);
}

static void
deliver (PbTestDovecot *dovecot,
         const char    *from,
         const char    *subject)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = pb_test_mail_simple (from, subject, "Hi.\n");

  g_assert_true (pb_test_dovecot_deliver (dovecot, NULL, message, &error));
  g_assert_no_error (error);
}

/* A Dovecot with three messages (the last one international) and the
 * account "work" for it. */
static PbTestDovecot *
setup (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PbTestDovecot) dovecot = pb_test_dovecot_start (&error);
  g_autoptr(GBytes) international = NULL;

  g_assert_no_error (error);
  if (dovecot == NULL)
    return NULL;

  deliver (dovecot, "Ann <ann@example.org>", "first");
  deliver (dovecot, "bob@example.org", "second");
  international = pb_test_mail_awkward (PB_TEST_MAIL_INTERNATIONAL);
  g_assert_true (pb_test_dovecot_deliver (dovecot, NULL, international, &error));
  add_account (dovecot, "work", pb_test_dovecot_get_password (dovecot));
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

/* Exactly these members, no others. */
static void
assert_members (JsonObject          *object,
                const char * const  *names)
{
  g_autoptr(GList) members = json_object_get_members (object);

  g_assert_cmpuint (g_list_length (members), ==, g_strv_length ((char **) names));
  for (guint i = 0; names[i] != NULL; i++)
    g_assert_true (json_object_has_member (object, names[i]));
}

static void
test_check_json_contract (void)
{
  static const char * const members[] = { "account", "ok", "total", "new", "size", "error", NULL };
  g_autoptr(PbTestDovecot) dovecot = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(PbTestRun) run = { 0 };
  JsonArray *array;
  JsonObject *home, *work, *error;

  if (!have_keyring () || (dovecot = setup ()) == NULL)
    return;
  add_account (dovecot, "home", "not-the-password");

  pb_test_run_popbiff (&run, NULL, "check", "--json", NULL);
  g_assert_cmpint (run.status, ==, 1);  /* one account failed */
  array = parse_array (parser, run.out);
  g_assert_cmpuint (json_array_get_length (array), ==, 2);

  /* Accounts in name order. */
  home = json_array_get_object_element (array, 0);
  work = json_array_get_object_element (array, 1);
  assert_members (home, members);
  assert_members (work, members);

  g_assert_cmpstr (json_object_get_string_member (work, "account"), ==, "work");
  g_assert_true (json_object_get_boolean_member (work, "ok"));
  g_assert_cmpint (json_object_get_int_member (work, "total"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (work, "new"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (work, "size"), >, 0);
  g_assert_true (json_object_get_null_member (work, "error"));

  g_assert_cmpstr (json_object_get_string_member (home, "account"), ==, "home");
  g_assert_false (json_object_get_boolean_member (home, "ok"));
  g_assert_true (json_object_get_null_member (home, "total"));
  g_assert_true (json_object_get_null_member (home, "new"));
  g_assert_true (json_object_get_null_member (home, "size"));
  error = json_object_get_object_member (home, "error");
  g_assert_nonnull (error);
  g_assert_cmpstr (json_object_get_string_member (error, "kind"), ==, "auth");
  g_assert_cmpuint (strlen (json_object_get_string_member (error, "message")), >, 0);

  /* Only the good account: exit 0. */
  g_clear_pointer (&run.out, g_free);
  g_clear_pointer (&run.err, g_free);
  pb_test_run_popbiff (&run, NULL, "check", "work", "--json", NULL);
  g_assert_cmpint (run.status, ==, 0);
  array = parse_array (parser, run.out);
  g_assert_cmpuint (json_array_get_length (array), ==, 1);
}

static void
test_check_human_output (void)
{
  g_autoptr(PbTestDovecot) dovecot = NULL;
  g_auto(PbTestRun) run = { 0 };
  g_auto(PbTestRun) again = { 0 };
  g_auto(GStrv) lines = NULL;

  if (!have_keyring () || (dovecot = setup ()) == NULL)
    return;
  add_account (dovecot, "home-account", "not-the-password");

  pb_test_run_popbiff (&run, NULL, "check", NULL);
  g_assert_cmpint (run.status, ==, 1);
  lines = g_strsplit (run.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);  /* two lines and the end */
  /* One aligned line per account. */
  g_assert_true (g_str_has_prefix (lines[0], "home-account  error: "));
  g_assert_true (g_str_has_prefix (lines[1], "work          3 new of 3 ("));

  deliver (dovecot, "c@example.org", "third");
  pb_test_run_popbiff (&again, NULL, "check", "work", NULL);
  g_assert_cmpint (again.status, ==, 0);
  g_assert_true (g_str_has_prefix (again.out, "work  4 new of 4 ("));
}

static gint64
new_of (JsonArray  *array,
        const char *account)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *result = json_array_get_object_element (array, i);

      if (g_str_equal (json_object_get_string_member (result, "account"), account))
        {
          g_assert_true (json_object_get_boolean_member (result, "ok"));
          return json_object_get_int_member (result, "new");
        }
    }
  g_assert_not_reached ();
}

/* Several accounts' states load at once (in threads); each check still
 * gets its own account's state, and a damaged one is reported once, for
 * its account only. */
static void
test_check_many_states (void)
{
  static const char * const names[] = { "a1", "a2", "a3", "a4", "work" };
  g_autoptr(PbTestDovecot) dovecot = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *damaged = NULL;
  g_auto(PbTestRun) first = { 0 };
  g_auto(PbTestRun) dismiss = { 0 };
  g_auto(PbTestRun) run = { 0 };
  g_auto(PbTestRun) again = { 0 };
  JsonArray *array;

  if (!have_keyring () || (dovecot = setup ()) == NULL)
    return;
  for (guint i = 0; i < 4; i++)
    add_account (dovecot, names[i], pb_test_dovecot_get_password (dovecot));

  pb_test_run_popbiff (&first, NULL, "check", NULL);
  g_assert_cmpint (first.status, ==, 0);
  pb_test_run_popbiff (&dismiss, NULL, "dismiss", "a2", "--all", NULL);
  g_assert_cmpint (dismiss.status, ==, 0);

  pb_test_run_popbiff (&run, NULL, "check", "--json", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (run.err, ==, "");
  array = parse_array (parser, run.out);
  g_assert_cmpuint (json_array_get_length (array), ==, G_N_ELEMENTS (names));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_cmpint (new_of (array, names[i]), ==, g_str_equal (names[i], "a2") ? 0 : 3);

  /* a2's state damaged: set aside, its messages new again, said once. */
  damaged = g_build_filename (g_get_user_state_dir (), "popbiff", "a2.state", NULL);
  g_assert_true (g_file_set_contents (damaged, "not a state file\n", -1, &error));
  g_assert_no_error (error);
  pb_test_run_popbiff (&again, NULL, "check", "--json", NULL);
  g_assert_cmpint (again.status, ==, 0);
  array = parse_array (parser, again.out);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_cmpint (new_of (array, names[i]), ==, 3);
  g_test_message ("stderr: %s", again.err);
  g_assert_nonnull (strstr (again.err, "“a2”"));
  g_assert_null (strstr (strstr (again.err, "“a2”") + 1, "“a2”"));
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    if (!g_str_equal (names[i], "a2"))
      {
        g_autofree char *quoted = g_strdup_printf ("“%s”", names[i]);

        g_assert_null (strstr (again.err, quoted));
      }
}

static void
test_check_timeout (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *port = NULL;
  g_auto(PbTestRun) add = { 0 };
  g_auto(PbTestRun) run = { 0 };
  JsonObject *result;
  gint64 started;

  if (!have_keyring ())
    return;

  /* A server that accepts the connection (the kernel does, from the
   * backlog) and never says a word. */
  g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &bound, &error);
  g_assert_no_error (error);
  port = g_strdup_printf ("%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  pb_test_run_popbiff (&add, "secret\n", "accounts", "add", "silent", "--host", "127.0.0.1",
               "--port", port, "--user", "u", "--password-stdin", NULL);
  g_assert_cmpint (add.status, ==, 0);

  started = g_get_monotonic_time ();
  pb_test_run_popbiff (&run, NULL, "check", "--json", "--timeout", "2", NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_cmpint (g_get_monotonic_time () - started, <, 30 * G_USEC_PER_SEC);
  result = json_array_get_object_element (parse_array (parser, run.out), 0);
  g_assert_false (json_object_get_boolean_member (result, "ok"));
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (result, "error"), "kind"),
                   ==, "timeout");
}

/* check --timeout overrides an account's timeout, so it takes what an
 * account takes: 1 to 3600 seconds, and both say so in the same words. */
static void
test_check_timeout_bounds (void)
{
  static const char * const refused[][9] = {
    { "check", "--timeout", "3601", NULL },
    { "check", "--timeout", "86400", NULL },
    { "check", "--timeout", "0", NULL },
    { "accounts", "add", "x", "--host", "h", "--user", "u", "--timeout", "3601" },
    { "accounts", "add", "x", "--host", "h", "--user", "u", "--timeout", "0" },
  };
  g_auto(PbTestRun) largest = { 0 };

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_auto(PbTestRun) run = { 0 };

      pb_test_run_popbiff (&run, NULL, refused[i][0], refused[i][1], refused[i][2], refused[i][3],
                           refused[i][4], refused[i][5], refused[i][6], refused[i][7],
                           refused[i][8], NULL);
      g_assert_cmpint (run.status, ==, 2);
      g_assert_cmpstr (run.out, ==, "");
      g_assert_nonnull (strstr (run.err, "seconds from 1 to 3600"));
    }

  /* The largest one is taken (no accounts: nothing to wait for). */
  pb_test_run_popbiff (&largest, NULL, "check", "--timeout", "3600", NULL);
  g_assert_cmpint (largest.status, ==, 0);
}

static void
test_bad_command_lines (void)
{
  static const char * const cases[][4] = {
    { "check", "nosuch", NULL },
    { "check", "--timeout", "0", NULL },
    { "check", "--timeout", "soon", NULL },
    { "check", "--bogus", NULL },
    { "list", NULL },
    { "list", "nosuch", NULL },
    { "list", "a", "b", NULL },
    { "dismiss", NULL },
    { "dismiss", "nosuch", "--all", NULL },
    { "chekc", NULL },  /* a mistyped command, not the applet */
    { "list-all", "work", NULL },
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

/* --help opens with the command as a person types it and its operands,
 * each once. */
static void
test_help_usage_lines (void)
{
  static const char * const cases[][2] = {
    { "check", "popbiff check [OPTION…] [NAME…]" },
    { "list", "popbiff list [OPTION…] NAME" },
    { "dismiss", "popbiff dismiss [OPTION…] NAME [UIDL…]" },
    { "fetch", "popbiff fetch [OPTION…] NAME [UIDL…]" },
    { "probe", "popbiff probe [OPTION…] HOST" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(PbTestRun) run = { 0 };
      g_auto(GStrv) lines = NULL;

      pb_test_run_popbiff (&run, NULL, cases[i][0], "--help", NULL);
      g_assert_cmpint (run.status, ==, 0);
      lines = g_strsplit (run.out, "\n", 4);
      g_assert_cmpuint (g_strv_length (lines), >=, 4);
      g_assert_cmpstr (lines[0], ==, "Usage:");
      g_assert_cmpstr (g_strstrip (lines[1]), ==, cases[i][1]);
      g_assert_cmpstr (lines[2], ==, "");
      g_assert_cmpstr (lines[3], !=, "");  /* what the command does */
    }
}

static void
test_no_accounts (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(PbTestRun) run = { 0 };

  pb_test_run_popbiff (&run, NULL, "check", "--json", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpuint (json_array_get_length (parse_array (parser, run.out)), ==, 0);
}

/* A hand-edited accounts.conf with a bad value in one account: the others
 * are checked, and --json still has one element per account, the broken
 * one with kind "config" naming the key, so a script sees it (exit 2: the
 * configuration needs fixing). Named on the command line, the same. */
static void
test_broken_account_in_json (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonParser) named_parser = json_parser_new ();
  g_autofree char *port = g_strdup_printf ("%u", pb_test_closed_port ());
  g_autofree char *conf = g_build_filename (g_get_user_config_dir (), "popbiff", "accounts.conf", NULL);
  g_autofree char *text = NULL;
  g_autofree char *edited = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(PbTestRun) add = { 0 };
  g_auto(PbTestRun) all = { 0 };
  g_auto(PbTestRun) named = { 0 };
  JsonArray *results;
  JsonObject *bad, *good, *bad_error;

  pb_test_run_popbiff (&add, NULL, "accounts", "add", "good", "--host", "127.0.0.1",
                       "--port", port, "--security", "none", "--user", "u", NULL);
  g_assert_cmpint (add.status, ==, 0);
  g_assert_true (g_file_get_contents (conf, &text, NULL, &error));
  g_assert_no_error (error);
  edited = g_strconcat (text, "\n[bad]\nhost=h\nport=99999\nuser=u\n", NULL);
  g_assert_true (g_file_set_contents (conf, edited, -1, &error));
  g_assert_no_error (error);

  pb_test_run_popbiff (&all, NULL, "check", "--json", NULL);
  g_assert_cmpint (all.status, ==, 2);
  g_assert_nonnull (strstr (all.err, "“bad”"));
  results = parse_array (parser, all.out);
  g_assert_cmpuint (json_array_get_length (results), ==, 2);
  bad = json_array_get_object_element (results, 0);
  good = json_array_get_object_element (results, 1);
  g_assert_cmpstr (json_object_get_string_member (bad, "account"), ==, "bad");
  g_assert_false (json_object_get_boolean_member (bad, "ok"));
  g_assert_true (json_object_get_null_member (bad, "total"));
  g_assert_true (json_object_get_null_member (bad, "new"));
  g_assert_true (json_object_get_null_member (bad, "size"));
  bad_error = json_object_get_object_member (bad, "error");
  g_assert_cmpstr (json_object_get_string_member (bad_error, "kind"), ==, "config");
  g_assert_nonnull (strstr (json_object_get_string_member (bad_error, "message"), "port"));
  g_assert_cmpstr (json_object_get_string_member (good, "account"), ==, "good");

  pb_test_run_popbiff (&named, NULL, "check", "good", "bad", "--json", NULL);
  g_assert_cmpint (named.status, ==, 2);
  results = parse_array (named_parser, named.out);
  g_assert_cmpuint (json_array_get_length (results), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (results, 0), "account"),
                   ==, "good");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (results, 1), "account"),
                   ==, "bad");
}

/* Only disabled accounts: nothing is checked, and stderr says why (the
 * JSON stays the contract: an empty array). */
static void
test_all_disabled (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(PbTestRun) add = { 0 };
  g_auto(PbTestRun) human = { 0 };
  g_auto(PbTestRun) json = { 0 };

  pb_test_run_popbiff (&add, NULL, "accounts", "add", "off", "--host", "127.0.0.1",
                       "--user", "alice", "--disable", NULL);
  g_assert_cmpint (add.status, ==, 0);

  pb_test_run_popbiff (&human, NULL, "check", NULL);
  g_assert_cmpint (human.status, ==, 0);
  g_assert_cmpstr (human.out, ==, "");
  g_assert_nonnull (strstr (human.err, "disabled"));
  g_assert_nonnull (strstr (human.err, "--enable"));

  pb_test_run_popbiff (&json, NULL, "check", "--json", NULL);
  g_assert_cmpint (json.status, ==, 0);
  g_assert_cmpuint (json_array_get_length (parse_array (parser, json.out)), ==, 0);
}

static void
test_list_json (void)
{
  static const char * const members[] = { "uidl", "size", "from", "subject", "date", NULL };
  g_autoptr(PbTestDovecot) dovecot = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GDateTime) date = NULL;
  g_auto(PbTestRun) run = { 0 };
  JsonArray *array;
  JsonObject *newest, *oldest;

  if (!have_keyring () || (dovecot = setup ()) == NULL)
    return;

  /* No check before: list checks first. */
  pb_test_run_popbiff (&run, NULL, "list", "work", "--json", NULL);
  g_assert_cmpint (run.status, ==, 0);
  array = parse_array (parser, run.out);
  g_assert_cmpuint (json_array_get_length (array), ==, 3);
  for (guint i = 0; i < 3; i++)
    assert_members (json_array_get_object_element (array, i), members);

  /* Newest first, decoded, dates in ISO 8601. */
  newest = json_array_get_object_element (array, 0);
  oldest = json_array_get_object_element (array, 2);
  g_assert_cmpstr (json_object_get_string_member (newest, "subject"), ==,
                   PB_TEST_MAIL_INTERNATIONAL_SUBJECT);
  g_assert_true (g_str_has_prefix (json_object_get_string_member (newest, "from"),
                                   PB_TEST_MAIL_INTERNATIONAL_FROM_NAME " <"));
  g_assert_cmpstr (json_object_get_string_member (oldest, "from"), ==, "Ann <ann@example.org>");
  g_assert_cmpstr (json_object_get_string_member (oldest, "subject"), ==, "first");
  g_assert_cmpint (json_object_get_int_member (oldest, "size"), >, 0);
  g_assert_cmpuint (strlen (json_object_get_string_member (oldest, "uidl")), >, 0);
  date = g_date_time_new_from_iso8601 (json_object_get_string_member (oldest, "date"), NULL);
  g_assert_nonnull (date);
}

/* The server out of reach: list says why (exit 1) and shows what the last
 * check saw; with nothing to show it prints nothing, not "no new
 * messages", which it cannot know. */
static void
test_list_failed_check (void)
{
  g_autoptr(PbTestDovecot) dovecot = NULL;
  g_autofree char *port = g_strdup_printf ("%u", pb_test_closed_port ());
  g_auto(PbTestRun) first = { 0 };
  g_auto(PbTestRun) edit = { 0 };
  g_auto(PbTestRun) stale = { 0 };
  g_auto(PbTestRun) dismiss = { 0 };
  g_auto(PbTestRun) empty = { 0 };
  g_auto(GStrv) rows = NULL;

  if (!have_keyring () || (dovecot = setup ()) == NULL)
    return;

  pb_test_run_popbiff (&first, NULL, "list", "work", NULL);
  g_assert_cmpint (first.status, ==, 0);
  pb_test_run_popbiff (&edit, NULL, "accounts", "edit", "work", "--port", port, NULL);
  g_assert_cmpint (edit.status, ==, 0);

  pb_test_run_popbiff (&stale, NULL, "list", "work", NULL);
  g_assert_cmpint (stale.status, ==, 1);
  g_assert_nonnull (strstr (stale.err, "Could not connect"));
  g_assert_cmpstr (stale.out, ==, first.out);
  rows = g_strsplit (stale.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (rows), ==, 4);  /* three and the last newline */

  pb_test_run_popbiff (&dismiss, NULL, "dismiss", "work", "--all", NULL);
  g_assert_cmpint (dismiss.status, ==, 0);
  pb_test_run_popbiff (&empty, NULL, "list", "work", NULL);
  g_assert_cmpint (empty.status, ==, 1);
  g_assert_nonnull (strstr (empty.err, "Could not connect"));
  g_assert_cmpstr (empty.out, ==, "");
}

static const char *
uidl_at (JsonArray *array, guint i)
{
  return json_object_get_string_member (json_array_get_object_element (array, i), "uidl");
}

static void
test_dismiss (void)
{
  g_autoptr(PbTestDovecot) dovecot = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonParser) parser2 = json_parser_new ();
  g_autofree char *newest = NULL;
  g_auto(PbTestRun) list = { 0 };
  g_auto(PbTestRun) dismiss = { 0 };
  g_auto(PbTestRun) unknown = { 0 };
  g_auto(PbTestRun) check = { 0 };
  g_auto(PbTestRun) all = { 0 };
  g_auto(PbTestRun) after = { 0 };
  g_auto(PbTestRun) list_all = { 0 };
  JsonArray *array;

  if (!have_keyring () || (dovecot = setup ()) == NULL)
    return;

  pb_test_run_popbiff (&list, NULL, "list", "work", "--json", NULL);
  array = parse_array (parser, list.out);
  newest = g_strdup (uidl_at (array, 0));

  pb_test_run_popbiff (&dismiss, NULL, "dismiss", "work", newest, NULL);
  g_assert_cmpint (dismiss.status, ==, 0);

  /* An unknown UIDL is an error; the known one is still dismissed. */
  pb_test_run_popbiff (&unknown, NULL, "dismiss", "work", "no-such-uidl", uidl_at (array, 1), NULL);
  g_assert_cmpint (unknown.status, ==, 1);
  g_assert_nonnull (strstr (unknown.err, "no-such-uidl"));

  pb_test_run_popbiff (&check, NULL, "check", "work", "--json", NULL);
  g_assert_cmpint (check.status, ==, 0);
  array = parse_array (parser, check.out);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (array, 0), "new"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (array, 0), "total"), ==, 3);

  pb_test_run_popbiff (&all, NULL, "dismiss", "work", "--all", NULL);
  g_assert_cmpint (all.status, ==, 0);
  pb_test_run_popbiff (&after, NULL, "list", "work", "--json", NULL);
  g_assert_cmpuint (json_array_get_length (parse_array (parser, after.out)), ==, 0);

  /* --all lists every message on the server, dismissed ones too. */
  pb_test_run_popbiff (&list_all, NULL, "list", "work", "--all", "--json", NULL);
  array = parse_array (parser2, list_all.out);
  g_assert_cmpuint (json_array_get_length (array), ==, 3);
  g_assert_cmpstr (uidl_at (array, 0), ==, newest);
}

/* A state file that is there but cannot be read (a directory where it
 * should be; a file of mode 000 would be read all the same by root) says
 * nothing about which messages are new: check fails for the account with
 * the disk error and no counts, list lists nothing, dismiss changes
 * nothing; all exit 1 and name the file. Once it is back, nothing was
 * lost. */
/* dismiss --all before the account was ever checked: Popbiff knows none
 * of its messages, so it says to check first rather than "0 new left",
 * which the first check would contradict. */
static void
test_dismiss_before_check (void)
{
  g_auto(PbTestRun) add = { 0 };
  g_auto(PbTestRun) run = { 0 };

  pb_test_run_popbiff (&add, NULL, "accounts", "add", "fresh", "--host", "127.0.0.1",
                       "--user", "alice", NULL);
  g_assert_cmpint (add.status, ==, 0);

  pb_test_run_popbiff (&run, NULL, "dismiss", "fresh", "--all", NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_cmpstr (run.out, ==, "");
  g_assert_true (g_str_has_prefix (run.err, "popbiff: "));
  g_assert_nonnull (strstr (run.err, "popbiff check fresh"));
}

/* No password stored, and the keyring says so while the server has not
 * even greeted: one keyring error, and the check does not fail twice. */
static void
test_no_password (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autofree char *port = g_strdup_printf ("%u", pb_test_listen_silently (listener));
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(PbTestRun) add = { 0 };
  g_auto(PbTestRun) run = { 0 };
  JsonObject *object, *error;
  JsonArray *array;

  if (!have_keyring ())
    return;
  pb_test_run_popbiff (&add, NULL, "accounts", "add", "nopass", "--host", "127.0.0.1",
                       "--port", port, "--user", "alice", "--timeout", "60", NULL);
  g_assert_cmpint (add.status, ==, 0);

  pb_test_run_popbiff (&run, NULL, "check", "nopass", "--json", NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_cmpstr (run.err, ==, "");
  array = parse_array (parser, run.out);
  g_assert_cmpuint (json_array_get_length (array), ==, 1);
  object = json_array_get_object_element (array, 0);
  g_assert_false (json_object_get_boolean_member (object, "ok"));
  error = json_object_get_object_member (object, "error");
  g_assert_cmpstr (json_object_get_string_member (error, "kind"), ==, "keyring");
  g_assert_nonnull (strstr (json_object_get_string_member (error, "message"),
                            "popbiff accounts edit nopass --password-stdin"));
}

/* No password stored, and the server's port refuses connections, which
 * is known long before the keyring answers: still the keyring's error,
 * since no server would help without a password (DESIGN.md looks the
 * password up first). */
static void
test_no_password_and_no_server (void)
{
  g_autofree char *port = g_strdup_printf ("%u", pb_test_closed_port ());
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(PbTestRun) add = { 0 };
  g_auto(PbTestRun) run = { 0 };
  JsonObject *error;
  JsonArray *array;

  if (!have_keyring ())
    return;
  pb_test_run_popbiff (&add, NULL, "accounts", "add", "nopass", "--host", "127.0.0.1",
                       "--port", port, "--user", "alice", NULL);
  g_assert_cmpint (add.status, ==, 0);

  pb_test_run_popbiff (&run, NULL, "check", "nopass", "--json", NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_cmpstr (run.err, ==, "");
  array = parse_array (parser, run.out);
  g_assert_cmpuint (json_array_get_length (array), ==, 1);
  error = json_object_get_object_member (json_array_get_object_element (array, 0), "error");
  g_assert_cmpstr (json_object_get_string_member (error, "kind"), ==, "keyring");
}

static void
test_unreadable_state (void)
{
  static const char * const members[] = { "account", "ok", "total", "new", "size", "error", NULL };
  g_autoptr(PbTestDovecot) dovecot = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonParser) again_parser = json_parser_new ();
  g_autofree char *path = g_build_filename (g_get_user_state_dir (), "popbiff", "work.state", NULL);
  g_autofree char *kept = g_strconcat (path, ".kept", NULL);
  g_auto(PbTestRun) first = { 0 };
  g_auto(PbTestRun) check = { 0 };
  g_auto(PbTestRun) list = { 0 };
  g_auto(PbTestRun) dismiss = { 0 };
  g_auto(PbTestRun) again = { 0 };
  JsonArray *array;
  JsonObject *work, *error;
  const char *message;

  if (!have_keyring () || (dovecot = setup ()) == NULL)
    return;

  /* Two messages known and dismissed, one new. */
  pb_test_run_popbiff (&first, NULL, "list", "work", "--json", NULL);
  g_assert_cmpint (first.status, ==, 0);
  array = parse_array (parser, first.out);
  pb_test_run_popbiff (&dismiss, NULL, "dismiss", "work", uidl_at (array, 1), uidl_at (array, 2), NULL);
  g_assert_cmpint (dismiss.status, ==, 0);
  pb_test_run_clear (&dismiss);

  g_assert_cmpint (g_rename (path, kept), ==, 0);
  g_assert_cmpint (g_mkdir (path, 0700), ==, 0);

  pb_test_run_popbiff (&check, NULL, "check", "--json", NULL);
  g_assert_cmpint (check.status, ==, 1);
  array = parse_array (parser, check.out);
  g_assert_cmpuint (json_array_get_length (array), ==, 1);
  work = json_array_get_object_element (array, 0);
  assert_members (work, members);
  g_assert_false (json_object_get_boolean_member (work, "ok"));
  g_assert_true (json_object_get_null_member (work, "total"));
  g_assert_true (json_object_get_null_member (work, "new"));
  g_assert_true (json_object_get_null_member (work, "size"));
  error = json_object_get_object_member (work, "error");
  g_assert_cmpstr (json_object_get_string_member (error, "kind"), ==, "disk");
  message = json_object_get_string_member (error, "message");
  g_assert_nonnull (strstr (message, path));
  g_assert_nonnull (strstr (message, "Is a directory"));
  /* Said once, as the account's error: not also as the notice a damaged
   * state gets (which says its messages count as new again). */
  g_assert_null (strstr (check.err, path));

  pb_test_run_popbiff (&list, NULL, "list", "work", "--json", NULL);
  g_assert_cmpint (list.status, ==, 1);
  g_assert_cmpstr (list.out, ==, "");
  g_assert_nonnull (strstr (list.err, path));

  pb_test_run_popbiff (&dismiss, NULL, "dismiss", "work", "--all", NULL);
  g_assert_cmpint (dismiss.status, ==, 1);
  g_assert_cmpstr (dismiss.out, ==, "");
  g_assert_nonnull (strstr (dismiss.err, path));
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_DIR));

  /* Back in place: still one new of three. */
  g_assert_cmpint (g_rmdir (path), ==, 0);
  g_assert_cmpint (g_rename (kept, path), ==, 0);
  pb_test_run_popbiff (&again, NULL, "check", "--json", NULL);
  g_assert_cmpint (again.status, ==, 0);
  work = json_array_get_object_element (parse_array (again_parser, again.out), 0);
  g_assert_cmpint (json_object_get_int_member (work, "total"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (work, "new"), ==, 1);
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);
  g_test_add_func ("/cli/check/json-contract", test_check_json_contract);
  g_test_add_func ("/cli/check/human-output", test_check_human_output);
  g_test_add_func ("/cli/check/many-states", test_check_many_states);
  g_test_add_func ("/cli/check/timeout", test_check_timeout);
  g_test_add_func ("/cli/check/timeout-bounds", test_check_timeout_bounds);
  g_test_add_func ("/cli/check/bad-command-lines", test_bad_command_lines);
  g_test_add_func ("/cli/check/no-accounts", test_no_accounts);
  g_test_add_func ("/cli/check/all-disabled", test_all_disabled);
  g_test_add_func ("/cli/check/broken-account-in-json", test_broken_account_in_json);
  g_test_add_func ("/cli/help/usage-lines", test_help_usage_lines);
  g_test_add_func ("/cli/list/json", test_list_json);
  g_test_add_func ("/cli/list/failed-check", test_list_failed_check);
  g_test_add_func ("/cli/dismiss/lowers-new", test_dismiss);
  g_test_add_func ("/cli/check/unreadable-state", test_unreadable_state);
  g_test_add_func ("/cli/check/no-password", test_no_password);
  g_test_add_func ("/cli/check/no-password-and-no-server", test_no_password_and_no_server);
  g_test_add_func ("/cli/dismiss/before-check", test_dismiss_before_check);
  return g_test_run ();
}

/* PbAccountStore: accounts.conf round-trips, a hand-edited bad value names
 * the account and the key and leaves the other accounts working, and a
 * save never loses what it did not understand. */
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "core/pb-account-store.h"
#include "core/pb-core-error.h"
#include "pb-test-util.h"

static char *
config_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "popbiff", "accounts.conf", NULL);
}

static void
write_config (const char *text)
{
  g_autofree char *path = config_path ();
  g_autofree char *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static char *
read_config (void)
{
  g_autofree char *path = config_path ();
  char *text = NULL;

  g_assert_true (g_file_get_contents (path, &text, NULL, NULL));
  return text;
}

static PbAccountStore *
load_store (void)
{
  PbAccountStore *store = pb_account_store_new (NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (pb_account_store_load (store, &error));
  g_assert_no_error (error);
  return store;
}

static PbAccount *
make_account (const char *name,
              const char *host)
{
  PbAccount *account = pb_account_new (name);

  pb_account_set_host (account, host);
  pb_account_set_user (account, "alice@example.org");
  return account;
}

static void
test_default_path (void)
{
  g_autoptr(PbAccountStore) store = pb_account_store_new (NULL);
  g_autofree char *expected = config_path ();

  g_assert_cmpstr (pb_account_store_get_path (store), ==, expected);
}

static void
test_missing_file_is_empty (void)
{
  g_autoptr(PbAccountStore) store = load_store ();

  g_assert_cmpuint (pb_account_store_get_accounts (store)->len, ==, 0);
  g_assert_cmpuint (pb_account_store_get_load_errors (store)->len, ==, 0);
  g_assert_null (pb_account_store_lookup (store, "work"));
}

static void
test_round_trip (void)
{
  g_autoptr(PbAccountStore) store = load_store ();
  g_autoptr(PbAccountStore) again = NULL;
  g_autoptr(PbAccount) work = make_account ("work", "pop.work.example");
  g_autoptr(PbAccount) home = make_account ("home", "::1");
  g_autofree char *folder = g_build_filename (g_get_user_data_dir (), "Work Mail", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  PbAccount *loaded;
  GStatBuf st;

  pb_account_set_port (work, 1995);
  pb_account_set_security (work, PB_POP3_SECURITY_STARTTLS);
  pb_account_set_auth (work, PB_POP3_AUTH_SCRAM_SHA_256);
  pb_account_set_interval (work, 3);
  pb_account_set_folder (work, folder);
  pb_account_set_format (work, PB_DELIVERY_FORMAT_EML);
  pb_account_set_delete_after_download (work, TRUE);
  pb_account_set_pin_sha256 (work, "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89");
  pb_account_set_timeout (work, 45);
  pb_account_set_enabled (work, FALSE);
  pb_account_set_user (work, "Älice \\ \"q\" #1");

  g_assert_true (pb_account_store_add (store, work, &error));
  g_assert_no_error (error);
  g_assert_true (pb_account_store_add (store, home, &error));
  g_assert_true (pb_account_store_save (store, &error));
  g_assert_no_error (error);

  g_assert_cmpint (g_stat (pb_account_store_get_path (store), &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  text = read_config ();
  g_test_message ("%s", text);
  g_assert_nonnull (strstr (text, "[work]"));
  g_assert_nonnull (strstr (text, "security=starttls"));
  g_assert_nonnull (strstr (text, "auth=scram-sha-256"));
  g_assert_nonnull (strstr (text, "delete-after-download=true"));
  g_assert_null (strstr (text, "password"));

  again = load_store ();
  g_assert_cmpuint (pb_account_store_get_accounts (again)->len, ==, 2);
  /* Sorted by name. */
  g_assert_cmpstr (pb_account_get_name (g_ptr_array_index (pb_account_store_get_accounts (again), 0)), ==, "home");

  loaded = pb_account_store_lookup (again, "work");
  g_assert_nonnull (loaded);
  g_assert_cmpstr (pb_account_get_host (loaded), ==, "pop.work.example");
  g_assert_cmpuint (pb_account_get_port (loaded), ==, 1995);
  g_assert_cmpint (pb_account_get_security (loaded), ==, PB_POP3_SECURITY_STARTTLS);
  g_assert_cmpstr (pb_account_get_user (loaded), ==, "Älice \\ \"q\" #1");
  g_assert_cmpint (pb_account_get_auth (loaded), ==, PB_POP3_AUTH_SCRAM_SHA_256);
  g_assert_cmpuint (pb_account_get_interval (loaded), ==, 3);
  g_assert_cmpstr (pb_account_get_folder (loaded), ==, folder);
  g_assert_cmpint (pb_account_get_format (loaded), ==, PB_DELIVERY_FORMAT_EML);
  g_assert_true (pb_account_get_delete_after_download (loaded));
  g_assert_null (pb_account_get_ca_file (loaded));
  g_assert_cmpstr (pb_account_get_pin_sha256 (loaded), ==,
                   "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
  g_assert_cmpuint (pb_account_get_timeout (loaded), ==, 45);
  g_assert_false (pb_account_get_enabled (loaded));

  loaded = pb_account_store_lookup (again, "home");
  g_assert_cmpuint (pb_account_get_port (loaded), ==, 995);
  g_assert_cmpint (pb_account_get_security (loaded), ==, PB_POP3_SECURITY_TLS);
  g_assert_true (pb_account_get_enabled (loaded));
  {
    g_autofree char *default_folder = g_build_filename (g_get_home_dir (), "Mail", "home", NULL);

    g_assert_cmpstr (pb_account_get_folder (loaded), ==, default_folder);
  }
}

static void
test_minimal_group_defaults (void)
{
  g_autoptr(PbAccountStore) store = NULL;
  PbAccount *account;

  write_config ("[plain]\nhost=pop.example.org\nuser=bob\nsecurity=none\n"
                "[tls]\nhost=pop.example.org\nuser=bob\n");
  store = load_store ();
  account = pb_account_store_lookup (store, "plain");
  g_assert_nonnull (account);
  /* The default port follows the security. */
  g_assert_cmpuint (pb_account_get_port (account), ==, 110);
  g_assert_cmpuint (pb_account_get_interval (account), ==, PB_ACCOUNT_DEFAULT_INTERVAL);
  g_assert_cmpuint (pb_account_get_port (pb_account_store_lookup (store, "tls")), ==, 995);
}

/* One broken group per bad value; the good one between them still loads. */
static const struct {
  const char *name;
  const char *group;
  const char *key;   /* the word the error must contain */
} bad_groups[] = {
  { "bad-port", "port=99999", "port" },
  { "bad-port-text", "port=pop3", "port" },
  { "port-zero", "port=0", "port" },
  { "bad-security", "security=ssl", "security" },
  { "bad-auth", "auth=kerberos", "auth" },
  { "bad-interval", "interval=-5", "interval" },
  { "interval-zero", "interval=0", "interval" },
  { "bad-timeout", "timeout=soon", "timeout" },
  { "bad-format", "format=mbox", "format" },
  { "bad-bool", "delete-after-download=maybe", "delete-after-download" },
  { "bad-enabled", "enabled=yes please", "enabled" },
  { "bad-pin", "pin-sha256=1234", "pin-sha256" },
  { "missing-ca", "ca-file=/nonexistent/ca.pem", "CA file" },
  { "empty-host", "host=", "host" },
};

static void
test_hand_edited_bad_values (void)
{
  g_autoptr(GString) text = g_string_new ("# my accounts\n[good]\nhost=pop.example.org\nuser=bob\n\n");
  g_autoptr(PbAccountStore) store = NULL;
  GPtrArray *errors;

  for (guint i = 0; i < G_N_ELEMENTS (bad_groups); i++)
    g_string_append_printf (text, "[%s]\nhost=pop.example.org\nuser=bob\n%s\n\n",
                            bad_groups[i].name, bad_groups[i].group);
  write_config (text->str);

  store = load_store ();
  g_assert_cmpuint (pb_account_store_get_accounts (store)->len, ==, 1);
  g_assert_nonnull (pb_account_store_lookup (store, "good"));

  errors = pb_account_store_get_load_errors (store);
  g_assert_cmpuint (errors->len, ==, G_N_ELEMENTS (bad_groups));
  for (guint i = 0; i < G_N_ELEMENTS (bad_groups); i++)
    {
      const GError *error = pb_account_store_get_load_error (store, bad_groups[i].name);

      g_assert_nonnull (error);
      g_assert_error ((GError *) error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, bad_groups[i].name));
      g_assert_nonnull (strstr (error->message, bad_groups[i].key));
      g_assert_null (pb_account_store_lookup (store, bad_groups[i].name));
    }
}

static void
test_broken_group_survives_save_and_can_be_fixed (void)
{
  g_autoptr(PbAccountStore) store = NULL;
  g_autoptr(PbAccountStore) again = NULL;
  g_autoptr(PbAccount) added = make_account ("new", "pop.example.net");
  g_autoptr(PbAccount) fixed = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  write_config ("# keep this comment\n[broken]\nhost=pop.example.org\nuser=bob\nport=99999\nx-custom=kept\n");
  store = load_store ();
  g_assert_true (pb_account_store_add (store, added, NULL));
  g_assert_true (pb_account_store_save (store, NULL));

  text = read_config ();
  g_assert_nonnull (strstr (text, "# keep this comment"));
  g_assert_nonnull (strstr (text, "port=99999"));
  g_assert_nonnull (strstr (text, "x-custom=kept"));
  g_assert_nonnull (strstr (text, "[new]"));

  /* A duplicate of a broken account's name is still a duplicate. */
  {
    g_autoptr(PbAccount) dup = make_account ("broken", "pop.example.org");

    g_assert_false (pb_account_store_add (store, dup, &error));
    g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_EXISTS);
    g_clear_error (&error);
  }

  /* An editor gets what could be read, fixes it, and replaces it. */
  fixed = pb_account_store_dup_broken (store, "broken");
  g_assert_nonnull (fixed);
  g_assert_cmpstr (pb_account_get_user (fixed), ==, "bob");
  pb_account_set_port (fixed, 995);
  g_assert_true (pb_account_store_replace (store, fixed, &error));
  g_assert_no_error (error);
  g_assert_null (pb_account_store_get_load_error (store, "broken"));
  g_assert_cmpuint (pb_account_store_get_load_errors (store)->len, ==, 0);
  g_assert_true (pb_account_store_save (store, NULL));

  again = load_store ();
  g_assert_cmpuint (pb_account_store_get_accounts (again)->len, ==, 2);
  g_assert_cmpuint (pb_account_get_port (pb_account_store_lookup (again, "broken")), ==, 995);
  g_clear_pointer (&text, g_free);
  text = read_config ();
  g_assert_nonnull (strstr (text, "x-custom=kept"));
}

static void
test_duplicate_name (void)
{
  g_autoptr(PbAccountStore) store = load_store ();
  g_autoptr(PbAccount) first = make_account ("work", "a.example.org");
  g_autoptr(PbAccount) second = make_account ("work", "b.example.org");
  g_autoptr(GError) error = NULL;

  g_assert_true (pb_account_store_add (store, first, NULL));
  g_assert_false (pb_account_store_add (store, second, &error));
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_EXISTS);
  g_assert_nonnull (strstr (error->message, "work"));
  g_assert_cmpstr (pb_account_get_host (pb_account_store_lookup (store, "work")), ==, "a.example.org");
}

static void
test_unsafe_name (void)
{
  g_autoptr(PbAccountStore) store = load_store ();
  g_autoptr(PbAccount) account = make_account ("../../etc", "pop.example.org");
  g_autoptr(PbAccountStore) again = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_false (pb_account_store_add (store, account, &error));
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG);
  g_assert_cmpuint (pb_account_store_get_accounts (store)->len, ==, 0);

  /* Typed into the file by hand: a load error, not an account. */
  write_config ("[../x]\nhost=pop.example.org\nuser=bob\n[ok]\nhost=h\nuser=u\n");
  again = load_store ();
  g_assert_null (pb_account_store_lookup (again, "../x"));
  g_assert_nonnull (pb_account_store_get_load_error (again, "../x"));
  g_assert_nonnull (pb_account_store_lookup (again, "ok"));
}

static void
test_invalid_account_refused (void)
{
  g_autoptr(PbAccountStore) store = load_store ();
  g_autoptr(PbAccount) account = make_account ("work", "pop.example.org");
  g_autoptr(GError) error = NULL;

  pb_account_set_port (account, 0);
  g_assert_false (pb_account_store_add (store, account, &error));
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG);
}

static void
test_not_a_key_file (void)
{
  g_autoptr(PbAccountStore) store = pb_account_store_new (NULL);
  g_autoptr(GError) error = NULL;

  write_config ("this is not\na key file [\n");
  g_assert_false (pb_account_store_load (store, &error));
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "accounts.conf"));
}

static void
record_signal (PbAccountStore *store,
               PbAccount      *account,
               gpointer        user_data)
{
  GPtrArray *log = user_data;
  const char *signal = g_object_get_data (G_OBJECT (store), "current");

  g_ptr_array_add (log, g_strdup_printf ("%s:%s", signal, pb_account_get_name (account)));
}

static void
on_added (PbAccountStore *s, PbAccount *a, gpointer log)
{
  g_object_set_data (G_OBJECT (s), "current", (gpointer) "added");
  record_signal (s, a, log);
}

static void
on_removed (PbAccountStore *s, PbAccount *a, gpointer log)
{
  g_object_set_data (G_OBJECT (s), "current", (gpointer) "removed");
  record_signal (s, a, log);
}

static void
on_changed (PbAccountStore *s, PbAccount *a, gpointer log)
{
  g_object_set_data (G_OBJECT (s), "current", (gpointer) "changed");
  record_signal (s, a, log);
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  guint *count = user_data;

  (*count)++;
}

static char *
joined (GPtrArray *log)
{
  g_ptr_array_add (log, NULL);
  return g_strjoinv (" ", (char **) log->pdata);
}

static void
test_signals_and_replace_keeps_object (void)
{
  g_autoptr(PbAccountStore) store = load_store ();
  g_autoptr(PbAccount) work = make_account ("work", "a.example.org");
  g_autoptr(PbAccount) edited = NULL;
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  guint notified = 0;

  g_signal_connect (store, "account-added", G_CALLBACK (on_added), log);
  g_signal_connect (store, "account-removed", G_CALLBACK (on_removed), log);
  g_signal_connect (store, "account-changed", G_CALLBACK (on_changed), log);

  g_assert_true (pb_account_store_add (store, work, NULL));
  g_signal_connect (work, "notify::host", G_CALLBACK (count_notify), &notified);

  edited = pb_account_copy (work);
  pb_account_set_host (edited, "b.example.org");
  g_assert_true (pb_account_store_replace (store, edited, &error));
  g_assert_no_error (error);
  /* The stored object is updated, and says so. */
  g_assert_true (pb_account_store_lookup (store, "work") == work);
  g_assert_cmpstr (pb_account_get_host (work), ==, "b.example.org");
  g_assert_cmpuint (notified, ==, 1);

  g_assert_true (pb_account_store_remove (store, "work", NULL));
  g_assert_false (pb_account_store_remove (store, "work", &error));
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (pb_account_store_replace (store, edited, &error));
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_NOT_FOUND);

  text = joined (log);
  g_assert_cmpstr (text, ==, "added:work changed:work removed:work");
}

static void
test_remove_then_save_drops_group (void)
{
  g_autoptr(PbAccountStore) store = NULL;
  g_autoptr(PbAccountStore) again = NULL;
  g_autofree char *text = NULL;

  write_config ("[a]\nhost=h\nuser=u\n[b]\nhost=h\nuser=u\n[c]\nhost=h\nuser=u\nport=x\n");
  store = load_store ();
  g_assert_true (pb_account_store_remove (store, "a", NULL));
  g_assert_true (pb_account_store_remove (store, "c", NULL));  /* a broken one */
  g_assert_true (pb_account_store_save (store, NULL));

  text = read_config ();
  g_assert_null (strstr (text, "[a]"));
  g_assert_null (strstr (text, "[c]"));
  again = load_store ();
  g_assert_cmpuint (pb_account_store_get_accounts (again)->len, ==, 1);
  g_assert_cmpuint (pb_account_store_get_load_errors (again)->len, ==, 0);
}

static void
test_reload_reports_changes (void)
{
  g_autoptr(PbAccountStore) store = NULL;
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(PbAccount) kept = NULL;
  g_autofree char *text = NULL;

  write_config ("[a]\nhost=h\nuser=u\n[b]\nhost=h\nuser=u\n");
  store = load_store ();
  kept = g_object_ref (pb_account_store_lookup (store, "b"));
  g_signal_connect (store, "account-added", G_CALLBACK (on_added), log);
  g_signal_connect (store, "account-removed", G_CALLBACK (on_removed), log);
  g_signal_connect (store, "account-changed", G_CALLBACK (on_changed), log);

  write_config ("[b]\nhost=h2\nuser=u\n[c]\nhost=h\nuser=u\n");
  g_assert_true (pb_account_store_load (store, NULL));
  text = joined (log);
  g_assert_cmpstr (text, ==, "removed:a changed:b added:c");
  g_assert_true (pb_account_store_lookup (store, "b") == kept);
  g_assert_cmpstr (pb_account_get_host (kept), ==, "h2");
}

/* The applet and "popbiff accounts" share the file: a save never drops what
 * the other one changed since this store read it. */
static void
test_two_writers_keep_both_changes (void)
{
  g_autoptr(PbAccountStore) applet = NULL;
  g_autoptr(PbAccountStore) cli = NULL;
  g_autoptr(PbAccount) mine = make_account ("mine", "a.example.org");
  g_autoptr(PbAccount) theirs = make_account ("theirs", "b.example.org");
  g_autoptr(PbAccount) edited = NULL;
  g_autoptr(PbAccountStore) after = NULL;
  g_autoptr(GPtrArray) log = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *text = NULL;

  write_config ("# shared\n[old]\nhost=h\nuser=u\n[gone]\nhost=h\nuser=u\n");
  applet = load_store ();
  cli = load_store ();
  g_signal_connect (applet, "account-added", G_CALLBACK (on_added), log);

  /* The CLI adds one and removes one... */
  g_assert_true (pb_account_store_add (cli, theirs, NULL));
  g_assert_true (pb_account_store_remove (cli, "gone", NULL));
  g_assert_true (pb_account_store_save (cli, NULL));

  /* ...then the applet, which read the file before, adds and edits. */
  g_assert_true (pb_account_store_add (applet, mine, NULL));
  edited = pb_account_copy (pb_account_store_lookup (applet, "old"));
  pb_account_set_port (edited, 1995);
  g_assert_true (pb_account_store_replace (applet, edited, NULL));
  g_assert_true (pb_account_store_save (applet, NULL));

  after = load_store ();
  g_assert_nonnull (pb_account_store_lookup (after, "mine"));
  g_assert_nonnull (pb_account_store_lookup (after, "theirs"));
  g_assert_null (pb_account_store_lookup (after, "gone"));
  g_assert_cmpuint (pb_account_get_port (pb_account_store_lookup (after, "old")), ==, 1995);
  text = read_config ();
  g_assert_nonnull (strstr (text, "# shared"));

  /* The applet now knows the CLI's account too, and said so. */
  g_assert_nonnull (pb_account_store_lookup (applet, "theirs"));
  g_assert_null (pb_account_store_lookup (applet, "gone"));
  g_ptr_array_add (log, NULL);
  g_assert_true (g_strv_contains ((const char * const *) log->pdata, "added:theirs"));
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

  g_test_add_func ("/core/account-store/default-path", test_default_path);
  g_test_add_func ("/core/account-store/missing-file-is-empty", test_missing_file_is_empty);
  g_test_add_func ("/core/account-store/round-trip", test_round_trip);
  g_test_add_func ("/core/account-store/minimal-group-defaults", test_minimal_group_defaults);
  g_test_add_func ("/core/account-store/hand-edited-bad-values", test_hand_edited_bad_values);
  g_test_add_func ("/core/account-store/broken-group-survives-save-and-can-be-fixed",
                   test_broken_group_survives_save_and_can_be_fixed);
  g_test_add_func ("/core/account-store/duplicate-name", test_duplicate_name);
  g_test_add_func ("/core/account-store/unsafe-name", test_unsafe_name);
  g_test_add_func ("/core/account-store/invalid-account-refused", test_invalid_account_refused);
  g_test_add_func ("/core/account-store/not-a-key-file", test_not_a_key_file);
  g_test_add_func ("/core/account-store/signals-and-replace-keeps-object",
                   test_signals_and_replace_keeps_object);
  g_test_add_func ("/core/account-store/remove-then-save-drops-group", test_remove_then_save_drops_group);
  g_test_add_func ("/core/account-store/reload-reports-changes", test_reload_reports_changes);
  g_test_add_func ("/core/account-store/two-writers-keep-both-changes", test_two_writers_keep_both_changes);
  return g_test_run ();
}

/* "popbiff accounts …" as a person or a script runs it: the built binary,
 * a private keyring (tests/tools/with-keyring.sh), isolated XDG dirs. */
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <json-glib/json-glib.h>
#include <libsecret/secret.h>

#include "core/pb-core-error.h"
#include "core/pb-secrets.h"
#include "pb-test-util.h"

typedef struct {
  int   status;
  char *out;
  char *err;
} Run;

static void
run_clear (Run *run)
{
  g_free (run->out);
  g_free (run->err);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* GLib's test isolation moves the dirs for this process only (the
 * environment says /dev/null, so a child that is not told fails loudly):
 * hand the isolated dirs to popbiff explicitly. */
static GSubprocess *
spawn_popbiff (const char * const  *argv,
               GError             **error)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE);

  g_subprocess_launcher_setenv (launcher, "HOME", g_get_home_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", g_get_user_config_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", g_get_user_state_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", g_get_user_data_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", g_get_user_cache_dir (), TRUE);
  return g_subprocess_launcher_spawnv (launcher, argv, error);
}

/* Runs popbiff with the NULL-terminated arguments, feeding @input (may be
 * NULL) to its stdin. */
static void
run_popbiff (Run        *run,
             const char *input,
             ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  const char *arg;
  va_list args;

  g_ptr_array_add (argv, (gpointer) pb_test_popbiff ());
  va_start (args, input);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  process = spawn_popbiff ((const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, input, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  run->status = g_subprocess_get_exit_status (process);
  g_test_message ("exit %d\nstdout: %s\nstderr: %s", run->status, run->out, run->err);
}

static gboolean
have_keyring (void)
{
  const char *mode = g_getenv ("PB_TEST_KEYRING");

  if (mode != NULL && g_str_equal (mode, "keyring"))
    return TRUE;
  g_test_skip (mode == NULL ? "not run under tests/tools/with-keyring.sh"
                            : "this case needs a keyring");
  return FALSE;
}

static char *
config_text (void)
{
  g_autofree char *path = g_build_filename (g_get_user_config_dir (), "popbiff", "accounts.conf", NULL);
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

static void
got_result (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static char *
keyring_password (const char  *name,
                  GError     **error)
{
  g_autoptr(PbAccount) account = pb_account_new (name);
  g_autoptr(GAsyncResult) result = NULL;

  pb_secrets_lookup_async (account, NULL, got_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return pb_secrets_lookup_finish (result, error);
}

static JsonArray *
list_json (JsonParser *parser)
{
  g_auto(Run) run = { 0 };
  g_autoptr(GError) error = NULL;
  JsonNode *root;

  run_popbiff (&run, NULL, "accounts", "list", "--json", NULL);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (json_parser_load_from_data (parser, run.out, -1, &error));
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_cmpint (json_node_get_node_type (root), ==, JSON_NODE_ARRAY);
  return json_node_get_array (root);
}

static void
test_add_list_edit_remove (void)
{
  const char *password = "correct horse \"battery\" staple ü";
  g_autofree char *stdin_text = g_strconcat (password, "\n", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *state_path = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *stored = NULL;
  JsonArray *array;
  JsonObject *object;

  if (!have_keyring ())
    return;

  {
    g_auto(Run) run = { 0 };

    run_popbiff (&run, stdin_text, "accounts", "add", "work", "--host", "pop.example.org",
                 "--user", "alice", "--interval", "7", "--password-stdin", NULL);
    g_assert_cmpint (run.status, ==, 0);
    g_assert_nonnull (strstr (run.out, "work"));
  }

  /* The password went to the keyring, exactly, and nowhere else. */
  stored = keyring_password ("work", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stored, ==, password);
  text = config_text ();
  g_assert_nonnull (strstr (text, "[work]"));
  g_assert_null (strstr (text, "horse"));

  {
    g_auto(Run) run = { 0 };

    run_popbiff (&run, NULL, "accounts", "add", "home", "--host", "::1", "--user", "bob",
                 "--security", "starttls", "--format", "eml", "--delete-after-download", NULL);
    g_assert_cmpint (run.status, ==, 0);
  }

  /* Human output: a header and one aligned row per account. */
  {
    g_auto(Run) run = { 0 };
    g_auto(GStrv) lines = NULL;

    run_popbiff (&run, NULL, "accounts", "list", NULL);
    g_assert_cmpint (run.status, ==, 0);
    lines = g_strsplit (run.out, "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, 4);
    g_assert_true (g_str_has_prefix (lines[0], "NAME"));
    g_assert_true (g_str_has_prefix (lines[1], "home "));
    g_assert_true (g_str_has_prefix (lines[2], "work "));
    /* Aligned: the HOST column starts at the same place on every line. */
    g_assert_cmpint (strstr (lines[1], "::1") - lines[1], ==, strstr (lines[0], "HOST") - lines[0]);
    g_assert_cmpint (strstr (lines[2], "pop.") - lines[2], ==, strstr (lines[0], "HOST") - lines[0]);
  }

  /* JSON: every key, plus the name. */
  array = list_json (parser);
  g_assert_cmpuint (json_array_get_length (array), ==, 2);
  object = json_array_get_object_element (array, 0);
  g_assert_cmpstr (json_object_get_string_member (object, "name"), ==, "home");
  g_assert_cmpint (json_object_get_int_member (object, "port"), ==, 110);
  g_assert_cmpstr (json_object_get_string_member (object, "security"), ==, "starttls");
  g_assert_cmpstr (json_object_get_string_member (object, "format"), ==, "eml");
  g_assert_true (json_object_get_boolean_member (object, "delete-after-download"));
  object = json_array_get_object_element (array, 1);
  {
    const char *keys[] = { "name", "host", "port", "security", "user", "auth", "interval",
                           "folder", "format", "delete-after-download", "ca-file",
                           "pin-sha256", "timeout", "enabled" };

    for (guint i = 0; i < G_N_ELEMENTS (keys); i++)
      g_assert_true (json_object_has_member (object, keys[i]));
    g_assert_cmpuint (json_object_get_size (object), ==, G_N_ELEMENTS (keys));
  }
  g_assert_cmpstr (json_object_get_string_member (object, "host"), ==, "pop.example.org");
  g_assert_cmpint (json_object_get_int_member (object, "port"), ==, 995);
  g_assert_cmpstr (json_object_get_string_member (object, "security"), ==, "tls");
  g_assert_cmpstr (json_object_get_string_member (object, "user"), ==, "alice");
  g_assert_cmpstr (json_object_get_string_member (object, "auth"), ==, "auto");
  g_assert_cmpint (json_object_get_int_member (object, "interval"), ==, 7);
  folder = g_build_filename (g_get_home_dir (), "Mail", "work", NULL);
  g_assert_cmpstr (json_object_get_string_member (object, "folder"), ==, folder);
  g_assert_true (json_object_get_null_member (object, "ca-file"));
  g_assert_true (json_object_get_null_member (object, "pin-sha256"));
  g_assert_cmpint (json_object_get_int_member (object, "timeout"), ==, 30);
  g_assert_true (json_object_get_boolean_member (object, "enabled"));

  /* Edit: only the given options change; the port follows the security. */
  {
    g_auto(Run) run = { 0 };

    run_popbiff (&run, NULL, "accounts", "edit", "work", "--security", "starttls",
                 "--disable", "--timeout", "12", NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  {
    g_auto(Run) run = { 0 };

    run_popbiff (&run, NULL, "accounts", "edit", "home", "--no-delete-after-download",
                 "--port", "1110", NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  array = list_json (parser);
  object = json_array_get_object_element (array, 1);
  g_assert_cmpint (json_object_get_int_member (object, "port"), ==, 110);
  g_assert_cmpstr (json_object_get_string_member (object, "security"), ==, "starttls");
  g_assert_false (json_object_get_boolean_member (object, "enabled"));
  g_assert_cmpint (json_object_get_int_member (object, "timeout"), ==, 12);
  g_assert_cmpint (json_object_get_int_member (object, "interval"), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (object, "user"), ==, "alice");
  object = json_array_get_object_element (array, 0);
  g_assert_cmpint (json_object_get_int_member (object, "port"), ==, 1110);
  g_assert_false (json_object_get_boolean_member (object, "delete-after-download"));

  /* A new password replaces the old one. */
  {
    g_auto(Run) run = { 0 };

    run_popbiff (&run, "second\r\n", "accounts", "edit", "work", "--password-stdin", NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  g_clear_pointer (&stored, pb_secrets_free);
  stored = keyring_password ("work", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stored, ==, "second");

  /* Remove takes the keyring item and the state with it. */
  state_path = g_build_filename (g_get_user_state_dir (), "popbiff", "work.state", NULL);
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_state_dir (), 0700), ==, 0);
  {
    g_autofree char *dir = g_path_get_dirname (state_path);

    g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  }
  g_assert_true (g_file_set_contents (state_path, "popbiff-state\t1\t0\t0\n", -1, NULL));
  {
    g_auto(Run) run = { 0 };

    run_popbiff (&run, NULL, "accounts", "remove", "work", NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  g_assert_false (g_file_test (state_path, G_FILE_TEST_EXISTS));
  g_clear_pointer (&stored, pb_secrets_free);
  stored = keyring_password ("work", &error);
  g_assert_null (stored);
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_NO_PASSWORD);
  array = list_json (parser);
  g_assert_cmpuint (json_array_get_length (array), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (array, 0), "name"), ==, "home");

  g_clear_pointer (&text, g_free);
  text = config_text ();
  g_assert_null (strstr (text, "[work]"));
  g_assert_null (strstr (text, "second"));
  g_assert_null (strstr (text, "horse"));
}

/* Each wrong command line: exit status 2, one "popbiff: …" line that says
 * what is wrong, and nothing changed. */
static const struct {
  const char *path;
  const char *args[12];
  const char *says;
} bad_lines[] = {
  { "no-subcommand", { "accounts", NULL }, "subcommand" },
  { "unknown-subcommand", { "accounts", "frob", NULL }, "frob" },
  { "no-name", { "accounts", "add", "--host", "h", "--user", "u", NULL }, "NAME" },
  { "no-host", { "accounts", "add", "x", "--user", "u", NULL }, "--host" },
  { "no-user", { "accounts", "add", "x", "--host", "h", NULL }, "--user" },
  { "unsafe-name", { "accounts", "add", "../x", "--host", "h", "--user", "u", NULL }, "not allowed" },
  { "port-zero", { "accounts", "add", "x", "--host", "h", "--user", "u", "--port", "0", NULL }, "port" },
  { "port-too-big", { "accounts", "add", "x", "--host", "h", "--user", "u", "--port", "65536", NULL }, "port" },
  { "port-text", { "accounts", "add", "x", "--host", "h", "--user", "u", "--port", "pop", NULL }, "port" },
  { "port-negative", { "accounts", "add", "x", "--host", "h", "--user", "u", "--port", "-1", NULL }, "port" },
  { "security", { "accounts", "add", "x", "--host", "h", "--user", "u", "--security", "ssl", NULL }, "ssl" },
  { "auth", { "accounts", "add", "x", "--host", "h", "--user", "u", "--auth", "gssapi", NULL }, "gssapi" },
  { "interval", { "accounts", "add", "x", "--host", "h", "--user", "u", "--interval", "0", NULL }, "interval" },
  { "interval-absurd", { "accounts", "add", "x", "--host", "h", "--user", "u", "--interval", "99999", NULL }, "interval" },
  { "timeout", { "accounts", "add", "x", "--host", "h", "--user", "u", "--timeout", "1.5", NULL }, "timeout" },
  { "format", { "accounts", "add", "x", "--host", "h", "--user", "u", "--format", "mbox", NULL }, "mbox" },
  { "pin", { "accounts", "add", "x", "--host", "h", "--user", "u", "--pin-sha256", "abc", NULL }, "pin-sha256" },
  { "ca-file", { "accounts", "add", "x", "--host", "h", "--user", "u", "--ca-file", "/nonexistent.pem", NULL }, "CA file" },
  { "host-space", { "accounts", "add", "x", "--host", "a b", "--user", "u", NULL }, "host" },
  { "unknown-option", { "accounts", "add", "x", "--host", "h", "--user", "u", "--bogus", NULL }, "--bogus" },
  { "edit-missing", { "accounts", "edit", "nobody", "--port", "1", NULL }, "nobody" },
  { "edit-nothing", { "accounts", "edit", "nobody", NULL }, "Nothing to change" },
  { "remove-missing", { "accounts", "remove", "nobody", NULL }, "nobody" },
  { "list-extra", { "accounts", "list", "extra", NULL }, "extra" },
};

static void
test_bad_command_line (gconstpointer data)
{
  guint i = GPOINTER_TO_UINT (data);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *text = NULL;

  g_ptr_array_add (argv, (gpointer) pb_test_popbiff ());
  for (guint j = 0; bad_lines[i].args[j] != NULL; j++)
    g_ptr_array_add (argv, (gpointer) bad_lines[i].args[j]);
  g_ptr_array_add (argv, NULL);

  process = spawn_popbiff ((const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("stderr: %s", err);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 2);
  g_assert_true (g_str_has_prefix (err, "popbiff: "));
  g_assert_nonnull (strstr (err, bad_lines[i].says));
  text = config_text ();
  g_assert_cmpstr (text, ==, "");
}

static void
test_empty_password_refused (void)
{
  g_auto(Run) run = { 0 };
  g_autofree char *text = NULL;

  run_popbiff (&run, "\n", "accounts", "add", "work", "--host", "h", "--user", "u",
               "--password-stdin", NULL);
  g_assert_cmpint (run.status, ==, 2);
  g_assert_nonnull (strstr (run.err, "No password"));
  text = config_text ();
  g_assert_null (strstr (text, "[work]"));
}

static void
test_duplicate_name (void)
{
  g_auto(Run) first = { 0 };
  g_auto(Run) second = { 0 };

  run_popbiff (&first, NULL, "accounts", "add", "work", "--host", "a", "--user", "u", NULL);
  g_assert_cmpint (first.status, ==, 0);
  run_popbiff (&second, NULL, "accounts", "add", "work", "--host", "b", "--user", "u", NULL);
  g_assert_cmpint (second.status, ==, 2);
  g_assert_nonnull (strstr (second.err, "already exists"));
}

/* A hand-edited typo: list says which account and key, exits 2, still
 * lists the others; edit fixes it. */
static void
test_broken_account_listed_and_fixed (void)
{
  g_autofree char *path = g_build_filename (g_get_user_config_dir (), "popbiff", "accounts.conf", NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(JsonParser) parser = json_parser_new ();

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path,
                                      "[good]\nhost=h\nuser=u\n[typo]\nhost=h\nuser=u\nport=99o\n",
                                      -1, NULL));
  {
    g_auto(Run) run = { 0 };

    run_popbiff (&run, NULL, "accounts", "list", NULL);
    g_assert_cmpint (run.status, ==, 2);
    g_assert_nonnull (strstr (run.out, "good"));
    g_assert_nonnull (strstr (run.err, "typo"));
    g_assert_nonnull (strstr (run.err, "port"));
  }
  {
    g_auto(Run) run = { 0 };

    run_popbiff (&run, NULL, "accounts", "edit", "typo", "--port", "995", NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  g_assert_cmpuint (json_array_get_length (list_json (parser)), ==, 2);
}

static void
test_no_keyring (void)
{
  g_auto(Run) run = { 0 };
  g_autofree char *text = NULL;
  const char *mode = g_getenv ("PB_TEST_KEYRING");

  if (mode == NULL || !g_str_equal (mode, "none"))
    {
      g_test_skip ("needs a bus without a keyring (with-keyring.sh --no-keyring)");
      return;
    }

  run_popbiff (&run, "secret\n", "accounts", "add", "work", "--host", "h", "--user", "u",
               "--password-stdin", NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, "No keyring is running"));
  g_assert_null (strstr (run.err, "secret"));
  text = config_text ();
  g_assert_null (strstr (text, "[work]"));
}

/* accounts.conf cannot be written (here: another process holds its write
 * lock for longer than a save waits): the account is not added, and
 * neither is its password left in the keyring, where no account would
 * ever name it. */
static void
test_add_unsaved_leaves_no_password (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_config_dir (), "popbiff", NULL);
  g_autofree char *lock_path = g_build_filename (dir, "accounts.conf.write-lock", NULL);
  g_autoptr(GError) error = NULL;
  g_auto(Run) run = { 0 };
  char *stored;
  int lock_fd;

  if (!have_keyring ())
    return;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  g_assert_cmpint (lock_fd, >=, 0);
  g_assert_cmpint (flock (lock_fd, LOCK_EX), ==, 0);

  run_popbiff (&run, "secret\n", "accounts", "add", "work", "--host", "h", "--user", "u",
               "--password-stdin", NULL);
  close (lock_fd);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, "(account “work” was not added)"));

  stored = keyring_password ("work", &error);
  g_assert_null (stored);
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_NO_PASSWORD);
}

/* The same for accounts edit: the new password is in the keyring already
 * when the file turns out not to be writable, and the person is told which
 * of the two changes happened. */
static void
test_edit_unsaved_says_what_changed (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_config_dir (), "popbiff", NULL);
  g_autofree char *lock_path = g_build_filename (dir, "accounts.conf.write-lock", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  char *stored;
  g_auto(Run) add = { 0 };
  g_auto(Run) run = { 0 };
  int lock_fd;

  if (!have_keyring ())
    return;

  run_popbiff (&add, "first\n", "accounts", "add", "work", "--host", "h", "--user", "u",
               "--password-stdin", NULL);
  g_assert_cmpint (add.status, ==, 0);

  lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  g_assert_cmpint (lock_fd, >=, 0);
  g_assert_cmpint (flock (lock_fd, LOCK_EX), ==, 0);
  run_popbiff (&run, "second\n", "accounts", "edit", "work", "--port", "2995",
               "--password-stdin", NULL);
  close (lock_fd);

  g_assert_cmpint (run.status, ==, 1);
  g_assert_nonnull (strstr (run.err, "(the new password of account “work” is stored; "
                                     "its other settings were not changed)"));
  stored = keyring_password ("work", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stored, ==, "second");
  pb_secrets_free (stored);
  text = config_text ();
  g_assert_null (strstr (text, "2995"));
}

/* Run in its own keyring session (meson registers it apart): once locked,
 * a headless session cannot unlock it again. Removing an account whose
 * password sits in a locked keyring removes nothing, and says so: removed
 * anyway, nothing would name the keyring item any more. */
static void
test_remove_locked (void)
{
  g_auto(Run) add = { 0 };
  g_auto(Run) run = { 0 };
  g_autoptr(SecretService) service = NULL;
  g_autoptr(SecretCollection) collection = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  GList *objects = NULL;
  const char *mode = g_getenv ("PB_TEST_KEYRING");

  if (mode == NULL || !g_str_equal (mode, "keyring"))
    {
      g_test_skip ("needs a keyring (with-keyring.sh)");
      return;
    }

  run_popbiff (&add, "secret\n", "accounts", "add", "work", "--host", "h", "--user", "u",
               "--password-stdin", NULL);
  g_assert_cmpint (add.status, ==, 0);

  service = secret_service_get_sync (SECRET_SERVICE_LOAD_COLLECTIONS, NULL, &error);
  g_assert_no_error (error);
  collection = secret_collection_for_alias_sync (service, SECRET_COLLECTION_DEFAULT,
                                                 SECRET_COLLECTION_NONE, NULL, &error);
  g_assert_no_error (error);
  objects = g_list_append (objects, collection);
  g_assert_cmpint (secret_service_lock_sync (service, objects, NULL, NULL, &error), ==, 1);
  g_assert_no_error (error);
  g_list_free (objects);

  run_popbiff (&run, NULL, "accounts", "remove", "work", NULL);
  g_assert_cmpint (run.status, ==, 1);
  g_assert_cmpstr (run.out, ==, "");
  g_assert_true (g_str_has_prefix (run.err, "popbiff: Account “work” was not removed: "));
  g_assert_nonnull (strstr (run.err, "locked"));
  text = config_text ();
  g_assert_nonnull (strstr (text, "[work]"));
}

/* A script adds accounts with several "popbiff accounts add" at once: each
 * one's account is in the file afterwards (the saves took turns, and each
 * merged what the others had saved). */
static void
test_concurrent_adds_all_kept (void)
{
  enum { N_ADDS = 16 };
  g_autoptr(GPtrArray) processes = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(JsonParser) parser = json_parser_new ();
  JsonArray *array;

  for (guint i = 0; i < N_ADDS; i++)
    {
      g_autofree char *name = g_strdup_printf ("acct%02u", i);
      const char * const argv[] = { pb_test_popbiff (), "accounts", "add", name,
                                    "--host", "pop.example.org", "--user", "u", NULL };
      g_autoptr(GError) error = NULL;
      GSubprocess *process = spawn_popbiff (argv, &error);

      g_assert_no_error (error);
      g_ptr_array_add (processes, process);
    }
  for (guint i = 0; i < processes->len; i++)
    {
      GSubprocess *process = g_ptr_array_index (processes, i);
      g_autoptr(GError) error = NULL;

      g_subprocess_communicate_utf8 (process, NULL, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_subprocess_get_if_exited (process));
      g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
    }

  array = list_json (parser);
  g_assert_cmpuint (json_array_get_length (array), ==, N_ADDS);
  for (guint i = 0; i < N_ADDS; i++)
    {
      g_autofree char *name = g_strdup_printf ("acct%02u", i);

      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (array, i), "name"),
                       ==, name);
    }
}

/* --folder "" is the default folder ($HOME/Mail/NAME), as --ca-file ""
 * removes the CA file, never the directory popbiff happened to run in. */
static void
test_empty_folder_is_the_default (void)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *chosen = g_build_filename (g_get_home_dir (), "elsewhere", NULL);
  g_autofree char *standard = g_build_filename (g_get_home_dir (), "Mail", "work", NULL);
  g_autofree char *text = NULL;

  {
    g_auto(Run) run = { 0 };

    run_popbiff (&run, NULL, "accounts", "add", "work", "--host", "h", "--user", "u",
                 "--folder", "", NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (list_json (parser), 0),
                                                  "folder"), ==, standard);
  {
    g_auto(Run) run = { 0 };

    run_popbiff (&run, NULL, "accounts", "edit", "work", "--folder", chosen, NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (list_json (parser), 0),
                                                  "folder"), ==, chosen);
  {
    g_auto(Run) run = { 0 };

    run_popbiff (&run, NULL, "accounts", "edit", "work", "--folder", "", NULL);
    g_assert_cmpint (run.status, ==, 0);
  }
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (list_json (parser), 0),
                                                  "folder"), ==, standard);
  text = config_text ();
  g_assert_null (strstr (text, "folder="));
}

/* Every option "accounts add/edit --help" offers is in the man page (in
 * roff, "--host" is written "\-\-host"). */
static void
test_man_page_documents_options (void)
{
  g_autofree char *path = g_build_filename (pb_test_srcdir (), "..", "data", "popbiff.1", NULL);
  g_autofree char *page = NULL;
  const char *subcommands[] = { "add", "edit", "list", "remove" };
  guint checked = 0;

  g_assert_true (g_file_get_contents (path, &page, NULL, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (subcommands); i++)
    {
      g_auto(Run) run = { 0 };
      g_autoptr(GRegex) regex = g_regex_new ("^  (--[a-z0-9-]+)", G_REGEX_MULTILINE, 0, NULL);
      g_autoptr(GMatchInfo) match = NULL;
      g_autofree char *synopsis = g_strdup_printf ("accounts %s", subcommands[i]);

      g_assert_nonnull (strstr (page, synopsis));
      run_popbiff (&run, NULL, "accounts", subcommands[i], "--help", NULL);
      g_assert_cmpint (run.status, ==, 0);
      g_regex_match (regex, run.out, 0, &match);
      for (; g_match_info_matches (match); g_match_info_next (match, NULL))
        {
          g_autofree char *option = g_match_info_fetch (match, 1);
          g_auto(GStrv) parts = g_strsplit (option, "-", -1);
          g_autofree char *roff = g_strjoinv ("\\-", parts);

          if (g_str_equal (option, "--help"))
            continue;
          g_test_message ("%s: %s", subcommands[i], roff);
          g_assert_nonnull (strstr (page, roff));
          checked++;
        }
    }
  g_assert_cmpuint (checked, >=, 30);
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

  g_test_add_func ("/cli/accounts/add-list-edit-remove", test_add_list_edit_remove);
  for (guint i = 0; i < G_N_ELEMENTS (bad_lines); i++)
    {
      g_autofree char *path = g_strconcat ("/cli/accounts/bad-command-line/", bad_lines[i].path, NULL);
      g_test_add_data_func (path, GUINT_TO_POINTER (i), test_bad_command_line);
    }
  g_test_add_func ("/cli/accounts/empty-password-refused", test_empty_password_refused);
  g_test_add_func ("/cli/accounts/duplicate-name", test_duplicate_name);
  g_test_add_func ("/cli/accounts/broken-account-listed-and-fixed", test_broken_account_listed_and_fixed);
  g_test_add_func ("/cli/accounts/no-keyring", test_no_keyring);
  g_test_add_func ("/cli/accounts/man-page-documents-options", test_man_page_documents_options);
  g_test_add_func ("/cli/accounts/empty-folder-is-the-default", test_empty_folder_is_the_default);
  g_test_add_func ("/cli/accounts/concurrent-adds-all-kept", test_concurrent_adds_all_kept);
  g_test_add_func ("/cli/accounts/add-unsaved-leaves-no-password", test_add_unsaved_leaves_no_password);
  g_test_add_func ("/cli/accounts/edit-unsaved-says-what-changed", test_edit_unsaved_says_what_changed);
  /* Last: it locks the keyring for good. */
  g_test_add_func ("/cli/accounts/remove-locked", test_remove_locked);
  return g_test_run ();
}

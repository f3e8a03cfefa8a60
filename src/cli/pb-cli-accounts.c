/* pb-cli-accounts.c: popbiff accounts add|edit|list|remove (DESIGN.md,
 * "Command line"). */
#include <glib/gi18n.h>

#include "core/pb-core-error.h"
#include "core/pb-secrets.h"
#include "core/pb-state.h"
#include "pb-cli-commands.h"
#include "pb-cli-util.h"

/* What add and edit may be told; NULL / FALSE means "not given". */
typedef struct {
  char     *host;
  char     *user;
  char     *port;
  char     *security;
  char     *auth;
  char     *interval;
  char     *folder;
  char     *format;
  char     *ca_file;
  char     *pin_sha256;
  char     *timeout;
  gboolean  delete_after_download;
  gboolean  no_delete_after_download;
  gboolean  enable;
  gboolean  disable;
  gboolean  password_stdin;
} Settings;

static void
settings_clear (Settings *s)
{
  g_free (s->host);
  g_free (s->user);
  g_free (s->port);
  g_free (s->security);
  g_free (s->auth);
  g_free (s->interval);
  g_free (s->folder);
  g_free (s->format);
  g_free (s->ca_file);
  g_free (s->pin_sha256);
  g_free (s->timeout);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Settings, settings_clear)

static GOptionContext *
settings_context (Settings   *s,
                  const char *parameter,
                  const char *summary,
                  gboolean    edit)
{
  GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &s->host, N_("The POP3 server"), N_("HOST") },
    { "user", 0, 0, G_OPTION_ARG_STRING, &s->user, N_("The login name"), N_("USER") },
    { "port", 0, 0, G_OPTION_ARG_STRING, &s->port,
      N_("The port (default: 995 for tls, 110 for starttls and none)"), N_("N") },
    { "security", 0, 0, G_OPTION_ARG_STRING, &s->security,
      N_("tls (default), starttls or none"), N_("SECURITY") },
    { "auth", 0, 0, G_OPTION_ARG_STRING, &s->auth,
      N_("auto (default), user, apop, plain, login, cram-md5, scram-sha-256, xoauth2 or oauthbearer"), N_("METHOD") },
    { "interval", 0, 0, G_OPTION_ARG_STRING, &s->interval,
      N_("Minutes between checks (default: 10)"), N_("MINUTES") },
    { "folder", 0, 0, G_OPTION_ARG_FILENAME, &s->folder,
      N_("Where downloads go (default: ~/Mail/NAME)"), N_("DIR") },
    { "format", 0, 0, G_OPTION_ARG_STRING, &s->format,
      N_("maildir (default) or eml"), N_("FORMAT") },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &s->ca_file,
      N_("Trust the CA certificates in this PEM file too"), N_("PEM") },
    { "pin-sha256", 0, 0, G_OPTION_ARG_STRING, &s->pin_sha256,
      N_("Accept the server certificate with this SHA-256 fingerprint (see popbiff probe)"), N_("HEX") },
    { "delete-after-download", 0, 0, G_OPTION_ARG_NONE, &s->delete_after_download,
      N_("Delete messages from the server once they are safely downloaded"), NULL },
    { "no-delete-after-download", 0, edit ? 0 : G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE,
      &s->no_delete_after_download, N_("Keep downloaded messages on the server (the default)"), NULL },
    { "timeout", 0, 0, G_OPTION_ARG_STRING, &s->timeout,
      N_("Seconds to wait for the server (default: 30)"), N_("SECONDS") },
    { "enable", 0, edit ? 0 : G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &s->enable,
      N_("Check this account (the default)"), NULL },
    { "disable", 0, 0, G_OPTION_ARG_NONE, &s->disable,
      N_("Do not check this account until it is enabled again"), NULL },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &s->password_stdin,
      N_("Read the password from standard input and store it in the keyring"), NULL },
    { NULL },
  };
  GOptionContext *context = g_option_context_new (parameter);

  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  return context;
}

static int
usage (const char *command,
       const char *message)
{
  return pb_cli_usage_error (command, "%s", message);
}

/* Applies the given settings to @account. Returns PB_EXIT_OK, or prints what
 * is wrong and returns PB_EXIT_USAGE. */
static int
apply_settings (const Settings *s,
                PbAccount      *account,
                const char     *command)
{
  guint value;

  if (s->delete_after_download && s->no_delete_after_download)
    return usage (command, _("--delete-after-download and --no-delete-after-download contradict each other"));
  if (s->enable && s->disable)
    return usage (command, _("--enable and --disable contradict each other"));

  if (s->host != NULL)
    pb_account_set_host (account, s->host);
  if (s->user != NULL)
    pb_account_set_user (account, s->user);

  if (s->security != NULL)
    {
      PbPop3Security old = pb_account_get_security (account);
      PbPop3Security security;

      if (!pb_pop3_security_from_string (s->security, &security))
        return pb_cli_usage_error (command, _("Unknown security “%s”; use tls, starttls or none"), s->security);
      pb_account_set_security (account, security);
      /* The port follows the security unless it was set to something else. */
      if (s->port == NULL && pb_account_get_port (account) == pb_pop3_security_default_port (old))
        pb_account_set_port (account, pb_pop3_security_default_port (security));
    }
  if (s->port != NULL)
    {
      if (!pb_cli_parse_uint (s->port, 1, G_MAXUINT16, &value))
        return pb_cli_usage_error (command, _("The port “%s” is not a number from 1 to 65535"), s->port);
      pb_account_set_port (account, (guint16) value);
    }
  if (s->auth != NULL)
    {
      PbPop3AuthMethod auth;

      if (!pb_pop3_auth_method_from_string (s->auth, &auth))
        return pb_cli_usage_error (command,
                                   _("Unknown authentication method “%s”; use auto, user, apop, plain, login, cram-md5, scram-sha-256, xoauth2 or oauthbearer"),
                                   s->auth);
      pb_account_set_auth (account, auth);
    }
  if (s->interval != NULL)
    {
      if (!pb_cli_parse_uint (s->interval, 1, PB_ACCOUNT_INTERVAL_MAX, &value))
        return pb_cli_usage_error (command, _("The interval “%s” is not a whole number of minutes from 1 to %u"),
                                   s->interval, (guint) PB_ACCOUNT_INTERVAL_MAX);
      pb_account_set_interval (account, value);
    }
  if (s->folder != NULL)
    {
      /* --folder "" returns to the default folder, as "" removes a CA
       * file; made absolute it would be the current directory. */
      g_autofree char *folder = *s->folder != '\0' ? pb_cli_absolute_path (s->folder) : NULL;

      pb_account_set_folder (account, folder);
    }
  if (s->format != NULL)
    {
      PbDeliveryFormat format;

      if (!pb_delivery_format_from_string (s->format, &format))
        return pb_cli_usage_error (command, _("Unknown format “%s”; use maildir or eml"), s->format);
      pb_account_set_format (account, format);
    }
  if (s->ca_file != NULL)
    {
      g_autofree char *ca_file = *s->ca_file != '\0' ? pb_cli_absolute_path (s->ca_file) : NULL;

      pb_account_set_ca_file (account, ca_file);  /* --ca-file "" removes it */
    }
  if (s->pin_sha256 != NULL)
    pb_account_set_pin_sha256 (account, s->pin_sha256);  /* --pin-sha256 "" removes it */
  if (s->timeout != NULL)
    {
      if (!pb_cli_parse_uint (s->timeout, 1, PB_ACCOUNT_TIMEOUT_MAX, &value))
        return pb_cli_usage_error (command, _("The timeout “%s” is not a whole number of seconds from 1 to %u"),
                                   s->timeout, (guint) PB_ACCOUNT_TIMEOUT_MAX);
      pb_account_set_timeout (account, value);
    }
  if (s->delete_after_download)
    pb_account_set_delete_after_download (account, TRUE);
  if (s->no_delete_after_download)
    pb_account_set_delete_after_download (account, FALSE);
  if (s->enable)
    pb_account_set_enabled (account, TRUE);
  if (s->disable)
    pb_account_set_enabled (account, FALSE);

  return PB_EXIT_OK;
}

static gboolean
store_password (PbAccount   *account,
                const char  *password,
                GError     **error)
{
  g_autoptr(PbCliWait) wait = pb_cli_wait_new ();

  pb_secrets_store_async (account, password, NULL, pb_cli_wait_done, wait);
  return pb_secrets_store_finish (pb_cli_wait_run (wait), error);
}

/* Reads the password (when asked to) before anything is changed, so that
 * an empty one changes nothing. */
static int
read_password_if_asked (const Settings  *s,
                        char           **password)
{
  g_autoptr(GError) error = NULL;

  *password = NULL;
  if (!s->password_stdin)
    return PB_EXIT_OK;
  *password = pb_cli_read_password (&error);
  if (*password == NULL)
    {
      pb_cli_print_error (error);
      return PB_EXIT_USAGE;
    }
  return PB_EXIT_OK;
}

static int
accounts_add (int    argc,
              char **argv)
{
  g_auto(Settings) s = { 0 };
  g_autoptr(GOptionContext) context =
    settings_context (&s, _("NAME --host HOST --user USER"),
                      _("Adds an account. NAME is how Popbiff calls it (letters, digits, “.”, “_”, “-”, “@”, “+”)."),
                      FALSE);
  g_autoptr(PbAccountStore) store = NULL;
  g_autoptr(PbAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;
  char *password = NULL;
  int status = PB_EXIT_OK;

  if (!pb_cli_parse_options (context, "accounts add", &argc, &argv))
    return PB_EXIT_USAGE;
  if (argc != 2)
    return usage ("accounts add", argc < 2 ? _("Give the account a NAME") : _("Only one NAME, please"));
  name = argv[1];
  if (!pb_account_name_is_valid (name))
    return pb_cli_usage_error ("accounts add",
                               _("The name “%s” is not allowed: use 1–%d letters, digits, “.”, “_”, “-”, “@” or “+”, not starting with “.”"),
                               name, PB_ACCOUNT_NAME_MAX);
  if (s.host == NULL)
    return usage ("accounts add", _("--host is required: the POP3 server, e.g. --host pop.example.org"));
  if (s.user == NULL)
    return usage ("accounts add", _("--user is required: the login name for the mailbox"));
  if (s.no_delete_after_download || s.enable)
    return usage ("accounts add", _("--no-delete-after-download and --enable are for “accounts edit”; they are the defaults"));

  store = pb_cli_load_store (&status);
  if (store == NULL)
    return status;

  account = pb_account_new (name);
  /* Apply --security first so the default port follows it. */
  status = apply_settings (&s, account, "accounts add");
  if (status != PB_EXIT_OK)
    return status;

  if (!pb_account_store_add (store, account, &error))
    {
      pb_cli_print_error (error);
      return PB_EXIT_USAGE;
    }

  status = read_password_if_asked (&s, &password);
  if (status != PB_EXIT_OK)
    return status;
  /* The password first: when the keyring is not there, nothing is saved
   * and the same command can simply be run again. */
  if (password != NULL && !store_password (account, password, &error))
    {
      pb_cli_password_free (password);
      pb_cli_printerr (_("%s (account “%s” was not added)"), error->message, name);
      return PB_EXIT_FAILED;
    }
  pb_cli_password_free (password);

  if (!pb_account_store_save (store, &error))
    {
      /* No account names the password just stored: take it out again,
       * so that the same command, run once the file can be written, starts
       * from a clean keyring (and nothing is left there unasked). */
      if (s.password_stdin)
        {
          g_autoptr(PbCliWait) wait = pb_cli_wait_new ();
          g_autoptr(GError) clear_error = NULL;

          pb_secrets_clear_async (name, NULL, pb_cli_wait_done, wait);
          if (!pb_secrets_clear_finish (pb_cli_wait_run (wait), &clear_error))
            pb_cli_printerr (_("Its password stays in the keyring: %s"), clear_error->message);
        }
      pb_cli_printerr (_("%s (account “%s” was not added)"), error->message, name);
      return PB_EXIT_FAILED;
    }

  g_print (_("Added account “%s”.\n"), name);
  if (!s.password_stdin)
    g_print (_("Store its password with: popbiff accounts edit %s --password-stdin\n"), name);
  return PB_EXIT_OK;
}

static gboolean
settings_given (const Settings *s)
{
  return s->host || s->user || s->port || s->security || s->auth || s->interval ||
         s->folder || s->format || s->ca_file || s->pin_sha256 || s->timeout ||
         s->delete_after_download || s->no_delete_after_download || s->enable || s->disable;
}

static int
accounts_edit (int    argc,
               char **argv)
{
  g_auto(Settings) s = { 0 };
  g_autoptr(GOptionContext) context =
    settings_context (&s, _("NAME [OPTION…]"),
                      _("Changes an account: only the options given change."), TRUE);
  g_autoptr(PbAccountStore) store = NULL;
  g_autoptr(PbAccount) edited = NULL;
  g_autoptr(GError) error = NULL;
  PbAccount *account;
  const char *name;
  char *password = NULL;
  int status = PB_EXIT_OK;

  if (!pb_cli_parse_options (context, "accounts edit", &argc, &argv))
    return PB_EXIT_USAGE;
  if (argc != 2)
    return usage ("accounts edit", argc < 2 ? _("Which account? Give its NAME") : _("Only one NAME, please"));
  name = argv[1];
  if (!settings_given (&s) && !s.password_stdin)
    return usage ("accounts edit", _("Nothing to change: give an option such as --host, --port or --password-stdin"));

  store = pb_cli_load_store (&status);
  if (store == NULL)
    return status;

  /* An account whose settings have a bad value can be fixed here. */
  account = pb_account_store_lookup (store, name);
  if (account != NULL)
    edited = pb_account_copy (account);
  else
    edited = pb_account_store_dup_broken (store, name);
  if (edited == NULL)
    {
      pb_cli_printerr (_("There is no account named “%s”; see “popbiff accounts list”"), name);
      return PB_EXIT_USAGE;
    }

  status = apply_settings (&s, edited, "accounts edit");
  if (status != PB_EXIT_OK)
    return status;
  if (settings_given (&s) && !pb_account_store_replace (store, edited, &error))
    {
      pb_cli_print_error (error);
      return PB_EXIT_USAGE;
    }
  status = read_password_if_asked (&s, &password);
  if (status != PB_EXIT_OK)
    return status;
  if (password != NULL && !store_password (edited, password, &error))
    {
      pb_cli_password_free (password);
      pb_cli_printerr (_("%s (account “%s” was not changed)"), error->message, name);
      return PB_EXIT_FAILED;
    }
  pb_cli_password_free (password);

  if (settings_given (&s) && !pb_account_store_save (store, &error))
    {
      /* The keyring has the new password already: say so, or the person
       * would believe the old one is still in use. */
      if (s.password_stdin)
        pb_cli_printerr (_("%s (the new password of account “%s” is stored; its other "
                           "settings were not changed)"), error->message, name);
      else
        pb_cli_printerr (_("%s (account “%s” was not changed)"), error->message, name);
      return PB_EXIT_FAILED;
    }

  if (s.password_stdin)
    pb_cli_tell_applet_password_changed (name);
  g_print (_("Changed account “%s”.\n"), name);
  return PB_EXIT_OK;
}

static JsonNode *
account_to_json (PbAccount *account)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, pb_account_get_name (account));
  json_builder_set_member_name (builder, "host");
  json_builder_add_string_value (builder, pb_account_get_host (account));
  json_builder_set_member_name (builder, "port");
  json_builder_add_int_value (builder, pb_account_get_port (account));
  json_builder_set_member_name (builder, "security");
  json_builder_add_string_value (builder, pb_pop3_security_to_string (pb_account_get_security (account)));
  json_builder_set_member_name (builder, "user");
  json_builder_add_string_value (builder, pb_account_get_user (account));
  json_builder_set_member_name (builder, "auth");
  json_builder_add_string_value (builder, pb_pop3_auth_method_to_string (pb_account_get_auth (account)));
  json_builder_set_member_name (builder, "interval");
  json_builder_add_int_value (builder, pb_account_get_interval (account));
  json_builder_set_member_name (builder, "folder");
  json_builder_add_string_value (builder, pb_account_get_folder (account));
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, pb_delivery_format_to_string (pb_account_get_format (account)));
  json_builder_set_member_name (builder, "delete-after-download");
  json_builder_add_boolean_value (builder, pb_account_get_delete_after_download (account));
  json_builder_set_member_name (builder, "ca-file");
  if (pb_account_get_ca_file (account) != NULL)
    json_builder_add_string_value (builder, pb_account_get_ca_file (account));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "pin-sha256");
  if (pb_account_get_pin_sha256 (account) != NULL)
    json_builder_add_string_value (builder, pb_account_get_pin_sha256 (account));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "timeout");
  json_builder_add_int_value (builder, pb_account_get_timeout (account));
  json_builder_set_member_name (builder, "enabled");
  json_builder_add_boolean_value (builder, pb_account_get_enabled (account));
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static int
accounts_list (int    argc,
               char **argv)
{
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print a JSON array, one object per account"), NULL },
    { NULL },
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(PbAccountStore) store = NULL;
  GPtrArray *accounts;
  GPtrArray *errors;
  int status = PB_EXIT_OK;

  g_option_context_set_summary (context, _("Lists the accounts."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!pb_cli_parse_options (context, "accounts list", &argc, &argv))
    return PB_EXIT_USAGE;
  if (argc != 1)
    return pb_cli_usage_error ("accounts list", _("Unexpected argument “%s”"), argv[1]);

  store = pb_cli_load_store (&status);
  if (store == NULL)
    return status;
  accounts = pb_account_store_get_accounts (store);
  errors = pb_account_store_get_load_errors (store);

  if (json)
    {
      g_autoptr(JsonNode) root = json_node_new (JSON_NODE_ARRAY);
      JsonArray *array = json_array_sized_new (accounts->len);

      for (guint i = 0; i < accounts->len; i++)
        json_array_add_element (array, account_to_json (g_ptr_array_index (accounts, i)));
      json_node_take_array (root, array);
      pb_cli_print_json (root);
    }
  else if (accounts->len > 0)
    {
      g_autoptr(PbCliTable) table = pb_cli_table_new (7);

      pb_cli_table_add_row (table, _("NAME"), _("HOST"), _("PORT"), _("SECURITY"), _("USER"),
                            _("INTERVAL"), _("STATUS"), NULL);
      for (guint i = 0; i < accounts->len; i++)
        {
          PbAccount *account = g_ptr_array_index (accounts, i);
          g_autofree char *port = g_strdup_printf ("%u", pb_account_get_port (account));
          g_autofree char *interval = g_strdup_printf (_("%u min"), pb_account_get_interval (account));

          pb_cli_table_add_row (table, pb_account_get_name (account), pb_account_get_host (account),
                                port, pb_pop3_security_to_string (pb_account_get_security (account)),
                                pb_account_get_user (account), interval,
                                pb_account_get_enabled (account) ? _("enabled") : _("disabled"), NULL);
        }
      pb_cli_table_print (table);
    }
  else if (errors->len == 0)
    g_print (_("No accounts yet; add one with “popbiff accounts add NAME --host HOST --user USER”.\n"));

  /* Accounts with a bad value are not listed; they make the configuration
   * wrong, which is exit status 2. */
  for (guint i = 0; i < errors->len; i++)
    pb_cli_print_error (g_ptr_array_index (errors, i));
  return errors->len > 0 ? PB_EXIT_USAGE : PB_EXIT_OK;
}

static int
accounts_remove (int    argc,
                 char **argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (_("NAME"));
  g_autoptr(PbAccountStore) store = NULL;
  g_autoptr(PbCliWait) wait = pb_cli_wait_new ();
  g_autoptr(PbState) state = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) secret_error = NULL;
  const char *name;
  int status = PB_EXIT_OK;

  g_option_context_set_summary (context,
                                _("Removes an account, its password from the keyring and what Popbiff knew about its messages. Downloaded mail stays where it is."));
  if (!pb_cli_parse_options (context, "accounts remove", &argc, &argv))
    return PB_EXIT_USAGE;
  if (argc != 2)
    return usage ("accounts remove", argc < 2 ? _("Which account? Give its NAME") : _("Only one NAME, please"));
  name = argv[1];

  store = pb_cli_load_store (&status);
  if (store == NULL)
    return status;
  if (!pb_account_store_remove (store, name, &error))
    {
      pb_cli_print_error (error);
      return PB_EXIT_USAGE;
    }

  /* The password before the account is saved as gone: after that nothing
   * names its keyring item any more. A locked keyring can be unlocked and
   * the command run again, so the account stays until then; with no
   * keyring running at all there may never be one, so it goes anyway. */
  pb_secrets_clear_async (name, NULL, pb_cli_wait_done, wait);
  if (!pb_secrets_clear_finish (pb_cli_wait_run (wait), &secret_error) &&
      g_error_matches (secret_error, PB_CORE_ERROR, PB_CORE_ERROR_KEYRING_LOCKED))
    {
      pb_cli_printerr (_("Account “%s” was not removed: its password could not be removed "
                         "from the keyring: %s"), name, secret_error->message);
      return PB_EXIT_FAILED;
    }

  if (!pb_account_store_save (store, &error))
    {
      pb_cli_print_error (error);
      return PB_EXIT_FAILED;
    }
  if (secret_error != NULL)
    {
      pb_cli_printerr (_("Account “%s” was removed, but its password could not be removed from the keyring: %s"),
                       name, secret_error->message);
      status = PB_EXIT_FAILED;
    }

  /* Names are validated before they become file names; a hand-written
   * group with an unsafe name never had a state file. */
  if (pb_account_name_is_valid (name))
    {
      state = pb_state_new (name, NULL);
      if (!pb_state_delete_file (state, &error))
        {
          pb_cli_printerr (_("Account “%s” was removed, but its state could not be deleted: %s"),
                           name, error->message);
          status = PB_EXIT_FAILED;
        }
    }

  g_print (_("Removed account “%s”.\n"), name);
  return status;
}

/* On stdout when asked for with --help, on stderr after a mistake. */
static void
print_accounts_usage (gboolean asked)
{
  (asked ? g_print : g_printerr) ("%s", _("Usage:\n"
    "  popbiff accounts add NAME --host HOST --user USER [OPTION…]\n"
    "  popbiff accounts edit NAME [OPTION…]\n"
    "  popbiff accounts list [--json]\n"
    "  popbiff accounts remove NAME\n"
    "\n"
    "Run “popbiff accounts add --help” for the options; see popbiff(1).\n"));
}

int
pb_cli_accounts (int    argc,
                 char **argv)
{
  static const struct {
    const char *name;
    int       (*func) (int, char **);
  } subcommands[] = {
    { "add", accounts_add },
    { "edit", accounts_edit },
    { "list", accounts_list },
    { "remove", accounts_remove },
  };

  if (argc < 2)
    {
      pb_cli_printerr (_("accounts: give a subcommand: add, edit, list or remove"));
      print_accounts_usage (FALSE);
      return PB_EXIT_USAGE;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") || g_str_equal (argv[1], "help"))
    {
      print_accounts_usage (TRUE);
      return PB_EXIT_OK;
    }
  for (guint i = 0; i < G_N_ELEMENTS (subcommands); i++)
    if (g_str_equal (argv[1], subcommands[i].name))
      {
        /* The subcommand sees itself as argv[0], like a command. */
        g_autofree char *prgname = g_strdup_printf ("popbiff accounts %s", argv[1]);

        g_set_prgname (prgname);
        return subcommands[i].func (argc - 1, argv + 1);
      }

  pb_cli_printerr (_("accounts: unknown subcommand “%s”; use add, edit, list or remove"), argv[1]);
  return PB_EXIT_USAGE;
}

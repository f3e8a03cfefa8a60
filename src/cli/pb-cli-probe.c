/* pb-cli-probe.c: `popbiff probe HOST ...`, the engine's "Test connection".
 *
 * Connects, shows what a person needs to set up or debug an account
 * (greeting, TLS version and cipher, the certificate and whether it was
 * verified, capabilities, SASL mechanisms), and with credentials logs in
 * and does what a check does, without storing anything: STAT, UIDL, and
 * TOP of the newest message, so that a probe that succeeds means a check
 * will, and the report says how a check will tell messages apart. Exit
 * status: 0 all went well, 1 a failure it explains, 2 a wrong command
 * line.
 *
 * --json prints one object:
 *   {
 *     "host": "pop.example.org", "port": 995, "security": "tls",
 *     "ok": true,                      // everything asked for worked
 *     "greeting": "Dovecot ready." | null,
 *     "tls": null | {                  // null when security is "none"
 *       "version": "TLS 1.3" | null, "cipher": "TLS_AES_256_GCM_SHA384" | null,
 *       "certificate": null | {
 *         "subject": "CN=...", "issuer": "CN=...",
 *         "not_before": "2026-01-01T00:00:00Z", "not_after": "...",
 *         "sha256": "64 lowercase hex digits",
 *         "verified": true,            // trusted, or pinned
 *         "pinned": false,             // accepted because it matched --pin-sha256
 *         "errors": ["unknown-ca", "bad-identity", "not-activated",
 *                    "expired", "revoked", "insecure", "generic"],
 *         "problem": "A sentence saying why it is not trusted" | null
 *       }
 *     },
 *     "capabilities": ["TOP", "UIDL", "SASL PLAIN", ...],  // after login if logged in
 *     "capabilities_before_login": ["TOP", "UIDL", "USER", ...],
 *     "sasl": ["PLAIN", "SCRAM-SHA-256"],
 *     "implementation": "..." | null,
 *     "login_delay": 900 | null,       // seconds, from CAPA
 *     "expire": 30 | "never" | null,   // days, from CAPA
 *     "login": null | {"ok": true, "mechanism": "SCRAM-SHA-256" | null},
 *     "stat": null | {"messages": 12, "size": 123456},
 *     "mailbox": null | {              // after login, what a check can do
 *       "uidl": true,                  // false: the server refused UIDL, and
 *                                      // messages are told apart by headers
 *       "top": true | false | null,    // false: new mail shows without sender
 *                                      // and subject; null: not known (an
 *                                      // empty mailbox, or -ERR for the newest)
 *       "listed": 12                   // messages a check counts
 *     },
 *     "error": null | {"kind": "certificate", "message": "..."}
 *   }
 * "login", "stat" and "mailbox" are null when no credentials were given
 * (or the session failed before); "error" is the first failure, with
 * "kind" as in `check --json` (DESIGN.md).
 */
#include <glib/gi18n.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "core/pb-account.h"
#include "core/pb-check.h"
#include "core/pb-core-error.h"
#include "pop3/pb-pop3-client.h"
#include "pb-cli-commands.h"
#include "pb-cli-util.h"

#define MAX_TIMEOUT_SECONDS 3600

typedef struct {
  char             *host;
  gint              port;
  PbPop3Security    security;
  PbPop3AuthMethod  auth;
  const char       *ca_file;   /* borrowed from the option parser */
  const char       *pin;
  gint              timeout;
  const char       *user;
  gboolean          password_stdin;
  gboolean          json;
} ProbeOptions;

typedef enum {
  ANSWER_UNKNOWN,   /* not asked (an empty mailbox has no message to TOP) */
  ANSWER_YES,
  ANSWER_NO,        /* the server lacks the command */
  ANSWER_REFUSED,   /* -ERR for the one message asked about */
} Answer;

typedef struct {
  gboolean  connected;
  gboolean  tried_login;
  gboolean  logged_in;
  gboolean  have_stat;
  guint     messages;
  guint64   size;
  gboolean  have_mailbox;   /* UIDL (or its refusal) and TOP are in */
  Answer    uidl;
  Answer    top;
  guint     listed;         /* messages in the UIDL (or LIST) listing */
  guint     newest;         /* the message TOP was asked for */
  char     *top_refused;    /* why, for ANSWER_REFUSED */
  char    **capabilities_before;  /* CAPA before login */
  char    **sasl;           /* mechanisms offered before login (RFC 2449
                             * section 5: the CAPA after login lists none) */
  GError   *error;          /* the first failure */
} ProbeResult;

/* ---- the session ---------------------------------------------------------- */

/* Runs the listing a check runs and one TOP, and fails where a check would
 * fail (pb-check.c): a broken UIDL listing, a refused UIDL that CAPA
 * lists, no UIDL and no TOP. Returns FALSE with @error set then. */
static gboolean
probe_mailbox (PbPop3Client *client,
               ProbeResult  *result,
               PbCliWait    *wait,
               GError      **error)
{
  g_autoptr(GPtrArray) listing = NULL;
  g_autoptr(GBytes) headers = NULL;
  GError *local = NULL;
  guint newest;

  pb_pop3_client_uidl_async (client, NULL, pb_cli_wait_done, wait);
  listing = pb_pop3_client_uidl_finish (client, pb_cli_wait_run (wait), &local);
  if (g_error_matches (local, PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED))
    {
      g_clear_error (&local);
      result->uidl = ANSWER_NO;
      /* A check then names messages by their headers, from LIST + TOP. */
      pb_pop3_client_list_async (client, NULL, pb_cli_wait_done, wait);
      listing = pb_pop3_client_list_finish (client, pb_cli_wait_run (wait), &local);
    }
  else if (listing != NULL)
    result->uidl = ANSWER_YES;
  if (listing == NULL)
    {
      g_propagate_error (error, local);
      return FALSE;
    }
  result->listed = listing->len;

  if (listing->len > 0)
    {
      newest = ((PbPop3Listing *) g_ptr_array_index (listing, listing->len - 1))->number;
      pb_pop3_client_top_async (client, newest, 0, NULL, pb_cli_wait_done, wait);
      headers = pb_pop3_client_top_finish (client, pb_cli_wait_run (wait), &local);
      if (headers != NULL)
        result->top = ANSWER_YES;
      else if (g_error_matches (local, PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED))
        result->top = ANSWER_NO;
      else if (g_error_matches (local, PB_POP3_ERROR, PB_POP3_ERROR_SERVER) ||
               g_error_matches (local, PB_POP3_ERROR, PB_POP3_ERROR_SYS_TEMP))
        {
          /* Refused for that one message: a check tries it again later. */
          result->top = ANSWER_REFUSED;
          result->top_refused = g_strdup (local->message);
        }
      else
        {
          /* The connection is gone, or the answer broke the protocol. */
          g_propagate_error (error, local);
          return FALSE;
        }
      result->newest = newest;
      g_clear_error (&local);
    }
  result->have_mailbox = TRUE;

  if (result->uidl == ANSWER_NO && result->top == ANSWER_NO)
    {
      g_propagate_error (error, pb_check_error_no_identity ());
      return FALSE;
    }
  if (result->uidl == ANSWER_NO && result->top == ANSWER_REFUSED)
    {
      /* Without UIDL the headers name a message; a check fails as well. */
      g_set_error (error, PB_POP3_ERROR, PB_POP3_ERROR_SERVER,
                   _("The server has no UIDL, so its messages are told apart by "
                     "their headers, and it did not send those of message %u; a "
                     "check fails until it does. (%s)"),
                   result->newest, result->top_refused);
      return FALSE;
    }
  return TRUE;
}

static void
take_error (ProbeResult *result,
            GError      *error)
{
  if (result->error == NULL)
    result->error = error;
  else
    g_error_free (error);
}

static void
run_probe (PbPop3Client *client,
           ProbeOptions *options,
           const char   *password,
           ProbeResult  *result)
{
  g_autoptr(PbCliWait) wait = pb_cli_wait_new ();
  GError *error = NULL;

  pb_pop3_client_connect_async (client, NULL, pb_cli_wait_done, wait);
  if (!pb_pop3_client_connect_finish (client, pb_cli_wait_run (wait), &error))
    {
      take_error (result, error);
      return;
    }
  result->connected = TRUE;
  result->sasl = g_strdupv ((char **) pb_pop3_client_get_sasl_mechanisms (client));
  /* The CAPA after login replaces the client's list. */
  result->capabilities_before = g_strdupv ((char **) pb_pop3_client_get_capabilities (client));

  if (options->user != NULL)
    {
      result->tried_login = TRUE;
      pb_pop3_client_authenticate_async (client, options->user, password, options->auth,
                                         NULL, pb_cli_wait_done, wait);
      if (!pb_pop3_client_authenticate_finish (client, pb_cli_wait_run (wait), &error))
        {
          take_error (result, error);
          pb_pop3_client_close (client);
          return;
        }
      result->logged_in = TRUE;

      pb_pop3_client_stat_async (client, NULL, pb_cli_wait_done, wait);
      if (!pb_pop3_client_stat_finish (client, pb_cli_wait_run (wait),
                                       &result->messages, &result->size, &error))
        {
          take_error (result, error);
          pb_pop3_client_close (client);
          return;
        }
      result->have_stat = TRUE;

      if (!probe_mailbox (client, result, wait, &error))
        {
          take_error (result, error);
          pb_pop3_client_close (client);
          return;
        }
    }

  /* QUIT ends the session politely; it changes nothing on the server. */
  pb_pop3_client_quit_async (client, NULL, pb_cli_wait_done, wait);
  if (!pb_pop3_client_quit_finish (client, pb_cli_wait_run (wait), &error))
    g_clear_error (&error);
}

/* ---- output ------------------------------------------------------------------ */

static const struct {
  GTlsCertificateFlags flag;
  const char *name;
} certificate_flag_names[] = {
  { G_TLS_CERTIFICATE_UNKNOWN_CA, "unknown-ca" },
  { G_TLS_CERTIFICATE_BAD_IDENTITY, "bad-identity" },
  { G_TLS_CERTIFICATE_NOT_ACTIVATED, "not-activated" },
  { G_TLS_CERTIFICATE_EXPIRED, "expired" },
  { G_TLS_CERTIFICATE_REVOKED, "revoked" },
  { G_TLS_CERTIFICATE_INSECURE, "insecure" },
  { G_TLS_CERTIFICATE_GENERIC_ERROR, "generic" },
};

static char *
iso_date (GDateTime *date)
{
  return date ? g_date_time_format_iso8601 (date) : NULL;
}

static void
add_string (JsonBuilder *builder,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_strv (JsonBuilder        *builder,
          const char         *name,
          const char * const *values)
{
  json_builder_set_member_name (builder, name);
  json_builder_begin_array (builder);
  for (guint i = 0; values != NULL && values[i] != NULL; i++)
    json_builder_add_string_value (builder, values[i]);
  json_builder_end_array (builder);
}

static gboolean
certificate_verified (const PbPop3TlsInfo *info)
{
  return info->errors == 0 || info->pinned;
}

static void
print_json (PbPop3Client *client,
            ProbeOptions *options,
            ProbeResult  *result)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  const PbPop3TlsInfo *info = pb_pop3_client_get_tls_info (client);
  gint expire = pb_pop3_client_get_expire (client);
  gint login_delay = pb_pop3_client_get_login_delay (client);

  json_builder_begin_object (builder);
  add_string (builder, "host", options->host);
  json_builder_set_member_name (builder, "port");
  json_builder_add_int_value (builder, options->port);
  add_string (builder, "security", pb_pop3_security_to_string (options->security));
  json_builder_set_member_name (builder, "ok");
  json_builder_add_boolean_value (builder, result->error == NULL);
  add_string (builder, "greeting", pb_pop3_client_get_greeting (client));

  json_builder_set_member_name (builder, "tls");
  if (options->security == PB_POP3_SECURITY_NONE)
    json_builder_add_null_value (builder);
  else
    {
      json_builder_begin_object (builder);
      add_string (builder, "version", info ? info->tls_version : NULL);
      add_string (builder, "cipher", info ? info->cipher : NULL);
      json_builder_set_member_name (builder, "certificate");
      if (info == NULL || info->sha256 == NULL)
        json_builder_add_null_value (builder);
      else
        {
          g_autofree char *not_before = iso_date (info->not_before);
          g_autofree char *not_after = iso_date (info->not_after);
          g_autofree char *problem = NULL;

          if (info->errors != 0)
            problem = pb_pop3_certificate_errors_describe (info->errors);
          json_builder_begin_object (builder);
          add_string (builder, "subject", info->subject);
          add_string (builder, "issuer", info->issuer);
          add_string (builder, "not_before", not_before);
          add_string (builder, "not_after", not_after);
          add_string (builder, "sha256", info->sha256);
          json_builder_set_member_name (builder, "verified");
          json_builder_add_boolean_value (builder, certificate_verified (info));
          json_builder_set_member_name (builder, "pinned");
          json_builder_add_boolean_value (builder, info->pinned);
          json_builder_set_member_name (builder, "errors");
          json_builder_begin_array (builder);
          for (guint i = 0; i < G_N_ELEMENTS (certificate_flag_names); i++)
            if (info->errors & certificate_flag_names[i].flag)
              json_builder_add_string_value (builder, certificate_flag_names[i].name);
          json_builder_end_array (builder);
          add_string (builder, "problem", problem);
          json_builder_end_object (builder);
        }
      json_builder_end_object (builder);
    }

  add_strv (builder, "capabilities", pb_pop3_client_get_capabilities (client));
  add_strv (builder, "capabilities_before_login",
            (const char * const *) result->capabilities_before);
  add_strv (builder, "sasl", (const char * const *) result->sasl);
  add_string (builder, "implementation", pb_pop3_client_get_implementation (client));
  json_builder_set_member_name (builder, "login_delay");
  if (login_delay >= 0)
    json_builder_add_int_value (builder, login_delay);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "expire");
  if (expire == G_MAXINT)
    json_builder_add_string_value (builder, "never");
  else if (expire >= 0)
    json_builder_add_int_value (builder, expire);
  else
    json_builder_add_null_value (builder);

  json_builder_set_member_name (builder, "login");
  if (!result->tried_login)
    json_builder_add_null_value (builder);
  else
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "ok");
      json_builder_add_boolean_value (builder, result->logged_in);
      add_string (builder, "mechanism", pb_pop3_client_get_auth_mechanism (client));
      json_builder_end_object (builder);
    }

  json_builder_set_member_name (builder, "stat");
  if (!result->have_stat)
    json_builder_add_null_value (builder);
  else
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "messages");
      json_builder_add_int_value (builder, result->messages);
      json_builder_set_member_name (builder, "size");
      json_builder_add_int_value (builder, (gint64) result->size);
      json_builder_end_object (builder);
    }

  json_builder_set_member_name (builder, "mailbox");
  if (!result->have_mailbox)
    json_builder_add_null_value (builder);
  else
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "uidl");
      json_builder_add_boolean_value (builder, result->uidl == ANSWER_YES);
      json_builder_set_member_name (builder, "top");
      if (result->top == ANSWER_UNKNOWN || result->top == ANSWER_REFUSED)
        json_builder_add_null_value (builder);
      else
        json_builder_add_boolean_value (builder, result->top == ANSWER_YES);
      json_builder_set_member_name (builder, "listed");
      json_builder_add_int_value (builder, result->listed);
      json_builder_end_object (builder);
    }

  json_builder_set_member_name (builder, "error");
  if (result->error == NULL)
    json_builder_add_null_value (builder);
  else
    {
      json_builder_begin_object (builder);
      add_string (builder, "kind", pb_error_kind (result->error));
      add_string (builder, "message", result->error->message);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  pb_cli_print_json (root);
}

static char *
describe_capabilities (const char * const *capabilities)
{
  if (capabilities == NULL || capabilities[0] == NULL)
    return g_strdup (_("none (an RFC 1939 server without CAPA)"));
  return g_strjoinv (", ", (char **) capabilities);
}

static void
print_human (PbPop3Client *client,
             ProbeOptions *options,
             ProbeResult  *result)
{
  const PbPop3TlsInfo *info = pb_pop3_client_get_tls_info (client);
  const char * const *capabilities = (const char * const *) result->capabilities_before;
  const char * const *sasl = (const char * const *) result->sasl;
  g_autofree char *server = g_strdup_printf ("%s port %d (%s)", options->host, options->port,
                                             pb_pop3_security_to_string (options->security));
  g_autoptr(PbCliTable) table = pb_cli_table_new (2);

  pb_cli_table_add_row (table, _("Server:"), server, NULL);
  if (pb_pop3_client_get_greeting (client) != NULL)
    pb_cli_table_add_row (table, _("Greeting:"), pb_pop3_client_get_greeting (client), NULL);

  if (info != NULL && info->tls_version != NULL)
    {
      g_autofree char *tls = g_strdup_printf ("%s, %s", info->tls_version,
                                              info->cipher ? info->cipher : _("unknown cipher"));

      pb_cli_table_add_row (table, _("TLS:"), tls, NULL);
    }
  if (info != NULL && info->sha256 != NULL)
    {
      g_autofree char *from = info->not_before ? g_date_time_format (info->not_before, "%Y-%m-%d") : NULL;
      g_autofree char *until = info->not_after ? g_date_time_format (info->not_after, "%Y-%m-%d") : NULL;
      g_autofree char *validity = g_strdup_printf (_("%s to %s"), from ? from : "?", until ? until : "?");
      g_autofree char *verdict = NULL;

      if (info->pinned)
        verdict = g_strdup (_("yes (pinned)"));
      else if (info->errors == 0)
        verdict = g_strdup (_("yes"));
      else
        {
          g_autofree char *why = pb_pop3_certificate_errors_describe (info->errors);

          /* TRANSLATORS: %s is a sentence saying why */
          verdict = g_strdup_printf (_("no. %s"), why);
        }
      pb_cli_table_add_row (table, _("Certificate:"), info->subject ? info->subject : "?", NULL);
      pb_cli_table_add_row (table, _("  Issuer:"), info->issuer ? info->issuer : "?", NULL);
      pb_cli_table_add_row (table, _("  Valid:"), validity, NULL);
      pb_cli_table_add_row (table, _("  SHA-256:"), info->sha256, NULL);
      pb_cli_table_add_row (table, _("  Verified:"), verdict, NULL);
    }

  if (result->connected)
    {
      g_autofree char *capa = NULL;
      g_autofree char *mechanisms = NULL;

      capa = describe_capabilities (capabilities);
      mechanisms = sasl[0] ? g_strjoinv (" ", (char **) sasl) : g_strdup (_("none"));
      pb_cli_table_add_row (table, _("Capabilities:"), capa, NULL);
      pb_cli_table_add_row (table, _("SASL:"), mechanisms, NULL);
      if (pb_pop3_client_get_implementation (client) != NULL)
        pb_cli_table_add_row (table, _("Implementation:"), pb_pop3_client_get_implementation (client), NULL);
    }

  if (result->tried_login)
    {
      g_autofree char *login = NULL;

      if (result->logged_in)
        login = g_strdup_printf (_("ok (%s)"), pb_pop3_client_get_auth_mechanism (client));
      else
        login = g_strdup (_("failed"));
      pb_cli_table_add_row (table, _("Login:"), login, NULL);
    }
  if (result->logged_in)
    {
      g_autofree char *after = describe_capabilities (pb_pop3_client_get_capabilities (client));

      pb_cli_table_add_row (table, _("After login:"), after, NULL);
    }
  if (result->have_stat)
    {
      g_autofree char *size = g_format_size (result->size);
      g_autofree char *mailbox = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                               "%u message, %s",
                                                               "%u messages, %s",
                                                               result->messages),
                                                  result->messages, size);

      pb_cli_table_add_row (table, _("Mailbox:"), mailbox, NULL);
    }
  if (result->have_mailbox && result->listed != result->messages)
    {
      g_autofree char *listed = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                              "%u message, not the %u STAT "
                                                              "counts; a check counts what is "
                                                              "listed",
                                                              "%u messages, not the %u STAT "
                                                              "counts; a check counts what is "
                                                              "listed",
                                                              result->listed),
                                                 result->listed, result->messages);

      pb_cli_table_add_row (table, _("Listed:"), listed, NULL);
    }
  if (result->have_mailbox)
    {
      g_autofree char *top_refused = NULL;

      if (result->top == ANSWER_REFUSED)
        top_refused = g_strdup_printf (_("not known: refused for message %u; a check "
                                         "asks again later (%s)"),
                                       result->newest, result->top_refused);
      pb_cli_table_add_row (table, _("UIDL:"),
                            result->uidl == ANSWER_YES
                            ? _("yes")
                            : _("no: a check tells messages apart by their headers (TOP), "
                                "which costs one command per message"),
                            NULL);
      pb_cli_table_add_row (table, _("TOP:"),
                            result->top == ANSWER_YES
                            ? _("yes")
                            : result->top == ANSWER_NO
                            ? _("no: new mail is counted without sender or subject")
                            : result->top == ANSWER_REFUSED
                            ? top_refused
                            : _("not tried (the mailbox is empty)"),
                            NULL);
    }

  pb_cli_table_print (table);
  if (result->error != NULL)
    pb_cli_print_error (result->error);
}

/* ---- the command line ------------------------------------------------------- */

static int
usage_error (const char *message)
{
  return pb_cli_usage_error ("probe", "%s", message);
}

static gboolean
is_pin (const char *pin)
{
  guint digits = 0;

  for (const char *p = pin; *p != '\0'; p++)
    {
      if (*p == ':' || *p == ' ')
        continue;
      if (!g_ascii_isxdigit (*p))
        return FALSE;
      digits++;
    }
  return digits == 64;
}

int
pb_cli_probe (int    argc,
              char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PbPop3Client) client = NULL;
  g_autofree char *port = NULL;
  g_autofree char *timeout = NULL;
  g_autofree char *security = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *ca_file = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *user = NULL;
  g_auto(GStrv) rest = NULL;
  ProbeOptions options = { NULL, 0, PB_POP3_SECURITY_TLS, PB_POP3_AUTH_AUTO,
                           NULL, NULL, PB_POP3_DEFAULT_TIMEOUT, NULL, FALSE, FALSE };
  ProbeResult result = { FALSE, };
  char *password = NULL;
  guint number = 0;
  int status;
  GOptionEntry entries[] = {
    { "port", 0, 0, G_OPTION_ARG_STRING, &port,
      N_("Port (default 995 for tls, 110 otherwise)"), N_("N") },
    { "security", 0, 0, G_OPTION_ARG_STRING, &security,
      N_("tls (default), starttls or none"), N_("MODE") },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file,
      N_("Also trust the certificate authorities in this PEM file"), N_("PEM") },
    { "pin-sha256", 0, 0, G_OPTION_ARG_STRING, &pin,
      N_("Accept exactly the certificate with this SHA-256 fingerprint"), N_("HEX") },
    { "timeout", 0, 0, G_OPTION_ARG_STRING, &timeout,
      N_("Give up after this many seconds without an answer (default 30)"), N_("S") },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user,
      N_("Log in as this user (needs --password-stdin)"), N_("U") },
    { "password-stdin", 0, 0, G_OPTION_ARG_NONE, &options.password_stdin,
      N_("Read the password from standard input"), NULL },
    { "auth", 0, 0, G_OPTION_ARG_STRING, &auth,
      N_("auto (default), user, apop, plain, login, cram-md5, scram-sha-256, xoauth2, oauthbearer"),
      N_("METHOD") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &options.json,
      N_("Print one JSON object"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &rest, NULL, N_("HOST") },
    { NULL }
  };

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                _("Connects to a POP3 server and shows its greeting, TLS version and\n"
                                  "cipher, certificate, capabilities and, with --user, whether logging\n"
                                  "in works."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!pb_cli_parse_options (context, "probe", &argc, &argv))
    return PB_EXIT_USAGE;

  if (rest == NULL || rest[0] == NULL)
    return usage_error (_("Which server? Give a host name."));
  if (rest[1] != NULL)
    return usage_error (_("Give exactly one host name."));
  if (pb_account_host_has_port_or_url (rest[0]))
    return pb_cli_usage_error ("probe", _("“%s” is not a host name; give only the name or "
                                          "address (such as pop.example.org or ::1, no "
                                          "brackets), and the port with --port."), rest[0]);
  options.host = rest[0];
  options.ca_file = ca_file;
  options.pin = pin;
  options.user = user;

  if (security != NULL && !pb_pop3_security_from_string (security, &options.security))
    return usage_error (_("--security must be tls, starttls or none."));
  if (auth != NULL && !pb_pop3_auth_method_from_string (auth, &options.auth))
    return usage_error (_("--auth must be one of auto, user, apop, plain, login, "
                          "cram-md5, scram-sha-256, xoauth2, oauthbearer."));
  if (port == NULL)
    options.port = pb_pop3_security_default_port (options.security);
  else if (pb_cli_parse_uint (port, 1, 65535, &number))
    options.port = (gint) number;
  else
    return usage_error (_("--port must be a number from 1 to 65535."));
  if (timeout != NULL)
    {
      if (!pb_cli_parse_uint (timeout, 1, MAX_TIMEOUT_SECONDS, &number))
        return usage_error (_("--timeout must be a number of seconds from 1 to 3600."));
      options.timeout = (gint) number;
    }
  if (pin != NULL && !is_pin (pin))
    return usage_error (_("--pin-sha256 must be a SHA-256 fingerprint: 64 "
                          "hexadecimal digits (colons allowed)."));
  if (ca_file != NULL && !g_file_test (ca_file, G_FILE_TEST_IS_REGULAR))
    return usage_error (_("The --ca-file does not exist or is not a file."));
  if (user != NULL && !options.password_stdin)
    return usage_error (_("--user needs --password-stdin (a password is never "
                          "taken from the command line)."));
  if (user == NULL && options.password_stdin)
    return usage_error (_("--password-stdin needs --user."));
  if (auth != NULL && user == NULL)
    return usage_error (_("--auth needs --user."));

  if (options.password_stdin)
    {
      password = pb_cli_read_password (&error);
      if (password == NULL)
        return usage_error (error->message);
    }

  client = pb_pop3_client_new (options.host, (guint16) options.port, options.security);
  pb_pop3_client_set_timeout (client, (guint) options.timeout);
  pb_pop3_client_set_ca_file (client, ca_file);
  pb_pop3_client_set_pin_sha256 (client, pin);

  run_probe (client, &options, password, &result);
  pb_cli_password_free (password);

  if (options.json)
    print_json (client, &options, &result);
  else
    print_human (client, &options, &result);

  status = result.error == NULL ? PB_EXIT_OK : PB_EXIT_FAILED;
  g_clear_error (&result.error);
  g_strfreev (result.sasl);
  g_strfreev (result.capabilities_before);
  g_free (result.top_refused);
  return status;
}

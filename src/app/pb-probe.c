/* pb-probe.c: one short session that reports what it found. */
#include <string.h>
#include <glib/gi18n.h>

#include "core/pb-check.h"
#include "core/pb-core-error.h"
#include "core/pb-secrets.h"
#include "pb-probe.h"

typedef struct {
  PbAccount     *account;   /* owned */
  PbPop3Client  *client;    /* owned */
  char          *password;  /* owned, wiped */
  gboolean       login;
  gboolean       no_uidl;   /* UIDL refused: a check names messages by headers */
  PbProbeReport *report;    /* owned until returned */
} ProbeData;

void
pb_probe_report_free (PbProbeReport *report)
{
  if (report == NULL)
    return;
  g_clear_pointer (&report->tls_info, pb_pop3_tls_info_free);
  g_strfreev (report->capabilities);
  g_free (report->mechanism);
  g_clear_error (&report->error);
  g_free (report);
}

static void
probe_data_free (ProbeData *data)
{
  g_clear_object (&data->account);
  if (data->client != NULL)
    pb_pop3_client_close (data->client);
  g_clear_object (&data->client);
  if (data->password != NULL)
    {
      memset (data->password, 0, strlen (data->password));
      g_free (data->password);
    }
  pb_probe_report_free (data->report);
  g_free (data);
}

static void
finish (GTask *task)
{
  ProbeData *data = g_task_get_task_data (task);

  g_task_return_pointer (task, g_steal_pointer (&data->report), (GDestroyNotify) pb_probe_report_free);
}

static void
fail (GTask  *task,
      GError *error)
{
  ProbeData *data = g_task_get_task_data (task);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, error);
      return;
    }
  if (data->report->error == NULL)
    data->report->error = error;
  else
    g_error_free (error);
  finish (task);
}

static void
on_quit (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;

  /* What matters was learned; a failed QUIT changes nothing here. */
  pb_pop3_client_quit_finish (PB_POP3_CLIENT (source), result, NULL);
  finish (task);
}

static void
quit (GTask *task)
{
  ProbeData *data = g_task_get_task_data (task);

  pb_pop3_client_quit_async (data->client, g_task_get_cancellable (task), on_quit,
                             g_object_ref (task));
}

/* The newest message's headers: what a check needs from TOP. Refused for
 * that one message, a check tries again later; but without UIDL the
 * headers are a message's only name, and the check fails as this says. */
static void
on_top (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ProbeData *data = g_task_get_task_data (task);
  g_autoptr(GBytes) headers = NULL;
  GError *error = NULL;

  headers = pb_pop3_client_top_finish (data->client, result, &error);
  if (headers != NULL)
    {
      quit (task);
      return;
    }
  if (g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED) && data->no_uidl)
    {
      g_error_free (error);
      fail (task, pb_check_error_no_identity ());
      return;
    }
  if ((g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_SERVER) ||
       g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_SYS_TEMP) ||
       g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED)) && !data->no_uidl)
    {
      g_error_free (error);  /* summaries only: the check goes on */
      quit (task);
      return;
    }
  fail (task, error);
}

static void
on_listing (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ProbeData *data = g_task_get_task_data (task);
  g_autoptr(GPtrArray) listing = NULL;
  GError *error = NULL;

  if (data->no_uidl)
    listing = pb_pop3_client_list_finish (data->client, result, &error);
  else
    {
      listing = pb_pop3_client_uidl_finish (data->client, result, &error);
      if (g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED))
        {
          /* A check then names messages by their headers, from LIST + TOP. */
          g_clear_error (&error);
          data->no_uidl = TRUE;
          pb_pop3_client_list_async (data->client, g_task_get_cancellable (task), on_listing,
                                     g_object_ref (task));
          return;
        }
    }
  if (listing == NULL)
    {
      fail (task, error);
      return;
    }
  if (listing->len == 0)
    {
      quit (task);
      return;
    }
  pb_pop3_client_top_async (data->client,
                            ((PbPop3Listing *) g_ptr_array_index (listing, listing->len - 1))->number,
                            0, g_task_get_cancellable (task), on_top, g_object_ref (task));
}

/* After STAT, the listing and one TOP, as a check asks them (pb-check.c),
 * so that "Everything works" holds for the checks too: a server may log
 * in and count, and still answer UIDL with garbage or have neither UIDL
 * nor TOP. */
static void
on_stat (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ProbeData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!pb_pop3_client_stat_finish (data->client, result, &data->report->count,
                                   &data->report->size, &error))
    {
      fail (task, error);
      return;
    }
  pb_pop3_client_uidl_async (data->client, g_task_get_cancellable (task), on_listing,
                             g_object_ref (task));
}

static void
on_authenticated (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ProbeData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->report->tried_login = TRUE;
  if (!pb_pop3_client_authenticate_finish (data->client, result, &error))
    {
      fail (task, error);
      return;
    }
  data->report->logged_in = TRUE;
  data->report->mechanism = g_strdup (pb_pop3_client_get_auth_mechanism (data->client));
  pb_pop3_client_stat_async (data->client, g_task_get_cancellable (task), on_stat,
                             g_object_ref (task));
}

static void
authenticate (GTask *task)
{
  ProbeData *data = g_task_get_task_data (task);

  pb_pop3_client_authenticate_async (data->client, pb_account_get_user (data->account),
                                     data->password, pb_account_get_auth (data->account),
                                     g_task_get_cancellable (task), on_authenticated,
                                     g_object_ref (task));
}

static void
on_password (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ProbeData *data = g_task_get_task_data (task);
  GError *error = NULL;
  char *password = pb_secrets_lookup_finish (result, &error);

  if (password == NULL)
    {
      fail (task, error);
      return;
    }
  data->password = g_strdup (password);
  pb_secrets_free (password);
  authenticate (task);
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ProbeData *data = g_task_get_task_data (task);
  const PbPop3TlsInfo *tls = NULL;
  GError *error = NULL;
  gboolean ok;

  ok = pb_pop3_client_connect_finish (data->client, result, &error);
  /* The certificate is described even when it was refused. */
  tls = pb_pop3_client_get_tls_info (data->client);
  if (tls != NULL)
    data->report->tls_info = pb_pop3_tls_info_copy (tls);
  if (!ok)
    {
      fail (task, error);
      return;
    }
  data->report->connected = TRUE;
  data->report->capabilities = g_strdupv ((char **) pb_pop3_client_get_capabilities (data->client));

  if (!data->login)
    pb_pop3_client_quit_async (data->client, g_task_get_cancellable (task), on_quit,
                               g_object_ref (task));
  else if (data->password != NULL)
    authenticate (task);
  else
    pb_secrets_lookup_async (data->account, g_task_get_cancellable (task), on_password,
                             g_object_ref (task));
}

void
pb_probe_async (PbAccount           *account,
                const char          *password,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  ProbeData *data = g_new0 (ProbeData, 1);

  g_task_set_source_tag (task, pb_probe_async);
  data->account = g_object_ref (account);
  data->client = pb_account_create_client (account);
  data->login = password == NULL || *password != '\0';
  data->password = password != NULL && *password != '\0' ? g_strdup (password) : NULL;
  data->report = g_new0 (PbProbeReport, 1);
  g_task_set_task_data (task, data, (GDestroyNotify) probe_data_free);

  pb_pop3_client_connect_async (data->client, cancellable, on_connected, g_object_ref (task));
}

PbProbeReport *
pb_probe_finish (GAsyncResult  *result,
                 GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* "O=Example,CN=Example CA" -> "Example CA": the name a person knows. */
static char *
common_name (const char *dn)
{
  g_auto(GStrv) parts = NULL;

  if (dn == NULL)
    return g_strdup (_("unknown"));
  parts = g_strsplit (dn, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      const char *part = g_strstrip (parts[i]);

      if (g_str_has_prefix (part, "CN=") && part[3] != '\0')
        return g_strdup (part + 3);
    }
  return g_strdup (dn);
}

/* The first 8 bytes, "F5:85:9F:86:96:12:9D:AF…": enough to compare at a
 * glance; the whole one is in the details and the certificate dialog. */
static char *
short_fingerprint (const char *hex)
{
  GString *out = g_string_new (NULL);

  for (gsize i = 0; hex != NULL && hex[i] != '\0' && i < 16; i++)
    {
      if (i > 0 && i % 2 == 0)
        g_string_append_c (out, ':');
      g_string_append_c (out, g_ascii_toupper (hex[i]));
    }
  if (hex != NULL && strlen (hex) > 16)
    g_string_append (out, "…");
  return g_string_free (out, FALSE);
}

char *
pb_probe_report_summarize (const PbProbeReport *report)
{
  GString *text = g_string_new (NULL);
  const PbPop3TlsInfo *tls = report->tls_info;

  if (tls != NULL)
    {
      g_autofree char *issuer = common_name (tls->issuer);
      g_autofree char *until = tls->not_after != NULL ? g_date_time_format (tls->not_after, _("%e %B %Y")) : NULL;
      g_autofree char *fingerprint = short_fingerprint (tls->sha256);

      g_string_append_printf (text, _("Encryption: %s"), tls->tls_version != NULL ? tls->tls_version : _("TLS"));
      g_string_append_c (text, '\n');
      /* Translators: "Certificate: issued by Example CA, valid until 1 June 2027" */
      g_string_append_printf (text, _("Certificate: issued by %s, valid until %s"), issuer,
                              until != NULL ? g_strstrip (until) : _("unknown"));
      g_string_append_c (text, '\n');
      g_string_append_printf (text, _("SHA-256 fingerprint: %s"), fingerprint);
      g_string_append_c (text, '\n');
    }
  else if (report->connected)
    {
      g_string_append (text, _("Encryption: none"));
      g_string_append_c (text, '\n');
    }

  if (report->logged_in)
    {
      g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE,
                                                 "Login worked (%s); %u message waits.",
                                                 "Login worked (%s); %u messages wait.", report->count),
                              report->mechanism != NULL ? report->mechanism : "?", report->count);
      g_string_append_c (text, '\n');
    }
  else if (report->tried_login)
    {
      g_string_append (text, _("Login: failed"));
      g_string_append_c (text, '\n');
    }

  /* A rejected certificate's message repeats the whole certificate; the
   * reason is the part that belongs here (the dialog shows the rest). */
  if (report->error != NULL && tls != NULL && tls->errors != 0 &&
      g_str_equal (pb_error_kind (report->error), "certificate"))
    {
      g_autofree char *reason = pb_pop3_certificate_errors_describe (tls->errors);

      g_string_append (text, reason);
    }
  else if (report->error != NULL)
    g_string_append (text, report->error->message);
  else if (report->logged_in)
    g_string_append (text, _("Everything works."));

  while (text->len > 0 && text->str[text->len - 1] == '\n')
    g_string_truncate (text, text->len - 1);
  return g_string_free (text, FALSE);
}

char *
pb_probe_report_describe (const PbProbeReport *report)
{
  GString *text = g_string_new (NULL);

  g_return_val_if_fail (report != NULL, NULL);

  if (report->tls_info != NULL)
    {
      g_string_append_printf (text, _("Encryption: %s"), report->tls_info->tls_version != NULL ?
                              report->tls_info->tls_version : _("TLS"));
      g_string_append_c (text, '\n');
      if (report->tls_info->subject != NULL)
        {
          g_string_append_printf (text, _("Certificate: %s (issued by %s)"), report->tls_info->subject,
                                  report->tls_info->issuer != NULL ? report->tls_info->issuer : "?");
          g_string_append_c (text, '\n');
        }
    }
  else if (report->connected)
    {
      g_string_append (text, _("Encryption: none"));
      g_string_append_c (text, '\n');
    }

  if (report->capabilities != NULL && report->capabilities[0] != NULL)
    {
      g_autofree char *caps = g_strjoinv (", ", report->capabilities);

      g_string_append_printf (text, _("Server offers: %s"), caps);
      g_string_append_c (text, '\n');
    }

  if (report->logged_in)
    {
      g_string_append_printf (text, _("Login: worked (%s)"), report->mechanism != NULL ? report->mechanism : "?");
      g_string_append_c (text, '\n');
      g_string_append_printf (text, g_dngettext (GETTEXT_PACKAGE, "%u message waits on the server.",
                                                 "%u messages wait on the server.", report->count),
                              report->count);
      g_string_append_c (text, '\n');
    }
  else if (report->tried_login)
    {
      g_string_append (text, _("Login: failed"));
      g_string_append_c (text, '\n');
    }

  if (report->error != NULL)
    g_string_append_printf (text, "%s\n", report->error->message);
  else if (report->logged_in)
    g_string_append (text, _("Everything works."));

  while (text->len > 0 && text->str[text->len - 1] == '\n')
    g_string_truncate (text, text->len - 1);
  return g_string_free (text, FALSE);
}

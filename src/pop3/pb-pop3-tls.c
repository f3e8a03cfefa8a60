/* pb-pop3-tls.c: certificate facts and the words for a rejected one.
 *
 * A person looking at "certificate rejected" needs to decide whether to
 * trust it; so the error names the subject, the issuer, the validity and the
 * fingerprint they could pin, not just a flag. */
#include <glib/gi18n.h>

#include "pb-pop3-tls.h"

void
pb_pop3_tls_info_free (PbPop3TlsInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->subject);
  g_free (info->issuer);
  g_clear_pointer (&info->not_before, g_date_time_unref);
  g_clear_pointer (&info->not_after, g_date_time_unref);
  g_free (info->sha256);
  g_free (info->tls_version);
  g_free (info->cipher);
  g_free (info);
}

PbPop3TlsInfo *
pb_pop3_tls_info_copy (const PbPop3TlsInfo *info)
{
  PbPop3TlsInfo *copy;

  g_return_val_if_fail (info != NULL, NULL);

  copy = g_new0 (PbPop3TlsInfo, 1);
  copy->subject = g_strdup (info->subject);
  copy->issuer = g_strdup (info->issuer);
  copy->not_before = info->not_before ? g_date_time_ref (info->not_before) : NULL;
  copy->not_after = info->not_after ? g_date_time_ref (info->not_after) : NULL;
  copy->sha256 = g_strdup (info->sha256);
  copy->errors = info->errors;
  copy->pinned = info->pinned;
  copy->tls_version = g_strdup (info->tls_version);
  copy->cipher = g_strdup (info->cipher);
  return copy;
}

char *
pb_pop3_certificate_errors_describe (GTlsCertificateFlags errors)
{
  static const struct {
    GTlsCertificateFlags flag;
    const char *reason;
  } reasons[] = {
    { G_TLS_CERTIFICATE_UNKNOWN_CA, N_("it is not signed by an authority this computer trusts") },
    { G_TLS_CERTIFICATE_BAD_IDENTITY, N_("it was issued for a different server name") },
    { G_TLS_CERTIFICATE_NOT_ACTIVATED, N_("it is not valid yet") },
    { G_TLS_CERTIFICATE_EXPIRED, N_("it has expired") },
    { G_TLS_CERTIFICATE_REVOKED, N_("it has been revoked") },
    { G_TLS_CERTIFICATE_INSECURE, N_("it uses an insecure algorithm") },
    { G_TLS_CERTIFICATE_GENERIC_ERROR, N_("it could not be checked") },
  };
  g_autoptr(GPtrArray) parts = g_ptr_array_new ();
  g_autofree char *joined = NULL;

  if (errors == 0)
    return g_strdup (_("The certificate is trusted."));

  for (guint i = 0; i < G_N_ELEMENTS (reasons); i++)
    if (errors & reasons[i].flag)
      g_ptr_array_add (parts, (gpointer) _(reasons[i].reason));
  if (parts->len == 0)
    g_ptr_array_add (parts, (gpointer) _("it failed verification"));
  g_ptr_array_add (parts, NULL);

  joined = g_strjoinv ("; ", (char **) parts->pdata);
  /* TRANSLATORS: %s lists reasons such as "it has expired; it was issued
   * for a different server name" */
  return g_strdup_printf (_("The certificate is not trusted: %s."), joined);
}

char *
pb_pop3_tls_fingerprint (GTlsCertificate *certificate)
{
  g_autoptr(GByteArray) der = NULL;

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), NULL);

  g_object_get (certificate, "certificate", &der, NULL);
  if (der == NULL)
    return NULL;
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
}

char *
pb_pop3_tls_normalize_pin (const char *pin)
{
  GString *hex;

  if (pin == NULL)
    return NULL;

  hex = g_string_new (NULL);
  for (const char *p = pin; *p != '\0'; p++)
    {
      if (*p == ':' || *p == ' ')
        continue;
      if (!g_ascii_isxdigit (*p))
        {
          g_string_free (hex, TRUE);
          return NULL;
        }
      g_string_append_c (hex, g_ascii_tolower (*p));
    }
  if (hex->len != 64)
    {
      g_string_free (hex, TRUE);
      return NULL;
    }
  return g_string_free (hex, FALSE);
}

gboolean
pb_pop3_tls_pin_matches (const char *pin,
                         const char *sha256)
{
  g_autofree char *normalized = pb_pop3_tls_normalize_pin (pin);

  return normalized != NULL && sha256 != NULL && g_str_equal (normalized, sha256);
}

PbPop3TlsInfo *
pb_pop3_tls_info_new (GTlsCertificate      *certificate,
                      GTlsCertificateFlags  errors)
{
  PbPop3TlsInfo *info = g_new0 (PbPop3TlsInfo, 1);

  g_return_val_if_fail (G_IS_TLS_CERTIFICATE (certificate), info);

  info->subject = g_tls_certificate_get_subject_name (certificate);
  info->issuer = g_tls_certificate_get_issuer_name (certificate);
  info->not_before = g_tls_certificate_get_not_valid_before (certificate);
  info->not_after = g_tls_certificate_get_not_valid_after (certificate);
  info->sha256 = pb_pop3_tls_fingerprint (certificate);
  info->errors = errors;
  return info;
}

static const char *
protocol_version_name (GTlsProtocolVersion version)
{
  switch (version)
    {
    case G_TLS_PROTOCOL_VERSION_SSL_3_0: return "SSL 3.0";
    case G_TLS_PROTOCOL_VERSION_TLS_1_0: return "TLS 1.0";
    case G_TLS_PROTOCOL_VERSION_TLS_1_1: return "TLS 1.1";
    case G_TLS_PROTOCOL_VERSION_TLS_1_2: return "TLS 1.2";
    case G_TLS_PROTOCOL_VERSION_TLS_1_3: return "TLS 1.3";
    case G_TLS_PROTOCOL_VERSION_DTLS_1_0: return "DTLS 1.0";
    case G_TLS_PROTOCOL_VERSION_DTLS_1_2: return "DTLS 1.2";
    case G_TLS_PROTOCOL_VERSION_UNKNOWN:
    default: return NULL;
    }
}

void
pb_pop3_tls_info_set_connection (PbPop3TlsInfo  *info,
                                 GTlsConnection *connection)
{
  g_return_if_fail (info != NULL);
  g_return_if_fail (G_IS_TLS_CONNECTION (connection));

  g_free (info->tls_version);
  info->tls_version = g_strdup (protocol_version_name (g_tls_connection_get_protocol_version (connection)));
  g_free (info->cipher);
  info->cipher = g_tls_connection_get_ciphersuite_name (connection);
}

static char *
format_date (GDateTime *date)
{
  if (date == NULL)
    return g_strdup (_("unknown"));
  return g_date_time_format (date, "%Y-%m-%d %H:%M UTC");
}

char *
pb_pop3_tls_describe_rejection (const PbPop3TlsInfo *info,
                                gboolean             pin_mismatch)
{
  g_autofree char *reason = NULL;
  g_autofree char *from = NULL;
  g_autofree char *until = NULL;

  g_return_val_if_fail (info != NULL, NULL);

  if (pin_mismatch)
    reason = g_strdup (_("The certificate is not the one pinned for this account."));
  else
    reason = pb_pop3_certificate_errors_describe (info->errors);
  from = format_date (info->not_before);
  until = format_date (info->not_after);

  /* TRANSLATORS: the first %s is a sentence saying why the certificate was
   * rejected; the last %s is the SHA-256 fingerprint in hex. */
  return g_strdup_printf (_("The server’s certificate was rejected. %s "
                            "Subject: %s; issuer: %s; valid from %s until %s; "
                            "SHA-256 fingerprint: %s. If you know this certificate "
                            "is the server’s, pin it with this fingerprint."),
                          reason,
                          info->subject ? info->subject : _("unknown"),
                          info->issuer ? info->issuer : _("unknown"),
                          from, until,
                          info->sha256 ? info->sha256 : _("unknown"));
}

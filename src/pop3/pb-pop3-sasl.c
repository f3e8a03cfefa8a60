/* pb-pop3-sasl.c: one SASL exchange, through GNU SASL where it has the
 * mechanism, by hand for the two bearer-token ones it lacks. */
#include <glib/gi18n.h>
#include <gsasl.h>
#include <json-glib/json-glib.h>
#include <nettle/pbkdf2.h>
#include <string.h>

#include "pb-pop3-error.h"
#include "pb-pop3-sasl.h"

typedef enum {
  SASL_GSASL,
  SASL_XOAUTH2,
  SASL_OAUTHBEARER,
} SaslKind;

struct _PbPop3Sasl {
  SaslKind      kind;
  char         *mechanism;
  Gsasl_session *session;   /* SASL_GSASL */
  char         *user;       /* bearer mechanisms */
  char         *token;      /* bearer mechanisms; wiped on free */
  char         *host;
  guint16       port;
  guint         steps;
  gboolean      complete;
  char         *server_error;
  guint64       refused_iterations;  /* SCRAM: the server asked for too many */
};

/* SCRAM's iteration count comes from the server. Deriving the key blocks
 * the calling thread (the applet's main loop), about 0.15 µs an iteration
 * here: 4096 is usual, a few hundred thousand is generous, and 2^32 would
 * freeze the program for ten minutes. */
#define MAX_SCRAM_ITERATIONS 5000000

/* What a bearer mechanism's user name and token must not contain: its
 * field separator, and the end of a POP3 line. */
#define BEARER_FORBIDDEN "\001\r\n"

gboolean
pb_pop3_sasl_salted_password (gboolean     sha256,
                              const char  *password,
                              const guint8 *salt,
                              gsize        salt_len,
                              guint        iterations,
                              guint8      *out)
{
  char *prepared = NULL;

  /* The password as SCRAM hashes it (RFC 5802 section 2.2), with the
   * flags GNU SASL's own computation uses. */
  if (gsasl_saslprep (password, GSASL_ALLOW_UNASSIGNED, &prepared, NULL) != GSASL_OK)
    return FALSE;
  if (sha256)
    pbkdf2_hmac_sha256 (strlen (prepared), (const guint8 *) prepared, iterations,
                        salt_len, salt, 32, out);
  else
    pbkdf2_hmac_sha1 (strlen (prepared), (const guint8 *) prepared, iterations,
                      salt_len, salt, 20, out);
  memset (prepared, 0, strlen (prepared));
  gsasl_free (prepared);
  return TRUE;
}

/* GNU SASL asks its callback for SCRAM's SaltedPassword before deriving it
 * from the password itself. Its derivation is plain C SHA; Nettle's
 * (the one GnuTLS uses) keeps the HMAC state between iterations and uses
 * the processor's SHA instructions: 0.6 ms instead of 3.6 ms for 4096
 * iterations, on the path of every login. Anything else: GNU SASL's
 * default. */
static int
on_gsasl_property (Gsasl          *context,
                   Gsasl_session  *session,
                   Gsasl_property  property)
{
  const char *mechanism = gsasl_mechanism_name (session);
  const char *password = gsasl_property_fast (session, GSASL_PASSWORD);
  const char *salt64 = gsasl_property_fast (session, GSASL_SCRAM_SALT);
  const char *iter_text = gsasl_property_fast (session, GSASL_SCRAM_ITER);
  gboolean sha256;
  g_autofree guint8 *salt = NULL;
  gsize salt_len;
  guint64 iterations;
  guint8 salted[32];
  char hex[2 * sizeof salted + 1];
  gsize len;

  if (property != GSASL_SCRAM_SALTED_PASSWORD || mechanism == NULL ||
      password == NULL || salt64 == NULL || iter_text == NULL)
    return GSASL_NO_CALLBACK;
  if (g_str_equal (mechanism, "SCRAM-SHA-256"))
    sha256 = TRUE;
  else if (g_str_equal (mechanism, "SCRAM-SHA-1"))
    sha256 = FALSE;
  else
    return GSASL_NO_CALLBACK;
  if (!g_ascii_string_to_unsigned (iter_text, 10, 1, G_MAXUINT64, &iterations, NULL))
    return GSASL_NO_CALLBACK;
  if (iterations > MAX_SCRAM_ITERATIONS)
    {
      PbPop3Sasl *sasl = gsasl_session_hook_get (session);

      /* Without the password GNU SASL cannot derive the key itself either:
       * the step fails at once (pb_pop3_sasl_step says why). */
      if (sasl != NULL)
        sasl->refused_iterations = iterations;
      gsasl_property_set (session, GSASL_PASSWORD, NULL);
      return GSASL_NO_CALLBACK;
    }

  salt = g_base64_decode (salt64, &salt_len);
  if (!pb_pop3_sasl_salted_password (sha256, password, salt, salt_len, (guint) iterations, salted))
    return GSASL_NO_CALLBACK;
  len = sha256 ? 32 : 20;
  for (gsize i = 0; i < len; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", salted[i]);
  gsasl_property_set (session, GSASL_SCRAM_SALTED_PASSWORD, hex);
  memset (salted, 0, sizeof salted);
  memset (hex, 0, sizeof hex);
  return GSASL_OK;
}

/* One library context for the process: gsasl_init() loads the mechanism
 * table once, and sessions are independent. */
static Gsasl *
get_gsasl (GError **error)
{
  static Gsasl *context;
  static int init_rc;
  static gsize initialized;

  if (g_once_init_enter (&initialized))
    {
      init_rc = gsasl_init (&context);
      if (init_rc == GSASL_OK)
        gsasl_callback_set (context, on_gsasl_property);
      g_once_init_leave (&initialized, 1);
    }
  if (init_rc != GSASL_OK)
    {
      g_set_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH_UNAVAILABLE,
                   _("The SASL library could not start: %s"), gsasl_strerror (init_rc));
      return NULL;
    }
  return context;
}

static void
wipe_string (char *str)
{
  if (str != NULL)
    {
      memset (str, 0, strlen (str));
      g_free (str);
    }
}

void
pb_pop3_sasl_free_response (char *response)
{
  wipe_string (response);
}

PbPop3Sasl *
pb_pop3_sasl_new (const char  *mechanism,
                  const char  *user,
                  const char  *secret,
                  const char  *host,
                  guint16      port,
                  GError     **error)
{
  g_autoptr(PbPop3Sasl) sasl = g_new0 (PbPop3Sasl, 1);

  g_return_val_if_fail (mechanism != NULL, NULL);
  g_return_val_if_fail (user != NULL, NULL);
  g_return_val_if_fail (secret != NULL, NULL);

  sasl->mechanism = g_ascii_strup (mechanism, -1);
  sasl->host = g_strdup (host);
  sasl->port = port;

  if (g_str_equal (sasl->mechanism, "XOAUTH2") ||
      g_str_equal (sasl->mechanism, "OAUTHBEARER"))
    {
      sasl->kind = g_str_equal (sasl->mechanism, "XOAUTH2") ? SASL_XOAUTH2 : SASL_OAUTHBEARER;
      /* Both messages separate their fields with %x01 (RFC 7628 section
       * 3.1; XOAUTH2 does the same): one inside the user name or the token
       * would end the field there and let the rest be read as another
       * field, and a CR or LF would end the POP3 command. Refused here,
       * before the first message exists, so nothing is sent. */
      if (strpbrk (user, BEARER_FORBIDDEN) != NULL || strpbrk (secret, BEARER_FORBIDDEN) != NULL)
        {
          g_set_error (error, PB_POP3_ERROR, PB_POP3_ERROR_INVALID_CREDENTIALS,
                       _("The user name or token contains a line break or a control "
                         "character (U+0001), which cannot be sent in a %s login. Check them."),
                       sasl->mechanism);
          return NULL;
        }
      sasl->user = g_strdup (user);
      sasl->token = g_strdup (secret);
    }
  else
    {
      Gsasl *context = get_gsasl (error);
      int rc;

      if (context == NULL)
        return NULL;
      if (!gsasl_client_support_p (context, sasl->mechanism))
        {
          g_set_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH_UNAVAILABLE,
                       _("The authentication method %s is not available on this computer."),
                       sasl->mechanism);
          return NULL;
        }
      rc = gsasl_client_start (context, sasl->mechanism, &sasl->session);
      if (rc != GSASL_OK)
        {
          g_set_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH_UNAVAILABLE,
                       _("The authentication method %s could not start: %s"),
                       sasl->mechanism, gsasl_strerror (rc));
          return NULL;
        }
      sasl->kind = SASL_GSASL;
      gsasl_session_hook_set (sasl->session, sasl);
      gsasl_property_set (sasl->session, GSASL_AUTHID, user);
      gsasl_property_set (sasl->session, GSASL_PASSWORD, secret);
      /* The registered GSSAPI service name for POP3 (RFC 5034 section 4). */
      gsasl_property_set (sasl->session, GSASL_SERVICE, "pop");
      if (host != NULL)
        gsasl_property_set (sasl->session, GSASL_HOSTNAME, host);
    }

  return g_steal_pointer (&sasl);
}

void
pb_pop3_sasl_free (PbPop3Sasl *sasl)
{
  if (sasl == NULL)
    return;
  if (sasl->session != NULL)
    gsasl_finish (sasl->session);
  g_free (sasl->mechanism);
  g_free (sasl->user);
  wipe_string (sasl->token);
  g_free (sasl->host);
  g_free (sasl->server_error);
  g_free (sasl);
}

const char *
pb_pop3_sasl_get_mechanism (PbPop3Sasl *sasl)
{
  g_return_val_if_fail (sasl != NULL, NULL);
  return sasl->mechanism;
}

gboolean
pb_pop3_sasl_client_first (PbPop3Sasl *sasl)
{
  g_return_val_if_fail (sasl != NULL, FALSE);

  /* CRAM-MD5 waits for the server's challenge; LOGIN is, in practice,
   * driven by the server's "Username:" prompt. */
  return sasl->kind != SASL_GSASL ||
         g_str_equal (sasl->mechanism, "PLAIN") ||
         g_str_has_prefix (sasl->mechanism, "SCRAM-");
}

gboolean
pb_pop3_sasl_needs_completion (PbPop3Sasl *sasl)
{
  g_return_val_if_fail (sasl != NULL, FALSE);
  return g_str_has_prefix (sasl->mechanism, "SCRAM-");
}

gboolean
pb_pop3_sasl_is_complete (PbPop3Sasl *sasl)
{
  g_return_val_if_fail (sasl != NULL, FALSE);
  return sasl->complete;
}

const char *
pb_pop3_sasl_get_server_error (PbPop3Sasl *sasl)
{
  g_return_val_if_fail (sasl != NULL, NULL);
  return sasl->server_error;
}

/* RFC 7628 section 3.2.2: the server's error is a JSON object whose
 * "status" says why (e.g. "invalid_token"); Google's XOAUTH2 sends the same
 * shape with an HTTP-like status ("401"). */
static void
remember_bearer_error (PbPop3Sasl *sasl,
                       const char *challenge)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree guchar *json = NULL;
  gsize len = 0;
  JsonNode *root;

  g_clear_pointer (&sasl->server_error, g_free);
  json = g_base64_decode (challenge, &len);
  if (json == NULL || len == 0 ||
      !json_parser_load_from_data (parser, (const char *) json, (gssize) len, NULL))
    return;
  root = json_parser_get_root (parser);
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    {
      JsonObject *object = json_node_get_object (root);
      JsonNode *status = json_object_get_member (object, "status");

      if (status != NULL && JSON_NODE_HOLDS_VALUE (status) &&
          json_node_get_value_type (status) == G_TYPE_STRING)
        sasl->server_error = g_strdup (json_node_get_string (status));
    }
}

/* RFC 7628 section 3.1 carries the authzid as a GS2 saslname (RFC 5801
 * section 4): ',' would end the header field and '=' starts an escape, so
 * they travel as "=2C" and "=3D". A strict server (Dovecot) refuses the
 * login otherwise. */
static char *
escape_saslname (const char *name)
{
  GString *escaped = g_string_sized_new (strlen (name));

  for (const char *p = name; *p != '\0'; p++)
    {
      if (*p == ',')
        g_string_append (escaped, "=2C");
      else if (*p == '=')
        g_string_append (escaped, "=3D");
      else
        g_string_append_c (escaped, *p);
    }
  return g_string_free (escaped, FALSE);
}

static gboolean
bearer_step (PbPop3Sasl  *sasl,
             const char  *challenge,
             char       **response,
             GError     **error)
{
  g_autofree char *message = NULL;

  if (sasl->steps == 0)
    {
      if (sasl->kind == SASL_XOAUTH2)
        message = g_strdup_printf ("user=%s\001auth=Bearer %s\001\001",
                                   sasl->user, sasl->token);
      else
        {
          g_autofree char *authzid = escape_saslname (sasl->user);

          /* RFC 7628 section 3.1: GS2 header (no channel binding, the
           * user as authzid), then host, port and the token as key=value
           * pairs. */
          message = g_strdup_printf ("n,a=%s,\001host=%s\001port=%u\001auth=Bearer %s\001\001",
                                     authzid, sasl->host ? sasl->host : "",
                                     sasl->port, sasl->token);
        }
      *response = g_base64_encode ((const guchar *) message, strlen (message));
      memset (message, 0, strlen (message));
      sasl->complete = TRUE;
      return TRUE;
    }

  /* Any challenge after our one message is the error report. XOAUTH2
   * expects an empty answer, OAUTHBEARER a lone %x01 (RFC 7628 section
   * 3.2.3); the server then sends -ERR. */
  remember_bearer_error (sasl, challenge);
  sasl->complete = FALSE;
  *response = g_strdup (sasl->kind == SASL_XOAUTH2 ? "" : "AQ==");
  return TRUE;
}

gboolean
pb_pop3_sasl_step (PbPop3Sasl  *sasl,
                   const char  *challenge,
                   char       **response,
                   GError     **error)
{
  char *output = NULL;
  int rc;

  g_return_val_if_fail (sasl != NULL, FALSE);
  g_return_val_if_fail (response != NULL, FALSE);

  *response = NULL;
  if (sasl->kind != SASL_GSASL)
    {
      gboolean ok = bearer_step (sasl, challenge, response, error);

      sasl->steps++;
      return ok;
    }

  if (sasl->complete)
    {
      g_set_error_literal (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL,
                           _("The server continued the login after it had finished."));
      return FALSE;
    }

  rc = gsasl_step64 (sasl->session, challenge ? challenge : "", &output);
  sasl->steps++;
  if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE)
    {
      gsasl_free (output);
      if (sasl->refused_iterations > 0)
        g_set_error (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL,
                     _("The server asked for %lu rounds of password "
                       "hashing (%s), far more than any server needs; Popbiff stopped "
                       "the login. The server may be hostile or broken."),
                     (gulong) sasl->refused_iterations, sasl->mechanism);
      else if (rc == GSASL_BASE64_ERROR)
        g_set_error_literal (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL,
                             _("The server sent a malformed login challenge."));
      else if (rc == GSASL_AUTHENTICATION_ERROR)
        g_set_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH,
                     _("The server could not prove that it knows the password "
                       "(%s); it may not be the server it claims to be."),
                     sasl->mechanism);
      else
        g_set_error (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL,
                     _("The %s login failed on this side: %s"),
                     sasl->mechanism, gsasl_strerror (rc));
      return FALSE;
    }

  sasl->complete = rc == GSASL_OK;
  *response = g_strdup (output ? output : "");
  if (output != NULL)
    {
      memset (output, 0, strlen (output));
      gsasl_free (output);
    }
  return TRUE;
}

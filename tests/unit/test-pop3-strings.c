/* The pure parts of the POP3 engine: setting names, pins, certificate
 * sentences, and the mapping from -ERR response codes to errors. */
#include <string.h>

#include "pop3/pb-pop3-client.h"
#include "pop3/pb-pop3-response.h"
#include "pop3/pb-pop3-tls.h"
#include "pb-test-util.h"

static void
test_security_names (void)
{
  PbPop3Security security = PB_POP3_SECURITY_NONE;

  g_assert_cmpstr (pb_pop3_security_to_string (PB_POP3_SECURITY_TLS), ==, "tls");
  g_assert_cmpstr (pb_pop3_security_to_string (PB_POP3_SECURITY_STARTTLS), ==, "starttls");
  g_assert_cmpstr (pb_pop3_security_to_string (PB_POP3_SECURITY_NONE), ==, "none");
  g_assert_true (pb_pop3_security_from_string ("STARTTLS", &security));
  g_assert_cmpint (security, ==, PB_POP3_SECURITY_STARTTLS);
  g_assert_false (pb_pop3_security_from_string ("ssl", &security));
  g_assert_false (pb_pop3_security_from_string (NULL, &security));
  g_assert_cmpuint (pb_pop3_security_default_port (PB_POP3_SECURITY_TLS), ==, 995);
  g_assert_cmpuint (pb_pop3_security_default_port (PB_POP3_SECURITY_STARTTLS), ==, 110);
  g_assert_cmpuint (pb_pop3_security_default_port (PB_POP3_SECURITY_NONE), ==, 110);
}

static void
test_auth_names_round_trip (void)
{
  for (PbPop3AuthMethod m = PB_POP3_AUTH_AUTO; m <= PB_POP3_AUTH_OAUTHBEARER; m++)
    {
      PbPop3AuthMethod back = PB_POP3_AUTH_AUTO;

      g_assert_true (pb_pop3_auth_method_from_string (pb_pop3_auth_method_to_string (m), &back));
      g_assert_cmpint (back, ==, m);
    }
  g_assert_cmpstr (pb_pop3_auth_method_to_string (PB_POP3_AUTH_SCRAM_SHA_256), ==, "scram-sha-256");
  g_assert_false (pb_pop3_auth_method_from_string ("gssapi", NULL));
}

static void
test_pin_forms (void)
{
  const char *hex = "b8141671180a42bfc4a1a3358c2efa9ba3ff6fe6e4095808f44f9c6f9a53ca1b";
  g_autofree char *colons = NULL;
  g_autofree char *normalized = NULL;
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < 64; i += 2)
    g_string_append_printf (s, "%s%c%c", i ? ":" : "", g_ascii_toupper (hex[i]),
                            g_ascii_toupper (hex[i + 1]));
  colons = g_string_free (s, FALSE);

  normalized = pb_pop3_tls_normalize_pin (colons);
  g_assert_cmpstr (normalized, ==, hex);
  g_assert_true (pb_pop3_tls_pin_matches (colons, hex));
  g_assert_false (pb_pop3_tls_pin_matches (colons, "00"));
  g_assert_null (pb_pop3_tls_normalize_pin ("abcd"));
  g_assert_null (pb_pop3_tls_normalize_pin ("zz141671180a42bfc4a1a3358c2efa9ba3ff6fe6e4095808f44f9c6f9a53ca1b"));
}

static void
test_certificate_sentences (void)
{
  g_autofree char *trusted = pb_pop3_certificate_errors_describe (0);
  g_autofree char *two = pb_pop3_certificate_errors_describe (G_TLS_CERTIFICATE_EXPIRED |
                                                              G_TLS_CERTIFICATE_BAD_IDENTITY);

  g_assert_cmpstr (trusted, ==, "The certificate is trusted.");
  g_assert_cmpstr (two, ==, "The certificate is not trusted: it was issued for a different "
                            "server name; it has expired.");
}

static void
test_response_codes (void)
{
  static const struct {
    const char *text;
    PbPop3ResponseContext context;
    gboolean auth_resp_code;
    gint code;
    gint retry_after;
  } cases[] = {
    { "[IN-USE] locked", PB_POP3_RESPONSE_LOGIN, FALSE, PB_POP3_ERROR_IN_USE, -1 },
    { "[in-use] locked", PB_POP3_RESPONSE_COMMAND, FALSE, PB_POP3_ERROR_IN_USE, -1 },
    { "[LOGIN-DELAY 120] later", PB_POP3_RESPONSE_LOGIN, TRUE, PB_POP3_ERROR_LOGIN_DELAY, 120 },
    { "[SYS/TEMP/DISK] full", PB_POP3_RESPONSE_COMMAND, FALSE, PB_POP3_ERROR_SYS_TEMP, -1 },
    { "[SYS/PERM] gone", PB_POP3_RESPONSE_GREETING, FALSE, PB_POP3_ERROR_SYS_PERM, -1 },
    { "[AUTH] bad password", PB_POP3_RESPONSE_LOGIN, TRUE, PB_POP3_ERROR_AUTH, -1 },
    { "[AUTHX] no such code", PB_POP3_RESPONSE_LOGIN, FALSE, PB_POP3_ERROR_AUTH, -1 },
    { "bad password", PB_POP3_RESPONSE_LOGIN, FALSE, PB_POP3_ERROR_AUTH, -1 },
    { "busy", PB_POP3_RESPONSE_LOGIN, TRUE, PB_POP3_ERROR_SERVER, -1 },
    { "no such message", PB_POP3_RESPONSE_COMMAND, FALSE, PB_POP3_ERROR_SERVER, -1 },
    { "go away", PB_POP3_RESPONSE_GREETING, FALSE, PB_POP3_ERROR_SERVER, -1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gint retry_after = 0;
      g_autoptr(GError) error = pb_pop3_response_error (cases[i].text, cases[i].context, "RETR",
                                                        cases[i].auth_resp_code, &retry_after);

      g_assert_error (error, PB_POP3_ERROR, cases[i].code);
      g_assert_cmpint (retry_after, ==, cases[i].retry_after);
      g_assert_nonnull (strstr (error->message, "server said"));
    }
}

static void
test_server_text_is_made_safe (void)
{
  g_autofree char *control = pb_pop3_response_sanitize ("a\033[2Jb\tc");
  g_autofree char *invalid = pb_pop3_response_sanitize ("caf\xe9");
  g_autofree char *long_text = NULL;
  g_autofree char *cut = NULL;

  g_assert_cmpstr (control, ==, "a [2Jb c");
  g_assert_true (g_utf8_validate (invalid, -1, NULL));
  long_text = g_strnfill (1000, 'x');
  cut = pb_pop3_response_sanitize (long_text);
  g_assert_cmpuint (g_utf8_strlen (cut, -1), ==, 201);
  g_assert_true (g_str_has_suffix (cut, "…"));
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);
  g_test_add_func ("/pop3/strings/security-names", test_security_names);
  g_test_add_func ("/pop3/strings/auth-names-round-trip", test_auth_names_round_trip);
  g_test_add_func ("/pop3/strings/pin-forms", test_pin_forms);
  g_test_add_func ("/pop3/strings/certificate-sentences", test_certificate_sentences);
  g_test_add_func ("/pop3/strings/response-codes", test_response_codes);
  g_test_add_func ("/pop3/strings/server-text-is-made-safe", test_server_text_is_made_safe);
  return g_test_run ();
}

/* SCRAM with Popbiff's SaltedPassword (Nettle's PBKDF2 handed to GNU SASL
 * through its callback): the same bytes GNU SASL derives itself, and a
 * whole exchange that GNU SASL's own server accepts, for ASCII passwords
 * and for ones SASLprep changes. */
#include <gsasl.h>
#include <string.h>

#include "pop3/pb-pop3-error.h"
#include "pop3/pb-pop3-sasl.h"
#include "pb-test-util.h"

static const char *const passwords[] = {
  "Pb-test-secret-7",
  "p\xc3\xa4sschen w\xc3\xb6rter",  /* "päßchen wörter": non-ASCII, kept */
  "I\xc2\xadX",                     /* a soft hyphen, which SASLprep drops */
  "\xe2\x85\xa8",                   /* "Ⅸ", which SASLprep maps to "IX" */
};

static void
test_salted_password_matches_gnu_sasl (void)
{
  static const guint8 salt[] = "QSXCR+Q6sek8bf92";
  static const guint iterations[] = { 1, 4096 };

  for (guint p = 0; p < G_N_ELEMENTS (passwords); p++)
    for (guint i = 0; i < G_N_ELEMENTS (iterations); i++)
      for (int sha256 = 0; sha256 <= 1; sha256++)
        {
          char expected[32], client_key[32], server_key[32], stored_key[32];
          guint8 ours[32] = { 0 };
          gsize len = sha256 ? 32 : 20;

          g_assert_cmpint (gsasl_scram_secrets_from_password (sha256 ? GSASL_HASH_SHA256 : GSASL_HASH_SHA1,
                                                              passwords[p], iterations[i],
                                                              (const char *) salt, sizeof salt - 1,
                                                              expected, client_key, server_key,
                                                              stored_key), ==, GSASL_OK);
          g_assert_true (pb_pop3_sasl_salted_password (sha256, passwords[p], salt, sizeof salt - 1,
                                                       iterations[i], ours));
          g_assert_cmpmem (ours, len, expected, len);
        }
}

/* GNU SASL's server side knows the password of "alice". */
static const char *server_password;

static int
on_server_property (Gsasl *context, Gsasl_session *session, Gsasl_property property)
{
  if (property == GSASL_PASSWORD &&
      g_strcmp0 (gsasl_property_fast (session, GSASL_AUTHID), "alice") == 0)
    {
      gsasl_property_set (session, GSASL_PASSWORD, server_password);
      return GSASL_OK;
    }
  return GSASL_NO_CALLBACK;
}

/* Runs SCRAM-SHA-256 between Popbiff's client and GNU SASL's server; TRUE
 * when the server accepted the client and the client verified the
 * server. */
static gboolean
exchange (const char *client_password, const char *password_on_server)
{
  g_autoptr(GError) error = NULL;
  Gsasl *context = NULL;
  Gsasl_session *server = NULL;
  PbPop3Sasl *client;
  char *to_server = NULL;
  gboolean accepted = FALSE;

  server_password = password_on_server;
  g_assert_cmpint (gsasl_init (&context), ==, GSASL_OK);
  gsasl_callback_set (context, on_server_property);
  g_assert_cmpint (gsasl_server_start (context, "SCRAM-SHA-256", &server), ==, GSASL_OK);
  client = pb_pop3_sasl_new ("SCRAM-SHA-256", "alice", client_password, "localhost", 110, &error);
  g_assert_no_error (error);

  g_assert_true (pb_pop3_sasl_step (client, NULL, &to_server, &error));
  for (guint round = 0; round < 4; round++)
    {
      char *to_client = NULL;
      int rc = gsasl_step64 (server, to_server, &to_client);

      pb_pop3_sasl_free_response (to_server);
      to_server = NULL;
      if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE)
        {
          gsasl_free (to_client);
          break;
        }
      if (rc == GSASL_OK)
        {
          /* The server's last message proves it knows the password. */
          g_assert_true (pb_pop3_sasl_step (client, to_client, &to_server, &error));
          g_assert_no_error (error);
          accepted = pb_pop3_sasl_is_complete (client);
          gsasl_free (to_client);
          break;
        }
      g_assert_true (pb_pop3_sasl_step (client, to_client, &to_server, &error));
      g_assert_no_error (error);
      gsasl_free (to_client);
    }

  pb_pop3_sasl_free_response (to_server);
  pb_pop3_sasl_free (client);
  gsasl_finish (server);
  gsasl_done (context);
  return accepted;
}

static void
test_scram_against_gnu_sasl_server (void)
{
  for (guint p = 0; p < G_N_ELEMENTS (passwords); p++)
    g_assert_true (exchange (passwords[p], passwords[p]));
  /* SASLprep makes these two the same password. */
  g_assert_true (exchange ("\xe2\x85\xa8", "IX"));
}

static void
test_scram_wrong_password_is_refused (void)
{
  g_assert_false (exchange ("not-the-password", "Pb-test-secret-7"));
}

/* A server-first message asking for 2^32 - 1 iterations would block the
 * program for minutes: the login stops at once, saying why. */
static void
test_scram_absurd_iterations_refused (void)
{
  g_autoptr(GError) error = NULL;
  PbPop3Sasl *client = pb_pop3_sasl_new ("SCRAM-SHA-256", "alice", "Pb-test-secret-7",
                                         "localhost", 110, &error);
  char *first = NULL;
  char *second = NULL;
  g_autofree guchar *decoded = NULL;
  g_autofree char *client_first = NULL;
  const char *nonce;
  g_autofree char *server_first = NULL;
  g_autofree char *challenge = NULL;
  gsize len;
  gint64 started;

  g_assert_no_error (error);
  g_assert_true (pb_pop3_sasl_step (client, NULL, &first, &error));
  /* "n,,n=alice,r=NONCE" */
  decoded = g_base64_decode (first, &len);
  client_first = g_strndup ((const char *) decoded, len);
  nonce = strstr (client_first, ",r=");
  g_assert_nonnull (nonce);
  nonce += 3;
  server_first = g_strdup_printf ("r=%sSERVER,s=c2FsdHNhbHQ=,i=4294967295", nonce);
  challenge = g_base64_encode ((const guchar *) server_first, strlen (server_first));

  started = g_get_monotonic_time ();
  g_assert_false (pb_pop3_sasl_step (client, challenge, &second, &error));
  g_assert_cmpint (g_get_monotonic_time () - started, <, G_USEC_PER_SEC);
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "4294967295"));
  g_assert_null (second);

  pb_pop3_sasl_free_response (first);
  pb_pop3_sasl_free (client);
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

  g_test_add_func ("/pop3/sasl/salted-password-matches-gnu-sasl", test_salted_password_matches_gnu_sasl);
  g_test_add_func ("/pop3/sasl/scram-against-gnu-sasl-server", test_scram_against_gnu_sasl_server);
  g_test_add_func ("/pop3/sasl/scram-wrong-password-is-refused", test_scram_wrong_password_is_refused);
  g_test_add_func ("/pop3/sasl/scram-absurd-iterations-refused", test_scram_absurd_iterations_refused);

  return g_test_run ();
}

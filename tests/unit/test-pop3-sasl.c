/* SCRAM with Popbiff's SaltedPassword (Nettle's PBKDF2 handed to GNU SASL
 * through its callback): the same bytes GNU SASL derives itself, and a
 * whole exchange that GNU SASL's own server accepts, for ASCII passwords
 * and for ones SASLprep changes. The bearer mechanisms, built by hand:
 * their one message, and what they refuse to put in it. */
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

/* The one message of a bearer mechanism, decoded. */
static char *
bearer_message (const char *mechanism,
                const char *user,
                const char *token)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PbPop3Sasl) sasl = pb_pop3_sasl_new (mechanism, user, token, "pop.example.org", 995, &error);
  g_autofree guchar *decoded = NULL;
  char *response = NULL;
  char *message;
  gsize len = 0;

  g_assert_no_error (error);
  g_assert_true (pb_pop3_sasl_client_first (sasl));
  g_assert_true (pb_pop3_sasl_step (sasl, NULL, &response, &error));
  g_assert_no_error (error);
  decoded = g_base64_decode (response, &len);
  message = g_strndup ((const char *) decoded, len);
  pb_pop3_sasl_free_response (response);
  return message;
}

static void
test_bearer_messages (void)
{
  g_autofree char *xoauth2 = bearer_message ("XOAUTH2", "alice@example.org", "ya29.token");
  g_autofree char *oauthbearer = bearer_message ("OAUTHBEARER", "a,b=c", "ya29.token");

  g_assert_cmpstr (xoauth2, ==, "user=alice@example.org\001auth=Bearer ya29.token\001\001");
  /* RFC 7628 section 3.1: "," and "=" of the authzid escaped. */
  g_assert_cmpstr (oauthbearer, ==,
                   "n,a=a=2Cb=3Dc,\001host=pop.example.org\001port=995\001auth=Bearer ya29.token\001\001");
}

/* %x01 separates the fields of both messages and CR LF ends the command:
 * in a user name or a token they would smuggle in fields (or a command),
 * so the exchange is refused before it starts, without naming the token. */
static void
test_bearer_refuses_separators (void)
{
  static const char * const mechanisms[] = { "XOAUTH2", "OAUTHBEARER" };
  static const char * const bad[] = {
    "alice\001auth=Bearer stolen", "alice\r\nDELE 1", "alice\n", "\001",
  };

  for (guint m = 0; m < G_N_ELEMENTS (mechanisms); m++)
    for (guint b = 0; b < G_N_ELEMENTS (bad); b++)
      {
        g_autofree char *token = g_strconcat ("secret-token", bad[b], NULL);
        g_autoptr(GError) user_error = NULL;
        g_autoptr(GError) token_error = NULL;
        PbPop3Sasl *sasl;

        sasl = pb_pop3_sasl_new (mechanisms[m], bad[b], "secret-token", "localhost", 110, &user_error);
        g_assert_null (sasl);
        g_assert_error (user_error, PB_POP3_ERROR, PB_POP3_ERROR_INVALID_CREDENTIALS);
        g_assert_nonnull (strstr (user_error->message, mechanisms[m]));

        sasl = pb_pop3_sasl_new (mechanisms[m], "alice", token, "localhost", 110, &token_error);
        g_assert_null (sasl);
        g_assert_error (token_error, PB_POP3_ERROR, PB_POP3_ERROR_INVALID_CREDENTIALS);
        g_assert_null (strstr (token_error->message, "secret-token"));
      }
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

  g_test_add_func ("/pop3/sasl/salted-password-matches-gnu-sasl", test_salted_password_matches_gnu_sasl);
  g_test_add_func ("/pop3/sasl/scram-against-gnu-sasl-server", test_scram_against_gnu_sasl_server);
  g_test_add_func ("/pop3/sasl/scram-wrong-password-is-refused", test_scram_wrong_password_is_refused);
  g_test_add_func ("/pop3/sasl/scram-absurd-iterations-refused", test_scram_absurd_iterations_refused);
  g_test_add_func ("/pop3/sasl/bearer-messages", test_bearer_messages);
  g_test_add_func ("/pop3/sasl/bearer-refuses-separators", test_bearer_refuses_separators);

  return g_test_run ();
}

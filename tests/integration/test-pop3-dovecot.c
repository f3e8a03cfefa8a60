/* The POP3 engine against a real Dovecot (tests/lib/pb-test-dovecot.h):
 * every security mode, every SASL mechanism Dovecot offers plus USER and
 * APOP, the certificate checks, byte-exact STAT/LIST/UIDL/TOP/RETR of an
 * awkward mailbox, pipelining, and when DELE takes effect (RFC 1939
 * section 6: only on QUIT).
 *
 * One Dovecot serves the whole program; tests that change a mailbox get a
 * user of their own. */
#include <string.h>

#include <gio/gio.h>

#include "pb-test-certs.h"
#include "pb-test-dovecot.h"
#include "pb-test-mail.h"
#include "pb-test-pop3-sync.h"
#include "pb-test-util.h"

/* A user with an empty mailbox of its own. */
static char *
fresh_user (PbTestDovecot *d)
{
  static guint n;
  g_autoptr(GError) error = NULL;
  char *user = g_strdup_printf ("user%u", ++n);

  pb_test_dovecot_add_user (d, user, PB_TEST_DOVECOT_PASSWORD, &error);
  g_assert_no_error (error);
  return user;
}

static PbPop3Client *
login_as (PbTestDovecot    *d,
          const char       *user,
          PbPop3Security    security,
          PbPop3AuthMethod  method)
{
  g_autoptr(GError) error = NULL;
  guint16 port = security == PB_POP3_SECURITY_TLS ? pb_test_dovecot_get_tls_port (d)
                                                  : pb_test_dovecot_get_plain_port (d);
  PbPop3Client *client = pb_test_pop3_login (port, security, pb_test_dovecot_get_ca_file (d),
                                             user, PB_TEST_DOVECOT_PASSWORD, method, &error);

  g_assert_no_error (error);
  g_assert_nonnull (client);
  return client;
}

/* The size Dovecot reports for a Maildir file: every bare LF counts as
 * CRLF (RFC 1939 sizes are of the message as sent, with CRLF). */
static guint64
crlf_size (GBytes *stored)
{
  gsize len;
  const char *data = g_bytes_get_data (stored, &len);
  guint64 size = len;

  for (gsize i = 0; i < len; i++)
    if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
      size++;
  return size;
}

static void
assert_bytes_equal (GBytes *got,
                    GBytes *want)
{
  g_assert_nonnull (got);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got),
                   g_bytes_get_data (want, NULL), g_bytes_get_size (want));
}

/* The harness: every test of this program talks to one server. */
static void
test_shared_server (void)
{
  PbTestDovecot *d = pb_test_dovecot_get_shared ();

  if (d == NULL)
    return;

  g_assert_true (pb_test_dovecot_get_shared () == d);
  g_assert_cmpuint (pb_test_dovecot_get_tls_port (d), >, 0);
  g_assert_true (g_file_test (pb_test_dovecot_get_ca_file (d), G_FILE_TEST_IS_REGULAR));
}

/* Security modes */

static void
test_security_tls (void)
{
  PbTestDovecot *d = pb_test_dovecot_get_shared ();
  g_autoptr(PbPop3Client) client = NULL;
  const PbPop3TlsInfo *info;

  if (d == NULL)
    return;

  client = login_as (d, PB_TEST_DOVECOT_USER, PB_POP3_SECURITY_TLS, PB_POP3_AUTH_AUTO);
  g_assert_nonnull (strstr (pb_pop3_client_get_greeting (client),
                            pb_test_dovecot_get_greeting_token (d)));
  info = pb_pop3_client_get_tls_info (client);
  g_assert_nonnull (info);
  g_assert_cmpuint (info->errors, ==, 0);
  g_assert_false (info->pinned);
  g_assert_cmpuint (strlen (info->sha256), ==, 64);
  g_assert_nonnull (strstr (info->issuer, "Popbiff Test CA"));
  /* "auto" takes the strongest mechanism on offer. */
  g_assert_cmpstr (pb_pop3_client_get_auth_mechanism (client), ==, "SCRAM-SHA-256");
  g_assert_true (pb_pop3_client_has_capability (client, "UIDL"));
  g_assert_true (pb_pop3_client_has_capability (client, "PIPELINING"));
}

static void
test_security_starttls (void)
{
  PbTestDovecot *d = pb_test_dovecot_get_shared ();
  g_autoptr(PbPop3Client) client = NULL;
  const PbPop3TlsInfo *info;

  if (d == NULL)
    return;

  client = login_as (d, PB_TEST_DOVECOT_USER, PB_POP3_SECURITY_STARTTLS, PB_POP3_AUTH_AUTO);
  info = pb_pop3_client_get_tls_info (client);
  g_assert_nonnull (info);
  g_assert_cmpuint (info->errors, ==, 0);
  /* CAPA was asked again after TLS: STLS is no longer offered. */
  g_assert_false (pb_pop3_client_has_capability (client, "STLS"));
  g_assert_true (pb_pop3_client_has_capability (client, "TOP"));
}

static void
test_security_none (void)
{
  PbTestDovecot *d = pb_test_dovecot_get_shared ();
  g_autoptr(PbPop3Client) client = NULL;
  guint count = G_MAXUINT;
  guint64 size;
  g_autoptr(GError) error = NULL;

  if (d == NULL)
    return;

  client = login_as (d, PB_TEST_DOVECOT_USER, PB_POP3_SECURITY_NONE, PB_POP3_AUTH_AUTO);
  g_assert_null (pb_pop3_client_get_tls_info (client));
  pb_test_pop3_stat (client, &count, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count, !=, G_MAXUINT);
}

/* Certificates */

static void
test_certificate_unknown_ca (void)
{
  PbTestDovecot *d = pb_test_dovecot_get_shared ();
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  const PbPop3TlsInfo *info;

  if (d == NULL)
    return;

  /* Without the test CA, the system trust store does not know it. */
  client = pb_pop3_client_new ("127.0.0.1", pb_test_dovecot_get_tls_port (d), PB_POP3_SECURITY_TLS);
  pb_pop3_client_set_timeout (client, 60);
  g_assert_false (pb_test_pop3_connect (client, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_CERTIFICATE);
  info = pb_pop3_client_get_tls_info (client);
  g_assert_nonnull (info);
  g_assert_cmpuint (info->errors & G_TLS_CERTIFICATE_UNKNOWN_CA, !=, 0);
  g_assert_nonnull (strstr (error->message, info->sha256));
}

static void
test_certificate_pinned (void)
{
  PbTestDovecot *d = pb_test_dovecot_get_shared ();
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *pin = NULL;

  if (d == NULL)
    return;

  pin = pb_test_certs_sha256 (pb_test_dovecot_get_cert_file (d), &error);
  g_assert_no_error (error);
  client = pb_pop3_client_new ("127.0.0.1", pb_test_dovecot_get_tls_port (d), PB_POP3_SECURITY_TLS);
  pb_pop3_client_set_timeout (client, 60);
  pb_pop3_client_set_pin_sha256 (client, pin);
  pb_test_pop3_connect (client, &error);
  g_assert_no_error (error);
  g_assert_true (pb_pop3_client_get_tls_info (client)->pinned);
  g_assert_cmpstr (pb_pop3_client_get_tls_info (client)->sha256, ==, pin);
}

/* Authentication */

typedef struct {
  PbPop3AuthMethod method;
  PbPop3Security   security;
  const char      *mechanism;  /* what the client reports afterwards */
} AuthCase;

static void
test_auth (gconstpointer data)
{
  const AuthCase *c = data;
  PbTestDovecot *d = pb_test_dovecot_get_shared ();
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  guint count;
  guint64 size;

  if (d == NULL)
    return;

  client = login_as (d, PB_TEST_DOVECOT_USER, c->security, c->method);
  g_assert_cmpstr (pb_pop3_client_get_auth_mechanism (client), ==, c->mechanism);
  /* Logged in for real: the mailbox answers. */
  pb_test_pop3_stat (client, &count, &size, &error);
  g_assert_no_error (error);
  pb_test_pop3_quit (client, &error);
  g_assert_no_error (error);
}

static void
test_auth_wrong_password (void)
{
  PbTestDovecot *d = pb_test_dovecot_get_shared ();
  static const PbPop3AuthMethod methods[] = {
    PB_POP3_AUTH_AUTO, PB_POP3_AUTH_USER, PB_POP3_AUTH_PLAIN, PB_POP3_AUTH_CRAM_MD5,
  };

  if (d == NULL)
    return;

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PbPop3Client) client = pb_test_pop3_login (pb_test_dovecot_get_tls_port (d),
                                                           PB_POP3_SECURITY_TLS,
                                                           pb_test_dovecot_get_ca_file (d),
                                                           PB_TEST_DOVECOT_USER, "not the password",
                                                           methods[i], &error);

      g_test_message ("method %s", pb_pop3_auth_method_to_string (methods[i]));
      g_assert_null (client);
      g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH);
    }
}

/* The mailbox */

static void
test_mailbox_awkward (void)
{
  PbTestDovecot *d = pb_test_dovecot_get_shared ();
  g_autofree char *user = NULL;
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GPtrArray) uidls = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;
  guint count;
  guint64 size, total = 0;

  if (d == NULL)
    return;

  user = fresh_user (d);
  for (guint kind = 0; kind < PB_TEST_MAIL_N_KINDS; kind++)
    {
      g_autoptr(GBytes) message = pb_test_mail_awkward (kind);

      pb_test_dovecot_deliver (d, user, message, &error);
      g_assert_no_error (error);
    }
  files = pb_test_dovecot_list_messages (d, user, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (files->len, ==, PB_TEST_MAIL_N_KINDS);

  client = login_as (d, user, PB_POP3_SECURITY_TLS, PB_POP3_AUTH_AUTO);

  pb_test_pop3_stat (client, &count, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, files->len);

  list = pb_test_pop3_list (client, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, files->len);
  uidls = pb_test_pop3_uidl (client, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uidls->len, ==, files->len);

  for (guint i = 0; i < files->len; i++)
    {
      PbTestMessage *file = g_ptr_array_index (files, i);
      PbPop3Listing *listed = g_ptr_array_index (list, i);
      PbPop3Listing *uidl = g_ptr_array_index (uidls, i);
      g_autoptr(GBytes) want = pb_test_mail_expected_retr (file->contents);
      g_autoptr(GBytes) want_top = pb_test_mail_expected_top0 (file->contents);
      g_autoptr(GBytes) got = NULL;
      g_autoptr(GBytes) got_top = NULL;

      g_test_message ("message %u: %s", i + 1, pb_test_mail_kind_name (i));
      g_assert_cmpuint (listed->number, ==, i + 1);
      g_assert_cmpuint (listed->size, ==, crlf_size (file->contents));
      total += listed->size;

      /* pop3_uidl_format = %08Xu%08Xv: 16 hex digits, each unique. */
      g_assert_cmpuint (uidl->number, ==, i + 1);
      g_assert_cmpuint (strlen (uidl->uidl), ==, 16);
      g_assert_false (g_hash_table_contains (seen, uidl->uidl));
      g_hash_table_add (seen, uidl->uidl);

      got_top = pb_test_pop3_top (client, i + 1, 0, &error);
      g_assert_no_error (error);
      assert_bytes_equal (got_top, want_top);

      got = pb_test_pop3_retr (client, i + 1, &error);
      g_assert_no_error (error);
      assert_bytes_equal (got, want);
    }
  g_assert_cmpuint (size, ==, total);

  pb_test_pop3_quit (client, &error);
  g_assert_no_error (error);
}

typedef struct {
  GAsyncResult *result;
  GOutputStream *out;
} Pending;

static void
store_pending (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  Pending *p = user_data;

  p->result = g_object_ref (result);
}

static void
test_mailbox_pipelined (void)
{
  const guint n = 60;
  PbTestDovecot *d = pb_test_dovecot_get_shared ();
  g_autofree char *user = NULL;
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree Pending *pending = g_new0 (Pending, n);

  if (d == NULL)
    return;

  user = fresh_user (d);
  pb_test_dovecot_fill (d, user, n, 3000, &error);
  g_assert_no_error (error);
  files = pb_test_dovecot_list_messages (d, user, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (files->len, ==, n);

  client = login_as (d, user, PB_POP3_SECURITY_TLS, PB_POP3_AUTH_AUTO);
  /* Every RETR queued at once; the engine pipelines them in a bounded
   * window and completes them in order. */
  for (guint i = 0; i < n; i++)
    {
      pending[i].out = g_memory_output_stream_new_resizable ();
      pb_pop3_client_retr_async (client, i + 1, pending[i].out, NULL, store_pending, &pending[i]);
    }
  for (guint i = 0; i < n; i++)
    {
      PbTestMessage *file = g_ptr_array_index (files, i);
      g_autoptr(GBytes) want = pb_test_mail_expected_retr (file->contents);
      g_autoptr(GBytes) got = NULL;
      guint64 written;

      while (pending[i].result == NULL)
        g_main_context_iteration (NULL, TRUE);
      pb_pop3_client_retr_finish (client, pending[i].result, &written, &error);
      g_assert_no_error (error);
      g_output_stream_close (pending[i].out, NULL, NULL);
      got = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (pending[i].out));
      assert_bytes_equal (got, want);
      g_clear_object (&pending[i].result);
      g_clear_object (&pending[i].out);
    }
  pb_test_pop3_quit (client, &error);
  g_assert_no_error (error);
}

/* Deleting */

static char *
deliver_three (PbTestDovecot *d)
{
  char *user = fresh_user (d);

  for (guint i = 1; i <= 3; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *subject = g_strdup_printf ("note %u", i);
      g_autoptr(GBytes) note = pb_test_mail_simple ("bob@example.org", subject, "hello\n");

      pb_test_dovecot_deliver (d, user, note, &error);
      g_assert_no_error (error);
    }
  return user;
}

static void
test_dele_then_quit_removes (void)
{
  PbTestDovecot *d = pb_test_dovecot_get_shared ();
  g_autofree char *user = NULL;
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GPtrArray) before = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autoptr(GError) error = NULL;

  if (d == NULL)
    return;

  user = deliver_three (d);
  before = pb_test_dovecot_list_messages (d, user, &error);
  g_assert_no_error (error);

  client = login_as (d, user, PB_POP3_SECURITY_TLS, PB_POP3_AUTH_AUTO);
  pb_test_pop3_dele (client, 2, &error);
  g_assert_no_error (error);
  pb_test_pop3_quit (client, &error);
  g_assert_no_error (error);

  /* Exactly message 2 is gone from the Maildir. */
  after = pb_test_dovecot_list_messages (d, user, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (after->len, ==, 2);
  g_assert_cmpstr (((PbTestMessage *) after->pdata[0])->name, ==,
                   ((PbTestMessage *) before->pdata[0])->name);
  g_assert_cmpstr (((PbTestMessage *) after->pdata[1])->name, ==,
                   ((PbTestMessage *) before->pdata[2])->name);
}

static void
test_dele_then_drop_keeps (void)
{
  PbTestDovecot *d = pb_test_dovecot_get_shared ();
  g_autofree char *user = NULL;
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(PbPop3Client) again = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autoptr(GError) error = NULL;
  guint count;
  guint64 size;

  if (d == NULL)
    return;

  user = deliver_three (d);
  client = login_as (d, user, PB_POP3_SECURITY_TLS, PB_POP3_AUTH_AUTO);
  for (guint i = 1; i <= 3; i++)
    {
      pb_test_pop3_dele (client, i, &error);
      g_assert_no_error (error);
    }
  /* Gone without QUIT: the server must not commit the deletions. */
  pb_pop3_client_close (client);

  again = login_as (d, user, PB_POP3_SECURITY_TLS, PB_POP3_AUTH_AUTO);
  pb_test_pop3_stat (again, &count, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 3);
  pb_test_pop3_quit (again, &error);
  g_assert_no_error (error);

  after = pb_test_dovecot_list_messages (d, user, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (after->len, ==, 3);
}

int
main (int argc, char *argv[])
{
  static const AuthCase auth_cases[] = {
    { PB_POP3_AUTH_SCRAM_SHA_256, PB_POP3_SECURITY_TLS, "SCRAM-SHA-256" },
    { PB_POP3_AUTH_CRAM_MD5, PB_POP3_SECURITY_TLS, "CRAM-MD5" },
    { PB_POP3_AUTH_PLAIN, PB_POP3_SECURITY_TLS, "PLAIN" },
    { PB_POP3_AUTH_LOGIN, PB_POP3_SECURITY_TLS, "LOGIN" },
    { PB_POP3_AUTH_USER, PB_POP3_SECURITY_TLS, "USER" },
    { PB_POP3_AUTH_APOP, PB_POP3_SECURITY_TLS, "APOP" },
    { PB_POP3_AUTH_SCRAM_SHA_256, PB_POP3_SECURITY_STARTTLS, "SCRAM-SHA-256" },
    { PB_POP3_AUTH_USER, PB_POP3_SECURITY_STARTTLS, "USER" },
    { PB_POP3_AUTH_SCRAM_SHA_256, PB_POP3_SECURITY_NONE, "SCRAM-SHA-256" },
    { PB_POP3_AUTH_CRAM_MD5, PB_POP3_SECURITY_NONE, "CRAM-MD5" },
    { PB_POP3_AUTH_APOP, PB_POP3_SECURITY_NONE, "APOP" },
    { PB_POP3_AUTH_PLAIN, PB_POP3_SECURITY_NONE, "PLAIN" },
    { PB_POP3_AUTH_USER, PB_POP3_SECURITY_NONE, "USER" },
  };
  int status;

  pb_test_init (&argc, &argv);

  g_test_add_func ("/pop3/dovecot/shared-server", test_shared_server);
  g_test_add_func ("/pop3/dovecot/security/tls", test_security_tls);
  g_test_add_func ("/pop3/dovecot/security/starttls", test_security_starttls);
  g_test_add_func ("/pop3/dovecot/security/none", test_security_none);
  g_test_add_func ("/pop3/dovecot/certificate/unknown-ca", test_certificate_unknown_ca);
  g_test_add_func ("/pop3/dovecot/certificate/pinned", test_certificate_pinned);
  for (guint i = 0; i < G_N_ELEMENTS (auth_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/pop3/dovecot/auth/%s/%s",
                                               pb_pop3_security_to_string (auth_cases[i].security),
                                               pb_pop3_auth_method_to_string (auth_cases[i].method));
      g_test_add_data_func (path, &auth_cases[i], test_auth);
    }
  g_test_add_func ("/pop3/dovecot/auth/wrong-password", test_auth_wrong_password);
  g_test_add_func ("/pop3/dovecot/mailbox/awkward-byte-exact", test_mailbox_awkward);
  g_test_add_func ("/pop3/dovecot/mailbox/pipelined-retr", test_mailbox_pipelined);
  g_test_add_func ("/pop3/dovecot/dele/quit-removes", test_dele_then_quit_removes);
  g_test_add_func ("/pop3/dovecot/dele/drop-keeps", test_dele_then_drop_keeps);

  status = g_test_run ();
  pb_test_dovecot_stop_shared ();
  return status;
}

/* The POP3 engine against a scripted server that misbehaves in exactly one
 * way per test: what a real Dovecot will not do on demand. Each test reads
 * as a transcript: what the server says, what the client must send, what
 * the caller sees. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "pop3/pb-pop3-client.h"
#include "pb-fake-server.h"
#include "pb-test-certs.h"
#include "pb-test-util.h"

static PbTestCerts *certs;

/* ---- running async calls to completion ----------------------------------- */

static void
on_result (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

static GAsyncResult *
await (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static gboolean
connect_sync (PbPop3Client *client,
              GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pb_pop3_client_connect_async (client, NULL, on_result, &result);
  return pb_pop3_client_connect_finish (client, await (&result), error);
}

static gboolean
auth_sync (PbPop3Client     *client,
           const char       *user,
           const char       *secret,
           PbPop3AuthMethod  method,
           GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pb_pop3_client_authenticate_async (client, user, secret, method, NULL, on_result, &result);
  return pb_pop3_client_authenticate_finish (client, await (&result), error);
}

static gboolean
quit_sync (PbPop3Client *client,
           GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pb_pop3_client_quit_async (client, NULL, on_result, &result);
  return pb_pop3_client_quit_finish (client, await (&result), error);
}

/* A server that greets (with an APOP timestamp, RFC 1939's example) and
 * answers CAPA with @capa (lines separated by \n), or with -ERR when @capa
 * is NULL: an RFC 1939 server. */
static PbFakeServer *
server_with_capa (const char *capa)
{
  PbFakeServer *server = pb_fake_server_new ();

  pb_fake_server_send (server, "+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>");
  pb_fake_server_expect (server, "CAPA");
  if (capa != NULL)
    {
      g_autofree char *response = g_strdup_printf ("+OK Capability list follows\n%s\n.", capa);

      pb_fake_server_send (server, response);
    }
  else
    pb_fake_server_send (server, "-ERR unknown command");
  return server;
}

static PbPop3Client *
plain_client (PbFakeServer *server)
{
  PbPop3Client *client = pb_pop3_client_new ("127.0.0.1", pb_fake_server_get_port (server),
                                              PB_POP3_SECURITY_NONE);

  pb_pop3_client_set_timeout (client, 10);
  return client;
}

static void
expect_user_pass (PbFakeServer *server)
{
  pb_fake_server_expect (server, "USER alice");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "PASS secret");
  pb_fake_server_send (server, "+OK maildrop locked and ready");
}

static void
assert_server_happy (PbFakeServer *server)
{
  g_autofree char *problems = pb_fake_server_wait (server);

  g_assert_cmpstr (problems, ==, NULL);
}

static gboolean
require_certs (void)
{
  g_autofree char *openssl = pb_test_require_program ("openssl");

  if (openssl == NULL)
    return FALSE;
  g_assert_nonnull (certs);
  return TRUE;
}

/* ---- connect, CAPA, login, commands ---------------------------------------- */

static void
test_user_pass_stat (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("TOP\nUSER\nUIDL\nRESP-CODES\n"
                                                     "IMPLEMENTATION Fake 1.0\n"
                                                     "LOGIN-DELAY 900\nEXPIRE NEVER");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint count = 0;
  guint64 size = 0;

  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK Capability list follows\nTOP\nUIDL\n.");  /* after login */
  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, "+OK 2 320");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (pb_pop3_client_get_greeting (client), ==,
                   "POP3 server ready <1896.697170952@dbc.mtview.ca.us>");
  g_assert_cmpstr (pb_pop3_client_get_implementation (client), ==, "Fake 1.0");
  g_assert_cmpstr (pb_pop3_client_get_capabilities (client)[4], ==, "IMPLEMENTATION Fake 1.0");
  g_assert_cmpint (pb_pop3_client_get_login_delay (client), ==, 900);
  g_assert_cmpint (pb_pop3_client_get_expire (client), ==, G_MAXINT);
  g_assert_true (pb_pop3_client_has_capability (client, "USER"));
  g_assert_null (pb_pop3_client_get_tls_info (client));

  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (pb_pop3_client_get_auth_mechanism (client), ==, "USER");
  /* The CAPA after login replaced the one before. */
  g_assert_false (pb_pop3_client_has_capability (client, "USER"));
  g_assert_true (pb_pop3_client_has_capability (client, "TOP"));
  g_assert_cmpint (pb_pop3_client_get_login_delay (client), ==, -1);

  pb_pop3_client_stat_async (client, NULL, on_result, &result);
  g_assert_true (pb_pop3_client_stat_finish (client, await (&result), &count, &size, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 2);
  g_assert_cmpuint (size, ==, 320);

  g_assert_true (quit_sync (client, &error));
  g_assert_no_error (error);
  assert_server_happy (server);
}

static void
test_commands (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("TOP\nUSER\nUIDL");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) list_result = NULL;
  g_autoptr(GAsyncResult) uidl_result = NULL;
  g_autoptr(GAsyncResult) uidl_one_result = NULL;
  g_autoptr(GAsyncResult) top_result = NULL;
  g_autoptr(GAsyncResult) retr_result = NULL;
  g_autoptr(GAsyncResult) dele_result = NULL;
  g_autoptr(GAsyncResult) rset_result = NULL;
  g_autoptr(GAsyncResult) noop_result = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GPtrArray) uidls = NULL;
  g_autoptr(GBytes) top = NULL;
  g_autofree char *uidl = NULL;
  g_autoptr(GOutputStream) output = g_memory_output_stream_new_resizable ();
  const char retr_reply[] = "+OK 120 octets\r\nSubject: hello\r\n\r\n..dotted\r\n"
                            "bare LF\nlast\r\n.\r\n";
  const char retr_expected[] = "Subject: hello\n\n.dotted\nbare LF\nlast\n";
  guint64 written = 0;
  PbPop3Listing *listing;

  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nTOP\nUIDL\n.");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send (server, "+OK 2 messages\n1 120\n2 200\n.");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "+OK\n1 whqtswO00WBw418f9t5JxYwZ\n2 QhdPYR:00WBw1Ph7x7\n.");
  pb_fake_server_expect (server, "UIDL 2");
  pb_fake_server_send (server, "+OK 2 QhdPYR:00WBw1Ph7x7");
  pb_fake_server_expect (server, "TOP 1 0");
  pb_fake_server_send (server, "+OK\nSubject: hello\nFrom: a@example.org\n\n.");
  pb_fake_server_expect (server, "RETR 1");
  /* Dot-stuffing, a bare LF and an empty line in the body. */
  pb_fake_server_send_raw (server, retr_reply, strlen (retr_reply));
  pb_fake_server_expect (server, "DELE 1");
  pb_fake_server_send (server, "+OK message 1 deleted");
  pb_fake_server_expect (server, "RSET");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "NOOP");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK");

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  g_assert_no_error (error);

  /* Back to back, without waiting: the client queues them. */
  pb_pop3_client_list_async (client, NULL, on_result, &list_result);
  pb_pop3_client_uidl_async (client, NULL, on_result, &uidl_result);
  pb_pop3_client_uidl_one_async (client, 2, NULL, on_result, &uidl_one_result);
  pb_pop3_client_top_async (client, 1, 0, NULL, on_result, &top_result);
  pb_pop3_client_retr_async (client, 1, output, NULL, on_result, &retr_result);
  pb_pop3_client_dele_async (client, 1, NULL, on_result, &dele_result);
  pb_pop3_client_rset_async (client, NULL, on_result, &rset_result);
  pb_pop3_client_noop_async (client, NULL, on_result, &noop_result);

  list = pb_pop3_client_list_finish (client, await (&list_result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  listing = g_ptr_array_index (list, 1);
  g_assert_cmpuint (listing->number, ==, 2);
  g_assert_cmpuint (listing->size, ==, 200);
  g_assert_null (listing->uidl);

  uidls = pb_pop3_client_uidl_finish (client, await (&uidl_result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uidls->len, ==, 2);
  listing = g_ptr_array_index (uidls, 0);
  g_assert_cmpuint (listing->number, ==, 1);
  g_assert_cmpstr (listing->uidl, ==, "whqtswO00WBw418f9t5JxYwZ");

  uidl = pb_pop3_client_uidl_one_finish (client, await (&uidl_one_result), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (uidl, ==, "QhdPYR:00WBw1Ph7x7");

  top = pb_pop3_client_top_finish (client, await (&top_result), &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (top, NULL), g_bytes_get_size (top),
                   "Subject: hello\nFrom: a@example.org\n\n", 36);

  g_assert_true (pb_pop3_client_retr_finish (client, await (&retr_result), &written, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (written, ==, strlen (retr_expected));
  g_assert_cmpmem (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (output)),
                   g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (output)),
                   retr_expected, strlen (retr_expected));

  g_assert_true (pb_pop3_client_dele_finish (client, await (&dele_result), &error));
  g_assert_true (pb_pop3_client_rset_finish (client, await (&rset_result), &error));
  g_assert_true (pb_pop3_client_noop_finish (client, await (&noop_result), &error));
  g_assert_no_error (error);

  g_assert_true (quit_sync (client, &error));
  assert_server_happy (server);
}

/* RFC 1939 only: no CAPA, so TOP and UIDL are tried, and -ERR means the
 * server lacks them. */
static void
test_no_capa (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa (NULL);
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) top_result = NULL;
  g_autoptr(GAsyncResult) uidl_result = NULL;
  g_autoptr(GBytes) top = NULL;
  g_autoptr(GPtrArray) uidls = NULL;

  expect_user_pass (server);
  /* No second CAPA: a server without it before login has none after. */
  pb_fake_server_expect (server, "TOP 1 0");
  pb_fake_server_send (server, "-ERR unknown command");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "-ERR unknown command");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK");

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_cmpstrv (pb_pop3_client_get_capabilities (client), ((const char *[]) { NULL }));
  /* USER is RFC 1939's baseline; auto takes it without CAPA only when the
   * link is encrypted, so ask for it explicitly here. */
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  g_assert_no_error (error);

  pb_pop3_client_top_async (client, 1, 0, NULL, on_result, &top_result);
  pb_pop3_client_uidl_async (client, NULL, on_result, &uidl_result);
  top = pb_pop3_client_top_finish (client, await (&top_result), &error);
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  uidls = pb_pop3_client_uidl_finish (client, await (&uidl_result), &error);
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED);
  g_clear_error (&error);

  g_assert_true (quit_sync (client, &error));
  assert_server_happy (server);
}

/* CAPA after login without UIDL, and a server that indeed lacks it: the
 * client asks anyway, and the plain -ERR says the command is missing. */
static void
test_no_uidl (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER\nTOP");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) uidls = NULL;

  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nTOP\n.");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "-ERR unknown command");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK");

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  pb_pop3_client_uidl_async (client, NULL, on_result, &result);
  uidls = pb_pop3_client_uidl_finish (client, await (&result), &error);
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  g_assert_true (quit_sync (client, &error));
  assert_server_happy (server);
}

/* Real servers list UIDL and TOP before login and forget them in the CAPA
 * after it (RFC 2449 section 5 lets the list change), yet answer both:
 * the client believes the answers, not the list. */
static void
test_capa_after_login_omits_uidl_and_top (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER\nUIDL\nTOP");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) uidl_result = NULL;
  g_autoptr(GAsyncResult) top_result = NULL;
  g_autoptr(GAsyncResult) one_result = NULL;
  g_autoptr(GPtrArray) uidls = NULL;
  g_autoptr(GBytes) top = NULL;
  g_autofree char *one = NULL;

  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\n.");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "+OK\n1 aaa\n2 bbb\n.");
  pb_fake_server_expect (server, "TOP 2 0");
  pb_fake_server_send (server, "+OK\nSubject: hi\n.");
  pb_fake_server_expect (server, "UIDL 1");
  pb_fake_server_send (server, "+OK 1 aaa");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK");

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  g_assert_false (pb_pop3_client_has_capability (client, "UIDL"));
  pb_pop3_client_uidl_async (client, NULL, on_result, &uidl_result);
  pb_pop3_client_top_async (client, 2, 0, NULL, on_result, &top_result);
  pb_pop3_client_uidl_one_async (client, 1, NULL, on_result, &one_result);
  uidls = pb_pop3_client_uidl_finish (client, await (&uidl_result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uidls->len, ==, 2);
  g_assert_cmpstr (((PbPop3Listing *) uidls->pdata[1])->uidl, ==, "bbb");
  top = pb_pop3_client_top_finish (client, await (&top_result), &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (top, NULL), g_bytes_get_size (top), "Subject: hi\n", 12);
  one = pb_pop3_client_uidl_one_finish (client, await (&one_result), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (one, ==, "aaa");
  g_assert_true (quit_sync (client, &error));
  assert_server_happy (server);
}

/* A plain -ERR to the UIDL listing means the server gives no UIDLs, even
 * when CAPA lists UIDL (switched off, say). A -ERR to a TOP that CAPA
 * lists concerns that message, and one that says "try later" is never a
 * missing command. */
static void
test_listed_uidl_refused (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER\nUIDL\nTOP\nRESP-CODES");
  g_autoptr(GAsyncResult) later_result = NULL;
  g_autoptr(GAsyncResult) listed_top_result = NULL;
  g_autoptr(GBytes) later = NULL;
  g_autoptr(GBytes) listed_top = NULL;
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) uidl_result = NULL;
  g_autoptr(GPtrArray) uidls = NULL;

  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nUIDL\nTOP\nRESP-CODES\n.");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "-ERR UIDL is switched off");
  pb_fake_server_expect (server, "TOP 1 0");
  pb_fake_server_send (server, "-ERR [SYS/TEMP] storage offline");
  pb_fake_server_expect (server, "TOP 2 0");
  pb_fake_server_send (server, "-ERR no such message");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK");

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  pb_pop3_client_uidl_async (client, NULL, on_result, &uidl_result);
  pb_pop3_client_top_async (client, 1, 0, NULL, on_result, &later_result);
  pb_pop3_client_top_async (client, 2, 0, NULL, on_result, &listed_top_result);
  uidls = pb_pop3_client_uidl_finish (client, await (&uidl_result), &error);
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  later = pb_pop3_client_top_finish (client, await (&later_result), &error);
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_SYS_TEMP);
  g_clear_error (&error);
  listed_top = pb_pop3_client_top_finish (client, await (&listed_top_result), &error);
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_SERVER);
  g_clear_error (&error);
  g_assert_true (quit_sync (client, &error));
  assert_server_happy (server);
}

static void
test_hostile_uidl (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER\nUIDL");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GPtrArray) uidls = NULL;
  const char hostile[] = "+OK\r\n1 ../../x\x1b[2J\r\n.\r\n";

  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nUIDL\n.");
  pb_fake_server_expect (server, "UIDL");
  /* A UIDL with a path and an escape sequence in it. */
  pb_fake_server_send_raw (server, hostile, strlen (hostile));

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  pb_pop3_client_uidl_async (client, NULL, on_result, &result);
  uidls = pb_pop3_client_uidl_finish (client, await (&result), &error);
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL);
  g_assert_null (uidls);
  pb_pop3_client_close (client);
  assert_server_happy (server);
}

/* Listings as servers really write them: runs of spaces or tabs between
 * the words, trailing blanks, words after the size (tolerated), and a
 * second word after a UIDL (refused: it would be part of the identity). */
static void
test_listing_spacing (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER\nUIDL");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) list_result = NULL;
  g_autoptr(GAsyncResult) uidl_result = NULL;
  g_autoptr(GAsyncResult) bad_result = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GPtrArray) uidls = NULL;
  g_autoptr(GPtrArray) bad = NULL;
  const char list_reply[] = "+OK\r\n1   120\t \r\n2\t340 octets here\r\n\r\n.\r\n";
  const char uidl_reply[] = "+OK\r\n 1\tabc:1  \r\n2 def\r\n.\r\n";
  const char bad_reply[] = "+OK\r\n1 abc def\r\n.\r\n";

  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nUIDL\n.");
  pb_fake_server_expect (server, "LIST");
  pb_fake_server_send_raw (server, list_reply, strlen (list_reply));
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send_raw (server, uidl_reply, strlen (uidl_reply));
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send_raw (server, bad_reply, strlen (bad_reply));

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));

  pb_pop3_client_list_async (client, NULL, on_result, &list_result);
  list = pb_pop3_client_list_finish (client, await (&list_result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpuint (((PbPop3Listing *) g_ptr_array_index (list, 0))->size, ==, 120);
  g_assert_cmpuint (((PbPop3Listing *) g_ptr_array_index (list, 1))->number, ==, 2);
  g_assert_cmpuint (((PbPop3Listing *) g_ptr_array_index (list, 1))->size, ==, 340);

  pb_pop3_client_uidl_async (client, NULL, on_result, &uidl_result);
  uidls = pb_pop3_client_uidl_finish (client, await (&uidl_result), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uidls->len, ==, 2);
  g_assert_cmpstr (((PbPop3Listing *) g_ptr_array_index (uidls, 0))->uidl, ==, "abc:1");
  g_assert_cmpstr (((PbPop3Listing *) g_ptr_array_index (uidls, 1))->uidl, ==, "def");

  pb_pop3_client_uidl_async (client, NULL, on_result, &bad_result);
  bad = pb_pop3_client_uidl_finish (client, await (&bad_result), &error);
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL);
  g_assert_null (bad);
  pb_pop3_client_close (client);
  assert_server_happy (server);
}

/* A listing names each message once, in order; numbers may skip (a
 * message marked deleted). A number twice, or going back, is refused. */
static void
test_listing_order (void)
{
  static const struct {
    const char *command;
    const char *reply;
    gboolean    valid;
  } cases[] = {
    { "UIDL", "+OK\r\n1 a\r\n3 c\r\n7 g\r\n.\r\n", TRUE },
    { "UIDL", "+OK\r\n1 a\r\n1 b\r\n.\r\n", FALSE },
    { "UIDL", "+OK\r\n1 a\r\n7 g\r\n3 c\r\n.\r\n", FALSE },
    { "LIST", "+OK\r\n2 100\r\n2 100\r\n.\r\n", FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PbFakeServer) server = server_with_capa ("USER\nUIDL");
      g_autoptr(PbPop3Client) client = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GPtrArray) listing = NULL;

      expect_user_pass (server);
      pb_fake_server_expect (server, "CAPA");
      pb_fake_server_send (server, "+OK\nUSER\nUIDL\n.");
      pb_fake_server_expect (server, cases[i].command);
      pb_fake_server_send_raw (server, cases[i].reply, strlen (cases[i].reply));

      client = plain_client (server);
      g_assert_true (connect_sync (client, &error));
      g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
      if (g_str_equal (cases[i].command, "UIDL"))
        {
          pb_pop3_client_uidl_async (client, NULL, on_result, &result);
          listing = pb_pop3_client_uidl_finish (client, await (&result), &error);
        }
      else
        {
          pb_pop3_client_list_async (client, NULL, on_result, &result);
          listing = pb_pop3_client_list_finish (client, await (&result), &error);
        }
      if (cases[i].valid)
        {
          g_assert_no_error (error);
          g_assert_cmpuint (listing->len, ==, 3);
          g_assert_cmpuint (((PbPop3Listing *) g_ptr_array_index (listing, 2))->number, ==, 7);
        }
      else
        {
          g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL);
          g_assert_nonnull (strstr (error->message, "out of order"));
          g_assert_null (listing);
        }
      pb_pop3_client_close (client);
      assert_server_happy (server);
    }
}

/* ---- pipelining ------------------------------------------------------------ */

static void
test_pipelining_window (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER\nPIPELINING");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *results[10] = { NULL, };

  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nPIPELINING\n.");
  /* A window of 4: four commands arrive before any answer, then nothing
   * more until one is answered. */
  pb_fake_server_expect_lines (server, 4);
  pb_fake_server_expect_silence (server, 300);
  pb_fake_server_send (server, "+OK 1\n+OK 2\n+OK 3\n+OK 4");
  pb_fake_server_expect_lines (server, 4);
  pb_fake_server_expect_silence (server, 300);
  pb_fake_server_send (server, "+OK 5\n+OK 6\n+OK 7\n+OK 8");
  pb_fake_server_expect_lines (server, 2);
  pb_fake_server_send (server, "+OK 9\n+OK 10");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK");

  client = plain_client (server);
  pb_pop3_client_set_pipeline_window (client, 4);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    pb_pop3_client_noop_async (client, NULL, on_result, &results[i]);
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_assert_true (pb_pop3_client_noop_finish (client, await (&results[i]), &error));
      g_assert_no_error (error);
      g_clear_object (&results[i]);
    }
  g_assert_true (quit_sync (client, &error));
  assert_server_happy (server);
  g_assert_cmpuint (g_strv_length ((char **) pb_fake_server_get_received (server)), ==,
                    1 + 2 + 1 + 10 + 1);
}

/* Without PIPELINING, one command at a time. */
static void
test_no_pipelining (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  GAsyncResult *results[3] = { NULL, };

  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\n.");
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      pb_fake_server_expect (server, "NOOP");
      pb_fake_server_expect_silence (server, 200);
      pb_fake_server_send (server, "+OK");
    }
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK");

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    pb_pop3_client_noop_async (client, NULL, on_result, &results[i]);
  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    {
      g_assert_true (pb_pop3_client_noop_finish (client, await (&results[i]), &error));
      g_clear_object (&results[i]);
    }
  g_assert_true (quit_sync (client, &error));
  assert_server_happy (server);
}

/* ---- STARTTLS ---------------------------------------------------------------- */

static PbPop3Client *
starttls_client (PbFakeServer *server)
{
  PbPop3Client *client = pb_pop3_client_new ("localhost", pb_fake_server_get_port (server),
                                              PB_POP3_SECURITY_STARTTLS);

  pb_pop3_client_set_timeout (client, 10);
  if (certs != NULL)
    pb_pop3_client_set_ca_file (client, certs->ca_pem);
  return client;
}

static void
test_stls_not_offered (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER\nSASL PLAIN");
  g_autoptr(PbPop3Client) client = starttls_client (server);
  g_autoptr(GError) error = NULL;

  g_assert_false (connect_sync (client, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_STARTTLS_UNAVAILABLE);
  assert_server_happy (server);
  g_assert_false (pb_fake_server_received_prefix (server, "USER"));
  g_assert_false (pb_fake_server_received_prefix (server, "AUTH"));
}

static void
test_stls_refused (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER\nSTLS");
  g_autoptr(PbPop3Client) client = starttls_client (server);
  g_autoptr(GError) error = NULL;

  pb_fake_server_expect (server, "STLS");
  pb_fake_server_send (server, "-ERR TLS not available right now");

  g_assert_false (connect_sync (client, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_STARTTLS_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "TLS not available right now"));
  assert_server_happy (server);
}

/* A man in the middle appends a response after +OK, hoping the client
 * reads it after the handshake as if the server had sent it under TLS. */
static void
test_stls_injection (void)
{
  g_autoptr(PbFakeServer) server = NULL;
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  const char injected[] = "+OK Begin TLS\r\n+OK injected\r\n";

  if (!require_certs ())
    return;

  server = server_with_capa ("USER\nSTLS");
  pb_fake_server_set_certificate (server, certs->server_pem, certs->server_key);
  pb_fake_server_expect (server, "STLS");
  pb_fake_server_send_raw (server, injected, strlen (injected));
  pb_fake_server_starttls (server, FALSE);

  client = starttls_client (server);
  g_assert_false (connect_sync (client, &error));
  /* Caught before the handshake (the bytes came in the same read), or by
   * the handshake choking on them: either way, nothing more is sent. */
  g_assert_true (g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL) ||
                 g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_TLS));
  assert_server_happy (server);
}

static void
test_stls_success_asks_capa_again (void)
{
  g_autoptr(PbFakeServer) server = NULL;
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  const PbPop3TlsInfo *info;

  if (!require_certs ())
    return;

  server = server_with_capa ("STLS\nUSER");
  pb_fake_server_set_certificate (server, certs->server_pem, certs->server_key);
  pb_fake_server_expect (server, "STLS");
  pb_fake_server_send (server, "+OK Begin TLS negotiation");
  pb_fake_server_starttls (server, TRUE);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nSASL PLAIN\n.");
  pb_fake_server_sasl (server, "PLAIN", "alice", "secret");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nTOP\n.");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK");

  client = starttls_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_no_error (error);
  g_assert_true (pb_pop3_client_is_encrypted (client));
  g_assert_false (pb_pop3_client_has_capability (client, "STLS"));
  g_assert_cmpstrv (pb_pop3_client_get_sasl_mechanisms (client), ((const char *[]) { "PLAIN", NULL }));
  info = pb_pop3_client_get_tls_info (client);
  g_assert_nonnull (info);
  g_assert_cmpint (info->errors, ==, 0);

  /* auto over TLS may send the password: PLAIN is the strongest offered. */
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_AUTO, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (pb_pop3_client_get_auth_mechanism (client), ==, "PLAIN");
  g_assert_true (quit_sync (client, &error));
  assert_server_happy (server);
}

/* ---- certificates (implicit TLS) --------------------------------------------- */

static PbFakeServer *
tls_server (const char *pem,
            const char *key)
{
  PbFakeServer *server = pb_fake_server_new ();

  pb_fake_server_set_certificate (server, pem, key);
  pb_fake_server_set_implicit_tls (server, TRUE);
  pb_fake_server_send (server, "+OK ready");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\n.");
  return server;
}

static PbPop3Client *
tls_client (PbFakeServer *server,
            gboolean      with_ca)
{
  PbPop3Client *client = pb_pop3_client_new ("localhost", pb_fake_server_get_port (server),
                                              PB_POP3_SECURITY_TLS);

  pb_pop3_client_set_timeout (client, 10);
  if (with_ca)
    pb_pop3_client_set_ca_file (client, certs->ca_pem);
  return client;
}

/* Security "tls" on a port that speaks plain POP3 (110, say): the
 * handshake meets "+OK" and the error points at the port and setting. */
static void
test_tls_to_plain_server (void)
{
  g_autoptr(PbFakeServer) server = pb_fake_server_new ();
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  if (!require_certs ())
    return;

  pb_fake_server_send (server, "+OK POP3 ready, in the clear");
  pb_fake_server_stall (server);
  client = tls_client (server, TRUE);
  g_assert_false (connect_sync (client, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_TLS);
  g_assert_nonnull (strstr (error->message, "port 995 is TLS"));
  assert_server_happy (server);
}

static void
test_tls_trusted (void)
{
  g_autoptr(PbFakeServer) server = NULL;
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *fingerprint = NULL;
  const PbPop3TlsInfo *info;

  if (!require_certs ())
    return;

  server = tls_server (certs->server_pem, certs->server_key);
  client = tls_client (server, TRUE);
  g_assert_true (connect_sync (client, &error));
  g_assert_no_error (error);

  fingerprint = pb_test_certs_sha256 (certs->server_pem, &error);
  info = pb_pop3_client_get_tls_info (client);
  g_assert_nonnull (info);
  g_assert_cmpstr (info->sha256, ==, fingerprint);
  g_assert_cmpint (info->errors, ==, 0);
  g_assert_false (info->pinned);
  g_assert_nonnull (strstr (info->subject, "localhost"));
  g_assert_nonnull (strstr (info->issuer, "Popbiff Test CA"));
  g_assert_true (g_str_has_prefix (info->tls_version, "TLS 1."));
  g_assert_nonnull (info->cipher);
  g_assert_nonnull (info->not_before);
  g_assert_nonnull (info->not_after);

  pb_pop3_client_close (client);
  assert_server_happy (server);
}

/* Account validation only checks a CA file's PEM shape; a block that is no
 * certificate inside is the connection's to report, naming the file,
 * before any TLS handshake. The listener never answers, so no server
 * thread can outlive the test whichever of TCP and the CA file finishes
 * first. */
static void
test_tls_damaged_ca_file (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *ca = g_build_filename (g_get_home_dir (), "damaged-ca.pem", NULL);

  g_assert_cmpint (g_mkdir_with_parents (g_get_home_dir (), 0700), ==, 0);
  g_assert_true (g_file_set_contents (ca, "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n",
                                      -1, NULL));
  client = pb_pop3_client_new ("localhost", pb_test_listen_silently (listener),
                               PB_POP3_SECURITY_TLS);
  pb_pop3_client_set_timeout (client, 10);
  pb_pop3_client_set_ca_file (client, ca);

  g_assert_false (connect_sync (client, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_CERTIFICATE);
  g_assert_nonnull (strstr (error->message, ca));
}

static void
assert_rejected (const char           *pem,
                 const char           *key,
                 gboolean              with_ca,
                 const char           *pin,
                 GTlsCertificateFlags  flag,
                 const char           *reason)
{
  g_autoptr(PbFakeServer) server = NULL;
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *fingerprint = pb_test_certs_sha256 (pem, NULL);
  const PbPop3TlsInfo *info;

  server = pb_fake_server_new ();
  pb_fake_server_set_certificate (server, pem, key);
  pb_fake_server_set_implicit_tls (server, TRUE);
  client = tls_client (server, with_ca);
  if (pin != NULL)
    pb_pop3_client_set_pin_sha256 (client, pin);

  g_assert_false (connect_sync (client, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_CERTIFICATE);
  /* What a person needs to decide: why, who, by whom, when, fingerprint. */
  g_assert_nonnull (strstr (error->message, reason));
  g_assert_nonnull (strstr (error->message, fingerprint));
  g_assert_nonnull (strstr (error->message, "Popbiff"));
  g_assert_nonnull (strstr (error->message, "valid from"));

  info = pb_pop3_client_get_tls_info (client);
  g_assert_nonnull (info);
  g_assert_cmpstr (info->sha256, ==, fingerprint);
  if (flag != 0)
    g_assert_cmpint (info->errors & flag, ==, flag);
  g_assert_false (info->pinned);
  assert_server_happy (server);
}

static void
test_tls_wrong_host (void)
{
  if (require_certs ())
    assert_rejected (certs->wrong_host_pem, certs->wrong_host_key, TRUE, NULL,
                     G_TLS_CERTIFICATE_BAD_IDENTITY, "different server name");
}

static void
test_tls_unknown_ca (void)
{
  if (require_certs ())
    assert_rejected (certs->server_pem, certs->server_key, FALSE, NULL,
                     G_TLS_CERTIFICATE_UNKNOWN_CA, "not signed by an authority");
}

static void
test_tls_expired (void)
{
  if (require_certs ())
    assert_rejected (certs->expired_pem, certs->expired_key, TRUE, NULL,
                     G_TLS_CERTIFICATE_EXPIRED, "expired");
}

static void
test_tls_pin_mismatch (void)
{
  g_autofree char *other = NULL;

  if (!require_certs ())
    return;
  /* The server's certificate is valid, but not the one pinned. */
  other = pb_test_certs_sha256 (certs->self_signed_pem, NULL);
  assert_rejected (certs->server_pem, certs->server_key, TRUE, other, 0,
                   "not the one pinned");
}

static void
test_tls_pinned_self_signed (void)
{
  g_autoptr(PbFakeServer) server = NULL;
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *with_colons = NULL;
  const PbPop3TlsInfo *info;

  if (!require_certs ())
    return;

  fingerprint = pb_test_certs_sha256 (certs->self_signed_pem, &error);
  g_assert_no_error (error);
  /* The pin as people paste it: upper case with colons. */
  {
    GString *s = g_string_new (NULL);

    for (guint i = 0; fingerprint[i] != '\0'; i += 2)
      g_string_append_printf (s, "%s%c%c", i ? ":" : "",
                              g_ascii_toupper (fingerprint[i]), g_ascii_toupper (fingerprint[i + 1]));
    with_colons = g_string_free (s, FALSE);
  }

  server = tls_server (certs->self_signed_pem, certs->self_signed_key);
  client = tls_client (server, FALSE);
  pb_pop3_client_set_pin_sha256 (client, with_colons);
  g_assert_true (connect_sync (client, &error));
  g_assert_no_error (error);
  info = pb_pop3_client_get_tls_info (client);
  g_assert_true (info->pinned);
  g_assert_cmpint (info->errors & G_TLS_CERTIFICATE_UNKNOWN_CA, ==, G_TLS_CERTIFICATE_UNKNOWN_CA);
  pb_pop3_client_close (client);
  assert_server_happy (server);
}

/* ---- a server that stalls, drops, floods ------------------------------------- */

static void
test_stall (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  pb_fake_server_expect (server, "USER alice");
  pb_fake_server_stall (server);

  client = plain_client (server);
  pb_pop3_client_set_timeout (client, 1);
  g_assert_true (connect_sync (client, &error));
  start = g_get_monotonic_time ();
  g_assert_false (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_TIMEOUT);
  /* It fired on time, give or take a loaded machine. */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC * 9 / 10);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 20 * G_USEC_PER_SEC);
  assert_server_happy (server);
}

static void
test_stall_in_greeting (void)
{
  g_autoptr(PbFakeServer) server = pb_fake_server_new ();
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  pb_fake_server_stall (server);
  client = plain_client (server);
  pb_pop3_client_set_timeout (client, 1);
  g_assert_false (connect_sync (client, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_TIMEOUT);
  /* The likeliest reason: a port that expects TLS first, waiting too. */
  g_assert_nonnull (strstr (error->message, "sent no greeting"));
  g_assert_nonnull (strstr (error->message, "choose security “tls”"));
  assert_server_happy (server);
}

/* A server that sends a byte now and then never stalls, yet never
 * finishes either: the timeout counts whole responses and kilobytes, not
 * bytes. */
static void
test_trickled_greeting (void)
{
  g_autoptr(PbFakeServer) server = pb_fake_server_new ();
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;

  /* 60 bytes at 20 a second: 3 s for the greeting, each gap 50 ms. */
  pb_fake_server_trickle (server, "+OK a greeting that takes its time, one byte after another", 1, 50);
  client = plain_client (server);
  pb_pop3_client_set_timeout (client, 1);
  start = g_get_monotonic_time ();
  g_assert_false (connect_sync (client, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "too slow"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3 * G_USEC_PER_SEC);
  assert_server_happy (server);
}

static void
test_trickled_listing (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER\nUIDL");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GString) listing = g_string_new ("+OK");

  for (guint i = 1; i <= 100; i++)
    g_string_append_printf (listing, "\n%u uidl-%04u", i, i);
  g_string_append (listing, "\n.");
  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nUIDL\n.");
  pb_fake_server_expect (server, "UIDL");
  /* About 1,300 bytes at 200 a second: never a second without a byte,
   * never a kilobyte within one. */
  pb_fake_server_trickle (server, listing->str, 10, 50);

  client = plain_client (server);
  pb_pop3_client_set_timeout (client, 1);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  pb_pop3_client_uidl_async (client, NULL, on_result, &result);
  g_assert_null (pb_pop3_client_uidl_finish (client, await (&result), &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_TIMEOUT);
  assert_server_happy (server);
}

/* A server that answers UIDL on one line ("+OK 1 abc", as for UIDL n)
 * leaves the client waiting for a listing that never comes; the timeout
 * says which answer stopped, so the person (or a bug report) knows. */
static void
test_uidl_answered_on_one_line (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER\nUIDL");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;

  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nUIDL\n.");
  pb_fake_server_expect (server, "UIDL");
  pb_fake_server_send (server, "+OK 1 abc");
  pb_fake_server_stall (server);

  client = plain_client (server);
  pb_pop3_client_set_timeout (client, 1);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  pb_pop3_client_uidl_async (client, NULL, on_result, &result);
  g_assert_null (pb_pop3_client_uidl_finish (client, await (&result), &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (error->message, "of its answer to UIDL"));
  assert_server_happy (server);
}

/* Slow is not stalled: a body that keeps coming, a few kilobytes at a
 * time, is read to its end however long it takes altogether. */
static void
test_slow_steady_body (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GOutputStream) output = g_memory_output_stream_new_resizable ();
  g_autoptr(GString) message = g_string_new ("+OK\nSubject: slow\n");
  guint64 written = 0;

  while (message->len < 10000)
    g_string_append (message, "\nA line of the body that arrives over a slow link.");
  g_string_append (message, "\n.");
  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\n.");
  pb_fake_server_expect (server, "RETR 1");
  /* 10 KB in 2 KiB pieces 0.7 s apart: 3.5 s in all, twice the timeout. */
  pb_fake_server_trickle (server, message->str, 2048, 700);
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK bye");

  client = plain_client (server);
  pb_pop3_client_set_timeout (client, 2);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  pb_pop3_client_retr_async (client, 1, output, NULL, on_result, &result);
  g_assert_true (pb_pop3_client_retr_finish (client, await (&result), &written, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (written, >, 9000);
  g_assert_true (quit_sync (client, &error));
  assert_server_happy (server);
}

static void
test_drop_mid_retr (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER\nPIPELINING");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) retr_result = NULL;
  g_autoptr(GAsyncResult) noop_result = NULL;
  g_autoptr(GOutputStream) output = g_memory_output_stream_new_resizable ();

  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\nPIPELINING\n.");
  pb_fake_server_expect_lines (server, 2);
  pb_fake_server_send (server, "+OK\nSubject: cut short\n\nthe first line");
  pb_fake_server_drop (server);

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  pb_pop3_client_retr_async (client, 1, output, NULL, on_result, &retr_result);
  pb_pop3_client_noop_async (client, NULL, on_result, &noop_result);

  g_assert_false (pb_pop3_client_retr_finish (client, await (&retr_result), NULL, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_NETWORK);
  g_clear_error (&error);
  /* The command queued behind it fails the same way. */
  g_assert_false (pb_pop3_client_noop_finish (client, await (&noop_result), &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_NETWORK);
  assert_server_happy (server);
}

static void
test_huge_status_line (void)
{
  g_autoptr(PbFakeServer) server = pb_fake_server_new ();
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  pb_fake_server_send_repeated (server, "+OK aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 4 * 1024 * 1024);
  client = plain_client (server);
  g_assert_false (connect_sync (client, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL);
  assert_server_happy (server);
}

static void
test_endless_body (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GOutputStream) output = g_memory_output_stream_new_resizable ();

  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\n.");
  pb_fake_server_expect (server, "RETR 1");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_send_repeated (server, "and on and on and on\r\n", 256 * 1024 * 1024);

  client = plain_client (server);
  pb_pop3_client_set_max_message_size (client, 1024 * 1024);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  pb_pop3_client_retr_async (client, 1, output, NULL, on_result, &result);
  g_assert_false (pb_pop3_client_retr_finish (client, await (&result), NULL, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_TOO_LARGE);
  g_assert_cmpuint (g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (output)), <=,
                    1024 * 1024);
  assert_server_happy (server);
}

/* ---- response codes -------------------------------------------------------- */

static void
test_response_codes (void)
{
  static const struct {
    const char *capa;
    const char *reply;
    gint code;
    gint retry_after;
  } cases[] = {
    { "USER\nRESP-CODES", "-ERR [IN-USE] Do you have another POP session running?", PB_POP3_ERROR_IN_USE, -1 },
    { "USER\nRESP-CODES\nLOGIN-DELAY 900", "-ERR [LOGIN-DELAY] wait", PB_POP3_ERROR_LOGIN_DELAY, 900 },
    { "USER\nRESP-CODES", "-ERR [LOGIN-DELAY 300] wait", PB_POP3_ERROR_LOGIN_DELAY, 300 },
    { "USER\nRESP-CODES\nAUTH-RESP-CODE", "-ERR [AUTH] Invalid password", PB_POP3_ERROR_AUTH, -1 },
    { "USER\nRESP-CODES", "-ERR [SYS/TEMP] Disk quota check failed", PB_POP3_ERROR_SYS_TEMP, -1 },
    { "USER\nRESP-CODES", "-ERR [SYS/PERM] Your account is closed", PB_POP3_ERROR_SYS_PERM, -1 },
    /* RFC 3206 section 6: with AUTH-RESP-CODE, a -ERR without [AUTH] is
     * not about the password. */
    { "USER\nAUTH-RESP-CODE", "-ERR mailbox busy", PB_POP3_ERROR_SERVER, -1 },
    { "USER", "-ERR invalid password", PB_POP3_ERROR_AUTH, -1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(PbFakeServer) server = server_with_capa (cases[i].capa);
      g_autoptr(PbPop3Client) client = NULL;
      g_autoptr(GError) error = NULL;

      pb_fake_server_expect (server, "USER alice");
      pb_fake_server_send (server, "+OK");
      pb_fake_server_expect (server, "PASS secret");
      pb_fake_server_send (server, cases[i].reply);

      client = plain_client (server);
      g_assert_true (connect_sync (client, &error));
      g_assert_false (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
      g_test_message ("%s -> %s", cases[i].reply, error->message);
      g_assert_error (error, PB_POP3_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, "server said"));
      g_assert_cmpint (pb_pop3_client_get_retry_after (client), ==, cases[i].retry_after);
      pb_pop3_client_close (client);
      assert_server_happy (server);
    }
}

static void
test_garbage_after_login (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  pb_fake_server_expect (server, "USER alice");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "PASS secret");
  pb_fake_server_send (server, "+OK welcome\nHTTP/1.1 200 OK\nServer: not pop3");

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_false (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL);
  assert_server_happy (server);
}

/* ---- credentials and mechanisms -------------------------------------------- */

static void
test_crlf_in_credentials (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER\nSASL PLAIN");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  pb_fake_server_expect_silence (server, 200);
  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_false (auth_sync (client, "alice\r\nDELE 1", "secret", PB_POP3_AUTH_USER, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_INVALID_CREDENTIALS);
  g_clear_error (&error);
  g_assert_false (auth_sync (client, "alice", "sec\nret", PB_POP3_AUTH_PLAIN, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_INVALID_CREDENTIALS);
  g_assert_nonnull (strstr (error->message, "password"));
  g_clear_error (&error);
  /* A bearer mechanism's secret is a token, and the error says so. */
  g_assert_false (auth_sync (client, "alice", "tok\r\nen", PB_POP3_AUTH_XOAUTH2, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_INVALID_CREDENTIALS);
  g_assert_nonnull (strstr (error->message, "access token"));
  pb_pop3_client_close (client);
  assert_server_happy (server);
  g_assert_cmpstrv (pb_fake_server_get_received (server), ((const char *[]) { "CAPA", NULL }));
}

/* "auto" prefers what never reveals the password; with security "none"
 * chosen explicitly and only USER/PASS offered, it logs in with those
 * (DESIGN.md: never plaintext over an unencrypted connection unless
 * security is none). STARTTLS and TLS never leave a link unencrypted. */
static void
test_auto_cleartext_only_with_security_none (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  pb_fake_server_expect (server, "USER alice");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "PASS secret");
  pb_fake_server_send (server, "+OK maildrop ready");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\n.");
  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_AUTO, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (pb_pop3_client_get_auth_mechanism (client), ==, "USER");
  pb_pop3_client_close (client);
  assert_server_happy (server);
}

static void
run_sasl_login (const char       *capa,
                const char       *mechanism,
                PbPop3AuthMethod  method,
                const char       *user,
                const char       *password,
                const char       *server_password,
                gint              expected_error)
{
  g_autoptr(PbFakeServer) server = server_with_capa (capa);
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  pb_fake_server_sasl (server, mechanism, user, server_password);
  if (expected_error < 0)
    {
      pb_fake_server_expect (server, "CAPA");
      pb_fake_server_send (server, "+OK\nUIDL\n.");
    }

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  if (expected_error < 0)
    {
      g_assert_true (auth_sync (client, user, password, method, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (pb_pop3_client_get_auth_mechanism (client), ==, mechanism);
    }
  else
    {
      g_assert_false (auth_sync (client, user, password, method, &error));
      g_assert_error (error, PB_POP3_ERROR, expected_error);
    }
  pb_pop3_client_close (client);
  assert_server_happy (server);
}

static void
test_sasl_plain (void)
{
  run_sasl_login ("SASL PLAIN", "PLAIN", PB_POP3_AUTH_PLAIN, "alice", "secret", "secret", -1);
}

static void
test_sasl_plain_long_initial_response (void)
{
  /* 255 octets is the limit for the whole AUTH line (RFC 5034 section 4):
   * this one goes in a continuation instead. */
  g_autofree char *user = g_strnfill (200, 'u');

  run_sasl_login ("SASL PLAIN", "PLAIN", PB_POP3_AUTH_PLAIN, user, "secret", "secret", -1);
}

static void
test_sasl_login (void)
{
  run_sasl_login ("SASL LOGIN", "LOGIN", PB_POP3_AUTH_LOGIN, "alice", "secret", "secret", -1);
}

static void
test_sasl_cram_md5 (void)
{
  run_sasl_login ("SASL CRAM-MD5", "CRAM-MD5", PB_POP3_AUTH_CRAM_MD5, "alice", "secret", "secret", -1);
}

static void
test_sasl_scram_sha_256 (void)
{
  run_sasl_login ("SASL SCRAM-SHA-256", "SCRAM-SHA-256", PB_POP3_AUTH_SCRAM_SHA_256,
                  "alice", "secret", "secret", -1);
}

static void
test_sasl_scram_wrong_password (void)
{
  run_sasl_login ("SASL SCRAM-SHA-256\nAUTH-RESP-CODE", "SCRAM-SHA-256",
                  PB_POP3_AUTH_SCRAM_SHA_256, "alice", "wrong", "secret", PB_POP3_ERROR_AUTH);
}

/* auto chose CRAM-MD5, which the server announces but refuses: the error
 * names the method and the way out (a server keeping hashed passwords
 * cannot check CRAM-MD5, so the password may be right). */
static void
test_auto_refused_names_mechanism (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("SASL CRAM-MD5 PLAIN");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  pb_fake_server_sasl (server, "CRAM-MD5", "alice", "hashed-on-the-server");
  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_false (auth_sync (client, "alice", "secret", PB_POP3_AUTH_AUTO, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH);
  g_assert_nonnull (strstr (error->message, "CRAM-MD5"));
  g_assert_nonnull (strstr (error->message, "“plain”"));
  pb_pop3_client_close (client);
  assert_server_happy (server);
}

/* The method chosen explicitly: the message is about the password only. */
static void
test_explicit_refused_is_the_password (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("SASL CRAM-MD5 PLAIN");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  pb_fake_server_sasl (server, "CRAM-MD5", "alice", "other");
  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_false (auth_sync (client, "alice", "secret", PB_POP3_AUTH_CRAM_MD5, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH);
  g_assert_null (strstr (error->message, "“plain”"));
  pb_pop3_client_close (client);
  assert_server_happy (server);
}

/* Over plaintext, auto still uses what never reveals the password. */
static void
test_auto_picks_strongest (void)
{
  run_sasl_login ("USER\nSASL PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256", "SCRAM-SHA-256",
                  PB_POP3_AUTH_AUTO, "alice", "secret", "secret", -1);
  run_sasl_login ("USER\nSASL PLAIN CRAM-MD5", "CRAM-MD5",
                  PB_POP3_AUTH_AUTO, "alice", "secret", "secret", -1);
}

static void
test_apop (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa (NULL);
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  /* RFC 1939 section 7's own example. */
  pb_fake_server_expect (server, "APOP mrose c4c9334bac560ecc979e58001b3e22fb");
  pb_fake_server_send (server, "+OK maildrop has 1 message (369 octets)");

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "mrose", "tanstaaf", PB_POP3_AUTH_APOP, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (pb_pop3_client_get_auth_mechanism (client), ==, "APOP");
  pb_pop3_client_close (client);
  assert_server_happy (server);
}

static void
run_bearer_error (const char       *mechanism,
                  PbPop3AuthMethod  method,
                  const char       *expected_answer)
{
  g_autoptr(PbFakeServer) server = NULL;
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *capa = g_strdup_printf ("SASL %s", mechanism);
  g_autofree char *expected_auth = g_strdup_printf ("AUTH %s *", mechanism);
  const char json[] = "{\"status\":\"invalid_token\",\"scope\":\"pop\"}";
  g_autofree char *challenge_b64 = g_base64_encode ((const guchar *) json, strlen (json));
  g_autofree char *challenge = g_strdup_printf ("+ %s", challenge_b64);

  server = server_with_capa (capa);
  pb_fake_server_expect (server, expected_auth);
  pb_fake_server_send (server, challenge);
  pb_fake_server_expect (server, expected_answer);
  pb_fake_server_send (server, "-ERR [AUTH] Invalid token");

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_false (auth_sync (client, "alice@example.org", "ya29.token", method, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH);
  g_assert_nonnull (strstr (error->message, "invalid_token"));
  /* A token, not a password, was refused. */
  g_assert_nonnull (strstr (error->message, "access token"));
  g_assert_null (strstr (error->message, "password"));
  pb_pop3_client_close (client);
  assert_server_happy (server);
}

static void
test_xoauth2_error (void)
{
  run_bearer_error ("XOAUTH2", PB_POP3_AUTH_XOAUTH2, "");
}

static void
test_oauthbearer_error (void)
{
  run_bearer_error ("OAUTHBEARER", PB_POP3_AUTH_OAUTHBEARER, "AQ==");
}

/* RFC 7628 section 3.1: the authzid is a GS2 saslname (RFC 5801 section
 * 4), so ',' and '=' in the user name travel as "=2C" and "=3D"; the
 * rest of the message is as the RFC lays it out. */
static void
test_oauthbearer_authzid_escaped (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("SASL OAUTHBEARER");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = g_strdup_printf ("n,a=billing=3Dacme=2Ceu@example.org,"
                                              "\001host=127.0.0.1\001port=%u"
                                              "\001auth=Bearer ya29.token\001\001",
                                              pb_fake_server_get_port (server));
  g_autofree char *initial = g_base64_encode ((const guchar *) message, strlen (message));
  g_autofree char *expected_auth = g_strdup_printf ("AUTH OAUTHBEARER %s", initial);

  pb_fake_server_expect (server, expected_auth);
  pb_fake_server_send (server, "+OK Logged in.");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nTOP\n.");

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  auth_sync (client, "billing=acme,eu@example.org", "ya29.token",
             PB_POP3_AUTH_OAUTHBEARER, &error);
  g_assert_no_error (error);
  pb_pop3_client_close (client);
  assert_server_happy (server);
}

static void
test_ipv6 (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PbFakeServer) server = pb_fake_server_new_on ("::1", &error);
  g_autoptr(PbPop3Client) client = NULL;

  if (server == NULL)
    {
      g_test_skip ("IPv6 loopback is not available here");
      return;
    }
  pb_fake_server_send (server, "+OK ready");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "-ERR");
  client = pb_pop3_client_new ("::1", pb_fake_server_get_port (server), PB_POP3_SECURITY_NONE);
  g_assert_true (connect_sync (client, &error));
  g_assert_no_error (error);
  pb_pop3_client_close (client);
  assert_server_happy (server);
}

/* A challenge the client cannot use: it cancels with "*" (RFC 5034
 * section 4) instead of guessing, and reports why. */
static void
test_sasl_bad_challenge_is_cancelled (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("SASL CRAM-MD5");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  pb_fake_server_expect (server, "AUTH CRAM-MD5");
  pb_fake_server_send (server, "+ %%% not base64 %%%");
  pb_fake_server_expect (server, "*");
  pb_fake_server_send (server, "-ERR Authentication cancelled");

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_false (auth_sync (client, "alice", "secret", PB_POP3_AUTH_CRAM_MD5, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL);
  pb_pop3_client_close (client);
  assert_server_happy (server);
}

/* SCRAM's last step proves the server knows the password; a +OK before it
 * is refused. */
static void
test_scram_without_server_proof (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("SASL SCRAM-SHA-256");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  pb_fake_server_expect (server, "AUTH SCRAM-SHA-256 *");
  pb_fake_server_send (server, "+OK Logged in (trust me)");

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_false (auth_sync (client, "alice", "secret", PB_POP3_AUTH_SCRAM_SHA_256, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH);
  pb_pop3_client_close (client);
  assert_server_happy (server);
}

/* ---- cancellation, a failing output, a stalled handshake --------------------- */

static gboolean
cancel_later (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

/* A command not yet written is just dropped; the session goes on. */
static void
test_cancel_queued_command (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) first = NULL;
  g_autoptr(GAsyncResult) second = NULL;

  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\n.");
  pb_fake_server_expect (server, "NOOP");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK");

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  pb_pop3_client_noop_async (client, NULL, on_result, &first);
  pb_pop3_client_dele_async (client, 1, cancellable, on_result, &second);
  g_cancellable_cancel (cancellable);

  g_assert_false (pb_pop3_client_dele_finish (client, await (&second), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_true (pb_pop3_client_noop_finish (client, await (&first), &error));
  g_assert_no_error (error);
  quit_sync (client, &error);
  g_assert_no_error (error);
  assert_server_happy (server);
  g_assert_false (pb_fake_server_received_prefix (server, "DELE"));
}

/* A command on the wire cannot be taken back: the session ends. */
static void
test_cancel_command_in_flight (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GAsyncResult) after = NULL;

  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\n.");
  pb_fake_server_expect (server, "STAT");
  pb_fake_server_stall (server);

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  pb_pop3_client_stat_async (client, cancellable, on_result, &result);
  g_timeout_add (200, cancel_later, cancellable);
  g_assert_false (pb_pop3_client_stat_finish (client, await (&result), NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  pb_pop3_client_noop_async (client, NULL, on_result, &after);
  g_assert_false (pb_pop3_client_noop_finish (client, await (&after), &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_CLOSED);
  assert_server_happy (server);
}

/* The disk fills up mid-message: RETR fails with the write error, the rest
 * of the body is read and dropped, and the session stays usable. */
static void
test_output_failure_keeps_session (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) retr = NULL;
  g_autoptr(GAsyncResult) noop = NULL;
  static char small[16];
  g_autoptr(GOutputStream) output = g_memory_output_stream_new (small, sizeof small, NULL, NULL);

  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\n.");
  pb_fake_server_expect (server, "RETR 1");
  pb_fake_server_send (server, "+OK\nSubject: a message longer than sixteen bytes\n\nbody\n.");
  pb_fake_server_expect (server, "NOOP");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "+OK");

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  pb_pop3_client_retr_async (client, 1, output, NULL, on_result, &retr);
  g_assert_false (pb_pop3_client_retr_finish (client, await (&retr), NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_clear_error (&error);

  pb_pop3_client_noop_async (client, NULL, on_result, &noop);
  g_assert_true (pb_pop3_client_noop_finish (client, await (&noop), &error));
  g_assert_no_error (error);
  g_assert_true (quit_sync (client, &error));
  assert_server_happy (server);
}

/* A server that accepts the connection but never answers the TLS hello. */
static void
test_stalled_handshake (void)
{
  g_autoptr(PbFakeServer) server = pb_fake_server_new ();
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  pb_fake_server_stall (server);
  client = pb_pop3_client_new ("127.0.0.1", pb_fake_server_get_port (server), PB_POP3_SECURITY_TLS);
  pb_pop3_client_set_timeout (client, 1);
  g_assert_false (connect_sync (client, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_TIMEOUT);
  /* It did connect: the words say what went wrong after that. */
  g_assert_nonnull (strstr (error->message, "accepted the connection"));
  assert_server_happy (server);
}

/* QUIT answered with -ERR: deletions may not have happened, and the caller
 * must hear about it. */
static void
test_quit_refused (void)
{
  g_autoptr(PbFakeServer) server = server_with_capa ("USER");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  expect_user_pass (server);
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\n.");
  pb_fake_server_expect (server, "QUIT");
  pb_fake_server_send (server, "-ERR [SYS/TEMP] could not remove deleted messages");

  client = plain_client (server);
  g_assert_true (connect_sync (client, &error));
  g_assert_true (auth_sync (client, "alice", "secret", PB_POP3_AUTH_USER, &error));
  g_assert_false (quit_sync (client, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_SERVER);
  g_assert_nonnull (strstr (error->message, "deletions"));
  assert_server_happy (server);
}

static void
remove_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (path, name, NULL);

      g_remove (file);
    }
  g_rmdir (path);
}

int
main (int argc, char **argv)
{
  g_autofree char *cert_dir = NULL;
  g_autofree char *openssl = NULL;
  int status;

  pb_test_init (&argc, &argv);

  /* One set of certificates for the whole program: making them per test
   * would only cost time. */
  openssl = g_find_program_in_path ("openssl");
  if (openssl != NULL)
    {
      g_autoptr(GError) error = NULL;

      cert_dir = g_dir_make_tmp ("popbiff-certs-XXXXXX", &error);
      g_assert_no_error (error);
      certs = pb_test_certs_new (cert_dir, &error);
      g_assert_no_error (error);
    }

  g_test_add_func ("/pop3/fake/user-pass-stat", test_user_pass_stat);
  g_test_add_func ("/pop3/fake/commands", test_commands);
  g_test_add_func ("/pop3/fake/no-capa", test_no_capa);
  g_test_add_func ("/pop3/fake/no-uidl", test_no_uidl);
  g_test_add_func ("/pop3/fake/uidl-answered-on-one-line", test_uidl_answered_on_one_line);
  g_test_add_func ("/pop3/fake/capa-after-login-omits-uidl-and-top",
                   test_capa_after_login_omits_uidl_and_top);
  g_test_add_func ("/pop3/fake/listed-uidl-refused", test_listed_uidl_refused);
  g_test_add_func ("/pop3/fake/hostile-uidl", test_hostile_uidl);
  g_test_add_func ("/pop3/fake/listing-spacing", test_listing_spacing);
  g_test_add_func ("/pop3/fake/listing-order", test_listing_order);
  g_test_add_func ("/pop3/fake/pipelining-window", test_pipelining_window);
  g_test_add_func ("/pop3/fake/no-pipelining", test_no_pipelining);
  g_test_add_func ("/pop3/fake/stls-not-offered", test_stls_not_offered);
  g_test_add_func ("/pop3/fake/stls-refused", test_stls_refused);
  g_test_add_func ("/pop3/fake/stls-injection", test_stls_injection);
  g_test_add_func ("/pop3/fake/stls-capa-again", test_stls_success_asks_capa_again);
  g_test_add_func ("/pop3/fake/tls-to-plain-server", test_tls_to_plain_server);
  g_test_add_func ("/pop3/fake/tls-trusted", test_tls_trusted);
  g_test_add_func ("/pop3/fake/tls-damaged-ca-file", test_tls_damaged_ca_file);
  g_test_add_func ("/pop3/fake/tls-wrong-host", test_tls_wrong_host);
  g_test_add_func ("/pop3/fake/tls-unknown-ca", test_tls_unknown_ca);
  g_test_add_func ("/pop3/fake/tls-expired", test_tls_expired);
  g_test_add_func ("/pop3/fake/tls-pin-mismatch", test_tls_pin_mismatch);
  g_test_add_func ("/pop3/fake/tls-pinned-self-signed", test_tls_pinned_self_signed);
  g_test_add_func ("/pop3/fake/stall", test_stall);
  g_test_add_func ("/pop3/fake/stall-in-greeting", test_stall_in_greeting);
  g_test_add_func ("/pop3/fake/trickled-greeting", test_trickled_greeting);
  g_test_add_func ("/pop3/fake/trickled-listing", test_trickled_listing);
  g_test_add_func ("/pop3/fake/slow-steady-body", test_slow_steady_body);
  g_test_add_func ("/pop3/fake/drop-mid-retr", test_drop_mid_retr);
  g_test_add_func ("/pop3/fake/huge-status-line", test_huge_status_line);
  g_test_add_func ("/pop3/fake/endless-body", test_endless_body);
  g_test_add_func ("/pop3/fake/response-codes", test_response_codes);
  g_test_add_func ("/pop3/fake/garbage-after-login", test_garbage_after_login);
  g_test_add_func ("/pop3/fake/crlf-in-credentials", test_crlf_in_credentials);
  g_test_add_func ("/pop3/fake/auto-cleartext-only-with-security-none",
                   test_auto_cleartext_only_with_security_none);
  g_test_add_func ("/pop3/fake/auto-picks-strongest", test_auto_picks_strongest);
  g_test_add_func ("/pop3/fake/sasl-plain", test_sasl_plain);
  g_test_add_func ("/pop3/fake/sasl-plain-long-initial-response",
                   test_sasl_plain_long_initial_response);
  g_test_add_func ("/pop3/fake/sasl-login", test_sasl_login);
  g_test_add_func ("/pop3/fake/sasl-cram-md5", test_sasl_cram_md5);
  g_test_add_func ("/pop3/fake/sasl-scram-sha-256", test_sasl_scram_sha_256);
  g_test_add_func ("/pop3/fake/sasl-scram-wrong-password", test_sasl_scram_wrong_password);
  g_test_add_func ("/pop3/fake/sasl-auto-refused-names-mechanism", test_auto_refused_names_mechanism);
  g_test_add_func ("/pop3/fake/sasl-explicit-refused-is-the-password", test_explicit_refused_is_the_password);
  g_test_add_func ("/pop3/fake/apop", test_apop);
  g_test_add_func ("/pop3/fake/xoauth2-error", test_xoauth2_error);
  g_test_add_func ("/pop3/fake/oauthbearer-error", test_oauthbearer_error);
  g_test_add_func ("/pop3/fake/oauthbearer-authzid-escaped", test_oauthbearer_authzid_escaped);
  g_test_add_func ("/pop3/fake/ipv6", test_ipv6);
  g_test_add_func ("/pop3/fake/cancel-queued-command", test_cancel_queued_command);
  g_test_add_func ("/pop3/fake/cancel-command-in-flight", test_cancel_command_in_flight);
  g_test_add_func ("/pop3/fake/output-failure-keeps-session", test_output_failure_keeps_session);
  g_test_add_func ("/pop3/fake/stalled-handshake", test_stalled_handshake);
  g_test_add_func ("/pop3/fake/quit-refused", test_quit_refused);
  g_test_add_func ("/pop3/fake/sasl-bad-challenge-is-cancelled", test_sasl_bad_challenge_is_cancelled);
  g_test_add_func ("/pop3/fake/scram-without-server-proof", test_scram_without_server_proof);

  status = g_test_run ();

  g_clear_pointer (&certs, pb_test_certs_free);
  if (cert_dir != NULL)
    remove_dir (cert_dir);
  return status;
}

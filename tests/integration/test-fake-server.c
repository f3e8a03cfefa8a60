/* The fake server itself (tests/lib/pb-fake-server.h): a test may free it
 * while its worker thread is in the middle of a script, blocked reading or
 * writing, and the worker must not touch the freed server afterwards. The
 * sanitizer runs (tools/test.sh) catch a use after free here. */
#include <gio/gio.h>
#include <string.h>

#include "pb-fake-server.h"
#include "pb-test-util.h"

/* Generous: seven people build on two cores at once. */
#define CLIENT_TIMEOUT_SECONDS 60

static GSocketConnection *
connect_to (PbFakeServer *server)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection;

  g_socket_client_set_timeout (client, CLIENT_TIMEOUT_SECONDS);
  g_socket_client_set_enable_proxy (client, FALSE);  /* loopback; and no GSettings here */
  connection = g_socket_client_connect_to_host (client, "127.0.0.1",
                                                pb_fake_server_get_port (server),
                                                NULL, &error);
  g_assert_no_error (error);
  return connection;
}

static void
on_read (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* Reads what is there, running the main context meanwhile: the server
 * accepts connections on it. Returns the count; 0 at the end. */
static gsize
read_some (GSocketConnection *connection,
           void              *buffer,
           gsize              size)
{
  GInputStream *input = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  gssize n;

  g_input_stream_read_async (input, buffer, size, G_PRIORITY_DEFAULT, NULL, on_read, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  n = g_input_stream_read_finish (input, result, &error);
  g_assert_no_error (error);
  return (gsize) n;
}

/* Reads until the server closes the connection; returns the bytes read. */
static gsize
read_to_end (GSocketConnection *connection)
{
  char buffer[65536];
  gsize total = 0;
  gsize n;

  while ((n = read_some (connection, buffer, sizeof buffer)) > 0)
    total += n;
  return total;
}

/* Freed while the worker waits for a line the client never sends: free
 * ends the script and the connection; the client's end of the stream
 * reaches no freed server. */
static void
test_free_while_reading (void)
{
  PbFakeServer *server = pb_fake_server_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  static const char greeting[] = "+OK ready\r\n";
  char buffer[sizeof greeting] = { 0 };
  gsize have = 0;

  pb_fake_server_send (server, "+OK ready");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\n.");

  connection = connect_to (server);
  /* Once the greeting is in, the worker is waiting for CAPA. */
  while (have < strlen (greeting))
    {
      gsize n = read_some (connection, buffer + have, strlen (greeting) - have);

      g_assert_cmpuint (n, >, 0);
      have += n;
    }
  g_assert_cmpstr (buffer, ==, greeting);

  pb_fake_server_free (server);

  /* The end of our stream is what a waiting worker would react to. */
  g_assert_true (g_socket_shutdown (g_socket_connection_get_socket (connection), FALSE, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (read_to_end (connection), ==, 0);
}

/* Freed while the worker is blocked writing to a client that reads
 * nothing: free does not wait for the socket's timeout, and the
 * connection ends. */
static void
test_free_while_writing (void)
{
  PbFakeServer *server = pb_fake_server_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  char first;

  /* Far more than the socket buffers hold. */
  pb_fake_server_send_repeated (server, "0123456789abcdef", G_GUINT64_CONSTANT (1) << 30);

  connection = connect_to (server);
  /* The worker is writing, and soon blocked: we read no more for now. */
  g_assert_cmpuint (read_some (connection, &first, 1), ==, 1);

  pb_fake_server_free (server);

  /* What was on its way still arrives, then the end. */
  g_assert_cmpuint (read_to_end (connection), <, G_GUINT64_CONSTANT (1) << 30);
}

/* Freed with a script nobody connected to: nothing waits. */
static void
test_free_unused (void)
{
  PbFakeServer *server = pb_fake_server_new ();

  pb_fake_server_send (server, "+OK ready");
  pb_fake_server_free (server);
  pb_fake_server_free (NULL);
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

  g_test_add_func ("/tests/fake-server/free-while-reading", test_free_while_reading);
  g_test_add_func ("/tests/fake-server/free-while-writing", test_free_while_writing);
  g_test_add_func ("/tests/fake-server/free-unused", test_free_unused);

  return g_test_run ();
}

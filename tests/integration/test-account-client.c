/* pb_account_create_client: the client goes where the account says, with
 * the account's timeout. A loopback listener that accepts and never greets
 * shows both. */
#include <gio/gio.h>

#include "core/pb-account.h"
#include "pb-test-util.h"

static void
got_result (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source,
             gpointer           user_data)
{
  GPtrArray *accepted = user_data;

  /* Keep it open and say nothing: the client must give up by itself. */
  g_ptr_array_add (accepted, g_object_ref (connection));
  return TRUE;
}

static void
test_client_follows_account (void)
{
  g_autoptr(GSocketService) service = g_socket_service_new ();
  g_autoptr(GPtrArray) accepted = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any_port = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(PbAccount) account = pb_account_new ("work");
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;
  guint16 port;
  gint64 start, elapsed;

  g_socket_listener_add_address (G_SOCKET_LISTENER (service), any_port, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_signal_connect (service, "incoming", G_CALLBACK (on_incoming), accepted);
  g_socket_service_start (service);

  pb_account_set_host (account, "127.0.0.1");
  pb_account_set_port (account, port);
  pb_account_set_security (account, PB_POP3_SECURITY_NONE);
  pb_account_set_user (account, "alice");
  pb_account_set_timeout (account, 1);

  client = pb_account_create_client (account);
  g_assert_nonnull (client);

  start = g_get_monotonic_time ();
  pb_pop3_client_connect_async (client, NULL, got_result, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  elapsed = g_get_monotonic_time () - start;

  g_assert_false (pb_pop3_client_connect_finish (client, result, &error));
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_TIMEOUT);
  g_assert_cmpuint (accepted->len, ==, 1);
  /* One second of silence, not the default thirty (generous bound for a
   * busy machine). */
  g_assert_cmpint (elapsed, <, 20 * G_USEC_PER_SEC);
  g_socket_service_stop (service);
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);
  g_test_add_func ("/core/account/create-client", test_client_follows_account);
  return g_test_run ();
}

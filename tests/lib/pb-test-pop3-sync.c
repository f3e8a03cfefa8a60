/* pb-test-pop3-sync.c: PbPop3Client calls that wait (see the header). */
#include "pb-test-pop3-sync.h"

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* Iterates the thread-default context until the callback stored a result.
 * The engine's own timeouts bound the wait; the test's meson timeout is
 * the last resort. */
static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  GMainContext *context = g_main_context_get_thread_default ();

  while (*slot == NULL)
    g_main_context_iteration (context, TRUE);
  return *slot;
}

gboolean
pb_test_pop3_connect (PbPop3Client *client,
                      GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pb_pop3_client_connect_async (client, NULL, store_result, &result);
  return pb_pop3_client_connect_finish (client, wait_for (&result), error);
}

gboolean
pb_test_pop3_authenticate (PbPop3Client     *client,
                           const char       *user,
                           const char       *secret,
                           PbPop3AuthMethod  method,
                           GError          **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pb_pop3_client_authenticate_async (client, user, secret, method, NULL, store_result, &result);
  return pb_pop3_client_authenticate_finish (client, wait_for (&result), error);
}

gboolean
pb_test_pop3_stat (PbPop3Client *client,
                   guint        *count,
                   guint64      *size,
                   GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pb_pop3_client_stat_async (client, NULL, store_result, &result);
  return pb_pop3_client_stat_finish (client, wait_for (&result), count, size, error);
}

GPtrArray *
pb_test_pop3_list (PbPop3Client *client,
                   GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pb_pop3_client_list_async (client, NULL, store_result, &result);
  return pb_pop3_client_list_finish (client, wait_for (&result), error);
}

GPtrArray *
pb_test_pop3_uidl (PbPop3Client *client,
                   GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pb_pop3_client_uidl_async (client, NULL, store_result, &result);
  return pb_pop3_client_uidl_finish (client, wait_for (&result), error);
}

GBytes *
pb_test_pop3_top (PbPop3Client *client,
                  guint         number,
                  guint         lines,
                  GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pb_pop3_client_top_async (client, number, lines, NULL, store_result, &result);
  return pb_pop3_client_top_finish (client, wait_for (&result), error);
}

GBytes *
pb_test_pop3_retr (PbPop3Client *client,
                   guint         number,
                   GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  guint64 written = 0;

  pb_pop3_client_retr_async (client, number, out, NULL, store_result, &result);
  if (!pb_pop3_client_retr_finish (client, wait_for (&result), &written, error))
    return NULL;
  if (!g_output_stream_close (out, NULL, error))
    return NULL;
  g_assert_cmpuint (written, ==, g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out)));
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

gboolean
pb_test_pop3_dele (PbPop3Client *client,
                   guint         number,
                   GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pb_pop3_client_dele_async (client, number, NULL, store_result, &result);
  return pb_pop3_client_dele_finish (client, wait_for (&result), error);
}

gboolean
pb_test_pop3_quit (PbPop3Client *client,
                   GError      **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pb_pop3_client_quit_async (client, NULL, store_result, &result);
  return pb_pop3_client_quit_finish (client, wait_for (&result), error);
}

PbPop3Client *
pb_test_pop3_login (guint16           port,
                    PbPop3Security    security,
                    const char       *ca_file,
                    const char       *user,
                    const char       *password,
                    PbPop3AuthMethod  method,
                    GError          **error)
{
  g_autoptr(PbPop3Client) client = pb_pop3_client_new ("127.0.0.1", port, security);

  /* Generous: seven people build on this machine's two cores. */
  pb_pop3_client_set_timeout (client, 60);
  if (ca_file != NULL)
    pb_pop3_client_set_ca_file (client, ca_file);
  if (!pb_test_pop3_connect (client, error)
      || !pb_test_pop3_authenticate (client, user, password, method, error))
    return NULL;
  return g_steal_pointer (&client);
}

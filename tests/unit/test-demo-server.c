/* The --demo POP3 server: a real POP3 dialogue over loopback. The server
 * runs in its own thread and main context; the test speaks to it with
 * plain blocking reads, as a minimal client would. */
#include <gio/gio.h>

#include "core/pb-demo-server.h"
#include "pb-test-util.h"

typedef struct {
  GMutex        lock;
  GCond         ready;
  guint16       port;
  GMainContext *context;
  GMainLoop    *loop;
} ServerThread;

static gpointer
server_thread (gpointer data)
{
  ServerThread *st = data;
  g_autoptr(PbDemoServer) server = NULL;
  g_autoptr(GError) error = NULL;

  g_main_context_push_thread_default (st->context);
  server = pb_demo_server_new ("demo", "secret pass");
  g_assert_true (pb_demo_server_start (server, &error));
  g_assert_no_error (error);

  g_mutex_lock (&st->lock);
  st->port = pb_demo_server_get_port (server);
  g_cond_signal (&st->ready);
  g_mutex_unlock (&st->lock);

  g_main_loop_run (st->loop);
  pb_demo_server_stop (server);
  g_main_context_pop_thread_default (st->context);
  return NULL;
}

static char *
read_line (GDataInputStream *in)
{
  g_autoptr(GError) error = NULL;
  char *line = g_data_input_stream_read_line (in, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (line);
  return g_strchomp (line);
}

static void
say (GOutputStream *out,
     const char    *line)
{
  g_autofree char *text = g_strconcat (line, "\r\n", NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_output_stream_write_all (out, text, strlen (text), NULL, NULL, &error));
  g_assert_no_error (error);
}

/* Reads a multi-line answer up to the lone dot; returns its lines. */
static GPtrArray *
read_multi (GDataInputStream *in)
{
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);

  for (;;)
    {
      char *line = read_line (in);

      if (g_str_equal (line, "."))
        {
          g_free (line);
          return lines;
        }
      g_ptr_array_add (lines, line);
    }
}

static void
test_dialogue (void)
{
  ServerThread st = { 0 };
  GThread *thread;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  GOutputStream *out;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) lines = NULL;
  g_autofree char *line = NULL;
  gboolean found_decoded_subject = FALSE;

  g_mutex_init (&st.lock);
  g_cond_init (&st.ready);
  st.context = g_main_context_new ();
  st.loop = g_main_loop_new (st.context, FALSE);
  thread = g_thread_new ("demo-server", server_thread, &st);
  g_mutex_lock (&st.lock);
  while (st.port == 0)
    g_cond_wait (&st.ready, &st.lock);
  g_mutex_unlock (&st.lock);

  /* No proxy lookup: it would read GSettings, and this is loopback. */
  g_socket_client_set_enable_proxy (client, FALSE);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", st.port, NULL, &error);
  g_assert_no_error (error);
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_LF);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  line = read_line (in);
  g_assert_true (g_str_has_prefix (line, "+OK"));
  g_clear_pointer (&line, g_free);

  say (out, "CAPA");
  g_clear_pointer (&line, g_free);
  line = read_line (in);
  g_assert_true (g_str_has_prefix (line, "+OK"));
  lines = read_multi (in);
  g_assert_true (g_ptr_array_find_with_equal_func (lines, "UIDL", g_str_equal, NULL));
  g_assert_true (g_ptr_array_find_with_equal_func (lines, "TOP", g_str_equal, NULL));
  g_assert_true (g_ptr_array_find_with_equal_func (lines, "PIPELINING", g_str_equal, NULL));
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* A wrong password is refused with [AUTH]; the right one (with a space)
   * is accepted. */
  say (out, "USER demo");
  g_clear_pointer (&line, g_free);
  line = read_line (in);
  say (out, "PASS wrong");
  g_clear_pointer (&line, g_free);
  line = read_line (in);
  g_assert_true (g_str_has_prefix (line, "-ERR [AUTH]"));
  say (out, "USER demo");
  g_clear_pointer (&line, g_free);
  line = read_line (in);
  say (out, "PASS secret pass");
  g_clear_pointer (&line, g_free);
  line = read_line (in);
  g_assert_cmpstr (line, ==, "+OK Logged in");

  say (out, "STAT");
  g_clear_pointer (&line, g_free);
  line = read_line (in);
  g_assert_true (g_str_has_prefix (line, "+OK 5 "));

  say (out, "UIDL");
  g_clear_pointer (&line, g_free);
  line = read_line (in);
  lines = read_multi (in);
  g_assert_cmpuint (lines->len, ==, 5);
  g_assert_cmpstr (g_ptr_array_index (lines, 0), ==, "1 demo-0001");
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* TOP n 0: the headers and the blank line, no body; RFC 2047 as sent. */
  say (out, "TOP 1 0");
  g_clear_pointer (&line, g_free);
  line = read_line (in);
  g_assert_true (g_str_has_prefix (line, "+OK"));
  lines = read_multi (in);
  for (guint i = 0; i < lines->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (lines, i), "Subject: =?UTF-8?Q?Gr=C3=BC"))
      found_decoded_subject = TRUE;
  g_assert_true (found_decoded_subject);
  g_assert_cmpstr (g_ptr_array_index (lines, lines->len - 1), ==, "");
  g_clear_pointer (&lines, g_ptr_array_unref);

  /* DELE applies at QUIT only. */
  say (out, "DELE 2");
  g_clear_pointer (&line, g_free);
  line = read_line (in);
  g_assert_true (g_str_has_prefix (line, "+OK"));
  say (out, "RETR 2");
  g_clear_pointer (&line, g_free);
  line = read_line (in);
  g_assert_true (g_str_has_prefix (line, "-ERR"));
  say (out, "QUIT");
  g_clear_pointer (&line, g_free);
  line = read_line (in);
  g_assert_true (g_str_has_prefix (line, "+OK"));

  g_main_loop_quit (st.loop);
  g_main_context_wakeup (st.context);
  g_thread_join (thread);
  g_main_loop_unref (st.loop);
  g_main_context_unref (st.context);
  g_mutex_clear (&st.lock);
  g_cond_clear (&st.ready);
}

int
main (int    argc,
      char **argv)
{
  pb_test_init (&argc, &argv);
  g_test_add_func ("/demo-server/dialogue", test_dialogue);
  return g_test_run ();
}

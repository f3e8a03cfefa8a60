/* bench-engine: drives one PbPop3Client session the way Popbiff does, for
 * bench/pop3-engine.sh to time.
 *
 *   PB_PASSWORD=... bench-engine PORT tls|starttls|none stat-uidl|retr-all-to-null [CA_FILE]
 *
 * stat-uidl:        connect, authenticate (auto), STAT and UIDL, QUIT: what a
 *                   check with nothing new costs.
 * retr-all-to-null: the same, then RETR of every message, all queued at once
 *                   (the engine pipelines them), each streamed into an output
 *                   stream that drops the bytes.
 * The host is 127.0.0.1. The password comes from the environment, never
 * argv; PB_USER (default alice) and PB_AUTH (default auto) may be set. Prints one line of counts; exit 1 with the error otherwise. */
#include <stdio.h>
#include <stdlib.h>

#include <gio/gio.h>

#include "pop3/pb-pop3-client.h"

/* An output stream that drops everything, pollable so GIO writes to it
 * without a thread per write. */
#define PB_TYPE_NULL_OUTPUT_STREAM (pb_null_output_stream_get_type ())
G_DECLARE_FINAL_TYPE (PbNullOutputStream, pb_null_output_stream, PB, NULL_OUTPUT_STREAM, GOutputStream)

struct _PbNullOutputStream {
  GOutputStream parent_instance;
};

static void pb_null_output_stream_pollable_init (GPollableOutputStreamInterface *iface);

G_DEFINE_TYPE_WITH_CODE (PbNullOutputStream, pb_null_output_stream, G_TYPE_OUTPUT_STREAM,
                         G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_OUTPUT_STREAM,
                                                pb_null_output_stream_pollable_init))

static gssize
null_write (GOutputStream *stream, const void *buffer, gsize count,
            GCancellable *cancellable, GError **error)
{
  return (gssize) count;
}

static gboolean
null_is_writable (GPollableOutputStream *stream)
{
  return TRUE;
}

static GSource *
null_create_source (GPollableOutputStream *stream, GCancellable *cancellable)
{
  return g_pollable_source_new_full (stream, g_timeout_source_new (0), cancellable);
}

static gssize
null_write_nonblocking (GPollableOutputStream *stream, const void *buffer,
                        gsize count, GError **error)
{
  return (gssize) count;
}

static void
pb_null_output_stream_pollable_init (GPollableOutputStreamInterface *iface)
{
  iface->is_writable = null_is_writable;
  iface->create_source = null_create_source;
  iface->write_nonblocking = null_write_nonblocking;
}

static void
pb_null_output_stream_class_init (PbNullOutputStreamClass *klass)
{
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = null_write;
}

static void
pb_null_output_stream_init (PbNullOutputStream *self)
{
}

typedef struct {
  GMainLoop    *loop;
  PbPop3Client *client;
  PbPop3AuthMethod auth;
  gboolean      retr;
  guint         count;
  guint         retr_done;
  guint64       retr_octets;
  guint         uidls;
  GError       *error;
} Run;

static void
fail (Run *run, GError *error)
{
  if (run->error == NULL)
    run->error = error;
  else
    g_error_free (error);
  g_main_loop_quit (run->loop);
}

static void
quit_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Run *run = data;
  GError *error = NULL;

  if (!pb_pop3_client_quit_finish (run->client, result, &error))
    fail (run, error);
  else
    g_main_loop_quit (run->loop);
}

static void
retr_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Run *run = data;
  GError *error = NULL;
  guint64 written = 0;

  if (!pb_pop3_client_retr_finish (run->client, result, &written, &error))
    {
      fail (run, error);
      return;
    }
  run->retr_octets += written;
  if (++run->retr_done == run->count)
    pb_pop3_client_quit_async (run->client, NULL, quit_done, run);
}

static void
uidl_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Run *run = data;
  GError *error = NULL;
  g_autoptr(GPtrArray) listing = pb_pop3_client_uidl_finish (run->client, result, &error);

  if (listing == NULL)
    {
      fail (run, error);
      return;
    }
  run->uidls = listing->len;
  if (!run->retr || run->count == 0)
    {
      pb_pop3_client_quit_async (run->client, NULL, quit_done, run);
      return;
    }
  /* All at once: queueing and the pipeline window are the engine's job. */
  for (guint n = 1; n <= run->count; n++)
    {
      g_autoptr(GOutputStream) sink = g_object_new (PB_TYPE_NULL_OUTPUT_STREAM, NULL);

      pb_pop3_client_retr_async (run->client, n, sink, NULL, retr_done, run);
    }
}

static void
stat_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Run *run = data;
  GError *error = NULL;
  guint64 size;

  if (!pb_pop3_client_stat_finish (run->client, result, &run->count, &size, &error))
    fail (run, error);
}

static void
auth_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Run *run = data;
  GError *error = NULL;

  if (!pb_pop3_client_authenticate_finish (run->client, result, &error))
    {
      fail (run, error);
      return;
    }
  /* Back to back, as a check does: pipelined when the server allows. */
  pb_pop3_client_stat_async (run->client, NULL, stat_done, run);
  pb_pop3_client_uidl_async (run->client, NULL, uidl_done, run);
}

static void
connect_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Run *run = data;
  GError *error = NULL;
  const char *user = g_getenv ("PB_USER") != NULL ? g_getenv ("PB_USER") : "alice";

  if (!pb_pop3_client_connect_finish (run->client, result, &error))
    {
      fail (run, error);
      return;
    }
  pb_pop3_client_authenticate_async (run->client, user, g_getenv ("PB_PASSWORD"),
                                     run->auth, NULL, auth_done, run);
}

static const char *
auth_name (PbPop3Client *client)
{
  const char *name = pb_pop3_client_get_auth_mechanism (client);

  return name != NULL ? name : "?";
}

int
main (int argc, char *argv[])
{
  Run run = { 0 };
  PbPop3Security security;
  guint64 port;

  if (argc < 4 || g_getenv ("PB_PASSWORD") == NULL
      || !g_ascii_string_to_unsigned (argv[1], 10, 1, 65535, &port, NULL)
      || !pb_pop3_security_from_string (argv[2], &security)
      || (!g_str_equal (argv[3], "stat-uidl") && !g_str_equal (argv[3], "retr-all-to-null")))
    {
      fprintf (stderr, "usage: PB_PASSWORD=... bench-engine PORT tls|starttls|none "
                       "stat-uidl|retr-all-to-null [CA_FILE]\n");
      return 2;
    }

  if (!pb_pop3_auth_method_from_string (g_getenv ("PB_AUTH") != NULL ? g_getenv ("PB_AUTH") : "auto",
                                        &run.auth))
    {
      fprintf (stderr, "bench-engine: unknown PB_AUTH method\n");
      return 2;
    }
  run.loop = g_main_loop_new (NULL, FALSE);
  run.retr = g_str_equal (argv[3], "retr-all-to-null");
  run.client = pb_pop3_client_new ("127.0.0.1", (guint16) port, security);
  if (argc > 4)
    pb_pop3_client_set_ca_file (run.client, argv[4]);
  pb_pop3_client_connect_async (run.client, NULL, connect_done, &run);
  g_main_loop_run (run.loop);

  if (run.error != NULL)
    {
      fprintf (stderr, "bench-engine: %s\n", run.error->message);
      return 1;
    }
  if (run.retr)
    printf ("messages %u retrieved-octets %" G_GUINT64_FORMAT " auth %s\n", run.count,
            run.retr_octets, auth_name (run.client));
  else
    printf ("messages %u uidls %u auth %s\n", run.count, run.uidls,
            auth_name (run.client));
  g_object_unref (run.client);
  g_main_loop_unref (run.loop);
  return 0;
}

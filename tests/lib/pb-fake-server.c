/* pb-fake-server.c: a scripted POP3 server in a worker thread (see the
 * header). Blocking I/O keeps a script as easy to read as a transcript;
 * every socket has a timeout so a client that misbehaves fails the test
 * instead of hanging it.
 *
 * Freeing while the script plays: the worker thread uses the server until
 * its handler returns, so the server is reference-counted (the test holds
 * one reference, the "run" handler's closure another, dropped only when no
 * emission uses it any more), and pb_fake_server_free() cancels the
 * worker's I/O and waits for the handler to end. */
#include <gsasl.h>
#include <string.h>

#include "pb-fake-server.h"

/* Generous: seven people build on two cores at once. */
#define IO_TIMEOUT_SECONDS 30
#define WAIT_TIMEOUT_SECONDS 90

typedef enum {
  STEP_SEND,
  STEP_SEND_REPEATED,
  STEP_TRICKLE,
  STEP_EXPECT,
  STEP_EXPECT_LINES,
  STEP_EXPECT_SILENCE,
  STEP_STARTTLS,
  STEP_SASL,
  STEP_STALL,
  STEP_DROP,
} StepKind;

typedef struct {
  StepKind  kind;
  GBytes   *data;      /* SEND, SEND_REPEATED (the chunk), TRICKLE */
  guint64   total;     /* SEND_REPEATED; TRICKLE: octets per piece */
  char     *pattern;   /* EXPECT; SASL: mechanism */
  char     *user;      /* SASL */
  char     *password;  /* SASL */
  guint     count;     /* EXPECT_LINES; EXPECT_SILENCE, TRICKLE: milliseconds */
  gboolean  must_succeed;
} Step;

struct _PbFakeServer {
  gatomicrefcount  ref_count;
  GSocketService  *service;
  guint16          port;
  GMainContext    *context;
  GTlsCertificate *certificate;
  gboolean         implicit_tls;
  GPtrArray       *steps;
  gboolean         started;    /* a connection was accepted */
  guint            connections; /* under lock: every one accepted, played or not */
  /* Every blocking call of the worker takes it; free cancels it. */
  GCancellable    *cancellable;

  GMutex           lock;
  GCond            handler_ended;
  guint            handlers;   /* under lock: handlers playing the script */
  GString         *problems;   /* under lock */
  GPtrArray       *received;   /* under lock; NULL-terminated after wait */
  gint             done;       /* atomic */
};

/* The state of the one connection while the script plays. */
typedef struct {
  PbFakeServer     *server;
  GSocketConnection *connection;
  GIOStream        *stream;     /* connection or TLS over it */
  GDataInputStream *input;
  GOutputStream    *output;
} Session;

static void
step_free (Step *step)
{
  g_clear_pointer (&step->data, g_bytes_unref);
  g_free (step->pattern);
  g_free (step->user);
  g_free (step->password);
  g_free (step);
}

static void
problem (PbFakeServer *server,
         const char   *format,
         ...) G_GNUC_PRINTF (2, 3);

static void
problem (PbFakeServer *server,
         const char   *format,
         ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_debug ("fake server: %s", text);

  g_mutex_lock (&server->lock);
  if (server->problems->len > 0)
    g_string_append (server->problems, "; ");
  g_string_append (server->problems, text);
  g_mutex_unlock (&server->lock);
}

static void
record_line (PbFakeServer *server,
             const char   *line)
{
  g_mutex_lock (&server->lock);
  g_ptr_array_add (server->received, g_strdup (line));
  g_mutex_unlock (&server->lock);
}

static void
session_set_stream (Session   *session,
                    GIOStream *stream)
{
  g_clear_object (&session->input);
  g_set_object (&session->stream, stream);
  session->input = g_data_input_stream_new (g_io_stream_get_input_stream (stream));
  /* Dropping the plain reader after STLS must not close the socket. */
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (session->input), FALSE);
  g_data_input_stream_set_newline_type (session->input, G_DATA_STREAM_NEWLINE_TYPE_LF);
  session->output = g_io_stream_get_output_stream (stream);
}

/* One line without its CRLF, or NULL at the end of the stream. */
static char *
read_line (Session  *session,
           GError  **error)
{
  gsize len = 0;
  char *line = g_data_input_stream_read_line (session->input, &len,
                                              session->server->cancellable, error);

  if (line != NULL && len > 0 && line[len - 1] == '\r')
    line[len - 1] = '\0';
  if (line != NULL)
    record_line (session->server, line);
  return line;
}

static gboolean
write_bytes (Session       *session,
             const void    *data,
             gsize          len,
             GError       **error)
{
  GCancellable *cancellable = session->server->cancellable;

  return g_output_stream_write_all (session->output, data, len, NULL, cancellable, error) &&
         g_output_stream_flush (session->output, cancellable, error);
}

static gboolean
do_handshake (Session  *session,
              GError  **error)
{
  g_autoptr(GIOStream) tls = NULL;

  tls = g_tls_server_connection_new (session->stream, session->server->certificate, error);
  if (tls == NULL)
    return FALSE;
  g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (tls), FALSE);
  if (!g_tls_connection_handshake (G_TLS_CONNECTION (tls), session->server->cancellable, error))
    return FALSE;
  session_set_stream (session, tls);
  return TRUE;
}

/* GNU SASL asks the server application for the password to check against. */
static int
sasl_callback (Gsasl          *context,
               Gsasl_session  *sctx,
               Gsasl_property  prop)
{
  Step *step = gsasl_session_hook_get (sctx);
  const char *authid = gsasl_property_fast (sctx, GSASL_AUTHID);

  if (prop == GSASL_PASSWORD)
    {
      if (authid == NULL || g_strcmp0 (authid, step->user) != 0)
        return GSASL_NO_PASSWORD;
      return gsasl_property_set (sctx, GSASL_PASSWORD, step->password);
    }
  return GSASL_NO_CALLBACK;
}

static gboolean
run_sasl (Session  *session,
          Step     *step,
          GError  **error)
{
  g_autofree char *line = read_line (session, error);
  g_autofree char *expected = NULL;
  const char *input = NULL;
  Gsasl *context = NULL;
  Gsasl_session *sctx = NULL;
  gboolean ok = FALSE;
  int rc;

  if (line == NULL)
    {
      problem (session->server, "expected AUTH %s, the client closed the connection",
               step->pattern);
      return FALSE;
    }
  expected = g_strdup_printf ("AUTH %s", step->pattern);
  if (g_ascii_strncasecmp (line, expected, strlen (expected)) != 0 ||
      (line[strlen (expected)] != '\0' && line[strlen (expected)] != ' '))
    {
      problem (session->server, "expected AUTH %s, got “%s”", step->pattern, line);
      return FALSE;
    }
  if (line[strlen (expected)] == ' ')
    input = line + strlen (expected) + 1;

  if (gsasl_init (&context) != GSASL_OK)
    {
      problem (session->server, "gsasl_init failed");
      return FALSE;
    }
  gsasl_callback_set (context, sasl_callback);
  if (gsasl_server_start (context, step->pattern, &sctx) != GSASL_OK)
    {
      problem (session->server, "GNU SASL has no server side for %s", step->pattern);
      gsasl_done (context);
      return FALSE;
    }
  gsasl_session_hook_set (sctx, step);
  gsasl_property_set (sctx, GSASL_SERVICE, "pop");
  gsasl_property_set (sctx, GSASL_HOSTNAME, "localhost");

  /* RFC 5034: "=" is an empty initial response; none means the server
   * speaks first with an empty challenge. */
  if (input != NULL && g_str_equal (input, "="))
    input = "";

  for (;;)
    {
      g_autofree char *reply = NULL;
      g_autofree char *next = NULL;
      char *output = NULL;

      if (input == NULL)
        {
          /* Client sent no initial response: CRAM-MD5 and LOGIN start with
           * the server's challenge; the others with an empty one. */
          rc = gsasl_step64 (sctx, "", &output);
        }
      else
        rc = gsasl_step64 (sctx, input, &output);

      if (rc == GSASL_OK && (output == NULL || output[0] == '\0'))
        {
          gsasl_free (output);
          ok = TRUE;
          break;
        }
      if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE)
        {
          gsasl_free (output);
          break;
        }
      /* Server data to send: a challenge, or SCRAM's final message (which
       * the client answers with an empty line). */
      reply = g_strdup_printf ("+ %s\r\n", output ? output : "");
      gsasl_free (output);
      if (!write_bytes (session, reply, strlen (reply), error))
        goto out;
      g_free (next);
      next = read_line (session, error);
      if (next == NULL)
        {
          problem (session->server, "the client closed the connection during AUTH %s",
                   step->pattern);
          goto out;
        }
      if (g_str_equal (next, "*"))
        break;
      if (rc == GSASL_OK)
        {
          ok = next[0] == '\0';
          break;
        }
      g_free (line);
      line = g_steal_pointer (&next);
      input = line;
    }

  if (ok)
    ok = write_bytes (session, "+OK Logged in.\r\n", 16, error);
  else
    {
      const char *refusal = "-ERR [AUTH] Authentication failed.\r\n";

      write_bytes (session, refusal, strlen (refusal), error);
      ok = TRUE; /* a refusal is part of the script, not a problem */
    }

out:
  gsasl_finish (sctx);
  gsasl_done (context);
  return ok;
}

/* Plays one step; FALSE ends the script. */
static gboolean
run_step (Session *session,
          Step    *step)
{
  PbFakeServer *server = session->server;
  g_autoptr(GError) error = NULL;

  switch (step->kind)
    {
    case STEP_SEND:
      {
        gsize len = 0;
        const void *data = g_bytes_get_data (step->data, &len);

        if (!write_bytes (session, data, len, &error))
          {
            problem (server, "could not send: %s", error->message);
            return FALSE;
          }
        return TRUE;
      }

    case STEP_SEND_REPEATED:
      {
        gsize len = 0;
        const char *chunk = g_bytes_get_data (step->data, &len);
        g_autoptr(GString) block = g_string_new (NULL);
        guint64 sent = 0;

        /* Write in blocks of about 64 KiB, not byte by byte. */
        while (block->len < 65536)
          g_string_append_len (block, chunk, (gssize) len);
        while (sent < step->total)
          {
            gsize n = (gsize) MIN ((guint64) block->len, step->total - sent);

            if (!g_output_stream_write_all (session->output, block->str, n, NULL,
                                            server->cancellable, NULL))
              return FALSE; /* the client hung up: that is the point */
            sent += n;
          }
        return TRUE;
      }

    case STEP_TRICKLE:
      {
        gsize len = 0;
        const guint8 *data = g_bytes_get_data (step->data, &len);

        for (gsize sent = 0; sent < len; sent += (gsize) step->total)
          {
            if (sent > 0)
              g_usleep ((gulong) step->count * 1000);
            if (!write_bytes (session, data + sent, MIN ((gsize) step->total, len - sent), NULL))
              return FALSE; /* the client gave up waiting: that is the point */
          }
        return TRUE;
      }

    case STEP_EXPECT:
      {
        g_autofree char *line = read_line (session, &error);

        if (line == NULL)
          {
            problem (server, "expected “%s”, %s", step->pattern,
                     error ? error->message : "the client closed the connection");
            return FALSE;
          }
        if (!g_pattern_match_simple (step->pattern, line))
          {
            problem (server, "expected “%s”, got “%s”", step->pattern, line);
            return FALSE;
          }
        return TRUE;
      }

    case STEP_EXPECT_LINES:
      /* The server answers nothing until all have arrived: a client that
       * waits for answers would stall here and fail on its timeout. */
      for (guint i = 0; i < step->count; i++)
        {
          g_autofree char *line = read_line (session, &error);

          if (line == NULL)
            {
              problem (server, "expected %u pipelined commands, got %u", step->count, i);
              return FALSE;
            }
        }
      return TRUE;

    case STEP_EXPECT_SILENCE:
      {
        GSocket *socket = g_socket_connection_get_socket (session->connection);
        g_autoptr(GError) timed_out = NULL;
        gsize buffered = g_buffered_input_stream_get_available (G_BUFFERED_INPUT_STREAM (session->input));

        if (buffered > 0 ||
            g_socket_condition_timed_wait (socket, G_IO_IN, (gint64) step->count * 1000,
                                           server->cancellable, &timed_out))
          {
            g_autofree char *line = read_line (session, NULL);

            /* Hanging up is silence too. */
            if (line != NULL)
              problem (server, "expected silence, the client sent “%s”", line);
            return FALSE;
          }
        return TRUE;
      }

    case STEP_STARTTLS:
      if (!do_handshake (session, &error))
        {
          if (step->must_succeed)
            problem (server, "STARTTLS handshake failed: %s", error->message);
          return FALSE;
        }
      return TRUE;

    case STEP_SASL:
      if (!run_sasl (session, step, &error))
        {
          if (error != NULL)
            problem (server, "AUTH %s: %s", step->pattern, error->message);
          return FALSE;
        }
      return TRUE;

    case STEP_STALL:
      {
        /* Wait for the client to give up; read and record whatever it
         * sends meanwhile. */
        g_autofree char *line = NULL;

        while ((line = read_line (session, NULL)) != NULL)
          g_clear_pointer (&line, g_free);
        return FALSE;
      }

    case STEP_DROP:
    default:
      return FALSE;
    }
}

static gboolean
on_run (GThreadedSocketService *service,
        GSocketConnection      *connection,
        GObject                *source_object,
        gpointer                user_data)
{
  PbFakeServer *server = user_data;
  Session session = { server, connection, NULL, NULL, NULL };
  gboolean dropped = FALSE;
  g_autoptr(GError) error = NULL;
  guint i = 0;

  g_mutex_lock (&server->lock);
  server->connections++;
  /* One connection per script, others are closed; and none once the
   * server is being freed. */
  if (server->started || g_cancellable_is_cancelled (server->cancellable))
    {
      g_mutex_unlock (&server->lock);
      return TRUE;
    }
  server->started = TRUE;
  server->handlers++;
  g_mutex_unlock (&server->lock);

  g_socket_set_timeout (g_socket_connection_get_socket (connection), IO_TIMEOUT_SECONDS);
  session_set_stream (&session, G_IO_STREAM (connection));

  if (server->implicit_tls && !do_handshake (&session, &error))
    {
      /* The client refusing our certificate is what several tests want;
       * they check the client's error. */
      g_debug ("fake server: implicit TLS handshake failed: %s", error->message);
      i = server->steps->len;
    }

  for (; i < server->steps->len; i++)
    {
      Step *step = g_ptr_array_index (server->steps, i);

      if (step->kind == STEP_DROP)
        dropped = TRUE;
      if (!run_step (&session, step))
        break;
    }
  if (i == server->steps->len || dropped)
    i = server->steps->len;
  else
    i++;
  for (; i < server->steps->len; i++)
    {
      Step *step = g_ptr_array_index (server->steps, i);

      if (step->kind == STEP_EXPECT || step->kind == STEP_EXPECT_LINES)
        problem (server, "the script ended early; “%s” never came",
                 step->pattern ? step->pattern : "pipelined commands");
    }

  /* Let the client close first, so nothing it sent is left unread (an
   * unread byte turns our close into a reset that could eat our last
   * answer). */
  if (!dropped)
    {
      g_autofree char *line = NULL;

      while ((line = read_line (&session, NULL)) != NULL)
        g_clear_pointer (&line, g_free);
    }

  g_socket_close (g_socket_connection_get_socket (connection), NULL);
  g_clear_object (&session.input);
  g_clear_object (&session.stream);

  g_atomic_int_set (&server->done, 1);
  g_main_context_wakeup (server->context);

  g_mutex_lock (&server->lock);
  server->handlers--;
  g_cond_broadcast (&server->handler_ended);
  g_mutex_unlock (&server->lock);
  return TRUE;
}

static PbFakeServer *
fake_server_ref (PbFakeServer *server)
{
  g_atomic_ref_count_inc (&server->ref_count);
  return server;
}

static void
fake_server_unref (PbFakeServer *server)
{
  if (!g_atomic_ref_count_dec (&server->ref_count))
    return;
  g_clear_object (&server->certificate);
  g_clear_object (&server->cancellable);
  g_ptr_array_unref (server->steps);
  g_string_free (server->problems, TRUE);
  g_ptr_array_unref (server->received);
  g_mutex_clear (&server->lock);
  g_cond_clear (&server->handler_ended);
  g_main_context_unref (server->context);
  g_free (server);
}

/* The "run" handler's reference goes with its closure: GSignal keeps a
 * closure alive while an emission runs it, even once disconnected. */
static void
on_run_closure_finalized (gpointer  data,
                          GClosure *closure)
{
  fake_server_unref (data);
}

PbFakeServer *
pb_fake_server_new_on (const char  *address,
                       GError     **error)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);
  g_autoptr(GSocketAddress) bind_address = NULL;
  g_autoptr(GSocketAddress) effective = NULL;
  PbFakeServer *server;

  g_return_val_if_fail (inet != NULL, NULL);

  server = g_new0 (PbFakeServer, 1);
  g_atomic_ref_count_init (&server->ref_count);
  server->cancellable = g_cancellable_new ();
  g_cond_init (&server->handler_ended);
  server->context = g_main_context_ref_thread_default ();
  server->steps = g_ptr_array_new_with_free_func ((GDestroyNotify) step_free);
  server->problems = g_string_new (NULL);
  server->received = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&server->lock);

  server->service = g_threaded_socket_service_new (1);
  bind_address = g_inet_socket_address_new (inet, 0);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (server->service), bind_address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                      NULL, &effective, error))
    {
      pb_fake_server_free (server);
      return NULL;
    }
  server->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect_data (server->service, "run", G_CALLBACK (on_run),
                         fake_server_ref (server), on_run_closure_finalized, 0);
  g_socket_service_start (server->service);
  return server;
}

PbFakeServer *
pb_fake_server_new (void)
{
  g_autoptr(GError) error = NULL;
  PbFakeServer *server = pb_fake_server_new_on ("127.0.0.1", &error);

  g_assert_no_error (error);
  return server;
}

void
pb_fake_server_free (PbFakeServer *server)
{
  gint64 deadline;

  if (server == NULL)
    return;
  if (server->service != NULL)
    {
      /* Stopping cancels the pending accept; the listener closes its
       * socket when the last reference goes. Closing it here instead
       * would make that accept fail loudly. */
      g_socket_service_stop (server->service);
      g_signal_handlers_disconnect_by_data (server->service, server);
      g_clear_object (&server->service);
    }

  /* A script still playing (the test gave up on it, or never waited)
   * ends at its next blocking call, and closes its connection. Bounded:
   * should a handler not notice, the references keep what it uses alive. */
  g_cancellable_cancel (server->cancellable);
  deadline = g_get_monotonic_time () + WAIT_TIMEOUT_SECONDS * G_TIME_SPAN_SECOND;
  g_mutex_lock (&server->lock);
  while (server->handlers > 0 &&
         g_cond_wait_until (&server->handler_ended, &server->lock, deadline))
    ;
  g_mutex_unlock (&server->lock);

  fake_server_unref (server);
}

guint16
pb_fake_server_get_port (PbFakeServer *server)
{
  return server->port;
}

void
pb_fake_server_set_certificate (PbFakeServer *server,
                                const char   *pem,
                                const char   *key)
{
  g_autoptr(GError) error = NULL;

  g_clear_object (&server->certificate);
  server->certificate = g_tls_certificate_new_from_files (pem, key, &error);
  g_assert_no_error (error);
}

void
pb_fake_server_set_implicit_tls (PbFakeServer *server,
                                 gboolean      implicit)
{
  server->implicit_tls = implicit;
}

static Step *
add_step (PbFakeServer *server,
          StepKind      kind)
{
  Step *step = g_new0 (Step, 1);

  step->kind = kind;
  g_ptr_array_add (server->steps, step);
  return step;
}

void
pb_fake_server_send (PbFakeServer *server,
                     const char   *text)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autofree char *joined = g_strjoinv ("\r\n", lines);
  g_autofree char *crlf = g_strconcat (joined, "\r\n", NULL);

  add_step (server, STEP_SEND)->data = g_bytes_new (crlf, strlen (crlf));
}

void
pb_fake_server_send_raw (PbFakeServer *server,
                         const void   *data,
                         gsize         len)
{
  add_step (server, STEP_SEND)->data = g_bytes_new (data, len);
}

void
pb_fake_server_send_repeated (PbFakeServer *server,
                              const char   *chunk,
                              guint64       total)
{
  Step *step = add_step (server, STEP_SEND_REPEATED);

  g_return_if_fail (chunk != NULL && *chunk != '\0');
  step->data = g_bytes_new (chunk, strlen (chunk));
  step->total = total;
}

void
pb_fake_server_trickle (PbFakeServer *server,
                        const char   *text,
                        guint         piece,
                        guint         interval_ms)
{
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);
  g_autofree char *joined = g_strjoinv ("\r\n", lines);
  g_autofree char *crlf = g_strconcat (joined, "\r\n", NULL);
  Step *step = add_step (server, STEP_TRICKLE);

  g_return_if_fail (piece > 0);
  step->data = g_bytes_new (crlf, strlen (crlf));
  step->total = piece;
  step->count = interval_ms;
}

void
pb_fake_server_expect (PbFakeServer *server,
                       const char   *pattern)
{
  add_step (server, STEP_EXPECT)->pattern = g_strdup (pattern);
}

void
pb_fake_server_expect_lines (PbFakeServer *server,
                             guint         count)
{
  add_step (server, STEP_EXPECT_LINES)->count = count;
}

void
pb_fake_server_expect_silence (PbFakeServer *server,
                               guint         milliseconds)
{
  add_step (server, STEP_EXPECT_SILENCE)->count = milliseconds;
}

void
pb_fake_server_starttls (PbFakeServer *server,
                         gboolean      must_succeed)
{
  add_step (server, STEP_STARTTLS)->must_succeed = must_succeed;
}

void
pb_fake_server_sasl (PbFakeServer *server,
                     const char   *mechanism,
                     const char   *user,
                     const char   *password)
{
  Step *step = add_step (server, STEP_SASL);

  step->pattern = g_strdup (mechanism);
  step->user = g_strdup (user);
  step->password = g_strdup (password);
}

void
pb_fake_server_stall (PbFakeServer *server)
{
  add_step (server, STEP_STALL);
}

void
pb_fake_server_drop (PbFakeServer *server)
{
  add_step (server, STEP_DROP);
}

static gboolean
on_wait_timeout (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

char *
pb_fake_server_wait (PbFakeServer *server)
{
  gboolean timed_out = FALSE;
  GSource *timeout = g_timeout_source_new_seconds (WAIT_TIMEOUT_SECONDS);
  char *result = NULL;

  g_source_set_callback (timeout, on_wait_timeout, &timed_out, NULL);
  g_source_attach (timeout, server->context);
  while (!g_atomic_int_get (&server->done) && !timed_out)
    g_main_context_iteration (server->context, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);

  g_mutex_lock (&server->lock);
  if (timed_out)
    {
      if (server->problems->len > 0)
        g_string_append (server->problems, "; ");
      g_string_append (server->problems, server->started
                       ? "the script did not finish in time"
                       : "no client ever connected");
    }
  if (server->received->len == 0 || g_ptr_array_index (server->received, server->received->len - 1) != NULL)
    g_ptr_array_add (server->received, NULL);
  if (server->problems->len > 0)
    result = g_strdup (server->problems->str);
  g_mutex_unlock (&server->lock);
  return result;
}

const char * const *
pb_fake_server_get_received (PbFakeServer *server)
{
  return (const char * const *) server->received->pdata;
}

gboolean
pb_fake_server_received_prefix (PbFakeServer *server,
                                const char   *prefix)
{
  gboolean found = FALSE;

  g_mutex_lock (&server->lock);
  for (guint i = 0; i < server->received->len && !found; i++)
    {
      const char *line = g_ptr_array_index (server->received, i);

      found = line != NULL && g_ascii_strncasecmp (line, prefix, strlen (prefix)) == 0;
    }
  g_mutex_unlock (&server->lock);
  return found;
}

guint
pb_fake_server_get_connections (PbFakeServer *server)
{
  guint connections;

  g_mutex_lock (&server->lock);
  connections = server->connections;
  g_mutex_unlock (&server->lock);
  return connections;
}

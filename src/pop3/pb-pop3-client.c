/* pb-pop3-client.c: one POP3 session over GIO (see pb-pop3-client.h).
 *
 * The shape of it:
 *   - Every request, internal ones (greeting, CAPA, STLS, the login steps)
 *     included, is a Command in one of two queues: `pending` (not yet
 *     written) and `in_flight` (written, waiting for its response, in the
 *     order written). pump_writes() moves commands from one to the other, as
 *     many as the pipeline window allows, in one write.
 *   - One read loop with a 64 KiB buffer feeds the pure reader
 *     (pb-pop3-reader.c); each event belongs to the head of `in_flight`.
 *     A RETR body is written to the caller's stream as it arrives, one
 *     write at a time: while that write is busy and enough is buffered we
 *     stop reading (back-pressure), so memory stays bounded.
 *   - One timer covers connect, handshake, reads and writes: when the
 *     server makes no progress for `timeout` seconds, the session fails
 *     with PB_POP3_ERROR_TIMEOUT. Progress is a finished step (connect,
 *     handshake, write, response) or PROGRESS_OCTETS read, not any byte: a
 *     server trickling its answer a byte at a time would otherwise hold
 *     the session for ever. Nothing ever blocks.
 *   - A failure of the connection (drop, timeout, protocol violation, a
 *     cancelled command already on the wire) ends the session: fail_session()
 *     fails every queued command and bumps `generation`, so callbacks of I/O
 *     started before know to do nothing.
 */
#include <glib/gi18n.h>
#include <string.h>

#include "pb-pop3-client.h"
#include "pb-pop3-reader.h"
#include "pb-pop3-response.h"
#include "pb-pop3-sasl.h"
#include "pb-pop3-tls.h"

#define READ_BUFFER_SIZE (64 * 1024)
/* A RETR body is handed to the output stream in chunks of about this size;
 * with one write in flight and one chunk filling, at most two are held. */
#define OUTPUT_CHUNK_SIZE (64 * 1024)
#define DEFAULT_PIPELINE_WINDOW 32
/* Reading this much moves the deadline on, however long a response is:
 * about 34 bytes a second with the default timeout, which any real link
 * beats by orders of magnitude. */
#define PROGRESS_OCTETS 1024
/* CAPA is a few lines; LIST and UIDL are one short line per message (a
 * mailbox of 100,000 messages needs about 4 MiB). */
#define MAX_CAPA_SIZE (64 * 1024)
#define MAX_LISTING_SIZE (32 * 1024 * 1024)
/* RFC 5034 section 4: an AUTH command with its initial response must fit
 * in 255 octets, or the response goes in a continuation instead. */
#define MAX_AUTH_LINE 255

typedef enum {
  STATE_CLOSED,
  STATE_CONNECTING,
  STATE_AUTHORIZATION,   /* RFC 1939: connected, not logged in */
  STATE_AUTHENTICATING,
  STATE_TRANSACTION,     /* logged in */
} SessionState;

typedef enum {
  BODY_NONE,     /* single-line response */
  BODY_COLLECT,  /* multi-line, collected into memory (bounded) */
  BODY_STREAM,   /* multi-line, written to an output stream */
} BodyMode;

typedef enum {
  COMMAND_EXCLUSIVE = 1 << 0,  /* alone on the wire: login steps, STLS, QUIT */
  COMMAND_SENSITIVE = 1 << 1,  /* carries a secret: never logged, wiped */
} CommandFlags;

typedef struct {
  PbPop3StatusKind  status;
  char             *text;     /* after "+OK", "-ERR" or "+ " */
  GBytes           *body;     /* BODY_COLLECT after +OK */
  guint64           written;  /* BODY_STREAM: octets written */
} Response;

typedef struct {
  char          *line;        /* with CRLF; NULL for the greeting */
  char          *name;        /* "STAT", for logs and messages */
  CommandFlags   flags;
  BodyMode       body_mode;
  guint64        limit;       /* body cap in octets */
  GOutputStream *output;      /* BODY_STREAM */
  GTask         *task;        /* returns a Response */
  GCancellable  *cancellable;
  gulong         cancel_id;
  Response      *response;
  gboolean       body_done;   /* BODY_STREAM: END seen, output may lag */
  GError        *write_error; /* BODY_STREAM: output failed; body discarded */
} Command;

struct _PbPop3Client {
  GObject parent_instance;

  /* Settings, read at connect. */
  char            *host;
  guint16          port;
  PbPop3Security   security;
  guint            timeout;
  char            *ca_file;
  char            *pin;
  guint64          max_message_size;
  guint            pipeline_window;

  /* The connection. `stream` is `connection` or the TLS connection over
   * it; `input` and `output` are its streams (borrowed). */
  SessionState       state;
  guint              generation;
  GMainContext      *context;
  GSocketConnection *connection;
  GIOStream         *stream;
  GInputStream      *input;
  GOutputStream     *output;
  GCancellable      *io_cancellable;  /* cancelled to abandon every I/O */
  GSource           *timer;
  gint64             deadline;        /* monotonic µs, or -1 when idle */
  gsize              unproven_octets; /* read since the deadline last moved */
  gboolean           connecting;      /* connect or handshake under way */
  gboolean           reading;
  gboolean           writing;
  gboolean           output_busy;     /* a RETR chunk is being written */
  gboolean           paused;          /* back-pressure: not reading */
  guint8            *buffer;
  gsize              buffer_start;
  gsize              buffer_end;
  PbPop3Reader       reader;
  GByteArray        *scratch;         /* status line, or body collected */
  GByteArray        *spare;           /* a written chunk's buffer, for reuse */
  GQueue             pending;
  GQueue             in_flight;
  GTask             *connect_task;
  GCancellable      *connect_cancellable;
  gulong             connect_cancel_id;

  /* The certificate check of the running handshake. */
  GTlsDatabase    *ca_database;
  gboolean         certificate_pinned;
  /* The TLS backend and the CA file are ready (prepare_tls()), and whether
   * the connection waits for them to start the handshake. */
  gboolean         tls_prepared;
  gboolean         tls_waiting;

  /* What the server told us. */
  char            *greeting;
  char            *apop_timestamp;
  gboolean         has_capa;
  GPtrArray       *capabilities;     /* NULL-terminated */
  GPtrArray       *sasl_mechanisms;  /* NULL-terminated */
  char            *implementation;
  gint             login_delay;
  gint             expire;
  char            *auth_mechanism;
  gint             retry_after;
  PbPop3TlsInfo   *tls_info;
};

G_DEFINE_FINAL_TYPE (PbPop3Client, pb_pop3_client, G_TYPE_OBJECT)

static void pump_writes      (PbPop3Client *self);
static void schedule_read    (PbPop3Client *self);
static void process_input    (PbPop3Client *self);
static void starttls_capa    (PbPop3Client *self);
static void capa_after_login (GTask        *task);

/* ---- small helpers --------------------------------------------------- */

static void
wipe_and_free (char *str)
{
  if (str != NULL)
    {
      memset (str, 0, strlen (str));
      g_free (str);
    }
}

static void
response_free (Response *response)
{
  if (response == NULL)
    return;
  g_free (response->text);
  g_clear_pointer (&response->body, g_bytes_unref);
  g_free (response);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Response, response_free)

static void
command_free (Command *command)
{
  if (command->flags & COMMAND_SENSITIVE)
    wipe_and_free (command->line);
  else
    g_free (command->line);
  g_free (command->name);
  g_clear_object (&command->output);
  g_clear_object (&command->task);
  g_clear_object (&command->cancellable);
  response_free (command->response);
  g_clear_error (&command->write_error);
  g_free (command);
}

static gboolean
has_capability (PbPop3Client *self,
                const char   *name)
{
  gsize len = strlen (name);

  for (guint i = 0; i + 1 < self->capabilities->len; i++)
    {
      const char *line = g_ptr_array_index (self->capabilities, i);

      if (g_ascii_strncasecmp (line, name, len) == 0 &&
          (line[len] == '\0' || line[len] == ' '))
        return TRUE;
    }
  return FALSE;
}

static gboolean
is_encrypted (PbPop3Client *self)
{
  return G_IS_TLS_CONNECTION (self->stream);
}

/* ---- the inactivity timer -------------------------------------------- */

static void fail_session (PbPop3Client *self, const GError *error, gboolean same_for_all);

static gboolean
timer_dispatch (GSource     *source,
                GSourceFunc  callback,
                gpointer     user_data)
{
  return callback (user_data);
}

static GSourceFuncs timer_funcs = { NULL, NULL, timer_dispatch, NULL, NULL, NULL };

static gboolean
on_timer (gpointer user_data)
{
  PbPop3Client *self = user_data;
  g_autoptr(GError) error = NULL;

  /* The deadline moved on since the source was armed: follow it. */
  if (self->deadline >= 0 && g_get_monotonic_time () < self->deadline)
    {
      g_source_set_ready_time (self->timer, self->deadline);
      return G_SOURCE_CONTINUE;
    }
  g_source_set_ready_time (self->timer, -1);
  if (self->deadline < 0)
    return G_SOURCE_CONTINUE;
  self->deadline = -1;
  if (self->state == STATE_CONNECTING && self->connecting && self->connection != NULL &&
      self->security == PB_POP3_SECURITY_TLS && self->tls_prepared)
    /* TCP is up and the handshake got no answer: whatever listens there
     * is stuck or does not speak TLS first (a plain POP3 server greets,
     * and that fails the handshake at once). "Could not connect" would
     * send the person looking at the network. */
    error = g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_TIMEOUT,
                         _("The server %s accepted the connection but did not answer "
                           "the start of TLS within %u seconds. Check the port and the "
                           "security setting (port 995 is TLS, port 110 is STARTTLS or "
                           "none)."),
                         self->host, self->timeout);
  else if (self->state == STATE_CONNECTING && self->connecting)
    error = g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_TIMEOUT,
                         _("Could not connect to %s within %u seconds. Check the "
                           "host name, the port and your network connection."),
                         self->host, self->timeout);
  else if (self->state == STATE_CONNECTING && self->greeting == NULL &&
           self->security != PB_POP3_SECURITY_TLS && self->unproven_octets == 0)
    /* A POP3 server greets first; one that speaks TLS from the first byte
     * waits for us to start the handshake, and both sides wait. */
    error = g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_TIMEOUT,
                         _("The server %s sent no greeting within %u seconds. If this "
                           "port expects TLS from the start (usually port 995), choose "
                           "security “tls”."),
                         self->host, self->timeout);
  else if (self->unproven_octets > 0 && self->state == STATE_TRANSACTION &&
           g_queue_peek_head (&self->in_flight) != NULL)
    /* Naming the command helps with a server that stops in the middle of
     * an answer (one that answers UIDL on a single line, say). */
    error = g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_TIMEOUT,
                         _("The server %s sent only %lu bytes of its "
                           "answer to %s in %u seconds; the connection was given up as "
                           "too slow. Try again later."),
                         self->host, (gulong) self->unproven_octets,
                         ((Command *) g_queue_peek_head (&self->in_flight))->name,
                         self->timeout);
  else if (self->unproven_octets > 0)
    error = g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_TIMEOUT,
                         _("The server %s sent only %lu bytes in %u "
                           "seconds; the connection was given up as too slow. Try "
                           "again later."),
                         self->host, (gulong) self->unproven_octets, self->timeout);
  else
    error = g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_TIMEOUT,
                         _("The server %s stopped answering for %u seconds; the "
                           "connection was given up. Try again later."),
                         self->host, self->timeout);
  fail_session (self, error, TRUE);
  return G_SOURCE_CONTINUE;
}

static void
arm_timer (PbPop3Client *self)
{
  self->deadline = g_get_monotonic_time () + (gint64) self->timeout * G_USEC_PER_SEC;
  self->unproven_octets = 0;
  if (g_source_get_ready_time (self->timer) < 0)
    g_source_set_ready_time (self->timer, self->deadline);
}

/* Called whenever I/O starts or stops: the clock starts when we begin to
 * wait for the server and is off while we wait for nobody but ourselves.
 * It does not move the deadline on; made_progress() does.
 *
 * Only the field moves here; the source is armed when it was idle and
 * otherwise left to fire at the old time and re-arm itself (on_timer).
 * g_source_set_ready_time() wakes the main context up through its eventfd
 * every time, and I/O starts and stops twice per read: doing it each time
 * cost a write, a read and a poll per 16 KiB of a download. */
static void
update_timer (PbPop3Client *self)
{
  if (self->timer == NULL)
    return;
  if (!(self->connecting || self->reading || self->writing))
    self->deadline = -1;
  else if (self->deadline < 0)
    arm_timer (self);
}

/* A step finished: the server gets `timeout` seconds for the next one. */
static void
made_progress (PbPop3Client *self)
{
  if (self->timer == NULL)
    return;
  if (self->connecting || self->reading || self->writing)
    arm_timer (self);
  else
    self->deadline = -1;
}

/* ---- ending a session ------------------------------------------------ */

static void
command_return (Command  *command,
                GError   *error)
{
  if (command->cancel_id != 0)
    {
      g_cancellable_disconnect (command->cancellable, command->cancel_id);
      command->cancel_id = 0;
    }
  if (error != NULL)
    g_task_return_error (command->task, error);
  else
    g_task_return_pointer (command->task, g_steal_pointer (&command->response),
                           (GDestroyNotify) response_free);
  command_free (command);
}

static void
disconnect_connect_cancellable (PbPop3Client *self)
{
  if (self->connect_cancel_id != 0)
    g_cancellable_disconnect (self->connect_cancellable, self->connect_cancel_id);
  self->connect_cancel_id = 0;
  g_clear_object (&self->connect_cancellable);
}

static void
close_connection (PbPop3Client *self)
{
  GSocket *socket;

  self->generation++;
  if (self->io_cancellable != NULL)
    g_cancellable_cancel (self->io_cancellable);
  g_clear_object (&self->io_cancellable);

  /* Closing the socket itself is immediate and never blocks; the streams
   * above it just see a closed socket. No QUIT is sent, so no deletion
   * takes effect (RFC 1939 section 6). */
  if (self->connection != NULL)
    {
      socket = g_socket_connection_get_socket (self->connection);
      g_socket_close (socket, NULL);
    }
  self->input = NULL;
  self->output = NULL;
  g_clear_object (&self->stream);
  g_clear_object (&self->connection);
  self->connecting = self->reading = self->writing = FALSE;
  self->output_busy = self->paused = FALSE;
  self->buffer_start = self->buffer_end = 0;
  update_timer (self);
  self->state = STATE_CLOSED;
}

/* The connection is gone or unusable: close it, and fail every command.
 * With @same_for_all the first command and all others get @error (a drop
 * or a timeout concerns them all); otherwise the head gets @error and the
 * rest PB_POP3_ERROR_CLOSED naming it. */
static void
fail_session (PbPop3Client *self,
              const GError *error,
              gboolean      same_for_all)
{
  g_autoptr(PbPop3Client) hold = g_object_ref (self);
  GQueue doomed = G_QUEUE_INIT;
  g_autoptr(GTask) connect_task = NULL;
  Command *command;
  gboolean first = TRUE;

  g_debug ("session with %s ends: %s", self->host, error->message);

  close_connection (self);

  /* Detach everything before returning anything: a callback may start a
   * new command or even a new connect. */
  while ((command = g_queue_pop_head (&self->in_flight)) != NULL)
    g_queue_push_tail (&doomed, command);
  while ((command = g_queue_pop_head (&self->pending)) != NULL)
    g_queue_push_tail (&doomed, command);
  connect_task = g_steal_pointer (&self->connect_task);
  disconnect_connect_cancellable (self);

  while ((command = g_queue_pop_head (&doomed)) != NULL)
    {
      if (first || same_for_all)
        command_return (command, g_error_copy (error));
      else
        command_return (command,
                        g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_CLOSED,
                                     _("The connection was closed after an earlier "
                                       "error: %s"), error->message));
      first = FALSE;
    }
  if (connect_task != NULL)
    g_task_return_error (connect_task, g_error_copy (error));
}

static void
fail_session_take (PbPop3Client *self,
                   GError       *error,
                   gboolean      same_for_all)
{
  fail_session (self, error, same_for_all);
  g_error_free (error);
}

/* ---- cancellation ---------------------------------------------------- */

/* A command not yet written can simply be dropped. One already on the
 * wire cannot be taken back: its response would be read as the next
 * one's, so the session ends. */
static gboolean
handle_cancellations (gpointer user_data)
{
  PbPop3Client *self = user_data;
  g_autoptr(GError) cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                     _("The operation was cancelled."));

  for (GList *l = self->in_flight.head; l != NULL; l = l->next)
    {
      Command *command = l->data;

      if (command->cancellable != NULL && g_cancellable_is_cancelled (command->cancellable))
        {
          fail_session (self, cancelled, FALSE);
          return G_SOURCE_REMOVE;
        }
    }
  if (self->connect_task != NULL &&
      g_cancellable_is_cancelled (g_task_get_cancellable (self->connect_task)))
    {
      fail_session (self, cancelled, FALSE);
      return G_SOURCE_REMOVE;
    }

  /* Unlink first, answer after: a callback may touch the queue. */
  {
    GQueue dropped = G_QUEUE_INIT;
    Command *command;

    for (GList *l = self->pending.head; l != NULL;)
      {
        GList *next = l->next;

        command = l->data;
        if (command->cancellable != NULL && g_cancellable_is_cancelled (command->cancellable))
          {
            g_queue_unlink (&self->pending, l);
            g_queue_push_tail_link (&dropped, l);
          }
        l = next;
      }
    while ((command = g_queue_pop_head (&dropped)) != NULL)
      command_return (command, g_error_copy (cancelled));
  }
  return G_SOURCE_REMOVE;
}

/* May run in any thread (whoever cancels); the work happens in ours. */
static void
on_cancelled (GCancellable *cancellable,
              gpointer      user_data)
{
  PbPop3Client *self = user_data;
  GSource *source = g_idle_source_new ();

  /* As urgent as the I/O that might otherwise send the command first. */
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, handle_cancellations, g_object_ref (self), g_object_unref);
  g_source_set_static_name (source, "[popbiff] pop3 cancellation");
  g_source_attach (source, self->context);
  g_source_unref (source);
}

/* ---- writing commands ------------------------------------------------ */

static void
on_write_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(PbPop3Client) self = NULL;
  g_autoptr(GError) error = NULL;
  guint generation;
  gpointer *data = user_data;
  char *batch = data[1];
  gboolean sensitive = GPOINTER_TO_INT (data[2]);

  self = data[0];
  generation = GPOINTER_TO_UINT (data[3]);
  g_free (data);

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error);
  if (sensitive)
    wipe_and_free (batch);
  else
    g_free (batch);

  if (generation != self->generation)
    return;
  self->writing = FALSE;
  made_progress (self);

  if (error != NULL)
    {
      g_autoptr(GError) lost = g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_NETWORK,
                                            _("The connection to %s was lost while "
                                              "sending a command: %s"),
                                            self->host, error->message);
      fail_session (self, lost, TRUE);
      return;
    }
  pump_writes (self);
}

static gboolean
in_flight_exclusive (PbPop3Client *self)
{
  for (GList *l = self->in_flight.head; l != NULL; l = l->next)
    if (((Command *) l->data)->flags & COMMAND_EXCLUSIVE)
      return TRUE;
  return FALSE;
}

/* RFC 2449 section 6.6: with PIPELINING the client may send commands
 * without waiting; we keep at most `pipeline_window` unanswered so the
 * server's send buffer and ours stay small. Without it, one at a time.
 * Login steps and STLS always go alone: what follows them depends on
 * their answer. */
static void
pump_writes (PbPop3Client *self)
{
  g_autoptr(GString) batch = NULL;
  g_autoptr(GError) cancelled = NULL;
  GQueue dropped = G_QUEUE_INIT;
  gboolean sensitive = FALSE;
  Command *command;
  guint window;
  gpointer *data;

  if (self->writing || self->output == NULL || self->state == STATE_CLOSED)
    return;

  window = has_capability (self, "PIPELINING") ? MAX (self->pipeline_window, 1) : 1;

  /* Refill the window in batches: while more than half of it is still
   * unanswered the server has plenty to do, and waiting costs nothing.
   * Topping it up after every answer instead would send each RETR in a
   * TLS record and a system call of its own. */
  if (self->in_flight.length > window / 2 && self->in_flight.length > 0)
    return;

  while ((command = g_queue_peek_head (&self->pending)) != NULL)
    {
      /* Cancelled while it waited: never send it. It is answered below,
       * once the queues are consistent, since its callback may queue more. */
      if (command->cancellable != NULL && g_cancellable_is_cancelled (command->cancellable))
        {
          g_queue_push_tail (&dropped, g_queue_pop_head (&self->pending));
          continue;
        }
      if (self->in_flight.length >= window || in_flight_exclusive (self))
        break;
      if ((command->flags & COMMAND_EXCLUSIVE) && !g_queue_is_empty (&self->in_flight))
        break;

      g_queue_pop_head (&self->pending);
      g_queue_push_tail (&self->in_flight, command);
      if (batch == NULL)
        batch = g_string_new (NULL);
      g_string_append (batch, command->line);
      if (command->flags & COMMAND_SENSITIVE)
        {
          sensitive = TRUE;
          g_debug ("C: %s <hidden>", command->name);
        }
      else
        g_debug ("C: %.*s", (int) strlen (command->line) - 2, command->line);
    }

  if (batch != NULL)
    {
      self->writing = TRUE;
      update_timer (self);
      data = g_new (gpointer, 4);
      data[0] = g_object_ref (self);
      data[1] = batch->str;
      data[2] = GINT_TO_POINTER (sensitive);
      data[3] = GUINT_TO_POINTER (self->generation);
      g_output_stream_write_all_async (self->output, batch->str, batch->len,
                                       G_PRIORITY_DEFAULT, self->io_cancellable,
                                       on_write_done, data);
      g_string_free (g_steal_pointer (&batch), FALSE);
      schedule_read (self);
    }

  while ((command = g_queue_pop_head (&dropped)) != NULL)
    {
      if (cancelled == NULL)
        cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                         _("The operation was cancelled."));
      command_return (command, g_error_copy (cancelled));
    }
}

/* Queues a command. The task returns a Response whether the server said
 * +OK or -ERR; only the connection failing is an error here. Takes @line
 * (with its CRLF). */
static void
command_async (PbPop3Client        *self,
               const char          *name,
               char                *line,
               CommandFlags         flags,
               BodyMode             body_mode,
               guint64              limit,
               GOutputStream       *output,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  Command *command = g_new0 (Command, 1);

  command->line = line;
  command->name = g_strdup (name);
  command->flags = flags;
  command->body_mode = body_mode;
  command->limit = limit;
  command->output = output ? g_object_ref (output) : NULL;
  command->task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (command->task, command_async);
  g_task_set_check_cancellable (command->task, FALSE);
  command->response = g_new0 (Response, 1);

  if (self->state == STATE_CLOSED || self->output == NULL)
    {
      command_return (command, g_error_new_literal (PB_POP3_ERROR, PB_POP3_ERROR_CLOSED,
                                                    _("The connection to the server is closed.")));
      return;
    }
  if (cancellable != NULL)
    {
      if (g_cancellable_is_cancelled (cancellable))
        {
          command_return (command, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                        _("The operation was cancelled.")));
          return;
        }
      command->cancellable = g_object_ref (cancellable);
      command->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled),
                                                  self, NULL);
    }

  g_queue_push_tail (&self->pending, command);
  pump_writes (self);
}

static Response *
command_finish (PbPop3Client  *self,
                GAsyncResult  *result,
                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static char *
make_line (const char *format,
           ...) G_GNUC_PRINTF (1, 2);

static char *
make_line (const char *format,
           ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  return g_strconcat (text, "\r\n", NULL);
}

/* ---- async steps and the connection they belong to ---------------------- */

/* What an async step (a read, connecting, the handshake, preparing TLS)
 * holds until it completes: a reference to the session and the generation
 * of the connection it was started for. A step that completes after the
 * session moved on (closed, failed, connected again) does nothing. */
static gpointer
hold_generation (PbPop3Client *self)
{
  gpointer *data = g_new (gpointer, 2);

  data[0] = g_object_ref (self);
  data[1] = GUINT_TO_POINTER (self->generation);
  return data;
}

/* Ends the hold: returns the session (the caller owns that reference) and
 * whether the step still belongs to the current connection. */
static PbPop3Client *
release_generation (gpointer  held,
                    gboolean *current)
{
  gpointer *data = held;
  PbPop3Client *self = data[0];

  *current = GPOINTER_TO_UINT (data[1]) == self->generation;
  g_free (data);
  return self;
}

/* ---- reading responses ----------------------------------------------- */

static void
on_read_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(PbPop3Client) self = NULL;
  g_autoptr(GError) error = NULL;
  gboolean current;
  gssize n;

  self = release_generation (user_data, &current);

  n = g_input_stream_read_finish (G_INPUT_STREAM (source), result, &error);
  if (!current)
    return;
  /* The clock keeps running: what follows reads again, completes a
   * response or pauses, and each of those sees to the timer. */
  self->reading = FALSE;

  if (n < 0)
    {
      g_autoptr(GError) lost = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        lost = g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_TIMEOUT,
                            _("The server %s stopped answering; the connection was "
                              "given up. Try again later."), self->host);
      else if (error->domain == G_TLS_ERROR)
        lost = g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_TLS,
                            _("The secure connection to %s failed: %s"),
                            self->host, error->message);
      else
        lost = g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_NETWORK,
                            _("The connection to %s was lost: %s"),
                            self->host, error->message);
      fail_session (self, lost, TRUE);
      return;
    }
  if (n == 0)
    {
      g_autoptr(GError) lost = g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_NETWORK,
                                            _("The server %s closed the connection "
                                              "unexpectedly. Try again later."),
                                            self->host);
      fail_session (self, lost, TRUE);
      return;
    }

  self->unproven_octets += (gsize) n;
  if (self->unproven_octets >= PROGRESS_OCTETS)
    made_progress (self);
  self->buffer_start = 0;
  self->buffer_end = (gsize) n;
  process_input (self);
}

/* We read only while a response is awaited and everything read so far has
 * been used; a server that speaks unasked is caught in process_input(). */
static void
schedule_read (PbPop3Client *self)
{
  if (self->reading || self->paused || self->input == NULL ||
      g_queue_is_empty (&self->in_flight) ||
      self->buffer_start < self->buffer_end)
    return;

  self->reading = TRUE;
  update_timer (self);
  g_input_stream_read_async (self->input, self->buffer, READ_BUFFER_SIZE,
                             G_PRIORITY_DEFAULT, self->io_cancellable,
                             on_read_done, hold_generation (self));
}

static void
complete_head (PbPop3Client *self)
{
  Command *command = g_queue_pop_head (&self->in_flight);
  GError *error = g_steal_pointer (&command->write_error);

  pb_pop3_reader_expect_status (&self->reader);
  made_progress (self);
  command_return (command, error);
  /* The window has room again. */
  pump_writes (self);
}

static gboolean start_output_write (PbPop3Client *self, Command *command);

static void
on_output_written (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(PbPop3Client) self = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) chunk = NULL;
  gpointer *data = user_data;
  guint generation;
  Command *command;

  self = data[0];
  chunk = data[1];
  generation = GPOINTER_TO_UINT (data[2]);
  g_free (data);

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, &error);
  if (generation != self->generation)
    return;
  self->output_busy = FALSE;

  command = g_queue_peek_head (&self->in_flight);
  g_assert (command != NULL && command->body_mode == BODY_STREAM);
  if (error != NULL && command->write_error == NULL)
    {
      /* Keep reading the body to stay in step with the server; it is
       * thrown away and the command fails at its end. */
      g_prefix_error (&error, _("Could not save the message: "));
      command->write_error = g_steal_pointer (&error);
    }
  else if (error == NULL)
    command->response->written += chunk->len;
  if (self->spare == NULL)
    {
      g_byte_array_set_size (chunk, 0);
      self->spare = g_steal_pointer (&chunk);
    }

  process_input (self);
}

/* The body collected so far goes to the command's output. A pollable
 * output that takes it all at once (a file, memory, the null stream) is
 * written right here: the async path costs a GTask and a main loop turn
 * per chunk, a buffer of its own, and most messages fit in one chunk. What
 * would block goes the async way. Returns TRUE when the write is still
 * under way (process_input() waits for on_output_written()). */
static gboolean
start_output_write (PbPop3Client *self,
                    Command      *command)
{
  GByteArray *chunk;
  gpointer *data;
  gsize done = 0;

  if (command->write_error != NULL)
    {
      g_byte_array_set_size (self->scratch, 0);
      return FALSE;
    }

  if (G_IS_POLLABLE_OUTPUT_STREAM (command->output) &&
      g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (command->output)))
    {
      g_autoptr(GError) error = NULL;

      while (done < self->scratch->len)
        {
          gssize n = g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM (command->output),
                                                                 self->scratch->data + done,
                                                                 self->scratch->len - done,
                                                                 command->cancellable, &error);
          if (n < 0)
            break;
          done += (gsize) n;
        }
      command->response->written += done;
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_prefix_error (&error, _("Could not save the message: "));
          command->write_error = g_steal_pointer (&error);
          g_byte_array_set_size (self->scratch, 0);
          return FALSE;
        }
      g_byte_array_remove_range (self->scratch, 0, (guint) done);
      if (self->scratch->len == 0)
        return FALSE;
    }

  chunk = g_steal_pointer (&self->scratch);
  self->scratch = self->spare != NULL ? g_steal_pointer (&self->spare)
                                      : g_byte_array_sized_new (OUTPUT_CHUNK_SIZE + READ_BUFFER_SIZE);
  self->output_busy = TRUE;
  data = g_new (gpointer, 3);
  data[0] = g_object_ref (self);
  data[1] = chunk;
  data[2] = GUINT_TO_POINTER (self->generation);
  g_output_stream_write_all_async (command->output, chunk->data, chunk->len,
                                   G_PRIORITY_DEFAULT, command->cancellable,
                                   on_output_written, data);
  return TRUE;
}

static void
fail_too_large (PbPop3Client *self,
                Command      *command)
{
  g_autoptr(GError) error = NULL;

  if (command->body_mode == BODY_STREAM || g_str_equal (command->name, "TOP"))
    error = g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_TOO_LARGE,
                         _("The message is larger than the limit of %lu bytes; it was "
                           "not downloaded."), (gulong) command->limit);
  else
    error = g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL,
                         _("The server’s answer to %s is larger than %lu bytes; it does "
                           "not seem to speak POP3 correctly."),
                         command->name, (gulong) command->limit);
  /* The rest of the body cannot be skipped reliably without reading it
   * all, so the session ends (pb-pop3-client.h, RETR). */
  fail_session (self, error, FALSE);
}

static gboolean
handle_status (PbPop3Client *self,
               Command      *command)
{
  const char *line = (const char *) self->scratch->data;
  const char *text = NULL;
  PbPop3StatusKind kind;

  kind = pb_pop3_status_parse (line, &text);
  if (kind == PB_POP3_STATUS_INVALID)
    {
      g_autofree char *said = pb_pop3_response_sanitize (line);

      fail_session_take (self,
                         g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL,
                                      _("The server sent something that is not a POP3 "
                                        "response (“%s”). Check the host name and port."),
                                      said),
                         TRUE);
      return FALSE;
    }

  if (command->flags & COMMAND_SENSITIVE && kind == PB_POP3_STATUS_CONTINUE)
    g_debug ("S: + <challenge>");
  else
    g_debug ("S: %.200s", line);

  command->response->status = kind;
  command->response->text = g_strdup (text ? text : "");
  g_byte_array_set_size (self->scratch, 0);

  if (kind == PB_POP3_STATUS_OK && command->body_mode != BODY_NONE)
    {
      pb_pop3_reader_expect_body (&self->reader);
      return TRUE;
    }
  complete_head (self);
  return TRUE;
}

/* Back-pressure: the caller's output is slower than the server. Until it
 * catches up we wait for ourselves, not for the server. */
static void
pause_input (PbPop3Client *self)
{
  self->paused = TRUE;
  update_timer (self);
}

static void
process_input (PbPop3Client *self)
{
  g_autoptr(PbPop3Client) hold = g_object_ref (self);
  guint generation = self->generation;

  self->paused = FALSE;
  while (generation == self->generation)
    {
      Command *command = g_queue_peek_head (&self->in_flight);
      g_autoptr(GError) error = NULL;
      PbPop3ReaderEvent event;
      gsize used = 0;

      if (command != NULL && command->body_mode == BODY_STREAM)
        {
          if (command->body_done)
            {
              if (self->output_busy)
                {
                  pause_input (self);
                  return;
                }
              if (self->scratch->len > 0 && command->write_error == NULL &&
                  start_output_write (self, command))
                {
                  pause_input (self);
                  return;
                }
              g_byte_array_set_size (self->scratch, 0);
              complete_head (self);
              continue;
            }
          if (self->scratch->len >= OUTPUT_CHUNK_SIZE)
            {
              if (self->output_busy)
                {
                  /* Back-pressure: the disk is slower than the network. */
                  pause_input (self);
                  return;
                }
              (void) start_output_write (self, command);
            }
        }

      if (self->buffer_start == self->buffer_end)
        {
          if (command != NULL && command->body_mode == BODY_STREAM &&
              self->scratch->len > 0 && !self->output_busy)
            (void) start_output_write (self, command);
          break;
        }

      if (command == NULL)
        {
          /* RFC 1939 servers speak only when spoken to. Bytes nobody asked
           * for are at best garbage and at worst an attempt to inject
           * responses (for example right after +OK to STLS, before the
           * handshake: CVE-2011-0411 and its POP3 cousins). */
          fail_session_take (self,
                             g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL,
                                          _("The server %s sent data nobody asked for; "
                                            "the connection was closed for safety."),
                                          self->host),
                             TRUE);
          return;
        }

      event = pb_pop3_reader_feed (&self->reader, self->buffer + self->buffer_start,
                                   self->buffer_end - self->buffer_start, &used,
                                   self->scratch, &error);
      self->buffer_start += used;

      switch (event)
        {
        case PB_POP3_READER_NEED_MORE:
          break;

        case PB_POP3_READER_STATUS:
          handle_status (self, command);
          break;

        case PB_POP3_READER_DATA:
          if (command->body_mode == BODY_STREAM)
            {
              if (command->response->written + self->scratch->len > command->limit)
                {
                  fail_too_large (self, command);
                  return;
                }
              if (command->write_error != NULL)
                g_byte_array_set_size (self->scratch, 0);
            }
          else if (self->scratch->len > command->limit)
            {
              fail_too_large (self, command);
              return;
            }
          break;

        case PB_POP3_READER_END:
          if (command->body_mode == BODY_STREAM)
            command->body_done = TRUE;
          else
            {
              command->response->body = g_bytes_new (self->scratch->data, self->scratch->len);
              g_byte_array_set_size (self->scratch, 0);
              complete_head (self);
            }
          break;

        case PB_POP3_READER_ERROR:
        default:
          fail_session (self, error, TRUE);
          return;
        }
    }

  if (generation == self->generation)
    schedule_read (self);
}

/* ---- capabilities ---------------------------------------------------- */

static void
reset_capabilities (PbPop3Client *self)
{
  self->has_capa = FALSE;
  g_ptr_array_set_size (self->capabilities, 0);
  g_ptr_array_add (self->capabilities, NULL);
  g_ptr_array_set_size (self->sasl_mechanisms, 0);
  g_ptr_array_add (self->sasl_mechanisms, NULL);
  g_clear_pointer (&self->implementation, g_free);
  self->login_delay = -1;
  self->expire = -1;
}

static gint
parse_count (const char *text)
{
  guint64 value = 0;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 0, G_MAXINT, &value, NULL))
    return -1;
  return (gint) value;
}

/* RFC 2449 section 6. Each line is a capability name and arguments; we
 * keep the lines (made printable) and pick out the ones that change what
 * we do. */
static void
parse_capabilities (PbPop3Client *self,
                    GBytes       *body)
{
  gsize len = 0;
  const char *data = body ? g_bytes_get_data (body, &len) : NULL;
  g_autofree char *text = g_strndup (data ? data : "", len);
  g_auto(GStrv) lines = g_strsplit (text, "\n", -1);

  reset_capabilities (self);
  self->has_capa = TRUE;
  g_ptr_array_set_size (self->capabilities, 0);
  g_ptr_array_set_size (self->sasl_mechanisms, 0);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *line = pb_pop3_response_sanitize_full (lines[i], 1000);
      g_auto(GStrv) words = NULL;

      if (line[0] == '\0')
        continue;
      words = g_strsplit_set (line, " \t", -1);

      if (g_ascii_strcasecmp (words[0], "SASL") == 0)
        {
          for (guint j = 1; words[j] != NULL; j++)
            if (words[j][0] != '\0')
              g_ptr_array_add (self->sasl_mechanisms, g_ascii_strup (words[j], -1));
        }
      else if (g_ascii_strcasecmp (words[0], "IMPLEMENTATION") == 0)
        {
          g_free (self->implementation);
          /* A copy: stripping in place would shift the capability line. */
          self->implementation = g_strstrip (g_strdup (line + strlen ("IMPLEMENTATION")));
        }
      else if (g_ascii_strcasecmp (words[0], "LOGIN-DELAY") == 0)
        self->login_delay = parse_count (words[1]);
      else if (g_ascii_strcasecmp (words[0], "EXPIRE") == 0 && words[1] != NULL)
        self->expire = g_ascii_strcasecmp (words[1], "NEVER") == 0
                       ? G_MAXINT : parse_count (words[1]);

      g_ptr_array_add (self->capabilities, g_steal_pointer (&line));
    }
  g_ptr_array_add (self->capabilities, NULL);
  g_ptr_array_add (self->sasl_mechanisms, NULL);
}

static void
capa_async (PbPop3Client        *self,
            GCancellable        *cancellable,
            GAsyncReadyCallback  callback,
            gpointer             user_data)
{
  command_async (self, "CAPA", make_line ("CAPA"), COMMAND_EXCLUSIVE, BODY_COLLECT,
                 MAX_CAPA_SIZE, NULL, cancellable, callback, user_data);
}

/* RFC 2449 section 5: -ERR means an RFC 1939 server without CAPA. */
static gboolean
capa_finish (PbPop3Client  *self,
             GAsyncResult  *result,
             GError       **error)
{
  g_autoptr(Response) response = command_finish (self, result, error);

  if (response == NULL)
    return FALSE;
  if (response->status == PB_POP3_STATUS_OK)
    parse_capabilities (self, response->body);
  else
    reset_capabilities (self);
  return TRUE;
}

/* ---- connect ----------------------------------------------------------- */

static void connect_read_greeting (PbPop3Client *self);

static void
connect_fail (PbPop3Client *self,
              GError       *error)
{
  fail_session_take (self, error, TRUE);
}

/* A step of connecting may finish after the session already failed: a
 * reply's callback can run after later bytes of the same read (data nobody
 * asked for, the connection dropping) closed it. Then there is nothing
 * left to do; the connect task has its error. */
static gboolean
connect_failed_meanwhile (PbPop3Client *self)
{
  return self->connect_task == NULL || self->state == STATE_CLOSED;
}

static void
connect_done (PbPop3Client *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->connect_task);

  disconnect_connect_cancellable (self);
  self->state = STATE_AUTHORIZATION;
  g_task_return_boolean (task, TRUE);
}

static gboolean
on_accept_certificate (GTlsConnection       *connection,
                       GTlsCertificate      *peer_cert,
                       GTlsCertificateFlags  errors,
                       gpointer              user_data)
{
  PbPop3Client *self = user_data;
  GTlsCertificateFlags remaining = errors;

  g_clear_pointer (&self->tls_info, pb_pop3_tls_info_free);
  self->tls_info = pb_pop3_tls_info_new (peer_cert, errors);

  /* A pinned certificate is the one the person accepted, whoever signed
   * it and whatever name it carries. */
  if (self->pin != NULL && pb_pop3_tls_pin_matches (self->pin, self->tls_info->sha256))
    {
      self->tls_info->pinned = TRUE;
      self->certificate_pinned = TRUE;
      return TRUE;
    }

  /* The connection checked against the account's CA file; the system
   * store vouches too (the CA file is trusted in addition to it). Name and
   * dates are checked either way. */
  if (self->ca_database != NULL && (errors & G_TLS_CERTIFICATE_UNKNOWN_CA))
    {
      GSocketConnectable *identity = g_tls_client_connection_get_server_identity (G_TLS_CLIENT_CONNECTION (connection));
      g_autoptr(GTlsDatabase) system = g_tls_backend_get_default_database (g_tls_backend_get_default ());

      if (system != NULL)
        {
          remaining = g_tls_database_verify_chain (system, peer_cert,
                                                   G_TLS_DATABASE_PURPOSE_AUTHENTICATE_SERVER,
                                                   identity, NULL,
                                                   G_TLS_DATABASE_VERIFY_NONE, NULL, NULL);
          self->tls_info->errors = remaining;
        }
    }
  return remaining == 0;
}

static GError *
handshake_error (PbPop3Client *self,
                 GError       *error)
{
  if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE) &&
      self->tls_info != NULL)
    {
      g_autofree char *message = pb_pop3_tls_describe_rejection (self->tls_info, FALSE);

      return g_error_new_literal (PB_POP3_ERROR, PB_POP3_ERROR_CERTIFICATE, message);
    }
  if (g_error_matches (error, G_TLS_ERROR, G_TLS_ERROR_NOT_TLS))
    return g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_TLS,
                        _("The server %s did not answer with TLS. Check the port and "
                          "the security setting (port 995 is TLS, port 110 is "
                          "STARTTLS or none)."), self->host);
  /* A plain POP3 server on the port sends "+OK", which GnuTLS does not
   * always report as not TLS. After STLS the server does speak TLS. */
  if (self->security == PB_POP3_SECURITY_TLS)
    {
      g_autofree char *reason = g_strdup (error->message);
      gsize len = strlen (reason);

      if (len > 0 && reason[len - 1] == '.')
        reason[len - 1] = '\0';
      return g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_TLS,
                          _("A secure connection to %s could not be established (%s). "
                            "Check the port and the security setting (port 995 is TLS, "
                            "port 110 is STARTTLS or none)."),
                          self->host, reason);
    }
  return g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_TLS,
                      _("A secure connection to %s could not be established: %s"),
                      self->host, error->message);
}

static void
on_handshake_done (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(PbPop3Client) self = NULL;
  g_autoptr(GError) error = NULL;
  GTlsConnection *tls = G_TLS_CONNECTION (source);
  gboolean current;

  self = release_generation (user_data, &current);

  g_tls_connection_handshake_finish (tls, result, &error);
  if (!current)
    return;
  self->connecting = FALSE;
  made_progress (self);

  if (error != NULL)
    {
      connect_fail (self, handshake_error (self, error));
      return;
    }

  if (!self->certificate_pinned)
    {
      GTlsCertificate *peer = g_tls_connection_get_peer_certificate (tls);

      g_clear_pointer (&self->tls_info, pb_pop3_tls_info_free);
      self->tls_info = pb_pop3_tls_info_new (peer, 0);
      /* A certificate the system trusts is still not the pinned one: the
       * person asked for exactly that certificate. */
      if (self->pin != NULL && !pb_pop3_tls_pin_matches (self->pin, self->tls_info->sha256))
        {
          g_autofree char *message = pb_pop3_tls_describe_rejection (self->tls_info, TRUE);

          connect_fail (self, g_error_new_literal (PB_POP3_ERROR,
                                                   PB_POP3_ERROR_CERTIFICATE, message));
          return;
        }
      self->tls_info->pinned = self->pin != NULL;
    }
  pb_pop3_tls_info_set_connection (self->tls_info, tls);

  g_clear_object (&self->stream);
  self->stream = G_IO_STREAM (g_object_ref (tls));
  self->input = g_io_stream_get_input_stream (self->stream);
  self->output = g_io_stream_get_output_stream (self->stream);

  if (self->security == PB_POP3_SECURITY_TLS)
    connect_read_greeting (self);
  else
    {
      starttls_capa (self);
    }
}

/* With a CA file, the connection checks against it first, so the system
 * store (parsing every CA of the system, about 60 ms) is only loaded when
 * the CA file does not vouch for the server (on_accept_certificate). Without
 * one, GIO uses the system store, loaded once per process. */
static GIOStream *
new_tls_connection (PbPop3Client        *self,
                    GSocketConnectable  *identity,
                    GError             **error)
{
  GTlsBackend *backend = g_tls_backend_get_default ();

  if (self->ca_database == NULL)
    return g_tls_client_connection_new (G_IO_STREAM (self->connection), identity, error);
  return g_initable_new (g_tls_backend_get_client_connection_type (backend), NULL, error,
                         "base-io-stream", self->connection,
                         "server-identity", identity,
                         "database", self->ca_database,
                         NULL);
}

static void
start_tls (PbPop3Client *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnectable) identity = NULL;
  g_autoptr(GIOStream) tls = NULL;

  /* The server identity is always set, so the certificate is checked
   * against the host name the person typed. */
  identity = g_network_address_new (self->host, self->port);
  tls = new_tls_connection (self, identity, &error);
  if (tls == NULL)
    {
      connect_fail (self, g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_TLS,
                                       _("TLS is not available on this computer (%s). "
                                         "Install glib-networking."), error->message));
      return;
    }
  /* POP3 frames its own data; a missing close_notify at the end tells us
   * nothing a truncated response would not. */
  g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (tls), FALSE);
  g_signal_connect_object (tls, "accept-certificate",
                           G_CALLBACK (on_accept_certificate), self, 0);

  self->certificate_pinned = FALSE;
  self->connecting = TRUE;
  update_timer (self);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT,
                                    self->io_cancellable, on_handshake_done,
                                    hold_generation (self));
}

/* The handshake starts once prepare_tls() is done, which it almost always
 * is by the time TCP connected (or STLS was answered). */
static void
start_tls_when_ready (PbPop3Client *self)
{
  if (!self->tls_prepared)
    {
      self->tls_waiting = TRUE;
      self->connecting = TRUE;  /* the connect timeout covers the wait */
      update_timer (self);
      return;
    }
  start_tls (self);
}

static void
on_tls_prepared (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(PbPop3Client) self = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsDatabase) database = NULL;
  gboolean current;

  self = release_generation (user_data, &current);

  database = g_task_propagate_pointer (G_TASK (result), &error);
  if (!current || connect_failed_meanwhile (self))
    return;
  if (error != NULL && error->domain == PB_POP3_ERROR)
    {
      connect_fail (self, g_steal_pointer (&error));
      return;
    }
  if (error != NULL)
    {
      connect_fail (self, g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_CERTIFICATE,
                                       _("Could not read the CA file %s: %s"),
                                       self->ca_file, error->message));
      return;
    }
  self->ca_database = g_steal_pointer (&database);
  self->tls_prepared = TRUE;
  if (self->tls_waiting)
    {
      self->tls_waiting = FALSE;
      start_tls (self);
    }
}

/* GIO loads its TLS module lazily: it opens it to register its types,
 * closes it, and opens it again to make the backend, so GnuTLS and the five
 * libraries under it are loaded, set up and unloaded once for nothing,
 * about a third of the TLS set-up time. Holding the module open for the
 * life of the process keeps them in memory between the two. If the module
 * is elsewhere or another backend is in use, this does nothing. */
static void
keep_tls_module_loaded (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      const char *dir = g_getenv ("GIO_MODULE_DIR");
      g_autofree char *path = g_build_filename (dir != NULL ? dir : PB_GIO_MODULE_DIR,
                                                "libgiognutls.so", NULL);
      GModule *module = g_module_open (path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);

      if (module != NULL)
        g_module_make_resident (module);
      g_once_init_leave (&done, 1);
    }
}

static void
prepare_tls_in_thread (GTask        *task,
                       gpointer      source_object,
                       gpointer      task_data,
                       GCancellable *cancellable)
{
  const char *ca_file = task_data;
  GTlsDatabase *database;
  GError *error = NULL;

  keep_tls_module_loaded ();
  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_task_return_new_error (task, PB_POP3_ERROR, PB_POP3_ERROR_TLS,
                               _("TLS is not available on this computer. Install glib-networking."));
      return;
    }
  if (ca_file == NULL)
    {
      g_task_return_pointer (task, NULL, NULL);
      return;
    }
  database = g_tls_file_database_new (ca_file, &error);
  if (database == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, database, g_object_unref);
}

/* Loading GIO's TLS backend (a module scan, the dlopen of GnuTLS and its
 * set-up) and reading the CA file take about 10 ms, nearly all of it in the
 * first connection of a process. A worker thread does it while TCP
 * connects, so that the main loop, where the keyring lookup and the other
 * accounts' sessions run, is not held up. */
static void
prepare_tls (PbPop3Client *self)
{
  g_autoptr(GTask) task = NULL;

  self->tls_prepared = self->tls_waiting = FALSE;
  g_clear_object (&self->ca_database);
  if (self->security == PB_POP3_SECURITY_NONE)
    return;

  task = g_task_new (NULL, NULL, on_tls_prepared, hold_generation (self));
  g_task_set_source_tag (task, prepare_tls);
  g_task_set_task_data (task, g_strdup (self->ca_file), g_free);
  g_task_run_in_thread (task, prepare_tls_in_thread);
}

static void
on_capa_after_tls (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(PbPop3Client) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!capa_finish (self, result, &error))
    return; /* the session failed, and the connect task with it */
  if (connect_failed_meanwhile (self))
    return;
  connect_done (self);
}

/* RFC 2595 section 4: forget what was learned before TLS and ask again; a
 * man in the middle may have edited it. */
static void
starttls_capa (PbPop3Client *self)
{
  reset_capabilities (self);
  capa_async (self, NULL, on_capa_after_tls, g_object_ref (self));
}

static void
on_stls_done (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(PbPop3Client) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(Response) response = command_finish (self, result, &error);

  if (response == NULL || connect_failed_meanwhile (self))
    return;
  if (response->status != PB_POP3_STATUS_OK)
    {
      g_autofree char *said = pb_pop3_response_sanitize (response->text);

      connect_fail (self, g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_STARTTLS_UNAVAILABLE,
                                       _("The server %s refused to start TLS (server said: "
                                         "%s). Nothing was sent unencrypted; choose "
                                         "security “tls” or ask the provider."),
                                       self->host, said));
      return;
    }
  /* Anything already read past the +OK came before the handshake, in
   * clear, and would be taken as a response under TLS. */
  if (self->buffer_start < self->buffer_end)
    {
      connect_fail (self, g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL,
                                       _("The server %s sent data between agreeing to "
                                         "STARTTLS and starting it, which could be an "
                                         "attack; the connection was closed."),
                                       self->host));
      return;
    }
  start_tls_when_ready (self);
}

static void
on_capa_before_tls (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(PbPop3Client) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!capa_finish (self, result, &error) || connect_failed_meanwhile (self))
    return;

  if (self->security != PB_POP3_SECURITY_STARTTLS)
    {
      connect_done (self);
      return;
    }
  /* Never fall back to plaintext (fetchmail's CVE-2006-5867). */
  if (!has_capability (self, "STLS"))
    {
      connect_fail (self, g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_STARTTLS_UNAVAILABLE,
                                       _("The server %s does not offer STARTTLS, so the "
                                         "connection cannot be encrypted. Nothing was sent; "
                                         "choose security “tls” (port 995) or ask the "
                                         "provider."), self->host));
      return;
    }
  command_async (self, "STLS", make_line ("STLS"), COMMAND_EXCLUSIVE, BODY_NONE, 0,
                 NULL, NULL, on_stls_done, g_object_ref (self));
}

/* RFC 1939 section 7: an APOP-capable greeting carries a msg-id style
 * timestamp, "<...@...>". */
static char *
find_apop_timestamp (const char *greeting)
{
  const char *open = strchr (greeting, '<');
  const char *close = open ? strchr (open, '>') : NULL;

  if (open == NULL || close == NULL || close - open < 3)
    return NULL;
  for (const char *p = open + 1; p < close; p++)
    if ((guchar) *p < 0x21 || (guchar) *p > 0x7e || *p == '<')
      return NULL;
  return g_strndup (open, (gsize) (close - open + 1));
}

static void
on_greeting (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(PbPop3Client) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(Response) response = command_finish (self, result, &error);

  if (response == NULL)
    return;
  if (response->status != PB_POP3_STATUS_OK)
    {
      connect_fail (self, pb_pop3_response_error (response->text, PB_POP3_RESPONSE_GREETING,
                                                  NULL, FALSE, &self->retry_after));
      return;
    }
  g_free (self->greeting);
  self->greeting = pb_pop3_response_sanitize (response->text);
  g_free (self->apop_timestamp);
  self->apop_timestamp = find_apop_timestamp (response->text);

  capa_async (self, NULL, on_capa_before_tls, g_object_ref (self));
}

/* The greeting is a response to no command: it goes straight to the
 * in-flight queue. */
static void
connect_read_greeting (PbPop3Client *self)
{
  Command *command = g_new0 (Command, 1);

  command->name = g_strdup ("greeting");
  command->body_mode = BODY_NONE;
  command->task = g_task_new (self, NULL, on_greeting, g_object_ref (self));
  g_task_set_source_tag (command->task, connect_read_greeting);
  command->response = g_new0 (Response, 1);
  g_queue_push_tail (&self->in_flight, command);
  schedule_read (self);
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(PbPop3Client) self = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  gboolean current;

  self = release_generation (user_data, &current);

  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);
  if (!current)
    return;
  self->connecting = FALSE;
  made_progress (self);

  if (connection == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        connect_fail (self, g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_TIMEOUT,
                                         _("Could not connect to %s within %u seconds. "
                                           "Check the host name, the port and your "
                                           "network connection."),
                                         self->host, self->timeout));
      else
        /* GSocketClient's message already names the host and the reason
         * ("Could not connect to host: Connection refused"). */
        connect_fail (self, g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_NETWORK,
                                         _("%s (port %u). Check the host name, the port "
                                           "and your network connection."),
                                         error->message, self->port));
      return;
    }

  self->connection = g_steal_pointer (&connection);
  self->stream = G_IO_STREAM (g_object_ref (self->connection));
  if (self->security == PB_POP3_SECURITY_TLS)
    start_tls_when_ready (self);
  else
    {
      self->input = g_io_stream_get_input_stream (self->stream);
      self->output = g_io_stream_get_output_stream (self->stream);
      connect_read_greeting (self);
    }
}

void
pb_pop3_client_connect_async (PbPop3Client        *self,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketConnectable) address = NULL;
  g_autofree char *normalized_pin = NULL;

  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pb_pop3_client_connect_async);

  if (self->state != STATE_CLOSED)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               _("The session is already connected."));
      return;
    }
  normalized_pin = pb_pop3_tls_normalize_pin (self->pin);
  if (self->pin != NULL && normalized_pin == NULL)
    {
      g_task_return_new_error (task, PB_POP3_ERROR, PB_POP3_ERROR_CERTIFICATE,
                               _("The pinned fingerprint “%s” is not a SHA-256 "
                                 "fingerprint (64 hexadecimal digits)."), self->pin);
      return;
    }

  /* Forget the last session. */
  g_clear_pointer (&self->greeting, g_free);
  g_clear_pointer (&self->apop_timestamp, g_free);
  g_clear_pointer (&self->auth_mechanism, g_free);
  g_clear_pointer (&self->tls_info, pb_pop3_tls_info_free);
  reset_capabilities (self);
  self->retry_after = -1;
  pb_pop3_reader_clear (&self->reader);
  pb_pop3_reader_init (&self->reader, PB_POP3_READER_DEFAULT_MAX_STATUS);
  g_byte_array_set_size (self->scratch, 0);
  self->buffer_start = self->buffer_end = 0;

  self->generation++;
  self->state = STATE_CONNECTING;
  self->io_cancellable = g_cancellable_new ();
  self->connect_task = g_steal_pointer (&task);
  if (cancellable != NULL)
    {
      self->connect_cancellable = g_object_ref (cancellable);
      self->connect_cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled),
                                                       self, NULL);
    }

  prepare_tls (self);
  client = g_socket_client_new ();
  g_socket_client_set_timeout (client, self->timeout);
  /* Mail goes straight to the server: a desktop's HTTP proxy settings are
   * not meant for POP3. */
  g_socket_client_set_enable_proxy (client, FALSE);
  address = g_network_address_new (self->host, self->port);

  self->connecting = TRUE;
  update_timer (self);
  g_socket_client_connect_async (client, address, self->io_cancellable, on_connected,
                                 hold_generation (self));
}

gboolean
pb_pop3_client_connect_finish (PbPop3Client  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (PB_IS_POP3_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- authentication ---------------------------------------------------- */

typedef struct {
  char             *user;
  char             *secret;     /* wiped on free */
  PbPop3AuthMethod  method;
  char             *mechanism;  /* "USER", "APOP", or the SASL name */
  PbPop3Sasl       *sasl;
  char             *deferred;   /* an initial response too long for AUTH */
  gboolean          user_sent;  /* USER got +OK; PASS is next */
  GError           *local_error;/* a SASL step failed; "*" was sent */
} AuthData;

static void
auth_data_free (AuthData *data)
{
  g_free (data->user);
  wipe_and_free (data->secret);
  g_free (data->mechanism);
  g_clear_pointer (&data->sasl, pb_pop3_sasl_free);
  wipe_and_free (data->deferred);
  g_clear_error (&data->local_error);
  g_free (data);
}

static gboolean
offers_sasl (PbPop3Client *self,
             const char   *mechanism)
{
  for (guint i = 0; i + 1 < self->sasl_mechanisms->len; i++)
    if (g_ascii_strcasecmp (g_ptr_array_index (self->sasl_mechanisms, i), mechanism) == 0)
      return TRUE;
  return FALSE;
}

static const char *
sasl_name (PbPop3AuthMethod method)
{
  switch (method)
    {
    case PB_POP3_AUTH_PLAIN: return "PLAIN";
    case PB_POP3_AUTH_LOGIN: return "LOGIN";
    case PB_POP3_AUTH_CRAM_MD5: return "CRAM-MD5";
    case PB_POP3_AUTH_SCRAM_SHA_256: return "SCRAM-SHA-256";
    case PB_POP3_AUTH_XOAUTH2: return "XOAUTH2";
    case PB_POP3_AUTH_OAUTHBEARER: return "OAUTHBEARER";
    case PB_POP3_AUTH_AUTO:
    case PB_POP3_AUTH_USER:
    case PB_POP3_AUTH_APOP:
    default: return NULL;
    }
}

/* Which mechanism to use, or NULL with an error. `auto` takes the strongest
 * the server offers. It sends a password in clear (PLAIN, LOGIN, USER) only
 * over an encrypted link, or when the person chose security "none"
 * explicitly (DESIGN.md: "never plaintext over an unencrypted connection
 * unless security is none"); even then a challenge-response mechanism the
 * server offers comes first. An explicit choice is honoured as long as the
 * server could plausibly do it. */
static char *
choose_mechanism (PbPop3Client      *self,
                  PbPop3AuthMethod   method,
                  GError           **error)
{
  static const PbPop3AuthMethod preference[] = {
    PB_POP3_AUTH_SCRAM_SHA_256, PB_POP3_AUTH_CRAM_MD5,
    PB_POP3_AUTH_PLAIN, PB_POP3_AUTH_LOGIN,
  };
  gboolean clear_ok = is_encrypted (self) || self->security == PB_POP3_SECURITY_NONE;

  switch (method)
    {
    case PB_POP3_AUTH_AUTO:
      for (guint i = 0; i < G_N_ELEMENTS (preference); i++)
        {
          gboolean in_clear = preference[i] == PB_POP3_AUTH_PLAIN ||
                              preference[i] == PB_POP3_AUTH_LOGIN;

          if (offers_sasl (self, sasl_name (preference[i])) && (clear_ok || !in_clear))
            return g_strdup (sasl_name (preference[i]));
        }
      /* USER is RFC 1939's baseline; a server without CAPA has it. */
      if (clear_ok && (!self->has_capa || has_capability (self, "USER") ||
                       self->sasl_mechanisms->len <= 1))
        return g_strdup ("USER");
      if (!clear_ok)
        g_set_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH_UNAVAILABLE,
                     _("The server %s only accepts passwords sent in clear, and the "
                       "connection is not encrypted. Use security “tls” or "
                       "“starttls”, or choose an authentication method explicitly "
                       "if you accept the risk."), self->host);
      else
        g_set_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH_UNAVAILABLE,
                     _("The server %s offers no login method Popbiff knows."),
                     self->host);
      return NULL;

    case PB_POP3_AUTH_USER:
      return g_strdup ("USER");

    case PB_POP3_AUTH_APOP:
      if (self->apop_timestamp == NULL)
        {
          g_set_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH_UNAVAILABLE,
                       _("The server %s does not offer APOP (its greeting has no "
                         "timestamp). Choose another authentication method."),
                       self->host);
          return NULL;
        }
      return g_strdup ("APOP");

    case PB_POP3_AUTH_PLAIN:
    case PB_POP3_AUTH_LOGIN:
    case PB_POP3_AUTH_CRAM_MD5:
    case PB_POP3_AUTH_SCRAM_SHA_256:
    case PB_POP3_AUTH_XOAUTH2:
    case PB_POP3_AUTH_OAUTHBEARER:
    default:
      if (self->has_capa && !offers_sasl (self, sasl_name (method)))
        {
          g_set_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH_UNAVAILABLE,
                       _("The server %s does not offer the %s login method. Choose "
                         "another one, or “auto”."), self->host, sasl_name (method));
          return NULL;
        }
      return g_strdup (sasl_name (method));
    }
}

static void auth_send (GTask *task, const char *name, char *line, CommandFlags extra);

static void
auth_succeeded (GTask *task)
{
  PbPop3Client *self = g_task_get_source_object (task);
  AuthData *data = g_task_get_task_data (task);

  g_free (self->auth_mechanism);
  self->auth_mechanism = g_strdup (data->mechanism);
  self->state = STATE_TRANSACTION;
  g_debug ("logged in to %s with %s", self->host, data->mechanism);

  /* RFC 2449 section 5: capabilities may differ after login. A server
   * that had no CAPA before has none now. */
  if (self->has_capa)
    {
      capa_after_login (task);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
on_capa_after_login (GObject      *source,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PbPop3Client *self = g_task_get_source_object (task);
  GError *error = NULL;

  if (!capa_finish (self, result, &error))
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
capa_after_login (GTask *task)
{
  PbPop3Client *self = g_task_get_source_object (task);

  capa_async (self, g_task_get_cancellable (task), on_capa_after_login, g_object_ref (task));
}

static void
auth_failed (GTask  *task,
             GError *error)
{
  PbPop3Client *self = g_task_get_source_object (task);

  if (self->state == STATE_AUTHENTICATING)
    self->state = STATE_AUTHORIZATION;
  g_task_return_error (task, error);
}

static GError *
login_error (PbPop3Client *self,
             AuthData     *data,
             Response     *response)
{
  GError *error = pb_pop3_response_error (response->text, PB_POP3_RESPONSE_LOGIN, data->mechanism,
                                          has_capability (self, "AUTH-RESP-CODE"),
                                          &self->retry_after);

  if (error->code == PB_POP3_ERROR_LOGIN_DELAY && self->retry_after < 0)
    self->retry_after = self->login_delay;
  /* "auto" took a challenge-response method because the server announces
   * it, but a server that keeps passwords hashed (Dovecot with
   * SHA512-CRYPT, say) cannot check one however it is configured to
   * announce: the password may well be right. Name the method and the
   * way out, not only the password. */
  if (error->code == PB_POP3_ERROR_AUTH && data->method == PB_POP3_AUTH_AUTO &&
      (g_str_equal (data->mechanism, "CRAM-MD5") || g_str_equal (data->mechanism, "SCRAM-SHA-256")))
    {
      GError *named = g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_AUTH,
                                   _("%s Popbiff tried %s, the strongest login method the "
                                     "server offers; if the password is right, the server may "
                                     "not support %s for this account: choose the "
                                     "authentication method “plain” instead of “auto”."),
                                   error->message, data->mechanism, data->mechanism);

      g_error_free (error);
      error = named;
    }
  /* A bearer mechanism's error challenge said why (RFC 7628 section
   * 3.2.2); there is no password to check, only the token. */
  if (data->sasl != NULL && pb_pop3_sasl_get_server_error (data->sasl) != NULL)
    {
      g_autofree char *reason = pb_pop3_response_sanitize (pb_pop3_sasl_get_server_error (data->sasl));

      if (error->code == PB_POP3_ERROR_AUTH)
        {
          g_autofree char *said = pb_pop3_response_sanitize (response->text);

          g_clear_error (&error);
          error = g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_AUTH,
                               _("The access token was refused (%s); get a new one from "
                                 "the mail provider and try again (server said: %s)"),
                               reason, said);
        }
      else
        g_prefix_error (&error, _("The token was refused (%s). "), reason);
    }
  return error;
}

static void
on_auth_response (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PbPop3Client *self = g_task_get_source_object (task);
  AuthData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(Response) response = command_finish (self, result, &error);

  if (response == NULL)
    {
      auth_failed (task, error);
      return;
    }

  switch (response->status)
    {
    case PB_POP3_STATUS_OK:
      if (data->local_error != NULL)
        {
          /* We cancelled with "*" and the server said +OK anyway. */
          auth_failed (task, g_steal_pointer (&data->local_error));
          return;
        }
      if (data->sasl != NULL && pb_pop3_sasl_needs_completion (data->sasl) &&
          !pb_pop3_sasl_is_complete (data->sasl))
        {
          auth_failed (task, g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_AUTH,
                                          _("The server %s accepted the login without "
                                            "proving it knows the password (%s); it may "
                                            "not be the server it claims to be."),
                                          self->host, data->mechanism));
          return;
        }
      if (g_str_equal (data->mechanism, "USER") && !data->user_sent)
        {
          /* +OK to USER: now the password. */
          data->user_sent = TRUE;
          auth_send (task, "PASS", make_line ("PASS %s", data->secret), COMMAND_SENSITIVE);
          return;
        }
      auth_succeeded (task);
      return;

    case PB_POP3_STATUS_CONTINUE:
      if (data->sasl == NULL || data->local_error != NULL)
        {
          auth_failed (task, g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL,
                                          _("The server %s sent a login challenge where "
                                            "none belongs."), self->host));
          return;
        }
      if (data->deferred != NULL)
        {
          char *line = g_strconcat (data->deferred, "\r\n", NULL);

          g_clear_pointer (&data->deferred, wipe_and_free);
          auth_send (task, "AUTH", line, COMMAND_SENSITIVE);
          return;
        }
      {
        char *reply = NULL;

        if (!pb_pop3_sasl_step (data->sasl, response->text, &reply, &data->local_error))
          {
            /* RFC 5034 section 4: "*" cancels; the server answers -ERR. */
            auth_send (task, "AUTH", g_strdup ("*\r\n"), 0);
            return;
          }
        auth_send (task, "AUTH", g_strconcat (reply, "\r\n", NULL), COMMAND_SENSITIVE);
        pb_pop3_sasl_free_response (reply);
      }
      return;

    case PB_POP3_STATUS_ERR:
    case PB_POP3_STATUS_INVALID:
    default:
      if (data->local_error != NULL)
        auth_failed (task, g_steal_pointer (&data->local_error));
      else
        auth_failed (task, login_error (self, data, response));
      return;
    }
}

static void
auth_send (GTask        *task,
           const char   *name,
           char         *line,
           CommandFlags  extra)
{
  PbPop3Client *self = g_task_get_source_object (task);

  command_async (self, name, line, COMMAND_EXCLUSIVE | extra, BODY_NONE, 0, NULL,
                 g_task_get_cancellable (task), on_auth_response, g_object_ref (task));
}

static void
auth_start_sasl (GTask *task)
{
  PbPop3Client *self = g_task_get_source_object (task);
  AuthData *data = g_task_get_task_data (task);
  GError *error = NULL;
  char *initial = NULL;
  char *line;

  data->sasl = pb_pop3_sasl_new (data->mechanism, data->user, data->secret,
                                 self->host, self->port, &error);
  if (data->sasl == NULL)
    {
      auth_failed (task, error);
      return;
    }
  if (!pb_pop3_sasl_client_first (data->sasl))
    {
      auth_send (task, "AUTH", make_line ("AUTH %s", data->mechanism), 0);
      return;
    }
  if (!pb_pop3_sasl_step (data->sasl, NULL, &initial, &error))
    {
      auth_failed (task, error);
      return;
    }
  /* RFC 5034 section 4: "=" stands for an empty initial response; one
   * that would make the command longer than 255 octets goes in the first
   * continuation instead. */
  line = g_strdup_printf ("AUTH %s %s\r\n", data->mechanism, initial[0] ? initial : "=");
  if (strlen (line) > MAX_AUTH_LINE)
    {
      wipe_and_free (line);
      data->deferred = g_steal_pointer (&initial);
      auth_send (task, "AUTH", make_line ("AUTH %s", data->mechanism), 0);
      return;
    }
  pb_pop3_sasl_free_response (initial);
  auth_send (task, "AUTH", line, COMMAND_SENSITIVE);
}

void
pb_pop3_client_authenticate_async (PbPop3Client        *self,
                                   const char          *user,
                                   const char          *secret,
                                   PbPop3AuthMethod     method,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  AuthData *data;

  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  g_return_if_fail (user != NULL);
  g_return_if_fail (secret != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pb_pop3_client_authenticate_async);

  /* A CR or LF would end the command early and let the rest be read as
   * another command (Camel rejects them too). */
  if (strpbrk (user, "\r\n") != NULL || strpbrk (secret, "\r\n") != NULL)
    {
      gboolean bearer = method == PB_POP3_AUTH_XOAUTH2 || method == PB_POP3_AUTH_OAUTHBEARER;

      g_task_return_new_error (task, PB_POP3_ERROR, PB_POP3_ERROR_INVALID_CREDENTIALS, "%s",
                               bearer ? _("The user name or access token contains a line "
                                          "break, which cannot be sent to a POP3 server. "
                                          "Check them.")
                                      : _("The user name or password contains a line break, "
                                          "which cannot be sent to a POP3 server. Check them."));
      return;
    }
  if (self->state != STATE_AUTHORIZATION)
    {
      g_task_return_new_error (task, PB_POP3_ERROR, PB_POP3_ERROR_CLOSED,
                               self->state == STATE_TRANSACTION
                               ? _("The session is already logged in.")
                               : _("The session is not connected."));
      return;
    }

  data = g_new0 (AuthData, 1);
  data->user = g_strdup (user);
  data->secret = g_strdup (secret);
  data->method = method;
  g_task_set_task_data (task, data, (GDestroyNotify) auth_data_free);

  data->mechanism = choose_mechanism (self, method, &error);
  if (data->mechanism == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  self->state = STATE_AUTHENTICATING;
  self->retry_after = -1;
  if (g_str_equal (data->mechanism, "USER"))
    auth_send (task, "USER", make_line ("USER %s", data->user), 0);
  else if (g_str_equal (data->mechanism, "APOP"))
    {
      g_autofree char *salted = g_strconcat (self->apop_timestamp, data->secret, NULL);
      g_autofree char *digest = g_compute_checksum_for_string (G_CHECKSUM_MD5, salted, -1);

      memset (salted, 0, strlen (salted));
      auth_send (task, "APOP", make_line ("APOP %s %s", data->user, digest), COMMAND_SENSITIVE);
    }
  else
    auth_start_sasl (task);
}

gboolean
pb_pop3_client_authenticate_finish (PbPop3Client  *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (PB_IS_POP3_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- transaction commands ---------------------------------------------- */

typedef enum {
  OP_STAT,
  OP_LIST,
  OP_UIDL,
  OP_UIDL_ONE,
  OP_TOP,
  OP_RETR,
  OP_SIMPLE,  /* DELE, RSET, NOOP */
  OP_QUIT,
} OpKind;

typedef struct {
  OpKind  kind;
  char   *name;
  guint   number;
} OpData;

static void
op_data_free (OpData *data)
{
  g_free (data->name);
  g_free (data);
}

static GError *
protocol_error (PbPop3Client *self,
                const char   *name)
{
  return g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL,
                      _("The server %s sent a malformed answer to %s."),
                      self->host, name);
}

/* The words of a response line; runs of spaces or tabs count as one
 * separator, since some servers pad their columns. */
static GStrv
split_words (const char *line)
{
  g_auto(GStrv) parts = g_strsplit_set (line, " \t", -1);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0')
      g_strv_builder_add (builder, parts[i]);
  return g_strv_builder_end (builder);
}

static gboolean
parse_uint (const char *text,
            guint64     max,
            guint64    *out)
{
  return text != NULL && g_ascii_string_to_unsigned (text, 10, 0, max, out, NULL);
}

/* A word of a listing line: where it starts and how long it is. */
typedef struct {
  const char *text;
  gsize       len;
} Word;

static gboolean
is_blank (char c)
{
  return c == ' ' || c == '\t';
}

/* Splits [p, end) at spaces and tabs, after trailing white space (the CR)
 * is dropped, into at most @max words; returns how many
 * there are, or @max + 1 when there are more. No copies: a UIDL listing
 * of a big mailbox has tens of thousands of lines. */
static guint
split_line (const char *p,
            const char *end,
            Word       *words,
            guint       max)
{
  guint n = 0;

  while (end > p && g_ascii_isspace (end[-1]))
    end--;
  for (;;)
    {
      while (p < end && is_blank (*p))
        p++;
      if (p == end)
        return n;
      if (n == max)
        return max + 1;
      words[n].text = p;
      while (p < end && !is_blank (*p))
        p++;
      words[n].len = (gsize) (p - words[n].text);
      n++;
    }
}

static gboolean
parse_word_uint (const Word *word,
                 guint64     max,
                 guint64    *out)
{
  char digits[24];

  if (word->len >= sizeof digits)
    return FALSE;
  memcpy (digits, word->text, word->len);
  digits[word->len] = '\0';
  return parse_uint (digits, max, out);
}

static GError *
invalid_uidl_error (PbPop3Client *self,
                    guint         number)
{
  return g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL,
                      _("The server %s sent an invalid unique message identifier (UIDL) "
                        "for message %u: empty, longer than %u bytes, or holding spaces "
                        "or control characters."),
                      self->host, number, (guint) PB_POP3_UIDL_MAX);
}

static GPtrArray *
parse_listing (PbPop3Client  *self,
               GBytes        *body,
               gboolean       uidl,
               GError       **error)
{
  g_autoptr(GPtrArray) result = g_ptr_array_new_with_free_func ((GDestroyNotify) pb_pop3_listing_free);
  gsize len = 0;
  const char *data = body ? g_bytes_get_data (body, &len) : NULL;
  const char *end = data + len;
  guint64 previous = 0;

  for (const char *p = data; p != NULL && p < end;)
    {
      const char *nl = memchr (p, '\n', (gsize) (end - p));
      const char *stop = nl ? nl : end;
      PbPop3Listing *listing;
      guint64 number = 0, size = 0;
      Word words[2];
      guint count;

      count = split_line (p, stop, words, G_N_ELEMENTS (words));
      p = nl ? nl + 1 : end;
      if (count == 0)
        continue;
      /* RFC 1939 sections 5 and 7: "msg octets" and "msg unique-id";
       * extra words are tolerated after the size, never after a UIDL. */
      if (count < 2 || !parse_word_uint (&words[0], G_MAXUINT, &number) || number == 0)
        {
          g_propagate_error (error, protocol_error (self, uidl ? "UIDL" : "LIST"));
          return NULL;
        }
      /* One line per message, in order (numbers may skip messages marked
       * deleted). A number twice or going back would leave two lines
       * claiming one message, and RETR and DELE name messages by number. */
      if (number <= previous)
        {
          g_set_error (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL,
                       _("The server %s listed message %u out of order in its answer "
                         "to %s; it does not follow POP3."),
                       self->host, (guint) number, uidl ? "UIDL" : "LIST");
          return NULL;
        }
      previous = number;
      listing = g_new0 (PbPop3Listing, 1);
      listing->number = (guint) number;
      g_ptr_array_add (result, listing);
      if (uidl)
        {
          if (count <= 2)
            listing->uidl = pb_pop3_uidl_to_key (words[1].text, words[1].len);
          if (listing->uidl == NULL)
            {
              g_propagate_error (error, invalid_uidl_error (self, listing->number));
              return NULL;
            }
        }
      else
        {
          if (!parse_word_uint (&words[1], G_MAXUINT64, &size))
            {
              g_propagate_error (error, protocol_error (self, "LIST"));
              return NULL;
            }
          listing->size = size;
        }
    }
  return g_steal_pointer (&result);
}

static void
on_op_response (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  PbPop3Client *self = g_task_get_source_object (task);
  OpData *op = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(Response) response = command_finish (self, result, &error);

  if (response == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  if (op->kind == OP_QUIT)
    {
      close_connection (self);
      if (response->status != PB_POP3_STATUS_OK)
        {
          g_autofree char *said = pb_pop3_response_sanitize (response->text);

          g_task_return_new_error (task, PB_POP3_ERROR, PB_POP3_ERROR_SERVER,
                                   _("The server %s did not confirm the end of the "
                                     "session; deletions may not have taken effect "
                                     "(server said: %s)"), self->host, said);
          return;
        }
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (response->status != PB_POP3_STATUS_OK)
    {
      GError *refused = pb_pop3_response_error (response->text, PB_POP3_RESPONSE_COMMAND,
                                                op->name, FALSE, &self->retry_after);

      /* A plain -ERR (no response code saying "later" or "locked") to a
       * TOP or UIDL n the server did not list means it lacks the command:
       * a server without CAPA could not say, and one whose CAPA omits it
       * said so; to a listed one it concerns that message. The whole
       * UIDL listing has no message to fail for: a plain -ERR to it
       * means the server will not give UIDLs, listed or not (servers list
       * what they have switched off). The caller falls back (op_start()
       * explains why it asked anyway). */
      if (g_error_matches (refused, PB_POP3_ERROR, PB_POP3_ERROR_SERVER) &&
          (op->kind == OP_UIDL ||
           ((op->kind == OP_TOP || op->kind == OP_UIDL_ONE) &&
            !has_capability (self, op->kind == OP_TOP ? "TOP" : "UIDL"))))
        {
          g_autofree char *said = pb_pop3_response_sanitize (response->text);

          g_error_free (refused);
          g_task_return_new_error (task, PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED,
                                   _("The server %s does not support %s (server said: %s)"),
                                   self->host, op->name, said);
          return;
        }
      g_task_return_error (task, refused);
      return;
    }

  switch (op->kind)
    {
    case OP_STAT:
      {
        g_auto(GStrv) words = split_words (response->text);
        guint64 count = 0, size = 0;
        guint64 *values;

        if (words[0] == NULL || words[1] == NULL ||
            !parse_uint (words[0], G_MAXUINT, &count) ||
            !parse_uint (words[1], G_MAXUINT64, &size))
          {
            g_task_return_error (task, protocol_error (self, "STAT"));
            return;
          }
        values = g_new (guint64, 2);
        values[0] = count;
        values[1] = size;
        g_task_return_pointer (task, values, g_free);
      }
      return;

    case OP_LIST:
    case OP_UIDL:
      {
        GPtrArray *listing = parse_listing (self, response->body, op->kind == OP_UIDL, &error);

        if (listing == NULL)
          g_task_return_error (task, error);
        else
          g_task_return_pointer (task, listing, (GDestroyNotify) g_ptr_array_unref);
      }
      return;

    case OP_UIDL_ONE:
      {
        g_auto(GStrv) words = split_words (response->text);
        guint64 number = 0;
        char *key;

        if (words[0] == NULL || words[1] == NULL ||
            !parse_uint (words[0], G_MAXUINT, &number) || number != op->number)
          {
            g_task_return_error (task, protocol_error (self, "UIDL"));
            return;
          }
        key = words[2] == NULL ? pb_pop3_uidl_to_key (words[1], strlen (words[1])) : NULL;
        if (key == NULL)
          {
            g_task_return_error (task, invalid_uidl_error (self, op->number));
            return;
          }
        g_task_return_pointer (task, key, g_free);
      }
      return;

    case OP_TOP:
      g_task_return_pointer (task, g_steal_pointer (&response->body),
                             (GDestroyNotify) g_bytes_unref);
      return;

    case OP_RETR:
      {
        guint64 *written = g_new (guint64, 1);

        *written = response->written;
        g_task_return_pointer (task, written, g_free);
      }
      return;

    case OP_SIMPLE:
    case OP_QUIT:
    default:
      g_task_return_boolean (task, TRUE);
      return;
    }
}

static void
op_start (PbPop3Client        *self,
          gpointer             source_tag,
          OpKind               kind,
          const char          *name,
          guint                number,
          char                *line,
          BodyMode             body_mode,
          guint64              limit,
          GOutputStream       *output,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  OpData *op = g_new0 (OpData, 1);

  g_task_set_source_tag (task, source_tag);
  op->kind = kind;
  op->name = g_strdup (name);
  op->number = number;
  g_task_set_task_data (task, op, (GDestroyNotify) op_data_free);

  if (self->state != STATE_TRANSACTION &&
      !(kind == OP_QUIT && self->state == STATE_AUTHORIZATION))
    {
      g_free (line);
      g_task_return_new_error (task, PB_POP3_ERROR, PB_POP3_ERROR_CLOSED,
                               self->state == STATE_CLOSED
                               ? _("The connection to the server is closed.")
                               : _("The session is not logged in yet."));
      return;
    }
  /* TOP and UIDL are sent even when CAPA does not list them. RFC 2449
   * section 6 says a server lists them when it has them, but real servers
   * omit them from the CAPA after login (or never list them) and answer
   * them all the same; believing the list would cost such a mailbox its
   * UIDLs (every message named by a hash of its headers instead) or its
   * summaries. A server that really lacks them answers -ERR, and
   * on_op_response() turns that into PB_POP3_ERROR_UNSUPPORTED. */

  command_async (self, name, line, kind == OP_QUIT ? COMMAND_EXCLUSIVE : 0,
                 body_mode, limit, output, cancellable, on_op_response,
                 g_object_ref (task));
}

void
pb_pop3_client_stat_async (PbPop3Client        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  op_start (self, pb_pop3_client_stat_async, OP_STAT, "STAT", 0, make_line ("STAT"),
            BODY_NONE, 0, NULL, cancellable, callback, user_data);
}

gboolean
pb_pop3_client_stat_finish (PbPop3Client  *self,
                            GAsyncResult  *result,
                            guint         *count,
                            guint64       *size,
                            GError       **error)
{
  g_autofree guint64 *values = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  values = g_task_propagate_pointer (G_TASK (result), error);
  if (values == NULL)
    return FALSE;
  if (count != NULL)
    *count = (guint) values[0];
  if (size != NULL)
    *size = values[1];
  return TRUE;
}

void
pb_pop3_listing_free (PbPop3Listing *listing)
{
  if (listing == NULL)
    return;
  g_free (listing->uidl);
  g_free (listing);
}

void
pb_pop3_client_list_async (PbPop3Client        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  op_start (self, pb_pop3_client_list_async, OP_LIST, "LIST", 0, make_line ("LIST"),
            BODY_COLLECT, MAX_LISTING_SIZE, NULL, cancellable, callback, user_data);
}

GPtrArray *
pb_pop3_client_list_finish (PbPop3Client  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
pb_pop3_client_uidl_async (PbPop3Client        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  op_start (self, pb_pop3_client_uidl_async, OP_UIDL, "UIDL", 0, make_line ("UIDL"),
            BODY_COLLECT, MAX_LISTING_SIZE, NULL, cancellable, callback, user_data);
}

GPtrArray *
pb_pop3_client_uidl_finish (PbPop3Client  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
pb_pop3_client_uidl_one_async (PbPop3Client        *self,
                               guint                number,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  op_start (self, pb_pop3_client_uidl_one_async, OP_UIDL_ONE, "UIDL", number,
            make_line ("UIDL %u", number), BODY_NONE, 0, NULL,
            cancellable, callback, user_data);
}

char *
pb_pop3_client_uidl_one_finish (PbPop3Client  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
pb_pop3_client_top_async (PbPop3Client        *self,
                          guint                number,
                          guint                lines,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  op_start (self, pb_pop3_client_top_async, OP_TOP, "TOP", number,
            make_line ("TOP %u %u", number, lines), BODY_COLLECT, self->max_message_size,
            NULL, cancellable, callback, user_data);
}

GBytes *
pb_pop3_client_top_finish (PbPop3Client  *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
pb_pop3_client_retr_async (PbPop3Client        *self,
                           guint                number,
                           GOutputStream       *output,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  g_return_if_fail (G_IS_OUTPUT_STREAM (output));
  op_start (self, pb_pop3_client_retr_async, OP_RETR, "RETR", number,
            make_line ("RETR %u", number), BODY_STREAM, self->max_message_size,
            output, cancellable, callback, user_data);
}

gboolean
pb_pop3_client_retr_finish (PbPop3Client  *self,
                            GAsyncResult  *result,
                            guint64       *bytes_written,
                            GError       **error)
{
  g_autofree guint64 *written = NULL;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  written = g_task_propagate_pointer (G_TASK (result), error);
  if (written == NULL)
    return FALSE;
  if (bytes_written != NULL)
    *bytes_written = *written;
  return TRUE;
}

void
pb_pop3_client_dele_async (PbPop3Client        *self,
                           guint                number,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  op_start (self, pb_pop3_client_dele_async, OP_SIMPLE, "DELE", number,
            make_line ("DELE %u", number), BODY_NONE, 0, NULL, cancellable, callback, user_data);
}

gboolean
pb_pop3_client_dele_finish (PbPop3Client  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
pb_pop3_client_rset_async (PbPop3Client        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  op_start (self, pb_pop3_client_rset_async, OP_SIMPLE, "RSET", 0, make_line ("RSET"),
            BODY_NONE, 0, NULL, cancellable, callback, user_data);
}

gboolean
pb_pop3_client_rset_finish (PbPop3Client  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
pb_pop3_client_noop_async (PbPop3Client        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  op_start (self, pb_pop3_client_noop_async, OP_SIMPLE, "NOOP", 0, make_line ("NOOP"),
            BODY_NONE, 0, NULL, cancellable, callback, user_data);
}

gboolean
pb_pop3_client_noop_finish (PbPop3Client  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
pb_pop3_client_quit_async (PbPop3Client        *self,
                           GCancellable        *cancellable,
                           GAsyncReadyCallback  callback,
                           gpointer             user_data)
{
  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  op_start (self, pb_pop3_client_quit_async, OP_QUIT, "QUIT", 0, make_line ("QUIT"),
            BODY_NONE, 0, NULL, cancellable, callback, user_data);
}

gboolean
pb_pop3_client_quit_finish (PbPop3Client  *self,
                            GAsyncResult  *result,
                            GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
pb_pop3_client_close (PbPop3Client *self)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (PB_IS_POP3_CLIENT (self));

  if (self->state == STATE_CLOSED && self->connect_task == NULL)
    return;
  error = g_error_new_literal (PB_POP3_ERROR, PB_POP3_ERROR_CLOSED,
                               _("The connection was closed."));
  fail_session (self, error, TRUE);
}

/* ---- settings and getters ---------------------------------------------- */

void
pb_pop3_client_set_timeout (PbPop3Client *self,
                            guint         seconds)
{
  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  self->timeout = seconds > 0 ? seconds : PB_POP3_DEFAULT_TIMEOUT;
}

void
pb_pop3_client_set_ca_file (PbPop3Client *self,
                            const char   *path)
{
  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  g_free (self->ca_file);
  self->ca_file = path && *path ? g_strdup (path) : NULL;
}

void
pb_pop3_client_set_pin_sha256 (PbPop3Client *self,
                               const char   *hex)
{
  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  g_free (self->pin);
  self->pin = hex && *hex ? g_strdup (hex) : NULL;
}

void
pb_pop3_client_set_max_message_size (PbPop3Client *self,
                                     guint64       bytes)
{
  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  self->max_message_size = bytes > 0 ? bytes : PB_POP3_DEFAULT_MAX_MESSAGE_SIZE;
}

void
pb_pop3_client_set_pipeline_window (PbPop3Client *self,
                                    guint         commands)
{
  g_return_if_fail (PB_IS_POP3_CLIENT (self));
  self->pipeline_window = MAX (commands, 1);
}

const char *
pb_pop3_client_get_greeting (PbPop3Client *self)
{
  g_return_val_if_fail (PB_IS_POP3_CLIENT (self), NULL);
  return self->greeting;
}

const PbPop3TlsInfo *
pb_pop3_client_get_tls_info (PbPop3Client *self)
{
  g_return_val_if_fail (PB_IS_POP3_CLIENT (self), NULL);
  return self->tls_info;
}

gboolean
pb_pop3_client_has_capability (PbPop3Client *self,
                               const char   *name)
{
  g_return_val_if_fail (PB_IS_POP3_CLIENT (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  return has_capability (self, name);
}

const char * const *
pb_pop3_client_get_capabilities (PbPop3Client *self)
{
  g_return_val_if_fail (PB_IS_POP3_CLIENT (self), NULL);
  return (const char * const *) self->capabilities->pdata;
}

const char * const *
pb_pop3_client_get_sasl_mechanisms (PbPop3Client *self)
{
  g_return_val_if_fail (PB_IS_POP3_CLIENT (self), NULL);
  return (const char * const *) self->sasl_mechanisms->pdata;
}

const char *
pb_pop3_client_get_implementation (PbPop3Client *self)
{
  g_return_val_if_fail (PB_IS_POP3_CLIENT (self), NULL);
  return self->implementation;
}

gint
pb_pop3_client_get_login_delay (PbPop3Client *self)
{
  g_return_val_if_fail (PB_IS_POP3_CLIENT (self), -1);
  return self->login_delay;
}

gint
pb_pop3_client_get_expire (PbPop3Client *self)
{
  g_return_val_if_fail (PB_IS_POP3_CLIENT (self), -1);
  return self->expire;
}

const char *
pb_pop3_client_get_auth_mechanism (PbPop3Client *self)
{
  g_return_val_if_fail (PB_IS_POP3_CLIENT (self), NULL);
  return self->auth_mechanism;
}

gint
pb_pop3_client_get_retry_after (PbPop3Client *self)
{
  g_return_val_if_fail (PB_IS_POP3_CLIENT (self), -1);
  return self->retry_after;
}

gboolean
pb_pop3_client_is_encrypted (PbPop3Client *self)
{
  g_return_val_if_fail (PB_IS_POP3_CLIENT (self), FALSE);
  return is_encrypted (self);
}

/* ---- the object -------------------------------------------------------- */

static void
pb_pop3_client_dispose (GObject *object)
{
  PbPop3Client *self = PB_POP3_CLIENT (object);

  pb_pop3_client_close (self);
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_clear_pointer (&self->timer, g_source_unref);
    }
  g_clear_object (&self->ca_database);

  G_OBJECT_CLASS (pb_pop3_client_parent_class)->dispose (object);
}

static void
pb_pop3_client_finalize (GObject *object)
{
  PbPop3Client *self = PB_POP3_CLIENT (object);

  g_free (self->host);
  g_free (self->ca_file);
  g_free (self->pin);
  g_free (self->buffer);
  pb_pop3_reader_clear (&self->reader);
  g_byte_array_unref (self->scratch);
  g_clear_pointer (&self->spare, g_byte_array_unref);
  g_free (self->greeting);
  g_free (self->apop_timestamp);
  g_ptr_array_unref (self->capabilities);
  g_ptr_array_unref (self->sasl_mechanisms);
  g_free (self->implementation);
  g_free (self->auth_mechanism);
  pb_pop3_tls_info_free (self->tls_info);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (pb_pop3_client_parent_class)->finalize (object);
}

static void
pb_pop3_client_class_init (PbPop3ClientClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pb_pop3_client_dispose;
  object_class->finalize = pb_pop3_client_finalize;
}

static void
pb_pop3_client_init (PbPop3Client *self)
{
  self->timeout = PB_POP3_DEFAULT_TIMEOUT;
  self->max_message_size = PB_POP3_DEFAULT_MAX_MESSAGE_SIZE;
  self->pipeline_window = DEFAULT_PIPELINE_WINDOW;
  self->context = g_main_context_ref_thread_default ();
  self->buffer = g_malloc (READ_BUFFER_SIZE);
  self->scratch = g_byte_array_new ();
  self->capabilities = g_ptr_array_new_with_free_func (g_free);
  self->sasl_mechanisms = g_ptr_array_new_with_free_func (g_free);
  g_queue_init (&self->pending);
  g_queue_init (&self->in_flight);
  pb_pop3_reader_init (&self->reader, PB_POP3_READER_DEFAULT_MAX_STATUS);
  reset_capabilities (self);
  self->retry_after = -1;
  self->deadline = -1;

  self->timer = g_source_new (&timer_funcs, sizeof (GSource));
  g_source_set_callback (self->timer, on_timer, self, NULL);
  g_source_set_static_name (self->timer, "[popbiff] pop3 timeout");
  g_source_set_ready_time (self->timer, -1);
  g_source_attach (self->timer, self->context);
}

PbPop3Client *
pb_pop3_client_new (const char     *host,
                    guint16         port,
                    PbPop3Security  security)
{
  PbPop3Client *self;

  g_return_val_if_fail (host != NULL && *host != '\0', NULL);

  self = g_object_new (PB_TYPE_POP3_CLIENT, NULL);
  self->host = g_strdup (host);
  self->security = security;
  self->port = port != 0 ? port : pb_pop3_security_default_port (security);
  return self;
}

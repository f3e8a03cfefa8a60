/* pb-demo-server.c: a small POP3 server with sample mail. */
#include <string.h>

#include "pb-demo-server.h"

typedef struct {
  char  *uidl;
  char  *text;     /* CRLF line ends, not dot-stuffed */
  gsize  size;
  gboolean deleted;
} DemoMessage;

struct _PbDemoServer
{
  GObject           parent_instance;

  char             *user;
  char             *password;
  GSocketService   *service;  /* owned */
  guint16           port;
  GPtrArray        *messages; /* (element-type DemoMessage) */
  guint             next_uidl;
  guint             next_sample;
};

G_DEFINE_FINAL_TYPE (PbDemoServer, pb_demo_server, G_TYPE_OBJECT)

/* One session. */
typedef struct {
  PbDemoServer      *server;   /* owned */
  GIOStream         *stream;   /* owned */
  GDataInputStream  *input;    /* owned */
  GOutputStream     *output;   /* unowned: the stream's */
  GCancellable      *cancellable;
  gboolean           user_ok;
  gboolean           authenticated;
  GArray            *deleted;  /* guint message indexes marked with DELE */
} Session;

/* The mailbox a new demo starts with. Dates are in the past few days
 * relative to nothing in particular: the window shows them as they are. */
static const char * const initial_messages[] = {
  "From: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <juergen.mueller@example.de>\n"
  "To: Demo <demo@example.org>\n"
  "Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe_aus_M=C3=BCnchen_=E2=80=94_Fotos_vom_Wochenende?=\n"
  "Date: Tue, 24 Nov 2026 09:12:44 +0100\n"
  "Message-ID: <demo-1@example.de>\n"
  "MIME-Version: 1.0\n"
  "Content-Type: text/plain; charset=UTF-8\n"
  "Content-Transfer-Encoding: 8bit\n"
  "\n"
  "Hallo!\n\nDie Fotos vom Wochenende sind endlich sortiert. Schöne Grüße an alle,\nJürgen\n",

  "From: =?ISO-8859-1?Q?Am=E9lie_Dupr=E9?= <amelie@example.fr>\n"
  "To: Demo <demo@example.org>\n"
  "Subject: =?ISO-8859-1?Q?R=E9union_de_l'=E9quipe_=E0_14h?=\n"
  "Date: Wed, 25 Nov 2026 14:03:10 +0100\n"
  "Message-ID: <demo-2@example.fr>\n"
  "MIME-Version: 1.0\n"
  "Content-Type: text/plain; charset=ISO-8859-1\n"
  "\n"
  "Bonjour,\n\nLa réunion est déplacée à 14h, salle Étoile.\n\nAmélie\n",

  "From: =?UTF-8?B?5bGx55Sw5aSq6YOO?= <yamada@example.jp>\n"
  "To: Demo <demo@example.org>\n"
  "Subject: =?UTF-8?B?5Lya6K2w44Gu6K2w5LqL6Yyy44Gr44Gk44GE44Gm?=\n"
  "Date: Thu, 26 Nov 2026 08:30:00 +0900\n"
  "Message-ID: <demo-3@example.jp>\n"
  "MIME-Version: 1.0\n"
  "Content-Type: text/plain; charset=UTF-8\n"
  "Content-Transfer-Encoding: 8bit\n"
  "\n"
  "お疲れ様です。会議の議事録を添付しました。\n山田\n",

  "From: =?UTF-8?B?zpzOsc+Bzq/OsSDOoM6xz4DOsc60zr/PgM6/z43Ou86/z4U=?= <maria@example.gr>\n"
  "To: Demo <demo@example.org>\n"
  "Subject: =?UTF-8?B?zqPPhc69zqzOvc+EzrfPg863IM+EzrfOvSDOoM6tzrzPgM+Ezrcgz4PPhM65z4IgMTA6MDA=?=\n"
  "Date: Thu, 26 Nov 2026 17:45:21 +0200\n"
  "Message-ID: <demo-4@example.gr>\n"
  "MIME-Version: 1.0\n"
  "Content-Type: text/plain; charset=UTF-8\n"
  "Content-Transfer-Encoding: 8bit\n"
  "\n"
  "Γεια σου! Τα λέμε την Πέμπτη.\nΜαρία\n",

  "From: Sam Okafor <sam@example.org>\n"
  "To: Demo <demo@example.org>\n"
  "Subject: Invoice #2026-114 for November\n"
  "Date: Fri, 27 Nov 2026 07:58:02 +0000\n"
  "Message-ID: <demo-5@example.org>\n"
  "MIME-Version: 1.0\n"
  "Content-Type: text/plain; charset=US-ASCII\n"
  "\n"
  "Hi,\n\nplease find the invoice for November attached. Payment within 14 days.\n\nSam\n",
};

/* Arrive while the demo runs, one every little while. */
static const char * const later_messages[] = {
  "From: =?UTF-8?Q?Bj=C3=B6rk_Gu=C3=B0mundsd=C3=B3ttir?= <bjork@example.is>\n"
  "To: Demo <demo@example.org>\n"
  "Subject: =?UTF-8?Q?Tickets_f=C3=BCr_Freitag?=\n"
  "Date: Fri, 27 Nov 2026 10:15:00 +0000\n"
  "Message-ID: <demo-6@example.is>\n"
  "\n"
  "Die Tickets sind da!\n",

  "From: =?UTF-8?Q?Fran=C3=A7ois_Lef=C3=A8vre?= <francois@example.fr>\n"
  "To: Demo <demo@example.org>\n"
  "Subject: =?UTF-8?Q?D=C3=A9j=C3=A0_vu=3F_Le_rapport_trimestriel?=\n"
  "Date: Fri, 27 Nov 2026 10:20:00 +0100\n"
  "Message-ID: <demo-7@example.fr>\n"
  "\n"
  "Voici le rapport.\n",
};

static void
demo_message_free (DemoMessage *message)
{
  g_free (message->uidl);
  g_free (message->text);
  g_free (message);
}

static char *
to_crlf (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\n' && (p == text || p[-1] != '\r'))
        g_string_append_c (out, '\r');
      g_string_append_c (out, *p);
    }
  if (out->len < 2 || strcmp (out->str + out->len - 2, "\r\n") != 0)
    g_string_append (out, "\r\n");
  return g_string_free (out, FALSE);
}

void
pb_demo_server_add_message (PbDemoServer *self,
                            const char   *text)
{
  DemoMessage *message;

  g_return_if_fail (PB_IS_DEMO_SERVER (self));
  g_return_if_fail (text != NULL);

  message = g_new0 (DemoMessage, 1);
  message->uidl = g_strdup_printf ("demo-%04u", self->next_uidl++);
  message->text = to_crlf (text);
  message->size = strlen (message->text);
  g_ptr_array_add (self->messages, message);
}

gboolean
pb_demo_server_add_sample (PbDemoServer *self)
{
  g_return_val_if_fail (PB_IS_DEMO_SERVER (self), FALSE);

  if (self->next_sample >= G_N_ELEMENTS (later_messages))
    return FALSE;
  pb_demo_server_add_message (self, later_messages[self->next_sample++]);
  return TRUE;
}

static void
session_free (Session *session)
{
  g_clear_object (&session->cancellable);
  g_clear_object (&session->input);
  if (session->stream != NULL)
    g_io_stream_close (session->stream, NULL, NULL);
  g_clear_object (&session->stream);
  g_clear_object (&session->server);
  g_array_unref (session->deleted);
  g_free (session);
}

static void
session_send (Session    *session,
      const char *text)
{
  /* Replies are a few kilobytes into a loopback socket buffer: a blocking
   * write completes at once, and the demo is for one local client. */
  g_output_stream_write_all (session->output, text, strlen (text), NULL, NULL, NULL);
}

static void
session_sendf (Session    *session,
       const char *format,
       ...) G_GNUC_PRINTF (2, 3);

static void
session_sendf (Session    *session,
       const char *format,
       ...)
{
  va_list args;
  g_autofree char *text = NULL;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  session_send (session, text);
}

/* A message by its 1-based number, NULL if absent or deleted. */
static DemoMessage *
lookup (Session    *session,
        const char *arg,
        guint      *index)
{
  DemoMessage *message;
  guint64 n;

  if (arg == NULL || !g_ascii_string_to_unsigned (arg, 10, 1, session->server->messages->len, &n, NULL))
    return NULL;
  for (guint i = 0; i < session->deleted->len; i++)
    if (g_array_index (session->deleted, guint, i) == n - 1)
      return NULL;
  if (index != NULL)
    *index = (guint) n - 1;
  message = g_ptr_array_index (session->server->messages, n - 1);
  return message->deleted ? NULL : message;
}

/* The body (or @lines of it after the headers) dot-stuffed, RFC 1939
 * section 3, and the terminating line. */
static void
send_text (Session    *session,
           const char *text,
           gint        lines)
{
  GString *out = g_string_new (NULL);
  const char *p = text;
  gboolean in_body = FALSE;
  gint body_lines = 0;

  while (*p != '\0')
    {
      const char *end = strstr (p, "\r\n");
      gsize len = end != NULL ? (gsize) (end - p) : strlen (p);

      if (in_body && lines >= 0 && body_lines >= lines)
        break;
      if (len > 0 && p[0] == '.')
        g_string_append_c (out, '.');
      g_string_append_len (out, p, len);
      g_string_append (out, "\r\n");
      if (in_body)
        body_lines++;
      if (len == 0)
        in_body = TRUE;
      if (end == NULL)
        break;
      p = end + 2;
    }
  g_string_append (out, ".\r\n");
  session_send (session, out->str);
  g_string_free (out, TRUE);
}

static void read_command (Session *session);

/* Returns FALSE when the session ends. */
static gboolean
handle (Session *session,
        char    *line)
{
  PbDemoServer *server = session->server;
  g_auto(GStrv) words = g_strsplit (line, " ", 3);
  const char *command = words[0] != NULL ? words[0] : "";
  const char *arg = words[0] != NULL ? words[1] : NULL;
  const char *arg2 = arg != NULL ? words[2] : NULL;

  if (g_ascii_strcasecmp (command, "CAPA") == 0)
    {
      session_send (session, "+OK Capability list follows\r\nTOP\r\nUIDL\r\nUSER\r\nPIPELINING\r\n"
                     "RESP-CODES\r\nIMPLEMENTATION Popbiff-demo\r\n.\r\n");
      return TRUE;
    }
  if (g_ascii_strcasecmp (command, "QUIT") == 0)
    {
      for (guint i = 0; i < session->deleted->len; i++)
        ((DemoMessage *) g_ptr_array_index (server->messages,
                                            g_array_index (session->deleted, guint, i)))->deleted = TRUE;
      session_send (session, "+OK Bye\r\n");
      return FALSE;
    }
  if (!session->authenticated)
    {
      if (g_ascii_strcasecmp (command, "USER") == 0)
        {
          session->user_ok = arg != NULL && g_str_equal (arg, server->user);
          session_send (session, "+OK\r\n");
        }
      else if (g_ascii_strcasecmp (command, "PASS") == 0)
        {
          /* The password may contain spaces: it is the rest of the line. */
          const char *pass = line + MIN (strlen (line), 5);

          if (session->user_ok && g_str_equal (pass, server->password))
            {
              session->authenticated = TRUE;
              session_send (session, "+OK Logged in\r\n");
            }
          else
            session_send (session, "-ERR [AUTH] Wrong user name or password\r\n");
        }
      else
        session_send (session, "-ERR Log in first\r\n");
      return TRUE;
    }

  if (g_ascii_strcasecmp (command, "STAT") == 0)
    {
      guint count = 0;
      guint64 size = 0;

      for (guint i = 0; i < server->messages->len; i++)
        {
          g_autofree char *n = g_strdup_printf ("%u", i + 1);
          DemoMessage *message = lookup (session, n, NULL);

          if (message != NULL)
            {
              count++;
              size += message->size;
            }
        }
      session_sendf (session, "+OK %u %" G_GUINT64_FORMAT "\r\n", count, size);
    }
  else if (g_ascii_strcasecmp (command, "NOOP") == 0)
    session_send (session, "+OK\r\n");
  else if (g_ascii_strcasecmp (command, "RSET") == 0)
    {
      g_array_set_size (session->deleted, 0);
      session_send (session, "+OK\r\n");
    }
  else if (g_ascii_strcasecmp (command, "LIST") == 0 || g_ascii_strcasecmp (command, "UIDL") == 0)
    {
      gboolean uidl = g_ascii_strcasecmp (command, "UIDL") == 0;

      if (arg != NULL)
        {
          DemoMessage *message = lookup (session, arg, NULL);

          if (message == NULL)
            session_send (session, "-ERR No such message\r\n");
          else if (uidl)
            session_sendf (session, "+OK %s %s\r\n", arg, message->uidl);
          else
            session_sendf (session, "+OK %s %" G_GSIZE_FORMAT "\r\n", arg, message->size);
        }
      else
        {
          GString *out = g_string_new ("+OK\r\n");

          for (guint i = 0; i < server->messages->len; i++)
            {
              g_autofree char *n = g_strdup_printf ("%u", i + 1);
              DemoMessage *message = lookup (session, n, NULL);

              if (message == NULL)
                continue;
              if (uidl)
                g_string_append_printf (out, "%u %s\r\n", i + 1, message->uidl);
              else
                g_string_append_printf (out, "%u %" G_GSIZE_FORMAT "\r\n", i + 1, message->size);
            }
          g_string_append (out, ".\r\n");
          session_send (session, out->str);
          g_string_free (out, TRUE);
        }
    }
  else if (g_ascii_strcasecmp (command, "TOP") == 0 || g_ascii_strcasecmp (command, "RETR") == 0)
    {
      gboolean top = g_ascii_strcasecmp (command, "TOP") == 0;
      DemoMessage *message = lookup (session, arg, NULL);
      guint64 lines = 0;

      if (message == NULL)
        session_send (session, "-ERR No such message\r\n");
      else if (top && (arg2 == NULL || !g_ascii_string_to_unsigned (arg2, 10, 0, G_MAXINT, &lines, NULL)))
        session_send (session, "-ERR Syntax: TOP msg lines\r\n");
      else
        {
          session_sendf (session, "+OK %" G_GSIZE_FORMAT " octets\r\n", message->size);
          send_text (session, message->text, top ? (gint) lines : -1);
        }
    }
  else if (g_ascii_strcasecmp (command, "DELE") == 0)
    {
      guint index;

      if (lookup (session, arg, &index) == NULL)
        session_send (session, "-ERR No such message\r\n");
      else
        {
          g_array_append_val (session->deleted, index);
          session_send (session, "+OK Marked\r\n");
        }
    }
  else
    session_send (session, "-ERR Unknown command\r\n");
  return TRUE;
}

static void
on_line (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Session *session = user_data;
  g_autofree char *line = NULL;
  gsize length = 0;

  line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source), result, &length, NULL);
  if (line == NULL)
    {
      session_free (session);
      return;
    }
  g_strchomp (line);  /* drops the CR before the LF */
  if (!handle (session, line))
    {
      session_free (session);
      return;
    }
  read_command (session);
}

static void
read_command (Session *session)
{
  g_data_input_stream_read_line_async (session->input, G_PRIORITY_DEFAULT, session->cancellable,
                                       on_line, session);
}

static gboolean
on_incoming (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             gpointer           user_data)
{
  PbDemoServer *self = user_data;
  Session *session = g_new0 (Session, 1);

  session->server = g_object_ref (self);
  session->stream = g_object_ref (G_IO_STREAM (connection));
  session->input = g_data_input_stream_new (g_io_stream_get_input_stream (session->stream));
  g_data_input_stream_set_newline_type (session->input, G_DATA_STREAM_NEWLINE_TYPE_LF);
  session->output = g_io_stream_get_output_stream (session->stream);
  session->cancellable = g_cancellable_new ();
  session->deleted = g_array_new (FALSE, FALSE, sizeof (guint));
  session_send (session, "+OK Popbiff demo server ready\r\n");
  read_command (session);
  return TRUE;
}

static void
pb_demo_server_dispose (GObject *object)
{
  PbDemoServer *self = PB_DEMO_SERVER (object);

  pb_demo_server_stop (self);
  g_clear_object (&self->service);

  G_OBJECT_CLASS (pb_demo_server_parent_class)->dispose (object);
}

static void
pb_demo_server_finalize (GObject *object)
{
  PbDemoServer *self = PB_DEMO_SERVER (object);

  g_free (self->user);
  if (self->password != NULL)
    memset (self->password, 0, strlen (self->password));
  g_free (self->password);
  g_ptr_array_unref (self->messages);

  G_OBJECT_CLASS (pb_demo_server_parent_class)->finalize (object);
}

static void
pb_demo_server_class_init (PbDemoServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pb_demo_server_dispose;
  object_class->finalize = pb_demo_server_finalize;
}

static void
pb_demo_server_init (PbDemoServer *self)
{
  self->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) demo_message_free);
  self->next_uidl = 1;
}

PbDemoServer *
pb_demo_server_new (const char *user,
                    const char *password)
{
  PbDemoServer *self;

  g_return_val_if_fail (user != NULL, NULL);
  g_return_val_if_fail (password != NULL, NULL);

  self = g_object_new (PB_TYPE_DEMO_SERVER, NULL);
  self->user = g_strdup (user);
  self->password = g_strdup (password);
  for (guint i = 0; i < G_N_ELEMENTS (initial_messages); i++)
    pb_demo_server_add_message (self, initial_messages[i]);
  return self;
}

gboolean
pb_demo_server_start (PbDemoServer  *self,
                      GError       **error)
{
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) effective = NULL;

  g_return_val_if_fail (PB_IS_DEMO_SERVER (self), FALSE);
  g_return_val_if_fail (self->service == NULL, FALSE);

  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  address = g_inet_socket_address_new (loopback, 0);
  self->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service), address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                      NULL, &effective, error))
    {
      g_clear_object (&self->service);
      return FALSE;
    }
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect_object (self->service, "incoming", G_CALLBACK (on_incoming), self, 0);
  g_socket_service_start (self->service);
  return TRUE;
}

void
pb_demo_server_stop (PbDemoServer *self)
{
  g_return_if_fail (PB_IS_DEMO_SERVER (self));

  if (self->service != NULL)
    {
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
    }
}

guint16
pb_demo_server_get_port (PbDemoServer *self)
{
  g_return_val_if_fail (PB_IS_DEMO_SERVER (self), 0);
  return self->port;
}

guint
pb_demo_server_get_count (PbDemoServer *self)
{
  guint count = 0;

  g_return_val_if_fail (PB_IS_DEMO_SERVER (self), 0);

  for (guint i = 0; i < self->messages->len; i++)
    count += !((DemoMessage *) g_ptr_array_index (self->messages, i))->deleted;
  return count;
}

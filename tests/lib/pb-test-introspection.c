/* pb-test-introspection.c: the loopback introspection endpoint (see the
 * header). */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "pb-test-introspection.h"
#include "pb-test-util.h"

/* Generous: seven people build on two cores. Python starts in well under
 * a second. */
#define START_DEADLINE_USEC (60 * G_USEC_PER_SEC)
#define STOP_DEADLINE_USEC  (20 * G_USEC_PER_SEC)
#define POLL_INTERVAL_USEC  (10 * 1000)

struct _PbTestIntrospection {
  char        *tokens_path;  /* JSON object, token -> user; reread per request */
  char        *log_path;     /* every token asked about, one a line */
  char        *port_file;    /* written by the server once it listens */
  char        *output_path;  /* the server's stdout and stderr */
  char        *url;
  GHashTable  *tokens;       /* token -> user, what tokens_path holds */
  GSubprocess *process;      /* its stdin is a pipe we never write to */
};

static gboolean
process_exited (PbTestIntrospection *self)
{
  /* The identifier goes NULL once GLib's worker thread has reaped it. */
  return self->process == NULL || g_subprocess_get_identifier (self->process) == NULL;
}

static void
child_setup (gpointer data)
{
  GPid parent = GPOINTER_TO_INT (data);

  /* If the test process dies (an assertion aborts it), the server goes
   * too; the closed stdin would tell it as well. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (getppid () != parent)
    raise (SIGTERM);
}

char *
pb_test_introspection_read_output (PbTestIntrospection *self)
{
  char *text = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  if (!g_file_get_contents (self->output_path, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

static gboolean
write_tokens (PbTestIntrospection *self,
              GError             **error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *json = NULL;
  GHashTableIter iter;
  gpointer token, user;

  json_builder_begin_object (builder);
  g_hash_table_iter_init (&iter, self->tokens);
  while (g_hash_table_iter_next (&iter, &token, &user))
    {
      json_builder_set_member_name (builder, token);
      json_builder_add_string_value (builder, user);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json = json_generator_to_data (generator, NULL);
  /* Atomic (a new file renamed over the old one): the server rereads it
   * on every request and must never see half of it. */
  return g_file_set_contents_full (self->tokens_path, json, -1,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0644, error);
}

/* Polls for the port file the server writes once it listens: no fixed
 * sleep, a generous deadline, and an early end if the server died. */
static gboolean
wait_for_port (PbTestIntrospection *self,
               GError             **error)
{
  gint64 deadline = g_get_monotonic_time () + START_DEADLINE_USEC;

  for (;;)
    {
      g_autofree char *text = NULL;

      if (g_file_get_contents (self->port_file, &text, NULL, NULL))
        {
          guint64 port = g_ascii_strtoull (text, NULL, 10);

          if (port == 0 || port > G_MAXUINT16)
            {
              g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "The introspection server wrote no port to %s", self->port_file);
              return FALSE;
            }
          self->url = g_strdup_printf ("http://127.0.0.1:%u/introspect", (guint) port);
          return TRUE;
        }
      if (process_exited (self) || g_get_monotonic_time () > deadline)
        {
          g_autofree char *output = pb_test_introspection_read_output (self);

          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "The introspection server %s; its output:\n%s",
                       process_exited (self) ? "exited at start-up"
                                             : "wrote no port within 60 s",
                       output);
          return FALSE;
        }
      g_usleep (POLL_INTERVAL_USEC);
    }
}

PbTestIntrospection *
pb_test_introspection_start (const char *dir,
                             GError    **error)
{
  g_autoptr(PbTestIntrospection) self = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autofree char *python = NULL;
  g_autofree char *script = NULL;

  g_return_val_if_fail (dir != NULL, NULL);

  python = pb_test_require_program ("python3");
  if (python == NULL)
    return NULL;
  script = g_build_filename (pb_test_srcdir (), "tools", "pb-test-introspection.py", NULL);

  self = g_new0 (PbTestIntrospection, 1);
  self->tokens_path = g_build_filename (dir, "introspection-tokens.json", NULL);
  self->log_path = g_build_filename (dir, "introspection-asked.log", NULL);
  self->port_file = g_build_filename (dir, "introspection.port", NULL);
  self->output_path = g_build_filename (dir, "introspection.out", NULL);
  self->tokens = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (!write_tokens (self, error)
      || !g_file_set_contents (self->log_path, "", 0, error))
    return NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_stdout_file_path (launcher, self->output_path);
  g_subprocess_launcher_set_child_setup (launcher, child_setup,
                                         GINT_TO_POINTER (getpid ()), NULL);
  self->process = g_subprocess_launcher_spawn (launcher, error, python, script,
                                               "--tokens", self->tokens_path,
                                               "--log", self->log_path,
                                               "--port-file", self->port_file, NULL);
  if (self->process == NULL || !wait_for_port (self, error))
    {
      g_prefix_error (error, "Cannot start the test introspection endpoint: ");
      return NULL;
    }
  return g_steal_pointer (&self);
}

void
pb_test_introspection_stop (PbTestIntrospection *self)
{
  if (self == NULL)
    return;

  if (!process_exited (self))
    {
      gint64 deadline = g_get_monotonic_time () + STOP_DEADLINE_USEC;

      g_subprocess_send_signal (self->process, SIGTERM);
      while (!process_exited (self) && g_get_monotonic_time () < deadline)
        g_usleep (POLL_INTERVAL_USEC);
      if (!process_exited (self))
        g_subprocess_force_exit (self->process);
    }
  g_clear_object (&self->process);
  g_free (self->tokens_path);
  g_free (self->log_path);
  g_free (self->port_file);
  g_free (self->output_path);
  g_free (self->url);
  g_clear_pointer (&self->tokens, g_hash_table_unref);
  g_free (self);
}

const char *
pb_test_introspection_get_url (PbTestIntrospection *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->url;
}

/* RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" /
 * "~" / "+" / "/" ) *"=". */
static gboolean
is_b64token (const char *token)
{
  gsize n = strspn (token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                           "0123456789-._~+/");

  return n > 0 && strspn (token + n, "=") == strlen (token + n);
}

gboolean
pb_test_introspection_add_token (PbTestIntrospection *self,
                                 const char          *token,
                                 const char          *user,
                                 GError             **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (token != NULL && user != NULL, FALSE);

  if (!is_b64token (token))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "A test bearer token must be an RFC 6750 b64token: %s", token);
      return FALSE;
    }
  g_hash_table_replace (self->tokens, g_strdup (token), g_strdup (user));
  return write_tokens (self, error);
}

char **
pb_test_introspection_get_asked (PbTestIntrospection *self)
{
  g_autofree char *text = NULL;
  g_autoptr(GStrvBuilder) asked = g_strv_builder_new ();
  g_auto(GStrv) lines = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  if (g_file_get_contents (self->log_path, &text, NULL, NULL))
    {
      lines = g_strsplit (text, "\n", -1);
      for (guint i = 0; lines[i] != NULL; i++)
        if (*lines[i] != '\0')
          g_strv_builder_add (asked, lines[i]);
    }
  return g_strv_builder_end (asked);
}

/* The POP3 engine against a minimal real server: mpopd from Debian's mpop
 * package offers only USER and UIDL in CAPA: no TOP, no STLS, no
 * PIPELINING, no SASL. The engine must notice and degrade gracefully:
 * USER/PASS under "auto", one command at a time, a clear error for TOP,
 * STARTTLS and SASL, and the same bytes as from Dovecot. */
#define _GNU_SOURCE  /* prctl */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gio.h>

#include "pb-test-mail.h"
#include "pb-test-pop3-sync.h"
#include "pb-test-util.h"

#define USER "alice"
#define PASSWORD "mpopd test password"
#define START_DEADLINE_USEC (60 * G_USEC_PER_SEC)

typedef struct {
  char        *dir;
  char        *maildir;
  char        *log_path;
  guint16      port;
  GSubprocess *process;
} Fixture;

static void
child_setup (gpointer data)
{
  /* mpopd dies with the test, even if the test aborts. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
  if (getppid () != GPOINTER_TO_INT (data))
    raise (SIGTERM);
}

static gboolean
greets (guint16 port)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autofree char *line = NULL;

  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_set_timeout (client, 10);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  if (connection == NULL)
    return FALSE;
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  line = g_data_input_stream_read_line (in, NULL, NULL, NULL);
  return line != NULL && g_str_has_prefix (line, "+OK mpopd");
}

/* Starts mpopd on a free port; a port taken between probe and bind makes
 * mpopd exit, and we try another. */
static gboolean
start_mpopd (Fixture    *f,
             const char *mpopd)
{
  for (guint attempt = 0; attempt < 8; attempt++)
    {
      g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
      g_autoptr(GError) error = NULL;
      g_autofree char *port_arg = NULL;
      g_autofree char *maildir_arg = g_strdup_printf ("--maildir=%s", f->maildir);
      g_autofree char *log_arg = g_strdup_printf ("--log=%s", f->log_path);
      g_autofree char *out_path = g_build_filename (f->dir, "mpopd.out", NULL);
      gint64 deadline = g_get_monotonic_time () + START_DEADLINE_USEC;

      f->port = pb_test_closed_port ();
      port_arg = g_strdup_printf ("--port=%u", f->port);
      /* The password reaches mpopd through its passwordeval command and
       * the environment, never argv. */
      g_subprocess_launcher_setenv (launcher, "PB_MPOPD_PASSWORD", PASSWORD, TRUE);
      g_subprocess_launcher_set_stdout_file_path (launcher, out_path);
      g_subprocess_launcher_set_child_setup (launcher, child_setup,
                                             GINT_TO_POINTER (getpid ()), NULL);
      f->process = g_subprocess_launcher_spawn (launcher, &error, mpopd,
                                                "--interface=127.0.0.1", port_arg,
                                                "--auth=" USER ",printenv PB_MPOPD_PASSWORD",
                                                maildir_arg, log_arg, NULL);
      g_assert_no_error (error);

      while (g_subprocess_get_identifier (f->process) != NULL
             && !greets (f->port)
             && g_get_monotonic_time () < deadline)
        g_usleep (10 * 1000);
      if (g_subprocess_get_identifier (f->process) != NULL)
        {
          g_assert_cmpint (g_get_monotonic_time (), <, deadline);
          return TRUE;
        }
      g_clear_object (&f->process);
    }
  return FALSE;
}

static void
fixture_set_up (Fixture      *f,
                gconstpointer data)
{
  g_autofree char *mpopd = pb_test_require_program ("mpopd");
  g_autoptr(GError) error = NULL;

  if (mpopd == NULL)
    return;

  f->dir = g_dir_make_tmp ("pb-mpopd-XXXXXX", &error);
  g_assert_no_error (error);
  f->maildir = g_build_filename (f->dir, "Maildir", NULL);
  f->log_path = g_build_filename (f->dir, "mpopd.log", NULL);

  /* Every awkward kind mpopd serves as stored. */
  for (guint kind = 0; kind < PB_TEST_MAIL_N_KINDS; kind++)
    {
      g_autoptr(GBytes) message = pb_test_mail_awkward (kind);
      g_autofree char *path = pb_test_mail_deliver (f->maildir, message, FALSE, &error);

      g_assert_no_error (error);
    }
  g_assert_true (start_mpopd (f, mpopd));
}

static void
remove_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *entry;

  if (dir == NULL)
    return;
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, entry, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_dir (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture      *f,
                   gconstpointer data)
{
  if (f->process != NULL)
    {
      g_subprocess_force_exit (f->process);
      g_subprocess_wait (f->process, NULL, NULL);
      g_clear_object (&f->process);
    }
  if (f->dir != NULL && g_test_failed ())
    {
      g_autofree char *log = NULL;

      if (g_file_get_contents (f->log_path, &log, NULL, NULL))
        g_test_message ("mpopd log:\n%s", log);
    }
  if (f->dir != NULL)
    remove_dir (f->dir);
  g_free (f->dir);
  g_free (f->maildir);
  g_free (f->log_path);
}

static PbPop3Client *
connect_only (Fixture       *f,
              PbPop3Security security,
              GError       **error)
{
  g_autoptr(PbPop3Client) client = pb_pop3_client_new ("127.0.0.1", f->port, security);

  pb_pop3_client_set_timeout (client, 60);
  if (!pb_test_pop3_connect (client, error))
    return NULL;
  return g_steal_pointer (&client);
}

static PbPop3Client *
login_with (Fixture          *f,
            PbPop3AuthMethod  method)
{
  g_autoptr(GError) error = NULL;
  PbPop3Client *client = pb_test_pop3_login (f->port, PB_POP3_SECURITY_NONE, NULL,
                                             USER, PASSWORD, method, &error);

  g_assert_no_error (error);
  return client;
}

static PbPop3Client *
login (Fixture *f)
{
  return login_with (f, PB_POP3_AUTH_USER);
}

/* The Maildir file mpopd serves under @uidl (its UIDL is the file name). */
static GBytes *
stored_message (Fixture    *f,
                const char *uidl)
{
  static const char * const subdirs[] = { "new", "cur" };

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *path = g_build_filename (f->maildir, subdirs[i], uidl, NULL);
      char *data;
      gsize len;

      if (g_file_get_contents (path, &data, &len, NULL))
        return g_bytes_new_take (data, len);
    }
  return NULL;
}

static guint
count_files (Fixture *f)
{
  g_autofree char *new_dir = g_build_filename (f->maildir, "new", NULL);
  g_autofree char *cur_dir = g_build_filename (f->maildir, "cur", NULL);
  const char *dirs[] = { new_dir, cur_dir };
  guint count = 0;

  for (guint i = 0; i < G_N_ELEMENTS (dirs); i++)
    {
      g_autoptr(GDir) dir = g_dir_open (dirs[i], 0, NULL);

      while (dir != NULL && g_dir_read_name (dir) != NULL)
        count++;
    }
  return count;
}

static void
test_capabilities (Fixture      *f,
                   gconstpointer data)
{
  g_autoptr(PbPop3Client) client = NULL;
  const char * const *sasl;

  if (f->process == NULL)
    return;

  client = login (f);
  g_assert_cmpstr (pb_pop3_client_get_auth_mechanism (client), ==, "USER");
  g_assert_true (pb_pop3_client_has_capability (client, "USER"));
  g_assert_true (pb_pop3_client_has_capability (client, "UIDL"));
  g_assert_false (pb_pop3_client_has_capability (client, "TOP"));
  g_assert_false (pb_pop3_client_has_capability (client, "STLS"));
  g_assert_false (pb_pop3_client_has_capability (client, "PIPELINING"));
  sasl = pb_pop3_client_get_sasl_mechanisms (client);
  g_assert_true (sasl == NULL || sasl[0] == NULL);
}

static void
test_auto_user_with_security_none (Fixture      *f,
                             gconstpointer data)
{
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  if (f->process == NULL)
    return;

  /* USER/PASS is all mpopd offers and the link is not encrypted: "auto"
   * uses it only because security "none" was chosen explicitly
   * (DESIGN.md); it never could over STARTTLS or TLS, which are encrypted. */
  client = connect_only (f, PB_POP3_SECURITY_NONE, &error);
  g_assert_no_error (error);
  g_assert_true (pb_test_pop3_authenticate (client, USER, PASSWORD, PB_POP3_AUTH_AUTO, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (pb_pop3_client_get_auth_mechanism (client), ==, "USER");
}

static void
test_starttls_refused (Fixture      *f,
                       gconstpointer data)
{
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  if (f->process == NULL)
    return;

  /* No STLS: the session fails before any credential could be sent. */
  client = connect_only (f, PB_POP3_SECURITY_STARTTLS, &error);
  g_assert_null (client);
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_STARTTLS_UNAVAILABLE);
}

static void
test_sasl_unavailable (Fixture      *f,
                       gconstpointer data)
{
  static const PbPop3AuthMethod methods[] = {
    PB_POP3_AUTH_PLAIN, PB_POP3_AUTH_SCRAM_SHA_256, PB_POP3_AUTH_CRAM_MD5, PB_POP3_AUTH_APOP,
  };

  if (f->process == NULL)
    return;

  for (guint i = 0; i < G_N_ELEMENTS (methods); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(PbPop3Client) client = connect_only (f, PB_POP3_SECURITY_NONE, &error);

      g_assert_no_error (error);
      g_test_message ("method %s", pb_pop3_auth_method_to_string (methods[i]));
      g_assert_false (pb_test_pop3_authenticate (client, USER, PASSWORD, methods[i], &error));
      g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH_UNAVAILABLE);
    }
}

static void
test_top_unsupported (Fixture      *f,
                      gconstpointer data)
{
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) top = NULL;
  guint count;
  guint64 size;

  if (f->process == NULL)
    return;

  client = login (f);
  top = pb_test_pop3_top (client, 1, 0, &error);
  g_assert_null (top);
  g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  /* The session goes on. */
  pb_test_pop3_stat (client, &count, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, PB_TEST_MAIL_N_KINDS);
}

static void
store_result (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

static void
test_mailbox_byte_exact (Fixture      *f,
                         gconstpointer data)
{
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) uidls = NULL;
  g_autoptr(GPtrArray) list = NULL;
  GAsyncResult *results[PB_TEST_MAIL_N_KINDS] = { NULL };
  GOutputStream *outs[PB_TEST_MAIL_N_KINDS] = { NULL };
  guint count;
  guint64 size, total = 0;

  if (f->process == NULL)
    return;

  client = login (f);
  pb_test_pop3_stat (client, &count, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, PB_TEST_MAIL_N_KINDS);
  list = pb_test_pop3_list (client, &error);
  g_assert_no_error (error);
  uidls = pb_test_pop3_uidl (client, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (uidls->len, ==, count);
  g_assert_cmpuint (list->len, ==, count);
  for (guint i = 0; i < list->len; i++)
    total += ((PbPop3Listing *) list->pdata[i])->size;
  g_assert_cmpuint (total, ==, size);

  /* Queued at once: without PIPELINING the engine must send them one at a
   * time, and still complete each. */
  for (guint i = 0; i < count; i++)
    {
      outs[i] = g_memory_output_stream_new_resizable ();
      pb_pop3_client_retr_async (client, i + 1, outs[i], NULL, store_result, &results[i]);
    }
  for (guint i = 0; i < count; i++)
    {
      PbPop3Listing *uidl = g_ptr_array_index (uidls, i);
      g_autoptr(GBytes) stored = stored_message (f, uidl->uidl);
      g_autoptr(GBytes) want = NULL;
      g_autoptr(GBytes) got = NULL;
      guint64 written;

      g_assert_nonnull (stored);
      while (results[i] == NULL)
        g_main_context_iteration (NULL, TRUE);
      pb_pop3_client_retr_finish (client, results[i], &written, &error);
      g_assert_no_error (error);
      g_output_stream_close (outs[i], NULL, NULL);
      got = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (outs[i]));
      want = pb_test_mail_expected_retr (stored);
      g_test_message ("message %u (%s)", i + 1, uidl->uidl);
      g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got),
                       g_bytes_get_data (want, NULL), g_bytes_get_size (want));
      g_clear_object (&results[i]);
      g_clear_object (&outs[i]);
    }
  pb_test_pop3_quit (client, &error);
  g_assert_no_error (error);
}

static void
test_dele_quit_removes (Fixture      *f,
                        gconstpointer data)
{
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(GError) error = NULL;

  if (f->process == NULL)
    return;

  client = login (f);
  pb_test_pop3_dele (client, 1, &error);
  g_assert_no_error (error);
  pb_test_pop3_quit (client, &error);
  g_assert_no_error (error);

  /* mpopd answers QUIT before its session process has finished removing
   * the files, so give it until a deadline rather than looking at once. */
  {
    gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

    while (count_files (f) != PB_TEST_MAIL_N_KINDS - 1 && g_get_monotonic_time () < deadline)
      g_usleep (20 * 1000);
  }
  g_assert_cmpuint (count_files (f), ==, PB_TEST_MAIL_N_KINDS - 1);
}

static void
test_dele_drop_keeps (Fixture      *f,
                      gconstpointer data)
{
  g_autoptr(PbPop3Client) client = NULL;
  g_autoptr(PbPop3Client) again = NULL;
  g_autoptr(GError) error = NULL;
  guint count;
  guint64 size;

  if (f->process == NULL)
    return;

  client = login (f);
  pb_test_pop3_dele (client, 1, &error);
  g_assert_no_error (error);
  pb_pop3_client_close (client);

  /* mpopd holds a lock per session; the next login waits for the old
   * session to end, then sees every message. */
  again = login (f);
  pb_test_pop3_stat (again, &count, &size, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, PB_TEST_MAIL_N_KINDS);
  pb_test_pop3_quit (again, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_files (f), ==, PB_TEST_MAIL_N_KINDS);
}

int
main (int argc, char *argv[])
{
  pb_test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add ("/pop3/mpopd/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("capabilities", test_capabilities);
  ADD ("auto-user-with-security-none", test_auto_user_with_security_none);
  ADD ("starttls-refused", test_starttls_refused);
  ADD ("sasl-unavailable", test_sasl_unavailable);
  ADD ("top-unsupported", test_top_unsupported);
  ADD ("mailbox-byte-exact", test_mailbox_byte_exact);
  ADD ("dele-quit-removes", test_dele_quit_removes);
  ADD ("dele-drop-keeps", test_dele_drop_keeps);
#undef ADD

  return g_test_run ();
}

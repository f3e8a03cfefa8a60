/* The test Dovecot itself: it starts on free loopback ports, greets as this
 * instance, speaks TLS with a certificate from the test CA, serves what was
 * delivered byte for byte, and leaves no process behind.
 *
 * The POP3 here is a few blocking lines on purpose: the harness must be
 * proven without the engine it is there to test. */
#define _GNU_SOURCE  /* nftw */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gmime/gmime.h>

#include "pb-test-dovecot.h"
#include "pb-test-mail.h"
#include "pb-test-util.h"

/* GMime 3.2 has no autoptr support of its own. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)

typedef struct {
  GIOStream        *stream;
  GDataInputStream *in;
  GOutputStream    *out;
} Session;

static void
session_free (Session *s)
{
  g_clear_object (&s->in);
  g_clear_object (&s->stream);
  g_free (s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Session, session_free)

static char *
read_line (Session *s)
{
  g_autoptr(GError) error = NULL;
  gsize len;
  char *line = g_data_input_stream_read_line (s->in, &len, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (line);
  if (len > 0 && line[len - 1] == '\r')
    line[len - 1] = '\0';
  return line;
}

static char *
command (Session    *s,
         const char *line)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *full = g_strconcat (line, "\r\n", NULL);

  g_output_stream_write_all (s->out, full, strlen (full), NULL, NULL, &error);
  g_assert_no_error (error);
  return read_line (s);
}

/* A multi-line body after "+OK", dot-unstuffed, CRLF turned into LF. */
static GBytes *
read_multiline (Session *s)
{
  GString *body = g_string_new (NULL);

  for (;;)
    {
      g_autofree char *line = read_line (s);

      if (g_str_equal (line, "."))
        break;
      g_string_append (body, line[0] == '.' ? line + 1 : line);
      g_string_append_c (body, '\n');
    }
  return g_string_free_to_bytes (body);
}

static Session *
session_new (GIOStream *stream)
{
  Session *s = g_new0 (Session, 1);

  s->stream = stream;
  s->in = g_data_input_stream_new (g_io_stream_get_input_stream (stream));
  g_data_input_stream_set_newline_type (s->in, G_DATA_STREAM_NEWLINE_TYPE_LF);
  s->out = g_io_stream_get_output_stream (stream);
  return s;
}

static Session *
connect_plain (PbTestDovecot *d)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection;

  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_set_timeout (client, 30);
  connection = g_socket_client_connect_to_host (client, pb_test_dovecot_get_host (d),
                                                pb_test_dovecot_get_plain_port (d),
                                                NULL, &error);
  g_assert_no_error (error);
  return session_new (G_IO_STREAM (connection));
}

static Session *
connect_tls (PbTestDovecot *d,
             const char    *host)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GTlsDatabase) database = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GSocketConnectable) identity = g_network_address_new (host, pb_test_dovecot_get_tls_port (d));
  GIOStream *tls;

  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_set_timeout (client, 30);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1",
                                                pb_test_dovecot_get_tls_port (d),
                                                NULL, &error);
  g_assert_no_error (error);
  database = g_tls_file_database_new (pb_test_dovecot_get_ca_file (d), &error);
  g_assert_no_error (error);
  tls = g_tls_client_connection_new (G_IO_STREAM (connection), identity, &error);
  g_assert_no_error (error);
  g_tls_connection_set_database (G_TLS_CONNECTION (tls), database);
  g_tls_connection_handshake (G_TLS_CONNECTION (tls), NULL, &error);
  g_assert_no_error (error);
  return session_new (tls);
}

static void
login (Session    *s,
       const char *user,
       const char *password)
{
  g_autofree char *user_cmd = g_strdup_printf ("USER %s", user);
  g_autofree char *pass_cmd = g_strdup_printf ("PASS %s", password);
  g_autofree char *r1 = command (s, user_cmd);
  g_autofree char *r2 = command (s, pass_cmd);

  g_assert_cmpstr (r1, ==, "+OK");
  g_assert_true (g_str_has_prefix (r2, "+OK"));
}

static PbTestDovecot *
start_or_skip (void)
{
  g_autoptr(GError) error = NULL;
  PbTestDovecot *d = pb_test_dovecot_start (&error);

  g_assert_no_error (error);
  return d;
}

static void
test_greeting_and_capa (void)
{
  g_autoptr(PbTestDovecot) d = start_or_skip ();
  g_autoptr(Session) s = NULL;
  g_autofree char *greeting = NULL;
  g_autofree char *ok = NULL;
  g_autoptr(GBytes) capa = NULL;

  if (d == NULL)
    return;

  g_assert_cmpuint (pb_test_dovecot_get_plain_port (d), !=, 0);
  g_assert_cmpuint (pb_test_dovecot_get_tls_port (d), !=, 0);
  g_assert_cmpuint (pb_test_dovecot_get_plain_port (d), !=, pb_test_dovecot_get_tls_port (d));

  s = connect_plain (d);
  greeting = read_line (s);
  g_assert_true (g_str_has_prefix (greeting, "+OK "));
  g_assert_nonnull (strstr (greeting, pb_test_dovecot_get_greeting_token (d)));
  /* APOP is enabled: the greeting carries its timestamp (RFC 1939 7). */
  g_assert_nonnull (strchr (greeting, '<'));

  ok = command (s, "CAPA");
  g_assert_cmpstr (ok, ==, "+OK");
  capa = read_multiline (s);
  g_assert_nonnull (strstr (g_bytes_get_data (capa, NULL), "\nSTLS\n"));
  g_assert_nonnull (strstr (g_bytes_get_data (capa, NULL),
                            "SASL PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256\n"));
}

static void
test_tls_port_verifies (void)
{
  g_autoptr(PbTestDovecot) d = start_or_skip ();
  const char *hosts[] = { "127.0.0.1", "localhost" };

  if (d == NULL)
    return;

  /* The certificate is valid for both names, signed by the test CA. */
  for (guint i = 0; i < G_N_ELEMENTS (hosts); i++)
    {
      g_autoptr(Session) s = connect_tls (d, hosts[i]);
      g_autofree char *greeting = read_line (s);

      g_assert_nonnull (strstr (greeting, pb_test_dovecot_get_greeting_token (d)));
      login (s, pb_test_dovecot_get_user (d), pb_test_dovecot_get_password (d));
    }
}

static void
test_deliver_and_retr (void)
{
  g_autoptr(PbTestDovecot) d = start_or_skip ();
  g_autoptr(GError) error = NULL;
  g_autoptr(Session) s = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autofree char *greeting = NULL;
  g_autofree char *stat = NULL;
  g_autofree char *expected_stat_prefix = NULL;

  if (d == NULL)
    return;

  for (guint kind = 0; kind < PB_TEST_MAIL_N_KINDS; kind++)
    {
      g_autoptr(GBytes) message = pb_test_mail_awkward (kind);

      pb_test_dovecot_deliver (d, NULL, message, &error);
      g_assert_no_error (error);
    }

  /* Read back in numbering order, exactly as delivered. */
  files = pb_test_dovecot_list_messages (d, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (files->len, ==, PB_TEST_MAIL_N_KINDS);
  for (guint kind = 0; kind < PB_TEST_MAIL_N_KINDS; kind++)
    {
      g_autoptr(GBytes) message = pb_test_mail_awkward (kind);
      PbTestMessage *file = g_ptr_array_index (files, kind);

      g_assert_true (g_bytes_equal (file->contents, message));
    }

  s = connect_plain (d);
  greeting = read_line (s);
  login (s, pb_test_dovecot_get_user (d), pb_test_dovecot_get_password (d));
  stat = command (s, "STAT");
  expected_stat_prefix = g_strdup_printf ("+OK %u ", PB_TEST_MAIL_N_KINDS);
  g_assert_true (g_str_has_prefix (stat, expected_stat_prefix));

  for (guint i = 0; i < files->len; i++)
    {
      PbTestMessage *file = g_ptr_array_index (files, i);
      g_autofree char *retr = g_strdup_printf ("RETR %u", i + 1);
      g_autofree char *top = g_strdup_printf ("TOP %u 0", i + 1);
      g_autofree char *ok = command (s, retr);
      g_autoptr(GBytes) got = NULL;
      g_autoptr(GBytes) want = pb_test_mail_expected_retr (file->contents);
      g_autoptr(GBytes) got_top = NULL;
      g_autoptr(GBytes) want_top = pb_test_mail_expected_top0 (file->contents);
      g_autofree char *ok_top = NULL;

      g_test_message ("message %u: %s", i + 1, pb_test_mail_kind_name (i));
      g_assert_true (g_str_has_prefix (ok, "+OK"));
      got = read_multiline (s);
      g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got),
                       g_bytes_get_data (want, NULL), g_bytes_get_size (want));

      ok_top = command (s, top);
      g_assert_true (g_str_has_prefix (ok_top, "+OK"));
      got_top = read_multiline (s);
      g_assert_cmpmem (g_bytes_get_data (got_top, NULL), g_bytes_get_size (got_top),
                       g_bytes_get_data (want_top, NULL), g_bytes_get_size (want_top));
    }
}

static void
test_add_user (void)
{
  g_autoptr(PbTestDovecot) d = start_or_skip ();
  g_autoptr(GError) error = NULL;
  g_autoptr(Session) s = NULL;
  g_autoptr(GBytes) note = pb_test_mail_simple ("a@example.org", "for bob", "hello bob\n");
  g_autofree char *greeting = NULL;
  g_autofree char *stat = NULL;

  if (d == NULL)
    return;

  pb_test_dovecot_add_user (d, "bob", "bobs password", &error);
  g_assert_no_error (error);
  pb_test_dovecot_deliver (d, "bob", note, &error);
  g_assert_no_error (error);

  s = connect_plain (d);
  greeting = read_line (s);
  login (s, "bob", "bobs password");
  stat = command (s, "STAT");
  g_assert_true (g_str_has_prefix (stat, "+OK 1 "));

  /* A user that was never added is refused clearly. */
  g_assert_false (pb_test_dovecot_deliver (d, "carol", note, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (pb_test_dovecot_add_user (d, "eve:x", "pw", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* Processes whose process group is @pgid, zombies excepted: an orphan
 * whose parent died is reaped by PID 1, which in a container may never
 * happen; a zombie runs nothing and holds no port. */
static guint
count_live_processes_in_group (GPid pgid)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  const char *entry;
  guint count = 0;

  g_assert_nonnull (proc);
  while ((entry = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc", entry, "stat", NULL);
      g_autofree char *stat = NULL;
      g_auto(GStrv) fields = NULL;
      const char *after_name;

      if (!g_ascii_isdigit (entry[0]) || !g_file_get_contents (path, &stat, NULL, NULL))
        continue;
      /* "pid (comm) state ppid pgrp ..."; comm may hold spaces. */
      after_name = strrchr (stat, ')');
      if (after_name == NULL)
        continue;
      fields = g_strsplit (after_name + 2, " ", 4);
      if (g_strv_length (fields) < 3)
        continue;
      if (g_ascii_strtoll (fields[2], NULL, 10) == pgid && !g_str_equal (fields[0], "Z"))
        {
          g_test_message ("still running in group %d: %s", (int) pgid, stat);
          count++;
        }
    }
  return count;
}

static void
test_stop_leaves_nothing (void)
{
  g_autoptr(GError) error = NULL;
  PbTestDovecot *d = start_or_skip ();
  g_autofree char *dir = NULL;
  g_autofree char *pid_path = NULL;
  g_autofree char *pid_text = NULL;
  GPid pid;

  if (d == NULL)
    return;

  dir = g_strdup (pb_test_dovecot_get_dir (d));
  pid_path = g_build_filename (dir, "run", "master.pid", NULL);
  g_file_get_contents (pid_path, &pid_text, NULL, &error);
  g_assert_no_error (error);
  pid = (GPid) g_ascii_strtoll (pid_text, NULL, 10);
  g_assert_cmpint (pid, >, 1);
  g_assert_cmpuint (count_live_processes_in_group (pid), >, 1);

  pb_test_dovecot_stop (d);

  /* Not one process of its group is left running, and its directory is
   * gone. */
  g_assert_cmpuint (count_live_processes_in_group (pid), ==, 0);
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
}

static int
remove_one (const char        *path,
            const struct stat *st,
            int                flag,
            struct FTW        *ftw)
{
  remove (path);
  return 0;
}

/* A failed test keeps the server's directory (and prints its path and
 * log as test messages) so its log and Maildirs can be read; a test that passes keeps nothing, also when
 * the program stops a shared server after g_test_run() (outside any test
 * case, where g_test_failed() is always TRUE). */
static void
test_failed_test_keeps_directory (void)
{
  g_autofree char *dovecot = NULL;

  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      PbTestDovecot *d = pb_test_dovecot_start (&error);
      g_autofree char *dir = NULL;
      g_autofree char *log = NULL;

      g_assert_no_error (error);
      g_assert_nonnull (d);
      dir = g_strdup (pb_test_dovecot_get_dir (d));
      log = g_build_filename (dir, "dovecot.log", NULL);
      g_test_fail ();
      pb_test_dovecot_stop (d);
      /* Told to the parent on stdout; then tidied, the point is made. */
      if (g_file_test (log, G_FILE_TEST_IS_REGULAR))
        g_print ("the log is still there after the stop\n");
      nftw (dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
      return;
    }

  dovecot = pb_test_require_program ("dovecot");
  if (dovecot == NULL)
    return;

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stdout ("*the log is still there after the stop*");
}

/* The PIDs of the live processes named @comm in process group @pgid. */
static GArray *
pids_named (GPid        pgid,
            const char *comm)
{
  g_autoptr(GDir) proc = g_dir_open ("/proc", 0, NULL);
  g_autofree char *wanted = g_strdup_printf ("(%s)", comm);
  GArray *pids = g_array_new (FALSE, FALSE, sizeof (GPid));
  const char *entry;

  g_assert_nonnull (proc);
  while ((entry = g_dir_read_name (proc)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc", entry, "stat", NULL);
      g_autofree char *stat = NULL;
      g_auto(GStrv) fields = NULL;
      const char *after_name;
      GPid pid;

      if (!g_ascii_isdigit (entry[0]) || !g_file_get_contents (path, &stat, NULL, NULL))
        continue;
      after_name = strrchr (stat, ')');
      if (after_name == NULL || strstr (stat, wanted) == NULL)
        continue;
      fields = g_strsplit (after_name + 2, " ", 4);
      if (g_strv_length (fields) < 3 || g_str_equal (fields[0], "Z")
          || g_ascii_strtoll (fields[2], NULL, 10) != pgid)
        continue;
      pid = (GPid) g_ascii_strtoll (entry, NULL, 10);
      g_array_append_val (pids, pid);
    }
  return pids;
}

/* Polls (the machine may be loaded) until the number of @comm processes
 * satisfies at_least ? >= n : == n; returns their PIDs. */
static GArray *
wait_for_pids (GPid        pgid,
               const char *comm,
               gboolean    at_least,
               guint       n)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  for (;;)
    {
      GArray *pids = pids_named (pgid, comm);

      if (at_least ? pids->len >= n : pids->len == n)
        return pids;
      if (g_get_monotonic_time () > deadline)
        g_error ("%u %s processes after 60 s, expected %s%u", pids->len, comm,
                 at_least ? "at least " : "", n);
      g_array_unref (pids);
      g_usleep (20 * 1000);
    }
}

static void
assert_all_alive (GPid        pgid,
                  const char *comm,
                  GArray     *before)
{
  g_autoptr(GArray) now = pids_named (pgid, comm);

  for (guint i = 0; i < before->len; i++)
    {
      GPid pid = g_array_index (before, GPid, i);
      gboolean alive = FALSE;

      for (guint j = 0; j < now->len; j++)
        alive |= g_array_index (now, GPid, j) == pid;
      g_test_message ("%s process %d: %s", comm, (int) pid, alive ? "still running" : "gone");
      g_assert_true (alive);
    }
}

static GPid
master_pid (PbTestDovecot *d)
{
  g_autofree char *path = g_build_filename (pb_test_dovecot_get_dir (d), "run", "master.pid", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (path, &text, NULL, &error);
  g_assert_no_error (error);
  return (GPid) g_ascii_strtoll (text, NULL, 10);
}

static void
tls_session (PbTestDovecot *d)
{
  g_autoptr(Session) s = connect_tls (d, "127.0.0.1");
  g_autofree char *greeting = read_line (s);
  g_autofree char *stat = NULL;
  g_autofree char *bye = NULL;

  g_assert_true (g_str_has_prefix (greeting, "+OK "));
  login (s, pb_test_dovecot_get_user (d), pb_test_dovecot_get_password (d));
  stat = command (s, "STAT");
  g_assert_true (g_str_has_prefix (stat, "+OK 0 "));
  bye = command (s, "QUIT");
  g_assert_true (g_str_has_prefix (bye, "+OK"));
}

/* The tests' server keeps Dovecot's defaults: a login process and a pop3
 * process per connection, both gone when it ends. */
static void
test_default_processes (void)
{
  PbTestDovecot *d = start_or_skip ();
  GPid master;

  if (d == NULL)
    return;
  master = master_pid (d);
  tls_session (d);
  g_array_unref (wait_for_pids (master, "pop3-login", FALSE, 0));
  g_array_unref (wait_for_pids (master, "pop3", FALSE, 0));
  pb_test_dovecot_stop (d);
}

/* The benchmarks' server: login and pop3 processes started ahead and kept
 * across sessions (a process per session would exit after serving it). */
static void
test_high_performance_processes (void)
{
  g_autoptr(GError) error = NULL;
  PbTestDovecot *d = pb_test_dovecot_start_with (PB_TEST_DOVECOT_PROCESSES_HIGH_PERFORMANCE, &error);
  g_autoptr(GArray) logins = NULL;
  g_autoptr(GArray) mail = NULL;
  GPid master;

  g_assert_no_error (error);
  if (d == NULL)
    return;
  master = master_pid (d);
  logins = wait_for_pids (master, "pop3-login", TRUE, 2);
  mail = wait_for_pids (master, "pop3", TRUE, 2);

  for (guint i = 0; i < 3; i++)
    tls_session (d);

  /* The first session went to processes that were waiting (a process
   * with service_count = 1 would be gone two sessions later), and every
   * one of those still runs. */
  assert_all_alive (master, "pop3-login", logins);
  assert_all_alive (master, "pop3", mail);
  pb_test_dovecot_stop (d);
}

static void
test_fill_is_realistic (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("pb-fill-XXXXXX", &error);
  g_autofree char *maildir = NULL;
  g_autofree char *new_dir = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *entry;
  gsize total = 0;

  g_assert_no_error (error);
  maildir = g_build_filename (tmp, "Maildir", NULL);
  pb_test_mail_fill_maildir (maildir, 300, 6000, 1, &error);
  g_assert_no_error (error);

  new_dir = g_build_filename (maildir, "new", NULL);
  dir = g_dir_open (new_dir, 0, &error);
  g_assert_no_error (error);
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (new_dir, entry, NULL);
      g_autofree char *text = NULL;
      g_autoptr(GMimeParser) parser = NULL;
      g_autoptr(GMimeMessage) message = NULL;
      g_autoptr(GMimeStream) stream = NULL;
      gsize len;

      g_file_get_contents (path, &text, &len, &error);
      g_assert_no_error (error);
      total += len;
      g_ptr_array_add (names, g_strdup (entry));

      /* Every message parses and has the headers a summary needs. */
      stream = g_mime_stream_mem_new_with_buffer (text, len);
      parser = g_mime_parser_new_with_stream (stream);
      message = g_mime_parser_construct_message (parser, NULL);
      g_assert_nonnull (message);
      g_assert_nonnull (g_mime_message_get_subject (message));
      g_assert_nonnull (g_mime_message_get_date (message));
      g_assert_cmpint (internet_address_list_length (g_mime_message_get_from (message)), ==, 1);
      g_unlink (path);
    }
  g_assert_cmpuint (names->len, ==, 300);
  /* The average is what was asked for, give or take 15%. */
  g_assert_cmpuint (total / names->len, >, 6000 * 85 / 100);
  g_assert_cmpuint (total / names->len, <, 6000 * 115 / 100);

  for (guint i = 0; i < 3; i++)
    {
      const char *subdirs[] = { "new", "cur", "tmp" };
      g_autofree char *sub = g_build_filename (maildir, subdirs[i], NULL);

      g_rmdir (sub);
    }
  g_rmdir (maildir);
  g_rmdir (tmp);
}

static void
test_international_headers_decode (void)
{
  g_autoptr(GBytes) bytes = pb_test_mail_awkward (PB_TEST_MAIL_INTERNATIONAL);
  g_autoptr(GMimeStream) stream = g_mime_stream_mem_new_with_buffer (g_bytes_get_data (bytes, NULL),
                                                                      g_bytes_get_size (bytes));
  g_autoptr(GMimeParser) parser = g_mime_parser_new_with_stream (stream);
  g_autoptr(GMimeMessage) message = g_mime_parser_construct_message (parser, NULL);
  InternetAddress *from;

  g_assert_nonnull (message);
  g_assert_cmpstr (g_mime_message_get_subject (message), ==, PB_TEST_MAIL_INTERNATIONAL_SUBJECT);
  from = internet_address_list_get_address (g_mime_message_get_from (message), 0);
  g_assert_cmpstr (internet_address_get_name (from), ==, PB_TEST_MAIL_INTERNATIONAL_FROM_NAME);
}

static void
test_names_sort_like_dovecot (void)
{
  g_assert_cmpint (pb_test_mail_maildir_name_compare ("999999999.M5P1.x", "1000000000.M1P1.x"), <, 0);
  g_assert_cmpint (pb_test_mail_maildir_name_compare ("100.M000002P1.x", "100.M000010P1.x"), <, 0);
  g_assert_cmpint (pb_test_mail_maildir_name_compare ("100.M10P1.x", "100.M2P1.x"), >, 0);
  g_assert_cmpint (pb_test_mail_maildir_name_compare ("100.M1P1.a", "100.M1P1.b"), <, 0);
}

int
main (int argc, char *argv[])
{
  pb_test_init (&argc, &argv);
  g_mime_init ();

  g_test_add_func ("/dovecot/harness/greeting-and-capa", test_greeting_and_capa);
  g_test_add_func ("/dovecot/harness/tls-port-verifies", test_tls_port_verifies);
  g_test_add_func ("/dovecot/harness/deliver-and-retr", test_deliver_and_retr);
  g_test_add_func ("/dovecot/harness/add-user", test_add_user);
  g_test_add_func ("/dovecot/harness/stop-leaves-nothing", test_stop_leaves_nothing);
  g_test_add_func ("/dovecot/harness/failed-test-keeps-directory", test_failed_test_keeps_directory);
  g_test_add_func ("/dovecot/harness/default-processes", test_default_processes);
  g_test_add_func ("/dovecot/harness/high-performance-processes", test_high_performance_processes);
  g_test_add_func ("/dovecot/mail/fill-is-realistic", test_fill_is_realistic);
  g_test_add_func ("/dovecot/mail/international-headers-decode", test_international_headers_decode);
  g_test_add_func ("/dovecot/mail/names-sort-like-dovecot", test_names_sort_like_dovecot);

  return g_test_run ();
}

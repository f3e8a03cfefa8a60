/* pb-test-dovecot.c: a private Dovecot per test (see the header). */
#define _GNU_SOURCE  /* nftw */
#include <errno.h>
#include <ftw.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gio.h>

#include "pb-test-certs.h"
#include "pb-test-dovecot.h"
#include "pb-test-introspection.h"
#include "pb-test-mail.h"
#include "pb-test-util.h"

/* Generous: seven people build on two cores. A healthy start takes well
 * under a second. */
#define START_DEADLINE_USEC (60 * G_USEC_PER_SEC)
#define STOP_DEADLINE_USEC  (20 * G_USEC_PER_SEC)
/* A test server needs no graceful shutdown; the master would wait 5 s for
 * a login process that was still starting. */
#define STOP_GRACE_USEC     (2 * G_USEC_PER_SEC)
#define POLL_INTERVAL_USEC  (10 * 1000)
/* Another process may take a port between our probe and Dovecot's bind. */
#define MAX_PORT_ATTEMPTS   8

struct _PbTestDovecot {
  char        *dir;          /* everything lives under here */
  char        *conf_path;
  char        *log_path;     /* Dovecot's own log (log_path) */
  char        *stderr_path;  /* the master's stderr: early fatal errors */
  char        *passwd_dir;   /* one passwd-file per user */
  char        *ca_file;
  char        *cert_file;
  char        *key_file;
  char        *token;        /* in the greeting: proves the port is ours */
  char        *user;
  char        *password;
  guint16      plain_port;
  guint16      tls_port;
  GSubprocess *process;
  GPid         pid;          /* also the process group id */
  gboolean     detached;
  PbTestDovecotProcesses processes;
  /* pb_test_dovecot_start_oauth2() only: the endpoint the oauth2 passdb
   * asks, and the passdb's configuration file. NULL otherwise. */
  PbTestIntrospection *introspection;
  char        *oauth2_conf_path;
};

/* Which accounts Dovecot's processes run as. As root, Dovecot refuses root
 * for login processes and for mail access, so we use its own system users
 * and "nobody" for mail; otherwise everything runs as the current user. */
typedef struct {
  char *internal_user, *internal_group;
  char *login_user;
  char *mail_user, *mail_group;
  uid_t mail_uid;
  gid_t mail_gid;
} Accounts;

static void
accounts_clear (Accounts *a)
{
  g_free (a->internal_user);
  g_free (a->internal_group);
  g_free (a->login_user);
  g_free (a->mail_user);
  g_free (a->mail_group);
}

static const char *
first_existing_user (const char * const *candidates)
{
  for (guint i = 0; candidates[i] != NULL; i++)
    if (getpwnam (candidates[i]) != NULL)
      return candidates[i];
  return NULL;
}

static gboolean
accounts_init (Accounts *a,
               GError  **error)
{
  memset (a, 0, sizeof *a);

  if (geteuid () == 0)
    {
      static const char * const internal[] = { "dovecot", "nobody", NULL };
      static const char * const login[] = { "dovenull", "nobody", NULL };
      static const char * const mail[] = { "nobody", NULL };
      const char *i = first_existing_user (internal);
      const char *l = first_existing_user (login);
      const char *m = first_existing_user (mail);
      struct passwd *pw;
      struct group *gr;

      if (i == NULL || l == NULL || m == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "Running as root, but the users Dovecot needs "
                       "(dovecot, dovenull or nobody) do not exist");
          return FALSE;
        }
      a->internal_user = g_strdup (i);
      gr = getgrgid (getpwnam (i)->pw_gid);
      a->internal_group = g_strdup (gr != NULL ? gr->gr_name : i);
      a->login_user = g_strdup (l);
      pw = getpwnam (m);
      a->mail_uid = pw->pw_uid;
      a->mail_gid = pw->pw_gid;
      a->mail_user = g_strdup (m);
      gr = getgrgid (pw->pw_gid);
      a->mail_group = g_strdup (gr != NULL ? gr->gr_name : m);
    }
  else
    {
      struct passwd *pw = getpwuid (getuid ());
      struct group *gr = getgrgid (getgid ());

      if (pw == NULL || gr == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "The current user or group has no name");
          return FALSE;
        }
      a->internal_user = g_strdup (pw->pw_name);
      a->internal_group = g_strdup (gr->gr_name);
      a->login_user = g_strdup (pw->pw_name);
      a->mail_user = g_strdup (pw->pw_name);
      a->mail_group = g_strdup (gr->gr_name);
      a->mail_uid = getuid ();
      a->mail_gid = getgid ();
    }
  return TRUE;
}

/* Files */

static gboolean
write_file (const char *path,
            const char *contents,
            int         mode,
            GError    **error)
{
  if (!g_file_set_contents_full (path, contents, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT, mode, error))
    return FALSE;
  return TRUE;
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

static void
remove_tree (const char *dir)
{
  nftw (dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The test CA and the server certificate (CN=localhost, SAN localhost,
 * 127.0.0.1, ::1), from the shared test certificate set; its file names
 * are the ones self->ca_file, cert_file and key_file expect. */
static gboolean
make_certificates (PbTestDovecot *self,
                   GError       **error)
{
  g_autoptr(PbTestCerts) certs = pb_test_certs_new (self->dir, error);

  if (certs == NULL)
    return FALSE;
  g_assert_cmpstr (certs->ca_pem, ==, self->ca_file);
  g_assert_cmpstr (certs->server_pem, ==, self->cert_file);
  g_assert_cmpstr (certs->server_key, ==, self->key_file);
  return TRUE;
}

/* Service settings for @processes, from Dovecot's documentation
 * (admin_manual/login_processes and configuration_manual/
 * service_configuration): "high-performance mode" is service_count = 0
 * with process_min_avail = the number of CPU cores; a mail process may
 * serve more sessions than one ("100..1000 can be good values"), which
 * saves a fork and exec per login. auth must accept a client per login
 * and pop3 process then (Dovecot warns otherwise). */
static const char *
processes_config (PbTestDovecotProcesses processes)
{
  switch (processes)
    {
    case PB_TEST_DOVECOT_PROCESSES_HIGH_PERFORMANCE:
      return "service pop3-login {\n"
             "  service_count = 0\n"
             "  process_min_avail = 2\n"
             "}\n"
             "service pop3 {\n"
             "  service_count = 100\n"
             "  process_min_avail = 2\n"
             "}\n"
             "service auth {\n"
             "  client_limit = 2048\n"
             "}\n";
    case PB_TEST_DOVECOT_PROCESSES_DEFAULT:
    default:
      return "";
    }
}

static gboolean
write_config (PbTestDovecot  *self,
              const Accounts *a,
              GError        **error)
{
  g_autofree char *run_dir = g_build_filename (self->dir, "run", NULL);
  g_autofree char *state_dir = g_build_filename (self->dir, "state", NULL);
  g_autofree char *mail_root = g_build_filename (self->dir, "mail", NULL);
  g_autofree char *conf = NULL;
  g_autofree char *oauth2_passdb = NULL;
  gboolean oauth2 = self->oauth2_conf_path != NULL;

  /* Dovecot makes base_dir itself; a leftover from an attempt on other
   * ports must go, or it sees a stale master.pid. */
  remove_tree (run_dir);
  if (g_mkdir_with_parents (state_dir, 0755) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot create %s: %s", state_dir, g_strerror (errno));
      return FALSE;
    }

  /* Tokens go to the oauth2 passdb only, and passwords to the
   * passwd-file only: a token is never compared with a password, nor a
   * password sent to the introspection endpoint. */
  if (oauth2)
    oauth2_passdb = g_strdup_printf ("passdb {\n"
                                     "  driver = oauth2\n"
                                     "  mechanisms = xoauth2 oauthbearer\n"
                                     "  args = %s\n"
                                     "}\n", self->oauth2_conf_path);

  conf = g_strdup_printf (
    "# Written by tests/lib/pb-test-dovecot.c for one test run. No system\n"
    "# configuration is read.\n"
    "instance_name = pbtest\n"
    "base_dir = %s\n"
    "state_dir = %s\n"
    "protocols = pop3\n"
    "listen = 127.0.0.1\n"
    "log_path = %s\n"
    "login_greeting = Popbiff test Dovecot %s ready.\n"
    "default_internal_user = %s\n"
    "default_internal_group = %s\n"
    "default_login_user = %s\n"
    "first_valid_uid = 0\n"
    "first_valid_gid = 0\n"
    "mail_uid = %s\n"
    "mail_gid = %s\n"
    "mail_location = maildir:%s/%%u\n"
    "pop3_uidl_format = %%08Xu%%08Xv\n"
    /* Plaintext passwords, so every mechanism works; cleartext auth is
     * allowed on the plain port for the security=none tests. */
    "auth_mechanisms = plain login cram-md5 scram-sha-256 apop%s\n"
    "disable_plaintext_auth = no\n"
    "%s"
    /* Wrong-password tests must not slow down the next login: no failure
     * delay beyond Dovecot's 0.5 s tick, and no per-IP penalty (the auth
     * process cannot reach anvil's penalty socket). */
    "auth_failure_delay = 0\n"
    "service anvil {\n"
    "  unix_listener anvil-auth-penalty {\n"
    "    mode = 0\n"
    "  }\n"
    "}\n"
    "ssl = yes\n"
    "ssl_cert = <%s\n"
    "ssl_key = <%s\n"
    /* A file per user: Dovecot rereads a changed passwd-file at most once
     * a second, so a user added right after a login would be unknown; a
     * new file is read when first needed. */
    "passdb {\n"
    "  driver = passwd-file\n"
    "%s"
    "  args = scheme=PLAIN username_format=%%u %s/%%u\n"
    "}\n"
    "%s"
    "userdb {\n"
    "  driver = passwd-file\n"
    "  args = username_format=%%u %s/%%u\n"
    "}\n"
    "service pop3-login {\n"
    "  chroot =\n"
    "  inet_listener pop3 {\n"
    "    address = 127.0.0.1\n"
    "    port = %u\n"
    "  }\n"
    "  inet_listener pop3s {\n"
    "    address = 127.0.0.1\n"
    "    port = %u\n"
    "    ssl = yes\n"
    "  }\n"
    "}\n"
    "%s"
    /* Benchmarks check 20 accounts of one user at once. */
    "protocol pop3 {\n"
    "  mail_max_userip_connections = 1000\n"
    "}\n",
    run_dir, state_dir, self->log_path, self->token,
    a->internal_user, a->internal_group, a->login_user,
    a->mail_user, a->mail_group, mail_root,
    oauth2 ? " xoauth2 oauthbearer" : "",
    /* Dovecot's default set plus '=': OAUTHBEARER must escape it in the
     * user name (RFC 7628 section 3.1), and Dovecot unescapes it. */
    oauth2 ? "auth_username_chars = abcdefghijklmnopqrstuvwxyz"
             "ABCDEFGHIJKLMNOPQRSTUVWXYZ01234567890.-_@=\n" : "",
    self->cert_file, self->key_file,
    oauth2 ? "  mechanisms = plain login cram-md5 scram-sha-256 apop\n" : "",
    self->passwd_dir, oauth2 ? oauth2_passdb : "", self->passwd_dir,
    self->plain_port, self->tls_port, processes_config (self->processes));

  return write_file (self->conf_path, conf, 0644, error);
}

/* Two free loopback ports, held open together so they differ. Another
 * process may still take one before Dovecot binds it; the caller retries. */
static gboolean
pick_ports (guint16 *plain,
            guint16 *tls,
            GError **error)
{
  GSocket *sockets[2] = { NULL, NULL };
  guint16 ports[2] = { 0, 0 };
  gboolean ok = TRUE;

  for (guint i = 0; i < 2 && ok; i++)
    {
      g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
      g_autoptr(GSocketAddress) bound = NULL;

      sockets[i] = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                 G_SOCKET_PROTOCOL_TCP, error);
      ok = sockets[i] != NULL
           && g_socket_bind (sockets[i], any, FALSE, error)
           && (bound = g_socket_get_local_address (sockets[i], error)) != NULL;
      if (ok)
        ports[i] = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
    }
  for (guint i = 0; i < 2; i++)
    g_clear_object (&sockets[i]);
  *plain = ports[0];
  *tls = ports[1];
  return ok;
}

/* The process */

typedef struct {
  GPid parent;  /* 0: not tied to the parent's life */
} ChildSetup;

static void
child_setup (gpointer data)
{
  const ChildSetup *setup = data;

  /* Our own process group, so teardown can kill every Dovecot process at
   * once, whatever the master managed to do. */
  setpgid (0, 0);
  if (setup->parent != 0)
    {
      /* If the test process dies (an assertion aborts it), the master gets
       * SIGTERM and takes its children down. */
      prctl (PR_SET_PDEATHSIG, SIGTERM);
      if (getppid () != setup->parent)
        raise (SIGTERM);
    }
}

static gboolean
process_exited (PbTestDovecot *self)
{
  /* The identifier goes NULL once GLib's worker thread has reaped it. */
  return self->process == NULL || g_subprocess_get_identifier (self->process) == NULL;
}

static char *
read_text (const char *path)
{
  char *text = NULL;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return g_strdup ("");
  return text;
}

char *
pb_test_dovecot_read_log (PbTestDovecot *self)
{
  g_autofree char *log = NULL;
  g_autofree char *err = NULL;

  g_return_val_if_fail (self != NULL, NULL);
  log = read_text (self->log_path);
  err = read_text (self->stderr_path);
  if (self->introspection != NULL)
    {
      g_autofree char *output = pb_test_introspection_read_output (self->introspection);

      if (*output != '\0')
        {
          g_autofree char *both = g_strconcat (log, "-- introspection endpoint --\n",
                                               output, NULL);

          g_free (log);
          log = g_steal_pointer (&both);
        }
    }
  if (*err == '\0')
    return g_steal_pointer (&log);
  return g_strconcat (log, "-- stderr --\n", err, NULL);
}

/* Connects to @port, reads the greeting and checks it is this instance's.
 * FALSE while the port does not answer (yet). */
static gboolean
port_answers (guint16     port,
              const char *token)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autofree char *line = NULL;

  /* Loopback only; no proxy lookup (it wants GSettings schemas). */
  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_set_timeout (client, 10);
  connection = g_socket_client_connect_to_host (client, "127.0.0.1", port, NULL, NULL);
  if (connection == NULL)
    return FALSE;
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  line = g_data_input_stream_read_line (in, NULL, NULL, NULL);
  return line != NULL && g_str_has_prefix (line, "+OK ") && strstr (line, token) != NULL;
}

static char *
find_dovecot (void)
{
  char *path = g_find_program_in_path ("dovecot");

  /* A non-root PATH often lacks the sbin directories. */
  if (path == NULL && g_file_test ("/usr/sbin/dovecot", G_FILE_TEST_IS_EXECUTABLE))
    path = g_strdup ("/usr/sbin/dovecot");
  return path;
}

static void
wait_for_exit (PbTestDovecot *self,
               gint64         deadline)
{
  while (!process_exited (self) && g_get_monotonic_time () < deadline)
    g_usleep (POLL_INTERVAL_USEC);
}

/* Stops every process of the group at once (the master alone would wait
 * seconds for login processes to wind down), then kills whatever is left,
 * so no Dovecot outlives the test. */
static void
terminate (PbTestDovecot *self)
{
  if (self->process == NULL)
    return;

  if (!process_exited (self))
    {
      kill (-self->pid, SIGTERM);
      wait_for_exit (self, g_get_monotonic_time () + STOP_GRACE_USEC);
    }
  if (!process_exited (self))
    {
      kill (-self->pid, SIGKILL);
      wait_for_exit (self, g_get_monotonic_time () + STOP_DEADLINE_USEC);
    }
  kill (-self->pid, SIGKILL);
  g_clear_object (&self->process);
}

typedef enum { START_READY, START_RETRY, START_FAILED } StartResult;

static StartResult
spawn_and_wait (PbTestDovecot *self,
                const char    *dovecot,
                GError       **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  ChildSetup setup = { self->detached ? 0 : getpid () };
  gint64 deadline = g_get_monotonic_time () + START_DEADLINE_USEC;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_stdout_file_path (launcher, self->stderr_path);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, &setup, NULL);
  self->process = g_subprocess_launcher_spawn (launcher, error, dovecot,
                                               "-F", "-c", self->conf_path, NULL);
  if (self->process == NULL)
    return START_FAILED;
  self->pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (self->process), NULL, 10);

  for (;;)
    {
      if (process_exited (self))
        {
          g_autofree char *log = pb_test_dovecot_read_log (self);

          g_clear_object (&self->process);
          kill (-self->pid, SIGKILL);
          if (strstr (log, "Address already in use") != NULL)
            return START_RETRY;
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                       "Dovecot exited at start-up; its log:\n%s", log);
          return START_FAILED;
        }
      /* Our greeting on the plain port proves the master bound both
       * listeners: it binds all of them before serving, and exits if one
       * is taken. (Probing the TLS port with a bare connect would leave a
       * login process waiting for a handshake.) */
      if (port_answers (self->plain_port, self->token))
        return START_READY;
      if (g_get_monotonic_time () > deadline)
        {
          g_autofree char *log = NULL;

          terminate (self);
          log = pb_test_dovecot_read_log (self);
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                       "Dovecot did not answer on ports %u and %u within %d s; its log:\n%s",
                       self->plain_port, self->tls_port,
                       (int) (START_DEADLINE_USEC / G_USEC_PER_SEC), log);
          return START_FAILED;
        }
      g_usleep (POLL_INTERVAL_USEC);
    }
}

static gboolean
check_account_text (const char *what,
                    const char *text,
                    GError    **error)
{
  if (text == NULL || *text == '\0' || strpbrk (text, ":\r\n") != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "A test %s must be non-empty without ':' or line breaks", what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
make_maildir_for (PbTestDovecot *self,
                  const char    *user,
                  GError       **error)
{
  g_autofree char *mail_root = g_build_filename (self->dir, "mail", NULL);
  g_autofree char *maildir = g_build_filename (mail_root, user, NULL);
  Accounts a;
  gboolean ok = TRUE;

  if (!accounts_init (&a, error))
    return FALSE;
  /* The server reads, renames and deletes as the mail user. */
  for (guint i = 0; ok && i < 2; i++)
    {
      const char *dir = i == 0 ? mail_root : maildir;

      if (g_mkdir (dir, 0755) != 0 && errno != EEXIST)
        ok = FALSE;
      else if (geteuid () == 0 && chown (dir, a.mail_uid, a.mail_gid) != 0)
        ok = FALSE;
      if (!ok)
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                     "Cannot create %s: %s", dir, g_strerror (errno));
    }
  accounts_clear (&a);
  if (!ok)
    return FALSE;
  /* tmp/ new/ cur/, owned like the Maildir. */
  return pb_test_mail_fill_maildir (maildir, 0, 512, 0, error);
}

gboolean
pb_test_dovecot_add_user (PbTestDovecot *self,
                          const char    *user,
                          const char    *password,
                          GError       **error)
{
  g_autofree char *path = NULL;
  g_autofree char *mail_root = g_build_filename (self->dir, "mail", NULL);
  g_autofree char *line = NULL;

  g_return_val_if_fail (self != NULL, FALSE);

  if (!check_account_text ("user name", user, error)
      || !check_account_text ("password", password, error))
    return FALSE;
  if (strchr (user, '/') != NULL || g_str_equal (user, ".") || g_str_equal (user, ".."))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "A test user name must not be a path: %s", user);
      return FALSE;
    }
  if (!make_maildir_for (self, user, error))
    return FALSE;

  /* user:{PLAIN}password:uid:gid:gecos:home:shell; empty uid/gid mean
   * mail_uid/mail_gid. */
  if (g_mkdir_with_parents (self->passwd_dir, 0755) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot create %s: %s", self->passwd_dir, g_strerror (errno));
      return FALSE;
    }
  path = g_build_filename (self->passwd_dir, user, NULL);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "The test user “%s” exists already", user);
      return FALSE;
    }
  line = g_strdup_printf ("%s:{PLAIN}%s::::%s/%s::\n", user, password, mail_root, user);
  return write_file (path, line, 0644, error);
}

gboolean
pb_test_dovecot_add_bearer_token (PbTestDovecot *self,
                                  const char    *token,
                                  const char    *user,
                                  GError       **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (self->introspection != NULL, FALSE);
  return pb_test_introspection_add_token (self->introspection, token, user, error);
}

char **
pb_test_dovecot_get_introspected_tokens (PbTestDovecot *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (self->introspection != NULL, NULL);
  return pb_test_introspection_get_asked (self->introspection);
}

static void free_struct (PbTestDovecot *self);

/* The oauth2 passdb's settings (dovecot-oauth2.conf.ext): a token is
 * good if the endpoint says it is active, and it names the user. */
static gboolean
write_oauth2_config (PbTestDovecot *self,
                     GError       **error)
{
  g_autofree char *conf = g_strdup_printf (
    "# Written by tests/lib/pb-test-dovecot.c: XOAUTH2 and OAUTHBEARER\n"
    "# tokens checked by the test introspection endpoint on loopback.\n"
    "introspection_mode = post\n"
    "introspection_url = %s\n"
    "username_attribute = username\n"
    "active_attribute = active\n"
    "active_value = true\n"
    /* Generous, like every deadline here: a busy machine. */
    "timeout_msecs = 60000\n",
    pb_test_introspection_get_url (self->introspection));

  return write_file (self->oauth2_conf_path, conf, 0644, error);
}

static PbTestDovecot *
start_in (const char             *dir,
          gboolean                detached,
          PbTestDovecotProcesses  processes,
          gboolean                oauth2,
          GError                **error)
{
  g_autofree char *dovecot = find_dovecot ();
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  PbTestDovecot *self;
  Accounts accounts;
  guint attempt;

  if (dovecot == NULL || openssl == NULL)
    {
      const char *missing = dovecot == NULL ? "dovecot" : "openssl";

      if (detached)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       "“%s” is not installed (run tools/install-deps.sh)", missing);
          return NULL;
        }
      g_free (pb_test_require_program (missing));
      return NULL;
    }

  self = g_new0 (PbTestDovecot, 1);
  self->dir = g_strdup (dir);
  self->detached = detached;
  self->processes = processes;
  self->conf_path = g_build_filename (dir, "dovecot.conf", NULL);
  self->log_path = g_build_filename (dir, "dovecot.log", NULL);
  self->stderr_path = g_build_filename (dir, "dovecot.stderr", NULL);
  self->passwd_dir = g_build_filename (dir, "users", NULL);
  self->ca_file = g_build_filename (dir, "ca.pem", NULL);
  self->cert_file = g_build_filename (dir, "server.pem", NULL);
  self->key_file = g_build_filename (dir, "server.key", NULL);
  self->token = g_strdup_printf ("%08x", g_random_int ());
  self->user = g_strdup (PB_TEST_DOVECOT_USER);
  self->password = g_strdup (PB_TEST_DOVECOT_PASSWORD);

  /* Dovecot's unprivileged processes must be able to walk into it. */
  if (g_chmod (dir, 0755) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot chmod %s: %s", dir, g_strerror (errno));
      goto fail;
    }
  if (!accounts_init (&accounts, error))
    goto fail;
  if (!make_certificates (self, error)
      || !pb_test_dovecot_add_user (self, self->user, self->password, error))
    {
      accounts_clear (&accounts);
      goto fail;
    }
  if (oauth2)
    {
      self->introspection = pb_test_introspection_start (dir, error);
      self->oauth2_conf_path = g_build_filename (dir, "dovecot-oauth2.conf.ext", NULL);
      if (self->introspection == NULL
          || !pb_test_introspection_add_token (self->introspection, PB_TEST_DOVECOT_BEARER_TOKEN,
                                               self->user, error)
          || !write_oauth2_config (self, error))
        {
          accounts_clear (&accounts);
          if (self->introspection == NULL && (error == NULL || *error == NULL))
            {
              /* Skipped: python3 is not installed. */
              free_struct (self);
              return NULL;
            }
          goto fail;
        }
    }

  for (attempt = 0; attempt < MAX_PORT_ATTEMPTS; attempt++)
    {
      StartResult result;

      if (!pick_ports (&self->plain_port, &self->tls_port, error)
          || !write_config (self, &accounts, error))
        break;
      result = spawn_and_wait (self, dovecot, error);
      if (result == START_READY)
        {
          accounts_clear (&accounts);
          return self;
        }
      if (result == START_FAILED)
        break;
    }
  if (attempt == MAX_PORT_ATTEMPTS)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_ADDRESS_IN_USE,
                 "Dovecot found its ports taken %d times in a row", MAX_PORT_ATTEMPTS);
  accounts_clear (&accounts);

fail:
  g_prefix_error (error, "Cannot start a test Dovecot in %s: ", dir);
  /* Keep the directory: the error names it and the log is there. */
  self->detached = TRUE;
  pb_test_dovecot_stop (self);
  return NULL;
}

static PbTestDovecot *
start_in_temporary_dir (PbTestDovecotProcesses   processes,
                        gboolean                 oauth2,
                        GError                 **error)
{
  g_autofree char *dir = NULL;
  g_autoptr(GError) local_error = NULL;
  PbTestDovecot *self;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Short: Dovecot's UNIX sockets live under it (108-octet limit). */
  dir = g_dir_make_tmp ("pb-dovecot-XXXXXX", error);
  if (dir == NULL)
    return NULL;
  self = start_in (dir, FALSE, processes, oauth2, &local_error);
  if (self == NULL && local_error == NULL)
    remove_tree (dir);  /* skipped */
  if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return self;
}

PbTestDovecot *
pb_test_dovecot_start (GError **error)
{
  return pb_test_dovecot_start_with (PB_TEST_DOVECOT_PROCESSES_DEFAULT, error);
}

PbTestDovecot *
pb_test_dovecot_start_with (PbTestDovecotProcesses   processes,
                            GError                 **error)
{
  return start_in_temporary_dir (processes, FALSE, error);
}

PbTestDovecot *
pb_test_dovecot_start_oauth2 (GError **error)
{
  return start_in_temporary_dir (PB_TEST_DOVECOT_PROCESSES_DEFAULT, TRUE, error);
}

static PbTestDovecot *shared_dovecot;
static gboolean shared_is_oauth2;

static PbTestDovecot *
get_shared (gboolean oauth2)
{
  g_autoptr(GError) error = NULL;

  if (shared_dovecot != NULL)
    {
      /* One kind per program: tests that need both are two programs. */
      g_assert_cmpint (shared_is_oauth2, ==, oauth2);
      return shared_dovecot;
    }

  /* Never started, or skipped for a missing program: trying again costs
   * a PATH lookup and skips this test the same way. */
  shared_dovecot = oauth2 ? pb_test_dovecot_start_oauth2 (&error)
                          : pb_test_dovecot_start (&error);
  g_assert_no_error (error);
  shared_is_oauth2 = oauth2;
  return shared_dovecot;
}

PbTestDovecot *
pb_test_dovecot_get_shared (void)
{
  return get_shared (FALSE);
}

PbTestDovecot *
pb_test_dovecot_get_shared_oauth2 (void)
{
  return get_shared (TRUE);
}

void
pb_test_dovecot_stop_shared (void)
{
  g_clear_pointer (&shared_dovecot, pb_test_dovecot_stop);
}

PbTestDovecot *
pb_test_dovecot_start_detached (const char *dir,
                                GError    **error)
{
  return pb_test_dovecot_start_detached_with (dir, PB_TEST_DOVECOT_PROCESSES_DEFAULT, error);
}

PbTestDovecot *
pb_test_dovecot_start_detached_with (const char             *dir,
                                     PbTestDovecotProcesses  processes,
                                     GError                **error)
{
  PbTestDovecot *self = NULL;
  g_autofree char *env = NULL;
  g_autofree char *env_path = NULL;
  g_autofree char *maildir = NULL;

  g_return_val_if_fail (dir != NULL, NULL);

  if (g_mkdir_with_parents (dir, 0755) != 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
                   "Cannot create %s: %s", dir, g_strerror (errno));
      return NULL;
    }
  self = start_in (dir, TRUE, processes, FALSE, error);
  if (self == NULL)
    return NULL;

  /* For scripts (`. DIR/env.sh`) and pb_test_dovecot_attach(). */
  maildir = pb_test_dovecot_get_maildir (self, NULL);
  env = g_strdup_printf ("PB_DOVECOT_DIR='%s'\n"
                         "PB_DOVECOT_HOST='127.0.0.1'\n"
                         "PB_DOVECOT_PORT='%u'\n"
                         "PB_DOVECOT_TLS_PORT='%u'\n"
                         "PB_DOVECOT_CA_FILE='%s'\n"
                         "PB_DOVECOT_CERT_FILE='%s'\n"
                         "PB_DOVECOT_USER='%s'\n"
                         "PB_DOVECOT_PASSWORD='%s'\n"
                         "PB_DOVECOT_MAILDIR='%s'\n"
                         "PB_DOVECOT_LOG='%s'\n"
                         "PB_DOVECOT_TOKEN='%s'\n"
                         "PB_DOVECOT_PID='%d'\n",
                         self->dir, self->plain_port, self->tls_port, self->ca_file,
                         self->cert_file, self->user, self->password, maildir,
                         self->log_path, self->token, (int) self->pid);
  env_path = g_build_filename (dir, "env.sh", NULL);
  if (!write_file (env_path, env, 0644, error))
    {
      pb_test_dovecot_stop (self);
      pb_test_dovecot_stop_dir (dir, NULL);
      return NULL;
    }
  return self;
}

PbTestDovecot *
pb_test_dovecot_attach (const char *dir,
                        GError    **error)
{
  g_autofree char *env_path = g_build_filename (dir, "env.sh", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  PbTestDovecot *self;

  if (!g_file_get_contents (env_path, &text, NULL, error))
    {
      g_prefix_error (error, "No test Dovecot was started in %s: ", dir);
      return NULL;
    }

  self = g_new0 (PbTestDovecot, 1);
  self->detached = TRUE;
  self->dir = g_strdup (dir);
  self->conf_path = g_build_filename (dir, "dovecot.conf", NULL);
  self->log_path = g_build_filename (dir, "dovecot.log", NULL);
  self->stderr_path = g_build_filename (dir, "dovecot.stderr", NULL);
  self->passwd_dir = g_build_filename (dir, "users", NULL);
  self->ca_file = g_build_filename (dir, "ca.pem", NULL);
  self->cert_file = g_build_filename (dir, "server.pem", NULL);
  self->key_file = g_build_filename (dir, "server.key", NULL);
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *eq = strchr (lines[i], '=');
      g_autofree char *value = NULL;

      if (eq == NULL || eq[1] != '\'' || !g_str_has_suffix (eq, "'"))
        continue;
      *eq = '\0';
      value = g_strndup (eq + 2, strlen (eq + 2) - 1);
      if (g_str_equal (lines[i], "PB_DOVECOT_PORT"))
        self->plain_port = (guint16) g_ascii_strtoull (value, NULL, 10);
      else if (g_str_equal (lines[i], "PB_DOVECOT_TLS_PORT"))
        self->tls_port = (guint16) g_ascii_strtoull (value, NULL, 10);
      else if (g_str_equal (lines[i], "PB_DOVECOT_USER"))
        self->user = g_steal_pointer (&value);
      else if (g_str_equal (lines[i], "PB_DOVECOT_PASSWORD"))
        self->password = g_steal_pointer (&value);
      else if (g_str_equal (lines[i], "PB_DOVECOT_TOKEN"))
        self->token = g_steal_pointer (&value);
      else if (g_str_equal (lines[i], "PB_DOVECOT_PID"))
        self->pid = (GPid) g_ascii_strtoll (value, NULL, 10);
    }
  if (self->plain_port == 0 || self->user == NULL || self->password == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s is incomplete", env_path);
      free_struct (self);
      return NULL;
    }
  return self;
}

static void
free_struct (PbTestDovecot *self)
{
  g_clear_object (&self->process);
  g_clear_pointer (&self->introspection, pb_test_introspection_stop);
  g_free (self->oauth2_conf_path);
  g_free (self->dir);
  g_free (self->conf_path);
  g_free (self->log_path);
  g_free (self->stderr_path);
  g_free (self->passwd_dir);
  g_free (self->ca_file);
  g_free (self->cert_file);
  g_free (self->key_file);
  g_free (self->token);
  g_free (self->user);
  g_free (self->password);
  g_free (self);
}

void
pb_test_dovecot_detach (PbTestDovecot *self)
{
  if (self == NULL)
    return;
  /* Unreferencing the GSubprocess does not kill the child. */
  free_struct (self);
}

/* Whether a test case is running and has failed. g_test_failed() alone
 * is TRUE outside any test case (GLib resets the result after each one),
 * so a program that stops its shared Dovecot after g_test_run() kept the
 * directory and printed the whole log every time, passing or not. A
 * failure that aborts never gets here; the directory stays then anyway. */
static gboolean
in_failed_test_case (void)
{
  const char *path;

  if (!g_test_initialized ())
    return FALSE;
  path = g_test_get_path ();
  return path != NULL && *path != '\0' && g_test_failed ();
}

void
pb_test_dovecot_stop (PbTestDovecot *self)
{
  gboolean keep, failed;

  if (self == NULL)
    return;

  terminate (self);
  g_clear_pointer (&self->introspection, pb_test_introspection_stop);
  failed = in_failed_test_case ();
  keep = self->detached || failed;
  if (failed)
    {
      g_autofree char *log = pb_test_dovecot_read_log (self);
      g_auto(GStrv) lines = g_strsplit (log, "\n", -1);

      g_test_message ("Dovecot log (%s):", self->log_path);
      for (guint i = 0; lines[i] != NULL; i++)
        if (*lines[i] != '\0')
          g_test_message ("  %s", lines[i]);
      g_test_message ("Dovecot's directory is kept: %s", self->dir);
    }
  if (!keep)
    remove_tree (self->dir);
  free_struct (self);
}

static gboolean
process_gone (GPid pid)
{
  g_autofree char *stat_path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *stat = NULL;
  const char *paren;

  if (kill (pid, 0) != 0)
    return TRUE;
  /* An orphan nobody reaped (PID 1 in a container may not) is a zombie:
   * gone for our purposes. */
  if (!g_file_get_contents (stat_path, &stat, NULL, NULL))
    return TRUE;
  paren = strrchr (stat, ')');
  return paren != NULL && paren[1] == ' ' && paren[2] == 'Z';
}

gboolean
pb_test_dovecot_stop_dir (const char *dir,
                          GError    **error)
{
  g_autofree char *pid_path = g_build_filename (dir, "run", "master.pid", NULL);
  g_autofree char *text = NULL;
  gint64 deadline;
  GPid pid;

  if (!g_file_get_contents (pid_path, &text, NULL, error))
    {
      g_prefix_error (error, "No test Dovecot seems to run in %s: ", dir);
      return FALSE;
    }
  pid = (GPid) g_ascii_strtoll (text, NULL, 10);
  if (pid <= 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "%s does not hold a process id", pid_path);
      return FALSE;
    }
  /* The master leads its own process group (child_setup). */
  kill (pid, SIGTERM);
  deadline = g_get_monotonic_time () + STOP_DEADLINE_USEC;
  while (!process_gone (pid) && g_get_monotonic_time () < deadline)
    g_usleep (POLL_INTERVAL_USEC);
  kill (-pid, SIGKILL);
  return TRUE;
}

/* Getters */

const char *
pb_test_dovecot_get_host (PbTestDovecot *self)
{
  return "127.0.0.1";
}

guint16
pb_test_dovecot_get_plain_port (PbTestDovecot *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->plain_port;
}

guint16
pb_test_dovecot_get_tls_port (PbTestDovecot *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->tls_port;
}

const char *
pb_test_dovecot_get_ca_file (PbTestDovecot *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->ca_file;
}

const char *
pb_test_dovecot_get_cert_file (PbTestDovecot *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->cert_file;
}

const char *
pb_test_dovecot_get_user (PbTestDovecot *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->user;
}

const char *
pb_test_dovecot_get_password (PbTestDovecot *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->password;
}

const char *
pb_test_dovecot_get_greeting_token (PbTestDovecot *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->token;
}

const char *
pb_test_dovecot_get_dir (PbTestDovecot *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->dir;
}

const char *
pb_test_dovecot_get_log_path (PbTestDovecot *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->log_path;
}

char *
pb_test_dovecot_get_maildir (PbTestDovecot *self,
                             const char    *user)
{
  g_return_val_if_fail (self != NULL, NULL);
  return g_build_filename (self->dir, "mail", user != NULL ? user : self->user, NULL);
}

/* Mail */

gboolean
pb_test_dovecot_deliver (PbTestDovecot *self,
                         const char    *user,
                         GBytes        *message,
                         GError       **error)
{
  g_autofree char *maildir = pb_test_dovecot_get_maildir (self, user);
  g_autofree char *path = NULL;

  g_return_val_if_fail (message != NULL, FALSE);

  if (!g_file_test (maildir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "No test user “%s” (pb_test_dovecot_add_user)", user);
      return FALSE;
    }
  path = pb_test_mail_deliver (maildir, message, TRUE, error);
  return path != NULL;
}

gboolean
pb_test_dovecot_fill (PbTestDovecot *self,
                      const char    *user,
                      guint          count,
                      gsize          average_size,
                      GError       **error)
{
  g_autofree char *maildir = pb_test_dovecot_get_maildir (self, user);

  return pb_test_mail_fill_maildir (maildir, count, average_size, count, error);
}

void
pb_test_message_free (PbTestMessage *message)
{
  if (message == NULL)
    return;
  g_free (message->path);
  g_free (message->name);
  g_clear_pointer (&message->contents, g_bytes_unref);
  g_free (message);
}

/* UID order from dovecot-uidlist, where Dovecot has assigned UIDs: a table
 * from unique name to UID. Lines after the header are
 * "<uid> [<key><value> ...] :<filename>" (maildir-uidlist.c). */
static GHashTable *
read_uidlist (const char *maildir)
{
  g_autofree char *path = g_build_filename (maildir, "dovecot-uidlist", NULL);
  g_autofree char *text = NULL;
  g_auto(GStrv) lines = NULL;
  GHashTable *uids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return uids;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      const char *name = strstr (lines[i], " :");
      guint64 uid = g_ascii_strtoull (lines[i], NULL, 10);

      if (name == NULL || uid == 0)
        continue;
      name += 2;
      g_hash_table_insert (uids, g_strndup (name, strcspn (name, ":")),
                           GSIZE_TO_POINTER ((gsize) uid));
    }
  return uids;
}

static int
compare_messages (gconstpointer a,
                  gconstpointer b,
                  gpointer      user_data)
{
  GHashTable *uids = user_data;
  const PbTestMessage *ma = *(PbTestMessage * const *) a;
  const PbTestMessage *mb = *(PbTestMessage * const *) b;
  gsize ua = GPOINTER_TO_SIZE (g_hash_table_lookup (uids, ma->name));
  gsize ub = GPOINTER_TO_SIZE (g_hash_table_lookup (uids, mb->name));

  /* Messages with UIDs come first, by UID; the rest get theirs next, in
   * Dovecot's name order. */
  if (ua != 0 && ub != 0)
    return ua < ub ? -1 : ua > ub;
  if (ua != 0 || ub != 0)
    return ua != 0 ? -1 : 1;
  return pb_test_mail_maildir_name_compare (ma->name, mb->name);
}

GPtrArray *
pb_test_dovecot_list_messages (PbTestDovecot *self,
                               const char    *user,
                               GError       **error)
{
  g_autofree char *maildir = pb_test_dovecot_get_maildir (self, user);
  g_autoptr(GHashTable) uids = read_uidlist (maildir);
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func ((GDestroyNotify) pb_test_message_free);
  static const char * const subdirs[] = { "new", "cur" };

  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *dir_path = g_build_filename (maildir, subdirs[i], NULL);
      g_autoptr(GDir) dir = g_dir_open (dir_path, 0, error);
      const char *entry;

      if (dir == NULL)
        return NULL;
      while ((entry = g_dir_read_name (dir)) != NULL)
        {
          g_autoptr(PbTestMessage) message = g_new0 (PbTestMessage, 1);
          char *contents;
          gsize len;

          if (entry[0] == '.')
            continue;
          message->path = g_build_filename (dir_path, entry, NULL);
          message->name = g_strndup (entry, strcspn (entry, ":"));
          if (!g_file_get_contents (message->path, &contents, &len, error))
            return NULL;
          message->contents = g_bytes_new_take (contents, len);
          g_ptr_array_add (messages, g_steal_pointer (&message));
        }
    }
  g_ptr_array_sort_with_data (messages, compare_messages, uids);
  return g_steal_pointer (&messages);
}

/* Crash safety: a real fetch (tests/integration/fetch-driver, the PbFetch
 * job in its own process) is killed with SIGKILL at one point of the
 * exactly-once protocol (PB_FETCH_TEST_KILL_AT, see pb-fetch.c), then run
 * again. Whatever the point, afterwards every message of the mailbox is in
 * the folder exactly once, byte for byte, nothing partial is left outside
 * tmp/ (or under a hidden temporary name), the leftovers are gone, nothing
 * was lost from the server, and a third run fetches nothing. */
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "pb-test-dovecot.h"
#include "pb-test-mail.h"
#include "pb-test-util.h"

typedef enum {
  MAILBOX_AWKWARD,  /* the awkward messages, one of them 3 MiB */
  MAILBOX_MANY,     /* 150 small ones: several commit batches */
} Mailbox;

typedef struct {
  const char *kill_at;
  Mailbox     mailbox;
  gboolean    delete_after;
  gboolean    eml;
  const char *sync;      /* PB_FETCH_TEST_SYNC; NULL: by batch size */
} Scenario;

static const Scenario scenarios[] = {
  { "after-bytes:1",         MAILBOX_AWKWARD, FALSE, FALSE },
  { "after-bytes:2000",      MAILBOX_AWKWARD, FALSE, FALSE },
  { "after-bytes:1500000",   MAILBOX_AWKWARD, TRUE,  FALSE },  /* inside the 3 MiB one */
  { "after-journal:1",       MAILBOX_AWKWARD, FALSE, FALSE },
  { "after-rename:1",        MAILBOX_AWKWARD, FALSE, FALSE },
  { "after-rename:3",        MAILBOX_AWKWARD, TRUE,  FALSE },
  { "after-sync:1",          MAILBOX_AWKWARD, FALSE, FALSE },
  { "after-state-save:1",    MAILBOX_AWKWARD, TRUE,  FALSE },
  { "after-dele:1",          MAILBOX_AWKWARD, TRUE,  FALSE },
  { "after-dele:4",          MAILBOX_AWKWARD, TRUE,  FALSE },
  { "before-quit",           MAILBOX_AWKWARD, TRUE,  FALSE },
  { "before-quit",           MAILBOX_AWKWARD, FALSE, FALSE },
  { "after-bytes:2000",      MAILBOX_AWKWARD, FALSE, TRUE },
  { "after-journal:1",       MAILBOX_AWKWARD, FALSE, TRUE },
  { "after-rename:2",        MAILBOX_AWKWARD, TRUE,  TRUE },
  { "after-bytes:300000",    MAILBOX_MANY,    FALSE, FALSE },
  { "after-journal:2",       MAILBOX_MANY,    FALSE, FALSE },
  { "after-rename:70",       MAILBOX_MANY,    TRUE,  FALSE },
  { "after-sync:2",          MAILBOX_MANY,    FALSE, FALSE },
  /* Both mailboxes are large enough for a syncfs per batch where the file
   * system allows it (the test's home on ext4 or tmpfs does): the same
   * points again with an fsync per file. */
  { "after-journal:1",       MAILBOX_AWKWARD, FALSE, FALSE, "fsync" },
  { "after-rename:2",        MAILBOX_AWKWARD, TRUE,  TRUE,  "fsync" },
  { "after-sync:1",          MAILBOX_AWKWARD, FALSE, FALSE, "fsync" },
  { "after-journal:2",       MAILBOX_MANY,    FALSE, FALSE, "fsync" },
  { "after-rename:70",       MAILBOX_MANY,    FALSE, TRUE,  "fsync" },
};

typedef struct {
  int    status;      /* exit status, or -1 if killed */
  int    signal;      /* the killing signal, or 0 */
  guint  fetched;     /* results the driver printed */
  char  *errors;
} Run;

/* One Dovecot for all scenarios, a user (a mailbox) per scenario: starting
 * a server per scenario would cost more than the scenario. */
static PbTestDovecot *dovecot;

static Run
run_driver (const char      *user,
            const Scenario  *scenario,
            const char      *state_path,
            const char      *folder,
            const char      *kill_at)
{
  g_autofree char *driver = g_build_filename (g_getenv ("PB_TEST_BUILDDIR"), "integration",
                                              "fetch-driver", NULL);
  g_autofree char *port = g_strdup_printf ("%u", pb_test_dovecot_get_plain_port (dovecot));
  g_autofree char *password = g_strdup_printf ("%s\n", user);
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  Run run = { 0 };

  g_ptr_array_add (argv, driver);
  g_ptr_array_add (argv, "--host");
  g_ptr_array_add (argv, (char *) pb_test_dovecot_get_host (dovecot));
  g_ptr_array_add (argv, "--port");
  g_ptr_array_add (argv, port);
  /* Plaintext on loopback: TLS is tested elsewhere, and its handshakes
   * would be most of this test's time under the sanitizers. */
  g_ptr_array_add (argv, "--security");
  g_ptr_array_add (argv, "none");
  g_ptr_array_add (argv, "--user");
  g_ptr_array_add (argv, (char *) user);
  g_ptr_array_add (argv, "--state");
  g_ptr_array_add (argv, (char *) state_path);
  g_ptr_array_add (argv, "--folder");
  g_ptr_array_add (argv, (char *) folder);
  g_ptr_array_add (argv, "--format");
  g_ptr_array_add (argv, scenario->eml ? "eml" : "maildir");
  if (scenario->delete_after)
    g_ptr_array_add (argv, "--delete");
  g_ptr_array_add (argv, NULL);

  /* Under the sanitizer setup: the same code is leak-checked in process by
   * test-fetch-dovecot; in these children LeakSanitizer's tracer crashes
   * now and then (google/sanitizers#1353), which would read as a failed
   * rerun. */
  if (g_getenv ("ASAN_OPTIONS") != NULL)
    {
      g_autofree char *asan = g_strconcat (g_getenv ("ASAN_OPTIONS"), ":detect_leaks=0", NULL);

      g_subprocess_launcher_setenv (launcher, "ASAN_OPTIONS", asan, TRUE);
    }
  if (scenario->sync != NULL)
    g_subprocess_launcher_setenv (launcher, "PB_FETCH_TEST_SYNC", scenario->sync, TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, "PB_FETCH_TEST_SYNC");
  if (kill_at != NULL)
    g_subprocess_launcher_setenv (launcher, "PB_FETCH_TEST_KILL_AT", kill_at, TRUE);
  else
    g_subprocess_launcher_unsetenv (launcher, "PB_FETCH_TEST_KILL_AT");

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, password, NULL, &out, &run.errors, &error);
  g_assert_no_error (error);

  if (g_subprocess_get_if_signaled (process))
    {
      run.status = -1;
      run.signal = g_subprocess_get_term_sig (process);
    }
  else
    {
      run.status = g_subprocess_get_exit_status (process);
      run.fetched = (guint) g_ascii_strtoull (out != NULL ? out : "0", NULL, 10);
    }
  return run;
}

/* The SHA-256 of each regular, visible file in @dir, sorted. Hidden files
 * are the eml temporary files: there must be none. */
static GPtrArray *
digests_of_folder (const char *dir,
                   gboolean    eml)
{
  GPtrArray *digests = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (listing);
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *contents = NULL;
      gsize length = 0;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      /* No temporary file of ours may survive a rerun. */
      g_assert_false (g_str_has_prefix (name, ".popbiff-tmp-"));
      if (eml)
        g_assert_true (g_str_has_suffix (name, ".eml"));
      g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
      g_ptr_array_add (digests, g_compute_checksum_for_data (G_CHECKSUM_SHA256,
                                                             (const guchar *) contents, length));
    }
  g_ptr_array_sort (digests, (GCompareFunc) g_strcmp0);
  return digests;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char * const *) a, *(const char * const *) b);
}

static void
test_kill_and_rerun (gconstpointer data)
{
  const Scenario *scenario = data;
  g_autoptr(GError) error = NULL;
  g_autofree char *user = NULL;
  g_autoptr(GPtrArray) server = NULL;
  g_autoptr(GPtrArray) after = NULL;
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) got = NULL;
  g_autofree char *state_path = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *files_dir = NULL;
  Run killed, rerun, third;

  if (dovecot == NULL)
    {
      dovecot = pb_test_dovecot_start (&error);
      g_assert_no_error (error);
      if (dovecot == NULL)
        return;
    }

  /* The user's password is its name: the scenario's own mailbox. */
  user = g_strdup_printf ("crash%u", GPOINTER_TO_UINT (scenario - scenarios));
  g_assert_true (pb_test_dovecot_add_user (dovecot, user, user, &error));
  g_assert_no_error (error);

  if (scenario->mailbox == MAILBOX_MANY)
    g_assert_true (pb_test_dovecot_fill (dovecot, user, 150, 4096, &error));
  else
    for (int kind = 0; kind < PB_TEST_MAIL_N_KINDS; kind++)
      {
        g_autoptr(GBytes) message = pb_test_mail_awkward (kind);

        g_assert_true (pb_test_dovecot_deliver (dovecot, user, message, &error));
      }
  g_assert_no_error (error);
  server = pb_test_dovecot_list_messages (dovecot, user, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < server->len; i++)
    {
      PbTestMessage *message = g_ptr_array_index (server, i);
      g_autoptr(GBytes) retr = pb_test_mail_expected_retr (message->contents);

      g_ptr_array_add (expected, g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, retr));
    }
  g_ptr_array_sort (expected, compare_strings);

  state_path = g_build_filename (g_get_user_state_dir (), "popbiff", "driver.state", NULL);
  folder = g_build_filename (g_get_home_dir (), "Mail", "crash", NULL);

  killed = run_driver (user, scenario, state_path, folder, scenario->kill_at);
  if (killed.signal != SIGKILL)
    g_test_message ("driver output: %s", killed.errors);
  /* The point exists and was reached: the test is not vacuous. */
  g_assert_cmpint (killed.signal, ==, SIGKILL);
  g_free (killed.errors);

  rerun = run_driver (user, scenario, state_path, folder, NULL);
  if (rerun.status != 0)
    g_test_message ("driver output: %s", rerun.errors);
  g_assert_cmpint (rerun.status, ==, 0);
  g_free (rerun.errors);

  third = run_driver (user, scenario, state_path, folder, NULL);
  g_assert_cmpint (third.status, ==, 0);
  g_assert_cmpuint (third.fetched, ==, 0);
  g_free (third.errors);

  /* Exactly once, byte for byte. */
  files_dir = scenario->eml ? g_strdup (folder) : g_build_filename (folder, "new", NULL);
  got = digests_of_folder (files_dir, scenario->eml);
  g_ptr_array_sort (got, compare_strings);
  g_assert_cmpuint (got->len, ==, expected->len);
  for (guint i = 0; i < got->len; i++)
    g_assert_cmpstr (g_ptr_array_index (got, i), ==, g_ptr_array_index (expected, i));

  if (!scenario->eml)
    {
      g_autofree char *tmp_dir = g_build_filename (folder, "tmp", NULL);
      g_autoptr(GDir) tmp = g_dir_open (tmp_dir, 0, NULL);

      g_assert_null (g_dir_read_name (tmp));
    }

  /* Nothing lost (every message is on disk, above) and nothing left
   * behind: with --delete the rerun also deletes what the killed run had
   * saved but never got to delete (it never reached a successful QUIT). */
  after = pb_test_dovecot_list_messages (dovecot, user, &error);
  g_assert_no_error (error);
  if (scenario->delete_after)
    g_assert_cmpuint (after->len, ==, 0);
  else
    g_assert_cmpuint (after->len, ==, server->len);
}

int
main (int argc, char **argv)
{
  int status;

  pb_test_init (&argc, &argv);

  for (guint i = 0; i < G_N_ELEMENTS (scenarios); i++)
    {
      const Scenario *s = &scenarios[i];
      g_autofree char *path = g_strdup_printf ("/fetch/crash/%s/%s%s%s%s/%s",
                                               s->mailbox == MAILBOX_MANY ? "many" : "awkward",
                                               s->eml ? "eml" : "maildir",
                                               s->delete_after ? "-delete" : "",
                                               s->sync != NULL ? "-" : "",
                                               s->sync != NULL ? s->sync : "",
                                               s->kill_at);

      g_test_add_data_func (path, s, test_kill_and_rerun);
    }
  status = g_test_run ();
  g_clear_pointer (&dovecot, pb_test_dovecot_stop);
  return status;
}

/* PbState with two writers of one account's state (the applet's check and
 * a `popbiff fetch` or `dismiss` at the same time): each loads the file,
 * works, and saves. No flag one of them set is lost by the other's save,
 * what one saw vanish from the server stays forgotten, and what one saw
 * arrive is kept. Saves of two processes take turns. */
#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/pb-core-error.h"
#include "core/pb-state.h"
#include "pb-test-util.h"

static char *
state_path (void)
{
  g_autofree char *dir = g_build_filename (g_get_home_dir (), "state", NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  return g_build_filename (dir, "acct.state", NULL);
}

static PbState *
loaded (const char *path)
{
  g_autoptr(GError) error = NULL;
  PbState *state = pb_state_new ("acct", path);

  g_assert_true (pb_state_load (state, &error));
  g_assert_no_error (error);
  return state;
}

static void
save (PbState *state)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (pb_state_save (state, &error));
  g_assert_no_error (error);
}

/* A saved state with these UIDLs, all notified. */
static void
write_state (const char         *path,
             const char * const *uidls)
{
  g_autoptr(PbState) state = pb_state_new ("acct", path);

  for (guint i = 0; uidls[i] != NULL; i++)
    pb_state_ensure (state, uidls[i])->flags = PB_MESSAGE_NOTIFIED;
  pb_state_set_fresh (state, FALSE);
  save (state);
}

static char *
joined_order (PbState *state)
{
  g_autoptr(GPtrArray) records = pb_state_list (state);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < records->len; i++)
    {
      const PbMessageRecord *record = g_ptr_array_index (records, i);

      g_string_append_printf (out, "%s%s", i > 0 ? " " : "", record->uidl);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* The "never twice" bug: a check that loaded before a fetch finished saved
 * after it, and the fetch's DOWNLOADED flag was gone. */
static void
test_flags_of_both_are_kept (void)
{
  g_autofree char *path = state_path ();
  const char *uidls[] = { "x", "y", "z", NULL };
  g_autoptr(PbState) check = NULL;
  g_autoptr(PbState) fetch = NULL;
  g_autoptr(PbState) dismiss = NULL;
  g_autoptr(PbState) after = NULL;
  PbMessageRecord *x, *y, *z;

  write_state (path, uidls);
  check = loaded (path);
  fetch = loaded (path);
  dismiss = loaded (path);

  x = pb_state_lookup (fetch, "x");
  x->flags |= PB_MESSAGE_DOWNLOADED;
  pb_state_set_path (fetch, x, "/home/alice/Mail/new/x");
  save (fetch);

  pb_state_lookup (dismiss, "z")->flags |= PB_MESSAGE_DISMISSED;
  save (dismiss);

  pb_state_set_summary (check, pb_state_lookup (check, "y"), "Bob", "bob@example.org",
                        "Lunch?", 1795000000);
  save (check);

  after = loaded (path);
  x = pb_state_lookup (after, "x");
  y = pb_state_lookup (after, "y");
  z = pb_state_lookup (after, "z");
  g_assert_cmpint (x->flags, ==, PB_MESSAGE_NOTIFIED | PB_MESSAGE_DOWNLOADED);
  g_assert_cmpstr (x->path, ==, "/home/alice/Mail/new/x");
  g_assert_cmpint (y->flags, ==, PB_MESSAGE_NOTIFIED | PB_MESSAGE_SUMMARIZED);
  g_assert_cmpstr (y->subject, ==, "Lunch?");
  g_assert_cmpint (z->flags, ==, PB_MESSAGE_NOTIFIED | PB_MESSAGE_DISMISSED);

  /* The last writer holds the merged records in memory too. */
  g_assert_cmpint (pb_state_lookup (check, "x")->flags & PB_MESSAGE_DOWNLOADED, !=, 0);
  g_assert_cmpstr (pb_state_lookup (check, "x")->path, ==, "/home/alice/Mail/new/x");
  g_assert_cmpint (pb_state_lookup (check, "z")->flags & PB_MESSAGE_DISMISSED, !=, 0);
}

/* One writer saw the server without "gone" and with "arrived"; the other
 * loaded before that and saves after. */
static void
test_vanished_stay_forgotten_and_arrivals_are_kept (void)
{
  g_autofree char *path = state_path ();
  const char *uidls[] = { "gone", "kept", NULL };
  const char *server[] = { "kept", "arrived" };
  g_autoptr(PbState) check = NULL;
  g_autoptr(PbState) fetch = NULL;
  g_autoptr(PbState) after = NULL;
  g_autofree char *order = NULL;

  write_state (path, uidls);
  check = loaded (path);
  fetch = loaded (path);

  pb_state_apply_listing (check, server, G_N_ELEMENTS (server), NULL, NULL);
  pb_state_lookup (check, "arrived")->flags |= PB_MESSAGE_NOTIFIED;
  save (check);

  pb_state_lookup (fetch, "kept")->flags |= PB_MESSAGE_DOWNLOADED;
  save (fetch);

  after = loaded (path);
  order = joined_order (after);
  g_assert_cmpstr (order, ==, "kept arrived");
  g_assert_cmpint (pb_state_lookup (after, "kept")->flags, ==,
                   PB_MESSAGE_NOTIFIED | PB_MESSAGE_DOWNLOADED);
  /* Announced once: the next check must not announce it again. */
  g_assert_cmpint (pb_state_lookup (after, "arrived")->flags, ==, PB_MESSAGE_NOTIFIED);
  g_assert_null (pb_state_lookup (fetch, "gone"));
}

/* The other way round: the writer that forgot saves last. */
static void
test_forgetting_writer_saves_last (void)
{
  g_autofree char *path = state_path ();
  const char *uidls[] = { "gone", "kept", NULL };
  const char *server[] = { "kept" };
  g_autoptr(PbState) check = NULL;
  g_autoptr(PbState) dismiss = NULL;
  g_autoptr(PbState) after = NULL;
  g_autofree char *order = NULL;

  write_state (path, uidls);
  check = loaded (path);
  dismiss = loaded (path);

  pb_state_lookup (dismiss, "gone")->flags |= PB_MESSAGE_DISMISSED;
  pb_state_lookup (dismiss, "kept")->flags |= PB_MESSAGE_DISMISSED;
  save (dismiss);

  pb_state_apply_listing (check, server, G_N_ELEMENTS (server), NULL, NULL);
  save (check);

  after = loaded (path);
  order = joined_order (after);
  g_assert_cmpstr (order, ==, "kept");
  g_assert_cmpint (pb_state_lookup (after, "kept")->flags, ==,
                   PB_MESSAGE_NOTIFIED | PB_MESSAGE_DISMISSED);
}

/* A state that was never loaded (a first check racing another) does not
 * wipe what the other saved. */
static void
test_unloaded_state_merges (void)
{
  g_autofree char *path = state_path ();
  const char *uidls[] = { "old", NULL };
  g_autoptr(PbState) fresh = pb_state_new ("acct", path);
  g_autoptr(PbState) after = NULL;
  g_autofree char *order = NULL;

  write_state (path, uidls);
  pb_state_ensure (fresh, "new");
  save (fresh);

  after = loaded (path);
  order = joined_order (after);
  g_assert_cmpstr (order, ==, "new old");
  g_assert_false (pb_state_is_fresh (after));
}

/* Another writer left a damaged file: ours replaces it. */
static void
test_damaged_file_is_replaced (void)
{
  g_autofree char *path = state_path ();
  const char *uidls[] = { "a", NULL };
  g_autoptr(PbState) state = NULL;
  g_autoptr(PbState) after = NULL;
  g_autoptr(GError) error = NULL;

  write_state (path, uidls);
  state = loaded (path);
  g_assert_true (g_file_set_contents (path, "popbiff-state\t1\t0\t5\nnonsense\n", -1, &error));
  pb_state_ensure (state, "b");
  save (state);

  after = loaded (path);
  g_assert_cmpuint (pb_state_get_count (after), ==, 2);
}

/* A fetch that loaded the state before another fetch finished, and took
 * the fetch lock after it: the messages the other downloaded count as
 * downloaded before it starts. */
static void
test_refresh_sees_what_another_saved (void)
{
  g_autofree char *path = state_path ();
  const char *uidls[] = { "x", "y", NULL };
  g_autoptr(PbState) first = NULL;
  g_autoptr(PbState) second = NULL;
  g_autoptr(PbState) after = NULL;
  g_autoptr(GError) error = NULL;

  write_state (path, uidls);
  second = loaded (path);
  first = loaded (path);
  pb_state_lookup (first, "x")->flags |= PB_MESSAGE_DOWNLOADED;
  pb_state_ensure (first, "arrived")->flags |= PB_MESSAGE_DOWNLOADED;
  save (first);

  pb_state_lookup (second, "y")->flags |= PB_MESSAGE_DISMISSED;
  g_assert_true (pb_state_refresh (second, &error));
  g_assert_no_error (error);
  g_assert_cmpint (pb_state_lookup (second, "x")->flags, ==, PB_MESSAGE_NOTIFIED | PB_MESSAGE_DOWNLOADED);
  g_assert_cmpint (pb_state_lookup (second, "arrived")->flags, ==, PB_MESSAGE_DOWNLOADED);
  /* What it had not saved yet is still there. */
  g_assert_cmpint (pb_state_lookup (second, "y")->flags, ==, PB_MESSAGE_NOTIFIED | PB_MESSAGE_DISMISSED);

  save (second);
  after = loaded (path);
  g_assert_cmpuint (pb_state_get_count (after), ==, 3);
  g_assert_cmpint (pb_state_lookup (after, "y")->flags, ==, PB_MESSAGE_NOTIFIED | PB_MESSAGE_DISMISSED);
}

/* What a state forgot stays forgotten across a refresh, and what another
 * writer forgot is dropped by it. */
static void
test_refresh_keeps_forgetting (void)
{
  g_autofree char *path = state_path ();
  const char *uidls[] = { "a", "b", "c", NULL };
  const char *server_then[] = { "b", "c" };
  const char *server_now[] = { "a", "b" };
  g_autoptr(PbState) check = NULL;
  g_autoptr(PbState) other = NULL;
  g_autoptr(PbState) after = NULL;
  g_autofree char *order = NULL;

  write_state (path, uidls);
  check = loaded (path);
  other = loaded (path);
  pb_state_apply_listing (check, server_then, G_N_ELEMENTS (server_then), NULL, NULL);
  pb_state_apply_listing (other, server_now, G_N_ELEMENTS (server_now), NULL, NULL);
  save (other);

  g_assert_true (pb_state_refresh (check, NULL));
  order = joined_order (check);
  g_assert_cmpstr (order, ==, "b");
  save (check);

  after = loaded (path);
  g_clear_pointer (&order, g_free);
  order = joined_order (after);
  g_assert_cmpstr (order, ==, "b");
}

static int
hold_write_lock (const char *path)
{
  g_autofree char *lock_path = g_strconcat (path, ".write-lock", NULL);
  int fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (flock (fd, LOCK_EX | LOCK_NB), ==, 0);
  return fd;
}

typedef struct {
  PbState  *state;
  gboolean  ok;
  GError   *error;
} SaveJob;

static gpointer
save_in_thread (gpointer data)
{
  SaveJob *job = data;

  job->ok = pb_state_save (job->state, &job->error);
  return NULL;
}

/* A save waits while another process holds the lock (it is between its
 * read and its rename), then goes ahead. */
static void
test_save_waits_for_the_lock (void)
{
  g_autofree char *path = state_path ();
  const char *uidls[] = { "a", NULL };
  g_autoptr(PbState) after = NULL;
  SaveJob job = { 0 };
  GThread *thread;
  GStatBuf before, during;
  int lock_fd;

  write_state (path, uidls);
  job.state = loaded (path);
  pb_state_ensure (job.state, "b");
  g_assert_cmpint (g_stat (path, &before), ==, 0);

  lock_fd = hold_write_lock (path);
  thread = g_thread_new ("save", save_in_thread, &job);
  /* Only a save that ignores the lock can have replaced the file yet. */
  g_usleep (300 * G_TIME_SPAN_MILLISECOND);
  g_assert_cmpint (g_stat (path, &during), ==, 0);
  g_assert_cmpuint (during.st_ino, ==, before.st_ino);
  close (lock_fd);

  g_thread_join (thread);
  g_assert_no_error (job.error);
  g_assert_true (job.ok);
  after = loaded (path);
  g_assert_nonnull (pb_state_lookup (after, "b"));
  g_object_unref (job.state);
}

/* A holder that never lets go (stopped, hung) costs an error after a few
 * seconds, not a frozen applet; the file is left alone. */
static void
test_stuck_lock_is_an_error (void)
{
  g_autofree char *path = state_path ();
  const char *uidls[] = { "a", NULL };
  g_autoptr(PbState) state = NULL;
  g_autoptr(PbState) after = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start;
  int lock_fd;

  write_state (path, uidls);
  state = loaded (path);
  pb_state_ensure (state, "b");

  lock_fd = hold_write_lock (path);
  start = g_get_monotonic_time ();
  g_assert_false (pb_state_save (state, &error));
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 4 * G_TIME_SPAN_SECOND);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 60 * G_TIME_SPAN_SECOND);
  close (lock_fd);

  after = loaded (path);
  g_assert_null (pb_state_lookup (after, "b"));
}

#define WRITERS 2
#define ROUNDS  25

/* Writer @k loads, sets NOTIFIED on its own message of this round, saves,
 * ROUNDS times; they run at once. Without the lock, one's rename lands
 * between the other's read and rename, and a flag is lost. */
static void
writer_process (const char *path,
                guint       k)
{
  for (guint round = 0; round < ROUNDS; round++)
    {
      g_autofree char *uidl = g_strdup_printf ("w%u-%u", k, round);
      g_autoptr(PbState) state = pb_state_new ("acct", path);
      g_autoptr(GError) error = NULL;
      PbMessageRecord *record;

      if (!pb_state_load (state, &error))
        _exit (10);
      record = pb_state_lookup (state, uidl);
      if (record == NULL)
        _exit (11);
      record->flags |= PB_MESSAGE_DOWNLOADED;
      if (!pb_state_save (state, &error))
        _exit (12);
    }
  _exit (0);
}

static void
test_two_processes (void)
{
  g_autofree char *path = state_path ();
  g_autoptr(PbState) seed = pb_state_new ("acct", path);
  g_autoptr(PbState) after = NULL;
  pid_t pids[WRITERS];

  for (guint k = 0; k < WRITERS; k++)
    for (guint round = 0; round < ROUNDS; round++)
      {
        g_autofree char *uidl = g_strdup_printf ("w%u-%u", k, round);

        pb_state_ensure (seed, uidl);
      }
  save (seed);

  for (guint k = 0; k < WRITERS; k++)
    {
      pids[k] = fork ();
      g_assert_cmpint (pids[k], >=, 0);
      if (pids[k] == 0)
        writer_process (path, k);
    }
  for (guint k = 0; k < WRITERS; k++)
    {
      int status = 0;

      g_assert_cmpint (waitpid (pids[k], &status, 0), ==, pids[k]);
      g_assert_true (WIFEXITED (status));
      g_assert_cmpint (WEXITSTATUS (status), ==, 0);
    }

  after = loaded (path);
  for (guint k = 0; k < WRITERS; k++)
    for (guint round = 0; round < ROUNDS; round++)
      {
        g_autofree char *uidl = g_strdup_printf ("w%u-%u", k, round);

        g_assert_cmpint (pb_state_lookup (after, uidl)->flags, ==, PB_MESSAGE_DOWNLOADED);
      }
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

  g_test_add_func ("/core/state/writers/flags-of-both-are-kept", test_flags_of_both_are_kept);
  g_test_add_func ("/core/state/writers/vanished-stay-forgotten-and-arrivals-are-kept",
                   test_vanished_stay_forgotten_and_arrivals_are_kept);
  g_test_add_func ("/core/state/writers/forgetting-writer-saves-last", test_forgetting_writer_saves_last);
  g_test_add_func ("/core/state/writers/unloaded-state-merges", test_unloaded_state_merges);
  g_test_add_func ("/core/state/writers/damaged-file-is-replaced", test_damaged_file_is_replaced);
  g_test_add_func ("/core/state/writers/refresh-sees-what-another-saved", test_refresh_sees_what_another_saved);
  g_test_add_func ("/core/state/writers/refresh-keeps-forgetting", test_refresh_keeps_forgetting);
  g_test_add_func ("/core/state/writers/save-waits-for-the-lock", test_save_waits_for_the_lock);
  g_test_add_func ("/core/state/writers/stuck-lock-is-an-error", test_stuck_lock_is_an_error);
  g_test_add_func ("/core/state/writers/two-processes", test_two_processes);
  return g_test_run ();
}

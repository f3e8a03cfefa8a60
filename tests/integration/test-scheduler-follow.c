/* The applet follows what other programs change on disk while it runs
 * (src/core/pb-disk-watch.h): `popbiff accounts add|edit|remove` in a
 * terminal changes the accounts it checks, `popbiff dismiss|fetch` the
 * messages it shows. Here the "other program" is a second account store
 * or state object writing the same files, as the command line does; the
 * applet's side is the scheduler, its store and the disk watch, with a
 * check job the test completes by hand. Real files, real file monitors. */
#include <gio/gio.h>

#include "core/pb-check.h"
#include "core/pb-disk-watch.h"
#include "core/pb-scheduler.h"
#include "pb-test-util.h"

#define WAIT_SECONDS 30

typedef struct {
  PbAccountStore *store;      /* the applet's */
  PbScheduler    *scheduler;
  PbDiskWatch    *watch;
  GPtrArray      *running;    /* (element-type GTask) checks not completed yet */
  GPtrArray      *started;    /* (element-type PbAccount) copies, as each check was given it */
  guint           finished;
  GPtrArray      *reported;   /* (element-type utf8) "state-changed" account names */
  PbState        *last_reported;
} Fixture;

static Fixture *current;  /* the runner has no user data of its own */

static void
fake_run (PbAccount           *account,
          PbState             *state,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  GTask *task = g_task_new (NULL, cancellable, callback, user_data);

  /* Like the real job: a result even when cancelled. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_task_data (task, g_object_ref (state), g_object_unref);
  g_ptr_array_add (current->running, task);
  g_ptr_array_add (current->started, pb_account_copy (account));
}

static PbCheckResult *
fake_finish (GAsyncResult *result)
{
  return g_task_propagate_pointer (G_TASK (result), NULL);
}

/* Completes the oldest running check: cancelled if it was, else with
 * what its state holds, as the real check lists it. */
static void
complete_check (Fixture *f)
{
  g_autoptr(GTask) task = NULL;
  PbState *state;
  PbCheckResult *result;

  g_assert_cmpuint (f->running->len, >, 0);
  task = g_ptr_array_steal_index (f->running, 0);
  state = g_task_get_task_data (task);
  result = pb_check_result_new ("work");
  if (g_cancellable_is_cancelled (g_task_get_cancellable (task)))
    pb_check_result_take_error (result, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                             "Cancelled"));
  else
    {
      g_autoptr(GPtrArray) records = pb_state_list (state);

      for (guint i = 0; i < records->len; i++)
        if (pb_message_record_is_new (g_ptr_array_index (records, i)))
          pb_check_result_add_new_message (result, g_ptr_array_index (records, i));
      pb_check_result_set_counts (result, records->len, 0, pb_state_count_new (state));
    }
  g_task_return_pointer (task, result, g_object_unref);
}

static void
on_finished (PbScheduler *scheduler, PbAccount *account, PbCheckResult *result, Fixture *f)
{
  f->finished++;
}

static void
on_state_changed (PbDiskWatch *watch, const char *name, PbState *state, Fixture *f)
{
  g_ptr_array_add (f->reported, g_strdup (name));
  g_set_object (&f->last_reported, state);
}

static gboolean
on_wait_timeout (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

typedef gboolean (*Condition) (Fixture *f, gconstpointer data);

/* Runs the main loop until @condition holds; fails after WAIT_SECONDS. */
static void
wait_for (Fixture       *f,
          Condition      condition,
          gconstpointer  data)
{
  gboolean timed_out = FALSE;
  guint timeout = g_timeout_add_seconds (WAIT_SECONDS, on_wait_timeout, &timed_out);

  while (!condition (f, data) && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (timed_out);
  g_source_remove (timeout);
}

/* Runs the main loop for @ms: long enough for a file monitor's event and
 * the watch's delay, to show that something does NOT happen. */
static void
run_for (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, on_wait_timeout, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static gboolean
is_scheduled (Fixture *f, gconstpointer name)
{
  g_autoptr(PbState) state = pb_scheduler_ref_state (f->scheduler, name);

  return state != NULL;
}

static gboolean
is_not_scheduled (Fixture *f, gconstpointer name)
{
  return !is_scheduled (f, name);
}

static gboolean
has_started (Fixture *f, gconstpointer n)
{
  return f->started->len >= GPOINTER_TO_UINT (n);
}

static gboolean
has_finished (Fixture *f, gconstpointer n)
{
  return f->finished >= GPOINTER_TO_UINT (n);
}

static gboolean
was_reported (Fixture *f, gconstpointer n)
{
  return f->reported->len >= GPOINTER_TO_UINT (n);
}

static gboolean
host_is (Fixture *f, gconstpointer host)
{
  PbAccount *account = pb_account_store_lookup (f->store, "work");

  return account != NULL && g_strcmp0 (pb_account_get_host (account), host) == 0;
}

static PbAccount *
account_new (const char *name,
             const char *host)
{
  PbAccount *account = pb_account_new (name);

  pb_account_set_host (account, host);
  pb_account_set_user (account, "someone");
  return account;
}

/* What `popbiff accounts add` does: its own store, load, add, save. */
static void
add_elsewhere (const char *name,
               const char *host)
{
  g_autoptr(PbAccountStore) other = pb_account_store_new (NULL);
  g_autoptr(PbAccount) account = account_new (name, host);
  g_autoptr(GError) error = NULL;

  g_assert_true (pb_account_store_load (other, &error));
  g_assert_true (pb_account_store_add (other, account, &error));
  g_assert_true (pb_account_store_save (other, &error));
  g_assert_no_error (error);
}

static void
edit_elsewhere (const char *name,
                const char *host)
{
  g_autoptr(PbAccountStore) other = pb_account_store_new (NULL);
  g_autoptr(PbAccount) account = account_new (name, host);
  g_autoptr(GError) error = NULL;

  g_assert_true (pb_account_store_load (other, &error));
  g_assert_true (pb_account_store_replace (other, account, &error));
  g_assert_true (pb_account_store_save (other, &error));
  g_assert_no_error (error);
}

static void
remove_elsewhere (const char *name)
{
  g_autoptr(PbAccountStore) other = pb_account_store_new (NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (pb_account_store_load (other, &error));
  g_assert_true (pb_account_store_remove (other, name, &error));
  g_assert_true (pb_account_store_save (other, &error));
  g_assert_no_error (error);
}

/* What `popbiff dismiss` does: its own state object, load, flag, save. */
static void
dismiss_elsewhere (const char *name,
                   const char *uidl)
{
  g_autoptr(PbState) other = pb_state_new (name, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (pb_state_load (other, &error));
  g_assert_nonnull (pb_state_lookup (other, uidl));
  pb_state_lookup (other, uidl)->flags |= PB_MESSAGE_DISMISSED;
  g_assert_true (pb_state_save (other, &error));
  g_assert_no_error (error);
}

/* A state as a check of @name left it: @n new messages "m1".."mN". */
static void
write_state (const char *name,
             guint       n)
{
  g_autoptr(PbState) state = pb_state_new (name, NULL);
  g_autoptr(GError) error = NULL;

  for (guint i = 1; i <= n; i++)
    {
      g_autofree char *uidl = g_strdup_printf ("m%u", i);
      PbMessageRecord *record = pb_state_ensure (state, uidl);

      record->flags = PB_MESSAGE_NOTIFIED;
      pb_state_set_summary (state, record, "Someone", "someone@example.org", uidl, 1700000000 + i);
    }
  pb_state_set_fresh (state, FALSE);
  g_assert_true (pb_state_save (state, &error));
  g_assert_no_error (error);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  const char * const *accounts = data;
  g_autoptr(GError) error = NULL;

  current = f;
  f->running = g_ptr_array_new_with_free_func (g_object_unref);
  f->started = g_ptr_array_new_with_free_func (g_object_unref);
  f->reported = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; accounts != NULL && accounts[i] != NULL; i++)
    add_elsewhere (accounts[i], "pop.example.org");
  f->store = pb_account_store_new (NULL);
  g_assert_true (pb_account_store_load (f->store, &error));
  g_assert_no_error (error);

  f->scheduler = pb_scheduler_new (FALSE);
  pb_scheduler_set_runner (f->scheduler, fake_run, fake_finish);
  g_signal_connect (f->scheduler, "check-finished", G_CALLBACK (on_finished), f);
  pb_scheduler_watch_store (f->scheduler, f->store);
  f->watch = pb_disk_watch_new (f->store, f->scheduler);
  g_signal_connect (f->watch, "state-changed", G_CALLBACK (on_state_changed), f);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->watch);
  pb_scheduler_stop (f->scheduler);
  while (f->running->len > 0)
    complete_check (f);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&f->scheduler);
  g_clear_object (&f->store);
  g_clear_object (&f->last_reported);
  g_ptr_array_unref (f->running);
  g_ptr_array_unref (f->started);
  g_ptr_array_unref (f->reported);
  current = NULL;
}

static const char * const no_accounts[] = { NULL };
static const char * const one_account[] = { "work", NULL };

static void
test_account_added_elsewhere_is_checked (Fixture *f, gconstpointer data)
{
  pb_scheduler_start (f->scheduler);
  add_elsewhere ("work", "pop.example.org");
  wait_for (f, is_scheduled, "work");
  g_assert_nonnull (pb_account_store_lookup (f->store, "work"));
  /* Checked soon, like an account added in the applet. */
  wait_for (f, has_started, GUINT_TO_POINTER (1));
}

/* The check that runs when the account goes is cancelled and its result
 * dropped: nothing is reported for an account that is gone. */
static void
test_account_removed_elsewhere_cancels_its_check (Fixture *f, gconstpointer data)
{
  GCancellable *cancellable;

  pb_scheduler_start (f->scheduler);
  wait_for (f, has_started, GUINT_TO_POINTER (1));
  cancellable = g_task_get_cancellable (g_ptr_array_index (f->running, 0));
  g_assert_false (g_cancellable_is_cancelled (cancellable));

  remove_elsewhere ("work");
  wait_for (f, is_not_scheduled, "work");
  g_assert_null (pb_account_store_lookup (f->store, "work"));
  g_assert_true (g_cancellable_is_cancelled (cancellable));

  complete_check (f);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (f->finished, ==, 0);
  g_assert_false (pb_scheduler_is_checking (f->scheduler, "work"));
}

/* Edited while its check runs: that check's answer is for the old server,
 * so the next one follows at once, with the new settings. */
static void
test_account_edited_elsewhere_next_check_uses_it (Fixture *f, gconstpointer data)
{
  PbAccount *second;

  pb_scheduler_start (f->scheduler);
  wait_for (f, has_started, GUINT_TO_POINTER (1));
  g_assert_cmpstr (pb_account_get_host (g_ptr_array_index (f->started, 0)), ==, "pop.example.org");

  edit_elsewhere ("work", "pop.example.net");
  wait_for (f, host_is, "pop.example.net");
  complete_check (f);
  wait_for (f, has_started, GUINT_TO_POINTER (2));
  second = g_ptr_array_index (f->started, 1);
  g_assert_cmpstr (pb_account_get_host (second), ==, "pop.example.net");
}

/* Another account added: the one there keeps its plan (a reload of the
 * file signals every account, but only a real change is an edit). */
static void
test_other_account_added_keeps_schedule (Fixture *f, gconstpointer data)
{
  pb_scheduler_start (f->scheduler);
  wait_for (f, has_started, GUINT_TO_POINTER (1));
  complete_check (f);
  wait_for (f, has_finished, GUINT_TO_POINTER (1));
  g_assert_cmpint (pb_scheduler_get_next_check (f->scheduler, "work"), >=, 9 * 60);

  add_elsewhere ("home", "pop.example.net");
  wait_for (f, is_scheduled, "home");
  g_assert_cmpint (pb_scheduler_get_next_check (f->scheduler, "work"), >=, 9 * 60);
  wait_for (f, has_started, GUINT_TO_POINTER (2));
  g_assert_cmpstr (pb_account_get_name (g_ptr_array_index (f->started, 1)), ==, "home");
}

static gboolean
state_has_new (PbState *state, const char *uidl)
{
  PbMessageRecord *record = pb_state_lookup (state, uidl);

  return record != NULL && pb_message_record_is_new (record);
}

/* `popbiff dismiss work m2`: reported with the state as it is now. */
static void
test_dismissed_elsewhere_is_reported (Fixture *f, gconstpointer data)
{
  g_autoptr(PbState) state = NULL;

  write_state ("work", 3);
  /* What the applet shows at start comes from this load. */
  state = pb_scheduler_ref_state (f->scheduler, "work");
  g_assert_cmpuint (pb_state_count_new (state), ==, 3);

  dismiss_elsewhere ("work", "m2");
  wait_for (f, was_reported, GUINT_TO_POINTER (1));
  g_assert_cmpstr (g_ptr_array_index (f->reported, 0), ==, "work");
  g_assert_cmpuint (pb_state_count_new (f->last_reported), ==, 2);
  g_assert_false (state_has_new (f->last_reported, "m2"));
  g_assert_true (state_has_new (f->last_reported, "m3"));
}

/* Dismissed while the account is being checked: that check's list may
 * predate it, so the state is reported once the check has finished. */
static void
test_dismissed_during_check_reported_after_it (Fixture *f, gconstpointer data)
{
  write_state ("work", 2);
  pb_scheduler_start (f->scheduler);
  wait_for (f, has_started, GUINT_TO_POINTER (1));

  dismiss_elsewhere ("work", "m1");
  run_for (4 * PB_DISK_WATCH_DELAY_MS);
  g_assert_cmpuint (f->reported->len, ==, 0);

  complete_check (f);
  wait_for (f, was_reported, GUINT_TO_POINTER (1));
  g_assert_cmpuint (f->finished, ==, 1);
  g_assert_false (state_has_new (f->last_reported, "m1"));
  g_assert_true (state_has_new (f->last_reported, "m2"));
}

/* The scheduler's own saves of the state are not news. */
static void
test_own_state_save_not_reported (Fixture *f, gconstpointer data)
{
  g_autoptr(PbState) state = NULL;
  g_autoptr(GError) error = NULL;

  write_state ("work", 2);
  pb_scheduler_start (f->scheduler);
  wait_for (f, has_started, GUINT_TO_POINTER (1));
  /* As the real check does: it saves the state it was given. */
  state = pb_scheduler_ref_state (f->scheduler, "work");
  pb_state_lookup (state, "m1")->flags |= PB_MESSAGE_DISMISSED;
  g_assert_true (pb_state_save (state, &error));
  g_assert_no_error (error);
  complete_check (f);

  run_for (4 * PB_DISK_WATCH_DELAY_MS);
  g_assert_cmpuint (f->reported->len, ==, 0);
  /* A change from elsewhere after it still is. */
  dismiss_elsewhere ("work", "m2");
  wait_for (f, was_reported, GUINT_TO_POINTER (1));
  g_assert_cmpuint (pb_state_count_new (f->last_reported), ==, 0);
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

#define ADD(path, accounts, func) \
  g_test_add ("/scheduler/follow/" path, Fixture, accounts, fixture_set_up, func, fixture_tear_down)
  ADD ("account-added-elsewhere-is-checked", no_accounts, test_account_added_elsewhere_is_checked);
  ADD ("account-removed-elsewhere-cancels-its-check", one_account,
       test_account_removed_elsewhere_cancels_its_check);
  ADD ("account-edited-elsewhere-next-check-uses-it", one_account,
       test_account_edited_elsewhere_next_check_uses_it);
  ADD ("other-account-added-keeps-schedule", one_account, test_other_account_added_keeps_schedule);
  ADD ("dismissed-elsewhere-is-reported", one_account, test_dismissed_elsewhere_is_reported);
  ADD ("dismissed-during-check-reported-after-it", one_account,
       test_dismissed_during_check_reported_after_it);
  ADD ("own-state-save-not-reported", one_account, test_own_state_save_not_reported);
#undef ADD

  return g_test_run ();
}

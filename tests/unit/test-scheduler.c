/* The scheduler decides when each account is checked. These tests run it on
 * a fake clock (time moves only when a test says so) with a fake check job
 * the test completes by hand, so every rule is checked to the second and
 * nothing sleeps. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>

#include "core/pb-check.h"
#include "core/pb-core-error.h"
#include "core/pb-scheduler.h"
#include "pop3/pb-pop3-error.h"
#include "pb-test-util.h"

#define SECOND 1000
#define MINUTE (60 * SECOND)
#define HOUR   (60 * MINUTE)

/* --- A clock that moves only when told --------------------------------- */

typedef struct {
  guint       id;
  gint64      due;
  GSourceFunc func;
  gpointer    data;
} FakeTimer;

typedef struct {
  gint64  now;
  GList  *timers;   /* (element-type FakeTimer) */
  guint   next_id;
} FakeClock;

static gint64
fake_now (gpointer clock_data)
{
  return ((FakeClock *) clock_data)->now;
}

static guint
fake_add_timeout (guint delay_ms, GSourceFunc func, gpointer func_data, gpointer clock_data)
{
  FakeClock *clock = clock_data;
  FakeTimer *timer = g_new0 (FakeTimer, 1);

  timer->id = ++clock->next_id;
  timer->due = clock->now + delay_ms;
  timer->func = func;
  timer->data = func_data;
  clock->timers = g_list_append (clock->timers, timer);
  return timer->id;
}

static void
fake_remove_timeout (guint id, gpointer clock_data)
{
  FakeClock *clock = clock_data;

  for (GList *l = clock->timers; l != NULL; l = l->next)
    {
      FakeTimer *timer = l->data;

      if (timer->id == id)
        {
          clock->timers = g_list_delete_link (clock->timers, l);
          g_free (timer);
          return;
        }
    }
  g_assert_not_reached ();
}

static const PbSchedulerClock fake_clock_funcs = {
  fake_now, fake_add_timeout, fake_remove_timeout,
};

static void
drain_main_context (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

/* Moves time forward, firing due timers in order. */
static void
clock_advance (FakeClock *clock,
               gint64     ms)
{
  gint64 target = clock->now + ms;

  for (;;)
    {
      FakeTimer *earliest = NULL;

      for (GList *l = clock->timers; l != NULL; l = l->next)
        {
          FakeTimer *timer = l->data;

          if (timer->due <= target && (earliest == NULL || timer->due < earliest->due))
            earliest = timer;
        }
      if (earliest == NULL)
        break;
      clock->now = MAX (clock->now, earliest->due);
      clock->timers = g_list_remove (clock->timers, earliest);
      earliest->func (earliest->data);
      g_free (earliest);
      drain_main_context ();
    }
  clock->now = target;
}

/* --- A check job the test completes ------------------------------------ */

typedef struct {
  FakeClock    clock;
  PbScheduler *scheduler;
  GPtrArray   *running;    /* (element-type GTask) checks not completed yet */
  GPtrArray   *started;    /* (element-type utf8) account names, in order */
  GPtrArray   *finished;   /* (element-type PbCheckResult) from "check-finished" */
  PbState     *run_state;  /* what the last check was given; compared, never used */
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
  g_assert_nonnull (state);
  current->run_state = state;
  g_task_set_task_data (task, g_strdup (pb_account_get_name (account)), g_free);
  g_ptr_array_add (current->running, task);
  g_ptr_array_add (current->started, g_strdup (pb_account_get_name (account)));
}

static PbCheckResult *
fake_finish (GAsyncResult *result)
{
  return g_task_propagate_pointer (G_TASK (result), NULL);
}

static guint
count_running (Fixture    *f,
               const char *name)
{
  guint n = 0;

  for (guint i = 0; i < f->running->len; i++)
    if (g_str_equal (g_task_get_task_data (g_ptr_array_index (f->running, i)), name))
      n++;
  return n;
}

static guint
count_started (Fixture    *f,
               const char *name)
{
  guint n = 0;

  for (guint i = 0; i < f->started->len; i++)
    if (g_str_equal (g_ptr_array_index (f->started, i), name))
      n++;
  return n;
}

/* Completes the running check of @name with @result (taken). */
static void
complete (Fixture       *f,
          const char    *name,
          PbCheckResult *result)
{
  for (guint i = 0; i < f->running->len; i++)
    {
      GTask *task = g_ptr_array_index (f->running, i);

      if (g_str_equal (g_task_get_task_data (task), name))
        {
          g_ptr_array_steal_index (f->running, i);
          g_task_return_pointer (task, result, g_object_unref);
          g_object_unref (task);
          drain_main_context ();
          return;
        }
    }
  g_assert_not_reached ();
}

static void
complete_ok (Fixture *f, const char *name)
{
  PbCheckResult *result = pb_check_result_new (name);

  pb_check_result_set_counts (result, 3, 300, 1);
  complete (f, name, result);
}

static void
complete_error (Fixture *f, const char *name, GQuark domain, int code, gint retry_after)
{
  PbCheckResult *result = pb_check_result_new (name);

  pb_check_result_take_error (result, g_error_new_literal (domain, code, "it failed"));
  pb_check_result_set_retry_after (result, retry_after);
  complete (f, name, result);
}

static void
on_check_finished (PbScheduler   *scheduler,
                   PbAccount     *account,
                   PbCheckResult *result,
                   Fixture       *f)
{
  g_assert_cmpstr (pb_account_get_name (account), ==, pb_check_result_get_account_name (result));
  g_ptr_array_add (f->finished, g_object_ref (result));
}

static PbAccount *
make_account (const char *name,
              guint       interval)
{
  PbAccount *account = pb_account_new (name);

  pb_account_set_host (account, "127.0.0.1");
  pb_account_set_user (account, "someone");
  pb_account_set_interval (account, interval);
  return account;
}

static void
add_account (Fixture *f, const char *name, guint interval)
{
  g_autoptr(PbAccount) account = make_account (name, interval);

  pb_scheduler_add_account (f->scheduler, account);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  current = f;
  f->running = g_ptr_array_new ();
  f->started = g_ptr_array_new_with_free_func (g_free);
  f->finished = g_ptr_array_new_with_free_func (g_object_unref);
  f->scheduler = pb_scheduler_new (FALSE);
  pb_scheduler_set_clock (f->scheduler, &fake_clock_funcs, &f->clock);
  pb_scheduler_set_runner (f->scheduler, fake_run, fake_finish);
  pb_scheduler_set_seed (f->scheduler, 42);
  g_signal_connect (f->scheduler, "check-finished", G_CALLBACK (on_check_finished), f);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  pb_scheduler_stop (f->scheduler);
  /* Complete what is still out so every task is released; the scheduler
   * ignores the answers of cancelled checks. */
  while (f->running->len > 0)
    {
      GTask *task = g_ptr_array_steal_index (f->running, 0);
      g_autofree char *name = g_strdup (g_task_get_task_data (task));
      PbCheckResult *result = pb_check_result_new (name);

      pb_check_result_take_error (result, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "x"));
      g_task_return_pointer (task, result, g_object_unref);
      g_object_unref (task);
    }
  drain_main_context ();
  g_clear_object (&f->scheduler);
  g_ptr_array_unref (f->running);
  g_ptr_array_unref (f->started);
  g_ptr_array_unref (f->finished);
  g_list_free_full (f->clock.timers, g_free);
  current = NULL;
}

/* Seconds until the next timed check, from the scheduler. */
static gint64
next_check (Fixture *f, const char *name)
{
  return pb_scheduler_get_next_check (f->scheduler, name);
}

/* --- The rules -------------------------------------------------------- */

static void
test_first_check_soon_and_concurrent (Fixture *f, gconstpointer data)
{
  add_account (f, "work", 10);
  add_account (f, "home", 10);

  /* Nothing happens before start. */
  clock_advance (&f->clock, HOUR);
  g_assert_cmpuint (f->started->len, ==, 0);

  /* Started: due at once, run from the main loop (after the applet's own
   * start-up), both within the start jitter. */
  pb_scheduler_start (f->scheduler);
  g_assert_cmpuint (f->started->len, ==, 0);
  g_assert_cmpint (next_check (f, "work"), ==, 0);
  g_assert_cmpint (next_check (f, "home"), ==, 0);

  clock_advance (&f->clock, PB_SCHEDULER_START_DELAY_MS + PB_SCHEDULER_START_JITTER_MS);
  /* Both accounts check at the same time, each in its own session. */
  g_assert_cmpuint (count_running (f, "work"), ==, 1);
  g_assert_cmpuint (count_running (f, "home"), ==, 1);
  g_assert_true (pb_scheduler_is_checking (f->scheduler, "work"));
  g_assert_cmpint (pb_scheduler_get_status (f->scheduler, "home"), ==, PB_ACCOUNT_STATUS_CHECKING);

  complete_ok (f, "home");
  g_assert_cmpuint (f->finished->len, ==, 1);
  g_assert_cmpint (pb_scheduler_get_status (f->scheduler, "home"), ==, PB_ACCOUNT_STATUS_OK);
  g_assert_true (pb_scheduler_is_checking (f->scheduler, "work"));
  g_assert_nonnull (pb_scheduler_get_last_result (f->scheduler, "home"));
  g_assert_null (pb_scheduler_get_last_result (f->scheduler, "work"));
}

static void
test_interval_with_jitter (Fixture *f, gconstpointer data)
{
  add_account (f, "work", 10);
  pb_scheduler_start (f->scheduler);
  clock_advance (&f->clock, 10 * SECOND);
  complete_ok (f, "work");

  /* Ten minutes plus at most 5% (30 s). */
  g_assert_cmpint (next_check (f, "work"), >=, 10 * 60);
  g_assert_cmpint (next_check (f, "work"), <=, 10 * 60 + 30);
  clock_advance (&f->clock, 10 * MINUTE - SECOND);
  g_assert_cmpuint (count_started (f, "work"), ==, 1);
  clock_advance (&f->clock, 31 * SECOND);
  g_assert_cmpuint (count_started (f, "work"), ==, 2);
}

static void
test_one_session_per_account (Fixture *f, gconstpointer data)
{
  add_account (f, "work", 10);
  pb_scheduler_start (f->scheduler);
  pb_scheduler_check_now (f->scheduler, "work");
  g_assert_cmpuint (count_running (f, "work"), ==, 1);

  /* Asking again while it runs opens no second session ... */
  pb_scheduler_check_now (f->scheduler, "work");
  pb_scheduler_check_now (f->scheduler, NULL);
  pb_scheduler_network_changed (f->scheduler, FALSE);
  pb_scheduler_network_changed (f->scheduler, TRUE);
  clock_advance (&f->clock, HOUR);
  g_assert_cmpuint (count_running (f, "work"), ==, 1);
  g_assert_cmpuint (count_started (f, "work"), ==, 1);

  /* ... but the request is kept: one more check right after. */
  complete_ok (f, "work");
  clock_advance (&f->clock, 0);
  g_assert_cmpuint (count_started (f, "work"), ==, 2);
  complete_ok (f, "work");
  clock_advance (&f->clock, 0);
  g_assert_cmpuint (count_started (f, "work"), ==, 2);
}

static void
test_backoff (Fixture *f, gconstpointer data)
{
  static const gint64 expected_minutes[] = { 1, 2, 4, 8, 16, 32, 60, 60, 60 };

  add_account (f, "work", 10);
  pb_scheduler_start (f->scheduler);
  pb_scheduler_check_now (f->scheduler, "work");

  for (guint i = 0; i < G_N_ELEMENTS (expected_minutes); i++)
    {
      gint64 wait = expected_minutes[i] * 60;
      guint before;

      complete_error (f, "work", PB_POP3_ERROR, PB_POP3_ERROR_NETWORK, -1);
      g_assert_cmpint (pb_scheduler_get_status (f->scheduler, "work"), ==, PB_ACCOUNT_STATUS_ERROR);
      g_assert_cmpstr (pb_scheduler_get_status_message (f->scheduler, "work"), ==, "it failed");
      /* The wait, plus at most 5% jitter. */
      g_assert_cmpint (next_check (f, "work"), >=, wait);
      g_assert_cmpint (next_check (f, "work"), <=, wait + wait / 20 + 1);

      before = count_started (f, "work");
      clock_advance (&f->clock, (wait + wait / 20 + 1) * SECOND);
      g_assert_cmpuint (count_started (f, "work"), ==, before + 1);
    }

  /* A success ends the backoff: back to the interval. */
  complete_ok (f, "work");
  g_assert_cmpint (next_check (f, "work"), >=, 10 * 60);
  g_assert_cmpint (next_check (f, "work"), <=, 10 * 60 + 30);
  clock_advance (&f->clock, 11 * MINUTE);
  complete_error (f, "work", PB_POP3_ERROR, PB_POP3_ERROR_TIMEOUT, -1);
  g_assert_cmpint (next_check (f, "work"), <=, 60 + 3);
}

static void
test_backoff_capped_for_long_intervals (Fixture *f, gconstpointer data)
{
  add_account (f, "daily", 24 * 60);
  pb_scheduler_start (f->scheduler);
  pb_scheduler_check_now (f->scheduler, "daily");

  /* A daily account that fails is retried at least hourly, not daily. */
  for (guint i = 0; i < 12; i++)
    {
      complete_error (f, "daily", PB_POP3_ERROR, PB_POP3_ERROR_NETWORK, -1);
      g_assert_cmpint (next_check (f, "daily"), <=, 3600 + 180);
      clock_advance (&f->clock, HOUR + 3 * MINUTE);
      g_assert_cmpuint (count_running (f, "daily"), ==, 1);
    }
  complete_ok (f, "daily");
  g_assert_cmpint (next_check (f, "daily"), >=, 24 * 3600);
}

static void
test_temporary_server_errors_retry (Fixture *f, gconstpointer data)
{
  static const int codes[] = { PB_POP3_ERROR_IN_USE, PB_POP3_ERROR_SYS_TEMP };

  add_account (f, "work", 10);
  pb_scheduler_start (f->scheduler);
  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      guint before = count_started (f, "work");

      pb_scheduler_check_now (f->scheduler, "work");
      complete_error (f, "work", PB_POP3_ERROR, codes[i], -1);
      /* Retried later, not given up. */
      g_assert_cmpint (pb_scheduler_get_status (f->scheduler, "work"), ==, PB_ACCOUNT_STATUS_ERROR);
      g_assert_cmpint (next_check (f, "work"), >, 0);
      clock_advance (&f->clock, HOUR + MINUTE);
      g_assert_cmpuint (count_started (f, "work"), >, before + 1);
      complete_ok (f, "work");
    }
}

static void
test_rejected_password_stops_until_edited (Fixture *f, gconstpointer data)
{
  g_autoptr(PbAccount) edited = make_account ("work", 10);

  add_account (f, "work", 10);
  add_account (f, "home", 10);
  pb_scheduler_start (f->scheduler);
  clock_advance (&f->clock, 10 * SECOND);
  complete_error (f, "work", PB_POP3_ERROR, PB_POP3_ERROR_AUTH, -1);
  complete_ok (f, "home");

  g_assert_cmpint (pb_scheduler_get_status (f->scheduler, "work"), ==, PB_ACCOUNT_STATUS_AUTH_STOPPED);
  g_assert_nonnull (g_strstr_len (pb_scheduler_get_status_message (f->scheduler, "work"), -1,
                                  "Password rejected"));
  g_assert_cmpint (next_check (f, "work"), ==, -1);

  /* No timer, no "check all", no network or resume trigger tries again. */
  pb_scheduler_check_now (f->scheduler, NULL);
  complete_ok (f, "home");
  pb_scheduler_network_changed (f->scheduler, FALSE);
  pb_scheduler_network_changed (f->scheduler, TRUE);
  complete_ok (f, "home");
  pb_scheduler_resumed (f->scheduler);
  clock_advance (&f->clock, 24 * HOUR);
  g_assert_cmpuint (count_started (f, "work"), ==, 1);
  g_assert_cmpuint (count_running (f, "work"), ==, 0);

  /* Editing the account (a new password) starts over, soon. */
  pb_scheduler_update_account (f->scheduler, edited);
  g_assert_cmpint (pb_scheduler_get_status (f->scheduler, "work"), ==, PB_ACCOUNT_STATUS_IDLE);
  clock_advance (&f->clock, PB_SCHEDULER_START_DELAY_MS + PB_SCHEDULER_START_JITTER_MS);
  g_assert_cmpuint (count_started (f, "work"), ==, 2);
}

static void
test_no_password_mechanism_also_stops (Fixture *f, gconstpointer data)
{
  add_account (f, "work", 10);
  pb_scheduler_start (f->scheduler);
  pb_scheduler_check_now (f->scheduler, "work");
  complete_error (f, "work", PB_POP3_ERROR, PB_POP3_ERROR_AUTH_UNAVAILABLE, -1);

  g_assert_cmpint (pb_scheduler_get_status (f->scheduler, "work"), ==, PB_ACCOUNT_STATUS_AUTH_STOPPED);
  g_assert_nonnull (g_strstr_len (pb_scheduler_get_status_message (f->scheduler, "work"), -1,
                                  "it failed"));

  /* Asking for this account by name is the person's choice: it runs. */
  pb_scheduler_check_now (f->scheduler, "work");
  g_assert_cmpuint (count_running (f, "work"), ==, 1);
}

static void
test_login_delay_stretches_interval (Fixture *f, gconstpointer data)
{
  PbCheckResult *result;

  add_account (f, "work", 10);
  pb_scheduler_start (f->scheduler);

  /* CAPA LOGIN-DELAY 3600 on a 10-minute account: wait an hour. */
  pb_scheduler_check_now (f->scheduler, "work");
  result = pb_check_result_new ("work");
  pb_check_result_set_login_delay (result, 3600);
  complete (f, "work", result);
  g_assert_cmpint (next_check (f, "work"), >=, 3600);
  g_assert_cmpint (next_check (f, "work"), <=, 3600 + 60);

  /* A delay shorter than the interval changes nothing. */
  clock_advance (&f->clock, 2 * HOUR);
  result = pb_check_result_new ("work");
  pb_check_result_set_login_delay (result, 120);
  complete (f, "work", result);
  g_assert_cmpint (next_check (f, "work"), >=, 600);
  g_assert_cmpint (next_check (f, "work"), <=, 630);

  /* [LOGIN-DELAY 900] on a failed login: not the 1-minute backoff. */
  clock_advance (&f->clock, 11 * MINUTE);
  complete_error (f, "work", PB_POP3_ERROR, PB_POP3_ERROR_LOGIN_DELAY, 900);
  g_assert_cmpint (pb_scheduler_get_status (f->scheduler, "work"), ==, PB_ACCOUNT_STATUS_ERROR);
  g_assert_cmpint (next_check (f, "work"), >=, 900);
  g_assert_cmpint (next_check (f, "work"), <=, 960);
}

static void
test_network_up_checks_everything (Fixture *f, gconstpointer data)
{
  add_account (f, "work", 10);
  add_account (f, "home", 30);
  pb_scheduler_start (f->scheduler);
  clock_advance (&f->clock, 10 * SECOND);
  complete_error (f, "work", PB_POP3_ERROR, PB_POP3_ERROR_NETWORK, -1);
  complete_ok (f, "home");
  g_assert_cmpuint (f->started->len, ==, 2);

  /* Route changes while online are not "came back". */
  pb_scheduler_network_changed (f->scheduler, TRUE);
  g_assert_cmpuint (f->started->len, ==, 2);

  pb_scheduler_network_changed (f->scheduler, FALSE);
  g_assert_cmpuint (f->started->len, ==, 2);
  pb_scheduler_network_changed (f->scheduler, TRUE);
  /* At once, without waiting out the backoff or the interval. */
  g_assert_cmpuint (count_running (f, "work"), ==, 1);
  g_assert_cmpuint (count_running (f, "home"), ==, 1);
}

static void
test_resume_checks_soon (Fixture *f, gconstpointer data)
{
  add_account (f, "work", 60);
  pb_scheduler_start (f->scheduler);
  clock_advance (&f->clock, 10 * SECOND);
  complete_ok (f, "work");
  g_assert_cmpint (next_check (f, "work"), >=, 3600);

  pb_scheduler_resumed (f->scheduler);
  g_assert_cmpint (next_check (f, "work"), <=, 1);
  clock_advance (&f->clock, PB_SCHEDULER_RESUME_DELAY_MS - 1);
  g_assert_cmpuint (count_running (f, "work"), ==, 0);
  clock_advance (&f->clock, PB_SCHEDULER_RESUME_JITTER_MS + 1);
  g_assert_cmpuint (count_running (f, "work"), ==, 1);
}

static void
test_disabled_account_never_checked (Fixture *f, gconstpointer data)
{
  g_autoptr(PbAccount) account = make_account ("off", 1);

  pb_account_set_enabled (account, FALSE);
  pb_scheduler_add_account (f->scheduler, account);
  pb_scheduler_start (f->scheduler);
  pb_scheduler_check_now (f->scheduler, NULL);
  pb_scheduler_check_now (f->scheduler, "off");
  clock_advance (&f->clock, 24 * HOUR);

  g_assert_cmpuint (f->started->len, ==, 0);
  g_assert_cmpint (pb_scheduler_get_status (f->scheduler, "off"), ==, PB_ACCOUNT_STATUS_DISABLED);
}

static void
test_remove_while_checking (Fixture *f, gconstpointer data)
{
  GTask *task;

  add_account (f, "work", 10);
  pb_scheduler_start (f->scheduler);
  pb_scheduler_check_now (f->scheduler, "work");
  task = g_ptr_array_index (f->running, 0);

  pb_scheduler_remove_account (f->scheduler, "work");
  /* The session is cancelled; its late answer is dropped. */
  g_assert_true (g_cancellable_is_cancelled (g_task_get_cancellable (task)));
  complete_ok (f, "work");
  g_assert_cmpuint (f->finished->len, ==, 0);
  clock_advance (&f->clock, 24 * HOUR);
  g_assert_cmpuint (f->started->len, ==, 1);
}

static void
test_stop_cancels_and_silences (Fixture *f, gconstpointer data)
{
  GTask *task;

  add_account (f, "work", 10);
  pb_scheduler_start (f->scheduler);
  pb_scheduler_check_now (f->scheduler, "work");
  task = g_ptr_array_index (f->running, 0);
  pb_scheduler_stop (f->scheduler);
  g_assert_true (g_cancellable_is_cancelled (g_task_get_cancellable (task)));

  complete_error (f, "work", G_IO_ERROR, G_IO_ERROR_CANCELLED, -1);
  /* A cancelled check is not a failure and is not reported. */
  g_assert_cmpuint (f->finished->len, ==, 0);
  g_assert_cmpint (pb_scheduler_get_status (f->scheduler, "work"), !=, PB_ACCOUNT_STATUS_ERROR);
  clock_advance (&f->clock, 24 * HOUR);
  g_assert_cmpuint (f->started->len, ==, 1);
}

static void
test_state_is_shared (Fixture *f, gconstpointer data)
{
  PbState *state;

  add_account (f, "work", 10);
  state = pb_scheduler_get_state (f->scheduler, "work");
  g_assert_nonnull (state);
  g_assert_true (state == pb_scheduler_get_state (f->scheduler, "work"));
  g_assert_null (pb_scheduler_get_state (f->scheduler, "nobody"));
}

static void
test_state_reloaded_when_changed_on_disk (Fixture *f, gconstpointer data)
{
  g_autoptr(PbState) other = NULL;
  g_autoptr(GError) error = NULL;
  PbState *state;

  add_account (f, "work", 10);
  pb_scheduler_start (f->scheduler);
  state = pb_scheduler_get_state (f->scheduler, "work");
  pb_state_ensure (state, "seen-by-applet");
  g_assert_null (pb_state_lookup (state, "dismissed-elsewhere"));

  /* Another process (popbiff dismiss) writes the file ... */
  other = pb_state_new ("work", NULL);
  pb_state_ensure (other, "dismissed-elsewhere")->flags |= PB_MESSAGE_DISMISSED;
  g_assert_true (pb_state_save (other, &error));
  g_assert_no_error (error);

  /* ... and the next check starts from what is on disk. */
  pb_scheduler_check_now (f->scheduler, "work");
  g_assert_true (state == pb_scheduler_get_state (f->scheduler, "work"));
  g_assert_nonnull (pb_state_lookup (state, "dismissed-elsewhere"));
  g_assert_cmpint (pb_state_lookup (state, "dismissed-elsewhere")->flags & PB_MESSAGE_DISMISSED,
                   ==, PB_MESSAGE_DISMISSED);
  complete_ok (f, "work");

  /* Unchanged on disk: the objects in memory are kept as they are. */
  pb_state_ensure (state, "only-in-memory");
  pb_scheduler_check_now (f->scheduler, "work");
  g_assert_nonnull (pb_state_lookup (state, "only-in-memory"));
}

/* An idle applet must not keep every known message in memory: the state
 * lives from the start of a check to its end, unless someone holds it. */
static void
test_state_released_after_check (Fixture *f, gconstpointer data)
{
  PbState *state;

  add_account (f, "work", 10);
  pb_scheduler_check_now (f->scheduler, "work");
  state = pb_scheduler_ref_state (f->scheduler, "work");
  g_assert_true (state == f->run_state);
  g_object_add_weak_pointer (G_OBJECT (state), (gpointer *) &state);
  g_object_unref (state);
  g_assert_nonnull (state);  /* the running check holds it */

  complete_ok (f, "work");
  g_assert_null (state);

  /* Asked for again, it is loaded again. */
  state = pb_scheduler_ref_state (f->scheduler, "work");
  g_assert_nonnull (state);
  g_object_unref (state);
}

/* A download holding the state across a check shares it with the check,
 * so the two never write different copies. */
static void
test_state_shared_while_held (Fixture *f, gconstpointer data)
{
  g_autoptr(PbState) held = NULL;

  add_account (f, "work", 10);
  held = pb_scheduler_ref_state (f->scheduler, "work");
  pb_state_ensure (held, "being-downloaded");

  pb_scheduler_check_now (f->scheduler, "work");
  g_assert_true (f->run_state == held);
  complete_ok (f, "work");

  pb_scheduler_check_now (f->scheduler, "work");
  g_assert_true (f->run_state == held);
  g_assert_nonnull (pb_state_lookup (f->run_state, "being-downloaded"));
}

/* The last result says how the check went; the new messages went out with
 * check-finished and are not kept. */
static void
test_last_result_keeps_counts_not_messages (Fixture *f, gconstpointer data)
{
  PbCheckResult *result = pb_check_result_new ("work");
  PbMessageRecord record = { .uidl = (char *) "uidl-1", .size = 1234, .subject = (char *) "Hello" };
  PbCheckResult *last;

  add_account (f, "work", 10);
  pb_scheduler_check_now (f->scheduler, "work");
  pb_check_result_set_counts (result, 5, 5000, 1);
  pb_check_result_add_new_message (result, &record);
  pb_check_result_add_announced (result, &record);
  pb_check_result_set_login_delay (result, 300);
  complete (f, "work", result);

  g_assert_cmpuint (f->finished->len, ==, 1);
  g_assert_cmpuint (pb_check_result_get_new_messages (g_ptr_array_index (f->finished, 0))->len, ==, 1);
  last = pb_scheduler_get_last_result (f->scheduler, "work");
  g_assert_nonnull (last);
  g_assert_true (pb_check_result_get_ok (last));
  g_assert_cmpuint (pb_check_result_get_total (last), ==, 5);
  g_assert_cmpuint (pb_check_result_get_size (last), ==, 5000);
  g_assert_cmpuint (pb_check_result_get_new_count (last), ==, 1);
  g_assert_cmpint (pb_check_result_get_login_delay (last), ==, 300);
  g_assert_cmpuint (pb_check_result_get_new_messages (last)->len, ==, 0);
  g_assert_cmpuint (pb_check_result_get_announced (last)->len, ==, 0);

  /* A failure keeps its error. */
  pb_scheduler_check_now (f->scheduler, "work");
  complete_error (f, "work", G_IO_ERROR, G_IO_ERROR_TIMED_OUT, -1);
  last = pb_scheduler_get_last_result (f->scheduler, "work");
  g_assert_false (pb_check_result_get_ok (last));
  g_assert_error ((GError *) pb_check_result_get_error (last), G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
}

/* The real check, with the password given (no keyring here). It must end
 * before connecting: nothing listens at the account's address. */
static void
real_run (PbAccount           *account,
          PbState             *state,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  current->run_state = state;
  pb_check_run_async (account, state, "secret", PB_CHECK_DEFAULT_MAX_TOPS, PB_CHECK_FLAGS_NONE,
                      cancellable, callback, user_data);
}

static void
wait_for_finished (Fixture *f,
                   guint    count)
{
  while (f->finished->len < count)
    g_main_context_iteration (NULL, TRUE);
}

/* A state file that is there but cannot be read (here a directory where
 * it should be) fails the applet's check with that error, without a
 * connection (connecting would be a network error), and backs off like
 * any failure. The next check reads the file again and is given what it
 * holds. */
static void
test_unreadable_state_fails_check (Fixture *f, gconstpointer data)
{
  g_autoptr(PbState) state = pb_state_new ("work", NULL);
  const char *path = pb_state_get_path (state);
  g_autoptr(GError) error = NULL;
  const GError *failure;

  pb_scheduler_set_runner (f->scheduler, real_run, pb_check_run_finish);
  add_account (f, "work", 10);
  g_assert_cmpint (g_mkdir_with_parents (path, 0700), ==, 0);
  pb_scheduler_start (f->scheduler);

  pb_scheduler_check_now (f->scheduler, "work");
  wait_for_finished (f, 1);
  failure = pb_check_result_get_error (g_ptr_array_index (f->finished, 0));
  g_assert_error ((GError *) failure, PB_CORE_ERROR, PB_CORE_ERROR_DISK);
  g_assert_nonnull (strstr (failure->message, path));
  g_assert_cmpuint (pb_check_result_get_total (g_ptr_array_index (f->finished, 0)), ==, 0);
  g_assert_cmpint (pb_scheduler_get_status (f->scheduler, "work"), ==, PB_ACCOUNT_STATUS_ERROR);
  g_assert_cmpstr (pb_scheduler_get_status_message (f->scheduler, "work"), ==, failure->message);
  g_assert_cmpint (next_check (f, "work"), >=, 60);
  g_assert_cmpint (next_check (f, "work"), <=, 60 + 3);

  /* Repaired: the next check is given what the file holds. */
  g_assert_cmpint (g_rmdir (path), ==, 0);
  pb_state_ensure (state, "known-before")->flags |= PB_MESSAGE_DISMISSED;
  g_assert_true (pb_state_save (state, &error));
  g_assert_no_error (error);
  pb_scheduler_set_runner (f->scheduler, fake_run, fake_finish);
  pb_scheduler_check_now (f->scheduler, "work");
  g_assert_cmpuint (count_running (f, "work"), ==, 1);
  g_assert_null (pb_state_get_read_error (f->run_state));
  g_assert_nonnull (pb_state_lookup (f->run_state, "known-before"));
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add ("/core/scheduler/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("first-check-soon-and-concurrent", test_first_check_soon_and_concurrent);
  ADD ("interval-with-jitter", test_interval_with_jitter);
  ADD ("one-session-per-account", test_one_session_per_account);
  ADD ("backoff", test_backoff);
  ADD ("backoff-capped-for-long-intervals", test_backoff_capped_for_long_intervals);
  ADD ("temporary-server-errors-retry", test_temporary_server_errors_retry);
  ADD ("rejected-password-stops-until-edited", test_rejected_password_stops_until_edited);
  ADD ("no-password-mechanism-also-stops", test_no_password_mechanism_also_stops);
  ADD ("login-delay-stretches-interval", test_login_delay_stretches_interval);
  ADD ("network-up-checks-everything", test_network_up_checks_everything);
  ADD ("resume-checks-soon", test_resume_checks_soon);
  ADD ("disabled-account-never-checked", test_disabled_account_never_checked);
  ADD ("remove-while-checking", test_remove_while_checking);
  ADD ("stop-cancels-and-silences", test_stop_cancels_and_silences);
  ADD ("state-is-shared", test_state_is_shared);
  ADD ("state-reloaded-when-changed-on-disk", test_state_reloaded_when_changed_on_disk);
  ADD ("state-released-after-check", test_state_released_after_check);
  ADD ("state-shared-while-held", test_state_shared_while_held);
  ADD ("last-result-keeps-counts-not-messages", test_last_result_keeps_counts_not_messages);
  ADD ("unreadable-state-fails-check", test_unreadable_state_fails_check);
#undef ADD

  return g_test_run ();
}

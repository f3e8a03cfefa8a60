#include <string.h>
#include <sys/stat.h>
#include <glib/gi18n.h>

#include "pb-check.h"
#include "pb-core-error.h"
#include "pb-scheduler.h"
#include "pop3/pb-pop3-error.h"

/* Regular checks wait the interval plus up to this share of it (at most
 * MAX_INTERVAL_JITTER_MS), so accounts on one server drift apart. */
#define INTERVAL_JITTER_PERCENT 5
#define MAX_INTERVAL_JITTER_MS  (60 * 1000)

typedef struct {
  PbScheduler     *scheduler;     /* unowned: entries live inside it */
  PbAccount       *account;       /* owned; replaced on edit */
  /* The account's state: every known message, so megabytes for a big
   * mailbox. Held (state_ref) from when it is first needed until the end
   * of the next check, or for good once pinned by pb_scheduler_get_state();
   * between checks only a weak pointer remains, so that whoever still uses
   * it (a download) shares the one object with the next check. */
  PbState         *state;         /* weak, NULL when nobody holds it */
  PbState         *state_ref;     /* owned, see above */
  gboolean         state_pinned;
  struct stat      state_file;    /* the state file as we last loaded or saved it */
  PbAccountStatus  status;
  char            *status_message;
  PbCheckResult   *last_result;   /* owned, NULL before the first result */
  GCancellable    *cancellable;   /* of the running check; NULL when none runs */
  guint64          run_id;        /* which run a finishing check belongs to */
  guint            timer_id;      /* 0 when no timed check is planned */
  gint64           due;           /* clock ms of the planned check, -1 if none */
  guint            failures;      /* consecutive, for the backoff */
  gint             login_delay;   /* CAPA LOGIN-DELAY, seconds, -1 if none */
  guint            unsummarized;  /* new messages the last check left without
                                   * headers while filling them in, 0 if none */
  PbAccount       *settings;      /* owned: a copy of the account as last
                                   * scheduled, to tell a real edit from a
                                   * store reload that changed nothing */
  char            *state_path;    /* the state file, known once loaded */
  gboolean         again;         /* a check was asked for while one ran */
} Entry;

struct _PbScheduler
{
  GObject                parent_instance;

  GHashTable            *entries;      /* account name -> Entry (owned) */
  gboolean               started;
  gboolean               watch_system;
  gboolean               network_available;
  guint64                next_run_id;
  GRand                 *rand;

  PbSchedulerRunFunc     run;
  PbSchedulerFinishFunc  finish;
  PbSchedulerClock       clock;
  gpointer               clock_data;

  GNetworkMonitor       *network_monitor;  /* unowned singleton, NULL in tests */
  GDBusConnection       *system_bus;       /* owned, NULL when there is none */
  guint                  sleep_subscription;
  GCancellable          *cancellable;      /* for the bus lookup */
};

G_DEFINE_FINAL_TYPE (PbScheduler, pb_scheduler, G_TYPE_OBJECT)

enum {
  SIGNAL_CHECK_STARTED,
  SIGNAL_CHECK_FINISHED,
  SIGNAL_ACCOUNT_STATE_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void run_check (Entry *entry);
static void remember_state_file (Entry *entry);

/* --- The default clock: monotonic time and the main loop --------------- */

static gint64
default_now (gpointer clock_data)
{
  return g_get_monotonic_time () / 1000;
}

static guint
default_add_timeout (guint       delay_ms,
                     GSourceFunc func,
                     gpointer    func_data,
                     gpointer    clock_data)
{
  /* Long waits use second granularity so the system can group wake-ups. */
  if (delay_ms >= 10 * 1000)
    return g_timeout_add_seconds ((delay_ms + 999) / 1000, func, func_data);
  return g_timeout_add (delay_ms, func, func_data);
}

static void
default_remove_timeout (guint    id,
                        gpointer clock_data)
{
  g_source_remove (id);
}

static const PbSchedulerClock default_clock = {
  default_now, default_add_timeout, default_remove_timeout,
};

/* --- The default runner: the real check ------------------------------- */

static void
default_run (PbAccount           *account,
             PbState             *state,
             GCancellable        *cancellable,
             GAsyncReadyCallback  callback,
             gpointer             user_data)
{
  pb_check_run_async (account, state, NULL, PB_CHECK_DEFAULT_MAX_TOPS, PB_CHECK_FLAGS_NONE,
                      cancellable, callback, user_data);
}

/* --- Entries ----------------------------------------------------------- */

static void
entry_cancel_timer (Entry *entry)
{
  PbScheduler *self = entry->scheduler;

  if (entry->timer_id != 0)
    self->clock.remove_timeout (entry->timer_id, self->clock_data);
  entry->timer_id = 0;
  entry->due = -1;
}

static void
entry_free (Entry *entry)
{
  entry_cancel_timer (entry);
  if (entry->cancellable != NULL)
    g_cancellable_cancel (entry->cancellable);
  g_clear_object (&entry->cancellable);
  g_clear_object (&entry->account);
  g_clear_object (&entry->settings);
  g_free (entry->state_path);
  g_clear_weak_pointer (&entry->state);
  g_clear_object (&entry->state_ref);
  g_clear_object (&entry->last_result);
  g_free (entry->status_message);
  g_free (entry);
}

static Entry *
lookup_entry (PbScheduler *self,
              const char  *name)
{
  g_return_val_if_fail (PB_IS_SCHEDULER (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return g_hash_table_lookup (self->entries, name);
}

static void
entry_set_status (Entry           *entry,
                  PbAccountStatus  status,
                  const char      *message)
{
  entry->status = status;
  g_free (entry->status_message);
  entry->status_message = g_strdup (message);
}

static void
emit_state_changed (Entry *entry)
{
  g_autoptr(PbAccount) account = g_object_ref (entry->account);

  g_signal_emit (entry->scheduler, signals[SIGNAL_ACCOUNT_STATE_CHANGED], 0, account);
}

static gboolean
entry_is_checking (Entry *entry)
{
  return entry->cancellable != NULL;
}

/* Whether timers and "check everything" apply to the account. */
static gboolean
entry_is_schedulable (Entry *entry)
{
  return entry->status != PB_ACCOUNT_STATUS_DISABLED &&
         entry->status != PB_ACCOUNT_STATUS_AUTH_STOPPED;
}

static gboolean
on_timer (gpointer data)
{
  Entry *entry = data;

  entry->timer_id = 0;
  entry->due = -1;
  run_check (entry);
  return G_SOURCE_REMOVE;
}

static void
entry_arm_timer (Entry  *entry,
                 gint64  delay_ms)
{
  PbScheduler *self = entry->scheduler;

  entry_cancel_timer (entry);
  if (!self->started)
    return;

  delay_ms = CLAMP (delay_ms, 0, G_MAXUINT);
  entry->due = self->clock.now (self->clock_data) + delay_ms;
  entry->timer_id = self->clock.add_timeout ((guint) delay_ms, on_timer, entry, self->clock_data);
}

static void
entry_schedule_in (Entry  *entry,
                   gint64  delay_ms)
{
  if (!entry_is_schedulable (entry))
    {
      entry_cancel_timer (entry);
      return;
    }
  entry_arm_timer (entry, delay_ms);
}

static gint64
start_delay_ms (PbScheduler *self)
{
  return PB_SCHEDULER_START_DELAY_MS +
         g_rand_int_range (self->rand, 0, PB_SCHEDULER_START_JITTER_MS + 1);
}

static gint64
resume_delay_ms (PbScheduler *self)
{
  return PB_SCHEDULER_RESUME_DELAY_MS +
         g_rand_int_range (self->rand, 0, PB_SCHEDULER_RESUME_JITTER_MS + 1);
}

static gint64
interval_ms (Entry *entry)
{
  gint64 interval = (gint64) MAX (pb_account_get_interval (entry->account), 1) * 60 * 1000;

  /* A server that announced LOGIN-DELAY refuses logins sooner than that. */
  if (entry->login_delay > 0)
    interval = MAX (interval, (gint64) entry->login_delay * 1000);
  return interval;
}

static gint64
jittered (PbScheduler *self,
          gint64       delay_ms)
{
  gint64 spread = MIN (delay_ms * INTERVAL_JITTER_PERCENT / 100, MAX_INTERVAL_JITTER_MS);

  if (spread <= 0)
    return delay_ms;
  return delay_ms + g_rand_int_range (self->rand, 0, (gint32) spread + 1);
}

/* 1, 2, 4 … minutes after consecutive failures, at most an hour: a failing
 * server is not hammered, and a daily account that failed is not left
 * stale for a day. */
static gint64
backoff_ms (Entry *entry)
{
  gint64 cap = (gint64) PB_SCHEDULER_MAX_BACKOFF * 1000;
  gint64 delay = (gint64) PB_SCHEDULER_MIN_BACKOFF * 1000;

  for (guint i = 1; i < entry->failures && delay < cap; i++)
    delay *= 2;
  return MIN (delay, cap);
}

/* --- Running a check --------------------------------------------------- */

/* What the scheduler keeps of a result between checks: the outcome and the
 * counts, not the message lists (with 10,000 new messages those are
 * megabytes, and check-finished has handed them out already). */
static PbCheckResult *
result_without_messages (PbCheckResult *result)
{
  PbCheckResult *kept = pb_check_result_new (pb_check_result_get_account_name (result));
  const GError *error = pb_check_result_get_error (result);

  if (error != NULL)
    pb_check_result_take_error (kept, g_error_copy (error));
  pb_check_result_set_counts (kept, pb_check_result_get_total (result),
                              pb_check_result_get_size (result),
                              pb_check_result_get_new_count (result));
  pb_check_result_set_summary_only (kept, pb_check_result_get_summary_only (result));
  pb_check_result_set_login_delay (kept, pb_check_result_get_login_delay (result));
  pb_check_result_set_retry_after (kept, pb_check_result_get_retry_after (result));
  pb_check_result_set_unsummarized (kept, pb_check_result_get_unsummarized (result));
  pb_check_result_set_duration (kept, pb_check_result_get_duration (result));
  return kept;
}

/* After a check: the records stay on disk, not in memory. */
static void
entry_release_state (Entry *entry)
{
  if (!entry->state_pinned)
    g_clear_object (&entry->state_ref);
}

typedef struct {
  PbScheduler *scheduler;  /* owned */
  char        *name;
  guint64      run_id;
} RunData;

static void
run_data_free (RunData *data)
{
  g_object_unref (data->scheduler);
  g_free (data->name);
  g_free (data);
}

/* A check fetches the headers of at most PB_CHECK_DEFAULT_MAX_TOPS new
 * messages, newest first: after the first check of a big mailbox the rest
 * would be listed as "(unknown sender)", "(no subject)" until the timed
 * checks filled them in, 200 every 10 minutes. So the account is checked
 * again at once while that leaves fewer without headers; a server whose
 * TOP keeps failing for some message makes no progress, which ends it.
 * Not on a server that asks for a delay between logins (CAPA LOGIN-DELAY,
 * RFC 2449 section 6.8): it would refuse the next login, and the interval
 * already keeps to its delay. */
static gboolean
fills_in_headers (Entry         *entry,
                  PbCheckResult *result)
{
  guint left = pb_check_result_get_unsummarized (result);
  gboolean progress = left > 0 && (entry->unsummarized == 0 || left < entry->unsummarized);

  if (!progress || pb_check_result_get_login_delay (result) > 0)
    {
      entry->unsummarized = 0;
      return FALSE;
    }
  entry->unsummarized = left;
  return TRUE;
}

static void
apply_result (Entry         *entry,
              PbCheckResult *result)
{
  PbScheduler *self = entry->scheduler;
  const GError *error = pb_check_result_get_error (result);
  gboolean ran_again = entry->again;

  entry->again = FALSE;
  g_clear_object (&entry->last_result);
  entry->last_result = result_without_messages (result);

  if (error == NULL)
    {
      entry->failures = 0;
      entry->login_delay = pb_check_result_get_login_delay (result);
      entry_set_status (entry, PB_ACCOUNT_STATUS_OK, NULL);
      if (fills_in_headers (entry, result))
        entry_schedule_in (entry, 0);
      else
        entry_schedule_in (entry, jittered (self, interval_ms (entry)));
    }
  else if (g_str_equal (pb_error_kind (error), "auth"))
    {
      /* Retrying a rejected password gets people locked out; wait for the
       * person to fix it. */
      g_autofree char *message = NULL;

      if (g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH))
        message = g_strdup (_("Password rejected — edit the account to try again."));
      else
        message = g_strdup_printf (_("%s Checking is paused until you edit the account."),
                                   error->message);
      entry->failures = 0;
      entry->unsummarized = 0;
      entry_set_status (entry, PB_ACCOUNT_STATUS_AUTH_STOPPED, message);
      entry_cancel_timer (entry);
    }
  else
    {
      gint64 delay;
      gint retry_after = pb_check_result_get_retry_after (result);

      entry->failures++;
      entry->unsummarized = 0;
      entry_set_status (entry, PB_ACCOUNT_STATUS_ERROR, error->message);
      delay = backoff_ms (entry);
      /* [LOGIN-DELAY n]: the server refuses us until then anyway. */
      if (retry_after > 0)
        delay = MAX (delay, (gint64) retry_after * 1000);
      entry_schedule_in (entry, jittered (self, delay));
    }

  /* A check was asked for, or the account edited, while this one ran: its
   * answer may be stale, so run once more now (even after a rejected
   * password: the edit may have fixed it, and it is one try, not a loop).
   * A server's login delay still holds. */
  if (ran_again && entry->status != PB_ACCOUNT_STATUS_DISABLED)
    {
      gint retry_after = error != NULL ? pb_check_result_get_retry_after (result) : -1;

      entry_arm_timer (entry, retry_after > 0 ? (gint64) retry_after * 1000 : 0);
    }
}

static void
on_check_done (GObject      *source,
               GAsyncResult *async_result,
               gpointer      user_data)
{
  RunData *data = user_data;
  PbScheduler *self = data->scheduler;
  g_autoptr(PbCheckResult) result = self->finish (async_result);
  g_autoptr(PbAccount) account = NULL;
  g_autoptr(GError) refresh_error = NULL;
  const GError *error;
  Entry *entry;

  entry = g_hash_table_lookup (self->entries, data->name);
  if (entry == NULL || entry->run_id != data->run_id)
    {
      /* The account was removed (or replaced and checked anew). */
      run_data_free (data);
      return;
    }
  run_data_free (data);

  g_clear_object (&entry->cancellable);
  account = g_object_ref (entry->account);
  error = pb_check_result_get_error (result);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Stopped on purpose: not a failure, nothing to report. */
      entry_set_status (entry, entry->last_result != NULL
                               ? (pb_check_result_get_ok (entry->last_result)
                                  ? PB_ACCOUNT_STATUS_OK : PB_ACCOUNT_STATUS_ERROR)
                               : PB_ACCOUNT_STATUS_IDLE, NULL);
      entry_schedule_in (entry, jittered (self, interval_ms (entry)));
      entry_release_state (entry);
      emit_state_changed (entry);
      return;
    }

  /* Whatever another process saved while the check ran (a `popbiff
   * dismiss`) is taken in now: the check saves only when it changed
   * something, and remembering the file without this would take that
   * change for ours. Costs nothing when the check's save is the latest. */
  if (!pb_state_refresh (entry->state, &refresh_error))
    g_debug ("State of account %s: %s", pb_account_get_name (entry->account),
             refresh_error->message);
  remember_state_file (entry);
  apply_result (entry, result);

  /* bench/applet-idle.sh times the first check by this line. */
  g_debug ("Check of account %s finished: %s", pb_account_get_name (account),
           pb_check_result_get_ok (result) ? "ok" : "failed");

  /* Handlers may remove or replace the account; nothing below touches the
   * entry. */
  g_signal_emit (self, signals[SIGNAL_CHECK_FINISHED], 0, account, result);
  entry = g_hash_table_lookup (self->entries, pb_account_get_name (account));
  if (entry != NULL)
    {
      /* Unless a check runs again already (asked for meanwhile). */
      if (!entry_is_checking (entry))
        entry_release_state (entry);
      emit_state_changed (entry);
    }
}

/* Remembers the state file as it is now, to notice changes made by another
 * process (`popbiff dismiss` or `fetch` while the applet runs). */
static void
remember_state_file (Entry *entry)
{
  if (stat (entry->state_path, &entry->state_file) != 0)
    memset (&entry->state_file, 0, sizeof entry->state_file);
}

static gboolean
state_file_changed (Entry *entry)
{
  struct stat now;

  if (entry->state_path == NULL)
    return TRUE;  /* never loaded */
  if (stat (entry->state_path, &now) != 0)
    memset (&now, 0, sizeof now);
  return now.st_ino != entry->state_file.st_ino ||
         now.st_size != entry->state_file.st_size ||
         now.st_mtim.tv_sec != entry->state_file.st_mtim.tv_sec ||
         now.st_mtim.tv_nsec != entry->state_file.st_mtim.tv_nsec;
}

/* Loads the state when nobody holds it, and again before a check when the
 * file changed behind our back, so that the check's save keeps those
 * changes. Holds it until the end of the next check. */
static void
ensure_state (Entry *entry)
{
  g_autoptr(GError) error = NULL;
  gboolean loaded = entry->state != NULL;

  if (!loaded)
    {
      g_autoptr(PbState) state = pb_state_new (pb_account_get_name (entry->account), NULL);

      g_set_weak_pointer (&entry->state, state);
      g_set_object (&entry->state_ref, state);
      if (entry->state_path == NULL)
        entry->state_path = g_strdup (pb_state_get_path (state));
    }
  else
    g_set_object (&entry->state_ref, entry->state);

  /* A file that could not be read is read again every time: whatever
   * was wrong may have been fixed without the file changing. */
  if (loaded && pb_state_get_read_error (entry->state) == NULL && !state_file_changed (entry))
    return;

  /* A corrupt file is set aside and the state starts fresh, which the
   * check handles (one summary instead of a storm). One that could not be
   * read fails the check (pb_check_run_async), which then backs off like
   * any failed check. */
  if (!pb_state_load (entry->state, &error))
    g_debug ("State of account %s: %s", pb_account_get_name (entry->account), error->message);
  remember_state_file (entry);
}

static void
run_check (Entry *entry)
{
  PbScheduler *self = entry->scheduler;
  g_autoptr(PbAccount) account = NULL;
  g_autoptr(PbState) state = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  RunData *data;

  if (entry_is_checking (entry))
    {
      entry->again = TRUE;
      return;
    }

  entry_cancel_timer (entry);
  ensure_state (entry);
  entry->cancellable = g_cancellable_new ();
  entry->run_id = ++self->next_run_id;
  entry_set_status (entry, PB_ACCOUNT_STATUS_CHECKING, NULL);

  data = g_new0 (RunData, 1);
  data->scheduler = g_object_ref (self);
  data->name = g_strdup (pb_account_get_name (entry->account));
  data->run_id = entry->run_id;

  /* Signal handlers may remove the account (which cancels the check):
   * after emitting, only these references are used. */
  account = g_object_ref (entry->account);
  state = g_object_ref (entry->state);
  cancellable = g_object_ref (entry->cancellable);
  g_signal_emit (self, signals[SIGNAL_CHECK_STARTED], 0, account);
  g_signal_emit (self, signals[SIGNAL_ACCOUNT_STATE_CHANGED], 0, account);

  self->run (account, state, cancellable, on_check_done, data);
}

/* --- System watchers ---------------------------------------------------- */

static void
on_network_changed (GNetworkMonitor *monitor,
                    gboolean         available,
                    gpointer         user_data)
{
  pb_scheduler_network_changed (PB_SCHEDULER (user_data), available);
}

static void
on_prepare_for_sleep (GDBusConnection *connection,
                      const char      *sender_name,
                      const char      *object_path,
                      const char      *interface_name,
                      const char      *signal_name,
                      GVariant        *parameters,
                      gpointer         user_data)
{
  gboolean going_to_sleep = FALSE;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(b)")))
    return;
  g_variant_get (parameters, "(b)", &going_to_sleep);
  /* PrepareForSleep(false) is sent after resume. */
  if (!going_to_sleep)
    pb_scheduler_resumed (PB_SCHEDULER (user_data));
}

static void
on_system_bus (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  GDBusConnection *bus = g_bus_get_finish (result, &error);
  PbScheduler *self;

  if (bus == NULL)
    {
      /* No system bus (containers, tests): no resume checks, that's all. */
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No system bus, resume from suspend is not watched: %s", error->message);
      return;
    }

  self = PB_SCHEDULER (user_data);
  if (g_cancellable_is_cancelled (self->cancellable))
    {
      g_object_unref (bus);
      return;
    }
  self->system_bus = bus;
  self->sleep_subscription =
    g_dbus_connection_signal_subscribe (bus, "org.freedesktop.login1",
                                        "org.freedesktop.login1.Manager",
                                        "PrepareForSleep", "/org/freedesktop/login1",
                                        NULL, G_DBUS_SIGNAL_FLAGS_NONE,
                                        on_prepare_for_sleep, self, NULL);
}

/* --- GObject ----------------------------------------------------------- */

static void
pb_scheduler_dispose (GObject *object)
{
  PbScheduler *self = PB_SCHEDULER (object);

  g_cancellable_cancel (self->cancellable);
  if (self->network_monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->network_monitor, self);
  self->network_monitor = NULL;
  if (self->system_bus != NULL && self->sleep_subscription != 0)
    g_dbus_connection_signal_unsubscribe (self->system_bus, self->sleep_subscription);
  self->sleep_subscription = 0;
  g_clear_object (&self->system_bus);
  g_hash_table_remove_all (self->entries);

  G_OBJECT_CLASS (pb_scheduler_parent_class)->dispose (object);
}

static void
pb_scheduler_finalize (GObject *object)
{
  PbScheduler *self = PB_SCHEDULER (object);

  g_hash_table_unref (self->entries);
  g_rand_free (self->rand);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (pb_scheduler_parent_class)->finalize (object);
}

static void
pb_scheduler_class_init (PbSchedulerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pb_scheduler_dispose;
  object_class->finalize = pb_scheduler_finalize;

  signals[SIGNAL_CHECK_STARTED] =
    g_signal_new ("check-started", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, PB_TYPE_ACCOUNT);
  signals[SIGNAL_CHECK_FINISHED] =
    g_signal_new ("check-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, PB_TYPE_ACCOUNT, PB_TYPE_CHECK_RESULT);
  signals[SIGNAL_ACCOUNT_STATE_CHANGED] =
    g_signal_new ("account-state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, PB_TYPE_ACCOUNT);
}

static void
pb_scheduler_init (PbScheduler *self)
{
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) entry_free);
  self->rand = g_rand_new ();
  self->run = default_run;
  self->finish = pb_check_run_finish;
  self->clock = default_clock;
  self->network_available = TRUE;
  self->cancellable = g_cancellable_new ();
}

PbScheduler *
pb_scheduler_new (gboolean watch_system)
{
  PbScheduler *self = g_object_new (PB_TYPE_SCHEDULER, NULL);

  self->watch_system = watch_system;
  if (watch_system)
    {
      self->network_monitor = g_network_monitor_get_default ();
      self->network_available = g_network_monitor_get_network_available (self->network_monitor);
      g_signal_connect (self->network_monitor, "network-changed",
                        G_CALLBACK (on_network_changed), self);
      g_bus_get (G_BUS_TYPE_SYSTEM, self->cancellable, on_system_bus, self);
    }
  return self;
}

/* --- Public API ---------------------------------------------------------- */

void
pb_scheduler_add_account (PbScheduler *self,
                          PbAccount   *account)
{
  Entry *entry;

  g_return_if_fail (PB_IS_SCHEDULER (self));
  g_return_if_fail (PB_IS_ACCOUNT (account));

  if (lookup_entry (self, pb_account_get_name (account)) != NULL)
    {
      pb_scheduler_update_account (self, account);
      return;
    }

  entry = g_new0 (Entry, 1);
  entry->scheduler = self;
  entry->account = g_object_ref (account);
  entry->settings = pb_account_copy (account);
  entry->due = -1;
  entry->login_delay = -1;
  entry->status = pb_account_get_enabled (account) ? PB_ACCOUNT_STATUS_IDLE
                                                   : PB_ACCOUNT_STATUS_DISABLED;
  g_hash_table_insert (self->entries, g_strdup (pb_account_get_name (account)), entry);

  entry_schedule_in (entry, start_delay_ms (self));
  emit_state_changed (entry);
}

void
pb_scheduler_update_account (PbScheduler *self,
                             PbAccount   *account)
{
  Entry *entry;

  g_return_if_fail (PB_IS_SCHEDULER (self));
  g_return_if_fail (PB_IS_ACCOUNT (account));

  entry = lookup_entry (self, pb_account_get_name (account));
  if (entry == NULL)
    {
      pb_scheduler_add_account (self, account);
      return;
    }

  g_set_object (&entry->account, account);
  g_clear_object (&entry->settings);
  entry->settings = pb_account_copy (account);
  /* An edit is the person's answer to whatever went wrong: start over. */
  entry->failures = 0;
  entry->login_delay = -1;
  entry->unsummarized = 0;
  if (!pb_account_get_enabled (account))
    entry_set_status (entry, PB_ACCOUNT_STATUS_DISABLED, NULL);
  else if (entry->status == PB_ACCOUNT_STATUS_DISABLED ||
           entry->status == PB_ACCOUNT_STATUS_AUTH_STOPPED)
    entry_set_status (entry, PB_ACCOUNT_STATUS_IDLE, NULL);

  if (entry_is_checking (entry))
    entry->again = TRUE;  /* it ran with the old settings */
  if (!entry_is_schedulable (entry))
    entry_cancel_timer (entry);
  else if (!entry_is_checking (entry))
    entry_schedule_in (entry, start_delay_ms (self));
  emit_state_changed (entry);
}

void
pb_scheduler_remove_account (PbScheduler *self,
                             const char  *name)
{
  g_return_if_fail (PB_IS_SCHEDULER (self));
  g_return_if_fail (name != NULL);

  /* entry_free cancels a running check; its result is dropped. */
  g_hash_table_remove (self->entries, name);
}

static void
on_store_account_added (PbAccountStore *store,
                        PbAccount      *account,
                        PbScheduler    *self)
{
  pb_scheduler_add_account (self, account);
}

static void
on_store_account_removed (PbAccountStore *store,
                          PbAccount      *account,
                          PbScheduler    *self)
{
  pb_scheduler_remove_account (self, pb_account_get_name (account));
}

/* A store reloaded from disk (another program changed accounts.conf)
 * signals every account it kept as changed; only a real change is an
 * edit, or adding one account would check all of them again and forget
 * every backoff and login delay. */
static void
on_store_account_changed (PbAccountStore *store,
                          PbAccount      *account,
                          PbScheduler    *self)
{
  Entry *entry = lookup_entry (self, pb_account_get_name (account));

  if (entry != NULL && pb_account_same_settings (entry->settings, account))
    {
      g_set_object (&entry->account, account);
      return;
    }
  pb_scheduler_update_account (self, account);
}

void
pb_scheduler_watch_store (PbScheduler    *self,
                          PbAccountStore *store)
{
  GPtrArray *accounts;

  g_return_if_fail (PB_IS_SCHEDULER (self));
  g_return_if_fail (PB_IS_ACCOUNT_STORE (store));

  accounts = pb_account_store_get_accounts (store);
  for (guint i = 0; i < accounts->len; i++)
    pb_scheduler_add_account (self, g_ptr_array_index (accounts, i));

  g_signal_connect_object (store, "account-added",
                           G_CALLBACK (on_store_account_added), self, 0);
  g_signal_connect_object (store, "account-removed",
                           G_CALLBACK (on_store_account_removed), self, 0);
  g_signal_connect_object (store, "account-changed",
                           G_CALLBACK (on_store_account_changed), self, 0);
}

void
pb_scheduler_start (PbScheduler *self)
{
  GHashTableIter iter;
  Entry *entry;

  g_return_if_fail (PB_IS_SCHEDULER (self));

  if (self->started)
    return;
  self->started = TRUE;

  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
    if (entry->timer_id == 0 && !entry_is_checking (entry))
      entry_schedule_in (entry, start_delay_ms (self));
}

void
pb_scheduler_stop (PbScheduler *self)
{
  GHashTableIter iter;
  Entry *entry;

  g_return_if_fail (PB_IS_SCHEDULER (self));

  self->started = FALSE;
  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
    {
      entry_cancel_timer (entry);
      entry->again = FALSE;
      if (entry->cancellable != NULL)
        g_cancellable_cancel (entry->cancellable);
    }
}

void
pb_scheduler_check_now (PbScheduler *self,
                        const char  *name)
{
  g_autoptr(GPtrArray) names = NULL;
  GHashTableIter iter;
  gpointer key;

  g_return_if_fail (PB_IS_SCHEDULER (self));

  if (name != NULL)
    {
      Entry *entry = lookup_entry (self, name);

      if (entry != NULL && entry->status != PB_ACCOUNT_STATUS_DISABLED)
        run_check (entry);
      return;
    }

  /* run_check emits signals whose handlers may change the table: walk a
   * copy of the names. */
  names = g_ptr_array_new_with_free_func (g_free);
  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, g_strdup (key));
  for (guint i = 0; i < names->len; i++)
    {
      Entry *entry = lookup_entry (self, g_ptr_array_index (names, i));

      if (entry != NULL && entry_is_schedulable (entry))
        run_check (entry);
    }
}

void
pb_scheduler_network_changed (PbScheduler *self,
                              gboolean     available)
{
  gboolean was_available;

  g_return_if_fail (PB_IS_SCHEDULER (self));

  was_available = self->network_available;
  self->network_available = available;
  /* GNetworkMonitor signals every route change; only coming back online
   * is worth a check. */
  if (available && !was_available && self->started)
    pb_scheduler_check_now (self, NULL);
}

void
pb_scheduler_resumed (PbScheduler *self)
{
  GHashTableIter iter;
  Entry *entry;

  g_return_if_fail (PB_IS_SCHEDULER (self));

  /* Timers on the monotonic clock stood still while suspended. */
  g_hash_table_iter_init (&iter, self->entries);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &entry))
    if (!entry_is_checking (entry))
      entry_schedule_in (entry, resume_delay_ms (self));
}

PbAccountStatus
pb_scheduler_get_status (PbScheduler *self,
                         const char  *name)
{
  Entry *entry = lookup_entry (self, name);

  return entry != NULL ? entry->status : PB_ACCOUNT_STATUS_IDLE;
}

const char *
pb_scheduler_get_status_message (PbScheduler *self,
                                 const char  *name)
{
  Entry *entry = lookup_entry (self, name);

  return entry != NULL ? entry->status_message : NULL;
}

PbCheckResult *
pb_scheduler_get_last_result (PbScheduler *self,
                              const char  *name)
{
  Entry *entry = lookup_entry (self, name);

  return entry != NULL ? entry->last_result : NULL;
}

PbState *
pb_scheduler_get_state (PbScheduler *self,
                        const char  *name)
{
  Entry *entry = lookup_entry (self, name);

  if (entry == NULL)
    return NULL;
  ensure_state (entry);
  entry->state_pinned = TRUE;
  return entry->state;
}

PbState *
pb_scheduler_ref_state (PbScheduler *self,
                        const char  *name)
{
  Entry *entry = lookup_entry (self, name);

  if (entry == NULL)
    return NULL;
  ensure_state (entry);
  return g_object_ref (entry->state);
}

PbState *
pb_scheduler_load_changed_state (PbScheduler *self,
                                 const char  *name)
{
  Entry *entry = lookup_entry (self, name);
  g_autoptr(PbState) state = NULL;
  g_autoptr(GError) error = NULL;

  if (entry == NULL || entry_is_checking (entry) || !state_file_changed (entry))
    return NULL;
  /* A copy, not the shared object: a download may be using that one, and
   * it is loaded again before its next use anyway (ensure_state). */
  state = pb_state_new (pb_account_get_name (entry->account), entry->state_path);
  if (!pb_state_load (state, &error) && pb_state_get_read_error (state) != NULL)
    {
      /* Empty only because unreadable (half a rename away?): showing it
       * would say there is no new mail. */
      g_debug ("State of account %s: %s", name, error->message);
      return NULL;
    }
  return g_steal_pointer (&state);
}

gint64
pb_scheduler_get_next_check (PbScheduler *self,
                             const char  *name)
{
  Entry *entry = lookup_entry (self, name);
  gint64 left;

  if (entry == NULL || entry->timer_id == 0)
    return -1;
  left = entry->due - self->clock.now (self->clock_data);
  return MAX (left, 0) / 1000;
}

gboolean
pb_scheduler_is_checking (PbScheduler *self,
                          const char  *name)
{
  Entry *entry = lookup_entry (self, name);

  return entry != NULL && entry_is_checking (entry);
}

void
pb_scheduler_set_runner (PbScheduler           *self,
                         PbSchedulerRunFunc     run,
                         PbSchedulerFinishFunc  finish)
{
  g_return_if_fail (PB_IS_SCHEDULER (self));
  g_return_if_fail (run != NULL && finish != NULL);

  self->run = run;
  self->finish = finish;
}

void
pb_scheduler_set_clock (PbScheduler            *self,
                        const PbSchedulerClock *clock,
                        gpointer                clock_data)
{
  g_return_if_fail (PB_IS_SCHEDULER (self));
  g_return_if_fail (g_hash_table_size (self->entries) == 0);

  self->clock = clock != NULL ? *clock : default_clock;
  self->clock_data = clock != NULL ? clock_data : NULL;
}

void
pb_scheduler_set_seed (PbScheduler *self,
                       guint32      seed)
{
  g_return_if_fail (PB_IS_SCHEDULER (self));
  g_rand_set_seed (self->rand, seed);
}

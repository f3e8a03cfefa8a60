/* pb-scheduler.h: when each account is checked.
 *
 * Every account has its own timer (its interval, default 10 minutes); the
 * first checks start as soon as the main loop runs, within 100 ms of each
 * other, and drift further apart by the interval's jitter. One session per account at a time;
 * different accounts check concurrently.
 *
 * After a failure the next try backs off exponentially (1, 2, 4 … minutes,
 * at most an hour, whatever the interval); [IN-USE] and
 * [SYS/TEMP] are such failures. A "[LOGIN-DELAY n]" answer or a CAPA
 * LOGIN-DELAY stretches the wait to at least n seconds (RFC 2449 section
 * 6.8). A rejected password (error kind "auth") stops checking the account
 * until the account is changed, so that a server never locks the person out
 * for our retries.
 *
 * The network coming back (GNetworkMonitor) and resume from suspend
 * (logind's PrepareForSleep on the system bus, when there is one) check
 * every account at once.
 *
 * There is one PbState per account in the process; whatever else changes
 * an account's state here (dismiss, fetch) should use that object
 * (pb_scheduler_ref_state) and save it right away, so no two copies
 * disagree. The scheduler loads it when it is first needed and holds it
 * until the end of the account's next check, then lets go: a state knows
 * every message on the server (megabytes for a big mailbox), which an idle
 * applet does not need; the next check loads it again (milliseconds).
 * Before each check the state is loaded again if its file changed on disk
 * (another process, such as `popbiff dismiss`, wrote it); records are
 * therefore only valid until the next "check-started".
 *
 * A check that leaves new messages without headers (a check fetches at
 * most PB_CHECK_DEFAULT_MAX_TOPS) is followed by another at once, as long
 * as each leaves fewer, except on a server that announced LOGIN-DELAY.
 *
 * Following a store (pb_scheduler_watch_store), an account the store
 * signals as changed with the same settings as before (a reload of
 * accounts.conf after another program changed it) is left as it is.
 *
 * It never prints: results go out through signals:
 *   "check-started"          (PbAccount *account)
 *   "check-finished"         (PbAccount *account, PbCheckResult *result)
 *   "account-state-changed"  (PbAccount *account): the status, its message
 *                            or the next check time changed
 */
#pragma once

#include <gio/gio.h>

#include "pb-account.h"
#include "pb-account-store.h"
#include "pb-check-result.h"
#include "pb-state.h"

G_BEGIN_DECLS

typedef enum {
  PB_ACCOUNT_STATUS_IDLE,          /* not checked yet */
  PB_ACCOUNT_STATUS_CHECKING,
  PB_ACCOUNT_STATUS_OK,            /* the last check worked */
  PB_ACCOUNT_STATUS_ERROR,         /* the last check failed; retrying with backoff */
  PB_ACCOUNT_STATUS_AUTH_STOPPED,  /* password rejected; no checks until edited */
  PB_ACCOUNT_STATUS_DISABLED,      /* the account is switched off */
} PbAccountStatus;

/* Backoff: the first retry after this, doubling, capped at
 * PB_SCHEDULER_MAX_BACKOFF. Seconds. */
#define PB_SCHEDULER_MIN_BACKOFF   60
#define PB_SCHEDULER_MAX_BACKOFF   3600
/* The first check after start (or after an account is added or edited)
 * comes this many milliseconds later, plus up to
 * PB_SCHEDULER_START_JITTER_MS: at once, because a person starting the
 * applet waits for those counts, with a little jitter so that accounts on
 * one server do not log in at the same instant (issue 3). 100 ms spreads
 * the logins and still lets most keyring lookups share one session and
 * search (pb-secrets.c). */
#define PB_SCHEDULER_START_DELAY_MS   0
#define PB_SCHEDULER_START_JITTER_MS  100
/* After resume from suspend: a moment later, spread out, while the network
 * comes back up. */
#define PB_SCHEDULER_RESUME_DELAY_MS  100
#define PB_SCHEDULER_RESUME_JITTER_MS 400

#define PB_TYPE_SCHEDULER (pb_scheduler_get_type ())
G_DECLARE_FINAL_TYPE (PbScheduler, pb_scheduler, PB, SCHEDULER, GObject)

/* @watch_system: follow GNetworkMonitor and logind's PrepareForSleep.
 * Tests pass FALSE and call pb_scheduler_network_changed() and
 * pb_scheduler_resumed() themselves. */
PbScheduler *pb_scheduler_new              (gboolean watch_system);

/* Accounts to schedule. add/update take a reference. update_account
 * replaces the account of the same name (an edit): it clears backoff and a
 * stopped-after-rejected-password status, and checks soon. */
void         pb_scheduler_add_account      (PbScheduler *self, PbAccount *account);
void         pb_scheduler_update_account   (PbScheduler *self, PbAccount *account);
void         pb_scheduler_remove_account   (PbScheduler *self, const char *name);
/* Adds the store's accounts and follows its added/removed/changed signals. */
void         pb_scheduler_watch_store      (PbScheduler *self, PbAccountStore *store);

/* Timers run only while started. stop() cancels running checks. */
void         pb_scheduler_start            (PbScheduler *self);
void         pb_scheduler_stop             (PbScheduler *self);

/* Check @name (or every enabled account when NULL) now, unless a check of
 * it is already running. Naming an account whose password was rejected
 * checks it anyway: the person asked; NULL skips it. */
void         pb_scheduler_check_now        (PbScheduler *self, const char *name);

/* What the system watchers call: the network came back (every account is
 * checked now), resume from suspend (checked a few seconds later, once the
 * network had a chance to come up). */
void         pb_scheduler_network_changed  (PbScheduler *self, gboolean available);
void         pb_scheduler_resumed          (PbScheduler *self);

PbAccountStatus pb_scheduler_get_status      (PbScheduler *self, const char *name);
/* A sentence for the UI, e.g. "Password rejected — edit the account to try
 * again", or the last error's message; NULL when all is well. */
const char     *pb_scheduler_get_status_message (PbScheduler *self, const char *name);
/* (transfer none) NULL before the first check finished. Its outcome and
 * counts only: the message lists are empty (check-finished hands them out;
 * keeping them would keep every new message's record in memory). */
PbCheckResult  *pb_scheduler_get_last_result (PbScheduler *self, const char *name);
/* (transfer full) the account's state, loaded if nobody holds it; NULL for
 * an unknown account. */
PbState        *pb_scheduler_ref_state       (PbScheduler *self, const char *name);
/* (transfer none) the same, but pinned: kept in memory for as long as the
 * account is scheduled. For callers that keep the pointer; prefer
 * pb_scheduler_ref_state(). */
PbState        *pb_scheduler_get_state       (PbScheduler *self, const char *name);
/* (transfer full) A copy of the account's state as its file is now, for
 * showing, when that file changed on disk since this scheduler last
 * loaded or saved it: another process (`popbiff dismiss`, `popbiff
 * fetch`) wrote it. NULL when the file is as the scheduler left it (its
 * own write), for an unknown account, when the file cannot be read, and
 * while a check runs (the check's save merges the file in: ask
 * pb_scheduler_ref_state() after "check-finished"). The scheduler's own
 * object is loaded again before its next use. */
PbState        *pb_scheduler_load_changed_state (PbScheduler *self, const char *name);
/* Seconds until the next timed check, -1 when none is planned. */
gint64          pb_scheduler_get_next_check  (PbScheduler *self, const char *name);
gboolean        pb_scheduler_is_checking     (PbScheduler *self, const char *name);

/* --- For tests -------------------------------------------------------- */

/* The check job. The default runs pb_check_run_async() with the password
 * from the keyring. @run must complete with a GTask whose pointer result is
 * a PbCheckResult; @finish returns it (transfer full, never NULL). */
typedef void           (*PbSchedulerRunFunc)    (PbAccount           *account,
                                                 PbState             *state,
                                                 GCancellable        *cancellable,
                                                 GAsyncReadyCallback  callback,
                                                 gpointer             user_data);
typedef PbCheckResult *(*PbSchedulerFinishFunc) (GAsyncResult        *result);
void pb_scheduler_set_runner (PbScheduler           *self,
                              PbSchedulerRunFunc     run,
                              PbSchedulerFinishFunc  finish);

/* The clock the timers run on: now in milliseconds, and a one-shot timeout
 * (returns an id for remove, which is never called for a timeout that
 * already fired). The default is the monotonic clock and the main loop. */
typedef struct {
  gint64 (*now)            (gpointer clock_data);
  guint  (*add_timeout)    (guint delay_ms, GSourceFunc func, gpointer func_data,
                            gpointer clock_data);
  void   (*remove_timeout) (guint id, gpointer clock_data);
} PbSchedulerClock;
void pb_scheduler_set_clock (PbScheduler            *self,
                             const PbSchedulerClock *clock,
                             gpointer                clock_data);
/* A fixed seed makes the jitter reproducible. */
void pb_scheduler_set_seed  (PbScheduler *self, guint32 seed);

G_END_DECLS

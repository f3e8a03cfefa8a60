/* pb-check.h: one check of one account (DESIGN.md, "One check, as data").
 *
 * password (keyring) -> connect, TLS, CAPA -> authenticate, CAPA again ->
 * STAT + UIDL back to back (pipelined when the server offers it) -> diff
 * against the state, forgetting UIDLs that vanished -> LIST and TOP n 0 for
 * new messages not summarized yet, newest first, at most @max_tops, back to
 * back -> QUIT -> mark newly seen messages notified, save the state
 * atomically.
 *
 * Headers are fetched once per message and kept in the state, so a check
 * with nothing new costs two commands after login, whatever the mailbox
 * size; the first check of a huge mailbox summarizes the newest @max_tops
 * messages and later checks fill in the rest.
 *
 * A server without UIDL: every message's headers are fetched (LIST + TOP for
 * each) and its identity is a hash of them (pb_summary_fallback_identity).
 *
 * The storm rule: the first check of a fresh (or corrupt, set aside) state
 * reports every message as new but marks them all notified with one summary
 * announcement (pb_check_result_get_summary_only), as does any check that
 * sees more than PB_CHECK_STORM_THRESHOLD new messages at once.
 */
#pragma once

#include <gio/gio.h>

#include "pb-account.h"
#include "pb-check-result.h"
#include "pb-state.h"

G_BEGIN_DECLS

/* TOP commands per check: bounds the time and traffic of a first check. */
#define PB_CHECK_DEFAULT_MAX_TOPS 200
/* More newly seen messages than this are announced with one summary. */
#define PB_CHECK_STORM_THRESHOLD  10

typedef enum {
  PB_CHECK_FLAGS_NONE  = 0,
  /* @state was never loaded: once the password and the connection are
   * there, the check loads it in a worker thread while it logs in (the
   * state is needed only once the UIDL list is in), and puts what loading
   * said in the result (pb_check_result_get_state_error). A file that is
   * there but cannot be read is no such notice: the check fails with that
   * error (PB_CORE_ERROR_DISK) once the login is done, without listing. A
   * check that fails before logging in leaves it unloaded. Nobody else may
   * touch the state until the check returns. */
  PB_CHECK_LOAD_STATE  = 1 << 0,
  /* Only the counts and the announcements: no copy of every new message in
   * the result (the command line prints counts, and copying 10,000
   * records was a twentieth of a check). */
  PB_CHECK_COUNTS_ONLY = 1 << 1,
} PbCheckFlags;

/* @password: NULL looks it up in the keyring (pb-secrets.h); a caller that
 * has it (tests, `accounts add` probing) passes it and it is wiped after
 * use. The account's timeout applies to connecting and to every response;
 * pass a copy of the account with another timeout to override it.
 * @state is changed in place and saved; the caller must not run two checks
 * on one state at a time (the scheduler guarantees that). A state whose
 * file could not be read (pb_state_get_read_error) fails the check with
 * that error before anything else, without connecting. */
void           pb_check_run_async  (PbAccount           *account,
                                    PbState             *state,
                                    const char          *password,
                                    guint                max_tops,
                                    PbCheckFlags         flags,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data);
/* Never NULL and never fails: a failure is the result's error (a cancelled
 * check has G_IO_ERROR_CANCELLED). (transfer full) */
PbCheckResult *pb_check_run_finish (GAsyncResult        *result);

/* PB_POP3_ERROR_UNSUPPORTED: the server has neither UIDL nor TOP, so no
 * message has a name. Check, fetch and both probes say it alike. */
GError        *pb_check_error_no_identity (void);

G_END_DECLS

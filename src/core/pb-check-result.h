/* pb-check-result.h: what one check of one account found.
 *
 * Built by the check job (pb-check.h), handed out by the scheduler's
 * "check-finished" signal and turned into text or JSON by the CLI and into
 * rows and notifications by the applet. Immutable once the job is done;
 * the setters are for the job (and for tests that stand in for it). */
#pragma once

#include <glib-object.h>

#include "pb-state.h"

G_BEGIN_DECLS

#define PB_TYPE_CHECK_RESULT (pb_check_result_get_type ())
G_DECLARE_FINAL_TYPE (PbCheckResult, pb_check_result, PB, CHECK_RESULT, GObject)

PbCheckResult *pb_check_result_new              (const char *account_name);

const char    *pb_check_result_get_account_name (PbCheckResult *self);

/* TRUE when the check completed (no error). */
gboolean       pb_check_result_get_ok           (PbCheckResult *self);
/* The failure, NULL when ok; pb_error_kind() gives its contract kind. */
const GError  *pb_check_result_get_error        (PbCheckResult *self);
void           pb_check_result_take_error       (PbCheckResult *self, GError *error);

/* What loading the state said, when the check loaded it (PB_CHECK_LOAD_STATE)
 * and it was not clean: a damaged file set aside (the check went on from
 * an empty state, so its messages count as new again) or a file that could
 * not be read. NULL otherwise; independent of get_ok(). */
const GError  *pb_check_result_get_state_error  (PbCheckResult *self);
void           pb_check_result_take_state_error (PbCheckResult *self, GError *error);

/* Messages on the server and their octets (STAT), and how many of them are
 * new (DESIGN.md: not downloaded, not dismissed). Only meaningful when ok. */
guint          pb_check_result_get_total        (PbCheckResult *self);
guint64        pb_check_result_get_size         (PbCheckResult *self);
guint          pb_check_result_get_new_count    (PbCheckResult *self);
void           pb_check_result_set_counts       (PbCheckResult *self,
                                                 guint          total,
                                                 guint64        size,
                                                 guint          new_count);

/* The new messages, newest first: copies of the state's records at the end
 * of the check; empty for a PB_CHECK_COUNTS_ONLY check.
 * (element-type PbMessageRecord) (transfer none) */
GPtrArray     *pb_check_result_get_new_messages (PbCheckResult *self);
void           pb_check_result_add_new_message  (PbCheckResult *self,
                                                 const PbMessageRecord *record);

/* The messages this check saw for the first time and marked notified: the
 * ones to announce, newest first. Each message is in exactly one check's
 * list, ever. (element-type PbMessageRecord) (transfer none) */
GPtrArray     *pb_check_result_get_announced    (PbCheckResult *self);
void           pb_check_result_add_announced    (PbCheckResult *self,
                                                 const PbMessageRecord *record);

/* TRUE when the announced messages must be announced with one summary
 * ("1,234 messages in work") instead of one notification each: the first
 * check of a fresh or corrupt state, or more than a handful at once. */
gboolean       pb_check_result_get_summary_only (PbCheckResult *self);
void           pb_check_result_set_summary_only (PbCheckResult *self, gboolean summary_only);

/* Seconds the server asked us to wait before the next login: the CAPA
 * LOGIN-DELAY of a successful session (RFC 2449 section 6.8), -1 if none. */
gint           pb_check_result_get_login_delay  (PbCheckResult *self);
void           pb_check_result_set_login_delay  (PbCheckResult *self, gint seconds);
/* Seconds from a "[LOGIN-DELAY n]"-style hint in the error, -1 if none. */
gint           pb_check_result_get_retry_after  (PbCheckResult *self);
void           pb_check_result_set_retry_after  (PbCheckResult *self, gint seconds);

/* New messages whose headers are not fetched yet (beyond this check's TOP
 * bound); later checks fetch them. */
guint          pb_check_result_get_unsummarized (PbCheckResult *self);
void           pb_check_result_set_unsummarized (PbCheckResult *self, guint count);

/* Wall-clock time the check took, in microseconds. */
gint64         pb_check_result_get_duration     (PbCheckResult *self);
void           pb_check_result_set_duration     (PbCheckResult *self, gint64 usec);

/* A deep copy of a record, living outside any PbState (the result lists
 * hold these), and its free function. The copy's strings share its
 * allocation: read them, never replace or free one alone. */
PbMessageRecord *pb_check_result_copy_record (const PbMessageRecord *record);
void             pb_check_result_free_record (PbMessageRecord *record);

G_END_DECLS

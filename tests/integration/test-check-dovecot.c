/* What a check means, against a real Dovecot: counts, "new" and
 * "notified" across checks and restarts, messages coming and going, a
 * wrong password, and a first check of a big mailbox. The password is
 * handed to the check job directly; the keyring has its own tests. */
#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "core/pb-check.h"
#include "core/pb-core-error.h"
#include "core/pb-scheduler.h"
#include "pb-test-dovecot.h"
#include "pb-test-mail.h"
#include "pb-test-util.h"

typedef struct {
  PbTestDovecot *dovecot;
  PbAccount     *account;
  PbState       *state;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dovecot = pb_test_dovecot_start (&error);
  if (f->dovecot == NULL && error == NULL)
    return;  /* skipped: no Dovecot */
  g_assert_no_error (error);

  f->account = pb_account_new ("work");
  pb_account_set_host (f->account, pb_test_dovecot_get_host (f->dovecot));
  pb_account_set_port (f->account, pb_test_dovecot_get_tls_port (f->dovecot));
  pb_account_set_security (f->account, PB_POP3_SECURITY_TLS);
  pb_account_set_ca_file (f->account, pb_test_dovecot_get_ca_file (f->dovecot));
  pb_account_set_user (f->account, pb_test_dovecot_get_user (f->dovecot));
  /* Generous: seven people build on two cores. */
  pb_account_set_timeout (f->account, 60);
  f->state = pb_state_new ("work", NULL);
  g_assert_true (pb_state_load (f->state, &error));
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->state);
  g_clear_object (&f->account);
  g_clear_pointer (&f->dovecot, pb_test_dovecot_stop);
}

static void
on_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(PbCheckResult **) user_data = pb_check_run_finish (result);
}

static PbCheckResult *
check_with_flags (PbAccount *account, PbState *state, const char *password, guint max_tops,
                  PbCheckFlags flags)
{
  PbCheckResult *result = NULL;

  pb_check_run_async (account, state, password, max_tops, flags, NULL, on_done, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return result;
}

static PbCheckResult *
check_with (PbAccount *account, PbState *state, const char *password, guint max_tops)
{
  return check_with_flags (account, state, password, max_tops, PB_CHECK_FLAGS_NONE);
}

static PbCheckResult *
check (Fixture *f)
{
  PbCheckResult *result = check_with (f->account, f->state,
                                      pb_test_dovecot_get_password (f->dovecot),
                                      PB_CHECK_DEFAULT_MAX_TOPS);

  g_assert_no_error ((GError *) pb_check_result_get_error (result));
  g_assert_true (pb_check_result_get_ok (result));
  return result;
}

static void
deliver (Fixture *f, const char *from, const char *subject)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) message = pb_test_mail_simple (from, subject, "Hello.\n");

  g_assert_true (pb_test_dovecot_deliver (f->dovecot, NULL, message, &error));
  g_assert_no_error (error);
}

static const PbMessageRecord *
record_at (GPtrArray *records, guint i)
{
  g_assert_cmpuint (i, <, records->len);
  return g_ptr_array_index (records, i);
}

static void
test_first_check_counts (Fixture *f, gconstpointer data)
{
  g_autoptr(PbCheckResult) result = NULL;
  g_autoptr(GBytes) international = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *fresh;

  if (f->dovecot == NULL)
    return;
  deliver (f, "Ann <ann@example.org>", "first");
  deliver (f, "bob@example.org", "second");
  international = pb_test_mail_awkward (PB_TEST_MAIL_INTERNATIONAL);
  g_assert_true (pb_test_dovecot_deliver (f->dovecot, NULL, international, &error));

  result = check (f);
  g_assert_cmpuint (pb_check_result_get_total (result), ==, 3);
  g_assert_cmpuint (pb_check_result_get_new_count (result), ==, 3);
  g_assert_cmpuint (pb_check_result_get_size (result), >, 0);
  g_assert_cmpuint (pb_check_result_get_unsummarized (result), ==, 0);

  /* Newest first, headers decoded, sizes from LIST. */
  fresh = pb_check_result_get_new_messages (result);
  g_assert_cmpuint (fresh->len, ==, 3);
  g_assert_cmpstr (record_at (fresh, 0)->subject, ==, PB_TEST_MAIL_INTERNATIONAL_SUBJECT);
  g_assert_cmpstr (record_at (fresh, 0)->from_name, ==, PB_TEST_MAIL_INTERNATIONAL_FROM_NAME);
  g_assert_cmpstr (record_at (fresh, 1)->subject, ==, "second");
  g_assert_cmpstr (record_at (fresh, 1)->from_address, ==, "bob@example.org");
  g_assert_cmpstr (record_at (fresh, 2)->from_name, ==, "Ann");
  for (guint i = 0; i < fresh->len; i++)
    {
      g_assert_cmpuint (record_at (fresh, i)->size, >, 0);
      g_assert_cmpint (record_at (fresh, i)->flags & PB_MESSAGE_SUMMARIZED, !=, 0);
    }

  /* A fresh state: all three are announced, with one summary. */
  g_assert_cmpuint (pb_check_result_get_announced (result)->len, ==, 3);
  g_assert_true (pb_check_result_get_summary_only (result));
  g_assert_false (pb_state_is_fresh (f->state));
}

static void
test_delivered_between_checks_is_announced_once (Fixture *f, gconstpointer data)
{
  g_autoptr(PbCheckResult) first = NULL;
  g_autoptr(PbCheckResult) second = NULL;
  g_autoptr(PbCheckResult) third = NULL;
  GStatBuf before, after;
  GPtrArray *announced;

  if (f->dovecot == NULL)
    return;
  deliver (f, "a@example.org", "old one");
  deliver (f, "a@example.org", "old two");
  first = check (f);
  g_assert_cmpuint (pb_check_result_get_announced (first)->len, ==, 2);

  deliver (f, "Carol <carol@example.org>", "just arrived");
  second = check (f);
  g_assert_cmpuint (pb_check_result_get_total (second), ==, 3);
  g_assert_cmpuint (pb_check_result_get_new_count (second), ==, 3);
  announced = pb_check_result_get_announced (second);
  g_assert_cmpuint (announced->len, ==, 1);
  g_assert_cmpstr (record_at (announced, 0)->subject, ==, "just arrived");
  g_assert_false (pb_check_result_get_summary_only (second));

  /* Nothing changed: the state file is not rewritten (no fsync). */
  g_assert_cmpint (g_stat (pb_state_get_path (f->state), &before), ==, 0);
  third = check (f);
  g_assert_cmpuint (pb_check_result_get_new_count (third), ==, 3);
  g_assert_cmpuint (pb_check_result_get_announced (third)->len, ==, 0);
  g_assert_cmpint (g_stat (pb_state_get_path (f->state), &after), ==, 0);
  g_assert_cmpuint (before.st_ino, ==, after.st_ino);
  g_assert_cmpint (before.st_mtime, ==, after.st_mtime);
}

static void
test_deleted_elsewhere_disappears (Fixture *f, gconstpointer data)
{
  g_autoptr(PbCheckResult) first = NULL;
  g_autoptr(PbCheckResult) second = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GError) error = NULL;
  GPtrArray *fresh;
  PbTestMessage *victim;

  if (f->dovecot == NULL)
    return;
  deliver (f, "a@example.org", "keep 1");
  deliver (f, "a@example.org", "deleted by the phone");
  deliver (f, "a@example.org", "keep 2");
  first = check (f);
  g_assert_cmpuint (pb_state_get_count (f->state), ==, 3);

  /* Another client deleted message 2 (Dovecot sees the file go). */
  messages = pb_test_dovecot_list_messages (f->dovecot, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (messages->len, ==, 3);
  victim = g_ptr_array_index (messages, 1);
  g_assert_cmpint (g_unlink (victim->path), ==, 0);

  second = check (f);
  g_assert_cmpuint (pb_check_result_get_total (second), ==, 2);
  g_assert_cmpuint (pb_check_result_get_new_count (second), ==, 2);
  g_assert_cmpuint (pb_state_get_count (f->state), ==, 2);
  fresh = pb_check_result_get_new_messages (second);
  g_assert_cmpstr (record_at (fresh, 0)->subject, ==, "keep 2");
  g_assert_cmpstr (record_at (fresh, 1)->subject, ==, "keep 1");
  g_assert_cmpuint (pb_check_result_get_announced (second)->len, ==, 0);
}

static void
test_dismissed_is_not_new (Fixture *f, gconstpointer data)
{
  g_autoptr(PbCheckResult) first = NULL;
  g_autoptr(PbCheckResult) second = NULL;
  g_autoptr(GError) error = NULL;
  const PbMessageRecord *newest;

  if (f->dovecot == NULL)
    return;
  deliver (f, "a@example.org", "one");
  deliver (f, "a@example.org", "two");
  first = check (f);
  newest = record_at (pb_check_result_get_new_messages (first), 0);

  pb_state_lookup (f->state, newest->uidl)->flags |= PB_MESSAGE_DISMISSED;
  g_assert_true (pb_state_save (f->state, &error));

  second = check (f);
  g_assert_cmpuint (pb_check_result_get_total (second), ==, 2);
  g_assert_cmpuint (pb_check_result_get_new_count (second), ==, 1);
  g_assert_cmpstr (record_at (pb_check_result_get_new_messages (second), 0)->subject, ==, "one");
}

static void
test_state_survives_restart (Fixture *f, gconstpointer data)
{
  g_autoptr(PbCheckResult) first = NULL;
  g_autoptr(PbCheckResult) again = NULL;
  g_autoptr(PbState) reloaded = pb_state_new ("work", NULL);
  g_autoptr(GError) error = NULL;
  GPtrArray *fresh;

  if (f->dovecot == NULL)
    return;
  deliver (f, "Dora <dora@example.org>", "before the restart");
  first = check (f);
  g_assert_cmpuint (pb_check_result_get_announced (first)->len, ==, 1);

  /* A new process: the state comes from the file. */
  g_assert_true (pb_state_load (reloaded, &error));
  g_assert_false (pb_state_is_fresh (reloaded));
  again = check_with (f->account, reloaded, pb_test_dovecot_get_password (f->dovecot),
                      PB_CHECK_DEFAULT_MAX_TOPS);
  g_assert_true (pb_check_result_get_ok (again));
  g_assert_cmpuint (pb_check_result_get_new_count (again), ==, 1);
  g_assert_cmpuint (pb_check_result_get_announced (again)->len, ==, 0);
  fresh = pb_check_result_get_new_messages (again);
  g_assert_cmpstr (record_at (fresh, 0)->subject, ==, "before the restart");
  g_assert_cmpstr (record_at (fresh, 0)->from_name, ==, "Dora");
}

/* --- The command line's check: the state loads while the check logs in -- */

static void
test_state_loaded_meanwhile (Fixture *f, gconstpointer data)
{
  g_autoptr(PbCheckResult) first = NULL;
  g_autoptr(PbCheckResult) again = NULL;
  g_autoptr(PbState) unloaded = pb_state_new ("work", NULL);
  g_autoptr(GError) error = NULL;

  if (f->dovecot == NULL)
    return;
  deliver (f, "a@example.org", "one");
  deliver (f, "a@example.org", "two");
  deliver (f, "a@example.org", "three");
  first = check (f);
  pb_state_lookup (f->state, record_at (pb_check_result_get_new_messages (first), 0)->uidl)->flags |=
    PB_MESSAGE_DISMISSED;
  g_assert_true (pb_state_save (f->state, &error));
  g_assert_no_error (error);

  /* As `popbiff check` runs it: a state never loaded, and counts only. */
  again = check_with_flags (f->account, unloaded, pb_test_dovecot_get_password (f->dovecot),
                            PB_CHECK_DEFAULT_MAX_TOPS, PB_CHECK_LOAD_STATE | PB_CHECK_COUNTS_ONLY);
  g_assert_no_error ((GError *) pb_check_result_get_error (again));
  g_assert_null (pb_check_result_get_state_error (again));
  g_assert_cmpuint (pb_check_result_get_total (again), ==, 3);
  g_assert_cmpuint (pb_check_result_get_new_count (again), ==, 2);
  g_assert_cmpuint (pb_check_result_get_announced (again)->len, ==, 0);
  g_assert_cmpuint (pb_check_result_get_new_messages (again)->len, ==, 0);
  /* The caller has the loaded state back. */
  g_assert_cmpuint (pb_state_get_count (unloaded), ==, 3);
  g_assert_false (pb_state_is_fresh (unloaded));
}

static void
test_damaged_state_loaded_meanwhile (Fixture *f, gconstpointer data)
{
  g_autoptr(PbCheckResult) result = NULL;
  g_autoptr(PbState) unloaded = pb_state_new ("work", NULL);
  g_autofree char *aside = g_strconcat (pb_state_get_path (unloaded), ".corrupt", NULL);
  g_autofree char *dir = g_path_get_dirname (pb_state_get_path (unloaded));
  const GError *state_error;

  if (f->dovecot == NULL)
    return;
  deliver (f, "a@example.org", "one");
  deliver (f, "a@example.org", "two");
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (pb_state_get_path (unloaded), "not a state\n\x01\x02", -1, NULL));

  result = check_with_flags (f->account, unloaded, pb_test_dovecot_get_password (f->dovecot),
                             PB_CHECK_DEFAULT_MAX_TOPS, PB_CHECK_LOAD_STATE | PB_CHECK_COUNTS_ONLY);
  /* The check works; the person is told the state was set aside, and the
   * messages are announced with one summary, not one by one. */
  g_assert_no_error ((GError *) pb_check_result_get_error (result));
  state_error = pb_check_result_get_state_error (result);
  g_assert_error ((GError *) state_error, PB_CORE_ERROR, PB_CORE_ERROR_STATE);
  g_assert_true (g_file_test (aside, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (pb_check_result_get_new_count (result), ==, 2);
  g_assert_cmpuint (pb_check_result_get_announced (result)->len, ==, 2);
  g_assert_true (pb_check_result_get_summary_only (result));
}

/* --- A wrong password: kind "auth", and the scheduler does not retry ---- */

static const char *wrong_password = "not-the-password";

static void
run_with_wrong_password (PbAccount *account, PbState *state, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
  pb_check_run_async (account, state, wrong_password, PB_CHECK_DEFAULT_MAX_TOPS, PB_CHECK_FLAGS_NONE,
                      cancellable, callback, user_data);
}

static void
on_finished (PbScheduler *scheduler, PbAccount *account, PbCheckResult *result, gpointer user_data)
{
  g_ptr_array_add (user_data, g_object_ref (result));
}

static void
test_wrong_password (Fixture *f, gconstpointer data)
{
  g_autoptr(PbCheckResult) result = NULL;
  g_autoptr(PbScheduler) scheduler = NULL;
  g_autoptr(GPtrArray) results = g_ptr_array_new_with_free_func (g_object_unref);

  if (f->dovecot == NULL)
    return;
  deliver (f, "a@example.org", "unread");

  result = check_with (f->account, f->state, wrong_password, PB_CHECK_DEFAULT_MAX_TOPS);
  g_assert_false (pb_check_result_get_ok (result));
  g_assert_cmpstr (pb_error_kind (pb_check_result_get_error (result)), ==, "auth");
  /* Nothing was learned: the state is untouched. */
  g_assert_true (pb_state_is_fresh (f->state));
  g_assert_cmpuint (pb_state_get_count (f->state), ==, 0);

  /* The scheduler stops after one rejected login, whatever happens next. */
  scheduler = pb_scheduler_new (FALSE);
  pb_scheduler_set_runner (scheduler, run_with_wrong_password, pb_check_run_finish);
  g_signal_connect (scheduler, "check-finished", G_CALLBACK (on_finished), results);
  pb_scheduler_add_account (scheduler, f->account);
  pb_scheduler_start (scheduler);
  pb_scheduler_check_now (scheduler, "work");
  while (results->len < 1)
    g_main_context_iteration (NULL, TRUE);

  g_assert_cmpint (pb_scheduler_get_status (scheduler, "work"), ==, PB_ACCOUNT_STATUS_AUTH_STOPPED);
  g_assert_cmpint (pb_scheduler_get_next_check (scheduler, "work"), ==, -1);
  pb_scheduler_network_changed (scheduler, FALSE);
  pb_scheduler_network_changed (scheduler, TRUE);
  pb_scheduler_check_now (scheduler, NULL);
  g_assert_false (pb_scheduler_is_checking (scheduler, "work"));
  pb_scheduler_stop (scheduler);

  g_assert_cmpuint (results->len, ==, 1);
}

/* --- Volume ------------------------------------------------------------ */

static void
fill (Fixture *f, guint count)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (pb_test_dovecot_fill (f->dovecot, NULL, count, 2000, &error));
  g_assert_no_error (error);
}

static void
test_first_check_of_500_is_one_summary (Fixture *f, gconstpointer data)
{
  g_autoptr(PbCheckResult) first = NULL;
  g_autoptr(PbCheckResult) second = NULL;
  g_autoptr(PbCheckResult) third = NULL;
  GPtrArray *fresh;

  if (f->dovecot == NULL)
    return;
  fill (f, 500);

  first = check (f);
  g_assert_cmpuint (pb_check_result_get_total (first), ==, 500);
  g_assert_cmpuint (pb_check_result_get_new_count (first), ==, 500);
  /* Every message reported and marked notified, with one summary. */
  g_assert_cmpuint (pb_check_result_get_announced (first)->len, ==, 500);
  g_assert_true (pb_check_result_get_summary_only (first));
  /* Headers for the newest 200 only; the rest on later checks. */
  g_assert_cmpuint (pb_check_result_get_unsummarized (first), ==, 300);
  fresh = pb_check_result_get_new_messages (first);
  g_assert_cmpint (record_at (fresh, 0)->flags & PB_MESSAGE_SUMMARIZED, !=, 0);
  g_assert_cmpint (record_at (fresh, 199)->flags & PB_MESSAGE_SUMMARIZED, !=, 0);
  g_assert_cmpint (record_at (fresh, 200)->flags & PB_MESSAGE_SUMMARIZED, ==, 0);
  g_test_message ("first check of 500 messages: %.0f ms",
                  pb_check_result_get_duration (first) / 1000.0);

  second = check (f);
  g_assert_cmpuint (pb_check_result_get_announced (second)->len, ==, 0);
  g_assert_cmpuint (pb_check_result_get_unsummarized (second), ==, 100);
  third = check (f);
  g_assert_cmpuint (pb_check_result_get_unsummarized (third), ==, 0);
  g_assert_cmpuint (pb_check_result_get_new_count (third), ==, 500);
}

static void
test_nothing_new_in_1000 (Fixture *f, gconstpointer data)
{
  g_autoptr(PbCheckResult) first = NULL;
  g_autoptr(PbCheckResult) again = NULL;

  if (f->dovecot == NULL)
    return;
  fill (f, 1000);
  first = check_with (f->account, f->state, pb_test_dovecot_get_password (f->dovecot), G_MAXUINT);
  g_assert_true (pb_check_result_get_ok (first));
  g_assert_cmpuint (pb_check_result_get_unsummarized (first), ==, 0);

  again = check (f);
  g_assert_cmpuint (pb_check_result_get_total (again), ==, 1000);
  g_assert_cmpuint (pb_check_result_get_new_count (again), ==, 1000);
  g_assert_cmpuint (pb_check_result_get_announced (again)->len, ==, 0);
  g_test_message ("first check of 1000 messages (all headers): %.0f ms; "
                  "check with nothing new: %.0f ms",
                  pb_check_result_get_duration (first) / 1000.0,
                  pb_check_result_get_duration (again) / 1000.0);
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

#define ADD(path, func) \
  g_test_add ("/check/dovecot/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("first-check-counts", test_first_check_counts);
  ADD ("delivered-between-checks-is-announced-once", test_delivered_between_checks_is_announced_once);
  ADD ("deleted-elsewhere-disappears", test_deleted_elsewhere_disappears);
  ADD ("dismissed-is-not-new", test_dismissed_is_not_new);
  ADD ("state-survives-restart", test_state_survives_restart);
  ADD ("state-loaded-meanwhile", test_state_loaded_meanwhile);
  ADD ("damaged-state-loaded-meanwhile", test_damaged_state_loaded_meanwhile);
  ADD ("wrong-password", test_wrong_password);
  ADD ("first-check-of-500-is-one-summary", test_first_check_of_500_is_one_summary);
  ADD ("nothing-new-in-1000", test_nothing_new_in_1000);
#undef ADD

  return g_test_run ();
}

#include <string.h>
#include <glib/gi18n.h>

#include "pb-check.h"
#include "pb-core-error.h"
#include "pb-fetch-journal.h"
#include "pb-secrets.h"
#include "pb-summary.h"
#include "pop3/pb-pop3-client.h"

/* One TOP n 0 in flight: for which message, and what came back. */
typedef struct {
  guint      number;
  char      *uidl;     /* NULL on a server without UIDL (identity not known yet) */
  guint64    size;
  PbSummary *summary;  /* NULL until it arrived (or if it failed) */
  GError    *refused;  /* why the server did not send it, or NULL */
} TopItem;

typedef struct {
  PbAccount     *account;      /* owned */
  PbState       *state;        /* owned */
  char          *password;     /* owned; wiped when freed or after login */
  gboolean       password_from_keyring;
  /* The keyring lookup and the connection run side by side; login waits
   * for both. */
  gboolean       password_ready;
  gboolean       password_pending; /* the keyring lookup is under way */
  gboolean       connected;
  /* The connection failed while the keyring lookup was under way: the
   * keyring's error comes first (no password means no check, wherever the
   * server is), so this waits for its answer. */
  GError        *connect_error;
  gboolean       ended;        /* the result is decided */
  guint          max_tops;
  PbCheckFlags   flags;
  /* PB_CHECK_LOAD_STATE: the state loads in a worker thread meanwhile; the
   * listing and the return wait for it. */
  gboolean       state_loading;
  gboolean       listing_waiting;
  gboolean       return_waiting;
  /* The state file was there but could not be read: the check ends with
   * this at its next step, before the listing can be taken for new mail. */
  GError        *unreadable;
  PbPop3Client  *client;       /* owned */
  PbCheckResult *result;       /* owned */
  gint64         started;      /* g_get_monotonic_time () at the start */

  /* A batch of commands issued back to back: how many are still out, and
   * the first failure that ends the check. */
  guint          pending;
  GError        *batch_error;

  guint          stat_count;
  guint64        stat_size;
  GPtrArray     *uidls;        /* (element-type PbPop3Listing) from UIDL */
  GPtrArray     *sizes;        /* (element-type PbPop3Listing) from LIST, or NULL */
  gboolean       no_uidl;      /* the server has no UIDL command */
  GError        *uidl_refused; /* what it said when it refused UIDL */
  /* The server answers UIDL, but the state names its messages by their
   * headers (it refused UIDL before): the headers are read once more to
   * carry each record over to its UIDL. */
  gboolean       migrating;
  GPtrArray     *tops;         /* (element-type TopItem) */
  guint          tops_answered;/* replies come in the order of the commands */
  /* Each message's UIDL (or fallback identity) and number, in message
   * order; the strings belong to uidls or tops. A NULL UIDL is a duplicate
   * a broken server sent twice (the first one wins). */
  GPtrArray     *order;
  GArray        *numbers;      /* (element-type guint) */
  /* The state changed and must be saved. A check with nothing new changes
   * nothing, and skipping the durable write (two fsyncs) is most of what
   * makes such a check cheap. */
  gboolean       dirty;
} CheckData;

static void
top_item_free (TopItem *item)
{
  g_free (item->uidl);
  g_clear_pointer (&item->summary, pb_summary_free);
  g_clear_error (&item->refused);
  g_free (item);
}

static void
wipe_password (CheckData *data)
{
  if (data->password == NULL)
    return;
  if (data->password_from_keyring)
    pb_secrets_free (data->password);
  else
    {
      memset (data->password, 0, strlen (data->password));
      g_free (data->password);
    }
  data->password = NULL;
}

static void
check_data_free (CheckData *data)
{
  wipe_password (data);
  g_clear_object (&data->account);
  g_clear_object (&data->state);
  g_clear_object (&data->client);
  g_clear_object (&data->result);
  g_clear_error (&data->batch_error);
  g_clear_error (&data->unreadable);
  g_clear_error (&data->uidl_refused);
  g_clear_error (&data->connect_error);
  g_clear_pointer (&data->uidls, g_ptr_array_unref);
  g_clear_pointer (&data->sizes, g_ptr_array_unref);
  g_clear_pointer (&data->tops, g_ptr_array_unref);
  g_clear_pointer (&data->order, g_ptr_array_unref);
  g_clear_pointer (&data->numbers, g_array_unref);
  g_free (data);
}

static void
return_result (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);

  data->ended = TRUE;
  /* The caller gets the state back only once the loading thread let go. */
  if (data->state_loading)
    {
      data->return_waiting = TRUE;
      return;
    }
  pb_check_result_set_duration (data->result, g_get_monotonic_time () - data->started);
  g_task_return_pointer (task, g_object_ref (data->result), g_object_unref);
}

/* Ends the check with @error (taken). The connection is dropped without
 * QUIT: nothing was deleted, so nothing is lost. */
static void
fail (GTask  *task,
      GError *error)
{
  CheckData *data = g_task_get_task_data (task);

  /* Closing the client returns its pending call at once (the connection
   * still being made when the keyring fails): that callback must already
   * see the result decided, or it fails the task a second time. */
  data->ended = TRUE;
  wipe_password (data);
  if (data->client != NULL)
    {
      gint retry_after = pb_pop3_client_get_retry_after (data->client);

      if (retry_after >= 0)
        pb_check_result_set_retry_after (data->result, retry_after);
      pb_pop3_client_close (data->client);
    }
  pb_check_result_take_error (data->result, error);
  return_result (task);
}

/* Remembers the first fatal error of a batch; TRUE when the batch is done. */
static gboolean
batch_step (CheckData *data,
            GError    *error)
{
  if (error != NULL)
    {
      if (data->batch_error == NULL)
        data->batch_error = error;
      else
        g_error_free (error);
    }
  g_assert (data->pending > 0);
  return --data->pending == 0;
}

/* --- The end: notified flags, counts, save --------------------------------- */

static guint64 size_of (CheckData *data, guint number);

/* How many messages the listing names: the ones the person can see, list
 * and fetch (a UIDL a broken server sent twice names one). */
static guint
count_listed (CheckData *data)
{
  guint listed = 0;

  for (guint i = 0; i < data->order->len; i++)
    if (g_ptr_array_index (data->order, i) != NULL)
      listed++;
  return listed;
}

/* The total and size to report. STAT is what the server says it holds;
 * the listing (UIDL, or LIST without it) is what the person sees. A
 * broken server can make them disagree, and then the listing is the
 * truth: a count of 5 above a list of 4 sends the person looking for a
 * message that cannot be shown or fetched. summarize_new() asked LIST
 * for the sizes then. */
static void
set_counts (CheckData *data,
            guint      new_count)
{
  guint listed = count_listed (data);
  guint64 size = 0;

  if (listed == data->stat_count)
    {
      pb_check_result_set_counts (data->result, data->stat_count, data->stat_size, new_count);
      return;
    }
  g_debug ("Account %s: STAT says %u messages, the listing names %u; counting the listing",
           pb_account_get_name (data->account), data->stat_count, listed);
  for (guint i = 0; i < data->order->len; i++)
    if (g_ptr_array_index (data->order, i) != NULL)
      size += size_of (data, g_array_index (data->numbers, guint, i));
  pb_check_result_set_counts (data->result, listed, size, new_count);
}

static void
finish_check (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);
  gboolean fresh = pb_state_is_fresh (data->state);
  guint new_count = 0;
  guint unsummarized = 0;
  g_autoptr(GPtrArray) announce = g_ptr_array_new ();
  g_autoptr(GPtrArray) records = pb_state_list (data->state);
  g_autoptr(GError) error = NULL;

  /* Newest first: the highest message number is the latest arrival. The
   * diff left the state's records in the server's order, one per message,
   * so no UIDL needs looking up again. */
  for (guint i = records->len; i > 0; i--)
    {
      PbMessageRecord *record = g_ptr_array_index (records, i - 1);

      if (!pb_message_record_is_new (record))
        continue;
      new_count++;
      if ((record->flags & PB_MESSAGE_SUMMARIZED) == 0)
        unsummarized++;
      if ((record->flags & PB_MESSAGE_NOTIFIED) == 0)
        {
          /* Announced once, ever: the flag is saved below. */
          record->flags |= PB_MESSAGE_NOTIFIED;
          g_ptr_array_add (announce, record);
        }
      if ((data->flags & PB_CHECK_COUNTS_ONLY) == 0)
        pb_check_result_add_new_message (data->result, record);
    }
  for (guint i = 0; i < announce->len; i++)
    pb_check_result_add_announced (data->result, g_ptr_array_index (announce, i));

  set_counts (data, new_count);
  pb_check_result_set_unsummarized (data->result, unsummarized);
  pb_check_result_set_summary_only (data->result,
                                    announce->len > 0 &&
                                    (fresh || announce->len > PB_CHECK_STORM_THRESHOLD));
  if (fresh || announce->len > 0)
    data->dirty = TRUE;
  pb_state_set_fresh (data->state, FALSE);

  if (data->dirty && !pb_state_save (data->state, &error))
    {
      /* The counts stand, but the person must know the state is not kept
       * (messages would be announced again after a restart). */
      pb_check_result_take_error (data->result, g_steal_pointer (&error));
    }
  return_result (task);
}

static void
on_quit (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  /* A check deletes nothing, so a failed QUIT loses nothing. */
  if (!pb_pop3_client_quit_finish (PB_POP3_CLIENT (source), result, &error))
    g_debug ("QUIT failed after a check: %s", error->message);
  finish_check (task);
}

static void
quit (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);

  pb_pop3_client_quit_async (data->client, g_task_get_cancellable (task), on_quit,
                             g_object_ref (task));
}

/* --- Summaries ------------------------------------------------------------- */

static guint64
size_of (CheckData *data,
         guint      number)
{
  PbPop3Listing *listing;

  if (data->sizes == NULL || data->sizes->len == 0 || number == 0)
    return 0;
  /* LIST answers in message order, one line per message ... */
  listing = g_ptr_array_index (data->sizes, MIN (number, data->sizes->len) - 1);
  if (listing->number == number)
    return listing->size;
  /* ... unless the server skips numbers. */
  for (guint i = 0; i < data->sizes->len; i++)
    {
      listing = g_ptr_array_index (data->sizes, i);
      if (listing->number == number)
        return listing->size;
    }
  return 0;
}

static void
apply_sizes (CheckData *data)
{
  for (guint i = 0; data->sizes != NULL && i < data->order->len; i++)
    {
      const char *uidl = g_ptr_array_index (data->order, i);
      PbMessageRecord *record = uidl != NULL ? pb_state_lookup (data->state, uidl) : NULL;

      if (record != NULL && record->size == 0)
        {
          record->size = size_of (data, g_array_index (data->numbers, guint, i));
          data->dirty |= record->size != 0;
        }
    }
}

static void
apply_summary (CheckData       *data,
               PbMessageRecord *record,
               const PbSummary *summary)
{
  pb_state_set_summary (data->state, record, summary->from_name, summary->from_address,
                        summary->subject, summary->date);
  data->dirty = TRUE;
}

/* A TOP that fails with -ERR (or that the server lacks) fails for that
 * message only: @item keeps why, and a summary is tried again next time.
 * A lost connection ends the check. */
static GError *
top_error_filter (TopItem *item,
                  GError  *error)
{
  if (error == NULL || error->domain != PB_POP3_ERROR)
    return error;
  if (error->code == PB_POP3_ERROR_UNSUPPORTED || error->code == PB_POP3_ERROR_SERVER ||
      error->code == PB_POP3_ERROR_SYS_TEMP)
    {
      g_debug ("TOP failed for message %u: %s", item->number, error->message);
      item->refused = error;
      return NULL;
    }
  return error;
}

static void
on_summaries_done (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);

  if (data->batch_error != NULL)
    {
      fail (task, g_steal_pointer (&data->batch_error));
      return;
    }
  apply_sizes (data);
  quit (task);
}

static void
on_top (GObject      *source,
        GAsyncResult *result,
        gpointer      user_data)
{
  GTask *task = user_data;
  CheckData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GBytes) headers = pb_pop3_client_top_finish (PB_POP3_CLIENT (source), result, &error);
  TopItem *item;

  /* Replies complete in the order the commands were issued. */
  g_assert (data->tops_answered < data->tops->len);
  item = g_ptr_array_index (data->tops, data->tops_answered++);

  if (headers != NULL)
    {
      PbMessageRecord *record = pb_state_lookup (data->state, item->uidl);

      item->summary = pb_summary_parse (headers);
      if (record != NULL)
        apply_summary (data, record, item->summary);
    }

  if (batch_step (data, top_error_filter (item, error)))
    on_summaries_done (task);
  g_object_unref (task);
}

static void
on_list_for_sizes (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  GTask *task = user_data;
  CheckData *data = g_task_get_task_data (task);
  GError *error = NULL;

  g_clear_pointer (&data->sizes, g_ptr_array_unref);
  data->sizes = pb_pop3_client_list_finish (PB_POP3_CLIENT (source), result, &error);
  /* The sizes are a detail: a server that refuses LIST (-ERR) leaves them
   * unknown, and the check stands. A lost connection still ends it. */
  if (g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_SERVER) ||
      g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_SYS_TEMP))
    {
      g_debug ("LIST failed; sizes stay unknown: %s", error->message);
      g_clear_error (&error);
    }
  if (batch_step (data, error))
    on_summaries_done (task);
  g_object_unref (task);
}

/* LIST (for the sizes of new messages) and TOP n 0 for the new messages
 * without a summary, newest first, at most max_tops, all issued back to
 * back so that a pipelining server answers them in one go. */
/* `TOP n 0` for every item of data->tops, back to back (the client
 * pipelines them); @callback gets each reply in order. */
static void
send_tops (GTask               *task,
           GAsyncReadyCallback  callback)
{
  CheckData *data = g_task_get_task_data (task);

  for (guint i = 0; i < data->tops->len; i++)
    {
      TopItem *item = g_ptr_array_index (data->tops, i);

      pb_pop3_client_top_async (data->client, item->number, 0, g_task_get_cancellable (task),
                                callback, g_object_ref (task));
    }
}

static void
summarize_new (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  gboolean need_sizes = FALSE;

  g_clear_pointer (&data->tops, g_ptr_array_unref);
  data->tops_answered = 0;
  data->tops = g_ptr_array_new_with_free_func ((GDestroyNotify) top_item_free);
  for (guint i = data->order->len; i > 0 && data->tops->len < data->max_tops; i--)
    {
      const char *uidl = g_ptr_array_index (data->order, i - 1);
      PbMessageRecord *record = uidl != NULL ? pb_state_lookup (data->state, uidl) : NULL;
      TopItem *item;

      if (record == NULL || !pb_message_record_is_new (record))
        continue;
      /* The sizes may be in already (read for the headers' sake). */
      if (record->size == 0 && data->sizes == NULL)
        need_sizes = TRUE;
      if (record->flags & PB_MESSAGE_SUMMARIZED)
        continue;
      item = g_new0 (TopItem, 1);
      item->number = g_array_index (data->numbers, guint, i - 1);
      item->uidl = g_strdup (uidl);
      g_ptr_array_add (data->tops, item);
    }

  /* STAT and the listing disagree: set_counts() adds up LIST instead. */
  if (data->sizes == NULL && count_listed (data) != data->stat_count)
    need_sizes = TRUE;

  if (data->tops->len == 0 && !need_sizes)
    {
      quit (task);
      return;
    }

  data->pending = data->tops->len + (need_sizes ? 1 : 0);
  if (need_sizes)
    pb_pop3_client_list_async (data->client, cancellable, on_list_for_sizes, g_object_ref (task));
  send_tops (task, on_top);
}

/* --- The diff ---------------------------------------------------------------- */

/* Makes the state match the server: records for UIDLs seen for the first
 * time, vanished ones forgotten, records in server order. data->order holds
 * the UIDL of each message number; a duplicate a broken server sent twice
 * becomes NULL there (the first one wins). One lookup per message:
 * pb_state_apply_listing(). */
static void
diff_with_state (CheckData *data)
{
  guint added, forgotten;

  if (pb_state_apply_listing (data->state, (const char **) data->order->pdata,
                              data->order->len, &added, &forgotten))
    data->dirty = TRUE;
  if (forgotten > 0)
    g_debug ("%u messages vanished from the server", forgotten);
  if (added > 0)
    g_debug ("%u messages are new to this state", added);
}

/* --- No UIDL: identities from headers ------------------------------------ */

static void list_by_uidls (GTask *task);

/* The server answers UIDL where it refused it before: each record named
 * by a message's headers is carried over to that message's UIDL, with
 * what the person did with it (notified, downloaded, dismissed) and its
 * summary, so that nothing is announced or fetched a second time. The
 * records under the old names are forgotten by the diff that follows. */
static void
carry_over_to_uidls (CheckData *data,
                     GPtrArray *identities)
{
  guint next = 0;  /* both listings are in message order */

  for (guint i = 0; i < data->tops->len; i++)
    {
      TopItem *item = g_ptr_array_index (data->tops, i);
      PbPop3Listing *listing = NULL;
      PbMessageRecord *old, *record;

      while (next < data->uidls->len &&
             ((PbPop3Listing *) g_ptr_array_index (data->uidls, next))->number < item->number)
        next++;
      if (next < data->uidls->len &&
          ((PbPop3Listing *) g_ptr_array_index (data->uidls, next))->number == item->number)
        listing = g_ptr_array_index (data->uidls, next);
      if (item->refused != NULL || listing == NULL ||
          pb_state_lookup (data->state, listing->uidl) != NULL)
        continue;
      /* Headers that did not come name nothing: that record is left to
       * be forgotten, and the message is new to the state. */
      old = pb_state_lookup (data->state, g_ptr_array_index (identities, i));
      record = pb_state_ensure (data->state, listing->uidl);
      data->dirty = TRUE;
      if (old == NULL)
        {
          /* New since: its headers are here already. */
          record->size = item->size;
          apply_summary (data, record, item->summary);
          continue;
        }
      record->flags = old->flags & ~PB_MESSAGE_SUMMARIZED;
      record->size = old->size;
      record->date = old->date;
      record->first_seen = old->first_seen;
      if (old->flags & PB_MESSAGE_SUMMARIZED)
        pb_state_set_summary (data->state, record, old->from_name, old->from_address,
                              old->subject, old->date);
      pb_state_set_path (data->state, record, old->path);
    }
  g_debug ("Account %s: messages named by their headers are now named by UIDL",
           pb_account_get_name (data->account));
}

/* Every message's headers are in (or were refused). */
static void
on_identities_done (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);
  g_autofree PbSummary **summaries = NULL;
  g_autofree guint64 *sizes = NULL;
  g_autoptr(GPtrArray) identities = NULL;
  TopItem *refused = NULL;
  gboolean any_headers = FALSE;

  if (data->batch_error != NULL)
    {
      fail (task, g_steal_pointer (&data->batch_error));
      return;
    }

  for (guint i = 0; i < data->tops->len; i++)
    {
      TopItem *item = g_ptr_array_index (data->tops, i);

      if (item->refused == NULL)
        any_headers = TRUE;
      else if (refused == NULL)
        refused = item;
    }
  if (refused != NULL && !data->migrating)
    {
      if (!any_headers && g_error_matches (refused->refused, PB_POP3_ERROR,
                                           PB_POP3_ERROR_UNSUPPORTED))
        fail (task, pb_check_error_no_identity ());
      else
        /* Without them the message has no name: one made of empty
         * headers would be another message's once they come, and the
         * person would be told about it twice (fetch skips it likewise). */
        fail (task, g_error_new (PB_POP3_ERROR,
                                 g_error_matches (refused->refused, PB_POP3_ERROR,
                                                  PB_POP3_ERROR_SYS_TEMP)
                                 ? PB_POP3_ERROR_SYS_TEMP : PB_POP3_ERROR_SERVER,
                                 _("The server %s has no UIDL, so its messages are told "
                                   "apart by their headers, and it did not send those of "
                                   "message %u; nothing was counted. Try again later. (%s)"),
                                 pb_account_get_host (data->account), refused->number,
                                 refused->refused->message));
      return;
    }

  /* The same identities a fetch computes (identical headers and size get
   * a counter), so that state and fetch agree on every message. */
  summaries = g_new (PbSummary *, data->tops->len + 1);
  sizes = g_new (guint64, data->tops->len + 1);
  for (guint i = 0; i < data->tops->len; i++)
    {
      TopItem *item = g_ptr_array_index (data->tops, i);

      if (item->summary == NULL)
        item->summary = pb_summary_parse_data ("", 0);
      summaries[i] = item->summary;
      sizes[i] = item->size;
    }
  identities = pb_summary_fallback_identities (summaries, sizes, data->tops->len);

  if (data->migrating)
    {
      carry_over_to_uidls (data, identities);
      list_by_uidls (task);
      return;
    }

  data->order = g_ptr_array_sized_new (data->tops->len);
  data->numbers = g_array_sized_new (FALSE, FALSE, sizeof (guint), data->tops->len);
  for (guint i = 0; i < data->tops->len; i++)
    {
      TopItem *item = g_ptr_array_index (data->tops, i);

      item->uidl = g_strdup (g_ptr_array_index (identities, i));
      g_ptr_array_add (data->order, item->uidl);
      g_array_append_val (data->numbers, item->number);
    }

  diff_with_state (data);
  for (guint i = 0; i < data->tops->len; i++)
    {
      TopItem *item = g_ptr_array_index (data->tops, i);
      PbMessageRecord *record = pb_state_lookup (data->state, item->uidl);

      if (record == NULL)
        continue;
      if (record->size == 0 && item->size != 0)
        {
          record->size = item->size;
          data->dirty = TRUE;
        }
      if ((record->flags & PB_MESSAGE_SUMMARIZED) == 0)
        apply_summary (data, record, item->summary);
    }
  quit (task);
}

static void
on_identity_top (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GTask *task = user_data;
  CheckData *data = g_task_get_task_data (task);
  GError *error = NULL;
  g_autoptr(GBytes) headers = pb_pop3_client_top_finish (PB_POP3_CLIENT (source), result, &error);
  TopItem *item;

  /* Replies complete in the order the commands were issued. */
  g_assert (data->tops_answered < data->tops->len);
  item = g_ptr_array_index (data->tops, data->tops_answered++);
  if (headers != NULL)
    item->summary = pb_summary_parse (headers);

  if (batch_step (data, top_error_filter (item, error)))
    on_identities_done (task);
  g_object_unref (task);
}

static void
on_list_for_identities (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->sizes = pb_pop3_client_list_finish (PB_POP3_CLIENT (source), result, &error);
  if (data->sizes == NULL)
    {
      fail (task, error);
      return;
    }

  /* Every message's headers, back to back: with no UIDL there is no other
   * way to know which messages were seen before. */
  data->tops = g_ptr_array_new_with_free_func ((GDestroyNotify) top_item_free);
  for (guint i = 0; i < data->sizes->len; i++)
    {
      PbPop3Listing *listing = g_ptr_array_index (data->sizes, i);
      TopItem *item = g_new0 (TopItem, 1);

      item->number = listing->number;
      item->size = listing->size;
      g_ptr_array_add (data->tops, item);
    }
  if (data->tops->len == 0)
    {
      on_identities_done (task);
      return;
    }

  data->pending = data->tops->len;
  send_tops (task, on_identity_top);
}

/* --- STAT + UIDL ------------------------------------------------------------ */

static void
on_listing_done (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);

  if (data->batch_error != NULL)
    {
      fail (task, g_steal_pointer (&data->batch_error));
      return;
    }
  if (data->state_loading)
    {
      data->listing_waiting = TRUE;  /* on_state_loaded() comes back here */
      return;
    }
  if (data->unreadable != NULL)
    {
      fail (task, g_steal_pointer (&data->unreadable));
      return;
    }

  if (data->no_uidl && pb_state_has_uidls (data->state))
    {
      /* Names made from headers now would match none of the records, and
       * every message would be announced (and fetched) again. */
      fail (task, g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_SERVER,
                               _("%s, but it answered UIDL before, and Popbiff tells "
                                 "this mailbox's messages apart by it. Try again later; "
                                 "if the server no longer offers UIDL, remove the account "
                                 "and add it again."),
                               data->uidl_refused->message));
      return;
    }
  if (data->no_uidl || pb_state_named_by_headers (data->state, data->uidls))
    {
      data->migrating = !data->no_uidl;
      pb_pop3_client_list_async (data->client, g_task_get_cancellable (task),
                                 on_list_for_identities, g_object_ref (task));
      return;
    }
  list_by_uidls (task);
}

/* The UIDL listing names the messages: diff, then summaries of the new. */
static void
list_by_uidls (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);

  data->order = g_ptr_array_sized_new (data->uidls->len);
  data->numbers = g_array_sized_new (FALSE, FALSE, sizeof (guint), data->uidls->len);
  for (guint i = 0; i < data->uidls->len; i++)
    {
      PbPop3Listing *listing = g_ptr_array_index (data->uidls, i);

      g_ptr_array_add (data->order, listing->uidl);
      g_array_append_val (data->numbers, listing->number);
    }
  diff_with_state (data);
  summarize_new (task);
}

static void
on_stat (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  CheckData *data = g_task_get_task_data (task);
  GError *error = NULL;

  pb_pop3_client_stat_finish (PB_POP3_CLIENT (source), result,
                              &data->stat_count, &data->stat_size, &error);
  if (batch_step (data, error))
    on_listing_done (task);
  g_object_unref (task);
}

static void
on_uidl (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  GTask *task = user_data;
  CheckData *data = g_task_get_task_data (task);
  GError *error = NULL;

  data->uidls = pb_pop3_client_uidl_finish (PB_POP3_CLIENT (source), result, &error);
  /* A plain -ERR (the client's UNSUPPORTED): the messages are named by
   * their headers, which on_listing_done() allows only where that renames
   * nothing. A lost connection, a [SYS/TEMP] or [IN-USE], or a broken
   * listing never makes the check name messages by their headers. */
  if (g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED))
    {
      data->no_uidl = TRUE;
      data->uidl_refused = g_steal_pointer (&error);
    }
  if (batch_step (data, error))
    on_listing_done (task);
  g_object_unref (task);
}

/* --- Login --------------------------------------------------------------- */

static void load_state (GTask *task);

static void
on_authenticated (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  GError *error = NULL;

  wipe_password (data);
  if (!pb_pop3_client_authenticate_finish (data->client, result, &error))
    {
      fail (task, error);
      return;
    }
  /* The state turned out unreadable during the login: no use listing. */
  if (data->unreadable != NULL)
    {
      fail (task, g_steal_pointer (&data->unreadable));
      return;
    }
  pb_check_result_set_login_delay (data->result, pb_pop3_client_get_login_delay (data->client));

  /* Back to back: the client pipelines them when the server allows. */
  data->pending = 2;
  pb_pop3_client_stat_async (data->client, cancellable, on_stat, g_object_ref (task));
  pb_pop3_client_uidl_async (data->client, cancellable, on_uidl, g_object_ref (task));
}

/* Logs in once both the password and the connection are there. */
static void
authenticate (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);

  if (!data->password_ready || !data->connected)
    return;
  /* The state is needed once the UIDL list is in, a login and three
   * replies from now; loading it meanwhile, not from the start, leaves the
   * processors to the keyring lookup and the TLS handshake, which the login
   * waits for, and loads nothing when either fails. */
  if (data->flags & PB_CHECK_LOAD_STATE)
    load_state (task);
  pb_pop3_client_authenticate_async (data->client,
                                     pb_account_get_user (data->account),
                                     data->password,
                                     pb_account_get_auth (data->account),
                                     g_task_get_cancellable (task),
                                     on_authenticated, g_object_ref (task));
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!pb_pop3_client_connect_finish (data->client, result, &error))
    {
      if (data->ended)
        g_error_free (error);  /* the keyring failed first */
      else if (data->password_pending)
        data->connect_error = error;  /* on_password() decides */
      else
        fail (task, error);
      return;
    }
  data->connected = TRUE;
  authenticate (task);
}

static void
connect (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);

  data->client = pb_account_create_client (data->account);
  pb_pop3_client_connect_async (data->client, g_task_get_cancellable (task),
                                on_connected, g_object_ref (task));
}

static void
on_password (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  GError *error = NULL;
  char *password;

  password = pb_secrets_lookup_finish (result, &error);
  data->password_pending = FALSE;
  if (data->ended)
    {
      /* The check was cancelled meanwhile; that is the result. */
      g_clear_error (&error);
      if (password != NULL)
        pb_secrets_free (password);
      return;
    }
  if (password == NULL)
    {
      /* "No password stored" says what to do; the connection's error
       * (if it failed too) would only be next. */
      fail (task, error);
      return;
    }
  if (data->connect_error != NULL)
    {
      pb_secrets_free (password);
      fail (task, g_steal_pointer (&data->connect_error));
      return;
    }
  data->password = password;
  data->password_from_keyring = TRUE;
  data->password_ready = TRUE;
  authenticate (task);
}

/* --- Loading the state meanwhile ------------------------------------------ */

/* A fetch killed after renaming files into place left them in its journal:
 * record them as downloaded first, as the next fetch would, or they would
 * be shown as new. A failure here is the next fetch's to report; the check
 * goes on. */
static void
recover_fetch_journal (PbState *state)
{
  g_autoptr(GError) error = NULL;

  if (!pb_fetch_journal_recover_if_idle (state, &error))
    g_debug ("The download journal was not applied: %s", error->message);
}

static void
load_state_in_thread (GTask        *load,
                      gpointer      source_object,
                      gpointer      task_data,
                      GCancellable *cancellable)
{
  PbState *state = task_data;
  GError *error = NULL;

  /* A damaged file is set aside and the state starts empty: the check goes
   * on, and the error only tells the person. A file that could not be
   * read ends the check (on_state_loaded()); the journal waits for a state
   * it can be applied to. */
  if (pb_state_load (state, &error) || pb_state_get_read_error (state) == NULL)
    recover_fetch_journal (state);
  g_task_return_pointer (load, error, (GDestroyNotify) g_error_free);
}

static void
on_state_loaded (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  CheckData *data = g_task_get_task_data (task);
  GError *error = g_task_propagate_pointer (G_TASK (result), NULL);

  data->state_loading = FALSE;
  if (g_error_matches (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK))
    {
      /* Not a damaged file set aside but one that is there and could not
       * be read: counting from an empty state would report every message
       * as new. The check fails with it, once the login in flight (if
       * any) is done; a check that failed already keeps its error. */
      if (data->return_waiting)
        g_debug ("The check of account %s failed; its state could not be read either: %s",
                 pb_account_get_name (data->account), error->message);
      data->unreadable = g_steal_pointer (&error);
    }
  else if (error != NULL)
    pb_check_result_take_state_error (data->result, error);

  if (data->return_waiting)
    return_result (task);
  else if (data->listing_waiting)
    on_listing_done (task);
}

static void
load_state (GTask *task)
{
  CheckData *data = g_task_get_task_data (task);
  g_autoptr(GTask) load = g_task_new (NULL, NULL, on_state_loaded, g_object_ref (task));

  g_task_set_source_tag (load, load_state);
  g_task_set_task_data (load, g_object_ref (data->state), g_object_unref);
  data->state_loading = TRUE;
  g_task_run_in_thread (load, load_state_in_thread);
}

void
pb_check_run_async (PbAccount           *account,
                    PbState             *state,
                    const char          *password,
                    guint                max_tops,
                    PbCheckFlags         flags,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  CheckData *data;

  g_return_if_fail (PB_IS_ACCOUNT (account));
  g_return_if_fail (PB_IS_STATE (state));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, pb_check_run_async);
  /* A cancelled check still has a result (with the cancellation as error). */
  g_task_set_check_cancellable (task, FALSE);

  data = g_new0 (CheckData, 1);
  data->account = g_object_ref (account);
  data->state = g_object_ref (state);
  data->max_tops = max_tops;
  data->flags = flags;
  data->result = pb_check_result_new (pb_account_get_name (account));
  data->started = g_get_monotonic_time ();
  g_task_set_task_data (task, data, (GDestroyNotify) check_data_free);

  /* The caller loaded the state, and its file could not be read: no
   * password, no connection, nothing to count against. */
  if ((flags & PB_CHECK_LOAD_STATE) == 0 && pb_state_get_read_error (state) != NULL)
    {
      fail (task, g_error_copy (pb_state_get_read_error (state)));
      return;
    }

  if ((flags & PB_CHECK_LOAD_STATE) == 0)
    recover_fetch_journal (state);

  if (password != NULL)
    {
      data->password = g_strdup (password);
      data->password_ready = TRUE;
    }
  else
    /* Side by side with the connection: the keyring and the TLS handshake
     * each take tens of milliseconds. Nothing is sent to the server before
     * the password is there; if the keyring fails, the connection is
     * dropped unused. */
    {
      data->password_pending = TRUE;
      pb_secrets_lookup_async (account, cancellable, on_password, g_object_ref (task));
    }
  connect (task);
}

GError *
pb_check_error_no_identity (void)
{
  return g_error_new_literal (PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED,
                              _("The server supports neither UIDL nor TOP, so "
                                "Popbiff cannot tell its messages apart."));
}

PbCheckResult *
pb_check_run_finish (GAsyncResult *result)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == pb_check_run_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), NULL);
}

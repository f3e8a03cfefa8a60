/* pb-fetch.c: the download job.
 *
 * THE EXACTLY-ONCE PROTOCOL
 *
 * Files involved, for account A with state file S ($XDG_STATE_HOME/popbiff/A.state):
 *   S            the state: UIDL -> flags (DOWNLOADED), path; saved atomically
 *   S.journal    append-only lines "uidl \t size \t path" (path g_strescape'd)
 *   S.lock       flock()ed for the whole run: one fetch per account at a time,
 *                so two fetches can never download the same message twice
 *
 * Per batch (up to 64 messages, 256 with syncfs, or 4 MiB, or whatever is
 * complete when the server has nothing more for us), in a worker thread so
 * the network keeps flowing while the disk syncs:
 *   1. each message's temporary file is flushed and fsynced
 *      (pb_delivery_message_finish), which also fixes its final name;
 *   2. one journal line per message is appended and the journal fdatasynced:
 *      from here on a crash cannot forget that the file may be in place;
 *   3. each file is renamed into place (Maildir tmp/ -> new/, or the eml
 *      name), never over an existing file;
 *   4. one fsync of the directory makes the renames durable.
 * A run of SYNC_FS_MIN_MESSAGES messages or more, into a file system where
 * syncfs(2) is as strong as fsync (pb_delivery_can_sync_file_system), does
 * 1 and 2 with one syncfs per batch instead of an fsync per file: every
 * file closed unsynced as soon as it is received, the journal lines
 * written, one syncfs; and 4 with a second syncfs. Where each fsync costs a disk flush (ext4 without a journal) that
 * is two flushes per batch instead of one per message, and the order that
 * the argument below rests on is unchanged: content and journal line
 * durable before any rename, renames durable before the messages are
 * recorded. close_and_sync_file_system says why that holds.
 * Back in the main thread the messages are marked DOWNLOADED in the state
 * (in memory). The state file is saved at the end of the downloads, always
 * before any DELE, and then the journal is emptied.
 *
 * Recovery (pb_fetch_journal_recover, first thing in every run): every journal
 * line whose file is still there (with the recorded size; a Maildir message
 * a mail client moved to cur/ counts) is marked DOWNLOADED, the state is
 * saved, the journal emptied. A line whose file is not there is dropped:
 * its rename never happened, and its temporary file is removed as a
 * leftover by pb_delivery_open.
 *
 * Why this is exactly once, wherever a SIGKILL lands:
 *   - before 2 (a partial or unsynced temporary file): nothing outside tmp/
 *     (or the hidden temporary name), no journal line; the rerun removes
 *     the leftover and fetches the message again: once.
 *   - between 2 and 3: a journal line, no file in place; the rerun drops
 *     the line and fetches again: once.
 *   - between 3 and the state save: the file is in place and journaled; the
 *     rerun records it as downloaded and does not fetch it again: once.
 *     (A rename not yet made durable by 4 either survives, and is found, or
 *     vanishes with the power cut, and the message is fetched again.)
 *   - after the state save: the state says downloaded.
 * And never lost: DELE is sent only for messages recorded as downloaded in a
 * state file already saved (fsync, rename, fsync of the directory), and
 * deletions take effect only when QUIT succeeds (RFC 1939 section 6), so a
 * connection dropped before QUIT deletes nothing; the next fetch does not
 * write a second copy because the state says downloaded.
 *
 * TESTING HOOK: PB_FETCH_TEST_KILL_AT, when set, raises SIGKILL at one
 * point, so the crash tests can stop a real run anywhere:
 *   after-bytes:N       once N octets of message data have been written
 *   after-journal:K     after the K-th batch's journal lines are synced
 *   after-rename:K      after the K-th message is renamed into place
 *   after-sync:K        after the K-th batch's directory fsync
 *   after-state-save:K  after the K-th state save of the run
 *   after-dele:K        after the server answered the K-th DELE
 *   before-quit         just before QUIT is sent
 * Unset (always, outside tests) it costs one getenv per run. Likewise
 * PB_FETCH_TEST_SYNC=fsync|syncfs forces one way of syncing every batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "pop3/pb-pop3-client.h"
#include "pb-check.h"
#include "pb-core-error.h"
#include "pb-delivery.h"
#include "pb-fetch.h"
#include "pb-fetch-journal.h"
#include "pb-secrets.h"
#include "pb-summary.h"

/* When a batch is committed: enough to spread the syncs over many
 * messages, small enough that a slow link still commits often. A run that
 * syncs the file system closes each file as soon as it is received, so
 * its batches can be larger: they cost memory for a result, not an open
 * file. */
#define BATCH_MESSAGES         64
#define BATCH_MESSAGES_SYNC_FS 256
#define BATCH_BYTES      (4 * 1024 * 1024)
#define BATCH_MAX_AGE_US (1 * G_USEC_PER_SEC)
/* RETRs queued ahead of the one being received; each holds an open
 * temporary file. Enough that the client can send many RETRs in one write
 * and the server always has the next one. */
#define RETR_WINDOW      32
/* Received but not yet committed, at most, in batches: while one batch
 * syncs, the next fills, but no further (the disk sets the pace). */
#define MAX_UNCOMMITTED_BATCHES 2
#define PROGRESS_INTERVAL_MS 250
/* A run of this many messages or more is made durable by syncfs rather
 * than an fsync per file, where the folder's file system allows it; a
 * smaller one should not wait for whatever else is dirty on the file
 * system. */
#define SYNC_FS_MIN_MESSAGES 8
/* Threads that fsync one batch's files side by side. */
#define FINISH_THREADS   4
/* Reconnects after a message over the size cap closed the connection
 * (the rest of an oversized message cannot be skipped reliably). */
#define MAX_RECONNECTS   16

/* ------------------------------------------------------------------ */
/* The testing hook                                                    */

typedef struct {
  char    *point;
  guint64  count;
} KillAt;

static void
kill_at_parse (KillAt *kill_at)
{
  const char *spec = g_getenv ("PB_FETCH_TEST_KILL_AT");
  const char *colon;

  g_clear_pointer (&kill_at->point, g_free);
  kill_at->count = 0;
  if (spec == NULL || spec[0] == '\0')
    return;

  colon = strchr (spec, ':');
  if (colon == NULL)
    {
      kill_at->point = g_strdup (spec);
      return;
    }
  kill_at->point = g_strndup (spec, colon - spec);
  kill_at->count = g_ascii_strtoull (colon + 1, NULL, 10);
}

static void
kill_at_check (const KillAt *kill_at,
               const char   *point,
               guint64       count)
{
  if (kill_at->point != NULL && g_str_equal (kill_at->point, point) && count >= kill_at->count)
    raise (SIGKILL);
}

static int
kill_after_bytes_hook (guint64  total_bytes,
                       gpointer user_data)
{
  const KillAt *kill_at = user_data;

  /* The write about to happen is counted: the kill lands mid-message. */
  kill_at_check (kill_at, "after-bytes", total_bytes);
  return 0;
}

/* PB_FETCH_TEST_SYNC=fsync|syncfs makes every batch take one way of
 * becoming durable, whatever its size, so the tests cover both. */
typedef enum {
  SYNC_MODE_BY_SIZE,
  SYNC_MODE_FSYNC,
  SYNC_MODE_SYNCFS,
} SyncMode;

static SyncMode
sync_mode_parse (void)
{
  const char *mode = g_getenv ("PB_FETCH_TEST_SYNC");

  if (g_strcmp0 (mode, "fsync") == 0)
    return SYNC_MODE_FSYNC;
  if (g_strcmp0 (mode, "syncfs") == 0)
    return SYNC_MODE_SYNCFS;
  return SYNC_MODE_BY_SIZE;
}

/* ------------------------------------------------------------------ */

typedef struct _FetchItem FetchItem;

struct _PbFetch
{
  GObject           parent_instance;

  PbAccount        *account;
  PbState          *state;
  char             *password;        /* wiped in clear_password */
  PbFetchSelection  selection;
  GStrv             uidls;
  char             *folder;          /* NULL: the account's */
  gboolean          has_format;
  PbDeliveryFormat  format;
  gboolean          has_delete;
  gboolean          delete_after;
  guint64           max_size;

  GPtrArray        *results;         /* PbFetchResult* */

  /* One run. */
  GTask            *task;
  GCancellable     *cancellable;
  KillAt            kill_at;
  SyncMode          sync_mode;
  gboolean          sync_fs;         /* this run syncs the file system */
  PbDelivery       *delivery;
  gboolean          journal_on_folder_fs;
  PbPop3Client     *client;
  char             *secret;          /* the password in use; wiped */
  int               lock_fd;
  PbFetchJournal   *journal;
  GPtrArray        *items;           /* FetchItem*, owned */
  GHashTable       *numbers;         /* uidl -> message number, this session */
  gboolean          planned;
  GQueue            todo;            /* FetchItem*, not yet RETRed */
  GQueue            retry;           /* FetchItem*, to RETR after reconnecting */
  guint             in_flight;
  GPtrArray        *pending;         /* FetchItem*, received, not committed */
  guint64           pending_bytes;
  gint64            pending_since;
  gboolean          committing;
  guint             committing_count; /* messages in the batch being committed */
  gboolean          reconnect_needed;
  guint             reconnects;
  GError           *fatal;           /* what stopped the run part way */
  gboolean          marked;          /* the state changed and needs saving */
  GPtrArray        *deleting;        /* FetchItem* with a DELE sent */
  guint             deles_sent;
  guint             deles_pending;
  guint             deles_answered;
  guint             state_saves;
  guint             batches;         /* worker thread only */
  guint             renames;         /* worker thread only */

  guint             done;
  guint             total;
  guint64           bytes_done;
  guint64           bytes_total;
  gint64            started;
  GSource          *progress_source;
};

struct _FetchItem
{
  PbFetch           *fetch;          /* unowned */
  PbFetchResult     *result;         /* unowned, in fetch->results */
  char              *uidl;
  guint64            list_size;
  PbDeliveryMessage *message;
  GError            *commit_error;   /* set by the worker */
  gboolean           finished;       /* has its result */
  gboolean           downloaded;     /* on disk and recorded in this run */
};

enum {
  PROP_0,
  PROP_ACCOUNT,
  PROP_STATE,
  N_PROPS
};

enum {
  SIGNAL_PROGRESS,
  SIGNAL_MESSAGE_DONE,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (PbFetch, pb_fetch, G_TYPE_OBJECT)

static void
wipe_string (char **str)
{
  if (*str != NULL)
    {
      explicit_bzero (*str, strlen (*str));
      g_clear_pointer (str, g_free);
    }
}

static void
fetch_result_free (PbFetchResult *result)
{
  g_free (result->uidl);
  g_free (result->path);
  g_clear_error (&result->error);
  g_free (result);
}

static void
fetch_item_free (FetchItem *item)
{
  g_clear_pointer (&item->message, pb_delivery_message_free);
  g_clear_error (&item->commit_error);
  g_free (item->uidl);
  g_free (item);
}

static void
clear_run (PbFetch *self)
{
  if (self->progress_source != NULL)
    {
      g_source_destroy (self->progress_source);
      g_clear_pointer (&self->progress_source, g_source_unref);
    }
  g_queue_clear (&self->todo);
  g_queue_clear (&self->retry);
  g_clear_pointer (&self->pending, g_ptr_array_unref);
  g_clear_pointer (&self->deleting, g_ptr_array_unref);
  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_clear_pointer (&self->numbers, g_hash_table_unref);
  if (self->client != NULL)
    pb_pop3_client_close (self->client);
  g_clear_object (&self->client);
  g_clear_object (&self->delivery);
  wipe_string (&self->secret);
  g_clear_pointer (&self->journal, pb_fetch_journal_free);
  if (self->lock_fd >= 0)
    close (self->lock_fd);  /* releases the flock */
  self->lock_fd = -1;
  g_clear_error (&self->fatal);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->kill_at.point, g_free);
}

static void
pb_fetch_dispose (GObject *object)
{
  PbFetch *self = PB_FETCH (object);

  clear_run (self);
  g_clear_object (&self->account);
  g_clear_object (&self->state);

  G_OBJECT_CLASS (pb_fetch_parent_class)->dispose (object);
}

static void
pb_fetch_finalize (GObject *object)
{
  PbFetch *self = PB_FETCH (object);

  wipe_string (&self->password);
  g_strfreev (self->uidls);
  g_free (self->folder);
  g_ptr_array_unref (self->results);

  G_OBJECT_CLASS (pb_fetch_parent_class)->finalize (object);
}

static void
pb_fetch_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  PbFetch *self = PB_FETCH (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT:
      g_value_set_object (value, self->account);
      break;
    case PROP_STATE:
      g_value_set_object (value, self->state);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pb_fetch_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  PbFetch *self = PB_FETCH (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT:
      self->account = g_value_dup_object (value);
      break;
    case PROP_STATE:
      self->state = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pb_fetch_class_init (PbFetchClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pb_fetch_dispose;
  object_class->finalize = pb_fetch_finalize;
  object_class->get_property = pb_fetch_get_property;
  object_class->set_property = pb_fetch_set_property;

  properties[PROP_ACCOUNT] =
    g_param_spec_object ("account", NULL, NULL, PB_TYPE_ACCOUNT,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE] =
    g_param_spec_object ("state", NULL, NULL, PB_TYPE_STATE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_PROGRESS] =
    g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 5,
                  G_TYPE_UINT, G_TYPE_UINT, G_TYPE_UINT64, G_TYPE_UINT64, G_TYPE_DOUBLE);
  signals[SIGNAL_MESSAGE_DONE] =
    g_signal_new ("message-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
pb_fetch_init (PbFetch *self)
{
  self->results = g_ptr_array_new_with_free_func ((GDestroyNotify) fetch_result_free);
  self->max_size = PB_POP3_DEFAULT_MAX_MESSAGE_SIZE;
  self->lock_fd = -1;
  g_queue_init (&self->todo);
  g_queue_init (&self->retry);
}

PbFetch *
pb_fetch_new (PbAccount *account,
              PbState   *state)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (account), NULL);
  g_return_val_if_fail (PB_IS_STATE (state), NULL);

  return g_object_new (PB_TYPE_FETCH, "account", account, "state", state, NULL);
}

PbAccount *
pb_fetch_get_account (PbFetch *self)
{
  g_return_val_if_fail (PB_IS_FETCH (self), NULL);
  return self->account;
}

PbState *
pb_fetch_get_state (PbFetch *self)
{
  g_return_val_if_fail (PB_IS_FETCH (self), NULL);
  return self->state;
}

void
pb_fetch_set_password (PbFetch    *self,
                       const char *password)
{
  g_return_if_fail (PB_IS_FETCH (self));
  wipe_string (&self->password);
  self->password = g_strdup (password);
}

void
pb_fetch_set_selection (PbFetch            *self,
                        PbFetchSelection    selection,
                        const char * const *uidls)
{
  g_return_if_fail (PB_IS_FETCH (self));
  g_return_if_fail (selection != PB_FETCH_SELECT_UIDLS || uidls != NULL);

  self->selection = selection;
  g_clear_pointer (&self->uidls, g_strfreev);
  if (selection == PB_FETCH_SELECT_UIDLS)
    self->uidls = g_strdupv ((char **) uidls);
}

void
pb_fetch_set_folder (PbFetch    *self,
                     const char *folder)
{
  g_return_if_fail (PB_IS_FETCH (self));
  g_free (self->folder);
  self->folder = g_strdup (folder);
}

const char *
pb_fetch_get_folder (PbFetch *self)
{
  g_return_val_if_fail (PB_IS_FETCH (self), NULL);
  return self->folder != NULL ? self->folder : pb_account_get_folder (self->account);
}

void
pb_fetch_set_format (PbFetch          *self,
                     PbDeliveryFormat  format)
{
  g_return_if_fail (PB_IS_FETCH (self));
  self->has_format = TRUE;
  self->format = format;
}

PbDeliveryFormat
pb_fetch_get_format (PbFetch *self)
{
  g_return_val_if_fail (PB_IS_FETCH (self), PB_DELIVERY_FORMAT_MAILDIR);
  return self->has_format ? self->format : pb_account_get_format (self->account);
}

void
pb_fetch_set_delete (PbFetch  *self,
                     gboolean  delete_after)
{
  g_return_if_fail (PB_IS_FETCH (self));
  self->has_delete = TRUE;
  self->delete_after = delete_after;
}

gboolean
pb_fetch_get_delete (PbFetch *self)
{
  g_return_val_if_fail (PB_IS_FETCH (self), FALSE);
  return self->has_delete ? self->delete_after
                          : pb_account_get_delete_after_download (self->account);
}

void
pb_fetch_set_max_message_size (PbFetch *self,
                               guint64  bytes)
{
  g_return_if_fail (PB_IS_FETCH (self));
  self->max_size = bytes;
}

GPtrArray *
pb_fetch_get_results (PbFetch *self)
{
  g_return_val_if_fail (PB_IS_FETCH (self), NULL);
  return self->results;
}

/* ------------------------------------------------------------------ */
/* Progress and results                                                */

static void
emit_progress (PbFetch *self)
{
  guint64 bytes = self->bytes_done;
  gdouble elapsed = (g_get_monotonic_time () - self->started) / (gdouble) G_USEC_PER_SEC;

  /* Messages still arriving count with what has been written so far. */
  if (self->items != NULL)
    for (guint i = 0; i < self->items->len; i++)
      {
        FetchItem *item = g_ptr_array_index (self->items, i);

        if (!item->finished && item->message != NULL)
          bytes += MIN (pb_delivery_message_get_size (item->message), item->list_size);
      }
  bytes = MIN (bytes, self->bytes_total);

  g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, self->done, self->total,
                 bytes, self->bytes_total, elapsed > 0.0 ? bytes / elapsed : 0.0);
}

static gboolean
on_progress_tick (gpointer user_data)
{
  emit_progress (PB_FETCH (user_data));
  return G_SOURCE_CONTINUE;
}

static PbFetchResult *
add_result (PbFetch    *self,
            const char *uidl)
{
  PbFetchResult *result = g_new0 (PbFetchResult, 1);

  result->uidl = g_strdup (uidl);
  g_ptr_array_add (self->results, result);
  return result;
}

/* A selected message that will not be fetched (not on the server, too
 * large): it has its result before the downloads start. */
static void
result_failed_early (PbFetch    *self,
                     const char *uidl,
                     GError     *error)
{
  PbFetchResult *result = add_result (self, uidl);

  result->error = error;
  self->done++;
  g_signal_emit (self, signals[SIGNAL_MESSAGE_DONE], 0, uidl, NULL, error);
}

static gboolean
error_is_cancel (const GError *error)
{
  return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
item_fail (FetchItem    *item,
           const GError *error)
{
  PbFetch *self = item->fetch;
  g_autoptr(GError) cancelled = NULL;

  g_assert (!item->finished);
  /* A RETR under way when the person cancelled fails with GIO's bare
   * "Operation was cancelled"; it reads like the ones never sent. */
  if (error_is_cancel (error))
    {
      cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                       _("Not downloaded: the download was cancelled."));
      error = cancelled;
    }
  g_clear_pointer (&item->message, pb_delivery_message_free);
  item->finished = TRUE;
  item->result->error = g_error_copy (error);
  self->done++;
  self->bytes_done += item->list_size;
  g_signal_emit (self, signals[SIGNAL_MESSAGE_DONE], 0, item->uidl, NULL, error);
  emit_progress (self);
}

static void
item_downloaded (FetchItem *item)
{
  PbFetch *self = item->fetch;
  PbMessageRecord *record;
  const char *path = pb_delivery_message_get_path (item->message);

  record = pb_state_ensure (self->state, item->uidl);
  record->flags |= PB_MESSAGE_DOWNLOADED;
  pb_state_set_path (self->state, record, path);
  if (item->list_size > 0)
    record->size = item->list_size;
  self->marked = TRUE;

  item->finished = TRUE;
  item->downloaded = TRUE;
  item->result->path = g_strdup (path);
  item->result->size = pb_delivery_message_get_size (item->message);
  g_clear_pointer (&item->message, pb_delivery_message_free);
  self->done++;
  self->bytes_done += item->list_size;
  g_signal_emit (self, signals[SIGNAL_MESSAGE_DONE], 0, item->uidl, item->result->path, NULL);
}

static gboolean
error_is_disk (const GError *error)
{
  return g_str_equal (pb_error_kind (error), "disk");
}

/* After these the session is gone; after a -ERR it goes on. */
static gboolean
error_loses_connection (const GError *error)
{
  if (error->domain == PB_POP3_ERROR)
    {
      switch ((PbPop3Error) error->code)
        {
        case PB_POP3_ERROR_SERVER:
        case PB_POP3_ERROR_SYS_TEMP:
        case PB_POP3_ERROR_SYS_PERM:
        case PB_POP3_ERROR_UNSUPPORTED:
          return FALSE;
        default:
          return TRUE;
        }
    }
  return !error_is_disk (error);
}

/* The words of a -ERR to RETR, as the POP3 layer quotes them in its
 * "refused the command (server said: …)" message; NULL for any other
 * error. The format is the POP3 layer's own translatable string, so the
 * words are found in every language. */
static char *
retr_refusal_server_words (const GError *error)
{
  g_autofree char *format = NULL;
  const char *marker;
  gsize prefix_len, suffix_len, len;

  if (!g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_SERVER))
    return NULL;
  format = g_strdup_printf (_("The server refused the %s command (server said: %s)"),
                            "RETR", "\x1f");
  marker = strchr (format, '\x1f');
  if (marker == NULL)
    return NULL;
  prefix_len = marker - format;
  suffix_len = strlen (marker + 1);
  len = strlen (error->message);
  if (len < prefix_len + suffix_len ||
      strncmp (error->message, format, prefix_len) != 0 ||
      strcmp (error->message + len - suffix_len, marker + 1) != 0)
    return NULL;
  return g_strndup (error->message + prefix_len, len - prefix_len - suffix_len);
}

/* Another client (a phone, a webmail, a second Popbiff) deleted the message
 * after this session listed it. POP3 has no response code for that, so
 * the server's words tell: Dovecot says "Message N expunged.", RFC 1939's
 * examples "no such message", others "deleted". A message that was never
 * sent cannot have been saved, so the person is told that in plain words,
 * with the server's own words kept at the end. */
static GError *
expunged_error_new (const GError *error)
{
  g_autofree char *said = retr_refusal_server_words (error);
  g_autofree char *folded = NULL;

  if (said == NULL)
    return NULL;
  folded = g_utf8_strdown (said, -1);
  if (strstr (folded, "expunged") == NULL && strstr (folded, "no such message") == NULL &&
      strstr (folded, "deleted") == NULL)
    return NULL;
  return g_error_new (error->domain, error->code,
                      _("Not downloaded: another mail program deleted this message from "
                        "the server while Popbiff was downloading, so nothing was saved "
                        "for it (server said: %s)"), said);
}

static void
set_fatal (PbFetch      *self,
           const GError *error)
{
  if (self->fatal == NULL)
    self->fatal = g_error_copy (error);
}

static gboolean
stopping (PbFetch *self)
{
  return self->fatal != NULL || g_cancellable_is_cancelled (self->cancellable);
}

/* ------------------------------------------------------------------ */
/* The end of a run                                                    */

static void
complete (PbFetch *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->task);
  g_autoptr(GError) error = NULL;

  if (g_cancellable_is_cancelled (self->cancellable))
    error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("The download was cancelled."));
  else if (self->fatal != NULL)
    error = g_error_copy (self->fatal);

  /* Stopped before the server listed anything: UIDLs named explicitly
   * still get their result (JSON callers match them up). */
  if (!self->planned && error != NULL && self->selection == PB_FETCH_SELECT_UIDLS)
    for (guint i = 0; self->uidls[i] != NULL; i++)
      add_result (self, self->uidls[i])->error = g_error_copy (error);

  emit_progress (self);
  clear_run (self);

  if (error != NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
fail_unreached (PbFetch *self)
{
  g_autoptr(GError) cancelled = NULL;
  const GError *why = self->fatal;

  if (why == NULL)
    {
      cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                       _("Not downloaded: the download was cancelled."));
      why = cancelled;
    }
  for (guint i = 0; self->items != NULL && i < self->items->len; i++)
    {
      FetchItem *item = g_ptr_array_index (self->items, i);

      if (!item->finished)
        item_fail (item, why);
    }
}

/* RFC 1939 section 6: deletions take effect only on +OK to QUIT. Without
 * it the files are safe and recorded, but the messages may still be on the
 * server; the person asked for them to be gone, so say so. */
static void
mark_not_deleted (PbFetch      *self,
                  const GError *why)
{
  for (guint i = 0; self->deleting != NULL && i < self->deles_sent; i++)
    {
      FetchItem *item = g_ptr_array_index (self->deleting, i);

      if (item->result->error == NULL)
        item->result->error =
          g_error_new (why->domain, why->code,
                       _("Downloaded to “%s”, but the server may not have "
                         "deleted it: %s"),
                       item->result->path, why->message);
    }
}

/* Deleting was asked, but the run stopped (the connection lost, the disk
 * full, cancelled) before any DELE: what was downloaded is safe and
 * recorded, and still on the server. Not "done as asked": say so, as for a
 * refused DELE. */
static void
mark_kept_on_server (PbFetch *self)
{
  g_autoptr(GError) cancelled = NULL;
  const GError *why = self->fatal;

  /* A cancel that stopped a RETR under way is the fatal error, in GIO's
   * words: say it in ours. */
  if (why == NULL || error_is_cancel (why))
    {
      cancelled = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                       _("the download was cancelled"));
      why = cancelled;
    }
  for (guint i = 0; self->items != NULL && i < self->items->len; i++)
    {
      FetchItem *item = g_ptr_array_index (self->items, i);

      if (item->downloaded && item->result->error == NULL)
        item->result->error =
          g_error_new (why->domain, why->code,
                       _("Downloaded to “%s”, but not deleted from the server: %s"),
                       item->result->path, why->message);
    }
}

static void
on_quit (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  PbFetch *self = user_data;
  g_autoptr(GError) error = NULL;

  if (!pb_pop3_client_quit_finish (PB_POP3_CLIENT (source), result, &error))
    mark_not_deleted (self, error);
  complete (self);
}

static void
send_quit (PbFetch *self)
{
  kill_at_check (&self->kill_at, "before-quit", 0);

  if (self->client == NULL || self->fatal != NULL)
    {
      if (self->fatal != NULL)
        mark_not_deleted (self, self->fatal);
      complete (self);
      return;
    }
  /* QUIT is not cancellable: a session with DELEs must be ended, never
   * dropped half way by a late cancel. Without DELEs it is still the
   * polite end of a session. */
  pb_pop3_client_quit_async (self->client, NULL, on_quit, self);
}

static void send_deles (PbFetch *self);

static void
on_dele (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  FetchItem *item = user_data;
  PbFetch *self = item->fetch;
  g_autoptr(GError) error = NULL;

  self->deles_pending--;
  if (!pb_pop3_client_dele_finish (PB_POP3_CLIENT (source), result, &error))
    {
      item->result->error =
        g_error_new (error->domain, error->code,
                     _("Downloaded to “%s”, but the server did not delete it: %s"),
                     item->result->path, error->message);
      if (error_loses_connection (error))
        set_fatal (self, error);
    }
  kill_at_check (&self->kill_at, "after-dele", ++self->deles_answered);
  send_deles (self);
}

/* DELEs go out a window at a time, like the RETRs. */
static void
send_deles (PbFetch *self)
{
  while (self->fatal == NULL && self->deles_pending < RETR_WINDOW &&
         self->deles_sent < self->deleting->len)
    {
      FetchItem *item = g_ptr_array_index (self->deleting, self->deles_sent++);
      gpointer number = g_hash_table_lookup (self->numbers, item->uidl);

      self->deles_pending++;
      /* Not cancellable either: see send_quit. */
      pb_pop3_client_dele_async (self->client, GPOINTER_TO_UINT (number), NULL, on_dele, item);
    }
  if (self->deles_pending == 0)
    send_quit (self);
}

/* Messages downloaded before are safely on disk and recorded, but may still
 * be on the server: a run asked to delete stopped before it could (a
 * dropped connection, a full disk, a kill, a refused DELE or QUIT), or they
 * were fetched without deleting. Every later fetch skips them as
 * downloaded, so without this they would stay for ever. Deleting is what
 * was asked for all of them by the account's delete-after-download, or by
 * --delete for the new or all messages. Explicit UIDLs with a one-off --delete are about those
 * messages only. */
static FetchItem *add_item (PbFetch *self, const char *uidl, guint64 list_size);

static gboolean
deletes_leftovers (PbFetch *self)
{
  return self->selection != PB_FETCH_SELECT_UIDLS ||
         pb_account_get_delete_after_download (self->account);
}

static void
add_leftovers (PbFetch *self)
{
  g_autoptr(GHashTable) this_run = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) records = pb_state_list (self->state);

  for (guint i = 0; i < self->items->len; i++)
    g_hash_table_add (this_run, ((FetchItem *) g_ptr_array_index (self->items, i))->uidl);

  for (guint i = 0; i < records->len; i++)
    {
      PbMessageRecord *record = g_ptr_array_index (records, i);
      FetchItem *item;

      if ((record->flags & PB_MESSAGE_DOWNLOADED) == 0 ||
          !g_hash_table_contains (self->numbers, record->uidl) ||
          g_hash_table_contains (this_run, record->uidl))
        continue;
      item = add_item (self, record->uidl, record->size);
      item->downloaded = TRUE;
      item->finished = TRUE;
      item->result->path = g_strdup (record->path);
      item->result->earlier = TRUE;
      g_ptr_array_add (self->deleting, item);
    }
}

static void
delete_downloaded (PbFetch *self)
{
  self->deleting = g_ptr_array_new ();
  for (guint i = 0; i < self->items->len; i++)
    {
      FetchItem *item = g_ptr_array_index (self->items, i);

      if (item->downloaded && g_hash_table_contains (self->numbers, item->uidl))
        g_ptr_array_add (self->deleting, item);
    }
  if (deletes_leftovers (self))
    add_leftovers (self);
  send_deles (self);
}

/* Everything received is committed (or failed): save the state, then
 * delete if asked, then QUIT. */
static void
downloads_done (PbFetch *self)
{
  g_autoptr(GError) error = NULL;

  fail_unreached (self);

  if (self->marked)
    {
      if (!pb_state_save (self->state, &error))
        {
          g_prefix_error (&error, _("The messages are saved, but the list of "
                                    "downloaded messages could not be: "));
          set_fatal (self, error);
        }
      else
        {
          kill_at_check (&self->kill_at, "after-state-save", ++self->state_saves);
          /* Everything in the journal is in the saved state now. */
          pb_fetch_journal_clear (self->journal);
        }
    }

  if (pb_fetch_get_delete (self) && !stopping (self) && self->client != NULL)
    delete_downloaded (self);
  else
    {
      if (pb_fetch_get_delete (self))
        mark_kept_on_server (self);
      send_quit (self);
    }
}

/* ------------------------------------------------------------------ */
/* Committing batches (worker thread)                                  */

typedef struct {
  PbFetch   *self;     /* unowned: the run keeps it alive */
  GPtrArray *items;    /* FetchItem*, unowned */
} CommitBatch;

static void
commit_batch_free (CommitBatch *batch)
{
  g_ptr_array_unref (batch->items);
  g_free (batch);
}

/* Queues a line per message still going; with @sync_now also writes and
 * fdatasyncs them, otherwise only writes them (a syncfs follows). */
static gboolean
journal_append (PbFetch    *self,
                GPtrArray  *items,
                gboolean    sync_now,
                GError    **error)
{
  for (guint i = 0; i < items->len; i++)
    {
      FetchItem *item = g_ptr_array_index (items, i);

      if (item->commit_error == NULL)
        pb_fetch_journal_add (self->journal, item->uidl,
                              pb_delivery_message_get_path (item->message),
                              pb_delivery_message_get_size (item->message));
    }
  return sync_now ? pb_fetch_journal_sync (self->journal, error)
                  : pb_fetch_journal_write (self->journal, error);
}

typedef struct {
  GPtrArray *items;
  guint      first;
  guint      step;
} FinishSlice;

static gpointer
finish_slice (gpointer data)
{
  FinishSlice *slice = data;

  for (guint i = slice->first; i < slice->items->len; i += slice->step)
    {
      FetchItem *item = g_ptr_array_index (slice->items, i);

      pb_delivery_message_finish (item->message, &item->commit_error);
    }
  return NULL;
}

/* fsync of a new file waits for a journal commit of the file system; the
 * file systems that journal (ext4, XFS, btrfs) fold concurrent fsyncs into
 * one commit, so a few threads make a batch several times faster than one
 * fsync after the other, with the same guarantee for each file. */
static void
finish_in_parallel (GPtrArray *items)
{
  FinishSlice slices[FINISH_THREADS];
  GThread *threads[FINISH_THREADS] = { NULL };
  guint n = MIN (FINISH_THREADS, items->len);

  for (guint t = 0; t < n; t++)
    {
      slices[t] = (FinishSlice) { items, t, n };
      if (t > 0)
        threads[t] = g_thread_new ("pb-fsync", finish_slice, &slices[t]);
    }
  if (n > 0)
    finish_slice (&slices[0]);
  for (guint t = 1; t < n; t++)
    g_thread_join (threads[t]);
}

static void
fail_remaining (GPtrArray    *items,
                const GError *error)
{
  for (guint i = 0; i < items->len; i++)
    {
      FetchItem *item = g_ptr_array_index (items, i);

      if (item->commit_error == NULL)
        item->commit_error = g_error_copy (error);
    }
}

/* Step 1 and 2 with one syncfs: every file was closed unsynced when it
 * was received (on_retr), the journal lines are written, then one syncfs
 * makes all of it durable before step 3 renames anything (that order is
 * the whole protocol). syncfs returns once every dirty file of the file
 * system (so every one of ours and the journal, data and inode, and the
 * new names in tmp/) is written and the device's cache flushed, and since
 * Linux 5.8 it fails if any writeback failed, which PbDelivery makes
 * sticky: a batch is never called durable after an error it might have
 * had. The journal gets its own fdatasync when it lives on another file
 * system. */
static gboolean
sync_file_system (PbFetch    *self,
                  GPtrArray  *items,
                  GError    **error)
{
  if (!journal_append (self, items, FALSE, error))
    return FALSE;
  if (!pb_delivery_sync_file_system (self->delivery, error))
    return FALSE;
  return self->journal_on_folder_fs || pb_fetch_journal_sync (self->journal, error);
}

static gboolean
any_going (GPtrArray *items)
{
  for (guint i = 0; i < items->len; i++)
    if (((FetchItem *) g_ptr_array_index (items, i))->commit_error == NULL)
      return TRUE;
  return FALSE;
}

static void
commit_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  CommitBatch *batch = task_data;
  PbFetch *self = batch->self;
  g_autoptr(GError) error = NULL;
  gboolean sync_fs = self->sync_fs;
  gboolean any = FALSE;

  if (sync_fs)
    {
      /* 1 and 2 at once: see sync_file_system. */
      if (!sync_file_system (self, batch->items, &error))
        {
          fail_remaining (batch->items, error);
          g_task_return_boolean (task, TRUE);
          return;
        }
    }
  else
    {
      /* 1. Content durable, final names fixed; fsyncs side by side. */
      finish_in_parallel (batch->items);
      /* 2. The journal knows the names before they exist. */
      if (any_going (batch->items) && !journal_append (self, batch->items, TRUE, &error))
        fail_remaining (batch->items, error);
    }
  if (!any_going (batch->items))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  kill_at_check (&self->kill_at, "after-journal", ++self->batches);

  /* 3. Into place. */
  any = FALSE;
  for (guint i = 0; i < batch->items->len; i++)
    {
      FetchItem *item = g_ptr_array_index (batch->items, i);

      if (item->commit_error != NULL)
        continue;
      if (pb_delivery_message_commit (item->message, &item->commit_error))
        {
          any = TRUE;
          kill_at_check (&self->kill_at, "after-rename", ++self->renames);
        }
    }

  /* 4. The renames durable: a syncfs covers both directories a Maildir
   * rename touches, an fsync the one that got the names. If this fails,
   * the files are in place and in the journal: the next run records them;
   * this one does not. */
  if (any && !(sync_fs ? pb_delivery_sync_file_system (self->delivery, &error)
                       : pb_delivery_sync (self->delivery, &error)))
    fail_remaining (batch->items, error);
  kill_at_check (&self->kill_at, "after-sync", self->batches);
  g_task_return_boolean (task, TRUE);
}

static void advance (PbFetch *self);

static void
on_committed (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  PbFetch *self = PB_FETCH (source);
  CommitBatch *batch = g_task_get_task_data (G_TASK (result));

  self->committing = FALSE;
  self->committing_count = 0;
  for (guint i = 0; i < batch->items->len; i++)
    {
      FetchItem *item = g_ptr_array_index (batch->items, i);

      if (item->commit_error != NULL)
        {
          set_fatal (self, item->commit_error);
          item_fail (item, item->commit_error);
        }
      else
        item_downloaded (item);
    }
  emit_progress (self);
  advance (self);
}

static guint
batch_messages (PbFetch *self)
{
  return self->sync_fs ? BATCH_MESSAGES_SYNC_FS : BATCH_MESSAGES;
}

static void
maybe_commit (PbFetch  *self,
              gboolean  force)
{
  g_autoptr(GTask) task = NULL;
  CommitBatch *batch;

  if (self->committing || self->pending->len == 0)
    return;
  if (!force &&
      self->pending->len < batch_messages (self) &&
      self->pending_bytes < BATCH_BYTES &&
      g_get_monotonic_time () - self->pending_since < BATCH_MAX_AGE_US)
    return;

  batch = g_new0 (CommitBatch, 1);
  batch->self = self;
  batch->items = g_steal_pointer (&self->pending);
  self->pending = g_ptr_array_new ();
  self->pending_bytes = 0;
  self->committing = TRUE;
  self->committing_count = batch->items->len;

  /* Not cancellable: a batch, once started, is finished and recorded. */
  task = g_task_new (self, NULL, on_committed, NULL);
  g_task_set_source_tag (task, maybe_commit);
  g_task_set_task_data (task, batch, (GDestroyNotify) commit_batch_free);
  g_task_run_in_thread (task, commit_thread);
}

/* ------------------------------------------------------------------ */
/* Downloading                                                         */

static void start_session (PbFetch *self);

static void
on_retr (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  FetchItem *item = user_data;
  PbFetch *self = item->fetch;
  g_autoptr(GError) error = NULL;
  guint64 written = 0;

  self->in_flight--;

  /* A run that syncs the file system closes the file now: the syncfs
   * needs no descriptor, and a batch waiting to commit holds none. */
  if (pb_pop3_client_retr_finish (PB_POP3_CLIENT (source), result, &written, &error) &&
      !(self->sync_fs ? pb_delivery_message_close (item->message, &error)
                      : g_output_stream_flush (pb_delivery_message_get_stream (item->message),
                                               NULL, &error)))
    {
      /* Received whole, but the last bytes did not reach the disk. */
      set_fatal (self, error);
      item_fail (item, error);
    }
  else if (error == NULL)
    {
      if (self->pending->len == 0)
        self->pending_since = g_get_monotonic_time ();
      g_ptr_array_add (self->pending, item);
      self->pending_bytes += written;
    }
  else if (g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_TOO_LARGE))
    {
      /* The LIST size said it fits; the server sent more. The client closed
       * the connection: skip this one, reconnect for the rest. */
      item_fail (item, error);
      if (self->reconnects < MAX_RECONNECTS)
        self->reconnect_needed = TRUE;
      else
        set_fatal (self, error);
    }
  else if (self->reconnect_needed && error_loses_connection (error) &&
           !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      /* Queued behind the oversized one: not its fault, try again. */
      g_clear_pointer (&item->message, pb_delivery_message_free);
      g_queue_push_tail (&self->retry, item);
    }
  else
    {
      g_autoptr(GError) expunged = expunged_error_new (error);

      if (error_is_disk (error) || error_loses_connection (error))
        set_fatal (self, error);
      item_fail (item, expunged != NULL ? expunged : error);
    }

  advance (self);
}

static void
issue_retrs (PbFetch *self)
{
  while (self->in_flight < RETR_WINDOW &&
         self->in_flight + self->pending->len + self->committing_count <
           MAX_UNCOMMITTED_BATCHES * batch_messages (self) &&
         !g_queue_is_empty (&self->todo))
    {
      FetchItem *item = g_queue_pop_head (&self->todo);
      g_autoptr(GError) error = NULL;
      gpointer number;

      if (!g_hash_table_lookup_extended (self->numbers, item->uidl, NULL, &number))
        {
          error = g_error_new (PB_CORE_ERROR, PB_CORE_ERROR_NOT_FOUND,
                               _("The message is no longer on the server."));
          item_fail (item, error);
          continue;
        }

      item->message = pb_delivery_begin (self->delivery, &error);
      if (item->message == NULL)
        {
          set_fatal (self, error);
          item_fail (item, error);
          return;
        }

      self->in_flight++;
      pb_pop3_client_retr_async (self->client, GPOINTER_TO_UINT (number),
                                 pb_delivery_message_get_stream (item->message),
                                 self->cancellable, on_retr, item);
    }
}

/* The scheduler: called whenever something finished. */
static void
advance (PbFetch *self)
{
  gboolean more_to_send;

  if (!stopping (self) && !self->reconnect_needed)
    issue_retrs (self);

  more_to_send = !stopping (self) && !self->reconnect_needed && !g_queue_is_empty (&self->todo);
  maybe_commit (self, self->in_flight == 0 || !more_to_send);

  if (self->in_flight > 0 || self->committing || self->pending->len > 0)
    return;

  if (self->reconnect_needed && !stopping (self))
    {
      /* Retry the ones that were queued behind the oversized message first. */
      while (!g_queue_is_empty (&self->retry))
        g_queue_push_head (&self->todo, g_queue_pop_tail (&self->retry));
      self->reconnect_needed = FALSE;
      self->reconnects++;
      pb_pop3_client_close (self->client);
      g_clear_object (&self->client);
      start_session (self);
      return;
    }
  if (!g_queue_is_empty (&self->todo) && !stopping (self))
    return;

  /* Retries that were never sent fail with what stopped the run. */
  g_queue_clear (&self->retry);
  downloads_done (self);
}

/* ------------------------------------------------------------------ */
/* Choosing the messages                                               */

static FetchItem *
add_item (PbFetch    *self,
          const char *uidl,
          guint64     list_size)
{
  FetchItem *item = g_new0 (FetchItem, 1);

  item->fetch = self;
  item->uidl = g_strdup (uidl);
  item->list_size = list_size;
  item->result = add_result (self, uidl);
  g_ptr_array_add (self->items, item);
  return item;
}

static gboolean
is_selected (PbFetch    *self,
             const char *uidl)
{
  PbMessageRecord *record = pb_state_lookup (self->state, uidl);

  if (record == NULL)
    return TRUE;
  if (self->selection == PB_FETCH_SELECT_ALL)
    return (record->flags & PB_MESSAGE_DOWNLOADED) == 0;
  return pb_message_record_is_new (record);
}

static void
consider (PbFetch    *self,
          const char *uidl,
          guint64     size)
{
  if (size > self->max_size)
    {
      g_autofree char *have = g_format_size (size);
      g_autofree char *limit = g_format_size (self->max_size);

      result_failed_early (self, uidl,
                           g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_TOO_LARGE,
                                        _("Skipped: the message is %s, over the "
                                          "limit of %s."),
                                        have, limit));
      return;
    }
  g_queue_push_tail (&self->todo, add_item (self, uidl, size));
  self->bytes_total += size;
}

/* One syncfs per batch instead of an fsync per file (see pb-delivery.h)
 * when the delivery allows it and the run is large enough for it to pay. */
static gboolean
syncs_file_system (PbFetch *self,
                   guint    messages)
{
  if (!pb_delivery_can_sync_file_system (self->delivery) ||
      self->sync_mode == SYNC_MODE_FSYNC)
    return FALSE;
  return self->sync_mode == SYNC_MODE_SYNCFS || messages >= SYNC_FS_MIN_MESSAGES;
}

static void
plan (PbFetch   *self,
      GPtrArray *uidl_listing,
      GPtrArray *list_listing)
{
  /* number -> PbPop3Listing of LIST (owned by list_listing) */
  g_autoptr(GHashTable) sizes = g_hash_table_new (NULL, NULL);
  g_autoptr(GHashTable) by_uidl = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; list_listing != NULL && i < list_listing->len; i++)
    {
      PbPop3Listing *listing = g_ptr_array_index (list_listing, i);

      g_hash_table_insert (sizes, GUINT_TO_POINTER (listing->number), listing);
    }

  /* A UIDL listed twice is the first message's (listing_ready()). */
  for (guint i = 0; i < uidl_listing->len; i++)
    {
      PbPop3Listing *listing = g_ptr_array_index (uidl_listing, i);

      if (!g_hash_table_contains (by_uidl, listing->uidl))
        g_hash_table_insert (by_uidl, listing->uidl, listing);
    }

  if (self->selection == PB_FETCH_SELECT_UIDLS)
    {
      g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);

      for (guint i = 0; self->uidls[i] != NULL; i++)
        {
          const char *uidl = self->uidls[i];
          PbPop3Listing *listing;
          PbPop3Listing *sized;

          if (!g_hash_table_add (seen, (gpointer) uidl))
            continue;
          listing = g_hash_table_lookup (by_uidl, uidl);
          if (listing == NULL)
            {
              result_failed_early (self, uidl,
                                   g_error_new (PB_CORE_ERROR, PB_CORE_ERROR_NOT_FOUND,
                                                _("No message with UIDL “%s” is on the "
                                                  "server (it may have been deleted)."),
                                                uidl));
              continue;
            }
          sized = g_hash_table_lookup (sizes, GUINT_TO_POINTER (listing->number));
          consider (self, uidl, sized != NULL ? sized->size : 0);
        }
    }
  else
    {
      for (guint i = 0; i < uidl_listing->len; i++)
        {
          PbPop3Listing *listing = g_ptr_array_index (uidl_listing, i);
          PbPop3Listing *sized;

          if (g_hash_table_lookup (by_uidl, listing->uidl) != listing ||
              !is_selected (self, listing->uidl))
            continue;
          sized = g_hash_table_lookup (sizes, GUINT_TO_POINTER (listing->number));
          consider (self, listing->uidl, sized != NULL ? sized->size : 0);
        }
    }

  self->total = self->results->len;
  self->planned = TRUE;
  self->sync_fs = syncs_file_system (self, g_queue_get_length (&self->todo));
}

/* ------------------------------------------------------------------ */
/* The session                                                         */

typedef struct {
  PbFetch    *self;
  GPtrArray  *uidl;
  GPtrArray  *list;
  GError     *error;
  guint       waiting;
  gboolean    no_uidl;     /* the server has no UIDL: see name_by_headers */
  gboolean    no_top;
  PbSummary **summaries;   /* no UIDL: one per LIST entry, NULL until TOP */
  gboolean   *refused;     /* no UIDL: the server refused that TOP */
} Listing;

typedef struct {
  Listing *listing;
  guint    index;          /* in listing->list */
} NamingTop;

static void
listing_free (Listing *listing)
{
  if (listing->summaries != NULL)
    for (guint i = 0; i < listing->list->len; i++)
      pb_summary_free (listing->summaries[i]);
  g_free (listing->summaries);
  g_clear_pointer (&listing->uidl, g_ptr_array_unref);
  g_clear_pointer (&listing->list, g_ptr_array_unref);
  g_clear_error (&listing->error);
  g_free (listing->refused);
  g_free (listing);
}

static void
session_failed (PbFetch *self,
                GError  *error)
{
  set_fatal (self, error);
  g_error_free (error);

  /* Nothing received is lost: commit what is pending, record it. */
  if (self->planned)
    advance (self);
  else
    complete (self);
}

static void
listing_ready (PbFetch   *self,
               GPtrArray *uidl,
               GPtrArray *list)
{
  g_clear_pointer (&self->numbers, g_hash_table_unref);
  self->numbers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  /* A broken server may list one UIDL twice. The first message is the one
   * of that UIDL, as in a check (pb_state_apply_listing()), so that what
   * the check summarized is what is downloaded and deleted; the other is
   * left alone. */
  for (guint i = 0; i < uidl->len; i++)
    {
      PbPop3Listing *entry = g_ptr_array_index (uidl, i);

      if (!g_hash_table_contains (self->numbers, entry->uidl))
        g_hash_table_insert (self->numbers, g_strdup (entry->uidl), GUINT_TO_POINTER (entry->number));
    }

  if (!self->planned)
    {
      plan (self, uidl, list);
      self->started = g_get_monotonic_time ();
      emit_progress (self);
      self->progress_source = g_timeout_source_new (PROGRESS_INTERVAL_MS);
      g_source_set_callback (self->progress_source, on_progress_tick, self, NULL);
      g_source_attach (self->progress_source, g_main_context_get_thread_default ());
    }
  advance (self);
}

/* No UIDL: every listed message's headers have come (or been refused).
 * The identities are the ones a check gives the same mailbox
 * (pb_summary_fallback_identities), so state and fetch agree. A message
 * whose headers the server refused is not fetched: its identity would be
 * one of empty headers now and a different one once the server sends
 * them, and it would be fetched a second time then. */
static void
named_by_headers (Listing *listing)
{
  PbFetch *self = listing->self;
  g_autoptr(GPtrArray) identities = NULL;
  g_autoptr(GPtrArray) uidl = NULL;
  g_autofree guint64 *sizes = NULL;
  GPtrArray *list = listing->list;

  if (listing->error == NULL && listing->no_top)
    listing->error = pb_check_error_no_identity ();
  if (listing->error != NULL)
    {
      session_failed (self, g_steal_pointer (&listing->error));
      listing_free (listing);
      return;
    }

  sizes = g_new0 (guint64, list->len);
  for (guint i = 0; i < list->len; i++)
    sizes[i] = ((PbPop3Listing *) g_ptr_array_index (list, i))->size;
  identities = pb_summary_fallback_identities (listing->summaries, sizes, list->len);

  uidl = g_ptr_array_new_with_free_func ((GDestroyNotify) pb_pop3_listing_free);
  for (guint i = 0; i < list->len; i++)
    {
      PbPop3Listing *entry;

      if (listing->refused[i])
        {
          if (!self->planned && self->selection != PB_FETCH_SELECT_UIDLS)
            result_failed_early (self, g_ptr_array_index (identities, i),
                                 g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_SERVER,
                                              _("Not downloaded: the server did not send "
                                                "the headers of message %u, which tell it "
                                                "apart on a server without UIDL. Try "
                                                "again later."),
                                              ((PbPop3Listing *) g_ptr_array_index (list, i))->number));
          continue;
        }
      entry = g_new0 (PbPop3Listing, 1);
      entry->number = ((PbPop3Listing *) g_ptr_array_index (list, i))->number;
      entry->uidl = g_strdup (g_ptr_array_index (identities, i));
      g_ptr_array_add (uidl, entry);
    }
  listing_ready (self, uidl, list);
  listing_free (listing);
}

static void
on_naming_top (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  NamingTop *top = user_data;
  Listing *listing = top->listing;
  GError *error = NULL;
  g_autoptr(GBytes) headers = pb_pop3_client_top_finish (PB_POP3_CLIENT (source), result, &error);

  if (headers != NULL)
    listing->summaries[top->index] = pb_summary_parse (headers);
  else if (g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED))
    listing->no_top = TRUE;
  else if (g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_SERVER) ||
           g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_SYS_TEMP))
    listing->refused[top->index] = TRUE;
  else if (listing->error == NULL)
    listing->error = g_steal_pointer (&error);
  g_clear_error (&error);
  g_free (top);

  if (--listing->waiting == 0)
    named_by_headers (listing);
}

/* Issue 3: a server without UIDL gets an identity per message from its
 * TOP n 0 headers, as a check does. Every message's headers, back to
 * back: there is no other way to tell which ones were fetched before. */
static void
name_by_headers (Listing *listing)
{
  PbFetch *self = listing->self;
  GPtrArray *list = listing->list;

  listing->summaries = g_new0 (PbSummary *, list->len);
  listing->refused = g_new0 (gboolean, list->len);
  if (list->len == 0)
    {
      named_by_headers (listing);
      return;
    }
  listing->waiting = list->len;
  for (guint i = 0; i < list->len; i++)
    {
      NamingTop *top = g_new0 (NamingTop, 1);

      top->listing = listing;
      top->index = i;
      pb_pop3_client_top_async (self->client, ((PbPop3Listing *) g_ptr_array_index (list, i))->number,
                                0, self->cancellable, on_naming_top, top);
    }
}

static void
listing_done (Listing *listing)
{
  PbFetch *self = listing->self;

  if (listing->error != NULL)
    {
      session_failed (self, g_steal_pointer (&listing->error));
      listing_free (listing);
      return;
    }
  if (listing->no_uidl && pb_state_has_uidls (self->state))
    {
      /* Names made from headers would match none of the records, and
       * every message would be downloaded again (and, with --delete, the
       * copies kept while the originals go). As a check does. */
      session_failed (self, g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_SERVER,
                                         _("The server %s did not answer UIDL, but it did "
                                           "before, and Popbiff tells this mailbox's messages "
                                           "apart by it; nothing was downloaded. Try again "
                                           "later."),
                                         pb_account_get_host (self->account)));
      listing_free (listing);
      return;
    }
  /* A server that refused UIDL before and answers it now: the state still
   * names its messages by their headers until the next check carries them
   * over to their UIDLs, so the fetch names them so too, or it would take
   * every message for one it never downloaded. */
  if (listing->no_uidl || pb_state_named_by_headers (self->state, listing->uidl))
    {
      name_by_headers (listing);
      return;
    }
  listing_ready (self, listing->uidl, listing->list);
  listing_free (listing);
}

static void
on_uidl (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Listing *listing = user_data;
  GError *error = NULL;

  listing->uidl = pb_pop3_client_uidl_finish (PB_POP3_CLIENT (source), result, &error);
  if (g_error_matches (error, PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED))
    {
      listing->no_uidl = TRUE;
      g_clear_error (&error);
    }
  if (listing->uidl == NULL && listing->error == NULL)
    listing->error = error;
  else
    g_clear_error (&error);
  if (--listing->waiting == 0)
    listing_done (listing);
}

static void
on_list (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Listing *listing = user_data;
  GError *error = NULL;

  listing->list = pb_pop3_client_list_finish (PB_POP3_CLIENT (source), result, &error);
  if (listing->list == NULL && listing->error == NULL)
    listing->error = error;
  else
    g_clear_error (&error);
  if (--listing->waiting == 0)
    listing_done (listing);
}

static void
on_authenticated (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  PbFetch *self = user_data;
  GError *error = NULL;
  Listing *listing;

  if (!pb_pop3_client_authenticate_finish (PB_POP3_CLIENT (source), result, &error))
    {
      session_failed (self, error);
      return;
    }

  /* Message numbers only live for a session: UIDL for identity, LIST for
   * sizes (progress, the size cap), back to back. */
  listing = g_new0 (Listing, 1);
  listing->self = self;
  listing->waiting = 2;
  pb_pop3_client_uidl_async (self->client, self->cancellable, on_uidl, listing);
  pb_pop3_client_list_async (self->client, self->cancellable, on_list, listing);
}

static void
on_connected (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  PbFetch *self = user_data;
  GError *error = NULL;

  if (!pb_pop3_client_connect_finish (PB_POP3_CLIENT (source), result, &error))
    {
      session_failed (self, error);
      return;
    }
  pb_pop3_client_authenticate_async (self->client,
                                     pb_account_get_user (self->account),
                                     self->secret,
                                     pb_account_get_auth (self->account),
                                     self->cancellable, on_authenticated, self);
}

static void
start_session (PbFetch *self)
{
  self->client = pb_account_create_client (self->account);
  pb_pop3_client_set_max_message_size (self->client, self->max_size);
  pb_pop3_client_connect_async (self->client, self->cancellable, on_connected, self);
}

static void
on_password (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  PbFetch *self = user_data;
  GError *error = NULL;
  char *password = pb_secrets_lookup_finish (result, &error);

  if (password == NULL)
    {
      session_failed (self, error);
      return;
    }
  self->secret = g_strdup (password);
  pb_secrets_free (password);
  start_session (self);
}

/* ------------------------------------------------------------------ */
/* Starting                                                            */

static gboolean
take_lock (PbFetch  *self,
           GError  **error)
{
  g_autofree char *path = g_strconcat (pb_state_get_path (self->state), ".lock", NULL);
  g_autofree char *dir = g_path_get_dirname (path);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK,
                   _("Could not create the folder “%s”: %s."), dir, g_strerror (errsv));
      return FALSE;
    }
  self->lock_fd = open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (self->lock_fd < 0)
    {
      int errsv = errno;

      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK,
                   _("Could not open “%s”: %s."), path, g_strerror (errsv));
      return FALSE;
    }
  if (flock (self->lock_fd, LOCK_EX | LOCK_NB) != 0)
    {
      g_set_error (error, PB_POP3_ERROR, PB_POP3_ERROR_IN_USE,
                   _("Messages of account “%s” are already being downloaded "
                     "(by another Popbiff). Try again when that is done."),
                   pb_account_get_name (self->account));
      return FALSE;
    }
  return TRUE;
}

static gboolean
prepare (PbFetch  *self,
         GError  **error)
{
  struct stat folder_st;

  if (!take_lock (self, error))
    return FALSE;
  /* The state may have been loaded before another fetch finished and let
   * go of the lock: what it downloaded must count as downloaded here. */
  if (!pb_state_refresh (self->state, error))
    return FALSE;

  if (!pb_fetch_journal_recover (self->state, error))
    return FALSE;
  self->journal = pb_fetch_journal_open (self->state, error);
  if (self->journal == NULL)
    return FALSE;

  /* The folder is checked before connecting: a folder we cannot write
   * means nothing is fetched and nothing deleted. */
  self->delivery = pb_delivery_new (pb_fetch_get_folder (self), pb_fetch_get_format (self));
  if (!pb_delivery_open (self->delivery, error))
    return FALSE;
  self->journal_on_folder_fs =
    stat (pb_delivery_get_folder (self->delivery), &folder_st) == 0 &&
    pb_fetch_journal_is_on_device (self->journal, folder_st.st_dev);
  if (self->kill_at.point != NULL && g_str_equal (self->kill_at.point, "after-bytes"))
    pb_delivery_set_write_hook (self->delivery, kill_after_bytes_hook, &self->kill_at);

  return TRUE;
}

void
pb_fetch_run_async (PbFetch             *self,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GError *error = NULL;

  g_return_if_fail (PB_IS_FETCH (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, pb_fetch_run_async);
  /* complete() says what a cancel left behind in its own words; GTask
   * would put GIO's bare "Operation was cancelled" in their place. */
  g_task_set_check_cancellable (task, FALSE);

  if (self->task != NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               _("This download is already running."));
      return;
    }

  g_ptr_array_set_size (self->results, 0);
  self->task = g_object_ref (task);
  self->cancellable = cancellable != NULL ? g_object_ref (cancellable) : g_cancellable_new ();
  self->items = g_ptr_array_new_with_free_func ((GDestroyNotify) fetch_item_free);
  self->pending = g_ptr_array_new ();
  self->planned = FALSE;
  self->marked = FALSE;
  self->reconnect_needed = FALSE;
  self->reconnects = 0;
  self->in_flight = 0;
  self->done = self->total = 0;
  self->bytes_done = self->bytes_total = 0;
  self->deles_sent = self->deles_pending = self->deles_answered = 0;
  self->state_saves = self->batches = self->renames = 0;
  self->started = g_get_monotonic_time ();
  kill_at_parse (&self->kill_at);
  self->sync_mode = sync_mode_parse ();
  self->sync_fs = FALSE;

  if (!prepare (self, &error))
    {
      session_failed (self, error);
      return;
    }

  if (self->password != NULL)
    {
      self->secret = g_strdup (self->password);
      start_session (self);
    }
  else
    pb_secrets_lookup_async (self->account, self->cancellable, on_password, self);
}

gboolean
pb_fetch_run_finish (PbFetch       *self,
                     GAsyncResult  *result,
                     GError       **error)
{
  g_return_val_if_fail (PB_IS_FETCH (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == pb_fetch_run_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* pb-disk-watch.c: follows accounts.conf and the state files (see the
 * header). */
#include <string.h>
#include <glib/gstdio.h>

#include "pb-disk-watch.h"

#define STATE_SUFFIX ".state"

struct _PbDiskWatch
{
  GObject         parent_instance;

  PbAccountStore *store;           /* owned */
  PbScheduler    *scheduler;       /* owned */
  GFileMonitor   *accounts_monitor;
  GFileMonitor   *state_monitor;
  guint           accounts_timer;  /* pending reload of accounts.conf, 0 if none */
  guint           state_timer;     /* pending look at the state files, 0 if none */
  GHashTable     *changed_states;  /* account names whose state file changed */
  GHashTable     *after_check;     /* the same, seen while their check ran */
};

G_DEFINE_FINAL_TYPE (PbDiskWatch, pb_disk_watch, G_TYPE_OBJECT)

enum {
  SIGNAL_STATE_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* --- accounts.conf ------------------------------------------------------ */

static gboolean
reload_accounts (gpointer user_data)
{
  PbDiskWatch *self = user_data;
  g_autoptr(GError) error = NULL;

  self->accounts_timer = 0;
  /* Our own save leaves the bytes the store wrote: nothing to do. */
  if (!pb_account_store_changed_on_disk (self->store))
    return G_SOURCE_REMOVE;
  /* A few hundred bytes of key file. The store keeps the objects of the
   * accounts that stayed and signals what was added, removed, changed. */
  if (!pb_account_store_load (self->store, &error))
    g_warning ("%s", error->message);
  else
    {
      GPtrArray *errors = pb_account_store_get_load_errors (self->store);

      for (guint i = 0; i < errors->len; i++)
        g_warning ("%s", ((GError *) g_ptr_array_index (errors, i))->message);
    }
  return G_SOURCE_REMOVE;
}

static void
on_accounts_file_changed (GFileMonitor      *monitor,
                          GFile             *file,
                          GFile             *other_file,
                          GFileMonitorEvent  event,
                          PbDiskWatch       *self)
{
  if (event == G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED)
    return;
  /* Debounced: one reload after a burst of writes. */
  g_clear_handle_id (&self->accounts_timer, g_source_remove);
  self->accounts_timer = g_timeout_add (PB_DISK_WATCH_DELAY_MS, reload_accounts, self);
}

/* --- state files --------------------------------------------------------- */

static void
report_state (PbDiskWatch *self,
              const char  *name,
              PbState     *state)
{
  g_autofree char *kept = g_strdup (name);
  g_autoptr(GObject) keep = g_object_ref (G_OBJECT (self));

  g_signal_emit (self, signals[SIGNAL_STATE_CHANGED], 0, kept, state);
}

static gboolean
look_at_states (gpointer user_data)
{
  PbDiskWatch *self = user_data;
  g_autoptr(GHashTable) changed = g_steal_pointer (&self->changed_states);
  GHashTableIter iter;
  gpointer key;

  self->state_timer = 0;
  self->changed_states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_iter_init (&iter, changed);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      const char *name = key;
      g_autoptr(PbState) state = NULL;

      if (pb_scheduler_is_checking (self->scheduler, name))
        {
          /* That check's save merges the change in, and its result
           * may predate it: report the state it saved, once it ends. */
          g_hash_table_add (self->after_check, g_strdup (name));
          continue;
        }
      state = pb_scheduler_load_changed_state (self->scheduler, name);
      if (state != NULL)
        report_state (self, name, state);
    }
  return G_SOURCE_REMOVE;
}

/* The account whose state file @file is, or NULL (temporary files of a
 * save, locks, journals, other files). */
static char *
account_of_state_file (GFile *file)
{
  g_autofree char *base = file != NULL ? g_file_get_basename (file) : NULL;

  if (base == NULL || !g_str_has_suffix (base, STATE_SUFFIX) ||
      strlen (base) == strlen (STATE_SUFFIX))
    return NULL;
  return g_strndup (base, strlen (base) - strlen (STATE_SUFFIX));
}

static void
on_state_dir_changed (GFileMonitor      *monitor,
                      GFile             *file,
                      GFile             *other_file,
                      GFileMonitorEvent  event,
                      PbDiskWatch       *self)
{
  /* A save renames its temporary file over the old one: the name that
   * matters is the target's. */
  GFile *files[] = { file, other_file };
  gboolean any = FALSE;

  if (event == G_FILE_MONITOR_EVENT_ATTRIBUTE_CHANGED)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      char *name = account_of_state_file (files[i]);

      if (name == NULL)
        continue;
      /* Now, not after the delay: the check may end meanwhile, with a
       * list from before this change, and then the file is no news. */
      if (pb_scheduler_is_checking (self->scheduler, name))
        g_hash_table_add (self->after_check, name);
      else
        {
          g_hash_table_add (self->changed_states, name);
          any = TRUE;
        }
    }
  if (!any)
    return;
  g_clear_handle_id (&self->state_timer, g_source_remove);
  self->state_timer = g_timeout_add (PB_DISK_WATCH_DELAY_MS, look_at_states, self);
}

/* Whether the list @result gives is not what @state says now: another
 * process dismissed or downloaded some of it while the check ran. */
static gboolean
result_is_stale (PbCheckResult *result,
                 PbState       *state)
{
  GPtrArray *listed = pb_check_result_get_new_messages (result);

  if (!pb_check_result_get_ok (result) ||
      pb_check_result_get_new_count (result) != pb_state_count_new (state))
    return TRUE;
  for (guint i = 0; i < listed->len; i++)
    {
      PbMessageRecord *record = pb_state_lookup (state, ((PbMessageRecord *) g_ptr_array_index (listed, i))->uidl);

      if (record == NULL || !pb_message_record_is_new (record))
        return TRUE;
    }
  return FALSE;
}

static void
on_check_finished (PbScheduler   *scheduler,
                   PbAccount     *account,
                   PbCheckResult *result,
                   PbDiskWatch   *self)
{
  const char *name = pb_account_get_name (account);
  g_autoptr(PbState) state = NULL;

  if (!g_hash_table_remove (self->after_check, name))
    return;
  /* Connected after the others: the list shown is the result's by now,
   * and this is the state that check saved. */
  state = pb_scheduler_ref_state (scheduler, name);
  /* Unless that change was the check's own save. */
  if (state != NULL && result_is_stale (result, state))
    report_state (self, name, state);
}

static void
on_account_removed (PbAccountStore *store,
                    PbAccount      *account,
                    PbDiskWatch    *self)
{
  g_hash_table_remove (self->changed_states, pb_account_get_name (account));
  g_hash_table_remove (self->after_check, pb_account_get_name (account));
}

/* --- GObject --------------------------------------------------------------- */

static void
pb_disk_watch_dispose (GObject *object)
{
  PbDiskWatch *self = PB_DISK_WATCH (object);

  g_clear_handle_id (&self->accounts_timer, g_source_remove);
  g_clear_handle_id (&self->state_timer, g_source_remove);
  if (self->accounts_monitor != NULL)
    g_file_monitor_cancel (self->accounts_monitor);
  if (self->state_monitor != NULL)
    g_file_monitor_cancel (self->state_monitor);
  g_clear_object (&self->accounts_monitor);
  g_clear_object (&self->state_monitor);
  g_clear_object (&self->store);
  g_clear_object (&self->scheduler);

  G_OBJECT_CLASS (pb_disk_watch_parent_class)->dispose (object);
}

static void
pb_disk_watch_finalize (GObject *object)
{
  PbDiskWatch *self = PB_DISK_WATCH (object);

  g_hash_table_unref (self->changed_states);
  g_hash_table_unref (self->after_check);

  G_OBJECT_CLASS (pb_disk_watch_parent_class)->finalize (object);
}

static void
pb_disk_watch_class_init (PbDiskWatchClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pb_disk_watch_dispose;
  object_class->finalize = pb_disk_watch_finalize;

  signals[SIGNAL_STATE_CHANGED] =
    g_signal_new ("state-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, PB_TYPE_STATE);
}

static void
pb_disk_watch_init (PbDiskWatch *self)
{
  self->changed_states = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->after_check = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

static GFileMonitor *
monitor (GFile     *file,
         gboolean   directory,
         GCallback  callback,
         gpointer   user_data)
{
  g_autoptr(GFile) dir = directory ? g_object_ref (file) : g_file_get_parent (file);
  g_autofree char *dir_path = g_file_get_path (dir);
  g_autoptr(GError) error = NULL;
  GFileMonitor *file_monitor;

  /* Where nothing was written yet: watched from the start all the same. */
  g_mkdir_with_parents (dir_path, 0700);
  file_monitor = directory
    ? g_file_monitor_directory (file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error)
    : g_file_monitor_file (file, G_FILE_MONITOR_WATCH_MOVES, NULL, &error);
  if (file_monitor == NULL)
    {
      /* The applet still works; it just reads the files at start only. */
      g_warning ("Changes to “%s” made by other programs are not followed: %s",
                 dir_path, error->message);
      return NULL;
    }
  g_signal_connect (file_monitor, "changed", callback, user_data);
  return file_monitor;
}

PbDiskWatch *
pb_disk_watch_new (PbAccountStore *store,
                   PbScheduler    *scheduler)
{
  PbDiskWatch *self;
  g_autoptr(GFile) accounts_file = NULL;
  g_autoptr(GFile) state_dir = NULL;
  g_autofree char *state_path = NULL;

  g_return_val_if_fail (PB_IS_ACCOUNT_STORE (store), NULL);
  g_return_val_if_fail (PB_IS_SCHEDULER (scheduler), NULL);

  self = g_object_new (PB_TYPE_DISK_WATCH, NULL);
  self->store = g_object_ref (store);
  self->scheduler = g_object_ref (scheduler);

  accounts_file = g_file_new_for_path (pb_account_store_get_path (store));
  self->accounts_monitor = monitor (accounts_file, FALSE, G_CALLBACK (on_accounts_file_changed), self);
  state_path = g_build_filename (g_get_user_state_dir (), "popbiff", NULL);
  state_dir = g_file_new_for_path (state_path);
  self->state_monitor = monitor (state_dir, TRUE, G_CALLBACK (on_state_dir_changed), self);

  g_signal_connect_object (scheduler, "check-finished", G_CALLBACK (on_check_finished), self,
                           G_CONNECT_AFTER);
  g_signal_connect_object (store, "account-removed", G_CALLBACK (on_account_removed), self, 0);
  return self;
}

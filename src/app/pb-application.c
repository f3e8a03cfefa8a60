/* pb-application.c: the applet.
 *
 * A single instance per session: a second `popbiff` raises the window,
 * `popbiff --check-now` / `--download-new` (the desktop file's actions)
 * run the action in the instance already there. Popbiff is an applet: it
 * holds itself, so closing the window keeps it checking in the background;
 * Quit (menu, tray, Ctrl+Q) ends it. */
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>
#include <string.h>
#ifdef HAVE_MALLOC_TRIM
#include <malloc.h>
#endif
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "pb-account-info.h"
#include "pb-resources.h"
#include "pb-application.h"
#include "core/pb-check.h"
#include "core/pb-core-error.h"
#include "core/pb-demo-server.h"
#include "core/pb-disk-watch.h"
#include "core/pb-fetch.h"
#include "core/pb-scheduler.h"
#include "core/pb-secrets.h"
#include "pb-account-editor.h"
#include "pb-autostart.h"
#include "pb-certificate-dialog.h"
#include "pb-probe.h"
#include "pb-preferences.h"
#include "pb-tray.h"
#include "pb-window.h"

struct _PbApplication
{
  GtkApplication  parent_instance;

  GSettings      *settings;       /* owned */
  GListStore     *accounts;       /* owned (element-type PbAccountInfo) */
  PbTray         *tray;           /* owned */
  PbAccountStore *store;          /* owned */
  PbScheduler    *scheduler;      /* owned */
  PbDiskWatch    *disk_watch;     /* owned: what `popbiff accounts|dismiss|fetch` change */
  GHashTable     *error_notified; /* account name -> error kind announced */
  /* account name -> (uidl -> NULL): the notifications that may still be
   * up, one per message announced alone, "" for the summary of several */
  GHashTable     *announced;
  /* account name -> downloads running for it (GUINT): their own saves of
   * the state are not news, and it may lag what the list already shows */
  GHashTable     *downloading;
  GHashTable     *stale_after_download; /* account names (set) */
  gboolean        saving_errors;  /* error_notified is being written */
  gboolean        save_errors_again;
  PbDemoServer   *demo_server;    /* owned, --demo only */
  char           *demo_password;  /* --demo only: in memory, never stored */
  char           *demo_dir;       /* --demo only: everything it writes */
  guint           demo_timer;
  guint           trim_id;        /* idle: give freed memory back */
  gboolean        background;     /* --background: no window at start */
  gboolean        demo;           /* --demo */
  gboolean        held;
  char           *pending_action; /* an action asked for before startup */
};

G_DEFINE_FINAL_TYPE (PbApplication, pb_application, GTK_TYPE_APPLICATION)

void
pb_download_outcome_free (PbDownloadOutcome *outcome)
{
  if (outcome == NULL)
    return;
  g_free (outcome->uidl);
  g_free (outcome->path);
  g_clear_error (&outcome->error);
  g_free (outcome);
}

static PbWindow *
get_window (PbApplication *self)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (self));

  for (GList *l = windows; l != NULL; l = l->next)
    if (PB_IS_WINDOW (l->data))
      return l->data;
  return NULL;
}

static PbWindow *
ensure_window (PbApplication *self)
{
  PbWindow *window = get_window (self);

  if (window == NULL)
    {
      /* For the dialogs, which all come with the window. Not earlier: the
       * application icon is an SVG, and loading it would keep librsvg in
       * an applet that only ever showed its tray icon (--background). */
      gtk_window_set_default_icon_name (PB_APP_ID);
      window = pb_window_new (self);
    }
  return window;
}

static void
present_window (PbApplication *self)
{
  gtk_window_present (GTK_WINDOW (ensure_window (self)));
}

static void
update_tray (PbApplication *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->accounts));
  guint checking = 0, errors = 0;
  PbTrayState state;

  if (self->tray == NULL)
    return;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PbAccountInfo) info = g_list_model_get_item (G_LIST_MODEL (self->accounts), i);

      checking += pb_account_info_get_phase (info) == PB_ACCOUNT_PHASE_CHECKING;
      errors += pb_account_info_get_phase (info) == PB_ACCOUNT_PHASE_ERROR;
    }
  if (checking > 0)
    state = PB_TRAY_STATE_CHECKING;
  else if (errors > 0)
    state = PB_TRAY_STATE_ERROR;
  else if (pb_application_get_new_count (self) > 0)
    state = PB_TRAY_STATE_NEW_MAIL;
  else
    state = PB_TRAY_STATE_NO_MAIL;
  pb_tray_update (self->tray, state, pb_application_get_new_count (self), errors);
}

static void
tag_demo_accounts (PbApplication *self)
{
  GPtrArray *accounts = pb_account_store_get_accounts (self->store);

  for (guint i = 0; i < accounts->len; i++)
    g_object_set_data_full (g_ptr_array_index (accounts, i), "pb-demo-password",
                            g_strdup (self->demo_password), g_free);
}

/* --- accounts ---------------------------------------------------------- */

static PbMessageItem *
item_from_record (const char            *account_name,
                  const PbMessageRecord *record)
{
  return pb_message_item_new (account_name, record->uidl, record->from_name,
                              record->from_address, record->subject, record->date,
                              record->size);
}

/* The new messages a state knows, newest first, as a check lists them:
 * at start (from checks of earlier runs), the window shows them before
 * the first check ends; and after another program changed the state. */
static GPtrArray *
items_from_state (const char *account_name,
                  PbState    *state)
{
  g_autoptr(GPtrArray) records = pb_state_list (state);
  GPtrArray *items = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = records->len; i > 0; i--)
    {
      PbMessageRecord *record = g_ptr_array_index (records, i - 1);

      if (pb_message_record_is_new (record))
        g_ptr_array_add (items, item_from_record (account_name, record));
    }
  return items;
}

/* Once read (downloaded or dismissed, here or from the command line),
 * mail is no news: its notification goes, so that none offers to download
 * what is already on disk. The summary goes when nothing new is left. */
static void
withdraw_stale_notifications (PbApplication *self,
                              PbAccountInfo *info)
{
  const char *name = pb_account_info_get_name (info);
  GHashTable *uidls = g_hash_table_lookup (self->announced, name);
  GPtrArray *messages = pb_account_info_get_messages (info);
  g_autoptr(GHashTable) listed = NULL;
  GHashTableIter iter;
  gpointer uidl;

  if (uidls == NULL)
    return;
  if (messages->len == 0 && g_hash_table_remove (uidls, ""))
    {
      g_autofree char *id = g_strdup_printf ("new-mail-%s", name);

      g_application_withdraw_notification (G_APPLICATION (self), id);
    }
  listed = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_add (listed, "");
  for (guint i = 0; i < messages->len; i++)
    g_hash_table_add (listed, (gpointer) pb_message_item_get_uidl (g_ptr_array_index (messages, i)));
  g_hash_table_iter_init (&iter, uidls);
  while (g_hash_table_iter_next (&iter, &uidl, NULL))
    if (!g_hash_table_contains (listed, uidl))
      {
        g_autofree char *id = g_strdup_printf ("message-%s-%s", name, (const char *) uidl);

        g_application_withdraw_notification (G_APPLICATION (self), id);
        g_hash_table_iter_remove (&iter);
      }
  if (g_hash_table_size (uidls) == 0)
    g_hash_table_remove (self->announced, name);
}

static void
info_changed (PbAccountInfo *info,
              PbApplication *self)
{
  update_tray (self);
  withdraw_stale_notifications (self, info);
}

static PbAccountInfo *
info_new_for (PbApplication *self,
              PbAccount     *account)
{
  const char *name = pb_account_get_name (account);
  PbAccountInfo *info = pb_account_info_new (name);
  /* Loaded now, the first check (a moment later) uses this same object. */
  g_autoptr(PbState) state = pb_scheduler_ref_state (self->scheduler, name);

  pb_account_info_set_account (info, account);
  if (state != NULL && !pb_state_is_fresh (state))
    {
      g_autoptr(GPtrArray) items = items_from_state (name, state);

      pb_account_info_set_result (info, 0, pb_state_get_count (state), items);
    }
  g_signal_connect_object (info, "changed", G_CALLBACK (info_changed), self, 0);
  return info;
}

/* Makes the list of PbAccountInfo match the store: same accounts, same
 * order (by name), settings up to date; what a check found is kept. */
static void
resync_accounts (PbApplication *self)
{
  GPtrArray *accounts = pb_account_store_get_accounts (self->store);
  g_autoptr(GPtrArray) infos = g_ptr_array_new_with_free_func (g_object_unref);
  guint old_n = g_list_model_get_n_items (G_LIST_MODEL (self->accounts));
  gboolean same = old_n == accounts->len;

  if (self->demo)
    tag_demo_accounts (self);
  for (guint i = 0; i < accounts->len; i++)
    {
      PbAccount *account = g_ptr_array_index (accounts, i);
      PbAccountInfo *info = pb_application_lookup_info (self, pb_account_get_name (account));

      if (info != NULL)
        {
          pb_account_info_set_account (info, account);
          g_ptr_array_add (infos, g_object_ref (info));
        }
      else
        g_ptr_array_add (infos, info_new_for (self, account));
    }

  for (guint i = 0; same && i < infos->len; i++)
    {
      g_autoptr(PbAccountInfo) old = g_list_model_get_item (G_LIST_MODEL (self->accounts), i);

      same = old == g_ptr_array_index (infos, i);
    }
  if (!same)
    g_list_store_splice (self->accounts, 0, old_n, infos->pdata, infos->len);
  update_tray (self);
}

static void
send_notification (PbApplication *self,
                   const char    *id,
                   const char    *title,
                   const char    *body,
                   gboolean       offer_download)
{
  g_autoptr(GNotification) notification = g_notification_new (title);
  g_autoptr(GIcon) icon = g_themed_icon_new (PB_APP_ID);

  g_notification_set_body (notification, body);
  g_notification_set_icon (notification, icon);
  g_notification_set_default_action (notification, "app.activate");
  if (offer_download)
    g_notification_add_button (notification, _("Download"), "app.download-new");
  g_notification_add_button (notification, _("Open Popbiff"), "app.activate");
  g_application_send_notification (G_APPLICATION (self), id, notification);
}

static void
remember_announced (PbApplication *self,
                    const char    *name,
                    const char    *uidl)
{
  GHashTable *uidls = g_hash_table_lookup (self->announced, name);

  if (uidls == NULL)
    {
      uidls = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_hash_table_insert (self->announced, g_strdup (name), uidls);
    }
  g_hash_table_add (uidls, g_strdup (uidl));
}

static void
announce (PbApplication *self,
          PbCheckResult *result)
{
  const char *name = pb_check_result_get_account_name (result);
  GPtrArray *announced = pb_check_result_get_announced (result);

  if (announced->len == 0 || !g_settings_get_boolean (self->settings, "notifications"))
    return;

  if (pb_check_result_get_summary_only (result) || announced->len > 1)
    {
      g_autofree char *id = g_strdup_printf ("new-mail-%s", name);
      g_autofree char *title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                             "%u new message in %s",
                                                             "%u new messages in %s",
                                                             announced->len),
                                                announced->len, name);
      GString *body = g_string_new (NULL);

      /* The first few senders and subjects say more than a number. */
      for (guint i = 0; i < MIN (announced->len, 3); i++)
        {
          PbMessageRecord *record = g_ptr_array_index (announced, i);
          g_autoptr(PbMessageItem) item = item_from_record (name, record);

          g_string_append_printf (body, "%s%s: %s", i > 0 ? "\n" : "",
                                  pb_message_item_get_from_display (item),
                                  pb_message_item_get_subject (item));
        }
      send_notification (self, id, title, body->str, TRUE);
      remember_announced (self, name, "");
      g_string_free (body, TRUE);
      return;
    }

  for (guint i = 0; i < announced->len; i++)
    {
      PbMessageRecord *record = g_ptr_array_index (announced, i);
      g_autoptr(PbMessageItem) item = item_from_record (name, record);
      g_autofree char *id = g_strdup_printf ("message-%s-%s", name, record->uidl);

      send_notification (self, id, pb_message_item_get_from_display (item),
                         pb_message_item_get_subject (item), TRUE);
      remember_announced (self, name, record->uidl);
    }
}

/* --- errors announced, kept across restarts ----------------------------- */

/* An account that stays broken is announced once, not at every login:
 * what was announced is kept next to the accounts' states. */
static GFile *
notified_errors_file (void)
{
  g_autofree char *path = g_build_filename (g_get_user_state_dir (), "popbiff",
                                            "notified-errors", NULL);

  return g_file_new_for_path (path);
}

static void
load_notified_errors (PbApplication *self)
{
  g_autoptr(GFile) file = notified_errors_file ();
  g_autofree char *path = g_file_get_path (file);
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_auto(GStrv) names = NULL;

  /* Missing or unreadable: announce as if for the first time. */
  if (!g_key_file_load_from_file (keyfile, path, G_KEY_FILE_NONE, NULL))
    return;
  names = g_key_file_get_keys (keyfile, "announced", NULL, NULL);
  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      g_autofree char *kind = g_key_file_get_string (keyfile, "announced", names[i], NULL);

      if (kind != NULL)
        g_hash_table_replace (self->error_notified, g_strdup (names[i]), g_steal_pointer (&kind));
    }
}

static void save_notified_errors (PbApplication *self);

static void
on_notified_errors_saved (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(PbApplication) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    /* At worst an error is announced once more after a restart. */
    g_debug ("Could not keep the errors announced: %s", error->message);
  self->saving_errors = FALSE;
  if (self->save_errors_again)
    save_notified_errors (self);
}

/* One write at a time, so that an older one never lands last. */
static void
save_notified_errors (PbApplication *self)
{
  g_autoptr(GFile) file = notified_errors_file ();
  g_autoptr(GFile) dir = g_file_get_parent (file);
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GBytes) bytes = NULL;
  GHashTableIter iter;
  gpointer name, kind;
  char *data;
  gsize len;

  if (self->saving_errors)
    {
      self->save_errors_again = TRUE;
      return;
    }
  self->save_errors_again = FALSE;
  g_hash_table_iter_init (&iter, self->error_notified);
  while (g_hash_table_iter_next (&iter, &name, &kind))
    g_key_file_set_string (keyfile, "announced", name, kind);
  data = g_key_file_to_data (keyfile, &len, NULL);
  bytes = g_bytes_new_take (data, len);
  g_file_make_directory_with_parents (dir, NULL, NULL);
  self->saving_errors = TRUE;
  g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE, G_FILE_CREATE_PRIVATE,
                                       NULL, on_notified_errors_saved, g_object_ref (self));
}

/* An account error is announced once: again only after the account
 * recovered or the error became a different one, restarts or not. */
static void
announce_error (PbApplication *self,
                PbAccountInfo *info)
{
  const char *name = pb_account_info_get_name (info);
  const GError *error = pb_account_info_get_error (info);
  const char *kind = pb_error_kind (error);
  const char *before = g_hash_table_lookup (self->error_notified, name);
  PbAccount *account = pb_account_info_get_account (info);
  const char *body = error->message;
  g_autofree char *problem = NULL;
  g_autofree char *title = NULL;
  g_autofree char *id = NULL;

  if (g_strcmp0 (before, kind) == 0)
    return;
  g_hash_table_replace (self->error_notified, g_strdup (name), g_strdup (kind));
  save_notified_errors (self);
  /* Cancellation and a server asking for patience are not problems. */
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || g_str_equal (kind, "login-delay"))
    return;
  if (!g_settings_get_boolean (self->settings, "notifications"))
    return;

  problem = pb_account_info_describe_error (info, NULL);
  /* Translators: "work: Password rejected" */
  title = g_strdup_printf (_("%s: %s"), name, problem);
  id = g_strdup_printf ("error-%s", name);
  /* The message is written for the command line (a 64-digit fingerprint,
   * "pin it"); here the fix is the Review button on the account. */
  if (g_str_equal (kind, "certificate"))
    body = account != NULL && pb_account_get_pin_sha256 (account) != NULL ?
           _("The server shows another certificate than the one you trusted. Open Popbiff and "
             "choose Review before you trust the new one.") :
           _("The server’s certificate is not signed by an authority this computer trusts. "
             "Open Popbiff and choose Review to see it and decide.");
  send_notification (self, id, title, body, FALSE);
}

static void
on_check_started (PbApplication *self,
                  PbAccount     *account)
{
  PbAccountInfo *info = pb_application_lookup_info (self, pb_account_get_name (account));

  if (info != NULL)
    pb_account_info_set_checking (info, TRUE);
}

static gboolean
trim_memory (gpointer user_data)
{
  PbApplication *self = user_data;

  self->trim_id = 0;
#ifdef HAVE_MALLOC_TRIM
  /* A check of a big mailbox allocates megabytes (the state, the UIDL
   * list, the result) and frees them again, but glibc keeps freed heap
   * mapped: without this an idle applet would sit on its busiest moment's
   * memory until the next check. Returns in a millisecond or two. */
  malloc_trim (0);
#endif
  return G_SOURCE_REMOVE;
}

/* Once the last running check is done and the scheduler let go of its
 * state (right after check-finished), when the main loop is idle. */
static void
schedule_trim (PbApplication *self)
{
  if (self->trim_id == 0)
    self->trim_id = g_idle_add_full (G_PRIORITY_LOW, trim_memory, self, NULL);
}

static void
on_check_finished (PbApplication *self,
                   PbAccount     *account,
                   PbCheckResult *result)
{
  const char *name = pb_account_get_name (account);
  PbAccountInfo *info = pb_application_lookup_info (self, name);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  schedule_trim (self);
  if (info == NULL)
    return;

  if (pb_check_result_get_ok (result))
    {
      GPtrArray *records = pb_check_result_get_new_messages (result);
      g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);

      for (guint i = 0; i < records->len; i++)
        g_ptr_array_add (items, item_from_record (name, g_ptr_array_index (records, i)));
      pb_account_info_set_result (info, now, pb_check_result_get_total (result), items);
      if (g_hash_table_remove (self->error_notified, name))
        {
          g_autofree char *id = g_strdup_printf ("error-%s", name);

          /* It works again: the old error no longer applies. */
          g_application_withdraw_notification (G_APPLICATION (self), id);
          save_notified_errors (self);
        }
      announce (self, result);
      return;
    }

  if (g_error_matches (pb_check_result_get_error (result), G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      pb_account_info_set_checking (info, FALSE);
      return;
    }
  pb_account_info_set_error (info, pb_check_result_get_error (result));
  announce_error (self, info);
}

static void
on_store_changed (PbApplication *self)
{
  resync_accounts (self);
}

static void
on_store_account_removed (PbApplication *self,
                          PbAccount     *account)
{
  g_autofree char *id = g_strdup_printf ("error-%s", pb_account_get_name (account));

  /* Removed here or by `popbiff accounts remove`: an account added again
   * under this name starts afresh, and its old error is no news. */
  if (g_hash_table_remove (self->error_notified, pb_account_get_name (account)))
    {
      g_application_withdraw_notification (G_APPLICATION (self), id);
      save_notified_errors (self);
    }
  resync_accounts (self);
}

/* `popbiff dismiss` or `popbiff fetch` in a terminal: the count and the
 * list follow at once, not at the next check. */
static void
on_state_changed_on_disk (PbApplication *self,
                          const char    *name,
                          PbState       *state)
{
  PbAccountInfo *info = pb_application_lookup_info (self, name);
  g_autoptr(GPtrArray) items = NULL;

  if (info == NULL)
    return;
  /* Most likely our own download saving as it goes (the list drops each
   * message as it lands, and a save may lag that): looked at once it is
   * over. */
  if (g_hash_table_contains (self->downloading, name))
    {
      g_hash_table_add (self->stale_after_download, g_strdup (name));
      return;
    }
  items = items_from_state (name, state);
  pb_account_info_set_messages (info, items);
}

static void
download_started (PbApplication *self,
                  const char    *name)
{
  guint running = GPOINTER_TO_UINT (g_hash_table_lookup (self->downloading, name));

  g_hash_table_replace (self->downloading, g_strdup (name), GUINT_TO_POINTER (running + 1));
}

static void
download_ended (PbApplication *self,
                const char    *name)
{
  guint running = GPOINTER_TO_UINT (g_hash_table_lookup (self->downloading, name));
  PbAccountInfo *info;
  g_autoptr(PbState) state = NULL;
  g_autoptr(GPtrArray) items = NULL;

  if (running > 1)
    {
      g_hash_table_replace (self->downloading, g_strdup (name), GUINT_TO_POINTER (running - 1));
      return;
    }
  g_hash_table_remove (self->downloading, name);
  info = pb_application_lookup_info (self, name);
  if (!g_hash_table_remove (self->stale_after_download, name) || info == NULL ||
      self->scheduler == NULL || pb_scheduler_is_checking (self->scheduler, name))
    return;
  /* The download's state object, with what other writers saved merged in
   * by its saves. */
  state = pb_scheduler_ref_state (self->scheduler, name);
  if (state == NULL)
    return;
  items = items_from_state (name, state);
  pb_account_info_set_messages (info, items);
}

/* --- jobs -------------------------------------------------------------- */

void
pb_application_check (PbApplication *self,
                      const char    *account_name)
{
  g_return_if_fail (PB_IS_APPLICATION (self));

  if (self->scheduler != NULL)
    pb_scheduler_check_now (self->scheduler, account_name);
}

typedef struct {
  PbFetch                *fetch;        /* owned */
  char                   *account_name;
  PbDownloadProgressFunc  progress;
  gpointer                progress_data;
} DownloadData;

static void
download_data_free (DownloadData *data)
{
  g_clear_object (&data->fetch);
  g_free (data->account_name);
  g_free (data);
}

static void
on_fetch_progress (PbFetch *fetch,
                   guint    done,
                   guint    total,
                   guint64  bytes_done,
                   guint64  bytes_total,
                   gdouble  rate,
                   GTask   *task)
{
  DownloadData *data = g_task_get_task_data (task);

  if (data->progress != NULL)
    data->progress (NULL, bytes_done, bytes_total, data->progress_data);
}

static void
on_fetch_message_done (PbFetch      *fetch,
                       const char   *uidl,
                       const char   *path,
                       const GError *error,
                       GTask        *task)
{
  DownloadData *data = g_task_get_task_data (task);
  PbApplication *self = g_task_get_source_object (task);
  PbAccountInfo *info = pb_application_lookup_info (self, data->account_name);

  if (data->progress != NULL)
    data->progress (uidl, path != NULL ? 1 : 0, 1, data->progress_data);
  /* A message on disk is no longer new: the list drops it at once. */
  if (path != NULL && info != NULL)
    {
      const char *uidls[] = { uidl, NULL };

      pb_account_info_remove_messages (info, uidls);
    }
}

static void
on_fetch_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  DownloadData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  GPtrArray *results;
  GPtrArray *outcomes;

  download_ended (g_task_get_source_object (task), data->account_name);

  if (!pb_fetch_run_finish (PB_FETCH (source), result, &error) &&
      pb_fetch_get_results (PB_FETCH (source))->len == 0)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  results = pb_fetch_get_results (data->fetch);
  outcomes = g_ptr_array_new_with_free_func ((GDestroyNotify) pb_download_outcome_free);
  for (guint i = 0; i < results->len; i++)
    {
      PbFetchResult *r = g_ptr_array_index (results, i);
      PbDownloadOutcome *outcome;

      /* Left on the server by an earlier download and deleted now, as the
       * account asks: not one of the messages picked. */
      if (r->earlier && r->error == NULL)
        continue;
      outcome = g_new0 (PbDownloadOutcome, 1);
      outcome->uidl = g_strdup (r->uidl);
      outcome->path = g_strdup (r->path);
      outcome->error = r->error != NULL ? g_error_copy (r->error) : NULL;
      g_ptr_array_add (outcomes, outcome);
    }
  g_task_return_pointer (task, outcomes, (GDestroyNotify) g_ptr_array_unref);
}

void
pb_application_download_async (PbApplication          *self,
                               const char             *account_name,
                               const char * const     *uidls,
                               PbDownloadProgressFunc  progress,
                               gpointer                progress_data,
                               GCancellable           *cancellable,
                               GAsyncReadyCallback     callback,
                               gpointer                user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  PbAccountInfo *info = pb_application_lookup_info (self, account_name);
  PbAccount *account = info != NULL ? pb_account_info_get_account (info) : NULL;
  g_autoptr(PbState) state = NULL;
  DownloadData *data;

  g_task_set_source_tag (task, pb_application_download_async);
  if (account == NULL || self->scheduler == NULL)
    {
      g_task_return_new_error (task, PB_CORE_ERROR, PB_CORE_ERROR_NOT_FOUND,
                               _("There is no account named “%s” any more."), account_name);
      return;
    }

  /* The scheduler's state object: one copy per account in this process. */
  state = pb_scheduler_ref_state (self->scheduler, account_name);
  if (state == NULL)
    {
      g_task_return_new_error (task, PB_CORE_ERROR, PB_CORE_ERROR_NOT_FOUND,
                               _("There is no account named “%s” any more."), account_name);
      return;
    }
  data = g_new0 (DownloadData, 1);
  data->fetch = pb_fetch_new (account, state);
  data->account_name = g_strdup (account_name);
  download_started (self, account_name);
  data->progress = progress;
  data->progress_data = progress_data;
  g_task_set_task_data (task, data, (GDestroyNotify) download_data_free);

  pb_fetch_set_selection (data->fetch, PB_FETCH_SELECT_UIDLS, uidls);
  if (self->demo_password != NULL)
    pb_fetch_set_password (data->fetch, self->demo_password);
  g_signal_connect (data->fetch, "progress", G_CALLBACK (on_fetch_progress), task);
  g_signal_connect (data->fetch, "message-done", G_CALLBACK (on_fetch_message_done), task);
  pb_fetch_run_async (data->fetch, cancellable, on_fetch_done, g_object_ref (task));
}

GPtrArray *
pb_application_download_finish (PbApplication  *self,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
pb_application_dismiss (PbApplication      *self,
                        const char         *account_name,
                        const char * const *uidls)
{
  PbAccountInfo *info;
  g_autoptr(PbState) state = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (PB_IS_APPLICATION (self));

  info = pb_application_lookup_info (self, account_name);
  if (info != NULL)
    pb_account_info_remove_messages (info, uidls);
  if (self->scheduler == NULL || info == NULL || pb_account_info_get_account (info) == NULL)
    return;

  state = pb_scheduler_ref_state (self->scheduler, account_name);
  if (state == NULL)
    return;  /* not scheduled (yet): nothing recorded to change */
  for (guint i = 0; uidls[i] != NULL; i++)
    {
      PbMessageRecord *record = pb_state_lookup (state, uidls[i]);

      if (record != NULL)
        record->flags |= PB_MESSAGE_DISMISSED;
    }
  /* A few kilobytes per hundred messages, written atomically. */
  if (!pb_state_save (state, &error))
    pb_account_info_set_error (info, error);
}

static void
on_folder_opened (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_app_info_launch_default_for_uri_finish (result, &error))
    g_warning ("Could not open the folder: %s", error->message);
}

void
pb_application_open_folder (PbApplication *self,
                            const char    *account_name,
                            GtkWindow     *parent)
{
  PbAccountInfo *info;
  PbAccount *account;
  g_autofree char *uri = NULL;
  g_autofree char *folder = NULL;
  g_autoptr(GAppLaunchContext) context = NULL;

  g_return_if_fail (PB_IS_APPLICATION (self));

  info = pb_application_lookup_info (self, account_name);
  account = info != NULL ? pb_account_info_get_account (info) : NULL;
  if (account == NULL)
    return;
  folder = g_strdup (pb_account_get_folder (account));
  /* Maildir: the messages are in new/. */
  if (pb_account_get_format (account) == PB_DELIVERY_FORMAT_MAILDIR)
    {
      g_autofree char *sub = g_build_filename (folder, "new", NULL);

      if (g_file_test (sub, G_FILE_TEST_IS_DIR))
        {
          g_free (folder);
          folder = g_steal_pointer (&sub);
        }
    }
  g_mkdir_with_parents (folder, 0700);
  uri = g_filename_to_uri (folder, NULL, NULL);
  if (uri == NULL)
    return;
  if (parent != NULL)
    context = G_APP_LAUNCH_CONTEXT (gdk_display_get_app_launch_context (gtk_widget_get_display (GTK_WIDGET (parent))));
  g_app_info_launch_default_for_uri_async (uri, context, NULL, on_folder_opened, NULL);
}

/* --- actions ----------------------------------------------------------- */

static void
activate_activated (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  present_window (PB_APPLICATION (user_data));
}

static void
check_now_activated (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  PbApplication *self = user_data;

  pb_application_check (self, NULL);
}

static void
check_account_activated (GSimpleAction *action,
                         GVariant      *parameter,
                         gpointer       user_data)
{
  PbApplication *self = user_data;

  pb_application_check (self, g_variant_get_string (parameter, NULL));
}

/* `popbiff accounts edit NAME --password-stdin` stored a new password:
 * nothing in accounts.conf changed, so only this tells us. An account
 * stopped by a rejected password starts checking again, as after an edit
 * here. */
static void
password_changed_activated (GSimpleAction *action,
                            GVariant      *parameter,
                            gpointer       user_data)
{
  PbApplication *self = user_data;
  PbAccount *account = pb_account_store_lookup (self->store, g_variant_get_string (parameter, NULL));

  if (account != NULL && self->scheduler != NULL)
    pb_scheduler_update_account (self->scheduler, account);
}

static void
download_new_activated (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  PbApplication *self = user_data;
  PbWindow *window = ensure_window (self);

  gtk_window_present (GTK_WINDOW (window));
  pb_window_download_all (window);
}

static void
preferences_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  PbApplication *self = user_data;
  PbWindow *window = ensure_window (self);
  GtkWidget *dialog;

  gtk_window_present (GTK_WINDOW (window));
  dialog = pb_preferences_new (GTK_WINDOW (window), self->settings);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  PbApplication *self = user_data;
  static const char *authors[] = { "The Popbiff authors", NULL };

  gtk_show_about_dialog (GTK_WINDOW (ensure_window (self)),
                         "program-name", _("Popbiff"),
                         "logo-icon-name", PB_APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Know when new mail arrives in your POP3 mailboxes."),
                         "website", "https://github.com/popbiff/popbiff",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "authors", authors,
                         /* Translators: put your names here, one per line */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  PbApplication *self = user_data;
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (self));

  /* Destroying the windows first saves their size. */
  while (windows != NULL)
    {
      gtk_widget_destroy (windows->data);
      windows = gtk_application_get_windows (GTK_APPLICATION (self));
    }
  g_application_quit (G_APPLICATION (self));
}

static void
demo_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autoptr(GSubprocess) process = NULL;

  /* A separate process, so the sample mailbox never mixes with real ones. */
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error,
                              self_exe != NULL ? self_exe : "popbiff", "--demo", NULL);
  if (process == NULL)
    g_warning ("Could not start the demo: %s", error->message);
}

/* --- editing accounts -------------------------------------------------- */

typedef struct {
  PbApplication *self;      /* owned */
  PbAccount     *account;   /* owned: what to add or replace */
  gboolean       is_new;
} SaveData;

static void
save_data_free (SaveData *data)
{
  g_clear_object (&data->self);
  g_clear_object (&data->account);
  g_free (data);
}

static void
show_error (PbApplication *self,
            const char    *primary,
            const char    *secondary)
{
  GtkWidget *dialog = gtk_message_dialog_new (GTK_WINDOW (ensure_window (self)),
                                              GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                              GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s", primary);

  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog), "%s", secondary);
  g_signal_connect (dialog, "response", G_CALLBACK (gtk_widget_destroy), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* Writes the account to accounts.conf; the scheduler follows the store. */
static void
store_account (PbApplication *self,
               PbAccount     *account,
               gboolean       is_new)
{
  g_autoptr(GError) error = NULL;

  if ((is_new ? pb_account_store_add (self->store, account, &error)
              : pb_account_store_replace (self->store, account, &error)) &&
      pb_account_store_save (self->store, &error))
    {
      resync_accounts (self);
      if (!is_new)
        pb_scheduler_update_account (self->scheduler,
                                     pb_account_store_lookup (self->store, pb_account_get_name (account)));
      return;
    }
  show_error (self, _("The account could not be saved"), error->message);
}

static void
on_password_stored (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  SaveData *data = user_data;
  g_autoptr(GError) error = NULL;

  if (!pb_secrets_store_finish (result, &error))
    show_error (data->self, _("The password could not be stored in your keyring"), error->message);
  else
    /* Only now: the first check must find the password. */
    store_account (data->self, data->account, data->is_new);
  save_data_free (data);
}

static void on_test_connection (PbApplication *self, PbAccountEditor *editor);

static void
on_editor_response (PbApplication   *self,
                    int              response,
                    PbAccountEditor *editor)
{
  g_autoptr(PbAccount) account = NULL;
  const char *password;

  if (response != GTK_RESPONSE_ACCEPT)
    {
      gtk_widget_destroy (GTK_WIDGET (editor));
      return;
    }
  account = pb_account_editor_build_account (editor, NULL);
  if (account == NULL)
    return;  /* Save is insensitive then; Enter may still get here */

  password = pb_account_editor_get_password (editor);
  if (*password != '\0')
    {
      SaveData *data = g_new0 (SaveData, 1);

      data->self = g_object_ref (self);
      data->account = g_object_ref (account);
      data->is_new = pb_account_editor_is_new (editor);
      pb_secrets_store_async (account, password, NULL, on_password_stored, data);
    }
  else
    store_account (self, account, pb_account_editor_is_new (editor));
  gtk_widget_destroy (GTK_WIDGET (editor));
}

static void
open_editor (PbApplication *self,
             PbAccount     *account)
{
  GPtrArray *accounts = pb_account_store_get_accounts (self->store);
  g_autoptr(GPtrArray) names = g_ptr_array_new ();
  GtkWidget *editor;

  for (guint i = 0; i < accounts->len; i++)
    g_ptr_array_add (names, (gpointer) pb_account_get_name (g_ptr_array_index (accounts, i)));
  g_ptr_array_add (names, NULL);

  editor = pb_account_editor_new (GTK_WINDOW (ensure_window (self)), account,
                                  (const char * const *) names->pdata, self->settings);
  g_signal_connect_object (editor, "response", G_CALLBACK (on_editor_response), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (editor, "test-connection", G_CALLBACK (on_test_connection), self, G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (editor));
}

static void
add_account_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  PbApplication *self = user_data;

  gtk_window_present (GTK_WINDOW (ensure_window (self)));
  open_editor (self, NULL);
}

static void
edit_account_activated (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  PbApplication *self = user_data;
  PbAccount *account = pb_account_store_lookup (self->store, g_variant_get_string (parameter, NULL));

  gtk_window_present (GTK_WINDOW (ensure_window (self)));
  if (account != NULL)
    open_editor (self, account);
}

static void
on_secret_cleared (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!pb_secrets_clear_finish (result, &error))
    g_warning ("Could not remove the password from the keyring: %s", error->message);
}

static void
on_remove_confirmed (GtkDialog *dialog,
                     int        response,
                     gpointer   user_data)
{
  PbApplication *self = PB_APPLICATION (g_object_get_data (G_OBJECT (dialog), "pb-app"));
  const char *name = g_object_get_data (G_OBJECT (dialog), "pb-account");
  g_autoptr(GError) error = NULL;

  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(PbState) state = pb_scheduler_ref_state (self->scheduler, name);

      if (state != NULL)
        pb_state_delete_file (state, NULL);
      if (pb_account_store_remove (self->store, name, &error) &&
          pb_account_store_save (self->store, &error))
        {
          pb_scheduler_remove_account (self->scheduler, name);
          pb_secrets_clear_async (name, NULL, on_secret_cleared, NULL);
        }
      else
        show_error (self, _("The account could not be removed"), error->message);
    }
  gtk_widget_destroy (GTK_WIDGET (dialog));
}

static void
remove_account_activated (GSimpleAction *action,
                          GVariant      *parameter,
                          gpointer       user_data)
{
  PbApplication *self = user_data;
  const char *name = g_variant_get_string (parameter, NULL);
  GtkWidget *dialog;

  if (pb_account_store_lookup (self->store, name) == NULL)
    return;
  dialog = gtk_message_dialog_new (GTK_WINDOW (ensure_window (self)),
                                   GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                   GTK_MESSAGE_QUESTION, GTK_BUTTONS_NONE,
                                   _("Remove the account “%s”?"), name);
  gtk_message_dialog_format_secondary_text (GTK_MESSAGE_DIALOG (dialog),
                                            _("Popbiff forgets its settings and password. Nothing "
                                              "on the server and no downloaded message is deleted."));
  gtk_dialog_add_buttons (GTK_DIALOG (dialog), _("_Cancel"), GTK_RESPONSE_CANCEL,
                          _("_Remove"), GTK_RESPONSE_ACCEPT, NULL);
  gtk_style_context_add_class (gtk_widget_get_style_context (
                                 gtk_dialog_get_widget_for_response (GTK_DIALOG (dialog), GTK_RESPONSE_ACCEPT)),
                               "destructive-action");
  g_object_set_data_full (G_OBJECT (dialog), "pb-app", g_object_ref (self), g_object_unref);
  g_object_set_data_full (G_OBJECT (dialog), "pb-account", g_strdup (name), g_free);
  g_signal_connect (dialog, "response", G_CALLBACK (on_remove_confirmed), NULL);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* --- probing: Test Connection and Review -------------------------------- */

typedef struct {
  PbApplication   *self;     /* owned */
  PbAccountEditor *editor;   /* weak: the person may close it meanwhile */
  char            *account_name;
} ProbeContext;

static void
probe_context_free (ProbeContext *ctx)
{
  g_clear_weak_pointer (&ctx->editor);
  g_clear_object (&ctx->self);
  g_free (ctx->account_name);
  g_free (ctx);
}

static gboolean
is_certificate_error (const GError *error)
{
  return error != NULL && g_str_equal (pb_error_kind (error), "certificate");
}

static void
on_editor_certificate_response (GtkDialog    *dialog,
                                int           response,
                                ProbeContext *ctx)
{
  if (response == GTK_RESPONSE_ACCEPT && ctx->editor != NULL)
    {
      pb_account_editor_set_pin_sha256 (ctx->editor,
                                        pb_certificate_dialog_get_sha256 (PB_CERTIFICATE_DIALOG (dialog)));
      pb_account_editor_set_test_result (ctx->editor,
                                         _("You trust this certificate now; test again to log in."),
                                         FALSE);
    }
  gtk_widget_destroy (GTK_WIDGET (dialog));
  probe_context_free (ctx);
}

static void
on_editor_probed (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ProbeContext *ctx = user_data;
  g_autoptr(PbProbeReport) report = pb_probe_finish (result, NULL);
  g_autofree char *text = NULL;
  g_autofree char *details = NULL;

  if (report == NULL || ctx->editor == NULL)
    {
      probe_context_free (ctx);
      return;
    }
  text = pb_probe_report_summarize (report);
  pb_account_editor_set_test_result (ctx->editor, text, FALSE);
  details = pb_probe_report_describe (report);
  pb_account_editor_set_test_details (ctx->editor, details);
  if (is_certificate_error (report->error) && report->tls_info != NULL)
    {
      GtkWidget *dialog = pb_certificate_dialog_new (GTK_WINDOW (ctx->editor), ctx->account_name,
                                                     report->tls_info, NULL);

      g_signal_connect (dialog, "response", G_CALLBACK (on_editor_certificate_response), ctx);
      gtk_window_present (GTK_WINDOW (dialog));
      return;
    }
  probe_context_free (ctx);
}

static void
on_test_connection (PbApplication   *self,
                    PbAccountEditor *editor)
{
  g_autoptr(PbAccount) account = pb_account_editor_build_account (editor, NULL);
  const char *password = pb_account_editor_get_password (editor);
  ProbeContext *ctx;

  if (account == NULL)
    return;
  ctx = g_new0 (ProbeContext, 1);
  ctx->self = g_object_ref (self);
  g_set_weak_pointer (&ctx->editor, editor);
  ctx->account_name = g_strdup (pb_account_get_name (account));
  pb_account_editor_set_test_result (editor, _("Connecting…"), TRUE);
  /* Empty: the password stored for the account (an edit), from the keyring. */
  pb_probe_async (account,
                  *password != '\0' ? password : (self->demo_password != NULL ? self->demo_password : NULL),
                  NULL, on_editor_probed, ctx);
}

static void
on_review_response (GtkDialog    *dialog,
                    int           response,
                    ProbeContext *ctx)
{
  PbAccount *current = pb_account_store_lookup (ctx->self->store, ctx->account_name);

  if (response == GTK_RESPONSE_ACCEPT && current != NULL)
    {
      g_autoptr(PbAccount) pinned = pb_account_copy (current);

      pb_account_set_pin_sha256 (pinned, pb_certificate_dialog_get_sha256 (PB_CERTIFICATE_DIALOG (dialog)));
      store_account (ctx->self, pinned, FALSE);
    }
  gtk_widget_destroy (GTK_WIDGET (dialog));
  probe_context_free (ctx);
}

static void
on_review_probed (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  ProbeContext *ctx = user_data;
  g_autoptr(PbProbeReport) report = pb_probe_finish (result, NULL);
  PbAccount *account = pb_account_store_lookup (ctx->self->store, ctx->account_name);
  GtkWidget *dialog;

  if (report == NULL || account == NULL)
    {
      probe_context_free (ctx);
      return;
    }
  if (report->tls_info == NULL || !is_certificate_error (report->error))
    {
      show_error (ctx->self, _("The certificate is fine now"),
                  report->error != NULL ? report->error->message :
                  _("The server’s certificate was accepted; Popbiff checks again."));
      pb_scheduler_check_now (ctx->self->scheduler, ctx->account_name);
      probe_context_free (ctx);
      return;
    }
  dialog = pb_certificate_dialog_new (GTK_WINDOW (ensure_window (ctx->self)), ctx->account_name,
                                      report->tls_info, pb_account_get_pin_sha256 (account));
  g_signal_connect (dialog, "response", G_CALLBACK (on_review_response), ctx);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
review_certificate_activated (GSimpleAction *action,
                              GVariant      *parameter,
                              gpointer       user_data)
{
  PbApplication *self = user_data;
  const char *name = g_variant_get_string (parameter, NULL);
  PbAccount *account = pb_account_store_lookup (self->store, name);
  ProbeContext *ctx;

  if (account == NULL)
    return;
  gtk_window_present (GTK_WINDOW (ensure_window (self)));
  ctx = g_new0 (ProbeContext, 1);
  ctx->self = g_object_ref (self);
  ctx->account_name = g_strdup (name);
  /* Connect only: the handshake describes the certificate either way. */
  pb_probe_async (account, "", NULL, on_review_probed, ctx);
}

static const GActionEntry app_entries[] = {
  { "activate", activate_activated },
  { "check-now", check_now_activated },
  { "check-account", check_account_activated, "s" },
  { "password-changed", password_changed_activated, "s" },
  { "download-new", download_new_activated },
  { "preferences", preferences_activated },
  { "about", about_activated },
  { "quit", quit_activated },
  { "demo", demo_activated },
  { "add-account", add_account_activated },
  { "edit-account", edit_account_activated, "s" },
  { "remove-account", remove_account_activated, "s" },
  { "review-certificate", review_certificate_activated, "s" },
};

/* Checking and downloading need an account: with none, the refresh button,
 * Check Now (window, tray, F5) and Download All New are greyed out, and the
 * empty state's "Add an account" is the one thing to do. */
static void
on_accounts_changed (PbApplication *self)
{
  static const char * const need_account[] = { "check-now", "download-new" };
  gboolean any = g_list_model_get_n_items (G_LIST_MODEL (self->accounts)) > 0;

  for (guint i = 0; i < G_N_ELEMENTS (need_account); i++)
    {
      GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), need_account[i]);

      if (action != NULL)
        g_simple_action_set_enabled (G_SIMPLE_ACTION (action), any);
    }
}

static void
set_accels (PbApplication *self)
{
  static const struct { const char *action; const char *accels[3]; } accels[] = {
    { "app.check-now", { "<Control>r", "F5", NULL } },
    { "app.add-account", { "<Control>n", NULL } },
    { "app.preferences", { "<Control>comma", NULL } },
    { "app.quit", { "<Control>q", NULL } },
    { "win.download", { "<Control>d", NULL } },
    { "win.mark-read", { "<Control>m", NULL } },
    { "win.open-folder", { "<Control>o", NULL } },
    { "win.find", { "<Control>f", NULL } },
    { "win.edit-selected-account", { "<Control>e", NULL } },
    { "win.cancel-download", { "Escape", NULL } },
    { "win.show-help-overlay", { "<Control>question", "<Control>F1", NULL } },
    { "window.close", { "<Control>w", NULL } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accels[i].action,
                                           accels[i].accels);
}

/* --- the engine: accounts, scheduler, demo ------------------------------- */

#define DEMO_ACCOUNT "sample"
#define DEMO_NEW_MAIL_SECONDS 40

/* The scheduler's job in demo mode: a check with the demo's in-memory
 * password, never the keyring. The password rides on the account object
 * because the runner has no closure. */
static void
demo_run (PbAccount           *account,
          PbState             *state,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  pb_check_run_async (account, state, g_object_get_data (G_OBJECT (account), "pb-demo-password"),
                      PB_CHECK_DEFAULT_MAX_TOPS, PB_CHECK_FLAGS_NONE, cancellable, callback, user_data);
}

static PbCheckResult *
demo_finish (GAsyncResult *result)
{
  return pb_check_run_finish (result);
}

static gboolean
on_demo_mail (gpointer user_data)
{
  PbApplication *self = user_data;

  /* Something new arrives now and then, so the notifications show. */
  if (!pb_demo_server_add_sample (self->demo_server))
    {
      self->demo_timer = 0;
      return G_SOURCE_REMOVE;
    }
  pb_scheduler_check_now (self->scheduler, DEMO_ACCOUNT);
  return G_SOURCE_CONTINUE;
}

static gboolean
setup_demo (PbApplication  *self,
            GError        **error)
{
  g_autofree char *conf = g_build_filename (self->demo_dir, "accounts.conf", NULL);
  g_autofree char *folder = g_build_filename (self->demo_dir, "Mail", DEMO_ACCOUNT, NULL);
  g_autoptr(PbAccount) account = pb_account_new (DEMO_ACCOUNT);
  guint8 random[12];

  for (guint i = 0; i < G_N_ELEMENTS (random); i++)
    random[i] = (guint8) g_random_int_range (0, 256);
  self->demo_password = g_base64_encode (random, sizeof random);
  self->demo_server = pb_demo_server_new ("demo", self->demo_password);
  if (!pb_demo_server_start (self->demo_server, error))
    return FALSE;

  /* Plaintext is explicitly chosen here: the server is in this process, on
   * loopback, with a throwaway password. */
  pb_account_set_host (account, "127.0.0.1");
  pb_account_set_security (account, PB_POP3_SECURITY_NONE);
  pb_account_set_port (account, pb_demo_server_get_port (self->demo_server));
  pb_account_set_user (account, "demo");
  pb_account_set_auth (account, PB_POP3_AUTH_USER);
  pb_account_set_interval (account, 1);
  pb_account_set_folder (account, folder);

  self->store = pb_account_store_new (conf);
  if (!pb_account_store_add (self->store, account, error))
    return FALSE;
  self->demo_timer = g_timeout_add_seconds (DEMO_NEW_MAIL_SECONDS, on_demo_mail, self);
  return TRUE;
}


static void
setup_engine (PbApplication *self)
{
  g_autoptr(GError) error = NULL;

  if (self->demo)
    {
      if (!setup_demo (self, &error))
        g_warning ("The demo could not start: %s", error->message);
      g_clear_error (&error);
      if (self->store == NULL)
        self->store = pb_account_store_new (NULL);
      tag_demo_accounts (self);
    }
  else
    {
      self->store = pb_account_store_new (NULL);
      /* A few hundred bytes of key file, read once at start. */
      if (!pb_account_store_load (self->store, &error))
        g_warning ("%s", error->message);
      g_clear_error (&error);
      {
        GPtrArray *errors = pb_account_store_get_load_errors (self->store);

        for (guint i = 0; i < errors->len; i++)
          g_warning ("%s", ((GError *) g_ptr_array_index (errors, i))->message);
      }
    }

  self->scheduler = pb_scheduler_new (!self->demo);
  if (self->demo)
    pb_scheduler_set_runner (self->scheduler, demo_run, demo_finish);
  g_signal_connect_object (self->scheduler, "check-started", G_CALLBACK (on_check_started),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->scheduler, "check-finished", G_CALLBACK (on_check_finished),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->store, "account-added", G_CALLBACK (on_store_changed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->store, "account-removed", G_CALLBACK (on_store_account_removed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->store, "account-changed", G_CALLBACK (on_store_changed),
                           self, G_CONNECT_SWAPPED);
  pb_scheduler_watch_store (self->scheduler, self->store);
  resync_accounts (self);
  /* The demo's files are its own; nobody else writes them. */
  if (!self->demo)
    {
      self->disk_watch = pb_disk_watch_new (self->store, self->scheduler);
      g_signal_connect_object (self->disk_watch, "state-changed",
                               G_CALLBACK (on_state_changed_on_disk), self, G_CONNECT_SWAPPED);
    }
  pb_scheduler_start (self->scheduler);
}

static gboolean
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  return g_rmdir (path) == 0;
}

/* --- GApplication ------------------------------------------------------ */

static void
on_start_at_login_changed (PbApplication *self)
{
  if (!self->demo)
    pb_autostart_set_enabled_async (g_settings_get_boolean (self->settings, "start-at-login"));
}

static void
pb_application_startup (GApplication *application)
{
  PbApplication *self = PB_APPLICATION (application);
  g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

  G_APPLICATION_CLASS (pb_application_parent_class)->startup (application);

  g_set_application_name (_("Popbiff"));
  gtk_css_provider_load_from_resource (css, "/io/github/popbiff/Popbiff/style.css");
  gtk_style_context_add_provider_for_screen (gdk_screen_get_default (), GTK_STYLE_PROVIDER (css),
                                             GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  if (self->demo)
    {
      /* The demo must not change the person's preferences. */
      g_autoptr(GSettingsBackend) backend = g_memory_settings_backend_new ();

      self->settings = g_settings_new_with_backend (PB_APP_ID, backend);
    }
  else
    {
      self->settings = g_settings_new (PB_APP_ID);
    }
  g_signal_connect_object (self->settings, "changed::start-at-login",
                           G_CALLBACK (on_start_at_login_changed), self, G_CONNECT_SWAPPED);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_entries,
                                   G_N_ELEMENTS (app_entries), self);
  set_accels (self);
  g_signal_connect_object (self->accounts, "items-changed", G_CALLBACK (on_accounts_changed),
                           self, G_CONNECT_SWAPPED);
  on_accounts_changed (self);

  self->tray = pb_tray_new (G_ACTION_GROUP (self));
  load_notified_errors (self);
  setup_engine (self);
  update_tray (self);

  /* An applet: it stays when its window closes. */
  g_application_hold (application);
  self->held = TRUE;
}

static void
pb_application_activate (GApplication *application)
{
  PbApplication *self = PB_APPLICATION (application);

  if (self->pending_action != NULL)
    {
      g_autofree char *action = g_steal_pointer (&self->pending_action);

      /* `popbiff --check-now` as the first instance: check, no window. */
      if (g_str_equal (action, "check-now"))
        self->background = TRUE;
      g_action_group_activate_action (G_ACTION_GROUP (self), action, NULL);
    }
  if (self->background)
    {
      /* Only the first activation (the start itself) stays hidden. */
      self->background = FALSE;
      return;
    }
  present_window (self);
}

static void
pb_application_shutdown (GApplication *application)
{
  PbApplication *self = PB_APPLICATION (application);

  g_clear_object (&self->disk_watch);
  if (self->scheduler != NULL)
    pb_scheduler_stop (self->scheduler);
  g_clear_handle_id (&self->demo_timer, g_source_remove);
  g_clear_handle_id (&self->trim_id, g_source_remove);
  if (self->demo_server != NULL)
    pb_demo_server_stop (self->demo_server);
  g_clear_object (&self->tray);
  if (self->demo_dir != NULL)
    remove_tree (self->demo_dir);

  G_APPLICATION_CLASS (pb_application_parent_class)->shutdown (application);
}

static int
pb_application_handle_local_options (GApplication *application,
                                     GVariantDict *options)
{
  PbApplication *self = PB_APPLICATION (application);
  g_autoptr(GError) error = NULL;
  const char *action = NULL;

  if (g_variant_dict_contains (options, "check-now"))
    action = "check-now";
  else if (g_variant_dict_contains (options, "download-new"))
    action = "download-new";

  self->demo = g_variant_dict_contains (options, "demo");
  if (self->demo)
    {
      /* A second, separate applet: never the person's running one. */
      g_application_set_flags (application,
                               g_application_get_flags (application) | G_APPLICATION_NON_UNIQUE);
    }
  self->background = g_variant_dict_contains (options, "background");

  if (action == NULL && !self->background)
    return -1;  /* plain `popbiff`: activate, here or in the running one */

  if (!g_application_register (application, NULL, &error))
    {
      g_printerr ("popbiff: %s\n", error->message);
      return 1;
    }
  if (g_application_get_is_remote (application))
    {
      /* Already running: --background has nothing to do (and must not
       * pop the window up at login); an action runs over there. */
      if (action != NULL)
        g_action_group_activate_action (G_ACTION_GROUP (application), action, NULL);
      return 0;
    }
  /* We are the first instance: run the action once the applet is up. */
  g_free (self->pending_action);
  self->pending_action = g_strdup (action);
  return -1;
}

static void
pb_application_dispose (GObject *object)
{
  PbApplication *self = PB_APPLICATION (object);

  g_clear_object (&self->tray);
  g_clear_object (&self->disk_watch);
  g_clear_object (&self->scheduler);
  g_clear_object (&self->store);
  g_clear_object (&self->demo_server);
  g_clear_object (&self->settings);
  g_clear_object (&self->accounts);

  G_OBJECT_CLASS (pb_application_parent_class)->dispose (object);
}

static void
pb_application_finalize (GObject *object)
{
  PbApplication *self = PB_APPLICATION (object);

  g_free (self->pending_action);
  g_free (self->demo_dir);
  if (self->demo_password != NULL)
    memset (self->demo_password, 0, strlen (self->demo_password));
  g_free (self->demo_password);
  g_hash_table_unref (self->error_notified);
  g_hash_table_unref (self->announced);
  g_hash_table_unref (self->downloading);
  g_hash_table_unref (self->stale_after_download);

  G_OBJECT_CLASS (pb_application_parent_class)->finalize (object);
}

static void
pb_application_class_init (PbApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = pb_application_dispose;
  object_class->finalize = pb_application_finalize;

  /* The resource lives in a static library: referencing it keeps the
   * linker from dropping it (its constructor registers it). */
  g_assert_nonnull (pb_app_get_resource ());
  app_class->startup = pb_application_startup;
  app_class->activate = pb_application_activate;
  app_class->shutdown = pb_application_shutdown;
  app_class->handle_local_options = pb_application_handle_local_options;
}

static const GOptionEntry option_entries[] = {
  { "background", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Start without opening the window (for starting at login)"), NULL },
  { "check-now", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Check every account now"), NULL },
  { "download-new", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Download all new messages"), NULL },
  { "demo", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Try Popbiff with a built-in sample mailbox; your own accounts stay untouched"), NULL },
  { NULL }
};

static void
pb_application_init (PbApplication *self)
{
  self->accounts = g_list_store_new (PB_TYPE_ACCOUNT_INFO);
  self->error_notified = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->announced = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) g_hash_table_unref);
  self->downloading = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->stale_after_download = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("A mail notifier for POP3 mailboxes. "
                                              "Run “popbiff --help” for the commands."));
}

PbApplication *
pb_application_new (void)
{
  return g_object_new (PB_TYPE_APPLICATION,
                       "application-id", PB_APP_ID,
                       "resource-base-path", "/io/github/popbiff/Popbiff",
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       NULL);
}

GSettings *
pb_application_get_settings (PbApplication *self)
{
  g_return_val_if_fail (PB_IS_APPLICATION (self), NULL);
  return self->settings;
}

GListModel *
pb_application_get_accounts (PbApplication *self)
{
  g_return_val_if_fail (PB_IS_APPLICATION (self), NULL);
  return G_LIST_MODEL (self->accounts);
}

PbAccountInfo *
pb_application_lookup_info (PbApplication *self,
                            const char    *name)
{
  guint n;

  g_return_val_if_fail (PB_IS_APPLICATION (self), NULL);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->accounts));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PbAccountInfo) info = g_list_model_get_item (G_LIST_MODEL (self->accounts), i);

      if (g_str_equal (pb_account_info_get_name (info), name))
        return info;  /* the store keeps it alive */
    }
  return NULL;
}

guint
pb_application_get_new_count (PbApplication *self)
{
  guint n, count = 0;

  g_return_val_if_fail (PB_IS_APPLICATION (self), 0);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->accounts));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PbAccountInfo) info = g_list_model_get_item (G_LIST_MODEL (self->accounts), i);

      count += pb_account_info_get_new_count (info);
    }
  return count;
}

gboolean
pb_application_is_demo (PbApplication *self)
{
  g_return_val_if_fail (PB_IS_APPLICATION (self), FALSE);
  return self->demo;
}

int
pb_application_run_main (int    argc,
                         char **argv)
{
  g_autoptr(PbApplication) app = NULL;
  g_autofree char *demo_dir = NULL;

  for (int i = 1; i < argc; i++)
    if (g_str_equal (argv[i], "--demo"))
      {
        static const char * const vars[] = { "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME" };
        g_autoptr(GError) error = NULL;

        /* Before anything asks GLib for these directories (it keeps the
         * first answer): the demo's state and downloads live in a
         * temporary directory, removed when it quits. */
        demo_dir = g_dir_make_tmp ("popbiff-demo-XXXXXX", &error);
        if (demo_dir == NULL)
          {
            g_printerr ("popbiff: %s\n", error->message);
            return 1;
          }
        for (guint v = 0; v < G_N_ELEMENTS (vars); v++)
          {
            g_autofree char *dir = g_build_filename (demo_dir, vars[v], NULL);

            g_mkdir_with_parents (dir, 0700);
            g_setenv (vars[v], dir, TRUE);
          }
        break;
      }

  app = pb_application_new ();
  app->demo_dir = g_steal_pointer (&demo_dir);
  return g_application_run (G_APPLICATION (app), argc, argv);
}

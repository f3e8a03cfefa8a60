/* pb-window.c: the status window.
 *
 * It only shows the application's PbAccountInfo list and turns clicks
 * into application calls; every wait (download, dismiss, open) is async, so
 * the window keeps drawing whatever a server does. */
#include <string.h>
#include <glib/gi18n.h>

#include "pb-account-row.h"
#include "pb-format.h"
#include "pb-message-item.h"
#include "pb-window.h"

enum {
  COL_ITEM,            /* PbMessageItem */
  COL_FROM,
  COL_SUBJECT,
  COL_DATE_TEXT,
  COL_SIZE_TEXT,
  COL_ACCOUNT,
  COL_DATE,            /* for sorting */
  COL_SIZE,            /* for sorting */
  COL_PROGRESS,        /* 0-100 while downloading */
  COL_PROGRESS_VISIBLE,
  N_COLUMNS
};

struct _PbWindow
{
  GtkApplicationWindow  parent_instance;

  PbApplication        *application;    /* unowned: it outlives its windows */
  GListModel           *statuses;       /* owned */
  char                 *filter_account; /* NULL: all accounts */
  GtkListStore         *store;          /* owned */
  /* Row key (row_key()) -> GtkTreeIter* of the store's row: a download
   * reports thousands of messages, and a search per report froze the
   * window. A list store's iters hold while their rows exist. */
  GHashTable           *rows;
  guint                 refresh_id;
  guint                 tick_id;

  /* A download in progress: one job per account, one after another. */
  GCancellable         *download_cancellable;
  GQueue                download_jobs;  /* (element-type DownloadJob) */
  GHashTable           *download_done;  /* row key -> guint64* octets on disk */
  guint64               download_total; /* octets of all selected messages */
  guint                 download_count;
  guint                 download_ok;
  guint                 download_finished; /* messages done, either way */
  guint64               download_bytes_before; /* octets of finished jobs */
  guint64               download_job_bytes;    /* octets of the running job */
  GString              *download_errors;
  char                 *last_path;      /* the last message downloaded */
  char                 *last_account;

  GtkHeaderBar         *header_bar;
  GtkStack             *main_stack;
  GtkListBox           *accounts_list;
  GtkStack             *messages_stack;
  GtkTreeView          *messages_view;
  GtkImage             *no_mail_icon;
  GtkLabel             *no_mail_label;
  GtkLabel             *no_mail_detail;
  GtkRevealer          *progress_revealer;
  GtkProgressBar       *progress_bar;
  GtkInfoBar           *result_bar;
  GtkLabel             *result_label;
  GtkSearchBar         *search_bar;
  GtkSearchEntry       *search_entry;
  GtkWidget            *search_button;
  char                 *search;         /* casefolded; NULL: every message */
  GtkWidget            *open_message_button;
};

G_DEFINE_FINAL_TYPE (PbWindow, pb_window, GTK_TYPE_APPLICATION_WINDOW)

typedef struct {
  char       *account;
  GStrv       uidls;
  guint64    *sizes;      /* octets of uidls[i], as listed when it started */
  GHashTable *positions;  /* uidl -> its index in uidls, + 1 */
  guint       first_unfinished;
  guint64     finished_bytes;  /* octets of the messages before it */
} DownloadJob;

static void
download_job_free (DownloadJob *job)
{
  g_free (job->account);
  g_strfreev (job->uidls);
  g_free (job->sizes);
  g_clear_pointer (&job->positions, g_hash_table_unref);
  g_free (job);
}

/* A message's key among the rows: UIDLs are only unique per account. */
static char *
row_key (const char *account,
         const char *uidl)
{
  return g_strconcat (account, "\n", uidl, NULL);
}

static void start_next_download (PbWindow *self);
static void update_actions (PbWindow *self);

/* The messages currently selected, (element-type PbMessageItem). */
static GPtrArray *
get_selected_items (PbWindow *self)
{
  GtkTreeSelection *selection = gtk_tree_view_get_selection (self->messages_view);
  GtkTreeModel *model = NULL;
  GList *rows = gtk_tree_selection_get_selected_rows (selection, &model);
  GPtrArray *items = g_ptr_array_new_with_free_func (g_object_unref);

  for (GList *l = rows; l != NULL; l = l->next)
    {
      GtkTreeIter iter;
      PbMessageItem *item = NULL;

      if (gtk_tree_model_get_iter (model, &iter, l->data))
        {
          gtk_tree_model_get (model, &iter, COL_ITEM, &item, -1);
          g_ptr_array_add (items, item);
        }
    }
  g_list_free_full (rows, (GDestroyNotify) gtk_tree_path_free);
  return items;
}

static char *
item_key (PbMessageItem *item)
{
  return row_key (pb_message_item_get_account_name (item), pb_message_item_get_uidl (item));
}

static gboolean
find_item_iter (PbWindow   *self,
                const char *uidl,
                GtkTreeIter *iter)
{
  GtkTreeModel *model = GTK_TREE_MODEL (self->store);

  if (!gtk_tree_model_get_iter_first (model, iter))
    return FALSE;
  do
    {
      g_autoptr(PbMessageItem) item = NULL;

      gtk_tree_model_get (model, iter, COL_ITEM, &item, -1);
      if (g_str_equal (pb_message_item_get_uidl (item), uidl))
        return TRUE;
    }
  while (gtk_tree_model_iter_next (model, iter));
  return FALSE;
}

static void
update_title (PbWindow *self)
{
  guint count = pb_application_get_new_count (self->application);
  g_autofree char *subtitle = NULL;

  if (count > 0)
    subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u new message",
                                             "%u new messages", count), count);
  gtk_header_bar_set_subtitle (self->header_bar, subtitle);
}

/* Rebuilds the message list from the statuses, keeping the selection. */
/* The page where the list would be. "No new mail" only when the checks
 * worked: an account whose check failed has not said whether mail waits,
 * so that page shows the problem instead. @failed: set when every account
 * shown is in error (one of them). */
static void
show_no_mail (PbWindow      *self,
              PbAccountInfo *failed,
              guint          failed_count,
              gint64         last_check,
              gint64         now)
{
  g_autofree char *problem = NULL;
  g_autofree char *when = NULL;

  if (failed != NULL && failed_count == 1)
    {
      problem = pb_account_info_describe_error (failed, NULL);
      gtk_label_set_text (self->no_mail_label, problem);
      gtk_label_set_text (self->no_mail_detail, pb_account_info_get_error (failed)->message);
    }
  else if (failed != NULL)
    {
      gtk_label_set_text (self->no_mail_label, _("No account could be checked"));
      gtk_label_set_text (self->no_mail_detail,
                          _("Each account on the left says what went wrong and how to fix it."));
    }
  else
    {
      when = pb_format_last_check (last_check, now);
      gtk_label_set_text (self->no_mail_label, _("No new mail"));
      gtk_label_set_text (self->no_mail_detail, when);
    }
  gtk_image_set_from_icon_name (self->no_mail_icon,
                                failed != NULL ? "popbiff-error-symbolic" : "popbiff-no-mail-symbolic",
                                GTK_ICON_SIZE_DIALOG);
}

/* @text folded for a search that ignores case and accents: "muller"
 * finds "Müller", "REUNION" finds "Réunion". */
static char *
fold_for_search (const char *text)
{
  g_autofree char *decomposed = g_utf8_normalize (text != NULL ? text : "", -1, G_NORMALIZE_ALL);
  g_autofree char *folded = g_utf8_casefold (decomposed != NULL ? decomposed : "", -1);
  GString *bare = g_string_sized_new (strlen (folded));

  for (const char *p = folded; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_type (c) != G_UNICODE_NON_SPACING_MARK)
        g_string_append_unichar (bare, c);
    }
  return g_string_free (bare, FALSE);
}

static gboolean
item_matches (PbMessageItem *item,
              const char    *search)
{
  const char *fields[] = {
    pb_message_item_get_from_display (item),
    pb_message_item_get_from_address (item),
    pb_message_item_get_subject (item),
  };

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autofree char *folded = fold_for_search (fields[i]);

      if (strstr (folded, search) != NULL)
        return TRUE;
    }
  return FALSE;
}

/* The key of the row at the top of the list as scrolled, or NULL when the
 * list is at its top (where new mail appears, and should be seen). */
static char *
dup_scroll_anchor (PbWindow *self)
{
  GtkAdjustment *vadjustment = gtk_scrollable_get_vadjustment (GTK_SCROLLABLE (self->messages_view));
  g_autoptr(GtkTreePath) start = NULL;
  g_autoptr(PbMessageItem) item = NULL;
  GtkTreeIter iter;
  GdkRectangle area;

  if (vadjustment == NULL ||
      gtk_adjustment_get_value (vadjustment) <= gtk_adjustment_get_lower (vadjustment) ||
      !gtk_tree_view_get_visible_range (self->messages_view, &start, NULL))
    return NULL;
  /* The first row shown whole: anchoring on one cut off at the top would
   * scroll up a little at every refresh. */
  gtk_tree_view_get_background_area (self->messages_view, start, NULL, &area);
  if (area.y < 0)
    gtk_tree_path_next (start);
  if (!gtk_tree_model_get_iter (GTK_TREE_MODEL (self->store), &iter, start))
    return NULL;
  gtk_tree_model_get (GTK_TREE_MODEL (self->store), &iter, COL_ITEM, &item, -1);
  return item != NULL ? item_key (item) : NULL;
}

static gboolean
refresh_messages (gpointer user_data)
{
  PbWindow *self = user_data;
  g_autoptr(GPtrArray) selected = get_selected_items (self);
  g_autoptr(GHashTable) keep = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *anchor = dup_scroll_anchor (self);
  GtkTreeSelection *selection = gtk_tree_view_get_selection (self->messages_view);
  GtkTreeIter *row;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  guint n = g_list_model_get_n_items (self->statuses);
  guint shown = 0;
  guint hidden = 0;  /* by the search */
  guint accounts_shown = 0;
  PbAccountInfo *failed = NULL;  /* the last shown account in error */
  guint failed_count = 0;
  gint64 last_check = 0;

  self->refresh_id = 0;

  for (guint i = 0; i < selected->len; i++)
    g_hash_table_add (keep, item_key (g_ptr_array_index (selected, i)));

  g_hash_table_remove_all (self->rows);
  gtk_list_store_clear (self->store);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PbAccountInfo) status = g_list_model_get_item (self->statuses, i);
      GPtrArray *messages = pb_account_info_get_messages (status);

      if (self->filter_account != NULL &&
          !g_str_equal (self->filter_account, pb_account_info_get_name (status)))
        continue;
      last_check = MAX (last_check, pb_account_info_get_last_check (status));
      accounts_shown++;
      if (pb_account_info_get_phase (status) == PB_ACCOUNT_PHASE_ERROR)
        {
          failed = status;
          failed_count++;
        }

      for (guint j = 0; j < messages->len; j++)
        {
          PbMessageItem *item = g_ptr_array_index (messages, j);
          g_autofree char *date = pb_format_message_date (pb_message_item_get_date (item), now);
          g_autofree char *size = g_format_size (pb_message_item_get_size (item));
          g_autofree char *key = item_key (item);
          const guint64 *done = NULL;
          GtkTreeIter iter;
          int progress = 0;

          if (self->search != NULL && !item_matches (item, self->search))
            {
              hidden++;
              continue;
            }
          if (self->download_done != NULL &&
              (done = g_hash_table_lookup (self->download_done, key)) != NULL &&
              pb_message_item_get_size (item) > 0)
            progress = (int) MIN (100, *done * 100 / pb_message_item_get_size (item));

          gtk_list_store_insert_with_values (self->store, &iter, -1,
                                             COL_ITEM, item,
                                             COL_FROM, pb_message_item_get_from_display (item),
                                             COL_SUBJECT, pb_message_item_get_subject (item),
                                             COL_DATE_TEXT, date,
                                             COL_SIZE_TEXT, size,
                                             COL_ACCOUNT, pb_message_item_get_account_name (item),
                                             COL_DATE, pb_message_item_get_date (item),
                                             COL_SIZE, pb_message_item_get_size (item),
                                             COL_PROGRESS, progress,
                                             COL_PROGRESS_VISIBLE, done != NULL,
                                             -1);
          if (g_hash_table_contains (keep, key))
            gtk_tree_selection_select_iter (selection, &iter);
          g_hash_table_insert (self->rows, g_steal_pointer (&key), gtk_tree_iter_copy (&iter));
          shown++;
        }
    }
  /* The place the person scrolled to stays, whatever came or went: this
   * runs at every check. */
  if (anchor != NULL && (row = g_hash_table_lookup (self->rows, anchor)) != NULL)
    {
      g_autoptr(GtkTreePath) path = gtk_tree_model_get_path (GTK_TREE_MODEL (self->store), row);

      gtk_tree_view_scroll_to_cell (self->messages_view, path, NULL, TRUE, 0.0, 0.0);
    }

  gtk_stack_set_visible_child_name (self->main_stack, n > 0 ? "content" : "empty");
  /* The welcome page has nothing to search. */
  gtk_widget_set_visible (self->search_button, n > 0);
  g_simple_action_set_enabled (G_SIMPLE_ACTION (g_action_map_lookup_action (G_ACTION_MAP (self), "find")),
                               n > 0);
  gtk_stack_set_visible_child_name (self->messages_stack, shown > 0 ? "list" : "none");
  if (shown == 0 && hidden > 0)
    {
      g_autofree char *text = g_strdup_printf (_("No new message matches “%s”"),
                                               gtk_entry_get_text (GTK_ENTRY (self->search_entry)));

      gtk_label_set_text (self->no_mail_label, text);
      gtk_label_set_text (self->no_mail_detail,
                          _("The search looks at the sender and the subject of the new messages."));
      gtk_image_set_from_icon_name (self->no_mail_icon, "edit-find-symbolic", GTK_ICON_SIZE_DIALOG);
    }
  else if (shown == 0)
    show_no_mail (self, accounts_shown > 0 && failed_count == accounts_shown ? failed : NULL,
                  failed_count, last_check, now);
  update_title (self);
  update_actions (self);
  return G_SOURCE_REMOVE;
}

static void
queue_refresh (PbWindow *self)
{
  /* Several statuses change at once after a check: redraw once. */
  if (self->refresh_id == 0)
    self->refresh_id = g_idle_add (refresh_messages, self);
}

static void
on_row_fix (PbWindow     *self,
            int           fix,
            PbAccountRow *row)
{
  PbAccountInfo *status = pb_account_row_get_status (row);
  const char *action = NULL;

  switch ((PbErrorFix) fix)
    {
    case PB_ERROR_FIX_EDIT_ACCOUNT:
      action = "edit-account";
      break;
    case PB_ERROR_FIX_REVIEW_CERTIFICATE:
      action = "review-certificate";
      break;
    case PB_ERROR_FIX_CHECK_AGAIN:
      action = "check-account";
      break;
    case PB_ERROR_FIX_NONE:
    default:
      return;
    }
  g_action_group_activate_action (G_ACTION_GROUP (self->application), action,
                                  g_variant_new_string (pb_account_info_get_name (status)));
}

static void
rebuild_accounts (PbWindow *self)
{
  g_autofree char *selected = g_strdup (self->filter_account);
  g_autoptr(GList) children = gtk_container_get_children (GTK_CONTAINER (self->accounts_list));
  guint n = g_list_model_get_n_items (self->statuses);
  GtkWidget *all;

  for (GList *l = children; l != NULL; l = l->next)
    gtk_widget_destroy (l->data);

  all = pb_account_row_new (NULL, self->statuses);
  gtk_container_add (GTK_CONTAINER (self->accounts_list), all);
  gtk_list_box_select_row (self->accounts_list, GTK_LIST_BOX_ROW (all));

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PbAccountInfo) status = g_list_model_get_item (self->statuses, i);
      GtkWidget *row = pb_account_row_new (status, NULL);

      g_signal_connect_object (row, "fix", G_CALLBACK (on_row_fix), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (status, "changed", G_CALLBACK (queue_refresh), self, G_CONNECT_SWAPPED);
      /* The "All accounts" row sums up every account. */
      g_signal_connect_object (status, "changed", G_CALLBACK (pb_account_row_update), all,
                               G_CONNECT_SWAPPED);
      gtk_container_add (GTK_CONTAINER (self->accounts_list), row);
      if (selected != NULL && g_str_equal (selected, pb_account_info_get_name (status)))
        gtk_list_box_select_row (self->accounts_list, GTK_LIST_BOX_ROW (row));
    }
  queue_refresh (self);
}

static void
on_statuses_changed (PbWindow   *self,
                     guint       position,
                     guint       removed,
                     guint       added,
                     GListModel *model)
{
  rebuild_accounts (self);
}

static void
on_account_selected (PbWindow      *self,
                     GtkListBoxRow *row,
                     GtkListBox    *box)
{
  PbAccountInfo *status = row != NULL ? pb_account_row_get_status (PB_ACCOUNT_ROW (row)) : NULL;
  const char *name = status != NULL ? pb_account_info_get_name (status) : NULL;

  if (g_strcmp0 (name, self->filter_account) == 0)
    return;
  g_free (self->filter_account);
  self->filter_account = g_strdup (name);
  queue_refresh (self);
}

static gboolean
on_tick (gpointer user_data)
{
  PbWindow *self = user_data;

  /* "Checked 3 minutes ago" ages by itself. */
  g_autoptr(GList) rows = gtk_container_get_children (GTK_CONTAINER (self->accounts_list));

  for (GList *l = rows; l != NULL; l = l->next)
    pb_account_row_update (l->data);
  return G_SOURCE_CONTINUE;
}

/* The account an account-wide action applies to: the one selected on the
 * left, else the only one, else the one of the selected messages. */
static const char *
current_account (PbWindow *self)
{
  g_autoptr(GPtrArray) selected = NULL;

  if (self->filter_account != NULL)
    return self->filter_account;
  if (g_list_model_get_n_items (self->statuses) == 1)
    {
      g_autoptr(PbAccountInfo) status = g_list_model_get_item (self->statuses, 0);

      return g_intern_string (pb_account_info_get_name (status));
    }
  selected = get_selected_items (self);
  if (selected->len > 0)
    return g_intern_string (pb_message_item_get_account_name (g_ptr_array_index (selected, 0)));
  return NULL;
}

static void
set_action_enabled (PbWindow   *self,
                    const char *name,
                    gboolean    enabled)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), name);

  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), enabled);
}

static void
update_actions (PbWindow *self)
{
  GtkTreeSelection *selection = gtk_tree_view_get_selection (self->messages_view);
  gboolean any = gtk_tree_selection_count_selected_rows (selection) > 0;
  gboolean busy = self->download_cancellable != NULL;
  gboolean account = current_account (self) != NULL;

  set_action_enabled (self, "download", any && !busy);
  set_action_enabled (self, "mark-read", any && !busy);
  set_action_enabled (self, "open-folder", account);
  set_action_enabled (self, "cancel-download", busy);
  set_action_enabled (self, "edit-selected-account", account);
  set_action_enabled (self, "remove-selected-account", account && !busy);
  set_action_enabled (self, "open-downloaded", self->last_path != NULL);
  set_action_enabled (self, "open-downloaded-folder", self->last_account != NULL);
}

static void
update_overall_progress (PbWindow *self)
{
  g_autofree char *text = NULL;
  guint64 done = self->download_bytes_before + self->download_job_bytes;

  gtk_progress_bar_set_fraction (self->progress_bar,
                                 self->download_total > 0 ?
                                 MIN (1.0, (double) done / (double) self->download_total) : 0.0);
  /* Translators: "Downloading 2 of 5 messages" */
  text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Downloading %u of %u message",
                                       "Downloading %u of %u messages", self->download_count),
                          MIN (self->download_finished + 1, self->download_count), self->download_count);
  gtk_progress_bar_set_text (self->progress_bar, text);
}

/* Shows @done octets of the job's message at @position on its row. */
static void
set_row_progress (PbWindow    *self,
                  DownloadJob *job,
                  guint        position,
                  guint64      done)
{
  g_autofree char *key = row_key (job->account, job->uidls[position]);
  guint64 *slot = g_hash_table_lookup (self->download_done, key);
  guint64 size = job->sizes[position];
  GtkTreeIter *iter;

  if (slot == NULL)
    {
      slot = g_new0 (guint64, 1);
      g_hash_table_insert (self->download_done, g_strdup (key), slot);
    }
  *slot = done;
  iter = g_hash_table_lookup (self->rows, key);
  if (iter != NULL)
    gtk_list_store_set (self->store, iter,
                        COL_PROGRESS, size > 0 ? (int) MIN (100, done * 100 / size) : 0,
                        COL_PROGRESS_VISIBLE, TRUE,
                        -1);
}

static gboolean
job_message_finished (PbWindow    *self,
                      DownloadJob *job,
                      guint        position)
{
  g_autofree char *key = row_key (job->account, job->uidls[position]);
  guint64 *slot = g_hash_table_lookup (self->download_done, key);

  return slot != NULL && *slot >= job->sizes[position];
}

/* @uidl NULL: @done octets of the whole job so far. The job fetches its
 * messages in the order given, so the octets beyond the finished ones
 * belong to the first unfinished message. Each report costs the same
 * however many messages the job has. */
static void
on_download_progress (const char *uidl,
                      guint64     done,
                      guint64     total,
                      gpointer    user_data)
{
  PbWindow *self = user_data;
  DownloadJob *job = g_queue_peek_head (&self->download_jobs);

  if (self->download_done == NULL || job == NULL)
    return;

  if (uidl != NULL)
    {
      guint position = GPOINTER_TO_UINT (g_hash_table_lookup (job->positions, uidl));

      self->download_finished++;
      /* Counted here, not from the job's results: a cancelled job has
       * none, though the messages before the cancel are on disk. */
      if (done > 0)
        self->download_ok++;
      if (position > 0)
        set_row_progress (self, job, position - 1, job->sizes[position - 1]);
    }
  else
    {
      self->download_job_bytes = done;
      while (job->uidls[job->first_unfinished] != NULL &&
             job_message_finished (self, job, job->first_unfinished))
        job->finished_bytes += job->sizes[job->first_unfinished++];
      if (job->uidls[job->first_unfinished] != NULL)
        set_row_progress (self, job, job->first_unfinished,
                          done > job->finished_bytes ? done - job->finished_bytes : 0);
    }
  update_overall_progress (self);
}

static void
finish_downloads (PbWindow *self)
{
  g_autofree char *summary = NULL;
  gboolean cancelled = g_cancellable_is_cancelled (self->download_cancellable);

  g_clear_object (&self->download_cancellable);
  g_clear_pointer (&self->download_done, g_hash_table_unref);
  gtk_revealer_set_reveal_child (self->progress_revealer, FALSE);

  if (self->download_errors->len > 0)
    {
      summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                              "Downloaded %u of %u message. %s",
                                              "Downloaded %u of %u messages. %s",
                                              self->download_count),
                                 self->download_ok, self->download_count,
                                 self->download_errors->str);
      gtk_info_bar_set_message_type (self->result_bar, GTK_MESSAGE_WARNING);
    }
  else if (cancelled)
    {
      summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                              "Download cancelled; %u message was saved.",
                                              "Download cancelled; %u messages were saved.",
                                              self->download_ok), self->download_ok);
      gtk_info_bar_set_message_type (self->result_bar, GTK_MESSAGE_INFO);
    }
  else
    {
      summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Downloaded %u message.",
                                              "Downloaded %u messages.", self->download_ok),
                                 self->download_ok);
      gtk_info_bar_set_message_type (self->result_bar, GTK_MESSAGE_INFO);
    }
  gtk_label_set_text (self->result_label, summary);
  gtk_widget_set_visible (self->open_message_button, self->download_ok == 1 && self->last_path != NULL);
  gtk_widget_show (GTK_WIDGET (self->result_bar));
  g_string_truncate (self->download_errors, 0);
  queue_refresh (self);
  update_actions (self);
}

static void
on_download_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(PbWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) outcomes = NULL;
  DownloadJob *job = g_queue_pop_head (&self->download_jobs);

  outcomes = pb_application_download_finish (PB_APPLICATION (source), result, &error);
  if (outcomes == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_string_append_printf (self->download_errors, "%s ", error->message);
    }
  else
    {
      for (guint i = 0; i < outcomes->len; i++)
        {
          PbDownloadOutcome *outcome = g_ptr_array_index (outcomes, i);

          if (outcome->path != NULL)
            {
              g_free (self->last_path);
              self->last_path = g_strdup (outcome->path);
              g_free (self->last_account);
              self->last_account = g_strdup (job->account);
            }
          else if (outcome->error != NULL &&
                   !g_error_matches (outcome->error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
                   self->download_errors->len < 1024)
            g_string_append_printf (self->download_errors, "%s ", outcome->error->message);
        }
    }
  self->download_bytes_before += self->download_job_bytes;
  self->download_job_bytes = 0;
  download_job_free (job);

  if (self->download_cancellable == NULL)
    return;  /* the window went away */
  if (g_cancellable_is_cancelled (self->download_cancellable))
    {
      g_queue_clear_full (&self->download_jobs, (GDestroyNotify) download_job_free);
      finish_downloads (self);
      return;
    }
  start_next_download (self);
}

static void
start_next_download (PbWindow *self)
{
  DownloadJob *job = g_queue_peek_head (&self->download_jobs);

  if (job == NULL)
    {
      finish_downloads (self);
      return;
    }
  pb_application_download_async (self->application, job->account,
                                 (const char * const *) job->uidls,
                                 on_download_progress, self,
                                 self->download_cancellable,
                                 on_download_done, g_object_ref (self));
}

static void
download_activated (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  PbWindow *self = user_data;
  g_autoptr(GPtrArray) items = get_selected_items (self);
  g_autoptr(GHashTable) by_account = g_hash_table_new (g_str_hash, g_str_equal);
  guint n = g_list_model_get_n_items (self->statuses);

  if (items->len == 0 || self->download_cancellable != NULL)
    return;

  self->download_cancellable = g_cancellable_new ();
  self->download_done = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->download_total = 0;
  self->download_count = items->len;
  self->download_ok = 0;
  self->download_finished = 0;
  self->download_bytes_before = 0;
  self->download_job_bytes = 0;
  g_clear_pointer (&self->last_path, g_free);
  gtk_widget_hide (GTK_WIDGET (self->result_bar));

  /* One job per account, in the order the accounts are listed. */
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PbAccountInfo) status = g_list_model_get_item (self->statuses, i);
      const char *name = pb_account_info_get_name (status);
      g_autoptr(GPtrArray) uidls = g_ptr_array_new ();
      g_autoptr(GArray) sizes = g_array_new (FALSE, FALSE, sizeof (guint64));

      for (guint j = 0; j < items->len; j++)
        {
          PbMessageItem *item = g_ptr_array_index (items, j);

          if (g_str_equal (pb_message_item_get_account_name (item), name))
            {
              guint64 size = pb_message_item_get_size (item);

              g_ptr_array_add (uidls, g_strdup (pb_message_item_get_uidl (item)));
              g_array_append_val (sizes, size);
              self->download_total += size;
            }
        }
      if (uidls->len > 0)
        {
          DownloadJob *job = g_new0 (DownloadJob, 1);

          g_ptr_array_add (uidls, NULL);
          job->account = g_strdup (name);
          job->uidls = (GStrv) g_ptr_array_free (g_steal_pointer (&uidls), FALSE);
          job->sizes = (guint64 *) (void *) g_array_free (g_steal_pointer (&sizes), FALSE);
          job->positions = g_hash_table_new (g_str_hash, g_str_equal);
          for (guint j = 0; job->uidls[j] != NULL; j++)
            g_hash_table_insert (job->positions, job->uidls[j], GUINT_TO_POINTER (j + 1));
          g_queue_push_tail (&self->download_jobs, job);
        }
    }

  update_overall_progress (self);
  gtk_revealer_set_reveal_child (self->progress_revealer, TRUE);
  update_actions (self);
  start_next_download (self);
}

static void
cancel_download_activated (GSimpleAction *action,
                           GVariant      *parameter,
                           gpointer       user_data)
{
  PbWindow *self = user_data;

  if (self->download_cancellable != NULL)
    g_cancellable_cancel (self->download_cancellable);
}

static void
mark_read_activated (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  PbWindow *self = user_data;
  g_autoptr(GPtrArray) items = get_selected_items (self);
  guint n = g_list_model_get_n_items (self->statuses);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PbAccountInfo) status = g_list_model_get_item (self->statuses, i);
      const char *name = pb_account_info_get_name (status);
      g_autoptr(GPtrArray) uidls = g_ptr_array_new ();

      for (guint j = 0; j < items->len; j++)
        {
          PbMessageItem *item = g_ptr_array_index (items, j);

          if (g_str_equal (pb_message_item_get_account_name (item), name))
            g_ptr_array_add (uidls, (gpointer) pb_message_item_get_uidl (item));
        }
      if (uidls->len == 0)
        continue;
      g_ptr_array_add (uidls, NULL);
      pb_application_dismiss (self->application, name, (const char * const *) uidls->pdata);
    }
}

static void
open_folder_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  PbWindow *self = user_data;
  const char *name = current_account (self);

  if (name != NULL)
    pb_application_open_folder (self->application, name, GTK_WINDOW (self));
}

static void
on_launch_done (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(PbWindow) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!g_app_info_launch_default_for_uri_finish (result, &error))
    {
      g_autofree char *text = g_strdup_printf (_("Could not open the message: %s"), error->message);

      gtk_info_bar_set_message_type (self->result_bar, GTK_MESSAGE_WARNING);
      gtk_label_set_text (self->result_label, text);
      gtk_widget_show (GTK_WIDGET (self->result_bar));
    }
}

static void
open_downloaded_activated (GSimpleAction *action,
                           GVariant      *parameter,
                           gpointer       user_data)
{
  PbWindow *self = user_data;
  g_autofree char *uri = NULL;
  g_autoptr(GAppLaunchContext) context = NULL;

  if (self->last_path == NULL)
    return;
  uri = g_filename_to_uri (self->last_path, NULL, NULL);
  if (uri == NULL)
    return;
  context = G_APP_LAUNCH_CONTEXT (gdk_display_get_app_launch_context (gtk_widget_get_display (GTK_WIDGET (self))));
  g_app_info_launch_default_for_uri_async (uri, context, NULL, on_launch_done, g_object_ref (self));
}

static void
open_downloaded_folder_activated (GSimpleAction *action,
                                  GVariant      *parameter,
                                  gpointer       user_data)
{
  PbWindow *self = user_data;

  if (self->last_account != NULL)
    pb_application_open_folder (self->application, self->last_account, GTK_WINDOW (self));
}

static void
on_result_bar_response (PbWindow *self,
                        int       response)
{
  if (response == GTK_RESPONSE_CLOSE)
    gtk_widget_hide (GTK_WIDGET (self->result_bar));
}

static void
edit_selected_account_activated (GSimpleAction *action,
                                 GVariant      *parameter,
                                 gpointer       user_data)
{
  PbWindow *self = user_data;
  const char *name = current_account (self);

  if (name != NULL)
    g_action_group_activate_action (G_ACTION_GROUP (self->application), "edit-account",
                                    g_variant_new_string (name));
}

static void
remove_selected_account_activated (GSimpleAction *action,
                                   GVariant      *parameter,
                                   gpointer       user_data)
{
  PbWindow *self = user_data;
  const char *name = current_account (self);

  if (name != NULL)
    g_action_group_activate_action (G_ACTION_GROUP (self->application), "remove-account",
                                    g_variant_new_string (name));
}

static void
on_search_changed (PbWindow *self)
{
  const char *text = gtk_entry_get_text (GTK_ENTRY (self->search_entry));

  g_clear_pointer (&self->search, g_free);
  if (*text != '\0')
    self->search = fold_for_search (text);
  queue_refresh (self);
}

/* Ctrl+F and the search button: the search bar and the action agree. */
static void
find_change_state (GSimpleAction *action,
                   GVariant      *value,
                   gpointer       user_data)
{
  PbWindow *self = user_data;
  gboolean on = g_variant_get_boolean (value);

  g_simple_action_set_state (action, value);
  if (gtk_search_bar_get_search_mode (self->search_bar) != on)
    gtk_search_bar_set_search_mode (self->search_bar, on);
  if (on)
    gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
find_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  g_autoptr(GVariant) state = g_action_get_state (G_ACTION (action));

  g_action_change_state (G_ACTION (action), g_variant_new_boolean (!g_variant_get_boolean (state)));
}

static void
on_search_mode_changed (PbWindow *self)
{
  gboolean on = gtk_search_bar_get_search_mode (self->search_bar);
  GAction *find = g_action_map_lookup_action (G_ACTION_MAP (self), "find");

  g_simple_action_set_state (G_SIMPLE_ACTION (find), g_variant_new_boolean (on));
  /* Closed (Escape, its close button): every message again. */
  if (!on)
    gtk_entry_set_text (GTK_ENTRY (self->search_entry), "");
}

static const GActionEntry win_entries[] = {
  { "find", find_activated, NULL, "false", find_change_state },
  { "download", download_activated },
  { "cancel-download", cancel_download_activated },
  { "mark-read", mark_read_activated },
  { "open-folder", open_folder_activated },
  { "open-downloaded", open_downloaded_activated },
  { "open-downloaded-folder", open_downloaded_folder_activated },
  { "edit-selected-account", edit_selected_account_activated },
  { "remove-selected-account", remove_selected_account_activated },
};

static void
on_row_activated (PbWindow          *self,
                  GtkTreePath       *path,
                  GtkTreeViewColumn *column)
{
  /* Enter or a double click on a message downloads it. */
  g_action_group_activate_action (G_ACTION_GROUP (self), "download", NULL);
}

static GtkTreeViewColumn *
add_text_column (PbWindow   *self,
                 const char *title,
                 int         text_column,
                 int         sort_column,
                 gboolean    expand)
{
  GtkCellRenderer *renderer = gtk_cell_renderer_text_new ();
  GtkTreeViewColumn *column;

  g_object_set (renderer, "ellipsize", PANGO_ELLIPSIZE_END, NULL);
  column = gtk_tree_view_column_new_with_attributes (title, renderer, "text", text_column, NULL);
  gtk_tree_view_column_set_resizable (column, TRUE);
  gtk_tree_view_column_set_expand (column, expand);
  gtk_tree_view_column_set_sort_column_id (column, sort_column);
  gtk_tree_view_append_column (self->messages_view, column);
  return column;
}

/* Mail is read newest first, so that is the Date column's first order:
 * GTK sorts a column "ascending" on its first click and draws that arrow
 * pointing down, so ascending here means newest first, with the arrow
 * pointing down the way the dates go. By the time itself, never the text
 * ("Yesterday", "Tue 08:12"); an unknown date (0) sorts as the oldest. */
static int
compare_dates_newest_first (GtkTreeModel *model,
                            GtkTreeIter  *a,
                            GtkTreeIter  *b,
                            gpointer      user_data)
{
  gint64 date_a, date_b;

  gtk_tree_model_get (model, a, COL_DATE, &date_a, -1);
  gtk_tree_model_get (model, b, COL_DATE, &date_b, -1);
  return date_a > date_b ? -1 : date_a < date_b ? 1 : 0;
}

/* The list cuts long subjects and senders short and shows a sender's
 * name only: the tooltip has both whole, with the address. */
static gboolean
on_messages_query_tooltip (PbWindow   *self,
                           int         x,
                           int         y,
                           gboolean    keyboard_mode,
                           GtkTooltip *tooltip)
{
  GtkTreeModel *model;
  GtkTreeIter iter;
  g_autoptr(GtkTreePath) path = NULL;
  g_autofree char *text = NULL;

  if (!gtk_tree_view_get_tooltip_context (self->messages_view, &x, &y, keyboard_mode,
                                          &model, &path, &iter))
    return FALSE;
  text = pb_window_dup_message_tooltip (self, path);
  if (text == NULL)
    return FALSE;
  gtk_tooltip_set_text (tooltip, text);
  gtk_tree_view_set_tooltip_row (self->messages_view, tooltip, path);
  return TRUE;
}

static void
setup_messages_view (PbWindow *self)
{
  GtkTreeViewColumn *column;
  GtkCellRenderer *progress;

  self->rows = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) gtk_tree_iter_free);
  self->store = gtk_list_store_new (N_COLUMNS, PB_TYPE_MESSAGE_ITEM, G_TYPE_STRING, G_TYPE_STRING,
                                    G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_INT64,
                                    G_TYPE_UINT64, G_TYPE_INT, G_TYPE_BOOLEAN);
  gtk_tree_sortable_set_sort_func (GTK_TREE_SORTABLE (self->store), COL_DATE,
                                   compare_dates_newest_first, NULL, NULL);
  gtk_tree_sortable_set_sort_column_id (GTK_TREE_SORTABLE (self->store), COL_DATE,
                                        GTK_SORT_ASCENDING);
  gtk_tree_view_set_model (self->messages_view, GTK_TREE_MODEL (self->store));
  gtk_tree_view_set_search_column (self->messages_view, COL_SUBJECT);

  column = add_text_column (self, _("From"), COL_FROM, COL_FROM, FALSE);
  gtk_tree_view_column_set_min_width (column, 120);
  gtk_tree_view_column_set_fixed_width (column, 180);
  gtk_tree_view_column_set_sizing (column, GTK_TREE_VIEW_COLUMN_FIXED);
  column = add_text_column (self, _("Subject"), COL_SUBJECT, COL_SUBJECT, TRUE);
  gtk_tree_view_column_set_min_width (column, 160);
  column = add_text_column (self, _("Date"), COL_DATE_TEXT, COL_DATE, FALSE);
  gtk_tree_view_column_set_min_width (column, 100);
  column = add_text_column (self, _("Size"), COL_SIZE_TEXT, COL_SIZE, FALSE);
  gtk_tree_view_column_set_min_width (column, 80);

  /* Per message progress while downloading, in the Size column. */
  progress = gtk_cell_renderer_progress_new ();
  gtk_tree_view_column_pack_start (column, progress, FALSE);
  gtk_tree_view_column_add_attribute (column, progress, "value", COL_PROGRESS);
  gtk_tree_view_column_add_attribute (column, progress, "visible", COL_PROGRESS_VISIBLE);

  add_text_column (self, _("Account"), COL_ACCOUNT, COL_ACCOUNT, FALSE);

  gtk_tree_selection_set_mode (gtk_tree_view_get_selection (self->messages_view),
                               GTK_SELECTION_MULTIPLE);
  g_signal_connect_object (gtk_tree_view_get_selection (self->messages_view), "changed",
                           G_CALLBACK (update_actions), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->messages_view, "row-activated",
                           G_CALLBACK (on_row_activated), self, G_CONNECT_SWAPPED);
  gtk_widget_set_has_tooltip (GTK_WIDGET (self->messages_view), TRUE);
  g_signal_connect_object (self->messages_view, "query-tooltip",
                           G_CALLBACK (on_messages_query_tooltip), self, G_CONNECT_SWAPPED);
}

static void
save_window_size (PbWindow *self)
{
  GSettings *settings = pb_application_get_settings (self->application);
  gboolean maximized = gtk_window_is_maximized (GTK_WINDOW (self));
  int width, height;

  if (settings == NULL)
    return;
  g_settings_set_boolean (settings, "window-maximized", maximized);
  if (maximized)
    return;
  gtk_window_get_size (GTK_WINDOW (self), &width, &height);
  g_settings_set_int (settings, "window-width", width);
  g_settings_set_int (settings, "window-height", height);
}

static void
pb_window_dispose (GObject *object)
{
  PbWindow *self = PB_WINDOW (object);

  if (self->download_cancellable != NULL)
    g_cancellable_cancel (self->download_cancellable);
  g_clear_object (&self->download_cancellable);
  g_queue_clear_full (&self->download_jobs, (GDestroyNotify) download_job_free);
  g_clear_pointer (&self->download_done, g_hash_table_unref);
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_clear_handle_id (&self->tick_id, g_source_remove);
  g_clear_object (&self->statuses);
  g_clear_pointer (&self->rows, g_hash_table_unref);
  g_clear_object (&self->store);

  G_OBJECT_CLASS (pb_window_parent_class)->dispose (object);
}

static void
pb_window_finalize (GObject *object)
{
  PbWindow *self = PB_WINDOW (object);

  g_free (self->filter_account);
  g_free (self->search);
  g_free (self->last_path);
  g_free (self->last_account);
  g_string_free (self->download_errors, TRUE);

  G_OBJECT_CLASS (pb_window_parent_class)->finalize (object);
}

static void
pb_window_class_init (PbWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pb_window_dispose;
  object_class->finalize = pb_window_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/popbiff/Popbiff/ui/pb-window.ui");
  gtk_widget_class_bind_template_child (widget_class, PbWindow, header_bar);
  gtk_widget_class_bind_template_child (widget_class, PbWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, PbWindow, accounts_list);
  gtk_widget_class_bind_template_child (widget_class, PbWindow, messages_stack);
  gtk_widget_class_bind_template_child (widget_class, PbWindow, messages_view);
  gtk_widget_class_bind_template_child (widget_class, PbWindow, no_mail_icon);
  gtk_widget_class_bind_template_child (widget_class, PbWindow, no_mail_label);
  gtk_widget_class_bind_template_child (widget_class, PbWindow, no_mail_detail);
  gtk_widget_class_bind_template_child (widget_class, PbWindow, progress_revealer);
  gtk_widget_class_bind_template_child (widget_class, PbWindow, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, PbWindow, result_bar);
  gtk_widget_class_bind_template_child (widget_class, PbWindow, result_label);
  gtk_widget_class_bind_template_child (widget_class, PbWindow, search_bar);
  gtk_widget_class_bind_template_child (widget_class, PbWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, PbWindow, search_button);
  gtk_widget_class_bind_template_callback (widget_class, on_search_changed);
  gtk_widget_class_bind_template_child (widget_class, PbWindow, open_message_button);
  gtk_widget_class_bind_template_callback (widget_class, on_result_bar_response);
}

static void
pb_window_init (PbWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->download_errors = g_string_new (NULL);
  g_queue_init (&self->download_jobs);
  g_action_map_add_action_entries (G_ACTION_MAP (self), win_entries,
                                   G_N_ELEMENTS (win_entries), self);
  setup_messages_view (self);
  gtk_search_bar_connect_entry (self->search_bar, GTK_ENTRY (self->search_entry));
  g_signal_connect_object (self->search_bar, "notify::search-mode-enabled",
                           G_CALLBACK (on_search_mode_changed), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->accounts_list, "row-selected",
                           G_CALLBACK (on_account_selected), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self, "unmap", G_CALLBACK (save_window_size), self, G_CONNECT_SWAPPED);
  self->tick_id = g_timeout_add_seconds (60, on_tick, self);
}

PbWindow *
pb_window_new (PbApplication *application)
{
  PbWindow *self;
  GSettings *settings;

  g_return_val_if_fail (PB_IS_APPLICATION (application), NULL);

  self = g_object_new (PB_TYPE_WINDOW, "application", application, NULL);
  self->application = application;
  self->statuses = g_object_ref (pb_application_get_accounts (application));
  g_signal_connect_object (self->statuses, "items-changed",
                           G_CALLBACK (on_statuses_changed), self, G_CONNECT_SWAPPED);

  settings = pb_application_get_settings (application);
  if (settings != NULL)
    {
      gtk_window_set_default_size (GTK_WINDOW (self),
                                   g_settings_get_int (settings, "window-width"),
                                   g_settings_get_int (settings, "window-height"));
      if (g_settings_get_boolean (settings, "window-maximized"))
        gtk_window_maximize (GTK_WINDOW (self));
    }

  rebuild_accounts (self);
  refresh_messages (self);
  return self;
}

GtkListBox *
pb_window_get_accounts_list (PbWindow *self)
{
  g_return_val_if_fail (PB_IS_WINDOW (self), NULL);
  return self->accounts_list;
}

GtkTreeView *
pb_window_get_messages_view (PbWindow *self)
{
  g_return_val_if_fail (PB_IS_WINDOW (self), NULL);
  return self->messages_view;
}

const char *
pb_window_get_visible_page (PbWindow *self)
{
  g_return_val_if_fail (PB_IS_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (self->main_stack);
}

const char *
pb_window_get_messages_page (PbWindow *self)
{
  g_return_val_if_fail (PB_IS_WINDOW (self), NULL);
  return gtk_stack_get_visible_child_name (self->messages_stack);
}

char *
pb_window_dup_message_tooltip (PbWindow    *self,
                               GtkTreePath *path)
{
  g_autoptr(PbMessageItem) item = NULL;
  g_autofree char *sender = NULL;
  const char *name, *address;
  GtkTreeIter iter;

  g_return_val_if_fail (PB_IS_WINDOW (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  if (!gtk_tree_model_get_iter (GTK_TREE_MODEL (self->store), &iter, path))
    return NULL;
  gtk_tree_model_get (GTK_TREE_MODEL (self->store), &iter, COL_ITEM, &item, -1);
  name = pb_message_item_get_from_name (item);
  address = pb_message_item_get_from_address (item);
  if (name != NULL && address != NULL)
    /* Translators: a sender, "Jürgen Müller <juergen@example.de>" */
    sender = g_strdup_printf (_("%s <%s>"), name, address);
  else
    sender = g_strdup (pb_message_item_get_from_display (item));
  /* Translators: a message's tooltip in the list: its subject, then its sender */
  return g_strdup_printf (_("%s\nFrom: %s"), pb_message_item_get_subject (item), sender);
}

const char *
pb_window_get_no_mail_title (PbWindow *self)
{
  g_return_val_if_fail (PB_IS_WINDOW (self), NULL);
  return gtk_label_get_text (self->no_mail_label);
}

const char *
pb_window_get_no_mail_detail (PbWindow *self)
{
  g_return_val_if_fail (PB_IS_WINDOW (self), NULL);
  return gtk_label_get_text (self->no_mail_detail);
}

void
pb_window_select_messages (PbWindow           *self,
                           const char * const *uidls)
{
  GtkTreeSelection *selection;

  g_return_if_fail (PB_IS_WINDOW (self));

  /* Apply pending changes first so the rows exist. */
  if (self->refresh_id != 0)
    {
      g_clear_handle_id (&self->refresh_id, g_source_remove);
      refresh_messages (self);
    }
  selection = gtk_tree_view_get_selection (self->messages_view);
  gtk_tree_selection_unselect_all (selection);
  for (guint i = 0; uidls[i] != NULL; i++)
    {
      GtkTreeIter iter;

      if (find_item_iter (self, uidls[i], &iter))
        gtk_tree_selection_select_iter (selection, &iter);
    }
}

const char *
pb_window_get_filter_account (PbWindow *self)
{
  g_return_val_if_fail (PB_IS_WINDOW (self), NULL);
  return self->filter_account;
}

void
pb_window_set_filter_account (PbWindow   *self,
                              const char *name)
{
  g_autoptr(GList) children = NULL;

  g_return_if_fail (PB_IS_WINDOW (self));

  children = gtk_container_get_children (GTK_CONTAINER (self->accounts_list));
  for (GList *l = children; l != NULL; l = l->next)
    {
      PbAccountInfo *status = pb_account_row_get_status (l->data);

      if ((status == NULL && name == NULL) ||
          (status != NULL && name != NULL && g_str_equal (pb_account_info_get_name (status), name)))
        gtk_list_box_select_row (self->accounts_list, l->data);
    }
}

void
pb_window_download_all (PbWindow *self)
{
  g_return_if_fail (PB_IS_WINDOW (self));

  pb_window_set_filter_account (self, NULL);
  /* All means all, not what a search left in view. */
  gtk_search_bar_set_search_mode (self->search_bar, FALSE);
  g_clear_pointer (&self->search, g_free);
  queue_refresh (self);
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  refresh_messages (self);
  gtk_tree_selection_select_all (gtk_tree_view_get_selection (self->messages_view));
  g_action_group_activate_action (G_ACTION_GROUP (self), "download", NULL);
}

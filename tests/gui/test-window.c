/* The status window: what a person sees for each state of the accounts. */
#include <gtk/gtk.h>

#include "app/pb-account-row.h"
#include "app/pb-window.h"
#include "core/pb-core-error.h"
#include "gui-test-util.h"
#include "pb-test-util.h"

typedef struct {
  PbApplication *app;
  PbWindow      *window;
  GListStore    *accounts;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  /* One registered application per process (its D-Bus object path can
   * be exported once); each test starts with no accounts. */
  f->app = g_object_ref ((PbApplication *) data);
  g_list_store_remove_all (G_LIST_STORE (pb_application_get_accounts (f->app)));
  f->accounts = G_LIST_STORE (pb_application_get_accounts (f->app));
  f->window = pb_window_new (f->app);
  gtk_widget_show (GTK_WIDGET (f->window));
  gui_test_flush ();
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  gtk_widget_destroy (GTK_WIDGET (f->window));
  gui_test_flush ();
  g_clear_object (&f->app);
}

static PbAccountRow *
row_for (Fixture    *f,
         const char *name)
{
  g_autoptr(GList) rows = gtk_container_get_children (GTK_CONTAINER (pb_window_get_accounts_list (f->window)));

  for (GList *l = rows; l != NULL; l = l->next)
    {
      PbAccountInfo *info = pb_account_row_get_status (l->data);

      if (info != NULL && g_str_equal (pb_account_info_get_name (info), name))
        return l->data;
    }
  g_assert_not_reached ();
}

static guint
message_rows (Fixture *f)
{
  GtkTreeModel *model = gtk_tree_view_get_model (pb_window_get_messages_view (f->window));

  return (guint) gtk_tree_model_iter_n_children (model, NULL);
}

static GtkWidget *
window_child (Fixture    *f,
              const char *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (f->window), PB_TYPE_WINDOW, name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

static void
test_no_accounts_offers_add (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(PbAccountInfo) info = gui_test_info_with_mail ("work", 0, NULL);

  g_assert_cmpstr (pb_window_get_visible_page (f->window), ==, "empty");
  /* Nothing to search, check or download yet: only adding an account is
   * offered. */
  g_assert_false (gtk_widget_get_visible (window_child (f, "search_button")));
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (f->window), "find"));
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (f->app), "check-now"));
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (f->app), "download-new"));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (f->app), "add-account"));

  g_list_store_append (f->accounts, info);
  gui_test_flush ();
  g_assert_true (gtk_widget_get_visible (window_child (f, "search_button")));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (f->app), "check-now"));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (f->app), "download-new"));
}

static void
test_new_mail_listed (Fixture       *f,
                      gconstpointer  data)
{
  static const char * const mail[] = {
    "u1|Jürgen Müller|Grüße aus München",
    "u2|Amélie Dupré|Réunion à 14h",
    "u3|山田太郎|会議の議事録について",
    NULL
  };
  g_autoptr(PbAccountInfo) info = gui_test_info_with_mail ("work", 12, mail);
  PbAccountRow *row;

  g_list_store_append (f->accounts, info);
  gui_test_flush ();

  g_assert_cmpstr (pb_window_get_visible_page (f->window), ==, "content");
  g_assert_cmpstr (pb_window_get_messages_page (f->window), ==, "list");
  g_assert_cmpuint (message_rows (f), ==, 3);
  row = row_for (f, "work");
  g_assert_nonnull (strstr (pb_account_row_get_detail_text (row), "3 new of 12"));
  g_assert_null (pb_account_row_get_error_text (row));
  g_assert_cmpuint (pb_application_get_new_count (f->app), ==, 3);
}

/* The UIDL of the message in the list's first row. */
static char *
first_uidl (Fixture *f)
{
  GtkTreeModel *model = gtk_tree_view_get_model (pb_window_get_messages_view (f->window));
  g_autoptr(PbMessageItem) item = NULL;
  GtkTreeIter iter;

  g_assert_true (gtk_tree_model_get_iter_first (model, &iter));
  gtk_tree_model_get (model, &iter, 0, &item, -1);
  return g_strdup (pb_message_item_get_uidl (item));
}

/* Newest first, by the time (the helper dates u1 < u2 < u3), at start and
 * on the Date column's first click, with the arrow on that column. */
static void
test_date_sorts_newest_first (Fixture       *f,
                              gconstpointer  data)
{
  static const char * const mail[] = {
    "u1|Ann|Oldest", "u2|Bob|Middle", "u3|Cid|Newest", NULL
  };
  g_autoptr(PbAccountInfo) info = gui_test_info_with_mail ("work", 3, mail);
  GtkTreeView *view = pb_window_get_messages_view (f->window);
  GtkTreeViewColumn *subject = gtk_tree_view_get_column (view, 1);
  GtkTreeViewColumn *date = gtk_tree_view_get_column (view, 2);
  g_autofree char *at_start = NULL;
  g_autofree char *by_subject = NULL;
  g_autofree char *clicked = NULL;

  g_list_store_append (f->accounts, info);
  gui_test_flush ();
  g_assert_cmpstr (gtk_tree_view_column_get_title (date), ==, "Date");
  at_start = first_uidl (f);
  g_assert_cmpstr (at_start, ==, "u3");
  g_assert_true (gtk_tree_view_column_get_sort_indicator (date));

  gtk_tree_view_column_clicked (subject);
  by_subject = first_uidl (f);
  g_assert_cmpstr (by_subject, ==, "u2");  /* "Middle" */
  g_assert_false (gtk_tree_view_column_get_sort_indicator (date));

  gtk_tree_view_column_clicked (date);
  clicked = first_uidl (f);
  g_assert_cmpstr (clicked, ==, "u3");
  g_assert_true (gtk_tree_view_column_get_sort_indicator (date));
}

/* A subject or sender too long for its column is cut short; the row's
 * tooltip has it whole, and the sender's address, shown nowhere else. */
static void
test_message_tooltip_has_whole_subject_and_sender (Fixture       *f,
                                                   gconstpointer  data)
{
  static const char subject[] =
    "This is a rather long subject line that goes on and on about the quarterly "
    "budget review meeting scheduled for next Thursday afternoon in the big room";
  g_autoptr(PbAccountInfo) info = pb_account_info_new ("work");
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GtkTreePath) first = gtk_tree_path_new_first ();
  g_autofree char *tooltip = NULL;
  g_autofree char *expected = NULL;

  g_ptr_array_add (items, pb_message_item_new ("work", "u1", "Zoë Long-Name Sender",
                                               "zoe@example.org", subject, 1700000000, 321));
  pb_account_info_set_result (info, 1700000000, 1, items);
  g_list_store_append (f->accounts, info);
  gui_test_flush ();

  tooltip = pb_window_dup_message_tooltip (f->window, first);
  expected = g_strdup_printf ("%s\nFrom: Zoë Long-Name Sender <zoe@example.org>", subject);
  g_assert_cmpstr (tooltip, ==, expected);
  /* The list asks for it: hovering a row shows it. */
  g_assert_true (gtk_widget_get_has_tooltip (GTK_WIDGET (pb_window_get_messages_view (f->window))));
}

/* The sidebar is narrow: a long account name is cut short there, and
 * whole in its tooltip. */
static void
test_long_account_name_has_tooltip (Fixture       *f,
                                    gconstpointer  data)
{
  static const char name[] = "wrongpw-with-a-rather-long-account-name";
  g_autoptr(PbAccountInfo) info = gui_test_info_with_mail (name, 0, NULL);
  g_autofree char *tooltip = NULL;
  GtkLabel *label;

  g_list_store_append (f->accounts, info);
  gui_test_flush ();
  label = pb_account_row_get_name_label (row_for (f, name));
  g_assert_cmpint (gtk_label_get_ellipsize (label), ==, PANGO_ELLIPSIZE_END);
  tooltip = gtk_widget_get_tooltip_text (GTK_WIDGET (label));
  g_assert_cmpstr (tooltip, ==, name);
}

/* The download result bar's close button is named for a screen reader
 * (GTK's own has no name) and closes the bar. */
static void
test_result_bar_close_is_named (Fixture       *f,
                                gconstpointer  data)
{
  GtkWidget *bar = GTK_WIDGET (gtk_widget_get_template_child (GTK_WIDGET (f->window), PB_TYPE_WINDOW,
                                                              "result_bar"));
  g_autoptr(GList) buttons = gtk_container_get_children (GTK_CONTAINER (gtk_info_bar_get_action_area (GTK_INFO_BAR (bar))));
  GtkWidget *close = NULL;

  /* The one without a label: the icon. */
  for (GList *l = buttons; l != NULL; l = l->next)
    if (gtk_button_get_label (l->data) == NULL)
      close = l->data;
  g_assert_nonnull (close);
  g_assert_cmpstr (atk_object_get_name (gtk_widget_get_accessible (close)), ==, "Close");
  gtk_widget_show (bar);
  gui_test_flush ();
  gtk_button_clicked (GTK_BUTTON (close));
  gui_test_flush ();
  g_assert_false (gtk_widget_get_visible (bar));
}

static void
test_no_new_mail (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(PbAccountInfo) info = gui_test_info_with_mail ("home", 40, NULL);

  g_list_store_append (f->accounts, info);
  gui_test_flush ();

  g_assert_cmpstr (pb_window_get_visible_page (f->window), ==, "content");
  g_assert_cmpstr (pb_window_get_messages_page (f->window), ==, "none");
  g_assert_nonnull (strstr (pb_account_row_get_detail_text (row_for (f, "home")), "No new mail"));
}

static void
test_checking_shows_spinner (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(PbAccountInfo) info = gui_test_info_with_mail ("home", 40, NULL);

  g_list_store_append (f->accounts, info);
  gui_test_flush ();
  pb_account_info_set_checking (info, TRUE);
  gui_test_flush ();
  g_assert_true (pb_account_row_is_checking (row_for (f, "home")));
  g_assert_cmpstr (pb_account_row_get_detail_text (row_for (f, "home")), ==, "Checking…");

  pb_account_info_set_checking (info, FALSE);
  gui_test_flush ();
  g_assert_false (pb_account_row_is_checking (row_for (f, "home")));
}

static void
test_rejected_password_offers_edit (Fixture       *f,
                                    gconstpointer  data)
{
  g_autoptr(PbAccountInfo) info = gui_test_info_with_mail ("work", 12, NULL);
  g_autoptr(GError) error = g_error_new_literal (PB_POP3_ERROR, PB_POP3_ERROR_AUTH,
                                                 "Authentication failed (server said: [AUTH] nope)");
  PbAccountRow *row;

  g_list_store_append (f->accounts, info);
  pb_account_info_set_error (info, error);
  gui_test_flush ();

  row = row_for (f, "work");
  g_assert_cmpstr (pb_account_row_get_error_text (row), ==, "Password rejected");
  g_assert_cmpstr (gtk_button_get_label (pb_account_row_get_fix_button (row)), ==, "_Edit account");
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (pb_account_row_get_fix_button (row))));
  /* A screen reader says which account the button fixes, and no
   * mnemonic underscore. */
  g_assert_cmpstr (atk_object_get_name (gtk_widget_get_accessible (GTK_WIDGET (pb_account_row_get_fix_button (row)))),
                   ==, "work: Edit account");
}

static void
test_changed_certificate_is_a_warning (Fixture       *f,
                                       gconstpointer  data)
{
  g_autoptr(PbAccountInfo) info = gui_test_info_with_mail ("work", 12, NULL);
  g_autoptr(GError) error = g_error_new_literal (PB_POP3_ERROR, PB_POP3_ERROR_CERTIFICATE,
                                                 "The certificate does not match the pinned one");
  PbAccountRow *row;

  pb_account_set_pin_sha256 (pb_account_info_get_account (info),
                             "0000000000000000000000000000000000000000000000000000000000000000");
  g_list_store_append (f->accounts, info);
  pb_account_info_set_error (info, error);
  gui_test_flush ();

  row = row_for (f, "work");
  g_assert_cmpstr (pb_account_row_get_error_text (row), ==, "Certificate changed");
  /* The fix at hand is to look at the new certificate, not the settings. */
  g_assert_cmpstr (gtk_button_get_label (pb_account_row_get_fix_button (row)), ==, "_Review");
  g_assert_true (gtk_widget_get_visible (GTK_WIDGET (pb_account_row_get_fix_button (row))));
}

static void
test_untrusted_certificate_offers_review (Fixture       *f,
                                          gconstpointer  data)
{
  g_autoptr(PbAccountInfo) info = gui_test_info_with_mail ("home", 12, NULL);
  g_autoptr(GError) error = g_error_new_literal (PB_POP3_ERROR, PB_POP3_ERROR_CERTIFICATE,
                                                 "The certificate is not trusted");
  PbAccountRow *row;

  g_list_store_append (f->accounts, info);
  pb_account_info_set_error (info, error);
  gui_test_flush ();

  row = row_for (f, "home");
  g_assert_cmpstr (pb_account_row_get_error_text (row), ==, "Certificate not trusted");
  g_assert_cmpstr (gtk_button_get_label (pb_account_row_get_fix_button (row)), ==, "_Review");
}

/* "No new mail" would claim something the failed check never found out. */
static void
test_failed_account_shows_problem_not_no_mail (Fixture       *f,
                                               gconstpointer  data)
{
  g_autoptr(PbAccountInfo) work = gui_test_info_with_mail ("work", 12, NULL);
  g_autoptr(PbAccountInfo) home = gui_test_info_with_mail ("home", 3, NULL);
  g_autoptr(GError) error = g_error_new_literal (PB_POP3_ERROR, PB_POP3_ERROR_AUTH,
                                                 "The user name or password was not accepted");

  g_list_store_append (f->accounts, work);
  g_list_store_append (f->accounts, home);
  pb_account_info_set_error (work, error);
  pb_window_set_filter_account (f->window, "work");
  gui_test_flush ();
  g_assert_cmpstr (pb_window_get_messages_page (f->window), ==, "none");
  g_assert_cmpstr (pb_window_get_no_mail_title (f->window), ==, "Password rejected");
  g_assert_cmpstr (pb_window_get_no_mail_detail (f->window), ==,
                   "The user name or password was not accepted");

  /* The other account was checked: it has no new mail. */
  pb_window_set_filter_account (f->window, "home");
  gui_test_flush ();
  g_assert_cmpstr (pb_window_get_no_mail_title (f->window), ==, "No new mail");

  /* All accounts, one of them fine: no new mail there. */
  pb_window_set_filter_account (f->window, NULL);
  gui_test_flush ();
  g_assert_cmpstr (pb_window_get_no_mail_title (f->window), ==, "No new mail");

  /* Both failed: nothing is known about any mail. */
  pb_account_info_set_error (home, error);
  gui_test_flush ();
  g_assert_cmpstr (pb_window_get_no_mail_title (f->window), ==, "No account could be checked");

  /* Working again. */
  pb_account_info_set_result (work, 1700000200, 12, NULL);
  pb_account_info_set_result (home, 1700000200, 3, NULL);
  gui_test_flush ();
  g_assert_cmpstr (pb_window_get_no_mail_title (f->window), ==, "No new mail");
}

static void
test_unreachable_offers_retry (Fixture       *f,
                               gconstpointer  data)
{
  g_autoptr(PbAccountInfo) info = gui_test_info_with_mail ("work", 12, NULL);
  g_autoptr(GError) error = g_error_new_literal (PB_POP3_ERROR, PB_POP3_ERROR_NETWORK,
                                                 "Could not connect");
  PbAccountRow *row;

  g_list_store_append (f->accounts, info);
  pb_account_info_set_error (info, error);
  gui_test_flush ();

  row = row_for (f, "work");
  g_assert_cmpstr (pb_account_row_get_error_text (row), ==, "Server unreachable");
  g_assert_cmpstr (gtk_button_get_label (pb_account_row_get_fix_button (row)), ==, "_Try again");

  /* A later good check clears the error. */
  pb_account_info_set_result (info, 1700000200, 12, NULL);
  gui_test_flush ();
  g_assert_null (pb_account_row_get_error_text (row));
}

/* A check that fails leaves the row saying when one last worked, not
 * "Checked just now · No new mail" next to "Server unreachable". */
static void
test_failed_check_keeps_last_good_time (Fixture       *f,
                                        gconstpointer  data)
{
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autoptr(PbAccountInfo) info = pb_account_info_new ("work");
  g_autoptr(GError) error = g_error_new_literal (PB_POP3_ERROR, PB_POP3_ERROR_NETWORK,
                                                 "Could not connect");
  PbAccountRow *row;

  pb_account_info_set_result (info, now - 5 * 60, 12, NULL);
  g_list_store_append (f->accounts, info);
  pb_account_info_set_error (info, error);
  gui_test_flush ();

  row = row_for (f, "work");
  g_assert_cmpstr (pb_account_row_get_error_text (row), ==, "Server unreachable");
  g_assert_true (g_str_has_prefix (pb_account_row_get_detail_text (row), "Checked 5 minutes ago"));
  g_assert_cmpint (pb_account_info_get_last_check (info), ==, now - 5 * 60);
}

static gboolean on_deadline (gpointer user_data);

/* Runs the main loop until the list has @n rows (a search entry waits a
 * moment after typing before it searches); fails after a deadline. */
static void
wait_rows (Fixture *f,
           guint    n)
{
  gboolean late = FALSE;
  guint deadline = g_timeout_add_seconds (30, on_deadline, &late);

  while (message_rows (f) != n && !late)
    g_main_context_iteration (NULL, TRUE);
  if (!late)
    g_source_remove (deadline);
  g_assert_cmpuint (message_rows (f), ==, n);
}

/* Types @text into the search entry and searches at once (the entry
 * itself waits a moment after the last key). */
static void
search_for (GtkEntry   *entry,
            const char *text)
{
  gtk_entry_set_text (entry, text);
  g_signal_emit_by_name (entry, "search-changed");
  gui_test_flush ();
}

/* Thousands of new messages: Ctrl+F finds them by sender or subject,
 * whatever the case or the accents typed; what matches is what Select All
 * and Download take; closing the search shows them all again. */
static void
test_search_by_sender_or_subject (Fixture       *f,
                                  gconstpointer  data)
{
  static const char * const mail[] = {
    "u1|Jürgen Müller|Grüße aus München",
    "u2|Amélie Dupré|Réunion à 14h",
    "u3|Sam Okafor|Invoice for November",
    NULL
  };
  g_autoptr(PbAccountInfo) info = gui_test_info_with_mail ("work", 3, mail);
  GtkSearchBar *bar = GTK_SEARCH_BAR (window_child (f, "search_bar"));
  GtkEntry *entry = GTK_ENTRY (window_child (f, "search_entry"));
  GtkTreeSelection *selection = gtk_tree_view_get_selection (pb_window_get_messages_view (f->window));

  g_list_store_append (f->accounts, info);
  gui_test_flush ();
  g_assert_false (gtk_search_bar_get_search_mode (bar));

  g_action_group_activate_action (G_ACTION_GROUP (f->window), "find", NULL);
  gui_test_flush ();
  g_assert_true (gtk_search_bar_get_search_mode (bar));

  /* The sender, without its accent and in capitals. */
  search_for (entry, "MULLER");
  g_assert_cmpuint (message_rows (f), ==, 1);
  g_assert_cmpstr (first_uidl (f), ==, "u1");

  /* The subject; Select All takes what is shown. */
  search_for (entry, "reunion");
  g_assert_cmpuint (message_rows (f), ==, 1);
  g_assert_cmpstr (first_uidl (f), ==, "u2");
  gtk_tree_selection_select_all (selection);
  g_assert_cmpint (gtk_tree_selection_count_selected_rows (selection), ==, 1);

  /* Nothing matches: the page says so, not "No new mail". */
  search_for (entry, "nothing like this");
  g_assert_cmpuint (message_rows (f), ==, 0);
  g_assert_cmpstr (pb_window_get_messages_page (f->window), ==, "none");
  g_assert_nonnull (strstr (pb_window_get_no_mail_title (f->window), "nothing like this"));

  /* Closed: every message again, and the count never changed. */
  g_action_group_activate_action (G_ACTION_GROUP (f->window), "find", NULL);
  wait_rows (f, 3);
  g_assert_false (gtk_search_bar_get_search_mode (bar));
  g_assert_cmpstr (gtk_entry_get_text (entry), ==, "");
  g_assert_cmpuint (pb_application_get_new_count (f->app), ==, 3);
}

static void
test_filter_and_mark_read (Fixture       *f,
                           gconstpointer  data)
{
  static const char * const work_mail[] = { "w1|A|one", "w2|B|two", "w3|C|three", NULL };
  static const char * const home_mail[] = { "h1|D|four", NULL };
  static const char * const pick[] = { "w1", "w3", NULL };
  g_autoptr(PbAccountInfo) work = gui_test_info_with_mail ("work", 3, work_mail);
  g_autoptr(PbAccountInfo) home = gui_test_info_with_mail ("home", 1, home_mail);
  GtkTreeSelection *selection;

  g_list_store_append (f->accounts, home);
  g_list_store_append (f->accounts, work);
  gui_test_flush ();
  g_assert_cmpuint (message_rows (f), ==, 4);

  pb_window_set_filter_account (f->window, "work");
  gui_test_flush ();
  g_assert_cmpstr (pb_window_get_filter_account (f->window), ==, "work");
  g_assert_cmpuint (message_rows (f), ==, 3);

  /* Nothing selected: Download and Mark as Read are off. */
  g_assert_false (g_action_group_get_action_enabled (G_ACTION_GROUP (f->window), "download"));
  pb_window_select_messages (f->window, pick);
  selection = gtk_tree_view_get_selection (pb_window_get_messages_view (f->window));
  g_assert_cmpint (gtk_tree_selection_count_selected_rows (selection), ==, 2);
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (f->window), "download"));
  g_assert_true (g_action_group_get_action_enabled (G_ACTION_GROUP (f->window), "mark-read"));

  g_action_group_activate_action (G_ACTION_GROUP (f->window), "mark-read", NULL);
  gui_test_flush ();
  g_assert_cmpuint (message_rows (f), ==, 1);
  g_assert_cmpuint (pb_account_info_get_new_count (work), ==, 1);

  pb_window_set_filter_account (f->window, NULL);
  gui_test_flush ();
  g_assert_cmpuint (message_rows (f), ==, 2);
  g_assert_cmpuint (pb_application_get_new_count (f->app), ==, 2);
}

/* The UIDL of the message in the list's row @index. */
static char *
uidl_at (Fixture *f,
         int      index)
{
  GtkTreeModel *model = gtk_tree_view_get_model (pb_window_get_messages_view (f->window));
  g_autoptr(PbMessageItem) item = NULL;
  GtkTreeIter iter;

  g_assert_true (gtk_tree_model_iter_nth_child (model, &iter, NULL, index));
  gtk_tree_model_get (model, &iter, 0, &item, -1);
  return g_strdup (pb_message_item_get_uidl (item));
}

static gboolean
on_deadline (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* The index of the first row the list shows whole, once its layout has settled
 * on @expected (the view lays rows out in idle time and frames); fails
 * after a generous deadline. */
static void
wait_first_visible (Fixture *f,
                    int      expected)
{
  GtkTreeView *view = pb_window_get_messages_view (f->window);
  gboolean late = FALSE;
  guint deadline = g_timeout_add_seconds (30, on_deadline, &late);
  int first = -1;

  while (!late)
    {
      g_autoptr(GtkTreePath) start = NULL;
      GdkRectangle area;

      first = -1;
      if (gtk_tree_view_get_visible_range (view, &start, NULL))
        {
          /* Shown whole, not cut off at the top. */
          gtk_tree_view_get_background_area (view, start, NULL, &area);
          first = gtk_tree_path_get_indices (start)[0] + (area.y < 0 ? 1 : 0);
        }
      if (first == expected)
        break;
      g_main_context_iteration (NULL, TRUE);
    }
  if (!late)
    g_source_remove (deadline);
  g_assert_cmpint (first, ==, expected);
}

/* Every check (and a dismiss from the command line) refreshes the list.
 * Someone who scrolled down to read stays at the same message, with the
 * same selection; at the top of the list, mail that arrives is in view. */
static void
test_refresh_keeps_place (Fixture       *f,
                          gconstpointer  data)
{
  enum { N = 2000, READING = 1500 };
  g_autoptr(GPtrArray) mail = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(PbAccountInfo) info = NULL;
  g_autoptr(GPtrArray) items = NULL;
  g_autoptr(GtkTreePath) path = NULL;
  g_autofree char *reading = NULL;
  const char *pick[2] = { NULL, NULL };
  GtkTreeView *view = pb_window_get_messages_view (f->window);
  GtkTreeSelection *selection = gtk_tree_view_get_selection (view);
  GPtrArray *listed;

  for (guint i = 0; i < N; i++)
    g_ptr_array_add (mail, g_strdup_printf ("m%u|Sender %u|Subject %u", i, i, i));
  g_ptr_array_add (mail, NULL);
  info = gui_test_info_with_mail ("work", N, (const char * const *) mail->pdata);
  g_list_store_append (f->accounts, info);
  gui_test_flush ();
  g_assert_cmpuint (message_rows (f), ==, N);
  wait_first_visible (f, 0);

  /* At the top: a new message shows at the top. */
  listed = pb_account_info_get_messages (info);
  items = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < listed->len; i++)
    g_ptr_array_add (items, g_object_ref (g_ptr_array_index (listed, i)));
  g_ptr_array_add (items, pb_message_item_new ("work", "new1", "Newcomer", NULL, "Just in",
                                               1800000000, 100));
  pb_account_info_set_result (info, 1800000000, N + 1, items);
  gui_test_flush ();
  wait_first_visible (f, 0);
  reading = uidl_at (f, 0);
  g_assert_cmpstr (reading, ==, "new1");
  g_clear_pointer (&reading, g_free);

  /* Scrolled down, one message picked. */
  path = gtk_tree_path_new_from_indices (READING, -1);
  gtk_tree_view_scroll_to_cell (view, path, NULL, TRUE, 0.0, 0.0);
  wait_first_visible (f, READING);
  reading = uidl_at (f, READING);
  pick[0] = reading;
  pb_window_select_messages (f->window, pick);

  /* A check: one more new message on top, the oldest one gone. */
  g_ptr_array_remove_index (items, 0);
  g_ptr_array_add (items, pb_message_item_new ("work", "new2", "Newcomer", NULL, "Just in too",
                                               1800000060, 100));
  pb_account_info_set_result (info, 1800000060, N + 1, items);
  gui_test_flush ();
  /* The same message at the top of the view, now one row further down. */
  wait_first_visible (f, READING + 1);
  g_assert_cmpstr (uidl_at (f, READING + 1), ==, reading);
  g_assert_cmpint (gtk_tree_selection_count_selected_rows (selection), ==, 1);
  gtk_tree_path_free (path);
  path = gtk_tree_path_new_from_indices (READING + 1, -1);
  g_assert_true (gtk_tree_selection_path_is_selected (selection, path));
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(PbApplication) app = NULL;

  gui_test_init (&argc, &argv);
  app = gui_test_app_new ();

#define ADD(path, func) \
  g_test_add (path, Fixture, app, fixture_set_up, func, fixture_tear_down)
  ADD ("/app/window/no-accounts-offers-add", test_no_accounts_offers_add);
  ADD ("/app/window/new-mail-listed", test_new_mail_listed);
  ADD ("/app/window/search-by-sender-or-subject", test_search_by_sender_or_subject);
  ADD ("/app/window/failed-check-keeps-last-good-time", test_failed_check_keeps_last_good_time);
  ADD ("/app/window/refresh-keeps-place", test_refresh_keeps_place);
  ADD ("/app/window/no-new-mail", test_no_new_mail);
  ADD ("/app/window/result-bar-close-is-named", test_result_bar_close_is_named);
  ADD ("/app/window/long-account-name-has-tooltip", test_long_account_name_has_tooltip);
  ADD ("/app/window/message-tooltip-has-whole-subject-and-sender",
       test_message_tooltip_has_whole_subject_and_sender);
  ADD ("/app/window/date-sorts-newest-first", test_date_sorts_newest_first);
  ADD ("/app/window/checking-shows-spinner", test_checking_shows_spinner);
  ADD ("/app/window/rejected-password-offers-edit", test_rejected_password_offers_edit);
  ADD ("/app/window/changed-certificate-is-a-warning", test_changed_certificate_is_a_warning);
  ADD ("/app/window/untrusted-certificate-offers-review", test_untrusted_certificate_offers_review);
  ADD ("/app/window/failed-account-shows-problem-not-no-mail",
       test_failed_account_shows_problem_not_no_mail);
  ADD ("/app/window/unreachable-offers-retry", test_unreachable_offers_retry);
  ADD ("/app/window/filter-and-mark-read", test_filter_and_mark_read);
#undef ADD

  return g_test_run ();
}

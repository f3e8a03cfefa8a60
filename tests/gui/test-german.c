/* Popbiff in German: with LANGUAGE=de the window speaks German, from the
 * catalogue built out of po/de.po. */
#include <locale.h>
#include <glib/gi18n.h>
#include <gtk/gtk.h>

#include "app/pb-account-row.h"
#include "app/pb-window.h"
#include "gui-test-util.h"
#include "pb-test-util.h"

static void
test_window_in_german (gconstpointer data)
{
  PbApplication *app = (PbApplication *) data;
  static const char * const mail[] = { "u1|Jürgen Müller|Grüße", NULL };
  g_autoptr(PbAccountInfo) info = gui_test_info_with_mail ("arbeit", 12, mail);
  PbWindow *window;
  GtkTreeView *view;
  g_autoptr(GList) rows = NULL;

  g_list_store_append (G_LIST_STORE (pb_application_get_accounts (app)), info);
  window = pb_window_new (app);
  gtk_widget_show (GTK_WIDGET (window));
  gui_test_flush ();

  view = pb_window_get_messages_view (window);
  g_assert_cmpstr (gtk_tree_view_column_get_title (gtk_tree_view_get_column (view, 0)), ==, "Von");
  g_assert_cmpstr (gtk_tree_view_column_get_title (gtk_tree_view_get_column (view, 1)), ==, "Betreff");
  g_assert_cmpstr (gtk_tree_view_column_get_title (gtk_tree_view_get_column (view, 2)), ==, "Datum");

  rows = gtk_container_get_children (GTK_CONTAINER (pb_window_get_accounts_list (window)));
  /* The "All accounts" row, then the account. */
  g_assert_cmpstr (pb_account_row_get_detail_text (rows->data), ==, "1 neue Nachricht");
  g_assert_nonnull (strstr (pb_account_row_get_detail_text (rows->next->data), "1 neu von 12"));

  gtk_widget_destroy (GTK_WIDGET (window));
  gui_test_flush ();
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(PbApplication) app = NULL;
  const char *localedir = g_getenv ("PB_TEST_LOCALEDIR");

  /* As a German-speaking person would start it. */
  g_setenv ("LANGUAGE", "de", TRUE);
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  setlocale (LC_ALL, "");
  g_assert_nonnull (localedir);
  bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  gui_test_init (&argc, &argv);
  app = gui_test_app_new ();
  g_test_add_data_func ("/app/i18n/window-in-german", app, test_window_in_german);
  return g_test_run ();
}

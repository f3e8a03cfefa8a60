/* Preferences: every control writes its GSettings key; "Start at login"
 * writes and removes the XDG autostart entry. */
#include <gtk/gtk.h>

#include "app/pb-autostart.h"
#include "app/pb-preferences.h"
#include "gui-test-util.h"
#include "pb-test-util.h"

static GtkWidget *
child (GtkWidget  *dialog,
       const char *name)
{
  GObject *object = gtk_widget_get_template_child (dialog, PB_TYPE_PREFERENCES, name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

static void
test_controls_write_settings (void)
{
  g_autoptr(GSettings) settings = g_settings_new (PB_APP_ID);
  GtkWidget *dialog = pb_preferences_new (NULL, settings);

  g_assert_true (gtk_switch_get_active (GTK_SWITCH (child (dialog, "notifications_switch"))));
  gtk_switch_set_active (GTK_SWITCH (child (dialog, "notifications_switch")), FALSE);
  g_assert_false (g_settings_get_boolean (settings, "notifications"));

  gtk_spin_button_set_value (GTK_SPIN_BUTTON (child (dialog, "interval_spin")), 25);
  g_assert_cmpuint (g_settings_get_uint (settings, "default-interval"), ==, 25);

  gtk_combo_box_set_active_id (GTK_COMBO_BOX (child (dialog, "format_combo")), "eml");
  g_assert_cmpint (g_settings_get_enum (settings, "default-format"), ==, 1);

  gtk_switch_set_active (GTK_SWITCH (child (dialog, "autostart_switch")), TRUE);
  g_assert_true (g_settings_get_boolean (settings, "start-at-login"));
  gtk_widget_destroy (dialog);
}

/* Every control is named for a screen reader, the format list too
 * (a combo box is otherwise named by its current item, "Maildir"). */
static void
test_controls_are_named (void)
{
  g_autoptr(GSettings) settings = g_settings_new (PB_APP_ID);
  GtkWidget *dialog = pb_preferences_new (NULL, settings);
  static const struct { const char *child; const char *name; } named[] = {
    { "notifications_switch", "Announce new messages and account problems" },
    { "interval_spin", "Minutes between checks" },
    { "autostart_switch", "Run Popbiff in the background when you log in" },
    { "format_combo", "Download format for new accounts" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (named); i++)
    g_assert_cmpstr (atk_object_get_name (gtk_widget_get_accessible (child (dialog, named[i].child))),
                     ==, named[i].name);
  gtk_widget_destroy (dialog);
}

static void
wait_for_file (const char *path,
               gboolean    exists)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (g_file_test (path, G_FILE_TEST_EXISTS) != exists)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, TRUE);
    }
}

static void
test_autostart_entry (void)
{
  g_autofree char *path = pb_autostart_get_path ();
  g_autofree char *contents = NULL;
  g_autofree char *expected_dir = g_build_filename (g_get_user_config_dir (), "autostart", NULL);
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *exec = NULL;
  g_autofree char *type = NULL;

  g_assert_true (g_str_has_prefix (path, expected_dir));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  pb_autostart_set_enabled_async (TRUE);
  wait_for_file (path, TRUE);
  /* The write is atomic: once the file is there, it is complete. */
  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_key_file_load_from_data (keyfile, contents, -1, G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);
  exec = g_key_file_get_string (keyfile, "Desktop Entry", "Exec", NULL);
  type = g_key_file_get_string (keyfile, "Desktop Entry", "Type", NULL);
  g_assert_cmpstr (exec, ==, "popbiff --background");
  g_assert_cmpstr (type, ==, "Application");

  pb_autostart_set_enabled_async (FALSE);
  wait_for_file (path, FALSE);
}

int
main (int    argc,
      char **argv)
{
  gui_test_init (&argc, &argv);
  g_test_add_func ("/app/preferences/controls-are-named", test_controls_are_named);
  g_test_add_func ("/app/preferences/controls-write-settings", test_controls_write_settings);
  g_test_add_func ("/app/preferences/autostart-entry", test_autostart_entry);
  return g_test_run ();
}

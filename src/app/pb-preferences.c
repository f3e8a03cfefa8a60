/* pb-preferences.c: the Preferences dialog.
 *
 * Every control is bound to its GSettings key, so a change applies at once
 * and there is nothing to save; the application reacts to start-at-login. */
#include <glib/gi18n.h>

#include "pb-preferences.h"

struct _PbPreferences
{
  GtkDialog         parent_instance;

  GSettings        *settings;  /* owned */

  GtkWidget        *content_grid;
  GtkSwitch        *notifications_switch;
  GtkSpinButton    *interval_spin;
  GtkSwitch        *autostart_switch;
  GtkFileChooser   *folder_chooser;
  GtkCheckButton   *folder_default_check;
  GtkComboBoxText  *format_combo;
};

G_DEFINE_FINAL_TYPE (PbPreferences, pb_preferences, GTK_TYPE_DIALOG)

static void
sync_folder (PbPreferences *self)
{
  g_autofree char *folder = g_settings_get_string (self->settings, "default-folder");
  gboolean use_default = *folder == '\0';

  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->folder_default_check), use_default);
  gtk_widget_set_sensitive (GTK_WIDGET (self->folder_chooser), !use_default);
  if (!use_default)
    gtk_file_chooser_set_filename (self->folder_chooser, folder);
}

static void
on_folder_default_toggled (PbPreferences *self)
{
  gboolean use_default = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->folder_default_check));

  gtk_widget_set_sensitive (GTK_WIDGET (self->folder_chooser), !use_default);
  if (use_default)
    g_settings_set_string (self->settings, "default-folder", "");
  else
    {
      g_autofree char *folder = gtk_file_chooser_get_filename (self->folder_chooser);

      if (folder != NULL)
        g_settings_set_string (self->settings, "default-folder", folder);
    }
}

static void
on_folder_set (PbPreferences *self)
{
  g_autofree char *folder = gtk_file_chooser_get_filename (self->folder_chooser);

  if (folder != NULL && !gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->folder_default_check)))
    g_settings_set_string (self->settings, "default-folder", folder);
}

static void
pb_preferences_dispose (GObject *object)
{
  PbPreferences *self = PB_PREFERENCES (object);

  g_clear_object (&self->settings);

  G_OBJECT_CLASS (pb_preferences_parent_class)->dispose (object);
}

static void
pb_preferences_class_init (PbPreferencesClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pb_preferences_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/popbiff/Popbiff/ui/pb-preferences.ui");
  gtk_widget_class_bind_template_child (widget_class, PbPreferences, content_grid);
  gtk_widget_class_bind_template_child (widget_class, PbPreferences, notifications_switch);
  gtk_widget_class_bind_template_child (widget_class, PbPreferences, interval_spin);
  gtk_widget_class_bind_template_child (widget_class, PbPreferences, autostart_switch);
  gtk_widget_class_bind_template_child (widget_class, PbPreferences, folder_chooser);
  gtk_widget_class_bind_template_child (widget_class, PbPreferences, folder_default_check);
  gtk_widget_class_bind_template_child (widget_class, PbPreferences, format_combo);
}

static void
pb_preferences_init (PbPreferences *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* The form is its own object in the template: GtkBuilder in GTK 3 trips
   * over inline objects inside the dialog's internal vbox. */
  gtk_container_add (GTK_CONTAINER (gtk_dialog_get_content_area (GTK_DIALOG (self))),
                     self->content_grid);
}

GtkWidget *
pb_preferences_new (GtkWindow *parent,
                    GSettings *settings)
{
  PbPreferences *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  self = g_object_new (PB_TYPE_PREFERENCES, "transient-for", parent, "use-header-bar", TRUE, NULL);
  self->settings = g_object_ref (settings);

  g_settings_bind (settings, "notifications", self->notifications_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "default-interval", self->interval_spin, "value",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "start-at-login", self->autostart_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (settings, "default-format", self->format_combo, "active-id",
                   G_SETTINGS_BIND_DEFAULT);
  sync_folder (self);
  g_signal_connect_object (self->folder_default_check, "toggled",
                           G_CALLBACK (on_folder_default_toggled), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->folder_chooser, "selection-changed",
                           G_CALLBACK (on_folder_set), self, G_CONNECT_SWAPPED);
  return GTK_WIDGET (self);
}

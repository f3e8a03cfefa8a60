#include <gtk/gtk.h>
#include <glib/gi18n.h>

#include "pb-app.h"

static void
on_activate (GtkApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (app);

  if (window == NULL)
    {
      window = GTK_WINDOW (gtk_application_window_new (app));
      gtk_window_set_title (window, _("Popbiff"));
      gtk_window_set_default_size (window, 640, 420);
    }
  gtk_window_present (window);
}

int
pb_app_run (int    argc,
            char **argv)
{
  g_autoptr(GtkApplication) app = gtk_application_new (PB_APP_ID, G_APPLICATION_DEFAULT_FLAGS);

  g_signal_connect (app, "activate", G_CALLBACK (on_activate), NULL);
  return g_application_run (G_APPLICATION (app), argc, argv);
}

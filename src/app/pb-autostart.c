/* pb-autostart.c: the XDG autostart entry for "Start at login". */
#include <glib/gi18n.h>

#include "pb-autostart.h"

char *
pb_autostart_get_path (void)
{
  return g_build_filename (g_get_user_config_dir (), "autostart", PB_APP_ID ".desktop", NULL);
}

char *
pb_autostart_get_contents (void)
{
  /* Not the installed desktop file: that one opens the window. */
  return g_strdup_printf ("[Desktop Entry]\n"
                          "Type=Application\n"
                          "Name=%s\n"
                          "Comment=%s\n"
                          "Icon=" PB_APP_ID "\n"
                          "Exec=popbiff --background\n"
                          "Terminal=false\n"
                          "X-GNOME-Autostart-enabled=true\n"
                          "NoDisplay=true\n",
                          _("Popbiff"), _("Check POP3 mailboxes for new mail"));
}

static void
on_written (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_file_replace_contents_finish (G_FILE (source), result, NULL, &error))
    g_warning ("Could not write the autostart entry: %s", error->message);
}

static void
on_deleted (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_file_delete_finish (G_FILE (source), result, &error) &&
      !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
    g_warning ("Could not remove the autostart entry: %s", error->message);
}

void
pb_autostart_set_enabled_async (gboolean enabled)
{
  g_autofree char *path = pb_autostart_get_path ();
  g_autoptr(GFile) file = g_file_new_for_path (path);

  if (enabled)
    {
      g_autofree char *dir = g_path_get_dirname (path);
      char *contents = pb_autostart_get_contents ();
      g_autoptr(GBytes) bytes = g_bytes_new_take (contents, strlen (contents));

      /* A directory of a few entries: creating it is instant. */
      g_mkdir_with_parents (dir, 0700);
      g_file_replace_contents_bytes_async (file, bytes, NULL, FALSE, G_FILE_CREATE_NONE,
                                           NULL, on_written, NULL);
    }
  else
    {
      g_file_delete_async (file, G_PRIORITY_DEFAULT, NULL, on_deleted, NULL);
    }
}

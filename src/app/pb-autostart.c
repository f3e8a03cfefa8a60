/* pb-autostart.c: the XDG autostart entry for "Start at login". */
#include <errno.h>
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
write_in_thread (GTask        *task,
                 gpointer      source,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  const char *path = task_data;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *contents = pb_autostart_get_contents ();
  GError *error = NULL;

  /* Atomic (temporary file, rename): a session starting meanwhile never
   * reads half an entry. */
  if (g_mkdir_with_parents (dir, 0700) != 0 ||
      !g_file_set_contents_full (path, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644, &error))
    {
      if (error == NULL)
        error = g_error_new (G_IO_ERROR, g_io_error_from_errno (errno), "%s: %s", dir, g_strerror (errno));
      g_task_return_error (task, error);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
on_written (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
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
      g_autoptr(GTask) task = g_task_new (NULL, NULL, on_written, NULL);

      g_task_set_source_tag (task, pb_autostart_set_enabled_async);
      g_task_set_task_data (task, g_strdup (path), g_free);
      g_task_run_in_thread (task, write_in_thread);
    }
  else
    {
      g_file_delete_async (file, G_PRIORITY_DEFAULT, NULL, on_deleted, NULL);
    }
}

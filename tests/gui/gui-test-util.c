/* gui-test-util.c: what the widget tests share. */
#include <gtk/gtk.h>

#include "gui-test-util.h"
#include "pb-test-util.h"

void
gui_test_init (int    *argc,
               char ***argv)
{
  static const guchar png_magic[] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  g_autofree char *type = NULL;

  /* Test isolation points XDG_DATA_DIRS at an empty directory; load the
   * shared MIME database first, or GdkPixbuf cannot tell a PNG (GTK's
   * built-in icons) from anything else. */
  type = g_content_type_guess (NULL, png_magic, sizeof png_magic, NULL);
  if (!gtk_init_check (argc, argv))
    {
      g_printerr ("No display; run under tests/gui/run-under-xvfb.sh\n");
      exit (77);
    }
  /* Likewise the icon theme: it reads its search path once. */
  g_assert_true (gtk_icon_theme_has_icon (gtk_icon_theme_get_default (), "open-menu-symbolic"));
  /* Registers the GResource the templates come from. */
  g_type_ensure (PB_TYPE_APPLICATION);
  pb_test_init (argc, argv);
}

PbApplication *
gui_test_app_new (void)
{
  PbApplication *app = pb_application_new ();
  g_autoptr(GError) error = NULL;

  /* A test must never find (and talk to) another instance. */
  g_application_set_flags (G_APPLICATION (app), G_APPLICATION_NON_UNIQUE);
  g_assert_true (g_application_register (G_APPLICATION (app), NULL, &error));
  g_assert_no_error (error);
  return app;
}

void
gui_test_flush (void)
{
  while (g_main_context_iteration (NULL, FALSE))
    ;
}

PbAccountInfo *
gui_test_info_with_mail (const char         *name,
                         guint               total,
                         const char * const *messages)
{
  PbAccountInfo *info = pb_account_info_new (name);
  g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(PbAccount) account = pb_account_new (name);

  pb_account_set_host (account, "pop.example.org");
  pb_account_set_user (account, "someone");
  pb_account_info_set_account (info, account);
  for (guint i = 0; messages != NULL && messages[i] != NULL; i++)
    {
      g_auto(GStrv) parts = g_strsplit (messages[i], "|", 3);

      g_ptr_array_add (items, pb_message_item_new (name, parts[0], parts[1], NULL, parts[2],
                                                   1700000000 + i * 60, 1000 + i));
    }
  pb_account_info_set_result (info, 1700000000, total, items);
  return info;
}

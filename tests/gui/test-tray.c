/* The tray icon as an idle applet draws it: from pre-rendered PNGs, so
 * that SVG rendering (librsvg, about 9 MiB resident with the libraries it
 * pulls in) never enters a process that only shows its tray icon.
 *
 * Its own test program: the window's tests load the SVG application icon,
 * and a library once loaded stays. */
#include <string.h>
#include <gtk/gtk.h>

#include "app/pb-tray.h"
#include "gui-test-util.h"
#include "pb-test-util.h"

static const PbTrayState all_states[] = {
  PB_TRAY_STATE_NO_MAIL, PB_TRAY_STATE_NEW_MAIL, PB_TRAY_STATE_CHECKING, PB_TRAY_STATE_ERROR,
};

/* Whether a library whose file name contains @part is mapped. */
static gboolean
library_loaded (const char *part)
{
  g_autofree char *maps = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, &error));
  g_assert_no_error (error);
  return strstr (maps, part) != NULL;
}

/* Every state at every size a tray asks for is an exact pre-rendered
 * symbolic PNG, recoloured like the SVG would be. */
static void
test_icons_are_prerendered (gconstpointer data)
{
  static const int sizes[] = { 16, 22, 24, 32, 48, 64 };
  GtkIconTheme *theme = gtk_icon_theme_get_default ();
  GdkRGBA white = { 1, 1, 1, 1 };

  for (guint s = 0; s < G_N_ELEMENTS (all_states); s++)
    for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
      {
        const char *name = pb_tray_state_icon (all_states[s]);
        g_autoptr(GtkIconInfo) info = gtk_icon_theme_lookup_icon (theme, name, sizes[i], 0);
        g_autoptr(GdkPixbuf) pixbuf = NULL;
        g_autoptr(GError) error = NULL;
        const guchar *pixels;
        gboolean has_white = FALSE;

        g_test_message ("%s at %d", name, sizes[i]);
        g_assert_nonnull (info);
        g_assert_true (g_str_has_suffix (gtk_icon_info_get_filename (info), ".symbolic.png"));
        g_assert_cmpint (gtk_icon_info_get_base_size (info), ==, sizes[i]);

        pixbuf = gtk_icon_info_load_symbolic (info, &white, NULL, NULL, NULL, NULL, &error);
        g_assert_no_error (error);
        g_assert_cmpint (gdk_pixbuf_get_width (pixbuf), ==, sizes[i]);
        /* Drawn in the colour asked for: some opaque white pixel. */
        pixels = gdk_pixbuf_read_pixels (pixbuf);
        for (int p = 0; p < sizes[i] * sizes[i] && !has_white; p++)
          {
            const guchar *px = pixels + (p / sizes[i]) * gdk_pixbuf_get_rowstride (pixbuf) + (p % sizes[i]) * 4;

            has_white = px[0] == 255 && px[1] == 255 && px[2] == 255 && px[3] == 255;
          }
        g_assert_true (has_white);
      }
}

/* The applet started (gui_test_app_new), a tray in every state, the icons
 * drawn: and no SVG code in the process. */
static void
test_no_svg_renderer_loaded (gconstpointer data)
{
  PbApplication *app = (PbApplication *) data;
  g_autoptr(PbTray) tray = pb_tray_new (G_ACTION_GROUP (app));
  GtkIconTheme *theme = gtk_icon_theme_get_default ();

  for (guint s = 0; s < G_N_ELEMENTS (all_states); s++)
    {
      g_autoptr(GdkPixbuf) pixbuf = NULL;

      pb_tray_update (tray, all_states[s], 3, 1);
      gui_test_flush ();
      pixbuf = gtk_icon_theme_load_icon (theme, pb_tray_state_icon (all_states[s]), 22, 0, NULL);
      g_assert_nonnull (pixbuf);
    }
  g_assert_false (library_loaded ("librsvg"));
  g_assert_false (library_loaded ("pixbufloader-svg"));
}

int
main (int argc, char **argv)
{
  g_autoptr(PbApplication) app = NULL;

  gui_test_init (&argc, &argv);
  app = gui_test_app_new ();

  g_test_add_data_func ("/app/tray/icons-are-prerendered", app, test_icons_are_prerendered);
  g_test_add_data_func ("/app/tray/no-svg-renderer-loaded", app, test_no_svg_renderer_loaded);
  return g_test_run ();
}

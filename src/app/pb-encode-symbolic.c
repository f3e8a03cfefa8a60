/* pb-encode-symbolic.c: a build tool. Renders a one-colour symbolic SVG
 * icon at a fixed size into GTK's pre-rendered symbolic PNG format
 * (<name>.symbolic.png: the shape in the alpha channel, RGB black meaning
 * "the foreground colour"), which GTK recolours to the theme's text colour
 * just like the SVG.
 *
 * Why: the tray icon is the only image an idle applet draws, and loading
 * an SVG pulls gdk-pixbuf's SVG loader and librsvg (about 9 MiB of
 * resident memory with libxml2 and ICU) into the process for good. PNGs
 * are read by the PNG loader built into gdk-pixbuf.
 *
 *   pb-encode-symbolic INPUT.svg SIZE OUTPUT.png
 *
 * Only icons drawn in the foreground colour alone are supported (the tray
 * icons are); other colours would be rendered as foreground too. */
#include <stdlib.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) rendered = NULL;
  g_autoptr(GdkPixbuf) encoded = NULL;
  int size, width, height, src_stride, dst_stride;
  const guchar *src;
  guchar *dst;

  if (argc != 4 || (size = atoi (argv[2])) <= 0)
    {
      g_printerr ("usage: pb-encode-symbolic INPUT.svg SIZE OUTPUT.png\n");
      return 2;
    }

  rendered = gdk_pixbuf_new_from_file_at_size (argv[1], size, size, &error);
  if (rendered == NULL)
    {
      g_printerr ("pb-encode-symbolic: %s: %s\n", argv[1], error->message);
      return 1;
    }
  if (!gdk_pixbuf_get_has_alpha (rendered))
    {
      g_autoptr(GdkPixbuf) with_alpha = gdk_pixbuf_add_alpha (rendered, FALSE, 0, 0, 0);

      g_set_object (&rendered, with_alpha);
    }

  width = gdk_pixbuf_get_width (rendered);
  height = gdk_pixbuf_get_height (rendered);
  encoded = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, width, height);
  src = gdk_pixbuf_read_pixels (rendered);
  src_stride = gdk_pixbuf_get_rowstride (rendered);
  dst = gdk_pixbuf_get_pixels (encoded);
  dst_stride = gdk_pixbuf_get_rowstride (encoded);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        const guchar *s = src + y * src_stride + x * 4;
        guchar *d = dst + y * dst_stride + x * 4;

        /* RGB 0 = all foreground (GTK mixes in the success, warning and
         * error colours by the R, G and B weights); the coverage is alpha. */
        d[0] = d[1] = d[2] = 0;
        d[3] = s[3];
      }

  if (!gdk_pixbuf_save (encoded, argv[3], "png", &error, NULL))
    {
      g_printerr ("pb-encode-symbolic: %s: %s\n", argv[3], error->message);
      return 1;
    }
  return 0;
}

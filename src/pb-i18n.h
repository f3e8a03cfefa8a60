/* pb-i18n.h: gettext set-up shared by the two programs (popbiff and
 * popbiff-applet). */
#pragma once

#include <locale.h>
#include <glib/gi18n.h>

static inline void
pb_i18n_init (void)
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

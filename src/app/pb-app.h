/* pb-app.h: the GtkApplication (tray, status window, editor). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int pb_app_run (int argc, char **argv);

G_END_DECLS

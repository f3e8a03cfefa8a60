/* pb-autostart.h: "Start at login": an XDG autostart entry
 * ($XDG_CONFIG_HOME/autostart/io.github.popbiff.Popbiff.desktop) that runs
 * `popbiff --background`. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The path of the entry. */
char    *pb_autostart_get_path           (void);
/* The entry's contents. */
char    *pb_autostart_get_contents       (void);
/* Writes or removes the entry in the background; a failure is logged. */
void     pb_autostart_set_enabled_async  (gboolean enabled);

G_END_DECLS

/* gui-test-util.h: what the widget tests share: an applet that is
 * registered (so windows can be added) but never run. */
#pragma once

#include "app/pb-application.h"

G_BEGIN_DECLS

/* pb_test_init() plus gtk_init(); skips (77) without a display. */
void           gui_test_init            (int *argc, char ***argv);
/* A started (registered) application with no accounts. */
PbApplication *gui_test_app_new         (void);
/* Runs the main loop until nothing is pending. */
void           gui_test_flush           (void);
/* An account status with a finished check: @total on the server and the
 * @n messages given as "uidl|from|subject" strings. */
PbAccountInfo *gui_test_info_with_mail  (const char *name, guint total,
                                         const char * const *messages);

G_END_DECLS

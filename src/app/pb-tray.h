/* pb-tray.h: the tray icon.
 *
 * A StatusNotifierItem (libayatana-appindicator) when a StatusNotifierWatcher
 * owns its name on the session bus; otherwise an XEmbed GtkStatusIcon for
 * the trays that still speak only that. Where neither is shown (no tray at
 * all), the window and notifications carry everything. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum {
  PB_TRAY_STATE_NO_MAIL,
  PB_TRAY_STATE_NEW_MAIL,
  PB_TRAY_STATE_CHECKING,
  PB_TRAY_STATE_ERROR,
} PbTrayState;

typedef enum {
  PB_TRAY_KIND_NONE,            /* not decided yet, or nothing to show on */
  PB_TRAY_KIND_APP_INDICATOR,
  PB_TRAY_KIND_STATUS_ICON,
} PbTrayKind;

#define PB_TYPE_TRAY (pb_tray_get_type ())
G_DECLARE_FINAL_TYPE (PbTray, pb_tray, PB, TRAY, GObject)

/* @actions: where the menu's "app." actions live (the application). */
PbTray      *pb_tray_new           (GActionGroup *actions);
void         pb_tray_update        (PbTray *self, PbTrayState state, guint new_count,
                                    guint errors);
PbTrayKind   pb_tray_get_kind      (PbTray *self);
/* The icon name of a state ("popbiff-new-mail-symbolic", ...). */
const char  *pb_tray_state_icon    (PbTrayState state);
/* The tooltip text for the current state. */
const char  *pb_tray_get_tooltip   (PbTray *self);
/* Whether an XEmbed tray actually shows the icon (FALSE for AppIndicator). */
gboolean     pb_tray_is_embedded   (PbTray *self);

G_END_DECLS

/* pb-preferences.h: the Preferences dialog, bound to GSettings. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define PB_TYPE_PREFERENCES (pb_preferences_get_type ())
G_DECLARE_FINAL_TYPE (PbPreferences, pb_preferences, PB, PREFERENCES, GtkDialog)

GtkWidget *pb_preferences_new (GtkWindow *parent, GSettings *settings);

G_END_DECLS

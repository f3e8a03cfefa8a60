/* pb-tray.c: the tray icon, StatusNotifierItem or XEmbed. */
#include <glib/gi18n.h>
#include <libayatana-appindicator/app-indicator.h>

#include "pb-tray.h"

#define WATCHER_NAME "org.kde.StatusNotifierWatcher"

struct _PbTray
{
  GObject        parent_instance;

  GActionGroup  *actions;        /* owned */
  GMenu         *menu_model;     /* owned */
  GtkWidget     *menu;           /* owned (ref-sunk) */
  AppIndicator  *indicator;      /* owned, while a watcher is there */
  GtkStatusIcon *status_icon;    /* owned, while no watcher is there */
  guint          watch_id;
  PbTrayKind     kind;
  PbTrayState    state;
  guint          new_count;
  char          *tooltip;
};

G_DEFINE_FINAL_TYPE (PbTray, pb_tray, G_TYPE_OBJECT)

const char *
pb_tray_state_icon (PbTrayState state)
{
  switch (state)
    {
    case PB_TRAY_STATE_NEW_MAIL:
      return "popbiff-new-mail-symbolic";
    case PB_TRAY_STATE_CHECKING:
      return "popbiff-checking-symbolic";
    case PB_TRAY_STATE_ERROR:
      return "popbiff-error-symbolic";
    case PB_TRAY_STATE_NO_MAIL:
    default:
      return "popbiff-no-mail-symbolic";
    }
}

/* Where a StatusNotifierHost finds our icons: the installed theme, or the
 * source tree when running uninstalled. */
static const char *
icon_theme_path (void)
{
  static const char *installed = PB_DATADIR "/icons/hicolor/scalable/status/popbiff-new-mail-symbolic.svg";

  if (g_file_test (installed, G_FILE_TEST_EXISTS))
    return NULL;
  return PB_SOURCE_ICONDIR;
}

static void
apply (PbTray *self)
{
  const char *icon = pb_tray_state_icon (self->state);
  g_autofree char *label = self->new_count > 0 ? g_strdup_printf ("%u", self->new_count) : NULL;

  if (self->indicator != NULL)
    {
      app_indicator_set_icon_full (self->indicator, icon, self->tooltip);
      app_indicator_set_label (self->indicator, label != NULL ? label : "", "999");
      app_indicator_set_title (self->indicator, self->tooltip);
      app_indicator_set_status (self->indicator,
                                self->state == PB_TRAY_STATE_NEW_MAIL || self->state == PB_TRAY_STATE_ERROR ?
                                APP_INDICATOR_STATUS_ATTENTION : APP_INDICATOR_STATUS_ACTIVE);
      app_indicator_set_attention_icon_full (self->indicator, icon, self->tooltip);
    }
  if (self->status_icon != NULL)
    {
      G_GNUC_BEGIN_IGNORE_DEPRECATIONS
      gtk_status_icon_set_from_icon_name (self->status_icon, icon);
      gtk_status_icon_set_tooltip_text (self->status_icon, self->tooltip);
      gtk_status_icon_set_title (self->status_icon, self->tooltip);
      G_GNUC_END_IGNORE_DEPRECATIONS
    }
}

static void
on_status_icon_activate (PbTray *self)
{
  g_action_group_activate_action (self->actions, "activate", NULL);
}

static void
on_status_icon_popup (PbTray  *self,
                      guint    button,
                      guint    time)
{
  gtk_menu_popup_at_pointer (GTK_MENU (self->menu), NULL);
}

static void
use_status_icon (PbTray *self)
{
  g_clear_object (&self->indicator);
  if (self->status_icon == NULL)
    {
      G_GNUC_BEGIN_IGNORE_DEPRECATIONS
      self->status_icon = gtk_status_icon_new ();
      gtk_status_icon_set_name (self->status_icon, "popbiff");
      G_GNUC_END_IGNORE_DEPRECATIONS
      g_signal_connect_object (self->status_icon, "activate",
                               G_CALLBACK (on_status_icon_activate), self, G_CONNECT_SWAPPED);
      g_signal_connect_object (self->status_icon, "popup-menu",
                               G_CALLBACK (on_status_icon_popup), self, G_CONNECT_SWAPPED);
    }
  self->kind = PB_TRAY_KIND_STATUS_ICON;
  apply (self);
}

static void
use_indicator (PbTray *self)
{
  const char *theme_path = icon_theme_path ();

  g_clear_object (&self->status_icon);
  if (self->indicator == NULL)
    {
      self->indicator = app_indicator_new ("popbiff", pb_tray_state_icon (self->state),
                                           APP_INDICATOR_CATEGORY_COMMUNICATIONS);
      if (theme_path != NULL)
        app_indicator_set_icon_theme_path (self->indicator, theme_path);
      app_indicator_set_menu (self->indicator, GTK_MENU (self->menu));
    }
  self->kind = PB_TRAY_KIND_APP_INDICATOR;
  apply (self);
}

static void
on_watcher_appeared (GDBusConnection *connection,
                     const char      *name,
                     const char      *owner,
                     gpointer         user_data)
{
  use_indicator (PB_TRAY (user_data));
}

static void
on_watcher_vanished (GDBusConnection *connection,
                     const char      *name,
                     gpointer         user_data)
{
  use_status_icon (PB_TRAY (user_data));
}

static void
build_menu (PbTray *self)
{
  g_autoptr(GMenu) section = g_menu_new ();

  self->menu_model = g_menu_new ();
  g_menu_append (self->menu_model, _("_Check Now"), "app.check-now");
  g_menu_append (self->menu_model, _("_Open Popbiff"), "app.activate");
  g_menu_append (self->menu_model, _("_Download All New"), "app.download-new");
  g_menu_append (self->menu_model, _("_Preferences"), "app.preferences");
  g_menu_append (section, _("_Quit"), "app.quit");
  g_menu_append_section (self->menu_model, NULL, G_MENU_MODEL (section));

  self->menu = g_object_ref_sink (gtk_menu_new_from_model (G_MENU_MODEL (self->menu_model)));
  gtk_widget_insert_action_group (self->menu, "app", self->actions);
}

static void
pb_tray_dispose (GObject *object)
{
  PbTray *self = PB_TRAY (object);

  if (self->watch_id != 0)
    {
      g_bus_unwatch_name (self->watch_id);
      self->watch_id = 0;
    }
  g_clear_object (&self->indicator);
  g_clear_object (&self->status_icon);
  if (self->menu != NULL)
    gtk_widget_destroy (self->menu);
  g_clear_object (&self->menu);
  g_clear_object (&self->menu_model);
  g_clear_object (&self->actions);

  G_OBJECT_CLASS (pb_tray_parent_class)->dispose (object);
}

static void
pb_tray_finalize (GObject *object)
{
  PbTray *self = PB_TRAY (object);

  g_free (self->tooltip);

  G_OBJECT_CLASS (pb_tray_parent_class)->finalize (object);
}

static void
pb_tray_class_init (PbTrayClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pb_tray_dispose;
  object_class->finalize = pb_tray_finalize;
}

static void
pb_tray_init (PbTray *self)
{
  self->tooltip = g_strdup (_("Popbiff: no new mail"));
}

PbTray *
pb_tray_new (GActionGroup *actions)
{
  PbTray *self;

  g_return_val_if_fail (G_IS_ACTION_GROUP (actions), NULL);

  self = g_object_new (PB_TYPE_TRAY, NULL);
  self->actions = g_object_ref (actions);
  build_menu (self);
  /* Decided once the bus answered: appeared -> SNI, vanished -> XEmbed. */
  self->watch_id = g_bus_watch_name (G_BUS_TYPE_SESSION, WATCHER_NAME, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                     on_watcher_appeared, on_watcher_vanished, self, NULL);
  return self;
}

void
pb_tray_update (PbTray      *self,
                PbTrayState  state,
                guint        new_count,
                guint        errors)
{
  g_return_if_fail (PB_IS_TRAY (self));

  self->state = state;
  self->new_count = new_count;
  g_free (self->tooltip);
  if (state == PB_TRAY_STATE_CHECKING)
    self->tooltip = g_strdup (_("Popbiff: checking for new mail…"));
  else if (state == PB_TRAY_STATE_ERROR)
    self->tooltip = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                  "Popbiff: %u new; %u account needs attention",
                                                  "Popbiff: %u new; %u accounts need attention",
                                                  errors), new_count, errors);
  else if (new_count > 0)
    self->tooltip = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Popbiff: %u new message",
                                                  "Popbiff: %u new messages", new_count), new_count);
  else
    self->tooltip = g_strdup (_("Popbiff: no new mail"));
  apply (self);
}

PbTrayKind
pb_tray_get_kind (PbTray *self)
{
  g_return_val_if_fail (PB_IS_TRAY (self), PB_TRAY_KIND_NONE);
  return self->kind;
}

const char *
pb_tray_get_tooltip (PbTray *self)
{
  g_return_val_if_fail (PB_IS_TRAY (self), NULL);
  return self->tooltip;
}

gboolean
pb_tray_is_embedded (PbTray *self)
{
  gboolean embedded;

  g_return_val_if_fail (PB_IS_TRAY (self), FALSE);
  if (self->status_icon == NULL)
    return FALSE;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  embedded = gtk_status_icon_is_embedded (self->status_icon);
  G_GNUC_END_IGNORE_DEPRECATIONS
  return embedded;
}

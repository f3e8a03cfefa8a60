/* pb-application.c: the applet.
 *
 * A single instance per session: a second `popbiff` raises the window,
 * `popbiff --check-now` / `--download-new` (the desktop file's actions)
 * run the action in the instance already there. Popbiff is an applet: it
 * holds itself, so closing the window keeps it checking in the background;
 * Quit (menu, tray, Ctrl+Q) ends it. */
#define G_SETTINGS_ENABLE_BACKEND
#include <gio/gsettingsbackend.h>
#include <glib/gi18n.h>

#include "pb-account-info.h"
#include "pb-resources.h"
#include "pb-application.h"
#include "pb-autostart.h"
#include "pb-preferences.h"
#include "pb-tray.h"
#include "pb-window.h"

struct _PbApplication
{
  GtkApplication  parent_instance;

  GSettings      *settings;       /* owned */
  GListStore     *accounts;       /* owned (element-type PbAccountInfo) */
  PbTray         *tray;           /* owned */
  gboolean        background;     /* --background: no window at start */
  gboolean        demo;           /* --demo */
  gboolean        held;
  char           *pending_action; /* an action asked for before startup */
};

G_DEFINE_FINAL_TYPE (PbApplication, pb_application, GTK_TYPE_APPLICATION)

void
pb_download_outcome_free (PbDownloadOutcome *outcome)
{
  if (outcome == NULL)
    return;
  g_free (outcome->uidl);
  g_free (outcome->path);
  g_clear_error (&outcome->error);
  g_free (outcome);
}

static PbWindow *
get_window (PbApplication *self)
{
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (self));

  for (GList *l = windows; l != NULL; l = l->next)
    if (PB_IS_WINDOW (l->data))
      return l->data;
  return NULL;
}

static PbWindow *
ensure_window (PbApplication *self)
{
  PbWindow *window = get_window (self);

  if (window == NULL)
    window = pb_window_new (self);
  return window;
}

static void
present_window (PbApplication *self)
{
  gtk_window_present (GTK_WINDOW (ensure_window (self)));
}

static void
update_tray (PbApplication *self)
{
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->accounts));
  guint checking = 0, errors = 0;
  PbTrayState state;

  if (self->tray == NULL)
    return;
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PbAccountInfo) info = g_list_model_get_item (G_LIST_MODEL (self->accounts), i);

      checking += pb_account_info_get_phase (info) == PB_ACCOUNT_PHASE_CHECKING;
      errors += pb_account_info_get_phase (info) == PB_ACCOUNT_PHASE_ERROR;
    }
  if (checking > 0)
    state = PB_TRAY_STATE_CHECKING;
  else if (errors > 0)
    state = PB_TRAY_STATE_ERROR;
  else if (pb_application_get_new_count (self) > 0)
    state = PB_TRAY_STATE_NEW_MAIL;
  else
    state = PB_TRAY_STATE_NO_MAIL;
  pb_tray_update (self->tray, state, pb_application_get_new_count (self), errors);
}

/* --- actions ----------------------------------------------------------- */

static void
activate_activated (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  present_window (PB_APPLICATION (user_data));
}

static void
check_now_activated (GSimpleAction *action,
                     GVariant      *parameter,
                     gpointer       user_data)
{
  PbApplication *self = user_data;

  pb_application_check (self, NULL);
}

static void
check_account_activated (GSimpleAction *action,
                         GVariant      *parameter,
                         gpointer       user_data)
{
  PbApplication *self = user_data;

  pb_application_check (self, g_variant_get_string (parameter, NULL));
}

static void
download_new_activated (GSimpleAction *action,
                        GVariant      *parameter,
                        gpointer       user_data)
{
  PbApplication *self = user_data;
  PbWindow *window = ensure_window (self);

  gtk_window_present (GTK_WINDOW (window));
  pb_window_download_all (window);
}

static void
preferences_activated (GSimpleAction *action,
                       GVariant      *parameter,
                       gpointer       user_data)
{
  PbApplication *self = user_data;
  PbWindow *window = ensure_window (self);
  GtkWidget *dialog;

  gtk_window_present (GTK_WINDOW (window));
  dialog = pb_preferences_new (GTK_WINDOW (window), self->settings);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
about_activated (GSimpleAction *action,
                 GVariant      *parameter,
                 gpointer       user_data)
{
  PbApplication *self = user_data;
  static const char *authors[] = { "The Popbiff authors", NULL };

  gtk_show_about_dialog (GTK_WINDOW (ensure_window (self)),
                         "program-name", _("Popbiff"),
                         "logo-icon-name", PB_APP_ID,
                         "version", PACKAGE_VERSION,
                         "comments", _("Know when new mail arrives in your POP3 mailboxes."),
                         "website", "https://github.com/popbiff/popbiff",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "authors", authors,
                         /* Translators: put your names here, one per line */
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
quit_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  PbApplication *self = user_data;
  GList *windows = gtk_application_get_windows (GTK_APPLICATION (self));

  /* Destroying the windows first saves their size. */
  while (windows != NULL)
    {
      gtk_widget_destroy (windows->data);
      windows = gtk_application_get_windows (GTK_APPLICATION (self));
    }
  g_application_quit (G_APPLICATION (self));
}

static void
demo_activated (GSimpleAction *action,
                GVariant      *parameter,
                gpointer       user_data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autoptr(GSubprocess) process = NULL;

  /* A separate process, so the sample mailbox never mixes with real ones. */
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_NONE, &error,
                              self_exe != NULL ? self_exe : "popbiff", "--demo", NULL);
  if (process == NULL)
    g_warning ("Could not start the demo: %s", error->message);
}

static const GActionEntry app_entries[] = {
  { "activate", activate_activated },
  { "check-now", check_now_activated },
  { "check-account", check_account_activated, "s" },
  { "download-new", download_new_activated },
  { "preferences", preferences_activated },
  { "about", about_activated },
  { "quit", quit_activated },
  { "demo", demo_activated },
};

static void
set_accels (PbApplication *self)
{
  static const struct { const char *action; const char *accels[3]; } accels[] = {
    { "app.check-now", { "<Control>r", "F5", NULL } },
    { "app.add-account", { "<Control>n", NULL } },
    { "app.preferences", { "<Control>comma", NULL } },
    { "app.quit", { "<Control>q", NULL } },
    { "win.download", { "<Control>d", NULL } },
    { "win.mark-read", { "<Control>m", NULL } },
    { "win.open-folder", { "<Control>o", NULL } },
    { "win.edit-selected-account", { "<Control>e", NULL } },
    { "win.cancel-download", { "Escape", NULL } },
    { "win.show-help-overlay", { "<Control>question", "<Control>F1", NULL } },
    { "window.close", { "<Control>w", NULL } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (accels); i++)
    gtk_application_set_accels_for_action (GTK_APPLICATION (self), accels[i].action,
                                           accels[i].accels);
}

/* --- GApplication ------------------------------------------------------ */

static void
on_start_at_login_changed (PbApplication *self)
{
  if (!self->demo)
    pb_autostart_set_enabled_async (g_settings_get_boolean (self->settings, "start-at-login"));
}

static void
pb_application_startup (GApplication *application)
{
  PbApplication *self = PB_APPLICATION (application);
  g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

  G_APPLICATION_CLASS (pb_application_parent_class)->startup (application);

  g_set_application_name (_("Popbiff"));
  gtk_window_set_default_icon_name (PB_APP_ID);
  gtk_css_provider_load_from_resource (css, "/io/github/popbiff/Popbiff/style.css");
  gtk_style_context_add_provider_for_screen (gdk_screen_get_default (), GTK_STYLE_PROVIDER (css),
                                             GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  if (self->demo)
    {
      /* The demo must not change the person's preferences. */
      g_autoptr(GSettingsBackend) backend = g_memory_settings_backend_new ();

      self->settings = g_settings_new_with_backend (PB_APP_ID, backend);
    }
  else
    {
      self->settings = g_settings_new (PB_APP_ID);
    }
  g_signal_connect_object (self->settings, "changed::start-at-login",
                           G_CALLBACK (on_start_at_login_changed), self, G_CONNECT_SWAPPED);

  g_action_map_add_action_entries (G_ACTION_MAP (self), app_entries,
                                   G_N_ELEMENTS (app_entries), self);
  set_accels (self);

  self->tray = pb_tray_new (G_ACTION_GROUP (self));
  update_tray (self);

  /* An applet: it stays when its window closes. */
  g_application_hold (application);
  self->held = TRUE;
}

static void
pb_application_activate (GApplication *application)
{
  PbApplication *self = PB_APPLICATION (application);

  if (self->background)
    {
      /* Only the first activation (the start itself) stays hidden. */
      self->background = FALSE;
      return;
    }
  present_window (self);
}

static void
pb_application_shutdown (GApplication *application)
{
  PbApplication *self = PB_APPLICATION (application);

  g_clear_object (&self->tray);

  G_APPLICATION_CLASS (pb_application_parent_class)->shutdown (application);
}

static int
pb_application_handle_local_options (GApplication *application,
                                     GVariantDict *options)
{
  PbApplication *self = PB_APPLICATION (application);
  g_autoptr(GError) error = NULL;
  const char *action = NULL;

  if (g_variant_dict_contains (options, "check-now"))
    action = "check-now";
  else if (g_variant_dict_contains (options, "download-new"))
    action = "download-new";

  self->demo = g_variant_dict_contains (options, "demo");
  if (self->demo)
    {
      /* A second, separate applet: never the person's running one. */
      g_application_set_flags (application,
                               g_application_get_flags (application) | G_APPLICATION_NON_UNIQUE);
    }
  self->background = g_variant_dict_contains (options, "background");

  if (action == NULL)
    return -1;

  if (!g_application_register (application, NULL, &error))
    {
      g_printerr ("popbiff: %s\n", error->message);
      return 1;
    }
  if (g_application_get_is_remote (application))
    {
      g_action_group_activate_action (G_ACTION_GROUP (application), action, NULL);
      return 0;
    }
  /* We are the first instance: run the action once the applet is up. */
  g_free (self->pending_action);
  self->pending_action = g_strdup (action);
  return -1;
}

static void
pb_application_dispose (GObject *object)
{
  PbApplication *self = PB_APPLICATION (object);

  g_clear_object (&self->tray);
  g_clear_object (&self->settings);
  g_clear_object (&self->accounts);

  G_OBJECT_CLASS (pb_application_parent_class)->dispose (object);
}

static void
pb_application_finalize (GObject *object)
{
  PbApplication *self = PB_APPLICATION (object);

  g_free (self->pending_action);

  G_OBJECT_CLASS (pb_application_parent_class)->finalize (object);
}

static void
pb_application_class_init (PbApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = pb_application_dispose;
  object_class->finalize = pb_application_finalize;

  /* The resource lives in a static library: referencing it keeps the
   * linker from dropping it (its constructor registers it). */
  g_assert_nonnull (pb_app_get_resource ());
  app_class->startup = pb_application_startup;
  app_class->activate = pb_application_activate;
  app_class->shutdown = pb_application_shutdown;
  app_class->handle_local_options = pb_application_handle_local_options;
}

static const GOptionEntry option_entries[] = {
  { "background", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Start without opening the window (for starting at login)"), NULL },
  { "check-now", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Check every account now"), NULL },
  { "download-new", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Download all new messages"), NULL },
  { "demo", 0, 0, G_OPTION_ARG_NONE, NULL,
    N_("Try Popbiff with a built-in sample mailbox; your own accounts stay untouched"), NULL },
  { NULL }
};

static void
pb_application_init (PbApplication *self)
{
  self->accounts = g_list_store_new (PB_TYPE_ACCOUNT_INFO);
  g_application_add_main_option_entries (G_APPLICATION (self), option_entries);
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("A mail notifier for POP3 mailboxes. "
                                              "Run “popbiff --help” for the commands."));
}

PbApplication *
pb_application_new (void)
{
  return g_object_new (PB_TYPE_APPLICATION,
                       "application-id", PB_APP_ID,
                       "resource-base-path", "/io/github/popbiff/Popbiff",
                       "flags", G_APPLICATION_DEFAULT_FLAGS,
                       NULL);
}

GSettings *
pb_application_get_settings (PbApplication *self)
{
  g_return_val_if_fail (PB_IS_APPLICATION (self), NULL);
  return self->settings;
}

GListModel *
pb_application_get_accounts (PbApplication *self)
{
  g_return_val_if_fail (PB_IS_APPLICATION (self), NULL);
  return G_LIST_MODEL (self->accounts);
}

PbAccountInfo *
pb_application_lookup_info (PbApplication *self,
                            const char    *name)
{
  guint n;

  g_return_val_if_fail (PB_IS_APPLICATION (self), NULL);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->accounts));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PbAccountInfo) info = g_list_model_get_item (G_LIST_MODEL (self->accounts), i);

      if (g_str_equal (pb_account_info_get_name (info), name))
        return info;  /* the store keeps it alive */
    }
  return NULL;
}

guint
pb_application_get_new_count (PbApplication *self)
{
  guint n, count = 0;

  g_return_val_if_fail (PB_IS_APPLICATION (self), 0);

  n = g_list_model_get_n_items (G_LIST_MODEL (self->accounts));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PbAccountInfo) info = g_list_model_get_item (G_LIST_MODEL (self->accounts), i);

      count += pb_account_info_get_new_count (info);
    }
  return count;
}

gboolean
pb_application_is_demo (PbApplication *self)
{
  g_return_val_if_fail (PB_IS_APPLICATION (self), FALSE);
  return self->demo;
}

/* --- jobs -------------------------------------------------------------- */

void
pb_application_check (PbApplication *self,
                      const char    *account_name)
{
  g_return_if_fail (PB_IS_APPLICATION (self));

  /* Nothing to check until the account store and scheduler are wired. */
  (void) account_name;
}

void
pb_application_download_async (PbApplication          *self,
                               const char             *account_name,
                               const char * const     *uidls,
                               PbDownloadProgressFunc  progress,
                               gpointer                progress_data,
                               GCancellable           *cancellable,
                               GAsyncReadyCallback     callback,
                               gpointer                user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, pb_application_download_async);
  g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           _("Downloading is not available in this build."));
}

GPtrArray *
pb_application_download_finish (PbApplication  *self,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

void
pb_application_dismiss (PbApplication      *self,
                        const char         *account_name,
                        const char * const *uidls)
{
  PbAccountInfo *info;

  g_return_if_fail (PB_IS_APPLICATION (self));

  info = pb_application_lookup_info (self, account_name);
  if (info != NULL)
    pb_account_info_remove_messages (info, uidls);
}

static void
on_folder_opened (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!g_app_info_launch_default_for_uri_finish (result, &error))
    g_warning ("Could not open the folder: %s", error->message);
}

void
pb_application_open_folder (PbApplication *self,
                            const char    *account_name,
                            GtkWindow     *parent)
{
  PbAccountInfo *info;
  PbAccount *account;
  g_autofree char *uri = NULL;
  g_autoptr(GAppLaunchContext) context = NULL;

  g_return_if_fail (PB_IS_APPLICATION (self));

  info = pb_application_lookup_info (self, account_name);
  account = info != NULL ? pb_account_info_get_account (info) : NULL;
  if (account == NULL)
    return;
  uri = g_filename_to_uri (pb_account_get_folder (account), NULL, NULL);
  if (uri == NULL)
    return;
  if (parent != NULL)
    context = G_APP_LAUNCH_CONTEXT (gdk_display_get_app_launch_context (gtk_widget_get_display (GTK_WIDGET (parent))));
  g_app_info_launch_default_for_uri_async (uri, context, NULL, on_folder_opened, NULL);
}

int
pb_application_run_main (int    argc,
                         char **argv)
{
  g_autoptr(PbApplication) app = pb_application_new ();

  return g_application_run (G_APPLICATION (app), argc, argv);
}

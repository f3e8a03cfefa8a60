/* pb-account-editor.c: the dialog to add or edit an account. */
#include <glib/gi18n.h>

#include "pb-account-editor.h"

struct _PbAccountEditor
{
  GtkDialog        parent_instance;

  PbAccount       *original;     /* owned; NULL for a new account */
  GStrv            taken_names;
  char            *pin_sha256;   /* trusted during Test Connection, or NULL */
  char            *validation;
  gboolean         valid;
  gboolean         port_touched; /* the person chose a port: leave it */
  gboolean         edited;       /* the person changed something */
  gboolean         setting_port;

  GtkWidget       *content_grid;
  GtkEntry        *name_entry;
  GtkEntry        *host_entry;
  GtkComboBoxText *security_combo;
  GtkWidget       *security_warning;
  GtkSpinButton   *port_spin;
  GtkEntry        *user_entry;
  GtkEntry        *password_entry;
  GtkComboBoxText *auth_combo;
  GtkSpinButton   *interval_spin;
  GtkCheckButton  *folder_default_check;
  GtkFileChooser  *folder_chooser;
  GtkComboBoxText *format_combo;
  GtkCheckButton  *delete_check;
  GtkWidget       *delete_warning;
  GtkLabel        *validation_label;
  GtkButton       *test_button;
  GtkSpinner      *test_spinner;
  GtkLabel        *test_result;
  GtkExpander     *test_details_expander;
  GtkLabel        *test_details;
  GtkWidget       *save_button;
};

G_DEFINE_FINAL_TYPE (PbAccountEditor, pb_account_editor, GTK_TYPE_DIALOG)

enum {
  TEST_CONNECTION,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static const struct {
  const char       *id;
  PbPop3AuthMethod  method;
} auth_ids[] = {
  { "auto", PB_POP3_AUTH_AUTO },
  { "user", PB_POP3_AUTH_USER },
  { "apop", PB_POP3_AUTH_APOP },
  { "plain", PB_POP3_AUTH_PLAIN },
  { "login", PB_POP3_AUTH_LOGIN },
  { "cram-md5", PB_POP3_AUTH_CRAM_MD5 },
  { "scram-sha-256", PB_POP3_AUTH_SCRAM_SHA_256 },
};

static PbPop3Security
get_security (PbAccountEditor *self)
{
  const char *id = gtk_combo_box_get_active_id (GTK_COMBO_BOX (self->security_combo));

  if (g_strcmp0 (id, "starttls") == 0)
    return PB_POP3_SECURITY_STARTTLS;
  if (g_strcmp0 (id, "none") == 0)
    return PB_POP3_SECURITY_NONE;
  return PB_POP3_SECURITY_TLS;
}

static const char *
security_id (PbPop3Security security)
{
  switch (security)
    {
    case PB_POP3_SECURITY_STARTTLS:
      return "starttls";
    case PB_POP3_SECURITY_NONE:
      return "none";
    case PB_POP3_SECURITY_TLS:
    default:
      return "tls";
    }
}

static guint16
default_port (PbPop3Security security)
{
  /* RFC 8314: 995 for implicit TLS; RFC 1939: 110 otherwise. */
  return security == PB_POP3_SECURITY_TLS ? 995 : 110;
}

static PbPop3AuthMethod
get_auth (PbAccountEditor *self)
{
  const char *id = gtk_combo_box_get_active_id (GTK_COMBO_BOX (self->auth_combo));

  for (guint i = 0; i < G_N_ELEMENTS (auth_ids); i++)
    if (g_strcmp0 (id, auth_ids[i].id) == 0)
      return auth_ids[i].method;
  return PB_POP3_AUTH_AUTO;
}

static const char *
auth_id (PbPop3AuthMethod method)
{
  for (guint i = 0; i < G_N_ELEMENTS (auth_ids); i++)
    if (auth_ids[i].method == method)
      return auth_ids[i].id;
  return "auto";
}

static const char *
entry_text (GtkEntry *entry)
{
  return gtk_entry_get_text (entry);
}

PbAccount *
pb_account_editor_build_account (PbAccountEditor  *self,
                                 GError          **error)
{
  g_autoptr(PbAccount) account = NULL;
  g_autofree char *name = g_strstrip (g_strdup (entry_text (self->name_entry)));
  g_autofree char *host = g_strstrip (g_strdup (entry_text (self->host_entry)));

  g_return_val_if_fail (PB_IS_ACCOUNT_EDITOR (self), NULL);

  /* A number typed into a spin button becomes its value on focus-out or
   * Enter; Save or Test Connection by mnemonic (Alt+S, Alt+T) come with
   * neither, and must not use the number that was there before. */
  gtk_spin_button_update (self->port_spin);
  gtk_spin_button_update (self->interval_spin);

  if (*name == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("Give the account a name, for example “work”."));
      return NULL;
    }
  if (!pb_account_name_is_valid (name))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” cannot be an account name: use up to %d letters, digits, “.”, “_”, “-”, “@” or “+”, not starting with “.”."),
                   name, PB_ACCOUNT_NAME_MAX);
      return NULL;
    }
  if (self->original == NULL && self->taken_names != NULL &&
      g_strv_contains ((const char * const *) self->taken_names, name))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   _("There already is an account named “%s”; choose another name."), name);
      return NULL;
    }
  if (*host == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("Enter the server’s name, for example “pop.example.org”."));
      return NULL;
    }
  if (*entry_text (self->user_entry) == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("Enter your user name on the server."));
      return NULL;
    }

  account = self->original != NULL ? pb_account_copy (self->original) : pb_account_new (name);
  pb_account_set_host (account, host);
  pb_account_set_security (account, get_security (self));
  pb_account_set_port (account, (guint16) gtk_spin_button_get_value_as_int (self->port_spin));
  pb_account_set_user (account, entry_text (self->user_entry));
  pb_account_set_auth (account, get_auth (self));
  pb_account_set_interval (account, (guint) gtk_spin_button_get_value_as_int (self->interval_spin));
  if (gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->folder_default_check)))
    pb_account_set_folder (account, NULL);
  else
    {
      g_autofree char *folder = gtk_file_chooser_get_filename (self->folder_chooser);

      if (folder == NULL)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("Choose a download folder, or use the account’s folder in ~/Mail."));
          return NULL;
        }
      pb_account_set_folder (account, folder);
    }
  pb_account_set_format (account,
                         g_strcmp0 (gtk_combo_box_get_active_id (GTK_COMBO_BOX (self->format_combo)), "eml") == 0 ?
                         PB_DELIVERY_FORMAT_EML : PB_DELIVERY_FORMAT_MAILDIR);
  pb_account_set_delete_after_download (account,
                                        gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->delete_check)));

  if (self->pin_sha256 != NULL)
    pb_account_set_pin_sha256 (account, self->pin_sha256);
  if (!pb_account_validate (account, error))
    return NULL;
  if (self->original == NULL && *entry_text (self->password_entry) == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("Enter your password; it is kept in your keyring."));
      return NULL;
    }
  return g_steal_pointer (&account);
}

static void
validate (PbAccountEditor *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PbAccount) account = pb_account_editor_build_account (self, &error);
  GtkStyleContext *style;

  self->valid = account != NULL;
  g_free (self->validation);
  self->validation = g_strdup (error != NULL ? error->message : "");
  gtk_label_set_text (self->validation_label, self->validation);
  /* A form just opened is not wrong, only empty: what it still needs is
   * said as a hint, and as an error once the person is filling it in. */
  style = gtk_widget_get_style_context (GTK_WIDGET (self->validation_label));
  if (self->edited)
    {
      gtk_style_context_remove_class (style, "dim-label");
      gtk_style_context_add_class (style, "pb-error");
    }
  else
    {
      gtk_style_context_remove_class (style, "pb-error");
      gtk_style_context_add_class (style, "dim-label");
    }
  gtk_widget_set_sensitive (self->save_button, self->valid);
  gtk_widget_set_sensitive (GTK_WIDGET (self->test_button), self->valid);
}

static void
on_edited (PbAccountEditor *self)
{
  self->edited = TRUE;
  validate (self);
}

static void
on_security_changed (PbAccountEditor *self)
{
  PbPop3Security security = get_security (self);

  gtk_widget_set_visible (self->security_warning, security == PB_POP3_SECURITY_NONE);
  if (!self->port_touched)
    {
      self->setting_port = TRUE;
      gtk_spin_button_set_value (self->port_spin, default_port (security));
      self->setting_port = FALSE;
    }
  validate (self);
}

static void
on_port_changed (PbAccountEditor *self)
{
  if (!self->setting_port)
    self->port_touched = gtk_spin_button_get_value_as_int (self->port_spin) !=
                         default_port (get_security (self));
  validate (self);
}

static void
on_folder_default_toggled (PbAccountEditor *self)
{
  gboolean use_default = gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->folder_default_check));

  /* The chooser only matters for a folder of one's own. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->folder_chooser), !use_default);
  gtk_widget_set_visible (GTK_WIDGET (self->folder_chooser), !use_default);
  validate (self);
}

static void
on_delete_toggled (PbAccountEditor *self)
{
  gtk_widget_set_visible (self->delete_warning,
                          gtk_toggle_button_get_active (GTK_TOGGLE_BUTTON (self->delete_check)));
}

static void
on_test_clicked (PbAccountEditor *self)
{
  if (self->valid)
    g_signal_emit (self, signals[TEST_CONNECTION], 0);
}

static void
pb_account_editor_dispose (GObject *object)
{
  PbAccountEditor *self = PB_ACCOUNT_EDITOR (object);

  g_clear_object (&self->original);

  G_OBJECT_CLASS (pb_account_editor_parent_class)->dispose (object);
}

static void
pb_account_editor_finalize (GObject *object)
{
  PbAccountEditor *self = PB_ACCOUNT_EDITOR (object);

  g_strfreev (self->taken_names);
  g_free (self->pin_sha256);
  g_free (self->validation);

  G_OBJECT_CLASS (pb_account_editor_parent_class)->finalize (object);
}

static void
pb_account_editor_class_init (PbAccountEditorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pb_account_editor_dispose;
  object_class->finalize = pb_account_editor_finalize;

  signals[TEST_CONNECTION] = g_signal_new ("test-connection", G_TYPE_FROM_CLASS (klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                           G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/popbiff/Popbiff/ui/pb-account-editor.ui");
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, content_grid);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, name_entry);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, host_entry);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, security_combo);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, security_warning);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, port_spin);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, user_entry);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, password_entry);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, auth_combo);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, interval_spin);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, folder_default_check);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, folder_chooser);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, format_combo);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, delete_check);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, delete_warning);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, validation_label);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, test_button);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, test_spinner);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, test_result);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, test_details_expander);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, test_details);
  gtk_widget_class_bind_template_child (widget_class, PbAccountEditor, save_button);
}

static void
pb_account_editor_init (PbAccountEditor *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* The form is its own object in the template: GtkBuilder in GTK 3 trips
   * over inline objects inside the dialog's internal vbox. */
  gtk_container_add (GTK_CONTAINER (gtk_dialog_get_content_area (GTK_DIALOG (self))),
                     self->content_grid);
}

static void
fill (PbAccountEditor *self,
      PbAccount       *account,
      GSettings       *settings)
{
  gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->security_combo), "tls");
  gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->auth_combo), "auto");
  gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->format_combo), "maildir");

  if (account == NULL)
    {
      if (settings != NULL)
        {
          g_autofree char *folder = g_settings_get_string (settings, "default-folder");
          g_autofree char *format = g_settings_get_string (settings, "default-format");

          gtk_spin_button_set_value (self->interval_spin,
                                     g_settings_get_uint (settings, "default-interval"));
          gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->format_combo), format);
          if (*folder != '\0')
            {
              gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->folder_default_check), FALSE);
              gtk_file_chooser_set_filename (self->folder_chooser, folder);
            }
        }
      gtk_window_set_title (GTK_WINDOW (self), _("Add Account"));
      return;
    }

  gtk_window_set_title (GTK_WINDOW (self), _("Edit Account"));
  gtk_entry_set_text (self->name_entry, pb_account_get_name (account));
  /* The name is the account's identity (state file, keyring item). */
  gtk_editable_set_editable (GTK_EDITABLE (self->name_entry), FALSE);
  gtk_widget_set_can_focus (GTK_WIDGET (self->name_entry), FALSE);
  /* It looked like any other field, and a click into it did nothing:
   * greyed out, with the reason a hover away. */
  gtk_widget_set_sensitive (GTK_WIDGET (self->name_entry), FALSE);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->name_entry),
                               _("An account’s name cannot be changed. To use another name, "
                                 "add the account again under it and remove this one."));
  gtk_entry_set_text (self->host_entry, pb_account_get_host (account) ? pb_account_get_host (account) : "");
  gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->security_combo),
                               security_id (pb_account_get_security (account)));
  self->port_touched = pb_account_get_port (account) != default_port (pb_account_get_security (account));
  gtk_spin_button_set_value (self->port_spin, pb_account_get_port (account));
  gtk_entry_set_text (self->user_entry, pb_account_get_user (account) ? pb_account_get_user (account) : "");
  gtk_entry_set_placeholder_text (self->password_entry, _("Stored in your keyring; type to change"));
  gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->auth_combo), auth_id (pb_account_get_auth (account)));
  gtk_spin_button_set_value (self->interval_spin, pb_account_get_interval (account));
  gtk_combo_box_set_active_id (GTK_COMBO_BOX (self->format_combo),
                               pb_account_get_format (account) == PB_DELIVERY_FORMAT_EML ? "eml" : "maildir");
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->delete_check),
                                pb_account_get_delete_after_download (account));
  {
    g_autoptr(PbAccount) fresh = pb_account_new (pb_account_get_name (account));

    /* Default folder: the one a fresh account of this name would get. */
    if (!g_str_equal (pb_account_get_folder (fresh), pb_account_get_folder (account)))
      {
        gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (self->folder_default_check), FALSE);
        gtk_file_chooser_set_filename (self->folder_chooser, pb_account_get_folder (account));
      }
  }
}

GtkWidget *
pb_account_editor_new (GtkWindow          *parent,
                       PbAccount          *account,
                       const char * const *taken_names,
                       GSettings          *settings)
{
  PbAccountEditor *self;
  GtkEditable *editables[4];

  self = g_object_new (PB_TYPE_ACCOUNT_EDITOR, "transient-for", parent, "use-header-bar", TRUE, NULL);
  self->original = account != NULL ? pb_account_copy (account) : NULL;
  self->taken_names = g_strdupv ((char **) taken_names);
  fill (self, account, settings);

  editables[0] = GTK_EDITABLE (self->name_entry);
  editables[1] = GTK_EDITABLE (self->host_entry);
  editables[2] = GTK_EDITABLE (self->user_entry);
  editables[3] = GTK_EDITABLE (self->password_entry);
  for (guint i = 0; i < G_N_ELEMENTS (editables); i++)
    g_signal_connect_object (editables[i], "changed", G_CALLBACK (on_edited), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->security_combo, "changed", G_CALLBACK (on_security_changed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->port_spin, "value-changed", G_CALLBACK (on_port_changed),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->interval_spin, "value-changed", G_CALLBACK (validate),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->folder_default_check, "toggled",
                           G_CALLBACK (on_folder_default_toggled), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->folder_chooser, "selection-changed", G_CALLBACK (validate),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->delete_check, "toggled", G_CALLBACK (on_delete_toggled),
                           self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->test_button, "clicked", G_CALLBACK (on_test_clicked),
                           self, G_CONNECT_SWAPPED);

  gtk_widget_set_visible (self->security_warning, get_security (self) == PB_POP3_SECURITY_NONE);
  on_folder_default_toggled (self);
  on_delete_toggled (self);
  validate (self);
  gtk_dialog_set_default_response (GTK_DIALOG (self), GTK_RESPONSE_ACCEPT);
  return GTK_WIDGET (self);
}

gboolean
pb_account_editor_is_new (PbAccountEditor *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_EDITOR (self), FALSE);
  return self->original == NULL;
}

const char *
pb_account_editor_get_password (PbAccountEditor *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_EDITOR (self), NULL);
  return gtk_entry_get_text (self->password_entry);
}

gboolean
pb_account_editor_is_valid (PbAccountEditor *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_EDITOR (self), FALSE);
  return self->valid;
}

const char *
pb_account_editor_get_validation_text (PbAccountEditor *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_EDITOR (self), NULL);
  return self->validation;
}

void
pb_account_editor_set_test_result (PbAccountEditor *self,
                                   const char      *text,
                                   gboolean         running)
{
  g_return_if_fail (PB_IS_ACCOUNT_EDITOR (self));

  gtk_label_set_text (self->test_result, text != NULL ? text : "");
  if (running)
    {
      pb_account_editor_set_test_details (self, NULL);  /* an old test's */
      gtk_spinner_start (self->test_spinner);
    }
  else
    gtk_spinner_stop (self->test_spinner);
  gtk_widget_set_sensitive (GTK_WIDGET (self->test_button), !running && self->valid);
}

void
pb_account_editor_set_pin_sha256 (PbAccountEditor *self,
                                  const char      *sha256)
{
  g_return_if_fail (PB_IS_ACCOUNT_EDITOR (self));

  g_free (self->pin_sha256);
  self->pin_sha256 = g_strdup (sha256);
  validate (self);
}

void
pb_account_editor_set_test_details (PbAccountEditor *self,
                                    const char      *details)
{
  g_return_if_fail (PB_IS_ACCOUNT_EDITOR (self));

  gtk_label_set_text (self->test_details, details != NULL ? details : "");
  gtk_widget_set_visible (GTK_WIDGET (self->test_details_expander), details != NULL && *details != '\0');
  if (details == NULL)
    gtk_expander_set_expanded (self->test_details_expander, FALSE);
}

/* pb-certificate-dialog.c: "Do you trust this server's certificate?" */
#include <glib/gi18n.h>

#include "pb-certificate-dialog.h"

struct _PbCertificateDialog
{
  GtkDialog  parent_instance;

  char      *sha256;
  guint      next_row;

  GtkWidget *content_grid;
  GtkLabel  *headline_label;
  GtkLabel  *reason_label;
};

G_DEFINE_FINAL_TYPE (PbCertificateDialog, pb_certificate_dialog, GTK_TYPE_DIALOG)

char *
pb_certificate_describe_flags (GTlsCertificateFlags flags)
{
  GString *text = g_string_new (NULL);

  if (flags & G_TLS_CERTIFICATE_UNKNOWN_CA)
    g_string_append_printf (text, "%s ", _("It is not signed by an authority your system trusts (it may be self-signed)."));
  if (flags & G_TLS_CERTIFICATE_BAD_IDENTITY)
    g_string_append_printf (text, "%s ", _("It was issued for a different server name."));
  if (flags & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    g_string_append_printf (text, "%s ", _("It is not valid yet."));
  if (flags & G_TLS_CERTIFICATE_EXPIRED)
    g_string_append_printf (text, "%s ", _("It has expired."));
  if (flags & G_TLS_CERTIFICATE_REVOKED)
    g_string_append_printf (text, "%s ", _("It has been revoked."));
  if (flags & G_TLS_CERTIFICATE_INSECURE)
    g_string_append_printf (text, "%s ", _("It uses an insecure algorithm."));
  if (flags & G_TLS_CERTIFICATE_GENERIC_ERROR)
    g_string_append_printf (text, "%s ", _("It could not be verified."));
  if (text->len > 0)
    g_string_truncate (text, text->len - 1);
  return g_string_free (text, FALSE);
}

char *
pb_certificate_format_fingerprint (const char *hex)
{
  GString *out = g_string_new (NULL);

  for (gsize i = 0; hex != NULL && hex[i] != '\0'; i++)
    {
      if (i > 0 && i % 2 == 0)
        g_string_append_c (out, (i % 32 == 0) ? '\n' : ':');
      g_string_append_c (out, g_ascii_toupper (hex[i]));
    }
  return g_string_free (out, FALSE);
}

static void
add_row (PbCertificateDialog *self,
         const char          *title,
         const char          *value,
         gboolean             monospace)
{
  GtkWidget *name = gtk_label_new (title);
  GtkWidget *label = gtk_label_new (value != NULL ? value : _("(unknown)"));
  guint row = 2 + self->next_row++;

  gtk_label_set_xalign (GTK_LABEL (name), 1.0);
  gtk_label_set_yalign (GTK_LABEL (name), 0.0);
  gtk_style_context_add_class (gtk_widget_get_style_context (name), "dim-label");
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_label_set_selectable (GTK_LABEL (label), TRUE);
  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_max_width_chars (GTK_LABEL (label), 48);
  gtk_label_set_mnemonic_widget (GTK_LABEL (name), label);
  if (monospace)
    gtk_style_context_add_class (gtk_widget_get_style_context (label), "monospace");
  atk_object_set_name (gtk_widget_get_accessible (label), title);
  gtk_widget_show (name);
  gtk_widget_show (label);
  gtk_grid_attach (GTK_GRID (self->content_grid), name, 1, (int) row, 1, 1);
  gtk_grid_attach (GTK_GRID (self->content_grid), label, 2, (int) row, 1, 1);
}

static char *
format_date (GDateTime *date)
{
  /* Translators: a certificate validity date, see strftime(3) */
  return date != NULL ? g_date_time_format (date, _("%e %B %Y")) : NULL;
}

static void
pb_certificate_dialog_finalize (GObject *object)
{
  PbCertificateDialog *self = PB_CERTIFICATE_DIALOG (object);

  g_free (self->sha256);

  G_OBJECT_CLASS (pb_certificate_dialog_parent_class)->finalize (object);
}

static void
pb_certificate_dialog_class_init (PbCertificateDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = pb_certificate_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/popbiff/Popbiff/ui/pb-certificate-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, PbCertificateDialog, content_grid);
  gtk_widget_class_bind_template_child (widget_class, PbCertificateDialog, headline_label);
  gtk_widget_class_bind_template_child (widget_class, PbCertificateDialog, reason_label);
}

static void
pb_certificate_dialog_init (PbCertificateDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  gtk_container_add (GTK_CONTAINER (gtk_dialog_get_content_area (GTK_DIALOG (self))),
                     self->content_grid);
}

GtkWidget *
pb_certificate_dialog_new (GtkWindow           *parent,
                           const char          *account_name,
                           const PbPop3TlsInfo *info,
                           const char          *pinned_sha256)
{
  PbCertificateDialog *self;
  g_autofree char *headline = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *from = NULL;
  g_autofree char *until = NULL;
  g_autofree char *validity = NULL;
  g_autofree char *fingerprint = NULL;
  gboolean changed;

  g_return_val_if_fail (account_name != NULL, NULL);
  g_return_val_if_fail (info != NULL, NULL);

  self = g_object_new (PB_TYPE_CERTIFICATE_DIALOG, "transient-for", parent, "use-header-bar", FALSE, NULL);
  self->sha256 = g_strdup (info->sha256);
  changed = pinned_sha256 != NULL && g_ascii_strcasecmp (pinned_sha256, info->sha256 ? info->sha256 : "") != 0;

  if (changed)
    {
      headline = g_strdup_printf (_("The certificate of account “%s” has changed"), account_name);
      reason = g_strdup (_("Popbiff refused to connect: the server shows a different certificate "
                           "from the one you trusted. Servers renew certificates now and then, but "
                           "this is also what an attacker’s certificate looks like. Trust the new "
                           "one only if your provider announced a change."));
    }
  else
    {
      g_autofree char *why = pb_certificate_describe_flags (info->errors);

      headline = g_strdup_printf (_("Account “%s”: the server’s certificate is not trusted"), account_name);
      reason = g_strdup_printf (_("%s Trust it only if you know this server uses this certificate, "
                                  "for example because you compared the fingerprint with the one "
                                  "your provider published."), why);
    }
  gtk_label_set_text (self->headline_label, headline);
  gtk_label_set_text (self->reason_label, reason);

  from = format_date (info->not_before);
  until = format_date (info->not_after);
  /* Translators: certificate validity, "from 1 March 2026 to 1 June 2026" */
  validity = g_strdup_printf (_("from %s to %s"), from ? g_strstrip (from) : "?", until ? g_strstrip (until) : "?");
  fingerprint = pb_certificate_format_fingerprint (info->sha256);

  add_row (self, _("Issued to"), info->subject, FALSE);
  add_row (self, _("Issued by"), info->issuer, FALSE);
  add_row (self, _("Valid"), validity, FALSE);
  add_row (self, _("SHA-256 fingerprint"), fingerprint, TRUE);
  if (changed)
    {
      g_autofree char *old = pb_certificate_format_fingerprint (pinned_sha256);

      add_row (self, _("Trusted before"), old, TRUE);
    }
  if (info->tls_version != NULL)
    add_row (self, _("Connection"), info->tls_version, FALSE);

  gtk_dialog_set_default_response (GTK_DIALOG (self), GTK_RESPONSE_CANCEL);
  return GTK_WIDGET (self);
}

const char *
pb_certificate_dialog_get_sha256 (PbCertificateDialog *self)
{
  g_return_val_if_fail (PB_IS_CERTIFICATE_DIALOG (self), NULL);
  return self->sha256;
}

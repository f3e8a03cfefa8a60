/* pb-account-row.c: one account in the window's list. */
#include <glib/gi18n.h>

#include "pb-account-row.h"
#include "pb-format.h"

struct _PbAccountRow
{
  GtkListBoxRow    parent_instance;

  PbAccountInfo *status;    /* owned; NULL for "All accounts" */
  GListModel      *statuses;  /* owned; only for "All accounts" */
  PbErrorFix       fix;

  GtkStack        *icon_stack;
  GtkImage        *state_icon;
  GtkSpinner      *spinner;
  GtkLabel        *name_label;
  GtkLabel        *count_label;
  GtkLabel        *detail_label;
  GtkWidget       *error_box;
  GtkLabel        *error_label;
  GtkButton       *fix_button;
};

G_DEFINE_FINAL_TYPE (PbAccountRow, pb_account_row, GTK_TYPE_LIST_BOX_ROW)

enum {
  FIX,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

/* A button label without its mnemonic marks ("_Edit account" reads
 * "Edit account"; "__" is a literal underscore), for screen readers. */
static char *
strip_mnemonic (const char *label)
{
  GString *text = g_string_sized_new (strlen (label));

  for (const char *p = label; *p != '\0'; p++)
    {
      if (*p == '_')
        {
          if (p[1] != '_')
            continue;
          p++;
        }
      g_string_append_c (text, *p);
    }
  return g_string_free (text, FALSE);
}

static void
set_checking (PbAccountRow *self,
              gboolean      checking)
{
  gtk_stack_set_visible_child_name (self->icon_stack, checking ? "spinner" : "icon");
  if (checking)
    gtk_spinner_start (self->spinner);
  else
    gtk_spinner_stop (self->spinner);
}

static void
set_count (PbAccountRow *self,
           guint         count)
{
  g_autofree char *text = count > 0 ? g_strdup_printf ("%u", count) : NULL;

  gtk_label_set_text (self->count_label, text != NULL ? text : "");
  gtk_widget_set_visible (GTK_WIDGET (self->count_label), count > 0);
}

static void
update_all_accounts (PbAccountRow *self)
{
  guint n = g_list_model_get_n_items (self->statuses);
  guint new_count = 0, checking = 0, errors = 0;
  g_autofree char *detail = NULL;
  g_autofree char *accessible = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(PbAccountInfo) status = g_list_model_get_item (self->statuses, i);

      new_count += pb_account_info_get_new_count (status);
      checking += pb_account_info_get_phase (status) == PB_ACCOUNT_PHASE_CHECKING;
      errors += pb_account_info_get_phase (status) == PB_ACCOUNT_PHASE_ERROR;
    }

  gtk_label_set_text (self->name_label, _("All accounts"));
  set_count (self, new_count);
  set_checking (self, checking > 0);
  gtk_image_set_from_icon_name (self->state_icon,
                                errors > 0 ? "popbiff-error-symbolic" :
                                new_count > 0 ? "popbiff-new-mail-symbolic" :
                                "popbiff-no-mail-symbolic", GTK_ICON_SIZE_MENU);

  if (checking > 0)
    detail = g_strdup (_("Checking…"));
  else if (errors > 0)
    detail = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u account needs attention",
                                           "%u accounts need attention", errors), errors);
  else if (new_count > 0)
    detail = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u new message", "%u new messages",
                                           new_count), new_count);
  else
    detail = g_strdup (_("No new mail"));
  gtk_label_set_text (self->detail_label, detail);
  gtk_widget_set_visible (self->error_box, FALSE);

  accessible = g_strdup_printf ("%s: %s", _("All accounts"), detail);
  atk_object_set_name (gtk_widget_get_accessible (GTK_WIDGET (self)), accessible);
}

void
pb_account_row_update (PbAccountRow *self)
{
  PbAccountPhase phase;
  g_autofree char *when = NULL;
  g_autofree char *counts = NULL;
  g_autofree char *detail = NULL;
  g_autofree char *problem = NULL;
  g_autofree char *accessible = NULL;
  const char *label;

  g_return_if_fail (PB_IS_ACCOUNT_ROW (self));

  if (self->status == NULL)
    {
      update_all_accounts (self);
      return;
    }

  phase = pb_account_info_get_phase (self->status);
  gtk_label_set_text (self->name_label, pb_account_info_get_name (self->status));
  /* A long name is cut short in the narrow sidebar. */
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->name_label), pb_account_info_get_name (self->status));
  set_count (self, pb_account_info_get_new_count (self->status));
  set_checking (self, phase == PB_ACCOUNT_PHASE_CHECKING);

  when = pb_format_last_check (pb_account_info_get_last_check (self->status),
                               g_get_real_time () / G_USEC_PER_SEC);
  counts = pb_format_counts (pb_account_info_get_new_count (self->status),
                             pb_account_info_get_total (self->status));
  if (phase == PB_ACCOUNT_PHASE_CHECKING)
    detail = g_strdup (_("Checking…"));
  else if (*counts != '\0')
    /* Translators: "Checked 5 minutes ago · 3 new of 120" */
    detail = g_strdup_printf (_("%s · %s"), when, counts);
  else
    detail = g_steal_pointer (&when);
  gtk_label_set_text (self->detail_label, detail);

  problem = pb_account_info_describe_error (self->status, &self->fix);
  gtk_widget_set_visible (self->error_box, problem != NULL && phase != PB_ACCOUNT_PHASE_CHECKING);
  gtk_label_set_text (self->error_label, problem != NULL ? problem : "");
  label = pb_error_fix_get_label (self->fix);
  gtk_widget_set_visible (GTK_WIDGET (self->fix_button), label != NULL);
  if (label != NULL)
    {
      g_autofree char *plain = strip_mnemonic (label);
      g_autofree char *fix_accessible = NULL;

      gtk_button_set_label (self->fix_button, label);
      fix_accessible = g_strdup_printf ("%s: %s", pb_account_info_get_name (self->status), plain);
      atk_object_set_name (gtk_widget_get_accessible (GTK_WIDGET (self->fix_button)), fix_accessible);
    }
  /* The full message (with what the server said) is a hover away. */
  gtk_widget_set_tooltip_text (self->error_box,
                               pb_account_info_get_error (self->status) != NULL ?
                               pb_account_info_get_error (self->status)->message : NULL);

  gtk_image_set_from_icon_name (self->state_icon,
                                phase == PB_ACCOUNT_PHASE_ERROR ? "popbiff-error-symbolic" :
                                pb_account_info_get_new_count (self->status) > 0 ?
                                "popbiff-new-mail-symbolic" : "popbiff-no-mail-symbolic",
                                GTK_ICON_SIZE_MENU);

  if (problem != NULL)
    accessible = g_strdup_printf ("%s: %s; %s", pb_account_info_get_name (self->status),
                                  detail, problem);
  else
    accessible = g_strdup_printf ("%s: %s", pb_account_info_get_name (self->status), detail);
  atk_object_set_name (gtk_widget_get_accessible (GTK_WIDGET (self)), accessible);
}

static void
on_fix_clicked (PbAccountRow *self)
{
  g_signal_emit (self, signals[FIX], 0, (int) self->fix);
}

static void
pb_account_row_dispose (GObject *object)
{
  PbAccountRow *self = PB_ACCOUNT_ROW (object);

  g_clear_object (&self->status);
  g_clear_object (&self->statuses);

  G_OBJECT_CLASS (pb_account_row_parent_class)->dispose (object);
}

static void
pb_account_row_class_init (PbAccountRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = pb_account_row_dispose;

  signals[FIX] = g_signal_new ("fix", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                               0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/popbiff/Popbiff/ui/pb-account-row.ui");
  gtk_widget_class_bind_template_child (widget_class, PbAccountRow, icon_stack);
  gtk_widget_class_bind_template_child (widget_class, PbAccountRow, state_icon);
  gtk_widget_class_bind_template_child (widget_class, PbAccountRow, spinner);
  gtk_widget_class_bind_template_child (widget_class, PbAccountRow, name_label);
  gtk_widget_class_bind_template_child (widget_class, PbAccountRow, count_label);
  gtk_widget_class_bind_template_child (widget_class, PbAccountRow, detail_label);
  gtk_widget_class_bind_template_child (widget_class, PbAccountRow, error_box);
  gtk_widget_class_bind_template_child (widget_class, PbAccountRow, error_label);
  gtk_widget_class_bind_template_child (widget_class, PbAccountRow, fix_button);
}

static void
pb_account_row_init (PbAccountRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  g_signal_connect_object (self->fix_button, "clicked", G_CALLBACK (on_fix_clicked),
                           self, G_CONNECT_SWAPPED);
}

GtkWidget *
pb_account_row_new (PbAccountInfo *status,
                    GListModel      *statuses)
{
  PbAccountRow *self = g_object_new (PB_TYPE_ACCOUNT_ROW, NULL);

  g_return_val_if_fail (status != NULL || statuses != NULL, NULL);

  if (status != NULL)
    {
      self->status = g_object_ref (status);
      g_signal_connect_object (status, "changed", G_CALLBACK (pb_account_row_update),
                               self, G_CONNECT_SWAPPED);
    }
  else
    {
      self->statuses = g_object_ref (statuses);
    }
  pb_account_row_update (self);
  return GTK_WIDGET (self);
}

PbAccountInfo *
pb_account_row_get_status (PbAccountRow *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_ROW (self), NULL);
  return self->status;
}

const char *
pb_account_row_get_detail_text (PbAccountRow *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_ROW (self), NULL);
  return gtk_label_get_text (self->detail_label);
}

GtkLabel *
pb_account_row_get_name_label (PbAccountRow *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_ROW (self), NULL);
  return self->name_label;
}

const char *
pb_account_row_get_error_text (PbAccountRow *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_ROW (self), NULL);
  if (!gtk_widget_get_visible (self->error_box))
    return NULL;
  return gtk_label_get_text (self->error_label);
}

GtkButton *
pb_account_row_get_fix_button (PbAccountRow *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_ROW (self), NULL);
  return self->fix_button;
}

gboolean
pb_account_row_is_checking (PbAccountRow *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_ROW (self), FALSE);
  return g_str_equal (gtk_stack_get_visible_child_name (self->icon_stack), "spinner");
}

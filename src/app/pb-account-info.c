/* pb-account-info.c: what the window shows about one account. */
#include <glib/gi18n.h>

#include "core/pb-core-error.h"
#include "pb-account-info.h"

struct _PbAccountInfo
{
  GObject         parent_instance;

  char           *name;
  PbAccount      *account;       /* owned, may be NULL */
  PbAccountPhase  phase;
  PbAccountPhase  phase_before_check;
  gint64          last_check;
  gint            total;
  GPtrArray      *messages;      /* (element-type PbMessageItem) owned */
  GError         *error;         /* the last check's, or NULL */
};

G_DEFINE_FINAL_TYPE (PbAccountInfo, pb_account_info, G_TYPE_OBJECT)

enum {
  CHANGED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

static void
emit_changed (PbAccountInfo *self)
{
  g_signal_emit (self, signals[CHANGED], 0);
}

static void
pb_account_info_dispose (GObject *object)
{
  PbAccountInfo *self = PB_ACCOUNT_INFO (object);

  g_clear_object (&self->account);
  g_clear_pointer (&self->messages, g_ptr_array_unref);

  G_OBJECT_CLASS (pb_account_info_parent_class)->dispose (object);
}

static void
pb_account_info_finalize (GObject *object)
{
  PbAccountInfo *self = PB_ACCOUNT_INFO (object);

  g_free (self->name);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (pb_account_info_parent_class)->finalize (object);
}

static void
pb_account_info_class_init (PbAccountInfoClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pb_account_info_dispose;
  object_class->finalize = pb_account_info_finalize;

  /* Anything shown changed; rows are cheap enough to redraw whole. */
  signals[CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass),
                                   G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                                   G_TYPE_NONE, 0);
}

static void
pb_account_info_init (PbAccountInfo *self)
{
  self->total = -1;
  self->messages = g_ptr_array_new_with_free_func (g_object_unref);
}

PbAccountInfo *
pb_account_info_new (const char *name)
{
  PbAccountInfo *self;

  g_return_val_if_fail (name != NULL, NULL);

  self = g_object_new (PB_TYPE_ACCOUNT_INFO, NULL);
  self->name = g_strdup (name);
  return self;
}

const char *
pb_account_info_get_name (PbAccountInfo *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_INFO (self), NULL);
  return self->name;
}

PbAccount *
pb_account_info_get_account (PbAccountInfo *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_INFO (self), NULL);
  return self->account;
}

void
pb_account_info_set_account (PbAccountInfo *self,
                               PbAccount       *account)
{
  g_return_if_fail (PB_IS_ACCOUNT_INFO (self));

  if (g_set_object (&self->account, account))
    emit_changed (self);
}

PbAccountPhase
pb_account_info_get_phase (PbAccountInfo *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_INFO (self), PB_ACCOUNT_PHASE_IDLE);
  return self->phase;
}

void
pb_account_info_set_checking (PbAccountInfo *self,
                                gboolean         checking)
{
  g_return_if_fail (PB_IS_ACCOUNT_INFO (self));

  if (checking == (self->phase == PB_ACCOUNT_PHASE_CHECKING))
    return;
  if (checking)
    {
      self->phase_before_check = self->phase;
      self->phase = PB_ACCOUNT_PHASE_CHECKING;
    }
  else
    {
      /* A cancelled check leaves what was known before it. */
      self->phase = self->phase_before_check;
    }
  emit_changed (self);
}

void
pb_account_info_set_result (PbAccountInfo *self,
                              gint64           when,
                              guint            total,
                              GPtrArray       *new_messages)
{
  g_return_if_fail (PB_IS_ACCOUNT_INFO (self));

  self->phase = PB_ACCOUNT_PHASE_IDLE;
  self->last_check = when;
  self->total = (gint) MIN (total, (guint) G_MAXINT);
  g_clear_error (&self->error);
  g_ptr_array_set_size (self->messages, 0);
  if (new_messages != NULL)
    for (guint i = 0; i < new_messages->len; i++)
      g_ptr_array_add (self->messages, g_object_ref (g_ptr_array_index (new_messages, i)));
  emit_changed (self);
}

void
pb_account_info_set_messages (PbAccountInfo *self,
                              GPtrArray     *new_messages)
{
  g_return_if_fail (PB_IS_ACCOUNT_INFO (self));
  g_return_if_fail (new_messages != NULL);

  g_ptr_array_set_size (self->messages, 0);
  for (guint i = 0; i < new_messages->len; i++)
    g_ptr_array_add (self->messages, g_object_ref (g_ptr_array_index (new_messages, i)));
  emit_changed (self);
}

void
pb_account_info_set_error (PbAccountInfo *self,
                             const GError    *error)
{
  g_return_if_fail (PB_IS_ACCOUNT_INFO (self));
  g_return_if_fail (error != NULL);

  /* The time of the last check that worked stays, with its counts: a
   * row that said "Checked just now · No new mail" next to "Server
   * unreachable" contradicted itself. */
  self->phase = PB_ACCOUNT_PHASE_ERROR;
  g_clear_error (&self->error);
  self->error = g_error_copy (error);
  emit_changed (self);
}

gint64
pb_account_info_get_last_check (PbAccountInfo *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_INFO (self), 0);
  return self->last_check;
}

gint
pb_account_info_get_total (PbAccountInfo *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_INFO (self), -1);
  return self->total;
}

guint
pb_account_info_get_new_count (PbAccountInfo *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_INFO (self), 0);
  return self->messages->len;
}

GPtrArray *
pb_account_info_get_messages (PbAccountInfo *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_INFO (self), NULL);
  return self->messages;
}

void
pb_account_info_remove_messages (PbAccountInfo    *self,
                                   const char * const *uidls)
{
  gboolean removed = FALSE;

  g_return_if_fail (PB_IS_ACCOUNT_INFO (self));
  g_return_if_fail (uidls != NULL);

  for (guint i = self->messages->len; i > 0; i--)
    {
      PbMessageItem *item = g_ptr_array_index (self->messages, i - 1);

      if (g_strv_contains (uidls, pb_message_item_get_uidl (item)))
        {
          g_ptr_array_remove_index (self->messages, i - 1);
          removed = TRUE;
        }
    }
  if (removed)
    emit_changed (self);
}

const GError *
pb_account_info_get_error (PbAccountInfo *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_INFO (self), NULL);
  return self->error;
}

char *
pb_account_info_describe_error (PbAccountInfo *self,
                                  PbErrorFix      *fix)
{
  const char *kind;
  PbErrorFix dummy;

  g_return_val_if_fail (PB_IS_ACCOUNT_INFO (self), NULL);

  if (fix == NULL)
    fix = &dummy;
  *fix = PB_ERROR_FIX_NONE;
  if (self->error == NULL)
    return NULL;

  if (g_error_matches (self->error, PB_CORE_ERROR, PB_CORE_ERROR_NO_PASSWORD))
    {
      *fix = PB_ERROR_FIX_EDIT_ACCOUNT;
      return g_strdup (_("No password stored"));
    }
  if (g_error_matches (self->error, PB_CORE_ERROR, PB_CORE_ERROR_KEYRING_LOCKED))
    {
      *fix = PB_ERROR_FIX_CHECK_AGAIN;
      return g_strdup (_("Keyring locked"));
    }
  if (g_error_matches (self->error, PB_POP3_ERROR, PB_POP3_ERROR_AUTH_UNAVAILABLE))
    {
      *fix = PB_ERROR_FIX_EDIT_ACCOUNT;
      return g_strdup (_("No safe way to log in"));
    }
  if (g_error_matches (self->error, PB_POP3_ERROR, PB_POP3_ERROR_STARTTLS_UNAVAILABLE))
    {
      *fix = PB_ERROR_FIX_EDIT_ACCOUNT;
      return g_strdup (_("Server offers no encryption"));
    }

  kind = pb_error_kind (self->error);
  if (g_str_equal (kind, "auth"))
    {
      *fix = PB_ERROR_FIX_EDIT_ACCOUNT;
      return g_strdup (_("Password rejected"));
    }
  if (g_str_equal (kind, "certificate"))
    {
      gboolean pinned = self->account != NULL && pb_account_get_pin_sha256 (self->account) != NULL;

      /* Review connects again to show the certificate it got, so it
       * works whether the certificate changed or was never trusted. */
      *fix = PB_ERROR_FIX_REVIEW_CERTIFICATE;
      return g_strdup (pinned ? _("Certificate changed") : _("Certificate not trusted"));
    }
  if (g_str_equal (kind, "tls"))
    {
      *fix = PB_ERROR_FIX_EDIT_ACCOUNT;
      return g_strdup (_("Secure connection failed"));
    }
  if (g_str_equal (kind, "network"))
    {
      *fix = PB_ERROR_FIX_CHECK_AGAIN;
      return g_strdup (_("Server unreachable"));
    }
  if (g_str_equal (kind, "timeout"))
    {
      *fix = PB_ERROR_FIX_CHECK_AGAIN;
      return g_strdup (_("Server did not answer"));
    }
  if (g_str_equal (kind, "locked"))
    {
      *fix = PB_ERROR_FIX_CHECK_AGAIN;
      return g_strdup (_("Mailbox in use elsewhere"));
    }
  if (g_str_equal (kind, "login-delay"))
    return g_strdup (_("Server asks to wait before the next check"));
  if (g_str_equal (kind, "keyring"))
    return g_strdup (_("No keyring available"));
  if (g_str_equal (kind, "config"))
    {
      *fix = PB_ERROR_FIX_EDIT_ACCOUNT;
      return g_strdup (_("Account settings incomplete"));
    }
  if (g_str_equal (kind, "disk"))
    return g_strdup (_("Could not save to disk"));

  *fix = PB_ERROR_FIX_CHECK_AGAIN;
  return g_strdup (_("Server problem"));
}

const char *
pb_error_fix_get_label (PbErrorFix fix)
{
  switch (fix)
    {
    case PB_ERROR_FIX_EDIT_ACCOUNT:
      return _("_Edit account");
    case PB_ERROR_FIX_REVIEW_CERTIFICATE:
      return _("_Review");
    case PB_ERROR_FIX_CHECK_AGAIN:
      return _("_Try again");
    case PB_ERROR_FIX_NONE:
    default:
      return NULL;
    }
}

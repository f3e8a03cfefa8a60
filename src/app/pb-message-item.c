/* pb-message-item.c: one new message as the window lists it. */
#include <glib/gi18n.h>

#include "pb-message-item.h"

struct _PbMessageItem
{
  GObject  parent_instance;

  char    *account_name;
  char    *uidl;
  char    *from_name;
  char    *from_address;
  char    *subject;
  gint64   date;
  guint64  size;
};

G_DEFINE_FINAL_TYPE (PbMessageItem, pb_message_item, G_TYPE_OBJECT)

static void
pb_message_item_finalize (GObject *object)
{
  PbMessageItem *self = PB_MESSAGE_ITEM (object);

  g_free (self->account_name);
  g_free (self->uidl);
  g_free (self->from_name);
  g_free (self->from_address);
  g_free (self->subject);

  G_OBJECT_CLASS (pb_message_item_parent_class)->finalize (object);
}

static void
pb_message_item_class_init (PbMessageItemClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pb_message_item_finalize;
}

static void
pb_message_item_init (PbMessageItem *self)
{
}

/* Empty strings become NULL so "is there a name" is one test. */
static char *
dup_nonempty (const char *str)
{
  return (str != NULL && *str != '\0') ? g_strdup (str) : NULL;
}

PbMessageItem *
pb_message_item_new (const char *account_name,
                     const char *uidl,
                     const char *from_name,
                     const char *from_address,
                     const char *subject,
                     gint64      date,
                     guint64     size)
{
  PbMessageItem *self;

  g_return_val_if_fail (account_name != NULL, NULL);
  g_return_val_if_fail (uidl != NULL, NULL);

  self = g_object_new (PB_TYPE_MESSAGE_ITEM, NULL);
  self->account_name = g_strdup (account_name);
  self->uidl = g_strdup (uidl);
  self->from_name = dup_nonempty (from_name);
  self->from_address = dup_nonempty (from_address);
  self->subject = dup_nonempty (subject);
  self->date = date;
  self->size = size;
  return self;
}

const char *
pb_message_item_get_account_name (PbMessageItem *self)
{
  g_return_val_if_fail (PB_IS_MESSAGE_ITEM (self), NULL);
  return self->account_name;
}

const char *
pb_message_item_get_uidl (PbMessageItem *self)
{
  g_return_val_if_fail (PB_IS_MESSAGE_ITEM (self), NULL);
  return self->uidl;
}

const char *
pb_message_item_get_from_name (PbMessageItem *self)
{
  g_return_val_if_fail (PB_IS_MESSAGE_ITEM (self), NULL);
  return self->from_name;
}

const char *
pb_message_item_get_from_address (PbMessageItem *self)
{
  g_return_val_if_fail (PB_IS_MESSAGE_ITEM (self), NULL);
  return self->from_address;
}

const char *
pb_message_item_get_from_display (PbMessageItem *self)
{
  g_return_val_if_fail (PB_IS_MESSAGE_ITEM (self), NULL);
  if (self->from_name != NULL)
    return self->from_name;
  if (self->from_address != NULL)
    return self->from_address;
  return _("(unknown sender)");
}

const char *
pb_message_item_get_subject (PbMessageItem *self)
{
  g_return_val_if_fail (PB_IS_MESSAGE_ITEM (self), NULL);
  return self->subject != NULL ? self->subject : _("(no subject)");
}

gint64
pb_message_item_get_date (PbMessageItem *self)
{
  g_return_val_if_fail (PB_IS_MESSAGE_ITEM (self), 0);
  return self->date;
}

guint64
pb_message_item_get_size (PbMessageItem *self)
{
  g_return_val_if_fail (PB_IS_MESSAGE_ITEM (self), 0);
  return self->size;
}

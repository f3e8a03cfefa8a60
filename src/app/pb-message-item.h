/* pb-message-item.h: one new message as the window lists it.
 *
 * An immutable snapshot of what a check learned about a message (the
 * decoded headers of its TOP), so the window never reaches into the state
 * file while it draws. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

#define PB_TYPE_MESSAGE_ITEM (pb_message_item_get_type ())
G_DECLARE_FINAL_TYPE (PbMessageItem, pb_message_item, PB, MESSAGE_ITEM, GObject)

PbMessageItem *pb_message_item_new              (const char *account_name,
                                                 const char *uidl,
                                                 const char *from_name,
                                                 const char *from_address,
                                                 const char *subject,
                                                 gint64      date,
                                                 guint64     size);

const char    *pb_message_item_get_account_name (PbMessageItem *self);
const char    *pb_message_item_get_uidl         (PbMessageItem *self);
const char    *pb_message_item_get_from_name    (PbMessageItem *self); /* may be NULL */
const char    *pb_message_item_get_from_address (PbMessageItem *self); /* may be NULL */
/* The name if there is one, else the address, else a placeholder. */
const char    *pb_message_item_get_from_display (PbMessageItem *self);
/* Never NULL: the decoded subject or "(no subject)". */
const char    *pb_message_item_get_subject      (PbMessageItem *self);
gint64         pb_message_item_get_date         (PbMessageItem *self); /* Unix time, 0 unknown */
guint64        pb_message_item_get_size         (PbMessageItem *self);

G_END_DECLS

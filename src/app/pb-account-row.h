/* pb-account-row.h: one account in the window's list, or the "All
 * accounts" row at its top (status NULL). */
#pragma once

#include <gtk/gtk.h>

#include "pb-account-info.h"

G_BEGIN_DECLS

#define PB_TYPE_ACCOUNT_ROW (pb_account_row_get_type ())
G_DECLARE_FINAL_TYPE (PbAccountRow, pb_account_row, PB, ACCOUNT_ROW, GtkListBoxRow)

/* @status NULL: the "All accounts" row; @statuses is then the list it sums
 * up (element-type PbAccountInfo). */
GtkWidget       *pb_account_row_new        (PbAccountInfo *status,
                                            GListModel      *statuses);
PbAccountInfo *pb_account_row_get_status (PbAccountRow *self);
/* Redraws from the status (called on "changed" and every minute, since
 * "checked 3 minutes ago" ages). */
void             pb_account_row_update     (PbAccountRow *self);

/* The widgets tests look at. */
GtkLabel        *pb_account_row_get_name_label  (PbAccountRow *self);
const char      *pb_account_row_get_detail_text (PbAccountRow *self);
const char      *pb_account_row_get_error_text  (PbAccountRow *self);
GtkButton       *pb_account_row_get_fix_button  (PbAccountRow *self);
gboolean         pb_account_row_is_checking     (PbAccountRow *self);

/* Signals: "fix" (PbErrorFix) when the fix button is clicked. */

G_END_DECLS

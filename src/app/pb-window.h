/* pb-window.h: the status window: accounts on the left, new messages on the
 * right, Download / Mark as Read / Open Folder / Check Now below. */
#pragma once

#include <gtk/gtk.h>

#include "pb-application.h"

G_BEGIN_DECLS

#define PB_TYPE_WINDOW (pb_window_get_type ())
G_DECLARE_FINAL_TYPE (PbWindow, pb_window, PB, WINDOW, GtkApplicationWindow)

PbWindow     *pb_window_new                 (PbApplication *application);

/* For tests and the screenshot script: what is on screen. */
GtkListBox   *pb_window_get_accounts_list   (PbWindow *self);
GtkTreeView  *pb_window_get_messages_view   (PbWindow *self);
/* "empty" (no accounts) or "content". */
const char   *pb_window_get_visible_page    (PbWindow *self);
/* "list" or "none" (no new mail). */
const char   *pb_window_get_messages_page   (PbWindow *self);
/* The "none" page's words: "No new mail", or why the check failed. */
const char   *pb_window_get_no_mail_title   (PbWindow *self);
const char   *pb_window_get_no_mail_detail  (PbWindow *self);
/* A message row's tooltip: its whole subject and sender (with the address). */
char         *pb_window_dup_message_tooltip (PbWindow *self, GtkTreePath *path);
/* Selects the rows of these messages (by UIDL) in the list. */
void          pb_window_select_messages     (PbWindow *self, const char * const *uidls);
/* The account whose messages are shown, NULL for all. */
const char   *pb_window_get_filter_account  (PbWindow *self);
void          pb_window_set_filter_account  (PbWindow *self, const char *name);
/* Selects every new message of every account and downloads them. */
void          pb_window_download_all        (PbWindow *self);

G_END_DECLS

/* pb-account-info.h: what the window shows about one account.
 *
 * The application keeps one per account and updates it from the scheduler
 * (checking, the last result, the error); rows and the message list redraw
 * on "changed". Keeping this apart from the jobs lets the widgets be tested
 * with any state, without a server. */
#pragma once

#include <gio/gio.h>

#include "core/pb-account.h"
#include "pb-message-item.h"

G_BEGIN_DECLS

typedef enum {
  PB_ACCOUNT_PHASE_IDLE,      /* never checked, or the last check went well */
  PB_ACCOUNT_PHASE_CHECKING,
  PB_ACCOUNT_PHASE_ERROR,     /* the last check failed; see get_error() */
} PbAccountPhase;

/* What a person can do about an error, offered next to it. */
typedef enum {
  PB_ERROR_FIX_NONE,
  PB_ERROR_FIX_EDIT_ACCOUNT,       /* "Edit account" */
  PB_ERROR_FIX_REVIEW_CERTIFICATE, /* "Review" */
  PB_ERROR_FIX_CHECK_AGAIN,        /* "Try again" */
} PbErrorFix;

#define PB_TYPE_ACCOUNT_INFO (pb_account_info_get_type ())
G_DECLARE_FINAL_TYPE (PbAccountInfo, pb_account_info, PB, ACCOUNT_INFO, GObject)

PbAccountInfo *pb_account_info_new            (const char *name);
const char      *pb_account_info_get_name       (PbAccountInfo *self);

/* The account's settings (may be NULL in tests). */
PbAccount       *pb_account_info_get_account    (PbAccountInfo *self);
void             pb_account_info_set_account    (PbAccountInfo *self, PbAccount *account);

PbAccountPhase   pb_account_info_get_phase      (PbAccountInfo *self);
void             pb_account_info_set_checking   (PbAccountInfo *self, gboolean checking);

/* A finished check: @new_messages (element-type PbMessageItem) replaces the
 * list; clears any error. */
void             pb_account_info_set_result     (PbAccountInfo *self,
                                                   gint64           when,
                                                   guint            total,
                                                   GPtrArray       *new_messages);
/* The new messages as the state on disk has them now (another program
 * dismissed or downloaded some): replaces the list, and nothing else. */
void             pb_account_info_set_messages   (PbAccountInfo *self,
                                                   GPtrArray       *new_messages);
/* A failed check; the previous counts stay (they are still the best
 * guess), and so does the time of the last check that worked. */
void             pb_account_info_set_error      (PbAccountInfo *self,
                                                   const GError    *error);

/* When a check last worked; 0: never. */
gint64           pb_account_info_get_last_check (PbAccountInfo *self);
gint             pb_account_info_get_total      (PbAccountInfo *self); /* -1: unknown */
guint            pb_account_info_get_new_count  (PbAccountInfo *self);
/* (element-type PbMessageItem) (transfer none) */
GPtrArray       *pb_account_info_get_messages   (PbAccountInfo *self);
/* Drops messages from the list (downloaded or dismissed). */
void             pb_account_info_remove_messages (PbAccountInfo *self,
                                                    const char * const *uidls);
const GError    *pb_account_info_get_error      (PbAccountInfo *self);

/* The error in a few plain words ("Password rejected") and what to do. */
char            *pb_account_info_describe_error (PbAccountInfo *self,
                                                   PbErrorFix      *fix);
const char      *pb_error_fix_get_label           (PbErrorFix fix);

G_END_DECLS

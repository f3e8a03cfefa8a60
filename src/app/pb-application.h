/* pb-application.h: the applet. One instance per session
 * (io.github.popbiff.Popbiff): running popbiff again raises the window.
 *
 * It owns the settings, the accounts, the scheduler and one
 * PbAccountInfo per account; the window, the tray and the notifications
 * only show those and turn clicks into actions (app.check-now,
 * app.download-new, app.add-account, app.edit-account('name'), ...). */
#pragma once

#include <gtk/gtk.h>

#include "pb-account-info.h"

G_BEGIN_DECLS

#define PB_TYPE_APPLICATION (pb_application_get_type ())
G_DECLARE_FINAL_TYPE (PbApplication, pb_application, PB, APPLICATION, GtkApplication)

PbApplication   *pb_application_new            (void);

GSettings       *pb_application_get_settings   (PbApplication *self);
/* (element-type PbAccountInfo), sorted by account name. */
GListModel      *pb_application_get_accounts   (PbApplication *self);
PbAccountInfo *pb_application_lookup_info  (PbApplication *self, const char *name);
/* The sum of new messages over the accounts (the tray's number). */
guint            pb_application_get_new_count  (PbApplication *self);
gboolean         pb_application_is_demo        (PbApplication *self);

/* Progress of one download: @uidl has @done of @total octets on disk. */
typedef void (*PbDownloadProgressFunc) (const char *uidl,
                                        guint64     done,
                                        guint64     total,
                                        gpointer    user_data);

/* The outcome of one message of a download. */
typedef struct {
  char   *uidl;
  char   *path;   /* where it is now, or NULL */
  GError *error;  /* why not, or NULL */
} PbDownloadOutcome;
void pb_download_outcome_free (PbDownloadOutcome *outcome);

/* Downloads messages of one account into its folder; the statuses drop
 * them as they arrive. Finishes with a GPtrArray of PbDownloadOutcome, or
 * an error when the session itself failed. */
void       pb_application_download_async  (PbApplication          *self,
                                           const char             *account_name,
                                           const char * const     *uidls,
                                           PbDownloadProgressFunc  progress,
                                           gpointer                progress_data,
                                           GCancellable           *cancellable,
                                           GAsyncReadyCallback     callback,
                                           gpointer                user_data);
GPtrArray *pb_application_download_finish (PbApplication  *self,
                                           GAsyncResult   *result,
                                           GError        **error);

/* Marks messages as read without downloading them (saved in the
 * background; a failure is shown on the account). */
void       pb_application_dismiss         (PbApplication      *self,
                                           const char         *account_name,
                                           const char * const *uidls);

/* Opens the account's download folder in the file manager. */
void       pb_application_open_folder     (PbApplication *self,
                                           const char    *account_name,
                                           GtkWindow     *parent);

int        pb_application_run_main        (int argc, char **argv);

G_END_DECLS

G_BEGIN_DECLS
/* Checks one account now, or every account (NULL). */
void       pb_application_check           (PbApplication *self,
                                           const char    *account_name);
G_END_DECLS

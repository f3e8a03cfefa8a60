/* pb-fetch.h: the download job (DESIGN.md, "One download").
 *
 * Connects, authenticates, maps the chosen UIDLs to this session's message
 * numbers, RETRs each one straight into a PbDelivery temporary file,
 * commits them in batches (fsync, rename, one directory fsync), records
 * them as downloaded, and only then, if asked, DELEs them and QUITs.
 * Exactly once, even across SIGKILL: see the protocol at the top of
 * pb-fetch.c.
 *
 * Signals:
 *   "progress"     (guint done, guint total, guint64 bytes_done,
 *                   guint64 bytes_total, gdouble bytes_per_second):
 *                  messages finished (either way) of those selected; bytes
 *                  count LIST sizes. Emitted as messages finish and a few
 *                  times a second while a large one arrives.
 *   "message-done" (const char *uidl, const char *path, const GError *error):
 *                  once per selected message; path is NULL on failure.
 */
#pragma once

#include <gio/gio.h>

#include "pb-account.h"
#include "pb-state.h"

G_BEGIN_DECLS

typedef enum {
  PB_FETCH_SELECT_NEW,    /* on the server, not downloaded, not dismissed */
  PB_FETCH_SELECT_ALL,    /* not downloaded (dismissed ones too) */
  PB_FETCH_SELECT_UIDLS,  /* exactly these, even if downloaded before */
} PbFetchSelection;

/* The outcome for one selected message. */
typedef struct {
  char    *uidl;
  char    *path;   /* where it is now, NULL if it failed */
  GError  *error;  /* NULL if it is on disk (and deleted, when asked) */
  guint64  size;   /* octets written; 0 if it failed */
  gboolean earlier;  /* downloaded by an earlier run, only deleted now */
} PbFetchResult;

#define PB_TYPE_FETCH (pb_fetch_get_type ())
G_DECLARE_FINAL_TYPE (PbFetch, pb_fetch, PB, FETCH, GObject)

/* @state must be loaded; the job saves it. Defaults: new messages, the
 * account's folder, format and delete-after-download, the POP3 layer's size
 * cap. */
PbFetch   *pb_fetch_new                  (PbAccount *account,
                                          PbState   *state);
PbAccount *pb_fetch_get_account          (PbFetch *self);
PbState   *pb_fetch_get_state            (PbFetch *self);

/* The password (or token); without one the job asks the keyring
 * (pb-secrets.h). Copied, and wiped when the job is done with it. */
void       pb_fetch_set_password         (PbFetch *self, const char *password);
/* @uidls only for PB_FETCH_SELECT_UIDLS. */
void       pb_fetch_set_selection        (PbFetch *self, PbFetchSelection selection,
                                          const char * const *uidls);
/* NULL: the account's folder. */
void       pb_fetch_set_folder           (PbFetch *self, const char *folder);
const char*pb_fetch_get_folder           (PbFetch *self);
void       pb_fetch_set_format           (PbFetch *self, PbDeliveryFormat format);
PbDeliveryFormat pb_fetch_get_format     (PbFetch *self);
void       pb_fetch_set_delete           (PbFetch *self, gboolean delete_after);
gboolean   pb_fetch_get_delete           (PbFetch *self);
void       pb_fetch_set_max_message_size (PbFetch *self, guint64 bytes);

/* Runs the job once. Fails (FALSE) when the job as a whole could not run:
 * another fetch of the account is running, the folder is unusable, the
 * keyring, connecting, logging in or listing failed, or it was cancelled;
 * or when a disk or connection error stopped it part way. Messages that
 * failed on their own (a -ERR to RETR, over the size cap) do not fail the
 * job: see pb_fetch_get_results(). Cancelling leaves no partial file and
 * keeps (and records) every message already complete. */
void       pb_fetch_run_async            (PbFetch             *self,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
gboolean   pb_fetch_run_finish           (PbFetch       *self,
                                          GAsyncResult  *result,
                                          GError       **error);

/* One PbFetchResult per selected message, in the order fetched (explicit
 * UIDLs in the order given). Messages never reached because the job
 * stopped carry the error that stopped it. (transfer none) */
GPtrArray *pb_fetch_get_results          (PbFetch *self);

G_END_DECLS

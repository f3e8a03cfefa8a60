/* pb-disk-watch.h: the applet follows what other programs change on disk.
 *
 * `popbiff accounts add|edit|remove` in a terminal rewrites accounts.conf;
 * `popbiff dismiss` and `popbiff fetch` rewrite an account's state file.
 * This watches both (GFileMonitor) and, a moment after the last change
 * (a writer replaces a file in steps: temporary file, rename; a script
 * runs several commands in a row):
 *
 * - reloads the account store when accounts.conf's bytes differ from what
 *   the store last read or wrote, so its "account-added", "-removed" and
 *   "-changed" signals reach whoever follows it (the scheduler, the window);
 * - emits "state-changed" (const char *account_name, PbState *state) when
 *   another process changed an account's state file, with the state as it
 *   is now (pb_scheduler_load_changed_state). A change made while the
 *   account is being checked is reported once that check has finished,
 *   with the state the check saved (which merged it in).
 *
 * The applet's own writes (the store's saves, the checks' saves) are
 * recognised and cause nothing. */
#pragma once

#include <gio/gio.h>

#include "pb-account-store.h"
#include "pb-scheduler.h"

G_BEGIN_DECLS

/* How long after the last change the files are read again. */
#define PB_DISK_WATCH_DELAY_MS 250

#define PB_TYPE_DISK_WATCH (pb_disk_watch_get_type ())
G_DECLARE_FINAL_TYPE (PbDiskWatch, pb_disk_watch, PB, DISK_WATCH, GObject)

/* Watches @store's file and the state files of the accounts @scheduler
 * knows, from now until the last reference is dropped. */
PbDiskWatch *pb_disk_watch_new (PbAccountStore *store,
                                PbScheduler    *scheduler);

G_END_DECLS

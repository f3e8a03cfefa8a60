/* pb-write-lock.h: the short lock around a read-merge-write of a file.
 *
 * Popbiff's files (accounts.conf, each account's state) may be saved by
 * several processes at once: the applet, and scripts running the command
 * line. A save reads the file, merges what another writer saved and
 * renames its own version into place; <file>.write-lock, held with flock()
 * for those few milliseconds, keeps two such saves from interleaving. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Takes an exclusive lock on @lock_path (created, mode 0600), waiting for
 * it by polling for at most @wait_ms: a stuck holder costs an error, not
 * a hang. Returns the locked file descriptor (closing it unlocks), or -1
 * with errno set: ETIMEDOUT when the wait ran out. */
int pb_write_lock_take (const char *lock_path,
                        guint       wait_ms);

G_END_DECLS

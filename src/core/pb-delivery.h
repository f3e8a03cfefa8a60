/* pb-delivery.h: where downloaded messages land, durably and exactly once.
 *
 * A PbDelivery is one destination folder in one format:
 *
 *   maildir  <folder>/{tmp,new,cur}; a message is written to
 *            tmp/<unique>, then renamed to new/<unique>,S=<size> where
 *            <unique> is "<time>.M<usec>P<pid>Q<n>.<host>" (the Maildir
 *            convention; the host with '/' and ':' escaped as \057, \072).
 *   eml      <folder>/<YYYY-MM-DD_HHMMSS>-<hash>.eml, the time from the
 *            message's Date: header (local time; now if it has none) and
 *            <hash> the first 12 hex digits of the SHA-256 of the content;
 *            written to a hidden ".popbiff-tmp-<pid>-<random>" file in the
 *            same folder first. An existing file is never overwritten: a
 *            taken name gets "-2", "-3", … before ".eml".
 *
 * A file name is never made from UIDL text (DESIGN.md).
 *
 * One message goes through begin -> write into its stream -> finish (flush,
 * fsync, final name chosen) -> commit (renamed into place, never over an
 * existing file). A batch of commits is made durable by one
 * pb_delivery_sync() (fsync of the directory the names were added to), so
 * a caller can write and fsync N files, rename them, sync once, and only
 * then record them as downloaded. Abort (or freeing an uncommitted
 * message) removes the temporary file: nothing partial ever shows outside
 * tmp/ (or outside the hidden temporary name).
 *
 * Instead of an fsync per file, a large batch on a file system that allows
 * it can close each file unsynced (pb_delivery_message_close) and make the
 * whole batch durable with one pb_delivery_sync_file_system() before the
 * renames, and the renames with another one after.
 *
 * Every error names the folder. Disk errors the JSON contract calls "disk"
 * are G_IO_ERROR_NO_SPACE (also for a full quota), _PERMISSION_DENIED,
 * _READ_ONLY, _NOT_FOUND, _NOT_DIRECTORY; anything else is
 * PB_CORE_ERROR_DISK.
 *
 * Threads: a message may be finished and committed in a worker thread
 * while the main thread writes other messages of the same delivery.
 */
#pragma once

#include <gio/gio.h>

#include "pb-account.h"

G_BEGIN_DECLS

#define PB_TYPE_DELIVERY (pb_delivery_get_type ())
G_DECLARE_FINAL_TYPE (PbDelivery, pb_delivery, PB, DELIVERY, GObject)

typedef struct _PbDeliveryMessage PbDeliveryMessage;

PbDelivery       *pb_delivery_new        (const char       *folder,
                                          PbDeliveryFormat  format);
const char       *pb_delivery_get_folder (PbDelivery *self);
PbDeliveryFormat  pb_delivery_get_format (PbDelivery *self);

/* Creates the folder (and tmp/ new/ cur/) with mode 0700 where missing and
 * removes leftovers of earlier runs: temporary files older than this call
 * whose writer is gone (a dead process on this host, or older than 36
 * hours, the Maildir rule). They are incomplete by construction: a finished
 * message never stays under a temporary name. Call once before begin. */
gboolean          pb_delivery_open       (PbDelivery  *self,
                                          GError     **error);

/* A new message with its temporary file created. */
PbDeliveryMessage *pb_delivery_begin     (PbDelivery  *self,
                                          GError     **error);

/* Makes every commit so far durable: fsync of the directory that received
 * the names (new/ for a Maildir, the folder for eml). */
gboolean          pb_delivery_sync       (PbDelivery  *self,
                                          GError     **error);

/* Whether pb_delivery_sync_file_system() can stand in for per-file fsyncs
 * here: Linux 5.8 or later (syncfs(2) reports writeback errors) and a local
 * file system known to make syncfs durable (ext2/3/4, XFS, btrfs, tmpfs).
 * Known after pb_delivery_open(). */
gboolean          pb_delivery_can_sync_file_system (PbDelivery *self);
/* syncfs(2) of the folder's file system: every file closed with
 * pb_delivery_message_close() and every commit so far is durable once it
 * returns TRUE (and so is anything else written to that file system). A
 * failure is sticky: the file system reports a writeback error once, and
 * it may have been any file's, so every later call fails too. */
gboolean          pb_delivery_sync_file_system (PbDelivery  *self,
                                                GError     **error);

/* Where to write the message (transfer none; valid until the message is
 * freed). Writes are buffered; write errors name the folder. */
GOutputStream    *pb_delivery_message_get_stream (PbDeliveryMessage *message);
/* Octets written so far. Safe to read from another thread. */
guint64           pb_delivery_message_get_size   (PbDeliveryMessage *message);
/* Flushes, fsyncs and closes the temporary file and chooses the final
 * name (not yet visible). On failure the temporary file is removed. */
gboolean          pb_delivery_message_finish     (PbDeliveryMessage  *message,
                                                  GError            **error);
/* As finish, without the fsync: the content is durable only after a
 * pb_delivery_sync_file_system() that follows. */
gboolean          pb_delivery_message_close      (PbDeliveryMessage  *message,
                                                  GError            **error);
/* The final path: NULL before finish; after commit, where it really is. */
const char       *pb_delivery_message_get_path   (PbDeliveryMessage *message);
/* Renames the finished message into place, never over an existing file.
 * Durable only after pb_delivery_sync() or pb_delivery_sync_file_system().
 * On failure the temporary file is removed. */
gboolean          pb_delivery_message_commit     (PbDeliveryMessage  *message,
                                                  GError            **error);
gboolean          pb_delivery_message_is_committed (PbDeliveryMessage *message);
/* Removes the temporary file (nothing if already committed). */
void              pb_delivery_message_abort      (PbDeliveryMessage *message);
/* Aborts unless committed, then frees. */
void              pb_delivery_message_free       (PbDeliveryMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PbDeliveryMessage, pb_delivery_message_free)

/* Where a message committed to @path (maybe in an earlier run, maybe to
 * another folder) is now, if it is still there with @size octets: @path
 * itself, or for a Maildir message that a mail client has since moved to
 * cur/ (adding ":2,<flags>"), its path there. NULL if it is gone. */
char             *pb_delivery_locate     (const char *path,
                                          guint64     size);

/* Testing only: called before each write reaches the disk with the octets
 * this delivery has written in total (all messages) once that write is
 * done; returning an errno value makes the write fail with it (to test a
 * full disk without one). The fetch job's crash tests use it to kill the
 * process mid-message. */
typedef int (*PbDeliveryWriteHook) (guint64  total_bytes,
                                    gpointer user_data);
void              pb_delivery_set_write_hook (PbDelivery          *self,
                                              PbDeliveryWriteHook  hook,
                                              gpointer             user_data);

G_END_DECLS

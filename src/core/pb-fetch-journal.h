/* pb-fetch-journal.h: the fetch job's write-ahead record of downloads.
 *
 * <state path>.journal holds one line per message about to be renamed into
 * place: "uidl \t size \t path" (path g_strescape'd). It is made durable
 * before the renames, and emptied once the state file that records those
 * messages is saved. After a crash, pb_fetch_journal_recover() turns every
 * line whose file is in place into a DOWNLOADED record, so a message that
 * was renamed but not yet recorded is never fetched a second time. The
 * whole protocol is described at the top of pb-fetch.c. */
#pragma once

#include <sys/types.h>

#include <gio/gio.h>

#include "pb-state.h"

G_BEGIN_DECLS

typedef struct _PbFetchJournal PbFetchJournal;

/* Opens (creating) the journal of @state's account for appending. */
PbFetchJournal *pb_fetch_journal_open    (PbState         *state,
                                          GError         **error);
const char     *pb_fetch_journal_get_path (PbFetchJournal *self);
/* Queues one line; nothing is written until sync. */
void            pb_fetch_journal_add     (PbFetchJournal  *self,
                                          const char      *uidl,
                                          const char      *path,
                                          guint64          size);
/* Writes the queued lines and fdatasyncs: they survive a crash from here. */
gboolean        pb_fetch_journal_sync    (PbFetchJournal  *self,
                                          GError         **error);
/* Writes the queued lines without syncing: for a caller that makes them
 * durable with a syncfs of the journal's file system. */
gboolean        pb_fetch_journal_write   (PbFetchJournal  *self,
                                          GError         **error);
/* Whether the journal lives on the file system of @device (a st_dev):
 * then a syncfs there makes written lines durable too. */
gboolean        pb_fetch_journal_is_on_device (PbFetchJournal *self,
                                               dev_t           device);
/* Empties the journal: call once the state recording every line is saved. */
void            pb_fetch_journal_clear   (PbFetchJournal  *self);
void            pb_fetch_journal_free    (PbFetchJournal  *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PbFetchJournal, pb_fetch_journal_free)

/* Applies and removes what a killed fetch left: each line whose file is
 * still there (pb_delivery_locate) is recorded as downloaded with its
 * current path; the state is saved if anything changed. Lines whose file
 * is not there are dropped (their rename never happened). A fetch does
 * this first; a check may call it so such a message is not shown as new. */
gboolean        pb_fetch_journal_recover (PbState         *state,
                                          GError         **error);
/* What a check calls: pb_fetch_journal_recover() unless a fetch of this
 * account is running now (it holds <state>.lock and records its own
 * downloads; its journal must not be taken from under it). Without a
 * journal it touches nothing. */
gboolean        pb_fetch_journal_recover_if_idle (PbState   *state,
                                                  GError   **error);

G_END_DECLS

/* pb-state.h: what Popbiff knows about one account's messages.
 *
 * Keyed by UIDL (message numbers never persist). Lives in
 * $XDG_STATE_HOME/popbiff/<account>.state, written atomically (temporary
 * file, fsync, rename, fsync of the directory). Loading 100,000 records must
 * take well under 50 ms, so the format is one line per message, not a
 * GKeyFile.
 *
 * The words of DESIGN.md: a message is "new" when it is on the server, not
 * downloaded and not dismissed; "notified" once a check announced it.
 *
 * The strings of a record belong to the state (they may live inside the
 * loaded file's buffer): read them freely, change them only with
 * pb_state_set_summary() and pb_state_set_path(), never g_free() them. The
 * numbers and flags may be assigned directly. Any byte but NUL round-trips. */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

typedef enum {
  PB_MESSAGE_NOTIFIED   = 1 << 0, /* announced once; never again */
  PB_MESSAGE_DOWNLOADED = 1 << 1, /* durably on disk (see fetch) */
  PB_MESSAGE_DISMISSED  = 1 << 2, /* marked read without downloading */
  PB_MESSAGE_SUMMARIZED = 1 << 3, /* the summary fields below are filled */
} PbMessageFlags;

typedef struct {
  char           *uidl;          /* key; validated by the POP3 layer */
  PbMessageFlags  flags;
  guint64         size;          /* octets, from LIST/STAT, 0 if unknown */
  gint64          date;          /* Date: header as Unix time, 0 if unknown */
  char           *from_name;     /* decoded UTF-8 display name, may be NULL */
  char           *from_address;  /* may be NULL */
  char           *subject;       /* decoded UTF-8, may be NULL */
  char           *path;          /* where it was downloaded, may be NULL */
  gint64          first_seen;    /* Unix time the first check saw it */
} PbMessageRecord;

static inline gboolean
pb_message_record_is_new (const PbMessageRecord *record)
{
  return (record->flags & (PB_MESSAGE_DOWNLOADED | PB_MESSAGE_DISMISSED)) == 0;
}

#define PB_TYPE_STATE (pb_state_get_type ())
G_DECLARE_FINAL_TYPE (PbState, pb_state, PB, STATE, GObject)

/* @path NULL: $XDG_STATE_HOME/popbiff/<account_name>.state */
PbState         *pb_state_new            (const char *account_name, const char *path);
const char      *pb_state_get_path       (PbState *self);

/* A missing file is an empty state. A corrupt file is renamed aside
 * (<path>.corrupt) and the state starts empty; the returned error
 * (PB_CORE_ERROR_STATE) says so, but the state is usable either way.
 * A file that is there but cannot be read (no permission, an I/O error,
 * a directory) is PB_CORE_ERROR_DISK, and the state is empty but not
 * usable: see pb_state_get_read_error(). */
gboolean         pb_state_load           (PbState *self, GError **error);
/* The PB_CORE_ERROR_DISK error of the last pb_state_load() when the file
 * was there but could not be read, else NULL. Cleared by the next load,
 * and by a save or refresh that merged the file in after all.
 * Such a state is empty only because its file could not be read: taking
 * it for an account with nothing known would report every message as new
 * and fetch them all again, so a check fails with this error instead
 * (pb-check.h), and a save refuses to replace a file it cannot read.
 * (transfer none) */
const GError    *pb_state_get_read_error (PbState *self);
/* Atomic and durable: temp file, fsync, rename, fsync(dir). Safe with
 * other writers of the same file (processes or objects): under a lock held
 * only for the save, it first merges what they saved since this state was
 * loaded (their flags stay set, their new messages are kept, what they
 * forgot is dropped; see pb-state.c), so records may be added or removed:
 * do not keep record pointers across a save. Waits at most a few seconds
 * for another writer's save; after that, PB_CORE_ERROR_DISK. */
gboolean         pb_state_save           (PbState *self, GError **error);
/* Merges in what other writers saved since this state was loaded or
 * saved, as a save does, without writing (nothing is lost from memory;
 * records may be added or dropped). A fetch calls this once it holds the
 * account's fetch lock, so that what another fetch downloaded meanwhile
 * counts as downloaded. Errors are PB_CORE_ERROR_DISK (the state is
 * unchanged then). */
gboolean         pb_state_refresh        (PbState *self, GError **error);
/* Deletes the file and the files kept next to it (<path>.corrupt, the
 * fetch journal and lock, the save lock): the account was removed. */
gboolean         pb_state_delete_file    (PbState *self, GError **error);

/* TRUE until the first successful check recorded anything: the first check
 * of a fresh or corrupt state announces with one summary, not one
 * notification per message. */
gboolean         pb_state_is_fresh       (PbState *self);
void             pb_state_set_fresh      (PbState *self, gboolean fresh);

/* (transfer none), NULL if unknown. */
PbMessageRecord *pb_state_lookup         (PbState *self, const char *uidl);
/* Returns the record, creating an empty one (flags 0) when unknown. */
PbMessageRecord *pb_state_ensure         (PbState *self, const char *uidl);
/* Forgets every record whose UIDL is not a key of @present (UIDLs that
 * vanished from the server). Returns how many were forgotten. */
guint            pb_state_forget_missing (PbState *self, GHashTable *present);
void             pb_state_remove         (PbState *self, const char *uidl);
/* What a check does with the server's UIDL list (@uidls[i] is message
 * i + 1's, NULL to skip): a record (flags 0) for each UIDL not seen before,
 * the records of UIDLs not listed forgotten, and the records in the
 * server's order. A UIDL listed twice is set to NULL in @uidls after its
 * first occurrence (a broken server; the first one wins). One lookup per
 * UIDL: 100,000 in a few milliseconds. Returns TRUE when the state changed
 * (records added, forgotten or reordered); the counts are optional. */
gboolean         pb_state_apply_listing  (PbState *self, const char **uidls, guint n,
                                          guint *added, guint *forgotten);

/* Fills a record's summary (copies the strings, NULL allowed) and sets
 * PB_MESSAGE_SUMMARIZED. */
void             pb_state_set_summary    (PbState *self, PbMessageRecord *record,
                                          const char *from_name,
                                          const char *from_address,
                                          const char *subject,
                                          gint64 date);
/* Where the message was downloaded (copied; NULL clears). */
void             pb_state_set_path       (PbState *self, PbMessageRecord *record,
                                          const char *path);

guint            pb_state_get_count      (PbState *self);
/* Whether any record is named by a UIDL the server sent, not by its
 * headers (pb_summary_is_fallback_identity()). */
gboolean         pb_state_has_uidls      (PbState *self);
/* Whether the state names this mailbox's messages by their headers (the
 * server refused UIDL before) while the server now lists @uidls
 * (element-type PbPop3Listing): none of them is known, and no record has
 * a UIDL. Cheap for a mailbox known by UIDL: the first lookup settles it. */
gboolean         pb_state_named_by_headers (PbState   *self,
                                            GPtrArray *uidls);
guint            pb_state_count_new      (PbState *self);
/* Records in the order the server listed them (oldest first), (transfer
 * container) (element-type PbMessageRecord). */
GPtrArray       *pb_state_list           (PbState *self);
/* Records are kept in server order; a check calls this with the UIDL list so
 * that "newest first" means something. NULL entries are skipped. */
void             pb_state_set_order      (PbState *self, const char * const *uidls, guint n);

G_END_DECLS

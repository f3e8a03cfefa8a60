/* pb-account-store.h: the accounts in $XDG_CONFIG_HOME/popbiff/accounts.conf.
 *
 * A GKeyFile, one group per account, written atomically. A group with a bad
 * value is kept aside with an error that names the account and the key; the
 * other accounts still load. */
#pragma once

#include <gio/gio.h>

#include "pb-account.h"

G_BEGIN_DECLS

#define PB_TYPE_ACCOUNT_STORE (pb_account_store_get_type ())
G_DECLARE_FINAL_TYPE (PbAccountStore, pb_account_store, PB, ACCOUNT_STORE, GObject)

/* NULL: the default path under g_get_user_config_dir(). */
PbAccountStore *pb_account_store_new        (const char *path);
const char     *pb_account_store_get_path   (PbAccountStore *self);

/* Reads the file (a missing file is an empty store). Fails only when the
 * file cannot be read or is not a key file at all; per-account problems are
 * in get_load_errors(). */
gboolean        pb_account_store_load       (PbAccountStore *self, GError **error);
/* Writes atomically (g_file_set_contents: temp file, fsync, rename), under
 * <path>.write-lock (flock) so that writers take turns: each first merges
 * what another saved since this store read the file, and none is lost. A
 * lock held elsewhere for over a few seconds is PB_CORE_ERROR_DISK. */
gboolean        pb_account_store_save       (PbAccountStore *self, GError **error);

/* Whether the file's bytes differ from what this store last read or
 * wrote: another program saved it since (a reload would take that in). */
gboolean        pb_account_store_changed_on_disk (PbAccountStore *self);

/* The valid accounts, sorted by name. (element-type PbAccount) (transfer none) */
GPtrArray      *pb_account_store_get_accounts    (PbAccountStore *self);
/* Errors of groups that did not load, one GError per bad account. (transfer none) */
GPtrArray      *pb_account_store_get_load_errors (PbAccountStore *self);
PbAccount      *pb_account_store_lookup     (PbAccountStore *self, const char *name);

/* The load error of the account named @name, NULL if it loaded (or does
 * not exist). (transfer none) */
const GError   *pb_account_store_get_load_error (PbAccountStore *self, const char *name);
/* The names of the accounts whose group did not load, in the order of
 * get_load_errors(). NULL-terminated. (transfer full) */
GStrv           pb_account_store_dup_broken_names (PbAccountStore *self);
/* The account @name whose group has a bad value, as far as it could be
 * read (bad values left at their defaults), so that an editor can fix it
 * and pass it to replace(). NULL if @name is not such an account.
 * (transfer full) */
PbAccount      *pb_account_store_dup_broken     (PbAccountStore *self, const char *name);

/* Validates, refuses a duplicate name (PB_CORE_ERROR_EXISTS), adds. Does
 * not save. */
gboolean        pb_account_store_add        (PbAccountStore *self, PbAccount *account,
                                             GError **error);
/* Replaces the account of the same name (PB_CORE_ERROR_NOT_FOUND if none),
 * after validating it. The store keeps its own PbAccount object and copies
 * the new values into it (so its properties notify), then emits
 * "account-changed" with it. An account whose group had a bad value is
 * replaced too, which fixes it. Does not save. */
gboolean        pb_account_store_replace    (PbAccountStore *self, PbAccount *account,
                                             GError **error);
/* Removes an account (also one whose group had a bad value); does not
 * save, and leaves its password and state alone (the caller removes those). */
gboolean        pb_account_store_remove     (PbAccountStore *self, const char *name,
                                             GError **error);

/* Signals: "account-added" (PbAccount*), "account-removed" (PbAccount*),
 * "account-changed" (PbAccount*). */

G_END_DECLS

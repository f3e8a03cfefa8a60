/* pb-account-store.c: the accounts in $XDG_CONFIG_HOME/popbiff/accounts.conf.
 *
 * The loaded GKeyFile is kept as the document and edited in place, so that
 * a save keeps the person's comments, keys this version does not know, and
 * the groups that did not load (a typo in one account must not make the
 * next "accounts add" delete it).
 *
 * The applet and "popbiff accounts" may both change the file. A save takes
 * the write lock, then looks whether the file's bytes changed since it was
 * read; if so, it applies only this store's own changes (the accounts it
 * added, replaced or removed) to the file as it is now, and reloads, so
 * neither side's changes are lost. */
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "pb-account-store.h"
#include "pb-core-error.h"
#include "pb-write-lock.h"

struct _PbAccountStore
{
  GObject parent_instance;

  char       *path;
  GKeyFile   *keyfile;      /* the document */
  GPtrArray  *accounts;     /* PbAccount (owned), sorted by name */
  GHashTable *broken;       /* name -> PbAccount (owned), read as far as possible */
  GHashTable *errors;       /* name -> GError (owned), one per broken account */
  GPtrArray  *load_errors;  /* GError (borrowed from errors), sorted by account name */

  /* Changes since the file was last read or written: name -> Pending. */
  GHashTable *pending;
  /* SHA-256 of the file's bytes then; NULL: there was no file. */
  char       *disk_digest;
};

typedef enum {
  PENDING_WRITE = 1,
  PENDING_REMOVE,
} Pending;

G_DEFINE_TYPE (PbAccountStore, pb_account_store, G_TYPE_OBJECT)

enum {
  ACCOUNT_ADDED,
  ACCOUNT_REMOVED,
  ACCOUNT_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

#define WRITE_LOCK_SUFFIX ".write-lock"
#define LOCK_WAIT_MS      5000

#define KEY_HOST                  "host"
#define KEY_PORT                  "port"
#define KEY_SECURITY              "security"
#define KEY_USER                  "user"
#define KEY_AUTH                  "auth"
#define KEY_INTERVAL              "interval"
#define KEY_FOLDER                "folder"
#define KEY_FORMAT                "format"
#define KEY_DELETE_AFTER_DOWNLOAD "delete-after-download"
#define KEY_CA_FILE               "ca-file"
#define KEY_PIN_SHA256            "pin-sha256"
#define KEY_TIMEOUT               "timeout"
#define KEY_ENABLED               "enabled"

PbAccountStore *
pb_account_store_new (const char *path)
{
  PbAccountStore *self = g_object_new (PB_TYPE_ACCOUNT_STORE, NULL);

  if (path != NULL)
    self->path = g_strdup (path);
  else
    self->path = g_build_filename (g_get_user_config_dir (), "popbiff", "accounts.conf", NULL);
  return self;
}

const char *
pb_account_store_get_path (PbAccountStore *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_STORE (self), NULL);
  return self->path;
}

/* Reading one group */

static gboolean
parse_uint (const char *text,
            guint       min,
            guint       max,
            guint      *out)
{
  guint64 value;

  if (text == NULL || !g_ascii_isdigit (*text))
    return FALSE;
  if (!g_ascii_string_to_unsigned (text, 10, min, max, &value, NULL))
    return FALSE;
  *out = (guint) value;
  return TRUE;
}

static void
set_key_error (GError     **error,
               const char  *name,
               const char  *key,
               const char  *value,
               const char  *expected)
{
  char high_bytes[129] = { 0 };
  g_autofree char *shown = NULL;

  /* Control characters escaped, UTF-8 text as it is. */
  for (guint i = 0; i < 128; i++)
    high_bytes[i] = (char) (0x80 + i);
  shown = g_strescape (value != NULL ? value : "", high_bytes);

  if (error == NULL || *error != NULL)
    return;  /* the first bad key is the one reported */
  g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
               _("Account “%s”: the key “%s” has the value “%s”, but %s; fix it with “popbiff accounts edit %s” or in accounts.conf"),
               name, key, shown, expected, name);
}

static char *
get_string (GKeyFile    *keyfile,
            const char  *name,
            const char  *key,
            GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  char *value;

  if (!g_key_file_has_key (keyfile, name, key, NULL))
    return NULL;
  value = g_key_file_get_string (keyfile, name, key, &local_error);
  if (value == NULL)
    {
      g_autofree char *raw = g_key_file_get_value (keyfile, name, key, NULL);

      set_key_error (error, name, key, raw, _("it is not valid text"));
    }
  return value;
}

static void
read_uint (GKeyFile    *keyfile,
           const char  *name,
           const char  *key,
           guint        min,
           guint        max,
           const char  *expected,
           void       (*setter) (PbAccount *, guint),
           PbAccount   *account,
           GError     **error)
{
  g_autofree char *text = get_string (keyfile, name, key, error);
  guint value;

  if (text == NULL)
    return;
  g_strstrip (text);
  if (parse_uint (text, min, max, &value))
    setter (account, value);
  else
    set_key_error (error, name, key, text, expected);
}

static void
set_port (PbAccount *account,
          guint      port)
{
  pb_account_set_port (account, (guint16) port);
}

static void
read_boolean (GKeyFile    *keyfile,
              const char  *name,
              const char  *key,
              void       (*setter) (PbAccount *, gboolean),
              PbAccount   *account,
              GError     **error)
{
  g_autoptr(GError) local_error = NULL;
  gboolean value;

  if (!g_key_file_has_key (keyfile, name, key, NULL))
    return;
  value = g_key_file_get_boolean (keyfile, name, key, &local_error);
  if (local_error == NULL)
    setter (account, value);
  else
    {
      g_autofree char *raw = g_key_file_get_value (keyfile, name, key, NULL);

      set_key_error (error, name, key, raw, _("it must be true or false"));
    }
}

/* Reads group @name into a new account. Every key is read even after a bad
 * one, so the account is as complete as possible for an editor; *@error is
 * the first problem (a bad key, or else what validation found). */
static PbAccount *
parse_group (GKeyFile    *keyfile,
             const char  *name,
             GError     **error)
{
  g_autoptr(PbAccount) account = pb_account_new (name);
  g_autoptr(GError) local_error = NULL;
  g_autofree char *host = NULL;
  g_autofree char *user = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *ca_file = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *text = NULL;

  host = get_string (keyfile, name, KEY_HOST, &local_error);
  pb_account_set_host (account, host != NULL ? g_strstrip (host) : NULL);

  text = get_string (keyfile, name, KEY_SECURITY, &local_error);
  if (text != NULL)
    {
      PbPop3Security security;

      if (pb_pop3_security_from_string (g_strstrip (text), &security))
        pb_account_set_security (account, security);
      else
        set_key_error (&local_error, name, KEY_SECURITY, text,
                       _("it must be tls, starttls or none"));
    }
  g_clear_pointer (&text, g_free);

  /* The default port follows the security: 995 for tls, 110 otherwise. */
  pb_account_set_port (account, pb_pop3_security_default_port (pb_account_get_security (account)));
  read_uint (keyfile, name, KEY_PORT, 1, G_MAXUINT16,
             _("it must be a port number from 1 to 65535"), set_port, account, &local_error);

  user = get_string (keyfile, name, KEY_USER, &local_error);
  pb_account_set_user (account, user);

  text = get_string (keyfile, name, KEY_AUTH, &local_error);
  if (text != NULL)
    {
      PbPop3AuthMethod auth;

      if (pb_pop3_auth_method_from_string (g_strstrip (text), &auth))
        pb_account_set_auth (account, auth);
      else
        set_key_error (&local_error, name, KEY_AUTH, text,
                       _("it must be auto, user, apop, plain, login, cram-md5, scram-sha-256, xoauth2 or oauthbearer"));
    }
  g_clear_pointer (&text, g_free);

  /* 0 parses, so that validation says what the range is. */
  read_uint (keyfile, name, KEY_INTERVAL, 0, G_MAXUINT,
             _("it must be a number of minutes"), pb_account_set_interval, account, &local_error);

  folder = get_string (keyfile, name, KEY_FOLDER, &local_error);
  pb_account_set_folder (account, folder);

  text = get_string (keyfile, name, KEY_FORMAT, &local_error);
  if (text != NULL)
    {
      PbDeliveryFormat format;

      if (pb_delivery_format_from_string (g_strstrip (text), &format))
        pb_account_set_format (account, format);
      else
        set_key_error (&local_error, name, KEY_FORMAT, text, _("it must be maildir or eml"));
    }
  g_clear_pointer (&text, g_free);

  read_boolean (keyfile, name, KEY_DELETE_AFTER_DOWNLOAD,
                pb_account_set_delete_after_download, account, &local_error);

  ca_file = get_string (keyfile, name, KEY_CA_FILE, &local_error);
  pb_account_set_ca_file (account, ca_file);
  pin = get_string (keyfile, name, KEY_PIN_SHA256, &local_error);
  pb_account_set_pin_sha256 (account, pin != NULL ? g_strstrip (pin) : NULL);

  read_uint (keyfile, name, KEY_TIMEOUT, 0, G_MAXUINT,
             _("it must be a number of seconds"), pb_account_set_timeout, account, &local_error);
  read_boolean (keyfile, name, KEY_ENABLED, pb_account_set_enabled, account, &local_error);

  if (local_error == NULL)
    pb_account_validate (account, &local_error);
  if (local_error != NULL)
    g_propagate_error (error, g_steal_pointer (&local_error));
  return g_steal_pointer (&account);
}

/* Writing one group */

static void
write_group (GKeyFile  *keyfile,
             PbAccount *account)
{
  const char *name = pb_account_get_name (account);
  g_autofree char *folder = NULL;

  g_object_get (account, "folder", &folder, NULL);

  g_key_file_set_string (keyfile, name, KEY_HOST, pb_account_get_host (account));
  g_key_file_set_integer (keyfile, name, KEY_PORT, pb_account_get_port (account));
  g_key_file_set_string (keyfile, name, KEY_SECURITY,
                         pb_pop3_security_to_string (pb_account_get_security (account)));
  g_key_file_set_string (keyfile, name, KEY_USER, pb_account_get_user (account));
  g_key_file_set_string (keyfile, name, KEY_AUTH,
                         pb_pop3_auth_method_to_string (pb_account_get_auth (account)));
  g_key_file_set_integer (keyfile, name, KEY_INTERVAL, (int) pb_account_get_interval (account));
  /* No folder key means the default, which follows HOME and the name. */
  if (folder != NULL)
    g_key_file_set_string (keyfile, name, KEY_FOLDER, folder);
  else
    g_key_file_remove_key (keyfile, name, KEY_FOLDER, NULL);
  g_key_file_set_string (keyfile, name, KEY_FORMAT,
                         pb_delivery_format_to_string (pb_account_get_format (account)));
  g_key_file_set_boolean (keyfile, name, KEY_DELETE_AFTER_DOWNLOAD,
                          pb_account_get_delete_after_download (account));
  if (pb_account_get_ca_file (account) != NULL)
    g_key_file_set_string (keyfile, name, KEY_CA_FILE, pb_account_get_ca_file (account));
  else
    g_key_file_remove_key (keyfile, name, KEY_CA_FILE, NULL);
  if (pb_account_get_pin_sha256 (account) != NULL)
    g_key_file_set_string (keyfile, name, KEY_PIN_SHA256, pb_account_get_pin_sha256 (account));
  else
    g_key_file_remove_key (keyfile, name, KEY_PIN_SHA256, NULL);
  g_key_file_set_integer (keyfile, name, KEY_TIMEOUT, (int) pb_account_get_timeout (account));
  g_key_file_set_boolean (keyfile, name, KEY_ENABLED, pb_account_get_enabled (account));
}

/* Changes on disk */

/* The digest of the file's bytes @data (NULL: no file). */
static char *
digest_of (const char *data,
           gsize       len)
{
  return data != NULL ? g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) data, len)
                      : NULL;
}

/* Whether another writer saved since this store read or wrote the file.
 * The bytes are compared, not stat(): a save's file is a new inode, but
 * the number of a freed one comes back, and a save of the same size within
 * one timestamp tick then looks unchanged (with the lock alone, one of 20
 * accounts added at once was still lost now and then). */
static gboolean
changed_on_disk (PbAccountStore *self)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *digest = NULL;
  gsize len = 0;

  if (!g_file_get_contents (self->path, &contents, &len, &local_error))
    return !(g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT) &&
             self->disk_digest == NULL);
  digest = digest_of (contents, len);
  return g_strcmp0 (digest, self->disk_digest) != 0;
}

static void
set_pending (PbAccountStore *self,
             const char     *name,
             Pending         pending)
{
  g_hash_table_replace (self->pending, g_strdup (name), GINT_TO_POINTER (pending));
}

/* The account list */

static int
compare_accounts (gconstpointer a,
                  gconstpointer b)
{
  PbAccount *x = *(PbAccount * const *) a;
  PbAccount *y = *(PbAccount * const *) b;

  return strcmp (pb_account_get_name (x), pb_account_get_name (y));
}

static int
compare_error_names (gconstpointer a,
                     gconstpointer b)
{
  return strcmp (*(const char * const *) a, *(const char * const *) b);
}

static void
rebuild_load_errors (PbAccountStore *self)
{
  g_autofree const char **names = NULL;
  guint n = 0;

  g_ptr_array_set_size (self->load_errors, 0);
  names = (const char **) g_hash_table_get_keys_as_array (self->errors, &n);
  qsort (names, n, sizeof (char *), compare_error_names);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (self->load_errors, g_hash_table_lookup (self->errors, names[i]));
}

static gboolean
find_index (PbAccountStore *self,
            const char     *name,
            guint          *index)
{
  for (guint i = 0; i < self->accounts->len; i++)
    if (g_str_equal (pb_account_get_name (g_ptr_array_index (self->accounts, i)), name))
      {
        *index = i;
        return TRUE;
      }
  return FALSE;
}

/* Copies every setting of @from into @to (same name), notifying. */
static void
copy_settings (PbAccount *to,
               PbAccount *from)
{
  g_autofree char *folder = NULL;

  if (to == from)
    return;
  g_object_get (from, "folder", &folder, NULL);
  g_object_freeze_notify (G_OBJECT (to));
  pb_account_set_host (to, pb_account_get_host (from));
  pb_account_set_port (to, pb_account_get_port (from));
  pb_account_set_security (to, pb_account_get_security (from));
  pb_account_set_user (to, pb_account_get_user (from));
  pb_account_set_auth (to, pb_account_get_auth (from));
  pb_account_set_interval (to, pb_account_get_interval (from));
  pb_account_set_folder (to, folder);
  pb_account_set_format (to, pb_account_get_format (from));
  pb_account_set_delete_after_download (to, pb_account_get_delete_after_download (from));
  pb_account_set_ca_file (to, pb_account_get_ca_file (from));
  pb_account_set_pin_sha256 (to, pb_account_get_pin_sha256 (from));
  pb_account_set_timeout (to, pb_account_get_timeout (from));
  pb_account_set_enabled (to, pb_account_get_enabled (from));
  g_object_thaw_notify (G_OBJECT (to));
}

gboolean
pb_account_store_load (PbAccountStore  *self,
                       GError         **error)
{
  g_autoptr(GKeyFile) keyfile = g_key_file_new ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GPtrArray) loaded = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *contents = NULL;
  gsize contents_len = 0;
  g_autoptr(GPtrArray) old = NULL;
  g_auto(GStrv) groups = NULL;

  g_return_val_if_fail (PB_IS_ACCOUNT_STORE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* The bytes parsed are the bytes whose digest is kept: a stat() after
   * the read could describe a file another writer renamed in meanwhile. */
  if (!g_file_get_contents (self->path, &contents, &contents_len, &local_error) ||
      !g_key_file_load_from_data (keyfile, contents, contents_len,
                                  G_KEY_FILE_KEEP_COMMENTS | G_KEY_FILE_KEEP_TRANSLATIONS,
                                  &local_error))
    {
      if (!g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                       _("Could not read the accounts in “%s”: %s"),
                       self->path, local_error->message);
          return FALSE;
        }
      g_clear_error (&local_error);
    }

  g_free (self->disk_digest);
  self->disk_digest = digest_of (contents, contents_len);
  g_hash_table_remove_all (self->pending);
  g_hash_table_remove_all (self->broken);
  g_hash_table_remove_all (self->errors);
  groups = g_key_file_get_groups (keyfile, NULL);
  for (guint i = 0; groups[i] != NULL; i++)
    {
      g_autoptr(GError) group_error = NULL;
      PbAccount *account = parse_group (keyfile, groups[i], &group_error);

      if (group_error == NULL)
        g_ptr_array_add (loaded, account);
      else
        {
          g_hash_table_replace (self->broken, g_strdup (groups[i]), account);
          g_hash_table_replace (self->errors, g_strdup (groups[i]), g_steal_pointer (&group_error));
        }
    }
  g_ptr_array_sort (loaded, compare_accounts);
  rebuild_load_errors (self);

  g_key_file_unref (self->keyfile);
  self->keyfile = g_steal_pointer (&keyfile);

  /* Reloading: accounts that stayed keep their object (with the new
   * values), so whoever holds them sees the change. */
  old = g_steal_pointer (&self->accounts);
  self->accounts = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < loaded->len; i++)
    {
      PbAccount *account = g_ptr_array_index (loaded, i);
      PbAccount *kept = NULL;

      for (guint j = 0; j < old->len && kept == NULL; j++)
        if (g_str_equal (pb_account_get_name (g_ptr_array_index (old, j)), pb_account_get_name (account)))
          kept = g_ptr_array_index (old, j);
      if (kept != NULL)
        {
          copy_settings (kept, account);
          g_ptr_array_add (self->accounts, g_object_ref (kept));
        }
      else
        g_ptr_array_add (self->accounts, g_object_ref (account));
    }
  for (guint j = 0; j < old->len; j++)
    {
      PbAccount *account = g_ptr_array_index (old, j);

      if (pb_account_store_lookup (self, pb_account_get_name (account)) == NULL)
        g_signal_emit (self, signals[ACCOUNT_REMOVED], 0, account);
    }
  for (guint i = 0; i < self->accounts->len; i++)
    {
      PbAccount *account = g_ptr_array_index (self->accounts, i);
      gboolean existed = FALSE;

      for (guint j = 0; j < old->len && !existed; j++)
        existed = g_ptr_array_index (old, j) == (gpointer) account;
      g_signal_emit (self, signals[existed ? ACCOUNT_CHANGED : ACCOUNT_ADDED], 0, account);
    }
  return TRUE;
}

/* The lock of a save's read-merge-write: without it, two writers (two
 * "popbiff accounts add" run by a script at once) both found the file as
 * they had read it, and the second rename dropped the first one's account.
 * Held for milliseconds; a writer waits for it, polling, so that a stuck
 * holder costs an error after LOCK_WAIT_MS rather than a hang. Returns the
 * locked fd; closing it unlocks. */
static int
take_write_lock (PbAccountStore  *self,
                 GError         **error)
{
  g_autofree char *lock_path = g_strconcat (self->path, WRITE_LOCK_SUFFIX, NULL);
  g_autofree char *dir = g_path_get_dirname (self->path);
  int fd;

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK,
                   _("Could not create the folder “%s” for the accounts: %s"),
                   dir, g_strerror (saved_errno));
      return -1;
    }
  fd = pb_write_lock_take (lock_path, LOCK_WAIT_MS);
  if (fd < 0 && errno == ETIMEDOUT)
    g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK,
                 _("Could not save the accounts in “%s”: another Popbiff process has "
                   "been changing them for over %d seconds. Try again."),
                 self->path, LOCK_WAIT_MS / 1000);
  else if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK,
                   _("Could not save the accounts in “%s”: %s"),
                   self->path, g_strerror (saved_errno));
    }
  return fd;
}

static gboolean save_locked (PbAccountStore *self, GError **error);

gboolean
pb_account_store_save (PbAccountStore  *self,
                       GError         **error)
{
  gboolean saved;
  int lock;

  g_return_val_if_fail (PB_IS_ACCOUNT_STORE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  lock = take_write_lock (self, error);
  if (lock < 0)
    return FALSE;
  saved = save_locked (self, error);
  close (lock);
  return saved;
}

static gboolean
save_locked (PbAccountStore  *self,
             GError         **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *data = NULL;
  gboolean merged = FALSE;
  gsize len;

  if (changed_on_disk (self))
    {
      g_autoptr(GKeyFile) disk = g_key_file_new ();
      GHashTableIter iter;
      gpointer name, pending;

      if (!g_key_file_load_from_file (disk, self->path,
                                      G_KEY_FILE_KEEP_COMMENTS | G_KEY_FILE_KEEP_TRANSLATIONS,
                                      &local_error) &&
          !g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        {
          g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                       _("“%s” was changed by another program and cannot be read now, so the accounts were not saved: %s"),
                       self->path, local_error->message);
          return FALSE;
        }
      g_clear_error (&local_error);

      g_hash_table_iter_init (&iter, self->pending);
      while (g_hash_table_iter_next (&iter, &name, &pending))
        {
          PbAccount *account = pb_account_store_lookup (self, name);

          if (GPOINTER_TO_INT (pending) == PENDING_REMOVE)
            g_key_file_remove_group (disk, name, NULL);
          else if (account != NULL)
            write_group (disk, account);
        }
      g_key_file_unref (self->keyfile);
      self->keyfile = g_steal_pointer (&disk);
      merged = TRUE;
    }
  else
    for (guint i = 0; i < self->accounts->len; i++)
      write_group (self->keyfile, g_ptr_array_index (self->accounts, i));
  data = g_key_file_to_data (self->keyfile, &len, NULL);

  dir = g_path_get_dirname (self->path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK,
                   _("Could not create the folder “%s” for the accounts: %s"),
                   dir, g_strerror (saved_errno));
      return FALSE;
    }
  if (!g_file_set_contents_full (self->path, data, len,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                 0600, &local_error))
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK,
                   _("Could not save the accounts in “%s”: %s"),
                   self->path, local_error->message);
      return FALSE;
    }
  g_free (self->disk_digest);
  self->disk_digest = digest_of (data, len);
  g_hash_table_remove_all (self->pending);

  /* Take in what the other program changed (its accounts appear with
   * "account-added" and so on); ours are in the file already. */
  if (merged && !pb_account_store_load (self, &local_error))
    {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  return TRUE;
}

gboolean
pb_account_store_changed_on_disk (PbAccountStore *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_STORE (self), FALSE);
  return changed_on_disk (self);
}

GPtrArray *
pb_account_store_get_accounts (PbAccountStore *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_STORE (self), NULL);
  return self->accounts;
}

GPtrArray *
pb_account_store_get_load_errors (PbAccountStore *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_STORE (self), NULL);
  return self->load_errors;
}

const GError *
pb_account_store_get_load_error (PbAccountStore *self,
                                 const char     *name)
{
  g_return_val_if_fail (PB_IS_ACCOUNT_STORE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  return g_hash_table_lookup (self->errors, name);
}

GStrv
pb_account_store_dup_broken_names (PbAccountStore *self)
{
  g_autofree const char **names = NULL;
  GStrvBuilder *builder;
  GStrv result;
  guint n = 0;

  g_return_val_if_fail (PB_IS_ACCOUNT_STORE (self), NULL);

  names = (const char **) g_hash_table_get_keys_as_array (self->errors, &n);
  qsort (names, n, sizeof (char *), compare_error_names);
  builder = g_strv_builder_new ();
  for (guint i = 0; i < n; i++)
    g_strv_builder_add (builder, names[i]);
  result = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return result;
}

PbAccount *
pb_account_store_dup_broken (PbAccountStore *self,
                             const char     *name)
{
  PbAccount *account;

  g_return_val_if_fail (PB_IS_ACCOUNT_STORE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  account = g_hash_table_lookup (self->broken, name);
  return account != NULL ? pb_account_copy (account) : NULL;
}

PbAccount *
pb_account_store_lookup (PbAccountStore *self,
                         const char     *name)
{
  guint index;

  g_return_val_if_fail (PB_IS_ACCOUNT_STORE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  if (!find_index (self, name, &index))
    return NULL;
  return g_ptr_array_index (self->accounts, index);
}

gboolean
pb_account_store_add (PbAccountStore  *self,
                      PbAccount       *account,
                      GError         **error)
{
  const char *name;

  g_return_val_if_fail (PB_IS_ACCOUNT_STORE (self), FALSE);
  g_return_val_if_fail (PB_IS_ACCOUNT (account), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  name = pb_account_get_name (account);
  if (pb_account_store_lookup (self, name) != NULL ||
      g_hash_table_contains (self->broken, name))
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_EXISTS,
                   _("An account named “%s” already exists; change it with “popbiff accounts edit %s” or choose another name"),
                   name, name);
      return FALSE;
    }
  if (!pb_account_validate (account, error))
    return FALSE;

  g_ptr_array_add (self->accounts, g_object_ref (account));
  g_ptr_array_sort (self->accounts, compare_accounts);
  set_pending (self, name, PENDING_WRITE);
  g_signal_emit (self, signals[ACCOUNT_ADDED], 0, account);
  return TRUE;
}

gboolean
pb_account_store_replace (PbAccountStore  *self,
                          PbAccount       *account,
                          GError         **error)
{
  const char *name;
  PbAccount *stored;

  g_return_val_if_fail (PB_IS_ACCOUNT_STORE (self), FALSE);
  g_return_val_if_fail (PB_IS_ACCOUNT (account), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  name = pb_account_get_name (account);
  stored = pb_account_store_lookup (self, name);
  if (stored == NULL && !g_hash_table_contains (self->broken, name))
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_NOT_FOUND,
                   _("There is no account named “%s”; see “popbiff accounts list”"), name);
      return FALSE;
    }
  if (!pb_account_validate (account, error))
    return FALSE;

  set_pending (self, name, PENDING_WRITE);
  if (stored == NULL)
    {
      /* A broken account, fixed: it joins the others. */
      g_hash_table_remove (self->broken, name);
      g_hash_table_remove (self->errors, name);
      rebuild_load_errors (self);
      stored = pb_account_copy (account);
      g_ptr_array_add (self->accounts, stored);
      g_ptr_array_sort (self->accounts, compare_accounts);
      g_signal_emit (self, signals[ACCOUNT_ADDED], 0, stored);
      return TRUE;
    }

  copy_settings (stored, account);
  g_signal_emit (self, signals[ACCOUNT_CHANGED], 0, stored);
  return TRUE;
}

gboolean
pb_account_store_remove (PbAccountStore  *self,
                         const char      *name,
                         GError         **error)
{
  g_autoptr(PbAccount) account = NULL;
  guint index;

  g_return_val_if_fail (PB_IS_ACCOUNT_STORE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_hash_table_contains (self->broken, name))
    {
      g_key_file_remove_group (self->keyfile, name, NULL);
      g_hash_table_remove (self->broken, name);
      g_hash_table_remove (self->errors, name);
      rebuild_load_errors (self);
      set_pending (self, name, PENDING_REMOVE);
      return TRUE;
    }
  if (!find_index (self, name, &index))
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_NOT_FOUND,
                   _("There is no account named “%s”; see “popbiff accounts list”"), name);
      return FALSE;
    }

  account = g_ptr_array_steal_index (self->accounts, index);
  g_key_file_remove_group (self->keyfile, name, NULL);
  set_pending (self, name, PENDING_REMOVE);
  g_signal_emit (self, signals[ACCOUNT_REMOVED], 0, account);
  return TRUE;
}

/* GObject */

static void
pb_account_store_dispose (GObject *object)
{
  PbAccountStore *self = PB_ACCOUNT_STORE (object);

  g_ptr_array_set_size (self->accounts, 0);
  g_ptr_array_set_size (self->load_errors, 0);
  g_hash_table_remove_all (self->broken);
  g_hash_table_remove_all (self->errors);

  G_OBJECT_CLASS (pb_account_store_parent_class)->dispose (object);
}

static void
pb_account_store_finalize (GObject *object)
{
  PbAccountStore *self = PB_ACCOUNT_STORE (object);

  g_free (self->path);
  g_free (self->disk_digest);
  g_key_file_unref (self->keyfile);
  g_ptr_array_unref (self->accounts);
  g_ptr_array_unref (self->load_errors);
  g_hash_table_unref (self->broken);
  g_hash_table_unref (self->errors);
  g_hash_table_unref (self->pending);

  G_OBJECT_CLASS (pb_account_store_parent_class)->finalize (object);
}

static void
pb_account_store_class_init (PbAccountStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = pb_account_store_dispose;
  object_class->finalize = pb_account_store_finalize;

  signals[ACCOUNT_ADDED] =
    g_signal_new ("account-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, PB_TYPE_ACCOUNT);
  signals[ACCOUNT_REMOVED] =
    g_signal_new ("account-removed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, PB_TYPE_ACCOUNT);
  signals[ACCOUNT_CHANGED] =
    g_signal_new ("account-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, PB_TYPE_ACCOUNT);
}

static void
pb_account_store_init (PbAccountStore *self)
{
  self->keyfile = g_key_file_new ();
  self->accounts = g_ptr_array_new_with_free_func (g_object_unref);
  self->load_errors = g_ptr_array_new ();
  self->broken = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->errors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_error_free);
  self->pending = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

/* pb-secrets.c: account passwords in the desktop keyring.
 *
 * Lookups go through SecretService rather than secret_password_lookup():
 * the simple API returns NULL both for "no such item" and for "the item is
 * there but the keyring stayed locked", and the person needs to be told
 * which one it is. */
#include <glib/gi18n.h>
#include <libsecret/secret.h>

#include "pb-core-error.h"
#include "pb-secrets.h"

static const SecretSchema *
get_schema (void)
{
  static const SecretSchema schema = {
    "io.github.popbiff.Password", SECRET_SCHEMA_NONE,
    {
      { "account", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "user", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "host", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    },
  };

  return &schema;
}

static gboolean
is_no_service (const GError *error)
{
  if (error->domain == G_DBUS_ERROR)
    {
      switch (error->code)
        {
        case G_DBUS_ERROR_SERVICE_UNKNOWN:
        case G_DBUS_ERROR_NAME_HAS_NO_OWNER:
        case G_DBUS_ERROR_SPAWN_EXEC_FAILED:
        case G_DBUS_ERROR_SPAWN_FORK_FAILED:
        case G_DBUS_ERROR_SPAWN_CHILD_EXITED:
        case G_DBUS_ERROR_SPAWN_CHILD_SIGNALED:
        case G_DBUS_ERROR_SPAWN_FAILED:
        case G_DBUS_ERROR_SPAWN_SERVICE_INVALID:
        case G_DBUS_ERROR_SPAWN_SERVICE_NOT_FOUND:
        case G_DBUS_ERROR_SPAWN_PERMISSIONS_INVALID:
        case G_DBUS_ERROR_SPAWN_FILE_INVALID:
        case G_DBUS_ERROR_SPAWN_NO_MEMORY:
        case G_DBUS_ERROR_NO_SERVER:
        case G_DBUS_ERROR_NOT_SUPPORTED:
        case G_DBUS_ERROR_UNKNOWN_METHOD:
        case G_DBUS_ERROR_UNKNOWN_OBJECT:
        case G_DBUS_ERROR_UNKNOWN_INTERFACE:
          return TRUE;
        default:
          return FALSE;
        }
    }
  /* No session bus at all (e.g. "Cannot autolaunch D-Bus without X11
   * $DISPLAY") comes as a plain GIO error from g_bus_get(). */
  return error->domain == G_IO_ERROR &&
         (error->code == G_IO_ERROR_FAILED || error->code == G_IO_ERROR_NOT_FOUND ||
          error->code == G_IO_ERROR_CONNECTION_REFUSED || error->code == G_IO_ERROR_NOT_SUPPORTED);
}

/* The keyring is locked and stays so (after the unlock we asked for, if
 * any): the lookup, the clear and the mapping below say it alike. */
static GError *
keyring_locked_error (void)
{
  return g_error_new_literal (PB_CORE_ERROR, PB_CORE_ERROR_KEYRING_LOCKED,
                              _("Your keyring is locked; unlock it (for example by logging in to the desktop or with your password manager) and try again"));
}

/* Turns what libsecret and D-Bus said into one of our three keyring errors.
 * A cancellation the caller asked for stays a cancellation; any other
 * "cancelled" is a dismissed unlock prompt. */
static GError *
map_error (GError       *error,
           GCancellable *cancellable)
{
  GError *mapped;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      if (g_cancellable_is_cancelled (cancellable))
        return error;
      mapped = g_error_new_literal (PB_CORE_ERROR, PB_CORE_ERROR_KEYRING_LOCKED,
                                    _("Your keyring is locked and the request to unlock it was dismissed; unlock it (for example with your desktop’s password manager) and try again"));
    }
  else if (g_error_matches (error, SECRET_ERROR, SECRET_ERROR_IS_LOCKED))
    mapped = keyring_locked_error ();
  else if (is_no_service (error))
    mapped = g_error_new_literal (PB_CORE_ERROR, PB_CORE_ERROR_KEYRING,
                                  _("No keyring is running: Popbiff keeps passwords in the desktop keyring (the Secret Service, e.g. GNOME Keyring or KeePassXC), and none answered; log in to a desktop session or start one"));
  else
    {
      g_dbus_error_strip_remote_error (error);
      mapped = g_error_new (PB_CORE_ERROR, PB_CORE_ERROR_KEYRING,
                            _("The keyring failed: %s"), error->message);
    }
  g_error_free (error);
  return mapped;
}

/* Lookup
 *
 * Lookups that start together share one Secret Service connection and one
 * search. Opening a session is a Diffie-Hellman exchange on both sides, and
 * gnome-keyring answers one request at a time: `popbiff check` of 20
 * accounts used to open 20 sessions and run 20 searches (20 Unlock and 20
 * GetSecrets calls), 375 ms before the first connection could start, against
 * 22 ms for one account. A lookup now joins the batch that is still waiting
 * for the service; when the service is ready the batch searches once (by
 * account for one lookup, every Popbiff item for several) and hands each
 * lookup the password of its own account.
 *
 * The batch being filled is process-wide state, like libsecret's own cached
 * SecretService; it exists only while a service request is in flight. */

typedef struct _LookupBatch LookupBatch;

typedef struct {
  GTask       *task;          /* owned; NULL once returned */
  char        *account_name;
  LookupBatch *batch;         /* the batch that owns this lookup */
  GSource     *cancelled;     /* NULL without a cancellable */
} Lookup;

/* Lives while its service request and search run. Everything in a batch
 * happens in one main context (a lookup from another context starts its
 * own batch), so only open_batch needs the lock. */
struct _LookupBatch {
  GMainContext  *context;
  GPtrArray     *lookups;      /* (element-type Lookup) */
  guint          waiting;      /* lookups not yet returned */
  GCancellable  *cancellable;  /* stops the shared calls once nobody waits */
  SecretService *service;
};

G_LOCK_DEFINE_STATIC (open_batch);
static LookupBatch *open_batch;  /* the batch new lookups join, or NULL */

static void
lookup_free (Lookup *lookup)
{
  if (lookup->cancelled != NULL)
    {
      g_source_destroy (lookup->cancelled);
      g_source_unref (lookup->cancelled);
    }
  g_assert (lookup->task == NULL);
  g_free (lookup->account_name);
  g_free (lookup);
}

/* No lookup can join @batch any more. */
static void
lookup_batch_close (LookupBatch *batch)
{
  G_LOCK (open_batch);
  if (open_batch == batch)
    open_batch = NULL;
  G_UNLOCK (open_batch);
}

static void
lookup_batch_free (LookupBatch *batch)
{
  lookup_batch_close (batch);
  g_ptr_array_unref (batch->lookups);
  g_clear_object (&batch->cancellable);
  g_clear_object (&batch->service);
  g_main_context_unref (batch->context);
  g_free (batch);
}

/* The task of @lookup if it was not returned yet (then the caller returns
 * it), else NULL. */
static GTask *
lookup_take_task (Lookup *lookup)
{
  GTask *task = g_steal_pointer (&lookup->task);

  if (task != NULL)
    lookup->batch->waiting--;
  return task;
}

static gboolean
lookup_cancelled (GCancellable *cancellable,
                  gpointer      user_data)
{
  Lookup *lookup = user_data;
  LookupBatch *batch = lookup->batch;
  g_autoptr(GTask) task = lookup_take_task (lookup);

  if (task == NULL)
    return G_SOURCE_REMOVE;
  g_task_return_error_if_cancelled (task);
  /* Nobody waits any more: stop the shared calls (and an unlock prompt),
   * as a lookup of its own always did. */
  if (batch->waiting == 0)
    {
      lookup_batch_close (batch);
      g_cancellable_cancel (batch->cancellable);
    }
  return G_SOURCE_REMOVE;
}

static void
lookup_return_error (Lookup *lookup,
                     GError *error)
{
  g_autoptr(GTask) task = lookup_take_task (lookup);

  if (task != NULL)
    g_task_return_error (task, error);
  else
    g_error_free (error);
}

/* Returns the password in @value (taken) as @task's result. */
static void
return_password (GTask       *task,
                 SecretValue *value)
{
  gsize len;
  /* Stays in the keyring library's non-pageable memory (copied there when
   * two lookups asked for the same account). */
  char *password = secret_value_unref_to_password (value, &len);

  g_task_return_pointer (task, password, (GDestroyNotify) secret_password_free);
}

/* Returns the password of @lookup's account among @items, each an item of
 * the schema. */
static void
lookup_return_from_items (Lookup *lookup,
                          GList  *items)
{
  g_autoptr(GTask) task = lookup_take_task (lookup);
  SecretItem *unlocked = NULL;
  gboolean found = FALSE;
  SecretValue *value;

  if (task == NULL)
    return;

  for (GList *l = items; l != NULL && unlocked == NULL; l = l->next)
    {
      g_autoptr(GHashTable) attributes = secret_item_get_attributes (l->data);

      if (g_strcmp0 (g_hash_table_lookup (attributes, "account"), lookup->account_name) != 0)
        continue;
      found = TRUE;
      if (!secret_item_get_locked (l->data))
        unlocked = l->data;
    }

  if (!found)
    g_task_return_new_error (task, PB_CORE_ERROR, PB_CORE_ERROR_NO_PASSWORD,
                             _("No password stored for account %s; run “popbiff accounts edit %s --password-stdin”"),
                             lookup->account_name, lookup->account_name);
  else if (unlocked == NULL)
    /* The search asked to unlock; the items are still locked, so the
     * unlock prompt was dismissed or could not be shown. */
    g_task_return_error (task, keyring_locked_error ());
  else if ((value = secret_item_get_secret (unlocked)) == NULL)
    g_task_return_new_error (task, PB_CORE_ERROR, PB_CORE_ERROR_KEYRING,
                             _("The keyring did not hand out the password of account %s"),
                             lookup->account_name);
  else
    return_password (task, value);
}

static void
lookup_batch_searched (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  LookupBatch *batch = user_data;
  GError *error = NULL;
  GList *items;

  items = secret_service_search_finish (SECRET_SERVICE (source), result, &error);
  for (guint i = 0; i < batch->lookups->len; i++)
    {
      Lookup *lookup = g_ptr_array_index (batch->lookups, i);

      if (error != NULL)
        lookup_return_error (lookup, map_error (g_error_copy (error), NULL));
      else
        lookup_return_from_items (lookup, items);
    }
  g_clear_error (&error);
  g_list_free_full (items, g_object_unref);
  lookup_batch_free (batch);
}

/* The password of a lone lookup came back, or nothing unlocked matched. */
static void
lookup_batch_looked_up (GObject      *source,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  LookupBatch *batch = user_data;
  Lookup *lookup = g_ptr_array_index (batch->lookups, 0);
  g_autoptr(GHashTable) attributes = NULL;
  GError *error = NULL;
  SecretValue *value;

  value = secret_service_lookup_finish (SECRET_SERVICE (source), result, &error);
  if (error != NULL || value != NULL)
    {
      g_autoptr(GTask) task = lookup_take_task (lookup);

      if (task == NULL)
        g_clear_error (&error);
      else if (error != NULL)
        g_task_return_error (task, map_error (error, NULL));
      else
        return_password (task, g_steal_pointer (&value));
      g_clear_pointer (&value, secret_value_unref);
      lookup_batch_free (batch);
      return;
    }

  /* No item, or only locked ones whose unlock prompt was dismissed: the
   * search (which loads nothing and unlocks nothing) tells which. */
  attributes = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (attributes, (gpointer) "account", lookup->account_name);
  secret_service_search (batch->service, get_schema (), attributes, SECRET_SEARCH_ALL,
                         batch->cancellable, lookup_batch_searched, batch);
}

static void
lookup_batch_got_service (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  LookupBatch *batch = user_data;
  g_autoptr(GHashTable) attributes = g_hash_table_new (g_str_hash, g_str_equal);
  GError *error = NULL;

  lookup_batch_close (batch);
  batch->service = secret_service_get_finish (result, &error);
  if (batch->service == NULL)
    {
      for (guint i = 0; i < batch->lookups->len; i++)
        lookup_return_error (g_ptr_array_index (batch->lookups, i),
                             map_error (g_error_copy (error), NULL));
      g_error_free (error);
      lookup_batch_free (batch);
      return;
    }

  /* One account: SearchItems and GetSecrets (Unlock if locked), with no
   * item objects in between, whose D-Bus set-up (five calls each) made the
   * lookup twice as long. */
  if (batch->lookups->len == 1)
    {
      Lookup *lookup = g_ptr_array_index (batch->lookups, 0);

      g_hash_table_insert (attributes, (gpointer) "account", lookup->account_name);
      secret_service_lookup (batch->service, get_schema (), attributes, batch->cancellable,
                             lookup_batch_looked_up, batch);
      return;
    }

  /* Several: every item of the schema in one search (the Secret Service
   * matches attributes by equality only), so the keyring unlocks and hands
   * out the secrets in one call each. */
  secret_service_search (batch->service, get_schema (), attributes,
                         SECRET_SEARCH_ALL | SECRET_SEARCH_UNLOCK | SECRET_SEARCH_LOAD_SECRETS,
                         batch->cancellable, lookup_batch_searched, batch);
}

void
pb_secrets_lookup_async (PbAccount           *account,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  LookupBatch *batch;
  Lookup *lookup;
  gboolean start = FALSE;

  g_return_if_fail (PB_IS_ACCOUNT (account));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  lookup = g_new0 (Lookup, 1);
  lookup->task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (lookup->task, pb_secrets_lookup_async);
  lookup->account_name = g_strdup (pb_account_get_name (account));

  G_LOCK (open_batch);
  if (open_batch == NULL || open_batch->context != context)
    {
      open_batch = g_new0 (LookupBatch, 1);
      open_batch->context = g_main_context_ref (context);
      open_batch->lookups = g_ptr_array_new_with_free_func ((GDestroyNotify) lookup_free);
      open_batch->cancellable = g_cancellable_new ();
      start = TRUE;
    }
  batch = open_batch;
  lookup->batch = batch;
  g_ptr_array_add (batch->lookups, lookup);
  batch->waiting++;
  G_UNLOCK (open_batch);

  if (cancellable != NULL)
    {
      lookup->cancelled = g_cancellable_source_new (cancellable);
      g_source_set_callback (lookup->cancelled, G_SOURCE_FUNC (lookup_cancelled), lookup, NULL);
      g_source_attach (lookup->cancelled, context);
    }

  if (start)
    secret_service_get (SECRET_SERVICE_OPEN_SESSION, batch->cancellable,
                        lookup_batch_got_service, batch);
}

char *
pb_secrets_lookup_finish (GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == pb_secrets_lookup_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Store: clear every item of the account first, so that a changed user or
 * host does not leave a second item that a lookup might find instead. */

typedef struct {
  char *account_name;
  char *user;
  char *host;
  char *password;  /* secret_password_free() */
} StoreData;

static void
store_data_free (StoreData *data)
{
  g_free (data->account_name);
  g_free (data->user);
  g_free (data->host);
  secret_password_free (data->password);
  g_free (data);
}

static void
store_stored (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!secret_password_store_finish (result, &error))
    g_task_return_error (task, map_error (error, g_task_get_cancellable (task)));
  else
    g_task_return_boolean (task, TRUE);
}

static void
store_cleared (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  StoreData *data = g_task_get_task_data (task);
  g_autofree char *label = NULL;
  GError *error = NULL;

  secret_password_clear_finish (result, &error);
  if (error != NULL)
    {
      g_task_return_error (task, map_error (error, g_task_get_cancellable (task)));
      return;
    }

  label = g_strdup_printf ("Popbiff: %s", data->account_name);
  secret_password_store (get_schema (), SECRET_COLLECTION_DEFAULT, label, data->password,
                         g_task_get_cancellable (task), store_stored, g_object_ref (task),
                         "account", data->account_name,
                         "user", data->user,
                         "host", data->host,
                         NULL);
}

void
pb_secrets_store_async (PbAccount           *account,
                        const char          *password,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  StoreData *data;

  g_return_if_fail (PB_IS_ACCOUNT (account));
  g_return_if_fail (password != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, pb_secrets_store_async);
  data = g_new0 (StoreData, 1);
  data->account_name = g_strdup (pb_account_get_name (account));
  data->user = g_strdup (pb_account_get_user (account) != NULL ? pb_account_get_user (account) : "");
  data->host = g_strdup (pb_account_get_host (account) != NULL ? pb_account_get_host (account) : "");
  data->password = secret_value_unref_to_password (secret_value_new (password, -1, "text/plain"), NULL);
  g_task_set_task_data (task, data, (GDestroyNotify) store_data_free);

  secret_password_clear (get_schema (), cancellable, store_cleared, g_steal_pointer (&task),
                         "account", data->account_name, NULL);
}

gboolean
pb_secrets_store_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == pb_secrets_store_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Clear
 *
 * Through SecretService rather than secret_password_clear(): that one
 * removes only unlocked items and says "nothing to remove" for the rest,
 * so an account removed while the keyring was locked left its password
 * behind for ever. The search asks to unlock (a prompt on a desktop); an
 * item still locked after it is an error, so the caller can say so. */

typedef struct {
  char   *account_name;
  guint   deleting;      /* secret_item_delete calls not answered yet */
  GError *error;         /* the first one that failed */
} ClearData;

static void
clear_data_free (ClearData *data)
{
  g_free (data->account_name);
  g_clear_error (&data->error);
  g_free (data);
}

static void
clear_deleted (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ClearData *data = g_task_get_task_data (task);
  GError *error = NULL;

  if (!secret_item_delete_finish (SECRET_ITEM (source), result, &error))
    {
      if (data->error == NULL)
        data->error = map_error (error, g_task_get_cancellable (task));
      else
        g_error_free (error);
    }
  if (--data->deleting > 0)
    return;
  if (data->error != NULL)
    g_task_return_error (task, g_steal_pointer (&data->error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
clear_searched (GObject      *source,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ClearData *data = g_task_get_task_data (task);
  GError *error = NULL;
  GList *items = secret_service_search_finish (SECRET_SERVICE (source), result, &error);

  if (error != NULL)
    {
      g_task_return_error (task, map_error (error, g_task_get_cancellable (task)));
      return;
    }
  for (GList *l = items; l != NULL; l = l->next)
    if (secret_item_get_locked (l->data))
      {
        /* Asked to unlock and still locked: the prompt was dismissed or
         * could not be shown. Nothing is removed, not even the unlocked
         * ones, so that trying again finds all of them. */
        g_list_free_full (items, g_object_unref);
        g_task_return_error (task, keyring_locked_error ());
        return;
      }
  if (items == NULL)
    {
      g_task_return_boolean (task, TRUE);  /* nothing to remove is fine */
      return;
    }
  for (GList *l = items; l != NULL; l = l->next)
    {
      data->deleting++;
      secret_item_delete (l->data, g_task_get_cancellable (task), clear_deleted, g_object_ref (task));
    }
  g_list_free_full (items, g_object_unref);
}

static void
clear_got_service (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ClearData *data = g_task_get_task_data (task);
  g_autoptr(SecretService) service = NULL;
  g_autoptr(GHashTable) attributes = g_hash_table_new (g_str_hash, g_str_equal);
  GError *error = NULL;

  service = secret_service_get_finish (result, &error);
  if (service == NULL)
    {
      g_task_return_error (task, map_error (error, g_task_get_cancellable (task)));
      return;
    }
  g_hash_table_insert (attributes, (gpointer) "account", data->account_name);
  secret_service_search (service, get_schema (), attributes,
                         SECRET_SEARCH_ALL | SECRET_SEARCH_UNLOCK,
                         g_task_get_cancellable (task), clear_searched, g_object_ref (task));
}

void
pb_secrets_clear_async (const char          *account_name,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *task;
  ClearData *data;

  g_return_if_fail (account_name != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, pb_secrets_clear_async);
  data = g_new0 (ClearData, 1);
  data->account_name = g_strdup (account_name);
  g_task_set_task_data (task, data, (GDestroyNotify) clear_data_free);

  /* The callback owns the task's reference. */
  secret_service_get (SECRET_SERVICE_NONE, cancellable, clear_got_service, task);
}

gboolean
pb_secrets_clear_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == pb_secrets_clear_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
pb_secrets_free (char *password)
{
  secret_password_free (password);
}

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
    mapped = g_error_new_literal (PB_CORE_ERROR, PB_CORE_ERROR_KEYRING_LOCKED,
                                  _("Your keyring is locked; unlock it (for example by logging in to the desktop or with your password manager) and try again"));
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

static GHashTable *
account_attributes (const char *account_name)
{
  GHashTable *attributes = g_hash_table_new (g_str_hash, g_str_equal);

  g_hash_table_insert (attributes, (gpointer) "account", (gpointer) account_name);
  return attributes;
}

/* Lookup */

typedef struct {
  char          *account_name;
  SecretService *service;
} LookupData;

static void
lookup_data_free (LookupData *data)
{
  g_free (data->account_name);
  g_clear_object (&data->service);
  g_free (data);
}

static void
lookup_searched (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LookupData *data = g_task_get_task_data (task);
  GError *error = NULL;
  GList *items;
  SecretItem *unlocked = NULL;
  SecretValue *value;
  char *password;

  items = secret_service_search_finish (SECRET_SERVICE (source), result, &error);
  if (error != NULL)
    {
      g_task_return_error (task, map_error (error, g_task_get_cancellable (task)));
      return;
    }

  for (GList *l = items; l != NULL && unlocked == NULL; l = l->next)
    if (!secret_item_get_locked (l->data))
      unlocked = l->data;

  if (items == NULL)
    g_task_return_new_error (task, PB_CORE_ERROR, PB_CORE_ERROR_NO_PASSWORD,
                             _("No password stored for account %s; run “popbiff accounts edit %s --password-stdin”"),
                             data->account_name, data->account_name);
  else if (unlocked == NULL)
    /* The search asked to unlock; the items are still locked, so the
     * unlock prompt was dismissed or could not be shown. */
    g_task_return_new_error (task, PB_CORE_ERROR, PB_CORE_ERROR_KEYRING_LOCKED,
                             _("Your keyring is locked; unlock it (for example by logging in to the desktop or with your password manager) and try again"));
  else if ((value = secret_item_get_secret (unlocked)) == NULL)
    g_task_return_new_error (task, PB_CORE_ERROR, PB_CORE_ERROR_KEYRING,
                             _("The keyring did not hand out the password of account %s"),
                             data->account_name);
  else
    {
      gsize len;

      /* Stays in the keyring library's non-pageable memory. */
      password = secret_value_unref_to_password (value, &len);
      g_task_return_pointer (task, password, (GDestroyNotify) secret_password_free);
    }

  g_list_free_full (items, g_object_unref);
}

static void
lookup_got_service (GObject      *source,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  LookupData *data = g_task_get_task_data (task);
  g_autoptr(GHashTable) attributes = NULL;
  GError *error = NULL;

  data->service = secret_service_get_finish (result, &error);
  if (data->service == NULL)
    {
      g_task_return_error (task, map_error (error, g_task_get_cancellable (task)));
      return;
    }

  attributes = account_attributes (data->account_name);
  secret_service_search (data->service, get_schema (), attributes,
                         SECRET_SEARCH_ALL | SECRET_SEARCH_UNLOCK | SECRET_SEARCH_LOAD_SECRETS,
                         g_task_get_cancellable (task), lookup_searched, g_object_ref (task));
}

void
pb_secrets_lookup_async (PbAccount           *account,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  LookupData *data;

  g_return_if_fail (PB_IS_ACCOUNT (account));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, pb_secrets_lookup_async);
  data = g_new0 (LookupData, 1);
  data->account_name = g_strdup (pb_account_get_name (account));
  g_task_set_task_data (task, data, (GDestroyNotify) lookup_data_free);

  secret_service_get (SECRET_SERVICE_OPEN_SESSION, cancellable,
                      lookup_got_service, g_steal_pointer (&task));
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

/* Clear */

static void
clear_cleared (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  /* FALSE without an error: there was nothing to remove, which is fine. */
  secret_password_clear_finish (result, &error);
  if (error != NULL)
    g_task_return_error (task, map_error (error, g_task_get_cancellable (task)));
  else
    g_task_return_boolean (task, TRUE);
}

void
pb_secrets_clear_async (const char          *account_name,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  GTask *task;

  g_return_if_fail (account_name != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, pb_secrets_clear_async);

  /* The callback owns the task's reference. */
  secret_password_clear (get_schema (), cancellable, clear_cleared, task,
                         "account", account_name, NULL);
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

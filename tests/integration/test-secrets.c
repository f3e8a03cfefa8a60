/* pb-secrets against a real gnome-keyring on a private session bus
 * (tests/tools/with-keyring.sh), and against a bus with no keyring at all.
 * Each failure must come out as its own error that says what to do. */
#include <libsecret/secret.h>

#include "core/pb-core-error.h"
#include "core/pb-secrets.h"
#include "pb-test-util.h"

/* Generous: the machine is shared; a hanging unlock prompt would still be
 * caught well before meson's own timeout. */
#define WAIT_SECONDS 60

static const char *
keyring_mode (void)
{
  const char *mode = g_getenv ("PB_TEST_KEYRING");

  return mode != NULL ? mode : "";
}

static gboolean
require_mode (const char *mode)
{
  if (g_str_equal (keyring_mode (), mode))
    return TRUE;
  if (*keyring_mode () == '\0')
    g_test_skip ("not run under tests/tools/with-keyring.sh");
  else
    g_test_skip ("this case needs another keyring mode");
  return FALSE;
}

static gboolean
wait_timed_out (gpointer user_data)
{
  g_error ("the keyring did not answer within %d seconds", WAIT_SECONDS);
  return G_SOURCE_REMOVE;
}

static void
got_result (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_for (GAsyncResult **slot)
{
  guint timeout = g_timeout_add_seconds (WAIT_SECONDS, wait_timed_out, NULL);

  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (timeout);
  return *slot;
}

static PbAccount *
make_account (const char *name,
              const char *user)
{
  PbAccount *account = pb_account_new (name);

  pb_account_set_host (account, "pop.example.org");
  pb_account_set_user (account, user);
  return account;
}

static gboolean
store (PbAccount   *account,
       const char  *password,
       GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pb_secrets_store_async (account, password, NULL, got_result, &result);
  return pb_secrets_store_finish (wait_for (&result), error);
}

static char *
lookup (PbAccount  *account,
        GError    **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pb_secrets_lookup_async (account, NULL, got_result, &result);
  return pb_secrets_lookup_finish (wait_for (&result), error);
}

static gboolean
clear (const char  *name,
       GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  pb_secrets_clear_async (name, NULL, got_result, &result);
  return pb_secrets_clear_finish (wait_for (&result), error);
}

/* The items of the schema for @name, straight from the Secret Service. */
static GList *
items_of (const char *name)
{
  g_autoptr(SecretService) service = secret_service_get_sync (SECRET_SERVICE_NONE, NULL, NULL);
  g_autoptr(GHashTable) attributes = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;
  GList *items;
  static const SecretSchema schema = {
    "io.github.popbiff.Password", SECRET_SCHEMA_NONE,
    { { "account", SECRET_SCHEMA_ATTRIBUTE_STRING }, { NULL, 0 } },
  };

  g_assert_nonnull (service);
  g_hash_table_insert (attributes, (gpointer) "account", (gpointer) name);
  items = secret_service_search_sync (service, &schema, attributes, SECRET_SEARCH_ALL, NULL, &error);
  g_assert_no_error (error);
  return items;
}

static void
test_round_trip (void)
{
  g_autoptr(PbAccount) account = make_account ("work", "alice");
  g_autoptr(PbAccount) renamed_user = make_account ("work", "alice2");
  g_autoptr(GError) error = NULL;
  const char *hostile = "pä ss\"word' \\ with spaces 🙂";
  char *password;
  GList *items;

  if (!require_mode ("keyring"))
    return;

  g_assert_true (store (account, hostile, &error));
  g_assert_no_error (error);
  password = lookup (account, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, hostile);
  pb_secrets_free (password);

  /* A new password with another user name replaces the item, not adds one. */
  g_assert_true (store (renamed_user, "second", &error));
  g_assert_no_error (error);
  password = lookup (account, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, "second");
  pb_secrets_free (password);

  items = items_of ("work");
  g_assert_cmpuint (g_list_length (items), ==, 1);
  {
    g_autofree char *label = secret_item_get_label (items->data);
    g_autoptr(GHashTable) attributes = secret_item_get_attributes (items->data);

    g_assert_cmpstr (label, ==, "Popbiff: work");
    g_assert_cmpstr (g_hash_table_lookup (attributes, "account"), ==, "work");
    g_assert_cmpstr (g_hash_table_lookup (attributes, "user"), ==, "alice2");
    g_assert_cmpstr (g_hash_table_lookup (attributes, "host"), ==, "pop.example.org");
    g_assert_cmpstr (g_hash_table_lookup (attributes, "xdg:schema"), ==, "io.github.popbiff.Password");
  }
  g_list_free_full (items, g_object_unref);

  g_assert_true (clear ("work", &error));
  g_assert_no_error (error);
  items = items_of ("work");
  g_assert_null (items);
}

static void
test_missing_item (void)
{
  g_autoptr(PbAccount) account = make_account ("never-stored", "bob");
  g_autoptr(GError) error = NULL;
  char *password;

  if (!require_mode ("keyring"))
    return;

  password = lookup (account, &error);
  g_assert_null (password);
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_NO_PASSWORD);
  g_assert_cmpstr (pb_error_kind (error), ==, "keyring");
  g_assert_nonnull (strstr (error->message, "never-stored"));
  g_assert_nonnull (strstr (error->message, "popbiff accounts edit never-stored --password-stdin"));
}

static void
test_clear_missing_is_fine (void)
{
  g_autoptr(GError) error = NULL;

  if (!require_mode ("keyring"))
    return;

  g_assert_true (clear ("not-there", &error));
  g_assert_no_error (error);
}

static void
test_accounts_are_separate (void)
{
  g_autoptr(PbAccount) a = make_account ("a", "same-user");
  g_autoptr(PbAccount) b = make_account ("b", "same-user");
  g_autoptr(GError) error = NULL;
  char *password;

  if (!require_mode ("keyring"))
    return;

  g_assert_true (store (a, "pw-a", NULL));
  g_assert_true (store (b, "pw-b", NULL));
  g_assert_true (clear ("a", NULL));
  password = lookup (b, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, "pw-b");
  pb_secrets_free (password);
  g_assert_null (lookup (a, &error));
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_NO_PASSWORD);
  g_assert_true (clear ("b", NULL));
}

/* Lookups started together share one keyring session and one search;
 * each must still get its own account's password or its own error. */
static void
test_many_at_once (void)
{
  static const char * const names[] = { "m1", "m2", "m3", "m4", "m5" };
  g_autoptr(PbAccount) missing = make_account ("m-missing", "nobody");
  g_autoptr(PbAccount) other_user = make_account ("m6", "someone-else");
  GAsyncResult *results[G_N_ELEMENTS (names) + 3] = { NULL };
  g_autoptr(GPtrArray) accounts = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  char *password;

  if (!require_mode ("keyring"))
    return;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      PbAccount *account = make_account (names[i], "same-user");
      g_autofree char *secret = g_strdup_printf ("pw-of-%s", names[i]);

      g_assert_true (store (account, secret, &error));
      g_assert_no_error (error);
      g_ptr_array_add (accounts, account);
    }
  g_assert_true (store (other_user, "pw-of-m6", &error));
  g_assert_no_error (error);

  /* All started before the main loop runs once: one batch. m1 twice. */
  for (guint i = 0; i < accounts->len; i++)
    pb_secrets_lookup_async (g_ptr_array_index (accounts, i), NULL, got_result, &results[i]);
  pb_secrets_lookup_async (missing, NULL, got_result, &results[accounts->len]);
  pb_secrets_lookup_async (other_user, NULL, got_result, &results[accounts->len + 1]);
  pb_secrets_lookup_async (g_ptr_array_index (accounts, 0), NULL, got_result, &results[accounts->len + 2]);

  for (guint i = 0; i < accounts->len; i++)
    {
      g_autofree char *expected = g_strdup_printf ("pw-of-%s", names[i]);

      password = pb_secrets_lookup_finish (wait_for (&results[i]), &error);
      g_assert_no_error (error);
      g_assert_cmpstr (password, ==, expected);
      pb_secrets_free (password);
    }
  g_assert_null (pb_secrets_lookup_finish (wait_for (&results[accounts->len]), &error));
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_NO_PASSWORD);
  g_assert_nonnull (strstr (error->message, "m-missing"));
  g_clear_error (&error);
  password = pb_secrets_lookup_finish (wait_for (&results[accounts->len + 1]), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, "pw-of-m6");
  pb_secrets_free (password);
  /* The same account twice: each caller owns (and frees) its own copy. */
  password = pb_secrets_lookup_finish (wait_for (&results[accounts->len + 2]), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, "pw-of-m1");
  pb_secrets_free (password);

  /* A lookup after the batch is over starts afresh. */
  password = lookup (g_ptr_array_index (accounts, 4), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, "pw-of-m5");
  pb_secrets_free (password);

  for (guint i = 0; i < G_N_ELEMENTS (results); i++)
    g_clear_object (&results[i]);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_true (clear (names[i], NULL));
  g_assert_true (clear ("m6", NULL));
}

/* One lookup of a batch cancelled: it ends at once with the cancellation,
 * the others still get their passwords. */
static void
test_cancel_one_of_many (void)
{
  g_autoptr(PbAccount) a = make_account ("c-a", "alice");
  g_autoptr(PbAccount) b = make_account ("c-b", "bob");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result_a = NULL;
  g_autoptr(GAsyncResult) result_b = NULL;
  g_autoptr(GError) error = NULL;
  char *password;

  if (!require_mode ("keyring"))
    return;

  g_assert_true (store (a, "pw-a", NULL));
  g_assert_true (store (b, "pw-b", NULL));

  pb_secrets_lookup_async (a, cancellable, got_result, &result_a);
  pb_secrets_lookup_async (b, NULL, got_result, &result_b);
  g_cancellable_cancel (cancellable);

  g_assert_null (pb_secrets_lookup_finish (wait_for (&result_a), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  /* Cancelled before the keyring could answer b. */
  g_assert_null (result_b);
  password = pb_secrets_lookup_finish (wait_for (&result_b), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, "pw-b");
  pb_secrets_free (password);

  g_assert_true (clear ("c-a", NULL));
  g_assert_true (clear ("c-b", NULL));
}

/* Items of @account_name in the keyring, locked ones too. */
static guint
count_items (SecretService *service,
             const char    *account_name)
{
  g_autoptr(GHashTable) attributes = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;
  GList *items;
  guint n;

  g_hash_table_insert (attributes, (gpointer) "account", (gpointer) account_name);
  items = secret_service_search_sync (service, NULL, attributes, SECRET_SEARCH_ALL, NULL, &error);
  g_assert_no_error (error);
  n = g_list_length (items);
  g_list_free_full (items, g_object_unref);
  return n;
}

/* Run in its own keyring session (meson registers it separately): once
 * locked, a headless session cannot unlock it again. */
static void
test_locked (void)
{
  g_autoptr(PbAccount) account = make_account ("locked", "carol");
  g_autoptr(SecretService) service = NULL;
  g_autoptr(SecretCollection) collection = NULL;
  g_autoptr(GError) error = NULL;
  GList *objects = NULL;
  gint64 start;
  char *password;

  if (!require_mode ("keyring"))
    return;

  g_assert_true (store (account, "secret", &error));
  g_assert_no_error (error);

  service = secret_service_get_sync (SECRET_SERVICE_LOAD_COLLECTIONS, NULL, &error);
  g_assert_no_error (error);
  collection = secret_collection_for_alias_sync (service, SECRET_COLLECTION_DEFAULT,
                                                 SECRET_COLLECTION_NONE, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (collection);
  objects = g_list_append (objects, collection);
  g_assert_cmpint (secret_service_lock_sync (service, objects, NULL, NULL, &error), ==, 1);
  g_assert_no_error (error);
  g_list_free (objects);

  /* The lookup asks to unlock; with no display the prompt cannot be shown
   * and must fail fast, not wait for a person. */
  start = g_get_monotonic_time ();
  password = lookup (account, &error);
  g_test_message ("locked lookup answered in %.1f s: %s",
                  (g_get_monotonic_time () - start) / 1e6, error ? error->message : "(no error)");
  g_assert_null (password);
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_KEYRING_LOCKED);
  g_assert_cmpstr (pb_error_kind (error), ==, "keyring");
  g_assert_nonnull (strstr (error->message, "locked"));
  g_clear_error (&error);

  /* Removing it cannot either, and says so: "nothing to remove" would
   * leave the password in the keyring for ever behind a removed account. */
  g_assert_false (clear ("locked", &error));
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_KEYRING_LOCKED);
  g_assert_cmpuint (count_items (service, "locked"), ==, 1);
}

static void
test_no_keyring (void)
{
  g_autoptr(PbAccount) account = make_account ("work", "alice");
  g_autoptr(GError) lookup_error = NULL;
  g_autoptr(GError) store_error = NULL;
  g_autoptr(GError) clear_error = NULL;

  if (!require_mode ("none"))
    return;

  g_assert_null (lookup (account, &lookup_error));
  g_assert_error (lookup_error, PB_CORE_ERROR, PB_CORE_ERROR_KEYRING);
  g_test_message ("%s", lookup_error->message);
  g_assert_true (g_str_has_prefix (lookup_error->message, "No keyring is running"));

  g_assert_false (store (account, "secret", &store_error));
  g_assert_error (store_error, PB_CORE_ERROR, PB_CORE_ERROR_KEYRING);
  g_assert_true (g_str_has_prefix (store_error->message, "No keyring is running"));
  /* Never a password in an error. */
  g_assert_null (strstr (store_error->message, "secret"));

  g_assert_false (clear ("work", &clear_error));
  g_assert_error (clear_error, PB_CORE_ERROR, PB_CORE_ERROR_KEYRING);
}

static void
test_cancelled_stays_cancelled (void)
{
  g_autoptr(PbAccount) account = make_account ("work", "alice");
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  if (*keyring_mode () == '\0')
    {
      g_test_skip ("not run under tests/tools/with-keyring.sh");
      return;
    }

  g_cancellable_cancel (cancellable);
  pb_secrets_lookup_async (account, cancellable, got_result, &result);
  g_assert_null (pb_secrets_lookup_finish (wait_for (&result), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int argc, char **argv)
{
  /* The keyring talks to the bus of the wrapper; pb_test_init's isolated
   * HOME does not move the daemon, which is what we want. */
  pb_test_init (&argc, &argv);

  g_test_add_func ("/secrets/round-trip", test_round_trip);
  g_test_add_func ("/secrets/missing-item", test_missing_item);
  g_test_add_func ("/secrets/clear-missing-is-fine", test_clear_missing_is_fine);
  g_test_add_func ("/secrets/accounts-are-separate", test_accounts_are_separate);
  g_test_add_func ("/secrets/cancelled-stays-cancelled", test_cancelled_stays_cancelled);
  g_test_add_func ("/secrets/many-at-once", test_many_at_once);
  g_test_add_func ("/secrets/cancel-one-of-many", test_cancel_one_of_many);
  g_test_add_func ("/secrets/no-keyring", test_no_keyring);
  g_test_add_func ("/secrets/locked", test_locked);
  return g_test_run ();
}

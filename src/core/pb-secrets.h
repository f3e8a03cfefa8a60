/* pb-secrets.h: account passwords in the desktop keyring (libsecret).
 *
 * Schema io.github.popbiff.Password with attributes account, user, host.
 * Async only. Each failure is its own PbCoreError with a message that says
 * what to do:
 *   PB_CORE_ERROR_KEYRING        "No keyring is running…" (no Secret Service)
 *   PB_CORE_ERROR_KEYRING_LOCKED "Your keyring is locked…" (or the unlock
 *                                prompt was dismissed)
 *   PB_CORE_ERROR_NO_PASSWORD    "No password stored for account X; run
 *                                popbiff accounts edit X --password-stdin"
 * Never a fallback to a file; a password never reaches a log. */
#pragma once

#include <gio/gio.h>

#include "pb-account.h"

G_BEGIN_DECLS

void     pb_secrets_lookup_async  (PbAccount *account, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);
/* Returns the password, allocated with secret_password_free-able memory:
 * free it with pb_secrets_free(). */
char    *pb_secrets_lookup_finish (GAsyncResult *result, GError **error);

void     pb_secrets_store_async   (PbAccount *account, const char *password,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);
gboolean pb_secrets_store_finish  (GAsyncResult *result, GError **error);

/* Removing a missing item is not an error. An item the keyring keeps
 * locked (the unlock prompt dismissed, or none can be shown) is
 * PB_CORE_ERROR_KEYRING_LOCKED, and then nothing is removed. */
void     pb_secrets_clear_async   (const char *account_name, GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);
gboolean pb_secrets_clear_finish  (GAsyncResult *result, GError **error);

/* Wipes and frees a password. */
void     pb_secrets_free          (char *password);

G_END_DECLS

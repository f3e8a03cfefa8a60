/* pb-account.h: one POP3 account as the person configured it.
 *
 * Plain settings, no password (that lives in the keyring, pb-secrets.h) and
 * no per-message state (pb-state.h). Properties notify on change so the
 * applet can bind to them. */
#pragma once

#include <glib-object.h>

#include "pop3/pb-pop3-client.h"

G_BEGIN_DECLS

typedef enum {
  PB_DELIVERY_FORMAT_MAILDIR,
  PB_DELIVERY_FORMAT_EML,
} PbDeliveryFormat;

const char *pb_delivery_format_to_string   (PbDeliveryFormat format);
gboolean    pb_delivery_format_from_string (const char *str, PbDeliveryFormat *out);

#define PB_ACCOUNT_DEFAULT_INTERVAL 10  /* minutes */
/* The largest interval and timeout an account takes; every place that
 * accepts one (accounts add/edit, check --timeout, the editor) uses these. */
#define PB_ACCOUNT_INTERVAL_MAX     (7 * 24 * 60)  /* minutes: a week */
#define PB_ACCOUNT_TIMEOUT_MAX      3600           /* seconds: an hour */
#define PB_ACCOUNT_NAME_MAX 64

#define PB_TYPE_ACCOUNT (pb_account_get_type ())
G_DECLARE_FINAL_TYPE (PbAccount, pb_account, PB, ACCOUNT, GObject)

/* Defaults: port 995, security tls, auth auto, interval 10, format maildir,
 * folder $HOME/Mail/<name>, timeout 30, enabled. */
PbAccount        *pb_account_new                (const char *name);
PbAccount        *pb_account_copy               (PbAccount  *self);
/* Whether @a and @b hold the same settings (their names aside). Next to
 * pb_account_copy(), so that a new setting is added to both. */
gboolean          pb_account_same_settings      (PbAccount  *a,
                                                 PbAccount  *b);

const char       *pb_account_get_name           (PbAccount *self);
const char       *pb_account_get_host           (PbAccount *self);
void              pb_account_set_host           (PbAccount *self, const char *host);
guint16           pb_account_get_port           (PbAccount *self);
void              pb_account_set_port           (PbAccount *self, guint16 port);
PbPop3Security    pb_account_get_security       (PbAccount *self);
void              pb_account_set_security       (PbAccount *self, PbPop3Security security);
const char       *pb_account_get_user           (PbAccount *self);
void              pb_account_set_user           (PbAccount *self, const char *user);
PbPop3AuthMethod  pb_account_get_auth           (PbAccount *self);
void              pb_account_set_auth           (PbAccount *self, PbPop3AuthMethod auth);
guint             pb_account_get_interval       (PbAccount *self); /* minutes */
void              pb_account_set_interval       (PbAccount *self, guint minutes);
/* Never NULL: the configured folder or the default $HOME/Mail/<name>. */
const char       *pb_account_get_folder         (PbAccount *self);
void              pb_account_set_folder         (PbAccount *self, const char *folder); /* NULL: default */
PbDeliveryFormat  pb_account_get_format         (PbAccount *self);
void              pb_account_set_format         (PbAccount *self, PbDeliveryFormat format);
gboolean          pb_account_get_delete_after_download (PbAccount *self);
void              pb_account_set_delete_after_download (PbAccount *self, gboolean del);
const char       *pb_account_get_ca_file        (PbAccount *self); /* NULL if none */
void              pb_account_set_ca_file        (PbAccount *self, const char *path);
const char       *pb_account_get_pin_sha256     (PbAccount *self); /* NULL if none */
void              pb_account_set_pin_sha256     (PbAccount *self, const char *hex);
guint             pb_account_get_timeout        (PbAccount *self); /* seconds */
void              pb_account_set_timeout        (PbAccount *self, guint seconds);
gboolean          pb_account_get_enabled        (PbAccount *self);
void              pb_account_set_enabled        (PbAccount *self, gboolean enabled);

/* Checks every field; the error (PB_CORE_ERROR_CONFIG) names the account
 * and the field, in words a person understands. */
gboolean          pb_account_validate           (PbAccount *self, GError **error);
/* A name is safe if it is 1-64 characters of letters, digits, '.', '_',
 * '-', '@', '+', not starting with '.'; it becomes a file name part. */
gboolean          pb_account_name_is_valid      (const char *name);
/* TRUE if @host has a port or a URL in it ("pop.example.org:995",
 * "pop3s://pop.example.org", "[::1]"), which no resolver finds; an IP
 * address (IPv6 has colons) is not. */
gboolean          pb_account_host_has_port_or_url (const char *host);

/* A client configured from this account (host, port, security, timeout,
 * CA file, pin). */
PbPop3Client     *pb_account_create_client      (PbAccount *self);

G_END_DECLS

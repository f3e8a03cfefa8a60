/* pb-core-error.h: errors of the model and jobs, and the one mapping from
 * any error to the `kind` strings of the JSON contract (DESIGN.md). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PB_CORE_ERROR (pb_core_error_quark ())

typedef enum {
  PB_CORE_ERROR_CONFIG,          /* a bad account or command-line value */
  PB_CORE_ERROR_NOT_FOUND,       /* no such account */
  PB_CORE_ERROR_EXISTS,          /* an account of that name exists */
  PB_CORE_ERROR_KEYRING,         /* no Secret Service, or it failed */
  PB_CORE_ERROR_KEYRING_LOCKED,  /* the collection is locked / prompt dismissed */
  PB_CORE_ERROR_NO_PASSWORD,     /* no item stored for the account */
  PB_CORE_ERROR_DISK,            /* a file could not be written or read */
  PB_CORE_ERROR_STATE,           /* a state file is corrupt (it is set aside) */
  PB_CORE_ERROR_AUTH_DISABLED,   /* checking stopped after a rejected password */
} PbCoreError;

GQuark pb_core_error_quark (void);

/* The `kind` of an error as the JSON contract spells it: "network",
 * "timeout", "tls", "certificate", "auth", "locked", "login-delay",
 * "server", "protocol", "keyring", "config" or "disk". Never NULL. */
const char *pb_error_kind (const GError *error);

G_END_DECLS

#include <gio/gio.h>

#include "pb-core-error.h"
#include "pop3/pb-pop3-error.h"

G_DEFINE_QUARK (pb-core-error-quark, pb_core_error)

static const char *
pop3_kind (int code)
{
  switch ((PbPop3Error) code)
    {
    case PB_POP3_ERROR_NETWORK:
    case PB_POP3_ERROR_CLOSED:
      return "network";
    case PB_POP3_ERROR_TIMEOUT:
      return "timeout";
    case PB_POP3_ERROR_TLS:
    case PB_POP3_ERROR_STARTTLS_UNAVAILABLE:
      return "tls";
    case PB_POP3_ERROR_CERTIFICATE:
      return "certificate";
    case PB_POP3_ERROR_AUTH:
    case PB_POP3_ERROR_AUTH_UNAVAILABLE:
    case PB_POP3_ERROR_INVALID_CREDENTIALS:
      return "auth";
    case PB_POP3_ERROR_IN_USE:
      return "locked";
    case PB_POP3_ERROR_LOGIN_DELAY:
      return "login-delay";
    case PB_POP3_ERROR_SYS_TEMP:
    case PB_POP3_ERROR_SYS_PERM:
    case PB_POP3_ERROR_SERVER:
    case PB_POP3_ERROR_UNSUPPORTED:
      return "server";
    case PB_POP3_ERROR_PROTOCOL:
    case PB_POP3_ERROR_TOO_LARGE:
      return "protocol";
    }
  return "protocol";
}

static const char *
core_kind (int code)
{
  switch ((PbCoreError) code)
    {
    case PB_CORE_ERROR_CONFIG:
    case PB_CORE_ERROR_NOT_FOUND:
    case PB_CORE_ERROR_EXISTS:
      return "config";
    case PB_CORE_ERROR_KEYRING:
    case PB_CORE_ERROR_KEYRING_LOCKED:
    case PB_CORE_ERROR_NO_PASSWORD:
      return "keyring";
    case PB_CORE_ERROR_DISK:
    case PB_CORE_ERROR_STATE:
      return "disk";
    case PB_CORE_ERROR_AUTH_DISABLED:
      return "auth";
    }
  return "config";
}

const char *
pb_error_kind (const GError *error)
{
  g_return_val_if_fail (error != NULL, "protocol");

  if (error->domain == PB_POP3_ERROR)
    return pop3_kind (error->code);
  if (error->domain == PB_CORE_ERROR)
    return core_kind (error->code);
  if (error->domain == G_TLS_ERROR)
    return error->code == G_TLS_ERROR_BAD_CERTIFICATE ? "certificate" : "tls";
  if (error->domain == G_IO_ERROR)
    {
      switch (error->code)
        {
        case G_IO_ERROR_TIMED_OUT:
          return "timeout";
        case G_IO_ERROR_NO_SPACE:
        case G_IO_ERROR_PERMISSION_DENIED:
        case G_IO_ERROR_READ_ONLY:
        case G_IO_ERROR_NOT_FOUND:
        case G_IO_ERROR_NOT_DIRECTORY:
        case G_IO_ERROR_IS_DIRECTORY:
        case G_IO_ERROR_EXISTS:
          return "disk";
        default:
          return "network";
        }
    }
  if (error->domain == G_FILE_ERROR || error->domain == G_KEY_FILE_ERROR)
    return "disk";
  if (error->domain == G_RESOLVER_ERROR)
    return "network";
  return "protocol";
}

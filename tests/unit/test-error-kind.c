/* The JSON contract's error kinds (DESIGN.md) for each error the layers
 * raise. */
#include <gio/gio.h>

#include "core/pb-core-error.h"
#include "pop3/pb-pop3-error.h"
#include "pb-test-util.h"

static void
test_pop3_kinds (void)
{
  static const struct { int code; const char *kind; } cases[] = {
    { PB_POP3_ERROR_NETWORK, "network" },
    { PB_POP3_ERROR_TIMEOUT, "timeout" },
    { PB_POP3_ERROR_TLS, "tls" },
    { PB_POP3_ERROR_STARTTLS_UNAVAILABLE, "tls" },
    { PB_POP3_ERROR_CERTIFICATE, "certificate" },
    { PB_POP3_ERROR_AUTH, "auth" },
    { PB_POP3_ERROR_INVALID_CREDENTIALS, "auth" },
    { PB_POP3_ERROR_IN_USE, "locked" },
    { PB_POP3_ERROR_LOGIN_DELAY, "login-delay" },
    { PB_POP3_ERROR_SYS_TEMP, "server" },
    { PB_POP3_ERROR_SERVER, "server" },
    { PB_POP3_ERROR_PROTOCOL, "protocol" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = g_error_new_literal (PB_POP3_ERROR, cases[i].code, "x");
      g_assert_cmpstr (pb_error_kind (error), ==, cases[i].kind);
    }
}

static void
test_core_kinds (void)
{
  g_autoptr(GError) keyring = g_error_new_literal (PB_CORE_ERROR, PB_CORE_ERROR_KEYRING_LOCKED, "x");
  g_autoptr(GError) config = g_error_new_literal (PB_CORE_ERROR, PB_CORE_ERROR_CONFIG, "x");
  g_autoptr(GError) disk = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NO_SPACE, "x");
  g_autoptr(GError) timeout = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "x");

  g_assert_cmpstr (pb_error_kind (keyring), ==, "keyring");
  g_assert_cmpstr (pb_error_kind (config), ==, "config");
  g_assert_cmpstr (pb_error_kind (disk), ==, "disk");
  g_assert_cmpstr (pb_error_kind (timeout), ==, "timeout");
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);
  g_test_add_func ("/core/error/pop3-kinds", test_pop3_kinds);
  g_test_add_func ("/core/error/core-kinds", test_core_kinds);
  return g_test_run ();
}

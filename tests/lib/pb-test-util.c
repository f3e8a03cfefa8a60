#include <gio/gio.h>

#include "pb-test-util.h"

void
pb_test_init (int    *argc,
              char ***argv)
{
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);
  g_setenv ("GIO_USE_VFS", "local", TRUE);
  g_test_init (argc, argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
}

char *
pb_test_require_program (const char *program)
{
  g_autofree char *path = g_find_program_in_path (program);
  g_autofree char *reason = NULL;

  if (path != NULL)
    return g_steal_pointer (&path);

  reason = g_strdup_printf ("“%s” is not installed (run tools/install-deps.sh)", program);
  if (g_getenv ("PB_TEST_REQUIRE_ALL") != NULL)
    g_test_fail_printf ("%s", reason);
  else
    g_test_skip (reason);
  return NULL;
}

const char *
pb_test_srcdir (void)
{
  const char *dir = g_getenv ("PB_TEST_SRCDIR");

  g_assert_nonnull (dir);
  return dir;
}

const char *
pb_test_popbiff (void)
{
  const char *path = g_getenv ("POPBIFF");

  g_assert_nonnull (path);
  return path;
}

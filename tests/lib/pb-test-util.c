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

void
pb_test_run_clear (PbTestRun *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

static void
on_communicated (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

void
pb_test_run_popbiffv (PbTestRun          *run,
                      const char         *input,
                      const char * const *args)
{
  pb_test_run_popbiff_in_locale (run, "C.UTF-8", input, args);
}

void
pb_test_run_popbiff_in_locale (PbTestRun          *run,
                               const char         *locale,
                               const char         *input,
                               const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher =
    g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_autoptr(GError) error = NULL;

  g_subprocess_launcher_setenv (launcher, "HOME", g_get_home_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", g_get_user_config_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_STATE_HOME", g_get_user_state_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", g_get_user_data_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CACHE_HOME", g_get_user_cache_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", locale, TRUE);

  g_ptr_array_add (argv, (gpointer) pb_test_popbiff ());
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  /* The main context runs meanwhile: a fake server in this process
   * accepts on it. */
  g_subprocess_communicate_utf8_async (process, input, NULL, on_communicated, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_subprocess_communicate_utf8_finish (process, result, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  run->status = g_subprocess_get_exit_status (process);
  g_test_message ("exit %d\nstdout: %s\nstderr: %s", run->status, run->out, run->err);
}

void
pb_test_run_popbiff (PbTestRun  *run,
                     const char *input,
                     ...)
{
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  const char *arg;
  va_list ap;

  va_start (ap, input);
  while ((arg = va_arg (ap, const char *)) != NULL)
    g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  pb_test_run_popbiffv (run, input, (const char * const *) args->pdata);
}

guint16
pb_test_listen_silently (GSocketListener *listener)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (g_socket_listener_add_address (listener, address, G_SOCKET_TYPE_STREAM,
                                                G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error));
  g_assert_no_error (error);
  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

guint16
pb_test_closed_port (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  guint16 port = pb_test_listen_silently (listener);

  g_socket_listener_close (listener);
  return port;
}

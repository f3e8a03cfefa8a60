/* main.c: popbiff. A known subcommand goes to the headless CLI (no display,
 * no GTK loaded); anything else execs popbiff-applet with the same
 * arguments. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "pb-i18n.h"
#include "cli/pb-cli.h"

#ifdef PB_HAVE_GUI
#define APPLET_NAME "popbiff-applet"

/* The applet next to this binary (the build tree), else the installed one. */
static char *
find_applet (void)
{
  g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);

  if (self != NULL)
    {
      g_autofree char *dir = g_path_get_dirname (self);
      g_autofree char *beside = g_build_filename (dir, APPLET_NAME, NULL);

      if (g_file_test (beside, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer (&beside);
    }
  return g_build_filename (PB_LIBEXECDIR, APPLET_NAME, NULL);
}
#endif

static int
run_applet (char **argv)
{
#ifdef PB_HAVE_GUI
  g_autofree char *applet = find_applet ();

  /* GLib 2.74's slice allocator (GObjects, lists) keeps freed slabs for
   * good, so the idle applet would keep its busiest moment's memory; plain
   * malloc can give it back (the applet trims after each check). Read once
   * at GLib's start, so it is set here; newer GLib ignores it. */
  g_setenv ("G_SLICE", "always-malloc", FALSE);
  /* argv[0] stays "popbiff": GApplication names the program after it. */
  execv (applet, argv);
  g_printerr (_("popbiff: cannot start the applet %s: %s\n"), applet, g_strerror (errno));
  return 2;
#else
  g_printerr (_("popbiff: built without the applet; see popbiff --help\n"));
  return 2;
#endif
}

int
main (int    argc,
      char **argv)
{
  pb_i18n_init ();

  if (argc > 1)
    {
      if (pb_cli_has_command (argv[1]))
        return pb_cli_run (argc - 1, argv + 1);
      if (g_str_equal (argv[1], "--version"))
        {
          g_print ("popbiff %s\n", PACKAGE_VERSION);
          return 0;
        }
      if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h"))
        {
          pb_cli_print_usage ();
          return 0;
        }
      /* The applet takes options only: a word is a mistyped command, not
       * something to start the applet with (it would fail for want of a
       * display, or say it cannot open files). */
      if (argv[1][0] != '-')
        {
          g_printerr (_("popbiff: unknown command “%s”; run “popbiff --help” for the commands\n"),
                      argv[1]);
          return 2;
        }
    }

  return run_applet (argv);
}

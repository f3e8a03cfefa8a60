/* main.c: a known subcommand goes to the headless CLI (no display needed),
 * anything else starts the applet. */
#include <locale.h>
#include <glib/gi18n.h>

#include "cli/pb-cli.h"
#ifdef PB_HAVE_GUI
#include "app/pb-app.h"
#endif

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

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
    }

#ifdef PB_HAVE_GUI
  return pb_app_run (argc, argv);
#else
  if (argc > 1)
    {
      g_printerr (_("popbiff: unknown command “%s”\n"), argv[1]);
      pb_cli_print_usage ();
      return 2;
    }
  g_printerr (_("popbiff: built without the applet; see popbiff --help\n"));
  return 2;
#endif
}

/* applet-main.c: popbiff-applet, the GTK half of Popbiff. `popbiff` execs
 * it for anything that is not a headless command, so the headless commands
 * never load GTK (it costs them ~13 MiB of resident memory and start-up
 * time). */
#include "pb-i18n.h"
#include "app/pb-app.h"

int
main (int    argc,
      char **argv)
{
  pb_i18n_init ();
  return pb_app_run (argc, argv);
}

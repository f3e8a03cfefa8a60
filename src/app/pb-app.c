/* pb-app.c: the applet's entry point for main.c. */
#include "pb-app.h"
#include "pb-application.h"

int
pb_app_run (int    argc,
            char **argv)
{
  return pb_application_run_main (argc, argv);
}

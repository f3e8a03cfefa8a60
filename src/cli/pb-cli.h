/* pb-cli.h: the headless commands (DESIGN.md, "Command line").
 *
 * Each command lives in its own pb-cli-<name>.c and has the signature of
 * PbCliCommandFunc: argv[0] is the command name; the return value is the
 * exit status (0 ok, 1 an account or message failed, 2 a wrong command line
 * or configuration). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef int (*PbCliCommandFunc) (int argc, char **argv);

gboolean pb_cli_has_command (const char *name);
int      pb_cli_run         (int argc, char **argv);
void     pb_cli_print_usage (void);

G_END_DECLS

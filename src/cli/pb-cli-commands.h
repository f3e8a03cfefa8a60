/* pb-cli-commands.h: one entry point per command, each in pb-cli-<name>.c. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

int pb_cli_accounts (int argc, char **argv);
int pb_cli_check    (int argc, char **argv);
int pb_cli_list     (int argc, char **argv);
int pb_cli_fetch    (int argc, char **argv);
int pb_cli_dismiss  (int argc, char **argv);
int pb_cli_probe    (int argc, char **argv);

G_END_DECLS

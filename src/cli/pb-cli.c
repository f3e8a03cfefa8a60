#include <glib/gi18n.h>

#include "pb-cli.h"
#include "pb-cli-commands.h"

typedef struct {
  const char       *name;
  PbCliCommandFunc  func;
} PbCliCommand;

/* Commands are added here as they are built. */
static const PbCliCommand commands[] = {
  { "probe", pb_cli_probe },
  { "accounts", pb_cli_accounts },
  { "fetch", pb_cli_fetch },
  { "check", pb_cli_check },
  { "list", pb_cli_list },
  { "dismiss", pb_cli_dismiss },
  { NULL, NULL },
};

static const PbCliCommand *
find_command (const char *name)
{
  for (guint i = 0; commands[i].name != NULL; i++)
    if (g_str_equal (commands[i].name, name))
      return &commands[i];
  return NULL;
}

gboolean
pb_cli_has_command (const char *name)
{
  g_return_val_if_fail (name != NULL, FALSE);
  return find_command (name) != NULL;
}

int
pb_cli_run (int    argc,
            char **argv)
{
  const PbCliCommand *command;
  g_autofree char *prgname = NULL;

  g_return_val_if_fail (argc >= 1, 2);

  command = find_command (argv[0]);
  g_return_val_if_fail (command != NULL, 2);

  /* --help's usage line starts with the program name: make it the whole
   * command a person types. */
  prgname = g_strdup_printf ("popbiff %s", argv[0]);
  g_set_prgname (prgname);
  return command->func (argc, argv);
}

void
pb_cli_print_usage (void)
{
  g_print ("%s", _("Usage:\n"
    "  popbiff [--background] [--demo]          the applet (tray + window)\n"
    "  popbiff accounts add|edit|list|remove …  manage accounts\n"
    "  popbiff check [NAME…] [--json]           check accounts for new mail\n"
    "  popbiff list NAME [--all] [--json]       list new messages\n"
    "  popbiff fetch NAME [--all | UIDL…]       download messages\n"
    "  popbiff dismiss NAME [--all | UIDL…]     mark messages as read\n"
    "  popbiff probe HOST [options]             test a server\n"
    "  popbiff --version | --help\n"
    "\n"
    "Run “popbiff COMMAND --help” for a command’s options; see popbiff(1).\n"));
}

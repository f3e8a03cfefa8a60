/* popbiff dismiss NAME [--all | UIDL...]
 *
 * Marks messages as read without downloading them: they stop counting as
 * new (DESIGN.md). Only the state changes; no network. A UIDL the state does
 * not know (never checked, or gone from the server) is reported and the
 * exit status is 1; the others are still dismissed. --all before any
 * check, or a state file that cannot be read, changes nothing: the error,
 * and exit status 1. */
#include <glib/gi18n.h>

#include "core/pb-state.h"
#include "pb-cli-commands.h"
#include "pb-cli-util.h"

int
pb_cli_dismiss (int    argc,
                char **argv)
{
  gboolean all = FALSE;
  g_auto(GStrv) args = NULL;
  const GOptionEntry entries[] = {
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, N_("Dismiss every new message"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args, NULL, N_("NAME [UIDL…]") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(PbAccountStore) store = NULL;
  g_autoptr(PbState) state = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;
  PbAccount *account;
  guint dismissed = 0;
  int exit_code = PB_EXIT_OK;

  g_option_context_set_summary (context,
    _("Marks new messages as read without downloading them. The UIDLs are those\n"
      "“popbiff list NAME” shows."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!pb_cli_parse_options (context, "dismiss", &argc, &argv))
    return PB_EXIT_USAGE;
  if (args == NULL || args[0] == NULL)
    return pb_cli_usage_error ("dismiss", _("Name the account whose messages to dismiss."));
  name = args[0];
  if (all && args[1] != NULL)
    return pb_cli_usage_error ("dismiss", _("Give either --all or UIDLs, not both."));
  if (!all && args[1] == NULL)
    return pb_cli_usage_error ("dismiss", _("Give the UIDLs of the messages to dismiss, or --all."));
  if (!pb_cli_check_uidls ("dismiss", args + 1))
    return PB_EXIT_USAGE;

  store = pb_cli_load_store (&exit_code);
  if (store == NULL)
    return exit_code;
  account = pb_cli_find_account (store, name, &exit_code);
  if (account == NULL)
    return exit_code;

  state = pb_state_new (pb_account_get_name (account), NULL);
  if (!pb_state_load (state, &error))
    {
      /* A corrupt state was set aside: there is nothing to dismiss in it.
       * One that could not be read holds what we would dismiss. */
      pb_cli_print_error (error);
      if (pb_state_get_read_error (state) != NULL)
        return PB_EXIT_FAILED;
      g_clear_error (&error);
    }

  /* Every check leaves a state file. Without one, Popbiff knows no message
   * of the account yet: "0 new left" would be contradicted by the first
   * check, which reports every message as new. */
  if (all && !g_file_test (pb_state_get_path (state), G_FILE_TEST_EXISTS))
    {
      pb_cli_printerr (_("Popbiff knows no messages of account %s yet; run “popbiff check %s” "
                         "first, then dismiss them."), name, name);
      return PB_EXIT_FAILED;
    }

  if (all)
    {
      g_autoptr(GPtrArray) records = pb_state_list (state);

      for (guint i = 0; i < records->len; i++)
        {
          PbMessageRecord *record = g_ptr_array_index (records, i);

          if (pb_message_record_is_new (record))
            {
              record->flags |= PB_MESSAGE_DISMISSED;
              dismissed++;
            }
        }
    }
  else
    {
      for (guint i = 1; args[i] != NULL; i++)
        {
          PbMessageRecord *record = pb_state_lookup (state, args[i]);

          if (record == NULL)
            {
              pb_cli_printerr (_("Account %s has no message with UIDL “%s”; "
                                 "“popbiff list %s --all” shows the UIDLs."),
                               name, args[i], name);
              exit_code = PB_EXIT_FAILED;
              continue;
            }
          if (pb_message_record_is_new (record))
            {
              record->flags |= PB_MESSAGE_DISMISSED;
              dismissed++;
            }
        }
    }

  if (dismissed > 0 && !pb_state_save (state, &error))
    {
      pb_cli_print_error (error);
      return PB_EXIT_FAILED;
    }

  g_print (g_dngettext (GETTEXT_PACKAGE, "Dismissed %u message in %s; %u new left.\n",
                        "Dismissed %u messages in %s; %u new left.\n", dismissed),
           dismissed, name, pb_state_count_new (state));
  return exit_code;
}

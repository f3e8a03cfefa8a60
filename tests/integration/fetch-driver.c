/* fetch-driver: runs one PbFetch job from the command line, the way
 * `popbiff fetch` does, but with the account given as options and the
 * password read from standard input instead of the keyring, so the crash
 * tests and the benchmarks can run the real job in a process they can
 * kill (PB_FETCH_TEST_KILL_AT, see pb-fetch.c).
 *
 *   fetch-driver --host H --port P [--security tls|starttls|none]
 *                [--ca-file PEM] --user U --state FILE --folder DIR
 *                [--format maildir|eml] [--delete] [--all] [UIDL...]
 *                < password
 *
 * Exit status: 0 all fetched, 1 something failed (printed), 2 bad usage.
 */
#include <stdio.h>

#include "core/pb-account.h"
#include "core/pb-fetch.h"
#include "core/pb-state.h"

typedef struct {
  GMainLoop *loop;
  GError    *error;
} Wait;

static void
on_done (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Wait *wait = user_data;

  pb_fetch_run_finish (PB_FETCH (source), result, &wait->error);
  g_main_loop_quit (wait->loop);
}

int
main (int argc, char **argv)
{
  g_autofree char *host = NULL;
  g_autofree char *security = NULL;
  g_autofree char *ca_file = NULL;
  g_autofree char *user = NULL;
  g_autofree char *state_path = NULL;
  g_autofree char *folder = NULL;
  g_autofree char *format = NULL;
  g_auto(GStrv) uidls = NULL;
  int port = 0;
  gboolean delete_after = FALSE;
  gboolean all = FALSE;
  const GOptionEntry entries[] = {
    { "host", 0, 0, G_OPTION_ARG_STRING, &host, "Server", "HOST" },
    { "port", 0, 0, G_OPTION_ARG_INT, &port, "Port", "N" },
    { "security", 0, 0, G_OPTION_ARG_STRING, &security, "tls, starttls or none", "S" },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file, "CA certificates", "PEM" },
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "User", "U" },
    { "state", 0, 0, G_OPTION_ARG_FILENAME, &state_path, "State file", "FILE" },
    { "folder", 0, 0, G_OPTION_ARG_FILENAME, &folder, "Destination", "DIR" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format, "maildir or eml", "F" },
    { "delete", 0, 0, G_OPTION_ARG_NONE, &delete_after, "DELE what was fetched", NULL },
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, "Everything not downloaded", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &uidls, NULL, "[UIDL…]" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- run one fetch job");
  g_autoptr(GError) error = NULL;
  g_autoptr(PbAccount) account = NULL;
  g_autoptr(PbState) state = NULL;
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  PbPop3Security sec = PB_POP3_SECURITY_TLS;
  PbDeliveryFormat fmt = PB_DELIVERY_FORMAT_MAILDIR;
  char password[256];
  GPtrArray *results;
  guint fetched = 0;
  Wait wait = { NULL, NULL };
  int status = 0;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error) ||
      host == NULL || user == NULL || state_path == NULL || folder == NULL || port <= 0 ||
      (security != NULL && !pb_pop3_security_from_string (security, &sec)) ||
      (format != NULL && !pb_delivery_format_from_string (format, &fmt)))
    {
      g_printerr ("fetch-driver: %s\n", error != NULL ? error->message : "bad options (see --help)");
      return 2;
    }
  if (fgets (password, sizeof password, stdin) == NULL)
    {
      g_printerr ("fetch-driver: no password on standard input\n");
      return 2;
    }
  password[strcspn (password, "\r\n")] = '\0';

  account = pb_account_new ("driver");
  pb_account_set_host (account, host);
  pb_account_set_port (account, (guint16) port);
  pb_account_set_security (account, sec);
  pb_account_set_user (account, user);
  if (ca_file != NULL)
    pb_account_set_ca_file (account, ca_file);

  state = pb_state_new ("driver", state_path);
  if (!pb_state_load (state, &error))
    {
      g_printerr ("fetch-driver: %s\n", error->message);
      g_clear_error (&error);
    }

  fetch = pb_fetch_new (account, state);
  pb_fetch_set_password (fetch, password);
  pb_fetch_set_folder (fetch, folder);
  pb_fetch_set_format (fetch, fmt);
  pb_fetch_set_delete (fetch, delete_after);
  if (uidls != NULL && uidls[0] != NULL)
    pb_fetch_set_selection (fetch, PB_FETCH_SELECT_UIDLS, (const char * const *) uidls);
  else if (all)
    pb_fetch_set_selection (fetch, PB_FETCH_SELECT_ALL, NULL);

  loop = g_main_loop_new (NULL, FALSE);
  wait.loop = loop;
  pb_fetch_run_async (fetch, NULL, on_done, &wait);
  g_main_loop_run (loop);

  if (wait.error != NULL)
    {
      g_printerr ("fetch-driver: %s\n", wait.error->message);
      g_clear_error (&wait.error);
      status = 1;
    }
  results = pb_fetch_get_results (fetch);
  for (guint i = 0; i < results->len; i++)
    {
      PbFetchResult *result = g_ptr_array_index (results, i);

      if (result->error != NULL)
        {
          g_printerr ("fetch-driver: %s: %s\n", result->uidl, result->error->message);
          status = 1;
        }
      /* Only deleted now, downloaded by the killed run: not fetched. */
      if (!result->earlier)
        fetched++;
    }
  g_print ("%u\n", fetched);
  return status;
}

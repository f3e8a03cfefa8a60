/* pb-cli-fetch.c: `popbiff fetch NAME [--all | UIDL...] [--delete]
 * [--folder DIR] [--format maildir|eml] [--json]` (DESIGN.md).
 *
 * Without a selection it fetches the new messages. On a terminal a one-line
 * progress bar is redrawn on stderr; with --json stdout carries only the
 * contract's array [{"uidl","ok","path","error"}]. Ctrl-C cancels cleanly:
 * no partial file stays, and what was complete is kept and recorded.
 * Exit status: 0 all fetched, 1 a message or the account failed (or its
 * state file cannot be read: then nothing is fetched), 2 the command line
 * or the configuration is wrong. */
#include <glib/gi18n.h>
#include <glib-unix.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <unistd.h>

#include "core/pb-account-store.h"
#include "core/pb-core-error.h"
#include "core/pb-fetch.h"
#include "core/pb-state.h"
#include "pb-cli-commands.h"
#include "pb-cli-util.h"

#define REDRAW_INTERVAL_US (G_USEC_PER_SEC / 8)

typedef struct {
  GMainLoop    *loop;
  GCancellable *cancellable;
  GError       *error;
  gboolean      show_progress;
  gint64        last_redraw;
  gboolean      drew;
} FetchRun;

static void
clear_progress_line (FetchRun *run)
{
  if (run->drew)
    g_printerr ("\r\033[K");
  run->drew = FALSE;
}

static void
on_progress (PbFetch  *fetch,
             guint     done,
             guint     total,
             guint64   bytes_done,
             guint64   bytes_total,
             gdouble   rate,
             gpointer  user_data)
{
  FetchRun *run = user_data;
  gint64 now = g_get_monotonic_time ();
  g_autofree char *have = NULL;
  g_autofree char *all = NULL;
  g_autofree char *speed = NULL;
  char bar[21];
  guint filled;

  if (!run->show_progress || total == 0)
    return;
  if (done < total && now - run->last_redraw < REDRAW_INTERVAL_US)
    return;
  run->last_redraw = now;

  filled = bytes_total > 0 ? (guint) (20 * bytes_done / bytes_total) : 20 * done / total;
  for (guint i = 0; i < 20; i++)
    bar[i] = i < filled ? '#' : '-';
  bar[20] = '\0';

  have = g_format_size (bytes_done);
  all = g_format_size (bytes_total);
  speed = g_format_size ((guint64) rate);
  /* TRANSLATORS: a progress line: [bar] messages done/total, bytes, speed */
  g_printerr (_("\r\033[K[%s] %u/%u messages, %s of %s, %s/s"),
              bar, done, total, have, all, speed);
  run->drew = TRUE;
}

static void
on_fetched (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  FetchRun *run = user_data;

  pb_fetch_run_finish (PB_FETCH (source), result, &run->error);
  g_main_loop_quit (run->loop);
}

static gboolean
on_interrupt (gpointer user_data)
{
  FetchRun *run = user_data;

  /* Stop cleanly: the job removes partial files and records what is done. */
  g_cancellable_cancel (run->cancellable);
  return G_SOURCE_CONTINUE;
}

static void
add_error_member (JsonBuilder  *builder,
                  const GError *error)
{
  json_builder_set_member_name (builder, "error");
  if (error == NULL)
    {
      json_builder_add_null_value (builder);
      return;
    }
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "kind");
  json_builder_add_string_value (builder, pb_error_kind (error));
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, error->message);
  json_builder_end_object (builder);
}

static void
add_result_object (JsonBuilder  *builder,
                   const char   *uidl,
                   const char   *path,
                   const GError *error)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "uidl");
  if (uidl != NULL)
    json_builder_add_string_value (builder, uidl);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "ok");
  json_builder_add_boolean_value (builder, error == NULL);
  /* A message on disk whose deletion failed is not "ok", but it is
   * downloaded and recorded (a later fetch skips it): the script must
   * learn where it went. */
  json_builder_set_member_name (builder, "path");
  if (path != NULL)
    json_builder_add_string_value (builder, path);
  else
    json_builder_add_null_value (builder);
  add_error_member (builder, error);
  json_builder_end_object (builder);
}

/* The contract's array. A failure of the whole job that no message carries
 * (the server was never listed) is one element with "uidl": null, so a
 * script always sees why. */
static void
print_json (GPtrArray    *results,
            const GError *job_error)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_array (builder);
  for (guint i = 0; i < results->len; i++)
    {
      PbFetchResult *result = g_ptr_array_index (results, i);

      add_result_object (builder, result->uidl, result->path, result->error);
    }
  if (results->len == 0 && job_error != NULL)
    add_result_object (builder, NULL, NULL, job_error);
  json_builder_end_array (builder);

  root = json_builder_get_root (builder);
  pb_cli_print_json (root);
}

static void
print_text (PbFetch      *fetch,
            GPtrArray    *results,
            const GError *job_error)
{
  PbAccount *account = pb_fetch_get_account (fetch);
  guint saved = 0, selected = 0, cleaned = 0, stopped = 0, kept = 0;

  /* Counted: what is on disk, also when deleting it from the server
   * failed (its line says so); apart, what an earlier run downloaded and
   * this one deleted. */
  for (guint i = 0; i < results->len; i++)
    {
      PbFetchResult *result = g_ptr_array_index (results, i);

      if (result->earlier)
        cleaned += result->error == NULL;
      else
        {
          selected++;
          saved += result->path != NULL;
        }
      if (result->error == NULL)
        continue;
      /* The messages a stopped run (Ctrl-C, a lost connection) never got
       * to, or got but could not delete then, fail with the run's own
       * error: one line for each kind below, not one per message, which
       * is thousands in a big mailbox. */
      if (job_error != NULL &&
          result->error->domain == job_error->domain && result->error->code == job_error->code)
        {
          if (result->path == NULL)
            stopped++;
          else
            kept++;
          continue;
        }
      /* Some reasons already begin with "Not downloaded:" (they are
       * written to stand alone in the applet's list): not twice. */
      if (result->path != NULL || g_str_has_prefix (result->error->message, _("Not downloaded: ")))
        g_printerr (_("%s: %s\n"), result->uidl, result->error->message);
      else
        g_printerr (_("%s: not downloaded: %s\n"), result->uidl, result->error->message);
    }

  if (job_error != NULL && !g_error_matches (job_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    pb_cli_printerr (_("account “%s”: %s"), pb_account_get_name (account), job_error->message);
  else if (job_error != NULL)
    pb_cli_print_error (job_error);
  if (kept > 0)
    pb_cli_printerr (g_dngettext (NULL,
                                  "%u message was downloaded but not deleted from the server: "
                                  "the run stopped before deleting it.",
                                  "%u messages were downloaded but not deleted from the server: "
                                  "the run stopped before deleting them.",
                                  kept),
                     kept);
  if (stopped > 0)
    pb_cli_printerr (g_dngettext (NULL,
                                  "%u message was not downloaded; the same command fetches it later.",
                                  "%u messages were not downloaded; the same command fetches them later.",
                                  stopped),
                     stopped);

  if (selected == 0 && job_error == NULL)
    g_print (_("No new messages for “%s”.\n"), pb_account_get_name (account));
  else if (saved > 0)
    g_print (g_dngettext (NULL, "Downloaded %u of %u message into %s\n",
                          "Downloaded %u of %u messages into %s\n", selected),
             saved, selected, pb_fetch_get_folder (fetch));
  if (cleaned > 0)
    g_print (g_dngettext (NULL, "Deleted %u message downloaded before from the server\n",
                          "Deleted %u messages downloaded before from the server\n",
                          cleaned),
             cleaned);
}

int
pb_cli_fetch (int    argc,
              char **argv)
{
  gboolean all = FALSE;
  gboolean delete_after = FALSE;
  gboolean json = FALSE;
  g_autofree char *folder = NULL;
  g_autofree char *format_name = NULL;
  g_auto(GStrv) rest = NULL;
  const GOptionEntry entries[] = {
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, N_("Every message not downloaded yet, dismissed ones too"), NULL },
    { "delete", 0, 0, G_OPTION_ARG_NONE, &delete_after, N_("Delete the messages from the server once they are safely on disk"), NULL },
    { "folder", 0, 0, G_OPTION_ARG_FILENAME, &folder, N_("Save into DIR instead of the account’s folder"), N_("DIR") },
    { "format", 0, 0, G_OPTION_ARG_STRING, &format_name, N_("Save as a Maildir or as .eml files"), N_("maildir|eml") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the results as JSON"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &rest, NULL, N_("NAME [UIDL…]") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PbAccountStore) store = NULL;
  g_autoptr(PbState) state = NULL;
  g_autoptr(PbFetch) fetch = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GCancellable) cancellable = NULL;
  PbAccount *account;
  PbDeliveryFormat format = PB_DELIVERY_FORMAT_MAILDIR;
  GPtrArray *results;
  FetchRun run = { 0 };
  guint sigint_id, sigterm_id;
  int status = PB_EXIT_OK;

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
    _("Downloads messages; without --all or UIDLs, the new ones. They land in the\n"
      "account’s folder ($HOME/Mail/NAME by default) and are recorded so that they\n"
      "are never downloaded twice. Nothing is deleted from the server without\n"
      "--delete (or the account’s delete-after-download)."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!pb_cli_parse_options (context, "fetch", &argc, &argv))
    return PB_EXIT_USAGE;

  if (rest == NULL || rest[0] == NULL)
    return pb_cli_usage_error ("fetch", "%s", _("Which account? Give its name."));
  if (all && rest[1] != NULL)
    return pb_cli_usage_error ("fetch", "%s", _("Give either --all or UIDLs, not both."));
  if (!pb_cli_check_uidls ("fetch", rest + 1))
    return PB_EXIT_USAGE;
  if (format_name != NULL && !pb_delivery_format_from_string (format_name, &format))
    return pb_cli_usage_error ("fetch", "%s", _("--format must be “maildir” or “eml”."));
  if (folder != NULL && folder[0] == '\0')
    return pb_cli_usage_error ("fetch", "%s", _("--folder needs a folder."));

  store = pb_cli_load_store (&status);
  if (store == NULL)
    return status;
  account = pb_cli_find_account (store, rest[0], &status);
  if (account == NULL)
    return status;

  state = pb_state_new (pb_account_get_name (account), NULL);
  if (!pb_state_load (state, &error))
    {
      /* A corrupt state is set aside and the state starts empty: go on.
       * One that could not be read says what was downloaded already:
       * without it, everything would be downloaded again. */
      if (pb_state_get_read_error (state) != NULL)
        {
          g_autoptr(GPtrArray) none = g_ptr_array_new ();

          if (json)
            print_json (none, error);
          else
            pb_cli_print_error (error);
          return PB_EXIT_FAILED;
        }
      pb_cli_print_error (error);
      g_clear_error (&error);
    }

  fetch = pb_fetch_new (account, state);
  if (all)
    pb_fetch_set_selection (fetch, PB_FETCH_SELECT_ALL, NULL);
  else if (rest[1] != NULL)
    pb_fetch_set_selection (fetch, PB_FETCH_SELECT_UIDLS, (const char * const *) &rest[1]);
  if (folder != NULL)
    {
      /* As accounts add takes it: "~/Mail/x" from a script is not a
       * folder named "~" here. */
      g_autofree char *absolute = pb_cli_absolute_path (folder);

      pb_fetch_set_folder (fetch, absolute);
    }
  if (format_name != NULL)
    pb_fetch_set_format (fetch, format);
  if (delete_after)
    pb_fetch_set_delete (fetch, TRUE);

  loop = g_main_loop_new (NULL, FALSE);
  cancellable = g_cancellable_new ();
  run.loop = loop;
  run.cancellable = cancellable;
  run.show_progress = !json && isatty (STDERR_FILENO);
  g_signal_connect (fetch, "progress", G_CALLBACK (on_progress), &run);
  sigint_id = g_unix_signal_add (SIGINT, on_interrupt, &run);
  sigterm_id = g_unix_signal_add (SIGTERM, on_interrupt, &run);

  pb_fetch_run_async (fetch, cancellable, on_fetched, &run);
  g_main_loop_run (loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  clear_progress_line (&run);

  results = pb_fetch_get_results (fetch);
  if (json)
    print_json (results, run.error);
  else
    print_text (fetch, results, run.error);

  status = run.error != NULL ? PB_EXIT_FAILED : PB_EXIT_OK;
  for (guint i = 0; i < results->len; i++)
    if (((PbFetchResult *) g_ptr_array_index (results, i))->error != NULL)
      status = PB_EXIT_FAILED;

  g_clear_error (&run.error);
  return status;
}

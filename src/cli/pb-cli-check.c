/* popbiff check [NAME...] [--json] [--timeout SECONDS]
 *
 * Checks the named accounts (every enabled one by default) at the same
 * time, one session each, and prints one line per account, or with --json
 * the array of DESIGN.md. Exit 0 when every check worked, 1 when one
 * failed, 2 for a wrong command line or configuration. */
#include <string.h>

#include <glib/gi18n.h>

#include "core/pb-check.h"
#include "core/pb-core-error.h"
#include "pb-cli-commands.h"
#include "pb-cli-util.h"

typedef struct {
  char          *name;
  PbAccount     *account;     /* owned: a copy carrying the --timeout override;
                               * NULL for an account whose settings did not load */
  GError        *config_error;/* owned: why that account did not load */
  PbState       *state;       /* owned; the check loads it */
  PbCheckResult *result;      /* owned, NULL until done */
  guint         *pending;     /* checks still running, shared by all jobs */
} CheckJob;

static void
check_job_free (CheckJob *job)
{
  g_free (job->name);
  g_clear_object (&job->account);
  g_clear_error (&job->config_error);
  g_clear_object (&job->state);
  g_clear_object (&job->result);
  g_free (job);
}

/* An account whose group in accounts.conf has a bad value: not checked,
 * but it has its element in --json (kind "config"), so that a script
 * sees every account it has, not only the ones that loaded. */
static CheckJob *
check_job_new_broken (const char   *name,
                      const GError *load_error)
{
  CheckJob *job = g_new0 (CheckJob, 1);

  job->name = g_strdup (name);
  job->config_error = g_error_copy (load_error);
  return job;
}

static int
compare_jobs (gconstpointer a,
              gconstpointer b)
{
  const CheckJob *job_a = *(const CheckJob * const *) a;
  const CheckJob *job_b = *(const CheckJob * const *) b;

  return strcmp (job_a->name, job_b->name);
}

static void
on_check_done (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  CheckJob *job = user_data;

  job->result = pb_check_run_finish (result);
  (*job->pending)--;
}

/* Runs every job at once (one session per account) and waits for all.
 *
 * Each check loads its own state in a worker thread while it logs in: a
 * state is a line per message, about 5 ms of parsing for 10,000 messages,
 * and is needed only once the server's UIDL list is there. The command prints counts, so the checks do not copy
 * the new messages into their results. */
static void
run_checks (GPtrArray *jobs,
            guint      max_tops)
{
  guint pending = 0;

  for (guint i = 0; i < jobs->len; i++)
    {
      CheckJob *job = g_ptr_array_index (jobs, i);

      if (job->account == NULL)
        continue;
      pending++;
      job->pending = &pending;
      pb_check_run_async (job->account, job->state, NULL, max_tops,
                          PB_CHECK_LOAD_STATE | PB_CHECK_COUNTS_ONLY, NULL,
                          on_check_done, job);
    }
  while (pending > 0)
    g_main_context_iteration (NULL, TRUE);

  /* A damaged state was set aside and its messages count as new again:
   * say so before the results, in the order of the accounts. */
  for (guint i = 0; i < jobs->len; i++)
    {
      CheckJob *job = g_ptr_array_index (jobs, i);
      const GError *state_error = job->result != NULL ? pb_check_result_get_state_error (job->result) : NULL;

      if (state_error != NULL)
        pb_cli_print_error (state_error);
    }
}

static JsonNode *
job_to_json (CheckJob *job)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  PbCheckResult *result = job->result;
  const GError *error = result != NULL ? pb_check_result_get_error (result) : job->config_error;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "account");
  json_builder_add_string_value (builder, job->name);
  json_builder_set_member_name (builder, "ok");
  json_builder_add_boolean_value (builder, error == NULL);
  json_builder_set_member_name (builder, "total");
  if (error == NULL)
    json_builder_add_int_value (builder, pb_check_result_get_total (result));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "new");
  if (error == NULL)
    json_builder_add_int_value (builder, pb_check_result_get_new_count (result));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "size");
  if (error == NULL)
    json_builder_add_int_value (builder, (gint64) pb_check_result_get_size (result));
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "error");
  if (error == NULL)
    json_builder_add_null_value (builder);
  else
    {
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "kind");
      json_builder_add_string_value (builder, pb_error_kind (error));
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, error->message);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static char *
describe_result (PbCheckResult *result)
{
  const GError *error = pb_check_result_get_error (result);
  g_autofree char *size = NULL;
  guint new_count;

  if (error != NULL)
    return g_strdup_printf (_("error: %s"), error->message);

  new_count = pb_check_result_get_new_count (result);
  size = g_format_size (pb_check_result_get_size (result));
  /* TRANSLATORS: "3 new of 12 (120.0 kB)": new messages, messages on the
   * server, their total size. */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u new of %u (%s)",
                                       "%u new of %u (%s)", new_count),
                          new_count, pb_check_result_get_total (result), size);
}

static void
print_results (GPtrArray *jobs,
               gboolean   json)
{
  if (json)
    {
      g_autoptr(JsonArray) array = json_array_sized_new (jobs->len);
      g_autoptr(JsonNode) root = json_node_new (JSON_NODE_ARRAY);

      for (guint i = 0; i < jobs->len; i++)
        {
          CheckJob *job = g_ptr_array_index (jobs, i);

          json_array_add_element (array, job_to_json (job));
        }
      json_node_set_array (root, array);
      pb_cli_print_json (root);
      return;
    }

  {
    g_autoptr(PbCliTable) table = pb_cli_table_new (2);

    for (guint i = 0; i < jobs->len; i++)
      {
        CheckJob *job = g_ptr_array_index (jobs, i);
        g_autofree char *text = NULL;

        if (job->result == NULL)
          continue;  /* its settings did not load: said on stderr already */
        text = describe_result (job->result);
        pb_cli_table_add_row (table, job->name, text, NULL);
      }
    pb_cli_table_print (table);
  }
}

static CheckJob *
check_job_new (PbAccount *account,
               guint      timeout)
{
  CheckJob *job = g_new0 (CheckJob, 1);

  job->name = g_strdup (pb_account_get_name (account));
  job->account = pb_account_copy (account);
  if (timeout > 0)
    pb_account_set_timeout (job->account, timeout);
  job->state = pb_state_new (pb_account_get_name (job->account), NULL);
  return job;
}

int
pb_cli_check (int    argc,
              char **argv)
{
  gboolean json = FALSE;
  g_autofree char *timeout_text = NULL;
  g_auto(GStrv) names = NULL;
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the results as JSON"), NULL },
    { "timeout", 0, 0, G_OPTION_ARG_STRING, &timeout_text,
      N_("Give up on a server that does not answer for this long"), N_("SECONDS") },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &names, NULL, N_("[NAME…]") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(PbAccountStore) store = NULL;
  g_autoptr(GPtrArray) jobs = g_ptr_array_new_with_free_func ((GDestroyNotify) check_job_free);
  guint timeout = 0;
  int exit_code = PB_EXIT_OK;

  g_option_context_set_summary (context,
    _("Checks the named accounts, or every enabled account, at the same time.\n"
      "Exit status: 0 all went well, 1 an account failed, 2 a wrong command line or configuration."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!pb_cli_parse_options (context, "check", &argc, &argv))
    return PB_EXIT_USAGE;
  /* The same bounds as an account's own timeout: the override is one. */
  if (timeout_text != NULL && !pb_cli_parse_uint (timeout_text, 1, PB_ACCOUNT_TIMEOUT_MAX, &timeout))
    return pb_cli_usage_error ("check", _("--timeout takes a number of seconds from 1 to %u, not “%s”."),
                               (guint) PB_ACCOUNT_TIMEOUT_MAX, timeout_text);

  store = pb_cli_load_store (&exit_code);
  if (store == NULL)
    return exit_code;

  if (names != NULL && names[0] != NULL)
    {
      for (guint i = 0; names[i] != NULL; i++)
        {
          const GError *load_error = pb_account_store_get_load_error (store, names[i]);
          PbAccount *account = NULL;
          gboolean duplicate = FALSE;

          /* A name that is no account is a wrong command line; one whose
           * settings are bad is checked no more than the others are
           * held up by it. */
          if (load_error == NULL && (account = pb_cli_find_account (store, names[i], &exit_code)) == NULL)
            return exit_code;
          for (guint j = 0; j < i; j++)
            duplicate |= g_str_equal (names[i], names[j]);
          if (duplicate)
            continue;
          if (load_error != NULL)
            {
              pb_cli_print_error (load_error);
              exit_code = PB_EXIT_USAGE;
              g_ptr_array_add (jobs, check_job_new_broken (names[i], load_error));
            }
          else
            /* Named explicitly: checked even when disabled. */
            g_ptr_array_add (jobs, check_job_new (account, timeout));
        }
    }
  else
    {
      GPtrArray *accounts = pb_account_store_get_accounts (store);
      GPtrArray *load_errors = pb_account_store_get_load_errors (store);
      g_auto(GStrv) broken = pb_account_store_dup_broken_names (store);

      /* The good accounts are still checked; the exit status says the
       * configuration needs fixing. */
      for (guint i = 0; i < load_errors->len; i++)
        {
          pb_cli_print_error (g_ptr_array_index (load_errors, i));
          exit_code = PB_EXIT_USAGE;
        }
      for (guint i = 0; broken[i] != NULL; i++)
        g_ptr_array_add (jobs, check_job_new_broken (broken[i], g_ptr_array_index (load_errors, i)));
      for (guint i = 0; i < accounts->len; i++)
        {
          PbAccount *account = g_ptr_array_index (accounts, i);

          if (pb_account_get_enabled (account))
            g_ptr_array_add (jobs, check_job_new (account, timeout));
        }
      /* In the order of their names, as accounts list has them. */
      g_ptr_array_sort (jobs, compare_jobs);
      if (accounts->len == 0 && load_errors->len == 0)
        pb_cli_printerr (_("No accounts to check; add one with “popbiff accounts add”."));
      else if (accounts->len > 0 && jobs->len == load_errors->len)
        /* Not silence: the person would not know nothing was checked. */
        pb_cli_printerr (_("Every account is disabled, so none was checked; name one "
                           "(“popbiff check NAME”) or enable it with “popbiff accounts edit "
                           "NAME --enable”."));
    }

  run_checks (jobs, PB_CHECK_DEFAULT_MAX_TOPS);
  print_results (jobs, json);

  for (guint i = 0; i < jobs->len; i++)
    {
      CheckJob *job = g_ptr_array_index (jobs, i);

      if (job->result != NULL && !pb_check_result_get_ok (job->result) && exit_code == PB_EXIT_OK)
        exit_code = PB_EXIT_FAILED;
    }
  return exit_code;
}

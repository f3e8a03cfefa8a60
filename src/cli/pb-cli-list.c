/* popbiff list NAME [--all] [--json]
 *
 * What is on the server now: the command checks the account first (one
 * session; headers already fetched are kept in the state, so only messages
 * never seen before cost a TOP) and then prints the new messages, newest
 * first, or with --all every message on the server. With --json, an array
 * of {"uidl", "size", "from", "subject", "date"} (DESIGN.md).
 *
 * If the check fails, what the last successful check saw is printed, the
 * error goes to stderr and the exit status is 1. If the state file cannot
 * be read, nothing is listed (everything would look new): the error and
 * exit status 1. */
#include <glib/gi18n.h>

#include "core/pb-check.h"
#include "core/pb-summary.h"
#include "pb-cli-commands.h"
#include "pb-cli-util.h"

static char *
format_date_iso8601 (gint64 date)
{
  g_autoptr(GDateTime) time = date != 0 ? g_date_time_new_from_unix_utc (date) : NULL;

  return time != NULL ? g_date_time_format_iso8601 (time) : NULL;
}

static char *
format_date_local (gint64 date)
{
  g_autoptr(GDateTime) time = date != 0 ? g_date_time_new_from_unix_local (date) : NULL;

  return time != NULL ? g_date_time_format (time, "%Y-%m-%d %H:%M") : g_strdup ("—");
}

static void
add_string_or_null (JsonBuilder *builder,
                    const char  *member,
                    const char  *value)
{
  json_builder_set_member_name (builder, member);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
print_json (GPtrArray *records)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_array (builder);
  for (guint i = 0; i < records->len; i++)
    {
      const PbMessageRecord *record = g_ptr_array_index (records, i);
      g_autofree char *from = pb_summary_format_from (record->from_name, record->from_address);
      g_autofree char *date = format_date_iso8601 (record->date);

      json_builder_begin_object (builder);
      add_string_or_null (builder, "uidl", record->uidl);
      json_builder_set_member_name (builder, "size");
      json_builder_add_int_value (builder, (gint64) record->size);
      add_string_or_null (builder, "from", from);
      add_string_or_null (builder, "subject", record->subject);
      add_string_or_null (builder, "date", date);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  root = json_builder_get_root (builder);
  pb_cli_print_json (root);
}

/* @checked: this run's check worked. After a failure the table shows
 * what the last check saw, and an empty one says nothing rather than "no
 * new messages", which nobody knows. */
static void
print_table (GPtrArray  *records,
             const char *account_name,
             gboolean    all,
             gboolean    checked)
{
  g_autoptr(PbCliTable) table = pb_cli_table_new (5);

  if (records->len == 0 && !checked)
    return;
  if (records->len == 0)
    {
      if (all)
        g_print (_("No messages in %s.\n"), account_name);
      else
        g_print (_("No new messages in %s.\n"), account_name);
      return;
    }

  for (guint i = 0; i < records->len; i++)
    {
      const PbMessageRecord *record = g_ptr_array_index (records, i);
      g_autofree char *from = pb_summary_format_from (record->from_name, record->from_address);
      g_autofree char *date = format_date_local (record->date);
      /* 0: LIST never told (a message has at least its headers). */
      g_autofree char *size = record->size != 0 ? g_format_size (record->size) : g_strdup ("—");

      pb_cli_table_add_row (table, record->uidl, date, size,
                            from != NULL ? from : "—",
                            record->subject != NULL ? record->subject : "—",
                            NULL);
    }
  pb_cli_table_print (table);
}

int
pb_cli_list (int    argc,
             char **argv)
{
  gboolean json = FALSE;
  gboolean all = FALSE;
  g_auto(GStrv) names = NULL;
  const GOptionEntry entries[] = {
    { "all", 0, 0, G_OPTION_ARG_NONE, &all,
      N_("Every message on the server, not only the new ones"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the messages as JSON"), NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_STRING_ARRAY, &names, NULL, N_("NAME") },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(PbAccountStore) store = NULL;
  g_autoptr(PbState) state = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(PbCliWait) wait = NULL;
  g_autoptr(PbCheckResult) result = NULL;
  g_autoptr(GPtrArray) records = NULL;
  g_autoptr(GPtrArray) shown = NULL;
  PbAccount *account;
  int exit_code = PB_EXIT_OK;

  g_option_context_set_summary (context,
    _("Checks the account, then lists its new messages (newest first) with the\n"
      "UIDL that “popbiff fetch” and “popbiff dismiss” take."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!pb_cli_parse_options (context, "list", &argc, &argv))
    return PB_EXIT_USAGE;
  if (names == NULL || names[0] == NULL)
    return pb_cli_usage_error ("list", _("Name the account to list."));
  if (names[1] != NULL)
    return pb_cli_usage_error ("list", _("List one account at a time."));

  store = pb_cli_load_store (&exit_code);
  if (store == NULL)
    return exit_code;
  account = pb_cli_find_account (store, names[0], &exit_code);
  if (account == NULL)
    return exit_code;

  state = pb_state_new (pb_account_get_name (account), NULL);
  if (!pb_state_load (state, &error))
    {
      pb_cli_print_error (error);
      /* A damaged state was set aside: listing counts from empty. One that
       * could not be read would show every message as new. */
      if (pb_state_get_read_error (state) != NULL)
        return PB_EXIT_FAILED;
    }

  /* Listing is asking for the headers: no bound on TOPs here. */
  wait = pb_cli_wait_new ();
  pb_check_run_async (account, state, NULL, G_MAXUINT, PB_CHECK_FLAGS_NONE, NULL, pb_cli_wait_done, wait);
  result = pb_check_run_finish (pb_cli_wait_run (wait));
  if (!pb_check_result_get_ok (result))
    {
      pb_cli_print_error (pb_check_result_get_error (result));
      exit_code = PB_EXIT_FAILED;
    }

  /* The state's order is the server's (oldest first); show newest first. */
  records = pb_state_list (state);
  shown = g_ptr_array_sized_new (records->len);
  for (guint i = records->len; i > 0; i--)
    {
      PbMessageRecord *record = g_ptr_array_index (records, i - 1);

      if (all || pb_message_record_is_new (record))
        g_ptr_array_add (shown, record);
    }

  if (json)
    print_json (shown);
  else
    print_table (shown, pb_account_get_name (account), all, pb_check_result_get_ok (result));
  return exit_code;
}

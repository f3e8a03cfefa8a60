/* The CLI helpers every command uses: strict numbers, aligned tables,
 * JSON on stdout, waiting for an async result, reading a password. */
#include <gio/gio.h>
#include <unistd.h>

#include "cli/pb-cli-util.h"
#include "core/pb-core-error.h"
#include "pb-test-util.h"

static void
test_parse_uint (void)
{
  static const struct { const char *text; gboolean ok; guint value; } cases[] = {
    { "1", TRUE, 1 }, { "995", TRUE, 995 }, { "65535", TRUE, 65535 },
    { "0", FALSE, 0 }, { "65536", FALSE, 0 }, { "", FALSE, 0 }, { "-1", FALSE, 0 },
    { "+5", FALSE, 0 }, { " 5", FALSE, 0 }, { "5 ", FALSE, 0 }, { "5s", FALSE, 0 },
    { "0x10", FALSE, 0 }, { "1.5", FALSE, 0 }, { "99999999999999999999", FALSE, 0 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint value = 12345;

      g_assert_cmpint (pb_cli_parse_uint (cases[i].text, 1, 65535, &value), ==, cases[i].ok);
      g_assert_cmpuint (value, ==, cases[i].ok ? cases[i].value : 12345);
    }
  g_assert_false (pb_cli_parse_uint (NULL, 0, 10, &(guint) { 0 }));
}

static void
test_table_aligns_wide_text (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(PbCliTable) table = pb_cli_table_new (3);

      pb_cli_table_add_row (table, "NAME", "SUBJECT", "SIZE", NULL);
      pb_cli_table_add_row (table, "日本", "x", "1", NULL);
      pb_cli_table_add_row (table, "ab", "Grüße", NULL);  /* short row */
      pb_cli_table_print (table);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  /* "日本" is four cells wide, like "NAME"; the short row has no trailing
   * blanks. */
  g_test_trap_assert_stdout ("NAME  SUBJECT  SIZE\n"
                             "日本  x        1\n"
                             "ab    Grüße\n");
}

static void
test_print_json (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(JsonNode) node = json_from_string ("[{\"account\":\"wörk\",\"new\":3,\"error\":null}]", NULL);

      pb_cli_print_json (node);
      return;
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("[\n  {\n    \"account\" : \"wörk\",\n    \"new\" : 3,\n    \"error\" : null\n  }\n]\n");
}

static void
test_errors_go_to_stderr (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = g_error_new_literal (PB_CORE_ERROR, PB_CORE_ERROR_CONFIG, "Bad thing");

      pb_cli_print_error (error);
      exit (pb_cli_usage_error ("accounts add", "Missing %s", "--host"));
    }

  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_failed ();
  g_test_trap_assert_stdout ("");
  /* A glob: in a C locale g_printerr() shows the quotes as "?". */
  g_test_trap_assert_stderr ("popbiff: Bad thing\npopbiff: Missing --host\nRun ?popbiff accounts add --help? for its options.\n");
}

static void
return_value (GTask        *task,
              gpointer      source,
              gpointer      task_data,
              GCancellable *cancellable)
{
  g_task_return_int (task, GPOINTER_TO_INT (task_data));
}

static void
test_wait_for_results_in_turn (void)
{
  g_autoptr(PbCliWait) wait = pb_cli_wait_new ();

  for (int i = 1; i <= 3; i++)
    {
      g_autoptr(GTask) task = g_task_new (NULL, NULL, pb_cli_wait_done, wait);

      g_task_set_task_data (task, GINT_TO_POINTER (i * 10), NULL);
      g_task_run_in_thread (task, return_value);
      g_clear_object (&task);
      g_assert_cmpint (g_task_propagate_int (G_TASK (pb_cli_wait_run (wait)), NULL), ==, i * 10);
    }
}

/* The password arrives on stdin: from a pipe here (not a terminal, so no
 * echo handling), one trailing newline stripped, an empty one refused. */
static void
test_read_password (void)
{
  static const struct { const char *input; const char *password; } cases[] = {
    { "secret\n", "secret" },
    { "secret", "secret" },
    { "secret\r\n", "secret" },
    { "with spaces and ü \n", "with spaces and ü " },
    { "first line\nsecond line\n", "first line" },
    { "\n", NULL },
    { "", NULL },
    { "a\rb\n", NULL },
  };
  int saved_stdin = dup (STDIN_FILENO);

  g_assert_cmpint (saved_stdin, >=, 0);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      char *password;
      int fds[2];

      g_assert_cmpint (pipe (fds), ==, 0);
      g_assert_cmpint (write (fds[1], cases[i].input, strlen (cases[i].input)), ==,
                       (gssize) strlen (cases[i].input));
      close (fds[1]);
      g_assert_cmpint (dup2 (fds[0], STDIN_FILENO), ==, STDIN_FILENO);
      close (fds[0]);

      password = pb_cli_read_password (&error);
      g_assert_cmpstr (password, ==, cases[i].password);
      if (cases[i].password == NULL)
        {
          g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG);
          /* Never echo what was typed. */
          if (*cases[i].input != '\0' && *cases[i].input != '\n')
            g_assert_null (strstr (error->message, cases[i].input));
        }
      else
        g_assert_no_error (error);
      pb_cli_password_free (password);
    }
  g_assert_cmpint (dup2 (saved_stdin, STDIN_FILENO), ==, STDIN_FILENO);
  close (saved_stdin);
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

  g_test_add_func ("/cli/util/parse-uint", test_parse_uint);
  g_test_add_func ("/cli/util/table-aligns-wide-text", test_table_aligns_wide_text);
  g_test_add_func ("/cli/util/print-json", test_print_json);
  g_test_add_func ("/cli/util/errors-go-to-stderr", test_errors_go_to_stderr);
  g_test_add_func ("/cli/util/wait-for-results-in-turn", test_wait_for_results_in_turn);
  g_test_add_func ("/cli/util/read-password", test_read_password);
  return g_test_run ();
}

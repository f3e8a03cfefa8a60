/* pb-dovecot-env: a private Dovecot for scripts and benchmarks, the same
 * one the tests use (tests/lib/pb-test-dovecot.c). Not installed; run it
 * through tests/tools/dovecot-env.sh.
 *
 *   pb-dovecot-env start DIR [--fill N] [--size OCTETS] [--processes SHAPE]
 *   pb-dovecot-env fill DIR N [OCTETS] [--user USER]
 *   pb-dovecot-env deliver DIR FILE... [--user USER]
 *   pb-dovecot-env add-user DIR USER      (password on stdin, one line)
 *   pb-dovecot-env stop DIR
 *
 * `start` prints the PB_DOVECOT_* variables (also in DIR/env.sh) and
 * returns, leaving the server running. SHAPE is "default" (Dovecot's
 * defaults, as in the tests) or "high-performance" (the shape Dovecot
 * documents for busy servers; bench/README.md says why the benchmarks
 * use it). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>

#include "pb-test-dovecot.h"
#include "pb-test-mail.h"

static int
usage (void)
{
  fprintf (stderr,
           "Usage: pb-dovecot-env start DIR [--fill N] [--size OCTETS]\n"
           "                            [--processes default|high-performance]\n"
           "       pb-dovecot-env fill DIR N [OCTETS] [--user USER]\n"
           "       pb-dovecot-env deliver DIR FILE... [--user USER]\n"
           "       pb-dovecot-env add-user DIR USER   (password on stdin)\n"
           "       pb-dovecot-env stop DIR\n");
  return 2;
}

static int
fail (GError *error)
{
  fprintf (stderr, "pb-dovecot-env: %s\n", error->message);
  g_error_free (error);
  return 1;
}

static gboolean
parse_count (const char *text,
             guint64     max,
             guint64    *out)
{
  return g_ascii_string_to_unsigned (text, 10, 0, max, out, NULL);
}

int
main (int argc, char *argv[])
{
  g_autofree char *user = NULL;
  g_autofree char *fill_text = NULL;
  g_autofree char *size_text = NULL;
  g_autofree char *processes_text = NULL;
  GOptionEntry entries[] = {
    { "user", 0, 0, G_OPTION_ARG_STRING, &user, "The user (default: alice)", "USER" },
    { "fill", 0, 0, G_OPTION_ARG_STRING, &fill_text, "Messages to generate at start", "N" },
    { "size", 0, 0, G_OPTION_ARG_STRING, &size_text, "Their average size (default 6144)", "OCTETS" },
    { "processes", 0, 0, G_OPTION_ARG_STRING, &processes_text,
      "How Dovecot runs its processes: default or high-performance", "SHAPE" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("COMMAND DIR ...");
  GError *error = NULL;
  const char *command, *dir;
  guint64 size = 6144;
  PbTestDovecotProcesses processes = PB_TEST_DOVECOT_PROCESSES_DEFAULT;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "pb-dovecot-env: %s\n", error->message);
      g_error_free (error);
      return usage ();
    }
  if (argc < 3)
    return usage ();
  command = argv[1];
  dir = argv[2];
  if (size_text != NULL && !parse_count (size_text, G_MAXUINT32, &size))
    return usage ();
  if (size < 512)
    size = 512;
  if (processes_text != NULL && g_str_equal (processes_text, "high-performance"))
    processes = PB_TEST_DOVECOT_PROCESSES_HIGH_PERFORMANCE;
  else if (processes_text != NULL && !g_str_equal (processes_text, "default"))
    return usage ();

  if (g_str_equal (command, "start"))
    {
      PbTestDovecot *d = pb_test_dovecot_start_detached_with (dir, processes, &error);
      g_autofree char *env_path = g_build_filename (dir, "env.sh", NULL);
      g_autofree char *env = NULL;
      guint64 count = 0;

      if (d == NULL)
        return fail (error);
      if (fill_text != NULL
          && (!parse_count (fill_text, G_MAXUINT32, &count)
              || !pb_test_dovecot_fill (d, user, (guint) count, (gsize) size, &error)))
        {
          pb_test_dovecot_stop (d);
          return error != NULL ? fail (error) : usage ();
        }
      pb_test_dovecot_detach (d);
      if (!g_file_get_contents (env_path, &env, NULL, &error))
        return fail (error);
      fputs (env, stdout);
      return 0;
    }

  if (g_str_equal (command, "stop"))
    return pb_test_dovecot_stop_dir (dir, &error) ? 0 : fail (error);

  {
    PbTestDovecot *d = pb_test_dovecot_attach (dir, &error);
    int status = 0;

    if (d == NULL)
      return fail (error);

    if (g_str_equal (command, "fill") && argc >= 4)
      {
        guint64 count;

        if (!parse_count (argv[3], G_MAXUINT32, &count)
            || (argc >= 5 && !parse_count (argv[4], G_MAXUINT32, &size)))
          status = usage ();
        else if (!pb_test_dovecot_fill (d, user, (guint) count, MAX ((gsize) size, 512), &error))
          status = fail (error);
      }
    else if (g_str_equal (command, "deliver") && argc >= 4)
      {
        for (int i = 3; i < argc && status == 0; i++)
          {
            char *data;
            gsize len;
            g_autoptr(GBytes) bytes = NULL;

            if (!g_file_get_contents (argv[i], &data, &len, &error))
              {
                status = fail (error);
                break;
              }
            bytes = g_bytes_new_take (data, len);
            if (!pb_test_dovecot_deliver (d, user, bytes, &error))
              status = fail (error);
          }
      }
    else if (g_str_equal (command, "add-user") && argc == 4)
      {
        char line[1024];

        /* The password comes on stdin, never in argv. */
        if (fgets (line, sizeof line, stdin) == NULL)
          status = usage ();
        else
          {
            line[strcspn (line, "\r\n")] = '\0';
            if (!pb_test_dovecot_add_user (d, argv[3], line, &error))
              status = fail (error);
          }
      }
    else
      status = usage ();

    pb_test_dovecot_detach (d);
    return status;
  }
}

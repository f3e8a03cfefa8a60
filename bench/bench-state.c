/* bench-state: what a check costs on our side for a huge mailbox: loading
 * an account's state of N records (default 100,000, with summaries) and
 * diffing it against the server's UIDL list the way pb-check.c does
 * (diff_with_state: forget the vanished, add the new, keep server order).
 * The server's list has 100 messages gone and 100 new.
 *
 *   bench-state [N [REPEATS]]
 *
 * Prints the mean, median, minimum and maximum of each phase over REPEATS
 * (default 15) fresh loads, the CPU time (less disturbed than the wall
 * clock when others share the machine), the state file's size, and the
 * memory the loaded state holds: the growth of the resident size over the
 * first load + diff, in a process that freed nothing before (the file is
 * written by a child), and what is left of it once the state is freed.
 * Issue 3's goal: load + diff of 100,000 UIDLs under 50 ms. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gio.h>

#include "core/pb-state.h"

#define CHANGED 100

static char *
uidl_for (guint i)
{
  /* Dovecot's %08Xu%08Xv. */
  return g_strdup_printf ("%08X%08X", i + 1, 0x6b0926d4u);
}

static glong
status_kib (const char *field)
{
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &text, NULL, NULL)
      || (line = strstr (text, field)) == NULL)
    return -1;
  return strtol (line + strlen (field), NULL, 10);
}

static void
make_state (const char *path,
            guint       n)
{
  g_autoptr(PbState) state = pb_state_new ("bench", path);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *uidl = uidl_for (i);
      g_autofree char *subject = g_strdup_printf ("Re: the quarterly report, draft %u", i);
      PbMessageRecord *record = pb_state_ensure (state, uidl);

      record->flags = PB_MESSAGE_NOTIFIED | (i % 7 == 0 ? PB_MESSAGE_DOWNLOADED : 0);
      record->size = 6000 + i % 5000;
      record->first_seen = 1795000000 + i;
      pb_state_set_summary (state, record, "Jürgen Müller", "juergen@example.de",
                            subject, 1795000000 + (gint64) i * 60);
    }
  pb_state_set_fresh (state, FALSE);
  if (!pb_state_save (state, &error))
    g_error ("Cannot save the state: %s", error->message);
}

/* What diff_with_state() in src/core/pb-check.c does, with the server's
 * list as a check has it (the call may edit it: a duplicate becomes NULL). */
static guint
diff (PbState     *state,
      const char **uidls,
      guint        n)
{
  guint added = 0;

  pb_state_apply_listing (state, uidls, n, &added, NULL);
  return added;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
cpu_ms (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec * 1e3 + usage.ru_utime.tv_usec / 1e3
         + usage.ru_stime.tv_sec * 1e3 + usage.ru_stime.tv_usec / 1e3;
}

static void
print_times (const char *what,
             double     *ms,
             guint       repeats,
             const char *note)
{
  double sum = 0;

  for (guint i = 0; i < repeats; i++)
    sum += ms[i];
  qsort (ms, repeats, sizeof (double), compare_double);
  printf ("  %-13s %7.1f %7.1f %7.1f %7.1f ms%s\n", what,
          sum / repeats, ms[repeats / 2], ms[0], ms[repeats - 1], note);
}

/* The state file is written by a child process, so that this process's
 * heap holds nothing freed before the first load: otherwise the load
 * reuses that memory and the resident-size growth understates what a
 * loaded state takes. */
static void
make_state_in_child (const char *path,
                     guint       n)
{
  int status = 0;
  pid_t pid = fork ();

  if (pid < 0)
    g_error ("fork: %s", g_strerror (errno));
  if (pid == 0)
    {
      make_state (path, n);
      _exit (0);
    }
  if (waitpid (pid, &status, 0) != pid || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    g_error ("Could not write the state file");
}

int
main (int argc, char *argv[])
{
  guint n = argc > 1 ? (guint) atoi (argv[1]) : 100000;
  guint repeats = argc > 2 ? (guint) atoi (argv[2]) : 15;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("pb-bench-state-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr(GPtrArray) server = g_ptr_array_new_with_free_func (g_free);
  g_autofree double *load_ms = NULL;
  g_autofree double *diff_ms = NULL;
  g_autofree double *total_ms = NULL;
  g_autofree double *cpu = NULL;
  GStatBuf st;
  glong rss_before = 0, rss_loaded = 0, rss_freed = 0;

  if (dir == NULL || n < 2 * CHANGED || repeats == 0)
    {
      fprintf (stderr, "usage: bench-state [N >= %d [REPEATS]]\n", 2 * CHANGED);
      return 2;
    }
  path = g_build_filename (dir, "bench.state", NULL);
  make_state_in_child (path, n);
  g_stat (path, &st);

  /* The server: the oldest CHANGED messages gone, CHANGED new ones. */
  for (guint i = CHANGED; i < n + CHANGED; i++)
    g_ptr_array_add (server, uidl_for (i));

  load_ms = g_new (double, repeats);
  diff_ms = g_new (double, repeats);
  total_ms = g_new (double, repeats);
  cpu = g_new (double, repeats);
  for (guint r = 0; r < repeats; r++)
    {
      PbState *state = pb_state_new ("bench", path);
      g_autofree const char **uidls = g_memdup2 (server->pdata, server->len * sizeof (char *));
      gint64 t0, t1, t2;
      double c0;
      guint added;

      if (r == 0)
        rss_before = status_kib ("VmRSS:");
      c0 = cpu_ms ();
      t0 = g_get_monotonic_time ();
      if (!pb_state_load (state, &error))
        g_error ("Cannot load the state: %s", error->message);
      t1 = g_get_monotonic_time ();
      added = diff (state, uidls, server->len);
      t2 = g_get_monotonic_time ();
      cpu[r] = cpu_ms () - c0;
      if (r == 0)
        rss_loaded = status_kib ("VmRSS:");
      g_assert_cmpuint (added, ==, CHANGED);
      g_assert_cmpuint (pb_state_get_count (state), ==, n);
      g_object_unref (state);
      if (r == 0)
        rss_freed = status_kib ("VmRSS:");

      load_ms[r] = (t1 - t0) / 1000.0;
      diff_ms[r] = (t2 - t1) / 1000.0;
      total_ms[r] = (t2 - t0) / 1000.0;
    }

  printf ("state of %u records, file %.1f MiB; %u runs\n", n, st.st_size / 1048576.0, repeats);
  printf ("  %-13s %7s %7s %7s %7s\n", "", "mean", "median", "min", "max");
  print_times ("load", load_ms, repeats, "");
  print_times ("diff", diff_ms, repeats, "   (" G_STRINGIFY (CHANGED) " gone, " G_STRINGIFY (CHANGED) " new)");
  print_times ("load + diff", total_ms, repeats, "");
  print_times ("  CPU time", cpu, repeats, "   (user + system)");
  printf ("  goal: load + diff < 50 ms (median): %s\n", total_ms[repeats / 2] < 50.0 ? "met" : "MISSED");
  printf ("  memory        %7.1f MiB resident growth over the first load + diff"
          " (%.1f MiB after the state was freed); peak RSS %.1f MiB\n",
          (rss_loaded - rss_before) / 1024.0, (rss_freed - rss_before) / 1024.0,
          status_kib ("VmHWM:") / 1024.0);

  {
    g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
    const char *entry;

    while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
      {
        g_autofree char *file = g_build_filename (dir, entry, NULL);
        g_unlink (file);
      }
  }
  g_rmdir (dir);
  return 0;
}

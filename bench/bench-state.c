/* bench-state: what a check costs on our side for a huge mailbox: loading
 * an account's state of N records (default 100,000, with summaries) and
 * diffing it against the server's UIDL list the way pb-check.c does
 * (diff_with_state: forget the vanished, add the new, keep server order).
 * The server's list has 100 messages gone and 100 new.
 *
 *   bench-state [N [REPEATS]]
 *
 * Prints the median and minimum of each phase over REPEATS (default 15)
 * fresh loads, the state file's size, and the memory the loaded state
 * holds (RSS after the load minus before, and the peak). Issue 3's goal:
 * load + diff of 100,000 UIDLs under 50 ms. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static gboolean
state_in_order (PbState   *state,
                GPtrArray *uidls)
{
  g_autoptr(GPtrArray) records = pb_state_list (state);

  if (records->len != uidls->len)
    return FALSE;
  for (guint i = 0; i < records->len; i++)
    if (!g_str_equal (((PbMessageRecord *) records->pdata[i])->uidl, uidls->pdata[i]))
      return FALSE;
  return TRUE;
}

/* The same steps as diff_with_state() in src/core/pb-check.c. */
static guint
diff (PbState   *state,
      GPtrArray *server)
{
  g_autoptr(GHashTable) present = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GPtrArray) unique = g_ptr_array_sized_new (server->len);
  guint added = 0;

  for (guint i = 0; i < server->len; i++)
    if (g_hash_table_add (present, server->pdata[i]))
      g_ptr_array_add (unique, server->pdata[i]);
  pb_state_forget_missing (state, present);
  for (guint i = 0; i < unique->len; i++)
    if (pb_state_lookup (state, unique->pdata[i]) == NULL)
      {
        pb_state_ensure (state, unique->pdata[i]);
        added++;
      }
  if (!state_in_order (state, unique))
    pb_state_set_order (state, (const char * const *) unique->pdata, unique->len);
  return added;
}

static int
compare_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
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
  GStatBuf st;
  glong rss_before = 0, rss_loaded = 0;

  if (dir == NULL || n < 2 * CHANGED || repeats == 0)
    {
      fprintf (stderr, "usage: bench-state [N >= %d [REPEATS]]\n", 2 * CHANGED);
      return 2;
    }
  path = g_build_filename (dir, "bench.state", NULL);
  make_state (path, n);
  g_stat (path, &st);

  /* The server: the oldest CHANGED messages gone, CHANGED new ones. */
  for (guint i = CHANGED; i < n + CHANGED; i++)
    g_ptr_array_add (server, uidl_for (i));

  load_ms = g_new (double, repeats);
  diff_ms = g_new (double, repeats);
  total_ms = g_new (double, repeats);
  for (guint r = 0; r < repeats; r++)
    {
      g_autoptr(PbState) state = pb_state_new ("bench", path);
      gint64 t0, t1, t2;
      guint added;

      if (r == 0)
        rss_before = status_kib ("VmRSS:");
      t0 = g_get_monotonic_time ();
      if (!pb_state_load (state, &error))
        g_error ("Cannot load the state: %s", error->message);
      t1 = g_get_monotonic_time ();
      added = diff (state, server);
      t2 = g_get_monotonic_time ();
      if (r == 0)
        rss_loaded = status_kib ("VmRSS:");
      g_assert_cmpuint (added, ==, CHANGED);
      g_assert_cmpuint (pb_state_get_count (state), ==, n);

      load_ms[r] = (t1 - t0) / 1000.0;
      diff_ms[r] = (t2 - t1) / 1000.0;
      total_ms[r] = (t2 - t0) / 1000.0;
    }

  qsort (load_ms, repeats, sizeof (double), compare_double);
  qsort (diff_ms, repeats, sizeof (double), compare_double);
  qsort (total_ms, repeats, sizeof (double), compare_double);
  printf ("state of %u records, file %.1f MiB; %u runs (median / min)\n",
          n, st.st_size / 1048576.0, repeats);
  printf ("  load           %7.1f ms  %7.1f ms\n", load_ms[repeats / 2], load_ms[0]);
  printf ("  diff           %7.1f ms  %7.1f ms   (%d gone, %d new)\n",
          diff_ms[repeats / 2], diff_ms[0], CHANGED, CHANGED);
  printf ("  load + diff    %7.1f ms  %7.1f ms   goal < 50 ms: %s\n",
          total_ms[repeats / 2], total_ms[0], total_ms[repeats / 2] < 50.0 ? "met" : "MISSED");
  printf ("  memory         %7.1f MiB held after the first load + diff, peak RSS %.1f MiB\n",
          (rss_loaded - rss_before) / 1024.0, status_kib ("VmHWM:") / 1024.0);

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

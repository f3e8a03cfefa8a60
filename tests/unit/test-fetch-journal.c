/* The fetch journal: after a crash between "renamed into place" and "state
 * saved", recovery records exactly the messages whose files are there. */
#include <glib/gstdio.h>

#include "core/pb-delivery.h"
#include "core/pb-fetch-journal.h"
#include "core/pb-state.h"
#include "pb-test-util.h"

static char *
deliver (const char *folder,
         const char *content)
{
  g_autoptr(PbDelivery) delivery = pb_delivery_new (folder, PB_DELIVERY_FORMAT_MAILDIR);
  g_autoptr(PbDeliveryMessage) message = NULL;
  g_autoptr(GError) error = NULL;

  g_assert_true (pb_delivery_open (delivery, &error));
  message = pb_delivery_begin (delivery, &error);
  g_assert_no_error (error);
  g_output_stream_write_all (pb_delivery_message_get_stream (message), content, strlen (content),
                             NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (pb_delivery_message_finish (message, &error));
  g_assert_true (pb_delivery_message_commit (message, &error));
  g_assert_true (pb_delivery_sync (delivery, &error));
  g_assert_no_error (error);
  return g_strdup (pb_delivery_message_get_path (message));
}

static PbState *
new_state (void)
{
  g_autoptr(GError) error = NULL;
  PbState *state = pb_state_new ("work", NULL);

  g_assert_true (pb_state_load (state, &error));
  g_assert_no_error (error);
  return state;
}

static void
write_journal (PbState     *state,
               const char  *uidls[],
               const char  *paths[],
               guint64      sizes[],
               guint        n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(PbFetchJournal) journal = pb_fetch_journal_open (state, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < n; i++)
    pb_fetch_journal_add (journal, uidls[i], paths[i], sizes[i]);
  g_assert_true (pb_fetch_journal_sync (journal, &error));
  g_assert_no_error (error);
}

static gboolean
is_downloaded (PbState    *state,
               const char *uidl)
{
  PbMessageRecord *record = pb_state_lookup (state, uidl);

  return record != NULL && (record->flags & PB_MESSAGE_DOWNLOADED) != 0;
}

static void
test_recover_records_files_in_place (void)
{
  g_autofree char *folder = g_build_filename (g_get_home_dir (), "Mail", "work", NULL);
  g_autofree char *there = deliver (folder, "Subject: a\n\nbody\n");
  g_autofree char *missing = g_build_filename (folder, "new", "1.M1P1Q1.host,S=5", NULL);
  const char *uidls[] = { "uidl-there", "uidl-never-renamed" };
  const char *paths[] = { there, missing };
  guint64 sizes[] = { 17, 5 };
  g_autoptr(PbState) state = new_state ();
  g_autoptr(PbState) reloaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *journal = g_strconcat (pb_state_get_path (state), ".journal", NULL);

  write_journal (state, uidls, paths, sizes, 2);
  g_assert_true (pb_fetch_journal_recover (state, &error));
  g_assert_no_error (error);

  g_assert_true (is_downloaded (state, "uidl-there"));
  g_assert_cmpstr (pb_state_lookup (state, "uidl-there")->path, ==, there);
  g_assert_false (is_downloaded (state, "uidl-never-renamed"));
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));

  /* And it was saved. */
  reloaded = new_state ();
  g_assert_true (is_downloaded (reloaded, "uidl-there"));
}

static void
test_recover_finds_moved_to_cur (void)
{
  g_autofree char *folder = g_build_filename (g_get_home_dir (), "Mail", "work", NULL);
  g_autofree char *path = deliver (folder, "x\n");
  g_autofree char *name = g_path_get_basename (path);
  g_autofree char *moved = g_strdup_printf ("%s/cur/%s:2,S", folder, name);
  const char *uidls[] = { "u1" };
  const char *paths[] = { path };
  guint64 sizes[] = { 2 };
  g_autoptr(PbState) state = new_state ();
  g_autoptr(GError) error = NULL;

  write_journal (state, uidls, paths, sizes, 1);
  /* A mail client read it before the rerun. */
  g_assert_cmpint (g_rename (path, moved), ==, 0);

  g_assert_true (pb_fetch_journal_recover (state, &error));
  g_assert_no_error (error);
  g_assert_true (is_downloaded (state, "u1"));
  g_assert_cmpstr (pb_state_lookup (state, "u1")->path, ==, moved);
}

static void
test_recover_ignores_cut_line (void)
{
  g_autofree char *folder = g_build_filename (g_get_home_dir (), "Mail", "work", NULL);
  g_autofree char *a = deliver (folder, "a\n");
  g_autofree char *b = deliver (folder, "b\n");
  g_autoptr(PbState) state = new_state ();
  g_autoptr(GError) error = NULL;
  g_autofree char *journal = g_strconcat (pb_state_get_path (state), ".journal", NULL);
  g_autofree char *dir = g_path_get_dirname (journal);
  g_autofree char *contents = g_strdup_printf ("ua\t2\t%s\nub\t2\t%s", a, b);

  /* A kill while the second line was being written: no newline, so no
   * rename can have followed it. */
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (journal, contents, -1, NULL));
  g_assert_true (pb_fetch_journal_recover (state, &error));
  g_assert_no_error (error);
  g_assert_true (is_downloaded (state, "ua"));
  g_assert_false (is_downloaded (state, "ub"));
}

static void
test_recover_without_journal (void)
{
  g_autoptr(PbState) state = new_state ();
  g_autoptr(GError) error = NULL;

  g_assert_true (pb_fetch_journal_recover (state, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (pb_state_get_count (state), ==, 0);
}

static void
test_awkward_folder_names (void)
{
  g_autofree char *folder = g_build_filename (g_get_home_dir (), "Mail\twith\ntab and newline", NULL);
  g_autofree char *path = deliver (folder, "hi\n");
  const char *uidls[] = { "u" };
  const char *paths[] = { path };
  guint64 sizes[] = { 3 };
  g_autoptr(PbState) state = new_state ();
  g_autoptr(GError) error = NULL;

  write_journal (state, uidls, paths, sizes, 1);
  g_assert_true (pb_fetch_journal_recover (state, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (pb_state_lookup (state, "u")->path, ==, path);
}

static void
test_clear_after_save (void)
{
  g_autofree char *folder = g_build_filename (g_get_home_dir (), "Mail", "work", NULL);
  g_autofree char *path = deliver (folder, "x\n");
  g_autoptr(PbState) state = new_state ();
  g_autoptr(GError) error = NULL;
  g_autoptr(PbFetchJournal) journal = pb_fetch_journal_open (state, &error);
  g_autofree char *contents = NULL;

  pb_fetch_journal_add (journal, "u", path, 2);
  g_assert_true (pb_fetch_journal_sync (journal, &error));
  pb_fetch_journal_clear (journal);
  g_assert_true (g_file_get_contents (pb_fetch_journal_get_path (journal), &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "");
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

  g_test_add_func ("/core/fetch-journal/recover-records-files-in-place", test_recover_records_files_in_place);
  g_test_add_func ("/core/fetch-journal/recover-finds-moved-to-cur", test_recover_finds_moved_to_cur);
  g_test_add_func ("/core/fetch-journal/recover-ignores-cut-line", test_recover_ignores_cut_line);
  g_test_add_func ("/core/fetch-journal/recover-without-journal", test_recover_without_journal);
  g_test_add_func ("/core/fetch-journal/awkward-folder-names", test_awkward_folder_names);
  g_test_add_func ("/core/fetch-journal/clear-after-save", test_clear_after_save);

  return g_test_run ();
}

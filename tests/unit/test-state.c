/* PbState: every field survives a save and a load, a damaged file is set
 * aside instead of trusted, and 100,000 records load fast. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/pb-core-error.h"
#include "core/pb-state.h"
#include "pb-test-util.h"

/* The per-test HOME (pb_test_init isolates it), created on first use. */
static const char *
home_dir (void)
{
  g_assert_cmpint (g_mkdir_with_parents (g_get_home_dir (), 0700), ==, 0);
  return g_get_home_dir ();
}

static char *
state_path (const char *name)
{
  g_autofree char *file = g_strconcat (name, ".state", NULL);

  return g_build_filename (home_dir (), "state", file, NULL);
}

static PbState *
load_state (const char *path,
            GError    **error)
{
  PbState *state = pb_state_new ("acct", path);

  pb_state_load (state, error);
  return state;
}

static void
test_default_path (void)
{
  g_autoptr(PbState) state = pb_state_new ("work", NULL);
  g_autofree char *expected = g_build_filename (g_get_user_state_dir (), "popbiff",
                                                "work.state", NULL);

  g_assert_cmpstr (pb_state_get_path (state), ==, expected);
}

static void
test_missing_file_is_fresh (void)
{
  g_autofree char *path = state_path ("missing");
  g_autoptr(PbState) state = pb_state_new ("acct", path);
  g_autoptr(GError) error = NULL;

  g_assert_true (pb_state_load (state, &error));
  g_assert_no_error (error);
  g_assert_true (pb_state_is_fresh (state));
  g_assert_cmpuint (pb_state_get_count (state), ==, 0);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
}

/* Text a server or a hostile sender could put into a header, and a path
 * with every character a file name may hold. */
static const char *hostile[] = {
  "tab\there", "new\nline", "cr\rreturn", "back\\slash", "\\E", "\\", "\\t literally",
  "trailing\\", "\t\n\r\\", "Grüße, 日本語, עברית, 🙂", "\x01\x02\x1b[31mred\x7f",
  "", " leading and trailing ", "-", "a\x1f" "b",
};

static void
test_round_trip_every_field (void)
{
  g_autofree char *path = state_path ("round-trip");
  g_autoptr(PbState) state = pb_state_new ("acct", path);
  g_autoptr(PbState) loaded = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  guint n = G_N_ELEMENTS (hostile);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *uidl = g_strdup_printf ("uidl-%u\t\\%s", i, i % 2 ? "x" : "");
      PbMessageRecord *record = pb_state_ensure (state, uidl);

      pb_state_set_summary (state, record, hostile[i], hostile[(i + 1) % n],
                            hostile[(i + 2) % n], i == 1 ? G_MININT64 : (gint64) i * -86400);
      pb_state_set_path (state, record, hostile[(i + 3) % n]);
      record->flags = i % 16;
      record->size = i == 0 ? G_MAXUINT64 : i * 1000;
      record->first_seen = i == 2 ? G_MAXINT64 : 1700000000 + i;
    }
  /* A record with every string NULL stays NULL, not "". */
  pb_state_ensure (state, "bare");
  pb_state_set_fresh (state, FALSE);

  g_assert_true (pb_state_save (state, &error));
  g_assert_no_error (error);

  loaded = load_state (path, &error);
  g_assert_no_error (error);
  g_assert_false (pb_state_is_fresh (loaded));
  g_assert_cmpuint (pb_state_get_count (loaded), ==, n + 1);

  list = pb_state_list (loaded);
  for (guint i = 0; i < n + 1; i++)
    {
      const PbMessageRecord *a = g_ptr_array_index (list, i);
      g_autoptr(GPtrArray) original = pb_state_list (state);
      const PbMessageRecord *b = g_ptr_array_index (original, i);

      g_assert_cmpstr (a->uidl, ==, b->uidl);
      g_assert_true (pb_state_lookup (loaded, b->uidl) == a);
      g_assert_cmpint (a->flags, ==, b->flags);
      g_assert_cmpuint (a->size, ==, b->size);
      g_assert_cmpint (a->date, ==, b->date);
      g_assert_cmpint (a->first_seen, ==, b->first_seen);
      g_assert_cmpstr (a->from_name, ==, b->from_name);
      g_assert_cmpstr (a->from_address, ==, b->from_address);
      g_assert_cmpstr (a->subject, ==, b->subject);
      g_assert_cmpstr (a->path, ==, b->path);
    }
  {
    const PbMessageRecord *bare = pb_state_lookup (loaded, "bare");

    g_assert_nonnull (bare);
    g_assert_null (bare->from_name);
    g_assert_null (bare->from_address);
    g_assert_null (bare->subject);
    g_assert_null (bare->path);
  }
}

static void
test_fresh_round_trip (void)
{
  g_autofree char *path = state_path ("fresh");
  g_autoptr(PbState) state = pb_state_new ("acct", path);
  g_autoptr(PbState) again = NULL;
  g_autoptr(PbState) later = NULL;

  /* Saved while still fresh (say, a check that failed midway): still fresh. */
  pb_state_ensure (state, "1");
  g_assert_true (pb_state_save (state, NULL));
  again = load_state (path, NULL);
  g_assert_true (pb_state_is_fresh (again));

  pb_state_set_fresh (again, FALSE);
  g_assert_true (pb_state_save (again, NULL));
  later = load_state (path, NULL);
  g_assert_false (pb_state_is_fresh (later));
}

static void
test_invalid_utf8_repaired (void)
{
  g_autofree char *path = state_path ("utf8");
  g_autoptr(PbState) state = pb_state_new ("acct", path);
  g_autoptr(PbState) loaded = NULL;
  g_autoptr(GError) error = NULL;
  PbMessageRecord *record = pb_state_ensure (state, "u1");
  const PbMessageRecord *back;

  pb_state_set_summary (state, record, NULL, NULL, "caf\xe9 \xff", 0);
  pb_state_set_path (state, record, "/tmp/caf\xe9");  /* paths are bytes, kept as is */
  /* Each text on its own: a valid one next to a bad one stays as it is. */
  pb_state_set_summary (state, pb_state_ensure (state, "u2"), "J\xfcrgen", "j@example.org", "Gr\xc3\xbc\xc3\x9f" "e", 0);
  pb_state_set_summary (state, pb_state_ensure (state, "u3"), "J\xc3\xbcrgen", "j\xfc@example.org", NULL, 0);
  g_assert_true (pb_state_save (state, NULL));

  loaded = load_state (path, &error);
  g_assert_no_error (error);
  back = pb_state_lookup (loaded, "u1");
  g_assert_true (g_utf8_validate (back->subject, -1, NULL));
  g_assert_cmpstr (back->path, ==, "/tmp/caf\xe9");
  back = pb_state_lookup (loaded, "u2");
  g_assert_true (g_utf8_validate (back->from_name, -1, NULL));
  g_assert_cmpstr (back->subject, ==, "Gr\xc3\xbc\xc3\x9f" "e");
  back = pb_state_lookup (loaded, "u3");
  g_assert_cmpstr (back->from_name, ==, "J\xc3\xbcrgen");
  g_assert_true (g_utf8_validate (back->from_address, -1, NULL));
}

static void
test_save_is_private_and_leaves_no_temp (void)
{
  g_autofree char *path = state_path ("perm");
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr(PbState) state = pb_state_new ("acct", path);
  g_autoptr(GDir) listing = NULL;
  const char *name;
  GStatBuf st;
  guint files = 0;

  pb_state_ensure (state, "a");
  g_assert_true (pb_state_save (state, NULL));
  pb_state_ensure (state, "b");
  g_assert_true (pb_state_save (state, NULL));

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  /* The state and the lock of its saves (kept: removing a lock file
   * while another process waits on it would let two writers in). */
  listing = g_dir_open (dir, 0, NULL);
  g_assert_nonnull (listing);
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_assert_true (g_str_equal (name, "perm.state") || g_str_equal (name, "perm.state.write-lock"));
      files++;
    }
  g_assert_cmpuint (files, ==, 2);
}

static void
test_save_failure_is_disk_error (void)
{
  g_autofree char *file = g_build_filename (home_dir (), "not-a-dir", NULL);
  g_autofree char *path = g_build_filename (file, "x.state", NULL);
  g_autoptr(PbState) state = pb_state_new ("acct", path);
  g_autoptr(GError) error = NULL;

  g_assert_true (g_file_set_contents (file, "", 0, NULL));
  g_assert_false (pb_state_save (state, &error));
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK);
  g_assert_nonnull (strstr (error->message, "acct"));
}

/* Damaged files: each kind is set aside as <path>.corrupt with its bytes
 * intact, and the state starts fresh and empty but usable. */
static const struct {
  const char *name;
  const char *data;
  gssize      len;
} corrupt_cases[] = {
  { "empty", "", 0 },
  { "garbage", "Hello, I am not a state file.\n", -1 },
  { "truncated-mid-line", "popbiff-state\t1\t0\t2\nu1\t0\t10\t0\t0\t\t\t\t\nu2\t0\t1", -1 },
  { "truncated-at-line-end", "popbiff-state\t1\t0\t3\nu1\t0\t10\t0\t0\t\t\t\t\nu2\t0\t10\t0\t0\t\t\t\t\n", -1 },
  { "bad-number", "popbiff-state\t1\t0\t1\nu1\t0\t1x0\t0\t0\t\t\t\t\n", -1 },
  { "number-overflow", "popbiff-state\t1\t0\t1\nu1\t0\t99999999999999999999999\t0\t0\t\t\t\t\n", -1 },
  { "unknown-flags", "popbiff-state\t1\t0\t1\nu1\t4096\t1\t0\t0\t\t\t\t\n", -1 },
  { "bad-header-number", "popbiff-state\t1\t0\t-1\n", -1 },
  { "future-version", "popbiff-state\t2\t0\t0\n", -1 },
  { "too-few-fields", "popbiff-state\t1\t0\t1\nu1\t0\t10\n", -1 },
  { "too-many-fields", "popbiff-state\t1\t0\t1\nu1\t0\t10\t0\t0\t\t\t\t\t\t\n", -1 },
  { "bad-escape", "popbiff-state\t1\t0\t1\nu1\t0\t10\t0\t0\t\\q\t\t\t\n", -1 },
  { "empty-uidl", "popbiff-state\t1\t0\t1\n\t0\t10\t0\t0\t\t\t\t\n", -1 },
  { "duplicate-uidl", "popbiff-state\t1\t0\t2\nu1\t0\t1\t0\t0\t\t\t\t\nu1\t0\t2\t0\t0\t\t\t\t\n", -1 },
  { "binary", "popbiff-state\t1\t0\t1\nu1\t0\t1\t0\t0\t\0\x89PNG\t\t\t\n", 40 },
};

static void
test_corrupt (gconstpointer data)
{
  guint i = GPOINTER_TO_UINT (data);
  gsize len = corrupt_cases[i].len < 0 ? strlen (corrupt_cases[i].data) : (gsize) corrupt_cases[i].len;
  g_autofree char *path = state_path (corrupt_cases[i].name);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *aside = g_strconcat (path, ".corrupt", NULL);
  g_autofree char *kept = NULL;
  g_autoptr(PbState) state = NULL;
  g_autoptr(PbState) again = NULL;
  g_autoptr(GError) error = NULL;
  gsize kept_len = 0;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, corrupt_cases[i].data, len, NULL));

  state = load_state (path, &error);
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_STATE);
  g_test_message ("%s: %s", corrupt_cases[i].name, error->message);
  g_assert_nonnull (strstr (error->message, "acct"));
  g_assert_nonnull (strstr (error->message, aside));

  g_assert_true (pb_state_is_fresh (state));
  g_assert_cmpuint (pb_state_get_count (state), ==, 0);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_get_contents (aside, &kept, &kept_len, NULL));
  g_assert_cmpmem (kept, kept_len, corrupt_cases[i].data, len);

  /* Usable at once: records, save, load. */
  pb_state_ensure (state, "after");
  g_assert_true (pb_state_save (state, NULL));
  g_clear_error (&error);
  again = load_state (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pb_state_lookup (again, "after"));
}

/* Files that are there but cannot be read, even by root (tests may run as
 * root, who reads a file of mode 000 all the same). */
typedef enum {
  UNREADABLE_DIRECTORY,     /* EISDIR */
  UNREADABLE_SYMLINK_LOOP,  /* ELOOP: a link to itself */
  UNREADABLE_NO_PERMISSION, /* EACCES: mode 000, unless we are root */
} Unreadable;

static const char * const unreadable_names[] = { "directory", "symlink-loop", "no-permission" };

/* Makes @path unreadable in the way @how; FALSE (the test skipped) when
 * that is not possible here. */
static gboolean
make_unreadable (const char *path,
                 Unreadable  how)
{
  g_autofree char *dir = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  switch (how)
    {
    case UNREADABLE_DIRECTORY:
      g_assert_cmpint (g_mkdir (path, 0700), ==, 0);
      return TRUE;
    case UNREADABLE_SYMLINK_LOOP:
      g_assert_cmpint (symlink (path, path), ==, 0);
      return TRUE;
    case UNREADABLE_NO_PERMISSION:
      if (geteuid () == 0)
        {
          g_test_skip ("root reads a file of mode 000");
          return FALSE;
        }
      g_assert_true (g_file_set_contents (path, "popbiff-state\t1\t0\t0\n", -1, NULL));
      g_assert_cmpint (g_chmod (path, 0), ==, 0);
      return TRUE;
    }
  g_assert_not_reached ();
}

/* What @path is (a directory, a link, a file), to see it was left alone. */
static guint
file_kind (const char *path)
{
  struct stat st;

  g_assert_cmpint (lstat (path, &st), ==, 0);
  return st.st_mode & S_IFMT;
}

/* A state file that is there but cannot be read is not a damaged one: it
 * is neither set aside nor taken for an empty state. The load fails with
 * a disk error that names the file and the reason, the state remembers
 * it until a load succeeds, and a save does not replace the file (what it
 * holds is unknown: messages downloaded, dismissed, announced). */
static void
test_unreadable (gconstpointer data)
{
  Unreadable how = GPOINTER_TO_UINT (data);
  g_autofree char *path = state_path ("unreadable");
  g_autofree char *aside = g_strconcat (path, ".corrupt", NULL);
  g_autoptr(PbState) state = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) save_error = NULL;
  g_autoptr(GError) reload_error = NULL;
  guint kind;

  if (!make_unreadable (path, how))
    return;
  kind = file_kind (path);

  state = load_state (path, &error);
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK);
  g_test_message ("%s: %s", unreadable_names[how], error->message);
  g_assert_nonnull (strstr (error->message, "acct"));
  g_assert_nonnull (strstr (error->message, path));
  g_assert_cmpuint (pb_state_get_count (state), ==, 0);
  g_assert_error ((GError *) pb_state_get_read_error (state), PB_CORE_ERROR, PB_CORE_ERROR_DISK);
  g_assert_cmpstr (pb_state_get_read_error (state)->message, ==, error->message);
  g_assert_cmpuint (file_kind (path), ==, kind);
  g_assert_false (g_file_test (aside, G_FILE_TEST_EXISTS));

  /* What a check would record is not written over the file. */
  pb_state_ensure (state, "seen-by-a-check");
  g_assert_false (pb_state_save (state, &save_error));
  g_assert_error (save_error, PB_CORE_ERROR, PB_CORE_ERROR_DISK);
  g_assert_cmpuint (file_kind (path), ==, kind);

  /* Once the file can be read again, a load reads it and forgets the
   * error. */
  if (how == UNREADABLE_DIRECTORY)
    g_assert_cmpint (g_rmdir (path), ==, 0);
  else
    g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_true (g_file_set_contents (path, "popbiff-state\t1\t0\t1\nkept\t2\t10\t0\t0\t\t\t\t\n",
                                      -1, NULL));
  g_assert_true (pb_state_load (state, &reload_error));
  g_assert_no_error (reload_error);
  g_assert_null (pb_state_get_read_error (state));
  g_assert_nonnull (pb_state_lookup (state, "kept"));
  g_assert_null (pb_state_lookup (state, "seen-by-a-check"));
}

/* Once the file can be read again, a refresh (a fetch does one under its
 * lock) or a save merges it in, as a load would have: the state is no
 * longer one whose file could not be read. */
static void
test_unreadable_then_merged (gconstpointer data)
{
  gboolean by_save = GPOINTER_TO_INT (data);
  g_autofree char *path = state_path ("repaired");
  g_autoptr(PbState) state = NULL;
  g_autoptr(PbState) again = NULL;
  g_autoptr(GError) error = NULL;
  PbMessageRecord *kept;

  g_assert_true (make_unreadable (path, UNREADABLE_DIRECTORY));
  state = load_state (path, NULL);
  g_assert_nonnull (pb_state_get_read_error (state));

  g_assert_cmpint (g_rmdir (path), ==, 0);
  g_assert_true (g_file_set_contents (path, "popbiff-state\t1\t0\t1\nkept\t2\t10\t0\t0\t\t\t\t\n",
                                      -1, NULL));
  if (by_save)
    {
      pb_state_ensure (state, "seen-meanwhile");
      g_assert_true (pb_state_save (state, &error));
    }
  else
    g_assert_true (pb_state_refresh (state, &error));
  g_assert_no_error (error);
  g_assert_null (pb_state_get_read_error (state));
  kept = pb_state_lookup (state, "kept");
  g_assert_nonnull (kept);
  g_assert_cmpint (kept->flags, ==, PB_MESSAGE_DOWNLOADED);

  again = load_state (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (pb_state_lookup (again, "kept"));
  g_assert_cmpuint (pb_state_get_count (again), ==, by_save ? 2 : 1);
}

static GHashTable *
uidl_set (const char * const *uidls)
{
  GHashTable *set = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; uidls[i] != NULL; i++)
    g_hash_table_add (set, (gpointer) uidls[i]);
  return set;
}

static char *
joined_order (PbState *state)
{
  g_autoptr(GPtrArray) list = pb_state_list (state);
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; i < list->len; i++)
    {
      const PbMessageRecord *record = g_ptr_array_index (list, i);

      g_string_append_printf (out, "%s%s", i ? " " : "", record->uidl);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
test_forget_missing (void)
{
  g_autoptr(PbState) state = pb_state_new ("acct", NULL);
  const char *on_server[] = { "b", "d", "zzz", NULL };
  g_autoptr(GHashTable) present = uidl_set (on_server);
  g_autofree char *order = NULL;

  for (char c = 'a'; c <= 'e'; c++)
    {
      char uidl[2] = { c, 0 };
      pb_state_ensure (state, uidl);
    }

  g_assert_cmpuint (pb_state_forget_missing (state, present), ==, 3);
  g_assert_cmpuint (pb_state_get_count (state), ==, 2);
  g_assert_null (pb_state_lookup (state, "a"));
  g_assert_null (pb_state_lookup (state, "zzz"));
  order = joined_order (state);
  g_assert_cmpstr (order, ==, "b d");

  g_assert_cmpuint (pb_state_forget_missing (state, present), ==, 0);
}

static void
test_order (void)
{
  g_autoptr(PbState) state = pb_state_new ("acct", NULL);
  const char *server[] = { "c", "x-unknown", "a", "c" };
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  PbMessageRecord *a;

  a = pb_state_ensure (state, "a");
  pb_state_ensure (state, "b");
  pb_state_ensure (state, "c");
  g_assert_true (pb_state_ensure (state, "a") == a);
  before = joined_order (state);
  g_assert_cmpstr (before, ==, "a b c");

  /* Listed ones in server order, unknown ones not created, the unlisted
   * ones after, in their old order. */
  pb_state_set_order (state, server, G_N_ELEMENTS (server));
  after = joined_order (state);
  g_assert_cmpstr (after, ==, "c a b");
  g_assert_null (pb_state_lookup (state, "x-unknown"));
  g_assert_cmpuint (pb_state_get_count (state), ==, 3);
}

/* What a check does with the server's list: new UIDLs get records, the
 * vanished are forgotten, the order becomes the server's, a duplicate is
 * dropped (set to NULL) and the records already known keep their flags. */
static void
test_apply_listing (void)
{
  g_autoptr(PbState) state = pb_state_new ("acct", NULL);
  const char *server[] = { "c", "new1", NULL, "a", "c", "new2", "new1" };
  g_autofree char *order = NULL;
  guint added = 99, forgotten = 99;

  pb_state_ensure (state, "a")->flags = PB_MESSAGE_DOWNLOADED;
  pb_state_ensure (state, "b");
  pb_state_ensure (state, "c")->flags = PB_MESSAGE_NOTIFIED;

  g_assert_true (pb_state_apply_listing (state, server, G_N_ELEMENTS (server), &added, &forgotten));
  g_assert_cmpuint (added, ==, 2);
  g_assert_cmpuint (forgotten, ==, 1);
  order = joined_order (state);
  g_assert_cmpstr (order, ==, "c new1 a new2");
  g_assert_null (pb_state_lookup (state, "b"));
  g_assert_cmpint (pb_state_lookup (state, "a")->flags, ==, PB_MESSAGE_DOWNLOADED);
  g_assert_cmpint (pb_state_lookup (state, "c")->flags, ==, PB_MESSAGE_NOTIFIED);
  g_assert_cmpint (pb_state_lookup (state, "new1")->flags, ==, 0);
  /* The second "c" and "new1" (message 5 and 7) are the duplicates. */
  g_assert_cmpstr (server[0], ==, "c");
  g_assert_null (server[4]);
  g_assert_cmpstr (server[5], ==, "new2");
  g_assert_null (server[6]);

  /* The same list again changes nothing. */
  g_assert_false (pb_state_apply_listing (state, server, G_N_ELEMENTS (server), &added, &forgotten));
  g_assert_cmpuint (added, ==, 0);
  g_assert_cmpuint (forgotten, ==, 0);
}

static void
test_apply_listing_reorders (void)
{
  g_autoptr(PbState) state = pb_state_new ("acct", NULL);
  const char *server[] = { "b", "a" };
  const char *none[] = { NULL };
  g_autofree char *order = NULL;

  pb_state_ensure (state, "a");
  pb_state_ensure (state, "b");
  g_assert_true (pb_state_apply_listing (state, server, G_N_ELEMENTS (server), NULL, NULL));
  order = joined_order (state);
  g_assert_cmpstr (order, ==, "b a");

  /* An empty maildrop: everything vanished. */
  g_assert_true (pb_state_apply_listing (state, none, 0, NULL, NULL));
  g_assert_cmpuint (pb_state_get_count (state), ==, 0);
  g_assert_null (pb_state_lookup (state, "a"));
}

/* The table behind lookups, against a GHashTable as the model: records
 * loaded from a file, added, removed and forgotten in a random order (the
 * table's deletion moves records around; every one must stay findable),
 * with a fixed seed so a failure repeats. */
static void
test_lookup_survives_churn (void)
{
  g_autofree char *path = state_path ("churn");
  g_autoptr(PbState) state = pb_state_new ("acct", path);
  g_autoptr(PbState) loaded = NULL;
  g_autoptr(GHashTable) model = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (20261127);
  g_autoptr(GError) error = NULL;
  GHashTableIter iter;
  gpointer key;

  for (guint i = 0; i < 3000; i++)
    {
      char *uidl = g_strdup_printf ("u%u", i);

      pb_state_ensure (state, uidl);
      g_hash_table_add (model, uidl);
    }
  g_assert_true (pb_state_save (state, &error));
  loaded = load_state (path, &error);
  g_assert_no_error (error);

  for (guint step = 0; step < 20000; step++)
    {
      g_autofree char *uidl = g_strdup_printf ("u%u", g_rand_int_range (rand, 0, 6000));

      if (g_rand_boolean (rand))
        {
          g_assert_nonnull (pb_state_ensure (loaded, uidl));
          g_hash_table_add (model, g_steal_pointer (&uidl));
        }
      else
        {
          pb_state_remove (loaded, uidl);
          g_hash_table_remove (model, uidl);
        }
    }

  g_assert_cmpuint (pb_state_get_count (loaded), ==, g_hash_table_size (model));
  g_hash_table_iter_init (&iter, model);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      PbMessageRecord *record = pb_state_lookup (loaded, key);

      g_assert_nonnull (record);
      g_assert_cmpstr (record->uidl, ==, key);
    }
  for (guint i = 0; i < 6000; i++)
    {
      g_autofree char *uidl = g_strdup_printf ("u%u", i);

      g_assert_true ((pb_state_lookup (loaded, uidl) != NULL) == g_hash_table_contains (model, uidl));
    }
}

static void
test_count_new_and_remove (void)
{
  g_autoptr(PbState) state = pb_state_new ("acct", NULL);
  g_autofree char *order = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  pb_state_ensure (state, "new")->flags = PB_MESSAGE_NOTIFIED | PB_MESSAGE_SUMMARIZED;
  pb_state_ensure (state, "downloaded")->flags = PB_MESSAGE_DOWNLOADED;
  pb_state_ensure (state, "dismissed")->flags = PB_MESSAGE_DISMISSED | PB_MESSAGE_NOTIFIED;
  pb_state_ensure (state, "unseen");

  g_assert_cmpuint (pb_state_count_new (state), ==, 2);
  g_assert_cmpint (pb_state_lookup (state, "unseen")->first_seen, >=, now);

  pb_state_remove (state, "new");
  pb_state_remove (state, "never-there");
  g_assert_cmpuint (pb_state_count_new (state), ==, 1);
  order = joined_order (state);
  g_assert_cmpstr (order, ==, "downloaded dismissed unseen");
}

static void
test_delete_file (void)
{
  g_autofree char *path = state_path ("delete");
  g_autofree char *aside = g_strconcat (path, ".corrupt", NULL);
  g_autoptr(PbState) state = pb_state_new ("acct", path);

  pb_state_ensure (state, "a");
  g_assert_true (pb_state_save (state, NULL));
  g_autofree char *journal = g_strconcat (path, ".journal", NULL);
  g_autofree char *lock = g_strconcat (path, ".lock", NULL);
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *other = g_build_filename (dir, "other.state", NULL);

  g_assert_true (g_file_set_contents (aside, "old", -1, NULL));
  g_assert_true (g_file_set_contents (journal, "", -1, NULL));
  g_assert_true (g_file_set_contents (lock, "", -1, NULL));
  g_assert_true (g_file_set_contents (other, "", -1, NULL));

  g_assert_true (pb_state_delete_file (state, NULL));
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (aside, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (journal, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (lock, G_FILE_TEST_EXISTS));
  /* Another account's state is not touched. */
  g_assert_true (g_file_test (other, G_FILE_TEST_EXISTS));
  /* Deleting what is not there is fine (an account never checked). */
  g_assert_true (pb_state_delete_file (state, NULL));
}

/* Loaded records and their strings live in the file's buffer; changing,
 * forgetting, adding and loading again must all still be exact. */
static void
test_edit_after_load (void)
{
  g_autofree char *path = state_path ("edit");
  g_autoptr(PbState) state = pb_state_new ("acct", path);
  g_autoptr(PbState) loaded = NULL;
  g_autoptr(PbState) final = NULL;
  g_autoptr(GHashTable) present = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(GError) error = NULL;
  PbMessageRecord *record;

  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *uidl = g_strdup_printf ("m%u", i);

      record = pb_state_ensure (state, uidl);
      pb_state_set_summary (state, record, "Old\tName", "old@example.org", "old subject", i);
    }
  g_assert_true (pb_state_save (state, NULL));

  loaded = load_state (path, &error);
  g_assert_no_error (error);
  record = pb_state_lookup (loaded, "m1");
  pb_state_set_summary (loaded, record, "New Name", NULL, "new subject", 42);
  pb_state_set_path (loaded, record, "/mail/new/1");
  pb_state_set_path (loaded, record, "/mail/new/1b");
  record = pb_state_lookup (loaded, "m2");
  pb_state_set_summary (loaded, record, record->from_name, record->from_address, "", 7);
  pb_state_remove (loaded, "m0");
  g_hash_table_add (present, (gpointer) "m1");
  g_hash_table_add (present, (gpointer) "m2");
  g_hash_table_add (present, (gpointer) "m3");
  g_hash_table_add (present, (gpointer) "m9");
  g_assert_cmpuint (pb_state_forget_missing (loaded, present), ==, 1);
  pb_state_ensure (loaded, "m9");
  g_assert_true (pb_state_save (loaded, NULL));
  /* Loading again over a loaded state replaces it. */
  g_assert_true (pb_state_load (loaded, NULL));
  g_assert_cmpuint (pb_state_get_count (loaded), ==, 4);

  final = load_state (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pb_state_get_count (final), ==, 4);
  record = pb_state_lookup (final, "m1");
  g_assert_cmpstr (record->from_name, ==, "New Name");
  g_assert_null (record->from_address);
  g_assert_cmpstr (record->subject, ==, "new subject");
  g_assert_cmpstr (record->path, ==, "/mail/new/1b");
  g_assert_cmpint (record->date, ==, 42);
  record = pb_state_lookup (final, "m2");
  g_assert_cmpstr (record->from_name, ==, "Old\tName");
  g_assert_cmpstr (record->subject, ==, "");
  g_assert_null (pb_state_lookup (final, "m0"));
  g_assert_null (pb_state_lookup (final, "m4"));
  g_assert_nonnull (pb_state_lookup (final, "m9"));
}

/* Resident memory of the process, in bytes: what a load really costs,
 * heap and mapped blocks alike. */
static gsize
resident_bytes (void)
{
  g_autofree char *statm = NULL;
  g_auto(GStrv) fields = NULL;

  if (!g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL))
    return 0;
  fields = g_strsplit (statm, " ", -1);
  if (g_strv_length (fields) < 2)
    return 0;
  return g_ascii_strtoull (fields[1], NULL, 10) * (gsize) sysconf (_SC_PAGESIZE);
}

/* CPU time of this process in microseconds: on a busy machine it says
 * more than the wall clock. */
static gint64
cpu_time (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (gint64) ts.tv_sec * G_USEC_PER_SEC + ts.tv_nsec / 1000;
}

/* Not a timing assertion (the machine may be busy): the figures are
 * printed for the benchmark notes, and the test checks the content. */
static void
test_load_100000 (void)
{
  const guint n = 100000;
  g_autofree char *path = state_path ("big");
  g_autoptr(PbState) state = pb_state_new ("acct", path);
  g_autoptr(PbState) loaded = NULL;
  g_autoptr(GHashTable) present = NULL;
  g_autoptr(GPtrArray) uidls = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  gint64 t0, c0, t_save, t_load, c_load, t_diff;
  gsize heap_before, heap_after;
  guint unknown = 0;
  GStatBuf st;

  for (guint i = 0; i < n; i++)
    {
      char *uidl = g_strdup_printf ("%08x%08x.%u", g_str_hash (path) + i, i * 2654435761u, i);
      PbMessageRecord *record = pb_state_ensure (state, uidl);

      g_ptr_array_add (uidls, uidl);
      g_autofree char *from_name = g_strdup_printf ("Sender Number %u", i % 500);
      g_autofree char *from_address = g_strdup_printf ("sender%u@example.org", i % 500);
      g_autofree char *subject = g_strdup_printf ("Re: weekly report %u — Grüße\tand a tab", i);
      g_autofree char *where = g_strdup_printf ("/home/alice/Mail/work/new/1700000000.%u.host", i);

      pb_state_set_summary (state, record, from_name, from_address, subject, 1700000000 + i);
      record->flags |= PB_MESSAGE_NOTIFIED | (i % 3 ? 0 : PB_MESSAGE_DOWNLOADED);
      record->size = 2000 + i;
      record->first_seen = 1700000000 + i;
      if (i % 3 == 0)
        pb_state_set_path (state, record, where);
    }

  t0 = g_get_monotonic_time ();
  g_assert_true (pb_state_save (state, &error));
  t_save = g_get_monotonic_time () - t0;
  g_assert_no_error (error);
  g_assert_cmpint (g_stat (path, &st), ==, 0);

  heap_before = resident_bytes ();
  t0 = g_get_monotonic_time ();
  c0 = cpu_time ();
  loaded = load_state (path, &error);
  c_load = cpu_time () - c0;
  t_load = g_get_monotonic_time () - t0;
  heap_after = resident_bytes ();
  g_assert_no_error (error);
  g_assert_cmpuint (pb_state_get_count (loaded), ==, n);

  /* The diff a check does: every UIDL on the server looked up, then the
   * vanished ones forgotten. */
  present = g_hash_table_new (g_str_hash, g_str_equal);
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      const char *uidl = g_ptr_array_index (uidls, i);

      g_hash_table_add (present, (gpointer) uidl);
      if (pb_state_lookup (loaded, uidl) == NULL)
        unknown++;
    }
  g_assert_cmpuint (pb_state_forget_missing (loaded, present), ==, 0);
  t_diff = g_get_monotonic_time () - t0;
  g_assert_cmpuint (unknown, ==, 0);
  g_assert_cmpuint (pb_state_count_new (loaded), ==, n - (n + 2) / 3);

  g_test_message ("state of %u records: file %.1f MiB; save %.1f ms; load %.1f ms "
                  "(CPU %.1f ms, resident +%.1f MiB); diff of %u UIDLs %.1f ms",
                  n, st.st_size / 1048576.0, t_save / 1000.0, t_load / 1000.0, c_load / 1000.0,
                  (heap_after - heap_before) / 1048576.0, n, t_diff / 1000.0);
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

  g_test_add_func ("/core/state/default-path", test_default_path);
  g_test_add_func ("/core/state/missing-file-is-fresh", test_missing_file_is_fresh);
  g_test_add_func ("/core/state/round-trip-every-field", test_round_trip_every_field);
  g_test_add_func ("/core/state/fresh-round-trip", test_fresh_round_trip);
  g_test_add_func ("/core/state/invalid-utf8-repaired", test_invalid_utf8_repaired);
  g_test_add_func ("/core/state/save-is-private-and-leaves-no-temp", test_save_is_private_and_leaves_no_temp);
  g_test_add_func ("/core/state/save-failure-is-disk-error", test_save_failure_is_disk_error);
  for (guint i = 0; i < G_N_ELEMENTS (corrupt_cases); i++)
    {
      g_autofree char *name = g_strconcat ("/core/state/corrupt/", corrupt_cases[i].name, NULL);
      g_test_add_data_func (name, GUINT_TO_POINTER (i), test_corrupt);
    }
  for (guint i = 0; i < G_N_ELEMENTS (unreadable_names); i++)
    {
      g_autofree char *name = g_strconcat ("/core/state/unreadable/", unreadable_names[i], NULL);

      g_test_add_data_func (name, GUINT_TO_POINTER (i), test_unreadable);
    }
  g_test_add_data_func ("/core/state/unreadable-then-refreshed", GINT_TO_POINTER (FALSE),
                        test_unreadable_then_merged);
  g_test_add_data_func ("/core/state/unreadable-then-saved", GINT_TO_POINTER (TRUE),
                        test_unreadable_then_merged);
  g_test_add_func ("/core/state/forget-missing", test_forget_missing);
  g_test_add_func ("/core/state/order", test_order);
  g_test_add_func ("/core/state/apply-listing", test_apply_listing);
  g_test_add_func ("/core/state/apply-listing-reorders", test_apply_listing_reorders);
  g_test_add_func ("/core/state/lookup-survives-churn", test_lookup_survives_churn);
  g_test_add_func ("/core/state/count-new-and-remove", test_count_new_and_remove);
  g_test_add_func ("/core/state/delete-file", test_delete_file);
  g_test_add_func ("/core/state/edit-after-load", test_edit_after_load);
  g_test_add_func ("/core/state/load-100000", test_load_100000);
  return g_test_run ();
}

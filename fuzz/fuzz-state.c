/* libFuzzer target for the state file (src/core/pb-state.c).
 *
 * Input: the bytes of a state file. The oracle:
 *   - pb_state_load() never crashes or reads out of bounds (the field scan
 *     loads 16 bytes at a time past the fields it looks at);
 *   - it either succeeds, or fails with PB_CORE_ERROR_STATE, leaves an
 *     empty state and the file set aside as <path>.corrupt;
 *   - a loaded state is consistent (every record found by its UIDL, flags
 *     known, text UTF-8) and survives a save and a load unchanged;
 *   - applying a listing (every other UIDL, plus a new one) leaves exactly
 *     the listed records in the listed order;
 *   - saving that over the original file rewritten by "another writer"
 *     merges it without bringing the forgotten records back.
 *
 * Run (tools/fuzz.sh sets up build-fuzz/):
 *   meson compile -C build-fuzz fuzz/fuzz-state
 *   cp -r fuzz/corpus/state /tmp/corpus   (libFuzzer adds to its corpus dir)
 *   build-fuzz/fuzz/fuzz-state -max_total_time=60 -max_len=4096 /tmp/corpus */
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/pb-core-error.h"
#include "core/pb-state.h"

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond))                                                        \
      {                                                                 \
        fprintf (stderr, "fuzz-state: check failed: %s (line %d)\n",    \
                 #cond, __LINE__);                                      \
        abort ();                                                       \
      }                                                                 \
  } while (0)

#define KNOWN_FLAGS (PB_MESSAGE_NOTIFIED | PB_MESSAGE_DOWNLOADED | \
                     PB_MESSAGE_DISMISSED | PB_MESSAGE_SUMMARIZED)

static char *dir;

static void
remove_dir_contents (void)
{
  g_autoptr(GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *file = g_build_filename (dir, name, NULL);

      g_unlink (file);
    }
}

static gboolean
same_string (const char *a,
             const char *b)
{
  return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp (a, b) == 0);
}

static void
check_consistent (PbState *state)
{
  g_autoptr(GPtrArray) records = pb_state_list (state);

  CHECK (records->len == pb_state_get_count (state));
  for (guint i = 0; i < records->len; i++)
    {
      PbMessageRecord *record = g_ptr_array_index (records, i);

      CHECK (record->uidl != NULL && record->uidl[0] != '\0');
      CHECK (pb_state_lookup (state, record->uidl) == record);
      CHECK ((record->flags & ~KNOWN_FLAGS) == 0);
      CHECK (record->from_name == NULL || g_utf8_validate (record->from_name, -1, NULL));
      CHECK (record->from_address == NULL || g_utf8_validate (record->from_address, -1, NULL));
      CHECK (record->subject == NULL || g_utf8_validate (record->subject, -1, NULL));
    }
}

static void
check_same (PbState *a,
            PbState *b)
{
  g_autoptr(GPtrArray) ra = pb_state_list (a);
  g_autoptr(GPtrArray) rb = pb_state_list (b);

  CHECK (ra->len == rb->len);
  CHECK (pb_state_is_fresh (a) == pb_state_is_fresh (b));
  for (guint i = 0; i < ra->len; i++)
    {
      PbMessageRecord *x = g_ptr_array_index (ra, i);
      PbMessageRecord *y = g_ptr_array_index (rb, i);

      CHECK (strcmp (x->uidl, y->uidl) == 0);
      CHECK (x->flags == y->flags && x->size == y->size && x->date == y->date &&
             x->first_seen == y->first_seen);
      CHECK (same_string (x->from_name, y->from_name));
      CHECK (same_string (x->from_address, y->from_address));
      CHECK (same_string (x->subject, y->subject));
      CHECK (same_string (x->path, y->path));
    }
}

static void
check_listing (PbState *state)
{
  g_autoptr(GPtrArray) records = pb_state_list (state);
  g_autoptr(GPtrArray) listing = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) after = NULL;

  for (guint i = 0; i < records->len; i += 2)
    g_ptr_array_add (listing, g_strdup (((PbMessageRecord *) records->pdata[i])->uidl));
  g_ptr_array_add (listing, g_strdup ("fuzz-new\x01"));  /* never in a file: no control bytes there */

  pb_state_apply_listing (state, (const char **) listing->pdata, listing->len, NULL, NULL);
  after = pb_state_list (state);
  CHECK (after->len == listing->len);
  for (guint i = 0; i < after->len; i++)
    CHECK (strcmp (((PbMessageRecord *) after->pdata[i])->uidl, listing->pdata[i]) == 0);
  check_consistent (state);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *path = NULL;
  g_autofree char *copy_path = NULL;
  g_autofree char *aside = NULL;
  g_autoptr(PbState) state = NULL;
  g_autoptr(GError) error = NULL;

  if (dir == NULL)
    {
      /* In memory where there is a tmpfs: every save fsyncs. */
      const char *base = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir ();

      dir = g_build_filename (base, "fuzz-state-XXXXXX", NULL);
      CHECK (g_mkdtemp (dir) != NULL);
    }
  path = g_build_filename (dir, "a.state", NULL);
  copy_path = g_build_filename (dir, "b.state", NULL);
  aside = g_strconcat (path, ".corrupt", NULL);
  CHECK (g_file_set_contents (path, (const char *) data, size, NULL));

  state = pb_state_new ("fuzz", path);
  if (pb_state_load (state, &error))
    {
      g_autoptr(PbState) copy = pb_state_new ("fuzz", copy_path);
      g_autoptr(PbState) back = pb_state_new ("fuzz", copy_path);
      g_autoptr(GPtrArray) records = pb_state_list (state);

      check_consistent (state);
      /* A copy with every record, saved elsewhere and loaded again. */
      pb_state_set_fresh (copy, pb_state_is_fresh (state));
      for (guint i = 0; i < records->len; i++)
        {
          PbMessageRecord *from = g_ptr_array_index (records, i);
          PbMessageRecord *to = pb_state_ensure (copy, from->uidl);

          to->flags = from->flags;
          to->size = from->size;
          to->date = from->date;
          to->first_seen = from->first_seen;
          pb_state_set_summary (copy, to, from->from_name, from->from_address, from->subject, from->date);
          to->flags = from->flags;  /* set_summary adds SUMMARIZED */
          pb_state_set_path (copy, to, from->path);
        }
      CHECK (pb_state_save (copy, NULL));
      CHECK (pb_state_load (back, NULL));
      check_same (state, back);
      check_listing (state);

      /* Another writer saves the file as it was: the merge of our save
       * must keep forgotten what the listing forgot, and change nothing
       * else (its flags are ours). */
      {
        g_autoptr(PbState) merged = pb_state_new ("fuzz", path);

        CHECK (g_file_set_contents (path, (const char *) data, size, NULL));
        CHECK (pb_state_save (state, NULL));
        CHECK (pb_state_load (merged, NULL));
        check_same (state, merged);
      }
    }
  else
    {
      CHECK (error != NULL && error->domain == PB_CORE_ERROR);
      CHECK (pb_state_get_count (state) == 0);
      if (error->code == PB_CORE_ERROR_STATE)
        CHECK (g_file_test (aside, G_FILE_TEST_EXISTS) && !g_file_test (path, G_FILE_TEST_EXISTS));
    }
  remove_dir_contents ();
  return 0;
}

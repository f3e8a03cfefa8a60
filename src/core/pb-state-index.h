/* pb-state-index.h: PbState's records as it keeps them, and the table that
 * finds one by UIDL. Private to pb-state.c (and its tests through it).
 *
 * Why not a GHashTable: a state of 100,000 records is looked up 100,000
 * times per check. This table is sized once from the file's record count
 * (no growth while loading), holds one pointer per slot (2 MiB for 100,000
 * records instead of about 5 for GHashTable's keys, values and hashes), and
 * keeps each record's hash in the record, so a probe compares strings only
 * when the hashes match and growing never hashes a string again. */
#pragma once

#include <glib.h>

#include "pb-state.h"

G_BEGIN_DECLS

/* What the state allocates per message; callers see only @pub (the first
 * member, so a PbMessageRecord pointer converts back). */
typedef struct {
  PbMessageRecord pub;
  guint32         hash;
  /* The pass that last saw this record (see pb_state_apply_listing()). */
  guint32         mark    : 31;
  /* In the file as this process last loaded or saved it: a record another
   * process has since removed from the file was forgotten by a writer that
   * saw the server without it (see "Two writers" in pb-state.c). */
  guint32         on_disk : 1;
} PbStateRecord;

typedef struct {
  PbStateRecord **slots;   /* open addressing, linear probing; NULL is empty */
  guint           mask;    /* number of slots - 1 (a power of two - 1) */
  guint           count;
  gpointer        map;     /* the mapping the slots live in */
  gsize           map_len;
} PbStateIndex;

guint32         pb_state_index_hash   (const char *uidl, gsize len);
/* Room for @count records without growing. */
void            pb_state_index_init   (PbStateIndex *index, guint count);
void            pb_state_index_clear  (PbStateIndex *index);
PbStateRecord  *pb_state_index_lookup (const PbStateIndex *index, const char *uidl, guint32 hash);
/* FALSE (and nothing inserted) when a record with that UIDL is there. */
gboolean        pb_state_index_insert (PbStateIndex *index, PbStateRecord *record);
void            pb_state_index_remove (PbStateIndex *index, PbStateRecord *record);

/* Asks for the slot of @hash to be brought into the cache: a pass over
 * many records calls this some records ahead, so the misses overlap. */
static inline void
pb_state_index_prefetch (const PbStateIndex *index,
                         guint32             hash)
{
  __builtin_prefetch (&index->slots[hash & index->mask]);
}

/* Zeroed anonymous memory, on 2 MiB pages where the kernel allows and
 * populated in one system call. */
gpointer        pb_state_block_alloc  (gsize size, gpointer *map, gsize *map_len);
void            pb_state_block_free   (gpointer *map, gsize *map_len);

G_END_DECLS

/* pb-state.c: one account's message records, in a line format that loads
 * 100,000 records in about 25 ms.
 *
 * The file:
 *
 *   popbiff-state<TAB>1<TAB>FRESH<TAB>COUNT\n
 *   UIDL<TAB>FLAGS<TAB>SIZE<TAB>DATE<TAB>FIRST_SEEN<TAB>FROM_NAME<TAB>FROM_ADDRESS<TAB>SUBJECT<TAB>PATH\n
 *   ...
 *
 * FRESH is 0 or 1, COUNT the number of record lines (so a truncated file is
 * detected even when it was cut at a line end). Numbers are decimal.
 * Strings are escaped: backslash, tab, newline and carriage return become
 * \\ \t \n \r; an empty field is NULL and "\E" is the empty string. Records
 * are in server order, oldest first. Anything else is a corrupt file.
 *
 * Why loading is fast: the file is read in one go and kept; its fields are
 * found 64 bytes at a time, unescaped and NUL-terminated in place, so
 * the strings of loaded records point into that buffer, and the loaded
 * records live in one array. The UIDL table (pb-state-index.c) is sized
 * from COUNT and filled in a pass of its own that fetches slots ahead.
 * 100,000 records cost one read and a handful of allocations instead of
 * 600,000. A record created or a string changed later is allocated on its
 * own; owns_string() and owns_record() tell which is which when freeing.
 *
 * Why a check's diff is fast: pb_state_apply_listing() looks each listed
 * UIDL up once and marks the record (a pass number in the record, not a
 * set built per check); the unmarked are forgotten in one compacting pass,
 * and the server's order is confirmed by one sequential comparison.
 *
 * Two writers. The applet's check and a `popbiff fetch`, `dismiss` or a
 * second `check` may work on one account at once, each with the state it
 * loaded, and each saves. A plain "last save wins" lost the other's flags
 * (a fetch's DOWNLOADED, and the next fetch downloaded the message twice).
 * So every save is a read-modify-write under S.write-lock (flock):
 *   1. take the lock (waiting, polling, at most LOCK_WAIT_MS);
 *   2. if the file is not the one this object last read or wrote (inode,
 *      size and times differ), read it and merge it in (merge_records()):
 *      - flags are monotonic while a UIDL is on the server: NOTIFIED,
 *        DOWNLOADED and DISMISSED set on disk stay set; a summary, path or
 *        size we lack is taken;
 *      - a message on disk we do not hold was seen by the other writer:
 *        kept, unless we forgot it since (self->forgotten: the writer that
 *        saw the server list without it decides);
 *      - a message we had read from (or written to) the file that is gone
 *        from it now was forgotten by the other writer: dropped;
 *   3. write a temporary file, fsync, rename, fsync the directory;
 *   4. unlock.
 * The lock is held only around this (milliseconds; a few hundred for a
 * huge state on a slow disk), never across network I/O, so the applet's
 * main loop never waits long; loading takes no lock (the rename is
 * atomic). S.write-lock is not the fetch's S.lock, which a fetch holds for
 * its whole run. A save may thus add and drop records: do not keep record
 * pointers across one.
 */
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "pop3/pb-pop3-client.h"
#include "pb-core-error.h"
#include "pb-state.h"
#include "pb-state-index.h"
#include "pb-summary.h"
#include "pb-write-lock.h"

#define STATE_MAGIC    "popbiff-state"
#define STATE_VERSION  1
#define N_FIELDS       9
#define KNOWN_FLAGS    (PB_MESSAGE_NOTIFIED | PB_MESSAGE_DOWNLOADED | \
                        PB_MESSAGE_DISMISSED | PB_MESSAGE_SUMMARIZED)
#define WRITE_CHUNK    (64 * 1024)
#define INDEX_PREFETCH 16
#define WRITE_LOCK_SUFFIX ".write-lock"
#define LOCK_WAIT_MS   5000

/* Which file a path named when we last read or wrote it: every save
 * renames a new file into place, so another writer's save changes the
 * inode and the times. */
typedef struct {
  gboolean        known;
  dev_t           dev;
  ino_t           ino;
  off_t           size;
  struct timespec mtime;
  struct timespec ctime;
} FileId;

static void
file_id_set (FileId            *id,
             const struct stat *st)
{
  id->known = TRUE;
  id->dev = st->st_dev;
  id->ino = st->st_ino;
  id->size = st->st_size;
  id->mtime = st->st_mtim;
  id->ctime = st->st_ctim;
}

static gboolean
file_id_is (const FileId      *id,
            const struct stat *st)
{
  return id->known && id->dev == st->st_dev && id->ino == st->st_ino &&
         id->size == st->st_size &&
         id->mtime.tv_sec == st->st_mtim.tv_sec && id->mtime.tv_nsec == st->st_mtim.tv_nsec &&
         id->ctime.tv_sec == st->st_ctim.tv_sec && id->ctime.tv_nsec == st->st_ctim.tv_nsec;
}

struct _PbState
{
  GObject parent_instance;

  char          *account_name;
  char          *path;
  PbStateIndex   index;     /* uidl -> PbStateRecord */
  GPtrArray     *order;     /* PbStateRecord (owned, see record_free()), server order */
  gboolean       fresh;
  guint32        mark;      /* the latest pass's mark, see next_mark() */

  /* What merge_disk_changes() needs to know ("Two writers" above): the
   * file as this object last read or wrote it, and the UIDLs it has
   * forgotten since (owned strings; only those that were in that file). */
  FileId         file_id;
  GHashTable    *forgotten;
  /* Why the last load could not read the file, NULL when it could (or
   * found none). See pb_state_get_read_error(). */
  GError        *read_error;

  char          *buffer;    /* the loaded file, loaded strings point into it */
  gsize          buffer_len;
  gpointer       buffer_map;
  gsize          buffer_map_len;
  PbStateRecord *loaded;    /* the loaded records */
  guint          n_loaded;
  gpointer       loaded_map;
  gsize          loaded_map_len;
};

G_DEFINE_TYPE (PbState, pb_state, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ACCOUNT_NAME,
  PROP_PATH,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
owns_string (PbState    *self,
             const char *text)
{
  return self->buffer != NULL && text >= self->buffer && text < self->buffer + self->buffer_len;
}

static gboolean
owns_record (PbState             *self,
             const PbStateRecord *record)
{
  return self->loaded != NULL && record >= self->loaded && record < self->loaded + self->n_loaded;
}

static void
free_string (PbState  *self,
             char    **text)
{
  if (!owns_string (self, *text))
    g_free (*text);
  *text = NULL;
}

static void
set_string (PbState    *self,
            char      **field,
            const char *value)
{
  char *copy;

  if (*field == value)
    return;
  copy = g_strdup (value);
  free_string (self, field);
  *field = copy;
}

/* Frees what the record owns, and the record unless it is in the loaded
 * array. The caller removes it from the index and the order first. */
static void
record_free (PbState       *self,
             PbStateRecord *record)
{
  free_string (self, &record->pub.uidl);
  free_string (self, &record->pub.from_name);
  free_string (self, &record->pub.from_address);
  free_string (self, &record->pub.subject);
  free_string (self, &record->pub.path);
  if (!owns_record (self, record))
    g_free (record);
}

/* Forgets a record that is in the index (the caller takes it out of the
 * order). */
static void
forget_record (PbState       *self,
               PbStateRecord *record)
{
  /* Remembered until the next save, so that merging the file does not
   * bring it back. */
  if (record->on_disk)
    g_hash_table_add (self->forgotten, g_strdup (record->pub.uidl));
  pb_state_index_remove (&self->index, record);
  record_free (self, record);
}

static PbStateRecord *
lookup (PbState    *self,
        const char *uidl)
{
  return pb_state_index_lookup (&self->index, uidl, pb_state_index_hash (uidl, strlen (uidl)));
}

/* A record for @uidl, which the state does not hold yet, at the end of the
 * order. */
static PbStateRecord *
add_record (PbState    *self,
            const char *uidl)
{
  PbStateRecord *record = g_new0 (PbStateRecord, 1);
  gsize len = strlen (uidl);

  record->pub.uidl = g_memdup2 (uidl, len + 1);
  record->pub.first_seen = g_get_real_time () / G_USEC_PER_SEC;
  record->hash = pb_state_index_hash (uidl, len);
  record->mark = self->mark;
  if (!pb_state_index_insert (&self->index, record))
    g_assert_not_reached ();
  g_ptr_array_add (self->order, record);
  return record;
}

/* A mark no record carries yet: the passes over the records (the listing,
 * the order) mark what they have seen instead of building a set. */
static guint32
next_mark (PbState *self)
{
  self->mark = (self->mark + 1) & 0x7fffffff;
  if (self->mark == 0)
    {
      /* Wrapped after 2^31 passes: old marks could look current. */
      for (guint i = 0; i < self->order->len; i++)
        ((PbStateRecord *) g_ptr_array_index (self->order, i))->mark = 0;
      self->mark = 1;
    }
  return self->mark;
}

/* Keeps, in order, the records for which @keep is TRUE and forgets the
 * others, in one pass: O(n), not O(n²). Returns how many were forgotten. */
static guint
forget_unless (PbState  *self,
               gboolean (*keep) (PbStateRecord *record, gpointer data),
               gpointer  data)
{
  guint kept = 0;
  guint forgotten;

  for (guint i = 0; i < self->order->len; i++)
    {
      PbStateRecord *record = g_ptr_array_index (self->order, i);

      if (keep (record, data))
        self->order->pdata[kept++] = record;
      else
        forget_record (self, record);
    }
  forgotten = self->order->len - kept;
  g_ptr_array_set_size (self->order, kept);
  return forgotten;
}

/* Kept by a merge: in the file now (marked), or not yet saved by us. */
static gboolean
in_file_or_new (PbStateRecord *record,
                gpointer       mark)
{
  return record->mark == GPOINTER_TO_UINT (mark) || !record->on_disk;
}

static guint32
hash_and_prefetch (PbState    *self,
                   const char *uidl)
{
  guint32 hash;

  if (uidl == NULL)
    return 0;
  hash = pb_state_index_hash (uidl, strlen (uidl));
  if (self->index.slots != NULL)
    pb_state_index_prefetch (&self->index, hash);
  return hash;
}

static void
clear_records (PbState *self)
{
  for (guint i = 0; i < self->order->len; i++)
    record_free (self, g_ptr_array_index (self->order, i));
  g_ptr_array_set_size (self->order, 0);
  pb_state_index_clear (&self->index);
  pb_state_block_free (&self->loaded_map, &self->loaded_map_len);
  self->loaded = NULL;
  self->n_loaded = 0;
  pb_state_block_free (&self->buffer_map, &self->buffer_map_len);
  self->buffer = NULL;
  self->buffer_len = 0;
}

PbState *
pb_state_new (const char *account_name,
              const char *path)
{
  g_return_val_if_fail (account_name != NULL, NULL);

  return g_object_new (PB_TYPE_STATE, "account-name", account_name, "path", path, NULL);
}

const char *
pb_state_get_path (PbState *self)
{
  g_return_val_if_fail (PB_IS_STATE (self), NULL);
  return self->path;
}

/* Parsing */

typedef struct {
  char     *start;
  gsize     len;
  gboolean  escaped;    /* holds a backslash */
  gboolean  non_ascii;  /* holds a byte >= 0x80: check it is UTF-8 */
} Field;

static gboolean
parse_uint64 (const Field *field,
              guint64     *out)
{
  guint64 value = 0;

  if (field->len == 0 || field->len > 20)
    return FALSE;
  for (gsize i = 0; i < field->len; i++)
    {
      guint digit = (guchar) field->start[i] - '0';

      if (digit > 9)
        return FALSE;
      /* Only a 20th digit can overflow (19 nines fit in 64 bits). */
      if (i == 19 && (value > G_MAXUINT64 / 10 || value * 10 > G_MAXUINT64 - digit))
        return FALSE;
      value = value * 10 + digit;
    }
  *out = value;
  return TRUE;
}

static gboolean
parse_int64 (const Field *field,
             gint64      *out)
{
  Field digits = *field;
  gboolean negative = FALSE;
  guint64 value;

  if (digits.len > 0 && digits.start[0] == '-')
    {
      negative = TRUE;
      digits.start++;
      digits.len--;
    }
  if (!parse_uint64 (&digits, &value))
    return FALSE;
  if (negative ? value > (guint64) G_MAXINT64 + 1 : value > (guint64) G_MAXINT64)
    return FALSE;
  *out = negative ? (gint64) (0 - value) : (gint64) value;
  return TRUE;
}

/* Unescapes @field in place and NUL-terminates it (over the separator
 * after it, or the shrunk tail); *@out points to it, or is NULL for an
 * empty field. Returns FALSE on an unknown escape. */
static gboolean
parse_string (const Field *field,
              char       **out)
{
  const char *src = field->start;
  const char *end = field->start + field->len;
  char *dst = field->start;

  *out = NULL;
  if (field->len == 0)
    return TRUE;
  if (!field->escaped)
    {
      field->start[field->len] = '\0';
      *out = field->start;
      return TRUE;
    }
  if (field->len == 2 && src[0] == '\\' && src[1] == 'E')
    {
      field->start[0] = '\0';
      *out = field->start;
      return TRUE;
    }

  *out = field->start;
  while (src < end)
    {
      if (*src != '\\')
        {
          *dst++ = *src++;
          continue;
        }
      if (src + 1 == end)
        goto bad;
      switch (src[1])
        {
        case '\\': *dst++ = '\\'; break;
        case 't':  *dst++ = '\t'; break;
        case 'n':  *dst++ = '\n'; break;
        case 'r':  *dst++ = '\r'; break;
        default:   goto bad;
        }
      src += 2;
    }
  *dst = '\0';
  return TRUE;

bad:
  *out = NULL;
  return FALSE;
}

/* Text shown to a person must be UTF-8; a byte that is not is replaced
 * rather than making the whole file "corrupt". The repaired copy is
 * allocated on its own (the original is in the buffer). */
static void
ensure_utf8 (PbState  *self,
             char    **text)
{
  char *valid;

  if (*text == NULL || g_utf8_validate (*text, -1, NULL))
    return;
  valid = g_utf8_make_valid (*text, -1);
  free_string (self, text);
  *text = valid;
}

/* Splits the line at @line into exactly @n tab-separated fields. Returns
 * the line's '\n', or NULL when the line is cut short or has another
 * number of fields. A field ends at a TAB, LF or NUL (NUL is also the
 * sentinel at @end, so no end check is needed per byte); a backslash only
 * marks it as escaped (parse_string() checks the escapes, and "\\" followed
 * by a real TAB is a field that ends in a lone backslash: malformed).
 *
 * Where the CPU has SSE2, 64 bytes at a time become bit masks (separators,
 * backslashes, bytes >= 0x80) and the fields are read off the separator
 * bits: one unpredictable branch per 64 bytes instead of one per field
 * (a byte at a time took a third of a 100,000-record load). The loads run
 * up to 63 bytes past the last separator: the buffer has SCAN_SLACK
 * readable bytes after @end. */
#define SCAN_SLACK 64
#ifdef __SSE2__
static inline guint64
mask_of (__m128i a, __m128i b, __m128i c, __m128i d)
{
  return (guint64) (guint) _mm_movemask_epi8 (a)
         | (guint64) (guint) _mm_movemask_epi8 (b) << 16
         | (guint64) (guint) _mm_movemask_epi8 (c) << 32
         | (guint64) (guint) _mm_movemask_epi8 (d) << 48;
}

static char *
scan_fields (char       *line,
             const char *end,
             Field      *fields,
             guint       n)
{
  const __m128i tab = _mm_set1_epi8 ('\t');
  const __m128i lf = _mm_set1_epi8 ('\n');
  const __m128i nul = _mm_setzero_si128 ();
  const __m128i backslash = _mm_set1_epi8 ('\\');
  char *block = line;
  char *start = line;
  gboolean escaped = FALSE;
  gboolean non_ascii = FALSE;
  guint i = 0;

  g_assert (*end == '\0');

  for (;; block += 64)
    {
      __m128i v[4];
      __m128i sep[4], esc[4];
      guint64 seps, escs, highs;
      /* Bits before the current field's start in this block. */
      guint64 done = start > block ? (G_GUINT64_CONSTANT (1) << (start - block)) - 1 : 0;

      for (guint k = 0; k < 4; k++)
        {
          v[k] = _mm_loadu_si128 ((const __m128i *) (block + 16 * k));
          sep[k] = _mm_or_si128 (_mm_or_si128 (_mm_cmpeq_epi8 (v[k], tab),
                                               _mm_cmpeq_epi8 (v[k], lf)),
                                 _mm_cmpeq_epi8 (v[k], nul));
          esc[k] = _mm_cmpeq_epi8 (v[k], backslash);
        }
      seps = mask_of (sep[0], sep[1], sep[2], sep[3]) & ~done;
      escs = mask_of (esc[0], esc[1], esc[2], esc[3]) & ~done;
      highs = mask_of (v[0], v[1], v[2], v[3]) & ~done;

      while (seps != 0)
        {
          guint at = (guint) __builtin_ctzll (seps);
          guint64 before = (G_GUINT64_CONSTANT (1) << at) - 1;
          char c = block[at];

          if (c == '\0')
            return NULL;  /* a NUL inside, or the line is cut short */
          fields[i].start = start;
          fields[i].len = block + at - start;
          fields[i].escaped = escaped || (escs & before) != 0;
          fields[i].non_ascii = non_ascii || (highs & before) != 0;
          if (++i == n)
            return c == '\n' ? block + at : NULL;
          if (c != '\t')
            return NULL;
          /* The next field starts after this separator. */
          start = block + at + 1;
          escaped = non_ascii = FALSE;
          before |= G_GUINT64_CONSTANT (1) << at;
          seps &= ~before;
          escs &= ~before;
          highs &= ~before;
        }
      /* The field goes on into the next block. */
      escaped = escaped || escs != 0;
      non_ascii = non_ascii || highs != 0;
    }
}
#else
static char *
scan_fields (char       *line,
             const char *end,
             Field      *fields,
             guint       n)
{
  static const guint8 separator[256] = { ['\0'] = 1, ['\t'] = 1, ['\n'] = 1 };
  char *p = line;

  g_assert (*end == '\0');

  for (guint i = 0; i < n; i++)
    {
      char *start = p;
      guint8 high = 0;
      gboolean escaped = FALSE;

      for (; separator[(guchar) *p] == 0; p++)
        {
          high |= (guchar) *p;
          escaped |= *p == '\\';
        }
      if (*p == '\0')
        return NULL;  /* a NUL inside, or the line is cut short */
      fields[i].start = start;
      fields[i].len = p - start;
      fields[i].escaped = escaped;
      fields[i].non_ascii = (high & 0x80) != 0;
      if (i + 1 < n)
        {
          if (*p != '\t')
            return NULL;
          p++;
        }
    }
  return *p == '\n' ? p : NULL;
}
#endif

/* Parses one line into @record; its strings point into the line. Returns
 * the next line, or NULL and a reason when the line is malformed. */
static char *
parse_record (char             *line,
              const char       *end,
              PbMessageRecord  *record,
              gsize            *uidl_len,
              guint            *non_ascii,
              const char      **reason)
{
  Field f[N_FIELDS];
  guint64 flags;
  char *nl;

  nl = scan_fields (line, end, f, N_FIELDS);
  if (nl == NULL)
    {
      /* Nothing of this line was written to yet, so a NUL in the rest of
       * the buffer came from the file. */
      if (memchr (line, '\0', end - line) != NULL)
        *reason = _("the file holds binary data");
      else
        *reason = _("a line is malformed");
      return NULL;
    }

  if (!parse_string (&f[0], &record->uidl) || record->uidl == NULL || *record->uidl == '\0' ||
      !parse_uint64 (&f[1], &flags) || (flags & ~(guint64) KNOWN_FLAGS) != 0 ||
      !parse_uint64 (&f[2], &record->size) ||
      !parse_int64 (&f[3], &record->date) ||
      !parse_int64 (&f[4], &record->first_seen) ||
      !parse_string (&f[5], &record->from_name) ||
      !parse_string (&f[6], &record->from_address) ||
      !parse_string (&f[7], &record->subject) ||
      !parse_string (&f[8], &record->path))
    {
      *reason = _("a line is malformed");
      return NULL;
    }
  record->flags = (PbMessageFlags) flags;
  *uidl_len = f[0].escaped ? strlen (record->uidl) : f[0].len;
  /* Which of the texts shown to a person need their UTF-8 checked. */
  *non_ascii = (f[5].non_ascii ? 1 : 0) | (f[6].non_ascii ? 2 : 0) | (f[7].non_ascii ? 4 : 0);
  return nl + 1;
}

/* Reads the file into self->buffer. */
static gboolean
read_file (PbState     *self,
           struct stat *st_out,
           int         *saved_errno)
{
  struct stat st;
  gsize len = 0;
  int fd;

  /* O_NONBLOCK: a FIFO at the path must not block the open until some
   * writer comes along (it changes nothing for a regular file). */
  fd = open (self->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    {
      *saved_errno = errno;
      return FALSE;
    }
  if (fstat (fd, &st) != 0)
    {
      *saved_errno = errno;
      close (fd);
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      /* A directory, a FIFO, a device: nothing a save ever wrote. */
      *saved_errno = S_ISDIR (st.st_mode) ? EISDIR : EINVAL;
      close (fd);
      return FALSE;
    }

  /* The NUL after the data is scan_fields()'s sentinel (the block is
   * zeroed), and the slack after it lets scan_fields() load 64 bytes. */
  self->buffer = pb_state_block_alloc ((gsize) st.st_size + 1 + SCAN_SLACK,
                                      &self->buffer_map, &self->buffer_map_len);
  while (len < (gsize) st.st_size)
    {
      gssize n = read (fd, self->buffer + len, st.st_size - len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          *saved_errno = errno;
          close (fd);
          return FALSE;
        }
      if (n == 0)
        break;  /* shrank while we read: what we have is judged as is */
      len += n;
    }
  close (fd);
  self->buffer_len = len;
  *st_out = st;
  return TRUE;
}

/* Parses self->buffer (strings of loaded records will point into it);
 * returns a reason for a person when it is not a state file this version
 * wrote. */
static const char *
parse_file (PbState *self)
{
  char *data = self->buffer;
  gsize len = self->buffer_len;
  const char *end = data + len;
  char *line = data;
  char *nl;
  Field header[4];
  guint64 version, fresh, count, seen = 0;
  const char *reason;

  if (len == 0)
    return _("the file is empty");
  if (data[len - 1] != '\n')
    return _("the file is truncated");

  nl = scan_fields (line, end, header, 4);
  if (nl == NULL ||
      header[0].len != strlen (STATE_MAGIC) ||
      memcmp (header[0].start, STATE_MAGIC, header[0].len) != 0)
    return _("it is not a Popbiff state file");
  if (!parse_uint64 (&header[1], &version) || version != STATE_VERSION)
    return _("it was written by another version of Popbiff");
  if (!parse_uint64 (&header[2], &fresh) || fresh > 1 ||
      !parse_uint64 (&header[3], &count) || count > G_MAXUINT)
    return _("its header has a bad number");

  /* Every line is at least N_FIELDS bytes, which bounds a lying count. */
  if (count > len / N_FIELDS)
    return _("the file is truncated");
  if (count > 0)
    self->loaded = pb_state_block_alloc (count * sizeof (PbStateRecord),
                                         &self->loaded_map, &self->loaded_map_len);
  self->n_loaded = (guint) count;
  pb_state_index_init (&self->index, (guint) count);
  g_ptr_array_unref (self->order);
  self->order = g_ptr_array_sized_new ((guint) count);

  line = nl + 1;
  while (line < end)
    {
      PbStateRecord *record;
      gsize uidl_len;
      guint non_ascii;

      if (seen == count)
        return _("the file has more lines than its header says");
      record = &self->loaded[seen++];
      nl = parse_record (line, end, &record->pub, &uidl_len, &non_ascii, &reason);
      if (nl == NULL)
        return reason;
      record->hash = pb_state_index_hash (record->pub.uidl, uidl_len);
      record->on_disk = TRUE;
      g_ptr_array_add (self->order, record);
      if (non_ascii & 1)
        ensure_utf8 (self, &record->pub.from_name);
      if (non_ascii & 2)
        ensure_utf8 (self, &record->pub.from_address);
      if (non_ascii & 4)
        ensure_utf8 (self, &record->pub.subject);
      line = nl;
    }
  if (seen != count)
    return _("the file is truncated");

  /* The table in a pass of its own, each slot fetched into the cache a few
   * records ahead: after the parse streamed the file through the cache,
   * every insert missed it (22 ms for 100,000 records on the development
   * VM, 4 ms this way). */
  for (guint i = 0; i < seen; i++)
    {
      if (i + INDEX_PREFETCH < seen)
        pb_state_index_prefetch (&self->index, self->loaded[i + INDEX_PREFETCH].hash);
      /* A file with a UIDL twice was not written by us. */
      if (!pb_state_index_insert (&self->index, &self->loaded[i]))
        return _("a message is listed twice");
    }
  self->fresh = fresh != 0;
  return NULL;
}

static gboolean
read_failed (PbState  *self,
             int       saved_errno,
             GError  **error)
{
  g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK,
               _("Could not read the state of account “%s” (“%s”): %s"),
               self->account_name, self->path, g_strerror (saved_errno));
  return FALSE;
}

const GError *
pb_state_get_read_error (PbState *self)
{
  g_return_val_if_fail (PB_IS_STATE (self), NULL);
  return self->read_error;
}

gboolean
pb_state_load (PbState  *self,
               GError  **error)
{
  g_autofree char *aside = NULL;
  const char *reason;
  struct stat st;
  int saved_errno = 0;

  g_return_val_if_fail (PB_IS_STATE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  clear_records (self);
  self->fresh = TRUE;
  self->file_id.known = FALSE;
  g_hash_table_remove_all (self->forgotten);
  g_clear_error (&self->read_error);

  if (!read_file (self, &st, &saved_errno))
    {
      clear_records (self);
      if (saved_errno == ENOENT)
        return TRUE;
      /* Not a damaged file: what it holds is unknown, so it is neither set
       * aside nor taken for an empty state (pb_state_get_read_error()). */
      read_failed (self, saved_errno, &self->read_error);
      if (error != NULL)
        *error = g_error_copy (self->read_error);
      return FALSE;
    }

  reason = parse_file (self);
  if (reason == NULL)
    {
      file_id_set (&self->file_id, &st);
      return TRUE;
    }

  /* Start afresh, but keep the damaged file for whoever wants to look. */
  clear_records (self);
  self->fresh = TRUE;
  aside = g_strconcat (self->path, ".corrupt", NULL);
  if (g_rename (self->path, aside) != 0)
    {
      saved_errno = errno;
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_STATE,
                   _("The state of account “%s” is damaged (%s) and could not be set aside (%s); its messages count as new again"),
                   self->account_name, reason, g_strerror (saved_errno));
      return FALSE;
    }
  g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_STATE,
               _("The state of account “%s” was damaged (%s); it was set aside as “%s” and its messages count as new again"),
               self->account_name, reason, aside);
  return FALSE;
}

/* Saving */

/* Appends @text escaped; runs of bytes that need no escape are copied
 * whole (a byte at a time, saving 100,000 records took 30 ms of CPU). */
static void
append_string (GString    *out,
               const char *text)
{
  if (text == NULL)
    return;
  if (*text == '\0')
    {
      g_string_append (out, "\\E");
      return;
    }
  for (const char *p = text;;)
    {
      gsize plain = strcspn (p, "\\\t\n\r");

      g_string_append_len (out, p, plain);
      p += plain;
      switch (*p)
        {
        case '\0': return;
        case '\\': g_string_append (out, "\\\\"); break;
        case '\t': g_string_append (out, "\\t"); break;
        case '\n': g_string_append (out, "\\n"); break;
        case '\r': g_string_append (out, "\\r"); break;
        default:   g_assert_not_reached ();
        }
      p++;
    }
}

/* TAB and @value in decimal, without printf's format parsing. */
static void
append_number (GString  *out,
               guint64   value,
               gboolean  negative)
{
  char digits[24];
  gsize at = sizeof digits;

  do
    digits[--at] = (char) ('0' + value % 10);
  while ((value /= 10) != 0);
  if (negative)
    digits[--at] = '-';
  digits[--at] = '\t';
  g_string_append_len (out, digits + at, sizeof digits - at);
}

static void
append_int64 (GString *out,
              gint64   value)
{
  /* 0 - (guint64) value is the magnitude even for G_MININT64. */
  append_number (out, value < 0 ? 0 - (guint64) value : (guint64) value, value < 0);
}

static gboolean
write_all (int          fd,
           const char  *data,
           gsize        len,
           int         *saved_errno)
{
  while (len > 0)
    {
      gssize n = write (fd, data, len);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          *saved_errno = errno;
          return FALSE;
        }
      data += n;
      len -= n;
    }
  return TRUE;
}

static gboolean
fsync_dir (const char *dir,
           int        *saved_errno)
{
  int fd = open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  gboolean ok;

  if (fd < 0)
    {
      *saved_errno = errno;
      return FALSE;
    }
  ok = fsync (fd) == 0;
  if (!ok)
    *saved_errno = errno;
  close (fd);
  return ok;
}

static gboolean
save_failed (PbState     *self,
             int          saved_errno,
             const char  *tmp_path,
             GError     **error)
{
  if (tmp_path != NULL)
    g_unlink (tmp_path);
  g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK,
               _("Could not save the state of account “%s” in “%s”: %s"),
               self->account_name, self->path, g_strerror (saved_errno));
  return FALSE;
}

/* Writes the records to a temporary file and renames it over the state
 * file: atomic and durable. */
static gboolean
write_file (PbState     *self,
            const char  *dir,
            GError     **error)
{
  g_autofree char *tmp_path = NULL;
  g_autoptr(GString) out = NULL;
  int saved_errno = 0;
  int fd;

  /* A temporary file in the same directory, so the rename is atomic. */
  tmp_path = g_strconcat (self->path, ".XXXXXX", NULL);
  fd = g_mkstemp_full (tmp_path, O_WRONLY | O_CLOEXEC, 0600);
  if (fd < 0)
    return save_failed (self, errno, NULL, error);

  out = g_string_sized_new (WRITE_CHUNK + 4096);
  g_string_append_printf (out, "%s\t%d\t%d\t%u\n", STATE_MAGIC, STATE_VERSION,
                          self->fresh ? 1 : 0, self->order->len);
  for (guint i = 0; i < self->order->len; i++)
    {
      const PbMessageRecord *record = g_ptr_array_index (self->order, i);

      append_string (out, record->uidl);
      append_number (out, (guint) record->flags, FALSE);
      append_number (out, record->size, FALSE);
      append_int64 (out, record->date);
      append_int64 (out, record->first_seen);
      g_string_append_c (out, '\t');
      append_string (out, record->from_name);
      g_string_append_c (out, '\t');
      append_string (out, record->from_address);
      g_string_append_c (out, '\t');
      append_string (out, record->subject);
      g_string_append_c (out, '\t');
      append_string (out, record->path);
      g_string_append_c (out, '\n');

      if (out->len >= WRITE_CHUNK)
        {
          if (!write_all (fd, out->str, out->len, &saved_errno))
            goto fail;
          g_string_truncate (out, 0);
        }
    }
  if (!write_all (fd, out->str, out->len, &saved_errno))
    goto fail;

  /* Data on disk before the name points at it, and the name on disk
   * before we report success: a crash leaves the old or the new file. */
  if (fsync (fd) != 0)
    {
      saved_errno = errno;
      goto fail;
    }
  if (close (fd) != 0)
    {
      fd = -1;
      saved_errno = errno;
      goto fail;
    }
  fd = -1;
  if (g_rename (tmp_path, self->path) != 0)
    {
      saved_errno = errno;
      goto fail;
    }
  if (!fsync_dir (dir, &saved_errno))
    return save_failed (self, saved_errno, NULL, error);
  return TRUE;

fail:
  if (fd >= 0)
    close (fd);
  return save_failed (self, saved_errno, tmp_path, error);
}

/* Two writers */

#define MONOTONIC_FLAGS (PB_MESSAGE_NOTIFIED | PB_MESSAGE_DOWNLOADED | PB_MESSAGE_DISMISSED)

/* The lock of the read-merge-write of a save (not the fetch's S.lock,
 * which a fetch holds for its whole run). Held for a few milliseconds to
 * a few hundred (a save of a huge state on a slow disk), so a writer
 * waits for it, polling so that a stuck holder costs an error after
 * LOCK_WAIT_MS rather than a frozen applet. Returns the locked fd. */
static int
take_write_lock (PbState  *self,
                 GError  **error)
{
  g_autofree char *lock_path = g_strconcat (self->path, WRITE_LOCK_SUFFIX, NULL);
  int fd = pb_write_lock_take (lock_path, LOCK_WAIT_MS);

  if (fd < 0 && errno == ETIMEDOUT)
    g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK,
                 _("Could not save the state of account “%s”: another Popbiff "
                   "process has been writing it for over %d seconds. Try again; "
                   "if this persists, stop the other Popbiff."),
                 self->account_name, LOCK_WAIT_MS / 1000);
  else if (fd < 0)
    save_failed (self, errno, NULL, error);
  return fd;
}

/* Folds what another writer saved since we read the file into our
 * records: its flags (they only ever get set), the summary, path and size
 * we lack, and the messages it saw that we have not; drops what it forgot
 * (it saw the server without them). What we forgot stays forgotten. */
static guint32
merge_records (PbState *self,
               PbState *disk)
{
  guint32 mark = next_mark (self);

  for (guint i = 0; i < disk->order->len; i++)
    {
      PbStateRecord *theirs = g_ptr_array_index (disk->order, i);
      PbStateRecord *ours = pb_state_index_lookup (&self->index, theirs->pub.uidl, theirs->hash);

      if (ours == NULL)
        {
          if (g_hash_table_contains (self->forgotten, theirs->pub.uidl))
            continue;
          ours = add_record (self, theirs->pub.uidl);
          ours->pub.flags = theirs->pub.flags;
          ours->pub.size = theirs->pub.size;
          ours->pub.date = theirs->pub.date;
          ours->pub.first_seen = theirs->pub.first_seen;
          set_string (self, &ours->pub.from_name, theirs->pub.from_name);
          set_string (self, &ours->pub.from_address, theirs->pub.from_address);
          set_string (self, &ours->pub.subject, theirs->pub.subject);
          set_string (self, &ours->pub.path, theirs->pub.path);
        }
      else
        {
          ours->pub.flags |= theirs->pub.flags & MONOTONIC_FLAGS;
          if ((ours->pub.flags & PB_MESSAGE_SUMMARIZED) == 0 &&
              (theirs->pub.flags & PB_MESSAGE_SUMMARIZED) != 0)
            pb_state_set_summary (self, &ours->pub, theirs->pub.from_name,
                                  theirs->pub.from_address, theirs->pub.subject,
                                  theirs->pub.date);
          if (ours->pub.path == NULL && theirs->pub.path != NULL)
            set_string (self, &ours->pub.path, theirs->pub.path);
          if (ours->pub.size == 0)
            ours->pub.size = theirs->pub.size;
        }
      ours->mark = mark;
    }
  forget_unless (self, in_file_or_new, GUINT_TO_POINTER (mark));
  if (!disk->fresh)
    self->fresh = FALSE;
  return mark;  /* what the records in the file carry now */
}

/* A refresh that found no file: like a load of a missing file, the state
 * is what it holds, and a failed read of the past no longer matters. */
static gboolean
adopted_nothing (PbState  *self,
                 gboolean  adopt)
{
  if (adopt)
    g_clear_error (&self->read_error);
  return TRUE;
}

/* Reads the file again if another writer replaced it since we last read
 * or wrote it, and merges it in. A damaged file holds nothing to keep (a
 * save replaces it). With @adopt, the file read becomes the one this
 * state was loaded from (pb_state_refresh(); a save writes its own). */
static gboolean
merge_disk_changes (PbState   *self,
                    gboolean   adopt,
                    GError   **error)
{
  g_autoptr(PbState) disk = NULL;
  const char *reason;
  struct stat st;
  guint32 mark;
  int saved_errno = 0;

  if (stat (self->path, &st) != 0)
    {
      if (errno == ENOENT)
        return adopted_nothing (self, adopt);
      return read_failed (self, errno, error);
    }
  if (file_id_is (&self->file_id, &st))
    return TRUE;  /* nobody else wrote it: the common case, no reading */

  disk = pb_state_new (self->account_name, self->path);
  if (!read_file (disk, &st, &saved_errno))
    {
      if (saved_errno == ENOENT)
        return adopted_nothing (self, adopt);
      return read_failed (self, saved_errno, error);
    }
  reason = parse_file (disk);
  if (reason != NULL)
    {
      g_debug ("State of account %s: the file on disk is damaged (%s); replacing it",
               self->account_name, reason);
      return TRUE;
    }
  mark = merge_records (self, disk);
  if (adopt)
    {
      /* What the file holds is in memory now, as after a load. */
      g_clear_error (&self->read_error);
      file_id_set (&self->file_id, &st);
      for (guint i = 0; i < self->order->len; i++)
        {
          PbStateRecord *record = g_ptr_array_index (self->order, i);

          record->on_disk = record->mark == mark;
        }
    }
  return TRUE;
}

gboolean
pb_state_save (PbState  *self,
               GError  **error)
{
  g_autofree char *dir = NULL;
  struct stat st;
  gboolean ok;
  int lock_fd;

  g_return_val_if_fail (PB_IS_STATE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  dir = g_path_get_dirname (self->path);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    return save_failed (self, errno, NULL, error);

  lock_fd = take_write_lock (self, error);
  if (lock_fd < 0)
    return FALSE;
  ok = merge_disk_changes (self, FALSE, error) && write_file (self, dir, error);
  if (ok)
    {
      /* The file is ours now: what it holds, and nothing forgotten since. */
      if (stat (self->path, &st) == 0)
        file_id_set (&self->file_id, &st);
      else
        self->file_id.known = FALSE;
      for (guint i = 0; i < self->order->len; i++)
        ((PbStateRecord *) g_ptr_array_index (self->order, i))->on_disk = TRUE;
      g_hash_table_remove_all (self->forgotten);
      /* It merged the file it could not load before, if any. */
      g_clear_error (&self->read_error);
    }
  close (lock_fd);  /* releases the lock */
  return ok;
}

gboolean
pb_state_refresh (PbState  *self,
                  GError  **error)
{
  g_return_val_if_fail (PB_IS_STATE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  /* No lock: the file is only read, and a save replaces it atomically. */
  return merge_disk_changes (self, TRUE, error);
}

gboolean
pb_state_delete_file (PbState  *self,
                      GError  **error)
{
  static const char * const companions[] = { ".corrupt", ".journal", ".lock", WRITE_LOCK_SUFFIX };

  g_return_val_if_fail (PB_IS_STATE (self), FALSE);

  if (g_unlink (self->path) != 0 && errno != ENOENT)
    {
      int saved_errno = errno;

      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_DISK,
                   _("Could not delete the state of account “%s” (“%s”): %s"),
                   self->account_name, self->path, g_strerror (saved_errno));
      return FALSE;
    }
  /* So do the files kept next to it: a damaged state set aside, and the
   * fetch job's journal and lock (pb-fetch.c). */
  for (guint i = 0; i < G_N_ELEMENTS (companions); i++)
    {
      g_autofree char *companion = g_strconcat (self->path, companions[i], NULL);

      g_unlink (companion);
    }
  return TRUE;
}

/* Records */

gboolean
pb_state_is_fresh (PbState *self)
{
  g_return_val_if_fail (PB_IS_STATE (self), TRUE);
  return self->fresh;
}

void
pb_state_set_fresh (PbState  *self,
                    gboolean  fresh)
{
  g_return_if_fail (PB_IS_STATE (self));
  self->fresh = !!fresh;
}

PbMessageRecord *
pb_state_lookup (PbState    *self,
                 const char *uidl)
{
  g_return_val_if_fail (PB_IS_STATE (self), NULL);
  g_return_val_if_fail (uidl != NULL, NULL);

  return (PbMessageRecord *) lookup (self, uidl);
}

PbMessageRecord *
pb_state_ensure (PbState    *self,
                 const char *uidl)
{
  PbStateRecord *record;

  g_return_val_if_fail (PB_IS_STATE (self), NULL);
  g_return_val_if_fail (uidl != NULL && *uidl != '\0', NULL);

  record = lookup (self, uidl);
  if (record == NULL)
    record = add_record (self, uidl);
  return &record->pub;
}

static gboolean
is_present (PbStateRecord *record,
            gpointer       present)
{
  return g_hash_table_contains (present, record->pub.uidl);
}

guint
pb_state_forget_missing (PbState    *self,
                         GHashTable *present)
{
  g_return_val_if_fail (PB_IS_STATE (self), 0);
  g_return_val_if_fail (present != NULL, 0);

  return forget_unless (self, is_present, present);
}

static gboolean
has_mark (PbStateRecord *record,
          gpointer       mark)
{
  return record->mark == GPOINTER_TO_UINT (mark);
}

/* Whether the order holds exactly the non-NULL @uidls, in that order. */
static gboolean
order_is (PbState            *self,
          const char * const *uidls,
          guint               n)
{
  guint j = 0;

  for (guint i = 0; i < n; i++)
    {
      const PbStateRecord *record;

      if (uidls[i] == NULL)
        continue;
      if (j == self->order->len)
        return FALSE;
      record = g_ptr_array_index (self->order, j++);
      if (strcmp (record->pub.uidl, uidls[i]) != 0)
        return FALSE;
    }
  return j == self->order->len;
}

gboolean
pb_state_apply_listing (PbState     *self,
                        const char **uidls,
                        guint        n,
                        guint       *added_out,
                        guint       *forgotten_out)
{
  guint32 ahead[INDEX_PREFETCH];
  guint32 mark;
  guint added = 0;
  guint forgotten;
  gboolean reordered = FALSE;

  g_return_val_if_fail (PB_IS_STATE (self), FALSE);
  g_return_val_if_fail (uidls != NULL || n == 0, FALSE);

  /* One lookup per listed UIDL: known records are marked, unknown ones
   * created at the end of the order (marked too), a second listing of a
   * UIDL finds it marked. Each UIDL is hashed and its slot fetched into
   * the cache INDEX_PREFETCH UIDLs ahead (a ring of hashes), so the
   * table's cache misses overlap. */
  mark = next_mark (self);
  for (guint i = 0; i < MIN (n, INDEX_PREFETCH); i++)
    ahead[i] = hash_and_prefetch (self, uidls[i]);
  for (guint i = 0; i < n; i++)
    {
      PbStateRecord *record;
      guint32 hash = ahead[i % INDEX_PREFETCH];

      if (i + INDEX_PREFETCH < n)
        ahead[i % INDEX_PREFETCH] = hash_and_prefetch (self, uidls[i + INDEX_PREFETCH]);
      if (uidls[i] == NULL)
        continue;
      record = pb_state_index_lookup (&self->index, uidls[i], hash);
      if (record == NULL)
        {
          record = add_record (self, uidls[i]);
          added++;
        }
      else if (record->mark == mark)
        {
          g_debug ("The server listed UIDL %s twice; ignoring message %u", uidls[i], i + 1);
          uidls[i] = NULL;
          continue;
        }
      record->mark = mark;
    }

  /* The unmarked vanished from the server. What is left is exactly the
   * listed records, in the old order with the new ones at the end: almost
   * always the server's order too (mail is appended to a maildrop), which
   * one sequential comparison confirms without allocating anything. */
  forgotten = forget_unless (self, has_mark, GUINT_TO_POINTER (mark));
  if (!order_is (self, (const char * const *) uidls, n))
    {
      pb_state_set_order (self, (const char * const *) uidls, n);
      reordered = TRUE;
    }

  if (added_out != NULL)
    *added_out = added;
  if (forgotten_out != NULL)
    *forgotten_out = forgotten;
  return added > 0 || forgotten > 0 || reordered;
}

void
pb_state_remove (PbState    *self,
                 const char *uidl)
{
  PbStateRecord *record;

  g_return_if_fail (PB_IS_STATE (self));
  g_return_if_fail (uidl != NULL);

  record = lookup (self, uidl);
  if (record == NULL)
    return;
  g_ptr_array_remove (self->order, record);
  forget_record (self, record);
}

void
pb_state_set_summary (PbState         *self,
                      PbMessageRecord *record,
                      const char      *from_name,
                      const char      *from_address,
                      const char      *subject,
                      gint64           date)
{
  g_return_if_fail (PB_IS_STATE (self));
  g_return_if_fail (record != NULL);

  set_string (self, &record->from_name, from_name);
  set_string (self, &record->from_address, from_address);
  set_string (self, &record->subject, subject);
  record->date = date;
  record->flags |= PB_MESSAGE_SUMMARIZED;
}

void
pb_state_set_path (PbState         *self,
                   PbMessageRecord *record,
                   const char      *path)
{
  g_return_if_fail (PB_IS_STATE (self));
  g_return_if_fail (record != NULL);

  set_string (self, &record->path, path);
}

guint
pb_state_get_count (PbState *self)
{
  g_return_val_if_fail (PB_IS_STATE (self), 0);
  return self->order->len;
}

gboolean
pb_state_has_uidls (PbState *self)
{
  g_return_val_if_fail (PB_IS_STATE (self), FALSE);

  for (guint i = 0; i < self->order->len; i++)
    if (!pb_summary_is_fallback_identity (((PbStateRecord *) g_ptr_array_index (self->order, i))->pub.uidl))
      return TRUE;
  return FALSE;
}

gboolean
pb_state_named_by_headers (PbState   *self,
                           GPtrArray *uidls)
{
  g_return_val_if_fail (PB_IS_STATE (self), FALSE);
  g_return_val_if_fail (uidls != NULL, FALSE);

  if (uidls->len == 0 || self->order->len == 0)
    return FALSE;
  for (guint i = 0; i < uidls->len; i++)
    if (pb_state_lookup (self, ((PbPop3Listing *) g_ptr_array_index (uidls, i))->uidl) != NULL)
      return FALSE;
  return !pb_state_has_uidls (self);
}

guint
pb_state_count_new (PbState *self)
{
  guint count = 0;

  g_return_val_if_fail (PB_IS_STATE (self), 0);

  for (guint i = 0; i < self->order->len; i++)
    if (pb_message_record_is_new (g_ptr_array_index (self->order, i)))
      count++;
  return count;
}

GPtrArray *
pb_state_list (PbState *self)
{
  GPtrArray *list;

  g_return_val_if_fail (PB_IS_STATE (self), NULL);

  list = g_ptr_array_sized_new (self->order->len);
  for (guint i = 0; i < self->order->len; i++)
    g_ptr_array_add (list, g_ptr_array_index (self->order, i));
  return list;
}

void
pb_state_set_order (PbState            *self,
                    const char * const *uidls,
                    guint               n)
{
  g_autoptr(GPtrArray) order = NULL;
  guint32 mark;

  g_return_if_fail (PB_IS_STATE (self));
  g_return_if_fail (uidls != NULL || n == 0);

  order = g_ptr_array_sized_new (self->order->len);
  mark = next_mark (self);

  /* Known UIDLs in the server's order (first occurrence wins; unknown ones
   * are not created)... */
  for (guint i = 0; i < n; i++)
    {
      PbStateRecord *record = uidls[i] != NULL ? lookup (self, uidls[i]) : NULL;

      if (record != NULL && record->mark != mark)
        {
          record->mark = mark;
          g_ptr_array_add (order, record);
        }
    }
  /* ...then the records the server did not list, in their old order. */
  for (guint i = 0; i < self->order->len; i++)
    {
      PbStateRecord *record = g_ptr_array_index (self->order, i);

      if (record->mark != mark)
        g_ptr_array_add (order, record);
    }

  g_ptr_array_unref (self->order);
  self->order = g_steal_pointer (&order);
}

/* GObject */

static void
pb_state_constructed (GObject *object)
{
  PbState *self = PB_STATE (object);

  G_OBJECT_CLASS (pb_state_parent_class)->constructed (object);

  if (self->path == NULL)
    {
      g_autofree char *file = g_strconcat (self->account_name, ".state", NULL);

      self->path = g_build_filename (g_get_user_state_dir (), "popbiff", file, NULL);
    }
}

static void
pb_state_finalize (GObject *object)
{
  PbState *self = PB_STATE (object);

  clear_records (self);
  g_ptr_array_unref (self->order);
  g_hash_table_unref (self->forgotten);
  g_clear_error (&self->read_error);
  g_free (self->account_name);
  g_free (self->path);

  G_OBJECT_CLASS (pb_state_parent_class)->finalize (object);
}

static void
pb_state_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  PbState *self = PB_STATE (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT_NAME:
      g_value_set_string (value, self->account_name);
      break;
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pb_state_set_property (GObject      *object,
                       guint         prop_id,
                       const GValue *value,
                       GParamSpec   *pspec)
{
  PbState *self = PB_STATE (object);

  switch (prop_id)
    {
    case PROP_ACCOUNT_NAME:
      self->account_name = g_value_dup_string (value);
      break;
    case PROP_PATH:
      self->path = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pb_state_class_init (PbStateClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;

  object_class->constructed = pb_state_constructed;
  object_class->finalize = pb_state_finalize;
  object_class->get_property = pb_state_get_property;
  object_class->set_property = pb_state_set_property;

  properties[PROP_ACCOUNT_NAME] = g_param_spec_string ("account-name", NULL, NULL, NULL, flags);
  /* NULL at construction: $XDG_STATE_HOME/popbiff/<account-name>.state */
  properties[PROP_PATH] = g_param_spec_string ("path", NULL, NULL, NULL, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
pb_state_init (PbState *self)
{
  self->order = g_ptr_array_new ();
  self->fresh = TRUE;
  self->forgotten = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

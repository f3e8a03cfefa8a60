/* libFuzzer target for the POP3 response reader (src/pop3/pb-pop3-reader.h).
 *
 * Input: byte 0 seeds the split sizes, byte 1 picks the options (whether a
 * "+OK" status is followed by a body, as for RETR/UIDL/CAPA, and which
 * max_status bound to use), the rest is what the server sent.
 *
 * The oracle: the reader's transcript (status lines, body bytes, END, ERROR)
 * must be the same when the input is fed whole, fed in the pieces byte 0
 * chooses, and computed by the naive line-at-a-time model below, written
 * straight from RFC 1939 section 3. Along the way every call must keep the
 * promises of pb_pop3_reader_feed(): consumed <= len, progress, bounded
 * output, nothing but ERROR after ERROR. The status helpers are run on
 * every status line too. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pop3/pb-pop3-error.h"
#include "pop3/pb-pop3-reader.h"

#define CHECK(cond)                                                     \
  do {                                                                  \
    if (!(cond))                                                        \
      {                                                                 \
        fprintf (stderr, "fuzz-pop3-reader: check failed: %s (line %d)\n", \
                 #cond, __LINE__);                                      \
        abort ();                                                       \
      }                                                                 \
  } while (0)

/* pb_pop3_uidl_to_key()'s promises: a key only for 1 to PB_POP3_UIDL_MAX
 * bytes; valid UTF-8 without spaces or control characters (C0, DEL, C1);
 * and lossless: undoing the escapes (U+FFFD and two hex digits per byte)
 * gives the UIDL back, so no two UIDLs share a key. */
static void
check_uidl_key (const char *uidl,
                gsize       len)
{
  g_autofree char *key = pb_pop3_uidl_to_key (uidl, len);
  g_autoptr(GByteArray) back = NULL;

  CHECK ((key != NULL) == pb_pop3_uidl_is_valid (uidl, len));
  if (key == NULL)
    return;
  CHECK (len > 0 && len <= PB_POP3_UIDL_MAX);
  CHECK (g_utf8_validate (key, -1, NULL));
  back = g_byte_array_new ();
  for (const char *p = key; *p != '\0';)
    {
      gunichar c = g_utf8_get_char (p);
      const char *next = g_utf8_next_char (p);

      CHECK (c > 0x20 && c != 0x7f && !(c >= 0x80 && c <= 0x9f));
      if (c == 0xfffd)
        {
          char hex[3] = { next[0], next[0] ? next[1] : '\0', '\0' };
          guint8 byte;

          CHECK (g_ascii_isxdigit (hex[0]) && g_ascii_isxdigit (hex[1]));
          byte = (guint8) g_ascii_strtoull (hex, NULL, 16);
          CHECK (byte >= 0x80);
          g_byte_array_append (back, &byte, 1);
          next += 2;
        }
      else
        g_byte_array_append (back, (const guint8 *) p, (guint) (next - p));
      p = next;
    }
  CHECK (back->len == len && memcmp (back->data, uidl, len) == 0);
}

static const gsize max_status_choices[] = {
  PB_POP3_READER_DEFAULT_MAX_STATUS, 1, 4, 16,
};

/* Transcript records: 'S' <8-byte length> <line>, 'D' <bytes...> (body
 * bytes appended to the last 'D' record), 'E', 'X'. */
static void
record_status (GByteArray   *t,
               const guint8 *line,
               gsize         len)
{
  guint64 n = len;

  g_byte_array_append (t, (const guint8 *) "S", 1);
  g_byte_array_append (t, (const guint8 *) &n, sizeof n);
  g_byte_array_append (t, line, (guint) len);
}

static void
record_data (GByteArray   *t,
             gboolean     *in_data,
             const guint8 *bytes,
             gsize         len)
{
  if (len == 0)
    return;
  if (!*in_data)
    g_byte_array_append (t, (const guint8 *) "D", 1);
  *in_data = TRUE;
  g_byte_array_append (t, bytes, (guint) len);
}

static void
record_mark (GByteArray *t,
             gboolean   *in_data,
             char        mark)
{
  *in_data = FALSE;
  g_byte_array_append (t, (const guint8 *) &mark, 1);
}

static gboolean
wants_body (gboolean      multiline,
            const guint8 *line,
            gsize         len)
{
  return multiline && len >= 3 && memcmp (line, "+OK", 3) == 0;
}

static void
check_status_helpers (const char *line,
                      gsize       len)
{
  const char *text = NULL;
  PbPop3StatusKind kind = pb_pop3_status_parse (line, &text);
  g_autofree char *code = pb_pop3_status_get_code (line);
  g_autofree char *arg = pb_pop3_status_get_code_argument (line);

  if (kind == PB_POP3_STATUS_INVALID)
    CHECK (text == NULL);
  else
    CHECK (text != NULL && text >= line && text <= line + len);

  if (code != NULL)
    {
      gsize n = strlen (code);

      CHECK (n > 0 && n <= PB_POP3_STATUS_CODE_MAX);
      CHECK (strpbrk (code, " []") == NULL);
      CHECK (code[0] != '/' && code[n - 1] != '/');
    }
  if (arg != NULL)
    CHECK (code != NULL && strlen (arg) > 0 && strchr (arg, ']') == NULL);

  check_uidl_key (line, len);
}

/* Feeds @data in the pieces @sizes gives (cycled; NULL: whole). */
static GByteArray *
run_reader (const guint8 *data,
            gsize         len,
            const guint8 *sizes,
            gsize         n_sizes,
            gboolean      multiline,
            gsize         max_status)
{
  g_auto(PbPop3Reader) reader = { 0 };
  g_autoptr(GByteArray) out = g_byte_array_new ();
  GByteArray *t = g_byte_array_new ();
  gboolean in_data = FALSE;
  gboolean failed = FALSE;
  gsize off = 0;
  gsize k = 0;

  pb_pop3_reader_init (&reader, max_status);

  while (off < len && !failed)
    {
      gsize piece = sizes != NULL ? (gsize) sizes[k++ % n_sizes] + 1 : len;
      const guint8 *p = data + off;
      gsize left = MIN (piece, len - off);

      off += left;
      while (left > 0)
        {
          g_autoptr(GError) error = NULL;
          gsize consumed = G_MAXSIZE;
          gsize before = out->len;
          PbPop3ReaderEvent ev;

          ev = pb_pop3_reader_feed (&reader, p, left, &consumed, out, &error);
          CHECK (consumed <= left);
          p += consumed;
          left -= consumed;

          switch (ev)
            {
            case PB_POP3_READER_NEED_MORE:
              CHECK (error == NULL);
              CHECK (left == 0 && consumed > 0);
              CHECK (out->len == before);
              break;

            case PB_POP3_READER_STATUS:
              CHECK (error == NULL && consumed > 0);
              CHECK (out->len <= max_status);
              CHECK (out->data[out->len] == '\0');
              CHECK (memchr (out->data, '\n', out->len) == NULL);
              CHECK (memchr (out->data, '\0', out->len) == NULL);
              check_status_helpers ((const char *) out->data, out->len);
              record_status (t, out->data, out->len);
              if (wants_body (multiline, out->data, out->len))
                pb_pop3_reader_expect_body (&reader);
              g_byte_array_set_size (out, 0);
              break;

            case PB_POP3_READER_DATA:
              CHECK (error == NULL && consumed > 0);
              CHECK (out->len > before && out->len - before <= consumed + 1);
              record_data (t, &in_data, out->data, out->len);
              g_byte_array_set_size (out, 0);
              break;

            case PB_POP3_READER_END:
              CHECK (error == NULL && consumed > 0);
              CHECK (out->len == before);
              CHECK (pb_pop3_reader_get_mode (&reader) == PB_POP3_READER_MODE_STATUS);
              record_mark (t, &in_data, 'E');
              break;

            case PB_POP3_READER_ERROR:
              CHECK (error != NULL);
              CHECK (error->domain == PB_POP3_ERROR && error->code == PB_POP3_ERROR_PROTOCOL);
              CHECK (out->len == before);
              record_mark (t, &in_data, 'X');
              failed = TRUE;
              left = 0;
              break;

            default:
              CHECK (!"unknown event");
            }
        }
    }

  if (failed)
    {
      /* Nothing after ERROR but ERROR. */
      g_autoptr(GError) error = NULL;
      gsize consumed = 1;

      CHECK (pb_pop3_reader_feed (&reader, (const guint8 *) "+OK\r\n", 5,
                                  &consumed, out, &error) == PB_POP3_READER_ERROR);
      CHECK (consumed == 0 && error != NULL);
    }

  return t;
}

/* The model: whole lines, RFC 1939 section 3 read literally. */
static GByteArray *
run_model (const guint8 *data,
           gsize         len,
           gboolean      multiline,
           gsize         max_status)
{
  GByteArray *t = g_byte_array_new ();
  gboolean in_data = FALSE;
  gboolean body = FALSE;
  gsize off = 0;

  while (off < len)
    {
      const guint8 *line = data + off;
      const guint8 *nl = memchr (line, '\n', len - off);
      gsize n = nl != NULL ? (gsize) (nl - line) : len - off;

      off += nl != NULL ? n + 1 : n;

      if (!body)
        {
          gboolean has_nul = memchr (line, '\0', n) != NULL;

          if (nl == NULL)
            {
              /* An unfinished line fails only once it can no longer fit. */
              if (has_nul || n > max_status + 1 ||
                  (n == max_status + 1 && line[n - 1] != '\r'))
                record_mark (t, &in_data, 'X');
              break;
            }
          if (n > 0 && line[n - 1] == '\r')
            n--;
          if (has_nul || n > max_status)
            {
              record_mark (t, &in_data, 'X');
              break;
            }
          record_status (t, line, n);
          body = wants_body (multiline, line, n);
          continue;
        }

      if (nl == NULL)
        {
          /* An unfinished body line: what is certain so far. The leading
           * dot is stuffing or the terminator, a trailing CR may yet
           * be the start of a CRLF. */
          if (n > 0 && line[0] == '.')
            line++, n--;
          if (n > 0 && line[n - 1] == '\r')
            n--;
          record_data (t, &in_data, line, n);
          break;
        }

      if (n > 0 && line[n - 1] == '\r')
        n--;
      if (n == 1 && line[0] == '.')
        {
          record_mark (t, &in_data, 'E');
          body = FALSE;
          continue;
        }
      if (n > 0 && line[0] == '.')
        line++, n--;
      record_data (t, &in_data, line, n);
      record_data (t, &in_data, (const guint8 *) "\n", 1);
    }

  return t;
}

static void
check_same (GByteArray *a,
            GByteArray *b)
{
  CHECK (a->len == b->len);
  CHECK (a->len == 0 || memcmp (a->data, b->data, a->len) == 0);
}

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  guint8 sizes[16];
  gboolean multiline;
  gsize max_status;
  g_autoptr(GByteArray) model = NULL;
  g_autoptr(GByteArray) whole = NULL;
  g_autoptr(GByteArray) split = NULL;
  g_autoptr(GByteArray) bytewise = NULL;
  guint32 seed;
  static const guint8 one = 0;

  if (size < 2)
    return 0;

  /* Piece sizes 1..256 from a small LCG seeded by byte 0, so the fuzzer
   * can move the cuts by changing one byte; small sizes are favoured
   * because boundaries are where the state lives. */
  seed = data[0] * 2654435761u + 1;
  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      seed = seed * 1103515245u + 12345u;
      sizes[i] = (guint8) ((seed >> 16) % ((i % 4 == 0) ? 256 : 8));
    }
  multiline = (data[1] & 1) != 0;
  max_status = max_status_choices[(data[1] >> 1) % G_N_ELEMENTS (max_status_choices)];
  data += 2;
  size -= 2;

  model = run_model (data, size, multiline, max_status);
  whole = run_reader (data, size, NULL, 0, multiline, max_status);
  split = run_reader (data, size, sizes, G_N_ELEMENTS (sizes), multiline, max_status);
  check_same (whole, model);
  check_same (split, model);

  /* One byte at a time is the hardest split; keep it to small inputs so
   * the fuzzer stays fast. */
  if (size <= 4096)
    {
      bytewise = run_reader (data, size, &one, 1, multiline, max_status);
      check_same (bytewise, model);
    }

  return 0;
}

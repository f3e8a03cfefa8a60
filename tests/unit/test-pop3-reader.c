/* The POP3 response reader (src/pop3/pb-pop3-reader.h): status lines,
 * dot-unstuffing and line ends in bodies (RFC 1939 section 3), bounded
 * status lines, and the same output however the input is split. */
#include <string.h>

#include "pop3/pb-pop3-error.h"
#include "pop3/pb-pop3-reader.h"
#include "pb-test-util.h"

/* Runs the reader over @input fed in the pieces @cuts describes (offsets
 * where a new feed begins, ascending; NULL/0 = one feed) and returns a
 * transcript that does not depend on how DATA was batched:
 *   "S:<status>\n", "D:<body bytes>\n" (consecutive DATA joined), "E\n",
 *   "X:<error code>\n", "N\n" (input ended while the reader wanted more).
 * When @multiline, every +OK status is followed by a body (as for RETR).
 * Checks the invariants every caller relies on along the way. */
static GString *
run_cuts (const guint8 *input,
          gsize         len,
          const gsize  *cuts,
          gsize         n_cuts,
          gboolean      multiline,
          gsize         max_status)
{
  g_auto(PbPop3Reader) reader = { 0 };
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GByteArray) data = g_byte_array_new ();
  GString *transcript = g_string_new (NULL);
  gboolean failed = FALSE;
  gsize piece_start = 0;

  pb_pop3_reader_init (&reader, max_status);

  for (gsize c = 0; c <= n_cuts && !failed; c++)
    {
      gsize piece_end = c < n_cuts ? cuts[c] : len;
      const guint8 *p = input + piece_start;
      gsize left = piece_end - piece_start;

      g_assert_cmpuint (piece_end, >=, piece_start);
      piece_start = piece_end;

      while (left > 0)
        {
          g_autoptr(GError) error = NULL;
          gsize consumed = 12345;
          gsize out_before = out->len;
          PbPop3ReaderEvent ev;

          ev = pb_pop3_reader_feed (&reader, p, left, &consumed, out, &error);
          g_assert_cmpuint (consumed, <=, left);
          if (ev != PB_POP3_READER_ERROR)
            {
              g_assert_no_error (error);
              g_assert_cmpuint (consumed, >, 0); /* always progress */
            }
          p += consumed;
          left -= consumed;

          if (ev != PB_POP3_READER_DATA && ev != PB_POP3_READER_NEED_MORE && data->len > 0)
            {
              g_string_append (transcript, "D:");
              g_string_append_len (transcript, (const char *) data->data, data->len);
              g_string_append_c (transcript, '\n');
              g_byte_array_set_size (data, 0);
            }

          switch (ev)
            {
            case PB_POP3_READER_NEED_MORE:
              g_assert_cmpuint (left, ==, 0);
              g_assert_cmpuint (out->len, ==, out_before);
              break;
            case PB_POP3_READER_STATUS:
              g_assert_cmpuint (out->data[out->len], ==, '\0');
              g_string_append_printf (transcript, "S:%.*s\n", (int) out->len, out->data);
              if (multiline && out->len >= 3 && memcmp (out->data, "+OK", 3) == 0)
                pb_pop3_reader_expect_body (&reader);
              g_byte_array_set_size (out, 0);
              break;
            case PB_POP3_READER_DATA:
              g_assert_cmpuint (out->len, >, out_before);
              g_assert_cmpuint (out->len - out_before, <=, consumed + 1);
              g_byte_array_append (data, out->data, out->len);
              g_byte_array_set_size (out, 0);
              break;
            case PB_POP3_READER_END:
              g_assert_cmpuint (out->len, ==, out_before);
              g_assert_cmpint (pb_pop3_reader_get_mode (&reader), ==, PB_POP3_READER_MODE_STATUS);
              g_string_append (transcript, "E\n");
              break;
            case PB_POP3_READER_ERROR:
              g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL);
              g_assert_nonnull (error->message);
              g_string_append_printf (transcript, "X:%d\n", error->code);
              failed = TRUE;
              left = 0;
              break;
            default:
              g_assert_not_reached ();
            }
        }
    }

  if (data->len > 0)
    {
      g_string_append (transcript, "D:");
      g_string_append_len (transcript, (const char *) data->data, data->len);
      g_string_append_c (transcript, '\n');
    }
  if (!failed)
    g_string_append (transcript, "N\n");
  return transcript;
}

static char *
run_whole (const char *input,
           gboolean    multiline)
{
  GString *t = run_cuts ((const guint8 *) input, strlen (input), NULL, 0,
                         multiline, PB_POP3_READER_DEFAULT_MAX_STATUS);
  return g_string_free (t, FALSE);
}

/* Every way of cutting the input in two, and fixed-size pieces from one
 * byte up, must give the transcript of feeding it whole. */
static void
assert_split_invariant (const guint8 *input,
                        gsize         len,
                        gboolean      multiline,
                        gsize         max_status)
{
  g_autoptr(GString) whole = run_cuts (input, len, NULL, 0, multiline, max_status);
  static const gsize chunk_sizes[] = { 1, 2, 3, 5, 7, 16 };

  for (gsize cut = 0; cut <= len; cut++)
    {
      g_autoptr(GString) split = run_cuts (input, len, &cut, 1, multiline, max_status);
      g_assert_cmpmem (split->str, split->len, whole->str, whole->len);
    }

  for (guint i = 0; i < G_N_ELEMENTS (chunk_sizes); i++)
    {
      gsize n = len / chunk_sizes[i];
      g_autofree gsize *cuts = g_new (gsize, n + 1);
      g_autoptr(GString) chunked = NULL;

      for (gsize k = 0; k < n; k++)
        cuts[k] = (k + 1) * chunk_sizes[i];
      chunked = run_cuts (input, len, cuts, n, multiline, max_status);
      g_assert_cmpmem (chunked->str, chunked->len, whole->str, whole->len);
    }
}

static void
test_status_line (void)
{
  g_autofree char *crlf = run_whole ("+OK POP3 server ready <1896.697170952@dbc.mailcom>\r\n", FALSE);
  g_autofree char *lf = run_whole ("-ERR [IN-USE] locked\n", FALSE);
  g_autofree char *two = run_whole ("+OK 2 320\r\n+OK\r\n", FALSE);
  g_autofree char *inner_cr = run_whole ("+OK a\rb\r\n", FALSE);
  g_autofree char *partial = run_whole ("+OK no line end yet", FALSE);

  g_assert_cmpstr (crlf, ==, "S:+OK POP3 server ready <1896.697170952@dbc.mailcom>\nN\n");
  g_assert_cmpstr (lf, ==, "S:-ERR [IN-USE] locked\nN\n");
  g_assert_cmpstr (two, ==, "S:+OK 2 320\nS:+OK\nN\n");
  /* Only the CR of the line end goes. */
  g_assert_cmpstr (inner_cr, ==, "S:+OK a\rb\nN\n");
  g_assert_cmpstr (partial, ==, "N\n");
}

static void
test_status_leaves_rest (void)
{
  g_auto(PbPop3Reader) reader = { 0 };
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  const char *input = "+OK 1 messages\r\n1 100\r\n.\r\n";
  gsize consumed = 0;
  PbPop3ReaderEvent ev;

  pb_pop3_reader_init (&reader, PB_POP3_READER_DEFAULT_MAX_STATUS);
  g_byte_array_append (out, (const guint8 *) "old", 3);
  ev = pb_pop3_reader_feed (&reader, (const guint8 *) input, strlen (input),
                            &consumed, out, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ev, ==, PB_POP3_READER_STATUS);
  g_assert_cmpuint (consumed, ==, strlen ("+OK 1 messages\r\n"));
  /* STATUS replaces @out and leaves it readable as a string. */
  g_assert_cmpstr ((const char *) out->data, ==, "+OK 1 messages");
  g_assert_cmpuint (out->len, ==, strlen ("+OK 1 messages"));
}

static void
test_dot_unstuffing (void)
{
  /* RFC 1939 section 3: a line beginning with the termination octet is
   * sent with an extra one. "..." is the line "..", "..a" is ".a", and ".."
   * alone is the line ".", which must not end the body. */
  g_autofree char *t = run_whole ("+OK\r\n..a\r\n...\r\n..\r\nx\r\n.\r\n", TRUE);

  g_assert_cmpstr (t, ==, "S:+OK\nD:.a\n..\n.\nx\n\nE\nN\n");
}

static void
test_dot_line_with_text (void)
{
  /* RFC 1939 section 3: when octets other than CRLF follow the termination
   * octet, the client strips it. A conforming server never sends ".foo",
   * but when one does we read "foo", as the RFC says. */
  g_autofree char *text = run_whole ("+OK\r\n.foo\r\n.\r\n", TRUE);
  /* ".\r" followed by something else is not the terminator: the dot goes,
   * the CR is data. */
  g_autofree char *dot_cr = run_whole ("+OK\r\n.\rx\r\n.\r\r\n.\r\n", TRUE);
  /* A dot in the middle of a line is plain data. */
  g_autofree char *mid = run_whole ("+OK\r\na.b\r\n a\r\n.\r\n", TRUE);

  g_assert_cmpstr (text, ==, "S:+OK\nD:foo\n\nE\nN\n");
  g_assert_cmpstr (dot_cr, ==, "S:+OK\nD:\rx\n\r\n\nE\nN\n");
  g_assert_cmpstr (mid, ==, "S:+OK\nD:a.b\n a\n\nE\nN\n");
}

static void
test_bare_lf (void)
{
  g_autofree char *t = run_whole ("+OK\na\nb\r\n..c\n.\n+OK next\n", TRUE);

  g_assert_cmpstr (t, ==, "S:+OK\nD:a\nb\n.c\n\nE\nS:+OK next\nN\n");
}

static void
test_lone_cr (void)
{
  /* A CR not followed by LF is data, wherever it is. */
  g_autofree char *t = run_whole ("+OK\r\na\rb\r\r\n\r\r\n\rc\r\n.\r\n", TRUE);

  g_assert_cmpstr (t, ==, "S:+OK\nD:a\rb\r\n\r\n\rc\n\nE\nN\n");
}

static void
test_cr_at_chunk_boundary (void)
{
  static const struct { const char *first, *second, *expected; } cases[] = {
    /* CR | LF is one CRLF. */
    { "+OK\r\nabc\r", "\ndef\r\n.\r\n", "S:+OK\nD:abc\ndef\n\nE\nN\n" },
    /* CR | other: the CR was data. */
    { "+OK\r\nabc\r", "x\r\n.\r\n", "S:+OK\nD:abc\rx\n\nE\nN\n" },
    /* CR | CR LF: the first CR is data. */
    { "+OK\r\nabc\r", "\r\n.\r\n", "S:+OK\nD:abc\r\n\nE\nN\n" },
    /* "." | CR | LF: the terminator across three feeds is done below;
     * "." CR | LF here. */
    { "+OK\r\nabc\r\n.\r", "\n", "S:+OK\nD:abc\n\nE\nN\n" },
    /* "." CR | x: not the terminator. */
    { "+OK\r\n.\r", "x\r\n.\r\n", "S:+OK\nD:\rx\n\nE\nN\n" },
    /* Status line CR | LF. */
    { "+OK hi\r", "\n", "S:+OK hi\nN\n" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *input = g_strconcat (cases[i].first, cases[i].second, NULL);
      gsize cut = strlen (cases[i].first);
      g_autoptr(GString) t = run_cuts ((const guint8 *) input, strlen (input),
                                       &cut, 1, TRUE, PB_POP3_READER_DEFAULT_MAX_STATUS);

      g_assert_cmpstr (t->str, ==, cases[i].expected);
    }
}

static void
test_every_split_point (void)
{
  static const char *inputs[] = {
    "+OK POP3 ready\r\n",
    "+OK\r\n..a\r\n...\r\n..\r\n.foo\r\n.\rx\r\na\rb\r\r\n\r\n.\r\n+OK next\r\n",
    "+OK\na\nb\r\n..c\n.\n-ERR no\n+OK\r\n.\r\n",
    "+OK 2 messages\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n",
    "+OK\r\nSubject: x\r\n\r\n.\r\n..\r\n...\r\n\r\r\r\n\r\n.\r\n",
    "+ \r\n+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UuZXhhbXBsZS5uZXQ+\r\n+OK\r\n.\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    assert_split_invariant ((const guint8 *) inputs[i], strlen (inputs[i]), TRUE,
                            PB_POP3_READER_DEFAULT_MAX_STATUS);

  /* And around the status bound: a line of exactly max_status, one of
   * max_status + 1 with CR at the limit, and one too long. */
  assert_split_invariant ((const guint8 *) "+OK 567890\r\n+OK\r\n", 17, FALSE, 10);
  assert_split_invariant ((const guint8 *) "+OK 5678901\r\n", 13, FALSE, 10);
  assert_split_invariant ((const guint8 *) "+OK 5678901\n", 12, FALSE, 10);
}

static void
test_long_lines (void)
{
  g_auto(PbPop3Reader) reader = { 0 };
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *line = g_malloc (1024 * 1024);
  gsize consumed = 0;
  PbPop3ReaderEvent ev;

  memset (line, 'x', 1024 * 1024);

  /* A 5,000-octet line survives whole and in every split. */
  {
    GString *input = g_string_new ("+OK\r\n");
    g_autofree char *t = NULL;
    g_autofree char *expected = NULL;

    g_string_append_len (input, (const char *) line, 5000);
    g_string_append (input, "\r\n.\r\n");
    t = run_whole (input->str, TRUE);
    expected = g_strdup_printf ("S:+OK\nD:%.*s\n\nE\nN\n", 5000, (const char *) line);
    g_assert_cmpstr (t, ==, expected);
    assert_split_invariant ((const guint8 *) input->str, input->len, TRUE,
                            PB_POP3_READER_DEFAULT_MAX_STATUS);
    g_string_free (input, TRUE);
  }

  /* A megabyte line is streamed: each 4 KiB piece comes straight back out
   * as DATA before the line ends; nothing is held back. */
  pb_pop3_reader_init (&reader, PB_POP3_READER_DEFAULT_MAX_STATUS);
  pb_pop3_reader_expect_body (&reader);
  for (gsize off = 0; off < 1024 * 1024; off += 4096)
    {
      ev = pb_pop3_reader_feed (&reader, line + off, 4096, &consumed, out, &error);
      g_assert_no_error (error);
      g_assert_cmpint (ev, ==, PB_POP3_READER_DATA);
      g_assert_cmpuint (consumed, ==, 4096);
      g_assert_cmpuint (out->len, ==, 4096);
      g_byte_array_set_size (out, 0);
    }
  ev = pb_pop3_reader_feed (&reader, (const guint8 *) "\r\n.\r\n", 5, &consumed, out, &error);
  g_assert_cmpint (ev, ==, PB_POP3_READER_DATA);
  g_assert_cmpuint (consumed, ==, 2);
  g_assert_cmpmem (out->data, out->len, "\n", 1);
  /* The terminator line, whole in view, is consumed by END alone. */
  ev = pb_pop3_reader_feed (&reader, (const guint8 *) ".\r\n", 3, &consumed, out, &error);
  g_assert_cmpint (ev, ==, PB_POP3_READER_END);
  g_assert_cmpuint (consumed, ==, 3);
}

static void
test_eight_bit (void)
{
  /* Every byte value passes through untouched; only the final CRLF
   * becomes LF (the LF inside is a line end, the CR inside is followed by
   * 0x0e so it is data). */
  GString *input = g_string_new ("+OK\r\n");
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  g_autoptr(GString) t = NULL;
  g_autoptr(GString) want = g_string_new ("S:+OK\nD:");

  for (guint b = 0; b < 256; b++)
    {
      guint8 byte = (guint8) b;
      g_string_append_c (input, (char) byte);
      g_string_append_c (want, (char) byte);
    }
  g_string_append (input, "\r\n\x80\xff.\r\n.\r\n");
  g_string_append (want, "\n\x80\xff.\n\nE\nN\n");

  t = run_cuts ((const guint8 *) input->str, input->len, NULL, 0, TRUE,
                PB_POP3_READER_DEFAULT_MAX_STATUS);
  g_assert_cmpmem (t->str, t->len, want->str, want->len);
  assert_split_invariant ((const guint8 *) input->str, input->len, TRUE,
                          PB_POP3_READER_DEFAULT_MAX_STATUS);
  g_string_free (input, TRUE);
}

static void
test_oversized_status (void)
{
  const gsize sizes[] = { 1024 * 1024, 4 * 1024 * 1024 };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_auto(PbPop3Reader) reader = { 0 };
      g_autoptr(GByteArray) out = g_byte_array_new ();
      g_autoptr(GError) error = NULL;
      g_autofree guint8 *junk = g_malloc (sizes[i]);
      gsize total = 0;
      gsize consumed = 0;
      PbPop3ReaderEvent ev = PB_POP3_READER_NEED_MORE;

      memset (junk, 'A', sizes[i]);
      pb_pop3_reader_init (&reader, PB_POP3_READER_DEFAULT_MAX_STATUS);
      for (gsize off = 0; off < sizes[i] && ev == PB_POP3_READER_NEED_MORE; off += 65536)
        {
          ev = pb_pop3_reader_feed (&reader, junk + off, 65536, &consumed, out, &error);
          total += consumed;
        }

      /* Detected as soon as the bound is passed, having kept no more than
       * the bound. */
      g_assert_cmpint (ev, ==, PB_POP3_READER_ERROR);
      g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL);
      g_assert_nonnull (strstr (error->message, "8192"));
      g_assert_cmpuint (total, <=, PB_POP3_READER_DEFAULT_MAX_STATUS + 2);
      g_assert_cmpuint (reader.line->len, <=, PB_POP3_READER_DEFAULT_MAX_STATUS + 1);
      g_assert_cmpuint (out->len, ==, 0);

      /* Fed again anyway: still an error, nothing consumed. */
      g_clear_error (&error);
      ev = pb_pop3_reader_feed (&reader, (const guint8 *) "+OK\r\n", 5, &consumed, out, &error);
      g_assert_cmpint (ev, ==, PB_POP3_READER_ERROR);
      g_assert_error (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL);
      g_assert_cmpuint (consumed, ==, 0);
    }
}

static void
test_status_bound_edges (void)
{
  /* max_status counts the line without its line end. */
  g_autoptr(GString) exact = run_cuts ((const guint8 *) "+OK 567890\r\n", 12, NULL, 0, FALSE, 10);
  g_autoptr(GString) exact_lf = run_cuts ((const guint8 *) "+OK 567890\n", 11, NULL, 0, FALSE, 10);
  g_autoptr(GString) over = run_cuts ((const guint8 *) "+OK 5678901\r\n", 13, NULL, 0, FALSE, 10);
  g_autoptr(GString) over_nolf = run_cuts ((const guint8 *) "+OK 56789012", 12, NULL, 0, FALSE, 10);

  g_assert_cmpstr (exact->str, ==, "S:+OK 567890\nN\n");
  g_assert_cmpstr (exact_lf->str, ==, "S:+OK 567890\nN\n");
  g_assert_cmpstr (over->str, ==, "X:13\n");
  g_assert_cmpstr (over_nolf->str, ==, "X:13\n");
  g_assert_cmpint (PB_POP3_ERROR_PROTOCOL, ==, 13);
}

static void
test_nul_in_status (void)
{
  g_autoptr(GString) t = run_cuts ((const guint8 *) "+OK a\0b\r\n", 9, NULL, 0, FALSE,
                                   PB_POP3_READER_DEFAULT_MAX_STATUS);

  g_assert_cmpstr (t->str, ==, "X:13\n");
}

static void
test_empty_body (void)
{
  g_autofree char *t = run_whole ("+OK 0 messages\r\n.\r\n", TRUE);
  g_autofree char *lf = run_whole ("+OK\n.\n", TRUE);
  g_autofree char *blank = run_whole ("+OK\r\n\r\n.\r\n", TRUE);

  g_assert_cmpstr (t, ==, "S:+OK 0 messages\nE\nN\n");
  g_assert_cmpstr (lf, ==, "S:+OK\nE\nN\n");
  g_assert_cmpstr (blank, ==, "S:+OK\nD:\n\nE\nN\n");
}

static void
test_pipelined (void)
{
  /* END stops right after the terminator: the next response is left for
   * the next feed, in status mode. */
  g_auto(PbPop3Reader) reader = { 0 };
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  const char *input = "a\r\n.\r\n+OK bye\r\n";
  gsize consumed = 0;
  gsize off = 0;
  PbPop3ReaderEvent ev;

  pb_pop3_reader_init (&reader, PB_POP3_READER_DEFAULT_MAX_STATUS);
  pb_pop3_reader_expect_body (&reader);
  g_assert_cmpint (pb_pop3_reader_get_mode (&reader), ==, PB_POP3_READER_MODE_BODY);

  ev = pb_pop3_reader_feed (&reader, (const guint8 *) input, strlen (input), &consumed, out, &error);
  g_assert_cmpint (ev, ==, PB_POP3_READER_DATA);
  g_assert_cmpuint (consumed, ==, 3);
  g_assert_cmpmem (out->data, out->len, "a\n", 2);
  off += consumed;

  ev = pb_pop3_reader_feed (&reader, (const guint8 *) input + off, strlen (input) - off,
                            &consumed, out, &error);
  g_assert_cmpint (ev, ==, PB_POP3_READER_END);
  g_assert_cmpuint (consumed, ==, 3);
  off += consumed;

  ev = pb_pop3_reader_feed (&reader, (const guint8 *) input + off, strlen (input) - off,
                            &consumed, out, &error);
  g_assert_no_error (error);
  g_assert_cmpint (ev, ==, PB_POP3_READER_STATUS);
  g_assert_cmpstr ((const char *) out->data, ==, "+OK bye");
}

static void
test_status_parse (void)
{
  static const struct { const char *line; PbPop3StatusKind kind; const char *text; } cases[] = {
    { "+OK", PB_POP3_STATUS_OK, "" },
    { "+OK 2 320", PB_POP3_STATUS_OK, "2 320" },
    { "+OK  two spaces", PB_POP3_STATUS_OK, "two spaces" },
    { "-ERR", PB_POP3_STATUS_ERR, "" },
    { "-ERR [IN-USE] locked", PB_POP3_STATUS_ERR, "[IN-USE] locked" },
    /* Servers MUST send upper case (RFC 1939 section 3); we still read
     * lower case rather than fail on a sloppy server. */
    { "+ok fine", PB_POP3_STATUS_OK, "fine" },
    { "-err nope", PB_POP3_STATUS_ERR, "nope" },
    /* RFC 5034 section 4 continuations, with and without a challenge. */
    { "+ ", PB_POP3_STATUS_CONTINUE, "" },
    { "+", PB_POP3_STATUS_CONTINUE, "" },
    { "+ PDE4OTY+", PB_POP3_STATUS_CONTINUE, "PDE4OTY+" },
    { "+ OK", PB_POP3_STATUS_CONTINUE, "OK" },
    { "+OKAY", PB_POP3_STATUS_INVALID, NULL },
    { "-ERROR", PB_POP3_STATUS_INVALID, NULL },
    { "OK", PB_POP3_STATUS_INVALID, NULL },
    { "", PB_POP3_STATUS_INVALID, NULL },
    { " +OK", PB_POP3_STATUS_INVALID, NULL },
    { "+x", PB_POP3_STATUS_INVALID, NULL },
    { "* OK IMAP4rev1", PB_POP3_STATUS_INVALID, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      const char *text = "unset";
      PbPop3StatusKind kind = pb_pop3_status_parse (cases[i].line, &text);

      g_test_message ("line “%s”", cases[i].line);
      g_assert_cmpint (kind, ==, cases[i].kind);
      g_assert_cmpstr (text, ==, cases[i].text);
    }

  g_assert_cmpint (pb_pop3_status_parse ("+OK", NULL), ==, PB_POP3_STATUS_OK);
}

static void
test_status_code (void)
{
  static const struct { const char *text, *code, *argument; } cases[] = {
    { "[IN-USE] Mailbox locked by another session", "IN-USE", NULL },
    { "[SYS/TEMP] try later", "SYS/TEMP", NULL },
    { "[SYS/PERM]", "SYS/PERM", NULL },
    { "[AUTH] Authentication failed.", "AUTH", NULL },
    { "[LOGIN-DELAY 300] wait", "LOGIN-DELAY", "300" },
    { "[LOGIN-DELAY  300 ] wait", "LOGIN-DELAY", "300" },
    { "[in-use] lower case", "IN-USE", NULL },
    /* The whole line works as well as the text after the indicator. */
    { "-ERR [IN-USE] locked", "IN-USE", NULL },
    { "+OK [SYS/TEMP] hm", "SYS/TEMP", NULL },
    { "  [AUTH] leading blanks", "AUTH", NULL },
    /* No code, or not a well-formed one. */
    { "Mailbox locked [IN-USE]", NULL, NULL },
    { "", NULL, NULL },
    { "[]", NULL, NULL },
    { "[ ]", NULL, NULL },
    { "[IN-USE", NULL, NULL },
    { "[IN[USE]", NULL, NULL },
    { "[SYS/]", NULL, NULL },
    { "[/TEMP]", NULL, NULL },
    { "[SYS//TEMP]", NULL, NULL },
    { "[IN\x01USE]", NULL, NULL },
    { "-ERR", NULL, NULL },
  };
  g_autofree char *a_max = g_strnfill (PB_POP3_STATUS_CODE_MAX, 'A');
  g_autofree char *a_over = g_strnfill (PB_POP3_STATUS_CODE_MAX + 1, 'A');
  g_autofree char *longest = g_strdup_printf ("[%s] x", a_max);
  g_autofree char *too_long = g_strdup_printf ("[%s] x", a_over);
  g_autofree char *code = NULL;
  g_autofree char *no_code = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *c = pb_pop3_status_get_code (cases[i].text);
      g_autofree char *a = pb_pop3_status_get_code_argument (cases[i].text);

      g_test_message ("text “%s”", cases[i].text);
      g_assert_cmpstr (c, ==, cases[i].code);
      g_assert_cmpstr (a, ==, cases[i].argument);
    }

  /* Bounded: a code of PB_POP3_STATUS_CODE_MAX is read, one longer is not. */
  code = pb_pop3_status_get_code (longest);
  g_assert_cmpstr (code, ==, a_max);
  no_code = pb_pop3_status_get_code (too_long);
  g_assert_null (no_code);
}

static void
test_uidl_valid (void)
{
  g_autofree char *max = g_strnfill (PB_POP3_UIDL_MAX, 'u');
  g_autofree char *over = g_strnfill (PB_POP3_UIDL_MAX + 1, 'u');

  /* RFC 1939 section 7 examples and the printable range's ends. */
  g_assert_true (pb_pop3_uidl_is_valid ("whqtswO00WBw418f9t5JxYwZ", 24));
  g_assert_true (pb_pop3_uidl_is_valid ("QhdPYR:00WBw1Ph7x7", 18));
  g_assert_true (pb_pop3_uidl_is_valid ("!~", 2));
  g_assert_true (pb_pop3_uidl_is_valid ("x", 1));
  g_assert_true (pb_pop3_uidl_is_valid (max, PB_POP3_UIDL_MAX));
  /* Only @len bytes count, the string need not end there. */
  g_assert_true (pb_pop3_uidl_is_valid ("abc def", 3));
  /* Beyond RFC 1939: servers send UTF-8, and the odd Latin-1 byte. */
  g_assert_true (pb_pop3_uidl_is_valid ("caf\xc3\xa9", 5));
  g_assert_true (pb_pop3_uidl_is_valid ("\xe2\x9c\x89-\xf0\x9f\x93\xac", 8));
  g_assert_true (pb_pop3_uidl_is_valid ("\xff", 1));

  g_assert_false (pb_pop3_uidl_is_valid ("", 0));
  g_assert_false (pb_pop3_uidl_is_valid (NULL, 0));
  g_assert_false (pb_pop3_uidl_is_valid (over, PB_POP3_UIDL_MAX + 1));
  g_assert_false (pb_pop3_uidl_is_valid ("abc def", 7));
  g_assert_false (pb_pop3_uidl_is_valid ("abc\r\n", 5));
  g_assert_false (pb_pop3_uidl_is_valid ("a\tb", 3));
  g_assert_false (pb_pop3_uidl_is_valid ("a\x1b[31m", 6));
  g_assert_false (pb_pop3_uidl_is_valid ("a\x7f", 2));
  g_assert_false (pb_pop3_uidl_is_valid ("a\0b", 3));
  /* C1 controls in UTF-8 (U+0085 next line, U+009B the 8-bit CSI): they
   * are terminal escapes too. */
  g_assert_false (pb_pop3_uidl_is_valid ("a\xc2\x85", 3));
  g_assert_false (pb_pop3_uidl_is_valid ("\xc2\x9b" "2J", 4));
  /* U+FFFD marks escaped bytes only. */
  g_assert_false (pb_pop3_uidl_is_valid ("a\xef\xbf\xbd" "E9", 6));
  /* A control character after a non-UTF-8 byte is refused all the same. */
  g_assert_false (pb_pop3_uidl_is_valid ("\xe9\x1b", 2));
  /* Non-ASCII bytes count toward the bound as bytes. */
  {
    g_autofree char *wide = g_strnfill (PB_POP3_UIDL_MAX - 1, 'u');
    g_autofree char *too_wide = g_strconcat (wide, "\xc3\xa9", NULL);

    g_assert_false (pb_pop3_uidl_is_valid (too_wide, strlen (too_wide)));
  }
}

/* Undoes pb_pop3_uidl_to_key(): U+FFFD and two hex digits are a byte. */
static GBytes *
key_to_uidl (const char *key)
{
  GByteArray *bytes = g_byte_array_new ();

  for (const char *p = key; *p != '\0';)
    {
      if (g_str_has_prefix (p, "\xef\xbf\xbd"))
        {
          char hex[3] = { p[3], p[4], '\0' };
          guint8 byte = (guint8) g_ascii_strtoull (hex, NULL, 16);

          g_assert_true (g_ascii_isxdigit (p[3]) && g_ascii_isxdigit (p[4]));
          g_assert_false (g_ascii_islower (p[3]) || g_ascii_islower (p[4]));
          g_byte_array_append (bytes, &byte, 1);
          p += 5;
        }
      else
        g_byte_array_append (bytes, (const guint8 *) p++, 1);
    }
  return g_byte_array_free_to_bytes (bytes);
}

static void
assert_key (const char *uidl,
            const char *expected)
{
  g_autofree char *key = pb_pop3_uidl_to_key (uidl, strlen (uidl));
  g_autoptr(GBytes) back = NULL;

  g_assert_cmpstr (key, ==, expected);
  g_assert_true (g_utf8_validate (key, -1, NULL));
  back = key_to_uidl (key);
  g_assert_cmpmem (g_bytes_get_data (back, NULL), g_bytes_get_size (back), uidl, strlen (uidl));
}

/* The key a UIDL is stored, printed and typed back under: UTF-8 as sent,
 * and a byte that is not UTF-8 escaped without loss, so that no two UIDLs
 * share a key and JSON and the terminal get valid UTF-8. */
static void
test_uidl_key (void)
{
  assert_key ("whqtswO00WBw418f9t5JxYwZ", "whqtswO00WBw418f9t5JxYwZ");
  assert_key ("caf\xc3\xa9", "caf\xc3\xa9");
  assert_key ("\xe2\x9c\x89-\xf0\x9f\x93\xac", "\xe2\x9c\x89-\xf0\x9f\x93\xac");
  /* Latin-1 "café", and the UTF-8 one, stay two keys. */
  assert_key ("caf\xe9", "caf\xef\xbf\xbd" "E9");
  /* Broken sequences: a lone continuation byte, a truncated one, an
   * overlong "/", a surrogate. */
  assert_key ("\x80x", "\xef\xbf\xbd" "80x");
  assert_key ("a\xe2\x9c", "a\xef\xbf\xbd" "E2\xef\xbf\xbd" "9C");
  assert_key ("\xc0\xaf", "\xef\xbf\xbd" "C0\xef\xbf\xbd" "AF");
  assert_key ("\xed\xa0\x80", "\xef\xbf\xbd" "ED\xef\xbf\xbd" "A0\xef\xbf\xbd" "80");
  /* The longest UIDL, every byte escaped. */
  {
    g_autofree char *latin1 = g_strnfill (PB_POP3_UIDL_MAX, '\xe9');
    g_autofree char *key = pb_pop3_uidl_to_key (latin1, PB_POP3_UIDL_MAX);

    g_assert_cmpuint (strlen (key), ==, 5 * PB_POP3_UIDL_MAX);
  }
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

  g_test_add_func ("/pop3/reader/status-line", test_status_line);
  g_test_add_func ("/pop3/reader/status-leaves-rest", test_status_leaves_rest);
  g_test_add_func ("/pop3/reader/dot-unstuffing", test_dot_unstuffing);
  g_test_add_func ("/pop3/reader/dot-line-with-text", test_dot_line_with_text);
  g_test_add_func ("/pop3/reader/bare-lf", test_bare_lf);
  g_test_add_func ("/pop3/reader/lone-cr", test_lone_cr);
  g_test_add_func ("/pop3/reader/cr-at-chunk-boundary", test_cr_at_chunk_boundary);
  g_test_add_func ("/pop3/reader/every-split-point", test_every_split_point);
  g_test_add_func ("/pop3/reader/long-lines", test_long_lines);
  g_test_add_func ("/pop3/reader/8-bit", test_eight_bit);
  g_test_add_func ("/pop3/reader/oversized-status", test_oversized_status);
  g_test_add_func ("/pop3/reader/status-bound-edges", test_status_bound_edges);
  g_test_add_func ("/pop3/reader/nul-in-status", test_nul_in_status);
  g_test_add_func ("/pop3/reader/empty-body", test_empty_body);
  g_test_add_func ("/pop3/reader/pipelined", test_pipelined);
  g_test_add_func ("/pop3/reader/status-parse", test_status_parse);
  g_test_add_func ("/pop3/reader/status-code", test_status_code);
  g_test_add_func ("/pop3/reader/uidl-valid", test_uidl_valid);
  g_test_add_func ("/pop3/reader/uidl-key", test_uidl_key);

  return g_test_run ();
}

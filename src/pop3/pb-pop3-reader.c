/* pb-pop3-reader.c: the POP3 response reader (see pb-pop3-reader.h).
 *
 * Two modes. In status mode the reader collects one line into a buffer that
 * never grows past max_status + 1 bytes, and fails the moment a line is
 * longer, so a hostile server cannot make us buffer megabytes. In body mode
 * it copies bytes straight from the input into @out, a line at a time with
 * memchr(), so a 60 MiB RETR costs a few memchr/memcpy calls per line and a
 * 5,000-octet line is never held back: only the states that span a feed
 * boundary (a pending CR, a line that so far is "." or ".\r") are kept in
 * the struct, as bits.
 */
#include <string.h>

#include <glib/gi18n-lib.h>

#include "pb-pop3-error.h"
#include "pb-pop3-reader.h"

void
pb_pop3_reader_init (PbPop3Reader *reader,
                     gsize         max_status)
{
  g_return_if_fail (reader != NULL);
  g_return_if_fail (max_status > 0 && max_status < G_MAXSIZE / 2);

  memset (reader, 0, sizeof *reader);
  reader->max_status = max_status;
  reader->line = g_byte_array_new ();
  pb_pop3_reader_expect_status (reader);
}

void
pb_pop3_reader_clear (PbPop3Reader *reader)
{
  g_return_if_fail (reader != NULL);

  g_clear_pointer (&reader->line, g_byte_array_unref);
}

static void
reset_line_state (PbPop3Reader *reader)
{
  reader->at_line_start = TRUE;
  reader->saw_dot = FALSE;
  reader->saw_cr = FALSE;
  reader->dot_cr = FALSE;
  if (reader->line != NULL)
    g_byte_array_set_size (reader->line, 0);
}

void
pb_pop3_reader_expect_status (PbPop3Reader *reader)
{
  g_return_if_fail (reader != NULL);

  reader->mode = PB_POP3_READER_MODE_STATUS;
  reset_line_state (reader);
}

void
pb_pop3_reader_expect_body (PbPop3Reader *reader)
{
  g_return_if_fail (reader != NULL);

  reader->mode = PB_POP3_READER_MODE_BODY;
  reset_line_state (reader);
}

PbPop3ReaderMode
pb_pop3_reader_get_mode (PbPop3Reader *reader)
{
  g_return_val_if_fail (reader != NULL, PB_POP3_READER_MODE_STATUS);

  return reader->mode;
}

static PbPop3ReaderEvent
fail (PbPop3Reader  *reader,
      GError       **error,
      const char    *message)
{
  reader->failed = TRUE;
  g_set_error_literal (error, PB_POP3_ERROR, PB_POP3_ERROR_PROTOCOL, message);
  return PB_POP3_READER_ERROR;
}

static PbPop3ReaderEvent
fail_too_long (PbPop3Reader  *reader,
               GError       **error)
{
  g_autofree char *message = NULL;

  /* The bound goes in as %lu, not G_GSIZE_FORMAT: xgettext cannot see
   * through the macro, and the catalogue would hold a cut-off string. */
  message = g_strdup_printf (_("The server sent a response line longer than %lu "
                               "bytes. It does not seem to speak POP3: check "
                               "the host name and port."),
                             (gulong) reader->max_status);
  return fail (reader, error, message);
}

/* Status mode. The line may hold max_status bytes plus the CR of its CRLF;
 * we only look for the LF within what could still fit, so the search, the
 * copy and the buffer are all bounded by max_status whatever @len is. */
static PbPop3ReaderEvent
feed_status (PbPop3Reader  *reader,
             const guint8  *data,
             gsize          len,
             gsize         *consumed,
             GByteArray    *out,
             GError       **error)
{
  GByteArray *line = reader->line;
  gsize room = reader->max_status + 1 - line->len;
  gsize window = MIN (len, room + 1);
  const guint8 *nl = memchr (data, '\n', window);
  gsize take = nl != NULL ? (gsize) (nl - data) : window;
  gsize old_len = line->len;

  g_assert (line->len <= reader->max_status + 1);

  if (take > room)
    {
      /* room + 1 bytes and no LF among them: too long already. */
      *consumed = take;
      return fail_too_long (reader, error);
    }

  g_byte_array_append (line, data, take);
  *consumed = take;

  /* A NUL would silently cut the line short for every caller that reads
   * it as a string; no POP3 server sends one. */
  if (take > 0 && memchr (line->data + old_len, '\0', take) != NULL)
    return fail (reader, error,
                 _("The server sent a response line containing a NUL byte. "
                   "It does not seem to speak POP3: check the host name and port."));

  if (nl == NULL)
    {
      /* The only byte allowed past max_status is the CR of a CRLF. */
      if (line->len > reader->max_status && line->data[line->len - 1] != '\r')
        return fail_too_long (reader, error);
      return PB_POP3_READER_NEED_MORE;
    }

  *consumed = take + 1;
  if (line->len > 0 && line->data[line->len - 1] == '\r')
    g_byte_array_set_size (line, line->len - 1);
  if (line->len > reader->max_status)
    return fail_too_long (reader, error);

  g_byte_array_set_size (out, 0);
  g_byte_array_append (out, line->data, line->len);
  /* Leave a NUL after the line (not counted in out->len): set_size never
   * shrinks the allocation, so the byte written stays there. */
  g_byte_array_append (out, (const guint8 *) "", 1);
  g_byte_array_set_size (out, out->len - 1);
  g_byte_array_set_size (line, 0);

  return PB_POP3_READER_STATUS;
}

/* Body mode. RFC 1939 section 3: "If any line of the multi-line response
 * begins with the termination octet, the line is 'byte-stuffed' [...] If so
 * and if octets other than CRLF follow, the first octet of the line (the
 * termination octet) is stripped away. If so and if CRLF immediately
 * follows the termination character, then the response [...] is ended."
 * So ".." becomes ".", and ".foo" (which a correct server never sends)
 * becomes "foo": we strip the dot from every line that starts with one and
 * is not the terminator, exactly as the RFC tells the client to. A "."
 * followed by a bare LF ends the body too, since we accept bare LF as a
 * line end everywhere.
 *
 * Every consumed byte produces at most one output byte, except that a CR
 * held back by the previous call (pending CR, or the CR of ".\r") may be
 * emitted now: @out never grows by more than @len + 1. */
static PbPop3ReaderEvent
feed_body (PbPop3Reader  *reader,
           const guint8  *data,
           gsize          len,
           gsize         *consumed,
           GByteArray    *out)
{
  const guint8 *p = data;
  const guint8 *end = data + len;
  gsize old_len = out->len;
  guint8 *start;
  guint8 *w;
  gboolean ended = FALSE;

  g_byte_array_set_size (out, old_len + len + 1);
  start = w = out->data + old_len;

  while (p < end)
    {
      if (reader->saw_cr)
        {
          /* Mid-line, the previous feed ended with a CR. */
          reader->saw_cr = FALSE;
          if (*p == '\n')
            {
              *w++ = '\n';
              p++;
              reader->at_line_start = TRUE;
              continue;
            }
          *w++ = '\r'; /* a CR not followed by LF is data */
          continue;
        }

      if (reader->saw_dot || reader->dot_cr)
        {
          if (*p == '\n')
            {
              /* The terminator. Hand out the data before it first, so END
               * never carries bytes a caller might overlook. */
              if (w > start)
                break;
              reader->saw_dot = reader->dot_cr = FALSE;
              p++;
              ended = TRUE;
              break;
            }
          if (reader->saw_dot && *p == '\r')
            {
              reader->saw_dot = FALSE;
              reader->dot_cr = TRUE;
              p++;
              continue;
            }
          /* Not the terminator: the leading dot is dropped (above), and a
           * CR after it was data. Reprocess *p as the rest of the line. */
          if (reader->dot_cr)
            *w++ = '\r';
          reader->saw_dot = reader->dot_cr = FALSE;
          continue;
        }

      if (reader->at_line_start)
        {
          reader->at_line_start = FALSE;
          if (*p == '.')
            {
              /* When the whole terminator is in view and data precedes it,
               * stop before it, so END consumes exactly the "." line. */
              if (w > start &&
                  ((end - p >= 2 && p[1] == '\n') ||
                   (end - p >= 3 && p[1] == '\r' && p[2] == '\n')))
                {
                  reader->at_line_start = TRUE;
                  break;
                }
              reader->saw_dot = TRUE;
              p++;
              continue;
            }
        }

      /* Mid-line: copy up to and including the next LF in one go. */
      {
        const guint8 *nl = memchr (p, '\n', (gsize) (end - p));
        const guint8 *stop = nl != NULL ? nl : end;
        gsize n = (gsize) (stop - p);
        gboolean cr = n > 0 && stop[-1] == '\r';
        gsize keep = cr ? n - 1 : n;

        memcpy (w, p, keep);
        w += keep;
        if (nl != NULL)
          {
            *w++ = '\n'; /* CRLF (or bare LF) -> LF */
            reader->at_line_start = TRUE;
            p = nl + 1;
          }
        else
          {
            reader->saw_cr = cr; /* may be the start of a CRLF */
            p = end;
          }
      }
    }

  g_assert ((gsize) (w - start) <= len + 1);
  g_byte_array_set_size (out, old_len + (gsize) (w - start));
  *consumed = (gsize) (p - data);

  if (ended)
    {
      reader->mode = PB_POP3_READER_MODE_STATUS;
      reset_line_state (reader);
      return PB_POP3_READER_END;
    }
  if (w > start)
    return PB_POP3_READER_DATA;
  return PB_POP3_READER_NEED_MORE;
}

PbPop3ReaderEvent
pb_pop3_reader_feed (PbPop3Reader  *reader,
                     const guint8  *data,
                     gsize          len,
                     gsize         *consumed,
                     GByteArray    *out,
                     GError       **error)
{
  g_return_val_if_fail (reader != NULL, PB_POP3_READER_ERROR);
  g_return_val_if_fail (reader->line != NULL, PB_POP3_READER_ERROR);
  g_return_val_if_fail (data != NULL || len == 0, PB_POP3_READER_ERROR);
  g_return_val_if_fail (consumed != NULL, PB_POP3_READER_ERROR);
  g_return_val_if_fail (out != NULL, PB_POP3_READER_ERROR);
  g_return_val_if_fail (error == NULL || *error == NULL, PB_POP3_READER_ERROR);

  *consumed = 0;

  if (reader->failed)
    return fail (reader, error,
                 _("The connection to the server broke the POP3 protocol "
                   "earlier and cannot be used any more. Check the mail again."));

  if (len == 0)
    return PB_POP3_READER_NEED_MORE;

  if (reader->mode == PB_POP3_READER_MODE_STATUS)
    return feed_status (reader, data, len, consumed, out, error);
  return feed_body (reader, data, len, consumed, out);
}

/* RFC 1939 section 3: "Servers MUST send the "+OK" and "-ERR" in upper
 * case." That binds servers, not clients; accepting "+ok" costs nothing and
 * keeps us working with a sloppy server, in the spirit of RFC 1122's
 * robustness principle. The indicator must be followed by the end of the
 * line or a space (a tab is accepted likewise), so "+OKAY" is invalid. */
static gboolean
match_indicator (const char  *line,
                 const char  *indicator,
                 const char **text)
{
  gsize n = strlen (indicator);
  const char *rest;

  if (g_ascii_strncasecmp (line, indicator, n) != 0)
    return FALSE;
  rest = line + n;
  if (*rest != '\0' && *rest != ' ' && *rest != '\t')
    return FALSE;
  while (*rest == ' ' || *rest == '\t')
    rest++;
  *text = rest;
  return TRUE;
}

PbPop3StatusKind
pb_pop3_status_parse (const char  *line,
                      const char **text)
{
  const char *rest = NULL;
  PbPop3StatusKind kind = PB_POP3_STATUS_INVALID;

  g_return_val_if_fail (line != NULL, PB_POP3_STATUS_INVALID);

  if (match_indicator (line, "+OK", &rest))
    kind = PB_POP3_STATUS_OK;
  else if (match_indicator (line, "-ERR", &rest))
    kind = PB_POP3_STATUS_ERR;
  else if (line[0] == '+' && (line[1] == '\0' || line[1] == ' '))
    {
      /* RFC 5034 section 4: a continuation is "+" SP base64; some servers
       * send a bare "+" for an empty challenge. The text is taken as is
       * (base64 has no spaces to trim). */
      kind = PB_POP3_STATUS_CONTINUE;
      rest = line[1] == ' ' ? line + 2 : line + 1;
    }

  if (text != NULL)
    *text = rest;
  return kind;
}

/* RFC 2449 section 8: resp-code = "[" resp-level *("/" resp-level) "]",
 * resp-level = 1*<any CHAR except SP, CR, LF, "[", "]", "/">. Some servers
 * add a hint after a space ("[LOGIN-DELAY 300]"): the code is what comes
 * before the space, the argument what follows. Finds both in @text;
 * returns FALSE when there is no well-formed code. */
static gboolean
find_code (const char  *text,
           const char **code,
           gsize       *code_len,
           const char **arg,
           gsize       *arg_len)
{
  const char *status_text = NULL;
  const char *p;
  const char *close;
  gsize i;

  /* Accept a whole status line as well as the text after it. */
  switch (pb_pop3_status_parse (text, &status_text))
    {
    case PB_POP3_STATUS_OK:
    case PB_POP3_STATUS_ERR:
      text = status_text;
      break;
    case PB_POP3_STATUS_CONTINUE:
    case PB_POP3_STATUS_INVALID:
    default:
      break;
    }

  while (*text == ' ' || *text == '\t')
    text++;
  if (*text != '[')
    return FALSE;

  p = text + 1;
  close = NULL;
  for (i = 0; i <= PB_POP3_STATUS_CODE_MAX && p[i] != '\0'; i++)
    {
      guchar c = (guchar) p[i];

      if (c == ']')
        {
          close = p + i;
          break;
        }
      /* Nested or stray brackets and control characters make it
       * unbalanced or garbage: no code. */
      if (c == '[' || c < 0x20 || c == 0x7f)
        return FALSE;
    }
  if (close == NULL)
    return FALSE; /* unbalanced, or longer than the bound */

  *code = p;
  *code_len = (gsize) (close - p);
  *arg = NULL;
  *arg_len = 0;
  for (i = 0; i < *code_len; i++)
    {
      if (p[i] == ' ')
        {
          const char *a = p + i;

          *code_len = i;
          while (a < close && *a == ' ')
            a++;
          if (a < close)
            {
              *arg = a;
              *arg_len = (gsize) (close - a);
              while (*arg_len > 0 && (*arg)[*arg_len - 1] == ' ')
                (*arg_len)--;
            }
          break;
        }
    }

  if (*code_len == 0)
    return FALSE;
  /* Empty levels ("[/TEMP]", "[SYS/]", "[SYS//TEMP]") are not codes. */
  if (p[0] == '/' || p[*code_len - 1] == '/' ||
      g_strstr_len (p, (gssize) *code_len, "//") != NULL)
    return FALSE;

  return TRUE;
}

char *
pb_pop3_status_get_code (const char *text)
{
  const char *code, *arg;
  gsize code_len, arg_len;

  g_return_val_if_fail (text != NULL, NULL);

  if (!find_code (text, &code, &code_len, &arg, &arg_len))
    return NULL;
  return g_ascii_strup (code, (gssize) code_len);
}

char *
pb_pop3_status_get_code_argument (const char *text)
{
  const char *code, *arg;
  gsize code_len, arg_len;

  g_return_val_if_fail (text != NULL, NULL);

  if (!find_code (text, &code, &code_len, &arg, &arg_len) || arg == NULL)
    return NULL;
  return g_strndup (arg, arg_len);
}

/* U+FFFD is what an escaped byte starts with (pb_pop3_uidl_to_key()). */
#define ESCAPE_MARK "\xef\xbf\xbd"

char *
pb_pop3_uidl_to_key (const char *uidl,
                     gsize       len)
{
  GString *key;
  const char *p = uidl;
  const char *end = uidl + len;

  if (uidl == NULL || len == 0 || len > PB_POP3_UIDL_MAX)
    return NULL;

  /* RFC 1939 section 7 says 0x21 to 0x7E; servers send UTF-8 (and the odd
   * Latin-1 byte) all the same. A UIDL is an opaque key to us, but it is
   * printed, kept in the state file and typed back on a command line, so
   * a space (it would split the UIDL list), a line end or a control
   * character never gets in. The ASCII case is a plain copy. */
  for (; p < end && (guchar) *p < 0x80; p++)
    if ((guchar) *p <= 0x20 || *p == 0x7f)
      return NULL;
  if (p == end)
    return g_strndup (uidl, len);

  key = g_string_new_len (uidl, p - uidl);
  while (p < end)
    {
      guchar byte = (guchar) *p;
      gsize n = (gsize) g_utf8_skip[byte];

      if (byte < 0x80)
        {
          if (byte <= 0x20 || byte == 0x7f)
            break;
          g_string_append_c (key, *p++);
        }
      else if (n > 1 && n <= (gsize) (end - p) && g_utf8_validate_len (p, n, NULL))
        {
          gunichar c = g_utf8_get_char (p);

          if ((c >= 0x80 && c <= 0x9f) || c == 0xfffd)
            break;
          g_string_append_len (key, p, n);
          p += n;
        }
      else
        {
          /* Not UTF-8 (a Latin-1 "é", say): refusing it would make the
           * whole mailbox uncheckable. Each such byte becomes U+FFFD and
           * its two hex digits, a form no accepted UIDL has (U+FFFD
           * itself is refused), so the key is unique, the same at every
           * check, and valid UTF-8 for JSON and the terminal. */
          g_string_append_printf (key, ESCAPE_MARK "%02X", byte);
          p++;
        }
    }
  if (p < end)
    {
      g_string_free (key, TRUE);
      return NULL;
    }
  return g_string_free (key, FALSE);
}

gboolean
pb_pop3_uidl_is_valid (const char *uidl,
                       gsize       len)
{
  g_autofree char *key = pb_pop3_uidl_to_key (uidl, len);

  return key != NULL;
}

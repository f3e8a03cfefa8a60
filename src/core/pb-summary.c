/* pb-summary.c: a message's From, Subject and Date from its header block.
 *
 * The header block is split into fields by hand rather than with
 * GMimeParser: GMime's parser gives up on a block whose first line is not a
 * header and cuts values at a NUL byte, and a summary must get what it can
 * out of anything. Decoding (RFC 2047 encoded words, undeclared 8-bit text,
 * addresses, dates) is GMime's, which has seen more broken mail than we
 * ever will. */
#include <string.h>
#include <gmime/gmime.h>

#include "pb-summary.h"

/* A display string longer than this is cut: no one reads past it, and the
 * state file keeps a copy of every summary. */
#define MAX_TEXT_CHARS 1000
/* A single field's raw value is not collected past this. */
#define MAX_FIELD_BYTES (64 * 1024)

enum {
  FIELD_FROM,
  FIELD_SUBJECT,
  FIELD_DATE,
  FIELD_MESSAGE_ID,
  N_FIELDS
};

static const char * const field_names[N_FIELDS] = {
  [FIELD_FROM] = "From",
  [FIELD_SUBJECT] = "Subject",
  [FIELD_DATE] = "Date",
  [FIELD_MESSAGE_ID] = "Message-ID",
};

static GMimeParserOptions *
summary_options (void)
{
  static GMimeParserOptions *options;

  if (g_once_init_enter (&options))
    {
      /* Undeclared 8-bit text is tried as UTF-8 first, then as
       * windows-1252 (which every byte is valid in, and which is what such
       * mail most often turns out to be). Loose RFC 2047 rules decode the
       * encoded words real mailers produce (inside words, unquoted). */
      static const char *fallback[] = { "UTF-8", "windows-1252", NULL };
      GMimeParserOptions *o;

      g_mime_init ();
      o = g_mime_parser_options_new ();
      g_mime_parser_options_set_fallback_charsets (o, fallback);
      g_mime_parser_options_set_rfc2047_compliance_mode (o, GMIME_RFC_COMPLIANCE_LOOSE);
      g_mime_parser_options_set_address_compliance_mode (o, GMIME_RFC_COMPLIANCE_LOOSE);
      g_mime_parser_options_set_parameter_compliance_mode (o, GMIME_RFC_COMPLIANCE_LOOSE);
      g_once_init_leave (&options, o);
    }
  return options;
}

/* A field name is printable ASCII without ':' or space (RFC 5322 section
 * 2.2); obsolete syntax allows white space before the colon (section 4.5). */
static int
match_field_name (const char *line,
                  gsize       length,
                  gsize      *value_start)
{
  const char *colon = memchr (line, ':', length);
  gsize name_length;

  if (colon == NULL)
    return -2;
  name_length = colon - line;
  while (name_length > 0 && (line[name_length - 1] == ' ' || line[name_length - 1] == '\t'))
    name_length--;
  if (name_length == 0)
    return -2;
  for (gsize i = 0; i < name_length; i++)
    if ((guchar) line[i] < 33 || (guchar) line[i] > 126)
      return -2;

  *value_start = (colon - line) + 1;
  for (int f = 0; f < N_FIELDS; f++)
    if (strlen (field_names[f]) == name_length &&
        g_ascii_strncasecmp (line, field_names[f], name_length) == 0)
      return f;
  return -1;
}

static void
append_value (GString    *value,
              const char *bytes,
              gsize       length)
{
  for (gsize i = 0; i < length && value->len < MAX_FIELD_BYTES; i++)
    g_string_append_c (value, bytes[i] == '\0' ? ' ' : bytes[i]);
}

/* Unfolded (RFC 5322 section 2.2.3) with runs of white space made one space
 * and trimmed, so that a server folding a line differently does not change
 * the value. Bytes as sent: may not be UTF-8. */
static char *
normalize_raw (GString *value)
{
  GString *out;
  gboolean space = FALSE;

  if (value == NULL)
    return NULL;

  out = g_string_sized_new (value->len);
  for (gsize i = 0; i < value->len; i++)
    {
      char c = value->str[i];

      if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
        {
          space = out->len > 0;
          continue;
        }
      if (space)
        g_string_append_c (out, ' ');
      space = FALSE;
      g_string_append_c (out, c);
    }
  return g_string_free (out, FALSE);
}

/* Valid UTF-8 on one line: control and line-separator characters become
 * spaces, runs of spaces one, cut at MAX_TEXT_CHARS. */
static char *
clean_text (const char *text)
{
  g_autofree char *valid = NULL;
  GString *out;
  gboolean space = FALSE;
  guint chars = 0;

  if (text == NULL)
    return NULL;

  valid = g_utf8_make_valid (text, -1);
  out = g_string_sized_new (strlen (valid));
  for (const char *p = valid; *p != '\0' && chars < MAX_TEXT_CHARS; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      GUnicodeType type = g_unichar_type (c);

      if (g_unichar_isspace (c) || type == G_UNICODE_CONTROL ||
          type == G_UNICODE_LINE_SEPARATOR || type == G_UNICODE_PARAGRAPH_SEPARATOR)
        {
          space = out->len > 0;
          continue;
        }
      if (space && chars + 1 < MAX_TEXT_CHARS)
        {
          g_string_append_c (out, ' ');
          chars++;
        }
      else if (space)
        break;  /* no room for the space and a character after it */
      space = FALSE;
      g_string_append_unichar (out, c);
      chars++;
    }
  return g_string_free (out, FALSE);
}

/* One base64 encoded word, "=?charset?B?payload?=" (RFC 2047). */
#define BASE64_WORD "=\\?([^?\\s]+)\\?[Bb]\\?([A-Za-z0-9+/=]*)\\?="

static void
flush_base64_run (GString    *out,
                  const char *charset,
                  GByteArray *bytes,
                  const char *original,
                  gsize       original_len,
                  guint       words)
{
  g_autofree char *payload = NULL;

  if (words < 2)
    {
      g_string_append_len (out, original, (gssize) original_len);
      return;
    }
  payload = g_base64_encode (bytes->data, bytes->len);
  g_string_append_printf (out, "=?%s?B?%s?=", charset, payload);
}

/* GMime 3.2 joins the payloads of adjacent base64 words of one charset
 * before decoding them, so the padding of the first ("w6Q=") ends the
 * decoding and the rest of the subject is lost: "=?UTF-8?B?w6Q=?=
 * =?UTF-8?B?w7Y=?=" reads "ä" instead of "äö". Mailers split long
 * subjects exactly like this. Each such run is merged here into one word
 * whose payload is the bytes of all of them (which also keeps a character
 * split across two words whole); everything else is left to GMime. */
static char *
merge_base64_runs (const char *raw)
{
  static GRegex *word_regex;
  g_autoptr(GMatchInfo) match = NULL;
  g_autoptr(GString) out = NULL;
  g_autoptr(GByteArray) bytes = g_byte_array_new ();
  g_autofree char *charset = NULL;
  const char *copied = raw;     /* out holds raw up to here */
  const char *run_start = NULL;
  const char *run_end = NULL;
  guint words = 0;

  if (strstr (raw, "?=") == NULL)
    return NULL;
  if (g_once_init_enter (&word_regex))
    g_once_init_leave (&word_regex, g_regex_new (BASE64_WORD, G_REGEX_OPTIMIZE, 0, NULL));

  out = g_string_new (NULL);
  g_regex_match (word_regex, raw, 0, &match);
  for (; g_match_info_matches (match); g_match_info_next (match, NULL))
    {
      g_autofree char *word_charset = g_match_info_fetch (match, 1);
      g_autofree char *payload = g_match_info_fetch (match, 2);
      g_autofree guchar *decoded = NULL;
      gsize decoded_len = 0;
      int start, end;
      gboolean joins;

      g_match_info_fetch_pos (match, 0, &start, &end);
      /* Only white space between two words of one charset: one run. */
      joins = run_end != NULL && g_ascii_strcasecmp (charset, word_charset) == 0 &&
              strspn (run_end, " \t\r\n") == (gsize) (raw + start - run_end);
      if (!joins)
        {
          if (run_start != NULL)
            flush_base64_run (out, charset, bytes, run_start,
                              (gsize) (run_end - run_start), words);
          g_string_append_len (out, copied, raw + start - copied);
          run_start = raw + start;
          g_byte_array_set_size (bytes, 0);
          g_free (charset);
          charset = g_steal_pointer (&word_charset);
          words = 0;
        }
      decoded = g_base64_decode (payload, &decoded_len);
      g_byte_array_append (bytes, decoded, (guint) decoded_len);
      words++;
      run_end = raw + end;
      copied = run_end;
    }
  if (run_start != NULL)
    flush_base64_run (out, charset, bytes, run_start, (gsize) (run_end - run_start), words);
  g_string_append (out, copied);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static char *
decode_text (const char *raw)
{
  g_autofree char *merged = NULL;
  g_autofree char *decoded = NULL;

  if (raw == NULL)
    return NULL;
  merged = merge_base64_runs (raw);
  decoded = g_mime_utils_header_decode_text (summary_options (), merged != NULL ? merged : raw);
  return clean_text (decoded != NULL ? decoded : raw);
}

static InternetAddressMailbox *
first_mailbox (InternetAddressList *list)
{
  int n = internet_address_list_length (list);

  for (int i = 0; i < n; i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_MAILBOX (address))
        return INTERNET_ADDRESS_MAILBOX (address);
      if (INTERNET_ADDRESS_IS_GROUP (address))
        {
          InternetAddressList *members =
            internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address));
          InternetAddressMailbox *mailbox = members ? first_mailbox (members) : NULL;

          if (mailbox != NULL)
            return mailbox;
        }
    }
  return NULL;
}

static char *
nonempty_or_free (char *text)
{
  if (text != NULL && *text == '\0')
    g_clear_pointer (&text, g_free);
  return text;
}

static void
parse_from (PbSummary  *summary,
            const char *raw)
{
  InternetAddressList *list;  /* owned; GMime 3.2 has no autoptr for it */
  InternetAddressMailbox *mailbox;

  if (raw == NULL)
    return;

  list = internet_address_list_parse (summary_options (), raw);
  mailbox = list != NULL ? first_mailbox (list) : NULL;
  if (mailbox != NULL)
    {
      summary->from_name = nonempty_or_free (clean_text (internet_address_get_name (INTERNET_ADDRESS (mailbox))));
      summary->from_address = nonempty_or_free (clean_text (internet_address_mailbox_get_addr (mailbox)));
    }
  else
    {
      /* Not an address at all ("Bob", garbage, an empty group): show what
       * is there rather than nothing. A group's name is its display name. */
      if (list != NULL && internet_address_list_length (list) > 0)
        summary->from_name = nonempty_or_free (clean_text (
            internet_address_get_name (internet_address_list_get_address (list, 0))));
      if (summary->from_name == NULL)
        summary->from_name = nonempty_or_free (decode_text (raw));
    }
  g_clear_object (&list);
}

PbSummary *
pb_summary_parse_data (const char *data,
                       gsize       length)
{
  PbSummary *summary = g_new0 (PbSummary, 1);
  GString *values[N_FIELDS] = { NULL, };
  const char *p = data;
  const char *end;
  GString *current = NULL;

  g_return_val_if_fail (data != NULL || length == 0, summary);

  end = data + MIN (length, PB_SUMMARY_MAX_HEADER_BYTES);
  while (p < end)
    {
      const char *eol = memchr (p, '\n', end - p);
      const char *line_end = eol != NULL ? eol : end;
      gsize line_length = line_end - p;
      gsize value_start = 0;
      int field;

      if (line_length > 0 && p[line_length - 1] == '\r')
        line_length--;
      if (line_length == 0)
        break;  /* the empty line that ends the header block */

      if (p[0] == ' ' || p[0] == '\t')
        {
          /* A continuation line: unfolding keeps its white space. */
          if (current != NULL)
            append_value (current, p, line_length);
        }
      else if ((field = match_field_name (p, line_length, &value_start)) >= 0 &&
               values[field] == NULL)
        {
          /* The first of duplicated fields wins, as in most readers. */
          values[field] = current = g_string_new (NULL);
          append_value (current, p + value_start, line_length - value_start);
        }
      else
        {
          /* Another field, a repeated one, or a line that is not a header
           * (garbage is skipped; what follows may still be good). */
          current = NULL;
        }

      p = eol != NULL ? eol + 1 : end;
    }

  summary->raw_from = normalize_raw (values[FIELD_FROM]);
  summary->raw_subject = normalize_raw (values[FIELD_SUBJECT]);
  summary->raw_date = normalize_raw (values[FIELD_DATE]);
  summary->raw_message_id = normalize_raw (values[FIELD_MESSAGE_ID]);
  for (int f = 0; f < N_FIELDS; f++)
    if (values[f] != NULL)
      g_string_free (values[f], TRUE);

  parse_from (summary, summary->raw_from);
  summary->subject = decode_text (summary->raw_subject);
  summary->message_id = nonempty_or_free (clean_text (summary->raw_message_id));
  if (summary->raw_date != NULL)
    {
      g_autoptr(GDateTime) date = g_mime_utils_header_decode_date (summary->raw_date);

      if (date != NULL)
        summary->date = g_date_time_to_unix (date);
    }

  return summary;
}

PbSummary *
pb_summary_parse (GBytes *headers)
{
  gsize length = 0;
  const char *data;

  g_return_val_if_fail (headers != NULL, pb_summary_parse_data ("", 0));

  data = g_bytes_get_data (headers, &length);
  return pb_summary_parse_data (data != NULL ? data : "", data != NULL ? length : 0);
}

void
pb_summary_free (PbSummary *summary)
{
  if (summary == NULL)
    return;
  g_free (summary->from_name);
  g_free (summary->from_address);
  g_free (summary->subject);
  g_free (summary->message_id);
  g_free (summary->raw_message_id);
  g_free (summary->raw_date);
  g_free (summary->raw_from);
  g_free (summary->raw_subject);
  g_free (summary);
}

/* Each part is length-prefixed, and a missing header differs from an empty
 * one, so no two different header sets hash the same input. */
static void
checksum_part (GChecksum  *checksum,
               const char *value)
{
  char prefix[32];

  if (value == NULL)
    {
      g_checksum_update (checksum, (const guchar *) "-;", 2);
      return;
    }
  g_snprintf (prefix, sizeof prefix, "%" G_GSIZE_FORMAT ":", strlen (value));
  g_checksum_update (checksum, (const guchar *) prefix, -1);
  g_checksum_update (checksum, (const guchar *) value, -1);
}

char *
pb_summary_fallback_identity (const PbSummary *summary,
                              guint64          size)
{
  g_autoptr(GChecksum) checksum = NULL;
  char size_text[32];

  g_return_val_if_fail (summary != NULL, NULL);

  checksum = g_checksum_new (G_CHECKSUM_SHA256);
  /* The Message-ID as sent, not its cleaned-up display form. */
  checksum_part (checksum, summary->raw_message_id);
  checksum_part (checksum, summary->raw_date);
  checksum_part (checksum, summary->raw_from);
  checksum_part (checksum, summary->raw_subject);
  g_snprintf (size_text, sizeof size_text, "%" G_GUINT64_FORMAT, size);
  checksum_part (checksum, size_text);
  return g_strdup (g_checksum_get_string (checksum));
}

gboolean
pb_summary_is_fallback_identity (const char *name)
{
  guint i;

  for (i = 0; i < 64; i++)
    if (!g_ascii_isxdigit (name[i]) || g_ascii_isupper (name[i]))
      return FALSE;
  if (name[i] == '\0')
    return TRUE;
  if (name[i] != '-' || name[i + 1] == '\0')
    return FALSE;
  for (i++; name[i] != '\0'; i++)
    if (!g_ascii_isdigit (name[i]))
      return FALSE;
  return TRUE;
}

GPtrArray *
pb_summary_fallback_identities (PbSummary * const *summaries,
                                const guint64    *sizes,
                                guint             n)
{
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr(PbSummary) empty = pb_summary_parse_data ("", 0);
  GPtrArray *identities = g_ptr_array_new_full (n, g_free);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *base =
        pb_summary_fallback_identity (summaries[i] != NULL ? summaries[i] : empty, sizes[i]);
      char *identity = g_strdup (base);

      for (guint copy = 2; g_hash_table_contains (seen, identity); copy++)
        {
          g_free (identity);
          identity = g_strdup_printf ("%s-%u", base, copy);
        }
      g_hash_table_add (seen, identity);
      g_ptr_array_add (identities, identity);
    }
  return identities;
}

char *
pb_summary_format_from (const char *name,
                        const char *address)
{
  gboolean has_name = name != NULL && *name != '\0';
  gboolean has_address = address != NULL && *address != '\0';

  if (has_name && has_address)
    return g_strdup_printf ("%s <%s>", name, address);
  if (has_address)
    return g_strdup (address);
  if (has_name)
    return g_strdup (name);
  return NULL;
}

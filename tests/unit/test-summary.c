/* Summaries from TOP n 0 header blocks: what a person sees of a message
 * before downloading it, whatever the sender's mailer did to the headers. */
#include <string.h>

#include "core/pb-summary.h"
#include "pb-test-util.h"

static PbSummary *
parse (const char *text)
{
  return pb_summary_parse_data (text, strlen (text));
}

/* Every string a summary holds is valid UTF-8 on one line. */
static void
assert_clean (const char *text)
{
  if (text == NULL)
    return;
  g_assert_true (g_utf8_validate (text, -1, NULL));
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      g_assert_false (g_unichar_iscntrl (c));
    }
}

static void
assert_summary_clean (const PbSummary *summary)
{
  assert_clean (summary->from_name);
  assert_clean (summary->from_address);
  assert_clean (summary->subject);
  assert_clean (summary->message_id);
}

static void
test_german_quoted_printable (void)
{
  g_autoptr(PbSummary) s = parse (
    "From: =?ISO-8859-1?Q?J=FCrgen_M=FCller?= <juergen@example.de>\n"
    "Subject: =?iso-8859-1?q?Gr=FC=DFe_aus_K=F6ln?=\n"
    "Date: Tue, 1 Jul 2003 10:52:37 +0200\n"
    "\n");

  g_assert_cmpstr (s->from_name, ==, "Jürgen Müller");
  g_assert_cmpstr (s->from_address, ==, "juergen@example.de");
  g_assert_cmpstr (s->subject, ==, "Grüße aus Köln");
  g_assert_cmpint (s->date, ==, 1057049557);
}

static void
test_japanese_base64 (void)
{
  g_autoptr(PbSummary) s = parse (
    "From: =?ISO-2022-JP?B?GyRCRnxLXDhsGyhC?= <nihongo@example.jp>\n"
    "Subject: =?UTF-8?B?5pel5pys6Kqe44Gu5Lu25ZCN?=\n"
    "\n");

  g_assert_cmpstr (s->from_name, ==, "日本語");
  g_assert_cmpstr (s->from_address, ==, "nihongo@example.jp");
  g_assert_cmpstr (s->subject, ==, "日本語の件名");
}

static void
test_cyrillic (void)
{
  g_autoptr(PbSummary) s = parse (
    "From: =?koi8-r?B?8NLJ18XU?= <ivan@example.ru>\n"
    "Subject: =?windows-1251?Q?=CF=F0=E8=E2=E5=F2_=EC=E8=F0?=\n"
    "\n");

  g_assert_cmpstr (s->from_name, ==, "Привет");
  g_assert_cmpstr (s->subject, ==, "Привет мир");
}

static void
test_emoji (void)
{
  g_autoptr(PbSummary) s = parse (
    "From: =?utf-8?b?8J+OiSBQYXJ0eQ==?= <party@example.org>\n"
    "Subject: =?UTF-8?B?8J+YgA==?= tonight =?UTF-8?Q?=F0=9F=8D=95?=\n");

  g_assert_cmpstr (s->from_name, ==, "🎉 Party");
  g_assert_cmpstr (s->subject, ==, "😀 tonight 🍕");
}

static void
test_folded_headers (void)
{
  /* Adjacent encoded words across a fold join without the white space
   * between them (RFC 2047 section 6.2); plain text keeps one space. */
  g_autoptr(PbSummary) s = parse (
    "Subject: =?utf-8?q?Quarterly_?=\r\n"
    " =?utf-8?q?report?=\r\n"
    "\tand plain\r\n"
    "   folded   text\r\n"
    "From: \"Doe,\r\n"
    " Jane\" <jane@example.org>\r\n"
    "\r\n");

  g_assert_cmpstr (s->subject, ==, "Quarterly report and plain folded text");
  g_assert_cmpstr (s->from_name, ==, "Doe, Jane");
  g_assert_cmpstr (s->from_address, ==, "jane@example.org");
}

static void
test_split_base64_words (void)
{
  /* Mailers split a long subject into base64 words that each end in
   * padding; GMime 3.2 alone stops at the first "=" and drops the rest. A
   * character may even be split between two words. */
  g_autoptr(PbSummary) s = parse (
    "Subject: =?UTF-8?B?w6Q=?= =?UTF-8?B?w7Y=?=\r\n"
    "  =?utf-8?b?IGFu?= plain =?ISO-8859-1?B?5A==?=\r\n"
    "  =?ISO-8859-1?B?9g==?=\r\n"
    "From: =?UTF-8?B?SsO8?= =?UTF-8?B?cmdlbg==?= <j@example.org>\r\n"
    "\r\n");
  g_autoptr(PbSummary) split_char = parse (
    "Subject: =?UTF-8?B?4oKs?= =?UTF-8?B?8J+Y?= =?UTF-8?B?gA==?=\n\n");

  g_assert_cmpstr (s->subject, ==, "äö an plain äö");
  g_assert_cmpstr (s->from_name, ==, "Jürgen");
  g_assert_cmpstr (split_char->subject, ==, "€😀");
}

static void
test_missing_headers (void)
{
  g_autoptr(PbSummary) empty = parse ("");
  g_autoptr(PbSummary) other = parse ("Received: from x\nX-Spam: no\n\n");

  g_assert_null (empty->from_name);
  g_assert_null (empty->from_address);
  g_assert_null (empty->subject);
  g_assert_null (empty->message_id);
  g_assert_cmpint (empty->date, ==, 0);
  g_assert_null (other->subject);
  g_assert_null (other->from_address);
}

static void
test_garbage_lines_skipped (void)
{
  /* GMime's own parser gives up on a block starting like this. */
  g_autoptr(PbSummary) s = parse (
    "this is not a header\n"
    ":: : \n"
    "From jdoe@example.org Mon Jan  1 10:00:00 2024\n"
    "Subject: still found\n"
    "From: <<<>>>@@@ \"unterminated\n"
    "\n"
    "Subject: in the body, ignored\n");

  assert_summary_clean (s);
  g_assert_cmpstr (s->subject, ==, "still found");
  g_assert_nonnull (s->from_name);
}

static void
test_broken_encodings (void)
{
  g_autoptr(PbSummary) s = parse (
    "Subject: =?no-such-charset?Q?caf=E9?= =?utf-8?B?!!!not-base64?= =?utf-8?q?cut=E2=82?=\n"
    "From: =?utf-8?q?=FF=FE?= <x@example.org>\n");

  assert_summary_clean (s);
  g_assert_nonnull (s->subject);
  g_assert_true (g_str_has_prefix (s->subject, "caf"));
  g_assert_cmpstr (s->from_address, ==, "x@example.org");
}

static void
test_raw_8bit (void)
{
  /* Undeclared 8-bit: UTF-8 if it is UTF-8, else windows-1252. */
  g_autoptr(PbSummary) utf8 = parse ("Subject: Grüße\nFrom: Иван <ivan@example.ru>\n");
  g_autoptr(PbSummary) latin1 = parse ("Subject: Gr\xfc\xdf" "e \x80\n");

  g_assert_cmpstr (utf8->subject, ==, "Grüße");
  g_assert_cmpstr (utf8->from_name, ==, "Иван");
  g_assert_cmpstr (latin1->subject, ==, "Grüße €");
}

static void
test_nul_byte (void)
{
  static const char block[] =
    "From: Bob\0Evil <bob@example.org>\n"
    "Subject: he\0llo\n"
    "\n";
  g_autoptr(GBytes) bytes = g_bytes_new_static (block, sizeof block - 1);
  g_autoptr(PbSummary) s = pb_summary_parse (bytes);

  assert_summary_clean (s);
  g_assert_cmpstr (s->subject, ==, "he llo");
  g_assert_cmpstr (s->from_address, ==, "bob@example.org");
}

static void
test_control_characters (void)
{
  g_autoptr(PbSummary) s = parse (
    "Subject: =?utf-8?q?line1=0D=0Aline2=07=E2=80=A8end?=\n");

  g_assert_cmpstr (s->subject, ==, "line1 line2 end");
}

static void
test_enormous_header (void)
{
  g_autoptr(GString) block = g_string_new ("Subject: ");
  g_autoptr(PbSummary) s = NULL;
  g_autoptr(PbSummary) beyond = NULL;

  for (guint i = 0; i < 200000; i++)
    g_string_append (block, "spam ");
  g_string_append (block, "\nFrom: a@example.org\n\n");

  /* A 1 MB subject is cut for display; the From after it is found. */
  s = pb_summary_parse_data (block->str, block->len);
  assert_summary_clean (s);
  g_assert_cmpuint (g_utf8_strlen (s->subject, -1), <=, 1000);
  g_assert_true (g_str_has_prefix (s->subject, "spam spam"));
  g_assert_cmpstr (s->from_address, ==, "a@example.org");

  /* Past PB_SUMMARY_MAX_HEADER_BYTES nothing is looked at. */
  g_string_truncate (block, 0);
  for (guint i = 0; i < 300000; i++)
    g_string_append (block, "X-Junk: 1\n");
  g_string_append (block, "Subject: too late\n\n");
  beyond = pb_summary_parse_data (block->str, block->len);
  g_assert_null (beyond->subject);
}

static void
test_addresses (void)
{
  g_autoptr(PbSummary) comment = parse ("From: jdoe@example.org (John Doe)\n");
  g_autoptr(PbSummary) bare = parse ("From: jdoe@example.org\n");
  g_autoptr(PbSummary) group = parse ("From: undisclosed-recipients:;\n");
  g_autoptr(PbSummary) name_only = parse ("From: Mailer Daemon\n");
  g_autoptr(PbSummary) quoted = parse ("From: \"M\xfcller, Hans\" <h@example.de>\n");
  g_autoptr(PbSummary) first = parse ("From: first@example.org\nFrom: second@example.org\n");
  g_autoptr(PbSummary) obsolete = parse ("Subject : spaced colon\n");

  g_assert_cmpstr (comment->from_name, ==, "John Doe");
  g_assert_cmpstr (comment->from_address, ==, "jdoe@example.org");
  g_assert_null (bare->from_name);
  g_assert_cmpstr (bare->from_address, ==, "jdoe@example.org");
  g_assert_cmpstr (group->from_name, ==, "undisclosed-recipients");
  g_assert_null (group->from_address);
  g_assert_nonnull (name_only->from_name);
  g_assert_true (strstr (name_only->from_name, "Mailer") != NULL);
  g_assert_cmpstr (quoted->from_name, ==, "Müller, Hans");
  g_assert_cmpstr (first->from_address, ==, "first@example.org");
  g_assert_cmpstr (obsolete->subject, ==, "spaced colon");
}

static void
test_dates (void)
{
  g_autoptr(PbSummary) gmt = parse ("Date: 1 Jul 2003 10:52:37 GMT\n");
  g_autoptr(PbSummary) comment = parse ("Date: Thu, 13 Feb 2020 23:32 -0330 (Newfoundland Time)\n");
  g_autoptr(PbSummary) bad = parse ("Date: yesterday-ish\n");

  g_assert_cmpint (gmt->date, ==, 1057056757);
  g_assert_cmpint (comment->date, ==, 1581649320);
  g_assert_cmpint (bad->date, ==, 0);
}

static void
test_fallback_identity (void)
{
  const char *lf =
    "Message-ID: <1@example.org>\nDate: Tue, 1 Jul 2003 10:52:37 +0200\n"
    "From: a@example.org\nSubject: hello world\nReceived: by relay1\n\n";
  const char *refolded =
    "Received: by relay2, added later\r\nStatus: RO\r\n"
    "Message-ID: <1@example.org>\r\nDate: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
    "From: a@example.org\r\nSubject: hello\r\n  world\r\n\r\n";
  const char *other = "Message-ID: <2@example.org>\nDate: Tue, 1 Jul 2003 10:52:37 +0200\n"
    "From: a@example.org\nSubject: hello world\n\n";
  g_autoptr(PbSummary) a = parse (lf);
  g_autoptr(PbSummary) b = parse (refolded);
  g_autoptr(PbSummary) c = parse (other);
  g_autoptr(PbSummary) none = parse ("");
  g_autofree char *id_a = pb_summary_fallback_identity (a, 1000);
  g_autofree char *id_b = pb_summary_fallback_identity (b, 1000);
  g_autofree char *id_a_size = pb_summary_fallback_identity (a, 1001);
  g_autofree char *id_c = pb_summary_fallback_identity (c, 1000);
  g_autofree char *id_none = pb_summary_fallback_identity (none, 1000);

  g_assert_cmpuint (strlen (id_a), ==, 64);
  for (const char *p = id_a; *p != '\0'; p++)
    g_assert_true (g_ascii_isxdigit (*p) && !g_ascii_isupper (*p));

  /* Headers a server adds, line ends and folding do not change it ... */
  g_assert_cmpstr (id_a, ==, id_b);
  /* ... the size and the sender's headers do. */
  g_assert_cmpstr (id_a, !=, id_a_size);
  g_assert_cmpstr (id_a, !=, id_c);
  g_assert_cmpstr (id_a, !=, id_none);
}

static void
test_format_from (void)
{
  g_autofree char *both = pb_summary_format_from ("Jürgen", "j@example.de");
  g_autofree char *address = pb_summary_format_from (NULL, "j@example.de");
  g_autofree char *name = pb_summary_format_from ("Jürgen", "");
  g_autofree char *nothing = pb_summary_format_from (NULL, NULL);

  g_assert_cmpstr (both, ==, "Jürgen <j@example.de>");
  g_assert_cmpstr (address, ==, "j@example.de");
  g_assert_cmpstr (name, ==, "Jürgen");
  g_assert_null (nothing);
}

static void
test_random_bytes_never_crash (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (20260227);
  static const char * const pieces[] = {
    "From: ", "Subject: ", "Date: ", "Message-ID: ", "=?", "?=", "?q?", "?B?",
    "utf-8", "iso-2022-jp", "\n", "\r\n", " ", "\t", ":", "<", ">", "\"", "\\",
    "(", ")", ",", ";", "@", "=FF", "\xff", "\xc3", "\0", "\x1b$B", "=?utf-8?b?8J+Y",
  };

  for (guint round = 0; round < 3000; round++)
    {
      g_autoptr(GString) block = g_string_new (NULL);
      guint n = g_rand_int_range (rand, 0, 60);
      g_autoptr(PbSummary) s = NULL;
      g_autofree char *id = NULL;

      for (guint i = 0; i < n; i++)
        {
          if (g_rand_boolean (rand))
            {
              const char *piece = pieces[g_rand_int_range (rand, 0, G_N_ELEMENTS (pieces))];
              g_string_append_len (block, piece, piece[0] == '\0' ? 1 : (gssize) strlen (piece));
            }
          else
            g_string_append_c (block, (char) g_rand_int_range (rand, 0, 256));
        }

      s = pb_summary_parse_data (block->str, block->len);
      assert_summary_clean (s);
      id = pb_summary_fallback_identity (s, round);
      g_assert_cmpuint (strlen (id), ==, 64);
    }
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);
  g_test_add_func ("/core/summary/german-quoted-printable", test_german_quoted_printable);
  g_test_add_func ("/core/summary/japanese-base64", test_japanese_base64);
  g_test_add_func ("/core/summary/cyrillic", test_cyrillic);
  g_test_add_func ("/core/summary/emoji", test_emoji);
  g_test_add_func ("/core/summary/folded-headers", test_folded_headers);
  g_test_add_func ("/core/summary/split-base64-words", test_split_base64_words);
  g_test_add_func ("/core/summary/missing-headers", test_missing_headers);
  g_test_add_func ("/core/summary/garbage-lines-skipped", test_garbage_lines_skipped);
  g_test_add_func ("/core/summary/broken-encodings", test_broken_encodings);
  g_test_add_func ("/core/summary/raw-8bit", test_raw_8bit);
  g_test_add_func ("/core/summary/nul-byte", test_nul_byte);
  g_test_add_func ("/core/summary/control-characters", test_control_characters);
  g_test_add_func ("/core/summary/enormous-header", test_enormous_header);
  g_test_add_func ("/core/summary/addresses", test_addresses);
  g_test_add_func ("/core/summary/dates", test_dates);
  g_test_add_func ("/core/summary/fallback-identity", test_fallback_identity);
  g_test_add_func ("/core/summary/format-from", test_format_from);
  g_test_add_func ("/core/summary/random-bytes-never-crash", test_random_bytes_never_crash);
  return g_test_run ();
}

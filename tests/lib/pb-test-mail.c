/* pb-test-mail.c: awkward test messages and a fast Maildir filler. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gio/gio.h>

#include "pb-test-mail.h"

static const char * const kind_names[PB_TEST_MAIL_N_KINDS] = {
  [PB_TEST_MAIL_SIMPLE] = "simple",
  [PB_TEST_MAIL_LONE_DOT] = "lone-dot",
  [PB_TEST_MAIL_DOT_DOT] = "dot-dot",
  [PB_TEST_MAIL_EIGHT_BIT] = "eight-bit",
  [PB_TEST_MAIL_LONG_LINES] = "long-lines",
  [PB_TEST_MAIL_NO_FINAL_NEWLINE] = "no-final-newline",
  [PB_TEST_MAIL_EMPTY_BODY] = "empty-body",
  [PB_TEST_MAIL_ATTACHMENT] = "attachment",
  [PB_TEST_MAIL_INTERNATIONAL] = "international",
  [PB_TEST_MAIL_CRLF] = "crlf",
};

const char *
pb_test_mail_kind_name (PbTestMailKind kind)
{
  g_return_val_if_fail (kind < PB_TEST_MAIL_N_KINDS, NULL);
  return kind_names[kind];
}

static void
append_headers (GString    *s,
                const char *from,
                const char *subject,
                const char *message_id)
{
  g_string_append_printf (s,
                          "Return-Path: <sender@example.org>\n"
                          "From: %s\n"
                          "To: Alice <alice@example.org>\n"
                          "Subject: %s\n"
                          "Date: Thu, 26 Nov 2026 09:15:00 +0100\n"
                          "Message-ID: <%s@popbiff.test>\n"
                          "MIME-Version: 1.0\n",
                          from, subject, message_id);
}

/* Base64 lines of 76 characters, as MIME wants them, from @len
 * deterministic pseudo-random bytes. */
static void
append_base64_lines (GString *s,
                     GRand   *rand,
                     gsize    len)
{
  guchar chunk[57];  /* 57 octets encode to exactly 76 characters */

  while (len > 0)
    {
      gsize n = MIN (len, sizeof chunk);
      g_autofree char *line = NULL;

      for (gsize i = 0; i < n; i++)
        chunk[i] = (guchar) g_rand_int_range (rand, 0, 256);
      line = g_base64_encode (chunk, n);
      g_string_append (s, line);
      g_string_append_c (s, '\n');
      len -= n;
    }
}

static GString *
make_awkward (PbTestMailKind kind)
{
  GString *s = g_string_new (NULL);

  switch (kind)
    {
    case PB_TEST_MAIL_SIMPLE:
      append_headers (s, "Bob <bob@example.org>", "Lunch on Friday?", "simple");
      g_string_append (s, "Content-Type: text/plain; charset=us-ascii\n\n"
                          "Hi Alice,\n\nlunch on Friday at noon?\n\nBob\n");
      break;

    case PB_TEST_MAIL_LONE_DOT:
      /* A lone "." would end the response if the server did not stuff it,
       * and a client that does not unstuff would keep "..". */
      append_headers (s, "Dot <dot@example.org>", "Lone dots", "lone-dot");
      g_string_append (s, "Content-Type: text/plain\n\n"
                          ".\n"
                          "between two dots\n"
                          ".\n"
                          "\n"
                          ".\n"
                          "end\n");
      break;

    case PB_TEST_MAIL_DOT_DOT:
      append_headers (s, "Dot <dot@example.org>", "Leading dots", "dot-dot");
      g_string_append (s, "Content-Type: text/plain\n\n"
                          "..\n"
                          "..two dots then text\n"
                          "...three\n"
                          ".one dot\n"
                          ". space after a dot\n"
                          "..\n");
      break;

    case PB_TEST_MAIL_EIGHT_BIT:
      append_headers (s, "Latin <latin@example.org>", "Eight-bit body", "eight-bit");
      g_string_append (s, "Content-Type: text/plain; charset=iso-8859-1\n"
                          "Content-Transfer-Encoding: 8bit\n\n"
                          "Gr\xfc\xdf" "e, Stra\xdf" "e, K\xf6ln, \xe6\xf8\xe5\n"
                          "UTF-8 too: \xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xae\n");
      /* Every octet from 0x80 to 0xff, 32 to a line. */
      for (guint b = 0x80; b <= 0xff; b++)
        {
          g_string_append_c (s, (char) b);
          if ((b & 0x1f) == 0x1f)
            g_string_append_c (s, '\n');
        }
      break;

    case PB_TEST_MAIL_LONG_LINES:
      /* Far beyond RFC 5322's 998, as real mail often is; one starts with a
       * dot so stuffing happens inside a long line. */
      append_headers (s, "Long <long@example.org>", "Long lines", "long-lines");
      g_string_append (s, "Content-Type: text/plain\n\n");
      for (guint line = 0; line < 3; line++)
        {
          if (line == 1)
            g_string_append_c (s, '.');
          for (guint i = (line == 1); i < 5000; i++)
            g_string_append_c (s, "abcdefghijklmnopqrstuvwxyz0123456789 "[(i + line) % 37]);
          g_string_append_c (s, '\n');
        }
      break;

    case PB_TEST_MAIL_NO_FINAL_NEWLINE:
      append_headers (s, "Cut <cut@example.org>", "No final newline", "no-final-newline");
      g_string_append (s, "Content-Type: text/plain\n\n"
                          "first line\n"
                          "the last line has no line end");
      break;

    case PB_TEST_MAIL_EMPTY_BODY:
      append_headers (s, "Empty <empty@example.org>", "Empty body", "empty-body");
      g_string_append (s, "Content-Type: text/plain\n\n");
      break;

    case PB_TEST_MAIL_ATTACHMENT:
      {
        g_autoptr(GRand) rand = g_rand_new_with_seed (4242);

        append_headers (s, "Photos <photos@example.org>", "The pictures", "attachment");
        g_string_append (s, "Content-Type: multipart/mixed; boundary=\"pb-boundary\"\n\n"
                            "This is a multi-part message in MIME format.\n"
                            "--pb-boundary\n"
                            "Content-Type: text/plain; charset=us-ascii\n\n"
                            "Here they are.\n\n"
                            "--pb-boundary\n"
                            "Content-Type: application/octet-stream; name=\"pictures.bin\"\n"
                            "Content-Transfer-Encoding: base64\n"
                            "Content-Disposition: attachment; filename=\"pictures.bin\"\n\n");
        append_base64_lines (s, rand, 3 * 1024 * 1024);
        g_string_append (s, "--pb-boundary--\n");
      }
      break;

    case PB_TEST_MAIL_INTERNATIONAL:
      {
        /* Two encoded words, Q then B, split between characters; the space
         * before the second is inside the first, since whitespace between
         * encoded words is dropped (RFC 2047 section 6.2). (GMime 3.2 joins
         * adjacent B words before decoding, so a padded first B word would
         * not decode there; mailers do send those, but this message is
         * about decoding in general.) */
        const char *part1 = "Grüße aus Köln – ";
        const char *part2 = "東京からの便り";
        g_autoptr(GString) q = g_string_new (NULL);
        g_autofree char *b2 = g_base64_encode ((const guchar *) part2, strlen (part2));
        g_autofree char *subject = NULL;

        for (const guchar *p = (const guchar *) part1; *p != '\0'; p++)
          {
            if (*p == ' ')
              g_string_append_c (q, '_');
            else if (*p < 0x80 && g_ascii_isalnum (*p))
              g_string_append_c (q, (char) *p);
            else
              g_string_append_printf (q, "=%02X", *p);
          }
        subject = g_strdup_printf ("=?UTF-8?Q?%s?=\n =?UTF-8?B?%s?=", q->str, b2);
        append_headers (s, "=?ISO-8859-1?Q?J=FCrgen_M=FCller?= <juergen@example.de>",
                        subject, "international");
        g_string_append (s, "Content-Type: text/plain; charset=utf-8\n"
                            "Content-Transfer-Encoding: 8bit\n\n"
                            "Viele Grüße, Jürgen\n");
      }
      break;

    case PB_TEST_MAIL_CRLF:
      append_headers (s, "Windows <win@example.org>", "Stored with CRLF", "crlf");
      g_string_append (s, "Content-Type: text/plain\n\n"
                          "line one\n"
                          ".\n"
                          "..dots\n"
                          "last\n");
      {
        GString *crlf = g_string_sized_new (s->len * 2);

        for (gsize i = 0; i < s->len; i++)
          {
            if (s->str[i] == '\n')
              g_string_append_c (crlf, '\r');
            g_string_append_c (crlf, s->str[i]);
          }
        g_string_free (s, TRUE);
        s = crlf;
      }
      break;

    case PB_TEST_MAIL_N_KINDS:
    default:
      g_assert_not_reached ();
    }

  return s;
}

GBytes *
pb_test_mail_awkward (PbTestMailKind kind)
{
  g_return_val_if_fail (kind < PB_TEST_MAIL_N_KINDS, NULL);
  return g_string_free_to_bytes (make_awkward (kind));
}

GBytes *
pb_test_mail_simple (const char *from,
                     const char *subject,
                     const char *body)
{
  GString *s = g_string_new (NULL);
  g_autofree char *id = g_uuid_string_random ();

  append_headers (s, from, subject, id);
  g_string_append (s, "Content-Type: text/plain; charset=utf-8\n\n");
  g_string_append (s, body);
  if (s->len > 0 && s->str[s->len - 1] != '\n')
    g_string_append_c (s, '\n');
  return g_string_free_to_bytes (s);
}

static GString *
crlf_to_lf (const char *data,
            gsize       len)
{
  GString *out = g_string_sized_new (len + 1);

  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')
        continue;
      g_string_append_c (out, data[i]);
    }
  return out;
}

GBytes *
pb_test_mail_expected_retr (GBytes *stored)
{
  gsize len;
  const char *data = g_bytes_get_data (stored, &len);
  GString *out = crlf_to_lf (data, len);

  if (out->len > 0 && out->str[out->len - 1] != '\n')
    g_string_append_c (out, '\n');
  return g_string_free_to_bytes (out);
}

GBytes *
pb_test_mail_expected_top0 (GBytes *stored)
{
  gsize len;
  const char *data = g_bytes_get_data (stored, &len);
  GString *out = crlf_to_lf (data, len);
  const char *blank;

  if (out->len > 0 && out->str[out->len - 1] != '\n')
    g_string_append_c (out, '\n');
  if (out->len > 0 && out->str[0] == '\n')
    g_string_truncate (out, 1);
  else if ((blank = strstr (out->str, "\n\n")) != NULL)
    g_string_truncate (out, (gsize) (blank - out->str) + 2);
  return g_string_free_to_bytes (out);
}

/* Maildir names */

static GMutex name_lock;

/* A name Dovecot sorts after all earlier ones of this process: seconds and
 * microseconds strictly increasing (like Dovecot's own generator), so
 * delivery order is numbering order. */
static char *
next_unique_name (void)
{
  static gint64 last_usec;
  static guint counter;
  gint64 now = g_get_real_time ();
  char *name;

  g_mutex_lock (&name_lock);
  if (now <= last_usec)
    now = last_usec + 1;
  last_usec = now;
  name = g_strdup_printf ("%" G_GINT64_FORMAT ".M%06dP%dQ%u.pbtest",
                          now / G_USEC_PER_SEC, (int) (now % G_USEC_PER_SEC),
                          (int) getpid (), ++counter);
  g_mutex_unlock (&name_lock);
  return name;
}

int
pb_test_mail_maildir_name_compare (const char *a,
                                   const char *b)
{
  guint64 ta = 0, tb = 0;

  /* Numeric, since strcmp breaks when the UNIX time gains a digit. */
  while (g_ascii_isdigit (*a))
    ta = ta * 10 + (guint64) (*a++ - '0');
  while (g_ascii_isdigit (*b))
    tb = tb * 10 + (guint64) (*b++ - '0');
  if (ta != tb)
    return ta < tb ? -1 : 1;

  if (a[0] == '.' && a[1] == 'M' && b[0] == '.' && b[1] == 'M')
    {
      guint64 ua = 0, ub = 0;

      a += 2;
      b += 2;
      while (g_ascii_isdigit (*a))
        ua = ua * 10 + (guint64) (*a++ - '0');
      while (g_ascii_isdigit (*b))
        ub = ub * 10 + (guint64) (*b++ - '0');
      if (ua != ub)
        return ua < ub ? -1 : 1;
    }
  return strcmp (a, b);
}

static gboolean
ensure_maildir (const char  *maildir,
                struct stat *owner,
                GError     **error)
{
  static const char * const subdirs[] = { "tmp", "new", "cur" };

  if (g_mkdir_with_parents (maildir, 0755) != 0 || g_stat (maildir, owner) != 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot create Maildir %s: %s", maildir, g_strerror (saved));
      return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (subdirs); i++)
    {
      g_autofree char *sub = g_build_filename (maildir, subdirs[i], NULL);

      if (g_mkdir (sub, 0755) != 0 && errno != EEXIST)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "Cannot create %s: %s", sub, g_strerror (saved));
          return FALSE;
        }
      if (getuid () == 0 && chown (sub, owner->st_uid, owner->st_gid) != 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "Cannot chown %s: %s", sub, g_strerror (saved));
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
fsync_path (const char *path,
            GError    **error)
{
  int fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0 || fsync (fd) != 0)
    {
      int saved = errno;
      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot fsync %s: %s", path, g_strerror (saved));
      return FALSE;
    }
  close (fd);
  return TRUE;
}

/* Writes @len bytes as tmp/NAME, then renames to new/NAME. The Maildir
 * must exist; @owner gives the file's owner when run as root (the server
 * reads and renames it as that user). */
static char *
write_message (const char        *maildir,
               const struct stat *owner,
               const char        *data,
               gsize              len,
               gboolean           durable,
               GError           **error)
{
  g_autofree char *name = next_unique_name ();
  g_autofree char *tmp_path = g_build_filename (maildir, "tmp", name, NULL);
  g_autofree char *new_path = g_build_filename (maildir, "new", name, NULL);
  int fd;
  int saved;

  fd = open (tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0)
    goto fail;
  while (len > 0)
    {
      ssize_t n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        goto fail_close;
      data += n;
      len -= (gsize) n;
    }
  if (getuid () == 0 && fchown (fd, owner->st_uid, owner->st_gid) != 0)
    goto fail_close;
  if (durable && fsync (fd) != 0)
    goto fail_close;
  if (close (fd) != 0)
    {
      fd = -1;
      goto fail;
    }
  if (rename (tmp_path, new_path) != 0)
    goto fail;
  if (durable)
    {
      g_autofree char *new_dir = g_build_filename (maildir, "new", NULL);

      if (!fsync_path (new_dir, error))
        return NULL;
    }
  return g_steal_pointer (&new_path);

fail_close:
  saved = errno;
  close (fd);
  errno = saved;
fail:
  saved = errno;
  g_unlink (tmp_path);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
               "Cannot write message %s: %s", tmp_path, g_strerror (saved));
  return NULL;
}

char *
pb_test_mail_deliver (const char *maildir,
                      GBytes     *message,
                      gboolean    durable,
                      GError    **error)
{
  struct stat owner;
  gsize len;
  const char *data;

  g_return_val_if_fail (maildir != NULL, NULL);
  g_return_val_if_fail (message != NULL, NULL);

  if (!ensure_maildir (maildir, &owner, error))
    return NULL;
  data = g_bytes_get_data (message, &len);
  return write_message (maildir, &owner, data != NULL ? data : "", len, durable, error);
}

/* The generator */

static const char * const words[] = {
  "the", "of", "and", "to", "in", "is", "you", "that", "it", "for", "on",
  "was", "with", "as", "have", "be", "at", "this", "from", "or", "had",
  "by", "but", "some", "what", "there", "we", "can", "out", "other",
  "were", "all", "your", "when", "up", "use", "word", "how", "said", "an",
  "each", "she", "which", "do", "their", "time", "if", "will", "way",
  "about", "many", "then", "them", "would", "write", "like", "so", "these",
  "her", "long", "make", "thing", "see", "him", "two", "has", "look",
  "more", "day", "could", "go", "come", "did", "my", "sound", "no", "most",
  "number", "who", "over", "know", "water", "than", "call", "first",
  "people", "may", "down", "side", "been", "now", "find", "invoice",
  "meeting", "schedule", "report", "attached", "please", "review",
  "thanks", "regards", "Monday", "tomorrow", "project", "budget", "draft",
};

static const char * const names[] = {
  "Anna Schmidt", "Bob Jones", "Chloé Martin", "Dmitri Ivanov",
  "Eva Nováková", "Farid Haddad", "Grace Liu", "Hiro Tanaka",
  "Ingrid Berg", "José García", "Kofi Mensah", "Lena Fischer",
};

static void
append_words (GString *s,
              GRand   *rand,
              gsize    target)
{
  gsize line_len = 0;

  while (s->len < target)
    {
      const char *w = words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))];

      if (line_len == 0 && g_rand_int_range (rand, 0, 400) == 0)
        {
          /* Now and then a line starting with a dot, as in real text
           * ("...and then"), so that stuffing happens under load. */
          g_string_append (s, "...");
          line_len += 3;
        }
      g_string_append (s, w);
      line_len += strlen (w);
      if (line_len > 66 + (gsize) g_rand_int_range (rand, 0, 8))
        {
          g_string_append_c (s, '\n');
          line_len = 0;
          if (g_rand_int_range (rand, 0, 8) == 0)
            g_string_append_c (s, '\n');
        }
      else
        {
          g_string_append_c (s, ' ');
          line_len++;
        }
    }
  if (line_len > 0)
    g_string_append_c (s, '\n');
}

static void
generate_message (GString *s,
                  GRand   *rand,
                  guint    index,
                  gsize    size)
{
  const char *name = names[g_rand_int_range (rand, 0, G_N_ELEMENTS (names))];
  g_autoptr(GDateTime) first = NULL;
  g_autoptr(GDateTime) date = NULL;
  g_autofree char *date_str = NULL;
  gboolean attachment = size > 12 * 1024 && g_rand_int_range (rand, 0, 3) == 0;
  gsize start;

  g_string_truncate (s, 0);
  /* Newer messages have later dates; one every ~7 minutes back from a
   * fixed day, so the box reads like a real one. */
  first = g_date_time_new_utc (2026, 11, 20, 8, 0, 0);
  /* A new object: the first date stays ours to free. */
  date = g_date_time_add_seconds (first, (gdouble) index * 421.0);
  date_str = g_date_time_format (date, "%a, %d %b %Y %H:%M:%S +0000");

  g_string_append_printf (s,
                          "Return-Path: <sender%u@example.net>\n"
                          "Received: from mx.example.net (mx.example.net [192.0.2.25])\n"
                          "\tby pop.example.org (Postfix) with ESMTPS id %08X\n"
                          "\tfor <alice@example.org>; %s\n"
                          "From: %s <sender%u@example.net>\n"
                          "To: Alice <alice@example.org>\n"
                          "Subject: %s %s %s #%u\n"
                          "Date: %s\n"
                          "Message-ID: <%08x.%u@example.net>\n"
                          "MIME-Version: 1.0\n",
                          index % 97, g_rand_int (rand), date_str,
                          name, index % 97,
                          words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))],
                          words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))],
                          words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))],
                          index, date_str, g_rand_int (rand), index);

  if (!attachment)
    {
      g_string_append (s, "Content-Type: text/plain; charset=utf-8\n"
                          "Content-Transfer-Encoding: 8bit\n\n");
      append_words (s, rand, size);
      return;
    }

  g_string_append (s, "Content-Type: multipart/mixed; boundary=\"=-gen-boundary\"\n\n"
                      "--=-gen-boundary\n"
                      "Content-Type: text/plain; charset=utf-8\n\n");
  start = s->len;
  append_words (s, rand, start + 600);
  g_string_append (s, "\n--=-gen-boundary\n"
                      "Content-Type: application/pdf; name=\"document.pdf\"\n"
                      "Content-Transfer-Encoding: base64\n"
                      "Content-Disposition: attachment; filename=\"document.pdf\"\n\n");
  if (size > s->len + 40)
    append_base64_lines (s, rand, (size - s->len - 40) / 4 * 3);
  g_string_append (s, "--=-gen-boundary--\n");
}

gboolean
pb_test_mail_fill_maildir (const char *maildir,
                           guint       count,
                           gsize       average_size,
                           guint32     seed,
                           GError    **error)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr(GString) s = g_string_sized_new (average_size * 4);
  struct stat owner;

  g_return_val_if_fail (maildir != NULL, FALSE);
  g_return_val_if_fail (average_size >= 512, FALSE);

  if (!ensure_maildir (maildir, &owner, error))
    return FALSE;

  for (guint i = 0; i < count; i++)
    {
      g_autofree char *path = NULL;
      gsize size;

      /* Nine in ten are text of 0.3-1.1x the average, one in ten is
       * 2-3.8x (attachments); scaled so the mean is the average asked for. */
      if (g_rand_int_range (rand, 0, 10) != 0)
        size = (gsize) (average_size * g_rand_double_range (rand, 0.3, 1.1) / 0.92);
      else
        size = (gsize) (average_size * g_rand_double_range (rand, 2.0, 3.8) / 0.92);
      generate_message (s, rand, i, size);
      path = write_message (maildir, &owner, s->str, s->len, FALSE, error);
      if (path == NULL)
        return FALSE;
    }
  return TRUE;
}

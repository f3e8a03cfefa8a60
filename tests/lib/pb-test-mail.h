/* pb-test-mail.h: test messages, awkward and plentiful.
 *
 * The awkward ones are what breaks POP3 clients: lines that are a lone ".",
 * lines starting with "..", 8-bit bytes, 5,000-octet lines, no final
 * newline, an empty body, a several-MiB attachment, RFC 2047 encoded
 * international headers. All use LF line ends (as Maildir files do) unless
 * the name says CRLF.
 *
 * The generator writes N realistic messages of a given average size
 * straight into a Maildir, fast enough to make the 10,000-message benchmark
 * box in a second or two. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  PB_TEST_MAIL_SIMPLE,           /* a short plain-text note */
  PB_TEST_MAIL_LONE_DOT,         /* body lines that are exactly "." */
  PB_TEST_MAIL_DOT_DOT,          /* body lines starting with "..", ".x", "..." */
  PB_TEST_MAIL_EIGHT_BIT,        /* raw Latin-1 and UTF-8 bytes, 8bit transfer */
  PB_TEST_MAIL_LONG_LINES,       /* 5,000-octet lines */
  PB_TEST_MAIL_NO_FINAL_NEWLINE, /* the last line has no line end */
  PB_TEST_MAIL_EMPTY_BODY,       /* headers, blank line, nothing else */
  PB_TEST_MAIL_ATTACHMENT,       /* a 3 MiB base64 attachment */
  PB_TEST_MAIL_INTERNATIONAL,    /* RFC 2047 Subject and From name */
  PB_TEST_MAIL_CRLF,             /* stored with CRLF line ends */
  PB_TEST_MAIL_N_KINDS
} PbTestMailKind;

/* A short name for test paths and messages, e.g. "lone-dot". */
const char *pb_test_mail_kind_name (PbTestMailKind kind);
/* The message of that kind (deterministic bytes). */
GBytes     *pb_test_mail_awkward   (PbTestMailKind kind);

/* The decoded (UTF-8) Subject and From display name the international
 * message carries, for checking header decoding. */
#define PB_TEST_MAIL_INTERNATIONAL_SUBJECT "Grüße aus Köln – 東京からの便り"
#define PB_TEST_MAIL_INTERNATIONAL_FROM_NAME "Jürgen Müller"

/* A small well-formed message with these headers and body (LF line ends). */
GBytes     *pb_test_mail_simple    (const char *from,
                                    const char *subject,
                                    const char *body);

/* What a POP3 client that unstuffs dots and turns CRLF into LF should
 * produce from RETR of a Maildir file holding @stored: CRLF becomes LF, and
 * a message that does not end with a line end gets one (the server must
 * end the last line before the terminating "."; RFC 1939 section 3). */
GBytes     *pb_test_mail_expected_retr (GBytes *stored);

/* The headers of @stored up to and including the blank line, with LF line
 * ends: what TOP n 0 should give after the same normalization. */
GBytes     *pb_test_mail_expected_top0 (GBytes *stored);

/* Writes @count realistic messages (headers of a real mailer, text and
 * some base64 attachments; sizes spread around @average_size) into the
 * Maildir @maildir (creating tmp/ new/ cur/), with names Dovecot orders in
 * the order written. @seed makes the content reproducible. Files take the
 * owner of @maildir when run as root. No fsync per file: for benchmarks. */
gboolean    pb_test_mail_fill_maildir (const char *maildir,
                                       guint       count,
                                       gsize       average_size,
                                       guint32     seed,
                                       GError    **error);

/* Writes one message into @maildir atomically and durably (tmp/, fsync,
 * rename into new/, fsync of new/), named so it sorts after every message
 * written before by this process. Returns the new path. */
char       *pb_test_mail_deliver   (const char *maildir,
                                    GBytes     *message,
                                    gboolean    durable,
                                    GError    **error);

/* Compares two Maildir unique names the way Dovecot orders new messages:
 * by seconds, then microseconds (".M<usec>"), then by name. */
int         pb_test_mail_maildir_name_compare (const char *a,
                                               const char *b);

G_END_DECLS

/* pb-pop3-reader.h: the POP3 response reader, a pure function over bytes.
 *
 * No I/O, no allocation proportional to the input except the bounded status
 * line: the session feeds it whatever the socket returned, and it hands back
 * events. This is what the unit tests split at every byte and what the
 * fuzzer drives (fuzz/).
 *
 * A response is a status line ("+OK ..." / "-ERR ..." / "+ ..." for SASL
 * continuations, RFC 1939 section 3, RFC 5034 section 4), optionally followed
 * by a multi-line body ended by a line holding a single ".". In the body the
 * reader removes dot-stuffing (a leading "." is dropped when the line starts
 * with ".."; RFC 1939 section 3) and turns CRLF into LF. Bare LF is accepted
 * as a line end everywhere; a CR not followed by LF is body data.
 *
 * Usage:
 *   PbPop3Reader r;
 *   pb_pop3_reader_init (&r, PB_POP3_READER_DEFAULT_MAX_STATUS);
 *   pb_pop3_reader_expect_status (&r);
 *   loop: ev = pb_pop3_reader_feed (&r, buf, len, &used, out, &error);
 *         buf += used; len -= used;
 *         STATUS: out holds the status line without its line end; if the
 *                 command is multi-line and the line starts "+OK", call
 *                 pb_pop3_reader_expect_body() before feeding on.
 *         DATA:   out holds body bytes (appended); consume and clear them.
 *         END:    the body is complete; call expect_status() for the next.
 *         NEED_MORE: every byte was used; read more from the socket.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* RFC 2449 section 4 bounds a response line to 512 octets; real servers
 * send longer greetings and SASL challenges, so allow generous slack while
 * keeping a hostile megabyte-long line a protocol error. */
#define PB_POP3_READER_DEFAULT_MAX_STATUS 8192

typedef enum {
  PB_POP3_READER_NEED_MORE,
  PB_POP3_READER_STATUS,
  PB_POP3_READER_DATA,
  PB_POP3_READER_END,
  PB_POP3_READER_ERROR,
} PbPop3ReaderEvent;

typedef enum {
  PB_POP3_READER_MODE_STATUS,
  PB_POP3_READER_MODE_BODY,
} PbPop3ReaderMode;

typedef struct {
  /*< private >*/
  PbPop3ReaderMode mode;
  gsize max_status;       /* longest status line, without its line end */
  GByteArray *line;       /* the status line being collected (bounded:
                           * at most max_status + 1 bytes, the +1 being
                           * the CR of a CRLF) */
  guint at_line_start : 1;/* body: the next byte begins a line */
  guint saw_dot : 1;      /* body: the line so far is exactly "." */
  guint saw_cr : 1;       /* body: a CR is pending (may be the start of CRLF) */
  guint dot_cr : 1;       /* body: the line is "." followed by CR */
  guint failed : 1;       /* an ERROR was reported; framing is lost */
} PbPop3Reader;

void               pb_pop3_reader_init          (PbPop3Reader *reader,
                                                 gsize         max_status);
void               pb_pop3_reader_clear         (PbPop3Reader *reader);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PbPop3Reader, pb_pop3_reader_clear)
void               pb_pop3_reader_expect_status (PbPop3Reader *reader);
void               pb_pop3_reader_expect_body   (PbPop3Reader *reader);
PbPop3ReaderMode   pb_pop3_reader_get_mode      (PbPop3Reader *reader);

/* Consumes bytes from @data until it has an event to report. *@consumed is
 * how many bytes it used (it may be less than @len: feed the rest after
 * handling the event). STATUS replaces the contents of @out (and leaves a
 * NUL byte after the last one, not counted in out->len, so out->data can be
 * read as a string; a status line holding a NUL byte is an ERROR); DATA
 * appends to @out. Every event but ERROR and NEED_MORE on an empty @data
 * consumes at least one byte. A body ends with DATA (if any bytes are
 * left) and then END; END leaves the reader expecting a status line. ERROR
 * sets @error (PB_POP3_ERROR_PROTOCOL) and the reader must not be fed again
 * (if it is, it reports ERROR again). */
PbPop3ReaderEvent  pb_pop3_reader_feed          (PbPop3Reader  *reader,
                                                 const guint8  *data,
                                                 gsize          len,
                                                 gsize         *consumed,
                                                 GByteArray    *out,
                                                 GError       **error);

/* Pure helpers over one status line. */
typedef enum {
  PB_POP3_STATUS_OK,
  PB_POP3_STATUS_ERR,
  PB_POP3_STATUS_CONTINUE, /* "+ " SASL continuation */
  PB_POP3_STATUS_INVALID,
} PbPop3StatusKind;

PbPop3StatusKind   pb_pop3_status_parse         (const char  *line,
                                                 const char **text);
/* The RFC 2449/3206 response code in "[...]" right after +OK/-ERR, e.g.
 * "IN-USE", "SYS/TEMP", "LOGIN-DELAY"; NULL if none. Newly allocated.
 * @text is what pb_pop3_status_parse() returned (a whole "+OK ..." /
 * "-ERR ..." line is accepted too). The code is returned in upper case so
 * it can be compared with strcmp(); NULL when the brackets are missing,
 * unbalanced, empty or longer than PB_POP3_STATUS_CODE_MAX. */
#define PB_POP3_STATUS_CODE_MAX 128
char              *pb_pop3_status_get_code      (const char  *text);
/* What follows the code inside the brackets, for servers that send a hint
 * such as "[LOGIN-DELAY 300]": "300". NULL if there is none. Newly
 * allocated. */
char              *pb_pop3_status_get_code_argument (const char *text);

/* A UIDL is 1-70 printable ASCII characters 0x21-0x7E (RFC 1939 section 7);
 * we accept up to 255 bytes of any text to be lenient with real servers
 * (UTF-8 ones), never control characters (C0, DEL, C1), spaces, NUL or an
 * empty string. */
#define PB_POP3_UIDL_MAX 255
/* The key a UIDL is known by (state, JSON, command line): valid UTF-8,
 * the UIDL itself when it is UTF-8; a byte that is not UTF-8 (Latin-1)
 * becomes U+FFFD followed by its value in two uppercase hex digits, and
 * a UIDL holding U+FFFD itself is refused, so keys are unique and never
 * lose a byte. NULL when the UIDL is refused. Newly allocated. */
char              *pb_pop3_uidl_to_key          (const char  *uidl,
                                                 gsize        len);
/* Whether pb_pop3_uidl_to_key() takes it. */
gboolean           pb_pop3_uidl_is_valid        (const char  *uidl,
                                                 gsize        len);

G_END_DECLS

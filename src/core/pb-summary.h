/* pb-summary.h: what a person sees of a message before downloading it.
 *
 * Built from the header block a server returns for TOP n 0. Mail headers in
 * the wild are often broken: undeclared 8-bit text, unknown charsets in
 * RFC 2047 encoded words, NUL bytes, lines that are not headers at all. A
 * summary is always best effort and never fails: every string in it is valid
 * UTF-8 on one line (no control characters), or NULL when the header is
 * missing. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Only this much of a header block is looked at. A real header block is a
 * few kilobytes; a hostile one must not cost more memory or time than this. */
#define PB_SUMMARY_MAX_HEADER_BYTES (1024 * 1024)

typedef struct {
  char   *from_name;     /* decoded display name, NULL if none */
  char   *from_address;  /* addr-spec, NULL if none could be parsed */
  char   *subject;       /* decoded, NULL if missing */
  gint64  date;          /* Date: as Unix time, 0 if missing or unparsable */
  char   *message_id;    /* Message-ID: as sent (unfolded), NULL if missing */

  /* private: the unfolded, whitespace-normalised raw values the fallback
   * identity is computed from (decoding must not change an identity). */
  char   *raw_message_id;
  char   *raw_date;
  char   *raw_from;
  char   *raw_subject;
} PbSummary;

/* Never returns NULL, whatever @headers holds (even empty or binary). */
PbSummary *pb_summary_parse        (GBytes          *headers);
PbSummary *pb_summary_parse_data   (const char      *data,
                                    gsize            length);
void       pb_summary_free         (PbSummary       *summary);

/* An identity for a message on a server without UIDL: the lowercase hex
 * SHA-256 over Message-ID, Date, From, Subject and the size from LIST.
 * Those four headers are written once by the sender and no server rewrites
 * them, unlike Received:, Status: or X-UIDL:, which servers add or change;
 * the size tells apart messages whose headers are the same (two cron mails in
 * one second without a Message-ID). 64 characters, all valid in a UIDL. */
char      *pb_summary_fallback_identity (const PbSummary *summary,
                                         guint64          size);
/* The fallback identities of a whole mailbox in message order (a
 * GPtrArray of char*): pb_summary_fallback_identity() of each, except that
 * a message equal in headers and size to an earlier one gets "-2", "-3",
 * … after it, so that each has its own. Check and fetch both name
 * messages this way, so they agree on a server without UIDL. A NULL
 * summary counts as headers that are all missing. */
GPtrArray *pb_summary_fallback_identities (PbSummary * const *summaries,
                                           const guint64    *sizes,
                                           guint             n);

/* Whether @name has the shape pb_summary_fallback_identities() gives (64
 * lowercase hex digits, maybe "-N"): a message named by its headers, not
 * by a server's UIDL. */
gboolean   pb_summary_is_fallback_identity (const char *name);

/* "Name <address>", "address" or "Name" for display and `list --json`;
 * NULL when both are NULL. */
char      *pb_summary_format_from  (const char      *name,
                                    const char      *address);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PbSummary, pb_summary_free)

G_END_DECLS

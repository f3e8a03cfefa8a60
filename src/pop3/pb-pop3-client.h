/* pb-pop3-client.h: one POP3 session over GIO.
 *
 * Every operation is async (GTask, _async/_finish, GCancellable); none
 * blocks. Commands may be issued back to back without waiting: the client
 * queues them, writes up to a bounded window ahead when the server offers
 * PIPELINING (RFC 2449 section 6.6), one at a time otherwise, and completes
 * them in order. A failed command fails only itself unless the connection is
 * gone, in which case every queued command fails with the same error.
 *
 * Typical use:
 *   client = pb_pop3_client_new ("pop.example.org", 995, PB_POP3_SECURITY_TLS);
 *   connect_async -> authenticate_async -> stat/uidl/top/retr... -> quit_async
 */
#pragma once

#include <gio/gio.h>

#include "pb-pop3-error.h"

G_BEGIN_DECLS

typedef enum {
  PB_POP3_SECURITY_TLS,       /* implicit TLS, port 995 (the default) */
  PB_POP3_SECURITY_STARTTLS,  /* STLS on port 110, never falls back */
  PB_POP3_SECURITY_NONE,      /* plaintext, only when chosen explicitly */
} PbPop3Security;

typedef enum {
  PB_POP3_AUTH_AUTO,          /* strongest offered; cleartext only with security none */
  PB_POP3_AUTH_USER,          /* USER/PASS */
  PB_POP3_AUTH_APOP,          /* only when chosen explicitly */
  PB_POP3_AUTH_PLAIN,
  PB_POP3_AUTH_LOGIN,
  PB_POP3_AUTH_CRAM_MD5,
  PB_POP3_AUTH_SCRAM_SHA_256,
  PB_POP3_AUTH_XOAUTH2,       /* secret is a bearer token */
  PB_POP3_AUTH_OAUTHBEARER,   /* secret is a bearer token */
} PbPop3AuthMethod;

/* Strings as used in accounts.conf and on the command line:
 * "tls", "starttls", "none"; "auto", "user", "apop", "plain", "login",
 * "cram-md5", "scram-sha-256", "xoauth2", "oauthbearer". */
const char *pb_pop3_security_to_string (PbPop3Security security);
gboolean    pb_pop3_security_from_string (const char *str, PbPop3Security *out);
guint16     pb_pop3_security_default_port (PbPop3Security security);
const char *pb_pop3_auth_method_to_string (PbPop3AuthMethod method);
gboolean    pb_pop3_auth_method_from_string (const char *str, PbPop3AuthMethod *out);

#define PB_POP3_DEFAULT_TIMEOUT 30          /* seconds, connect and per response */
#define PB_POP3_DEFAULT_MAX_MESSAGE_SIZE (256 * 1024 * 1024)

/* What we learned about the server's certificate; filled in whenever a
 * handshake happened, whether it was accepted or not. */
typedef struct {
  char      *subject;
  char      *issuer;
  GDateTime *not_before;
  GDateTime *not_after;
  char      *sha256;           /* lowercase hex, no colons, of the DER leaf */
  GTlsCertificateFlags errors; /* what verification found (0 if trusted) */
  gboolean   pinned;           /* accepted because it matched the pin */
  char      *tls_version;      /* e.g. "TLS 1.3" */
  char      *cipher;           /* e.g. "TLS_AES_256_GCM_SHA384" */
} PbPop3TlsInfo;

void           pb_pop3_tls_info_free (PbPop3TlsInfo *info);
PbPop3TlsInfo *pb_pop3_tls_info_copy (const PbPop3TlsInfo *info);
/* A sentence for a person: "The certificate is not trusted (unknown
 * issuer)…". Newly allocated. */
char          *pb_pop3_certificate_errors_describe (GTlsCertificateFlags errors);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PbPop3TlsInfo, pb_pop3_tls_info_free)

#define PB_TYPE_POP3_CLIENT (pb_pop3_client_get_type ())
G_DECLARE_FINAL_TYPE (PbPop3Client, pb_pop3_client, PB, POP3_CLIENT, GObject)

PbPop3Client *pb_pop3_client_new (const char     *host,
                                  guint16         port,
                                  PbPop3Security  security);

/* Settings; take effect at the next connect. The CA file (PEM) is trusted
 * in addition to the system store; the pin (SHA-256 of the leaf's DER, hex,
 * colons allowed) accepts exactly that certificate, self-signed or not, and
 * refuses any other. A timeout of 0 means PB_POP3_DEFAULT_TIMEOUT; it is
 * the longest the server may go without progress (an answer, or another
 * kilobyte of a long one), not a limit on the session. */
void pb_pop3_client_set_timeout          (PbPop3Client *self, guint seconds);
void pb_pop3_client_set_ca_file          (PbPop3Client *self, const char *path);
void pb_pop3_client_set_pin_sha256       (PbPop3Client *self, const char *hex);
void pb_pop3_client_set_max_message_size (PbPop3Client *self, guint64 bytes);
void pb_pop3_client_set_pipeline_window  (PbPop3Client *self, guint commands);

/* Connect, TLS (implicit or STLS), read the greeting, CAPA. On a rejected
 * certificate the error is PB_POP3_ERROR_CERTIFICATE with a message naming
 * subject, issuer, validity, fingerprint and the reason, and
 * pb_pop3_client_get_tls_info() still describes the certificate. */
void     pb_pop3_client_connect_async  (PbPop3Client        *self,
                                        GCancellable        *cancellable,
                                        GAsyncReadyCallback  callback,
                                        gpointer             user_data);
gboolean pb_pop3_client_connect_finish (PbPop3Client  *self,
                                        GAsyncResult  *result,
                                        GError       **error);

/* Authenticate, then CAPA again (RFC 2449 section 5). @secret is a password
 * or, for XOAUTH2/OAUTHBEARER, a bearer token. */
void     pb_pop3_client_authenticate_async  (PbPop3Client        *self,
                                             const char          *user,
                                             const char          *secret,
                                             PbPop3AuthMethod     method,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
gboolean pb_pop3_client_authenticate_finish (PbPop3Client  *self,
                                             GAsyncResult  *result,
                                             GError       **error);

/* After connect: what the server said. */
const char         *pb_pop3_client_get_greeting       (PbPop3Client *self);
const PbPop3TlsInfo *pb_pop3_client_get_tls_info      (PbPop3Client *self); /* NULL without TLS */
gboolean            pb_pop3_client_has_capability     (PbPop3Client *self, const char *name);
/* The CAPA lines as sent ("TOP", "SASL PLAIN SCRAM-SHA-256", ...); empty if
 * the server has no CAPA. NULL-terminated, owned by the client. */
const char * const *pb_pop3_client_get_capabilities   (PbPop3Client *self);
const char * const *pb_pop3_client_get_sasl_mechanisms(PbPop3Client *self);
const char         *pb_pop3_client_get_implementation (PbPop3Client *self);
/* LOGIN-DELAY and EXPIRE from CAPA in seconds/days; -1 if not announced,
 * G_MAXINT for "EXPIRE NEVER". */
gint                pb_pop3_client_get_login_delay    (PbPop3Client *self);
gint                pb_pop3_client_get_expire         (PbPop3Client *self);
/* After authenticate: e.g. "SCRAM-SHA-256", "USER", "APOP". */
const char         *pb_pop3_client_get_auth_mechanism (PbPop3Client *self);
/* Seconds from a "[LOGIN-DELAY n]"-style hint in the last error (or, for
 * [LOGIN-DELAY] without one, the CAPA LOGIN-DELAY), or -1. */
gint                pb_pop3_client_get_retry_after    (PbPop3Client *self);
/* Whether the connection is encrypted (TLS or after STLS). */
gboolean            pb_pop3_client_is_encrypted       (PbPop3Client *self);

/* STAT: message count and total size in octets. */
void     pb_pop3_client_stat_async  (PbPop3Client *self, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
gboolean pb_pop3_client_stat_finish (PbPop3Client *self, GAsyncResult *result,
                                     guint *count, guint64 *size, GError **error);

/* One message as listed by LIST/UIDL. */
typedef struct {
  guint    number;  /* message number, valid for this session only */
  guint64  size;    /* from LIST, 0 if unknown */
  char    *uidl;    /* from UIDL, validated; NULL if unknown */
} PbPop3Listing;

void           pb_pop3_listing_free (PbPop3Listing *listing);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PbPop3Listing, pb_pop3_listing_free)

/* LIST: a GPtrArray of PbPop3Listing (size set, uidl NULL), in message order. */
void       pb_pop3_client_list_async  (PbPop3Client *self, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data);
GPtrArray *pb_pop3_client_list_finish (PbPop3Client *self, GAsyncResult *result,
                                       GError **error);

/* UIDL (all): a GPtrArray of PbPop3Listing (uidl set, size 0). UIDL and
 * TOP are sent whether or not CAPA lists them (servers omit them from the
 * CAPA after login and answer them all the same). A plain -ERR (no
 * response code such as [SYS/TEMP]) to this listing is
 * PB_POP3_ERROR_UNSUPPORTED, listed or not: it names no message, so it
 * means the server gives no UIDLs. For TOP and UIDL n, a plain -ERR is
 * UNSUPPORTED when CAPA does not list the command, and PB_POP3_ERROR_SERVER
 * (that message) when it does. A line with an invalid UIDL is a
 * PB_POP3_ERROR_PROTOCOL error. */
void       pb_pop3_client_uidl_async  (PbPop3Client *self, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data);
GPtrArray *pb_pop3_client_uidl_finish (PbPop3Client *self, GAsyncResult *result,
                                       GError **error);

/* UIDL n: the UIDL of one message. */
void   pb_pop3_client_uidl_one_async  (PbPop3Client *self, guint number,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data);
char  *pb_pop3_client_uidl_one_finish (PbPop3Client *self, GAsyncResult *result,
                                       GError **error);

/* TOP n lines: headers (and @lines body lines), unstuffed, LF line ends,
 * capped at the max message size. Fails with PB_POP3_ERROR_UNSUPPORTED
 * when the server has no TOP (as for UIDL above: a plain -ERR to a TOP
 * that CAPA does not list). */
void    pb_pop3_client_top_async  (PbPop3Client *self, guint number, guint lines,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback, gpointer user_data);
GBytes *pb_pop3_client_top_finish (PbPop3Client *self, GAsyncResult *result,
                                   GError **error);

/* RETR n streamed into @output (unstuffed, CRLF -> LF, never the whole
 * message in memory). @output is not closed. *@bytes_written counts octets
 * written. A message over the size cap fails with PB_POP3_ERROR_TOO_LARGE
 * and the connection is closed (the rest cannot be skipped reliably). */
void     pb_pop3_client_retr_async  (PbPop3Client *self, guint number,
                                     GOutputStream *output,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
gboolean pb_pop3_client_retr_finish (PbPop3Client *self, GAsyncResult *result,
                                     guint64 *bytes_written, GError **error);

/* DELE n, RSET, NOOP: plain +OK/-ERR commands. */
void     pb_pop3_client_dele_async  (PbPop3Client *self, guint number,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
gboolean pb_pop3_client_dele_finish (PbPop3Client *self, GAsyncResult *result,
                                     GError **error);
void     pb_pop3_client_rset_async  (PbPop3Client *self, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
gboolean pb_pop3_client_rset_finish (PbPop3Client *self, GAsyncResult *result,
                                     GError **error);
void     pb_pop3_client_noop_async  (PbPop3Client *self, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
gboolean pb_pop3_client_noop_finish (PbPop3Client *self, GAsyncResult *result,
                                     GError **error);

/* QUIT, then close. Deletions take effect only if QUIT got +OK
 * (RFC 1939 section 6); a failure here means they may not have. */
void     pb_pop3_client_quit_async  (PbPop3Client *self, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
gboolean pb_pop3_client_quit_finish (PbPop3Client *self, GAsyncResult *result,
                                     GError **error);

/* Drop the connection without QUIT (no deletion takes effect). */
void     pb_pop3_client_close       (PbPop3Client *self);

G_END_DECLS

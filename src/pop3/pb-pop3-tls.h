/* pb-pop3-tls.h: what the session learns about a server certificate, and
 * how it explains a rejection to a person. Private to src/pop3/. */
#pragma once

#include <gio/gio.h>

#include "pb-pop3-client.h"

G_BEGIN_DECLS

/* Lowercase hex SHA-256 of the certificate's DER encoding. */
char          *pb_pop3_tls_fingerprint (GTlsCertificate *certificate);

/* TRUE if @pin (hex, any case, colons and spaces allowed) is @sha256. */
gboolean       pb_pop3_tls_pin_matches (const char *pin,
                                        const char *sha256);

/* A pin as stored: lowercase hex without separators; NULL if @pin is not 64
 * hex digits once colons and spaces are dropped. */
char          *pb_pop3_tls_normalize_pin (const char *pin);

PbPop3TlsInfo *pb_pop3_tls_info_new    (GTlsCertificate      *certificate,
                                        GTlsCertificateFlags  errors);
/* Fills in the protocol version and cipher after a handshake. */
void           pb_pop3_tls_info_set_connection (PbPop3TlsInfo  *info,
                                                GTlsConnection *connection);

/* The whole sentence for a PB_POP3_ERROR_CERTIFICATE error: why, then
 * subject, issuer, validity and fingerprint, then what to do. */
char          *pb_pop3_tls_describe_rejection (const PbPop3TlsInfo *info,
                                               gboolean             pin_mismatch);

G_END_DECLS

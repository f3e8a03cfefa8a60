/* pb-pop3-sasl.h: the client side of one SASL exchange (RFC 4422) in the
 * base64 form POP3 carries it in (RFC 5034). Private to src/pop3/.
 *
 * SCRAM-SHA-256, CRAM-MD5, PLAIN and LOGIN go through GNU SASL. XOAUTH2 and
 * OAUTHBEARER (RFC 7628), which GNU SASL lacks, are built here: each is one
 * client message, and a failure comes back as a "+ base64(json)" challenge
 * that the client must answer before the server sends -ERR. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _PbPop3Sasl PbPop3Sasl;

/* @secret is the password, or the bearer token for XOAUTH2/OAUTHBEARER.
 * Fails with PB_POP3_ERROR_AUTH_UNAVAILABLE if the mechanism is unknown. */
PbPop3Sasl *pb_pop3_sasl_new            (const char  *mechanism,
                                         const char  *user,
                                         const char  *secret,
                                         const char  *host,
                                         guint16      port,
                                         GError     **error);
void        pb_pop3_sasl_free           (PbPop3Sasl  *sasl);

const char *pb_pop3_sasl_get_mechanism  (PbPop3Sasl  *sasl);

/* Whether the mechanism speaks first (PLAIN, SCRAM-*, XOAUTH2,
 * OAUTHBEARER): its first message may go in the AUTH command as the
 * initial response. */
gboolean    pb_pop3_sasl_client_first   (PbPop3Sasl  *sasl);

/* One step: @challenge is the base64 text after "+ " (NULL for the
 * initial response). *@response is base64, possibly empty; it may hold a
 * secret, so free it with pb_pop3_sasl_free_response(). */
gboolean    pb_pop3_sasl_step           (PbPop3Sasl  *sasl,
                                         const char  *challenge,
                                         char       **response,
                                         GError     **error);
void        pb_pop3_sasl_free_response  (char        *response);

/* TRUE once the mechanism has finished on its side; for SCRAM that means
 * the server proved it knows the password too. */
gboolean    pb_pop3_sasl_is_complete    (PbPop3Sasl  *sasl);
/* Whether a +OK before completion is acceptable (not for SCRAM, whose
 * last step authenticates the server). */
gboolean    pb_pop3_sasl_needs_completion (PbPop3Sasl *sasl);

/* SCRAM's SaltedPassword (RFC 5802): PBKDF2 over the SASLprep'd password,
 * with HMAC-SHA-256 (32 octets into @out) or HMAC-SHA-1 (20). FALSE if
 * the password cannot be prepared. What GNU SASL computes, faster. */
gboolean    pb_pop3_sasl_salted_password (gboolean      sha256,
                                          const char   *password,
                                          const guint8 *salt,
                                          gsize         salt_len,
                                          guint         iterations,
                                          guint8       *out);

/* For XOAUTH2/OAUTHBEARER after an error challenge: the server's reason
 * (the JSON "status"), or NULL. */
const char *pb_pop3_sasl_get_server_error (PbPop3Sasl *sasl);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PbPop3Sasl, pb_pop3_sasl_free)

G_END_DECLS

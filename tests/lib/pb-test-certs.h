/* pb-test-certs.h: test certificates made at test time with openssl.
 *
 * Nothing is checked in and nothing touches the system trust store: a test
 * makes a throw-away CA and the server certificates it needs in a temporary
 * directory, and hands the CA file to the client (pb_pop3_client_set_ca_file)
 * or to Dovecot. Keys are EC P-256, so generating the whole set takes a few
 * milliseconds even on a loaded machine.
 *
 * Every certificate except the self-signed one is signed by the test CA.
 *   server       CN=localhost, SAN DNS:localhost, IP:127.0.0.1, IP:::1
 *   wrong_host   CN=wrong.invalid, SAN DNS:wrong.invalid (host name mismatch)
 *   expired      like server, valid 2020-01-01 .. 2021-01-01
 *   self_signed  like server, but signed by itself (for pinning tests)
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *dir;
  char *ca_pem;
  char *ca_key;
  char *server_pem;
  char *server_key;
  char *wrong_host_pem;
  char *wrong_host_key;
  char *expired_pem;
  char *expired_key;
  char *self_signed_pem;
  char *self_signed_key;
} PbTestCerts;

/* Makes the set in @dir (created if missing). Fails with G_IO_ERROR_NOT_FOUND
 * when openssl is not installed: call pb_test_require_program ("openssl")
 * first to turn that into a skip. */
PbTestCerts *pb_test_certs_new    (const char   *dir,
                                   GError      **error);
void         pb_test_certs_free   (PbTestCerts  *certs);

/* The SHA-256 fingerprint of the first certificate in a PEM file, lowercase
 * hex without colons: what pb_pop3_client_set_pin_sha256() takes. */
char        *pb_test_certs_sha256 (const char   *pem_path,
                                   GError      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PbTestCerts, pb_test_certs_free)

G_END_DECLS

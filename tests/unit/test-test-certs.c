/* The test certificates are what every TLS test stands on: check that each
 * one fails (or passes) verification for exactly the reason its name says. */
#include <gio/gio.h>

#include "pb-test-certs.h"
#include "pb-test-util.h"

static GTlsCertificateFlags
verify (const char *pem,
        const char *key,
        const char *ca_pem)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GTlsCertificate) cert = g_tls_certificate_new_from_files (pem, key, &error);
  g_autoptr(GTlsCertificate) ca = NULL;
  g_autoptr(GSocketConnectable) identity = g_network_address_new ("localhost", 995);

  g_assert_no_error (error);
  if (ca_pem != NULL)
    {
      ca = g_tls_certificate_new_from_file (ca_pem, &error);
      g_assert_no_error (error);
    }
  return g_tls_certificate_verify (cert, identity, ca);
}

static void
test_each_certificate_fails_for_its_reason (void)
{
  g_autofree char *openssl = pb_test_require_program ("openssl");
  g_autofree char *dir = NULL;
  g_autoptr(PbTestCerts) certs = NULL;
  g_autoptr(GError) error = NULL;

  if (openssl == NULL)
    return;

  dir = g_build_filename (g_get_user_cache_dir (), "certs", NULL);
  certs = pb_test_certs_new (dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (certs);

  g_assert_cmpint (verify (certs->server_pem, certs->server_key, certs->ca_pem), ==, 0);
  g_assert_cmpint (verify (certs->wrong_host_pem, certs->wrong_host_key, certs->ca_pem), ==,
                   G_TLS_CERTIFICATE_BAD_IDENTITY);
  g_assert_cmpint (verify (certs->expired_pem, certs->expired_key, certs->ca_pem), ==,
                   G_TLS_CERTIFICATE_EXPIRED);
  g_assert_cmpint (verify (certs->self_signed_pem, certs->self_signed_key, certs->ca_pem) &
                   G_TLS_CERTIFICATE_UNKNOWN_CA, ==, G_TLS_CERTIFICATE_UNKNOWN_CA);
}

static void
test_fingerprint_is_sha256_of_der (void)
{
  g_autofree char *openssl = pb_test_require_program ("openssl");
  g_autofree char *dir = NULL;
  g_autofree char *fingerprint = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *out = NULL;
  g_autoptr(PbTestCerts) certs = NULL;
  g_autoptr(GError) error = NULL;
  int status = 0;

  if (openssl == NULL)
    return;

  dir = g_build_filename (g_get_user_cache_dir (), "certs", NULL);
  certs = pb_test_certs_new (dir, &error);
  g_assert_no_error (error);

  fingerprint = pb_test_certs_sha256 (certs->self_signed_pem, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (fingerprint), ==, 64);

  /* Cross-check against openssl's own idea of the fingerprint. */
  {
    const char *argv[] = { "openssl", "x509", "-noout", "-fingerprint", "-sha256",
                           "-in", certs->self_signed_pem, NULL };
    g_auto(GStrv) parts = NULL;

    g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                  &out, NULL, &status, &error);
    g_assert_no_error (error);
    parts = g_strsplit (g_strstrip (out), "=", 2);
    g_assert_cmpstr (parts[1], !=, NULL);
    expected = g_strdelimit (g_ascii_strdown (parts[1], -1), ":", ' ');
    {
      g_auto(GStrv) bytes = g_strsplit (expected, " ", -1);
      g_autofree char *joined = g_strjoinv ("", bytes);

      g_assert_cmpstr (fingerprint, ==, joined);
    }
  }
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);
  g_test_add_func ("/test-certs/each-fails-for-its-reason",
                   test_each_certificate_fails_for_its_reason);
  g_test_add_func ("/test-certs/fingerprint-is-sha256-of-der",
                   test_fingerprint_is_sha256_of_der);
  return g_test_run ();
}

/* pb-test-certs.c: a throw-away CA and server certificates, made with the
 * openssl command line so the test suite needs no crypto code of its own. */
#include <errno.h>
#include <glib/gstdio.h>
#include <gio/gio.h>

#include "pb-test-certs.h"

/* `openssl ca` is the one openssl command in 3.0 that can back-date a
 * certificate (for the expired one), and it wants a configuration with a
 * database. copy_extensions is off: extensions come from -extfile only. */
static const char ca_config[] =
  "[ ca ]\n"
  "default_ca = test_ca\n"
  "[ test_ca ]\n"
  "database = index.txt\n"
  "new_certs_dir = .\n"
  "serial = serial\n"
  "default_md = sha256\n"
  "policy = policy_any\n"
  "unique_subject = no\n"
  "copy_extensions = none\n"
  "[ policy_any ]\n"
  "commonName = supplied\n";

static const char localhost_ext[] =
  "subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1\n"
  "basicConstraints = critical, CA:FALSE\n"
  "keyUsage = critical, digitalSignature, keyEncipherment\n"
  "extendedKeyUsage = serverAuth\n";

static const char wrong_host_ext[] =
  "subjectAltName = DNS:wrong.invalid\n"
  "basicConstraints = critical, CA:FALSE\n"
  "keyUsage = critical, digitalSignature, keyEncipherment\n"
  "extendedKeyUsage = serverAuth\n";

static gboolean
run_openssl (const char          *dir,
             const char * const  *args,
             GError             **error)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *err_output = NULL;
  int status = 0;

  g_ptr_array_add (argv, (gpointer) "openssl");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_sync (dir, (char **) argv->pdata, NULL,
                     G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err_output, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "openssl %s failed: %s", args[0], err_output);
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_file (const char  *dir,
            const char  *name,
            const char  *contents,
            GError     **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return g_file_set_contents (path, contents, -1, error);
}

/* A new EC P-256 key and a certificate request for @cn, as NAME.key and
 * NAME.csr. */
static gboolean
make_request (const char  *dir,
              const char  *name,
              const char  *cn,
              GError     **error)
{
  g_autofree char *key = g_strconcat (name, ".key", NULL);
  g_autofree char *csr = g_strconcat (name, ".csr", NULL);
  g_autofree char *subj = g_strconcat ("/CN=", cn, NULL);
  const char *args[] = {
    "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
    "-nodes", "-keyout", key, "-out", csr, "-subj", subj, NULL
  };

  return run_openssl (dir, args, error);
}

/* Signs NAME.csr with the test CA into NAME.pem, valid from @start to @end
 * (openssl's YYYYMMDDHHMMSSZ) or, when @start is NULL, for ten years from
 * now. */
static gboolean
sign_request (const char  *dir,
              const char  *name,
              const char  *extfile,
              const char  *start,
              const char  *end,
              GError     **error)
{
  g_autofree char *csr = g_strconcat (name, ".csr", NULL);
  g_autofree char *pem = g_strconcat (name, ".pem", NULL);
  g_autoptr(GPtrArray) args = g_ptr_array_new ();

  g_ptr_array_add (args, (gpointer) "ca");
  g_ptr_array_add (args, (gpointer) "-batch");
  g_ptr_array_add (args, (gpointer) "-notext");
  g_ptr_array_add (args, (gpointer) "-config");
  g_ptr_array_add (args, (gpointer) "ca.cnf");
  g_ptr_array_add (args, (gpointer) "-cert");
  g_ptr_array_add (args, (gpointer) "ca.pem");
  g_ptr_array_add (args, (gpointer) "-keyfile");
  g_ptr_array_add (args, (gpointer) "ca.key");
  g_ptr_array_add (args, (gpointer) "-extfile");
  g_ptr_array_add (args, (gpointer) extfile);
  g_ptr_array_add (args, (gpointer) "-in");
  g_ptr_array_add (args, csr);
  g_ptr_array_add (args, (gpointer) "-out");
  g_ptr_array_add (args, pem);
  if (start != NULL)
    {
      g_ptr_array_add (args, (gpointer) "-startdate");
      g_ptr_array_add (args, (gpointer) start);
      g_ptr_array_add (args, (gpointer) "-enddate");
      g_ptr_array_add (args, (gpointer) end);
    }
  else
    {
      g_ptr_array_add (args, (gpointer) "-days");
      g_ptr_array_add (args, (gpointer) "3650");
    }
  g_ptr_array_add (args, NULL);

  return run_openssl (dir, (const char * const *) args->pdata, error);
}

PbTestCerts *
pb_test_certs_new (const char  *dir,
                   GError     **error)
{
  g_autoptr(PbTestCerts) certs = NULL;
  g_autofree char *openssl = g_find_program_in_path ("openssl");
  const char *ca_args[] = {
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
    "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "3650",
    "-subj", "/O=Popbiff tests/CN=Popbiff Test CA",
    "-addext", "basicConstraints=critical,CA:TRUE",
    "-addext", "keyUsage=critical,keyCertSign,cRLSign", NULL
  };
  const char *self_signed_args[] = {
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
    "-nodes", "-keyout", "self-signed.key", "-out", "self-signed.pem",
    "-days", "3650", "-subj", "/O=Popbiff tests/CN=localhost",
    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
    "-addext", "basicConstraints=critical,CA:FALSE", NULL
  };

  g_return_val_if_fail (dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (openssl == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           "openssl is not installed");
      return NULL;
    }
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Could not create %s: %s", dir, g_strerror (saved_errno));
      return NULL;
    }

  if (!write_file (dir, "ca.cnf", ca_config, error) ||
      !write_file (dir, "index.txt", "", error) ||
      !write_file (dir, "serial", "1000\n", error) ||
      !write_file (dir, "localhost.ext", localhost_ext, error) ||
      !write_file (dir, "wrong-host.ext", wrong_host_ext, error) ||
      !run_openssl (dir, ca_args, error) ||
      !make_request (dir, "server", "localhost", error) ||
      !sign_request (dir, "server", "localhost.ext", NULL, NULL, error) ||
      !make_request (dir, "wrong-host", "wrong.invalid", error) ||
      !sign_request (dir, "wrong-host", "wrong-host.ext", NULL, NULL, error) ||
      !make_request (dir, "expired", "localhost", error) ||
      !sign_request (dir, "expired", "localhost.ext",
                     "20200101000000Z", "20210101000000Z", error) ||
      !run_openssl (dir, self_signed_args, error))
    return NULL;

  certs = g_new0 (PbTestCerts, 1);
  certs->dir = g_strdup (dir);
  certs->ca_pem = g_build_filename (dir, "ca.pem", NULL);
  certs->ca_key = g_build_filename (dir, "ca.key", NULL);
  certs->server_pem = g_build_filename (dir, "server.pem", NULL);
  certs->server_key = g_build_filename (dir, "server.key", NULL);
  certs->wrong_host_pem = g_build_filename (dir, "wrong-host.pem", NULL);
  certs->wrong_host_key = g_build_filename (dir, "wrong-host.key", NULL);
  certs->expired_pem = g_build_filename (dir, "expired.pem", NULL);
  certs->expired_key = g_build_filename (dir, "expired.key", NULL);
  certs->self_signed_pem = g_build_filename (dir, "self-signed.pem", NULL);
  certs->self_signed_key = g_build_filename (dir, "self-signed.key", NULL);
  return g_steal_pointer (&certs);
}

void
pb_test_certs_free (PbTestCerts *certs)
{
  if (certs == NULL)
    return;
  g_free (certs->dir);
  g_free (certs->ca_pem);
  g_free (certs->ca_key);
  g_free (certs->server_pem);
  g_free (certs->server_key);
  g_free (certs->wrong_host_pem);
  g_free (certs->wrong_host_key);
  g_free (certs->expired_pem);
  g_free (certs->expired_key);
  g_free (certs->self_signed_pem);
  g_free (certs->self_signed_key);
  g_free (certs);
}

char *
pb_test_certs_sha256 (const char  *pem_path,
                      GError     **error)
{
  g_autoptr(GTlsCertificate) cert = NULL;
  g_autoptr(GByteArray) der = NULL;

  g_return_val_if_fail (pem_path != NULL, NULL);

  cert = g_tls_certificate_new_from_file (pem_path, error);
  if (cert == NULL)
    return NULL;
  g_object_get (cert, "certificate", &der, NULL);
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, der->data, der->len);
}

/* PbAccount: defaults, change notification, and validation that names the
 * account and the field for every mistake a person can make. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "core/pb-account.h"
#include "core/pb-core-error.h"
#include "pb-test-util.h"

/* A self-signed certificate valid until 2126, for the ca-file checks. */
/* The per-test HOME (pb_test_init isolates it), created on first use. */
static const char *
home_dir (void)
{
  g_assert_cmpint (g_mkdir_with_parents (g_get_home_dir (), 0700), ==, 0);
  return g_get_home_dir ();
}

static const char test_ca_pem[] =
  "-----BEGIN CERTIFICATE-----\n"
  "MIIBgDCCASWgAwIBAgIUSgkQcaFc3LOGN1PAczuwB8ZQG0gwCgYIKoZIzj0EAwIw\n"
  "FDESMBAGA1UEAwwJbG9jYWxob3N0MCAXDTI2MTEyNzA2NDQ1MVoYDzIxMjYxMTAz\n"
  "MDY0NDUxWjAUMRIwEAYDVQQDDAlsb2NhbGhvc3QwWTATBgcqhkjOPQIBBggqhkjO\n"
  "PQMBBwNCAATn9OniuNNubAUQ9kJzjaeTA+BgQzILqXWs/QufRdr1RSmMOF9/r9qO\n"
  "1WkyaDqkqmo0chjp7owQ+8FZgt2aO/nwo1MwUTAdBgNVHQ4EFgQUPpB+4Qft45jj\n"
  "yHM5F0hNSInWQwgwHwYDVR0jBBgwFoAUPpB+4Qft45jjyHM5F0hNSInWQwgwDwYD\n"
  "VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNJADBGAiEAijiikN4Oq4zv2PoRUa6l\n"
  "DoY66pAJs5wUljvE8m2orLgCIQC4FCcVSY6mgRkOrvDT1sGyAlnj76xJqMF6RGl1\n"
  "0lK4OQ==\n"
  "-----END CERTIFICATE-----\n";

static const char pin_lower[] =
  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static PbAccount *
valid_account (const char *name)
{
  PbAccount *account = pb_account_new (name);

  pb_account_set_host (account, "pop.example.org");
  pb_account_set_user (account, "alice");
  return account;
}

static void
test_defaults (void)
{
  g_autoptr(PbAccount) account = pb_account_new ("work");
  g_autofree char *folder = g_build_filename (home_dir (), "Mail", "work", NULL);

  g_assert_cmpstr (pb_account_get_name (account), ==, "work");
  g_assert_null (pb_account_get_host (account));
  g_assert_cmpuint (pb_account_get_port (account), ==, 995);
  g_assert_cmpint (pb_account_get_security (account), ==, PB_POP3_SECURITY_TLS);
  g_assert_cmpint (pb_account_get_auth (account), ==, PB_POP3_AUTH_AUTO);
  g_assert_cmpuint (pb_account_get_interval (account), ==, 10);
  g_assert_cmpstr (pb_account_get_folder (account), ==, folder);
  g_assert_cmpint (pb_account_get_format (account), ==, PB_DELIVERY_FORMAT_MAILDIR);
  g_assert_false (pb_account_get_delete_after_download (account));
  g_assert_null (pb_account_get_ca_file (account));
  g_assert_null (pb_account_get_pin_sha256 (account));
  g_assert_cmpuint (pb_account_get_timeout (account), ==, 30);
  g_assert_true (pb_account_get_enabled (account));
}

static void
count_notify (GObject    *object,
              GParamSpec *pspec,
              gpointer    user_data)
{
  GPtrArray *names = user_data;

  g_ptr_array_add (names, g_strdup (pspec->name));
}

static void
test_notify_once_per_change (void)
{
  g_autoptr(PbAccount) account = valid_account ("work");
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);

  g_signal_connect (account, "notify", G_CALLBACK (count_notify), names);

  pb_account_set_host (account, "pop.example.org");   /* unchanged: silent */
  pb_account_set_port (account, 995);
  pb_account_set_enabled (account, TRUE);
  g_assert_cmpuint (names->len, ==, 0);

  pb_account_set_host (account, "mail.example.org");
  pb_account_set_port (account, 110);
  pb_account_set_security (account, PB_POP3_SECURITY_STARTTLS);
  pb_account_set_user (account, "bob");
  pb_account_set_auth (account, PB_POP3_AUTH_SCRAM_SHA_256);
  pb_account_set_interval (account, 5);
  pb_account_set_folder (account, "/tmp/x");
  pb_account_set_format (account, PB_DELIVERY_FORMAT_EML);
  pb_account_set_delete_after_download (account, TRUE);
  pb_account_set_ca_file (account, "/tmp/ca.pem");
  pb_account_set_pin_sha256 (account, pin_lower);
  pb_account_set_timeout (account, 12);
  pb_account_set_enabled (account, FALSE);

  g_assert_cmpuint (names->len, ==, 13);
  g_assert_cmpstr (g_ptr_array_index (names, 0), ==, "host");
  g_assert_cmpstr (g_ptr_array_index (names, 6), ==, "folder");
  g_assert_cmpstr (g_ptr_array_index (names, 8), ==, "delete-after-download");
  g_assert_cmpstr (g_ptr_array_index (names, 12), ==, "enabled");

  /* Properties and accessors are the same thing. */
  {
    g_autofree char *host = NULL;
    guint port = 0, security = 0;

    g_object_get (account, "host", &host, "port", &port, "security", &security, NULL);
    g_assert_cmpstr (host, ==, "mail.example.org");
    g_assert_cmpuint (port, ==, 110);
    g_assert_cmpuint (security, ==, PB_POP3_SECURITY_STARTTLS);
  }
}

static void
test_copy (void)
{
  g_autoptr(PbAccount) account = valid_account ("home");
  g_autoptr(PbAccount) copy = NULL;

  pb_account_set_port (account, 1995);
  pb_account_set_folder (account, "/srv/mail/home");
  pb_account_set_format (account, PB_DELIVERY_FORMAT_EML);
  pb_account_set_pin_sha256 (account, pin_lower);
  pb_account_set_delete_after_download (account, TRUE);
  pb_account_set_enabled (account, FALSE);

  copy = pb_account_copy (account);
  g_assert_true (copy != account);
  g_assert_cmpstr (pb_account_get_name (copy), ==, "home");
  g_assert_cmpstr (pb_account_get_host (copy), ==, "pop.example.org");
  g_assert_cmpstr (pb_account_get_user (copy), ==, "alice");
  g_assert_cmpuint (pb_account_get_port (copy), ==, 1995);
  g_assert_cmpstr (pb_account_get_folder (copy), ==, "/srv/mail/home");
  g_assert_cmpint (pb_account_get_format (copy), ==, PB_DELIVERY_FORMAT_EML);
  g_assert_cmpstr (pb_account_get_pin_sha256 (copy), ==, pin_lower);
  g_assert_true (pb_account_get_delete_after_download (copy));
  g_assert_false (pb_account_get_enabled (copy));
  g_assert_true (pb_account_same_settings (copy, account));

  /* Changing the copy leaves the original alone. */
  pb_account_set_host (copy, "other.example.org");
  g_assert_cmpstr (pb_account_get_host (account), ==, "pop.example.org");
  g_assert_false (pb_account_same_settings (copy, account));
}

/* The scheduler tells a real edit from a reload of accounts.conf that
 * changed nothing by this: each setting counts, the name does not. */
static void
test_same_settings (void)
{
  g_autoptr(PbAccount) account = valid_account ("home");
  g_autoptr(PbAccount) renamed = valid_account ("work");
  g_autoptr(PbAccount) copy = NULL;

  g_assert_true (pb_account_same_settings (account, renamed));
  for (guint setting = 0; setting < 9; setting++)
    {
      g_clear_object (&copy);
      copy = pb_account_copy (account);
      switch (setting)
        {
        case 0: pb_account_set_port (copy, 1995); break;
        case 1: pb_account_set_security (copy, PB_POP3_SECURITY_STARTTLS); break;
        case 2: pb_account_set_user (copy, "bob"); break;
        case 3: pb_account_set_interval (copy, 1200); break;
        case 4: pb_account_set_folder (copy, "/srv/mail"); break;
        case 5: pb_account_set_delete_after_download (copy, TRUE); break;
        case 6: pb_account_set_pin_sha256 (copy, pin_lower); break;
        case 7: pb_account_set_timeout (copy, 99); break;
        default: pb_account_set_enabled (copy, FALSE); break;
        }
      g_assert_false (pb_account_same_settings (copy, account));
    }
}

static void
test_delivery_format_strings (void)
{
  PbDeliveryFormat format = PB_DELIVERY_FORMAT_EML;

  g_assert_cmpstr (pb_delivery_format_to_string (PB_DELIVERY_FORMAT_MAILDIR), ==, "maildir");
  g_assert_cmpstr (pb_delivery_format_to_string (PB_DELIVERY_FORMAT_EML), ==, "eml");
  g_assert_true (pb_delivery_format_from_string ("maildir", &format));
  g_assert_cmpint (format, ==, PB_DELIVERY_FORMAT_MAILDIR);
  g_assert_true (pb_delivery_format_from_string ("eml", &format));
  g_assert_cmpint (format, ==, PB_DELIVERY_FORMAT_EML);
  g_assert_false (pb_delivery_format_from_string ("mbox", &format));
  g_assert_false (pb_delivery_format_from_string ("", &format));
  g_assert_false (pb_delivery_format_from_string (NULL, &format));
  g_assert_cmpint (format, ==, PB_DELIVERY_FORMAT_EML);
}

static void
test_name_is_valid (void)
{
  g_autofree char *longest = g_strnfill (PB_ACCOUNT_NAME_MAX, 'a');
  g_autofree char *too_long = g_strnfill (PB_ACCOUNT_NAME_MAX + 1, 'a');
  const char *good[] = { "work", "a", "alice@example.org", "x+y_z-1.2", longest };
  const char *bad[] = { "", ".hidden", "..", "a/b", "../etc", "a b", "tab\tname",
                        "new\nline", "ünï", "a\\b", "a:b", "*", too_long };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    g_assert_true (pb_account_name_is_valid (good[i]));
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    g_assert_false (pb_account_name_is_valid (bad[i]));
  g_assert_false (pb_account_name_is_valid (NULL));
}

static void
test_pin_normalized (void)
{
  g_autoptr(PbAccount) account = valid_account ("work");
  g_autoptr(GString) colons = g_string_new (NULL);
  g_autofree char *upper = g_ascii_strup (pin_lower, -1);

  for (guint i = 0; i < 64; i += 2)
    g_string_append_printf (colons, "%s%c%c", i ? ":" : "", upper[i], upper[i + 1]);

  pb_account_set_pin_sha256 (account, colons->str);
  g_assert_cmpstr (pb_account_get_pin_sha256 (account), ==, pin_lower);
  g_assert_true (pb_account_validate (account, NULL));

  pb_account_set_pin_sha256 (account, "");
  g_assert_null (pb_account_get_pin_sha256 (account));
}

static void
test_validate_ok (void)
{
  g_autoptr(PbAccount) account = valid_account ("work");
  g_autoptr(GError) error = NULL;
  g_autofree char *ca = g_build_filename (home_dir (), "ca.pem", NULL);
  g_autofree char *folder = g_build_filename (home_dir (), "deep", "er", "Mail", NULL);

  g_assert_true (g_file_set_contents (ca, test_ca_pem, -1, NULL));
  pb_account_set_ca_file (account, ca);
  pb_account_set_folder (account, folder);
  pb_account_set_interval (account, 7 * 24 * 60);
  pb_account_set_timeout (account, 3600);
  pb_account_set_port (account, 65535);
  pb_account_set_host (account, "::1");

  g_assert_true (pb_account_validate (account, &error));
  g_assert_no_error (error);
  /* Validation checks the folder could be made, but does not make it. */
  g_assert_false (g_file_test (folder, G_FILE_TEST_EXISTS));
}

typedef void (*Mutate) (PbAccount *account);

static void bad_security (PbAccount *a) { pb_account_set_security (a, (PbPop3Security) 7); }
static void bad_auth (PbAccount *a) { pb_account_set_auth (a, (PbPop3AuthMethod) 99); }
static void bad_format (PbAccount *a) { pb_account_set_format (a, (PbDeliveryFormat) 5); }
static void port_zero (PbAccount *a) { pb_account_set_port (a, 0); }
static void host_empty (PbAccount *a) { pb_account_set_host (a, ""); }
static void host_null (PbAccount *a) { pb_account_set_host (a, NULL); }
static void host_space (PbAccount *a) { pb_account_set_host (a, "pop example.org"); }
static void host_control (PbAccount *a) { pb_account_set_host (a, "pop.example.org\r\nX"); }
/* A port or URL pasted in, which no resolver finds. */
static void host_with_port (PbAccount *a) { pb_account_set_host (a, "pop.example.org:995"); }
static void host_url (PbAccount *a) { pb_account_set_host (a, "pop3s://pop.example.org"); }
static void host_brackets (PbAccount *a) { pb_account_set_host (a, "[::1]"); }
static void user_empty (PbAccount *a) { pb_account_set_user (a, ""); }
static void user_crlf (PbAccount *a) { pb_account_set_user (a, "alice\r\nDELE 1"); }
static void user_lf (PbAccount *a) { pb_account_set_user (a, "alice\n"); }
static void interval_zero (PbAccount *a) { pb_account_set_interval (a, 0); }
static void interval_absurd (PbAccount *a) { pb_account_set_interval (a, 7 * 24 * 60 + 1); }
static void timeout_zero (PbAccount *a) { pb_account_set_timeout (a, 0); }
static void timeout_absurd (PbAccount *a) { pb_account_set_timeout (a, 86400); }
static void pin_short (PbAccount *a) { pb_account_set_pin_sha256 (a, "abcdef"); }
static void pin_not_hex (PbAccount *a)
{
  g_autofree char *pin = g_strnfill (64, 'g');
  pb_account_set_pin_sha256 (a, pin);
}
static void ca_missing (PbAccount *a) { pb_account_set_ca_file (a, "/nonexistent/ca.pem"); }
static void ca_directory (PbAccount *a) { pb_account_set_ca_file (a, home_dir ()); }
static void ca_not_pem (PbAccount *a)
{
  g_autofree char *path = g_build_filename (home_dir (), "not.pem", NULL);
  g_assert_true (g_file_set_contents (path, "hello\n", -1, NULL));
  pb_account_set_ca_file (a, path);
}
/* A key where the certificate should be, and a block that is not DER. */
static void ca_private_key (PbAccount *a)
{
  g_autofree char *path = g_build_filename (home_dir (), "key.pem", NULL);
  g_assert_true (g_file_set_contents (path, "-----BEGIN PRIVATE KEY-----\nMIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEA\n-----END PRIVATE KEY-----\n", -1, NULL));
  pb_account_set_ca_file (a, path);
}
static void ca_not_der (PbAccount *a)
{
  g_autofree char *path = g_build_filename (home_dir (), "not-der.pem", NULL);
  g_assert_true (g_file_set_contents (path, "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n", -1, NULL));
  pb_account_set_ca_file (a, path);
}
static void folder_relative (PbAccount *a) { pb_account_set_folder (a, "Mail/work"); }
static void folder_under_file (PbAccount *a)
{
  g_autofree char *file = g_build_filename (home_dir (), "plain-file", NULL);
  g_autofree char *folder = g_build_filename (file, "Mail", NULL);
  g_assert_true (g_file_set_contents (file, "x", -1, NULL));
  pb_account_set_folder (a, folder);
}

static const struct {
  const char *path;
  Mutate      mutate;
  const char *field;   /* a word the message must contain */
} bad_cases[] = {
  { "unknown-security", bad_security, "security" },
  { "unknown-auth", bad_auth, "auth" },
  { "unknown-format", bad_format, "format" },
  { "port-zero", port_zero, "port" },
  { "host-empty", host_empty, "host" },
  { "host-null", host_null, "host" },
  { "host-space", host_space, "host" },
  { "host-control", host_control, "host" },
  { "host-with-port", host_with_port, "--port" },
  { "host-url", host_url, "host" },
  { "host-brackets", host_brackets, "brackets" },
  { "user-empty", user_empty, "user" },
  { "user-crlf", user_crlf, "user" },
  { "user-lf", user_lf, "user" },
  { "interval-zero", interval_zero, "interval" },
  { "interval-absurd", interval_absurd, "interval" },
  { "timeout-zero", timeout_zero, "timeout" },
  { "timeout-absurd", timeout_absurd, "timeout" },
  { "pin-short", pin_short, "pin-sha256" },
  { "pin-not-hex", pin_not_hex, "pin-sha256" },
  { "ca-missing", ca_missing, "CA file" },
  { "ca-directory", ca_directory, "CA file" },
  { "ca-not-pem", ca_not_pem, "CA file" },
  { "ca-private-key", ca_private_key, "CA file" },
  { "ca-not-der", ca_not_der, "CA file" },
  { "folder-relative", folder_relative, "folder" },
  { "folder-under-file", folder_under_file, "folder" },
};

static void
test_validate_bad (gconstpointer data)
{
  guint i = GPOINTER_TO_UINT (data);
  g_autoptr(PbAccount) account = valid_account ("acct-7");
  g_autoptr(GError) error = NULL;

  g_assert_true (pb_account_validate (account, NULL));
  bad_cases[i].mutate (account);

  g_assert_false (pb_account_validate (account, &error));
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG);
  g_test_message ("%s: %s", bad_cases[i].path, error->message);
  g_assert_nonnull (strstr (error->message, "acct-7"));
  g_assert_nonnull (strstr (error->message, bad_cases[i].field));
  /* A message for a person never echoes control characters back. */
  g_assert_null (strchr (error->message, '\r'));
  g_assert_null (strchr (error->message, '\n'));
}

static void
test_validate_unsafe_name (void)
{
  g_autoptr(PbAccount) account = valid_account ("../x");
  g_autoptr(GError) error = NULL;

  g_assert_false (pb_account_validate (account, &error));
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "../x"));
}

static void
test_validate_folder_not_writable (void)
{
  g_autoptr(PbAccount) account = valid_account ("work");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_build_filename (home_dir (), "read-only", NULL);
  g_autofree char *folder = g_build_filename (dir, "Mail", NULL);

  /* Permission bits do not stop root. */
  if (geteuid () == 0)
    {
      g_test_skip ("running as root: a read-only directory is still writable");
      return;
    }
  g_assert_cmpint (g_mkdir (dir, 0500), ==, 0);
  pb_account_set_folder (account, folder);
  g_assert_false (pb_account_validate (account, &error));
  g_assert_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG);
  g_assert_nonnull (strstr (error->message, "cannot be created"));
  g_chmod (dir, 0700);
}

int
main (int argc, char **argv)
{
  pb_test_init (&argc, &argv);

  g_test_add_func ("/core/account/defaults", test_defaults);
  g_test_add_func ("/core/account/notify-once-per-change", test_notify_once_per_change);
  g_test_add_func ("/core/account/copy", test_copy);
  g_test_add_func ("/core/account/same-settings", test_same_settings);
  g_test_add_func ("/core/account/delivery-format-strings", test_delivery_format_strings);
  g_test_add_func ("/core/account/name-is-valid", test_name_is_valid);
  g_test_add_func ("/core/account/pin-normalized", test_pin_normalized);
  g_test_add_func ("/core/account/validate/ok", test_validate_ok);
  g_test_add_func ("/core/account/validate/unsafe-name", test_validate_unsafe_name);
  g_test_add_func ("/core/account/validate/folder-not-writable", test_validate_folder_not_writable);
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/core/account/validate/", bad_cases[i].path, NULL);
      g_test_add_data_func (path, GUINT_TO_POINTER (i), test_validate_bad);
    }
  return g_test_run ();
}

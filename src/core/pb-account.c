/* pb-account.c: one POP3 account as the person configured it. */
#include <errno.h>
#include <string.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <unistd.h>

#include "pb-account.h"
#include "pb-core-error.h"

/* An interval longer than a week or a timeout longer than an hour is a typo
 * (seconds for minutes, an extra zero), not a wish. */
#define INTERVAL_MAX PB_ACCOUNT_INTERVAL_MAX
#define TIMEOUT_MAX  PB_ACCOUNT_TIMEOUT_MAX
#define HOST_MAX     255

struct _PbAccount
{
  GObject parent_instance;

  char             *name;
  char             *host;
  guint16           port;
  PbPop3Security    security;
  char             *user;
  PbPop3AuthMethod  auth;
  guint             interval;
  char             *folder;          /* NULL: the default, see default_folder */
  char             *default_folder;  /* $HOME/Mail/<name>, computed on demand */
  PbDeliveryFormat  format;
  gboolean          delete_after_download;
  char             *ca_file;
  char             *pin_sha256;      /* lowercase hex when valid, raw otherwise */
  guint             timeout;
  gboolean          enabled;
};

G_DEFINE_TYPE (PbAccount, pb_account, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  PROP_HOST,
  PROP_PORT,
  PROP_SECURITY,
  PROP_USER,
  PROP_AUTH,
  PROP_INTERVAL,
  PROP_FOLDER,
  PROP_FORMAT,
  PROP_DELETE_AFTER_DOWNLOAD,
  PROP_CA_FILE,
  PROP_PIN_SHA256,
  PROP_TIMEOUT,
  PROP_ENABLED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

const char *
pb_delivery_format_to_string (PbDeliveryFormat format)
{
  switch (format)
    {
    case PB_DELIVERY_FORMAT_MAILDIR:
      return "maildir";
    case PB_DELIVERY_FORMAT_EML:
      return "eml";
    }
  return NULL;
}

gboolean
pb_delivery_format_from_string (const char       *str,
                                PbDeliveryFormat *out)
{
  g_return_val_if_fail (out != NULL, FALSE);

  if (str == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (str, "maildir") == 0)
    *out = PB_DELIVERY_FORMAT_MAILDIR;
  else if (g_ascii_strcasecmp (str, "eml") == 0)
    *out = PB_DELIVERY_FORMAT_EML;
  else
    return FALSE;
  return TRUE;
}

gboolean
pb_account_name_is_valid (const char *name)
{
  gsize len;

  if (name == NULL)
    return FALSE;
  len = strlen (name);
  if (len == 0 || len > PB_ACCOUNT_NAME_MAX || name[0] == '.')
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("._-@+", *p) == NULL)
      return FALSE;
  return TRUE;
}

gboolean
pb_account_host_has_port_or_url (const char *host)
{
  g_return_val_if_fail (host != NULL, FALSE);

  return !g_hostname_is_ip_address (host) &&
         (strchr (host, ':') != NULL || strchr (host, '/') != NULL || strchr (host, '[') != NULL);
}

/* Strips colons (as fingerprints are often printed) and lowercases. Returns
 * NULL unless the result is exactly 64 hex digits. */
static char *
normalize_pin (const char *hex)
{
  g_autoptr(GString) out = g_string_sized_new (64);

  for (const char *p = hex; *p != '\0'; p++)
    {
      if (*p == ':')
        continue;
      if (!g_ascii_isxdigit (*p))
        return NULL;
      g_string_append_c (out, g_ascii_tolower (*p));
    }
  if (out->len != 64)
    return NULL;
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static gboolean
set_string (char       **field,
            const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

PbAccount *
pb_account_new (const char *name)
{
  g_return_val_if_fail (name != NULL, NULL);

  return g_object_new (PB_TYPE_ACCOUNT, "name", name, NULL);
}

PbAccount *
pb_account_copy (PbAccount *self)
{
  PbAccount *copy;

  g_return_val_if_fail (PB_IS_ACCOUNT (self), NULL);

  copy = pb_account_new (self->name);
  copy->host = g_strdup (self->host);
  copy->port = self->port;
  copy->security = self->security;
  copy->user = g_strdup (self->user);
  copy->auth = self->auth;
  copy->interval = self->interval;
  copy->folder = g_strdup (self->folder);
  copy->format = self->format;
  copy->delete_after_download = self->delete_after_download;
  copy->ca_file = g_strdup (self->ca_file);
  copy->pin_sha256 = g_strdup (self->pin_sha256);
  copy->timeout = self->timeout;
  copy->enabled = self->enabled;
  return copy;
}

gboolean
pb_account_same_settings (PbAccount *a,
                          PbAccount *b)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (a), FALSE);
  g_return_val_if_fail (PB_IS_ACCOUNT (b), FALSE);

  /* Every field pb_account_copy() copies, the name aside. */
  return g_strcmp0 (a->host, b->host) == 0 &&
         a->port == b->port &&
         a->security == b->security &&
         g_strcmp0 (a->user, b->user) == 0 &&
         a->auth == b->auth &&
         a->interval == b->interval &&
         g_strcmp0 (a->folder, b->folder) == 0 &&
         a->format == b->format &&
         a->delete_after_download == b->delete_after_download &&
         g_strcmp0 (a->ca_file, b->ca_file) == 0 &&
         g_strcmp0 (a->pin_sha256, b->pin_sha256) == 0 &&
         a->timeout == b->timeout &&
         a->enabled == b->enabled;
}

#define NOTIFY(self, prop) g_object_notify_by_pspec (G_OBJECT (self), properties[prop])

const char *
pb_account_get_name (PbAccount *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (self), NULL);
  return self->name;
}

const char *
pb_account_get_host (PbAccount *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (self), NULL);
  return self->host;
}

void
pb_account_set_host (PbAccount  *self,
                     const char *host)
{
  g_return_if_fail (PB_IS_ACCOUNT (self));
  if (set_string (&self->host, host))
    NOTIFY (self, PROP_HOST);
}

guint16
pb_account_get_port (PbAccount *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (self), 0);
  return self->port;
}

void
pb_account_set_port (PbAccount *self,
                     guint16    port)
{
  g_return_if_fail (PB_IS_ACCOUNT (self));
  if (self->port == port)
    return;
  self->port = port;
  NOTIFY (self, PROP_PORT);
}

PbPop3Security
pb_account_get_security (PbAccount *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (self), PB_POP3_SECURITY_TLS);
  return self->security;
}

void
pb_account_set_security (PbAccount      *self,
                         PbPop3Security  security)
{
  g_return_if_fail (PB_IS_ACCOUNT (self));
  if (self->security == security)
    return;
  self->security = security;
  NOTIFY (self, PROP_SECURITY);
}

const char *
pb_account_get_user (PbAccount *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (self), NULL);
  return self->user;
}

void
pb_account_set_user (PbAccount  *self,
                     const char *user)
{
  g_return_if_fail (PB_IS_ACCOUNT (self));
  if (set_string (&self->user, user))
    NOTIFY (self, PROP_USER);
}

PbPop3AuthMethod
pb_account_get_auth (PbAccount *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (self), PB_POP3_AUTH_AUTO);
  return self->auth;
}

void
pb_account_set_auth (PbAccount        *self,
                     PbPop3AuthMethod  auth)
{
  g_return_if_fail (PB_IS_ACCOUNT (self));
  if (self->auth == auth)
    return;
  self->auth = auth;
  NOTIFY (self, PROP_AUTH);
}

guint
pb_account_get_interval (PbAccount *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (self), PB_ACCOUNT_DEFAULT_INTERVAL);
  return self->interval;
}

void
pb_account_set_interval (PbAccount *self,
                         guint      minutes)
{
  g_return_if_fail (PB_IS_ACCOUNT (self));
  if (self->interval == minutes)
    return;
  self->interval = minutes;
  NOTIFY (self, PROP_INTERVAL);
}

const char *
pb_account_get_folder (PbAccount *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (self), NULL);

  if (self->folder != NULL)
    return self->folder;
  /* Computed late, not at construction, so a test or a caller that moves
   * HOME first gets the folder under the new HOME. */
  if (self->default_folder == NULL)
    self->default_folder = g_build_filename (g_get_home_dir (), "Mail", self->name, NULL);
  return self->default_folder;
}

void
pb_account_set_folder (PbAccount  *self,
                       const char *folder)
{
  g_return_if_fail (PB_IS_ACCOUNT (self));
  if (folder != NULL && *folder == '\0')
    folder = NULL;
  if (set_string (&self->folder, folder))
    NOTIFY (self, PROP_FOLDER);
}

PbDeliveryFormat
pb_account_get_format (PbAccount *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (self), PB_DELIVERY_FORMAT_MAILDIR);
  return self->format;
}

void
pb_account_set_format (PbAccount        *self,
                       PbDeliveryFormat  format)
{
  g_return_if_fail (PB_IS_ACCOUNT (self));
  if (self->format == format)
    return;
  self->format = format;
  NOTIFY (self, PROP_FORMAT);
}

gboolean
pb_account_get_delete_after_download (PbAccount *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (self), FALSE);
  return self->delete_after_download;
}

void
pb_account_set_delete_after_download (PbAccount *self,
                                      gboolean   del)
{
  g_return_if_fail (PB_IS_ACCOUNT (self));
  del = !!del;
  if (self->delete_after_download == del)
    return;
  self->delete_after_download = del;
  NOTIFY (self, PROP_DELETE_AFTER_DOWNLOAD);
}

const char *
pb_account_get_ca_file (PbAccount *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (self), NULL);
  return self->ca_file;
}

void
pb_account_set_ca_file (PbAccount  *self,
                        const char *path)
{
  g_return_if_fail (PB_IS_ACCOUNT (self));
  if (path != NULL && *path == '\0')
    path = NULL;
  if (set_string (&self->ca_file, path))
    NOTIFY (self, PROP_CA_FILE);
}

const char *
pb_account_get_pin_sha256 (PbAccount *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (self), NULL);
  return self->pin_sha256;
}

void
pb_account_set_pin_sha256 (PbAccount  *self,
                           const char *hex)
{
  g_autofree char *normalized = NULL;

  g_return_if_fail (PB_IS_ACCOUNT (self));

  if (hex != NULL && *hex == '\0')
    hex = NULL;
  /* A pin that is not a SHA-256 fingerprint is kept as given, so that
   * validate() can tell the person what is wrong with it. */
  if (hex != NULL)
    normalized = normalize_pin (hex);
  if (set_string (&self->pin_sha256, normalized != NULL ? normalized : hex))
    NOTIFY (self, PROP_PIN_SHA256);
}

guint
pb_account_get_timeout (PbAccount *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (self), PB_POP3_DEFAULT_TIMEOUT);
  return self->timeout;
}

void
pb_account_set_timeout (PbAccount *self,
                        guint      seconds)
{
  g_return_if_fail (PB_IS_ACCOUNT (self));
  if (self->timeout == seconds)
    return;
  self->timeout = seconds;
  NOTIFY (self, PROP_TIMEOUT);
}

gboolean
pb_account_get_enabled (PbAccount *self)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (self), FALSE);
  return self->enabled;
}

void
pb_account_set_enabled (PbAccount *self,
                        gboolean   enabled)
{
  g_return_if_fail (PB_IS_ACCOUNT (self));
  enabled = !!enabled;
  if (self->enabled == enabled)
    return;
  self->enabled = enabled;
  NOTIFY (self, PROP_ENABLED);
}

/* Validation */

static gboolean
has_control_chars (const char *s,
                   gboolean    space_too)
{
  for (const guchar *p = (const guchar *) s; *p != '\0'; p++)
    if (*p < 0x20 || *p == 0x7f || (space_too && *p == ' '))
      return TRUE;
  return FALSE;
}

static gboolean
validate_host (PbAccount  *self,
               GError    **error)
{
  if (self->host == NULL || *self->host == '\0')
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("Account “%s”: the host is empty; give the POP3 server’s name, e.g. pop.example.org"),
                   self->name);
      return FALSE;
    }
  if (has_control_chars (self->host, TRUE) || strlen (self->host) > HOST_MAX ||
      !g_utf8_validate (self->host, -1, NULL))
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("Account “%s”: the host is not a valid server name (no spaces or control characters, at most %d characters)"),
                   self->name, HOST_MAX);
      return FALSE;
    }
  /* A port or a URL pasted in: the resolver would only say, at every
   * check, that no such name exists. */
  if (pb_account_host_has_port_or_url (self->host))
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("Account “%s”: the host “%s” is not a server name; give only the "
                     "name or address (such as pop.example.org or ::1, no brackets), "
                     "and the port with --port"),
                   self->name, self->host);
      return FALSE;
    }
  return TRUE;
}

static gboolean
validate_user (PbAccount  *self,
               GError    **error)
{
  if (self->user == NULL || *self->user == '\0')
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("Account “%s”: the user name is empty; give the login name for the mailbox"),
                   self->name);
      return FALSE;
    }
  /* CR or LF in a user name would end the USER command early and let the
   * rest be read as another command (RFC 1939 section 3). */
  if (has_control_chars (self->user, FALSE) || !g_utf8_validate (self->user, -1, NULL))
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("Account “%s”: the user name contains a line break or another control character"),
                   self->name);
      return FALSE;
    }
  return TRUE;
}

/* The folder exists as a writable directory, or its nearest existing
 * ancestor is one, so that the first download can create it. Nothing is
 * created here: validating must not leave directories behind. */
static gboolean
validate_folder (PbAccount  *self,
                 GError    **error)
{
  const char *folder = pb_account_get_folder (self);
  g_autofree char *dir = NULL;

  if (!g_path_is_absolute (folder))
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("Account “%s”: the folder “%s” is not an absolute path"),
                   self->name, folder);
      return FALSE;
    }

  dir = g_strdup (folder);
  while (!g_file_test (dir, G_FILE_TEST_EXISTS))
    {
      char *parent = g_path_get_dirname (dir);

      if (g_str_equal (parent, dir))
        {
          g_free (parent);
          break;
        }
      g_free (dir);
      dir = parent;
    }

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("Account “%s”: the folder “%s” cannot be created because “%s” is not a directory"),
                   self->name, folder, dir);
      return FALSE;
    }
  if (access (dir, W_OK | X_OK) != 0)
    {
      int saved_errno = errno;

      if (g_str_equal (dir, folder))
        g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                     _("Account “%s”: the folder “%s” is not writable (%s)"),
                     self->name, folder, g_strerror (saved_errno));
      else
        g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                     _("Account “%s”: the folder “%s” cannot be created in “%s” (%s)"),
                     self->name, folder, dir, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/* TRUE when @text holds a PEM certificate block. Only its outer shape is checked (base64 that decodes to a DER
 * SEQUENCE): enough to tell a CA file from a key, a directory listing or a
 * typo, without loading the TLS library, which validating every account at
 * every start of `popbiff check` would otherwise do (the module scan, dlopen
 * and GnuTLS set-up, a tenth of a check). A certificate that is damaged
 * inside is reported by the connection, as a certificate error naming the
 * file. */
static gboolean
has_pem_certificate (const char *text,
                     gsize       length)
{
  static const char begin[] = "-----BEGIN CERTIFICATE-----";
  static const char end[] = "-----END CERTIFICATE-----";
  const char *start = g_strstr_len (text, length, begin);
  const char *stop;
  g_autofree char *body = NULL;
  guchar *der;
  gsize der_length;

  if (start == NULL)
    return FALSE;
  start += strlen (begin);
  stop = g_strstr_len (start, length - (start - text), end);
  if (stop == NULL)
    return FALSE;
  body = g_strndup (start, stop - start);
  /* The decoder skips line breaks and any other byte outside base64. */
  der = g_base64_decode_inplace (body, &der_length);
  return der_length >= 2 && der[0] == 0x30;
}

static gboolean
validate_ca_file (PbAccount  *self,
                  GError    **error)
{
  g_autofree char *contents = NULL;
  gsize length;

  if (self->ca_file == NULL)
    return TRUE;

  if (!g_file_test (self->ca_file, G_FILE_TEST_IS_REGULAR) ||
      !g_file_get_contents (self->ca_file, &contents, &length, NULL))
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("Account “%s”: the CA file “%s” does not exist or cannot be read"),
                   self->name, self->ca_file);
      return FALSE;
    }

  if (!has_pem_certificate (contents, length))
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("Account “%s”: the CA file “%s” holds no PEM certificate (no “BEGIN CERTIFICATE” block)"),
                   self->name, self->ca_file);
      return FALSE;
    }
  return TRUE;
}

gboolean
pb_account_validate (PbAccount  *self,
                     GError    **error)
{
  g_return_val_if_fail (PB_IS_ACCOUNT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!pb_account_name_is_valid (self->name))
    {
      g_autofree char *shown = g_strescape (self->name, NULL);

      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("Account name “%s” is not allowed: use 1–%d letters, digits, “.”, “_”, “-”, “@” or “+”, not starting with “.”"),
                   shown, PB_ACCOUNT_NAME_MAX);
      return FALSE;
    }

  if (!validate_host (self, error))
    return FALSE;

  if (self->port == 0)
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("Account “%s”: port 0 is out of range; use 1–65535"),
                   self->name);
      return FALSE;
    }

  if ((guint) self->security > PB_POP3_SECURITY_NONE)
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("Account “%s”: unknown security; use tls, starttls or none"),
                   self->name);
      return FALSE;
    }

  if ((guint) self->auth > PB_POP3_AUTH_OAUTHBEARER)
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("Account “%s”: unknown authentication method (auth)"),
                   self->name);
      return FALSE;
    }

  if (!validate_user (self, error))
    return FALSE;

  if (self->interval == 0 || self->interval > INTERVAL_MAX)
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("Account “%s”: the interval of %u minutes is out of range; use 1–%d minutes"),
                   self->name, self->interval, INTERVAL_MAX);
      return FALSE;
    }

  if (self->timeout == 0 || self->timeout > TIMEOUT_MAX)
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("Account “%s”: the timeout of %u seconds is out of range; use 1–%d seconds"),
                   self->name, self->timeout, TIMEOUT_MAX);
      return FALSE;
    }

  if ((guint) self->format > PB_DELIVERY_FORMAT_EML)
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("Account “%s”: unknown folder format; use maildir or eml"),
                   self->name);
      return FALSE;
    }

  if (self->pin_sha256 != NULL)
    {
      g_autofree char *normalized = normalize_pin (self->pin_sha256);

      if (normalized == NULL)
        {
          g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                       _("Account “%s”: the certificate pin (pin-sha256) must be 64 hexadecimal digits, as “popbiff probe” prints it"),
                       self->name);
          return FALSE;
        }
    }

  if (!validate_ca_file (self, error))
    return FALSE;

  if (!validate_folder (self, error))
    return FALSE;

  return TRUE;
}

/* GObject */

static void
pb_account_finalize (GObject *object)
{
  PbAccount *self = PB_ACCOUNT (object);

  g_free (self->name);
  g_free (self->host);
  g_free (self->user);
  g_free (self->folder);
  g_free (self->default_folder);
  g_free (self->ca_file);
  g_free (self->pin_sha256);

  G_OBJECT_CLASS (pb_account_parent_class)->finalize (object);
}

static void
pb_account_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  PbAccount *self = PB_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_HOST:
      g_value_set_string (value, self->host);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_SECURITY:
      g_value_set_uint (value, self->security);
      break;
    case PROP_USER:
      g_value_set_string (value, self->user);
      break;
    case PROP_AUTH:
      g_value_set_uint (value, self->auth);
      break;
    case PROP_INTERVAL:
      g_value_set_uint (value, self->interval);
      break;
    case PROP_FOLDER:
      g_value_set_string (value, self->folder);
      break;
    case PROP_FORMAT:
      g_value_set_uint (value, self->format);
      break;
    case PROP_DELETE_AFTER_DOWNLOAD:
      g_value_set_boolean (value, self->delete_after_download);
      break;
    case PROP_CA_FILE:
      g_value_set_string (value, self->ca_file);
      break;
    case PROP_PIN_SHA256:
      g_value_set_string (value, self->pin_sha256);
      break;
    case PROP_TIMEOUT:
      g_value_set_uint (value, self->timeout);
      break;
    case PROP_ENABLED:
      g_value_set_boolean (value, self->enabled);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pb_account_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  PbAccount *self = PB_ACCOUNT (object);

  switch (prop_id)
    {
    case PROP_NAME:
      self->name = g_value_dup_string (value);
      break;
    case PROP_HOST:
      pb_account_set_host (self, g_value_get_string (value));
      break;
    case PROP_PORT:
      pb_account_set_port (self, (guint16) g_value_get_uint (value));
      break;
    case PROP_SECURITY:
      pb_account_set_security (self, g_value_get_uint (value));
      break;
    case PROP_USER:
      pb_account_set_user (self, g_value_get_string (value));
      break;
    case PROP_AUTH:
      pb_account_set_auth (self, g_value_get_uint (value));
      break;
    case PROP_INTERVAL:
      pb_account_set_interval (self, g_value_get_uint (value));
      break;
    case PROP_FOLDER:
      pb_account_set_folder (self, g_value_get_string (value));
      break;
    case PROP_FORMAT:
      pb_account_set_format (self, g_value_get_uint (value));
      break;
    case PROP_DELETE_AFTER_DOWNLOAD:
      pb_account_set_delete_after_download (self, g_value_get_boolean (value));
      break;
    case PROP_CA_FILE:
      pb_account_set_ca_file (self, g_value_get_string (value));
      break;
    case PROP_PIN_SHA256:
      pb_account_set_pin_sha256 (self, g_value_get_string (value));
      break;
    case PROP_TIMEOUT:
      pb_account_set_timeout (self, g_value_get_uint (value));
      break;
    case PROP_ENABLED:
      pb_account_set_enabled (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
pb_account_class_init (PbAccountClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = pb_account_finalize;
  object_class->get_property = pb_account_get_property;
  object_class->set_property = pb_account_set_property;

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_HOST] = g_param_spec_string ("host", NULL, NULL, NULL, rw);
  properties[PROP_PORT] = g_param_spec_uint ("port", NULL, NULL, 0, G_MAXUINT16, 995, rw);
  /* Enums as plain numbers: the POP3 layer has no GEnum types, and the
   * values are the PbPop3Security / PbPop3AuthMethod / PbDeliveryFormat
   * enums. */
  properties[PROP_SECURITY] =
    g_param_spec_uint ("security", NULL, NULL, 0, G_MAXUINT, PB_POP3_SECURITY_TLS, rw);
  properties[PROP_USER] = g_param_spec_string ("user", NULL, NULL, NULL, rw);
  properties[PROP_AUTH] =
    g_param_spec_uint ("auth", NULL, NULL, 0, G_MAXUINT, PB_POP3_AUTH_AUTO, rw);
  properties[PROP_INTERVAL] =
    g_param_spec_uint ("interval", NULL, NULL, 0, G_MAXUINT, PB_ACCOUNT_DEFAULT_INTERVAL, rw);
  /* NULL when the default folder is used; pb_account_get_folder() resolves it. */
  properties[PROP_FOLDER] = g_param_spec_string ("folder", NULL, NULL, NULL, rw);
  properties[PROP_FORMAT] =
    g_param_spec_uint ("format", NULL, NULL, 0, G_MAXUINT, PB_DELIVERY_FORMAT_MAILDIR, rw);
  properties[PROP_DELETE_AFTER_DOWNLOAD] =
    g_param_spec_boolean ("delete-after-download", NULL, NULL, FALSE, rw);
  properties[PROP_CA_FILE] = g_param_spec_string ("ca-file", NULL, NULL, NULL, rw);
  properties[PROP_PIN_SHA256] = g_param_spec_string ("pin-sha256", NULL, NULL, NULL, rw);
  properties[PROP_TIMEOUT] =
    g_param_spec_uint ("timeout", NULL, NULL, 0, G_MAXUINT, PB_POP3_DEFAULT_TIMEOUT, rw);
  properties[PROP_ENABLED] = g_param_spec_boolean ("enabled", NULL, NULL, TRUE, rw);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
pb_account_init (PbAccount *self)
{
  self->port = 995;
  self->security = PB_POP3_SECURITY_TLS;
  self->auth = PB_POP3_AUTH_AUTO;
  self->interval = PB_ACCOUNT_DEFAULT_INTERVAL;
  self->format = PB_DELIVERY_FORMAT_MAILDIR;
  self->timeout = PB_POP3_DEFAULT_TIMEOUT;
  self->enabled = TRUE;
}

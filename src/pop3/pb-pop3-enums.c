/* pb-pop3-enums.c: the security and authentication settings as the strings
 * accounts.conf and the command line use (DESIGN.md, "Command line"). */
#include "pb-pop3-client.h"

typedef struct {
  int         value;
  const char *name;
} PbPop3EnumName;

static const PbPop3EnumName security_names[] = {
  { PB_POP3_SECURITY_TLS, "tls" },
  { PB_POP3_SECURITY_STARTTLS, "starttls" },
  { PB_POP3_SECURITY_NONE, "none" },
  { 0, NULL },
};

static const PbPop3EnumName auth_names[] = {
  { PB_POP3_AUTH_AUTO, "auto" },
  { PB_POP3_AUTH_USER, "user" },
  { PB_POP3_AUTH_APOP, "apop" },
  { PB_POP3_AUTH_PLAIN, "plain" },
  { PB_POP3_AUTH_LOGIN, "login" },
  { PB_POP3_AUTH_CRAM_MD5, "cram-md5" },
  { PB_POP3_AUTH_SCRAM_SHA_256, "scram-sha-256" },
  { PB_POP3_AUTH_XOAUTH2, "xoauth2" },
  { PB_POP3_AUTH_OAUTHBEARER, "oauthbearer" },
  { 0, NULL },
};

static const char *
name_of (const PbPop3EnumName *names,
         int                   value)
{
  for (guint i = 0; names[i].name != NULL; i++)
    if (names[i].value == value)
      return names[i].name;
  return NULL;
}

/* Case-insensitive: people type "STARTTLS" and "SCRAM-SHA-256". */
static gboolean
value_of (const PbPop3EnumName *names,
          const char           *str,
          int                  *out)
{
  if (str == NULL)
    return FALSE;
  for (guint i = 0; names[i].name != NULL; i++)
    if (g_ascii_strcasecmp (names[i].name, str) == 0)
      {
        if (out != NULL)
          *out = names[i].value;
        return TRUE;
      }
  return FALSE;
}

const char *
pb_pop3_security_to_string (PbPop3Security security)
{
  const char *name = name_of (security_names, security);

  g_return_val_if_fail (name != NULL, NULL);
  return name;
}

gboolean
pb_pop3_security_from_string (const char     *str,
                              PbPop3Security *out)
{
  int value;

  if (!value_of (security_names, str, &value))
    return FALSE;
  if (out != NULL)
    *out = (PbPop3Security) value;
  return TRUE;
}

/* RFC 8314 section 3.3 (pop3s on 995) and RFC 1939 section 3 (110; STLS,
 * RFC 2595, upgrades that same port). */
guint16
pb_pop3_security_default_port (PbPop3Security security)
{
  return security == PB_POP3_SECURITY_TLS ? 995 : 110;
}

const char *
pb_pop3_auth_method_to_string (PbPop3AuthMethod method)
{
  const char *name = name_of (auth_names, method);

  g_return_val_if_fail (name != NULL, NULL);
  return name;
}

gboolean
pb_pop3_auth_method_from_string (const char       *str,
                                 PbPop3AuthMethod *out)
{
  int value;

  if (!value_of (auth_names, str, &value))
    return FALSE;
  if (out != NULL)
    *out = (PbPop3AuthMethod) value;
  return TRUE;
}

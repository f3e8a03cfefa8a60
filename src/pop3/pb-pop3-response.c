/* pb-pop3-response.c: response codes (RFC 2449 section 8, RFC 3206) to
 * PbPop3Error codes, with messages that say what to do. */
#include <glib/gi18n.h>
#include <stdlib.h>

#include "pb-pop3-error.h"
#include "pb-pop3-reader.h"
#include "pb-pop3-response.h"

#define MAX_SERVER_TEXT 200

char *
pb_pop3_response_sanitize (const char *text)
{
  return pb_pop3_response_sanitize_full (text, MAX_SERVER_TEXT);
}

char *
pb_pop3_response_sanitize_full (const char *text,
                                guint       max_chars)
{
  g_autofree char *valid = NULL;
  GString *out;
  const char *p;
  guint chars = 0;

  if (text == NULL)
    return g_strdup ("");

  valid = g_utf8_make_valid (text, -1);
  out = g_string_new (NULL);
  for (p = valid; *p != '\0' && chars < max_chars; p = g_utf8_next_char (p), chars++)
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c))
        g_string_append_c (out, ' ');
      else
        g_string_append_unichar (out, c);
    }
  if (*p != '\0')
    g_string_append (out, "…");
  return g_strstrip (g_string_free (out, FALSE));
}

/* The code is hierarchical ("SYS/TEMP" may grow "SYS/TEMP/DISK"): match on
 * the leading components, case-insensitively. */
static gboolean
code_is (const char *code,
         const char *name)
{
  gsize len = strlen (name);

  return g_ascii_strncasecmp (code, name, len) == 0 &&
         (code[len] == '\0' || code[len] == '/');
}

static gint
code_argument (const char *text)
{
  g_autofree char *arg = pb_pop3_status_get_code_argument (text);
  char *end = NULL;
  gint64 value;

  if (arg == NULL)
    return -1;
  value = g_ascii_strtoll (arg, &end, 10);
  if (end == arg || *end != '\0' || value < 0 || value > G_MAXINT)
    return -1;
  return (gint) value;
}

GError *
pb_pop3_response_error (const char            *text,
                        PbPop3ResponseContext  context,
                        const char            *command,
                        gboolean               auth_resp_code,
                        gint                  *retry_after)
{
  g_autofree char *code = pb_pop3_status_get_code (text ? text : "");
  g_autofree char *said = pb_pop3_response_sanitize (text);

  if (retry_after != NULL)
    *retry_after = -1;

  if (code != NULL && code_is (code, "IN-USE"))
    return g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_IN_USE,
                        _("The mailbox is in use by another program; try again "
                          "when it has finished (server said: %s)"), said);
  if (code != NULL && code_is (code, "LOGIN-DELAY"))
    {
      if (retry_after != NULL)
        *retry_after = code_argument (text);
      return g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_LOGIN_DELAY,
                          _("The server does not allow logging in again this soon; "
                            "try again later (server said: %s)"), said);
    }
  if (code != NULL && code_is (code, "SYS/TEMP"))
    return g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_SYS_TEMP,
                        _("The server has a temporary problem; try again later "
                          "(server said: %s)"), said);
  if (code != NULL && code_is (code, "SYS/PERM"))
    return g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_SYS_PERM,
                        _("The server has a problem that will not go away by "
                          "itself; contact the mail provider (server said: %s)"),
                        said);
  if (code != NULL && code_is (code, "AUTH"))
    return g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_AUTH,
                        _("The user name or password was not accepted; check them "
                          "(server said: %s)"), said);

  switch (context)
    {
    case PB_POP3_RESPONSE_GREETING:
      return g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_SERVER,
                          _("The server refused the connection (server said: %s)"),
                          said);
    case PB_POP3_RESPONSE_LOGIN:
      if (auth_resp_code)
        return g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_SERVER,
                            _("The server refused the login for a reason other "
                              "than the password (server said: %s)"), said);
      return g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_AUTH,
                          _("The user name or password was not accepted; check "
                            "them (server said: %s)"), said);
    case PB_POP3_RESPONSE_COMMAND:
    default:
      return g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_SERVER,
                          _("The server refused the %s command (server said: %s)"),
                          command ? command : "?", said);
    }
}

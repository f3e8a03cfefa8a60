/* pb-pop3-response.h: from a "-ERR" line to an error a person understands.
 * Private to src/pop3/. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  PB_POP3_RESPONSE_GREETING, /* the server's first line */
  PB_POP3_RESPONSE_LOGIN,    /* USER, PASS, APOP, AUTH */
  PB_POP3_RESPONSE_COMMAND,  /* everything else */
} PbPop3ResponseContext;

/* @text is what followed "-ERR". RFC 2449/3206 response codes ([IN-USE],
 * [LOGIN-DELAY], [SYS/TEMP], [SYS/PERM], [AUTH]) become their own
 * PbPop3Error codes. For a login, a bare -ERR means the credentials were
 * rejected, unless the server announced AUTH-RESP-CODE (RFC 3206 section 6):
 * then only [AUTH] means that. *@retry_after gets the seconds of a
 * "[LOGIN-DELAY n]" hint, or -1. */
GError *pb_pop3_response_error (const char            *text,
                                PbPop3ResponseContext  context,
                                const char            *command,
                                gboolean               auth_resp_code,
                                gint                  *retry_after);

/* Server text fit for an error message: valid UTF-8, no control
 * characters, at most a couple of hundred characters. */
char   *pb_pop3_response_sanitize      (const char *text);
char   *pb_pop3_response_sanitize_full (const char *text,
                                        guint       max_chars);

G_END_DECLS

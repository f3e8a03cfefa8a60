/* pb-pop3-error.h: the errors a POP3 session reports.
 *
 * Each code is something a person or the scheduler must react to
 * differently; the message of every GError in this domain is written for a
 * person (translatable, says what happened and, where it helps, what to do).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PB_POP3_ERROR (pb_pop3_error_quark ())

typedef enum {
  PB_POP3_ERROR_NETWORK,             /* could not connect, connection lost */
  PB_POP3_ERROR_TIMEOUT,             /* connect or response timeout */
  PB_POP3_ERROR_TLS,                 /* handshake failed (not a certificate problem) */
  PB_POP3_ERROR_CERTIFICATE,         /* certificate rejected (untrusted, wrong host, expired, pin mismatch) */
  PB_POP3_ERROR_STARTTLS_UNAVAILABLE,/* STLS not offered or refused: never fall back */
  PB_POP3_ERROR_AUTH,                /* credentials rejected ([AUTH] or plain -ERR to login) */
  PB_POP3_ERROR_AUTH_UNAVAILABLE,    /* no acceptable mechanism (or would send a password in clear) */
  PB_POP3_ERROR_INVALID_CREDENTIALS, /* user name or password with CR/LF, refused before sending */
  PB_POP3_ERROR_IN_USE,              /* [IN-USE]: mailbox locked by another session */
  PB_POP3_ERROR_LOGIN_DELAY,         /* [LOGIN-DELAY]: logged in too soon */
  PB_POP3_ERROR_SYS_TEMP,            /* [SYS/TEMP]: temporary server problem */
  PB_POP3_ERROR_SYS_PERM,            /* [SYS/PERM]: permanent server problem */
  PB_POP3_ERROR_SERVER,              /* any other -ERR */
  PB_POP3_ERROR_PROTOCOL,            /* the server broke the protocol */
  PB_POP3_ERROR_TOO_LARGE,           /* a message exceeded the size cap */
  PB_POP3_ERROR_UNSUPPORTED,         /* the server lacks a command (TOP, UIDL) */
  PB_POP3_ERROR_CLOSED,              /* the session is closed or was never opened */
} PbPop3Error;

GQuark pb_pop3_error_quark (void);

G_END_DECLS

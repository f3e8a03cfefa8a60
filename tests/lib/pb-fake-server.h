/* pb-fake-server.h: a scripted POP3 server inside the test process.
 *
 * It listens on 127.0.0.1 (or ::1), port 0, and plays a script on the
 * first connection: lines to expect from the client, lines or raw bytes to
 * send, a STARTTLS or implicit TLS handshake with a test certificate, a
 * stall, a dropped connection. It is what the real servers will not do on
 * demand: misbehave in exactly one way.
 *
 * The script runs in a worker thread with blocking I/O (GThreadedSocketService),
 * so the client under test runs normally on the test's main loop. Build the
 * script first, then connect the client, then pb_fake_server_wait().
 *
 *   server = pb_fake_server_new ();
 *   pb_fake_server_send (server, "+OK ready");
 *   pb_fake_server_expect (server, "CAPA");
 *   pb_fake_server_send (server, "+OK\r\nUSER\r\n.");
 *   ...
 *   problems = pb_fake_server_wait (server);   // NULL if the client did as expected
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _PbFakeServer PbFakeServer;

/* Listens on @address ("127.0.0.1" or "::1"); NULL with an error if the
 * address is not available (no IPv6 here, for one). */
PbFakeServer *pb_fake_server_new_on     (const char    *address,
                                         GError       **error);
/* 127.0.0.1; aborts the test if that fails. */
PbFakeServer *pb_fake_server_new        (void);
/* Safe at any time, also while a connection is being served: the script
 * stops at its next blocking step, the connection is closed, and the
 * worker thread is done with the server before this returns. */
void          pb_fake_server_free       (PbFakeServer  *server);
guint16       pb_fake_server_get_port   (PbFakeServer  *server);

/* The certificate for STARTTLS and implicit TLS. */
void          pb_fake_server_set_certificate (PbFakeServer *server,
                                              const char   *pem,
                                              const char   *key);
/* Speak TLS from the first byte (pop3s). */
void          pb_fake_server_set_implicit_tls (PbFakeServer *server,
                                               gboolean      implicit);

/* Script steps, played in order. */

/* Sends @text with CRLF appended; LF inside @text become CRLF, so a whole
 * multi-line response can be written "+OK\nline\n.". */
void          pb_fake_server_send       (PbFakeServer  *server,
                                         const char    *text);
/* Sends exactly these bytes. */
void          pb_fake_server_send_raw   (PbFakeServer  *server,
                                         const void    *data,
                                         gsize          len);
/* Sends @chunk over and over until @total bytes went out, or until the
 * client hangs up (which is then not a failure: this is how endless
 * bodies and endless lines are cut off). */
void          pb_fake_server_send_repeated (PbFakeServer *server,
                                            const char   *chunk,
                                            guint64       total);
/* Sends @text like pb_fake_server_send(), @piece octets at a time with
 * @interval_ms between the pieces; the client hanging up meanwhile ends
 * the script without a problem. */
void          pb_fake_server_trickle    (PbFakeServer  *server,
                                         const char    *text,
                                         guint          piece,
                                         guint          interval_ms);
/* Reads one line and checks it against @pattern (a GPatternSpec glob
 * such as "AUTH PLAIN *"; CRLF removed). */
void          pb_fake_server_expect     (PbFakeServer  *server,
                                         const char    *pattern);
/* Checks that @count lines arrive before the server answers any: the
 * client pipelined them. The lines are recorded, not compared. */
void          pb_fake_server_expect_lines (PbFakeServer *server,
                                           guint         count);
/* Checks that the client sends nothing for @milliseconds. */
void          pb_fake_server_expect_silence (PbFakeServer *server,
                                             guint         milliseconds);
/* The server side of STLS after its +OK was sent: a TLS handshake with
 * the certificate. If @must_succeed is FALSE, a failed handshake ends the
 * script without counting as a problem. */
void          pb_fake_server_starttls   (PbFakeServer  *server,
                                         gboolean       must_succeed);
/* Reads "AUTH @mechanism ..." and runs the server side of the SASL
 * exchange with GNU SASL; +OK if @user and @password match, else
 * "-ERR [AUTH] ...". */
void          pb_fake_server_sasl       (PbFakeServer  *server,
                                         const char    *mechanism,
                                         const char    *user,
                                         const char    *password);
/* Says nothing more and waits until the client goes away. */
void          pb_fake_server_stall      (PbFakeServer  *server);
/* Closes the connection at once. */
void          pb_fake_server_drop       (PbFakeServer  *server);

/* Waits (running the default main context) until the script has finished
 * and the client has closed the connection. Returns what went wrong, or
 * NULL when the client did exactly what the script expected. */
char         *pb_fake_server_wait       (PbFakeServer  *server);
/* Every line the client sent, in order (NULL-terminated, owned by the
 * server; valid after pb_fake_server_wait()). */
const char * const *pb_fake_server_get_received (PbFakeServer *server);
/* TRUE if any received line starts with @prefix (case-insensitive). */
gboolean      pb_fake_server_received_prefix (PbFakeServer *server,
                                              const char   *prefix);

/* How many connections the server accepted so far, the one that played
 * the script and those closed at once after it. */
guint         pb_fake_server_get_connections (PbFakeServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PbFakeServer, pb_fake_server_free)

G_END_DECLS

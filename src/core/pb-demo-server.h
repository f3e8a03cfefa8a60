/* pb-demo-server.h: a small POP3 server with sample mail, for `popbiff
 * --demo`, the screenshots and the GUI tests.
 *
 * Listens on 127.0.0.1 on a port the system picks, plaintext (loopback
 * only), USER/PASS with the user and password it was given. Speaks CAPA
 * (TOP UIDL PIPELINING USER), STAT, LIST, UIDL, TOP, RETR, DELE, RSET, NOOP
 * and QUIT (RFC 1939, RFC 2449); deletions apply at QUIT and last as long
 * as the server. The sample messages carry international names and
 * subjects, RFC 2047 encoded, so the demo shows decoding at work. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define PB_TYPE_DEMO_SERVER (pb_demo_server_get_type ())
G_DECLARE_FINAL_TYPE (PbDemoServer, pb_demo_server, PB, DEMO_SERVER, GObject)

PbDemoServer *pb_demo_server_new           (const char *user, const char *password);
/* Binds 127.0.0.1:0 and starts answering. */
gboolean      pb_demo_server_start         (PbDemoServer *self, GError **error);
void          pb_demo_server_stop          (PbDemoServer *self);
guint16       pb_demo_server_get_port      (PbDemoServer *self);
/* Messages not deleted. */
guint         pb_demo_server_get_count     (PbDemoServer *self);
/* Adds a message (the raw text, LF or CRLF line ends) as if it just
 * arrived; the demo calls this now and then so notifications show. */
void          pb_demo_server_add_message   (PbDemoServer *self, const char *text);
/* Adds the next of a few extra sample messages; FALSE when none are left. */
gboolean      pb_demo_server_add_sample    (PbDemoServer *self);

G_END_DECLS

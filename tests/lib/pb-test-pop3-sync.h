/* pb-test-pop3-sync.h: PbPop3Client calls that wait, for tests.
 *
 * Each wrapper starts the async call and iterates the thread-default main
 * context until it completes, so a test reads as a sequence of commands.
 * Only tests use these; the engine itself never blocks. */
#pragma once

#include "pop3/pb-pop3-client.h"

G_BEGIN_DECLS

gboolean   pb_test_pop3_connect      (PbPop3Client *client, GError **error);
gboolean   pb_test_pop3_authenticate (PbPop3Client *client, const char *user,
                                      const char *secret, PbPop3AuthMethod method,
                                      GError **error);
gboolean   pb_test_pop3_stat         (PbPop3Client *client, guint *count,
                                      guint64 *size, GError **error);
/* GPtrArray of PbPop3Listing, as the _finish functions return them. */
GPtrArray *pb_test_pop3_list         (PbPop3Client *client, GError **error);
GPtrArray *pb_test_pop3_uidl         (PbPop3Client *client, GError **error);
GBytes    *pb_test_pop3_top          (PbPop3Client *client, guint number,
                                      guint lines, GError **error);
/* RETR into memory: what the client wrote to its output stream. */
GBytes    *pb_test_pop3_retr         (PbPop3Client *client, guint number,
                                      GError **error);
gboolean   pb_test_pop3_dele         (PbPop3Client *client, guint number,
                                      GError **error);
gboolean   pb_test_pop3_quit         (PbPop3Client *client, GError **error);

/* A client for 127.0.0.1:@port, connected and logged in, or NULL with
 * @error set. @ca_file may be NULL. */
PbPop3Client *pb_test_pop3_login     (guint16 port, PbPop3Security security,
                                      const char *ca_file, const char *user,
                                      const char *password, PbPop3AuthMethod method,
                                      GError **error);

G_END_DECLS

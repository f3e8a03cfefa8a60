/* pb-test-introspection.h: a token introspection endpoint (RFC 7662) on
 * loopback, for a test Dovecot's oauth2 passdb.
 *
 * pb_test_introspection_start() runs tests/tools/pb-test-introspection.py
 * (Python 3, standard library only) as a child: a real HTTP server on
 * 127.0.0.1 and a free port, which answers a POSTed "token=..." with
 * {"active": true, "username": USER} for the tokens added here and
 * {"active": false} for anything else. It returns once the server listens.
 *
 * The child dies with the test: pb_test_introspection_stop() ends it, and
 * it exits by itself when the test process goes away (its stdin closes,
 * and the kernel sends it SIGTERM). Nothing listens beyond 127.0.0.1. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _PbTestIntrospection PbTestIntrospection;

/* Starts the endpoint with its files (tokens, log, port) in @dir, which
 * must exist. Returns NULL with @error unset if the test was skipped
 * because python3 is not installed (pb_test_require_program() semantics). */
PbTestIntrospection *pb_test_introspection_start      (const char           *dir,
                                                        GError              **error);
/* Stops the server. Safe on NULL. */
void                 pb_test_introspection_stop       (PbTestIntrospection  *self);

/* "http://127.0.0.1:PORT/introspect", for Dovecot's introspection_url. */
const char          *pb_test_introspection_get_url    (PbTestIntrospection  *self);

/* From now on, @token is active and belongs to @user. @token must be an
 * RFC 6750 b64token (what Dovecot accepts after "Bearer "). */
gboolean             pb_test_introspection_add_token  (PbTestIntrospection  *self,
                                                        const char           *token,
                                                        const char           *user,
                                                        GError              **error);

/* Every token the server has been asked about so far, in order
 * (NULL-terminated, newly allocated). */
char               **pb_test_introspection_get_asked  (PbTestIntrospection  *self);

/* What the server printed on stdout and stderr (newly allocated, never
 * NULL), for a failed test's report. */
char                *pb_test_introspection_read_output (PbTestIntrospection *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PbTestIntrospection, pb_test_introspection_stop)

G_END_DECLS

/* pb-test-dovecot.h: a private, real Dovecot for one test.
 *
 * pb_test_dovecot_start() makes a temporary directory with its own Dovecot
 * configuration (no system configuration is read), a test CA and a server
 * certificate for 127.0.0.1 and localhost, a passwd-file with plaintext
 * passwords (so USER, APOP, PLAIN, LOGIN, CRAM-MD5 and SCRAM-SHA-256 all
 * work), and one Maildir per user. It runs `dovecot -F` as a child in its
 * own process group, listening on free 127.0.0.1 ports:
 *
 *   plain port: POP3 in clear, with STLS offered (the 110-style port)
 *   tls port:   implicit TLS (the 995-style port)
 *
 * and returns once both ports answer with this instance's greeting. It
 * never uses a fixed sleep: it polls with a generous deadline.
 *
 * The server dies with the test: pb_test_dovecot_stop() (or the autoptr
 * cleanup) stops it and kills anything left in its process group, and the
 * child asks the kernel for SIGTERM if the test process dies first.
 *
 *   g_autoptr(GError) error = NULL;
 *   g_autoptr(PbTestDovecot) dovecot = pb_test_dovecot_start (&error);
 *   if (dovecot == NULL && error == NULL)
 *     return;                       // skipped: dovecot is not installed
 *   g_assert_no_error (error);
 *
 * Messages go in with pb_test_dovecot_deliver() (atomic: tmp/ then new/),
 * and pb_test_dovecot_list_messages() reads the Maildir back in the order
 * Dovecot numbers the messages, for byte-exact comparisons. On a failed
 * test the server's log is printed (as TAP comments) when it is stopped. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _PbTestDovecot PbTestDovecot;

/* The user every instance starts with. */
#define PB_TEST_DOVECOT_USER     "alice"
#define PB_TEST_DOVECOT_PASSWORD "Pb-test-secret-7"
/* The default user's bearer token, with pb_test_dovecot_start_oauth2(). */
#define PB_TEST_DOVECOT_BEARER_TOKEN "pb-test-token.alice~7Q2/x+Y="

/* How Dovecot runs its processes. */
typedef enum {
  /* Dovecot's defaults, what the tests use: a new pop3-login process for
   * every connection ("high-security mode"; it stays to proxy the TLS
   * session) and a new pop3 process for every session. */
  PB_TEST_DOVECOT_PROCESSES_DEFAULT,
  /* The shape Dovecot documents for busy servers, for benchmarks: login
   * processes in "high-performance mode" (each serves many connections,
   * one per core kept ready) and pop3 processes reused for up to 100
   * sessions, two kept ready. */
  PB_TEST_DOVECOT_PROCESSES_HIGH_PERFORMANCE,
} PbTestDovecotProcesses;

/* Starts a private Dovecot. Returns NULL with @error unset if the test was
 * skipped because Dovecot is not installed (pb_test_require_program()
 * semantics: a failure instead when PB_TEST_REQUIRE_ALL is set). */
PbTestDovecot *pb_test_dovecot_start         (GError **error);
/* The same with a choice of process shape. */
PbTestDovecot *pb_test_dovecot_start_with    (PbTestDovecotProcesses   processes,
                                              GError                 **error);

/* Like pb_test_dovecot_start(), and the server also offers XOAUTH2 and
 * OAUTHBEARER (RFC 7628), checked by an oauth2 passdb that asks a token
 * introspection endpoint (tests/lib/pb-test-introspection.h) started
 * with it on loopback and stopped with it. The password mechanisms work
 * as before; tokens only reach the oauth2 passdb and passwords only the
 * passwd-file. PB_TEST_DOVECOT_BEARER_TOKEN is good for the default user.
 * Skipped (NULL, @error unset) if python3 is not installed either. */
PbTestDovecot *pb_test_dovecot_start_oauth2  (GError **error);

/* One Dovecot for a whole test program, for programs whose tests only
 * read its mailboxes or get users of their own: the first test that asks
 * starts it (pb_test_dovecot_start(), or pb_test_dovecot_start_oauth2()
 * for the _oauth2 variant), later ones get the same server, and main()
 * stops it with pb_test_dovecot_stop_shared() after g_test_run(). NULL when
 * a program it needs is missing: then every test that asks is skipped (or
 * fails with PB_TEST_REQUIRE_ALL), not only the first. Failing to start
 * fails the test that asked. Owned by the library: do not stop it. */
PbTestDovecot *pb_test_dovecot_get_shared        (void);
PbTestDovecot *pb_test_dovecot_get_shared_oauth2 (void);
void           pb_test_dovecot_stop_shared       (void);

/* Stops the server and removes its directory (kept, and its path printed,
 * if the test failed, so the log and Maildirs can be read). Safe on NULL. */
void           pb_test_dovecot_stop          (PbTestDovecot *self);

/* Where to connect. The host is always "127.0.0.1"; the certificate is
 * valid for 127.0.0.1, ::1 and localhost. */
const char    *pb_test_dovecot_get_host      (PbTestDovecot *self);
guint16        pb_test_dovecot_get_plain_port (PbTestDovecot *self);
guint16        pb_test_dovecot_get_tls_port  (PbTestDovecot *self);
/* The PEM file of the test CA that signed the server certificate. */
const char    *pb_test_dovecot_get_ca_file   (PbTestDovecot *self);
/* The PEM file of the server certificate (for fingerprint pinning). */
const char    *pb_test_dovecot_get_cert_file (PbTestDovecot *self);
const char    *pb_test_dovecot_get_user      (PbTestDovecot *self);
const char    *pb_test_dovecot_get_password  (PbTestDovecot *self);
/* The greeting's text is unique to this instance and contains this. */
const char    *pb_test_dovecot_get_greeting_token (PbTestDovecot *self);
/* The temporary directory holding everything. */
const char    *pb_test_dovecot_get_dir       (PbTestDovecot *self);
const char    *pb_test_dovecot_get_log_path  (PbTestDovecot *self);
/* The whole server log so far (newly allocated, never NULL). */
char          *pb_test_dovecot_read_log      (PbTestDovecot *self);
/* The Maildir (with tmp/ new/ cur/) of @user; NULL means the default user.
 * Newly allocated. */
char          *pb_test_dovecot_get_maildir   (PbTestDovecot *self,
                                              const char    *user);

/* Adds a user with its own empty Maildir. Neither may contain ':' or a
 * line break. The server sees the new user at the next login. */
gboolean       pb_test_dovecot_add_user      (PbTestDovecot *self,
                                              const char    *user,
                                              const char    *password,
                                              GError       **error);

/* With pb_test_dovecot_start_oauth2(): from now on the endpoint says
 * @token (an RFC 6750 b64token) is active and belongs to @user. */
gboolean       pb_test_dovecot_add_bearer_token (PbTestDovecot *self,
                                                 const char    *token,
                                                 const char    *user,
                                                 GError       **error);
/* With pb_test_dovecot_start_oauth2(): every token Dovecot has asked the
 * endpoint about, in order (NULL-terminated, newly allocated). */
char         **pb_test_dovecot_get_introspected_tokens (PbTestDovecot *self);

/* Writes @message (LF or CRLF line ends, stored exactly as given) into
 * @user's Maildir: a file in tmp/, fsynced, renamed into new/, the
 * directory fsynced. NULL @user means the default user. Messages are
 * numbered by Dovecot in delivery order. */
gboolean       pb_test_dovecot_deliver       (PbTestDovecot *self,
                                              const char    *user,
                                              GBytes        *message,
                                              GError       **error);

/* Fills @user's Maildir with @count generated, realistic messages of about
 * @average_size octets each (pb_test_mail_fill_maildir()), quickly: no
 * fsync per file. For benchmarks and volume tests. */
gboolean       pb_test_dovecot_fill          (PbTestDovecot *self,
                                              const char    *user,
                                              guint          count,
                                              gsize          average_size,
                                              GError       **error);

/* One message file in a Maildir. */
typedef struct {
  char   *path;      /* full path now (new/ or cur/, may move later) */
  char   *name;      /* the unique part of the file name, before ':' */
  GBytes *contents;  /* the file's bytes, as stored */
} PbTestMessage;

void           pb_test_message_free          (PbTestMessage *message);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PbTestMessage, pb_test_message_free)

/* The messages in @user's Maildir (new/ and cur/), read now, in the order
 * Dovecot numbers them (message 1 first), as a GPtrArray of PbTestMessage.
 * NULL @user means the default user. */
GPtrArray     *pb_test_dovecot_list_messages (PbTestDovecot *self,
                                              const char    *user,
                                              GError       **error);

/* For tools (tests/tools/dovecot-env.sh): start without tying the
 * server's life to this process (no parent-death signal) in @dir (created
 * if needed), write @dir/env.sh with PB_DOVECOT_* shell variables, and
 * leave it running when @self is freed with pb_test_dovecot_detach(). A
 * later process gets a handle with pb_test_dovecot_attach() (to add users
 * or deliver) and stops it with pb_test_dovecot_stop_dir(). */
PbTestDovecot *pb_test_dovecot_start_detached (const char *dir,
                                               GError    **error);

/* pb_test_dovecot_start_detached() with a choice of process shape. */
PbTestDovecot *pb_test_dovecot_start_detached_with (const char             *dir,
                                                    PbTestDovecotProcesses  processes,
                                                    GError                **error);
PbTestDovecot *pb_test_dovecot_attach        (const char *dir,
                                              GError    **error);
void           pb_test_dovecot_detach        (PbTestDovecot *self);
gboolean       pb_test_dovecot_stop_dir      (const char *dir,
                                              GError    **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PbTestDovecot, pb_test_dovecot_stop)

G_END_DECLS

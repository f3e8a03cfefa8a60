/* pb-test-util.h: what every test program shares.
 *
 * pb_test_init() wraps g_test_init() with G_TEST_OPTION_ISOLATE_DIRS, so each
 * test case gets its own temporary HOME and XDG_* directories, and nothing a
 * test writes touches the person's real files. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

void      pb_test_init            (int *argc, char ***argv);

/* A test that needs a tool that is not installed is skipped with the
 * reason (g_test_skip), never passed. When PB_TEST_REQUIRE_ALL is set (CI
 * sets it), a missing tool fails the test instead: in CI nothing may be
 * skipped for want of a package. Returns the program's full path, or NULL
 * after skipping; the caller then returns from the test. */
char     *pb_test_require_program (const char *program);

/* The directory holding test data (tests/ in the source tree). */
const char *pb_test_srcdir        (void);
/* The path of the built popbiff binary (from $POPBIFF). */
const char *pb_test_popbiff       (void);

/* What a run of the built popbiff printed and returned. */
typedef struct {
  int   status;
  char *out;
  char *err;
} PbTestRun;

void        pb_test_run_clear     (PbTestRun *run);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (PbTestRun, pb_test_run_clear)

/* Runs popbiff with the NULL-terminated arguments, @input (may be NULL) on
 * its standard input, this test case's isolated HOME and XDG dirs (GLib's
 * isolation moves them for this process only) and a UTF-8 C locale. */
void        pb_test_run_popbiff   (PbTestRun  *run,
                                   const char *input,
                                   ...) G_GNUC_NULL_TERMINATED;
/* The same with the arguments in a NULL-terminated array. */
void        pb_test_run_popbiffv  (PbTestRun          *run,
                                   const char         *input,
                                   const char * const *args);

/* The same in @locale ("C", say) instead of a UTF-8 one. */
void        pb_test_run_popbiff_in_locale (PbTestRun          *run,
                                           const char         *locale,
                                           const char         *input,
                                           const char * const *args);

/* Makes @listener listen on a free port of 127.0.0.1 and returns it. It
 * never accepts: the kernel completes connections into its backlog and
 * nobody answers, so no server thread can outlive a test. */
guint16     pb_test_listen_silently (GSocketListener *listener);

/* A port of 127.0.0.1 nobody listens on (bound, then closed again): a
 * connection there is refused. */
guint16     pb_test_closed_port     (void);

G_END_DECLS

/* pb-cli-util.h: what every headless command shares.
 *
 * Exit codes, error output ("popbiff: message" on stderr), waiting for one
 * async call at a time on the default main context, JSON and aligned-table
 * output, reading a password from stdin, and loading the accounts with the
 * config errors turned into exit code 2. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "core/pb-account-store.h"

G_BEGIN_DECLS

/* DESIGN.md, "Command line". */
#define PB_EXIT_OK     0  /* all went well */
#define PB_EXIT_FAILED 1  /* an account or message failed; the output says which */
#define PB_EXIT_USAGE  2  /* the command line or configuration is wrong */

/* "popbiff: <message>\n" on stderr. */
void      pb_cli_printerr      (const char *format, ...) G_GNUC_PRINTF (1, 2);
void      pb_cli_print_error   (const GError *error);

/* Prints "popbiff: <message>" and a pointer to "popbiff @command --help",
 * returns PB_EXIT_USAGE. */
int       pb_cli_usage_error   (const char *command, const char *format, ...) G_GNUC_PRINTF (2, 3);

/* Parses the options of @command ("accounts add", "check", ...) from
 * @argc and @argv (argv[0] is the command name). On a bad option prints it
 * and returns FALSE (the caller returns PB_EXIT_USAGE). */
gboolean  pb_cli_parse_options (GOptionContext *context, const char *command,
                                int *argc, char ***argv);

/* A path typed in an option, made absolute: "~" and "~/x" are in the home
 * folder (a script quotes them, so no shell expands them), a relative path
 * is from the current folder. Newly allocated. */
char     *pb_cli_absolute_path (const char *path);

/* The operands after NAME of dismiss and fetch, taken as the raw bytes of
 * argv (G_OPTION_ARG_FILENAME_ARRAY): a UIDL may hold any UTF-8, which
 * the locale conversion of a string option refuses under LC_ALL=C. Each
 * must be UTF-8 and not empty; otherwise prints why and returns FALSE
 * (the caller returns PB_EXIT_USAGE). */
gboolean  pb_cli_check_uidls   (const char *command, char * const *uidls);

/* Tells the running applet, if any, that the password of account @name
 * changed in the keyring (no file it watches shows that). Quietly does
 * nothing without a session bus or an applet; never starts one. */
void      pb_cli_tell_applet_password_changed (const char *name);

/* A whole decimal number in [@min, @max], nothing else (no sign, no
 * spaces, no suffix). */
gboolean  pb_cli_parse_uint    (const char *text, guint min, guint max, guint *out);

/* Waits for one async call at a time:
 *
 *   g_autoptr(PbCliWait) wait = pb_cli_wait_new ();
 *   pb_secrets_lookup_async (account, NULL, pb_cli_wait_done, wait);
 *   password = pb_secrets_lookup_finish (pb_cli_wait_run (wait), &error);
 *
 * The result returned by pb_cli_wait_run() belongs to @wait and stays
 * valid until the next run or until @wait is freed. */
typedef struct _PbCliWait PbCliWait;

PbCliWait    *pb_cli_wait_new  (void);
void          pb_cli_wait_free (PbCliWait *wait);
void          pb_cli_wait_done (GObject *source, GAsyncResult *result, gpointer wait);
GAsyncResult *pb_cli_wait_run  (PbCliWait *wait);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PbCliWait, pb_cli_wait_free)

/* Prints @node as JSON (pretty, UTF-8, one trailing newline) on stdout. */
void      pb_cli_print_json    (JsonNode *node);

/* Aligned columns for human output; widths count characters as a terminal
 * shows them (wide CJK characters take two cells). */
typedef struct _PbCliTable PbCliTable;

PbCliTable *pb_cli_table_new     (guint n_columns);
void        pb_cli_table_add_row (PbCliTable *table, ...) G_GNUC_NULL_TERMINATED;
void        pb_cli_table_print   (PbCliTable *table);
void        pb_cli_table_free    (PbCliTable *table);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PbCliTable, pb_cli_table_free)

/* Reads a password from stdin: without echo when stdin is a terminal
 * (with a prompt on stderr), one trailing newline (LF or CRLF) stripped.
 * An empty password, or one with a line break or NUL inside, is refused
 * (PB_CORE_ERROR_CONFIG). Free with pb_cli_password_free(). */
char     *pb_cli_read_password (GError **error);
/* Wipes and frees. */
void      pb_cli_password_free (char *password);

/* Loads $XDG_CONFIG_HOME/popbiff/accounts.conf. When the file cannot be
 * read or is not a key file, prints why, sets *@exit_code to
 * PB_EXIT_USAGE and returns NULL. Accounts with a bad value are left out of
 * the store (see pb_account_store_get_load_errors()); they are not printed
 * here. */
PbAccountStore *pb_cli_load_store   (int *exit_code);

/* The account named @name, or NULL after printing why (no such account,
 * or its settings have a bad value: the load error) with *@exit_code set
 * to PB_EXIT_USAGE. */
PbAccount      *pb_cli_find_account (PbAccountStore *store, const char *name, int *exit_code);

G_END_DECLS

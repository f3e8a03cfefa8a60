/* pb-cli-util.c: what every headless command shares. */
#include <errno.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "core/pb-core-error.h"
#include "pb-cli-util.h"

/* A password longer than this is a file piped in by mistake. */
#define PASSWORD_MAX 4096

void
pb_cli_printerr (const char *format,
                 ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("popbiff: %s\n", message);
}

void
pb_cli_print_error (const GError *error)
{
  g_return_if_fail (error != NULL);
  pb_cli_printerr ("%s", error->message);
}

int
pb_cli_usage_error (const char *command,
                    const char *format,
                    ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("popbiff: %s\n", message);
  g_printerr (_("Run “popbiff %s --help” for its options.\n"), command);
  return PB_EXIT_USAGE;
}

gboolean
pb_cli_parse_options (GOptionContext  *context,
                      const char      *command,
                      int             *argc,
                      char          ***argv)
{
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (context != NULL, FALSE);

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      pb_cli_usage_error (command, "%s", error->message);
      return FALSE;
    }
  return TRUE;
}

char *
pb_cli_absolute_path (const char *path)
{
  g_return_val_if_fail (path != NULL, NULL);

  if (g_str_has_prefix (path, "~/") || g_str_equal (path, "~"))
    return g_build_filename (g_get_home_dir (), path + 1, NULL);
  return g_canonicalize_filename (path, NULL);
}

gboolean
pb_cli_check_uidls (const char   *command,
                    char * const *uidls)
{
  for (guint i = 0; uidls != NULL && uidls[i] != NULL; i++)
    {
      if (uidls[i][0] == '\0')
        {
          pb_cli_usage_error (command, "%s", _("An empty UIDL names no message; give the UIDLs "
                                               "“popbiff list NAME” shows."));
          return FALSE;
        }
      if (!g_utf8_validate (uidls[i], -1, NULL))
        {
          g_autofree char *shown = g_utf8_make_valid (uidls[i], -1);

          pb_cli_usage_error (command, _("The UIDL “%s” is not UTF-8 text; copy it as "
                                         "“popbiff list NAME --json” prints it."), shown);
          return FALSE;
        }
    }
  return TRUE;
}

void
pb_cli_tell_applet_password_changed (const char *name)
{
  g_autoptr(GDBusConnection) bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  GVariant *argument;

  if (bus == NULL)
    return;
  /* GApplication's object path: the id with '.' as '/' (no '-' in ours). */
  path = g_strdelimit (g_strconcat ("/", PB_APP_ID, NULL), ".", '/');
  argument = g_variant_new_variant (g_variant_new_string (name));
  reply = g_dbus_connection_call_sync (bus, PB_APP_ID, path, "org.freedesktop.Application",
                                       "ActivateAction",
                                       g_variant_new ("(s@av@a{sv})", "password-changed",
                                                      g_variant_new_array (G_VARIANT_TYPE_VARIANT,
                                                                           &argument, 1),
                                                      g_variant_new_array (G_VARIANT_TYPE ("{sv}"),
                                                                           NULL, 0)),
                                       NULL, G_DBUS_CALL_FLAGS_NO_AUTO_START, 5000, NULL, &error);
  if (reply == NULL)
    g_debug ("No running applet was told of the new password: %s", error->message);
}

gboolean
pb_cli_parse_uint (const char *text,
                   guint       min,
                   guint       max,
                   guint      *out)
{
  guint64 value;

  g_return_val_if_fail (out != NULL, FALSE);

  /* g_ascii_string_to_unsigned() alone would take "+5". */
  if (text == NULL || !g_ascii_isdigit (*text))
    return FALSE;
  if (!g_ascii_string_to_unsigned (text, 10, min, max, &value, NULL))
    return FALSE;
  *out = (guint) value;
  return TRUE;
}

/* Waiting */

struct _PbCliWait
{
  GMainContext *context;
  GAsyncResult *result;  /* the pending one, set by pb_cli_wait_done() */
  GAsyncResult *last;    /* the one the last run returned */
};

PbCliWait *
pb_cli_wait_new (void)
{
  PbCliWait *wait = g_new0 (PbCliWait, 1);

  wait->context = g_main_context_ref_thread_default ();
  return wait;
}

void
pb_cli_wait_free (PbCliWait *wait)
{
  if (wait == NULL)
    return;
  g_clear_object (&wait->result);
  g_clear_object (&wait->last);
  g_main_context_unref (wait->context);
  g_free (wait);
}

void
pb_cli_wait_done (GObject      *source,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  PbCliWait *wait = user_data;

  g_assert (wait->result == NULL);
  wait->result = g_object_ref (result);
  g_main_context_wakeup (wait->context);
}

GAsyncResult *
pb_cli_wait_run (PbCliWait *wait)
{
  g_return_val_if_fail (wait != NULL, NULL);

  while (wait->result == NULL)
    g_main_context_iteration (wait->context, TRUE);
  g_clear_object (&wait->last);
  wait->last = g_steal_pointer (&wait->result);
  return wait->last;
}

/* Output */

void
pb_cli_print_json (JsonNode *node)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  g_return_if_fail (node != NULL);

  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  /* Not g_print(): it would convert to the locale's charset, and JSON is
   * UTF-8 whatever the locale. */
  fputs (text, stdout);
  fputc ('\n', stdout);
  fflush (stdout);
}

struct _PbCliTable
{
  guint      n_columns;
  GPtrArray *rows;  /* GStrv, n_columns cells each */
};

PbCliTable *
pb_cli_table_new (guint n_columns)
{
  PbCliTable *table = g_new0 (PbCliTable, 1);

  g_return_val_if_fail (n_columns > 0, NULL);
  table->n_columns = n_columns;
  table->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  return table;
}

void
pb_cli_table_add_row (PbCliTable *table,
                      ...)
{
  char **row;
  va_list args;

  g_return_if_fail (table != NULL);

  row = g_new0 (char *, table->n_columns + 1);
  va_start (args, table);
  for (guint i = 0; i < table->n_columns; i++)
    {
      const char *cell = va_arg (args, const char *);

      if (cell == NULL)
        {
          /* Fewer cells than columns: the rest stay empty. */
          for (; i < table->n_columns; i++)
            row[i] = g_strdup ("");
          break;
        }
      row[i] = g_strdup (cell);
    }
  va_end (args);
  g_ptr_array_add (table->rows, row);
}

/* Terminal cells a string takes; control characters are shown escaped by
 * the caller, so they are counted as one. */
static guint
display_width (const char *text)
{
  guint width = 0;

  if (!g_utf8_validate (text, -1, NULL))
    return strlen (text);
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iszerowidth (c))
        continue;
      width += g_unichar_iswide (c) ? 2 : 1;
    }
  return width;
}

void
pb_cli_table_print (PbCliTable *table)
{
  g_autofree guint *widths = NULL;
  g_autoptr(GString) line = g_string_new (NULL);

  g_return_if_fail (table != NULL);

  widths = g_new0 (guint, table->n_columns);
  for (guint r = 0; r < table->rows->len; r++)
    {
      char **row = g_ptr_array_index (table->rows, r);

      for (guint c = 0; c < table->n_columns; c++)
        widths[c] = MAX (widths[c], display_width (row[c]));
    }

  for (guint r = 0; r < table->rows->len; r++)
    {
      char **row = g_ptr_array_index (table->rows, r);

      g_string_truncate (line, 0);
      for (guint c = 0; c < table->n_columns; c++)
        {
          g_string_append (line, row[c]);
          if (c + 1 < table->n_columns)
            for (guint pad = display_width (row[c]); pad < widths[c] + 2; pad++)
              g_string_append_c (line, ' ');
        }
      /* Trailing blanks of empty last cells help no one. */
      while (line->len > 0 && line->str[line->len - 1] == ' ')
        g_string_truncate (line, line->len - 1);
      /* The cells are data (names, subjects) in UTF-8: written as they are,
       * like the JSON, not converted to a C locale's "?" by g_print(). */
      g_string_append_c (line, '\n');
      fputs (line->str, stdout);
    }
  fflush (stdout);
}

void
pb_cli_table_free (PbCliTable *table)
{
  if (table == NULL)
    return;
  g_ptr_array_unref (table->rows);
  g_free (table);
}

/* Passwords */

static void
wipe (char  *buffer,
      gsize  len)
{
  volatile char *p = buffer;

  while (len-- > 0)
    *p++ = '\0';
}

void
pb_cli_password_free (char *password)
{
  if (password == NULL)
    return;
  wipe (password, strlen (password));
  g_free (password);
}

/* The terminal as it was before echo was turned off, for the signal
 * handler: Ctrl-C at the prompt must not leave the shell without echo. */
static struct termios saved_terminal;

static void
restore_terminal_and_die (int signum)
{
  tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved_terminal);
  signal (signum, SIG_DFL);
  raise (signum);
}

char *
pb_cli_read_password (GError **error)
{
  struct termios quiet;
  struct sigaction on_signal = { 0 }, old_int, old_term, old_hup;
  gboolean echo_off = FALSE;
  char *buffer;
  gsize len = 0;
  int c;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (isatty (STDIN_FILENO))
    {
      g_printerr (_("Password: "));
      if (tcgetattr (STDIN_FILENO, &saved_terminal) == 0)
        {
          on_signal.sa_handler = restore_terminal_and_die;
          sigemptyset (&on_signal.sa_mask);
          sigaction (SIGINT, &on_signal, &old_int);
          sigaction (SIGTERM, &on_signal, &old_term);
          sigaction (SIGHUP, &on_signal, &old_hup);
          quiet = saved_terminal;
          quiet.c_lflag &= ~(tcflag_t) ECHO;
          quiet.c_lflag |= ECHONL;
          echo_off = tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
          if (!echo_off)
            {
              sigaction (SIGINT, &old_int, NULL);
              sigaction (SIGTERM, &old_term, NULL);
              sigaction (SIGHUP, &old_hup, NULL);
            }
        }
    }

  /* Byte by byte from the file descriptor, not stdio: nothing beyond the
   * first line is read (or left in a buffer that outlives this call). */
  buffer = g_malloc (PASSWORD_MAX + 2);
  for (;;)
    {
      char byte;
      ssize_t n = read (STDIN_FILENO, &byte, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        break;
      c = (guchar) byte;
      if (c == '\n')
        break;
      if (len > PASSWORD_MAX)
        continue;  /* keep reading to the end of the line, report below */
      buffer[len++] = (char) c;
    }
  buffer[MIN (len, PASSWORD_MAX + 1)] = '\0';

  if (echo_off)
    {
      tcsetattr (STDIN_FILENO, TCSAFLUSH, &saved_terminal);
      sigaction (SIGINT, &old_int, NULL);
      sigaction (SIGTERM, &old_term, NULL);
      sigaction (SIGHUP, &old_hup, NULL);
    }

  /* "echo secret | popbiff ... --password-stdin" sends "secret\n"; a file
   * written on Windows "secret\r\n". */
  if (len > 0 && buffer[len - 1] == '\r')
    buffer[--len] = '\0';

  if (len == 0)
    {
      g_set_error_literal (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                           _("No password was given on standard input; type it, or pipe it in with “--password-stdin”"));
      goto fail;
    }
  if (len > PASSWORD_MAX)
    {
      g_set_error (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                   _("The password on standard input is longer than %d bytes; give only the password"),
                   PASSWORD_MAX);
      goto fail;
    }
  if (memchr (buffer, '\0', len) != NULL || memchr (buffer, '\r', len) != NULL)
    {
      g_set_error_literal (error, PB_CORE_ERROR, PB_CORE_ERROR_CONFIG,
                           _("The password contains a NUL byte or a line break, which POP3 cannot send"));
      goto fail;
    }
  return buffer;

fail:
  wipe (buffer, PASSWORD_MAX + 2);
  g_free (buffer);
  return NULL;
}

/* Accounts */

PbAccountStore *
pb_cli_load_store (int *exit_code)
{
  g_autoptr(PbAccountStore) store = pb_account_store_new (NULL);
  g_autoptr(GError) error = NULL;

  g_return_val_if_fail (exit_code != NULL, NULL);

  if (!pb_account_store_load (store, &error))
    {
      pb_cli_print_error (error);
      *exit_code = PB_EXIT_USAGE;
      return NULL;
    }
  return g_steal_pointer (&store);
}

PbAccount *
pb_cli_find_account (PbAccountStore *store,
                     const char     *name,
                     int            *exit_code)
{
  PbAccount *account;
  const GError *load_error;

  g_return_val_if_fail (PB_IS_ACCOUNT_STORE (store), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (exit_code != NULL, NULL);

  account = pb_account_store_lookup (store, name);
  if (account != NULL)
    return account;

  load_error = pb_account_store_get_load_error (store, name);
  if (load_error != NULL)
    pb_cli_print_error (load_error);
  else
    pb_cli_printerr (_("There is no account named “%s”; see “popbiff accounts list”"), name);
  *exit_code = PB_EXIT_USAGE;
  return NULL;
}

/* The account editor: inline validation, Save only when valid, the port
 * following the security choice, warnings where they matter. */
#include <string.h>
#include <gtk/gtk.h>

#include "app/pb-account-editor.h"
#include "app/pb-probe.h"
#include "pop3/pb-pop3-error.h"
#include "gui-test-util.h"
#include "pb-fake-server.h"
#include "pb-test-util.h"

static GtkWidget *
child (PbAccountEditor *editor,
       const char      *name)
{
  GObject *object = gtk_widget_get_template_child (GTK_WIDGET (editor), PB_TYPE_ACCOUNT_EDITOR, name);

  g_assert_nonnull (object);
  return GTK_WIDGET (object);
}

static void
type (PbAccountEditor *editor,
      const char      *entry,
      const char      *text)
{
  gtk_entry_set_text (GTK_ENTRY (child (editor, entry)), text);
}

static gboolean
save_sensitive (PbAccountEditor *editor)
{
  return gtk_widget_get_sensitive (child (editor, "save_button"));
}

static PbAccountEditor *
new_editor (PbAccount *account)
{
  static const char * const taken[] = { "home", NULL };

  return PB_ACCOUNT_EDITOR (pb_account_editor_new (NULL, account, taken, NULL));
}

static void
fill_valid (PbAccountEditor *editor)
{
  type (editor, "name_entry", "work");
  type (editor, "host_entry", "pop.example.org");
  type (editor, "user_entry", "jane");
  type (editor, "password_entry", "hunter2");
}

static void
test_empty_cannot_be_saved (void)
{
  PbAccountEditor *editor = new_editor (NULL);

  g_assert_false (pb_account_editor_is_valid (editor));
  g_assert_false (save_sensitive (editor));
  g_assert_nonnull (strstr (pb_account_editor_get_validation_text (editor), "name"));
  gtk_widget_destroy (GTK_WIDGET (editor));
}

static gboolean
validation_looks_like_error (PbAccountEditor *editor)
{
  return gtk_style_context_has_class (gtk_widget_get_style_context (child (editor, "validation_label")),
                                      "pb-error");
}

/* A form just opened is empty, not wrong: what it needs is a hint, not a
 * red error, until the person starts filling it in. */
static void
test_fresh_form_hints_without_error (void)
{
  PbAccountEditor *editor = new_editor (NULL);

  g_assert_nonnull (strstr (pb_account_editor_get_validation_text (editor), "name"));
  g_assert_false (validation_looks_like_error (editor));
  type (editor, "name_entry", "my work");
  g_assert_true (validation_looks_like_error (editor));
  type (editor, "name_entry", "");
  g_assert_true (validation_looks_like_error (editor));
  gtk_widget_destroy (GTK_WIDGET (editor));
}

static void
test_complete_can_be_saved (void)
{
  PbAccountEditor *editor = new_editor (NULL);
  g_autoptr(PbAccount) account = NULL;
  g_autoptr(GError) error = NULL;

  fill_valid (editor);
  g_assert_true (pb_account_editor_is_valid (editor));
  g_assert_true (save_sensitive (editor));
  g_assert_cmpstr (pb_account_editor_get_validation_text (editor), ==, "");

  account = pb_account_editor_build_account (editor, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pb_account_get_name (account), ==, "work");
  g_assert_cmpstr (pb_account_get_host (account), ==, "pop.example.org");
  g_assert_cmpuint (pb_account_get_port (account), ==, 995);
  g_assert_cmpint (pb_account_get_security (account), ==, PB_POP3_SECURITY_TLS);
  g_assert_cmpint (pb_account_get_auth (account), ==, PB_POP3_AUTH_AUTO);
  g_assert_cmpstr (pb_account_editor_get_password (editor), ==, "hunter2");
  gtk_widget_destroy (GTK_WIDGET (editor));
}

static void
test_each_missing_field_is_named (void)
{
  static const struct { const char *entry; const char *word; } cases[] = {
    { "host_entry", "server" },
    { "user_entry", "user name" },
    { "password_entry", "password" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      PbAccountEditor *editor = new_editor (NULL);

      fill_valid (editor);
      type (editor, cases[i].entry, "");
      g_assert_false (save_sensitive (editor));
      g_assert_nonnull (strstr (pb_account_editor_get_validation_text (editor), cases[i].word));
      gtk_widget_destroy (GTK_WIDGET (editor));
    }
}

static void
test_bad_and_taken_names (void)
{
  PbAccountEditor *editor = new_editor (NULL);

  fill_valid (editor);
  type (editor, "name_entry", "my work");
  g_assert_false (save_sensitive (editor));
  g_assert_nonnull (strstr (pb_account_editor_get_validation_text (editor), "cannot be an account name"));

  type (editor, "name_entry", "home");
  g_assert_false (save_sensitive (editor));
  g_assert_nonnull (strstr (pb_account_editor_get_validation_text (editor), "already"));

  type (editor, "name_entry", "work");
  g_assert_true (save_sensitive (editor));
  gtk_widget_destroy (GTK_WIDGET (editor));
}

static void
test_port_follows_security (void)
{
  PbAccountEditor *editor = new_editor (NULL);
  GtkComboBox *security = GTK_COMBO_BOX (child (editor, "security_combo"));
  GtkSpinButton *port = GTK_SPIN_BUTTON (child (editor, "port_spin"));

  fill_valid (editor);
  g_assert_cmpint (gtk_spin_button_get_value_as_int (port), ==, 995);
  g_assert_false (gtk_widget_get_visible (child (editor, "security_warning")));

  gtk_combo_box_set_active_id (security, "none");
  g_assert_cmpint (gtk_spin_button_get_value_as_int (port), ==, 110);
  g_assert_true (gtk_widget_get_visible (child (editor, "security_warning")));

  gtk_combo_box_set_active_id (security, "tls");
  g_assert_cmpint (gtk_spin_button_get_value_as_int (port), ==, 995);

  /* A port the person chose stays. */
  gtk_spin_button_set_value (port, 1995);
  gtk_combo_box_set_active_id (security, "starttls");
  g_assert_cmpint (gtk_spin_button_get_value_as_int (port), ==, 1995);
  gtk_widget_destroy (GTK_WIDGET (editor));
}

static void
on_test_connection_record_port (PbAccountEditor *editor,
                                guint           *port)
{
  g_autoptr(PbAccount) account = pb_account_editor_build_account (editor, NULL);

  g_assert_nonnull (account);
  *port = pb_account_get_port (account);
}

/* A number typed into a spin button only becomes its value when the
 * button loses focus or Enter is pressed. Alt+T (Test Connection) or
 * Alt+S (Save) do neither: they must still use what the person typed. */
static void
test_typed_numbers_count_without_leaving_the_field (void)
{
  PbAccountEditor *editor = new_editor (NULL);
  g_autoptr(PbAccount) account = NULL;
  g_autoptr(GError) error = NULL;
  guint tested_port = 0;

  /* Shown: a button clicks once its pressed look has been drawn (and a
   * spin button rewrites its text from its value when realized). */
  gtk_widget_show (GTK_WIDGET (editor));
  gui_test_flush ();
  fill_valid (editor);
  gtk_entry_set_text (GTK_ENTRY (child (editor, "port_spin")), "2995");
  gtk_entry_set_text (GTK_ENTRY (child (editor, "interval_spin")), "25");
  g_signal_connect (editor, "test-connection", G_CALLBACK (on_test_connection_record_port),
                    &tested_port);
  g_assert_true (gtk_widget_mnemonic_activate (child (editor, "test_button"), FALSE));
  while (tested_port == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (tested_port, ==, 2995);

  gtk_entry_set_text (GTK_ENTRY (child (editor, "port_spin")), "3995");
  account = pb_account_editor_build_account (editor, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (pb_account_get_port (account), ==, 3995);
  g_assert_cmpuint (pb_account_get_interval (account), ==, 25);
  gtk_widget_destroy (GTK_WIDGET (editor));
}

static void
test_delete_after_download_warns (void)
{
  PbAccountEditor *editor = new_editor (NULL);

  g_assert_false (gtk_widget_get_visible (child (editor, "delete_warning")));
  gtk_toggle_button_set_active (GTK_TOGGLE_BUTTON (child (editor, "delete_check")), TRUE);
  g_assert_true (gtk_widget_get_visible (child (editor, "delete_warning")));
  gtk_widget_destroy (GTK_WIDGET (editor));
}

static void
test_edit_keeps_password_and_name (void)
{
  g_autoptr(PbAccount) account = pb_account_new ("home");
  g_autoptr(PbAccount) edited = NULL;
  g_autoptr(GError) error = NULL;
  PbAccountEditor *editor;

  pb_account_set_host (account, "pop.example.net");
  pb_account_set_user (account, "joe");
  pb_account_set_security (account, PB_POP3_SECURITY_STARTTLS);
  pb_account_set_port (account, 110);
  pb_account_set_interval (account, 25);
  editor = new_editor (account);

  /* The password is never shown; empty keeps the stored one. */
  g_assert_cmpstr (gtk_entry_get_text (GTK_ENTRY (child (editor, "password_entry"))), ==, "");
  g_assert_false (gtk_editable_get_editable (GTK_EDITABLE (child (editor, "name_entry"))));
  /* And it looks it, with the reason in its tooltip. */
  g_assert_false (gtk_widget_get_sensitive (child (editor, "name_entry")));
  g_assert_nonnull (strstr (gtk_widget_get_tooltip_text (child (editor, "name_entry")), "cannot be changed"));
  g_assert_true (save_sensitive (editor));

  type (editor, "host_entry", "pop2.example.net");
  edited = pb_account_editor_build_account (editor, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pb_account_get_name (edited), ==, "home");
  g_assert_cmpstr (pb_account_get_host (edited), ==, "pop2.example.net");
  g_assert_cmpint (pb_account_get_security (edited), ==, PB_POP3_SECURITY_STARTTLS);
  g_assert_cmpuint (pb_account_get_interval (edited), ==, 25);
  g_assert_cmpstr (pb_account_editor_get_password (editor), ==, "");
  gtk_widget_destroy (GTK_WIDGET (editor));
}

#define FINGERPRINT "f5859f8696129daff0260c519adab937fcddb88e0b39d82fc5c2a29b8252f20d"

/* What Test Connection reports for a self-signed server: the certificate is
 * described in full in the error, as the CLI prints it. */
static PbProbeReport *
untrusted_report (void)
{
  PbProbeReport *report = g_new0 (PbProbeReport, 1);

  report->connected = TRUE;
  report->tls_info = g_new0 (PbPop3TlsInfo, 1);
  report->tls_info->tls_version = g_strdup ("TLS 1.3");
  report->tls_info->subject = g_strdup ("CN=pop.example.org");
  report->tls_info->issuer = g_strdup ("O=Example tests,CN=Example Test CA");
  report->tls_info->not_after = g_date_time_new_utc (2036, 11, 24, 9, 36, 0);
  report->tls_info->sha256 = g_strdup (FINGERPRINT);
  report->tls_info->errors = G_TLS_CERTIFICATE_UNKNOWN_CA;
  report->capabilities = g_strsplit ("TOP UIDL RESP-CODES PIPELINING AUTH-RESP-CODE USER SASL PLAIN", " ", -1);
  report->error = g_error_new (PB_POP3_ERROR, PB_POP3_ERROR_CERTIFICATE,
                               "The server’s certificate was rejected. The certificate is not trusted: "
                               "it is not signed by an authority this computer trusts. Subject: "
                               "CN=pop.example.org; issuer: O=Example tests,CN=Example Test CA; valid "
                               "from 2026-11-27 09:36 UTC until 2036-11-24 09:36 UTC; SHA-256 "
                               "fingerprint: %s. If you know this certificate is the server’s, pin it "
                               "with this fingerprint.", FINGERPRINT);
  return report;
}

/* The summary under Test Connection: version, issuer, validity and an
 * abridged fingerprint in a few lines, not the whole certificate again. */
static void
test_test_result_is_compact (void)
{
  g_autoptr(PbProbeReport) report = untrusted_report ();
  g_autofree char *summary = pb_probe_report_summarize (report);
  g_autofree char *details = pb_probe_report_describe (report);
  g_auto(GStrv) lines = g_strsplit (summary, "\n", -1);

  g_test_message ("%s", summary);
  g_assert_cmpuint (g_strv_length (lines), <=, 5);
  g_assert_nonnull (strstr (summary, "TLS 1.3"));
  g_assert_nonnull (strstr (summary, "issued by Example Test CA"));
  g_assert_nonnull (strstr (summary, "2036"));
  g_assert_nonnull (strstr (summary, "F5:85:9F:86:96:12:9D:AF…"));
  g_assert_nonnull (strstr (summary, "not trusted"));
  g_assert_null (strstr (summary, FINGERPRINT));
  g_assert_null (strstr (summary, "Subject:"));
  for (guint i = 0; lines[i] != NULL; i++)
    g_assert_cmpuint (g_utf8_strlen (lines[i], -1), <=, 90);
  /* The details keep everything. */
  g_assert_nonnull (strstr (details, FINGERPRINT));
  g_assert_nonnull (strstr (details, "PIPELINING"));
}

/* However much a test found, the editor keeps a sane size: the details are
 * folded away, and unfolded they scroll. */
static void
on_probed (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  *(PbProbeReport **) user_data = pb_probe_finish (result, &error);
  g_assert_no_error (error);
}

/* Test Connection against a scripted server that logs in with USER/PASS
 * and answers STAT with two messages; the rest is the caller's. */
static PbFakeServer *
probe_server (void)
{
  PbFakeServer *server = pb_fake_server_new ();

  pb_fake_server_send (server, "+OK ready");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\n.");
  pb_fake_server_expect (server, "USER alice");
  pb_fake_server_send (server, "+OK");
  pb_fake_server_expect (server, "PASS secret");
  pb_fake_server_send (server, "+OK logged in");
  pb_fake_server_expect (server, "CAPA");
  pb_fake_server_send (server, "+OK\nUSER\n.");
  pb_fake_server_expect (server, "STAT");
  pb_fake_server_send (server, "+OK 2 300");
  return server;
}

static PbProbeReport *
probe (PbFakeServer *server)
{
  g_autoptr(PbAccount) account = pb_account_new ("fake");
  g_autofree char *problems = NULL;
  PbProbeReport *report = NULL;

  pb_account_set_host (account, "127.0.0.1");
  pb_account_set_port (account, pb_fake_server_get_port (server));
  pb_account_set_security (account, PB_POP3_SECURITY_NONE);
  pb_account_set_auth (account, PB_POP3_AUTH_USER);
  pb_account_set_user (account, "alice");
  pb_account_set_timeout (account, 10);
  pb_probe_async (account, "secret", NULL, on_probed, &report);
  while (report == NULL)
    g_main_context_iteration (NULL, TRUE);
  problems = pb_fake_server_wait (server);
  g_assert_cmpstr (problems, ==, NULL);
  return report;
}

/* "Everything works" must hold for the checks: Test Connection asks what
 * a check asks after STAT (UIDL, or LIST and the headers when UIDL is
 * refused). A server with neither UIDL nor TOP logs in and counts, and
 * still no check can work: the test says so. */
static void
test_test_connection_asks_what_a_check_asks (void)
{
  g_autoptr(PbFakeServer) bad = probe_server ();
  g_autoptr(PbFakeServer) good = probe_server ();
  g_autoptr(PbProbeReport) refused = NULL;
  g_autoptr(PbProbeReport) works = NULL;

  pb_fake_server_expect (bad, "UIDL");
  pb_fake_server_send (bad, "-ERR unknown command");
  pb_fake_server_expect (bad, "LIST");
  pb_fake_server_send (bad, "+OK\n1 100\n2 200\n.");
  pb_fake_server_expect (bad, "TOP 2 0");
  pb_fake_server_send (bad, "-ERR unknown command");
  refused = probe (bad);
  g_assert_true (refused->logged_in);
  g_assert_cmpuint (refused->count, ==, 2);
  g_assert_error (refused->error, PB_POP3_ERROR, PB_POP3_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (refused->error->message, "neither UIDL nor TOP"));

  pb_fake_server_expect (good, "UIDL");
  pb_fake_server_send (good, "+OK\n1 a\n2 b\n.");
  pb_fake_server_expect (good, "TOP 2 0");
  pb_fake_server_send (good, "+OK\nSubject: hi\n\n.");
  pb_fake_server_expect (good, "QUIT");
  pb_fake_server_send (good, "+OK bye");
  works = probe (good);
  g_assert_no_error (works->error);
  g_assert_true (works->logged_in);
}

static void
test_test_details_keep_dialog_size (void)
{
  g_autoptr(PbProbeReport) report = untrusted_report ();
  g_autofree char *summary = pb_probe_report_summarize (report);
  g_autoptr(GString) details = g_string_new (NULL);
  PbAccountEditor *editor = new_editor (NULL);
  GtkWidget *expander = child (editor, "test_details_expander");
  int before, folded, unfolded, width;

  fill_valid (editor);
  gtk_widget_show (GTK_WIDGET (editor));
  gui_test_flush ();
  gtk_widget_get_preferred_height (GTK_WIDGET (editor), NULL, &before);
  g_assert_false (gtk_widget_get_visible (expander));

  for (guint i = 0; i < 40; i++)
    g_string_append_printf (details, "%s\n", report->error->message);
  pb_account_editor_set_test_result (editor, summary, FALSE);
  pb_account_editor_set_test_details (editor, details->str);
  gui_test_flush ();
  g_assert_true (gtk_widget_get_visible (expander));
  g_assert_false (gtk_expander_get_expanded (GTK_EXPANDER (expander)));
  gtk_widget_get_preferred_height (GTK_WIDGET (editor), NULL, &folded);
  gtk_widget_get_preferred_width (GTK_WIDGET (editor), NULL, &width);
  g_test_message ("natural height %d before, %d with the result; width %d", before, folded, width);
  g_assert_cmpint (folded - before, <, 160);
  g_assert_cmpint (width, <, 900);

  gtk_expander_set_expanded (GTK_EXPANDER (expander), TRUE);
  gui_test_flush ();
  gtk_widget_get_preferred_height (GTK_WIDGET (editor), NULL, &unfolded);
  g_test_message ("natural height %d unfolded", unfolded);
  g_assert_cmpint (unfolded - folded, <, 220);

  /* A new test starts without the old details. */
  pb_account_editor_set_test_result (editor, "Connecting…", TRUE);
  g_assert_false (gtk_widget_get_visible (expander));
  gtk_widget_destroy (GTK_WIDGET (editor));
}

int
main (int    argc,
      char **argv)
{
  gui_test_init (&argc, &argv);

  g_test_add_func ("/app/editor/empty-cannot-be-saved", test_empty_cannot_be_saved);
  g_test_add_func ("/app/editor/fresh-form-hints-without-error", test_fresh_form_hints_without_error);
  g_test_add_func ("/app/editor/complete-can-be-saved", test_complete_can_be_saved);
  g_test_add_func ("/app/editor/each-missing-field-is-named", test_each_missing_field_is_named);
  g_test_add_func ("/app/editor/bad-and-taken-names", test_bad_and_taken_names);
  g_test_add_func ("/app/editor/port-follows-security", test_port_follows_security);
  g_test_add_func ("/app/editor/typed-numbers-count-without-leaving-the-field",
                   test_typed_numbers_count_without_leaving_the_field);
  g_test_add_func ("/app/editor/delete-after-download-warns", test_delete_after_download_warns);
  g_test_add_func ("/app/editor/edit-keeps-password-and-name", test_edit_keeps_password_and_name);
  g_test_add_func ("/app/editor/test-result-is-compact", test_test_result_is_compact);
  g_test_add_func ("/app/editor/test-connection-asks-what-a-check-asks",
                   test_test_connection_asks_what_a_check_asks);
  g_test_add_func ("/app/editor/test-details-keep-dialog-size", test_test_details_keep_dialog_size);

  return g_test_run ();
}

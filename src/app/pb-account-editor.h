/* pb-account-editor.h: the dialog to add or edit an account.
 *
 * Validates as the person types (pb_account_validate) and keeps Save
 * insensitive until the account is valid. The password is written to the
 * keyring by the application, never shown again: editing an account leaves
 * the field empty, and empty means "keep the stored one". */
#pragma once

#include <gtk/gtk.h>

#include "core/pb-account.h"

G_BEGIN_DECLS

#define PB_TYPE_ACCOUNT_EDITOR (pb_account_editor_get_type ())
G_DECLARE_FINAL_TYPE (PbAccountEditor, pb_account_editor, PB, ACCOUNT_EDITOR, GtkDialog)

/* @account NULL: a new account, with defaults from @settings (may be NULL).
 * @taken_names: names a new account may not use. */
GtkWidget  *pb_account_editor_new                (GtkWindow          *parent,
                                                  PbAccount          *account,
                                                  const char * const *taken_names,
                                                  GSettings          *settings);
gboolean    pb_account_editor_is_new             (PbAccountEditor *self);
/* The account the fields describe, or NULL with the reason. */
PbAccount  *pb_account_editor_build_account      (PbAccountEditor *self, GError **error);
/* The password typed, "" when left empty (keep the stored one). */
const char *pb_account_editor_get_password       (PbAccountEditor *self);
gboolean    pb_account_editor_is_valid           (PbAccountEditor *self);
/* What is wrong, in words; "" when valid. */
const char *pb_account_editor_get_validation_text (PbAccountEditor *self);
/* The probe's findings (or progress) under Test Connection: a few short
 * lines. Starting a test (@running) clears the details. */
void        pb_account_editor_set_test_result    (PbAccountEditor *self,
                                                  const char      *text,
                                                  gboolean         running);
/* Everything the test found, in a folded, scrolled "Details" area (hidden
 * when NULL or empty). */
void        pb_account_editor_set_test_details   (PbAccountEditor *self,
                                                  const char      *details);

/* Signals: "test-connection" when Test Connection is clicked (the
 * application runs the probe and calls set_test_result). */

G_END_DECLS
G_BEGIN_DECLS
/* A certificate the person chose to trust while testing; saved with the
 * account. */
void        pb_account_editor_set_pin_sha256     (PbAccountEditor *self, const char *sha256);
G_END_DECLS

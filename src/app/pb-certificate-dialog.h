/* pb-certificate-dialog.h: "Do you trust this server's certificate?"
 *
 * Shows who the certificate names (subject), who vouched for it (issuer),
 * when it is valid, its SHA-256 fingerprint and what verification found.
 * GTK_RESPONSE_ACCEPT ("Trust This Certificate") means: pin this
 * fingerprint for the account. A certificate that replaces a pinned one is
 * shown as a warning, with the old fingerprint next to the new one. */
#pragma once

#include <gtk/gtk.h>

#include "pop3/pb-pop3-client.h"

G_BEGIN_DECLS

#define PB_TYPE_CERTIFICATE_DIALOG (pb_certificate_dialog_get_type ())
G_DECLARE_FINAL_TYPE (PbCertificateDialog, pb_certificate_dialog, PB, CERTIFICATE_DIALOG, GtkDialog)

/* @pinned_sha256: the fingerprint the account trusts now, or NULL. */
GtkWidget  *pb_certificate_dialog_new         (GtkWindow           *parent,
                                               const char          *account_name,
                                               const PbPop3TlsInfo *info,
                                               const char          *pinned_sha256);
const char *pb_certificate_dialog_get_sha256  (PbCertificateDialog *self);
/* Why the certificate is not trusted, in words. Newly allocated. */
char       *pb_certificate_describe_flags     (GTlsCertificateFlags flags);
/* "AB:CD:…" in groups for reading aloud. Newly allocated. */
char       *pb_certificate_format_fingerprint (const char *hex);

G_END_DECLS

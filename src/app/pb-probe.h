/* pb-probe.h: "Test Connection" and "Review" (certificate): one short
 * session that reports what it found rather than failing at the first
 * problem: TLS version and certificate, capabilities, whether the login
 * worked, how many messages wait. Async; never touches the state. */
#pragma once

#include <gio/gio.h>

#include "core/pb-account.h"

G_BEGIN_DECLS

typedef struct {
  gboolean        connected;
  PbPop3TlsInfo  *tls_info;       /* NULL without TLS */
  GStrv           capabilities;   /* as the server listed them */
  gboolean        tried_login;
  gboolean        logged_in;
  char           *mechanism;      /* how we logged in, e.g. "SCRAM-SHA-256" */
  guint           count;          /* messages waiting (after login) */
  guint64         size;
  GError         *error;          /* the first failure, or NULL */
} PbProbeReport;

void           pb_probe_report_free     (PbProbeReport *report);
/* A few short lines for a person: encryption, the certificate's issuer,
 * validity and fingerprint (abridged), whether the login worked and how
 * many messages wait, the problem in a sentence. */
char          *pb_probe_report_summarize (const PbProbeReport *report);
/* Everything, over several lines: the certificate's subject, the server's
 * capabilities, the full error message. */
char          *pb_probe_report_describe (const PbProbeReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PbProbeReport, pb_probe_report_free)

/* @password: NULL looks it up in the keyring; "" connects without logging
 * in (certificate review). */
void           pb_probe_async  (PbAccount           *account,
                                const char          *password,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data);
/* Never fails but when cancelled: a failure is the report's error. */
PbProbeReport *pb_probe_finish (GAsyncResult *result, GError **error);

G_END_DECLS

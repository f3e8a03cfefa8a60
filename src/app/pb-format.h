/* pb-format.h: times and counts written for people. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A message date in the list: "14:05" today, "Mon 14:05" this week,
 * "27 Nov" this year, "27 Nov 2025" before; "" when unknown (0). @now is
 * the Unix time to compare with. */
char *pb_format_message_date (gint64 date, gint64 now);

/* When an account was last checked: "Not checked yet", "Checked just now",
 * "Checked 5 minutes ago", "Checked at 14:05", "Checked on 27 Nov". */
char *pb_format_last_check   (gint64 when, gint64 now);

/* "3 new of 120", "No new mail (120 in total)", "" when never checked. */
char *pb_format_counts       (guint new_count, gint total);

G_END_DECLS

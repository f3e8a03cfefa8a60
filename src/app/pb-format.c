/* pb-format.c: times and counts written for people. */
#include <glib/gi18n.h>

#include "pb-format.h"

static gboolean
same_day (GDateTime *a,
          GDateTime *b)
{
  return g_date_time_get_year (a) == g_date_time_get_year (b) &&
         g_date_time_get_day_of_year (a) == g_date_time_get_day_of_year (b);
}

char *
pb_format_message_date (gint64 date,
                        gint64 now)
{
  g_autoptr(GDateTime) then = NULL;
  g_autoptr(GDateTime) today = NULL;

  if (date <= 0)
    return g_strdup ("");

  then = g_date_time_new_from_unix_local (date);
  today = g_date_time_new_from_unix_local (now);
  if (then == NULL || today == NULL)
    return g_strdup ("");

  if (same_day (then, today))
    /* Translators: a message date today, see strftime(3) */
    return g_date_time_format (then, _("%H:%M"));
  if (date < now && now - date < 6 * 24 * 3600)
    /* Translators: a message date this week: weekday and time */
    return g_date_time_format (then, _("%a %H:%M"));
  if (g_date_time_get_year (then) == g_date_time_get_year (today))
    /* Translators: a message date this year: day and month */
    return g_date_time_format (then, _("%e %b"));
  /* Translators: a message date in another year */
  return g_date_time_format (then, _("%e %b %Y"));
}

char *
pb_format_last_check (gint64 when,
                      gint64 now)
{
  g_autoptr(GDateTime) then = NULL;
  g_autoptr(GDateTime) today = NULL;
  g_autofree char *time = NULL;
  gint64 ago = now - when;

  if (when <= 0)
    return g_strdup (_("Not checked yet"));
  if (ago < 60)
    return g_strdup (_("Checked just now"));
  if (ago < 3600)
    {
      guint minutes = (guint) (ago / 60);

      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Checked %u minute ago",
                                           "Checked %u minutes ago", minutes), minutes);
    }

  then = g_date_time_new_from_unix_local (when);
  today = g_date_time_new_from_unix_local (now);
  if (same_day (then, today))
    {
      /* Translators: a time of day, see strftime(3) */
      time = g_date_time_format (then, _("%H:%M"));
      /* Translators: %s is a time of day such as 14:05 */
      return g_strdup_printf (_("Checked at %s"), time);
    }
  /* Translators: a day, see strftime(3) */
  time = g_date_time_format (then, _("%e %b"));
  /* Translators: %s is a day such as "27 Nov" */
  return g_strdup_printf (_("Checked on %s"), g_strstrip (time));
}

char *
pb_format_counts (guint new_count,
                  gint  total)
{
  if (total < 0)
    return g_strdup ("");
  if (new_count == 0)
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "No new mail (%d message on the server)",
                                         "No new mail (%d messages on the server)", total), total);
  /* Translators: "3 new of 120" (messages on the server) */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u new of %d", "%u new of %d", new_count),
                          new_count, total);
}

#include "pb-check-result.h"

#include <string.h>

struct _PbCheckResult
{
  GObject     parent_instance;

  char       *account_name;
  GError     *error;          /* NULL when the check completed */
  GError     *state_error;    /* what loading the state said, or NULL */
  guint       total;
  guint64     size;
  guint       new_count;
  GPtrArray  *new_messages;   /* (element-type PbMessageRecord), owned copies */
  GPtrArray  *announced;      /* (element-type PbMessageRecord), owned copies */
  gboolean    summary_only;
  gint        login_delay;
  gint        retry_after;
  guint       unsummarized;
  gint64      duration;
};

G_DEFINE_FINAL_TYPE (PbCheckResult, pb_check_result, G_TYPE_OBJECT)

/* Appends @text (or nothing, for NULL) at @cursor and returns where it
 * was put. */
static char *
pack_string (char       **cursor,
             const char  *text)
{
  char *start = *cursor;
  gsize size;

  if (text == NULL)
    return NULL;
  size = strlen (text) + 1;
  memcpy (start, text, size);
  *cursor += size;
  return start;
}

static gsize
packed_size (const char *text)
{
  return text != NULL ? strlen (text) + 1 : 0;
}

/* One allocation holds the record and its strings: a first check copies
 * thousands of records into its result, and six mallocs each were a tenth
 * of the CPU time of a whole `popbiff check`. Records in a result are never
 * changed in place, so nothing needs to free one string alone. */
PbMessageRecord *
pb_check_result_copy_record (const PbMessageRecord *record)
{
  PbMessageRecord *copy;
  char *cursor;

  g_return_val_if_fail (record != NULL, NULL);

  copy = g_malloc (sizeof (PbMessageRecord) +
                   packed_size (record->uidl) +
                   packed_size (record->from_name) +
                   packed_size (record->from_address) +
                   packed_size (record->subject) +
                   packed_size (record->path));
  *copy = *record;
  cursor = (char *) (copy + 1);
  copy->uidl = pack_string (&cursor, record->uidl);
  copy->from_name = pack_string (&cursor, record->from_name);
  copy->from_address = pack_string (&cursor, record->from_address);
  copy->subject = pack_string (&cursor, record->subject);
  copy->path = pack_string (&cursor, record->path);
  return copy;
}

void
pb_check_result_free_record (PbMessageRecord *record)
{
  g_free (record);
}

static void
pb_check_result_finalize (GObject *object)
{
  PbCheckResult *self = PB_CHECK_RESULT (object);

  g_free (self->account_name);
  g_clear_error (&self->error);
  g_clear_error (&self->state_error);
  g_ptr_array_unref (self->new_messages);
  g_ptr_array_unref (self->announced);

  G_OBJECT_CLASS (pb_check_result_parent_class)->finalize (object);
}

static void
pb_check_result_class_init (PbCheckResultClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = pb_check_result_finalize;
}

static void
pb_check_result_init (PbCheckResult *self)
{
  self->new_messages = g_ptr_array_new_with_free_func ((GDestroyNotify) pb_check_result_free_record);
  self->announced = g_ptr_array_new_with_free_func ((GDestroyNotify) pb_check_result_free_record);
  self->login_delay = -1;
  self->retry_after = -1;
}

PbCheckResult *
pb_check_result_new (const char *account_name)
{
  PbCheckResult *self;

  g_return_val_if_fail (account_name != NULL, NULL);

  self = g_object_new (PB_TYPE_CHECK_RESULT, NULL);
  self->account_name = g_strdup (account_name);
  return self;
}

const char *
pb_check_result_get_account_name (PbCheckResult *self)
{
  g_return_val_if_fail (PB_IS_CHECK_RESULT (self), NULL);
  return self->account_name;
}

gboolean
pb_check_result_get_ok (PbCheckResult *self)
{
  g_return_val_if_fail (PB_IS_CHECK_RESULT (self), FALSE);
  return self->error == NULL;
}

const GError *
pb_check_result_get_error (PbCheckResult *self)
{
  g_return_val_if_fail (PB_IS_CHECK_RESULT (self), NULL);
  return self->error;
}

void
pb_check_result_take_error (PbCheckResult *self,
                            GError        *error)
{
  g_return_if_fail (PB_IS_CHECK_RESULT (self));
  g_return_if_fail (error != NULL);

  g_clear_error (&self->error);
  self->error = error;
}

const GError *
pb_check_result_get_state_error (PbCheckResult *self)
{
  g_return_val_if_fail (PB_IS_CHECK_RESULT (self), NULL);
  return self->state_error;
}

void
pb_check_result_take_state_error (PbCheckResult *self,
                                  GError        *error)
{
  g_return_if_fail (PB_IS_CHECK_RESULT (self));
  g_clear_error (&self->state_error);
  self->state_error = error;
}

guint
pb_check_result_get_total (PbCheckResult *self)
{
  g_return_val_if_fail (PB_IS_CHECK_RESULT (self), 0);
  return self->total;
}

guint64
pb_check_result_get_size (PbCheckResult *self)
{
  g_return_val_if_fail (PB_IS_CHECK_RESULT (self), 0);
  return self->size;
}

guint
pb_check_result_get_new_count (PbCheckResult *self)
{
  g_return_val_if_fail (PB_IS_CHECK_RESULT (self), 0);
  return self->new_count;
}

void
pb_check_result_set_counts (PbCheckResult *self,
                            guint          total,
                            guint64        size,
                            guint          new_count)
{
  g_return_if_fail (PB_IS_CHECK_RESULT (self));

  self->total = total;
  self->size = size;
  self->new_count = new_count;
}

GPtrArray *
pb_check_result_get_new_messages (PbCheckResult *self)
{
  g_return_val_if_fail (PB_IS_CHECK_RESULT (self), NULL);
  return self->new_messages;
}

void
pb_check_result_add_new_message (PbCheckResult         *self,
                                 const PbMessageRecord *record)
{
  g_return_if_fail (PB_IS_CHECK_RESULT (self));
  g_ptr_array_add (self->new_messages, pb_check_result_copy_record (record));
}

GPtrArray *
pb_check_result_get_announced (PbCheckResult *self)
{
  g_return_val_if_fail (PB_IS_CHECK_RESULT (self), NULL);
  return self->announced;
}

void
pb_check_result_add_announced (PbCheckResult         *self,
                               const PbMessageRecord *record)
{
  g_return_if_fail (PB_IS_CHECK_RESULT (self));
  g_ptr_array_add (self->announced, pb_check_result_copy_record (record));
}

gboolean
pb_check_result_get_summary_only (PbCheckResult *self)
{
  g_return_val_if_fail (PB_IS_CHECK_RESULT (self), FALSE);
  return self->summary_only;
}

void
pb_check_result_set_summary_only (PbCheckResult *self,
                                  gboolean       summary_only)
{
  g_return_if_fail (PB_IS_CHECK_RESULT (self));
  self->summary_only = !!summary_only;
}

gint
pb_check_result_get_login_delay (PbCheckResult *self)
{
  g_return_val_if_fail (PB_IS_CHECK_RESULT (self), -1);
  return self->login_delay;
}

void
pb_check_result_set_login_delay (PbCheckResult *self,
                                 gint           seconds)
{
  g_return_if_fail (PB_IS_CHECK_RESULT (self));
  self->login_delay = seconds;
}

gint
pb_check_result_get_retry_after (PbCheckResult *self)
{
  g_return_val_if_fail (PB_IS_CHECK_RESULT (self), -1);
  return self->retry_after;
}

void
pb_check_result_set_retry_after (PbCheckResult *self,
                                 gint           seconds)
{
  g_return_if_fail (PB_IS_CHECK_RESULT (self));
  self->retry_after = seconds;
}

guint
pb_check_result_get_unsummarized (PbCheckResult *self)
{
  g_return_val_if_fail (PB_IS_CHECK_RESULT (self), 0);
  return self->unsummarized;
}

void
pb_check_result_set_unsummarized (PbCheckResult *self,
                                  guint          count)
{
  g_return_if_fail (PB_IS_CHECK_RESULT (self));
  self->unsummarized = count;
}

gint64
pb_check_result_get_duration (PbCheckResult *self)
{
  g_return_val_if_fail (PB_IS_CHECK_RESULT (self), 0);
  return self->duration;
}

void
pb_check_result_set_duration (PbCheckResult *self,
                              gint64         usec)
{
  g_return_if_fail (PB_IS_CHECK_RESULT (self));
  self->duration = usec;
}

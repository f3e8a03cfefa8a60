/* pb-write-lock.c: see pb-write-lock.h. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "pb-write-lock.h"

int
pb_write_lock_take (const char *lock_path,
                    guint       wait_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) wait_ms * G_TIME_SPAN_MILLISECOND;
  gulong pause_us = 1000;
  int fd;

  g_return_val_if_fail (lock_path != NULL, -1);

  fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    return -1;
  while (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int saved_errno = errno;

      if (saved_errno == EINTR)
        continue;
      if (saved_errno == EWOULDBLOCK && g_get_monotonic_time () >= deadline)
        saved_errno = ETIMEDOUT;
      if (saved_errno != EWOULDBLOCK)
        {
          close (fd);
          errno = saved_errno;
          return -1;
        }
      /* Saves hold it for milliseconds: start short, back off to 50 ms. */
      g_usleep (pause_us);
      pause_us = MIN (pause_us * 2, 50000);
    }
  return fd;
}

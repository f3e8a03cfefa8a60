/* minimal-pop3: the yardstick for the engine's RETR speed. A plain blocking
 * client, as small as a POP3 client can be while still doing the work a
 * real one must: log in, pipeline commands with a bounded window, find each
 * response's end, unstuff dots and turn CRLF into LF, and write the result
 * somewhere (/dev/null). Plaintext or implicit TLS (GnuTLS, verified
 * against a CA file).
 *
 *   PB_PASSWORD=... minimal-pop3 PORT stat-uidl|retr-all [CA_FILE]
 *
 * The host is always 127.0.0.1; with CA_FILE the port speaks implicit TLS.
 * The password comes from the environment, never argv. Prints one line of
 * counts on success. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/gnutls.h>

#define WINDOW 64  /* commands in flight; small enough that writes never block */

static int fd = -1;
static gnutls_session_t tls;
static char buf[1 << 16];
static size_t buf_start, buf_end;

static void
die (const char *fmt, ...)
{
  va_list ap;

  va_start (ap, fmt);
  fputs ("minimal-pop3: ", stderr);
  vfprintf (stderr, fmt, ap);
  fputc ('\n', stderr);
  va_end (ap);
  exit (1);
}

static void
send_all (const char *data, size_t len)
{
  while (len > 0)
    {
      ssize_t n = tls ? gnutls_record_send (tls, data, len) : write (fd, data, len);

      if (n < 0 && (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED || errno == EINTR))
        continue;
      if (n <= 0)
        die ("write failed");
      data += n;
      len -= (size_t) n;
    }
}

static void
fill (void)
{
  ssize_t n;

  if (buf_start > 0)
    {
      memmove (buf, buf + buf_start, buf_end - buf_start);
      buf_end -= buf_start;
      buf_start = 0;
    }
  if (buf_end == sizeof buf)
    die ("line longer than %zu octets", sizeof buf);
  do
    n = tls ? gnutls_record_recv (tls, buf + buf_end, sizeof buf - buf_end)
            : read (fd, buf + buf_end, sizeof buf - buf_end);
  while (n < 0 && (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED || errno == EINTR));
  if (n <= 0)
    die ("connection closed");
  buf_end += (size_t) n;
}

/* The next line without its CRLF (or LF), valid until the next call. */
static char *
read_line (size_t *len)
{
  char *nl;

  while ((nl = memchr (buf + buf_start, '\n', buf_end - buf_start)) == NULL)
    fill ();
  {
    char *line = buf + buf_start;
    size_t l = (size_t) (nl - line);

    buf_start += l + 1;
    if (l > 0 && line[l - 1] == '\r')
      l--;
    line[l] = '\0';
    *len = l;
    return line;
  }
}

static void
expect_ok (const char *what)
{
  size_t len;
  char *line = read_line (&len);

  if (strncmp (line, "+OK", 3) != 0)
    die ("%s: %s", what, line);
}

static void
command (const char *cmd)
{
  char line[1100];
  int n = snprintf (line, sizeof line, "%s\r\n", cmd);

  send_all (line, (size_t) n);
}

/* Reads a multi-line body to its "." line, unstuffed, LF line ends, into
 * @out (may be NULL). Returns the octets written. */
static unsigned long long
read_body (FILE *out)
{
  unsigned long long total = 0;

  for (;;)
    {
      size_t len;
      char *line = read_line (&len);

      if (line[0] == '.')
        {
          if (len == 1)
            return total;
          line++;
          len--;
        }
      line[len] = '\n';
      if (out != NULL && fwrite (line, 1, len + 1, out) != len + 1)
        die ("write to the output failed");
      total += len + 1;
    }
}

static void
connect_to (int port, const char *ca_file)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons ((uint16_t) port) };
  int one = 1;

  addr.sin_addr.s_addr = htonl (INADDR_LOOPBACK);
  fd = socket (AF_INET, SOCK_STREAM, 0);
  if (fd < 0 || connect (fd, (struct sockaddr *) &addr, sizeof addr) != 0)
    die ("cannot connect to 127.0.0.1:%d: %s", port, strerror (errno));
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  if (ca_file != NULL)
    {
      gnutls_certificate_credentials_t creds;
      int ret;

      gnutls_certificate_allocate_credentials (&creds);
      if (gnutls_certificate_set_x509_trust_file (creds, ca_file, GNUTLS_X509_FMT_PEM) <= 0)
        die ("cannot read CA file %s", ca_file);
      gnutls_init (&tls, GNUTLS_CLIENT);
      gnutls_set_default_priority (tls);
      gnutls_credentials_set (tls, GNUTLS_CRD_CERTIFICATE, creds);
      gnutls_session_set_verify_cert (tls, "127.0.0.1", 0);
      gnutls_transport_set_int (tls, fd);
      do
        ret = gnutls_handshake (tls);
      while (ret < 0 && gnutls_error_is_fatal (ret) == 0);
      if (ret < 0)
        die ("TLS handshake failed: %s", gnutls_strerror (ret));
    }
}

int
main (int argc, char *argv[])
{
  const char *password = getenv ("PB_PASSWORD");
  const char *user = getenv ("PB_USER") ? getenv ("PB_USER") : "alice";
  char cmd[WINDOW * 20];
  unsigned count = 0;
  unsigned long long octets = 0;
  size_t len;
  char *line;

  if (argc < 3 || password == NULL)
    die ("usage: PB_PASSWORD=... minimal-pop3 PORT stat-uidl|retr-all [CA_FILE]");
  connect_to (atoi (argv[1]), argc > 3 ? argv[3] : NULL);

  expect_ok ("greeting");
  snprintf (cmd, sizeof cmd, "USER %s", user);
  command (cmd);
  expect_ok ("USER");
  snprintf (cmd, sizeof cmd, "PASS %s", password);
  command (cmd);
  expect_ok ("PASS");

  command ("STAT");
  line = read_line (&len);
  if (sscanf (line, "+OK %u %llu", &count, &octets) != 2)
    die ("STAT: %s", line);

  if (strcmp (argv[2], "stat-uidl") == 0)
    {
      unsigned long long listed;

      command ("UIDL");
      expect_ok ("UIDL");
      listed = read_body (NULL);
      printf ("messages %u octets %llu uidl-octets %llu\n", count, octets, listed);
    }
  else if (strcmp (argv[2], "retr-all") == 0)
    {
      FILE *out = fopen ("/dev/null", "w");
      unsigned sent = 0, done = 0;
      unsigned long long total = 0;

      if (out == NULL)
        die ("cannot open /dev/null");
      /* Keep up to WINDOW commands in flight (RFC 2449 PIPELINING). */
      while (done < count)
        {
          /* Top up in batches: one write (one TLS record) per batch. */
          if (sent < count && sent - done <= WINDOW / 2)
            {
              size_t n = 0;

              while (sent < count && sent - done < WINDOW)
                n += (size_t) snprintf (cmd + n, sizeof cmd - n, "RETR %u\r\n", ++sent);
              send_all (cmd, n);
            }
          expect_ok ("RETR");
          total += read_body (out);
          done++;
        }
      fclose (out);
      printf ("messages %u retrieved-octets %llu\n", count, total);
    }
  else
    die ("unknown mode %s", argv[2]);

  command ("QUIT");
  expect_ok ("QUIT");
  if (tls)
    gnutls_bye (tls, GNUTLS_SHUT_WR);
  close (fd);
  return 0;
}

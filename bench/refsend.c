/*
 * refsend.c: the reference client of the 100 MB row (built by bench/run).
 *
 *   refsend HOST PORT FROM PREPARED_FILE RCPT...
 *
 * Sends a message whose transmission form was prepared before timing
 * (CRLF line ends, dot-stuffed, ending in "\r\n.\r\n"): greeting, EHLO,
 * then MAIL, RCPT... and DATA in one write (the server must offer
 * PIPELINING), the file by sendfile(2), QUIT.  It does nothing else, so it
 * is as fast as the link and the receiver allow: the limit that carrier,
 * curl and msmtp are measured against.  Exit status 0 when the message was
 * accepted, 1 otherwise (with a line on stderr).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static char rbuf[65536];
static size_t rlen;

static void
die(const char *what)
{
	fprintf(stderr, "refsend: %s%s%s\n", what, errno ? ": " : "",
	    errno ? strerror(errno) : "");
	exit(1);
}

/* One reply (its last line); its code. */
static int
reply(int s)
{
	for (;;) {
		char *nl;
		while ((nl = memchr(rbuf, '\n', rlen)) != NULL) {
			size_t n = (size_t)(nl - rbuf) + 1;
			int last = n >= 4 && rbuf[3] != '-';
			int code = atoi(rbuf);
			memmove(rbuf, rbuf + n, rlen - n);
			rlen -= n;
			if (last)
				return code;
		}
		ssize_t got = read(s, rbuf + rlen, sizeof rbuf - rlen);
		if (got <= 0) {
			errno = got < 0 ? errno : 0;
			die("reading a reply");
		}
		rlen += (size_t)got;
	}
}

static void
say(int s, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(s, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			die("write");
		p += w;
		n -= (size_t)w;
	}
}

int
main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: refsend HOST PORT FROM FILE RCPT...\n");
		return 2;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET,
	    .sin_port = htons((unsigned short)atoi(argv[2])) };
	if (inet_pton(AF_INET, argv[1], &sa.sin_addr) != 1)
		die("HOST must be an IPv4 address");
	int fd = open(argv[4], O_RDONLY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		die(argv[4]);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("connect");
	if (reply(s) != 220)
		die("greeting");
	say(s, "EHLO refsend.example.test\r\n", 27);
	if (reply(s) != 250)
		die("EHLO");

	/* MAIL, RCPT..., DATA in one write. */
	size_t cap = 64 + strlen(argv[3]), len = 0;
	for (int i = 5; i < argc; i++)
		cap += strlen(argv[i]) + 16;
	char *cmd = malloc(cap);
	if (cmd == NULL)
		die("malloc");
	len += (size_t)sprintf(cmd + len, "MAIL FROM:<%s>\r\n", argv[3]);
	for (int i = 5; i < argc; i++)
		len += (size_t)sprintf(cmd + len, "RCPT TO:<%s>\r\n", argv[i]);
	len += (size_t)sprintf(cmd + len, "DATA\r\n");
	say(s, cmd, len);
	free(cmd);
	for (int i = 4; i < argc; i++)
		if (reply(s) / 100 != 2)
			die("MAIL or RCPT refused");
	if (reply(s) != 354)
		die("DATA refused");

	off_t off = 0;
	while (off < st.st_size) {
		ssize_t n = sendfile(s, fd, &off, (size_t)(st.st_size - off));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("sendfile");
	}
	if (reply(s) / 100 != 2)
		die("message refused");
	say(s, "QUIT\r\n", 6);
	(void)reply(s);
	return 0;
}

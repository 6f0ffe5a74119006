// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsd's log (log.h): syslog(3)'s datagrams, held for the end of a pass.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct cpnsd_log_line {
	size_t len;		/* without the NUL */
	char buf[CPNSD_LOG_LINE_MAX];
};

static struct {
	char ident[64];
	int options;
	int facility;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	int fd;			/* -1: not connected */
	int type;		/* SOCK_DGRAM, or SOCK_STREAM for an old logger */
	bool hold;
	int pid;
	time_t stamp_t;		/* the second of stamp; -1: none */
	char stamp[32];		/* "Mmm dd hh:mm:ss " */
	unsigned int n;		/* lines held, in log_line */
} lg = {
	.ident = "cpnsd",
	.facility = LOG_USER,
	.path = "/dev/log",
	.fd = -1,
	.stamp_t = -1,
};

static struct cpnsd_log_line log_line[CPNSD_LOG_HELD];

static void log_disconnect(void)
{
	if (lg.fd >= 0)
		close(lg.fd);
	lg.fd = -1;
}

/* syslog(3) tries a datagram socket, then a stream one for old loggers. */
static bool log_connect(void)
{
	static const int types[] = { SOCK_DGRAM, SOCK_STREAM };
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	unsigned int i;

	if (lg.fd >= 0)
		return true;
	memcpy(sun.sun_path, lg.path, sizeof(lg.path));
	for (i = 0; i < 2; i++) {
		lg.fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);
		if (lg.fd < 0)
			return false;
		if (!connect(lg.fd, (struct sockaddr *)&sun, sizeof(sun))) {
			lg.type = types[i];
			return true;
		}
		log_disconnect();
		if (errno != EPROTOTYPE)
			return false;
	}
	return false;
}

/* Lines [from, n) to a connected logger: how many it took, or -1. */
static int log_send_some(unsigned int from, unsigned int n)
{
	struct mmsghdr msg[CPNSD_LOG_HELD];
	struct iovec iov[CPNSD_LOG_HELD];
	bool stream = lg.type == SOCK_STREAM;
	unsigned int i;
	ssize_t r;

	memset(msg, 0, sizeof(msg));
	for (i = from; i < n; i++) {
		/* a stream logger reads up to each line's NUL */
		iov[i].iov_base = log_line[i].buf;
		iov[i].iov_len = log_line[i].len + stream;
		msg[i].msg_hdr.msg_iov = &iov[i];
		msg[i].msg_hdr.msg_iovlen = 1;
	}
	if (!stream)
		return sendmmsg(lg.fd, msg + from, n - from, MSG_NOSIGNAL);
	/* a line cut short would run into the next: all or nothing */
	r = send(lg.fd, iov[from].iov_base, iov[from].iov_len, MSG_NOSIGNAL);
	if (r < 0)
		return -1;
	if ((size_t)r != iov[from].iov_len) {
		errno = EPIPE;
		return -1;
	}
	return 1;
}

/* Sends lines [0, n); those the logger does not take are dropped. */
static void log_send(unsigned int n)
{
	unsigned int done = 0;
	bool again = true;
	int r;

	while (done < n) {
		if (!log_connect())
			return;
		r = log_send_some(done, n);
		if (r > 0) {
			done += (unsigned int)r;
			continue;
		}
		if (r < 0 && errno == EINTR)
			continue;
		/* the logger went away (restarted): connect once more */
		log_disconnect();
		if (!again)
			return;
		again = false;
	}
}

static void log_send_held(void)
{
	unsigned int n = lg.n;

	lg.n = 0;
	if (n)
		log_send(n);
}

/*
 * "Mmm dd hh:mm:ss " of @t in local time: syslog(3)'s "%h %e %T " (cpnsd
 * keeps the C locale), made once a second.
 */
static const char *log_stamp(time_t t)
{
	struct tm tm;

	if (t == lg.stamp_t)
		return lg.stamp;
	if (!localtime_r(&t, &tm) ||
	    !strftime(lg.stamp, sizeof(lg.stamp), "%h %e %T ", &tm))
		lg.stamp[0] = '\0';
	lg.stamp_t = t;
	return lg.stamp;
}

void cpnsd_log_open(const char *ident, int options, int facility,
		    const char *path)
{
	cpnsd_log_flush();
	log_disconnect();
	snprintf(lg.ident, sizeof(lg.ident), "%s", ident);
	lg.options = options & (LOG_PID | LOG_PERROR);
	lg.facility = facility & LOG_FACMASK;
	snprintf(lg.path, sizeof(lg.path), "%s", path ? path : "/dev/log");
	lg.pid = getpid();
}

void cpnsd_log(int prio, const char *fmt, ...)
{
	int saved = errno;
	struct cpnsd_log_line *l;
	size_t len, msg_off, max;
	va_list ap;
	int n;

	if (lg.n == CPNSD_LOG_HELD)
		log_send_held();
	l = &log_line[lg.n];
	/* the NUL stays: a stream logger gets it */
	max = sizeof(l->buf);
	if (!(prio & LOG_FACMASK))
		prio |= lg.facility;
	/* at most 5 + 16 + 63 + 14 bytes: no cut */
	n = snprintf(l->buf, max, "<%d>%s", prio, log_stamp(time(NULL)));
	msg_off = (size_t)n;
	if (lg.options & LOG_PID)
		n += snprintf(l->buf + n, max - n, "%s[%d]: ", lg.ident,
			      lg.pid);
	else
		n += snprintf(l->buf + n, max - n, "%s: ", lg.ident);
	len = (size_t)n;
	errno = saved;
	va_start(ap, fmt);
	n = vsnprintf(l->buf + len, max - len, fmt, ap);
	va_end(ap);
	if (n > 0)
		len += (size_t)n < max - len ? (size_t)n : max - len - 1;
	l->len = len;
	if (lg.options & LOG_PERROR)
		dprintf(STDERR_FILENO, "%s\n", l->buf + msg_off);
	lg.n++;
	if (!lg.hold || LOG_PRI(prio) <= LOG_WARNING)
		log_send_held();
	errno = saved;
}

void cpnsd_log_hold(void)
{
	lg.hold = true;
}

void cpnsd_log_flush(void)
{
	lg.hold = false;
	log_send_held();
}

void cpnsd_log_close(void)
{
	cpnsd_log_flush();
	log_disconnect();
}

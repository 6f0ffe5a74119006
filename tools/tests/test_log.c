// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsd's log (tools/server/log.c) against a logger socket of the test's
 * own: syslog(3)'s format, lines held for a pass and sent in order, a
 * logger that restarts, a stream logger, no logger.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "../server/log.h"
#include "tap.h"

static char dir[] = "/tmp/cpns-test-log.XXXXXX";
static char path[100];

static int logger(int type)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, type, 0);

	unlink(path);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
	    (type == SOCK_STREAM && listen(fd, 1) < 0))
		tap_bail("logger socket: %s", strerror(errno));
	return fd;
}

/* The next datagram, or -1 when none is there. */
static ssize_t take(int fd, char *buf, size_t size)
{
	ssize_t n = recv(fd, buf, size - 1, MSG_DONTWAIT);

	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* The line syslog(3) makes for @msg at time @t. */
static void expect(char *buf, size_t size, int pri, bool pid, time_t t,
		   const char *msg)
{
	char stamp[32];
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(stamp, sizeof(stamp), "%h %e %T ", &tm);
	if (pid)
		snprintf(buf, size, "<%d>%scpnsd[%d]: %s", pri, stamp,
			 (int)getpid(), msg);
	else
		snprintf(buf, size, "<%d>%scpnsd: %s", pri, stamp, msg);
}

static bool is_line(const char *got, int pri, bool pid, time_t t0,
		    const char *msg)
{
	char want[512];
	time_t t;

	for (t = t0; t <= time(NULL); t++) {
		expect(want, sizeof(want), pri, pid, t, msg);
		if (!strcmp(got, want))
			return true;
	}
	tap_diag("got \"%s\", want \"%s\"", got, want);
	return false;
}

static void test_format(int fd)
{
	char got[4096];
	time_t t0 = time(NULL);
	int e;

	cpnsd_log_open("cpnsd", LOG_PID, LOG_DAEMON, path);
	cpnsd_log(LOG_INFO, "procedure B: gw %s: %d", "x", 42);
	tap_ok(take(fd, got, sizeof(got)) > 0 &&
	       is_line(got, LOG_DAEMON | LOG_INFO, true, t0,
		       "procedure B: gw x: 42"),
	       "a line outside a hold leaves at once, in syslog(3)'s format");
	cpnsd_log(LOG_ERR | LOG_AUTH, "own facility");
	tap_ok(take(fd, got, sizeof(got)) > 0 &&
	       is_line(got, LOG_AUTH | LOG_ERR, true, t0, "own facility"),
	       "a facility given with the priority is kept");
	errno = ENOENT;
	cpnsd_log(LOG_ERR, "open: %m");
	e = errno;
	tap_ok(take(fd, got, sizeof(got)) > 0 &&
	       is_line(got, LOG_DAEMON | LOG_ERR, true, t0,
		       "open: No such file or directory") && e == ENOENT,
	       "%%m is the caller's errno, which stays");
	cpnsd_log_open("cpnsd", 0, LOG_DAEMON, path);
	cpnsd_log(LOG_NOTICE, "no pid");
	tap_ok(take(fd, got, sizeof(got)) > 0 &&
	       is_line(got, LOG_DAEMON | LOG_NOTICE, false, t0, "no pid"),
	       "without LOG_PID the ident stands alone");
}

static void test_hold(int fd)
{
	char got[4096], msg[32];
	time_t t0 = time(NULL);
	bool ok = true;
	int i;

	cpnsd_log_open("cpnsd", LOG_PID, LOG_DAEMON, path);
	cpnsd_log_hold();
	for (i = 0; i < 5; i++)
		cpnsd_log(LOG_INFO, "line %d", i);
	tap_ok(take(fd, got, sizeof(got)) < 0,
	       "held lines wait for the flush");
	cpnsd_log_flush();
	for (i = 0; i < 5; i++) {
		snprintf(msg, sizeof(msg), "line %d", i);
		ok &= take(fd, got, sizeof(got)) > 0 &&
		      is_line(got, LOG_DAEMON | LOG_INFO, true, t0, msg);
	}
	tap_ok(ok && take(fd, got, sizeof(got)) < 0,
	       "the flush sends them, one datagram each, in order");
	cpnsd_log(LOG_INFO, "after");
	tap_ok(take(fd, got, sizeof(got)) > 0 && strstr(got, ": after"),
	       "the flush ends the hold");
	cpnsd_log_hold();
	cpnsd_log(LOG_INFO, "line 0");
	cpnsd_log(LOG_WARNING, "line 1");
	ok = take(fd, got, sizeof(got)) > 0 && strstr(got, ": line 0") &&
	     take(fd, got, sizeof(got)) > 0 && strstr(got, ": line 1");
	cpnsd_log(LOG_INFO, "line 2");
	tap_ok(ok && take(fd, got, sizeof(got)) < 0,
	       "a warning leaves at once with the lines held before it; the hold goes on");
	cpnsd_log_flush();
	tap_ok(take(fd, got, sizeof(got)) > 0 && strstr(got, ": line 2"),
	       "and the next flush sends what came after it");
}

struct reader {
	int fd;
	int n;
	bool in_order;
};

/* Reads "line N" datagrams until one is missing for a second. */
static void *read_lines(void *arg)
{
	struct timeval tv = { .tv_sec = 1 };
	struct reader *r = arg;
	char got[4096], msg[32];
	ssize_t n;

	setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r->in_order = true;
	while ((n = recv(r->fd, got, sizeof(got) - 1, 0)) > 0) {
		got[n] = '\0';
		snprintf(msg, sizeof(msg), ": line %d", r->n);
		r->in_order &= strstr(got, msg) &&
			       !strcmp(strstr(got, msg), msg);
		r->n++;
	}
	return NULL;
}

static void test_many(int fd)
{
	int i, total = 3 * CPNSD_LOG_HELD + 5;
	struct reader r = { .fd = fd };
	pthread_t th;

	/* more than the logger's queue takes: it reads as they come */
	if (pthread_create(&th, NULL, read_lines, &r))
		tap_bail("pthread_create");
	cpnsd_log_open("cpnsd", LOG_PID, LOG_DAEMON, path);
	cpnsd_log_hold();
	for (i = 0; i < total; i++)
		cpnsd_log(LOG_INFO, "line %d", i);
	cpnsd_log_flush();
	pthread_join(th, NULL);
	tap_ok(r.n == total && r.in_order,
	       "%d lines in one hold: all of them, in order (%d)", total, r.n);
}

static void test_long(int fd)
{
	char *big = malloc(3 * CPNSD_LOG_LINE_MAX), got[3 * CPNSD_LOG_LINE_MAX];
	ssize_t n;

	memset(big, 'a', 3 * CPNSD_LOG_LINE_MAX - 1);
	big[3 * CPNSD_LOG_LINE_MAX - 1] = '\0';
	cpnsd_log(LOG_INFO, "%s", big);
	n = take(fd, got, sizeof(got));
	tap_ok(n == CPNSD_LOG_LINE_MAX - 1 && got[n - 1] == 'a',
	       "a longer line is cut to %d bytes (%zd)",
	       CPNSD_LOG_LINE_MAX - 1, n);
	free(big);
}

static void test_restart(int *fd)
{
	char got[4096];

	cpnsd_log(LOG_INFO, "before");
	take(*fd, got, sizeof(got));
	close(*fd);
	*fd = logger(SOCK_DGRAM);
	cpnsd_log(LOG_INFO, "to the new logger");
	tap_ok(take(*fd, got, sizeof(got)) > 0 &&
	       strstr(got, ": to the new logger"),
	       "a restarted logger gets the next line");
}

static void test_stream(void)
{
	int lfd = logger(SOCK_STREAM), c;
	char got[4096];
	ssize_t n, have = 0;

	cpnsd_log_open("cpnsd", 0, LOG_DAEMON, path);
	cpnsd_log_hold();
	cpnsd_log(LOG_INFO, "one");
	cpnsd_log(LOG_INFO, "two");
	cpnsd_log_flush();
	c = accept(lfd, NULL, NULL);
	while (c >= 0 && (n = recv(c, got + have, sizeof(got) - have,
				   MSG_DONTWAIT)) > 0)
		have += n;
	tap_ok(c >= 0 && have > 0 && got[have - 1] == '\0' &&
	       strstr(got, "cpnsd: one") &&
	       strstr(got + strlen(got) + 1, "cpnsd: two"),
	       "a stream logger gets each line ended by a NUL");
	if (c >= 0)
		close(c);
	close(lfd);
}

static void test_perror_and_none(void)
{
	int p[2], saved = dup(STDERR_FILENO);
	char got[256] = "";
	ssize_t n;

	unlink(path);
	if (pipe(p) < 0 || saved < 0)
		tap_bail("pipe");
	dup2(p[1], STDERR_FILENO);
	cpnsd_log_open("cpnsd", LOG_PERROR, LOG_DAEMON, path);
	cpnsd_log(LOG_ERR, "no logger here");
	dup2(saved, STDERR_FILENO);
	close(p[1]);
	n = read(p[0], got, sizeof(got) - 1);
	tap_ok(n > 0 && !strcmp(got, "cpnsd: no logger here\n"),
	       "LOG_PERROR writes the line to stderr; without a logger that is all");
	close(p[0]);
	close(saved);
}

int main(void)
{
	int fd;

	tap_start();
	if (!mkdtemp(dir))
		tap_bail("mkdtemp: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/log", dir);
	fd = logger(SOCK_DGRAM);
	test_format(fd);
	test_hold(fd);
	test_many(fd);
	test_long(fd);
	test_restart(&fd);
	close(fd);
	test_stream();
	test_perror_and_none();
	cpnsd_log_close();
	unlink(path);
	rmdir(dir);
	return tap_done();
}

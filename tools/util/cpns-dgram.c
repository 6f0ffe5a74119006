// SPDX-License-Identifier: GPL-2.0
/*
 * cpns-dgram: send or receive one AF_CPNS datagram from the shell (for the
 * demo and the tests; like "nc -u" for AF_CPNS data sockets).
 *
 *   cpns-dgram [-n NETNS] send LOCAL_ID[:PORT] PEER_ID:PORT TEXT
 *   cpns-dgram [-n NETNS] recv LOCAL_ID:PORT [SECONDS]
 *   cpns-dgram [-n NETNS] stream LOCAL_ID[:PORT] PEER_ID:PORT TAG FIRST COUNT RATE
 *   cpns-dgram [-n NETNS] count LOCAL_ID:PORT TAG IDLE_SECONDS
 *
 * send binds LOCAL_ID (port PORT, or an automatic one) and sends TEXT;
 * recv prints "SRC_ID:PORT TEXT" for the first datagram, or exits 4 after
 * SECONDS (default 10) without one. Exit 2 on a socket error (with errno).
 *
 * stream sends the numbered records "TAG N" for N = FIRST, FIRST + 1, ...
 * (COUNT of them, 0: until SIGTERM / SIGINT), RATE per second on a fixed
 * schedule. A record the kernel refuses is sent again (same number) 1 ms
 * later: ENOBUFS (next epoch's keys not derived yet, a documented retry)
 * and EAGAIN are counted as "busy", any other error as "errors" with the
 * last errno named. At the end it prints
 *	"sent S next N busy B errors E [last ERRNO]"
 * where N is the first number not sent.
 *
 * count receives records "TAG N" and exits after IDLE_SECONDS without one
 * (once at least one came), or on SIGTERM / SIGINT, printing
 *	"received R distinct D dup U first F last L missing M"
 * where missing counts the numbers between the lowest and the highest
 * received that never came, and on a second line "gaps A-B ..." the
 * first ten runs of them when there are any. Other payloads are ignored.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpns_err.h"
#include "cpns_id.h"
#include "cpns_nl.h"
#include "cpns_node.h"

static int parse(const char *s, struct sockaddr_cpns *sa, int family,
		 bool need_port)
{
	char id[64], *colon;
	unsigned long port = 0;

	snprintf(id, sizeof(id), "%s", s);
	colon = strrchr(id, ':');
	if (colon && strlen(id) > 36)
		colon = strrchr(id, ':');
	if (colon && colon - id >= 32) {
		*colon = 0;
		port = strtoul(colon + 1, NULL, 10);
	} else if (need_port) {
		return -1;
	}
	memset(sa, 0, sizeof(*sa));
	sa->scpns_family = (__kernel_sa_family_t)family;
	sa->scpns_port = (uint16_t)port;
	return cpns_id_parse(id, sa->scpns_id, CPNS_ID_VALID) < 0 ? -1 : 0;
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static void ts_add_ns(struct timespec *t, long ns)
{
	t->tv_nsec += ns;
	while (t->tv_nsec >= 1000000000L) {
		t->tv_nsec -= 1000000000L;
		t->tv_sec++;
	}
}

static int do_stream(int fd, const struct sockaddr_cpns *peer,
		     const char *tag, unsigned long first,
		     unsigned long count, unsigned long rate)
{
	unsigned long n = first, busy = 0, errors = 0, sent = 0;
	long gap = 1000000000L / (long)(rate ? rate : 1);
	struct timespec next, now, ms = { 0, 1000000L };
	int last = 0;
	char buf[128];

	catch_signals();
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!stop && (!count || sent < count)) {
		int len = snprintf(buf, sizeof(buf), "%s %lu", tag, n);

		if (sendto(fd, buf, (size_t)len, 0, (const struct sockaddr *)peer,
			   sizeof(*peer)) < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS || errno == EAGAIN) {
				busy++;
			} else {
				errors++;
				last = errno;
			}
			nanosleep(&ms, NULL);
			continue;
		}
		sent++;
		n++;
		/* never a burst to catch up after a stall: at most RATE per
		 * second even then
		 */
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > next.tv_sec ||
		    (now.tv_sec == next.tv_sec && now.tv_nsec > next.tv_nsec))
			next = now;
		ts_add_ns(&next, gap);
		while (!stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
						&next, NULL) == EINTR)
			;
	}
	printf("sent %lu next %lu busy %lu errors %lu", sent, n, busy, errors);
	if (errors)
		printf(" last %s", strerrorname_np(last) ?: strerror(last));
	printf("\n");
	return 0;
}

#define COUNT_MAX	(1UL << 22)

static bool is_seen(const uint8_t *seen, unsigned long v)
{
	return seen[v / 8] & (1u << (v % 8));
}

/* "gaps A-B C-D ...": the first ten runs of missing numbers */
static void print_gaps(const uint8_t *seen, unsigned long lo, unsigned long hi)
{
	unsigned long i = lo, start;
	int runs = 0;

	printf("gaps");
	while (i <= hi && runs < 10) {
		if (is_seen(seen, i)) {
			i++;
			continue;
		}
		start = i;
		while (i <= hi && !is_seen(seen, i))
			i++;
		printf(" %lu-%lu", start, i - 1);
		runs++;
	}
	printf("\n");
}

static int do_count(int fd, const char *tag, int idle)
{
	unsigned long rcvd = 0, distinct = 0, dup = 0, lo = ULONG_MAX, hi = 0;
	unsigned long missing = 0, i, v;
	size_t tl = strlen(tag);
	uint8_t *seen = calloc(COUNT_MAX / 8, 1);
	int sz = 1 << 20;
	char buf[256], *end;

	if (!seen)
		return 2;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	catch_signals();
	while (!stop) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r = poll(&pfd, 1, rcvd ? idle * 1000 : -1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		if (n <= 0)
			continue;
		buf[n] = 0;
		if ((size_t)n <= tl + 1 || strncmp(buf, tag, tl) || buf[tl] != ' ')
			continue;
		v = strtoul(buf + tl + 1, &end, 10);
		if (*end || v >= COUNT_MAX)
			continue;
		rcvd++;
		if (is_seen(seen, v)) {
			dup++;
			continue;
		}
		seen[v / 8] |= (uint8_t)(1u << (v % 8));
		distinct++;
		if (v < lo)
			lo = v;
		if (v > hi)
			hi = v;
	}
	if (!distinct)
		lo = 0;
	for (i = lo; distinct && i <= hi; i++)
		if (!is_seen(seen, i))
			missing++;
	printf("received %lu distinct %lu dup %lu first %lu last %lu missing %lu\n",
	       rcvd, distinct, dup, lo, hi, missing);
	if (missing)
		print_gaps(seen, lo, hi);
	free(seen);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_cpns local, peer;
	struct cpns_err err = { 0 };
	int family, fd, timeout = 10;
	char buf[CPNS_MAX_PAYLOAD + 1];

	if (argc > 2 && !strcmp(argv[1], "-n")) {
		if (cpns_netns_enter(argv[2], &err) < 0) {
			fprintf(stderr, "cpns-dgram: %s\n", err.msg);
			return 2;
		}
		argc -= 2;
		argv += 2;
	}
	family = cpns_node_family();
	if (argc < 3 || family < 0) {
		fprintf(stderr, "usage: cpns-dgram [-n NETNS] send LOCAL_ID[:PORT] PEER_ID:PORT TEXT\n"
				"       cpns-dgram [-n NETNS] recv LOCAL_ID:PORT [SECONDS]\n"
				"       cpns-dgram [-n NETNS] stream LOCAL_ID[:PORT] PEER_ID:PORT TAG FIRST COUNT RATE\n"
				"       cpns-dgram [-n NETNS] count LOCAL_ID:PORT TAG IDLE_SECONDS\n");
		return 1;
	}
	if (parse(argv[2], &local, family, !strcmp(argv[1], "recv") ||
					   !strcmp(argv[1], "count"))) {
		fprintf(stderr, "cpns-dgram: bad address \"%s\"\n", argv[2]);
		return 1;
	}
	fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
		fprintf(stderr, "cpns-dgram: socket/bind: %s\n", strerror(errno));
		return 2;
	}
	if (!strcmp(argv[1], "send") && argc == 5) {
		if (parse(argv[3], &peer, family, true)) {
			fprintf(stderr, "cpns-dgram: bad address \"%s\"\n", argv[3]);
			return 1;
		}
		if (sendto(fd, argv[4], strlen(argv[4]), 0,
			   (struct sockaddr *)&peer, sizeof(peer)) < 0) {
			fprintf(stderr, "cpns-dgram: send: %s\n", strerror(errno));
			return 2;
		}
		return 0;
	}
	if (!strcmp(argv[1], "stream") && argc == 8) {
		if (parse(argv[3], &peer, family, true)) {
			fprintf(stderr, "cpns-dgram: bad address \"%s\"\n", argv[3]);
			return 1;
		}
		return do_stream(fd, &peer, argv[4], strtoul(argv[5], NULL, 10),
				 strtoul(argv[6], NULL, 10),
				 strtoul(argv[7], NULL, 10));
	}
	if (!strcmp(argv[1], "count") && argc == 5)
		return do_count(fd, argv[3], atoi(argv[4]));
	if (!strcmp(argv[1], "recv")) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		socklen_t len = sizeof(peer);
		char id[CPNS_ID_STRLEN];
		ssize_t n;

		if (argc > 3)
			timeout = atoi(argv[3]);
		if (poll(&pfd, 1, timeout * 1000) <= 0)
			return 4;
		n = recvfrom(fd, buf, sizeof(buf) - 1, 0,
			     (struct sockaddr *)&peer, &len);
		if (n < 0) {
			fprintf(stderr, "cpns-dgram: recv: %s\n", strerror(errno));
			return 2;
		}
		buf[n] = 0;
		cpns_id_format(peer.scpns_id, id);
		printf("%s:%u %s\n", id, peer.scpns_port, buf);
		return 0;
	}
	fprintf(stderr, "cpns-dgram: unknown command \"%s\"\n", argv[1]);
	return 1;
}

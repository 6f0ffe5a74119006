// SPDX-License-Identifier: GPL-2.0
/*
 * cpns_bench: a datagram sender and receiver for the throughput benchmark,
 * over UDP (plain or inside a WireGuard tunnel) or AF_CPNS, on one path or
 * several in turns.
 *
 *   cpns_bench recv [-i IDLE_MS] RPATH...
 *	RPATH: [ns NAME] udp ADDR PORT | [ns NAME] cpns ID PORT
 *   cpns_bench send [-s SLICE_MS] SIZE SECONDS SPATH...
 *	SPATH: [ns NAME] udp ADDR PORT | [ns NAME] cpns FROM_ID TO_ID PORT
 *
 * "ns NAME" before a path creates the sockets of that path and of the
 * paths after it in the network namespace /run/netns/NAME (the paths
 * before the first one are in the namespace the program started in). A
 * socket stays in the namespace it was created in, so one run can take
 * paths of several namespaces in turns, e.g. the same path through two
 * namespaces whose state differs.
 *
 * The sender sends SIZE-byte datagrams as fast as it can, SECONDS on each
 * path, taking the paths in turns of SLICE_MS (default 200) and every other
 * turn in the reverse order. The paths so share the guest's speed of the
 * moment: under TCG it follows the host's load and can halve within
 * seconds, and paths measured one after the other would be compared across
 * such changes. It prints {"paths":[{"sent":N,"errors":N,"seconds":S},...]},
 * seconds being the time it spent on that path.
 *
 * The receiver counts the datagrams of each socket until IDLE_MS (default
 * 1500) passed without one on any of them, and prints
 * {"paths":[{"records":N,"bytes":N},...]}. Both in the order of their
 * arguments.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/cpns.h>

#define MAX_PATHS	8

struct path {
	int fd;
	struct sockaddr_storage to;	/* send: the destination */
	socklen_t tolen;
	unsigned long long count, bytes, errors;
	double seconds;
};

static struct path paths[MAX_PATHS];
static int n_paths;
/* The network namespace the program started in, once "ns" left it. */
static int home_netns = -1;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cpns_af(void)
{
	FILE *f = fopen("/sys/module/cpns/parameters/family", "r");
	int af = -1;

	if (!f || fscanf(f, "%d", &af) != 1)
		af = -1;
	if (f)
		fclose(f);
	return af;
}

static int parse_id(const char *s, uint8_t id[CPNS_ID_LEN])
{
	unsigned int i, v;

	if (strlen(s) != 2 * CPNS_ID_LEN)
		return -1;
	for (i = 0; i < CPNS_ID_LEN; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		id[i] = v;
	}
	return 0;
}

static int cpns_addr(const char *id, const char *port,
		     struct sockaddr_cpns *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->scpns_family = cpns_af();
	sa->scpns_port = atoi(port);
	return parse_id(id, sa->scpns_id);
}

static int udp_addr(const char *addr, const char *port,
		    struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(atoi(port));
		*len = sizeof(*in4);
		return 0;
	}
	if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(atoi(port));
		*len = sizeof(*in6);
		return 0;
	}
	return -1;
}

/* A socket bound to @sa, or -1 with the reason printed. */
static int bound_socket(const void *sa, socklen_t len, const char *what)
{
	int fd = socket(((const struct sockaddr *)sa)->sa_family, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, sa, len)) {
		perror(what);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Parse the paths of @argv; returns the number of arguments used or -1. */
static int parse_path(char **argv, int argc, bool send)
{
	struct path *p = &paths[n_paths];
	struct sockaddr_storage ss;
	struct sockaddr_cpns sc, from;
	socklen_t len;

	if (n_paths == MAX_PATHS || argc < 3)
		return -1;
	if (!strcmp(argv[0], "udp")) {
		if (udp_addr(argv[1], argv[2], &ss, &len))
			return -1;
		if (send) {
			p->fd = socket(ss.ss_family, SOCK_DGRAM, 0);
			if (p->fd < 0) {
				perror("udp socket");
				return -1;
			}
			p->to = ss;
			p->tolen = len;
		} else {
			p->fd = bound_socket(&ss, len, "udp bind");
			if (p->fd < 0)
				return -1;
		}
		n_paths++;
		return 3;
	}
	if (strcmp(argv[0], "cpns"))
		return -1;
	if (!send) {
		if (cpns_addr(argv[1], argv[2], &sc))
			return -1;
		p->fd = bound_socket(&sc, sizeof(sc), "cpns bind");
		if (p->fd < 0)
			return -1;
		n_paths++;
		return 3;
	}
	if (argc < 4 || cpns_addr(argv[1], "0", &from) ||
	    cpns_addr(argv[2], argv[3], &sc))
		return -1;
	p->fd = bound_socket(&from, sizeof(from), "cpns bind");
	if (p->fd < 0)
		return -1;
	memcpy(&p->to, &sc, sizeof(sc));
	p->tolen = sizeof(sc);
	n_paths++;
	return 4;
}

/* Create the sockets that follow in /run/netns/@name; 0 or -1. */
static int enter_netns(const char *name)
{
	char file[PATH_MAX];
	int fd;

	if (home_netns < 0) {
		home_netns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (home_netns < 0) {
			perror("/proc/self/ns/net");
			return -1;
		}
	}
	if (!*name || strchr(name, '/') ||
	    snprintf(file, sizeof(file), "/run/netns/%s", name) >=
	    (int)sizeof(file))
		return -1;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(file);
		return -1;
	}
	if (setns(fd, CLONE_NEWNET)) {
		perror("setns");
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int parse_paths(char **argv, int argc, bool send)
{
	int used;

	while (argc > 0) {
		if (!strcmp(argv[0], "ns")) {
			/* a path must follow */
			if (argc < 3 || enter_netns(argv[1]))
				return -1;
			argv += 2;
			argc -= 2;
			continue;
		}
		used = parse_path(argv, argc, send);
		if (used < 0)
			return -1;
		argv += used;
		argc -= used;
	}
	/* The rest of the run in the namespace it started in. */
	if (home_netns >= 0) {
		if (setns(home_netns, CLONE_NEWNET)) {
			perror("setns");
			return -1;
		}
		close(home_netns);
		home_netns = -1;
	}
	return n_paths ? 0 : -1;
}

static int do_recv(int idle_ms)
{
	static char buf[65536];
	struct pollfd pfd[MAX_PATHS];
	unsigned long long total = 0;
	int rcvbuf = 8 << 20, i;

	for (i = 0; i < n_paths; i++) {
		setsockopt(paths[i].fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
			   sizeof(rcvbuf));
		pfd[i].fd = paths[i].fd;
		pfd[i].events = POLLIN;
	}
	while (poll(pfd, n_paths, total ? idle_ms : 60000) > 0) {
		for (i = 0; i < n_paths; i++) {
			ssize_t n;

			if (!pfd[i].revents)
				continue;
			while ((n = recv(pfd[i].fd, buf, sizeof(buf),
					 MSG_DONTWAIT)) >= 0) {
				paths[i].count++;
				paths[i].bytes += n;
				total++;
			}
			if (errno != EAGAIN) {
				perror("recv");
				return 1;
			}
		}
	}
	printf("{\"paths\":[");
	for (i = 0; i < n_paths; i++)
		printf("%s{\"records\":%llu,\"bytes\":%llu}", i ? "," : "",
		       paths[i].count, paths[i].bytes);
	printf("]}\n");
	return total ? 0 : 1;
}

/* Send on @p for @seconds; 0 or -1 on an error other than a full queue. */
static int send_for(struct path *p, const char *buf, size_t size,
		    double seconds)
{
	double start = now_s(), end = start + seconds, t = start;

	while (t < end) {
		int i;

		for (i = 0; i < 16; i++) {
			if (sendto(p->fd, buf, size, 0,
				   (struct sockaddr *)&p->to, p->tolen) >= 0) {
				p->count++;
			} else if (errno == ENOBUFS || errno == EAGAIN) {
				p->errors++;
			} else {
				perror("sendto");
				return -1;
			}
		}
		t = now_s();
	}
	p->seconds += t - start;
	return 0;
}

static int do_send(size_t size, double seconds, double slice)
{
	char *buf = malloc(size ? size : 1);
	bool more = true;
	int turn, k, i;

	if (!buf)
		return 1;
	memset(buf, 'x', size);
	for (turn = 0; more; turn++) {
		more = false;
		for (k = 0; k < n_paths; k++) {
			struct path *p = &paths[turn % 2 ? n_paths - 1 - k : k];
			double left = seconds - p->seconds;

			if (left <= 0)
				continue;
			more = true;
			if (send_for(p, buf, size, left < slice ? left : slice)) {
				free(buf);
				return 1;
			}
		}
	}
	free(buf);
	printf("{\"paths\":[");
	for (i = 0; i < n_paths; i++)
		printf("%s{\"sent\":%llu,\"errors\":%llu,\"seconds\":%.6f}",
		       i ? "," : "", paths[i].count, paths[i].errors,
		       paths[i].seconds);
	printf("]}\n");
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: cpns_bench recv [-i IDLE_MS] RPATH...\n"
		"       cpns_bench send [-s SLICE_MS] SIZE SECONDS SPATH...\n"
		"RPATH: [ns NAME] udp ADDR PORT | [ns NAME] cpns ID PORT\n"
		"SPATH: [ns NAME] udp ADDR PORT | [ns NAME] cpns FROM_ID TO_ID PORT\n"
		"ns NAME: the sockets of this path and of the paths after it\n"
		"         in the network namespace /run/netns/NAME\n");
	return 2;
}

int main(int argc, char **argv)
{
	char **args = argv + 2;
	int n = argc - 2, opt_ms = -1;
	bool recv_cmd;

	if (argc < 2 || (strcmp(argv[1], "recv") && strcmp(argv[1], "send")))
		return usage();
	recv_cmd = !strcmp(argv[1], "recv");
	if (n > 1 && !strcmp(args[0], recv_cmd ? "-i" : "-s")) {
		opt_ms = atoi(args[1]);
		if (opt_ms <= 0)
			return usage();
		args += 2;
		n -= 2;
	}
	if (recv_cmd) {
		if (parse_paths(args, n, false))
			return usage();
		return do_recv(opt_ms > 0 ? opt_ms : 1500);
	}
	if (n > 2) {
		long size = atol(args[0]);
		double secs = atof(args[1]);

		if (size < 0 || size > 65507 || secs <= 0 ||
		    parse_paths(args + 2, n - 2, true))
			return usage();
		return do_send(size, secs, (opt_ms > 0 ? opt_ms : 200) / 1e3);
	}
	return usage();
}

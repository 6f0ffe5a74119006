// SPDX-License-Identifier: GPL-2.0
/*
 * cpns_bench: a datagram sender and receiver for the throughput benchmark,
 * over UDP (plain or inside a WireGuard tunnel) or AF_CPNS.
 *
 *   cpns_bench recv udp ADDR PORT [IDLE_MS]
 *   cpns_bench recv cpns ID PORT [IDLE_MS]
 *   cpns_bench send udp ADDR PORT SIZE SECONDS
 *   cpns_bench send cpns FROM_ID TO_ID PORT SIZE SECONDS
 *
 * The receiver counts datagrams from the first to the last one received
 * (it stops after IDLE_MS without traffic, default 1500) and prints one JSON
 * object: {"records":N,"bytes":N,"seconds":S}. The sender sends as fast as
 * it can for SECONDS and prints {"sent":N,"errors":N,"seconds":S}.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/cpns.h>

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

static int do_recv(int fd, int idle_ms)
{
	static char buf[65536];
	unsigned long long records = 0, bytes = 0;
	double first = 0, last = 0;
	int rcvbuf = 8 << 20;

	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int ret = poll(&p, 1, records ? idle_ms : 60000);
		ssize_t n;

		if (ret <= 0)
			break;
		while ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0) {
			last = now_s();
			if (!records)
				first = last;
			records++;
			bytes += n;
		}
		if (errno != EAGAIN) {
			perror("recv");
			return 1;
		}
	}
	printf("{\"records\":%llu,\"bytes\":%llu,\"seconds\":%.6f}\n",
	       records, bytes, records > 1 ? last - first : 0.0);
	return records ? 0 : 1;
}

static int do_send(int fd, const struct sockaddr *to, socklen_t tolen,
		   size_t size, double seconds)
{
	unsigned long long sent = 0, errors = 0;
	char *buf = calloc(1, size ? size : 1);
	double start = now_s(), end = start + seconds, t = start;

	if (!buf)
		return 1;
	memset(buf, 'x', size);
	while (t < end) {
		int i;

		for (i = 0; i < 64; i++) {
			if (sendto(fd, buf, size, 0, to, tolen) < 0) {
				if (errno != ENOBUFS && errno != EAGAIN) {
					perror("sendto");
					free(buf);
					return 1;
				}
				errors++;
			} else {
				sent++;
			}
		}
		t = now_s();
	}
	free(buf);
	printf("{\"sent\":%llu,\"errors\":%llu,\"seconds\":%.6f}\n",
	       sent, errors, t - start);
	return 0;
}

static int usage(void)
{
	fprintf(stderr,
		"usage: cpns_bench recv udp ADDR PORT [IDLE_MS]\n"
		"       cpns_bench recv cpns ID PORT [IDLE_MS]\n"
		"       cpns_bench send udp ADDR PORT SIZE SECONDS\n"
		"       cpns_bench send cpns FROM_ID TO_ID PORT SIZE SECONDS\n");
	return 2;
}

int main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	struct sockaddr_cpns sc;
	socklen_t len;
	int fd;

	if (argc < 5)
		return usage();
	if (!strcmp(argv[1], "recv")) {
		int idle = argc > 5 ? atoi(argv[5]) : 1500;

		if (!strcmp(argv[2], "udp")) {
			if (udp_addr(argv[3], argv[4], &ss, &len))
				return usage();
			fd = socket(ss.ss_family, SOCK_DGRAM, 0);
			if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len)) {
				perror("udp bind");
				return 1;
			}
		} else if (!strcmp(argv[2], "cpns")) {
			if (cpns_addr(argv[3], argv[4], &sc))
				return usage();
			fd = socket(sc.scpns_family, SOCK_DGRAM, 0);
			if (fd < 0 || bind(fd, (struct sockaddr *)&sc, sizeof(sc))) {
				perror("cpns bind");
				return 1;
			}
		} else {
			return usage();
		}
		return do_recv(fd, idle);
	}
	if (!strcmp(argv[1], "send")) {
		if (!strcmp(argv[2], "udp") && argc == 7) {
			if (udp_addr(argv[3], argv[4], &ss, &len))
				return usage();
			fd = socket(ss.ss_family, SOCK_DGRAM, 0);
			if (fd < 0) {
				perror("udp socket");
				return 1;
			}
			return do_send(fd, (struct sockaddr *)&ss, len,
				       atoi(argv[5]), atof(argv[6]));
		}
		if (!strcmp(argv[2], "cpns") && argc == 8) {
			struct sockaddr_cpns from;

			if (cpns_addr(argv[3], "0", &from) ||
			    cpns_addr(argv[4], argv[5], &sc))
				return usage();
			fd = socket(sc.scpns_family, SOCK_DGRAM, 0);
			if (fd < 0 || bind(fd, (struct sockaddr *)&from, sizeof(from))) {
				perror("cpns bind");
				return 1;
			}
			return do_send(fd, (struct sockaddr *)&sc, sizeof(sc),
				       atoi(argv[6]), atof(argv[7]));
		}
	}
	return usage();
}

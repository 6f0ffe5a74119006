// SPDX-License-Identifier: GPL-2.0
/*
 * cpns-dgram: send or receive one AF_CPNS datagram from the shell (for the
 * demo and the tests; like "nc -u" for AF_CPNS data sockets).
 *
 *   cpns-dgram [-n NETNS] send LOCAL_ID[:PORT] PEER_ID:PORT TEXT
 *   cpns-dgram [-n NETNS] recv LOCAL_ID:PORT [SECONDS]
 *
 * send binds LOCAL_ID (port PORT, or an automatic one) and sends TEXT;
 * recv prints "SRC_ID:PORT TEXT" for the first datagram, or exits 4 after
 * SECONDS (default 10) without one. Exit 2 on a socket error (with errno).
 */
#include <errno.h>
#include <poll.h>
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
				"       cpns-dgram [-n NETNS] recv LOCAL_ID:PORT [SECONDS]\n");
		return 1;
	}
	if (parse(argv[2], &local, family, !strcmp(argv[1], "recv"))) {
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

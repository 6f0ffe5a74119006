// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsctl connect: procedure B (PROTOCOL.md 7), H(EUKey) with the GW as
 * initiator: the uplink peer entry for S, the handshake on port 1 with the
 * retransmission of 4.7, the install (initiator, immediate) and the
 * confirmation Ack on the new generation with its two repeats (2.10).
 * The pair's older generation, if any, keeps working until the kernel
 * erases it (make-before-break).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpns_hs.h"
#include "cpns_id.h"
#include "cpns_node.h"
#include "cpnsctl.h"

static const char cpnsctl_connect_usage[] =
	"Usage: cpnsctl connect server ID [ endpoint ADDR ] [ state-dir DIR ]\n"
	"                       [ mode { psk-dhe | psk } ]\n"
	"where  ADDR := { IPv4[:PORT] | [IPv6]:PORT }\n";

/* Procedure B once, blocking: the state machine of cpns_node.h driven by
 * poll() on its socket and its deadline.
 */
int cpnsctl_procb(struct cpns_nl *nl, const struct cpnsctl_enrolment *e,
		  bool dhe, char *outcome, size_t outcome_size)
{
	struct cpns_procb_cfg cfg = { 0 };
	struct cpns_err err = { 0 };
	struct cpns_procb *pb = NULL;
	int st, status;

	memcpy(cfg.local, e->local, CPNS_ID_LEN);
	memcpy(cfg.server, e->server, CPNS_ID_LEN);
	memcpy(&cfg.endpoint, &e->endpoint, sizeof(cfg.endpoint));
	cfg.endpoint_len = e->endpoint_len;
	cfg.kid = e->kid;
	memcpy(cfg.eukey, e->eukey, CPNS_KEY_LEN);
	cfg.dhe = dhe;
	st = cpns_procb_start(nl, &cfg, cpns_node_now_ms(), &pb, &err);
	cpns_wipe(&cfg, sizeof(cfg));
	if (st < 0) {
		snprintf(outcome, outcome_size, "%s", err.msg);
		return CPNSCTL_EXIT_KERNEL;
	}
	while ((st = cpns_procb_state(pb)) == CPNS_PROCB_RUNNING ||
	       st == CPNS_PROCB_INSTALLED) {
		struct pollfd pfd = { .fd = cpns_procb_fd(pb), .events = POLLIN };
		uint64_t dl = cpns_procb_deadline(pb), now = cpns_node_now_ms();

		if (dl && now >= dl) {
			cpns_procb_timer(pb, now);
			continue;
		}
		if (poll(&pfd, 1, dl ? (int)(dl - now) : -1) > 0)
			cpns_procb_input(pb);
	}
	snprintf(outcome, outcome_size, "%s", cpns_procb_outcome(pb));
	switch (cpns_procb_failure(pb)) {
	case 0:
		status = CPNSCTL_EXIT_OK;
		break;
	case CPNS_PROCB_AUTH:
		status = CPNSCTL_EXIT_AUTH;
		break;
	case CPNS_PROCB_TIMEOUT:
	case CPNS_PROCB_UNREACHABLE:
		status = CPNSCTL_EXIT_UNREACHABLE;
		break;
	default:
		status = CPNSCTL_EXIT_KERNEL;
	}
	cpns_procb_free(pb);
	return status;
}

int cpnsctl_do_connect(struct cpnsctl *c, int argc, char **argv)
{
	uint8_t server[CPNS_ID_LEN];
	struct sockaddr_storage ep;
	socklen_t ep_len = 0;
	struct cpnsctl_enrolment e;
	struct cpns_err err = { 0 };
	const char *dir = CPNSCTL_STATE_DIR;
	struct cpns_nl *nl;
	char outcome[CPNS_ERR_MSG_LEN + 64], sid[CPNS_ID_STRLEN];
	bool has_server = false, dhe = true;
	int status;

	if (argc == 1 && !strcmp(argv[0], "help")) {
		fputs(cpnsctl_connect_usage, stdout);
		return CPNSCTL_EXIT_OK;
	}
	for (; argc > 0; argc -= 2, argv += 2) {
		if (argc < 2)
			return cpnsctl_usage_error(cpnsctl_connect_usage,
						   "connect: \"%s\" needs a value",
						   argv[0]);
		if (!strcmp(argv[0], "server")) {
			if (cpnsctl_parse_id(argv[1], server))
				return cpnsctl_usage_error(cpnsctl_connect_usage,
							   "connect: invalid entity ID \"%s\"",
							   argv[1]);
			has_server = true;
		} else if (!strcmp(argv[0], "endpoint")) {
			if (cpnsctl_parse_addr(argv[1], &ep, &ep_len))
				return cpnsctl_usage_error(cpnsctl_connect_usage,
							   "connect: invalid address \"%s\"",
							   argv[1]);
		} else if (!strcmp(argv[0], "state-dir")) {
			dir = argv[1];
		} else if (!strcmp(argv[0], "mode")) {
			if (!strcmp(argv[1], "psk-dhe"))
				dhe = true;
			else if (!strcmp(argv[1], "psk"))
				dhe = false;
			else
				return cpnsctl_usage_error(cpnsctl_connect_usage,
							   "connect: unknown mode \"%s\"",
							   argv[1]);
		} else {
			return cpnsctl_usage_error(cpnsctl_connect_usage,
						   "connect: unexpected argument \"%s\"",
						   argv[0]);
		}
	}
	if (!has_server)
		return cpnsctl_usage_error(cpnsctl_connect_usage,
					   "connect: missing \"server ID\"");
	if (cpnsctl_enrolment_read(dir, server, &e, &err) < 0) {
		fprintf(stderr, "%s: connect: %s\n", cpnsctl_prog, err.msg);
		return CPNSCTL_EXIT_USAGE;
	}
	if (ep_len) {
		memcpy(&e.endpoint, &ep, sizeof(ep));
		e.endpoint_len = ep_len;
	}
	nl = cpnsctl_nl(c, &status);
	if (!nl) {
		cpns_wipe(&e, sizeof(e));
		return status;
	}
	status = cpnsctl_procb(nl, &e, dhe, outcome, sizeof(outcome));
	cpns_wipe(&e, sizeof(e));
	cpns_id_format(server, sid);
	if (status)
		fprintf(stderr, "%s: connect %s: %s\n", cpnsctl_prog, sid,
			outcome);
	else
		printf("connected to %s: %s\n", sid, outcome);
	return status;
}

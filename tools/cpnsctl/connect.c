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
#include <inttypes.h>
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

static void cpnsctl_procb_send(int hfd, const uint8_t *local,
			       const uint8_t *server,
			       const struct cpns_hs_send *s)
{
	struct cpns_hsock_tx tx = {
		.dst = server,
		.suite0 = s->prot == CPNS_PROT_SUITE0,
		.generation = s->prot == CPNS_PROT_SUITE0 ? 0 : s->generation,
	};

	(void)local;
	/* suite 0 to S goes to the uplink address of the address table */
	cpns_hsock_send(hfd, &tx, s->msg, s->len);
}

/* Waits for a message of the exchange or its deadline; the next actions
 * replace @act.
 */
static int cpnsctl_procb_wait(struct cpns_hs_init *hs, int hfd,
			      const uint8_t *server, uint8_t *buf, size_t cap,
			      struct cpns_hs_actions *act)
{
	uint64_t dl = act->deadline_ms, now;
	int v;

	cpns_hs_actions_wipe(act);
	memset(act, 0, sizeof(*act));
	while ((now = cpns_node_now_ms()) < dl) {
		struct pollfd pfd = { .fd = hfd, .events = POLLIN };
		struct cpns_hsock_rx rx;
		struct cpns_hs_meta meta;
		ssize_t n;

		if (poll(&pfd, 1, (int)(dl - now)) <= 0)
			continue;
		n = cpns_hsock_recv(hfd, buf, cap, &rx);
		if (n <= 0 || memcmp(rx.src, server, CPNS_ID_LEN))
			continue;
		memset(&meta, 0, sizeof(meta));
		meta.prot = rx.info.suite ? CPNS_PROT_PROTECTED :
					    CPNS_PROT_SUITE0;
		meta.src = rx.src;
		meta.dst = rx.info.dst_id;
		meta.addr = &rx.info.endpoint;
		meta.addr_len = rx.addr_len;
		meta.now_ms = cpns_node_now_ms();
		v = cpns_hs_init_recv(hs, buf, (size_t)n, &meta, act);
		if (v != CPNS_HS_DROP)
			return v;
		cpns_hs_actions_wipe(act);
		memset(act, 0, sizeof(*act));
	}
	return cpns_hs_init_timer(hs, now, act);
}

int cpnsctl_procb(struct cpns_nl *nl, const struct cpnsctl_enrolment *e,
		  bool dhe, char *outcome, size_t outcome_size)
{
	struct cpns_hs_init_cfg cfg = { 0 };
	struct cpns_hs_actions act;
	struct cpns_node_gens g;
	struct cpns_err err = { 0 };
	struct cpns_hs_init *hs = NULL;
	uint8_t buf[CPNS_MSG_MAX_LEN];
	uint8_t installed = 0;
	int hfd = -1, status = CPNSCTL_EXIT_KERNEL, v, r;

	if (cpns_node_id_add(nl, e->local, &err) < 0 ||
	    cpns_node_peer_set(nl, e->server,
			       (const struct sockaddr *)&e->endpoint, false,
			       true, &err) < 0 ||
	    cpns_node_gens(nl, e->local, e->server, &g, &err) < 0) {
		snprintf(outcome, outcome_size, "%s", err.msg);
		return CPNSCTL_EXIT_KERNEL;
	}
	if (g.n >= 2) {
		/* 2.10: no handshake while two generations are held */
		snprintf(outcome, outcome_size,
			 "two generations held for the pair; wait until the older one is erased");
		return CPNSCTL_EXIT_KERNEL;
	}
	if (cpns_hsock_open(e->local, &hfd, &err) < 0) {
		snprintf(outcome, outcome_size, "%s", err.msg);
		return CPNSCTL_EXIT_KERNEL;
	}

	memcpy(cfg.local_id, e->local, CPNS_ID_LEN);
	memcpy(cfg.peer_id, e->server, CPNS_ID_LEN);
	memcpy(cfg.k, e->eukey, CPNS_KEY_LEN);
	cfg.psk_kind = CPNS_HS_KIND_EUKEY;
	cfg.kid = e->kid;
	cfg.suites[0] = CPNS_SUITE_AES256GCM;
	cfg.suites[1] = CPNS_SUITE_CHACHA20POLY1305;
	cfg.n_suites = 2;
	cfg.mode = dhe ? CPNS_HS_MODE_PSK_DHE : CPNS_HS_MODE_PSK;
	cfg.prev_gen = g.tx_active ? g.tx_active : g.newest;
	memcpy(cfg.held, g.gen, g.n);
	cfg.n_held = g.n;

	memset(&act, 0, sizeof(act));
	hs = cpns_hs_init_new(&cfg, cpns_node_now_ms(), &act, &r);
	cpns_wipe(cfg.k, sizeof(cfg.k));
	if (!hs) {
		snprintf(outcome, outcome_size, "handshake start: %s",
			 strerror(r < 0 ? -r : EINVAL));
		goto out;
	}
	v = CPNS_HS_CONTINUE;
	for (;;) {
		if (act.install_valid) {
			if (cpns_node_install(nl, &act.install, &err) < 0) {
				snprintf(outcome, outcome_size,
					 "install failed: %s", err.msg);
				status = CPNSCTL_EXIT_KERNEL;
				goto out;
			}
			installed = act.install.generation;
			snprintf(outcome, outcome_size,
				 "generation %u suite %u kid %" PRIu32
				 " installed", installed, act.install.suite,
				 e->kid);
		}
		if (act.send_valid)
			cpnsctl_procb_send(hfd, e->local, e->server, &act.send);
		if (v == CPNS_HS_FAILED) {
			if (act.timeout) {
				snprintf(outcome, outcome_size,
					 "no answer from the server (timeout)");
				status = CPNSCTL_EXIT_UNREACHABLE;
			} else {
				snprintf(outcome, outcome_size, "%s %s",
					 act.peer_abort ? "Abort from the server:" :
							  "failed:",
					 cpns_reason_name(act.peer_abort ?
							  act.peer_abort :
							  act.reason));
				status = CPNSCTL_EXIT_AUTH;
			}
			goto out;
		}
		if (v == CPNS_HS_DONE || !act.deadline_ms)
			break;
		v = cpnsctl_procb_wait(hs, hfd, e->server, buf, sizeof(buf),
				       &act);
	}
	status = installed ? CPNSCTL_EXIT_OK : CPNSCTL_EXIT_KERNEL;
	if (!installed)
		snprintf(outcome, outcome_size, "ended without a session");
out:
	cpns_hs_actions_wipe(&act);
	cpns_hs_init_free(hs);
	if (hfd >= 0)
		close(hfd);
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

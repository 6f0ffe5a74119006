// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsctl agent: keeps the GW-S session of an enrolled GW alive.
 *
 * A single-threaded poll() loop over the netlink event socket, a signalfd
 * and a timer. Procedure B is run again (make-before-break: the new
 * generation is installed while the old one still carries traffic; the
 * kernel switches and erases, PROTOCOL.md 2.10) when
 *  - the pair holds no generation (start, erasure, lifetime end),
 *  - a generation of the pair reaches the epoch threshold (2.9),
 *  - the newest generation is older than the re-key age (24 h, 7),
 *  - a record from S arrives for a session the GW does not hold (S or the
 *    GW lost state).
 * Failed attempts back off exponentially (1 s doubling to 5 min, with up
 * to 10 % jitter). Lost notifications are recovered by querying the
 * sessions. SIGHUP re-reads the enrolment file and keeps the old one if
 * the new one is unusable; SIGTERM / SIGINT exit. One syslog line per
 * handshake.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <unistd.h>

#include "cpns_id.h"
#include "cpns_node.h"
#include "cpnsctl.h"

static const char cpnsctl_agent_usage[] =
	"Usage: cpnsctl agent server ID [ state-dir DIR ] [ endpoint ADDR ]\n"
	"                     [ mode { psk-dhe | psk } ] [ rekey-after SECONDS ]\n";

#define AGENT_BACKOFF_MIN_MS	1000
#define AGENT_BACKOFF_MAX_MS	300000
#define AGENT_CHECK_MS		30000
#define AGENT_REKEY_AGE_S	86400

struct cpnsctl_agent {
	struct cpns_nl *nl;
	struct cpnsctl_enrolment e;
	const char *dir;
	struct sockaddr_storage ep;
	socklen_t ep_len;
	bool dhe;
	uint64_t rekey_after_ms;
	bool need;
	const char *why;
	uint64_t next_try, backoff, next_check;
	uint8_t newest;
};

static void agent_check(struct cpnsctl_agent *a)
{
	struct cpns_node_gens g;
	struct cpns_err err = { 0 };
	size_t i;

	if (cpns_node_gens(a->nl, a->e.local, a->e.server, &g, &err) < 0) {
		syslog(LOG_WARNING, "session query: %s", err.msg);
		return;
	}
	a->newest = g.newest;
	if (!g.n && !a->need) {
		a->need = true;
		a->why = "no session";
	}
	for (i = 0; i < g.n; i++)
		if (g.gen[i] == g.newest && g.age_ms[i] >= a->rekey_after_ms &&
		    !a->need && g.n < 2) {
			a->need = true;
			a->why = "re-key age";
		}
}

static bool agent_is(struct nlattr *at, const uint8_t id[CPNS_ID_LEN])
{
	return at && nla_len(at) == CPNS_ID_LEN &&
	       !memcmp(nla_data(at), id, CPNS_ID_LEN);
}

static int agent_event(uint8_t cmd, struct nlattr **at, void *arg)
{
	struct cpnsctl_agent *a = arg;
	bool pair = agent_is(at[CPNS_A_LOCAL_ID], a->e.local) &&
		    agent_is(at[CPNS_A_PEER_ID], a->e.server);

	if (at[CPNS_A_LOST] && nla_get_u32(at[CPNS_A_LOST]))
		a->next_check = 0;	/* re-read the state */
	switch (cmd) {
	case CPNS_CMD_EPOCH_NTF:
		if (pair && at[CPNS_A_GENERATION] &&
		    nla_get_u8(at[CPNS_A_GENERATION]) == a->newest && !a->need) {
			a->need = true;
			a->why = "epoch threshold";
		}
		break;
	case CPNS_CMD_SESSION_ERASED_NTF:
		if (pair)
			a->next_check = 0;
		break;
	case CPNS_CMD_NO_SESSION_NTF:
		if (agent_is(at[CPNS_A_SRC_ID], a->e.server) &&
		    agent_is(at[CPNS_A_DST_ID], a->e.local) && !a->need) {
			a->need = true;
			a->why = "record for an unknown session from the server";
		}
		break;
	}
	return 0;
}

static int agent_load(struct cpnsctl_agent *a, const uint8_t *server)
{
	struct cpnsctl_enrolment e;
	struct cpns_err err = { 0 };

	if (cpnsctl_enrolment_read(a->dir, server, &e, &err) < 0) {
		syslog(LOG_ERR, "%s", err.msg);
		return -1;
	}
	if (a->ep_len) {
		memcpy(&e.endpoint, &a->ep, sizeof(a->ep));
		e.endpoint_len = a->ep_len;
	}
	cpns_wipe(&a->e, sizeof(a->e));
	a->e = e;
	cpns_wipe(&e, sizeof(e));
	return 0;
}

static void agent_attempt(struct cpnsctl_agent *a)
{
	char outcome[CPNS_ERR_MSG_LEN + 64], sid[CPNS_ID_STRLEN];
	uint64_t jitter;
	int st;

	cpns_id_format(a->e.server, sid);
	st = cpnsctl_procb(a->nl, &a->e, a->dhe, outcome, sizeof(outcome));
	if (!st) {
		syslog(LOG_INFO, "procedure B with %s (%s): %s", sid, a->why,
		       outcome);
		a->need = false;
		a->backoff = AGENT_BACKOFF_MIN_MS;
		a->next_check = 0;
		return;
	}
	jitter = (uint64_t)rand() % (a->backoff / 10 + 1);
	syslog(LOG_NOTICE, "procedure B with %s (%s): %s; retry in %" PRIu64 " ms",
	       sid, a->why, outcome, a->backoff + jitter);
	a->next_try = cpns_node_now_ms() + a->backoff + jitter;
	a->backoff = a->backoff * 2 > AGENT_BACKOFF_MAX_MS ?
		AGENT_BACKOFF_MAX_MS : a->backoff * 2;
}

int cpnsctl_do_agent(struct cpnsctl *c, int argc, char **argv)
{
	static struct cpnsctl_agent a;
	uint8_t server[CPNS_ID_LEN];
	struct cpns_err err = { 0 };
	bool has_server = false, stop = false;
	unsigned long v;
	sigset_t mask;
	int status, sfd, efd;

	a.dir = CPNSCTL_STATE_DIR;
	a.dhe = true;
	a.rekey_after_ms = AGENT_REKEY_AGE_S * 1000ULL;
	if (argc == 1 && !strcmp(argv[0], "help")) {
		fputs(cpnsctl_agent_usage, stdout);
		return CPNSCTL_EXIT_OK;
	}
	for (; argc > 0; argc -= 2, argv += 2) {
		if (argc < 2)
			return cpnsctl_usage_error(cpnsctl_agent_usage,
						   "agent: \"%s\" needs a value", argv[0]);
		if (!strcmp(argv[0], "server")) {
			if (cpnsctl_parse_id(argv[1], server))
				return cpnsctl_usage_error(cpnsctl_agent_usage,
							   "agent: invalid entity ID \"%s\"", argv[1]);
			has_server = true;
		} else if (!strcmp(argv[0], "state-dir")) {
			a.dir = argv[1];
		} else if (!strcmp(argv[0], "endpoint")) {
			if (cpnsctl_parse_addr(argv[1], &a.ep, &a.ep_len))
				return cpnsctl_usage_error(cpnsctl_agent_usage,
							   "agent: invalid address \"%s\"", argv[1]);
		} else if (!strcmp(argv[0], "mode")) {
			if (strcmp(argv[1], "psk") && strcmp(argv[1], "psk-dhe"))
				return cpnsctl_usage_error(cpnsctl_agent_usage,
							   "agent: unknown mode \"%s\"", argv[1]);
			a.dhe = !strcmp(argv[1], "psk-dhe");
		} else if (!strcmp(argv[0], "rekey-after")) {
			if (cpnsctl_parse_uint(argv[1], 10, AGENT_REKEY_AGE_S, &v))
				return cpnsctl_usage_error(cpnsctl_agent_usage,
							   "agent: rekey-after must be 10-%d seconds",
							   AGENT_REKEY_AGE_S);
			a.rekey_after_ms = v * 1000ULL;
		} else {
			return cpnsctl_usage_error(cpnsctl_agent_usage,
						   "agent: unexpected argument \"%s\"", argv[0]);
		}
	}
	if (!has_server)
		return cpnsctl_usage_error(cpnsctl_agent_usage,
					   "agent: missing \"server ID\"");
	/* under systemd stderr goes to the journal already */
	openlog("cpns-agent",
		LOG_PID | (getenv("INVOCATION_ID") ? 0 : LOG_PERROR),
		LOG_DAEMON);
	if (agent_load(&a, server) < 0)
		return CPNSCTL_EXIT_USAGE;
	a.nl = cpnsctl_nl(c, &status);
	if (!a.nl)
		return status;
	if (cpns_nl_events_open(a.nl, &err) < 0) {
		syslog(LOG_ERR, "events: %s", err.msg);
		return CPNSCTL_EXIT_KERNEL;
	}
	efd = cpns_nl_events_fd(a.nl);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		syslog(LOG_ERR, "signalfd: %m");
		return CPNSCTL_EXIT_KERNEL;
	}
	srand((unsigned int)(getpid() ^ cpns_node_now_ms()));
	a.backoff = AGENT_BACKOFF_MIN_MS;
	syslog(LOG_INFO, "started");
	while (!stop) {
		struct pollfd pfd[2] = {
			{ .fd = efd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		uint64_t now = cpns_node_now_ms(), wait;

		if (now >= a.next_check) {
			agent_check(&a);
			a.next_check = now + AGENT_CHECK_MS;
		}
		if (a.need && now >= a.next_try) {
			agent_attempt(&a);
			continue;
		}
		wait = a.next_check - now;
		if (a.need && a.next_try - now < wait)
			wait = a.next_try - now;
		if (poll(pfd, 2, (int)wait) <= 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			if (cpns_nl_events_read(a.nl, agent_event, &a, &err) < 0)
				a.next_check = 0;	/* lost: re-read */
		}
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo != SIGHUP) {
					stop = true;
				} else if (agent_load(&a, server) < 0) {
					syslog(LOG_ERR,
					       "reload failed; keeping the running enrolment");
				} else {
					syslog(LOG_NOTICE, "reloaded");
					a.backoff = AGENT_BACKOFF_MIN_MS;
					a.next_try = 0;
				}
			}
		}
	}
	syslog(LOG_INFO, "exiting");
	close(sfd);
	cpns_wipe(&a.e, sizeof(a.e));
	return CPNSCTL_EXIT_OK;
}

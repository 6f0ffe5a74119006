// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsctl agent: keeps the GW-S session of an enrolled GW alive.
 *
 * A single-threaded poll() loop over the netlink event socket, a signalfd
 * and, while procedure B runs, its handshake socket; the handshake is the
 * state machine of cpns_node.h, so signals and notifications are handled
 * at once even while S is silent. Procedure B is run again
 * (make-before-break: the new generation is installed while the old one
 * still carries traffic; the kernel switches and erases, PROTOCOL.md 2.10)
 * when
 *  - the pair holds no generation (start, erasure, lifetime end),
 *  - a generation of the pair reaches the epoch threshold (2.9),
 *  - the newest generation is older than the re-key age (24 h, 7),
 *  - a record from S arrives for a session the GW does not hold (S or the
 *    GW lost state).
 * Failed attempts back off exponentially (1 s doubling to 5 min, with up
 * to 10 % jitter); while two generations are held the agent waits for the
 * older one's erasure instead (2.10). Lost notifications are recovered by
 * querying the sessions. SIGHUP re-reads the enrolment file and keeps the
 * old one if the new one is unusable; SIGTERM / SIGINT exit, abandoning a
 * handshake in progress. One log line per handshake, to syslog or, with
 * "log stderr", to stderr with a monotonic time stamp.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
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
	"                     [ mode { psk-dhe | psk } ] [ rekey-after SECONDS ]\n"
	"                     [ log { syslog | stderr } ]\n";

#define AGENT_BACKOFF_MIN_MS	1000
#define AGENT_BACKOFF_MAX_MS	300000
#define AGENT_CHECK_MS		30000
/* a record for an unknown session starts a handshake at most this long
 * after the last one that succeeded: its header is not authenticated
 */
#define AGENT_NOSESS_HOLD_MS	10000
#define AGENT_REKEY_AGE_S	86400
/* 2.9: SHOULD start at 23 h +- a random 10 min, MUST by 24 h */
#define AGENT_REKEY_SOFT_MS	(23 * 3600 * 1000ULL)
#define AGENT_REKEY_SPREAD_MS	(10 * 60 * 1000ULL)

struct cpnsctl_agent {
	struct cpns_nl *nl;
	struct cpnsctl_enrolment e;
	uint8_t server[CPNS_ID_LEN];
	const char *dir;
	struct sockaddr_storage ep;
	socklen_t ep_len;
	bool dhe;
	uint64_t rekey_after_ms;	/* 0: 23 h +- 10 min, per generation */
	uint8_t jitter_gen;		/* the generation @jitter_ms is for */
	uint64_t jitter_ms;
	/* a handshake is wanted, and why (for the log line) */
	bool need;
	const char *why;
	/* the start was refused while two generations are held */
	bool busy;
	uint64_t next_try, backoff, next_check;
	/* from the last query: the newest generation and when it is due
	 * for the re-key age
	 */
	uint8_t newest;
	uint64_t age_due;
	/* the module's family is gone (unloaded, maybe loaded again under
	 * another family ID): nothing the agent holds works any more
	 */
	bool gone;
	/* the run of procedure B, if any, and whether its line is logged */
	struct cpns_procb *pb;
	const char *pb_why;
	bool pb_logged;
	uint64_t last_ok;		/* when a handshake last succeeded */
};

static const char agent_why_nosess[] =
	"record for an unknown session from the server";

static bool agent_stderr;

static void agent_log(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void agent_log(int prio, const char *fmt, ...)
{
	char line[CPNS_ERR_MSG_LEN + 256];
	uint64_t t;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!agent_stderr) {
		syslog(prio, "%s", line);
		return;
	}
	t = cpns_node_now_ms();
	fprintf(stderr, "cpns-agent[%d]: [%" PRIu64 ".%03u] %s\n", (int)getpid(),
		t / 1000, (unsigned int)(t % 1000), line);
}

/* Any other reason replaces a record for an unknown session: it is not
 * held back as that one is.
 */
static void agent_want(struct cpnsctl_agent *a, const char *why)
{
	if (a->need && a->why != agent_why_nosess)
		return;
	a->need = true;
	a->why = why;
}

/* When the wanted handshake may start. */
static uint64_t agent_due(const struct cpnsctl_agent *a)
{
	uint64_t hold = a->last_ok + AGENT_NOSESS_HOLD_MS;

	if (a->why == agent_why_nosess && a->last_ok && a->next_try < hold)
		return hold;
	return a->next_try;
}

static void agent_check(struct cpnsctl_agent *a, uint64_t now)
{
	struct cpns_node_gens g;
	struct cpns_err err = { 0 };
	uint64_t due;
	size_t i;

	a->age_due = 0;
	if (cpns_node_gens(a->nl, a->e.local, a->e.server, &g, &err) < 0) {
		agent_log(LOG_WARNING, "session query: %s", err.msg);
		a->gone = err.code == -ENOENT;
		return;
	}
	a->newest = g.newest;
	if (!g.n)
		agent_want(a, "no session");
	if (g.n != 1)	/* two: the newer one is recent */
		return;
	due = a->rekey_after_ms;
	if (!due) {
		/* the gateways that connected together do not all re-key
		 * together a day later
		 */
		if (a->jitter_gen != g.newest) {
			a->jitter_gen = g.newest;
			a->jitter_ms = (uint64_t)rand() %
				       (2 * AGENT_REKEY_SPREAD_MS + 1);
		}
		due = AGENT_REKEY_SOFT_MS - AGENT_REKEY_SPREAD_MS +
		      a->jitter_ms;
	}
	for (i = 0; i < g.n; i++) {
		if (g.gen[i] != g.newest)
			continue;
		/* the notification may have come while no one listened */
		if (g.rekey_epoch[i])
			agent_want(a, "epoch threshold");
		if (g.age_ms[i] >= due)
			agent_want(a, "re-key age");
		else
			a->age_due = now + due - g.age_ms[i];
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
		    nla_get_u8(at[CPNS_A_GENERATION]) == a->newest)
			agent_want(a, "epoch threshold");
		break;
	case CPNS_CMD_SESSION_ERASED_NTF:
		if (pair) {
			a->next_check = 0;
			if (a->busy)	/* the wait for an erasure is over */
				a->next_try = 0;
		}
		break;
	case CPNS_CMD_NO_SESSION_NTF:
		if (agent_is(at[CPNS_A_SRC_ID], a->e.server) &&
		    agent_is(at[CPNS_A_DST_ID], a->e.local))
			agent_want(a, agent_why_nosess);
		break;
	}
	return 0;
}

static int agent_load(struct cpnsctl_agent *a)
{
	struct cpnsctl_enrolment e;
	struct cpns_err err = { 0 };

	if (cpnsctl_enrolment_read(a->dir, a->server, &e, &err) < 0) {
		agent_log(LOG_ERR, "%s", err.msg);
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

/* The next try is counted from the line that announces it: the attempt
 * itself may have taken a while (the first use of the crypto library, a
 * slow netlink request), and so may the logging.
 */
static void agent_failed(struct cpnsctl_agent *a, const char *why,
			 const char *outcome)
{
	char sid[CPNS_ID_STRLEN];
	uint64_t jitter;

	cpns_id_format(a->e.server, sid);
	jitter = (uint64_t)rand() % (a->backoff / 10 + 1);
	agent_log(LOG_NOTICE, "procedure B with %s (%s): %s; retry in %" PRIu64 " ms",
		  sid, why, outcome, a->backoff + jitter);
	a->next_try = cpns_node_now_ms() + a->backoff + jitter;
	a->backoff = a->backoff * 2 > AGENT_BACKOFF_MAX_MS ?
		AGENT_BACKOFF_MAX_MS : a->backoff * 2;
}

/* Logs and ends the run of procedure B once it has an outcome. */
static void agent_progress(struct cpnsctl_agent *a)
{
	char sid[CPNS_ID_STRLEN];
	int st = cpns_procb_state(a->pb);

	if (st == CPNS_PROCB_RUNNING)
		return;
	if (st == CPNS_PROCB_FAILED) {
		agent_failed(a, a->pb_why, cpns_procb_outcome(a->pb));
	} else if (!a->pb_logged) {
		cpns_id_format(a->e.server, sid);
		agent_log(LOG_INFO, "procedure B with %s (%s): %s", sid,
			  a->pb_why, cpns_procb_outcome(a->pb));
		a->pb_logged = true;
		a->need = false;
		a->last_ok = cpns_node_now_ms();
		a->backoff = AGENT_BACKOFF_MIN_MS;
		a->next_check = 0;
	}
	/* INSTALLED: the repeats of the confirmation Ack remain */
	if (st == CPNS_PROCB_FAILED || st == CPNS_PROCB_DONE) {
		cpns_procb_free(a->pb);
		a->pb = NULL;
	}
}

static void agent_start(struct cpnsctl_agent *a, uint64_t now)
{
	struct cpns_procb_cfg cfg = { 0 };
	struct cpns_err err = { 0 };
	char sid[CPNS_ID_STRLEN];
	int r;

	memcpy(cfg.local, a->e.local, CPNS_ID_LEN);
	memcpy(cfg.server, a->e.server, CPNS_ID_LEN);
	memcpy(&cfg.endpoint, &a->e.endpoint, sizeof(cfg.endpoint));
	cfg.endpoint_len = a->e.endpoint_len;
	cfg.kid = a->e.kid;
	memcpy(cfg.eukey, a->e.eukey, CPNS_KEY_LEN);
	cfg.dhe = a->dhe;
	/* a run that starts ends the Ack repeats of the previous one; one
	 * that waits (-EBUSY) leaves them going
	 */
	r = cpns_procb_start(a->nl, &cfg, now, &a->pb, &err);
	cpns_wipe(&cfg, sizeof(cfg));
	if (r == -EBUSY) {
		/* not an attempt: the erasure notification ends the wait */
		if (!a->busy) {
			cpns_id_format(a->e.server, sid);
			agent_log(LOG_INFO, "procedure B with %s (%s): %s", sid,
				  a->why, err.msg);
		}
		a->busy = true;
		a->next_try = now + AGENT_CHECK_MS;
		return;
	}
	a->busy = false;
	if (r < 0) {
		agent_failed(a, a->why, err.msg);
		return;
	}
	a->pb_why = a->why;
	a->pb_logged = false;
	agent_progress(a);
}

static bool agent_running(const struct cpnsctl_agent *a)
{
	return a->pb && cpns_procb_state(a->pb) == CPNS_PROCB_RUNNING;
}

static void agent_signals(struct cpnsctl_agent *a, int sfd, bool *stop)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo != SIGHUP) {
			*stop = true;
		} else if (agent_load(a) < 0) {
			agent_log(LOG_ERR,
				  "reload failed; keeping the running enrolment");
		} else {
			/* a run in progress keeps the key it started with */
			agent_log(LOG_NOTICE, "reloaded");
			a->backoff = AGENT_BACKOFF_MIN_MS;
			a->next_try = 0;
			a->next_check = 0;
		}
	}
}

static int agent_loop(struct cpnsctl_agent *a, int efd, int sfd)
{
	struct cpns_err err = { 0 };
	bool stop = false;

	while (!stop && !a->gone) {
		struct pollfd pfd[3] = {
			{ .fd = efd, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
			{ .fd = -1, .events = POLLIN },
		};
		uint64_t now = cpns_node_now_ms(), until, dl;

		if (now >= a->next_check) {
			agent_check(a, now);
			a->next_check = now + AGENT_CHECK_MS;
			if (a->age_due && a->age_due < a->next_check)
				a->next_check = a->age_due;
		}
		dl = a->pb ? cpns_procb_deadline(a->pb) : 0;
		if (dl && now >= dl) {
			cpns_procb_timer(a->pb, now);
			agent_progress(a);
			continue;
		}
		if (a->need && !agent_running(a) && now >= agent_due(a)) {
			agent_start(a, now);
			continue;
		}
		until = a->next_check;
		if (a->need && !agent_running(a) && agent_due(a) < until)
			until = agent_due(a);
		if (dl && dl < until)
			until = dl;
		if (a->pb)
			pfd[2].fd = cpns_procb_fd(a->pb);
		if (poll(pfd, 3, (int)(until - now)) <= 0)
			continue;
		if (pfd[1].revents & POLLIN)
			agent_signals(a, sfd, &stop);
		/* an error pending on a socket (an overrun, a local ID gone)
		 * is cleared by reading it, not by waiting: poll() would
		 * return at once, again and again
		 */
		if (pfd[0].revents & (POLLIN | POLLERR)) {
			if (cpns_nl_events_read(a->nl, agent_event, a, &err) < 0)
				a->next_check = 0;	/* lost: re-read */
		}
		if (a->pb && (pfd[2].revents & (POLLIN | POLLERR))) {
			cpns_procb_input(a->pb);
			agent_progress(a);
		}
	}
	return 0;
}

int cpnsctl_do_agent(struct cpnsctl *c, int argc, char **argv)
{
	static struct cpnsctl_agent a;
	struct cpns_err err = { 0 };
	bool has_server = false;
	unsigned long v;
	sigset_t mask;
	int status, sfd, efd;

	a.dir = CPNSCTL_STATE_DIR;
	a.dhe = true;
	a.rekey_after_ms = 0;
	if (argc == 1 && !strcmp(argv[0], "help")) {
		fputs(cpnsctl_agent_usage, stdout);
		return CPNSCTL_EXIT_OK;
	}
	/* a daemon with its own signal handling and state: the whole process */
	if (c->in_batch)
		return cpnsctl_usage_error(cpnsctl_agent_usage,
					   "agent: runs on its own, not in a batch");
	for (; argc > 0; argc -= 2, argv += 2) {
		if (argc < 2)
			return cpnsctl_usage_error(cpnsctl_agent_usage,
						   "agent: \"%s\" needs a value", argv[0]);
		if (!strcmp(argv[0], "server")) {
			if (cpnsctl_parse_id(argv[1], a.server))
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
		} else if (!strcmp(argv[0], "log")) {
			if (strcmp(argv[1], "syslog") && strcmp(argv[1], "stderr"))
				return cpnsctl_usage_error(cpnsctl_agent_usage,
							   "agent: log is \"syslog\" or \"stderr\", not \"%s\"",
							   argv[1]);
			agent_stderr = !strcmp(argv[1], "stderr");
		} else {
			return cpnsctl_usage_error(cpnsctl_agent_usage,
						   "agent: unexpected argument \"%s\"", argv[0]);
		}
	}
	if (!has_server)
		return cpnsctl_usage_error(cpnsctl_agent_usage,
					   "agent: missing \"server ID\"");
	/* under systemd stderr goes to the journal already */
	if (!agent_stderr)
		openlog("cpns-agent",
			LOG_PID | (getenv("INVOCATION_ID") ? 0 : LOG_PERROR),
			LOG_DAEMON);
	if (agent_load(&a) < 0)
		return CPNSCTL_EXIT_USAGE;
	a.nl = cpnsctl_nl(c, &status);
	if (!a.nl)
		goto err_wipe;
	status = CPNSCTL_EXIT_KERNEL;
	if (cpns_nl_events_open(a.nl, &err) < 0) {
		agent_log(LOG_ERR, "events: %s", err.msg);
		goto err_wipe;
	}
	efd = cpns_nl_events_fd(a.nl);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) {
		agent_log(LOG_ERR, "signalfd: %s", strerror(errno));
		goto err_wipe;
	}
	srand((unsigned int)(getpid() ^ cpns_node_now_ms()));
	a.backoff = AGENT_BACKOFF_MIN_MS;
	agent_log(LOG_INFO, "started");
	agent_loop(&a, efd, sfd);
	if (a.gone)
		agent_log(LOG_ERR, "the cpns module is gone; exiting (a service manager restarts the agent)");
	agent_log(LOG_INFO, "exiting");
	cpns_procb_free(a.pb);
	a.pb = NULL;
	close(sfd);
	status = a.gone ? CPNSCTL_EXIT_KERNEL : CPNSCTL_EXIT_OK;
err_wipe:
	cpns_wipe(&a.e, sizeof(a.e));
	return status;
}

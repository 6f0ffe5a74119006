// SPDX-License-Identifier: GPL-2.0
/*
 * auth_bench: the cost of procedure B (PROTOCOL.md 7, H(EUKey)).
 *
 *   auth_bench crypto SECONDS [GATEWAYS]
 *	Both sides of the handshake in this process with the libcpns engines
 *	(cpns_hs_init / cpns_hs_resp, psk_dhe, as cpnsctl connect runs it),
 *	messages passed by memory: no sockets, no registry, no kernel. Prints
 *	handshakes per second and the time each side's calls took.
 *
 *   auth_bench run [-n NETNS] [-p PID] SERVER-ID SECONDS STATE-DIR...
 *	One gateway per STATE-DIR (the enrolment file cpnsctl enroll wrote
 *	there), all running procedure B against cpnsd over AF_CPNS at once,
 *	each starting a new handshake as soon as its last one completed, for
 *	SECONDS, after an untimed warm-up in which each authenticates once.
 *	Prints the completed authentications per second and, with -p, the
 *	CPU time process PID (cpnsd) used over the timed run.
 *
 * The "run" clients stop at m4: they verify the server (HASH_R) but install
 * no generation and send no confirmation Ack, so that a gateway may
 * authenticate again at once (section 2.10 forbids a third generation on
 * the initiator side). The server does all of its part: key lookup in its
 * registry, generation install, address learning, m4, its log line.
 *
 * Output: one JSON object on stdout.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cpns_crypto.h"
#include "cpns_hs.h"
#include "cpns_id.h"
#include "cpns_keyfile.h"
#include "cpns_nl.h"
#include "cpns_node.h"

#define AB_MAX_GWS	1024

struct ab_gw {
	uint8_t id[CPNS_ID_LEN];
	uint8_t k[CPNS_KEY_LEN];
	uint32_t kid;
	uint8_t last_gen;		/* crypto mode: the responder's "last" */
	struct cpns_hs_init *hs;	/* run mode: the exchange in flight */
	uint64_t deadline, started;
};

static struct ab_gw ab_gws[AB_MAX_GWS];
static size_t ab_n;
static uint8_t ab_server[CPNS_ID_LEN];

static uint64_t ab_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double ab_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void ab_init_cfg(const struct ab_gw *g, struct cpns_hs_init_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->local_id, g->id, CPNS_ID_LEN);
	memcpy(cfg->peer_id, ab_server, CPNS_ID_LEN);
	memcpy(cfg->k, g->k, CPNS_KEY_LEN);
	cfg->psk_kind = CPNS_HS_KIND_EUKEY;
	cfg->kid = g->kid;
	cfg->suites[0] = CPNS_SUITE_AES256GCM;
	cfg->suites[1] = CPNS_SUITE_CHACHA20POLY1305;
	cfg->n_suites = 2;
	cfg->mode = CPNS_HS_MODE_PSK_DHE;
}

/* ---- crypto only ------------------------------------------------------ */

static int ab_lookup(void *ctx, const struct cpns_hs_key_req *req,
		     struct cpns_hs_key *key)
{
	size_t i;

	(void)ctx;
	for (i = 0; i < ab_n; i++)
		if (!memcmp(ab_gws[i].id, req->initiator_id, CPNS_ID_LEN))
			break;
	if (i == ab_n)
		return CPNS_REASON_NOT_AUTHORIZED;
	if (ab_gws[i].kid != req->kid)
		return CPNS_REASON_UNKNOWN_KEY;
	memcpy(key->k, ab_gws[i].k, CPNS_KEY_LEN);
	key->last_gen = ab_gws[i].last_gen;
	return 0;
}

/* One handshake; adds the time of each side's calls. 0 when it completed. */
static int ab_one(struct cpns_hs_resp *resp, struct ab_gw *g,
		  uint64_t *t_init, uint64_t *t_resp)
{
	struct cpns_hs_init_cfg cfg;
	struct cpns_hs_actions ai, ar;
	struct cpns_hs_meta mi = { .prot = CPNS_PROT_SUITE0 };
	struct cpns_hs_meta mr = { .prot = CPNS_PROT_SUITE0 };
	struct cpns_hs_init *hs;
	uint64_t t0, t1, t2;
	int err, v = CPNS_HS_FAILED, step;

	ab_init_cfg(g, &cfg);
	mr.src = g->id;
	mr.dst = ab_server;
	mr.addr = g->id;		/* a distinct "address" per gateway */
	mr.addr_len = 4;
	mi.src = ab_server;
	mi.dst = g->id;
	memset(&ai, 0, sizeof(ai));
	memset(&ar, 0, sizeof(ar));
	t0 = ab_ns();
	hs = cpns_hs_init_new(&cfg, t0 / 1000000, &ai, &err);
	t1 = ab_ns();
	*t_init += t1 - t0;
	if (!hs)
		return -1;
	/* m1 -> m2 -> m3 -> m4 */
	for (step = 0; step < 2; step++) {
		if (!ai.send_valid)
			break;
		mr.now_ms = t1 / 1000000;
		v = cpns_hs_resp_recv(resp, ai.send.msg, ai.send.len, &mr, &ar);
		t2 = ab_ns();
		*t_resp += t2 - t1;
		if (ar.assigned_generation)
			g->last_gen = ar.assigned_generation;
		cpns_hs_actions_wipe(&ai);
		if (!ar.send_valid)
			break;
		mi.now_ms = t2 / 1000000;
		v = cpns_hs_init_recv(hs, ar.send.msg, ar.send.len, &mi, &ai);
		t1 = ab_ns();
		*t_init += t1 - t2;
		cpns_hs_actions_wipe(&ar);
	}
	cpns_hs_actions_wipe(&ai);
	cpns_hs_actions_wipe(&ar);
	cpns_hs_init_free(hs);
	return v == CPNS_HS_COMPLETE ? 0 : -1;
}

static int ab_crypto(double secs, size_t n)
{
	struct cpns_hs_resp_cfg rc = { 0 };
	struct cpns_hs_resp *resp;
	uint64_t t_init = 0, t_resp = 0, start, end, done = 0, failed = 0;
	double cpu0, wall;
	size_t i;

	if (!n || n > AB_MAX_GWS)
		return 1;
	ab_n = n;
	memset(ab_server, 0x5e, CPNS_ID_LEN);
	for (i = 0; i < n; i++) {
		memset(ab_gws[i].id, 0x6a, CPNS_ID_LEN);
		ab_gws[i].id[14] = (uint8_t)(i >> 8);
		ab_gws[i].id[15] = (uint8_t)i;
		ab_gws[i].kid = 1;
		if (cpns_random(NULL, ab_gws[i].k, CPNS_KEY_LEN) < 0)
			return 1;
	}
	memcpy(rc.local_id, ab_server, CPNS_ID_LEN);
	rc.suites[0] = CPNS_SUITE_AES256GCM;
	rc.suites[1] = CPNS_SUITE_CHACHA20POLY1305;
	rc.n_suites = 2;
	rc.lookup = ab_lookup;
	resp = cpns_hs_resp_new(&rc);
	if (!resp)
		return 1;
	cpu0 = ab_cpu_s();
	start = ab_ns();
	end = start + (uint64_t)(secs * 1e9);
	for (i = 0; ab_ns() < end; i = (i + 1) % n) {
		if (ab_one(resp, &ab_gws[i], &t_init, &t_resp))
			failed++;
		else
			done++;
	}
	wall = (ab_ns() - start) / 1e9;
	printf("{\"case\":\"auth-crypto\",\"gateways\":%zu,\"seconds\":%.3f,"
	       "\"handshakes\":%" PRIu64 ",\"failed\":%" PRIu64 ","
	       "\"per_s\":%.1f,\"initiator_us\":%.1f,\"responder_us\":%.1f,"
	       "\"cpu_seconds\":%.3f}\n",
	       n, wall, done, failed, done / wall,
	       done ? t_init / 1e3 / done : 0.0,
	       done ? t_resp / 1e3 / done : 0.0, ab_cpu_s() - cpu0);
	cpns_hs_resp_free(resp);
	cpns_wipe(ab_gws, sizeof(ab_gws));
	return failed ? 1 : 0;
}

/* ---- against the server ----------------------------------------------- */

/* The enrolment file of cpnsctl enroll: "key value" lines. */
static int ab_read_enrolment(const char *dir, struct ab_gw *g,
			     struct sockaddr_storage *ep, socklen_t *ep_len)
{
	char sid[CPNS_ID_STRLEN], path[4096], line[256], key[32], val[160];
	unsigned int seen = 0;
	FILE *f;

	cpns_id_format(ab_server, sid);
	snprintf(path, sizeof(path), "%s/server-%s.conf", dir, sid);
	f = fopen(path, "re");
	if (!f) {
		fprintf(stderr, "auth_bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%31s %159s", key, val) != 2 || key[0] == '#')
			continue;
		if (!strcmp(key, "local") &&
		    !cpns_id_parse(val, g->id, CPNS_ID_VALID))
			seen |= 1;
		else if (!strcmp(key, "kid"))
			g->kid = (uint32_t)strtoul(val, NULL, 10), seen |= 2;
		else if (!strcmp(key, "eukey") &&
			 !cpns_key_parse((const uint8_t *)val, strlen(val),
					 path, g->k, NULL))
			seen |= 4;
		else if (!strcmp(key, "endpoint") &&
			 !cpns_addr_parse(val, CPNS_DEFAULT_UDP_PORT, ep,
					  ep_len))
			seen |= 8;
	}
	fclose(f);
	cpns_wipe(line, sizeof(line));
	cpns_wipe(val, sizeof(val));
	if (seen != 15) {
		fprintf(stderr, "auth_bench: %s: incomplete enrolment\n", path);
		return -1;
	}
	return 0;
}

struct ab_stats {
	uint64_t done, failed, timeouts, rtx, lat_ns, lat_max_ns;
};

static void ab_send(const struct cpns_hsock *hs, const struct ab_gw *g,
		    const struct cpns_hs_actions *act)
{
	struct cpns_hsock_tx tx = {
		.src = g->id,
		.dst = ab_server,
		.suite0 = true,
	};

	/* the client installs nothing: only suite 0 messages leave */
	if (act->send_valid && act->send.prot == CPNS_PROT_SUITE0)
		cpns_hsock_send(hs, &tx, act->send.msg, act->send.len);
}

static void ab_start(const struct cpns_hsock *hs, struct ab_gw *g,
		     uint64_t now_ns)
{
	struct cpns_hs_init_cfg cfg;
	struct cpns_hs_actions act;
	int err;

	ab_init_cfg(g, &cfg);
	memset(&act, 0, sizeof(act));
	g->hs = cpns_hs_init_new(&cfg, now_ns / 1000000, &act, &err);
	cpns_wipe(cfg.k, sizeof(cfg.k));
	g->started = now_ns;
	if (g->hs) {
		ab_send(hs, g, &act);
		g->deadline = act.deadline_ms;
	}
	cpns_hs_actions_wipe(&act);
}

/* The exchange of @g moved on with verdict @v and actions @act. */
static void ab_step(const struct cpns_hsock *hs, struct ab_gw *g, int v,
		    struct cpns_hs_actions *act, uint64_t now_ns, bool more,
		    struct ab_stats *st)
{
	if (v == CPNS_HS_COMPLETE || v == CPNS_HS_FAILED) {
		if (v == CPNS_HS_COMPLETE) {
			uint64_t lat = now_ns - g->started;

			st->done++;
			st->lat_ns += lat;
			if (lat > st->lat_max_ns)
				st->lat_max_ns = lat;
		} else {
			st->failed++;
			st->timeouts += act->timeout;
		}
		cpns_hs_init_free(g->hs);
		g->hs = NULL;
		if (more)
			ab_start(hs, g, now_ns);
		return;
	}
	if (act->send_valid)
		ab_send(hs, g, act);
	if (act->deadline_ms)
		g->deadline = act->deadline_ms;
}

/*
 * Runs the exchanges until @end (ns); each gateway starts a new one when
 * its last ended, except with @warm: then no exchange starts, and the
 * loop returns once none is left in flight (the warm-up, and the end of
 * a timed run).
 */
static void ab_loop(const struct cpns_hsock *hs, uint64_t end, bool warm,
		    struct ab_stats *st)
{
	uint8_t buf[CPNS_MSG_MAX_LEN];
	uint64_t now;
	size_t i, busy, n = ab_n;

	while ((now = ab_ns()) < end) {
		struct pollfd pfd = { .fd = hs->fd, .events = POLLIN };
		uint64_t next = end / 1000000;
		struct cpns_hsock_rx rx;
		struct cpns_hs_actions act;
		struct cpns_hs_meta meta;
		ssize_t len;
		int v;

		busy = 0;
		for (i = 0; i < n; i++) {
			struct ab_gw *g = &ab_gws[i];

			if (!g->hs) {
				if (!warm)
					ab_start(hs, g, now);
				continue;
			}
			if (g->deadline <= now / 1000000) {
				memset(&act, 0, sizeof(act));
				v = cpns_hs_init_timer(g->hs, now / 1000000,
						       &act);
				st->rtx += v == CPNS_HS_CONTINUE;
				ab_step(hs, g, v, &act, now, !warm, st);
				cpns_hs_actions_wipe(&act);
			}
			if (g->hs && g->deadline < next)
				next = g->deadline;
			busy += !!g->hs;
		}
		if (warm && !busy)
			break;
		if (poll(&pfd, 1, next > now / 1000000 ?
				  (int)(next - now / 1000000) : 0) <= 0)
			continue;
		while ((len = cpns_hsock_recv(hs, buf, sizeof(buf), &rx)) > 0) {
			struct ab_gw *g = NULL;

			for (i = 0; i < n; i++)
				if (!memcmp(ab_gws[i].id, rx.info.dst_id,
					    CPNS_ID_LEN)) {
					g = &ab_gws[i];
					break;
				}
			if (!g || !g->hs || memcmp(rx.src, ab_server, CPNS_ID_LEN))
				continue;
			now = ab_ns();
			memset(&meta, 0, sizeof(meta));
			meta.prot = rx.info.suite ? CPNS_PROT_PROTECTED :
						    CPNS_PROT_SUITE0;
			meta.src = rx.src;
			meta.dst = rx.info.dst_id;
			meta.addr = &rx.info.endpoint;
			meta.addr_len = rx.addr_len;
			meta.now_ms = now / 1000000;
			memset(&act, 0, sizeof(act));
			v = cpns_hs_init_recv(g->hs, buf, (size_t)len, &meta,
					      &act);
			if (v != CPNS_HS_DROP)
				ab_step(hs, g, v, &act, now,
					!warm && now < end, st);
			cpns_hs_actions_wipe(&act);
		}
	}
}

/* utime + stime of process @pid in seconds, or -1. */
static double ab_proc_cpu(int pid, double *sys)
{
	unsigned long ut, st;
	char path[64];
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	/* the comm field has no blank for cpnsd */
	r = fscanf(f, "%*d %*s %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
		   &ut, &st);
	fclose(f);
	if (r != 2)
		return -1;
	*sys = (double)st / sysconf(_SC_CLK_TCK);
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static int ab_run(const char *netns, int pid, double secs, char **dirs,
		  size_t n)
{
	struct sockaddr_storage ep;
	socklen_t ep_len = 0;
	struct cpns_err err = { 0 };
	struct ab_stats st = { 0 }, warm = { 0 }, tail = { 0 };
	struct cpns_nl *nl;
	uint64_t start;
	double cpu0, ccpu, wall, srv0 = -1, srv1 = -1, sys0 = 0, sys1 = 0;
	struct cpns_hsock hs;
	size_t i;

	if (!n || n > AB_MAX_GWS)
		return 1;
	if (netns && cpns_netns_enter(netns, &err) < 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (ab_read_enrolment(dirs[i], &ab_gws[i], &ep, &ep_len) < 0)
			return 1;
	ab_n = n;
	if (cpns_nl_open(&nl, &err) < 0)
		goto fail;
	for (i = 0; i < n; i++)
		if (cpns_node_id_add(nl, ab_gws[i].id, &err) < 0)
			goto fail;
	if (cpns_node_peer_set(nl, ab_server, (const struct sockaddr *)&ep,
			       false, true, &err) < 0)
		goto fail;
	if (cpns_hsock_open(NULL, &hs, &err) < 0)
		goto fail;

	/*
	 * Warm-up: every gateway authenticates once, untimed. The first
	 * generation install of a suite makes the kernel load and test its
	 * crypto modules (seconds under TCG), which is not what is measured.
	 */
	for (i = 0; i < n; i++)
		ab_start(&hs, &ab_gws[i], ab_ns());
	ab_loop(&hs, ab_ns() + 60 * 1000000000ull, true, &warm);
	if (warm.done < n) {
		fprintf(stderr, "auth_bench: warm-up: %" PRIu64 " of %zu gateways authenticated (%" PRIu64 " failed, %" PRIu64 " of them timed out)\n",
			warm.done, n, warm.failed, warm.timeouts);
		return 1;
	}
	if (pid)
		srv0 = ab_proc_cpu(pid, &sys0);
	cpu0 = ab_cpu_s();
	start = ab_ns();
	for (i = 0; i < n; i++)
		ab_start(&hs, &ab_gws[i], start);
	ab_loop(&hs, start + (uint64_t)(secs * 1e9), false, &st);
	if (pid)
		srv1 = ab_proc_cpu(pid, &sys1);
	wall = (ab_ns() - start) / 1e9;
	ccpu = ab_cpu_s() - cpu0;
	/*
	 * The exchanges in flight finish, untimed. Left after m2, each would
	 * hold one of the half-open exchanges section 11 allows per source
	 * address for 30 s at the server, and the gateways share an address:
	 * with all 16 held, the warm-up of a run right after this one could
	 * not start a single exchange.
	 */
	ab_loop(&hs, ab_ns() + 60 * 1000000000ull, true, &tail);
	printf("{\"case\":\"auth-server\",\"gateways\":%zu,\"seconds\":%.3f,"
	       "\"completed\":%" PRIu64 ",\"failed\":%" PRIu64 ","
	       "\"timeouts\":%" PRIu64 ",\"retransmissions\":%" PRIu64 ","
	       "\"per_s\":%.1f,\"latency_ms\":%.1f,\"latency_max_ms\":%.1f,"
	       "\"client_cpu_seconds\":%.3f",
	       n, wall, st.done, st.failed, st.timeouts, st.rtx,
	       st.done / wall, st.done ? st.lat_ns / 1e6 / st.done : 0.0,
	       st.lat_max_ns / 1e6, ccpu);
	/* not in the figures above: the exchanges finished after the run */
	printf(",\"after_run_completed\":%" PRIu64 ",\"after_run_failed\":%" PRIu64,
	       tail.done, tail.failed);
	if (srv0 >= 0 && srv1 >= 0)
		printf(",\"server_cpu_seconds\":%.2f,\"server_sys_cpu_seconds\":%.2f",
		       srv1 - srv0, sys1 - sys0);
	printf("}\n");
	for (i = 0; i < n; i++)
		cpns_hs_init_free(ab_gws[i].hs);
	cpns_wipe(ab_gws, sizeof(ab_gws));
	close(hs.fd);
	cpns_nl_close(nl);
	return 0;
fail:
	fprintf(stderr, "auth_bench: %s\n", err.msg);
	return 1;
}

static int ab_usage(void)
{
	fputs("Usage: auth_bench crypto SECONDS [GATEWAYS]\n"
	      "       auth_bench run [-n NETNS] [-p PID] SERVER-ID SECONDS STATE-DIR...\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	const char *netns = NULL;
	double secs;
	int pid = 0;

	if (argc >= 3 && !strcmp(argv[1], "crypto")) {
		secs = atof(argv[2]);
		return ab_crypto(secs > 0 ? secs : 1,
				 argc > 3 ? (size_t)atoi(argv[3]) : 16);
	}
	if (argc < 2 || strcmp(argv[1], "run"))
		return ab_usage();
	argc -= 2;
	argv += 2;
	while (argc >= 2 && (!strcmp(argv[0], "-n") || !strcmp(argv[0], "-p"))) {
		if (argv[0][1] == 'n')
			netns = argv[1];
		else
			pid = atoi(argv[1]);
		argc -= 2;
		argv += 2;
	}
	if (argc < 3 || cpns_id_parse(argv[0], ab_server, CPNS_ID_VALID) < 0)
		return ab_usage();
	secs = atof(argv[1]);
	return ab_run(netns, pid, secs > 0 ? secs : 1, argv + 2,
		      (size_t)argc - 2);
}

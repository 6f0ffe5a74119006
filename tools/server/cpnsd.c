// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsd: the CPNS Server (S) handshake service.
 *
 * One process, one thread, one poll() loop over the handshake socket
 * (AF_CPNS port 1 of ID_S) and a signalfd, with timers. It serves
 * procedure A (EUKey assignment, cpns_proca S engine on the SQLite
 * registry) and procedure B (H(EUKey) responder, cpns_hs) for many
 * gateways at once, answers every suite 0 message to the address its
 * datagram came from (PROTOCOL.md 2.1, reply rule) and, when H completes,
 * installs its side of the GW-S session (responder, on-confirm) and the
 * GW's address from the m3 datagram with learning on.
 *
 * SIGHUP re-opens the registry and re-reads the key files, keeping the old
 * ones when that fails; SIGTERM/SIGINT end the loop cleanly. One syslog
 * line per handshake, and an audit row for each outcome of procedure B
 * (procedure A's are the registry's own). The datagrams the socket holds
 * are handled in one pass: the keys of the exchanges it installed are
 * checked again, and its audit rows written, in one transaction at its
 * end, and only then do those exchanges' m4 leave (cpnsd_settle()). Its
 * installs wait on a netlink socket of their own and go to the kernel
 * together at the end of the pass, unacknowledged: the kernel answers only
 * those that fail.
 *
 * The administration commands ("cpnsd user ...", "cpnsd entity ...",
 * "cpnsd audit") work on the same registry; passwords come from a file,
 * stdin or an inherited descriptor, never from argv.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include "cpns_crypto.h"
#include "cpns_hs.h"
#include "cpns_id.h"
#include "cpns_keyfile.h"
#include "cpns_node.h"
#include "cpns_print.h"
#include "cpns_proca.h"
#include "cpns_tlv.h"
#include "log.h"
#include "rate.h"
#include "registry.h"

#define CPNSD_STATE_DIR		"/var/lib/cpns"
#define CPNSD_MAX_PROCA		256	/* concurrent exchanges (11) */
#define CPNSD_PROCA_KEEP_S	60	/* exchange state (11) */
#define CPNSD_M1_RATE		20	/* m1 per second per source IP (11) */

static const char cpnsd_usage_text[] =
	"Usage: cpnsd [OPTIONS]                      run the server\n"
	"       cpnsd [OPTIONS] user add USERID [password-file SPEC]\n"
	"       cpnsd [OPTIONS] user passwd USERID password-file SPEC\n"
	"       cpnsd [OPTIONS] user { del | disable | enable } USERID\n"
	"       cpnsd [OPTIONS] user list\n"
	"       cpnsd [OPTIONS] entity list\n"
	"       cpnsd [OPTIONS] entity revoke ID\n"
	"       cpnsd [OPTIONS] audit [ EVENT ]\n"
	"       cpnsd [OPTIONS] audit list [ EVENT ]\n"
	"OPTIONS := { -i|--id ID | -s|--state-dir DIR | -r|--registry FILE |\n"
	"             -k|--kek SPEC | --secret FILE | -P|--port N | -n|--netns NAME |\n"
	"             --require-dhe | --log2n { 15 | 16 } | --m1-rate N |\n"
	"             --log-auth | -j|--json | -p|--pretty | -e|--stderr |\n"
	"             -h|--help }\n"
	"SPEC := { FILE | - | fd:N }\n";

struct cpnsd_opts {
	uint8_t id[CPNS_ID_LEN];
	bool has_id;
	char *state_dir, *registry, *kek, *secret;
	unsigned long port;
	const char *netns;
	bool require_dhe, log_stderr;
	/*
	 * A log line for each procedure B success too (the audit log has
	 * them all): each line wakes the system logger, which costs a busy
	 * server some 4-6 % of its CPU time per authentication.
	 */
	bool log_auth;
	bool json, pretty;	/* listings as JSON (indented) */
	unsigned int log2n;
	/*
	 * ConnectRequests per second per source IP address. Section 11 sets
	 * 20 and allows only stricter values; a larger one is for gateways
	 * that all share one address (a NAT, the auth benchmark) and is
	 * logged at start.
	 */
	unsigned int m1_rate;
};

/* The IP address alone (no port) of a sockaddr, as key bytes. */
static size_t cpnsd_ip_key(const struct sockaddr_storage *ss, uint8_t *out)
{
	if (ss->ss_family == AF_INET) {
		memcpy(out, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		return 4;
	}
	if (ss->ss_family == AF_INET6) {
		memcpy(out, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		return 16;
	}
	return 0;
}

/* ---- state ------------------------------------------------------------ */

struct cpnsd_proca {
	bool used;
	bool ended;		/* terminal state reached and logged */
	uint8_t peer[CPNS_ID_LEN];
	uint8_t xid[CPNS_XID_LEN];
	struct sockaddr_storage addr;
	socklen_t addr_len;
	uint64_t t_last;	/* s */
	struct cpns_proca_srv srv;
};

/*
 * What cpnsd remembers of a GW between its handshakes: the last generation
 * it assigned (5.6) and the generations its kernel holds for the pair,
 * oldest first, as the kernel listed them at held_at and cpnsd's own
 * installs since changed them (the kernel's rule: a held generation of the
 * same number is replaced, else of two held the older one goes). The
 * kernel also drops generations by itself (lifetime, a revocation), which
 * leaves the list a superset: it can only exclude more candidates. A
 * generation installed by another process is not seen until the list is
 * asked for again, after CPNS_HS_HALF_OPEN_MS: no longer than the kernel's
 * answer is already relied on between m1 and m3. A failed install asks at
 * the next m1. Without this, a dump of the kernel's sessions at every m1
 * was a tenth of cpnsd's time per authentication.
 */
struct cpnsd_gw {
	uint8_t id[CPNS_ID_LEN];
	bool used;
	uint8_t last_gen;	/* 0: none assigned yet */
	uint8_t n_held;
	uint8_t held[2];
	uint64_t held_at;	/* ms; 0: held[] not known */
};

#define CPNSD_GWS	256
/* procedure B outcomes written to the audit log in one transaction */
#define CPNSD_AUDIT_ROWS	64
/* auth-failure rows per source IP address per minute (m1 come at 20/s) */
#define CPNSD_AUDIT_FAIL_RATE	10
/* ... and from all addresses together */
#define CPNSD_AUDIT_FAIL_ALL	600
/*
 * How long a key row kept by the registry serves ConnectRequests without
 * asking SQLite whether another process (cpnsd entity revoke, user del)
 * committed since, ms. The check after an install asks every time (once
 * per pass of the loop, cpnsd_settle()).
 */
#define CPNSD_REG_SYNC_MS	100
/* exchanges installed in one pass of the loop, checked together */
#define CPNSD_DONE	16

/*
 * A procedure B exchange whose generation is installed, waiting for the
 * check of its key and for its m4 (cpnsd_settle()). @act holds no secret:
 * the install's are wiped once installed.
 */
struct cpnsd_done {
	struct cpns_hs_actions act;
	int verdict;
	uint32_t seq;		/* of its SESSION_NEW */
	int install_err;	/* the kernel's answer: it failed */
	char why[CPNS_ERR_MSG_LEN];
	uint8_t dst[CPNS_ID_LEN];
	struct sockaddr_storage addr;
	socklen_t addr_len;
};

struct cpnsd {
	struct cpnsd_opts o;
	struct cpns_reg *reg;
	struct cpns_nl *nl;
	/* procedure B's SESSION_NEW, queued for the pass and answered only on
	 * failure (cpns_nl_queue())
	 */
	struct cpns_nl *inst;
	struct cpns_hsock sock;
	int sfd;
	struct cpns_proca_srv_cfg pa_cfg;
	struct cpns_hs_resp *hs;
	struct cpns_hs_limiter limiter;
	struct cpnsd_proca *pa[CPNSD_MAX_PROCA];
	struct cpnsd_rate m1_ip, authfail, kr1_gw, kr1_ip, audit_fail_ip;
	struct cpnsd_rate_slot audit_fail_all;
	struct cpnsd_gw gw[CPNSD_GWS];
	/*
	 * Procedure B outcomes not yet in the audit log: written when the
	 * socket has no more datagrams for now (cpnsd_handle()), when the
	 * table is full, at a reload and at exit, so that under load a
	 * transaction carries many of them.
	 */
	struct cpns_reg_audit_row audit[CPNSD_AUDIT_ROWS];
	unsigned int n_audit;
	/* installed in this pass of the loop, not yet checked */
	struct cpnsd_done done[CPNSD_DONE];
	unsigned int n_done;
	/* the message being handled */
	const struct sockaddr_storage *cur_addr;
	socklen_t cur_addr_len;
	uint64_t now_ms;
	uint64_t reg_synced_ms;	/* last cpns_reg_sync(); 0: never */
};

static uint64_t cpnsd_unix_now(void)
{
	return (uint64_t)time(NULL);
}

/*
 * The clock of the exchanges' deadlines and of the rate limits, read for
 * every datagram: the coarse monotonic clock, a tick's resolution (1 to
 * 10 ms) against deadlines and windows of 100 ms and more. It is read
 * without a system call where the precise one may need one (the HPET
 * clock source has no vDSO).
 */
static uint64_t cpnsd_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void cpnsd_addr_str(const struct sockaddr_storage *ss, socklen_t len,
			   char *buf, size_t size)
{
	if (!len || cpns_addr_format((const struct sockaddr *)ss, len, buf,
				     size) < 0)
		snprintf(buf, size, "local");
}

/* The GW's entry; a new one (forgetting another when full) if @add. */
static struct cpnsd_gw *cpnsd_gw(struct cpnsd *d, const uint8_t *peer,
				 bool add)
{
	unsigned int i, free_slot = CPNSD_GWS;

	for (i = 0; i < CPNSD_GWS; i++) {
		if (d->gw[i].used && !memcmp(d->gw[i].id, peer, CPNS_ID_LEN))
			return &d->gw[i];
		if (!d->gw[i].used && free_slot == CPNSD_GWS)
			free_slot = i;
	}
	if (!add)
		return NULL;
	if (free_slot == CPNSD_GWS)
		free_slot = peer[0];
	memset(&d->gw[free_slot], 0, sizeof(d->gw[free_slot]));
	memcpy(d->gw[free_slot].id, peer, CPNS_ID_LEN);
	d->gw[free_slot].used = true;
	return &d->gw[free_slot];
}

/* The generations held for @gw into @key, from the kernel when not known. */
static void cpnsd_gw_held(struct cpnsd *d, struct cpnsd_gw *gw,
			  struct cpns_hs_key *key)
{
	struct cpns_err err = { 0 };
	struct cpns_node_gens g;

	if (gw->held_at && d->now_ms - gw->held_at < CPNS_HS_HALF_OPEN_MS) {
		memcpy(key->held, gw->held, gw->n_held);
		key->n_held = gw->n_held;
		return;
	}
	gw->held_at = 0;
	if (cpns_node_gens(d->nl, d->o.id, gw->id, &g, &err))
		return;
	memcpy(key->held, g.gen, g.n);
	key->n_held = g.n;
	if (g.n > sizeof(gw->held))
		return;
	memcpy(gw->held, g.gen, g.n);
	gw->n_held = (uint8_t)g.n;
	if (g.n == 2 && g.age_ms[0] < g.age_ms[1]) {
		gw->held[0] = g.gen[1];
		gw->held[1] = g.gen[0];
	}
	gw->held_at = d->now_ms ? d->now_ms : 1;
}

/* Generation @gen installed for @peer (@ok) or not. */
static void cpnsd_gw_installed(struct cpnsd *d, const uint8_t *peer,
			       uint8_t gen, bool ok)
{
	struct cpnsd_gw *gw = cpnsd_gw(d, peer, false);
	unsigned int i, n = 0;

	if (!gw || !gw->held_at)
		return;
	if (!ok) {
		gw->held_at = 0;
		return;
	}
	for (i = 0; i < gw->n_held; i++)
		if (gw->held[i] != gen)
			gw->held[n++] = gw->held[i];
	if (n == sizeof(gw->held)) {
		gw->held[0] = gw->held[1];
		n--;
	}
	gw->held[n++] = gen;
	gw->n_held = (uint8_t)n;
}

/* ---- configuration ---------------------------------------------------- */

static char *cpnsd_path(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0) {
		fprintf(stderr, "cpnsd: out of memory\n");
		exit(1);
	}
	return p;
}

/* Creates a random key file at @path if there is none (first start). */
static int cpnsd_key_ensure(const char *path, const char *what)
{
	uint8_t k[CPNS_KEY_LEN];
	struct cpns_err err = { 0 };
	int r;

	if (!access(path, F_OK) || strchr(path, ':') || !strcmp(path, "-"))
		return 0;
	if (cpns_random(NULL, k, sizeof(k)) < 0)
		return -EIO;
	r = cpns_key_write(path, k, &err);
	cpns_wipe(k, sizeof(k));
	if (r < 0)
		cpnsd_log(LOG_ERR, "%s: %s", what, err.msg);
	else
		cpnsd_log(LOG_NOTICE, "created %s %s", what, path);
	return r;
}

static int cpnsd_open_registry(struct cpnsd_opts *o, struct cpns_reg **reg)
{
	struct cpns_err err = { 0 };
	int r;

	if (mkdir(o->state_dir, 0700) < 0 && errno != EEXIST) {
		cpnsd_log(LOG_ERR, "%s: %m", o->state_dir);
		return -errno;
	}
	r = cpnsd_key_ensure(o->kek, "key-encryption key");
	if (r < 0)
		return r;
	r = cpns_reg_open(o->registry, o->kek, cpnsd_unix_now(), reg, &err);
	if (r < 0)
		cpnsd_log(LOG_ERR, "registry %s: %s", o->registry, err.msg);
	return r;
}

/* ---- procedure A ------------------------------------------------------ */

static void cpnsd_send(struct cpnsd *d, const uint8_t *peer,
		       const uint8_t *msg, size_t len)
{
	struct cpns_hsock_tx tx = {
		.dst = peer,
		.suite0 = true,
		.endpoint = d->cur_addr_len ?
			(const struct sockaddr *)d->cur_addr : NULL,
		.endpoint_len = d->cur_addr_len,
	};
	int r = cpns_hsock_send(&d->sock, &tx, msg, len);

	if (r < 0)
		cpnsd_log(LOG_WARNING, "send %s: %s", cpns_msg_type_name(msg[0]),
			  strerror(-r));
}

static void cpnsd_proca_log(struct cpnsd *d, struct cpnsd_proca *x)
{
	char id[CPNS_ID_STRLEN], addr[CPNS_ADDR_STRLEN];
	const struct cpns_proca_srv *s = &x->srv;

	if (x->ended)
		return;
	x->ended = true;
	(void)d;
	cpns_id_format(x->peer, id);
	cpnsd_addr_str(&x->addr, x->addr_len, addr, sizeof(addr));
	if (s->state == CPNS_PROCA_SRV_DONE)
		cpnsd_log(LOG_INFO,
			  "procedure A: gw %s user \"%.*s\" from %s: EUKey kid %" PRIu32 " assigned",
			  id, (int)s->uid_len, (const char *)s->uid, addr, s->kid);
	else
		cpnsd_log(LOG_NOTICE,
			  "procedure A: gw %s user \"%.*s\" from %s: failed (%s)",
			  id, (int)s->uid_len, (const char *)s->uid, addr,
			  s->state == CPNS_PROCA_SRV_REFUSED ? "refused" :
			  s->reason ? cpns_reason_name(s->reason) : "timeout");
}

static void cpnsd_proca_free(struct cpnsd *d, unsigned int i)
{
	cpns_proca_srv_wipe(&d->pa[i]->srv);
	free(d->pa[i]);
	d->pa[i] = NULL;
}

static struct cpnsd_proca *cpnsd_proca_find(struct cpnsd *d,
					    const uint8_t *peer,
					    const uint8_t *xid)
{
	unsigned int i;

	for (i = 0; i < CPNSD_MAX_PROCA; i++)
		if (d->pa[i] && !memcmp(d->pa[i]->peer, peer, CPNS_ID_LEN) &&
		    !memcmp(d->pa[i]->xid, xid, CPNS_XID_LEN))
			return d->pa[i];
	return NULL;
}

static struct cpnsd_proca *cpnsd_proca_new(struct cpnsd *d,
					   const uint8_t *peer,
					   const uint8_t *xid)
{
	uint8_t ipk[16];
	size_t ipl = cpnsd_ip_key(d->cur_addr, ipk);
	unsigned int i;

	/* 10 KeyRequest1 per ID_GW and 30 per source IP per minute */
	if (cpnsd_rate_hit(&d->kr1_gw, peer, CPNS_ID_LEN, d->now_ms, 60000, 10,
			   true) ||
	    (ipl && cpnsd_rate_hit(&d->kr1_ip, ipk, ipl, d->now_ms, 60000, 30,
				   true)))
		return NULL;
	for (i = 0; i < CPNSD_MAX_PROCA; i++)
		if (!d->pa[i])
			break;
	if (i == CPNSD_MAX_PROCA)
		return NULL;	/* 256 concurrent exchanges: drop */
	d->pa[i] = calloc(1, sizeof(*d->pa[i]));
	if (!d->pa[i])
		return NULL;
	memcpy(d->pa[i]->peer, peer, CPNS_ID_LEN);
	memcpy(d->pa[i]->xid, xid, CPNS_XID_LEN);
	memcpy(&d->pa[i]->addr, d->cur_addr, sizeof(d->pa[i]->addr));
	d->pa[i]->addr_len = d->cur_addr_len;
	cpns_proca_srv_init(&d->pa[i]->srv, &d->pa_cfg);
	return d->pa[i];
}

static void cpnsd_proca_input(struct cpnsd *d, const uint8_t *peer,
			      const uint8_t *xid, const uint8_t *msg,
			      size_t len)
{
	struct cpnsd_proca *x = cpnsd_proca_find(d, peer, xid);
	char addr[CPNS_ADDR_STRLEN];
	const uint8_t *out = NULL;
	size_t out_len = 0;
	uint64_t now = cpnsd_unix_now();
	int r;

	if (!x) {
		if (msg[0] != CPNS_MSG_KEY_REQUEST1)
			return;
		x = cpnsd_proca_new(d, peer, xid);
		if (!x)
			return;
	}
	cpnsd_addr_str(d->cur_addr, d->cur_addr_len, addr, sizeof(addr));
	cpns_reg_set_source(d->reg, addr);
	r = cpns_proca_srv_input(&x->srv, peer, msg, len, now, NULL, &out,
				 &out_len);
	if (r < 0) {
		cpnsd_log(LOG_ERR, "procedure A: %s", strerror(-r));
		return;
	}
	if (r == CPNS_PROCA_IGNORE) {
		if (x->srv.state == CPNS_PROCA_SRV_IDLE) {
			unsigned int i;

			for (i = 0; i < CPNSD_MAX_PROCA; i++)
				if (d->pa[i] == x)
					cpnsd_proca_free(d, i);
		}
		return;
	}
	x->t_last = now;
	/* the reply goes where this datagram came from (2.1) */
	memcpy(&x->addr, d->cur_addr, sizeof(x->addr));
	x->addr_len = d->cur_addr_len;
	if (out && out_len) {
		if (r != CPNS_PROCA_ABORT ||
		    cpns_hs_limiter_allow(&d->limiter, d->cur_addr,
					  d->cur_addr_len, d->now_ms))
			cpnsd_send(d, peer, out, out_len);
	}
	if (r == CPNS_PROCA_ABORT || r == CPNS_PROCA_FAILED ||
	    r == CPNS_PROCA_DONE)
		cpnsd_proca_log(d, x);
}

static void cpnsd_proca_tick(struct cpnsd *d)
{
	uint64_t now = cpnsd_unix_now();
	char addr[CPNS_ADDR_STRLEN];
	unsigned int i;

	for (i = 0; i < CPNSD_MAX_PROCA; i++) {
		struct cpnsd_proca *x = d->pa[i];

		if (!x)
			continue;
		/* a timeout's audit row names this exchange's address */
		cpnsd_addr_str(&x->addr, x->addr_len, addr, sizeof(addr));
		cpns_reg_set_source(d->reg, addr);
		if (cpns_proca_srv_tick(&x->srv, now))
			cpnsd_proca_log(d, x);
		/* keep the cached replies for duplicates, then forget; no
		 * subtraction: the wall clock may step back
		 */
		if (x->ended && now >= x->t_last + CPNSD_PROCA_KEEP_S)
			cpnsd_proca_free(d, i);
		else if (!x->ended && now >= x->t_last + 2 * CPNSD_PROCA_KEEP_S)
			cpnsd_proca_free(d, i);
	}
}

/* ---- procedure B ------------------------------------------------------ */

static int cpnsd_lookup(void *ctx, const struct cpns_hs_key_req *req,
			struct cpns_hs_key *key)
{
	struct cpnsd *d = ctx;
	struct cpnsd_gw *gw;
	uint8_t k[CPNS_KEY_LEN], lk[CPNS_ID_LEN + 16];
	size_t ll;
	uint64_t expiry;
	uint32_t kid;
	int r;

	/* 10 AUTH_FAILED per (INITIATOR_ID, IP) per 10 min: drop m1 */
	memcpy(lk, req->initiator_id, CPNS_ID_LEN);
	ll = CPNS_ID_LEN + cpnsd_ip_key(d->cur_addr, lk + CPNS_ID_LEN);
	if (cpnsd_rate_hit(&d->authfail, lk, ll, d->now_ms, 600000, 10 - 1,
			   false))
		return CPNS_HS_LOOKUP_DROP;
	if (req->psk_kind != CPNS_HS_KIND_EUKEY)
		return CPNS_REASON_NOT_AUTHORIZED;
	if (!d->reg_synced_ms ||
	    d->now_ms - d->reg_synced_ms >= CPNSD_REG_SYNC_MS) {
		cpns_reg_sync(d->reg);
		d->reg_synced_ms = d->now_ms ? d->now_ms : 1;
	}
	r = cpns_reg_eukey_lookup(d->reg, req->initiator_id, cpnsd_unix_now(),
				  &kid, k, &expiry);
	if (r == -ENOENT)
		return CPNS_REASON_NOT_AUTHORIZED;
	if (r < 0)
		return CPNS_REASON_INTERNAL_ERROR;
	if (kid != req->kid) {
		cpns_wipe(k, sizeof(k));
		return CPNS_REASON_UNKNOWN_KEY;
	}
	memcpy(key->k, k, sizeof(k));
	cpns_wipe(k, sizeof(k));
	key->require_dhe = d->o.require_dhe;
	gw = cpnsd_gw(d, req->initiator_id, true);
	key->last_gen = gw->last_gen;
	cpnsd_gw_held(d, gw, key);
	return 0;
}

static void cpnsd_audit_flush(struct cpnsd *d)
{
	if (!d->n_audit)
		return;
	if (cpns_reg_audit_rows(d->reg, d->audit, d->n_audit) < 0)
		cpnsd_log(LOG_ERR,
			  "registry: %u procedure B outcomes could not be added to the audit log (they are in this log)",
			  d->n_audit);
	d->n_audit = 0;
}

/*
 * The outcome of a procedure B exchange: an audit row and a log line (for
 * a success only with --log-auth). The failures of one source address take
 * at most CPNSD_AUDIT_FAIL_RATE rows a minute, and those of all
 * CPNSD_AUDIT_FAIL_ALL, so that a flood of ConnectRequests for unknown
 * entities, from one address or from many, cannot fill the registry; the
 * log line says when one is not audited.
 */
static void cpnsd_hs_log(struct cpnsd *d, int verdict,
			 const struct cpns_hs_actions *act)
{
	char id[CPNS_ID_STRLEN];
	struct cpns_reg_audit_row *row, unaudited;
	uint8_t ipk[16];
	size_t ipl = cpnsd_ip_key(d->cur_addr, ipk);

	if (verdict != CPNS_HS_COMPLETE &&
	    ((ipl && cpnsd_rate_hit(&d->audit_fail_ip, ipk, ipl, d->now_ms,
				    60000, CPNSD_AUDIT_FAIL_RATE, true)) ||
	     cpnsd_window_hit(&d->audit_fail_all, d->now_ms, 60000,
			      CPNSD_AUDIT_FAIL_ALL, true))) {
		row = &unaudited;
	} else {
		if (d->n_audit == CPNSD_AUDIT_ROWS)
			cpnsd_audit_flush(d);
		row = &d->audit[d->n_audit++];
	}
	memcpy(row->entity_id, act->peer_id, CPNS_ID_LEN);
	row->time = cpnsd_unix_now();
	cpnsd_addr_str(d->cur_addr, d->cur_addr_len, row->source,
		       sizeof(row->source));
	if (verdict == CPNS_HS_COMPLETE) {
		row->event = "auth";
		snprintf(row->detail, sizeof(row->detail),
			 "generation %u suite %u kid %" PRIu32,
			 act->install.generation, act->install.suite,
			 act->install.kid);
	} else {
		row->event = "auth-failure";
		snprintf(row->detail, sizeof(row->detail), "%s%s",
			 act->peer_abort ? "Abort from the GW: " : "",
			 act->peer_abort ? cpns_reason_name(act->peer_abort) :
			 act->reason ? cpns_reason_name(act->reason) :
				       "timeout");
	}
	cpns_id_format(act->peer_id, id);
	if (verdict == CPNS_HS_COMPLETE) {
		if (d->o.log_auth)
			cpnsd_log(LOG_INFO,
				  "procedure B: gw %s from %s: %s installed",
				  id, row->source, row->detail);
	} else {
		cpnsd_log(LOG_NOTICE,
			  "procedure B: gw %s from %s: failed (%s)%s", id,
			  row->source, row->detail,
			  row == &unaudited ?
			  " (not audited: too many failures)" :
			  "");
	}
}

/*
 * The failure of exchange @act after its m3: no m4, not even to a repeated
 * m3 (the GW times out, nothing half-done), a log line and an audit row.
 */
static void cpnsd_not_installed(struct cpnsd *d, struct cpns_hs_actions *act,
				int reason, const char *why)
{
	char id[CPNS_ID_STRLEN];

	cpnsd_gw_installed(d, act->install.peer_id, act->install.generation,
			   false);
	cpns_id_format(act->install.peer_id, id);
	cpnsd_log(LOG_ERR, "procedure B: gw %s: not installed: %s", id, why);
	cpns_hs_resp_forget(d->hs, act->peer_id, act->xid);
	act->reason = reason;
	cpnsd_hs_log(d, CPNS_HS_FAILED, act);
	cpns_hs_actions_wipe(act);
}

static bool cpnsd_done_find(const struct cpnsd *d, const uint8_t *peer)
{
	unsigned int i;

	for (i = 0; i < d->n_done; i++)
		if (!memcmp(d->done[i].dst, peer, CPNS_ID_LEN))
			return true;
	return false;
}

/* Keeps exchange @act, whose install is queued and whose secrets it wipes,
 * for cpnsd_settle().
 */
static void cpnsd_defer(struct cpnsd *d, const uint8_t *peer, int verdict,
			uint32_t seq, struct cpns_hs_actions *act)
{
	struct cpnsd_done *e = &d->done[d->n_done++];

	e->seq = seq;
	e->install_err = 0;
	cpns_wipe(act->install.tx_ts, sizeof(act->install.tx_ts));
	cpns_wipe(act->install.rx_ts, sizeof(act->install.rx_ts));
	cpns_wipe(act->install.k_wrap_sess, sizeof(act->install.k_wrap_sess));
	e->act = *act;
	e->verdict = verdict;
	cpns_hs_actions_wipe(act);
	memcpy(e->dst, peer, CPNS_ID_LEN);
	e->addr_len = d->cur_addr_len;
	if (d->cur_addr_len)
		memcpy(&e->addr, d->cur_addr, d->cur_addr_len);
}

/* cpns_nl_failures(): the SESSION_NEW of an exchange of this pass failed */
static void cpnsd_install_failed(void *arg, uint32_t seq, int error,
				 const char *msg)
{
	struct cpnsd *d = arg;
	unsigned int i;

	for (i = 0; i < d->n_done; i++) {
		struct cpnsd_done *e = &d->done[i];

		if (e->seq != seq || e->install_err)
			continue;
		e->install_err = error;
		if (msg[0])
			snprintf(e->why, sizeof(e->why), "%s (%s)", msg,
				 strerror(-error));
		else
			snprintf(e->why, sizeof(e->why), "%s",
				 strerror(-error));
		return;
	}
}

/*
 * The exchanges installed in this pass, and the audit rows, in one batch
 * of the registry. The key of an exchange was looked up at m1, and an
 * exchange lives up to 30 s after its last m1: it may have been revoked,
 * replaced or expired since. It is checked after the install, so that a
 * revocation either is seen here or comes before the revoking process
 * removes the GW's sessions, this one included; a session of a key found
 * gone is removed again, and the GW gets no m4. The others get theirs once
 * their audit rows are committed. Without a batch (the registry is busy),
 * each is checked on its own and the rows written as before. The installs
 * were queued: they go to the kernel first, in one datagram and
 * unacknowledged, and the kernel's answers to those that failed are then
 * on the socket, read next; if the datagram could not be sent, none is
 * installed, and if answers were lost, every install of the pass counts as
 * failed and is removed.
 */
static void cpnsd_settle(struct cpnsd *d)
{
	const struct sockaddr_storage *addr = d->cur_addr;
	socklen_t addr_len = d->cur_addr_len;
	struct cpns_err err2 = { 0 };
	bool batch, ok[CPNSD_DONE];
	struct cpnsd_done *e;
	unsigned int i;
	int r, lost;

	if (!d->n_done) {
		cpnsd_audit_flush(d);
		return;
	}
	r = cpns_nl_flush(d->inst);
	for (i = 0; r < 0 && i < d->n_done; i++) {
		e = &d->done[i];
		e->install_err = r;
		snprintf(e->why, sizeof(e->why),
			 "the installs of this pass could not be sent (%s)",
			 strerror(-r));
	}
	lost = r < 0 ? 0 : cpns_nl_failures(d->inst, cpnsd_install_failed, d);
	batch = !cpns_reg_batch_begin(d->reg);
	for (i = 0; i < d->n_done; i++) {
		e = &d->done[i];
		d->cur_addr = &e->addr;
		d->cur_addr_len = e->addr_len;
		ok[i] = false;
		if (e->install_err) {
			cpnsd_not_installed(d, &e->act,
					    e->install_err == -ENOENT ?
					    CPNS_REASON_NOT_AUTHORIZED :
					    CPNS_REASON_INTERNAL_ERROR,
					    e->why);
			continue;
		}
		r = lost ? lost :
			cpns_reg_eukey_active(d->reg, e->act.install.peer_id,
					      e->act.install.kid,
					      cpnsd_unix_now());
		ok[i] = !r;
		if (!r) {
			cpnsd_gw_installed(d, e->act.install.peer_id,
					   e->act.install.generation, true);
			if (e->verdict == CPNS_HS_COMPLETE)
				cpnsd_hs_log(d, CPNS_HS_COMPLETE, &e->act);
			continue;
		}
		/* -ENOENT: not there (the revoking process removed it, or
		 * its install failed with the answer lost)
		 */
		if (cpns_node_uninstall(d->nl, &e->act.install, &err2) < 0 &&
		    err2.code != -ENOENT)
			cpnsd_log(LOG_ERR,
				  "procedure B: a session of a key found gone stays in the kernel: %s",
				  err2.msg);
		if (lost)
			snprintf(e->why, sizeof(e->why),
				 "the kernel's answers to this pass's installs were lost (%s)",
				 strerror(-lost));
		cpnsd_not_installed(d, &e->act,
				    r == -ENOENT ? CPNS_REASON_NOT_AUTHORIZED :
						   CPNS_REASON_INTERNAL_ERROR,
				    lost ? e->why :
				    r == -ENOENT ? "its key was revoked, replaced or expired during the exchange" :
						   "registry error");
	}
	cpnsd_audit_flush(d);
	if (batch && cpns_reg_batch_end(d->reg) < 0)
		cpnsd_log(LOG_ERR,
			  "registry: the procedure B outcomes of a pass could not be added to the audit log (they are in this log)");
	for (i = 0; i < d->n_done; i++) {
		e = &d->done[i];
		if (ok[i] && e->act.send_valid &&
		    e->act.send.prot == CPNS_PROT_SUITE0) {
			d->cur_addr = &e->addr;
			d->cur_addr_len = e->addr_len;
			cpnsd_send(d, e->dst, e->act.send.msg,
				   e->act.send.len);
		}
		cpns_hs_actions_wipe(&e->act);
	}
	d->n_done = 0;
	d->cur_addr = addr;
	d->cur_addr_len = addr_len;
}

static void cpnsd_hs_input(struct cpnsd *d, const struct cpns_hsock_rx *rx,
			   const uint8_t *msg, size_t len)
{
	struct cpns_hs_meta meta = {
		.prot = rx->info.suite ? CPNS_PROT_PROTECTED : CPNS_PROT_SUITE0,
		.src = rx->src,
		.dst = rx->info.dst_id,
		.addr = d->cur_addr,
		.addr_len = d->cur_addr_len,
		.now_ms = d->now_ms,
	};
	struct cpns_hs_actions act;
	struct cpns_err err = { 0 };
	uint8_t ipk[16], lk[CPNS_ID_LEN + 16];
	size_t ipl = cpnsd_ip_key(d->cur_addr, ipk);
	int v;

	/* the GW's last exchange first, so that its state is whole */
	if (cpnsd_done_find(d, rx->src))
		cpnsd_settle(d);
	/* m1 per second per source IP address (20, --m1-rate): drop silently */
	if (msg[0] == CPNS_MSG_CONNECT_REQUEST && ipl &&
	    cpnsd_rate_hit(&d->m1_ip, ipk, ipl, d->now_ms, 1000, d->o.m1_rate,
			   true))
		return;
	memset(&act, 0, sizeof(act));
	v = cpns_hs_resp_recv(d->hs, msg, len, &meta, &act);
	if (act.assigned_generation)
		cpnsd_gw(d, act.peer_id, true)->last_gen =
			act.assigned_generation;
	if (act.install_valid) {
		/* with address learning at S (2.1): the m3 datagram's
		 * source, in the same request
		 */
		const struct sockaddr *from = d->cur_addr_len ?
			(const struct sockaddr *)d->cur_addr : NULL;
		uint32_t seq;
		int r;

		if (d->n_done == CPNSD_DONE)
			cpnsd_settle(d);
		r = cpns_node_install_queue(d->inst, &act.install, from, &seq,
					    &err);
		if (!r) {
			cpnsd_defer(d, rx->src, v, seq, &act);
			return;
		}
		cpnsd_not_installed(d, &act,
				    r == -ENOENT ? CPNS_REASON_NOT_AUTHORIZED :
						   CPNS_REASON_INTERNAL_ERROR,
				    err.msg);
		return;
	}
	if (act.send_valid && act.send.prot == CPNS_PROT_SUITE0)
		cpnsd_send(d, rx->src, act.send.msg, act.send.len);
	if (v == CPNS_HS_COMPLETE) {
		cpnsd_hs_log(d, v, &act);
	} else if (v == CPNS_HS_FAILED) {
		if (act.reason == CPNS_REASON_AUTH_FAILED) {
			memcpy(lk, act.peer_id, CPNS_ID_LEN);
			memcpy(lk + CPNS_ID_LEN, ipk, ipl);
			cpnsd_rate_hit(&d->authfail, lk, CPNS_ID_LEN + ipl,
				       d->now_ms, 600000, 10, true);
		}
		cpnsd_hs_log(d, v, &act);
	}
	cpns_hs_actions_wipe(&act);
}

/* ---- the loop --------------------------------------------------------- */

static void cpnsd_handle(struct cpnsd *d)
{
	uint8_t buf[CPNS_MSG_MAX_LEN];
	struct cpns_hsock_rx rx;
	ssize_t n;

	/* the pass's log lines leave together, after its m4s */
	cpnsd_log_hold();
	for (;;) {
		n = cpns_hsock_recv(&d->sock, buf, sizeof(buf), &rx);
		if (n == -EAGAIN || n == -EWOULDBLOCK)
			break;
		if (n == -EMSGSIZE || n == -EINTR)
			continue;
		if (n < 0) {
			cpnsd_log(LOG_ERR, "handshake socket: %s",
				  strerror((int)-n));
			break;
		}
		/* msg_type, then the XID TLV (type 1, length 8) first */
		if (n < CPNS_MSG_MIN_LEN || buf[1] || buf[2] != 1 || buf[3] ||
		    buf[4] != CPNS_XID_LEN)
			continue;
		d->now_ms = cpnsd_now_ms();
		d->cur_addr = (const struct sockaddr_storage *)&rx.info.endpoint;
		d->cur_addr_len = rx.addr_len;
		switch (buf[0]) {
		case CPNS_MSG_KEY_REQUEST1:
		case CPNS_MSG_KEY_REQUEST2:
		case CPNS_MSG_KEY_CONFIRM:
			if (!rx.info.suite)
				cpnsd_proca_input(d, rx.src, buf + 5, buf,
						  (size_t)n);
			break;
		case CPNS_MSG_ABORT:
		case CPNS_MSG_ACK:
			if (!rx.info.suite &&
			    cpnsd_proca_find(d, rx.src, buf + 5)) {
				cpnsd_proca_input(d, rx.src, buf + 5, buf,
						  (size_t)n);
				break;
			}
			cpnsd_hs_input(d, &rx, buf, (size_t)n);
			break;
		default:
			cpnsd_hs_input(d, &rx, buf, (size_t)n);
			break;
		}
	}
	cpnsd_settle(d);
	cpnsd_log_flush();
}

static int cpnsd_load_secret(struct cpnsd *d)
{
	struct cpns_err err = { 0 };
	uint8_t s[32];

	if (cpnsd_key_ensure(d->o.secret, "server secret") < 0)
		return -EIO;
	if (cpns_key_read(d->o.secret, 0, s, &err) < 0) {
		cpnsd_log(LOG_ERR, "server secret: %s", err.msg);
		return err.code;
	}
	memcpy(d->pa_cfg.server_secret, s, sizeof(s));
	cpns_wipe(s, sizeof(s));
	return 0;
}

static void cpnsd_reload(struct cpnsd *d)
{
	struct cpns_reg *reg;
	uint8_t old[32];

	if (cpnsd_open_registry(&d->o, &reg) < 0) {
		cpnsd_log(LOG_ERR,
			  "reload failed; keeping the running configuration");
		return;
	}
	memcpy(old, d->pa_cfg.server_secret, sizeof(old));
	if (cpnsd_load_secret(d) < 0) {
		memcpy(d->pa_cfg.server_secret, old, sizeof(old));
		cpns_wipe(old, sizeof(old));
		cpns_reg_close(reg);
		cpnsd_log(LOG_ERR,
			  "reload failed; keeping the running configuration");
		return;
	}
	cpns_wipe(old, sizeof(old));
	cpnsd_audit_flush(d);
	cpns_reg_close(d->reg);
	d->reg = reg;
	d->pa_cfg.ctx = reg;
	cpnsd_log(LOG_NOTICE, "reloaded");
}

static int cpnsd_run(struct cpnsd *d)
{
	struct cpns_hs_resp_cfg hc = { 0 };
	struct cpns_err err = { 0 };
	char id[CPNS_ID_STRLEN];
	uint64_t next_tick = 0;
	sigset_t mask;
	int r, status = 1;
	bool stop = false;

	if (!d->o.has_id) {
		fprintf(stderr, "cpnsd: the server entity ID is required (-i ID)\n");
		return 1;
	}
	if (cpnsd_open_registry(&d->o, &d->reg) < 0)
		return 1;
	d->pa_cfg.ctx = d->reg;
	d->pa_cfg.ops = &cpns_reg_proca_ops;
	memcpy(d->pa_cfg.server_id, d->o.id, CPNS_ID_LEN);
	d->pa_cfg.log2n = d->o.log2n;
	d->pa_cfg.eukey_lifetime = CPNS_PROCA_EUKEY_LIFETIME;
	if (cpnsd_load_secret(d) < 0)
		goto out_reg;

	r = cpns_nl_open(&d->nl, &err);
	if (!r)
		r = cpns_nl_open(&d->inst, &err);
	if (!r && d->o.port)
		r = cpns_node_set_port(d->nl, (uint16_t)d->o.port, &err);
	if (!r)
		r = cpns_node_id_add(d->nl, d->o.id, &err);
	if (r < 0) {
		cpnsd_log(LOG_ERR, "netlink: %s", err.msg);
		goto out_nl;
	}
	if (cpns_hsock_open(d->o.id, &d->sock, &err) < 0) {
		cpnsd_log(LOG_ERR, "%s", err.msg);
		goto out_nl;
	}

	memcpy(hc.local_id, d->o.id, CPNS_ID_LEN);
	hc.suites[0] = CPNS_SUITE_AES256GCM;
	hc.suites[1] = CPNS_SUITE_CHACHA20POLY1305;
	hc.n_suites = 2;
	hc.lookup = cpnsd_lookup;
	hc.lookup_ctx = d;
	hc.limiter = &d->limiter;
	d->hs = cpns_hs_resp_new(&hc);
	if (!d->hs) {
		cpnsd_log(LOG_ERR, "out of memory");
		goto out_sock;
	}

	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	d->sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sfd < 0) {
		cpnsd_log(LOG_ERR, "signalfd: %m");
		goto out_hs;
	}
	signal(SIGPIPE, SIG_IGN);

	cpns_id_format(d->o.id, id);
	cpnsd_log(LOG_INFO, "serving %s (procedures A and B), registry %s", id,
		  d->o.registry);
	if (d->o.m1_rate > CPNSD_M1_RATE)
		cpnsd_log(LOG_WARNING,
			  "--m1-rate %u: more ConnectRequests per source address than the %u/s of PROTOCOL.md 11",
			  d->o.m1_rate, CPNSD_M1_RATE);
	while (!stop) {
		struct pollfd pfd[2] = {
			{ .fd = d->sock.fd, .events = POLLIN },
			{ .fd = d->sfd, .events = POLLIN },
		};
		uint64_t now = cpnsd_now_ms(), dl, wait;

		if (now >= next_tick) {
			cpnsd_proca_tick(d);
			next_tick = now + 1000;
		}
		dl = cpns_hs_resp_next_deadline(d->hs);
		if (dl && dl <= now) {
			cpns_hs_resp_expire(d->hs, now);
			dl = cpns_hs_resp_next_deadline(d->hs);
		}
		wait = next_tick - now;
		if (dl && dl > now && dl - now < wait)
			wait = dl - now;
		r = poll(pfd, 2, (int)wait);
		if (r < 0 && errno != EINTR) {
			cpnsd_log(LOG_ERR, "poll: %m");
			break;
		}
		if (r <= 0)
			continue;
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(d->sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP)
					cpnsd_reload(d);
				else
					stop = true;
			}
		}
		if (pfd[0].revents & POLLIN)
			cpnsd_handle(d);
	}
	cpnsd_audit_flush(d);
	cpnsd_log(LOG_INFO, "exiting");
	cpnsd_log_close();
	status = 0;
	close(d->sfd);
out_hs:
	cpns_hs_resp_free(d->hs);
out_sock:
	close(d->sock.fd);
out_nl:
	cpns_nl_close(d->inst);
	cpns_nl_close(d->nl);
	for (unsigned int i = 0; i < CPNSD_MAX_PROCA; i++)
		if (d->pa[i])
			cpnsd_proca_free(d, i);
	cpns_wipe(d->pa_cfg.server_secret, sizeof(d->pa_cfg.server_secret));
out_reg:
	cpns_reg_close(d->reg);
	return status;
}

/* ---- administration --------------------------------------------------- */

static int cpnsd_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cpnsd: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", cpnsd_usage_text);
	return 1;
}

/*
 * Text from the registry as one word, NUL-terminated, to free: bytes
 * outside printable ASCII, the backslash (and the space, unless @spaces)
 * as \xHH, so that a row cannot pass for two. NULL without memory.
 */
static char *cpnsd_text(const void *p, size_t len, bool spaces)
{
	const unsigned char *s = p;
	char *out = malloc(4 * len + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] >= (spaces ? 0x20 : 0x21) && s[i] < 0x7f &&
		    s[i] != '\\')
			*o++ = (char)s[i];
		else
			o += sprintf(o, "\\x%02x", s[i]);
	}
	*o = 0;
	return out;
}

/*
 * cpns_print_string() of registry text (cpnsd_text()); a space cannot
 * split a JSON string, so JSON keeps its spaces. -ENOMEM.
 */
static int cpnsd_print_text(const char *key, const char *fmt, const void *p,
			    size_t len, bool spaces)
{
	char *t = cpnsd_text(p, len, spaces || cpns_print_json());

	if (!t)
		return -ENOMEM;
	cpns_print_string(CPNS_PR_ANY, key, fmt, t);
	free(t);
	return 0;
}

/* JSON "@key": @value; text @word when @value is @word_when. */
static void cpnsd_print_flag(const char *key, bool value, const char *word,
			     bool word_when)
{
	cpns_print_bool(CPNS_PR_JSON, key, NULL, value);
	if (value == word_when)
		cpns_print_text("%s", word);
}

/* USERID [no-password] [disabled] */
static int cpnsd_user_print(void *ctx, const struct cpns_reg_user *u)
{
	(void)ctx;
	cpns_print_open_object(NULL);
	if (cpnsd_print_text("user", "%s", u->uid, u->uid_len, false))
		return -ENOMEM;
	cpnsd_print_flag("password", u->has_verifier, " no-password", false);
	cpnsd_print_flag("disabled", u->disabled, " disabled", true);
	cpns_print_nl();
	cpns_print_close_object();
	return 0;
}

/* ID KIND owner { USERID | - } kid { N expiry T | none } [pending] */
static int cpnsd_entity_print(void *ctx, const struct cpns_reg_entity *e)
{
	(void)ctx;
	cpns_print_open_object(NULL);
	cpns_print_id(CPNS_PR_ANY, "id", "%s", e->id);
	cpns_print_string(CPNS_PR_ANY, "kind", " %s",
			  e->kind == CPNS_REG_KIND_GW ? "gw" : "pne");
	if (e->has_owner) {
		if (cpnsd_print_text("owner", " owner %s", e->owner,
				     e->owner_len, false))
			return -ENOMEM;
	} else {
		cpns_print_null(CPNS_PR_JSON, "owner", NULL);
		cpns_print_text(" owner -");
	}
	if (e->active_kid) {
		cpns_print_u64(CPNS_PR_ANY, "kid", " kid %" PRIu64,
			       e->active_kid);
		cpns_print_u64(CPNS_PR_ANY, "expiry", " expiry %" PRIu64,
			       e->active_expiry);
	} else {
		cpns_print_null(CPNS_PR_ANY, "kid", " kid %s");
	}
	cpnsd_print_flag("pending", e->pending, " pending", true);
	cpns_print_nl();
	cpns_print_close_object();
	return 0;
}

/* ID TIME EVENT [user U] [entity ID] [from ADDR] [: DETAIL] */
static int cpnsd_audit_print(void *ctx, const struct cpns_reg_audit_entry *e)
{
	char t[32];
	time_t tt = (time_t)e->time;
	struct tm tm;

	(void)ctx;
	cpns_print_open_object(NULL);
	cpns_print_u64(CPNS_PR_ANY, "id", "%" PRIu64, (uint64_t)e->id);
	if (gmtime_r(&tt, &tm) &&
	    strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", &tm))
		cpns_print_string(CPNS_PR_ANY, "time", " %s", t);
	else
		cpns_print_u64(CPNS_PR_ANY, "time", " %" PRIu64, e->time);
	if (cpnsd_print_text("event", " %s", e->event, strlen(e->event),
			     false) ||
	    (e->user_id && cpnsd_print_text("user", " user %s", e->user_id,
					    e->user_len, false)))
		return -ENOMEM;
	if (e->entity_id)
		cpns_print_id(CPNS_PR_ANY, "entity", " entity %s", e->entity_id);
	if ((e->source && cpnsd_print_text("from", " from %s", e->source,
					   strlen(e->source), false)) ||
	    (e->detail && cpnsd_print_text("detail", " : %s", e->detail,
					   strlen(e->detail), true)))
		return -ENOMEM;
	cpns_print_nl();
	cpns_print_close_object();
	return 0;
}

/*
 * "user add USERID [password-file SPEC]" and "user passwd": the password
 * is read before anything is written, so that a file that cannot be read
 * changes nothing (exit 1); the user is added only with @add.
 */
static int cpnsd_user_write(struct cpns_reg *reg, const char *uid,
			    const char *spec, bool add, unsigned int log2n)
{
	uint8_t pw[CPNS_PROCA_PASSWORD_MAX];
	struct cpns_err err = { 0 };
	uint64_t now = cpnsd_unix_now();
	size_t len = 0;
	int r = 0;

	if (spec && cpns_password_read(spec, pw, sizeof(pw), &len, &err) < 0) {
		fprintf(stderr, "cpnsd: %s\n", err.msg);
		return 1;
	}
	if (add)
		r = cpns_reg_user_add(reg, (const uint8_t *)uid, strlen(uid),
				      now, &err);
	if (!r && spec)
		r = cpns_reg_user_set_password(reg, (const uint8_t *)uid,
					       strlen(uid), pw, len, log2n,
					       NULL, now, &err);
	cpns_wipe(pw, sizeof(pw));
	if (r < 0) {
		fprintf(stderr, "cpnsd: %s\n", err.msg);
		return 2;
	}
	return 0;
}

struct cpnsd_pairs {
	uint8_t local[16][CPNS_ID_LEN];
	int n;
};

static int cpnsd_pair_seen(uint8_t cmd, struct nlattr **a, void *arg)
{
	struct cpnsd_pairs *p = arg;
	int i;

	(void)cmd;
	if (!a[CPNS_A_LOCAL_ID] || nla_len(a[CPNS_A_LOCAL_ID]) != CPNS_ID_LEN)
		return 0;
	for (i = 0; i < p->n; i++)
		if (!memcmp(p->local[i], nla_data(a[CPNS_A_LOCAL_ID]), CPNS_ID_LEN))
			return 0;
	if (p->n < (int)(sizeof(p->local) / sizeof(p->local[0])))
		memcpy(p->local[p->n++], nla_data(a[CPNS_A_LOCAL_ID]), CPNS_ID_LEN);
	return 0;
}

/* Send @m after putting (local, peer) IDs; @m is freed either way. */
static int cpnsd_pair_request(struct cpns_nl *nl, struct nl_msg *m,
			      const uint8_t *local, const uint8_t *peer,
			      struct cpnsd_pairs *seen, struct cpns_err *err)
{
	if (!m) {
		cpns_err_set(err, -ENOMEM, "out of memory");
		return -1;
	}
	if ((local && cpns_nl_put_id(m, CPNS_A_LOCAL_ID, local)) ||
	    cpns_nl_put_id(m, CPNS_A_PEER_ID, peer)) {
		cpns_nl_msg_free(m);
		cpns_err_set(err, -EMSGSIZE, "netlink message too long");
		return -1;
	}
	if (seen)
		return cpns_nl_dump(nl, m, cpnsd_pair_seen, seen, err);
	return cpns_nl_request(nl, m, NULL, NULL, err);
}

/*
 * A revoked entity keeps no session with this namespace's kernel: delete
 * every pair whose peer it is (a dump finds up to 16 local IDs; repeat
 * until none is left). Without the module there is nothing to delete.
 * Return: 0, or -1 when a session could not be deleted.
 */
static int cpnsd_drop_sessions(const uint8_t id[CPNS_ID_LEN])
{
	struct cpns_err err = { 0 };
	struct cpnsd_pairs p;
	struct cpns_nl *nl;
	int i, r = 0;

	if (cpns_nl_open(&nl, &err) < 0) {
		fprintf(stderr, "cpnsd: no kernel sessions to remove: %s\n", err.msg);
		return 0;
	}
	do {
		p.n = 0;
		r = cpnsd_pair_request(nl, cpns_nl_msg_new(nl, CPNS_CMD_SESSION_GET,
							   NLM_F_DUMP),
				       NULL, id, &p, &err);
		for (i = 0; !r && i < p.n; i++)
			r = cpnsd_pair_request(nl, cpns_nl_msg_new(nl, CPNS_CMD_SESSION_DEL, 0),
					       p.local[i], id, NULL, &err);
	} while (!r && p.n);
	if (r)
		fprintf(stderr, "cpnsd: kernel sessions of the entity not removed: %s\n",
			err.msg);
	cpns_nl_close(nl);
	return r ? -1 : 0;
}

/* The entities a user owns, for "user del". */
struct cpnsd_owned {
	const char *uid;
	uint8_t (*ids)[CPNS_ID_LEN];
	size_t n;
};

static int cpnsd_owned_seen(void *ctx, const struct cpns_reg_entity *e)
{
	struct cpnsd_owned *ow = ctx;
	uint8_t (*ids)[CPNS_ID_LEN];

	if (!e->has_owner || e->owner_len != strlen(ow->uid) ||
	    memcmp(e->owner, ow->uid, e->owner_len))
		return 0;
	ids = realloc(ow->ids, (ow->n + 1) * sizeof(*ids));
	if (!ids)
		return -ENOMEM;
	ow->ids = ids;
	memcpy(ids[ow->n++], e->id, CPNS_ID_LEN);
	return 0;
}

static int cpnsd_admin(struct cpnsd_opts *o, int argc, char **argv)
{
	struct cpns_err err = { 0 };
	struct cpns_reg *reg;
	const char *obj = argv[0], *cmd = argc > 1 ? argv[1] : "list";
	uint64_t now = cpnsd_unix_now();
	int r = 0, status = 0;

	if (strcmp(obj, "user") && strcmp(obj, "entity") && strcmp(obj, "audit"))
		return cpnsd_usage("unknown object \"%s\"", obj);
	if (!strcmp(obj, "user")) {
		if (strcmp(cmd, "list") && argc < 3)
			return cpnsd_usage("user %s: missing USERID", cmd);
		if (argc > 2 && (strlen(argv[2]) == 0 ||
				 strlen(argv[2]) > CPNS_USER_ID_MAX))
			return cpnsd_usage("invalid USERID (1-%d bytes)",
					   CPNS_USER_ID_MAX);
		if (!strcmp(cmd, "add") &&
		    !(argc == 3 || (argc == 5 && !strcmp(argv[3], "password-file"))))
			return cpnsd_usage("user add USERID [password-file SPEC]");
		if (!strcmp(cmd, "passwd") &&
		    !(argc == 5 && !strcmp(argv[3], "password-file")))
			return cpnsd_usage("user passwd USERID password-file SPEC (passwords are never taken from the command line)");
		if (strcmp(cmd, "add") && strcmp(cmd, "passwd") &&
		    strcmp(cmd, "del") && strcmp(cmd, "list") &&
		    strcmp(cmd, "disable") && strcmp(cmd, "enable"))
			return cpnsd_usage("user: unknown command \"%s\"", cmd);
	} else if (!strcmp(obj, "entity")) {
		if (!strcmp(cmd, "revoke") && argc != 3)
			return cpnsd_usage("entity revoke ID");
		if (strcmp(cmd, "revoke") && strcmp(cmd, "list"))
			return cpnsd_usage("entity: unknown command \"%s\"", cmd);
	} else if (argc > (argc > 1 && !strcmp(argv[1], "list") ? 3 : 2)) {
		return cpnsd_usage("audit [ list ] [ EVENT ]");
	}

	/* the first command on a new state directory creates it */
	cpnsd_log_open("cpnsd", LOG_PERROR, LOG_DAEMON, NULL);
	if (cpnsd_open_registry(o, &reg) < 0)
		return 2;
	cpns_print_init(stdout, o->json, o->pretty);
	if (!strcmp(obj, "audit") && argc > 1 && !strcmp(argv[1], "list")) {
		cpns_print_open_array(NULL);
		r = cpns_reg_audit_list(reg, argc > 2 ? argv[2] : NULL,
					cpnsd_audit_print, NULL, &err);
		cpns_print_close_array();
	} else if (!strcmp(obj, "audit")) {
		r = cpns_reg_audit_count(reg, argc > 1 ? argv[1] : NULL);
		if (r >= 0) {
			cpns_print_open_object(NULL);
			if (argc > 1)
				cpns_print_string(CPNS_PR_JSON, "event", NULL,
						  argv[1]);
			cpns_print_int(CPNS_PR_ANY, "count", "%d", r);
			cpns_print_nl();
			cpns_print_close_object();
		}
	} else if (!strcmp(obj, "entity") && !strcmp(cmd, "list")) {
		cpns_print_open_array(NULL);
		r = cpns_reg_entity_list(reg, cpnsd_entity_print, NULL, &err);
		cpns_print_close_array();
	} else if (!strcmp(obj, "entity")) {
		uint8_t id[CPNS_ID_LEN];

		if (cpns_id_parse(argv[2], id, CPNS_ID_VALID) < 0) {
			cpns_reg_close(reg);
			return cpnsd_usage("invalid entity ID \"%s\"", argv[2]);
		}
		r = cpns_reg_entity_revoke(reg, id, now, &err);
		/* Section 6.5: its sessions end with it. */
		if (r >= 0 && cpnsd_drop_sessions(id) < 0)
			status = 2;
	} else if (!strcmp(cmd, "list")) {
		cpns_print_open_array(NULL);
		r = cpns_reg_user_list(reg, cpnsd_user_print, NULL, &err);
		cpns_print_close_array();
	} else if (!strcmp(cmd, "add")) {
		status = cpnsd_user_write(reg, argv[2],
					  argc == 5 ? argv[4] : NULL, true,
					  o->log2n);
	} else if (!strcmp(cmd, "passwd")) {
		status = cpnsd_user_write(reg, argv[2], argv[4], false,
					  o->log2n);
	} else if (!strcmp(cmd, "del")) {
		struct cpnsd_owned ow = { .uid = argv[2] };
		size_t i;

		r = cpns_reg_entity_list(reg, cpnsd_owned_seen, &ow, &err);
		if (r >= 0)
			r = cpns_reg_user_remove(reg, (const uint8_t *)argv[2],
						 strlen(argv[2]), now, &err);
		/* Section 6.5: the sessions of its GWs end with their keys. */
		for (i = 0; r >= 0 && i < ow.n; i++)
			if (cpnsd_drop_sessions(ow.ids[i]) < 0)
				status = 2;
		free(ow.ids);
	} else {
		r = cpns_reg_user_disable(reg, (const uint8_t *)argv[2],
					  strlen(argv[2]),
					  !strcmp(cmd, "disable"), now, &err);
	}
	if (r < 0) {
		fprintf(stderr, "cpnsd: %s\n",
			err.msg[0] ? err.msg : strerror(-r));
		status = 2;
	}
	cpns_reg_close(reg);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "registry", required_argument, NULL, 'r' },
		{ "kek", required_argument, NULL, 'k' },
		{ "secret", required_argument, NULL, 'S' },
		{ "port", required_argument, NULL, 'P' },
		{ "netns", required_argument, NULL, 'n' },
		{ "require-dhe", no_argument, NULL, 'D' },
		{ "log2n", required_argument, NULL, 'L' },
		{ "m1-rate", required_argument, NULL, 'M' },
		{ "log-auth", no_argument, NULL, 'A' },
		{ "stderr", no_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct cpnsd d;
	struct cpns_err err = { 0 };
	char *end;
	int c;

	d.o.log2n = 15;
	d.o.m1_rate = CPNSD_M1_RATE;
	d.sock.fd = d.sfd = -1;
	while ((c = getopt_long(argc, argv, "+i:s:r:k:P:n:ejph", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (cpns_id_parse(optarg, d.o.id, CPNS_ID_VALID) < 0)
				return cpnsd_usage("invalid entity ID \"%s\"", optarg);
			d.o.has_id = true;
			break;
		case 's':
			d.o.state_dir = optarg;
			break;
		case 'r':
			d.o.registry = optarg;
			break;
		case 'k':
			d.o.kek = optarg;
			break;
		case 'S':
			d.o.secret = optarg;
			break;
		case 'P':
			d.o.port = strtoul(optarg, &end, 10);
			if (*end || !d.o.port || d.o.port > 65535)
				return cpnsd_usage("invalid port \"%s\"", optarg);
			break;
		case 'n':
			d.o.netns = optarg;
			break;
		case 'D':
			d.o.require_dhe = true;
			break;
		case 'L':
			d.o.log2n = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || (d.o.log2n != 15 && d.o.log2n != 16))
				return cpnsd_usage("log2n must be 15 or 16");
			break;
		case 'M':
			d.o.m1_rate = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !d.o.m1_rate || d.o.m1_rate > 1000000)
				return cpnsd_usage("invalid --m1-rate \"%s\"", optarg);
			break;
		case 'A':
			d.o.log_auth = true;
			break;
		case 'e':
			d.o.log_stderr = true;
			break;
		case 'j':
			d.o.json = true;
			break;
		case 'p':
			d.o.pretty = true;
			break;
		case 'h':
			fputs(cpnsd_usage_text, stdout);
			return 0;
		default:
			fputs(cpnsd_usage_text, stderr);
			return 1;
		}
	}
	if (!d.o.state_dir)
		d.o.state_dir = CPNSD_STATE_DIR;
	if (!d.o.registry)
		d.o.registry = cpnsd_path(d.o.state_dir, "registry.db");
	if (!d.o.kek)
		d.o.kek = cpnsd_path(d.o.state_dir, "kek");
	if (!d.o.secret)
		d.o.secret = cpnsd_path(d.o.state_dir, "server-secret");
	umask(077);
	if (d.o.netns && cpns_netns_enter(d.o.netns, &err) < 0) {
		fprintf(stderr, "cpnsd: %s\n", err.msg);
		return 2;
	}
	if (optind < argc)
		return cpnsd_admin(&d.o, argc - optind, argv + optind);
	cpnsd_log_open("cpnsd", LOG_PID | (d.o.log_stderr ? LOG_PERROR : 0),
		       LOG_DAEMON, NULL);
	return cpnsd_run(&d);
}

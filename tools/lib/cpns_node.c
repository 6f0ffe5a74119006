// SPDX-License-Identifier: GPL-2.0
/*
 * The handshake socket and the netlink requests of the procedures.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>

#include "cpns_crypto.h"
#include "cpns_node.h"

int cpns_node_family(void)
{
	FILE *f = fopen("/sys/module/cpns/parameters/family", "re");
	int v = -1;

	if (!f)
		return -errno;
	if (fscanf(f, "%d", &v) != 1 || v <= 0)
		v = -ENOENT;
	fclose(f);
	return v;
}

uint64_t cpns_node_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int cpns_hsock_open(const uint8_t *id, struct cpns_hsock *hs,
		    struct cpns_err *err)
{
	struct sockaddr_cpns sa = { 0 };
	int family, fd, one = 1;

	family = cpns_node_family();
	if (family < 0)
		return cpns_err_set(err, family,
				    "cpns module not loaded (no AF_CPNS family number)");
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cpns_err_set(err, -errno, "AF_CPNS socket: %s",
				    strerror(errno));
	if (setsockopt(fd, SOL_CPNS, CPNS_HANDSHAKE, &one, sizeof(one)) < 0 ||
	    setsockopt(fd, SOL_CPNS, CPNS_RECVINFO, &one, sizeof(one)) < 0) {
		cpns_err_set(err, -errno, "handshake socket option: %s",
			     strerror(errno));
		goto err_close;
	}
	sa.scpns_family = (__kernel_sa_family_t)family;
	sa.scpns_port = CPNS_PORT_HANDSHAKE;
	if (id)
		memcpy(sa.scpns_id, id, CPNS_ID_LEN);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		cpns_err_set(err, -errno, "bind handshake port 1: %s%s",
			     strerror(errno),
			     errno == EADDRINUSE ?
				     " (another handshake service runs for this ID)" : "");
		goto err_close;
	}
	hs->fd = fd;
	hs->family = family;
	return 0;
err_close:
	close(fd);
	return err ? err->code : -EIO;
}

int cpns_hsock_send(const struct cpns_hsock *hs,
		    const struct cpns_hsock_tx *tx, const void *msg, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(int)) +
			 CMSG_SPACE(sizeof(struct sockaddr_in6)) +
			 CMSG_SPACE(CPNS_ID_LEN) + CMSG_SPACE(1)];
		struct cmsghdr align;
	} u;
	struct sockaddr_cpns sa = { 0 };
	struct iovec iov = { .iov_base = (void *)msg, .iov_len = len };
	struct msghdr mh = { 0 };
	struct cmsghdr *cm;
	size_t clen = 0;
	int one = 1;

	memset(&u, 0, sizeof(u));
	sa.scpns_family = (__kernel_sa_family_t)hs->family;
	sa.scpns_port = CPNS_PORT_HANDSHAKE;
	memcpy(sa.scpns_id, tx->dst, CPNS_ID_LEN);
	mh.msg_name = &sa;
	mh.msg_namelen = sizeof(sa);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	cm = CMSG_FIRSTHDR(&mh);
	if (tx->suite0) {
		cm->cmsg_level = SOL_CPNS;
		cm->cmsg_type = CPNS_CMSG_SUITE0;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &one, sizeof(one));
		clen += CMSG_SPACE(sizeof(int));
		cm = CMSG_NXTHDR(&mh, cm);
		if (tx->endpoint) {
			cm->cmsg_level = SOL_CPNS;
			cm->cmsg_type = CPNS_CMSG_ENDPOINT;
			cm->cmsg_len = CMSG_LEN(tx->endpoint_len);
			memcpy(CMSG_DATA(cm), tx->endpoint, tx->endpoint_len);
			clen += CMSG_SPACE(tx->endpoint_len);
			cm = CMSG_NXTHDR(&mh, cm);
		}
	} else if (tx->generation) {
		cm->cmsg_level = SOL_CPNS;
		cm->cmsg_type = CPNS_CMSG_GENERATION;
		cm->cmsg_len = CMSG_LEN(1);
		*CMSG_DATA(cm) = tx->generation;
		clen += CMSG_SPACE(1);
		cm = CMSG_NXTHDR(&mh, cm);
	}
	if (tx->src) {
		cm->cmsg_level = SOL_CPNS;
		cm->cmsg_type = CPNS_CMSG_SRC_ID;
		cm->cmsg_len = CMSG_LEN(CPNS_ID_LEN);
		memcpy(CMSG_DATA(cm), tx->src, CPNS_ID_LEN);
		clen += CMSG_SPACE(CPNS_ID_LEN);
	}
	mh.msg_controllen = clen;
	if (!clen)
		mh.msg_control = NULL;
	if (sendmsg(hs->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		return -errno;
	return 0;
}

ssize_t cpns_hsock_recv(const struct cpns_hsock *hs, uint8_t *buf, size_t cap,
			struct cpns_hsock_rx *rx)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct cpns_recvinfo)) + 64];
		struct cmsghdr align;
	} u;
	struct sockaddr_cpns sa = { 0 };
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	struct msghdr mh = {
		.msg_name = &sa, .msg_namelen = sizeof(sa),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	memset(rx, 0, sizeof(*rx));
	n = recvmsg(hs->fd, &mh, MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	if (mh.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	memcpy(rx->src, sa.scpns_id, CPNS_ID_LEN);
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_CPNS &&
		    cm->cmsg_type == CPNS_CMSG_RECVINFO &&
		    cm->cmsg_len >= CMSG_LEN(sizeof(rx->info)))
			memcpy(&rx->info, CMSG_DATA(cm), sizeof(rx->info));
	}
	if (rx->info.endpoint.ss_family == AF_INET)
		rx->addr_len = sizeof(struct sockaddr_in);
	else if (rx->info.endpoint.ss_family == AF_INET6)
		rx->addr_len = sizeof(struct sockaddr_in6);
	return n;
}

/* ---- netlink ---------------------------------------------------------- */

static struct nl_msg *cpns_node_msg(struct cpns_nl *nl, uint8_t cmd, int flags,
				    struct cpns_err *err)
{
	struct nl_msg *msg = cpns_nl_msg_new(nl, cmd, flags);

	if (!msg)
		cpns_err_set(err, -ENOMEM, "out of memory");
	return msg;
}

static int cpns_node_put_failed(struct nl_msg *msg, struct cpns_err *err)
{
	cpns_nl_msg_free(msg);
	return cpns_err_set(err, -EMSGSIZE, "netlink message too long");
}

int cpns_node_id_add(struct cpns_nl *nl, const uint8_t id[CPNS_ID_LEN],
		     struct cpns_err *err)
{
	struct nl_msg *msg = cpns_node_msg(nl, CPNS_CMD_ID_ADD, 0, err);
	int ret;

	if (!msg)
		return -ENOMEM;
	if (cpns_nl_put_id(msg, CPNS_A_LOCAL_ID, id))
		return cpns_node_put_failed(msg, err);
	ret = cpns_nl_request(nl, msg, NULL, NULL, err);
	if (ret == -EEXIST) {
		cpns_err_clear(err);
		ret = 0;
	}
	return ret;
}

struct cpns_node_idl {
	uint8_t (*ids)[CPNS_ID_LEN];
	int max, n;
};

static int cpns_node_id_cb(uint8_t cmd, struct nlattr **a, void *arg)
{
	struct cpns_node_idl *l = arg;

	(void)cmd;
	if (!a[CPNS_A_LOCAL_ID] || nla_len(a[CPNS_A_LOCAL_ID]) != CPNS_ID_LEN)
		return 0;
	if (l->n < l->max)
		memcpy(l->ids[l->n], nla_data(a[CPNS_A_LOCAL_ID]), CPNS_ID_LEN);
	l->n++;
	return 0;
}

int cpns_node_id_list(struct cpns_nl *nl, uint8_t (*ids)[CPNS_ID_LEN],
		      int max, struct cpns_err *err)
{
	struct cpns_node_idl l = { .ids = ids, .max = max };
	struct nl_msg *msg = cpns_node_msg(nl, CPNS_CMD_ID_GET, NLM_F_DUMP,
					   err);
	int ret;

	if (!msg)
		return -ENOMEM;
	ret = cpns_nl_dump(nl, msg, cpns_node_id_cb, &l, err);
	return ret < 0 ? ret : l.n;
}

int cpns_node_peer_set(struct cpns_nl *nl, const uint8_t id[CPNS_ID_LEN],
		       const struct sockaddr *sa, bool learn, bool uplink,
		       struct cpns_err *err)
{
	struct nl_msg *msg = cpns_node_msg(nl, CPNS_CMD_PEER_SET, 0, err);

	if (!msg)
		return -ENOMEM;
	if (cpns_nl_put_id(msg, CPNS_A_PEER_ID, id) ||
	    cpns_nl_put_addr(msg, sa) ||
	    nla_put_u8(msg, CPNS_A_LEARN, learn) ||
	    (uplink && nla_put_u8(msg, CPNS_A_UPLINK, 1)))
		return cpns_node_put_failed(msg, err);
	return cpns_nl_request(nl, msg, NULL, NULL, err);
}

int cpns_node_set_port(struct cpns_nl *nl, uint16_t port, struct cpns_err *err)
{
	struct nl_msg *msg = cpns_node_msg(nl, CPNS_CMD_LINK_SET, 0, err);

	if (!msg)
		return -ENOMEM;
	if (nla_put_u16(msg, CPNS_A_UDP_PORT, port))
		return cpns_node_put_failed(msg, err);
	return cpns_nl_request(nl, msg, NULL, NULL, err);
}

/* The SESSION_NEW request of cpns_node_install() in *@out; 0 or -errno. */
static int cpns_node_install_msg(struct cpns_nl *nl,
				 const struct cpns_hs_install *in,
				 const struct sockaddr *addr,
				 struct nl_msg **out, struct cpns_err *err)
{
	struct nl_msg *msg = cpns_node_msg(nl, CPNS_CMD_SESSION_NEW, 0, err);

	if (!msg)
		return -ENOMEM;
	if (cpns_nl_put_id(msg, CPNS_A_LOCAL_ID, in->local_id) ||
	    cpns_nl_put_id(msg, CPNS_A_PEER_ID, in->peer_id) ||
	    nla_put_u8(msg, CPNS_A_GENERATION, in->generation) ||
	    nla_put_u8(msg, CPNS_A_SUITE, in->suite) ||
	    nla_put_u8(msg, CPNS_A_ROLE,
		       in->role == CPNS_HS_ROLE_INITIATOR ?
			       CPNS_ROLE_INITIATOR : CPNS_ROLE_RESPONDER) ||
	    nla_put_u8(msg, CPNS_A_TX_MODE,
		       in->tx_mode == CPNS_HS_TX_IMMEDIATE ?
			       CPNS_TX_IMMEDIATE : CPNS_TX_ON_CONFIRM) ||
	    nla_put(msg, CPNS_A_TX_SECRET, CPNS_SECRET_LEN, in->tx_ts) ||
	    nla_put(msg, CPNS_A_RX_SECRET, CPNS_SECRET_LEN, in->rx_ts) ||
	    (addr && (cpns_nl_put_addr(msg, addr) ||
		      nla_put_u8(msg, CPNS_A_LEARN, 1))))
		return cpns_node_put_failed(msg, err);
	*out = msg;
	return 0;
}

int cpns_node_install(struct cpns_nl *nl, const struct cpns_hs_install *in,
		      const struct sockaddr *addr, struct cpns_err *err)
{
	struct nl_msg *msg;
	int ret = cpns_node_install_msg(nl, in, addr, &msg, err);

	if (ret)
		return ret;
	/* cpns_nl_request() wipes the message buffer before freeing it */
	return cpns_nl_request(nl, msg, NULL, NULL, err);
}

int cpns_node_install_queue(struct cpns_nl *nl,
			    const struct cpns_hs_install *in,
			    const struct sockaddr *addr, uint32_t *seq,
			    struct cpns_err *err)
{
	struct nl_msg *msg;
	int ret = cpns_node_install_msg(nl, in, addr, &msg, err);

	if (ret)
		return ret;
	/* cpns_nl_queue() wipes the message buffer before freeing it */
	return cpns_nl_queue(nl, msg, seq, err);
}

int cpns_node_uninstall(struct cpns_nl *nl, const struct cpns_hs_install *in,
			struct cpns_err *err)
{
	struct nl_msg *msg = cpns_node_msg(nl, CPNS_CMD_SESSION_DEL, 0, err);

	if (!msg)
		return -ENOMEM;
	if (cpns_nl_put_id(msg, CPNS_A_LOCAL_ID, in->local_id) ||
	    cpns_nl_put_id(msg, CPNS_A_PEER_ID, in->peer_id) ||
	    nla_put_u8(msg, CPNS_A_GENERATION, in->generation))
		return cpns_node_put_failed(msg, err);
	return cpns_nl_request(nl, msg, NULL, NULL, err);
}

struct cpns_node_gq {
	const uint8_t *local, *peer;
	struct cpns_node_gens *g;
	uint64_t best_age;
};

static int cpns_node_gens_cb(uint8_t cmd, struct nlattr **a, void *arg)
{
	struct cpns_node_gq *q = arg;
	struct cpns_node_gens *g = q->g;
	uint64_t age;
	uint8_t gen;

	(void)cmd;
	if (!a[CPNS_A_LOCAL_ID] || nla_len(a[CPNS_A_LOCAL_ID]) != CPNS_ID_LEN ||
	    memcmp(nla_data(a[CPNS_A_LOCAL_ID]), q->local, CPNS_ID_LEN) ||
	    !a[CPNS_A_PEER_ID] || nla_len(a[CPNS_A_PEER_ID]) != CPNS_ID_LEN ||
	    memcmp(nla_data(a[CPNS_A_PEER_ID]), q->peer, CPNS_ID_LEN) ||
	    !a[CPNS_A_GENERATION] || g->n >= 8)
		return 0;
	gen = nla_get_u8(a[CPNS_A_GENERATION]);
	age = a[CPNS_A_AGE_MS] ? nla_get_u64(a[CPNS_A_AGE_MS]) : 0;
	g->gen[g->n] = gen;
	g->age_ms[g->n] = age;
	g->lifetime_ms[g->n] = a[CPNS_A_LIFETIME_MS] ?
		nla_get_u64(a[CPNS_A_LIFETIME_MS]) : 0;
	g->rekey_epoch[g->n] =
		(a[CPNS_A_TX_EPOCH] &&
		 nla_get_u8(a[CPNS_A_TX_EPOCH]) >= CPNS_REKEY_EPOCH) ||
		(a[CPNS_A_RX_EPOCH] &&
		 nla_get_u8(a[CPNS_A_RX_EPOCH]) >= CPNS_REKEY_EPOCH) ||
		(a[CPNS_A_EXHAUSTED] && nla_get_u8(a[CPNS_A_EXHAUSTED]));
	g->n++;
	if (a[CPNS_A_TX_ACTIVE] && nla_get_u8(a[CPNS_A_TX_ACTIVE]))
		g->tx_active = gen;
	if (!g->newest || age < q->best_age) {
		g->newest = gen;
		q->best_age = age;
	}
	return 0;
}

int cpns_node_gens(struct cpns_nl *nl, const uint8_t local[CPNS_ID_LEN],
		   const uint8_t peer[CPNS_ID_LEN], struct cpns_node_gens *g,
		   struct cpns_err *err)
{
	struct cpns_node_gq q = { .local = local, .peer = peer, .g = g };
	struct nl_msg *msg = cpns_node_msg(nl, CPNS_CMD_SESSION_GET,
					   NLM_F_DUMP, err);

	memset(g, 0, sizeof(*g));
	if (!msg)
		return -ENOMEM;
	if (cpns_nl_put_id(msg, CPNS_A_LOCAL_ID, local) ||
	    cpns_nl_put_id(msg, CPNS_A_PEER_ID, peer))
		return cpns_node_put_failed(msg, err);
	return cpns_nl_dump(nl, msg, cpns_node_gens_cb, &q, err);
}

/* ---- procedure B, the GW's side --------------------------------------- */

struct cpns_procb {
	struct cpns_nl *nl;
	struct cpns_hs_init *hs;
	struct cpns_hsock sock;
	int state;
	int failure;
	uint8_t local[CPNS_ID_LEN];
	uint8_t server[CPNS_ID_LEN];
	uint32_t kid;
	uint8_t generation;
	uint64_t deadline;
	char outcome[CPNS_ERR_MSG_LEN + 64];
};

static void cpns_procb_fail(struct cpns_procb *pb, int failure,
			    const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void cpns_procb_fail(struct cpns_procb *pb, int failure,
			    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(pb->outcome, sizeof(pb->outcome), fmt, ap);
	va_end(ap);
	pb->state = CPNS_PROCB_FAILED;
	pb->failure = failure;
	pb->deadline = 0;
}

/*
 * Carries out what the handshake engine asked for after returning @v: the
 * install first (the confirmation Ack travels on the new generation),
 * then the message.
 */
static void cpns_procb_act(struct cpns_procb *pb, int v,
			   struct cpns_hs_actions *act)
{
	struct cpns_err err = { 0 };
	int r;

	if (pb->state != CPNS_PROCB_RUNNING &&
	    pb->state != CPNS_PROCB_INSTALLED)
		goto out;
	if (act->install_valid) {
		if (cpns_node_install(pb->nl, &act->install, NULL, &err) < 0) {
			cpns_procb_fail(pb, CPNS_PROCB_LOCAL,
					"install failed: %s", err.msg);
			goto out;
		}
		pb->generation = act->install.generation;
		pb->state = CPNS_PROCB_INSTALLED;
		snprintf(pb->outcome, sizeof(pb->outcome),
			 "generation %u suite %u kid %" PRIu32 " installed",
			 pb->generation, act->install.suite, pb->kid);
	}
	if (act->send_valid) {
		struct cpns_hsock_tx tx = {
			.dst = pb->server,
			.suite0 = act->send.prot == CPNS_PROT_SUITE0,
			.generation = act->send.prot == CPNS_PROT_SUITE0 ?
					      0 : act->send.generation,
		};

		/* suite 0 to S goes to the uplink address of the table */
		r = cpns_hsock_send(&pb->sock, &tx, act->send.msg,
				    act->send.len);
		/* A full buffer is a lost datagram: retransmission covers
		 * it. Anything else means S cannot be reached from here;
		 * a repeat of the Ack (after the install) may fail freely.
		 */
		if (r < 0 && r != -EAGAIN && r != -ENOBUFS &&
		    pb->state == CPNS_PROCB_RUNNING) {
			cpns_procb_fail(pb, CPNS_PROCB_UNREACHABLE,
					"cannot send to the server: %s",
					strerror(-r));
			goto out;
		}
	}
	switch (v) {
	case CPNS_HS_FAILED:
		if (act->timeout)
			cpns_procb_fail(pb, CPNS_PROCB_TIMEOUT,
					"no answer from the server (timeout)");
		else if (act->peer_abort)
			cpns_procb_fail(pb, CPNS_PROCB_AUTH,
					"Abort from the server: %s",
					cpns_reason_name((unsigned int)act->peer_abort));
		else
			cpns_procb_fail(pb, CPNS_PROCB_AUTH, "failed: %s",
					cpns_reason_name((unsigned int)act->reason));
		goto out;
	case CPNS_HS_DONE:
		if (pb->generation)
			pb->state = CPNS_PROCB_DONE;
		else
			cpns_procb_fail(pb, CPNS_PROCB_LOCAL,
					"ended without a session");
		goto out;
	}
	pb->deadline = act->deadline_ms;
	if (!pb->deadline && pb->state == CPNS_PROCB_INSTALLED)
		pb->state = CPNS_PROCB_DONE;
out:
	cpns_hs_actions_wipe(act);
	memset(act, 0, sizeof(*act));
}

int cpns_procb_start(struct cpns_nl *nl, const struct cpns_procb_cfg *cfg,
		     uint64_t now_ms, struct cpns_procb **pbp,
		     struct cpns_err *err)
{
	struct cpns_hs_init_cfg hc = { 0 };
	struct cpns_hs_actions act;
	struct cpns_node_gens g;
	struct cpns_procb *pb;
	int r;

	if (cpns_node_id_add(nl, cfg->local, err) < 0 ||
	    cpns_node_peer_set(nl, cfg->server,
			       (const struct sockaddr *)&cfg->endpoint, false,
			       true, err) < 0 ||
	    cpns_node_gens(nl, cfg->local, cfg->server, &g, err) < 0)
		return err->code ? err->code : -EIO;
	if (g.n >= 2)
		return cpns_err_set(err, -EBUSY,
				    "two generations held for the pair; waiting until the older one is erased");
	/* the new run takes over the handshake socket of the pair */
	cpns_procb_free(*pbp);
	*pbp = NULL;
	pb = calloc(1, sizeof(*pb));
	if (!pb)
		return cpns_err_set(err, -ENOMEM, "out of memory");
	pb->nl = nl;
	pb->sock.fd = -1;
	pb->state = CPNS_PROCB_RUNNING;
	memcpy(pb->local, cfg->local, CPNS_ID_LEN);
	memcpy(pb->server, cfg->server, CPNS_ID_LEN);
	pb->kid = cfg->kid;
	r = cpns_hsock_open(cfg->local, &pb->sock, err);
	if (r < 0)
		goto err_free;

	memcpy(hc.local_id, cfg->local, CPNS_ID_LEN);
	memcpy(hc.peer_id, cfg->server, CPNS_ID_LEN);
	memcpy(hc.k, cfg->eukey, CPNS_KEY_LEN);
	hc.psk_kind = CPNS_HS_KIND_EUKEY;
	hc.kid = cfg->kid;
	hc.suites[0] = CPNS_SUITE_AES256GCM;
	hc.suites[1] = CPNS_SUITE_CHACHA20POLY1305;
	hc.n_suites = 2;
	hc.mode = cfg->dhe ? CPNS_HS_MODE_PSK_DHE : CPNS_HS_MODE_PSK;
	hc.prev_gen = g.tx_active ? g.tx_active : g.newest;
	memcpy(hc.held, g.gen, g.n);
	hc.n_held = g.n;
	memset(&act, 0, sizeof(act));
	pb->hs = cpns_hs_init_new(&hc, now_ms, &act, &r);
	cpns_wipe(hc.k, sizeof(hc.k));
	if (!pb->hs) {
		cpns_err_set(err, r < 0 ? r : -EINVAL, "handshake start: %s",
			     strerror(r < 0 ? -r : EINVAL));
		goto err_close;
	}
	cpns_procb_act(pb, CPNS_HS_CONTINUE, &act);
	*pbp = pb;
	return 0;

err_close:
	close(pb->sock.fd);
err_free:
	free(pb);
	return err->code ? err->code : -EIO;
}

int cpns_procb_fd(const struct cpns_procb *pb)
{
	return pb->sock.fd;
}

uint64_t cpns_procb_deadline(const struct cpns_procb *pb)
{
	return pb->state == CPNS_PROCB_RUNNING ||
	       pb->state == CPNS_PROCB_INSTALLED ? pb->deadline : 0;
}

int cpns_procb_input(struct cpns_procb *pb)
{
	uint8_t buf[CPNS_MSG_MAX_LEN];
	struct cpns_hs_actions act;
	struct cpns_hs_meta meta;
	struct cpns_hsock_rx rx;
	ssize_t n;
	int v;

	while (pb->state == CPNS_PROCB_RUNNING ||
	       pb->state == CPNS_PROCB_INSTALLED) {
		n = cpns_hsock_recv(&pb->sock, buf, sizeof(buf), &rx);
		/* an oversized message is dropped; any other error ends the
		 * read (EAGAIN: the queue is empty)
		 */
		if (n == -EMSGSIZE || n == -EINTR)
			continue;
		if (n < 0)
			break;
		if (!n || memcmp(rx.src, pb->server, CPNS_ID_LEN))
			continue;
		memset(&meta, 0, sizeof(meta));
		meta.prot = rx.info.suite ? CPNS_PROT_PROTECTED :
					    CPNS_PROT_SUITE0;
		meta.src = rx.src;
		meta.dst = rx.info.dst_id;
		meta.addr = &rx.info.endpoint;
		meta.addr_len = rx.addr_len;
		meta.now_ms = cpns_node_now_ms();
		memset(&act, 0, sizeof(act));
		v = cpns_hs_init_recv(pb->hs, buf, (size_t)n, &meta, &act);
		if (v == CPNS_HS_DROP || v < 0) {
			cpns_hs_actions_wipe(&act);
			continue;
		}
		cpns_procb_act(pb, v, &act);
	}
	cpns_wipe(buf, sizeof(buf));
	return pb->state;
}

int cpns_procb_timer(struct cpns_procb *pb, uint64_t now_ms)
{
	struct cpns_hs_actions act;
	int v;

	if (!cpns_procb_deadline(pb) || now_ms < pb->deadline)
		return pb->state;
	memset(&act, 0, sizeof(act));
	v = cpns_hs_init_timer(pb->hs, now_ms, &act);
	cpns_procb_act(pb, v, &act);
	return pb->state;
}

int cpns_procb_state(const struct cpns_procb *pb)
{
	return pb->state;
}

int cpns_procb_failure(const struct cpns_procb *pb)
{
	return pb->state == CPNS_PROCB_FAILED ? pb->failure : 0;
}

uint8_t cpns_procb_generation(const struct cpns_procb *pb)
{
	return pb->generation;
}

const char *cpns_procb_outcome(const struct cpns_procb *pb)
{
	return pb->outcome;
}

void cpns_procb_free(struct cpns_procb *pb)
{
	if (!pb)
		return;
	cpns_hs_init_free(pb->hs);
	if (pb->sock.fd >= 0)
		close(pb->sock.fd);
	free(pb);
}

int cpns_password_read(const char *spec, uint8_t *buf, size_t cap,
		       size_t *len, struct cpns_err *err)
{
	size_t n = 0;
	ssize_t r;
	int fd, ret = 0;
	bool own = false;
	unsigned long v;
	char *end;

	if (!strcmp(spec, "-")) {
		fd = STDIN_FILENO;
	} else if (!strncmp(spec, "fd:", 3)) {
		errno = 0;
		v = strtoul(spec + 3, &end, 10);
		if (spec[3] < '0' || spec[3] > '9' || *end || errno ||
		    v > INT_MAX)
			return cpns_err_set(err, -EINVAL,
					    "%s: invalid file descriptor", spec);
		fd = (int)v;
	} else {
		fd = open(spec, O_RDONLY | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return cpns_err_set(err, -errno, "%s: %s", spec,
					    strerror(errno));
		own = true;
	}
	for (;;) {
		if (n == cap) {
			ret = cpns_err_set(err, -E2BIG, "%s: password too long",
					   spec);
			break;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			ret = cpns_err_set(err, -errno, "%s: %s", spec,
					   strerror(errno));
			break;
		}
		if (!r)
			break;
		n += (size_t)r;
	}
	if (own)
		close(fd);
	if (!ret && n && buf[n - 1] == '\n')
		n--;
	if (!ret && n && buf[n - 1] == '\r')
		n--;
	if (!ret && !n)
		ret = cpns_err_set(err, -EINVAL, "%s: empty password", spec);
	if (ret) {
		cpns_wipe(buf, cap);
		return ret;
	}
	*len = n;
	return 0;
}

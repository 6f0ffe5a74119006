// SPDX-License-Identifier: GPL-2.0
/*
 * The UDP transport and what hangs off it, over IPv6: two namespaces A
 * and B over a veth pair with IPv6 addresses (cpns_ab_setup()), generation
 * 1 installed on both sides (A the initiator, immediate; B the responder,
 * on-confirm). For each suite (fixture "transport"):
 *
 *  - ipv6_both_ways: records both ways, the largest payload too (the IPv6
 *    layer fragments it), with the IPv6 source address in recvinfo;
 *  - exhausted: with one record per epoch (tx_epoch_records) the sender
 *    runs through the 256 epochs of a generation: the threshold
 *    notification at epoch 224, then EKEYEXPIRED; a new generation sends;
 *
 * and once, as they do not depend on the suite (fixture "endpoint"):
 *
 *  - set_port: the listening port moves while the session exists; bad
 *    values are refused with an extack message and change nothing; the
 *    old port is closed afterwards, records leave from the new one;
 *  - address_learning: only records that pass step 12 move a learning
 *    peer's address; a peer without learning never moves;
 *  - no_session_notification: records for an unknown generation give a
 *    rate-limited notification per pair, and each is counted.
 *
 * Records are forged from a plain UDP socket in A. The test runs on one
 * CPU, so the datagrams it sends from A reach B in the order sent: a
 * record sent last and received shows that B processed those before it.
 */
#include <poll.h>
#include <time.h>

#include "kselftest_harness.h"
#include "cpns_dp_test.h"

#define PORT_A		5000
#define PORT_B		6000
#define UDP_PORT	CPNS_DEFAULT_UDP_PORT
#define FORGE_PORT	40001	/* UDP port of forged records in A */

#define IP_A		"fd00:77::1"
#define IP_B		"fd00:77::2"


static const uint8_t ts1_i2r[CPNS_SECRET_LEN] = { 0x11, 0x22, 0x33 };
static const uint8_t ts1_r2i[CPNS_SECRET_LEN] = { 0x44, 0x55, 0x66 };
static const uint8_t ts2_i2r[CPNS_SECRET_LEN] = { 0x77, 0x88, 0x99 };
static const uint8_t ts2_r2i[CPNS_SECRET_LEN] = { 0xaa, 0xbb, 0xcc };

FIXTURE(transport) {
	struct cpns_ab ab;	/* A, B, their data sockets */
	char saved[32];		/* tx_epoch_records to restore, "" if untouched */
};

FIXTURE_VARIANT(transport) {
	uint8_t suite;
};

FIXTURE_VARIANT_ADD(transport, aes256gcm) {
	.suite = CPNS_SUITE_AES256GCM,
};

FIXTURE_VARIANT_ADD(transport, chacha20poly1305) {
	.suite = CPNS_SUITE_CHACHA20POLY1305,
};

/* The same namespaces for the tests of addresses and ports, which do not
 * depend on the suite: one run of each keeps the file fast.
 */
FIXTURE(endpoint) {
	struct cpns_ab ab;
};

#define ENDPOINT_SUITE	CPNS_SUITE_AES256GCM

static int enter(const char *ns)
{
	return cpns_netns_enter(ns);
}

/* A and B over IPv6 with generation 1 installed, RECVINFO on both data
 * sockets; the calling process stays on the CPU it runs on.
 */
static void ab_up(struct __test_metadata *_metadata, struct cpns_ab *ab,
		  uint8_t suite)
{
	cpu_set_t cpus;
	int one = 1;

	/* One CPU: one backlog queue from A to B, so order is kept. */
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpus), &cpus));

	ASSERT_EQ(0, cpns_ab_setup(ab, "tr", IP_A, IP_B, PORT_A, PORT_B));
	ASSERT_EQ(0, setsockopt(ab->fa, SOL_CPNS, CPNS_RECVINFO, &one,
				sizeof(one)));
	ASSERT_EQ(0, setsockopt(ab->fb, SOL_CPNS, CPNS_RECVINFO, &one,
				sizeof(one)));
	ASSERT_EQ(0, cpns_ab_install(ab, 0, 1, suite, ts1_i2r, ts1_r2i));
	ASSERT_EQ(0, cpns_ab_install(ab, 1, 1, suite, ts1_i2r, ts1_r2i));
}

FIXTURE_SETUP(transport)
{
	ab_up(_metadata, &self->ab, variant->suite);
}

FIXTURE_SETUP(endpoint)
{
	ab_up(_metadata, &self->ab, ENDPOINT_SUITE);
}

FIXTURE_TEARDOWN(endpoint)
{
	cpns_ab_teardown(&self->ab);
}

FIXTURE_TEARDOWN(transport)
{
	if (self->saved[0])
		EXPECT_EQ(0, cpns_param_write("tx_epoch_records", self->saved));
	cpns_ab_teardown(&self->ab);
}

/* ---- helpers ------------------------------------------------------------- */

/**
 * struct got - one record received
 * @len: payload length, -1 when none came
 * @ri: its recvinfo
 * @buf: the payload
 */
struct got {
	ssize_t len;
	struct cpns_recvinfo ri;
	char buf[CPNS_MAX_PAYLOAD + 1];
};

/* Wait up to @ms for one record on @fd. */
static ssize_t wait_got(int fd, struct got *g, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int have_ri;

	memset(&g->ri, 0, sizeof(g->ri));
	g->len = -1;
	if (poll(&p, 1, ms) != 1)
		return -1;
	g->len = cpns_recv_info(fd, g->buf, sizeof(g->buf) - 1, MSG_DONTWAIT,
				NULL, &g->ri, &have_ri);
	if (g->len >= 0)
		g->buf[g->len] = 0;
	if (!have_ri)
		g->ri.endpoint.ss_family = AF_UNSPEC;
	return g->len;
}

/* Send @text from the socket of one side to the other side and wait for
 * it there. Returns 0 when it arrived intact; @g holds what came.
 */
static int a_to_b(const struct cpns_ab *ab, const char *text, struct got *g)
{
	size_t len = strlen(text);

	if (cpns_sendto(ab->fa, text, len, ab->b, PORT_B, 0) != (ssize_t)len)
		return -1;
	if (wait_got(ab->fb, g, 2000) != (ssize_t)len)
		return -1;
	return strcmp(g->buf, text) ? -1 : 0;
}

static int b_to_a(const struct cpns_ab *ab, const char *text, struct got *g)
{
	size_t len = strlen(text);

	if (cpns_sendto(ab->fb, text, len, ab->a, PORT_A, 0) != (ssize_t)len)
		return -1;
	if (wait_got(ab->fa, g, 2000) != (ssize_t)len)
		return -1;
	return strcmp(g->buf, text) ? -1 : 0;
}

/* The UDP source of a received record, as "[addr]:port" for comparing. */
static const char *ep_str(const struct sockaddr_storage *ss, char *out,
			  size_t len)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family != AF_INET6 ||
	    !inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a)))
		snprintf(out, len, "family %d", ss->ss_family);
	else
		snprintf(out, len, "[%s]:%u", a, ntohs(s6->sin6_port));
	return out;
}

static const char *ep_of(const struct got *g, char *out, size_t len)
{
	return ep_str((const struct sockaddr_storage *)&g->ri.endpoint, out,
		      len);
}

/* A request with extack in the current namespace; @x->msg holds its text. */
static int nlt(struct cpns_nlt *x, struct nl_msg *(*build)(int, void *),
	       void *arg)
{
	struct nl_sock *sk;
	struct nl_msg *msg;
	int family, ret;

	sk = cpns_nlt_open(&family);
	if (!sk)
		return -EIO;
	msg = build(family, arg);
	if (!msg) {
		nl_socket_free(sk);
		return -ENOMEM;
	}
	ret = cpns_nlt_xfer(sk, msg, x);
	nl_socket_free(sk);
	return ret;
}

struct link_set_req {
	int port;	/* -1: no CPNS_A_UDP_PORT */
};

static struct nl_msg *build_link_set(int family, void *arg)
{
	struct link_set_req *r = arg;
	struct nl_msg *msg = cpns_nlt_msg(family, CPNS_CMD_LINK_SET,
					  NLM_F_ACK);

	if (msg && r->port >= 0)
		nla_put_u16(msg, CPNS_A_UDP_PORT, r->port);
	return msg;
}

/* LINK_SET of the UDP port (-1: none) in the current namespace. */
static int link_set_port(int port, struct cpns_nlt *x)
{
	struct link_set_req r = { .port = port };

	memset(x, 0, sizeof(*x));
	return nlt(x, build_link_set, &r);
}

static int link_port_cb(struct nlattr **tb, void *arg)
{
	if (tb[CPNS_A_UDP_PORT])
		*(int *)arg = nla_get_u16(tb[CPNS_A_UDP_PORT]);
	return NL_OK;
}

static struct nl_msg *build_link_get(int family, void *arg)
{
	return cpns_nlt_msg(family, CPNS_CMD_LINK_GET, NLM_F_ACK);
}

/* The listening UDP port of the current namespace, or -1. */
static int link_port(void)
{
	struct cpns_nlt x = { .cb = link_port_cb };
	int port = -1;

	x.arg = &port;
	if (nlt(&x, build_link_get, NULL))
		return -1;
	return port;
}

/**
 * struct peer_state - a peer entry as PEER_GET shows it
 * @ep: "[addr]:port", or "" when no IPv6 address came
 * @learn: CPNS_A_LEARN, -1 when absent
 */
struct peer_state {
	char ep[80];
	int learn;
};

static int peer_cb(struct nlattr **tb, void *arg)
{
	struct peer_state *st = arg;
	char a[INET6_ADDRSTRLEN];

	if (tb[CPNS_A_ADDR6] && tb[CPNS_A_PORT] &&
	    nla_len(tb[CPNS_A_ADDR6]) == 16 &&
	    inet_ntop(AF_INET6, nla_data(tb[CPNS_A_ADDR6]), a, sizeof(a)))
		snprintf(st->ep, sizeof(st->ep), "[%s]:%u", a,
			 nla_get_u16(tb[CPNS_A_PORT]));
	if (tb[CPNS_A_LEARN])
		st->learn = nla_get_u8(tb[CPNS_A_LEARN]);
	return NL_OK;
}

static struct nl_msg *build_peer_get(int family, void *arg)
{
	struct nl_msg *msg = cpns_nlt_msg(family, CPNS_CMD_PEER_GET,
					  NLM_F_ACK);

	if (msg)
		nla_put(msg, CPNS_A_PEER_ID, CPNS_ID_LEN, arg);
	return msg;
}

/* PEER_GET of @peer in the current namespace. */
static int peer_get(const uint8_t peer[CPNS_ID_LEN], struct peer_state *st)
{
	struct cpns_nlt x = { .cb = peer_cb, .arg = st };

	memset(st, 0, sizeof(*st));
	st->learn = -1;
	return nlt(&x, build_peer_get, (void *)peer);
}

/**
 * struct gen_state - a generation as SESSION_GET shows it
 * @exhausted: CPNS_A_EXHAUSTED, -1 when absent
 * @tx_epoch: CPNS_A_TX_EPOCH, -1 when absent
 */
struct gen_state {
	int exhausted;
	int tx_epoch;
};

static int gen_cb(struct nlattr **tb, void *arg)
{
	struct gen_state *st = arg;

	if (tb[CPNS_A_EXHAUSTED])
		st->exhausted = nla_get_u8(tb[CPNS_A_EXHAUSTED]);
	if (tb[CPNS_A_TX_EPOCH])
		st->tx_epoch = nla_get_u8(tb[CPNS_A_TX_EPOCH]);
	return NL_OK;
}

struct gen_req {
	const uint8_t *local, *peer;
	uint8_t gen;
};

static struct nl_msg *build_gen_get(int family, void *arg)
{
	struct gen_req *r = arg;
	struct nl_msg *msg = cpns_nlt_msg(family, CPNS_CMD_SESSION_GET,
					  NLM_F_ACK);

	if (msg) {
		nla_put(msg, CPNS_A_LOCAL_ID, CPNS_ID_LEN, r->local);
		nla_put(msg, CPNS_A_PEER_ID, CPNS_ID_LEN, r->peer);
		nla_put_u8(msg, CPNS_A_GENERATION, r->gen);
	}
	return msg;
}

static int gen_get(const uint8_t local[CPNS_ID_LEN],
		   const uint8_t peer[CPNS_ID_LEN], uint8_t gen,
		   struct gen_state *st)
{
	struct gen_req r = { .local = local, .peer = peer, .gen = gen };
	struct cpns_nlt x = { .cb = gen_cb, .arg = st };

	st->exhausted = -1;
	st->tx_epoch = -1;
	return nlt(&x, build_gen_get, &r);
}

/* A UDP socket bound to [@ip]:@port in the current namespace, or -1. */
static int udp6_bound(const char *ip, uint16_t port, int v6only)
{
	struct sockaddr_in6 sin6 = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(port),
	};
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (v6only)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
			   sizeof(v6only));
	if (ip)
		inet_pton(AF_INET6, ip, &sin6.sin6_addr);
	if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Can a UDP socket of @family bind @port on the wildcard address now?
 * Returns 0, or the errno of bind().
 */
static int udp_port_busy(int family, uint16_t port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
	};
	struct sockaddr_in6 sin6 = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(port),
	};
	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0), one = 1, err;

	if (fd < 0)
		return errno;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	err = bind(fd, family == AF_INET ? (struct sockaddr *)&sin :
					   (struct sockaddr *)&sin6,
		   family == AF_INET ? sizeof(sin) : sizeof(sin6)) ? errno : 0;
	close(fd);
	return err;
}

/* A record with a valid header and a body nobody sealed. */
static size_t forge(uint8_t *buf, uint8_t suite, uint8_t gen, uint64_t seq,
		    const uint8_t src[CPNS_ID_LEN],
		    const uint8_t dst[CPNS_ID_LEN], size_t len)
{
	size_t i;

	memset(buf, 0, CPNS_HDR_LEN);
	buf[0] = 1;		/* version */
	buf[1] = 1;		/* data */
	buf[2] = 0x80;		/* C=1 */
	buf[3] = suite;
	buf[4] = gen;
	buf[5] = 0;		/* epoch */
	buf[6] = len >> 8;
	buf[7] = len & 0xff;
	for (i = 0; i < 8; i++)
		buf[8 + i] = seq >> (56 - 8 * i);
	memcpy(buf + 16, src, CPNS_ID_LEN);
	memcpy(buf + 32, dst, CPNS_ID_LEN);
	buf[48] = PORT_A >> 8;
	buf[49] = PORT_A & 0xff;
	buf[50] = PORT_B >> 8;
	buf[51] = PORT_B & 0xff;
	for (i = 0; i < len + CPNS_TAG_LEN; i++)
		buf[CPNS_HDR_LEN + i] = 0xa5 ^ i;
	return CPNS_HDR_LEN + len + CPNS_TAG_LEN;
}

/* Send @len bytes from @fd to B's listening port. */
static int to_b(int fd, const void *buf, size_t len, uint16_t port)
{
	struct sockaddr_in6 to = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(port),
	};

	inet_pton(AF_INET6, IP_B, &to.sin6_addr);
	return sendto(fd, buf, len, 0, (struct sockaddr *)&to, sizeof(to)) ==
	       (ssize_t)len ? 0 : -1;
}

/* ---- notifications ------------------------------------------------------- */

#define MAX_NTF 64

struct ntf {
	int cmd;
	uint8_t src[CPNS_ID_LEN], dst[CPNS_ID_LEN];	/* or local, peer */
	int generation, direction, epoch;
	int has_lost;
	char ep[80];
};

struct ntf_log {
	int n;
	struct ntf e[MAX_NTF];
};

static int ntf_cb(struct nl_msg *m, void *arg)
{
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(m));
	struct nlattr *tb[CPNS_A_MAX + 1];
	struct ntf_log *log = arg;
	char a[INET6_ADDRSTRLEN];
	struct ntf *e;

	if (log->n == MAX_NTF ||
	    genlmsg_parse(nlmsg_hdr(m), 0, tb, CPNS_A_MAX, NULL))
		return NL_SKIP;
	e = &log->e[log->n++];
	memset(e, 0, sizeof(*e));
	e->cmd = gh->cmd;
	e->generation = e->direction = e->epoch = -1;
	if (tb[CPNS_A_SRC_ID] && nla_len(tb[CPNS_A_SRC_ID]) == CPNS_ID_LEN)
		memcpy(e->src, nla_data(tb[CPNS_A_SRC_ID]), CPNS_ID_LEN);
	if (tb[CPNS_A_DST_ID] && nla_len(tb[CPNS_A_DST_ID]) == CPNS_ID_LEN)
		memcpy(e->dst, nla_data(tb[CPNS_A_DST_ID]), CPNS_ID_LEN);
	if (tb[CPNS_A_LOCAL_ID] && nla_len(tb[CPNS_A_LOCAL_ID]) == CPNS_ID_LEN)
		memcpy(e->src, nla_data(tb[CPNS_A_LOCAL_ID]), CPNS_ID_LEN);
	if (tb[CPNS_A_PEER_ID] && nla_len(tb[CPNS_A_PEER_ID]) == CPNS_ID_LEN)
		memcpy(e->dst, nla_data(tb[CPNS_A_PEER_ID]), CPNS_ID_LEN);
	if (tb[CPNS_A_GENERATION])
		e->generation = nla_get_u8(tb[CPNS_A_GENERATION]);
	if (tb[CPNS_A_DIRECTION])
		e->direction = nla_get_u8(tb[CPNS_A_DIRECTION]);
	if (tb[CPNS_A_EPOCH])
		e->epoch = nla_get_u8(tb[CPNS_A_EPOCH]);
	e->has_lost = !!tb[CPNS_A_LOST];
	if (tb[CPNS_A_ADDR6] && tb[CPNS_A_PORT] &&
	    nla_len(tb[CPNS_A_ADDR6]) == 16 &&
	    inet_ntop(AF_INET6, nla_data(tb[CPNS_A_ADDR6]), a, sizeof(a)))
		snprintf(e->ep, sizeof(e->ep), "[%s]:%u", a,
			 nla_get_u16(tb[CPNS_A_PORT]));
	return NL_OK;
}

/* A subscriber of the "events" group in the current namespace. */
static struct nl_sock *ntf_open(struct ntf_log *log)
{
	struct nl_sock *ev = nl_socket_alloc();
	int grp;

	memset(log, 0, sizeof(*log));
	if (!ev)
		return NULL;
	if (genl_connect(ev))
		goto err;
	grp = genl_ctrl_resolve_grp(ev, CPNS_GENL_NAME, CPNS_MCGRP_EVENTS);
	if (grp < 0)
		goto err;
	nl_socket_disable_seq_check(ev);
	if (nl_socket_add_membership(ev, grp))
		goto err;
	nl_socket_modify_cb(ev, NL_CB_VALID, NL_CB_CUSTOM, ntf_cb, log);
	nl_socket_set_nonblocking(ev);
	return ev;
err:
	nl_socket_free(ev);
	return NULL;
}

/* Everything queued on @ev so far (notifications are sent before the
 * operation that caused them returns or the record after them arrives).
 */
static void ntf_drain(struct nl_sock *ev)
{
	while (nl_recvmsgs_default(ev) >= 0)
		;
}

static int ntf_count(const struct ntf_log *log, int cmd,
		     const uint8_t src[CPNS_ID_LEN])
{
	int i, n = 0;

	for (i = 0; i < log->n; i++)
		if (log->e[i].cmd == cmd &&
		    (!src || !memcmp(log->e[i].src, src, CPNS_ID_LEN)))
			n++;
	return n;
}

static const struct ntf *ntf_find(const struct ntf_log *log, int cmd,
				  const uint8_t src[CPNS_ID_LEN])
{
	int i;

	for (i = 0; i < log->n; i++)
		if (log->e[i].cmd == cmd &&
		    !memcmp(log->e[i].src, src, CPNS_ID_LEN))
			return &log->e[i];
	return NULL;
}

static uint64_t now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000ULL + t.tv_nsec / 1000000;
}

/* ---- the tests ------------------------------------------------------------ */

TEST_F(transport, ipv6_both_ways)
{
	static char big[CPNS_MAX_PAYLOAD];
	static struct got g;
	char ep[80];
	size_t i;

	/* B is on-confirm: nothing to send on until A's first record. */
	ASSERT_EQ(0, enter(self->ab.nb));
	EXPECT_EQ(-1, cpns_sendto(self->ab.fb, "x", 1, self->ab.a, PORT_A, 0));
	EXPECT_EQ(ENOKEY, errno);

	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, a_to_b(&self->ab, "ping", &g));
		EXPECT_EQ(variant->suite, g.ri.suite);
		EXPECT_EQ(CPNS_RI_ENCRYPTED, g.ri.flags);
		EXPECT_EQ(1, g.ri.generation);
		EXPECT_STREQ("[" IP_A "]:7870", ep_of(&g, ep, sizeof(ep)));
	}
	ASSERT_EQ(0, b_to_a(&self->ab, "pong", &g));
	EXPECT_EQ(1, g.ri.generation);
	EXPECT_STREQ("[" IP_B "]:7870", ep_of(&g, ep, sizeof(ep)));

	/* The largest record, far above the MTU: IPv6 fragments it. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = 'a' + i % 26;
	ASSERT_EQ((ssize_t)sizeof(big),
		  cpns_sendto(self->ab.fa, big, sizeof(big), self->ab.b,
			      PORT_B, 0));
	ASSERT_EQ((ssize_t)sizeof(big), wait_got(self->ab.fb, &g, 5000));
	EXPECT_EQ(0, memcmp(g.buf, big, sizeof(big)));
	ASSERT_EQ((ssize_t)sizeof(big),
		  cpns_sendto(self->ab.fb, big, sizeof(big), self->ab.a,
			      PORT_A, 0));
	ASSERT_EQ((ssize_t)sizeof(big), wait_got(self->ab.fa, &g, 5000));
	EXPECT_EQ(0, memcmp(g.buf, big, sizeof(big)));

	/* Fresh namespaces: the counters hold exactly this test's records. */
	ASSERT_EQ(0, enter(self->ab.nb));
	EXPECT_EQ(4ULL, cpns_stat(CPNS_STAT_RX_RECORDS));
	EXPECT_EQ(2ULL, cpns_stat(CPNS_STAT_TX_RECORDS));
	ASSERT_EQ(0, enter(self->ab.na));
	EXPECT_EQ(2ULL, cpns_stat(CPNS_STAT_RX_RECORDS));
	EXPECT_EQ(4ULL, cpns_stat(CPNS_STAT_TX_RECORDS));
}

TEST_F(endpoint, set_port)
{
	static struct got g;
	struct cpns_nlt x;
	char ep[80];
	int fd;

	ASSERT_EQ(0, a_to_b(&self->ab, "ping", &g));
	ASSERT_EQ(0, b_to_a(&self->ab, "pong", &g));
	EXPECT_STREQ("[" IP_B "]:7870", ep_of(&g, ep, sizeof(ep)));

	/* Refused, with a reason, and nothing changes. */
	ASSERT_EQ(0, enter(self->ab.nb));
	EXPECT_EQ(-EINVAL, link_set_port(-1, &x));
	EXPECT_NE(NULL, strstr(x.msg, "nothing to set"))
		TH_LOG("extack: \"%s\"", x.msg);
	/* Port 0 fails the attribute's policy (a minimum of 1). */
	EXPECT_EQ(-ERANGE, link_set_port(0, &x));
	EXPECT_NE(0, x.msg[0]);
	EXPECT_EQ(UDP_PORT, link_port());

	/* The new port is taken for IPv4. */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&(struct sockaddr_in){
				.sin_family = AF_INET,
				.sin_port = htons(UDP_PORT + 1) },
			  sizeof(struct sockaddr_in)));
	EXPECT_EQ(-EADDRINUSE, link_set_port(UDP_PORT + 1, &x));
	EXPECT_NE(NULL, strstr(x.msg, "IPv4")) TH_LOG("extack: \"%s\"", x.msg);
	close(fd);
	EXPECT_EQ(UDP_PORT, link_port());

	/* Taken for IPv6 only: the IPv4 socket already opened goes again. */
	fd = udp6_bound(NULL, UDP_PORT + 2, 1);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EADDRINUSE, link_set_port(UDP_PORT + 2, &x));
	EXPECT_NE(NULL, strstr(x.msg, "IPv6")) TH_LOG("extack: \"%s\"", x.msg);
	close(fd);
	EXPECT_EQ(UDP_PORT, link_port());
	EXPECT_EQ(0, udp_port_busy(AF_INET, UDP_PORT + 2));
	EXPECT_EQ(0, udp_port_busy(AF_INET6, UDP_PORT + 2));
	EXPECT_EQ(EADDRINUSE, udp_port_busy(AF_INET, UDP_PORT));
	EXPECT_EQ(EADDRINUSE, udp_port_busy(AF_INET6, UDP_PORT));
	ASSERT_EQ(0, a_to_b(&self->ab, "still", &g));

	/* Moved while the session exists: the old port is closed on both
	 * families, the new one held, and B's records leave from it.
	 */
	ASSERT_EQ(0, enter(self->ab.nb));
	ASSERT_EQ(0, link_set_port(UDP_PORT + 1, &x)) TH_LOG("extack: \"%s\"",
							     x.msg);
	EXPECT_EQ(UDP_PORT + 1, link_port());
	EXPECT_EQ(0, udp_port_busy(AF_INET, UDP_PORT));
	EXPECT_EQ(0, udp_port_busy(AF_INET6, UDP_PORT));
	EXPECT_EQ(EADDRINUSE, udp_port_busy(AF_INET, UDP_PORT + 1));
	EXPECT_EQ(EADDRINUSE, udp_port_busy(AF_INET6, UDP_PORT + 1));
	/* Setting the port it has changes nothing. */
	EXPECT_EQ(0, link_set_port(UDP_PORT + 1, &x));
	EXPECT_EQ(UDP_PORT + 1, link_port());

	ASSERT_EQ(0, b_to_a(&self->ab, "moved", &g));
	EXPECT_EQ(1, g.ri.generation);
	EXPECT_STREQ("[" IP_B "]:7871", ep_of(&g, ep, sizeof(ep)));

	/* A sends to the new port once told. */
	ASSERT_EQ(0, enter(self->ab.na));
	ASSERT_EQ(0, cpns_nl_peer_set(self->ab.b, IP_B, UDP_PORT + 1, 0));
	ASSERT_EQ(0, a_to_b(&self->ab, "found", &g));
	EXPECT_EQ(1, g.ri.generation);
	EXPECT_STREQ("[" IP_A "]:7870", ep_of(&g, ep, sizeof(ep)));
}

TEST_F(transport, exhausted)
{
	struct gen_state st;
	struct ntf_log log;
	struct nl_sock *ev;
	static struct got g;
	int sent = 0, tries = 0, i, n224 = 0, ntx = 0;
	char msg[16];
	ssize_t r;

	ASSERT_EQ(0, enter(self->ab.na));
	ev = ntf_open(&log);
	ASSERT_NE(NULL, ev);

	/* One record per epoch: 256 records use up the generation. */
	ASSERT_EQ(0, cpns_param_read("tx_epoch_records", self->saved, sizeof(self->saved)));
	ASSERT_EQ(0, cpns_param_write("tx_epoch_records", "1"));

	for (;;) {
		snprintf(msg, sizeof(msg), "r%d", sent);
		r = cpns_sendto(self->ab.fa, msg, strlen(msg), self->ab.b,
				PORT_B, 0);
		if (r >= 0) {
			sent++;
			ASSERT_GE(300, sent);
			continue;
		}
		/* The next epoch's keys are derived in process context. */
		if (errno == ENOBUFS && ++tries < 20000) {
			usleep(500);
			continue;
		}
		break;
	}
	EXPECT_EQ(EKEYEXPIRED, errno);
	EXPECT_EQ(256, sent);
	/* It stays exhausted. */
	EXPECT_EQ(-1, cpns_sendto(self->ab.fa, "x", 1, self->ab.b, PORT_B, 0));
	EXPECT_EQ(EKEYEXPIRED, errno);
	ASSERT_EQ(0, gen_get(self->ab.a, self->ab.b, 1, &st));
	EXPECT_EQ(1, st.exhausted);
	EXPECT_EQ(255, st.tx_epoch);

	/* The threshold was notified once, at epoch 224, for the transmit
	 * direction of generation 1 of (A, B).
	 */
	ntf_drain(ev);
	for (i = 0; i < log.n; i++) {
		if (log.e[i].cmd != CPNS_CMD_EPOCH_NTF)
			continue;
		if (log.e[i].direction == CPNS_DIR_TX)
			ntx++;
		if (log.e[i].epoch == 224 &&
		    log.e[i].direction == CPNS_DIR_TX &&
		    log.e[i].generation == 1 &&
		    !memcmp(log.e[i].src, self->ab.a, CPNS_ID_LEN) &&
		    !memcmp(log.e[i].dst, self->ab.b, CPNS_ID_LEN) &&
		    log.e[i].has_lost)
			n224++;
	}
	EXPECT_EQ(1, n224);
	EXPECT_EQ(1, ntx);
	nl_socket_free(ev);

	/* A newer generation confirmed for transmission sends again. */
	ASSERT_EQ(0, cpns_param_write("tx_epoch_records", self->saved));
	self->saved[0] = 0;
	ASSERT_EQ(0, cpns_ab_install(&self->ab, 1, 2, variant->suite,
				     ts2_i2r, ts2_r2i));
	ASSERT_EQ(0, cpns_ab_install(&self->ab, 0, 2, variant->suite,
				     ts2_i2r, ts2_r2i));
	/* Drop what B still holds of generation 1. */
	while (wait_got(self->ab.fb, &g, 0) >= 0)
		;
	ASSERT_EQ(0, a_to_b(&self->ab, "again", &g));
	EXPECT_EQ(2, g.ri.generation);
	ASSERT_EQ(0, gen_get(self->ab.a, self->ab.b, 2, &st));
	EXPECT_EQ(0, st.exhausted);
}

TEST_F(endpoint, address_learning)
{
	static uint8_t rec[CPNS_HDR_LEN + 64 + CPNS_TAG_LEN];
	uint64_t auth, replay, nosess;
	struct peer_state ps;
	static struct got g;
	struct cpns_nlt x;
	char ep[80];
	size_t len;
	int fd;

	/* B learns A's address from records. */
	ASSERT_EQ(0, enter(self->ab.nb));
	ASSERT_EQ(0, cpns_nl_peer_set(self->ab.a, IP_A, UDP_PORT, 1));
	ASSERT_EQ(0, a_to_b(&self->ab, "one", &g));
	ASSERT_EQ(0, enter(self->ab.nb));
	ASSERT_EQ(0, peer_get(self->ab.a, &ps));
	EXPECT_STREQ("[" IP_A "]:7870", ps.ep);
	EXPECT_EQ(1, ps.learn);

	/* Records from another address of A that fail a check of 2.6: a
	 * forged tag, a replay of seq 0, an unknown generation.
	 */
	auth = cpns_stat(CPNS_STAT_DROP_AUTH);
	replay = cpns_stat(CPNS_STAT_DROP_REPLAY);
	nosess = cpns_stat(CPNS_STAT_DROP_NO_SESSION);
	ASSERT_EQ(0, enter(self->ab.na));
	fd = udp6_bound(IP_A, FORGE_PORT, 0);
	ASSERT_LE(0, fd);
	len = forge(rec, ENDPOINT_SUITE, 1, 1000, self->ab.a, self->ab.b, 8);
	EXPECT_EQ(0, to_b(fd, rec, len, UDP_PORT));
	len = forge(rec, ENDPOINT_SUITE, 1, 0, self->ab.a, self->ab.b, 8);
	EXPECT_EQ(0, to_b(fd, rec, len, UDP_PORT));
	len = forge(rec, ENDPOINT_SUITE, 9, 0, self->ab.a, self->ab.b, 8);
	EXPECT_EQ(0, to_b(fd, rec, len, UDP_PORT));
	close(fd);
	/* Sent after them from the same CPU: B has processed them. */
	ASSERT_EQ(0, a_to_b(&self->ab, "two", &g));
	ASSERT_EQ(0, enter(self->ab.nb));
	EXPECT_EQ(auth + 1, cpns_stat(CPNS_STAT_DROP_AUTH));
	EXPECT_EQ(replay + 1, cpns_stat(CPNS_STAT_DROP_REPLAY));
	EXPECT_EQ(nosess + 1, cpns_stat(CPNS_STAT_DROP_NO_SESSION));
	ASSERT_EQ(0, peer_get(self->ab.a, &ps));
	EXPECT_STREQ("[" IP_A "]:7870", ps.ep);

	/* A moves to another port (a NAT rebinding): its next
	 * authenticated record moves the address, and B's answer follows.
	 */
	ASSERT_EQ(0, enter(self->ab.na));
	ASSERT_EQ(0, link_set_port(UDP_PORT + 1, &x)) TH_LOG("extack: \"%s\"",
							     x.msg);
	ASSERT_EQ(0, a_to_b(&self->ab, "three", &g));
	EXPECT_STREQ("[" IP_A "]:7871", ep_of(&g, ep, sizeof(ep)));
	ASSERT_EQ(0, enter(self->ab.nb));
	ASSERT_EQ(0, peer_get(self->ab.a, &ps));
	EXPECT_STREQ("[" IP_A "]:7871", ps.ep);
	EXPECT_EQ(1, ps.learn);
	ASSERT_EQ(0, b_to_a(&self->ab, "back", &g));

	/* Without learning the configured address stays, whatever arrives. */
	ASSERT_EQ(0, enter(self->ab.nb));
	ASSERT_EQ(0, cpns_nl_peer_set(self->ab.a, IP_A, UDP_PORT, 0));
	ASSERT_EQ(0, a_to_b(&self->ab, "four", &g));
	EXPECT_STREQ("[" IP_A "]:7871", ep_of(&g, ep, sizeof(ep)));
	ASSERT_EQ(0, enter(self->ab.nb));
	ASSERT_EQ(0, peer_get(self->ab.a, &ps));
	EXPECT_STREQ("[" IP_A "]:7870", ps.ep);
	EXPECT_EQ(0, ps.learn);
}

#define BURST	16

TEST_F(endpoint, no_session_notification)
{
	static uint8_t rec[CPNS_HDR_LEN + 8 + CPNS_TAG_LEN];
	uint8_t c[CPNS_ID_LEN];
	const struct ntf *e;
	struct ntf_log log;
	struct nl_sock *ev;
	static struct got g;
	uint64_t t0, nosess;
	int fd, i, bound;
	size_t len;

	cpns_mkid(c, 3);
	ASSERT_EQ(0, enter(self->ab.nb));
	ev = ntf_open(&log);
	ASSERT_NE(NULL, ev);
	nosess = cpns_stat(CPNS_STAT_DROP_NO_SESSION);

	/* Bursts for generation 9, which B does not hold, from A and from
	 * an entity C that B has no session with at all.
	 */
	ASSERT_EQ(0, enter(self->ab.na));
	fd = udp6_bound(IP_A, FORGE_PORT, 0);
	ASSERT_LE(0, fd);
	t0 = now_ms();
	/* One pair after the other: two pairs that share a bucket of the
	 * limiter evict each other (netlink.c), so interleaving them could
	 * notify every record.
	 */
	for (i = 0; i < BURST; i++) {
		len = forge(rec, ENDPOINT_SUITE, 9, i, self->ab.a, self->ab.b,
			    8);
		EXPECT_EQ(0, to_b(fd, rec, len, UDP_PORT));
	}
	for (i = 0; i < BURST; i++) {
		len = forge(rec, ENDPOINT_SUITE, 9, i, c, self->ab.b, 8);
		EXPECT_EQ(0, to_b(fd, rec, len, UDP_PORT));
	}
	close(fd);
	ASSERT_EQ(0, a_to_b(&self->ab, "after", &g));
	/* One per pair per second: the burst may straddle a second. */
	bound = 1 + (now_ms() - t0) / 1000;

	ASSERT_EQ(0, enter(self->ab.nb));
	EXPECT_EQ(nosess + 2 * BURST, cpns_stat(CPNS_STAT_DROP_NO_SESSION));
	ntf_drain(ev);
	nl_socket_free(ev);
	EXPECT_LE(1, ntf_count(&log, CPNS_CMD_NO_SESSION_NTF, self->ab.a));
	EXPECT_GE(bound, ntf_count(&log, CPNS_CMD_NO_SESSION_NTF, self->ab.a));
	EXPECT_LE(1, ntf_count(&log, CPNS_CMD_NO_SESSION_NTF, c));
	EXPECT_GE(bound, ntf_count(&log, CPNS_CMD_NO_SESSION_NTF, c));
	EXPECT_EQ(ntf_count(&log, CPNS_CMD_NO_SESSION_NTF, NULL),
		  ntf_count(&log, CPNS_CMD_NO_SESSION_NTF, self->ab.a) +
		  ntf_count(&log, CPNS_CMD_NO_SESSION_NTF, c));

	/* What it says: src, dst, generation, the datagram's source. */
	e = ntf_find(&log, CPNS_CMD_NO_SESSION_NTF, self->ab.a);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(0, memcmp(e->dst, self->ab.b, CPNS_ID_LEN));
	EXPECT_EQ(9, e->generation);
	EXPECT_STREQ("[" IP_A "]:40001", e->ep);
	EXPECT_TRUE(e->has_lost);
	e = ntf_find(&log, CPNS_CMD_NO_SESSION_NTF, c);
	ASSERT_NE(NULL, e);
	EXPECT_EQ(0, memcmp(e->dst, self->ab.b, CPNS_ID_LEN));
	EXPECT_EQ(9, e->generation);
}

TEST_HARNESS_MAIN

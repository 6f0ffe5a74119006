// SPDX-License-Identifier: GPL-2.0
/*
 * The control interface of the "cpns" genl family: every object's add,
 * get, dump and delete; every error with its errno and an extack message
 * (values outside an attribute's policy range or length are refused by
 * the netlink core with ERANGE, semantic errors by cpns with EINVAL);
 * refused requests change nothing; unprivileged writers get EPERM;
 * secrets never come back; large dumps; notifications of erasure; the
 * bound on the AES-256-GCM sessions of unprivileged users' namespaces.
 *
 * Each test runs in a network namespace of its own.
 */
#include <arpa/inet.h>
#include <grp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cpns_test.h"

/* Objects for the large dumps: each spans several dump messages. */
#define NPEERS		1000
#define NSESSIONS	500

static const uint8_t id_zero[CPNS_ID_LEN];
static const uint8_t id_ones[CPNS_ID_LEN] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};

static void mkid(uint8_t id[CPNS_ID_LEN], int n)
{
	memset(id, 0x11, CPNS_ID_LEN);
	id[0] = n >> 8;
	id[1] = n;
}

FIXTURE(nl) {
	struct nl_sock *sk;
	int fam;
	struct cpns_nlt x;
	uint8_t local[CPNS_ID_LEN];
	uint8_t peer[CPNS_ID_LEN];
};

/* One body of tests per record suite. */
FIXTURE_VARIANT(nl) {
	int suite;
};

FIXTURE_VARIANT_ADD(nl, aes256gcm) {
	.suite = CPNS_SUITE_AES256GCM,
};

FIXTURE_VARIANT_ADD(nl, chacha20poly1305) {
	.suite = CPNS_SUITE_CHACHA20POLY1305,
};

FIXTURE_SETUP(nl)
{
	ASSERT_EQ(0, cpns_ensure_loaded());
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	self->sk = cpns_nlt_open(&self->fam);
	ASSERT_NE(NULL, self->sk);
	memset(&self->x, 0, sizeof(self->x));
	mkid(self->local, 1);
	mkid(self->peer, 2);
}

FIXTURE_TEARDOWN(nl)
{
	if (self->sk)
		nl_socket_free(self->sk);
}

/* Build and run a request; attribute puts go through the nl_msg. */
#define REQ(cmd, flags, puts)						\
	({								\
		struct nl_msg *__m = cpns_nlt_msg(self->fam, cmd, flags);\
		ASSERT_NE(NULL, __m);					\
		{ struct nl_msg *m = __m; (void)m; puts; }		\
		cpns_nlt_xfer(self->sk, __m, &self->x);			\
	})

/* The request failed with @e and the kernel said why. */
#define EXPECT_ERR(e, call)						\
	do {								\
		EXPECT_EQ(-(e), (call));				\
		EXPECT_NE(0, self->x.msg[0]);				\
		if (!self->x.msg[0])					\
			TH_LOG("no extack message");			\
	} while (0)

static int count_dump(FIXTURE_DATA(nl) *self, int cmd)
{
	struct nl_msg *m = cpns_nlt_msg(self->fam, cmd, NLM_F_DUMP);
	int ret;

	self->x.cb = NULL;
	ret = cpns_nlt_xfer(self->sk, m, &self->x);
	return ret ? ret : self->x.n;
}

static void put_secrets(struct nl_msg *m, int len)
{
	uint8_t s[64];

	memset(s, 0x5a, sizeof(s));
	nla_put(m, CPNS_A_TX_SECRET, len, s);
	nla_put(m, CPNS_A_RX_SECRET, CPNS_SECRET_LEN, s);
}

static struct nl_msg *session_msg(FIXTURE_DATA(nl) *self,
				  const uint8_t *local, const uint8_t *peer,
				  int gen, int suite, int role, int mode)
{
	struct nl_msg *m = cpns_nlt_msg(self->fam, CPNS_CMD_SESSION_NEW, 0);

	nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, local);
	nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, peer);
	nla_put_u8(m, CPNS_A_GENERATION, gen);
	nla_put_u8(m, CPNS_A_SUITE, suite);
	nla_put_u8(m, CPNS_A_ROLE, role);
	nla_put_u8(m, CPNS_A_TX_MODE, mode);
	put_secrets(m, CPNS_SECRET_LEN);
	return m;
}

static int session_new(FIXTURE_DATA(nl) *self, const uint8_t *local,
		       const uint8_t *peer, int gen, int suite, int mode)
{
	return cpns_nlt_xfer(self->sk,
			     session_msg(self, local, peer, gen, suite,
					 CPNS_ROLE_INITIATOR, mode),
			     &self->x);
}

struct link_seen {
	int port;
	int fwd;
};

static int link_cb(struct nlattr **tb, void *arg)
{
	struct link_seen *l = arg;

	l->port = tb[CPNS_A_UDP_PORT] ? nla_get_u16(tb[CPNS_A_UDP_PORT]) : -1;
	l->fwd = tb[CPNS_A_FORWARDING] ? nla_get_u8(tb[CPNS_A_FORWARDING]) : -1;
	return NL_OK;
}

TEST_F(nl, link)
{
	struct link_seen l = { -1, -1 };
	void *cb = link_cb;

	self->x.arg = &l;
	self->x.cb = cb;
	ASSERT_EQ(0, REQ(CPNS_CMD_LINK_GET, 0, ));
	EXPECT_EQ(CPNS_DEFAULT_UDP_PORT, l.port);
	EXPECT_EQ(0, l.fwd);

	self->x.cb = NULL;
	ASSERT_EQ(0, REQ(CPNS_CMD_LINK_SET, 0,
			 nla_put_u16(m, CPNS_A_UDP_PORT, 7999);
			 nla_put_u8(m, CPNS_A_FORWARDING, 1)));
	self->x.cb = cb;
	ASSERT_EQ(0, REQ(CPNS_CMD_LINK_GET, 0, ));
	EXPECT_EQ(7999, l.port);
	EXPECT_EQ(1, l.fwd);

	self->x.cb = NULL;
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_LINK_SET, 0, ));
	EXPECT_ERR(ERANGE, REQ(CPNS_CMD_LINK_SET, 0,
			       nla_put_u16(m, CPNS_A_UDP_PORT, 0)));
	EXPECT_ERR(ERANGE, REQ(CPNS_CMD_LINK_SET, 0,
			       nla_put_u8(m, CPNS_A_FORWARDING, 2)));
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_LINK_SET, 0,
			       nla_put_u32(m, CPNS_A_UDP_PORT, 7000)));
	self->x.cb = cb;
	ASSERT_EQ(0, REQ(CPNS_CMD_LINK_GET, 0, ));
	EXPECT_EQ(7999, l.port);
	EXPECT_EQ(1, l.fwd);
}

TEST_F(nl, local_ids)
{
	uint8_t id[CPNS_ID_LEN];
	int i;

	ASSERT_EQ(0, REQ(CPNS_CMD_ID_ADD, 0,
			 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local)));
	EXPECT_ERR(EEXIST, REQ(CPNS_CMD_ID_ADD, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN,
				       self->local)));
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_ID_ADD, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, id_zero)));
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_ID_ADD, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, id_ones)));
	EXPECT_ERR(ERANGE, REQ(CPNS_CMD_ID_ADD, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, 15, self->peer)));
	EXPECT_ERR(ERANGE, REQ(CPNS_CMD_ID_ADD, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, 17, self->peer)));
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_ID_ADD, 0, ));
	EXPECT_EQ(1, count_dump(self, CPNS_CMD_ID_GET));

	EXPECT_EQ(0, REQ(CPNS_CMD_ID_GET, 0,
			 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local)));
	EXPECT_EQ(1, self->x.n);
	EXPECT_ERR(ENOENT, REQ(CPNS_CMD_ID_GET, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN,
				       self->peer)));

	for (i = 0; i < 100; i++) {
		mkid(id, 1000 + i);
		ASSERT_EQ(0, REQ(CPNS_CMD_ID_ADD, 0,
				 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, id)));
	}
	EXPECT_EQ(101, count_dump(self, CPNS_CMD_ID_GET));

	EXPECT_EQ(0, REQ(CPNS_CMD_ID_DEL, 0,
			 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local)));
	EXPECT_ERR(ENOENT, REQ(CPNS_CMD_ID_DEL, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN,
				       self->local)));
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_ID_DEL, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, id_zero)));
	EXPECT_EQ(100, count_dump(self, CPNS_CMD_ID_GET));
}

struct peer_seen {
	int n;
	uint32_t addr4;
	int port;
	int learn;
	int uplink;
	int via;
	int has6;
};

static int peer_cb(struct nlattr **tb, void *arg)
{
	struct peer_seen *p = arg;

	p->n++;
	p->addr4 = tb[CPNS_A_ADDR4] ? nla_get_u32(tb[CPNS_A_ADDR4]) : 0;
	p->has6 = !!tb[CPNS_A_ADDR6];
	p->port = tb[CPNS_A_PORT] ? nla_get_u16(tb[CPNS_A_PORT]) : -1;
	p->learn = tb[CPNS_A_LEARN] ? nla_get_u8(tb[CPNS_A_LEARN]) : -1;
	p->uplink = tb[CPNS_A_UPLINK] ? nla_get_u8(tb[CPNS_A_UPLINK]) : -1;
	p->via = !!tb[CPNS_A_VIA_ID];
	return NL_OK;
}

TEST_F(nl, peers)
{
	struct in6_addr a6;
	struct peer_seen seen = {};
	uint8_t id[CPNS_ID_LEN];
	int i;

	inet_pton(AF_INET6, "2001:db8::22", &a6);
	ASSERT_EQ(0, REQ(CPNS_CMD_ID_ADD, 0,
			 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local)));
	ASSERT_EQ(0, REQ(CPNS_CMD_PEER_SET, 0,
			 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer);
			 nla_put_u32(m, CPNS_A_ADDR4, inet_addr("192.0.2.21"));
			 nla_put_u16(m, CPNS_A_PORT, 7871);
			 nla_put_u8(m, CPNS_A_LEARN, 1);
			 nla_put_u8(m, CPNS_A_UPLINK, 1)));
	self->x.cb = peer_cb;
	self->x.arg = &seen;
	ASSERT_EQ(0, REQ(CPNS_CMD_PEER_GET, 0,
			 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer)));
	EXPECT_EQ(1, seen.n);
	EXPECT_EQ((uint32_t)inet_addr("192.0.2.21"), seen.addr4);
	EXPECT_EQ(7871, seen.port);
	EXPECT_EQ(1, seen.learn);
	EXPECT_EQ(1, seen.uplink);
	self->x.cb = NULL;

	/* Set again: replaced in place, IPv6, default port. */
	ASSERT_EQ(0, REQ(CPNS_CMD_PEER_SET, 0,
			 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer);
			 nla_put(m, CPNS_A_ADDR6, 16, &a6)));
	self->x.cb = peer_cb;
	ASSERT_EQ(0, REQ(CPNS_CMD_PEER_GET, 0,
			 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer)));
	EXPECT_EQ(1, seen.has6);
	EXPECT_EQ(CPNS_DEFAULT_UDP_PORT, seen.port);
	EXPECT_EQ(0, seen.learn);
	EXPECT_EQ(0, seen.uplink);
	self->x.cb = NULL;
	EXPECT_EQ(1, count_dump(self, CPNS_CMD_PEER_GET));

	/* Refused, and nothing changes. */
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_PEER_SET, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, id_ones);
			       nla_put_u32(m, CPNS_A_ADDR4, inet_addr("192.0.2.1"))));
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_PEER_SET, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, id);
			       nla_put_u32(m, CPNS_A_ADDR4, inet_addr("192.0.2.1"));
			       nla_put(m, CPNS_A_ADDR6, 16, &a6)));
	mkid(id, 3);
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_PEER_SET, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, id)));
	EXPECT_ERR(ERANGE, REQ(CPNS_CMD_PEER_SET, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, id);
			       nla_put(m, CPNS_A_ADDR6, 15, &a6)));
	EXPECT_ERR(ERANGE, REQ(CPNS_CMD_PEER_SET, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, id);
			       nla_put_u32(m, CPNS_A_ADDR4, inet_addr("192.0.2.1"));
			       nla_put_u16(m, CPNS_A_PORT, 0)));
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_PEER_SET, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, id);
			       nla_put_u32(m, CPNS_A_ADDR4, inet_addr("224.0.0.1"))));
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_PEER_SET, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->local);
			       nla_put_u32(m, CPNS_A_ADDR4, inet_addr("192.0.2.1"))));
	/* addresses the v6only socket or its routing could never use */
	for (i = 0; i < 2; i++) {
		inet_pton(AF_INET6, i ? "fe80::1" : "::ffff:192.0.2.1", &a6);
		EXPECT_ERR(EINVAL, REQ(CPNS_CMD_PEER_SET, 0,
				       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, id);
				       nla_put(m, CPNS_A_ADDR6, 16, &a6)));
	}
	/* an attribute the command does not use */
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_PEER_SET, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, id);
			       nla_put_u32(m, CPNS_A_ADDR4, inet_addr("192.0.2.1"));
			       nla_put(m, CPNS_A_VIA_ID, CPNS_ID_LEN, self->peer)));
	/* the peer's ID cannot become a local one */
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_ID_ADD, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->peer)));
	EXPECT_EQ(1, count_dump(self, CPNS_CMD_ID_GET));
	EXPECT_EQ(1, count_dump(self, CPNS_CMD_PEER_GET));
	EXPECT_ERR(ENOENT, REQ(CPNS_CMD_PEER_GET, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, id)));

	/* Enough for a dump of several messages. */
	for (i = 0; i < NPEERS; i++) {
		mkid(id, 2000 + i);
		ASSERT_EQ(0, REQ(CPNS_CMD_PEER_SET, 0,
				 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, id);
				 nla_put_u32(m, CPNS_A_ADDR4, htonl(0xc0000200 + (i & 0xff)))));
	}
	EXPECT_EQ(NPEERS + 1, count_dump(self, CPNS_CMD_PEER_GET));

	EXPECT_EQ(0, REQ(CPNS_CMD_PEER_DEL, 0,
			 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer)));
	EXPECT_ERR(ENOENT, REQ(CPNS_CMD_PEER_DEL, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer)));
	EXPECT_EQ(NPEERS, count_dump(self, CPNS_CMD_PEER_GET));
}

/* PEER_GET of @id into @seen. */
static int peer_get(FIXTURE_DATA(nl) *self, const uint8_t *id,
		    struct peer_seen *seen)
{
	struct nl_msg *m = cpns_nlt_msg(self->fam, CPNS_CMD_PEER_GET, 0);
	int ret;

	nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, id);
	self->x.cb = peer_cb;
	self->x.arg = seen;
	ret = cpns_nlt_xfer(self->sk, m, &self->x);
	self->x.cb = NULL;
	return ret;
}

/* SESSION_NEW with an address of the peer (address learning at S). */
static int session_new_at(FIXTURE_DATA(nl) *self, const uint8_t *local,
			  const uint8_t *peer, int gen, int suite,
			  const char *addr4, int learn)
{
	struct nl_msg *m = session_msg(self, local, peer, gen, suite,
				       CPNS_ROLE_RESPONDER, CPNS_TX_ON_CONFIRM);

	nla_put_u32(m, CPNS_A_ADDR4, inet_addr(addr4));
	nla_put_u16(m, CPNS_A_PORT, 7872);
	if (learn >= 0)
		nla_put_u8(m, CPNS_A_LEARN, learn);
	return cpns_nlt_xfer(self->sk, m, &self->x);
}

TEST_F(nl, session_with_address)
{
	struct peer_seen seen = {};
	uint8_t other[CPNS_ID_LEN], nowhere[CPNS_ID_LEN];
	int suite = variant->suite;

	mkid(other, 3);
	mkid(nowhere, 9);
	ASSERT_EQ(0, REQ(CPNS_CMD_ID_ADD, 0,
			 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local)));

	/* No peer entry yet: the install creates it. */
	ASSERT_EQ(0, session_new_at(self, self->local, self->peer, 1, suite,
				    "192.0.2.31", 1));
	ASSERT_EQ(0, peer_get(self, self->peer, &seen));
	EXPECT_EQ(1, seen.n);
	EXPECT_EQ((uint32_t)inet_addr("192.0.2.31"), seen.addr4);
	EXPECT_EQ(7872, seen.port);
	EXPECT_EQ(1, seen.learn);
	EXPECT_EQ(0, seen.uplink);
	EXPECT_EQ(1, count_dump(self, CPNS_CMD_SESSION_GET));

	/* An existing entry gets the new address and keeps its uplink mark. */
	ASSERT_EQ(0, REQ(CPNS_CMD_PEER_SET, 0,
			 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer);
			 nla_put_u32(m, CPNS_A_ADDR4, inet_addr("192.0.2.1"));
			 nla_put_u8(m, CPNS_A_UPLINK, 1)));
	ASSERT_EQ(0, session_new_at(self, self->local, self->peer, 2, suite,
				    "192.0.2.32", -1));
	ASSERT_EQ(0, peer_get(self, self->peer, &seen));
	EXPECT_EQ((uint32_t)inet_addr("192.0.2.32"), seen.addr4);
	EXPECT_EQ(0, seen.learn);
	EXPECT_EQ(1, seen.uplink);
	EXPECT_EQ(2, count_dump(self, CPNS_CMD_SESSION_GET));

	/* A refused install changes neither: no new entry, no new address. */
	EXPECT_ERR(EADDRNOTAVAIL, session_new_at(self, nowhere, other, 1, suite,
						 "192.0.2.33", 1));
	EXPECT_ERR(ENOENT, peer_get(self, other, &seen));
	EXPECT_ERR(EADDRNOTAVAIL, session_new_at(self, nowhere, self->peer, 1,
						 suite, "192.0.2.34", 1));
	EXPECT_ERR(EINVAL, session_new_at(self, self->local, other, 1, suite,
					  "224.0.0.1", 1));
	EXPECT_ERR(EINVAL, session_new_at(self, self->local, self->local, 1,
					  suite, "192.0.2.35", 1));
	EXPECT_ERR(ENOENT, peer_get(self, other, &seen));
	ASSERT_EQ(0, peer_get(self, self->peer, &seen));
	EXPECT_EQ((uint32_t)inet_addr("192.0.2.32"), seen.addr4);
	EXPECT_EQ(1, seen.uplink);
	EXPECT_EQ(1, count_dump(self, CPNS_CMD_PEER_GET));
	EXPECT_EQ(2, count_dump(self, CPNS_CMD_SESSION_GET));
}

TEST_F(nl, routes)
{
	struct peer_seen seen = {};
	uint8_t gw[CPNS_ID_LEN], pne[CPNS_ID_LEN];

	mkid(gw, 10);
	mkid(pne, 11);
	/* S: PNE -> via GW. */
	ASSERT_EQ(0, REQ(CPNS_CMD_ROUTE_ADD, 0,
			 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, pne);
			 nla_put(m, CPNS_A_VIA_ID, CPNS_ID_LEN, gw)));
	self->x.cb = peer_cb;
	self->x.arg = &seen;
	ASSERT_EQ(0, REQ(CPNS_CMD_ROUTE_GET, 0,
			 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, pne)));
	EXPECT_EQ(1, seen.via);
	EXPECT_EQ(0U, seen.addr4);
	self->x.cb = NULL;

	/* GW: member PNE -> address, learned by default; replaces. */
	ASSERT_EQ(0, REQ(CPNS_CMD_ROUTE_ADD, 0,
			 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, pne);
			 nla_put_u32(m, CPNS_A_ADDR4, inet_addr("192.0.2.30"));
			 nla_put_u16(m, CPNS_A_PORT, 40000)));
	self->x.cb = peer_cb;
	ASSERT_EQ(0, REQ(CPNS_CMD_ROUTE_GET, 0,
			 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, pne)));
	EXPECT_EQ(0, seen.via);
	EXPECT_EQ((uint32_t)inet_addr("192.0.2.30"), seen.addr4);
	EXPECT_EQ(40000, seen.port);
	EXPECT_EQ(1, seen.learn);
	self->x.cb = NULL;
	EXPECT_EQ(1, count_dump(self, CPNS_CMD_ROUTE_GET));

	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_ROUTE_ADD, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, gw);
			       nla_put(m, CPNS_A_VIA_ID, CPNS_ID_LEN, pne);
			       nla_put_u32(m, CPNS_A_ADDR4, inet_addr("192.0.2.1"))));
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_ROUTE_ADD, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, gw);
			       nla_put(m, CPNS_A_VIA_ID, CPNS_ID_LEN, gw)));
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_ROUTE_ADD, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, gw);
			       nla_put(m, CPNS_A_VIA_ID, CPNS_ID_LEN, id_zero)));
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_ROUTE_ADD, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, gw)));
	EXPECT_EQ(1, count_dump(self, CPNS_CMD_ROUTE_GET));

	EXPECT_EQ(0, REQ(CPNS_CMD_ROUTE_DEL, 0,
			 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, pne)));
	EXPECT_ERR(ENOENT, REQ(CPNS_CMD_ROUTE_DEL, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, pne)));
	EXPECT_ERR(ENOENT, REQ(CPNS_CMD_ROUTE_GET, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, pne)));
	EXPECT_EQ(0, count_dump(self, CPNS_CMD_ROUTE_GET));
}

struct sess_seen {
	int n;
	int secrets;
	int gen, suite, role, mode, active, exhausted;
	int has_stats, has_age, has_life, has_txseq;
};

static int sess_cb(struct nlattr **tb, void *arg)
{
	struct sess_seen *s = arg;

	s->n++;
	if (tb[CPNS_A_TX_SECRET] || tb[CPNS_A_RX_SECRET])
		s->secrets++;
	s->gen = tb[CPNS_A_GENERATION] ? nla_get_u8(tb[CPNS_A_GENERATION]) : -1;
	s->suite = tb[CPNS_A_SUITE] ? nla_get_u8(tb[CPNS_A_SUITE]) : -1;
	s->role = tb[CPNS_A_ROLE] ? nla_get_u8(tb[CPNS_A_ROLE]) : -1;
	s->mode = tb[CPNS_A_TX_MODE] ? nla_get_u8(tb[CPNS_A_TX_MODE]) : -1;
	s->active = tb[CPNS_A_TX_ACTIVE] ? nla_get_u8(tb[CPNS_A_TX_ACTIVE]) : -1;
	s->exhausted = tb[CPNS_A_EXHAUSTED] ? nla_get_u8(tb[CPNS_A_EXHAUSTED]) : -1;
	s->has_stats = !!tb[CPNS_A_STATS];
	s->has_age = !!tb[CPNS_A_AGE_MS];
	s->has_life = tb[CPNS_A_LIFETIME_MS] &&
		      nla_get_u64(tb[CPNS_A_LIFETIME_MS]) > 89000000ULL;
	s->has_txseq = !!tb[CPNS_A_TX_SEQ] && !!tb[CPNS_A_TX_EPOCH] &&
		       !!tb[CPNS_A_RX_EPOCH];
	return NL_OK;
}

TEST_F(nl, sessions)
{
	struct sess_seen seen = {};
	uint8_t other[CPNS_ID_LEN];
	int suite = variant->suite;

	mkid(other, 99);
	EXPECT_ERR(EADDRNOTAVAIL, session_new(self, self->local, self->peer, 1,
					      suite, CPNS_TX_IMMEDIATE));
	ASSERT_EQ(0, REQ(CPNS_CMD_ID_ADD, 0,
			 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local)));
	ASSERT_EQ(0, session_new(self, self->local, self->peer, 1, suite,
				 CPNS_TX_ON_CONFIRM));

	self->x.cb = sess_cb;
	self->x.arg = &seen;
	ASSERT_EQ(0, REQ(CPNS_CMD_SESSION_GET, 0,
			 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local);
			 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer);
			 nla_put_u8(m, CPNS_A_GENERATION, 1)));
	EXPECT_EQ(1, seen.n);
	EXPECT_EQ(0, seen.secrets);
	EXPECT_EQ(1, seen.gen);
	EXPECT_EQ(suite, seen.suite);
	EXPECT_EQ(CPNS_ROLE_INITIATOR, seen.role);
	EXPECT_EQ(CPNS_TX_ON_CONFIRM, seen.mode);
	EXPECT_EQ(0, seen.active);	/* on-confirm: nothing confirmed */
	EXPECT_EQ(0, seen.exhausted);
	EXPECT_TRUE(seen.has_stats);
	EXPECT_TRUE(seen.has_age);
	EXPECT_TRUE(seen.has_life);
	EXPECT_TRUE(seen.has_txseq);
	self->x.cb = NULL;

	/* Bad attributes: refused, nothing changes. */
	/* Out of the policy's range: the core answers ERANGE. */
	EXPECT_ERR(ERANGE, session_new(self, self->local, self->peer, 0, suite,
				       CPNS_TX_IMMEDIATE));
	EXPECT_ERR(ERANGE, session_new(self, self->local, self->peer, 2, 3,
				       CPNS_TX_IMMEDIATE));
	EXPECT_ERR(ERANGE, session_new(self, self->local, self->peer, 2, 0,
				       CPNS_TX_IMMEDIATE));
	EXPECT_ERR(ERANGE, session_new(self, self->local, self->peer, 2, suite,
				       3));
	EXPECT_ERR(EINVAL, session_new(self, self->local, self->local, 2, suite,
				       CPNS_TX_IMMEDIATE));
	EXPECT_ERR(EINVAL, session_new(self, self->local, id_ones, 2, suite,
				       CPNS_TX_IMMEDIATE));
	EXPECT_ERR(EINVAL, session_new(self, self->local, id_zero, 2, suite,
				       CPNS_TX_IMMEDIATE));
	EXPECT_ERR(ERANGE, REQ(CPNS_CMD_SESSION_NEW, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local);
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer);
			       nla_put_u8(m, CPNS_A_GENERATION, 2);
			       nla_put_u8(m, CPNS_A_SUITE, suite);
			       nla_put_u8(m, CPNS_A_ROLE, CPNS_ROLE_INITIATOR);
			       nla_put_u8(m, CPNS_A_TX_MODE, CPNS_TX_IMMEDIATE);
			       put_secrets(m, CPNS_SECRET_LEN - 1)));
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_SESSION_NEW, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local);
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer);
			       nla_put_u8(m, CPNS_A_GENERATION, 2)));
	EXPECT_EQ(1, count_dump(self, CPNS_CMD_SESSION_GET));

	/* Cap: the third generation erases the oldest; immediate transmits. */
	ASSERT_EQ(0, session_new(self, self->local, self->peer, 2, suite,
				 CPNS_TX_ON_CONFIRM));
	ASSERT_EQ(0, session_new(self, self->local, self->peer, 3, suite,
				 CPNS_TX_IMMEDIATE));
	EXPECT_EQ(2, count_dump(self, CPNS_CMD_SESSION_GET));
	EXPECT_ERR(ENOENT, REQ(CPNS_CMD_SESSION_GET, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local);
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer);
			       nla_put_u8(m, CPNS_A_GENERATION, 1)));
	self->x.cb = sess_cb;
	ASSERT_EQ(0, REQ(CPNS_CMD_SESSION_GET, 0,
			 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local);
			 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer);
			 nla_put_u8(m, CPNS_A_GENERATION, 3)));
	EXPECT_EQ(1, seen.active);
	self->x.cb = NULL;

	/* Delete one generation, then the pair. */
	EXPECT_EQ(0, REQ(CPNS_CMD_SESSION_DEL, 0,
			 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local);
			 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer);
			 nla_put_u8(m, CPNS_A_GENERATION, 2)));
	EXPECT_ERR(ENOENT, REQ(CPNS_CMD_SESSION_DEL, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local);
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer);
			       nla_put_u8(m, CPNS_A_GENERATION, 2)));
	EXPECT_EQ(1, count_dump(self, CPNS_CMD_SESSION_GET));
	ASSERT_EQ(0, session_new(self, self->local, other, 1, suite,
				 CPNS_TX_IMMEDIATE));
	EXPECT_EQ(0, REQ(CPNS_CMD_SESSION_DEL, 0,
			 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local);
			 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer)));
	EXPECT_ERR(ENOENT, REQ(CPNS_CMD_SESSION_DEL, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local);
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer)));
	EXPECT_EQ(1, count_dump(self, CPNS_CMD_SESSION_GET));

	/* Removing the local ID removes its generations. */
	ASSERT_EQ(0, REQ(CPNS_CMD_ID_DEL, 0,
			 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local)));
	EXPECT_EQ(0, count_dump(self, CPNS_CMD_SESSION_GET));
}

/* Slab memory of the machine in kB, from /proc/meminfo. */
static long slab_kb(void)
{
	char line[128];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

TEST_F_TIMEOUT(nl, many_sessions_dump_and_flush, 600)
{
	uint8_t peer[CPNS_ID_LEN];
	volatile long before = -1;
	int i;

	ASSERT_EQ(0, REQ(CPNS_CMD_ID_ADD, 0,
			 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local)));
	for (i = 0; i < NSESSIONS; i++) {
		mkid(peer, 5000 + i / 2);
		ASSERT_EQ(0, session_new(self, self->local, peer, 1 + i % 2,
					 variant->suite, CPNS_TX_IMMEDIATE));
		if (i == 99)	/* past the first table resizes */
			before = slab_kb();
	}
	/* Indicative only: the whole machine's slab, idle generations. */
	TH_LOG("slab per idle generation: about %ld bytes",
	       (slab_kb() - before) * 1024 / (NSESSIONS - 100));
	EXPECT_EQ(NSESSIONS, count_dump(self, CPNS_CMD_SESSION_GET));
	/* A filtered dump. */
	mkid(peer, 5000);
	EXPECT_EQ(0, REQ(CPNS_CMD_SESSION_GET, NLM_F_DUMP,
			 nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, peer)));
	EXPECT_EQ(2, self->x.n);
	EXPECT_EQ(0, REQ(CPNS_CMD_SESSION_FLUSH, 0, ));
	EXPECT_EQ(0, count_dump(self, CPNS_CMD_SESSION_GET));
}

struct stats_seen {
	int nested;
	int n;
};

static int stats_cb(struct nlattr **tb, void *arg)
{
	struct stats_seen *s = arg;
	struct nlattr *a;
	int rem;

	if (!tb[CPNS_A_STATS])
		return NL_OK;
	s->nested = 1;
	nla_for_each_nested(a, tb[CPNS_A_STATS], rem)
		if (nla_type(a) != CPNS_STAT_PAD)
			s->n++;
	return NL_OK;
}

TEST_F(nl, stats)
{
	struct stats_seen seen = {};

	self->x.cb = stats_cb;
	self->x.arg = &seen;
	ASSERT_EQ(0, REQ(CPNS_CMD_STATS_GET, 0, ));
	EXPECT_EQ(1, seen.nested);
	EXPECT_EQ(CPNS_STAT_MAX - CPNS_STAT_DROP_SHORT + 1, seen.n);
	self->x.cb = NULL;
	EXPECT_EQ(0, REQ(CPNS_CMD_STATS_RESET, 0, ));
}

/* Without CAP_NET_ADMIN: every write is EPERM, and so is reading
 * sessions; the other reads work.
 */
TEST_F(nl, unprivileged)
{
	pid_t pid;
	int status;

	ASSERT_EQ(0, REQ(CPNS_CMD_ID_ADD, 0,
			 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local)));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		static const int writes[] = {
			CPNS_CMD_LINK_SET, CPNS_CMD_ID_ADD, CPNS_CMD_ID_DEL,
			CPNS_CMD_PEER_SET, CPNS_CMD_PEER_DEL,
			CPNS_CMD_ROUTE_ADD, CPNS_CMD_ROUTE_DEL,
			CPNS_CMD_SESSION_NEW, CPNS_CMD_SESSION_DEL,
			CPNS_CMD_SESSION_GET, CPNS_CMD_SESSION_FLUSH,
			CPNS_CMD_STATS_RESET,
		};
		struct cpns_nlt x = {};
		struct nl_sock *sk;
		unsigned int i;
		int fam, grp;

		if (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(10);
		sk = cpns_nlt_open(&fam);
		if (!sk)
			_exit(11);
		for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
			struct nl_msg *m = cpns_nlt_msg(fam, writes[i], 0);

			nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->peer);
			if (cpns_nlt_xfer(sk, m, &x) != -EPERM)
				_exit(20 + i);
		}
		if (cpns_nlt_xfer(sk, cpns_nlt_msg(fam, CPNS_CMD_ID_GET,
						   NLM_F_DUMP), &x) || x.n != 1)
			_exit(40);
		if (cpns_nlt_xfer(sk, cpns_nlt_msg(fam, CPNS_CMD_LINK_GET, 0),
				  &x))
			_exit(41);
		/* the events name sessions: not for an unprivileged user */
		grp = genl_ctrl_resolve_grp(sk, CPNS_GENL_NAME,
					    CPNS_MCGRP_EVENTS);
		if (grp < 0)
			_exit(42);
		if (setsockopt(nl_socket_get_fd(sk), SOL_NETLINK,
			       NETLINK_ADD_MEMBERSHIP, &grp, sizeof(grp)) != -1 ||
		    errno != EPERM)
			_exit(43);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* Nothing changed. */
	EXPECT_EQ(1, count_dump(self, CPNS_CMD_ID_GET));
}

/*
 * A request never does less than it says: an attribute its command would
 * ignore is refused, and nothing changes.
 */
TEST_F(nl, unused_attributes)
{
	uint8_t via[CPNS_ID_LEN];
	struct nl_msg *msg;

	mkid(via, 9);
	ASSERT_EQ(0, REQ(CPNS_CMD_ID_ADD, 0,
			 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local)));
	ASSERT_EQ(0, session_new(self, self->local, self->peer, 1,
				 variant->suite, CPNS_TX_IMMEDIATE));
	/* a flush naming a peer would have flushed every pair */
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_SESSION_FLUSH, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer)));
	EXPECT_EQ(1, count_dump(self, CPNS_CMD_SESSION_GET));
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_SESSION_DEL, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local);
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer);
			       nla_put_u8(m, CPNS_A_SUITE, variant->suite)));
	EXPECT_EQ(1, count_dump(self, CPNS_CMD_SESSION_GET));
	/* a port or address learning without the address they belong to */
	msg = session_msg(self, self->local, self->peer, 2, variant->suite,
			CPNS_ROLE_RESPONDER, CPNS_TX_ON_CONFIRM);
	nla_put_u16(msg, CPNS_A_PORT, 7872);
	EXPECT_ERR(EINVAL, cpns_nlt_xfer(self->sk, msg, &self->x));
	msg = session_msg(self, self->local, self->peer, 2, variant->suite,
			CPNS_ROLE_RESPONDER, CPNS_TX_ON_CONFIRM);
	nla_put_u8(msg, CPNS_A_LEARN, 1);
	EXPECT_ERR(EINVAL, cpns_nlt_xfer(self->sk, msg, &self->x));
	msg = session_msg(self, self->local, self->peer, 2, variant->suite,
			CPNS_ROLE_RESPONDER, CPNS_TX_ON_CONFIRM);
	nla_put(msg, CPNS_A_VIA_ID, CPNS_ID_LEN, via);
	EXPECT_ERR(EINVAL, cpns_nlt_xfer(self->sk, msg, &self->x));
	EXPECT_EQ(1, count_dump(self, CPNS_CMD_SESSION_GET));
	EXPECT_EQ(0, count_dump(self, CPNS_CMD_PEER_GET));
	/* a route via a GW entity has no port */
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_ROUTE_ADD, 0,
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer);
			       nla_put(m, CPNS_A_VIA_ID, CPNS_ID_LEN, via);
			       nla_put_u16(m, CPNS_A_PORT, 7872)));
	EXPECT_EQ(0, count_dump(self, CPNS_CMD_ROUTE_GET));
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_LINK_SET, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, via)));
	EXPECT_ERR(EINVAL, REQ(CPNS_CMD_ID_DEL, 0,
			       nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local);
			       nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, self->peer)));
	EXPECT_EQ(1, count_dump(self, CPNS_CMD_ID_GET));
}

struct ntf_seen {
	int erased[8];
	int lost_present;
	int n;
};

static int ntf_cb(struct nl_msg *m, void *arg)
{
	struct ntf_seen *s = arg;
	struct genlmsghdr *gh = nlmsg_data(nlmsg_hdr(m));
	struct nlattr *tb[CPNS_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(m), 0, tb, CPNS_A_MAX, NULL))
		return NL_SKIP;
	s->n++;
	if (tb[CPNS_A_LOST])
		s->lost_present++;
	if (gh->cmd == CPNS_CMD_SESSION_ERASED_NTF && tb[CPNS_A_CAUSE] &&
	    nla_get_u8(tb[CPNS_A_CAUSE]) < 8)
		s->erased[nla_get_u8(tb[CPNS_A_CAUSE])]++;
	return NL_OK;
}

TEST_F(nl, erase_notifications)
{
	struct ntf_seen seen = {};
	struct nl_sock *ev;
	int grp, i;

	ev = nl_socket_alloc();
	ASSERT_NE(NULL, ev);
	ASSERT_EQ(0, genl_connect(ev));
	grp = genl_ctrl_resolve_grp(ev, CPNS_GENL_NAME, CPNS_MCGRP_EVENTS);
	ASSERT_LE(0, grp);
	nl_socket_disable_seq_check(ev);
	ASSERT_EQ(0, nl_socket_add_membership(ev, grp));
	nl_socket_modify_cb(ev, NL_CB_VALID, NL_CB_CUSTOM, ntf_cb, &seen);
	nl_socket_set_nonblocking(ev);

	ASSERT_EQ(0, REQ(CPNS_CMD_ID_ADD, 0,
			 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, self->local)));
	for (i = 1; i <= 3; i++)
		ASSERT_EQ(0, session_new(self, self->local, self->peer, i,
					 variant->suite, CPNS_TX_IMMEDIATE));
	ASSERT_EQ(0, session_new(self, self->local, self->peer, 3,
				 variant->suite, CPNS_TX_IMMEDIATE));
	ASSERT_EQ(0, REQ(CPNS_CMD_SESSION_FLUSH, 0, ));

	while (nl_recvmsgs_default(ev) >= 0)
		;
	EXPECT_EQ(1, seen.erased[CPNS_ERASE_CAP]);
	EXPECT_EQ(1, seen.erased[CPNS_ERASE_REPLACED]);
	EXPECT_EQ(2, seen.erased[CPNS_ERASE_DELETED]);
	EXPECT_EQ(seen.n, seen.lost_present);
	nl_socket_free(ev);
}

/*
 * The AES-256-GCM generations of the namespaces a user owns through a user
 * namespace are bounded per user (unpriv_aes_sessions): the crypto API
 * charges their transforms to no memory cgroup. Two users, each in a user
 * and network namespace of their own, with a limit of 2; the namespace of
 * the test, in the initial user namespace, is not bounded.
 */
FIXTURE(quota) {
	struct nl_sock *sk;
	int fam;
	struct cpns_nlt x;
	char saved[32];
};

FIXTURE_SETUP(quota)
{
	ASSERT_EQ(0, cpns_ensure_loaded());
	ASSERT_EQ(0, cpns_param_read("unpriv_aes_sessions", self->saved,
				     sizeof(self->saved)));
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	self->sk = cpns_nlt_open(&self->fam);
	ASSERT_NE(NULL, self->sk);
	memset(&self->x, 0, sizeof(self->x));
}

FIXTURE_TEARDOWN(quota)
{
	cpns_param_write("unpriv_aes_sessions", self->saved);
	if (self->sk)
		nl_socket_free(self->sk);
}

/* An initiator generation 1 of (local 1, peer @n) in @suite. */
static int quota_session(struct nl_sock *sk, int fam, struct cpns_nlt *x,
			 int n, int suite)
{
	struct nl_msg *m = cpns_nlt_msg(fam, CPNS_CMD_SESSION_NEW, 0);
	uint8_t id[CPNS_ID_LEN];

	mkid(id, 1);
	nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, id);
	mkid(id, n);
	nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, id);
	nla_put_u8(m, CPNS_A_GENERATION, 1);
	nla_put_u8(m, CPNS_A_SUITE, suite);
	nla_put_u8(m, CPNS_A_ROLE, CPNS_ROLE_INITIATOR);
	nla_put_u8(m, CPNS_A_TX_MODE, CPNS_TX_IMMEDIATE);
	put_secrets(m, CPNS_SECRET_LEN);
	return cpns_nlt_xfer(sk, m, x);
}

static int quota_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), ok;

	if (fd < 0)
		return -1;
	ok = write(fd, val, strlen(val)) == (ssize_t)strlen(val);
	close(fd);
	return ok ? 0 : -1;
}

/*
 * As user @uid, in a user and network namespace of its own: two AES
 * generations, a third refused with EDQUOT, a ChaCha20-Poly1305 one not;
 * then (after a byte on @ready and one from @go, if given) the third once
 * a pair is deleted and its generation freed. Exits 0, or the number of
 * the step that failed.
 */
static void quota_child(uid_t uid, int ready, int go)
{
	struct cpns_nlt x = {};
	struct nl_msg *m;
	struct nl_sock *sk;
	char map[64], c = 0;
	uint8_t id[CPNS_ID_LEN];
	int fam, i, r;

	/* dumpable again after the change of user, to own /proc/self */
	if (setgroups(0, NULL) || setresgid(uid, uid, uid) ||
	    setresuid(uid, uid, uid) || prctl(PR_SET_DUMPABLE, 1))
		_exit(10);
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET))
		_exit(11);
	snprintf(map, sizeof(map), "0 %u 1", uid);
	if (quota_write("/proc/self/setgroups", "deny") ||
	    quota_write("/proc/self/uid_map", map) ||
	    quota_write("/proc/self/gid_map", map))
		_exit(12);
	sk = cpns_nlt_open(&fam);
	if (!sk)
		_exit(13);
	m = cpns_nlt_msg(fam, CPNS_CMD_ID_ADD, 0);
	mkid(id, 1);
	nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, id);
	if (cpns_nlt_xfer(sk, m, &x))
		_exit(14);
	if (quota_session(sk, fam, &x, 2, CPNS_SUITE_AES256GCM) ||
	    quota_session(sk, fam, &x, 3, CPNS_SUITE_AES256GCM))
		_exit(15);
	if (quota_session(sk, fam, &x, 4, CPNS_SUITE_AES256GCM) != -EDQUOT ||
	    !strstr(x.msg, "unpriv_aes_sessions"))
		_exit(16);
	if (quota_session(sk, fam, &x, 5, CPNS_SUITE_CHACHA20POLY1305))
		_exit(17);
	if (ready >= 0 && (write(ready, &c, 1) != 1 || read(go, &c, 1) != 1))
		_exit(18);
	m = cpns_nlt_msg(fam, CPNS_CMD_SESSION_DEL, 0);
	mkid(id, 1);
	nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, id);
	mkid(id, 2);
	nla_put(m, CPNS_A_PEER_ID, CPNS_ID_LEN, id);
	if (cpns_nlt_xfer(sk, m, &x))
		_exit(19);
	/* the count drops when the generation is freed, a grace period on */
	for (i = 0; i < 250; i++) {
		r = quota_session(sk, fam, &x, 4, CPNS_SUITE_AES256GCM);
		if (r != -EDQUOT)
			break;
		usleep(20000);
	}
	if (r)
		_exit(20);
	if (quota_session(sk, fam, &x, 6, CPNS_SUITE_AES256GCM) != -EDQUOT)
		_exit(21);
	nl_socket_free(sk);
	_exit(0);
}

static int quota_wait(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

TEST_F(quota, unpriv_aes_sessions)
{
	uint8_t id[CPNS_ID_LEN];
	int ready[2], go[2], i;
	pid_t a, b;
	char c = 0;

	EXPECT_EQ(-EINVAL, cpns_param_write("unpriv_aes_sessions", "1048577"));
	ASSERT_EQ(0, cpns_param_write("unpriv_aes_sessions", "2"));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	a = fork();
	ASSERT_LE(0, a);
	if (a == 0) {
		close(ready[0]);
		close(go[1]);
		quota_child(61001, ready[1], go[0]);
	}
	close(ready[1]);
	close(go[0]);
	/* user 61001 holds its two */
	ASSERT_EQ(1, read(ready[0], &c, 1)) {
		TH_LOG("user 61001 stopped at step %d", quota_wait(a));
	}
	/* another user has two of its own */
	b = fork();
	ASSERT_LE(0, b);
	if (b == 0)
		quota_child(61002, -1, -1);
	EXPECT_EQ(0, quota_wait(b));
	/* the initial user namespace's namespaces are not counted */
	mkid(id, 1);
	ASSERT_EQ(0, REQ(CPNS_CMD_ID_ADD, 0,
			 nla_put(m, CPNS_A_LOCAL_ID, CPNS_ID_LEN, id)));
	for (i = 2; i < 6; i++)
		EXPECT_EQ(0, quota_session(self->sk, self->fam, &self->x, i,
					   CPNS_SUITE_AES256GCM));
	ASSERT_EQ(1, write(go[1], &c, 1));
	EXPECT_EQ(0, quota_wait(a));
	close(ready[0]);
	close(go[1]);
}

TEST_HARNESS_MAIN

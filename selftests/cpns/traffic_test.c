// SPDX-License-Identifier: GPL-2.0
/*
 * Records on the wire, for each suite: two namespaces A and B over a veth
 * pair, a session installed on both sides (A the initiator, immediate; B
 * the responder, on-confirm), traffic both ways; an AF_PACKET capture on
 * A's veth that must show no plaintext for C=1; captured records flipped
 * byte by byte, replayed and reordered, re-injected from a UDP socket in
 * A; forwarding through a GW namespace; namespace deletion and module
 * unloading with live sockets and traffic.
 */
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <time.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cpns_dp_test.h"

#define PORT_A	5000
#define PORT_B	6000
#define UDP_PORT CPNS_DEFAULT_UDP_PORT
#define MAX_CAP	32

static const uint8_t ts_i2r[CPNS_SECRET_LEN] = { 0x11, 0x22, 0x33 };
static const uint8_t ts_r2i[CPNS_SECRET_LEN] = { 0x44, 0x55, 0x66 };
static const char marker[] = "CPNS-PLAINTEXT-MARKER-0123456789";

FIXTURE(traffic) {
	struct cpns_ab ab;	/* A, B, their data sockets */
	int cap;	/* AF_PACKET on A's veth */
	int inj;	/* UDP socket in A for re-injection */
	uint8_t rec[MAX_CAP][CPNS_HDR_LEN + 256 + CPNS_TAG_LEN];
	size_t len[MAX_CAP];
	int n;
	char aes_saved[128];	/* aes_gcm to restore, "" if untouched */
};

FIXTURE_VARIANT(traffic) {
	uint8_t suite;
	bool later;	/* AES-256-GCM finishing later (module's aes_gcm) */
};

FIXTURE_VARIANT_ADD(traffic, aes256gcm) {
	.suite = CPNS_SUITE_AES256GCM,
};

FIXTURE_VARIANT_ADD(traffic, chacha20poly1305) {
	.suite = CPNS_SUITE_CHACHA20POLY1305,
};

/* AES-256-GCM through an implementation that finishes every seal and open
 * in a worker (cpns_param_aes_gcm_later()): the records' path after a
 * completion that comes later.
 */
FIXTURE_VARIANT_ADD(traffic, aes256gcm_later) {
	.suite = CPNS_SUITE_AES256GCM,
	.later = true,
};

static int enter(const char *ns)
{
	return cpns_netns_enter(ns);
}

/* Install generation @gen on both sides unless told otherwise. */
static int install(FIXTURE_DATA(traffic) *self, uint8_t suite, uint8_t gen,
		   int on_a, int on_b)
{
	int ret = 0;

	if (on_a) {
		ret = cpns_ab_install(&self->ab, 0, gen, suite, ts_i2r, ts_r2i);
		if (ret)
			return ret;
	}
	if (on_b)
		ret = cpns_ab_install(&self->ab, 1, gen, suite, ts_i2r, ts_r2i);
	return ret;
}

FIXTURE_SETUP(traffic)
{
	struct sockaddr_ll ll = { .sll_family = AF_PACKET };
	struct sockaddr_in sin = { .sin_family = AF_INET };

	self->cap = self->inj = -1;
	ASSERT_EQ(0, cpns_ab_setup(&self->ab, "cp", "10.77.0.1", "10.77.0.2",
				   PORT_A, PORT_B));
	if (variant->later) {
		char name[128];

		ASSERT_EQ(0, cpns_param_read("aes_gcm", self->aes_saved,
					     sizeof(self->aes_saved)));
		ASSERT_EQ(0, cpns_param_aes_gcm_later(name, sizeof(name)));
	}

	ASSERT_EQ(0, enter(self->ab.na));
	/* Only ETH_P_ALL taps see what the host sends. */
	self->cap = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));
	ASSERT_LE(0, self->cap);
	ll.sll_protocol = htons(ETH_P_ALL);
	ll.sll_ifindex = if_nametoindex("va");
	ASSERT_NE(0, ll.sll_ifindex);
	ASSERT_EQ(0, bind(self->cap, (struct sockaddr *)&ll, sizeof(ll)));
	self->inj = socket(AF_INET, SOCK_DGRAM, 0);
	ASSERT_LE(0, self->inj);
	sin.sin_addr.s_addr = htonl(0x0a4d0001);
	ASSERT_EQ(0, bind(self->inj, (struct sockaddr *)&sin, sizeof(sin)));

	ASSERT_EQ(0, install(self, variant->suite, 1, 1, 1));
}

FIXTURE_TEARDOWN(traffic)
{
	/* Unless the test unloaded the module, which resets it. */
	if (self->aes_saved[0] && cpns_loaded())
		EXPECT_EQ(0, cpns_param_write("aes_gcm", self->aes_saved));
	if (self->cap >= 0)
		close(self->cap);
	if (self->inj >= 0)
		close(self->inj);
	cpns_ab_teardown(&self->ab);
}

/* Read what the capture saw since the last call: UDP payloads A sent to
 * the record port, into self->rec.
 */
static void capture(FIXTURE_DATA(traffic) *self)
{
	uint8_t pkt[2048];
	struct sockaddr_ll ll;
	socklen_t sl = sizeof(ll);
	ssize_t n;

	self->n = 0;
	while ((n = recvfrom(self->cap, pkt, sizeof(pkt), MSG_DONTWAIT,
			     (struct sockaddr *)&ll, &sl)) > 0) {
		struct iphdr *ip = (struct iphdr *)pkt;
		struct udphdr *uh = (struct udphdr *)(pkt + ip->ihl * 4);
		size_t off = ip->ihl * 4 + sizeof(*uh);

		sl = sizeof(ll);
		if (ll.sll_protocol != htons(ETH_P_IP) ||
		    ll.sll_pkttype != PACKET_OUTGOING ||
		    ip->protocol != IPPROTO_UDP || ip->saddr != htonl(0x0a4d0001) ||
		    uh->dest != htons(UDP_PORT) ||
		    uh->source != htons(UDP_PORT) || (size_t)n <= off ||
		    self->n == MAX_CAP ||
		    (size_t)n - off > sizeof(self->rec[0]))
			continue;
		memcpy(self->rec[self->n], pkt + off, n - off);
		self->len[self->n++] = n - off;
	}
}

static void inject(FIXTURE_DATA(traffic) *self, const uint8_t *rec,
		   size_t len)
{
	struct sockaddr_in to = {
		.sin_family = AF_INET,
		.sin_port = htons(UDP_PORT),
		.sin_addr.s_addr = htonl(0x0a4d0002),
	};

	sendto(self->inj, rec, len, 0, (struct sockaddr *)&to, sizeof(to));
}

/* Wait for one record on @fd; returns its length or -1. */
static ssize_t wait_recv(int fd, void *buf, size_t len, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, ms) != 1)
		return -1;
	return recv(fd, buf, len, MSG_DONTWAIT);
}

static uint64_t drops_total(void)
{
	uint64_t st[__CPNS_STAT_MAX], sum = 0;
	int i;

	if (cpns_nl_stats(st))
		return UINT64_MAX;
	for (i = CPNS_STAT_DROP_SHORT; i <= CPNS_STAT_DROP_NO_PORT; i++)
		sum += st[i];
	return sum;
}

/*
 * Wait up to @ms for a drop count to reach @want and return it then (or
 * the last value read): a record given to an asynchronous AEAD ("later")
 * is counted when the crypto worker finishes with it, which a loaded host
 * may delay.
 */
static uint64_t wait_count(uint64_t (*read)(int), int stat, uint64_t want,
			   int ms)
{
	uint64_t n;

	while ((n = read(stat)) < want && n != UINT64_MAX && ms > 0) {
		usleep(5000);
		ms -= 5;
	}
	return n;
}

static uint64_t read_drops(int unused)
{
	(void)unused;
	return drops_total();
}

TEST_F(traffic, both_ways)
{
	struct sockaddr_cpns from;
	struct cpns_recvinfo ri;
	char buf[64];
	int got, i, one = 1;

	/* B is on-confirm: nothing to send on until A's first record. */
	ASSERT_EQ(0, enter(self->ab.nb));
	EXPECT_EQ(-1, cpns_sendto(self->ab.fb, "x", 1, self->ab.a, PORT_A, 0));
	EXPECT_EQ(ENOKEY, errno);
	ASSERT_EQ(0, setsockopt(self->ab.fb, SOL_CPNS, CPNS_RECVINFO, &one,
				sizeof(one)));

	for (i = 0; i < 3; i++) {
		EXPECT_EQ(4, cpns_sendto(self->ab.fa, "ping", 4, self->ab.b,
					 PORT_B, 0));
		memset(buf, 0, sizeof(buf));
		ASSERT_EQ(1, poll(&(struct pollfd){ .fd = self->ab.fb,
						    .events = POLLIN }, 1,
				  2000));
		ASSERT_EQ(4, cpns_recv_info(self->ab.fb, buf, sizeof(buf), 0,
					    &from, &ri, &got));
		EXPECT_STREQ("ping", buf);
		EXPECT_EQ(PORT_A, from.scpns_port);
		EXPECT_EQ(0, memcmp(from.scpns_id, self->ab.a, CPNS_ID_LEN));
		ASSERT_TRUE(got);
		EXPECT_EQ(variant->suite, ri.suite);
		EXPECT_EQ(CPNS_RI_ENCRYPTED, ri.flags);
		EXPECT_EQ(1, ri.generation);
		EXPECT_EQ(0, ri.epoch);
		EXPECT_EQ(AF_INET, ri.endpoint.ss_family);
		EXPECT_EQ(htonl(0x0a4d0001),
			  ((struct sockaddr_in *)&ri.endpoint)->sin_addr.s_addr);
		EXPECT_EQ(htons(UDP_PORT),
			  ((struct sockaddr_in *)&ri.endpoint)->sin_port);
	}
	/* Confirmed: B answers on generation 1. */
	EXPECT_EQ(4, cpns_sendto(self->ab.fb, "pong", 4, self->ab.a, PORT_A,
				 0));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(4, wait_recv(self->ab.fa, buf, sizeof(buf), 2000));
	EXPECT_STREQ("pong", buf);
	EXPECT_LE(3ULL, cpns_stat(CPNS_STAT_RX_RECORDS));
	EXPECT_LE(1ULL, cpns_stat(CPNS_STAT_TX_RECORDS));
}

TEST_F(traffic, no_plaintext_on_the_wire)
{
	char buf[128];
	int one = 1;

	ASSERT_EQ(0, enter(self->ab.na));
	capture(self);
	ASSERT_EQ((ssize_t)sizeof(marker), cpns_sendto(self->ab.fa, marker,
					      sizeof(marker), self->ab.b, PORT_B,
					      0));
	ASSERT_EQ((ssize_t)sizeof(marker),
		  wait_recv(self->ab.fb, buf, sizeof(buf), 2000));
	capture(self);
	ASSERT_EQ(1, self->n);
	EXPECT_EQ(CPNS_HDR_LEN + sizeof(marker) + CPNS_TAG_LEN, self->len[0]);
	EXPECT_EQ(NULL, memmem(self->rec[0], self->len[0], marker, 16));
	EXPECT_EQ(0x80, self->rec[0][2]);
	EXPECT_EQ(variant->suite, self->rec[0][3]);

	/* The capture does see plaintext when it is there: C=0. */
	ASSERT_EQ(0, setsockopt(self->ab.fb, SOL_CPNS, CPNS_INTEGRITY_ALLOWED,
				&one, sizeof(one)));
	ASSERT_EQ((ssize_t)sizeof(marker),
		  cpns_sendto_cmsg(self->ab.fa, marker, sizeof(marker),
				   self->ab.b, PORT_B,
				   CPNS_CMSG_INTEGRITY_ONLY, 1));
	ASSERT_EQ((ssize_t)sizeof(marker),
		  wait_recv(self->ab.fb, buf, sizeof(buf), 2000));
	EXPECT_EQ(0, memcmp(buf, marker, sizeof(marker)));
	capture(self);
	ASSERT_EQ(1, self->n);
	EXPECT_EQ(0x00, self->rec[0][2]);
	EXPECT_NE(NULL, memmem(self->rec[0], self->len[0], marker, 16));
}

/* Records on generation 2, which only A holds: B drops them (NO_SESSION)
 * while the capture keeps them; then B installs generation 2.
 */
static void held_back(struct __test_metadata *_metadata,
		      FIXTURE_DATA(traffic) *self, uint8_t suite, int count)
{
	char msg[16];
	int i;

	ASSERT_EQ(0, install(self, suite, 2, 1, 0));
	ASSERT_EQ(0, enter(self->ab.na));
	capture(self);
	for (i = 0; i < count; i++) {
		snprintf(msg, sizeof(msg), "rec-%02d", i);
		ASSERT_EQ(6, cpns_sendto(self->ab.fa, msg, 6, self->ab.b,
					 PORT_B, 0));
	}
	usleep(200000);
	capture(self);
	ASSERT_EQ(count, self->n);
	ASSERT_EQ(0, install(self, suite, 2, 0, 1));
	EXPECT_EQ(-1, recv(self->ab.fb, msg, sizeof(msg), MSG_DONTWAIT));
}

TEST_F(traffic, flipped_bytes_dropped)
{
	uint64_t drops, auth;
	uint8_t rec[sizeof(self->rec[0])];
	char buf[16];
	size_t i;

	held_back(_metadata, self, variant->suite, 1);
	ASSERT_EQ(0, enter(self->ab.nb));
	for (i = 0; i < self->len[0]; i++) {
		drops = drops_total();
		auth = cpns_stat(CPNS_STAT_DROP_AUTH);
		memcpy(rec, self->rec[0], self->len[0]);
		rec[i] ^= 0xff;
		inject(self, rec, self->len[0]);
		EXPECT_EQ(drops + 1, wait_count(read_drops, 0, drops + 1, 2000))
			TH_LOG("byte %zu flipped not counted once", i);
		EXPECT_EQ(-1, recv(self->ab.fb, buf, sizeof(buf), MSG_DONTWAIT))
			TH_LOG("byte %zu flipped was delivered", i);
		/* Past the header every flip is an authentication failure. */
		if (i >= CPNS_HDR_LEN)
			EXPECT_EQ(auth + 1, cpns_stat(CPNS_STAT_DROP_AUTH));
	}
	/* The untouched record still gets through, once. */
	inject(self, self->rec[0], self->len[0]);
	EXPECT_EQ(6, wait_recv(self->ab.fb, buf, sizeof(buf), 2000));
	EXPECT_EQ(0, memcmp(buf, "rec-00", 6));
}

TEST_F(traffic, replay_dropped)
{
	uint64_t replay;
	char buf[16];

	held_back(_metadata, self, variant->suite, 1);
	ASSERT_EQ(0, enter(self->ab.nb));
	replay = cpns_stat(CPNS_STAT_DROP_REPLAY);
	inject(self, self->rec[0], self->len[0]);
	EXPECT_EQ(6, wait_recv(self->ab.fb, buf, sizeof(buf), 2000));
	inject(self, self->rec[0], self->len[0]);
	inject(self, self->rec[0], self->len[0]);
	EXPECT_EQ(replay + 2, wait_count(cpns_stat, CPNS_STAT_DROP_REPLAY,
					 replay + 2, 2000));
	EXPECT_EQ(-1, recv(self->ab.fb, buf, sizeof(buf), MSG_DONTWAIT));
}

TEST_F(traffic, reordered_delivered_once)
{
	static const int order[] = { 4, 1, 3, 0, 2, 1, 4 };
	int seen[5] = {}, i, n = 0;
	uint64_t replay;
	char buf[16];
	ssize_t r;

	held_back(_metadata, self, variant->suite, 5);
	ASSERT_EQ(0, enter(self->ab.nb));
	replay = cpns_stat(CPNS_STAT_DROP_REPLAY);
	for (i = 0; i < (int)(sizeof(order) / sizeof(order[0])); i++)
		inject(self, self->rec[order[i]], self->len[order[i]]);
	while ((r = wait_recv(self->ab.fb, buf, sizeof(buf), 500)) == 6) {
		buf[6] = 0;
		ASSERT_EQ(0, strncmp(buf, "rec-0", 5));
		seen[buf[5] - '0']++;
		/* Delivered in the order injected. */
		EXPECT_EQ(order[n], buf[5] - '0');
		n++;
	}
	EXPECT_EQ(5, n);
	for (i = 0; i < 5; i++)
		EXPECT_EQ(1, seen[i]);
	EXPECT_EQ(replay + 2, cpns_stat(CPNS_STAT_DROP_REPLAY));
}

/* Traffic in both directions from a child while the namespace of B goes
 * away and the module is asked to unload. The child sends for a fixed
 * time rather than a fixed count, so the deletion lands mid-traffic on a
 * fast machine and the test stays bounded on a debug kernel under TCG.
 */
TEST_F_TIMEOUT(traffic, netns_delete_and_rmmod_with_traffic, 180)
{
	char buf[64];
	pid_t pid;
	int status;

	ASSERT_EQ(0, enter(self->ab.na));
	ASSERT_EQ(4, cpns_sendto(self->ab.fa, "ping", 4, self->ab.b, PORT_B,
				 0));
	ASSERT_EQ(4, wait_recv(self->ab.fb, buf, sizeof(buf), 2000));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct timespec t0, t;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		do {
			cpns_sendto(self->ab.fa, "load", 4, self->ab.b, PORT_B,
				    MSG_DONTWAIT);
			cpns_sendto(self->ab.fb, "back", 4, self->ab.a, PORT_A,
				    MSG_DONTWAIT);
			clock_gettime(CLOCK_MONOTONIC, &t);
		} while (t.tv_sec - t0.tv_sec < 2);
		_exit(0);
	}
	usleep(50000);
	/* Sockets pin the module. */
	EXPECT_EQ(-EWOULDBLOCK, cpns_unload());
	ASSERT_EQ(0, setns(self->ab.root, CLONE_NEWNET));
	EXPECT_EQ(0, cpns_run("ip netns del %s", self->ab.nb));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* Close everything; then the module goes with live namespaces. */
	close(self->ab.fa);
	close(self->ab.fb);
	self->ab.fa = self->ab.fb = -1;
	EXPECT_EQ(0, cpns_unload());
	EXPECT_FALSE(cpns_loaded());
	EXPECT_EQ(0, cpns_ensure_loaded());
}

/* S -- GW -- P: P's records to S and S's answers cross the GW unchanged. */
TEST_F(traffic, forwarding_through_gw)
{
	char ns_s[32], ns_g[32], ns_p[32], buf[32];
	uint8_t s[CPNS_ID_LEN], g[CPNS_ID_LEN], p[CPNS_ID_LEN];
	uint64_t fwd, noroute;
	int fs = -1, fp = -1;

	snprintf(ns_s, sizeof(ns_s), "cpS%d", getpid());
	snprintf(ns_g, sizeof(ns_g), "cpG%d", getpid());
	snprintf(ns_p, sizeof(ns_p), "cpP%d", getpid());
	ASSERT_EQ(0, setns(self->ab.root, CLONE_NEWNET));
	ASSERT_EQ(0, cpns_run("ip netns add %s && ip netns add %s && ip netns add %s && "
			      "ip link add vs netns %s type veth peer name vg1 netns %s && "
			      "ip link add vp netns %s type veth peer name vg2 netns %s && "
			      "ip -n %s addr add 10.78.1.1/24 dev vs && ip -n %s link set vs up && "
			      "ip -n %s addr add 10.78.1.2/24 dev vg1 && ip -n %s link set vg1 up && "
			      "ip -n %s addr add 10.78.2.1/24 dev vg2 && ip -n %s link set vg2 up && "
			      "ip -n %s addr add 10.78.2.2/24 dev vp && ip -n %s link set vp up",
			      ns_s, ns_g, ns_p, ns_s, ns_g, ns_p, ns_g,
			      ns_s, ns_s, ns_g, ns_g, ns_g, ns_g, ns_p, ns_p));
	cpns_mkid(s, 7);
	cpns_mkid(g, 8);
	cpns_mkid(p, 9);

	/* GW: uplink to S, a route for its member P, forwarding off first. */
	ASSERT_EQ(0, enter(ns_g));
	ASSERT_EQ(0, cpns_nl_id_add(g));
	ASSERT_EQ(0, cpns_nl_peer_set4(s, "10.78.1.1", UDP_PORT, 0, 1));
	ASSERT_EQ(0, cpns_nl_route_add4(p, "10.78.2.2", UDP_PORT));
	/* S reaches P through the GW. */
	ASSERT_EQ(0, enter(ns_s));
	ASSERT_EQ(0, cpns_nl_id_add(s));
	ASSERT_EQ(0, cpns_nl_peer_set4(g, "10.78.1.2", UDP_PORT, 1, 0));
	ASSERT_EQ(0, cpns_nl_route_add_via(p, g));
	ASSERT_EQ(0, cpns_nl_session_new(s, p, 1, variant->suite,
					 CPNS_ROLE_RESPONDER,
					 CPNS_TX_ON_CONFIRM, ts_r2i, ts_i2r));
	fs = cpns_socket();
	ASSERT_EQ(0, cpns_bind(fs, s, 300));
	/* P sends everything to its GW. */
	ASSERT_EQ(0, enter(ns_p));
	ASSERT_EQ(0, cpns_nl_id_add(p));
	ASSERT_EQ(0, cpns_nl_peer_set4(s, "10.78.2.1", UDP_PORT, 0, 0));
	ASSERT_EQ(0, cpns_nl_session_new(p, s, 1, variant->suite,
					 CPNS_ROLE_INITIATOR,
					 CPNS_TX_IMMEDIATE, ts_i2r, ts_r2i));
	fp = cpns_socket();
	ASSERT_EQ(0, cpns_bind(fp, p, 4000));

	/* Forwarding disabled: NO_ROUTE at the GW. */
	ASSERT_EQ(0, enter(ns_g));
	noroute = cpns_stat(CPNS_STAT_DROP_NO_ROUTE);
	ASSERT_EQ(5, cpns_sendto(fp, "hello", 5, s, 300, 0));
	EXPECT_EQ(-1, wait_recv(fs, buf, sizeof(buf), 300));
	EXPECT_EQ(noroute + 1, cpns_stat(CPNS_STAT_DROP_NO_ROUTE));

	ASSERT_EQ(0, cpns_nl_link_set(0, 1));
	fwd = cpns_stat(CPNS_STAT_FORWARDED);
	ASSERT_EQ(5, cpns_sendto(fp, "hello", 5, s, 300, 0));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(5, wait_recv(fs, buf, sizeof(buf), 2000));
	EXPECT_STREQ("hello", buf);
	/* S answers P through the GW (its on-confirm pair switched). */
	EXPECT_EQ(5, cpns_sendto(fs, "world", 5, p, 4000, 0));
	memset(buf, 0, sizeof(buf));
	EXPECT_EQ(5, wait_recv(fp, buf, sizeof(buf), 2000));
	EXPECT_STREQ("world", buf);
	EXPECT_EQ(fwd + 2, cpns_stat(CPNS_STAT_FORWARDED));

	close(fs);
	close(fp);
	setns(self->ab.root, CLONE_NEWNET);
	cpns_run("ip netns del %s; ip netns del %s; ip netns del %s",
		 ns_s, ns_g, ns_p);
}

TEST_HARNESS_MAIN

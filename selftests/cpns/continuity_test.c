// SPDX-License-Identifier: GPL-2.0
/*
 * Nothing is lost while keys change under continuous traffic, for each
 * suite. Two namespaces A and B over a veth pair, generation 1 installed
 * on both sides (A the initiator, immediate; B the responder, on-confirm),
 * as in traffic_test. A child sends numbered records from A to B without
 * pause while
 *
 *  - epochs: the sender moves to a new epoch every 64 records (the module
 *    parameter tx_epoch_records, a sender may be stricter than 2^22, 2.4);
 *  - new_generation: generation 2 is installed make-before-break (2.10),
 *    first on B (responder, on-confirm), then on A (initiator, immediate);
 *
 * and B must receive every number exactly once, in order. In the variant
 * aes256gcm_later the seals and opens finish in pcrypt's or cryptd's
 * workers; pcrypt hands results back in order per transform only, so an
 * epoch change (a new transform) may reorder records there: that variant
 * asks for every number exactly once.
 *
 * The child stays at most WINDOW records ahead of the first record the
 * parent has not received yet, so neither B's socket buffer nor B's keys
 * derived ahead (2.8: epoch cur + 1 is ready before a record of it can
 * come) can be outrun, and no record is still on its way when one two
 * epochs later is sent (WINDOW is below EPOCH_RECORDS; 2.8 keeps one
 * previous epoch), whatever the speed of the machine and of the crypto
 * workers; a loss is then a bug, not load. The child runs on one CPU, so its records reach B in the order
 * sent.
 */
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cpns_dp_test.h"

#define PORT_A		5000
#define PORT_B		6000
#define UDP_PORT	CPNS_DEFAULT_UDP_PORT

#define EPOCH_RECORDS	64	/* tx_epoch_records during the epochs test */
#define N_EPOCHS	2000	/* records of the epochs test: 32 epochs */
#define N_GEN		600	/* records of the new_generation test */
#define GEN_PACE_US	3000	/* ~300 records/s in the new_generation test */
#define GEN_AT_B	150	/* records received before B installs gen 2 */
#define GEN_AT_A	300	/* ... before A installs gen 2 */

#define CREDIT		8	/* the parent returns a credit per 8 records */
#define WINDOW		32	/* records the child may send beyond the prefix */
_Static_assert(WINDOW < EPOCH_RECORDS, "a record two epochs on must wait");
#define IDLE_MS		20000	/* no record for this long: something is lost */

static const uint8_t ts1_i2r[CPNS_SECRET_LEN] = { 0x11, 0x22, 0x33 };
static const uint8_t ts1_r2i[CPNS_SECRET_LEN] = { 0x44, 0x55, 0x66 };
static const uint8_t ts2_i2r[CPNS_SECRET_LEN] = { 0x77, 0x88, 0x99 };
static const uint8_t ts2_r2i[CPNS_SECRET_LEN] = { 0xaa, 0xbb, 0xcc };

/* Payload of a numbered record. */
struct numbered {
	uint32_t magic;
	uint32_t num;
};

#define MAGIC	0x636f6e74	/* "cont" */

FIXTURE(continuity) {
	struct cpns_ab ab;	/* A, B, their data sockets */
	pid_t child;		/* the sender, 0 when none runs */
	int credit;		/* parent's end of the credit socket pair */
	char saved[32];		/* tx_epoch_records to restore, "" if untouched */
	char aes_saved[128];	/* aes_gcm to restore, "" if untouched */
};

FIXTURE_VARIANT(continuity) {
	uint8_t suite;
	bool later;	/* AES-256-GCM finishing later (module's aes_gcm) */
};

FIXTURE_VARIANT_ADD(continuity, aes256gcm) {
	.suite = CPNS_SUITE_AES256GCM,
};

FIXTURE_VARIANT_ADD(continuity, chacha20poly1305) {
	.suite = CPNS_SUITE_CHACHA20POLY1305,
};

/* AES-256-GCM through an implementation that finishes every seal and open
 * in a worker (cpns_param_aes_gcm_later()): the records' path after a
 * completion that comes later.
 */
FIXTURE_VARIANT_ADD(continuity, aes256gcm_later) {
	.suite = CPNS_SUITE_AES256GCM,
	.later = true,
};

static int enter(const char *ns)
{
	return cpns_netns_enter(ns);
}

/* Generation @gen on A (initiator, immediate) or B (responder, on-confirm). */
static int install(FIXTURE_DATA(continuity) *self, uint8_t suite,
		   uint8_t gen, int on_b)
{
	return cpns_ab_install(&self->ab, on_b, gen, suite,
			       gen == 1 ? ts1_i2r : ts2_i2r,
			       gen == 1 ? ts1_r2i : ts2_r2i);
}

FIXTURE_SETUP(continuity)
{
	int one = 1;

	self->credit = -1;
	ASSERT_EQ(0, cpns_ab_setup(&self->ab, "ct", "10.79.0.1", "10.79.0.2",
				   PORT_A, PORT_B));
	if (variant->later) {
		char name[128];

		ASSERT_EQ(0, cpns_param_read("aes_gcm", self->aes_saved,
					     sizeof(self->aes_saved)));
		ASSERT_EQ(0, cpns_param_aes_gcm_later(name, sizeof(name)));
	}
	ASSERT_EQ(0, setsockopt(self->ab.fa, SOL_CPNS, CPNS_RECVINFO, &one,
				sizeof(one)));
	ASSERT_EQ(0, setsockopt(self->ab.fb, SOL_CPNS, CPNS_RECVINFO, &one,
				sizeof(one)));

	ASSERT_EQ(0, install(self, variant->suite, 1, 0));
	ASSERT_EQ(0, install(self, variant->suite, 1, 1));
}

FIXTURE_TEARDOWN(continuity)
{
	if (self->child > 0) {
		kill(self->child, SIGKILL);
		waitpid(self->child, NULL, 0);
	}
	if (self->saved[0])
		EXPECT_EQ(0, cpns_param_write("tx_epoch_records", self->saved));
	if (self->aes_saved[0])
		EXPECT_EQ(0, cpns_param_write("aes_gcm", self->aes_saved));
	if (self->credit >= 0)
		close(self->credit);
	cpns_ab_teardown(&self->ab);
}

/* ---- the sender --------------------------------------------------------- */

/*
 * The child: records 0 .. @n - 1 from A to B, each carrying its number,
 * @pace_us apart, never more than WINDOW beyond the credits the parent
 * returned on @credit. A send the kernel cannot take yet (ENOBUFS while
 * the next epoch's keys are derived) is retried, never skipped. Exit
 * status 0, or the reason it stopped.
 */
static void sender(int fd, const uint8_t dst[CPNS_ID_LEN], int n, int credit,
		   unsigned int pace_us)
{
	struct sockaddr_cpns to = cpns_sa(dst, PORT_B);
	struct numbered rec = { .magic = MAGIC };
	int i, allowed = WINDOW;
	cpu_set_t cpus;
	char c[64];
	int tries;
	ssize_t r;

	/* One CPU: one backlog queue on the way to B, so order is kept. */
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	sched_setaffinity(0, sizeof(cpus), &cpus);

	for (i = 0; i < n; i++) {
		while (i >= allowed) {
			struct pollfd p = { .fd = credit, .events = POLLIN };

			if (poll(&p, 1, IDLE_MS) != 1)
				_exit(2);	/* the parent stopped receiving */
			r = read(credit, c, sizeof(c));
			if (r <= 0)
				_exit(3);
			allowed += r * CREDIT;
		}
		rec.num = i;
		for (tries = 0;; tries++) {
			r = sendto(fd, &rec, sizeof(rec), 0,
				   (struct sockaddr *)&to, sizeof(to));
			if (r == sizeof(rec))
				break;
			if (r >= 0 || tries == 10000 ||
			    (errno != ENOBUFS && errno != EAGAIN &&
			     errno != EINTR))
				_exit(4);
			usleep(1000);
		}
		if (pace_us)
			usleep(pace_us);
	}
	_exit(0);
}

static void start_sender(struct __test_metadata *_metadata,
			 FIXTURE_DATA(continuity) *self, int n,
			 unsigned int pace_us)
{
	int sv[2];

	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	self->child = fork();
	ASSERT_LE(0, self->child);
	if (self->child == 0) {
		close(sv[0]);
		sender(self->ab.fa, self->ab.b, n, sv[1], pace_us);
	}
	close(sv[1]);
	self->credit = sv[0];
}

static int wait_sender(FIXTURE_DATA(continuity) *self)
{
	int status;

	if (waitpid(self->child, &status, 0) != self->child)
		return -1;
	self->child = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* ---- the receiver ------------------------------------------------------- */

/**
 * struct stream - what B received of the numbered records
 * @n: records the child sends
 * @count: records received
 * @prefix: records 0 .. @prefix - 1 all received
 * @credited: records of @prefix a credit went back for
 * @next: the number expected next, in order
 * @misordered: records that were not the one expected next
 * @dups: records received more than once
 * @bad: records that are not numbered records or came without recvinfo
 * @times: per number, how often it arrived
 * @gen: per number, the generation it arrived under
 * @epoch: per number, the epoch it arrived under
 */
struct stream {
	int n;
	int count;
	int prefix;
	int credited;
	int next;
	int misordered;
	int dups;
	int bad;
	uint8_t *times;
	uint8_t *gen;
	uint8_t *epoch;
};

static int stream_init(struct stream *s, int n)
{
	memset(s, 0, sizeof(*s));
	s->n = n;
	s->times = calloc(n, 1);
	s->gen = calloc(n, 1);
	s->epoch = calloc(n, 1);
	return s->times && s->gen && s->epoch ? 0 : -ENOMEM;
}

static void stream_free(struct stream *s)
{
	free(s->times);
	free(s->gen);
	free(s->epoch);
}

/* Receive on @fd until @upto records arrived in all; a credit goes back to
 * the child for every CREDIT records the received prefix grows by. Returns
 * 0, or -1 when nothing came for IDLE_MS.
 */
static int stream_recv(int fd, int credit, struct stream *s, int upto)
{
	struct cpns_recvinfo ri;
	struct numbered rec;
	ssize_t len;
	int got;

	while (s->count < upto) {
		struct pollfd p = { .fd = fd, .events = POLLIN };

		if (poll(&p, 1, IDLE_MS) != 1)
			return -1;
		len = cpns_recv_info(fd, &rec, sizeof(rec), MSG_DONTWAIT, NULL,
				     &ri, &got);
		if (len < 0 && errno == EAGAIN)
			continue;
		if (len != sizeof(rec) || rec.magic != MAGIC ||
		    rec.num >= (uint32_t)s->n || !got) {
			s->bad++;
			continue;
		}
		if (s->times[rec.num]++)
			s->dups++;
		if ((int)rec.num != s->next)
			s->misordered++;
		s->next = rec.num + 1;
		s->gen[rec.num] = ri.generation;
		s->epoch[rec.num] = ri.epoch;
		s->count++;
		while (s->prefix < s->n && s->times[s->prefix])
			s->prefix++;
		for (; s->prefix - s->credited >= CREDIT; s->credited += CREDIT)
			send(credit, "c", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	}
	return 0;
}

/* Exactly once and, if @ordered, in order; logs what went wrong otherwise. */
static void stream_check(struct __test_metadata *_metadata,
			 const struct stream *s, bool ordered)
{
	int i, missing = 0, first = 0;

	for (i = 0; i < s->n; i++)
		if (!s->times[i] && !missing++)
			first = i;
	EXPECT_EQ(s->n, s->count);
	EXPECT_EQ(0, missing)
		TH_LOG("%d of %d records lost, the first is %d", missing, s->n,
		       first);
	EXPECT_EQ(0, s->dups);
	if (ordered)
		EXPECT_EQ(0, s->misordered);
	EXPECT_EQ(0, s->bad);
}

/* B's drop counters, for the log when records are missing. */
static void log_drops(struct __test_metadata *_metadata,
		      FIXTURE_DATA(continuity) *self)
{
	uint64_t st[__CPNS_STAT_MAX];
	int i;

	if (enter(self->ab.nb) || cpns_nl_stats(st))
		return;
	for (i = CPNS_STAT_DROP_SHORT; i <= CPNS_STAT_DROP_NO_PORT; i++)
		if (st[i])
			TH_LOG("B dropped %llu records, reason %d",
			       (unsigned long long)st[i], i);
}

/* ---- generation state through SESSION_GET ------------------------------ */

struct gen_state {
	int active;	/* the pair transmits on this generation */
	int tx_epoch;
	int rx_epoch;
};

static int gen_state_cb(struct nl_msg *msg, void *arg)
{
	struct gen_state *st = arg;
	struct nlattr *tb[CPNS_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, CPNS_A_MAX, NULL))
		return NL_SKIP;
	if (tb[CPNS_A_TX_ACTIVE])
		st->active = nla_get_u8(tb[CPNS_A_TX_ACTIVE]);
	if (tb[CPNS_A_TX_EPOCH])
		st->tx_epoch = nla_get_u8(tb[CPNS_A_TX_EPOCH]);
	if (tb[CPNS_A_RX_EPOCH])
		st->rx_epoch = nla_get_u8(tb[CPNS_A_RX_EPOCH]);
	return NL_OK;
}

/* SESSION_GET of generation @gen of (@local, @peer) in namespace @ns. */
static int gen_get(const char *ns, const uint8_t local[CPNS_ID_LEN],
		   const uint8_t peer[CPNS_ID_LEN], uint8_t gen,
		   struct gen_state *st)
{
	struct cpns_nlreq r;

	st->active = -1;
	st->tx_epoch = -1;
	st->rx_epoch = -1;
	if (enter(ns) || cpns_nlreq_start(&r, CPNS_CMD_SESSION_GET, NLM_F_ACK))
		return -EIO;
	nla_put(r.msg, CPNS_A_LOCAL_ID, CPNS_ID_LEN, local);
	nla_put(r.msg, CPNS_A_PEER_ID, CPNS_ID_LEN, peer);
	nla_put_u8(r.msg, CPNS_A_GENERATION, gen);
	return cpns_nlreq_run(&r, gen_state_cb, st);
}

/* One record from B to A, received on A; returns its generation or -1. */
static int b_to_a(FIXTURE_DATA(continuity) *self, const char *text)
{
	struct pollfd p = { .fd = self->ab.fa, .events = POLLIN };
	struct cpns_recvinfo ri;
	char buf[32];
	int got;

	if (cpns_sendto(self->ab.fb, text, strlen(text), self->ab.a, PORT_A, 0) !=
	    (ssize_t)strlen(text))
		return -1;
	if (poll(&p, 1, IDLE_MS) != 1)
		return -1;
	memset(buf, 0, sizeof(buf));
	if (cpns_recv_info(self->ab.fa, buf, sizeof(buf) - 1, MSG_DONTWAIT, NULL,
			   &ri, &got) != (ssize_t)strlen(text) ||
	    strcmp(buf, text) || !got)
		return -1;
	return ri.generation;
}

/* ---- the tests ------------------------------------------------------------ */

TEST_F_TIMEOUT(continuity, epochs, 240)
{
	struct gen_state st;
	struct stream s;
	char now[32];
	int i;

	/* 1 .. 2^22: nothing laxer than the profile, and not 0. */
	ASSERT_EQ(0, cpns_param_read("tx_epoch_records", self->saved, sizeof(self->saved)));
	EXPECT_STREQ("4194304", self->saved);
	EXPECT_EQ(-EINVAL, cpns_param_write("tx_epoch_records", "0"));
	EXPECT_EQ(-EINVAL, cpns_param_write("tx_epoch_records", "4194305"));
	ASSERT_EQ(0, cpns_param_read("tx_epoch_records", now, sizeof(now)));
	EXPECT_STREQ(self->saved, now);
	ASSERT_EQ(0, cpns_param_write("tx_epoch_records", "64"));
	ASSERT_EQ(0, cpns_param_read("tx_epoch_records", now, sizeof(now)));
	ASSERT_STREQ("64", now);

	ASSERT_EQ(0, stream_init(&s, N_EPOCHS));
	start_sender(_metadata, self, N_EPOCHS, 0);
	EXPECT_EQ(0, stream_recv(self->ab.fb, self->credit, &s, N_EPOCHS));
	EXPECT_EQ(0, wait_sender(self));
	stream_check(_metadata, &s, !variant->later);
	if (s.count != N_EPOCHS)
		log_drops(_metadata, self);

	/* One sender on the generation: record i went in epoch i / 64. */
	for (i = 0; i < N_EPOCHS; i++) {
		if (!s.times[i] ||
		    (s.gen[i] == 1 && s.epoch[i] == i / EPOCH_RECORDS))
			continue;
		EXPECT_EQ(1, s.gen[i])
			TH_LOG("record %d", i);
		EXPECT_EQ(i / EPOCH_RECORDS, s.epoch[i])
			TH_LOG("record %d", i);
		break;
	}

	/* The epoch moved past N / 64 - 1 at A's transmit and B's receive. */
	ASSERT_EQ(0, gen_get(self->ab.na, self->ab.a, self->ab.b, 1, &st));
	EXPECT_LE(N_EPOCHS / EPOCH_RECORDS - 1, st.tx_epoch);
	EXPECT_EQ((N_EPOCHS - 1) / EPOCH_RECORDS, st.tx_epoch);
	ASSERT_EQ(0, gen_get(self->ab.nb, self->ab.b, self->ab.a, 1, &st));
	EXPECT_EQ((N_EPOCHS - 1) / EPOCH_RECORDS, st.rx_epoch);
	stream_free(&s);
}

TEST_F_TIMEOUT(continuity, new_generation, 240)
{
	struct gen_state st;
	struct stream s;
	int i, first2;

	ASSERT_EQ(0, stream_init(&s, N_GEN));
	start_sender(_metadata, self, N_GEN, GEN_PACE_US);
	ASSERT_EQ(0, stream_recv(self->ab.fb, self->credit, &s, GEN_AT_B));

	/* B, the responder, installs generation 2 first, on-confirm: it keeps
	 * transmitting on generation 1 (2.10).
	 */
	ASSERT_EQ(0, install(self, variant->suite, 2, 1));
	ASSERT_EQ(0, gen_get(self->ab.nb, self->ab.b, self->ab.a, 2, &st));
	EXPECT_EQ(0, st.active);
	ASSERT_EQ(0, gen_get(self->ab.nb, self->ab.b, self->ab.a, 1, &st));
	EXPECT_EQ(1, st.active);
	EXPECT_EQ(1, b_to_a(self, "before"));
	ASSERT_EQ(0, stream_recv(self->ab.fb, self->credit, &s, GEN_AT_A));

	/* Then A, the initiator, immediate: its next record is on 2. */
	ASSERT_EQ(0, install(self, variant->suite, 2, 0));
	EXPECT_EQ(0, stream_recv(self->ab.fb, self->credit, &s, N_GEN));
	EXPECT_EQ(0, wait_sender(self));
	stream_check(_metadata, &s, !variant->later);
	if (s.count != N_GEN)
		log_drops(_metadata, self);

	/* Generation 1 up to A's install, generation 2 from then on. */
	for (first2 = 0; first2 < N_GEN && s.gen[first2] != 2; first2++)
		;
	EXPECT_LE(GEN_AT_A, first2);
	EXPECT_GE(GEN_AT_A + WINDOW, first2);
	for (i = 0; i < N_GEN; i++) {
		if (s.times[i] && s.gen[i] != (i < first2 ? 1 : 2)) {
			EXPECT_EQ(i < first2 ? 1 : 2, s.gen[i])
				TH_LOG("record %d", i);
			break;
		}
	}

	/* B's first authenticated record on 2 switched its transmission. */
	ASSERT_EQ(0, gen_get(self->ab.nb, self->ab.b, self->ab.a, 2, &st));
	EXPECT_EQ(1, st.active);
	ASSERT_EQ(0, gen_get(self->ab.nb, self->ab.b, self->ab.a, 1, &st));
	EXPECT_EQ(0, st.active);
	EXPECT_EQ(2, b_to_a(self, "after"));
	ASSERT_EQ(0, gen_get(self->ab.na, self->ab.a, self->ab.b, 2, &st));
	EXPECT_EQ(1, st.active);
	stream_free(&s);
}

TEST_HARNESS_MAIN

// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: anti-replay window (PROTOCOL.md 2.7), edges and a comparison
 * with a plain model over a long pseudo-random sequence.
 */

#include <kunit/test.h>
#include <linux/minmax.h>
#include <linux/slab.h>

#include "../crypto.h"

/* Pre-check then update, as steps 10 and 12 do for one record. */
static enum cpns_drop accept(struct cpns_replay *r, u64 seq)
{
	enum cpns_drop drop = cpns_replay_check(r, seq);

	return drop ?: cpns_replay_update(r, seq);
}

static void cpns_replay_first(struct kunit *test)
{
	struct cpns_replay r;

	cpns_replay_init(&r);
	/* The first record is accepted whatever its seq. */
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, cpns_replay_check(&r, 0));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, accept(&r, 100000));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_REPLAY, accept(&r, 100000));

	cpns_replay_init(&r);
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, accept(&r, 0));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_REPLAY, accept(&r, 0));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, accept(&r, 1));
}

static void cpns_replay_edges(struct kunit *test)
{
	const u64 top = 5000;
	struct cpns_replay r;

	KUNIT_ASSERT_EQ(test, CPNS_REPLAY_WINDOW, 1984);
	cpns_replay_init(&r);
	KUNIT_ASSERT_EQ(test, CPNS_DROP_NONE, accept(&r, top));

	/* d = 0: the top itself is a duplicate */
	KUNIT_EXPECT_EQ(test, CPNS_DROP_REPLAY, cpns_replay_check(&r, top));
	/* d = 1983 accepted once, d = 1984 and beyond too old */
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, accept(&r, top - 1983));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_REPLAY, accept(&r, top - 1983));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_TOO_OLD, accept(&r, top - 1984));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_TOO_OLD, accept(&r, top - 4999));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_TOO_OLD, accept(&r, 0));
	/* d = 1 */
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, accept(&r, top - 1));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_REPLAY, accept(&r, top - 1));

	/* d = 65536 after moving up */
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, accept(&r, top + 65536));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_TOO_OLD, accept(&r, top));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_TOO_OLD, accept(&r, top + 1));
}

static void cpns_replay_slide(struct kunit *test)
{
	struct cpns_replay r;
	u64 s;

	cpns_replay_init(&r);
	for (s = 0; s < 100; s++)
		KUNIT_ASSERT_EQ(test, CPNS_DROP_NONE, accept(&r, s));

	/* Slide by more than W (and more than the bitmap): nothing of the
	 * old bits may survive, whatever block they alias to.
	 */
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, accept(&r, 99 + 2048));
	for (s = 99 + 2048 - 1983; s < 99 + 2048; s++)
		KUNIT_EXPECT_EQ_MSG(test, CPNS_DROP_NONE,
				    cpns_replay_check(&r, s), "seq %llu", s);
	KUNIT_EXPECT_EQ(test, CPNS_DROP_TOO_OLD, accept(&r, 99));

	/* Slide by exactly one block: the block entering is cleared. */
	cpns_replay_init(&r);
	for (s = 0; s < 2048; s++)
		KUNIT_ASSERT_EQ(test, CPNS_DROP_NONE, accept(&r, s));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, accept(&r, 2048 + 63));
	for (s = 2048; s < 2048 + 63; s++)
		KUNIT_EXPECT_EQ_MSG(test, CPNS_DROP_NONE,
				    cpns_replay_check(&r, s), "seq %llu", s);
	/* older seqs still inside the window stay marked */
	for (s = 2048 + 63 - 1983; s < 2048; s++)
		KUNIT_EXPECT_EQ_MSG(test, CPNS_DROP_REPLAY,
				    cpns_replay_check(&r, s), "seq %llu", s);
}

/* Two copies of one record pass the pre-check; only one may be delivered. */
static void cpns_replay_recheck(struct kunit *test)
{
	struct cpns_replay r;

	cpns_replay_init(&r);
	KUNIT_ASSERT_EQ(test, CPNS_DROP_NONE, accept(&r, 3000));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, cpns_replay_check(&r, 2500));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, cpns_replay_check(&r, 2500));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, cpns_replay_update(&r, 2500));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_REPLAY, cpns_replay_update(&r, 2500));

	/* Passed the pre-check, then the window moved on meanwhile. */
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, cpns_replay_check(&r, 2000));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, cpns_replay_update(&r, 9000));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_TOO_OLD, cpns_replay_update(&r, 2000));
}

#define MODEL_RING	4096	/* > W: remembers every seq that matters */

/* Compare with the definition of 2.7 for W = 1984 on a long random walk. */
static void cpns_replay_model(struct kunit *test)
{
	struct cpns_replay r;
	enum cpns_drop want;
	u32 rnd = 0x12345678;
	bool any = false;
	u64 top = 0, seq;
	unsigned int i;
	u64 *ring;

	/* ring[s % MODEL_RING] == s + 1 when s was accepted */
	ring = kunit_kzalloc(test, MODEL_RING * sizeof(*ring), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, ring);
	cpns_replay_init(&r);

	for (i = 0; i < 100000; i++) {
		rnd = rnd * 1664525 + 1013904223;	/* LCG, fixed seed */
		switch (rnd >> 29) {
		case 0:
		case 1:
			seq = top + 1;
			break;
		case 2:	/* losses, now and then more than the bitmap */
			seq = top + 2 + ((rnd >> 16) % 64 ? (rnd >> 16) % 1500 :
							    3000);
			break;
		default:
			seq = top - min_t(u64, top, (rnd >> 8) % 2100);
			break;
		}

		if (!any || seq > top)
			want = CPNS_DROP_NONE;
		else if (top - seq >= 1984)
			want = CPNS_DROP_TOO_OLD;
		else if (ring[seq % MODEL_RING] == seq + 1)
			want = CPNS_DROP_REPLAY;
		else
			want = CPNS_DROP_NONE;

		KUNIT_ASSERT_EQ_MSG(test, want, accept(&r, seq),
				    "step %u seq %llu top %llu", i, seq, top);
		if (want == CPNS_DROP_NONE) {
			ring[seq % MODEL_RING] = seq + 1;
			if (!any || seq > top)
				top = seq;
			any = true;
		}
	}
	/* The walk stayed below the hard limit and went far. */
	KUNIT_EXPECT_LT(test, top, CPNS_SEQ_HARD_LIMIT);
	KUNIT_EXPECT_GT(test, top, 100000);
}

static struct kunit_case cpns_replay_cases[] = {
	KUNIT_CASE(cpns_replay_first),
	KUNIT_CASE(cpns_replay_edges),
	KUNIT_CASE(cpns_replay_slide),
	KUNIT_CASE(cpns_replay_recheck),
	KUNIT_CASE(cpns_replay_model),
	{}
};

static struct kunit_suite cpns_replay_suite = {
	.name = "cpns_replay",
	.test_cases = cpns_replay_cases,
};

kunit_test_suites(&cpns_replay_suite);

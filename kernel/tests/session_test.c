// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the generation rules of a pair (PROTOCOL.md 2.10, 2.13) driven
 * with injected time through every step of generations.json, plus the
 * cap, replacement, lifetime and clean-up cases the vectors leave out.
 *
 * The decision functions of session.c look only at the pair, its
 * generations' install time, transmit mode and flags, so the generations
 * here carry no keys.
 */

#include <kunit/test.h>
#include <linux/slab.h>

#include "../cpns.h"
#include "cpns_vectors.h"
#include "suite.h"

#define MS(s)	((u64)(s) * MSEC_PER_SEC)
/* Start the clock away from 0 so no deadline arithmetic can underflow. */
#define T0	MS(1000)

static struct cpns_pair *pair_new(struct kunit *test)
{
	struct cpns_pair *p = kunit_kzalloc(test, sizeof(*p), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, p);
	spin_lock_init(&p->lock);
	return p;
}

static struct cpns_gen *gen_new(struct kunit *test, u8 generation,
				bool on_confirm, u64 now)
{
	struct cpns_gen *g = kunit_kzalloc(test, sizeof(*g), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, g);
	g->generation = generation;
	g->tx_mode = on_confirm ? CPNS_TX_ON_CONFIRM : CPNS_TX_IMMEDIATE;
	g->tx.install = now;
	return g;
}

static struct cpns_gen *install(struct cpns_pair *p, struct cpns_gen *g,
				u64 now, enum cpns_erase_cause *cause)
{
	struct cpns_gen *victim;

	spin_lock_bh(&p->lock);
	victim = cpns_pair_attach(p, g, now, cause);
	spin_unlock_bh(&p->lock);
	return victim;
}

/* What cpns_gen_tx() and cpns_gen_tx_done() do to the pair. */
static struct cpns_gen *send(struct cpns_pair *p, u64 now, bool *switched)
{
	struct cpns_gen *g;

	spin_lock_bh(&p->lock);
	g = cpns_pair_tx_pick(p, now, switched);
	if (g)
		cpns_pair_mark_sent(p, g, now);
	spin_unlock_bh(&p->lock);
	return g;
}

/* What cpns_gen_rx() and cpns_gen_rx_done() do to the pair. */
static struct cpns_gen *receive(struct cpns_pair *p, u8 generation, u64 now,
				bool *switched)
{
	struct cpns_gen *g, *found = NULL;
	int i;

	*switched = false;
	spin_lock_bh(&p->lock);
	for (i = 0; i < ARRAY_SIZE(p->gens); i++) {
		g = rcu_dereference_protected(p->gens[i], true);
		if (g && g->generation == generation &&
		    cpns_gen_live(p, g, now))
			found = g;
	}
	if (found)
		*switched = cpns_pair_mark_received(p, found, now);
	spin_unlock_bh(&p->lock);
	return found;
}

/* The generations valid at @now, as a bitmap of generation numbers < 64. */
static u64 live_set(struct cpns_pair *p, u64 now)
{
	struct cpns_gen *g;
	u64 set = 0;
	int i;

	spin_lock_bh(&p->lock);
	for (i = 0; i < ARRAY_SIZE(p->gens); i++) {
		g = rcu_dereference_protected(p->gens[i], true);
		if (g && cpns_gen_live(p, g, now))
			set |= BIT_ULL(g->generation);
	}
	spin_unlock_bh(&p->lock);
	return set;
}

static void cpns_session_vectors(struct kunit *test)
{
	unsigned int c, s, i;

	for (c = 0; c < ARRAY_SIZE(cpns_vec_gen_cases); c++) {
		const struct cpns_vec_gen_case *vc = &cpns_vec_gen_cases[c];
		struct cpns_pair *p = pair_new(test);

		for (s = 0; s < vc->n_steps; s++) {
			const struct cpns_vec_gen_step *st = &vc->steps[s];
			u64 now = T0 + st->t_ms, want = 0;
			enum cpns_erase_cause cause = 0;
			bool switched = false, erased = false;
			struct cpns_gen *g;

			switch (st->op) {
			case CPNS_VEC_GEN_INSTALL:
				g = gen_new(test, st->generation,
					    st->on_confirm, now);
				erased = install(p, g, now, &cause);
				if (erased)
					KUNIT_EXPECT_EQ_MSG(test, cause,
							    CPNS_ERASE_CAP,
							    "%s step %u",
							    vc->name, s);
				break;
			case CPNS_VEC_GEN_SEND:
				g = send(p, now, &switched);
				KUNIT_EXPECT_EQ_MSG(test, g ? g->generation : 0,
						    st->tx, "%s step %u",
						    vc->name, s);
				break;
			case CPNS_VEC_GEN_RECEIVE:
				g = receive(p, st->generation, now, &switched);
				KUNIT_EXPECT_EQ_MSG(test, !!g, st->accepted,
						    "%s step %u", vc->name, s);
				break;
			}
			KUNIT_EXPECT_EQ_MSG(test, switched, st->tx_switched,
					    "%s step %u: tx_switched",
					    vc->name, s);
			KUNIT_EXPECT_EQ_MSG(test, erased, st->erased,
					    "%s step %u: erased", vc->name, s);
			for (i = 0; i < st->n_live; i++)
				want |= BIT_ULL(st->live[i]);
			KUNIT_EXPECT_EQ_MSG(test, live_set(p, now), want,
					    "%s step %u: live", vc->name, s);
		}
	}
}

static void cpns_session_replace(struct kunit *test)
{
	struct cpns_pair *p = pair_new(test);
	struct cpns_gen *g1 = gen_new(test, 1, false, T0);
	struct cpns_gen *g2 = gen_new(test, 2, true, T0 + MS(10));
	struct cpns_gen *g2b = gen_new(test, 2, false, T0 + MS(20));
	struct cpns_gen *g1b = gen_new(test, 1, true, T0 + MS(30));
	enum cpns_erase_cause cause = 0;
	bool sw;

	KUNIT_EXPECT_NULL(test, install(p, g1, T0, &cause));
	KUNIT_EXPECT_NULL(test, install(p, g2, T0 + MS(10), &cause));
	/* Same number as one held: that one is replaced, not the oldest. */
	KUNIT_EXPECT_PTR_EQ(test, install(p, g2b, T0 + MS(20), &cause), g2);
	KUNIT_EXPECT_EQ(test, cause, CPNS_ERASE_REPLACED);
	KUNIT_EXPECT_TRUE(test, test_bit(CPNS_GEN_DEAD, &g2->flags));
	KUNIT_EXPECT_EQ(test, live_set(p, T0 + MS(20)), BIT_ULL(1) | BIT_ULL(2));
	KUNIT_EXPECT_PTR_EQ(test, send(p, T0 + MS(21), &sw), g2b);

	/* Replacing the transmit generation with an on-confirm one leaves
	 * nothing to transmit on until a record on it arrives.
	 */
	KUNIT_EXPECT_PTR_EQ(test, install(p, g1b, T0 + MS(30), &cause), g1);
	KUNIT_EXPECT_EQ(test, cause, CPNS_ERASE_REPLACED);
	KUNIT_EXPECT_PTR_EQ(test, send(p, T0 + MS(31), &sw), g2b);
	KUNIT_EXPECT_PTR_EQ(test, receive(p, 1, T0 + MS(32), &sw), g1b);
	/* g1b is newer than g2b: its first record moves transmission. */
	KUNIT_EXPECT_TRUE(test, sw);
	KUNIT_EXPECT_PTR_EQ(test, send(p, T0 + MS(33), &sw), g1b);
}

static void cpns_session_cap_keeps_newer(struct kunit *test)
{
	struct cpns_pair *p = pair_new(test);
	struct cpns_gen *g[4];
	enum cpns_erase_cause cause;
	int i;

	for (i = 1; i <= 3; i++) {
		g[i] = gen_new(test, i * 10, true, T0 + MS(i));
		install(p, g[i], T0 + MS(i), &cause);
	}
	/* 10 went for the cap; 20 and 30 remain, neither confirmed. */
	KUNIT_EXPECT_EQ(test, live_set(p, T0 + MS(4)),
			BIT_ULL(20) | BIT_ULL(30));
	KUNIT_EXPECT_TRUE(test, test_bit(CPNS_GEN_DEAD, &g[1]->flags));
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(p->tx));
}

static void cpns_session_lifetime_cleanup(struct kunit *test)
{
	struct cpns_pair *p = pair_new(test);
	struct cpns_gen *g1 = gen_new(test, 1, true, T0);
	struct cpns_gen *g2 = gen_new(test, 2, true, T0 + MS(80000));
	u64 end = T0 + CPNS_GEN_LIFETIME_MS;
	enum cpns_erase_cause cause;
	bool sw;

	install(p, g1, T0, &cause);
	receive(p, 1, T0 + MS(1), &sw);
	KUNIT_EXPECT_TRUE(test, sw);
	install(p, g2, T0 + MS(80000), &cause);

	spin_lock_bh(&p->lock);
	KUNIT_EXPECT_EQ(test, cpns_pair_erase_cause(p, g1, end - 1), 0);
	KUNIT_EXPECT_EQ(test, cpns_pair_erase_cause(p, g1, end),
			CPNS_ERASE_LIFETIME);
	/* The clean-up erasing the transmit generation at the end of its
	 * lifetime hands transmission to the waiting newer one (2.10).
	 */
	KUNIT_EXPECT_TRUE(test, cpns_pair_detach(p, g1, CPNS_ERASE_LIFETIME,
						 end));
	KUNIT_EXPECT_PTR_EQ(test, rcu_access_pointer(p->tx), g2);
	spin_unlock_bh(&p->lock);
}

static void cpns_session_superseded(struct kunit *test)
{
	struct cpns_pair *p = pair_new(test);
	struct cpns_gen *g1 = gen_new(test, 1, false, T0);
	struct cpns_gen *g2 = gen_new(test, 2, false, T0 + MS(100));
	enum cpns_erase_cause cause;
	bool sw;

	install(p, g1, T0, &cause);
	install(p, g2, T0 + MS(100), &cause);
	send(p, T0 + MS(100), &sw);
	/* A record of the older generation never moves transmission. */
	KUNIT_EXPECT_PTR_EQ(test, receive(p, 1, T0 + MS(101), &sw), g1);
	KUNIT_EXPECT_FALSE(test, sw);
	receive(p, 2, T0 + MS(110), &sw);
	KUNIT_EXPECT_FALSE(test, sw);
	KUNIT_EXPECT_EQ(test, g2->both_ways_at, T0 + MS(110));

	spin_lock_bh(&p->lock);
	KUNIT_EXPECT_EQ(test, cpns_pair_erase_cause(p, g1, T0 + MS(170) - 1), 0);
	KUNIT_EXPECT_EQ(test, cpns_pair_erase_cause(p, g1, T0 + MS(170)),
			CPNS_ERASE_SUPERSEDED);
	KUNIT_EXPECT_EQ(test, cpns_pair_erase_cause(p, g2, T0 + MS(170)), 0);
	/* Deleting the transmit generation leaves nothing to send on. */
	KUNIT_EXPECT_FALSE(test, cpns_pair_detach(p, g2, CPNS_ERASE_DELETED,
						  T0 + MS(171)));
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(p->tx));
	/* Alone again, the older one is no longer superseded. */
	KUNIT_EXPECT_TRUE(test, cpns_gen_live(p, g1, T0 + MS(171)));
	spin_unlock_bh(&p->lock);
}

/* A real generation with keys: sizes for the memory budget, and the
 * install/destroy cycle of the crypto core as session.c uses it.
 */
static void cpns_session_real_generation(struct kunit *test)
{
	static const u8 ts[CPNS_SECRET_LEN] = { 1, 2, 3 };
	struct cpns_gen *g = kzalloc(sizeof(*g), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, g);
	KUNIT_ASSERT_EQ(test, cpns_tx_init(&g->tx, CPNS_SUITE_AES256GCM, ts,
					   T0), 0);
	KUNIT_ASSERT_EQ(test, cpns_rx_init(&g->rx, CPNS_SUITE_AES256GCM, ts),
			0);
	kunit_info(test, "struct cpns_gen %zu bytes (slab %zu), struct cpns_pair %zu bytes, epoch keys %zu bytes + AEAD transform each\n",
		   sizeof(*g), ksize(g), sizeof(struct cpns_pair),
		   sizeof(struct cpns_epoch_keys));
	cpns_tx_destroy(&g->tx);
	cpns_rx_destroy(&g->rx);
	kfree_sensitive(g);
	rcu_barrier();
}

static struct kunit_case cpns_session_cases[] = {
	KUNIT_CASE(cpns_session_vectors),
	KUNIT_CASE(cpns_session_replace),
	KUNIT_CASE(cpns_session_cap_keeps_newer),
	KUNIT_CASE(cpns_session_lifetime_cleanup),
	KUNIT_CASE(cpns_session_superseded),
	KUNIT_CASE(cpns_session_real_generation),
	{}
};

static struct kunit_suite cpns_session_suite = {
	.name = "cpns_session",
	.test_cases = cpns_session_cases,
};

kunit_test_suites(&cpns_session_suite);

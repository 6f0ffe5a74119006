// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: transmit and receive epoch state machines (PROTOCOL.md 2.5, 2.8)
 * against the sender rules of records.json and the receiver cases of
 * records_receive.json, plus edge cases driven directly.
 */

#include <kunit/test.h>
#include <linux/err.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "../crypto.h"
#include "cpns_vectors.h"
#include "suite.h"

#define MS(s)	((u64)(s) * MSEC_PER_SEC)

/* The transmit counter is (epoch << 32) | next seq (struct cpns_tx_dir). */
static void tx_set(struct cpns_tx_dir *tx, u8 epoch, u64 seq)
{
	atomic64_set(&tx->ctr, ((u64)epoch << 32) | seq);
}

static u8 tx_epoch(struct cpns_tx_dir *tx)
{
	return atomic64_read(&tx->ctr) >> 32;
}

static int tx_send(struct cpns_tx_dir *tx, u64 now, struct cpns_tx_slot *slot)
{
	int err;

	rcu_read_lock();
	err = cpns_tx_next(tx, now, slot);
	rcu_read_unlock();
	if (slot->need_derive)
		WARN_ON(cpns_tx_derive_ahead(tx));
	return err;
}

/* Walk the sender up to @epoch the way 2^22 records would. */
static unsigned int tx_skip_to(struct kunit *test, struct cpns_tx_dir *tx,
			       u8 epoch, u64 now)
{
	struct cpns_tx_slot slot;
	unsigned int thresholds = 0;

	/* What the first record of epoch 0 asked for; after that tx_send()
	 * derives whatever an advance asks for.
	 */
	KUNIT_ASSERT_EQ(test, 0, cpns_tx_derive_ahead(tx));
	while (tx_epoch(tx) < epoch) {
		u8 from = tx_epoch(tx);

		tx_set(tx, from, CPNS_SEQ_SOFT_LIMIT);
		KUNIT_ASSERT_EQ(test, 0, tx_send(tx, now, &slot));
		KUNIT_ASSERT_EQ(test, slot.epoch, from + 1);
		KUNIT_ASSERT_EQ(test, slot.seq, 0);
		thresholds += slot.epoch_threshold;
	}
	return thresholds;
}

static void cpns_epoch_sender_rules(struct kunit *test)
{
	const struct cpns_vec_sender_rule *r;
	const struct cpns_vec_send *s;
	struct cpns_tx_dir *tx;
	struct cpns_tx_slot slot;
	unsigned int i, j;
	int err;

	tx = kunit_kzalloc(test, sizeof(*tx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, tx);

	for (i = 0; i < ARRAY_SIZE(cpns_vec_sender_rules); i++) {
		r = &cpns_vec_sender_rules[i];
		KUNIT_ASSERT_EQ(test, 0,
				cpns_tx_init(tx, CPNS_SUITE_AES256GCM,
					     cpns_vec_traffic[0].ts0, 0));
		KUNIT_EXPECT_EQ(test, tx_skip_to(test, tx, r->start_epoch, 0),
				r->start_epoch >= CPNS_REKEY_EPOCH ? 1 : 0);
		tx_set(tx, r->start_epoch, r->start_seq);

		for (j = 0; j < r->n_sends; j++) {
			s = &r->sends[j];
			err = tx_send(tx, MS(s->t), &slot);
			if (s->refused) {
				KUNIT_EXPECT_TRUE_MSG(test, err == -ENOKEY ||
						      err == -EKEYEXPIRED,
						      "%s send %u: %d",
						      r->name, j, err);
				continue;
			}
			KUNIT_EXPECT_EQ_MSG(test, err, 0, "%s send %u",
					    r->name, j);
			KUNIT_EXPECT_EQ_MSG(test, slot.epoch, s->epoch,
					    "%s send %u", r->name, j);
			KUNIT_EXPECT_EQ_MSG(test, slot.seq, s->seq,
					    "%s send %u", r->name, j);
			KUNIT_EXPECT_EQ_MSG(test, slot.epoch_threshold,
					    s->epoch_threshold, "%s send %u",
					    r->name, j);
			KUNIT_EXPECT_PTR_NE(test, slot.keys, NULL);
			if (slot.keys)
				KUNIT_EXPECT_EQ(test, slot.keys->epoch,
						slot.epoch);
		}
		cpns_tx_destroy(tx);
	}
}

static void cpns_epoch_tx_limits(struct kunit *test)
{
	struct cpns_tx_dir *tx;
	struct cpns_tx_slot slot;

	tx = kunit_kzalloc(test, sizeof(*tx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, tx);
	KUNIT_ASSERT_EQ(test, 0, cpns_tx_init(tx, CPNS_SUITE_CHACHA20POLY1305,
					      cpns_vec_traffic[1].ts0,
					      MS(1000)));

	/* Epoch age counts from the epoch's start, lifetime from install. */
	KUNIT_EXPECT_EQ(test, 0, tx_send(tx, MS(1000 + 3599), &slot));
	KUNIT_EXPECT_EQ(test, slot.epoch, 0);
	KUNIT_EXPECT_EQ(test, 0, tx_send(tx, MS(1000 + 3600), &slot));
	KUNIT_EXPECT_EQ(test, slot.epoch, 1);
	KUNIT_EXPECT_TRUE(test, slot.need_derive);

	/* The next epoch's keys are missing: the sender must wait. */
	rcu_read_lock();
	tx_set(tx, 1, CPNS_SEQ_SOFT_LIMIT);
	KUNIT_EXPECT_EQ(test, 0, cpns_tx_next(tx, MS(1000 + 3601), &slot));
	KUNIT_EXPECT_EQ(test, slot.epoch, 2);
	tx_set(tx, 2, CPNS_SEQ_SOFT_LIMIT);
	KUNIT_EXPECT_EQ(test, -EBUSY, cpns_tx_next(tx, MS(1000 + 3601),
						   &slot));
	KUNIT_EXPECT_TRUE(test, slot.need_derive);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, 0, cpns_tx_derive_ahead(tx));
	KUNIT_EXPECT_EQ(test, 0, tx_send(tx, MS(1000 + 3601), &slot));
	KUNIT_EXPECT_EQ(test, slot.epoch, 3);
	KUNIT_EXPECT_EQ(test, slot.seq, 0);

	KUNIT_EXPECT_EQ(test, -ENOKEY, tx_send(tx, MS(1000 + 90000), &slot));
	cpns_tx_destroy(tx);
}

/* tx_epoch_records lowers the sender's records per epoch (2.4); the value
 * is read per record, and the module's value is restored at the end.
 */
static void cpns_epoch_tx_stricter(struct kunit *test)
{
	static const struct {
		unsigned int limit;
		u8 epoch;
		u64 seq;
	} sends[] = {
		{ 3, 0, 0 }, { 3, 0, 1 }, { 3, 0, 2 }, { 3, 1, 0 }, { 3, 1, 1 },
		{ 3, 1, 2 }, { 3, 2, 0 },
		/* raised: the epoch runs on */
		{ 100, 2, 1 },
		/* lowered below what the epoch already sent: moves on */
		{ 1, 3, 0 }, { 1, 4, 0 },
		/* back to the profile's 2^22 */
		{ CPNS_SEQ_SOFT_LIMIT, 4, 1 },
	};
	unsigned int saved = READ_ONCE(cpns_tx_epoch_records);
	struct cpns_tx_slot slot;
	struct cpns_tx_dir *tx;
	unsigned int i;

	tx = kunit_kzalloc(test, sizeof(*tx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, tx);
	KUNIT_ASSERT_EQ(test, 0, cpns_tx_init(tx, CPNS_SUITE_AES256GCM,
					      cpns_vec_traffic[0].ts0, 0));

	/* No assertion from here on: the module's value must come back. */
	for (i = 0; i < ARRAY_SIZE(sends); i++) {
		WRITE_ONCE(cpns_tx_epoch_records, sends[i].limit);
		KUNIT_EXPECT_EQ_MSG(test, 0, tx_send(tx, 0, &slot), "send %u",
				    i);
		KUNIT_EXPECT_EQ_MSG(test, slot.epoch, sends[i].epoch,
				    "send %u", i);
		KUNIT_EXPECT_EQ_MSG(test, slot.seq, sends[i].seq, "send %u", i);
	}
	WRITE_ONCE(cpns_tx_epoch_records, saved);
	cpns_tx_destroy(tx);
}

/* Records sealed by a sender open at a receiver with the same secret. */
static void cpns_epoch_tx_rx(struct kunit *test)
{
	static const u8 src[CPNS_ID_LEN] = { 1 }, dst[CPNS_ID_LEN] = { 2 };
	const size_t len = CPNS_HDR_LEN + 5 + CPNS_TAG_LEN;
	struct cpns_rx_ticket ticket;
	struct cpns_rx_events ev;
	struct cpns_epoch_keys *keys;
	struct cpns_tx_slot slot;
	struct cpns_tx_dir *tx;
	struct cpns_rx_dir *rx;
	struct cpns_rec rec = {
		.type = CPNS_TYPE_DATA, .flags = CPNS_FLAG_C,
		.suite = CPNS_SUITE_AES256GCM, .generation = 3, .length = 5,
		.src_port = 49152, .dst_port = 7,
	};
	unsigned int i;
	u64 now;
	u8 *buf;

	memcpy(rec.src, src, sizeof(src));
	memcpy(rec.dst, dst, sizeof(dst));
	tx = kunit_kzalloc(test, sizeof(*tx), GFP_KERNEL);
	rx = kunit_kzalloc(test, sizeof(*rx), GFP_KERNEL);
	buf = kunit_kzalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, tx && rx && buf);
	KUNIT_ASSERT_EQ(test, 0, cpns_tx_init(tx, rec.suite,
					      cpns_vec_traffic[0].ts0, 0));
	KUNIT_ASSERT_EQ(test, 0, cpns_rx_init(rx, rec.suite,
					      cpns_vec_traffic[0].ts0));

	for (i = 0; i < 4; i++) {
		/* two records in epoch 0, then the sender moves on by age
		 * and its first record of epoch 1 is lost
		 */
		now = i < 2 ? 0 : MS(3600);
		if (i == 2)
			KUNIT_ASSERT_EQ(test, 0, tx_send(tx, now, &slot));
		rcu_read_lock();
		KUNIT_ASSERT_EQ(test, 0, cpns_tx_next(tx, now, &slot));
		keys = cpns_test_keys_hold(slot.keys);
		rcu_read_unlock();
		rec.epoch = slot.epoch;
		rec.seq = slot.seq;
		cpns_hdr_fill((struct cpns_hdr *)buf, &rec);
		memcpy(buf + CPNS_HDR_LEN, "hello", 5);
		KUNIT_EXPECT_EQ(test, 0, cpns_test_seal(keys, buf, len));
		cpns_epoch_keys_put(keys);
		if (slot.need_derive)
			KUNIT_EXPECT_EQ(test, 0, cpns_tx_derive_ahead(tx));

		rcu_read_lock();
		KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE,
				cpns_rx_check(rx, rec.epoch, rec.seq, now,
					      &ticket));
		keys = cpns_test_keys_hold(ticket.keys);
		rcu_read_unlock();
		if (keys) {
			KUNIT_EXPECT_EQ(test, 0,
					cpns_test_open(keys, buf, len));
			cpns_epoch_keys_put(keys);
		}
		KUNIT_EXPECT_EQ(test, 0, memcmp(buf + CPNS_HDR_LEN, "hello", 5));
		KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE,
				cpns_rx_commit(rx, rec.epoch, rec.seq, now,
					       &ev));
		if (ev.need_derive)
			KUNIT_EXPECT_EQ(test, 0, cpns_rx_derive_ahead(rx));
	}
	KUNIT_EXPECT_EQ(test, rx->cur, 1);
	cpns_tx_destroy(tx);
	cpns_rx_destroy(rx);
}

/* ---- receive ---------------------------------------------------------- */

static enum cpns_drop rx_accept(struct cpns_rx_dir *rx, u8 epoch, u64 seq,
				u64 now, struct cpns_rx_events *ev)
{
	struct cpns_rx_ticket t;
	enum cpns_drop drop;

	memset(ev, 0, sizeof(*ev));
	rcu_read_lock();
	drop = cpns_rx_check(rx, epoch, seq, now, &t);
	rcu_read_unlock();
	if (drop == CPNS_DROP_EPOCH_PENDING) {
		WARN_ON(!t.need_derive);
		return drop;
	}
	return drop ?: cpns_rx_commit(rx, epoch, seq, now, ev);
}

static struct cpns_rx_dir *rx_new(struct kunit *test)
{
	struct cpns_rx_dir *rx = kunit_kzalloc(test, sizeof(*rx), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, rx);
	KUNIT_ASSERT_EQ(test, 0, cpns_rx_init(rx, CPNS_SUITE_AES256GCM,
					      cpns_vec_traffic[0].ts0));
	return rx;
}

static bool rx_has_keys(struct cpns_rx_dir *rx, u8 epoch)
{
	struct cpns_epoch_keys __rcu **slot;
	struct cpns_epoch_keys *keys;
	bool ret;

	if (epoch < CPNS_RX_FIRST_EPOCHS)
		slot = &rx->first[epoch];
	else if (rx->ext)
		slot = &rx->ext->keys[epoch % CPNS_RX_KEY_SLOTS];
	else
		return false;
	rcu_read_lock();
	keys = rcu_dereference(*slot);
	ret = keys && keys->epoch == epoch;
	rcu_read_unlock();
	return ret;
}

static void cpns_epoch_rx_prev(struct kunit *test)
{
	struct cpns_rx_dir *rx = rx_new(test);
	struct cpns_rx_events ev;

	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, rx_accept(rx, 0, 0, 0, &ev));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE,
			rx_accept(rx, 1, 0, MS(10), &ev));
	KUNIT_EXPECT_TRUE(test, ev.advanced);
	KUNIT_EXPECT_EQ(test, 0, cpns_rx_derive_ahead(rx));

	/* prev is valid while now < advance + 60 s */
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE,
			rx_accept(rx, 0, 1, MS(70) - 1, &ev));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_REPLAY,
			rx_accept(rx, 0, 1, MS(70) - 1, &ev));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_EPOCH,
			rx_accept(rx, 0, 2, MS(70), &ev));
	/* commit decides on its own clock too */
	KUNIT_EXPECT_EQ(test, CPNS_DROP_EPOCH,
			cpns_rx_commit(rx, 0, 3, MS(70), &ev));

	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 0));
	cpns_rx_expire(rx, MS(70) - 1);
	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 0));
	cpns_rx_expire(rx, MS(70));
	KUNIT_EXPECT_FALSE(test, rx_has_keys(rx, 0));
	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 1));
	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 2));
	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 3));
	cpns_rx_destroy(rx);
}

static void cpns_epoch_rx_ahead(struct kunit *test)
{
	struct cpns_rx_dir *rx = rx_new(test);
	struct cpns_rx_events ev;

	/* 0, 1 at install; cur + 9 never; cur + 8 once derived */
	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 1));
	KUNIT_EXPECT_FALSE(test, rx_has_keys(rx, 2));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_EPOCH, rx_accept(rx, 9, 0, 0, &ev));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_EPOCH_PENDING,
			rx_accept(rx, 8, 0, 0, &ev));
	KUNIT_EXPECT_EQ(test, 0, cpns_rx_derive_ahead(rx));
	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 8));
	KUNIT_EXPECT_FALSE(test, rx_has_keys(rx, 9));	/* cur + 8 at most */
	KUNIT_EXPECT_EQ(test, CPNS_DROP_EPOCH, rx_accept(rx, 9, 0, 0, &ev));

	/* The seq limit is checked before the window. */
	KUNIT_EXPECT_EQ(test, CPNS_DROP_SEQ_LIMIT,
			rx_accept(rx, 3, CPNS_SEQ_HARD_LIMIT, 0, &ev));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE,
			rx_accept(rx, 3, CPNS_SEQ_HARD_LIMIT - 1, 0, &ev));
	KUNIT_EXPECT_TRUE(test, ev.advanced);
	KUNIT_EXPECT_EQ(test, 0, cpns_rx_derive_ahead(rx));

	/* 3 is cur, 0 is prev, 1 and 2 are erased; 4..8 derived ahead */
	KUNIT_EXPECT_EQ(test, rx->cur, 3);
	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 0));
	KUNIT_EXPECT_FALSE(test, rx_has_keys(rx, 1));
	KUNIT_EXPECT_FALSE(test, rx_has_keys(rx, 2));
	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 4));
	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 5));
	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 8));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_EPOCH, rx_accept(rx, 1, 0, 0, &ev));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_EPOCH, rx_accept(rx, 2, 0, 0, &ev));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_EPOCH, rx_accept(rx, 12, 0, 0, &ev));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, rx_accept(rx, 0, 0, 0, &ev));
	cpns_rx_destroy(rx);
}

/* An idle direction holds epochs 0 and 1 only; traffic brings the windows
 * and cur + 2, and a record of cur + 2 before that waits (EPOCH_PENDING).
 */
static void cpns_epoch_rx_lazy(struct kunit *test)
{
	struct cpns_rx_dir *rx = rx_new(test);
	struct cpns_rx_ticket t;
	struct cpns_rx_events ev;

	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 0));
	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 1));
	KUNIT_EXPECT_PTR_EQ(test, rx->ext, NULL);

	/* Forged or not, a record of a bad epoch allocates nothing. */
	KUNIT_EXPECT_EQ(test, CPNS_DROP_EPOCH, rx_accept(rx, 9, 0, 0, &ev));
	KUNIT_EXPECT_PTR_EQ(test, rx->ext, NULL);

	/* cur + 2: pending, no state changed; the derivation brings it and
	 * the epoch after it (2.8: e + 1 together with a pending e).
	 */
	rcu_read_lock();
	KUNIT_EXPECT_EQ(test, CPNS_DROP_EPOCH_PENDING,
			cpns_rx_check(rx, 2, 0, 0, &t));
	rcu_read_unlock();
	KUNIT_EXPECT_TRUE(test, t.need_derive);
	KUNIT_EXPECT_EQ(test, rx->cur, 0);
	KUNIT_EXPECT_EQ(test, 0, cpns_rx_derive_ahead(rx));
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test, rx->ext);
	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 2));
	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 3));
	KUNIT_EXPECT_FALSE(test, rx_has_keys(rx, 4));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, rx_accept(rx, 2, 0, 0, &ev));
	KUNIT_EXPECT_TRUE(test, ev.advanced);
	cpns_rx_destroy(rx);

	/* Traffic of epoch 0: windows on the first record, and commit asks
	 * for cur + 2 until it is there.
	 */
	rx = rx_new(test);
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, rx_accept(rx, 0, 0, 0, &ev));
	KUNIT_EXPECT_NOT_ERR_OR_NULL(test, rx->ext);
	KUNIT_EXPECT_FALSE(test, ev.advanced);
	KUNIT_EXPECT_TRUE(test, ev.need_derive);
	KUNIT_EXPECT_EQ(test, CPNS_DROP_REPLAY, rx_accept(rx, 0, 0, 0, &ev));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, rx_accept(rx, 0, 1, 0, &ev));
	KUNIT_EXPECT_TRUE(test, ev.need_derive);
	KUNIT_EXPECT_EQ(test, 0, cpns_rx_derive_ahead(rx));
	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 2));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, rx_accept(rx, 0, 2, 0, &ev));
	KUNIT_EXPECT_FALSE(test, ev.need_derive);

	/* An advance to cur + 1 always asks for the new cur + 2. */
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, rx_accept(rx, 1, 0, 0, &ev));
	KUNIT_EXPECT_TRUE(test, ev.advanced);
	KUNIT_EXPECT_TRUE(test, ev.need_derive);
	KUNIT_EXPECT_FALSE(test, rx_has_keys(rx, 3));
	KUNIT_EXPECT_EQ(test, 0, cpns_rx_derive_ahead(rx));
	KUNIT_EXPECT_TRUE(test, rx_has_keys(rx, 3));
	cpns_rx_destroy(rx);
}

/* An idle sender holds epoch 0 only; its first record asks for epoch 1,
 * which is then ready long before epoch 0 ends.
 */
static void cpns_epoch_tx_lazy(struct kunit *test)
{
	struct cpns_tx_dir *tx;
	struct cpns_tx_slot slot;

	tx = kunit_kzalloc(test, sizeof(*tx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, tx);
	KUNIT_ASSERT_EQ(test, 0, cpns_tx_init(tx, CPNS_SUITE_CHACHA20POLY1305,
					      cpns_vec_traffic[1].ts0, 0));
	KUNIT_EXPECT_PTR_EQ(test, rcu_access_pointer(tx->next), NULL);

	rcu_read_lock();
	KUNIT_EXPECT_EQ(test, 0, cpns_tx_next(tx, 0, &slot));
	KUNIT_EXPECT_TRUE(test, slot.need_derive);
	KUNIT_EXPECT_EQ(test, 0, cpns_tx_next(tx, 0, &slot));
	KUNIT_EXPECT_FALSE(test, slot.need_derive);
	rcu_read_unlock();
	KUNIT_EXPECT_EQ(test, 0, cpns_tx_derive_ahead(tx));
	KUNIT_EXPECT_PTR_NE(test, rcu_access_pointer(tx->next), NULL);
	/* Derived once only. */
	KUNIT_EXPECT_EQ(test, 0, cpns_tx_derive_ahead(tx));

	/* Without the first record's request the advance would wait. */
	tx_set(tx, 0, CPNS_SEQ_SOFT_LIMIT);
	KUNIT_EXPECT_EQ(test, 0, tx_send(tx, 0, &slot));
	KUNIT_EXPECT_EQ(test, slot.epoch, 1);
	KUNIT_EXPECT_EQ(test, slot.seq, 0);
	cpns_tx_destroy(tx);
}

/* Step 12 re-tests what step 10 and 8a saw before the open. */
static void cpns_epoch_rx_commit_race(struct kunit *test)
{
	struct cpns_rx_dir *rx = rx_new(test);
	struct cpns_rx_ticket t;
	struct cpns_rx_events ev;

	/* Without a check that passed, commit has no window to record in. */
	KUNIT_EXPECT_EQ(test, CPNS_DROP_EPOCH_PENDING,
			cpns_rx_commit(rx, 0, 5, 0, &ev));
	KUNIT_EXPECT_EQ(test, 0, cpns_rx_derive_ahead(rx));	/* cur + 2 */
	rcu_read_lock();
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, cpns_rx_check(rx, 0, 5, 0, &t));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, cpns_rx_check(rx, 0, 5, 0, &t));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, cpns_rx_check(rx, 1, 0, 0, &t));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE, cpns_rx_check(rx, 2, 0, 0, &t));
	rcu_read_unlock();

	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE,
			cpns_rx_commit(rx, 0, 5, 0, &ev));
	KUNIT_EXPECT_FALSE(test, ev.advanced);
	KUNIT_EXPECT_EQ(test, CPNS_DROP_REPLAY,
			cpns_rx_commit(rx, 0, 5, 0, &ev));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE,
			cpns_rx_commit(rx, 2, 0, 0, &ev));
	KUNIT_EXPECT_TRUE(test, ev.advanced);
	/* epoch 1 was skipped meanwhile: below cur and not prev */
	KUNIT_EXPECT_EQ(test, CPNS_DROP_EPOCH,
			cpns_rx_commit(rx, 1, 0, 0, &ev));
	KUNIT_EXPECT_EQ(test, CPNS_DROP_REPLAY,
			cpns_rx_commit(rx, 2, 0, 0, &ev));
	cpns_rx_destroy(rx);
}

/* A node of records_receive.json with the steps the vectors need. */
struct rx_node {
	const struct cpns_vec_rx_setup *setup;
	struct cpns_rx_dir rx[2];
	bool threshold;
	bool not_local;
};

static bool port_listed(const u16 *ports, unsigned int n, u16 port)
{
	while (n--)
		if (ports[n] == port)
			return true;
	return false;
}

/* Receive steps 1-14 with the fakes of the setup around this module's
 * parts; returns the drop reason, the payload left in @buf.
 */
static enum cpns_drop rx_pipeline(struct rx_node *node, u8 *buf, size_t len,
				  u64 now)
{
	const struct cpns_vec_rx_setup *s = node->setup;
	const struct cpns_vec_rx_session *sess = NULL;
	struct cpns_epoch_keys *keys;
	struct cpns_rx_ticket t;
	struct cpns_rx_events ev;
	struct cpns_rx_dir *rx;
	enum cpns_drop drop;
	struct cpns_rec rec;
	unsigned int i;

	node->threshold = false;
	node->not_local = false;
	drop = cpns_record_check(buf, len, &rec);
	if (drop)
		return drop;
	if (memcmp(rec.dst, s->local, CPNS_ID_LEN)) {
		node->not_local = true;		/* step 5 is not ours */
		return CPNS_DROP_NO_ROUTE;
	}
	drop = cpns_record_check_suite0(&rec);
	if (drop)
		return drop;
	if (rec.suite == CPNS_SUITE_NONE)
		goto deliver;

	for (i = 0; i < s->n_sessions; i++)
		if (!memcmp(rec.src, s->sessions[i].src, CPNS_ID_LEN) &&
		    !memcmp(rec.dst, s->sessions[i].dst, CPNS_ID_LEN) &&
		    rec.generation == s->sessions[i].generation)
			sess = &s->sessions[i];
	if (!sess || now >= CPNS_GEN_LIFETIME_MS)
		return CPNS_DROP_NO_SESSION;
	if (rec.suite != sess->suite)
		return CPNS_DROP_SUITE_MISMATCH;
	rx = &node->rx[sess - s->sessions];

	rcu_read_lock();
	drop = cpns_rx_check(rx, rec.epoch, rec.seq, now, &t);
	keys = drop ? NULL : cpns_test_keys_hold(t.keys);
	rcu_read_unlock();
	if (keys) {
		if (cpns_test_open(keys, buf, len))
			drop = CPNS_DROP_AUTH;
		cpns_epoch_keys_put(keys);
	}
	if (drop)
		return drop;
	drop = cpns_rx_commit(rx, rec.epoch, rec.seq, now, &ev);
	if (drop)
		return drop;
	node->threshold = ev.epoch_threshold;
	if (ev.need_derive && cpns_rx_derive_ahead(rx))
		return CPNS_DROP_EPOCH_PENDING;

	if (!(rec.flags & CPNS_FLAG_C) &&
	    (rec.type == CPNS_TYPE_HANDSHAKE ||
	     !port_listed(s->integrity_ports, s->n_integrity_ports,
			  rec.dst_port)))
		return CPNS_DROP_POLICY;
deliver:
	if (!port_listed(s->bound_ports, s->n_bound_ports, rec.dst_port))
		return CPNS_DROP_NO_PORT;
	return CPNS_DROP_NONE;
}

static void rx_vector_case(struct kunit *test, struct rx_node *node,
			   const struct cpns_vec_rx_case *c)
{
	const struct cpns_vec_rx_step *st;
	enum cpns_drop drop;
	unsigned int i, j;
	u8 *buf;

	node->setup = c->setup;
	for (i = 0; i < c->setup->n_sessions; i++)
		KUNIT_ASSERT_EQ(test, 0,
				cpns_rx_init(&node->rx[i],
					     c->setup->sessions[i].suite,
					     c->setup->sessions[i].rx_ts0));

	for (j = 0; j < c->n_steps; j++) {
		st = &c->steps[j];
		buf = kmemdup(st->record, st->record_len, GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
		drop = rx_pipeline(node, buf, st->record_len, MS(st->now));
		if (drop == CPNS_DROP_EPOCH_PENDING) {
			/* Allowed once; derivation then completes. */
			KUNIT_EXPECT_TRUE_MSG(test, st->pending_allowed,
					      "%s step %u: EPOCH_PENDING",
					      c->name, j);
			for (i = 0; i < c->setup->n_sessions; i++)
				KUNIT_EXPECT_EQ(test, 0,
						cpns_rx_derive_ahead(&node->rx[i]));
			memcpy(buf, st->record, st->record_len);
			drop = rx_pipeline(node, buf, st->record_len,
					   MS(st->now));
		}

		switch (st->expect) {
		case CPNS_VEC_DELIVER:
			KUNIT_EXPECT_EQ_MSG(test, CPNS_DROP_NONE, drop,
					    "%s step %u", c->name, j);
			KUNIT_EXPECT_EQ_MSG(test, 0,
					    memcmp(buf + CPNS_HDR_LEN,
						   st->payload,
						   st->payload_len),
					    "%s step %u: payload", c->name, j);
			break;
		case CPNS_VEC_DROP:
			KUNIT_EXPECT_EQ_MSG(test, st->reason, drop,
					    "%s step %u", c->name, j);
			break;
		case CPNS_VEC_FORWARD:
			KUNIT_EXPECT_TRUE_MSG(test, node->not_local,
					      "%s step %u", c->name, j);
			break;
		}
		KUNIT_EXPECT_EQ_MSG(test, st->epoch_threshold,
				    node->threshold, "%s step %u: notify",
				    c->name, j);
		kfree(buf);
	}

	for (i = 0; i < c->setup->n_sessions; i++)
		cpns_rx_destroy(&node->rx[i]);
}

static void cpns_epoch_rx_vectors(struct kunit *test)
{
	struct rx_node *node;
	unsigned int i;

	node = kunit_kzalloc(test, sizeof(*node), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, node);
	for (i = 0; i < ARRAY_SIZE(cpns_vec_rx_cases); i++)
		rx_vector_case(test, node, &cpns_vec_rx_cases[i]);
}

static struct kunit_case cpns_epoch_cases[] = {
	KUNIT_CASE(cpns_epoch_sender_rules),
	KUNIT_CASE(cpns_epoch_tx_limits),
	KUNIT_CASE(cpns_epoch_tx_stricter),
	KUNIT_CASE(cpns_epoch_tx_rx),
	KUNIT_CASE(cpns_epoch_rx_prev),
	KUNIT_CASE(cpns_epoch_rx_ahead),
	KUNIT_CASE(cpns_epoch_rx_commit_race),
	KUNIT_CASE(cpns_epoch_rx_lazy),
	KUNIT_CASE(cpns_epoch_tx_lazy),
	KUNIT_CASE(cpns_epoch_rx_vectors),
	{}
};

static struct kunit_suite cpns_epoch_suite = {
	.name = "cpns_epoch",
	.test_cases = cpns_epoch_cases,
};

kunit_test_suites(&cpns_epoch_suite);

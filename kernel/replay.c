// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: anti-replay window of PROTOCOL.md 2.7, RFC 6479 style: a ring of
 * 32 64-bit blocks. The block holding top is never fully inside the window,
 * so the window is W = 2048 - 64 = 1984 seqs below and including top.
 */

#include <linux/minmax.h>
#include <linux/string.h>

#include "crypto.h"

#define CPNS_REPLAY_BLOCK_MASK	(CPNS_REPLAY_BLOCKS - 1)

static_assert((CPNS_REPLAY_BLOCKS & CPNS_REPLAY_BLOCK_MASK) == 0);

/**
 * cpns_replay_init() - empty a window (a new epoch)
 * @r: the window; its owner's lock must be held if it is shared
 */
void cpns_replay_init(struct cpns_replay *r)
{
	WRITE_ONCE(r->next, 0);
	memset(r->bits, 0, sizeof(r->bits));
}

static u64 cpns_replay_bit(u64 seq)
{
	return BIT_ULL(seq % CPNS_REPLAY_BLOCK_BITS);
}

static unsigned int cpns_replay_index(u64 seq)
{
	return (seq / CPNS_REPLAY_BLOCK_BITS) & CPNS_REPLAY_BLOCK_MASK;
}

static enum cpns_drop cpns_replay_test(const struct cpns_replay *r, u64 next,
				       u64 seq)
{
	if (!next || seq >= next)
		return CPNS_DROP_NONE;
	/* d = top - seq = next - 1 - seq */
	if (next - 1 - seq >= CPNS_REPLAY_WINDOW)
		return CPNS_DROP_TOO_OLD;
	if (READ_ONCE(r->bits[cpns_replay_index(seq)]) & cpns_replay_bit(seq))
		return CPNS_DROP_REPLAY;
	return CPNS_DROP_NONE;
}

/**
 * cpns_replay_check() - pre-check of step 10
 * @r: the window
 * @seq: sequence number, below 2^24
 *
 * Lockless: a concurrent update can make the answer stale, which is why
 * cpns_replay_update() tests again under the lock. Never sleeps.
 *
 * Return: CPNS_DROP_NONE, CPNS_DROP_REPLAY or CPNS_DROP_TOO_OLD.
 */
enum cpns_drop cpns_replay_check(const struct cpns_replay *r, u64 seq)
{
	/* Pairs with the release in cpns_replay_update(): a reader that sees
	 * the new top also sees the blocks the slide cleared.
	 */
	return cpns_replay_test(r, smp_load_acquire(&r->next), seq);
}

/**
 * cpns_replay_update() - step 12 for one window: re-test, then record seq
 * @r: the window; the caller holds the lock that serialises its updates
 * @seq: sequence number of an authenticated record, below 2^24
 *
 * Slides the window when seq is above top, clearing every block that the
 * slide brings in (all of them when it moves by 2048 or more).
 *
 * Return: CPNS_DROP_NONE when seq was recorded, otherwise CPNS_DROP_REPLAY
 * or CPNS_DROP_TOO_OLD and the window is unchanged.
 */
enum cpns_drop cpns_replay_update(struct cpns_replay *r, u64 seq)
{
	u64 next = r->next;
	enum cpns_drop drop;
	unsigned int idx;

	drop = cpns_replay_test(r, next, seq);
	if (drop)
		return drop;

	if (seq >= next) {
		if (next) {
			u64 top_block = (next - 1) / CPNS_REPLAY_BLOCK_BITS;
			u64 n = seq / CPNS_REPLAY_BLOCK_BITS - top_block;
			u64 i;

			n = min_t(u64, n, CPNS_REPLAY_BLOCKS);
			for (i = 1; i <= n; i++)
				WRITE_ONCE(r->bits[(top_block + i) &
						   CPNS_REPLAY_BLOCK_MASK], 0);
		}
		/* Pairs with the acquire in cpns_replay_check(): a reader that
		 * sees the new top also sees the cleared blocks.
		 */
		smp_store_release(&r->next, seq + 1);
	}

	idx = cpns_replay_index(seq);
	WRITE_ONCE(r->bits[idx], r->bits[idx] | cpns_replay_bit(seq));
	return CPNS_DROP_NONE;
}

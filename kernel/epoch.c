// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: per-direction epoch state machines - sender rules of PROTOCOL.md
 * 2.5 and receiver epochs of 2.8, with keys derived ahead in process
 * context and handed to the packet path through RCU.
 */

#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/moduleparam.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "crypto.h"

/*
 * Records a sender puts in one epoch before it moves to the next. 2.4 lets
 * a node be stricter than the profile in what it sends, never in what it
 * accepts, so the value only lowers the soft limit of 2.5 rule 2 and no
 * receive check looks at it. Tests lower it to see epochs change.
 * Written by the parameter setter, read with READ_ONCE() on the packet
 * path; a change applies from the next record on.
 */
unsigned int cpns_tx_epoch_records = CPNS_SEQ_SOFT_LIMIT;

static int cpns_tx_epoch_records_set(const char *val,
				     const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 1, CPNS_SEQ_SOFT_LIMIT);
}

static const struct kernel_param_ops cpns_tx_epoch_records_ops = {
	.set = cpns_tx_epoch_records_set,
	.get = param_get_uint,
};

module_param_cb(tx_epoch_records, &cpns_tx_epoch_records_ops,
		&cpns_tx_epoch_records, 0644);
MODULE_PARM_DESC(tx_epoch_records,
		 "records sent per epoch before the sender moves to the next, 1..4194304 (default 4194304 = 2^22, PROTOCOL.md 2.5; lower is stricter)");

/**
 * struct cpns_chain - where a direction's key chain stands
 * @ts: ts_n of PROTOCOL.md 3.3 for n = @epoch
 * @epoch: the next epoch to derive, 0..255
 *
 * A secret of its own allocation, freed with kfree_sensitive() as soon as
 * epoch 255 is derived or the direction goes away.
 */
struct cpns_chain {
	u8	ts[CPNS_SECRET_LEN];
	u16	epoch;
};

static struct cpns_chain *cpns_chain_new(const u8 ts0[CPNS_SECRET_LEN])
{
	struct cpns_chain *chain;

	chain = kmalloc(sizeof(*chain), GFP_KERNEL_ACCOUNT);
	if (!chain)
		return NULL;
	memcpy(chain->ts, ts0, CPNS_SECRET_LEN);
	chain->epoch = 0;
	return chain;
}

/*
 * Derive the keys of the chain's next epoch and move the chain one epoch
 * on. After epoch 255 there is nothing left to derive and the chain is
 * freed (*chainp = NULL). On failure nothing changes, so the step can be
 * retried. Process context; the caller serialises the direction's
 * derivations.
 */
static struct cpns_epoch_keys *cpns_chain_next(u8 suite,
					       struct cpns_chain **chainp)
{
	struct cpns_chain *chain = *chainp;
	bool last = chain->epoch == CPNS_EPOCH_MAX;
	struct cpns_epoch_keys *keys;
	u8 next[CPNS_SECRET_LEN];

	keys = cpns_epoch_keys_new(suite, chain->ts, chain->epoch,
				   last ? NULL : next);
	if (IS_ERR(keys))
		goto out;
	if (last) {
		kfree_sensitive(chain);
		*chainp = NULL;
		goto out;
	}
	memcpy(chain->ts, next, sizeof(next));
	chain->epoch++;
out:
	memzero_explicit(next, sizeof(next));
	return keys;
}

/* ---- transmit --------------------------------------------------------- */

#define CPNS_TX_CTR(epoch, seq)	(((u64)(epoch) << 32) | (seq))
#define CPNS_TX_EPOCH(ctr)	((u8)((ctr) >> 32))
#define CPNS_TX_SEQ(ctr)	((u32)(ctr))

/**
 * cpns_tx_init() - set up the transmit direction of a new generation
 * @tx: the direction, embedded in the generation
 * @suite: CPNS_SUITE_AES256GCM or CPNS_SUITE_CHACHA20POLY1305
 * @ts0: epoch 0 traffic secret; not kept (the caller wipes its own copy)
 * @now: install time, ms
 *
 * Derives the keys of epoch 0, which begins at @now; those of epoch 1
 * follow once the direction sends (cpns_tx_next() asks with its first
 * record). Process context; may sleep.
 *
 * Return: 0 or a negative errno; on failure nothing is left to destroy.
 */
int cpns_tx_init(struct cpns_tx_dir *tx, u8 suite,
		 const u8 ts0[CPNS_SECRET_LEN], u64 now)
{
	struct cpns_epoch_keys *cur;

	spin_lock_init(&tx->lock);
	atomic64_set(&tx->ctr, CPNS_TX_CTR(0, 0));
	tx->epoch_start = now;
	tx->install = now;
	tx->exhausted = false;
	tx->suite = suite;
	RCU_INIT_POINTER(tx->next, NULL);
	tx->chain = cpns_chain_new(ts0);
	if (!tx->chain)
		return -ENOMEM;

	cur = cpns_chain_next(suite, &tx->chain);
	if (IS_ERR(cur)) {
		kfree_sensitive(tx->chain);
		return PTR_ERR(cur);
	}
	RCU_INIT_POINTER(tx->cur, cur);
	return 0;
}

/**
 * cpns_tx_derive_ahead() - derive the keys of the epoch after the current
 * @tx: the direction
 *
 * Call from process context after cpns_tx_next() reported @need_derive;
 * calls for one direction must not overlap. Does nothing when the keys
 * exist or the current epoch is 255. May sleep.
 *
 * Return: 0 or a negative errno (retry later).
 */
int cpns_tx_derive_ahead(struct cpns_tx_dir *tx)
{
	struct cpns_epoch_keys *next;
	bool have_next;

	spin_lock_bh(&tx->lock);
	have_next = rcu_access_pointer(tx->next);
	spin_unlock_bh(&tx->lock);
	/* The sender only moves on with @next, so while it is missing the
	 * chain stands at cur + 1.
	 */
	if (have_next || !tx->chain)
		return 0;

	next = cpns_chain_next(tx->suite, &tx->chain);
	if (IS_ERR(next))
		return PTR_ERR(next);
	spin_lock_bh(&tx->lock);
	rcu_assign_pointer(tx->next, next);
	spin_unlock_bh(&tx->lock);
	return 0;
}

/* Epoch advance or refusal, under @tx->lock; @limit is the records-per-epoch
 * value cpns_tx_next() read.
 */
static int cpns_tx_next_slow(struct cpns_tx_dir *tx, u64 now, u32 limit,
			     struct cpns_tx_slot *slot)
{
	struct cpns_epoch_keys *cur, *next;
	u64 ctr = atomic64_read(&tx->ctr);
	u8 epoch = CPNS_TX_EPOCH(ctr);

	if (tx->exhausted)
		return -EKEYEXPIRED;
	if (CPNS_TX_SEQ(ctr) < limit &&
	    now < tx->epoch_start + CPNS_EPOCH_AGE_MS)
		return -EAGAIN;	/* raced with an advance: use the fast path */

	if (epoch == CPNS_EPOCH_MAX) {
		tx->exhausted = true;
		return -EKEYEXPIRED;
	}
	next = rcu_dereference_protected(tx->next, lockdep_is_held(&tx->lock));
	if (!next) {
		slot->need_derive = true;
		return -EBUSY;
	}

	cur = rcu_dereference_protected(tx->cur, lockdep_is_held(&tx->lock));
	rcu_assign_pointer(tx->cur, next);
	RCU_INIT_POINTER(tx->next, NULL);
	/* seq 0 of the new epoch is this caller's. The counter moves before
	 * the start time; see the reader side in cpns_tx_next().
	 */
	atomic64_set(&tx->ctr, CPNS_TX_CTR(epoch + 1, 1));
	smp_wmb();	/* counter before start time; pairs with cpns_tx_next() */
	WRITE_ONCE(tx->epoch_start, now);
	cpns_epoch_keys_free(cur);

	slot->keys = next;
	slot->epoch = epoch + 1;
	slot->seq = 0;
	slot->need_derive = slot->epoch < CPNS_EPOCH_MAX;
	slot->epoch_threshold = slot->epoch == CPNS_REKEY_EPOCH;
	return 0;
}

/**
 * cpns_tx_next() - reserve the (epoch, seq) of the next record to send
 * @tx: the direction
 * @now: current time, ms
 * @slot: what was reserved, with the keys to seal with
 *
 * Applies sender rules 2-4 of PROTOCOL.md 2.5: moves to the next epoch at
 * 2^22 records (fewer if tx_epoch_records says so) or 3600 s, stops for
 * good when epoch 255 reaches a limit, and refuses from install + 90000 s
 * on. Lockless unless the epoch moves.
 * Never sleeps; the caller holds rcu_read_lock() until the record is
 * sealed. With the first record of the generation and after an advance,
 * @slot->need_derive asks the caller to schedule cpns_tx_derive_ahead();
 * after an advance, @slot->epoch_threshold asks it to notify userspace.
 *
 * Return: 0; -ENOKEY when the generation is past its lifetime;
 * -EKEYEXPIRED when it is exhausted; -EBUSY when the epoch must move on but
 * the next epoch's keys are not derived yet (@slot->need_derive is set;
 * the record is not sent).
 */
int cpns_tx_next(struct cpns_tx_dir *tx, u64 now, struct cpns_tx_slot *slot)
{
	struct cpns_epoch_keys *keys;
	u64 start, ctr;
	u32 limit;
	int err;

	memset(slot, 0, sizeof(*slot));
	if (now >= tx->install + CPNS_GEN_LIFETIME_MS)
		return -ENOKEY;
	/* One value for the whole call, so the fast and slow paths agree. */
	limit = READ_ONCE(cpns_tx_epoch_records);

	for (;;) {
		/* A start time that belongs to epoch e + 1 is only visible
		 * once the counter has left epoch e, so the cmpxchg below
		 * can never succeed with the age of the wrong epoch.
		 */
		start = READ_ONCE(tx->epoch_start);
		smp_rmb();	/* start time before counter; pairs with the advance */
		ctr = atomic64_read(&tx->ctr);
		keys = rcu_dereference(tx->cur);

		if (keys->epoch == CPNS_TX_EPOCH(ctr) &&
		    CPNS_TX_SEQ(ctr) < limit &&
		    now < start + CPNS_EPOCH_AGE_MS) {
			if (!atomic64_try_cmpxchg(&tx->ctr, &ctr, ctr + 1))
				continue;
			slot->keys = keys;
			slot->epoch = keys->epoch;
			slot->seq = CPNS_TX_SEQ(ctr);
			/* Only epoch 0 starts here (advances are the slow
			 * path's): the direction sends, so epoch 1 is due.
			 */
			slot->need_derive = !slot->seq;
			return 0;
		}

		spin_lock_bh(&tx->lock);
		err = cpns_tx_next_slow(tx, now, limit, slot);
		spin_unlock_bh(&tx->lock);
		if (err != -EAGAIN)
			return err;
	}
}

/**
 * cpns_tx_destroy() - free the transmit direction
 * @tx: the direction; unreachable for the packet path: never published,
 *	or its generation's RCU grace period has passed
 *
 * Frees the keys (cpns_epoch_keys_release(): a seal still running keeps
 * its own) and the chain secret at once. Process context.
 */
void cpns_tx_destroy(struct cpns_tx_dir *tx)
{
	cpns_epoch_keys_release(rcu_replace_pointer(tx->cur, NULL, true));
	cpns_epoch_keys_release(rcu_replace_pointer(tx->next, NULL, true));
	kfree_sensitive(tx->chain);
	tx->chain = NULL;
}

/* ---- receive ---------------------------------------------------------- */

/* Epoch fields of an rx direction, as one consistent snapshot. */
struct cpns_rx_snap {
	u8	cur;
	u8	prev;
	bool	has_prev;
	u8	cur_win;
	u64	prev_expiry;
};

static void cpns_rx_snap(struct cpns_rx_dir *rx, struct cpns_rx_snap *s)
{
	unsigned int seq;

	do {
		seq = read_seqcount_begin(&rx->seqc);
		s->cur = rx->cur;
		s->prev = rx->prev;
		s->has_prev = rx->has_prev;
		s->cur_win = rx->cur_win;
		s->prev_expiry = rx->prev_expiry;
	} while (read_seqcount_retry(&rx->seqc, seq));
}

/* Step 8a (2.8): is @epoch acceptable, and is it cur, prev or ahead? */
enum cpns_rx_kind { CPNS_RX_CUR, CPNS_RX_PREV, CPNS_RX_AHEAD, CPNS_RX_BAD };

static enum cpns_rx_kind cpns_rx_kind(const struct cpns_rx_snap *s, u8 epoch,
				      u64 now)
{
	if (epoch == s->cur)
		return CPNS_RX_CUR;
	if (s->has_prev && epoch == s->prev && now < s->prev_expiry)
		return CPNS_RX_PREV;
	if (epoch > s->cur && epoch <= s->cur + CPNS_EPOCH_AHEAD)
		return CPNS_RX_AHEAD;
	return CPNS_RX_BAD;
}

/* The window of an epoch of kind CPNS_RX_CUR or CPNS_RX_PREV. */
static struct cpns_replay *cpns_rx_win(struct cpns_rx_ext *ext,
				       const struct cpns_rx_snap *s,
				       enum cpns_rx_kind kind)
{
	return &ext->win[kind == CPNS_RX_CUR ? s->cur_win : !s->cur_win];
}

/* The key slot of @epoch; NULL for a later epoch while there is no @ext. */
static struct cpns_epoch_keys __rcu **cpns_rx_slot(struct cpns_rx_dir *rx,
						   struct cpns_rx_ext *ext,
						   u8 epoch)
{
	if (epoch < CPNS_RX_FIRST_EPOCHS)
		return &rx->first[epoch];
	return ext ? &ext->keys[epoch % CPNS_RX_KEY_SLOTS] : NULL;
}

static struct cpns_rx_ext *cpns_rx_ext_peek(struct cpns_rx_dir *rx)
{
	/* Pairs with the cmpxchg() in cpns_rx_ext_get(): whoever sees the
	 * pointer sees empty windows and slots behind it.
	 */
	return smp_load_acquire(&rx->ext);
}

/* The direction's windows and later key slots, allocated with @gfp when
 * missing; NULL when that fails. Any context with a matching @gfp.
 */
static struct cpns_rx_ext *cpns_rx_ext_get(struct cpns_rx_dir *rx, gfp_t gfp)
{
	struct cpns_rx_ext *ext = cpns_rx_ext_peek(rx), *old;

	if (ext)
		return ext;
	/* Zeroed: both windows empty (cpns_replay_init()), no keys. */
	ext = kzalloc(sizeof(*ext), gfp | __GFP_NOWARN);
	if (!ext)
		return NULL;
	old = cmpxchg(&rx->ext, NULL, ext);
	if (old) {
		kfree(ext);
		return old;
	}
	return ext;
}

/* Keys of @epoch if derived; under RCU or @rx->lock. */
static struct cpns_epoch_keys *cpns_rx_keys(struct cpns_rx_dir *rx,
					    struct cpns_rx_ext *ext, u8 epoch)
{
	struct cpns_epoch_keys __rcu **slot = cpns_rx_slot(rx, ext, epoch);
	struct cpns_epoch_keys *keys;

	if (!slot)
		return NULL;
	keys = rcu_dereference_check(*slot, lockdep_is_held(&rx->lock));
	return keys && keys->epoch == epoch ? keys : NULL;
}

/* The SHOULD of 2.8 for a direction with traffic: cur + 1 and cur + 2
 * derived. Under @rx->lock.
 */
static bool cpns_rx_ahead_missing(struct cpns_rx_dir *rx,
				  struct cpns_rx_ext *ext)
{
	unsigned int e, last = min_t(unsigned int, rx->cur + 2,
				     CPNS_EPOCH_MAX);

	for (e = rx->cur + 1; e <= last; e++)
		if (!cpns_rx_keys(rx, ext, e))
			return true;
	return false;
}

/**
 * cpns_rx_init() - set up the receive direction of a new generation
 * @rx: the direction, embedded in the generation
 * @suite: CPNS_SUITE_AES256GCM or CPNS_SUITE_CHACHA20POLY1305
 * @ts0: epoch 0 traffic secret; not kept (the caller wipes its own copy)
 *
 * cur = 0, no prev; derives the keys of epochs 0 and 1 (2.8: cur + 1 must
 * be ready before the generation is used). Windows and cur + 2 follow
 * with traffic. Process context; may sleep.
 *
 * Return: 0 or a negative errno; on failure nothing is left to destroy.
 */
int cpns_rx_init(struct cpns_rx_dir *rx, u8 suite,
		 const u8 ts0[CPNS_SECRET_LEN])
{
	struct cpns_epoch_keys *keys;
	unsigned int i;
	int err;

	spin_lock_init(&rx->lock);
	seqcount_spinlock_init(&rx->seqc, &rx->lock);
	rx->cur = 0;
	rx->prev = 0;
	rx->has_prev = false;
	rx->cur_win = 0;
	rx->suite = suite;
	atomic_set(&rx->want, 0);
	rx->prev_expiry = 0;
	for (i = 0; i < CPNS_RX_FIRST_EPOCHS; i++)
		RCU_INIT_POINTER(rx->first[i], NULL);
	rx->ext = NULL;
	rx->chain = cpns_chain_new(ts0);
	if (!rx->chain)
		return -ENOMEM;

	for (i = 0; i < CPNS_RX_FIRST_EPOCHS; i++) {
		keys = cpns_chain_next(suite, &rx->chain);
		if (IS_ERR(keys)) {
			err = PTR_ERR(keys);
			goto err_free_keys;
		}
		RCU_INIT_POINTER(rx->first[i], keys);
	}
	return 0;

err_free_keys:
	for (i = 0; i < CPNS_RX_FIRST_EPOCHS; i++)
		cpns_epoch_keys_release(rcu_replace_pointer(rx->first[i], NULL,
							    true));
	kfree_sensitive(rx->chain);
	rx->chain = NULL;
	return err;
}

/**
 * cpns_rx_derive_ahead() - derive the keys the receiver should hold
 * @rx: the direction
 *
 * Derives up to max(cur + 2, highest pending epoch + 1), never beyond
 * cur + 8 or 255 (2.8), and allocates the direction's windows if a record
 * could not. Call from process context after cpns_rx_check() or
 * cpns_rx_commit() set @need_derive; calls for one direction must not
 * overlap. May sleep.
 *
 * Return: 0 or a negative errno (retry later).
 */
int cpns_rx_derive_ahead(struct cpns_rx_dir *rx)
{
	struct cpns_epoch_keys __rcu **slot;
	struct cpns_epoch_keys *keys;
	unsigned int cur, target;
	struct cpns_rx_ext *ext;

	ext = cpns_rx_ext_get(rx, GFP_KERNEL_ACCOUNT);
	if (!ext)
		return -ENOMEM;

	for (;;) {
		cur = READ_ONCE(rx->cur);
		target = max_t(unsigned int, cur + 2,
			       atomic_read(&rx->want) + 1);
		target = min_t(unsigned int, target,
			       min(cur + CPNS_EPOCH_AHEAD, CPNS_EPOCH_MAX));
		/* cur only moves to epochs with keys, so the chain is
		 * always above cur and nothing below it is derived.
		 */
		if (!rx->chain || rx->chain->epoch > target)
			return 0;

		keys = cpns_chain_next(rx->suite, &rx->chain);
		if (IS_ERR(keys))
			return PTR_ERR(keys);

		spin_lock_bh(&rx->lock);
		if (keys->epoch > rx->cur) {
			slot = cpns_rx_slot(rx, ext, keys->epoch);
			keys = rcu_replace_pointer(*slot, keys,
						   lockdep_is_held(&rx->lock));
		}
		spin_unlock_bh(&rx->lock);
		/* Keys overtaken by cur, or (never expected) a stale slot. */
		cpns_epoch_keys_free(keys);
	}
}

static void cpns_rx_want(struct cpns_rx_dir *rx, u8 epoch)
{
	int want = atomic_read(&rx->want);

	while (want < epoch && !atomic_try_cmpxchg(&rx->want, &want, epoch))
		;
}

/**
 * cpns_rx_check() - receive steps 8a, 8b, 9 and 10
 * @rx: the direction of the record's generation
 * @epoch: the record's epoch
 * @seq: the record's seq
 * @now: current time, ms
 * @t: on CPNS_DROP_NONE, the keys to open with; on EPOCH_PENDING,
 *	@t->need_derive asks the caller to schedule cpns_rx_derive_ahead()
 *
 * Changes no receive state, except that the first record to get this far
 * allocates the direction's windows (GFP_ATOMIC; when that fails the
 * record is dropped EPOCH_PENDING and cpns_rx_derive_ahead() allocates
 * them). Lockless; never sleeps. The caller holds rcu_read_lock() until
 * the record is opened.
 *
 * Return: CPNS_DROP_NONE, CPNS_DROP_EPOCH, CPNS_DROP_EPOCH_PENDING,
 * CPNS_DROP_SEQ_LIMIT, CPNS_DROP_REPLAY or CPNS_DROP_TOO_OLD.
 */
enum cpns_drop cpns_rx_check(struct cpns_rx_dir *rx, u8 epoch, u64 seq,
			     u64 now, struct cpns_rx_ticket *t)
{
	struct cpns_epoch_keys *keys;
	enum cpns_rx_kind kind;
	struct cpns_rx_ext *ext;
	struct cpns_rx_snap s;
	enum cpns_drop drop;

	t->keys = NULL;
	t->need_derive = false;

	cpns_rx_snap(rx, &s);
	kind = cpns_rx_kind(&s, epoch, now);
	if (kind == CPNS_RX_BAD)
		return CPNS_DROP_EPOCH;

	ext = cpns_rx_ext_peek(rx);
	keys = cpns_rx_keys(rx, ext, epoch);
	if (!keys) {
		cpns_rx_want(rx, epoch);
		t->need_derive = true;
		return CPNS_DROP_EPOCH_PENDING;
	}

	if (seq >= CPNS_SEQ_HARD_LIMIT)
		return CPNS_DROP_SEQ_LIMIT;

	if (!ext) {
		ext = cpns_rx_ext_get(rx, GFP_ATOMIC);
		if (!ext) {
			t->need_derive = true;
			return CPNS_DROP_EPOCH_PENDING;
		}
	}
	if (kind != CPNS_RX_AHEAD) {
		drop = cpns_replay_check(cpns_rx_win(ext, &s, kind), seq);
		if (drop)
			return drop;
	}
	t->keys = keys;
	return CPNS_DROP_NONE;
}

/* Move cur to @epoch (> cur); prev = old cur. Under @rx->lock. */
static void cpns_rx_advance(struct cpns_rx_dir *rx, struct cpns_rx_ext *ext,
			    u8 epoch, u64 seq, u64 now)
{
	struct cpns_epoch_keys __rcu **slot;
	struct cpns_epoch_keys *keys;
	u8 old_cur = rx->cur;
	u8 win = !rx->cur_win;
	unsigned int e;

	write_seqcount_begin(&rx->seqc);
	/* The window of the old prev becomes the new epoch's, empty. */
	cpns_replay_init(&ext->win[win]);
	cpns_replay_update(&ext->win[win], seq);
	rx->prev = old_cur;
	rx->has_prev = true;
	rx->prev_expiry = now + CPNS_PREV_EPOCH_MS;
	rx->cur_win = win;
	rx->cur = epoch;
	write_seqcount_end(&rx->seqc);

	/* Erase every epoch below the new cur except the new prev. The old
	 * prev lies at most 8 below the old cur, so nothing older is held.
	 */
	for (e = max_t(unsigned int, old_cur, CPNS_EPOCH_AHEAD) -
		 CPNS_EPOCH_AHEAD; e < epoch; e++) {
		if (e == old_cur)
			continue;
		keys = cpns_rx_keys(rx, ext, e);
		if (!keys)
			continue;
		slot = cpns_rx_slot(rx, ext, e);
		RCU_INIT_POINTER(*slot, NULL);
		cpns_epoch_keys_free(keys);
	}
}

/**
 * cpns_rx_commit() - receive step 12 for an authenticated record
 * @rx: the direction
 * @epoch: the record's epoch
 * @seq: the record's seq
 * @now: current time, ms
 * @ev: what changed: @advanced, @need_derive (schedule
 *	cpns_rx_derive_ahead()) and @epoch_threshold (notify userspace)
 *
 * Atomically with every other commit of the direction: re-tests the epoch
 * (8a) and the replay window (10) against the current state, records seq,
 * and when the epoch is ahead of cur moves cur to it, keeping the old cur
 * as prev for 60 s and erasing everything older. Never sleeps; takes
 * @rx->lock with the _bh variant. Follows a cpns_rx_check() of the record
 * that passed; without one the windows may be missing (EPOCH_PENDING).
 *
 * Return: CPNS_DROP_NONE, CPNS_DROP_EPOCH, CPNS_DROP_EPOCH_PENDING,
 * CPNS_DROP_REPLAY or CPNS_DROP_TOO_OLD; on a drop nothing changed.
 */
enum cpns_drop cpns_rx_commit(struct cpns_rx_dir *rx, u8 epoch, u64 seq,
			      u64 now, struct cpns_rx_events *ev)
{
	struct cpns_rx_ext *ext = cpns_rx_ext_peek(rx);
	enum cpns_drop drop = CPNS_DROP_NONE;
	enum cpns_rx_kind kind;
	struct cpns_rx_snap s;
	u8 old_cur;

	ev->advanced = false;
	ev->need_derive = false;
	ev->epoch_threshold = false;
	if (!ext)
		return CPNS_DROP_EPOCH_PENDING;

	spin_lock_bh(&rx->lock);
	s.cur = rx->cur;
	s.prev = rx->prev;
	s.has_prev = rx->has_prev;
	s.cur_win = rx->cur_win;
	s.prev_expiry = rx->prev_expiry;
	kind = cpns_rx_kind(&s, epoch, now);
	if (kind == CPNS_RX_BAD) {
		drop = CPNS_DROP_EPOCH;
	} else if (kind != CPNS_RX_AHEAD) {
		drop = cpns_replay_update(cpns_rx_win(ext, &s, kind), seq);
	} else {
		old_cur = rx->cur;
		cpns_rx_advance(rx, ext, epoch, seq, now);
		ev->advanced = true;
		ev->epoch_threshold = old_cur < CPNS_REKEY_EPOCH &&
				      epoch >= CPNS_REKEY_EPOCH;
	}
	if (!drop)
		ev->need_derive = cpns_rx_ahead_missing(rx, ext);
	spin_unlock_bh(&rx->lock);
	return drop;
}

/**
 * cpns_rx_expire() - erase the previous epoch once its 60 s are over
 * @rx: the direction
 * @now: current time, ms
 *
 * For the periodic clean-up (2.13); the packet path already refuses an
 * expired prev by itself. Never sleeps.
 */
void cpns_rx_expire(struct cpns_rx_dir *rx, u64 now)
{
	struct cpns_rx_ext *ext = cpns_rx_ext_peek(rx);
	struct cpns_epoch_keys *keys = NULL;

	spin_lock_bh(&rx->lock);
	if (rx->has_prev && now >= rx->prev_expiry) {
		write_seqcount_begin(&rx->seqc);
		rx->has_prev = false;
		write_seqcount_end(&rx->seqc);
		keys = cpns_rx_keys(rx, ext, rx->prev);
		if (keys)
			RCU_INIT_POINTER(*cpns_rx_slot(rx, ext, rx->prev),
					 NULL);
	}
	spin_unlock_bh(&rx->lock);
	cpns_epoch_keys_free(keys);
}

/**
 * cpns_rx_destroy() - free the receive direction
 * @rx: the direction; unreachable for the packet path: never published,
 *	or its generation's RCU grace period has passed
 *
 * Frees the keys (cpns_epoch_keys_release(): an open still running keeps
 * its own), the windows and the chain secret at once. Process context.
 */
void cpns_rx_destroy(struct cpns_rx_dir *rx)
{
	struct cpns_rx_ext *ext = rx->ext;
	unsigned int i;

	for (i = 0; i < CPNS_RX_FIRST_EPOCHS; i++)
		cpns_epoch_keys_release(rcu_replace_pointer(rx->first[i], NULL,
							    true));
	if (ext) {
		for (i = 0; i < CPNS_RX_KEY_SLOTS; i++)
			cpns_epoch_keys_release(rcu_replace_pointer(ext->keys[i],
								    NULL, true));
		rx->ext = NULL;
		kfree(ext);
	}
	kfree_sensitive(rx->chain);
	rx->chain = NULL;
}

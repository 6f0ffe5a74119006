// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: sessions - pairs of (local, peer) entity IDs and their generations
 * (PROTOCOL.md 2.4, 2.10, 2.13, 13.2).
 *
 * A pair holds at most two generations. Which one the pair transmits on,
 * when a generation stops being valid and what an install erases are
 * decided by the pure functions cpns_pair_*() / cpns_gen_live() below,
 * which look only at the pair and a caller-supplied time, so the KUnit
 * suite (tests/session_test.c) drives them with injected time.
 *
 * Deadlines are checked against the clock on the packet path; one
 * periodic clean-up per namespace erases what is past its deadline (2.13).
 *
 * Lifetime of a generation: the pair slot holds one reference, a queued
 * derive work item another. Erasing unlinks it under cpns_net.lock and
 * cpns_pair.lock and drops the slot's reference; the last reference hands
 * it to a reaper that frees it, with the others gone meanwhile, after an
 * RCU grace period, because packet-path readers that found it may still
 * be using it.
 *
 * Memory of an idle generation (nothing sent or received yet): struct
 * cpns_gen from a cache of its own (no secrets in it: each direction's
 * chain secret, its epoch keys and the receive windows are allocations of
 * their own), the keys of transmit epoch 0 and receive epochs 0 and 1 -
 * each an AEAD transform - and the two chain secrets; and a struct
 * cpns_pair per pair. Traffic adds the receive windows and the keys
 * derived ahead. tools/testing/vm/bench-plan.sh measures it per suite.
 */
#include <linux/llist.h>
#include <linux/random.h>
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/netlink.h>

#include "cpns.h"

/* The old generation stays valid this long after the new one carried
 * traffic both ways (2.9, 2.10).
 */
#define CPNS_OLD_GEN_GRACE_MS	(60ULL * MSEC_PER_SEC)
/* Period of the clean-up; erasure may lag a deadline by at most 10 s. */
#define CPNS_CLEANUP_PERIOD	(5 * HZ)

static struct workqueue_struct *cpns_wq;
/* Generations have a cache of their own: their size is no power of two. */
static struct kmem_cache *cpns_gen_cache;

static const struct rhashtable_params cpns_pair_params = {
	.key_len = sizeof(struct cpns_pair_key),
	.key_offset = offsetof(struct cpns_pair, key),
	.head_offset = offsetof(struct cpns_pair, node),
	.automatic_shrinking = true,
};

#define cpns_pair_deref(p, ptr)						\
	rcu_dereference_check(ptr, lockdep_is_held(&(p)->lock) ||	\
				   rcu_read_lock_bh_held())

/* ---- decision logic (2.10, 2.13) -------------------------------------- */

/**
 * cpns_pair_other() - the other generation of a pair
 * @p: the pair; its lock held or inside an RCU read-side section
 * @g: one of its generations
 *
 * Return: the generation in the other slot, or NULL.
 */
struct cpns_gen *cpns_pair_other(struct cpns_pair *p, struct cpns_gen *g)
{
	struct cpns_gen *a = cpns_pair_deref(p, p->gens[0]);

	return a == g ? cpns_pair_deref(p, p->gens[1]) : a;
}

/**
 * cpns_gen_live() - may a generation be used at @now?
 * @p: its pair; lock held or RCU
 * @g: the generation
 * @now: current time, ms
 *
 * A generation is valid until its lifetime ends and, when a newer
 * generation of the pair has carried traffic both ways, until 60 s after
 * that moment (2.10).
 *
 * Return: true while it is valid.
 */
bool cpns_gen_live(struct cpns_pair *p, struct cpns_gen *g, u64 now)
{
	struct cpns_gen *o;
	u64 bw;

	if (now >= g->tx.install + CPNS_GEN_LIFETIME_MS)
		return false;
	o = cpns_pair_other(p, g);
	if (o && o->order > g->order) {
		bw = READ_ONCE(o->both_ways_at);
		if (bw != U64_MAX && now >= bw + CPNS_OLD_GEN_GRACE_MS)
			return false;
	}
	return true;
}

/**
 * cpns_pair_erase_cause() - is a generation past its deadline?
 * @p: its pair; lock held
 * @g: the generation
 * @now: current time, ms
 *
 * Return: 0 while it is valid, else CPNS_ERASE_LIFETIME or
 * CPNS_ERASE_SUPERSEDED.
 */
int cpns_pair_erase_cause(struct cpns_pair *p, struct cpns_gen *g, u64 now)
{
	if (now >= g->tx.install + CPNS_GEN_LIFETIME_MS)
		return CPNS_ERASE_LIFETIME;
	return cpns_gen_live(p, g, now) ? 0 : CPNS_ERASE_SUPERSEDED;
}

/**
 * cpns_pair_tx_pick() - the generation the pair transmits on at @now
 * @p: the pair; lock held
 * @now: current time, ms
 * @switched: set when transmission moved to another generation
 *
 * When the transmit generation's lifetime has ended and a newer one still
 * waits for its first authenticated record, transmission moves to the
 * newer one at that moment (2.10).
 *
 * Return: the generation, or NULL (nothing may transmit).
 */
struct cpns_gen *cpns_pair_tx_pick(struct cpns_pair *p, u64 now,
				   bool *switched)
{
	struct cpns_gen *g = cpns_pair_deref(p, p->tx), *o;

	*switched = false;
	if (!g)
		return NULL;
	if (cpns_gen_live(p, g, now))
		return g;
	o = cpns_pair_other(p, g);
	if (o && o->order > g->order && cpns_gen_live(p, o, now)) {
		rcu_assign_pointer(p->tx, o);
		*switched = true;
		return o;
	}
	return NULL;
}

/**
 * cpns_pair_detach() - take a generation out of its pair
 * @p: the pair; lock held
 * @g: the generation
 * @cause: why
 * @now: current time, ms
 *
 * Marks @g dead. If the pair transmitted on @g and @g's lifetime ended, a newer valid
 * generation takes over transmission (2.10); otherwise nothing transmits
 * until a generation is confirmed.
 *
 * Return: true when transmission moved to the other generation.
 */
bool cpns_pair_detach(struct cpns_pair *p, struct cpns_gen *g,
		      enum cpns_erase_cause cause, u64 now)
{
	struct cpns_gen *o = cpns_pair_other(p, g);
	bool switched = false;
	int i;

	for (i = 0; i < ARRAY_SIZE(p->gens); i++)
		if (cpns_pair_deref(p, p->gens[i]) == g)
			RCU_INIT_POINTER(p->gens[i], NULL);
	/* Under the pair lock, so that cpns_gen_rx_done() of a reader that
	 * still holds @g can never make it the transmit generation again.
	 */
	set_bit(CPNS_GEN_DEAD, &g->flags);
	if (cpns_pair_deref(p, p->tx) != g)
		return false;
	if (cause == CPNS_ERASE_LIFETIME && o && o->order > g->order &&
	    cpns_gen_live(p, o, now)) {
		rcu_assign_pointer(p->tx, o);
		switched = true;
	} else {
		RCU_INIT_POINTER(p->tx, NULL);
	}
	return switched;
}

/**
 * cpns_pair_attach() - add a new generation to its pair (2.10)
 * @p: the pair; lock held
 * @g: the new generation, not yet visible
 * @now: current time, ms
 * @cause: set to the reason when a generation is erased to make room
 *
 * A generation with the same number is replaced; otherwise, with two
 * generations held, the older one is erased (the cap). An immediate
 * generation becomes the pair's transmit generation at once.
 *
 * Return: the generation taken out (the caller erases it), or NULL.
 */
struct cpns_gen *cpns_pair_attach(struct cpns_pair *p, struct cpns_gen *g,
				  u64 now, enum cpns_erase_cause *cause)
{
	struct cpns_gen *a = cpns_pair_deref(p, p->gens[0]);
	struct cpns_gen *b = cpns_pair_deref(p, p->gens[1]);
	struct cpns_gen *victim = NULL;

	if (a && a->generation == g->generation) {
		victim = a;
		*cause = CPNS_ERASE_REPLACED;
	} else if (b && b->generation == g->generation) {
		victim = b;
		*cause = CPNS_ERASE_REPLACED;
	} else if (a && b) {
		victim = a->order < b->order ? a : b;
		*cause = CPNS_ERASE_CAP;
	}
	if (victim)
		cpns_pair_detach(p, victim, *cause, now);

	g->pair = p;
	g->order = p->next_order++;
	g->both_ways_at = U64_MAX;
	if (!rcu_access_pointer(p->gens[0]))
		rcu_assign_pointer(p->gens[0], g);
	else
		rcu_assign_pointer(p->gens[1], g);
	if (g->tx_mode == CPNS_TX_IMMEDIATE)
		rcu_assign_pointer(p->tx, g);
	return victim;
}

/**
 * cpns_pair_mark_sent() - a record was sent on @g
 * @p: the pair; lock held
 * @g: the generation
 * @now: current time, ms
 */
void cpns_pair_mark_sent(struct cpns_pair *p, struct cpns_gen *g, u64 now)
{
	if (test_and_set_bit(CPNS_GEN_SENT, &g->flags))
		return;
	if (test_bit(CPNS_GEN_RECEIVED, &g->flags))
		WRITE_ONCE(g->both_ways_at, now);
}

/**
 * cpns_pair_mark_received() - a record on @g passed step 12
 * @p: the pair; lock held
 * @g: the generation
 * @now: current time, ms
 *
 * The first authenticated record on a generation newer than the transmit
 * generation (or when there is none) moves transmission to it (2.10).
 *
 * Return: true when transmission moved to @g.
 */
bool cpns_pair_mark_received(struct cpns_pair *p, struct cpns_gen *g,
			     u64 now)
{
	struct cpns_gen *tx;

	if (test_and_set_bit(CPNS_GEN_RECEIVED, &g->flags))
		return false;
	if (test_bit(CPNS_GEN_SENT, &g->flags))
		WRITE_ONCE(g->both_ways_at, now);
	tx = cpns_pair_deref(p, p->tx);
	if (tx == g || (tx && tx->order > g->order))
		return false;
	rcu_assign_pointer(p->tx, g);
	return true;
}

/* ---- packet path ------------------------------------------------------ */

static struct cpns_pair *cpns_pair_lookup(struct cpns_net *cn,
					  const u8 local[CPNS_ID_LEN],
					  const u8 peer[CPNS_ID_LEN])
{
	struct cpns_pair_key key;

	memcpy(key.local, local, CPNS_ID_LEN);
	memcpy(key.peer, peer, CPNS_ID_LEN);
	return rhashtable_lookup(&cn->ctl.pairs, &key, cpns_pair_params);
}

/**
 * cpns_gen_tx() - the generation to send on (2.10, 13.5)
 * @cn: the namespace
 * @local: source entity ID
 * @peer: destination entity ID
 * @generation: 0 for the pair's transmit generation, else the generation
 *	the sender names; it must be the transmit generation
 * @now: current time, ms
 * @err: -ENOKEY or -EKEYEXPIRED when NULL is returned
 *
 * Inside rcu_read_lock(), any context.
 *
 * Return: the generation, or NULL.
 */
struct cpns_gen *cpns_gen_tx(struct cpns_net *cn, const u8 local[CPNS_ID_LEN],
			     const u8 peer[CPNS_ID_LEN], u8 generation,
			     u64 now, int *err)
{
	struct cpns_pair *p = cpns_pair_lookup(cn, local, peer);
	struct cpns_gen *g;
	bool switched = false;

	*err = -ENOKEY;
	if (!p)
		return NULL;
	g = rcu_dereference(p->tx);
	if (!g || !cpns_gen_live(p, g, now)) {
		spin_lock_bh(&p->lock);
		g = cpns_pair_tx_pick(p, now, &switched);
		spin_unlock_bh(&p->lock);
		if (switched)
			cpns_nl_notify_tx_switched(cn, g);
	}
	if (!g || (generation && g->generation != generation))
		return NULL;
	if (READ_ONCE(g->tx.exhausted)) {
		*err = -EKEYEXPIRED;
		return NULL;
	}
	*err = 0;
	return g;
}

/**
 * cpns_gen_rx() - step 7a: the receive state of a record
 * @cn: the namespace
 * @src: the record's source (the peer)
 * @dst: the record's destination (a local ID)
 * @generation: the record's generation
 * @now: current time, ms
 *
 * Inside rcu_read_lock(), any context.
 *
 * Return: the generation if it exists and is valid at @now, else NULL.
 */
struct cpns_gen *cpns_gen_rx(struct cpns_net *cn, const u8 src[CPNS_ID_LEN],
			     const u8 dst[CPNS_ID_LEN], u8 generation, u64 now)
{
	struct cpns_pair *p = cpns_pair_lookup(cn, dst, src);
	struct cpns_gen *g;
	int i;

	if (!p)
		return NULL;
	for (i = 0; i < ARRAY_SIZE(p->gens); i++) {
		g = rcu_dereference(p->gens[i]);
		if (g && g->generation == generation)
			return cpns_gen_live(p, g, now) ? g : NULL;
	}
	return NULL;
}

static void cpns_gen_count(struct cpns_gen *g, enum cpns_gen_stat s, u64 n)
{
	atomic64_add(n, &g->stats[s]);
}

/**
 * cpns_gen_tx_done() - bookkeeping after cpns_tx_next() reserved a slot
 * @cn: the namespace
 * @g: the generation
 * @slot: what cpns_tx_next() reserved
 * @bytes: payload bytes
 * @now: current time, ms
 * @sent: the record left; false when sealing or transmitting it failed
 *
 * The slot's consequences (derive the next epoch's keys, the epoch
 * threshold notification) follow from the reservation, sent or not; the
 * counters and "this generation sent" only from a record that left.
 *
 * Inside rcu_read_lock(), any context.
 */
void cpns_gen_tx_done(struct cpns_net *cn, struct cpns_gen *g,
		      const struct cpns_tx_slot *slot, size_t bytes, u64 now,
		      bool sent)
{
	struct cpns_pair *p = g->pair;

	if (!sent)
		goto slot;
	cpns_gen_count(g, CPNS_GS_TX_RECORDS, 1);
	cpns_gen_count(g, CPNS_GS_TX_BYTES, bytes);
	if (!test_bit(CPNS_GEN_SENT, &g->flags)) {
		spin_lock_bh(&p->lock);
		cpns_pair_mark_sent(p, g, now);
		spin_unlock_bh(&p->lock);
	}
slot:
	if (slot->need_derive)
		cpns_gen_need_derive(g);
	if (slot->epoch_threshold)
		cpns_nl_notify_epoch(cn, g, CPNS_DIR_TX, slot->epoch);
}

/**
 * cpns_gen_rx_done() - bookkeeping after a record on @g passed step 12
 * @cn: the namespace
 * @g: the generation
 * @ev: what cpns_rx_commit() reported
 * @epoch: the record's epoch
 * @bytes: payload bytes
 * @now: current time, ms
 *
 * Inside rcu_read_lock(), any context.
 */
void cpns_gen_rx_done(struct cpns_net *cn, struct cpns_gen *g,
		      const struct cpns_rx_events *ev, u8 epoch, size_t bytes,
		      u64 now)
{
	struct cpns_pair *p = g->pair;
	bool switched = false;

	cpns_gen_count(g, CPNS_GS_RX_RECORDS, 1);
	cpns_gen_count(g, CPNS_GS_RX_BYTES, bytes);
	if (!test_bit(CPNS_GEN_RECEIVED, &g->flags)) {
		spin_lock_bh(&p->lock);
		/* Not if it was erased meanwhile. */
		if (!test_bit(CPNS_GEN_DEAD, &g->flags))
			switched = cpns_pair_mark_received(p, g, now);
		spin_unlock_bh(&p->lock);
	}
	if (switched)
		cpns_nl_notify_tx_switched(cn, g);
	if (ev->need_derive)
		cpns_gen_need_derive(g);
	if (ev->epoch_threshold)
		cpns_nl_notify_epoch(cn, g, CPNS_DIR_RX, epoch);
}

/**
 * cpns_gen_drop() - count a drop attributed to a generation
 * @g: the generation
 * @reason: CPNS_STAT_DROP_SUITE_MISMATCH .. CPNS_STAT_DROP_NO_PORT
 *
 * Any context.
 */
void cpns_gen_drop(struct cpns_gen *g, enum cpns_stat reason)
{
	if (reason < CPNS_STAT_DROP_SUITE_MISMATCH ||
	    reason > CPNS_STAT_DROP_NO_PORT)
		return;
	cpns_gen_count(g, CPNS_GS_DROP_FIRST + reason -
		       CPNS_STAT_DROP_SUITE_MISMATCH, 1);
}

/* ---- lifetime of a generation ----------------------------------------- */

/*
 * Generations whose last reference is gone, for the reaper: it takes them
 * all, waits for one grace period and frees them in process context (the
 * quota's uncharge sleeps). One wait and one worker's turn serve a batch;
 * a server replaces a generation at every authentication, and a
 * call_rcu() callback and a work item for each cost it a softirq's and a
 * worker's turn on its CPU every time.
 */
static LLIST_HEAD(cpns_gen_dead);
static void cpns_gen_reap(struct work_struct *work);
static DECLARE_DELAYED_WORK(cpns_gen_reaper, cpns_gen_reap);

/* How long the first of a batch waits for the reaper, before the grace
 * period.
 */
#define CPNS_GEN_REAP_DELAY	(HZ / 50)

static void cpns_gen_reap(struct work_struct *work)
{
	struct llist_node *dead = llist_del_all(&cpns_gen_dead);
	struct cpns_gen *g, *next;

	if (!dead)
		return;
	/* Each was unreachable before it joined the list: a grace period
	 * that begins now ends after every reader that found one.
	 */
	synchronize_rcu();
	llist_for_each_entry_safe(g, next, dead, dead) {
		cpns_tx_destroy(&g->tx);
		cpns_rx_destroy(&g->rx);
		cpns_quota_uncharge(g->quota_uid);
		kmem_cache_free(cpns_gen_cache, g);
		cond_resched();	/* a namespace's teardown frees them all */
	}
}

static void cpns_gen_release(struct kref *ref)
{
	struct cpns_gen *g = container_of(ref, struct cpns_gen, ref);

	/* The first since the reaper emptied the list schedules it. */
	if (llist_add(&g->dead, &cpns_gen_dead))
		queue_delayed_work(cpns_wq, &cpns_gen_reaper,
				   CPNS_GEN_REAP_DELAY);
}

static void cpns_gen_put(struct cpns_gen *g)
{
	might_sleep();
	kref_put(&g->ref, cpns_gen_release);
}

/**
 * cpns_gen_hold() - keep a generation for a seal or open that finishes later
 * @g: the generation, found under rcu_read_lock()
 *
 * Return: true with a reference the caller drops with cpns_gen_unhold(),
 * false if the last reference is already gone.
 */
bool cpns_gen_hold(struct cpns_gen *g)
{
	return kref_get_unless_zero(&g->ref);
}

/**
 * cpns_gen_unhold() - drop the reference of cpns_gen_hold()
 * @g: the generation
 *
 * Any context: the last reference only schedules the free.
 */
void cpns_gen_unhold(struct cpns_gen *g)
{
	kref_put(&g->ref, cpns_gen_release);
}

static void cpns_gen_derive_work(struct work_struct *work)
{
	struct cpns_gen *g = container_of(work, struct cpns_gen, derive);

	clear_bit(CPNS_GEN_DERIVE, &g->flags);
	/* The bit is clear before the keys are looked at: a request made
	 * after this derivation read its state queues the work again
	 * (pairs with the test_and_set_bit() of cpns_gen_need_derive()).
	 */
	smp_mb__after_atomic();
	if (!test_bit(CPNS_GEN_DEAD, &g->flags)) {
		/* A failure is retried when the packet path asks again. */
		cpns_tx_derive_ahead(&g->tx);
		cpns_rx_derive_ahead(&g->rx);
	}
	cpns_gen_put(g);
}

/**
 * cpns_gen_need_derive() - have keys derived ahead for @g
 * @g: the generation
 *
 * Inside rcu_read_lock(), any context. The derive work item holds a
 * reference, so the last reference is never dropped here.
 */
void cpns_gen_need_derive(struct cpns_gen *g)
{
	if (test_bit(CPNS_GEN_DEAD, &g->flags) ||
	    test_and_set_bit(CPNS_GEN_DERIVE, &g->flags))
		return;
	if (!kref_get_unless_zero(&g->ref)) {
		clear_bit(CPNS_GEN_DERIVE, &g->flags);
		return;
	}
	/* Owning the DERIVE bit means the work is not pending. */
	queue_work(cpns_wq, &g->derive);
}

/* ---- control side ----------------------------------------------------- */

/* Unlink @g from @p and drop the slot's reference; cpns_net.lock held. */
static void cpns_gen_erase(struct cpns_net *cn, struct cpns_pair *p,
			   struct cpns_gen *g, enum cpns_erase_cause cause,
			   u64 now)
{
	struct cpns_gen *tx = NULL;
	bool switched;

	lockdep_assert_held(&cn->lock);
	spin_lock_bh(&p->lock);
	switched = cpns_pair_detach(p, g, cause, now);
	if (switched)
		tx = rcu_dereference_protected(p->tx,
					       lockdep_is_held(&p->lock));
	spin_unlock_bh(&p->lock);
	cn->ctl.dump_gen++;
	cpns_nl_notify_erased(cn, g, cause);
	if (switched)
		cpns_nl_notify_tx_switched(cn, tx);
	cpns_gen_put(g);
}

static bool cpns_pair_empty(struct cpns_pair *p)
{
	return !rcu_access_pointer(p->gens[0]) &&
	       !rcu_access_pointer(p->gens[1]);
}

static void cpns_pair_unlink(struct cpns_net *cn, struct cpns_pair *p)
{
	rhashtable_remove_fast(&cn->ctl.pairs, &p->node, cpns_pair_params);
	list_del(&p->list);
	cn->ctl.n_pairs--;
	cn->ctl.dump_gen++;
	kfree_rcu(p, rcu);
}

/* Erase every generation of @p and the pair itself; cpns_net.lock held. */
static void cpns_pair_erase(struct cpns_net *cn, struct cpns_pair *p,
			    enum cpns_erase_cause cause, u64 now)
{
	struct cpns_gen *g;
	int i;

	for (i = 0; i < ARRAY_SIZE(p->gens); i++) {
		g = rcu_dereference_protected(p->gens[i],
					      lockdep_is_held(&cn->lock));
		if (g)
			cpns_gen_erase(cn, p, g, cause, now);
	}
	cpns_pair_unlink(cn, p);
}

/**
 * cpns_pair_find() - look up a pair
 * @cn: the namespace; cpns_net.lock held or RCU
 * @key: (local, peer)
 *
 * Return: the pair or NULL.
 */
struct cpns_pair *cpns_pair_find(struct cpns_net *cn,
				 const struct cpns_pair_key *key)
{
	return rhashtable_lookup_fast(&cn->ctl.pairs, key, cpns_pair_params);
}

static struct cpns_pair *cpns_pair_get_or_create(struct cpns_net *cn,
						 const struct cpns_pair_key *key,
						 struct netlink_ext_ack *extack)
{
	struct cpns_pair *p;
	int err;

	p = cpns_pair_find(cn, key);
	if (p)
		return p;
	if (cn->ctl.n_pairs >= CPNS_MAX_PAIRS) {
		NL_SET_ERR_MSG_MOD(extack, "too many sessions");
		return ERR_PTR(-ENOSPC);
	}
	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p) {
		NL_SET_ERR_MSG_MOD(extack, "cannot add the pair");
		return ERR_PTR(-ENOMEM);
	}
	p->key = *key;
	p->cn = cn;
	spin_lock_init(&p->lock);
	err = rhashtable_insert_fast(&cn->ctl.pairs, &p->node,
				     cpns_pair_params);
	if (err) {
		kfree(p);
		NL_SET_ERR_MSG_MOD(extack, "cannot add the pair");
		return ERR_PTR(err);
	}
	list_add_tail(&p->list, &cn->ctl.pair_list);
	cn->ctl.n_pairs++;
	if (cn->ctl.n_pairs == 1 && !cn->ctl.dying)
		queue_delayed_work(cpns_wq, &cn->ctl.cleanup,
				   CPNS_CLEANUP_PERIOD);
	return p;
}

/**
 * cpns_session_new() - install a generation (2.4, 13.2)
 * @cn: the namespace; cpns_net.lock held
 * @conf: install parameters; the caller wipes the secrets afterwards
 * @now: install time, ms
 * @extack: error report
 *
 * Derives the keys of epoch 0 of both directions and of receive epoch 1
 * before the generation becomes visible, then applies the replacement and
 * cap rules of 2.10. An AES-256-GCM generation in a namespace of a user
 * namespace other than the initial one counts against the user's
 * unpriv_aes_sessions until it is freed (quota.c).
 *
 * Return: 0 or a negative errno (-EDQUOT: that user's limit); on failure
 * nothing changed.
 */
int cpns_session_new(struct cpns_net *cn, struct cpns_gen_conf *conf, u64 now,
		     struct netlink_ext_ack *extack)
{
	enum cpns_erase_cause cause;
	struct cpns_gen *g, *victim;
	struct cpns_pair *p;
	int err;

	lockdep_assert_held(&cn->lock);
	if (!cpns_local_id_is_local(cn, conf->key.local)) {
		NL_SET_ERR_MSG_MOD(extack, "local ID is not configured");
		return -EADDRNOTAVAIL;
	}

	g = kmem_cache_zalloc(cpns_gen_cache, GFP_KERNEL_ACCOUNT);
	if (!g) {
		NL_SET_ERR_MSG_MOD(extack, "cannot add the generation");
		return -ENOMEM;
	}
	g->suite = conf->suite;
	g->generation = conf->generation;
	g->role = conf->role;
	g->tx_mode = conf->tx_mode;
	kref_init(&g->ref);
	INIT_WORK(&g->derive, cpns_gen_derive_work);
	g->quota_uid = INVALID_UID;
	if (conf->suite == CPNS_SUITE_AES256GCM) {
		err = cpns_quota_charge(cn->net, &g->quota_uid);
		if (err == -EDQUOT)
			NL_SET_ERR_MSG_MOD(extack,
					   "AES-256-GCM sessions of this namespace's user at the limit (module parameter unpriv_aes_sessions)");
		if (err == -ENOMEM)
			NL_SET_ERR_MSG_MOD(extack, "cannot add the generation");
		if (err)
			goto err_free_gen;
	}
	err = cpns_tx_init(&g->tx, conf->suite, conf->tx_secret, now);
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "cannot set up the generation's keys");
		goto err_uncharge;
	}
	err = cpns_rx_init(&g->rx, conf->suite, conf->rx_secret);
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "cannot set up the generation's keys");
		goto err_destroy_tx;
	}

	p = cpns_pair_get_or_create(cn, &conf->key, extack);
	if (IS_ERR(p)) {
		err = PTR_ERR(p);
		goto err_destroy_rx;
	}
	spin_lock_bh(&p->lock);
	victim = cpns_pair_attach(p, g, now, &cause);
	spin_unlock_bh(&p->lock);
	cn->ctl.dump_gen++;
	if (victim) {
		cpns_nl_notify_erased(cn, victim, cause);
		cpns_gen_put(victim);
	}
	return 0;

err_destroy_rx:
	cpns_rx_destroy(&g->rx);
err_destroy_tx:
	cpns_tx_destroy(&g->tx);
err_uncharge:
	cpns_quota_uncharge(g->quota_uid);
err_free_gen:
	kmem_cache_free(cpns_gen_cache, g);
	return err;
}

/**
 * cpns_session_del() - erase one generation or a whole pair
 * @cn: the namespace; cpns_net.lock held
 * @key: (local, peer)
 * @generation: the generation, or 0 for all of the pair's
 * @extack: error report
 *
 * Return: 0 or -ENOENT.
 */
int cpns_session_del(struct cpns_net *cn, const struct cpns_pair_key *key,
		     u8 generation, struct netlink_ext_ack *extack)
{
	u64 now = cpns_now();
	struct cpns_pair *p;
	struct cpns_gen *g;
	int i;

	lockdep_assert_held(&cn->lock);
	p = cpns_pair_find(cn, key);
	if (!p) {
		NL_SET_ERR_MSG_MOD(extack, "no such session");
		return -ENOENT;
	}
	if (!generation) {
		cpns_pair_erase(cn, p, CPNS_ERASE_DELETED, now);
		return 0;
	}
	for (i = 0; i < ARRAY_SIZE(p->gens); i++) {
		g = rcu_dereference_protected(p->gens[i],
					      lockdep_is_held(&cn->lock));
		if (g && g->generation == generation) {
			cpns_gen_erase(cn, p, g, CPNS_ERASE_DELETED, now);
			if (cpns_pair_empty(p))
				cpns_pair_unlink(cn, p);
			return 0;
		}
	}
	NL_SET_ERR_MSG_MOD(extack, "no such generation");
	return -ENOENT;
}

/**
 * cpns_session_flush() - erase every generation of the namespace
 * @cn: the namespace; cpns_net.lock held
 */
void cpns_session_flush(struct cpns_net *cn)
{
	struct cpns_pair *p, *tmp;
	u64 now = cpns_now();

	lockdep_assert_held(&cn->lock);
	list_for_each_entry_safe(p, tmp, &cn->ctl.pair_list, list)
		cpns_pair_erase(cn, p, CPNS_ERASE_DELETED, now);
}

/**
 * cpns_session_flush_local() - erase the generations of a local ID
 * @cn: the namespace; cpns_net.lock held
 * @id: the local entity ID being removed
 */
void cpns_session_flush_local(struct cpns_net *cn, const u8 id[CPNS_ID_LEN])
{
	struct cpns_pair *p, *tmp;
	u64 now = cpns_now();

	lockdep_assert_held(&cn->lock);
	list_for_each_entry_safe(p, tmp, &cn->ctl.pair_list, list)
		if (!memcmp(p->key.local, id, CPNS_ID_LEN))
			cpns_pair_erase(cn, p, CPNS_ERASE_DELETED, now);
}

/* The periodic clean-up of 2.13: erase what is past its deadline, drop
 * retained previous epochs that expired.
 */
static void cpns_cleanup_work(struct work_struct *work)
{
	struct cpns_ctl *ctl = container_of(to_delayed_work(work),
					    struct cpns_ctl, cleanup);
	struct cpns_net *cn = container_of(ctl, struct cpns_net, ctl);
	struct cpns_pair *p, *tmp;
	struct cpns_gen *g;
	u64 now;
	int i, cause;

	mutex_lock(&cn->lock);
	now = cpns_now();
	list_for_each_entry_safe(p, tmp, &ctl->pair_list, list) {
		for (i = 0; i < ARRAY_SIZE(p->gens); i++) {
			g = rcu_dereference_protected(p->gens[i],
						      lockdep_is_held(&cn->lock));
			if (!g)
				continue;
			spin_lock_bh(&p->lock);
			cause = cpns_pair_erase_cause(p, g, now);
			spin_unlock_bh(&p->lock);
			if (cause)
				cpns_gen_erase(cn, p, g, cause, now);
			else
				cpns_rx_expire(&g->rx, now);
		}
		if (cpns_pair_empty(p))
			cpns_pair_unlink(cn, p);
	}
	if (ctl->n_pairs && !ctl->dying)
		queue_delayed_work(cpns_wq, &ctl->cleanup, CPNS_CLEANUP_PERIOD);
	mutex_unlock(&cn->lock);
}

/* ---- namespace and module lifetime ------------------------------------ */

/**
 * cpns_ctl_net_init() - set up the control state of a namespace
 * @cn: the namespace
 *
 * Return: 0 or a negative errno.
 */
int cpns_ctl_net_init(struct cpns_net *cn)
{
	struct cpns_ctl *ctl = &cn->ctl;
	int err;

	INIT_LIST_HEAD(&ctl->local_ids);
	INIT_LIST_HEAD(&ctl->pair_list);
	ctl->dump_gen = 1;
	INIT_DELAYED_WORK(&ctl->cleanup, cpns_cleanup_work);
	atomic_set(&ctl->ntf_lost, 0);
	spin_lock_init(&ctl->nosess_lock);
	ctl->nosess_seed = get_random_u32();
	err = cpns_dest_tables_init(cn);
	if (err)
		return err;
	err = rhashtable_init(&ctl->pairs, &cpns_pair_params);
	if (err)
		goto err_destroy_dests;
	return 0;

err_destroy_dests:
	mutex_lock(&cn->lock);
	cpns_dest_tables_destroy(cn);
	mutex_unlock(&cn->lock);
	return err;
}

/**
 * cpns_ctl_net_exit() - erase the control state of a namespace
 * @cn: the namespace; the data path is already stopped
 */
void cpns_ctl_net_exit(struct cpns_net *cn)
{
	mutex_lock(&cn->lock);
	cn->ctl.dying = true;
	mutex_unlock(&cn->lock);
	cancel_delayed_work_sync(&cn->ctl.cleanup);

	mutex_lock(&cn->lock);
	cpns_session_flush(cn);
	cpns_local_id_flush(cn);
	cpns_dest_tables_destroy(cn);
	rhashtable_destroy(&cn->ctl.pairs);
	mutex_unlock(&cn->lock);
}

/**
 * cpns_ctl_init() - module-wide control state
 *
 * Return: 0 or -ENOMEM.
 */
int cpns_ctl_init(void)
{
	cpns_gen_cache = KMEM_CACHE(cpns_gen, SLAB_ACCOUNT);
	if (!cpns_gen_cache)
		return -ENOMEM;
	cpns_wq = alloc_workqueue("cpns", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!cpns_wq)
		goto err_destroy_cache;
	return 0;

err_destroy_cache:
	kmem_cache_destroy(cpns_gen_cache);
	return -ENOMEM;
}

/**
 * cpns_ctl_exit() - wait for deferred frees and derivations, then free
 *
 * Called after every namespace is gone.
 */
void cpns_ctl_exit(void)
{
	/* Derive work may drop the last reference of a generation, which
	 * then waits for the reaper.
	 */
	flush_workqueue(cpns_wq);
	flush_delayed_work(&cpns_gen_reaper);
	rcu_barrier();
	destroy_workqueue(cpns_wq);
	kmem_cache_destroy(cpns_gen_cache);
	cpns_quota_exit();
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cpns: the control objects of a namespace - local entity IDs, the address
 * table (peers), routes, sessions (pairs and their generations) - and the
 * netlink notifications. Implemented in local.c, peer.c, route.c,
 * session.c and netlink.c.
 *
 * This is the interface the data path (datapath.h) uses. Functions marked
 * "RCU" must be called inside rcu_read_lock() (or rcu_read_lock_bh()) and
 * never sleep; what they return stays valid until the read-side section
 * ends.
 *
 * Locking, from the outside in:
 *  - cpns_net.lock (mutex): every configuration change of the namespace
 *    (netlink writers, the periodic clean-up, namespace exit).
 *  - cpns_pair.lock (spinlock, _bh): the generation slots and transmit
 *    choice of one pair; taken by writers and by the packet path on the
 *    rare transitions (first record sent or received on a generation,
 *    transmit switch).
 *  - cpns_dest.seq (seqlock, _bh): the address of one table entry.
 */
#ifndef _CPNS_CONTROL_H
#define _CPNS_CONTROL_H

#include <linux/atomic.h>
#include <linux/bits.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/rhashtable-types.h>
#include <linux/seqlock.h>
#include <linux/socket.h>
#include <linux/types.h>
#include <linux/uidgid.h>
#include <linux/workqueue.h>

#include "crypto.h"

struct cpns_net;
struct net;
struct netlink_ext_ack;
struct sk_buff;

/**
 * struct cpns_endpoint - a UDP address (IPv4 or IPv6)
 * @sa: family discriminator
 * @in4: AF_INET address
 * @in6: AF_INET6 address
 */
struct cpns_endpoint {
	union {
		struct sockaddr		sa;
		struct sockaddr_in	in4;
		struct sockaddr_in6	in6;
	};
};

bool cpns_endpoint_eq(const struct cpns_endpoint *a,
		      const struct cpns_endpoint *b);

/* Upper bounds of the tables, against runaway configuration. */
#define CPNS_MAX_LOCAL_IDS	256
#define CPNS_MAX_DESTS		BIT(20)
#define CPNS_MAX_PAIRS		BIT(20)

/**
 * struct cpns_local_id - one local entity ID
 * @list: in cpns_ctl.local_ids; changed under cpns_net.lock, read under RCU
 * @id: the entity ID; constant
 * @rcu: deferred free
 */
struct cpns_local_id {
	struct list_head	list;
	u8			id[CPNS_ID_LEN];
	struct rcu_head		rcu;
};

/**
 * struct cpns_dest - an entry of the address table or of the route table
 * @node: in cpns_ctl.peers or cpns_ctl.routes; changed under
 *	cpns_net.lock, looked up under RCU
 * @list: in the matching list of cpns_ctl, for dumps; under cpns_net.lock
 * @id: the destination entity ID; constant
 * @via: route only: records to @id go to the address of this GW entity;
 *	under cpns_net.lock and @seq
 * @has_via: route only: @via is meaningful (else @addr is); under
 *	cpns_net.lock and @seq
 * @learn: @addr follows the source address of authenticated records of
 *	@id; under cpns_net.lock and @seq
 * @uplink: peer only: this is the GW's uplink, ID_S (2.12); written under
 *	cpns_net.lock, read with READ_ONCE()
 * @seq: protects @addr, @via, @has_via and @learn for lockless readers;
 *	written with write_seqlock_bh()
 * @addr: the UDP address
 * @rcu: deferred free
 */
struct cpns_dest {
	struct rhash_head	node;
	struct list_head	list;
	u8			id[CPNS_ID_LEN];
	u8			via[CPNS_ID_LEN];
	bool			has_via;
	bool			learn;
	bool			uplink;
	seqlock_t		seq;
	struct cpns_endpoint	addr;
	struct rcu_head		rcu;
};

/**
 * struct cpns_dest_conf - what userspace sets on a table entry
 * @addr: the address (unless @has_via)
 * @via: the GW entity (route with @has_via)
 * @has_via: route via a GW entity
 * @learn: update @addr from authenticated records
 */
struct cpns_dest_conf {
	struct cpns_endpoint	addr;
	u8			via[CPNS_ID_LEN];
	bool			has_via;
	bool			learn;
};

/**
 * struct cpns_ctl - control state of one namespace (embedded in cpns_net)
 * @local_ids: local entity IDs; changed under cpns_net.lock, read under RCU
 * @n_local_ids: length of @local_ids; under cpns_net.lock
 * @peers: address table by entity ID; changed under cpns_net.lock, read
 *	under RCU
 * @peer_list: the same entries in insertion order; under cpns_net.lock
 * @routes: routes by PNE entity ID; changed under cpns_net.lock, read
 *	under RCU
 * @route_list: the same entries in insertion order; under cpns_net.lock
 * @uplink: the peer entry marked as the GW's uplink (ID_S), or NULL;
 *	under cpns_net.lock (the packet path reads cpns_dest.uplink)
 * @pairs: sessions by (local, peer); changed under cpns_net.lock, read
 *	under RCU
 * @pair_list: the same pairs in insertion order; under cpns_net.lock
 * @n_pairs: number of pairs; under cpns_net.lock
 * @dump_gen: bumped on every change of a dumped table; under
 *	cpns_net.lock (consistent dumps)
 * @cleanup: the periodic clean-up of 2.13; runs under cpns_net.lock
 * @dying: the namespace is going away, @cleanup must not re-arm; under
 *	cpns_net.lock
 * @ntf_lost: notifications that could not be sent since the last one
 *	that could; atomic
 * @stats_base: namespace counters at the last STATS_RESET; under
 *	cpns_net.lock
 * @nosess_seed: random seed of the @nosess hash, so that nobody can pick
 *	pairs that evict a given pair; constant
 * @nosess_lock: protects @nosess, @nosess_window and @nosess_sent
 * @nosess: rate limiter of NO_SESSION notifications, hashed by pair: the
 *	last time (ms) a notification was sent for a pair in the bucket and
 *	a 32-bit tag of that pair
 * @nosess_window: start (ms) of the second @nosess_sent counts in
 * @nosess_sent: NO_SESSION notifications sent in that second, of all pairs
 */
struct cpns_ctl {
	struct list_head	local_ids;
	unsigned int		n_local_ids;
	struct rhashtable	peers;
	struct list_head	peer_list;
	struct rhashtable	routes;
	struct list_head	route_list;
	struct cpns_dest	*uplink;
	struct rhashtable	pairs;
	struct list_head	pair_list;
	unsigned int		n_pairs;
	u32			dump_gen;
	struct delayed_work	cleanup;
	bool			dying;
	atomic_t		ntf_lost;
	u64			stats_base[__CPNS_STAT_MAX];
	u32			nosess_seed;
	spinlock_t		nosess_lock;
	struct {
		u64	last;
		u32	tag;
	} nosess[64];
	u64			nosess_window;
	unsigned int		nosess_sent;
};

/* ---- module and namespace lifetime -------------------------------------- */
int cpns_ctl_init(void);
void cpns_ctl_exit(void);
int cpns_ctl_net_init(struct cpns_net *cn);
void cpns_ctl_net_exit(struct cpns_net *cn);

/* ---- AES-256-GCM generations per unprivileged user (quota.c) ------------ */
int cpns_quota_charge(const struct net *net, kuid_t *uid);
void cpns_quota_uncharge(kuid_t uid);
void cpns_quota_exit(void);

/* ---- local entity IDs --------------------------------------------------- */
/* RCU: is @id one of this namespace's local entity IDs? */
bool cpns_local_id_is_local(struct cpns_net *cn, const u8 id[CPNS_ID_LEN]);
bool cpns_id_valid(const u8 id[CPNS_ID_LEN]);
int cpns_local_id_add(struct cpns_net *cn, const u8 id[CPNS_ID_LEN],
		      struct netlink_ext_ack *extack);
int cpns_local_id_del(struct cpns_net *cn, const u8 id[CPNS_ID_LEN],
		      struct netlink_ext_ack *extack);
void cpns_local_id_flush(struct cpns_net *cn);

/* ---- address table, routes, forwarding ---------------------------------- */
/* RCU: where records to @dst go (peer entry, route via a GW entity, or a
 * member PNE route). Return: 0, or -EHOSTUNREACH when there is no address.
 */
int cpns_addr_lookup(struct cpns_net *cn, const u8 dst[CPNS_ID_LEN],
		     struct cpns_endpoint *out);
/* RCU, step 12: @src authenticated a record that came from @from; update
 * the address of @src if its entry learns from records (2.1, 9.9).
 */
void cpns_addr_learn(struct cpns_net *cn, const u8 src[CPNS_ID_LEN],
		     const struct cpns_endpoint *from);
/* RCU, step 5 for a dst that is not local (2.12). Return: 0 and *to set
 * when the record is to be forwarded unchanged, -ENOENT for NO_ROUTE.
 */
int cpns_forward_lookup(struct cpns_net *cn, const struct cpns_rec *rec,
			const struct cpns_endpoint *from,
			struct cpns_endpoint *to);

/* Tables of struct cpns_dest (peer.c; the route table in route.c). */
struct cpns_dest *cpns_dest_find(struct rhashtable *tbl,
				 const u8 id[CPNS_ID_LEN]);
void cpns_dest_read(struct cpns_dest *d, struct cpns_dest_conf *conf);
bool cpns_dest_addr(struct cpns_dest *d, struct cpns_endpoint *out);
struct cpns_dest *cpns_dest_set(struct cpns_net *cn, struct rhashtable *tbl,
				struct list_head *list,
				const u8 id[CPNS_ID_LEN],
				const struct cpns_dest_conf *conf,
				struct netlink_ext_ack *extack);
void cpns_dest_unlink(struct cpns_net *cn, struct rhashtable *tbl,
		      struct cpns_dest *d);
int cpns_peer_set(struct cpns_net *cn, const u8 id[CPNS_ID_LEN],
		  const struct cpns_dest_conf *conf, bool uplink,
		  struct netlink_ext_ack *extack);
int cpns_peer_del(struct cpns_net *cn, const u8 id[CPNS_ID_LEN],
		  struct netlink_ext_ack *extack);
int cpns_route_add(struct cpns_net *cn, const u8 id[CPNS_ID_LEN],
		   const struct cpns_dest_conf *conf,
		   struct netlink_ext_ack *extack);
int cpns_route_del(struct cpns_net *cn, const u8 id[CPNS_ID_LEN],
		   struct netlink_ext_ack *extack);
int cpns_dest_tables_init(struct cpns_net *cn);
void cpns_dest_tables_destroy(struct cpns_net *cn);

/* ---- sessions ------------------------------------------------------------- */

/* Per-generation counters: indices into cpns_gen.stats. */
enum cpns_gen_stat {
	CPNS_GS_TX_RECORDS,
	CPNS_GS_TX_BYTES,
	CPNS_GS_RX_RECORDS,
	CPNS_GS_RX_BYTES,
	CPNS_GS_DROP_FIRST,	/* CPNS_STAT_DROP_SUITE_MISMATCH and on */
	__CPNS_GS_MAX = CPNS_GS_DROP_FIRST + CPNS_STAT_DROP_NO_PORT -
			CPNS_STAT_DROP_SUITE_MISMATCH + 1,
};

/* cpns_gen.flags bits */
enum {
	CPNS_GEN_SENT,		/* a record was sent on it */
	CPNS_GEN_RECEIVED,	/* a record on it passed step 12 */
	CPNS_GEN_DERIVE,	/* a derive work item is queued */
	CPNS_GEN_DEAD,		/* unlinked; derive nothing more */
};

struct cpns_pair;

/**
 * struct cpns_gen - one generation of a session
 * @tx: transmit direction (crypto.h); used by the data path
 * @rx: receive direction (crypto.h); used by the data path
 * @pair: the pair; constant. Valid while the generation is reachable
 *	and for RCU readers that found it through the pair.
 * @both_ways_at: time (ms) the generation first had traffic both ways,
 *	U64_MAX until then; set under cpns_pair.lock, read with READ_ONCE()
 * @order: install order within the pair (older generations are lower);
 *	constant
 * @quota_uid: the user its AES-256-GCM transforms are counted against
 *	(quota.c), INVALID_UID if none; constant
 * @flags: CPNS_GEN_* bits; atomic bitops
 * @suite: enum cpns_suite; constant
 * @generation: 1..255; constant
 * @role: enum cpns_role; constant
 * @tx_mode: enum cpns_tx_mode; constant
 * @ref: held by the pair slot and by a queued derive work item; the last
 *	put (any context) hands the generation to the reaper, which frees it
 *	after a grace period (session.c)
 * @derive: derives keys ahead in process context
 * @dead: in the reaper's list once @ref is gone
 * @stats: per-generation counters, enum cpns_gen_stat; atomic
 *
 * The transmit and receive state are the bulk of it; see the report in
 * session.c for the size of an idle generation.
 */
struct cpns_gen {
	struct cpns_tx_dir	tx;
	struct cpns_rx_dir	rx;
	struct cpns_pair	*pair;
	u64			both_ways_at;
	u32			order;
	kuid_t			quota_uid;
	unsigned long		flags;
	u8			suite;
	u8			generation;
	u8			role;
	u8			tx_mode;
	struct kref		ref;
	struct work_struct	derive;
	struct llist_node	dead;
	atomic64_t		stats[__CPNS_GS_MAX];
};

/**
 * struct cpns_pair_key - the key of a pair
 * @local: local entity ID
 * @peer: peer entity ID
 */
struct cpns_pair_key {
	u8	local[CPNS_ID_LEN];
	u8	peer[CPNS_ID_LEN];
};

/**
 * struct cpns_pair - the session between a local entity and a peer
 * @node: in cpns_ctl.pairs; changed under cpns_net.lock, read under RCU
 * @list: in cpns_ctl.pair_list; under cpns_net.lock
 * @key: (local, peer); constant
 * @cn: the namespace; constant
 * @lock: protects @gens and @tx against concurrent changes; _bh
 * @gens: at most two generations, in no particular slot order (see
 *	cpns_gen.order); written under cpns_net.lock and @lock, read under
 *	RCU
 * @tx: the generation the pair transmits on, NULL when none is
 *	confirmed; one of @gens. Written under @lock, read under RCU.
 * @next_order: install counter; under @lock
 * @rcu: deferred free
 */
struct cpns_pair {
	struct rhash_head	node;
	struct list_head	list;
	struct cpns_pair_key	key;
	struct cpns_net		*cn;
	spinlock_t		lock;		/* @gens, @tx */
	struct cpns_gen __rcu	*gens[2];
	struct cpns_gen __rcu	*tx;
	u32			next_order;
	struct rcu_head		rcu;
};

/**
 * struct cpns_gen_conf - install parameters of a generation (2.4)
 * @key: local and peer entity ID
 * @generation: 1..255
 * @suite: 1 or 2
 * @role: enum cpns_role
 * @tx_mode: enum cpns_tx_mode
 * @tx_secret: epoch 0 transmit traffic secret (wiped by the caller)
 * @rx_secret: epoch 0 receive traffic secret (wiped by the caller)
 */
struct cpns_gen_conf {
	struct cpns_pair_key	key;
	u8			generation;
	u8			suite;
	u8			role;
	u8			tx_mode;
	u8			tx_secret[CPNS_SECRET_LEN];
	u8			rx_secret[CPNS_SECRET_LEN];
};

/* RCU: the generation to send on from @local to @peer: the pair's transmit
 * generation when @generation is 0, else that generation if the pair may
 * transmit on it (2.10, 13.5). Return: the generation, or NULL with *err
 * set to -ENOKEY (none may transmit) or -EKEYEXPIRED (exhausted).
 */
struct cpns_gen *cpns_gen_tx(struct cpns_net *cn, const u8 local[CPNS_ID_LEN],
			     const u8 peer[CPNS_ID_LEN], u8 generation,
			     u64 now, int *err);
/* RCU, step 7a: the receive state for (src, dst, generation) within its
 * lifetime, or NULL (NO_SESSION).
 */
struct cpns_gen *cpns_gen_rx(struct cpns_net *cn, const u8 src[CPNS_ID_LEN],
			     const u8 dst[CPNS_ID_LEN], u8 generation, u64 now);
/* RCU, after every successful cpns_tx_next(): schedules derivation and
 * notifies the epoch threshold; when @sent, also counts the record in the
 * generation's counters (the namespace counters are the data path's) and
 * records that the generation sent.
 */
void cpns_gen_tx_done(struct cpns_net *cn, struct cpns_gen *g,
		      const struct cpns_tx_slot *slot, size_t bytes, u64 now,
		      bool sent);
/* RCU, after a successful cpns_rx_commit() (step 12): switches an
 * on-confirm pair to @g, tracks traffic both ways, schedules derivation,
 * notifies, counts in the generation's counters.
 */
void cpns_gen_rx_done(struct cpns_net *cn, struct cpns_gen *g,
		      const struct cpns_rx_events *ev, u8 epoch, size_t bytes,
		      u64 now);
/* RCU: cpns_rx_check() or cpns_tx_next() asked for key derivation. */
void cpns_gen_need_derive(struct cpns_gen *g);
/* RCU: a reference on @g for a seal or open that finishes after the
 * read-side section in which @g was found. Return: false if @g is going.
 */
bool cpns_gen_hold(struct cpns_gen *g);
/* Any context: drop the reference of cpns_gen_hold(). */
void cpns_gen_unhold(struct cpns_gen *g);

/* RCU: @g is still installed. One that was erased may have lost its pair
 * to a grace period already: a holder of @g checks this, inside a new
 * read-side section, before the bookkeeping that reaches the pair.
 */
static inline bool cpns_gen_installed(const struct cpns_gen *g)
{
	return !test_bit(CPNS_GEN_DEAD, &g->flags);
}
/* RCU: count a drop attributed to @g (steps 7b-14) in the generation's
 * counters; the namespace counter is the data path's.
 */
void cpns_gen_drop(struct cpns_gen *g, enum cpns_stat reason);

/* Control side of sessions (session.c), under cpns_net.lock. */
int cpns_session_new(struct cpns_net *cn, struct cpns_gen_conf *conf, u64 now,
		     struct netlink_ext_ack *extack);
int cpns_session_del(struct cpns_net *cn, const struct cpns_pair_key *key,
		     u8 generation, struct netlink_ext_ack *extack);
void cpns_session_flush(struct cpns_net *cn);
void cpns_session_flush_local(struct cpns_net *cn, const u8 id[CPNS_ID_LEN]);
struct cpns_pair *cpns_pair_find(struct cpns_net *cn,
				 const struct cpns_pair_key *key);

/* Decision logic of 2.10 and 2.13, pure over a pair and @now; the caller
 * holds cpns_pair.lock (or owns the pair exclusively, as the tests do).
 */
bool cpns_gen_live(struct cpns_pair *p, struct cpns_gen *g, u64 now);
struct cpns_gen *cpns_pair_other(struct cpns_pair *p, struct cpns_gen *g);
struct cpns_gen *cpns_pair_tx_pick(struct cpns_pair *p, u64 now,
				   bool *switched);
struct cpns_gen *cpns_pair_attach(struct cpns_pair *p, struct cpns_gen *g,
				  u64 now, enum cpns_erase_cause *cause);
bool cpns_pair_detach(struct cpns_pair *p, struct cpns_gen *g,
		      enum cpns_erase_cause cause, u64 now);
void cpns_pair_mark_sent(struct cpns_pair *p, struct cpns_gen *g, u64 now);
bool cpns_pair_mark_received(struct cpns_pair *p, struct cpns_gen *g,
			     u64 now);
int cpns_pair_erase_cause(struct cpns_pair *p, struct cpns_gen *g, u64 now);

/* ---- notifications ---------------------------------------------------------- */
/* Any context: a record was dropped NO_SESSION (rate-limited inside). */
void cpns_nl_notify_no_session(struct cpns_net *cn, const struct cpns_rec *rec,
			       const struct cpns_endpoint *from);
/* Any context; the generation is alive for the caller. */
void cpns_nl_notify_epoch(struct cpns_net *cn, struct cpns_gen *g,
			  enum cpns_dir dir, u8 epoch);
void cpns_nl_notify_tx_switched(struct cpns_net *cn, struct cpns_gen *g);
void cpns_nl_notify_erased(struct cpns_net *cn, struct cpns_gen *g,
			   enum cpns_erase_cause cause);

#endif /* _CPNS_CONTROL_H */

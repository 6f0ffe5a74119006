// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: the address table of a namespace - entity ID -> UDP address, and
 * learning addresses from authenticated records (PROTOCOL.md 2.1, 13.1).
 * The route table (route.c) holds entries of the same type.
 *
 * Entries live in an rhashtable read under RCU by the packet path. The
 * address of an entry changes in place under a seqlock, because learning
 * runs in softirq for every authenticated record and must not allocate.
 */
#include <linux/rhashtable.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/ipv6.h>
#include <net/netlink.h>

#include "cpns.h"

static const struct rhashtable_params cpns_dest_params = {
	.key_len = CPNS_ID_LEN,
	.key_offset = offsetof(struct cpns_dest, id),
	.head_offset = offsetof(struct cpns_dest, node),
	.automatic_shrinking = true,
};

/**
 * cpns_endpoint_eq() - compare two UDP addresses
 * @a: one
 * @b: the other
 *
 * Return: true when family, IP address and port are equal.
 */
bool cpns_endpoint_eq(const struct cpns_endpoint *a,
		      const struct cpns_endpoint *b)
{
	if (a->sa.sa_family != b->sa.sa_family)
		return false;
	switch (a->sa.sa_family) {
	case AF_INET:
		return a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr &&
		       a->in4.sin_port == b->in4.sin_port;
	case AF_INET6:
		return ipv6_addr_equal(&a->in6.sin6_addr, &b->in6.sin6_addr) &&
		       a->in6.sin6_port == b->in6.sin6_port;
	default:
		return false;
	}
}

/**
 * cpns_dest_find() - look an entity up in the peer or route table
 * @tbl: cpns_ctl.peers or cpns_ctl.routes
 * @id: the entity ID
 *
 * Inside rcu_read_lock() or with cpns_net.lock held.
 *
 * Return: the entry or NULL.
 */
struct cpns_dest *cpns_dest_find(struct rhashtable *tbl,
				 const u8 id[CPNS_ID_LEN])
{
	return rhashtable_lookup_fast(tbl, id, cpns_dest_params);
}

/**
 * cpns_dest_read() - a consistent copy of an entry's settings
 * @d: the entry; RCU or cpns_net.lock
 * @conf: the copy
 */
void cpns_dest_read(struct cpns_dest *d, struct cpns_dest_conf *conf)
{
	unsigned int seq;

	do {
		seq = read_seqbegin(&d->seq);
		conf->addr = d->addr;
		memcpy(conf->via, d->via, CPNS_ID_LEN);
		conf->has_via = d->has_via;
		conf->learn = d->learn;
	} while (read_seqretry(&d->seq, seq));
}

static void cpns_dest_write(struct cpns_dest *d,
			    const struct cpns_dest_conf *conf)
{
	write_seqlock_bh(&d->seq);
	d->addr = conf->addr;
	memcpy(d->via, conf->via, CPNS_ID_LEN);
	d->has_via = conf->has_via;
	d->learn = conf->learn;
	write_sequnlock_bh(&d->seq);
}

/**
 * cpns_dest_set() - create or update a table entry
 * @cn: the namespace; cpns_net.lock held
 * @tbl: cpns_ctl.peers or cpns_ctl.routes
 * @list: the matching list
 * @id: the entity ID
 * @conf: its settings
 * @extack: error report
 *
 * Return: the entry or an ERR_PTR().
 */
struct cpns_dest *cpns_dest_set(struct cpns_net *cn, struct rhashtable *tbl,
				struct list_head *list,
				const u8 id[CPNS_ID_LEN],
				const struct cpns_dest_conf *conf,
				struct netlink_ext_ack *extack)
{
	struct cpns_dest *d;
	int err;

	d = cpns_dest_find(tbl, id);
	if (d) {
		cpns_dest_write(d, conf);
		cn->ctl.dump_gen++;
		return d;
	}
	if (atomic_read(&tbl->nelems) >= CPNS_MAX_DESTS) {
		NL_SET_ERR_MSG_MOD(extack, "table full");
		return ERR_PTR(-ENOSPC);
	}
	d = kzalloc(sizeof(*d), GFP_KERNEL_ACCOUNT);
	if (!d)
		return ERR_PTR(-ENOMEM);
	memcpy(d->id, id, CPNS_ID_LEN);
	seqlock_init(&d->seq);
	cpns_dest_write(d, conf);
	err = rhashtable_insert_fast(tbl, &d->node, cpns_dest_params);
	if (err) {
		kfree(d);
		return ERR_PTR(err);
	}
	list_add_tail(&d->list, list);
	cn->ctl.dump_gen++;
	return d;
}

/**
 * cpns_dest_unlink() - remove a table entry, free it after a grace period
 * @cn: the namespace; cpns_net.lock held
 * @tbl: the table holding @d
 * @d: the entry
 */
void cpns_dest_unlink(struct cpns_net *cn, struct rhashtable *tbl,
		      struct cpns_dest *d)
{
	rhashtable_remove_fast(tbl, &d->node, cpns_dest_params);
	list_del(&d->list);
	if (cn->ctl.uplink == d)
		cn->ctl.uplink = NULL;
	cn->ctl.dump_gen++;
	kfree_rcu(d, rcu);
}

/**
 * cpns_peer_set() - set the address of a peer entity
 * @cn: the namespace; cpns_net.lock held
 * @id: the peer entity ID
 * @conf: address and learn flag (@conf->has_via must be false)
 * @uplink: this peer is the GW's uplink ID_S; the mark moves from any
 *	earlier uplink entry
 * @extack: error report
 *
 * Return: 0 or a negative errno.
 */
int cpns_peer_set(struct cpns_net *cn, const u8 id[CPNS_ID_LEN],
		  const struct cpns_dest_conf *conf, bool uplink,
		  struct netlink_ext_ack *extack)
{
	struct cpns_dest *d;

	lockdep_assert_held(&cn->lock);
	d = cpns_dest_set(cn, &cn->ctl.peers, &cn->ctl.peer_list, id, conf,
			  extack);
	if (IS_ERR(d))
		return PTR_ERR(d);
	if (uplink && cn->ctl.uplink != d) {
		if (cn->ctl.uplink)
			WRITE_ONCE(cn->ctl.uplink->uplink, false);
		WRITE_ONCE(d->uplink, true);
		cn->ctl.uplink = d;
	} else if (!uplink && cn->ctl.uplink == d) {
		WRITE_ONCE(d->uplink, false);
		cn->ctl.uplink = NULL;
	}
	return 0;
}

/**
 * cpns_peer_del() - remove a peer entry
 * @cn: the namespace; cpns_net.lock held
 * @id: the peer entity ID
 * @extack: error report
 *
 * Return: 0 or -ENOENT.
 */
int cpns_peer_del(struct cpns_net *cn, const u8 id[CPNS_ID_LEN],
		  struct netlink_ext_ack *extack)
{
	struct cpns_dest *d;

	lockdep_assert_held(&cn->lock);
	d = cpns_dest_find(&cn->ctl.peers, id);
	if (!d) {
		NL_SET_ERR_MSG_MOD(extack, "no such peer");
		return -ENOENT;
	}
	cpns_dest_unlink(cn, &cn->ctl.peers, d);
	return 0;
}

/**
 * cpns_dest_addr() - the address of an entry without a via
 * @d: a peer or a member PNE route; RCU or cpns_net.lock
 * @out: the address
 *
 * Return: false when @d routes via a GW entity.
 */
bool cpns_dest_addr(struct cpns_dest *d, struct cpns_endpoint *out)
{
	unsigned int seq;
	bool ok;

	do {
		seq = read_seqbegin(&d->seq);
		ok = !d->has_via;
		if (ok)
			*out = d->addr;
	} while (read_seqretry(&d->seq, seq));
	return ok;
}

static void cpns_dest_learn(struct cpns_dest *d,
			    const struct cpns_endpoint *from)
{
	struct cpns_endpoint cur;
	unsigned int seq;
	bool learn;

	/* Read first: the address almost never changes, and a write would
	 * make every reader on every CPU retry.
	 */
	do {
		seq = read_seqbegin(&d->seq);
		learn = d->learn && !d->has_via;
		cur = d->addr;
	} while (read_seqretry(&d->seq, seq));
	if (!learn || cpns_endpoint_eq(&cur, from))
		return;

	write_seqlock_bh(&d->seq);
	if (d->learn && !d->has_via)
		d->addr = *from;
	write_sequnlock_bh(&d->seq);
}

/**
 * cpns_addr_learn() - step 12: follow the source address of a peer
 * @cn: the namespace
 * @src: the entity that authenticated a record
 * @from: the record's UDP source address
 *
 * Updates the peer entry (S: its GWs) and the address route (a GW: its
 * member PNEs) of @src when they learn from records. Inside
 * rcu_read_lock(), any context.
 */
void cpns_addr_learn(struct cpns_net *cn, const u8 src[CPNS_ID_LEN],
		     const struct cpns_endpoint *from)
{
	struct cpns_dest *d;

	if (from->sa.sa_family != AF_INET && from->sa.sa_family != AF_INET6)
		return;
	d = cpns_dest_find(&cn->ctl.peers, src);
	if (d)
		cpns_dest_learn(d, from);
	d = cpns_dest_find(&cn->ctl.routes, src);
	if (d)
		cpns_dest_learn(d, from);
}

/**
 * cpns_dest_tables_init() - set up the peer and route tables
 * @cn: the namespace
 *
 * Return: 0 or a negative errno.
 */
int cpns_dest_tables_init(struct cpns_net *cn)
{
	int err;

	INIT_LIST_HEAD(&cn->ctl.peer_list);
	INIT_LIST_HEAD(&cn->ctl.route_list);
	cn->ctl.uplink = NULL;
	err = rhashtable_init(&cn->ctl.peers, &cpns_dest_params);
	if (err)
		return err;
	err = rhashtable_init(&cn->ctl.routes, &cpns_dest_params);
	if (err)
		goto err_destroy_peers;
	return 0;

err_destroy_peers:
	rhashtable_destroy(&cn->ctl.peers);
	return err;
}

/**
 * cpns_dest_tables_destroy() - free every peer and route
 * @cn: the namespace; cpns_net.lock held, no packet path left
 */
void cpns_dest_tables_destroy(struct cpns_net *cn)
{
	struct cpns_dest *d, *tmp;

	lockdep_assert_held(&cn->lock);
	list_for_each_entry_safe(d, tmp, &cn->ctl.peer_list, list)
		cpns_dest_unlink(cn, &cn->ctl.peers, d);
	list_for_each_entry_safe(d, tmp, &cn->ctl.route_list, list)
		cpns_dest_unlink(cn, &cn->ctl.routes, d);
	rhashtable_destroy(&cn->ctl.peers);
	rhashtable_destroy(&cn->ctl.routes);
}

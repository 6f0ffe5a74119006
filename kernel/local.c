// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: the local entity IDs of a namespace (PROTOCOL.md 13.1).
 *
 * A node has a handful of local IDs, so a list read under RCU is the
 * cheapest structure for the packet path's step 5.
 */
#include <linux/rculist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/netlink.h>

#include "cpns.h"

static const u8 cpns_id_zero[CPNS_ID_LEN];
static const u8 cpns_id_ones[CPNS_ID_LEN] = {
	[0 ... CPNS_ID_LEN - 1] = 0xff
};

/**
 * cpns_id_valid() - may an entity ID be configured (1.2)?
 * @id: the ID
 *
 * Return: false for 0^16 and FF^16.
 */
bool cpns_id_valid(const u8 id[CPNS_ID_LEN])
{
	return memcmp(id, cpns_id_zero, CPNS_ID_LEN) &&
	       memcmp(id, cpns_id_ones, CPNS_ID_LEN);
}

static struct cpns_local_id *cpns_local_id_find(struct cpns_net *cn,
						const u8 id[CPNS_ID_LEN])
{
	struct cpns_local_id *l;

	list_for_each_entry_rcu(l, &cn->ctl.local_ids, list,
				lockdep_is_held(&cn->lock))
		if (!memcmp(l->id, id, CPNS_ID_LEN))
			return l;
	return NULL;
}

/**
 * cpns_local_id_is_local() - is @id one of the namespace's local IDs?
 * @cn: the namespace
 * @id: the entity ID
 *
 * Inside rcu_read_lock() or with cpns_net.lock held.
 *
 * Return: true if it is.
 */
bool cpns_local_id_is_local(struct cpns_net *cn, const u8 id[CPNS_ID_LEN])
{
	return cpns_local_id_find(cn, id);
}

/**
 * cpns_local_id_add() - add a local entity ID
 * @cn: the namespace; cpns_net.lock held
 * @id: the entity ID
 * @extack: error report
 *
 * The first ID opens the UDP sockets.
 *
 * Return: 0, -EEXIST, -ENOSPC, -ENOMEM or the error of opening the UDP
 * sockets.
 */
int cpns_local_id_add(struct cpns_net *cn, const u8 id[CPNS_ID_LEN],
		      struct netlink_ext_ack *extack)
{
	struct cpns_local_id *l;
	int err;

	lockdep_assert_held(&cn->lock);
	if (cpns_local_id_find(cn, id)) {
		NL_SET_ERR_MSG_MOD(extack, "local ID already exists");
		return -EEXIST;
	}
	if (cn->ctl.n_local_ids >= CPNS_MAX_LOCAL_IDS) {
		NL_SET_ERR_MSG_MOD(extack, "too many local IDs");
		return -ENOSPC;
	}
	l = kzalloc(sizeof(*l), GFP_KERNEL_ACCOUNT);
	if (!l)
		return -ENOMEM;
	if (!cn->ctl.n_local_ids) {
		err = cpns_udp_start(cn, extack);
		if (err) {
			kfree(l);
			return err;
		}
	}
	memcpy(l->id, id, CPNS_ID_LEN);
	list_add_tail_rcu(&l->list, &cn->ctl.local_ids);
	cn->ctl.n_local_ids++;
	cn->ctl.dump_gen++;
	return 0;
}

static void cpns_local_id_unlink(struct cpns_net *cn, struct cpns_local_id *l)
{
	list_del_rcu(&l->list);
	cn->ctl.n_local_ids--;
	cn->ctl.dump_gen++;
	cpns_session_flush_local(cn, l->id);
	cpns_sock_local_id_removed(cn, l->id);
	if (!cn->ctl.n_local_ids)
		cpns_udp_stop(cn);
	kfree_rcu(l, rcu);
}

/**
 * cpns_local_id_del() - remove a local entity ID and its generations
 * @cn: the namespace; cpns_net.lock held
 * @id: the entity ID
 * @extack: error report
 *
 * Removing the last ID closes the UDP sockets.
 *
 * Return: 0 or -ENOENT.
 */
int cpns_local_id_del(struct cpns_net *cn, const u8 id[CPNS_ID_LEN],
		      struct netlink_ext_ack *extack)
{
	struct cpns_local_id *l;

	lockdep_assert_held(&cn->lock);
	l = cpns_local_id_find(cn, id);
	if (!l) {
		NL_SET_ERR_MSG_MOD(extack, "no such local ID");
		return -ENOENT;
	}
	cpns_local_id_unlink(cn, l);
	return 0;
}

/**
 * cpns_local_id_flush() - remove every local ID (namespace exit)
 * @cn: the namespace; cpns_net.lock held
 */
void cpns_local_id_flush(struct cpns_net *cn)
{
	struct cpns_local_id *l, *tmp;

	lockdep_assert_held(&cn->lock);
	list_for_each_entry_safe(l, tmp, &cn->ctl.local_ids, list)
		cpns_local_id_unlink(cn, l);
}

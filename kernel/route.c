// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: routes, where records go, and forwarding (PROTOCOL.md 2.1, 2.12,
 * 9.9).
 *
 * On S a route sends the records of a PNE to the current address of its
 * GW; on a GW a route gives the address of a member PNE and makes it
 * eligible for forwarding between it and the uplink (the peer entry marked
 * as ID_S). Routes are struct cpns_dest entries, like peers (peer.c).
 */
#include <linux/rhashtable.h>
#include <net/netlink.h>

#include "cpns.h"

/**
 * cpns_route_add() - add or replace the route of a PNE
 * @cn: the namespace; cpns_net.lock held
 * @id: the PNE entity ID
 * @conf: via a GW entity, or an address with its learn flag
 * @extack: error report
 *
 * A route replaces any earlier route of the PNE (9.9).
 *
 * Return: 0 or a negative errno.
 */
int cpns_route_add(struct cpns_net *cn, const u8 id[CPNS_ID_LEN],
		   const struct cpns_dest_conf *conf,
		   struct netlink_ext_ack *extack)
{
	struct cpns_dest *d;

	lockdep_assert_held(&cn->lock);
	d = cpns_dest_set(cn, &cn->ctl.routes, &cn->ctl.route_list, id, conf,
			  extack);
	return PTR_ERR_OR_ZERO(d);
}

/**
 * cpns_route_del() - remove the route of a PNE
 * @cn: the namespace; cpns_net.lock held
 * @id: the PNE entity ID
 * @extack: error report
 *
 * Return: 0 or -ENOENT.
 */
int cpns_route_del(struct cpns_net *cn, const u8 id[CPNS_ID_LEN],
		   struct netlink_ext_ack *extack)
{
	struct cpns_dest *d;

	lockdep_assert_held(&cn->lock);
	d = cpns_dest_find(&cn->ctl.routes, id);
	if (!d) {
		NL_SET_ERR_MSG_MOD(extack, "no such route");
		return -ENOENT;
	}
	cpns_dest_unlink(cn, &cn->ctl.routes, d);
	return 0;
}

/**
 * cpns_addr_lookup() - where records to an entity go (2.1)
 * @cn: the namespace
 * @dst: destination entity ID
 * @out: the UDP address
 *
 * A route wins over a peer entry: a GW's member PNE is reached by its
 * route, S reaches a PNE through the current address of the PNE's GW.
 * Inside rcu_read_lock().
 *
 * Return: 0, or -EHOSTUNREACH when there is no address.
 */
int cpns_addr_lookup(struct cpns_net *cn, const u8 dst[CPNS_ID_LEN],
		     struct cpns_endpoint *out)
{
	struct cpns_dest *d, *gw;
	struct cpns_dest_conf conf;

	d = cpns_dest_find(&cn->ctl.routes, dst);
	if (d) {
		cpns_dest_read(d, &conf);
		if (!conf.has_via) {
			*out = conf.addr;
			return 0;
		}
		gw = cpns_dest_find(&cn->ctl.peers, conf.via);
		if (gw && cpns_dest_addr(gw, out))
			return 0;
		return -EHOSTUNREACH;
	}
	d = cpns_dest_find(&cn->ctl.peers, dst);
	if (d && cpns_dest_addr(d, out))
		return 0;
	return -EHOSTUNREACH;
}

/**
 * cpns_forward_lookup() - step 5 for a record not addressed to this node
 * @cn: the namespace
 * @rec: the record's header
 * @from: the datagram's UDP source address
 * @to: where to forward the record
 *
 * Implements 2.12: only with forwarding enabled; one of src and dst is the
 * uplink's ID_S and the other a PNE with an address route; the datagram
 * comes from the address of src in the table. Inside rcu_read_lock().
 *
 * Return: 0 with *@to set, or -ENOENT (NO_ROUTE).
 */
int cpns_forward_lookup(struct cpns_net *cn, const struct cpns_rec *rec,
			const struct cpns_endpoint *from,
			struct cpns_endpoint *to)
{
	struct cpns_dest *s, *pne;
	struct cpns_endpoint src_addr;
	bool up;

	if (!READ_ONCE(cn->forwarding))
		return -ENOENT;

	s = cpns_dest_find(&cn->ctl.peers, rec->src);
	up = s && READ_ONCE(s->uplink);
	if (up) {
		pne = cpns_dest_find(&cn->ctl.routes, rec->dst);
	} else {
		s = cpns_dest_find(&cn->ctl.peers, rec->dst);
		if (!s || !READ_ONCE(s->uplink))
			return -ENOENT;
		pne = cpns_dest_find(&cn->ctl.routes, rec->src);
	}
	if (!pne)
		return -ENOENT;

	if (up) {
		if (!cpns_dest_addr(s, &src_addr) ||
		    !cpns_dest_addr(pne, to))
			return -ENOENT;
	} else {
		if (!cpns_dest_addr(pne, &src_addr) ||
		    !cpns_dest_addr(s, to))
			return -ENOENT;
	}
	if (!cpns_endpoint_eq(&src_addr, from))
		return -ENOENT;
	return 0;
}

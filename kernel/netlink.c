// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: the "cpns" generic netlink family (Documentation/netlink/specs/cpns.yaml).
 *
 * Every write needs CAP_NET_ADMIN in the namespace's user namespace, and
 * so does reading sessions. Traffic secrets are accepted by SESSION_NEW
 * only, wiped from the request as soon as they are copied, and never put
 * into any message.
 */
#include <linux/jhash.h>
#include <net/genetlink.h>
#include <net/ipv6.h>

#include "cpns.h"

static const struct nla_policy cpns_policy[CPNS_A_MAX + 1] = {
	[CPNS_A_UDP_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[CPNS_A_FORWARDING] = NLA_POLICY_MAX(NLA_U8, 1),
	[CPNS_A_LOCAL_ID] = NLA_POLICY_EXACT_LEN(CPNS_ID_LEN),
	[CPNS_A_PEER_ID] = NLA_POLICY_EXACT_LEN(CPNS_ID_LEN),
	[CPNS_A_VIA_ID] = NLA_POLICY_EXACT_LEN(CPNS_ID_LEN),
	[CPNS_A_ADDR4] = { .type = NLA_BE32 },
	[CPNS_A_ADDR6] = NLA_POLICY_EXACT_LEN(16),
	[CPNS_A_PORT] = NLA_POLICY_MIN(NLA_U16, 1),
	[CPNS_A_LEARN] = NLA_POLICY_MAX(NLA_U8, 1),
	[CPNS_A_GENERATION] = NLA_POLICY_RANGE(NLA_U8, 1, 255),
	[CPNS_A_SUITE] = NLA_POLICY_RANGE(NLA_U8, CPNS_SUITE_AES256GCM,
					  CPNS_SUITE_CHACHA20POLY1305),
	[CPNS_A_ROLE] = NLA_POLICY_RANGE(NLA_U8, CPNS_ROLE_INITIATOR,
					 CPNS_ROLE_RESPONDER),
	[CPNS_A_TX_MODE] = NLA_POLICY_RANGE(NLA_U8, CPNS_TX_IMMEDIATE,
					    CPNS_TX_ON_CONFIRM),
	[CPNS_A_TX_SECRET] = NLA_POLICY_EXACT_LEN(CPNS_SECRET_LEN),
	[CPNS_A_RX_SECRET] = NLA_POLICY_EXACT_LEN(CPNS_SECRET_LEN),
	[CPNS_A_UPLINK] = NLA_POLICY_MAX(NLA_U8, 1),
};

static struct genl_family cpns_genl_family;

/* ---- helpers ------------------------------------------------------------ */

static struct cpns_net *cpns_info_net(struct genl_info *info)
{
	return cpns_net(genl_info_net(info));
}

static struct cpns_net *cpns_cb_net(struct netlink_callback *cb)
{
	return cpns_net(sock_net(cb->skb->sk));
}

/* A required attribute; reports it missing. */
static struct nlattr *cpns_need(struct genl_info *info, int type)
{
	if (GENL_REQ_ATTR_CHECK(info, type)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "missing required attribute (see the missing-type TLV)");
		return NULL;
	}
	return info->attrs[type];
}

/* A required entity ID that may be configured (1.2). */
static int cpns_get_id(struct genl_info *info, int type, u8 id[CPNS_ID_LEN])
{
	struct nlattr *a = cpns_need(info, type);

	if (!a)
		return -EINVAL;
	memcpy(id, nla_data(a), CPNS_ID_LEN);
	if (!cpns_id_valid(id)) {
		NL_SET_ERR_MSG_ATTR(info->extack, a,
				    "entity ID 0^16 and FF^16 are reserved");
		return -EINVAL;
	}
	return 0;
}

/* ADDR4 or ADDR6, and PORT (default 7870). */
static int cpns_get_endpoint(struct genl_info *info, struct cpns_endpoint *ep)
{
	struct nlattr *a4 = info->attrs[CPNS_A_ADDR4];
	struct nlattr *a6 = info->attrs[CPNS_A_ADDR6];
	u16 port = CPNS_DEFAULT_UDP_PORT;

	if (info->attrs[CPNS_A_PORT])
		port = nla_get_u16(info->attrs[CPNS_A_PORT]);
	memset(ep, 0, sizeof(*ep));
	if (a4 && a6) {
		NL_SET_ERR_MSG_ATTR(info->extack, a6,
				    "give either an IPv4 or an IPv6 address");
		return -EINVAL;
	}
	if (a4) {
		ep->in4.sin_family = AF_INET;
		ep->in4.sin_addr.s_addr = nla_get_in_addr(a4);
		ep->in4.sin_port = htons(port);
		if (ipv4_is_multicast(ep->in4.sin_addr.s_addr) ||
		    ipv4_is_lbcast(ep->in4.sin_addr.s_addr) ||
		    ipv4_is_zeronet(ep->in4.sin_addr.s_addr)) {
			NL_SET_ERR_MSG_ATTR(info->extack, a4,
					    "not a unicast address");
			return -EINVAL;
		}
		return 0;
	}
	if (a6) {
		ep->in6.sin6_family = AF_INET6;
		ep->in6.sin6_addr = nla_get_in6_addr(a6);
		ep->in6.sin6_port = htons(port);
		if (ipv6_addr_any(&ep->in6.sin6_addr) ||
		    ipv6_addr_is_multicast(&ep->in6.sin6_addr)) {
			NL_SET_ERR_MSG_ATTR(info->extack, a6,
					    "not a unicast address");
			return -EINVAL;
		}
		/* the IPv6 socket is v6only, and no attribute names a link */
		if (ipv6_addr_v4mapped(&ep->in6.sin6_addr)) {
			NL_SET_ERR_MSG_ATTR(info->extack, a6,
					    "an IPv4-mapped address: give it as CPNS_A_ADDR4");
			return -EINVAL;
		}
		if (ipv6_addr_type(&ep->in6.sin6_addr) & IPV6_ADDR_LINKLOCAL) {
			NL_SET_ERR_MSG_ATTR(info->extack, a6,
					    "a link-local address needs an interface, which cannot be given");
			return -EINVAL;
		}
		return 0;
	}
	NL_SET_ERR_MSG_ATTR(info->extack, NULL,
			    "missing address (CPNS_A_ADDR4 or CPNS_A_ADDR6)");
	return -EINVAL;
}

static int cpns_put_endpoint(struct sk_buff *msg, const struct cpns_endpoint *ep)
{
	switch (ep->sa.sa_family) {
	case AF_INET:
		if (nla_put_in_addr(msg, CPNS_A_ADDR4, ep->in4.sin_addr.s_addr) ||
		    nla_put_u16(msg, CPNS_A_PORT, ntohs(ep->in4.sin_port)))
			return -EMSGSIZE;
		return 0;
	case AF_INET6:
		if (nla_put_in6_addr(msg, CPNS_A_ADDR6, &ep->in6.sin6_addr) ||
		    nla_put_u16(msg, CPNS_A_PORT, ntohs(ep->in6.sin6_port)))
			return -EMSGSIZE;
		return 0;
	default:
		return 0;
	}
}

/* A reply to a doit: fill with @fill, send. */
static int cpns_reply(struct genl_info *info, u8 cmd,
		      int (*fill)(struct sk_buff *msg, void *arg), void *arg)
{
	struct sk_buff *msg;
	void *hdr;
	int err;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &cpns_genl_family, 0, cmd);
	if (!hdr) {
		err = -EMSGSIZE;
		goto err_free_msg;
	}
	err = fill(msg, arg);
	if (err)
		goto err_free_msg;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free_msg:
	nlmsg_free(msg);
	return err;
}

/* One object of a dump. */
static int cpns_dump_one(struct sk_buff *skb, struct netlink_callback *cb,
			 u8 cmd, int (*fill)(struct sk_buff *msg, void *arg),
			 void *arg)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &cpns_genl_family, NLM_F_MULTI, cmd);
	if (!hdr)
		return -EMSGSIZE;
	genl_dump_check_consistent(cb, hdr);
	if (fill(skb, arg)) {
		genlmsg_cancel(skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(skb, hdr);
	return 0;
}

/* ---- info, link --------------------------------------------------------- */

static int cpns_fill_info(struct sk_buff *msg, void *arg)
{
	if (nla_put_u32(msg, CPNS_A_VERSION, CPNS_MOD_VERSION) ||
	    nla_put_u32(msg, CPNS_A_AF, cpns_family) ||
	    nla_put_string(msg, CPNS_A_PROFILE, "cpns1"))
		return -EMSGSIZE;
	return 0;
}

static int cpns_nl_info_get(struct sk_buff *skb, struct genl_info *info)
{
	return cpns_reply(info, CPNS_CMD_INFO_GET, cpns_fill_info, NULL);
}

static int cpns_fill_link(struct sk_buff *msg, void *arg)
{
	struct cpns_net *cn = arg;

	if (nla_put_u16(msg, CPNS_A_UDP_PORT, READ_ONCE(cn->udp_port)) ||
	    nla_put_u8(msg, CPNS_A_FORWARDING, READ_ONCE(cn->forwarding)))
		return -EMSGSIZE;
	return 0;
}

static int cpns_nl_link_get(struct sk_buff *skb, struct genl_info *info)
{
	return cpns_reply(info, CPNS_CMD_LINK_GET, cpns_fill_link,
			  cpns_info_net(info));
}

static int cpns_nl_link_set(struct sk_buff *skb, struct genl_info *info)
{
	struct cpns_net *cn = cpns_info_net(info);
	struct nlattr *port = info->attrs[CPNS_A_UDP_PORT];
	struct nlattr *fwd = info->attrs[CPNS_A_FORWARDING];
	int err = 0;

	if (!port && !fwd) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "nothing to set: give CPNS_A_UDP_PORT or CPNS_A_FORWARDING");
		return -EINVAL;
	}
	mutex_lock(&cn->lock);
	/* The port first: if the sockets cannot move, nothing changes. */
	if (port) {
		err = cpns_udp_set_port(cn, nla_get_u16(port), info->extack);
		if (err) {
			NL_SET_BAD_ATTR(info->extack, port);
			goto out_unlock;
		}
	}
	if (fwd)
		WRITE_ONCE(cn->forwarding, nla_get_u8(fwd));
out_unlock:
	mutex_unlock(&cn->lock);
	return err;
}

/* ---- local IDs ---------------------------------------------------------- */

static int cpns_nl_id_add(struct sk_buff *skb, struct genl_info *info)
{
	struct cpns_net *cn = cpns_info_net(info);
	u8 id[CPNS_ID_LEN];
	int err;

	err = cpns_get_id(info, CPNS_A_LOCAL_ID, id);
	if (err)
		return err;
	mutex_lock(&cn->lock);
	/* the other way round, PEER_SET and ROUTE_ADD refuse a local ID */
	if (cpns_dest_find(&cn->ctl.peers, id) ||
	    cpns_dest_find(&cn->ctl.routes, id)) {
		NL_SET_ERR_MSG_MOD(info->extack,
				   "the ID is in the peer or route table");
		err = -EINVAL;
	} else {
		err = cpns_local_id_add(cn, id, info->extack);
	}
	mutex_unlock(&cn->lock);
	if (err == -EEXIST || err == -ENOSPC || err == -EINVAL)
		NL_SET_BAD_ATTR(info->extack, info->attrs[CPNS_A_LOCAL_ID]);
	return err;
}

static int cpns_nl_id_del(struct sk_buff *skb, struct genl_info *info)
{
	struct cpns_net *cn = cpns_info_net(info);
	u8 id[CPNS_ID_LEN];
	int err;

	err = cpns_get_id(info, CPNS_A_LOCAL_ID, id);
	if (err)
		return err;
	mutex_lock(&cn->lock);
	err = cpns_local_id_del(cn, id, info->extack);
	mutex_unlock(&cn->lock);
	if (err)
		NL_SET_BAD_ATTR(info->extack, info->attrs[CPNS_A_LOCAL_ID]);
	return err;
}

static int cpns_fill_id(struct sk_buff *msg, void *arg)
{
	return nla_put(msg, CPNS_A_LOCAL_ID, CPNS_ID_LEN, arg);
}

static int cpns_nl_id_get(struct sk_buff *skb, struct genl_info *info)
{
	struct cpns_net *cn = cpns_info_net(info);
	u8 id[CPNS_ID_LEN];
	bool found;
	int err;

	err = cpns_get_id(info, CPNS_A_LOCAL_ID, id);
	if (err)
		return err;
	mutex_lock(&cn->lock);
	found = cpns_local_id_is_local(cn, id);
	mutex_unlock(&cn->lock);
	if (!found) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[CPNS_A_LOCAL_ID],
				    "no such local ID");
		return -ENOENT;
	}
	return cpns_reply(info, CPNS_CMD_ID_GET, cpns_fill_id, id);
}

static int cpns_nl_id_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct cpns_net *cn = cpns_cb_net(cb);
	struct cpns_local_id *l;
	long idx = 0;

	mutex_lock(&cn->lock);
	cb->seq = cn->ctl.dump_gen;
	list_for_each_entry(l, &cn->ctl.local_ids, list) {
		if (idx++ < cb->args[0])
			continue;
		if (cpns_dump_one(skb, cb, CPNS_CMD_ID_GET, cpns_fill_id,
				  l->id)) {
			idx--;
			break;
		}
	}
	mutex_unlock(&cn->lock);
	cb->args[0] = idx;
	return skb->len;
}

/* ---- peers and routes ------------------------------------------------------ */

static int cpns_fill_peer(struct sk_buff *msg, void *arg)
{
	struct cpns_dest *d = arg;
	struct cpns_dest_conf conf;

	cpns_dest_read(d, &conf);
	if (nla_put(msg, CPNS_A_PEER_ID, CPNS_ID_LEN, d->id) ||
	    cpns_put_endpoint(msg, &conf.addr) ||
	    nla_put_u8(msg, CPNS_A_LEARN, conf.learn) ||
	    nla_put_u8(msg, CPNS_A_UPLINK, READ_ONCE(d->uplink)))
		return -EMSGSIZE;
	return 0;
}

static int cpns_fill_route(struct sk_buff *msg, void *arg)
{
	struct cpns_dest *d = arg;
	struct cpns_dest_conf conf;

	cpns_dest_read(d, &conf);
	if (nla_put(msg, CPNS_A_PEER_ID, CPNS_ID_LEN, d->id))
		return -EMSGSIZE;
	if (conf.has_via)
		return nla_put(msg, CPNS_A_VIA_ID, CPNS_ID_LEN, conf.via);
	if (cpns_put_endpoint(msg, &conf.addr) ||
	    nla_put_u8(msg, CPNS_A_LEARN, conf.learn))
		return -EMSGSIZE;
	return 0;
}

static int cpns_nl_peer_set(struct sk_buff *skb, struct genl_info *info)
{
	struct cpns_net *cn = cpns_info_net(info);
	struct cpns_dest_conf conf = {};
	u8 id[CPNS_ID_LEN];
	bool uplink = false;
	int err;

	err = cpns_get_id(info, CPNS_A_PEER_ID, id);
	if (err)
		return err;
	err = cpns_get_endpoint(info, &conf.addr);
	if (err)
		return err;
	if (info->attrs[CPNS_A_LEARN])
		conf.learn = nla_get_u8(info->attrs[CPNS_A_LEARN]);
	if (info->attrs[CPNS_A_UPLINK])
		uplink = nla_get_u8(info->attrs[CPNS_A_UPLINK]);
	mutex_lock(&cn->lock);
	if (cpns_local_id_is_local(cn, id)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[CPNS_A_PEER_ID],
				    "the peer is a local ID");
		err = -EINVAL;
	} else {
		err = cpns_peer_set(cn, id, &conf, uplink, info->extack);
	}
	mutex_unlock(&cn->lock);
	return err;
}

static int cpns_nl_peer_del(struct sk_buff *skb, struct genl_info *info)
{
	struct cpns_net *cn = cpns_info_net(info);
	u8 id[CPNS_ID_LEN];
	int err;

	err = cpns_get_id(info, CPNS_A_PEER_ID, id);
	if (err)
		return err;
	mutex_lock(&cn->lock);
	err = cpns_peer_del(cn, id, info->extack);
	mutex_unlock(&cn->lock);
	if (err)
		NL_SET_BAD_ATTR(info->extack, info->attrs[CPNS_A_PEER_ID]);
	return err;
}

/* Doit of PEER_GET and ROUTE_GET. */
static int cpns_dest_get(struct genl_info *info, struct rhashtable *tbl,
			 u8 cmd, int (*fill)(struct sk_buff *, void *))
{
	struct cpns_net *cn = cpns_info_net(info);
	struct sk_buff *msg;
	struct cpns_dest *d;
	u8 id[CPNS_ID_LEN];
	void *hdr;
	int err;

	err = cpns_get_id(info, CPNS_A_PEER_ID, id);
	if (err)
		return err;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &cpns_genl_family, 0, cmd);
	if (!hdr) {
		err = -EMSGSIZE;
		goto err_free_msg;
	}
	mutex_lock(&cn->lock);
	d = cpns_dest_find(tbl, id);
	if (!d) {
		NL_SET_BAD_ATTR(info->extack, info->attrs[CPNS_A_PEER_ID]);
		err = -ENOENT;
	} else {
		err = fill(msg, d);
	}
	mutex_unlock(&cn->lock);
	if (err)
		goto err_free_msg;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free_msg:
	nlmsg_free(msg);
	return err;
}

static int cpns_nl_peer_get(struct sk_buff *skb, struct genl_info *info)
{
	struct cpns_net *cn = cpns_info_net(info);

	int err;

	err = cpns_dest_get(info, &cn->ctl.peers, CPNS_CMD_PEER_GET,
			    cpns_fill_peer);
	if (err == -ENOENT)
		NL_SET_ERR_MSG_MOD(info->extack, "no such peer");
	return err;
}

static int cpns_dest_dump(struct sk_buff *skb, struct netlink_callback *cb,
			  struct list_head *list, u8 cmd,
			  int (*fill)(struct sk_buff *, void *))
{
	struct cpns_net *cn = cpns_cb_net(cb);
	struct cpns_dest *d;
	long idx = 0;

	mutex_lock(&cn->lock);
	cb->seq = cn->ctl.dump_gen;
	list_for_each_entry(d, list, list) {
		if (idx++ < cb->args[0])
			continue;
		if (cpns_dump_one(skb, cb, cmd, fill, d)) {
			idx--;
			break;
		}
	}
	mutex_unlock(&cn->lock);
	cb->args[0] = idx;
	return skb->len;
}

static int cpns_nl_peer_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	return cpns_dest_dump(skb, cb, &cpns_cb_net(cb)->ctl.peer_list,
			      CPNS_CMD_PEER_GET, cpns_fill_peer);
}

static int cpns_nl_route_add(struct sk_buff *skb, struct genl_info *info)
{
	struct cpns_net *cn = cpns_info_net(info);
	struct nlattr *via = info->attrs[CPNS_A_VIA_ID];
	struct cpns_dest_conf conf = {};
	u8 id[CPNS_ID_LEN];
	int err;

	err = cpns_get_id(info, CPNS_A_PEER_ID, id);
	if (err)
		return err;
	if (via) {
		if (info->attrs[CPNS_A_ADDR4] || info->attrs[CPNS_A_ADDR6] ||
		    info->attrs[CPNS_A_PORT] || info->attrs[CPNS_A_LEARN]) {
			NL_SET_ERR_MSG_ATTR(info->extack, via,
					    "a route goes via a GW entity or to an address, not both");
			return -EINVAL;
		}
		err = cpns_get_id(info, CPNS_A_VIA_ID, conf.via);
		if (err)
			return err;
		if (!memcmp(conf.via, id, CPNS_ID_LEN)) {
			NL_SET_ERR_MSG_ATTR(info->extack, via,
					    "a route cannot go via its own destination");
			return -EINVAL;
		}
		conf.has_via = true;
	} else {
		err = cpns_get_endpoint(info, &conf.addr);
		if (err)
			return err;
		/* A member PNE's address follows its records (9.9). */
		conf.learn = true;
		if (info->attrs[CPNS_A_LEARN])
			conf.learn = nla_get_u8(info->attrs[CPNS_A_LEARN]);
	}
	mutex_lock(&cn->lock);
	if (cpns_local_id_is_local(cn, id)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[CPNS_A_PEER_ID],
				    "the destination is a local ID");
		err = -EINVAL;
	} else {
		err = cpns_route_add(cn, id, &conf, info->extack);
	}
	mutex_unlock(&cn->lock);
	return err;
}

static int cpns_nl_route_del(struct sk_buff *skb, struct genl_info *info)
{
	struct cpns_net *cn = cpns_info_net(info);
	u8 id[CPNS_ID_LEN];
	int err;

	err = cpns_get_id(info, CPNS_A_PEER_ID, id);
	if (err)
		return err;
	mutex_lock(&cn->lock);
	err = cpns_route_del(cn, id, info->extack);
	mutex_unlock(&cn->lock);
	if (err)
		NL_SET_BAD_ATTR(info->extack, info->attrs[CPNS_A_PEER_ID]);
	return err;
}

static int cpns_nl_route_get(struct sk_buff *skb, struct genl_info *info)
{
	struct cpns_net *cn = cpns_info_net(info);

	int err;

	err = cpns_dest_get(info, &cn->ctl.routes, CPNS_CMD_ROUTE_GET,
			    cpns_fill_route);
	if (err == -ENOENT)
		NL_SET_ERR_MSG_MOD(info->extack, "no such route");
	return err;
}

static int cpns_nl_route_dump(struct sk_buff *skb, struct netlink_callback *cb)
{
	return cpns_dest_dump(skb, cb, &cpns_cb_net(cb)->ctl.route_list,
			      CPNS_CMD_ROUTE_GET, cpns_fill_route);
}

/* ---- sessions ---------------------------------------------------------------- */

static int cpns_put_gen_stats(struct sk_buff *msg, struct cpns_gen *g)
{
	struct nlattr *nest;
	int i;

	nest = nla_nest_start(msg, CPNS_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(msg, CPNS_STAT_TX_RECORDS,
			      atomic64_read(&g->stats[CPNS_GS_TX_RECORDS]),
			      CPNS_STAT_PAD) ||
	    nla_put_u64_64bit(msg, CPNS_STAT_TX_BYTES,
			      atomic64_read(&g->stats[CPNS_GS_TX_BYTES]),
			      CPNS_STAT_PAD) ||
	    nla_put_u64_64bit(msg, CPNS_STAT_RX_RECORDS,
			      atomic64_read(&g->stats[CPNS_GS_RX_RECORDS]),
			      CPNS_STAT_PAD) ||
	    nla_put_u64_64bit(msg, CPNS_STAT_RX_BYTES,
			      atomic64_read(&g->stats[CPNS_GS_RX_BYTES]),
			      CPNS_STAT_PAD))
		goto err_cancel;
	for (i = CPNS_STAT_DROP_SUITE_MISMATCH; i <= CPNS_STAT_DROP_NO_PORT; i++)
		if (nla_put_u64_64bit(msg, i,
				      atomic64_read(&g->stats[CPNS_GS_DROP_FIRST + i -
							      CPNS_STAT_DROP_SUITE_MISMATCH]),
				      CPNS_STAT_PAD))
			goto err_cancel;
	nla_nest_end(msg, nest);
	return 0;

err_cancel:
	nla_nest_cancel(msg, nest);
	return -EMSGSIZE;
}

/* Every non-secret property of a generation (13.2). */
static int cpns_fill_gen(struct sk_buff *msg, void *arg)
{
	struct cpns_gen *g = arg;
	struct cpns_pair *p = g->pair;
	u64 now = cpns_now(), install = g->tx.install, ctr, end, bw;
	struct cpns_gen *o;
	unsigned int seq;
	u8 cur, prev;
	bool has_prev, active;

	spin_lock_bh(&p->lock);
	active = rcu_dereference_protected(p->tx, lockdep_is_held(&p->lock)) == g;
	o = cpns_pair_other(p, g);
	end = install + CPNS_GEN_LIFETIME_MS;
	if (o && o->order > g->order) {
		bw = READ_ONCE(o->both_ways_at);
		if (bw != U64_MAX)
			end = min(end, bw + 60ULL * MSEC_PER_SEC);
	}
	spin_unlock_bh(&p->lock);

	do {
		seq = read_seqcount_begin(&g->rx.seqc);
		cur = g->rx.cur;
		prev = g->rx.prev;
		has_prev = g->rx.has_prev && now < g->rx.prev_expiry;
	} while (read_seqcount_retry(&g->rx.seqc, seq));
	ctr = atomic64_read(&g->tx.ctr);

	if (nla_put(msg, CPNS_A_LOCAL_ID, CPNS_ID_LEN, p->key.local) ||
	    nla_put(msg, CPNS_A_PEER_ID, CPNS_ID_LEN, p->key.peer) ||
	    nla_put_u8(msg, CPNS_A_GENERATION, g->generation) ||
	    nla_put_u8(msg, CPNS_A_SUITE, g->suite) ||
	    nla_put_u8(msg, CPNS_A_ROLE, g->role) ||
	    nla_put_u8(msg, CPNS_A_TX_MODE, g->tx_mode) ||
	    nla_put_u8(msg, CPNS_A_TX_ACTIVE, active) ||
	    nla_put_u64_64bit(msg, CPNS_A_AGE_MS, now - install, CPNS_A_PAD) ||
	    nla_put_u64_64bit(msg, CPNS_A_LIFETIME_MS,
			      now < end ? end - now : 0, CPNS_A_PAD) ||
	    nla_put_u8(msg, CPNS_A_TX_EPOCH, (u8)(ctr >> 32)) ||
	    nla_put_u64_64bit(msg, CPNS_A_TX_SEQ, (u32)ctr, CPNS_A_PAD) ||
	    nla_put_u8(msg, CPNS_A_RX_EPOCH, cur) ||
	    (has_prev && nla_put_u8(msg, CPNS_A_RX_PREV_EPOCH, prev)) ||
	    nla_put_u8(msg, CPNS_A_EXHAUSTED, READ_ONCE(g->tx.exhausted)) ||
	    cpns_put_gen_stats(msg, g))
		return -EMSGSIZE;
	return 0;
}

static int cpns_get_pair_key(struct genl_info *info, struct cpns_pair_key *key)
{
	int err;

	err = cpns_get_id(info, CPNS_A_LOCAL_ID, key->local);
	if (err)
		return err;
	err = cpns_get_id(info, CPNS_A_PEER_ID, key->peer);
	if (err)
		return err;
	if (!memcmp(key->local, key->peer, CPNS_ID_LEN)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[CPNS_A_PEER_ID],
				    "local and peer ID are equal");
		return -EINVAL;
	}
	return 0;
}

/*
 * SESSION_NEW with an address: the peer entry of the pair is set in the
 * same request (address learning at S, PROTOCOL.md 2.1), so that a
 * responder installs a generation and the address its records go to in
 * one step. A missing entry is created before the install and removed
 * again if the install fails; an existing one is updated only after the
 * install succeeded, which cannot fail. On error nothing has changed.
 */
static int cpns_session_new_addr(struct cpns_net *cn,
				 struct cpns_gen_conf *conf,
				 const struct cpns_dest_conf *peer, u64 now,
				 struct genl_info *info)
{
	const u8 *id = conf->key.peer;
	struct cpns_dest *d;
	int err;

	lockdep_assert_held(&cn->lock);
	if (cpns_local_id_is_local(cn, id)) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[CPNS_A_PEER_ID],
				    "the peer is a local ID");
		return -EINVAL;
	}
	d = cpns_dest_find(&cn->ctl.peers, id);
	if (!d) {
		err = cpns_peer_set(cn, id, peer, false, info->extack);
		if (err)
			return err;
	}
	err = cpns_session_new(cn, conf, now, info->extack);
	if (err) {
		if (!d)
			cpns_peer_del(cn, id, NULL);
		return err;
	}
	if (d)
		cpns_peer_set(cn, id, peer, cn->ctl.uplink == d, NULL);
	return 0;
}

/*
 * The request buffer is ours, and an error ACK echoes it: no copy of a
 * secret outlives the request.
 */
static void cpns_nl_wipe_secrets(struct genl_info *info)
{
	struct nlattr *txs = info->attrs[CPNS_A_TX_SECRET];
	struct nlattr *rxs = info->attrs[CPNS_A_RX_SECRET];

	if (txs)
		memzero_explicit(nla_data(txs), nla_len(txs));
	if (rxs)
		memzero_explicit(nla_data(rxs), nla_len(rxs));
}

static int cpns_nl_session_new(struct sk_buff *skb, struct genl_info *info)
{
	static const int required[] = {
		CPNS_A_GENERATION, CPNS_A_SUITE, CPNS_A_ROLE, CPNS_A_TX_MODE,
		CPNS_A_TX_SECRET, CPNS_A_RX_SECRET,
	};
	struct cpns_net *cn = cpns_info_net(info);
	struct nlattr *txs = info->attrs[CPNS_A_TX_SECRET];
	struct nlattr *rxs = info->attrs[CPNS_A_RX_SECRET];
	bool has_addr = info->attrs[CPNS_A_ADDR4] || info->attrs[CPNS_A_ADDR6];
	struct cpns_dest_conf peer = {};
	struct cpns_gen_conf conf;
	int i, err;

	memset(&conf, 0, sizeof(conf));
	err = cpns_get_pair_key(info, &conf.key);
	if (err)
		goto out_wipe_msg;
	for (i = 0; i < ARRAY_SIZE(required); i++) {
		if (!cpns_need(info, required[i])) {
			err = -EINVAL;
			goto out_wipe_msg;
		}
	}
	if (has_addr) {
		err = cpns_get_endpoint(info, &peer.addr);
		if (err)
			goto out_wipe_msg;
		if (info->attrs[CPNS_A_LEARN])
			peer.learn = nla_get_u8(info->attrs[CPNS_A_LEARN]);
	} else if (info->attrs[CPNS_A_PORT] || info->attrs[CPNS_A_LEARN]) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[CPNS_A_PORT] ?:
				    info->attrs[CPNS_A_LEARN],
				    "a port or address learning needs the peer's address");
		err = -EINVAL;
		goto out_wipe_msg;
	}
	conf.generation = nla_get_u8(info->attrs[CPNS_A_GENERATION]);
	conf.suite = nla_get_u8(info->attrs[CPNS_A_SUITE]);
	conf.role = nla_get_u8(info->attrs[CPNS_A_ROLE]);
	conf.tx_mode = nla_get_u8(info->attrs[CPNS_A_TX_MODE]);
	memcpy(conf.tx_secret, nla_data(txs), CPNS_SECRET_LEN);
	memcpy(conf.rx_secret, nla_data(rxs), CPNS_SECRET_LEN);

	mutex_lock(&cn->lock);
	if (has_addr)
		err = cpns_session_new_addr(cn, &conf, &peer, cpns_now(), info);
	else
		err = cpns_session_new(cn, &conf, cpns_now(), info->extack);
	mutex_unlock(&cn->lock);
	memzero_explicit(&conf, sizeof(conf));

out_wipe_msg:
	cpns_nl_wipe_secrets(info);
	return err;
}

static int cpns_nl_session_del(struct sk_buff *skb, struct genl_info *info)
{
	struct cpns_net *cn = cpns_info_net(info);
	struct cpns_pair_key key;
	u8 generation = 0;
	int err;

	err = cpns_get_pair_key(info, &key);
	if (err)
		return err;
	if (info->attrs[CPNS_A_GENERATION])
		generation = nla_get_u8(info->attrs[CPNS_A_GENERATION]);
	mutex_lock(&cn->lock);
	err = cpns_session_del(cn, &key, generation, info->extack);
	mutex_unlock(&cn->lock);
	if (err)
		NL_SET_BAD_ATTR(info->extack,
				info->attrs[CPNS_A_GENERATION] ?:
				info->attrs[CPNS_A_PEER_ID]);
	return err;
}

static struct cpns_gen *cpns_pair_gen(struct cpns_pair *p, int i)
{
	return rcu_dereference_protected(p->gens[i],
					 lockdep_is_held(&p->cn->lock));
}

static int cpns_nl_session_get(struct sk_buff *skb, struct genl_info *info)
{
	struct cpns_net *cn = cpns_info_net(info);
	struct cpns_gen *g = NULL;
	struct cpns_pair_key key;
	struct cpns_pair *p;
	struct sk_buff *msg;
	u8 generation;
	void *hdr;
	int i, err;

	err = cpns_get_pair_key(info, &key);
	if (err)
		return err;
	if (!cpns_need(info, CPNS_A_GENERATION))
		return -EINVAL;
	generation = nla_get_u8(info->attrs[CPNS_A_GENERATION]);

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &cpns_genl_family, 0,
				CPNS_CMD_SESSION_GET);
	if (!hdr) {
		err = -EMSGSIZE;
		goto err_free_msg;
	}
	mutex_lock(&cn->lock);
	p = cpns_pair_find(cn, &key);
	for (i = 0; p && i < ARRAY_SIZE(p->gens); i++) {
		g = cpns_pair_gen(p, i);
		if (g && g->generation == generation)
			break;
		g = NULL;
	}
	if (!g) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[CPNS_A_GENERATION],
				    "no such generation");
		err = -ENOENT;
	} else {
		err = cpns_fill_gen(msg, g);
	}
	mutex_unlock(&cn->lock);
	if (err)
		goto err_free_msg;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free_msg:
	nlmsg_free(msg);
	return err;
}

/* Dump of every generation, optionally of one local ID and/or peer;
 * args[0] counts the pairs done, args[1] the generations done of the
 * current pair.
 */
static int cpns_nl_session_dump(struct sk_buff *skb,
				struct netlink_callback *cb)
{
	const struct genl_dumpit_info *di = genl_dumpit_info(cb);
	struct nlattr *fl = di->attrs[CPNS_A_LOCAL_ID];
	struct nlattr *fp = di->attrs[CPNS_A_PEER_ID];
	struct cpns_net *cn = cpns_cb_net(cb);
	struct cpns_pair *p;
	struct cpns_gen *g;
	long idx = 0;
	int i;

	mutex_lock(&cn->lock);
	cb->seq = cn->ctl.dump_gen;
	list_for_each_entry(p, &cn->ctl.pair_list, list) {
		if (idx < cb->args[0]) {
			idx++;
			continue;
		}
		if ((fl && memcmp(nla_data(fl), p->key.local, CPNS_ID_LEN)) ||
		    (fp && memcmp(nla_data(fp), p->key.peer, CPNS_ID_LEN))) {
			idx++;
			continue;
		}
		for (i = cb->args[1]; i < ARRAY_SIZE(p->gens); i++) {
			g = cpns_pair_gen(p, i);
			if (!g)
				continue;
			if (cpns_dump_one(skb, cb, CPNS_CMD_SESSION_GET,
					  cpns_fill_gen, g)) {
				cb->args[1] = i;
				goto out;
			}
		}
		cb->args[1] = 0;
		idx++;
	}
out:
	mutex_unlock(&cn->lock);
	cb->args[0] = idx;
	return skb->len;
}

static int cpns_nl_session_flush(struct sk_buff *skb, struct genl_info *info)
{
	struct cpns_net *cn = cpns_info_net(info);
	u8 id[CPNS_ID_LEN];
	int err;

	if (info->attrs[CPNS_A_LOCAL_ID]) {
		err = cpns_get_id(info, CPNS_A_LOCAL_ID, id);
		if (err)
			return err;
	}
	mutex_lock(&cn->lock);
	if (info->attrs[CPNS_A_LOCAL_ID])
		cpns_session_flush_local(cn, id);
	else
		cpns_session_flush(cn);
	mutex_unlock(&cn->lock);
	return 0;
}

/* ---- counters ------------------------------------------------------------ */

static int cpns_fill_stats(struct sk_buff *msg, void *arg)
{
	u64 *v = arg;
	struct nlattr *nest;
	int i;

	nest = nla_nest_start(msg, CPNS_A_STATS);
	if (!nest)
		return -EMSGSIZE;
	for (i = CPNS_STAT_DROP_SHORT; i < __CPNS_STAT_MAX; i++)
		if (nla_put_u64_64bit(msg, i, v[i], CPNS_STAT_PAD))
			return -EMSGSIZE;
	nla_nest_end(msg, nest);
	return 0;
}

static int cpns_nl_stats_get(struct sk_buff *skb, struct genl_info *info)
{
	struct cpns_net *cn = cpns_info_net(info);
	u64 *v;
	int i, err;

	v = kcalloc(__CPNS_STAT_MAX, sizeof(*v), GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	mutex_lock(&cn->lock);
	cpns_stats_read(cn, v);
	for (i = 0; i < __CPNS_STAT_MAX; i++)
		v[i] -= cn->ctl.stats_base[i];
	mutex_unlock(&cn->lock);
	err = cpns_reply(info, CPNS_CMD_STATS_GET, cpns_fill_stats, v);
	kfree(v);
	return err;
}

static int cpns_nl_stats_reset(struct sk_buff *skb, struct genl_info *info)
{
	struct cpns_net *cn = cpns_info_net(info);

	/* The per-CPU counters keep running; reads subtract this base. */
	mutex_lock(&cn->lock);
	cpns_stats_read(cn, cn->ctl.stats_base);
	mutex_unlock(&cn->lock);
	return 0;
}

/* ---- notifications ------------------------------------------------------- */

/* Send @msg to the "events" group; count it lost if a subscriber missed it. */
static void cpns_nl_multicast(struct cpns_net *cn, struct sk_buff *msg,
			      void *hdr, u32 lost)
{
	int err;

	genlmsg_end(msg, hdr);
	err = genlmsg_multicast_netns(&cpns_genl_family, cn->net, msg, 0, 0,
				      GFP_ATOMIC);
	if (err == -ESRCH)	/* nobody listens: nothing was lost */
		atomic_add(lost, &cn->ctl.ntf_lost);
	else if (err)
		atomic_add(lost + 1, &cn->ctl.ntf_lost);
}

/* Start an event; NULL when nobody listens or on allocation failure. */
static struct sk_buff *cpns_nl_event(struct cpns_net *cn, u8 cmd, void **hdr,
				     u32 *lost)
{
	struct sk_buff *msg;

	if (!genl_has_listeners(&cpns_genl_family, cn->net, 0))
		return NULL;
	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_ATOMIC);
	if (!msg)
		goto err_count;
	*hdr = genlmsg_put(msg, 0, 0, &cpns_genl_family, 0, cmd);
	if (!*hdr)
		goto err_free_msg;
	*lost = atomic_xchg(&cn->ctl.ntf_lost, 0);
	if (nla_put_u32(msg, CPNS_A_LOST, *lost)) {
		atomic_add(*lost, &cn->ctl.ntf_lost);
		goto err_free_msg;
	}
	return msg;

err_free_msg:
	nlmsg_free(msg);
err_count:
	atomic_inc(&cn->ctl.ntf_lost);
	return NULL;
}

static void cpns_nl_event_failed(struct cpns_net *cn, struct sk_buff *msg,
				 u32 lost)
{
	nlmsg_free(msg);
	atomic_add(lost + 1, &cn->ctl.ntf_lost);
}

static int cpns_put_gen_ids(struct sk_buff *msg, struct cpns_gen *g)
{
	struct cpns_pair *p = g->pair;

	if (nla_put(msg, CPNS_A_LOCAL_ID, CPNS_ID_LEN, p->key.local) ||
	    nla_put(msg, CPNS_A_PEER_ID, CPNS_ID_LEN, p->key.peer) ||
	    nla_put_u8(msg, CPNS_A_GENERATION, g->generation))
		return -EMSGSIZE;
	return 0;
}

/**
 * cpns_nl_notify_epoch() - a transmit or receive epoch reached 224 (2.9)
 * @cn: the namespace
 * @g: the generation; alive for the caller
 * @dir: CPNS_DIR_TX or CPNS_DIR_RX
 * @epoch: the epoch reached
 *
 * Any context.
 */
void cpns_nl_notify_epoch(struct cpns_net *cn, struct cpns_gen *g,
			  enum cpns_dir dir, u8 epoch)
{
	struct sk_buff *msg;
	void *hdr;
	u32 lost;

	msg = cpns_nl_event(cn, CPNS_CMD_EPOCH_NTF, &hdr, &lost);
	if (!msg)
		return;
	if (cpns_put_gen_ids(msg, g) ||
	    nla_put_u8(msg, CPNS_A_DIRECTION, dir) ||
	    nla_put_u8(msg, CPNS_A_EPOCH, epoch))
		return cpns_nl_event_failed(cn, msg, lost);
	cpns_nl_multicast(cn, msg, hdr, lost);
}

/**
 * cpns_nl_notify_tx_switched() - a pair transmits on another generation
 * @cn: the namespace
 * @g: the generation transmitted on from now on; alive for the caller
 *
 * Any context.
 */
void cpns_nl_notify_tx_switched(struct cpns_net *cn, struct cpns_gen *g)
{
	struct sk_buff *msg;
	void *hdr;
	u32 lost;

	msg = cpns_nl_event(cn, CPNS_CMD_TX_SWITCHED_NTF, &hdr, &lost);
	if (!msg)
		return;
	if (cpns_put_gen_ids(msg, g))
		return cpns_nl_event_failed(cn, msg, lost);
	cpns_nl_multicast(cn, msg, hdr, lost);
}

/**
 * cpns_nl_notify_erased() - a generation was erased
 * @cn: the namespace
 * @g: the generation, unlinked but not yet freed
 * @cause: why
 *
 * Process context, cpns_net.lock held.
 */
void cpns_nl_notify_erased(struct cpns_net *cn, struct cpns_gen *g,
			   enum cpns_erase_cause cause)
{
	struct sk_buff *msg;
	void *hdr;
	u32 lost;

	msg = cpns_nl_event(cn, CPNS_CMD_SESSION_ERASED_NTF, &hdr, &lost);
	if (!msg)
		return;
	if (cpns_put_gen_ids(msg, g) || nla_put_u8(msg, CPNS_A_CAUSE, cause))
		return cpns_nl_event_failed(cn, msg, lost);
	cpns_nl_multicast(cn, msg, hdr, lost);
}

/*
 * At most one NO_SESSION notification per pair per second (13.4), and at
 * most CPNS_NOSESS_PER_SEC in all: the source ID of a record is not
 * authenticated, and a flood naming a new one in each datagram must not
 * turn into as many notifications and push the others out of listeners'
 * buffers.
 */
#define CPNS_NOSESS_INTERVAL_MS	1000
#define CPNS_NOSESS_PER_SEC	64

static bool cpns_nosess_allow(struct cpns_net *cn, const struct cpns_rec *rec)
{
	struct cpns_ctl *ctl = &cn->ctl;
	u32 tag = jhash(rec->src, CPNS_ID_LEN,
			jhash(rec->dst, CPNS_ID_LEN, ctl->nosess_seed));
	unsigned int b = tag % ARRAY_SIZE(ctl->nosess);
	u64 now = cpns_now();
	bool allow;

	spin_lock_bh(&ctl->nosess_lock);
	if (now >= ctl->nosess_window + CPNS_NOSESS_INTERVAL_MS) {
		ctl->nosess_window = now;
		ctl->nosess_sent = 0;
	}
	allow = ctl->nosess_sent < CPNS_NOSESS_PER_SEC &&
		(ctl->nosess[b].tag != tag || !ctl->nosess[b].last ||
		 now >= ctl->nosess[b].last + CPNS_NOSESS_INTERVAL_MS);
	if (allow) {
		ctl->nosess[b].tag = tag;
		ctl->nosess[b].last = now ?: 1;
		ctl->nosess_sent++;
	}
	spin_unlock_bh(&ctl->nosess_lock);
	return allow;
}

/**
 * cpns_nl_notify_no_session() - a record was dropped NO_SESSION
 * @cn: the namespace
 * @rec: the record's header
 * @from: the datagram's UDP source address
 *
 * Rate-limited to one notification per (src, dst) per second, pairs that
 * share a bucket of the limiter evicting each other, and to
 * CPNS_NOSESS_PER_SEC a second in the namespace. Any context.
 */
void cpns_nl_notify_no_session(struct cpns_net *cn, const struct cpns_rec *rec,
			       const struct cpns_endpoint *from)
{
	struct sk_buff *msg;
	void *hdr;
	u32 lost;

	if (!genl_has_listeners(&cpns_genl_family, cn->net, 0) ||
	    !cpns_nosess_allow(cn, rec))
		return;
	msg = cpns_nl_event(cn, CPNS_CMD_NO_SESSION_NTF, &hdr, &lost);
	if (!msg)
		return;
	if (nla_put(msg, CPNS_A_SRC_ID, CPNS_ID_LEN, rec->src) ||
	    nla_put(msg, CPNS_A_DST_ID, CPNS_ID_LEN, rec->dst) ||
	    nla_put_u8(msg, CPNS_A_GENERATION, rec->generation) ||
	    cpns_put_endpoint(msg, from))
		return cpns_nl_event_failed(cn, msg, lost);
	cpns_nl_multicast(cn, msg, hdr, lost);
}

/* ---- family ---------------------------------------------------------------- */

#define CPNS_NL_A(x)	BIT_ULL(CPNS_A_##x)
#define CPNS_NL_ADDR	(CPNS_NL_A(ADDR4) | CPNS_NL_A(ADDR6) | CPNS_NL_A(PORT) | \
			 CPNS_NL_A(LEARN))

/*
 * The attributes each request may carry: the request attributes of the
 * spec (Documentation/netlink/specs/cpns.yaml). One the command would
 * ignore is refused, so that a request never does less than it says: a
 * flush that names a peer would otherwise flush every pair.
 */
static const u64 cpns_nl_attrs[CPNS_CMD_MAX + 1] = {
	[CPNS_CMD_LINK_SET] = CPNS_NL_A(UDP_PORT) | CPNS_NL_A(FORWARDING),
	[CPNS_CMD_ID_ADD] = CPNS_NL_A(LOCAL_ID),
	[CPNS_CMD_ID_DEL] = CPNS_NL_A(LOCAL_ID),
	[CPNS_CMD_ID_GET] = CPNS_NL_A(LOCAL_ID),
	[CPNS_CMD_PEER_SET] = CPNS_NL_A(PEER_ID) | CPNS_NL_ADDR |
			      CPNS_NL_A(UPLINK),
	[CPNS_CMD_PEER_DEL] = CPNS_NL_A(PEER_ID),
	[CPNS_CMD_PEER_GET] = CPNS_NL_A(PEER_ID),
	[CPNS_CMD_ROUTE_ADD] = CPNS_NL_A(PEER_ID) | CPNS_NL_A(VIA_ID) |
			       CPNS_NL_ADDR,
	[CPNS_CMD_ROUTE_DEL] = CPNS_NL_A(PEER_ID),
	[CPNS_CMD_ROUTE_GET] = CPNS_NL_A(PEER_ID),
	[CPNS_CMD_SESSION_NEW] = CPNS_NL_A(LOCAL_ID) | CPNS_NL_A(PEER_ID) |
				 CPNS_NL_A(GENERATION) | CPNS_NL_A(SUITE) |
				 CPNS_NL_A(ROLE) | CPNS_NL_A(TX_MODE) |
				 CPNS_NL_A(TX_SECRET) | CPNS_NL_A(RX_SECRET) |
				 CPNS_NL_ADDR,
	[CPNS_CMD_SESSION_DEL] = CPNS_NL_A(LOCAL_ID) | CPNS_NL_A(PEER_ID) |
				 CPNS_NL_A(GENERATION),
	[CPNS_CMD_SESSION_GET] = CPNS_NL_A(LOCAL_ID) | CPNS_NL_A(PEER_ID) |
				 CPNS_NL_A(GENERATION),
	[CPNS_CMD_SESSION_FLUSH] = CPNS_NL_A(LOCAL_ID),
};

static int cpns_nl_pre_doit(const struct genl_ops *ops, struct sk_buff *skb,
			    struct genl_info *info)
{
	unsigned int i;

	BUILD_BUG_ON(CPNS_A_MAX >= 64);
	for (i = 1; i <= CPNS_A_MAX; i++) {
		if (!info->attrs[i] || cpns_nl_attrs[ops->cmd] & BIT_ULL(i))
			continue;
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[i],
				    "attribute not used by this command");
		cpns_nl_wipe_secrets(info);
		return -EINVAL;
	}
	return 0;
}

static const struct genl_ops cpns_genl_ops[] = {
	{
		.cmd = CPNS_CMD_INFO_GET,
		.validate = GENL_DONT_VALIDATE_DUMP,
		.doit = cpns_nl_info_get,
	},
	{
		.cmd = CPNS_CMD_LINK_GET,
		.validate = GENL_DONT_VALIDATE_DUMP,
		.doit = cpns_nl_link_get,
	},
	{
		.cmd = CPNS_CMD_LINK_SET,
		.doit = cpns_nl_link_set,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CPNS_CMD_ID_ADD,
		.doit = cpns_nl_id_add,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CPNS_CMD_ID_DEL,
		.doit = cpns_nl_id_del,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CPNS_CMD_ID_GET,
		.doit = cpns_nl_id_get,
		.dumpit = cpns_nl_id_dump,
	},
	{
		.cmd = CPNS_CMD_PEER_SET,
		.doit = cpns_nl_peer_set,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CPNS_CMD_PEER_DEL,
		.doit = cpns_nl_peer_del,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CPNS_CMD_PEER_GET,
		.doit = cpns_nl_peer_get,
		.dumpit = cpns_nl_peer_dump,
	},
	{
		.cmd = CPNS_CMD_ROUTE_ADD,
		.doit = cpns_nl_route_add,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CPNS_CMD_ROUTE_DEL,
		.doit = cpns_nl_route_del,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CPNS_CMD_ROUTE_GET,
		.doit = cpns_nl_route_get,
		.dumpit = cpns_nl_route_dump,
	},
	{
		.cmd = CPNS_CMD_SESSION_NEW,
		.doit = cpns_nl_session_new,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CPNS_CMD_SESSION_DEL,
		.doit = cpns_nl_session_del,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CPNS_CMD_SESSION_GET,
		.doit = cpns_nl_session_get,
		.dumpit = cpns_nl_session_dump,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CPNS_CMD_SESSION_FLUSH,
		.doit = cpns_nl_session_flush,
		.flags = GENL_UNS_ADMIN_PERM,
	},
	{
		.cmd = CPNS_CMD_STATS_GET,
		.validate = GENL_DONT_VALIDATE_DUMP,
		.doit = cpns_nl_stats_get,
	},
	{
		.cmd = CPNS_CMD_STATS_RESET,
		.doit = cpns_nl_stats_reset,
		.flags = GENL_UNS_ADMIN_PERM,
	},
};

static const struct genl_multicast_group cpns_mcgrps[] = {
	/* the events name sessions, as SESSION_GET does: CAP_NET_ADMIN */
	{ .name = CPNS_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_NET_ADMIN },
};

static struct genl_family cpns_genl_family __ro_after_init = {
	.name = CPNS_GENL_NAME,
	.version = CPNS_GENL_VERSION,
	.maxattr = CPNS_A_MAX,
	.policy = cpns_policy,
	.pre_doit = cpns_nl_pre_doit,
	.netnsok = true,
	.module = THIS_MODULE,
	.ops = cpns_genl_ops,
	.n_ops = ARRAY_SIZE(cpns_genl_ops),
	.resv_start_op = CPNS_CMD_MAX + 1,
	.mcgrps = cpns_mcgrps,
	.n_mcgrps = ARRAY_SIZE(cpns_mcgrps),
};

/**
 * cpns_genl_init() - register the generic netlink family
 *
 * Return: 0 or a negative errno.
 */
int cpns_genl_init(void)
{
	return genl_register_family(&cpns_genl_family);
}

/**
 * cpns_genl_exit() - unregister the generic netlink family
 */
void cpns_genl_exit(void)
{
	genl_unregister_family(&cpns_genl_family);
}

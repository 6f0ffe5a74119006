// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: the AF_CPNS socket family (PROTOCOL.md 13.5, 13.6).
 *
 * The family number is a module parameter because Linux 6.1 has no free
 * address family below AF_MAX; the default is a slot whose family was
 * removed from the kernel. Userspace finds the number in use through the
 * generic netlink "info" command or /sys/module/cpns/parameters/family.
 *
 * Bound sockets sit in a per-namespace hash of (entity ID, port) that the
 * packet path reads under RCU. release() unhashes the socket and waits for
 * a grace period before it drops the last reference (as AF_PACKET does),
 * so no reader can still hold it; freeing stays synchronous, and with it
 * the module reference a socket holds.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/jhash.h>
#include <linux/module.h>
#include <linux/net.h>
#include <linux/random.h>
#include <linux/socket.h>
#include <net/sock.h>
#include <asm/unaligned.h>

#include "cpns.h"

int cpns_family = CPNS_AF_DEFAULT;
module_param_named(family, cpns_family, int, 0444);
MODULE_PARM_DESC(family, "address family number of AF_CPNS (default 19, a dead slot)");

static const u8 cpns_id_any[CPNS_ID_LEN];

/**
 * struct cpns_sock - an AF_CPNS socket
 * @sk: the socket; must be first
 * @node: entry in cpns_dp.socks while bound; changed under
 *	cpns_dp.sock_lock, walked under RCU
 * @id: bound entity ID (all-zero: every local ID, handshake socket only);
 *	written under the socket lock before hashing, constant while hashed
 * @port: bound port; as @id
 * @bound: @id and @port are valid; under the socket lock
 * @connected: @peer_id and @peer_port are the default destination; under
 *	the socket lock
 * @peer_id: default destination entity ID; under the socket lock
 * @peer_port: default destination port; under the socket lock
 * @handshake: the handshake socket (CPNS_HANDSHAKE); under the socket lock,
 *	constant once bound
 * @integrity_allowed: delivery policy of the bound port (2.11); written
 *	under the socket lock, read locklessly by the packet path
 * @recvinfo: add CPNS_CMSG_RECVINFO to received messages; written under
 *	the socket lock, read locklessly by recvmsg
 */
struct cpns_sock {
	struct sock sk;
	struct hlist_node node;
	u8 id[CPNS_ID_LEN];
	u16 port;
	bool bound;
	bool connected;
	u8 peer_id[CPNS_ID_LEN];
	u16 peer_port;
	bool handshake;
	bool integrity_allowed;
	bool recvinfo;
};

static inline struct cpns_sock *cpns_sk(const struct sock *sk)
{
	return container_of(sk, struct cpns_sock, sk);
}

static struct proto cpns_proto = {
	.name = "CPNS",
	.owner = THIS_MODULE,
	.obj_size = sizeof(struct cpns_sock),
};

static struct hlist_head *cpns_sock_bucket(struct cpns_net *cn,
					   const u8 id[CPNS_ID_LEN], u16 port)
{
	u32 h = jhash(id, CPNS_ID_LEN, port);

	return &cn->dp.socks[hash_32(h, CPNS_SOCK_HASH_BITS)];
}

static struct cpns_sock *cpns_sock_find(struct cpns_net *cn,
					const u8 id[CPNS_ID_LEN], u16 port)
{
	struct cpns_sock *cs;

	hlist_for_each_entry_rcu(cs, cpns_sock_bucket(cn, id, port), node,
				 lockdep_is_held(&cn->dp.sock_lock))
		if (cs->port == port && !memcmp(cs->id, id, CPNS_ID_LEN))
			return cs;
	return NULL;
}

/**
 * cpns_sock_lookup() - the socket that receives records for (@id, @port)
 * @cn: the namespace
 * @id: destination entity ID of the record
 * @port: destination port
 *
 * Port 1 falls back to a handshake socket bound to every local ID. Call
 * under rcu_read_lock(); the socket stays valid until it is unlocked.
 *
 * Return: the socket, or NULL (NO_PORT).
 */
struct sock *cpns_sock_lookup(struct cpns_net *cn, const u8 id[CPNS_ID_LEN],
			      u16 port)
{
	struct cpns_sock *cs = cpns_sock_find(cn, id, port);

	if (!cs && port == CPNS_PORT_HANDSHAKE)
		cs = cpns_sock_find(cn, cpns_id_any, port);
	return cs ? &cs->sk : NULL;
}

/**
 * cpns_sock_integrity_allowed() - delivery policy of a bound port (2.11)
 * @sk: a socket found by cpns_sock_lookup()
 *
 * Return: true when C=0 data records may be delivered to @sk.
 */
bool cpns_sock_integrity_allowed(const struct sock *sk)
{
	return READ_ONCE(cpns_sk(sk)->integrity_allowed);
}

/* Is (@id, @port) free? Port 1 is held per ID or for all IDs at once. */
static bool cpns_sock_port_free(struct cpns_net *cn, const u8 id[CPNS_ID_LEN],
				u16 port)
{
	struct cpns_sock *cs;
	unsigned int i;

	if (cpns_sock_find(cn, id, port))
		return false;
	if (port != CPNS_PORT_HANDSHAKE)
		return true;
	if (memcmp(id, cpns_id_any, CPNS_ID_LEN))
		return !cpns_sock_find(cn, cpns_id_any, port);
	for (i = 0; i < ARRAY_SIZE(cn->dp.socks); i++)
		hlist_for_each_entry(cs, &cn->dp.socks[i], node)
			if (cs->port == CPNS_PORT_HANDSHAKE)
				return false;
	return true;
}

static int cpns_sock_hash(struct cpns_net *cn, struct cpns_sock *cs,
			  const u8 id[CPNS_ID_LEN], u16 port)
{
	u32 range = CPNS_PORT_AUTO_MAX - CPNS_PORT_AUTO_MIN + 1;
	u32 i, start;
	int ret = 0;

	spin_lock_bh(&cn->dp.sock_lock);
	/* Tested under the lock so that cpns_sock_local_id_removed(), which
	 * runs after the ID left the list, sees every socket bound to it.
	 */
	rcu_read_lock();
	if (memcmp(id, cpns_id_any, CPNS_ID_LEN) &&
	    !cpns_local_id_is_local(cn, id))
		ret = -EADDRNOTAVAIL;
	rcu_read_unlock();
	if (ret)
		goto out_unlock;

	if (!port) {
		start = get_random_u32_below(range);
		for (i = 0; i < range; i++) {
			u16 p = CPNS_PORT_AUTO_MIN + (start + i) % range;

			if (cpns_sock_port_free(cn, id, p)) {
				port = p;
				break;
			}
		}
		if (!port) {
			ret = -EADDRINUSE;
			goto out_unlock;
		}
	} else if (!cpns_sock_port_free(cn, id, port)) {
		ret = -EADDRINUSE;
		goto out_unlock;
	}

	memcpy(cs->id, id, CPNS_ID_LEN);
	cs->port = port;
	hlist_add_head_rcu(&cs->node, cpns_sock_bucket(cn, id, port));
	cs->bound = true;
out_unlock:
	spin_unlock_bh(&cn->dp.sock_lock);
	return ret;
}

static void cpns_sock_unhash(struct cpns_net *cn, struct cpns_sock *cs)
{
	spin_lock_bh(&cn->dp.sock_lock);
	hlist_del_init_rcu(&cs->node);
	spin_unlock_bh(&cn->dp.sock_lock);
}

/**
 * cpns_sock_local_id_removed() - a local entity ID went away
 * @cn: the namespace
 * @id: the removed ID, already gone from the list of local IDs
 *
 * Sockets bound to @id keep their port and their queued records; a
 * blocked or later receive reports ENETDOWN once the queue is empty, and
 * sending fails with EADDRNOTAVAIL (checked per send). Process context.
 */
void cpns_sock_local_id_removed(struct cpns_net *cn, const u8 id[CPNS_ID_LEN])
{
	struct cpns_sock *cs;
	unsigned int i;

	spin_lock_bh(&cn->dp.sock_lock);
	for (i = 0; i < ARRAY_SIZE(cn->dp.socks); i++) {
		hlist_for_each_entry(cs, &cn->dp.socks[i], node) {
			if (memcmp(cs->id, id, CPNS_ID_LEN))
				continue;
			WRITE_ONCE(cs->sk.sk_err, ENETDOWN);
			sk_error_report(&cs->sk);
		}
	}
	spin_unlock_bh(&cn->dp.sock_lock);
}

static int cpns_addr_get(const struct sockaddr *uaddr, int len,
			 const struct sockaddr_cpns **out)
{
	const struct sockaddr_cpns *sa = (const struct sockaddr_cpns *)uaddr;

	if (len < (int)sizeof(*sa))
		return -EINVAL;
	if (sa->scpns_family != cpns_family)
		return -EAFNOSUPPORT;
	if (sa->scpns_flags || memchr_inv(sa->__reserved, 0,
					  sizeof(sa->__reserved)))
		return -EINVAL;
	*out = sa;
	return 0;
}

static bool cpns_sa_id_valid(const u8 id[CPNS_ID_LEN])
{
	return memchr_inv(id, 0x00, CPNS_ID_LEN) &&
	       memchr_inv(id, 0xff, CPNS_ID_LEN);
}

static int cpns_bind(struct socket *sock, struct sockaddr *uaddr, int len)
{
	struct sock *sk = sock->sk;
	struct cpns_sock *cs = cpns_sk(sk);
	struct cpns_net *cn = cpns_net(sock_net(sk));
	const struct sockaddr_cpns *sa;
	bool any;
	int ret;

	ret = cpns_addr_get(uaddr, len, &sa);
	if (ret)
		return ret;
	any = !memchr_inv(sa->scpns_id, 0, CPNS_ID_LEN);

	lock_sock(sk);
	ret = -EINVAL;
	if (cs->bound)
		goto out_release;
	/* The handshake socket lives on port 1 and nowhere else. */
	if (cs->handshake && sa->scpns_port != CPNS_PORT_HANDSHAKE)
		goto out_release;
	ret = -EADDRNOTAVAIL;
	if (!cpns_sa_id_valid(sa->scpns_id) &&
	    !(any && sa->scpns_port == CPNS_PORT_HANDSHAKE))
		goto out_release;
	/* Port 1 needs the CPNS_HANDSHAKE option, which needs CAP_NET_ADMIN;
	 * the capability is checked again here, at the time of binding.
	 */
	ret = -EACCES;
	if (sa->scpns_port == CPNS_PORT_HANDSHAKE &&
	    (!cs->handshake ||
	     !ns_capable(sock_net(sk)->user_ns, CAP_NET_ADMIN)))
		goto out_release;
	if (sa->scpns_port > CPNS_PORT_HANDSHAKE &&
	    sa->scpns_port <= CPNS_PORT_PRIV_MAX &&
	    !ns_capable(sock_net(sk)->user_ns, CAP_NET_BIND_SERVICE))
		goto out_release;

	ret = cpns_sock_hash(cn, cs, sa->scpns_id, sa->scpns_port);
out_release:
	release_sock(sk);
	return ret;
}

static int cpns_connect(struct socket *sock, struct sockaddr *uaddr, int len,
			int flags)
{
	struct sock *sk = sock->sk;
	struct cpns_sock *cs = cpns_sk(sk);
	const struct sockaddr_cpns *sa;
	int ret;

	if (len >= (int)sizeof(sa_family_t) && uaddr->sa_family == AF_UNSPEC) {
		lock_sock(sk);
		cs->connected = false;
		release_sock(sk);
		return 0;
	}
	ret = cpns_addr_get(uaddr, len, &sa);
	if (ret)
		return ret;
	if (!cpns_sa_id_valid(sa->scpns_id) || !sa->scpns_port)
		return -EINVAL;

	lock_sock(sk);
	ret = -EINVAL;
	if (cs->handshake != (sa->scpns_port == CPNS_PORT_HANDSHAKE))
		goto out_release;
	memcpy(cs->peer_id, sa->scpns_id, CPNS_ID_LEN);
	cs->peer_port = sa->scpns_port;
	cs->connected = true;
	ret = 0;
out_release:
	release_sock(sk);
	return ret;
}

static int cpns_getname(struct socket *sock, struct sockaddr *uaddr, int peer)
{
	struct sockaddr_cpns *sa = (struct sockaddr_cpns *)uaddr;
	struct sock *sk = sock->sk;
	struct cpns_sock *cs = cpns_sk(sk);
	int ret = sizeof(*sa);

	memset(sa, 0, sizeof(*sa));
	sa->scpns_family = cpns_family;
	lock_sock(sk);
	if (peer) {
		if (!cs->connected) {
			ret = -ENOTCONN;
		} else {
			memcpy(sa->scpns_id, cs->peer_id, CPNS_ID_LEN);
			sa->scpns_port = cs->peer_port;
		}
	} else if (cs->bound) {
		memcpy(sa->scpns_id, cs->id, CPNS_ID_LEN);
		sa->scpns_port = cs->port;
	}
	release_sock(sk);
	return ret;
}

/* Fill @req from the cmsgs of a sendmsg() call (level SOL_CPNS only). */
static int cpns_cmsg_parse(struct cpns_sock *cs, struct msghdr *msg,
			   struct cpns_tx_req *req, bool *has_src)
{
	struct cmsghdr *cmsg;
	int val;

	for_each_cmsghdr(cmsg, msg) {
		size_t dlen;

		if (!CMSG_OK(msg, cmsg))
			return -EINVAL;
		if (cmsg->cmsg_level != SOL_CPNS)
			return -EINVAL;
		dlen = cmsg->cmsg_len - CMSG_LEN(0);
		switch (cmsg->cmsg_type) {
		case CPNS_CMSG_INTEGRITY_ONLY:
			if (cs->handshake || dlen != sizeof(int))
				return -EINVAL;
			memcpy(&val, CMSG_DATA(cmsg), sizeof(val));
			req->integrity_only = !!val;
			break;
		case CPNS_CMSG_SUITE0:
			if (!cs->handshake || dlen != sizeof(int))
				return -EINVAL;
			memcpy(&val, CMSG_DATA(cmsg), sizeof(val));
			req->suite0 = !!val;
			break;
		case CPNS_CMSG_ENDPOINT: {
			struct cpns_endpoint *ep = &req->endpoint;

			if (!cs->handshake || dlen > sizeof(*ep) ||
			    dlen < sizeof(sa_family_t))
				return -EINVAL;
			memset(ep, 0, sizeof(*ep));
			memcpy(ep, CMSG_DATA(cmsg), dlen);
			if (!(ep->sa.sa_family == AF_INET &&
			      dlen >= sizeof(ep->in4)) &&
			    !(ep->sa.sa_family == AF_INET6 &&
			      dlen >= sizeof(ep->in6)))
				return -EINVAL;
			if ((ep->sa.sa_family == AF_INET && !ep->in4.sin_port) ||
			    (ep->sa.sa_family == AF_INET6 && !ep->in6.sin6_port))
				return -EINVAL;
			req->has_endpoint = true;
			break;
		}
		case CPNS_CMSG_GENERATION:
			if (!cs->handshake || dlen != sizeof(u8))
				return -EINVAL;
			req->generation = *(u8 *)CMSG_DATA(cmsg);
			break;
		case CPNS_CMSG_SRC_ID:
			if (!cs->handshake || dlen != CPNS_ID_LEN)
				return -EINVAL;
			memcpy(req->src, CMSG_DATA(cmsg), CPNS_ID_LEN);
			*has_src = true;
			break;
		default:
			return -EINVAL;
		}
	}
	/* The reply rule and a named generation belong to one kind each. */
	if (req->has_endpoint && !req->suite0)
		return -EINVAL;
	if (req->generation && req->suite0)
		return -EINVAL;
	return 0;
}

static int cpns_sendmsg(struct socket *sock, struct msghdr *msg, size_t len)
{
	struct sock *sk = sock->sk;
	struct cpns_sock *cs = cpns_sk(sk);
	struct cpns_net *cn = cpns_net(sock_net(sk));
	struct cpns_tx_req req = {};
	bool has_src = false;
	bool bound_any;
	int ret;

	if (msg->msg_flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_CMSG_COMPAT))
		return -EOPNOTSUPP;

	lock_sock(sk);
	ret = -EINVAL;
	if (!cs->bound)
		goto out_release;
	memcpy(req.src, cs->id, CPNS_ID_LEN);
	req.src_port = cs->port;
	req.type = cs->handshake ? CPNS_TYPE_HANDSHAKE : CPNS_TYPE_DATA;
	if (msg->msg_name) {
		const struct sockaddr_cpns *sa;

		ret = cpns_addr_get(msg->msg_name, msg->msg_namelen, &sa);
		if (ret)
			goto out_release;
		memcpy(req.dst, sa->scpns_id, CPNS_ID_LEN);
		req.dst_port = sa->scpns_port;
	} else if (cs->connected) {
		memcpy(req.dst, cs->peer_id, CPNS_ID_LEN);
		req.dst_port = cs->peer_port;
	} else {
		ret = -EDESTADDRREQ;
		goto out_release;
	}
	ret = cpns_cmsg_parse(cs, msg, &req, &has_src);
	if (ret)
		goto out_release;
	bound_any = !memcmp(cs->id, cpns_id_any, CPNS_ID_LEN);
	release_sock(sk);

	/* 13.6: port misuse and invalid destinations are EINVAL. */
	if (!cpns_sa_id_valid(req.dst))
		return -EINVAL;
	if (cs->handshake ? req.dst_port != CPNS_PORT_HANDSHAKE :
			    req.dst_port <= CPNS_PORT_HANDSHAKE)
		return -EINVAL;
	if (bound_any != has_src)
		return -EINVAL;
	if (len > CPNS_MAX_PAYLOAD)
		return -EMSGSIZE;
	rcu_read_lock();
	ret = cpns_local_id_is_local(cn, req.src) ? 0 : -EADDRNOTAVAIL;
	rcu_read_unlock();
	if (ret)
		return ret;
	return cpns_send(cn, sk, &req, msg, len);

out_release:
	release_sock(sk);
	return ret;
}

static void cpns_recvinfo_put(struct msghdr *msg, struct sk_buff *skb)
{
	const struct cpns_hdr *hdr = (const struct cpns_hdr *)skb->data;
	const struct cpns_skb_cb *cb = CPNS_SKB_CB(skb);
	struct cpns_recvinfo ri = {};

	ri.suite = hdr->suite;
	ri.flags = (hdr->flags & CPNS_FLAG_C ? CPNS_RI_ENCRYPTED : 0) |
		   (cb->local ? CPNS_RI_LOCAL : 0);
	ri.generation = hdr->generation;
	ri.epoch = hdr->epoch;
	ri.dst_port = get_unaligned_be16(&hdr->dst_port);
	memcpy(ri.dst_id, hdr->dst, CPNS_ID_LEN);
	if (cb->local)
		ri.endpoint.ss_family = AF_UNSPEC;
	else if (cb->from.sa.sa_family == AF_INET)
		memcpy(&ri.endpoint, &cb->from.in4, sizeof(cb->from.in4));
	else
		memcpy(&ri.endpoint, &cb->from.in6, sizeof(cb->from.in6));
	put_cmsg(msg, SOL_CPNS, CPNS_CMSG_RECVINFO, sizeof(ri), &ri);
}

static int cpns_recvmsg(struct socket *sock, struct msghdr *msg, size_t len,
			int flags)
{
	struct sock *sk = sock->sk;
	const struct cpns_hdr *hdr;
	struct sk_buff *skb;
	size_t plen, copied;
	int ret;

	if (flags & ~(MSG_DONTWAIT | MSG_PEEK | MSG_TRUNC | MSG_CMSG_COMPAT))
		return -EOPNOTSUPP;

	skb = skb_recv_datagram(sk, flags, &ret);
	if (!skb)
		return ret;

	hdr = (const struct cpns_hdr *)skb->data;
	plen = skb->len - CPNS_HDR_LEN;
	copied = min(len, plen);
	if (copied < plen)
		msg->msg_flags |= MSG_TRUNC;
	ret = skb_copy_datagram_msg(skb, CPNS_HDR_LEN, msg, copied);
	if (ret)
		goto out_free;

	if (msg->msg_name) {
		DECLARE_SOCKADDR(struct sockaddr_cpns *, sa, msg->msg_name);

		memset(sa, 0, sizeof(*sa));
		sa->scpns_family = cpns_family;
		sa->scpns_port = get_unaligned_be16(&hdr->src_port);
		memcpy(sa->scpns_id, hdr->src, CPNS_ID_LEN);
		msg->msg_namelen = sizeof(*sa);
	}
	sock_recv_cmsgs(msg, sk, skb);
	if (READ_ONCE(cpns_sk(sk)->recvinfo))
		cpns_recvinfo_put(msg, skb);
	ret = flags & MSG_TRUNC ? plen : copied;
out_free:
	skb_free_datagram(sk, skb);
	return ret;
}

static int cpns_setsockopt(struct socket *sock, int level, int optname,
			   sockptr_t optval, unsigned int optlen)
{
	struct sock *sk = sock->sk;
	struct cpns_sock *cs = cpns_sk(sk);
	int val, ret = 0;

	if (level != SOL_CPNS)
		return -ENOPROTOOPT;
	if (optlen < sizeof(int))
		return -EINVAL;
	if (copy_from_sockptr(&val, optval, sizeof(val)))
		return -EFAULT;

	lock_sock(sk);
	switch (optname) {
	case CPNS_HANDSHAKE:
		if (!ns_capable(sock_net(sk)->user_ns, CAP_NET_ADMIN))
			ret = -EPERM;
		else if (cs->bound)
			ret = -EISCONN;
		else
			cs->handshake = !!val;
		break;
	case CPNS_INTEGRITY_ALLOWED:
		if (cs->handshake)
			ret = -EINVAL;
		else
			WRITE_ONCE(cs->integrity_allowed, !!val);
		break;
	case CPNS_RECVINFO:
		WRITE_ONCE(cs->recvinfo, !!val);
		break;
	default:
		ret = -ENOPROTOOPT;
	}
	release_sock(sk);
	return ret;
}

static int cpns_getsockopt(struct socket *sock, int level, int optname,
			   char __user *optval, int __user *optlen)
{
	struct cpns_sock *cs = cpns_sk(sock->sk);
	int val, len;

	if (level != SOL_CPNS)
		return -ENOPROTOOPT;
	if (get_user(len, optlen))
		return -EFAULT;
	if (len < (int)sizeof(int))
		return -EINVAL;

	switch (optname) {
	case CPNS_HANDSHAKE:
		val = READ_ONCE(cs->handshake);
		break;
	case CPNS_INTEGRITY_ALLOWED:
		val = READ_ONCE(cs->integrity_allowed);
		break;
	case CPNS_RECVINFO:
		val = READ_ONCE(cs->recvinfo);
		break;
	default:
		return -ENOPROTOOPT;
	}
	len = sizeof(int);
	if (put_user(len, optlen) || copy_to_user(optval, &val, len))
		return -EFAULT;
	return 0;
}

static int cpns_release(struct socket *sock)
{
	struct sock *sk = sock->sk;
	struct cpns_sock *cs;

	if (!sk)
		return 0;
	cs = cpns_sk(sk);
	lock_sock(sk);
	if (cs->bound) {
		cpns_sock_unhash(cpns_net(sock_net(sk)), cs);
		cs->bound = false;
		/* Packet-path readers that found it are done after this. */
		synchronize_net();
	}
	sock_orphan(sk);
	skb_queue_purge(&sk->sk_receive_queue);
	release_sock(sk);
	sock->sk = NULL;
	sock_put(sk);
	return 0;
}

static struct proto_ops cpns_dgram_ops __ro_after_init = {
	/* .family is set to cpns_family at init */
	.owner = THIS_MODULE,
	.release = cpns_release,
	.bind = cpns_bind,
	.connect = cpns_connect,
	.socketpair = sock_no_socketpair,
	.accept = sock_no_accept,
	.getname = cpns_getname,
	.poll = datagram_poll,
	.ioctl = sock_no_ioctl,
	.listen = sock_no_listen,
	.shutdown = sock_no_shutdown,
	.setsockopt = cpns_setsockopt,
	.getsockopt = cpns_getsockopt,
	.sendmsg = cpns_sendmsg,
	.recvmsg = cpns_recvmsg,
	.mmap = sock_no_mmap,
	.sendpage = sock_no_sendpage,
};

static int cpns_create(struct net *net, struct socket *sock, int protocol,
		       int kern)
{
	struct sock *sk;

	if (sock->type != SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;
	if (protocol)
		return -EPROTONOSUPPORT;

	sk = sk_alloc(net, cpns_family, GFP_KERNEL, &cpns_proto, kern);
	if (!sk)
		return -ENOMEM;
	sock_init_data(sock, sk);
	INIT_HLIST_NODE(&cpns_sk(sk)->node);
	sock->ops = &cpns_dgram_ops;
	return 0;
}

static struct net_proto_family cpns_family_ops = {
	.create = cpns_create,
	.owner = THIS_MODULE,
};

/**
 * cpns_sock_init() - register the AF_CPNS protocol and family
 *
 * Return: 0, -EINVAL for a family number out of range, -EEXIST when the
 * family number is taken, or another negative errno.
 */
int cpns_sock_init(void)
{
	int ret;

	if (cpns_family <= AF_UNSPEC || cpns_family >= NPROTO) {
		pr_err("family=%d is out of range 1..%d\n", cpns_family,
		       NPROTO - 1);
		return -EINVAL;
	}
	cpns_dgram_ops.family = cpns_family;
	cpns_family_ops.family = cpns_family;

	ret = proto_register(&cpns_proto, 1);
	if (ret)
		return ret;
	ret = sock_register(&cpns_family_ops);
	if (ret) {
		if (ret == -EEXIST)
			pr_err("address family %d is in use by another protocol; load with family=N for a free N below %d\n",
			       cpns_family, NPROTO);
		goto err_unregister_proto;
	}
	return 0;

err_unregister_proto:
	proto_unregister(&cpns_proto);
	return ret;
}

/**
 * cpns_sock_exit() - unregister the AF_CPNS family and protocol
 */
void cpns_sock_exit(void)
{
	sock_unregister(cpns_family);
	proto_unregister(&cpns_proto);
}

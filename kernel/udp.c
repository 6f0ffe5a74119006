// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: the UDP transport of a namespace (PROTOCOL.md 2.1). One IPv4 and
 * one IPv6 kernel UDP socket on the listening port receive every record
 * (encap_rcv) and send every record, own or forwarded, from that port.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/wait_bit.h>
#include <net/ip.h>
#include <net/ipv6.h>
#include <net/ipv6_stubs.h>
#include <net/route.h>
#include <net/udp.h>
#include <net/udp_tunnel.h>

#include "cpns.h"

/* encap_rcv: softirq, under the RCU read lock of the UDP receive path.
 * Return 0 (consumed) for every datagram: the listening port carries
 * nothing but records.
 */
static int cpns_udp_recv(struct sock *sk, struct sk_buff *skb)
{
	struct cpns_net *cn = rcu_dereference_sk_user_data(sk);
	struct cpns_endpoint from = {};
	const struct udphdr *uh;

	if (unlikely(!cn))
		goto err_free;
	uh = udp_hdr(skb);
	if (skb->protocol == htons(ETH_P_IP)) {
		from.in4.sin_family = AF_INET;
		from.in4.sin_addr.s_addr = ip_hdr(skb)->saddr;
		from.in4.sin_port = uh->source;
	} else {
		from.in6.sin6_family = AF_INET6;
		from.in6.sin6_addr = ipv6_hdr(skb)->saddr;
		from.in6.sin6_port = uh->source;
		if (ipv6_addr_type(&from.in6.sin6_addr) &
		    IPV6_ADDR_LINKLOCAL)
			from.in6.sin6_scope_id = inet6_iif(skb);
	}
	/* The UDP layer trimmed the skb to the UDP length. */
	if (!pskb_pull(skb, skb_transport_offset(skb) + sizeof(*uh)))
		goto err_free;
	cpns_receive(cn, skb, &from);
	return 0;

err_free:
	kfree_skb(skb);
	return 0;
}

static int cpns_udp_open(struct cpns_net *cn, sa_family_t family, u16 port,
			 struct socket **sockp)
{
	struct udp_tunnel_sock_cfg tcfg = {
		.sk_user_data = cn,
		.encap_type = 1,
		.encap_rcv = cpns_udp_recv,
	};
	struct udp_port_cfg cfg = {
		.family = family,
		.local_udp_port = htons(port),
	};
	int ret;

	if (family == AF_INET) {
		cfg.local_ip.s_addr = htonl(INADDR_ANY);
	} else {
		cfg.local_ip6 = in6addr_any;
		cfg.ipv6_v6only = 1;
	}
	ret = udp_sock_create(cn->net, &cfg, sockp);
	if (ret)
		return ret;
	setup_udp_tunnel_sock(cn->net, *sockp, &tcfg);
	return 0;
}

/* Open both sockets on @port. IPv6 is optional: a kernel booted without it
 * still carries records over IPv4.
 */
static int cpns_udp_open_pair(struct cpns_net *cn, u16 port,
			      struct socket **s4, struct socket **s6,
			      struct netlink_ext_ack *extack)
{
	int ret;

	*s6 = NULL;
	ret = cpns_udp_open(cn, AF_INET, port, s4);
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "cannot open the UDP port (IPv4)");
		return ret;
	}
	ret = cpns_udp_open(cn, AF_INET6, port, s6);
	if (ret == -EAFNOSUPPORT || ret == -EPFNOSUPPORT) {
		*s6 = NULL;
		return 0;
	}
	if (ret) {
		NL_SET_ERR_MSG_MOD(extack, "cannot open the UDP port (IPv6)");
		goto err_release4;
	}
	return 0;

err_release4:
	udp_tunnel_sock_release(*s4);
	*s4 = NULL;
	return ret;
}

/* Swap in new sockets (NULL to close) and release the old ones once no
 * packet-path reader can use them any more. Under cn->lock.
 */
static void cpns_udp_swap(struct cpns_net *cn, struct socket *s4,
			  struct socket *s6)
{
	struct socket *old4, *old6;

	old4 = rcu_replace_pointer(cn->dp.udp4, s4,
				   lockdep_is_held(&cn->lock));
	old6 = rcu_replace_pointer(cn->dp.udp6, s6,
				   lockdep_is_held(&cn->lock));
	if (!old4 && !old6)
		return;
	synchronize_net();
	if (old4)
		udp_tunnel_sock_release(old4);
	if (old6)
		udp_tunnel_sock_release(old6);
}

/**
 * cpns_udp_start() - open the UDP sockets on the configured port
 * @cn: the namespace; cn->lock held
 * @extack: error report
 *
 * Does nothing when they are open already.
 *
 * Return: 0 or a negative errno (-EADDRINUSE when the port is taken).
 */
int cpns_udp_start(struct cpns_net *cn, struct netlink_ext_ack *extack)
{
	struct socket *s4, *s6;
	int ret;

	lockdep_assert_held(&cn->lock);
	if (rcu_access_pointer(cn->dp.udp4))
		return 0;
	ret = cpns_udp_open_pair(cn, READ_ONCE(cn->udp_port), &s4, &s6,
				 extack);
	if (ret)
		return ret;
	cpns_udp_swap(cn, s4, s6);
	return 0;
}

/**
 * cpns_udp_stop() - close the UDP sockets
 * @cn: the namespace; cn->lock held
 *
 * Returns once no receive callback runs on them any more.
 */
void cpns_udp_stop(struct cpns_net *cn)
{
	lockdep_assert_held(&cn->lock);
	cpns_udp_swap(cn, NULL, NULL);
}

/**
 * cpns_udp_set_port() - move the listening port
 * @cn: the namespace; cn->lock held
 * @port: the new port, non-zero
 * @extack: error report
 *
 * When the sockets are open, the new ones are opened before the old ones
 * are closed; on failure nothing changes.
 *
 * Return: 0 or a negative errno.
 */
int cpns_udp_set_port(struct cpns_net *cn, u16 port,
		      struct netlink_ext_ack *extack)
{
	struct socket *s4, *s6;
	int ret;

	lockdep_assert_held(&cn->lock);
	if (!rcu_access_pointer(cn->dp.udp4) || port == cn->udp_port) {
		WRITE_ONCE(cn->udp_port, port);
		return 0;
	}
	ret = cpns_udp_open_pair(cn, port, &s4, &s6, extack);
	if (ret)
		return ret;
	WRITE_ONCE(cn->udp_port, port);
	cpns_udp_swap(cn, s4, s6);
	return 0;
}

static int cpns_udp_xmit4(struct socket *sock, struct sk_buff *skb,
			  const struct sockaddr_in *to)
{
	struct sock *sk = sock->sk;
	struct flowi4 fl4 = {
		.daddr = to->sin_addr.s_addr,
		.fl4_dport = to->sin_port,
		.fl4_sport = inet_sk(sk)->inet_sport,
		.flowi4_proto = IPPROTO_UDP,
	};
	struct rtable *rt;

	rt = ip_route_output_flow(sock_net(sk), &fl4, sk);
	if (IS_ERR(rt)) {
		kfree_skb(skb);
		return PTR_ERR(rt) == -ENETUNREACH ? -EHOSTUNREACH :
						      PTR_ERR(rt);
	}
	if (skb_cow_head(skb, LL_RESERVED_SPACE(rt->dst.dev) +
			      rt->dst.header_len + sizeof(struct iphdr) +
			      sizeof(struct udphdr))) {
		ip_rt_put(rt);
		kfree_skb(skb);
		return -ENOMEM;
	}
	/* DF clear: IP fragmentation is acceptable (2.1). */
	udp_tunnel_xmit_skb(rt, sk, skb, fl4.saddr, fl4.daddr, 0,
			    ip4_dst_hoplimit(&rt->dst), 0, fl4.fl4_sport,
			    fl4.fl4_dport, false, false);
	return 0;
}

#if IS_ENABLED(CONFIG_IPV6)
static int cpns_udp_xmit6(struct socket *sock, struct sk_buff *skb,
			  const struct sockaddr_in6 *to)
{
	struct sock *sk = sock->sk;
	struct flowi6 fl6 = {
		.daddr = to->sin6_addr,
		.fl6_dport = to->sin6_port,
		.fl6_sport = inet_sk(sk)->inet_sport,
		.flowi6_proto = IPPROTO_UDP,
		.flowi6_oif = to->sin6_scope_id,
	};
	struct dst_entry *dst;

	dst = ipv6_stub->ipv6_dst_lookup_flow(sock_net(sk), sk, &fl6, NULL);
	if (IS_ERR(dst)) {
		kfree_skb(skb);
		return PTR_ERR(dst) == -ENETUNREACH ? -EHOSTUNREACH :
						       PTR_ERR(dst);
	}
	if (skb_cow_head(skb, LL_RESERVED_SPACE(dst->dev) + dst->header_len +
			      sizeof(struct ipv6hdr) + sizeof(struct udphdr))) {
		dst_release(dst);
		kfree_skb(skb);
		return -ENOMEM;
	}
	/* Let the stack fragment records above the path MTU (2.1). */
	skb->ignore_df = 1;
	udp_tunnel6_xmit_skb(dst, sk, skb, NULL, &fl6.saddr, &fl6.daddr, 0,
			     ip6_dst_hoplimit(dst), 0, fl6.fl6_sport,
			     fl6.fl6_dport, false);
	return 0;
}
#endif

/**
 * cpns_udp_xmit() - send one record from the listening port
 * @cn: the namespace
 * @skb: the record at skb->data, owned by no socket, scrubbed of any
 *	received state; consumed in every case. Its data is never written:
 *	headroom for the headers is made private (or added) when needed, so
 *	a received, cloned or non-linear skb may be sent as it is.
 * @to: destination address
 *
 * Call under rcu_read_lock() with bottom halves disabled (or in softirq).
 *
 * Return: 0 when handed to the IP layer, -ENETDOWN when the transport is
 * closed, -EHOSTUNREACH when there is no route, another negative errno.
 */
int cpns_udp_xmit(struct cpns_net *cn, struct sk_buff *skb,
		  const struct cpns_endpoint *to)
{
	struct socket *sock;

	skb->dev = NULL;
	skb->mark = 0;
	if (to->sa.sa_family == AF_INET) {
		sock = rcu_dereference(cn->dp.udp4);
		if (!sock)
			goto err_down;
		return cpns_udp_xmit4(sock, skb, &to->in4);
	}
#if IS_ENABLED(CONFIG_IPV6)
	if (to->sa.sa_family == AF_INET6) {
		sock = rcu_dereference(cn->dp.udp6);
		if (!sock)
			goto err_down;
		return cpns_udp_xmit6(sock, skb, &to->in6);
	}
#endif
	kfree_skb(skb);
	return -EAFNOSUPPORT;

err_down:
	kfree_skb(skb);
	return -ENETDOWN;
}

/**
 * cpns_dp_net_init() - set up the data path of a new namespace
 * @cn: the namespace
 *
 * The UDP sockets are opened later, with the first local ID.
 *
 * Return: 0.
 */
int cpns_dp_net_init(struct cpns_net *cn)
{
	unsigned int i;

	RCU_INIT_POINTER(cn->dp.udp4, NULL);
	RCU_INIT_POINTER(cn->dp.udp6, NULL);
	spin_lock_init(&cn->dp.sock_lock);
	for (i = 0; i < ARRAY_SIZE(cn->dp.socks); i++)
		INIT_HLIST_HEAD(&cn->dp.socks[i]);
	atomic_set(&cn->dp.crypt_inflight, 0);
	return 0;
}

/**
 * cpns_dp_net_exit() - stop the data path of a dying namespace
 * @cn: the namespace
 *
 * Closes the UDP sockets; no receive callback runs once this returns.
 * AF_CPNS sockets hold a reference on their namespace, so none is left.
 */
void cpns_dp_net_exit(struct cpns_net *cn)
{
	unsigned int i;

	mutex_lock(&cn->lock);
	cpns_udp_stop(cn);
	mutex_unlock(&cn->lock);
	for (i = 0; i < ARRAY_SIZE(cn->dp.socks); i++)
		WARN_ON_ONCE(!hlist_empty(&cn->dp.socks[i]));
}

/**
 * cpns_dp_crypt_begin() - an AES-256-GCM seal or open of @cn starts
 * @cn: the namespace
 *
 * Before cpns_crypt_run(): its completion may use @cn, which has to stay
 * until cpns_dp_crypt_end(). Any context.
 */
void cpns_dp_crypt_begin(struct cpns_net *cn)
{
	atomic_inc(&cn->dp.crypt_inflight);
}

/**
 * cpns_dp_crypt_end() - the operation of cpns_dp_crypt_begin() is over
 * @cn: the namespace
 *
 * The caller's last use of @cn. Any context.
 */
void cpns_dp_crypt_end(struct cpns_net *cn)
{
	/* The namespace may be freed as soon as the count is zero: the
	 * wake-up uses a wait queue hashed from the address, not @cn.
	 */
	if (atomic_dec_and_test(&cn->dp.crypt_inflight))
		wake_up_var(&cn->dp.crypt_inflight);
}

/**
 * cpns_dp_crypt_drain() - wait for the namespace's running seals and opens
 * @cn: the dying namespace
 *
 * After cpns_dp_net_exit() and cpns_rxq_flush(): no record can start one
 * any more (no UDP socket, no AF_CPNS socket, no queued record). Process
 * context.
 */
void cpns_dp_crypt_drain(struct cpns_net *cn)
{
	wait_var_event(&cn->dp.crypt_inflight,
		       !atomic_read(&cn->dp.crypt_inflight));
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cpns: the data path of a namespace - AF_CPNS sockets (af_cpns.c), the
 * UDP transport (udp.c), sending (send.c), receiving and forwarding
 * (receive.c).
 *
 * This is the interface the control plane (control.h) uses. All functions
 * here run in process context.
 */
#ifndef _CPNS_DATAPATH_H
#define _CPNS_DATAPATH_H

#include <linux/ipv6.h>
#include <linux/net.h>
#include <linux/netdevice.h>
#include <linux/skbuff.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/udp.h>
#include <linux/wait.h>
#include <net/sock.h>
#include <uapi/linux/cpns.h>

#include "control.h"

struct cpns_net;
struct netlink_ext_ack;

#define CPNS_SOCK_HASH_BITS	8

/**
 * struct cpns_dp - data-path state of one namespace (embedded in cpns_net)
 * @udp4: IPv4 UDP socket; replaced under cpns_net.lock, read under RCU
 * @udp6: IPv6 UDP socket; replaced under cpns_net.lock, read under RCU
 * @sock_lock: serialises changes of @socks (bind, release, ID removal);
 *	taken with the _bh variants
 * @socks: bound AF_CPNS sockets hashed by (entity ID, port); changed under
 *	@sock_lock, read under RCU from the packet path
 * @crypt_inflight: AES-256-GCM seals and opens of this namespace's
 *	records that may still finish in a callback (cpns_dp_crypt_begin());
 *	waited for with wait_var_event()
 */
struct cpns_dp {
	struct socket __rcu *udp4;
	struct socket __rcu *udp6;
	spinlock_t sock_lock;
	struct hlist_head socks[1 << CPNS_SOCK_HASH_BITS];
	atomic_t crypt_inflight;
};

/* ---- namespace lifetime (called from netns.c) --------------------------- */
int cpns_dp_net_init(struct cpns_net *cn);
/* Close the UDP sockets and stop receiving; called before the control
 * state is torn down.
 */
void cpns_dp_net_exit(struct cpns_net *cn);
/* Wait until no seal or open of the namespace's records is running; after
 * cpns_dp_net_exit() and cpns_rxq_flush(), when no new one can start.
 */
void cpns_dp_crypt_drain(struct cpns_net *cn);

/* ---- UDP transport (called by the control plane under cn->lock) --------- */
/* Open the UDP sockets on the configured port (first local ID added). */
int cpns_udp_start(struct cpns_net *cn, struct netlink_ext_ack *extack);
/* Close them (last local ID removed). */
void cpns_udp_stop(struct cpns_net *cn);
/* Move to @port: open the new sockets first, then close the old ones; on
 * failure nothing changes.
 */
int cpns_udp_set_port(struct cpns_net *cn, u16 port,
		      struct netlink_ext_ack *extack);

/* ---- sockets -------------------------------------------------------------- */
/* A local ID was removed: sockets bound to it get ENETDOWN-style errors
 * (their pending receive queue is kept, sends fail with EADDRNOTAVAIL).
 */
void cpns_sock_local_id_removed(struct cpns_net *cn,
				const u8 id[CPNS_ID_LEN]);

/* ---- within the data path ------------------------------------------------ */

/* Room in front of a record for the IP and UDP headers and the link layer. */
#define CPNS_SKB_HEADROOM	(LL_MAX_HEADER + sizeof(struct ipv6hdr) + \
				 sizeof(struct udphdr))

/**
 * struct cpns_skb_cb - a received record on its way to an AF_CPNS socket
 * @from: UDP source address of the datagram; AF_UNSPEC when @local
 * @local: delivered within the namespace, never on the wire
 * @cn: the namespace, while the record waits in a queue of rxqueue.c
 *
 * On the socket, the skb's data is the record header followed by the
 * plaintext payload (the tag is trimmed). The last bytes of skb->cb
 * belong to the socket layer (SOCK_SKB_CB).
 */
struct cpns_skb_cb {
	struct cpns_endpoint from;
	bool local;
	struct cpns_net *cn;
};
static_assert(sizeof(struct cpns_skb_cb) <=
	      sizeof_field(struct sk_buff, cb) - sizeof(struct sock_skb_cb));

#define CPNS_SKB_CB(skb) ((struct cpns_skb_cb *)(skb)->cb)

/**
 * struct cpns_tx_req - what a sendmsg() asks for
 * @src: source entity ID (a local one)
 * @dst: destination entity ID
 * @src_port: source port
 * @dst_port: destination port
 * @type: CPNS_TYPE_DATA or CPNS_TYPE_HANDSHAKE
 * @integrity_only: send with C=0 (data records only)
 * @suite0: send an unprotected suite 0 record (handshake socket only)
 * @has_endpoint: send the suite 0 record to @endpoint (the reply rule)
 * @generation: protect under this generation; 0: the pair's transmit one
 * @endpoint: see @has_endpoint
 */
struct cpns_tx_req {
	u8 src[CPNS_ID_LEN];
	u8 dst[CPNS_ID_LEN];
	u16 src_port;
	u16 dst_port;
	u8 type;
	bool integrity_only;
	bool suite0;
	bool has_endpoint;
	u8 generation;
	struct cpns_endpoint endpoint;
};

/* af_cpns.c */
struct sock *cpns_sock_lookup(struct cpns_net *cn, const u8 id[CPNS_ID_LEN],
			      u16 port);
bool cpns_sock_integrity_allowed(const struct sock *sk);

/* udp.c */
int cpns_udp_xmit(struct cpns_net *cn, struct sk_buff *skb,
		  const struct cpns_endpoint *to);

/* udp.c: an AES-256-GCM seal or open of a record of @cn starts, ends */
void cpns_dp_crypt_begin(struct cpns_net *cn);
void cpns_dp_crypt_end(struct cpns_net *cn);

/* send.c */
int cpns_send(struct cpns_net *cn, struct sock *sk,
	      const struct cpns_tx_req *req, struct msghdr *msg, size_t len);

/* receive.c */
void cpns_receive(struct cpns_net *cn, struct sk_buff *skb,
		  const struct cpns_endpoint *from);
void cpns_receive_sealed(struct cpns_net *cn, struct sk_buff *skb,
			 const struct cpns_rec *rec);
void cpns_deliver(struct cpns_net *cn, struct sk_buff *skb,
		  const struct cpns_rec *rec, struct cpns_gen *g);

/* rxqueue.c */
bool cpns_rxq_defer(struct cpns_net *cn, struct sk_buff *skb,
		    const struct cpns_rec *rec);
void cpns_rxq_flush(void);
int cpns_rxq_init(void);
void cpns_rxq_exit(void);

#endif /* _CPNS_DATAPATH_H */

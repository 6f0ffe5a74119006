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
 */
#ifndef _CPNS_CONTROL_H
#define _CPNS_CONTROL_H

#include <linux/in.h>
#include <linux/in6.h>
#include <linux/list.h>
#include <linux/socket.h>
#include <linux/types.h>

#include "crypto.h"

struct cpns_net;
struct netlink_ext_ack;

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

/**
 * struct cpns_ctl - control state of one namespace (embedded in cpns_net)
 * @local_ids: local entity IDs; changed under cpns_net.lock, read under RCU
 */
struct cpns_ctl {
	struct list_head local_ids;
};

/* ---- namespace lifetime (called from netns.c) ------------------------- */
int cpns_ctl_net_init(struct cpns_net *cn);
void cpns_ctl_net_exit(struct cpns_net *cn);

/* ---- local entity IDs --------------------------------------------------- */
/* RCU: is @id one of this namespace's local entity IDs? */
bool cpns_local_id_is_local(struct cpns_net *cn, const u8 id[CPNS_ID_LEN]);

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

/* ---- sessions ------------------------------------------------------------- */
/**
 * struct cpns_gen - one generation of a session (opaque to the data path
 * except for the fields below, defined by the control plane):
 *   struct cpns_tx_dir tx;  struct cpns_rx_dir rx;  u8 suite;  u8 generation;
 */
struct cpns_gen;

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
/* RCU, after cpns_tx_next() and a successful send: schedules derivation,
 * notifies the epoch threshold, counts, records that the generation sent.
 */
void cpns_gen_tx_done(struct cpns_net *cn, struct cpns_gen *g,
		      const struct cpns_tx_slot *slot, size_t bytes, u64 now);
/* RCU, after a successful cpns_rx_commit() (step 12): switches an
 * on-confirm pair to @g, tracks traffic both ways, schedules derivation,
 * notifies, counts.
 */
void cpns_gen_rx_done(struct cpns_net *cn, struct cpns_gen *g,
		      const struct cpns_rx_events *ev, u8 epoch, size_t bytes,
		      u64 now);
/* RCU: cpns_rx_check() or cpns_tx_next() asked for key derivation. */
void cpns_gen_need_derive(struct cpns_gen *g);
/* RCU: count a drop attributed to @g (steps 7b-14). */
void cpns_gen_drop(struct cpns_gen *g, enum cpns_stat reason);

/* ---- notifications ---------------------------------------------------------- */
/* Any context: a record was dropped NO_SESSION (rate-limited inside). */
void cpns_nl_notify_no_session(struct cpns_net *cn, const struct cpns_rec *rec,
			       const struct cpns_endpoint *from);

#endif /* _CPNS_CONTROL_H */

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

#include <linux/net.h>
#include <linux/types.h>
#include <uapi/linux/cpns.h>

struct cpns_net;
struct netlink_ext_ack;

/**
 * struct cpns_dp - data-path state of one namespace (embedded in cpns_net)
 * @udp4: IPv4 UDP socket; replaced under cpns_net.lock, read under RCU
 * @udp6: IPv6 UDP socket; replaced under cpns_net.lock, read under RCU
 */
struct cpns_dp {
	struct socket __rcu *udp4;
	struct socket __rcu *udp6;
};

/* ---- namespace lifetime (called from netns.c) --------------------------- */
int cpns_dp_net_init(struct cpns_net *cn);
/* Close the UDP sockets and stop receiving; called before the control
 * state is torn down.
 */
void cpns_dp_net_exit(struct cpns_net *cn);

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

#endif /* _CPNS_DATAPATH_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cpns: internal types of the module.
 */
#ifndef _CPNS_H
#define _CPNS_H

#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/timekeeping.h>
#include <linux/u64_stats_sync.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>
#include <uapi/linux/cpns.h>

#include "control.h"
#include "datapath.h"

#define CPNS_AF_DEFAULT		19	/* AF_ECONET: removed from Linux in 3.5 */
#define CPNS_MOD_VERSION	1	/* CPNS_A_VERSION */

extern int cpns_family;
extern unsigned int cpns_net_id;

/**
 * struct cpns_pcpu_stats - per-CPU counters of one namespace
 * @syncp: protects @cnt on 32-bit
 * @cnt: indexed by enum cpns_stat
 */
struct cpns_pcpu_stats {
	struct u64_stats_sync syncp;
	u64_stats_t cnt[__CPNS_STAT_MAX];
};

/**
 * struct cpns_net - per-namespace state
 * @lock: serialises configuration changes of this namespace (netlink
 *	writers, namespace exit)
 * @udp_port: UDP listening port; written under @lock, read locklessly
 * @forwarding: forward records not addressed to a local ID; written under
 *	@lock, read locklessly
 * @stats: per-CPU counters; updated anywhere, summed by readers
 * @net: the namespace; constant
 * @ctl: control objects (control.h)
 * @dp: data path (datapath.h)
 */
struct cpns_net {
	struct mutex lock;
	u16 udp_port;
	bool forwarding;
	struct cpns_pcpu_stats __percpu *stats;
	struct net *net;
	struct cpns_ctl ctl;
	struct cpns_dp dp;
};

static inline struct cpns_net *cpns_net(const struct net *net)
{
	return net_generic(net, cpns_net_id);
}

static inline void cpns_stat_add(struct cpns_net *cn, enum cpns_stat s, u64 n)
{
	struct cpns_pcpu_stats *st = get_cpu_ptr(cn->stats);

	u64_stats_update_begin(&st->syncp);
	u64_stats_add(&st->cnt[s], n);
	u64_stats_update_end(&st->syncp);
	put_cpu_ptr(cn->stats);
}

void cpns_stats_read(struct cpns_net *cn, u64 *out);

/**
 * cpns_now() - the clock of the record layer's deadlines
 *
 * The coarse boot-time clock, as WireGuard's timers use: it counts suspend
 * (PROTOCOL.md 1.4) and is read without the clocksource, once per record
 * sent and received; it lags the precise clock by at most a tick, which
 * the deadlines (seconds to hours) do not notice.
 *
 * Return: milliseconds of the coarse boot-time clock.
 */
static inline u64 cpns_now(void)
{
	return ktime_get_coarse_boottime_ns() / NSEC_PER_MSEC;
}

int cpns_netns_init(void);
void cpns_netns_exit(void);
int cpns_sock_init(void);
void cpns_sock_exit(void);
int cpns_genl_init(void);
void cpns_genl_exit(void);

#endif /* _CPNS_H */

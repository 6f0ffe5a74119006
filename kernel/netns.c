// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: per-network-namespace state.
 */
#include <linux/slab.h>

#include "cpns.h"

unsigned int cpns_net_id __read_mostly;

static int __net_init cpns_net_init(struct net *net)
{
	struct cpns_net *cn = cpns_net(net);
	int cpu, ret;

	cn->net = net;
	mutex_init(&cn->lock);
	cn->udp_port = CPNS_DEFAULT_UDP_PORT;
	cn->forwarding = false;
	cn->stats = alloc_percpu(struct cpns_pcpu_stats);
	if (!cn->stats)
		return -ENOMEM;
	for_each_possible_cpu(cpu)
		u64_stats_init(&per_cpu_ptr(cn->stats, cpu)->syncp);
	ret = cpns_ctl_net_init(cn);
	if (ret)
		goto err_free_stats;
	ret = cpns_dp_net_init(cn);
	if (ret)
		goto err_ctl_net_exit;
	return 0;

err_ctl_net_exit:
	cpns_ctl_net_exit(cn);
err_free_stats:
	free_percpu(cn->stats);
	return ret;
}

static void __net_exit cpns_net_exit(struct net *net)
{
	struct cpns_net *cn = cpns_net(net);

	/* The UDP sockets go first: no record may meet torn-down state.
	 * Then the records they queued for other CPUs are handled, and the
	 * seals and opens that finish in a callback are waited for.
	 */
	cpns_dp_net_exit(cn);
	cpns_rxq_flush();
	cpns_dp_crypt_drain(cn);
	cpns_ctl_net_exit(cn);
	free_percpu(cn->stats);
	mutex_destroy(&cn->lock);
}

static struct pernet_operations cpns_net_ops = {
	.init = cpns_net_init,
	.exit = cpns_net_exit,
	.id = &cpns_net_id,
	.size = sizeof(struct cpns_net),
};

/**
 * cpns_stats_read() - sum the per-CPU counters of a namespace
 * @cn: the namespace
 * @out: array of __CPNS_STAT_MAX counters, overwritten
 */
void cpns_stats_read(struct cpns_net *cn, u64 *out)
{
	int cpu, i;

	memset(out, 0, sizeof(u64) * __CPNS_STAT_MAX);
	for_each_possible_cpu(cpu) {
		const struct cpns_pcpu_stats *st = per_cpu_ptr(cn->stats, cpu);
		unsigned int start;
		u64 v[__CPNS_STAT_MAX];

		do {
			start = u64_stats_fetch_begin(&st->syncp);
			for (i = 0; i < __CPNS_STAT_MAX; i++)
				v[i] = u64_stats_read(&st->cnt[i]);
		} while (u64_stats_fetch_retry(&st->syncp, start));
		for (i = 0; i < __CPNS_STAT_MAX; i++)
			out[i] += v[i];
	}
}

/**
 * cpns_netns_init() - register the per-namespace state
 *
 * Return: 0 or a negative errno.
 */
int cpns_netns_init(void)
{
	int ret;

	ret = cpns_ctl_init();
	if (ret)
		return ret;
	ret = register_pernet_subsys(&cpns_net_ops);
	if (ret)
		goto err_ctl_exit;
	return 0;

err_ctl_exit:
	cpns_ctl_exit();
	return ret;
}

/**
 * cpns_netns_exit() - tear down the state of every namespace
 */
void cpns_netns_exit(void)
{
	unregister_pernet_subsys(&cpns_net_ops);
	cpns_ctl_exit();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: module init and exit.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/net.h>
#include <net/genetlink.h>

#include "cpns.h"

static int __init cpns_init(void)
{
	int ret;

	ret = cpns_rxq_init();
	if (ret)
		goto err_drain;
	ret = cpns_netns_init();
	if (ret)
		goto err_rxq_exit;
	ret = cpns_sock_init();
	if (ret)
		goto err_netns_exit;
	/* Last: once the family is visible, userspace may use everything. */
	ret = cpns_genl_init();
	if (ret)
		goto err_sock_exit;

	pr_info("cpns1 record layer loaded, address family %d\n", cpns_family);
	return 0;

err_sock_exit:
	cpns_sock_exit();
err_netns_exit:
	cpns_netns_exit();
err_rxq_exit:
	cpns_rxq_exit();
err_drain:
	/* KUnit suites run before this function and leave keys freed by
	 * call_rcu() and transforms in the pool, as at module exit.
	 */
	rcu_barrier();
	cpns_aead_pool_exit();
	return ret;
}

static void __exit cpns_exit(void)
{
	cpns_genl_exit();
	cpns_sock_exit();
	cpns_netns_exit();
	cpns_rxq_exit();
	/* Wait for call_rcu() callbacks before the module text goes away. */
	rcu_barrier();
	/* They gave the last transforms back. */
	cpns_aead_pool_exit();
	pr_info("unloaded\n");
}

module_init(cpns_init);
module_exit(cpns_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("CPNS (OMA Converged Personal Network Services) record layer, cpns1 profile");
MODULE_AUTHOR("The cpns authors");
MODULE_ALIAS_NETPROTO(CPNS_AF_DEFAULT);
MODULE_ALIAS_GENL_FAMILY(CPNS_GENL_NAME);

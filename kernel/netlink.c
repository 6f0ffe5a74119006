// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: the "cpns" generic netlink family (Documentation/netlink/specs/cpns.yaml).
 */
#include <net/genetlink.h>

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
};

static struct genl_family cpns_genl_family;

static int cpns_nl_info_get(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &cpns_genl_family, 0,
				CPNS_CMD_INFO_GET);
	if (!hdr)
		goto err_free_msg;
	if (nla_put_u32(msg, CPNS_A_VERSION, CPNS_MOD_VERSION) ||
	    nla_put_u32(msg, CPNS_A_AF, cpns_family) ||
	    nla_put_string(msg, CPNS_A_PROFILE, "cpns1"))
		goto err_free_msg;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

err_free_msg:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static const struct genl_small_ops cpns_genl_ops[] = {
	{
		.cmd = CPNS_CMD_INFO_GET,
		.validate = GENL_DONT_VALIDATE_DUMP,
		.doit = cpns_nl_info_get,
	},
};

static const struct genl_multicast_group cpns_mcgrps[] = {
	{ .name = CPNS_MCGRP_EVENTS },
};

static struct genl_family cpns_genl_family __ro_after_init = {
	.name = CPNS_GENL_NAME,
	.version = CPNS_GENL_VERSION,
	.maxattr = CPNS_A_MAX,
	.policy = cpns_policy,
	.netnsok = true,
	.module = THIS_MODULE,
	.small_ops = cpns_genl_ops,
	.n_small_ops = ARRAY_SIZE(cpns_genl_ops),
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

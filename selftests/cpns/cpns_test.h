/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the cpns kselftests: module loading, the AF_CPNS number
 * in use and a minimal generic netlink client (libnl-genl-3).
 */
#ifndef _CPNS_TEST_H
#define _CPNS_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>
#include <linux/cpns.h>

/* Load cpns.ko from $CPNS_KO with the given parameters. Returns 0 or -errno. */
static inline int cpns_load(const char *params)
{
	const char *ko = getenv("CPNS_KO");
	int fd, ret;

	if (!ko)
		return -ENOENT;
	fd = open(ko, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = syscall(SYS_finit_module, fd, params ? params : "", 0);
	ret = ret ? -errno : 0;
	close(fd);
	return ret;
}

/* Unload cpns without waiting. Returns 0 or -errno (-EWOULDBLOCK if busy). */
static inline int cpns_unload(void)
{
	return syscall(SYS_delete_module, "cpns", O_NONBLOCK) ? -errno : 0;
}

static inline int cpns_loaded(void)
{
	return access("/sys/module/cpns", F_OK) == 0;
}

/* Make sure the module is loaded with default parameters. */
static inline int cpns_ensure_loaded(void)
{
	int ret;

	if (cpns_loaded())
		return 0;
	ret = cpns_load(NULL);
	return ret == -EEXIST ? 0 : ret;
}

/* The family number from the module parameter, or -1. */
static inline int cpns_af_param(void)
{
	FILE *f = fopen("/sys/module/cpns/parameters/family", "r");
	int af = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%d", &af) != 1)
		af = -1;
	fclose(f);
	return af;
}

struct cpns_info {
	int version;
	int af;
	char profile[16];
};

static int cpns_info_cb(struct nl_msg *msg, void *arg)
{
	struct cpns_info *info = arg;
	struct nlattr *tb[CPNS_A_MAX + 1];

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, CPNS_A_MAX, NULL))
		return NL_SKIP;
	if (tb[CPNS_A_VERSION])
		info->version = nla_get_u32(tb[CPNS_A_VERSION]);
	if (tb[CPNS_A_AF])
		info->af = nla_get_u32(tb[CPNS_A_AF]);
	if (tb[CPNS_A_PROFILE])
		snprintf(info->profile, sizeof(info->profile), "%s",
			 nla_get_string(tb[CPNS_A_PROFILE]));
	return NL_OK;
}

/* Query CPNS_CMD_INFO_GET. Returns 0 or a negative libnl error. */
static inline int cpns_info_get(struct cpns_info *info)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_msg *msg = NULL;
	int fam, ret;

	memset(info, 0, sizeof(*info));
	info->af = -1;
	if (!sk)
		return -NLE_NOMEM;
	ret = genl_connect(sk);
	if (ret)
		goto out;
	fam = genl_ctrl_resolve(sk, CPNS_GENL_NAME);
	if (fam < 0) {
		ret = fam;
		goto out;
	}
	msg = nlmsg_alloc();
	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, fam, 0, 0,
				 CPNS_CMD_INFO_GET, CPNS_GENL_VERSION)) {
		ret = -NLE_NOMEM;
		goto out;
	}
	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, cpns_info_cb, info);
	ret = nl_send_auto(sk, msg);
	if (ret < 0)
		goto out;
	ret = nl_recvmsgs_default(sk);
out:
	nlmsg_free(msg);
	nl_socket_free(sk);
	return ret < 0 ? ret : 0;
}

#endif /* _CPNS_TEST_H */

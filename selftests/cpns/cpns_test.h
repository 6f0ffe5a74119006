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

/*
 * The tests run in qemu under emulation, on a KASAN/lockdep kernel among
 * others, where creating namespaces and spawning ip(8) takes seconds: the
 * harness's 30 s default would time out healthy tests. Include this
 * header after kselftest_harness.h; TEST_F() expands the value where it
 * is used.
 */
#ifdef TEST_TIMEOUT_DEFAULT
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300
#endif

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

#define CPNS_PARAM_DIR "/sys/module/cpns/parameters/"


/* Write the module parameter @name; 0 or -errno. */
static inline int cpns_param_write(const char *name, const char *val)
{
	char path[128];
	ssize_t n;
	int fd, err;

	snprintf(path, sizeof(path), CPNS_PARAM_DIR "%s", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	err = n < 0 ? -errno : 0;
	close(fd);
	return err;
}

/* The value of the module parameter @name, without the newline; 0 or
 * -errno.
 */
static inline int cpns_param_read(const char *name, char *buf, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), CPNS_PARAM_DIR "%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

/*
 * Set the module parameter aes_gcm to an implementation of gcm(aes) that
 * finishes every seal and open later, in a worker: pcrypt's (Debian's
 * kernel has the template; there the crypto manager's self-test fails a
 * cryptd instance made by name, with a warning), else cryptd's (a kernel
 * without pcrypt). Writes its name to @name. Returns 0 or -errno.
 */
static inline int cpns_param_aes_gcm_later(char *name, size_t len)
{
	static const char *const later[] = {
		"pcrypt(gcm_base(ctr(aes-generic),ghash-generic))",
		"cryptd(gcm_base(ctr(aes-generic),ghash-generic))",
	};
	int ret = -ENOENT;
	size_t i;

	for (i = 0; i < sizeof(later) / sizeof(later[0]); i++) {
		ret = cpns_param_write("aes_gcm", later[i]);
		if (ret != -ENOENT)
			break;
	}
	if (!ret)
		snprintf(name, len, "%s", later[i]);
	return ret;
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

/* ---- generic netlink requests with extack (netlink_test and others) ---- */

#include <linux/netlink.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/**
 * struct cpns_nlt - outcome of one request
 * @err: 0 or the negative errno the kernel answered
 * @msg: the kernel's extack message ("" when it sent none)
 * @n: number of replies (objects of a dump)
 * @done: the ACK, error or end of dump arrived
 * @cb: called for every reply, may be NULL
 * @arg: passed to @cb
 */
struct cpns_nlt {
	int err;
	char msg[256];
	int n;
	int done;
	int (*cb)(struct nlattr **tb, void *arg);
	void *arg;
};

/* A request socket with extended ACKs, capped. NULL on failure. */
static inline struct nl_sock *cpns_nlt_open(int *family)
{
	struct nl_sock *sk = nl_socket_alloc();
	int one = 1;

	if (!sk)
		return NULL;
	if (genl_connect(sk))
		goto err;
	*family = genl_ctrl_resolve(sk, CPNS_GENL_NAME);
	if (*family < 0)
		goto err;
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_EXT_ACK, &one,
		   sizeof(one));
	setsockopt(nl_socket_get_fd(sk), SOL_NETLINK, NETLINK_CAP_ACK, &one,
		   sizeof(one));
	return sk;
err:
	nl_socket_free(sk);
	return NULL;
}

static inline struct nl_msg *cpns_nlt_msg(int family, int cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (msg && !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
				flags, cmd, CPNS_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static inline int cpns_nlt_valid(struct nl_msg *m, void *a)
{
	struct cpns_nlt *x = a;
	struct nlattr *tb[CPNS_A_MAX + 1];

	x->n++;
	if (genlmsg_parse(nlmsg_hdr(m), 0, tb, CPNS_A_MAX, NULL))
		return NL_SKIP;
	return x->cb ? x->cb(tb, x->arg) : NL_OK;
}

static inline int cpns_nlt_finish(struct nl_msg *m, void *a)
{
	((struct cpns_nlt *)a)->done = 1;
	return NL_STOP;
}

static inline int cpns_nlt_error(struct sockaddr_nl *nla, struct nlmsgerr *e,
				 void *a)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct cpns_nlt *x = a;
	size_t off = NLMSG_HDRLEN + sizeof(*e);
	struct nlattr *at;
	int rem;

	x->err = e->error;
	x->done = 1;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || nlh->nlmsg_len <= off)
		return NL_STOP;
	at = (struct nlattr *)((char *)nlh + off);
	rem = nlh->nlmsg_len - off;
	for (; nla_ok(at, rem); at = nla_next(at, &rem))
		if (nla_type(at) == NLMSGERR_ATTR_MSG)
			snprintf(x->msg, sizeof(x->msg), "%s",
				 (char *)nla_data(at));
	return NL_STOP;
}

/* Send @msg (freed), collect replies until the ACK/error/end of dump.
 * Returns x->err, or a negative libnl error when the exchange failed.
 */
static inline int cpns_nlt_xfer(struct nl_sock *sk, struct nl_msg *msg,
				struct cpns_nlt *x)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_CUSTOM);
	int ret;

	x->err = 0;
	x->msg[0] = 0;
	x->n = 0;
	x->done = 0;
	if (!cb) {
		nlmsg_free(msg);
		return -NLE_NOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, cpns_nlt_valid, x);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, cpns_nlt_finish, x);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, cpns_nlt_finish, x);
	nl_cb_err(cb, NL_CB_CUSTOM, cpns_nlt_error, x);
	ret = nl_send_auto(sk, msg);
	nlmsg_free(msg);
	while (ret >= 0 && !x->done)
		ret = nl_recvmsgs(sk, cb);
	nl_cb_put(cb);
	if (x->done)
		return x->err;
	return ret < 0 ? ret : -NLE_FAILURE;
}

#endif /* _CPNS_TEST_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the data-path selftests (socket_test, traffic_test,
 * continuity_test, transport_test): AF_CPNS addresses, capabilities,
 * namespaces, the generic netlink requests that set a namespace up (IDs,
 * peers, routes, sessions, counters), and two namespaces A and B linked
 * by a veth pair with a data socket in each.
 *
 * Every request opens its own netlink socket, so it acts on the network
 * namespace the calling thread is in at that moment.
 */
#ifndef _CPNS_DP_TEST_H
#define _CPNS_DP_TEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "cpns_test.h"

/* ---- entity IDs and addresses ------------------------------------------ */

static inline void cpns_mkid(uint8_t id[CPNS_ID_LEN], uint8_t tag)
{
	int i;

	for (i = 0; i < CPNS_ID_LEN; i++)
		id[i] = (uint8_t)(0x10 * tag + i + 1);
}

static inline struct sockaddr_cpns cpns_sa(const uint8_t id[CPNS_ID_LEN],
					   uint16_t port)
{
	struct sockaddr_cpns sa;

	memset(&sa, 0, sizeof(sa));
	sa.scpns_family = cpns_af_param();
	sa.scpns_port = port;
	if (id)
		memcpy(sa.scpns_id, id, CPNS_ID_LEN);
	return sa;
}

static inline int cpns_socket(void)
{
	return socket(cpns_af_param(), SOCK_DGRAM, 0);
}

static inline int cpns_bind(int fd, const uint8_t id[CPNS_ID_LEN],
			    uint16_t port)
{
	struct sockaddr_cpns sa = cpns_sa(id, port);

	return bind(fd, (struct sockaddr *)&sa, sizeof(sa));
}

/* Returns the sendmsg() result; -1 with errno on failure. */
static inline ssize_t cpns_sendto(int fd, const void *buf, size_t len,
				  const uint8_t id[CPNS_ID_LEN], uint16_t port,
				  int flags)
{
	struct sockaddr_cpns sa = cpns_sa(id, port);

	return sendto(fd, buf, len, flags, (struct sockaddr *)&sa, sizeof(sa));
}

/* sendmsg() with one int cmsg of level SOL_CPNS. */
static inline ssize_t cpns_sendto_cmsg(int fd, const void *buf, size_t len,
				       const uint8_t id[CPNS_ID_LEN],
				       uint16_t port, int type, int val)
{
	struct sockaddr_cpns sa = cpns_sa(id, port);
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	struct msghdr msg = {
		.msg_name = &sa, .msg_namelen = sizeof(sa),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	memset(&u, 0, sizeof(u));
	c->cmsg_level = SOL_CPNS;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &val, sizeof(val));
	return sendmsg(fd, &msg, 0);
}

/* recvmsg() returning the sender and, when asked, the recvinfo cmsg. */
static inline ssize_t cpns_recv_info(int fd, void *buf, size_t len, int flags,
				     struct sockaddr_cpns *from,
				     struct cpns_recvinfo *ri, int *got_ri)
{
	char cbuf[CMSG_SPACE(sizeof(struct cpns_recvinfo)) + 64];
	struct sockaddr_cpns sa;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_name = &sa, .msg_namelen = sizeof(sa),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	ssize_t n;

	if (got_ri)
		*got_ri = 0;
	n = recvmsg(fd, &msg, flags);
	if (n < 0)
		return n;
	if (from)
		*from = sa;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level == SOL_CPNS &&
		    c->cmsg_type == CPNS_CMSG_RECVINFO && ri &&
		    c->cmsg_len >= CMSG_LEN(sizeof(*ri))) {
			memcpy(ri, CMSG_DATA(c), sizeof(*ri));
			if (got_ri)
				*got_ri = 1;
		}
	}
	return n;
}

/* ---- capabilities and namespaces ---------------------------------------- */

/* Clear @caps (a mask of CAP_* bits below 32) from the effective set. */
static inline int cpns_drop_caps(uint32_t caps)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d))
		return -errno;
	d[0].effective &= ~caps;
	return syscall(SYS_capset, &h, d) ? -errno : 0;
}

#define CPNS_CAP(c) (1u << (c))

static inline int cpns_run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int ret;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	ret = system(cmd);
	return ret == -1 ? -1 : WEXITSTATUS(ret);
}

/* Enter the namespace created by "ip netns add @name". */
static inline int cpns_netns_enter(const char *name)
{
	char path[128];
	int fd, ret;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return ret;
}

/* ---- generic netlink requests -------------------------------------------- */

struct cpns_nlreq {
	struct nl_sock *sk;
	struct nl_msg *msg;
	int fam;
};

static inline int cpns_nlreq_start(struct cpns_nlreq *r, int cmd, int flags)
{
	memset(r, 0, sizeof(*r));
	r->sk = nl_socket_alloc();
	if (!r->sk)
		return -NLE_NOMEM;
	if (genl_connect(r->sk))
		return -NLE_FAILURE;
	r->fam = genl_ctrl_resolve(r->sk, CPNS_GENL_NAME);
	if (r->fam < 0)
		return r->fam;
	r->msg = nlmsg_alloc();
	if (!r->msg || !genlmsg_put(r->msg, NL_AUTO_PORT, NL_AUTO_SEQ, r->fam,
				    0, flags, cmd, CPNS_GENL_VERSION))
		return -NLE_NOMEM;
	return 0;
}

static inline void cpns_nlreq_free(struct cpns_nlreq *r)
{
	nlmsg_free(r->msg);
	nl_socket_free(r->sk);
}

/* Send, wait for the ack; @cb (optional) sees each reply. Returns 0 or a
 * negative errno from the kernel's answer.
 */
static inline int cpns_nlreq_run(struct cpns_nlreq *r, nl_recvmsg_msg_cb_t cb,
				 void *arg)
{
	int ret;

	if (cb)
		nl_socket_modify_cb(r->sk, NL_CB_VALID, NL_CB_CUSTOM, cb, arg);
	ret = nl_send_auto(r->sk, r->msg);
	if (ret >= 0)
		ret = nl_wait_for_ack(r->sk);
	if (ret >= 0 && cb)
		ret = 0;
	cpns_nlreq_free(r);
	/* libnl maps kernel errnos to its own codes; keep the common ones. */
	switch (ret) {
	case 0:
		return 0;
	case -NLE_EXIST:
		return -EEXIST;
	case -NLE_OBJ_NOTFOUND:
		return -ENOENT;
	case -NLE_INVAL:
		return -EINVAL;
	case -NLE_PERM:
		return -EPERM;
	case -NLE_BUSY:
		return -EBUSY;
	default:
		return ret < 0 ? -EIO : 0;
	}
}

static inline int cpns_nl_id_add(const uint8_t id[CPNS_ID_LEN])
{
	struct cpns_nlreq r;

	if (cpns_nlreq_start(&r, CPNS_CMD_ID_ADD, NLM_F_ACK))
		return -EIO;
	nla_put(r.msg, CPNS_A_LOCAL_ID, CPNS_ID_LEN, id);
	return cpns_nlreq_run(&r, NULL, NULL);
}

static inline int cpns_nl_id_del(const uint8_t id[CPNS_ID_LEN])
{
	struct cpns_nlreq r;

	if (cpns_nlreq_start(&r, CPNS_CMD_ID_DEL, NLM_F_ACK))
		return -EIO;
	nla_put(r.msg, CPNS_A_LOCAL_ID, CPNS_ID_LEN, id);
	return cpns_nlreq_run(&r, NULL, NULL);
}

static inline int cpns_nl_link_set(int udp_port, int forwarding)
{
	struct cpns_nlreq r;

	if (cpns_nlreq_start(&r, CPNS_CMD_LINK_SET, NLM_F_ACK))
		return -EIO;
	if (udp_port > 0)
		nla_put_u16(r.msg, CPNS_A_UDP_PORT, udp_port);
	if (forwarding >= 0)
		nla_put_u8(r.msg, CPNS_A_FORWARDING, forwarding);
	return cpns_nlreq_run(&r, NULL, NULL);
}

static inline void cpns_put_addr4(struct nl_msg *msg, const char *ip,
				  uint16_t port)
{
	struct in_addr a;

	inet_pton(AF_INET, ip, &a);
	nla_put_u32(msg, CPNS_A_ADDR4, a.s_addr);
	nla_put_u16(msg, CPNS_A_PORT, port);
}

/* @ip is an IPv4 or IPv6 address in text form. */
static inline int cpns_put_addr(struct nl_msg *msg, const char *ip,
				uint16_t port)
{
	struct in6_addr a6;

	if (!strchr(ip, ':')) {
		cpns_put_addr4(msg, ip, port);
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &a6) != 1)
		return -EINVAL;
	nla_put(msg, CPNS_A_ADDR6, sizeof(a6), &a6);
	nla_put_u16(msg, CPNS_A_PORT, port);
	return 0;
}

/* Address-table entry: @peer is at @ip:@port, IPv4 or IPv6. */
static inline int cpns_nl_peer_set(const uint8_t peer[CPNS_ID_LEN],
				   const char *ip, uint16_t port, int learn)
{
	struct cpns_nlreq r;

	if (cpns_nlreq_start(&r, CPNS_CMD_PEER_SET, NLM_F_ACK))
		return -EIO;
	nla_put(r.msg, CPNS_A_PEER_ID, CPNS_ID_LEN, peer);
	if (cpns_put_addr(r.msg, ip, port)) {
		cpns_nlreq_free(&r);
		return -EINVAL;
	}
	if (learn)
		nla_put_u8(r.msg, CPNS_A_LEARN, 1);
	return cpns_nlreq_run(&r, NULL, NULL);
}

/* Address-table entry: @peer is at @ip:@port. */
static inline int cpns_nl_peer_set4(const uint8_t peer[CPNS_ID_LEN],
				    const char *ip, uint16_t port, int learn,
				    int uplink)
{
	struct cpns_nlreq r;

	if (cpns_nlreq_start(&r, CPNS_CMD_PEER_SET, NLM_F_ACK))
		return -EIO;
	nla_put(r.msg, CPNS_A_PEER_ID, CPNS_ID_LEN, peer);
	cpns_put_addr4(r.msg, ip, port);
	if (learn)
		nla_put_u8(r.msg, CPNS_A_LEARN, 1);
	if (uplink)
		nla_put_u8(r.msg, CPNS_A_UPLINK, 1);
	return cpns_nlreq_run(&r, NULL, NULL);
}

/* Route: records to @pne go to @ip:@port (a GW's member PNE). */
static inline int cpns_nl_route_add4(const uint8_t pne[CPNS_ID_LEN],
				     const char *ip, uint16_t port)
{
	struct cpns_nlreq r;

	if (cpns_nlreq_start(&r, CPNS_CMD_ROUTE_ADD, NLM_F_ACK))
		return -EIO;
	nla_put(r.msg, CPNS_A_PEER_ID, CPNS_ID_LEN, pne);
	cpns_put_addr4(r.msg, ip, port);
	return cpns_nlreq_run(&r, NULL, NULL);
}

/* Route: records to @pne go to the address of GW entity @via (on S). */
static inline int cpns_nl_route_add_via(const uint8_t pne[CPNS_ID_LEN],
					const uint8_t via[CPNS_ID_LEN])
{
	struct cpns_nlreq r;

	if (cpns_nlreq_start(&r, CPNS_CMD_ROUTE_ADD, NLM_F_ACK))
		return -EIO;
	nla_put(r.msg, CPNS_A_PEER_ID, CPNS_ID_LEN, pne);
	nla_put(r.msg, CPNS_A_VIA_ID, CPNS_ID_LEN, via);
	return cpns_nlreq_run(&r, NULL, NULL);
}

static inline int cpns_nl_session_new(const uint8_t local[CPNS_ID_LEN],
				      const uint8_t peer[CPNS_ID_LEN],
				      uint8_t gen, uint8_t suite, uint8_t role,
				      uint8_t tx_mode,
				      const uint8_t tx[CPNS_SECRET_LEN],
				      const uint8_t rx[CPNS_SECRET_LEN])
{
	struct cpns_nlreq r;

	if (cpns_nlreq_start(&r, CPNS_CMD_SESSION_NEW, NLM_F_ACK))
		return -EIO;
	nla_put(r.msg, CPNS_A_LOCAL_ID, CPNS_ID_LEN, local);
	nla_put(r.msg, CPNS_A_PEER_ID, CPNS_ID_LEN, peer);
	nla_put_u8(r.msg, CPNS_A_GENERATION, gen);
	nla_put_u8(r.msg, CPNS_A_SUITE, suite);
	nla_put_u8(r.msg, CPNS_A_ROLE, role);
	nla_put_u8(r.msg, CPNS_A_TX_MODE, tx_mode);
	nla_put(r.msg, CPNS_A_TX_SECRET, CPNS_SECRET_LEN, tx);
	nla_put(r.msg, CPNS_A_RX_SECRET, CPNS_SECRET_LEN, rx);
	return cpns_nlreq_run(&r, NULL, NULL);
}

static int cpns_stats_cb(struct nl_msg *msg, void *arg)
{
	uint64_t *out = arg;
	struct nlattr *tb[CPNS_A_MAX + 1], *a;
	int rem;

	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, CPNS_A_MAX, NULL))
		return NL_SKIP;
	if (!tb[CPNS_A_STATS])
		return NL_SKIP;
	nla_for_each_nested(a, tb[CPNS_A_STATS], rem)
		if (nla_type(a) <= CPNS_STAT_MAX &&
		    nla_len(a) == sizeof(uint64_t))
			out[nla_type(a)] = nla_get_u64(a);
	return NL_OK;
}

/* The namespace counters, indexed by enum cpns_stat. */
static inline int cpns_nl_stats(uint64_t out[__CPNS_STAT_MAX])
{
	struct cpns_nlreq r;

	memset(out, 0, sizeof(uint64_t) * __CPNS_STAT_MAX);
	if (cpns_nlreq_start(&r, CPNS_CMD_STATS_GET, NLM_F_ACK))
		return -EIO;
	return cpns_nlreq_run(&r, cpns_stats_cb, out);
}

static inline uint64_t cpns_stat(int s)
{
	uint64_t st[__CPNS_STAT_MAX];

	if (cpns_nl_stats(st))
		return UINT64_MAX;
	return st[s];
}

/* ---- two namespaces over a veth pair -------------------------------------- */

/**
 * struct cpns_ab - namespaces A and B linked by a veth pair
 * @na: name of A ("ip netns"), holding veth "va" and the entity ID @a
 * @nb: name of B, holding veth "vb" and the entity ID @b
 * @ipa: A's address on va, IPv4 or IPv6 text
 * @ipb: B's address on vb
 * @a: A's entity ID (cpns_mkid() tag 1)
 * @b: B's entity ID (tag 2)
 * @fa: data socket in A bound to (@a, the port given to cpns_ab_setup())
 * @fb: data socket in B bound to (@b, its port)
 * @root: the namespace the test started in
 *
 * Each side has the other as its peer at the other's address on the
 * default UDP port, without learning. No session is installed.
 */
struct cpns_ab {
	char na[32], nb[32];
	char ipa[64], ipb[64];
	uint8_t a[CPNS_ID_LEN], b[CPNS_ID_LEN];
	int fa, fb;
	int root;
};

#define CPNS_AB_FAIL(what, err)						\
	do {								\
		fprintf(stderr, "# cpns_ab_setup: %s: %d\n", what, err);	\
		return err;						\
	} while (0)

/**
 * cpns_ab_setup() - create A and B, as described at struct cpns_ab
 * @ab: filled in
 * @prefix: the namespaces are named "<prefix>A<pid>" and "<prefix>B<pid>"
 * @ipa: A's address, IPv4 or IPv6 (IPv6 is added with nodad)
 * @ipb: B's address, in the same /24 (IPv4) or /64 (IPv6)
 * @port_a: AF_CPNS port of @ab->fa
 * @port_b: AF_CPNS port of @ab->fb
 *
 * Loads the module if needed. The calling thread is left in B's namespace.
 * cpns_ab_teardown() undoes whatever was done, also after a failure.
 *
 * Return: 0, or non-zero after printing which step failed.
 */
static inline int cpns_ab_setup(struct cpns_ab *ab, const char *prefix,
				const char *ipa, const char *ipb,
				uint16_t port_a, uint16_t port_b)
{
	const char *opt = strchr(ipa, ':') ? "nodad" : "";
	int plen = strchr(ipa, ':') ? 64 : 24;
	int ret;

	memset(ab, 0, sizeof(*ab));
	ab->fa = ab->fb = -1;
	ab->root = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (ab->root < 0)
		CPNS_AB_FAIL("open the initial namespace", -errno);
	ret = cpns_ensure_loaded();
	if (ret)
		CPNS_AB_FAIL("load the module", ret);
	snprintf(ab->na, sizeof(ab->na), "%sA%d", prefix, getpid());
	snprintf(ab->nb, sizeof(ab->nb), "%sB%d", prefix, getpid());
	snprintf(ab->ipa, sizeof(ab->ipa), "%s", ipa);
	snprintf(ab->ipb, sizeof(ab->ipb), "%s", ipb);
	/* Three ip(8) processes: spawning is slow under emulation. */
	ret = cpns_run("set -e\n"
		       "ip -b - <<EOF\nnetns add %s\nnetns add %s\n"
		       "link add va netns %s type veth peer name vb netns %s\nEOF\n"
		       "ip -n %s -b - <<EOF\naddr add %s/%d dev va %s\n"
		       "link set va up\nlink set lo up\nEOF\n"
		       "ip -n %s -b - <<EOF\naddr add %s/%d dev vb %s\n"
		       "link set vb up\nlink set lo up\nEOF\n",
		       ab->na, ab->nb, ab->na, ab->nb,
		       ab->na, ipa, plen, opt, ab->nb, ipb, plen, opt);
	if (ret)
		CPNS_AB_FAIL("namespaces and veth pair", ret);
	cpns_mkid(ab->a, 1);
	cpns_mkid(ab->b, 2);

	ret = cpns_netns_enter(ab->na) ?: cpns_nl_id_add(ab->a) ?:
	      cpns_nl_peer_set(ab->b, ipb, CPNS_DEFAULT_UDP_PORT, 0);
	if (ret)
		CPNS_AB_FAIL("ID and peer in A", ret);
	ab->fa = cpns_socket();
	if (ab->fa < 0 || cpns_bind(ab->fa, ab->a, port_a))
		CPNS_AB_FAIL("data socket in A", -errno);

	ret = cpns_netns_enter(ab->nb) ?: cpns_nl_id_add(ab->b) ?:
	      cpns_nl_peer_set(ab->a, ipa, CPNS_DEFAULT_UDP_PORT, 0);
	if (ret)
		CPNS_AB_FAIL("ID and peer in B", ret);
	ab->fb = cpns_socket();
	if (ab->fb < 0 || cpns_bind(ab->fb, ab->b, port_b))
		CPNS_AB_FAIL("data socket in B", -errno);
	return 0;
}

#undef CPNS_AB_FAIL

/* Close the sockets (those not set to -1), delete both namespaces (either
 * may be gone already) and return to the initial namespace.
 */
static inline void cpns_ab_teardown(struct cpns_ab *ab)
{
	if (ab->fa >= 0)
		close(ab->fa);
	if (ab->fb >= 0)
		close(ab->fb);
	ab->fa = ab->fb = -1;
	if (ab->root >= 0) {
		setns(ab->root, CLONE_NEWNET);
		close(ab->root);
		ab->root = -1;
	}
	if (ab->na[0])
		cpns_run("ip -force -b - 2>/dev/null <<EOF\nnetns del %s\n"
			 "netns del %s\nEOF\n", ab->na, ab->nb);
}

/**
 * cpns_ab_install() - install a generation on one side
 * @ab: the namespaces
 * @on_b: 0: in A, the initiator, immediate; 1: in B, the responder,
 *	on-confirm
 * @gen: generation
 * @suite: enum cpns_suite
 * @i2r: traffic secret from A to B
 * @r2i: traffic secret from B to A
 *
 * Enters that side's namespace.
 *
 * Return: 0 or a negative errno.
 */
static inline int cpns_ab_install(const struct cpns_ab *ab, int on_b,
				  uint8_t gen, uint8_t suite,
				  const uint8_t i2r[CPNS_SECRET_LEN],
				  const uint8_t r2i[CPNS_SECRET_LEN])
{
	if (on_b)
		return cpns_netns_enter(ab->nb) ?:
		       cpns_nl_session_new(ab->b, ab->a, gen, suite,
					   CPNS_ROLE_RESPONDER,
					   CPNS_TX_ON_CONFIRM, r2i, i2r);
	return cpns_netns_enter(ab->na) ?:
	       cpns_nl_session_new(ab->a, ab->b, gen, suite,
				   CPNS_ROLE_INITIATOR, CPNS_TX_IMMEDIATE,
				   i2r, r2i);
}

#endif /* _CPNS_DP_TEST_H */

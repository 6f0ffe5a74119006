// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: the AF_CPNS socket family.
 *
 * The family number is a module parameter because Linux 6.1 has no free
 * address family below AF_MAX; the default is a slot whose family was
 * removed from the kernel. Userspace finds the number in use through the
 * generic netlink "info" command or /sys/module/cpns/parameters/family.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/net.h>
#include <linux/socket.h>
#include <net/sock.h>

#include "cpns.h"

int cpns_family = CPNS_AF_DEFAULT;
module_param_named(family, cpns_family, int, 0444);
MODULE_PARM_DESC(family, "address family number of AF_CPNS (default 19, a dead slot)");

/**
 * struct cpns_sock - an AF_CPNS socket
 * @sk: the socket; must be first
 */
struct cpns_sock {
	struct sock sk;
};

static struct proto cpns_proto = {
	.name = "CPNS",
	.owner = THIS_MODULE,
	.obj_size = sizeof(struct cpns_sock),
};

static int cpns_release(struct socket *sock)
{
	struct sock *sk = sock->sk;

	if (!sk)
		return 0;
	lock_sock(sk);
	sock_orphan(sk);
	release_sock(sk);
	sock->sk = NULL;
	sock_put(sk);
	return 0;
}

static struct proto_ops cpns_dgram_ops __ro_after_init = {
	/* .family is set to cpns_family at init */
	.owner = THIS_MODULE,
	.release = cpns_release,
	.bind = sock_no_bind,
	.connect = sock_no_connect,
	.socketpair = sock_no_socketpair,
	.accept = sock_no_accept,
	.getname = sock_no_getname,
	.poll = datagram_poll,
	.ioctl = sock_no_ioctl,
	.listen = sock_no_listen,
	.shutdown = sock_no_shutdown,
	.sendmsg = sock_no_sendmsg,
	.recvmsg = sock_no_recvmsg,
	.mmap = sock_no_mmap,
	.sendpage = sock_no_sendpage,
};

static int cpns_create(struct net *net, struct socket *sock, int protocol,
		       int kern)
{
	struct sock *sk;

	if (sock->type != SOCK_DGRAM)
		return -ESOCKTNOSUPPORT;
	if (protocol)
		return -EPROTONOSUPPORT;

	sk = sk_alloc(net, cpns_family, GFP_KERNEL, &cpns_proto, kern);
	if (!sk)
		return -ENOMEM;
	sock_init_data(sock, sk);
	sock->ops = &cpns_dgram_ops;
	return 0;
}

static struct net_proto_family cpns_family_ops = {
	.create = cpns_create,
	.owner = THIS_MODULE,
};

/**
 * cpns_sock_init() - register the AF_CPNS protocol and family
 *
 * Return: 0, -EINVAL for a family number out of range, -EEXIST when the
 * family number is taken, or another negative errno.
 */
int cpns_sock_init(void)
{
	int ret;

	if (cpns_family <= AF_UNSPEC || cpns_family >= NPROTO) {
		pr_err("family=%d is out of range 1..%d\n", cpns_family,
		       NPROTO - 1);
		return -EINVAL;
	}
	cpns_dgram_ops.family = cpns_family;
	cpns_family_ops.family = cpns_family;

	ret = proto_register(&cpns_proto, 1);
	if (ret)
		return ret;
	ret = sock_register(&cpns_family_ops);
	if (ret) {
		if (ret == -EEXIST)
			pr_err("address family %d is in use by another protocol; load with family=N for a free N below %d\n",
			       cpns_family, NPROTO);
		goto err_unregister_proto;
	}
	return 0;

err_unregister_proto:
	proto_unregister(&cpns_proto);
	return ret;
}

/**
 * cpns_sock_exit() - unregister the AF_CPNS family and protocol
 */
void cpns_sock_exit(void)
{
	sock_unregister(cpns_family);
	proto_unregister(&cpns_proto);
}

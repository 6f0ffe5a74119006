// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: how many AES-256-GCM generations the network namespaces of one
 * user may hold, when that user is not the initial user namespace's.
 *
 * Everything a generation allocates itself is charged to the memory cgroup
 * (GFP_KERNEL_ACCOUNT), but the crypto API allocates the AES-256-GCM
 * transforms of its epoch keys, about 1 KiB each and up to a dozen per
 * generation, with memory no cgroup is charged for. Anyone who may create a
 * user namespace has CAP_NET_ADMIN over a network namespace of their own,
 * so without a bound that memory would be theirs to take. As the kernel's
 * key quotas do, the bound is per user: the owner of the namespace's user
 * namespace, in the initial user namespace's terms (a user namespace nested
 * in another keeps its creator's). Namespaces of the initial user namespace
 * are not bounded; ChaCha20-Poly1305 generations, whose keys are charged,
 * are never counted.
 */
#include <linux/cred.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>
#include <linux/xarray.h>
#include <net/net_namespace.h>

#include "cpns.h"

#define CPNS_QUOTA_DEFAULT	1024

static unsigned int cpns_unpriv_aes_sessions = CPNS_QUOTA_DEFAULT;

static int cpns_quota_set(const char *val, const struct kernel_param *kp)
{
	return param_set_uint_minmax(val, kp, 0, CPNS_MAX_PAIRS);
}

static const struct kernel_param_ops cpns_quota_ops = {
	.set = cpns_quota_set,
	.get = param_get_uint,
};

module_param_cb(unpriv_aes_sessions, &cpns_quota_ops,
		&cpns_unpriv_aes_sessions, 0644);
MODULE_PARM_DESC(unpriv_aes_sessions,
		 "AES-256-GCM generations the network namespaces of one user other than the initial user namespace's may hold at once, 0..1048576 (default 1024); a change applies to the next install");

/* Generations held per user: uid -> xa_mk_value(count), no entry for 0. */
static DEFINE_XARRAY(cpns_quota_held);
/* Serialises each read-modify-write of cpns_quota_held. */
static DEFINE_MUTEX(cpns_quota_lock);

/**
 * cpns_quota_charge() - count a new AES-256-GCM generation against its user
 * @net: the namespace the generation is installed in
 * @uid: on return, the user charged, or INVALID_UID when the namespace
 *	belongs to the initial user namespace and nobody is
 *
 * Process context; may sleep.
 *
 * Return: 0; -EDQUOT when the user holds unpriv_aes_sessions generations
 * already; -ENOMEM. Nothing is charged on failure.
 */
int cpns_quota_charge(const struct net *net, kuid_t *uid)
{
	kuid_t owner = net->user_ns->owner;
	unsigned long idx = from_kuid(&init_user_ns, owner);
	unsigned long n;
	int err = 0;

	*uid = INVALID_UID;
	if (net->user_ns == &init_user_ns)
		return 0;

	mutex_lock(&cpns_quota_lock);
	n = xa_to_value(xa_load(&cpns_quota_held, idx) ?: xa_mk_value(0));
	if (n >= READ_ONCE(cpns_unpriv_aes_sessions))
		err = -EDQUOT;
	else
		err = xa_err(xa_store(&cpns_quota_held, idx,
				      xa_mk_value(n + 1), GFP_KERNEL));
	mutex_unlock(&cpns_quota_lock);
	if (!err)
		*uid = owner;
	return err;
}

/**
 * cpns_quota_uncharge() - a generation charged by cpns_quota_charge() is gone
 * @uid: the user it charged; INVALID_UID does nothing
 *
 * Process context; may sleep.
 */
void cpns_quota_uncharge(kuid_t uid)
{
	unsigned long idx = from_kuid(&init_user_ns, uid);
	unsigned long n;

	if (!uid_valid(uid))
		return;
	mutex_lock(&cpns_quota_lock);
	n = xa_to_value(xa_load(&cpns_quota_held, idx) ?: xa_mk_value(0));
	if (WARN_ON_ONCE(!n))
		goto out_unlock;
	/* Replacing a present entry allocates nothing. */
	if (n > 1)
		xa_store(&cpns_quota_held, idx, xa_mk_value(n - 1), GFP_KERNEL);
	else
		xa_erase(&cpns_quota_held, idx);
out_unlock:
	mutex_unlock(&cpns_quota_lock);
}

/**
 * cpns_quota_exit() - free what is left of the counts
 *
 * Called once every generation is freed; none is left counted then.
 */
void cpns_quota_exit(void)
{
	WARN_ON(!xa_empty(&cpns_quota_held));
	xa_destroy(&cpns_quota_held);
}

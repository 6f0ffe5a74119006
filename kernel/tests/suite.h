/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit: what the suites that derive keys or seal records share. The
 * suites of a module run before its init function (MODULE_STATE_COMING),
 * so they set up the HMAC transform of keys.c themselves.
 */
#ifndef _CPNS_TEST_SUITE_H
#define _CPNS_TEST_SUITE_H

#include <kunit/test.h>
#include <linux/scatterlist.h>

#include "../crypto.h"

static inline int cpns_test_suite_init(struct kunit_suite *suite)
{
	return cpns_keys_init();
}

static inline void cpns_test_suite_exit(struct kunit_suite *suite)
{
	cpns_keys_exit();
}

/* Keys found under rcu_read_lock() (NULL allowed), referenced for a seal or
 * open after it: AES-256-GCM may sleep there. Dropped with
 * cpns_epoch_keys_put().
 */
static inline struct cpns_epoch_keys *
cpns_test_keys_hold(struct cpns_epoch_keys *keys)
{
	if (keys)
		refcount_inc(&keys->ref);
	return keys;
}

/* cpns_record_open() of a record in one linear buffer */
static inline int cpns_test_open(struct cpns_epoch_keys *keys, u8 *buf,
				 size_t len)
{
	struct scatterlist sg;

	sg_init_one(&sg, buf, len);
	return cpns_record_open(keys, buf, &sg, len);
}

#endif /* _CPNS_TEST_SUITE_H */

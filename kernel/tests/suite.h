/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit: what the suites that derive keys or seal records share. The
 * suites of a module run before its init function (MODULE_STATE_COMING),
 * so they set up the HMAC transform of keys.c and the per-CPU AEAD
 * requests of record.c themselves.
 */
#ifndef _CPNS_TEST_SUITE_H
#define _CPNS_TEST_SUITE_H

#include <kunit/test.h>

#include "../crypto.h"

static inline int cpns_test_suite_init(struct kunit_suite *suite)
{
	int err;

	err = cpns_keys_init();
	if (err)
		return err;
	err = cpns_record_init();
	if (err)
		cpns_keys_exit();
	return err;
}

static inline void cpns_test_suite_exit(struct kunit_suite *suite)
{
	cpns_record_exit();
	cpns_keys_exit();
}

#endif /* _CPNS_TEST_SUITE_H */

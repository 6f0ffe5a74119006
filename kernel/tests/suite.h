/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit: what the suites that derive keys or seal records share. The
 * suites of a module run before its init function (MODULE_STATE_COMING),
 * so they set up the per-CPU AEAD requests of record.c themselves.
 */
#ifndef _CPNS_TEST_SUITE_H
#define _CPNS_TEST_SUITE_H

#include <kunit/test.h>

#include "../crypto.h"

static inline int cpns_test_suite_init(struct kunit_suite *suite)
{
	return cpns_record_init();
}

static inline void cpns_test_suite_exit(struct kunit_suite *suite)
{
	cpns_record_exit();
}

#endif /* _CPNS_TEST_SUITE_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KUnit: what the suites that derive keys or seal records share.
 */
#ifndef _CPNS_TEST_SUITE_H
#define _CPNS_TEST_SUITE_H

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>

#ifdef CONFIG_X86
#include <asm/fpu/api.h>
#endif

#include "../crypto.h"

/* Keys found under rcu_read_lock() (NULL allowed), referenced for a seal or
 * open after it: cpns_test_crypt() may sleep. Dropped with
 * cpns_epoch_keys_put().
 */
static inline struct cpns_epoch_keys *
cpns_test_keys_hold(struct cpns_epoch_keys *keys)
{
	if (keys)
		refcount_inc(&keys->ref);
	return keys;
}

struct cpns_test_wait {
	struct completion done;
	int err;
};

static inline void cpns_test_wake(struct cpns_crypt *c, int err)
{
	struct cpns_test_wait *w = c->priv;

	w->err = err;
	complete(&w->done);
}

/*
 * Seal or open in place the record whose header is at @hdr and whose
 * bytes are the @nsg entries of @sg, either suite, waiting for an AES-GCM
 * implementation that finishes later. With @nosimd, suite 1 runs with SIMD
 * unusable, as in a softirq that interrupted the kernel's own use of it:
 * x86's AES-NI GCM then hands the request to a worker. *@later (if not
 * NULL) tells whether the operation finished later. A suite 2 seal takes
 * the record linear at @hdr.
 */
static inline int cpns_test_crypt(struct cpns_epoch_keys *keys, const u8 *hdr,
				  struct scatterlist *sg, unsigned int nsg,
				  size_t len, bool enc, bool nosimd,
				  bool *later)
{
	struct cpns_test_wait *w;
	struct cpns_crypt *c;
	int err;

	if (later)
		*later = false;
	if (keys->suite == CPNS_SUITE_CHACHA20POLY1305)
		return enc ? cpns_record_seal(keys, (u8 *)hdr, len) :
			     cpns_record_open(keys, hdr, sg, len);
	c = cpns_crypt_new(keys, nsg, sizeof(*w), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	memcpy(c->sg, sg, nsg * sizeof(*sg));
	sg_mark_end(&c->sg[nsg - 1]);
	w = c->priv;
	init_completion(&w->done);
#ifdef CONFIG_X86
	if (nosimd)
		kernel_fpu_begin();
#endif
	err = cpns_crypt_run(c, hdr, len, enc, cpns_test_wake);
#ifdef CONFIG_X86
	if (nosimd)
		kernel_fpu_end();
#endif
	if (err == -EINPROGRESS) {
		if (later)
			*later = true;
		wait_for_completion(&w->done);
		err = w->err;
	}
	cpns_crypt_free(c);
	return err;
}

/* Seal a record in one linear buffer, either suite. */
static inline int cpns_test_seal(struct cpns_epoch_keys *keys, u8 *buf,
				 size_t len)
{
	struct scatterlist sg;

	sg_init_one(&sg, buf, len);
	return cpns_test_crypt(keys, buf, &sg, 1, len, true, false, NULL);
}

/* Open a record in one linear buffer, either suite. */
static inline int cpns_test_open(struct cpns_epoch_keys *keys, u8 *buf,
				 size_t len)
{
	struct scatterlist sg;

	sg_init_one(&sg, buf, len);
	return cpns_test_crypt(keys, buf, &sg, 1, len, false, false, NULL);
}

#endif /* _CPNS_TEST_SUITE_H */

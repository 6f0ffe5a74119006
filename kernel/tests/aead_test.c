// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: the pool of AES-256-GCM transforms (aead.c). A transform given
 * back comes out of cpns_aead_get() again, and holds no key by then.
 */

#include <crypto/aead.h>
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/scatterlist.h>
#include <linux/string.h>

#include "../crypto.h"

/* Transforms taken at most while waiting for the one given back. */
#define CPNS_TEST_TAKEN	64

/*
 * AES-256-GCM of 16 zero bytes under a zero nonce: ciphertext and tag in
 * @out, whatever key @tfm holds.
 */
static int cpns_test_gcm_zero(struct crypto_aead *tfm,
			      u8 out[16 + CPNS_TAG_LEN])
{
	u8 iv[CPNS_NONCE_LEN] = { 0 };
	DECLARE_CRYPTO_WAIT(wait);
	struct aead_request *req;
	struct scatterlist sg;
	int err;

	req = aead_request_alloc(tfm, GFP_KERNEL);
	if (!req)
		return -ENOMEM;
	memset(out, 0, 16 + CPNS_TAG_LEN);
	sg_init_one(&sg, out, 16 + CPNS_TAG_LEN);
	aead_request_set_callback(req, CRYPTO_TFM_REQ_MAY_SLEEP,
				  crypto_req_done, &wait);
	aead_request_set_crypt(req, &sg, &sg, 16, iv);
	aead_request_set_ad(req, 0);
	err = crypto_wait_req(crypto_aead_encrypt(req), &wait);
	aead_request_free(req);
	return err;
}

static void cpns_aead_pool_recycles_wiped(struct kunit *test)
{
	static const u8 zero[CPNS_KEY_LEN];
	u8 key[CPNS_KEY_LEN], under_key[16 + CPNS_TAG_LEN];
	u8 under_zero[16 + CPNS_TAG_LEN], out[16 + CPNS_TAG_LEN];
	struct crypto_aead *taken[CPNS_TEST_TAKEN];
	struct crypto_aead *ref, *tfm, *t = NULL;
	unsigned int i, n = 0;

	memset(key, 0xa5, sizeof(key));
	/* What the all-zero key and @key compute, from a transform of the
	 * same implementation outside the pool.
	 */
	ref = crypto_alloc_aead("gcm(aes)", 0, 0);
	KUNIT_ASSERT_FALSE(test, IS_ERR(ref));
	KUNIT_EXPECT_EQ(test, 0, crypto_aead_setauthsize(ref, CPNS_TAG_LEN));
	KUNIT_EXPECT_EQ(test, 0, crypto_aead_setkey(ref, zero, sizeof(zero)));
	KUNIT_EXPECT_EQ(test, 0, cpns_test_gcm_zero(ref, under_zero));
	KUNIT_EXPECT_EQ(test, 0, crypto_aead_setkey(ref, key, sizeof(key)));
	KUNIT_EXPECT_EQ(test, 0, cpns_test_gcm_zero(ref, under_key));
	crypto_free_aead(ref);
	KUNIT_ASSERT_NE(test, 0, memcmp(under_zero, under_key,
					sizeof(under_key)));

	tfm = cpns_aead_get();
	KUNIT_ASSERT_FALSE(test, IS_ERR(tfm));
	KUNIT_EXPECT_EQ(test, 0, crypto_aead_setkey(tfm, key, sizeof(key)));
	KUNIT_EXPECT_EQ(test, 0, crypto_aead_setauthsize(tfm, CPNS_TAG_LEN));
	KUNIT_EXPECT_EQ(test, 0, cpns_test_gcm_zero(tfm, out));
	KUNIT_EXPECT_EQ(test, 0, memcmp(out, under_key, sizeof(out)));
	cpns_aead_put(tfm);

	/* Once the worker wiped it, it is the next to come out; the other
	 * transforms taken meanwhile are new ones or pooled before.
	 */
	while (n < CPNS_TEST_TAKEN) {
		t = cpns_aead_get();
		KUNIT_ASSERT_FALSE(test, IS_ERR(t));
		if (t == tfm)
			break;
		taken[n++] = t;
		t = NULL;
		msleep(20);
	}
	for (i = 0; i < n; i++)
		cpns_aead_put(taken[i]);
	KUNIT_ASSERT_PTR_EQ(test, t, tfm);

	/* The key given to it before is gone: it computes with zeroes. */
	KUNIT_EXPECT_EQ(test, 0, cpns_test_gcm_zero(tfm, out));
	KUNIT_EXPECT_EQ(test, 0, memcmp(out, under_zero, sizeof(out)));
	cpns_aead_put(tfm);
}

static struct kunit_case cpns_aead_cases[] = {
	KUNIT_CASE(cpns_aead_pool_recycles_wiped),
	{}
};

static struct kunit_suite cpns_aead_suite = {
	.name = "cpns_aead",
	.test_cases = cpns_aead_cases,
};

kunit_test_suites(&cpns_aead_suite);

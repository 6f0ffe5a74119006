// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: key schedule (PROTOCOL.md 3.1, 3.3) against expand_label.json
 * and traffic_keys.json.
 */

#include <crypto/aead.h>
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/string.h>

#include "../crypto.h"
#include "cpns_vectors.h"
#include "suite.h"

static void cpns_keys_expand_label(struct kunit *test)
{
	const struct cpns_vec_expand *v;
	unsigned int i;
	u8 *out;

	for (i = 0; i < ARRAY_SIZE(cpns_vec_expand); i++) {
		v = &cpns_vec_expand[i];
		out = kunit_kzalloc(test, v->out_len, GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, out);

		KUNIT_ASSERT_EQ_MSG(test, 0,
				    cpns_hkdf_expand_label(v->secret,
							   v->secret_len,
							   v->prefix, v->label,
							   v->ctx, v->ctx_len,
							   out, v->out_len),
				    "%s", v->name);
		KUNIT_EXPECT_EQ_MSG(test, 0, memcmp(out, v->out, v->out_len),
				    "%s", v->name);

		if (strcmp(v->prefix, CPNS_LABEL_PREFIX))
			continue;
		/* The production entry point must agree for cpns1 cases. */
		memset(out, 0, v->out_len);
		KUNIT_ASSERT_EQ(test, 0,
				cpns_expand_label(v->secret, v->secret_len,
						  v->label, v->ctx, v->ctx_len,
						  out, v->out_len));
		KUNIT_EXPECT_EQ_MSG(test, 0, memcmp(out, v->out, v->out_len),
				    "%s", v->name);
	}
}

static void cpns_keys_expand_label_bounds(struct kunit *test)
{
	static const u8 secret[32] = { 1 };
	char label[251];
	u8 out[32];

	/* len("cpns1 " || label) must be 7..255 */
	KUNIT_EXPECT_EQ(test, -EINVAL,
			cpns_expand_label(secret, sizeof(secret), "", NULL, 0,
					  out, sizeof(out)));
	memset(label, 'x', sizeof(label) - 1);
	label[sizeof(label) - 1] = '\0';
	KUNIT_EXPECT_EQ(test, 0,
			cpns_expand_label(secret, sizeof(secret), label + 1,
					  NULL, 0, out, sizeof(out)));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			cpns_expand_label(secret, sizeof(secret), label, NULL,
					  0, out, sizeof(out)));
	/* L must be 1..255 * 32 */
	KUNIT_EXPECT_EQ(test, -EINVAL,
			cpns_expand_label(secret, sizeof(secret), "key", NULL,
					  0, out, 0));
	/* len(ctx) must be at most 255 */
	KUNIT_EXPECT_EQ(test, -EINVAL,
			cpns_expand_label(secret, sizeof(secret), "key",
					  secret, 256, out, sizeof(out)));
}

static void cpns_keys_extract(struct kunit *test)
{
	const struct cpns_vec_extract *v;
	unsigned int i;
	u8 out[32];

	KUNIT_ASSERT_GT(test, ARRAY_SIZE(cpns_vec_extract), 0);
	for (i = 0; i < ARRAY_SIZE(cpns_vec_extract); i++) {
		v = &cpns_vec_extract[i];
		/* HKDF-Extract(salt, ikm) = HMAC(salt, ikm) */
		cpns_hmac_sha256(v->salt, v->salt_len, v->ikm, v->ikm_len,
				 out);
		KUNIT_EXPECT_EQ_MSG(test, 0, memcmp(out, v->out, sizeof(out)),
				    "%s", v->name);
	}
}

static void cpns_keys_traffic(struct kunit *test)
{
	const struct cpns_vec_traffic_epoch *e;
	const struct cpns_vec_traffic *v;
	u8 ts[CPNS_SECRET_LEN], key[CPNS_KEY_LEN], iv[CPNS_NONCE_LEN];
	unsigned int i, n, epoch;

	for (i = 0; i < ARRAY_SIZE(cpns_vec_traffic); i++) {
		v = &cpns_vec_traffic[i];
		memcpy(ts, v->ts0, sizeof(ts));
		n = 0;
		for (epoch = 0; epoch < CPNS_EPOCHS && n < v->n_epochs;
		     epoch++) {
			e = &v->epochs[n];
			if (e->epoch != epoch) {
				/* on to ts_{n+1} in place */
				cpns_traffic_keys(ts, key, iv, ts);
				continue;
			}
			KUNIT_EXPECT_EQ_MSG(test, 0,
					    memcmp(ts, e->ts, sizeof(ts)),
					    "%s ts_%u", v->name, epoch);
			cpns_traffic_keys(ts, key, iv, ts);
			KUNIT_EXPECT_EQ_MSG(test, 0,
					    memcmp(key, e->key, sizeof(key)),
					    "%s key_%u", v->name, epoch);
			KUNIT_EXPECT_EQ_MSG(test, 0,
					    memcmp(iv, e->iv, sizeof(iv)),
					    "%s iv_%u", v->name, epoch);
			n++;
		}
		KUNIT_EXPECT_EQ_MSG(test, n, v->n_epochs, "%s", v->name);
	}
}

static void cpns_keys_epoch_keys(struct kunit *test)
{
	const struct cpns_vec_traffic *v = &cpns_vec_traffic[0];
	struct cpns_epoch_keys *keys;
	u8 next[CPNS_SECRET_LEN];
	u8 suite;

	for (suite = CPNS_SUITE_AES256GCM;
	     suite <= CPNS_SUITE_CHACHA20POLY1305; suite++) {
		memset(next, 0, sizeof(next));
		keys = cpns_epoch_keys_new(suite, v->epochs[1].ts, 1, next);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, keys);
		KUNIT_EXPECT_EQ(test, keys->epoch, 1);
		/* ts_2, from the same keying of HMAC */
		KUNIT_EXPECT_EQ(test, v->epochs[2].epoch, 2);
		KUNIT_EXPECT_EQ(test, 0, memcmp(next, v->epochs[2].ts,
						sizeof(next)));
		KUNIT_EXPECT_EQ(test, 0, memcmp(keys->iv, v->epochs[1].iv,
						CPNS_NONCE_LEN));
		KUNIT_EXPECT_EQ(test, keys->suite, suite);
		if (suite == CPNS_SUITE_CHACHA20POLY1305) {
			/* The library (chachapoly.c) takes key_n itself. */
			KUNIT_EXPECT_NULL(test, keys->aead);
			KUNIT_EXPECT_EQ(test, 0,
					memcmp(keys->key, v->epochs[1].key,
					       CPNS_KEY_LEN));
			cpns_epoch_keys_free(keys);
			continue;
		}
		/* key_n lives only in the transform. */
		KUNIT_EXPECT_FALSE(test, memchr_inv(keys->key, 0, CPNS_KEY_LEN));
		KUNIT_EXPECT_EQ(test, crypto_aead_authsize(keys->aead),
				CPNS_TAG_LEN);
		/* The crypto API's best implementation (the parameter
		 * aes_gcm at its default), asynchronous or not.
		 */
		KUNIT_EXPECT_STREQ(test, "gcm(aes)",
				   crypto_tfm_alg_name(crypto_aead_tfm(keys->aead)));
		cpns_epoch_keys_free(keys);
	}

	keys = cpns_epoch_keys_new(CPNS_SUITE_NONE, v->ts0, 0, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(keys), -EINVAL);
	keys = cpns_epoch_keys_new(3, v->ts0, 0, NULL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(keys), -EINVAL);
}

static struct kunit_case cpns_keys_cases[] = {
	KUNIT_CASE(cpns_keys_expand_label),
	KUNIT_CASE(cpns_keys_expand_label_bounds),
	KUNIT_CASE(cpns_keys_extract),
	KUNIT_CASE(cpns_keys_traffic),
	KUNIT_CASE(cpns_keys_epoch_keys),
	{}
};

static struct kunit_suite cpns_keys_suite = {
	.name = "cpns_keys",
	.test_cases = cpns_keys_cases,
};

kunit_test_suites(&cpns_keys_suite);

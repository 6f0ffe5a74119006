// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: key schedule of PROTOCOL.md 3.1 and 3.3 - Expand-Label on top of
 * HMAC-SHA256, the traffic-secret chain, and the keyed AEAD of an epoch.
 */

#include <crypto/aead.h>
#include <crypto/hash.h>
#include <crypto/sha2.h>
#include <linux/err.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "crypto.h"

/* u16(L) || u8(len) || prefix || label || u8(len(ctx)) || ctx */
#define CPNS_HKDF_INFO_MAX	(2 + 1 + 255 + 1 + 255)

/*
 * One HMAC-SHA256 transform for every derivation, instead of one allocated
 * per call: the key lives in the transform, so keying and hashing run under
 * cpns_hmac_lock (derivation is process context only), and the transform is
 * re-keyed with the empty key before the lock is dropped so that no secret
 * stays in it between derivations.
 */
static struct crypto_shash *cpns_hmac_tfm;	/* set by cpns_keys_init() */
static DEFINE_MUTEX(cpns_hmac_lock);		/* keying and use of the tfm */

static void cpns_hmac_unlock(void)
{
	/* Cannot fail for HMAC: any key length is accepted. */
	crypto_shash_setkey(cpns_hmac_tfm, (const u8 *)"", 0);
	mutex_unlock(&cpns_hmac_lock);
}

/**
 * cpns_hmac_sha256() - HMAC-SHA256 of one buffer
 * @key: HMAC key
 * @key_len: length of @key
 * @data: message
 * @data_len: length of @data
 * @out: 32-byte MAC
 *
 * HKDF-Extract(salt, ikm) of RFC 5869 is cpns_hmac_sha256(salt, ikm).
 * Process context only.
 *
 * Return: 0 or a negative errno from the crypto API.
 */
int cpns_hmac_sha256(const u8 *key, size_t key_len, const u8 *data,
		     size_t data_len, u8 out[32])
{
	int err;

	mutex_lock(&cpns_hmac_lock);
	err = crypto_shash_setkey(cpns_hmac_tfm, key, key_len) ?:
	      crypto_shash_tfm_digest(cpns_hmac_tfm, data, data_len, out);
	cpns_hmac_unlock();
	return err;
}

/* RFC 5869 HKDF-Expand with SHA-256; @tfm is already keyed with the PRK. */
static int cpns_hkdf_expand(struct crypto_shash *tfm, const u8 *info,
			    size_t info_len, u8 *out, size_t out_len)
{
	SHASH_DESC_ON_STACK(desc, tfm);
	u8 t[SHA256_DIGEST_SIZE];
	size_t t_len = 0, n;
	u8 i;
	int err = 0;

	desc->tfm = tfm;
	for (i = 1; out_len; i++) {
		err = crypto_shash_init(desc) ?:
		      crypto_shash_update(desc, t, t_len) ?:
		      crypto_shash_update(desc, info, info_len) ?:
		      crypto_shash_finup(desc, &i, 1, t);
		if (err)
			break;
		t_len = SHA256_DIGEST_SIZE;
		n = min(out_len, t_len);
		memcpy(out, t, n);
		out += n;
		out_len -= n;
	}
	shash_desc_zero(desc);
	memzero_explicit(t, sizeof(t));
	return err;
}

/**
 * cpns_hkdf_expand_label() - HKDF-Expand-Label with a given label prefix
 * @secret: the secret S (HKDF PRK)
 * @secret_len: length of @secret
 * @prefix: "cpns1 " in production; "tls13 " reproduces RFC 8448
 * @label: label, NUL-terminated (the NUL is not part of the info)
 * @ctx: context bytes
 * @ctx_len: length of @ctx, at most 255
 * @out: output key material
 * @out_len: L, 1 to 255 * 32
 *
 * info = u16(L) || u8(len(prefix || label)) || prefix || label ||
 * u8(len(ctx)) || ctx (PROTOCOL.md 3.1). Process context only.
 *
 * Return: 0, -EINVAL on out-of-range lengths, or an errno of the crypto API.
 */
int cpns_hkdf_expand_label(const u8 *secret, size_t secret_len,
			   const char *prefix, const char *label,
			   const u8 *ctx, size_t ctx_len,
			   u8 *out, size_t out_len)
{
	size_t prefix_len = strlen(prefix), label_len = strlen(label);
	size_t full_len = prefix_len + label_len;
	u8 *info, *p;
	int err;

	if (full_len < 7 || full_len > 255 || ctx_len > 255 || !out_len ||
	    out_len > 255 * SHA256_DIGEST_SIZE)
		return -EINVAL;

	info = kmalloc(CPNS_HKDF_INFO_MAX, GFP_KERNEL);
	if (!info)
		return -ENOMEM;
	p = info;
	*p++ = out_len >> 8;
	*p++ = out_len & 0xff;
	*p++ = full_len;
	memcpy(p, prefix, prefix_len);
	p += prefix_len;
	memcpy(p, label, label_len);
	p += label_len;
	*p++ = ctx_len;
	memcpy(p, ctx, ctx_len);
	p += ctx_len;

	mutex_lock(&cpns_hmac_lock);
	err = crypto_shash_setkey(cpns_hmac_tfm, secret, secret_len) ?:
	      cpns_hkdf_expand(cpns_hmac_tfm, info, p - info, out, out_len);
	cpns_hmac_unlock();
	kfree_sensitive(info);
	return err;
}

/**
 * cpns_expand_label() - Expand-Label of PROTOCOL.md 3.1 (prefix "cpns1 ")
 * @secret: the secret S
 * @secret_len: length of @secret
 * @label: label without the prefix, NUL-terminated
 * @ctx: context bytes
 * @ctx_len: length of @ctx
 * @out: output
 * @out_len: L
 *
 * Process context only.
 *
 * Return: as cpns_hkdf_expand_label().
 */
int cpns_expand_label(const u8 *secret, size_t secret_len, const char *label,
		      const u8 *ctx, size_t ctx_len, u8 *out, size_t out_len)
{
	return cpns_hkdf_expand_label(secret, secret_len, CPNS_LABEL_PREFIX,
				      label, ctx, ctx_len, out, out_len);
}

/**
 * cpns_traffic_next() - replace ts_n by ts_{n+1} in place
 * @ts: the traffic secret of epoch n; holds ts_{n+1} on success
 *
 * ts_{n+1} = Expand-Label(ts_n, "upd", "", 32). ts_n is not kept anywhere.
 * Process context only.
 *
 * Return: 0 or a negative errno (then @ts is unchanged).
 */
int cpns_traffic_next(u8 ts[CPNS_SECRET_LEN])
{
	u8 next[CPNS_SECRET_LEN];
	int err;

	err = cpns_expand_label(ts, CPNS_SECRET_LEN, "upd", NULL, 0,
				next, sizeof(next));
	if (!err)
		memcpy(ts, next, sizeof(next));
	memzero_explicit(next, sizeof(next));
	return err;
}

/**
 * cpns_traffic_keys() - key_n and iv_n of an epoch
 * @ts: ts_n
 * @key: Expand-Label(ts_n, "key", "", 32)
 * @iv: Expand-Label(ts_n, "iv", "", 12)
 *
 * Process context only.
 *
 * Return: 0 or a negative errno.
 */
int cpns_traffic_keys(const u8 ts[CPNS_SECRET_LEN], u8 key[CPNS_KEY_LEN],
		      u8 iv[CPNS_NONCE_LEN])
{
	return cpns_expand_label(ts, CPNS_SECRET_LEN, "key", NULL, 0,
				 key, CPNS_KEY_LEN) ?:
	       cpns_expand_label(ts, CPNS_SECRET_LEN, "iv", NULL, 0,
				 iv, CPNS_NONCE_LEN);
}

/**
 * cpns_keys_init() - allocate the HMAC-SHA256 transform of the key schedule
 *
 * Before the first derivation. Process context.
 *
 * Return: 0 or a negative errno of the crypto API.
 */
int cpns_keys_init(void)
{
	struct crypto_shash *tfm;

	tfm = crypto_alloc_shash("hmac(sha256)", 0, 0);
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	cpns_hmac_tfm = tfm;
	return 0;
}

/**
 * cpns_keys_exit() - free the HMAC-SHA256 transform of the key schedule
 *
 * After the last derivation.
 */
void cpns_keys_exit(void)
{
	crypto_free_shash(cpns_hmac_tfm);
	cpns_hmac_tfm = NULL;
}

/*
 * The AES-256-GCM implementation of epoch keys derived from now on:
 * "gcm(aes)", the crypto API's best, or another implementation of gcm(aes)
 * that the parameter aes_gcm names - a driver such as "generic-gcm-aesni",
 * or a pcrypt or cryptd instance, which finishes every operation in a
 * worker (tests use one). Written and read under the module's parameter
 * lock.
 */
static char cpns_aes_gcm[CRYPTO_MAX_ALG_NAME] = "gcm(aes)";

static int cpns_aes_gcm_set(const char *val, const struct kernel_param *kp)
{
	char buf[CRYPTO_MAX_ALG_NAME], *name;
	struct crypto_aead *tfm;
	bool gcm;

	if (strscpy(buf, val, sizeof(buf)) < 0)
		return -EINVAL;
	name = strim(buf);	/* the newline of echo */
	tfm = crypto_alloc_aead(name, 0, 0);
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	gcm = !strcmp(crypto_tfm_alg_name(crypto_aead_tfm(tfm)), "gcm(aes)");
	crypto_free_aead(tfm);
	if (!gcm)
		return -EINVAL;
	strscpy(cpns_aes_gcm, name, sizeof(cpns_aes_gcm));
	return 0;
}

static int cpns_aes_gcm_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", cpns_aes_gcm);
}

static const struct kernel_param_ops cpns_aes_gcm_ops = {
	.set = cpns_aes_gcm_set,
	.get = cpns_aes_gcm_get,
};

module_param_cb(aes_gcm, &cpns_aes_gcm_ops, NULL, 0644);
MODULE_PARM_DESC(aes_gcm,
		 "crypto API implementation of AES-256-GCM for keys derived from now on (default gcm(aes): the best available; any implementation of gcm(aes) by name)");

/**
 * cpns_aead_alloc() - an unkeyed AES-256-GCM transform
 *
 * The implementation the parameter aes_gcm names, by default the crypto
 * API's best, asynchronous ones included: on x86 the AES-NI one is
 * asynchronous (it runs at once when the CPU's SIMD registers are usable,
 * and from a worker otherwise), and the synchronous one the API offers
 * instead computes GHASH a table lookup at a time. Records therefore go
 * through &struct cpns_crypt (record.c). Suite 2 does not use the crypto
 * API's transforms (chachapoly.c). Process context.
 *
 * Return: the transform, or an ERR_PTR() with an errno of the crypto API.
 */
struct crypto_aead *cpns_aead_alloc(void)
{
	char name[CRYPTO_MAX_ALG_NAME];

	kernel_param_lock(THIS_MODULE);
	strscpy(name, cpns_aes_gcm, sizeof(name));
	kernel_param_unlock(THIS_MODULE);
	return crypto_alloc_aead(name, 0, 0);
}

/**
 * cpns_epoch_keys_new() - derive the keys of one epoch
 * @suite: CPNS_SUITE_AES256GCM or CPNS_SUITE_CHACHA20POLY1305
 * @ts: ts_n of the epoch
 * @epoch: n
 *
 * Derives key_n and iv_n. For AES-256-GCM, allocates a transform with
 * cpns_aead_alloc() and keys it with key_n and a 16-byte tag, and key_n is
 * wiped before returning; ChaCha20-Poly1305 keeps key_n in the result.
 * Process context only; may sleep.
 *
 * Return: the new keys, or an ERR_PTR() (-EINVAL for a bad suite, -ENOMEM,
 * or an errno of the crypto API).
 */
struct cpns_epoch_keys *cpns_epoch_keys_new(u8 suite,
					    const u8 ts[CPNS_SECRET_LEN],
					    u8 epoch)
{
	struct cpns_epoch_keys *keys;
	int err;

	if (suite != CPNS_SUITE_AES256GCM &&
	    suite != CPNS_SUITE_CHACHA20POLY1305)
		return ERR_PTR(-EINVAL);

	keys = kzalloc(sizeof(*keys), GFP_KERNEL);
	if (!keys)
		return ERR_PTR(-ENOMEM);
	refcount_set(&keys->ref, 1);
	keys->suite = suite;
	keys->epoch = epoch;

	err = cpns_traffic_keys(ts, keys->key, keys->iv);
	if (err)
		goto err_free_keys;
	if (suite == CPNS_SUITE_CHACHA20POLY1305)
		return keys;

	keys->aead = cpns_aead_alloc();
	if (IS_ERR(keys->aead)) {
		err = PTR_ERR(keys->aead);
		goto err_free_keys;
	}
	err = crypto_aead_setkey(keys->aead, keys->key, sizeof(keys->key)) ?:
	      crypto_aead_setauthsize(keys->aead, CPNS_TAG_LEN);
	if (err)
		goto err_free_aead;

	memzero_explicit(keys->key, sizeof(keys->key));
	return keys;

err_free_aead:
	crypto_free_aead(keys->aead);
err_free_keys:
	kfree_sensitive(keys);
	return ERR_PTR(err);
}

/**
 * cpns_epoch_keys_put() - drop a reference to epoch keys
 * @keys: the keys
 *
 * The last one frees them. Any context: softirq, or a crypto
 * implementation's completion.
 */
void cpns_epoch_keys_put(struct cpns_epoch_keys *keys)
{
	if (!refcount_dec_and_test(&keys->ref))
		return;
	/* crypto_free_aead() zeroises the transform's key schedule;
	 * kfree_sensitive() the key of suite 2.
	 */
	if (keys->aead)
		crypto_free_aead(keys->aead);
	kfree_sensitive(keys);
}

static void cpns_epoch_keys_free_rcu(struct rcu_head *rcu)
{
	cpns_epoch_keys_put(container_of(rcu, struct cpns_epoch_keys, rcu));
}

/**
 * cpns_epoch_keys_free() - free epoch keys after an RCU grace period
 * @keys: keys already unpublished from every RCU-visible pointer, or NULL
 *
 * Drops the publisher's reference after the grace period; a seal or open
 * still running then holds another, and the keys go with it. Safe in any
 * context, including softirq with a spinlock held.
 */
void cpns_epoch_keys_free(struct cpns_epoch_keys *keys)
{
	if (keys)
		call_rcu(&keys->rcu, cpns_epoch_keys_free_rcu);
}

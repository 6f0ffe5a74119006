// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: key schedule of PROTOCOL.md 3.1 and 3.3 - Expand-Label on top of
 * HMAC-SHA256, the traffic-secret chain, and the keyed AEAD of an epoch.
 */

#include <crypto/aead.h>
#include <crypto/sha2.h>
#include <linux/err.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "crypto.h"

/*
 * HMAC-SHA256 on the library SHA-256 (lib/crypto): a derivation hashes a few
 * blocks, which the library does with no transform to share or lock and no
 * SIMD section to enter, as WireGuard derives its keys with the library
 * BLAKE2s. The states after the key's inner and outer pads are kept, so
 * one key serves several messages (the key and IV of an epoch).
 */
struct cpns_hmac {
	struct sha256_state inner;
	struct sha256_state outer;
};

static void cpns_hmac_setkey(struct cpns_hmac *h, const u8 *key,
			     size_t key_len)
{
	u8 pad[SHA256_BLOCK_SIZE] = { 0 };
	unsigned int i;

	if (key_len > SHA256_BLOCK_SIZE)
		sha256(key, key_len, pad);
	else
		memcpy(pad, key, key_len);
	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36;
	sha256_init(&h->inner);
	sha256_update(&h->inner, pad, sizeof(pad));
	for (i = 0; i < sizeof(pad); i++)
		pad[i] ^= 0x36 ^ 0x5c;
	sha256_init(&h->outer);
	sha256_update(&h->outer, pad, sizeof(pad));
	memzero_explicit(pad, sizeof(pad));
}

/* The MAC of the message whose inner hash state is @s; @s is wiped. */
static void cpns_hmac_final(const struct cpns_hmac *h, struct sha256_state *s,
			    u8 out[SHA256_DIGEST_SIZE])
{
	u8 inner[SHA256_DIGEST_SIZE];

	sha256_final(s, inner);		/* wipes s */
	*s = h->outer;
	sha256_update(s, inner, sizeof(inner));
	sha256_final(s, out);
	memzero_explicit(inner, sizeof(inner));
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
 * Any context.
 */
void cpns_hmac_sha256(const u8 *key, size_t key_len, const u8 *data,
		      size_t data_len, u8 out[32])
{
	struct cpns_hmac h;
	struct sha256_state s;

	cpns_hmac_setkey(&h, key, key_len);
	s = h.inner;
	sha256_update(&s, data, data_len);
	cpns_hmac_final(&h, &s, out);
	memzero_explicit(&h, sizeof(h));
}

/*
 * RFC 5869 HKDF-Expand with SHA-256 and the HkdfLabel info of PROTOCOL.md
 * 3.1: u16(L) || u8(len(prefix || label)) || prefix || label ||
 * u8(len(ctx)) || ctx, hashed where it lies. The caller checked the lengths.
 */
static void cpns_hkdf_expand(const struct cpns_hmac *prk, const char *prefix,
			     const char *label, const u8 *ctx, size_t ctx_len,
			     u8 *out, size_t out_len)
{
	size_t prefix_len = strlen(prefix), label_len = strlen(label);
	const u8 head[3] = { out_len >> 8, out_len & 0xff,
			     prefix_len + label_len };
	const u8 ctx_byte = ctx_len;
	struct sha256_state s;
	u8 t[SHA256_DIGEST_SIZE];
	size_t t_len = 0, n;
	u8 i;

	for (i = 1; out_len; i++) {
		s = prk->inner;
		sha256_update(&s, t, t_len);
		sha256_update(&s, head, sizeof(head));
		sha256_update(&s, prefix, prefix_len);
		sha256_update(&s, label, label_len);
		sha256_update(&s, &ctx_byte, 1);
		if (ctx_len)
			sha256_update(&s, ctx, ctx_len);
		sha256_update(&s, &i, 1);
		cpns_hmac_final(prk, &s, t);
		t_len = SHA256_DIGEST_SIZE;
		n = min(out_len, t_len);
		memcpy(out, t, n);
		out += n;
		out_len -= n;
	}
	memzero_explicit(t, sizeof(t));
}

static int cpns_hkdf_check(const char *prefix, const char *label,
			   size_t ctx_len, size_t out_len)
{
	size_t full_len = strlen(prefix) + strlen(label);

	if (full_len < 7 || full_len > 255 || ctx_len > 255 || !out_len ||
	    out_len > 255 * SHA256_DIGEST_SIZE)
		return -EINVAL;
	return 0;
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
 * u8(len(ctx)) || ctx (PROTOCOL.md 3.1). Any context.
 *
 * Return: 0, or -EINVAL on out-of-range lengths (then @out is untouched).
 */
int cpns_hkdf_expand_label(const u8 *secret, size_t secret_len,
			   const char *prefix, const char *label,
			   const u8 *ctx, size_t ctx_len,
			   u8 *out, size_t out_len)
{
	struct cpns_hmac prk;
	int err;

	err = cpns_hkdf_check(prefix, label, ctx_len, out_len);
	if (err)
		return err;
	cpns_hmac_setkey(&prk, secret, secret_len);
	cpns_hkdf_expand(&prk, prefix, label, ctx, ctx_len, out, out_len);
	memzero_explicit(&prk, sizeof(prk));
	return 0;
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
 * cpns_traffic_keys() - key_n, iv_n and ts_{n+1} of an epoch
 * @ts: ts_n
 * @key: Expand-Label(ts_n, "key", "", 32)
 * @iv: Expand-Label(ts_n, "iv", "", 12)
 * @next: ts_{n+1} = Expand-Label(ts_n, "upd", "", 32), or NULL; may be @ts
 *
 * All three from one keying of HMAC with ts_n. Any context.
 */
void cpns_traffic_keys(const u8 *ts, u8 key[CPNS_KEY_LEN],
		       u8 iv[CPNS_NONCE_LEN], u8 *next)
{
	struct cpns_hmac prk;

	cpns_hmac_setkey(&prk, ts, CPNS_SECRET_LEN);
	cpns_hkdf_expand(&prk, CPNS_LABEL_PREFIX, "key", NULL, 0, key,
			 CPNS_KEY_LEN);
	cpns_hkdf_expand(&prk, CPNS_LABEL_PREFIX, "iv", NULL, 0, iv,
			 CPNS_NONCE_LEN);
	/* ts is the key no more once prk holds it: next may overwrite it */
	if (next)
		cpns_hkdf_expand(&prk, CPNS_LABEL_PREFIX, "upd", NULL, 0, next,
				 CPNS_SECRET_LEN);
	memzero_explicit(&prk, sizeof(prk));
}

/**
 * cpns_epoch_keys_new() - derive the keys of one epoch
 * @suite: CPNS_SUITE_AES256GCM or CPNS_SUITE_CHACHA20POLY1305
 * @ts: ts_n of the epoch
 * @epoch: n
 * @next: ts_{n+1} on success, or NULL (not @ts: on failure it holds
 *	secret bytes for the caller to wipe)
 *
 * Derives key_n and iv_n (and ts_{n+1}). For AES-256-GCM, takes a
 * transform from cpns_aead_get() and keys it with key_n and a 16-byte tag,
 * and key_n is wiped before returning; ChaCha20-Poly1305 keeps key_n in
 * the result.
 * Process context only; may sleep.
 *
 * Return: the new keys, or an ERR_PTR() (-EINVAL for a bad suite, -ENOMEM,
 * or an errno of the crypto API).
 */
struct cpns_epoch_keys *cpns_epoch_keys_new(u8 suite,
					    const u8 ts[CPNS_SECRET_LEN],
					    u8 epoch, u8 *next)
{
	struct cpns_epoch_keys *keys;
	int err;

	if (suite != CPNS_SUITE_AES256GCM &&
	    suite != CPNS_SUITE_CHACHA20POLY1305)
		return ERR_PTR(-EINVAL);

	keys = kzalloc(sizeof(*keys), GFP_KERNEL_ACCOUNT);
	if (!keys)
		return ERR_PTR(-ENOMEM);
	refcount_set(&keys->ref, 1);
	keys->suite = suite;
	keys->epoch = epoch;

	cpns_traffic_keys(ts, keys->key, keys->iv, next);
	if (suite == CPNS_SUITE_CHACHA20POLY1305)
		return keys;

	keys->aead = cpns_aead_get();
	if (IS_ERR(keys->aead)) {
		err = PTR_ERR(keys->aead);
		goto err_free_keys;
	}
	err = crypto_aead_setkey(keys->aead, keys->key, sizeof(keys->key)) ?:
	      crypto_aead_setauthsize(keys->aead, CPNS_TAG_LEN);
	if (err)
		goto err_put_aead;

	memzero_explicit(keys->key, sizeof(keys->key));
	return keys;

err_put_aead:
	cpns_aead_put(keys->aead);
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
	/* The transform is wiped before it is used again or freed;
	 * kfree_sensitive() wipes the key of suite 2.
	 */
	if (keys->aead)
		cpns_aead_put(keys->aead);
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

/**
 * cpns_epoch_keys_release() - free epoch keys no RCU reader can reach
 * @keys: keys whose publishing state is unreachable for the packet path
 *	since a grace period (a generation being destroyed) or never was
 *	published, or NULL
 *
 * Drops the publisher's reference at once: a second grace period would
 * protect no reader, and cost a callback per key set (a server frees a
 * generation's three at every authentication). A seal or open still
 * running holds another reference, and the keys go with it. Any context.
 */
void cpns_epoch_keys_release(struct cpns_epoch_keys *keys)
{
	if (keys)
		cpns_epoch_keys_put(keys);
}

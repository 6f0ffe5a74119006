// SPDX-License-Identifier: GPL-2.0
/*
 * cpns1 key schedule, AEADs, record protection, X25519 and scrypt on
 * OpenSSL 3 (EVP_MAC, EVP_CIPHER, EVP_PKEY, EVP_PBE_scrypt). No primitive
 * is implemented here; HKDF is written out on HMAC (see there).
 */
#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "cpns_crypto.h"

/* ---- randomness ------------------------------------------------------- */

/**
 * cpns_random() - draw random bytes
 * @rng: the source, or NULL for the system generator
 * @buf: output
 * @len: number of bytes
 *
 * Return: 0 or a negative errno.
 */
int cpns_random(const struct cpns_rng *rng, uint8_t *buf, size_t len)
{
	int ret;

	if (rng)
		return rng->fill(rng->ctx, buf, len);
	if (len > INT32_MAX)
		return -EINVAL;
	ret = RAND_priv_bytes(buf, (int)len);
	return ret == 1 ? 0 : -EIO;
}

static int cpns_rng_replay_fill(void *ctx, uint8_t *buf, size_t len)
{
	struct cpns_rng_replay *rp = ctx;

	if (rp->next >= rp->n || rp->lens[rp->next] != len)
		return -ERANGE;
	memcpy(buf, rp->draws[rp->next], len);
	rp->next++;
	return 0;
}

void cpns_rng_replay_init(struct cpns_rng *rng, struct cpns_rng_replay *rp,
			  const uint8_t *const *draws, const size_t *lens,
			  size_t n)
{
	rp->draws = draws;
	rp->lens = lens;
	rp->n = n;
	rp->next = 0;
	rng->fill = cpns_rng_replay_fill;
	rng->ctx = rp;
}

/* ---- algorithms ------------------------------------------------------- */

/*
 * The algorithms, fetched once per process. An OpenSSL 3 fetch is a
 * locked lookup by name in the provider's method store, and doing one for
 * each operation (an implicit one too, as EVP_sha256() or an HMAC "digest"
 * parameter makes) cost more than the short operations of the key
 * schedule. Contexts are still made for each operation and freed after
 * it, which cleanses them: no key outlives its call. hmac is a context
 * without a key, with its digest set, that each MAC duplicates. A member
 * left NULL (the fetch failed) fails the operations that need it.
 */
static struct {
	EVP_MD *sha256;
	EVP_MAC_CTX *hmac;
	EVP_CIPHER *aes256gcm, *chacha20poly1305;
} cpns_algs;
static CRYPTO_ONCE cpns_algs_once = CRYPTO_ONCE_STATIC_INIT;

static void cpns_algs_fetch(void)
{
	OSSL_PARAM params[2];
	EVP_MAC *mac;

	cpns_algs.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	cpns_algs.aes256gcm = EVP_CIPHER_fetch(NULL, "AES-256-GCM", NULL);
	cpns_algs.chacha20poly1305 = EVP_CIPHER_fetch(NULL, "ChaCha20-Poly1305",
						      NULL);
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (!mac)
		return;
	cpns_algs.hmac = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);	/* the context holds its own reference */
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (cpns_algs.hmac && !EVP_MAC_CTX_set_params(cpns_algs.hmac, params)) {
		EVP_MAC_CTX_free(cpns_algs.hmac);
		cpns_algs.hmac = NULL;
	}
}

static bool cpns_algs_ready(void)
{
	return CRYPTO_THREAD_run_once(&cpns_algs_once, cpns_algs_fetch);
}

/* ---- hashing, MAC, KDF ------------------------------------------------ */

int cpns_sha256_iov(const struct cpns_iov *iov, size_t n,
		    uint8_t out[CPNS_HASH_LEN])
{
	EVP_MD_CTX *ctx;
	unsigned int len = 0;
	int ok;
	size_t i;

	if (!cpns_algs_ready() || !cpns_algs.sha256)
		return -EIO;
	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestInit_ex2(ctx, cpns_algs.sha256, NULL);
	for (i = 0; ok && i < n; i++)
		ok = EVP_DigestUpdate(ctx, iov[i].base, iov[i].len);
	if (ok)
		ok = EVP_DigestFinal_ex(ctx, out, &len);
	EVP_MD_CTX_free(ctx);
	return ok && len == CPNS_HASH_LEN ? 0 : -EIO;
}

int cpns_sha256(const void *data, size_t len, uint8_t out[CPNS_HASH_LEN])
{
	struct cpns_iov iov = { data, len };

	return cpns_sha256_iov(&iov, 1, out);
}

/* HMAC-SHA256 of the concatenation of @iov (a context per call, see above) */
static int cpns_hmac_iov(const uint8_t *key, size_t key_len,
			 const struct cpns_iov *iov, size_t n,
			 uint8_t out[CPNS_HASH_LEN])
{
	/*
	 * HMAC pads the key with zeros to the block size, so the empty key
	 * and the one-byte key 0x00 are the same key; EVP_MAC refuses an
	 * empty one.
	 */
	static const uint8_t zero_key[1];
	EVP_MAC_CTX *ctx = NULL;
	size_t out_len = 0, i;
	int ok = 0;

	if (!key_len) {
		key = zero_key;
		key_len = sizeof(zero_key);
	}
	if (cpns_algs_ready() && cpns_algs.hmac)
		ctx = EVP_MAC_CTX_dup(cpns_algs.hmac);
	if (ctx)
		ok = EVP_MAC_init(ctx, key, key_len, NULL);
	for (i = 0; ok && i < n; i++)
		ok = EVP_MAC_update(ctx, iov[i].base, iov[i].len);
	if (ok)
		ok = EVP_MAC_final(ctx, out, &out_len, CPNS_HASH_LEN);
	EVP_MAC_CTX_free(ctx);
	if (!ok || out_len != CPNS_HASH_LEN) {
		OPENSSL_cleanse(out, CPNS_HASH_LEN);
		return -EIO;
	}
	return 0;
}

int cpns_hmac_sha256(const uint8_t *key, size_t key_len, const void *data,
		     size_t len, uint8_t out[CPNS_HASH_LEN])
{
	struct cpns_iov iov = { data, len };

	return cpns_hmac_iov(key, key_len, &iov, 1, out);
}

/*
 * HKDF is RFC 5869 written out on the HMAC above. OpenSSL 3.0's EVP_KDF
 * "HKDF" fetches SHA-256, and for the extract step HMAC as well, inside
 * every derivation, and the key schedule makes many short ones.
 */

/**
 * cpns_hkdf_extract() - RFC 5869 HKDF-Extract with SHA-256
 * @salt: salt; an empty salt means HashLen zero bytes (RFC 5869 2.2)
 * @salt_len: its length
 * @ikm: input keying material
 * @ikm_len: its length
 * @prk: 32-byte output
 *
 * Return: 0 or a negative errno.
 */
int cpns_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
		      size_t ikm_len, uint8_t prk[CPNS_HASH_LEN])
{
	/* PRK = HMAC-Hash(salt, IKM); the empty key is HashLen zeros */
	return cpns_hmac_sha256(salt, salt_len, ikm, ikm_len, prk);
}

/**
 * cpns_hkdf_expand() - RFC 5869 HKDF-Expand with SHA-256
 * @prk: pseudorandom key (at least 32 bytes)
 * @prk_len: its length
 * @info: context
 * @info_len: its length
 * @out: output, not overlapping @prk
 * @out_len: 1 to 255 * 32
 *
 * Return: 0 or a negative errno.
 */
int cpns_hkdf_expand(const uint8_t *prk, size_t prk_len, const uint8_t *info,
		     size_t info_len, uint8_t *out, size_t out_len)
{
	uint8_t t[CPNS_HASH_LEN], i;
	struct cpns_iov iov[3] = {
		{ t, 0 }, { info, info_len }, { &i, 1 },
	};
	size_t done, n;
	int ret = 0;

	if (!out_len || out_len > 255 * CPNS_HASH_LEN || prk_len < CPNS_HASH_LEN)
		return -EINVAL;
	/* T(i) = HMAC-Hash(PRK, T(i - 1) | info | i), T(0) empty */
	for (done = 0, i = 1; !ret && done < out_len; done += n, i++) {
		ret = cpns_hmac_iov(prk, prk_len, iov, 3, t);
		iov[0].len = sizeof(t);
		n = out_len - done < sizeof(t) ? out_len - done : sizeof(t);
		if (!ret)
			memcpy(out + done, t, n);
	}
	OPENSSL_cleanse(t, sizeof(t));
	if (ret)
		OPENSSL_cleanse(out, out_len);
	return ret;
}

/**
 * cpns_hkdf_label() - build the HkdfLabel info of PROTOCOL.md 3.1
 * @prefix: "cpns1 " (or "tls13 " to check RFC 8448)
 * @label: the label
 * @ctx: context bytes
 * @ctx_len: 0 to 255
 * @out_len: L, 1 to 65535
 * @info: output buffer
 * @info_len: resulting length
 *
 * Return: 0, or -EINVAL if len(prefix || label) is not 7-255 or a length
 * is out of range.
 */
int cpns_hkdf_label(const char *prefix, const char *label, const uint8_t *ctx,
		    size_t ctx_len, size_t out_len,
		    uint8_t info[CPNS_HKDF_LABEL_MAX], size_t *info_len)
{
	size_t plen = strlen(prefix), llen = strlen(label), n = 0;

	if (plen + llen < 7 || plen + llen > 255 || ctx_len > 255 ||
	    !out_len || out_len > 0xffff)
		return -EINVAL;
	info[n++] = out_len >> 8;
	info[n++] = out_len & 0xff;
	info[n++] = plen + llen;
	memcpy(info + n, prefix, plen);
	n += plen;
	memcpy(info + n, label, llen);
	n += llen;
	info[n++] = ctx_len;
	if (ctx_len)
		memcpy(info + n, ctx, ctx_len);
	n += ctx_len;
	*info_len = n;
	return 0;
}

int cpns_expand_label_prefix(const char *prefix, const uint8_t *secret,
			     size_t secret_len, const char *label,
			     const uint8_t *ctx, size_t ctx_len, uint8_t *out,
			     size_t out_len)
{
	uint8_t info[CPNS_HKDF_LABEL_MAX];
	size_t info_len;
	int ret;

	ret = cpns_hkdf_label(prefix, label, ctx, ctx_len, out_len, info,
			      &info_len);
	if (ret)
		return ret;
	return cpns_hkdf_expand(secret, secret_len, info, info_len, out,
				out_len);
}

/**
 * cpns_expand_label() - Expand-Label of PROTOCOL.md 3.1 (prefix "cpns1 ")
 * @secret: 32-byte secret
 * @label: label without the prefix
 * @ctx: context bytes
 * @ctx_len: 0 to 255
 * @out: output
 * @out_len: L
 *
 * Return: 0 or a negative errno.
 */
int cpns_expand_label(const uint8_t secret[CPNS_HASH_LEN], const char *label,
		      const uint8_t *ctx, size_t ctx_len, uint8_t *out,
		      size_t out_len)
{
	return cpns_expand_label_prefix(CPNS_LABEL_PREFIX, secret,
					CPNS_HASH_LEN, label, ctx, ctx_len,
					out, out_len);
}

/* ---- key schedule ----------------------------------------------------- */

/**
 * cpns_purpose_keys() - P(K), K_hs(K), K_pn(K), K_wrap(K) of PROTOCOL.md 3.2
 * @k: long-term key
 * @out: the four keys; wipe with cpns_wipe() after use
 *
 * Return: 0 or a negative errno.
 */
int cpns_purpose_keys(const uint8_t k[CPNS_KEY_LEN],
		      struct cpns_purpose_keys *out)
{
	static const uint8_t zero_salt[CPNS_HASH_LEN];
	int ret;

	ret = cpns_hkdf_extract(zero_salt, sizeof(zero_salt), k, CPNS_KEY_LEN,
				out->p);
	if (!ret)
		ret = cpns_expand_label(out->p, "handshake", NULL, 0, out->k_hs,
					CPNS_KEY_LEN);
	if (!ret)
		ret = cpns_expand_label(out->p, "pn-est", NULL, 0, out->k_pn,
					CPNS_KEY_LEN);
	if (!ret)
		ret = cpns_expand_label(out->p, "wrap", NULL, 0, out->k_wrap,
					CPNS_KEY_LEN);
	if (ret)
		OPENSSL_cleanse(out, sizeof(*out));
	return ret;
}

int cpns_ts_next(const uint8_t ts[CPNS_SECRET_LEN],
		 uint8_t next[CPNS_SECRET_LEN])
{
	uint8_t tmp[CPNS_SECRET_LEN];
	int ret;

	/* next may alias ts */
	ret = cpns_expand_label(ts, "upd", NULL, 0, tmp, sizeof(tmp));
	if (!ret)
		memcpy(next, tmp, sizeof(tmp));
	OPENSSL_cleanse(tmp, sizeof(tmp));
	return ret;
}

/**
 * cpns_ts_epoch() - walk the traffic-secret chain from ts_0 to ts_epoch
 * @ts0: epoch 0 secret
 * @epoch: 0 to 255
 * @ts: output, ts_epoch
 *
 * Return: 0 or a negative errno.
 */
int cpns_ts_epoch(const uint8_t ts0[CPNS_SECRET_LEN], unsigned int epoch,
		  uint8_t ts[CPNS_SECRET_LEN])
{
	unsigned int i;
	int ret = 0;

	if (epoch > 255)
		return -EINVAL;
	memmove(ts, ts0, CPNS_SECRET_LEN);
	for (i = 0; !ret && i < epoch; i++)
		ret = cpns_ts_next(ts, ts);
	if (ret)
		OPENSSL_cleanse(ts, CPNS_SECRET_LEN);
	return ret;
}

int cpns_epoch_keys(const uint8_t ts[CPNS_SECRET_LEN],
		    uint8_t key[CPNS_KEY_LEN], uint8_t iv[CPNS_IV_LEN])
{
	int ret;

	ret = cpns_expand_label(ts, "key", NULL, 0, key, CPNS_KEY_LEN);
	if (!ret)
		ret = cpns_expand_label(ts, "iv", NULL, 0, iv, CPNS_IV_LEN);
	if (ret) {
		OPENSSL_cleanse(key, CPNS_KEY_LEN);
		OPENSSL_cleanse(iv, CPNS_IV_LEN);
	}
	return ret;
}

/* ---- AEAD ------------------------------------------------------------- */

bool cpns_suite_valid(unsigned int suite)
{
	return suite == CPNS_SUITE_AES256GCM ||
	       suite == CPNS_SUITE_CHACHA20POLY1305;
}

static const EVP_CIPHER *cpns_suite_cipher(unsigned int suite)
{
	if (!cpns_algs_ready())
		return NULL;
	switch (suite) {
	case CPNS_SUITE_AES256GCM:
		return cpns_algs.aes256gcm;
	case CPNS_SUITE_CHACHA20POLY1305:
		return cpns_algs.chacha20poly1305;
	default:
		return NULL;
	}
}

/*
 * One AEAD operation with the AAD in up to two parts (C=0 records
 * authenticate header || payload without copying them together).
 * Encrypt: out = ciphertext, tag written to tag. Decrypt: tag is checked.
 */
static int cpns_aead(bool enc, unsigned int suite, const uint8_t *key,
		     const uint8_t *nonce, const struct cpns_iov *aad,
		     size_t n_aad, const uint8_t *in, size_t len, uint8_t *out,
		     uint8_t *tag)
{
	const EVP_CIPHER *cipher;
	uint8_t fin[EVP_MAX_BLOCK_LENGTH];
	EVP_CIPHER_CTX *ctx;
	int ok = 0, outl;
	size_t i;

	if (!cpns_suite_valid(suite) || len > INT32_MAX)
		return -EINVAL;
	cipher = cpns_suite_cipher(suite);
	if (!cipher)
		return -EIO;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		goto out;
	if (!EVP_CipherInit_ex2(ctx, cipher, key, nonce, enc, NULL))
		goto out;
	for (i = 0; i < n_aad; i++) {
		if (aad[i].len > INT32_MAX ||
		    (aad[i].len && !EVP_CipherUpdate(ctx, NULL, &outl,
						     aad[i].base,
						     (int)aad[i].len)))
			goto out;
	}
	if (len && !EVP_CipherUpdate(ctx, out, &outl, in, (int)len))
		goto out;
	if (!enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG,
					 CPNS_TAG_LEN, tag))
		goto out;
	/* both AEADs are stream modes: Final outputs nothing */
	if (!EVP_CipherFinal_ex(ctx, fin, &outl) || outl)
		goto out;
	if (enc && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG,
					CPNS_TAG_LEN, tag))
		goto out;
	ok = 1;
out:
	EVP_CIPHER_CTX_free(ctx);
	if (!ok) {
		if (len)
			OPENSSL_cleanse(out, len);
		return enc || !ctx ? -EIO : -EBADMSG;
	}
	return 0;
}

/**
 * cpns_aead_seal() - AEAD-Seal of suite 1 or 2
 * @suite: CPNS_SUITE_AES256GCM or CPNS_SUITE_CHACHA20POLY1305
 * @key: 32-byte key
 * @nonce: 12-byte nonce
 * @aad: additional data
 * @aad_len: its length
 * @pt: plaintext
 * @pt_len: its length
 * @out: ciphertext || tag, @pt_len + 16 bytes
 *
 * Return: 0 or a negative errno.
 */
int cpns_aead_seal(unsigned int suite, const uint8_t key[CPNS_KEY_LEN],
		   const uint8_t nonce[CPNS_IV_LEN], const uint8_t *aad,
		   size_t aad_len, const uint8_t *pt, size_t pt_len,
		   uint8_t *out)
{
	struct cpns_iov a = { aad, aad_len };

	return cpns_aead(true, suite, key, nonce, &a, 1, pt, pt_len, out,
			 out + pt_len);
}

/**
 * cpns_aead_open() - AEAD-Open of suite 1 or 2
 * @suite: CPNS_SUITE_AES256GCM or CPNS_SUITE_CHACHA20POLY1305
 * @key: 32-byte key
 * @nonce: 12-byte nonce
 * @aad: additional data
 * @aad_len: its length
 * @in: ciphertext || tag
 * @in_len: its length, at least 16
 * @pt: plaintext, @in_len - 16 bytes; wiped on failure
 *
 * Return: 0, -EBADMSG if the tag does not verify, other negative errno.
 */
int cpns_aead_open(unsigned int suite, const uint8_t key[CPNS_KEY_LEN],
		   const uint8_t nonce[CPNS_IV_LEN], const uint8_t *aad,
		   size_t aad_len, const uint8_t *in, size_t in_len,
		   uint8_t *pt)
{
	struct cpns_iov a = { aad, aad_len };
	uint8_t tag[CPNS_TAG_LEN];

	if (in_len < CPNS_TAG_LEN)
		return -EBADMSG;
	memcpy(tag, in + in_len - CPNS_TAG_LEN, CPNS_TAG_LEN);
	return cpns_aead(false, suite, key, nonce, &a, 1, in,
			 in_len - CPNS_TAG_LEN, pt, tag);
}

/* ---- records ---------------------------------------------------------- */

static void cpns_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v;
}

static uint16_t cpns_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void cpns_record_hdr_pack(const struct cpns_record_hdr *hdr,
			  uint8_t out[CPNS_HDR_LEN])
{
	int i;

	out[0] = hdr->version;
	out[1] = hdr->type;
	out[2] = hdr->flags;
	out[3] = hdr->suite;
	out[4] = hdr->generation;
	out[5] = hdr->epoch;
	cpns_put_be16(out + 6, hdr->length);
	for (i = 0; i < 8; i++)
		out[8 + i] = hdr->seq >> (56 - 8 * i);
	memcpy(out + 16, hdr->src, CPNS_ID_LEN);
	memcpy(out + 32, hdr->dst, CPNS_ID_LEN);
	cpns_put_be16(out + 48, hdr->src_port);
	cpns_put_be16(out + 50, hdr->dst_port);
}

void cpns_record_hdr_unpack(const uint8_t in[CPNS_HDR_LEN],
			    struct cpns_record_hdr *hdr)
{
	int i;

	hdr->version = in[0];
	hdr->type = in[1];
	hdr->flags = in[2];
	hdr->suite = in[3];
	hdr->generation = in[4];
	hdr->epoch = in[5];
	hdr->length = cpns_get_be16(in + 6);
	hdr->seq = 0;
	for (i = 0; i < 8; i++)
		hdr->seq = hdr->seq << 8 | in[8 + i];
	memcpy(hdr->src, in + 16, CPNS_ID_LEN);
	memcpy(hdr->dst, in + 32, CPNS_ID_LEN);
	hdr->src_port = cpns_get_be16(in + 48);
	hdr->dst_port = cpns_get_be16(in + 50);
}

/* nonce = iv XOR (0^4 || u64(seq)) */
void cpns_record_nonce(const uint8_t iv[CPNS_IV_LEN], uint64_t seq,
		       uint8_t nonce[CPNS_IV_LEN])
{
	int i;

	memcpy(nonce, iv, CPNS_IV_LEN);
	for (i = 0; i < 8; i++)
		nonce[4 + i] ^= seq >> (56 - 8 * i);
}

/* The fixed fields of a suite 0 record (PROTOCOL.md 2.3). */
static bool cpns_suite0_ok(const struct cpns_record_hdr *hdr)
{
	return hdr->type == CPNS_REC_TYPE_HANDSHAKE && !hdr->flags &&
	       !hdr->generation && !hdr->epoch && !hdr->seq &&
	       hdr->src_port == CPNS_PORT_HANDSHAKE &&
	       hdr->dst_port == CPNS_PORT_HANDSHAKE;
}

/**
 * cpns_record_seal() - build a record as in PROTOCOL.md 2.2
 * @hdr: header fields; @hdr->length is ignored and set from @payload_len
 * @key: epoch key (unused for suite 0)
 * @iv: epoch IV (unused for suite 0)
 * @payload: payload
 * @payload_len: at most 16384
 * @out: output buffer
 * @out_size: its size
 * @out_len: record length
 *
 * The C flag of @hdr selects encryption (C=1) or integrity only (C=0).
 * Suite 0 builds an unprotected handshake record and requires the fixed
 * fields of section 2.3.
 *
 * Return: 0, -EINVAL for an invalid header, -ENOSPC if @out is too small,
 * other negative errno.
 */
int cpns_record_seal(const struct cpns_record_hdr *hdr,
		     const uint8_t key[CPNS_KEY_LEN],
		     const uint8_t iv[CPNS_IV_LEN], const uint8_t *payload,
		     size_t payload_len, uint8_t *out, size_t out_size,
		     size_t *out_len)
{
	struct cpns_record_hdr h = *hdr;
	uint8_t nonce[CPNS_IV_LEN];
	struct cpns_iov aad[2];
	size_t len;
	int ret;

	if (payload_len > CPNS_MAX_PAYLOAD || h.flags & ~CPNS_REC_FLAG_C)
		return -EINVAL;
	if (h.suite == CPNS_SUITE_NONE) {
		if (!cpns_suite0_ok(&h))
			return -EINVAL;
		len = CPNS_HDR_LEN + payload_len;
	} else if (cpns_suite_valid(h.suite)) {
		len = CPNS_HDR_LEN + payload_len + CPNS_TAG_LEN;
	} else {
		return -EINVAL;
	}
	if (out_size < len)
		return -ENOSPC;
	h.length = payload_len;
	cpns_record_hdr_pack(&h, out);
	*out_len = len;
	if (h.suite == CPNS_SUITE_NONE) {
		memmove(out + CPNS_HDR_LEN, payload, payload_len);
		return 0;
	}
	cpns_record_nonce(iv, h.seq, nonce);
	aad[0].base = out;
	aad[0].len = CPNS_HDR_LEN;
	if (h.flags & CPNS_REC_FLAG_C) {
		ret = cpns_aead(true, h.suite, key, nonce, aad, 1, payload,
				payload_len, out + CPNS_HDR_LEN,
				out + CPNS_HDR_LEN + payload_len);
	} else {
		memmove(out + CPNS_HDR_LEN, payload, payload_len);
		aad[1].base = out + CPNS_HDR_LEN;
		aad[1].len = payload_len;
		ret = cpns_aead(true, h.suite, key, nonce, aad, 2, NULL, 0,
				NULL, out + CPNS_HDR_LEN + payload_len);
	}
	OPENSSL_cleanse(nonce, sizeof(nonce));
	if (ret)
		OPENSSL_cleanse(out, len);
	return ret;
}

/**
 * cpns_record_open() - verify and decrypt a record as in PROTOCOL.md 2.2
 * @key: epoch key of the record's epoch (unused for suite 0)
 * @iv: epoch IV (unused for suite 0)
 * @rec: the record (UDP payload)
 * @rec_len: its length
 * @hdr: the parsed header
 * @payload: output for the payload (the header's length field)
 * @payload_size: its size
 *
 * Checks only what the record format itself requires (steps 1a-1c of
 * section 2.6, a known suite, the suite 0 fixed fields); the kernel's
 * receive checks are not repeated here. Suite 0 records are returned
 * without any authentication.
 *
 * Return: payload length, -EBADMSG if the tag does not verify, -EINVAL for
 * a malformed record, -ENOSPC if @payload is too small.
 */
int cpns_record_open(const uint8_t key[CPNS_KEY_LEN],
		     const uint8_t iv[CPNS_IV_LEN], const uint8_t *rec,
		     size_t rec_len, struct cpns_record_hdr *hdr,
		     uint8_t *payload, size_t payload_size)
{
	uint8_t nonce[CPNS_IV_LEN], tag[CPNS_TAG_LEN];
	struct cpns_iov aad[2];
	size_t len, tag_len;
	int ret;

	if (rec_len < CPNS_HDR_LEN)
		return -EINVAL;
	cpns_record_hdr_unpack(rec, hdr);
	len = hdr->length;
	tag_len = hdr->suite ? CPNS_TAG_LEN : 0;
	if (len > CPNS_MAX_PAYLOAD || rec_len != CPNS_HDR_LEN + len + tag_len)
		return -EINVAL;
	if (payload_size < len)
		return -ENOSPC;
	if (hdr->suite == CPNS_SUITE_NONE) {
		if (!cpns_suite0_ok(hdr))
			return -EINVAL;
		memcpy(payload, rec + CPNS_HDR_LEN, len);
		return (int)len;
	}
	if (!cpns_suite_valid(hdr->suite))
		return -EINVAL;
	memcpy(tag, rec + CPNS_HDR_LEN + len, CPNS_TAG_LEN);
	cpns_record_nonce(iv, hdr->seq, nonce);
	aad[0].base = rec;
	aad[0].len = CPNS_HDR_LEN;
	if (hdr->flags & CPNS_REC_FLAG_C) {
		ret = cpns_aead(false, hdr->suite, key, nonce, aad, 1,
				rec + CPNS_HDR_LEN, len, payload, tag);
	} else {
		aad[1].base = rec + CPNS_HDR_LEN;
		aad[1].len = len;
		ret = cpns_aead(false, hdr->suite, key, nonce, aad, 2, NULL, 0,
				NULL, tag);
		if (!ret)
			memcpy(payload, rec + CPNS_HDR_LEN, len);
	}
	OPENSSL_cleanse(nonce, sizeof(nonce));
	return ret ? ret : (int)len;
}

/* ---- X25519 ----------------------------------------------------------- */

/**
 * cpns_x25519_public() - public key of a raw X25519 private key
 * @priv: 32 random bytes (clamped inside X25519)
 * @pub: output
 *
 * Return: 0 or a negative errno.
 */
int cpns_x25519_public(const uint8_t priv[CPNS_X25519_LEN],
		       uint8_t pub[CPNS_X25519_LEN])
{
	size_t len = CPNS_X25519_LEN;
	EVP_PKEY *pkey;
	int ok;

	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
					    CPNS_X25519_LEN);
	if (!pkey)
		return -EIO;
	ok = EVP_PKEY_get_raw_public_key(pkey, pub, &len);
	EVP_PKEY_free(pkey);
	return ok && len == CPNS_X25519_LEN ? 0 : -EIO;
}

/*
 * X25519(priv, peer) and, with @pub, our public key: OpenSSL computes the
 * public key whenever it imports a raw private key, so one import serves
 * both.
 */
static int cpns_x25519_derive(const uint8_t priv[CPNS_X25519_LEN],
			      const uint8_t peer[CPNS_X25519_LEN],
			      uint8_t shared[CPNS_X25519_LEN],
			      uint8_t pub[CPNS_X25519_LEN])
{
	static const uint8_t zero[CPNS_X25519_LEN];
	EVP_PKEY *pkey = NULL, *ppub = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	size_t len = CPNS_X25519_LEN, pub_len = CPNS_X25519_LEN;
	int ret = -EIO;

	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv,
					    CPNS_X25519_LEN);
	ppub = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer,
					   CPNS_X25519_LEN);
	if (pkey && ppub && pub &&
	    (EVP_PKEY_get_raw_public_key(pkey, pub, &pub_len) != 1 ||
	     pub_len != CPNS_X25519_LEN))
		goto out;
	if (pkey && ppub)
		ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
	if (!ctx || EVP_PKEY_derive_init(ctx) != 1)
		goto out;
	if (EVP_PKEY_derive_set_peer(ctx, ppub) != 1 ||
	    EVP_PKEY_derive(ctx, shared, &len) != 1 ||
	    len != CPNS_X25519_LEN || CRYPTO_memcmp(shared, zero, len) == 0) {
		ret = -EINVAL;
		goto out;
	}
	ret = 0;
out:
	if (ret)
		OPENSSL_cleanse(shared, CPNS_X25519_LEN);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(ppub);
	EVP_PKEY_free(pkey);
	return ret;
}

/**
 * cpns_x25519() - X25519(priv, peer) with low-order detection
 * @priv: our raw private key
 * @peer: the peer's public key
 * @shared: output; wiped on failure
 *
 * OpenSSL 3.0 fails the derivation for a low-order peer share, RFC 7748
 * returns 0^32 for it; PROTOCOL.md 5.4 treats both alike.
 *
 * Return: 0, -EINVAL for a low-order share (abort BAD_KEYSHARE), other
 * negative errno.
 */
int cpns_x25519(const uint8_t priv[CPNS_X25519_LEN],
		const uint8_t peer[CPNS_X25519_LEN],
		uint8_t shared[CPNS_X25519_LEN])
{
	return cpns_x25519_derive(priv, peer, shared, NULL);
}

/**
 * cpns_x25519_keyshare() - our public key and X25519(priv, peer) at once
 * @priv: our raw private key
 * @peer: the peer's public key
 * @pub: output: our public key
 * @shared: output; wiped on failure
 *
 * cpns_x25519_public() and cpns_x25519() in one, for a side that makes its
 * share when the peer's is already known (the responder): two scalar
 * multiplications instead of three.
 *
 * Return: as cpns_x25519().
 */
int cpns_x25519_keyshare(const uint8_t priv[CPNS_X25519_LEN],
			 const uint8_t peer[CPNS_X25519_LEN],
			 uint8_t pub[CPNS_X25519_LEN],
			 uint8_t shared[CPNS_X25519_LEN])
{
	return cpns_x25519_derive(priv, peer, shared, pub);
}

/* ---- scrypt ----------------------------------------------------------- */

/* PROTOCOL.md 6.1: exactly log2 N in {15, 16}, r = 8, p = 1. */
bool cpns_scrypt_params_allowed(unsigned int log2n, uint32_t r, uint32_t p)
{
	return (log2n == 15 || log2n == 16) && r == CPNS_SCRYPT_R &&
	       p == CPNS_SCRYPT_P;
}

/* maxmem = 128 * r * (N + p + 2), the accounting OpenSSL uses. */
uint64_t cpns_scrypt_maxmem(unsigned int log2n, uint32_t r, uint32_t p)
{
	return 128ULL * r * ((1ULL << log2n) + p + 2);
}

int cpns_scrypt_params_decode(const uint8_t in[CPNS_SCRYPT_PARAMS_LEN],
			      unsigned int *log2n, uint32_t *r, uint32_t *p)
{
	*log2n = in[0];
	*r = (uint32_t)in[1] << 24 | (uint32_t)in[2] << 16 |
	     (uint32_t)in[3] << 8 | in[4];
	*p = (uint32_t)in[5] << 24 | (uint32_t)in[6] << 16 |
	     (uint32_t)in[7] << 8 | in[8];
	return cpns_scrypt_params_allowed(*log2n, *r, *p) ? 0 : -EINVAL;
}

/**
 * cpns_scrypt() - scrypt with the parameter and memory limits of cpns1
 * @pass: password bytes, as entered
 * @pass_len: its length
 * @salt: salt
 * @salt_len: its length
 * @log2n: 15 or 16
 * @r: 8
 * @p: 1
 * @out: output
 * @out_len: its length
 *
 * Other parameters are refused before any memory is reserved; maxmem is
 * exactly the bound of PROTOCOL.md 6.1 for the parameters in use.
 *
 * Return: 0, -EINVAL for parameters outside the profile, other negative
 * errno.
 */
int cpns_scrypt(const uint8_t *pass, size_t pass_len, const uint8_t *salt,
		size_t salt_len, unsigned int log2n, uint32_t r, uint32_t p,
		uint8_t *out, size_t out_len)
{
	static const char empty[1];

	if (!cpns_scrypt_params_allowed(log2n, r, p))
		return -EINVAL;
	if (!EVP_PBE_scrypt(pass_len ? (const char *)pass : empty, pass_len,
			    salt, salt_len, 1ULL << log2n, r, p,
			    cpns_scrypt_maxmem(log2n, r, p), out, out_len)) {
		OPENSSL_cleanse(out, out_len);
		return -EIO;
	}
	return 0;
}

/* ---- comparison and erasure ------------------------------------------- */

/* Constant-time equality of secret-dependent values. */
bool cpns_memeq(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}

void cpns_wipe(void *p, size_t len)
{
	OPENSSL_cleanse(p, len);
}

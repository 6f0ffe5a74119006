/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Cryptographic building blocks of the cpns1 profile (PROTOCOL.md 3, 2.2),
 * on OpenSSL 3 only. Every function returns 0 on success or a negative
 * errno; outputs are undefined (and wiped where secret) on failure.
 */
#ifndef CPNS_CRYPTO_H
#define CPNS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/cpns.h>

#define CPNS_HASH_LEN		32	/* SHA-256, HMAC-SHA256, HKDF PRK */
#define CPNS_KEY_LEN		32	/* AEAD keys of both suites, long-term keys */
#define CPNS_IV_LEN		12	/* per-epoch IV and AEAD nonce */
#define CPNS_X25519_LEN		32
#define CPNS_LABEL_PREFIX	"cpns1 "
#define CPNS_RECORD_MAX		(CPNS_HDR_LEN + CPNS_MAX_PAYLOAD + CPNS_TAG_LEN)

/* ---- randomness ------------------------------------------------------- */

/**
 * struct cpns_rng - a source of random bytes
 * @fill: fills @len bytes, returns 0 or a negative errno
 * @ctx: passed to @fill
 *
 * Code that draws random values takes a const struct cpns_rng *; NULL means
 * the system generator (RAND_priv_bytes). Tests pass a replay source
 * (struct cpns_rng_replay) to reproduce the draws listed in the vectors.
 */
struct cpns_rng {
	int (*fill)(void *ctx, uint8_t *buf, size_t len);
	void *ctx;
};

int cpns_random(const struct cpns_rng *rng, uint8_t *buf, size_t len);

/**
 * struct cpns_rng_replay - returns a fixed list of draws, in order
 * @draws: the byte strings
 * @lens: their lengths; each request must ask for exactly the next length
 * @n: number of draws
 * @next: index of the next draw
 *
 * A request of a different length, or past the end, fails with -ERANGE:
 * a vector run then stops instead of silently diverging.
 */
struct cpns_rng_replay {
	const uint8_t *const *draws;
	const size_t *lens;
	size_t n;
	size_t next;
};

void cpns_rng_replay_init(struct cpns_rng *rng, struct cpns_rng_replay *rp,
			  const uint8_t *const *draws, const size_t *lens,
			  size_t n);

/* ---- hashing, MAC, KDF ------------------------------------------------ */

struct cpns_iov {
	const void *base;
	size_t len;
};

int cpns_sha256(const void *data, size_t len, uint8_t out[CPNS_HASH_LEN]);
int cpns_sha256_iov(const struct cpns_iov *iov, size_t n,
		    uint8_t out[CPNS_HASH_LEN]);
int cpns_hmac_sha256(const uint8_t *key, size_t key_len, const void *data,
		     size_t len, uint8_t out[CPNS_HASH_LEN]);
int cpns_hkdf_extract(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
		      size_t ikm_len, uint8_t prk[CPNS_HASH_LEN]);
int cpns_hkdf_expand(const uint8_t *prk, size_t prk_len, const uint8_t *info,
		     size_t info_len, uint8_t *out, size_t out_len);

/* Longest HkdfLabel: u16 + u8 + 255 + u8 + 255. */
#define CPNS_HKDF_LABEL_MAX	(2 + 1 + 255 + 1 + 255)

int cpns_hkdf_label(const char *prefix, const char *label, const uint8_t *ctx,
		    size_t ctx_len, size_t out_len,
		    uint8_t info[CPNS_HKDF_LABEL_MAX], size_t *info_len);
int cpns_expand_label_prefix(const char *prefix, const uint8_t *secret,
			     size_t secret_len, const char *label,
			     const uint8_t *ctx, size_t ctx_len, uint8_t *out,
			     size_t out_len);
int cpns_expand_label(const uint8_t secret[CPNS_HASH_LEN], const char *label,
		      const uint8_t *ctx, size_t ctx_len, uint8_t *out,
		      size_t out_len);

/* ---- key schedule (PROTOCOL.md 3.2, 3.3) ------------------------------ */

struct cpns_purpose_keys {
	uint8_t p[CPNS_HASH_LEN];
	uint8_t k_hs[CPNS_KEY_LEN];
	uint8_t k_pn[CPNS_KEY_LEN];
	uint8_t k_wrap[CPNS_KEY_LEN];
};

int cpns_purpose_keys(const uint8_t k[CPNS_KEY_LEN],
		      struct cpns_purpose_keys *out);
int cpns_ts_next(const uint8_t ts[CPNS_SECRET_LEN],
		 uint8_t next[CPNS_SECRET_LEN]);
int cpns_ts_epoch(const uint8_t ts0[CPNS_SECRET_LEN], unsigned int epoch,
		  uint8_t ts[CPNS_SECRET_LEN]);
int cpns_epoch_keys(const uint8_t ts[CPNS_SECRET_LEN],
		    uint8_t key[CPNS_KEY_LEN], uint8_t iv[CPNS_IV_LEN]);

/* ---- AEAD ------------------------------------------------------------- */

bool cpns_suite_valid(unsigned int suite);
int cpns_aead_seal(unsigned int suite, const uint8_t key[CPNS_KEY_LEN],
		   const uint8_t nonce[CPNS_IV_LEN], const uint8_t *aad,
		   size_t aad_len, const uint8_t *pt, size_t pt_len,
		   uint8_t *out);
int cpns_aead_open(unsigned int suite, const uint8_t key[CPNS_KEY_LEN],
		   const uint8_t nonce[CPNS_IV_LEN], const uint8_t *aad,
		   size_t aad_len, const uint8_t *in, size_t in_len,
		   uint8_t *pt);

/* ---- records (PROTOCOL.md 2.2, 2.3) ----------------------------------- */

#define CPNS_REC_VERSION	1
#define CPNS_REC_TYPE_DATA	1
#define CPNS_REC_TYPE_HANDSHAKE	2
#define CPNS_REC_FLAG_C		0x80

struct cpns_record_hdr {
	uint8_t version;
	uint8_t type;
	uint8_t flags;
	uint8_t suite;
	uint8_t generation;
	uint8_t epoch;
	uint16_t length;
	uint64_t seq;
	uint8_t src[CPNS_ID_LEN];
	uint8_t dst[CPNS_ID_LEN];
	uint16_t src_port;
	uint16_t dst_port;
};

void cpns_record_hdr_pack(const struct cpns_record_hdr *hdr,
			  uint8_t out[CPNS_HDR_LEN]);
void cpns_record_hdr_unpack(const uint8_t in[CPNS_HDR_LEN],
			    struct cpns_record_hdr *hdr);
void cpns_record_nonce(const uint8_t iv[CPNS_IV_LEN], uint64_t seq,
		       uint8_t nonce[CPNS_IV_LEN]);
int cpns_record_seal(const struct cpns_record_hdr *hdr,
		     const uint8_t key[CPNS_KEY_LEN],
		     const uint8_t iv[CPNS_IV_LEN], const uint8_t *payload,
		     size_t payload_len, uint8_t *out, size_t out_size,
		     size_t *out_len);
int cpns_record_open(const uint8_t key[CPNS_KEY_LEN],
		     const uint8_t iv[CPNS_IV_LEN], const uint8_t *rec,
		     size_t rec_len, struct cpns_record_hdr *hdr,
		     uint8_t *payload, size_t payload_size);

/* ---- X25519, scrypt --------------------------------------------------- */

int cpns_x25519_public(const uint8_t priv[CPNS_X25519_LEN],
		       uint8_t pub[CPNS_X25519_LEN]);
int cpns_x25519(const uint8_t priv[CPNS_X25519_LEN],
		const uint8_t peer[CPNS_X25519_LEN],
		uint8_t shared[CPNS_X25519_LEN]);
int cpns_x25519_keyshare(const uint8_t priv[CPNS_X25519_LEN],
			 const uint8_t peer[CPNS_X25519_LEN],
			 uint8_t pub[CPNS_X25519_LEN],
			 uint8_t shared[CPNS_X25519_LEN]);

#define CPNS_SCRYPT_R		8
#define CPNS_SCRYPT_P		1
#define CPNS_SCRYPT_PARAMS_LEN	9	/* u8(log2 N) || u32(r) || u32(p) */

bool cpns_scrypt_params_allowed(unsigned int log2n, uint32_t r, uint32_t p);
uint64_t cpns_scrypt_maxmem(unsigned int log2n, uint32_t r, uint32_t p);
int cpns_scrypt_params_decode(const uint8_t in[CPNS_SCRYPT_PARAMS_LEN],
			      unsigned int *log2n, uint32_t *r, uint32_t *p);
int cpns_scrypt(const uint8_t *pass, size_t pass_len, const uint8_t *salt,
		size_t salt_len, unsigned int log2n, uint32_t r, uint32_t p,
		uint8_t *out, size_t out_len);

/* ---- comparison and erasure ------------------------------------------- */

bool cpns_memeq(const void *a, const void *b, size_t len);
void cpns_wipe(void *p, size_t len);

#endif /* CPNS_CRYPTO_H */

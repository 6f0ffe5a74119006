/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SPAKE2+ (RFC 9383) with the ciphersuite P256-SHA256-HKDF-SHA256-HMAC-SHA256
 * as PROTOCOL.md 6.1 profiles it for procedure A, on OpenSSL 3 EC_GROUP /
 * EC_POINT / BIGNUM arithmetic.
 *
 * The functions are stateless: the caller keeps w0, w1 (prover), w0, L
 * (verifier) and its scalar x or y, and wipes them. Scalars are 32-byte
 * big-endian integers in [1, n-1]; points are 65-byte SEC1 uncompressed
 * encodings. Every function returns 0 or a negative errno (-EINVAL for
 * invalid input: a point not on P-256 or the identity, a scalar out of
 * range, scrypt parameters outside the profile); secret outputs are wiped
 * on failure.
 *
 * Typical use:
 *   registration (tool or S):  cpns_spake2p_register() -> w0, w1, L; store w0, L
 *   prover (GW):   x = cpns_spake2p_scalar_from_random(40 random bytes)
 *                  cpns_spake2p_prover_share(w0, x) -> shareP
 *                  cpns_spake2p_prover_finish(..., shareV) -> keys; check
 *                  keys.confirm_v against the received value, send keys.confirm_p
 *   verifier (S):  cpns_spake2p_verifier_finish(..., shareP, y) -> shareV, keys;
 *                  send keys.confirm_v, check the received confirmP
 */
#ifndef CPNS_SPAKE2P_H
#define CPNS_SPAKE2P_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPNS_SPAKE2P_SCALAR_LEN	32	/* w0, w1, x, y */
#define CPNS_SPAKE2P_POINT_LEN	65	/* shareP, shareV, Z, V, L, M, N */
#define CPNS_SPAKE2P_WS_LEN	80	/* scrypt output: w0s || w1s */
#define CPNS_SPAKE2P_RAND_LEN	40	/* random bytes drawn for one scalar */
#define CPNS_SPAKE2P_HASH_LEN	32

/* M and N of RFC 9383 section 4 for P-256, SEC1 uncompressed. */
extern const uint8_t cpns_spake2p_m[CPNS_SPAKE2P_POINT_LEN];
extern const uint8_t cpns_spake2p_n[CPNS_SPAKE2P_POINT_LEN];

/**
 * struct cpns_spake2p_ids - the transcript inputs that are not points
 * @context: Context (procedure A: "cpns1 A" || ID_GW, 23 bytes)
 * @idp: idProver (procedure A: the UserID bytes)
 * @idv: idVerifier (procedure A: ID_S, 16 bytes)
 */
struct cpns_spake2p_ids {
	const uint8_t *context;
	size_t context_len;
	const uint8_t *idp;
	size_t idp_len;
	const uint8_t *idv;
	size_t idv_len;
};

/**
 * struct cpns_spake2p_keys - everything after the key exchange
 * @z: Z
 * @v: V
 * @k_main: Hash(TT)
 * @k_confirm_p: first half of KDF(nil, K_main, "ConfirmationKeys")
 * @k_confirm_v: second half
 * @k_shared: KDF(nil, K_main, "SharedKey")
 * @confirm_p: MAC(K_confirmP, shareV), sent by the prover
 * @confirm_v: MAC(K_confirmV, shareP), sent by the verifier
 *
 * Wipe it with cpns_wipe() when done.
 */
struct cpns_spake2p_keys {
	uint8_t z[CPNS_SPAKE2P_POINT_LEN];
	uint8_t v[CPNS_SPAKE2P_POINT_LEN];
	uint8_t k_main[CPNS_SPAKE2P_HASH_LEN];
	uint8_t k_confirm_p[CPNS_SPAKE2P_HASH_LEN];
	uint8_t k_confirm_v[CPNS_SPAKE2P_HASH_LEN];
	uint8_t k_shared[CPNS_SPAKE2P_HASH_LEN];
	uint8_t confirm_p[CPNS_SPAKE2P_HASH_LEN];
	uint8_t confirm_v[CPNS_SPAKE2P_HASH_LEN];
};

/* A valid P-256 point: 65 bytes, 0x04, on the curve, not the identity. */
bool cpns_spake2p_point_valid(const uint8_t pt[CPNS_SPAKE2P_POINT_LEN]);

/* w0 = w0s mod n, w1 = w1s mod n from ws = w0s || w1s (40 bytes each). */
int cpns_spake2p_w_from_ws(const uint8_t ws[CPNS_SPAKE2P_WS_LEN],
			   uint8_t w0[CPNS_SPAKE2P_SCALAR_LEN],
			   uint8_t w1[CPNS_SPAKE2P_SCALAR_LEN]);

/* L = w1 * P. */
int cpns_spake2p_compute_l(const uint8_t w1[CPNS_SPAKE2P_SCALAR_LEN],
			   uint8_t l[CPNS_SPAKE2P_POINT_LEN]);

/*
 * Registration of PROTOCOL.md 6.1: ws = scrypt(password, salt, 2^log2n, r,
 * p, 80) (only the two allowed sets; refused with -EINVAL before scrypt
 * runs), then w0, w1 and L (@l may be NULL).
 */
int cpns_spake2p_register(const uint8_t *pass, size_t pass_len,
			  const uint8_t *salt, size_t salt_len,
			  unsigned int log2n, uint32_t r, uint32_t p,
			  uint8_t w0[CPNS_SPAKE2P_SCALAR_LEN],
			  uint8_t w1[CPNS_SPAKE2P_SCALAR_LEN],
			  uint8_t l[CPNS_SPAKE2P_POINT_LEN]);

/*
 * A uniform scalar in [1, n-1] from 40 random bytes: (r mod (n-1)) + 1,
 * the sampling of the cpns1 reference (vectors/README.md).
 */
int cpns_spake2p_scalar_from_random(const uint8_t rnd[CPNS_SPAKE2P_RAND_LEN],
				    uint8_t s[CPNS_SPAKE2P_SCALAR_LEN]);

/* shareP = x*P + w0*M. */
int cpns_spake2p_prover_share(const uint8_t w0[CPNS_SPAKE2P_SCALAR_LEN],
			      const uint8_t x[CPNS_SPAKE2P_SCALAR_LEN],
			      uint8_t share_p[CPNS_SPAKE2P_POINT_LEN]);

/*
 * Prover: checks shareV, Z = x*(shareV - w0*N), V = w1*(shareV - w0*N),
 * then TT and the keys. The caller compares keys->confirm_v with the
 * received confirmV using cpns_memeq() before using anything else.
 */
int cpns_spake2p_prover_finish(const struct cpns_spake2p_ids *ids,
			       const uint8_t w0[CPNS_SPAKE2P_SCALAR_LEN],
			       const uint8_t w1[CPNS_SPAKE2P_SCALAR_LEN],
			       const uint8_t x[CPNS_SPAKE2P_SCALAR_LEN],
			       const uint8_t share_p[CPNS_SPAKE2P_POINT_LEN],
			       const uint8_t share_v[CPNS_SPAKE2P_POINT_LEN],
			       struct cpns_spake2p_keys *keys);

/*
 * Verifier: checks shareP and L, shareV = y*P + w0*N, Z = y*(shareP -
 * w0*M), V = y*L, then TT and the keys.
 */
int cpns_spake2p_verifier_finish(const struct cpns_spake2p_ids *ids,
				 const uint8_t w0[CPNS_SPAKE2P_SCALAR_LEN],
				 const uint8_t l[CPNS_SPAKE2P_POINT_LEN],
				 const uint8_t y[CPNS_SPAKE2P_SCALAR_LEN],
				 const uint8_t share_p[CPNS_SPAKE2P_POINT_LEN],
				 uint8_t share_v[CPNS_SPAKE2P_POINT_LEN],
				 struct cpns_spake2p_keys *keys);

#endif /* CPNS_SPAKE2P_H */

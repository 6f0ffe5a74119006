// SPDX-License-Identifier: GPL-2.0
/*
 * SPAKE2+ (RFC 9383), P256-SHA256-HKDF-SHA256-HMAC-SHA256, PROTOCOL.md 6.1.
 * All group arithmetic is OpenSSL's; each scalar multiplication is a single
 * EC_POINT_mul() with one scalar, so that OpenSSL takes its constant-time
 * ladder (a two-scalar EC_POINT_mul() may take the variable-time wNAF path).
 */
#include <errno.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/obj_mac.h>

#include "cpns_crypto.h"
#include "cpns_spake2p.h"

/* RFC 9383 section 4, P-256: M = 02886e2f..., N = 03d8bbd6... */
const uint8_t cpns_spake2p_m[CPNS_SPAKE2P_POINT_LEN] = {
	0x04, 0x88, 0x6e, 0x2f, 0x97, 0xac, 0xe4, 0x6e, 0x55, 0xba, 0x9d,
	0xd7, 0x24, 0x25, 0x79, 0xf2, 0x99, 0x3b, 0x64, 0xe1, 0x6e, 0xf3,
	0xdc, 0xab, 0x95, 0xaf, 0xd4, 0x97, 0x33, 0x3d, 0x8f, 0xa1, 0x2f,
	0x5f, 0xf3, 0x55, 0x16, 0x3e, 0x43, 0xce, 0x22, 0x4e, 0x0b, 0x0e,
	0x65, 0xff, 0x02, 0xac, 0x8e, 0x5c, 0x7b, 0xe0, 0x94, 0x19, 0xc7,
	0x85, 0xe0, 0xca, 0x54, 0x7d, 0x55, 0xa1, 0x2e, 0x2d, 0x20,
};

const uint8_t cpns_spake2p_n[CPNS_SPAKE2P_POINT_LEN] = {
	0x04, 0xd8, 0xbb, 0xd6, 0xc6, 0x39, 0xc6, 0x29, 0x37, 0xb0, 0x4d,
	0x99, 0x7f, 0x38, 0xc3, 0x77, 0x07, 0x19, 0xc6, 0x29, 0xd7, 0x01,
	0x4d, 0x49, 0xa2, 0x4b, 0x4f, 0x98, 0xba, 0xa1, 0x29, 0x2b, 0x49,
	0x07, 0xd6, 0x0a, 0xa6, 0xbf, 0xad, 0xe4, 0x50, 0x08, 0xa6, 0x36,
	0x33, 0x7f, 0x51, 0x68, 0xc6, 0x4d, 0x9b, 0xd3, 0x60, 0x34, 0x80,
	0x8c, 0xd5, 0x64, 0x49, 0x0b, 0x1e, 0x65, 0x6e, 0xdb, 0xe7,
};

struct sp_ctx {
	EC_GROUP *group;
	BN_CTX *bn;
	const BIGNUM *order;
};

static int sp_init(struct sp_ctx *c)
{
	c->group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
	c->bn = BN_CTX_secure_new();
	if (!c->group || !c->bn) {
		EC_GROUP_free(c->group);
		BN_CTX_free(c->bn);
		return -ENOMEM;
	}
	c->order = EC_GROUP_get0_order(c->group);
	return 0;
}

static void sp_fini(struct sp_ctx *c)
{
	EC_GROUP_free(c->group);
	BN_CTX_free(c->bn);
}

/* Decode a point; only a valid, non-identity, uncompressed point. */
static EC_POINT *sp_point(struct sp_ctx *c,
			  const uint8_t buf[CPNS_SPAKE2P_POINT_LEN])
{
	EC_POINT *pt;

	if (buf[0] != 0x04)
		return NULL;
	pt = EC_POINT_new(c->group);
	if (!pt)
		return NULL;
	if (EC_POINT_oct2point(c->group, pt, buf, CPNS_SPAKE2P_POINT_LEN,
			       c->bn) != 1 ||
	    EC_POINT_is_at_infinity(c->group, pt) ||
	    EC_POINT_is_on_curve(c->group, pt, c->bn) != 1) {
		EC_POINT_free(pt);
		return NULL;
	}
	return pt;
}

static int sp_encode(struct sp_ctx *c, const EC_POINT *pt,
		     uint8_t out[CPNS_SPAKE2P_POINT_LEN])
{
	if (EC_POINT_is_at_infinity(c->group, pt))
		return -EINVAL;
	if (EC_POINT_point2oct(c->group, pt, POINT_CONVERSION_UNCOMPRESSED, out,
			       CPNS_SPAKE2P_POINT_LEN,
			       c->bn) != CPNS_SPAKE2P_POINT_LEN)
		return -EIO;
	return 0;
}

/*
 * A 32-byte big-endian scalar; @nonzero: [1, n-1] (x, y), else [0, n-1]
 * (w0, w1, which are reduced mod n).
 */
static BIGNUM *sp_scalar(struct sp_ctx *c,
			 const uint8_t buf[CPNS_SPAKE2P_SCALAR_LEN],
			 bool nonzero)
{
	BIGNUM *s = BN_secure_new();

	if (!s)
		return NULL;
	BN_set_flags(s, BN_FLG_CONSTTIME);
	if (!BN_bin2bn(buf, CPNS_SPAKE2P_SCALAR_LEN, s) ||
	    BN_cmp(s, c->order) >= 0 || (nonzero && BN_is_zero(s))) {
		BN_clear_free(s);
		return NULL;
	}
	return s;
}

static int sp_bn_out(const BIGNUM *s, uint8_t out[CPNS_SPAKE2P_SCALAR_LEN])
{
	return BN_bn2binpad(s, out, CPNS_SPAKE2P_SCALAR_LEN) ==
			       CPNS_SPAKE2P_SCALAR_LEN ? 0 : -EIO;
}

/* r = s * G (pt NULL) or r = s * pt, one scalar each. */
static int sp_mul(struct sp_ctx *c, EC_POINT *r, const EC_POINT *pt,
		  const BIGNUM *s)
{
	int ok;

	if (pt)
		ok = EC_POINT_mul(c->group, r, NULL, pt, s, c->bn);
	else
		ok = EC_POINT_mul(c->group, r, s, NULL, NULL, c->bn);
	return ok == 1 ? 0 : -EIO;
}

/* r = s * G (pt NULL) or r = s * pt, encoded to @out */
static int sp_mul_encode(struct sp_ctx *c, EC_POINT *r, const EC_POINT *pt,
			 const BIGNUM *s, uint8_t out[CPNS_SPAKE2P_POINT_LEN])
{
	int ret = sp_mul(c, r, pt, s);

	return ret ? ret : sp_encode(c, r, out);
}

/* r = a*G + b*Q */
static int sp_mul_add(struct sp_ctx *c, EC_POINT *r, const BIGNUM *a,
		      const EC_POINT *q, const BIGNUM *b)
{
	EC_POINT *t = EC_POINT_new(c->group);
	int ret = -ENOMEM;

	if (!t)
		return ret;
	ret = sp_mul(c, r, NULL, a);
	if (!ret)
		ret = sp_mul(c, t, q, b);
	if (!ret && EC_POINT_add(c->group, r, r, t, c->bn) != 1)
		ret = -EIO;
	EC_POINT_clear_free(t);
	return ret;
}

/* r = share - w0 * base */
static int sp_unblind(struct sp_ctx *c, EC_POINT *r, const EC_POINT *share,
		      const EC_POINT *base, const BIGNUM *w0)
{
	int ret = sp_mul(c, r, base, w0);

	if (ret)
		return ret;
	if (EC_POINT_invert(c->group, r, c->bn) != 1 ||
	    EC_POINT_add(c->group, r, share, r, c->bn) != 1)
		return -EIO;
	return 0;
}

bool cpns_spake2p_point_valid(const uint8_t pt[CPNS_SPAKE2P_POINT_LEN])
{
	struct sp_ctx c;
	EC_POINT *p;

	if (sp_init(&c))
		return false;
	p = sp_point(&c, pt);
	EC_POINT_free(p);
	sp_fini(&c);
	return p != NULL;
}

static int sp_reduce(struct sp_ctx *c, const uint8_t *in, size_t in_len,
		     const BIGNUM *mod, BIGNUM *out)
{
	BIGNUM *t = BN_secure_new();
	int ret = -EIO;

	if (!t)
		return -ENOMEM;
	BN_set_flags(t, BN_FLG_CONSTTIME);
	if (BN_bin2bn(in, (int)in_len, t) && BN_nnmod(out, t, mod, c->bn))
		ret = 0;
	BN_clear_free(t);
	return ret;
}

int cpns_spake2p_w_from_ws(const uint8_t ws[CPNS_SPAKE2P_WS_LEN],
			   uint8_t w0[CPNS_SPAKE2P_SCALAR_LEN],
			   uint8_t w1[CPNS_SPAKE2P_SCALAR_LEN])
{
	struct sp_ctx c;
	BIGNUM *w = NULL;
	int ret;

	ret = sp_init(&c);
	if (ret)
		return ret;
	w = BN_secure_new();
	ret = -ENOMEM;
	if (!w)
		goto out;
	BN_set_flags(w, BN_FLG_CONSTTIME);
	ret = sp_reduce(&c, ws, CPNS_SPAKE2P_WS_LEN / 2, c.order, w);
	if (!ret)
		ret = sp_bn_out(w, w0);
	if (!ret)
		ret = sp_reduce(&c, ws + CPNS_SPAKE2P_WS_LEN / 2,
				CPNS_SPAKE2P_WS_LEN / 2, c.order, w);
	if (!ret)
		ret = sp_bn_out(w, w1);
out:
	BN_clear_free(w);
	sp_fini(&c);
	if (ret) {
		cpns_wipe(w0, CPNS_SPAKE2P_SCALAR_LEN);
		cpns_wipe(w1, CPNS_SPAKE2P_SCALAR_LEN);
	}
	return ret;
}

int cpns_spake2p_compute_l(const uint8_t w1[CPNS_SPAKE2P_SCALAR_LEN],
			   uint8_t l[CPNS_SPAKE2P_POINT_LEN])
{
	struct sp_ctx c;
	EC_POINT *pt = NULL;
	BIGNUM *s;
	int ret;

	ret = sp_init(&c);
	if (ret)
		return ret;
	s = sp_scalar(&c, w1, true);
	ret = -EINVAL;
	if (!s)
		goto out;
	pt = EC_POINT_new(c.group);
	ret = pt ? sp_mul_encode(&c, pt, NULL, s, l) : -ENOMEM;
out:
	EC_POINT_free(pt);
	BN_clear_free(s);
	sp_fini(&c);
	return ret;
}

int cpns_spake2p_register(const uint8_t *pass, size_t pass_len,
			  const uint8_t *salt, size_t salt_len,
			  unsigned int log2n, uint32_t r, uint32_t p,
			  uint8_t w0[CPNS_SPAKE2P_SCALAR_LEN],
			  uint8_t w1[CPNS_SPAKE2P_SCALAR_LEN],
			  uint8_t l[CPNS_SPAKE2P_POINT_LEN])
{
	uint8_t ws[CPNS_SPAKE2P_WS_LEN];
	int ret;

	if (!cpns_scrypt_params_allowed(log2n, r, p))
		return -EINVAL;
	ret = cpns_scrypt(pass, pass_len, salt, salt_len, log2n, r, p, ws,
			  sizeof(ws));
	if (!ret)
		ret = cpns_spake2p_w_from_ws(ws, w0, w1);
	cpns_wipe(ws, sizeof(ws));
	if (!ret && l)
		ret = cpns_spake2p_compute_l(w1, l);
	if (ret) {
		cpns_wipe(w0, CPNS_SPAKE2P_SCALAR_LEN);
		cpns_wipe(w1, CPNS_SPAKE2P_SCALAR_LEN);
	}
	return ret;
}

int cpns_spake2p_scalar_from_random(const uint8_t rnd[CPNS_SPAKE2P_RAND_LEN],
				    uint8_t s[CPNS_SPAKE2P_SCALAR_LEN])
{
	struct sp_ctx c;
	BIGNUM *nm1 = NULL, *v = NULL;
	int ret;

	ret = sp_init(&c);
	if (ret)
		return ret;
	nm1 = BN_dup(c.order);
	v = BN_secure_new();
	ret = -ENOMEM;
	if (!nm1 || !v)
		goto out;
	BN_set_flags(v, BN_FLG_CONSTTIME);
	ret = -EIO;
	if (!BN_sub_word(nm1, 1))
		goto out;
	ret = sp_reduce(&c, rnd, CPNS_SPAKE2P_RAND_LEN, nm1, v);
	if (!ret && !BN_add_word(v, 1))
		ret = -EIO;
	if (!ret)
		ret = sp_bn_out(v, s);
out:
	BN_free(nm1);
	BN_clear_free(v);
	sp_fini(&c);
	return ret;
}

int cpns_spake2p_prover_share(const uint8_t w0[CPNS_SPAKE2P_SCALAR_LEN],
			      const uint8_t x[CPNS_SPAKE2P_SCALAR_LEN],
			      uint8_t share_p[CPNS_SPAKE2P_POINT_LEN])
{
	struct sp_ctx c;
	EC_POINT *m = NULL, *pt = NULL;
	BIGNUM *bw0 = NULL, *bx = NULL;
	int ret;

	ret = sp_init(&c);
	if (ret)
		return ret;
	bw0 = sp_scalar(&c, w0, false);
	bx = sp_scalar(&c, x, true);
	m = sp_point(&c, cpns_spake2p_m);
	pt = EC_POINT_new(c.group);
	ret = -EINVAL;
	if (!bw0 || !bx || !m || !pt)
		goto out;
	ret = sp_mul_add(&c, pt, bx, m, bw0);
	if (!ret)
		ret = sp_encode(&c, pt, share_p);
out:
	EC_POINT_clear_free(pt);
	EC_POINT_free(m);
	BN_clear_free(bw0);
	BN_clear_free(bx);
	sp_fini(&c);
	return ret;
}

static void le64(uint8_t out[8], size_t v)
{
	unsigned int i;

	for (i = 0; i < 8; i++)
		out[i] = (uint8_t)((uint64_t)v >> (8 * i));
}

/* TT, K_main and the keys of RFC 9383 section 3.4 / 4. */
static int sp_schedule(const struct cpns_spake2p_ids *ids,
		       const uint8_t share_p[CPNS_SPAKE2P_POINT_LEN],
		       const uint8_t share_v[CPNS_SPAKE2P_POINT_LEN],
		       const uint8_t w0[CPNS_SPAKE2P_SCALAR_LEN],
		       struct cpns_spake2p_keys *k)
{
	static const uint8_t zero[CPNS_HASH_LEN];
	const struct cpns_iov item[10] = {
		{ ids->context, ids->context_len },
		{ ids->idp, ids->idp_len },
		{ ids->idv, ids->idv_len },
		{ cpns_spake2p_m, CPNS_SPAKE2P_POINT_LEN },
		{ cpns_spake2p_n, CPNS_SPAKE2P_POINT_LEN },
		{ share_p, CPNS_SPAKE2P_POINT_LEN },
		{ share_v, CPNS_SPAKE2P_POINT_LEN },
		{ k->z, CPNS_SPAKE2P_POINT_LEN },
		{ k->v, CPNS_SPAKE2P_POINT_LEN },
		{ w0, CPNS_SPAKE2P_SCALAR_LEN },
	};
	struct cpns_iov iov[20];
	uint8_t lens[10][8], prk[CPNS_HASH_LEN], ck[2 * CPNS_HASH_LEN];
	unsigned int i;
	int ret;

	for (i = 0; i < 10; i++) {
		le64(lens[i], item[i].len);
		iov[2 * i].base = lens[i];
		iov[2 * i].len = 8;
		iov[2 * i + 1] = item[i];
	}
	ret = cpns_sha256_iov(iov, 20, k->k_main);
	/* KDF(nil, K_main, info): HKDF with an empty salt (= HashLen zeros) */
	if (!ret)
		ret = cpns_hkdf_extract(zero, sizeof(zero), k->k_main,
					CPNS_HASH_LEN, prk);
	if (!ret)
		ret = cpns_hkdf_expand(prk, sizeof(prk),
				       (const uint8_t *)"ConfirmationKeys", 16,
				       ck, sizeof(ck));
	if (!ret) {
		memcpy(k->k_confirm_p, ck, CPNS_HASH_LEN);
		memcpy(k->k_confirm_v, ck + CPNS_HASH_LEN, CPNS_HASH_LEN);
		ret = cpns_hkdf_expand(prk, sizeof(prk),
				       (const uint8_t *)"SharedKey", 9,
				       k->k_shared, CPNS_HASH_LEN);
	}
	if (!ret)
		ret = cpns_hmac_sha256(k->k_confirm_p, CPNS_HASH_LEN, share_v,
				       CPNS_SPAKE2P_POINT_LEN, k->confirm_p);
	if (!ret)
		ret = cpns_hmac_sha256(k->k_confirm_v, CPNS_HASH_LEN, share_p,
				       CPNS_SPAKE2P_POINT_LEN, k->confirm_v);
	cpns_wipe(prk, sizeof(prk));
	cpns_wipe(ck, sizeof(ck));
	return ret;
}

int cpns_spake2p_prover_finish(const struct cpns_spake2p_ids *ids,
			       const uint8_t w0[CPNS_SPAKE2P_SCALAR_LEN],
			       const uint8_t w1[CPNS_SPAKE2P_SCALAR_LEN],
			       const uint8_t x[CPNS_SPAKE2P_SCALAR_LEN],
			       const uint8_t share_p[CPNS_SPAKE2P_POINT_LEN],
			       const uint8_t share_v[CPNS_SPAKE2P_POINT_LEN],
			       struct cpns_spake2p_keys *keys)
{
	struct sp_ctx c;
	EC_POINT *n = NULL, *y = NULL, *t = NULL, *r = NULL;
	BIGNUM *bw0 = NULL, *bw1 = NULL, *bx = NULL;
	int ret;

	memset(keys, 0, sizeof(*keys));
	ret = sp_init(&c);
	if (ret)
		return ret;
	bw0 = sp_scalar(&c, w0, false);
	bw1 = sp_scalar(&c, w1, false);
	bx = sp_scalar(&c, x, true);
	n = sp_point(&c, cpns_spake2p_n);
	y = sp_point(&c, share_v);
	t = EC_POINT_new(c.group);
	r = EC_POINT_new(c.group);
	ret = -EINVAL;
	if (!bw0 || !bw1 || !bx || !n || !y || !t || !r)
		goto out;
	if (!cpns_spake2p_point_valid(share_p))
		goto out;
	ret = sp_unblind(&c, t, y, n, bw0);
	if (!ret)
		ret = sp_mul_encode(&c, r, t, bx, keys->z);
	if (!ret)
		ret = sp_mul_encode(&c, r, t, bw1, keys->v);
	if (!ret)
		ret = sp_schedule(ids, share_p, share_v, w0, keys);
out:
	EC_POINT_clear_free(t);
	EC_POINT_clear_free(r);
	EC_POINT_free(n);
	EC_POINT_free(y);
	BN_clear_free(bw0);
	BN_clear_free(bw1);
	BN_clear_free(bx);
	sp_fini(&c);
	if (ret)
		cpns_wipe(keys, sizeof(*keys));
	return ret;
}

int cpns_spake2p_verifier_finish(const struct cpns_spake2p_ids *ids,
				 const uint8_t w0[CPNS_SPAKE2P_SCALAR_LEN],
				 const uint8_t l[CPNS_SPAKE2P_POINT_LEN],
				 const uint8_t y[CPNS_SPAKE2P_SCALAR_LEN],
				 const uint8_t share_p[CPNS_SPAKE2P_POINT_LEN],
				 uint8_t share_v[CPNS_SPAKE2P_POINT_LEN],
				 struct cpns_spake2p_keys *keys)
{
	struct sp_ctx c;
	EC_POINT *m = NULL, *n = NULL, *x = NULL, *pl = NULL, *t = NULL,
		 *r = NULL;
	BIGNUM *bw0 = NULL, *by = NULL;
	int ret;

	memset(keys, 0, sizeof(*keys));
	ret = sp_init(&c);
	if (ret)
		return ret;
	bw0 = sp_scalar(&c, w0, false);
	by = sp_scalar(&c, y, true);
	m = sp_point(&c, cpns_spake2p_m);
	n = sp_point(&c, cpns_spake2p_n);
	x = sp_point(&c, share_p);
	pl = sp_point(&c, l);
	t = EC_POINT_new(c.group);
	r = EC_POINT_new(c.group);
	ret = -EINVAL;
	if (!bw0 || !by || !m || !n || !x || !pl || !t || !r)
		goto out;
	ret = sp_mul_add(&c, r, by, n, bw0);
	if (!ret)
		ret = sp_encode(&c, r, share_v);
	if (!ret)
		ret = sp_unblind(&c, t, x, m, bw0);
	if (!ret)
		ret = sp_mul_encode(&c, r, t, by, keys->z);
	if (!ret)
		ret = sp_mul_encode(&c, r, pl, by, keys->v);
	if (!ret)
		ret = sp_schedule(ids, share_p, share_v, w0, keys);
out:
	EC_POINT_clear_free(t);
	EC_POINT_clear_free(r);
	EC_POINT_free(m);
	EC_POINT_free(n);
	EC_POINT_free(x);
	EC_POINT_free(pl);
	BN_clear_free(bw0);
	BN_clear_free(by);
	sp_fini(&c);
	if (ret) {
		cpns_wipe(keys, sizeof(*keys));
		memset(share_v, 0, CPNS_SPAKE2P_POINT_LEN);
	}
	return ret;
}

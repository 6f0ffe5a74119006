// SPDX-License-Identifier: GPL-2.0
/*
 * SPAKE2+ (cpns_spake2p): RFC 9383 Appendix C (P256-SHA256-HKDF-SHA256-
 * HMAC-SHA256), the registration and SPAKE2+ values of procedure_a.json,
 * and the rejection of invalid points and scalars.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpns_crypto.h"
#include "cpns_spake2p.h"
#include "tap.h"
#include "vec.h"

static uint8_t *hx(const char *s)
{
	size_t len;
	uint8_t *b = hex_decode(s, &len);

	if (!b)
		tap_bail("bad hex in test: %s", s);
	return b;
}

static bool eqhex(const uint8_t *got, size_t len, const char *want)
{
	size_t wl;
	uint8_t *w = hex_decode(want, &wl);
	bool ok = w && hex_eq(got, len, w, wl);

	free(w);
	return ok;
}

/* RFC 9383 Appendix C, as printed in the RFC. */
static void test_rfc9383(void)
{
	static const char ctx[] =
		"SPAKE2+-P256-SHA256-HKDF-SHA256-HMAC-SHA256 Test Vectors";
	uint8_t *w0 = hx("bb8e1bbcf3c48f62c08db243652ae55d3e5586053fca77102994f23ad95491b3");
	uint8_t *w1 = hx("7e945f34d78785b8a3ef44d0df5a1a97d6b3b460409a345ca7830387a74b1dba");
	uint8_t *x = hx("d1232c8e8693d02368976c174e2088851b8365d0d79a9eee709c6a05a2fad539");
	uint8_t *y = hx("717a72348a182085109c8d3917d6c43d59b224dc6a7fc4f0483232fa6516d8b3");
	static const char *l_hex =
		"04eb7c9db3d9a9eb1f8adab81b5794c1f13ae3e225efbe91ea487425854c7fc00f"
		"00bfedcbd09b2400142d40a14f2064ef31dfaa903b91d1faea7093d835966efd";
	static const char *sp_hex =
		"04ef3bd051bf78a2234ec0df197f7828060fe9856503579bb1733009042c15c0c1"
		"de127727f418b5966afadfdd95a6e4591d171056b333dab97a79c7193e341727";
	static const char *sv_hex =
		"04c0f65da0d11927bdf5d560c69e1d7d939a05b0e88291887d679fcadea75810fb"
		"5cc1ca7494db39e82ff2f50665255d76173e09986ab46742c798a9a68437b048";
	static const char *z_hex =
		"04bbfce7dd7f277819c8da21544afb7964705569bdf12fb92aa388059408d50091"
		"a0c5f1d3127f56813b5337f9e4e67e2ca633117a4fbd559946ab474356c41839";
	static const char *v_hex =
		"0458bf27c6bca011c9ce1930e8984a797a3419797b936629a5a937cf2f11c8b951"
		"4b82b993da8a46e664f23db7c01edc87faa530db01c2ee405230b18997f16b68";
	struct cpns_spake2p_ids ids = {
		(const uint8_t *)ctx, strlen(ctx),
		(const uint8_t *)"client", 6, (const uint8_t *)"server", 6,
	};
	uint8_t l[65], sp[65], sv[65];
	struct cpns_spake2p_keys kp, kv;

	tap_ok(!memcmp(cpns_spake2p_m + 1,
		       hx("886e2f97ace46e55ba9dd7242579f2993b64e16ef3dcab95afd497333d8fa12f"),
		       32) && cpns_spake2p_point_valid(cpns_spake2p_m) &&
		       !(cpns_spake2p_m[64] & 1),
	       "M is RFC 9383's 02886e2f...fa12f");
	tap_ok(!memcmp(cpns_spake2p_n + 1,
		       hx("d8bbd6c639c62937b04d997f38c3770719c629d7014d49a24b4f98baa1292b49"),
		       32) && cpns_spake2p_point_valid(cpns_spake2p_n) &&
		       (cpns_spake2p_n[64] & 1),
	       "N is RFC 9383's 03d8bbd6...92b49");
	tap_ok(!cpns_spake2p_compute_l(w1, l) && eqhex(l, 65, l_hex),
	       "RFC 9383 C: L = w1*P");
	tap_ok(!cpns_spake2p_prover_share(w0, x, sp) && eqhex(sp, 65, sp_hex),
	       "RFC 9383 C: shareP");
	tap_ok(!cpns_spake2p_verifier_finish(&ids, w0, l, y, sp, sv, &kv) &&
		       eqhex(sv, 65, sv_hex),
	       "RFC 9383 C: shareV");
	tap_ok(eqhex(kv.z, 65, z_hex) && eqhex(kv.v, 65, v_hex),
	       "RFC 9383 C: verifier Z, V");
	tap_ok(!cpns_spake2p_prover_finish(&ids, w0, w1, x, sp, sv, &kp) &&
		       eqhex(kp.z, 65, z_hex) && eqhex(kp.v, 65, v_hex),
	       "RFC 9383 C: prover Z, V");
	tap_ok(eqhex(kp.k_main, 32, "4c59e1ccf2cfb961aa31bd9434478a1089b56cd11542f53d3576fb6c2a438a29") &&
		       !memcmp(kp.k_main, kv.k_main, 32),
	       "RFC 9383 C: K_main");
	tap_ok(eqhex(kp.k_confirm_p, 32, "871ae3f7b78445e34438fb284504240239031c39d80ac23eb5ab9be5ad6db58a") &&
		       eqhex(kp.k_confirm_v, 32, "ccd53c7c1fa37b64a462b40db8be101cedcf838950162902054e644b400f1680"),
	       "RFC 9383 C: K_confirmP, K_confirmV");
	tap_ok(eqhex(kp.confirm_p, 32, "926cc713504b9b4d76c9162ded04b5493e89109f6d89462cd33adc46fda27527") &&
		       !memcmp(kp.confirm_p, kv.confirm_p, 32),
	       "RFC 9383 C: HMAC(K_confirmP, shareV)");
	tap_ok(eqhex(kv.confirm_v, 32, "9747bcc4f8fe9f63defee53ac9b07876d907d55047e6ff2def2e7529089d3e68") &&
		       !memcmp(kp.confirm_v, kv.confirm_v, 32),
	       "RFC 9383 C: HMAC(K_confirmV, shareP)");
	tap_ok(eqhex(kp.k_shared, 32, "0c5f8ccd1413423a54f6c1fb26ff01534a87f893779c6e68666d772bfd91f3e7") &&
		       !memcmp(kp.k_shared, kv.k_shared, 32),
	       "RFC 9383 C: K_shared");
	free(w0);
	free(w1);
	free(x);
	free(y);
}

static void test_profile_vectors(void)
{
	struct json_object *root = vec_load("procedure_a.json");
	struct json_object *c = json_object_array_get_idx(vec_get(root, "cases"), 0);
	struct json_object *in = vec_get(c, "inputs"), *reg = vec_get(c, "registration");
	struct json_object *sp = vec_get(c, "spake2plus");
	struct json_object *sc = vec_get(in, "scrypt");
	struct json_object *gd = vec_get(in, "gw_random_draws");
	struct json_object *sd = vec_get(in, "server_random_draws");
	size_t n;
	uint8_t *pw = vec_hex(in, "password_hex", &n), w0[32], w1[32], l[65];
	size_t salt_len, uid_len, sid_len, ctx_len;
	uint8_t *salt = vec_hex(in, "salt", &salt_len);
	uint8_t *uid = vec_hex(in, "user_id_hex", &uid_len);
	uint8_t *sid = vec_hex(in, "server_id", &sid_len);
	uint8_t *context = vec_hex(sp, "context", &ctx_len);
	uint8_t *gw = vec_hex(in, "gw_id", &sid_len);
	uint8_t *rx = hex_decode(json_object_get_string(json_object_array_get_idx(gd, 1)), &n);
	uint8_t *ry = hex_decode(json_object_get_string(json_object_array_get_idx(sd, 0)), &n);
	uint8_t x[32], y[32], share_p[65], share_v[65], ctx_want[23];
	struct cpns_spake2p_ids ids = { context, ctx_len, uid, uid_len, sid, 16 };
	struct cpns_spake2p_keys kp, kv;

	memcpy(ctx_want, "cpns1 A", 7);
	memcpy(ctx_want + 7, gw, 16);
	tap_ok(hex_eq(context, ctx_len, ctx_want, 23),
	       "procedure A: Context = \"cpns1 A\" || ID_GW");
	tap_ok(eqhex(cpns_spake2p_m, 65, vec_str(sp, "M")) &&
		       eqhex(cpns_spake2p_n, 65, vec_str(sp, "N")),
	       "procedure A: M, N as in the vectors");
	tap_ok(!cpns_spake2p_register(pw, strlen((char *)vec_str(in, "password")),
				      salt, salt_len,
				      (unsigned int)vec_int(sc, "logN"),
				      (uint32_t)vec_int(sc, "r"),
				      (uint32_t)vec_int(sc, "p"), w0, w1, l) &&
		       eqhex(w0, 32, vec_str(reg, "w0")) &&
		       eqhex(w1, 32, vec_str(reg, "w1")) &&
		       eqhex(l, 65, vec_str(reg, "L")),
	       "procedure A: registration w0, w1, L (scrypt 2^15, 8, 1)");
	{
		uint8_t *ws = vec_hex(reg, "scrypt_output", &n);
		uint8_t a[32], b[32];

		tap_ok(n == 80 && !cpns_spake2p_w_from_ws(ws, a, b) &&
			       !memcmp(a, w0, 32) && !memcmp(b, w1, 32),
		       "procedure A: w0, w1 from the listed scrypt output");
		free(ws);
	}
	tap_ok(!cpns_spake2p_scalar_from_random(rx, x) &&
		       eqhex(x, 32, vec_str(in, "x")),
	       "procedure A: x = (40 drawn bytes mod n-1) + 1");
	tap_ok(!cpns_spake2p_scalar_from_random(ry, y) &&
		       eqhex(y, 32, vec_str(in, "y")),
	       "procedure A: y = (40 drawn bytes mod n-1) + 1");
	tap_ok(!cpns_spake2p_prover_share(w0, x, share_p) &&
		       eqhex(share_p, 65, vec_str(sp, "shareP")),
	       "procedure A: shareP");
	tap_ok(!cpns_spake2p_verifier_finish(&ids, w0, l, y, share_p, share_v,
					     &kv) &&
		       eqhex(share_v, 65, vec_str(sp, "shareV")),
	       "procedure A: shareV");
	tap_ok(!cpns_spake2p_prover_finish(&ids, w0, w1, x, share_p, share_v,
					   &kp),
	       "procedure A: prover finishes");
	tap_ok(eqhex(kp.z, 65, vec_str(sp, "Z")) && eqhex(kv.z, 65, vec_str(sp, "Z")) &&
		       eqhex(kp.v, 65, vec_str(sp, "V")) && eqhex(kv.v, 65, vec_str(sp, "V")),
	       "procedure A: Z, V at both ends");
	tap_ok(eqhex(kp.k_main, 32, vec_str(sp, "K_main")) &&
		       eqhex(kv.k_main, 32, vec_str(sp, "K_main")),
	       "procedure A: K_main");
	tap_ok(eqhex(kp.confirm_p, 32, vec_str(sp, "confirmP")) &&
		       eqhex(kv.confirm_p, 32, vec_str(sp, "confirmP")),
	       "procedure A: confirmP");
	tap_ok(eqhex(kp.confirm_v, 32, vec_str(sp, "confirmV")) &&
		       eqhex(kv.confirm_v, 32, vec_str(sp, "confirmV")),
	       "procedure A: confirmV");
	tap_ok(eqhex(kp.k_shared, 32, vec_str(sp, "K_shared")) &&
		       eqhex(kv.k_shared, 32, vec_str(sp, "K_shared")),
	       "procedure A: K_shared");
	tap_ok(cpns_spake2p_register(pw, 5, salt, salt_len, 14, 8, 1, w0, w1,
				     l) == -EINVAL &&
		       cpns_spake2p_register(pw, 5, salt, salt_len, 15, 8, 2,
					     w0, w1, l) == -EINVAL,
	       "registration refuses scrypt sets other than (15|16, 8, 1)");
	free(pw);
	free(salt);
	free(uid);
	free(sid);
	free(gw);
	free(context);
	free(rx);
	free(ry);
	json_object_put(root);
}

static void test_invalid(void)
{
	static const uint8_t one[32] = { [31] = 1 };
	/* P-256 order n and n-1 */
	uint8_t *n = hx("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
	uint8_t *nm1 = hx("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632550");
	uint8_t zero[32] = { 0 }, pt[65], bad[65], sv[65], l[65];
	struct cpns_spake2p_ids ids = { (const uint8_t *)"c", 1,
					(const uint8_t *)"p", 1,
					(const uint8_t *)"v", 1 };
	struct cpns_spake2p_keys k;
	uint8_t rnd[40];

	tap_ok(!cpns_spake2p_compute_l(one, l), "L of w1 = 1 (the generator)");
	memcpy(bad, l, 65);
	bad[64] ^= 1;
	tap_ok(!cpns_spake2p_point_valid(bad), "point off the curve rejected");
	memset(bad, 0, 65);
	tap_ok(!cpns_spake2p_point_valid(bad), "all-zero encoding rejected");
	memcpy(bad, l, 65);
	bad[0] = 0x02;
	tap_ok(!cpns_spake2p_point_valid(bad), "non-uncompressed prefix rejected");
	memcpy(bad, l, 65);
	bad[0] = 0x06;
	tap_ok(!cpns_spake2p_point_valid(bad), "hybrid prefix rejected");
	memset(bad, 0xff, 65);
	bad[0] = 0x04;
	tap_ok(!cpns_spake2p_point_valid(bad), "coordinates >= p rejected");
	tap_ok(cpns_spake2p_prover_share(one, zero, pt) == -EINVAL &&
		       cpns_spake2p_prover_share(one, n, pt) == -EINVAL &&
		       !cpns_spake2p_prover_share(one, nm1, pt),
	       "x must be in [1, n-1]");
	memcpy(bad, l, 65);
	bad[64] ^= 1;
	tap_ok(cpns_spake2p_verifier_finish(&ids, one, l, one, bad, sv, &k) ==
		       -EINVAL,
	       "verifier rejects an invalid shareP");
	tap_ok(cpns_spake2p_prover_finish(&ids, one, one, one, pt, bad, &k) ==
		       -EINVAL,
	       "prover rejects an invalid shareV");
	/* shareP = w0*M makes Z the identity: refused, never encoded */
	{
		uint8_t m_as_share[65];

		memcpy(m_as_share, cpns_spake2p_m, 65);
		tap_ok(cpns_spake2p_verifier_finish(&ids, one, l, one,
						    m_as_share, sv, &k) ==
			       -EINVAL,
		       "verifier refuses shareP = w0*M (Z would be the identity)");
	}
	memset(rnd, 0xff, sizeof(rnd));
	tap_ok(!cpns_spake2p_scalar_from_random(rnd, pt) &&
		       memcmp(pt, n, 32) < 0,
	       "scalar from random stays below n");
	memset(rnd, 0, sizeof(rnd));
	tap_ok(!cpns_spake2p_scalar_from_random(rnd, pt) &&
		       !memcmp(pt, one, 32),
	       "scalar from zero bytes is 1");
	free(n);
	free(nm1);
}

int main(void)
{
	tap_start();
	test_rfc9383();
	test_profile_vectors();
	test_invalid();
	return tap_done();
}

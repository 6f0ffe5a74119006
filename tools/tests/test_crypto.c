// SPDX-License-Identifier: GPL-2.0
/*
 * Known-answer tests of cpns_crypto: RFC 5869, RFC 8439, RFC 7748, a GCM
 * test case, and the cpns1 vectors expand_label.json, purpose_keys.json,
 * traffic_keys.json, records.json, handshake_h.json, procedure_a.json.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpns_crypto.h"
#include "tap.h"
#include "vec.h"

static uint8_t *H(const char *hex, size_t *len)
{
	uint8_t *b = hex_decode(hex, len);

	if (!b)
		tap_bail("bad hex literal in test");
	return b;
}

static bool eq_hex(const uint8_t *got, size_t len, const char *hex)
{
	size_t n;
	uint8_t *want = H(hex, &n);
	bool ok = hex_eq(got, len, want, n);

	free(want);
	return ok;
}

/* ---- RFC 5869 A.1-A.3 ------------------------------------------------- */

static void test_rfc5869(void)
{
	static const struct {
		const char *ikm, *salt, *info, *prk, *okm;
	} tc[] = {
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
		  "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9",
		  "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
		  "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865" },
		{ "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f",
		  "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
		  "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
		  "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
		  "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71cc30c58179ec3e87c14c01d5c1f3434f1d87" },
		{ "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
		  "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
		  "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8" },
	};
	size_t i, il, sl, fl, ol;

	for (i = 0; i < 3; i++) {
		uint8_t *ikm = H(tc[i].ikm, &il), *salt = H(tc[i].salt, &sl);
		uint8_t *info = H(tc[i].info, &fl), *okm = H(tc[i].okm, &ol);
		uint8_t prk[32], out[128];

		tap_ok(!cpns_hkdf_extract(salt, sl, ikm, il, prk) &&
			       eq_hex(prk, 32, tc[i].prk),
		       "RFC 5869 test case %zu: HKDF-Extract", i + 1);
		tap_ok(!cpns_hkdf_expand(prk, 32, info, fl, out, ol) &&
			       hex_eq(out, ol, okm, ol),
		       "RFC 5869 test case %zu: HKDF-Expand", i + 1);
		free(ikm);
		free(salt);
		free(info);
		free(okm);
	}
}

/* ---- AEADs ------------------------------------------------------------ */

static void test_aead_kat(const char *name, unsigned int suite,
			  const char *key_h, const char *nonce_h,
			  const char *aad_h, const char *pt_h, const char *ct_h)
{
	size_t kl, nl, al, pl, cl;
	uint8_t *key = H(key_h, &kl), *nonce = H(nonce_h, &nl);
	uint8_t *aad = H(aad_h, &al), *pt = H(pt_h, &pl), *ct = H(ct_h, &cl);
	uint8_t *out = malloc(cl + 1), *back = malloc(pl + 1);

	tap_ok(!cpns_aead_seal(suite, key, nonce, aad, al, pt, pl, out) &&
		       hex_eq(out, cl, ct, cl),
	       "%s: seal", name);
	tap_ok(!cpns_aead_open(suite, key, nonce, aad, al, ct, cl, back) &&
		       hex_eq(back, pl, pt, pl),
	       "%s: open", name);
	ct[cl - 1] ^= 1;
	tap_ok(cpns_aead_open(suite, key, nonce, aad, al, ct, cl, back) ==
		       -EBADMSG,
	       "%s: open with a modified tag fails", name);
	free(key);
	free(nonce);
	free(aad);
	free(pt);
	free(ct);
	free(out);
	free(back);
}

static void test_aeads(void)
{
	/* RFC 8439 section 2.8.2 */
	test_aead_kat("RFC 8439 2.8.2 ChaCha20-Poly1305",
		      CPNS_SUITE_CHACHA20POLY1305,
		      "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f",
		      "070000004041424344454647", "50515253c0c1c2c3c4c5c6c7",
		      "4c616469657320616e642047656e746c656d656e206f662074686520636c617373206f66202739393a204966204920636f756c64206f6666657220796f75206f6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73637265656e20776f756c642062652069742e",
		      "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d63dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b3692ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc3ff4def08e4b7a9de576d26586cec64b6116"
		      "1ae10b594f09e26a7e902ecbd0600691");
	/* McGrew-Viega GCM spec, test case 16 (256-bit key, AAD) */
	test_aead_kat("GCM test case 16 AES-256-GCM", CPNS_SUITE_AES256GCM,
		      "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
		      "cafebabefacedbaddecaf888",
		      "feedfacedeadbeeffeedfacedeadbeefabaddad2",
		      "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
		      "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
		      "76fc6ece0f4e1768cddf8853bb2d551b");
}

/* ---- X25519 ----------------------------------------------------------- */

static bool x25519_hex(const char *k, const char *u, const char *want)
{
	size_t kl, ul;
	uint8_t *kb = H(k, &kl), *ub = H(u, &ul), out[32];
	bool ok = !cpns_x25519(kb, ub, out) && eq_hex(out, 32, want);

	free(kb);
	free(ub);
	return ok;
}

static void test_x25519(void)
{
	static const char *const low_order[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	uint8_t k[32] = { 9 }, u[32] = { 9 }, r[32], pub[32], bob[32];
	size_t n, i;
	uint8_t *a, *b;
	bool ok = true;

	tap_ok(x25519_hex("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
			  "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
			  "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"),
	       "RFC 7748 5.2 X25519 vector 1");
	tap_ok(x25519_hex("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
			  "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
			  "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"),
	       "RFC 7748 5.2 X25519 vector 2");
	/* RFC 7748 5.2 iterations: k, u <- X25519(k, u), k */
	for (i = 1; i <= 1000 && ok; i++) {
		ok = !cpns_x25519(k, u, r);
		memcpy(u, k, 32);
		memcpy(k, r, 32);
		if (i == 1)
			tap_ok(ok && eq_hex(k, 32, "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"),
			       "RFC 7748 5.2 after 1 iteration");
	}
	tap_ok(ok && eq_hex(k, 32, "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"),
	       "RFC 7748 5.2 after 1000 iterations");

	a = H("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a", &n);
	b = H("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb", &n);
	tap_ok(!cpns_x25519_public(a, pub) &&
		       eq_hex(pub, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"),
	       "RFC 7748 6.1 Alice's public key");
	tap_ok(!cpns_x25519(b, pub, r) &&
		       eq_hex(r, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"),
	       "RFC 7748 6.1 shared secret (Bob)");
	tap_ok(!cpns_x25519_public(b, pub) &&
		       eq_hex(pub, 32, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f") &&
		       !cpns_x25519(a, pub, r) &&
		       eq_hex(r, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"),
	       "RFC 7748 6.1 Bob's public key and shared secret (Alice)");
	memcpy(bob, pub, sizeof(bob));
	memset(pub, 0, sizeof(pub));
	memset(r, 0, sizeof(r));
	tap_ok(!cpns_x25519_keyshare(a, bob, pub, r) &&
		       eq_hex(pub, 32, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a") &&
		       eq_hex(r, 32, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"),
	       "RFC 7748 6.1 Alice's public key and shared secret from one import");
	for (i = 0; i < sizeof(low_order) / sizeof(low_order[0]); i++) {
		uint8_t *lo = H(low_order[i], &n);

		memset(r, 0xaa, sizeof(r));
		tap_ok(cpns_x25519_keyshare(a, lo, pub, r) == -EINVAL &&
			       eq_hex(r, 32, "0000000000000000000000000000000000000000000000000000000000000000"),
		       "keyshare: low-order share %.8s... refused, output wiped",
		       low_order[i]);
		memset(r, 0xaa, sizeof(r));
		tap_ok(cpns_x25519(a, lo, r) == -EINVAL &&
			       eq_hex(r, 32, "0000000000000000000000000000000000000000000000000000000000000000"),
		       "low-order share %.8s... refused, output wiped",
		       low_order[i]);
		free(lo);
	}
	free(a);
	free(b);
}

/* ---- cpns1 vectors ---------------------------------------------------- */

static void test_expand_label(void)
{
	struct json_object *v = vec_load("expand_label.json");
	struct json_object *cases = vec_get(v, "cases");
	size_t i, n = json_object_array_length(cases);
	uint8_t info[CPNS_HKDF_LABEL_MAX], got[256];

	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(cases, i);
		const char *name = vec_str(c, "name");
		size_t sl, cl, hl, ol, il;
		uint8_t *out = vec_hex(c, "output", &ol);

		if (vec_get(c, "extract_salt")) {
			uint8_t *salt = vec_hex(c, "extract_salt", &sl);
			uint8_t *ikm = vec_hex(c, "extract_ikm", &cl);

			tap_ok(!cpns_hkdf_extract(salt, sl, ikm, cl, got) &&
				       hex_eq(got, 32, out, ol),
			       "expand_label: %s", name);
			free(salt);
			free(ikm);
		} else {
			const char *prefix = vec_str(c, "prefix");
			const char *label = vec_str(c, "label");
			uint8_t *secret = vec_hex(c, "secret", &sl);
			uint8_t *ctx = vec_hex(c, "context", &cl);
			uint8_t *hl_want = vec_hex(c, "hkdf_label", &hl);
			size_t len = (size_t)vec_int(c, "length");

			tap_ok(!cpns_hkdf_label(prefix, label, ctx, cl, len,
						info, &il) &&
				       hex_eq(info, il, hl_want, hl),
			       "expand_label: %s: HkdfLabel", name);
			tap_ok(!cpns_expand_label_prefix(prefix, secret, sl,
							 label, ctx, cl, got,
							 len) &&
				       hex_eq(got, len, out, ol),
			       "expand_label: %s: output", name);
			if (!strcmp(prefix, CPNS_LABEL_PREFIX) && sl == 32) {
				memset(got, 0, sizeof(got));
				tap_ok(!cpns_expand_label(secret, label, ctx,
							  cl, got, len) &&
					       hex_eq(got, len, out, ol),
				       "expand_label: %s: cpns_expand_label",
				       name);
			}
			free(secret);
			free(ctx);
			free(hl_want);
		}
		free(out);
	}
	/* 3.1: len(prefix || label) 7-255, len(ctx) 0-255 */
	tap_ok(cpns_hkdf_label("cpns1 ", "", NULL, 0, 32, info, &n) == -EINVAL,
	       "expand_label: empty label (6 bytes with prefix) refused");
	tap_ok(cpns_hkdf_label("cpns1 ", "k", got, 256, 32, info, &n) ==
		       -EINVAL,
	       "expand_label: context of 256 bytes refused");
	json_object_put(v);
}

static void test_purpose_keys(void)
{
	struct json_object *v = vec_load("purpose_keys.json");
	struct json_object *cases = vec_get(v, "cases");
	size_t i, n = json_object_array_length(cases), l;

	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(cases, i);
		struct cpns_purpose_keys pk;
		uint8_t *k = vec_hex(c, "K", &l);
		bool ok = l == 32 && !cpns_purpose_keys(k, &pk);

		ok = ok && eq_hex(pk.p, 32, vec_str(c, "P")) &&
		     eq_hex(pk.k_hs, 32, vec_str(c, "K_hs")) &&
		     eq_hex(pk.k_pn, 32, vec_str(c, "K_pn")) &&
		     eq_hex(pk.k_wrap, 32, vec_str(c, "K_wrap"));
		tap_ok(ok, "purpose_keys: %s", vec_str(c, "name"));
		cpns_wipe(&pk, sizeof(pk));
		free(k);
	}
	json_object_put(v);
}

static void test_traffic_keys(void)
{
	struct json_object *v = vec_load("traffic_keys.json");
	struct json_object *cases = vec_get(v, "cases");
	size_t i, j, l;

	for (i = 0; i < json_object_array_length(cases); i++) {
		struct json_object *c = json_object_array_get_idx(cases, i);
		struct json_object *ep = vec_get(c, "epochs");
		uint8_t *ts0 = vec_hex(c, "ts0", &l);

		for (j = 0; j < json_object_array_length(ep); j++) {
			struct json_object *e = json_object_array_get_idx(ep, j);
			unsigned int epoch = (unsigned int)vec_int(e, "epoch");
			uint8_t ts[32], key[32], iv[12];
			bool ok;

			ok = !cpns_ts_epoch(ts0, epoch, ts) &&
			     eq_hex(ts, 32, vec_str(e, "ts")) &&
			     !cpns_epoch_keys(ts, key, iv) &&
			     eq_hex(key, 32, vec_str(e, "key")) &&
			     eq_hex(iv, 12, vec_str(e, "iv"));
			tap_ok(ok, "traffic_keys: %s epoch %u",
			       vec_str(c, "name"), epoch);
		}
		free(ts0);
	}
	json_object_put(v);
}

static void fill_hdr(struct json_object *c, struct cpns_record_hdr *h)
{
	size_t l;
	uint8_t *src = vec_hex(c, "src", &l), *dst = vec_hex(c, "dst", &l);

	memset(h, 0, sizeof(*h));
	h->version = CPNS_REC_VERSION;
	h->type = (uint8_t)vec_int(c, "type");
	h->flags = vec_int(c, "C") ? CPNS_REC_FLAG_C : 0;
	h->suite = (uint8_t)vec_int(c, "suite");
	h->generation = (uint8_t)vec_int(c, "generation");
	h->epoch = (uint8_t)vec_int(c, "epoch");
	h->seq = (uint64_t)vec_int(c, "seq");
	memcpy(h->src, src, CPNS_ID_LEN);
	memcpy(h->dst, dst, CPNS_ID_LEN);
	h->src_port = (uint16_t)vec_int(c, "src_port");
	h->dst_port = (uint16_t)vec_int(c, "dst_port");
	free(src);
	free(dst);
}

/* Every single-byte change of a record must make it fail to open. */
static bool flip_all(const uint8_t *key, const uint8_t *iv, const uint8_t *rec,
		     size_t len)
{
	uint8_t *copy = malloc(len), *pt = malloc(CPNS_MAX_PAYLOAD);
	struct cpns_record_hdr h;
	bool ok = true;
	size_t i;

	for (i = 0; i < len && ok; i++) {
		memcpy(copy, rec, len);
		copy[i] ^= 0x01;
		ok = cpns_record_open(key, iv, copy, len, &h, pt,
				      CPNS_MAX_PAYLOAD) < 0;
		if (!ok)
			tap_diag("byte %zu flipped still opens", i);
	}
	/* a truncated record and one with a trailing byte fail too */
	if (ok)
		ok = cpns_record_open(key, iv, rec, len - 1, &h, pt,
				      CPNS_MAX_PAYLOAD) < 0;
	free(copy);
	free(pt);
	return ok;
}

static void test_records(void)
{
	struct json_object *v = vec_load("records.json");
	struct json_object *cases = vec_get(v, "cases");
	uint8_t *out = malloc(CPNS_RECORD_MAX), *pt = malloc(CPNS_MAX_PAYLOAD);
	size_t i, n = json_object_array_length(cases), flipped = 0;

	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(cases, i);
		const char *name = vec_str(c, "name");
		size_t pl, rl, ol = 0, l;
		uint8_t *payload = vec_hex(c, "payload", &pl);
		uint8_t *rec = vec_hex(c, "record", &rl);
		uint8_t ts[32], key[32] = { 0 }, iv[12] = { 0 }, nonce[12];
		uint8_t hdrb[CPNS_HDR_LEN];
		struct cpns_record_hdr h, back;
		uint8_t *ts0 = vec_hex(c, "ts0", &l);
		int r;

		fill_hdr(c, &h);
		if (ts0) {
			tap_ok(!cpns_ts_epoch(ts0, h.epoch, ts) &&
				       !cpns_epoch_keys(ts, key, iv) &&
				       eq_hex(key, 32, vec_str(c, "key")) &&
				       eq_hex(iv, 12, vec_str(c, "iv")),
			       "records: %s: key and iv", name);
			cpns_record_nonce(iv, h.seq, nonce);
			h.length = (uint16_t)pl;
			cpns_record_hdr_pack(&h, hdrb);
			tap_ok(eq_hex(nonce, 12, vec_str(c, "nonce")) &&
				       eq_hex(hdrb, sizeof(hdrb),
					      vec_str(c, "header")) &&
				       (unsigned int)vec_int(c, "key_id") ==
					       (unsigned int)(h.generation << 8 |
							      h.epoch),
			       "records: %s: nonce, header, key_id", name);
		}
		tap_ok(!cpns_record_seal(&h, key, iv, payload, pl, out,
					 CPNS_RECORD_MAX, &ol) &&
			       hex_eq(out, ol, rec, rl),
		       "records: %s: seal byte-exact", name);
		r = cpns_record_open(key, iv, rec, rl, &back, pt,
				     CPNS_MAX_PAYLOAD);
		tap_ok(r == (int)pl && hex_eq(pt, pl, payload, pl) &&
			       back.seq == h.seq && back.epoch == h.epoch &&
			       back.generation == h.generation,
		       "records: %s: open", name);
		/* a few records of each kind, every byte flipped */
		if (ts0 && pl < 64 && (i % 5 == 0 || pl == 0)) {
			tap_ok(flip_all(key, iv, rec, rl),
			       "records: %s: every flipped byte fails to open",
			       name);
			flipped++;
		}
		free(payload);
		free(rec);
		free(ts0);
	}
	tap_ok(flipped >= 4, "records: %zu records checked byte-flip", flipped);
	free(out);
	free(pt);
	json_object_put(v);
}

/*
 * The H(K) key schedule of PROTOCOL.md 5.4 from the library's primitives
 * against handshake_h.json; the confirmation Ack record must open.
 */
static void test_handshake_schedule(void)
{
	static const uint8_t zero[32];
	struct json_object *v = vec_load("handshake_h.json");
	struct json_object *cases = vec_get(v, "cases");
	size_t i, l;

	for (i = 0; i < json_object_array_length(cases); i++) {
		struct json_object *c = json_object_array_get_idx(cases, i);
		struct json_object *in = vec_get(c, "inputs");
		struct json_object *m = vec_get(c, "messages");
		struct json_object *d = vec_get(c, "derived");
		struct json_object *s = vec_get(c, "session");
		const char *name = vec_str(c, "name");
		size_t l1, l2, l3, rl, al;
		uint8_t *k = vec_hex(in, "K", &l);
		uint8_t *m1 = vec_hex(m, "m1_ConnectRequest", &l1);
		uint8_t *m2 = vec_hex(m, "m2_AuthRequest", &l2);
		uint8_t *m3 = vec_hex(m, "m3_AuthResponse", &l3);
		uint8_t *e_i = vec_hex(in, "e_I_priv", &l);
		uint8_t *e_r = vec_hex(in, "e_R_priv", &l);
		uint8_t *rec = vec_hex(s, "confirm_ack_record_i2r", &rl);
		uint8_t *ack = vec_hex(s, "confirm_ack", &al);
		struct cpns_iov iov[3] = { { m1, l1 }, { m2, l2 }, { m3, l3 } };
		struct cpns_purpose_keys pk;
		uint8_t es[32], der[32], dhe[32] = { 0 }, hs[32], th12[32];
		uint8_t th123[32], fk[32], hash_i[32], ms[32], ts[32];
		uint8_t key[32], iv[12], pub[32], pt[64];
		struct cpns_record_hdr h;
		bool ok;

		ok = !cpns_purpose_keys(k, &pk) &&
		     eq_hex(pk.k_hs, 32, vec_str(d, "K_hs")) &&
		     !cpns_hkdf_extract(zero, 32, pk.k_hs, 32, es) &&
		     eq_hex(es, 32, vec_str(d, "ES")) &&
		     !cpns_expand_label(es, "derived", NULL, 0, der, 32) &&
		     eq_hex(der, 32, vec_str(d, "derived"));
		if (ok && e_i && e_r)
			ok = !cpns_x25519_public(e_r, pub) &&
			     !cpns_x25519(e_i, pub, dhe);
		ok = ok && eq_hex(dhe, 32, vec_str(d, "DHE")) &&
		     !cpns_hkdf_extract(der, 32, dhe, 32, hs) &&
		     eq_hex(hs, 32, vec_str(d, "HS")) &&
		     !cpns_sha256_iov(iov, 2, th12) &&
		     eq_hex(th12, 32, vec_str(d, "TH_m1_m2")) &&
		     !cpns_sha256_iov(iov, 3, th123) &&
		     eq_hex(th123, 32, vec_str(d, "TH_m1_m2_m3")) &&
		     !cpns_expand_label(hs, "i finished", NULL, 0, fk, 32) &&
		     !cpns_hmac_sha256(fk, 32, th12, 32, hash_i) &&
		     eq_hex(hash_i, 32, vec_str(d, "hash_I")) &&
		     !cpns_expand_label(hs, "r finished", NULL, 0, fk, 32) &&
		     !cpns_hmac_sha256(fk, 32, th123, 32, hash_i) &&
		     eq_hex(hash_i, 32, vec_str(d, "hash_R")) &&
		     !cpns_expand_label(hs, "master", th123, 32, ms, 32) &&
		     eq_hex(ms, 32, vec_str(d, "MS")) &&
		     !cpns_expand_label(ms, "r2i", NULL, 0, ts, 32) &&
		     eq_hex(ts, 32, vec_str(d, "ts_r2i")) &&
		     !cpns_expand_label(ms, "wrap", NULL, 0, ts, 32) &&
		     eq_hex(ts, 32, vec_str(d, "K_wrap_sess")) &&
		     !cpns_expand_label(ms, "i2r", NULL, 0, ts, 32) &&
		     eq_hex(ts, 32, vec_str(d, "ts_i2r"));
		tap_ok(ok, "handshake_h: %s: key schedule", name);
		tap_ok(!cpns_epoch_keys(ts, key, iv) &&
			       cpns_record_open(key, iv, rec, rl, &h, pt,
						sizeof(pt)) == (int)al &&
			       hex_eq(pt, al, ack, al) &&
			       h.type == CPNS_REC_TYPE_HANDSHAKE &&
			       (h.flags & CPNS_REC_FLAG_C),
		       "handshake_h: %s: confirmation Ack record opens",
		       name);
		cpns_wipe(&pk, sizeof(pk));
		cpns_wipe(hs, sizeof(hs));
		cpns_wipe(ms, sizeof(ms));
		free(k);
		free(m1);
		free(m2);
		free(m3);
		free(e_i);
		free(e_r);
		free(rec);
		free(ack);
	}
	json_object_put(v);
}

static void test_scrypt(void)
{
	struct json_object *v = vec_load("procedure_a.json");
	struct json_object *c = json_object_array_get_idx(vec_get(v, "cases"), 0);
	struct json_object *in = vec_get(c, "inputs");
	struct json_object *sp = vec_get(in, "scrypt");
	struct json_object *allowed = vec_get(v, "scrypt_allowed");
	struct json_object *neg = vec_get(v, "scrypt_negative");
	size_t pl, sl, i;
	uint8_t *pw = vec_hex(in, "password_hex", &pl);
	uint8_t *salt = vec_hex(in, "salt", &sl);
	uint8_t out[80];

	for (i = 0; i < json_object_array_length(allowed); i++) {
		struct json_object *a = json_object_array_get_idx(allowed, i);
		unsigned int logn = (unsigned int)vec_int(a, "logN");
		uint32_t r = (uint32_t)vec_int(a, "r"), p = (uint32_t)vec_int(a, "p");

		tap_ok(cpns_scrypt_params_allowed(logn, r, p) &&
			       cpns_scrypt_maxmem(logn, r, p) ==
				       (uint64_t)vec_int(a, "maxmem"),
		       "scrypt: log2 N %u allowed, maxmem %llu", logn,
		       (unsigned long long)cpns_scrypt_maxmem(logn, r, p));
	}
	tap_ok(!cpns_scrypt(pw, pl, salt, sl, (unsigned int)vec_int(sp, "logN"),
			    (uint32_t)vec_int(sp, "r"),
			    (uint32_t)vec_int(sp, "p"), out,
			    (size_t)vec_int(sp, "dkLen")) &&
		       eq_hex(out, 80, vec_str(vec_get(c, "registration"),
					       "scrypt_output")),
	       "scrypt: procedure_a registration output (maxmem bound)");
	for (i = 0; i < json_object_array_length(neg); i++) {
		struct json_object *a = json_object_array_get_idx(neg, i);
		unsigned int logn = (unsigned int)vec_int(a, "logN");
		uint32_t r = (uint32_t)vec_int(a, "r"), p = (uint32_t)vec_int(a, "p");
		size_t ml;
		uint8_t *kc = vec_hex(a, "KeyChallenge", &ml);
		unsigned int dl;
		uint32_t dr, dp;

		/* SCRYPT_PARAMS is the last TLV of KeyChallenge */
		tap_ok(!cpns_scrypt_params_allowed(logn, r, p) &&
			       cpns_scrypt(pw, pl, salt, sl, logn, r, p, out,
					   32) == -EINVAL &&
			       ml >= 9 &&
			       cpns_scrypt_params_decode(kc + ml - 9, &dl, &dr,
							 &dp) == -EINVAL &&
			       dl == logn && dr == r && dp == p,
		       "scrypt: log2 N %u r %u p %u refused before running",
		       logn, r, p);
		free(kc);
	}
	free(pw);
	free(salt);
	json_object_put(v);
}

static void test_random(void)
{
	static const uint8_t a[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, b[32] = { 9 };
	const uint8_t *const draws[] = { a, b };
	const size_t lens[] = { sizeof(a), sizeof(b) };
	struct cpns_rng_replay rp;
	struct cpns_rng rng;
	uint8_t x[32], y[32];

	cpns_rng_replay_init(&rng, &rp, draws, lens, 2);
	tap_ok(!cpns_random(&rng, x, 8) && !memcmp(x, a, 8) &&
		       !cpns_random(&rng, x, 32) && !memcmp(x, b, 32),
	       "random: replay source returns the draws in order");
	tap_ok(cpns_random(&rng, x, 8) == -ERANGE,
	       "random: replay source past its end fails");
	cpns_rng_replay_init(&rng, &rp, draws, lens, 2);
	tap_ok(cpns_random(&rng, x, 7) == -ERANGE,
	       "random: replay source refuses a draw of another length");
	tap_ok(!cpns_random(NULL, x, 32) && !cpns_random(NULL, y, 32) &&
		       memcmp(x, y, 32),
	       "random: system source");
	tap_ok(cpns_memeq(a, a, 8) && !cpns_memeq(a, b, 8),
	       "memeq: constant-time compare");
}

int main(void)
{
	tap_start();
	test_rfc5869();
	test_aeads();
	test_x25519();
	test_expand_label();
	test_purpose_keys();
	test_traffic_keys();
	test_records();
	test_handshake_schedule();
	test_scrypt();
	test_random();
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Procedure A engines (cpns_proca) against procedure_a.json: every message
 * of the good run, the unknown-user run, the wrong-password run, the
 * REFUSED KeyDelivery and scrypt_negative, byte for byte, by injecting the
 * listed random draws; plus the S-side rules on a mock registry.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpns_crypto.h"
#include "cpns_proca.h"
#include "tap.h"
#include "vec.h"

#define NOW 1700000000ULL

static struct json_object *root;
static uint8_t gw_id[16], srv_id[16];

/* ---- helpers ---------------------------------------------------------- */

struct draws {
	struct cpns_rng rng;
	struct cpns_rng_replay rp;
	uint8_t *d[8];
	size_t l[8];
};

static void draws_init(struct draws *dr, struct json_object *arr)
{
	size_t i, n = arr ? json_object_array_length(arr) : 0;

	memset(dr, 0, sizeof(*dr));
	for (i = 0; i < n && i < 8; i++)
		dr->d[i] = hex_decode(json_object_get_string(
					      json_object_array_get_idx(arr, i)),
				      &dr->l[i]);
	cpns_rng_replay_init(&dr->rng, &dr->rp, (const uint8_t *const *)dr->d,
			     dr->l, n);
}

static void draws_free(struct draws *dr)
{
	unsigned int i;

	for (i = 0; i < 8; i++)
		free(dr->d[i]);
}

static bool out_is(const uint8_t *out, size_t len, struct json_object *o,
		   const char *key)
{
	size_t wl;
	uint8_t *w = vec_hex(o, key, &wl);
	bool ok = w && out && hex_eq(out, len, w, wl);

	if (!ok && out) {
		char buf[2 * 600 + 1];
		size_t i;

		for (i = 0; i < len && i < 600; i++)
			sprintf(buf + 2 * i, "%02x", out[i]);
		buf[2 * i] = 0;
		tap_diag("%s: got %s", key, buf);
	}
	free(w);
	return ok;
}

static uint8_t *msg_of(struct json_object *o, const char *key, size_t *len)
{
	uint8_t *b = vec_hex(o, key, len);

	if (!b)
		tap_bail("vector %s missing", key);
	return b;
}

/* Abort {XID, REASON, MSG_REF} */
static bool is_abort(const uint8_t *out, size_t len, uint8_t reason,
		     uint8_t ref)
{
	return out && len == 23 && out[0] == CPNS_MSG_ABORT &&
	       out[17] == reason && out[22] == ref;
}

/* ---- mock registry ---------------------------------------------------- */

struct mock {
	bool have_alice;
	struct cpns_proca_verifier alice;
	int refuse;		/* admit() answer */
	unsigned int admits, failures, confirms, pendings, decoys;
	bool pending, active;	/* the one EUKey slot of the GW */
	uint8_t eukey[32];
	uint32_t kid;
	bool last_failure_pending;
};

static int m_lookup(void *ctx, const uint8_t *uid, size_t uid_len,
		    struct cpns_proca_verifier *v)
{
	struct mock *mk = ctx;

	if (mk->have_alice && uid_len == 17 &&
	    !memcmp(uid, "alice@example.net", 17)) {
		*v = mk->alice;
		return 0;
	}
	return -ENOENT;
}

static int m_admit(void *ctx, const uint8_t *uid, size_t uid_len,
		   const uint8_t gw[16], bool known, uint64_t now)
{
	struct mock *mk = ctx;

	(void)uid, (void)uid_len, (void)gw, (void)known, (void)now;
	mk->admits++;
	return mk->refuse;
}

static int m_next_kid(void *ctx, const uint8_t gw[16], uint32_t *kid)
{
	(void)ctx, (void)gw;
	*kid = 1;
	return 0;
}

static int m_pending(void *ctx, const uint8_t *uid, size_t uid_len,
		     const uint8_t gw[16], uint32_t kid, uint64_t expiry,
		     const uint8_t eukey[32], uint64_t now)
{
	struct mock *mk = ctx;

	(void)uid, (void)uid_len, (void)gw, (void)expiry, (void)now;
	mk->pendings++;
	mk->pending = true;
	mk->kid = kid;
	memcpy(mk->eukey, eukey, 32);
	return 0;
}

static int m_confirm(void *ctx, const uint8_t *uid, size_t uid_len,
		     const uint8_t gw[16], uint32_t kid, uint64_t now)
{
	struct mock *mk = ctx;

	(void)uid, (void)uid_len, (void)gw, (void)now;
	if (!mk->pending || kid != mk->kid)
		return -ENOENT;
	mk->confirms++;
	mk->pending = false;
	mk->active = true;
	return 0;
}

static int m_failure(void *ctx, const uint8_t *uid, size_t uid_len,
		     const uint8_t gw[16], bool pending, uint32_t kid,
		     uint64_t now)
{
	struct mock *mk = ctx;

	(void)uid, (void)uid_len, (void)gw, (void)kid, (void)now;
	mk->failures++;
	mk->last_failure_pending = pending;
	if (pending)
		mk->pending = false;
	return 0;
}

static int m_decoy(void *ctx)
{
	struct mock *mk = ctx;

	mk->decoys++;
	return 0;
}

static const struct cpns_proca_srv_ops mock_ops = {
	m_lookup, m_admit, m_next_kid, m_pending, m_confirm, m_failure,
	m_decoy,
};

static struct cpns_proca_srv_cfg cfg;
static struct mock mk;

static void mock_reset(void)
{
	struct json_object *c0 = json_object_array_get_idx(vec_get(root, "cases"), 0);
	struct json_object *in = vec_get(c0, "inputs");
	struct json_object *reg = vec_get(c0, "registration");
	struct json_object *c1 = json_object_array_get_idx(vec_get(root, "cases"), 1);
	uint8_t *b;
	size_t n;

	memset(&mk, 0, sizeof(mk));
	mk.have_alice = true;
	b = vec_hex(in, "salt", &n);
	memcpy(mk.alice.salt, b, 16);
	free(b);
	b = vec_hex(reg, "w0", &n);
	memcpy(mk.alice.w0, b, 32);
	free(b);
	b = vec_hex(reg, "L", &n);
	memcpy(mk.alice.l, b, 65);
	free(b);
	mk.alice.log2n = 15;
	mk.alice.r = 8;
	mk.alice.p = 1;

	memset(&cfg, 0, sizeof(cfg));
	memcpy(cfg.server_id, srv_id, 16);
	b = vec_hex(vec_get(c1, "inputs"), "server_secret", &n);
	memcpy(cfg.server_secret, b, 32);
	free(b);
	cfg.log2n = 15;
	cfg.eukey_lifetime = (uint64_t)vec_int(in, "eukey_lifetime_s");
	cfg.ops = &mock_ops;
	cfg.ctx = &mk;
}

/* ---- tests ------------------------------------------------------------ */

static void test_fake_record(void)
{
	struct json_object *fr = vec_get(root, "fake_record_example");
	struct cpns_proca_verifier v;
	size_t n;
	uint8_t *secret = vec_hex(fr, "server_secret", &n);
	const char *uid = vec_str(fr, "user_id");

	tap_ok(!cpns_proca_fake_record(secret, (const uint8_t *)uid,
				       strlen(uid), 15, &v) &&
		       out_is(v.salt, 16, fr, "salt") &&
		       out_is(v.w0, 32, fr, "w0") && out_is(v.l, 65, fr, "L") &&
		       v.log2n == 15 && v.r == 8 && v.p == 1,
	       "fake_record_example: salt, w0, L");
	free(secret);
}

static void test_good_run(void)
{
	struct json_object *c = json_object_array_get_idx(vec_get(root, "cases"), 0);
	struct json_object *in = vec_get(c, "inputs"), *msgs = vec_get(c, "messages");
	struct json_object *wrap = vec_get(c, "wrap"), *sp = vec_get(c, "spake2plus");
	const char *pw = vec_str(in, "password");
	const char *uid = vec_str(in, "user_id");
	struct cpns_proca_gw *gw = calloc(1, sizeof(*gw));
	struct cpns_proca_srv *srv = calloc(1, sizeof(*srv));
	struct draws gd, sd;
	const uint8_t *out;
	size_t out_len, kc_len, kd_len, ack_len, kr1_len, kr2_len, kcf_len, n;
	uint8_t *kc = msg_of(msgs, "KeyChallenge", &kc_len);
	uint8_t *kd = msg_of(msgs, "KeyDelivery", &kd_len);
	uint8_t *ack = msg_of(msgs, "Ack", &ack_len);
	uint8_t *kr1 = msg_of(msgs, "KeyRequest1", &kr1_len);
	uint8_t *kr2 = msg_of(msgs, "KeyRequest2", &kr2_len);
	uint8_t *kcf = msg_of(msgs, "KeyConfirm", &kcf_len);
	uint8_t *ks = vec_hex(sp, "K_shared", &n), *th = vec_hex(wrap, "TH_KR1_KC_KR2", &n);
	uint8_t kw[32], aad[96], *copy;
	struct cpns_proca_gw *saved;
	int r;

	/* the wrap pieces of 6.3 */
	tap_ok(!cpns_proca_wrap_key(ks, th, kw) && out_is(kw, 32, wrap, "wrap_key"),
	       "good run: k_wrap = Expand-Label(K_shared, \"eukey wrap\", TH_A)");
	n = cpns_proca_wrap_aad(gw_id, (const uint8_t *)uid, strlen(uid), 1,
				(uint64_t)vec_int(wrap, "expiry"), aad);
	tap_ok(out_is(aad, n, wrap, "aad"), "good run: AAD");

	/* GW side */
	draws_init(&gd, vec_get(in, "gw_random_draws"));
	r = cpns_proca_gw_start(gw, gw_id, srv_id, (const uint8_t *)uid,
				strlen(uid), (const uint8_t *)pw, strlen(pw),
				&gd.rng, &out, &out_len);
	tap_ok(r == CPNS_PROCA_SEND && out_is(out, out_len, msgs, "KeyRequest1"),
	       "good run GW: KeyRequest1");
	/* a KeyChallenge from someone else, or of another XID: dropped */
	saved = malloc(sizeof(*saved));
	memcpy(saved, gw, sizeof(*gw));
	r = cpns_proca_gw_input(gw, gw_id, kc, kc_len, NOW, &gd.rng, &out,
				&out_len);
	tap_ok(r == CPNS_PROCA_IGNORE && !out && !memcmp(saved, gw, sizeof(*gw)),
	       "GW: KeyChallenge from another source ignored, state unchanged");
	copy = malloc(kc_len);
	memcpy(copy, kc, kc_len);
	copy[5] ^= 1;
	r = cpns_proca_gw_input(gw, srv_id, copy, kc_len, NOW, &gd.rng, &out,
				&out_len);
	tap_ok(r == CPNS_PROCA_IGNORE && !memcmp(saved, gw, sizeof(*gw)),
	       "GW: KeyChallenge with another XID ignored, state unchanged");
	free(copy);
	r = cpns_proca_gw_input(gw, srv_id, kc, kc_len, NOW, &gd.rng, &out,
				&out_len);
	tap_ok(r == CPNS_PROCA_SEND && out_is(out, out_len, msgs, "KeyRequest2") &&
		       gw->password_len == 0,
	       "good run GW: KeyRequest2 (password wiped after scrypt)");
	r = cpns_proca_gw_input(gw, srv_id, kc, kc_len, NOW, &gd.rng, &out,
				&out_len);
	tap_ok(r == CPNS_PROCA_SEND && out_is(out, out_len, msgs, "KeyRequest2"),
	       "GW: duplicate KeyChallenge answered with the same KeyRequest2");
	r = cpns_proca_gw_input(gw, srv_id, kd, kd_len, NOW, &gd.rng, &out,
				&out_len);
	tap_ok(r == CPNS_PROCA_SEND && out_is(out, out_len, msgs, "KeyConfirm") &&
		       gw->state == CPNS_PROCA_GW_WAIT_ACK,
	       "good run GW: KeyConfirm, EUKey pending");
	tap_ok(out_is(gw->eukey, 32, wrap, "EUKey") && gw->kid == 1 &&
		       gw->expiry == (uint64_t)vec_int(wrap, "expiry") &&
		       out_is(gw->th, 32, wrap, "TH_KR1_KC_KR2"),
	       "good run GW: EUKey, kid, expiry, TH_A");
	r = cpns_proca_gw_input(gw, srv_id, ack, ack_len, NOW, &gd.rng, &out,
				&out_len);
	tap_ok(r == CPNS_PROCA_DONE && !out && gw->state == CPNS_PROCA_GW_DONE,
	       "good run GW: Ack -> EUKey active");
	tap_ok(gd.rp.next == gd.rp.n, "good run GW: every listed draw used");
	draws_free(&gd);

	/* S side */
	mock_reset();
	draws_init(&sd, vec_get(in, "server_random_draws"));
	cpns_proca_srv_init(srv, &cfg);
	r = cpns_proca_srv_input(srv, gw_id, kr1, kr1_len, NOW, &sd.rng, &out,
				 &out_len);
	tap_ok(r == CPNS_PROCA_SEND && out_is(out, out_len, msgs, "KeyChallenge"),
	       "good run S: KeyChallenge");
	r = cpns_proca_srv_input(srv, gw_id, kr2, kr2_len, NOW, &sd.rng, &out,
				 &out_len);
	tap_ok(r == CPNS_PROCA_SEND && out_is(out, out_len, msgs, "KeyDelivery"),
	       "good run S: KeyDelivery");
	tap_ok(mk.pending && !mk.active && mk.kid == 1 &&
		       out_is(mk.eukey, 32, wrap, "EUKey"),
	       "good run S: EUKey stored pending, not active");
	r = cpns_proca_srv_input(srv, gw_id, kr2, kr2_len, NOW + 1, &sd.rng,
				 &out, &out_len);
	tap_ok(r == CPNS_PROCA_SEND && out_is(out, out_len, msgs, "KeyDelivery") &&
		       mk.pendings == 1,
	       "S: duplicate KeyRequest2 answered from cache, nothing redrawn");
	r = cpns_proca_srv_input(srv, gw_id, kr1, kr1_len, NOW + 1, &sd.rng,
				 &out, &out_len);
	tap_ok(r == CPNS_PROCA_SEND && out_is(out, out_len, msgs, "KeyChallenge"),
	       "S: duplicate KeyRequest1 answered with the same KeyChallenge");
	r = cpns_proca_srv_input(srv, gw_id, kcf, kcf_len, NOW + 2, &sd.rng,
				 &out, &out_len);
	tap_ok(r == CPNS_PROCA_DONE && out_is(out, out_len, msgs, "Ack") &&
		       mk.active && !mk.pending && mk.confirms == 1,
	       "good run S: KeyConfirm -> Ack, EUKey active");
	r = cpns_proca_srv_input(srv, gw_id, kcf, kcf_len, NOW + 3, &sd.rng,
				 &out, &out_len);
	tap_ok(r == CPNS_PROCA_SEND && out_is(out, out_len, msgs, "Ack") &&
		       mk.confirms == 1,
	       "S: duplicate KeyConfirm answered with the same Ack");
	tap_ok(cpns_proca_srv_tick(srv, NOW + 100) && mk.failures == 0,
	       "S: a completed exchange does not time out into a failure");
	tap_ok(sd.rp.next == sd.rp.n, "good run S: every listed draw used");
	draws_free(&sd);

	/* S: the REFUSED KeyDelivery */
	{
		struct json_object *rc = json_object_array_get_idx(vec_get(root, "cases"), 3);

		mock_reset();
		mk.refuse = 1;
		draws_init(&sd, NULL);
		cpns_proca_srv_init(srv, &cfg);
		cpns_proca_srv_input(srv, gw_id, kr1, kr1_len, NOW, &sd.rng,
				     &out, &out_len);
		r = cpns_proca_srv_input(srv, gw_id, kr2, kr2_len, NOW,
					 &sd.rng, &out, &out_len);
		tap_ok(r == CPNS_PROCA_FAILED &&
			       out_is(out, out_len, rc, "message") &&
			       !mk.pending && mk.failures == 0,
		       "refused: KeyDelivery {XID, STATUS = REFUSED}, nothing drawn or stored");
		r = cpns_proca_srv_input(srv, gw_id, kr2, kr2_len, NOW,
					 &sd.rng, &out, &out_len);
		tap_ok(r == CPNS_PROCA_SEND && out_is(out, out_len, rc, "message"),
		       "refused: duplicate KeyRequest2 gets the same refusal");

		/* GW side of the refusal: reported, nothing sent */
		draws_init(&gd, vec_get(in, "gw_random_draws"));
		cpns_proca_gw_start(gw, gw_id, srv_id, (const uint8_t *)uid,
				    strlen(uid), (const uint8_t *)pw,
				    strlen(pw), &gd.rng, &out, &out_len);
		cpns_proca_gw_input(gw, srv_id, kc, kc_len, NOW, &gd.rng, &out,
				    &out_len);
		n = 0;
		{
			uint8_t *ref = vec_hex(rc, "message", &n);

			r = cpns_proca_gw_input(gw, srv_id, ref, n, NOW,
						&gd.rng, &out, &out_len);
			free(ref);
		}
		tap_ok(r == CPNS_PROCA_FAILED && !out &&
			       gw->state == CPNS_PROCA_GW_FAILED &&
			       gw->status == CPNS_STATUS_REFUSED,
		       "refused: GW reports STATUS REFUSED and sends nothing");
		draws_free(&gd);
		draws_free(&sd);
	}

	/* S: wrong confirmP -> Abort AUTH_FAILED, pending deleted, failure */
	{
		uint8_t *bad = malloc(kcf_len);

		mock_reset();
		draws_init(&sd, vec_get(in, "server_random_draws"));
		cpns_proca_srv_init(srv, &cfg);
		cpns_proca_srv_input(srv, gw_id, kr1, kr1_len, NOW, &sd.rng,
				     &out, &out_len);
		cpns_proca_srv_input(srv, gw_id, kr2, kr2_len, NOW, &sd.rng,
				     &out, &out_len);
		memcpy(bad, kcf, kcf_len);
		bad[kcf_len - 1] ^= 0x80;
		r = cpns_proca_srv_input(srv, gw_id, bad, kcf_len, NOW + 1,
					 &sd.rng, &out, &out_len);
		tap_ok(r == CPNS_PROCA_ABORT &&
			       is_abort(out, out_len, CPNS_REASON_AUTH_FAILED,
					CPNS_MSG_KEY_CONFIRM) &&
			       !mk.pending && !mk.active && mk.failures == 1 &&
			       mk.last_failure_pending,
		       "S: wrong confirmP -> Abort AUTH_FAILED, pending EUKey deleted, failure counted");
		r = cpns_proca_srv_input(srv, gw_id, kcf, kcf_len, NOW + 2,
					 &sd.rng, &out, &out_len);
		tap_ok(r == CPNS_PROCA_IGNORE && !mk.active,
		       "S: the right KeyConfirm after a failure changes nothing");
		draws_free(&sd);
		free(bad);
	}

	/* S: no KeyConfirm within 60 s */
	mock_reset();
	draws_init(&sd, vec_get(in, "server_random_draws"));
	cpns_proca_srv_init(srv, &cfg);
	cpns_proca_srv_input(srv, gw_id, kr1, kr1_len, NOW, &sd.rng, &out,
			     &out_len);
	cpns_proca_srv_input(srv, gw_id, kr2, kr2_len, NOW, &sd.rng, &out,
			     &out_len);
	tap_ok(!cpns_proca_srv_tick(srv, NOW + 59) && mk.pending,
	       "S: pending EUKey kept for 59 s");
	tap_ok(cpns_proca_srv_tick(srv, NOW + 60) && !mk.pending &&
		       mk.failures == 1,
	       "S: pending EUKey deleted at 60 s, failure counted");
	r = cpns_proca_srv_input(srv, gw_id, kcf, kcf_len, NOW + 61, &sd.rng,
				 &out, &out_len);
	tap_ok(r == CPNS_PROCA_IGNORE && !mk.active,
	       "S: KeyConfirm after the timeout does not activate");
	draws_free(&sd);

	/* S: GW_ID differs from the record source */
	mock_reset();
	cpns_proca_srv_init(srv, &cfg);
	r = cpns_proca_srv_input(srv, srv_id, kr1, kr1_len, NOW, NULL, &out,
				 &out_len);
	tap_ok(r == CPNS_PROCA_ABORT &&
		       is_abort(out, out_len, CPNS_REASON_BAD_IDENTITY,
				CPNS_MSG_KEY_REQUEST1),
	       "S: GW_ID != record src -> Abort BAD_IDENTITY");

	/* S: a shareP that is not a P-256 point */
	{
		uint8_t *bad = malloc(kr2_len);

		mock_reset();
		cpns_proca_srv_init(srv, &cfg);
		cpns_proca_srv_input(srv, gw_id, kr1, kr1_len, NOW, NULL, &out,
				     &out_len);
		memcpy(bad, kr2, kr2_len);
		bad[kr2_len - 1] ^= 1;
		r = cpns_proca_srv_input(srv, gw_id, bad, kr2_len, NOW, NULL,
					 &out, &out_len);
		tap_ok(r == CPNS_PROCA_ABORT &&
			       is_abort(out, out_len, CPNS_REASON_MALFORMED,
					CPNS_MSG_KEY_REQUEST2) &&
			       mk.admits == 0 && !mk.pending,
		       "S: invalid shareP -> Abort MALFORMED, nothing stored");
		free(bad);
	}

	/* GW: tampered KeyDelivery (confirmV, then WRAPPED_KEY) */
	{
		uint8_t *bad = malloc(kd_len);
		size_t wk_off = 13 + 8 + 12 + 4; /* XID, KID, EXPIRY, WK hdr */

		memcpy(bad, kd, kd_len);
		bad[kd_len - 1] ^= 1;	/* last byte of CONFIRM_V */
		draws_init(&gd, vec_get(in, "gw_random_draws"));
		cpns_proca_gw_start(gw, gw_id, srv_id, (const uint8_t *)uid,
				    strlen(uid), (const uint8_t *)pw,
				    strlen(pw), &gd.rng, &out, &out_len);
		cpns_proca_gw_input(gw, srv_id, kc, kc_len, NOW, &gd.rng, &out,
				    &out_len);
		saved = realloc(saved, sizeof(*gw));
		memcpy(saved, gw, sizeof(*gw));
		r = cpns_proca_gw_input(gw, srv_id, bad, kd_len, NOW, &gd.rng,
					&out, &out_len);
		tap_ok(r == CPNS_PROCA_ABORT &&
			       is_abort(out, out_len, CPNS_REASON_AUTH_FAILED,
					CPNS_MSG_KEY_DELIVERY) &&
			       gw->state == CPNS_PROCA_GW_FAILED,
		       "GW: wrong confirmV -> Abort AUTH_FAILED");
		memcpy(gw, saved, sizeof(*gw));
		memcpy(bad, kd, kd_len);
		bad[wk_off] ^= 1;
		r = cpns_proca_gw_input(gw, srv_id, bad, kd_len, NOW, &gd.rng,
					&out, &out_len);
		tap_ok(r == CPNS_PROCA_ABORT &&
			       is_abort(out, out_len, CPNS_REASON_AUTH_FAILED,
					CPNS_MSG_KEY_DELIVERY),
		       "GW: unwrap failure (confirmV good) -> Abort AUTH_FAILED");
		memcpy(gw, saved, sizeof(*gw));
		memcpy(bad, kd, kd_len);
		bad[13 + 8 + 4 + 7] ^= 1;	/* EXPIRY: AAD mismatch */
		r = cpns_proca_gw_input(gw, srv_id, bad, kd_len, NOW, &gd.rng,
					&out, &out_len);
		tap_ok(r == CPNS_PROCA_ABORT &&
			       is_abort(out, out_len, CPNS_REASON_AUTH_FAILED,
					CPNS_MSG_KEY_DELIVERY),
		       "GW: a changed EXPIRY fails the AAD -> Abort AUTH_FAILED");
		draws_free(&gd);
		free(bad);
	}
	free(saved);
	free(kc);
	free(kd);
	free(ack);
	free(kr1);
	free(kr2);
	free(kcf);
	free(ks);
	free(th);
	cpns_proca_gw_wipe(gw);
	cpns_proca_srv_wipe(srv);
	free(gw);
	free(srv);
}

/* Cases 1 (unknown user) and 2 (wrong password). */
static void test_failing_run(unsigned int idx, const char *name,
			     const char *password, bool known)
{
	struct json_object *c = json_object_array_get_idx(vec_get(root, "cases"), idx);
	struct json_object *in = vec_get(c, "inputs"), *msgs = vec_get(c, "messages");
	struct json_object *c0in = vec_get(json_object_array_get_idx(vec_get(root, "cases"), 0), "inputs");
	const char *uid = vec_str(in, "user_id");
	struct cpns_proca_gw *gw = calloc(1, sizeof(*gw));
	struct cpns_proca_srv *srv = calloc(1, sizeof(*srv));
	size_t kr1_len, kr2_len, kc_len, kd_len;
	uint8_t *kr1 = msg_of(msgs, "KeyRequest1", &kr1_len);
	uint8_t *kr2 = msg_of(msgs, "KeyRequest2", &kr2_len);
	uint8_t *kc = msg_of(msgs, "KeyChallenge", &kc_len);
	uint8_t *kd = msg_of(msgs, "KeyDelivery", &kd_len);
	struct draws gd, sd;
	const uint8_t *out;
	size_t out_len;
	int r;

	if (!uid)
		uid = vec_str(c0in, "user_id");
	/* S side */
	mock_reset();
	draws_init(&sd, vec_get(in, "server_random_draws"));
	cpns_proca_srv_init(srv, &cfg);
	r = cpns_proca_srv_input(srv, gw_id, kr1, kr1_len, NOW, &sd.rng, &out,
				 &out_len);
	tap_ok(r == CPNS_PROCA_SEND && out_is(out, out_len, msgs, "KeyChallenge") &&
		       srv->known == known,
	       "%s S: KeyChallenge%s", name, known ? "" : " (stable fake salt)");
	if (!known)
		tap_ok(out_is(out + 17, 16, c, "fake_salt"),
		       "%s S: the fake salt of the vector", name);
	r = cpns_proca_srv_input(srv, gw_id, kr2, kr2_len, NOW, &sd.rng, &out,
				 &out_len);
	tap_ok(r == CPNS_PROCA_SEND && out_is(out, out_len, msgs, "KeyDelivery") &&
		       mk.admits == 1,
	       "%s S: KeyDelivery (STATUS OK form, lockout policy asked)", name);
	tap_ok(sd.rp.next == sd.rp.n, "%s S: every listed draw used", name);
	tap_ok(mk.pending == known && mk.pendings == (unsigned int)known &&
		       mk.decoys == (unsigned int)!known,
	       "%s S: EUKey pending only for a real user, the decoy write for an unknown one",
	       name);

	/* GW side */
	draws_init(&gd, vec_get(in, "gw_random_draws"));
	r = cpns_proca_gw_start(gw, gw_id, srv_id, (const uint8_t *)uid,
				strlen(uid), (const uint8_t *)password,
				strlen(password), &gd.rng, &out, &out_len);
	tap_ok(r == CPNS_PROCA_SEND && out_is(out, out_len, msgs, "KeyRequest1"),
	       "%s GW: KeyRequest1", name);
	r = cpns_proca_gw_input(gw, srv_id, kc, kc_len, NOW, &gd.rng, &out,
				&out_len);
	tap_ok(r == CPNS_PROCA_SEND && out_is(out, out_len, msgs, "KeyRequest2"),
	       "%s GW: KeyRequest2", name);
	r = cpns_proca_gw_input(gw, srv_id, kd, kd_len, NOW, &gd.rng, &out,
				&out_len);
	tap_ok(r == CPNS_PROCA_ABORT &&
		       is_abort(out, out_len, CPNS_REASON_AUTH_FAILED,
				CPNS_MSG_KEY_DELIVERY) &&
		       gw->state == CPNS_PROCA_GW_FAILED,
	       "%s GW: Abort AUTH_FAILED (confirmV mismatch)", name);
	{
		static const uint8_t zero[32];

		tap_ok(!memcmp(gw->eukey, zero, 32) && gw->kconf.len == 0,
		       "%s GW: no EUKey, no KeyConfirm", name);
	}

	/* the GW's Abort reaches S: failure counted, pending deleted */
	{
		uint8_t ab[64];

		memcpy(ab, out, out_len);
		r = cpns_proca_srv_input(srv, gw_id, ab, out_len, NOW + 1,
					 &sd.rng, &out, &out_len);
		tap_ok(r == CPNS_PROCA_FAILED && !out && mk.failures == 1 &&
			       !mk.pending && !mk.active,
		       "%s S: GW's Abort ends it, failure counted, never active",
		       name);
	}
	draws_free(&gd);
	draws_free(&sd);
	free(kr1);
	free(kr2);
	free(kc);
	free(kd);
	cpns_proca_gw_wipe(gw);
	free(gw);
	free(srv);
}

static void test_scrypt_negative(void)
{
	struct json_object *neg = vec_get(root, "scrypt_negative");
	size_t i, n = json_object_array_length(neg);
	struct cpns_proca_gw *gw = calloc(1, sizeof(*gw));

	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(neg, i);
		size_t kr1_len, kc_len, out_len;
		uint8_t *kr1 = msg_of(c, "KeyRequest1", &kr1_len);
		uint8_t *kc = msg_of(c, "KeyChallenge", &kc_len);
		const uint8_t *out;
		/* only the XID is listed: any further draw fails -ERANGE */
		const uint8_t *d[1] = { kr1 + 5 };
		size_t l[1] = { 8 };
		struct cpns_rng rng;
		struct cpns_rng_replay rp;
		int r1, r2;

		cpns_rng_replay_init(&rng, &rp, d, l, 1);
		r1 = cpns_proca_gw_start(gw, gw_id, srv_id,
					 (const uint8_t *)"alice@example.net",
					 17, (const uint8_t *)"pw", 2, &rng,
					 &out, &out_len);
		r1 = r1 == CPNS_PROCA_SEND && hex_eq(out, out_len, kr1, kr1_len);
		r2 = cpns_proca_gw_input(gw, srv_id, kc, kc_len, NOW, &rng,
					 &out, &out_len);
		tap_ok(r1 && r2 == CPNS_PROCA_ABORT &&
			       is_abort(out, out_len, CPNS_REASON_REFUSED,
					CPNS_MSG_KEY_CHALLENGE) &&
			       rp.next == 1 && gw->password_len == 0,
		       "scrypt_negative logN=%d r=%d p=%d: Abort REFUSED before scrypt",
		       (int)vec_int(c, "logN"), (int)vec_int(c, "r"),
		       (int)vec_int(c, "p"));
		free(kr1);
		free(kc);
	}
	free(gw);
}

int main(void)
{
	struct json_object *c0, *in;
	uint8_t *b;
	size_t n;

	tap_start();
	root = vec_load("procedure_a.json");
	c0 = json_object_array_get_idx(vec_get(root, "cases"), 0);
	in = vec_get(c0, "inputs");
	b = vec_hex(in, "gw_id", &n);
	memcpy(gw_id, b, 16);
	free(b);
	b = vec_hex(in, "server_id", &n);
	memcpy(srv_id, b, 16);
	free(b);

	test_fake_record();
	test_scrypt_negative();
	test_good_run();
	test_failing_run(1, "unknown user", vec_str(in, "password"), false);
	test_failing_run(2, "wrong password",
			 vec_str(vec_get(json_object_array_get_idx(
					     vec_get(root, "cases"), 2),
					 "inputs"), "password"),
			 true);
	json_object_put(root);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Procedure A engines (PROTOCOL.md 6): GW and S state machines over the
 * strict TLV codec and SPAKE2+. See cpns_proca.h for the contract.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpns_crypto.h"
#include "cpns_id.h"
#include "cpns_proca.h"
#include "cpns_spake2p.h"
#include "cpns_tlv.h"

#define CONTEXT_PREFIX		"cpns1 A"
#define CONTEXT_LEN		(7 + CPNS_ID_LEN)

typedef struct cpns_proca_gw_msgbuf msgbuf_t;

/* ---- shared pieces ---------------------------------------------------- */

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get_be64(const uint8_t *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

int cpns_proca_fake_record(const uint8_t secret[32], const uint8_t *uid,
			   size_t uid_len, unsigned int log2n,
			   struct cpns_proca_verifier *v)
{
	static const char fs[] = "cpns1 fake salt";
	static const char fv[] = "cpns1 fake verifier";
	uint8_t buf[sizeof(fv) - 1 + CPNS_USER_ID_MAX], h[CPNS_HASH_LEN];
	uint8_t ws[CPNS_SPAKE2P_WS_LEN], w1[CPNS_SPAKE2P_SCALAR_LEN];
	int ret;

	if (!uid_len || uid_len > CPNS_USER_ID_MAX ||
	    !cpns_scrypt_params_allowed(log2n, CPNS_SCRYPT_R, CPNS_SCRYPT_P))
		return -EINVAL;
	memset(v, 0, sizeof(*v));
	memcpy(buf, fs, sizeof(fs) - 1);
	memcpy(buf + sizeof(fs) - 1, uid, uid_len);
	ret = cpns_hmac_sha256(secret, 32, buf, sizeof(fs) - 1 + uid_len, h);
	if (ret)
		goto out;
	memcpy(v->salt, h, CPNS_PROCA_SALT_LEN);
	memcpy(buf, fv, sizeof(fv) - 1);
	memcpy(buf + sizeof(fv) - 1, uid, uid_len);
	ret = cpns_hmac_sha256(secret, 32, buf, sizeof(fv) - 1 + uid_len, h);
	if (!ret)
		ret = cpns_hkdf_expand(h, sizeof(h), NULL, 0, ws, sizeof(ws));
	if (!ret)
		ret = cpns_spake2p_w_from_ws(ws, v->w0, w1);
	if (!ret)
		ret = cpns_spake2p_compute_l(w1, v->l);
	v->log2n = log2n;
	v->r = CPNS_SCRYPT_R;
	v->p = CPNS_SCRYPT_P;
out:
	cpns_wipe(h, sizeof(h));
	cpns_wipe(ws, sizeof(ws));
	cpns_wipe(w1, sizeof(w1));
	if (ret)
		cpns_wipe(v, sizeof(*v));
	return ret;
}

int cpns_proca_wrap_key(const uint8_t k_shared[32], const uint8_t th[32],
			uint8_t k_wrap[32])
{
	return cpns_expand_label(k_shared, "eukey wrap", th, CPNS_HASH_LEN,
				 k_wrap, CPNS_KEY_LEN);
}

size_t cpns_proca_wrap_aad(const uint8_t gw_id[CPNS_ID_LEN],
			   const uint8_t *uid, size_t uid_len, uint32_t kid,
			   uint64_t expiry,
			   uint8_t aad[CPNS_ID_LEN + CPNS_USER_ID_MAX + 12])
{
	size_t n = 0;

	memcpy(aad, gw_id, CPNS_ID_LEN);
	n += CPNS_ID_LEN;
	memcpy(aad + n, uid, uid_len);
	n += uid_len;
	put_be32(aad + n, kid);
	n += 4;
	put_be32(aad + n, (uint32_t)(expiry >> 32));
	put_be32(aad + n + 4, (uint32_t)expiry);
	return n + 8;
}

static void make_context(const uint8_t gw_id[CPNS_ID_LEN],
			 uint8_t ctx[CONTEXT_LEN])
{
	memcpy(ctx, CONTEXT_PREFIX, 7);
	memcpy(ctx + 7, gw_id, CPNS_ID_LEN);
}

/* TH_A = SHA-256(KeyRequest1 || KeyChallenge || KeyRequest2) */
static int th_a(const msgbuf_t *kr1, const msgbuf_t *kc, const uint8_t *kr2,
		size_t kr2_len, uint8_t th[CPNS_HASH_LEN])
{
	const struct cpns_iov iov[3] = {
		{ kr1->b, kr1->len }, { kc->b, kc->len }, { kr2, kr2_len },
	};

	return cpns_sha256_iov(iov, 3, th);
}

static const uint8_t *tlv_val(const struct cpns_msg *m, uint16_t type)
{
	const struct cpns_tlv *t = cpns_msg_find(m, NULL, type);

	return t ? t->value : NULL;
}

static bool msgbuf_eq(const msgbuf_t *b, const uint8_t *msg, size_t len)
{
	return b->len && b->len == len && !memcmp(b->b, msg, len);
}

static void msgbuf_set(msgbuf_t *b, const uint8_t *msg, size_t len)
{
	memcpy(b->b, msg, len);
	b->len = len;
}

static int build_abort(msgbuf_t *b, const uint8_t xid[CPNS_XID_LEN],
		       uint8_t reason, uint8_t msg_ref)
{
	struct cpns_enc enc;

	cpns_enc_init(&enc, b->b, sizeof(b->b), CPNS_MSG_ABORT);
	cpns_enc_put(&enc, CPNS_TLV_XID, xid, CPNS_XID_LEN);
	cpns_enc_u8(&enc, CPNS_TLV_REASON, reason);
	cpns_enc_u8(&enc, CPNS_TLV_MSG_REF, msg_ref);
	return cpns_enc_finish(&enc, &b->len, NULL);
}

static void set_out(const uint8_t **out, size_t *out_len, const msgbuf_t *b)
{
	*out = b->b;
	*out_len = b->len;
}

/*
 * Decode a message for an exchange; returns the decoder's result and the
 * message in *pm (caller frees). Oversize messages count as dropped.
 */
static int decode(const uint8_t *msg, size_t len, struct cpns_msg **pm)
{
	struct cpns_msg *m;
	int r;

	*pm = NULL;
	if (!msg || len > CPNS_PROCA_MSG_MAX)
		return CPNS_DECODE_DROP;
	m = malloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	r = cpns_msg_decode(msg, len, m, NULL);
	if (r == CPNS_DECODE_DROP || (r > 0 && !m->xid)) {
		free(m);
		return CPNS_DECODE_DROP;
	}
	*pm = m;
	return r;
}

/* ---- GW side ---------------------------------------------------------- */

static void gw_wipe_secrets(struct cpns_proca_gw *gw)
{
	cpns_wipe(gw->password, sizeof(gw->password));
	gw->password_len = 0;
	cpns_wipe(gw->w0, sizeof(gw->w0));
	cpns_wipe(gw->w1, sizeof(gw->w1));
	cpns_wipe(gw->x, sizeof(gw->x));
}

void cpns_proca_gw_wipe(struct cpns_proca_gw *gw)
{
	cpns_wipe(gw, sizeof(*gw));
}

const uint8_t *cpns_proca_gw_last(const struct cpns_proca_gw *gw,
				  size_t *len)
{
	*len = gw->last_len;
	return gw->last;
}

static void gw_sent(struct cpns_proca_gw *gw, const msgbuf_t *b,
		    const uint8_t **out, size_t *out_len)
{
	gw->last = b->b;
	gw->last_len = b->len;
	set_out(out, out_len, b);
}

/* Send an Abort and end the exchange; the EUKey, if any, is discarded. */
static int gw_fail(struct cpns_proca_gw *gw, uint8_t reason, uint8_t msg_ref,
		   const uint8_t **out, size_t *out_len)
{
	gw_wipe_secrets(gw);
	cpns_wipe(gw->eukey, sizeof(gw->eukey));
	gw->state = CPNS_PROCA_GW_FAILED;
	gw->reason = reason;
	gw->last = NULL;
	gw->last_len = 0;
	if (build_abort(&gw->abort, gw->xid, reason, msg_ref))
		return CPNS_PROCA_ABORT;	/* cannot happen: fixed sizes */
	set_out(out, out_len, &gw->abort);
	return CPNS_PROCA_ABORT;
}

int cpns_proca_gw_start(struct cpns_proca_gw *gw,
			const uint8_t gw_id[CPNS_ID_LEN],
			const uint8_t server_id[CPNS_ID_LEN],
			const uint8_t *uid, size_t uid_len,
			const uint8_t *password, size_t password_len,
			const struct cpns_rng *rng, const uint8_t **out,
			size_t *out_len)
{
	struct cpns_enc enc;
	int ret;

	*out = NULL;
	*out_len = 0;
	memset(gw, 0, sizeof(*gw));
	if (!uid_len || uid_len > CPNS_USER_ID_MAX ||
	    password_len > CPNS_PROCA_PASSWORD_MAX || !cpns_id_valid(gw_id) ||
	    !cpns_id_valid(server_id))
		return -EINVAL;
	ret = cpns_random(rng, gw->xid, CPNS_XID_LEN);
	if (ret)
		return ret;
	memcpy(gw->gw_id, gw_id, CPNS_ID_LEN);
	memcpy(gw->server_id, server_id, CPNS_ID_LEN);
	memcpy(gw->uid, uid, uid_len);
	gw->uid_len = uid_len;
	if (password_len)
		memcpy(gw->password, password, password_len);
	gw->password_len = password_len;

	cpns_enc_init(&enc, gw->kr1.b, sizeof(gw->kr1.b),
		      CPNS_MSG_KEY_REQUEST1);
	cpns_enc_put(&enc, CPNS_TLV_XID, gw->xid, CPNS_XID_LEN);
	cpns_enc_put(&enc, CPNS_TLV_USER_ID, uid, uid_len);
	cpns_enc_put(&enc, CPNS_TLV_GW_ID, gw_id, CPNS_ID_LEN);
	ret = cpns_enc_finish(&enc, &gw->kr1.len, NULL);
	if (ret) {
		cpns_proca_gw_wipe(gw);
		return ret;
	}
	gw->state = CPNS_PROCA_GW_WAIT_CHALLENGE;
	gw_sent(gw, &gw->kr1, out, out_len);
	return CPNS_PROCA_SEND;
}

static int gw_on_challenge(struct cpns_proca_gw *gw, const struct cpns_msg *m,
			   const struct cpns_rng *rng, const uint8_t **out,
			   size_t *out_len)
{
	const uint8_t *salt = tlv_val(m, CPNS_TLV_SALT);
	const uint8_t *params = tlv_val(m, CPNS_TLV_SCRYPT_PARAMS);
	uint8_t rnd[CPNS_SPAKE2P_RAND_LEN], x[CPNS_SPAKE2P_SCALAR_LEN];
	uint8_t w0[CPNS_SPAKE2P_SCALAR_LEN], w1[CPNS_SPAKE2P_SCALAR_LEN];
	uint8_t share_p[CPNS_SPAKE2P_POINT_LEN];
	struct cpns_enc enc;
	unsigned int log2n;
	uint32_t r, p;
	int ret;

	/* 6.4 GW step 2: refuse other parameter sets before any scrypt */
	if (cpns_scrypt_params_decode(params, &log2n, &r, &p))
		return gw_fail(gw, CPNS_REASON_REFUSED, CPNS_MSG_KEY_CHALLENGE,
			       out, out_len);
	ret = cpns_random(rng, rnd, sizeof(rnd));
	if (!ret)
		ret = cpns_spake2p_scalar_from_random(rnd, x);
	if (!ret)
		ret = cpns_spake2p_register(gw->password, gw->password_len,
					    salt, CPNS_PROCA_SALT_LEN, log2n, r,
					    p, w0, w1, NULL);
	if (!ret)
		ret = cpns_spake2p_prover_share(w0, x, share_p);
	if (!ret) {
		cpns_enc_init(&enc, gw->kr2.b, sizeof(gw->kr2.b),
			      CPNS_MSG_KEY_REQUEST2);
		cpns_enc_put(&enc, CPNS_TLV_XID, gw->xid, CPNS_XID_LEN);
		cpns_enc_put(&enc, CPNS_TLV_SHARE_P, share_p, sizeof(share_p));
		ret = cpns_enc_finish(&enc, &gw->kr2.len, NULL);
	}
	cpns_wipe(rnd, sizeof(rnd));
	if (ret) {
		/* local failure: the state stays as it was */
		gw->kr2.len = 0;
		cpns_wipe(x, sizeof(x));
		cpns_wipe(w0, sizeof(w0));
		cpns_wipe(w1, sizeof(w1));
		return ret;
	}
	memcpy(gw->x, x, sizeof(x));
	memcpy(gw->w0, w0, sizeof(w0));
	memcpy(gw->w1, w1, sizeof(w1));
	memcpy(gw->share_p, share_p, sizeof(share_p));
	cpns_wipe(x, sizeof(x));
	cpns_wipe(w0, sizeof(w0));
	cpns_wipe(w1, sizeof(w1));
	/* the password is needed for nothing else */
	cpns_wipe(gw->password, sizeof(gw->password));
	gw->password_len = 0;
	msgbuf_set(&gw->kc, m->raw, m->raw_len);
	gw->state = CPNS_PROCA_GW_WAIT_DELIVERY;
	gw_sent(gw, &gw->kr2, out, out_len);
	return CPNS_PROCA_SEND;
}

static int gw_on_delivery(struct cpns_proca_gw *gw, const struct cpns_msg *m,
			  const uint8_t **out, size_t *out_len)
{
	const uint8_t *status = tlv_val(m, CPNS_TLV_STATUS);
	const uint8_t *kid = tlv_val(m, CPNS_TLV_KID);
	const uint8_t *expiry = tlv_val(m, CPNS_TLV_EXPIRY);
	const uint8_t *wrapped = tlv_val(m, CPNS_TLV_WRAPPED_KEY);
	const uint8_t *share_v = tlv_val(m, CPNS_TLV_SHARE_V);
	const uint8_t *confirm_v = tlv_val(m, CPNS_TLV_CONFIRM_V);
	uint8_t ctx[CONTEXT_LEN], k_wrap[CPNS_KEY_LEN], eukey[CPNS_KEY_LEN];
	uint8_t aad[CPNS_ID_LEN + CPNS_USER_ID_MAX + 12];
	static const uint8_t nonce[CPNS_IV_LEN];
	struct cpns_spake2p_ids ids = {
		ctx, sizeof(ctx), gw->uid, gw->uid_len, gw->server_id,
		CPNS_ID_LEN,
	};
	struct cpns_spake2p_keys keys;
	struct cpns_enc enc;
	size_t aad_len;
	int ret;

	if (*status != CPNS_STATUS_OK) {
		/* 6.2: a refusal carries only XID and STATUS */
		if (kid || expiry || wrapped || share_v || confirm_v)
			return gw_fail(gw, CPNS_REASON_MALFORMED,
				       CPNS_MSG_KEY_DELIVERY, out, out_len);
		gw_wipe_secrets(gw);
		gw->state = CPNS_PROCA_GW_FAILED;
		gw->status = *status;
		gw->last = NULL;
		gw->last_len = 0;
		return CPNS_PROCA_FAILED;
	}
	if (!kid || !expiry || !wrapped || !share_v || !confirm_v)
		return gw_fail(gw, CPNS_REASON_MISSING_TLV,
			       CPNS_MSG_KEY_DELIVERY, out, out_len);
	if (!cpns_spake2p_point_valid(share_v))
		return gw_fail(gw, CPNS_REASON_MALFORMED, CPNS_MSG_KEY_DELIVERY,
			       out, out_len);
	make_context(gw->gw_id, ctx);
	ret = cpns_spake2p_prover_finish(&ids, gw->w0, gw->w1, gw->x,
					 gw->share_p, share_v, &keys);
	if (ret == -EINVAL) /* Z or V the identity: shareV = w0*N */
		return gw_fail(gw, CPNS_REASON_MALFORMED, CPNS_MSG_KEY_DELIVERY,
			       out, out_len);
	if (ret)
		return ret;
	/* 6.4 GW step 3: confirmV first, nothing else before it */
	if (!cpns_memeq(keys.confirm_v, confirm_v, CPNS_HASH_LEN)) {
		cpns_wipe(&keys, sizeof(keys));
		return gw_fail(gw, CPNS_REASON_AUTH_FAILED,
			       CPNS_MSG_KEY_DELIVERY, out, out_len);
	}
	ret = th_a(&gw->kr1, &gw->kc, gw->kr2.b, gw->kr2.len, gw->th);
	if (!ret)
		ret = cpns_proca_wrap_key(keys.k_shared, gw->th, k_wrap);
	if (ret) {
		cpns_wipe(&keys, sizeof(keys));
		return ret;
	}
	aad_len = cpns_proca_wrap_aad(gw->gw_id, gw->uid, gw->uid_len,
				      get_be32(kid), get_be64(expiry), aad);
	ret = cpns_aead_open(CPNS_SUITE_AES256GCM, k_wrap, nonce, aad, aad_len,
			     wrapped, CPNS_PROCA_WRAPPED_LEN, eukey);
	cpns_wipe(k_wrap, sizeof(k_wrap));
	if (ret) {
		cpns_wipe(&keys, sizeof(keys));
		cpns_wipe(eukey, sizeof(eukey));
		return gw_fail(gw, CPNS_REASON_AUTH_FAILED,
			       CPNS_MSG_KEY_DELIVERY, out, out_len);
	}
	cpns_enc_init(&enc, gw->kconf.b, sizeof(gw->kconf.b),
		      CPNS_MSG_KEY_CONFIRM);
	cpns_enc_put(&enc, CPNS_TLV_XID, gw->xid, CPNS_XID_LEN);
	cpns_enc_put(&enc, CPNS_TLV_CONFIRM_P, keys.confirm_p, CPNS_HASH_LEN);
	ret = cpns_enc_finish(&enc, &gw->kconf.len, NULL);
	cpns_wipe(&keys, sizeof(keys));
	if (ret) {
		cpns_wipe(eukey, sizeof(eukey));
		gw->kconf.len = 0;
		return ret;
	}
	memcpy(gw->eukey, eukey, sizeof(eukey));
	cpns_wipe(eukey, sizeof(eukey));
	gw->kid = get_be32(kid);
	gw->expiry = get_be64(expiry);
	gw_wipe_secrets(gw);
	msgbuf_set(&gw->kd, m->raw, m->raw_len);
	gw->state = CPNS_PROCA_GW_WAIT_ACK;
	gw_sent(gw, &gw->kconf, out, out_len);
	return CPNS_PROCA_SEND;
}

int cpns_proca_gw_input(struct cpns_proca_gw *gw,
			const uint8_t src[CPNS_ID_LEN], const uint8_t *msg,
			size_t len, uint64_t now, const struct cpns_rng *rng,
			const uint8_t **out, size_t *out_len)
{
	struct cpns_msg *m;
	uint8_t type;
	int r, ret = CPNS_PROCA_IGNORE;

	(void)now;
	*out = NULL;
	*out_len = 0;
	if (gw->state == CPNS_PROCA_GW_IDLE ||
	    gw->state == CPNS_PROCA_GW_DONE ||
	    gw->state == CPNS_PROCA_GW_FAILED ||
	    memcmp(src, gw->server_id, CPNS_ID_LEN))
		return CPNS_PROCA_IGNORE;
	r = decode(msg, len, &m);
	if (r < 0)
		return r == CPNS_DECODE_DROP ? CPNS_PROCA_IGNORE : r;
	if (memcmp(m->xid, gw->xid, CPNS_XID_LEN))
		goto out;
	type = m->msg_type;
	if (r > 0) {
		/* an Abort or Ack is never answered */
		if (type != CPNS_MSG_ABORT && type != CPNS_MSG_ACK)
			ret = gw_fail(gw, (uint8_t)r, type, out, out_len);
		goto out;
	}
	switch (type) {
	case CPNS_MSG_ABORT:
		/* unauthenticated: ends the exchange, touches nothing stored */
		gw_wipe_secrets(gw);
		cpns_wipe(gw->eukey, sizeof(gw->eukey));
		gw->state = CPNS_PROCA_GW_FAILED;
		gw->reason = *tlv_val(m, CPNS_TLV_REASON);
		gw->last = NULL;
		gw->last_len = 0;
		ret = CPNS_PROCA_FAILED;
		break;
	case CPNS_MSG_ACK:
		if (gw->state == CPNS_PROCA_GW_WAIT_ACK &&
		    *tlv_val(m, CPNS_TLV_MSG_REF) == CPNS_MSG_KEY_CONFIRM) {
			gw->state = CPNS_PROCA_GW_DONE;
			gw->last = NULL;
			gw->last_len = 0;
			ret = CPNS_PROCA_DONE;
		}
		break;
	case CPNS_MSG_KEY_CHALLENGE:
		if (gw->state == CPNS_PROCA_GW_WAIT_CHALLENGE)
			ret = gw_on_challenge(gw, m, rng, out, out_len);
		else if (msgbuf_eq(&gw->kc, msg, len))
			ret = (set_out(out, out_len, &gw->kr2), CPNS_PROCA_SEND);
		break;
	case CPNS_MSG_KEY_DELIVERY:
		if (gw->state == CPNS_PROCA_GW_WAIT_DELIVERY)
			ret = gw_on_delivery(gw, m, out, out_len);
		else if (msgbuf_eq(&gw->kd, msg, len))
			ret = (set_out(out, out_len, &gw->kconf),
			       CPNS_PROCA_SEND);
		else if (gw->state == CPNS_PROCA_GW_WAIT_CHALLENGE)
			ret = gw_fail(gw, CPNS_REASON_UNEXPECTED_MESSAGE, type,
				      out, out_len);
		break;
	default:
		/* a message S never sends in procedure A */
		ret = gw_fail(gw, CPNS_REASON_UNEXPECTED_MESSAGE, type, out,
			      out_len);
		break;
	}
out:
	free(m);
	return ret;
}

/* ---- S side ----------------------------------------------------------- */

void cpns_proca_srv_init(struct cpns_proca_srv *srv,
			 const struct cpns_proca_srv_cfg *cfg)
{
	memset(srv, 0, sizeof(*srv));
	srv->cfg = cfg;
}

void cpns_proca_srv_wipe(struct cpns_proca_srv *srv)
{
	cpns_wipe(srv, sizeof(*srv));
}

static bool srv_terminal(const struct cpns_proca_srv *srv)
{
	return srv->state == CPNS_PROCA_SRV_DONE ||
	       srv->state == CPNS_PROCA_SRV_REFUSED ||
	       srv->state == CPNS_PROCA_SRV_FAILED;
}

/* A failed attempt after KeyDelivery: pending EUKey gone, failure counted. */
static void srv_count_failure(struct cpns_proca_srv *srv, uint64_t now)
{
	const struct cpns_proca_srv_cfg *cfg = srv->cfg;

	if (cfg->ops && cfg->ops->failure)
		cfg->ops->failure(cfg->ctx, srv->uid, srv->uid_len, srv->gw_id,
				  srv->known, srv->kid, now);
}

static int srv_fail(struct cpns_proca_srv *srv, const uint8_t *xid,
		    uint8_t reason, uint8_t msg_ref, uint64_t now,
		    const uint8_t **out, size_t *out_len)
{
	if (srv->state == CPNS_PROCA_SRV_WAIT_CONFIRM)
		srv_count_failure(srv, now);
	srv->state = CPNS_PROCA_SRV_FAILED;
	srv->reason = reason;
	cpns_wipe(&srv->v, sizeof(srv->v));
	cpns_wipe(srv->confirm_p, sizeof(srv->confirm_p));
	if (!build_abort(&srv->abort, xid, reason, msg_ref))
		set_out(out, out_len, &srv->abort);
	return CPNS_PROCA_ABORT;
}

static int srv_on_kr1(struct cpns_proca_srv *srv, const uint8_t *src,
		      const struct cpns_msg *m, uint64_t now,
		      const uint8_t **out, size_t *out_len)
{
	const struct cpns_proca_srv_cfg *cfg = srv->cfg;
	const struct cpns_tlv *uid = cpns_msg_find(m, NULL, CPNS_TLV_USER_ID);
	const uint8_t *gw_id = tlv_val(m, CPNS_TLV_GW_ID);
	uint8_t params[CPNS_SCRYPT_PARAMS_LEN];
	struct cpns_proca_verifier v, fake;
	struct cpns_enc enc;
	int ret, fake_ret;

	/* 6.4 S step 1: GW_ID is the record's source */
	if (memcmp(gw_id, src, CPNS_ID_LEN) || !cpns_id_valid(gw_id))
		return srv_fail(srv, m->xid, CPNS_REASON_BAD_IDENTITY,
				CPNS_MSG_KEY_REQUEST1, now, out, out_len);
	/* made for every UserID and used for an unknown one, so that the
	 * reply takes as long for both (6.4 S1)
	 */
	fake_ret = cpns_proca_fake_record(cfg->server_secret, uid->value,
					  uid->len, cfg->log2n, &fake);
	ret = cfg->ops->lookup(cfg->ctx, uid->value, uid->len, &v);
	if (ret == -ENOENT) {
		ret = fake_ret;
		v = fake;
		srv->known = false;
	} else if (!ret) {
		srv->known = true;
		if (!cpns_scrypt_params_allowed(v.log2n, v.r, v.p) ||
		    !cpns_spake2p_point_valid(v.l)) {
			cpns_wipe(&v, sizeof(v));
			cpns_wipe(&fake, sizeof(fake));
			return srv_fail(srv, m->xid,
					CPNS_REASON_INTERNAL_ERROR,
					CPNS_MSG_KEY_REQUEST1, now, out,
					out_len);
		}
	}
	cpns_wipe(&fake, sizeof(fake));
	if (ret) {
		cpns_wipe(&v, sizeof(v));
		return ret;
	}
	params[0] = (uint8_t)v.log2n;
	put_be32(params + 1, v.r);
	put_be32(params + 5, v.p);
	cpns_enc_init(&enc, srv->kc.b, sizeof(srv->kc.b),
		      CPNS_MSG_KEY_CHALLENGE);
	cpns_enc_put(&enc, CPNS_TLV_XID, m->xid, CPNS_XID_LEN);
	cpns_enc_put(&enc, CPNS_TLV_SALT, v.salt, CPNS_PROCA_SALT_LEN);
	cpns_enc_put(&enc, CPNS_TLV_SCRYPT_PARAMS, params, sizeof(params));
	ret = cpns_enc_finish(&enc, &srv->kc.len, NULL);
	if (ret) {
		cpns_wipe(&v, sizeof(v));
		srv->kc.len = 0;
		return ret;
	}
	srv->v = v;
	cpns_wipe(&v, sizeof(v));
	memcpy(srv->xid, m->xid, CPNS_XID_LEN);
	memcpy(srv->gw_id, gw_id, CPNS_ID_LEN);
	memcpy(srv->uid, uid->value, uid->len);
	srv->uid_len = uid->len;
	msgbuf_set(&srv->kr1, m->raw, m->raw_len);
	srv->t_last = now;
	srv->state = CPNS_PROCA_SRV_WAIT_KR2;
	set_out(out, out_len, &srv->kc);
	return CPNS_PROCA_SEND;
}

static int srv_on_kr2(struct cpns_proca_srv *srv, const struct cpns_msg *m,
		      uint64_t now, const struct cpns_rng *rng,
		      const uint8_t **out, size_t *out_len)
{
	const struct cpns_proca_srv_cfg *cfg = srv->cfg;
	const uint8_t *share_p = tlv_val(m, CPNS_TLV_SHARE_P);
	uint8_t rnd[CPNS_SPAKE2P_RAND_LEN], y[CPNS_SPAKE2P_SCALAR_LEN];
	uint8_t eukey[CPNS_KEY_LEN], wrapped[CPNS_PROCA_WRAPPED_LEN];
	uint8_t unused[CPNS_PROCA_WRAPPED_LEN];
	uint8_t share_v[CPNS_SPAKE2P_POINT_LEN], ctx[CONTEXT_LEN];
	uint8_t th[CPNS_HASH_LEN], k_wrap[CPNS_KEY_LEN];
	uint8_t aad[CPNS_ID_LEN + CPNS_USER_ID_MAX + 12];
	static const uint8_t nonce[CPNS_IV_LEN];
	struct cpns_spake2p_ids ids = {
		ctx, sizeof(ctx), srv->uid, srv->uid_len, cfg->server_id,
		CPNS_ID_LEN,
	};
	struct cpns_spake2p_keys keys;
	struct cpns_enc enc;
	uint64_t expiry;
	uint32_t kid = 0;
	size_t aad_len = 0;
	int ret;

	if (!cpns_spake2p_point_valid(share_p))
		return srv_fail(srv, srv->xid, CPNS_REASON_MALFORMED,
				CPNS_MSG_KEY_REQUEST2, now, out, out_len);
	ret = cfg->ops->admit(cfg->ctx, srv->uid, srv->uid_len, srv->gw_id,
			      srv->known, now);
	if (ret < 0)
		return ret;
	if (ret) {
		/* 6.4 S step 2: the same refusal for every cause */
		cpns_enc_init(&enc, srv->kd.b, sizeof(srv->kd.b),
			      CPNS_MSG_KEY_DELIVERY);
		cpns_enc_put(&enc, CPNS_TLV_XID, srv->xid, CPNS_XID_LEN);
		cpns_enc_u8(&enc, CPNS_TLV_STATUS, CPNS_STATUS_REFUSED);
		ret = cpns_enc_finish(&enc, &srv->kd.len, NULL);
		if (ret)
			return ret;
		msgbuf_set(&srv->kr2, m->raw, m->raw_len);
		cpns_wipe(&srv->v, sizeof(srv->v));
		srv->state = CPNS_PROCA_SRV_REFUSED;
		set_out(out, out_len, &srv->kd);
		return CPNS_PROCA_FAILED;
	}
	make_context(srv->gw_id, ctx);
	expiry = now + cfg->eukey_lifetime;
	ret = cpns_random(rng, rnd, sizeof(rnd));
	if (!ret)
		ret = cpns_spake2p_scalar_from_random(rnd, y);
	if (!ret)
		ret = cpns_random(rng, eukey, sizeof(eukey));
	if (!ret && !srv->known)
		ret = cpns_random(rng, wrapped, sizeof(wrapped));
	if (!ret)
		ret = cpns_spake2p_verifier_finish(&ids, srv->v.w0, srv->v.l, y,
						   share_p, share_v, &keys);
	if (ret == -EINVAL) { /* Z the identity: shareP = w0*M */
		ret = srv_fail(srv, srv->xid, CPNS_REASON_MALFORMED,
			       CPNS_MSG_KEY_REQUEST2, now, out, out_len);
		goto wipe;
	}
	if (!ret)
		ret = cfg->ops->next_kid(cfg->ctx, srv->gw_id, &kid);
	if (!ret)
		ret = th_a(&srv->kr1, &srv->kc, m->raw, m->raw_len, th);
	/* an unknown UserID's WRAPPED_KEY is random (the vectors' draw); the
	 * same wrap is computed and thrown away, for the same time
	 */
	if (!ret) {
		ret = cpns_proca_wrap_key(keys.k_shared, th, k_wrap);
		aad_len = cpns_proca_wrap_aad(srv->gw_id, srv->uid,
					      srv->uid_len, kid, expiry, aad);
		if (!ret)
			ret = cpns_aead_seal(CPNS_SUITE_AES256GCM, k_wrap,
					     nonce, aad, aad_len, eukey,
					     sizeof(eukey),
					     srv->known ? wrapped : unused);
	}
	if (!ret) {
		cpns_enc_init(&enc, srv->kd.b, sizeof(srv->kd.b),
			      CPNS_MSG_KEY_DELIVERY);
		cpns_enc_put(&enc, CPNS_TLV_XID, srv->xid, CPNS_XID_LEN);
		cpns_enc_u32(&enc, CPNS_TLV_KID, kid);
		cpns_enc_u64(&enc, CPNS_TLV_EXPIRY, expiry);
		cpns_enc_put(&enc, CPNS_TLV_WRAPPED_KEY, wrapped,
			     sizeof(wrapped));
		cpns_enc_u8(&enc, CPNS_TLV_STATUS, CPNS_STATUS_OK);
		cpns_enc_put(&enc, CPNS_TLV_SHARE_V, share_v, sizeof(share_v));
		cpns_enc_put(&enc, CPNS_TLV_CONFIRM_V, keys.confirm_v,
			     CPNS_HASH_LEN);
		ret = cpns_enc_finish(&enc, &srv->kd.len, NULL);
	}
	/* the EUKey is stored only once the reply exists, and only pending;
	 * for an unknown UserID, a write of the same kind
	 */
	if (!ret)
		ret = srv->known ?
			cfg->ops->pending(cfg->ctx, srv->uid, srv->uid_len,
					  srv->gw_id, kid, expiry, eukey, now) :
			cfg->ops->decoy(cfg->ctx);
	if (ret) {
		srv->kd.len = 0;
		goto wipe;
	}
	memcpy(srv->confirm_p, keys.confirm_p, CPNS_HASH_LEN);
	srv->kid = kid;
	srv->expiry = expiry;
	msgbuf_set(&srv->kr2, m->raw, m->raw_len);
	srv->t_last = now;
	srv->t_delivery = now;
	srv->state = CPNS_PROCA_SRV_WAIT_CONFIRM;
	set_out(out, out_len, &srv->kd);
	ret = CPNS_PROCA_SEND;
wipe:
	cpns_wipe(rnd, sizeof(rnd));
	cpns_wipe(y, sizeof(y));
	cpns_wipe(eukey, sizeof(eukey));
	cpns_wipe(k_wrap, sizeof(k_wrap));
	cpns_wipe(&keys, sizeof(keys));
	return ret;
}

static int srv_on_confirm(struct cpns_proca_srv *srv, const struct cpns_msg *m,
			  uint64_t now, const uint8_t **out, size_t *out_len)
{
	const struct cpns_proca_srv_cfg *cfg = srv->cfg;
	const uint8_t *cp = tlv_val(m, CPNS_TLV_CONFIRM_P);
	struct cpns_enc enc;
	bool ok;
	int ret;

	/* a fake user always fails, whatever it sends */
	ok = cpns_memeq(cp, srv->confirm_p, CPNS_HASH_LEN) && srv->known;
	if (!ok)
		return srv_fail(srv, srv->xid, CPNS_REASON_AUTH_FAILED,
				CPNS_MSG_KEY_CONFIRM, now, out, out_len);
	cpns_enc_init(&enc, srv->ack.b, sizeof(srv->ack.b), CPNS_MSG_ACK);
	cpns_enc_put(&enc, CPNS_TLV_XID, srv->xid, CPNS_XID_LEN);
	cpns_enc_u8(&enc, CPNS_TLV_MSG_REF, CPNS_MSG_KEY_CONFIRM);
	ret = cpns_enc_finish(&enc, &srv->ack.len, NULL);
	if (!ret)
		ret = cfg->ops->confirm(cfg->ctx, srv->uid, srv->uid_len,
					srv->gw_id, srv->kid, now);
	if (ret) {
		srv->ack.len = 0;
		return ret;
	}
	msgbuf_set(&srv->kconf, m->raw, m->raw_len);
	cpns_wipe(&srv->v, sizeof(srv->v));
	cpns_wipe(srv->confirm_p, sizeof(srv->confirm_p));
	srv->t_last = now;
	srv->state = CPNS_PROCA_SRV_DONE;
	set_out(out, out_len, &srv->ack);
	return CPNS_PROCA_DONE;
}

int cpns_proca_srv_input(struct cpns_proca_srv *srv,
			 const uint8_t src[CPNS_ID_LEN], const uint8_t *msg,
			 size_t len, uint64_t now, const struct cpns_rng *rng,
			 const uint8_t **out, size_t *out_len)
{
	struct cpns_msg *m;
	uint8_t type;
	int r, ret = CPNS_PROCA_IGNORE;

	*out = NULL;
	*out_len = 0;
	if (srv->state == CPNS_PROCA_SRV_FAILED)
		return CPNS_PROCA_IGNORE;
	if (srv->state != CPNS_PROCA_SRV_IDLE) {
		if (memcmp(src, srv->gw_id, CPNS_ID_LEN))
			return CPNS_PROCA_IGNORE;
		/* duplicates get the cached reply (4.7) */
		if (msgbuf_eq(&srv->kr1, msg, len)) {
			set_out(out, out_len, &srv->kc);
			return CPNS_PROCA_SEND;
		}
		if (msgbuf_eq(&srv->kr2, msg, len)) {
			set_out(out, out_len, &srv->kd);
			return CPNS_PROCA_SEND;
		}
		if (msgbuf_eq(&srv->kconf, msg, len)) {
			set_out(out, out_len, &srv->ack);
			return CPNS_PROCA_SEND;
		}
		if (srv_terminal(srv))
			return CPNS_PROCA_IGNORE;
	}
	r = decode(msg, len, &m);
	if (r < 0)
		return r == CPNS_DECODE_DROP ? CPNS_PROCA_IGNORE : r;
	type = m->msg_type;
	if (srv->state == CPNS_PROCA_SRV_IDLE) {
		/* only KeyRequest1 starts an exchange */
		if (type != CPNS_MSG_KEY_REQUEST1)
			goto out;
		if (r > 0)
			ret = srv_fail(srv, m->xid, (uint8_t)r, type, now, out,
				       out_len);
		else
			ret = srv_on_kr1(srv, src, m, now, out, out_len);
		goto out;
	}
	if (memcmp(m->xid, srv->xid, CPNS_XID_LEN))
		goto out;
	if (r > 0) {
		if (type != CPNS_MSG_ABORT && type != CPNS_MSG_ACK)
			ret = srv_fail(srv, srv->xid, (uint8_t)r, type, now,
				       out, out_len);
		goto out;
	}
	switch (type) {
	case CPNS_MSG_ABORT:
		/* ends the exchange; after KeyDelivery it counts as a failure */
		if (srv->state == CPNS_PROCA_SRV_WAIT_CONFIRM)
			srv_count_failure(srv, now);
		srv->state = CPNS_PROCA_SRV_FAILED;
		srv->reason = *tlv_val(m, CPNS_TLV_REASON);
		cpns_wipe(&srv->v, sizeof(srv->v));
		cpns_wipe(srv->confirm_p, sizeof(srv->confirm_p));
		ret = CPNS_PROCA_FAILED;
		break;
	case CPNS_MSG_ACK:
	case CPNS_MSG_KEY_REQUEST1:
		break;	/* a different KeyRequest1 in this exchange: drop */
	case CPNS_MSG_KEY_REQUEST2:
		if (srv->state == CPNS_PROCA_SRV_WAIT_KR2)
			ret = srv_on_kr2(srv, m, now, rng, out, out_len);
		break;
	case CPNS_MSG_KEY_CONFIRM:
		if (srv->state == CPNS_PROCA_SRV_WAIT_CONFIRM)
			ret = srv_on_confirm(srv, m, now, out, out_len);
		else
			ret = srv_fail(srv, srv->xid,
				       CPNS_REASON_UNEXPECTED_MESSAGE, type, now,
				       out, out_len);
		break;
	default:
		ret = srv_fail(srv, srv->xid, CPNS_REASON_UNEXPECTED_MESSAGE,
			       type, now, out, out_len);
		break;
	}
out:
	free(m);
	return ret;
}

bool cpns_proca_srv_tick(struct cpns_proca_srv *srv, uint64_t now)
{
	if (srv->state == CPNS_PROCA_SRV_WAIT_CONFIRM &&
	    now >= srv->t_delivery + CPNS_PROCA_CONFIRM_TIMEOUT) {
		srv_count_failure(srv, now);
		srv->state = CPNS_PROCA_SRV_FAILED;
		srv->reason = 0;
		cpns_wipe(&srv->v, sizeof(srv->v));
		cpns_wipe(srv->confirm_p, sizeof(srv->confirm_p));
	} else if (srv->state == CPNS_PROCA_SRV_WAIT_KR2 &&
		   now >= srv->t_last + CPNS_PROCA_HALF_OPEN_TIMEOUT) {
		srv->state = CPNS_PROCA_SRV_FAILED;
		srv->reason = 0;
		cpns_wipe(&srv->v, sizeof(srv->v));
	}
	return srv_terminal(srv);
}

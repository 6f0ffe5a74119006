// SPDX-License-Identifier: GPL-2.0
/*
 * The generic PSK handshake H(K), PROTOCOL.md section 5, with the message
 * rules of 4.2, 4.6-4.8 and the make-before-break confirmation of 2.10.
 * Pure state machines: see cpns_hs.h for the calling convention.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cpns_hs.h"
#include "cpns_id.h"

#define HS_MAX_EXCLUDE	(8 + 2)

static const uint8_t hs_zero32[32];

/* ---- helpers ---------------------------------------------------------- */

static uint32_t hs_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static const uint8_t *hs_val(const struct cpns_msg *m, uint16_t type)
{
	const struct cpns_tlv *t = cpns_msg_find(m, NULL, type);

	return t ? t->value : NULL;
}

/*
 * Step 0 of 4.2 on the raw bytes: a known msg_type followed by a
 * well-formed XID. Only then can a message be attributed to an exchange.
 */
static bool hs_attributable(const uint8_t *msg, size_t len)
{
	return msg && len >= CPNS_MSG_MIN_LEN && cpns_msg_protection(msg[0]) &&
	       msg[1] == 0 && msg[2] == CPNS_TLV_XID && msg[3] == 0 &&
	       msg[4] == CPNS_XID_LEN;
}

static bool hs_is_h_type(uint8_t t)
{
	return (t >= CPNS_MSG_CONNECT_REQUEST &&
		t <= CPNS_MSG_SERVER_AUTH_RESPONSE) ||
	       t == CPNS_MSG_ACK || t == CPNS_MSG_ABORT;
}

static bool hs_suites_ok(const uint8_t *s, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (!s[i])
			return false;
		for (j = 0; j < i; j++)
			if (s[i] == s[j])
				return false;
	}
	return true;
}

static bool hs_in(const uint8_t *set, size_t n, uint8_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (set[i] == v)
			return true;
	return false;
}

static int hs_th(const uint8_t *m1, size_t l1, const uint8_t *m2, size_t l2,
		 const uint8_t *m3, size_t l3, uint8_t out[CPNS_HASH_LEN])
{
	struct cpns_iov iov[3] = { { m1, l1 }, { m2, l2 }, { m3, l3 } };

	return cpns_sha256_iov(iov, m3 ? 3 : 2, out);
}

/* ES, derived and HS of section 5.4 from K. */
static int hs_handshake_secret(const uint8_t k[CPNS_KEY_LEN],
			       const uint8_t dhe[CPNS_X25519_LEN],
			       uint8_t hs[CPNS_HASH_LEN],
			       struct cpns_hs_trace *tr)
{
	struct cpns_purpose_keys pk;
	uint8_t es[CPNS_HASH_LEN], der[CPNS_HASH_LEN];
	int ret;

	ret = cpns_purpose_keys(k, &pk);
	if (!ret)
		ret = cpns_hkdf_extract(hs_zero32, sizeof(hs_zero32), pk.k_hs,
					sizeof(pk.k_hs), es);
	if (!ret)
		ret = cpns_expand_label(es, "derived", NULL, 0, der,
					sizeof(der));
	if (!ret)
		ret = cpns_hkdf_extract(der, sizeof(der), dhe, CPNS_X25519_LEN,
					hs);
	if (!ret && tr) {
		memcpy(tr->k_hs, pk.k_hs, sizeof(tr->k_hs));
		memcpy(tr->es, es, sizeof(es));
		memcpy(tr->derived, der, sizeof(der));
		memcpy(tr->dhe, dhe, CPNS_X25519_LEN);
		memcpy(tr->hs, hs, CPNS_HASH_LEN);
	}
	if (ret)
		cpns_wipe(hs, CPNS_HASH_LEN);
	cpns_wipe(&pk, sizeof(pk));
	cpns_wipe(es, sizeof(es));
	cpns_wipe(der, sizeof(der));
	return ret;
}

/* HMAC(Expand-Label(HS, label, "", 32), th) */
static int hs_finished(const uint8_t hs[CPNS_HASH_LEN], const char *label,
		       const uint8_t th[CPNS_HASH_LEN],
		       uint8_t mac[CPNS_HASH_LEN], uint8_t *trace_key)
{
	uint8_t fk[CPNS_HASH_LEN];
	int ret;

	ret = cpns_expand_label(hs, label, NULL, 0, fk, sizeof(fk));
	if (!ret)
		ret = cpns_hmac_sha256(fk, sizeof(fk), th, CPNS_HASH_LEN, mac);
	if (!ret && trace_key)
		memcpy(trace_key, fk, sizeof(fk));
	cpns_wipe(fk, sizeof(fk));
	return ret;
}

/* MS and what is derived from it (section 5.4); MS is erased here. */
static int hs_master(const uint8_t hs[CPNS_HASH_LEN],
		     const uint8_t th123[CPNS_HASH_LEN],
		     uint8_t ts_i2r[CPNS_SECRET_LEN],
		     uint8_t ts_r2i[CPNS_SECRET_LEN],
		     uint8_t k_wrap[CPNS_KEY_LEN], struct cpns_hs_trace *tr)
{
	uint8_t ms[CPNS_HASH_LEN];
	int ret;

	ret = cpns_expand_label(hs, "master", th123, CPNS_HASH_LEN, ms,
				sizeof(ms));
	if (!ret)
		ret = cpns_expand_label(ms, "i2r", NULL, 0, ts_i2r,
					CPNS_SECRET_LEN);
	if (!ret)
		ret = cpns_expand_label(ms, "r2i", NULL, 0, ts_r2i,
					CPNS_SECRET_LEN);
	if (!ret)
		ret = cpns_expand_label(ms, "wrap", NULL, 0, k_wrap,
					CPNS_KEY_LEN);
	if (!ret && tr) {
		memcpy(tr->ms, ms, sizeof(ms));
		memcpy(tr->ts_i2r, ts_i2r, CPNS_SECRET_LEN);
		memcpy(tr->ts_r2i, ts_r2i, CPNS_SECRET_LEN);
		memcpy(tr->k_wrap_sess, k_wrap, CPNS_KEY_LEN);
	}
	if (ret) {
		cpns_wipe(ts_i2r, CPNS_SECRET_LEN);
		cpns_wipe(ts_r2i, CPNS_SECRET_LEN);
		cpns_wipe(k_wrap, CPNS_KEY_LEN);
	}
	cpns_wipe(ms, sizeof(ms));
	return ret;
}

/**
 * cpns_hs_actions_wipe() - erase the secrets an action may carry
 * @act: the actions of a call, after they were carried out
 */
void cpns_hs_actions_wipe(struct cpns_hs_actions *act)
{
	cpns_wipe(act, sizeof(*act));
}

static void hs_act_reset(struct cpns_hs_actions *act)
{
	memset(act, 0, sizeof(*act));
}

/**
 * cpns_hs_limiter_allow() - may an Abort go to this address now?
 * @lim: the limiter
 * @addr: the peer's address, opaque bytes
 * @addr_len: its length; longer than CPNS_HS_ADDR_MAX is refused
 * @now_ms: current time
 *
 * Records the Abort when it is allowed.
 *
 * Return: true if no Abort went to @addr in the last second.
 */
bool cpns_hs_limiter_allow(struct cpns_hs_limiter *lim, const void *addr,
			   size_t addr_len, uint64_t now_ms)
{
	unsigned int i, lru = 0;

	if (addr_len > CPNS_HS_ADDR_MAX || (addr_len && !addr))
		return false;
	for (i = 0; i < CPNS_HS_LIMITER_SLOTS; i++) {
		if (lim->slot[i].used && lim->slot[i].len == addr_len &&
		    !memcmp(lim->slot[i].addr, addr, addr_len)) {
			if (now_ms < lim->slot[i].last_ms + CPNS_HS_ABORT_GAP_MS)
				return false;
			lim->slot[i].last_ms = now_ms;
			return true;
		}
		if (!lim->slot[i].used ||
		    (lim->slot[lru].used &&
		     lim->slot[i].last_ms < lim->slot[lru].last_ms))
			lru = i;
	}
	lim->slot[lru].used = true;
	lim->slot[lru].len = (uint8_t)addr_len;
	memset(lim->slot[lru].addr, 0, sizeof(lim->slot[lru].addr));
	if (addr_len)
		memcpy(lim->slot[lru].addr, addr, addr_len);
	lim->slot[lru].last_ms = now_ms;
	return true;
}

/*
 * Record a failure with @reason and, unless the limiter says otherwise,
 * the Abort {XID, REASON, MSG_REF} that answers it.
 */
static void hs_abort(struct cpns_hs_limiter *lim,
		     const struct cpns_hs_meta *meta, const uint8_t *xid,
		     int reason, uint8_t msg_ref, struct cpns_hs_actions *act)
{
	struct cpns_enc enc;
	size_t len;

	act->reason = reason;
	if (lim && !cpns_hs_limiter_allow(lim, meta->addr, meta->addr_len,
					  meta->now_ms))
		return;
	cpns_enc_init(&enc, act->send.msg, sizeof(act->send.msg),
		      CPNS_MSG_ABORT);
	cpns_enc_put(&enc, CPNS_TLV_XID, xid, CPNS_XID_LEN);
	cpns_enc_u8(&enc, CPNS_TLV_REASON, (uint8_t)reason);
	cpns_enc_u8(&enc, CPNS_TLV_MSG_REF, msg_ref);
	if (cpns_enc_finish(&enc, &len, NULL))
		return;
	act->send.len = len;
	act->send.prot = CPNS_PROT_SUITE0;
	act->send.generation = 0;
	act->send_valid = true;
}

static void hs_send(struct cpns_hs_actions *act, const uint8_t *msg,
		    size_t len, unsigned int prot, uint8_t generation)
{
	memcpy(act->send.msg, msg, len);
	act->send.len = len;
	act->send.prot = prot;
	act->send.generation = generation;
	act->send_valid = true;
}

/* Interval after the n-th transmission (n >= 1): 1, 2, 4, 8, 8 s. */
static uint64_t hs_rtx_interval(unsigned int n)
{
	uint64_t ms = (uint64_t)CPNS_HS_RTX_FIRST_MS << (n - 1);

	return ms < CPNS_HS_RTX_CAP_MS ? ms : CPNS_HS_RTX_CAP_MS;
}

/* ---- initiator (sections 5.2, 5.6, 5.7, 2.10) ------------------------- */

enum hs_init_state {
	HS_I_WAIT_M2 = 1,
	HS_I_WAIT_M4,
	HS_I_CONFIRM,
	HS_I_DONE,
	HS_I_FAILED,
};

struct cpns_hs_init {
	struct cpns_hs_init_cfg cfg;	/* cfg.k wiped once HS is derived */
	uint8_t binding[CPNS_HASH_LEN];
	enum hs_init_state state;
	uint8_t xid[CPNS_XID_LEN];
	uint8_t e_priv[CPNS_X25519_LEN];
	uint8_t excl[HS_MAX_EXCLUDE];	/* generations held */
	size_t n_excl;
	uint8_t m1[CPNS_HS_SEND_MAX];
	size_t m1_len;
	uint8_t *m2;			/* as received, for duplicates */
	size_t m2_len;
	uint8_t m3[CPNS_HS_SEND_MAX];
	size_t m3_len;
	uint8_t hash_r[CPNS_HASH_LEN];	/* expected */
	struct cpns_hs_install inst;	/* ready from m2 on, given at m4 */
	uint8_t ack[CPNS_HS_SEND_MAX];
	size_t ack_len;
	uint8_t ack_gen;		/* the generation the Ack goes on */
	unsigned int tx;		/* transmissions of m1 / m3 / Ack */
	uint64_t deadline;
	uint64_t confirm_base;
	struct cpns_msg *msg;
};

static void hs_init_wipe_secrets(struct cpns_hs_init *hs)
{
	cpns_wipe(hs->cfg.k, sizeof(hs->cfg.k));
	cpns_wipe(hs->e_priv, sizeof(hs->e_priv));
	cpns_wipe(hs->hash_r, sizeof(hs->hash_r));
	cpns_wipe(&hs->inst, sizeof(hs->inst));
}

static int hs_init_fail(struct cpns_hs_init *hs, struct cpns_hs_actions *act)
{
	hs_init_wipe_secrets(hs);
	hs->state = HS_I_FAILED;
	hs->deadline = 0;
	act->deadline_ms = 0;
	return CPNS_HS_FAILED;
}

static int hs_init_check_cfg(const struct cpns_hs_init_cfg *c)
{
	size_t i;

	if (!cpns_id_valid(c->local_id) ||
	    !cpns_id_valid(c->peer_id) ||
	    !memcmp(c->local_id, c->peer_id, CPNS_ID_LEN))
		return -EINVAL;
	if (!c->n_suites || c->n_suites > CPNS_HS_MAX_SUITES ||
	    !hs_suites_ok(c->suites, c->n_suites))
		return -EINVAL;
	for (i = 0; i < c->n_suites; i++)
		if (!cpns_suite_valid(c->suites[i]))
			return -EINVAL;
	if (c->mode != CPNS_HS_MODE_PSK && c->mode != CPNS_HS_MODE_PSK_DHE)
		return -EINVAL;
	if (c->psk_kind < CPNS_HS_KIND_EUKEY ||
	    c->psk_kind > CPNS_HS_KIND_DEVICE_KEY)
		return -EINVAL;
	if ((c->psk_kind == CPNS_HS_KIND_LOCAL_EUKEY) != !!c->binding)
		return -EINVAL;
	/* section 5.3: psk_dhe REQUIRED for DeviceKey */
	if (c->psk_kind == CPNS_HS_KIND_DEVICE_KEY &&
	    c->mode != CPNS_HS_MODE_PSK_DHE)
		return -EINVAL;
	if (c->n_held > sizeof(c->held))
		return -EINVAL;
	return 0;
}

static int hs_init_build_m1(struct cpns_hs_init *hs)
{
	const struct cpns_hs_init_cfg *c = &hs->cfg;
	uint8_t rand_i[32], pub[CPNS_X25519_LEN], kid[4];
	struct cpns_enc enc;
	int ret;

	ret = cpns_random(c->rng, hs->xid, sizeof(hs->xid));
	if (!ret)
		ret = cpns_random(c->rng, rand_i, sizeof(rand_i));
	if (!ret && c->mode == CPNS_HS_MODE_PSK_DHE) {
		ret = cpns_random(c->rng, hs->e_priv, sizeof(hs->e_priv));
		if (!ret)
			ret = cpns_x25519_public(hs->e_priv, pub);
	}
	if (ret)
		return ret;
	kid[0] = (uint8_t)(c->kid >> 24);
	kid[1] = (uint8_t)(c->kid >> 16);
	kid[2] = (uint8_t)(c->kid >> 8);
	kid[3] = (uint8_t)c->kid;
	cpns_enc_init(&enc, hs->m1, sizeof(hs->m1), CPNS_MSG_CONNECT_REQUEST);
	cpns_enc_put(&enc, CPNS_TLV_XID, hs->xid, sizeof(hs->xid));
	cpns_enc_put(&enc, CPNS_TLV_INITIATOR_ID, c->local_id, CPNS_ID_LEN);
	cpns_enc_put(&enc, CPNS_TLV_RESPONDER_ID, c->peer_id, CPNS_ID_LEN);
	cpns_enc_put(&enc, CPNS_TLV_RAND_I, rand_i, sizeof(rand_i));
	cpns_enc_put(&enc, CPNS_TLV_SUITES, c->suites, c->n_suites);
	cpns_enc_u8(&enc, CPNS_TLV_MODE, c->mode);
	if (c->mode == CPNS_HS_MODE_PSK_DHE)
		cpns_enc_put(&enc, CPNS_TLV_KEYSHARE_I, pub, sizeof(pub));
	cpns_enc_u8(&enc, CPNS_TLV_PREV_GEN, c->prev_gen);
	if (c->binding)
		cpns_enc_put(&enc, CPNS_TLV_BINDING, hs->binding,
			     sizeof(hs->binding));
	cpns_enc_u8(&enc, CPNS_TLV_PSK_KIND, c->psk_kind);
	cpns_enc_put(&enc, CPNS_TLV_KID, kid, sizeof(kid));
	return cpns_enc_finish(&enc, &hs->m1_len, NULL);
}

/**
 * cpns_hs_init_new() - start an H(K) exchange as initiator
 * @cfg: parameters; copied (the caller may wipe its copy of K at once)
 * @now_ms: current time (the first transmission of m1)
 * @act: receives the m1 to send and the first retransmission deadline
 * @err: 0 or a negative errno (-EINVAL: bad @cfg; -ERANGE: the random
 *	source ran out, e.g. a replayed vector)
 *
 * An initiator MUST NOT start while it holds two generations for the pair
 * (section 2.10); that is the caller's decision.
 *
 * Return: the exchange, or NULL on failure (@err set).
 */
struct cpns_hs_init *cpns_hs_init_new(const struct cpns_hs_init_cfg *cfg,
				      uint64_t now_ms,
				      struct cpns_hs_actions *act, int *err)
{
	struct cpns_hs_init *hs;
	size_t i;
	int ret;

	hs_act_reset(act);
	ret = hs_init_check_cfg(cfg);
	if (ret)
		goto err_ret;
	hs = calloc(1, sizeof(*hs));
	if (!hs) {
		ret = -ENOMEM;
		goto err_ret;
	}
	hs->msg = malloc(sizeof(*hs->msg));
	if (!hs->msg) {
		ret = -ENOMEM;
		goto err_free;
	}
	hs->cfg = *cfg;
	if (cfg->binding) {
		memcpy(hs->binding, cfg->binding, sizeof(hs->binding));
		hs->cfg.binding = hs->binding;
	}
	for (i = 0; i < cfg->n_held; i++)
		hs->excl[hs->n_excl++] = cfg->held[i];
	if (cfg->prev_gen)
		hs->excl[hs->n_excl++] = cfg->prev_gen;
	ret = hs_init_build_m1(hs);
	if (ret)
		goto err_free;
	hs->state = HS_I_WAIT_M2;
	hs->tx = 1;
	hs->deadline = now_ms + hs_rtx_interval(1);
	hs_send(act, hs->m1, hs->m1_len, CPNS_PROT_SUITE0, 0);
	act->deadline_ms = hs->deadline;
	memcpy(act->peer_id, cfg->peer_id, CPNS_ID_LEN);
	memcpy(act->xid, hs->xid, CPNS_XID_LEN);
	*err = 0;
	return hs;

err_free:
	cpns_hs_init_free(hs);
err_ret:
	*err = ret;
	return NULL;
}

/* Section 5.7, on m2; returns 0 or an Abort reason. */
static int hs_init_on_m2(struct cpns_hs_init *hs, const uint8_t *raw,
			 size_t len, struct cpns_hs_actions *act)
{
	const struct cpns_msg *m = hs->msg;
	const struct cpns_hs_init_cfg *c = &hs->cfg;
	const uint8_t *ini = hs_val(m, CPNS_TLV_INITIATOR_ID);
	const uint8_t *rsp = hs_val(m, CPNS_TLV_RESPONDER_ID);
	const uint8_t *suite = hs_val(m, CPNS_TLV_SUITE);
	const uint8_t *mode = hs_val(m, CPNS_TLV_MODE);
	const uint8_t *ks = hs_val(m, CPNS_TLV_KEYSHARE_R);
	const uint8_t *gen = hs_val(m, CPNS_TLV_GENERATION);
	uint8_t dhe[CPNS_X25519_LEN], hsec[CPNS_HASH_LEN];
	uint8_t th[CPNS_HASH_LEN], hash_i[CPNS_HASH_LEN];
	uint8_t ts_i2r[CPNS_SECRET_LEN], ts_r2i[CPNS_SECRET_LEN];
	struct cpns_hs_trace *tr = c->trace;
	struct cpns_enc enc;
	int reason = CPNS_REASON_INTERNAL_ERROR, ret;

	if (memcmp(ini, c->local_id, CPNS_ID_LEN) ||
	    memcmp(rsp, c->peer_id, CPNS_ID_LEN))
		return CPNS_REASON_BAD_IDENTITY;
	if (!hs_in(c->suites, c->n_suites, *suite))
		return CPNS_REASON_NO_COMMON_SUITE;
	if (*mode != c->mode)
		return CPNS_REASON_MALFORMED;
	if (c->mode == CPNS_HS_MODE_PSK_DHE && !ks)
		return CPNS_REASON_MISSING_TLV;
	if (c->mode == CPNS_HS_MODE_PSK && ks)
		return CPNS_REASON_MALFORMED;
	if (!*gen || hs_in(hs->excl, hs->n_excl, *gen))
		return CPNS_REASON_GENERATION_CONFLICT;

	memset(dhe, 0, sizeof(dhe));
	if (ks) {
		ret = cpns_x25519(hs->e_priv, ks, dhe);
		if (ret) {
			reason = ret == -EINVAL ? CPNS_REASON_BAD_KEYSHARE :
						  CPNS_REASON_INTERNAL_ERROR;
			goto out;
		}
	}
	ret = hs_handshake_secret(c->k, dhe, hsec, tr);
	if (!ret)
		ret = hs_th(hs->m1, hs->m1_len, raw, len, NULL, 0, th);
	if (!ret)
		ret = hs_finished(hsec, "i finished", th, hash_i,
				  tr ? tr->k_i_finished : NULL);
	if (ret)
		goto out;
	if (tr) {
		memcpy(tr->th_m1_m2, th, sizeof(th));
		memcpy(tr->hash_i, hash_i, sizeof(hash_i));
	}
	cpns_enc_init(&enc, hs->m3, sizeof(hs->m3), CPNS_MSG_AUTH_RESPONSE);
	cpns_enc_put(&enc, CPNS_TLV_XID, hs->xid, sizeof(hs->xid));
	cpns_enc_put(&enc, CPNS_TLV_INITIATOR_ID, c->local_id, CPNS_ID_LEN);
	cpns_enc_put(&enc, CPNS_TLV_HASH_I, hash_i, sizeof(hash_i));
	ret = cpns_enc_finish(&enc, &hs->m3_len, NULL);
	if (!ret)
		ret = hs_th(hs->m1, hs->m1_len, raw, len, hs->m3, hs->m3_len,
			    th);
	if (!ret)
		ret = hs_finished(hsec, "r finished", th, hs->hash_r,
				  tr ? tr->k_r_finished : NULL);
	if (!ret)
		ret = hs_master(hsec, th, ts_i2r, ts_r2i, hs->inst.k_wrap_sess,
				tr);
	if (ret)
		goto out;
	if (tr) {
		memcpy(tr->th_m1_m2_m3, th, sizeof(th));
		memcpy(tr->hash_r, hs->hash_r, sizeof(hs->hash_r));
	}
	hs->m2 = malloc(len);
	if (!hs->m2)
		goto out;
	memcpy(hs->m2, raw, len);
	hs->m2_len = len;

	memcpy(hs->inst.local_id, c->local_id, CPNS_ID_LEN);
	memcpy(hs->inst.peer_id, c->peer_id, CPNS_ID_LEN);
	hs->inst.generation = *gen;
	hs->inst.suite = *suite;
	memcpy(hs->inst.tx_ts, ts_i2r, sizeof(ts_i2r));
	memcpy(hs->inst.rx_ts, ts_r2i, sizeof(ts_r2i));
	hs->inst.role = CPNS_HS_ROLE_INITIATOR;
	hs->inst.tx_mode = CPNS_HS_TX_IMMEDIATE;
	hs->inst.psk_kind = c->psk_kind;
	hs->inst.kid = c->kid;
	memcpy(hs->inst.xid, hs->xid, sizeof(hs->xid));

	hs_send(act, hs->m3, hs->m3_len, CPNS_PROT_SUITE0, 0);
	reason = 0;
out:
	/* K, e_I, HS and MS are not needed any more, whatever happened */
	cpns_wipe(hs->cfg.k, sizeof(hs->cfg.k));
	cpns_wipe(hs->e_priv, sizeof(hs->e_priv));
	cpns_wipe(dhe, sizeof(dhe));
	cpns_wipe(hsec, sizeof(hsec));
	cpns_wipe(hash_i, sizeof(hash_i));
	cpns_wipe(ts_i2r, sizeof(ts_i2r));
	cpns_wipe(ts_r2i, sizeof(ts_r2i));
	return reason;
}

/* Section 5.7 on m4 and 2.10: install, then the confirmation Ack. */
static int hs_init_on_m4(struct cpns_hs_init *hs, struct cpns_hs_actions *act)
{
	const uint8_t *hash_r = hs_val(hs->msg, CPNS_TLV_HASH_R);
	struct cpns_enc enc;
	static const uint8_t ref = CPNS_MSG_SERVER_AUTH_RESPONSE;

	if (!cpns_memeq(hash_r, hs->hash_r, CPNS_HASH_LEN))
		return CPNS_REASON_AUTH_FAILED;
	cpns_enc_init(&enc, hs->ack, sizeof(hs->ack), CPNS_MSG_ACK);
	cpns_enc_put(&enc, CPNS_TLV_XID, hs->xid, sizeof(hs->xid));
	cpns_enc_put(&enc, CPNS_TLV_MSG_REF, &ref, 1);
	if (cpns_enc_finish(&enc, &hs->ack_len, NULL))
		return CPNS_REASON_INTERNAL_ERROR;
	hs->ack_gen = hs->inst.generation;
	act->install = hs->inst;
	act->install_valid = true;
	hs_send(act, hs->ack, hs->ack_len, CPNS_PROT_PROTECTED,
		hs->inst.generation);
	return 0;
}

/**
 * cpns_hs_init_recv() - feed a message received for the initiator
 * @hs: the exchange
 * @msg: the record payload (msg_type onward)
 * @len: its length
 * @meta: how it arrived
 * @act: the actions to carry out
 *
 * Messages of other exchanges (another XID or peer), of other procedures,
 * Acks, malformed Aborts and byte-different copies of an m2 already
 * processed are dropped without any change. A byte-identical m2 while m4
 * is awaited is answered with the same m3 (section 4.7). A message that
 * fails decoding or a check of section 5.7 ends the exchange with an
 * Abort (subject to the limiter); a wrong HASH_R gives AUTH_FAILED and no
 * install. A received Abort in a suite 0 record ends an exchange that has
 * not completed (section 4.8).
 *
 * Return: an enum cpns_hs_verdict, or a negative errno for bad arguments.
 */
int cpns_hs_init_recv(struct cpns_hs_init *hs, const uint8_t *msg,
		      size_t len, const struct cpns_hs_meta *meta,
		      struct cpns_hs_actions *act)
{
	const struct cpns_hs_init_cfg *c = &hs->cfg;
	uint8_t type;
	int r;

	hs_act_reset(act);
	if (!meta || !meta->src || !meta->dst)
		return -EINVAL;
	act->deadline_ms = hs->deadline;
	if (!hs_attributable(msg, len))
		return CPNS_HS_DROP;
	type = msg[0];
	/* exchange = (peer entity ID, XID), section 4.6 */
	if (memcmp(msg + 5, hs->xid, CPNS_XID_LEN) ||
	    memcmp(meta->src, c->peer_id, CPNS_ID_LEN) ||
	    memcmp(meta->dst, c->local_id, CPNS_ID_LEN))
		return CPNS_HS_DROP;
	/* H travels in suite 0 only; the confirmation Ack is ours */
	if (!hs_is_h_type(type) || meta->prot != CPNS_PROT_SUITE0 ||
	    type == CPNS_MSG_ACK)
		return CPNS_HS_DROP;
	if (hs->state != HS_I_WAIT_M2 && hs->state != HS_I_WAIT_M4)
		return CPNS_HS_DROP;
	memcpy(act->peer_id, c->peer_id, CPNS_ID_LEN);
	memcpy(act->xid, hs->xid, CPNS_XID_LEN);

	if (type == CPNS_MSG_ABORT) {
		if (cpns_msg_decode(msg, len, hs->msg, NULL))
			return CPNS_HS_DROP;	/* never answered */
		act->peer_abort = *hs_val(hs->msg, CPNS_TLV_REASON);
		return hs_init_fail(hs, act);
	}
	if (hs->state == HS_I_WAIT_M4 && type == CPNS_MSG_AUTH_REQUEST) {
		if (len != hs->m2_len || memcmp(msg, hs->m2, len))
			return CPNS_HS_DROP;
		hs_send(act, hs->m3, hs->m3_len, CPNS_PROT_SUITE0, 0);
		return CPNS_HS_CONTINUE;
	}
	r = cpns_msg_decode(msg, len, hs->msg, NULL);
	if (r == CPNS_DECODE_DROP)
		return CPNS_HS_DROP;
	if (!r) {
		if (hs->state == HS_I_WAIT_M2 && type == CPNS_MSG_AUTH_REQUEST)
			r = hs_init_on_m2(hs, msg, len, act);
		else if (hs->state == HS_I_WAIT_M4 &&
			 type == CPNS_MSG_SERVER_AUTH_RESPONSE)
			r = hs_init_on_m4(hs, act);
		else
			r = CPNS_REASON_UNEXPECTED_MESSAGE;
	}
	if (r) {
		act->send_valid = false;
		hs_abort(c->limiter, meta, hs->xid, r, type, act);
		return hs_init_fail(hs, act);
	}
	hs->tx = 1;
	hs->deadline = meta->now_ms + hs_rtx_interval(1);
	act->deadline_ms = hs->deadline;
	if (hs->state == HS_I_WAIT_M2) {
		hs->state = HS_I_WAIT_M4;
		return CPNS_HS_CONTINUE;
	}
	/* installed: keep only the Ack for its repetitions */
	hs_init_wipe_secrets(hs);
	hs->state = HS_I_CONFIRM;
	hs->confirm_base = meta->now_ms;
	return CPNS_HS_COMPLETE;
}

/**
 * cpns_hs_init_timer() - the initiator's timer
 * @hs: the exchange
 * @now_ms: current time
 * @act: the actions to carry out
 *
 * Before the deadline nothing happens. Waiting for m2 or m4: retransmits
 * m1 / m3 byte-identically, 1, 2, 4, 8 and 8 s apart (5 transmissions in
 * all), then gives up (@act->timeout, CPNS_HS_FAILED; any installed
 * generation stays untouched). After the install: the confirmation Ack
 * again 1 s and 3 s after the first one, then CPNS_HS_DONE.
 *
 * Return: an enum cpns_hs_verdict.
 */
int cpns_hs_init_timer(struct cpns_hs_init *hs, uint64_t now_ms,
		       struct cpns_hs_actions *act)
{
	hs_act_reset(act);
	memcpy(act->peer_id, hs->cfg.peer_id, CPNS_ID_LEN);
	memcpy(act->xid, hs->xid, CPNS_XID_LEN);
	act->deadline_ms = hs->deadline;
	if (!hs->deadline || now_ms < hs->deadline)
		return hs->state == HS_I_FAILED ? CPNS_HS_FAILED :
		       hs->state == HS_I_DONE	? CPNS_HS_DONE :
						  CPNS_HS_CONTINUE;
	switch (hs->state) {
	case HS_I_WAIT_M2:
	case HS_I_WAIT_M4:
		if (hs->tx >= CPNS_HS_RTX_MAX) {
			act->timeout = true;
			return hs_init_fail(hs, act);
		}
		if (hs->state == HS_I_WAIT_M2)
			hs_send(act, hs->m1, hs->m1_len, CPNS_PROT_SUITE0, 0);
		else
			hs_send(act, hs->m3, hs->m3_len, CPNS_PROT_SUITE0, 0);
		hs->tx++;
		hs->deadline += hs_rtx_interval(hs->tx);
		act->deadline_ms = hs->deadline;
		return CPNS_HS_CONTINUE;
	case HS_I_CONFIRM:
		hs_send(act, hs->ack, hs->ack_len, CPNS_PROT_PROTECTED,
			hs->ack_gen);
		hs->tx++;
		if (hs->tx == 2) {
			hs->deadline = hs->confirm_base + 3000;
		} else {
			hs->deadline = 0;
			hs->state = HS_I_DONE;
		}
		act->deadline_ms = hs->deadline;
		return hs->state == HS_I_DONE ? CPNS_HS_DONE : CPNS_HS_CONTINUE;
	default:
		return CPNS_HS_FAILED;
	}
}

/**
 * cpns_hs_init_free() - end an initiator exchange, erasing its secrets
 * @hs: the exchange, or NULL
 */
void cpns_hs_init_free(struct cpns_hs_init *hs)
{
	if (!hs)
		return;
	free(hs->msg);
	free(hs->m2);
	cpns_wipe(hs, sizeof(*hs));
	free(hs);
}

/* ---- responder (sections 5.5, 5.6, 4.7, 11) --------------------------- */

enum hs_resp_state {
	HS_R_FREE = 0,
	HS_R_HALF_OPEN,		/* m2 sent, waiting for m3 */
	HS_R_DONE,		/* m4 sent; kept to answer duplicates */
};

struct hs_exch {
	enum hs_resp_state state;
	uint8_t peer[CPNS_ID_LEN];
	uint8_t xid[CPNS_XID_LEN];
	uint8_t addr[CPNS_HS_ADDR_MAX];
	size_t addr_len;
	uint64_t born;		/* creation order, for "replace the oldest" */
	uint64_t expires;
	uint8_t *m1;
	size_t m1_len;
	uint8_t m2[CPNS_HS_SEND_MAX];
	size_t m2_len;
	uint8_t *m3;
	size_t m3_len;
	uint8_t m4[CPNS_HS_SEND_MAX];
	size_t m4_len;
	uint8_t hs[CPNS_HASH_LEN];	/* half-open only */
	uint8_t suite;
	uint8_t generation;
	uint8_t psk_kind;
	uint32_t kid;
};

#define HS_NONE UINT32_MAX

/* A place in a doubly linked list of table positions (HS_NONE: none). */
struct hs_link {
	uint32_t prev, next;
};

/*
 * Where an exchange of the table is linked, beside it (hs_exch_free()
 * wipes the exchange, not these): by (peer, XID) while it is not free; by
 * address and by peer while half-open; in the free list while free
 * (@px.next). @age is its place in the order of expiry of its state: in
 * the half-open list while half-open, in the done list while done.
 */
struct hs_node {
	struct hs_link px, addr, peer, age;
};

/*
 * The exchanges: @ex[@cap], indexed so that a message costs the same
 * whatever the number of exchanges held. Buckets (@nb, a power of 2) hash
 * with a random key, so that a peer does not know which of its IDs, XIDs
 * or addresses share one; at worst a chain is as long as the whole table,
 * which every message scanned before.
 */
struct cpns_hs_resp {
	struct cpns_hs_resp_cfg cfg;
	struct hs_exch *ex;
	struct hs_node *node;
	unsigned int cap;
	uint32_t nb;
	uint32_t *px_head, *addr_head, *peer_head;
	/*
	 * Newest first, so that each list's last exchange is the next of its
	 * state to expire: an exchange moves to the front of its list when
	 * its expiry is set, always to now plus the state's lifetime, on a
	 * clock that does not go back.
	 */
	uint32_t half_head, half_tail;
	uint32_t done_head, done_tail;
	uint32_t free_head;
	unsigned int n_half;
	uint64_t hash_key[2];
	uint64_t born;
	struct cpns_msg *msg;
};

static void hs_exch_free(struct hs_exch *e)
{
	free(e->m1);
	free(e->m3);
	cpns_wipe(e, sizeof(*e));
}

/* A keyed hash of @a (and @b) into a bucket. */
static uint32_t hs_bucket(const struct cpns_hs_resp *r, uint64_t salt,
			  const uint8_t *a, size_t alen, const uint8_t *b,
			  size_t blen)
{
	uint64_t h = r->hash_key[0] ^ salt, k = r->hash_key[1];
	size_t i;

	for (i = 0; i < alen + blen; i++) {
		h ^= i < alen ? a[i] : b[i - alen];
		h *= 0x100000001b3ULL;
		h ^= k;
		h = (h << 23) | (h >> 41);
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h & (r->nb - 1);
}

static uint32_t *hs_px_head(struct cpns_hs_resp *r, const uint8_t *peer,
			    const uint8_t *xid)
{
	return &r->px_head[hs_bucket(r, 1, peer, CPNS_ID_LEN, xid,
				     CPNS_XID_LEN)];
}

static uint32_t *hs_addr_head(struct cpns_hs_resp *r, const uint8_t *addr,
			      size_t len)
{
	return &r->addr_head[hs_bucket(r, 2, addr, len, NULL, 0)];
}

static uint32_t *hs_peer_head(struct cpns_hs_resp *r, const uint8_t *peer)
{
	return &r->peer_head[hs_bucket(r, 3, peer, CPNS_ID_LEN, NULL, 0)];
}

static struct hs_link *hs_l(struct cpns_hs_resp *r, uint32_t i, size_t off)
{
	return (struct hs_link *)((char *)&r->node[i] + off);
}

/* Puts position @i first in the list at @head (and its last, @tail). */
static void hs_link_add(struct cpns_hs_resp *r, uint32_t *head,
			uint32_t *tail, uint32_t i, size_t off)
{
	struct hs_link *l = hs_l(r, i, off);

	l->prev = HS_NONE;
	l->next = *head;
	if (*head != HS_NONE)
		hs_l(r, *head, off)->prev = i;
	else if (tail)
		*tail = i;
	*head = i;
}

static void hs_link_del(struct cpns_hs_resp *r, uint32_t *head,
			uint32_t *tail, uint32_t i, size_t off)
{
	struct hs_link *l = hs_l(r, i, off);

	if (l->prev != HS_NONE)
		hs_l(r, l->prev, off)->next = l->next;
	else
		*head = l->next;
	if (l->next != HS_NONE)
		hs_l(r, l->next, off)->prev = l->prev;
	else if (tail)
		*tail = l->prev;
}

#define HS_PX	offsetof(struct hs_node, px)
#define HS_ADDR	offsetof(struct hs_node, addr)
#define HS_PEER	offsetof(struct hs_node, peer)
#define HS_AGE	offsetof(struct hs_node, age)

static uint32_t hs_pos(const struct cpns_hs_resp *r, const struct hs_exch *e)
{
	return (uint32_t)(e - r->ex);
}

/* A half-open exchange is no longer: out of the address and peer lists. */
static void hs_unlink_half(struct cpns_hs_resp *r, struct hs_exch *e)
{
	uint32_t i = hs_pos(r, e);

	hs_link_del(r, hs_addr_head(r, e->addr, e->addr_len), NULL, i,
		    HS_ADDR);
	hs_link_del(r, hs_peer_head(r, e->peer), NULL, i, HS_PEER);
	hs_link_del(r, &r->half_head, &r->half_tail, i, HS_AGE);
	r->n_half--;
}

/* The half-open exchange @e heard from its GW again: 30 s more. */
static void hs_resp_touch(struct cpns_hs_resp *r, struct hs_exch *e,
			  uint64_t now_ms)
{
	uint32_t i = hs_pos(r, e);

	e->expires = now_ms + CPNS_HS_HALF_OPEN_MS;
	hs_link_del(r, &r->half_head, &r->half_tail, i, HS_AGE);
	hs_link_add(r, &r->half_head, &r->half_tail, i, HS_AGE);
}

/* Discards the table's exchange @e, whatever its state. */
static void hs_resp_release(struct cpns_hs_resp *r, struct hs_exch *e)
{
	uint32_t i = hs_pos(r, e);

	if (e->state == HS_R_FREE)
		return;
	hs_link_del(r, hs_px_head(r, e->peer, e->xid), NULL, i, HS_PX);
	if (e->state == HS_R_HALF_OPEN)
		hs_unlink_half(r, e);
	else
		hs_link_del(r, &r->done_head, &r->done_tail, i, HS_AGE);
	hs_exch_free(e);
	r->node[i].px.next = r->free_head;
	r->free_head = i;
}

/* Takes a free position for @tmp, a new half-open exchange; NULL if none. */
static struct hs_exch *hs_resp_take(struct cpns_hs_resp *r,
				    const struct hs_exch *tmp)
{
	uint32_t i = r->free_head;
	struct hs_exch *e;

	if (i == HS_NONE)
		return NULL;
	r->free_head = r->node[i].px.next;
	e = &r->ex[i];
	*e = *tmp;
	e->state = HS_R_HALF_OPEN;
	hs_link_add(r, hs_px_head(r, e->peer, e->xid), NULL, i, HS_PX);
	hs_link_add(r, hs_addr_head(r, e->addr, e->addr_len), NULL, i,
		    HS_ADDR);
	hs_link_add(r, hs_peer_head(r, e->peer), NULL, i, HS_PEER);
	hs_link_add(r, &r->half_head, &r->half_tail, i, HS_AGE);
	r->n_half++;
	return e;
}

/*
 * The half-open exchange @e completed at @now_ms: it is kept 60 s to
 * answer repeats.
 */
static void hs_resp_done(struct cpns_hs_resp *r, struct hs_exch *e,
			 uint64_t now_ms)
{
	hs_unlink_half(r, e);
	e->state = HS_R_DONE;
	e->expires = now_ms + CPNS_HS_REPLY_CACHE_MS;
	hs_link_add(r, &r->done_head, &r->done_tail, hs_pos(r, e), HS_AGE);
}

/**
 * cpns_hs_resp_new() - create a responder
 * @cfg: configuration, copied; zero limits take the section 11 defaults
 *
 * Return: the responder, or NULL (bad @cfg or no memory).
 */
struct cpns_hs_resp *cpns_hs_resp_new(const struct cpns_hs_resp_cfg *cfg)
{
	struct cpns_hs_resp *r;
	size_t i;

	if (!cfg->lookup || !cpns_id_valid(cfg->local_id) || !cfg->n_suites ||
	    cfg->n_suites > CPNS_HS_MAX_SUITES)
		return NULL;
	for (i = 0; i < cfg->n_suites; i++)
		if (!cpns_suite_valid(cfg->suites[i]))
			return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->cfg = *cfg;
	if (!r->cfg.max_half_open)
		r->cfg.max_half_open = CPNS_HS_MAX_HALF_OPEN;
	if (!r->cfg.max_half_open_addr)
		r->cfg.max_half_open_addr = CPNS_HS_MAX_HALF_OPEN_ADDR;
	if (!r->cfg.max_half_open_id_addr)
		r->cfg.max_half_open_id_addr = CPNS_HS_MAX_HALF_OPEN_ID_ADDR;
	/* half-open exchanges plus as many completed ones caching m4 */
	r->cap = 2 * r->cfg.max_half_open;
	for (r->nb = 1; r->nb < r->cap; r->nb *= 2)
		;
	r->ex = calloc(r->cap, sizeof(*r->ex));
	r->node = calloc(r->cap, sizeof(*r->node));
	r->px_head = malloc(r->nb * sizeof(*r->px_head));
	r->addr_head = malloc(r->nb * sizeof(*r->addr_head));
	r->peer_head = malloc(r->nb * sizeof(*r->peer_head));
	r->msg = malloc(sizeof(*r->msg));
	if (!r->ex || !r->node || !r->px_head || !r->addr_head ||
	    !r->peer_head || !r->msg ||
	    cpns_random(NULL, (uint8_t *)r->hash_key, sizeof(r->hash_key))) {
		cpns_hs_resp_free(r);
		return NULL;
	}
	for (i = 0; i < r->nb; i++)
		r->px_head[i] = r->addr_head[i] = r->peer_head[i] = HS_NONE;
	r->half_head = r->half_tail = HS_NONE;
	r->done_head = r->done_tail = HS_NONE;
	for (i = 0; i < r->cap; i++)
		r->node[i].px.next = i + 1 < r->cap ? (uint32_t)i + 1 : HS_NONE;
	r->free_head = 0;
	return r;
}

/**
 * cpns_hs_resp_free() - free a responder, erasing every exchange
 * @r: the responder, or NULL
 */
void cpns_hs_resp_free(struct cpns_hs_resp *r)
{
	unsigned int i;

	if (!r)
		return;
	if (r->ex)
		for (i = 0; i < r->cap; i++)
			hs_exch_free(&r->ex[i]);
	free(r->ex);
	free(r->node);
	free(r->px_head);
	free(r->addr_head);
	free(r->peer_head);
	free(r->msg);
	cpns_wipe(r, sizeof(*r));
	free(r);
}

static struct hs_exch *hs_resp_find(struct cpns_hs_resp *r,
				    const uint8_t *peer, const uint8_t *xid)
{
	uint32_t i;

	for (i = *hs_px_head(r, peer, xid); i != HS_NONE;
	     i = r->node[i].px.next)
		if (!memcmp(r->ex[i].peer, peer, CPNS_ID_LEN) &&
		    !memcmp(r->ex[i].xid, xid, CPNS_XID_LEN))
			return &r->ex[i];
	return NULL;
}

static bool hs_same_addr(const struct hs_exch *e,
			 const struct cpns_hs_meta *meta)
{
	return e->addr_len == meta->addr_len &&
	       (!meta->addr_len || !memcmp(e->addr, meta->addr, e->addr_len));
}

/*
 * The half-open bounds of section 11 for a new m1. Returns false to drop
 * it; *victim is the exchange it is to replace (same claimed ID, same
 * address). Otherwise a position is free for it: the oldest completed
 * exchange's, if need be.
 */
static bool hs_resp_admit(struct cpns_hs_resp *r,
			  const struct cpns_hs_meta *meta,
			  struct hs_exch **victim)
{
	unsigned int per_addr = 0, per_id = 0;
	uint32_t i;

	*victim = NULL;
	for (i = *hs_addr_head(r, meta->addr, meta->addr_len); i != HS_NONE;
	     i = r->node[i].addr.next) {
		struct hs_exch *e = &r->ex[i];

		if (!hs_same_addr(e, meta))
			continue;
		per_addr++;
		if (memcmp(e->peer, meta->src, CPNS_ID_LEN))
			continue;
		per_id++;
		if (!*victim || e->born < (*victim)->born)
			*victim = e;
	}
	if (per_id < r->cfg.max_half_open_id_addr) {
		*victim = NULL;
		if (r->n_half >= r->cfg.max_half_open ||
		    per_addr >= r->cfg.max_half_open_addr)
			return false;
	}
	if (r->free_head == HS_NONE && !*victim) {
		/* the oldest cached reply gives way to a new exchange */
		if (r->done_tail == HS_NONE)
			return false;
		hs_resp_release(r, &r->ex[r->done_tail]);
	}
	return true;
}

/* GENERATION of section 5.6 */
static uint8_t hs_choose_generation(const struct cpns_hs_key *key,
				    uint8_t prev_gen)
{
	unsigned int g = key->last_gen, n;

	for (n = 0; n < 255; n++) {
		g = g % 255 + 1;
		if (g != prev_gen && !hs_in(key->held, key->n_held, (uint8_t)g))
			return (uint8_t)g;
	}
	return 0;
}

/*
 * Steps 2-9 of section 5.5 on a decoded m1. Returns 0 with @e filled in
 * (m2 built, HS kept) or the Abort reason.
 */
static int hs_resp_on_m1(struct cpns_hs_resp *r, const uint8_t *raw,
			 size_t len, const struct cpns_hs_meta *meta,
			 struct hs_exch *e)
{
	const struct cpns_hs_resp_cfg *c = &r->cfg;
	const struct cpns_msg *m = r->msg;
	const uint8_t *ini = hs_val(m, CPNS_TLV_INITIATOR_ID);
	const uint8_t *rsp = hs_val(m, CPNS_TLV_RESPONDER_ID);
	const struct cpns_tlv *suites = cpns_msg_find(m, NULL, CPNS_TLV_SUITES);
	uint8_t mode = *hs_val(m, CPNS_TLV_MODE);
	const uint8_t *ks = hs_val(m, CPNS_TLV_KEYSHARE_I);
	uint8_t prev_gen = *hs_val(m, CPNS_TLV_PREV_GEN);
	const uint8_t *binding = hs_val(m, CPNS_TLV_BINDING);
	uint8_t kind = *hs_val(m, CPNS_TLV_PSK_KIND);
	uint32_t kid = hs_be32(hs_val(m, CPNS_TLV_KID));
	struct cpns_hs_key_req req;
	struct cpns_hs_key key;
	uint8_t rand_r[32], e_priv[CPNS_X25519_LEN], pub[CPNS_X25519_LEN];
	uint8_t dhe[CPNS_X25519_LEN], suite = 0, gen;
	struct cpns_enc enc;
	size_t i;
	int reason, ret;

	/* 2. identities */
	if (memcmp(rsp, c->local_id, CPNS_ID_LEN) ||
	    memcmp(meta->dst, c->local_id, CPNS_ID_LEN) ||
	    memcmp(ini, meta->src, CPNS_ID_LEN) ||
	    !memcmp(ini, rsp, CPNS_ID_LEN))
		return CPNS_REASON_BAD_IDENTITY;
	/* 3. SUITES, MODE */
	if (!hs_suites_ok(suites->value, suites->len))
		return CPNS_REASON_MALFORMED;
	if (mode != CPNS_HS_MODE_PSK && mode != CPNS_HS_MODE_PSK_DHE)
		return CPNS_REASON_MALFORMED;
	/* 4. KEYSHARE_I iff psk_dhe */
	if (mode == CPNS_HS_MODE_PSK_DHE && !ks)
		return CPNS_REASON_MISSING_TLV;
	if (mode == CPNS_HS_MODE_PSK && ks)
		return CPNS_REASON_MALFORMED;
	/* 5. PSK_KIND, BINDING */
	if (kind < CPNS_HS_KIND_EUKEY || kind > CPNS_HS_KIND_DEVICE_KEY)
		return CPNS_REASON_MALFORMED;
	if (kind == CPNS_HS_KIND_LOCAL_EUKEY && !binding)
		return CPNS_REASON_MISSING_TLV;
	if (kind != CPNS_HS_KIND_LOCAL_EUKEY && binding)
		return CPNS_REASON_MALFORMED;
	/* 6. key lookup and authorization */
	memset(&key, 0, sizeof(key));
	req.initiator_id = ini;
	req.psk_kind = kind;
	req.kid = kid;
	req.binding = binding;
	req.addr = meta->addr;
	req.addr_len = meta->addr_len;
	reason = c->lookup(c->lookup_ctx, &req, &key);
	if (reason) {
		if (reason != CPNS_HS_LOOKUP_DROP &&
		    reason != CPNS_REASON_NOT_AUTHORIZED &&
		    reason != CPNS_REASON_UNKNOWN_KEY &&
		    reason != CPNS_REASON_BINDING_MISMATCH &&
		    reason != CPNS_REASON_RATE_LIMITED)
			reason = CPNS_REASON_INTERNAL_ERROR;
		goto out_key;
	}
	reason = CPNS_REASON_INTERNAL_ERROR;
	if (key.n_held > sizeof(key.held))
		goto out_key;
	if (binding && key.has_binding &&
	    !cpns_memeq(binding, key.binding, CPNS_HASH_LEN)) {
		reason = CPNS_REASON_BINDING_MISMATCH;
		goto out_key;
	}
	/* 7. policy: DHE (always for DeviceKey, section 5.3) */
	if (mode == CPNS_HS_MODE_PSK &&
	    (key.require_dhe || kind == CPNS_HS_KIND_DEVICE_KEY)) {
		reason = CPNS_REASON_DHE_REQUIRED;
		goto out_key;
	}
	/* 8. the initiator's first suite we support and allow */
	for (i = 0; i < suites->len && !suite; i++)
		if (hs_in(c->suites, c->n_suites, suites->value[i]))
			suite = suites->value[i];
	if (!suite) {
		reason = CPNS_REASON_NO_COMMON_SUITE;
		goto out_key;
	}
	/* 9. GENERATION, RAND_R, e_R, DHE, HS, m2 */
	gen = hs_choose_generation(&key, prev_gen);
	if (!gen)
		goto out_key;
	memset(dhe, 0, sizeof(dhe));
	ret = cpns_random(c->rng, rand_r, sizeof(rand_r));
	if (!ret && ks) {
		ret = cpns_random(c->rng, e_priv, sizeof(e_priv));
		if (!ret) {
			ret = cpns_x25519_keyshare(e_priv, ks, pub, dhe);
			if (ret == -EINVAL)
				reason = CPNS_REASON_BAD_KEYSHARE;
		}
	}
	if (!ret)
		ret = hs_handshake_secret(key.k, dhe, e->hs, c->trace);
	if (ret)
		goto out;
	cpns_enc_init(&enc, e->m2, sizeof(e->m2), CPNS_MSG_AUTH_REQUEST);
	cpns_enc_put(&enc, CPNS_TLV_XID, m->xid, CPNS_XID_LEN);
	cpns_enc_put(&enc, CPNS_TLV_INITIATOR_ID, ini, CPNS_ID_LEN);
	cpns_enc_put(&enc, CPNS_TLV_RESPONDER_ID, rsp, CPNS_ID_LEN);
	cpns_enc_put(&enc, CPNS_TLV_RAND_R, rand_r, sizeof(rand_r));
	cpns_enc_u8(&enc, CPNS_TLV_SUITE, suite);
	cpns_enc_u8(&enc, CPNS_TLV_MODE, mode);
	if (ks)
		cpns_enc_put(&enc, CPNS_TLV_KEYSHARE_R, pub, sizeof(pub));
	cpns_enc_u8(&enc, CPNS_TLV_GENERATION, gen);
	if (cpns_enc_finish(&enc, &e->m2_len, NULL))
		goto out;
	e->m1 = malloc(len);
	if (!e->m1)
		goto out;
	memcpy(e->m1, raw, len);
	e->m1_len = len;
	memcpy(e->peer, ini, CPNS_ID_LEN);
	memcpy(e->xid, m->xid, CPNS_XID_LEN);
	memcpy(e->addr, meta->addr, meta->addr_len);
	e->addr_len = meta->addr_len;
	e->suite = suite;
	e->generation = gen;
	e->psk_kind = kind;
	e->kid = kid;
	reason = 0;
out:
	cpns_wipe(e_priv, sizeof(e_priv));
	cpns_wipe(dhe, sizeof(dhe));
	if (reason)
		cpns_wipe(e->hs, sizeof(e->hs));
out_key:
	cpns_wipe(&key, sizeof(key));
	return reason;
}

/* Section 5.5 on m3 for a half-open exchange: 0 or the Abort reason. */
static int hs_resp_on_m3(struct cpns_hs_resp *r, struct hs_exch *e,
			 const uint8_t *raw, size_t len,
			 struct cpns_hs_actions *act)
{
	struct cpns_hs_trace *tr = r->cfg.trace;
	const uint8_t *ini = hs_val(r->msg, CPNS_TLV_INITIATOR_ID);
	const uint8_t *hash_i = hs_val(r->msg, CPNS_TLV_HASH_I);
	uint8_t th[CPNS_HASH_LEN], mac[CPNS_HASH_LEN];
	struct cpns_hs_install *in = &act->install;
	struct cpns_enc enc;
	int reason = CPNS_REASON_INTERNAL_ERROR;

	if (memcmp(ini, e->peer, CPNS_ID_LEN))
		return CPNS_REASON_BAD_IDENTITY;
	if (hs_th(e->m1, e->m1_len, e->m2, e->m2_len, NULL, 0, th) ||
	    hs_finished(e->hs, "i finished", th, mac,
			tr ? tr->k_i_finished : NULL))
		goto out;
	if (tr) {
		memcpy(tr->th_m1_m2, th, sizeof(th));
		memcpy(tr->hash_i, mac, sizeof(mac));
	}
	if (!cpns_memeq(mac, hash_i, CPNS_HASH_LEN)) {
		reason = CPNS_REASON_AUTH_FAILED;
		goto out;
	}
	if (hs_th(e->m1, e->m1_len, e->m2, e->m2_len, raw, len, th) ||
	    hs_finished(e->hs, "r finished", th, mac,
			tr ? tr->k_r_finished : NULL) ||
	    hs_master(e->hs, th, in->rx_ts, in->tx_ts, in->k_wrap_sess, tr))
		goto out;
	if (tr) {
		memcpy(tr->th_m1_m2_m3, th, sizeof(th));
		memcpy(tr->hash_r, mac, sizeof(mac));
	}
	cpns_enc_init(&enc, e->m4, sizeof(e->m4),
		      CPNS_MSG_SERVER_AUTH_RESPONSE);
	cpns_enc_put(&enc, CPNS_TLV_XID, e->xid, CPNS_XID_LEN);
	cpns_enc_put(&enc, CPNS_TLV_HASH_R, mac, sizeof(mac));
	if (cpns_enc_finish(&enc, &e->m4_len, NULL))
		goto out;
	e->m3 = malloc(len);
	if (!e->m3)
		goto out;
	memcpy(e->m3, raw, len);
	e->m3_len = len;
	memcpy(in->local_id, r->cfg.local_id, CPNS_ID_LEN);
	memcpy(in->peer_id, e->peer, CPNS_ID_LEN);
	in->generation = e->generation;
	in->suite = e->suite;
	in->role = CPNS_HS_ROLE_RESPONDER;
	in->tx_mode = CPNS_HS_TX_ON_CONFIRM;
	in->psk_kind = e->psk_kind;
	in->kid = e->kid;
	memcpy(in->xid, e->xid, CPNS_XID_LEN);
	act->install_valid = true;
	reason = 0;
out:
	if (reason)
		cpns_wipe(in, sizeof(*in));
	cpns_wipe(e->hs, sizeof(e->hs));
	cpns_wipe(mac, sizeof(mac));
	return reason;
}

/* A pair's exchange completed: its other half-open ones go (5.7). */
static void hs_resp_drop_pair(struct cpns_hs_resp *r, const struct hs_exch *keep)
{
	uint32_t i, next;

	for (i = *hs_peer_head(r, keep->peer); i != HS_NONE; i = next) {
		next = r->node[i].peer.next;
		if (&r->ex[i] != keep &&
		    !memcmp(r->ex[i].peer, keep->peer, CPNS_ID_LEN))
			hs_resp_release(r, &r->ex[i]);
	}
}

/**
 * cpns_hs_resp_recv() - feed a message received by the responder
 * @r: the responder
 * @msg: the record payload (msg_type onward)
 * @len: its length
 * @meta: how it arrived (@meta->src identifies the peer)
 * @act: the actions to carry out
 *
 * A new m1 is checked in the order of section 5.5; a failure is answered
 * with an Abort of that reason (subject to the limiter) and leaves no
 * state; success creates a half-open exchange and sends m2
 * (@act->assigned_generation). A byte-identical m1 or m3 of a known
 * exchange is answered with the cached m2 or m4; a differing one is
 * dropped. A valid m3 installs the generation (on-confirm) and sends m4;
 * a wrong HASH_I aborts AUTH_FAILED and discards the exchange without
 * install. A suite 0 Abort ends a half-open exchange only. Acks (the
 * initiator's confirmation Ack included) and messages of other procedures
 * are dropped: the confirmation Ack acts in the kernel.
 *
 * Return: an enum cpns_hs_verdict, or a negative errno for bad arguments.
 */
int cpns_hs_resp_recv(struct cpns_hs_resp *r, const uint8_t *msg, size_t len,
		      const struct cpns_hs_meta *meta,
		      struct cpns_hs_actions *act)
{
	struct hs_exch *e, *victim, tmp;
	uint8_t type;
	int rc;

	hs_act_reset(act);
	if (!meta || !meta->src || !meta->dst ||
	    meta->addr_len > CPNS_HS_ADDR_MAX ||
	    (meta->addr_len && !meta->addr))
		return -EINVAL;
	if (!hs_attributable(msg, len))
		return CPNS_HS_DROP;
	type = msg[0];
	if (!hs_is_h_type(type) || type == CPNS_MSG_ACK ||
	    meta->prot != CPNS_PROT_SUITE0)
		return CPNS_HS_DROP;
	e = hs_resp_find(r, meta->src, msg + 5);
	if (!e) {
		if (type != CPNS_MSG_CONNECT_REQUEST)
			return CPNS_HS_DROP;	/* starts no exchange */
		if (!hs_resp_admit(r, meta, &victim))
			return CPNS_HS_DROP;
		memcpy(act->peer_id, meta->src, CPNS_ID_LEN);
		memcpy(act->xid, msg + 5, CPNS_XID_LEN);
		rc = cpns_msg_decode(msg, len, r->msg, NULL);
		if (rc == CPNS_DECODE_DROP)
			return CPNS_HS_DROP;
		/* built aside: a rejected m1 must not evict anything */
		memset(&tmp, 0, sizeof(tmp));
		if (!rc)
			rc = hs_resp_on_m1(r, msg, len, meta, &tmp);
		if (rc == CPNS_HS_LOOKUP_DROP) {
			hs_exch_free(&tmp);
			memset(act, 0, sizeof(*act));
			return CPNS_HS_DROP;
		}
		if (rc) {
			hs_exch_free(&tmp);
			hs_abort(r->cfg.limiter, meta, msg + 5, rc, type, act);
			return CPNS_HS_FAILED;
		}
		if (victim)
			hs_resp_release(r, victim);
		tmp.born = ++r->born;
		tmp.expires = meta->now_ms + CPNS_HS_HALF_OPEN_MS;
		e = hs_resp_take(r, &tmp);	/* admitted: a position is free */
		cpns_wipe(&tmp, sizeof(tmp));
		act->assigned_generation = e->generation;
		hs_send(act, e->m2, e->m2_len, CPNS_PROT_SUITE0, 0);
		return CPNS_HS_CONTINUE;
	}

	memcpy(act->peer_id, e->peer, CPNS_ID_LEN);
	memcpy(act->xid, e->xid, CPNS_XID_LEN);
	switch (type) {
	case CPNS_MSG_CONNECT_REQUEST:
		if (len != e->m1_len || memcmp(msg, e->m1, len))
			return CPNS_HS_DROP;
		if (e->state == HS_R_HALF_OPEN)
			hs_resp_touch(r, e, meta->now_ms);
		hs_send(act, e->m2, e->m2_len, CPNS_PROT_SUITE0, 0);
		return CPNS_HS_CONTINUE;
	case CPNS_MSG_AUTH_RESPONSE:
		if (e->state == HS_R_DONE) {
			if (len != e->m3_len || memcmp(msg, e->m3, len))
				return CPNS_HS_DROP;
			hs_send(act, e->m4, e->m4_len, CPNS_PROT_SUITE0, 0);
			return CPNS_HS_CONTINUE;
		}
		break;
	case CPNS_MSG_ABORT:
		if (e->state != HS_R_HALF_OPEN ||
		    cpns_msg_decode(msg, len, r->msg, NULL))
			return CPNS_HS_DROP;
		act->peer_abort = *hs_val(r->msg, CPNS_TLV_REASON);
		hs_resp_release(r, e);
		return CPNS_HS_FAILED;
	default:
		if (e->state == HS_R_DONE)
			return CPNS_HS_DROP;
		break;
	}

	/* half-open: m3, or a message it does not expect */
	rc = cpns_msg_decode(msg, len, r->msg, NULL);
	if (rc == CPNS_DECODE_DROP)
		return CPNS_HS_DROP;
	if (!rc)
		rc = type == CPNS_MSG_AUTH_RESPONSE ?
			     hs_resp_on_m3(r, e, msg, len, act) :
			     CPNS_REASON_UNEXPECTED_MESSAGE;
	if (rc) {
		hs_resp_release(r, e);
		hs_abort(r->cfg.limiter, meta, msg + 5, rc, type, act);
		return CPNS_HS_FAILED;
	}
	hs_resp_done(r, e, meta->now_ms);
	hs_resp_drop_pair(r, e);
	hs_send(act, e->m4, e->m4_len, CPNS_PROT_SUITE0, 0);
	return CPNS_HS_COMPLETE;
}

/**
 * cpns_hs_resp_forget() - discard one exchange and its cached replies
 * @r: the responder
 * @peer: the initiator's entity ID
 * @xid: the exchange's XID
 *
 * For a caller that could not complete its side of an exchange the
 * engine completed (the install of its generation was refused or failed):
 * a repeat of m3 then gets no m4, and the initiator times out instead of
 * installing a generation the responder does not hold.
 */
void cpns_hs_resp_forget(struct cpns_hs_resp *r,
			 const uint8_t peer[CPNS_ID_LEN],
			 const uint8_t xid[CPNS_XID_LEN])
{
	struct hs_exch *e = hs_resp_find(r, peer, xid);

	if (e)
		hs_resp_release(r, e);
}

/**
 * cpns_hs_resp_next_deadline() - when cpns_hs_resp_expire() is next due
 * @r: the responder
 *
 * Return: the earliest expiry of an exchange, 0 if there is none.
 */
uint64_t cpns_hs_resp_next_deadline(const struct cpns_hs_resp *r)
{
	uint64_t half = 0, done = 0;

	if (r->half_tail != HS_NONE)
		half = r->ex[r->half_tail].expires;
	if (r->done_tail != HS_NONE)
		done = r->ex[r->done_tail].expires;
	if (!half || (done && done < half))
		return done;
	return half;
}

/**
 * cpns_hs_resp_expire() - discard expired state (sections 4.7, 11)
 * @r: the responder
 * @now_ms: current time
 *
 * Half-open exchanges live 30 s after the last message received, the
 * cached replies of completed ones 60 s.
 *
 * Return: the next deadline, 0 if nothing is left.
 */
uint64_t cpns_hs_resp_expire(struct cpns_hs_resp *r, uint64_t now_ms)
{
	while (r->half_tail != HS_NONE &&
	       now_ms >= r->ex[r->half_tail].expires)
		hs_resp_release(r, &r->ex[r->half_tail]);
	while (r->done_tail != HS_NONE &&
	       now_ms >= r->ex[r->done_tail].expires)
		hs_resp_release(r, &r->ex[r->done_tail]);
	return cpns_hs_resp_next_deadline(r);
}

/**
 * cpns_hs_resp_count() - exchanges held
 * @r: the responder
 * @half_open: if not NULL, receives the number of half-open ones
 *
 * Return: the number of exchanges (half-open and completed).
 */
unsigned int cpns_hs_resp_count(const struct cpns_hs_resp *r,
				unsigned int *half_open)
{
	unsigned int i, n = 0, h = 0;

	for (i = 0; i < r->cap; i++) {
		if (r->ex[i].state == HS_R_FREE)
			continue;
		n++;
		h += r->ex[i].state == HS_R_HALF_OPEN;
	}
	if (half_open)
		*half_open = h;
	return n;
}

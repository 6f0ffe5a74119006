// SPDX-License-Identifier: GPL-2.0
/*
 * The H(K) engine (cpns_hs): handshake_h.json replayed byte for byte, each
 * role alone against the recorded peer messages and both against each
 * other; handshake_negative.json through a responder; duplicates,
 * retransmission and confirmation schedules, generation refusals,
 * DHE_REQUIRED for DeviceKey, BINDING, the Abort limiter and the
 * half-open bounds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpns_crypto.h"
#include "cpns_hs.h"
#include "cpns_tlv.h"
#include "tap.h"
#include "vec.h"

#define PORT1	CPNS_PORT_HANDSHAKE

/* ---- a key store for the responder ------------------------------------ */

struct store_key {
	uint8_t id[CPNS_ID_LEN];
	uint8_t kind;
	uint32_t kid;
	uint8_t k[CPNS_KEY_LEN];
	bool has_binding;
	uint8_t binding[CPNS_HASH_LEN];
};

struct store {
	struct store_key keys[4];
	size_t n;
	bool require_dhe;
	int locked;		/* lookup answer for a locked-out initiator */
	uint8_t last_gen;
	uint8_t held[2];
	size_t n_held;
	unsigned int calls;
};

static int store_lookup(void *ctx, const struct cpns_hs_key_req *req,
			struct cpns_hs_key *key)
{
	struct store *s = ctx;
	bool known = false;
	size_t i;

	s->calls++;
	if (s->locked)
		return s->locked;
	for (i = 0; i < s->n; i++) {
		const struct store_key *k = &s->keys[i];

		if (memcmp(k->id, req->initiator_id, CPNS_ID_LEN))
			continue;
		known = true;
		if (k->kind != req->psk_kind || k->kid != req->kid)
			continue;
		memcpy(key->k, k->k, CPNS_KEY_LEN);
		key->has_binding = k->has_binding;
		memcpy(key->binding, k->binding, CPNS_HASH_LEN);
		key->require_dhe = s->require_dhe;
		key->last_gen = s->last_gen;
		memcpy(key->held, s->held, sizeof(s->held));
		key->n_held = s->n_held;
		return 0;
	}
	return known ? CPNS_REASON_UNKNOWN_KEY : CPNS_REASON_NOT_AUTHORIZED;
}

/* ---- vector helpers --------------------------------------------------- */

struct draws {
	uint8_t *d[4];
	size_t l[4];
	size_t n;
	struct cpns_rng_replay rp;
	struct cpns_rng rng;
};

static void draws_load(struct draws *dr, struct json_object *arr)
{
	size_t i;

	memset(dr, 0, sizeof(*dr));
	dr->n = json_object_array_length(arr);
	for (i = 0; i < dr->n && i < 4; i++)
		dr->d[i] = hex_decode(
			json_object_get_string(json_object_array_get_idx(arr, i)),
			&dr->l[i]);
	cpns_rng_replay_init(&dr->rng, &dr->rp, (const uint8_t *const *)dr->d,
			     dr->l, dr->n);
}

static void draws_free(struct draws *dr)
{
	size_t i;

	for (i = 0; i < dr->n && i < 4; i++)
		free(dr->d[i]);
}

static void hex_to(struct json_object *o, const char *key, uint8_t *out,
		   size_t len)
{
	size_t l = 0;
	uint8_t *b = vec_hex(o, key, &l);

	if (!b || l != len)
		tap_bail("vector field %s: bad length", key);
	memcpy(out, b, len);
	free(b);
}

static bool eq_hex(struct json_object *o, const char *key, const uint8_t *p,
		   size_t len)
{
	size_t l = 0;
	uint8_t *b = vec_hex(o, key, &l);
	bool ok = b && hex_eq(b, l, p, len);

	free(b);
	return ok;
}

static void suites_from(struct json_object *arr, uint8_t *s, size_t *n)
{
	size_t i;

	*n = json_object_array_length(arr);
	for (i = 0; i < *n; i++)
		s[i] = (uint8_t)json_object_get_int(
			json_object_array_get_idx(arr, i));
}

static void init_cfg_from(struct cpns_hs_init_cfg *c, struct json_object *in)
{
	memset(c, 0, sizeof(*c));
	hex_to(in, "initiator_id", c->local_id, CPNS_ID_LEN);
	hex_to(in, "responder_id", c->peer_id, CPNS_ID_LEN);
	hex_to(in, "K", c->k, CPNS_KEY_LEN);
	c->psk_kind = (uint8_t)vec_int(in, "psk_kind");
	c->kid = (uint32_t)vec_int(in, "kid");
	suites_from(vec_get(in, "suites_offered"), c->suites, &c->n_suites);
	c->mode = (uint8_t)vec_int(in, "mode");
	c->prev_gen = (uint8_t)vec_int(in, "prev_gen");
	if (c->prev_gen) {
		c->held[0] = c->prev_gen;
		c->n_held = 1;
	}
}

static void store_from(struct store *s, struct json_object *in)
{
	memset(s, 0, sizeof(*s));
	s->n = 1;
	hex_to(in, "initiator_id", s->keys[0].id, CPNS_ID_LEN);
	hex_to(in, "K", s->keys[0].k, CPNS_KEY_LEN);
	s->keys[0].kind = (uint8_t)vec_int(in, "psk_kind");
	s->keys[0].kid = (uint32_t)vec_int(in, "kid");
	s->last_gen = (uint8_t)vec_int(in, "responder_last_generation");
	if (s->last_gen) {
		/* the responder holds the generation it assigned last */
		s->held[0] = s->last_gen;
		s->n_held = 1;
	}
}

static void resp_cfg_from(struct cpns_hs_resp_cfg *c, struct json_object *in,
			  struct json_object *suites, struct store *s)
{
	memset(c, 0, sizeof(*c));
	hex_to(in, "responder_id", c->local_id, CPNS_ID_LEN);
	suites_from(suites, c->suites, &c->n_suites);
	c->lookup = store_lookup;
	c->lookup_ctx = s;
}

static struct cpns_hs_meta meta_of(const uint8_t *src, const uint8_t *dst,
				   uint64_t now, unsigned int prot)
{
	static const uint8_t addr[] = { 192, 0, 2, 21, 0x1e, 0xbe };
	struct cpns_hs_meta m = {
		.prot = prot, .src = src, .dst = dst, .addr = addr,
		.addr_len = sizeof(addr), .now_ms = now,
	};

	return m;
}

static bool sent(const struct cpns_hs_actions *a, const uint8_t *m, size_t l)
{
	return a->send_valid && hex_eq(a->send.msg, a->send.len, m, l);
}

static bool sent_hex(const struct cpns_hs_actions *a, struct json_object *o,
		     const char *key)
{
	return a->send_valid && eq_hex(o, key, a->send.msg, a->send.len);
}

static const struct {
	const char *name;
	size_t off;
} trace_fields[] = {
	{ "K_hs", offsetof(struct cpns_hs_trace, k_hs) },
	{ "ES", offsetof(struct cpns_hs_trace, es) },
	{ "derived", offsetof(struct cpns_hs_trace, derived) },
	{ "DHE", offsetof(struct cpns_hs_trace, dhe) },
	{ "HS", offsetof(struct cpns_hs_trace, hs) },
	{ "TH_m1_m2", offsetof(struct cpns_hs_trace, th_m1_m2) },
	{ "TH_m1_m2_m3", offsetof(struct cpns_hs_trace, th_m1_m2_m3) },
	{ "K_i_finished", offsetof(struct cpns_hs_trace, k_i_finished) },
	{ "K_r_finished", offsetof(struct cpns_hs_trace, k_r_finished) },
	{ "hash_I", offsetof(struct cpns_hs_trace, hash_i) },
	{ "hash_R", offsetof(struct cpns_hs_trace, hash_r) },
	{ "MS", offsetof(struct cpns_hs_trace, ms) },
	{ "ts_i2r", offsetof(struct cpns_hs_trace, ts_i2r) },
	{ "ts_r2i", offsetof(struct cpns_hs_trace, ts_r2i) },
	{ "K_wrap_sess", offsetof(struct cpns_hs_trace, k_wrap_sess) },
};

static void check_trace(const char *who, const char *name,
			const struct cpns_hs_trace *tr, struct json_object *der)
{
	size_t i;
	char bad[512] = "";

	for (i = 0; i < sizeof(trace_fields) / sizeof(trace_fields[0]); i++)
		if (!eq_hex(der, trace_fields[i].name,
			    (const uint8_t *)tr + trace_fields[i].off, 32)) {
			strncat(bad, " ", sizeof(bad) - strlen(bad) - 1);
			strncat(bad, trace_fields[i].name,
				sizeof(bad) - strlen(bad) - 1);
		}
	tap_ok(!bad[0], "%s: %s: every intermediate secret matches%s%s", name,
	       who, bad[0] ? ": wrong" : "", bad);
}

/* install parameters against the vector's session (2.4) */
static bool install_ok(const struct cpns_hs_install *in, bool initiator,
		       struct json_object *c)
{
	struct json_object *der = vec_get(c, "derived");
	struct json_object *ses = vec_get(c, "session");
	struct json_object *inp = vec_get(c, "inputs");

	return in->generation == vec_int(ses, "generation") &&
	       in->suite == vec_int(ses, "suite") &&
	       eq_hex(der, initiator ? "ts_i2r" : "ts_r2i", in->tx_ts, 32) &&
	       eq_hex(der, initiator ? "ts_r2i" : "ts_i2r", in->rx_ts, 32) &&
	       eq_hex(der, "K_wrap_sess", in->k_wrap_sess, 32) &&
	       eq_hex(inp, initiator ? "initiator_id" : "responder_id",
		      in->local_id, 16) &&
	       eq_hex(inp, initiator ? "responder_id" : "initiator_id",
		      in->peer_id, 16) &&
	       in->role == (initiator ? CPNS_HS_ROLE_INITIATOR :
					CPNS_HS_ROLE_RESPONDER) &&
	       in->tx_mode == (initiator ? CPNS_HS_TX_IMMEDIATE :
					   CPNS_HS_TX_ON_CONFIRM) &&
	       eq_hex(inp, "xid", in->xid, 8);
}

/* the epoch 0 keys and the confirmation Ack record (2.10) */
static void check_records(const char *name, const struct cpns_hs_install *in,
			  const struct cpns_hs_actions *ack,
			  struct json_object *c)
{
	struct json_object *ses = vec_get(c, "session");
	struct json_object *msgs = vec_get(c, "messages");
	struct json_object *recs = vec_get(c, "suite0_records");
	static const char *const mk[] = { "m1_ConnectRequest", "m2_AuthRequest",
					  "m3_AuthResponse",
					  "m4_ServerAuthResponse" };
	uint8_t key[CPNS_KEY_LEN], iv[CPNS_IV_LEN], rec[CPNS_RECORD_MAX];
	struct cpns_record_hdr h = {
		.version = CPNS_REC_VERSION, .type = CPNS_REC_TYPE_HANDSHAKE,
		.src_port = PORT1, .dst_port = PORT1,
	};
	size_t rl = 0, ml, i;
	uint8_t *m;
	bool ok = true;

	cpns_epoch_keys(in->tx_ts, key, iv);
	tap_ok(eq_hex(vec_get(ses, "i2r_epoch0"), "key", key, 32) &&
		       eq_hex(vec_get(ses, "i2r_epoch0"), "iv", iv, 12),
	       "%s: i2r epoch 0 key and iv", name);
	tap_ok(ack->send_valid && ack->send.prot == CPNS_PROT_PROTECTED &&
		       ack->send.generation == in->generation &&
		       eq_hex(ses, "confirm_ack", ack->send.msg, ack->send.len),
	       "%s: confirmation Ack, protected on generation %u", name,
	       in->generation);
	h.flags = CPNS_REC_FLAG_C;
	h.suite = in->suite;
	h.generation = in->generation;
	memcpy(h.src, in->local_id, CPNS_ID_LEN);
	memcpy(h.dst, in->peer_id, CPNS_ID_LEN);
	tap_ok(!cpns_record_seal(&h, key, iv, ack->send.msg, ack->send.len, rec,
				 sizeof(rec), &rl) &&
		       eq_hex(ses, "confirm_ack_record_i2r", rec, rl),
	       "%s: confirm_ack_record_i2r (seq 0, epoch 0)", name);
	cpns_epoch_keys(in->rx_ts, key, iv);
	tap_ok(eq_hex(vec_get(ses, "r2i_epoch0"), "key", key, 32) &&
		       eq_hex(vec_get(ses, "r2i_epoch0"), "iv", iv, 12),
	       "%s: r2i epoch 0 key and iv", name);
	/* the four suite 0 records */
	for (i = 0; i < 4; i++) {
		struct cpns_record_hdr s0 = {
			.version = CPNS_REC_VERSION,
			.type = CPNS_REC_TYPE_HANDSHAKE,
			.src_port = PORT1, .dst_port = PORT1,
		};
		const char *exp = json_object_get_string(
			json_object_array_get_idx(recs, i));
		size_t el;
		uint8_t *e = hex_decode(exp, &el);

		m = vec_hex(msgs, mk[i], &ml);
		memcpy(s0.src, i % 2 ? in->peer_id : in->local_id, 16);
		memcpy(s0.dst, i % 2 ? in->local_id : in->peer_id, 16);
		ok = ok && !cpns_record_seal(&s0, key, iv, m, ml, rec,
					     sizeof(rec), &rl) &&
		     hex_eq(rec, rl, e, el);
		free(m);
		free(e);
	}
	tap_ok(ok, "%s: the four suite 0 records", name);
	cpns_wipe(key, sizeof(key));
}

/* ---- handshake_h.json ------------------------------------------------- */

/* The initiator alone, fed with the recorded m2 and m4. */
static void run_initiator(struct json_object *c, const char *name)
{
	struct json_object *in = vec_get(c, "inputs");
	struct json_object *msgs = vec_get(c, "messages");
	struct cpns_hs_init_cfg cfg;
	struct cpns_hs_trace tr;
	struct cpns_hs_actions a;
	struct cpns_hs_init *hs;
	struct cpns_hs_meta meta;
	struct cpns_hs_install inst;
	struct draws dr;
	uint8_t *m;
	size_t ml;
	int err, v;

	init_cfg_from(&cfg, in);
	draws_load(&dr, vec_get(in, "initiator_random_draws"));
	cfg.rng = &dr.rng;
	cfg.trace = &tr;
	meta = meta_of(cfg.peer_id, cfg.local_id, 100, CPNS_PROT_SUITE0);
	hs = cpns_hs_init_new(&cfg, 0, &a, &err);
	tap_ok(hs && sent_hex(&a, msgs, "m1_ConnectRequest") &&
		       a.send.prot == CPNS_PROT_SUITE0 && a.deadline_ms == 1000,
	       "%s: initiator: m1 byte-exact (err %d)", name, err);
	if (!hs)
		goto out;
	m = vec_hex(msgs, "m2_AuthRequest", &ml);
	v = cpns_hs_init_recv(hs, m, ml, &meta, &a);
	free(m);
	tap_ok(v == CPNS_HS_CONTINUE && sent_hex(&a, msgs, "m3_AuthResponse") &&
		       !a.install_valid && dr.rp.next == dr.n,
	       "%s: initiator: recorded m2 -> m3 byte-exact, all draws used",
	       name);
	m = vec_hex(msgs, "m4_ServerAuthResponse", &ml);
	meta.now_ms = 200;
	v = cpns_hs_init_recv(hs, m, ml, &meta, &a);
	free(m);
	tap_ok(v == CPNS_HS_COMPLETE && a.install_valid &&
		       install_ok(&a.install, true, c),
	       "%s: initiator: recorded m4 -> install (immediate) matches", name);
	check_trace("initiator", name, &tr, vec_get(c, "derived"));
	inst = a.install;
	check_records(name, &inst, &a, c);
	cpns_wipe(&inst, sizeof(inst));
	cpns_hs_actions_wipe(&a);
	cpns_hs_init_free(hs);
out:
	draws_free(&dr);
}

/* The responder alone, fed with the recorded m1 and m3. */
static void run_responder(struct json_object *c, const char *name)
{
	struct json_object *in = vec_get(c, "inputs");
	struct json_object *msgs = vec_get(c, "messages");
	struct cpns_hs_resp_cfg cfg;
	struct cpns_hs_trace tr;
	struct cpns_hs_actions a;
	struct cpns_hs_resp *r;
	struct cpns_hs_meta meta;
	struct store st;
	struct draws dr;
	uint8_t ini[16], *m;
	size_t ml;
	int v;

	store_from(&st, in);
	resp_cfg_from(&cfg, in, vec_get(in, "responder_suites"), &st);
	draws_load(&dr, vec_get(in, "responder_random_draws"));
	cfg.rng = &dr.rng;
	cfg.trace = &tr;
	hex_to(in, "initiator_id", ini, 16);
	r = cpns_hs_resp_new(&cfg);
	if (!r)
		tap_bail("cpns_hs_resp_new");
	meta = meta_of(ini, cfg.local_id, 50, CPNS_PROT_SUITE0);
	m = vec_hex(msgs, "m1_ConnectRequest", &ml);
	v = cpns_hs_resp_recv(r, m, ml, &meta, &a);
	free(m);
	tap_ok(v == CPNS_HS_CONTINUE && sent_hex(&a, msgs, "m2_AuthRequest") &&
		       a.assigned_generation ==
			       vec_int(vec_get(c, "session"), "generation") &&
		       dr.rp.next == dr.n,
	       "%s: responder: recorded m1 -> m2 byte-exact (generation %u)",
	       name, a.assigned_generation);
	m = vec_hex(msgs, "m3_AuthResponse", &ml);
	v = cpns_hs_resp_recv(r, m, ml, &meta, &a);
	free(m);
	tap_ok(v == CPNS_HS_COMPLETE &&
		       sent_hex(&a, msgs, "m4_ServerAuthResponse") &&
		       a.install_valid && install_ok(&a.install, false, c),
	       "%s: responder: recorded m3 -> install (on-confirm), m4 byte-exact",
	       name);
	check_trace("responder", name, &tr, vec_get(c, "derived"));
	cpns_hs_actions_wipe(&a);
	cpns_hs_resp_free(r);
	draws_free(&dr);
}

/* Both engines against each other, with the vector's draws. */
static void run_both(struct json_object *c, const char *name)
{
	struct json_object *in = vec_get(c, "inputs");
	struct cpns_hs_init_cfg icfg;
	struct cpns_hs_resp_cfg rcfg;
	struct cpns_hs_actions ai, ar;
	struct cpns_hs_meta mi, mr;
	struct cpns_hs_init *hs;
	struct cpns_hs_resp *r;
	struct draws di, dr;
	struct store st;
	int err, v1, v2;
	bool ok;

	init_cfg_from(&icfg, in);
	store_from(&st, in);
	resp_cfg_from(&rcfg, in, vec_get(in, "responder_suites"), &st);
	draws_load(&di, vec_get(in, "initiator_random_draws"));
	draws_load(&dr, vec_get(in, "responder_random_draws"));
	icfg.rng = &di.rng;
	rcfg.rng = &dr.rng;
	r = cpns_hs_resp_new(&rcfg);
	hs = cpns_hs_init_new(&icfg, 0, &ai, &err);
	if (!r || !hs)
		tap_bail("engine setup");
	mi = meta_of(icfg.peer_id, icfg.local_id, 10, CPNS_PROT_SUITE0);
	mr = meta_of(icfg.local_id, icfg.peer_id, 10, CPNS_PROT_SUITE0);
	cpns_hs_resp_recv(r, ai.send.msg, ai.send.len, &mr, &ar);
	cpns_hs_init_recv(hs, ar.send.msg, ar.send.len, &mi, &ai);
	v1 = cpns_hs_resp_recv(r, ai.send.msg, ai.send.len, &mr, &ar);
	v2 = cpns_hs_init_recv(hs, ar.send.msg, ar.send.len, &mi, &ai);
	ok = v1 == CPNS_HS_COMPLETE && v2 == CPNS_HS_COMPLETE &&
	     install_ok(&ai.install, true, c) &&
	     install_ok(&ar.install, false, c);
	tap_ok(ok, "%s: initiator and responder against each other agree",
	       name);
	/* the confirmation Ack means nothing to the responder's service */
	mr.prot = CPNS_PROT_PROTECTED;
	tap_ok(cpns_hs_resp_recv(r, ai.send.msg, ai.send.len, &mr, &ar) ==
			       CPNS_HS_DROP && !ar.send_valid,
	       "%s: responder ignores the confirmation Ack", name);
	cpns_hs_actions_wipe(&ai);
	cpns_hs_actions_wipe(&ar);
	cpns_hs_init_free(hs);
	cpns_hs_resp_free(r);
	draws_free(&di);
	draws_free(&dr);
}

static void test_vectors(void)
{
	struct json_object *v = vec_load("handshake_h.json");
	struct json_object *cases = vec_get(v, "cases");
	size_t i, n = json_object_array_length(cases);

	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(cases, i);
		const char *name = vec_str(c, "name");

		run_initiator(c, name);
		run_responder(c, name);
		run_both(c, name);
	}
	json_object_put(v);
}

/* ---- handshake_negative.json ------------------------------------------ */

static int reason_by_name(const char *name)
{
	unsigned int i;

	for (i = 1; cpns_reason_name(i); i++)
		if (!strcmp(cpns_reason_name(i), name))
			return (int)i;
	return -1;
}

static struct cpns_hs_resp *neg_responder(struct json_object *setup,
					  struct store *st, bool require_dhe,
					  const struct cpns_rng *rng)
{
	struct json_object *keys = vec_get(setup, "known_keys");
	struct cpns_hs_resp_cfg cfg;
	size_t i;

	memset(st, 0, sizeof(*st));
	st->n = json_object_array_length(keys);
	for (i = 0; i < st->n && i < 4; i++) {
		struct json_object *k = json_object_array_get_idx(keys, i);

		hex_to(k, "initiator_id", st->keys[i].id, 16);
		hex_to(k, "K", st->keys[i].k, 32);
		st->keys[i].kind = (uint8_t)vec_int(k, "psk_kind");
		st->keys[i].kid = (uint32_t)vec_int(k, "kid");
	}
	st->require_dhe = require_dhe ||
			  json_object_get_boolean(vec_get(setup, "require_dhe"));
	resp_cfg_from(&cfg, setup, vec_get(setup, "suites"), st);
	cfg.rng = rng;
	return cpns_hs_resp_new(&cfg);
}

static bool abort_ok(const struct cpns_hs_actions *a, int reason,
		     const uint8_t *xid, uint8_t ref)
{
	struct cpns_msg *m = malloc(sizeof(*m));
	const struct cpns_tlv *t, *mr;
	bool ok;

	ok = m && a->send_valid && a->send.prot == CPNS_PROT_SUITE0 &&
	     !cpns_msg_decode(a->send.msg, a->send.len, m, NULL) &&
	     m->msg_type == CPNS_MSG_ABORT && !memcmp(m->xid, xid, 8);
	if (ok) {
		t = cpns_msg_find(m, NULL, CPNS_TLV_REASON);
		mr = cpns_msg_find(m, NULL, CPNS_TLV_MSG_REF);
		ok = t->value[0] == reason && mr && mr->value[0] == ref;
	}
	free(m);
	return ok && a->reason == reason;
}

static void test_negative(void)
{
	struct json_object *v = vec_load("handshake_negative.json");
	struct json_object *cases = vec_get(v, "cases");
	struct json_object *setup = vec_get(v, "responder_setup");
	struct json_object *m3c = vec_get(v, "m3_case");
	size_t i, n = json_object_array_length(cases), l, ml;
	struct cpns_hs_actions a;
	struct cpns_hs_resp *r;
	struct cpns_hs_meta meta;
	struct store st;
	struct draws dr;
	uint8_t self[16], src[16], dst[16], *m;
	unsigned int cnt, half;
	int vd;

	hex_to(setup, "responder_id", self, 16);
	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(cases, i);
		struct json_object *pol = vec_get(c, "responder_policy");
		const char *name = vec_str(c, "name");
		const char *expect = vec_str(c, "expect");
		bool rdhe = pol && json_object_get_boolean(
					   vec_get(pol, "require_dhe"));

		r = neg_responder(setup, &st, rdhe, NULL);
		if (!r)
			tap_bail("responder");
		hex_to(c, "record_src", src, 16);
		hex_to(c, "record_dst", dst, 16);
		m = vec_hex(c, "message", &ml);
		meta = meta_of(src, dst, 1000, CPNS_PROT_SUITE0);
		vd = cpns_hs_resp_recv(r, m, ml, &meta, &a);
		cnt = cpns_hs_resp_count(r, &half);
		if (!strcmp(expect, "drop")) {
			tap_ok(vd == CPNS_HS_DROP && !a.send_valid && !cnt,
			       "negative: %s: dropped silently", name);
		} else if (!strcmp(expect, "accept")) {
			tap_ok(vd == CPNS_HS_CONTINUE && a.send_valid &&
				       a.send.msg[0] == CPNS_MSG_AUTH_REQUEST &&
				       half == 1,
			       "negative: %s: answered with m2", name);
		} else {
			int want = reason_by_name(vec_str(c, "expect_abort"));

			tap_ok(vd == CPNS_HS_FAILED &&
				       abort_ok(&a, want, m + 5, m[0]) && !cnt,
			       "negative: %s: Abort %s (got %s), no state", name,
			       vec_str(c, "expect_abort"),
			       a.reason ? cpns_reason_name(a.reason) : "none");
		}
		free(m);
		cpns_hs_resp_free(r);
	}

	/* m3 with a wrong hash_I */
	draws_load(&dr, vec_get(m3c, "responder_random_draws"));
	r = neg_responder(setup, &st, false, &dr.rng);
	m = vec_hex(m3c, "m1", &ml);
	memcpy(src, m + 1 + 12 + 4, 16);	/* INITIATOR_ID follows XID */
	meta = meta_of(src, self, 1000, CPNS_PROT_SUITE0);
	vd = cpns_hs_resp_recv(r, m, ml, &meta, &a);
	free(m);
	tap_ok(vd == CPNS_HS_CONTINUE && sent_hex(&a, m3c, "m2"),
	       "negative: m3_case: m1 answered with the recorded m2");
	m = vec_hex(m3c, "m3", &ml);
	vd = cpns_hs_resp_recv(r, m, ml, &meta, &a);
	tap_ok(vd == CPNS_HS_FAILED && !a.install_valid &&
		       abort_ok(&a, reason_by_name(vec_str(m3c, "expect_abort")),
				m + 5, CPNS_MSG_AUTH_RESPONSE) &&
		       !cpns_hs_resp_count(r, NULL),
	       "negative: m3_case: %s, no install, exchange discarded",
	       vec_str(m3c, "expect_abort"));
	/* the exchange is gone: the same m3 again is dropped silently */
	vd = cpns_hs_resp_recv(r, m, ml, &meta, &a);
	tap_ok(vd == CPNS_HS_DROP && !a.send_valid,
	       "negative: m3_case: m3 of a discarded exchange is dropped");
	free(m);
	cpns_hs_resp_free(r);
	draws_free(&dr);
	(void)l;
	json_object_put(v);
}

/* ---- behaviour beyond the vectors ------------------------------------- */

static struct json_object *hv;

static struct json_object *hcase(size_t i)
{
	return json_object_array_get_idx(vec_get(hv, "cases"), i);
}

/* Duplicates (4.7): same reply, no new state, no new randomness. */
static void test_duplicates(void)
{
	struct json_object *c = hcase(1), *in = vec_get(c, "inputs");
	struct json_object *msgs = vec_get(c, "messages");
	struct cpns_hs_resp_cfg cfg;
	struct cpns_hs_actions a;
	struct cpns_hs_resp *r;
	struct cpns_hs_meta meta;
	struct store st;
	struct draws dr;
	uint8_t ini[16], *m1, *m3, m2c[CPNS_HS_SEND_MAX], m4c[CPNS_HS_SEND_MAX];
	size_t l1, l3, l2c, l4c;
	unsigned int calls;
	int v;

	store_from(&st, in);
	resp_cfg_from(&cfg, in, vec_get(in, "responder_suites"), &st);
	draws_load(&dr, vec_get(in, "responder_random_draws"));
	cfg.rng = &dr.rng;	/* a second draw would fail with -ERANGE */
	hex_to(in, "initiator_id", ini, 16);
	r = cpns_hs_resp_new(&cfg);
	meta = meta_of(ini, cfg.local_id, 0, CPNS_PROT_SUITE0);
	m1 = vec_hex(msgs, "m1_ConnectRequest", &l1);
	m3 = vec_hex(msgs, "m3_AuthResponse", &l3);
	cpns_hs_resp_recv(r, m1, l1, &meta, &a);
	memcpy(m2c, a.send.msg, a.send.len);
	l2c = a.send.len;
	calls = st.calls;
	meta.now_ms = 1000;
	v = cpns_hs_resp_recv(r, m1, l1, &meta, &a);
	tap_ok(v == CPNS_HS_CONTINUE && sent(&a, m2c, l2c) &&
		       cpns_hs_resp_count(r, NULL) == 1 && st.calls == calls &&
		       !a.assigned_generation,
	       "duplicate m1: the cached m2, byte-identical, no new state");
	m1[l1 - 1] ^= 1;	/* same XID, different KID */
	v = cpns_hs_resp_recv(r, m1, l1, &meta, &a);
	tap_ok(v == CPNS_HS_DROP && !a.send_valid,
	       "differing m1 with a known XID: dropped silently");
	v = cpns_hs_resp_recv(r, m3, l3, &meta, &a);
	memcpy(m4c, a.send.msg, a.send.len);
	l4c = a.send.len;
	tap_ok(v == CPNS_HS_COMPLETE && a.install_valid,
	       "m3 completes the exchange");
	v = cpns_hs_resp_recv(r, m3, l3, &meta, &a);
	tap_ok(v == CPNS_HS_CONTINUE && sent(&a, m4c, l4c) && !a.install_valid &&
		       cpns_hs_resp_count(r, NULL) == 1,
	       "duplicate m3: the cached m4, byte-identical, no second install");
	m3[l3 - 1] ^= 1;
	v = cpns_hs_resp_recv(r, m3, l3, &meta, &a);
	tap_ok(v == CPNS_HS_DROP && !a.send_valid,
	       "differing m3 after completion: dropped silently");
	m1[l1 - 1] ^= 1;
	v = cpns_hs_resp_recv(r, m1, l1, &meta, &a);
	tap_ok(v == CPNS_HS_CONTINUE && sent(&a, m2c, l2c),
	       "duplicate m1 after completion: still the cached m2");
	tap_ok(cpns_hs_resp_expire(r, 60999) == 61000 &&
		       cpns_hs_resp_count(r, NULL) == 1 &&
		       !cpns_hs_resp_expire(r, 61000) &&
		       !cpns_hs_resp_count(r, NULL),
	       "replies of a completed exchange are kept 60 s");
	/* a half-open exchange lives 30 s after the last message */
	dr.rp.next = 0;
	cpns_hs_resp_recv(r, m1, l1, &meta, &a);
	tap_ok(cpns_hs_resp_next_deadline(r) == 31000 &&
		       !cpns_hs_resp_expire(r, 31000),
	       "half-open state is discarded after 30 s");
	/* one its caller could not complete (install refused) is forgotten */
	dr.rp.next = 0;
	cpns_hs_resp_recv(r, m1, l1, &meta, &a);
	m3[l3 - 1] ^= 1;
	v = cpns_hs_resp_recv(r, m3, l3, &meta, &a);
	cpns_hs_resp_forget(r, ini, m1 + 5);
	tap_ok(v == CPNS_HS_COMPLETE && !cpns_hs_resp_count(r, NULL) &&
		       cpns_hs_resp_recv(r, m3, l3, &meta, &a) == CPNS_HS_DROP &&
		       !a.send_valid && !a.install_valid,
	       "a forgotten exchange: a repeated m3 gets no m4 and installs nothing");
	cpns_hs_actions_wipe(&a);
	free(m1);
	free(m3);
	cpns_hs_resp_free(r);
	draws_free(&dr);
}

/* An initiator of case i run up to m4 awaited; returns it. */
static struct cpns_hs_init *init_to_m4(size_t i, struct draws *dr,
				       struct cpns_hs_init_cfg *cfg,
				       struct cpns_hs_meta *meta,
				       struct cpns_hs_actions *a, uint64_t t)
{
	struct json_object *c = hcase(i), *in = vec_get(c, "inputs");
	struct cpns_hs_init *hs;
	uint8_t *m;
	size_t ml;
	int err;

	init_cfg_from(cfg, in);
	draws_load(dr, vec_get(in, "initiator_random_draws"));
	cfg->rng = &dr->rng;
	hs = cpns_hs_init_new(cfg, 0, a, &err);
	if (!hs)
		tap_bail("initiator setup: %d", err);
	*meta = meta_of(cfg->peer_id, cfg->local_id, t, CPNS_PROT_SUITE0);
	m = vec_hex(vec_get(c, "messages"), "m2_AuthRequest", &ml);
	cpns_hs_init_recv(hs, m, ml, meta, a);
	free(m);
	return hs;
}

static void test_initiator_rules(void)
{
	struct json_object *c = hcase(0), *msgs = vec_get(c, "messages");
	struct cpns_hs_init_cfg cfg;
	struct cpns_hs_actions a;
	struct cpns_hs_init *hs;
	struct cpns_hs_meta meta;
	struct draws dr;
	uint8_t m3c[CPNS_HS_SEND_MAX], *m;
	size_t l3c, ml;
	int v, err;

	/* duplicate m2 while waiting for m4: the same m3 */
	hs = init_to_m4(0, &dr, &cfg, &meta, &a, 5000);
	memcpy(m3c, a.send.msg, a.send.len);
	l3c = a.send.len;
	m = vec_hex(msgs, "m2_AuthRequest", &ml);
	v = cpns_hs_init_recv(hs, m, ml, &meta, &a);
	tap_ok(v == CPNS_HS_CONTINUE && sent(&a, m3c, l3c),
	       "initiator: duplicate m2 answered with the same m3");
	m[ml - 1] = 7;
	v = cpns_hs_init_recv(hs, m, ml, &meta, &a);
	tap_ok(v == CPNS_HS_DROP && !a.send_valid,
	       "initiator: differing m2 after processing one: dropped");
	free(m);
	/* wrong HASH_R */
	m = vec_hex(msgs, "m4_ServerAuthResponse", &ml);
	m[ml - 1] ^= 0x80;
	v = cpns_hs_init_recv(hs, m, ml, &meta, &a);
	tap_ok(v == CPNS_HS_FAILED && !a.install_valid &&
		       abort_ok(&a, CPNS_REASON_AUTH_FAILED, m + 5,
				CPNS_MSG_SERVER_AUTH_RESPONSE),
	       "initiator: wrong hash_R -> AUTH_FAILED, no install");
	m[ml - 1] ^= 0x80;
	v = cpns_hs_init_recv(hs, m, ml, &meta, &a);
	tap_ok(v == CPNS_HS_DROP && !a.install_valid,
	       "initiator: the right m4 after the failure changes nothing");
	free(m);
	cpns_hs_init_free(hs);
	draws_free(&dr);

	/* GENERATION held or 0 (5.6) */
	init_cfg_from(&cfg, vec_get(c, "inputs"));
	draws_load(&dr, vec_get(vec_get(c, "inputs"),
				"initiator_random_draws"));
	cfg.rng = &dr.rng;
	cfg.held[0] = 1;	/* held, but PREV_GEN 0: m1 stays the same */
	cfg.n_held = 1;
	hs = cpns_hs_init_new(&cfg, 0, &a, &err);
	m = vec_hex(msgs, "m2_AuthRequest", &ml);
	meta = meta_of(cfg.peer_id, cfg.local_id, 0, CPNS_PROT_SUITE0);
	v = cpns_hs_init_recv(hs, m, ml, &meta, &a);
	tap_ok(hs && v == CPNS_HS_FAILED && !a.install_valid &&
		       abort_ok(&a, CPNS_REASON_GENERATION_CONFLICT, m + 5,
				CPNS_MSG_AUTH_REQUEST),
	       "initiator: GENERATION it holds -> GENERATION_CONFLICT");
	cpns_hs_init_free(hs);
	draws_free(&dr);
	cfg.n_held = 0;
	draws_load(&dr, vec_get(vec_get(c, "inputs"),
				"initiator_random_draws"));
	cfg.rng = &dr.rng;
	hs = cpns_hs_init_new(&cfg, 0, &a, &err);
	m[ml - 1] = 0;	/* GENERATION is the last TLV */
	v = cpns_hs_init_recv(hs, m, ml, &meta, &a);
	tap_ok(hs && v == CPNS_HS_FAILED &&
		       a.reason == CPNS_REASON_GENERATION_CONFLICT,
	       "initiator: GENERATION 0 -> GENERATION_CONFLICT");
	free(m);
	cpns_hs_init_free(hs);
	draws_free(&dr);

	/* a received Abort (suite 0) ends the exchange; a malformed one not */
	hs = init_to_m4(0, &dr, &cfg, &meta, &a, 0);
	{
		uint8_t ab[] = { 0x0f, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0,
				 0, 0x15, 0, 1, 6 };
		uint8_t bad[sizeof(ab) + 1];

		memcpy(ab + 5, a.send.msg + 5, 8);
		memcpy(bad, ab, sizeof(ab));
		bad[sizeof(ab)] = 0;	/* trailing byte: MALFORMED */
		v = cpns_hs_init_recv(hs, bad, sizeof(bad), &meta, &a);
		tap_ok(v == CPNS_HS_DROP && !a.send_valid,
		       "initiator: malformed Abort ignored, never answered");
		meta.prot = CPNS_PROT_PROTECTED;
		v = cpns_hs_init_recv(hs, ab, sizeof(ab), &meta, &a);
		tap_ok(v == CPNS_HS_DROP,
		       "initiator: Abort with the wrong protection dropped");
		meta.prot = CPNS_PROT_SUITE0;
		v = cpns_hs_init_recv(hs, ab, sizeof(ab), &meta, &a);
		tap_ok(v == CPNS_HS_FAILED &&
			       a.peer_abort == CPNS_REASON_NOT_AUTHORIZED &&
			       !a.send_valid,
		       "initiator: Abort NOT_AUTHORIZED ends the exchange");
	}
	cpns_hs_init_free(hs);
	draws_free(&dr);
}

/* Retransmission (4.7) and confirmation Acks (2.10). */
static void test_timers(void)
{
	struct json_object *c = hcase(0), *in = vec_get(c, "inputs");
	struct json_object *msgs = vec_get(c, "messages");
	static const uint64_t at[] = { 1000, 3000, 7000, 15000 };
	struct cpns_hs_init_cfg cfg;
	struct cpns_hs_actions a;
	struct cpns_hs_init *hs;
	struct cpns_hs_meta meta;
	struct draws dr;
	uint8_t *m;
	size_t i, ml;
	unsigned int ntx = 1;
	bool ok = true;
	int v, err;

	init_cfg_from(&cfg, in);
	draws_load(&dr, vec_get(in, "initiator_random_draws"));
	cfg.rng = &dr.rng;
	hs = cpns_hs_init_new(&cfg, 0, &a, &err);
	m = vec_hex(msgs, "m1_ConnectRequest", &ml);
	for (i = 0; i < 4; i++) {
		v = cpns_hs_init_timer(hs, at[i] - 1, &a);
		ok = ok && v == CPNS_HS_CONTINUE && !a.send_valid &&
		     a.deadline_ms == at[i];
		v = cpns_hs_init_timer(hs, at[i], &a);
		ntx += a.send_valid;
		ok = ok && v == CPNS_HS_CONTINUE && sent(&a, m, ml);
	}
	tap_ok(ok && ntx == 5 && a.deadline_ms == 23000,
	       "m1 sent at 0, 1, 3, 7, 15 s, byte-identical (%u transmissions)",
	       ntx);
	v = cpns_hs_init_timer(hs, 23000, &a);
	tap_ok(v == CPNS_HS_FAILED && a.timeout && !a.send_valid &&
		       !a.deadline_ms,
	       "gives up at 23 s after 5 transmissions, no Abort");
	free(m);
	cpns_hs_init_free(hs);
	draws_free(&dr);

	/* m3 follows the same schedule from its own first transmission */
	hs = init_to_m4(0, &dr, &cfg, &meta, &a, 40000);
	tap_ok(a.deadline_ms == 41000, "m3: first retransmission 1 s later");
	m = vec_hex(msgs, "m3_AuthResponse", &ml);
	v = cpns_hs_init_timer(hs, 41000, &a);
	tap_ok(v == CPNS_HS_CONTINUE && sent(&a, m, ml) &&
		       a.deadline_ms == 43000,
	       "m3 retransmitted byte-identically, next after 2 s");
	free(m);
	/* m4: install and Ack at T, again at T+1 s and T+3 s */
	m = vec_hex(msgs, "m4_ServerAuthResponse", &ml);
	meta.now_ms = 42000;
	v = cpns_hs_init_recv(hs, m, ml, &meta, &a);
	free(m);
	m = vec_hex(vec_get(c, "session"), "confirm_ack", &ml);
	ok = v == CPNS_HS_COMPLETE && a.install_valid && sent(&a, m, ml) &&
	     a.deadline_ms == 43000;
	v = cpns_hs_init_timer(hs, 43000, &a);
	ok = ok && v == CPNS_HS_CONTINUE && sent(&a, m, ml) &&
	     a.send.prot == CPNS_PROT_PROTECTED && a.send.generation == 1 &&
	     a.deadline_ms == 45000 && !a.install_valid;
	v = cpns_hs_init_timer(hs, 45000, &a);
	ok = ok && v == CPNS_HS_DONE && sent(&a, m, ml) && !a.deadline_ms;
	tap_ok(ok, "confirmation Ack at install, +1 s and +3 s, then done");
	free(m);
	cpns_hs_actions_wipe(&a);
	cpns_hs_init_free(hs);
	draws_free(&dr);
}

/* Build an m1 by hand (for what the initiator engine refuses to send). */
static size_t make_m1(uint8_t *buf, const uint8_t *ini, const uint8_t *rsp,
		      uint8_t mode, uint8_t kind, const uint8_t *binding,
		      const uint8_t *ks)
{
	static const uint8_t xid[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t rnd[32] = { 9 }, suites[] = { 1, 2 };
	struct cpns_enc enc;
	size_t len = 0;

	cpns_enc_init(&enc, buf, CPNS_HS_SEND_MAX, CPNS_MSG_CONNECT_REQUEST);
	cpns_enc_put(&enc, CPNS_TLV_XID, xid, 8);
	cpns_enc_put(&enc, CPNS_TLV_INITIATOR_ID, ini, 16);
	cpns_enc_put(&enc, CPNS_TLV_RESPONDER_ID, rsp, 16);
	cpns_enc_put(&enc, CPNS_TLV_RAND_I, rnd, 32);
	cpns_enc_put(&enc, CPNS_TLV_SUITES, suites, 2);
	cpns_enc_u8(&enc, CPNS_TLV_MODE, mode);
	if (ks)
		cpns_enc_put(&enc, CPNS_TLV_KEYSHARE_I, ks, 32);
	cpns_enc_u8(&enc, CPNS_TLV_PREV_GEN, 0);
	if (binding)
		cpns_enc_put(&enc, CPNS_TLV_BINDING, binding, 32);
	cpns_enc_u8(&enc, CPNS_TLV_PSK_KIND, kind);
	cpns_enc_u32(&enc, CPNS_TLV_KID, kind == 3 ? 0 : 1);
	if (cpns_enc_finish(&enc, &len, NULL))
		tap_bail("make_m1");
	return len;
}

static void test_policy(void)
{
	static const uint8_t ini[16] = { 0xc3, 0xd2, 1 }, rsp[16] = { 0x7d, 2 };
	static const uint8_t bind[32] = { 0xb1 }, other[32] = { 0xb2 };
	uint8_t m1[CPNS_HS_SEND_MAX], pub[32], priv[32] = { 0x42 };
	struct cpns_hs_resp_cfg cfg = { .n_suites = 2, .suites = { 1, 2 },
					.lookup = store_lookup };
	struct cpns_hs_init_cfg icfg;
	struct cpns_hs_actions a, b;
	struct cpns_hs_limiter lim;
	struct cpns_hs_meta meta;
	struct cpns_hs_resp *r;
	struct cpns_hs_init *hs;
	struct store st;
	size_t len;
	int v, err, i;

	memset(&st, 0, sizeof(st));
	st.n = 2;
	memcpy(st.keys[0].id, ini, 16);
	st.keys[0].kind = 3;
	st.keys[0].kid = 0;
	memset(st.keys[0].k, 0x33, 32);
	memcpy(st.keys[1].id, ini, 16);
	st.keys[1].kind = 2;
	st.keys[1].kid = 1;
	memset(st.keys[1].k, 0x22, 32);
	st.keys[1].has_binding = true;
	memcpy(st.keys[1].binding, bind, 32);
	memcpy(cfg.local_id, rsp, 16);
	cfg.lookup_ctx = &st;
	r = cpns_hs_resp_new(&cfg);
	meta = meta_of(ini, rsp, 0, CPNS_PROT_SUITE0);
	cpns_x25519_public(priv, pub);

	len = make_m1(m1, ini, rsp, 1, 3, NULL, NULL);
	v = cpns_hs_resp_recv(r, m1, len, &meta, &a);
	tap_ok(v == CPNS_HS_FAILED && a.reason == CPNS_REASON_DHE_REQUIRED,
	       "DeviceKey in psk mode -> DHE_REQUIRED without any policy");
	len = make_m1(m1, ini, rsp, 2, 3, NULL, pub);
	v = cpns_hs_resp_recv(r, m1, len, &meta, &a);
	tap_ok(v == CPNS_HS_CONTINUE && a.send.msg[0] == CPNS_MSG_AUTH_REQUEST,
	       "DeviceKey in psk_dhe mode is answered with m2");
	cpns_hs_resp_free(r);
	r = cpns_hs_resp_new(&cfg);
	len = make_m1(m1, ini, rsp, 2, 2, other, pub);
	v = cpns_hs_resp_recv(r, m1, len, &meta, &a);
	tap_ok(v == CPNS_HS_FAILED && a.reason == CPNS_REASON_BINDING_MISMATCH,
	       "LocalEUKey with the wrong BINDING -> BINDING_MISMATCH");
	memset(&icfg, 0, sizeof(icfg));
	memcpy(icfg.local_id, ini, 16);
	memcpy(icfg.peer_id, rsp, 16);
	memset(icfg.k, 0x33, 32);
	icfg.psk_kind = 3;
	icfg.n_suites = 1;
	icfg.suites[0] = 2;
	icfg.mode = 1;
	tap_ok(!cpns_hs_init_new(&icfg, 0, &a, &err) && err == -EINVAL,
	       "the initiator refuses to start DeviceKey in psk mode");

	/* H(LocalEUKey) with BINDING, engine against engine, system RNG */
	memset(icfg.k, 0x22, 32);
	icfg.psk_kind = 2;
	icfg.kid = 1;
	icfg.binding = bind;
	icfg.mode = 2;
	hs = cpns_hs_init_new(&icfg, 0, &a, &err);
	v = cpns_hs_resp_recv(r, a.send.msg, a.send.len, &meta, &b);
	{
		struct cpns_hs_meta mi = meta_of(rsp, ini, 0, CPNS_PROT_SUITE0);

		cpns_hs_init_recv(hs, b.send.msg, b.send.len, &mi, &a);
		cpns_hs_resp_recv(r, a.send.msg, a.send.len, &meta, &b);
		v = cpns_hs_init_recv(hs, b.send.msg, b.send.len, &mi, &a);
	}
	tap_ok(hs && v == CPNS_HS_COMPLETE && b.install_valid &&
		       !memcmp(a.install.tx_ts, b.install.rx_ts, 32) &&
		       !memcmp(a.install.rx_ts, b.install.tx_ts, 32) &&
		       a.install.suite == 2 && a.install.psk_kind == 2,
	       "H(LocalEUKey) with BINDING completes; directions agree");
	cpns_hs_init_free(hs);
	cpns_hs_resp_free(r);

	/* Abort limiter: one per second per address */
	memset(&lim, 0, sizeof(lim));
	cfg.limiter = &lim;
	r = cpns_hs_resp_new(&cfg);
	len = make_m1(m1, ini, rsp, 1, 3, NULL, NULL);
	v = cpns_hs_resp_recv(r, m1, len, &meta, &a);
	meta.now_ms = 999;
	cpns_hs_resp_recv(r, m1, len, &meta, &b);
	tap_ok(v == CPNS_HS_FAILED && a.send_valid && !b.send_valid &&
		       b.reason == CPNS_REASON_DHE_REQUIRED,
	       "limiter: a second Abort within 1 s to the same address is suppressed");
	meta.now_ms = 1000;
	cpns_hs_resp_recv(r, m1, len, &meta, &b);
	tap_ok(b.send_valid, "limiter: 1 s later an Abort goes out again");
	cpns_hs_resp_free(r);
	cfg.limiter = NULL;

	/* section 11 lockout through the lookup: Abort or silent drop */
	r = cpns_hs_resp_new(&cfg);
	len = make_m1(m1, ini, rsp, 2, 3, NULL, pub);
	st.locked = CPNS_REASON_RATE_LIMITED;
	v = cpns_hs_resp_recv(r, m1, len, &meta, &a);
	tap_ok(v == CPNS_HS_FAILED && a.send_valid &&
		       a.reason == CPNS_REASON_RATE_LIMITED,
	       "lookup RATE_LIMITED -> Abort RATE_LIMITED");
	st.locked = CPNS_HS_LOOKUP_DROP;
	v = cpns_hs_resp_recv(r, m1, len, &meta, &a);
	tap_ok(v == CPNS_HS_DROP && !a.send_valid && !a.reason &&
		       !cpns_hs_resp_count(r, NULL),
	       "lookup CPNS_HS_LOOKUP_DROP -> dropped silently, no state");
	st.locked = 0;
	cpns_hs_resp_free(r);

	/* wrong protection, messages that start no exchange */
	r = cpns_hs_resp_new(&cfg);
	len = make_m1(m1, ini, rsp, 2, 3, NULL, pub);
	meta.prot = CPNS_PROT_PROTECTED;
	v = cpns_hs_resp_recv(r, m1, len, &meta, &a);
	tap_ok(v == CPNS_HS_DROP && !cpns_hs_resp_count(r, NULL),
	       "m1 in a protected record: dropped silently");
	meta.prot = CPNS_PROT_SUITE0;
	m1[0] = CPNS_MSG_AUTH_RESPONSE;
	v = cpns_hs_resp_recv(r, m1, len, &meta, &a);
	tap_ok(v == CPNS_HS_DROP && !a.send_valid,
	       "a message of no exchange that starts none: dropped silently");
	cpns_hs_resp_free(r);

	/* at most 4 half-open per (INITIATOR_ID, address): oldest replaced */
	cfg.max_half_open_addr = 6;
	r = cpns_hs_resp_new(&cfg);
	for (i = 0; i < 6; i++) {
		len = make_m1(m1, ini, rsp, 2, 3, NULL, pub);
		m1[12] = (uint8_t)i;	/* last XID byte */
		meta.now_ms = (uint64_t)i;
		v = cpns_hs_resp_recv(r, m1, len, &meta, &a);
	}
	{
		unsigned int half;

		cpns_hs_resp_count(r, &half);
		tap_ok(v == CPNS_HS_CONTINUE && half == 4 &&
			       cpns_hs_resp_next_deadline(r) == 30002,
		       "a fifth m1 from the same ID and address replaces the oldest");
	}
	cpns_hs_resp_free(r);
	cpns_hs_actions_wipe(&a);
	cpns_hs_actions_wipe(&b);
}

/* ---- the responder's table (section 11 bounds, completed exchanges) --- */

static const uint8_t tb_rsp[16] = { 0x7d, 3 };
static const uint8_t tb_addr[3][6] = { { 192, 0, 2, 1, 0x1e, 0xbe },
					{ 192, 0, 2, 2, 0x1e, 0xbe },
					{ 192, 0, 2, 3, 0x1e, 0xbe } };

/* The time of the table tests' messages */
static uint64_t tb_now;

struct tb_gw {
	uint8_t id[16];
	struct cpns_hs_init *hs;
	struct cpns_hs_actions ia, ra;	/* its last message, S's last reply */
	uint8_t m3[CPNS_HS_SEND_MAX];
	size_t m3_len;
};

static struct cpns_hs_meta tb_meta(const struct tb_gw *g, int addr)
{
	struct cpns_hs_meta m = meta_of(g->id, tb_rsp, 0, CPNS_PROT_SUITE0);

	m.addr = tb_addr[addr];
	m.now_ms = tb_now;
	return m;
}

static void tb_free(struct tb_gw *g, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		cpns_hs_init_free(g[i].hs);
		cpns_hs_actions_wipe(&g[i].ia);
		cpns_hs_actions_wipe(&g[i].ra);
		memset(&g[i], 0, sizeof(g[i]));
	}
}

/* A new exchange of GW @k (DeviceKey, psk_dhe) from address @addr: m1. */
static int tb_m1(struct cpns_hs_resp *r, struct tb_gw *g, int k, int addr)
{
	struct cpns_hs_init_cfg icfg;
	struct cpns_hs_meta meta;
	int err;

	tb_free(g, 1);
	g->id[0] = 0xa0;
	g->id[1] = (uint8_t)k;
	memset(&icfg, 0, sizeof(icfg));
	memcpy(icfg.local_id, g->id, 16);
	memcpy(icfg.peer_id, tb_rsp, 16);
	memset(icfg.k, 0x30 + k, 32);
	icfg.psk_kind = 3;
	icfg.n_suites = 1;
	icfg.suites[0] = 2;
	icfg.mode = 2;
	g->hs = cpns_hs_init_new(&icfg, 0, &g->ia, &err);
	if (!g->hs)
		return -1;
	meta = tb_meta(g, addr);
	return cpns_hs_resp_recv(r, g->ia.send.msg, g->ia.send.len, &meta,
				 &g->ra);
}

/* The rest of @g's exchange: m2 to the GW, its m3 to S (kept). */
static int tb_m3(struct cpns_hs_resp *r, struct tb_gw *g, int addr)
{
	struct cpns_hs_meta mi = meta_of(tb_rsp, g->id, 0, CPNS_PROT_SUITE0);
	struct cpns_hs_meta meta = tb_meta(g, addr);

	if (!g->ra.send_valid ||
	    cpns_hs_init_recv(g->hs, g->ra.send.msg, g->ra.send.len, &mi,
			      &g->ia) != CPNS_HS_CONTINUE ||
	    !g->ia.send_valid)
		return -1;
	memcpy(g->m3, g->ia.send.msg, g->ia.send.len);
	g->m3_len = g->ia.send.len;
	return cpns_hs_resp_recv(r, g->m3, g->m3_len, &meta, &g->ra);
}

/* @g's m1 once more, before its m3. */
static int tb_m1_again(struct cpns_hs_resp *r, struct tb_gw *g, int addr)
{
	struct cpns_hs_meta meta = tb_meta(g, addr);

	return cpns_hs_resp_recv(r, g->ia.send.msg, g->ia.send.len, &meta,
				 &g->ra);
}

/* @g's m3 once more: S answers with its cached m4, or drops it. */
static int tb_m3_again(struct cpns_hs_resp *r, struct tb_gw *g, int addr)
{
	struct cpns_hs_meta meta = tb_meta(g, addr);

	return cpns_hs_resp_recv(r, g->m3, g->m3_len, &meta, &g->ra);
}

/*
 * Exchanges expire in the order of their deadlines, whichever state they
 * are in: a repeated m1 puts a half-open exchange's later.
 */
static void test_table_expiry(struct cpns_hs_resp_cfg cfg)
{
	struct cpns_hs_resp *r;
	uint64_t d[7];
	unsigned int half[6], n[6];
	struct tb_gw g[4];
	bool ok;

	cfg.max_half_open = 0;	/* the defaults */
	cfg.max_half_open_addr = 0;
	r = cpns_hs_resp_new(&cfg);
	memset(g, 0, sizeof(g));
	tb_now = 0;	/* g2 done: 60 000 */
	ok = tb_m1(r, &g[2], 2, 2) == CPNS_HS_CONTINUE &&
	     tb_m3(r, &g[2], 2) == CPNS_HS_COMPLETE;
	tb_now = 100;	/* g0 half-open: 30 100 */
	ok = ok && tb_m1(r, &g[0], 0, 0) == CPNS_HS_CONTINUE;
	tb_now = 200;	/* g1 half-open: 30 200 */
	ok = ok && tb_m1(r, &g[1], 1, 1) == CPNS_HS_CONTINUE;
	tb_now = 300;	/* g0 again: 30 300 */
	ok = ok && tb_m1_again(r, &g[0], 0) == CPNS_HS_CONTINUE;
	d[0] = cpns_hs_resp_next_deadline(r);
	d[1] = cpns_hs_resp_expire(r, 30199);
	n[1] = cpns_hs_resp_count(r, &half[1]);
	d[2] = cpns_hs_resp_expire(r, 30200);
	n[2] = cpns_hs_resp_count(r, &half[2]);
	d[3] = cpns_hs_resp_expire(r, 30300);
	n[3] = cpns_hs_resp_count(r, &half[3]);
	tb_now = 40000;	/* g3 half-open: 70 000, after g2's cached m4 */
	ok = ok && tb_m1(r, &g[3], 3, 0) == CPNS_HS_CONTINUE;
	d[6] = cpns_hs_resp_next_deadline(r);
	d[4] = cpns_hs_resp_expire(r, 60000);
	n[4] = cpns_hs_resp_count(r, &half[4]);
	d[5] = cpns_hs_resp_expire(r, 70000);
	n[5] = cpns_hs_resp_count(r, &half[5]);
	tap_ok(ok && d[0] == 30200 && d[1] == 30200 && n[1] == 3 &&
		       half[1] == 2 && d[2] == 30300 && n[2] == 2 &&
		       half[2] == 1 && tb_m3(r, &g[1], 1) == CPNS_HS_DROP &&
		       d[3] == 60000 && n[3] == 1 && !half[3] &&
		       d[6] == 60000 && d[4] == 70000 && n[4] == 1 && half[4] == 1 &&
		       !d[5] && !n[5],
	       "table: exchanges expire in the order of their deadlines, a repeated m1 putting its own later");
	tb_free(g, 4);
	tb_now = 0;
	cpns_hs_resp_free(r);
}

static void test_table(void)
{
	struct cpns_hs_resp_cfg cfg = { .n_suites = 1, .suites = { 2 },
					.lookup = store_lookup };
	struct cpns_hs_resp *r;
	struct tb_gw g[4];
	struct store st;
	unsigned int half, n;
	int k, v[4];

	memset(g, 0, sizeof(g));
	memset(&st, 0, sizeof(st));
	st.n = 4;
	for (k = 0; k < 4; k++) {
		st.keys[k].id[0] = 0xa0;
		st.keys[k].id[1] = (uint8_t)k;
		st.keys[k].kind = 3;
		memset(st.keys[k].k, 0x30 + k, 32);
	}
	memcpy(cfg.local_id, tb_rsp, 16);
	cfg.lookup_ctx = &st;

	/* at most 2 half-open per address, whatever the GW */
	cfg.max_half_open_addr = 2;
	r = cpns_hs_resp_new(&cfg);
	v[0] = tb_m1(r, &g[0], 0, 0);
	v[1] = tb_m1(r, &g[1], 1, 0);
	v[2] = tb_m1(r, &g[2], 2, 0);
	n = cpns_hs_resp_count(r, &half);
	v[3] = tb_m1(r, &g[3], 2, 1);
	tap_ok(v[0] == CPNS_HS_CONTINUE && v[1] == CPNS_HS_CONTINUE &&
		       v[2] == CPNS_HS_DROP && n == 2 && half == 2 &&
		       v[3] == CPNS_HS_CONTINUE &&
		       cpns_hs_resp_count(r, NULL) == 3,
	       "table: a third half-open from one address is dropped, another address is answered");
	tb_free(g, 4);
	cpns_hs_resp_free(r);

	/* at most 2 half-open in all */
	cfg.max_half_open_addr = 0;
	cfg.max_half_open = 2;
	r = cpns_hs_resp_new(&cfg);
	v[0] = tb_m1(r, &g[0], 0, 0);
	v[1] = tb_m1(r, &g[1], 1, 1);
	v[2] = tb_m1(r, &g[2], 2, 2);
	tap_ok(v[0] == CPNS_HS_CONTINUE && v[1] == CPNS_HS_CONTINUE &&
		       v[2] == CPNS_HS_DROP && cpns_hs_resp_count(r, NULL) == 2,
	       "table: past the bound of half-open exchanges, an m1 is dropped");
	/* completing one frees its half-open place */
	v[0] = tb_m3(r, &g[0], 0);
	v[2] = tb_m1(r, &g[2], 2, 2);
	n = cpns_hs_resp_count(r, &half);
	tap_ok(v[0] == CPNS_HS_COMPLETE && v[2] == CPNS_HS_CONTINUE &&
		       n == 3 && half == 2,
	       "table: a completed exchange no longer counts as half-open");
	tb_free(g, 4);
	cpns_hs_resp_free(r);

	/* a pair's exchange completes: its other half-open ones go (5.7) */
	cfg.max_half_open = 0;
	r = cpns_hs_resp_new(&cfg);
	v[0] = tb_m1(r, &g[0], 0, 0);
	v[1] = tb_m1(r, &g[1], 0, 1);
	v[2] = tb_m1(r, &g[2], 1, 0);
	v[3] = tb_m3(r, &g[1], 1);
	n = cpns_hs_resp_count(r, &half);
	tap_ok(v[0] == CPNS_HS_CONTINUE && v[1] == CPNS_HS_CONTINUE &&
		       v[2] == CPNS_HS_CONTINUE && v[3] == CPNS_HS_COMPLETE &&
		       n == 2 && half == 1 && tb_m3(r, &g[0], 0) == CPNS_HS_DROP,
	       "table: a completed exchange ends the pair's other half-open one, not another GW's");
	tb_free(g, 4);
	cpns_hs_resp_free(r);

	/* a full table: the oldest completed exchange gives way */
	cfg.max_half_open = 1;	/* room for 2 */
	r = cpns_hs_resp_new(&cfg);
	v[0] = tb_m1(r, &g[0], 0, 0) == CPNS_HS_CONTINUE &&
	       tb_m3(r, &g[0], 0) == CPNS_HS_COMPLETE;
	v[1] = tb_m1(r, &g[1], 1, 1) == CPNS_HS_CONTINUE &&
	       tb_m3(r, &g[1], 1) == CPNS_HS_COMPLETE;
	v[2] = tb_m1(r, &g[2], 2, 2);
	n = cpns_hs_resp_count(r, &half);
	tap_ok(v[0] && v[1] && v[2] == CPNS_HS_CONTINUE && n == 2 &&
		       half == 1 && tb_m3_again(r, &g[0], 0) == CPNS_HS_DROP &&
		       tb_m3_again(r, &g[1], 1) == CPNS_HS_CONTINUE &&
		       g[1].ra.send_valid &&
		       g[1].ra.send.msg[0] == CPNS_MSG_SERVER_AUTH_RESPONSE,
	       "table: when full, the oldest completed exchange's cached m4 gives way");
	/* and what is left expires */
	tap_ok(!cpns_hs_resp_expire(r, UINT64_MAX / 2) &&
		       !cpns_hs_resp_count(r, NULL) &&
		       tb_m1(r, &g[3], 3, 0) == CPNS_HS_CONTINUE,
	       "table: everything expired, a new exchange is answered");
	tb_free(g, 4);
	cpns_hs_resp_free(r);

	test_table_expiry(cfg);
}

int main(void)
{
	tap_start();
	test_vectors();
	test_negative();
	hv = vec_load("handshake_h.json");
	test_duplicates();
	test_initiator_rules();
	test_timers();
	test_policy();
	test_table();
	json_object_put(hv);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the H(K) engine (cpns_hs): arbitrary messages, raw
 * or derived from the genuine m1..m4 of a run, fed to a responder and an
 * initiator in the middle of that run. Checks: no crash or leak; a message
 * that is dropped changes nothing (no action, same deadline, same number
 * of exchanges, and the genuine run still completes with the reference
 * outputs afterwards); every message the engine sends decodes; an install
 * comes only with completion.
 *
 * Input: byte 0 selects the mode (bit 0: psk_dhe) and how far the run is
 * before the fuzzed messages (bit 1: the initiator already has m2); then
 * records of [ctl][len][len bytes]: ctl bit 0 target (initiator /
 * responder), bit 1 protected record, bit 2 a foreign record src, bits
 * 4-6 base message (0 none, 1-4 m1-m4: the bytes are XORed into it).
 */
#include <stdlib.h>
#include <string.h>

#include "cpns_hs.h"

static const uint8_t id_i[16] = { 0x1b, 0x5e, 0x2f, 0x8c, 1 };
static const uint8_t id_r[16] = { 0x7d, 0x0c, 0x8a, 0x3e, 2 };
static const uint8_t id_x[16] = { 0xc3, 0xd2, 0xe1, 0xf0, 3 };
static const uint8_t addr_i[6] = { 192, 0, 2, 21, 0x1e, 0xbe };
static struct cpns_msg dec;

struct ctr_rng {
	uint8_t n;
};

static int ctr_fill(void *ctx, uint8_t *buf, size_t len)
{
	struct ctr_rng *c = ctx;
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(++c->n * 37 + i);
	return 0;
}

static int lookup(void *ctx, const struct cpns_hs_key_req *req,
		  struct cpns_hs_key *key)
{
	(void)ctx;
	if (memcmp(req->initiator_id, id_i, 16))
		return CPNS_REASON_NOT_AUTHORIZED;
	if (req->psk_kind != 1 || req->kid != 7)
		return CPNS_REASON_UNKNOWN_KEY;
	memset(key->k, 0x5a, sizeof(key->k));
	key->last_gen = 3;
	return 0;
}

struct run {
	struct ctr_rng ri, rr;
	struct cpns_rng rngi, rngr;
	struct cpns_hs_init *init;
	struct cpns_hs_resp *resp;
	uint8_t m[5][CPNS_HS_SEND_MAX];
	size_t ml[5];
	struct cpns_hs_install inst_i, inst_r;
};

static struct cpns_hs_meta meta_for(bool to_init, bool prot, bool foreign,
				    uint64_t now)
{
	struct cpns_hs_meta m = {
		.prot = prot ? CPNS_PROT_PROTECTED : CPNS_PROT_SUITE0,
		.src = foreign ? id_x : (to_init ? id_r : id_i),
		.dst = to_init ? id_i : id_r,
		.addr = addr_i, .addr_len = sizeof(addr_i), .now_ms = now,
	};

	return m;
}

static void check_sent(const struct cpns_hs_actions *a)
{
	if (a->send_valid &&
	    (a->send.len > sizeof(a->send.msg) ||
	     cpns_msg_decode(a->send.msg, a->send.len, &dec, NULL)))
		abort();
}

/* Start a run: both engines, m1 built. */
static void run_start(struct run *r, bool dhe)
{
	struct cpns_hs_init_cfg ic = {
		.psk_kind = 1, .kid = 7, .n_suites = 2, .suites = { 2, 1 },
		.mode = dhe ? CPNS_HS_MODE_PSK_DHE : CPNS_HS_MODE_PSK,
	};
	struct cpns_hs_resp_cfg rc = {
		.n_suites = 2, .suites = { 1, 2 }, .lookup = lookup,
		.max_half_open = 8,
	};
	struct cpns_hs_actions a;
	int err;

	memset(r, 0, sizeof(*r));
	r->rngi.fill = ctr_fill;
	r->rngi.ctx = &r->ri;
	r->rngr.fill = ctr_fill;
	r->rngr.ctx = &r->rr;
	r->rr.n = 100;
	memcpy(ic.local_id, id_i, 16);
	memcpy(ic.peer_id, id_r, 16);
	memset(ic.k, 0x5a, sizeof(ic.k));
	ic.rng = &r->rngi;
	memcpy(rc.local_id, id_r, 16);
	rc.rng = &r->rngr;
	r->init = cpns_hs_init_new(&ic, 0, &a, &err);
	r->resp = cpns_hs_resp_new(&rc);
	if (!r->init || !r->resp)
		abort();
	memcpy(r->m[1], a.send.msg, a.send.len);
	r->ml[1] = a.send.len;
}

static void run_free(struct run *r)
{
	cpns_hs_init_free(r->init);
	cpns_hs_resp_free(r->resp);
	cpns_wipe(r, sizeof(*r));
}

/* One genuine step: feed m[k] to its receiver, store the reply in m[k+1]. */
static int run_step(struct run *r, int k, uint64_t now)
{
	struct cpns_hs_meta m = meta_for(k % 2 == 0, false, false, now);
	struct cpns_hs_actions a;
	int v;

	if (k % 2)
		v = cpns_hs_resp_recv(r->resp, r->m[k], r->ml[k], &m, &a);
	else
		v = cpns_hs_init_recv(r->init, r->m[k], r->ml[k], &m, &a);
	check_sent(&a);
	if (a.send_valid && k < 4) {
		memcpy(r->m[k + 1], a.send.msg, a.send.len);
		r->ml[k + 1] = a.send.len;
	}
	if (a.install_valid) {
		if (k == 3)
			r->inst_r = a.install;
		else
			r->inst_i = a.install;
	}
	cpns_hs_actions_wipe(&a);
	return v;
}

static bool same_install(const struct cpns_hs_install *a,
			 const struct cpns_hs_install *b)
{
	return a->generation == b->generation && a->suite == b->suite &&
	       a->role == b->role && a->tx_mode == b->tx_mode &&
	       !memcmp(a->tx_ts, b->tx_ts, sizeof(a->tx_ts)) &&
	       !memcmp(a->rx_ts, b->rx_ts, sizeof(a->rx_ts)) &&
	       !memcmp(a->k_wrap_sess, b->k_wrap_sess, sizeof(a->k_wrap_sess));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t msg[CPNS_MSG_MAX_LEN];
	static struct run refs[2];
	static bool ref_done[2];
	struct run *ref, r;
	bool dhe, ahead, init_quiet = true, resp_quiet = true;
	size_t pos = 1;
	uint64_t now = 10;
	int k;

	if (!size)
		return 0;
	dhe = data[0] & 1;
	ahead = data[0] & 2;

	/* the reference run, the same for every input of a mode */
	if (!ref_done[dhe]) {
		run_start(&refs[dhe], dhe);
		for (k = 1; k <= 4; k++)
			run_step(&refs[dhe], k, 5);
		if (!refs[dhe].inst_i.generation ||
		    memcmp(refs[dhe].inst_i.tx_ts, refs[dhe].inst_r.rx_ts, 32))
			abort();
		/* keep the messages and installs, not the engines */
		cpns_hs_init_free(refs[dhe].init);
		cpns_hs_resp_free(refs[dhe].resp);
		refs[dhe].init = NULL;
		refs[dhe].resp = NULL;
		ref_done[dhe] = true;
	}
	ref = &refs[dhe];

	/* the fuzzed run: m1 answered, m2 maybe given */
	run_start(&r, dhe);
	run_step(&r, 1, 5);
	if (ahead)
		run_step(&r, 2, 5);

	while (pos + 2 <= size) {
		uint8_t ctl = data[pos], len = data[pos + 1];
		unsigned int base = (ctl >> 4) & 7;
		bool to_init = ctl & 1;
		struct cpns_hs_meta m = meta_for(to_init, ctl & 2, ctl & 4, now);
		struct cpns_hs_actions a;
		unsigned int h0, h1, n0, n1;
		uint64_t d0, d1;
		size_t ml, i;
		int v;

		pos += 2;
		if (len > size - pos)
			len = (uint8_t)(size - pos);
		if (base >= 1 && base <= 4) {
			ml = ref->ml[base];
			memcpy(msg, ref->m[base], ml);
			for (i = 0; i < len; i++)
				msg[i % ml] ^= data[pos + i];
		} else {
			ml = len;
			memcpy(msg, data + pos, len);
		}
		pos += len;
		now += 100;

		if (to_init) {
			cpns_hs_init_timer(r.init, 0, &a);	/* reads only */
			d0 = a.deadline_ms;
			v = cpns_hs_init_recv(r.init, msg, ml, &m, &a);
			d1 = a.deadline_ms;
			if (v != CPNS_HS_DROP)
				init_quiet = false;
			if (v == CPNS_HS_DROP &&
			    (a.send_valid || a.install_valid || d0 != d1))
				abort();
		} else {
			n0 = cpns_hs_resp_count(r.resp, &h0);
			d0 = cpns_hs_resp_next_deadline(r.resp);
			v = cpns_hs_resp_recv(r.resp, msg, ml, &m, &a);
			n1 = cpns_hs_resp_count(r.resp, &h1);
			d1 = cpns_hs_resp_next_deadline(r.resp);
			if (v != CPNS_HS_DROP)
				resp_quiet = false;
			if (v == CPNS_HS_DROP &&
			    (a.send_valid || a.install_valid || n0 != n1 ||
			     h0 != h1 || d0 != d1))
				abort();
		}
		if (v < 0 || (a.install_valid && v != CPNS_HS_COMPLETE))
			abort();
		check_sent(&a);
		cpns_hs_actions_wipe(&a);
	}

	/*
	 * Dropped input left no trace: the genuine run completes as the
	 * reference did. (Only when every fuzzed message was dropped.)
	 */
	if (init_quiet && resp_quiet) {
		if (!ahead && run_step(&r, 2, 5) != CPNS_HS_CONTINUE)
			abort();
		if (r.ml[3] != ref->ml[3] || memcmp(r.m[3], ref->m[3], r.ml[3]))
			abort();
		if (run_step(&r, 3, 5) != CPNS_HS_COMPLETE ||
		    run_step(&r, 4, 5) != CPNS_HS_COMPLETE ||
		    !same_install(&r.inst_i, &ref->inst_i) ||
		    !same_install(&r.inst_r, &ref->inst_r))
			abort();
	}
	run_free(&r);
	return 0;
}

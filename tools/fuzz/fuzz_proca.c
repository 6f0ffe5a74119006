// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the procedure A engines. The first byte selects an
 * engine and a state reached by a real run at start-up (S: idle, waiting
 * for KeyRequest2, waiting for KeyConfirm; GW: waiting for KeyChallenge,
 * KeyDelivery, Ack); the rest is one message from the peer. Checks: no
 * crash; a dropped message leaves the state byte-identical; whatever the
 * engine sends decodes; an Abort ends the exchange.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpns_proca.h"
#include "cpns_spake2p.h"
#include "cpns_tlv.h"

static const uint8_t gw_id[16] = { 0x1b, 0x5e, 0x2f, 0x8c, 0x9a, 0x0d, 0x4e,
				   0x7f, 0x8a, 0x6b, 0x5c, 0x4d, 0x3e, 0x2f,
				   0x1a, 0x0b };
static const uint8_t srv_id[16] = { 0x7d, 0x0c, 0x8a, 0x3e, 0x5b, 0x1f, 0x4c,
				    0x2a, 0x9e, 0x7d, 0x1f, 0x2a, 0x3b, 0x4c,
				    0x5d, 0x6e };
static const uint8_t uid[] = "alice@example.net";
static const uint8_t pw[] = "correct horse battery staple";

static struct cpns_proca_verifier ver;
static struct cpns_proca_srv_cfg cfg;
static struct cpns_proca_srv srv_snap[3], srv;
static struct cpns_proca_gw gw_snap[3], gw;
static struct cpns_msg msg;

static int m_lookup(void *ctx, const uint8_t *u, size_t n,
		    struct cpns_proca_verifier *v)
{
	(void)ctx;
	if (n == sizeof(uid) - 1 && !memcmp(u, uid, n)) {
		*v = ver;
		return 0;
	}
	return -ENOENT;
}

static int m_admit(void *ctx, const uint8_t *u, size_t n, const uint8_t g[16],
		   bool known, uint64_t now)
{
	(void)ctx, (void)u, (void)g, (void)known, (void)now;
	return n == 1;	/* a one-byte UserID is refused */
}

static int m_next_kid(void *ctx, const uint8_t g[16], uint32_t *kid)
{
	(void)ctx, (void)g;
	*kid = 1;
	return 0;
}

static int m_pending(void *ctx, const uint8_t *u, size_t n,
		     const uint8_t g[16], uint32_t kid, uint64_t expiry,
		     const uint8_t k[32], uint64_t now)
{
	(void)ctx, (void)u, (void)n, (void)g, (void)kid, (void)expiry, (void)k,
		(void)now;
	return 0;
}

static int m_confirm(void *ctx, const uint8_t *u, size_t n,
		     const uint8_t g[16], uint32_t kid, uint64_t now)
{
	(void)ctx, (void)u, (void)n, (void)g, (void)kid, (void)now;
	return 0;
}

static int m_failure(void *ctx, const uint8_t *u, size_t n,
		     const uint8_t g[16], bool pending, uint32_t kid,
		     uint64_t now)
{
	(void)ctx, (void)u, (void)n, (void)g, (void)pending, (void)kid,
		(void)now;
	return 0;
}

static int m_decoy(void *ctx)
{
	(void)ctx;
	return 0;
}

static const struct cpns_proca_srv_ops ops = {
	m_lookup, m_admit, m_next_kid, m_pending, m_confirm, m_failure,
	m_decoy,
};

#define NOW 1700000000ULL

static void must(bool cond)
{
	if (!cond)
		abort();
}

/* One real exchange, with snapshots of every intermediate state. */
static void setup(void)
{
	const uint8_t *out;
	size_t out_len;
	uint8_t w1[32], buf[CPNS_PROCA_MSG_MAX];

	memset(ver.salt, 0xa5, sizeof(ver.salt));
	ver.log2n = 15;
	ver.r = 8;
	ver.p = 1;
	must(!cpns_spake2p_register(pw, sizeof(pw) - 1, ver.salt, 16, 15, 8, 1,
				    ver.w0, w1, ver.l));
	memcpy(cfg.server_id, srv_id, 16);
	memset(cfg.server_secret, 0x3c, 32);
	cfg.log2n = 15;
	cfg.eukey_lifetime = CPNS_PROCA_EUKEY_LIFETIME;
	cfg.ops = &ops;

	must(cpns_proca_gw_start(&gw, gw_id, srv_id, uid, sizeof(uid) - 1, pw,
				 sizeof(pw) - 1, NULL, &out,
				 &out_len) == CPNS_PROCA_SEND);
	gw_snap[0] = gw;
	cpns_proca_srv_init(&srv, &cfg);
	must(cpns_proca_srv_input(&srv, gw_id, out, out_len, NOW, NULL, &out,
				  &out_len) == CPNS_PROCA_SEND);
	srv_snap[0] = srv;
	memcpy(buf, out, out_len);
	must(cpns_proca_gw_input(&gw, srv_id, buf, out_len, NOW, NULL, &out,
				 &out_len) == CPNS_PROCA_SEND);
	gw_snap[1] = gw;
	memcpy(buf, out, out_len);
	must(cpns_proca_srv_input(&srv, gw_id, buf, out_len, NOW, NULL, &out,
				  &out_len) == CPNS_PROCA_SEND);
	srv_snap[1] = srv;
	memcpy(buf, out, out_len);
	must(cpns_proca_gw_input(&gw, srv_id, buf, out_len, NOW, NULL, &out,
				 &out_len) == CPNS_PROCA_SEND);
	gw_snap[2] = gw;
	memcpy(buf, out, out_len);
	must(cpns_proca_srv_input(&srv, gw_id, buf, out_len, NOW, NULL, &out,
				  &out_len) == CPNS_PROCA_DONE);
	srv_snap[2] = srv;
}

static void check_out(int r, const uint8_t *out, size_t out_len)
{
	must(r >= CPNS_PROCA_IGNORE && r <= CPNS_PROCA_DONE);
	if (r == CPNS_PROCA_IGNORE)
		must(!out && !out_len);
	if (r == CPNS_PROCA_ABORT)
		must(out && out_len && out[0] == CPNS_MSG_ABORT);
	if (out)
		must(!cpns_msg_decode(out, out_len, &msg, NULL));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool ready;
	const uint8_t *out = NULL;
	size_t out_len = 0;
	unsigned int sel;
	int r;

	if (!ready) {
		setup();
		ready = true;
	}
	if (!size)
		return 0;
	sel = data[0] % 7;
	data++;
	size--;
	if (sel < 4) {
		/* S: idle, after KeyChallenge, after KeyDelivery, done */
		if (sel == 0)
			cpns_proca_srv_init(&srv, &cfg);
		else
			srv = srv_snap[sel - 1];
		struct cpns_proca_srv before = srv;

		r = cpns_proca_srv_input(&srv, gw_id, data, size, NOW + 1, NULL,
					 &out, &out_len);
		check_out(r, out, out_len);
		if (r == CPNS_PROCA_IGNORE)
			must(!memcmp(&before, &srv, sizeof(srv)));
		if (r == CPNS_PROCA_ABORT)
			must(srv.state == CPNS_PROCA_SRV_FAILED);
		if (r == CPNS_PROCA_DONE)
			must(srv.state == CPNS_PROCA_SRV_DONE);
		cpns_proca_srv_tick(&srv, NOW + 100);
	} else {
		/* GW: waiting for KeyChallenge, KeyDelivery, Ack */
		gw = gw_snap[sel - 4];
		struct cpns_proca_gw before = gw;

		r = cpns_proca_gw_input(&gw, srv_id, data, size, NOW + 1, NULL,
					&out, &out_len);
		check_out(r, out, out_len);
		if (r == CPNS_PROCA_IGNORE)
			must(!memcmp(&before, &gw, sizeof(gw)));
		if (r == CPNS_PROCA_ABORT || r == CPNS_PROCA_FAILED)
			must(gw.state == CPNS_PROCA_GW_FAILED);
	}
	return 0;
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The generic PSK handshake H(K) of PROTOCOL.md section 5 as a pure state
 * machine: no sockets, no clock, no randomness of its own. The caller feeds
 * received handshake messages (the record payload, msg_type onward) with
 * their metadata and the current time, and carries out the returned
 * actions: a message to send, a timer deadline, generation install
 * parameters (section 2.4), or the end of the exchange.
 *
 * Two objects:
 *  - struct cpns_hs_init: one initiator exchange (m1 ... confirmation Ack);
 *  - struct cpns_hs_resp: a responder, i.e. the table of its exchanges,
 *    keyed by (peer entity ID, XID) (section 4.6), with the half-open
 *    bounds of section 11.
 *
 * Typical use by a daemon on AF_CPNS port 1:
 *
 *	struct cpns_hs_actions act;
 *	r = cpns_hs_resp_recv(resp, payload, len, &meta, &act);
 *	if (act.install_valid)  install act.install (genl), then
 *	if (act.send_valid)     send act.send (suite 0 or protected) to the
 *	                        peer entity / the address it came from;
 *	cpns_hs_actions_wipe(&act);
 *	arm a timer at cpns_hs_resp_next_deadline(resp), and on expiry call
 *	cpns_hs_resp_expire().
 *
 * The install action always comes before the send action of the same call
 * and must be carried out first (the initiator's confirmation Ack travels
 * on the generation it installs; the responder installs before m4).
 *
 * Times are milliseconds on a monotonic clock of the caller's choosing.
 * Retransmission jitter (4.7, SHOULD) is the caller's: it may fire a timer
 * up to 10 % late; the schedule itself is exact (1, 2, 4, 8, 8 s).
 */
#ifndef CPNS_HS_H
#define CPNS_HS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/cpns.h>

#include "cpns_crypto.h"
#include "cpns_tlv.h"

#define CPNS_HS_SEND_MAX	256	/* every message H sends fits */
#define CPNS_HS_ADDR_MAX	32	/* opaque address, e.g. a sockaddr_in6 */
#define CPNS_HS_MAX_SUITES	8

/* MODE (section 5.2) */
#define CPNS_HS_MODE_PSK	1
#define CPNS_HS_MODE_PSK_DHE	2

/* PSK_KIND (section 5.3) */
#define CPNS_HS_KIND_EUKEY	1
#define CPNS_HS_KIND_LOCAL_EUKEY 2
#define CPNS_HS_KIND_DEVICE_KEY	3

/* Timing of section 4.7 and 2.10, in ms. */
#define CPNS_HS_RTX_FIRST_MS	1000	/* first retransmission */
#define CPNS_HS_RTX_CAP_MS	8000	/* never more than 8 s apart */
#define CPNS_HS_RTX_MAX		5	/* transmissions in total */
#define CPNS_HS_HALF_OPEN_MS	30000	/* responder half-open state */
#define CPNS_HS_REPLY_CACHE_MS	60000	/* replies of completed exchanges */
#define CPNS_HS_ABORT_GAP_MS	1000	/* one Abort per second per address */

/* Section 11 defaults for the responder. */
#define CPNS_HS_MAX_HALF_OPEN		1024
#define CPNS_HS_MAX_HALF_OPEN_ADDR	16
#define CPNS_HS_MAX_HALF_OPEN_ID_ADDR	4

enum cpns_hs_role {
	CPNS_HS_ROLE_INITIATOR = 1,
	CPNS_HS_ROLE_RESPONDER = 2,
};

/* Transmit mode of an installed generation (section 2.4, 2.10). */
enum cpns_hs_tx_mode {
	CPNS_HS_TX_IMMEDIATE = 1,	/* initiator */
	CPNS_HS_TX_ON_CONFIRM = 2,	/* responder */
};

/**
 * enum cpns_hs_verdict - what a call did with its input
 * @CPNS_HS_DROP: ignored silently, no state changed (section 4.2 step 0,
 *	unknown exchange, wrong protection, a differing copy of a message
 *	already processed, an Ack, a malformed Abort, a limit of section 11)
 * @CPNS_HS_CONTINUE: processed; the exchange goes on (a reply, a
 *	retransmission or a duplicate's cached reply may be in the actions)
 * @CPNS_HS_COMPLETE: the handshake succeeded; actions carry the install
 *	parameters (and, for the initiator, the first confirmation Ack)
 * @CPNS_HS_FAILED: the exchange ended without a session: an Abort was
 *	received (@cpns_hs_actions.peer_abort), or sent / suppressed by the
 *	limiter (@cpns_hs_actions.reason), or the retransmissions ran out
 *	(@cpns_hs_actions.timeout). For a responder this also covers an m1
 *	rejected before any state was created.
 * @CPNS_HS_DONE: the initiator has nothing left to do (after the last
 *	confirmation Ack); the object may be freed
 */
enum cpns_hs_verdict {
	CPNS_HS_DROP = 0,
	CPNS_HS_CONTINUE,
	CPNS_HS_COMPLETE,
	CPNS_HS_FAILED,
	CPNS_HS_DONE,
};

/**
 * struct cpns_hs_meta - how a message arrived
 * @prot: CPNS_PROT_SUITE0 or CPNS_PROT_PROTECTED (the record it came in)
 * @src: record header src entity ID
 * @dst: record header dst entity ID
 * @addr: source address as opaque bytes (IP and UDP port); used for the
 *	Abort limiter and the half-open bounds of section 11
 * @addr_len: at most CPNS_HS_ADDR_MAX
 * @now_ms: current time
 */
struct cpns_hs_meta {
	unsigned int prot;
	const uint8_t *src;
	const uint8_t *dst;
	const void *addr;
	size_t addr_len;
	uint64_t now_ms;
};

/**
 * struct cpns_hs_send - a message to send
 * @msg: the message (record payload)
 * @len: its length
 * @prot: CPNS_PROT_SUITE0: a suite 0 record from port 1 to port 1;
 *	CPNS_PROT_PROTECTED: a protected (C=1) type 2 record on @generation
 *	of the pair (only the confirmation Ack)
 * @generation: see @prot
 */
struct cpns_hs_send {
	uint8_t msg[CPNS_HS_SEND_MAX];
	size_t len;
	unsigned int prot;
	uint8_t generation;
};

/**
 * struct cpns_hs_install - generation install parameters (section 2.4)
 * @local_id: local entity ID
 * @peer_id: peer entity ID
 * @generation: 1-255
 * @suite: 1 or 2
 * @tx_ts: epoch 0 traffic secret we send with
 * @rx_ts: epoch 0 traffic secret we receive with
 * @role: initiator or responder of the handshake
 * @tx_mode: immediate (initiator) or on-confirm (responder)
 * @psk_kind: PSK_KIND of the handshake (for later procedures)
 * @kid: KID of the handshake
 * @xid: the exchange's XID
 * @k_wrap_sess: Expand-Label(MS, "wrap", "", 32), used by procedure E
 *	(section 10.6) on DeviceKey sessions; wipe it when not needed
 */
struct cpns_hs_install {
	uint8_t local_id[CPNS_ID_LEN];
	uint8_t peer_id[CPNS_ID_LEN];
	uint8_t generation;
	uint8_t suite;
	uint8_t tx_ts[CPNS_SECRET_LEN];
	uint8_t rx_ts[CPNS_SECRET_LEN];
	enum cpns_hs_role role;
	enum cpns_hs_tx_mode tx_mode;
	uint8_t psk_kind;
	uint32_t kid;
	uint8_t xid[CPNS_XID_LEN];
	uint8_t k_wrap_sess[CPNS_KEY_LEN];
};

/**
 * struct cpns_hs_actions - output of one call
 * @send_valid: @send holds a message to send
 * @send: the message
 * @install_valid: @install holds a generation to install (before @send)
 * @install: the parameters; contains secrets: cpns_hs_actions_wipe()
 * @deadline_ms: initiator only: call cpns_hs_init_timer() at this time;
 *	0 for no timer (the exchange is over)
 * @assigned_generation: responder only: the GENERATION just chosen in an
 *	m2, for the caller to persist as the pair's "last" (section 5.6)
 * @reason: Abort reason of a failure detected here (0 if none); whether
 *	the Abort was actually sent is @send_valid (the limiter may have
 *	suppressed it, or the failure is never answered)
 * @peer_abort: reason carried by a received Abort that ended the exchange
 * @timeout: the initiator gave up after the last retransmission
 * @peer_id: the peer of the exchange the call was about
 * @xid: its XID (valid unless the verdict is CPNS_HS_DROP)
 */
struct cpns_hs_actions {
	bool send_valid;
	struct cpns_hs_send send;
	bool install_valid;
	struct cpns_hs_install install;
	uint64_t deadline_ms;
	uint8_t assigned_generation;
	int reason;
	int peer_abort;
	bool timeout;
	uint8_t peer_id[CPNS_ID_LEN];
	uint8_t xid[CPNS_XID_LEN];
};

void cpns_hs_actions_wipe(struct cpns_hs_actions *act);

/**
 * struct cpns_hs_trace - copies of the intermediate values of one run
 *
 * For tests against handshake_h.json only: it holds secrets that section
 * 5.4 requires to be erased. Never pass one in production.
 */
struct cpns_hs_trace {
	uint8_t k_hs[CPNS_KEY_LEN];
	uint8_t es[CPNS_HASH_LEN];
	uint8_t derived[CPNS_HASH_LEN];
	uint8_t dhe[CPNS_X25519_LEN];
	uint8_t hs[CPNS_HASH_LEN];
	uint8_t th_m1_m2[CPNS_HASH_LEN];
	uint8_t th_m1_m2_m3[CPNS_HASH_LEN];
	uint8_t k_i_finished[CPNS_HASH_LEN];
	uint8_t k_r_finished[CPNS_HASH_LEN];
	uint8_t hash_i[CPNS_HASH_LEN];
	uint8_t hash_r[CPNS_HASH_LEN];
	uint8_t ms[CPNS_HASH_LEN];
	uint8_t ts_i2r[CPNS_SECRET_LEN];
	uint8_t ts_r2i[CPNS_SECRET_LEN];
	uint8_t k_wrap_sess[CPNS_KEY_LEN];
};

/* ---- Abort limiter (sections 4.8, 11) --------------------------------- */

#define CPNS_HS_LIMITER_SLOTS	64

/**
 * struct cpns_hs_limiter - at most one Abort per second per peer address
 *
 * A small table of the addresses an Abort went to recently; when it is
 * full the least recently used slot is reused (which can only let an
 * extra Abort through, never suppress one wrongly for long). Zero it to
 * initialise. One limiter may serve any number of initiators and
 * responders of a node.
 */
struct cpns_hs_limiter {
	struct {
		uint8_t addr[CPNS_HS_ADDR_MAX];
		uint8_t len;
		bool used;
		uint64_t last_ms;
	} slot[CPNS_HS_LIMITER_SLOTS];
};

bool cpns_hs_limiter_allow(struct cpns_hs_limiter *lim, const void *addr,
			   size_t addr_len, uint64_t now_ms);

/* ---- initiator -------------------------------------------------------- */

/**
 * struct cpns_hs_init_cfg - what the initiator of H(K) needs
 * @local_id: ID_I
 * @peer_id: ID_R
 * @k: the long-term key K (EUKey, LocalEUKey or DeviceKey); the engine
 *	uses only K_hs(K) (section 3.2)
 * @psk_kind: CPNS_HS_KIND_*
 * @kid: kid of K (0 for DeviceKey)
 * @binding: SHA-256(C_i) for PSK_KIND = 2 (section 9.7), else NULL
 * @suites: suites offered, preference order (1-8 entries, no 0 or repeats)
 * @n_suites: their number
 * @mode: CPNS_HS_MODE_PSK or CPNS_HS_MODE_PSK_DHE
 * @prev_gen: PREV_GEN: the generation held for the pair, 0 if none
 * @held: the generations held for the pair (GENERATION must not be one)
 * @n_held: their number (at most 2 by section 2.10; up to 8 accepted)
 * @rng: random source (NULL: the system generator); draws XID, RAND_I,
 *	then e_I in psk_dhe mode, the order of the vectors
 * @limiter: Abort limiter, or NULL for none
 * @trace: test hook, see struct cpns_hs_trace; NULL in production
 */
struct cpns_hs_init_cfg {
	uint8_t local_id[CPNS_ID_LEN];
	uint8_t peer_id[CPNS_ID_LEN];
	uint8_t k[CPNS_KEY_LEN];
	uint8_t psk_kind;
	uint32_t kid;
	const uint8_t *binding;
	uint8_t suites[CPNS_HS_MAX_SUITES];
	size_t n_suites;
	uint8_t mode;
	uint8_t prev_gen;
	uint8_t held[8];
	size_t n_held;
	const struct cpns_rng *rng;
	struct cpns_hs_limiter *limiter;
	struct cpns_hs_trace *trace;
};

struct cpns_hs_init;

struct cpns_hs_init *cpns_hs_init_new(const struct cpns_hs_init_cfg *cfg,
				      uint64_t now_ms,
				      struct cpns_hs_actions *act, int *err);
int cpns_hs_init_recv(struct cpns_hs_init *hs, const uint8_t *msg,
		      size_t len, const struct cpns_hs_meta *meta,
		      struct cpns_hs_actions *act);
int cpns_hs_init_timer(struct cpns_hs_init *hs, uint64_t now_ms,
		       struct cpns_hs_actions *act);
void cpns_hs_init_free(struct cpns_hs_init *hs);

/* ---- responder -------------------------------------------------------- */

/**
 * struct cpns_hs_key_req - what the responder asks its key store (5.5/6)
 * @initiator_id: INITIATOR_ID (= record src, checked before)
 * @psk_kind: PSK_KIND (1-3, checked before)
 * @kid: KID
 * @binding: BINDING (PSK_KIND 2 only), else NULL
 * @addr: the source address of m1
 * @addr_len: its length
 */
struct cpns_hs_key_req {
	const uint8_t *initiator_id;
	uint8_t psk_kind;
	uint32_t kid;
	const uint8_t *binding;
	const void *addr;
	size_t addr_len;
};

/**
 * struct cpns_hs_key - the key store's answer
 * @k: the long-term key K
 * @require_dhe: policy requires psk_dhe for this initiator/kind (the engine
 *	always requires it for DeviceKey, section 5.3)
 * @has_binding: @binding is the SHA-256(C_i) stored with a LocalEUKey; the
 *	engine compares it with m1's BINDING (BINDING_MISMATCH)
 * @binding: see @has_binding
 * @last_gen: the generation most recently assigned for the pair (0: none)
 * @held: the generations the responder holds for the pair
 * @n_held: their number (up to 8)
 */
struct cpns_hs_key {
	uint8_t k[CPNS_KEY_LEN];
	bool require_dhe;
	bool has_binding;
	uint8_t binding[CPNS_HASH_LEN];
	uint8_t last_gen;
	uint8_t held[8];
	size_t n_held;
};

/**
 * typedef cpns_hs_lookup_fn - key lookup and authorization (5.5 step 6)
 * @ctx: cpns_hs_resp_cfg.lookup_ctx
 * @req: the request
 * @key: to fill in on success
 *
 * Return: 0 with @key filled in; CPNS_REASON_NOT_AUTHORIZED for an
 * unknown, revoked or unauthorized initiator (or a policy denial);
 * CPNS_REASON_UNKNOWN_KEY for a known entity without a current key of
 * that kind and KID; CPNS_REASON_BINDING_MISMATCH may also be returned
 * directly; CPNS_REASON_RATE_LIMITED for the AUTH_FAILED lockout of
 * section 11 (the caller counts failures from @cpns_hs_actions.reason
 * per (peer, address)); CPNS_HS_LOOKUP_DROP to drop the m1 silently
 * instead (the RECOMMENDED reaction to a lockout). Any other value is
 * treated as INTERNAL_ERROR. The engine wipes @key after use.
 *
 * The limit of 20 m1 per second per source address (section 11) needs no
 * message parsing and is left to the caller, before cpns_hs_resp_recv().
 */
#define CPNS_HS_LOOKUP_DROP	(-1)

typedef int (*cpns_hs_lookup_fn)(void *ctx, const struct cpns_hs_key_req *req,
				 struct cpns_hs_key *key);

/**
 * struct cpns_hs_resp_cfg - responder configuration
 * @local_id: ID_R
 * @suites: suites the responder supports and allows (any order)
 * @n_suites: their number
 * @lookup: key lookup and authorization callback
 * @lookup_ctx: its context
 * @rng: random source (NULL: the system generator); draws RAND_R, then
 *	e_R in psk_dhe mode
 * @limiter: Abort limiter, or NULL for none
 * @max_half_open: total half-open exchanges (0: 1024); as many completed
 *	ones are kept to answer repeats, the oldest to complete giving way
 *	to a new exchange when all places are taken
 * @max_half_open_addr: per source address (0: 16)
 * @max_half_open_id_addr: per (INITIATOR_ID, address); a new m1 beyond it
 *	replaces the oldest (0: 4)
 * @trace: test hook, see struct cpns_hs_trace; NULL in production
 */
struct cpns_hs_resp_cfg {
	uint8_t local_id[CPNS_ID_LEN];
	uint8_t suites[CPNS_HS_MAX_SUITES];
	size_t n_suites;
	cpns_hs_lookup_fn lookup;
	void *lookup_ctx;
	const struct cpns_rng *rng;
	struct cpns_hs_limiter *limiter;
	unsigned int max_half_open;
	unsigned int max_half_open_addr;
	unsigned int max_half_open_id_addr;
	struct cpns_hs_trace *trace;
};

struct cpns_hs_resp;

struct cpns_hs_resp *cpns_hs_resp_new(const struct cpns_hs_resp_cfg *cfg);
int cpns_hs_resp_recv(struct cpns_hs_resp *r, const uint8_t *msg, size_t len,
		      const struct cpns_hs_meta *meta,
		      struct cpns_hs_actions *act);
uint64_t cpns_hs_resp_expire(struct cpns_hs_resp *r, uint64_t now_ms);
void cpns_hs_resp_forget(struct cpns_hs_resp *r,
			 const uint8_t peer[CPNS_ID_LEN],
			 const uint8_t xid[CPNS_XID_LEN]);
uint64_t cpns_hs_resp_next_deadline(const struct cpns_hs_resp *r);
unsigned int cpns_hs_resp_count(const struct cpns_hs_resp *r,
				unsigned int *half_open);
void cpns_hs_resp_free(struct cpns_hs_resp *r);

#endif /* CPNS_HS_H */

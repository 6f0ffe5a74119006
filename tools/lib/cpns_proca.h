/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Procedure A (PROTOCOL.md 6): EUKey assignment to a PN GW with a UI, as
 * two transport-independent state machines, one per exchange:
 *
 *   GW:  cpns_proca_gw_start() -> KeyRequest1
 *        cpns_proca_gw_input(KeyChallenge)  -> KeyRequest2 (or Abort REFUSED)
 *        cpns_proca_gw_input(KeyDelivery)   -> KeyConfirm; EUKey pending
 *        cpns_proca_gw_input(Ack)           -> DONE; EUKey active
 *   S:   cpns_proca_srv_init(), then cpns_proca_srv_input() for KeyRequest1,
 *        KeyRequest2, KeyConfirm; cpns_proca_srv_tick() for the timeouts.
 *
 * The engines open no sockets and read no clock: the caller passes the
 * record's source entity ID (the record layer has checked suite 0, ports
 * 1 -> 1 and that the record is addressed to this node), the message bytes
 * (msg_type onward), the time @now and a random source (NULL: the system
 * generator). The caller demultiplexes exchanges by (peer ID, XID) and
 * retransmits the last message on its timer (cpns_proca_gw_last()); the
 * engines answer byte-identical duplicates from their cached replies
 * (PROTOCOL.md 4.7) and never draw randomness twice.
 *
 * Each input returns an enum cpns_proca_action or a negative errno (local
 * failure: nothing to send, the exchange state is unchanged). *out and *out_len
 * point to the bytes to send (inside the engine's state) or are NULL/0.
 * An input that is dropped (CPNS_PROCA_IGNORE) leaves the state unchanged.
 *
 * S reaches its registry through struct cpns_proca_srv_ops (lookup of the
 * verifier record, lockout and account policy, kid allocation, pending /
 * confirmed / failed EUKeys), so the lockout state lives in the registry.
 *
 * Secrets (password, w0, w1, x, y, K_shared, EUKey) live in the state;
 * call cpns_proca_gw_wipe() / cpns_proca_srv_wipe() when discarding it.
 */
#ifndef CPNS_PROCA_H
#define CPNS_PROCA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpns_crypto.h"
#include "cpns_spake2p.h"
#include "cpns_tlv.h"

#define CPNS_USER_ID_MAX		64
#define CPNS_PROCA_SALT_LEN		16
#define CPNS_PROCA_WRAPPED_LEN		48
#define CPNS_PROCA_PASSWORD_MAX		1024
/*
 * Largest procedure A message the engines keep (for TH and duplicates).
 * Every message built within the profile is below 600 bytes (4.10); a
 * bigger one can only carry ignorable extension TLVs and is dropped.
 */
#define CPNS_PROCA_MSG_MAX		1024
#define CPNS_PROCA_CONFIRM_TIMEOUT	60	/* s, pending EUKey (6.4, 11) */
#define CPNS_PROCA_HALF_OPEN_TIMEOUT	30	/* s, after KeyChallenge (4.7) */
#define CPNS_PROCA_EUKEY_LIFETIME	31536000 /* s, default: 365 days */

enum cpns_proca_action {
	CPNS_PROCA_IGNORE = 0,	/* dropped silently; state unchanged */
	CPNS_PROCA_SEND,	/* send *out; the exchange goes on */
	CPNS_PROCA_ABORT,	/* exchange over; send *out (an Abort) */
	CPNS_PROCA_FAILED,	/* exchange over: refused / Abort received;
				 * *out (S: KeyDelivery REFUSED) if set */
	CPNS_PROCA_DONE,	/* exchange complete; send *out if set */
};

/* ---- shared pieces ---------------------------------------------------- */

/**
 * struct cpns_proca_verifier - what S stores per user (6.1)
 * @salt: scrypt salt
 * @log2n: scrypt log2 N (15 or 16)
 * @r: scrypt r (8)
 * @p: scrypt p (1)
 * @w0: SPAKE2+ w0
 * @l: SPAKE2+ L = w1*P
 */
struct cpns_proca_verifier {
	uint8_t salt[CPNS_PROCA_SALT_LEN];
	unsigned int log2n;
	uint32_t r;
	uint32_t p;
	uint8_t w0[CPNS_SPAKE2P_SCALAR_LEN];
	uint8_t l[CPNS_SPAKE2P_POINT_LEN];
};

/* The RECOMMENDED stable fake record of 6.4 for an unknown UserID. */
int cpns_proca_fake_record(const uint8_t secret[32], const uint8_t *uid,
			   size_t uid_len, unsigned int log2n,
			   struct cpns_proca_verifier *v);

/* k_wrap = Expand-Label(K_shared, "eukey wrap", TH_A, 32) (6.3). */
int cpns_proca_wrap_key(const uint8_t k_shared[32], const uint8_t th[32],
			uint8_t k_wrap[32]);

/* AAD = ID_GW || UserID || u32(kid) || u64(expiry); returns its length. */
size_t cpns_proca_wrap_aad(const uint8_t gw_id[CPNS_ID_LEN],
			   const uint8_t *uid, size_t uid_len, uint32_t kid,
			   uint64_t expiry,
			   uint8_t aad[CPNS_ID_LEN + CPNS_USER_ID_MAX + 12]);

/* ---- GW side ---------------------------------------------------------- */

enum cpns_proca_gw_state {
	CPNS_PROCA_GW_IDLE = 0,
	CPNS_PROCA_GW_WAIT_CHALLENGE,	/* KeyRequest1 sent */
	CPNS_PROCA_GW_WAIT_DELIVERY,	/* KeyRequest2 sent */
	CPNS_PROCA_GW_WAIT_ACK,		/* KeyConfirm sent; EUKey pending */
	CPNS_PROCA_GW_DONE,		/* Ack received; EUKey active */
	CPNS_PROCA_GW_FAILED,		/* see @reason / @status */
};

struct cpns_proca_gw_msgbuf {
	size_t len;
	uint8_t b[CPNS_PROCA_MSG_MAX];
};

/**
 * struct cpns_proca_gw - GW side of one procedure A exchange
 * @state: see enum cpns_proca_gw_state
 * @reason: FAILED: the Abort reason sent or received (0 if none)
 * @status: FAILED after a KeyDelivery with STATUS != OK: that STATUS
 * @eukey: the EUKey, valid in WAIT_ACK (pending) and DONE (active)
 * @kid: its kid
 * @expiry: its expiry
 *
 * The other fields are private to the engine.
 */
struct cpns_proca_gw {
	enum cpns_proca_gw_state state;
	uint8_t reason;
	uint8_t status;
	uint8_t eukey[CPNS_KEY_LEN];
	uint32_t kid;
	uint64_t expiry;

	uint8_t xid[CPNS_XID_LEN];
	uint8_t gw_id[CPNS_ID_LEN];
	uint8_t server_id[CPNS_ID_LEN];
	uint8_t uid[CPNS_USER_ID_MAX];
	size_t uid_len;
	uint8_t password[CPNS_PROCA_PASSWORD_MAX];
	size_t password_len;
	uint8_t w0[CPNS_SPAKE2P_SCALAR_LEN];
	uint8_t w1[CPNS_SPAKE2P_SCALAR_LEN];
	uint8_t x[CPNS_SPAKE2P_SCALAR_LEN];
	uint8_t share_p[CPNS_SPAKE2P_POINT_LEN];
	uint8_t th[CPNS_HASH_LEN];
	struct cpns_proca_gw_msgbuf kr1, kc, kr2, kd, kconf, abort;
	const uint8_t *last;	/* last message sent, for retransmission */
	size_t last_len;
};

/*
 * Starts an exchange: draws XID, keeps a copy of the password (wiped as
 * soon as w0, w1 are computed), builds KeyRequest1 into *out.
 */
int cpns_proca_gw_start(struct cpns_proca_gw *gw,
			const uint8_t gw_id[CPNS_ID_LEN],
			const uint8_t server_id[CPNS_ID_LEN],
			const uint8_t *uid, size_t uid_len,
			const uint8_t *password, size_t password_len,
			const struct cpns_rng *rng, const uint8_t **out,
			size_t *out_len);

/* One message from @src (the record's source entity ID). */
int cpns_proca_gw_input(struct cpns_proca_gw *gw,
			const uint8_t src[CPNS_ID_LEN], const uint8_t *msg,
			size_t len, uint64_t now, const struct cpns_rng *rng,
			const uint8_t **out, size_t *out_len);

/* The last message sent (to retransmit on the timer of 4.7), or NULL. */
const uint8_t *cpns_proca_gw_last(const struct cpns_proca_gw *gw,
				  size_t *len);

void cpns_proca_gw_wipe(struct cpns_proca_gw *gw);

/* ---- S side ----------------------------------------------------------- */

/**
 * struct cpns_proca_srv_ops - the registry as S's engine sees it
 * @lookup: the verifier record of a UserID: 0, -ENOENT for an unknown user
 *	(the engine then uses the fake record), other negative errno
 * @admit: the rate limits, lockout and account policy of 6.5 / 11 at
 *	KeyRequest2 (for unknown users too, @known false): 0 to go on, 1 to
 *	refuse (KeyDelivery REFUSED), negative errno
 * @next_kid: the kid a new EUKey of this GW gets (without reserving it)
 * @pending: store the EUKey as pending (unusable until @confirm)
 * @confirm: a valid KeyConfirm: pending -> active atomically, account
 *	binding, previous EUKey of the GW revoked, failures reset
 * @failure: a failed attempt of a user (wrong confirmP, Abort from the GW
 *	or timeout after KeyDelivery): delete the pending EUKey (@kid, if
 *	@pending), count a failure for the UserID
 * @decoy: for an unknown UserID, where a known one's EUKey is stored
 *	(@pending): a committed write that no reader sees, so that the
 *	KeyDelivery of an unknown UserID does not come back sooner
 *
 * The @ctx of struct cpns_proca_srv_cfg is passed to each.
 */
struct cpns_proca_srv_ops {
	int (*lookup)(void *ctx, const uint8_t *uid, size_t uid_len,
		      struct cpns_proca_verifier *v);
	int (*admit)(void *ctx, const uint8_t *uid, size_t uid_len,
		     const uint8_t gw_id[CPNS_ID_LEN], bool known,
		     uint64_t now);
	int (*next_kid)(void *ctx, const uint8_t gw_id[CPNS_ID_LEN],
			uint32_t *kid);
	int (*pending)(void *ctx, const uint8_t *uid, size_t uid_len,
		       const uint8_t gw_id[CPNS_ID_LEN], uint32_t kid,
		       uint64_t expiry, const uint8_t eukey[CPNS_KEY_LEN],
		       uint64_t now);
	int (*confirm)(void *ctx, const uint8_t *uid, size_t uid_len,
		       const uint8_t gw_id[CPNS_ID_LEN], uint32_t kid,
		       uint64_t now);
	int (*failure)(void *ctx, const uint8_t *uid, size_t uid_len,
		       const uint8_t gw_id[CPNS_ID_LEN], bool pending,
		       uint32_t kid, uint64_t now);
	int (*decoy)(void *ctx);
};

/**
 * struct cpns_proca_srv_cfg - S's configuration (shared by exchanges)
 * @server_id: ID_S
 * @server_secret: the 32-byte secret of the fake records
 * @log2n: scrypt log2 N of new registrations and fake records (15)
 * @eukey_lifetime: seconds (CPNS_PROCA_EUKEY_LIFETIME)
 * @ops: the registry
 * @ctx: passed to @ops
 */
struct cpns_proca_srv_cfg {
	uint8_t server_id[CPNS_ID_LEN];
	uint8_t server_secret[32];
	unsigned int log2n;
	uint64_t eukey_lifetime;
	const struct cpns_proca_srv_ops *ops;
	void *ctx;
};

enum cpns_proca_srv_state {
	CPNS_PROCA_SRV_IDLE = 0,	/* waiting for KeyRequest1 */
	CPNS_PROCA_SRV_WAIT_KR2,	/* KeyChallenge sent */
	CPNS_PROCA_SRV_WAIT_CONFIRM,	/* KeyDelivery OK sent; EUKey pending */
	CPNS_PROCA_SRV_DONE,		/* Ack sent; EUKey active */
	CPNS_PROCA_SRV_REFUSED,		/* KeyDelivery REFUSED sent */
	CPNS_PROCA_SRV_FAILED,		/* Abort sent or received, timeout */
};

/**
 * struct cpns_proca_srv - S side of one procedure A exchange
 * @state: see enum cpns_proca_srv_state
 * @reason: FAILED: the Abort reason sent or received (0: timeout)
 * @known: the UserID has a registration record
 * @gw_id: ID_GW (from KeyRequest1)
 * @uid: the UserID
 * @uid_len: its length
 * @kid: kid of the pending / delivered EUKey
 * @expiry: its expiry
 *
 * The other fields are private to the engine.
 */
struct cpns_proca_srv {
	enum cpns_proca_srv_state state;
	uint8_t reason;
	bool known;
	uint8_t gw_id[CPNS_ID_LEN];
	uint8_t uid[CPNS_USER_ID_MAX];
	size_t uid_len;
	uint32_t kid;
	uint64_t expiry;

	const struct cpns_proca_srv_cfg *cfg;
	uint8_t xid[CPNS_XID_LEN];
	struct cpns_proca_verifier v;
	uint8_t confirm_p[CPNS_HASH_LEN];
	uint64_t t_last;	/* time of the last accepted message */
	uint64_t t_delivery;	/* time KeyDelivery OK was sent */
	struct cpns_proca_gw_msgbuf kr1, kc, kr2, kd, kconf, ack, abort;
};

void cpns_proca_srv_init(struct cpns_proca_srv *srv,
			 const struct cpns_proca_srv_cfg *cfg);

/* One message from @src (the record's source entity ID). */
int cpns_proca_srv_input(struct cpns_proca_srv *srv,
			 const uint8_t src[CPNS_ID_LEN], const uint8_t *msg,
			 size_t len, uint64_t now, const struct cpns_rng *rng,
			 const uint8_t **out, size_t *out_len);

/*
 * Timeouts: a pending EUKey unconfirmed 60 s after KeyDelivery is deleted
 * and counted as a failure; half-open state after KeyChallenge expires
 * after 30 s. Returns true when the exchange has ended (any terminal
 * state), so that the caller can discard it (after keeping the cached
 * replies for duplicates as long as it wishes).
 */
bool cpns_proca_srv_tick(struct cpns_proca_srv *srv, uint64_t now);

void cpns_proca_srv_wipe(struct cpns_proca_srv *srv);

#endif /* CPNS_PROCA_H */

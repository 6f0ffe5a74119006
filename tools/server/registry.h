/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The CPNS Server registry (SQLite, WAL, foreign keys on): users and their
 * SPAKE2+ verifier records, entities and their EUKeys (encrypted at rest
 * under a key-encryption key), the procedure A lockout, and an audit log.
 *
 * Every state change is one transaction, so a crash (kill -9) at any point
 * leaves either the old or the new state; an EUKey becomes active only in
 * the transaction of cpns_reg_eukey_confirm(), and pending rows that were
 * never confirmed expire (cpns_reg_expire_pending(), also run at open).
 *
 * The registry reads no clock: every call that records or checks time
 * takes @now (Unix seconds). Functions return 0 or a negative errno and
 * describe the failure in @err when given one:
 *   -ENOENT   no such user / entity / key
 *   -EEXIST   already exists
 *   -EINVAL   bad input (nothing changed)
 *   -EPERM    refused by state (e.g. key not pending, GW bound elsewhere)
 *   -EKEYREJECTED  the KEK does not match the database
 *   -EBADMSG  a stored key does not decrypt
 *   -EIO      SQLite error
 *
 * The EUKey record is AES-256-GCM(KEK, nonce, AAD = entity ID || u32(kid),
 * EUKey) with a random 96-bit nonce stored beside it.
 */
#ifndef CPNS_REGISTRY_H
#define CPNS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpns_crypto.h"
#include "cpns_err.h"
#include "cpns_proca.h"

#define CPNS_REG_SCHEMA_VERSION		2
#define CPNS_REG_PENDING_TTL		60	/* s: pending EUKey (6.4) */
#define CPNS_REG_LOCK_FAILURES		5	/* failures ... */
#define CPNS_REG_LOCK_WINDOW		900	/* ... within 15 min */
#define CPNS_REG_LOCK_BASE		900	/* first lockout 15 min */
#define CPNS_REG_LOCK_MAX		86400	/* doubling up to 24 h */
#define CPNS_REG_MAX_GWS		16	/* per account (6.5) */

enum cpns_reg_kind {
	CPNS_REG_KIND_GW = 1,
	CPNS_REG_KIND_PNE = 2,
};

enum cpns_reg_key_state {
	CPNS_REG_KEY_PENDING = 0,
	CPNS_REG_KEY_ACTIVE = 1,
	CPNS_REG_KEY_REVOKED = 2,
};

struct cpns_reg;

/**
 * cpns_reg_open() - open (create, migrate) a registry
 * @path: database file
 * @kek_spec: key file of the key-encryption key (cpns_key_read(): 0600)
 * @now: time, for expiring pending EUKeys left by a crash
 * @out: the registry
 * @err: failure description
 *
 * Applies the forward migrations up to CPNS_REG_SCHEMA_VERSION in one
 * transaction; refuses a database of a newer schema (-EPROTO) and a KEK
 * other than the one the database was created with (-EKEYREJECTED).
 */
int cpns_reg_open(const char *path, const char *kek_spec, uint64_t now,
		  struct cpns_reg **out, struct cpns_err *err);
void cpns_reg_close(struct cpns_reg *reg);
int cpns_reg_schema_version(struct cpns_reg *reg);

/* Source (e.g. "192.0.2.1:7870") recorded with the following audit rows. */
void cpns_reg_set_source(struct cpns_reg *reg, const char *source);

/* ---- users ------------------------------------------------------------ */

struct cpns_reg_user {
	uint8_t uid[CPNS_USER_ID_MAX];
	size_t uid_len;
	bool has_verifier;
	bool disabled;
	unsigned int log2n;
	uint64_t created;
};

/* A user without a verifier behaves like an unknown user (fake record). */
int cpns_reg_user_add(struct cpns_reg *reg, const uint8_t *uid,
		      size_t uid_len, uint64_t now, struct cpns_err *err);
/* Removes the user, its entities and their keys (all revoked at once). */
int cpns_reg_user_remove(struct cpns_reg *reg, const uint8_t *uid,
			 size_t uid_len, uint64_t now, struct cpns_err *err);
int cpns_reg_user_disable(struct cpns_reg *reg, const uint8_t *uid,
			  size_t uid_len, bool disabled, uint64_t now,
			  struct cpns_err *err);
/* Calls @cb per user in UserID order; a non-zero return stops and is returned. */
int cpns_reg_user_list(struct cpns_reg *reg,
		       int (*cb)(void *ctx, const struct cpns_reg_user *u),
		       void *ctx, struct cpns_err *err);
/*
 * Draws a salt from @rng (NULL: system), computes w0 and L with scrypt
 * (log2n 15 or 16, r 8, p 1) and stores salt, parameters, w0, L. The
 * password buffer (from a file or stdin, never argv) is wiped, success or
 * not.
 */
int cpns_reg_user_set_password(struct cpns_reg *reg, const uint8_t *uid,
			       size_t uid_len, uint8_t *password,
			       size_t password_len, unsigned int log2n,
			       const struct cpns_rng *rng, uint64_t now,
			       struct cpns_err *err);
/* Stores a verifier record computed elsewhere (the provisioning line). */
int cpns_reg_user_set_verifier(struct cpns_reg *reg, const uint8_t *uid,
			       size_t uid_len,
			       const struct cpns_proca_verifier *v,
			       uint64_t now, struct cpns_err *err);
/* -ENOENT for an unknown user or one without a verifier. */
int cpns_reg_user_lookup(struct cpns_reg *reg, const uint8_t *uid,
			 size_t uid_len, struct cpns_proca_verifier *v);

/* ---- entities and EUKeys ---------------------------------------------- */

struct cpns_reg_entity {
	uint8_t id[CPNS_ID_LEN];
	enum cpns_reg_kind kind;
	bool has_owner;
	uint8_t owner[CPNS_USER_ID_MAX];
	size_t owner_len;
	uint32_t active_kid;	/* 0: no active EUKey */
	uint64_t active_expiry;
	bool pending;		/* an unconfirmed assignment exists */
	uint64_t created;
};

int cpns_reg_entity_list(struct cpns_reg *reg,
			 int (*cb)(void *ctx, const struct cpns_reg_entity *e),
			 void *ctx, struct cpns_err *err);
/* Revokes every EUKey of the entity (pending ones are deleted). */
int cpns_reg_entity_revoke(struct cpns_reg *reg,
			   const uint8_t id[CPNS_ID_LEN], uint64_t now,
			   struct cpns_err *err);

/* The kid a new EUKey of the entity gets: last issued + 1 (first: 1). */
int cpns_reg_next_kid(struct cpns_reg *reg, const uint8_t id[CPNS_ID_LEN],
		      uint32_t *kid);
/*
 * Stores a pending EUKey for GW @gw_id of user @uid (entity created if
 * new, unbound until confirmed). Pending keys are never returned by
 * cpns_reg_eukey_lookup() and expire CPNS_REG_PENDING_TTL after @now.
 */
int cpns_reg_eukey_begin(struct cpns_reg *reg, const uint8_t *uid,
			 size_t uid_len, const uint8_t gw_id[CPNS_ID_LEN],
			 uint32_t kid, uint64_t expiry,
			 const uint8_t eukey[CPNS_KEY_LEN], uint64_t now,
			 struct cpns_err *err);
/*
 * Atomically: the pending key becomes active, the previous active key of
 * the entity is revoked, the entity is bound to @uid, the user's failure
 * count is reset, an audit row is written. -EPERM if the key is not
 * pending (expired, unknown) or the entity is bound to another user.
 */
int cpns_reg_eukey_confirm(struct cpns_reg *reg, const uint8_t *uid,
			   size_t uid_len, const uint8_t gw_id[CPNS_ID_LEN],
			   uint32_t kid, uint64_t now, struct cpns_err *err);
/*
 * The active, unexpired EUKey of an entity, decrypted. The key read is kept
 * for the next lookups until a connection commits a change:
 * at once for this one, at the next cpns_reg_sync() or
 * cpns_reg_eukey_active() for another. Nothing is kept before the first
 * cpns_reg_sync().
 */
int cpns_reg_eukey_lookup(struct cpns_reg *reg, const uint8_t id[CPNS_ID_LEN],
			  uint64_t now, uint32_t *kid,
			  uint8_t eukey[CPNS_KEY_LEN], uint64_t *expiry);
/*
 * 0 if key @kid of the entity is still its active, unexpired EUKey;
 * -ENOENT if it was revoked, replaced or expired since; -EIO. Exact as of
 * the call: it reads PRAGMA data_version, and the database when a
 * connection committed since the row was kept. In a batch, exact as of the
 * batch's start, which no other connection's commit can follow before its
 * end: the version read then serves.
 */
int cpns_reg_eukey_active(struct cpns_reg *reg, const uint8_t id[CPNS_ID_LEN],
			  uint32_t kid, uint64_t now);
/*
 * Empties the rows kept by cpns_reg_eukey_lookup() if another connection
 * committed since the last call (PRAGMA data_version), and starts keeping
 * them. 0 or -EIO (then nothing is kept until a call succeeds).
 */
int cpns_reg_sync(struct cpns_reg *reg);
/*
 * For an attempt of an unknown UserID in procedure A, where a known one's
 * pending EUKey is written: a committed write of the same kind that no
 * reader sees, so that both take the same time. 0 or -EIO.
 */
int cpns_reg_decoy(struct cpns_reg *reg);
/* Deletes pending keys past their time, each counted as a failure. */
int cpns_reg_expire_pending(struct cpns_reg *reg, uint64_t now);

/* ---- procedure A lockout ---------------------------------------------- */

/*
 * A failed attempt of @uid (known or not): deletes the pending key @kid of
 * @gw_id if @pending; counts a failure unless @pending and that key was
 * already gone (expired and counted by cpns_reg_expire_pending()). The 5th
 * failure within 15 min locks the UserID out (15 min, doubling per further
 * lockout up to 24 h).
 */
int cpns_reg_proca_failure(struct cpns_reg *reg, const uint8_t *uid,
			   size_t uid_len, const uint8_t gw_id[CPNS_ID_LEN],
			   bool pending, uint32_t kid, uint64_t now);
bool cpns_reg_locked(struct cpns_reg *reg, const uint8_t *uid, size_t uid_len,
		     uint64_t now);
/*
 * The policy of 6.5 / 11 at KeyRequest2: 1 (refuse) if the UserID is
 * locked out, the account disabled, the GW bound to another account or the
 * account's GW limit reached; 0 to go on; negative errno.
 */
int cpns_reg_proca_admit(struct cpns_reg *reg, const uint8_t *uid,
			 size_t uid_len, const uint8_t gw_id[CPNS_ID_LEN],
			 bool known, uint64_t now);

/* The registry as procedure A's S engine uses it (ctx: struct cpns_reg *). */
extern const struct cpns_proca_srv_ops cpns_reg_proca_ops;

/* ---- batches ---------------------------------------------------------- */

/*
 * A batch is one write transaction (BEGIN IMMEDIATE) holding the checks
 * and audit rows of one pass of the server's loop, so that a pass pays for
 * one transaction, not one per authentication. cpns_reg_batch_begin()
 * syncs (cpns_reg_sync()) inside the transaction: cpns_reg_eukey_active()
 * in the batch sees every commit made before it began, and no other
 * connection commits until cpns_reg_batch_end(). cpns_reg_audit_rows() in
 * the batch writes in its transaction. Other writes must not be made in a
 * batch.
 *
 * cpns_reg_batch_begin(): 0, or -EIO (e.g. another connection holds the
 * write lock past the busy timeout), and then no batch is open.
 * cpns_reg_batch_end(): commits; 0, -EIO when a write in the batch failed
 * or the commit did (nothing of the batch is written), -EINVAL outside a
 * batch.
 */
int cpns_reg_batch_begin(struct cpns_reg *reg);
int cpns_reg_batch_end(struct cpns_reg *reg);

/* ---- audit ------------------------------------------------------------ */

int cpns_reg_audit(struct cpns_reg *reg, uint64_t now, const char *event,
		   const uint8_t *uid, size_t uid_len,
		   const uint8_t *entity_id, const char *detail);

/* An audit row of cpns_reg_audit_rows(): no user, its own source. */
struct cpns_reg_audit_row {
	uint64_t time;
	const char *event;		/* a string literal */
	uint8_t entity_id[CPNS_ID_LEN];
	char source[64];
	char detail[96];
};

/*
 * Writes @n rows in one transaction (procedure B's outcomes, written in
 * groups by the server's loop). 0 or -EIO; on error none is written. In a
 * batch, the rows are part of the batch's transaction, and an error rolls
 * the whole batch back.
 */
int cpns_reg_audit_rows(struct cpns_reg *reg,
			const struct cpns_reg_audit_row *rows, size_t n);
/* An audit row as cpns_reg_audit_list() passes it, valid during the call. */
struct cpns_reg_audit_entry {
	int64_t id;
	uint64_t time;
	const char *event;
	const uint8_t *user_id;		/* NULL: none */
	size_t user_len;
	const uint8_t *entity_id;	/* NULL: none; else CPNS_ID_LEN bytes */
	const char *source;		/* NULL: none */
	const char *detail;		/* NULL: none */
};

/* The rows with this event (NULL: all), oldest first; stops at a nonzero cb. */
int cpns_reg_audit_list(struct cpns_reg *reg, const char *event,
			int (*cb)(void *ctx,
				  const struct cpns_reg_audit_entry *e),
			void *ctx, struct cpns_err *err);
/* Number of audit rows with this event (NULL: all). */
int cpns_reg_audit_count(struct cpns_reg *reg, const char *event);

#endif /* CPNS_REGISTRY_H */

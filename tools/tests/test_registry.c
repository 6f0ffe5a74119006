// SPDX-License-Identifier: GPL-2.0
/*
 * CPNS Server registry (tools/server/registry.c) on a temporary database:
 * migrations (1 -> 2 from a registry of schema 1), reopen, every API, wrong KEK, pending never active, audit,
 * lockout, bad input, the key rows kept between lookups with a second
 * connection, a crash in the middle of an enrolment, and a full
 * procedure A S-side run of procedure_a.json through the registry.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cpns_crypto.h"
#include "cpns_keyfile.h"
#include "cpns_proca.h"
#include "../server/registry.h"
#include "tap.h"
#include "vec.h"

#define NOW 1700000000ULL

static char dir[] = "/tmp/cpns-reg-XXXXXX";
static char db[256], kek[256], kek2[256];
static const uint8_t gw1[16] = { 0x1b, 0x5e, 0x2f, 0x8c, 0x9a, 0x0d, 0x4e,
				 0x7f, 0x8a, 0x6b, 0x5c, 0x4d, 0x3e, 0x2f,
				 0x1a, 0x0b };
static const uint8_t gw2[16] = { 0x22, [15] = 0x22 };
#define ALICE (const uint8_t *)"alice@example.net", 17
#define BOB (const uint8_t *)"bob@example.net", 15

static int count_cb(void *ctx, const void *item)
{
	(void)item;
	(*(int *)ctx)++;
	return 0;
}

static struct cpns_reg_entity last_entity;

static int entity_cb(void *ctx, const struct cpns_reg_entity *e)
{
	(*(int *)ctx)++;
	last_entity = *e;
	return 0;
}

static struct cpns_reg *open_reg(uint64_t now, const char *k, int *ret)
{
	struct cpns_reg *reg = NULL;
	struct cpns_err err = { 0 };

	*ret = cpns_reg_open(db, k, now, &reg, &err);
	if (*ret)
		tap_diag("open: %s", err.msg);
	return reg;
}

struct audit_seen {
	unsigned int n, with_entity, with_source;
	uint64_t first_time;
};

static int audit_seen(void *ctx, const struct cpns_reg_audit_entry *e)
{
	struct audit_seen *s = ctx;

	if (!s->n++)
		s->first_time = e->time;
	s->with_entity += e->entity_id != NULL;
	s->with_source += e->source != NULL;
	return 0;
}

static void test_basic(void)
{
	struct json_object *root = vec_load("procedure_a.json");
	struct json_object *c0 = json_object_array_get_idx(vec_get(root, "cases"), 0);
	struct json_object *in = vec_get(c0, "inputs"), *reg_v = vec_get(c0, "registration");
	struct cpns_reg *reg;
	struct cpns_proca_verifier v, v2;
	struct cpns_err err;
	uint8_t key[32], k1[32], k2[32], got[32], pw[64];
	size_t n, pw_len;
	uint8_t *salt = vec_hex(in, "salt", &n);
	struct cpns_rng rng;
	struct cpns_rng_replay rp;
	const uint8_t *d[1] = { salt };
	size_t l[1] = { 16 };
	uint64_t expiry;
	uint32_t kid;
	int r, cnt;

	reg = open_reg(NOW, kek, &r);
	tap_ok(!r && reg && cpns_reg_schema_version(reg) == CPNS_REG_SCHEMA_VERSION,
	       "open: empty database migrated to schema %d", CPNS_REG_SCHEMA_VERSION);
	if (!reg)
		tap_bail("cannot open the registry");

	/* users */
	tap_ok(!cpns_reg_user_add(reg, ALICE, NOW, &err), "user add");
	tap_ok(cpns_reg_user_add(reg, ALICE, NOW, &err) == -EEXIST,
	       "user add twice: -EEXIST");
	tap_ok(cpns_reg_user_add(reg, (const uint8_t *)"", 0, NOW, &err) == -EINVAL &&
		       cpns_reg_user_add(reg, (const uint8_t *)
					 "0123456789012345678901234567890123456789012345678901234567890123456789",
					 65, NOW, &err) == -EINVAL,
	       "UserID of 0 or 65 bytes rejected");
	cnt = 0;
	cpns_reg_user_list(reg, (int (*)(void *, const struct cpns_reg_user *))count_cb,
			   &cnt, &err);
	tap_ok(cnt == 1, "user list: one user after the rejected adds");
	tap_ok(cpns_reg_user_lookup(reg, ALICE, &v) == -ENOENT,
	       "a user without a verifier looks unknown");

	pw_len = strlen(vec_str(in, "password"));
	memcpy(pw, vec_str(in, "password"), pw_len);
	cpns_rng_replay_init(&rng, &rp, d, l, 1);
	r = cpns_reg_user_set_password(reg, ALICE, pw, pw_len, 15, &rng, NOW,
				       &err);
	{
		static const uint8_t zero[64];

		tap_ok(!r && !memcmp(pw, zero, pw_len),
		       "set password (salt of the vector); password buffer wiped");
	}
	r = cpns_reg_user_lookup(reg, ALICE, &v);
	{
		uint8_t *w0 = vec_hex(reg_v, "w0", &n), *L = vec_hex(reg_v, "L", &n);

		tap_ok(!r && !memcmp(v.w0, w0, 32) && !memcmp(v.l, L, 65) &&
			       !memcmp(v.salt, salt, 16) && v.log2n == 15 &&
			       v.r == 8 && v.p == 1,
		       "lookup: salt, (15, 8, 1), w0 and L of procedure_a.json");
		free(w0);
		free(L);
	}
	v2 = v;
	v2.log2n = 14;
	tap_ok(cpns_reg_user_set_verifier(reg, ALICE, &v2, NOW, &err) == -EINVAL,
	       "verifier with scrypt log2 N 14 refused");
	v2 = v;
	v2.l[64] ^= 1;
	tap_ok(cpns_reg_user_set_verifier(reg, ALICE, &v2, NOW, &err) == -EINVAL,
	       "verifier with an invalid L refused");
	tap_ok(!cpns_reg_user_lookup(reg, ALICE, &v2) && !memcmp(&v, &v2, sizeof(v)),
	       "the refused verifiers changed nothing");
	tap_ok(cpns_reg_user_set_verifier(reg, BOB, &v, NOW, &err) == -ENOENT,
	       "verifier for an unknown user: -ENOENT");

	/* EUKeys */
	memset(k1, 0x11, 32);
	memset(k2, 0x22, 32);
	tap_ok(!cpns_reg_next_kid(reg, gw1, &kid) && kid == 1, "next kid of a new GW: 1");
	tap_ok(cpns_reg_eukey_begin(reg, BOB, gw1, 1, NOW + 100, k1, NOW, &err) == -ENOENT,
	       "begin for an unknown user: -ENOENT");
	tap_ok(cpns_reg_eukey_begin(reg, ALICE, gw1, 1, NOW, k1, NOW, &err) == -EINVAL,
	       "begin with expiry = now: -EINVAL");
	tap_ok(!cpns_reg_eukey_begin(reg, ALICE, gw1, 1, NOW + 1000, k1, NOW, &err),
	       "begin: EUKey kid 1 pending");
	tap_ok(cpns_reg_eukey_lookup(reg, gw1, NOW, &kid, got, &expiry) == -ENOENT,
	       "a pending EUKey is never returned as active");
	cnt = 0;
	cpns_reg_entity_list(reg, entity_cb, &cnt, &err);
	tap_ok(cnt == 1 && last_entity.pending && !last_entity.active_kid &&
		       !last_entity.has_owner,
	       "entity list: GW pending, unbound");
	tap_ok(cpns_reg_eukey_begin(reg, ALICE, gw1, 1, NOW + 1000, k1, NOW, &err) == -EEXIST,
	       "begin with a kid already issued: -EEXIST");
	tap_ok(cpns_reg_eukey_confirm(reg, ALICE, gw1, 7, NOW + 1, &err) == -EPERM,
	       "confirm of a kid that is not pending: -EPERM");
	tap_ok(cpns_reg_eukey_confirm(reg, BOB, gw1, 1, NOW + 1, &err) == -EPERM,
	       "confirm by another user: -EPERM");
	tap_ok(!cpns_reg_eukey_confirm(reg, ALICE, gw1, 1, NOW + 1, &err),
	       "confirm: pending -> active");
	tap_ok(!cpns_reg_eukey_lookup(reg, gw1, NOW + 2, &kid, got, &expiry) &&
		       kid == 1 && !memcmp(got, k1, 32) && expiry == NOW + 1000,
	       "lookup: the active EUKey decrypts");
	tap_ok(cpns_reg_eukey_lookup(reg, gw1, NOW + 1000, &kid, got, &expiry) == -ENOENT,
	       "lookup: an expired EUKey is not returned");
	/* re-assignment: the old key stays until the new one is confirmed */
	tap_ok(!cpns_reg_next_kid(reg, gw1, &kid) && kid == 2 &&
		       !cpns_reg_eukey_begin(reg, ALICE, gw1, 2, NOW + 2000, k2, NOW + 3, &err) &&
		       !cpns_reg_eukey_lookup(reg, gw1, NOW + 4, &kid, got, NULL) &&
		       kid == 1 && !memcmp(got, k1, 32),
	       "re-assignment: kid 1 stays active while kid 2 is pending");
	tap_ok(!cpns_reg_eukey_active(reg, gw1, 1, NOW + 4) &&
		       cpns_reg_eukey_active(reg, gw1, 2, NOW + 4) == -ENOENT,
	       "active: the active kid, not the pending one");
	tap_ok(!cpns_reg_eukey_confirm(reg, ALICE, gw1, 2, NOW + 5, &err) &&
		       !cpns_reg_eukey_lookup(reg, gw1, NOW + 6, &kid, got, NULL) &&
		       kid == 2 && !memcmp(got, k2, 32),
	       "re-assignment: kid 2 active, kid 1 revoked");
	tap_ok(cpns_reg_eukey_active(reg, gw1, 1, NOW + 6) == -ENOENT &&
		       !cpns_reg_eukey_active(reg, gw1, 2, NOW + 6) &&
		       cpns_reg_eukey_active(reg, gw1, 2, NOW + 2000) == -ENOENT,
	       "active: a replaced kid is not, nor an expired one");
	/* pending expiry */
	tap_ok(!cpns_reg_eukey_begin(reg, ALICE, gw1, 3, NOW + 3000, k1, NOW + 10, &err) &&
		       !cpns_reg_expire_pending(reg, NOW + 69) &&
		       cpns_reg_audit_count(reg, "enrol-expired") == 0 &&
		       !cpns_reg_expire_pending(reg, NOW + 70) &&
		       cpns_reg_audit_count(reg, "enrol-expired") == 1 &&
		       cpns_reg_eukey_confirm(reg, ALICE, gw1, 3, NOW + 71, &err) == -EPERM,
	       "a pending EUKey expires after 60 s and can no longer be confirmed");
	tap_ok(cpns_reg_audit_count(reg, "proca-failure") == 1,
	       "the expired assignment counted as a failure");
	tap_ok(!cpns_reg_eukey_lookup(reg, gw1, NOW + 72, &kid, got, NULL) && kid == 2,
	       "the active key is untouched by the expiry");
	/* the engine's failure for that expired key is not counted twice */
	tap_ok(!cpns_reg_proca_failure(reg, ALICE, gw1, true, 3, NOW + 72) &&
		       cpns_reg_audit_count(reg, "proca-failure") == 1,
	       "failure after expiry not counted twice");

	/* account binding */
	cpns_reg_user_add(reg, BOB, NOW, &err);
	cpns_reg_user_set_verifier(reg, BOB, &v, NOW, &err);
	tap_ok(cpns_reg_proca_admit(reg, BOB, gw1, true, NOW + 80) == 1 &&
		       cpns_reg_proca_admit(reg, ALICE, gw1, true, NOW + 80) == 0 &&
		       cpns_reg_proca_admit(reg, ALICE, gw2, true, NOW + 80) == 0,
	       "admit: a GW bound to another account is refused");
	tap_ok(cpns_reg_proca_admit(reg, (const uint8_t *)"nobody", 6, gw1, false,
				    NOW + 80) == 1 &&
		       cpns_reg_proca_admit(reg, (const uint8_t *)"nobody", 6, gw2,
					    false, NOW + 80) == 0,
	       "admit: unknown user on a bound GW refused, on a free GW admitted");
	tap_ok(!cpns_reg_user_disable(reg, BOB, true, NOW, &err) &&
		       cpns_reg_proca_admit(reg, BOB, gw2, true, NOW + 80) == 1 &&
		       !cpns_reg_user_disable(reg, BOB, false, NOW, &err) &&
		       cpns_reg_proca_admit(reg, BOB, gw2, true, NOW + 80) == 0,
	       "admit: a disabled account is refused");
	tap_ok(cpns_reg_audit_count(reg, "proca-refused") == 3,
	       "audit: one row per refusal");
	{
		/* five attempts of one account awaiting KeyConfirm: a sixth
		 * is refused until they end (each is a password guess)
		 */
		const uint8_t *dave = (const uint8_t *)"dave";
		uint8_t g[CPNS_ID_LEN];
		bool ok = !cpns_reg_user_add(reg, dave, 4, NOW, &err) &&
			  !cpns_reg_user_set_verifier(reg, dave, 4, &v, NOW, &err);

		memcpy(g, gw2, CPNS_ID_LEN);
		for (int i = 0; ok && i < 5; i++) {
			g[15] = (uint8_t)(0xa0 + i);
			ok = cpns_reg_proca_admit(reg, dave, 4, g, true, NOW + 100) == 0 &&
			     !cpns_reg_eukey_begin(reg, dave, 4, g, 1, NOW + 5000,
						   k1, NOW + 100, &err);
		}
		g[15] = 0xaf;
		tap_ok(ok && cpns_reg_proca_admit(reg, dave, 4, g, true, NOW + 101) == 1 &&
			       cpns_reg_proca_admit(reg, dave, 4, g, true,
						    NOW + 100 + CPNS_REG_PENDING_TTL) == 0,
		       "admit: five attempts awaiting KeyConfirm refuse a sixth until they expire");
	}

	/* lockout: 5 failures in 15 min, per UserID string, known or not */
	{
		const uint8_t *m = (const uint8_t *)"mallory@example.net";
		bool before;
		unsigned int i;

		for (i = 0; i < 4; i++)
			cpns_reg_proca_failure(reg, m, 19, gw2, false, 0, NOW + 100 + i * 200);
		before = cpns_reg_locked(reg, m, 19, NOW + 800);
		/* the first failure (t+100) leaves the window at t+1000 */
		cpns_reg_proca_failure(reg, m, 19, gw2, false, 0, NOW + 1000);
		tap_ok(!before && !cpns_reg_locked(reg, m, 19, NOW + 1000),
		       "lockout: 4 failures, or 5 over more than 15 min, do not lock");
		cpns_reg_proca_failure(reg, m, 19, gw2, false, 0, NOW + 1001);
		tap_ok(cpns_reg_locked(reg, m, 19, NOW + 1001) &&
			       cpns_reg_proca_admit(reg, m, 19, gw2, false, NOW + 1001) == 1,
		       "lockout: the 5th failure within 15 min locks the UserID");
		tap_ok(cpns_reg_locked(reg, m, 19, NOW + 1900) &&
			       !cpns_reg_locked(reg, m, 19, NOW + 1901),
		       "lockout: lasts 15 min");
		for (i = 0; i < 5; i++)
			cpns_reg_proca_failure(reg, m, 19, gw2, false, 0, NOW + 2000 + i);
		tap_ok(cpns_reg_locked(reg, m, 19, NOW + 2004 + 1799) &&
			       !cpns_reg_locked(reg, m, 19, NOW + 2004 + 1800),
		       "lockout: the second lasts 30 min");
		tap_ok(!cpns_reg_locked(reg, ALICE, NOW + 2000) &&
			       cpns_reg_audit_count(reg, "proca-lockout") == 2,
		       "lockout: other users unaffected; audited");
		for (i = 0; i < 4; i++)
			cpns_reg_proca_failure(reg, ALICE, gw2, false, 0, NOW + 5000 + i);
		tap_ok(!cpns_reg_eukey_begin(reg, ALICE, gw1, 4, NOW + 9000, k1, NOW + 5010, &err) &&
			       !cpns_reg_eukey_confirm(reg, ALICE, gw1, 4, NOW + 5011, &err),
		       "a success after 4 failures");
		cpns_reg_proca_failure(reg, ALICE, gw2, false, 0, NOW + 5012);
		tap_ok(!cpns_reg_locked(reg, ALICE, NOW + 5012),
		       "lockout: a success resets the count");
	}
	tap_ok(cpns_reg_audit_count(reg, "enrol") == 3 &&
		       cpns_reg_audit_count(reg, "enrol-pending") == 4 + 5 /* dave */,
	       "audit: enrolments and pending assignments recorded");
	{
		struct cpns_reg_audit_row rows[3] = {
			{ .time = NOW + 5100, .event = "auth",
			  .source = "192.0.2.1:7870",
			  .detail = "generation 1 suite 1 kid 4" },
			{ .time = NOW + 5101, .event = "auth-failure",
			  .source = "192.0.2.1:7870", .detail = "UNKNOWN_KEY" },
			{ .time = NOW + 5102, .event = "auth" },
		};
		struct audit_seen seen;
		unsigned int i;

		for (i = 0; i < 3; i++)
			memcpy(rows[i].entity_id, gw1, CPNS_ID_LEN);
		tap_ok(!cpns_reg_audit_rows(reg, rows, 3) &&
			       cpns_reg_audit_count(reg, "auth") == 2 &&
			       cpns_reg_audit_count(reg, "auth-failure") == 1,
		       "audit: procedure B outcomes, several in one call");
		rows[1].event = NULL;	/* NOT NULL: the call fails */
		tap_ok(cpns_reg_audit_rows(reg, rows, 3) == -EIO &&
			       cpns_reg_audit_count(reg, "auth") == 2 &&
			       cpns_reg_audit_count(reg, "auth-failure") == 1,
		       "audit: a failing row writes none of the call's rows");
		memset(&seen, 0, sizeof(seen));
		tap_ok(!cpns_reg_audit_list(reg, "auth", audit_seen, &seen, &err) &&
			       seen.n == 2 && seen.first_time == NOW + 5100 &&
			       seen.with_entity == 2 && seen.with_source == 1,
		       "audit list: the event's rows, oldest first, with entity and source");
	}

	/* revoke */
	tap_ok(!cpns_reg_eukey_active(reg, gw1, 4, NOW + 5999) &&
		       !cpns_reg_entity_revoke(reg, gw1, NOW + 6000, &err) &&
		       cpns_reg_eukey_lookup(reg, gw1, NOW + 6001, &kid, got, NULL) == -ENOENT &&
		       cpns_reg_eukey_active(reg, gw1, 4, NOW + 6001) == -ENOENT,
	       "revoke: no active EUKey left");
	tap_ok(cpns_reg_entity_revoke(reg, gw2, NOW, &err) == -ENOENT,
	       "revoke of an unknown entity: -ENOENT");
	cpns_reg_close(reg);

	/* reopen, wrong KEK */
	reg = open_reg(NOW + 7000, kek, &r);
	tap_ok(!r && cpns_reg_schema_version(reg) == CPNS_REG_SCHEMA_VERSION &&
		       !cpns_reg_user_lookup(reg, ALICE, &v2) &&
		       !memcmp(&v, &v2, sizeof(v)),
	       "reopen: schema kept, data kept");
	cpns_reg_close(reg);
	memset(key, 0x5a, 32);
	reg = open_reg(NOW, kek2, &r);
	tap_ok(r == -EKEYREJECTED && !reg, "open with another KEK: -EKEYREJECTED");

	/* user removal takes the user's GWs and keys */
	reg = open_reg(NOW + 7000, kek, &r);
	cpns_reg_eukey_begin(reg, ALICE, gw2, 1, NOW + 9000, k1, NOW + 7000, &err);
	cpns_reg_eukey_confirm(reg, ALICE, gw2, 1, NOW + 7001, &err);
	tap_ok(!cpns_reg_eukey_lookup(reg, gw2, NOW + 7002, &kid, got, NULL),
	       "alice's second GW active");
	tap_ok(!cpns_reg_user_remove(reg, ALICE, NOW + 7003, &err) &&
		       cpns_reg_eukey_lookup(reg, gw2, NOW + 7004, &kid, got, NULL) == -ENOENT &&
		       cpns_reg_user_lookup(reg, ALICE, &v2) == -ENOENT,
	       "user remove: user, its GWs and keys gone");
	tap_ok(cpns_reg_user_remove(reg, ALICE, NOW + 7005, &err) == -ENOENT,
	       "user remove twice: -ENOENT");
	cpns_reg_close(reg);
	free(salt);
	json_object_put(root);
}

/* kill -9 between "pending" and "confirm": never active, expires. */
/* PRAGMA data_version of a connection of the test's own, or -1. */
static int64_t data_version(sqlite3 *x)
{
	sqlite3_stmt *st;
	int64_t v = -1;

	if (sqlite3_prepare_v2(x, "PRAGMA data_version", -1, &st, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * The frames in the WAL, as another connection sees them; with @reset,
 * after a checkpoint that empties it (-1 if it could not).
 */
static int wal_frames(sqlite3 *x, bool reset)
{
	sqlite3_stmt *st;
	int n = -1;

	if (sqlite3_prepare_v2(x, reset ? "PRAGMA wal_checkpoint(TRUNCATE)" :
					  "PRAGMA wal_checkpoint(PASSIVE)",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW && !sqlite3_column_int(st, 0))
		n = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	return n;
}

/*
 * The rows cpns_reg_eukey_lookup() keeps, with two connections: the
 * daemon's and another process's (cpnsd entity revoke).
 */
static void test_key_rows(void)
{
	struct cpns_reg *d, *o;
	struct cpns_err err = { 0 };
	struct cpns_reg_audit_row row = { .time = NOW + 9001, .event = "auth" };
	uint8_t k[32], got[32];
	uint32_t kid, kid2;
	int r, r2;

	memset(k, 0x5a, sizeof(k));
	snprintf(db, sizeof(db), "%s/rows.db", dir);
	d = open_reg(NOW + 9000, kek, &r);
	o = open_reg(NOW + 9000, kek, &r2);
	if (r || r2 || cpns_reg_user_add(o, ALICE, NOW + 9000, &err)) {
		tap_ok(0, "key rows: two connections and a user");
		goto out;
	}
	memcpy(row.entity_id, gw2, CPNS_ID_LEN);
	tap_ok(!cpns_reg_next_kid(o, gw2, &kid) &&
		       !cpns_reg_eukey_begin(o, ALICE, gw2, kid, NOW + 20000, k, NOW + 9000, &err) &&
		       !cpns_reg_eukey_confirm(o, ALICE, gw2, kid, NOW + 9000, &err) &&
		       !cpns_reg_sync(d) &&
		       !cpns_reg_eukey_lookup(d, gw2, NOW + 9001, &kid2, got, NULL) &&
		       kid2 == kid && !memcmp(got, k, 32),
	       "key rows: a key another connection confirmed is found");
	/* an audit write of this connection keeps the row: a revocation by
	 * the other is seen at the next sync, not before
	 */
	tap_ok(!cpns_reg_audit_rows(d, &row, 1) &&
		       !cpns_reg_entity_revoke(o, gw2, NOW + 9002, &err) &&
		       !cpns_reg_eukey_lookup(d, gw2, NOW + 9003, &kid2, got, NULL) &&
		       kid2 == kid,
	       "key rows: kept across this connection's audit rows until the next sync");
	tap_ok(cpns_reg_eukey_active(d, gw2, kid, NOW + 9003) == -ENOENT &&
		       cpns_reg_eukey_lookup(d, gw2, NOW + 9003, &kid2, got, NULL) == -ENOENT,
	       "key rows: active sees the other connection's revocation, and the row is gone");
	tap_ok(!cpns_reg_next_kid(o, gw2, &kid) &&
		       !cpns_reg_eukey_begin(o, ALICE, gw2, kid, NOW + 20000, k, NOW + 9004, &err) &&
		       !cpns_reg_eukey_confirm(o, ALICE, gw2, kid, NOW + 9004, &err) &&
		       !cpns_reg_sync(d) &&
		       !cpns_reg_eukey_lookup(d, gw2, NOW + 9005, &kid2, got, NULL) &&
		       kid2 == kid && !cpns_reg_eukey_active(d, gw2, kid, NOW + 9005),
	       "key rows: after the sync, the new key");
	tap_ok(!cpns_reg_entity_revoke(d, gw2, NOW + 9006, &err) &&
		       cpns_reg_eukey_lookup(d, gw2, NOW + 9006, &kid2, got, NULL) == -ENOENT &&
		       cpns_reg_eukey_active(d, gw2, kid, NOW + 9006) == -ENOENT,
	       "key rows: this connection's own revocation is seen at once");
	tap_ok(!cpns_reg_next_kid(o, gw2, &kid) &&
		       !cpns_reg_eukey_begin(o, ALICE, gw2, kid, NOW + 9010, k, NOW + 9007, &err) &&
		       !cpns_reg_eukey_confirm(o, ALICE, gw2, kid, NOW + 9007, &err) &&
		       !cpns_reg_sync(d) &&
		       !cpns_reg_eukey_lookup(d, gw2, NOW + 9008, &kid2, got, NULL) &&
		       cpns_reg_eukey_lookup(d, gw2, NOW + 9010, &kid2, got, NULL) == -ENOENT &&
		       cpns_reg_eukey_active(d, gw2, kid, NOW + 9010) == -ENOENT,
	       "key rows: a kept row expires with its key");
	/* procedure A's decoy write for an unknown UserID commits a write
	 * (another connection sees the database change) and changes no user,
	 * key or audit row
	 */
	{
		int n_audit = cpns_reg_audit_count(d, NULL), n_users = 0;
		int64_t v0, v1;
		sqlite3 *x;

		if (sqlite3_open(db, &x) != SQLITE_OK) {
			tap_ok(0, "decoy: a connection of the test's own");
			goto out;
		}
		v0 = data_version(x);
		r = cpns_reg_decoy(d);
		v1 = data_version(x);
		sqlite3_close(x);
		cpns_reg_user_list(d, (int (*)(void *, const struct cpns_reg_user *))count_cb,
				   &n_users, &err);
		tap_ok(!r && v0 >= 0 && v1 >= 0 && v1 != v0 &&
			       cpns_reg_audit_count(d, NULL) == n_audit &&
			       n_users == 1 &&
			       !cpns_reg_eukey_lookup(d, gw2, NOW + 9008, &kid2, got, NULL) &&
			       kid2 == kid,
		       "decoy: a committed write that changes no user, key or audit row");
	}
	/* and it writes as many pages as the pending key of a known user's
	 * first enrolment, the case a prober choosing the GW ID meets
	 */
	{
		static const uint8_t gw9[16] = { 0x99, [15] = 0x99 };
		int f_enrol = -1, f_decoy = -1;
		sqlite3 *x;

		if (sqlite3_open(db, &x) != SQLITE_OK) {
			tap_ok(0, "decoy: a connection of the test's own");
			goto out;
		}
		if (!wal_frames(x, true) && !cpns_reg_next_kid(d, gw9, &kid2) &&
		    !cpns_reg_eukey_begin(d, ALICE, gw9, kid2, NOW + 20000, k,
					  NOW + 9009, &err))
			f_enrol = wal_frames(x, false);
		if (!wal_frames(x, true) && !cpns_reg_decoy(d))
			f_decoy = wal_frames(x, false);
		sqlite3_close(x);
		tap_ok(f_enrol > 0 && f_decoy == f_enrol,
		       "decoy: as many pages written as a known user's first enrolment (%d, %d)",
		       f_decoy, f_enrol);
	}
out:
	cpns_reg_close(o);
	cpns_reg_close(d);
	snprintf(db, sizeof(db), "%s/registry.db", dir);
}

/*
 * A batch (a pass of the server's loop): its checks see every commit made
 * before it began, no other connection commits during it, and its audit
 * rows are written at its end, or none of them.
 */
static void test_batch(void)
{
	struct cpns_reg *d, *o;
	struct cpns_err err = { 0 };
	struct cpns_reg_audit_row rows[2] = {
		{ .time = NOW + 9101, .event = "auth" },
		{ .time = NOW + 9101, .event = NULL },	/* NOT NULL: fails */
	};
	uint8_t k[32], got[32];
	uint32_t kid, kid2;
	int r, r2, n0, in_batch, busy, after;
	sqlite3 *x = NULL;

	memset(k, 0x5b, sizeof(k));
	snprintf(db, sizeof(db), "%s/batch.db", dir);
	d = open_reg(NOW + 9100, kek, &r);
	o = open_reg(NOW + 9100, kek, &r2);
	if (r || r2 || cpns_reg_user_add(o, ALICE, NOW + 9100, &err) ||
	    cpns_reg_next_kid(o, gw2, &kid) ||
	    cpns_reg_eukey_begin(o, ALICE, gw2, kid, NOW + 20000, k,
				 NOW + 9100, &err) ||
	    cpns_reg_eukey_confirm(o, ALICE, gw2, kid, NOW + 9100, &err) ||
	    cpns_reg_sync(d) ||
	    cpns_reg_eukey_lookup(d, gw2, NOW + 9101, &kid2, got, NULL) ||
	    kid2 != kid || sqlite3_open(db, &x) != SQLITE_OK) {
		tap_ok(0, "batch: two connections, a user and a key");
		goto out;
	}
	memcpy(rows[0].entity_id, gw2, CPNS_ID_LEN);
	memcpy(rows[1].entity_id, gw2, CPNS_ID_LEN);
	n0 = cpns_reg_audit_count(d, NULL);

	r = cpns_reg_batch_begin(d);
	r2 = cpns_reg_batch_begin(d);
	busy = sqlite3_exec(x, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	r = r ?: cpns_reg_eukey_active(d, gw2, kid, NOW + 9101) ?:
		 cpns_reg_audit_rows(d, rows, 1) ?:
		 cpns_reg_audit_rows(d, rows, 1);
	in_batch = cpns_reg_audit_count(o, NULL);
	r = r ?: cpns_reg_batch_end(d);
	after = sqlite3_exec(x, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	sqlite3_exec(x, "ROLLBACK", NULL, NULL, NULL);
	tap_ok(!r && r2 == -EIO && busy == SQLITE_BUSY && after == SQLITE_OK &&
		       in_batch == n0 &&
		       cpns_reg_audit_count(d, NULL) == n0 + 2 &&
		       cpns_reg_batch_end(d) == -EINVAL,
	       "batch: one transaction, not nested, other writers wait, rows committed at its end");

	/* the revocation is committed before the batch; the batch's own
	 * sync is the only one that can see it
	 */
	r = cpns_reg_entity_revoke(o, gw2, NOW + 9102, &err) ?:
	    cpns_reg_batch_begin(d);
	r2 = r ?: cpns_reg_eukey_active(d, gw2, kid, NOW + 9102);
	r = r ?: cpns_reg_batch_end(d);
	tap_ok(!r && r2 == -ENOENT,
	       "batch: sees the revocation another connection committed before it");

	n0 = cpns_reg_audit_count(d, NULL);
	r = cpns_reg_batch_begin(d);
	r2 = r ?: cpns_reg_audit_rows(d, rows, 1) ?:
		  cpns_reg_audit_rows(d, rows + 1, 1);
	r = r ?: cpns_reg_batch_end(d);
	tap_ok(r == -EIO && r2 == -EIO && cpns_reg_audit_count(d, NULL) == n0 &&
		       !cpns_reg_audit_rows(d, rows, 1) &&
		       cpns_reg_audit_count(d, NULL) == n0 + 1,
	       "batch: a failed row rolls the batch back, and the next write works");
out:
	sqlite3_close(x);
	cpns_reg_close(o);
	cpns_reg_close(d);
	snprintf(db, sizeof(db), "%s/registry.db", dir);
}

struct audit_ids {
	unsigned int n;
	int64_t id[8];
	uint64_t time[8];
};

static int audit_ids(void *ctx, const struct cpns_reg_audit_entry *e)
{
	struct audit_ids *a = ctx;

	if (a->n < 8) {
		a->id[a->n] = e->id;
		a->time[a->n] = e->time;
	}
	a->n++;
	return 0;
}

/*
 * Schema 1 -> 2: a registry of schema 1 (its audit table made again as
 * schema 1 had it, AUTOINCREMENT, with rows 1, 2 and 7) opens at schema 2
 * with the same rows and ids, an audit table without AUTOINCREMENT, and a
 * new row after the newest.
 */
static void test_migrate(void)
{
	struct audit_ids a = { 0 };
	struct cpns_reg *reg;
	struct cpns_err err = { 0 };
	sqlite3_stmt *st = NULL;
	sqlite3 *x = NULL;
	int r, v = -1, autoinc = -1;

	snprintf(db, sizeof(db), "%s/v1.db", dir);
	reg = open_reg(NOW, kek, &r);
	cpns_reg_close(reg);
	if (r || sqlite3_open(db, &x) != SQLITE_OK ||
	    sqlite3_exec(x,
			 "BEGIN;"
			 "DROP TABLE audit;"
			 "CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT,"
			 " time INTEGER NOT NULL, event TEXT NOT NULL, user_id BLOB,"
			 " entity_id BLOB, source TEXT, detail TEXT);"
			 "INSERT INTO audit (id, time, event, detail) VALUES"
			 " (1, 1700000001, 'auth', 'one'), (2, 1700000002, 'auth', 'two'),"
			 " (7, 1700000007, 'auth-failure', 'seven');"
			 "UPDATE schema_version SET version = 1;"
			 "COMMIT;", NULL, NULL, NULL) != SQLITE_OK) {
		tap_ok(0, "migration 1 -> 2: a registry of schema 1");
		goto out;
	}
	sqlite3_close(x);
	x = NULL;

	reg = open_reg(NOW, kek, &r);
	if (reg) {
		v = cpns_reg_schema_version(reg);
		cpns_reg_audit_list(reg, NULL, audit_ids, &a, &err);
	}
	tap_ok(!r && v == 2 && a.n == 3 && a.id[0] == 1 && a.id[1] == 2 &&
		       a.id[2] == 7 && a.time[2] == 1700000007,
	       "migration 1 -> 2: schema %d, the audit rows and their ids kept",
	       v);
	r = reg ? cpns_reg_audit(reg, NOW, "auth", NULL, 0, gw1, "new") : -1;
	memset(&a, 0, sizeof(a));
	if (reg)
		cpns_reg_audit_list(reg, NULL, audit_ids, &a, &err);
	cpns_reg_close(reg);
	if (sqlite3_open(db, &x) == SQLITE_OK &&
	    sqlite3_prepare_v2(x, "SELECT instr(upper(sql), 'AUTOINCREMENT')"
				  " FROM sqlite_master WHERE name = 'audit'",
			       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		autoinc = sqlite3_column_int(st, 0);
	tap_ok(!r && a.n == 4 && a.id[3] == 8 && autoinc == 0,
	       "migration 1 -> 2: no AUTOINCREMENT; a new row takes the id after the newest");
out:
	sqlite3_finalize(st);
	sqlite3_close(x);
	snprintf(db, sizeof(db), "%s/registry.db", dir);
}

static void test_crash(void)
{
	uint8_t k[32], got[32];
	struct cpns_reg *reg;
	struct cpns_err err;
	uint32_t kid;
	int r, status;
	pid_t pid;

	memset(k, 0x77, 32);
	pid = fork();
	if (pid == 0) {
		reg = open_reg(NOW, kek, &r);
		if (!reg)
			_exit(1);
		cpns_reg_user_add(reg, (const uint8_t *)"carol", 5, NOW, NULL);
		if (cpns_reg_eukey_begin(reg, (const uint8_t *)"carol", 5, gw2, 1,
					 NOW + 1000, k, NOW, NULL))
			_exit(1);
		kill(getpid(), SIGKILL);
		_exit(1);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
	       "crash: enrolment process killed with SIGKILL while pending");
	reg = open_reg(NOW + 10, kek, &r);
	tap_ok(reg && cpns_reg_eukey_lookup(reg, gw2, NOW + 10, &kid, got, NULL) == -ENOENT,
	       "crash: after reopen the unconfirmed EUKey is not active");
	cpns_reg_close(reg);
	reg = open_reg(NOW + 61, kek, &r);
	tap_ok(reg && cpns_reg_eukey_confirm(reg, (const uint8_t *)"carol", 5, gw2, 1,
					     NOW + 61, &err) == -EPERM &&
		       cpns_reg_audit_count(reg, "enrol-expired") >= 1,
	       "crash: the pending row expired at open 60 s later");
	cpns_reg_close(reg);
}

/* The S engine on the registry: the good run of procedure_a.json. */
static void test_engine(void)
{
	struct json_object *root = vec_load("procedure_a.json");
	struct json_object *c0 = json_object_array_get_idx(vec_get(root, "cases"), 0);
	struct json_object *in = vec_get(c0, "inputs"), *msgs = vec_get(c0, "messages");
	struct json_object *reg_v = vec_get(c0, "registration"), *wrap = vec_get(c0, "wrap");
	struct json_object *sd = vec_get(in, "server_random_draws");
	struct cpns_proca_srv *srv = calloc(1, sizeof(*srv));
	struct cpns_proca_srv_cfg cfg = { 0 };
	struct cpns_proca_verifier v = { 0 };
	struct cpns_rng rng;
	struct cpns_rng_replay rp;
	uint8_t *dr[2], *b, got[32];
	size_t dl[2], n, out_len;
	const uint8_t *out;
	struct cpns_reg *reg;
	struct cpns_err err;
	uint32_t kid;
	int r;
	uint8_t *kr1, *kr2, *kcf, *kd, *eukey;
	size_t kr1_len, kr2_len, kcf_len, kd_len;

	unlink(db);
	reg = open_reg(NOW, kek, &r);
	cpns_reg_user_add(reg, ALICE, NOW, &err);
	b = vec_hex(in, "salt", &n);
	memcpy(v.salt, b, 16);
	free(b);
	b = vec_hex(reg_v, "w0", &n);
	memcpy(v.w0, b, 32);
	free(b);
	b = vec_hex(reg_v, "L", &n);
	memcpy(v.l, b, 65);
	free(b);
	v.log2n = 15, v.r = 8, v.p = 1;
	cpns_reg_user_set_verifier(reg, ALICE, &v, NOW, &err);
	b = vec_hex(in, "server_id", &n);
	memcpy(cfg.server_id, b, 16);
	free(b);
	cfg.log2n = 15;
	cfg.eukey_lifetime = (uint64_t)vec_int(in, "eukey_lifetime_s");
	cfg.ops = &cpns_reg_proca_ops;
	cfg.ctx = reg;
	dr[0] = hex_decode(json_object_get_string(json_object_array_get_idx(sd, 0)), &dl[0]);
	dr[1] = hex_decode(json_object_get_string(json_object_array_get_idx(sd, 1)), &dl[1]);
	cpns_rng_replay_init(&rng, &rp, (const uint8_t *const *)dr, dl, 2);
	kr1 = vec_hex(msgs, "KeyRequest1", &kr1_len);
	kr2 = vec_hex(msgs, "KeyRequest2", &kr2_len);
	kcf = vec_hex(msgs, "KeyConfirm", &kcf_len);
	kd = vec_hex(msgs, "KeyDelivery", &kd_len);
	eukey = vec_hex(wrap, "EUKey", &n);

	cpns_proca_srv_init(srv, &cfg);
	cpns_reg_set_source(reg, "192.0.2.21:7870");
	r = cpns_proca_srv_input(srv, gw1, kr1, kr1_len, NOW, &rng, &out, &out_len);
	r = cpns_proca_srv_input(srv, gw1, kr2, kr2_len, NOW, &rng, &out, &out_len);
	tap_ok(r == CPNS_PROCA_SEND && hex_eq(out, out_len, kd, kd_len),
	       "engine on the registry: KeyDelivery of the vector (kid 1)");
	tap_ok(cpns_reg_eukey_lookup(reg, gw1, NOW, &kid, got, NULL) == -ENOENT,
	       "engine on the registry: EUKey pending, not usable");
	r = cpns_proca_srv_input(srv, gw1, kcf, kcf_len, NOW + 1, &rng, &out, &out_len);
	tap_ok(r == CPNS_PROCA_DONE &&
		       !cpns_reg_eukey_lookup(reg, gw1, NOW + 1, &kid, got, NULL) &&
		       kid == 1 && !memcmp(got, eukey, 32),
	       "engine on the registry: KeyConfirm -> the vector's EUKey active");
	tap_ok(cpns_reg_proca_admit(reg, BOB, gw1, true, NOW + 2) == 1,
	       "engine on the registry: GW bound to alice");
	cpns_reg_close(reg);
	free(kr1);
	free(kr2);
	free(kcf);
	free(kd);
	free(eukey);
	free(dr[0]);
	free(dr[1]);
	free(srv);
	json_object_put(root);
}

int main(void)
{
	uint8_t k[32];

	tap_start();
	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	snprintf(db, sizeof(db), "%s/registry.db", dir);
	snprintf(kek, sizeof(kek), "%s/kek", dir);
	snprintf(kek2, sizeof(kek2), "%s/kek2", dir);
	memset(k, 0x42, sizeof(k));
	if (cpns_key_write(kek, k, NULL))
		tap_bail("cannot write the KEK");
	memset(k, 0x43, sizeof(k));
	if (cpns_key_write(kek2, k, NULL))
		tap_bail("cannot write the second KEK");

	test_basic();
	test_key_rows();
	test_batch();
	test_migrate();
	test_crash();
	test_engine();

	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd))
			tap_diag("could not remove %s", dir);
	}
	return tap_done();
}

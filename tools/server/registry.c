// SPDX-License-Identifier: GPL-2.0
/*
 * CPNS Server registry on SQLite; see registry.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cpns_crypto.h"
#include "cpns_id.h"
#include "cpns_keyfile.h"
#include "cpns_spake2p.h"
#include "registry.h"

#define KEK_CHECK_LABEL	"cpns registry kek check v1"
#define WRAP_LEN	(CPNS_IV_LEN + CPNS_KEY_LEN + CPNS_TAG_LEN)
#define KEY_SLOTS	256	/* a power of 2 */

/* An active EUKey as cpns_reg_eukey_lookup() read it, unwrapped. */
struct reg_key_slot {
	uint8_t id[CPNS_ID_LEN];
	uint8_t key[CPNS_KEY_LEN];
	uint32_t kid;
	bool used;
	uint64_t expiry;
};

struct cpns_reg {
	sqlite3 *db;
	/*
	 * The statements procedure B runs (prep_kept()), each reset after
	 * use, so that none holds a read transaction open (a revocation by
	 * "cpnsd entity revoke" is seen at the next one).
	 */
	sqlite3_stmt *lookup_st;	/* cpns_reg_eukey_lookup() */
	sqlite3_stmt *active_st;	/* cpns_reg_eukey_active() */
	sqlite3_stmt *version_st;	/* cpns_reg_sync() */
	sqlite3_stmt *audit_st;		/* cpns_reg_audit_rows() */
	sqlite3_stmt *begin_st;		/* begin(): BEGIN IMMEDIATE */
	sqlite3_stmt *commit_st;	/* finish() */
	sqlite3_stmt *rollback_st;	/* finish() */
	/*
	 * The keys cpns_reg_eukey_lookup() read, unwrapped (the KEK that
	 * unwraps them all is held beside them; wiped when dropped), valid
	 * while no connection has committed since: @seen_version is
	 * the PRAGMA data_version of the last cpns_reg_sync() or
	 * cpns_reg_eukey_active() (it moves when another connection
	 * commits), @seen_changes this connection's sqlite3_total_changes64()
	 * then (it moves when this one writes; cpns_reg_audit_rows() moves
	 * it along, audit rows changing no key). Either moving empties
	 * @keys. Without a cpns_reg_sync() nothing is kept.
	 */
	struct reg_key_slot keys[KEY_SLOTS];
	int64_t seen_version;
	int64_t seen_changes;
	bool synced;
	/*
	 * Inside cpns_reg_batch_begin() .. cpns_reg_batch_end(): one write
	 * transaction, synced at its start; @batch_err is the first error of
	 * a write in it, which rolls it back.
	 */
	bool batch;
	int batch_err;
	uint8_t kek[CPNS_KEY_LEN];
	char source[64];
};

/* Forward migrations; migration[i] takes the schema from i to i + 1. */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);"
	"CREATE TABLE users ("
	" user_id BLOB PRIMARY KEY"
	"  CHECK (typeof(user_id) = 'blob' AND length(user_id) BETWEEN 1 AND 64),"
	" salt BLOB CHECK (salt IS NULL OR length(salt) = 16),"
	" log2n INTEGER CHECK (log2n IS NULL OR log2n IN (15, 16)),"
	" r INTEGER CHECK (r IS NULL OR r = 8),"
	" p INTEGER CHECK (p IS NULL OR p = 1),"
	" w0 BLOB CHECK (w0 IS NULL OR length(w0) = 32),"
	" l BLOB CHECK (l IS NULL OR length(l) = 65),"
	" disabled INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL, updated INTEGER NOT NULL);"
	"CREATE TABLE entities ("
	" entity_id BLOB PRIMARY KEY CHECK (length(entity_id) = 16),"
	" owner BLOB REFERENCES users(user_id) ON DELETE CASCADE,"
	" kind INTEGER NOT NULL CHECK (kind IN (1, 2)),"
	" last_kid INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE eukeys ("
	" entity_id BLOB NOT NULL REFERENCES entities(entity_id)"
	"  ON DELETE CASCADE,"
	" kid INTEGER NOT NULL CHECK (kid BETWEEN 1 AND 4294967295),"
	" user_id BLOB NOT NULL,"
	" state INTEGER NOT NULL CHECK (state IN (0, 1, 2)),"
	" wrapped BLOB NOT NULL CHECK (length(wrapped) = 60),"
	" expiry INTEGER NOT NULL,"
	" created INTEGER NOT NULL, pending_until INTEGER,"
	" activated INTEGER, revoked INTEGER,"
	" PRIMARY KEY (entity_id, kid));"
	"CREATE UNIQUE INDEX eukeys_one_active ON eukeys(entity_id)"
	" WHERE state = 1;"
	"CREATE TABLE proca_failures (user_id BLOB NOT NULL,"
	" time INTEGER NOT NULL);"
	"CREATE INDEX proca_failures_user ON proca_failures(user_id, time);"
	"CREATE TABLE proca_lockout (user_id BLOB PRIMARY KEY,"
	" lockouts INTEGER NOT NULL, locked_until INTEGER NOT NULL);"
	"CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time INTEGER NOT NULL, event TEXT NOT NULL, user_id BLOB,"
	" entity_id BLOB, source TEXT, detail TEXT);",
	/*
	 * 1 -> 2: audit without AUTOINCREMENT, which looked up and rewrote
	 * its row of sqlite_sequence at every INSERT: half the cost of a
	 * row. The registry deletes no audit row, so a new row still takes
	 * the next id after the newest; the rows keep theirs.
	 */
	"CREATE TABLE audit_v2 (id INTEGER PRIMARY KEY,"
	" time INTEGER NOT NULL, event TEXT NOT NULL, user_id BLOB,"
	" entity_id BLOB, source TEXT, detail TEXT);"
	"INSERT INTO audit_v2 (id, time, event, user_id, entity_id, source,"
	" detail) SELECT id, time, event, user_id, entity_id, source, detail"
	" FROM audit;"
	"DROP TABLE audit;"
	"ALTER TABLE audit_v2 RENAME TO audit;",
};

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

static int db_err(struct cpns_reg *reg, struct cpns_err *err, int code,
		  const char *what)
{
	return cpns_err_set(err, code, "registry: %s: %s", what,
			    reg && reg->db ? sqlite3_errmsg(reg->db) : "");
}

static int exec(struct cpns_reg *reg, const char *sql)
{
	return sqlite3_exec(reg->db, sql, NULL, NULL, NULL) == SQLITE_OK ?
		       0 : -EIO;
}

/*
 * A statement run on every procedure B message, prepared at its first use
 * and kept in *@st (parsing it again each time cost more than running it).
 * NULL if it cannot be prepared.
 */
static sqlite3_stmt *prep_kept(struct cpns_reg *reg, sqlite3_stmt **st,
			       const char *sql)
{
	if (!*st && sqlite3_prepare_v3(reg->db, sql, -1,
				       SQLITE_PREPARE_PERSISTENT, st,
				       NULL) != SQLITE_OK)
		return NULL;
	return *st;
}

/* ---- the key rows kept between lookups --------------------------------- */

static void keys_clear(struct cpns_reg *reg)
{
	cpns_wipe(reg->keys, sizeof(reg->keys));
}

static struct reg_key_slot *key_slot(struct cpns_reg *reg,
				     const uint8_t id[CPNS_ID_LEN])
{
	uint32_t h = 2166136261u;	/* FNV-1a */
	unsigned int i;

	for (i = 0; i < CPNS_ID_LEN; i++)
		h = (h ^ id[i]) * 16777619u;
	return &reg->keys[h & (KEY_SLOTS - 1)];
}

/* Empties the rows if this connection wrote since they were read. */
static void keys_check_own(struct cpns_reg *reg)
{
	if (reg->synced && sqlite3_total_changes64(reg->db) != reg->seen_changes) {
		keys_clear(reg);
		reg->seen_changes = sqlite3_total_changes64(reg->db);
	}
}

/* PRAGMA data_version is a read transaction of its own. */
int cpns_reg_sync(struct cpns_reg *reg)
{
	sqlite3_stmt *st = prep_kept(reg, &reg->version_st,
				     "PRAGMA data_version");
	int rc = st ? sqlite3_step(st) : SQLITE_ERROR;
	int64_t v = 0;

	keys_check_own(reg);
	if (rc == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	if (rc != SQLITE_ROW || !reg->synced || v != reg->seen_version) {
		keys_clear(reg);
		reg->seen_changes = sqlite3_total_changes64(reg->db);
	}
	reg->synced = rc == SQLITE_ROW;
	reg->seen_version = v;
	return reg->synced ? 0 : -EIO;
}

/*
 * A kept statement without rows run once: 0 or -EIO. The transaction
 * statements are kept too: the server opens one per pass of its loop, and
 * parsing them each time took a third of an empty one's time.
 */
static int run_kept(struct cpns_reg *reg, sqlite3_stmt **st, const char *sql)
{
	sqlite3_stmt *s = prep_kept(reg, st, sql);
	int rc = s ? sqlite3_step(s) : SQLITE_ERROR;

	if (s)
		sqlite3_reset(s);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int begin(struct cpns_reg *reg)
{
	return run_kept(reg, &reg->begin_st, "BEGIN IMMEDIATE");
}

static int finish(struct cpns_reg *reg, int ret)
{
	if (ret)
		run_kept(reg, &reg->rollback_st, "ROLLBACK");
	else if (run_kept(reg, &reg->commit_st, "COMMIT")) {
		run_kept(reg, &reg->rollback_st, "ROLLBACK");
		ret = -EIO;
	}
	return ret;
}

int cpns_reg_batch_begin(struct cpns_reg *reg)
{
	if (reg->batch || begin(reg))
		return -EIO;
	/* the version read in the transaction: no commit of another
	 * connection falls between it and the checks made in the batch
	 */
	if (cpns_reg_sync(reg)) {
		finish(reg, -EIO);
		return -EIO;
	}
	reg->batch = true;
	reg->batch_err = 0;
	return 0;
}

int cpns_reg_batch_end(struct cpns_reg *reg)
{
	int r;

	if (!reg->batch)
		return -EINVAL;
	reg->batch = false;
	r = finish(reg, reg->batch_err);
	/* a rolled-back batch may have moved nothing: read the keys again */
	if (r)
		keys_clear(reg);
	return r;
}

/*
 * Prepare and bind: fmt letters b (blob: ptr, len), i (int64), t (text).
 */
static sqlite3_stmt *prep(struct cpns_reg *reg, const char *sql,
			  const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	int i = 1, rc = SQLITE_OK;

	if (sqlite3_prepare_v2(reg->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	va_start(ap, fmt);
	for (; *fmt && rc == SQLITE_OK; fmt++, i++) {
		if (*fmt == 'b') {
			const void *p = va_arg(ap, const void *);
			int n = (int)va_arg(ap, size_t);

			rc = p ? sqlite3_bind_blob(st, i, p, n, SQLITE_TRANSIENT) :
				 sqlite3_bind_null(st, i);
		} else if (*fmt == 'i') {
			rc = sqlite3_bind_int64(st, i,
						(sqlite3_int64)va_arg(ap, int64_t));
		} else {
			const char *s = va_arg(ap, const char *);

			rc = s ? sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT) :
				 sqlite3_bind_null(st, i);
		}
	}
	va_end(ap);
	if (rc != SQLITE_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Run a statement without rows; returns the number of changed rows or -EIO. */
static int run(struct cpns_reg *reg, sqlite3_stmt *st)
{
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return rc == SQLITE_CONSTRAINT ? -EEXIST : -EIO;
	return sqlite3_changes(reg->db);
}

/* A single-integer query; -ENOENT without a row. */
static int query_int(sqlite3_stmt *st, int64_t *v)
{
	int rc;

	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

static bool uid_ok(const uint8_t *uid, size_t uid_len)
{
	return uid && uid_len >= 1 && uid_len <= CPNS_USER_ID_MAX;
}

static int audit(struct cpns_reg *reg, uint64_t now, const char *event,
		 const uint8_t *uid, size_t uid_len, const uint8_t *entity,
		 const char *detail)
{
	int r = run(reg, prep(reg,
			      "INSERT INTO audit (time, event, user_id, entity_id,"
			      " source, detail) VALUES (?, ?, ?, ?, ?, ?)",
			      "itbbtt", (int64_t)now, event, uid, uid_len,
			      entity, (size_t)(entity ? CPNS_ID_LEN : 0),
			      reg->source[0] ? reg->source : NULL, detail));

	return r < 0 ? r : 0;
}

int cpns_reg_audit(struct cpns_reg *reg, uint64_t now, const char *event,
		   const uint8_t *uid, size_t uid_len,
		   const uint8_t *entity_id, const char *detail)
{
	if (!event || (uid && !uid_ok(uid, uid_len)))
		return -EINVAL;
	return audit(reg, now, event, uid, uid ? uid_len : 0, entity_id,
		     detail);
}

int cpns_reg_audit_rows(struct cpns_reg *reg,
			const struct cpns_reg_audit_row *rows, size_t n)
{
	const struct cpns_reg_audit_row *w;
	int64_t before = sqlite3_total_changes64(reg->db);
	sqlite3_stmt *st;
	size_t i;
	int r;

	/* one statement for the rows of every call: prepared once */
	r = reg->batch ? reg->batch_err : begin(reg);
	st = r ? NULL :
		 prep_kept(reg, &reg->audit_st,
			   "INSERT INTO audit (time, event, entity_id,"
			   " source, detail) VALUES (?, ?, ?, ?, ?)");
	if (!st)
		r = -EIO;
	for (i = 0; !r && i < n; i++) {
		w = &rows[i];
		if (sqlite3_bind_int64(st, 1, (sqlite3_int64)w->time) ||
		    (w->event ? sqlite3_bind_text(st, 2, w->event, -1,
						  SQLITE_STATIC) :
				sqlite3_bind_null(st, 2)) ||
		    sqlite3_bind_blob(st, 3, w->entity_id, CPNS_ID_LEN,
				      SQLITE_STATIC) ||
		    (w->source[0] ? sqlite3_bind_text(st, 4, w->source, -1,
						      SQLITE_STATIC) :
				    sqlite3_bind_null(st, 4)) ||
		    (w->detail[0] ? sqlite3_bind_text(st, 5, w->detail, -1,
						      SQLITE_STATIC) :
				    sqlite3_bind_null(st, 5)) ||
		    sqlite3_step(st) != SQLITE_DONE)
			r = -EIO;
		sqlite3_reset(st);
	}
	if (st)
		sqlite3_clear_bindings(st);
	if (reg->batch)
		reg->batch_err = r;
	else
		r = finish(reg, r);
	/* audit rows change no key: the rows kept stay valid */
	if (reg->synced && reg->seen_changes == before)
		reg->seen_changes = sqlite3_total_changes64(reg->db);
	return r;
}

int cpns_reg_audit_list(struct cpns_reg *reg, const char *event,
			int (*cb)(void *ctx,
				  const struct cpns_reg_audit_entry *e),
			void *ctx, struct cpns_err *err)
{
	sqlite3_stmt *st = prep(reg,
		event ? "SELECT id, time, event, user_id, entity_id, source,"
			" detail FROM audit WHERE event = ? ORDER BY id" :
			"SELECT id, time, event, user_id, entity_id, source,"
			" detail FROM audit ORDER BY id",
		event ? "t" : "", event);
	struct cpns_reg_audit_entry e;
	int rc = SQLITE_DONE, r = 0;

	if (!st)
		return db_err(reg, err, -EIO, "audit list");
	while (!r && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&e, 0, sizeof(e));
		e.id = sqlite3_column_int64(st, 0);
		e.time = (uint64_t)sqlite3_column_int64(st, 1);
		e.event = (const char *)sqlite3_column_text(st, 2);
		if (sqlite3_column_type(st, 3) == SQLITE_BLOB) {
			e.user_id = sqlite3_column_blob(st, 3);
			e.user_len = (size_t)sqlite3_column_bytes(st, 3);
		}
		if (sqlite3_column_type(st, 4) == SQLITE_BLOB &&
		    sqlite3_column_bytes(st, 4) == CPNS_ID_LEN)
			e.entity_id = sqlite3_column_blob(st, 4);
		if (sqlite3_column_type(st, 5) == SQLITE_TEXT)
			e.source = (const char *)sqlite3_column_text(st, 5);
		if (sqlite3_column_type(st, 6) == SQLITE_TEXT)
			e.detail = (const char *)sqlite3_column_text(st, 6);
		if (e.event)
			r = cb(ctx, &e);
	}
	if (!r && rc != SQLITE_DONE)
		r = db_err(reg, err, -EIO, "audit list");
	sqlite3_finalize(st);
	return r;
}

int cpns_reg_audit_count(struct cpns_reg *reg, const char *event)
{
	int64_t v = 0;
	int r;

	r = query_int(prep(reg,
			   event ? "SELECT count(*) FROM audit WHERE event = ?" :
				   "SELECT count(*) FROM audit",
			   event ? "t" : "", event),
		      &v);
	return r ? r : (int)v;
}

void cpns_reg_set_source(struct cpns_reg *reg, const char *source)
{
	snprintf(reg->source, sizeof(reg->source), "%s", source ? source : "");
}

/* ---- open, migrate ---------------------------------------------------- */

int cpns_reg_schema_version(struct cpns_reg *reg)
{
	int64_t v = 0;
	int r = query_int(prep(reg, "SELECT version FROM schema_version", ""),
			  &v);

	return r == -ENOENT ? 0 : r ? r : (int)v;
}

static int migrate(struct cpns_reg *reg, struct cpns_err *err)
{
	int64_t v = 0;
	int r;

	r = begin(reg);
	if (r)
		return db_err(reg, err, r, "begin");
	r = exec(reg, "CREATE TABLE IF NOT EXISTS schema_version"
		      " (version INTEGER NOT NULL)");
	if (!r) {
		r = query_int(prep(reg, "SELECT version FROM schema_version",
				   ""), &v);
		if (r == -ENOENT) {
			v = 0;
			r = run(reg, prep(reg, "INSERT INTO schema_version"
					       " VALUES (0)", ""));
			r = r < 0 ? r : 0;
		}
	}
	if (r) {
		db_err(reg, err, r, "schema_version");
		return finish(reg, r);
	}
	if (v > (int64_t)N_MIGRATIONS) {
		cpns_err_set(err, -EPROTO,
			     "registry: schema version %lld is newer than %zu",
			     (long long)v, N_MIGRATIONS);
		return finish(reg, -EPROTO);
	}
	for (; v < (int64_t)N_MIGRATIONS && !r; v++) {
		r = exec(reg, migrations[v]);
		if (!r)
			r = run(reg, prep(reg, "UPDATE schema_version SET version = ?",
					  "i", (int64_t)(v + 1))) < 0 ? -EIO : 0;
		if (r)
			db_err(reg, err, r, "migration");
	}
	return finish(reg, r);
}

/* The KEK check value; set at creation, compared at every open. */
static int kek_check(struct cpns_reg *reg, struct cpns_err *err)
{
	uint8_t mac[CPNS_HASH_LEN];
	sqlite3_stmt *st;
	int r, rc;

	r = cpns_hmac_sha256(reg->kek, CPNS_KEY_LEN, KEK_CHECK_LABEL,
			     strlen(KEK_CHECK_LABEL), mac);
	if (r)
		return cpns_err_set(err, r, "registry: KEK check");
	r = begin(reg);
	if (r)
		return db_err(reg, err, r, "begin");
	st = prep(reg, "SELECT value FROM meta WHERE name = 'kek_check'", "");
	if (!st)
		return finish(reg, db_err(reg, err, -EIO, "meta"));
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		r = sqlite3_column_bytes(st, 0) == CPNS_HASH_LEN &&
				    cpns_memeq(sqlite3_column_blob(st, 0), mac,
					       CPNS_HASH_LEN) ?
			    0 : -EKEYREJECTED;
		sqlite3_finalize(st);
		if (r)
			cpns_err_set(err, r,
				     "registry: the key-encryption key does not match this database");
		return finish(reg, r);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return finish(reg, db_err(reg, err, -EIO, "meta"));
	r = run(reg, prep(reg, "INSERT INTO meta VALUES ('kek_check', ?)", "b",
			  mac, sizeof(mac)));
	return finish(reg, r < 0 ? db_err(reg, err, r, "meta") : 0);
}

int cpns_reg_open(const char *path, const char *kek_spec, uint64_t now,
		  struct cpns_reg **out, struct cpns_err *err)
{
	struct cpns_reg *reg;
	int r;

	*out = NULL;
	reg = calloc(1, sizeof(*reg));
	if (!reg)
		return cpns_err_set(err, -ENOMEM, "registry: out of memory");
	r = cpns_key_read(kek_spec, 0, reg->kek, err);
	if (r)
		goto fail;
	if (sqlite3_open_v2(path, &reg->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		r = db_err(reg, err, -EIO, path);
		goto fail;
	}
	sqlite3_busy_timeout(reg->db, 5000);
	if (exec(reg, "PRAGMA journal_mode = WAL") ||
	    exec(reg, "PRAGMA foreign_keys = ON") ||
	    exec(reg, "PRAGMA synchronous = FULL")) {
		r = db_err(reg, err, -EIO, "pragma");
		goto fail;
	}
	r = migrate(reg, err);
	if (!r)
		r = kek_check(reg, err);
	if (!r)
		r = cpns_reg_expire_pending(reg, now);
	if (r)
		goto fail;
	*out = reg;
	return 0;
fail:
	cpns_reg_close(reg);
	return r;
}

void cpns_reg_close(struct cpns_reg *reg)
{
	if (!reg)
		return;
	sqlite3_finalize(reg->lookup_st);
	sqlite3_finalize(reg->active_st);
	sqlite3_finalize(reg->version_st);
	sqlite3_finalize(reg->audit_st);
	sqlite3_finalize(reg->begin_st);
	sqlite3_finalize(reg->commit_st);
	sqlite3_finalize(reg->rollback_st);
	sqlite3_close(reg->db);
	keys_clear(reg);
	cpns_wipe(reg->kek, sizeof(reg->kek));
	free(reg);
}

/* ---- users ------------------------------------------------------------ */

/* Checks the UserID, then BEGIN IMMEDIATE; 0 or the error, described. */
static int begin_user(struct cpns_reg *reg, const uint8_t *uid,
		      size_t uid_len, struct cpns_err *err)
{
	int r;

	if (!uid_ok(uid, uid_len))
		return cpns_err_set(err, -EINVAL, "UserID must be 1-64 bytes");
	r = begin(reg);
	return r ? db_err(reg, err, r, "begin") : 0;
}

int cpns_reg_user_add(struct cpns_reg *reg, const uint8_t *uid,
		      size_t uid_len, uint64_t now, struct cpns_err *err)
{
	int r = begin_user(reg, uid, uid_len, err);

	if (r)
		return r;
	r = run(reg, prep(reg, "INSERT INTO users (user_id, created, updated)"
			       " VALUES (?, ?, ?)", "bii", uid, uid_len,
			  (int64_t)now, (int64_t)now));
	if (r == -EEXIST)
		cpns_err_set(err, r, "user exists");
	if (r >= 0)
		r = audit(reg, now, "user-add", uid, uid_len, NULL, NULL);
	return finish(reg, r < 0 ? r : 0);
}

int cpns_reg_user_remove(struct cpns_reg *reg, const uint8_t *uid,
			 size_t uid_len, uint64_t now, struct cpns_err *err)
{
	int r = begin_user(reg, uid, uid_len, err);

	if (r)
		return r;
	/* keys of pending assignments of this user on unbound entities */
	r = run(reg, prep(reg, "DELETE FROM eukeys WHERE user_id = ?", "b",
			  uid, uid_len));
	if (r >= 0)
		r = run(reg, prep(reg, "DELETE FROM users WHERE user_id = ?",
				  "b", uid, uid_len));
	if (r == 0) {
		cpns_err_set(err, -ENOENT, "no such user");
		r = -ENOENT;
	}
	if (r >= 0)
		r = audit(reg, now, "user-remove", uid, uid_len, NULL, NULL);
	return finish(reg, r < 0 ? r : 0);
}

int cpns_reg_user_disable(struct cpns_reg *reg, const uint8_t *uid,
			  size_t uid_len, bool disabled, uint64_t now,
			  struct cpns_err *err)
{
	int r = begin_user(reg, uid, uid_len, err);

	if (r)
		return r;
	r = run(reg, prep(reg, "UPDATE users SET disabled = ?, updated = ?"
			       " WHERE user_id = ?", "iib", (int64_t)disabled,
			  (int64_t)now, uid, uid_len));
	if (r == 0)
		r = cpns_err_set(err, -ENOENT, "no such user");
	if (r >= 0)
		r = audit(reg, now, disabled ? "user-disable" : "user-enable",
			  uid, uid_len, NULL, NULL);
	return finish(reg, r < 0 ? r : 0);
}

int cpns_reg_user_list(struct cpns_reg *reg,
		       int (*cb)(void *ctx, const struct cpns_reg_user *u),
		       void *ctx, struct cpns_err *err)
{
	sqlite3_stmt *st = prep(reg, "SELECT user_id, w0 IS NOT NULL, disabled,"
				     " log2n, created FROM users ORDER BY user_id",
				"");
	struct cpns_reg_user u;
	int rc, r = 0;

	if (!st)
		return db_err(reg, err, -EIO, "user list");
	while (!r && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&u, 0, sizeof(u));
		u.uid_len = (size_t)sqlite3_column_bytes(st, 0);
		if (u.uid_len > CPNS_USER_ID_MAX)
			continue;
		memcpy(u.uid, sqlite3_column_blob(st, 0), u.uid_len);
		u.has_verifier = sqlite3_column_int(st, 1);
		u.disabled = sqlite3_column_int(st, 2);
		u.log2n = (unsigned int)sqlite3_column_int(st, 3);
		u.created = (uint64_t)sqlite3_column_int64(st, 4);
		r = cb(ctx, &u);
	}
	sqlite3_finalize(st);
	return r;
}

int cpns_reg_user_set_verifier(struct cpns_reg *reg, const uint8_t *uid,
			       size_t uid_len,
			       const struct cpns_proca_verifier *v,
			       uint64_t now, struct cpns_err *err)
{
	int r;

	if (!uid_ok(uid, uid_len))
		return cpns_err_set(err, -EINVAL, "UserID must be 1-64 bytes");
	/* 6.1: S MUST NOT accept a record with other scrypt parameters */
	if (!cpns_scrypt_params_allowed(v->log2n, v->r, v->p) ||
	    !cpns_spake2p_point_valid(v->l))
		return cpns_err_set(err, -EINVAL,
				    "verifier record: scrypt parameters must be (15|16, 8, 1) and L a P-256 point");
	r = begin(reg);
	if (r)
		return db_err(reg, err, r, "begin");
	r = run(reg, prep(reg, "UPDATE users SET salt = ?, log2n = ?, r = ?,"
			       " p = ?, w0 = ?, l = ?, updated = ?"
			       " WHERE user_id = ?", "biiibbib",
			  v->salt, (size_t)CPNS_PROCA_SALT_LEN,
			  (int64_t)v->log2n, (int64_t)v->r, (int64_t)v->p,
			  v->w0, (size_t)32, v->l, (size_t)65, (int64_t)now,
			  uid, uid_len));
	if (r == 0)
		r = cpns_err_set(err, -ENOENT, "no such user");
	if (r >= 0)
		r = audit(reg, now, "user-password", uid, uid_len, NULL, NULL);
	return finish(reg, r < 0 ? r : 0);
}

int cpns_reg_user_set_password(struct cpns_reg *reg, const uint8_t *uid,
			       size_t uid_len, uint8_t *password,
			       size_t password_len, unsigned int log2n,
			       const struct cpns_rng *rng, uint64_t now,
			       struct cpns_err *err)
{
	struct cpns_proca_verifier v;
	uint8_t w1[CPNS_SPAKE2P_SCALAR_LEN];
	int r;

	memset(&v, 0, sizeof(v));
	if (!uid_ok(uid, uid_len) ||
	    !cpns_scrypt_params_allowed(log2n, CPNS_SCRYPT_R, CPNS_SCRYPT_P)) {
		r = cpns_err_set(err, -EINVAL,
				 "UserID must be 1-64 bytes, log2 N 15 or 16");
		goto out;
	}
	r = cpns_random(rng, v.salt, sizeof(v.salt));
	if (!r)
		r = cpns_spake2p_register(password, password_len, v.salt,
					  sizeof(v.salt), log2n, CPNS_SCRYPT_R,
					  CPNS_SCRYPT_P, v.w0, w1, v.l);
	cpns_wipe(password, password_len);
	cpns_wipe(w1, sizeof(w1));
	if (r) {
		cpns_err_set(err, r, "computing the verifier failed");
		goto out;
	}
	v.log2n = log2n;
	v.r = CPNS_SCRYPT_R;
	v.p = CPNS_SCRYPT_P;
	r = cpns_reg_user_set_verifier(reg, uid, uid_len, &v, now, err);
out:
	cpns_wipe(password, password_len);
	cpns_wipe(&v, sizeof(v));
	return r;
}

int cpns_reg_user_lookup(struct cpns_reg *reg, const uint8_t *uid,
			 size_t uid_len, struct cpns_proca_verifier *v)
{
	sqlite3_stmt *st;
	int rc, r = -ENOENT;

	if (!uid_ok(uid, uid_len))
		return -ENOENT;
	st = prep(reg, "SELECT salt, log2n, r, p, w0, l FROM users"
		       " WHERE user_id = ? AND w0 IS NOT NULL", "b", uid,
		  uid_len);
	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_bytes(st, 0) == 16 &&
	    sqlite3_column_bytes(st, 4) == 32 &&
	    sqlite3_column_bytes(st, 5) == 65) {
		memcpy(v->salt, sqlite3_column_blob(st, 0), 16);
		v->log2n = (unsigned int)sqlite3_column_int(st, 1);
		v->r = (uint32_t)sqlite3_column_int(st, 2);
		v->p = (uint32_t)sqlite3_column_int(st, 3);
		memcpy(v->w0, sqlite3_column_blob(st, 4), 32);
		memcpy(v->l, sqlite3_column_blob(st, 5), 65);
		r = 0;
	} else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		r = -EIO;
	}
	sqlite3_finalize(st);
	return r;
}

/* ---- entities and EUKeys ---------------------------------------------- */

static void key_aad(const uint8_t id[CPNS_ID_LEN], uint32_t kid,
		    uint8_t aad[CPNS_ID_LEN + 4])
{
	memcpy(aad, id, CPNS_ID_LEN);
	aad[16] = kid >> 24;
	aad[17] = kid >> 16;
	aad[18] = kid >> 8;
	aad[19] = kid;
}

int cpns_reg_entity_list(struct cpns_reg *reg,
			 int (*cb)(void *ctx, const struct cpns_reg_entity *e),
			 void *ctx, struct cpns_err *err)
{
	sqlite3_stmt *st = prep(reg,
		"SELECT e.entity_id, e.kind, e.owner, e.created,"
		" (SELECT kid FROM eukeys k WHERE k.entity_id = e.entity_id"
		"  AND state = 1),"
		" (SELECT expiry FROM eukeys k WHERE k.entity_id = e.entity_id"
		"  AND state = 1),"
		" EXISTS (SELECT 1 FROM eukeys k WHERE k.entity_id = e.entity_id"
		"  AND state = 0)"
		" FROM entities e ORDER BY e.entity_id", "");
	struct cpns_reg_entity e;
	int rc, r = 0;

	if (!st)
		return db_err(reg, err, -EIO, "entity list");
	while (!r && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&e, 0, sizeof(e));
		if (sqlite3_column_bytes(st, 0) != CPNS_ID_LEN)
			continue;
		memcpy(e.id, sqlite3_column_blob(st, 0), CPNS_ID_LEN);
		e.kind = (enum cpns_reg_kind)sqlite3_column_int(st, 1);
		if (sqlite3_column_type(st, 2) == SQLITE_BLOB &&
		    sqlite3_column_bytes(st, 2) <= CPNS_USER_ID_MAX) {
			e.has_owner = true;
			e.owner_len = (size_t)sqlite3_column_bytes(st, 2);
			memcpy(e.owner, sqlite3_column_blob(st, 2), e.owner_len);
		}
		e.created = (uint64_t)sqlite3_column_int64(st, 3);
		e.active_kid = (uint32_t)sqlite3_column_int64(st, 4);
		e.active_expiry = (uint64_t)sqlite3_column_int64(st, 5);
		e.pending = sqlite3_column_int(st, 6);
		r = cb(ctx, &e);
	}
	sqlite3_finalize(st);
	return r;
}

int cpns_reg_entity_revoke(struct cpns_reg *reg,
			   const uint8_t id[CPNS_ID_LEN], uint64_t now,
			   struct cpns_err *err)
{
	int64_t v;
	int r;

	r = begin(reg);
	if (r)
		return db_err(reg, err, r, "begin");
	r = query_int(prep(reg, "SELECT 1 FROM entities WHERE entity_id = ?",
			   "b", id, (size_t)CPNS_ID_LEN), &v);
	if (r == -ENOENT)
		cpns_err_set(err, r, "no such entity");
	if (!r)
		r = run(reg, prep(reg, "DELETE FROM eukeys WHERE entity_id = ?"
				       " AND state = 0", "b", id,
				  (size_t)CPNS_ID_LEN));
	if (r >= 0)
		r = run(reg, prep(reg, "UPDATE eukeys SET state = 2, revoked = ?"
				       " WHERE entity_id = ? AND state = 1", "ib",
				  (int64_t)now, id, (size_t)CPNS_ID_LEN));
	if (r >= 0)
		r = audit(reg, now, "revoke", NULL, 0, id, NULL);
	return finish(reg, r < 0 ? r : 0);
}

int cpns_reg_next_kid(struct cpns_reg *reg, const uint8_t id[CPNS_ID_LEN],
		      uint32_t *kid)
{
	int64_t v = 0;
	int r = query_int(prep(reg, "SELECT last_kid FROM entities"
				    " WHERE entity_id = ?", "b", id,
			       (size_t)CPNS_ID_LEN), &v);

	if (r == -ENOENT)
		v = 0, r = 0;
	if (r)
		return r;
	if (v >= UINT32_MAX)
		return -ERANGE;
	*kid = (uint32_t)v + 1;
	return 0;
}

int cpns_reg_eukey_begin(struct cpns_reg *reg, const uint8_t *uid,
			 size_t uid_len, const uint8_t gw_id[CPNS_ID_LEN],
			 uint32_t kid, uint64_t expiry,
			 const uint8_t eukey[CPNS_KEY_LEN], uint64_t now,
			 struct cpns_err *err)
{
	uint8_t wrapped[WRAP_LEN], aad[CPNS_ID_LEN + 4];
	int64_t last = 0, v;
	int r;

	if (!uid_ok(uid, uid_len) || !cpns_id_valid(gw_id) || !kid ||
	    expiry <= now)
		return cpns_err_set(err, -EINVAL, "bad EUKey assignment");
	key_aad(gw_id, kid, aad);
	r = cpns_random(NULL, wrapped, CPNS_IV_LEN);
	if (!r)
		r = cpns_aead_seal(CPNS_SUITE_AES256GCM, reg->kek, wrapped, aad,
				   sizeof(aad), eukey, CPNS_KEY_LEN,
				   wrapped + CPNS_IV_LEN);
	if (r)
		return cpns_err_set(err, r, "EUKey encryption failed");
	r = begin(reg);
	if (r)
		return db_err(reg, err, r, "begin");
	r = query_int(prep(reg, "SELECT 1 FROM users WHERE user_id = ?", "b",
			   uid, uid_len), &v);
	if (r == -ENOENT)
		cpns_err_set(err, r, "no such user");
	if (!r) {
		r = query_int(prep(reg, "SELECT last_kid FROM entities"
					" WHERE entity_id = ?", "b", gw_id,
				   (size_t)CPNS_ID_LEN), &last);
		if (r == -ENOENT) {
			last = 0;
			r = run(reg, prep(reg, "INSERT INTO entities (entity_id,"
					       " kind, created) VALUES (?, 1, ?)",
					  "bi", gw_id, (size_t)CPNS_ID_LEN,
					  (int64_t)now));
			r = r < 0 ? r : 0;
		}
	}
	if (!r && (int64_t)kid <= last)
		r = cpns_err_set(err, -EEXIST, "kid %u already issued", kid);
	if (!r)
		r = run(reg, prep(reg, "UPDATE entities SET last_kid = ?"
				       " WHERE entity_id = ?", "ib", (int64_t)kid,
				  gw_id, (size_t)CPNS_ID_LEN));
	if (r >= 0)
		r = run(reg, prep(reg, "INSERT INTO eukeys (entity_id, kid,"
				       " user_id, state, wrapped, expiry, created,"
				       " pending_until) VALUES (?, ?, ?, 0, ?, ?, ?, ?)",
				  "bibbiii", gw_id, (size_t)CPNS_ID_LEN,
				  (int64_t)kid, uid, uid_len, wrapped,
				  sizeof(wrapped), (int64_t)expiry, (int64_t)now,
				  (int64_t)(now + CPNS_REG_PENDING_TTL)));
	if (r >= 0)
		r = audit(reg, now, "enrol-pending", uid, uid_len, gw_id, NULL);
	cpns_wipe(wrapped, sizeof(wrapped));
	return finish(reg, r < 0 ? r : 0);
}

static int reset_failures(struct cpns_reg *reg, const uint8_t *uid,
			  size_t uid_len)
{
	int r = run(reg, prep(reg, "DELETE FROM proca_failures WHERE user_id = ?",
			      "b", uid, uid_len));

	if (r >= 0)
		r = run(reg, prep(reg, "DELETE FROM proca_lockout WHERE user_id = ?",
				  "b", uid, uid_len));
	return r < 0 ? r : 0;
}

int cpns_reg_eukey_confirm(struct cpns_reg *reg, const uint8_t *uid,
			   size_t uid_len, const uint8_t gw_id[CPNS_ID_LEN],
			   uint32_t kid, uint64_t now, struct cpns_err *err)
{
	sqlite3_stmt *st;
	int64_t v;
	int r, rc;

	if (!uid_ok(uid, uid_len))
		return cpns_err_set(err, -EINVAL, "bad UserID");
	r = begin(reg);
	if (r)
		return db_err(reg, err, r, "begin");
	r = query_int(prep(reg, "SELECT 1 FROM eukeys WHERE entity_id = ?"
				" AND kid = ? AND user_id = ? AND state = 0"
				" AND pending_until > ?", "bibi", gw_id,
			   (size_t)CPNS_ID_LEN, (int64_t)kid, uid, uid_len,
			   (int64_t)now), &v);
	if (r == -ENOENT)
		r = cpns_err_set(err, -EPERM, "no such pending EUKey");
	if (!r) {
		/* 6.5: bound to another account: refused */
		st = prep(reg, "SELECT owner FROM entities WHERE entity_id = ?",
			  "b", gw_id, (size_t)CPNS_ID_LEN);
		rc = st ? sqlite3_step(st) : SQLITE_ERROR;
		if (rc != SQLITE_ROW)
			r = -EIO;
		else if (sqlite3_column_type(st, 0) != SQLITE_NULL &&
			 ((size_t)sqlite3_column_bytes(st, 0) != uid_len ||
			  memcmp(sqlite3_column_blob(st, 0), uid, uid_len)))
			r = cpns_err_set(err, -EPERM,
					 "entity bound to another account");
		sqlite3_finalize(st);
	}
	if (!r)
		r = run(reg, prep(reg, "UPDATE entities SET owner = ?"
				       " WHERE entity_id = ?", "bb", uid, uid_len,
				  gw_id, (size_t)CPNS_ID_LEN));
	if (r >= 0)
		r = run(reg, prep(reg, "UPDATE eukeys SET state = 2, revoked = ?"
				       " WHERE entity_id = ? AND state = 1", "ib",
				  (int64_t)now, gw_id, (size_t)CPNS_ID_LEN));
	if (r >= 0)
		r = run(reg, prep(reg, "UPDATE eukeys SET state = 1, activated = ?,"
				       " pending_until = NULL WHERE entity_id = ?"
				       " AND kid = ? AND state = 0", "ibi",
				  (int64_t)now, gw_id, (size_t)CPNS_ID_LEN,
				  (int64_t)kid));
	if (r == 0)
		r = -EIO;
	if (r >= 0)
		r = reset_failures(reg, uid, uid_len);
	if (r >= 0)
		r = audit(reg, now, "enrol", uid, uid_len, gw_id, NULL);
	return finish(reg, r < 0 ? r : 0);
}

int cpns_reg_eukey_lookup(struct cpns_reg *reg, const uint8_t id[CPNS_ID_LEN],
			  uint64_t now, uint32_t *kid,
			  uint8_t eukey[CPNS_KEY_LEN], uint64_t *expiry)
{
	struct reg_key_slot *slot = key_slot(reg, id);
	uint8_t aad[CPNS_ID_LEN + 4];
	sqlite3_stmt *st;
	int rc, r = -ENOENT;

	keys_check_own(reg);
	if (slot->used && !memcmp(slot->id, id, CPNS_ID_LEN) &&
	    slot->expiry > now) {
		memcpy(eukey, slot->key, CPNS_KEY_LEN);
		*kid = slot->kid;
		if (expiry)
			*expiry = slot->expiry;
		return 0;
	}
	st = prep_kept(reg, &reg->lookup_st,
		       "SELECT kid, wrapped, expiry FROM eukeys"
		       " WHERE entity_id = ? AND state = 1 AND expiry > ?");
	if (!st)
		return -EIO;
	if (sqlite3_bind_blob(st, 1, id, CPNS_ID_LEN, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, (sqlite3_int64)now) != SQLITE_OK) {
		sqlite3_reset(st);
		return -EIO;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		uint32_t k = (uint32_t)sqlite3_column_int64(st, 0);
		const uint8_t *w = sqlite3_column_blob(st, 1);
		uint64_t e = (uint64_t)sqlite3_column_int64(st, 2);

		key_aad(id, k, aad);
		r = -EBADMSG;
		if (sqlite3_column_bytes(st, 1) == WRAP_LEN &&
		    !cpns_aead_open(CPNS_SUITE_AES256GCM, reg->kek, w, aad,
				    sizeof(aad), w + CPNS_IV_LEN,
				    CPNS_KEY_LEN + CPNS_TAG_LEN, eukey)) {
			*kid = k;
			if (expiry)
				*expiry = e;
			r = 0;
			if (reg->synced) {
				memcpy(slot->id, id, CPNS_ID_LEN);
				memcpy(slot->key, eukey, CPNS_KEY_LEN);
				slot->kid = k;
				slot->expiry = e;
				slot->used = true;
			}
		}
	} else if (rc != SQLITE_DONE) {
		r = -EIO;
	}
	/* ends the read transaction */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (r)
		cpns_wipe(eukey, CPNS_KEY_LEN);
	return r;
}

int cpns_reg_eukey_active(struct cpns_reg *reg, const uint8_t id[CPNS_ID_LEN],
			  uint32_t kid, uint64_t now)
{
	struct reg_key_slot *slot = key_slot(reg, id);
	sqlite3_stmt *st;
	int rc;

	/* a row kept since before the last commit of any connection is gone
	 * (in a batch: since before the batch, which has synced)
	 */
	if ((reg->batch || !cpns_reg_sync(reg)) && slot->used &&
	    !memcmp(slot->id, id, CPNS_ID_LEN) && slot->kid == kid &&
	    slot->expiry > now)
		return 0;
	st = prep_kept(reg, &reg->active_st,
		       "SELECT 1 FROM eukeys WHERE entity_id = ? AND kid = ?"
		       " AND state = 1 AND expiry > ?");
	if (!st)
		return -EIO;
	rc = sqlite3_bind_blob(st, 1, id, CPNS_ID_LEN, SQLITE_STATIC) ||
	     sqlite3_bind_int64(st, 2, kid) ||
	     sqlite3_bind_int64(st, 3, (sqlite3_int64)now) ?
		SQLITE_ERROR : sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int cpns_reg_decoy(struct cpns_reg *reg)
{
	/* A row no one reads, committed and synced as a pending key is (a
	 * write that changed no byte would commit nothing), and as many
	 * pages: a first enrolment writes five (entities, eukeys, their
	 * indexes, audit); this row of 10000 bytes, with its overflow pages
	 * (4096-byte pages), writes five too (8200 to 12280 bytes do).
	 * test_registry compares the two.
	 */
	int r = begin(reg);

	if (!r)
		r = exec(reg, "INSERT OR REPLACE INTO meta VALUES"
			      " ('proca_decoy', randomblob(10000))");
	return finish(reg, r);
}

/* ---- lockout ---------------------------------------------------------- */

static int count_failure(struct cpns_reg *reg, const uint8_t *uid,
			 size_t uid_len, uint64_t now)
{
	int64_t n = 0, lockouts = 0, dur;
	int r;

	r = run(reg, prep(reg, "DELETE FROM proca_failures WHERE user_id = ?"
			       " AND time <= ?", "bi", uid, uid_len,
			  (int64_t)now - CPNS_REG_LOCK_WINDOW));
	if (r >= 0)
		r = run(reg, prep(reg, "INSERT INTO proca_failures VALUES (?, ?)",
				  "bi", uid, uid_len, (int64_t)now));
	if (r >= 0)
		r = query_int(prep(reg, "SELECT count(*) FROM proca_failures"
					" WHERE user_id = ?", "b", uid, uid_len),
			      &n);
	if (r < 0)
		return r;
	r = audit(reg, now, "proca-failure", uid, uid_len, NULL, NULL);
	if (r || n < CPNS_REG_LOCK_FAILURES)
		return r;
	r = query_int(prep(reg, "SELECT lockouts FROM proca_lockout"
				" WHERE user_id = ?", "b", uid, uid_len),
		      &lockouts);
	if (r == -ENOENT)
		lockouts = 0, r = 0;
	if (r)
		return r;
	dur = CPNS_REG_LOCK_BASE;
	for (int64_t i = 0; i < lockouts && dur < CPNS_REG_LOCK_MAX; i++)
		dur *= 2;
	if (dur > CPNS_REG_LOCK_MAX)
		dur = CPNS_REG_LOCK_MAX;
	r = run(reg, prep(reg, "INSERT OR REPLACE INTO proca_lockout"
			       " VALUES (?, ?, ?)", "bii", uid, uid_len,
			  lockouts + 1, (int64_t)now + dur));
	if (r >= 0)
		r = run(reg, prep(reg, "DELETE FROM proca_failures WHERE user_id = ?",
				  "b", uid, uid_len));
	if (r >= 0)
		r = audit(reg, now, "proca-lockout", uid, uid_len, NULL, NULL);
	return r < 0 ? r : 0;
}

int cpns_reg_proca_failure(struct cpns_reg *reg, const uint8_t *uid,
			   size_t uid_len, const uint8_t gw_id[CPNS_ID_LEN],
			   bool pending, uint32_t kid, uint64_t now)
{
	int r;

	if (!uid_ok(uid, uid_len))
		return -EINVAL;
	r = begin(reg);
	if (r)
		return r;
	if (pending) {
		r = run(reg, prep(reg, "DELETE FROM eukeys WHERE entity_id = ?"
				       " AND kid = ? AND state = 0", "bi",
				  gw_id, (size_t)CPNS_ID_LEN, (int64_t)kid));
		/* already expired and counted by cpns_reg_expire_pending() */
		if (r == 0)
			return finish(reg, 0);
	}
	if (r >= 0)
		r = count_failure(reg, uid, uid_len, now);
	return finish(reg, r < 0 ? r : 0);
}

int cpns_reg_expire_pending(struct cpns_reg *reg, uint64_t now)
{
	sqlite3_stmt *st;
	uint8_t uid[CPNS_USER_ID_MAX];
	size_t uid_len;
	int r, rc;

	r = begin(reg);
	if (r)
		return r;
	for (;;) {
		uint8_t gw[CPNS_ID_LEN];
		int64_t kid;

		st = prep(reg, "SELECT entity_id, kid, user_id FROM eukeys"
			       " WHERE state = 0 AND pending_until <= ? LIMIT 1",
			  "i", (int64_t)now);
		if (!st) {
			r = -EIO;
			break;
		}
		rc = sqlite3_step(st);
		if (rc != SQLITE_ROW) {
			sqlite3_finalize(st);
			r = rc == SQLITE_DONE ? 0 : -EIO;
			break;
		}
		uid_len = (size_t)sqlite3_column_bytes(st, 2);
		if (uid_len > CPNS_USER_ID_MAX)
			uid_len = CPNS_USER_ID_MAX;
		memcpy(gw, sqlite3_column_blob(st, 0), CPNS_ID_LEN);
		kid = sqlite3_column_int64(st, 1);
		memcpy(uid, sqlite3_column_blob(st, 2), uid_len);
		sqlite3_finalize(st);
		r = run(reg, prep(reg, "DELETE FROM eukeys WHERE entity_id = ?"
				       " AND kid = ?", "bi", gw,
				  (size_t)CPNS_ID_LEN, kid));
		if (r >= 0)
			r = audit(reg, now, "enrol-expired", uid, uid_len, gw,
				  NULL);
		if (!r)
			r = count_failure(reg, uid, uid_len, now);
		if (r)
			break;
	}
	return finish(reg, r);
}

bool cpns_reg_locked(struct cpns_reg *reg, const uint8_t *uid, size_t uid_len,
		     uint64_t now)
{
	int64_t until = 0;

	if (query_int(prep(reg, "SELECT locked_until FROM proca_lockout"
				" WHERE user_id = ?", "b", uid, uid_len),
		      &until))
		return false;
	return (int64_t)now < until;
}

int cpns_reg_proca_admit(struct cpns_reg *reg, const uint8_t *uid,
			 size_t uid_len, const uint8_t gw_id[CPNS_ID_LEN],
			 bool known, uint64_t now)
{
	sqlite3_stmt *st;
	int64_t v = 0;
	int r = 0, rc;

	if (!uid_ok(uid, uid_len))
		return 1;
	if (cpns_reg_locked(reg, uid, uid_len, now))
		r = 1;
	/* bound to another account (or, for an unknown UserID, to any) */
	st = prep(reg, "SELECT owner FROM entities WHERE entity_id = ?", "b",
		  gw_id, (size_t)CPNS_ID_LEN);
	if (!st)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL &&
	    (!known || (size_t)sqlite3_column_bytes(st, 0) != uid_len ||
	     memcmp(sqlite3_column_blob(st, 0), uid, uid_len)))
		r = 1;
	else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = -EIO;
	sqlite3_finalize(st);
	if (r || !known)
		goto out;
	if (!query_int(prep(reg, "SELECT disabled FROM users WHERE user_id = ?",
			    "b", uid, uid_len), &v) && v)
		r = 1;
	/*
	 * Attempts awaiting their KeyConfirm count as failures until they are
	 * confirmed: each KeyDelivery lets its requester test one password
	 * guess offline, and failures are only counted when an attempt ends.
	 */
	if (!r && !query_int(prep(reg,
				  "SELECT (SELECT count(*) FROM proca_failures"
				  "  WHERE user_id = ?1 AND time > ?2)"
				  " + (SELECT count(*) FROM eukeys WHERE user_id = ?1"
				  "  AND state = 0 AND pending_until > ?3)", "bii",
				  uid, uid_len,
				  (int64_t)now - CPNS_REG_LOCK_WINDOW,
				  (int64_t)now), &v) &&
	    v >= CPNS_REG_LOCK_FAILURES)
		r = 1;
	/* GW limit of the account, unless this GW is already one of them */
	if (!r && !query_int(prep(reg,
				  "SELECT count(*) FROM entities WHERE owner = ?"
				  " AND entity_id != ? AND kind = 1", "bb",
				  uid, uid_len, gw_id, (size_t)CPNS_ID_LEN),
			     &v) && v >= CPNS_REG_MAX_GWS)
		r = 1;
out:
	if (r == 1)
		audit(reg, now, "proca-refused", uid, uid_len, gw_id, NULL);
	return r;
}

/* ---- procedure A engine callbacks ------------------------------------- */

static int ops_lookup(void *ctx, const uint8_t *uid, size_t uid_len,
		      struct cpns_proca_verifier *v)
{
	return cpns_reg_user_lookup(ctx, uid, uid_len, v);
}

static int ops_admit(void *ctx, const uint8_t *uid, size_t uid_len,
		     const uint8_t gw_id[CPNS_ID_LEN], bool known, uint64_t now)
{
	return cpns_reg_proca_admit(ctx, uid, uid_len, gw_id, known, now);
}

static int ops_next_kid(void *ctx, const uint8_t gw_id[CPNS_ID_LEN],
			uint32_t *kid)
{
	return cpns_reg_next_kid(ctx, gw_id, kid);
}

static int ops_pending(void *ctx, const uint8_t *uid, size_t uid_len,
		       const uint8_t gw_id[CPNS_ID_LEN], uint32_t kid,
		       uint64_t expiry, const uint8_t eukey[CPNS_KEY_LEN],
		       uint64_t now)
{
	return cpns_reg_eukey_begin(ctx, uid, uid_len, gw_id, kid, expiry,
				    eukey, now, NULL);
}

static int ops_confirm(void *ctx, const uint8_t *uid, size_t uid_len,
		       const uint8_t gw_id[CPNS_ID_LEN], uint32_t kid,
		       uint64_t now)
{
	return cpns_reg_eukey_confirm(ctx, uid, uid_len, gw_id, kid, now, NULL);
}

static int ops_failure(void *ctx, const uint8_t *uid, size_t uid_len,
		       const uint8_t gw_id[CPNS_ID_LEN], bool pending,
		       uint32_t kid, uint64_t now)
{
	return cpns_reg_proca_failure(ctx, uid, uid_len, gw_id, pending, kid,
				      now);
}

static int ops_decoy(void *ctx)
{
	return cpns_reg_decoy(ctx);
}

const struct cpns_proca_srv_ops cpns_reg_proca_ops = {
	.lookup = ops_lookup,
	.admit = ops_admit,
	.next_kid = ops_next_kid,
	.pending = ops_pending,
	.confirm = ops_confirm,
	.failure = ops_failure,
	.decoy = ops_decoy,
};

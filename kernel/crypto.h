/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cpns: record-layer crypto core - key schedule, record seal/open, header
 * checks, replay window and the per-direction epoch state machines.
 *
 * DOC: call order
 *
 * A session generation (kernel/session.c) embeds one &struct cpns_tx_dir
 * and one &struct cpns_rx_dir.
 *
 * Control path (process context, may sleep):
 *
 *  - cpns_tx_init() / cpns_rx_init() at install. tx derives the keys of
 *    epoch 0, rx those of epochs 0 and 1 (the MUST of 2.8), from the epoch
 *    0 traffic secret; each keeps only the chain secret of the next epoch
 *    to derive, in memory of its own, and never keeps ts0. An idle
 *    generation holds nothing more.
 *  - cpns_tx_derive_ahead() / cpns_rx_derive_ahead() from a work item
 *    whenever a packet-path function reported @need_derive: tx asks for
 *    cur + 1 with the first record of epoch 0 and at every advance, rx for
 *    cur + 1 and cur + 2 (the SHOULD of 2.8) once the direction carries
 *    traffic. The callers of one direction serialise them (in the module,
 *    the generation's single derive work item).
 *  - cpns_rx_expire() from the periodic per-netns clean-up (2.13).
 *  - cpns_tx_destroy() / cpns_rx_destroy() once the generation can no
 *    longer be found by new packet-path readers; keys still in use by
 *    running RCU readers are freed after a grace period. The module must
 *    rcu_barrier() before it is unloaded.
 *
 * Transmit (any context, never sleeps; inside one RCU read-side section):
 *
 *  1. cpns_tx_next() reserves (epoch, seq) and returns the epoch's keys;
 *     act on @need_derive and @epoch_threshold of the slot.
 *  2. Build the header with cpns_hdr_fill(), copy the payload behind it.
 *  3. Seal in place: suite 2 with cpns_record_seal(); suite 1 with a
 *     &struct cpns_crypt from cpns_crypt_new() and cpns_crypt_run(),
 *     which may finish later, in a callback (an asynchronous AES-GCM
 *     implementation, as the crypto API gives on x86).
 *
 * Receive (softirq, never sleeps; steps of PROTOCOL.md 2.6):
 *
 *  1. cpns_record_check() on the datagram, its header linear: steps 1a-4d.
 *  2. Step 5 (local dst or forward) is the caller's.
 *  3. cpns_record_check_suite0(): step 6; suite 0 continues at step 14.
 *  4. Step 7 (generation lookup, lifetime, suite) is the caller's.
 *  5. Inside rcu_read_lock(): cpns_rx_check() for steps 8a, 8b, 9 and 10;
 *     on EPOCH_PENDING schedule cpns_rx_derive_ahead().
 *  6. Open with the returned keys, as in step 3 of transmit: step 11
 *     (AUTH).
 *  7. cpns_rx_commit(): step 12; act on @need_derive and @epoch_threshold.
 *  8. Steps 13 and 14 are the caller's.
 *
 * Time is always a caller-supplied u64 in milliseconds of a monotonic clock
 * that counts suspend (cpns_now(): the coarse boot-time clock), and every
 * deadline T is valid while now < T (PROTOCOL.md 1.4).
 */
#ifndef _CPNS_CRYPTO_H
#define _CPNS_CRYPTO_H

#include <linux/atomic.h>
#include <linux/rcupdate.h>
#include <linux/refcount.h>
#include <linux/seqlock.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include "wire.h"

struct aead_request;
struct crypto_aead;
struct scatterlist;

/* ---- key schedule (keys.c) ------------------------------------------- */

#define CPNS_LABEL_PREFIX	"cpns1 "

void cpns_hmac_sha256(const u8 *key, size_t key_len, const u8 *data,
		      size_t data_len, u8 out[32]);
int cpns_hkdf_expand_label(const u8 *secret, size_t secret_len,
			   const char *prefix, const char *label,
			   const u8 *ctx, size_t ctx_len,
			   u8 *out, size_t out_len);
int cpns_expand_label(const u8 *secret, size_t secret_len, const char *label,
		      const u8 *ctx, size_t ctx_len, u8 *out, size_t out_len);
void cpns_traffic_keys(const u8 *ts, u8 key[CPNS_KEY_LEN],
		       u8 iv[CPNS_NONCE_LEN], u8 *next);

/**
 * struct cpns_epoch_keys - the AEAD state of one epoch of one direction
 * @aead: suite 1: the keyed AES-256-GCM transform, 16-byte tag, possibly
 *	asynchronous; NULL for suite 2
 * @key: suite 2: key_n for cpns_chachapoly_crypt(); zero for suite 1
 *	(its key is in @aead)
 * @iv: iv_n of PROTOCOL.md 3.3
 * @suite: CPNS_SUITE_AES256GCM or CPNS_SUITE_CHACHA20POLY1305
 * @epoch: the epoch these keys belong to
 * @ref: one reference for the state that published the keys, dropped a
 *	grace period after cpns_epoch_keys_free() (or at once by
 *	cpns_epoch_keys_release() when that state went a grace period ago),
 *	and one per &struct cpns_crypt using them
 * @rcu: deferred free; packet-path readers hold rcu_read_lock()
 *
 * Immutable once published; freed (and wiped) only through
 * cpns_epoch_keys_free() or cpns_epoch_keys_release(), once the last
 * &struct cpns_crypt is done.
 */
struct cpns_epoch_keys {
	struct crypto_aead	*aead;
	refcount_t		ref;
	u8			key[CPNS_KEY_LEN];
	u8			iv[CPNS_NONCE_LEN];
	u8			suite;
	u8			epoch;
	struct rcu_head		rcu;
};

struct cpns_epoch_keys *cpns_epoch_keys_new(u8 suite,
					    const u8 ts[CPNS_SECRET_LEN],
					    u8 epoch, u8 *next);
void cpns_epoch_keys_free(struct cpns_epoch_keys *keys);
void cpns_epoch_keys_release(struct cpns_epoch_keys *keys);
void cpns_epoch_keys_put(struct cpns_epoch_keys *keys);

/* ---- AES-256-GCM transforms: implementation and pool (aead.c) ---------- */

struct crypto_aead *cpns_aead_get(void);
void cpns_aead_put(struct crypto_aead *tfm);
void cpns_aead_pool_exit(void);

/* ---- ChaCha20-Poly1305 (chachapoly.c) --------------------------------- */

int cpns_chachapoly_crypt(const u8 key[CPNS_KEY_LEN],
			  const u8 nonce[CPNS_NONCE_LEN],
			  struct scatterlist *sg, size_t assoc, size_t text,
			  bool enc);

/* ---- records (record.c) ---------------------------------------------- */

/**
 * struct cpns_rec - a record header in host byte order
 * @type: CPNS_TYPE_*
 * @flags: header flags (CPNS_FLAG_C)
 * @suite: enum cpns_suite
 * @generation: key_id byte 4
 * @epoch: key_id byte 5
 * @length: payload length
 * @seq: sequence number
 * @src: source entity ID
 * @dst: destination entity ID
 * @src_port: source port
 * @dst_port: destination port
 */
struct cpns_rec {
	u8	type;
	u8	flags;
	u8	suite;
	u8	generation;
	u8	epoch;
	u16	length;
	u64	seq;
	u8	src[CPNS_ID_LEN];
	u8	dst[CPNS_ID_LEN];
	u16	src_port;
	u16	dst_port;
};

/**
 * cpns_rec_len() - datagram length of a record
 * @rec: the record's header fields
 *
 * Return: header + payload + tag length (no tag for suite 0).
 */
static inline size_t cpns_rec_len(const struct cpns_rec *rec)
{
	return CPNS_HDR_LEN + rec->length + (rec->suite ? CPNS_TAG_LEN : 0);
}

enum cpns_drop cpns_record_check(const u8 *buf, size_t len,
				 struct cpns_rec *rec);
enum cpns_drop cpns_record_check_suite0(const struct cpns_rec *rec);
void cpns_hdr_fill(struct cpns_hdr *hdr, const struct cpns_rec *rec);
int cpns_record_seal(const struct cpns_epoch_keys *keys, u8 *buf,
		     size_t len);
int cpns_record_open(const struct cpns_epoch_keys *keys, const u8 *hdr,
		     struct scatterlist *sg, size_t len);

/**
 * struct cpns_crypt - an AES-256-GCM seal or open that may finish later
 * @keys: the epoch's keys, referenced until cpns_crypt_free()
 * @done: set by cpns_crypt_run(): called with the result when the
 *	operation finishes after cpns_crypt_run() returned -EINPROGRESS, in
 *	softirq or process context (bottom halves may be enabled)
 * @priv: the caller's state, of the size given to cpns_crypt_new()
 * @sg: the record (assoc || text || tag), as many entries as given to
 *	cpns_crypt_new(); the caller maps the record into it
 * @req: the request, behind the caller's state in the same allocation
 * @req_size: its size, implementation's context included
 * @nonce: the record's nonce while the operation runs
 */
struct cpns_crypt {
	struct cpns_epoch_keys	*keys;
	void			(*done)(struct cpns_crypt *c, int err);
	void			*priv;
	struct scatterlist	*sg;
	struct aead_request	*req;
	unsigned int		req_size;
	u8			nonce[CPNS_NONCE_LEN];
};

struct cpns_crypt *cpns_crypt_new(struct cpns_epoch_keys *keys,
				  unsigned int nsg, size_t priv_size,
				  gfp_t gfp);
int cpns_crypt_run(struct cpns_crypt *c, const u8 *hdr, size_t len,
		   bool enc, void (*done)(struct cpns_crypt *c, int err));
void cpns_crypt_free(struct cpns_crypt *c);

/* ---- replay window (replay.c) ---------------------------------------- */

/**
 * struct cpns_replay - RFC 6479 anti-replay window of one epoch
 * @next: one past the highest seq accepted; 0 while nothing was accepted.
 *	Written under the owner's lock, read locklessly by the pre-check.
 * @bits: received bitmap, seq s at bit s % 64 of block (s / 64) % 32.
 *	Written under the owner's lock, read locklessly by the pre-check.
 */
struct cpns_replay {
	u64	next;
	u64	bits[CPNS_REPLAY_BLOCKS];
};

void cpns_replay_init(struct cpns_replay *r);
enum cpns_drop cpns_replay_check(const struct cpns_replay *r, u64 seq);
enum cpns_drop cpns_replay_update(struct cpns_replay *r, u64 seq);

/* ---- epoch state machines (epoch.c) ---------------------------------- */

/* Chain secret of the next epoch to derive; private to epoch.c. */
struct cpns_chain;

/**
 * struct cpns_tx_dir - transmit direction of a generation (2.5)
 * @ctr: (epoch << 32) | next seq; advanced by cmpxchg on the packet path,
 *	reset under @lock when the epoch moves on.
 * @cur: keys of the current epoch. Replaced under @lock, read under RCU.
 * @next: keys of epoch cur + 1, NULL until derived. Set under @lock by
 *	the control path, consumed under @lock by cpns_tx_next().
 * @epoch_start: time the current epoch began. Written under @lock before
 *	@ctr moves to the epoch; read with READ_ONCE().
 * @install: install time of the generation; constant after init.
 * @chain: chain secret of the next epoch to derive, NULL once epoch 255
 *	is derived. Only cpns_tx_derive_ahead() touches it; its callers
 *	serialise.
 * @lock: serialises epoch advances and the installation of @next.
 * @exhausted: epoch 255 reached a limit; written under @lock, never
 *	cleared.
 * @suite: enum cpns_suite; constant after init.
 */
struct cpns_tx_dir {
	atomic64_t			ctr;
	struct cpns_epoch_keys __rcu	*cur;
	struct cpns_epoch_keys __rcu	*next;
	u64				epoch_start;
	u64				install;
	struct cpns_chain		*chain;
	spinlock_t			lock;		/* epoch advances */
	bool				exhausted;
	u8				suite;
};

/**
 * struct cpns_tx_slot - what cpns_tx_next() reserved
 * @keys: keys of @epoch; valid until the caller's RCU section ends
 * @seq: sequence number to send
 * @epoch: epoch to send in
 * @need_derive: the epoch moved on; schedule cpns_tx_derive_ahead()
 * @epoch_threshold: the transmit epoch reached CPNS_REKEY_EPOCH; notify
 */
struct cpns_tx_slot {
	struct cpns_epoch_keys	*keys;
	u64			seq;
	u8			epoch;
	bool			need_derive;
	bool			epoch_threshold;
};

/* Records per transmit epoch, 1..CPNS_SEQ_SOFT_LIMIT: the module parameter
 * tx_epoch_records (epoch.c). Read with READ_ONCE().
 */
extern unsigned int cpns_tx_epoch_records;

int cpns_tx_init(struct cpns_tx_dir *tx, u8 suite,
		 const u8 ts0[CPNS_SECRET_LEN], u64 now);
int cpns_tx_derive_ahead(struct cpns_tx_dir *tx);
int cpns_tx_next(struct cpns_tx_dir *tx, u64 now, struct cpns_tx_slot *slot);
void cpns_tx_destroy(struct cpns_tx_dir *tx);

/* Epochs whose keys rx derives at install and keeps in cpns_rx_dir.first:
 * 0 and 1 (2.8). Keys of later epochs live in cpns_rx_ext.keys.
 */
#define CPNS_RX_FIRST_EPOCHS	2

/* Slots for prev, cur and cur+1..cur+8; prev may lie 8 below cur, so 17
 * distinct epochs must map to distinct slots.
 */
#define CPNS_RX_KEY_SLOTS	32
static_assert(CPNS_RX_KEY_SLOTS > 2 * CPNS_EPOCH_AHEAD);

/**
 * struct cpns_rx_ext - receive state that only traffic needs
 * @win: replay windows of cur and prev (cpns_rx_dir.cur_win). Updated
 *	under cpns_rx_dir.lock, pre-checked without it.
 * @keys: keys of epochs from CPNS_RX_FIRST_EPOCHS on, slot epoch %
 *	CPNS_RX_KEY_SLOTS. Published and removed under cpns_rx_dir.lock,
 *	read under RCU.
 *
 * Allocated with the first record that passes cpns_rx_check() (or by
 * cpns_rx_derive_ahead()), so that an idle generation does without it;
 * never replaced, freed with the direction.
 */
struct cpns_rx_ext {
	struct cpns_replay		win[2];
	struct cpns_epoch_keys __rcu	*keys[CPNS_RX_KEY_SLOTS];
};

/**
 * struct cpns_rx_dir - receive direction of a generation (2.7, 2.8)
 * @lock: serialises step 12 (cpns_rx_commit()), key installation and
 *	erasure. Taken with the _bh variants.
 * @seqc: lets the packet path snapshot the epoch fields below without
 *	@lock; written only with @lock held.
 * @cur: current receive epoch. Written under @lock and @seqc.
 * @prev: retained previous epoch, meaningful while @has_prev. Written
 *	under @lock and @seqc.
 * @has_prev: a previous epoch is retained. Written under @lock and @seqc.
 * @cur_win: index in @ext->win of the window of @cur; the other one
 *	belongs to @prev. Written under @lock and @seqc.
 * @suite: enum cpns_suite; constant after init.
 * @want: highest epoch a record found without keys (EPOCH_PENDING);
 *	raised locklessly with cmpxchg, read by the control path.
 * @prev_expiry: @prev is usable while now < @prev_expiry. Written under
 *	@lock and @seqc.
 * @first: keys of epochs 0 and 1. Removed under @lock, read under RCU.
 * @ext: windows and later keys, NULL until the direction needs them; set
 *	once with cmpxchg(), read with smp_load_acquire().
 * @chain: chain secret of the next epoch to derive, NULL once epoch 255
 *	is derived. Only cpns_rx_derive_ahead() touches it; its callers
 *	serialise.
 */
struct cpns_rx_dir {
	spinlock_t			lock;		/* step 12, keys */
	seqcount_spinlock_t		seqc;
	u8				cur;
	u8				prev;
	bool				has_prev;
	u8				cur_win;
	u8				suite;
	atomic_t			want;
	u64				prev_expiry;
	struct cpns_epoch_keys __rcu	*first[CPNS_RX_FIRST_EPOCHS];
	struct cpns_rx_ext		*ext;
	struct cpns_chain		*chain;
};

/**
 * struct cpns_rx_ticket - result of cpns_rx_check()
 * @keys: keys of the record's epoch (CPNS_DROP_NONE only); valid until the
 *	caller's RCU section ends
 * @need_derive: keys are missing (EPOCH_PENDING); schedule
 *	cpns_rx_derive_ahead()
 */
struct cpns_rx_ticket {
	struct cpns_epoch_keys	*keys;
	bool			need_derive;
};

/**
 * struct cpns_rx_events - side effects of a successful cpns_rx_commit()
 * @advanced: cur moved to the record's epoch
 * @need_derive: keys of cur + 1 or cur + 2 are missing (always after an
 *	advance); schedule cpns_rx_derive_ahead()
 * @epoch_threshold: the receive epoch reached CPNS_REKEY_EPOCH; notify
 */
struct cpns_rx_events {
	bool	advanced;
	bool	need_derive;
	bool	epoch_threshold;
};

int cpns_rx_init(struct cpns_rx_dir *rx, u8 suite,
		 const u8 ts0[CPNS_SECRET_LEN]);
int cpns_rx_derive_ahead(struct cpns_rx_dir *rx);
enum cpns_drop cpns_rx_check(struct cpns_rx_dir *rx, u8 epoch, u64 seq,
			     u64 now, struct cpns_rx_ticket *t);
enum cpns_drop cpns_rx_commit(struct cpns_rx_dir *rx, u8 epoch, u64 seq,
			      u64 now, struct cpns_rx_events *ev);
void cpns_rx_expire(struct cpns_rx_dir *rx, u64 now);
void cpns_rx_destroy(struct cpns_rx_dir *rx);

#endif /* _CPNS_CRYPTO_H */

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cpns: the record wire format and the limits of the cpns1 profile
 * (PROTOCOL.md sections 2.2, 2.5-2.9), in one place.
 */
#ifndef _CPNS_WIRE_H
#define _CPNS_WIRE_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/compiler_attributes.h>
#include <linux/time64.h>
#include <linux/types.h>
#include <uapi/linux/cpns.h>

/**
 * struct cpns_hdr - the 52-byte record header (PROTOCOL.md 2.2)
 * @version: CPNS_VERSION
 * @type: CPNS_TYPE_DATA or CPNS_TYPE_HANDSHAKE
 * @flags: CPNS_FLAG_C; the other bits are reserved and must be 0
 * @suite: enum cpns_suite
 * @generation: key_id byte 4
 * @epoch: key_id byte 5
 * @length: payload (plaintext) length
 * @seq: record sequence number within (session, direction, epoch)
 * @src: source entity ID
 * @dst: destination entity ID
 * @src_port: source port
 * @dst_port: destination port
 *
 * The whole header is the AEAD associated data of a protected record.
 */
struct cpns_hdr {
	u8	version;
	u8	type;
	u8	flags;
	u8	suite;
	u8	generation;
	u8	epoch;
	__be16	length;
	__be64	seq;
	u8	src[CPNS_ID_LEN];
	u8	dst[CPNS_ID_LEN];
	__be16	src_port;
	__be16	dst_port;
} __packed;

static_assert(sizeof(struct cpns_hdr) == CPNS_HDR_LEN);

#define CPNS_VERSION		1
#define CPNS_TYPE_DATA		1
#define CPNS_TYPE_HANDSHAKE	2
#define CPNS_FLAG_C		0x80	/* encrypted; 0 = integrity-only */
#define CPNS_FLAGS_RESERVED	0x7f

#define CPNS_MAX_RECORD_LEN	(CPNS_HDR_LEN + CPNS_MAX_PAYLOAD + CPNS_TAG_LEN)
#define CPNS_KEY_LEN		32	/* both suites */
#define CPNS_NONCE_LEN		12

/* Sequence numbers (2.5, 2.9): the sender moves to the next epoch at the
 * soft limit; nothing at or above the hard limit is sent or accepted.
 */
#define CPNS_SEQ_SOFT_LIMIT	BIT_ULL(22)
#define CPNS_SEQ_HARD_LIMIT	BIT_ULL(24)

/* Epochs (2.8, 2.9) */
#define CPNS_EPOCHS		256
#define CPNS_EPOCH_MAX		(CPNS_EPOCHS - 1)
#define CPNS_EPOCH_AHEAD	8	/* receiver accepts cur+1 .. cur+8 */

/* Lifetimes in milliseconds of the boot-time clock (1.4, 2.9) */
#define CPNS_PREV_EPOCH_MS	(60ULL * MSEC_PER_SEC)
#define CPNS_EPOCH_AGE_MS	(3600ULL * MSEC_PER_SEC)
#define CPNS_GEN_LIFETIME_MS	(90000ULL * MSEC_PER_SEC)

/* Replay window (2.7): RFC 6479 bitmap of 32 blocks of 64 bits; one block
 * is always being refilled, so W = 2048 - 64 = 1984.
 */
#define CPNS_REPLAY_BLOCK_BITS	64
#define CPNS_REPLAY_BLOCKS	32
#define CPNS_REPLAY_BITS	(CPNS_REPLAY_BLOCKS * CPNS_REPLAY_BLOCK_BITS)
#define CPNS_REPLAY_WINDOW	(CPNS_REPLAY_BITS - CPNS_REPLAY_BLOCK_BITS)

static_assert(CPNS_REPLAY_WINDOW >= 1984 && CPNS_REPLAY_WINDOW <= 65536);

/**
 * enum cpns_drop - receive drop reasons of PROTOCOL.md 2.6, in step order
 * @CPNS_DROP_NONE: no drop (the record passed the checks made)
 * @CPNS_DROP_SHORT: step 1a, datagram shorter than the header
 * @CPNS_DROP_TOO_BIG: step 1b, header length above 16384
 * @CPNS_DROP_LENGTH: step 1c, datagram length does not match
 * @CPNS_DROP_RESERVED: step 2, reserved flag bit set
 * @CPNS_DROP_VERSION: step 3, version is not 1
 * @CPNS_DROP_BAD_TYPE: step 4a, type is not 1 or 2
 * @CPNS_DROP_BAD_SUITE: step 4b, suite is not 0, 1 or 2
 * @CPNS_DROP_BAD_ENTITY: step 4c, src/dst all-zero, all-0xFF or equal
 * @CPNS_DROP_BAD_PORT: step 4d, port zero or inconsistent with the type
 * @CPNS_DROP_NO_ROUTE: step 5, not for this node and not forwarded
 * @CPNS_DROP_SUITE0: step 6, malformed suite 0 record
 * @CPNS_DROP_NO_SESSION: step 7a, no live receive state
 * @CPNS_DROP_SUITE_MISMATCH: step 7b, suite differs from the session's
 * @CPNS_DROP_EPOCH: steps 8a and 12, epoch not acceptable
 * @CPNS_DROP_EPOCH_PENDING: step 8b, keys of the epoch not derived yet
 * @CPNS_DROP_SEQ_LIMIT: step 9, seq at or above 2^24
 * @CPNS_DROP_REPLAY: steps 10 and 12, seq already received
 * @CPNS_DROP_TOO_OLD: steps 10 and 12, seq below the replay window
 * @CPNS_DROP_AUTH: step 11, AEAD open failed
 * @CPNS_DROP_POLICY: step 13, C=0 record not allowed on the port
 * @CPNS_DROP_NO_PORT: step 14, no socket bound
 *
 * Each value equals the matching CPNS_STAT_DROP_* counter index of the
 * uapi header, so a reason can index the per-reason counters directly.
 */
enum cpns_drop {
	CPNS_DROP_NONE = 0,
	CPNS_DROP_SHORT = CPNS_STAT_DROP_SHORT,
	CPNS_DROP_TOO_BIG = CPNS_STAT_DROP_TOO_BIG,
	CPNS_DROP_LENGTH = CPNS_STAT_DROP_LENGTH,
	CPNS_DROP_RESERVED = CPNS_STAT_DROP_RESERVED,
	CPNS_DROP_VERSION = CPNS_STAT_DROP_VERSION,
	CPNS_DROP_BAD_TYPE = CPNS_STAT_DROP_BAD_TYPE,
	CPNS_DROP_BAD_SUITE = CPNS_STAT_DROP_BAD_SUITE,
	CPNS_DROP_BAD_ENTITY = CPNS_STAT_DROP_BAD_ENTITY,
	CPNS_DROP_BAD_PORT = CPNS_STAT_DROP_BAD_PORT,
	CPNS_DROP_NO_ROUTE = CPNS_STAT_DROP_NO_ROUTE,
	CPNS_DROP_SUITE0 = CPNS_STAT_DROP_SUITE0,
	CPNS_DROP_NO_SESSION = CPNS_STAT_DROP_NO_SESSION,
	CPNS_DROP_SUITE_MISMATCH = CPNS_STAT_DROP_SUITE_MISMATCH,
	CPNS_DROP_EPOCH = CPNS_STAT_DROP_EPOCH,
	CPNS_DROP_EPOCH_PENDING = CPNS_STAT_DROP_EPOCH_PENDING,
	CPNS_DROP_SEQ_LIMIT = CPNS_STAT_DROP_SEQ_LIMIT,
	CPNS_DROP_REPLAY = CPNS_STAT_DROP_REPLAY,
	CPNS_DROP_TOO_OLD = CPNS_STAT_DROP_TOO_OLD,
	CPNS_DROP_AUTH = CPNS_STAT_DROP_AUTH,
	CPNS_DROP_POLICY = CPNS_STAT_DROP_POLICY,
	CPNS_DROP_NO_PORT = CPNS_STAT_DROP_NO_PORT,
};

/* CPNS_STAT_UNSPEC is 0 and never a drop, so CPNS_DROP_NONE cannot clash. */
static_assert(CPNS_STAT_UNSPEC == 0 && CPNS_STAT_DROP_SHORT > 0);
static_assert(CPNS_STAT_DROP_NO_PORT - CPNS_STAT_DROP_SHORT == 20);

#endif /* _CPNS_WIRE_H */

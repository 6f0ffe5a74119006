/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Handshake message TLV codec of PROTOCOL.md section 4: a strict,
 * table-driven decoder (section 4.2, steps 0-3, in the normative order)
 * and an encoder that only produces messages that decoder accepts.
 */
#ifndef CPNS_TLV_H
#define CPNS_TLV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpns_err.h"

/* Message types (section 4.3). */
enum cpns_msg_type {
	CPNS_MSG_CONNECT_REQUEST = 0x01,
	CPNS_MSG_AUTH_REQUEST = 0x02,
	CPNS_MSG_AUTH_RESPONSE = 0x03,
	CPNS_MSG_SERVER_AUTH_RESPONSE = 0x04,
	CPNS_MSG_ACK = 0x0e,
	CPNS_MSG_ABORT = 0x0f,
	CPNS_MSG_KEY_REQUEST1 = 0x10,
	CPNS_MSG_KEY_CHALLENGE = 0x11,
	CPNS_MSG_KEY_REQUEST2 = 0x12,
	CPNS_MSG_KEY_DELIVERY = 0x13,
	CPNS_MSG_KEY_CONFIRM = 0x14,
	CPNS_MSG_PN_SETUP_REQUEST = 0x20,
	CPNS_MSG_PN_SETUP_NOTIFY = 0x21,
	CPNS_MSG_NOTIFY_RESPONSE = 0x22,
	CPNS_MSG_PN_REGISTRATION_REQUEST = 0x23,
	CPNS_MSG_PN_AUTH_REQUEST = 0x24,
	CPNS_MSG_PN_AUTH_REQUEST_RELAY = 0x25,
	CPNS_MSG_PN_AUTH_RESPONSE = 0x26,
	CPNS_MSG_PN_AUTH_RESPONSE_RELAY = 0x27,
	CPNS_MSG_PN_REGISTRATION_RESPONSE = 0x28,
	CPNS_MSG_PN_SETUP_RESPONSE = 0x29,
	CPNS_MSG_PN_ESTABLISHMENT_NOTIFY = 0x2a,
	CPNS_MSG_KEY_SEED_REQUEST = 0x30,
	CPNS_MSG_KEY_SEED_RESPONSE = 0x31,
	CPNS_MSG_KEY_SEED_CONFIRM = 0x32,
	CPNS_MSG_DEVICE_KEY_REQUEST = 0x33,
	CPNS_MSG_DEVICE_CHALLENGE = 0x34,
	CPNS_MSG_DEVICE_KEY_CONFIRM = 0x35,
	CPNS_MSG_DEVICE_KEY_ACCEPT = 0x36,
	CPNS_MSG_ENROL_REQUEST = 0x37,
	CPNS_MSG_ENROL_KEY_ASSIGN = 0x38,
	CPNS_MSG_ENROL_CONFIRM = 0x39,
};

/* TLV types (section 4.4). */
enum cpns_tlv_type {
	CPNS_TLV_XID = 0x0001,
	CPNS_TLV_INITIATOR_ID = 0x0002,
	CPNS_TLV_RESPONDER_ID = 0x0003,
	CPNS_TLV_RAND_I = 0x0004,
	CPNS_TLV_RAND_R = 0x0005,
	CPNS_TLV_SUITES = 0x0006,
	CPNS_TLV_SUITE = 0x0007,
	CPNS_TLV_MODE = 0x0008,
	CPNS_TLV_KEYSHARE_I = 0x0009,
	CPNS_TLV_KEYSHARE_R = 0x000a,
	CPNS_TLV_GENERATION = 0x000b,
	CPNS_TLV_PREV_GEN = 0x000c,
	CPNS_TLV_HASH_I = 0x000d,
	CPNS_TLV_HASH_R = 0x000e,
	CPNS_TLV_BINDING = 0x000f,
	CPNS_TLV_PSK_KIND = 0x0010,
	CPNS_TLV_KID = 0x0011,
	CPNS_TLV_EXPIRY = 0x0012,
	CPNS_TLV_WRAPPED_KEY = 0x0013,
	CPNS_TLV_STATUS = 0x0014,
	CPNS_TLV_REASON = 0x0015,
	CPNS_TLV_MSG_REF = 0x0016,
	CPNS_TLV_ENTITY_ID = 0x0017,
	CPNS_TLV_DIAG = 0x0018,
	CPNS_TLV_USER_ID = 0x0020,
	CPNS_TLV_GW_ID = 0x0021,
	CPNS_TLV_SALT = 0x0022,
	CPNS_TLV_SCRYPT_PARAMS = 0x0023,
	CPNS_TLV_SHARE_P = 0x0024,
	CPNS_TLV_SHARE_V = 0x0025,
	CPNS_TLV_CONFIRM_V = 0x0026,
	CPNS_TLV_CONFIRM_P = 0x0027,
	CPNS_TLV_PN_ID = 0x0030,
	CPNS_TLV_HELLO = 0x0031,
	CPNS_TLV_PNE_ID = 0x0032,
	CPNS_TLV_RAND_PNE = 0x0033,
	CPNS_TLV_HELLO_FLAGS = 0x0034,
	CPNS_TLV_KEYSHARE_PNE = 0x0035,
	CPNS_TLV_RAND_S = 0x0036,
	CPNS_TLV_AUTH_ELEM = 0x0037,
	CPNS_TLV_KEYSHARE_S = 0x0038,
	CPNS_TLV_WRAPPED_LK_PNE = 0x0039,
	CPNS_TLV_WRAPPED_LK_GW = 0x003a,
	CPNS_TLV_HASH_PNE = 0x003b,
	CPNS_TLV_RESULT = 0x003c,
	CPNS_TLV_HASH_SRV_PNE = 0x003d,
	CPNS_TLV_INVENTORY = 0x003e,
	CPNS_TLV_MEMBER = 0x003f,
	CPNS_TLV_ROLE = 0x0040,
	CPNS_TLV_CAPS = 0x0041,
	CPNS_TLV_TARGETS = 0x0042,
	CPNS_TLV_PN_NAME = 0x0043,
	CPNS_TLV_AUTH_RESP = 0x0044,
	CPNS_TLV_SEED_ID = 0x0050,
	CPNS_TLV_WRAPPED_SEED = 0x0051,
	CPNS_TLV_CHALLENGE = 0x0052,
	CPNS_TLV_DEVICE_ID = 0x0053,
	CPNS_TLV_GW1_VERIFY = 0x0054,
	CPNS_TLV_SRV_VERIFY = 0x0055,
	CPNS_TLV_ENROL_CONFIRM = 0x0056,
	CPNS_TLV_SEED_CONFIRM = 0x0057,
	CPNS_TLV_DEVICE_KEY = 0x0058,
	CPNS_TLV_SERVER_ADDR = 0x0059,
};

#define CPNS_TLV_IGNORABLE	0x8000	/* bit 15: unknown types are skipped */
#define CPNS_TLV_HDR_LEN	4
#define CPNS_XID_LEN		8
#define CPNS_MSG_MIN_LEN	(1 + CPNS_TLV_HDR_LEN + CPNS_XID_LEN)
#define CPNS_MSG_MAX_LEN	16384
/* Every TLV takes at least its 4-byte header. */
#define CPNS_MSG_MAX_TLVS	(CPNS_MSG_MAX_LEN / CPNS_TLV_HDR_LEN)

/* Abort reason codes (section 4.8). */
enum cpns_reason {
	CPNS_REASON_MALFORMED = 1,
	CPNS_REASON_UNSUPPORTED_CRITICAL = 2,
	CPNS_REASON_MISSING_TLV = 3,
	CPNS_REASON_UNEXPECTED_MESSAGE = 4,
	CPNS_REASON_BAD_IDENTITY = 5,
	CPNS_REASON_NOT_AUTHORIZED = 6,
	CPNS_REASON_AUTH_FAILED = 7,
	CPNS_REASON_NO_COMMON_SUITE = 8,
	CPNS_REASON_DHE_REQUIRED = 9,
	CPNS_REASON_BAD_KEYSHARE = 10,
	CPNS_REASON_RATE_LIMITED = 11,
	CPNS_REASON_REFUSED = 12,
	CPNS_REASON_UNKNOWN_KEY = 13,
	CPNS_REASON_BINDING_MISMATCH = 14,
	CPNS_REASON_CHALLENGE_INVALID = 15,
	CPNS_REASON_GENERATION_CONFLICT = 16,
	CPNS_REASON_INTERNAL_ERROR = 17,
	CPNS_REASON_RESOURCE_LIMIT = 18,
};

/* STATUS values (section 4.9). */
enum cpns_status {
	CPNS_STATUS_OK = 0,
	CPNS_STATUS_REFUSED = 1,
	CPNS_STATUS_AUTH_FAILED = 2,
	CPNS_STATUS_UNKNOWN_ENTITY = 3,
	CPNS_STATUS_NOT_AUTHORIZED = 4,
	CPNS_STATUS_NO_RESPONSE = 5,
	CPNS_STATUS_DHE_REQUIRED = 6,
	CPNS_STATUS_DECLINED = 7,
	CPNS_STATUS_BAD_KEYSHARE = 8,
};

/* Protection a message type may arrive with (section 4.3). */
#define CPNS_PROT_SUITE0	0x1	/* suite 0 record */
#define CPNS_PROT_PROTECTED	0x2	/* protected (C=1) type 2 record */

/* Result of decoding that is not an Abort reason: drop silently (step 0). */
#define CPNS_DECODE_DROP	(-1)

/**
 * struct cpns_tlv - one decoded TLV
 * @value: its value, pointing into the decoded buffer
 * @type: TLV type
 * @len: value length
 * @parent: index + 1 of the enclosing container TLV, 0 at the top level
 * @unknown: an ignorable type this profile does not define (skipped)
 */
struct cpns_tlv {
	const uint8_t *value;
	uint16_t type;
	uint16_t len;
	uint16_t parent;
	bool unknown;
};

/**
 * struct cpns_msg - a decoded handshake message (about 64 KiB: allocate it)
 * @schema: the schema of the top-level sequence
 * @has_type: a message (msg_type first), not a bare TLV sequence
 * @msg_type: the first byte
 * @raw: the decoded bytes (not copied; must outlive the message)
 * @raw_len: their length
 * @xid: the XID value; valid whenever the message was not dropped
 * @n_tlv: number of TLVs, in message order, containers before contents
 * @tlv: the TLVs
 */
struct cpns_msg {
	const struct cpns_tlv_schema *schema;
	bool has_type;
	uint8_t msg_type;
	const uint8_t *raw;
	size_t raw_len;
	const uint8_t *xid;
	unsigned int n_tlv;
	struct cpns_tlv tlv[CPNS_MSG_MAX_TLVS];
};

struct cpns_tlv_schema;

/* Sequences that are not messages: the transfer blob body (10.5). */
extern const struct cpns_tlv_schema cpns_schema_blob_body;

const char *cpns_msg_type_name(unsigned int msg_type);
const char *cpns_tlv_type_name(unsigned int type);
const char *cpns_reason_name(unsigned int reason);
const char *cpns_status_name(unsigned int status);
unsigned int cpns_msg_protection(unsigned int msg_type);

int cpns_msg_decode(const uint8_t *buf, size_t len, struct cpns_msg *msg,
		    struct cpns_err *err);
int cpns_tlv_decode_seq(const struct cpns_tlv_schema *schema,
			const uint8_t *buf, size_t len, struct cpns_msg *msg,
			struct cpns_err *err);

const struct cpns_tlv *cpns_msg_find(const struct cpns_msg *msg,
				     const struct cpns_tlv *parent,
				     uint16_t type);
const struct cpns_tlv *cpns_msg_next(const struct cpns_msg *msg,
				     const struct cpns_tlv *parent,
				     const struct cpns_tlv *prev,
				     uint16_t type);

/**
 * struct cpns_enc - message encoder state
 *
 * cpns_enc_*() calls record the first error and become no-ops after it;
 * cpns_enc_finish() reports it. Types must come in ascending order,
 * lengths within their ranges, containers closed, the total within
 * 16384 bytes and the repeat counts within section 4.10; the result is
 * then checked with the decoder (mandatory TLVs).
 */
struct cpns_enc {
	bool has_type;
	uint8_t *buf;
	size_t cap;
	size_t len;
	int error;
	unsigned int depth;
	struct {
		const struct cpns_tlv_schema *schema;
		size_t start;		/* offset of the container's header */
		uint16_t prev;		/* previous type in this sequence */
		unsigned int count;	/* occurrences of prev */
	} lvl[3];
	char where[64];
};

void cpns_enc_init(struct cpns_enc *enc, uint8_t *buf, size_t cap,
		   uint8_t msg_type);
void cpns_enc_init_seq(struct cpns_enc *enc, uint8_t *buf, size_t cap,
		       const struct cpns_tlv_schema *schema);
void cpns_enc_put(struct cpns_enc *enc, uint16_t type, const void *value,
		  size_t len);
void cpns_enc_u8(struct cpns_enc *enc, uint16_t type, uint8_t v);
void cpns_enc_u32(struct cpns_enc *enc, uint16_t type, uint32_t v);
void cpns_enc_u64(struct cpns_enc *enc, uint16_t type, uint64_t v);
void cpns_enc_begin(struct cpns_enc *enc, uint16_t type);
void cpns_enc_end(struct cpns_enc *enc);
int cpns_enc_finish(struct cpns_enc *enc, size_t *len, struct cpns_err *err);

int cpns_msg_encode(const struct cpns_msg *msg, uint8_t *buf, size_t cap,
		    size_t *len, struct cpns_err *err);

#endif /* CPNS_TLV_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * Handshake message codec, PROTOCOL.md section 4. The schemas below are
 * the message definitions of sections 5.2, 6.2, 9.3, 10.1 and 4.8 and the
 * container table of 4.4; the decoder walks them in the order of 4.2.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cpns_tlv.h"

#define CPNS_F_M	0x1	/* mandatory */
#define CPNS_F_R	0x2	/* repeatable */

struct cpns_schema_ent {
	uint16_t type;
	uint8_t flags;
	uint8_t max_count;	/* section 4.10, enforced when encoding */
};

struct cpns_tlv_schema {
	const char *name;
	const struct cpns_schema_ent *ent;
	unsigned int n;
};

struct cpns_tlv_def {
	uint16_t type;
	uint16_t min;
	uint16_t max;
	const char *name;
	const struct cpns_tlv_schema *container;
};

struct cpns_msg_def {
	uint8_t code;
	uint8_t prot;
	const char *name;
	struct cpns_tlv_schema schema;
};

#define M(t)		{ CPNS_TLV_##t, CPNS_F_M, 1 }
#define O(t)		{ CPNS_TLV_##t, 0, 1 }
#define MR(t, n)	{ CPNS_TLV_##t, CPNS_F_M | CPNS_F_R, n }
#define OR(t, n)	{ CPNS_TLV_##t, CPNS_F_R, n }
#define SCHEMA(name, ...)						\
	{ name, (const struct cpns_schema_ent[]){ __VA_ARGS__ },	\
	  sizeof((const struct cpns_schema_ent[]){ __VA_ARGS__ }) /	\
		  sizeof(struct cpns_schema_ent) }

/* ---- containers (section 4.4) ----------------------------------------- */

static const struct cpns_tlv_schema cpns_schema_hello =
	SCHEMA("HELLO", M(KID), M(PNE_ID), M(RAND_PNE), M(HELLO_FLAGS),
	       O(KEYSHARE_PNE), O(CAPS));
static const struct cpns_tlv_schema cpns_schema_auth_elem =
	SCHEMA("AUTH_ELEM", O(GENERATION), O(KID), O(EXPIRY), M(STATUS),
	       M(PNE_ID), O(KEYSHARE_S), O(WRAPPED_LK_PNE), O(WRAPPED_LK_GW));
static const struct cpns_tlv_schema cpns_schema_auth_resp =
	SCHEMA("AUTH_RESP", M(STATUS), M(PNE_ID), O(HASH_PNE));
static const struct cpns_tlv_schema cpns_schema_result =
	SCHEMA("RESULT", M(STATUS), M(PNE_ID), O(HASH_SRV_PNE));
static const struct cpns_tlv_schema cpns_schema_inventory =
	SCHEMA("INVENTORY", OR(MEMBER, 33));
static const struct cpns_tlv_schema cpns_schema_member =
	SCHEMA("MEMBER", M(ENTITY_ID), M(ROLE), O(CAPS));
static const struct cpns_tlv_schema cpns_schema_targets =
	SCHEMA("TARGETS", MR(PNE_ID, 31));

/* Transfer blob body, section 10.5. */
const struct cpns_tlv_schema cpns_schema_blob_body =
	SCHEMA("blob body", M(EXPIRY), M(ENTITY_ID), M(GW_ID), M(DEVICE_ID),
	       M(DEVICE_KEY), O(SERVER_ADDR));

/* ---- TLV types (section 4.4), ascending ------------------------------- */

#define T(t, lo, hi)	{ CPNS_TLV_##t, lo, hi, #t, NULL }
#define C(t, lo, hi, s)	{ CPNS_TLV_##t, lo, hi, #t, &s }

static const struct cpns_tlv_def cpns_tlv_defs[] = {
	T(XID, 8, 8),
	T(INITIATOR_ID, 16, 16),
	T(RESPONDER_ID, 16, 16),
	T(RAND_I, 32, 32),
	T(RAND_R, 32, 32),
	T(SUITES, 1, 8),
	T(SUITE, 1, 1),
	T(MODE, 1, 1),
	T(KEYSHARE_I, 32, 32),
	T(KEYSHARE_R, 32, 32),
	T(GENERATION, 1, 1),
	T(PREV_GEN, 1, 1),
	T(HASH_I, 32, 32),
	T(HASH_R, 32, 32),
	T(BINDING, 32, 32),
	T(PSK_KIND, 1, 1),
	T(KID, 4, 4),
	T(EXPIRY, 8, 8),
	T(WRAPPED_KEY, 48, 48),
	T(STATUS, 1, 1),
	T(REASON, 1, 1),
	T(MSG_REF, 1, 1),
	T(ENTITY_ID, 16, 16),
	T(DIAG, 0, 256),
	T(USER_ID, 1, 64),
	T(GW_ID, 16, 16),
	T(SALT, 16, 16),
	T(SCRYPT_PARAMS, 9, 9),
	T(SHARE_P, 65, 65),
	T(SHARE_V, 65, 65),
	T(CONFIRM_V, 32, 32),
	T(CONFIRM_P, 32, 32),
	T(PN_ID, 16, 16),
	C(HELLO, 1, 480, cpns_schema_hello),
	T(PNE_ID, 16, 16),
	T(RAND_PNE, 32, 32),
	T(HELLO_FLAGS, 1, 1),
	T(KEYSHARE_PNE, 32, 32),
	T(RAND_S, 32, 32),
	C(AUTH_ELEM, 1, 256, cpns_schema_auth_elem),
	T(KEYSHARE_S, 32, 32),
	T(WRAPPED_LK_PNE, 48, 48),
	T(WRAPPED_LK_GW, 48, 48),
	T(HASH_PNE, 32, 32),
	C(RESULT, 1, 96, cpns_schema_result),
	T(HASH_SRV_PNE, 32, 32),
	C(INVENTORY, 0, 12804, cpns_schema_inventory),
	C(MEMBER, 1, 384, cpns_schema_member),
	T(ROLE, 1, 1),
	T(CAPS, 0, 256),
	C(TARGETS, 20, 620, cpns_schema_targets),
	T(PN_NAME, 0, 64),
	C(AUTH_RESP, 1, 96, cpns_schema_auth_resp),
	T(SEED_ID, 16, 16),
	T(WRAPPED_SEED, 48, 48),
	T(CHALLENGE, 32, 32),
	T(DEVICE_ID, 16, 16),
	T(GW1_VERIFY, 32, 32),
	T(SRV_VERIFY, 32, 32),
	T(ENROL_CONFIRM, 32, 32),
	T(SEED_CONFIRM, 32, 32),
	T(DEVICE_KEY, 32, 32),
	T(SERVER_ADDR, 1, 255),
};

/* ---- messages (sections 4.3, 4.8, 5.2, 6.2, 9.3, 10.1) ---------------- */

#define P0	CPNS_PROT_SUITE0
#define PP	CPNS_PROT_PROTECTED
#define MSG(code, prot, name, ...) \
	{ code, prot, name, SCHEMA(name, __VA_ARGS__) }

static const struct cpns_msg_def cpns_msg_defs[] = {
	MSG(0x01, P0, "ConnectRequest", M(XID), M(INITIATOR_ID),
	    M(RESPONDER_ID), M(RAND_I), M(SUITES), M(MODE), O(KEYSHARE_I),
	    M(PREV_GEN), O(BINDING), M(PSK_KIND), M(KID)),
	MSG(0x02, P0, "AuthRequest", M(XID), M(INITIATOR_ID), M(RESPONDER_ID),
	    M(RAND_R), M(SUITE), M(MODE), O(KEYSHARE_R), M(GENERATION)),
	MSG(0x03, P0, "AuthResponse", M(XID), M(INITIATOR_ID), M(HASH_I)),
	MSG(0x04, P0, "ServerAuthResponse", M(XID), M(HASH_R)),
	MSG(0x0e, P0 | PP, "Ack", M(XID), M(MSG_REF)),
	MSG(0x0f, P0 | PP, "Abort", M(XID), M(REASON), O(MSG_REF), O(DIAG)),
	MSG(0x10, P0, "KeyRequest1", M(XID), M(USER_ID), M(GW_ID)),
	MSG(0x11, P0, "KeyChallenge", M(XID), M(SALT), M(SCRYPT_PARAMS)),
	MSG(0x12, P0, "KeyRequest2", M(XID), M(SHARE_P)),
	MSG(0x13, P0, "KeyDelivery", M(XID), O(KID), O(EXPIRY),
	    O(WRAPPED_KEY), M(STATUS), O(SHARE_V), O(CONFIRM_V)),
	MSG(0x14, P0, "KeyConfirm", M(XID), M(CONFIRM_P)),
	MSG(0x20, P0 | PP, "PNSetupRequest", M(XID), O(PN_ID), M(HELLO),
	    O(TARGETS), O(PN_NAME)),
	MSG(0x21, P0 | PP, "PNSetupNotify", M(XID), O(PN_ID), O(PN_NAME)),
	MSG(0x22, P0 | PP, "NotifyResponse", M(XID), M(STATUS), O(HELLO)),
	MSG(0x23, PP, "PNRegistrationRequest", M(XID), O(PN_ID),
	    MR(HELLO, 32), O(PN_NAME)),
	MSG(0x24, PP, "PNAuthRequest", M(XID), M(PN_ID), M(RAND_S),
	    MR(AUTH_ELEM, 32)),
	MSG(0x25, P0 | PP, "PNAuthRequestRelay", M(XID), M(PN_ID), M(RAND_S),
	    M(AUTH_ELEM)),
	MSG(0x26, P0 | PP, "PNAuthResponse", M(XID), M(PNE_ID), M(HASH_PNE)),
	MSG(0x27, PP, "PNAuthResponseRelay", M(XID), M(PN_ID),
	    MR(AUTH_RESP, 32)),
	MSG(0x28, PP, "PNRegistrationResponse", M(XID), M(STATUS), M(PN_ID),
	    MR(RESULT, 32), O(INVENTORY)),
	MSG(0x29, P0 | PP, "PNSetupResponse", M(XID), M(STATUS), M(PN_ID),
	    MR(RESULT, 32), O(INVENTORY)),
	MSG(0x2a, P0 | PP, "PNEstablishmentNotify", M(XID), M(STATUS),
	    M(PN_ID), MR(RESULT, 32), O(INVENTORY)),
	MSG(0x30, PP, "KeySeedRequest", M(XID)),
	MSG(0x31, PP, "KeySeedResponse", M(XID), M(EXPIRY), M(SEED_ID),
	    M(WRAPPED_SEED)),
	MSG(0x32, PP, "KeySeedConfirm", M(XID), M(SEED_ID), M(SEED_CONFIRM)),
	MSG(0x33, PP, "DeviceKeyRequest", M(XID), M(SEED_ID)),
	MSG(0x34, PP, "DeviceChallenge", M(XID), M(EXPIRY), M(SEED_ID),
	    M(CHALLENGE)),
	MSG(0x35, PP, "DeviceKeyConfirm", M(XID), M(SEED_ID), M(DEVICE_ID),
	    M(GW1_VERIFY)),
	MSG(0x36, PP, "DeviceKeyAccept", M(XID), M(EXPIRY), M(STATUS),
	    M(DEVICE_ID), M(SRV_VERIFY)),
	MSG(0x37, PP, "EnrolRequest", M(XID), M(ENTITY_ID), M(DEVICE_ID)),
	MSG(0x38, PP, "EnrolKeyAssign", M(XID), M(KID), M(EXPIRY),
	    M(WRAPPED_KEY), M(ENTITY_ID)),
	MSG(0x39, PP, "EnrolConfirm", M(XID), M(ENROL_CONFIRM)),
};

static const char *const cpns_reason_names[] = {
	[CPNS_REASON_MALFORMED] = "MALFORMED",
	[CPNS_REASON_UNSUPPORTED_CRITICAL] = "UNSUPPORTED_CRITICAL",
	[CPNS_REASON_MISSING_TLV] = "MISSING_TLV",
	[CPNS_REASON_UNEXPECTED_MESSAGE] = "UNEXPECTED_MESSAGE",
	[CPNS_REASON_BAD_IDENTITY] = "BAD_IDENTITY",
	[CPNS_REASON_NOT_AUTHORIZED] = "NOT_AUTHORIZED",
	[CPNS_REASON_AUTH_FAILED] = "AUTH_FAILED",
	[CPNS_REASON_NO_COMMON_SUITE] = "NO_COMMON_SUITE",
	[CPNS_REASON_DHE_REQUIRED] = "DHE_REQUIRED",
	[CPNS_REASON_BAD_KEYSHARE] = "BAD_KEYSHARE",
	[CPNS_REASON_RATE_LIMITED] = "RATE_LIMITED",
	[CPNS_REASON_REFUSED] = "REFUSED",
	[CPNS_REASON_UNKNOWN_KEY] = "UNKNOWN_KEY",
	[CPNS_REASON_BINDING_MISMATCH] = "BINDING_MISMATCH",
	[CPNS_REASON_CHALLENGE_INVALID] = "CHALLENGE_INVALID",
	[CPNS_REASON_GENERATION_CONFLICT] = "GENERATION_CONFLICT",
	[CPNS_REASON_INTERNAL_ERROR] = "INTERNAL_ERROR",
	[CPNS_REASON_RESOURCE_LIMIT] = "RESOURCE_LIMIT",
};

static const char *const cpns_status_names[] = {
	[CPNS_STATUS_OK] = "OK",
	[CPNS_STATUS_REFUSED] = "REFUSED",
	[CPNS_STATUS_AUTH_FAILED] = "AUTH_FAILED",
	[CPNS_STATUS_UNKNOWN_ENTITY] = "UNKNOWN_ENTITY",
	[CPNS_STATUS_NOT_AUTHORIZED] = "NOT_AUTHORIZED",
	[CPNS_STATUS_NO_RESPONSE] = "NO_RESPONSE",
	[CPNS_STATUS_DHE_REQUIRED] = "DHE_REQUIRED",
	[CPNS_STATUS_DECLINED] = "DECLINED",
	[CPNS_STATUS_BAD_KEYSHARE] = "BAD_KEYSHARE",
};

#define CPNS_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const struct cpns_tlv_def *cpns_tlv_def(unsigned int type)
{
	size_t lo = 0, hi = CPNS_ARRAY_SIZE(cpns_tlv_defs), mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (cpns_tlv_defs[mid].type == type)
			return &cpns_tlv_defs[mid];
		if (cpns_tlv_defs[mid].type < type)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static const struct cpns_msg_def *cpns_msg_def(unsigned int code)
{
	size_t i;

	for (i = 0; i < CPNS_ARRAY_SIZE(cpns_msg_defs); i++)
		if (cpns_msg_defs[i].code == code)
			return &cpns_msg_defs[i];
	return NULL;
}

static int cpns_schema_find(const struct cpns_tlv_schema *s, unsigned int type)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (s->ent[i].type == type)
			return (int)i;
	return -1;
}

const char *cpns_msg_type_name(unsigned int msg_type)
{
	const struct cpns_msg_def *d = cpns_msg_def(msg_type);

	return d ? d->name : NULL;
}

const char *cpns_tlv_type_name(unsigned int type)
{
	const struct cpns_tlv_def *d = cpns_tlv_def(type);

	return d ? d->name : NULL;
}

const char *cpns_reason_name(unsigned int reason)
{
	return reason < CPNS_ARRAY_SIZE(cpns_reason_names) ?
		       cpns_reason_names[reason] : NULL;
}

const char *cpns_status_name(unsigned int status)
{
	return status < CPNS_ARRAY_SIZE(cpns_status_names) ?
		       cpns_status_names[status] : NULL;
}

/**
 * cpns_msg_protection() - the protections a message type may arrive with
 * @msg_type: message type
 *
 * Return: CPNS_PROT_SUITE0 and/or CPNS_PROT_PROTECTED (section 4.3), 0 for
 * an unknown type. A message received otherwise is dropped silently.
 */
unsigned int cpns_msg_protection(unsigned int msg_type)
{
	const struct cpns_msg_def *d = cpns_msg_def(msg_type);

	return d ? d->prot : 0;
}

/* ---- decoding (section 4.2) ------------------------------------------- */

static uint16_t cpns_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

struct cpns_dec {
	struct cpns_msg *msg;	/* NULL: validate only */
	const uint8_t *base;	/* for offsets in messages */
	struct cpns_err *err;
};

static int cpns_dec_fail(struct cpns_dec *d, int reason, const char *step,
			 const struct cpns_tlv_schema *s, const uint8_t *at,
			 unsigned int type, const char *what)
{
	const char *name = cpns_tlv_type_name(type);

	if (d->err) {
		d->err->code = -EBADMSG;
		snprintf(d->err->msg, sizeof(d->err->msg),
			 "%s: step %s, %s: TLV 0x%04x%s%s%s at offset %td: %s",
			 cpns_reason_name((unsigned int)reason), step, s->name,
			 type, name ? " (" : "", name ? name : "",
			 name ? ")" : "", at - d->base, what);
	}
	return reason;
}

/*
 * Steps 1-3 of 4.2 for one TLV sequence against @s. Returns 0 or the
 * reason of the first failing check; a container's failure (2g) is the
 * result for the whole sequence.
 */
static int cpns_decode_seq(struct cpns_dec *d, const struct cpns_tlv_schema *s,
			   const uint8_t *buf, size_t len, unsigned int parent)
{
	const struct cpns_tlv_def *def;
	uint32_t seen = 0;
	unsigned int prev = 0, type, idx;
	size_t pos, vlen;
	unsigned int i;
	int e, ret;

	/* Step 1: framing, headers only. */
	for (pos = 0; pos < len; pos += CPNS_TLV_HDR_LEN + vlen) {
		if (len - pos < CPNS_TLV_HDR_LEN)
			return cpns_dec_fail(d, CPNS_REASON_MALFORMED, "1", s,
					     buf + pos, 0,
					     "TLV header runs past the end");
		vlen = cpns_be16(buf + pos + 2);
		if (vlen > len - pos - CPNS_TLV_HDR_LEN)
			return cpns_dec_fail(d, CPNS_REASON_MALFORMED, "1", s,
					     buf + pos, cpns_be16(buf + pos),
					     "value runs past the end");
	}

	/* Step 2: walk. */
	for (pos = 0; pos < len; pos += CPNS_TLV_HDR_LEN + vlen, prev = type) {
		const uint8_t *at = buf + pos;

		type = cpns_be16(at);
		vlen = cpns_be16(at + 2);
		if (!type)
			return cpns_dec_fail(d, CPNS_REASON_MALFORMED, "2a", s,
					     at, type, "type 0");
		if (type < prev)
			return cpns_dec_fail(d, CPNS_REASON_MALFORMED, "2b", s,
					     at, type, "types not ascending");
		e = cpns_schema_find(s, type);
		if (type == prev && (e < 0 || !(s->ent[e].flags & CPNS_F_R)))
			return cpns_dec_fail(d, CPNS_REASON_MALFORMED, "2c", s,
					     at, type, "duplicate");
		def = cpns_tlv_def(type);
		if (!def && !(type & CPNS_TLV_IGNORABLE))
			return cpns_dec_fail(d,
					     CPNS_REASON_UNSUPPORTED_CRITICAL,
					     "2d", s, at, type,
					     "unknown critical type");
		if (def && e < 0)
			return cpns_dec_fail(d, CPNS_REASON_MALFORMED, "2e", s,
					     at, type, "not allowed here");
		if (def && (vlen < def->min || vlen > def->max))
			return cpns_dec_fail(d, CPNS_REASON_MALFORMED, "2f", s,
					     at, type, "length out of range");

		idx = 0;
		if (d->msg) {
			struct cpns_tlv *t;

			/* each TLV owns >= 4 bytes, so this cannot overflow */
			if (d->msg->n_tlv >= CPNS_MSG_MAX_TLVS)
				return cpns_dec_fail(d, CPNS_REASON_MALFORMED,
						     "2", s, at, type,
						     "too many TLVs");
			idx = d->msg->n_tlv++;
			t = &d->msg->tlv[idx];
			t->value = at + CPNS_TLV_HDR_LEN;
			t->type = (uint16_t)type;
			t->len = (uint16_t)vlen;
			t->parent = (uint16_t)parent;
			t->unknown = !def;
		}
		if (!def)
			continue;	/* 2d: ignorable, skipped */
		seen |= 1u << e;
		if (def->container) {
			/* 2g */
			ret = cpns_decode_seq(d, def->container,
					      at + CPNS_TLV_HDR_LEN, vlen,
					      idx + 1);
			if (ret)
				return ret;
		}
	}

	/* Step 3: completeness. */
	for (i = 0; i < s->n; i++)
		if ((s->ent[i].flags & CPNS_F_M) && !(seen & (1u << i)))
			return cpns_dec_fail(d, CPNS_REASON_MISSING_TLV, "3", s,
					     buf + len, s->ent[i].type,
					     "mandatory TLV missing");
	return 0;
}

static void cpns_msg_reset(struct cpns_msg *msg, const uint8_t *buf,
			   size_t len)
{
	if (!msg)
		return;
	msg->schema = NULL;
	msg->has_type = false;
	msg->msg_type = 0;
	msg->raw = buf;
	msg->raw_len = len;
	msg->xid = NULL;
	msg->n_tlv = 0;
}

/**
 * cpns_msg_decode() - decode a handshake message (PROTOCOL.md 4.2)
 * @buf: the record payload, msg_type byte onward
 * @len: its length
 * @msg: decoded message, or NULL to validate only; it points into @buf
 * @err: description of the failure, or NULL
 *
 * Return: 0 if the message decodes; CPNS_DECODE_DROP if it fails step 0
 * (drop silently); otherwise the Abort reason (CPNS_REASON_MALFORMED,
 * CPNS_REASON_UNSUPPORTED_CRITICAL or CPNS_REASON_MISSING_TLV), with
 * @msg->xid and @msg->msg_type set for the Abort.
 */
int cpns_msg_decode(const uint8_t *buf, size_t len, struct cpns_msg *msg,
		    struct cpns_err *err)
{
	struct cpns_dec d = { msg, buf, err };
	const struct cpns_msg_def *def;

	cpns_msg_reset(msg, buf, len);
	/* Step 0: attribution. */
	if (!len) {
		cpns_err_set(err, -EBADMSG, "dropped: empty payload");
		return CPNS_DECODE_DROP;
	}
	def = cpns_msg_def(buf[0]);
	if (!def) {
		cpns_err_set(err, -EBADMSG,
			     "dropped: unknown msg_type 0x%02x", buf[0]);
		return CPNS_DECODE_DROP;
	}
	if (len < CPNS_MSG_MIN_LEN || cpns_be16(buf + 1) != CPNS_TLV_XID ||
	    cpns_be16(buf + 3) != CPNS_XID_LEN) {
		cpns_err_set(err, -EBADMSG,
			     "dropped: %s does not start with a well-formed XID",
			     def->name);
		return CPNS_DECODE_DROP;
	}
	if (msg) {
		msg->schema = &def->schema;
		msg->has_type = true;
		msg->msg_type = buf[0];
		msg->xid = buf + 1 + CPNS_TLV_HDR_LEN;
	}
	if (len > CPNS_MSG_MAX_LEN)
		return cpns_dec_fail(&d, CPNS_REASON_MALFORMED, "1",
				     &def->schema, buf + CPNS_MSG_MAX_LEN, 0,
				     "message longer than 16384 bytes");
	return cpns_decode_seq(&d, &def->schema, buf + 1, len - 1, 0);
}

/**
 * cpns_tlv_decode_seq() - decode a bare TLV sequence (steps 1-3 of 4.2)
 * @schema: e.g. &cpns_schema_blob_body
 * @buf: the sequence
 * @len: its length, at most 16384
 * @msg: decoded TLVs, or NULL to validate only
 * @err: description of the failure, or NULL
 *
 * Return: 0 or the reason, as for cpns_msg_decode().
 */
int cpns_tlv_decode_seq(const struct cpns_tlv_schema *schema,
			const uint8_t *buf, size_t len, struct cpns_msg *msg,
			struct cpns_err *err)
{
	struct cpns_dec d = { msg, buf, err };

	cpns_msg_reset(msg, buf, len);
	if (msg)
		msg->schema = schema;
	if (len > CPNS_MSG_MAX_LEN)
		return cpns_dec_fail(&d, CPNS_REASON_MALFORMED, "1", schema,
				     buf + CPNS_MSG_MAX_LEN, 0,
				     "sequence longer than 16384 bytes");
	return cpns_decode_seq(&d, schema, buf, len, 0);
}

/**
 * cpns_msg_next() - next TLV of a type within one sequence
 * @msg: decoded message
 * @parent: the container TLV, or NULL for the top level
 * @prev: the previous match, or NULL to start
 * @type: TLV type
 *
 * Return: the TLV or NULL.
 */
const struct cpns_tlv *cpns_msg_next(const struct cpns_msg *msg,
				     const struct cpns_tlv *parent,
				     const struct cpns_tlv *prev,
				     uint16_t type)
{
	unsigned int pidx = parent ? (unsigned int)(parent - msg->tlv) + 1 : 0;
	unsigned int i = prev ? (unsigned int)(prev - msg->tlv) + 1 : pidx;

	for (; i < msg->n_tlv; i++)
		if (msg->tlv[i].parent == pidx && msg->tlv[i].type == type)
			return &msg->tlv[i];
	return NULL;
}

const struct cpns_tlv *cpns_msg_find(const struct cpns_msg *msg,
				     const struct cpns_tlv *parent,
				     uint16_t type)
{
	return cpns_msg_next(msg, parent, NULL, type);
}

/* ---- encoding --------------------------------------------------------- */

static void cpns_enc_fail(struct cpns_enc *enc, int error, unsigned int type,
			  const char *what)
{
	if (enc->error)
		return;
	enc->error = error;
	snprintf(enc->where, sizeof(enc->where), "TLV 0x%04x: %s", type, what);
}

static void cpns_enc_start(struct cpns_enc *enc, uint8_t *buf, size_t cap,
			   const struct cpns_tlv_schema *schema)
{
	memset(enc, 0, sizeof(*enc));
	enc->buf = buf;
	enc->cap = cap < CPNS_MSG_MAX_LEN ? cap : CPNS_MSG_MAX_LEN;
	enc->lvl[0].schema = schema;
}

/**
 * cpns_enc_init() - start encoding a handshake message
 * @enc: encoder
 * @buf: output buffer
 * @cap: its size (the output never exceeds 16384 bytes)
 * @msg_type: the message type; an unknown type fails at cpns_enc_finish()
 */
void cpns_enc_init(struct cpns_enc *enc, uint8_t *buf, size_t cap,
		   uint8_t msg_type)
{
	const struct cpns_msg_def *def = cpns_msg_def(msg_type);

	cpns_enc_start(enc, buf, cap, def ? &def->schema : NULL);
	enc->has_type = true;
	if (!def)
		cpns_enc_fail(enc, -EINVAL, 0, "unknown msg_type");
	else if (!cap)
		cpns_enc_fail(enc, -ENOSPC, 0, "no space");
	else
		buf[enc->len++] = msg_type;
}

void cpns_enc_init_seq(struct cpns_enc *enc, uint8_t *buf, size_t cap,
		       const struct cpns_tlv_schema *schema)
{
	cpns_enc_start(enc, buf, cap, schema);
}

/* Checks shared by values and containers; returns the TLV definition. */
static bool cpns_enc_check(struct cpns_enc *enc, uint16_t type,
			   const struct cpns_tlv_def **defp)
{
	const struct cpns_tlv_schema *s = enc->lvl[enc->depth].schema;
	const struct cpns_tlv_def *def = cpns_tlv_def(type);
	unsigned int prev = enc->lvl[enc->depth].prev;
	int e;

	if (enc->error)
		return false;
	e = cpns_schema_find(s, type);
	if (!type) {
		cpns_enc_fail(enc, -EINVAL, type, "type 0");
	} else if (type < prev) {
		cpns_enc_fail(enc, -EINVAL, type, "not in ascending order");
	} else if (type == prev && (e < 0 || !(s->ent[e].flags & CPNS_F_R))) {
		cpns_enc_fail(enc, -EINVAL, type, "duplicate");
	} else if (!def && !(type & CPNS_TLV_IGNORABLE)) {
		cpns_enc_fail(enc, -EINVAL, type, "unknown critical type");
	} else if (def && e < 0) {
		cpns_enc_fail(enc, -EINVAL, type, "not allowed here");
	} else if (e >= 0 && type == prev &&
		   enc->lvl[enc->depth].count >= s->ent[e].max_count) {
		cpns_enc_fail(enc, -E2BIG, type, "too many occurrences");
	} else if (enc->len + CPNS_TLV_HDR_LEN > enc->cap) {
		cpns_enc_fail(enc, -ENOSPC, type, "no space");
	} else {
		*defp = def;
		if (type == prev)
			enc->lvl[enc->depth].count++;
		else
			enc->lvl[enc->depth].count = 1;
		enc->lvl[enc->depth].prev = type;
		return true;
	}
	return false;
}

static void cpns_enc_hdr(struct cpns_enc *enc, uint16_t type, size_t len)
{
	uint8_t *p = enc->buf + enc->len;

	p[0] = type >> 8;
	p[1] = type & 0xff;
	p[2] = (len >> 8) & 0xff;
	p[3] = len & 0xff;
	enc->len += CPNS_TLV_HDR_LEN;
}

/**
 * cpns_enc_put() - append a value TLV
 * @enc: encoder
 * @type: TLV type (not a container)
 * @value: value bytes
 * @len: value length, within the type's range
 */
void cpns_enc_put(struct cpns_enc *enc, uint16_t type, const void *value,
		  size_t len)
{
	const struct cpns_tlv_def *def = NULL;

	if (!cpns_enc_check(enc, type, &def))
		return;
	if (def && def->container)
		return cpns_enc_fail(enc, -EINVAL, type,
				     "container: use cpns_enc_begin()");
	if (def && (len < def->min || len > def->max))
		return cpns_enc_fail(enc, -EINVAL, type, "length out of range");
	if (len > 0xffff || len > enc->cap - enc->len - CPNS_TLV_HDR_LEN)
		return cpns_enc_fail(enc, -ENOSPC, type, "no space");
	cpns_enc_hdr(enc, type, len);
	if (len)
		memcpy(enc->buf + enc->len, value, len);
	enc->len += len;
}

void cpns_enc_u8(struct cpns_enc *enc, uint16_t type, uint8_t v)
{
	cpns_enc_put(enc, type, &v, 1);
}

void cpns_enc_u32(struct cpns_enc *enc, uint16_t type, uint32_t v)
{
	uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

	cpns_enc_put(enc, type, b, sizeof(b));
}

void cpns_enc_u64(struct cpns_enc *enc, uint16_t type, uint64_t v)
{
	uint8_t b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = v >> (56 - 8 * i);
	cpns_enc_put(enc, type, b, sizeof(b));
}

/**
 * cpns_enc_begin() - open a container TLV; close it with cpns_enc_end()
 * @enc: encoder
 * @type: a container type of section 4.4
 */
void cpns_enc_begin(struct cpns_enc *enc, uint16_t type)
{
	const struct cpns_tlv_def *def = NULL;

	if (!cpns_enc_check(enc, type, &def))
		return;
	if (!def || !def->container)
		return cpns_enc_fail(enc, -EINVAL, type, "not a container");
	if (enc->depth + 1 >= CPNS_ARRAY_SIZE(enc->lvl))
		return cpns_enc_fail(enc, -EINVAL, type, "nested too deep");
	enc->depth++;
	enc->lvl[enc->depth].schema = def->container;
	enc->lvl[enc->depth].start = enc->len;
	enc->lvl[enc->depth].prev = 0;
	enc->lvl[enc->depth].count = 0;
	cpns_enc_hdr(enc, type, 0);
}

void cpns_enc_end(struct cpns_enc *enc)
{
	size_t start, len;
	unsigned int type;
	const struct cpns_tlv_def *def;

	if (enc->error)
		return;
	if (!enc->depth)
		return cpns_enc_fail(enc, -EINVAL, 0, "no open container");
	start = enc->lvl[enc->depth].start;
	type = cpns_be16(enc->buf + start);
	def = cpns_tlv_def(type);
	len = enc->len - start - CPNS_TLV_HDR_LEN;
	if (len < def->min || len > def->max)
		return cpns_enc_fail(enc, -E2BIG, type,
				     "container length out of range");
	enc->buf[start + 2] = len >> 8;
	enc->buf[start + 3] = len & 0xff;
	enc->depth--;
}

/**
 * cpns_enc_finish() - complete a message
 * @enc: encoder
 * @len: message length
 * @err: description of the first error, or NULL
 *
 * Return: 0, or a negative errno if any call failed, a container is still
 * open, or the result does not decode (e.g. a mandatory TLV is missing).
 */
int cpns_enc_finish(struct cpns_enc *enc, size_t *len, struct cpns_err *err)
{
	int ret;

	if (!enc->error && enc->depth)
		cpns_enc_fail(enc, -EINVAL, 0, "container not closed");
	if (enc->error)
		return cpns_err_set(err, enc->error, "encoding: %s",
				    enc->where);
	if (enc->has_type)
		ret = cpns_msg_decode(enc->buf, enc->len, NULL, err);
	else
		ret = cpns_tlv_decode_seq(enc->lvl[0].schema, enc->buf,
					  enc->len, NULL, err);
	if (ret) {
		if (err)
			err->code = -EINVAL;
		return -EINVAL;
	}
	*len = enc->len;
	return 0;
}

/**
 * cpns_msg_encode() - encode a decoded message again
 * @msg: a message from cpns_msg_decode() or cpns_tlv_decode_seq()
 * @buf: output
 * @cap: its size
 * @len: output length
 * @err: description of a failure, or NULL
 *
 * For any message that decodes, the output equals the decoded bytes.
 *
 * Return: 0 or a negative errno.
 */
int cpns_msg_encode(const struct cpns_msg *msg, uint8_t *buf, size_t cap,
		    size_t *len, struct cpns_err *err)
{
	unsigned int open[3] = { 0 }, depth = 0, i;
	struct cpns_enc enc;

	if (msg->has_type)
		cpns_enc_init(&enc, buf, cap, msg->msg_type);
	else
		cpns_enc_init_seq(&enc, buf, cap, msg->schema);
	for (i = 0; i < msg->n_tlv; i++) {
		const struct cpns_tlv *t = &msg->tlv[i];
		const struct cpns_tlv_def *def = cpns_tlv_def(t->type);

		while (depth && open[depth] != t->parent) {
			cpns_enc_end(&enc);
			depth--;
		}
		if (!t->unknown && def && def->container) {
			cpns_enc_begin(&enc, t->type);
			if (depth + 1 < CPNS_ARRAY_SIZE(open))
				open[++depth] = i + 1;
		} else {
			cpns_enc_put(&enc, t->type, t->value, t->len);
		}
	}
	while (depth--)
		cpns_enc_end(&enc);
	return cpns_enc_finish(&enc, len, err);
}

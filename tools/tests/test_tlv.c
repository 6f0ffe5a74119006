// SPDX-License-Identifier: GPL-2.0
/*
 * Handshake message codec: handshake_negative.json (decoding order and
 * reasons of PROTOCOL.md 4.2), byte-identical round trips of every
 * message in the vectors, and encoder refusals.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpns_crypto.h"
#include "cpns_tlv.h"
#include "tap.h"
#include "vec.h"

static struct cpns_msg *msg;
static uint8_t out[CPNS_MSG_MAX_LEN];

static const char *result_name(int r)
{
	if (r == CPNS_DECODE_DROP)
		return "drop";
	if (!r)
		return "ok";
	return cpns_reason_name((unsigned int)r);
}

static int reason_by_name(const char *name)
{
	unsigned int i;

	for (i = 1; cpns_reason_name(i); i++)
		if (!strcmp(cpns_reason_name(i), name))
			return (int)i;
	return 0;
}

static const uint8_t *tlv_val(const struct cpns_msg *m, uint16_t type,
			      size_t len)
{
	const struct cpns_tlv *t = cpns_msg_find(m, NULL, type);

	return t && t->len == len ? t->value : NULL;
}

/*
 * The message-only checks of PROTOCOL.md 5.5 (steps 2-5) on a decoded
 * ConnectRequest; the later steps need the responder's key store and
 * policy and belong to the handshake code.
 */
static int m1_checks(const struct cpns_msg *m, const uint8_t *src,
		     const uint8_t *dst, const uint8_t *self)
{
	const uint8_t *ini = tlv_val(m, CPNS_TLV_INITIATOR_ID, 16);
	const uint8_t *rsp = tlv_val(m, CPNS_TLV_RESPONDER_ID, 16);
	const struct cpns_tlv *suites = cpns_msg_find(m, NULL, CPNS_TLV_SUITES);
	uint8_t mode = *tlv_val(m, CPNS_TLV_MODE, 1);
	uint8_t kind = *tlv_val(m, CPNS_TLV_PSK_KIND, 1);
	bool ks = cpns_msg_find(m, NULL, CPNS_TLV_KEYSHARE_I);
	bool binding = cpns_msg_find(m, NULL, CPNS_TLV_BINDING);
	unsigned int i, j;

	if (memcmp(rsp, self, 16) || memcmp(dst, self, 16) ||
	    memcmp(ini, src, 16) || !memcmp(ini, rsp, 16))
		return CPNS_REASON_BAD_IDENTITY;
	for (i = 0; i < suites->len; i++) {
		if (!suites->value[i])
			return CPNS_REASON_MALFORMED;
		for (j = 0; j < i; j++)
			if (suites->value[i] == suites->value[j])
				return CPNS_REASON_MALFORMED;
	}
	if (mode != 1 && mode != 2)
		return CPNS_REASON_MALFORMED;
	if (mode == 2 && !ks)
		return CPNS_REASON_MISSING_TLV;
	if (mode == 1 && ks)
		return CPNS_REASON_MALFORMED;
	if (kind < 1 || kind > 3)
		return CPNS_REASON_MALFORMED;
	if (kind == 2 && !binding)
		return CPNS_REASON_MISSING_TLV;
	if (kind != 2 && binding)
		return CPNS_REASON_MALFORMED;
	return 0;
}

static void test_negative(void)
{
	struct json_object *v = vec_load("handshake_negative.json");
	struct json_object *cases = vec_get(v, "cases");
	struct json_object *m3c = vec_get(v, "m3_case");
	size_t i, l, n = json_object_array_length(cases);
	uint8_t *self = vec_hex(vec_get(v, "responder_setup"), "responder_id",
				&l);

	for (i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(cases, i);
		const char *name = vec_str(c, "name");
		const char *expect = vec_str(c, "expect");
		const char *abort_s = vec_str(c, "expect_abort");
		size_t ml;
		uint8_t *m = vec_hex(c, "message", &ml);
		uint8_t *src = vec_hex(c, "record_src", &l);
		uint8_t *dst = vec_hex(c, "record_dst", &l);
		struct cpns_err err = { 0 };
		int r = cpns_msg_decode(m, ml, msg, &err), want, chk;

		if (!strcmp(expect, "drop")) {
			tap_ok(r == CPNS_DECODE_DROP, "negative: %s: %s", name,
			       result_name(r));
		} else if (!strcmp(expect, "accept")) {
			tap_ok(!r && !m1_checks(msg, src, dst, self),
			       "negative: %s: decodes and passes 5.5 2-5 (%s)",
			       name, result_name(r));
		} else {
			want = reason_by_name(abort_s);
			chk = r ? -1 : m1_checks(msg, src, dst, self);
			if (r > 0)
				tap_ok(r == want && msg->xid &&
					       !memcmp(msg->xid, m + 5, 8),
				       "negative: %s: decoding aborts %s [%s]",
				       name, result_name(r), err.msg);
			else if (chk > 0)
				tap_ok(chk == want,
				       "negative: %s: decodes, 5.5 check gives %s",
				       name, cpns_reason_name((unsigned int)chk));
			else
				tap_ok(!r && want > CPNS_REASON_MISSING_TLV,
				       "negative: %s: decodes OK; %s is decided by the responder's later checks",
				       name, abort_s);
		}
		free(m);
		free(src);
		free(dst);
	}
	for (i = 0; i < 3; i++) {
		static const char *const keys[] = { "m1", "m2", "m3" };
		size_t ml;
		uint8_t *m = vec_hex(m3c, keys[i], &ml);

		tap_ok(!cpns_msg_decode(m, ml, msg, NULL),
		       "negative: m3_case %s decodes (AUTH_FAILED is decided by HASH_I)",
		       keys[i]);
		free(m);
	}
	free(self);
	json_object_put(v);
}

/* ---- round trips ------------------------------------------------------ */

static unsigned int n_roundtrip;

static void roundtrip(const char *file, const char *path, const char *hex)
{
	struct cpns_err err = { 0 };
	size_t ml, ol = 0;
	uint8_t *m = hex_decode(hex, &ml);
	int r;

	/* names beside the bytes ("message": "PNSetupRequest", "to": ...) */
	if (!m || !ml) {
		free(m);
		return;
	}
	r = cpns_msg_decode(m, ml, msg, &err);
	if (!r)
		r = cpns_msg_encode(msg, out, sizeof(out), &ol, &err);
	tap_ok(!r && ol == ml && !memcmp(out, m, ml),
	       "roundtrip: %s %s (%s, %zu bytes)%s%s", file, path,
	       cpns_msg_type_name(m[0]) ? cpns_msg_type_name(m[0]) : "?", ml,
	       r ? ": " : "", r ? err.msg : "");
	n_roundtrip++;
	free(m);
}

static bool is_msg_key(const char *key, const char *parent)
{
	static const char *const keys[] = {
		"bytes", "message", "confirm_ack", "KeyRequest1",
		"KeyChallenge",
	};
	size_t i;

	if (parent && !strcmp(parent, "messages"))
		return true;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i]))
			return true;
	return false;
}

/* Every handshake message anywhere in a vector file. */
static void walk(const char *file, struct json_object *o, const char *key,
		 const char *parent, char *path, size_t plen)
{
	size_t n = strlen(path), i;

	if (json_object_is_type(o, json_type_object)) {
		json_object_object_foreach(o, k, val) {
			snprintf(path + n, plen - n, ".%s", k);
			walk(file, val, k, key, path, plen);
		}
	} else if (json_object_is_type(o, json_type_array)) {
		for (i = 0; i < json_object_array_length(o); i++) {
			snprintf(path + n, plen - n, "[%zu]", i);
			walk(file, json_object_array_get_idx(o, i), key,
			     parent, path, plen);
		}
	} else if (json_object_is_type(o, json_type_string) && key &&
		   is_msg_key(key, parent)) {
		roundtrip(file, path, json_object_get_string(o));
	}
	path[n] = '\0';
}

static void test_roundtrips(void)
{
	static const char *const files[] = {
		"handshake_h.json", "procedure_a.json", "procedure_d.json",
		"procedure_e.json",
	};
	char path[512];
	size_t i;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		struct json_object *v = vec_load(files[i]);

		n_roundtrip = 0;
		path[0] = '\0';
		walk(files[i], vec_get(v, "cases"), NULL, NULL, path,
		     sizeof(path));
		if (!strcmp(files[i], "procedure_a.json")) {
			strcpy(path, "scrypt_negative");
			walk(files[i], vec_get(v, "scrypt_negative"), NULL,
			     NULL, path, sizeof(path));
		}
		tap_ok(n_roundtrip > 0, "roundtrip: %s: %u messages", files[i],
		       n_roundtrip);
		json_object_put(v);
	}
}

/* The transfer blob body is decoded by steps 1-3 against its own schema. */
static void test_blob_body(void)
{
	struct json_object *v = vec_load("procedure_e.json");
	struct json_object *c = json_object_array_get_idx(vec_get(v, "cases"), 0);
	size_t bl, ol = 0, body;
	uint8_t *blob = vec_hex(c, "blob", &bl);
	struct cpns_err err = { 0 };
	const struct cpns_tlv *dk;
	int r = -1;

	body = bl >= 12 ? (size_t)(blob[10] << 8 | blob[11]) : 0;
	if (bl == 44 + body)
		r = cpns_tlv_decode_seq(&cpns_schema_blob_body, blob + 12,
					body, msg, &err);
	if (!r)
		r = cpns_msg_encode(msg, out, sizeof(out), &ol, &err);
	tap_ok(!r && ol == body && !memcmp(out, blob + 12, body),
	       "blob body: decodes and re-encodes (%s)", err.msg);
	dk = r ? NULL : cpns_msg_find(msg, NULL, CPNS_TLV_DEVICE_KEY);
	tap_ok(dk && cpns_tlv_decode_seq(&cpns_schema_blob_body, blob + 12,
					 (size_t)(dk->value - 4 - (blob + 12)),
					 NULL, NULL) == CPNS_REASON_MISSING_TLV,
	       "blob body cut before DEVICE_KEY: MISSING_TLV");
	free(blob);
	json_object_put(v);
}

/* ---- hand-made decoder cases ------------------------------------------ */

static const uint8_t xid_hdr[] = { 0x00, 0x01, 0x00, 0x08, 1, 2, 3, 4,
				   5, 6, 7, 8 };

static int decode_with(uint8_t type, const uint8_t *tail, size_t tail_len)
{
	uint8_t buf[512];

	if (1 + sizeof(xid_hdr) + tail_len > sizeof(buf))
		tap_bail("decode_with: tail too long");
	buf[0] = type;
	memcpy(buf + 1, xid_hdr, sizeof(xid_hdr));
	memcpy(buf + 1 + sizeof(xid_hdr), tail, tail_len);
	return cpns_msg_decode(buf, 1 + sizeof(xid_hdr) + tail_len, msg, NULL);
}

static void test_decoder_cases(void)
{
	static const uint8_t none[1];
	/* Abort with an empty DIAG */
	static const uint8_t abort_ok[] = { 0x00, 0x15, 0x00, 0x01, 0x01,
					    0x00, 0x18, 0x00, 0x00 };
	/* HELLO lacking RAND_PNE: the container's MISSING_TLV */
	static const uint8_t hello_missing[] = {
		0x00, 0x31, 0x00, 0x21,
		0x00, 0x11, 0x00, 0x04, 0, 0, 0, 1,
		0x00, 0x32, 0x00, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
		12, 13, 14, 15, 16,
		0x00, 0x34, 0x00, 0x01, 0x01,
	};
	/* container failure is reported before a later top-level error */
	static const uint8_t inner_trunc[] = {
		0x00, 0x14, 0x00, 0x01, 0x00,	/* STATUS OK */
		0x00, 0x31, 0x00, 0x05,		/* HELLO, 5 bytes */
		0x00, 0x11, 0x00, 0x04, 0x00,	/* KID header, value cut */
		0x01, 0x00, 0x00, 0x00,		/* unknown critical */
	};
	/* unknown critical type inside a MEMBER inside INVENTORY */
	static const uint8_t nested_crit[] = {
		0x00, 0x14, 0x00, 0x01, 0x00,
		0x00, 0x30, 0x00, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
		13, 14, 15, 16,
		0x00, 0x3c, 0x00, 0x19,
		0x00, 0x14, 0x00, 0x01, 0x00,
		0x00, 0x32, 0x00, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
		13, 14, 15, 16,
		0x00, 0x3e, 0x00, 0x0c,
		0x00, 0x3f, 0x00, 0x08,
		0x00, 0x17, 0x00, 0x00,		/* ENTITY_ID of length 0 */
		0x7f, 0x00, 0x00, 0x00,		/* unknown critical, after it */
	};
	uint8_t big[CPNS_MSG_MAX_LEN + 1];
	uint8_t diag[4 + 257];

	tap_ok(!decode_with(CPNS_MSG_PN_SETUP_NOTIFY, none, 0),
	       "decode: PNSetupNotify with XID only");
	tap_ok(decode_with(CPNS_MSG_ACK, none, 0) == CPNS_REASON_MISSING_TLV,
	       "decode: Ack without MSG_REF: MISSING_TLV");
	tap_ok(!decode_with(CPNS_MSG_ABORT, abort_ok, sizeof(abort_ok)),
	       "decode: Abort with an empty DIAG");
	memcpy(diag, "\x00\x18\x01\x01", 4);
	memset(diag + 4, 'x', 257);
	tap_ok(decode_with(CPNS_MSG_ABORT, diag, sizeof(diag)) ==
		       CPNS_REASON_MALFORMED,
	       "decode: DIAG of 257 bytes: MALFORMED");
	tap_ok(decode_with(CPNS_MSG_PN_SETUP_REQUEST, hello_missing,
			   sizeof(hello_missing)) == CPNS_REASON_MISSING_TLV,
	       "decode: HELLO without RAND_PNE: MISSING_TLV (container)");
	tap_ok(decode_with(CPNS_MSG_NOTIFY_RESPONSE, inner_trunc,
			   sizeof(inner_trunc)) == CPNS_REASON_MALFORMED,
	       "decode: truncation inside HELLO: MALFORMED");
	tap_ok(decode_with(CPNS_MSG_PN_REGISTRATION_RESPONSE, nested_crit,
			   sizeof(nested_crit)) == CPNS_REASON_MALFORMED,
	       "decode: bad length at depth 2 (MEMBER in INVENTORY): MALFORMED");
	{
		uint8_t b[sizeof(nested_crit)];

		memcpy(b, nested_crit, sizeof(b));
		/* make ENTITY_ID an unknown critical type 0x7e00 instead */
		b[sizeof(b) - 8] = 0x7e;
		b[sizeof(b) - 7] = 0x00;
		tap_ok(decode_with(CPNS_MSG_PN_REGISTRATION_RESPONSE, b,
				   sizeof(b)) ==
			       CPNS_REASON_UNSUPPORTED_CRITICAL,
		       "decode: unknown critical type at depth 2: UNSUPPORTED_CRITICAL");
	}
	memset(big, 0, sizeof(big));
	big[0] = CPNS_MSG_ABORT;
	memcpy(big + 1, xid_hdr, sizeof(xid_hdr));
	tap_ok(cpns_msg_decode(big, sizeof(big), NULL, NULL) ==
		       CPNS_REASON_MALFORMED,
	       "decode: 16385-byte message: MALFORMED");
	tap_ok(cpns_msg_decode(big, 0, NULL, NULL) == CPNS_DECODE_DROP &&
		       cpns_msg_decode(big, 12, NULL, NULL) ==
			       CPNS_DECODE_DROP,
	       "decode: empty and 12-byte payloads dropped");
	big[0] = 0x05;
	tap_ok(cpns_msg_decode(big, 13, NULL, NULL) == CPNS_DECODE_DROP,
	       "decode: unassigned msg_type dropped");
	tap_ok(cpns_msg_protection(CPNS_MSG_CONNECT_REQUEST) ==
			       CPNS_PROT_SUITE0 &&
		       cpns_msg_protection(CPNS_MSG_PN_AUTH_REQUEST) ==
			       CPNS_PROT_PROTECTED &&
		       cpns_msg_protection(CPNS_MSG_PN_SETUP_REQUEST) ==
			       (CPNS_PROT_SUITE0 | CPNS_PROT_PROTECTED) &&
		       cpns_msg_protection(0x05) == 0,
	       "protection table of 4.3");
}

/* ---- encoder ---------------------------------------------------------- */

static void test_encoder(void)
{
	static const uint8_t xid[8] = { 0x22, 0x22, 0x22, 0x22,
					0x22, 0x22, 0x22, 0x22 };
	static const uint8_t id[16] = { 1 };
	static uint8_t filler[256];
	struct cpns_enc e;
	struct cpns_err err;
	size_t len, i;
	uint8_t buf[64] = { 0 };

	cpns_enc_init(&e, out, sizeof(out), CPNS_MSG_ACK);
	cpns_enc_put(&e, CPNS_TLV_XID, xid, 8);
	cpns_enc_u8(&e, CPNS_TLV_MSG_REF, 0x14);
	tap_ok(!cpns_enc_finish(&e, &len, NULL) && len == 18 &&
		       !memcmp(out, "\x0e\x00\x01\x00\x08\x22\x22\x22\x22\x22\x22\x22\x22\x00\x16\x00\x01\x14", 18),
	       "encode: Ack as in records.json suite-0 payload");

	cpns_enc_init(&e, out, sizeof(out), CPNS_MSG_ACK);
	cpns_enc_u8(&e, CPNS_TLV_MSG_REF, 0x14);
	cpns_enc_put(&e, CPNS_TLV_XID, xid, 8);
	tap_ok(cpns_enc_finish(&e, &len, &err) == -EINVAL &&
		       strstr(err.msg, "ascending"),
	       "encode: descending order refused (%s)", err.msg);

	cpns_enc_init(&e, out, sizeof(out), CPNS_MSG_ACK);
	cpns_enc_put(&e, CPNS_TLV_XID, xid, 8);
	cpns_enc_put(&e, CPNS_TLV_XID, xid, 8);
	tap_ok(cpns_enc_finish(&e, &len, &err) == -EINVAL &&
		       strstr(err.msg, "duplicate"),
	       "encode: duplicate refused (%s)", err.msg);

	cpns_enc_init(&e, out, sizeof(out), CPNS_MSG_ACK);
	cpns_enc_put(&e, CPNS_TLV_XID, xid, 7);
	tap_ok(cpns_enc_finish(&e, &len, &err) == -EINVAL &&
		       strstr(err.msg, "length"),
	       "encode: XID of 7 bytes refused (%s)", err.msg);

	cpns_enc_init(&e, out, sizeof(out), CPNS_MSG_ACK);
	cpns_enc_put(&e, CPNS_TLV_XID, xid, 8);
	tap_ok(cpns_enc_finish(&e, &len, &err) == -EINVAL &&
		       strstr(err.msg, "MISSING_TLV"),
	       "encode: missing mandatory MSG_REF refused (%s)", err.msg);

	cpns_enc_init(&e, out, sizeof(out), CPNS_MSG_ACK);
	cpns_enc_put(&e, CPNS_TLV_XID, xid, 8);
	cpns_enc_put(&e, CPNS_TLV_HASH_I, buf, 32);
	tap_ok(cpns_enc_finish(&e, &len, &err) == -EINVAL &&
		       strstr(err.msg, "not allowed"),
	       "encode: type not allowed in the message refused (%s)",
	       err.msg);

	cpns_enc_init(&e, out, sizeof(out), CPNS_MSG_ACK);
	cpns_enc_put(&e, CPNS_TLV_XID, xid, 8);
	cpns_enc_u8(&e, CPNS_TLV_MSG_REF, 0x14);
	cpns_enc_put(&e, 0x0100, buf, 1);
	tap_ok(cpns_enc_finish(&e, &len, &err) == -EINVAL &&
		       strstr(err.msg, "critical"),
	       "encode: unknown critical type refused (%s)", err.msg);

	cpns_enc_init(&e, out, sizeof(out), CPNS_MSG_ACK);
	cpns_enc_put(&e, CPNS_TLV_XID, xid, 8);
	cpns_enc_u8(&e, CPNS_TLV_MSG_REF, 0x14);
	cpns_enc_put(&e, 0x8100, buf, 3);
	tap_ok(!cpns_enc_finish(&e, &len, NULL) && len == 25 &&
		       !cpns_msg_decode(out, len, msg, NULL) &&
		       msg->n_tlv == 3 && msg->tlv[2].unknown,
	       "encode: ignorable extension type accepted and skipped");

	/* 33 HELLOs exceed section 4.10 */
	cpns_enc_init(&e, out, sizeof(out), CPNS_MSG_PN_REGISTRATION_REQUEST);
	cpns_enc_put(&e, CPNS_TLV_XID, xid, 8);
	for (i = 0; i < 33; i++) {
		cpns_enc_begin(&e, CPNS_TLV_HELLO);
		cpns_enc_u32(&e, CPNS_TLV_KID, 1);
		cpns_enc_put(&e, CPNS_TLV_PNE_ID, id, 16);
		cpns_enc_put(&e, CPNS_TLV_RAND_PNE, buf, 32);
		cpns_enc_u8(&e, CPNS_TLV_HELLO_FLAGS, 1);
		cpns_enc_end(&e);
		if (i == 31)
			tap_ok(!e.error, "encode: 32 HELLOs accepted");
	}
	tap_ok(cpns_enc_finish(&e, &len, &err) == -E2BIG,
	       "encode: 33 HELLOs refused (%s)", err.msg);

	cpns_enc_init(&e, out, sizeof(out), CPNS_MSG_PN_SETUP_REQUEST);
	cpns_enc_put(&e, CPNS_TLV_XID, xid, 8);
	cpns_enc_begin(&e, CPNS_TLV_HELLO);
	cpns_enc_u32(&e, CPNS_TLV_KID, 1);
	tap_ok(cpns_enc_finish(&e, &len, &err) == -EINVAL &&
		       strstr(err.msg, "not closed"),
	       "encode: open container refused (%s)", err.msg);

	cpns_enc_init(&e, out, sizeof(out), CPNS_MSG_PN_SETUP_REQUEST);
	cpns_enc_put(&e, CPNS_TLV_XID, xid, 8);
	cpns_enc_begin(&e, CPNS_TLV_HELLO);
	cpns_enc_put(&e, CPNS_TLV_CAPS, buf, 0);
	for (i = 0; i < 3; i++)
		cpns_enc_put(&e, (uint16_t)(0x8000 + i), filler, 200);
	cpns_enc_end(&e);
	tap_ok(cpns_enc_finish(&e, &len, &err) == -E2BIG,
	       "encode: HELLO longer than 480 bytes refused (%s)", err.msg);

	cpns_enc_init(&e, buf, 20, CPNS_MSG_ACK);
	cpns_enc_put(&e, CPNS_TLV_XID, xid, 8);
	cpns_enc_put(&e, 0x8000, filler, 8);
	tap_ok(cpns_enc_finish(&e, &len, &err) == -ENOSPC,
	       "encode: output buffer too small (%s)", err.msg);

	cpns_enc_init(&e, out, sizeof(out), CPNS_MSG_ABORT);
	cpns_enc_put(&e, CPNS_TLV_XID, xid, 8);
	cpns_enc_u8(&e, CPNS_TLV_REASON, CPNS_REASON_MALFORMED);
	for (i = 0; i < 70; i++)
		cpns_enc_put(&e, (uint16_t)(0x8000 + i), filler, 240);
	tap_ok(cpns_enc_finish(&e, &len, &err) == -ENOSPC,
	       "encode: message over 16384 bytes refused (%s)", err.msg);
}

int main(void)
{
	tap_start();
	msg = malloc(sizeof(*msg));
	if (!msg)
		tap_bail("out of memory");
	test_negative();
	test_roundtrips();
	test_blob_body();
	test_decoder_cases();
	test_encoder();
	free(msg);
	return tap_done();
}

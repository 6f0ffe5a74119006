// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target for the handshake message decoder: every message
 * schema (the first byte selects it) and the transfer blob body. A
 * message that decodes must re-encode byte-identically.
 */
#include <stdlib.h>
#include <string.h>

#include "cpns_tlv.h"

static struct cpns_msg msg;
static uint8_t out[CPNS_MSG_MAX_LEN];

static void check_roundtrip(const uint8_t *data, size_t size)
{
	size_t len = 0;

	if (cpns_msg_encode(&msg, out, sizeof(out), &len, NULL) ||
	    len != size || memcmp(out, data, size))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int r;

	r = cpns_msg_decode(data, size, &msg, NULL);
	if (!r)
		check_roundtrip(data, size);
	else if (r != CPNS_DECODE_DROP &&
		 (!cpns_reason_name((unsigned int)r) || !msg.xid))
		abort();
	/* the same bytes as a blob body, after the first byte */
	if (size && !cpns_tlv_decode_seq(&cpns_schema_blob_body, data + 1,
					 size - 1, &msg, NULL))
		check_roundtrip(data + 1, size - 1);
	return 0;
}

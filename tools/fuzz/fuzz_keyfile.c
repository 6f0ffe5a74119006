// SPDX-License-Identifier: GPL-2.0
/* libFuzzer target for the key file parser on a memory buffer. */
#include <stdlib.h>
#include <string.h>

#include "cpns_keyfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t zero[CPNS_KEY_LEN];
	uint8_t key[CPNS_KEY_LEN];
	struct cpns_err err;
	int r;

	memset(key, 0xa5, sizeof(key));
	r = cpns_key_parse(data, size, "fuzz", key, &err);
	/* only 64 hex digits, optionally with one newline, are keys */
	if (!r && size != 64 && !(size == 65 && data[64] == '\n'))
		abort();
	/* a refused key leaves nothing behind */
	if (r && (memcmp(key, zero, sizeof(key)) || !err.msg[0]))
		abort();
	return 0;
}

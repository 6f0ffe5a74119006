/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Key files: one 32-byte key as 64 hex digits, optionally followed by one
 * newline. Keys never appear in messages; buffers are wiped.
 */
#ifndef CPNS_KEYFILE_H
#define CPNS_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "cpns_crypto.h"
#include "cpns_err.h"

#define CPNS_KEYFILE_FORCE	0x1	/* accept group/world-accessible files */

int cpns_key_parse(const uint8_t *buf, size_t len, const char *name,
		   uint8_t key[CPNS_KEY_LEN], struct cpns_err *err);
int cpns_key_read(const char *spec, unsigned int flags,
		  uint8_t key[CPNS_KEY_LEN], struct cpns_err *err);
int cpns_secret_write(const char *path, const void *buf, size_t len,
		      struct cpns_err *err);
int cpns_key_write(const char *path, const uint8_t key[CPNS_KEY_LEN],
		   struct cpns_err *err);

#endif /* CPNS_KEYFILE_H */

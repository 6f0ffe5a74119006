// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tap.h"
#include "vec.h"

/* CPNS_VECTORS, default ../shared/vectors (relative to the repo root). */
static const char *vec_dir(void)
{
	const char *dir = getenv("CPNS_VECTORS");
	struct stat st;

	if (!dir || !*dir)
		dir = "../shared/vectors";
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		tap_bail("vectors directory %s not found (set CPNS_VECTORS)",
			 dir);
	return dir;
}

/* Load a vector file; a missing or unparsable file ends the test. */
struct json_object *vec_load(const char *file)
{
	struct json_object *o;
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", vec_dir(), file);
	o = json_object_from_file(path);
	if (!o)
		tap_bail("cannot load %s: %s", path, json_util_get_last_err());
	return o;
}

struct json_object *vec_get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *vec_str(struct json_object *o, const char *key)
{
	struct json_object *v = vec_get(o, key);

	return v && json_object_is_type(v, json_type_string) ?
		       json_object_get_string(v) : NULL;
}

int64_t vec_int(struct json_object *o, const char *key)
{
	return json_object_get_int64(vec_get(o, key));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Lowercase hex to a malloc'ed buffer (at least 1 byte); NULL if invalid. */
uint8_t *hex_decode(const char *hex, size_t *len)
{
	size_t n = strlen(hex), i;
	uint8_t *buf;

	if (n % 2)
		return NULL;
	buf = malloc(n / 2 + 1);
	if (!buf)
		abort();
	for (i = 0; i < n / 2; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(buf);
			return NULL;
		}
		buf[i] = (uint8_t)(hi << 4 | lo);
	}
	*len = n / 2;
	return buf;
}

/* The hex string at key; NULL if absent, null or not hex. */
uint8_t *vec_hex(struct json_object *o, const char *key, size_t *len)
{
	const char *s = vec_str(o, key);

	return s ? hex_decode(s, len) : NULL;
}

bool hex_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	return a && b && alen == blen && !memcmp(a, b, alen);
}

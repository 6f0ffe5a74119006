/* SPDX-License-Identifier: GPL-2.0 */
/* Access to the JSON test vectors (PROTOCOL.md companion, vectors/). */
#ifndef CPNS_TEST_VEC_H
#define CPNS_TEST_VEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

struct json_object *vec_load(const char *file);
struct json_object *vec_get(struct json_object *o, const char *key);
const char *vec_str(struct json_object *o, const char *key);
int64_t vec_int(struct json_object *o, const char *key);
uint8_t *vec_hex(struct json_object *o, const char *key, size_t *len);
uint8_t *hex_decode(const char *hex, size_t *len);
bool hex_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

#endif /* CPNS_TEST_VEC_H */

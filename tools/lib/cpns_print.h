/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One set of print calls for human text and JSON, after iproute2's
 * json_print: each call names what it prints in which mode. In text mode
 * a value is printed with its printf format @fmt; in JSON mode as "key":
 * value in the enclosing object (or as an array element when @key is
 * NULL). Opening and closing objects and arrays is a no-op in text mode.
 *
 * Output state is per process (one output stream at a time).
 */
#ifndef CPNS_PRINT_H
#define CPNS_PRINT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <linux/cpns.h>

enum cpns_print_type {
	CPNS_PR_TEXT = 1,		/* human text only */
	CPNS_PR_JSON = 2,		/* JSON only */
	CPNS_PR_ANY = 3,		/* both */
};

void cpns_print_init(FILE *out, bool json, bool pretty);
bool cpns_print_json(void);
int cpns_print_depth(void);

void cpns_print_open_object(const char *key);
void cpns_print_close_object(void);
void cpns_print_open_array(const char *key);
void cpns_print_close_array(void);

void cpns_print_string(int type, const char *key, const char *fmt,
		       const char *value);
void cpns_print_uint(int type, const char *key, const char *fmt,
		     unsigned int value);
void cpns_print_u64(int type, const char *key, const char *fmt,
		    uint64_t value);
void cpns_print_int(int type, const char *key, const char *fmt, int value);
void cpns_print_bool(int type, const char *key, const char *fmt, bool value);
void cpns_print_onoff(int type, const char *key, const char *fmt, bool value);
void cpns_print_null(int type, const char *key, const char *fmt);
void cpns_print_id(int type, const char *key, const char *fmt,
		   const uint8_t id[CPNS_ID_LEN]);
void cpns_print_addr(int type, const char *key, const char *fmt,
		     const struct sockaddr *sa, socklen_t len);

void cpns_print_text(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
void cpns_print_nl(void);

void cpns_json_escape(FILE *out, const char *s);

#endif /* CPNS_PRINT_H */

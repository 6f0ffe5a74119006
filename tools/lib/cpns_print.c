// SPDX-License-Identifier: GPL-2.0
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "cpns_id.h"
#include "cpns_print.h"

#define CPNS_PRINT_MAX_DEPTH	16

static struct {
	FILE *out;
	bool json, pretty;
	int depth;
	/* per open container: no element written yet; is an array */
	bool first[CPNS_PRINT_MAX_DEPTH];
	bool array[CPNS_PRINT_MAX_DEPTH];
} pr = { .depth = 0 };

/**
 * cpns_print_init() - choose the output stream and mode
 * @out: stream (stdout by default)
 * @json: print JSON instead of text
 * @pretty: indent JSON
 */
void cpns_print_init(FILE *out, bool json, bool pretty)
{
	pr.out = out;
	pr.json = json;
	pr.pretty = pretty;
	pr.depth = 0;
}

bool cpns_print_json(void)
{
	return pr.json;
}

int cpns_print_depth(void)
{
	return pr.depth;
}

static FILE *cpns_print_out(void)
{
	return pr.out ? pr.out : stdout;
}

/**
 * cpns_json_escape() - write @s as a JSON string, quotes included
 * @out: stream
 * @s: NUL-terminated text; bytes >= 0x80 are copied (UTF-8 is assumed)
 */
void cpns_json_escape(FILE *out, const char *s)
{
	const unsigned char *p;

	fputc('"', out);
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':  fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\b': fputs("\\b", out); break;
		case '\f': fputs("\\f", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

static void cpns_print_indent(void)
{
	int i;

	if (!pr.pretty)
		return;
	fputc('\n', cpns_print_out());
	for (i = 0; i < pr.depth; i++)
		fputs("    ", cpns_print_out());
}

/* Separator, indentation and "key": before a JSON value. */
static void cpns_print_key(const char *key)
{
	FILE *out = cpns_print_out();

	if (pr.depth > 0) {
		if (!pr.first[pr.depth - 1])
			fputc(',', out);
		pr.first[pr.depth - 1] = false;
		cpns_print_indent();
		/* keys only inside objects; elements of arrays have none */
		if (!pr.array[pr.depth - 1]) {
			cpns_json_escape(out, key ? key : "");
			fputs(pr.pretty ? ": " : ":", out);
		}
	}
}

/* A top-level value is complete: one per line (JSON lines for monitor). */
static void cpns_print_value_done(void)
{
	if (pr.depth == 0) {
		fputc('\n', cpns_print_out());
		fflush(cpns_print_out());
	}
}

static void cpns_print_open(const char *key, bool array)
{
	if (!pr.json || pr.depth >= CPNS_PRINT_MAX_DEPTH)
		return;
	cpns_print_key(key);
	fputc(array ? '[' : '{', cpns_print_out());
	pr.first[pr.depth] = true;
	pr.array[pr.depth] = array;
	pr.depth++;
}

static void cpns_print_close(bool array)
{
	bool empty;

	if (!pr.json || pr.depth == 0)
		return;
	pr.depth--;
	empty = pr.first[pr.depth];
	if (!empty)
		cpns_print_indent();
	fputc(array ? ']' : '}', cpns_print_out());
	cpns_print_value_done();
}

void cpns_print_open_object(const char *key)
{
	cpns_print_open(key, false);
}

void cpns_print_close_object(void)
{
	cpns_print_close(false);
}

void cpns_print_open_array(const char *key)
{
	cpns_print_open(key, true);
}

void cpns_print_close_array(void)
{
	cpns_print_close(true);
}

static bool cpns_print_wanted(int type)
{
	return type & (pr.json ? CPNS_PR_JSON : CPNS_PR_TEXT);
}

/* fmt comes from the caller's constant table, never from data */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"

void cpns_print_string(int type, const char *key, const char *fmt,
		       const char *value)
{
	if (!cpns_print_wanted(type))
		return;
	if (pr.json) {
		cpns_print_key(key);
		cpns_json_escape(cpns_print_out(), value);
		cpns_print_value_done();
	} else {
		fprintf(cpns_print_out(), fmt ? fmt : "%s", value);
	}
}

void cpns_print_uint(int type, const char *key, const char *fmt,
		     unsigned int value)
{
	if (!cpns_print_wanted(type))
		return;
	if (pr.json) {
		cpns_print_key(key);
		fprintf(cpns_print_out(), "%u", value);
		cpns_print_value_done();
	} else {
		fprintf(cpns_print_out(), fmt ? fmt : "%u", value);
	}
}

void cpns_print_u64(int type, const char *key, const char *fmt,
		    uint64_t value)
{
	if (!cpns_print_wanted(type))
		return;
	if (pr.json) {
		cpns_print_key(key);
		fprintf(cpns_print_out(), "%" PRIu64, value);
		cpns_print_value_done();
	} else {
		fprintf(cpns_print_out(), fmt ? fmt : "%" PRIu64, value);
	}
}

void cpns_print_int(int type, const char *key, const char *fmt, int value)
{
	if (!cpns_print_wanted(type))
		return;
	if (pr.json) {
		cpns_print_key(key);
		fprintf(cpns_print_out(), "%d", value);
		cpns_print_value_done();
	} else {
		fprintf(cpns_print_out(), fmt ? fmt : "%d", value);
	}
}

void cpns_print_bool(int type, const char *key, const char *fmt, bool value)
{
	if (!cpns_print_wanted(type))
		return;
	if (pr.json) {
		cpns_print_key(key);
		fputs(value ? "true" : "false", cpns_print_out());
		cpns_print_value_done();
	} else {
		fprintf(cpns_print_out(), fmt ? fmt : "%s",
			value ? "true" : "false");
	}
}

/* JSON true/false, text "on"/"off". */
void cpns_print_onoff(int type, const char *key, const char *fmt, bool value)
{
	if (!cpns_print_wanted(type))
		return;
	if (pr.json)
		cpns_print_bool(type, key, fmt, value);
	else
		fprintf(cpns_print_out(), fmt ? fmt : "%s",
			value ? "on" : "off");
}

void cpns_print_null(int type, const char *key, const char *fmt)
{
	if (!cpns_print_wanted(type))
		return;
	if (pr.json) {
		cpns_print_key(key);
		fputs("null", cpns_print_out());
		cpns_print_value_done();
	} else {
		fprintf(cpns_print_out(), fmt ? fmt : "%s", "none");
	}
}

#pragma GCC diagnostic pop

/* The 32-hex text form of PROTOCOL.md 1.2. */
void cpns_print_id(int type, const char *key, const char *fmt,
		   const uint8_t id[CPNS_ID_LEN])
{
	char s[CPNS_ID_STRLEN];

	cpns_id_format(id, s);
	cpns_print_string(type, key, fmt, s);
}

/* 192.0.2.1:7870 or [2001:db8::1]:7870 (PROTOCOL.md 2.1). */
void cpns_print_addr(int type, const char *key, const char *fmt,
		     const struct sockaddr *sa, socklen_t len)
{
	char s[CPNS_ADDR_STRLEN];

	if (cpns_addr_format(sa, len, s, sizeof(s)) < 0)
		snprintf(s, sizeof(s), "?");
	cpns_print_string(type, key, fmt, s);
}

/* Text only: free text (labels, separators). */
void cpns_print_text(const char *fmt, ...)
{
	va_list ap;

	if (pr.json)
		return;
	va_start(ap, fmt);
	vfprintf(cpns_print_out(), fmt, ap);
	va_end(ap);
}

void cpns_print_nl(void)
{
	if (!pr.json)
		fputc('\n', cpns_print_out());
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The print layer (cpns_print): JSON output parses (json-c), with the
 * values and escaping intact, compact and pretty; text output uses the
 * formats; entity IDs and endpoints in their text forms.
 */
#include <arpa/inet.h>
#include <json.h>
#include <netinet/in.h>
#include <string.h>

#include "cpns_print.h"
#include "tap.h"

static const uint8_t test_id[CPNS_ID_LEN] = {
	0x1b, 0x5e, 0x2f, 0x8c, 0x9a, 0x0d, 0x4e, 0x7f,
	0x8a, 0x6b, 0x5c, 0x4d, 0x3e, 0x2f, 0x1a, 0x0b,
};

/* Every byte 0x01..0xff that can be in a C string, plus the usual suspects. */
static char nasty[300];

static void make_nasty(void)
{
	size_t n = 0;
	int c;

	for (c = 1; c < 0x80; c++)
		nasty[n++] = (char)c;
	/* valid UTF-8: U+00E9, U+20AC */
	memcpy(nasty + n, "\xc3\xa9\xe2\x82\xac\"\\/", 8);
	n += 8;
	nasty[n] = '\0';
}

/* A document as cpnsctl prints "session show -s": array of objects with
 * nested objects, strings, numbers, booleans and null.
 */
static void print_doc(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(7870) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6,
				     .sin6_port = htons(7871) };
	int i;

	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	inet_pton(AF_INET6, "2001:db8::1", &sin6.sin6_addr);
	cpns_print_open_array(NULL);
	for (i = 0; i < 2; i++) {
		cpns_print_open_object(NULL);
		cpns_print_id(CPNS_PR_ANY, "local", "local %s", test_id);
		cpns_print_uint(CPNS_PR_ANY, "generation", " generation %u",
				255);
		cpns_print_u64(CPNS_PR_ANY, "tx_seq", " tx-seq %llu",
			       UINT64_MAX);
		cpns_print_int(CPNS_PR_ANY, "neg", " neg %d", -5);
		cpns_print_bool(CPNS_PR_JSON, "tx_active", NULL, i == 0);
		cpns_print_onoff(CPNS_PR_ANY, "learn", " learn %s", i == 1);
		cpns_print_null(CPNS_PR_ANY, "none", " none %s");
		cpns_print_addr(CPNS_PR_ANY, "endpoint", " endpoint %s",
				(struct sockaddr *)&sin, sizeof(sin));
		cpns_print_addr(CPNS_PR_ANY, "endpoint6", " endpoint6 %s",
				(struct sockaddr *)&sin6, sizeof(sin6));
		cpns_print_string(CPNS_PR_ANY, "nasty", " %s", nasty);
		cpns_print_string(CPNS_PR_TEXT, "textonly", " textonly %s",
				  "x");
		cpns_print_text(" free text");
		cpns_print_open_object("stats");
		cpns_print_u64(CPNS_PR_ANY, "rx_records", " rx %llu", 7);
		cpns_print_open_object("drop");
		cpns_print_close_object();
		cpns_print_close_object();
		cpns_print_open_array("empty");
		cpns_print_close_array();
		cpns_print_nl();
		cpns_print_close_object();
	}
	cpns_print_close_array();
}

static char *capture(bool json, bool pretty, void (*fn)(void))
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		tap_bail("open_memstream");
	cpns_print_init(f, json, pretty);
	fn();
	fclose(f);
	return buf;
}

static void check_doc(const char *mode, const char *out)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *doc, *o, *v, *stats, *drop;
	enum json_tokener_error jerr;
	int len = (int)strlen(out);

	doc = json_tokener_parse_ex(tok, out, len);
	jerr = json_tokener_get_error(tok);
	tap_ok(doc && jerr == json_tokener_success, "%s: output parses", mode);
	/* the tokener may or may not consume the trailing whitespace */
	tap_ok(json_tokener_get_parse_end(tok) >= (size_t)len - 1 &&
	       len >= 2 && out[len - 1] == '\n' && out[len - 2] == ']',
	       "%s: one document, ends with a newline", mode);
	json_tokener_free(tok);
	if (!doc) {
		tap_diag("%s", out);
		return;
	}
	tap_ok(json_object_is_type(doc, json_type_array) &&
	       json_object_array_length(doc) == 2,
	       "%s: top-level array of 2", mode);
	o = json_object_array_get_idx(doc, 0);
	tap_ok(json_object_object_get_ex(o, "local", &v) &&
	       !strcmp(json_object_get_string(v),
		       "1b5e2f8c9a0d4e7f8a6b5c4d3e2f1a0b"),
	       "%s: entity ID in the 32-hex form", mode);
	tap_ok(json_object_object_get_ex(o, "generation", &v) &&
	       json_object_is_type(v, json_type_int) &&
	       json_object_get_int(v) == 255, "%s: unsigned number", mode);
	tap_ok(json_object_object_get_ex(o, "tx_seq", &v) &&
	       json_object_get_uint64(v) == UINT64_MAX,
	       "%s: u64 maximum survives", mode);
	tap_ok(json_object_object_get_ex(o, "neg", &v) &&
	       json_object_get_int(v) == -5, "%s: negative number", mode);
	tap_ok(json_object_object_get_ex(o, "tx_active", &v) &&
	       json_object_is_type(v, json_type_boolean) &&
	       json_object_get_boolean(v), "%s: JSON-only boolean", mode);
	tap_ok(json_object_object_get_ex(o, "learn", &v) &&
	       json_object_is_type(v, json_type_boolean) &&
	       !json_object_get_boolean(v), "%s: on/off as boolean", mode);
	tap_ok(json_object_object_get_ex(o, "none", &v) && v == NULL,
	       "%s: null", mode);
	tap_ok(json_object_object_get_ex(o, "endpoint", &v) &&
	       !strcmp(json_object_get_string(v), "192.0.2.1:7870"),
	       "%s: IPv4 endpoint form", mode);
	tap_ok(json_object_object_get_ex(o, "endpoint6", &v) &&
	       !strcmp(json_object_get_string(v), "[2001:db8::1]:7871"),
	       "%s: IPv6 endpoint form", mode);
	tap_ok(json_object_object_get_ex(o, "nasty", &v) &&
	       !strcmp(json_object_get_string(v), nasty),
	       "%s: control characters, quotes, backslashes and UTF-8 round-trip",
	       mode);
	tap_ok(!json_object_object_get_ex(o, "textonly", NULL),
	       "%s: text-only values are left out", mode);
	tap_ok(json_object_object_get_ex(o, "stats", &stats) &&
	       json_object_object_get_ex(stats, "rx_records", &v) &&
	       json_object_get_int(v) == 7 &&
	       json_object_object_get_ex(stats, "drop", &drop) &&
	       json_object_object_length(drop) == 0,
	       "%s: nested objects, empty object", mode);
	tap_ok(json_object_object_get_ex(o, "empty", &v) &&
	       json_object_is_type(v, json_type_array) &&
	       json_object_array_length(v) == 0, "%s: empty array", mode);
	tap_ok(cpns_print_depth() == 0, "%s: every container closed", mode);
	json_object_put(doc);
}

/* Monitor prints one object per line: each line parses on its own. */
static void print_lines(void)
{
	int i;

	for (i = 0; i < 3; i++) {
		cpns_print_open_object(NULL);
		cpns_print_string(CPNS_PR_ANY, "event", "%s", "erased");
		cpns_print_uint(CPNS_PR_ANY, "n", " %u", (unsigned int)i);
		cpns_print_open_array("sessions");
		cpns_print_close_array();
		cpns_print_close_object();
	}
}

static void check_lines(void)
{
	char *out = capture(true, false, print_lines), *line, *save = NULL;
	struct json_object *o, *v;
	int n = 0, good = 0;

	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		o = json_tokener_parse(line);
		if (o && json_object_object_get_ex(o, "n", &v) &&
		    json_object_get_int(v) == n)
			good++;
		n++;
		json_object_put(o);
	}
	tap_ok(n == 3 && good == 3, "JSON lines: one object per line");
	free(out);
}

static void check_text(void)
{
	char *out = capture(false, false, print_doc);

	tap_ok(strstr(out, "local 1b5e2f8c9a0d4e7f8a6b5c4d3e2f1a0b generation 255") != NULL,
	       "text: formats applied in order");
	tap_ok(strstr(out, " learn off") && strstr(out, " learn on"),
	       "text: on/off");
	tap_ok(strstr(out, " endpoint 192.0.2.1:7870 endpoint6 [2001:db8::1]:7871") != NULL,
	       "text: endpoints");
	tap_ok(strstr(out, " textonly x free text") && !strstr(out, "tx_active") &&
	       !strstr(out, "\"local\"") && !strstr(out, "stats"),
	       "text: text-only values, no keys, no JSON-only values");
	free(out);
}

static void print_escape_only(void)
{
	cpns_print_string(CPNS_PR_ANY, NULL, NULL, "a\"b\\c\nd\x01\x7f");
}

int main(void)
{
	char *out;

	tap_start();
	make_nasty();

	out = capture(true, false, print_doc);
	check_doc("compact", out);
	tap_ok(!strchr(out, '\n') || strchr(out, '\n') == out + strlen(out) - 1,
	       "compact: a single line");
	free(out);

	out = capture(true, true, print_doc);
	check_doc("pretty", out);
	tap_ok(strstr(out, "\n    {\n        \"local\": ") != NULL,
	       "pretty: indented four spaces a level");
	free(out);

	check_lines();
	check_text();

	out = capture(true, false, print_escape_only);
	tap_ok(!strcmp(out, "\"a\\\"b\\\\c\\nd\\u0001\\u007f\"\n"),
	       "escaping: exact text of a top-level string");
	free(out);

	return tap_done();
}

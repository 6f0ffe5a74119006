// SPDX-License-Identifier: GPL-2.0
/* Entity ID and UDP endpoint text forms (PROTOCOL.md 1.2, 2.1). */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "cpns_id.h"
#include "tap.h"

/* A TAP description must stay on one line. */
static const char *printable(const char *s)
{
	static char buf[64];
	size_t i;

	for (i = 0; s[i] && i < sizeof(buf) - 1; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	buf[i] = '\0';
	return buf;
}

static void test_id_positive(void)
{
	static const struct {
		const char *in, *out;
	} ok[] = {
		{ "1b5e2f8c9a0d4e7f8a6b5c4d3e2f1a0b",
		  "1b5e2f8c9a0d4e7f8a6b5c4d3e2f1a0b" },
		{ "1B5E2F8C9A0D4E7F8A6B5C4D3E2F1A0B",
		  "1b5e2f8c9a0d4e7f8a6b5c4d3e2f1a0b" },
		{ "1b5e2f8c-9a0d-4e7f-8a6b-5c4d3e2f1a0b",
		  "1b5e2f8c9a0d4e7f8a6b5c4d3e2f1a0b" },
		{ "1B5E2F8C-9a0D-4E7F-8A6B-5c4d3E2F1A0B",
		  "1b5e2f8c9a0d4e7f8a6b5c4d3e2f1a0b" },
		{ "00000000000000000000000000000001",
		  "00000000000000000000000000000001" },
	};
	uint8_t id[CPNS_ID_LEN];
	char buf[CPNS_ID_STRLEN];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int r = cpns_id_parse(ok[i].in, id, CPNS_ID_VALID);

		if (!r)
			cpns_id_format(id, buf);
		tap_ok(!r && !strcmp(buf, ok[i].out), "id: \"%s\" -> %s",
		       ok[i].in, ok[i].out);
	}
}

static void test_id_negative(void)
{
	static const char *const bad[] = {
		"",
		"1b5e2f8c9a0d4e7f8a6b5c4d3e2f1a0",		/* 31 */
		"1b5e2f8c9a0d4e7f8a6b5c4d3e2f1a0b0",		/* 33 */
		"1b5e2f8c9a0d4e7f8a6b5c4d3e2f1a0g",
		" 1b5e2f8c9a0d4e7f8a6b5c4d3e2f1a0b",
		"1b5e2f8c9a0d4e7f8a6b5c4d3e2f1a0b\n",
		"{1b5e2f8c-9a0d-4e7f-8a6b-5c4d3e2f1a0b}",
		"1b5e2f8c:9a0d:4e7f:8a6b:5c4d3e2f1a0b",
		"1b5e2f8c-9a0d4e7f-8a6b-5c4d-3e2f1a0b",	/* dashes misplaced */
		"1b5e2f8c-9a0d-4e7f-8a6b5c4d3e2f1a0b",		/* one dash missing */
		"1b5e2f8c-9a0d-4e7f-8a6b-5c4d3e2f1a0b-",
		"1b5e2f8c--9a0d-4e7f-8a6b-5c4d3e2f1a0",
		"0x1b5e2f8c9a0d4e7f8a6b5c4d3e2f1a",
		"+1b5e2f8c9a0d4e7f8a6b5c4d3e2f1a0",
	};
	uint8_t id[CPNS_ID_LEN];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tap_ok(cpns_id_parse(bad[i], id, 0) < 0, "id: refuse \"%s\"",
		       printable(bad[i]));
	}
	tap_ok(cpns_id_parse("00000000000000000000000000000000", id,
			     CPNS_ID_VALID) < 0 &&
		       !cpns_id_parse("00000000000000000000000000000000", id,
				      0),
	       "id: 0^16 refused only where a valid ID is asked for");
	tap_ok(cpns_id_parse("ffffffff-ffff-ffff-ffff-ffffffffffff", id,
			     CPNS_ID_VALID) < 0 &&
		       !cpns_id_parse("FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", id,
				      0),
	       "id: FF^16 refused only where a valid ID is asked for");
}

static void test_addr(void)
{
	static const struct {
		const char *in, *out;
		uint16_t def;
	} ok[] = {
		{ "192.0.2.1:7870", "192.0.2.1:7870", 0 },
		{ "[2001:db8::1]:7870", "[2001:db8::1]:7870", 0 },
		{ "[2001:DB8:0:0::22]:65535", "[2001:db8::22]:65535", 0 },
		{ "192.0.2.21", "192.0.2.21:7870", 7870 },
		{ "[::1]", "[::1]:7870", 7870 },
		{ "[::ffff:192.0.2.1]:1", "[::ffff:192.0.2.1]:1", 0 },
	};
	static const char *const bad[] = {
		"", "192.0.2.1", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536",
		"192.0.2.1:07870", "192.0.2.1:+80", "192.0.2.1:80x",
		"192.0.2.1 :80", "192.0.2:80", "192.0.2.256:80", "host:80",
		"2001:db8::1", "2001:db8::1:7870", "[2001:db8::1]",
		"[2001:db8::1]7870", "[2001:db8::1:7870", "[192.0.2.1]:80",
		"[fe80::1%eth0]:80", "[]:80", ":80",
	};
	struct sockaddr_storage ss;
	char buf[CPNS_ADDR_STRLEN];
	socklen_t len;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		int r = cpns_addr_parse(ok[i].in, ok[i].def, &ss, &len);

		if (!r)
			r = cpns_addr_format((struct sockaddr *)&ss, len, buf,
					     sizeof(buf));
		tap_ok(!r && !strcmp(buf, ok[i].out), "addr: \"%s\" -> %s",
		       ok[i].in, ok[i].out);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		tap_ok(cpns_addr_parse(bad[i], 0, &ss, &len) < 0,
		       "addr: refuse \"%s\"", bad[i]);
	tap_ok(!cpns_addr_parse("[2001:db8::1]:7870", 0, &ss, &len) &&
		       ss.ss_family == AF_INET6 &&
		       len == sizeof(struct sockaddr_in6) &&
		       ntohs(((struct sockaddr_in6 *)&ss)->sin6_port) == 7870,
	       "addr: IPv6 sockaddr fields");
	tap_ok(cpns_addr_format((struct sockaddr *)&ss, len, buf, 10) ==
		       -ENOSPC,
	       "addr: format into a short buffer fails");
}

int main(void)
{
	tap_start();
	test_id_positive();
	test_id_negative();
	test_addr();
	return tap_done();
}

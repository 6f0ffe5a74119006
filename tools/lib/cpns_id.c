// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "cpns_id.h"

static int cpns_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Neither 0^16 (invalid everywhere) nor FF^16 (reserved), section 1.2. */
bool cpns_id_valid(const uint8_t id[CPNS_ID_LEN])
{
	bool zero = true, ones = true;
	int i;

	for (i = 0; i < CPNS_ID_LEN; i++) {
		zero &= id[i] == 0x00;
		ones &= id[i] == 0xff;
	}
	return !zero && !ones;
}

/**
 * cpns_id_parse() - parse the text form of an entity ID
 * @s: 32 hex digits, or the UUID form 8-4-4-4-12; either case
 * @id: output
 * @flags: CPNS_ID_VALID to refuse 0^16 and FF^16
 *
 * Nothing else is accepted: no braces, no other separators, no
 * surrounding whitespace.
 *
 * Return: 0 or -EINVAL.
 */
int cpns_id_parse(const char *s, uint8_t id[CPNS_ID_LEN], unsigned int flags)
{
	size_t len = strlen(s), i, n = 0;
	bool uuid;
	int hi, lo;

	if (len == 2 * CPNS_ID_LEN)
		uuid = false;
	else if (len == 2 * CPNS_ID_LEN + 4)
		uuid = true;
	else
		return -EINVAL;
	for (i = 0; i < len;) {
		if (uuid && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (s[i++] != '-')
				return -EINVAL;
			continue;
		}
		hi = cpns_hexval(s[i]);
		lo = cpns_hexval(s[i + 1]);
		if (hi < 0 || lo < 0 || n >= CPNS_ID_LEN)
			return -EINVAL;
		id[n++] = hi << 4 | lo;
		i += 2;
	}
	if (n != CPNS_ID_LEN)
		return -EINVAL;
	if ((flags & CPNS_ID_VALID) && !cpns_id_valid(id))
		return -EINVAL;
	return 0;
}

void cpns_id_format(const uint8_t id[CPNS_ID_LEN], char out[CPNS_ID_STRLEN])
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < CPNS_ID_LEN; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 0xf];
	}
	out[2 * CPNS_ID_LEN] = '\0';
}

/* Decimal 1-65535, no sign, no leading zeros, nothing after it. */
static int cpns_port_parse(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	const char *p;

	if (!*s || (s[0] == '0') || strlen(s) > 5)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

/**
 * cpns_addr_parse() - parse "192.0.2.1:7870" or "[2001:db8::1]:7870"
 * @s: the text
 * @default_port: port when ":port" is omitted, or 0 to require it
 * @ss: output address
 * @len: output length of the sockaddr
 *
 * IPv4 in dotted-quad form and IPv6 in brackets only (no host names, no
 * scope IDs); port 1-65535 in decimal.
 *
 * Return: 0 or -EINVAL.
 */
int cpns_addr_parse(const char *s, uint16_t default_port,
		    struct sockaddr_storage *ss, socklen_t *len)
{
	char host[INET6_ADDRSTRLEN];
	const char *port_s = NULL, *end;
	uint16_t port = default_port;
	size_t hlen;
	bool v6;

	memset(ss, 0, sizeof(*ss));
	if (s[0] == '[') {
		v6 = true;
		end = strchr(s, ']');
		if (!end)
			return -EINVAL;
		hlen = (size_t)(end - s - 1);
		s++;
		if (end[1] == ':')
			port_s = end + 2;
		else if (end[1])
			return -EINVAL;
	} else {
		v6 = false;
		end = strchr(s, ':');
		hlen = end ? (size_t)(end - s) : strlen(s);
		if (end)
			port_s = end + 1;
	}
	if (!hlen || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (port_s && cpns_port_parse(port_s, &port))
		return -EINVAL;
	if (!port)
		return -EINVAL;
	if (v6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			return -EINVAL;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
	} else {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			return -EINVAL;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
	}
	return 0;
}

/**
 * cpns_addr_format() - text form of an IPv4 or IPv6 UDP endpoint
 * @sa: the address
 * @len: its length
 * @out: output buffer, CPNS_ADDR_STRLEN bytes suffice
 * @out_size: its size
 *
 * Return: 0, -EAFNOSUPPORT, -EINVAL for a short @len, or -ENOSPC.
 */
int cpns_addr_format(const struct sockaddr *sa, socklen_t len, char *out,
		     size_t out_size)
{
	char host[INET6_ADDRSTRLEN];
	int n;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		if (len < (socklen_t)sizeof(*sin) ||
		    !inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)))
			return -EINVAL;
		n = snprintf(out, out_size, "%s:%u", host,
			     ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		if (len < (socklen_t)sizeof(*sin6) ||
		    !inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host)))
			return -EINVAL;
		n = snprintf(out, out_size, "[%s]:%u", host,
			     ntohs(sin6->sin6_port));
	} else {
		return -EAFNOSUPPORT;
	}
	return n < 0 || (size_t)n >= out_size ? -ENOSPC : 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * Argument words and the names of enum values.
 */
#include <errno.h>
#include <string.h>

#include "cpns_id.h"
#include "cpnsctl.h"

/* Keywords match exactly: no abbreviations, no case folding. */
bool cpnsctl_matches(const char *arg, const char *keyword)
{
	return arg && !strcmp(arg, keyword);
}

/* An entity ID that may be configured: neither 0^16 nor FF^16 is caught
 * here, the kernel refuses them with its own message (PROTOCOL.md 13.1).
 */
int cpnsctl_parse_id(const char *s, uint8_t id[CPNS_ID_LEN])
{
	return cpns_id_parse(s, id, 0);
}

int cpnsctl_parse_onoff(const char *s, bool *v)
{
	if (!strcmp(s, "on"))
		*v = true;
	else if (!strcmp(s, "off"))
		*v = false;
	else
		return -EINVAL;
	return 0;
}

/* Decimal only, no sign, no leading zeros except "0" itself. */
int cpnsctl_parse_uint(const char *s, unsigned long min, unsigned long max,
		       unsigned long *v)
{
	unsigned long n = 0;
	const char *p;

	if (!*s || (s[0] == '0' && s[1]) || strlen(s) > 10)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		n = n * 10 + (unsigned long)(*p - '0');
	}
	if (n < min || n > max)
		return -ERANGE;
	*v = n;
	return 0;
}

/* 192.0.2.1[:port] or [2001:db8::1][:port], default port 7870. */
int cpnsctl_parse_addr(const char *s, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	return cpns_addr_parse(s, CPNS_DEFAULT_UDP_PORT, ss, len);
}

/**
 * cpnsctl_split_line() - split a batch line into words
 * @line: the line; modified
 * @argv: output, @max entries
 * @max: capacity
 *
 * Words are separated by blanks; '#' at the start of a word starts a
 * comment. No quoting: no argument of cpnsctl contains a blank.
 *
 * Return: the number of words, or -E2BIG.
 */
int cpnsctl_split_line(char *line, char **argv, int max)
{
	static const char blanks[] = " \t\r\n\v\f";
	char *save = NULL, *w;
	int n = 0;

	for (w = strtok_r(line, blanks, &save); w;
	     w = strtok_r(NULL, blanks, &save)) {
		if (w[0] == '#')
			break;
		if (n == max)
			return -E2BIG;
		argv[n++] = w;
	}
	return n;
}

static const char *cpnsctl_name(const char *const *names, size_t n,
				unsigned int v)
{
	if (v < n && names[v])
		return names[v];
	return "unknown";
}

#define CPNSCTL_NAME(table, v) \
	cpnsctl_name(table, sizeof(table) / sizeof(table[0]), v)

const char *cpnsctl_suite_name(unsigned int suite)
{
	static const char *const names[] = {
		[CPNS_SUITE_NONE] = "none",
		[CPNS_SUITE_AES256GCM] = "aes256gcm",
		[CPNS_SUITE_CHACHA20POLY1305] = "chacha20poly1305",
	};

	return CPNSCTL_NAME(names, suite);
}

const char *cpnsctl_role_name(unsigned int role)
{
	static const char *const names[] = {
		[CPNS_ROLE_INITIATOR] = "initiator",
		[CPNS_ROLE_RESPONDER] = "responder",
	};

	return CPNSCTL_NAME(names, role);
}

const char *cpnsctl_mode_name(unsigned int mode)
{
	static const char *const names[] = {
		[CPNS_TX_IMMEDIATE] = "immediate",
		[CPNS_TX_ON_CONFIRM] = "on-confirm",
	};

	return CPNSCTL_NAME(names, mode);
}

const char *cpnsctl_cause_name(unsigned int cause)
{
	static const char *const names[] = {
		[CPNS_ERASE_LIFETIME] = "lifetime",
		[CPNS_ERASE_CAP] = "cap",
		[CPNS_ERASE_SUPERSEDED] = "superseded",
		[CPNS_ERASE_DELETED] = "deleted",
		[CPNS_ERASE_REPLACED] = "replaced",
	};

	return CPNSCTL_NAME(names, cause);
}

/* Drop reasons as PROTOCOL.md 2.6 names them, in lowercase. */
const char *cpnsctl_stat_name(unsigned int stat)
{
	static const char *const names[] = {
		[CPNS_STAT_DROP_SHORT] = "short",
		[CPNS_STAT_DROP_TOO_BIG] = "too_big",
		[CPNS_STAT_DROP_LENGTH] = "length",
		[CPNS_STAT_DROP_RESERVED] = "reserved",
		[CPNS_STAT_DROP_VERSION] = "version",
		[CPNS_STAT_DROP_BAD_TYPE] = "bad_type",
		[CPNS_STAT_DROP_BAD_SUITE] = "bad_suite",
		[CPNS_STAT_DROP_BAD_ENTITY] = "bad_entity",
		[CPNS_STAT_DROP_BAD_PORT] = "bad_port",
		[CPNS_STAT_DROP_NO_ROUTE] = "no_route",
		[CPNS_STAT_DROP_SUITE0] = "suite0",
		[CPNS_STAT_DROP_NO_SESSION] = "no_session",
		[CPNS_STAT_DROP_SUITE_MISMATCH] = "suite_mismatch",
		[CPNS_STAT_DROP_EPOCH] = "epoch",
		[CPNS_STAT_DROP_EPOCH_PENDING] = "epoch_pending",
		[CPNS_STAT_DROP_SEQ_LIMIT] = "seq_limit",
		[CPNS_STAT_DROP_REPLAY] = "replay",
		[CPNS_STAT_DROP_TOO_OLD] = "too_old",
		[CPNS_STAT_DROP_AUTH] = "auth",
		[CPNS_STAT_DROP_POLICY] = "policy",
		[CPNS_STAT_DROP_NO_PORT] = "no_port",
		[CPNS_STAT_RX_RECORDS] = "rx_records",
		[CPNS_STAT_RX_BYTES] = "rx_bytes",
		[CPNS_STAT_TX_RECORDS] = "tx_records",
		[CPNS_STAT_TX_BYTES] = "tx_bytes",
		[CPNS_STAT_FORWARDED] = "forwarded",
		[CPNS_STAT_TX_ERRORS] = "tx_errors",
		[CPNS_STAT_RX_ERRORS] = "rx_errors",
	};

	return CPNSCTL_NAME(names, stat);
}

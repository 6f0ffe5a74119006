// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsctl stats: the namespace's counters (PROTOCOL.md 2.6, 13.3).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cpnsctl.h"

static const char cpnsctl_stats_usage[] =
	"Usage: cpnsctl stats show\n"
	"       cpnsctl stats reset\n";

/* A counter this cpnsctl does not know yet keeps a unique key. */
static void cpnsctl_stat_key(unsigned int i, char *buf, size_t size)
{
	const char *name = cpnsctl_stat_name(i);

	if (strcmp(name, "unknown"))
		snprintf(buf, size, "%s", name);
	else
		snprintf(buf, size, "stat_%u", i);
}

/**
 * cpnsctl_print_stats() - print a CPNS_A_STATS nest
 * @nest: the nest (u64 per enum cpns_stat)
 * @key: JSON key of the object, or NULL at top level
 *
 * Totals first, then the drop reasons under "drop" with the names of
 * PROTOCOL.md 2.6 in lowercase. Text: one counter per line.
 */
void cpnsctl_print_stats(struct nlattr *nest, const char *key)
{
	struct nlattr *tb[CPNS_STAT_MAX + 1] = { 0 };
	const char *indent = key ? "    " : "";
	char fmt[64], name[16];
	unsigned int i;

	if (nla_parse_nested(tb, CPNS_STAT_MAX, nest, NULL))
		return;
	cpns_print_open_object(key);
	for (i = CPNS_STAT_RX_RECORDS; i <= CPNS_STAT_MAX; i++) {
		if (!tb[i] || nla_len(tb[i]) != sizeof(uint64_t))
			continue;
		cpnsctl_stat_key(i, name, sizeof(name));
		snprintf(fmt, sizeof(fmt), "%s%-16s %%20" PRIu64 "\n", indent,
			 name);
		cpns_print_u64(CPNS_PR_ANY, name, fmt, nla_get_u64(tb[i]));
	}
	cpns_print_text("%sdrop:\n", indent);
	cpns_print_open_object("drop");
	for (i = CPNS_STAT_DROP_SHORT; i < CPNS_STAT_RX_RECORDS; i++) {
		if (!tb[i] || nla_len(tb[i]) != sizeof(uint64_t))
			continue;
		cpnsctl_stat_key(i, name, sizeof(name));
		snprintf(fmt, sizeof(fmt), "%s  %-14s %%20" PRIu64 "\n",
			 indent, name);
		cpns_print_u64(CPNS_PR_ANY, name, fmt, nla_get_u64(tb[i]));
	}
	cpns_print_close_object();
	cpns_print_close_object();
}

static int cpnsctl_stats_print(uint8_t cmd, struct nlattr **a, void *arg)
{
	(void)cmd;
	(void)arg;
	if (a[CPNS_A_STATS])
		cpnsctl_print_stats(a[CPNS_A_STATS], NULL);
	return 0;
}

static int cpnsctl_stats_show(struct cpnsctl *c, int argc, char **argv)
{
	struct nl_msg *msg;
	int status;

	if (argc > 0)
		return cpnsctl_usage_error(cpnsctl_stats_usage,
					   "stats show: unexpected argument \"%s\"",
					   argv[0]);
	msg = cpnsctl_msg(c, CPNS_CMD_STATS_GET, 0, &status);
	if (!msg)
		return status;
	return cpnsctl_request(c, msg, cpnsctl_stats_print, NULL, NULL);
}

static int cpnsctl_stats_reset(struct cpnsctl *c, int argc, char **argv)
{
	struct nl_msg *msg;
	int status;

	if (argc > 0)
		return cpnsctl_usage_error(cpnsctl_stats_usage,
					   "stats reset: unexpected argument \"%s\"",
					   argv[0]);
	msg = cpnsctl_msg(c, CPNS_CMD_STATS_RESET, 0, &status);
	if (!msg)
		return status;
	return cpnsctl_request(c, msg, NULL, NULL, NULL);
}

static const struct cpnsctl_cmd cpnsctl_stats_cmds[] = {
	{ "show", cpnsctl_stats_show },
	{ "reset", cpnsctl_stats_reset },
	{ NULL, NULL },
};

int cpnsctl_do_stats(struct cpnsctl *c, int argc, char **argv)
{
	return cpnsctl_dispatch(c, "stats", cpnsctl_stats_cmds,
				cpnsctl_stats_usage, "show", argc, argv);
}

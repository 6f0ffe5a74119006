// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsctl link: the namespace's UDP listening port and forwarding.
 */
#include "cpnsctl.h"

static const char cpnsctl_link_usage[] =
	"Usage: cpnsctl link show\n"
	"       cpnsctl link set [ port PORT ] [ forwarding { on | off } ]\n";

static int cpnsctl_link_print(uint8_t cmd, struct nlattr **a, void *arg)
{
	(void)cmd;
	(void)arg;
	cpns_print_open_object(NULL);
	if (a[CPNS_A_UDP_PORT])
		cpns_print_uint(CPNS_PR_ANY, "port", "port %u",
				nla_get_u16(a[CPNS_A_UDP_PORT]));
	if (a[CPNS_A_FORWARDING])
		cpns_print_onoff(CPNS_PR_ANY, "forwarding", " forwarding %s",
				 nla_get_u8(a[CPNS_A_FORWARDING]));
	cpns_print_nl();
	cpns_print_close_object();
	return 0;
}

static int cpnsctl_link_show(struct cpnsctl *c, int argc, char **argv)
{
	struct nl_msg *msg;
	int status;

	if (argc > 0)
		return cpnsctl_usage_error(cpnsctl_link_usage,
					   "link show: unexpected argument \"%s\"",
					   argv[0]);
	msg = cpnsctl_msg(c, CPNS_CMD_LINK_GET, 0, &status);
	if (!msg)
		return status;
	return cpnsctl_request(c, msg, cpnsctl_link_print, NULL, NULL);
}

static int cpnsctl_link_set(struct cpnsctl *c, int argc, char **argv)
{
	bool has_port = false, has_fwd = false, fwd = false;
	unsigned long port = 0;
	struct nl_msg *msg;
	int status;

	for (; argc > 0; argc -= 2, argv += 2) {
		if (argc < 2)
			return cpnsctl_usage_error(cpnsctl_link_usage,
						   "link set: \"%s\" needs a value",
						   argv[0]);
		if (cpnsctl_matches(argv[0], "port") && !has_port) {
			if (cpnsctl_parse_uint(argv[1], 1, 65535, &port))
				return cpnsctl_usage_error(cpnsctl_link_usage,
							   "link set: invalid port \"%s\" (1-65535)",
							   argv[1]);
			has_port = true;
		} else if (cpnsctl_matches(argv[0], "forwarding") && !has_fwd) {
			if (cpnsctl_parse_onoff(argv[1], &fwd))
				return cpnsctl_usage_error(cpnsctl_link_usage,
							   "link set: forwarding is \"on\" or \"off\", not \"%s\"",
							   argv[1]);
			has_fwd = true;
		} else {
			return cpnsctl_usage_error(cpnsctl_link_usage,
						   "link set: unexpected or repeated \"%s\"",
						   argv[0]);
		}
	}
	if (!has_port && !has_fwd)
		return cpnsctl_usage_error(cpnsctl_link_usage,
					   "link set: nothing to set");
	msg = cpnsctl_msg(c, CPNS_CMD_LINK_SET, 0, &status);
	if (!msg)
		return status;
	if ((has_port && nla_put_u16(msg, CPNS_A_UDP_PORT, (uint16_t)port)) ||
	    (has_fwd && nla_put_u8(msg, CPNS_A_FORWARDING, fwd))) {
		return cpnsctl_put_failed(msg);
	}
	return cpnsctl_request(c, msg, NULL, NULL, NULL);
}

static const struct cpnsctl_cmd cpnsctl_link_cmds[] = {
	{ "show", cpnsctl_link_show },
	{ "set", cpnsctl_link_set },
	{ NULL, NULL },
};

int cpnsctl_do_link(struct cpnsctl *c, int argc, char **argv)
{
	return cpnsctl_dispatch(c, "link", cpnsctl_link_cmds,
				cpnsctl_link_usage, "show", argc, argv);
}

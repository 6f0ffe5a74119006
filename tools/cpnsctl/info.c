// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsctl info: module interface version, AF_CPNS number, profile.
 */
#include "cpnsctl.h"

static const char cpnsctl_info_usage[] = "Usage: cpnsctl info\n";

static int cpnsctl_info_print(uint8_t cmd, struct nlattr **a, void *arg)
{
	(void)cmd;
	(void)arg;
	cpns_print_open_object(NULL);
	if (a[CPNS_A_VERSION])
		cpns_print_uint(CPNS_PR_ANY, "version", "version %u",
				nla_get_u32(a[CPNS_A_VERSION]));
	if (a[CPNS_A_AF])
		cpns_print_uint(CPNS_PR_ANY, "family", " family %u",
				nla_get_u32(a[CPNS_A_AF]));
	if (a[CPNS_A_PROFILE])
		cpns_print_string(CPNS_PR_ANY, "profile", " profile %s",
				  nla_get_string(a[CPNS_A_PROFILE]));
	cpns_print_nl();
	cpns_print_close_object();
	return 0;
}

int cpnsctl_do_info(struct cpnsctl *c, int argc, char **argv)
{
	struct nl_msg *msg;
	int status;

	if (argc > 0 && cpnsctl_matches(argv[0], "help")) {
		fputs(cpnsctl_info_usage, stdout);
		return CPNSCTL_EXIT_OK;
	}
	if (argc > 0)
		return cpnsctl_usage_error(cpnsctl_info_usage,
					   "info: unexpected argument \"%s\"",
					   argv[0]);
	msg = cpnsctl_msg(c, CPNS_CMD_INFO_GET, 0, &status);
	if (!msg)
		return status;
	return cpnsctl_request(c, msg, cpnsctl_info_print, NULL, NULL);
}

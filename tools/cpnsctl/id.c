// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsctl id: the namespace's local entity IDs.
 */
#include "cpnsctl.h"

static const char cpnsctl_id_usage[] =
	"Usage: cpnsctl id add ID\n"
	"       cpnsctl id del ID\n"
	"       cpnsctl id show\n"
	"where  ID := 32 hex digits or the UUID form 8-4-4-4-12\n";

static int cpnsctl_id_add(struct cpnsctl *c, int argc, char **argv)
{
	return cpnsctl_id_request(c, cpnsctl_id_usage, "id add", CPNS_CMD_ID_ADD,
				  CPNS_A_LOCAL_ID, argc, argv);
}

static int cpnsctl_id_del(struct cpnsctl *c, int argc, char **argv)
{
	return cpnsctl_id_request(c, cpnsctl_id_usage, "id del", CPNS_CMD_ID_DEL,
				  CPNS_A_LOCAL_ID, argc, argv);
}

static int cpnsctl_id_print(uint8_t cmd, struct nlattr **a, void *arg)
{
	(void)cmd;
	(void)arg;
	if (!a[CPNS_A_LOCAL_ID] || nla_len(a[CPNS_A_LOCAL_ID]) != CPNS_ID_LEN)
		return 0;
	cpns_print_open_object(NULL);
	cpns_print_id(CPNS_PR_ANY, "id", "%s", nla_data(a[CPNS_A_LOCAL_ID]));
	cpns_print_nl();
	cpns_print_close_object();
	return 0;
}

static int cpnsctl_id_show(struct cpnsctl *c, int argc, char **argv)
{
	struct nl_msg *msg;
	int status;

	if (argc > 0)
		return cpnsctl_usage_error(cpnsctl_id_usage,
					   "id show: unexpected argument \"%s\"",
					   argv[0]);
	msg = cpnsctl_msg(c, CPNS_CMD_ID_GET, NLM_F_DUMP, &status);
	if (!msg)
		return status;
	cpns_print_open_array(NULL);
	status = cpnsctl_dump(c, msg, cpnsctl_id_print, NULL, NULL);
	cpns_print_close_array();
	return status;
}

static const struct cpnsctl_cmd cpnsctl_id_cmds[] = {
	{ "add", cpnsctl_id_add },
	{ "del", cpnsctl_id_del },
	{ "show", cpnsctl_id_show },
	{ NULL, NULL },
};

int cpnsctl_do_id(struct cpnsctl *c, int argc, char **argv)
{
	return cpnsctl_dispatch(c, "id", cpnsctl_id_cmds, cpnsctl_id_usage,
				"show", argc, argv);
}

// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsctl route: PNE routes, through a GW entity (S) or to an endpoint (GW).
 */
#include "cpnsctl.h"

static const char cpnsctl_route_usage[] =
	"Usage: cpnsctl route add PNE via GW_ID\n"
	"       cpnsctl route add PNE endpoint ADDR [ learn { on | off } ]\n"
	"       cpnsctl route del PNE\n"
	"       cpnsctl route show\n";

static int cpnsctl_route_add(struct cpnsctl *c, int argc, char **argv)
{
	uint8_t pne[CPNS_ID_LEN], via[CPNS_ID_LEN];
	struct sockaddr_storage ss;
	bool is_via, has_learn = false, learn = true;
	struct nl_msg *msg;
	socklen_t len;
	int status;

	if (argc == 5 && cpnsctl_matches(argv[1], "endpoint") &&
	    cpnsctl_matches(argv[3], "learn")) {
		if (cpnsctl_parse_onoff(argv[4], &learn))
			return cpnsctl_usage_error(cpnsctl_route_usage,
						   "route add: learn is \"on\" or \"off\", not \"%s\"",
						   argv[4]);
		has_learn = true;
		argc = 3;
	}
	if (argc != 3)
		return cpnsctl_usage_error(cpnsctl_route_usage,
					   "route add: expected PNE via GW_ID or PNE endpoint ADDR [learn on|off]");
	if (cpnsctl_parse_id(argv[0], pne))
		return cpnsctl_usage_error(cpnsctl_route_usage,
					   "route add: invalid entity ID \"%s\"",
					   argv[0]);
	if (cpnsctl_matches(argv[1], "via")) {
		is_via = true;
		if (cpnsctl_parse_id(argv[2], via))
			return cpnsctl_usage_error(cpnsctl_route_usage,
						   "route add: invalid entity ID \"%s\"",
						   argv[2]);
	} else if (cpnsctl_matches(argv[1], "endpoint")) {
		is_via = false;
		if (cpnsctl_parse_addr(argv[2], &ss, &len))
			return cpnsctl_usage_error(cpnsctl_route_usage,
						   "route add: invalid endpoint \"%s\"",
						   argv[2]);
	} else {
		return cpnsctl_usage_error(cpnsctl_route_usage,
					   "route add: expected \"via\" or \"endpoint\", not \"%s\"",
					   argv[1]);
	}
	msg = cpnsctl_msg(c, CPNS_CMD_ROUTE_ADD, 0, &status);
	if (!msg)
		return status;
	if (cpns_nl_put_id(msg, CPNS_A_PEER_ID, pne) ||
	    (is_via ? cpns_nl_put_id(msg, CPNS_A_VIA_ID, via) :
		      cpns_nl_put_addr(msg, (struct sockaddr *)&ss)) ||
	    (has_learn && nla_put_u8(msg, CPNS_A_LEARN, learn)))
		return cpnsctl_put_failed(msg);
	return cpnsctl_request(c, msg, NULL, NULL, NULL);
}

static int cpnsctl_route_del(struct cpnsctl *c, int argc, char **argv)
{
	return cpnsctl_id_request(c, cpnsctl_route_usage, "route del", CPNS_CMD_ROUTE_DEL,
				  CPNS_A_PEER_ID, argc, argv);
}

static int cpnsctl_route_print(uint8_t cmd, struct nlattr **a, void *arg)
{
	struct sockaddr_storage ss;
	socklen_t len;

	(void)cmd;
	(void)arg;
	if (!a[CPNS_A_PEER_ID] || nla_len(a[CPNS_A_PEER_ID]) != CPNS_ID_LEN)
		return 0;
	cpns_print_open_object(NULL);
	cpns_print_id(CPNS_PR_ANY, "pne", "%s", nla_data(a[CPNS_A_PEER_ID]));
	if (a[CPNS_A_VIA_ID] && nla_len(a[CPNS_A_VIA_ID]) == CPNS_ID_LEN)
		cpns_print_id(CPNS_PR_ANY, "via", " via %s",
			      nla_data(a[CPNS_A_VIA_ID]));
	if (!cpns_nl_get_addr(a, &ss, &len))
		cpns_print_addr(CPNS_PR_ANY, "endpoint", " endpoint %s",
				(struct sockaddr *)&ss, len);
	if (a[CPNS_A_LEARN])
		cpns_print_onoff(CPNS_PR_ANY, "learn", " learn %s",
				 nla_get_u8(a[CPNS_A_LEARN]));
	cpns_print_nl();
	cpns_print_close_object();
	return 0;
}

static int cpnsctl_route_show(struct cpnsctl *c, int argc, char **argv)
{
	struct nl_msg *msg;
	int status;

	if (argc > 0)
		return cpnsctl_usage_error(cpnsctl_route_usage,
					   "route show: unexpected argument \"%s\"",
					   argv[0]);
	msg = cpnsctl_msg(c, CPNS_CMD_ROUTE_GET, NLM_F_DUMP, &status);
	if (!msg)
		return status;
	cpns_print_open_array(NULL);
	status = cpnsctl_dump(c, msg, cpnsctl_route_print, NULL, NULL);
	cpns_print_close_array();
	return status;
}

static const struct cpnsctl_cmd cpnsctl_route_cmds[] = {
	{ "add", cpnsctl_route_add },
	{ "del", cpnsctl_route_del },
	{ "show", cpnsctl_route_show },
	{ NULL, NULL },
};

int cpnsctl_do_route(struct cpnsctl *c, int argc, char **argv)
{
	return cpnsctl_dispatch(c, "route", cpnsctl_route_cmds,
				cpnsctl_route_usage, "show", argc, argv);
}

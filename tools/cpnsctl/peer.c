// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsctl peer: the address table (peer entity -> UDP endpoint).
 */
#include "cpnsctl.h"

static const char cpnsctl_peer_usage[] =
	"Usage: cpnsctl peer set ID endpoint ADDR [ learn { on | off } ]\n"
	"                          [ uplink { on | off } ]\n"
	"       cpnsctl peer del ID\n"
	"       cpnsctl peer show [ ID ]\n"
	"where  ADDR := { IPv4[:PORT] | [IPv6][:PORT] }   (PORT default 7870)\n";

static int cpnsctl_peer_set(struct cpnsctl *c, int argc, char **argv)
{
	bool has_ep = false, has_learn = false, learn = false;
	bool has_uplink = false, uplink = false;
	struct sockaddr_storage ss;
	uint8_t id[CPNS_ID_LEN];
	struct nl_msg *msg;
	socklen_t len;
	int status;

	if (argc < 1)
		return cpnsctl_usage_error(cpnsctl_peer_usage,
					   "peer set: missing ID");
	if (cpnsctl_parse_id(argv[0], id))
		return cpnsctl_usage_error(cpnsctl_peer_usage,
					   "peer set: invalid entity ID \"%s\"",
					   argv[0]);
	for (argc--, argv++; argc > 0; argc -= 2, argv += 2) {
		if (argc < 2)
			return cpnsctl_usage_error(cpnsctl_peer_usage,
						   "peer set: \"%s\" needs a value",
						   argv[0]);
		if (cpnsctl_matches(argv[0], "endpoint") && !has_ep) {
			if (cpnsctl_parse_addr(argv[1], &ss, &len))
				return cpnsctl_usage_error(cpnsctl_peer_usage,
							   "peer set: invalid endpoint \"%s\"",
							   argv[1]);
			has_ep = true;
		} else if (cpnsctl_matches(argv[0], "learn") && !has_learn) {
			if (cpnsctl_parse_onoff(argv[1], &learn))
				return cpnsctl_usage_error(cpnsctl_peer_usage,
							   "peer set: learn is \"on\" or \"off\", not \"%s\"",
							   argv[1]);
			has_learn = true;
		} else if (cpnsctl_matches(argv[0], "uplink") && !has_uplink) {
			if (cpnsctl_parse_onoff(argv[1], &uplink))
				return cpnsctl_usage_error(cpnsctl_peer_usage,
							   "peer set: uplink is \"on\" or \"off\", not \"%s\"",
							   argv[1]);
			has_uplink = true;
		} else {
			return cpnsctl_usage_error(cpnsctl_peer_usage,
						   "peer set: unexpected or repeated \"%s\"",
						   argv[0]);
		}
	}
	if (!has_ep)
		return cpnsctl_usage_error(cpnsctl_peer_usage,
					   "peer set: missing \"endpoint ADDR\"");
	msg = cpnsctl_msg(c, CPNS_CMD_PEER_SET, 0, &status);
	if (!msg)
		return status;
	if (cpns_nl_put_id(msg, CPNS_A_PEER_ID, id) ||
	    cpns_nl_put_addr(msg, (struct sockaddr *)&ss) ||
	    (has_learn && nla_put_u8(msg, CPNS_A_LEARN, learn)) ||
	    (has_uplink && nla_put_u8(msg, CPNS_A_UPLINK, uplink)))
		return cpnsctl_put_failed(msg);
	return cpnsctl_request(c, msg, NULL, NULL, NULL);
}

static int cpnsctl_peer_del(struct cpnsctl *c, int argc, char **argv)
{
	return cpnsctl_id_request(c, cpnsctl_peer_usage, "peer del", CPNS_CMD_PEER_DEL,
				  CPNS_A_PEER_ID, argc, argv);
}

static int cpnsctl_peer_print(uint8_t cmd, struct nlattr **a, void *arg)
{
	struct sockaddr_storage ss;
	socklen_t len;

	(void)cmd;
	(void)arg;
	if (!a[CPNS_A_PEER_ID] || nla_len(a[CPNS_A_PEER_ID]) != CPNS_ID_LEN)
		return 0;
	cpns_print_open_object(NULL);
	cpns_print_id(CPNS_PR_ANY, "id", "%s", nla_data(a[CPNS_A_PEER_ID]));
	if (!cpns_nl_get_addr(a, &ss, &len))
		cpns_print_addr(CPNS_PR_ANY, "endpoint", " endpoint %s",
				(struct sockaddr *)&ss, len);
	else
		cpns_print_null(CPNS_PR_ANY, "endpoint", " endpoint %s");
	if (a[CPNS_A_LEARN])
		cpns_print_onoff(CPNS_PR_ANY, "learn", " learn %s",
				 nla_get_u8(a[CPNS_A_LEARN]));
	if (a[CPNS_A_UPLINK])
		cpns_print_onoff(CPNS_PR_ANY, "uplink", " uplink %s",
				 nla_get_u8(a[CPNS_A_UPLINK]));
	cpns_print_nl();
	cpns_print_close_object();
	return 0;
}

static int cpnsctl_peer_show(struct cpnsctl *c, int argc, char **argv)
{
	uint8_t id[CPNS_ID_LEN];
	struct nl_msg *msg;
	int status;

	if (argc > 1)
		return cpnsctl_usage_error(cpnsctl_peer_usage,
					   "peer show: unexpected argument \"%s\"",
					   argv[1]);
	if (argc == 1 && cpnsctl_parse_id(argv[0], id))
		return cpnsctl_usage_error(cpnsctl_peer_usage,
					   "peer show: invalid entity ID \"%s\"",
					   argv[0]);
	msg = cpnsctl_msg(c, CPNS_CMD_PEER_GET, argc ? 0 : NLM_F_DUMP,
			  &status);
	if (!msg)
		return status;
	if (argc == 1) {
		if (cpns_nl_put_id(msg, CPNS_A_PEER_ID, id))
			return cpnsctl_put_failed(msg);
		cpns_print_open_array(NULL);
		status = cpnsctl_request(c, msg, cpnsctl_peer_print, NULL,
					 NULL);
	} else {
		cpns_print_open_array(NULL);
		status = cpnsctl_dump(c, msg, cpnsctl_peer_print, NULL, NULL);
	}
	cpns_print_close_array();
	return status;
}

static const struct cpnsctl_cmd cpnsctl_peer_cmds[] = {
	{ "set", cpnsctl_peer_set },
	{ "del", cpnsctl_peer_del },
	{ "show", cpnsctl_peer_show },
	{ NULL, NULL },
};

int cpnsctl_do_peer(struct cpnsctl *c, int argc, char **argv)
{
	return cpnsctl_dispatch(c, "peer", cpnsctl_peer_cmds,
				cpnsctl_peer_usage, "show", argc, argv);
}

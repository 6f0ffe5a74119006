// SPDX-License-Identifier: GPL-2.0
/*
 * cpns_nl against a family every Linux host has, the genl controller
 * ("nlctrl"): kernel errors come back with their extack text, the socket
 * stays usable after an error, dumps run to the end. White-box: the
 * connection is set up by hand on GENL_ID_CTRL, so the cpns module is not
 * needed; without it, cpns_nl_open() must say that the module is not
 * loaded.
 */
#include <linux/genetlink.h>

#include "../lib/cpns_nl.c"
#include "tap.h"

static int replies;
static bool saw_nlctrl;

static int count_cb(uint8_t cmd, struct nlattr **a, void *arg)
{
	(void)cmd;
	(void)a;
	(void)arg;
	replies++;
	return 0;
}

/* nlctrl attributes share numbers with CPNS_A_*: read them raw. */
static int family_cb(uint8_t cmd, struct nlattr **a, void *arg)
{
	(void)cmd;
	(void)arg;
	replies++;
	if (a[CTRL_ATTR_FAMILY_NAME] &&
	    !strcmp(nla_get_string(a[CTRL_ATTR_FAMILY_NAME]), "nlctrl"))
		saw_nlctrl = true;
	return 0;
}

int main(void)
{
	struct cpns_err err = { 0 };
	struct cpns_nl nl = { 0 }, *real = NULL;
	struct nl_msg *msg;
	char big[GENL_NAMSIZ + 8];
	int one = 1, ret;

	tap_start();
	tap_plan(8);

	ret = cpns_nl_open(&real, &err);
	if (ret == -ENOENT)
		tap_ok(strstr(err.msg, "cpns module not loaded (modprobe cpns)") != NULL,
		       "open without the module: \"%s\"", err.msg);
	else if (!ret)
		tap_skip("the cpns module is loaded here", "open without the module");
	else
		tap_ok(false, "open: unexpected %d %s", ret, err.msg);
	cpns_nl_close(real);

	nl.sk = nl_socket_alloc();
	if (!nl.sk || genl_connect(nl.sk) < 0)
		tap_bail("no generic netlink socket");
	setsockopt(nl_socket_get_fd(nl.sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl.sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	nl.family = GENL_ID_CTRL;

	/* a family name longer than the policy allows */
	memset(big, 'a', sizeof(big));
	msg = cpns_nl_msg_new(&nl, CTRL_CMD_GETFAMILY, 0);
	nla_put(msg, CTRL_ATTR_FAMILY_NAME, sizeof(big), big);
	cpns_err_clear(&err);
	ret = cpns_nl_request(&nl, msg, count_cb, NULL, &err);
	tap_ok(ret == -EINVAL, "policy violation: -EINVAL (%d)", ret);
	tap_ok(strstr(err.msg, "policy") != NULL,
	       "the kernel's extack text is returned: \"%s\"", err.msg);

	msg = cpns_nl_msg_new(&nl, CTRL_CMD_GETFAMILY, 0);
	nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, "cpnsnosuchfam");
	ret = cpns_nl_request(&nl, msg, count_cb, NULL, &err);
	tap_ok(ret == -ENOENT, "unknown family: -ENOENT (%d, \"%s\")", ret,
	       err.msg);

	replies = 0;
	msg = cpns_nl_msg_new(&nl, CTRL_CMD_GETFAMILY, 0);
	nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, "nlctrl");
	ret = cpns_nl_request(&nl, msg, family_cb, NULL, &err);
	tap_ok(!ret && replies == 1 && saw_nlctrl,
	       "after errors the socket still works: one reply (%d, %d)", ret,
	       replies);

	replies = 0;
	saw_nlctrl = false;
	msg = cpns_nl_msg_new(&nl, CTRL_CMD_GETFAMILY, NLM_F_DUMP);
	ret = cpns_nl_dump(&nl, msg, family_cb, NULL, &err);
	tap_ok(!ret && replies >= 1 && saw_nlctrl,
	       "dump runs to the end (%d families)", replies);

	ret = cpns_netns_enter("../etc", &err);
	tap_ok(ret == -EINVAL, "netns name with a slash refused");
	ret = cpns_netns_enter("cpns-test-no-such-netns", &err);
	tap_ok(ret == -ENOENT && strstr(err.msg, "cpns-test-no-such-netns"),
	       "missing netns: \"%s\"", err.msg);

	nl_socket_free(nl.sk);
	return tap_done();
}

// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsctl monitor: print the notifications of the "events" group until
 * SIGINT or SIGTERM. When notifications were lost, say so and print the
 * full session state again, as a daemon would re-read it.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "cpnsctl.h"

static const char cpnsctl_monitor_usage[] = "Usage: cpnsctl monitor\n";

static const char *cpnsctl_event_name(uint8_t cmd)
{
	switch (cmd) {
	case CPNS_CMD_EPOCH_NTF:		return "epoch";
	case CPNS_CMD_TX_SWITCHED_NTF:		return "tx-switched";
	case CPNS_CMD_SESSION_ERASED_NTF:	return "erased";
	case CPNS_CMD_NO_SESSION_NTF:		return "no-session";
	default:				return NULL;
	}
}

static void cpnsctl_print_time(void)
{
	struct timespec ts;
	struct tm tm;
	char buf[64];
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ts);
	localtime_r(&ts.tv_sec, &tm);
	n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, sizeof(buf) - n, ".%06ld", ts.tv_nsec / 1000);
	cpns_print_string(CPNS_PR_ANY, "time", "[%s]", buf);
}

static void cpnsctl_print_id_attr(struct nlattr *a, const char *key,
				  const char *fmt)
{
	if (a && nla_len(a) == CPNS_ID_LEN)
		cpns_print_id(CPNS_PR_ANY, key, fmt, nla_data(a));
}

/* One "lost" record holding the full session state, read again. */
static void cpnsctl_monitor_lost(struct cpnsctl *c, unsigned int n)
{
	cpns_print_open_object(NULL);
	cpnsctl_print_time();
	cpns_print_string(CPNS_PR_ANY, "event", " %s", "lost");
	if (n)
		cpns_print_uint(CPNS_PR_ANY, "count", " %u", n);
	cpns_print_text(" notifications lost; re-reading sessions");
	cpns_print_nl();
	cpnsctl_session_dump(c, "sessions");
	cpns_print_close_object();
	fflush(stdout);
}

static int cpnsctl_monitor_event(uint8_t cmd, struct nlattr **a, void *arg)
{
	struct cpnsctl *c = arg;
	const char *name = cpnsctl_event_name(cmd);
	struct sockaddr_storage ss;
	socklen_t len;

	if (!name)
		return 0;
	cpns_print_open_object(NULL);
	cpnsctl_print_time();
	cpns_print_string(CPNS_PR_ANY, "event", " %s", name);
	cpnsctl_print_id_attr(a[CPNS_A_LOCAL_ID], "local", " local %s");
	cpnsctl_print_id_attr(a[CPNS_A_PEER_ID], "peer", " peer %s");
	cpnsctl_print_id_attr(a[CPNS_A_SRC_ID], "src", " src %s");
	cpnsctl_print_id_attr(a[CPNS_A_DST_ID], "dst", " dst %s");
	if (a[CPNS_A_GENERATION])
		cpns_print_uint(CPNS_PR_ANY, "generation", " generation %u",
				nla_get_u8(a[CPNS_A_GENERATION]));
	if (a[CPNS_A_DIRECTION])
		cpns_print_string(CPNS_PR_ANY, "direction", " direction %s",
				  nla_get_u8(a[CPNS_A_DIRECTION]) == CPNS_DIR_TX ?
				  "tx" : "rx");
	if (a[CPNS_A_EPOCH])
		cpns_print_uint(CPNS_PR_ANY, "epoch", " epoch %u",
				nla_get_u8(a[CPNS_A_EPOCH]));
	if (a[CPNS_A_CAUSE])
		cpns_print_string(CPNS_PR_ANY, "cause", " cause %s",
				  cpnsctl_cause_name(nla_get_u8(a[CPNS_A_CAUSE])));
	if (a[CPNS_A_EXHAUSTED])
		cpns_print_bool(CPNS_PR_ANY, "exhausted", " exhausted %s",
				nla_get_u8(a[CPNS_A_EXHAUSTED]));
	if (!cpns_nl_get_addr(a, &ss, &len))
		cpns_print_addr(CPNS_PR_ANY, "endpoint", " endpoint %s",
				(struct sockaddr *)&ss, len);
	cpns_print_nl();
	cpns_print_close_object();
	fflush(stdout);
	/* the kernel counted notifications it could not queue before this */
	if (a[CPNS_A_LOST] && nla_get_u32(a[CPNS_A_LOST]))
		cpnsctl_monitor_lost(c, nla_get_u32(a[CPNS_A_LOST]));
	return 0;
}

int cpnsctl_do_monitor(struct cpnsctl *c, int argc, char **argv)
{
	struct cpns_err err = { 0 };
	struct pollfd pfd[2];
	struct cpns_nl *nl;
	sigset_t mask;
	int sfd, status = CPNSCTL_EXIT_OK, ret;

	if (argc > 0 && cpnsctl_matches(argv[0], "help")) {
		fputs(cpnsctl_monitor_usage, stdout);
		return CPNSCTL_EXIT_OK;
	}
	if (argc > 0)
		return cpnsctl_usage_error(cpnsctl_monitor_usage,
					   "monitor: unexpected argument \"%s\"",
					   argv[0]);
	nl = cpnsctl_nl(c, &status);
	if (!nl)
		return status;
	if (cpns_nl_events_open(nl, &err) < 0)
		return cpnsctl_kernel_error(&err, NULL);

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		fprintf(stderr, "%s: signalfd: %s\n", cpnsctl_prog,
			strerror(errno));
		return CPNSCTL_EXIT_KERNEL;
	}
	pfd[0] = (struct pollfd){ .fd = cpns_nl_events_fd(nl), .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = sfd, .events = POLLIN };
	for (;;) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "%s: poll: %s\n", cpnsctl_prog,
				strerror(errno));
			status = CPNSCTL_EXIT_KERNEL;
			break;
		}
		if (pfd[1].revents) {
			struct signalfd_siginfo si;

			/* Consume the signal: left pending, it would kill
			 * us once it is unblocked below.
			 */
			if (read(sfd, &si, sizeof(si)) != sizeof(si))
				status = CPNSCTL_EXIT_KERNEL;
			break;
		}
		if (!pfd[0].revents)
			continue;
		ret = cpns_nl_events_read(nl, cpnsctl_monitor_event, c, &err);
		if (ret == -ENOBUFS) {
			cpnsctl_monitor_lost(c, 0);
		} else if (ret < 0) {
			status = cpnsctl_kernel_error(&err, NULL);
			break;
		}
	}
	close(sfd);
	sigprocmask(SIG_UNBLOCK, &mask, NULL);
	return status;
}

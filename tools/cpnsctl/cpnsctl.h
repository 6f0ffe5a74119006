/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cpnsctl: configure the cpns kernel module. One file per object family;
 * main.c holds the object table, the options and batch mode.
 *
 * Every command parses all of its arguments before it opens netlink, so a
 * usage error changes nothing and does not need the module.
 */
#ifndef CPNSCTL_H
#define CPNSCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/cpns.h>

#include "cpns_crypto.h"
#include "cpns_err.h"
#include "cpns_nl.h"
#include "cpns_print.h"

/* Exit status */
enum {
	CPNSCTL_EXIT_OK = 0,
	CPNSCTL_EXIT_USAGE = 1,		/* bad arguments; nothing was sent */
	CPNSCTL_EXIT_KERNEL = 2,	/* the kernel or netlink refused/failed */
	CPNSCTL_EXIT_AUTH = 3,		/* handshake: authentication rejected */
	CPNSCTL_EXIT_UNREACHABLE = 4,	/* handshake: peer unreachable/timed out */
};

struct cpnsctl {
	bool json, pretty, stats, details;
	const char *netns;
	bool stdin_busy;		/* batch file is stdin: no key from "-" */
	bool in_batch;			/* running the lines of -b */
	struct cpns_nl *nl;		/* opened on first use */
};

struct cpnsctl_cmd {
	const char *name;
	int (*fn)(struct cpnsctl *c, int argc, char **argv);
};

/* main.c */
extern const char *cpnsctl_prog;
int cpnsctl_usage_error(const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int cpnsctl_dispatch(struct cpnsctl *c, const char *object,
		     const struct cpnsctl_cmd *cmds, const char *usage,
		     const char *dflt, int argc, char **argv);
struct cpns_nl *cpnsctl_nl(struct cpnsctl *c, int *status);
int cpnsctl_kernel_error(const struct cpns_err *err, const char *what);
int cpnsctl_put_failed(struct nl_msg *msg);
int cpnsctl_id_request(struct cpnsctl *c, const char *usage, const char *what,
		       uint8_t cmd, int attr, int argc, char **argv);
int cpnsctl_request(struct cpnsctl *c, struct nl_msg *msg, cpns_nl_msg_cb cb,
		    void *arg, const char *what);
int cpnsctl_dump(struct cpnsctl *c, struct nl_msg *msg, cpns_nl_msg_cb cb,
		 void *arg, const char *what);
struct nl_msg *cpnsctl_msg(struct cpnsctl *c, uint8_t cmd, int flags,
			   int *status);

/* args.c: argument words */
bool cpnsctl_matches(const char *arg, const char *keyword);
int cpnsctl_parse_id(const char *s, uint8_t id[CPNS_ID_LEN]);
int cpnsctl_parse_onoff(const char *s, bool *v);
int cpnsctl_parse_uint(const char *s, unsigned long min, unsigned long max,
		       unsigned long *v);
int cpnsctl_parse_addr(const char *s, struct sockaddr_storage *ss,
		       socklen_t *len);
int cpnsctl_split_line(char *line, char **argv, int max);

/* names of enum values */
const char *cpnsctl_suite_name(unsigned int suite);
const char *cpnsctl_role_name(unsigned int role);
const char *cpnsctl_mode_name(unsigned int mode);
const char *cpnsctl_cause_name(unsigned int cause);
const char *cpnsctl_stat_name(unsigned int stat);

/* object families */
int cpnsctl_do_info(struct cpnsctl *c, int argc, char **argv);
int cpnsctl_do_link(struct cpnsctl *c, int argc, char **argv);
int cpnsctl_do_id(struct cpnsctl *c, int argc, char **argv);
int cpnsctl_do_peer(struct cpnsctl *c, int argc, char **argv);
int cpnsctl_do_route(struct cpnsctl *c, int argc, char **argv);
int cpnsctl_do_session(struct cpnsctl *c, int argc, char **argv);
int cpnsctl_do_stats(struct cpnsctl *c, int argc, char **argv);
int cpnsctl_do_monitor(struct cpnsctl *c, int argc, char **argv);
int cpnsctl_do_enroll(struct cpnsctl *c, int argc, char **argv);
int cpnsctl_do_connect(struct cpnsctl *c, int argc, char **argv);
int cpnsctl_do_agent(struct cpnsctl *c, int argc, char **argv);

/* enroll.c: what procedure A leaves in the state directory, per server */
#define CPNSCTL_STATE_DIR	"/var/lib/cpns"

struct cpnsctl_enrolment {
	uint8_t server[CPNS_ID_LEN];
	uint8_t local[CPNS_ID_LEN];
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;
	uint32_t kid;
	uint64_t expiry;
	uint8_t eukey[CPNS_KEY_LEN];
};

char *cpnsctl_enrolment_path(const char *dir, const uint8_t server[CPNS_ID_LEN]);
int cpnsctl_enrolment_read(const char *dir, const uint8_t server[CPNS_ID_LEN],
			   struct cpnsctl_enrolment *e, struct cpns_err *err);
int cpnsctl_enrolment_write(const char *dir, const struct cpnsctl_enrolment *e,
			    struct cpns_err *err);

/* connect.c: procedure B once, as initiator; returns an exit status and
 * leaves a one-line outcome in @outcome (for the log line)
 */
int cpnsctl_procb(struct cpns_nl *nl, const struct cpnsctl_enrolment *e,
		  bool dhe, char *outcome, size_t outcome_size);

/* session.c, for monitor */
int cpnsctl_session_dump(struct cpnsctl *c, const char *key);
/* stats.c: print a CPNS_A_STATS nest */
void cpnsctl_print_stats(struct nlattr *nest, const char *key);

#endif /* CPNSCTL_H */

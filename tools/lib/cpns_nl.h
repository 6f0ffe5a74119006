/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Client of the "cpns" generic netlink family (include/uapi/linux/cpns.h),
 * on libnl-genl-3.
 *
 * Two sockets, as a daemon needs them: a request socket (requests, acks,
 * dumps) and, on demand, a separate non-blocking event socket joined to
 * the "events" multicast group. Errors come back as a negative errno with
 * a message in struct cpns_err: the kernel's extack text when it sent one.
 * The library never prints.
 */
#ifndef CPNS_NL_H
#define CPNS_NL_H

#include <stdint.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <linux/cpns.h>

#include "cpns_err.h"

struct cpns_nl;

/* Called once per reply or dumped object; attrs indexed by CPNS_A_*. */
typedef int (*cpns_nl_msg_cb)(uint8_t cmd, struct nlattr **attrs, void *arg);

int cpns_netns_enter(const char *name, struct cpns_err *err);

int cpns_nl_open(struct cpns_nl **nlp, struct cpns_err *err);
void cpns_nl_close(struct cpns_nl *nl);
int cpns_nl_family(const struct cpns_nl *nl);

struct nl_msg *cpns_nl_msg_new(struct cpns_nl *nl, uint8_t cmd, int flags);
void cpns_nl_msg_free(struct nl_msg *msg);
int cpns_nl_put_id(struct nl_msg *msg, int attr, const uint8_t id[CPNS_ID_LEN]);
int cpns_nl_put_addr(struct nl_msg *msg, const struct sockaddr *sa);

int cpns_nl_request(struct cpns_nl *nl, struct nl_msg *msg, cpns_nl_msg_cb cb,
		    void *arg, struct cpns_err *err);
int cpns_nl_queue(struct cpns_nl *nl, struct nl_msg *msg, uint32_t *seq,
		  struct cpns_err *err);
int cpns_nl_flush(struct cpns_nl *nl);
int cpns_nl_failures(struct cpns_nl *nl,
		     void (*cb)(void *arg, uint32_t seq, int error,
				const char *msg),
		     void *arg);
int cpns_nl_dump(struct cpns_nl *nl, struct nl_msg *msg, cpns_nl_msg_cb cb,
		 void *arg, struct cpns_err *err);

int cpns_nl_events_open(struct cpns_nl *nl, struct cpns_err *err);
int cpns_nl_events_fd(const struct cpns_nl *nl);
int cpns_nl_events_read(struct cpns_nl *nl, cpns_nl_msg_cb cb, void *arg,
			struct cpns_err *err);

int cpns_nl_get_addr(struct nlattr **attrs, struct sockaddr_storage *ss,
		     socklen_t *len);

#endif /* CPNS_NL_H */

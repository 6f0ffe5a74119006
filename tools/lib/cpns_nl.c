// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "cpns_crypto.h"
#include "cpns_nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Large enough that a burst of notifications does not overflow at once;
 * overflows are still detected and reported (ENOBUFS).
 */
#define CPNS_NL_EVENT_RCVBUF	(4 << 20)
#define CPNS_NL_DUMP_RETRIES	10
#define CPNS_NL_RECV_BUF	(64 << 10)

struct cpns_nl {
	struct nl_sock *sk;		/* requests, acks, dumps */
	struct nl_sock *ev;		/* events, non-blocking; or NULL */
	int family;
	uint8_t *ev_buf;
	/* cpns_nl_queue(): requests not sent yet, wiped once sent */
	uint8_t *q_buf;
	size_t q_len;
};

/* room for the requests of cpns_nl_queue() before cpns_nl_flush() */
#define CPNS_NL_QUEUE_SIZE	8192

/* State of one request while libnl runs our callbacks. */
struct cpns_nl_req {
	cpns_nl_msg_cb cb;
	void *arg;
	int error;			/* negative errno from the kernel or cb */
	int done;
	int intr;			/* NLM_F_DUMP_INTR seen */
	struct nlmsghdr *orig;		/* the request, for NLMSGERR_ATTR_OFFS */
	struct nl_msg **msgs;		/* dump: replies kept until complete */
	size_t n_msgs, cap_msgs;
	char extack[CPNS_ERR_MSG_LEN];
};

/**
 * cpns_netns_enter() - switch the calling thread to a named network namespace
 * @name: a name under /run/netns (as `ip netns add` creates them)
 * @err: error message, or NULL
 *
 * Call before opening any socket: sockets stay in the namespace they were
 * created in.
 *
 * Return: 0 or a negative errno.
 */
int cpns_netns_enter(const char *name, struct cpns_err *err)
{
	char path[4096];
	int fd, n;

	if (!*name || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return cpns_err_set(err, -EINVAL, "invalid netns name \"%s\"",
				    name);
	n = snprintf(path, sizeof(path), "/run/netns/%s", name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return cpns_err_set(err, -ENAMETOOLONG,
				    "netns name too long");
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return cpns_err_set(err, -errno,
				    "cannot open network namespace \"%s\": %s",
				    name, strerror(errno));
	if (setns(fd, CLONE_NEWNET) < 0) {
		n = errno;
		close(fd);
		return cpns_err_set(err, -n,
				    "setting the network namespace \"%s\" failed: %s",
				    name, strerror(n));
	}
	close(fd);
	return 0;
}

static int cpns_nl_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_NOMEM:		return -ENOMEM;
	case NLE_PERM:		return -EPERM;
	case NLE_NOACCESS:	return -EACCES;
	case NLE_AGAIN:		return -EAGAIN;
	case NLE_INTR:		return -EINTR;
	case NLE_OBJ_NOTFOUND:	return -ENOENT;
	case NLE_INVAL:		return -EINVAL;
	case NLE_MSGSIZE:	return -EMSGSIZE;
	case NLE_OPNOTSUPP:	return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:	return -EAFNOSUPPORT;
	default:		return -EIO;
	}
}

/**
 * cpns_nl_open() - open the request socket and resolve the "cpns" family
 * @nlp: output
 * @err: error message, or NULL
 *
 * Return: 0, -ENOENT when the family is not registered (the module is not
 * loaded), or another negative errno.
 */
int cpns_nl_open(struct cpns_nl **nlp, struct cpns_err *err)
{
	struct cpns_nl *nl;
	int one = 1, ret;

	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return cpns_err_set(err, -ENOMEM, "out of memory");
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		ret = cpns_err_set(err, -ENOMEM, "out of memory");
		goto err_free;
	}
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		ret = cpns_err_set(err, cpns_nl_errno(ret),
				   "cannot open a netlink socket: %s",
				   nl_geterror(ret));
		goto err_free_sock;
	}
	/*
	 * One recvmsg() per reply into a buffer larger than any the kernel
	 * sends (a dump's are at most 32 KiB), instead of libnl's default
	 * of peeking at each message's size first: two system calls per
	 * reply, several per request.
	 */
	nl_socket_disable_msg_peek(nl->sk);
	ret = nl_socket_set_msg_buf_size(nl->sk, CPNS_NL_RECV_BUF);
	if (ret < 0) {
		ret = cpns_err_set(err, cpns_nl_errno(ret),
				   "netlink socket: %s", nl_geterror(ret));
		goto err_free_sock;
	}
	/* Best effort: without it errors come without the kernel's text. */
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	nl->family = genl_ctrl_resolve(nl->sk, CPNS_GENL_NAME);
	if (nl->family < 0) {
		if (nl->family == -NLE_OBJ_NOTFOUND)
			ret = cpns_err_set(err, -ENOENT,
					   "cpns module not loaded (modprobe cpns)");
		else
			ret = cpns_err_set(err, cpns_nl_errno(nl->family),
					   "resolving the cpns netlink family failed: %s",
					   nl_geterror(nl->family));
		goto err_free_sock;
	}
	*nlp = nl;
	return 0;

err_free_sock:
	nl_socket_free(nl->sk);
err_free:
	free(nl);
	return ret;
}

void cpns_nl_close(struct cpns_nl *nl)
{
	if (!nl)
		return;
	if (nl->ev)
		nl_socket_free(nl->ev);
	nl_socket_free(nl->sk);
	free(nl->ev_buf);
	if (nl->q_buf)
		cpns_wipe(nl->q_buf, nl->q_len);
	free(nl->q_buf);
	free(nl);
}

int cpns_nl_family(const struct cpns_nl *nl)
{
	return nl->family;
}

/**
 * cpns_nl_msg_new() - a new request of the cpns family
 * @nl: the connection
 * @cmd: CPNS_CMD_*
 * @flags: extra NLM_F_* flags (NLM_F_DUMP for a dump)
 *
 * Return: the message, or NULL when out of memory.
 */
struct nl_msg *cpns_nl_msg_new(struct cpns_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 flags | NLM_F_REQUEST, cmd, CPNS_GENL_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int cpns_nl_put_id(struct nl_msg *msg, int attr, const uint8_t id[CPNS_ID_LEN])
{
	return nla_put(msg, attr, CPNS_ID_LEN, id);
}

/* CPNS_A_ADDR4 or CPNS_A_ADDR6, and CPNS_A_PORT in host order. */
int cpns_nl_put_addr(struct nl_msg *msg, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const void *)sa;

		return nla_put(msg, CPNS_A_ADDR4, 4, &sin->sin_addr) ?:
		       nla_put_u16(msg, CPNS_A_PORT, ntohs(sin->sin_port));
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		return nla_put(msg, CPNS_A_ADDR6, 16, &sin6->sin6_addr) ?:
		       nla_put_u16(msg, CPNS_A_PORT, ntohs(sin6->sin6_port));
	}
	return -NLE_INVAL;
}

/**
 * cpns_nl_get_addr() - the endpoint in CPNS_A_ADDR4/ADDR6 + CPNS_A_PORT
 * @attrs: parsed attributes
 * @ss: output
 * @len: output length
 *
 * Return: 0, or -ENOENT when the attributes carry no address.
 */
int cpns_nl_get_addr(struct nlattr **attrs, struct sockaddr_storage *ss,
		     socklen_t *len)
{
	uint16_t port = attrs[CPNS_A_PORT] ? nla_get_u16(attrs[CPNS_A_PORT]) : 0;

	memset(ss, 0, sizeof(*ss));
	if (attrs[CPNS_A_ADDR4] && nla_len(attrs[CPNS_A_ADDR4]) == 4) {
		struct sockaddr_in *sin = (void *)ss;

		sin->sin_family = AF_INET;
		memcpy(&sin->sin_addr, nla_data(attrs[CPNS_A_ADDR4]), 4);
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return 0;
	}
	if (attrs[CPNS_A_ADDR6] && nla_len(attrs[CPNS_A_ADDR6]) == 16) {
		struct sockaddr_in6 *sin6 = (void *)ss;

		sin6->sin6_family = AF_INET6;
		memcpy(&sin6->sin6_addr, nla_data(attrs[CPNS_A_ADDR6]), 16);
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -ENOENT;
}

static const char *cpns_nl_attr_name(unsigned int type)
{
	static const char *const names[] = {
		[CPNS_A_UDP_PORT] = "udp port",
		[CPNS_A_FORWARDING] = "forwarding",
		[CPNS_A_LOCAL_ID] = "local id",
		[CPNS_A_PEER_ID] = "peer id",
		[CPNS_A_VIA_ID] = "via id",
		[CPNS_A_ADDR4] = "IPv4 address",
		[CPNS_A_ADDR6] = "IPv6 address",
		[CPNS_A_PORT] = "port",
		[CPNS_A_LEARN] = "learn",
		[CPNS_A_GENERATION] = "generation",
		[CPNS_A_SUITE] = "suite",
		[CPNS_A_ROLE] = "role",
		[CPNS_A_TX_MODE] = "mode",
		[CPNS_A_TX_SECRET] = "tx secret",
		[CPNS_A_RX_SECRET] = "rx secret",
		[CPNS_A_UPLINK] = "uplink",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return NULL;
}

/* The error (or, for error 0, the ack) and its extack attributes. */
/*
 * The kernel's text of error message @nlh (extack), with the attribute it
 * names looked up in @orig, the request (NULL: not known), into @out; ""
 * when it has none.
 */
static void cpns_nl_extack(const struct nlmsghdr *nlh,
			   const struct nlmsghdr *orig, char *out, size_t size)
{
	const struct nlmsgerr *e = nlmsg_data(nlh);
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	const char *name, *what = "";
	unsigned int ack_len, miss = 0;
	int len;

	out[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	ack_len = NLMSG_HDRLEN + sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		ack_len += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (nlh->nlmsg_len <= ack_len)
		return;
	len = (int)(nlh->nlmsg_len - ack_len);
	if (nla_parse(tb, NLMSGERR_ATTR_MAX,
		      (struct nlattr *)((char *)nlh + ack_len), len, NULL))
		return;
	name = NULL;
	if (tb[NLMSGERR_ATTR_MISS_TYPE]) {
		miss = nla_get_u32(tb[NLMSGERR_ATTR_MISS_TYPE]);
		name = cpns_nl_attr_name(miss);
		what = name ? " [missing attribute: " : "";
	} else if (tb[NLMSGERR_ATTR_OFFS] && orig) {
		/* offset of the bad attribute in our request */
		uint32_t off = nla_get_u32(tb[NLMSGERR_ATTR_OFFS]);

		if (off >= NLMSG_HDRLEN + GENL_HDRLEN &&
		    off + NLA_HDRLEN <= orig->nlmsg_len)
			name = cpns_nl_attr_name(((struct nlattr *)
				((char *)orig + off))->nla_type &
				NLA_TYPE_MASK);
		what = " [attribute: ";
	}
	if (tb[NLMSGERR_ATTR_MSG]) {
		/* %.*s stops at the NUL the length counts */
		snprintf(out, size, "%.*s%s%s%s",
			 nla_len(tb[NLMSGERR_ATTR_MSG]),
			 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]),
			 name ? what : "", name ? name : "", name ? "]" : "");
	} else if (tb[NLMSGERR_ATTR_MISS_TYPE]) {
		if (name)
			snprintf(out, size, "missing attribute: %s", name);
		else
			snprintf(out, size, "missing attribute %u", miss);
	} else if (name) {
		snprintf(out, size, "invalid attribute: %s", name);
	}
}

static int cpns_nl_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e,
			  void *arg)
{
	struct cpns_nl_req *req = arg;

	(void)nla;
	req->error = e->error ? e->error : 0;
	req->done = 1;
	cpns_nl_extack((struct nlmsghdr *)e - 1, req->orig, req->extack,
		       sizeof(req->extack));
	return NL_STOP;
}

static int cpns_nl_ack_cb(struct nl_msg *msg, void *arg)
{
	struct cpns_nl_req *req = arg;

	(void)msg;
	req->done = 1;
	return NL_STOP;
}

/* NLMSG_DONE of a dump: an int error, then extack attributes. */
static int cpns_nl_finish_cb(struct nl_msg *msg, void *arg)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	struct cpns_nl_req *req = arg;
	int error, len;

	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		req->intr = 1;
	req->done = 1;
	if (nlmsg_datalen(nlh) < (int)sizeof(int))
		return NL_STOP;
	memcpy(&error, nlmsg_data(nlh), sizeof(error));
	if (error < 0 && !req->error)
		req->error = error;
	len = nlmsg_datalen(nlh) - (int)sizeof(int);
	if (error < 0 && (nlh->nlmsg_flags & NLM_F_ACK_TLVS) && len > 0 &&
	    !nla_parse(tb, NLMSGERR_ATTR_MAX,
		       (struct nlattr *)((char *)nlmsg_data(nlh) + sizeof(int)),
		       len, NULL) &&
	    tb[NLMSGERR_ATTR_MSG])
		snprintf(req->extack, sizeof(req->extack), "%.*s",
			 nla_len(tb[NLMSGERR_ATTR_MSG]),
			 (const char *)nla_data(tb[NLMSGERR_ATTR_MSG]));
	return NL_STOP;
}

static int cpns_nl_intr_cb(struct nl_msg *msg, void *arg)
{
	struct cpns_nl_req *req = arg;

	(void)msg;
	req->intr = 1;
	/* keep reading to NLMSG_DONE, then start over */
	return NL_OK;
}

static int cpns_nl_dispatch(struct nlmsghdr *nlh, cpns_nl_msg_cb cb, void *arg)
{
	struct nlattr *attrs[CPNS_A_MAX + 1];
	struct genlmsghdr *gnlh = nlmsg_data(nlh);
	int ret;

	ret = genlmsg_parse(nlh, 0, attrs, CPNS_A_MAX, NULL);
	if (ret < 0)
		return -EBADMSG;
	return cb(gnlh->cmd, attrs, arg);
}

static int cpns_nl_valid_cb(struct nl_msg *msg, void *arg)
{
	struct cpns_nl_req *req = arg;
	struct nl_msg **m;
	int ret;

	if (req->msgs) {
		/* a dump: keep the reply until the dump is known complete */
		if (req->n_msgs == req->cap_msgs) {
			m = realloc(req->msgs,
				    2 * req->cap_msgs * sizeof(*req->msgs));
			if (!m) {
				req->error = -ENOMEM;
				return NL_SKIP;
			}
			req->msgs = m;
			req->cap_msgs *= 2;
		}
		nlmsg_get(msg);
		req->msgs[req->n_msgs++] = msg;
		return NL_OK;
	}
	if (!req->cb || req->error)
		return NL_OK;
	ret = cpns_nl_dispatch(nlmsg_hdr(msg), req->cb, req->arg);
	if (ret < 0)
		req->error = ret;
	return NL_OK;
}

static void cpns_nl_req_drop_msgs(struct cpns_nl_req *req)
{
	size_t i;

	for (i = 0; i < req->n_msgs; i++)
		nlmsg_free(req->msgs[i]);
	req->n_msgs = 0;
}

/**
 * cpns_nl_msg_free() - wipe and free a request
 * @msg: the message
 *
 * Requests may carry traffic secrets (SESSION_NEW): every one is wiped.
 */
void cpns_nl_msg_free(struct nl_msg *msg)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);

	cpns_wipe(nlh, nlh->nlmsg_len);
	nlmsg_free(msg);
}

static int cpns_nl_transact(struct cpns_nl *nl, struct nl_msg *msg,
			    struct cpns_nl_req *req, struct cpns_err *err)
{
	struct nl_cb *cb;
	int ret;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb)
		return cpns_err_set(err, -ENOMEM, "out of memory");
	nl_cb_err(cb, NL_CB_CUSTOM, cpns_nl_err_cb, req);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, cpns_nl_ack_cb, req);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, cpns_nl_finish_cb, req);
	nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, cpns_nl_intr_cb, req);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, cpns_nl_valid_cb, req);

	/* a retried message gets a new sequence number */
	nlmsg_hdr(msg)->nlmsg_seq = NL_AUTO_SEQ;
	nlmsg_hdr(msg)->nlmsg_pid = NL_AUTO_PORT;
	nlmsg_hdr(msg)->nlmsg_flags |= NLM_F_ACK;
	req->orig = nlmsg_hdr(msg);
	ret = nl_send_auto(nl->sk, msg);
	if (ret < 0) {
		ret = cpns_err_set(err, cpns_nl_errno(ret),
				   "sending the netlink request failed: %s",
				   nl_geterror(ret));
		goto out;
	}
	req->done = 0;
	req->extack[0] = '\0';
	while (!req->done) {
		ret = nl_recvmsgs(nl->sk, cb);
		/* libnl also returns the error our error callback stopped on */
		if (ret < 0 && req->done && req->error < 0)
			break;
		if (ret < 0) {
			ret = cpns_err_set(err, cpns_nl_errno(ret),
					   "receiving the netlink reply failed: %s",
					   nl_geterror(ret));
			goto out;
		}
	}
	ret = 0;
	if (req->error < 0) {
		if (req->extack[0])
			ret = cpns_err_set(err, req->error, "%s (%s)",
					   req->extack, strerror(-req->error));
		else
			ret = cpns_err_set(err, req->error, "%s",
					   strerror(-req->error));
	}
out:
	nl_cb_put(cb);
	return ret;
}

/**
 * cpns_nl_request() - send a request and wait for its ack
 * @nl: the connection
 * @msg: the request; freed
 * @cb: called for each reply message (a _GET reply), or NULL
 * @arg: passed to @cb
 * @err: error message, or NULL; the kernel's extack text when it sent one
 *
 * A negative return of @cb ends the request with that error.
 *
 * Return: 0 or a negative errno (the kernel's, or of the transport).
 */
int cpns_nl_request(struct cpns_nl *nl, struct nl_msg *msg, cpns_nl_msg_cb cb,
		    void *arg, struct cpns_err *err)
{
	struct cpns_nl_req req = { .cb = cb, .arg = arg };
	int ret;

	ret = cpns_nl_transact(nl, msg, &req, err);
	cpns_nl_msg_free(msg);
	if (!ret && req.error < 0)
		ret = cpns_err_set(err, req.error, "%s", strerror(-req.error));
	return ret;
}

/**
 * cpns_nl_queue() - queue a request that is answered only when it fails
 * @nl: the connection; one that cpns_nl_failures() reads after each
 *	cpns_nl_flush(), so that no other request meets their answers
 * @msg: the request; freed (its buffer wiped)
 * @seq: its sequence number
 * @err: error message, or NULL
 *
 * Without NLM_F_ACK. The request waits in @nl, with the others queued,
 * until cpns_nl_flush() sends them in one datagram; the kernel handles
 * each in turn and answers each failure with an error message even when
 * no ack was asked for.
 *
 * Return: 0, -ENOMEM, or -ENOSPC when the queue has no room for it (then
 * nothing was queued).
 */
int cpns_nl_queue(struct cpns_nl *nl, struct nl_msg *msg, uint32_t *seq,
		  struct cpns_err *err)
{
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	size_t len = NLMSG_ALIGN(nlh->nlmsg_len);
	int ret = 0;

	if (!nl->q_buf) {
		nl->q_buf = calloc(1, CPNS_NL_QUEUE_SIZE);
		if (!nl->q_buf) {
			ret = cpns_err_set(err, -ENOMEM, "out of memory");
			goto out;
		}
	}
	if (len > CPNS_NL_QUEUE_SIZE - nl->q_len) {
		ret = cpns_err_set(err, -ENOSPC,
				   "no room for the request among those queued");
		goto out;
	}
	nlh->nlmsg_flags = (nlh->nlmsg_flags | NLM_F_REQUEST) & ~NLM_F_ACK;
	nlh->nlmsg_seq = nl_socket_use_seq(nl->sk);
	nlh->nlmsg_pid = nl_socket_get_local_port(nl->sk);
	memcpy(nl->q_buf + nl->q_len, nlh, nlh->nlmsg_len);
	memset(nl->q_buf + nl->q_len + nlh->nlmsg_len, 0,
	       len - nlh->nlmsg_len);
	nl->q_len += len;
	*seq = nlh->nlmsg_seq;
out:
	cpns_nl_msg_free(msg);
	return ret;
}

/**
 * cpns_nl_flush() - send the requests of cpns_nl_queue()
 * @nl: the connection
 *
 * One datagram for all of them. The kernel has handled them when this
 * returns: the answers to those that failed are on the socket, for
 * cpns_nl_failures(). The queue is wiped and empty afterwards, sent or not.
 *
 * Return: 0 (nothing queued counts as sent) or a negative errno of the
 * transport: then none of them reached the kernel.
 */
int cpns_nl_flush(struct cpns_nl *nl)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;
	int ret = 0;

	if (!nl->q_len)
		return 0;
	do {
		n = sendto(nl_socket_get_fd(nl->sk), nl->q_buf, nl->q_len, 0,
			   (struct sockaddr *)&kernel, sizeof(kernel));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		ret = -errno;
	cpns_wipe(nl->q_buf, nl->q_len);
	nl->q_len = 0;
	return ret;
}

/**
 * cpns_nl_failures() - the answers to failed requests of cpns_nl_queue()
 * @nl: the connection
 * @cb: called with each failed request's sequence number, its negative
 *	errno and the kernel's text ("" if none)
 * @arg: passed to @cb
 *
 * Reads what the socket holds, without waiting.
 *
 * Return: 0, or a negative errno when answers may have been lost
 * (-ENOBUFS: the socket's buffer overflowed): then any request sent since
 * the previous call may have failed.
 */
int cpns_nl_failures(struct cpns_nl *nl,
		     void (*cb)(void *arg, uint32_t seq, int error,
				const char *msg),
		     void *arg)
{
	union {
		struct nlmsghdr h;
		char b[8192];
	} buf;
	char text[CPNS_ERR_MSG_LEN];
	const struct nlmsghdr *nlh;
	const struct nlmsgerr *e;
	ssize_t n;
	int len;

	for (;;) {
		struct sockaddr_nl from;
		socklen_t from_len = sizeof(from);

		n = recvfrom(nl_socket_get_fd(nl->sk), buf.b, sizeof(buf.b),
			     MSG_DONTWAIT, (struct sockaddr *)&from, &from_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ?
				0 : -errno;
		/* the kernel's answers only */
		if (from_len < sizeof(from) || from.nl_pid)
			continue;
		len = (int)n;
		for (nlh = &buf.h; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				continue;
			e = NLMSG_DATA(nlh);
			if (!e->error)
				continue;
			cpns_nl_extack(nlh, NULL, text, sizeof(text));
			cb(arg, nlh->nlmsg_seq, e->error, text);
		}
	}
}

/**
 * cpns_nl_dump() - run a dump request and hand each object to @cb
 * @nl: the connection
 * @msg: the request (NLM_F_DUMP); freed
 * @cb: called for each object, only once the dump completed consistently
 * @arg: passed to @cb
 * @err: error message, or NULL
 *
 * A dump the kernel marks inconsistent (NLM_F_DUMP_INTR: the table
 * changed while it was being dumped) is read to its end, discarded and
 * started again, so @cb never sees a partial or mixed view.
 *
 * Return: 0 or a negative errno (-EAGAIN after too many interruptions).
 */
int cpns_nl_dump(struct cpns_nl *nl, struct nl_msg *msg, cpns_nl_msg_cb cb,
		 void *arg, struct cpns_err *err)
{
	struct cpns_nl_req req = { 0 };
	int ret = 0, tries;
	size_t i;

	req.cap_msgs = 16;
	req.msgs = calloc(req.cap_msgs, sizeof(*req.msgs));
	if (!req.msgs) {
		cpns_nl_msg_free(msg);
		return cpns_err_set(err, -ENOMEM, "out of memory");
	}
	for (tries = 0; tries < CPNS_NL_DUMP_RETRIES; tries++) {
		req.intr = 0;
		req.error = 0;
		cpns_nl_req_drop_msgs(&req);
		ret = cpns_nl_transact(nl, msg, &req, err);
		if (ret < 0)
			goto out;
		if (req.error < 0) {
			ret = cpns_err_set(err, req.error, "%s",
					   strerror(-req.error));
			goto out;
		}
		if (!req.intr)
			break;
	}
	if (req.intr) {
		ret = cpns_err_set(err, -EAGAIN,
				   "dump interrupted %d times by concurrent changes",
				   CPNS_NL_DUMP_RETRIES);
		goto out;
	}
	for (i = 0; i < req.n_msgs && !ret; i++)
		ret = cpns_nl_dispatch(nlmsg_hdr(req.msgs[i]), cb, arg);
	if (ret < 0)
		cpns_err_set(err, ret, "%s", strerror(-ret));
out:
	cpns_nl_req_drop_msgs(&req);
	free(req.msgs);
	cpns_nl_msg_free(msg);
	return ret;
}

/**
 * cpns_nl_events_open() - open the event socket
 * @nl: the connection
 * @err: error message, or NULL
 *
 * A second socket, non-blocking, joined to the "events" group, with a
 * large receive buffer. Subscribe before dumping the state the events
 * update, so no change falls between the two.
 *
 * Return: 0 or a negative errno.
 */
int cpns_nl_events_open(struct cpns_nl *nl, struct cpns_err *err)
{
	int grp, ret, size = CPNS_NL_EVENT_RCVBUF;

	grp = genl_ctrl_resolve_grp(nl->sk, CPNS_GENL_NAME, CPNS_MCGRP_EVENTS);
	if (grp < 0)
		return cpns_err_set(err, cpns_nl_errno(grp),
				    "resolving the \"%s\" multicast group failed: %s",
				    CPNS_MCGRP_EVENTS, nl_geterror(grp));
	nl->ev_buf = malloc(CPNS_NL_RECV_BUF);
	nl->ev = nl_socket_alloc();
	if (!nl->ev || !nl->ev_buf) {
		ret = cpns_err_set(err, -ENOMEM, "out of memory");
		goto err_free;
	}
	nl_socket_disable_seq_check(nl->ev);
	ret = genl_connect(nl->ev);
	if (ret < 0) {
		ret = cpns_err_set(err, cpns_nl_errno(ret),
				   "cannot open the event socket: %s",
				   nl_geterror(ret));
		goto err_free;
	}
	/* SO_RCVBUFFORCE goes past rmem_max with CAP_NET_ADMIN */
	if (setsockopt(nl_socket_get_fd(nl->ev), SOL_SOCKET, SO_RCVBUFFORCE,
		       &size, sizeof(size)) < 0)
		nl_socket_set_buffer_size(nl->ev, CPNS_NL_EVENT_RCVBUF, 0);
	ret = nl_socket_add_membership(nl->ev, grp);
	if (ret < 0) {
		ret = cpns_err_set(err, cpns_nl_errno(ret),
				   "joining the \"%s\" multicast group failed: %s",
				   CPNS_MCGRP_EVENTS, nl_geterror(ret));
		goto err_free;
	}
	ret = nl_socket_set_nonblocking(nl->ev);
	if (ret < 0) {
		ret = cpns_err_set(err, cpns_nl_errno(ret),
				   "cannot make the event socket non-blocking");
		goto err_free;
	}
	return 0;

err_free:
	if (nl->ev)
		nl_socket_free(nl->ev);
	nl->ev = NULL;
	free(nl->ev_buf);
	nl->ev_buf = NULL;
	return ret;
}

int cpns_nl_events_fd(const struct cpns_nl *nl)
{
	return nl->ev ? nl_socket_get_fd(nl->ev) : -1;
}

/**
 * cpns_nl_events_read() - read what the event socket holds
 * @nl: the connection, with cpns_nl_events_open() done
 * @cb: called for each notification of the cpns family
 * @arg: passed to @cb
 * @err: error message, or NULL
 *
 * Reads until the socket is empty. Messages of other families and
 * malformed ones are skipped.
 *
 * Return: 0 when the socket is drained, -ENOBUFS when notifications were
 * lost (the socket buffer overflowed: re-read the full state, then call
 * again), a negative return of @cb, or another negative errno.
 */
int cpns_nl_events_read(struct cpns_nl *nl, cpns_nl_msg_cb cb, void *arg,
			struct cpns_err *err)
{
	int fd = nl_socket_get_fd(nl->ev), ret;
	struct nlmsghdr *nlh;
	ssize_t n;
	int len;

	for (;;) {
		n = recv(fd, nl->ev_buf, CPNS_NL_RECV_BUF, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == ENOBUFS)
				return cpns_err_set(err, -ENOBUFS,
						    "notifications lost (socket buffer overflow)");
			return cpns_err_set(err, -errno,
					    "reading the event socket failed: %s",
					    strerror(errno));
		}
		len = (int)n;
		for (nlh = (struct nlmsghdr *)nl->ev_buf; nlmsg_ok(nlh, len);
		     nlh = nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type != nl->family ||
			    nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
				continue;
			ret = cpns_nl_dispatch(nlh, cb, arg);
			if (ret == -EBADMSG)
				continue;
			if (ret < 0)
				return cpns_err_set(err, ret, "%s",
						    strerror(-ret));
		}
	}
}

// SPDX-License-Identifier: GPL-2.0
/*
 * The AF_CPNS socket API (PROTOCOL.md 13.5, 13.6): binding rules and
 * privileges, local delivery between two local IDs, the receive flags,
 * poll, timeouts, socket options, cmsgs, the delivery policy and the
 * errnos of sending. Each test runs in a namespace of its own with two
 * local entity IDs, A and B.
 */
#include <poll.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cpns_dp_test.h"

FIXTURE(sock) {
	uint8_t a[CPNS_ID_LEN];
	uint8_t b[CPNS_ID_LEN];
	uint8_t c[CPNS_ID_LEN];	/* not local */
	int fa, fb;
};

FIXTURE_SETUP(sock)
{
	ASSERT_EQ(0, cpns_ensure_loaded());
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	cpns_mkid(self->a, 1);
	cpns_mkid(self->b, 2);
	cpns_mkid(self->c, 3);
	ASSERT_EQ(0, cpns_nl_id_add(self->a));
	ASSERT_EQ(0, cpns_nl_id_add(self->b));
	self->fa = cpns_socket();
	self->fb = cpns_socket();
	ASSERT_LE(0, self->fa);
	ASSERT_LE(0, self->fb);
}

FIXTURE_TEARDOWN(sock)
{
	close(self->fa);
	close(self->fb);
}

static void set_int(struct __test_metadata *_metadata, int fd, int opt,
		    int val)
{
	ASSERT_EQ(0, setsockopt(fd, SOL_CPNS, opt, &val, sizeof(val)));
}

TEST_F(sock, bind_needs_local_id)
{
	uint8_t zero[CPNS_ID_LEN] = {}, ff[CPNS_ID_LEN];

	memset(ff, 0xff, sizeof(ff));
	EXPECT_EQ(-1, cpns_bind(self->fa, self->c, 5000));
	EXPECT_EQ(EADDRNOTAVAIL, errno);
	EXPECT_EQ(-1, cpns_bind(self->fa, zero, 5000));
	EXPECT_EQ(EADDRNOTAVAIL, errno);
	EXPECT_EQ(-1, cpns_bind(self->fa, ff, 5000));
	EXPECT_EQ(EADDRNOTAVAIL, errno);
	EXPECT_EQ(0, cpns_bind(self->fa, self->a, 5000));
}

TEST_F(sock, bind_address_in_use)
{
	int fc = cpns_socket();

	ASSERT_LE(0, fc);
	ASSERT_EQ(0, cpns_bind(self->fa, self->a, 5000));
	EXPECT_EQ(-1, cpns_bind(self->fb, self->a, 5000));
	EXPECT_EQ(EADDRINUSE, errno);
	/* The same port on another ID is another address. */
	EXPECT_EQ(0, cpns_bind(self->fb, self->b, 5000));
	/* A bound socket cannot be bound again. */
	EXPECT_EQ(-1, cpns_bind(self->fa, self->a, 5001));
	EXPECT_EQ(EINVAL, errno);
	/* Closing frees the address. */
	close(self->fa);
	EXPECT_EQ(0, cpns_bind(fc, self->a, 5000));
	self->fa = fc;
}

TEST_F(sock, autobind_range)
{
	struct sockaddr_cpns sa[8];
	socklen_t len;
	int fds[8], i, j;

	for (i = 0; i < 8; i++) {
		fds[i] = cpns_socket();
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, cpns_bind(fds[i], self->a, 0));
		len = sizeof(sa[i]);
		ASSERT_EQ(0, getsockname(fds[i], (struct sockaddr *)&sa[i],
					 &len));
		EXPECT_EQ(sizeof(sa[i]), len);
		EXPECT_EQ(cpns_af_param(), sa[i].scpns_family);
		EXPECT_EQ(0, memcmp(sa[i].scpns_id, self->a, CPNS_ID_LEN));
		EXPECT_LE(CPNS_PORT_AUTO_MIN, sa[i].scpns_port);
		EXPECT_GE(CPNS_PORT_AUTO_MAX, sa[i].scpns_port);
		for (j = 0; j < i; j++)
			EXPECT_NE(sa[j].scpns_port, sa[i].scpns_port);
	}
	for (i = 0; i < 8; i++)
		close(fds[i]);
}

/* Without CAP_NET_BIND_SERVICE and CAP_NET_ADMIN (in a child). */
TEST_F(sock, bind_privileges)
{
	int status, hs, one = 1;
	pid_t pid;

	/* Option set while privileged, capability gone at bind time. */
	hs = cpns_socket();
	ASSERT_LE(0, hs);
	set_int(_metadata, hs, CPNS_HANDSHAKE, 1);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = cpns_socket(), fd2 = cpns_socket();

		if (cpns_drop_caps(CPNS_CAP(CAP_NET_BIND_SERVICE) |
				   CPNS_CAP(CAP_NET_ADMIN)))
			_exit(10);
		if (cpns_bind(fd, self->a, 80) != -1 || errno != EACCES)
			_exit(11);
		if (cpns_bind(fd, self->a, 2) != -1 || errno != EACCES)
			_exit(12);
		if (cpns_bind(fd, self->a, 1023) != -1 || errno != EACCES)
			_exit(13);
		if (setsockopt(fd2, SOL_CPNS, CPNS_HANDSHAKE, &one,
			       sizeof(one)) != -1 || errno != EPERM)
			_exit(14);
		if (cpns_bind(fd2, self->a, 1) != -1 || errno != EACCES)
			_exit(15);
		if (cpns_bind(hs, self->a, 1) != -1 || errno != EACCES)
			_exit(16);
		if (cpns_bind(fd, self->a, 1024))
			_exit(17);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	/* With the capabilities the same binds work. */
	EXPECT_EQ(0, cpns_bind(self->fa, self->a, 80));
	EXPECT_EQ(0, cpns_bind(hs, self->a, 1));
	close(hs);
}

TEST_F(sock, handshake_port)
{
	uint8_t any[CPNS_ID_LEN] = {};
	int h1 = cpns_socket(), h2 = cpns_socket(), h3 = cpns_socket();

	ASSERT_LE(0, h1);
	/* Port 1 without the option, and the option on another port. */
	EXPECT_EQ(-1, cpns_bind(self->fa, self->a, 1));
	EXPECT_EQ(EACCES, errno);
	set_int(_metadata, h1, CPNS_HANDSHAKE, 1);
	set_int(_metadata, h2, CPNS_HANDSHAKE, 1);
	set_int(_metadata, h3, CPNS_HANDSHAKE, 1);
	EXPECT_EQ(-1, cpns_bind(h1, self->a, 7));
	EXPECT_EQ(EINVAL, errno);
	/* One per ID; "all IDs" conflicts with any of them. */
	ASSERT_EQ(0, cpns_bind(h1, self->a, 1));
	EXPECT_EQ(-1, cpns_bind(h2, self->a, 1));
	EXPECT_EQ(EADDRINUSE, errno);
	EXPECT_EQ(-1, cpns_bind(h2, any, 1));
	EXPECT_EQ(EADDRINUSE, errno);
	EXPECT_EQ(0, cpns_bind(h2, self->b, 1));
	close(h1);
	close(h2);
	EXPECT_EQ(0, cpns_bind(h3, any, 1));
	h1 = cpns_socket();
	set_int(_metadata, h1, CPNS_HANDSHAKE, 1);
	EXPECT_EQ(-1, cpns_bind(h1, self->b, 1));
	EXPECT_EQ(EADDRINUSE, errno);
	/* The option cannot change once bound. */
	EXPECT_EQ(-1, setsockopt(h3, SOL_CPNS, CPNS_HANDSHAKE, &(int){0},
				 sizeof(int)));
	close(h1);
	close(h3);
}

TEST_F(sock, local_delivery)
{
	struct sockaddr_cpns from;
	struct cpns_recvinfo ri;
	uint64_t before, after;
	char buf[64];
	int got;

	ASSERT_EQ(0, cpns_bind(self->fa, self->a, 5000));
	ASSERT_EQ(0, cpns_bind(self->fb, self->b, 6000));
	set_int(_metadata, self->fb, CPNS_RECVINFO, 1);
	before = cpns_stat(CPNS_STAT_RX_RECORDS);

	EXPECT_EQ(5, cpns_sendto(self->fa, "hello", 5, self->b, 6000, 0));
	memset(buf, 0, sizeof(buf));
	ASSERT_EQ(5, cpns_recv_info(self->fb, buf, sizeof(buf), MSG_DONTWAIT,
				    &from, &ri, &got));
	EXPECT_STREQ("hello", buf);
	EXPECT_EQ(cpns_af_param(), from.scpns_family);
	EXPECT_EQ(5000, from.scpns_port);
	EXPECT_EQ(0, memcmp(from.scpns_id, self->a, CPNS_ID_LEN));
	ASSERT_TRUE(got);
	EXPECT_EQ(CPNS_RI_LOCAL | CPNS_RI_ENCRYPTED, ri.flags);
	EXPECT_EQ(6000, ri.dst_port);
	EXPECT_EQ(0, memcmp(ri.dst_id, self->b, CPNS_ID_LEN));
	EXPECT_EQ(AF_UNSPEC, ri.endpoint.ss_family);
	after = cpns_stat(CPNS_STAT_RX_RECORDS);
	EXPECT_EQ(before + 1, after);

	/* And back, with an empty payload. */
	EXPECT_EQ(0, cpns_sendto(self->fb, "", 0, self->a, 5000, 0));
	EXPECT_EQ(0, recv(self->fa, buf, sizeof(buf), MSG_DONTWAIT));
}

TEST_F(sock, connect_and_names)
{
	struct sockaddr_cpns sa = cpns_sa(self->b, 6000), got;
	socklen_t len = sizeof(got);
	char buf[16];

	ASSERT_EQ(0, cpns_bind(self->fa, self->a, 5000));
	ASSERT_EQ(0, cpns_bind(self->fb, self->b, 6000));
	EXPECT_EQ(-1, getpeername(self->fa, (struct sockaddr *)&got, &len));
	EXPECT_EQ(ENOTCONN, errno);
	EXPECT_EQ(-1, send(self->fa, "x", 1, 0));
	EXPECT_EQ(EDESTADDRREQ, errno);

	ASSERT_EQ(0, connect(self->fa, (struct sockaddr *)&sa, sizeof(sa)));
	len = sizeof(got);
	ASSERT_EQ(0, getpeername(self->fa, (struct sockaddr *)&got, &len));
	EXPECT_EQ(6000, got.scpns_port);
	EXPECT_EQ(0, memcmp(got.scpns_id, self->b, CPNS_ID_LEN));
	len = sizeof(got);
	ASSERT_EQ(0, getsockname(self->fa, (struct sockaddr *)&got, &len));
	EXPECT_EQ(5000, got.scpns_port);
	EXPECT_EQ(0, memcmp(got.scpns_id, self->a, CPNS_ID_LEN));

	EXPECT_EQ(3, send(self->fa, "abc", 3, 0));
	EXPECT_EQ(3, recv(self->fb, buf, sizeof(buf), MSG_DONTWAIT));
	/* Connecting to port 1 from a data socket is port misuse. */
	sa = cpns_sa(self->b, 1);
	EXPECT_EQ(-1, connect(self->fa, (struct sockaddr *)&sa, sizeof(sa)));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(sock, peek_trunc_dontwait)
{
	char big[100], buf[16];
	struct iovec iov = { .iov_base = buf, .iov_len = 10 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	int i;

	for (i = 0; i < (int)sizeof(big); i++)
		big[i] = (char)i;
	ASSERT_EQ(0, cpns_bind(self->fa, self->a, 5000));
	ASSERT_EQ(0, cpns_bind(self->fb, self->b, 6000));
	EXPECT_EQ(-1, recv(self->fb, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);

	ASSERT_EQ(100, cpns_sendto(self->fa, big, 100, self->b, 6000, 0));
	/* Peek a part: truncated, still queued. */
	EXPECT_EQ(10, recvmsg(self->fb, &msg, MSG_PEEK | MSG_DONTWAIT));
	EXPECT_TRUE(msg.msg_flags & MSG_TRUNC);
	EXPECT_EQ(0, memcmp(buf, big, 10));
	/* MSG_TRUNC returns the real length. */
	msg.msg_flags = 0;
	EXPECT_EQ(100, recvmsg(self->fb, &msg, MSG_TRUNC | MSG_DONTWAIT));
	EXPECT_TRUE(msg.msg_flags & MSG_TRUNC);
	EXPECT_EQ(0, memcmp(buf, big, 10));
	/* Gone now. */
	EXPECT_EQ(-1, recv(self->fb, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(sock, poll_and_rcvtimeo)
{
	struct timeval tv = { .tv_usec = 200000 }, t0, t1;
	struct pollfd p = { .events = POLLIN };
	char buf[8];
	long ms;

	ASSERT_EQ(0, cpns_bind(self->fa, self->a, 5000));
	ASSERT_EQ(0, cpns_bind(self->fb, self->b, 6000));
	p.fd = self->fb;
	EXPECT_EQ(0, poll(&p, 1, 0));

	ASSERT_EQ(0, setsockopt(self->fb, SOL_SOCKET, SO_RCVTIMEO, &tv,
				sizeof(tv)));
	gettimeofday(&t0, NULL);
	EXPECT_EQ(-1, recv(self->fb, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
	gettimeofday(&t1, NULL);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_usec - t0.tv_usec) / 1000;
	EXPECT_LE(150, ms);

	ASSERT_EQ(2, cpns_sendto(self->fa, "hi", 2, self->b, 6000, 0));
	EXPECT_EQ(1, poll(&p, 1, 1000));
	EXPECT_TRUE(p.revents & POLLIN);
	EXPECT_EQ(2, recv(self->fb, buf, sizeof(buf), 0));
	p.revents = 0;
	EXPECT_EQ(0, poll(&p, 1, 0));
}

TEST_F(sock, rcvbuf_limits_queue)
{
	int rcvbuf = 4096, i, sent = 0, got = 0;
	char buf[1024] = {};
	uint64_t before;

	ASSERT_EQ(0, cpns_bind(self->fa, self->a, 5000));
	ASSERT_EQ(0, cpns_bind(self->fb, self->b, 6000));
	ASSERT_EQ(0, setsockopt(self->fb, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				sizeof(rcvbuf)));
	before = cpns_stat(CPNS_STAT_RX_RECORDS);
	for (i = 0; i < 64; i++)
		if (cpns_sendto(self->fa, buf, sizeof(buf), self->b, 6000,
				0) == sizeof(buf))
			sent++;
	EXPECT_EQ(64, sent);
	while (recv(self->fb, buf, sizeof(buf), MSG_DONTWAIT) == sizeof(buf))
		got++;
	EXPECT_LT(0, got);
	EXPECT_GT(sent, got);
	/* the records the full socket refused are not counted delivered */
	EXPECT_EQ(before + got, cpns_stat(CPNS_STAT_RX_RECORDS));
}

TEST_F(sock, send_errors)
{
	uint8_t zero[CPNS_ID_LEN] = {}, ff[CPNS_ID_LEN];
	static char big[CPNS_MAX_PAYLOAD + 1];
	int fc = cpns_socket();

	memset(ff, 0xff, sizeof(ff));
	/* Unbound: nothing to send from. */
	EXPECT_EQ(-1, cpns_sendto(fc, "x", 1, self->b, 6000, 0));
	EXPECT_EQ(EINVAL, errno);
	close(fc);

	ASSERT_EQ(0, cpns_bind(self->fa, self->a, 5000));
	EXPECT_EQ(-1, cpns_sendto(self->fa, "x", 1, self->b, 0, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, cpns_sendto(self->fa, "x", 1, self->b, 1, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, cpns_sendto(self->fa, "x", 1, zero, 6000, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, cpns_sendto(self->fa, "x", 1, ff, 6000, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, cpns_sendto(self->fa, big, sizeof(big), self->c, 6000,
				  0));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, cpns_sendto(self->fa, big, sizeof(big), self->b, 6000,
				  0));
	EXPECT_EQ(EMSGSIZE, errno);
	/* The largest payload is fine (locally, to nobody: NO_PORT). */
	EXPECT_EQ(CPNS_MAX_PAYLOAD, cpns_sendto(self->fa, big,
						CPNS_MAX_PAYLOAD, self->b,
						6000, 0));
	/* No session with a remote entity. */
	EXPECT_EQ(-1, cpns_sendto(self->fa, "x", 1, self->c, 6000, 0));
	EXPECT_EQ(ENOKEY, errno);
	/* Handshake-only cmsgs on a data socket. */
	EXPECT_EQ(-1, cpns_sendto_cmsg(self->fa, "x", 1, self->b, 6000,
				       CPNS_CMSG_SUITE0, 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, send(self->fa, "x", 1, MSG_OOB));
	EXPECT_EQ(EOPNOTSUPP, errno);
}

TEST_F(sock, no_address_is_hostunreach)
{
	uint8_t s1[CPNS_SECRET_LEN], s2[CPNS_SECRET_LEN];

	memset(s1, 0x11, sizeof(s1));
	memset(s2, 0x22, sizeof(s2));
	ASSERT_EQ(0, cpns_bind(self->fa, self->a, 5000));
	ASSERT_EQ(0, cpns_nl_session_new(self->a, self->c, 1,
					 CPNS_SUITE_AES256GCM,
					 CPNS_ROLE_INITIATOR,
					 CPNS_TX_IMMEDIATE, s1, s2));
	EXPECT_EQ(-1, cpns_sendto(self->fa, "x", 1, self->c, 6000, 0));
	EXPECT_EQ(EHOSTUNREACH, errno);
	/* A responder's generation waits for its first record: ENOKEY. */
	ASSERT_EQ(0, cpns_nl_session_new(self->b, self->c, 1,
					 CPNS_SUITE_AES256GCM,
					 CPNS_ROLE_RESPONDER,
					 CPNS_TX_ON_CONFIRM, s1, s2));
	ASSERT_EQ(0, cpns_bind(self->fb, self->b, 5000));
	EXPECT_EQ(-1, cpns_sendto(self->fb, "x", 1, self->c, 6000, 0));
	EXPECT_EQ(ENOKEY, errno);
}

TEST_F(sock, policy_and_no_port)
{
	struct cpns_recvinfo ri;
	uint64_t pol, nop;
	char buf[16];
	int got;

	ASSERT_EQ(0, cpns_bind(self->fa, self->a, 5000));
	ASSERT_EQ(0, cpns_bind(self->fb, self->b, 6000));
	set_int(_metadata, self->fb, CPNS_RECVINFO, 1);
	pol = cpns_stat(CPNS_STAT_DROP_POLICY);
	nop = cpns_stat(CPNS_STAT_DROP_NO_PORT);

	/* Integrity-only to an encrypt-required port: dropped, counted. */
	EXPECT_EQ(3, cpns_sendto_cmsg(self->fa, "abc", 3, self->b, 6000,
				      CPNS_CMSG_INTEGRITY_ONLY, 1));
	EXPECT_EQ(-1, recv(self->fb, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(pol + 1, cpns_stat(CPNS_STAT_DROP_POLICY));

	/* The port allows it now. */
	set_int(_metadata, self->fb, CPNS_INTEGRITY_ALLOWED, 1);
	EXPECT_EQ(3, cpns_sendto_cmsg(self->fa, "abc", 3, self->b, 6000,
				      CPNS_CMSG_INTEGRITY_ONLY, 1));
	ASSERT_EQ(3, cpns_recv_info(self->fb, buf, sizeof(buf), MSG_DONTWAIT,
				    NULL, &ri, &got));
	ASSERT_TRUE(got);
	EXPECT_EQ(CPNS_RI_LOCAL, ri.flags);
	EXPECT_EQ(pol + 1, cpns_stat(CPNS_STAT_DROP_POLICY));

	/* Nobody on the port. */
	EXPECT_EQ(3, cpns_sendto(self->fa, "abc", 3, self->b, 6001, 0));
	EXPECT_EQ(nop + 1, cpns_stat(CPNS_STAT_DROP_NO_PORT));
}

TEST_F(sock, handshake_local_suite0)
{
	struct cpns_recvinfo ri;
	struct sockaddr_cpns from;
	int h1 = cpns_socket(), h2 = cpns_socket(), got;
	char buf[16];

	set_int(_metadata, h1, CPNS_HANDSHAKE, 1);
	set_int(_metadata, h2, CPNS_HANDSHAKE, 1);
	ASSERT_EQ(0, cpns_bind(h1, self->a, 1));
	ASSERT_EQ(0, cpns_bind(h2, self->b, 1));
	set_int(_metadata, h2, CPNS_RECVINFO, 1);
	/* Data ports are not for the handshake socket. */
	EXPECT_EQ(-1, cpns_sendto(h1, "x", 1, self->b, 6000, 0));
	EXPECT_EQ(EINVAL, errno);
	/* Integrity-only is a data socket's option. */
	EXPECT_EQ(-1, cpns_sendto_cmsg(h1, "x", 1, self->b, 1,
				       CPNS_CMSG_INTEGRITY_ONLY, 1));
	EXPECT_EQ(EINVAL, errno);

	EXPECT_EQ(4, cpns_sendto_cmsg(h1, "m1m1", 4, self->b, 1,
				      CPNS_CMSG_SUITE0, 1));
	ASSERT_EQ(4, cpns_recv_info(h2, buf, sizeof(buf), MSG_DONTWAIT, &from,
				    &ri, &got));
	ASSERT_TRUE(got);
	EXPECT_EQ(0, ri.suite);
	EXPECT_EQ(CPNS_RI_LOCAL, ri.flags);
	EXPECT_EQ(1, ri.dst_port);
	EXPECT_EQ(1, from.scpns_port);
	EXPECT_EQ(0, memcmp(from.scpns_id, self->a, CPNS_ID_LEN));
	close(h1);
	close(h2);
}

TEST_F(sock, local_id_removed)
{
	char buf[8];

	ASSERT_EQ(0, cpns_bind(self->fa, self->a, 5000));
	ASSERT_EQ(0, cpns_bind(self->fb, self->b, 6000));
	ASSERT_EQ(2, cpns_sendto(self->fa, "q1", 2, self->b, 6000, 0));
	ASSERT_EQ(0, cpns_nl_id_del(self->b));
	/* The error is reported once; the queue is kept. */
	EXPECT_EQ(-1, recv(self->fb, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(ENETDOWN, errno);
	EXPECT_EQ(2, recv(self->fb, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(-1, cpns_sendto(self->fb, "x", 1, self->a, 5000, 0));
	EXPECT_EQ(EADDRNOTAVAIL, errno);
	/* B is not local any more: A now needs a session to reach it. */
	EXPECT_EQ(-1, cpns_sendto(self->fa, "x", 1, self->b, 6000, 0));
	EXPECT_EQ(ENOKEY, errno);
}

TEST_HARNESS_MAIN

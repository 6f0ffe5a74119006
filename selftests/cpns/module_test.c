// SPDX-License-Identifier: GPL-2.0
/*
 * Loading and unloading cpns.ko: the address family, the generic netlink
 * family and their lifetimes.
 */
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "kselftest_harness.h"
#include "cpns_test.h"

FIXTURE(mod) {};

FIXTURE_SETUP(mod)
{
	ASSERT_EQ(0, cpns_ensure_loaded());
}

FIXTURE_TEARDOWN(mod)
{
}

TEST_F(mod, info_matches_parameter)
{
	struct cpns_info info;

	ASSERT_EQ(0, cpns_info_get(&info));
	EXPECT_EQ(CPNS_GENL_VERSION, info.version);
	EXPECT_EQ(cpns_af_param(), info.af);
	EXPECT_STREQ("cpns1", info.profile);
}

TEST_F(mod, socket_types)
{
	int af, fd;

	af = cpns_af_param();
	ASSERT_GT(af, 0);

	fd = socket(af, SOCK_DGRAM, 0);
	ASSERT_LE(0, fd);
	close(fd);

	EXPECT_EQ(-1, socket(af, SOCK_STREAM, 0));
	EXPECT_EQ(ESOCKTNOSUPPORT, errno);
	EXPECT_EQ(-1, socket(af, SOCK_DGRAM, 1));
	EXPECT_EQ(EPROTONOSUPPORT, errno);
}

TEST_F(mod, open_socket_pins_module)
{
	int af, fd;

	af = cpns_af_param();
	fd = socket(af, SOCK_DGRAM, 0);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-EWOULDBLOCK, cpns_unload());
	EXPECT_TRUE(cpns_loaded());
	close(fd);
	EXPECT_EQ(0, cpns_unload());
	EXPECT_FALSE(cpns_loaded());

	/* The family is gone with the module. */
	EXPECT_EQ(-1, socket(af, SOCK_DGRAM, 0));
	EXPECT_EQ(EAFNOSUPPORT, errno);
	EXPECT_EQ(0, cpns_load(NULL));
}

/* Each cycle resolves the family after unload, which runs modprobe. */
TEST_F_TIMEOUT(mod, reload_cycles, 240)
{
	struct cpns_info info;
	int i, af, fd;

	for (i = 0; i < 5; i++) {
		ASSERT_EQ(0, cpns_unload());
		ASSERT_EQ(-NLE_OBJ_NOTFOUND, cpns_info_get(&info));
		ASSERT_EQ(0, cpns_load(NULL));
		ASSERT_EQ(0, cpns_info_get(&info));
		af = info.af;
		fd = socket(af, SOCK_DGRAM, 0);
		ASSERT_LE(0, fd);
		close(fd);
	}
}

TEST_F_TIMEOUT(mod, family_parameter, 120)
{
	struct cpns_info info;
	int fd;

	ASSERT_EQ(0, cpns_unload());

	/* AF_UNIX is always registered: the family is taken. */
	EXPECT_EQ(-EEXIST, cpns_load("family=1"));
	EXPECT_FALSE(cpns_loaded());
	EXPECT_EQ(-EINVAL, cpns_load("family=0"));
	EXPECT_EQ(-EINVAL, cpns_load("family=46"));
	EXPECT_FALSE(cpns_loaded());

	/* Another dead slot works and is what the module reports. */
	ASSERT_EQ(0, cpns_load("family=23"));
	ASSERT_EQ(0, cpns_info_get(&info));
	EXPECT_EQ(23, info.af);
	EXPECT_EQ(23, cpns_af_param());
	fd = socket(23, SOCK_DGRAM, 0);
	EXPECT_LE(0, fd);
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(0, cpns_unload());
	ASSERT_EQ(0, cpns_load(NULL));
}

/* aes_gcm takes implementations of gcm(aes) only. */
TEST_F(mod, aes_gcm_parameter)
{
	char v[128], later[128];

	ASSERT_EQ(0, cpns_param_read("aes_gcm", v, sizeof(v)));
	EXPECT_STREQ("gcm(aes)", v);
	EXPECT_EQ(-EINVAL, cpns_param_write("aes_gcm", "rfc4106(gcm(aes))"));
	EXPECT_EQ(-ENOENT, cpns_param_write("aes_gcm", "gcm(no-such-cipher)"));
	ASSERT_EQ(0, cpns_param_read("aes_gcm", v, sizeof(v)));
	EXPECT_STREQ("gcm(aes)", v);
	/* A driver name, with the newline of echo. */
	ASSERT_EQ(0, cpns_param_write("aes_gcm", "gcm_base(ctr(aes-generic),ghash-generic)\n"));
	ASSERT_EQ(0, cpns_param_read("aes_gcm", v, sizeof(v)));
	EXPECT_STREQ("gcm_base(ctr(aes-generic),ghash-generic)", v);
	/* One that finishes later, as the kselftests of that path use. */
	ASSERT_EQ(0, cpns_param_aes_gcm_later(later, sizeof(later)));
	ASSERT_EQ(0, cpns_param_read("aes_gcm", v, sizeof(v)));
	EXPECT_STREQ(later, v);
	EXPECT_EQ(0, cpns_param_write("aes_gcm", "gcm(aes)"));
}

TEST_F(mod, other_netns)
{
	pid_t pid;
	int status;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct cpns_info info;
		int fd;

		if (unshare(CLONE_NEWNET))
			_exit(10);
		if (cpns_info_get(&info) || info.af != cpns_af_param())
			_exit(11);
		fd = socket(info.af, SOCK_DGRAM, 0);
		if (fd < 0)
			_exit(12);
		close(fd);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN

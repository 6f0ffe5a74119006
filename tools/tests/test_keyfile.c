// SPDX-License-Identifier: GPL-2.0
/* Key files: format, permissions, sources (path, "-", fd:N), writing. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpns_keyfile.h"
#include "tap.h"

#define KEY_HEX "88bf34f15cafacb64b5a2b371e1d3e2179551034027835ca18628759c55f3903"

static char dir[] = "/tmp/cpns-keyfile-XXXXXX";
static uint8_t want[CPNS_KEY_LEN];

static void put_file(const char *name, const char *content, size_t len,
		     mode_t mode, char *path, size_t size)
{
	int fd;

	snprintf(path, size, "%s/%s", dir, name);
	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, content, len) != (ssize_t)len ||
	    fchmod(fd, mode) < 0)
		tap_bail("cannot create %s", path);
	close(fd);
}

static void test_parse(void)
{
	static const struct {
		const char *name, *content, *msg;
	} bad[] = {
		{ "empty", "", "0 hex digits" },
		{ "short", KEY_HEX "\n" + 2, "62 hex digits" },
		{ "odd", "0" KEY_HEX "\n" + 2, "63 hex digits" },
		{ "long", KEY_HEX "00\n", "longer than 64" },
		{ "bad hex",
		  "88bf34f15cafacb64b5a2b371e1d3e2179551034027835ca18628759c55f390g\n",
		  "1:64: not a hexadecimal digit" },
		{ "space", " " KEY_HEX, "1:1: not a hexadecimal" },
		{ "crlf", KEY_HEX "\r\n", "longer than 64" },
		{ "two newlines", KEY_HEX "\n\n", "unexpected data" },
		{ "trailing garbage", KEY_HEX "\n#comment\n",
		  "unexpected data" },
		{ "trailing space", KEY_HEX " ", "longer than 64" },
	};
	struct cpns_err err;
	uint8_t key[CPNS_KEY_LEN];
	size_t i;

	tap_ok(!cpns_key_parse((const uint8_t *)KEY_HEX, 64, "k", key, NULL) &&
		       !memcmp(key, want, sizeof(key)),
	       "parse: 64 hex digits");
	tap_ok(!cpns_key_parse((const uint8_t *)KEY_HEX "\n", 65, "k", key,
			       NULL) &&
		       !memcmp(key, want, sizeof(key)),
	       "parse: 64 hex digits and a newline");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r;

		memset(key, 0x5a, sizeof(key));
		cpns_err_clear(&err);
		r = cpns_key_parse((const uint8_t *)bad[i].content,
				   strlen(bad[i].content), "f.key", key, &err);
		tap_ok(r == -EINVAL && strstr(err.msg, "f.key:") &&
			       strstr(err.msg, bad[i].msg) &&
			       !strstr(err.msg, KEY_HEX + 10) &&
			       key[0] == 0 && key[31] == 0,
		       "parse: %s refused (%s)", bad[i].name, err.msg);
	}
}

static void test_read(void)
{
	char path[4096], spec[32];
	uint8_t key[CPNS_KEY_LEN];
	struct cpns_err err;
	int fds[2], fd;

	put_file("ok.key", KEY_HEX "\n", 65, 0600, path, sizeof(path));
	tap_ok(!cpns_key_read(path, 0, key, &err) &&
		       !memcmp(key, want, sizeof(key)),
	       "read: mode 0600 file");
	put_file("g.key", KEY_HEX "\n", 65, 0640, path, sizeof(path));
	cpns_err_clear(&err);
	tap_ok(cpns_key_read(path, 0, key, &err) == -EACCES &&
		       strstr(err.msg, "g.key") && strstr(err.msg, "0640"),
	       "read: group-readable file refused (%s)", err.msg);
	tap_ok(!cpns_key_read(path, CPNS_KEYFILE_FORCE, key, &err) &&
		       !memcmp(key, want, sizeof(key)),
	       "read: group-readable file accepted with force");
	put_file("w.key", KEY_HEX "\n", 65, 0604, path, sizeof(path));
	tap_ok(cpns_key_read(path, 0, key, NULL) == -EACCES,
	       "read: world-readable file refused");
	put_file("bad.key", KEY_HEX "x\n", 66, 0600, path, sizeof(path));
	cpns_err_clear(&err);
	tap_ok(cpns_key_read(path, 0, key, &err) == -EINVAL &&
		       strstr(err.msg, "bad.key:1:65"),
	       "read: error names file, line and column (%s)", err.msg);
	tap_ok(cpns_key_read(dir, 0, key, &err) == -EINVAL &&
		       strstr(err.msg, "not a regular file"),
	       "read: directory refused (%s)", err.msg);
	snprintf(path, sizeof(path), "%s/fifo", dir);
	tap_ok(!mkfifo(path, 0600) && cpns_key_read(path, 0, key, &err) < 0,
	       "read: FIFO path refused without blocking");
	tap_ok(cpns_key_read("/dev/null", 0, key, NULL) == -EINVAL,
	       "read: character device refused");
	snprintf(path, sizeof(path), "%s/missing", dir);
	tap_ok(cpns_key_read(path, 0, key, &err) == -ENOENT,
	       "read: missing file (%s)", err.msg);

	/* fd:N and "-" accept pipes */
	if (pipe(fds) < 0 || write(fds[1], KEY_HEX "\n", 65) != 65)
		tap_bail("pipe");
	close(fds[1]);
	snprintf(spec, sizeof(spec), "fd:%d", fds[0]);
	tap_ok(!cpns_key_read(spec, 0, key, &err) &&
		       !memcmp(key, want, sizeof(key)),
	       "read: fd:N on a pipe");
	close(fds[0]);
	if (pipe(fds) < 0 || write(fds[1], KEY_HEX, 64) != 64)
		tap_bail("pipe");
	close(fds[1]);
	fd = dup(STDIN_FILENO);
	dup2(fds[0], STDIN_FILENO);
	tap_ok(!cpns_key_read("-", 0, key, &err) &&
		       !memcmp(key, want, sizeof(key)),
	       "read: \"-\" reads stdin");
	dup2(fd, STDIN_FILENO);
	close(fd);
	close(fds[0]);
	tap_ok(cpns_key_read("fd:", 0, key, NULL) == -EINVAL &&
		       cpns_key_read("fd:3x", 0, key, NULL) == -EINVAL &&
		       cpns_key_read("fd:-1", 0, key, NULL) == -EINVAL &&
		       cpns_key_read("fd:99999999999", 0, key, NULL) == -EINVAL,
	       "read: malformed fd:N refused");
	tap_ok(cpns_key_read("fd:1000", 0, key, NULL) == -EBADF,
	       "read: closed fd:N refused");
	put_file("g2.key", KEY_HEX "\n", 65, 0644, path, sizeof(path));
	fd = open(path, O_RDONLY);
	snprintf(spec, sizeof(spec), "fd:%d", fd);
	tap_ok(cpns_key_read(spec, 0, key, NULL) == -EACCES,
	       "read: fd:N on a world-readable regular file refused");
	close(fd);
}

static void test_write(void)
{
	char path[4096], lnk[4096], text[80];
	uint8_t key[CPNS_KEY_LEN];
	struct cpns_err err;
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/new.key", dir);
	umask(022);
	tap_ok(!cpns_key_write(path, want, &err) && !stat(path, &st) &&
		       (st.st_mode & 07777) == 0600,
	       "write: new file has mode 0600");
	fd = open(path, O_RDONLY);
	n = read(fd, text, sizeof(text));
	close(fd);
	tap_ok(n == 65 && !memcmp(text, KEY_HEX "\n", 65),
	       "write: 64 lowercase hex digits and a newline");
	tap_ok(!cpns_key_read(path, 0, key, NULL) &&
		       !memcmp(key, want, sizeof(key)),
	       "write: reads back");
	memset(key, 0x11, sizeof(key));
	tap_ok(!cpns_key_write(path, key, &err) &&
		       !cpns_key_read(path, 0, key, NULL) && key[0] == 0x11,
	       "write: replaces an existing file");
	snprintf(lnk, sizeof(lnk), "%s/new.key.tmp%ld", dir, (long)getpid());
	tap_ok(!symlink("/nonexistent-target", lnk) &&
		       cpns_key_write(path, want, &err) == -EEXIST &&
		       !cpns_key_read(path, 0, key, NULL) && key[0] == 0x11,
	       "write: refuses to follow a planted temporary file (%s)",
	       err.msg);
	unlink(lnk);
	snprintf(path, sizeof(path), "%s/nodir/x.key", dir);
	tap_ok(cpns_key_write(path, want, &err) == -ENOENT,
	       "write: missing directory (%s)", err.msg);
}

int main(void)
{
	char cmd[256];
	int i;

	for (i = 0; i < CPNS_KEY_LEN; i++) {
		unsigned int b;

		sscanf(KEY_HEX + 2 * i, "%2x", &b);
		want[i] = (uint8_t)b;
	}
	tap_start();
	if (!mkdtemp(dir))
		tap_bail("mkdtemp");
	test_parse();
	test_read();
	test_write();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		tap_diag("cannot remove %s", dir);
	return tap_done();
}

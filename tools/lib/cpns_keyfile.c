// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpns_keyfile.h"

#define CPNS_KEY_HEXLEN		(2 * CPNS_KEY_LEN)
/* Enough to tell a valid file (65 bytes at most) from a longer one. */
#define CPNS_KEYFILE_READ_MAX	(CPNS_KEY_HEXLEN + 2)

static int cpns_hexval(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/**
 * cpns_key_parse() - parse the content of a key file
 * @buf: file content
 * @len: its length
 * @name: file name for messages
 * @key: output; wiped on failure
 * @err: error message, or NULL
 *
 * The messages name the file, line and column, never key material.
 *
 * Return: 0 or -EINVAL.
 */
int cpns_key_parse(const uint8_t *buf, size_t len, const char *name,
		   uint8_t key[CPNS_KEY_LEN], struct cpns_err *err)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < CPNS_KEY_HEXLEN; i += 2) {
		if (i >= len || buf[i] == '\n')
			goto short_key;
		hi = cpns_hexval(buf[i]);
		if (hi < 0)
			goto bad_char;
		if (i + 1 >= len || buf[i + 1] == '\n') {
			i++;
			goto short_key;
		}
		lo = cpns_hexval(buf[i + 1]);
		if (lo < 0) {
			i++;
			goto bad_char;
		}
		key[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	if (len == i || (len == i + 1 && buf[i] == '\n'))
		return 0;
	cpns_wipe(key, CPNS_KEY_LEN);
	if (buf[i] != '\n')
		return cpns_err_set(err, -EINVAL,
				    "%s:1:%zu: key longer than %d hex digits",
				    name, i + 1, CPNS_KEY_HEXLEN);
	return cpns_err_set(err, -EINVAL,
			    "%s:2: unexpected data after the key line", name);
short_key:
	cpns_wipe(key, CPNS_KEY_LEN);
	return cpns_err_set(err, -EINVAL,
			    "%s:1: key has %zu hex digits, expected %d", name,
			    i, CPNS_KEY_HEXLEN);
bad_char:
	cpns_wipe(key, CPNS_KEY_LEN);
	return cpns_err_set(err, -EINVAL,
			    "%s:1:%zu: not a hexadecimal digit", name, i + 1);
}

static int cpns_key_read_fd(int fd, const char *name, bool is_path,
			    unsigned int flags, uint8_t key[CPNS_KEY_LEN],
			    struct cpns_err *err)
{
	uint8_t buf[CPNS_KEYFILE_READ_MAX];
	size_t len = 0;
	struct stat st;
	ssize_t n;
	int ret;

	if (fstat(fd, &st) < 0)
		return cpns_err_set(err, -errno, "%s: %s", name,
				    strerror(errno));
	if (S_ISREG(st.st_mode)) {
		if ((st.st_mode & 077) && !(flags & CPNS_KEYFILE_FORCE))
			return cpns_err_set(err, -EACCES,
					    "%s: key file is accessible by group or others (mode %04o); run chmod 600 or force it",
					    name, st.st_mode & 07777);
	} else if (is_path || !(S_ISFIFO(st.st_mode) ||
				S_ISSOCK(st.st_mode))) {
		/* stdin and fd:N may also be pipes or sockets */
		return cpns_err_set(err, -EINVAL, "%s: not a regular file",
				    name);
	}
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = cpns_err_set(err, -errno, "%s: %s", name,
					   strerror(errno));
			goto out;
		}
		if (!n)
			break;
		len += (size_t)n;
	}
	ret = cpns_key_parse(buf, len, name, key, err);
out:
	cpns_wipe(buf, sizeof(buf));
	return ret;
}

/**
 * cpns_key_read() - read a key file
 * @spec: a path, "-" for stdin, or "fd:N" for an inherited descriptor
 * @flags: CPNS_KEYFILE_FORCE to accept a file accessible by group/others
 * @key: output; wiped on failure
 * @err: error message, or NULL
 *
 * A path must name a regular file; stdin and fd:N may also be a pipe or a
 * socket. Regular files with any group/other permission bit are refused
 * unless forced. Descriptors of stdin and fd:N are left open.
 *
 * Return: 0 or a negative errno.
 */
int cpns_key_read(const char *spec, unsigned int flags,
		  uint8_t key[CPNS_KEY_LEN], struct cpns_err *err)
{
	unsigned long v;
	char *end;
	int fd, ret;

	if (!strcmp(spec, "-"))
		return cpns_key_read_fd(STDIN_FILENO, "<stdin>", false, flags,
					key, err);
	if (!strncmp(spec, "fd:", 3)) {
		errno = 0;
		v = strtoul(spec + 3, &end, 10);
		if (spec[3] < '0' || spec[3] > '9' || *end || errno ||
		    v > INT_MAX)
			return cpns_err_set(err, -EINVAL,
					    "%s: invalid file descriptor",
					    spec);
		return cpns_key_read_fd((int)v, spec, false, flags, key, err);
	}
	/* O_NONBLOCK: opening a FIFO must not hang before it is refused */
	fd = open(spec, O_RDONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return cpns_err_set(err, -errno, "%s: %s", spec,
				    strerror(errno));
	ret = cpns_key_read_fd(fd, spec, true, flags, key, err);
	close(fd);
	return ret;
}

static int cpns_write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/**
 * cpns_secret_write() - write a file holding secrets, atomically, mode 0600
 * @path: destination; replaced if it exists
 * @buf: contents
 * @len: length of @buf
 * @err: error message, or NULL
 *
 * The bytes go to a new file beside @path (O_EXCL, O_NOFOLLOW, 0600),
 * which is fsync'ed and renamed over @path; the directory is synced too.
 * On failure @path is unchanged and the temporary file is gone.
 *
 * Return: 0 or a negative errno.
 */
int cpns_secret_write(const char *path, const void *buf, size_t len,
		      struct cpns_err *err)
{
	char *tmp = NULL, *dcopy = NULL;
	int fd, dfd, ret;

	if (asprintf(&tmp, "%s.tmp%ld", path, (long)getpid()) < 0)
		return cpns_err_set(err, -ENOMEM, "%s: out of memory", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0) {
		ret = cpns_err_set(err, -errno, "%s: %s", tmp,
				   strerror(errno));
		goto out;
	}
	ret = cpns_write_all(fd, buf, len);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, path) < 0)
		ret = -errno;
	if (ret) {
		unlink(tmp);
		cpns_err_set(err, ret, "%s: %s", path, strerror(-ret));
		goto out;
	}
	dcopy = strdup(path);
	if (dcopy) {
		dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
out:
	free(dcopy);
	free(tmp);
	return ret;
}

/**
 * cpns_key_write() - write a key file atomically with mode 0600
 * @path: destination; replaced if it exists
 * @key: the key
 * @err: error message, or NULL
 *
 * Return: 0 or a negative errno.
 */
int cpns_key_write(const char *path, const uint8_t key[CPNS_KEY_LEN],
		   struct cpns_err *err)
{
	static const char hex[] = "0123456789abcdef";
	char text[CPNS_KEY_HEXLEN + 1];
	int ret, i;

	for (i = 0; i < CPNS_KEY_LEN; i++) {
		text[2 * i] = hex[key[i] >> 4];
		text[2 * i + 1] = hex[key[i] & 0xf];
	}
	text[CPNS_KEY_HEXLEN] = '\n';
	ret = cpns_secret_write(path, text, sizeof(text), err);
	cpns_wipe(text, sizeof(text));
	return ret;
}

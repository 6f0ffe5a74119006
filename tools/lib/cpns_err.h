/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Error reporting of libcpns: functions return 0 or a negative errno and,
 * when given a struct cpns_err, leave a message for the caller to print.
 * The library itself never prints.
 */
#ifndef CPNS_ERR_H
#define CPNS_ERR_H

#define CPNS_ERR_MSG_LEN 256

struct cpns_err {
	int code;			/* negative errno */
	char msg[CPNS_ERR_MSG_LEN];	/* human-readable, no trailing newline */
};

int cpns_err_set(struct cpns_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void cpns_err_clear(struct cpns_err *err);

#endif /* CPNS_ERR_H */

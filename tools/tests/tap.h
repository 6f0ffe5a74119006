/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A tiny TAP 13 producer. The plan is printed up front by tap_plan() or,
 * for data-driven tests, at the end by tap_done().
 */
#ifndef CPNS_TAP_H
#define CPNS_TAP_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

static unsigned int tap_planned, tap_count, tap_failed;

static inline void tap_start(void)
{
	printf("TAP version 13\n");
}

static inline void tap_plan(unsigned int n)
{
	tap_planned = n;
	printf("1..%u\n", n);
}

static inline __attribute__((format(printf, 2, 3))) bool
tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	if (!cond)
		tap_failed++;
	printf("%sok %u - ", cond ? "" : "not ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	return cond;
}

static inline __attribute__((format(printf, 2, 3))) void
tap_skip(const char *reason, const char *fmt, ...)
{
	va_list ap;

	tap_count++;
	printf("ok %u - ", tap_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", reason);
}

static inline __attribute__((format(printf, 1, 2))) void
tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static inline __attribute__((format(printf, 1, 2), noreturn)) void
tap_bail(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	exit(1);
}

/* Exit status: 0 only if every test passed and the plan was met. */
static inline int tap_done(void)
{
	if (!tap_planned)
		printf("1..%u\n", tap_count);
	else if (tap_planned != tap_count)
		tap_diag("planned %u tests, ran %u", tap_planned, tap_count);
	if (tap_failed)
		tap_diag("%u of %u tests failed", tap_failed, tap_count);
	return tap_failed || (tap_planned && tap_planned != tap_count);
}

#endif /* CPNS_TAP_H */

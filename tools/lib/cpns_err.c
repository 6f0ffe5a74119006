// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>

#include "cpns_err.h"

/**
 * cpns_err_set() - record an error for the caller
 * @err: where to store it, or NULL
 * @code: negative errno
 * @fmt: printf-style message
 *
 * Return: @code, so that callers can write "return cpns_err_set(...)".
 */
int cpns_err_set(struct cpns_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}

void cpns_err_clear(struct cpns_err *err)
{
	if (!err)
		return;
	err->code = 0;
	err->msg[0] = '\0';
}

/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cpnsd's log: the datagrams syslog(3) sends to the system logger, made
 * here so that the lines of one pass of the server's loop leave together.
 *
 * Each line is one datagram in syslog(3)'s format ("<PRI>Mmm dd hh:mm:ss
 * IDENT[PID]: message", local time), with the same options (LOG_PID,
 * LOG_PERROR). Between cpnsd_log_hold() and cpnsd_log_flush() the lines
 * wait, up to CPNSD_LOG_HELD of them, and then go in one sendmmsg(2): one
 * system call for them. (A logger on the same CPU still takes them one at a
 * time: each datagram wakes it, and the kernel lets it run between them.)
 * Their time stamps are those of the calls, and their order is kept. A
 * warning or worse does not wait: it leaves at once, with the lines held
 * before it. Outside a hold, every line leaves at once. As syslog(3), a line
 * the logger cannot take is dropped; the connection is made again once when
 * the logger went away.
 */
#ifndef CPNSD_LOG_H
#define CPNSD_LOG_H

#include <stddef.h>

#define CPNSD_LOG_HELD		32	/* lines a hold keeps before sending */
#define CPNSD_LOG_LINE_MAX	2048	/* a longer line is cut */

/*
 * Sets the ident, the syslog(3) options (LOG_PID, LOG_PERROR; others are
 * ignored), the facility and the logger's socket (NULL: /dev/log). The
 * connection is made with the first line. Ends a hold, sending its lines.
 */
void cpnsd_log_open(const char *ident, int options, int facility,
		    const char *path);

/* A line, as syslog(3): printf format, %m included. Keeps errno. */
void cpnsd_log(int prio, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Lines wait from now on for cpnsd_log_flush(). */
void cpnsd_log_hold(void);

/* Sends the lines held, and ends the hold. */
void cpnsd_log_flush(void);

/* Sends what is held and closes the connection. */
void cpnsd_log_close(void);

#endif

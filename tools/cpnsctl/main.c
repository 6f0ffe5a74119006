// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsctl [OPTIONS] OBJECT COMMAND [ARGS]
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpnsctl.h"

#ifndef CPNSCTL_VERSION
#define CPNSCTL_VERSION "0.1"
#endif

const char *cpnsctl_prog = "cpnsctl";

static const char cpnsctl_usage_text[] =
	"Usage: cpnsctl [OPTIONS] OBJECT { COMMAND | help }\n"
	"       cpnsctl [OPTIONS] -b FILE\n"
	"where  OBJECT := { info | link | id | peer | route | session | stats | monitor |\n"
	"                  enroll | connect | agent }\n"
	"       OPTIONS := { -j[son] | -p[retty] | -s[tatistics] | -d[etails] |\n"
	"                    -n[etns] NAME | -b[atch] FILE | -V[ersion] | -h[elp] }\n";

struct cpnsctl_object {
	const char *name;
	int (*fn)(struct cpnsctl *c, int argc, char **argv);
};

static const struct cpnsctl_object cpnsctl_objects[] = {
	{ "info", cpnsctl_do_info },
	{ "link", cpnsctl_do_link },
	{ "id", cpnsctl_do_id },
	{ "peer", cpnsctl_do_peer },
	{ "route", cpnsctl_do_route },
	{ "session", cpnsctl_do_session },
	{ "stats", cpnsctl_do_stats },
	{ "monitor", cpnsctl_do_monitor },
	{ "enroll", cpnsctl_do_enroll },
	{ "connect", cpnsctl_do_connect },
	{ "agent", cpnsctl_do_agent },
	{ NULL, NULL },
};

/**
 * cpnsctl_usage_error() - report a usage error
 * @usage: the usage text of the object, printed after the message
 * @fmt: what was wrong
 *
 * Return: CPNSCTL_EXIT_USAGE.
 */
int cpnsctl_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cpnsctl_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fputs(usage ? usage : cpnsctl_usage_text, stderr);
	return CPNSCTL_EXIT_USAGE;
}

/**
 * cpnsctl_dispatch() - run COMMAND of an object
 * @c: context
 * @object: the object's name, for messages
 * @cmds: its commands, NULL-terminated
 * @usage: its usage text
 * @dflt: the command when none is given, or NULL to require one
 * @argc: arguments after the object word
 * @argv: they
 *
 * Keywords match exactly; "help" prints the usage to stdout.
 *
 * Return: exit status.
 */
int cpnsctl_dispatch(struct cpnsctl *c, const char *object,
		     const struct cpnsctl_cmd *cmds, const char *usage,
		     const char *dflt, int argc, char **argv)
{
	const struct cpnsctl_cmd *cmd;
	const char *word = argc > 0 ? argv[0] : dflt;

	if (!word)
		return cpnsctl_usage_error(usage, "%s: missing command",
					   object);
	if (!strcmp(word, "help")) {
		fputs(usage, stdout);
		return CPNSCTL_EXIT_OK;
	}
	for (cmd = cmds; cmd->name; cmd++)
		if (!strcmp(word, cmd->name))
			return cmd->fn(c, argc > 0 ? argc - 1 : 0,
				       argc > 0 ? argv + 1 : argv);
	return cpnsctl_usage_error(usage, "%s: unknown command \"%s\"",
				   object, word);
}

/**
 * cpnsctl_nl() - the netlink connection, opened on first use
 * @c: context
 * @status: set to the exit status on failure
 *
 * Enters the namespace of -n before the first socket is opened.
 *
 * Return: the connection, or NULL with a message printed.
 */
struct cpns_nl *cpnsctl_nl(struct cpnsctl *c, int *status)
{
	struct cpns_err err = { 0 };

	if (c->nl)
		return c->nl;
	if (c->netns) {
		if (cpns_netns_enter(c->netns, &err) < 0) {
			fprintf(stderr, "%s: %s\n", cpnsctl_prog, err.msg);
			*status = CPNSCTL_EXIT_KERNEL;
			return NULL;
		}
		c->netns = NULL;	/* once */
	}
	if (cpns_nl_open(&c->nl, &err) < 0) {
		fprintf(stderr, "%s: %s\n", cpnsctl_prog, err.msg);
		*status = CPNSCTL_EXIT_KERNEL;
		return NULL;
	}
	return c->nl;
}

/* Print the kernel's (extack) message. Return: CPNSCTL_EXIT_KERNEL. */
int cpnsctl_kernel_error(const struct cpns_err *err, const char *what)
{
	if (what)
		fprintf(stderr, "%s: %s: %s\n", cpnsctl_prog, what, err->msg);
	else
		fprintf(stderr, "%s: %s\n", cpnsctl_prog, err->msg);
	return CPNSCTL_EXIT_KERNEL;
}

struct nl_msg *cpnsctl_msg(struct cpnsctl *c, uint8_t cmd, int flags,
			   int *status)
{
	struct cpns_nl *nl = cpnsctl_nl(c, status);
	struct nl_msg *msg;

	if (!nl)
		return NULL;
	msg = cpns_nl_msg_new(nl, cmd, flags);
	if (!msg) {
		fprintf(stderr, "%s: out of memory\n", cpnsctl_prog);
		*status = CPNSCTL_EXIT_KERNEL;
	}
	return msg;
}

/**
 * cpnsctl_id_request() - a request whose only argument is one entity ID
 * @c: the context
 * @usage: the object's usage text, for errors
 * @what: "OBJECT VERB", for errors
 * @cmd: the netlink command
 * @attr: the attribute that carries the ID
 * @argc: argument count after the verb
 * @argv: the arguments: exactly one ID
 *
 * Return: an exit status.
 */
int cpnsctl_id_request(struct cpnsctl *c, const char *usage, const char *what,
		       uint8_t cmd, int attr, int argc, char **argv)
{
	uint8_t id[CPNS_ID_LEN];
	struct nl_msg *msg;
	int status;

	if (argc != 1)
		return cpnsctl_usage_error(usage, "%s: expected exactly one ID",
					   what);
	if (cpnsctl_parse_id(argv[0], id))
		return cpnsctl_usage_error(usage, "%s: invalid entity ID \"%s\"",
					   what, argv[0]);
	msg = cpnsctl_msg(c, cmd, 0, &status);
	if (!msg)
		return status;
	if (cpns_nl_put_id(msg, attr, id))
		return cpnsctl_put_failed(msg);
	return cpnsctl_request(c, msg, NULL, NULL, NULL);
}

/* An attribute did not fit: frees @msg. Return: CPNSCTL_EXIT_KERNEL. */
int cpnsctl_put_failed(struct nl_msg *msg)
{
	cpns_nl_msg_free(msg);
	fprintf(stderr, "%s: netlink message too long\n", cpnsctl_prog);
	return CPNSCTL_EXIT_KERNEL;
}

int cpnsctl_request(struct cpnsctl *c, struct nl_msg *msg, cpns_nl_msg_cb cb,
		    void *arg, const char *what)
{
	struct cpns_err err = { 0 };

	if (cpns_nl_request(c->nl, msg, cb, arg, &err) < 0)
		return cpnsctl_kernel_error(&err, what);
	return CPNSCTL_EXIT_OK;
}

int cpnsctl_dump(struct cpnsctl *c, struct nl_msg *msg, cpns_nl_msg_cb cb,
		 void *arg, const char *what)
{
	struct cpns_err err = { 0 };

	if (cpns_nl_dump(c->nl, msg, cb, arg, &err) < 0)
		return cpnsctl_kernel_error(&err, what);
	return CPNSCTL_EXIT_OK;
}

static int cpnsctl_run(struct cpnsctl *c, int argc, char **argv)
{
	const struct cpnsctl_object *o;

	if (argc < 1)
		return cpnsctl_usage_error(NULL, "missing OBJECT");
	if (!strcmp(argv[0], "help")) {
		fputs(cpnsctl_usage_text, stdout);
		return CPNSCTL_EXIT_OK;
	}
	for (o = cpnsctl_objects; o->name; o++)
		if (!strcmp(argv[0], o->name))
			return o->fn(c, argc - 1, argv + 1);
	return cpnsctl_usage_error(NULL, "unknown object \"%s\"", argv[0]);
}

#define CPNSCTL_BATCH_MAX_ARGS	64

/* One command per line, '#' starts a comment; stop at the first error. */
static int cpnsctl_batch(struct cpnsctl *c, const char *path)
{
	char *argv[CPNSCTL_BATCH_MAX_ARGS + 1];
	size_t cap = 0;
	char *line = NULL;
	unsigned long lineno = 0;
	int argc, status = CPNSCTL_EXIT_OK;
	FILE *f;

	c->in_batch = true;
	if (!strcmp(path, "-")) {
		f = stdin;
		c->stdin_busy = true;
	} else {
		f = fopen(path, "r");
		if (!f) {
			fprintf(stderr, "%s: %s: %s\n", cpnsctl_prog, path,
				strerror(errno));
			return CPNSCTL_EXIT_USAGE;
		}
	}
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		argc = cpnsctl_split_line(line, argv, CPNSCTL_BATCH_MAX_ARGS);
		if (argc < 0) {
			status = cpnsctl_usage_error(NULL, "too many words");
		} else if (argc == 0) {
			continue;
		} else {
			argv[argc] = NULL;
			status = cpnsctl_run(c, argc, argv);
		}
		if (status) {
			fprintf(stderr, "%s: %s:%lu: command failed\n",
				cpnsctl_prog, path, lineno);
			break;
		}
	}
	free(line);
	if (f != stdin)
		fclose(f);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "statistics", no_argument, NULL, 's' },
		{ "stats", no_argument, NULL, 's' },
		{ "details", no_argument, NULL, 'd' },
		{ "netns", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cpnsctl c = { 0 };
	const char *batch = NULL;
	int opt, status;

	opterr = 0;
	/* '+': options end at OBJECT, like ip(8) */
	while ((opt = getopt_long(argc, argv, "+jpsdn:b:Vh", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'j': c.json = true; break;
		case 'p': c.pretty = true; break;
		case 's': c.stats = true; break;
		case 'd': c.details = true; break;
		case 'n': c.netns = optarg; break;
		case 'b': batch = optarg; break;
		case 'V':
			printf("cpnsctl %s (cpns genl version %d)\n",
			       CPNSCTL_VERSION, CPNS_GENL_VERSION);
			return CPNSCTL_EXIT_OK;
		case 'h':
			fputs(cpnsctl_usage_text, stdout);
			return CPNSCTL_EXIT_OK;
		default:
			if (optopt && strchr("nb", optopt))
				return cpnsctl_usage_error(NULL,
					"option -%c needs an argument", optopt);
			if (optopt)
				return cpnsctl_usage_error(NULL,
					"unknown option -%c", optopt);
			return cpnsctl_usage_error(NULL, "unknown option \"%s\"",
						   argv[optind - 1]);
		}
	}
	/* -p without -j changes nothing, as in ip(8) */
	cpns_print_init(stdout, c.json, c.pretty);
	if (batch) {
		if (optind < argc)
			return cpnsctl_usage_error(NULL,
				"-b takes no OBJECT on the command line");
		status = cpnsctl_batch(&c, batch);
	} else {
		status = cpnsctl_run(&c, argc - optind, argv + optind);
	}
	cpns_nl_close(c.nl);
	if (fflush(stdout) && !status)
		status = CPNSCTL_EXIT_KERNEL;
	return status;
}

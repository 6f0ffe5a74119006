// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsctl enroll: procedure A (PROTOCOL.md 6), GW side.
 *
 * Runs the exchange on the handshake socket (port 1 of the GW's local ID)
 * with the retransmission of 4.7 and, once S has acknowledged KeyConfirm,
 * stores the EUKey with its kid in one 0600 file of the state directory,
 * written beside its final name and renamed over it: either the complete
 * new enrolment is there or the previous one is untouched.
 *
 * The password comes from a file, stdin or an inherited descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cpns_id.h"
#include "cpns_keyfile.h"
#include "cpns_node.h"
#include "cpns_proca.h"
#include "cpnsctl.h"

static const char cpnsctl_enroll_usage[] =
	"Usage: cpnsctl enroll server ID endpoint ADDR user USERID password-file SPEC\n"
	"                      [ local ID ] [ state-dir DIR ]\n"
	"where  ADDR := { IPv4[:PORT] | [IPv6]:PORT }\n"
	"       SPEC := { FILE | - | fd:N }\n";

/* ---- the enrolment file ----------------------------------------------- */

char *cpnsctl_enrolment_path(const char *dir, const uint8_t server[CPNS_ID_LEN])
{
	char id[CPNS_ID_STRLEN], *p;

	cpns_id_format(server, id);
	if (asprintf(&p, "%s/server-%s.conf", dir, id) < 0)
		return NULL;
	return p;
}

int cpnsctl_enrolment_read(const char *dir, const uint8_t server[CPNS_ID_LEN],
			   struct cpnsctl_enrolment *e, struct cpns_err *err)
{
	char *path = cpnsctl_enrolment_path(dir, server);
	char line[256], key[32], val[160], fbuf[BUFSIZ];
	unsigned int seen = 0;
	struct stat st;
	FILE *f;
	int ret = 0;

	memset(e, 0, sizeof(*e));
	if (!path)
		return cpns_err_set(err, -ENOMEM, "out of memory");
	f = fopen(path, "re");
	if (!f) {
		ret = cpns_err_set(err, -errno, "%s: %s%s", path,
				   strerror(errno),
				   errno == ENOENT ? " (not enrolled: run cpnsctl enroll)" : "");
		goto out;
	}
	/* stdio reads the file, EUKey included, into a buffer of ours */
	setvbuf(f, fbuf, _IOFBF, sizeof(fbuf));
	if (fstat(fileno(f), &st) == 0 && (st.st_mode & 077)) {
		ret = cpns_err_set(err, -EACCES,
				   "%s: accessible by group or others (mode %04o)",
				   path, st.st_mode & 07777);
		goto out_close;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (sscanf(line, "%31s %159s", key, val) != 2) {
			ret = cpns_err_set(err, -EINVAL, "%s: bad line", path);
			break;
		}
		if (!strcmp(key, "server")) {
			if (cpns_id_parse(val, e->server, CPNS_ID_VALID) < 0)
				ret = -EINVAL;
			seen |= 1;
		} else if (!strcmp(key, "local")) {
			if (cpns_id_parse(val, e->local, CPNS_ID_VALID) < 0)
				ret = -EINVAL;
			seen |= 2;
		} else if (!strcmp(key, "endpoint")) {
			if (cpns_addr_parse(val, CPNS_DEFAULT_UDP_PORT,
					    &e->endpoint, &e->endpoint_len) < 0)
				ret = -EINVAL;
			seen |= 4;
		} else if (!strcmp(key, "kid")) {
			e->kid = (uint32_t)strtoul(val, NULL, 10);
			seen |= 8;
		} else if (!strcmp(key, "expiry")) {
			e->expiry = strtoull(val, NULL, 10);
		} else if (!strcmp(key, "eukey")) {
			if (cpns_key_parse((const uint8_t *)val, strlen(val),
					   path, e->eukey, NULL) < 0)
				ret = -EINVAL;
			seen |= 16;
		}
		if (ret) {
			ret = cpns_err_set(err, ret, "%s: bad \"%s\"", path, key);
			break;
		}
	}
	cpns_wipe(line, sizeof(line));
	cpns_wipe(val, sizeof(val));
	if (!ret && seen != 31)
		ret = cpns_err_set(err, -EINVAL, "%s: incomplete", path);
	if (!ret && memcmp(e->server, server, CPNS_ID_LEN))
		ret = cpns_err_set(err, -EINVAL, "%s: for another server", path);
out_close:
	fclose(f);
	cpns_wipe(fbuf, sizeof(fbuf));
out:
	if (ret)
		cpns_wipe(e, sizeof(*e));
	free(path);
	return ret;
}

int cpnsctl_enrolment_write(const char *dir, const struct cpnsctl_enrolment *e,
			    struct cpns_err *err)
{
	char sid[CPNS_ID_STRLEN], lid[CPNS_ID_STRLEN], ep[CPNS_ADDR_STRLEN];
	char text[512], hex[2 * CPNS_KEY_LEN + 1];
	char *path = cpnsctl_enrolment_path(dir, e->server);
	int len, ret, i;

	if (!path)
		return cpns_err_set(err, -ENOMEM, "out of memory");
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		ret = cpns_err_set(err, -errno, "%s: %s", dir, strerror(errno));
		goto out;
	}
	cpns_id_format(e->server, sid);
	cpns_id_format(e->local, lid);
	cpns_addr_format((const struct sockaddr *)&e->endpoint,
			 e->endpoint_len, ep, sizeof(ep));
	for (i = 0; i < CPNS_KEY_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", e->eukey[i]);
	len = snprintf(text, sizeof(text),
		       "# cpns enrolment (procedure A); secret: keep mode 0600\n"
		       "server %s\nlocal %s\nendpoint %s\nkid %" PRIu32
		       "\nexpiry %" PRIu64 "\neukey %s\n",
		       sid, lid, ep, e->kid, e->expiry, hex);
	cpns_wipe(hex, sizeof(hex));
	if (len < 0 || (size_t)len >= sizeof(text))
		ret = cpns_err_set(err, -EOVERFLOW, "%s: entry too long", path);
	else
		ret = cpns_secret_write(path, text, (size_t)len, err);
	cpns_wipe(text, sizeof(text));
out:
	free(path);
	return ret;
}

/* ---- procedure A ------------------------------------------------------ */

struct cpnsctl_enroll_args {
	uint8_t server[CPNS_ID_LEN], local[CPNS_ID_LEN];
	bool has_server, has_local, has_ep;
	struct sockaddr_storage ep;
	socklen_t ep_len;
	const char *user, *pw_spec, *state_dir;
};

static int cpnsctl_enroll_parse(int argc, char **argv,
				struct cpnsctl_enroll_args *a)
{
	for (; argc > 0; argc -= 2, argv += 2) {
		const char *k = argv[0], *v = argc > 1 ? argv[1] : NULL;

		if (!v)
			return cpnsctl_usage_error(cpnsctl_enroll_usage,
						   "enroll: \"%s\" needs a value", k);
		if (!strcmp(k, "server")) {
			if (cpnsctl_parse_id(v, a->server))
				return cpnsctl_usage_error(cpnsctl_enroll_usage,
							   "enroll: invalid entity ID \"%s\"", v);
			a->has_server = true;
		} else if (!strcmp(k, "local")) {
			if (cpnsctl_parse_id(v, a->local))
				return cpnsctl_usage_error(cpnsctl_enroll_usage,
							   "enroll: invalid entity ID \"%s\"", v);
			a->has_local = true;
		} else if (!strcmp(k, "endpoint")) {
			if (cpnsctl_parse_addr(v, &a->ep, &a->ep_len))
				return cpnsctl_usage_error(cpnsctl_enroll_usage,
							   "enroll: invalid address \"%s\"", v);
			a->has_ep = true;
		} else if (!strcmp(k, "user")) {
			if (!*v || strlen(v) > CPNS_USER_ID_MAX)
				return cpnsctl_usage_error(cpnsctl_enroll_usage,
							   "enroll: user ID must have 1-%d bytes",
							   CPNS_USER_ID_MAX);
			a->user = v;
		} else if (!strcmp(k, "password-file")) {
			a->pw_spec = v;
		} else if (!strcmp(k, "state-dir")) {
			a->state_dir = v;
		} else {
			return cpnsctl_usage_error(cpnsctl_enroll_usage,
						   "enroll: unexpected argument (passwords are read from files, never from the command line)");
		}
	}
	if (!a->has_server || !a->has_ep || !a->user || !a->pw_spec)
		return cpnsctl_usage_error(cpnsctl_enroll_usage,
					   "enroll: missing \"%s\"",
					   !a->has_server ? "server ID" :
					   !a->has_ep ? "endpoint ADDR" :
					   !a->user ? "user USERID" :
					   "password-file SPEC");
	if (!a->state_dir)
		a->state_dir = CPNSCTL_STATE_DIR;
	return 0;
}

/* The GW's entity ID: given, from an earlier enrolment, the node's only
 * local ID, or a new random one.
 */
static int cpnsctl_enroll_local(struct cpns_nl *nl,
				struct cpnsctl_enroll_args *a)
{
	struct cpnsctl_enrolment old;
	uint8_t ids[2][CPNS_ID_LEN];
	int n;

	if (a->has_local)
		return 0;
	if (!cpnsctl_enrolment_read(a->state_dir, a->server, &old, NULL)) {
		memcpy(a->local, old.local, CPNS_ID_LEN);
		cpns_wipe(&old, sizeof(old));
		return 0;
	}
	n = cpns_node_id_list(nl, ids, 2, NULL);
	if (n == 1 && memcmp(ids[0], a->server, CPNS_ID_LEN)) {
		memcpy(a->local, ids[0], CPNS_ID_LEN);
		return 0;
	}
	do {
		if (cpns_random(NULL, a->local, CPNS_ID_LEN) < 0)
			return -EIO;
	} while (!cpns_id_valid(a->local));
	return 0;
}

int cpnsctl_do_enroll(struct cpnsctl *c, int argc, char **argv)
{
	struct cpnsctl_enroll_args a = { 0 };
	uint8_t pw[CPNS_PROCA_PASSWORD_MAX], buf[CPNS_PROCA_MSG_MAX + 64];
	struct cpns_proca_gw *gw = NULL;
	struct cpnsctl_enrolment e = { 0 };
	struct cpns_err err = { 0 };
	struct cpns_hsock_tx tx = { 0 };
	struct cpns_nl *nl;
	const uint8_t *out;
	size_t out_len, pw_len;
	uint64_t deadline, interval;
	unsigned int sent = 0;
	struct cpns_hsock hs = { .fd = -1 };
	int status, r;

	if (argc == 1 && !strcmp(argv[0], "help")) {
		fputs(cpnsctl_enroll_usage, stdout);
		return CPNSCTL_EXIT_OK;
	}
	status = cpnsctl_enroll_parse(argc, argv, &a);
	if (status)
		return status;
	if (c->stdin_busy && !strcmp(a.pw_spec, "-"))
		return cpnsctl_usage_error(cpnsctl_enroll_usage,
					   "enroll: stdin is the batch file; use a file or fd:N");
	if (cpns_password_read(a.pw_spec, pw, sizeof(pw), &pw_len, &err) < 0) {
		fprintf(stderr, "%s: password-file: %s\n", cpnsctl_prog, err.msg);
		return CPNSCTL_EXIT_USAGE;
	}
	nl = cpnsctl_nl(c, &status);
	if (!nl)
		goto out_wipe;
	status = CPNSCTL_EXIT_KERNEL;
	if (cpnsctl_enroll_local(nl, &a) < 0 ||
	    cpns_node_id_add(nl, a.local, &err) < 0 ||
	    cpns_hsock_open(a.local, &hs, &err) < 0) {
		fprintf(stderr, "%s: enroll: %s\n", cpnsctl_prog, err.msg);
		goto out_wipe;
	}
	gw = calloc(1, sizeof(*gw));
	if (!gw)
		goto out_wipe;
	r = cpns_proca_gw_start(gw, a.local, a.server, (const uint8_t *)a.user,
				strlen(a.user), pw, pw_len, NULL, &out,
				&out_len);
	cpns_wipe(pw, sizeof(pw));
	if (r < 0) {
		fprintf(stderr, "%s: enroll: %s\n", cpnsctl_prog, strerror(-r));
		goto out_wipe;
	}
	tx.dst = a.server;
	tx.suite0 = true;
	tx.endpoint = (const struct sockaddr *)&a.ep;
	tx.endpoint_len = a.ep_len;

	/* 4.7: 1, 2, 4, 8, 8 s; at most 5 transmissions of a message */
	interval = CPNS_HS_RTX_FIRST_MS;
	deadline = 0;
	for (;;) {
		struct pollfd pfd = { .fd = hs.fd, .events = POLLIN };
		struct cpns_hsock_rx rx;
		uint64_t now = cpns_node_now_ms();
		ssize_t n;

		if (now >= deadline) {
			if (sent >= CPNS_HS_RTX_MAX) {
				fprintf(stderr,
					"%s: enroll: no answer from the server (timeout)\n",
					cpnsctl_prog);
				status = CPNSCTL_EXIT_UNREACHABLE;
				goto out_wipe;
			}
			out = cpns_proca_gw_last(gw, &out_len);
			r = out ? cpns_hsock_send(&hs, &tx, out, out_len) : 0;
			if (r < 0 && r != -EAGAIN) {
				fprintf(stderr, "%s: enroll: send: %s\n",
					cpnsctl_prog, strerror(-r));
				goto out_wipe;
			}
			if (sent)
				interval = interval * 2 > CPNS_HS_RTX_CAP_MS ?
					CPNS_HS_RTX_CAP_MS : interval * 2;
			sent++;
			deadline = now + interval;
			continue;
		}
		r = poll(&pfd, 1, (int)(deadline - now));
		if (r <= 0)
			continue;
		n = cpns_hsock_recv(&hs, buf, sizeof(buf), &rx);
		if (n <= 0 || rx.info.suite ||
		    memcmp(rx.src, a.server, CPNS_ID_LEN))
			continue;
		r = cpns_proca_gw_input(gw, rx.src, buf, (size_t)n,
					(uint64_t)time(NULL), NULL, &out,
					&out_len);
		if (r < 0) {
			fprintf(stderr, "%s: enroll: %s\n", cpnsctl_prog,
				strerror(-r));
			goto out_wipe;
		}
		if (r == CPNS_PROCA_IGNORE)
			continue;
		if (out && out_len && r != CPNS_PROCA_SEND)
			cpns_hsock_send(&hs, &tx, out, out_len);
		if (r == CPNS_PROCA_SEND) {
			/* a new message: its own retransmission schedule */
			sent = 0;
			interval = CPNS_HS_RTX_FIRST_MS;
			deadline = 0;
			continue;
		}
		if (r == CPNS_PROCA_ABORT || r == CPNS_PROCA_FAILED) {
			/* one message for every cause: a wrong password, an
			 * unknown user and a refusal look the same to S's
			 * peer, so they do here
			 */
			fprintf(stderr,
				"%s: enroll: authentication failed or refused by the server (%s)\n",
				cpnsctl_prog,
				gw->status ? cpns_status_name(gw->status) :
				gw->reason ? cpns_reason_name(gw->reason) : "failed");
			status = CPNSCTL_EXIT_AUTH;
			goto out_wipe;
		}
		if (r == CPNS_PROCA_DONE)
			break;
	}

	memcpy(e.server, a.server, CPNS_ID_LEN);
	memcpy(e.local, a.local, CPNS_ID_LEN);
	memcpy(&e.endpoint, &a.ep, sizeof(a.ep));
	e.endpoint_len = a.ep_len;
	e.kid = gw->kid;
	e.expiry = gw->expiry;
	memcpy(e.eukey, gw->eukey, CPNS_KEY_LEN);
	if (cpnsctl_enrolment_write(a.state_dir, &e, &err) < 0) {
		fprintf(stderr, "%s: enroll: %s\n", cpnsctl_prog, err.msg);
		status = CPNSCTL_EXIT_KERNEL;
		goto out_wipe;
	}
	{
		char lid[CPNS_ID_STRLEN];

		cpns_id_format(a.local, lid);
		printf("enrolled %s kid %" PRIu32 "\n", lid, e.kid);
	}
	status = CPNSCTL_EXIT_OK;
out_wipe:
	cpns_wipe(pw, sizeof(pw));
	cpns_wipe(&e, sizeof(e));
	if (gw) {
		cpns_proca_gw_wipe(gw);
		free(gw);
	}
	if (hs.fd >= 0)
		close(hs.fd);
	return status;
}

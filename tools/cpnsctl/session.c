// SPDX-License-Identifier: GPL-2.0
/*
 * cpnsctl session: install, delete, show and flush generations.
 *
 * Traffic secrets come from key files, stdin or inherited descriptors,
 * never from argv, and never appear in any output. The buffers holding
 * them are wiped as soon as the request is sent.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cpns_crypto.h"
#include "cpns_keyfile.h"
#include "cpnsctl.h"

static const char cpnsctl_session_usage[] =
	"Usage: cpnsctl session add local ID peer ID generation N\n"
	"                           suite { aes256gcm | chacha20poly1305 }\n"
	"                           role { initiator | responder }\n"
	"                           [ mode { immediate | on-confirm } ]\n"
	"                           tx-secret SPEC rx-secret SPEC\n"
	"       cpnsctl session del local ID peer ID [ generation N ]\n"
	"       cpnsctl session show [ local ID ] [ peer ID ]\n"
	"       cpnsctl session flush [ local ID ]\n"
	"where  N := 1..255\n"
	"       SPEC := { FILE | - | fd:N }   (a key file: 64 hex digits; only one \"-\")\n";

struct cpnsctl_sess_args {
	bool has_local, has_peer, has_gen, has_suite, has_role, has_mode;
	uint8_t local[CPNS_ID_LEN], peer[CPNS_ID_LEN];
	unsigned long generation;
	uint8_t suite, role, mode;
	const char *tx_spec, *rx_spec;
};

/* Parse "KEYWORD VALUE" pairs; @allowed lists the keywords of the command. */
static int cpnsctl_sess_parse(const char *verb, const char *allowed,
			      int argc, char **argv,
			      struct cpnsctl_sess_args *s)
{
	const char *k, *v;
	char word[32];

	for (; argc > 0; argc -= 2, argv += 2) {
		k = argv[0];
		/* a long word may be a secret typed on the command line:
		 * do not echo it
		 */
		if (strlen(k) > 20)
			return cpnsctl_usage_error(cpnsctl_session_usage,
						   "session %s: unexpected argument (secrets are read from files, never from the command line)",
						   verb);
		snprintf(word, sizeof(word), " %s ", k);
		if (!strstr(allowed, word))
			return cpnsctl_usage_error(cpnsctl_session_usage,
						   "session %s: unexpected argument \"%s\"",
						   verb, k);
		if (argc < 2)
			return cpnsctl_usage_error(cpnsctl_session_usage,
						   "session %s: \"%s\" needs a value",
						   verb, k);
		v = argv[1];
		if (!strcmp(k, "local") || !strcmp(k, "peer")) {
			bool *has = k[0] == 'l' ? &s->has_local : &s->has_peer;

			if (*has)
				goto repeated;
			if (cpnsctl_parse_id(v, k[0] == 'l' ? s->local : s->peer))
				return cpnsctl_usage_error(cpnsctl_session_usage,
							   "session %s: invalid entity ID \"%s\"",
							   verb, v);
			*has = true;
		} else if (!strcmp(k, "generation")) {
			if (s->has_gen)
				goto repeated;
			if (cpnsctl_parse_uint(v, 1, 255, &s->generation))
				return cpnsctl_usage_error(cpnsctl_session_usage,
							   "session %s: invalid generation \"%s\" (1-255)",
							   verb, v);
			s->has_gen = true;
		} else if (!strcmp(k, "suite")) {
			if (s->has_suite)
				goto repeated;
			if (!strcmp(v, "aes256gcm"))
				s->suite = CPNS_SUITE_AES256GCM;
			else if (!strcmp(v, "chacha20poly1305"))
				s->suite = CPNS_SUITE_CHACHA20POLY1305;
			else
				return cpnsctl_usage_error(cpnsctl_session_usage,
							   "session %s: unknown suite \"%s\"",
							   verb, v);
			s->has_suite = true;
		} else if (!strcmp(k, "role")) {
			if (s->has_role)
				goto repeated;
			if (!strcmp(v, "initiator"))
				s->role = CPNS_ROLE_INITIATOR;
			else if (!strcmp(v, "responder"))
				s->role = CPNS_ROLE_RESPONDER;
			else
				return cpnsctl_usage_error(cpnsctl_session_usage,
							   "session %s: unknown role \"%s\"",
							   verb, v);
			s->has_role = true;
		} else if (!strcmp(k, "mode")) {
			if (s->has_mode)
				goto repeated;
			if (!strcmp(v, "immediate"))
				s->mode = CPNS_TX_IMMEDIATE;
			else if (!strcmp(v, "on-confirm"))
				s->mode = CPNS_TX_ON_CONFIRM;
			else
				return cpnsctl_usage_error(cpnsctl_session_usage,
							   "session %s: unknown mode \"%s\"",
							   verb, v);
			s->has_mode = true;
		} else if (!strcmp(k, "tx-secret")) {
			if (s->tx_spec)
				goto repeated;
			s->tx_spec = v;
		} else if (!strcmp(k, "rx-secret")) {
			if (s->rx_spec)
				goto repeated;
			s->rx_spec = v;
		}
	}
	return 0;
repeated:
	return cpnsctl_usage_error(cpnsctl_session_usage,
				   "session %s: \"%s\" given twice", verb, k);
}

static int cpnsctl_session_add(struct cpnsctl *c, int argc, char **argv)
{
	uint8_t tx[CPNS_SECRET_LEN], rx[CPNS_SECRET_LEN];
	struct cpnsctl_sess_args s = { 0 };
	struct cpns_err err = { 0 };
	struct nl_msg *msg;
	const char *missing = NULL;
	int status;

	status = cpnsctl_sess_parse("add",
				    " local peer generation suite role mode tx-secret rx-secret ",
				    argc, argv, &s);
	if (status)
		return status;
	if (!s.has_local)
		missing = "local ID";
	else if (!s.has_peer)
		missing = "peer ID";
	else if (!s.has_gen)
		missing = "generation N";
	else if (!s.has_suite)
		missing = "suite SUITE";
	else if (!s.has_role)
		missing = "role ROLE";
	else if (!s.tx_spec)
		missing = "tx-secret SPEC";
	else if (!s.rx_spec)
		missing = "rx-secret SPEC";
	if (missing)
		return cpnsctl_usage_error(cpnsctl_session_usage,
					   "session add: missing \"%s\"", missing);
	if (!strcmp(s.tx_spec, "-") && !strcmp(s.rx_spec, "-"))
		return cpnsctl_usage_error(cpnsctl_session_usage,
					   "session add: only one secret can be read from stdin (\"-\")");
	if (c->stdin_busy && (!strcmp(s.tx_spec, "-") || !strcmp(s.rx_spec, "-")))
		return cpnsctl_usage_error(cpnsctl_session_usage,
					   "session add: stdin is the batch file; use a key file or fd:N");
	/* PROTOCOL.md 2.4: the initiator transmits at once, the responder
	 * once the initiator is confirmed.
	 */
	if (!s.has_mode)
		s.mode = s.role == CPNS_ROLE_INITIATOR ? CPNS_TX_IMMEDIATE :
							 CPNS_TX_ON_CONFIRM;

	/* A refused key file is a bad argument: nothing is sent. */
	if (cpns_key_read(s.tx_spec, 0, tx, &err) < 0) {
		fprintf(stderr, "%s: tx-secret: %s\n", cpnsctl_prog, err.msg);
		return CPNSCTL_EXIT_USAGE;
	}
	if (cpns_key_read(s.rx_spec, 0, rx, &err) < 0) {
		cpns_wipe(tx, sizeof(tx));
		fprintf(stderr, "%s: rx-secret: %s\n", cpnsctl_prog, err.msg);
		return CPNSCTL_EXIT_USAGE;
	}

	msg = cpnsctl_msg(c, CPNS_CMD_SESSION_NEW, 0, &status);
	if (!msg)
		goto out_wipe;
	if (cpns_nl_put_id(msg, CPNS_A_LOCAL_ID, s.local) ||
	    cpns_nl_put_id(msg, CPNS_A_PEER_ID, s.peer) ||
	    nla_put_u8(msg, CPNS_A_GENERATION, (uint8_t)s.generation) ||
	    nla_put_u8(msg, CPNS_A_SUITE, s.suite) ||
	    nla_put_u8(msg, CPNS_A_ROLE, s.role) ||
	    nla_put_u8(msg, CPNS_A_TX_MODE, s.mode) ||
	    nla_put(msg, CPNS_A_TX_SECRET, sizeof(tx), tx) ||
	    nla_put(msg, CPNS_A_RX_SECRET, sizeof(rx), rx)) {
		status = cpnsctl_put_failed(msg);
		goto out_wipe;
	}
	cpns_wipe(tx, sizeof(tx));
	cpns_wipe(rx, sizeof(rx));
	/* cpns_nl_request() wipes the message buffer before freeing it */
	status = cpnsctl_request(c, msg, NULL, NULL, NULL);
out_wipe:
	cpns_wipe(tx, sizeof(tx));
	cpns_wipe(rx, sizeof(rx));
	return status;
}

static int cpnsctl_session_del(struct cpnsctl *c, int argc, char **argv)
{
	struct cpnsctl_sess_args s = { 0 };
	struct nl_msg *msg;
	int status;

	status = cpnsctl_sess_parse("del", " local peer generation ", argc,
				    argv, &s);
	if (status)
		return status;
	if (!s.has_local || !s.has_peer)
		return cpnsctl_usage_error(cpnsctl_session_usage,
					   "session del: missing \"%s\"",
					   s.has_local ? "peer ID" : "local ID");
	msg = cpnsctl_msg(c, CPNS_CMD_SESSION_DEL, 0, &status);
	if (!msg)
		return status;
	if (cpns_nl_put_id(msg, CPNS_A_LOCAL_ID, s.local) ||
	    cpns_nl_put_id(msg, CPNS_A_PEER_ID, s.peer) ||
	    (s.has_gen &&
	     nla_put_u8(msg, CPNS_A_GENERATION, (uint8_t)s.generation)))
		return cpnsctl_put_failed(msg);
	return cpnsctl_request(c, msg, NULL, NULL, NULL);
}

struct cpnsctl_sess_show {
	struct cpnsctl *c;
	const struct cpnsctl_sess_args *filter;
};

static void cpnsctl_print_ms(const char *key, const char *fmt,
			     struct nlattr *a)
{
	uint64_t ms;
	char buf[32];

	if (!a)
		return;
	ms = nla_get_u64(a);
	if (cpns_print_json()) {
		cpns_print_u64(CPNS_PR_JSON, key, NULL, ms);
		return;
	}
	snprintf(buf, sizeof(buf), "%llu.%03llus",
		 (unsigned long long)(ms / 1000),
		 (unsigned long long)(ms % 1000));
	cpns_print_string(CPNS_PR_TEXT, key, fmt, buf);
}

static bool cpnsctl_id_attr_is(struct nlattr *a, const uint8_t id[CPNS_ID_LEN])
{
	return a && nla_len(a) == CPNS_ID_LEN &&
	       !memcmp(nla_data(a), id, CPNS_ID_LEN);
}

static void cpnsctl_session_print_one(struct cpnsctl *c, struct nlattr **a)
{
	bool details = !c || c->details || cpns_print_json();

	cpns_print_open_object(NULL);
	if (a[CPNS_A_LOCAL_ID] && nla_len(a[CPNS_A_LOCAL_ID]) == CPNS_ID_LEN)
		cpns_print_id(CPNS_PR_ANY, "local", "local %s",
			      nla_data(a[CPNS_A_LOCAL_ID]));
	if (a[CPNS_A_PEER_ID] && nla_len(a[CPNS_A_PEER_ID]) == CPNS_ID_LEN)
		cpns_print_id(CPNS_PR_ANY, "peer", " peer %s",
			      nla_data(a[CPNS_A_PEER_ID]));
	if (a[CPNS_A_GENERATION])
		cpns_print_uint(CPNS_PR_ANY, "generation", " generation %u",
				nla_get_u8(a[CPNS_A_GENERATION]));
	if (a[CPNS_A_SUITE])
		cpns_print_string(CPNS_PR_ANY, "suite", " suite %s",
				  cpnsctl_suite_name(nla_get_u8(a[CPNS_A_SUITE])));
	if (a[CPNS_A_ROLE])
		cpns_print_string(CPNS_PR_ANY, "role", " role %s",
				  cpnsctl_role_name(nla_get_u8(a[CPNS_A_ROLE])));
	if (a[CPNS_A_TX_MODE])
		cpns_print_string(CPNS_PR_ANY, "mode", " mode %s",
				  cpnsctl_mode_name(nla_get_u8(a[CPNS_A_TX_MODE])));
	if (a[CPNS_A_TX_ACTIVE]) {
		bool active = nla_get_u8(a[CPNS_A_TX_ACTIVE]);

		cpns_print_bool(CPNS_PR_JSON, "tx_active", NULL, active);
		if (active)
			cpns_print_text(" tx-active");
	}
	if (a[CPNS_A_EXHAUSTED]) {
		bool ex = nla_get_u8(a[CPNS_A_EXHAUSTED]);

		cpns_print_bool(CPNS_PR_JSON, "exhausted", NULL, ex);
		if (ex)
			cpns_print_text(" exhausted");
	}
	cpns_print_nl();
	cpns_print_text("    ");
	cpnsctl_print_ms("age_ms", "age %s", a[CPNS_A_AGE_MS]);
	cpnsctl_print_ms("lifetime_ms", " lifetime %s", a[CPNS_A_LIFETIME_MS]);
	cpns_print_nl();
	if (details) {
		cpns_print_text("    ");
		if (a[CPNS_A_TX_EPOCH])
			cpns_print_uint(CPNS_PR_ANY, "tx_epoch", "tx-epoch %u",
					nla_get_u8(a[CPNS_A_TX_EPOCH]));
		if (a[CPNS_A_TX_SEQ])
			cpns_print_u64(CPNS_PR_ANY, "tx_seq", " tx-seq %" PRIu64,
				       nla_get_u64(a[CPNS_A_TX_SEQ]));
		if (a[CPNS_A_RX_EPOCH])
			cpns_print_uint(CPNS_PR_ANY, "rx_epoch", " rx-epoch %u",
					nla_get_u8(a[CPNS_A_RX_EPOCH]));
		if (a[CPNS_A_RX_PREV_EPOCH])
			cpns_print_uint(CPNS_PR_ANY, "rx_prev_epoch",
					" rx-prev-epoch %u",
					nla_get_u8(a[CPNS_A_RX_PREV_EPOCH]));
		cpns_print_nl();
	}
	if (a[CPNS_A_STATS] && c && c->stats)
		cpnsctl_print_stats(a[CPNS_A_STATS], "stats");
	cpns_print_close_object();
}

static int cpnsctl_session_show_cb(uint8_t cmd, struct nlattr **a, void *arg)
{
	struct cpnsctl_sess_show *show = arg;
	const struct cpnsctl_sess_args *f = show->filter;

	(void)cmd;
	/* the kernel may filter too; this makes sure */
	if (f && f->has_local && !cpnsctl_id_attr_is(a[CPNS_A_LOCAL_ID], f->local))
		return 0;
	if (f && f->has_peer && !cpnsctl_id_attr_is(a[CPNS_A_PEER_ID], f->peer))
		return 0;
	cpnsctl_session_print_one(show->c, a);
	return 0;
}

static int cpnsctl_session_query(struct cpnsctl *c,
				 const struct cpnsctl_sess_args *f,
				 const char *key)
{
	struct cpnsctl_sess_show show = { .c = c, .filter = f };
	struct nl_msg *msg;
	int status;

	msg = cpnsctl_msg(c, CPNS_CMD_SESSION_GET, NLM_F_DUMP, &status);
	if (!msg)
		return status;
	if ((f && f->has_local && cpns_nl_put_id(msg, CPNS_A_LOCAL_ID, f->local)) ||
	    (f && f->has_peer && cpns_nl_put_id(msg, CPNS_A_PEER_ID, f->peer)))
		return cpnsctl_put_failed(msg);
	cpns_print_open_array(key);
	status = cpnsctl_dump(c, msg, cpnsctl_session_show_cb, &show, NULL);
	cpns_print_close_array();
	return status;
}

/* For monitor: every session, as "session show" prints them, in a JSON
 * array named @key.
 */
int cpnsctl_session_dump(struct cpnsctl *c, const char *key)
{
	return cpnsctl_session_query(c, NULL, key);
}

static int cpnsctl_session_show(struct cpnsctl *c, int argc, char **argv)
{
	struct cpnsctl_sess_args s = { 0 };
	int status;

	status = cpnsctl_sess_parse("show", " local peer ", argc, argv, &s);
	if (status)
		return status;
	return cpnsctl_session_query(c, &s, NULL);
}

static int cpnsctl_session_flush(struct cpnsctl *c, int argc, char **argv)
{
	struct cpnsctl_sess_args s = { 0 };
	struct nl_msg *msg;
	int status;

	status = cpnsctl_sess_parse("flush", " local ", argc, argv, &s);
	if (status)
		return status;
	msg = cpnsctl_msg(c, CPNS_CMD_SESSION_FLUSH, 0, &status);
	if (!msg)
		return status;
	if (s.has_local && cpns_nl_put_id(msg, CPNS_A_LOCAL_ID, s.local))
		return cpnsctl_put_failed(msg);
	return cpnsctl_request(c, msg, NULL, NULL, NULL);
}

static const struct cpnsctl_cmd cpnsctl_session_cmds[] = {
	{ "add", cpnsctl_session_add },
	{ "del", cpnsctl_session_del },
	{ "show", cpnsctl_session_show },
	{ "flush", cpnsctl_session_flush },
	{ NULL, NULL },
};

int cpnsctl_do_session(struct cpnsctl *c, int argc, char **argv)
{
	return cpnsctl_dispatch(c, "session", cpnsctl_session_cmds,
				cpnsctl_session_usage, "show", argc, argv);
}

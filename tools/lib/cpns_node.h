/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What a handshake daemon does with its node: the handshake socket on
 * AF_CPNS port 1 (PROTOCOL.md 13.5) and the few netlink requests the
 * procedures need (local ID, peer address, generation install and query).
 * Shared by cpnsd (S) and cpnsctl enroll / connect / agent (GW).
 *
 * Functions return 0 or a negative errno and describe the failure in
 * @err; the library never prints.
 */
#ifndef CPNS_NODE_H
#define CPNS_NODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <linux/cpns.h>

#include "cpns_err.h"
#include "cpns_hs.h"
#include "cpns_nl.h"

/* The AF_CPNS number in use (module parameter "family"), or -errno. */
int cpns_node_family(void);

/* Milliseconds on CLOCK_MONOTONIC. */
uint64_t cpns_node_now_ms(void);

/**
 * struct cpns_hsock - an open handshake socket
 * @fd: the socket, to poll and to close
 * @family: its address family, the module's AF number when it was opened
 *	(every address sent to carries it; no query per datagram)
 */
struct cpns_hsock {
	int fd;
	int family;
};

/*
 * Opens the handshake socket (CPNS_HANDSHAKE, CPNS_RECVINFO, non-blocking)
 * bound to port 1 of @id, or of every local ID when @id is NULL.
 */
int cpns_hsock_open(const uint8_t *id, struct cpns_hsock *hs,
		    struct cpns_err *err);

/**
 * struct cpns_hsock_tx - one handshake message to send
 * @src: local ID to send from (required on a socket bound to all IDs,
 *	NULL otherwise)
 * @dst: peer entity ID
 * @suite0: unprotected record; else protected under @generation
 * @generation: 0: the pair's transmit generation
 * @endpoint: suite 0 only: UDP address to send to (the reply rule), or
 *	NULL for the address table's entry
 * @endpoint_len: its length
 */
struct cpns_hsock_tx {
	const uint8_t *src;
	const uint8_t *dst;
	bool suite0;
	uint8_t generation;
	const struct sockaddr *endpoint;
	socklen_t endpoint_len;
};

int cpns_hsock_send(const struct cpns_hsock *hs,
		    const struct cpns_hsock_tx *tx, const void *msg, size_t len);

/**
 * struct cpns_hsock_rx - metadata of a received handshake message
 * @src: record src entity ID
 * @info: the kernel's metadata (suite, generation, dst ID, UDP source)
 * @addr_len: length of the sockaddr in @info.endpoint (0 if local)
 */
struct cpns_hsock_rx {
	uint8_t src[CPNS_ID_LEN];
	struct cpns_recvinfo info;
	socklen_t addr_len;
};

/* One message into @buf; -EAGAIN when none is queued. Returns its length. */
ssize_t cpns_hsock_recv(const struct cpns_hsock *hs, uint8_t *buf, size_t cap,
			struct cpns_hsock_rx *rx);

/* ---- netlink helpers -------------------------------------------------- */

/* Adds a local ID; an ID that is already local is not an error. */
int cpns_node_id_add(struct cpns_nl *nl, const uint8_t id[CPNS_ID_LEN],
		     struct cpns_err *err);
/* The local IDs: up to @max into @ids; returns their total number. */
int cpns_node_id_list(struct cpns_nl *nl, uint8_t (*ids)[CPNS_ID_LEN],
		      int max, struct cpns_err *err);
int cpns_node_peer_set(struct cpns_nl *nl, const uint8_t id[CPNS_ID_LEN],
		       const struct sockaddr *sa, bool learn, bool uplink,
		       struct cpns_err *err);
int cpns_node_set_port(struct cpns_nl *nl, uint16_t port,
		       struct cpns_err *err);
/*
 * SESSION_NEW with the parameters of section 2.4. With @addr, the same
 * request sets the peer's address to it, with learning on (address
 * learning at S, 2.1); on failure neither changed.
 */
int cpns_node_install(struct cpns_nl *nl, const struct cpns_hs_install *in,
		      const struct sockaddr *addr, struct cpns_err *err);
/*
 * The same request queued with cpns_nl_queue(): sent by cpns_nl_flush(),
 * answered only if it fails, which cpns_nl_failures() on @nl reads, by
 * @seq.
 */
int cpns_node_install_queue(struct cpns_nl *nl,
			    const struct cpns_hs_install *in,
			    const struct sockaddr *addr, uint32_t *seq,
			    struct cpns_err *err);
/* SESSION_DEL of the generation cpns_node_install() installed from @in. */
int cpns_node_uninstall(struct cpns_nl *nl, const struct cpns_hs_install *in,
			struct cpns_err *err);

/**
 * struct cpns_node_gens - the generations held for one pair
 * @n: their number
 * @gen: the generation numbers, in dump order
 * @tx_active: the generation the pair transmits on (0: none)
 * @newest: the most recently installed one (smallest age; 0: none)
 * @age_ms: age of each
 * @lifetime_ms: lifetime left of each
 */
struct cpns_node_gens {
	size_t n;
	uint8_t gen[8];
	uint8_t tx_active;
	uint8_t newest;
	uint64_t age_ms[8];
	uint64_t lifetime_ms[8];
	/* the epoch re-key threshold (CPNS_REKEY_EPOCH) reached, or no
	 * record may be sent any more
	 */
	bool rekey_epoch[8];
};

int cpns_node_gens(struct cpns_nl *nl, const uint8_t local[CPNS_ID_LEN],
		   const uint8_t peer[CPNS_ID_LEN], struct cpns_node_gens *g,
		   struct cpns_err *err);

/* ---- procedure B, the GW's side (PROTOCOL.md 7) ----------------------- */

/**
 * struct cpns_procb_cfg - what the GW needs to run procedure B
 * @local: the GW's entity ID
 * @server: S's entity ID
 * @endpoint: S's UDP address, set as the uplink peer entry
 * @endpoint_len: its length
 * @kid: kid of the EUKey
 * @eukey: the EUKey (copied into the exchange; the caller wipes its own)
 * @dhe: psk_dhe (RECOMMENDED), else psk
 */
struct cpns_procb_cfg {
	uint8_t local[CPNS_ID_LEN];
	uint8_t server[CPNS_ID_LEN];
	struct sockaddr_storage endpoint;
	socklen_t endpoint_len;
	uint32_t kid;
	uint8_t eukey[CPNS_KEY_LEN];
	bool dhe;
};

/* Where one run of procedure B stands. */
enum cpns_procb_state {
	CPNS_PROCB_RUNNING = 1,	/* waiting for S (m2 or m4) */
	CPNS_PROCB_INSTALLED,	/* the generation is installed; the repeats
				 * of the confirmation Ack remain (2.10)
				 */
	CPNS_PROCB_DONE,	/* installed, nothing left to do */
	CPNS_PROCB_FAILED,	/* ended without a session */
};

/* Why a run failed. */
enum cpns_procb_failure {
	CPNS_PROCB_LOCAL = 1,	/* this node: netlink, socket, install */
	CPNS_PROCB_AUTH,	/* an Abort from S, or a check failed here */
	CPNS_PROCB_TIMEOUT,	/* no answer after the last retransmission */
	CPNS_PROCB_UNREACHABLE,	/* S's address cannot be sent to */
};

struct cpns_procb;

/*
 * Starts procedure B without waiting for anything: adds the local ID, sets
 * the uplink peer entry, reads the generations held for the pair, opens
 * the handshake socket and sends m1. *@pbp is NULL or the previous run of
 * the pair on entry (the Ack repeats of one that installed): it is kept on
 * -EBUSY, returned while two generations are held for the pair (2.10: the
 * initiator waits until the older one is erased), and on a failure before
 * that; past that point it is freed and *@pbp set to NULL. Returns another
 * negative errno on failure (nothing new to free), or 0 with
 * *@pbp to be driven by cpns_procb_input() when cpns_procb_fd() is
 * readable and cpns_procb_timer() at cpns_procb_deadline(), until
 * cpns_procb_state() is DONE or FAILED; then cpns_procb_free().
 */
int cpns_procb_start(struct cpns_nl *nl, const struct cpns_procb_cfg *cfg,
		     uint64_t now_ms, struct cpns_procb **pbp,
		     struct cpns_err *err);
int cpns_procb_fd(const struct cpns_procb *pb);
/* When cpns_procb_timer() is due; 0 when no timer runs. */
uint64_t cpns_procb_deadline(const struct cpns_procb *pb);
/* Reads every queued handshake message. Returns the state. */
int cpns_procb_input(struct cpns_procb *pb);
/* Retransmissions and Ack repeats; does nothing before the deadline. */
int cpns_procb_timer(struct cpns_procb *pb, uint64_t now_ms);
int cpns_procb_state(const struct cpns_procb *pb);
/* enum cpns_procb_failure once FAILED, else 0 */
int cpns_procb_failure(const struct cpns_procb *pb);
/* The generation installed (0: none yet) */
uint8_t cpns_procb_generation(const struct cpns_procb *pb);
/* One line for the log: what was installed, or why it failed; no secret. */
const char *cpns_procb_outcome(const struct cpns_procb *pb);
/* Closes the socket and erases the exchange; NULL is allowed. */
void cpns_procb_free(struct cpns_procb *pb);

/* Reads a password (raw bytes; one trailing newline removed) from a
 * file, "-" (stdin) or "fd:N". The caller wipes @buf.
 */
int cpns_password_read(const char *spec, uint8_t *buf, size_t cap,
		       size_t *len, struct cpns_err *err);

#endif /* CPNS_NODE_H */

/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cpns: the AF_CPNS socket family and the "cpns" generic netlink family.
 *
 * The record format, key schedule and limits are those of the cpns1 profile
 * (PROTOCOL.md). This header is shared by the kernel module and the tools.
 */
#ifndef _UAPI_LINUX_CPNS_H
#define _UAPI_LINUX_CPNS_H

#include <linux/types.h>
#include <linux/socket.h>

/* ---- constants of the cpns1 profile ---------------------------------- */

#define CPNS_ID_LEN		16	/* entity ID */
#define CPNS_SECRET_LEN		32	/* traffic secret (epoch 0) */
#define CPNS_HDR_LEN		52	/* record header */
#define CPNS_TAG_LEN		16	/* AEAD tag */
#define CPNS_MAX_PAYLOAD	16384	/* largest record payload */
#define CPNS_DEFAULT_UDP_PORT	7870	/* UDP port of the record layer */
#define CPNS_PORT_HANDSHAKE	1	/* handshake service */
#define CPNS_PORT_PRIV_MAX	1023	/* 2..1023 need CAP_NET_BIND_SERVICE */
#define CPNS_PORT_AUTO_MIN	49152	/* automatic binding range, inclusive */
#define CPNS_PORT_AUTO_MAX	65535
#define CPNS_REKEY_EPOCH	224	/* epoch of CPNS_CMD_EPOCH_NTF: re-key (2.9) */

/* Record suites (header byte 3). */
enum cpns_suite {
	CPNS_SUITE_NONE = 0,		/* handshake records only */
	CPNS_SUITE_AES256GCM = 1,
	CPNS_SUITE_CHACHA20POLY1305 = 2,
};

/* ---- socket address -------------------------------------------------- */

/**
 * struct sockaddr_cpns - AF_CPNS socket address
 * @scpns_family: the AF_CPNS number in use (see CPNS_A_AF, /proc and the
 *	module parameter "family"; it is not a fixed constant on kernels
 *	without a registered slot)
 * @scpns_port: port, host byte order
 * @scpns_id: entity ID
 * @scpns_flags: reserved, must be 0
 * @__reserved: must be 0
 */
struct sockaddr_cpns {
	__kernel_sa_family_t	scpns_family;
	__u16			scpns_port;
	__u8			scpns_id[CPNS_ID_LEN];
	__u32			scpns_flags;
	__u8			__reserved[8];
};

/* ---- socket options (level SOL_CPNS) --------------------------------- */

#define SOL_CPNS	299

enum {
	/* int: this socket is the handshake socket. CAP_NET_ADMIN; set before
	 * binding port 1. Sends and receives type 2 records only.
	 */
	CPNS_HANDSHAKE = 1,
	/* int: delivery policy of the bound port: 0 encrypt-required (default),
	 * 1 integrity-allowed (C=0 data records are delivered).
	 */
	CPNS_INTEGRITY_ALLOWED = 2,
	/* int: deliver a CPNS_CMSG_RECVINFO cmsg with every message. */
	CPNS_RECVINFO = 3,
};

/* cmsg types (level SOL_CPNS) */
enum {
	/* sendmsg, int 1: send this record integrity-only (C=0). */
	CPNS_CMSG_INTEGRITY_ONLY = 1,
	/* recvmsg: struct cpns_recvinfo. */
	CPNS_CMSG_RECVINFO = 2,
	/* sendmsg, handshake socket: int 1: send unprotected (suite 0). */
	CPNS_CMSG_SUITE0 = 3,
	/* sendmsg, handshake socket: struct sockaddr_in / sockaddr_in6: UDP
	 * address to send a suite 0 record to (the reply rule).
	 */
	CPNS_CMSG_ENDPOINT = 4,
	/* sendmsg, handshake socket: __u8 generation to protect under. */
	CPNS_CMSG_GENERATION = 5,
	/* sendmsg, handshake socket bound to all IDs: __u8[16] local entity
	 * ID to send from (required there, refused elsewhere).
	 */
	CPNS_CMSG_SRC_ID = 6,
};

#define CPNS_RI_ENCRYPTED	0x01	/* the record had C=1 */
#define CPNS_RI_LOCAL		0x02	/* delivered directly within the netns */

/**
 * struct cpns_recvinfo - metadata of a received record
 * @suite: record suite (0 = unprotected)
 * @flags: CPNS_RI_*
 * @generation: key_id byte 4 (0 for suite 0)
 * @epoch: key_id byte 5
 * @dst_port: destination port of the record
 * @dst_id: destination entity ID of the record
 * @endpoint: UDP source address of the datagram (family AF_UNSPEC when
 *	the record was delivered locally)
 */
struct cpns_recvinfo {
	__u8	suite;
	__u8	flags;
	__u8	generation;
	__u8	epoch;
	__u16	dst_port;
	__u16	__pad;
	__u8	dst_id[CPNS_ID_LEN];
	struct __kernel_sockaddr_storage endpoint;
};

/* ---- generic netlink ------------------------------------------------- */

#define CPNS_GENL_NAME		"cpns"
#define CPNS_GENL_VERSION	1
#define CPNS_MCGRP_EVENTS	"events"

enum cpns_cmd {
	CPNS_CMD_UNSPEC,
	CPNS_CMD_INFO_GET,		/* version, family number, profile */
	CPNS_CMD_LINK_GET,		/* UDP port, forwarding */
	CPNS_CMD_LINK_SET,
	CPNS_CMD_ID_ADD,		/* local entity IDs */
	CPNS_CMD_ID_DEL,
	CPNS_CMD_ID_GET,
	CPNS_CMD_PEER_SET,		/* address table: entity -> address */
	CPNS_CMD_PEER_DEL,
	CPNS_CMD_PEER_GET,
	CPNS_CMD_ROUTE_ADD,		/* PNE -> via GW entity, or -> address */
	CPNS_CMD_ROUTE_DEL,
	CPNS_CMD_ROUTE_GET,
	CPNS_CMD_SESSION_NEW,		/* install a generation [, set the peer's address] */
	CPNS_CMD_SESSION_DEL,		/* one generation or the whole pair */
	CPNS_CMD_SESSION_GET,
	CPNS_CMD_SESSION_FLUSH,
	CPNS_CMD_STATS_GET,		/* per-netns counters */
	CPNS_CMD_STATS_RESET,
	/* notifications, multicast group "events" */
	CPNS_CMD_EPOCH_NTF,		/* an epoch reached the re-key threshold */
	CPNS_CMD_TX_SWITCHED_NTF,	/* the pair transmits on another generation */
	CPNS_CMD_SESSION_ERASED_NTF,	/* a generation was erased; CPNS_A_CAUSE */
	CPNS_CMD_NO_SESSION_NTF,	/* record for an unknown session */

	__CPNS_CMD_MAX,
};
#define CPNS_CMD_MAX (__CPNS_CMD_MAX - 1)

enum cpns_attr {
	CPNS_A_UNSPEC,
	CPNS_A_PAD,
	CPNS_A_VERSION,		/* u32: module interface version */
	CPNS_A_AF,		/* u32: the AF_CPNS number in use */
	CPNS_A_PROFILE,		/* string: "cpns1" */
	CPNS_A_UDP_PORT,	/* u16: listening UDP port, host order */
	CPNS_A_FORWARDING,	/* u8: 0/1 */
	CPNS_A_LOCAL_ID,	/* binary[16] */
	CPNS_A_PEER_ID,		/* binary[16] */
	CPNS_A_VIA_ID,		/* binary[16]: route through this GW entity */
	CPNS_A_ADDR4,		/* be32: IPv4 address */
	CPNS_A_ADDR6,		/* binary[16]: IPv6 address */
	CPNS_A_PORT,		/* u16: UDP port of the address, host order */
	CPNS_A_LEARN,		/* u8: update the address from records */
	CPNS_A_GENERATION,	/* u8: 1..255 */
	CPNS_A_SUITE,		/* u8: enum cpns_suite, 1 or 2 */
	CPNS_A_ROLE,		/* u8: enum cpns_role */
	CPNS_A_TX_MODE,		/* u8: enum cpns_tx_mode */
	CPNS_A_TX_SECRET,	/* binary[32], write-only */
	CPNS_A_RX_SECRET,	/* binary[32], write-only */
	CPNS_A_TX_ACTIVE,	/* u8: the pair transmits on this generation */
	CPNS_A_AGE_MS,		/* u64: time since install */
	CPNS_A_LIFETIME_MS,	/* u64: lifetime left */
	CPNS_A_TX_EPOCH,	/* u8 */
	CPNS_A_TX_SEQ,		/* u64: next seq to send */
	CPNS_A_RX_EPOCH,	/* u8: receive cur */
	CPNS_A_RX_PREV_EPOCH,	/* u8: receive prev, when retained */
	CPNS_A_STATS,		/* nest of enum cpns_stat, u64 each */
	CPNS_A_CAUSE,		/* u8: enum cpns_erase_cause */
	CPNS_A_DIRECTION,	/* u8: enum cpns_dir */
	CPNS_A_EPOCH,		/* u8 */
	CPNS_A_SRC_ID,		/* binary[16] */
	CPNS_A_DST_ID,		/* binary[16] */
	CPNS_A_EXHAUSTED,	/* u8: the generation may not send any more */
	CPNS_A_LOST,		/* u32: notifications lost before this one */
	CPNS_A_UPLINK,		/* u8: this peer entry is the GW's uplink (ID_S) */

	__CPNS_A_MAX,
};
#define CPNS_A_MAX (__CPNS_A_MAX - 1)

enum cpns_role {
	CPNS_ROLE_INITIATOR = 1,
	CPNS_ROLE_RESPONDER = 2,
};

enum cpns_tx_mode {
	CPNS_TX_IMMEDIATE = 1,
	CPNS_TX_ON_CONFIRM = 2,
};

enum cpns_dir {
	CPNS_DIR_TX = 1,
	CPNS_DIR_RX = 2,
};

enum cpns_erase_cause {
	CPNS_ERASE_LIFETIME = 1,	/* generation lifetime ended */
	CPNS_ERASE_CAP = 2,		/* superseded by the two-generation cap */
	CPNS_ERASE_SUPERSEDED = 3,	/* old generation after make-before-break */
	CPNS_ERASE_DELETED = 4,		/* deleted by userspace */
	CPNS_ERASE_REPLACED = 5,	/* same generation number installed again */
};

/* Counters: drop reasons in the step order of PROTOCOL.md 2.6, then totals. */
enum cpns_stat {
	CPNS_STAT_UNSPEC,
	CPNS_STAT_PAD,
	CPNS_STAT_DROP_SHORT,
	CPNS_STAT_DROP_TOO_BIG,
	CPNS_STAT_DROP_LENGTH,
	CPNS_STAT_DROP_RESERVED,
	CPNS_STAT_DROP_VERSION,
	CPNS_STAT_DROP_BAD_TYPE,
	CPNS_STAT_DROP_BAD_SUITE,
	CPNS_STAT_DROP_BAD_ENTITY,
	CPNS_STAT_DROP_BAD_PORT,
	CPNS_STAT_DROP_NO_ROUTE,
	CPNS_STAT_DROP_SUITE0,
	CPNS_STAT_DROP_NO_SESSION,
	CPNS_STAT_DROP_SUITE_MISMATCH,
	CPNS_STAT_DROP_EPOCH,
	CPNS_STAT_DROP_EPOCH_PENDING,
	CPNS_STAT_DROP_SEQ_LIMIT,
	CPNS_STAT_DROP_REPLAY,
	CPNS_STAT_DROP_TOO_OLD,
	CPNS_STAT_DROP_AUTH,
	CPNS_STAT_DROP_POLICY,
	CPNS_STAT_DROP_NO_PORT,
	CPNS_STAT_RX_RECORDS,		/* delivered */
	CPNS_STAT_RX_BYTES,
	CPNS_STAT_TX_RECORDS,
	CPNS_STAT_TX_BYTES,
	CPNS_STAT_FORWARDED,
	CPNS_STAT_TX_ERRORS,
	CPNS_STAT_RX_ERRORS,		/* not opened: no memory, a full crypto queue */

	__CPNS_STAT_MAX,
};
#define CPNS_STAT_MAX (__CPNS_STAT_MAX - 1)

#endif /* _UAPI_LINUX_CPNS_H */

// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: sending records (PROTOCOL.md 2.5, 13.5, 13.6). A record is built
 * in one linear skb with room for the IP and UDP headers in front, sealed
 * in place and sent from the listening port; a record between two local
 * entities is handed to the receiving socket directly.
 */
#include <linux/skbuff.h>
#include <net/sock.h>

#include "cpns.h"

/* Both ends in this namespace: no UDP, no key; steps 13 and 14 apply. */
static int cpns_send_local(struct cpns_net *cn, struct sk_buff *skb,
			   struct cpns_rec *rec)
{
	rec->suite = CPNS_SUITE_NONE;
	cpns_hdr_fill((struct cpns_hdr *)skb->data, rec);
	memset(CPNS_SKB_CB(skb), 0, sizeof(struct cpns_skb_cb));
	CPNS_SKB_CB(skb)->local = true;
	CPNS_SKB_CB(skb)->from.sa.sa_family = AF_UNSPEC;
	cpns_deliver(cn, skb, rec, NULL);
	return 0;
}

static int cpns_send_suite0(struct cpns_net *cn, struct sk_buff *skb,
			    struct cpns_rec *rec,
			    const struct cpns_tx_req *req)
{
	struct cpns_endpoint to;
	int ret;

	if (req->has_endpoint)
		to = req->endpoint;
	else if (cpns_addr_lookup(cn, rec->dst, &to))
		goto err_unreach;

	/* 2.3: type 2, flags 0, key_id 0, seq 0, ports 1 -> 1, no tag. */
	rec->flags = 0;
	rec->suite = CPNS_SUITE_NONE;
	cpns_hdr_fill((struct cpns_hdr *)skb->data, rec);
	ret = cpns_udp_xmit(cn, skb, &to);
	if (ret)
		return ret;
	cpns_stat_add(cn, CPNS_STAT_TX_RECORDS, 1);
	cpns_stat_add(cn, CPNS_STAT_TX_BYTES, rec->length);
	return 0;

err_unreach:
	kfree_skb(skb);
	return -EHOSTUNREACH;
}

static int cpns_send_sealed(struct cpns_net *cn, struct sk_buff *skb,
			    struct cpns_rec *rec,
			    const struct cpns_tx_req *req, u64 now)
{
	struct cpns_tx_slot slot;
	struct cpns_endpoint to;
	struct cpns_gen *g;
	int ret;

	g = cpns_gen_tx(cn, rec->src, rec->dst, req->generation, now, &ret);
	if (!g)
		goto err_free;
	ret = -EHOSTUNREACH;
	if (cpns_addr_lookup(cn, rec->dst, &to))
		goto err_free;

	ret = cpns_tx_next(&g->tx, now, &slot);
	if (ret == -EBUSY) {
		/* The epoch must move on and its keys are not derived yet;
		 * the record is not sent, the caller may retry.
		 */
		cpns_gen_need_derive(g);
		ret = -ENOBUFS;
	}
	if (ret)
		goto err_free;

	rec->suite = g->suite;
	rec->generation = g->generation;
	rec->epoch = slot.epoch;
	rec->seq = slot.seq;
	cpns_hdr_fill((struct cpns_hdr *)skb->data, rec);
	skb_put(skb, CPNS_TAG_LEN);
	ret = cpns_record_seal(slot.keys, skb->data, skb->len);
	if (ret) {
		cpns_gen_tx_done(cn, g, &slot, 0, now, false);
		goto err_free;
	}
	ret = cpns_udp_xmit(cn, skb, &to);
	cpns_gen_tx_done(cn, g, &slot, rec->length, now, !ret);
	if (ret)
		return ret;
	cpns_stat_add(cn, CPNS_STAT_TX_RECORDS, 1);
	cpns_stat_add(cn, CPNS_STAT_TX_BYTES, rec->length);
	return 0;

err_free:
	kfree_skb(skb);
	return ret;
}

/**
 * cpns_send() - send one record for a socket
 * @cn: the namespace
 * @sk: the sending socket (for its send buffer and timeout)
 * @req: addresses and options, already checked against the socket
 * @msg: the payload
 * @len: payload length, at most CPNS_MAX_PAYLOAD
 *
 * Process context.
 *
 * Return: @len, or a negative errno: -ENOKEY, -EKEYEXPIRED, -EHOSTUNREACH
 * (PROTOCOL.md 13.6), -ENOBUFS when the next epoch's keys are not ready
 * yet, -EAGAIN for a full send buffer with MSG_DONTWAIT, -EFAULT, or an
 * error of the IP layer.
 */
int cpns_send(struct cpns_net *cn, struct sock *sk,
	      const struct cpns_tx_req *req, struct msghdr *msg, size_t len)
{
	struct cpns_rec rec = {
		.type = req->type,
		.flags = req->integrity_only || req->suite0 ? 0 : CPNS_FLAG_C,
		.length = len,
		.src_port = req->src_port,
		.dst_port = req->dst_port,
	};
	struct sk_buff *skb;
	bool local;
	int ret;

	memcpy(rec.src, req->src, CPNS_ID_LEN);
	memcpy(rec.dst, req->dst, CPNS_ID_LEN);

	skb = sock_alloc_send_skb(sk, CPNS_SKB_HEADROOM + CPNS_HDR_LEN + len +
				  CPNS_TAG_LEN, msg->msg_flags & MSG_DONTWAIT,
				  &ret);
	if (!skb)
		return ret;
	skb_reserve(skb, CPNS_SKB_HEADROOM);
	skb_put(skb, CPNS_HDR_LEN);
	ret = memcpy_from_msg(skb_put(skb, len), msg, len);
	if (ret)
		goto err_free;
	/* The send buffer bounds what sendmsg() may allocate; the record
	 * leaves the socket now, towards the IP layer or another socket.
	 */
	skb_orphan(skb);

	local_bh_disable();
	rcu_read_lock();
	local = cpns_local_id_is_local(cn, rec.dst);
	if (local)
		ret = cpns_send_local(cn, skb, &rec);
	else if (req->suite0)
		ret = cpns_send_suite0(cn, skb, &rec, req);
	else
		ret = cpns_send_sealed(cn, skb, &rec, req, cpns_now());
	rcu_read_unlock();
	local_bh_enable();

	if (ret == -ENOKEY || ret == -EKEYEXPIRED || ret == -EHOSTUNREACH ||
	    ret == -ENOBUFS)
		return ret;
	if (ret) {
		cpns_stat_add(cn, CPNS_STAT_TX_ERRORS, 1);
		return ret;
	}
	return len;

err_free:
	kfree_skb(skb);
	return ret;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: sending records (PROTOCOL.md 2.5, 13.5, 13.6). A record is built
 * in one linear skb with room for the IP and UDP headers in front, sealed
 * in place (AES-256-GCM possibly finishing later, in a callback) and sent
 * from the listening port; a record between two local entities is handed
 * to the receiving socket directly.
 */
#include <linux/scatterlist.h>
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

/**
 * struct cpns_tx_op - a protected record between its slot and the wire
 * @cn: the namespace
 * @g: the generation it is sealed on
 * @skb: the record
 * @slot: its (epoch, seq) and what to act on after sending
 * @to: the peer's endpoint
 * @now: time of the send, ms
 * @length: payload length
 */
struct cpns_tx_op {
	struct cpns_net *cn;
	struct cpns_gen *g;
	struct sk_buff *skb;
	struct cpns_tx_slot slot;
	struct cpns_endpoint to;
	u64 now;
	u16 length;
};

/* After the seal (@err): send the record or drop it, and account for its
 * slot in @op->g when @installed. Under rcu_read_lock() with bottom halves
 * disabled.
 */
static int cpns_send_finish(const struct cpns_tx_op *op, int err,
			    bool installed)
{
	if (err)
		kfree_skb(op->skb);
	else
		err = cpns_udp_xmit(op->cn, op->skb, &op->to);
	if (installed)
		cpns_gen_tx_done(op->cn, op->g, &op->slot, op->length,
				 op->now, !err);
	if (err)
		return err;
	cpns_stat_add(op->cn, CPNS_STAT_TX_RECORDS, 1);
	cpns_stat_add(op->cn, CPNS_STAT_TX_BYTES, op->length);
	return 0;
}

/* The completion of a seal that finished later. */
static void cpns_send_sealed_done(struct cpns_crypt *c, int err)
{
	struct cpns_tx_op *op = c->priv;
	struct cpns_net *cn = op->cn;

	local_bh_disable();
	rcu_read_lock();
	/* An erased generation gets no bookkeeping; its record still goes. */
	if (cpns_send_finish(op, err, cpns_gen_installed(op->g)))
		cpns_stat_add(cn, CPNS_STAT_TX_ERRORS, 1);
	rcu_read_unlock();
	local_bh_enable();
	cpns_gen_unhold(op->g);
	cpns_crypt_free(c);
	cpns_dp_crypt_end(cn);
}

/* Suite 1: the seal may finish later, in cpns_send_sealed_done(). */
static int cpns_send_aes(const struct cpns_tx_op *op)
{
	struct cpns_crypt *c;
	int err;

	c = cpns_crypt_new(op->slot.keys, 1, sizeof(*op), GFP_ATOMIC);
	if (!c)
		return cpns_send_finish(op, -ENOMEM, true);
	if (!cpns_gen_hold(op->g)) {
		cpns_crypt_free(c);
		return cpns_send_finish(op, -ENOKEY, true);
	}
	memcpy(c->priv, op, sizeof(*op));
	sg_set_buf(c->sg, op->skb->data, op->skb->len);
	cpns_dp_crypt_begin(op->cn);
	err = cpns_crypt_run(c, op->skb->data, op->skb->len, true,
			     cpns_send_sealed_done);
	if (err == -EINPROGRESS)
		return 0;
	cpns_dp_crypt_end(op->cn);
	cpns_gen_unhold(op->g);
	cpns_crypt_free(c);
	/* A full queue of the implementation's worker is passing. */
	return cpns_send_finish(op, err == -ENOSPC ? -ENOBUFS : err, true);
}

static int cpns_send_sealed(struct cpns_net *cn, struct sk_buff *skb,
			    struct cpns_rec *rec,
			    const struct cpns_tx_req *req, u64 now)
{
	struct cpns_tx_op op = {
		.cn = cn,
		.skb = skb,
		.now = now,
		.length = rec->length,
	};
	int ret;

	op.g = cpns_gen_tx(cn, rec->src, rec->dst, req->generation, now,
			   &ret);
	if (!op.g)
		goto err_free;
	ret = -EHOSTUNREACH;
	if (cpns_addr_lookup(cn, rec->dst, &op.to))
		goto err_free;

	ret = cpns_tx_next(&op.g->tx, now, &op.slot);
	if (ret == -EBUSY) {
		/* The epoch must move on and its keys are not derived yet;
		 * the record is not sent, the caller may retry.
		 */
		cpns_gen_need_derive(op.g);
		ret = -ENOBUFS;
	}
	if (ret)
		goto err_free;

	rec->suite = op.g->suite;
	rec->generation = op.g->generation;
	rec->epoch = op.slot.epoch;
	rec->seq = op.slot.seq;
	cpns_hdr_fill((struct cpns_hdr *)skb->data, rec);
	skb_put(skb, CPNS_TAG_LEN);
	if (op.slot.keys->aead)
		return cpns_send_aes(&op);
	return cpns_send_finish(&op, cpns_record_seal(op.slot.keys, skb->data,
						      skb->len), true);

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
 * An AES-256-GCM record whose seal finishes later, in a worker of the
 * crypto implementation, counts as sent here; if it cannot leave then,
 * the namespace counts a transmit error.
 *
 * Return: @len, or a negative errno: -ENOKEY, -EKEYEXPIRED, -EHOSTUNREACH
 * (PROTOCOL.md 13.6), -ENOBUFS when the next epoch's keys are not ready
 * yet or the crypto implementation's queue is full, -EAGAIN for a full
 * send buffer with MSG_DONTWAIT, -EFAULT, -ENOMEM, or an error of the IP
 * layer.
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

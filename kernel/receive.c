// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: receiving records - the steps of PROTOCOL.md 2.6 in their order,
 * forwarding (2.12), the delivery policy (2.11) and delivery to sockets.
 *
 * Everything here runs in softirq (the UDP encap_rcv callback) or with
 * bottom halves disabled (local delivery), inside one RCU read-side
 * section, and never sleeps. A dropped record is counted under its reason
 * and never answered.
 */
#include <linux/scatterlist.h>
#include <linux/skbuff.h>
#include <linux/slab.h>
#include <net/sock.h>

#include "cpns.h"

static void cpns_rx_drop(struct cpns_net *cn, struct cpns_gen *g,
			 enum cpns_drop reason)
{
	cpns_stat_add(cn, (enum cpns_stat)reason, 1);
	if (g)
		cpns_gen_drop(g, (enum cpns_stat)reason);
}

/**
 * cpns_deliver() - steps 13 and 14: policy, then the bound socket
 * @cn: the namespace
 * @skb: record header and plaintext payload, tag trimmed, cb filled;
 *	consumed
 * @rec: the record's header fields
 * @g: the generation it was received on, NULL for suite 0 and for local
 *	delivery
 *
 * Call under rcu_read_lock() with bottom halves disabled.
 */
void cpns_deliver(struct cpns_net *cn, struct sk_buff *skb,
		  const struct cpns_rec *rec, struct cpns_gen *g)
{
	struct sock *sk;
	bool policy;

	sk = cpns_sock_lookup(cn, rec->dst, rec->dst_port);

	/* Step 13 (2.11): C=0 only for data, only to an integrity-allowed
	 * port; a port nobody bound has the default, encrypt-required.
	 * Suite 0 records from the wire skip it (step 6 continues at 14);
	 * local delivery applies it to data records, which carry suite 0.
	 */
	policy = CPNS_SKB_CB(skb)->local ? rec->type == CPNS_TYPE_DATA :
					   rec->suite != CPNS_SUITE_NONE;
	if (policy && !(rec->flags & CPNS_FLAG_C) &&
	    (rec->type != CPNS_TYPE_DATA || !sk ||
	     !cpns_sock_integrity_allowed(sk))) {
		cpns_rx_drop(cn, g, CPNS_DROP_POLICY);
		goto err_free;
	}

	/* Step 14 */
	if (!sk || sock_flag(sk, SOCK_DEAD)) {
		cpns_rx_drop(cn, g, CPNS_DROP_NO_PORT);
		goto err_free;
	}
	/* Counted before the record is queued, so that a reader the record
	 * wakes finds it counted. A socket that refuses it counts it in its
	 * sk_drops instead, and the counts are taken back on this CPU
	 * (bottom halves are disabled), whose per-CPU counters took them:
	 * the sums are never below the records delivered, and above them
	 * only in between.
	 */
	cpns_stat_add(cn, CPNS_STAT_RX_RECORDS, 1);
	cpns_stat_add(cn, CPNS_STAT_RX_BYTES, rec->length);
	if (sock_queue_rcv_skb(sk, skb) < 0) {
		cpns_stat_add(cn, CPNS_STAT_RX_RECORDS, -1ULL);
		cpns_stat_add(cn, CPNS_STAT_RX_BYTES, -(u64)rec->length);
		goto err_free;
	}
	return;

err_free:
	kfree_skb(skb);
}

/* Step 5 for a record that is not for this node (2.12): resend the
 * datagram unchanged from the listening port, or drop it NO_ROUTE. The
 * received skb itself goes out: its bytes are never written, only new
 * IP and UDP headers are pushed in front of them.
 */
static void cpns_forward(struct cpns_net *cn, struct sk_buff *skb,
			 const struct cpns_rec *rec,
			 const struct cpns_endpoint *from)
{
	struct cpns_endpoint to;

	if (!READ_ONCE(cn->forwarding) ||
	    cpns_forward_lookup(cn, rec, from, &to)) {
		cpns_stat_add(cn, CPNS_STAT_DROP_NO_ROUTE, 1);
		kfree_skb(skb);
		return;
	}
	/* Nothing of the received packet (route, mark, conntrack, time
	 * stamp, hash) may leak into the new datagram; its checksum state
	 * described the old UDP header.
	 */
	skb_scrub_packet(skb, true);
	skb_clear_hash(skb);
	skb->ip_summed = CHECKSUM_NONE;
	if (cpns_udp_xmit(cn, skb, &to))
		cpns_stat_add(cn, CPNS_STAT_TX_ERRORS, 1);
	else
		cpns_stat_add(cn, CPNS_STAT_FORWARDED, 1);
}

/* A scatterlist this long fits on the stack: a linear record or one
 * reassembled from a few IP fragments.
 */
#define CPNS_OPEN_SG_STACK	8

/**
 * struct cpns_rx_op - a protected record between step 11 and delivery
 * @cn: the namespace
 * @g: the generation it was received on
 * @skb: the record; its UDP source address is in CPNS_SKB_CB(skb)->from
 * @rec: its header fields
 * @now: time of reception, ms
 */
struct cpns_rx_op {
	struct cpns_net *cn;
	struct cpns_gen *g;
	struct sk_buff *skb;
	struct cpns_rec rec;
	u64 now;
};

/* Steps 12 to 14 once step 11 gave @err. Under rcu_read_lock() with
 * bottom halves disabled.
 */
static void cpns_receive_opened(const struct cpns_rx_op *op, int err)
{
	const struct cpns_rec *rec = &op->rec;
	struct cpns_net *cn = op->cn;
	struct sk_buff *skb = op->skb;
	struct cpns_gen *g = op->g;
	struct cpns_rx_events ev;
	enum cpns_drop drop;

	if (err) {
		if (err != -EBADMSG)
			goto err_error;
		drop = CPNS_DROP_AUTH;
		goto err_drop;
	}
	/* Step 12 */
	drop = cpns_rx_commit(&g->rx, rec->epoch, rec->seq, op->now, &ev);
	if (drop)
		goto err_drop;
	cpns_gen_rx_done(cn, g, &ev, rec->epoch, rec->length, op->now);
	cpns_addr_learn(cn, rec->src, &CPNS_SKB_CB(skb)->from);

	if (pskb_trim(skb, CPNS_HDR_LEN + rec->length))
		goto err_error;
	cpns_deliver(cn, skb, rec, g);
	return;

err_drop:
	cpns_rx_drop(cn, g, drop);
	kfree_skb(skb);
	return;
err_error:
	cpns_stat_add(cn, CPNS_STAT_RX_ERRORS, 1);
	kfree_skb(skb);
}

/* The completion of an open that finished later. */
static void cpns_receive_opened_done(struct cpns_crypt *c, int err)
{
	struct cpns_rx_op *op = c->priv;
	struct cpns_net *cn = op->cn;

	local_bh_disable();
	rcu_read_lock();
	if (cpns_gen_installed(op->g)) {
		cpns_receive_opened(op, err);
	} else {
		/* Erased meanwhile: as if it had not been found (step 7a). */
		cpns_rx_drop(cn, op->g, CPNS_DROP_NO_SESSION);
		kfree_skb(op->skb);
	}
	rcu_read_unlock();
	local_bh_enable();
	cpns_gen_unhold(op->g);
	cpns_crypt_free(c);
	cpns_dp_crypt_end(cn);
}

/* Step 11 for suite 1, in place: the open may finish later, in
 * cpns_receive_opened_done(). The data is made private with
 * skb_cow_data() and mapped with skb_to_sgvec(), as esp4 does.
 */
static void cpns_open_aes(const struct cpns_rx_op *op,
			  struct cpns_epoch_keys *keys)
{
	struct sk_buff *trailer;
	struct cpns_crypt *c;
	int nsg, err;

	nsg = skb_cow_data(op->skb, 0, &trailer);
	if (nsg < 0) {
		err = nsg;
		goto err_opened;
	}
	err = -ENOMEM;
	c = cpns_crypt_new(keys, nsg, sizeof(*op), GFP_ATOMIC);
	if (!c)
		goto err_opened;
	err = skb_to_sgvec(op->skb, c->sg, 0, op->skb->len);
	if (err < 0)
		goto err_free_crypt;
	if (!cpns_gen_hold(op->g)) {
		/* Being erased: as if it had not been found (step 7a), as
		 * in cpns_receive_opened_done().
		 */
		cpns_crypt_free(c);
		cpns_rx_drop(op->cn, op->g, CPNS_DROP_NO_SESSION);
		kfree_skb(op->skb);
		return;
	}
	/* The completion may run after this softirq: a reference-less route
	 * is valid only in it, and the device may go meanwhile (as for the
	 * queues of rxqueue.c). Delivery needs neither.
	 */
	skb_dst_drop(op->skb);
	op->skb->dev = NULL;
	memcpy(c->priv, op, sizeof(*op));
	cpns_dp_crypt_begin(op->cn);
	err = cpns_crypt_run(c, op->skb->data, op->skb->len, false,
			     cpns_receive_opened_done);
	if (err == -EINPROGRESS)
		return;
	cpns_dp_crypt_end(op->cn);
	cpns_gen_unhold(op->g);
err_free_crypt:
	cpns_crypt_free(c);
err_opened:
	cpns_receive_opened(op, err);
}

/* Step 11 for suite 2, in place and at once, like cpns_open_aes(). */
static int cpns_open_chachapoly(struct cpns_epoch_keys *keys,
				struct sk_buff *skb)
{
	struct scatterlist sg_stack[CPNS_OPEN_SG_STACK], *sg = sg_stack;
	struct sk_buff *trailer;
	int nsg, err;

	nsg = skb_cow_data(skb, 0, &trailer);
	if (nsg < 0)
		return nsg;
	if (nsg > CPNS_OPEN_SG_STACK) {
		sg = kmalloc_array(nsg, sizeof(*sg), GFP_ATOMIC);
		if (!sg)
			return -ENOMEM;
	}
	sg_init_table(sg, nsg);
	err = skb_to_sgvec(skb, sg, 0, skb->len);
	if (err >= 0)
		err = cpns_record_open(keys, skb->data, sg, skb->len);
	if (sg != sg_stack)
		kfree(sg);
	return err;
}

/**
 * cpns_receive_sealed() - steps 7 to 12 for a protected record, then 13, 14
 * @cn: the namespace
 * @skb: the record, header linear and checked (steps 1 to 6), its UDP
 *	source address in CPNS_SKB_CB(skb)->from; consumed
 * @rec: its header fields
 *
 * Call under rcu_read_lock() with bottom halves disabled: from
 * cpns_receive() in the softirq or from the worker of rxqueue.c. Steps 12
 * to 14 of an AES-256-GCM record may run later, from the completion of its
 * open.
 */
void cpns_receive_sealed(struct cpns_net *cn, struct sk_buff *skb,
			 const struct cpns_rec *rec)
{
	struct cpns_rx_op op = {
		.cn = cn,
		.skb = skb,
		.rec = *rec,
		.now = cpns_now(),
	};
	struct cpns_rx_ticket t;
	enum cpns_drop drop;

	/* Step 7a */
	op.g = cpns_gen_rx(cn, rec->src, rec->dst, rec->generation, op.now);
	if (!op.g) {
		cpns_rx_drop(cn, NULL, CPNS_DROP_NO_SESSION);
		cpns_nl_notify_no_session(cn, rec, &CPNS_SKB_CB(skb)->from);
		goto err_free;
	}
	/* Step 7b */
	if (rec->suite != op.g->suite) {
		drop = CPNS_DROP_SUITE_MISMATCH;
		goto err_drop;
	}
	/* Steps 8a, 8b, 9, 10 */
	drop = cpns_rx_check(&op.g->rx, rec->epoch, rec->seq, op.now, &t);
	if (t.need_derive)
		cpns_gen_need_derive(op.g);
	if (drop)
		goto err_drop;
	/* Step 11 */
	if (t.keys->aead)
		cpns_open_aes(&op, t.keys);
	else
		cpns_receive_opened(&op, cpns_open_chachapoly(t.keys, skb));
	return;

err_drop:
	cpns_rx_drop(cn, op.g, drop);
err_free:
	kfree_skb(skb);
}

/**
 * cpns_receive() - process one received datagram (2.6)
 * @cn: the namespace
 * @skb: the UDP payload at skb->data, possibly non-linear and cloned;
 *	consumed
 * @from: the datagram's UDP source address
 *
 * Softirq, never sleeps.
 */
void cpns_receive(struct cpns_net *cn, struct sk_buff *skb,
		  const struct cpns_endpoint *from)
{
	struct cpns_rec rec;
	enum cpns_drop drop;

	/* Only the header is read in place (a short datagram is pulled
	 * whole so that step 1a sees its length): a forwarded record is
	 * sent as it came, and cpns_open_skb() makes the data of a sealed
	 * one private.
	 */
	if (!pskb_may_pull(skb, min_t(unsigned int, skb->len, CPNS_HDR_LEN))) {
		kfree_skb(skb);
		return;
	}
	memset(CPNS_SKB_CB(skb), 0, sizeof(struct cpns_skb_cb));
	CPNS_SKB_CB(skb)->from = *from;

	rcu_read_lock();
	/* Steps 1a-4d */
	drop = cpns_record_check(skb->data, skb->len, &rec);
	if (drop)
		goto err_drop;
	/* Step 5 */
	if (!cpns_local_id_is_local(cn, rec.dst)) {
		cpns_forward(cn, skb, &rec, from);
		goto out_unlock;
	}
	/* Step 6; suite 0 continues at step 14 */
	drop = cpns_record_check_suite0(&rec);
	if (drop)
		goto err_drop;
	if (rec.suite == CPNS_SUITE_NONE)
		cpns_deliver(cn, skb, &rec, NULL);
	else if (!cpns_rxq_defer(cn, skb, &rec))
		cpns_receive_sealed(cn, skb, &rec);
out_unlock:
	rcu_read_unlock();
	return;

err_drop:
	cpns_rx_drop(cn, NULL, drop);
	rcu_read_unlock();
	kfree_skb(skb);
}

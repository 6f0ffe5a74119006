// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: opening received records on another CPU.
 *
 * The UDP receive softirq runs steps 1 to 6 of PROTOCOL.md 2.6 on the spot
 * and forwards or delivers what needs no key there. A protected record for
 * a local entity - the one that needs the AEAD - is queued to a worker on
 * another online CPU, which runs steps 7 to 14, so that the CPU that took
 * the datagram off the network is free for the next one meanwhile (as
 * WireGuard spreads its decryption over the CPUs). The CPU is chosen by
 * the record's (source, destination) pair: the records of a session that
 * arrive on one CPU are opened on one other CPU, in the order they came.
 *
 * With one CPU online, or when the chosen CPU's queue is full (its worker
 * does not keep up), the softirq opens the record itself: nothing is
 * dropped for lack of room here, and a full queue slows the receiving CPU
 * down to the pace of the workers. Such a record overtakes the queued ones
 * of its session; the replay window (2.7) accepts reordered records, and
 * datagrams carry no order anyway.
 */
#include <linux/cpumask.h>
#include <linux/jhash.h>
#include <linux/percpu.h>
#include <linux/random.h>
#include <linux/skbuff.h>
#include <linux/workqueue.h>
#include <net/dst.h>

#include "cpns.h"

/* Records queued per CPU at most; then the softirq opens them. */
#define CPNS_RXQ_MAX		256
/* Records a worker opens with bottom halves disabled at a stretch. */
#define CPNS_RXQ_BATCH		16
/* Records a run of a worker opens at most (then it ends, see below). */
#define CPNS_RXQ_RUN		(4 * CPNS_RXQ_MAX)

/**
 * struct cpns_rxq - the records queued for the worker of one CPU
 * @skbs: records, each with CPNS_SKB_CB(skb)->cn set; lock: @skbs.lock,
 *	taken with bottom halves disabled
 * @work: the worker, queued on this CPU
 */
struct cpns_rxq {
	struct sk_buff_head	skbs;
	struct work_struct	work;
};

static struct cpns_rxq __percpu *cpns_rxqs;
static struct workqueue_struct *cpns_rx_wq;
static u32 cpns_rxq_seed __read_mostly;

static void cpns_rxq_open(struct sk_buff *skb)
{
	struct cpns_rec rec;

	/* The header passed these checks in the softirq and the bytes have
	 * not changed since; parsing it again is cheaper than carrying it.
	 */
	if (WARN_ON_ONCE(cpns_record_check(skb->data, skb->len, &rec))) {
		kfree_skb(skb);
		return;
	}
	cpns_receive_sealed(CPNS_SKB_CB(skb)->cn, skb, &rec);
}

static void cpns_rxq_work(struct work_struct *work)
{
	struct cpns_rxq *q = container_of(work, struct cpns_rxq, work);
	unsigned int n, done = 0;
	struct sk_buff_head batch;
	struct sk_buff *skb;

	__skb_queue_head_init(&batch);
	/* Until the queue is empty, taking what arrives meanwhile (cheaper
	 * than a run per batch), but for a bounded number of records: what
	 * was queued during the run has queued the work again, and
	 * cpns_rxq_flush() must not wait on a stream of records of other
	 * namespaces.
	 */
	while (done < CPNS_RXQ_RUN) {
		spin_lock_bh(&q->skbs.lock);
		skb_queue_splice_tail_init(&q->skbs, &batch);
		spin_unlock_bh(&q->skbs.lock);
		if (skb_queue_empty(&batch))
			return;
		while (!skb_queue_empty(&batch)) {
			local_bh_disable();
			rcu_read_lock();
			for (n = 0; n < CPNS_RXQ_BATCH &&
				    (skb = __skb_dequeue(&batch)); n++)
				cpns_rxq_open(skb);
			rcu_read_unlock();
			local_bh_enable();
			done += n;
			cond_resched();
		}
	}
}

/* Another online CPU for the pair of @rec, or -1 (one CPU online). */
static int cpns_rxq_cpu(const struct cpns_rec *rec)
{
	unsigned int n = num_online_cpus(), this = smp_processor_id();
	unsigned int cpu, k;

	if (n < 2)
		return -1;
	k = jhash(rec->src, CPNS_ID_LEN,
		  jhash(rec->dst, CPNS_ID_LEN, cpns_rxq_seed)) % (n - 1);
	for_each_online_cpu(cpu) {
		if (cpu == this)
			continue;
		if (!k--)
			return cpu;
	}
	return -1;	/* a CPU went offline meanwhile */
}

/**
 * cpns_rxq_defer() - queue a protected record to be opened on another CPU
 * @cn: the namespace
 * @skb: the record, header linear and checked (steps 1 to 6), with
 *	CPNS_SKB_CB(skb)->from set
 * @rec: its header fields
 *
 * Softirq. The queued record is opened by cpns_receive_sealed() on the
 * worker of the chosen CPU, under rcu_read_lock() with bottom halves
 * disabled, as in the softirq; cpns_rxq_flush() waits for that.
 *
 * Return: true when queued (@skb is consumed), false when the caller has
 * to open it itself.
 */
bool cpns_rxq_defer(struct cpns_net *cn, struct sk_buff *skb,
		    const struct cpns_rec *rec)
{
	struct cpns_rxq *q;
	int cpu;

	cpu = cpns_rxq_cpu(rec);
	if (cpu < 0)
		return false;
	q = per_cpu_ptr(cpns_rxqs, cpu);

	spin_lock(&q->skbs.lock);
	if (skb_queue_len(&q->skbs) >= CPNS_RXQ_MAX) {
		spin_unlock(&q->skbs.lock);
		return false;
	}
	/* A reference-less route is valid only in this softirq; the record
	 * needs none. The device may go away while it waits, too.
	 */
	skb_dst_drop(skb);
	skb->dev = NULL;
	CPNS_SKB_CB(skb)->cn = cn;
	__skb_queue_tail(&q->skbs, skb);
	spin_unlock(&q->skbs.lock);
	queue_work_on(cpu, cpns_rx_wq, &q->work);
	return true;
}

/**
 * cpns_rxq_flush() - wait until every queued record has been handled
 *
 * For a namespace whose UDP sockets are closed: no record of it is queued
 * once this returns. Process context.
 */
void cpns_rxq_flush(void)
{
	flush_workqueue(cpns_rx_wq);
}

/**
 * cpns_rxq_init() - set up the per-CPU queues and their workqueue
 *
 * Return: 0 or -ENOMEM.
 */
int cpns_rxq_init(void)
{
	int cpu;

	cpns_rxqs = alloc_percpu(struct cpns_rxq);
	if (!cpns_rxqs)
		return -ENOMEM;
	for_each_possible_cpu(cpu) {
		struct cpns_rxq *q = per_cpu_ptr(cpns_rxqs, cpu);

		skb_queue_head_init(&q->skbs);
		INIT_WORK(&q->work, cpns_rxq_work);
	}
	/* Bound to the CPU each work is queued on; CPU intensive, so that
	 * opening records does not hold up other work items there.
	 */
	cpns_rx_wq = alloc_workqueue("cpns_rx", WQ_CPU_INTENSIVE |
				     WQ_MEM_RECLAIM, 0);
	if (!cpns_rx_wq)
		goto err_free_queues;
	cpns_rxq_seed = get_random_u32();
	return 0;

err_free_queues:
	free_percpu(cpns_rxqs);
	return -ENOMEM;
}

/**
 * cpns_rxq_exit() - free the queues
 *
 * After every namespace is gone (so no record can be queued any more).
 */
void cpns_rxq_exit(void)
{
	int cpu;

	destroy_workqueue(cpns_rx_wq);
	for_each_possible_cpu(cpu)
		WARN_ON_ONCE(!skb_queue_empty(&per_cpu_ptr(cpns_rxqs,
							   cpu)->skbs));
	free_percpu(cpns_rxqs);
}

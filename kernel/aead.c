// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: the AES-256-GCM transforms of epoch keys - the implementation of
 * the crypto API they come from, and a pool of unkeyed ones.
 *
 * Allocating a transform looks its algorithm up by name and builds the
 * implementation's stack of transforms (on x86 three: simd, cryptd and the
 * AES-NI one), and freeing it takes the stack down again. A server does
 * both three times per authentication: it derives the keys of three epochs
 * at each install (PROTOCOL.md 2.8) and frees those of the generation the
 * install replaces. The transforms of freed keys are therefore kept, up to
 * CPNS_AEAD_POOL_MAX, for the next keys. A pooled transform holds no key:
 * keys are freed in any context and setting a key may sleep in some
 * implementations, so a returned transform waits for a worker that sets an
 * all-zero key in place of the last one before it joins the pool.
 */
#include <crypto/aead.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "crypto.h"

/* Transforms kept at most, wiped and waiting to be wiped together. */
#define CPNS_AEAD_POOL_MAX	64

static void cpns_aead_wipe(struct work_struct *work);

/**
 * struct cpns_aead_pool - transforms between two epoch keys
 * @lock: guards the fields below but @wipe; taken with interrupts disabled
 *	(keys are freed in any context)
 * @clean: @n_clean wiped transforms of @driver
 * @dirty: @n_dirty transforms of freed keys, for @wipe; a transform is
 *	given back to @dirty while @n_clean + @n_dirty < CPNS_AEAD_POOL_MAX
 * @n_clean: see @clean
 * @n_dirty: see @dirty
 * @driver: the driver name of the transforms @clean may take; empty from
 *	a change of aes_gcm to the first allocation that follows it
 * @gen: counts the changes of aes_gcm; written under the module's
 *	parameter lock too, so either lock reads it
 * @closed: the module is going: transforms are freed, not kept
 * @wipe: the worker that wipes @dirty into @clean
 */
static struct cpns_aead_pool {
	spinlock_t		lock;
	struct crypto_aead	*clean[CPNS_AEAD_POOL_MAX];
	struct crypto_aead	*dirty[CPNS_AEAD_POOL_MAX];
	unsigned int		n_clean;
	unsigned int		n_dirty;
	char			driver[CRYPTO_MAX_ALG_NAME];
	unsigned int		gen;
	bool			closed;
	struct work_struct	wipe;
} cpns_aead_pool = {
	.lock = __SPIN_LOCK_UNLOCKED(cpns_aead_pool.lock),
	.wipe = __WORK_INITIALIZER(cpns_aead_pool.wipe, cpns_aead_wipe),
};

/*
 * The AES-256-GCM implementation of epoch keys derived from now on:
 * "gcm(aes)", the crypto API's best, or another implementation of gcm(aes)
 * that the parameter aes_gcm names - a driver such as "generic-gcm-aesni",
 * or a pcrypt or cryptd instance, which finishes every operation in a
 * worker (tests use one). Written and read under the module's parameter
 * lock.
 */
static char cpns_aes_gcm[CRYPTO_MAX_ALG_NAME] = "gcm(aes)";

static int cpns_aes_gcm_set(const char *val, const struct kernel_param *kp)
{
	struct crypto_aead *old[CPNS_AEAD_POOL_MAX];
	struct cpns_aead_pool *p = &cpns_aead_pool;
	char buf[CRYPTO_MAX_ALG_NAME], *name;
	struct crypto_aead *tfm;
	unsigned int i, n;
	bool gcm;

	if (strscpy(buf, val, sizeof(buf)) < 0)
		return -EINVAL;
	name = strim(buf);	/* the newline of echo */
	tfm = crypto_alloc_aead(name, 0, 0);
	if (IS_ERR(tfm))
		return PTR_ERR(tfm);
	gcm = !strcmp(crypto_tfm_alg_name(crypto_aead_tfm(tfm)), "gcm(aes)");
	crypto_free_aead(tfm);
	if (!gcm)
		return -EINVAL;
	strscpy(cpns_aes_gcm, name, sizeof(cpns_aes_gcm));

	/* The pool's transforms are of the implementation named before. */
	spin_lock_irq(&p->lock);
	p->gen++;
	p->driver[0] = '\0';
	n = p->n_clean;
	memcpy(old, p->clean, n * sizeof(old[0]));
	p->n_clean = 0;
	spin_unlock_irq(&p->lock);
	for (i = 0; i < n; i++)
		crypto_free_aead(old[i]);
	return 0;
}

static int cpns_aes_gcm_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", cpns_aes_gcm);
}

static const struct kernel_param_ops cpns_aes_gcm_ops = {
	.set = cpns_aes_gcm_set,
	.get = cpns_aes_gcm_get,
};

module_param_cb(aes_gcm, &cpns_aes_gcm_ops, NULL, 0644);
MODULE_PARM_DESC(aes_gcm,
		 "crypto API implementation of AES-256-GCM for keys derived from now on (default gcm(aes): the best available; any implementation of gcm(aes) by name)");

static const char *cpns_aead_driver(struct crypto_aead *tfm)
{
	return crypto_tfm_alg_driver_name(crypto_aead_tfm(tfm));
}

/**
 * cpns_aead_get() - an unkeyed AES-256-GCM transform
 *
 * A pooled one, or a new one of the implementation the parameter aes_gcm
 * names, by default the crypto API's best, asynchronous ones included: on
 * x86 the AES-NI one is asynchronous (it runs at once when the CPU's SIMD
 * registers are usable, and from a worker otherwise), and the synchronous
 * one the API offers instead computes GHASH a table lookup at a time.
 * Records therefore go through &struct cpns_crypt (record.c). Suite 2 does
 * not use the crypto API's transforms (chachapoly.c). The caller sets the
 * key and the tag length, and gives the transform back with
 * cpns_aead_put(). Process context.
 *
 * Return: the transform, or an ERR_PTR() with an errno of the crypto API.
 */
struct crypto_aead *cpns_aead_get(void)
{
	struct cpns_aead_pool *p = &cpns_aead_pool;
	char name[CRYPTO_MAX_ALG_NAME];
	struct crypto_aead *tfm = NULL;
	unsigned int gen;

	spin_lock_irq(&p->lock);
	if (p->n_clean)
		tfm = p->clean[--p->n_clean];
	spin_unlock_irq(&p->lock);
	if (tfm)
		return tfm;

	kernel_param_lock(THIS_MODULE);
	strscpy(name, cpns_aes_gcm, sizeof(name));
	gen = p->gen;
	kernel_param_unlock(THIS_MODULE);
	tfm = crypto_alloc_aead(name, 0, 0);
	if (IS_ERR(tfm))
		return tfm;
	/* An allocation that began before a change of aes_gcm does not say
	 * which implementation the pool keeps.
	 */
	spin_lock_irq(&p->lock);
	if (p->gen == gen && !p->driver[0])
		strscpy(p->driver, cpns_aead_driver(tfm), sizeof(p->driver));
	spin_unlock_irq(&p->lock);
	return tfm;
}

/**
 * cpns_aead_put() - give back a transform of cpns_aead_get()
 * @tfm: the transform; no operation of it may be running or queued
 *
 * The transform is wiped and kept for cpns_aead_get() when the pool has
 * room, and freed otherwise, which also wipes it. Any context.
 */
void cpns_aead_put(struct crypto_aead *tfm)
{
	struct cpns_aead_pool *p = &cpns_aead_pool;
	bool queued = false, first = false;
	unsigned long flags;

	spin_lock_irqsave(&p->lock, flags);
	if (!p->closed && p->n_clean + p->n_dirty < CPNS_AEAD_POOL_MAX) {
		/* the worker pops until @dirty is empty: only the first
		 * transform since then needs it scheduled
		 */
		first = !p->n_dirty;
		p->dirty[p->n_dirty++] = tfm;
		queued = true;
	}
	spin_unlock_irqrestore(&p->lock, flags);
	if (first)
		schedule_work(&p->wipe);
	else if (!queued)
		crypto_free_aead(tfm);
}

static void cpns_aead_wipe(struct work_struct *work)
{
	static const u8 zero[CPNS_KEY_LEN];
	struct cpns_aead_pool *p = &cpns_aead_pool;
	struct crypto_aead *tfm;
	bool keep;

	for (;;) {
		spin_lock_irq(&p->lock);
		tfm = p->n_dirty ? p->dirty[--p->n_dirty] : NULL;
		spin_unlock_irq(&p->lock);
		if (!tfm)
			return;
		/* The key schedule and hash key of zeroes overwrite the last
		 * key's. A transform that refuses is freed, which wipes it.
		 */
		keep = !crypto_aead_setkey(tfm, zero, sizeof(zero));
		spin_lock_irq(&p->lock);
		keep = keep && !p->closed && p->n_clean < CPNS_AEAD_POOL_MAX &&
		       !strcmp(p->driver, cpns_aead_driver(tfm));
		if (keep)
			p->clean[p->n_clean++] = tfm;
		spin_unlock_irq(&p->lock);
		if (!keep)
			crypto_free_aead(tfm);
	}
}

/**
 * cpns_aead_pool_exit() - free the pool when the module goes
 *
 * After the last epoch keys are gone: the generations' free work and the
 * RCU callbacks that free keys have all run.
 */
void cpns_aead_pool_exit(void)
{
	struct cpns_aead_pool *p = &cpns_aead_pool;

	spin_lock_irq(&p->lock);
	p->closed = true;
	spin_unlock_irq(&p->lock);
	/* The worker frees what is waiting, then nothing more comes. */
	flush_work(&p->wipe);
	while (p->n_clean)
		crypto_free_aead(p->clean[--p->n_clean]);
}

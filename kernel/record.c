// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: record header checks (PROTOCOL.md 2.6 steps 1-4 and 6) and record
 * seal/open (2.2) on scatterlists: AES-256-GCM through the crypto API, in
 * a &struct cpns_crypt that may finish later, ChaCha20-Poly1305 in
 * chachapoly.c, always at once (cpns_record_seal(), cpns_record_open()).
 */

#include <crypto/aead.h>
#include <linux/err.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/unaligned.h>

#include "crypto.h"

static bool cpns_id_valid(const u8 id[CPNS_ID_LEN])
{
	return memchr_inv(id, 0x00, CPNS_ID_LEN) &&
	       memchr_inv(id, 0xff, CPNS_ID_LEN);
}

static bool cpns_ports_valid(u8 type, u16 src_port, u16 dst_port)
{
	if (!src_port || !dst_port)
		return false;
	if (type == CPNS_TYPE_HANDSHAKE)
		return src_port == CPNS_PORT_HANDSHAKE &&
		       dst_port == CPNS_PORT_HANDSHAKE;
	return src_port != CPNS_PORT_HANDSHAKE &&
	       dst_port != CPNS_PORT_HANDSHAKE;
}

/**
 * cpns_record_check() - receive steps 1a to 4d on a datagram
 * @buf: the UDP payload; only its first min(@len, CPNS_HDR_LEN) bytes are
 *	read, and need to be linear
 * @len: its length
 * @rec: the parsed header, filled when the result is CPNS_DROP_NONE
 *
 * Pure function of the bytes; no key, no state. Safe in any context.
 *
 * Return: the first failing step's drop reason, or CPNS_DROP_NONE.
 */
enum cpns_drop cpns_record_check(const u8 *buf, size_t len,
				 struct cpns_rec *rec)
{
	const struct cpns_hdr *hdr = (const struct cpns_hdr *)buf;
	size_t length;

	if (len < CPNS_HDR_LEN)
		return CPNS_DROP_SHORT;
	length = get_unaligned_be16(&hdr->length);
	if (length > CPNS_MAX_PAYLOAD)
		return CPNS_DROP_TOO_BIG;
	/* T is 16 for any non-zero suite byte: no suite knowledge needed. */
	if (len != CPNS_HDR_LEN + length + (hdr->suite ? CPNS_TAG_LEN : 0))
		return CPNS_DROP_LENGTH;
	if (hdr->flags & CPNS_FLAGS_RESERVED)
		return CPNS_DROP_RESERVED;
	if (hdr->version != CPNS_VERSION)
		return CPNS_DROP_VERSION;
	if (hdr->type != CPNS_TYPE_DATA && hdr->type != CPNS_TYPE_HANDSHAKE)
		return CPNS_DROP_BAD_TYPE;
	if (hdr->suite > CPNS_SUITE_CHACHA20POLY1305)
		return CPNS_DROP_BAD_SUITE;
	if (!cpns_id_valid(hdr->src) || !cpns_id_valid(hdr->dst) ||
	    !memcmp(hdr->src, hdr->dst, CPNS_ID_LEN))
		return CPNS_DROP_BAD_ENTITY;

	rec->src_port = get_unaligned_be16(&hdr->src_port);
	rec->dst_port = get_unaligned_be16(&hdr->dst_port);
	if (!cpns_ports_valid(hdr->type, rec->src_port, rec->dst_port))
		return CPNS_DROP_BAD_PORT;

	rec->type = hdr->type;
	rec->flags = hdr->flags;
	rec->suite = hdr->suite;
	rec->generation = hdr->generation;
	rec->epoch = hdr->epoch;
	rec->length = length;
	rec->seq = get_unaligned_be64(&hdr->seq);
	memcpy(rec->src, hdr->src, CPNS_ID_LEN);
	memcpy(rec->dst, hdr->dst, CPNS_ID_LEN);
	return CPNS_DROP_NONE;
}

/**
 * cpns_record_check_suite0() - receive step 6
 * @rec: a header that passed cpns_record_check()
 *
 * A suite 0 record must be a handshake record with flags, key_id and seq 0;
 * it then continues at step 14. Records of suites 1 and 2 pass unchanged.
 *
 * Return: CPNS_DROP_SUITE0 or CPNS_DROP_NONE.
 */
enum cpns_drop cpns_record_check_suite0(const struct cpns_rec *rec)
{
	if (rec->suite != CPNS_SUITE_NONE)
		return CPNS_DROP_NONE;
	if (rec->type != CPNS_TYPE_HANDSHAKE || rec->flags ||
	    rec->generation || rec->epoch || rec->seq)
		return CPNS_DROP_SUITE0;
	return CPNS_DROP_NONE;
}

/**
 * cpns_hdr_fill() - write a record header
 * @hdr: destination, 52 bytes, any alignment
 * @rec: the header fields
 */
void cpns_hdr_fill(struct cpns_hdr *hdr, const struct cpns_rec *rec)
{
	hdr->version = CPNS_VERSION;
	hdr->type = rec->type;
	hdr->flags = rec->flags;
	hdr->suite = rec->suite;
	hdr->generation = rec->generation;
	hdr->epoch = rec->epoch;
	put_unaligned_be16(rec->length, &hdr->length);
	put_unaligned_be64(rec->seq, &hdr->seq);
	memcpy(hdr->src, rec->src, CPNS_ID_LEN);
	memcpy(hdr->dst, rec->dst, CPNS_ID_LEN);
	put_unaligned_be16(rec->src_port, &hdr->src_port);
	put_unaligned_be16(rec->dst_port, &hdr->dst_port);
}

/* The AEAD's view of a record: assoc || text || tag. C=1 authenticates the
 * header and encrypts the payload; C=0 authenticates header || payload
 * with an empty plaintext, so the payload is associated data. Fills
 * @nonce = iv XOR (0^4 || u64(seq)).
 */
static int cpns_record_layout(const struct cpns_epoch_keys *keys,
			      const u8 *hdr_buf, size_t len, size_t *assoc,
			      size_t *text, u8 nonce[CPNS_NONCE_LEN])
{
	const struct cpns_hdr *hdr = (const struct cpns_hdr *)hdr_buf;
	size_t length = get_unaligned_be16(&hdr->length);
	__be64 seq = hdr->seq;
	unsigned int i;

	if (len != CPNS_HDR_LEN + length + CPNS_TAG_LEN)
		return -EINVAL;
	if (hdr->flags & CPNS_FLAG_C) {
		*assoc = CPNS_HDR_LEN;
		*text = length;
	} else {
		*assoc = CPNS_HDR_LEN + length;
		*text = 0;
	}
	memcpy(nonce, keys->iv, CPNS_NONCE_LEN);
	for (i = 0; i < sizeof(seq); i++)
		nonce[4 + i] ^= ((u8 *)&seq)[i];
	return 0;
}

/**
 * cpns_crypt_new() - prepare an AES-256-GCM seal or open
 * @keys: suite 1 keys of the record's epoch, found under rcu_read_lock()
 *	(held by the caller) or otherwise referenced; the operation takes a
 *	reference of its own
 * @nsg: scatterlist entries the record needs
 * @priv_size: bytes of caller state carried to the completion
 * @gfp: allocation flags
 *
 * One allocation holds the operation, the scatterlist, the caller's state
 * and the crypto API's request.
 *
 * Return: the operation, its scatterlist initialised with @nsg entries, or
 * NULL when out of memory.
 */
struct cpns_crypt *cpns_crypt_new(struct cpns_epoch_keys *keys,
				  unsigned int nsg, size_t priv_size,
				  gfp_t gfp)
{
	size_t sg_off = ALIGN(sizeof(struct cpns_crypt), sizeof(long));
	size_t priv_off = ALIGN(sg_off + nsg * sizeof(struct scatterlist),
				sizeof(long));
	size_t req_off = ALIGN(priv_off + priv_size, CRYPTO_MINALIGN);
	unsigned int req_size = sizeof(struct aead_request) +
				crypto_aead_reqsize(keys->aead);
	struct cpns_crypt *c;
	u8 *p;

	p = kmalloc(req_off + req_size, gfp);
	if (!p)
		return NULL;
	c = (struct cpns_crypt *)p;
	c->keys = keys;
	refcount_inc(&keys->ref);
	c->done = NULL;
	c->sg = (struct scatterlist *)(p + sg_off);
	c->priv = p + priv_off;
	c->req = (struct aead_request *)(p + req_off);
	c->req_size = req_size;
	sg_init_table(c->sg, nsg);
	return c;
}

/* The crypto API's completion of a request that returned -EINPROGRESS. */
static void cpns_crypt_complete(struct crypto_async_request *areq, int err)
{
	struct cpns_crypt *c = areq->data;

	/* Only a backlogged request is told that it started; none is. */
	if (err == -EINPROGRESS)
		return;
	c->done(c, err);
}

/**
 * cpns_crypt_run() - seal or open the record mapped by @c->sg in place
 * @c: the operation, from cpns_crypt_new()
 * @hdr: the record's header, linear, at the start of what @c->sg maps
 * @len: the record's length, header and tag included
 * @enc: seal (compute and write the tag) or open (check it)
 * @done: the completion, if the operation finishes later
 *
 * Any context. The caller's state in @c->priv must be complete before the
 * call: @done may run on another CPU before this returns.
 *
 * Return: -EINPROGRESS when @done will be called with the result; else the
 * result, and @done is not called: 0, -EBADMSG when authentication fails,
 * -EINVAL if @len does not match the header, -ENOSPC when the
 * implementation's queue is full (nothing is backlogged; pcrypt says
 * -EAGAIN, cryptd -ENOSPC), or another errno of the crypto API.
 */
int cpns_crypt_run(struct cpns_crypt *c, const u8 *hdr, size_t len,
		   bool enc, void (*done)(struct cpns_crypt *c, int err))
{
	size_t assoc, text;
	int err;

	err = cpns_record_layout(c->keys, hdr, len, &assoc, &text, c->nonce);
	if (err)
		return err;
	c->done = done;
	aead_request_set_tfm(c->req, c->keys->aead);
	aead_request_set_callback(c->req, 0, cpns_crypt_complete, c);
	aead_request_set_ad(c->req, assoc);
	if (enc) {
		aead_request_set_crypt(c->req, c->sg, c->sg, text, c->nonce);
		err = crypto_aead_encrypt(c->req);
	} else {
		aead_request_set_crypt(c->req, c->sg, c->sg,
				       text + CPNS_TAG_LEN, c->nonce);
		err = crypto_aead_decrypt(c->req);
	}
	return err == -EAGAIN ? -ENOSPC : err;
}

/**
 * cpns_crypt_free() - release a finished operation
 * @c: the operation; its result was returned or passed to its completion
 *
 * Wipes the nonce (iv_n XOR seq: it gives iv_n away) and the request (an
 * implementation may keep GHASH state there, which gives H away) and
 * drops the reference to the keys; the rest - the caller's state, the
 * scatterlist - holds no secret, and is not written over for every
 * record. Any context.
 */
void cpns_crypt_free(struct cpns_crypt *c)
{
	cpns_epoch_keys_put(c->keys);
	memzero_explicit(c->nonce, sizeof(c->nonce));
	memzero_explicit(c->req, c->req_size);
	kfree(c);
}

/* Suite 2 in place on the @sg of the record whose header is at @hdr_buf. */
static int cpns_record_chachapoly(const struct cpns_epoch_keys *keys,
				  const u8 *hdr_buf, struct scatterlist *sg,
				  size_t len, bool enc)
{
	u8 nonce[CPNS_NONCE_LEN];
	size_t assoc, text;
	int err;

	if (keys->suite != CPNS_SUITE_CHACHA20POLY1305)
		return -EINVAL;
	err = cpns_record_layout(keys, hdr_buf, len, &assoc, &text, nonce) ?:
	      cpns_chachapoly_crypt(keys->key, nonce, sg, assoc, text, enc);
	memzero_explicit(nonce, sizeof(nonce));
	return err;
}

/**
 * cpns_record_seal() - protect a ChaCha20-Poly1305 record in place
 * @keys: suite 2 keys of the header's epoch
 * @buf: header (filled by the caller) || payload || room for the tag
 * @len: 52 + payload length + 16
 *
 * Never sleeps; callable in softirq. The caller holds the RCU read lock
 * that protects @keys. Suite 1 goes through cpns_crypt_run().
 *
 * Return: 0, or -EINVAL if @len does not match the header or @keys are not
 * suite 2.
 */
int cpns_record_seal(const struct cpns_epoch_keys *keys, u8 *buf, size_t len)
{
	struct scatterlist sg;

	sg_init_one(&sg, buf, len);
	return cpns_record_chachapoly(keys, buf, &sg, len, true);
}

/**
 * cpns_record_open() - authenticate (and for C=1 decrypt) a ChaCha20-Poly1305
 *	record in place
 * @keys: suite 2 keys of the header's epoch
 * @hdr: the record's header, linear: a record that passed
 *	cpns_record_check(), and the start of what @sg maps
 * @sg: the whole record, header included, writable
 * @len: its length
 *
 * On success the payload behind the header is plaintext; on failure the
 * content is unspecified. Never sleeps; callable in softirq. Suite 1 goes
 * through cpns_crypt_run().
 *
 * Return: 0; -EBADMSG when authentication fails (drop reason AUTH);
 * -EINVAL if @len does not match the header or @keys are not suite 2.
 */
int cpns_record_open(const struct cpns_epoch_keys *keys, const u8 *hdr,
		     struct scatterlist *sg, size_t len)
{
	return cpns_record_chachapoly(keys, hdr, sg, len, false);
}

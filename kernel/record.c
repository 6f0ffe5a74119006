// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: record header checks (PROTOCOL.md 2.6 steps 1-4 and 6) and record
 * seal/open (2.2): sealing on linear buffers, opening on scatterlists;
 * AES-256-GCM through the crypto API, ChaCha20-Poly1305 in chachapoly.c.
 */

#include <crypto/aead.h>
#include <linux/bottom_half.h>
#include <linux/err.h>
#include <linux/percpu.h>
#include <linux/scatterlist.h>
#include <linux/string.h>
#include <asm/unaligned.h>

#include "crypto.h"

/*
 * One AES-256-GCM request per CPU. The transforms are synchronous (keys.c),
 * so a request lives only inside one seal or open, which runs with bottom
 * halves disabled: nothing else on the CPU can use the request meanwhile,
 * and no record pays for an allocation. cpns_record_init() sizes it for
 * the implementation the crypto API picks; a transform needing more is
 * refused by cpns_record_req_fits().
 */
static void __percpu *cpns_aead_req;
static unsigned int cpns_aead_req_size;

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

/*
 * Seal or open in place the record whose header is at @hdr and whose
 * bytes, header included, are @sg. The AEAD sees assoc || text || tag: C=1
 * authenticates the header and encrypts the payload; C=0 authenticates
 * header || payload with an empty plaintext, so the payload is associated
 * data.
 */
static int cpns_record_crypt(const struct cpns_epoch_keys *keys,
			     const u8 *hdr_buf, struct scatterlist *sg,
			     size_t len, bool enc)
{
	const struct cpns_hdr *hdr = (const struct cpns_hdr *)hdr_buf;
	size_t length = get_unaligned_be16(&hdr->length);
	struct aead_request *req;
	u8 nonce[CPNS_NONCE_LEN];
	size_t assoc, text;
	__be64 seq;
	unsigned int i;
	int err;

	if (len != CPNS_HDR_LEN + length + CPNS_TAG_LEN)
		return -EINVAL;

	if (hdr->flags & CPNS_FLAG_C) {
		assoc = CPNS_HDR_LEN;
		text = length;
	} else {
		assoc = CPNS_HDR_LEN + length;
		text = 0;
	}

	/* nonce = iv XOR (0^4 || u64(seq)) */
	memcpy(nonce, keys->iv, CPNS_NONCE_LEN);
	seq = hdr->seq;
	for (i = 0; i < sizeof(seq); i++)
		nonce[4 + i] ^= ((u8 *)&seq)[i];

	if (keys->suite == CPNS_SUITE_CHACHA20POLY1305) {
		err = cpns_chachapoly_crypt(keys->key, nonce, sg, assoc, text,
					    enc);
	} else {
		local_bh_disable();
		req = this_cpu_ptr(cpns_aead_req);
		aead_request_set_tfm(req, keys->aead);
		aead_request_set_callback(req, 0, NULL, NULL);
		aead_request_set_ad(req, assoc);
		if (enc) {
			aead_request_set_crypt(req, sg, sg, text, nonce);
			err = crypto_aead_encrypt(req);
		} else {
			aead_request_set_crypt(req, sg, sg,
					       text + CPNS_TAG_LEN, nonce);
			err = crypto_aead_decrypt(req);
		}
		/* The request holds a copy of the nonce and GHASH state. */
		memzero_explicit(req, cpns_aead_req_size);
		local_bh_enable();
	}
	memzero_explicit(nonce, sizeof(nonce));
	return err;
}

/**
 * cpns_record_seal() - protect a record in place
 * @keys: keys of the header's epoch
 * @buf: header (filled by the caller) || payload || room for the tag
 * @len: 52 + payload length + 16
 *
 * Never sleeps; callable in softirq. The caller holds the RCU read lock
 * that protects @keys.
 *
 * Return: 0, -EINVAL if @len does not match the header, or an errno of
 * the crypto API.
 */
int cpns_record_seal(const struct cpns_epoch_keys *keys, u8 *buf, size_t len)
{
	struct scatterlist sg;

	sg_init_one(&sg, buf, len);
	return cpns_record_crypt(keys, buf, &sg, len, true);
}

/**
 * cpns_record_open() - authenticate (and for C=1 decrypt) a record in place
 * @keys: keys of the header's epoch
 * @hdr: the record's header, linear: a record that passed
 *	cpns_record_check(), and the start of what @sg maps
 * @sg: the whole record, header included, writable
 * @len: its length
 *
 * On success the payload behind the header is plaintext; on failure the
 * content is unspecified. Never sleeps; callable in softirq.
 *
 * Return: 0; -EBADMSG when authentication fails (drop reason AUTH);
 * -EINVAL if @len does not match the header.
 */
int cpns_record_open(const struct cpns_epoch_keys *keys, const u8 *hdr,
		     struct scatterlist *sg, size_t len)
{
	return cpns_record_crypt(keys, hdr, sg, len, false);
}

/**
 * cpns_record_req_fits() - can records be sealed with this transform?
 * @aead: a synchronous AES-256-GCM transform
 *
 * Return: whether its request fits the per-CPU request of record.c.
 */
bool cpns_record_req_fits(struct crypto_aead *aead)
{
	return sizeof(struct aead_request) + crypto_aead_reqsize(aead) <=
	       cpns_aead_req_size;
}

/**
 * cpns_record_init() - allocate the per-CPU AES-256-GCM requests
 *
 * Sizes them for the implementation the crypto API picks now (allocating
 * a transform). Process context.
 *
 * Return: 0 or a negative errno.
 */
int cpns_record_init(void)
{
	struct crypto_aead *aead;
	unsigned int size;

	aead = cpns_aead_alloc();
	if (IS_ERR(aead))
		return PTR_ERR(aead);
	size = sizeof(struct aead_request) + crypto_aead_reqsize(aead);
	crypto_free_aead(aead);
	cpns_aead_req = __alloc_percpu(size, __alignof__(struct aead_request));
	if (!cpns_aead_req)
		return -ENOMEM;
	cpns_aead_req_size = size;
	return 0;
}

/**
 * cpns_record_exit() - free the per-CPU AEAD requests
 *
 * After the last record was sealed or opened.
 */
void cpns_record_exit(void)
{
	free_percpu(cpns_aead_req);
	cpns_aead_req = NULL;
	cpns_aead_req_size = 0;
}

// SPDX-License-Identifier: GPL-2.0
/*
 * cpns: the ChaCha20-Poly1305 AEAD of RFC 8439 section 2.8 (suite 2) on a
 * scatterlist, with the kernel's ChaCha20 and Poly1305 library
 * (<crypto/chacha.h>, <crypto/poly1305.h>: the SIMD implementations of the
 * architecture when it has them), as WireGuard seals its packets.
 *
 * The crypto API's rfc7539 template computes the same function, but walks
 * the data several times through its skcipher and ahash layers: in the
 * record path it cost about twice the time of the library for the same
 * bytes. lib/crypto/chacha20poly1305.c cannot be used as it is: it takes a
 * 64-bit nonce, and a record's 96-bit nonce (iv XOR seq) has no zero
 * prefix. The construction is checked against RFC 8439 section 2.8.2 and
 * PROTOCOL.md's record vectors (KUnit).
 */

#include <crypto/algapi.h>
#include <crypto/chacha.h>
#include <crypto/poly1305.h>
#include <crypto/scatterwalk.h>
#include <linux/scatterlist.h>
#include <linux/string.h>
#include <asm/unaligned.h>

#include "crypto.h"

static const u8 cpns_cp_zero[16];

struct cpns_cp {
	u32 chacha[CHACHA_STATE_WORDS];
	struct poly1305_desc_ctx poly;
	/* keystream of a block that straddles two scatterlist entries */
	u8 stream[CHACHA_BLOCK_SIZE];
	unsigned int partial;	/* bytes of @stream already used */
};

/* XOR @len bytes at @p with the next keystream bytes. @last: these are the
 * text's final bytes, so a partial block needs no keystream kept for later.
 */
static void cpns_cp_xor(struct cpns_cp *c, u8 *p, size_t len, bool last)
{
	size_t l;

	if (c->partial) {
		l = min_t(size_t, len, CHACHA_BLOCK_SIZE - c->partial);
		crypto_xor(p, c->stream + c->partial, l);
		c->partial = (c->partial + l) % CHACHA_BLOCK_SIZE;
		p += l;
		len -= l;
	}
	l = last ? len : round_down(len, CHACHA_BLOCK_SIZE);
	if (l) {
		chacha20_crypt(c->chacha, p, p, l);
		p += l;
		len -= l;
	}
	if (len) {
		memset(c->stream, 0, sizeof(c->stream));
		chacha20_crypt(c->chacha, c->stream, c->stream,
			       CHACHA_BLOCK_SIZE);
		crypto_xor(p, c->stream, len);
		c->partial = len;
	}
}

static void cpns_cp_pad(struct cpns_cp *c, size_t len)
{
	if (len % 16)
		poly1305_update(&c->poly, cpns_cp_zero, 16 - len % 16);
}

/**
 * cpns_chachapoly_crypt() - seal or open a ChaCha20-Poly1305 record in place
 * @key: the 32-byte key
 * @nonce: the 12-byte nonce
 * @sg: assoc || text || tag, in place
 * @assoc: bytes of associated data at the start of @sg
 * @text: bytes of plaintext (seal) or ciphertext (open) after them
 * @enc: seal (compute and write the tag) or open (check it)
 *
 * Never sleeps; callable in softirq (the SIMD code of the library falls
 * back to scalar code where the FPU may not be used). Stack state holding
 * key material is wiped before returning.
 *
 * Return: 0; -EBADMSG when opening and the tag does not match; -EINVAL
 * when @sg is shorter than @assoc + @text + 16.
 */
int cpns_chachapoly_crypt(const u8 key[CPNS_KEY_LEN],
			  const u8 nonce[CPNS_NONCE_LEN],
			  struct scatterlist *sg, size_t assoc, size_t text,
			  bool enc)
{
	const size_t end = assoc + text;
	struct sg_mapping_iter miter;
	struct cpns_cp c;
	union {
		struct {
			u32 k[CHACHA_KEY_SIZE / sizeof(u32)];
			u8 iv[CHACHA_IV_SIZE];
		};
		u8 otk[POLY1305_KEY_SIZE];
		__le64 lens[2];
	} b;
	u8 tag[2][CPNS_TAG_LEN];
	size_t off = 0;
	unsigned int i;
	int err = 0;

	if (sg_nents_for_len(sg, end + CPNS_TAG_LEN) < 0)
		return -EINVAL;

	for (i = 0; i < ARRAY_SIZE(b.k); i++)
		b.k[i] = get_unaligned_le32(key + 4 * i);
	/* block counter 0, then the nonce (RFC 8439 2.3) */
	memset(b.iv, 0, 4);
	memcpy(b.iv + 4, nonce, CPNS_NONCE_LEN);
	chacha_init(c.chacha, b.k, b.iv);

	/* one-time Poly1305 key: block 0 (2.6); the text starts at block 1 */
	memset(b.otk, 0, sizeof(b.otk));
	chacha20_crypt(c.chacha, b.otk, b.otk, sizeof(b.otk));
	poly1305_init(&c.poly, b.otk);
	c.partial = 0;

	sg_miter_start(&miter, sg, sg_nents(sg), SG_MITER_ATOMIC |
		       (text ? SG_MITER_TO_SG : SG_MITER_FROM_SG));
	while (off < end && sg_miter_next(&miter)) {
		u8 *p = miter.addr;
		size_t len = min_t(size_t, miter.length, end - off);

		if (off < assoc) {
			size_t l = min_t(size_t, len, assoc - off);

			poly1305_update(&c.poly, p, l);
			off += l;
			p += l;
			len -= l;
			if (off == assoc)
				cpns_cp_pad(&c, assoc);
		}
		if (!len)
			continue;
		/* Poly1305 authenticates the ciphertext (2.8). */
		if (!enc)
			poly1305_update(&c.poly, p, len);
		cpns_cp_xor(&c, p, len, off + len == end);
		if (enc)
			poly1305_update(&c.poly, p, len);
		off += len;
	}
	sg_miter_stop(&miter);

	cpns_cp_pad(&c, text);
	b.lens[0] = cpu_to_le64(assoc);
	b.lens[1] = cpu_to_le64(text);
	poly1305_update(&c.poly, (const u8 *)b.lens, sizeof(b.lens));
	poly1305_final(&c.poly, tag[0]);

	scatterwalk_map_and_copy(tag[enc ? 0 : 1], sg, end, CPNS_TAG_LEN,
				 enc);
	if (!enc && crypto_memneq(tag[0], tag[1], CPNS_TAG_LEN))
		err = -EBADMSG;

	memzero_explicit(&c, sizeof(c));
	memzero_explicit(&b, sizeof(b));
	memzero_explicit(tag, sizeof(tag));
	return err;
}

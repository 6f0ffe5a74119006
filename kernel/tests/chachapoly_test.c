// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: ChaCha20-Poly1305 of chachapoly.c against RFC 8439 section 2.8.2,
 * with the bytes in one buffer, split in two at every offset, and one byte
 * per scatterlist entry; integrity only (empty text); the errors.
 */

#include <kunit/test.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "../crypto.h"

static const u8 cp_key[CPNS_KEY_LEN] = {
	0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
	0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
	0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97,
	0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
};

static const u8 cp_nonce[CPNS_NONCE_LEN] = {
	0x07, 0x00, 0x00, 0x00, 0x40, 0x41, 0x42, 0x43,
	0x44, 0x45, 0x46, 0x47,
};

static const u8 cp_aad[] = {
	0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3,
	0xc4, 0xc5, 0xc6, 0xc7,
};

static const char cp_text[] =
	"Ladies and Gentlemen of the class of '99: If I could offer you "
	"only one tip for the future, sunscreen would be it.";

#define CP_TEXT_LEN	(sizeof(cp_text) - 1)
#define CP_LEN		(sizeof(cp_aad) + CP_TEXT_LEN + CPNS_TAG_LEN)

/* ciphertext || tag */
static const u8 cp_sealed[CP_TEXT_LEN + CPNS_TAG_LEN] = {
	0xd3, 0x1a, 0x8d, 0x34, 0x64, 0x8e, 0x60, 0xdb,
	0x7b, 0x86, 0xaf, 0xbc, 0x53, 0xef, 0x7e, 0xc2,
	0xa4, 0xad, 0xed, 0x51, 0x29, 0x6e, 0x08, 0xfe,
	0xa9, 0xe2, 0xb5, 0xa7, 0x36, 0xee, 0x62, 0xd6,
	0x3d, 0xbe, 0xa4, 0x5e, 0x8c, 0xa9, 0x67, 0x12,
	0x82, 0xfa, 0xfb, 0x69, 0xda, 0x92, 0x72, 0x8b,
	0x1a, 0x71, 0xde, 0x0a, 0x9e, 0x06, 0x0b, 0x29,
	0x05, 0xd6, 0xa5, 0xb6, 0x7e, 0xcd, 0x3b, 0x36,
	0x92, 0xdd, 0xbd, 0x7f, 0x2d, 0x77, 0x8b, 0x8c,
	0x98, 0x03, 0xae, 0xe3, 0x28, 0x09, 0x1b, 0x58,
	0xfa, 0xb3, 0x24, 0xe4, 0xfa, 0xd6, 0x75, 0x94,
	0x55, 0x85, 0x80, 0x8b, 0x48, 0x31, 0xd7, 0xbc,
	0x3f, 0xf4, 0xde, 0xf0, 0x8e, 0x4b, 0x7a, 0x9d,
	0xe5, 0x76, 0xd2, 0x65, 0x86, 0xce, 0xc6, 0x4b,
	0x61, 0x16,
	0x1a, 0xe1, 0x0b, 0x59, 0x4f, 0x09, 0xe2, 0x6a,
	0x7e, 0x90, 0x2e, 0xcb, 0xd0, 0x60, 0x06, 0x91,
};

/* The tag of aad || text as associated data and an empty text. */
static const u8 cp_tag_integrity[CPNS_TAG_LEN] = {
	0x90, 0xf9, 0x7f, 0x05, 0x49, 0x50, 0x1d, 0xba,
	0x1f, 0x4a, 0x7c, 0xc0, 0x50, 0xed, 0x88, 0x6c,
};

static void cp_plain(u8 *buf)
{
	memcpy(buf, cp_aad, sizeof(cp_aad));
	memcpy(buf + sizeof(cp_aad), cp_text, CP_TEXT_LEN);
	memset(buf + sizeof(cp_aad) + CP_TEXT_LEN, 0, CPNS_TAG_LEN);
}

/* Seal then open @buf mapped by @sg; the sealed bytes are the RFC's. */
static void cp_round_trip(struct kunit *test, struct scatterlist *sg,
			  u8 *buf, size_t cut)
{
	cp_plain(buf);
	KUNIT_ASSERT_EQ(test, 0,
			cpns_chachapoly_crypt(cp_key, cp_nonce, sg,
					      sizeof(cp_aad), CP_TEXT_LEN,
					      true));
	KUNIT_EXPECT_EQ_MSG(test, 0, memcmp(buf, cp_aad, sizeof(cp_aad)),
			    "cut %zu: aad", cut);
	KUNIT_EXPECT_EQ_MSG(test, 0,
			    memcmp(buf + sizeof(cp_aad), cp_sealed,
				   sizeof(cp_sealed)),
			    "cut %zu: sealed", cut);
	KUNIT_EXPECT_EQ_MSG(test, 0,
			    cpns_chachapoly_crypt(cp_key, cp_nonce, sg,
						  sizeof(cp_aad), CP_TEXT_LEN,
						  false),
			    "cut %zu: open", cut);
	KUNIT_EXPECT_EQ_MSG(test, 0,
			    memcmp(buf + sizeof(cp_aad), cp_text, CP_TEXT_LEN),
			    "cut %zu: plaintext", cut);
}

static void cpns_chachapoly_rfc8439(struct kunit *test)
{
	struct scatterlist sg[2];
	size_t cut;
	u8 *buf;

	buf = kunit_kmalloc(test, CP_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	sg_init_one(sg, buf, CP_LEN);
	cp_round_trip(test, sg, buf, 0);

	/* Two entries, cut at every offset: keystream blocks, the Poly1305
	 * padding and the tag straddle the boundary somewhere.
	 */
	for (cut = 1; cut < CP_LEN; cut++) {
		sg_init_table(sg, 2);
		sg_set_buf(&sg[0], buf, cut);
		sg_set_buf(&sg[1], buf + cut, CP_LEN - cut);
		cp_round_trip(test, sg, buf, cut);
	}
}

/* Every byte in a scatterlist entry of its own. */
static void cpns_chachapoly_bytewise(struct kunit *test)
{
	struct scatterlist *sg;
	u8 *buf;
	size_t i;

	buf = kunit_kmalloc(test, CP_LEN, GFP_KERNEL);
	sg = kunit_kmalloc_array(test, CP_LEN, sizeof(*sg), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, sg);
	sg_init_table(sg, CP_LEN);
	for (i = 0; i < CP_LEN; i++)
		sg_set_buf(&sg[i], buf + i, 1);
	cp_round_trip(test, sg, buf, 1);
}

/* Empty text: all of aad || text is associated data (a C=0 record). */
static void cpns_chachapoly_integrity(struct kunit *test)
{
	struct scatterlist sg;
	u8 *buf;

	buf = kunit_kmalloc(test, CP_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
	sg_init_one(&sg, buf, CP_LEN);
	cp_plain(buf);
	KUNIT_ASSERT_EQ(test, 0,
			cpns_chachapoly_crypt(cp_key, cp_nonce, &sg,
					      CP_LEN - CPNS_TAG_LEN, 0, true));
	KUNIT_EXPECT_EQ(test, 0, memcmp(buf + sizeof(cp_aad), cp_text,
					CP_TEXT_LEN));
	KUNIT_EXPECT_EQ(test, 0, memcmp(buf + CP_LEN - CPNS_TAG_LEN,
					cp_tag_integrity, CPNS_TAG_LEN));
	KUNIT_EXPECT_EQ(test, 0,
			cpns_chachapoly_crypt(cp_key, cp_nonce, &sg,
					      CP_LEN - CPNS_TAG_LEN, 0, false));
}

static void cpns_chachapoly_errors(struct kunit *test)
{
	struct scatterlist sg;
	u8 *buf;
	size_t i;

	buf = kunit_kmalloc(test, CP_LEN, GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);

	/* Any flipped bit of aad, ciphertext or tag fails the tag. */
	for (i = 0; i < CP_LEN; i++) {
		memcpy(buf, cp_aad, sizeof(cp_aad));
		memcpy(buf + sizeof(cp_aad), cp_sealed, sizeof(cp_sealed));
		buf[i] ^= 0x80;
		sg_init_one(&sg, buf, CP_LEN);
		KUNIT_EXPECT_EQ_MSG(test, -EBADMSG,
				    cpns_chachapoly_crypt(cp_key, cp_nonce, &sg,
							  sizeof(cp_aad),
							  CP_TEXT_LEN, false),
				    "flip at %zu", i);
	}

	/* A scatterlist without room for all of the tag. */
	memcpy(buf, cp_aad, sizeof(cp_aad));
	memcpy(buf + sizeof(cp_aad), cp_sealed, sizeof(cp_sealed));
	sg_init_one(&sg, buf, CP_LEN - 1);
	KUNIT_EXPECT_EQ(test, -EINVAL,
			cpns_chachapoly_crypt(cp_key, cp_nonce, &sg,
					      sizeof(cp_aad), CP_TEXT_LEN,
					      false));
	sg_init_one(&sg, buf, 20);
	KUNIT_EXPECT_EQ(test, -EINVAL,
			cpns_chachapoly_crypt(cp_key, cp_nonce, &sg,
					      sizeof(cp_aad), CP_TEXT_LEN,
					      true));
}

static struct kunit_case cpns_chachapoly_cases[] = {
	KUNIT_CASE(cpns_chachapoly_rfc8439),
	KUNIT_CASE(cpns_chachapoly_bytewise),
	KUNIT_CASE(cpns_chachapoly_integrity),
	KUNIT_CASE(cpns_chachapoly_errors),
	{}
};

static struct kunit_suite cpns_chachapoly_suite = {
	.name = "cpns_chachapoly",
	.test_cases = cpns_chachapoly_cases,
};

kunit_test_suites(&cpns_chachapoly_suite);

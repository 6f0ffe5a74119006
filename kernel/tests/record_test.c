// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit: record header checks, seal and open (PROTOCOL.md 2.2, 2.6) against
 * records.json and the header cases of records_receive.json.
 */

#include <crypto/aead.h>
#include <kunit/test.h>
#include <linux/err.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "../crypto.h"
#include "cpns_vectors.h"
#include "suite.h"


static struct cpns_epoch_keys *vec_keys(struct kunit *test, u8 suite,
					const u8 *ts0, u8 epoch)
{
	u8 ts[CPNS_SECRET_LEN], key[CPNS_KEY_LEN], iv[CPNS_NONCE_LEN];
	struct cpns_epoch_keys *keys;
	unsigned int i;

	memcpy(ts, ts0, sizeof(ts));
	for (i = 0; i < epoch; i++)
		cpns_traffic_keys(ts, key, iv, ts);
	keys = cpns_epoch_keys_new(suite, ts, epoch, NULL);
	memzero_explicit(ts, sizeof(ts));
	memzero_explicit(key, sizeof(key));
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, keys);
	return keys;
}

static void vec_rec(const struct cpns_vec_record *v, struct cpns_rec *rec)
{
	rec->type = v->type;
	rec->flags = v->c ? CPNS_FLAG_C : 0;
	rec->suite = v->suite;
	rec->generation = v->generation;
	rec->epoch = v->epoch;
	rec->length = v->payload_len;
	rec->seq = v->seq;
	memcpy(rec->src, v->src, CPNS_ID_LEN);
	memcpy(rec->dst, v->dst, CPNS_ID_LEN);
	rec->src_port = v->src_port;
	rec->dst_port = v->dst_port;
}

/* Every records.json case sealed byte for byte from its inputs. */
static void cpns_record_seal_vectors(struct kunit *test)
{
	const struct cpns_vec_record *v;
	struct cpns_epoch_keys *keys;
	struct cpns_rec rec;
	unsigned int i;
	u8 *buf;

	for (i = 0; i < ARRAY_SIZE(cpns_vec_records); i++) {
		v = &cpns_vec_records[i];
		vec_rec(v, &rec);
		KUNIT_ASSERT_EQ_MSG(test, cpns_rec_len(&rec), v->record_len,
				    "%s", v->name);
		buf = kzalloc(v->record_len, GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);

		cpns_hdr_fill((struct cpns_hdr *)buf, &rec);
		KUNIT_EXPECT_EQ_MSG(test, 0,
				    memcmp(buf, v->header, CPNS_HDR_LEN),
				    "%s: header", v->name);
		memcpy(buf + CPNS_HDR_LEN, v->payload, v->payload_len);

		if (v->suite != CPNS_SUITE_NONE) {
			keys = vec_keys(test, v->suite, v->ts0, v->epoch);
			KUNIT_EXPECT_EQ(test, 0, memcmp(keys->iv, v->iv,
							CPNS_NONCE_LEN));
			KUNIT_EXPECT_EQ_MSG(test, 0,
					    cpns_test_seal(keys, buf,
							   v->record_len),
					    "%s", v->name);
			/* A length that disagrees with the header. */
			KUNIT_EXPECT_EQ(test, -EINVAL,
					cpns_test_seal(keys, buf,
						       v->record_len - 1));
			cpns_epoch_keys_free(keys);
		}
		KUNIT_EXPECT_EQ_MSG(test, 0,
				    memcmp(buf, v->record, v->record_len),
				    "%s: record", v->name);
		kfree(buf);
	}
}

/* Every records.json record passes the header checks and opens. */
static void cpns_record_open_vectors(struct kunit *test)
{
	const struct cpns_vec_record *v;
	struct cpns_epoch_keys *keys;
	struct cpns_rec rec, want;
	unsigned int i;
	u8 *buf;

	for (i = 0; i < ARRAY_SIZE(cpns_vec_records); i++) {
		v = &cpns_vec_records[i];
		buf = kmemdup(v->record, v->record_len, GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
		memset(&rec, 0, sizeof(rec));
		memset(&want, 0, sizeof(want));

		KUNIT_ASSERT_EQ_MSG(test, CPNS_DROP_NONE,
				    cpns_record_check(buf, v->record_len, &rec),
				    "%s", v->name);
		KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE,
				cpns_record_check_suite0(&rec));
		vec_rec(v, &want);
		KUNIT_EXPECT_EQ_MSG(test, 0, memcmp(&rec, &want, sizeof(rec)),
				    "%s: parsed header", v->name);

		if (v->suite != CPNS_SUITE_NONE) {
			keys = vec_keys(test, v->suite, v->ts0, v->epoch);
			KUNIT_EXPECT_EQ_MSG(test, 0,
					    cpns_test_open(keys, buf,
							   v->record_len),
					    "%s", v->name);
			cpns_epoch_keys_free(keys);
		}
		KUNIT_EXPECT_EQ_MSG(test, 0,
				    memcmp(buf + CPNS_HDR_LEN, v->payload,
					   v->payload_len),
				    "%s: payload", v->name);
		kfree(buf);
	}
}

/*
 * Every protected records.json record also opens when its bytes lie in
 * three separate buffers, as in a non-linear skb: the header, the first
 * half of payload || tag, and the rest.
 */
static void cpns_record_open_scattered(struct kunit *test)
{
	const struct cpns_vec_record *v;
	struct cpns_epoch_keys *keys;
	struct scatterlist sg[3];
	size_t cut[3], off;
	u8 *part[3], *out;
	unsigned int i, j;

	for (i = 0; i < ARRAY_SIZE(cpns_vec_records); i++) {
		v = &cpns_vec_records[i];
		if (v->suite == CPNS_SUITE_NONE)
			continue;
		/* The tag makes every part non-empty. */
		cut[0] = CPNS_HDR_LEN;
		cut[1] = (v->record_len - CPNS_HDR_LEN) / 2;
		cut[2] = v->record_len - cut[0] - cut[1];
		sg_init_table(sg, 3);
		for (j = 0, off = 0; j < 3; off += cut[j], j++) {
			part[j] = kunit_kmalloc(test, cut[j], GFP_KERNEL);
			KUNIT_ASSERT_NOT_ERR_OR_NULL(test, part[j]);
			memcpy(part[j], v->record + off, cut[j]);
			sg_set_buf(&sg[j], part[j], cut[j]);
		}

		keys = vec_keys(test, v->suite, v->ts0, v->epoch);
		KUNIT_EXPECT_EQ_MSG(test, 0,
				    cpns_test_crypt(keys, part[0], sg, 3,
						    v->record_len, false,
						    false, NULL),
				    "%s", v->name);
		cpns_epoch_keys_free(keys);

		out = kunit_kmalloc(test, v->record_len, GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, out);
		memcpy(out, part[1], cut[1]);
		memcpy(out + cut[1], part[2], cut[2]);
		KUNIT_EXPECT_EQ_MSG(test, 0,
				    memcmp(out, v->payload, v->payload_len),
				    "%s: payload", v->name);
	}
}

/*
 * The drop reason expected when byte @off of a valid protected record has
 * its low bit flipped: header rules catch the fields they constrain, the
 * tag catches everything else.
 */
static enum cpns_drop flip_reason(const struct cpns_vec_record *v,
				  size_t off)
{
	switch (off) {
	case offsetof(struct cpns_hdr, version):
		return CPNS_DROP_VERSION;
	case offsetof(struct cpns_hdr, type):	/* 1 -> 0, 2 -> 3 */
		return CPNS_DROP_BAD_TYPE;
	case offsetof(struct cpns_hdr, flags):
		return CPNS_DROP_RESERVED;
	case offsetof(struct cpns_hdr, suite):	/* 1 -> 0 has no tag */
		return v->suite == CPNS_SUITE_AES256GCM ? CPNS_DROP_LENGTH :
							  CPNS_DROP_BAD_SUITE;
	case offsetof(struct cpns_hdr, length):
	case offsetof(struct cpns_hdr, length) + 1: {
		/* The flip (XOR 1) of either length byte: step 1b sees a
		 * length over the maximum before step 1c sees a mismatch.
		 */
		size_t len = v->record_len - CPNS_HDR_LEN - CPNS_TAG_LEN;

		len ^= off == offsetof(struct cpns_hdr, length) ? 0x100 : 0x1;
		return len > CPNS_MAX_PAYLOAD ? CPNS_DROP_TOO_BIG :
						CPNS_DROP_LENGTH;
	}
	}
	if (off >= offsetof(struct cpns_hdr, src_port) && off < CPNS_HDR_LEN &&
	    v->type == CPNS_TYPE_HANDSHAKE)
		return CPNS_DROP_BAD_PORT;	/* ports must stay 1 */
	return CPNS_DROP_AUTH;
}

static enum cpns_drop check_and_open(struct kunit *test,
				     struct cpns_epoch_keys *keys,
				     u8 *buf, size_t len)
{
	struct cpns_rec rec;
	enum cpns_drop drop;
	int err;

	drop = cpns_record_check(buf, len, &rec);
	if (drop)
		return drop;
	err = cpns_test_open(keys, buf, len);
	KUNIT_EXPECT_TRUE_MSG(test, !err || err == -EBADMSG, "err %d", err);
	return err ? CPNS_DROP_AUTH : CPNS_DROP_NONE;
}

/* Any single flipped byte fails with the reason of the step that sees it. */
static void cpns_record_flip(struct kunit *test)
{
	const struct cpns_vec_record *v;
	struct cpns_epoch_keys *keys;
	size_t off, step;
	unsigned int i;
	u8 *buf;

	for (i = 0; i < ARRAY_SIZE(cpns_vec_records); i++) {
		v = &cpns_vec_records[i];
		if (v->suite == CPNS_SUITE_NONE)
			continue;
		keys = vec_keys(test, v->suite, v->ts0, v->epoch);
		buf = kmalloc(v->record_len, GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);

		/* Every byte of short records; of the 16 KiB record every
		 * header and tag byte and a spread of payload bytes, to keep
		 * the run short under emulation.
		 */
		for (off = 0; off < v->record_len; off += step) {
			step = 1;
			if (off >= CPNS_HDR_LEN &&
			    off + CPNS_TAG_LEN + 509 < v->record_len &&
			    v->record_len > 1024)
				step = 509;
			memcpy(buf, v->record, v->record_len);
			buf[off] ^= 0x01;
			KUNIT_EXPECT_EQ_MSG(test, flip_reason(v, off),
					    check_and_open(test, keys, buf,
							   v->record_len),
					    "%s: byte %zu", v->name, off);
		}
		/* Unchanged, it still opens: the flips were the cause. */
		memcpy(buf, v->record, v->record_len);
		KUNIT_EXPECT_EQ(test, CPNS_DROP_NONE,
				check_and_open(test, keys, buf, v->record_len));
		kfree(buf);
		cpns_epoch_keys_free(keys);
	}
}

/*
 * Steps 1-4 and 6 on every datagram of records_receive.json: records
 * dropped there must give that reason, every other one must pass them.
 */
static void cpns_record_check_vectors(struct kunit *test)
{
	const struct cpns_vec_rx_step *st;
	const struct cpns_vec_rx_case *c;
	enum cpns_drop want, want0;
	struct cpns_rec rec;
	unsigned int i, j, n = 0;

	for (i = 0; i < ARRAY_SIZE(cpns_vec_rx_cases); i++) {
		c = &cpns_vec_rx_cases[i];
		for (j = 0; j < c->n_steps; j++) {
			st = &c->steps[j];
			want = CPNS_DROP_NONE;
			want0 = CPNS_DROP_NONE;
			if (st->expect == CPNS_VEC_DROP &&
			    st->reason <= CPNS_DROP_BAD_PORT)
				want = st->reason;
			if (st->expect == CPNS_VEC_DROP &&
			    st->reason == CPNS_DROP_SUITE0)
				want0 = CPNS_DROP_SUITE0;

			KUNIT_EXPECT_EQ_MSG(test, want,
					    cpns_record_check(st->record,
							      st->record_len,
							      &rec),
					    "%s step %u", c->name, j);
			if (want)
				n++;
			else
				KUNIT_EXPECT_EQ_MSG(test, want0,
						    cpns_record_check_suite0(&rec),
						    "%s step %u", c->name, j);
		}
	}
	/* The vectors do exercise every header rule. */
	KUNIT_EXPECT_GE(test, n, CPNS_DROP_BAD_PORT - CPNS_DROP_SHORT + 1);
}

/* The record in @buf sealed or opened with SIMD unusable. */
static int run_later(struct cpns_epoch_keys *keys, u8 *buf, size_t len,
		     bool enc, bool *later)
{
	struct scatterlist sg;

	sg_init_one(&sg, buf, len);
	return cpns_test_crypt(keys, buf, &sg, 1, len, enc, true, later);
}

/*
 * The AES-256-GCM records of records.json sealed and opened through an
 * implementation that finishes later: the same bytes, the completion gets
 * the result, a flipped tag fails there. An asynchronous transform must
 * have taken that path (on x86 with AES-NI; a synchronous one never does).
 */
static void cpns_record_aes_later(struct kunit *test)
{
	const struct cpns_vec_record *v;
	struct cpns_epoch_keys *keys;
	unsigned int i, n = 0;
	bool async, later;
	u8 *buf;

	for (i = 0; i < ARRAY_SIZE(cpns_vec_records); i++) {
		v = &cpns_vec_records[i];
		if (v->suite != CPNS_SUITE_AES256GCM)
			continue;
		keys = vec_keys(test, v->suite, v->ts0, v->epoch);
		async = IS_ENABLED(CONFIG_X86) &&
			crypto_aead_alg(keys->aead)->base.cra_flags &
			CRYPTO_ALG_ASYNC;
		buf = kzalloc(v->record_len, GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, buf);
		memcpy(buf, v->header, CPNS_HDR_LEN);
		memcpy(buf + CPNS_HDR_LEN, v->payload, v->payload_len);

		KUNIT_EXPECT_EQ_MSG(test, 0, run_later(keys, buf,
				    v->record_len, true, &later), "%s", v->name);
		KUNIT_EXPECT_EQ_MSG(test, async, later, "%s", v->name);
		KUNIT_EXPECT_EQ_MSG(test, 0,
				    memcmp(buf, v->record, v->record_len),
				    "%s: record", v->name);

		KUNIT_EXPECT_EQ_MSG(test, 0, run_later(keys, buf,
				    v->record_len, false, &later), "%s", v->name);
		KUNIT_EXPECT_EQ(test, async, later);
		KUNIT_EXPECT_EQ_MSG(test, 0, memcmp(buf + CPNS_HDR_LEN,
						    v->payload, v->payload_len),
				    "%s: payload", v->name);

		memcpy(buf, v->record, v->record_len);
		buf[v->record_len - 1] ^= 1;
		KUNIT_EXPECT_EQ_MSG(test, -EBADMSG, run_later(keys, buf,
				    v->record_len, false, &later), "%s", v->name);
		KUNIT_EXPECT_EQ(test, async, later);

		kfree(buf);
		cpns_epoch_keys_free(keys);
		n++;
	}
	KUNIT_EXPECT_GT(test, n, 0);
}

static struct kunit_case cpns_record_cases[] = {
	KUNIT_CASE(cpns_record_seal_vectors),
	KUNIT_CASE(cpns_record_open_vectors),
	KUNIT_CASE(cpns_record_open_scattered),
	KUNIT_CASE(cpns_record_aes_later),
	KUNIT_CASE(cpns_record_flip),
	KUNIT_CASE(cpns_record_check_vectors),
	{}
};

static struct kunit_suite cpns_record_suite = {
	.name = "cpns_record",
	.test_cases = cpns_record_cases,
};

kunit_test_suites(&cpns_record_suite);

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Chunk store and blob writer: identical chunks stored once, zero chunks
 * share one extent, the blob's SHA-256 covers exactly its bytes, holes in a
 * sparse source are not read; the writer's buffer arena survives a full
 * queue and a change of buffer size, and its fingerprint mode gives the
 * XXH3-128 of the bytes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/sha.h>
#include <xxhash.h>

#include "liberofs_chunk.h"
#include "erofs/ondisk.h"

#define CS 8192

static void *chunk(int seed, size_t len)
{
	uint8_t *p = malloc(erofs_round_up(len, 4096));

	assert_non_null(p);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 8));
	return p;
}

static void test_dedup(void **state)
{
	char path[] = "/tmp/test_chunk.XXXXXX";
	int fd = mkstemp(path);
	struct erofs_blob blob;
	struct erofs_chunk_store cs;
	struct erofs_chunk_ref r[6];
	uint8_t md[32], want[32];
	uint8_t *all;

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(
	    erofs_blob_init(&blob, fd, 0, 4096, true, 1 << 20, "blob", NULL),
	    0);
	assert_int_equal(erofs_chunk_store_init(&cs, 12, CS, 1, 0, &blob, NULL),
			 0);
	assert_int_equal(erofs_chunk_put(&cs, chunk(1, CS), CS, CS, &r[0]), 0);
	assert_int_equal(erofs_chunk_put(&cs, chunk(2, CS), CS, CS, &r[1]), 0);
	assert_int_equal(erofs_chunk_put(&cs, chunk(1, CS), CS, CS, &r[2]), 0);
	assert_int_equal(erofs_chunk_put(&cs, calloc(1, CS), CS, CS, &r[3]), 0);
	assert_int_equal(
	    erofs_chunk_put(&cs, calloc(1, 4096), 4096, 100, &r[4]), 0);
	/* same prefix, other length: not the same chunk */
	assert_int_equal(erofs_chunk_put(&cs, chunk(1, CS), CS, 5000, &r[5]),
			 0);
	assert_int_equal(r[0].blkaddr, r[2].blkaddr);
	assert_int_not_equal(r[0].blkaddr, r[1].blkaddr);
	assert_int_equal(r[3].blkaddr, r[4].blkaddr);
	assert_int_not_equal(r[5].blkaddr, r[0].blkaddr);
	for (int i = 0; i < 6; i++)
		assert_int_equal(r[i].device_id, 1);
	assert_int_equal(cs.st.chunks, 6);
	assert_int_equal(cs.st.unique, 3);
	assert_int_equal(cs.st.zero, 2);
	assert_int_equal(cs.st.dedup_hits, 1);
	assert_int_equal(erofs_blob_finish(&blob, md), 0);
	/* 2 data chunks + the zero extent + one 5000-byte chunk in 2 blocks */
	assert_int_equal(blob.size, 3 * CS + 8192);
	all = malloc(blob.size);
	assert_int_equal(pread(fd, all, blob.size, 0), blob.size);
	SHA256(all, blob.size, want);
	assert_memory_equal(md, want, 32);
	/* the stored bytes are the chunk's, zero-padded */
	{
		uint8_t *c = chunk(1, CS);

		assert_memory_equal(all + (uint64_t)r[0].blkaddr * 4096, c, CS);
		assert_memory_equal(all + (uint64_t)r[5].blkaddr * 4096, c,
				    5000);
		for (int i = 5000; i < 8192; i++)
			assert_int_equal(all[r[5].blkaddr * 4096 + i], 0);
		free(c);
	}
	free(all);
	erofs_chunk_store_free(&cs);
	close(fd);
}

/*
 * Many more buffers than the queue holds, from the pool's arena, then a
 * change of buffer size with buffers of the old arena still out; the
 * digest (SHA-256, or the XXH3-128 fingerprint) covers exactly the bytes,
 * holes as zeros, and the file holds them.
 */
static void blob_digest_case(bool fingerprint)
{
	char path[] = "/tmp/test_blob.XXXXXX";
	int fd = mkstemp(path);
	const size_t bs = 65536, n = 100;
	struct erofs_blob b;
	uint8_t md[32], want[32], *all, *held[3];
	uint64_t off, total = 0;

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(
	    erofs_blob_init(&b, fd, 0, 4096, true, 1 << 20, "blob", NULL), 0);
	if (fingerprint)
		assert_int_equal(erofs_blob_fingerprint_only(&b), 0);
	assert_int_equal(erofs_blob_set_pool(&b, bs), 0);
	for (size_t i = 0; i < n; i++) {
		uint8_t *p = erofs_blob_alloc(&b, bs);

		assert_non_null(p);
		memset(p, (int)(i % 251) + 1, bs);
		assert_int_equal(erofs_blob_append(&b, p, bs, bs, &off), 0);
		assert_int_equal(off, total);
		total += bs;
		if (i == n / 2) {
			assert_int_equal(
			    erofs_blob_append_hole(&b, 3 * 4096, &off), 0);
			total += 3 * 4096;
		}
	}
	/* buffers of the old size still out when the size changes */
	for (int i = 0; i < 3; i++) {
		held[i] = erofs_blob_alloc(&b, bs);
		assert_non_null(held[i]);
		memset(held[i], 0xa0 + i, bs);
	}
	assert_int_equal(erofs_blob_set_pool(&b, 2 * bs), 0);
	assert_int_equal(erofs_blob_append(&b, held[0], bs, bs, &off), 0);
	total += bs;
	erofs_blob_release(&b, held[1]);
	for (int i = 0; i < 4; i++) {
		uint8_t *p = erofs_blob_alloc(&b, 2 * bs);

		assert_non_null(p);
		memset(p, 0x50 + i, 2 * bs);
		assert_int_equal(erofs_blob_append(&b, p, 2 * bs, 2 * bs, &off),
				 0);
		total += 2 * bs;
	}
	erofs_blob_release(&b, held[2]);
	assert_int_equal(erofs_blob_finish(&b, md), 0);
	assert_int_equal(b.size, total);
	all = calloc(1, total);
	assert_non_null(all);
	/* a hole at the end of the file would read short: none here */
	assert_int_equal(pread(fd, all, total, 0), total);
	assert_int_equal(all[(n / 2 + 1) * bs + 5], 0);
	assert_int_equal(all[(n / 2 + 1) * bs + 3 * 4096],
			 (n / 2 + 1) % 251 + 1);
	if (fingerprint) {
		XXH128_canonical_t c;

		XXH128_canonicalFromHash(&c, XXH3_128bits(all, total));
		memset(want, 0, sizeof(want));
		memcpy(want, c.digest, 16);
	} else {
		SHA256(all, total, want);
	}
	assert_memory_equal(md, want, 32);
	free(all);
	close(fd);
}

static void test_blob_sha256(void **state)
{
	(void)state;
	blob_digest_case(false);
}

static void test_blob_fingerprint(void **state)
{
	(void)state;
	blob_digest_case(true);
}

/* a second blob: new chunks go there, earlier ones are referenced */
static void test_switch_blob(void **state)
{
	char p1[] = "/tmp/test_chunk_b1.XXXXXX";
	char p2[] = "/tmp/test_chunk_b2.XXXXXX";
	int f1 = mkstemp(p1), f2 = mkstemp(p2);
	struct erofs_blob b1, b2;
	struct erofs_chunk_store cs;
	struct erofs_chunk_ref r[5];

	(void)state;
	assert_true(f1 >= 0 && f2 >= 0);
	unlink(p1);
	unlink(p2);
	assert_int_equal(
	    erofs_blob_init(&b1, f1, 0, 4096, true, 1 << 20, "b1", NULL), 0);
	assert_int_equal(
	    erofs_blob_init(&b2, f2, 0, 4096, true, 1 << 20, "b2", NULL), 0);
	assert_int_equal(erofs_chunk_store_init(&cs, 12, CS, 1, 0, &b1, NULL),
			 0);
	assert_int_equal(erofs_chunk_put(&cs, chunk(1, CS), CS, CS, &r[0]), 0);
	assert_int_equal(erofs_chunk_zero(&cs, CS, &r[1]), 0);
	assert_int_equal(erofs_chunk_store_switch(&cs, &b2, 2, 0), 0);
	assert_int_equal(erofs_chunk_put(&cs, chunk(1, CS), CS, CS, &r[2]), 0);
	assert_int_equal(erofs_chunk_put(&cs, chunk(2, CS), CS, CS, &r[3]), 0);
	assert_int_equal(erofs_chunk_zero(&cs, 100, &r[4]), 0);
	/* the duplicate and the zero chunk stay on blob 1 */
	assert_int_equal(r[2].device_id, 1);
	assert_int_equal(r[2].blkaddr, r[0].blkaddr);
	assert_int_equal(r[4].device_id, 1);
	assert_int_equal(r[4].blkaddr, r[1].blkaddr);
	assert_int_equal(r[3].device_id, 2);
	assert_int_equal(r[3].blkaddr, 0);
	assert_int_equal(cs.st.zero, 2);
	assert_int_equal(cs.st.unique, 2);
	assert_int_equal(erofs_blob_finish(&b1, NULL), 0);
	assert_int_equal(erofs_blob_finish(&b2, NULL), 0);
	assert_int_equal(b1.size, 2 * CS);
	assert_int_equal(b2.size, CS);
	erofs_chunk_store_free(&cs);
	close(f1);
	close(f2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dedup),
	    cmocka_unit_test(test_switch_blob),
	    cmocka_unit_test(test_blob_sha256),
	    cmocka_unit_test(test_blob_fingerprint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

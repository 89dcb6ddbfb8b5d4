// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Chunk store and blob writer: identical chunks stored once, zero chunks
 * share one extent, the blob's SHA-256 covers exactly its bytes, holes in a
 * sparse source are not read.
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
	assert_int_equal(erofs_blob_init(&blob, fd, 0, 4096, true, 1 << 20,
					 "blob", NULL),
			 0);
	assert_int_equal(erofs_chunk_store_init(&cs, 12, CS, 1, 0, &blob,
						NULL),
			 0);
	assert_int_equal(erofs_chunk_put(&cs, chunk(1, CS), CS, CS, &r[0]), 0);
	assert_int_equal(erofs_chunk_put(&cs, chunk(2, CS), CS, CS, &r[1]), 0);
	assert_int_equal(erofs_chunk_put(&cs, chunk(1, CS), CS, CS, &r[2]), 0);
	assert_int_equal(erofs_chunk_put(&cs, calloc(1, CS), CS, CS, &r[3]), 0);
	assert_int_equal(erofs_chunk_put(&cs, calloc(1, 4096), 4096, 100, &r[4]), 0);
	/* same prefix, other length: not the same chunk */
	assert_int_equal(erofs_chunk_put(&cs, chunk(1, CS), CS, 5000, &r[5]), 0);
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

static void test_sparse_source(void **state)
{
	char src[] = "/tmp/test_chunk_src.XXXXXX";
	char dst[] = "/tmp/test_chunk_dst.XXXXXX";
	int sfd = mkstemp(src), dfd = mkstemp(dst);
	struct erofs_blob blob;
	struct erofs_chunk_store cs;
	struct erofs_chunk_ref r[4];
	uint8_t *c = chunk(9, CS);

	assert_true(sfd >= 0 && dfd >= 0);
	unlink(src);
	unlink(dst);
	/* [hole][data][hole][3 bytes] */
	assert_int_equal(pwrite(sfd, c, CS, CS), CS);
	assert_int_equal(pwrite(sfd, "end", 3, 3 * CS), 3);
	assert_int_equal(erofs_blob_init(&blob, dfd, 0, 4096, true, 1 << 20,
					 "blob", NULL),
			 0);
	assert_int_equal(erofs_chunk_store_init(&cs, 12, CS, 0, 100, &blob,
						NULL),
			 0);
	assert_int_equal(erofs_chunk_file(&cs, sfd, "src", 3 * CS + 3, r), 0);
	assert_int_equal(r[0].blkaddr, r[2].blkaddr);	/* zero extent */
	assert_true(r[0].blkaddr >= 100);		/* blk_base applied */
	assert_int_equal(r[1].device_id, 0);
	assert_int_equal(cs.st.zero, 2);
	assert_int_equal(cs.st.unique, 2);
	/* a source shorter than announced is an error, not silent zeros */
	assert_int_equal(erofs_chunk_file(&cs, sfd, "src", 5 * CS, r), -EAGAIN);
	erofs_blob_finish(&blob, NULL);
	erofs_chunk_store_free(&cs);
	free(c);
	close(sfd);
	close(dfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_sparse_source),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

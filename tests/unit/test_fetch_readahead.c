// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the fetch core's adaptive read-ahead
 * (lib/fetch_readahead.c): the window of erofs_fetch_ra_step step by step,
 * and a sequential reader through erofs_fetch_obj_access.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "erofs/fetch.h"
#include "fetch_test_util.h"

static struct erofs_log tlog = {"test_fetch_readahead", EROFS_LOG_ERR, NULL, 0};

/* one step of the adaptive read-ahead: the range it asks for */
static void ra(struct erofs_fetch_ra *r, uint64_t max, uint64_t size,
	       uint64_t off, uint64_t len, uint64_t want_from, uint64_t want_to)
{
	uint64_t from, to;

	erofs_fetch_ra_step(r, MIB, max, size, off, len, &from, &to);
	if (want_from == want_to) {
		if (from != to)
			fail_msg(
			    "[%llu, +%llu): read ahead [%llu, %llu), "
			    "want none",
			    (unsigned long long)off, (unsigned long long)len,
			    (unsigned long long)from, (unsigned long long)to);
		return;
	}
	if (from != want_from || to != want_to)
		fail_msg("[%llu, +%llu): read ahead [%llu, %llu), want "
			 "[%llu, %llu)",
			 (unsigned long long)off, (unsigned long long)len,
			 (unsigned long long)from, (unsigned long long)to,
			 (unsigned long long)want_from,
			 (unsigned long long)want_to);
}

static void test_readahead_window(void **state)
{
	const uint64_t K = 1024, G = 1024 * MIB, max = 16 * MIB;
	struct erofs_fetch_ra r = {0};
	uint64_t off;

	/* a first access is not sequential yet */
	ra(&r, max, G, 0, 16 * K, 0, 0);
	/* the next one continues it: two units beyond its unit */
	ra(&r, max, G, 16 * K, 32 * K, MIB, 3 * MIB);
	/* within what is queued: nothing more */
	ra(&r, max, G, 48 * K, 64 * K, 0, 0);
	ra(&r, max, G, 112 * K, 912 * K, 0, 0);
	/* into unit 1: the window doubles at each top-up */
	ra(&r, max, G, MIB, 128 * K, 3 * MIB, 6 * MIB);
	ra(&r, max, G, MIB + 128 * K, 128 * K, 0, 0);
	ra(&r, max, G, 2 * MIB, 128 * K, 6 * MIB, 11 * MIB);
	ra(&r, max, G, 3 * MIB, 128 * K, 11 * MIB, 20 * MIB);
	/* up to the largest window: 16 units ahead of the reader */
	ra(&r, max, G, 4 * MIB, 128 * K, 20 * MIB, 21 * MIB);
	for (off = 5 * MIB; off < 40 * MIB; off += MIB)
		ra(&r, max, G, off, MIB, off + 16 * MIB, off + 17 * MIB);
	/* a reader that skips ahead, but not past what was read ahead,
	 * is still sequential */
	ra(&r, max, G, 50 * MIB, MIB, 56 * MIB, 67 * MIB);
	/* a jump beyond it is not: the window closes */
	ra(&r, max, G, 100 * MIB, MIB, 0, 0);
	/* and opens again at two units */
	ra(&r, max, G, 101 * MIB, MIB, 102 * MIB, 104 * MIB);
	/* backwards: closed */
	ra(&r, max, G, 10 * MIB, 4 * K, 0, 0);
	ra(&r, max, G, 10 * MIB, 4 * K, 0, 0);

	/* the end of the object: clamped, and no unit-sized top-up needed */
	memset(&r, 0, sizeof(r));
	ra(&r, max, 3 * MIB + 100, 0, MIB, 0, 0);
	ra(&r, max, 3 * MIB + 100, MIB, 4 * K, 2 * MIB, 3 * MIB + 100);
	ra(&r, max, 3 * MIB + 100, 2 * MIB, MIB, 0, 0);
	ra(&r, max, 3 * MIB + 100, 3 * MIB, 200, 0, 0);
	/* an object smaller than one unit */
	memset(&r, 0, sizeof(r));
	ra(&r, max, 5000, 0, 4096, 0, 0);
	ra(&r, max, 5000, 4096, 904, 0, 0);
	/* past the end, or empty: nothing, no state change */
	ra(&r, max, 5000, 5000, 10, 0, 0);
	ra(&r, max, 5000, 0, 0, 0, 0);

	/* max 0: never; a max below one unit means one unit */
	memset(&r, 0, sizeof(r));
	ra(&r, 0, G, 0, MIB, 0, 0);
	ra(&r, 0, G, MIB, MIB, 0, 0);
	memset(&r, 0, sizeof(r));
	ra(&r, 4096, G, 0, MIB, 0, 0);
	ra(&r, 4096, G, MIB, MIB, 2 * MIB, 3 * MIB);
	ra(&r, 4096, G, 2 * MIB, MIB, 3 * MIB, 4 * MIB);

	/* the largest object: nothing wraps */
	memset(&r, 0, sizeof(r));
	off = EROFS_FETCH_MAX_SIZE - 2 * MIB;
	ra(&r, max, EROFS_FETCH_MAX_SIZE, off, MIB, 0, 0);
	ra(&r, max, EROFS_FETCH_MAX_SIZE, off + MIB, MIB, 0, 0);
	ra(&r, max, EROFS_FETCH_MAX_SIZE, off + MIB, UINT64_MAX, 0, 0);
}

/* a sequential reader through erofs_fetch_obj_access: units ahead of it
 * are fetched in the background, right, and a random reader gets none */
static void test_readahead_fetch(void **state)
{
	struct erofs_fetch_config cfg = {
	    .workers = 2, .unit = MIB, .readahead = 4 * MIB, .log = &tlog};
	uint64_t size = 12 * MIB + 5;
	struct erofs_fetch_stats st;
	struct erofs_fetch_info info;
	struct erofs_source *src;
	struct erofs_fetch *f;
	struct erofs_fetch_obj *o;
	struct waiter w;
	struct tmpdir t;
	unsigned char *data;
	int fd, chk;

	tmpdir_make(&t);
	data = write_blob(t.path, "blob1", size, 7);
	assert_int_equal(erofs_source_dir_create(t.path, &tlog, &src), 0);
	assert_int_equal(erofs_fetch_create(&cfg, &src, 1, NULL, &f), 0);
	assert_int_equal(erofs_fetch_lookup(f, "blob1", &info), 0);
	fd = open_out(t.path, "out");
	chk = dup(fd);
	assert_int_equal(erofs_fetch_obj_open(f, "blob1", &info, fd, &o), 0);
	waiter_init(&w);

	/* the first access: nothing present, no read-ahead */
	assert_false(erofs_fetch_obj_access(o, 0, 65536));
	assert_int_equal(erofs_fetch_submit(o, 0, 65536, on_done, &w), 0);
	waiter_wait(&w, 1);
	erofs_fetch_quiesce(f);
	erofs_fetch_get_stats(f, &st);
	assert_int_equal(st.units_fetched, 1);
	assert_int_equal(st.readahead_units, 0);
	/* the next one is present (its unit came with the first) and
	 * opens the window: units 1 and 2 */
	assert_true(erofs_fetch_obj_access(o, 65536, 65536));
	erofs_fetch_quiesce(f);
	erofs_fetch_get_stats(f, &st);
	assert_int_equal(st.readahead_units, 2);
	check_file(chk, data, size, 0, 3 * MIB);
	assert_int_equal(erofs_fetch_obj_missing(o),
			 (size - 3 * MIB + 4095) / 4096);
	/* read on: all present, the window runs ahead to the end */
	for (uint64_t off = MIB; off < size; off += MIB) {
		uint64_t n = size - off < MIB ? size - off : MIB;

		assert_true(erofs_fetch_obj_access(o, off, n));
		erofs_fetch_quiesce(f);
	}
	erofs_fetch_get_stats(f, &st);
	assert_int_equal(st.readahead_units, 12);
	assert_int_equal(st.requests, 1);
	assert_int_equal(erofs_fetch_obj_missing(o), 0);
	check_file(chk, data, size, 0, size);
	erofs_fetch_obj_close(o);

	/* a random reader: no read-ahead */
	close(chk);
	fd = open_out(t.path, "out");
	chk = dup(fd);
	assert_int_equal(erofs_fetch_obj_open(f, "blob1", &info, fd, &o), 0);
	assert_false(erofs_fetch_obj_access(o, 5 * MIB, 4096));
	assert_false(erofs_fetch_obj_access(o, 2 * MIB, 4096));
	assert_false(erofs_fetch_obj_access(o, 9 * MIB, 4096));
	assert_false(erofs_fetch_obj_access(o, MIB, 4096));
	/* past the object's last page (a cachefiles READ may ask that far)
	 * is never present */
	assert_false(erofs_fetch_obj_access(o, 12 * MIB, 65536));
	erofs_fetch_quiesce(f);
	erofs_fetch_get_stats(f, &st);
	assert_int_equal(st.readahead_units, 12);
	assert_int_equal(erofs_fetch_obj_missing(o), (size + 4095) / 4096);
	erofs_fetch_obj_close(o);

	erofs_fetch_destroy(f);
	erofs_source_destroy(src);
	close(chk);
	free(data);
	tmpdir_rm(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_readahead_window),
	    cmocka_unit_test(test_readahead_fetch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

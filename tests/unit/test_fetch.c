// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the fetch core: widening, fetching from a real blob
 * directory into a regular file, failures, coalescing of equal units,
 * parallel service of different objects, seeding from SEEK_DATA, prefetch,
 * latency percentiles and the manifest catalog.
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
#include "erofs/manifest.h"
#include "erofs/util.h"

#define MIB (1u << 20)

static struct erofs_log tlog = {"test_fetch", EROFS_LOG_ERR, NULL, 0};

/* ------------------------------------------------------------------ */
/* helpers                                                             */

struct tmpdir {
	char path[64];
};

static void tmpdir_make(struct tmpdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/test_fetch.XXXXXX");
	assert_non_null(mkdtemp(t->path));
}

static void tmpdir_rm(struct tmpdir *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->path);
	assert_int_equal(system(cmd), 0);
}

/* deterministic pseudo-random bytes that differ per offset */
static void fill_pattern(unsigned char *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = x;
	}
}

static unsigned char *write_blob(const char *dir, const char *name, size_t size,
				 uint32_t seed)
{
	unsigned char *data = malloc(size ? size : 1);
	char path[256];
	int fd;

	assert_non_null(data);
	fill_pattern(data, size, seed);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(erofs_pwrite_all(fd, data, size, 0), 0);
	close(fd);
	return data;
}

static int open_out(const char *dir, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	return fd;
}

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int done, failed;
};

static void waiter_init(struct waiter *w)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->done = w->failed = 0;
}

static void on_done(void *arg, struct erofs_fetch_obj *o, int err)
{
	struct waiter *w = arg;

	pthread_mutex_lock(&w->lock);
	w->done++;
	if (err)
		w->failed++;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

/* waits for @n completions; the deadline only guards against a hang */
static void waiter_wait(struct waiter *w, unsigned int n)
{
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 120;
	pthread_mutex_lock(&w->lock);
	while (w->done < n) {
		int r = pthread_cond_timedwait(&w->cond, &w->lock, &dl);

		if (r == ETIMEDOUT) {
			pthread_mutex_unlock(&w->lock);
			fail_msg("hang: %u of %u requests completed", w->done,
				 n);
		}
	}
	pthread_mutex_unlock(&w->lock);
}

/* ------------------------------------------------------------------ */
/* a source whose reads of one name block until released               */

struct gate_src {
	struct erofs_source src;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	const char *gated; /* reads of this path block */
	bool open;
	int fail; /* reads return this after the gate */
	unsigned int reads, waiting;
	uint64_t size;
};

static int gate_size(struct erofs_source *src, const char *path, uint64_t *size)
{
	struct gate_src *g = src->priv;

	*size = g->size;
	return 0;
}

static int gate_read(struct erofs_source *src, const char *path, uint64_t off,
		     size_t len, void *buf)
{
	struct gate_src *g = src->priv;

	pthread_mutex_lock(&g->lock);
	g->reads++;
	if (g->gated && !strcmp(path, g->gated)) {
		g->waiting++;
		pthread_cond_broadcast(&g->cond);
		while (!g->open)
			pthread_cond_wait(&g->cond, &g->lock);
		g->waiting--;
	}
	if (g->fail) {
		pthread_mutex_unlock(&g->lock);
		return g->fail;
	}
	pthread_mutex_unlock(&g->lock);
	fill_pattern(buf, len, (uint32_t)off);
	return 0;
}

static void gate_destroy(struct erofs_source *src)
{
}

static const struct erofs_source_ops gate_ops = {
    .size = gate_size,
    .read = gate_read,
    .destroy = gate_destroy,
};

static void gate_init(struct gate_src *g, const char *gated, uint64_t size)
{
	memset(g, 0, sizeof(*g));
	g->src.ops = &gate_ops;
	g->src.desc = "gate";
	g->src.log = &tlog;
	g->src.priv = g;
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->cond, NULL);
	g->gated = gated;
	g->size = size;
}

static void gate_release(struct gate_src *g)
{
	pthread_mutex_lock(&g->lock);
	g->open = true;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->lock);
}

static void gate_wait_blocked(struct gate_src *g, unsigned int n)
{
	pthread_mutex_lock(&g->lock);
	while (g->waiting < n)
		pthread_cond_wait(&g->cond, &g->lock);
	pthread_mutex_unlock(&g->lock);
}

/* ------------------------------------------------------------------ */

static void test_widen(void **state)
{
	uint64_t s, e;

	/* inside a big object: one aligned unit */
	erofs_fetch_widen(4096, 4096, MIB, 10 * MIB, &s, &e);
	assert_int_equal(s, 0);
	assert_int_equal(e, MIB);
	/* the last unit is clamped to the page-rounded size */
	erofs_fetch_widen(MIB + 4096, 4096, MIB, MIB + 5000, &s, &e);
	assert_int_equal(s, MIB);
	assert_int_equal(e, MIB + 8192);
	/* past the last page: the request's pages are still covered */
	erofs_fetch_widen(MIB + 8192, 4096, MIB, MIB + 5000, &s, &e);
	assert_int_equal(s, MIB);
	assert_int_equal(e, MIB + 12288);
	/* a request crossing a unit boundary covers both units */
	erofs_fetch_widen(MIB - 4096, 8192, MIB, 10 * MIB, &s, &e);
	assert_int_equal(s, 0);
	assert_int_equal(e, 2 * MIB);
	/* entirely past the end: never shorter than the request */
	erofs_fetch_widen(3 * MIB, 4096, MIB, MIB + 100, &s, &e);
	assert_int_equal(s, 3 * MIB);
	assert_int_equal(e, 3 * MIB + 4096);
	/* an unaligned request end is rounded up to a page */
	erofs_fetch_widen(0, 100, 4096, 1 << 30, &s, &e);
	assert_int_equal(s, 0);
	assert_int_equal(e, 4096);
	/* small unit: exact units */
	erofs_fetch_widen(20480, 4096, 16384, 1 << 30, &s, &e);
	assert_int_equal(s, 16384);
	assert_int_equal(e, 32768);
	/*
	 * The object ends inside the unit, two pages past the request: the
	 * range reaches the object's last page (a widening that stops one
	 * page short leaves it for another request).
	 */
	erofs_fetch_widen(MIB + 4096, 4096, MIB, MIB + 10000, &s, &e);
	assert_int_equal(s, MIB);
	assert_int_equal(e, MIB + 12288);
	/* sizes near 2^64 saturate instead of wrapping to a short range */
	erofs_fetch_widen(0, 4096, MIB, UINT64_MAX, &s, &e);
	assert_int_equal(s, 0);
	assert_int_equal(e, MIB);
	erofs_fetch_widen(UINT64_MAX - 8191, 4096, MIB, UINT64_MAX - 100, &s,
			  &e);
	assert_true(e >= s);
	assert_true(s >= UINT64_MAX - 8191 - MIB);
}

static void check_file(int fd, const unsigned char *data, uint64_t size,
		       uint64_t from, uint64_t to)
{
	unsigned char *buf = malloc(to - from);
	ssize_t n;

	assert_non_null(buf);
	n = erofs_pread_all(fd, buf, to - from, from);
	assert_int_equal(n, to - from);
	for (uint64_t i = from; i < to; i++) {
		unsigned char want = i < size ? data[i] : 0;

		if (buf[i - from] != want)
			fail_msg("byte %llu: %u, want %u",
				 (unsigned long long)i, buf[i - from], want);
	}
	free(buf);
}

static void test_dir_fetch(void **state)
{
	struct erofs_fetch_config cfg = {
	    .workers = 3, .unit = MIB, .log = &tlog};
	uint64_t size = 3 * MIB + 123;
	struct erofs_fetch_stats st;
	struct erofs_fetch_info info;
	struct erofs_source *src;
	struct erofs_fetch *f;
	struct erofs_fetch_obj *o;
	struct waiter w;
	struct tmpdir t;
	unsigned char *data;
	struct stat sb;
	int fd, chk;

	tmpdir_make(&t);
	data = write_blob(t.path, "blob1", size, 1);
	assert_int_equal(erofs_source_dir_create(t.path, &tlog, &src), 0);
	assert_int_equal(erofs_fetch_create(&cfg, &src, 1, NULL, &f), 0);

	assert_int_equal(erofs_fetch_lookup(f, "nope", &info), -ENOENT);
	assert_int_equal(erofs_fetch_lookup(f, "../etc", &info), -ENOENT);
	assert_int_equal(erofs_fetch_lookup(f, "blob1", &info), 0);
	assert_int_equal(info.size, size);
	assert_string_equal(info.path, "blob1");

	fd = open_out(t.path, "out");
	chk = dup(fd);
	assert_int_equal(erofs_fetch_obj_open(f, "blob1", &info, fd, &o), 0);
	assert_int_equal(erofs_fetch_obj_missing(o),
			 erofs_div_round_up(size, 4096));
	waiter_init(&w);
	/* first page of unit 0, twice; the last page (past EOF tail) */
	assert_int_equal(erofs_fetch_submit(o, 0, 4096, on_done, &w), 0);
	assert_int_equal(erofs_fetch_submit(o, 8192, 4096, on_done, &w), 0);
	assert_int_equal(erofs_fetch_submit(o, 3 * MIB, 4096, on_done, &w), 0);
	waiter_wait(&w, 3);
	assert_int_equal(w.failed, 0);

	/* unit 0 and the clamped last unit are complete, the rest not */
	check_file(chk, data, size, 0, MIB);
	check_file(chk, data, size, 3 * MIB, 3 * MIB + 4096);
	assert_int_equal(fstat(chk, &sb), 0);
	assert_int_equal(sb.st_size, 3 * MIB + 4096);
	assert_int_equal(erofs_fetch_obj_missing(o), 2 * MIB / 4096);
	erofs_fetch_get_stats(f, &st);
	assert_int_equal(st.requests, 3);
	assert_int_equal(st.units_fetched, 2);
	assert_int_equal(st.bytes_fetched, MIB + 123);
	assert_int_equal(st.bytes_written, MIB + 4096);
	assert_int_equal(st.lat_count, 3);

	/* synchronous path fills the middle */
	assert_int_equal(erofs_fetch_range_sync(o, MIB, 2 * MIB), 0);
	check_file(chk, data, size, 0, 3 * MIB + 4096);
	assert_int_equal(erofs_fetch_obj_missing(o), 0);

	erofs_fetch_obj_close(o);
	erofs_fetch_destroy(f);
	erofs_source_destroy(src);
	close(chk);
	free(data);
	tmpdir_rm(&t);
}

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

static void test_failing_source(void **state)
{
	struct erofs_fetch_config cfg = {.workers = 2, .log = &tlog};
	struct erofs_fetch_info info;
	struct erofs_source *src;
	struct erofs_fetch *f;
	struct erofs_fetch_obj *o;
	struct erofs_fetch_stats st;
	struct waiter w;
	struct tmpdir t;
	char path[256];
	struct stat sb;
	int fd, chk;

	tmpdir_make(&t);
	free(write_blob(t.path, "gone", 10000, 2));
	assert_int_equal(erofs_source_dir_create(t.path, &tlog, &src), 0);
	assert_int_equal(erofs_fetch_create(&cfg, &src, 1, NULL, &f), 0);
	assert_int_equal(erofs_fetch_lookup(f, "gone", &info), 0);
	snprintf(path, sizeof(path), "%s/gone", t.path);
	assert_int_equal(unlink(path), 0);

	fd = open_out(t.path, "out");
	chk = dup(fd);
	assert_int_equal(erofs_fetch_obj_open(f, "gone", &info, fd, &o), 0);
	waiter_init(&w);
	assert_int_equal(erofs_fetch_submit(o, 0, 4096, on_done, &w), 0);
	waiter_wait(&w, 1);
	assert_int_equal(w.failed, 1);
	assert_int_equal(fstat(chk, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	erofs_fetch_get_stats(f, &st);
	assert_int_equal(st.failed, 1);
	assert_int_equal(st.source_errors, 1);
	/* bad ranges are refused up front */
	assert_int_equal(erofs_fetch_submit(o, 0, 0, on_done, &w), -EINVAL);

	erofs_fetch_obj_close(o);
	erofs_fetch_destroy(f);
	erofs_source_destroy(src);
	close(chk);
	tmpdir_rm(&t);
}

static void test_coalesce(void **state)
{
	struct erofs_fetch_config cfg = {
	    .workers = 4, .unit = MIB, .log = &tlog};
	struct erofs_fetch_info info = {"obj", 4 * MIB};
	struct erofs_source *srcp;
	struct erofs_fetch_stats st;
	struct erofs_fetch *f;
	struct erofs_fetch_obj *o;
	struct gate_src g;
	struct waiter w;
	struct tmpdir t;
	unsigned char *want;
	int chk;

	tmpdir_make(&t);
	gate_init(&g, "obj", 4 * MIB);
	srcp = &g.src;
	assert_int_equal(erofs_fetch_create(&cfg, &srcp, 1, NULL, &f), 0);
	chk = open_out(t.path, "out");
	assert_int_equal(erofs_fetch_obj_open(f, "obj", &info, dup(chk), &o),
			 0);
	waiter_init(&w);
	/* four requests in unit 1, first one blocks inside the source */
	assert_int_equal(erofs_fetch_submit(o, MIB, 4096, on_done, &w), 0);
	gate_wait_blocked(&g, 1);
	for (int i = 1; i < 4; i++)
		assert_int_equal(
		    erofs_fetch_submit(o, MIB + i * 65536, 4096, on_done, &w),
		    0);
	gate_release(&g);
	waiter_wait(&w, 4);
	assert_int_equal(w.failed, 0);
	/* the unit was fetched exactly once */
	assert_int_equal(g.reads, 1);
	erofs_fetch_get_stats(f, &st);
	assert_int_equal(st.units_fetched, 1);
	assert_int_equal(st.units_coalesced + st.units_hit, 3);
	want = malloc(MIB);
	assert_non_null(want);
	fill_pattern(want, MIB, MIB);
	{
		unsigned char *got = malloc(MIB);

		assert_non_null(got);
		assert_int_equal(erofs_pread_all(chk, got, MIB, MIB), MIB);
		assert_memory_equal(got, want, MIB);
		free(got);
	}
	free(want);
	erofs_fetch_obj_close(o);
	erofs_fetch_destroy(f);
	close(chk);
	tmpdir_rm(&t);
}

static void test_shared_failure(void **state)
{
	struct erofs_fetch_config cfg = {
	    .workers = 3, .unit = MIB, .log = &tlog};
	struct erofs_fetch_info info = {"obj", 2 * MIB};
	struct erofs_source *srcp;
	struct erofs_fetch *f;
	struct erofs_fetch_obj *o;
	struct gate_src g;
	struct waiter w, w2;
	struct tmpdir t;

	tmpdir_make(&t);
	gate_init(&g, "obj", 2 * MIB);
	g.fail = -EIO;
	srcp = &g.src;
	assert_int_equal(erofs_fetch_create(&cfg, &srcp, 1, NULL, &f), 0);
	assert_int_equal(
	    erofs_fetch_obj_open(f, "obj", &info, open_out(t.path, "o"), &o),
	    0);
	waiter_init(&w);
	assert_int_equal(erofs_fetch_submit(o, 0, 4096, on_done, &w), 0);
	gate_wait_blocked(&g, 1);
	assert_int_equal(erofs_fetch_submit(o, 8192, 4096, on_done, &w), 0);
	assert_int_equal(erofs_fetch_submit(o, 65536, 4096, on_done, &w), 0);
	gate_release(&g);
	waiter_wait(&w, 3);
	/* everyone failed, and the failing unit was not hammered: each
	 * waiter shares the outcome or (if it came after) tries once */
	assert_int_equal(w.failed, 3);
	assert_true(g.reads >= 1 && g.reads <= 3);
	/* a later request tries again, and succeeds once the source does */
	g.fail = 0;
	waiter_init(&w2);
	assert_int_equal(erofs_fetch_submit(o, 0, 4096, on_done, &w2), 0);
	waiter_wait(&w2, 1);
	assert_int_equal(w2.failed, 0);
	assert_int_equal(erofs_fetch_obj_missing(o), MIB / 4096);
	erofs_fetch_obj_close(o);
	erofs_fetch_destroy(f);
	tmpdir_rm(&t);
}

static void test_parallel_objects(void **state)
{
	struct erofs_fetch_config cfg = {
	    .workers = 2, .unit = 65536, .log = &tlog};
	struct erofs_fetch_info si = {"slow", MIB}, fi = {"fast", MIB};
	struct erofs_source *srcp;
	struct erofs_fetch *f;
	struct erofs_fetch_obj *slow, *fast;
	struct gate_src g;
	struct waiter ws, wf;
	struct tmpdir t;

	tmpdir_make(&t);
	gate_init(&g, "slow", MIB);
	srcp = &g.src;
	assert_int_equal(erofs_fetch_create(&cfg, &srcp, 1, NULL, &f), 0);
	assert_int_equal(
	    erofs_fetch_obj_open(f, "slow", &si, open_out(t.path, "s"), &slow),
	    0);
	assert_int_equal(
	    erofs_fetch_obj_open(f, "fast", &fi, open_out(t.path, "f"), &fast),
	    0);
	waiter_init(&ws);
	waiter_init(&wf);
	assert_int_equal(erofs_fetch_submit(slow, 0, 4096, on_done, &ws), 0);
	gate_wait_blocked(&g, 1);
	/* served by the other worker while the first is stuck */
	assert_int_equal(erofs_fetch_submit(fast, 0, 4096, on_done, &wf), 0);
	assert_int_equal(erofs_fetch_submit(fast, 65536, 4096, on_done, &wf),
			 0);
	waiter_wait(&wf, 2);
	assert_int_equal(ws.done, 0);
	gate_release(&g);
	waiter_wait(&ws, 1);
	assert_int_equal(ws.failed + wf.failed, 0);
	erofs_fetch_obj_close(slow);
	erofs_fetch_obj_close(fast);
	erofs_fetch_destroy(f);
	tmpdir_rm(&t);
}

static void test_seed_and_prefetch(void **state)
{
	struct erofs_fetch_config cfg = {
	    .workers = 2, .unit = MIB, .log = &tlog};
	uint64_t size = 4 * MIB - 1000;
	struct erofs_fetch_info info;
	struct erofs_fetch_stats st;
	struct erofs_source *src;
	struct erofs_fetch *f;
	struct erofs_fetch_obj *o;
	struct waiter w;
	struct tmpdir t;
	unsigned char *data;
	int chk;

	tmpdir_make(&t);
	data = write_blob(t.path, "b", size, 3);
	assert_int_equal(erofs_source_dir_create(t.path, &tlog, &src), 0);
	assert_int_equal(erofs_fetch_create(&cfg, &src, 1, NULL, &f), 0);
	assert_int_equal(erofs_fetch_lookup(f, "b", &info), 0);
	/* an earlier run left unit 1 in the cache file */
	chk = open_out(t.path, "out");
	assert_int_equal(erofs_pwrite_all(chk, data + MIB, MIB, MIB), 0);
	assert_int_equal(erofs_fetch_obj_open(f, "b", &info, dup(chk), &o), 0);
	/* tmpfs/ext4 report data at page granularity at least */
	assert_int_equal(erofs_fetch_obj_missing(o),
			 erofs_div_round_up(size, 4096) - MIB / 4096);
	waiter_init(&w);
	assert_int_equal(erofs_fetch_submit(o, MIB + 4096, 4096, on_done, &w),
			 0);
	waiter_wait(&w, 1);
	erofs_fetch_get_stats(f, &st);
	assert_int_equal(st.units_fetched, 0);
	assert_int_equal(st.units_hit, 1);

	erofs_fetch_prefetch(o);
	erofs_fetch_quiesce(f);
	assert_int_equal(erofs_fetch_obj_missing(o), 0);
	erofs_fetch_get_stats(f, &st);
	assert_int_equal(st.prefetch_units, 3);
	check_file(chk, data, size, 0, erofs_round_up(size, 4096));

	erofs_fetch_obj_close(o);
	erofs_fetch_destroy(f);
	erofs_source_destroy(src);
	close(chk);
	free(data);
	tmpdir_rm(&t);
}

static void test_percentiles(void **state)
{
	struct erofs_fetch_stats s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(erofs_fetch_stats_percentile(&s, 50), 0);
	for (uint64_t v = 1; v <= 1000; v++)
		erofs_fetch_stats_record(&s, v);
	assert_int_equal(s.lat_count, 1000);
	assert_int_equal(s.lat_max_us, 1000);
	/* buckets are 1/8 octave wide: never below the true value, at most
	 * 12.5% above */
	for (int pct = 10; pct <= 100; pct += 10) {
		uint64_t p = erofs_fetch_stats_percentile(&s, pct);
		uint64_t truth = pct * 10;

		assert_true(p >= truth);
		assert_true(p * 8 <= truth * 9);
	}
	assert_int_equal(erofs_fetch_stats_percentile(&s, 100), 1000);
	/* small values are exact */
	memset(&s, 0, sizeof(s));
	erofs_fetch_stats_record(&s, 3);
	erofs_fetch_stats_record(&s, 5);
	assert_int_equal(erofs_fetch_stats_percentile(&s, 50), 3);
	assert_int_equal(erofs_fetch_stats_percentile(&s, 99), 5);
	/* huge values do not overflow the table */
	erofs_fetch_stats_record(&s, UINT64_MAX / 2);
	assert_int_equal(erofs_fetch_stats_percentile(&s, 100), UINT64_MAX / 2);
}

static void test_catalog(void **state)
{
	struct erofs_manifest_blob blobs[2];
	struct erofs_manifest m;
	struct erofs_fetch_catalog c;
	const struct erofs_fetch_entry *e;

	memset(&m, 0, sizeof(m));
	memset(blobs, 0, sizeof(blobs));
	m.bootstrap_path = "/abs/dir/boot.img";
	m.bootstrap_size = 8192;
	m.fsid = "fromcookies";
	m.nr_blobs = 2;
	m.blobs = blobs;
	strcpy(blobs[0].tag, "aaaa");
	blobs[0].path = "blobs/aaaa.blob";
	blobs[0].size = 100;
	strcpy(blobs[1].tag, "bbbb");
	blobs[1].path = "../x/bbbb.blob";
	blobs[1].size = 200;

	assert_int_equal(
	    erofs_fetch_catalog_from_manifest(&m, "myfs", &tlog, &c), 0);
	assert_int_equal(c.nr, 3);
	e = erofs_fetch_catalog_find(&c, "myfs");
	assert_non_null(e);
	assert_string_equal(e->path, "boot.img");
	assert_int_equal(e->size, 8192);
	assert_null(erofs_fetch_catalog_find(&c, "fromcookies"));
	e = erofs_fetch_catalog_find(&c, "aaaa");
	assert_non_null(e);
	assert_string_equal(e->path, "blobs/aaaa.blob");
	e = erofs_fetch_catalog_find(&c, "bbbb");
	assert_non_null(e);
	assert_string_equal(e->path, "bbbb.blob");
	assert_int_equal(e->size, 200);
	erofs_fetch_catalog_free(&c);

	/* without --fsid the cookie table's fsid names the bootstrap */
	assert_int_equal(erofs_fetch_catalog_from_manifest(&m, NULL, &tlog, &c),
			 0);
	assert_non_null(erofs_fetch_catalog_find(&c, "fromcookies"));
	erofs_fetch_catalog_free(&c);

	/* a tag equal to the fsid is a duplicate */
	assert_int_equal(
	    erofs_fetch_catalog_from_manifest(&m, "aaaa", &tlog, &c), -EINVAL);
	/* bad name */
	assert_int_equal(
	    erofs_fetch_catalog_from_manifest(&m, "a/b", &tlog, &c), -EINVAL);
}

static void test_size_limits(void **state)
{
	struct erofs_fetch_config cfg = {.workers = 1, .log = &tlog};
	struct erofs_fetch_info info;
	struct erofs_source *src;
	struct erofs_fetch *f;
	struct erofs_fetch_obj *o;
	struct tmpdir t;
	char p[128];
	int fd;

	tmpdir_make(&t);
	assert_int_equal(erofs_source_dir_create(t.path, &tlog, &src), 0);
	assert_int_equal(erofs_fetch_create(&cfg, &src, 1, NULL, &f), 0);
	/* an object size near 2^64 is refused, not rounded to 0 pages */
	snprintf(info.path, sizeof(info.path), "x");
	info.size = UINT64_MAX;
	fd = open_out(t.path, "out");
	assert_int_equal(erofs_fetch_obj_open(f, "x", &info, fd, &o), -EFBIG);
	/* the fd was the object's: closed on failure */
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	info.size = 1ull << 62;
	fd = open_out(t.path, "out2");
	assert_int_equal(erofs_fetch_obj_open(f, "x", &info, fd, &o), -EFBIG);
	info.size = EROFS_FETCH_MAX_SIZE + 1;
	fd = open_out(t.path, "out3");
	assert_int_equal(erofs_fetch_obj_open(f, "x", &info, fd, &o), -EFBIG);
	/* a sparse source file beyond the limit, where the fs allows it */
	snprintf(p, sizeof(p), "%s/sparse", t.path);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	if (!ftruncate(fd, EROFS_FETCH_MAX_SIZE + 4096))
		assert_int_equal(erofs_fetch_lookup(f, "sparse", &info),
				 -EFBIG);
	close(fd);
	erofs_fetch_destroy(f);
	erofs_source_destroy(src);
	tmpdir_rm(&t);
}

static void test_fifo_source(void **state)
{
	struct erofs_fetch_config cfg = {.workers = 1, .log = &tlog};
	struct erofs_manifest_blob blobs[1];
	struct erofs_manifest m;
	struct erofs_fetch_catalog c;
	struct erofs_fetch_info info;
	struct erofs_source *src;
	struct erofs_fetch *f;
	struct erofs_fetch_obj *o;
	struct tmpdir t;
	char p[128];

	tmpdir_make(&t);
	snprintf(p, sizeof(p), "%s/fifo", t.path);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(erofs_source_dir_create(t.path, &tlog, &src), 0);
	/* sized from the source: refused, not blocked in open() */
	assert_int_equal(erofs_fetch_create(&cfg, &src, 1, NULL, &f), 0);
	assert_int_equal(erofs_fetch_lookup(f, "fifo", &info), -EINVAL);
	erofs_fetch_destroy(f);
	/* named by a manifest: the read in the worker is refused */
	memset(&m, 0, sizeof(m));
	memset(blobs, 0, sizeof(blobs));
	m.nr_blobs = 1;
	m.blobs = blobs;
	strcpy(blobs[0].tag, "tag");
	blobs[0].path = "fifo";
	blobs[0].size = 8192;
	assert_int_equal(erofs_fetch_catalog_from_manifest(&m, NULL, &tlog, &c),
			 0);
	assert_int_equal(erofs_fetch_create(&cfg, &src, 1, &c, &f), 0);
	assert_int_equal(erofs_fetch_lookup(f, "tag", &info), 0);
	assert_int_equal(
	    erofs_fetch_obj_open(f, "tag", &info, open_out(t.path, "out"), &o),
	    0);
	assert_int_equal(erofs_fetch_range_sync(o, 0, 4096), -EINVAL);
	erofs_fetch_obj_close(o);
	erofs_fetch_destroy(f);
	erofs_fetch_catalog_free(&c);
	erofs_source_destroy(src);
	tmpdir_rm(&t);
}

/* ------------------------------------------------------------------ */
/* manifest loading                                                    */

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(const char *text)
{
	struct erofs_manifest m;
	int err = erofs_manifest_parse(&m, text, strlen(text), "t", &tlog);

	if (!err)
		erofs_manifest_free(&m);
	return err;
}

static char *manifest_text(const char *boot_size, const char *blob_size,
			   const char *tail)
{
	char *s;

	assert_true(asprintf(&s,
			     "{\"format\":\"erofs-ondemand-manifest\","
			     "\"version\":1,\"block_size\":4096,"
			     "\"chunk_size\":65536,\"bootstrap\":{\"path\":"
			     "\"b\",\"size\":%s,\"sha256\":\"" SHA "\"},"
			     "\"blobs\":[{\"tag\":\"t1\",\"size\":%s,"
			     "\"sha256\":\"" SHA "\",\"path\":\"p\"}]}%s",
			     boot_size, blob_size, tail) > 0);
	return s;
}

static void test_manifest_sizes(void **state)
{
	static const char *const bad[] = {
	    "18446744073709551615",	  /* 2^64 - 1 */
	    "18446744073709551616",	  /* clamped by json-c */
	    "12345678901234567890123456", /* 26 digits, clamped */
	    "4611686018427387904",	  /* 2^62 */
	    "17592186040321",		  /* (2^32 - 1) * 4096 + 1 */
	    "-1",
	    "1.5",
	    "\"5\"",
	};
	struct erofs_manifest m;
	char *s;

	s = manifest_text("8192", "17592186040320", "");
	assert_int_equal(erofs_manifest_parse(&m, s, strlen(s), "t", &tlog), 0);
	assert_int_equal(m.blobs[0].size, 17592186040320ull);
	assert_int_equal(m.blobs[0].blocks, UINT32_MAX);
	erofs_manifest_free(&m);
	free(s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = manifest_text("8192", bad[i], "");
		assert_true(parse(s) < 0);
		free(s);
		s = manifest_text(bad[i], "8192", "");
		assert_true(parse(s) < 0);
		free(s);
	}
}

static void test_manifest_syntax(void **state)
{
	char *s;

	/* whitespace after the object is fine, anything else is not */
	s = manifest_text("8192", "8192", " \n\t\r\n");
	assert_int_equal(parse(s), 0);
	free(s);
	s = manifest_text("8192", "8192", "x");
	assert_int_equal(parse(s), -EINVAL);
	free(s);
	s = manifest_text("8192", "8192", "{}");
	assert_int_equal(parse(s), -EINVAL);
	free(s);
	s = manifest_text("8192", "8192", "\n]");
	assert_int_equal(parse(s), -EINVAL);
	free(s);
	/* a NUL in the middle does not end the text early */
	s = manifest_text("8192", "8192", " ");
	s[strlen(s) - 1] = '\0';
	assert_int_equal(erofs_manifest_parse(&(struct erofs_manifest){0}, s,
					      strlen(s) + 1, "t", &tlog),
			 -EINVAL);
	free(s);
	assert_int_equal(parse(""), -EINVAL);
	assert_int_equal(parse("[]"), -EINVAL);
	assert_int_equal(parse("{\"format\":\"erofs-ondemand-manifest\""),
			 -EINVAL);
	/* "blocks", when given, must match the size */
	s = manifest_text("8192", "8192,\"blocks\":2", "");
	assert_int_equal(parse(s), 0);
	free(s);
	s = manifest_text("8192", "8192,\"blocks\":3", "");
	assert_int_equal(parse(s), -EINVAL);
	free(s);
}

/* a manifest of @n blobs: "{...,"blobs":[...]}" */
static char *many_blobs(unsigned int n, size_t *len)
{
	size_t cap = 256 + (size_t)n * 160, off;
	char *s = malloc(cap);

	assert_non_null(s);
	off = snprintf(s, cap,
		       "{\"format\":\"erofs-ondemand-manifest\",\"version\":1,"
		       "\"block_size\":4096,\"chunk_size\":0,\"bootstrap\":{"
		       "\"path\":\"b\",\"size\":4096,\"sha256\":\"" SHA
		       "\"},\"cookies\":{\"fsid\":\"fs\"},\"blobs\":[");
	for (unsigned int i = 0; i < n; i++)
		off += snprintf(s + off, cap - off,
				"%s{\"tag\":\"t%u\",\"size\":4096,\"sha256\":"
				"\"" SHA "\",\"path\":\"p%u\"}",
				i ? "," : "", i, i);
	off += snprintf(s + off, cap - off, "]}");
	*len = off;
	return s;
}

static void test_manifest_limits(void **state)
{
	struct erofs_manifest m;
	struct erofs_fetch_catalog c;
	const struct erofs_fetch_entry *e;
	size_t len;
	char *s;

	/* the most blobs a device table holds: loads, every one is found */
	s = many_blobs(EROFS_MANIFEST_MAX_BLOBS, &len);
	assert_int_equal(erofs_manifest_parse(&m, s, len, "t", &tlog), 0);
	free(s);
	assert_int_equal(m.nr_blobs, EROFS_MANIFEST_MAX_BLOBS);
	assert_int_equal(erofs_fetch_catalog_from_manifest(&m, NULL, &tlog, &c),
			 0);
	assert_int_equal(c.nr, EROFS_MANIFEST_MAX_BLOBS + 1);
	for (unsigned int i = 0; i < EROFS_MANIFEST_MAX_BLOBS; i += 997) {
		char tag[16];

		snprintf(tag, sizeof(tag), "t%u", i);
		e = erofs_fetch_catalog_find(&c, tag);
		assert_non_null(e);
		assert_int_equal(atoi(e->path + 1), i);
	}
	assert_non_null(erofs_fetch_catalog_find(&c, "fs"));
	assert_null(erofs_fetch_catalog_find(&c, "t65535"));
	erofs_fetch_catalog_free(&c);
	/* a duplicate tag among many is still found */
	strcpy(m.blobs[40000].tag, "t12");
	assert_int_equal(erofs_fetch_catalog_from_manifest(&m, NULL, &tlog, &c),
			 -EINVAL);
	erofs_manifest_free(&m);

	/* one more: refused */
	s = many_blobs(EROFS_MANIFEST_MAX_BLOBS + 1, &len);
	assert_int_equal(erofs_manifest_parse(&m, s, len, "t", &tlog), -E2BIG);
	free(s);

	/* 10^6 objects are refused before json-c builds any of them */
	s = malloc(1000000 * 3 + 64);
	assert_non_null(s);
	len = sprintf(s, "{\"blobs\":[{}");
	for (unsigned int i = 1; i < 1000000; i++)
		len += sprintf(s + len, ",{}");
	len += sprintf(s + len, "]}");
	assert_int_equal(erofs_manifest_parse(&m, s, len, "t", &tlog), -E2BIG);
	free(s);
}

static void test_manifest_file(void **state)
{
	struct erofs_manifest m;
	struct tmpdir t;
	char p[128];
	char *s;
	int fd;

	tmpdir_make(&t);
	/* a FIFO is refused at once, not waited on */
	snprintf(p, sizeof(p), "%s/fifo", t.path);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(erofs_manifest_load(&m, p, &tlog), -EINVAL);
	assert_int_equal(erofs_manifest_load(&m, t.path, &tlog), -EINVAL);
	/* a file over the limit is refused by its size alone */
	snprintf(p, sizeof(p), "%s/big.json", t.path);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, EROFS_MANIFEST_MAX_BYTES + 1), 0);
	close(fd);
	assert_int_equal(erofs_manifest_load(&m, p, &tlog), -EFBIG);
	/* a good one round-trips through save */
	s = manifest_text("8192", "12288", "\n");
	snprintf(p, sizeof(p), "%s/m.json", t.path);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	assert_int_equal(erofs_write_all(fd, s, strlen(s)), 0);
	close(fd);
	free(s);
	assert_int_equal(erofs_manifest_load(&m, p, &tlog), 0);
	assert_int_equal(m.bootstrap_size, 8192);
	assert_int_equal(m.blobs[0].blocks, 3);
	assert_int_equal(erofs_manifest_save(&m, p, &tlog), 0);
	erofs_manifest_free(&m);
	assert_int_equal(erofs_manifest_load(&m, p, &tlog), 0);
	assert_int_equal(m.blobs[0].size, 12288);
	erofs_manifest_free(&m);
	tmpdir_rm(&t);
}

static void test_bad_config(void **state)
{
	struct erofs_fetch_config cfg = {.unit = 3000, .log = &tlog};
	struct erofs_fetch *f;

	assert_int_equal(erofs_fetch_create(&cfg, NULL, 0, NULL, &f), -EINVAL);
	cfg.unit = 128 * MIB;
	assert_int_equal(erofs_fetch_create(&cfg, NULL, 0, NULL, &f), -EINVAL);
	cfg.unit = 0;
	cfg.workers = 1000;
	assert_int_equal(erofs_fetch_create(&cfg, NULL, 0, NULL, &f), -EINVAL);
}

/* the hex digit helper the control socket's %XX unquoting shares */
static void test_hexval(void **state)
{
	const char digits[] = "0123456789abcdefABCDEF";
	const int want[] = {0,	1,  2,	3,  4,	5,  6,	7,  8,	9,  10,
			    11, 12, 13, 14, 15, 10, 11, 12, 13, 14, 15};
	uint8_t out[2];

	(void)state;
	for (unsigned int i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(erofs_hexval(digits[i]), want[i]);
	assert_int_equal(erofs_hexval('g'), -1);
	assert_int_equal(erofs_hexval('G'), -1);
	assert_int_equal(erofs_hexval('/'), -1);
	assert_int_equal(erofs_hexval(':'), -1);
	assert_int_equal(erofs_hexval('\0'), -1);
	assert_int_equal(erofs_unhex(out, "a5Ff", 2), 0);
	assert_int_equal(out[0], 0xa5);
	assert_int_equal(out[1], 0xff);
	assert_int_equal(erofs_unhex(out, "a5fg", 2), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hexval),
	    cmocka_unit_test(test_widen),
	    cmocka_unit_test(test_dir_fetch),
	    cmocka_unit_test(test_readahead_window),
	    cmocka_unit_test(test_readahead_fetch),
	    cmocka_unit_test(test_failing_source),
	    cmocka_unit_test(test_coalesce),
	    cmocka_unit_test(test_shared_failure),
	    cmocka_unit_test(test_parallel_objects),
	    cmocka_unit_test(test_seed_and_prefetch),
	    cmocka_unit_test(test_percentiles),
	    cmocka_unit_test(test_catalog),
	    cmocka_unit_test(test_bad_config),
	    cmocka_unit_test(test_size_limits),
	    cmocka_unit_test(test_fifo_source),
	    cmocka_unit_test(test_manifest_sizes),
	    cmocka_unit_test(test_manifest_syntax),
	    cmocka_unit_test(test_manifest_limits),
	    cmocka_unit_test(test_manifest_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

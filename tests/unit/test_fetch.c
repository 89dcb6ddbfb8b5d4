// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the fetch core (lib/fetch.c): widening, fetching from a
 * real blob directory into a regular file, failures, coalescing of equal
 * units, parallel service of different objects, seeding from SEEK_DATA,
 * prefetch, the completion callback, size limits and the configuration
 * checks.
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
#include "fetch_test_util.h"

static struct erofs_log tlog = {"test_fetch", EROFS_LOG_ERR, NULL, 0};

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

/* an erofs_fetch_complete_fn counting into the unsigned int at @arg */
static void on_complete(void *arg, struct erofs_fetch_obj *o)
{
	__atomic_add_fetch((unsigned int *)arg, 1, __ATOMIC_SEQ_CST);
}

static unsigned int completions(unsigned int *n)
{
	return __atomic_load_n(n, __ATOMIC_SEQ_CST);
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
	unsigned int ncomplete = 0;
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
	erofs_fetch_obj_on_complete(o, on_complete, &ncomplete);
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
	assert_int_equal(completions(&ncomplete), 0);
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
	/* the fill that wrote the last page said so, once */
	assert_int_equal(completions(&ncomplete), 1);
	assert_int_equal(erofs_fetch_range_sync(o, 0, size), 0);
	assert_int_equal(completions(&ncomplete), 1);

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
	unsigned int ncomplete = 0;
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

	erofs_fetch_obj_on_complete(o, on_complete, &ncomplete);
	erofs_fetch_prefetch(o);
	erofs_fetch_quiesce(f);
	assert_int_equal(erofs_fetch_obj_missing(o), 0);
	/* a background fill that completes the object says so too */
	assert_int_equal(completions(&ncomplete), 1);
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
	    cmocka_unit_test(test_failing_source),
	    cmocka_unit_test(test_coalesce),
	    cmocka_unit_test(test_shared_failure),
	    cmocka_unit_test(test_parallel_objects),
	    cmocka_unit_test(test_seed_and_prefetch),
	    cmocka_unit_test(test_bad_config),
	    cmocka_unit_test(test_size_limits),
	    cmocka_unit_test(test_fifo_source),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/* Helpers the fetch core's unit tests share (see fetch_test_util.h). */
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

#include "erofs/util.h"
#include "fetch_test_util.h"

void tmpdir_make(struct tmpdir *t)
{
	snprintf(t->path, sizeof(t->path), "/tmp/test_fetch.XXXXXX");
	assert_non_null(mkdtemp(t->path));
}

void tmpdir_rm(struct tmpdir *t)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->path);
	assert_int_equal(system(cmd), 0);
}

/* deterministic pseudo-random bytes that differ per offset */
void fill_pattern(unsigned char *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = x;
	}
}

unsigned char *write_blob(const char *dir, const char *name, size_t size,
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

int open_out(const char *dir, const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	return fd;
}

void waiter_init(struct waiter *w)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->done = w->failed = 0;
}

void on_done(void *arg, struct erofs_fetch_obj *o, int err)
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
void waiter_wait(struct waiter *w, unsigned int n)
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

void check_file(int fd, const unsigned char *data, uint64_t size, uint64_t from,
		uint64_t to)
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

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Helpers the fetch core's unit tests share: a scratch directory, blobs of
 * deterministic bytes, output files, a completion counter for
 * erofs_fetch_submit and a byte-for-byte check of what was written.
 */
#ifndef TESTS_UNIT_FETCH_TEST_UTIL_H
#define TESTS_UNIT_FETCH_TEST_UTIL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "erofs/fetch.h"

#define MIB (1u << 20)

struct tmpdir {
	char path[64];
};

void tmpdir_make(struct tmpdir *t);
void tmpdir_rm(struct tmpdir *t);
/* deterministic pseudo-random bytes that differ per offset */
void fill_pattern(unsigned char *p, size_t n, uint32_t seed);
/* DIR/NAME of @size such bytes, which come back (malloc'ed) */
unsigned char *write_blob(const char *dir, const char *name, size_t size,
			  uint32_t seed);
/* DIR/NAME created empty, read-write */
int open_out(const char *dir, const char *name);

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int done, failed;
};

void waiter_init(struct waiter *w);
/* an erofs_fetch_done_fn counting into the struct waiter at @arg */
void on_done(void *arg, struct erofs_fetch_obj *o, int err);
/* waits for @n completions; the deadline only guards against a hang */
void waiter_wait(struct waiter *w, unsigned int n);
/* [from, to) of @fd is @data (of @size bytes), zeros past its end */
void check_file(int fd, const unsigned char *data, uint64_t size, uint64_t from,
		uint64_t to);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Blob writer: appends block-aligned data to a device file from a writer
 * thread while a hasher thread computes the SHA-256 of the same bytes, so
 * reading the source, writing the blob and hashing it all overlap.  Appends are
 * handed over in batches (1 MiB or 64 requests), and buffers come from a
 * pool in batches too: one lock round trip per batch.  The bytes and their
 * order never depend on the timing.
 */
#ifndef EROFS_BLOB_H
#define EROFS_BLOB_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "erofs/log.h"
#include "erofs/util.h"

struct erofs_blob_req;
struct erofs_blob_arena;

struct erofs_blob {
	int fd;
	uint64_t base; /* byte offset of the blob's start in fd */
	uint64_t size; /* bytes appended (queued or written) */
	unsigned int blksz;
	bool hashing;
	const char *name; /* for messages */
	const struct erofs_log *log;

	pthread_t thread; /* the writer */
	bool thread_started;
	pthread_t hasher; /* when hashing */
	bool hasher_started;
	pthread_mutex_t lock;
	pthread_cond_t to_writer; /* work queued, or closing */
	pthread_cond_t to_hasher; /* the same, for the hasher */
	pthread_cond_t to_caller; /* space freed, or bytes written */
	bool writer_waits;
	bool hasher_waits;
	/* the first request each consumer has still to take, or NULL */
	struct erofs_blob_req *w_next, *h_next;
	unsigned int callers_waiting;
	struct erofs_blob_req *head, *tail;
	uint64_t queued; /* buffer bytes waiting for the writer */
	uint64_t max_queued;
	uint64_t written; /* bytes on disk, from base */
	int err;	  /* first write error */
	bool reported;	  /* err already logged */
	bool closing;
	void *sha; /* EVP_MD_CTX */
	void *xxh; /* XXH3_state_t: erofs_blob_fingerprint_only() */

	/*
	 * the caller's side: appends gather here and reach the writer in
	 * batches, so locking costs per batch, not per chunk
	 */
	struct erofs_blob_req *pend_head, *pend_tail;
	uint64_t pend_size;
	unsigned int pend_nr;
	void **cache; /* free buffers taken from the pool */
	unsigned int cache_nr;

	/*
	 * Buffers of pool_bufsz bytes carved from one arena mapped on first
	 * use (transparent huge pages where the kernel gives them), recycled
	 * through the pool: no page fault per chunk, and filling the queue
	 * faults in 2 MiB steps rather than 4 KiB ones.  An arena left by a
	 * change of size stays mapped until erofs_blob_finish(), as its
	 * buffers may still be out.
	 */
	size_t pool_bufsz;
	void **pool;
	unsigned int pool_nr;
	unsigned int pool_max;
	char *arena;
	size_t arena_size;
	struct erofs_blob_arena *retired;
};

/*
 * Starts a writer for @fd at byte @base.  @hashing computes the SHA-256 of
 * the blob's bytes.  @max_queued bounds the memory held by queued data.
 */
int erofs_blob_init(struct erofs_blob *b, int fd, uint64_t base,
		    unsigned int blksz, bool hashing, uint64_t max_queued,
		    const char *name, const struct erofs_log *log);

/*
 * A buffer of at least @size bytes for erofs_blob_append(); buffers of the
 * pool size (set by erofs_blob_set_pool()) are recycled.
 */
void *erofs_blob_alloc(struct erofs_blob *b, size_t size);
/* back to the pool (a buffer of the arena) or freed */
void erofs_blob_release(struct erofs_blob *b, void *buf);
/* recycle buffers of @bufsz bytes */
int erofs_blob_set_pool(struct erofs_blob *b, size_t bufsz);

/*
 * Queues @len bytes (a multiple of blksz) of @buf, which came from
 * erofs_blob_alloc(@size); the blob takes ownership.  *@off gets the byte
 * offset from the blob's start.
 */
int erofs_blob_append(struct erofs_blob *b, void *buf, size_t len, size_t size,
		      uint64_t *off);

/* appends @len bytes (a multiple of blksz) that read as zeros */
int erofs_blob_append_hole(struct erofs_blob *b, uint64_t len, uint64_t *off);

/*
 * Compares @len bytes at blob offset @off with @buf: 0 when equal, 1 when
 * not, or -errno.  Bytes still queued are compared in memory, so this never
 * waits for the writer.  @tmp is a scratch buffer of @len bytes.
 */
int erofs_blob_compare(struct erofs_blob *b, const void *buf, size_t len,
		       uint64_t off, void *tmp);

/* reads back stored bytes, waiting for them to reach the file */
int erofs_blob_pread(struct erofs_blob *b, void *buf, size_t len, uint64_t off);

/*
 * Right after erofs_blob_init() with @hashing: a 128-bit XXH3 fingerprint
 * (in the first 16 bytes of the digest erofs_blob_finish() stores, the rest
 * zero) instead of SHA-256, where the digest names nothing and only has to
 * change with the bytes -- a few times cheaper.
 */
int erofs_blob_fingerprint_only(struct erofs_blob *b);

/* waits for every write; stores the SHA-256 when hashing; 0 or -errno */
int erofs_blob_finish(struct erofs_blob *b, uint8_t sha[EROFS_SHA256_LEN]);

#endif

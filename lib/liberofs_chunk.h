/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Chunk store: fixed-size chunking of file data, deduplication of identical
 * chunks across the whole build (indexed by 56 bits of XXH3-64, confirmed
 * byte by byte against the stored copy), and one shared extent for all-zero
 * chunks.
 */
#ifndef EROFS_CHUNK_H
#define EROFS_CHUNK_H

#include <stdint.h>

#include "liberofs_blob.h"
#include "erofs/log.h"
#include "liberofs_tree.h"

struct erofs_chunk_entry;

struct erofs_chunk_stats {
	uint64_t chunks; /* chunk references made */
	uint64_t unique; /* chunks stored */
	uint64_t zero;	 /* all-zero chunks (shared extent) */
	uint64_t dedup_hits;
	uint64_t bytes_in;     /* file bytes chunked */
	uint64_t bytes_stored; /* bytes appended to the blob */
	uint64_t bytes_dedup;  /* file bytes served by an earlier copy */
	uint64_t bytes_zero;   /* file bytes in all-zero chunks */
	uint64_t hash_collisions;
};

struct erofs_chunk_store {
	unsigned int blkszbits;
	uint64_t chunksize;
	uint16_t device_id; /* device new chunks are stored on */
	uint32_t blk_base;  /* block of blob offset 0 on that device */
	struct erofs_blob *blob;
	const struct erofs_log *log;

	struct erofs_chunk_dev {
		struct erofs_blob *blob;
		uint32_t blk_base;
	} * devs; /* by device id */
	unsigned int nr_devs;
	struct erofs_chunk_entry *tab;
	uint64_t cap;
	uint64_t used;
	bool have_zero;
	struct erofs_chunk_ref zero;
	void *cmpbuf; /* read-back buffer for confirming hits */
	struct erofs_chunk_stats st;
};

int erofs_chunk_store_init(struct erofs_chunk_store *cs, unsigned int blkszbits,
			   uint64_t chunksize, uint16_t device_id,
			   uint32_t blk_base, struct erofs_blob *blob,
			   const struct erofs_log *log);
void erofs_chunk_store_free(struct erofs_chunk_store *cs);

/*
 * New chunks go to @blob from now on, as device @device_id whose block 0 is
 * @blk_base; chunks stored earlier stay where they are and still serve
 * duplicates.
 */
int erofs_chunk_store_switch(struct erofs_chunk_store *cs,
			     struct erofs_blob *blob, uint16_t device_id,
			     uint32_t blk_base);

/* a chunk of @len bytes that reads as zeros (a hole of the source) */
int erofs_chunk_zero(struct erofs_chunk_store *cs, size_t len,
		     struct erofs_chunk_ref *ref);

/*
 * Stores the chunk of @len bytes held in @buf, a buffer of @size bytes
 * (at least @len rounded up to a block) from erofs_blob_alloc(); the store
 * takes ownership.
 */
int erofs_chunk_put(struct erofs_chunk_store *cs, void *buf, size_t size,
		    size_t len, struct erofs_chunk_ref *ref);

#endif

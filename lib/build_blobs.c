// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The builder's blob devices.  Blob i (1-based) is device i while the
 * build runs; its writer thread hashes what it appends.  At finish (after
 * --sort=path put the data in path order), blobs that hold no bytes are
 * dropped (no device slot, no file) and the
 * chunks stored on later blobs are renumbered to the kept devices.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "liberofs_build.h"

int erofs_builder_begin_blob(struct erofs_builder *b, const char *path)
{
	struct builder_blob *bl;
	unsigned int out_idx;
	void *p;
	int err;

	if (!b->o.chunksize)
		return erofs_fail(b->log, -EINVAL,
				  "blob devices need a chunk size");
	if (b->cur)
		return erofs_fail(b->log, -EBUSY,
				  "%s: a file is being streamed", path);
	if (b->nr_blobs >= MAX_OUTPUTS - 3)
		return erofs_fail(b->log, -E2BIG, "too many blob devices");
	/* blob 1 of opts->blobdev was checked with the other names */
	if (b->nr_blobs == 0 && b->o.blobdev && path == b->o.blobdev) {
		out_idx = 1;
	} else {
		err = erofs_build_out_add(b, path, "blob", &out_idx);
		if (err)
			return err;
	}
	p = realloc(b->blobs, (b->nr_blobs + 1) * sizeof(*b->blobs));
	if (!p)
		return -ENOMEM;
	b->blobs = p;
	bl = calloc(1, sizeof(*bl));
	if (!bl)
		return -ENOMEM;
	bl->path = strdup(path);
	if (!bl->path) {
		free(bl);
		return -ENOMEM;
	}
	b->blobs[b->nr_blobs] = bl;
	bl->out_idx = out_idx;
	b->nr_blobs++;
	err = erofs_build_out_open(b, out_idx, path);
	if (err)
		return err;
	/* --sort=path: hashed where the final bytes are known (build_order.c)
	 */
	err = erofs_blob_init(&bl->w, erofs_build_out_fd(b, out_idx), 0,
			      b->blksz, !b->o.sort_path, BLOB_QUEUE_BYTES,
			      bl->path, b->log);
	if (err)
		return err;
	bl->started = true;
	return erofs_chunk_store_switch(&b->cs, &bl->w, b->nr_blobs, 0);
}

int erofs_build_finish_writers(struct erofs_builder *b, unsigned int *nr_kept)
{
	uint8_t md[EROFS_SHA256_LEN] = {0};
	uint16_t *map;
	int err = 0, e;

	b->bootw_started = false;
	err = erofs_blob_finish(&b->bootw, b->boot_data_sha);
	*nr_kept = 0;
	for (unsigned int i = 0; i < b->nr_blobs; i++) {
		struct builder_blob *bl = b->blobs[i];

		bl->started = false;
		e = erofs_blob_finish(&bl->w, md);
		if (e && !err)
			err = e;
		if (e)
			continue;
		bl->size = bl->w.size;
		erofs_hex(bl->sha, md, EROFS_SHA256_LEN);
	}
	if (!err && b->o.sort_path)
		err = erofs_build_order_data(b);
	for (unsigned int i = 0; i < b->nr_blobs && !err; i++)
		if (b->blobs[i]->size)
			b->blobs[i]->new_id = ++*nr_kept;
	if (err || *nr_kept == b->nr_blobs)
		return err;
	/* renumber the devices of chunks after dropped blobs */
	map = calloc(b->nr_blobs + 1, sizeof(*map));
	if (!map)
		return -ENOMEM;
	for (unsigned int i = 0; i < b->nr_blobs; i++)
		map[i + 1] = b->blobs[i]->new_id;
	for (uint64_t i = 0; i < b->tree.nr_inodes; i++) {
		struct erofs_inode *inode = b->tree.inodes[i];
		struct erofs_chunk_ref *ch = erofs_inode_chunks(inode);

		if (inode->datalayout != EROFS_INODE_CHUNK_BASED)
			continue;
		for (uint64_t c = 0; c < inode->nr_chunks; c++)
			if (ch[c].device_id)
				ch[c].device_id = map[ch[c].device_id];
	}
	free(map);
	return 0;
}

void erofs_build_blobs_free(struct erofs_builder *b)
{
	for (unsigned int i = 0; i < b->nr_blobs; i++) {
		struct builder_blob *bl = b->blobs[i];

		if (bl->started)
			erofs_blob_finish(&bl->w, NULL);
		free(bl->path);
		free(bl);
	}
	free(b->blobs);
	b->blobs = NULL;
	b->nr_blobs = 0;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Image writer: lays out an inode tree (nids, inline tails, chunk tables,
 * shared xattrs, data blocks) and encodes the metadata, superblock and
 * device table, with the superblock checksum computed last.
 *
 * Layout of the primary device (the bootstrap):
 *   [0, 1024)            zeros
 *   1024                 superblock (128 bytes)
 *   1152                 device table (128 bytes a slot)
 *   after it             long xattr name prefixes (--xattr-prefix)
 *   data_start           data streamed while importing: flat file blocks,
 *                        chunks when there is no blob device (may be empty)
 *   meta_blkaddr         inodes in tree order, 32-byte slots (right after
 *                        the device table when no data was streamed)
 *   next block           shared xattr area (xattr_blkaddr)
 *   next block           directory and symlink blocks, files moved there
 */
#ifndef EROFS_IMAGE_H
#define EROFS_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include "erofs/log.h"
#include "erofs/ondisk.h"
#include "liberofs_tree.h"
#include "liberofs_xattr.h"

struct erofs_image_opts {
	unsigned int blkszbits;
	uint64_t chunksize; /* 0: flat files */
	bool xattr_filter;
	uint64_t build_time;
	uint32_t build_time_nsec;
	uint8_t uuid[16];
	char volume_name[EROFS_VOLNAME_LEN];
	unsigned int nr_devices; /* extra (blob) devices */

	/* erofs-utils compatible choices (mkfs.erofs -E, --ignore-mtime) */
	int inode_form;	     /* enum erofs_inode_form */
	bool ignore_mtime;   /* compact even where the mtime differs */
	bool no_inline_data; /* no inline tails for regular files */
	bool chunk_blockmap; /* 4-byte block map, not chunk indexes */
	bool no_sbcrc;	     /* no superblock checksum */
	/*
	 * Streamed data first: [data_start, data_start + data_blocks) holds
	 * flat file blocks and chunks written while importing; the metadata
	 * follows it (meta_blkaddr).  data_blocks 0: metadata from block 0.
	 */
	uint32_t data_start;
	uint32_t data_blocks;
};

/*
 * log2 of the chunk size of a chunk-based regular file of @size bytes:
 * the image's (@chunksize), or in an image without chunks (a headerball's
 * files, all holes) the smallest power of two holding the whole file,
 * from one block up to what the chunk format holds.
 */
static inline unsigned int
erofs_image_chunkbits(unsigned int blkszbits, uint64_t chunksize, uint64_t size)
{
	unsigned int bits = blkszbits;

	if (chunksize) {
		while (bits < 63 && (1ull << bits) < chunksize)
			bits++;
		return bits;
	}
	while (bits < blkszbits + EROFS_CHUNK_FORMAT_BLKBITS_MASK &&
	       (1ull << bits) < size)
		bits++;
	return bits;
}

struct erofs_image_writer {
	struct erofs_tree *tree;
	struct erofs_xattr_table *xt;
	struct erofs_image_opts opts;
	const struct erofs_log *log;

	struct erofs_devslot *devices; /* nr_devices slots, tags set later */
	uint64_t prefix_start;	       /* byte offset of long xattr prefixes */
	uint32_t meta_blkaddr;	       /* nids count from here */
	uint64_t meta_base;	       /* meta_blkaddr in bytes */
	uint64_t meta_start;	       /* byte offset of the root inode */
	uint64_t meta_end;
	uint32_t xattr_blkaddr;
	uint32_t data_blkaddr; /* first block after the metadata */
	uint32_t data_end;     /* first block after directory data */
	uint32_t total_blocks; /* set by the caller once chunks are in */
	bool has_chunks;
};

int erofs_image_init(struct erofs_image_writer *img, struct erofs_tree *t,
		     struct erofs_xattr_table *xt,
		     const struct erofs_image_opts *opts,
		     const struct erofs_log *log);
void erofs_image_free(struct erofs_image_writer *img);

/*
 * Pass 1: choose every inode's form and data layout, assign nids, inline
 * tails and data blocks.  The tree must be finalized and the shared xattrs
 * selected.
 */
int erofs_image_layout(struct erofs_image_writer *img);

/*
 * The path of @inode inside the tree ("/" for the root) into @buf, for
 * messages; slow (scans the directories), use it on error paths only.
 */
const char *erofs_image_inode_path(const struct erofs_tree *t,
				   const struct erofs_inode *inode, char *buf,
				   size_t size);

/* whether @inode needs the extended form (for the builder's estimate) */
bool erofs_image_inode_extended(const struct erofs_image_opts *opts,
				const struct erofs_inode *inode);

/*
 * writes directory and symlink data blocks at their addresses, and moves
 * the streamed files whose tail did not fit inline
 */
int erofs_image_write_dir_data(struct erofs_image_writer *img, int fd);

/*
 * Writes [0, data_blkaddr) -- superblock, device table, inodes, inline
 * data, chunk tables, shared xattrs -- with the checksum computed last.
 */
int erofs_image_write_meta(struct erofs_image_writer *img, int fd);

#endif

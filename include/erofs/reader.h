/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Bounds-checked reader of EROFS bootstrap images.
 *
 * The input is untrusted: every offset and length read from the image is
 * checked against the image size before use, and a malformed image gives a
 * negative errno plus one message naming the image and the offending field.
 * Errors follow what the 6.12 kernel returns where it has a rule:
 *   -EINVAL        bad magic, block size, dirblkbits, unknown incompat bit,
 *                  sb_extslots too large
 *   -EBADMSG       superblock checksum mismatch
 *   -EFSCORRUPTED  truncated image, volume name without NUL, device table
 *                  or any inode/dirent/chunk table outside the image
 *   -EOPNOTSUPP    inode format or data layout 6.12 does not know
 */
#ifndef EROFS_READER_H
#define EROFS_READER_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "erofs/log.h"
#include "erofs/ondisk.h"

struct json_object;

#ifndef EFSCORRUPTED
#define EFSCORRUPTED EUCLEAN /* as the kernel spells it */
#endif

/* the kernel refuses superblocks larger than PAGE_SIZE - 1024 */
#define EROFS_SB_MAX_EXTSLOTS ((4096 - EROFS_SUPER_OFFSET - EROFS_SB_SIZE) / 16)

struct erofs_image {
	const char *name; /* path or caller's label, for messages */
	const struct erofs_log *log;
	int fd;		    /* -1 for an in-memory image */
	const uint8_t *mem; /* in-memory image, not owned */
	uint64_t size;	    /* bytes in the image */

	struct erofs_sb sb; /* decoded and validated superblock */
	unsigned int blkszbits;
	uint32_t blksz;
	/* extra devices (0 unless incompat DEVICE_TABLE is set) */
	unsigned int nr_devices;
	struct erofs_devslot *devs; /* slot i is device id i + 1 */
};

/*
 * Opens @path read-only and validates the superblock and device table.
 * On success the caller owns @img and releases it with erofs_image_close().
 */
int erofs_image_open(struct erofs_image *img, const char *path,
		     const struct erofs_log *log);
/* the same over a caller-owned buffer that must outlive @img */
int erofs_image_open_mem(struct erofs_image *img, const void *buf, size_t len,
			 const char *name, const struct erofs_log *log);
void erofs_image_close(struct erofs_image *img);

/*
 * Reads [off, off + len) of the image; -EFSCORRUPTED (with a message naming
 * @what) when any of it lies outside the image.
 */
int erofs_image_pread(const struct erofs_image *img, void *buf, size_t len,
		      uint64_t off, const char *what);

/* a decoded inode and where its parts are */
struct erofs_rinode {
	uint64_t nid;
	struct erofs_dinode di;
	uint64_t iloc;	    /* byte offset of the inode core */
	unsigned int isize; /* core size: 32 or 64 */
	unsigned int xattr_isize;
	/* CHUNK_BASED only */
	unsigned int chunkbits;
	unsigned int chunk_unit; /* 8 (indexes) or 4 (block map) */
	uint64_t nr_chunks;
	uint64_t chunk_table; /* byte offset of entry 0 */
};

/* decodes and checks inode @nid (format, layout, size, tables in bounds) */
int erofs_image_read_inode(const struct erofs_image *img, uint64_t nid,
			   struct erofs_rinode *ri);

/*
 * Reads [off, off + len) of a FLAT_PLAIN or FLAT_INLINE inode's data from
 * the bootstrap (directories, symlinks, small files).  Reads past i_size are
 * -EINVAL; chunk-based data lives in blobs and is -EOPNOTSUPP here.  Block
 * addresses are taken as bootstrap addresses: the kernel's redirection of
 * device-0 addresses into a blob's mapped_blkaddr window is not applied.
 */
int erofs_image_read_data(const struct erofs_image *img,
			  const struct erofs_rinode *ri, void *buf, size_t len,
			  uint64_t off);

/*
 * Chunk @idx of a CHUNK_BASED inode.  A block-map entry reports device 0.
 * A hole has blkaddr EROFS_NULL_ADDR.
 */
int erofs_image_read_chunk(const struct erofs_image *img,
			   const struct erofs_rinode *ri, uint64_t idx,
			   struct erofs_chunk_idx *ci);

/*
 * Calls @cb for each entry of directory @dir in on-disk order, including
 * "." and "..".  @name is not NUL-terminated.  A non-zero return from @cb
 * stops the walk and is returned.
 */
typedef int (*erofs_dirent_cb)(void *arg, const char *name,
			       unsigned int namelen, uint64_t nid,
			       unsigned int file_type);
int erofs_image_iterate_dir(const struct erofs_image *img,
			    const struct erofs_rinode *dir, erofs_dirent_cb cb,
			    void *arg);

/* superblock summary and device table, as text or as a json-c object */
void erofs_image_print(FILE *f, const struct erofs_image *img);
int erofs_image_to_json(const struct erofs_image *img,
			struct json_object **out);

#endif

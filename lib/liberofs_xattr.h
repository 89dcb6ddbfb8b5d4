/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Extended attributes: name prefixes, interning of (name, value) pairs,
 * the shared xattr area, per-inode bodies and the name bloom filter.
 */
#ifndef EROFS_XATTR_H
#define EROFS_XATTR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "erofs/log.h"

struct erofs_inode;

struct erofs_xattr_item {
	uint8_t index;		/* EROFS_XATTR_INDEX_* */
	uint8_t name_len;	/* suffix length */
	uint16_t value_len;
	char *name;		/* suffix after the short prefix */
	uint8_t *value;
	uint64_t hash;
	uint32_t refcount;	/* inodes carrying it */
	int64_t shared_id;	/* -1 when stored inline */
	unsigned int entry_size;	/* 4-aligned on-disk size */
};

struct erofs_xattr_table {
	struct erofs_xattr_item **tab;	/* open addressing by hash */
	uint64_t cap;
	uint64_t used;
	struct erofs_xattr_item **shared;	/* in shared-area order */
	uint64_t nr_shared;
	uint64_t shared_size;	/* bytes of the shared area */
	const struct erofs_log *log;
};

void erofs_xattr_table_init(struct erofs_xattr_table *tbl,
			    const struct erofs_log *log);
void erofs_xattr_table_free(struct erofs_xattr_table *tbl);

/*
 * Splits a full xattr name into its EROFS short prefix index and suffix.
 * Returns 0, or -EOPNOTSUPP for a namespace EROFS cannot store.
 */
int erofs_xattr_split_name(const char *full, uint8_t *index,
			   const char **suffix);

/* the full name of an item into @buf; returns its length */
size_t erofs_xattr_full_name(const struct erofs_xattr_item *it, char *buf,
			     size_t bufsz);

/*
 * Attaches (@fullname, @value) to @inode, interning it in @tbl.
 * -EOPNOTSUPP for an unsupported namespace, -E2BIG for a too long name or
 * value; @what names the entry in messages.
 */
int erofs_xattr_add(struct erofs_xattr_table *tbl, struct erofs_inode *inode,
		    const char *fullname, const void *value, size_t len,
		    const char *what);

/*
 * Detaches every xattr from @inode (which left the tree), so items it alone
 * carried no longer count towards sharing.
 */
void erofs_xattr_drop_inode(struct erofs_inode *inode);

/* sorts an inode's xattrs by (index, name) */
void erofs_xattr_sort(struct erofs_inode *inode);

/*
 * Makes every item carried by more than @tolerance inodes shared, in a
 * deterministic order, and computes the shared area size.
 */
int erofs_xattr_select_shared(struct erofs_xattr_table *tbl, int tolerance);

/* sets xattr_icount, xattr_isize and nr_shared of @inode */
void erofs_xattr_size_inode(struct erofs_inode *inode);

/* writes the inode's xattr body (xattr_isize bytes) */
void erofs_xattr_encode_ibody(const struct erofs_inode *inode, bool filter,
			      uint8_t *out);

/* writes the shared area (shared_size bytes) */
void erofs_xattr_encode_shared(const struct erofs_xattr_table *tbl,
			       uint8_t *out);

/* the bloom-filter bit getxattr checks for (index, suffix) */
unsigned int erofs_xattr_filter_bit(uint8_t index, const char *name,
				    size_t len);

/* encodes one entry (header, name, value, zero padding); returns its size */
unsigned int erofs_xattr_encode_entry(const struct erofs_xattr_item *it,
				      uint8_t *out);

#endif

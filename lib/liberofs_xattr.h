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
#include "erofs/ondisk.h"

struct erofs_inode;

/* e_name_index of a name stored with long prefix number p: 0x80 | p */
#define EROFS_XATTR_LONG_PREFIX	      0x80
#define EROFS_XATTR_MAX_LONG_PREFIXES 128
/* the largest inline body: i_xattr_icount is 16 bits */
#define EROFS_XATTR_MAX_IBODY                                                  \
	(EROFS_XATTR_IBODY_HDR_SIZE + 4 * (UINT16_MAX - 1))

/* a long xattr name prefix (--xattr-prefix), e.g. "trusted.overlay." */
struct erofs_xattr_long_prefix {
	char *full;	    /* the whole prefix */
	uint8_t base_index; /* EROFS_XATTR_INDEX_* of its short prefix */
	const char *infix;  /* the rest of @full after the short prefix */
	unsigned int infix_len;
};

struct erofs_xattr_item {
	uint8_t index;	    /* on disk: EROFS_XATTR_INDEX_*, 0x80 | p */
	uint8_t base_index; /* the short prefix's index */
	uint8_t filter_bit; /* bloom-filter bit of the full name */
	uint8_t name_len;   /* suffix length */
	uint16_t value_len;
	char *name;	     /* suffix after the (long) prefix */
	const char *lprefix; /* the long prefix, NULL for a short one */
	uint8_t *value;
	uint64_t hash;
	uint32_t refcount;	 /* inodes carrying it */
	int64_t shared_id;	 /* -1 when stored inline */
	unsigned int entry_size; /* 4-aligned on-disk size */
};

struct erofs_xattr_table {
	struct erofs_xattr_item **tab; /* open addressing by hash */
	uint64_t cap;
	uint64_t used;
	struct erofs_xattr_item **shared; /* in shared-area order */
	uint64_t nr_shared;
	uint64_t shared_size;			  /* bytes of the shared area */
	struct erofs_xattr_long_prefix *prefixes; /* in option order */
	unsigned int nr_prefixes;
	const struct erofs_log *log;
};

void erofs_xattr_table_init(struct erofs_xattr_table *tbl,
			    const struct erofs_log *log);
void erofs_xattr_table_free(struct erofs_xattr_table *tbl);

/*
 * Registers long name prefixes (before any erofs_xattr_add()): each must
 * start with "user.", "trusted." or "security." and go on; names are
 * stored with the first prefix (in this order) they start with.  At most
 * 128, each up to 255 bytes; 0 or -EINVAL with a message.
 */
int erofs_xattr_set_prefixes(struct erofs_xattr_table *tbl,
			     char *const *prefixes, unsigned int nr);

/* bytes of the on-disk prefix table (4-aligned records), 0 without one */
unsigned int erofs_xattr_prefix_table_size(const struct erofs_xattr_table *tbl);
/* writes it (erofs_xattr_prefix_table_size() bytes) */
void erofs_xattr_encode_prefixes(const struct erofs_xattr_table *tbl,
				 uint8_t *out);

/*
 * Checks a raw system.posix_acl_access/default value as the kernel's
 * posix_acl_from_xattr() and posix_acl_valid() would: version 2, whole
 * 8-byte entries, known tags in order, exactly one USER_OBJ, GROUP_OBJ
 * and OTHER, a MASK when there are named entries, ids of named entries
 * ascending.  0 or -EINVAL; logs nothing.
 */
int erofs_xattr_check_acl(const void *value, size_t len);

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
 * Attaches (@fullname, @value) to @inode, interning it in @tbl.  A name
 * the inode already carries gets the new value (the last one wins, once).
 * -EOPNOTSUPP for an unsupported namespace, -E2BIG for a too long name or
 * value or when the inode's xattrs would exceed what the format holds
 * (i_xattr_icount is 16 bits), -EBADMSG for a malformed POSIX ACL; @what
 * names the entry in messages.
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

/*
 * Sets xattr_icount, xattr_isize and nr_shared of @inode; -E2BIG when the
 * body does not fit the 16-bit count.
 */
int erofs_xattr_size_inode(struct erofs_inode *inode);

/* writes the inode's xattr body (xattr_isize bytes) */
void erofs_xattr_encode_ibody(const struct erofs_inode *inode, bool filter,
			      uint8_t *out);

/* writes the shared area (shared_size bytes) */
void erofs_xattr_encode_shared(const struct erofs_xattr_table *tbl,
			       uint8_t *out);

/*
 * The bloom-filter bit getxattr checks for (short index, name after the
 * short prefix)
 */
unsigned int erofs_xattr_filter_bit(uint8_t index, const char *name,
				    size_t len);

/* encodes one entry (header, name, value, zero padding); returns its size */
unsigned int erofs_xattr_encode_entry(const struct erofs_xattr_item *it,
				      uint8_t *out);

#endif

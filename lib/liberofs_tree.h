/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The in-memory inode tree every importer fills and the image writer lays
 * out: metadata, xattrs, hard-link identity, and the per-file data plan
 * (inline tail, flat blocks or chunk list).
 */
#ifndef EROFS_TREE_H
#define EROFS_TREE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "erofs/log.h"

struct erofs_xattr_item;
struct erofs_inode;

/* names live in the tree's name arena: never freed one by one */
struct erofs_dentry {
	char *name;
	unsigned int namelen;
	struct erofs_inode *inode;
};

/* where one chunk of a chunk-based file lives */
struct erofs_chunk_ref {
	uint16_t device_id; /* 0 = the bootstrap, i = slot i-1 */
	uint32_t blkaddr;   /* EROFS_NULL_ADDR for a hole */
};

/*
 * One per entry of the image, so its size is the builder's memory per
 * entry: fields are ordered by size (no padding) and nothing that only
 * the import of some sources needs is kept here (hard-link identity lives
 * in the tree's link table).
 */
struct erofs_inode {
	/* metadata as it will appear in the image */
	uint64_t size;
	int64_t mtime;
	/*
	 * archives read through a spool file: the entry's path (messages)
	 * and where its data lies in the spool (src_spooled); --tar=i: the
	 * data's offset in the archive (data_state EROFS_DATA_EXTERNAL)
	 */
	char *src_path;
	uint64_t src_off;
	union {
		/* symlinks: the target (size bytes, no NUL needed) */
		char *link_target;
		/* character and block devices */
		struct {
			unsigned int rdev_major;
			unsigned int rdev_minor;
		};
	};

	/* directories */
	struct erofs_inode *parent;
	struct erofs_dentry *children;

	/* xattrs, sorted by (index, name) after erofs_tree_finalize() */
	struct erofs_xattr_item **xattrs;

	/* layout, filled by the image writer (and the builder's data path) */
	uint64_t nid;
	uint8_t *inline_data; /* the tail, once known */
	/* chunk-based files: erofs_inode_chunks() */
	union {
		struct erofs_chunk_ref *chunks; /* nr_chunks > 1 */
		struct erofs_chunk_ref chunk;	/* nr_chunks == 1 */
	};

	uint32_t mode;
	uint32_t uid;
	uint32_t gid;
	uint32_t nlink; /* filled by erofs_tree_finalize() */
	uint32_t mtime_nsec;
	uint32_t raw_blkaddr;	  /* first data block (flat layouts) */
	unsigned int nr_children; /* room: see erofs_dir_add() */
	unsigned int nr_xattrs;
	uint32_t order; /* 1-based position in nid order */
	uint32_t xattr_isize;
	uint32_t nr_shared;   /* xattrs stored as shared ids */
	uint32_t old_blkaddr; /* relocate: where the blocks were streamed */
	uint32_t nr_blocks;   /* full data blocks (flat layouts) */
	uint32_t nr_chunks;
	uint16_t xattr_icount;
	uint16_t inline_size; /* tail bytes stored after the inode */
	uint8_t datalayout;
	/*
	 * regular files: EROFS_DATA_* -- whether the builder's data path got
	 * the bytes (streamed), or they stay in an appended archive at
	 * src_off (external)
	 */
	uint8_t data_state;
	bool extended : 1;
	bool relocate : 1; /* flat file whose blocks move at layout */
	bool src_spooled : 1;
};

/* the chunk list of @inode: one reference is held in the inode itself */
static inline struct erofs_chunk_ref *
erofs_inode_chunks(struct erofs_inode *inode)
{
	return inode->nr_chunks == 1 ? &inode->chunk : inode->chunks;
}

/*
 * Sets @inode's chunk list to @nr zeroed references (an allocated array
 * only when there are several); 0 or -ENOMEM.
 */
int erofs_inode_set_chunks(struct erofs_inode *inode, uint64_t nr);
/* frees the chunk list */
void erofs_inode_free_chunks(struct erofs_inode *inode);

enum {
	EROFS_DATA_NONE = 0,
	EROFS_DATA_STREAMED,
	EROFS_DATA_EXTERNAL,
};

#define EROFS_INODE_SLAB 1024 /* inodes per slab */

/* hard-link table entry; the tree owns a small open-addressing table */
struct erofs_tree_link {
	dev_t dev;
	ino_t ino;
	struct erofs_inode *inode;
};

struct erofs_tree {
	struct erofs_inode *root;
	/*
	 * every inode in creation order, EROFS_INODE_SLAB to a slab: inode
	 * i is erofs_tree_inode(t, i), for i < nr_all
	 */
	struct erofs_inode **slabs;
	uint64_t nr_slabs;
	unsigned int slab_used;
	uint64_t nr_all;
	/* names of entries, packed in blocks (no allocation per name) */
	char **name_blocks;
	uint64_t nr_name_blocks;
	size_t name_used;	     /* in the last block */
	struct erofs_inode **inodes; /* every inode once, in nid order */
	uint64_t nr_inodes;
	uint64_t inodes_cap;

	struct erofs_tree_link *links; /* hash table by (dev, ino) */
	uint64_t links_cap;
	uint64_t links_used;

	const struct erofs_log *log;
};

void erofs_tree_init(struct erofs_tree *t, const struct erofs_log *log);
void erofs_tree_free(struct erofs_tree *t);

/* inode @i (< t->nr_all) in creation order */
static inline struct erofs_inode *erofs_tree_inode(const struct erofs_tree *t,
						   uint64_t i)
{
	return &t->slabs[i / EROFS_INODE_SLAB][i % EROFS_INODE_SLAB];
}

/* a new zeroed inode owned by the tree (freed by erofs_tree_free()) */
struct erofs_inode *erofs_tree_new_inode(struct erofs_tree *t);

/*
 * Adds @child under @dir as @name (copied).  The name must be 1..255 bytes
 * without '/' or NUL; 0 or -errno.
 */
int erofs_dir_add(struct erofs_tree *t, struct erofs_inode *dir,
		  const char *name, struct erofs_inode *child);

/*
 * Looks up a hard-link partner by source identity; returns the inode already
 * in the tree or NULL.  erofs_tree_remember() records @inode as the file
 * (@dev, @ino) of the source.
 */
struct erofs_inode *erofs_tree_find_link(struct erofs_tree *t, dev_t dev,
					 ino_t ino);
int erofs_tree_remember(struct erofs_tree *t, dev_t dev, ino_t ino,
			struct erofs_inode *inode);

/*
 * Sorts every directory, computes nlink and subdirectory counts and lists
 * all inodes in the order they will be laid out (breadth first, so a
 * directory's entries sit together and the root comes first).
 */
int erofs_tree_finalize(struct erofs_tree *t);

/*
 * Path operations on the tree (paths relative to the root, "a/b/c"; "" or
 * "/" is the root; repeated slashes are ignored; symlinks are never
 * followed).
 *
 * erofs_tree_lookup() returns the inode at @path, or NULL (errno ENOENT, or
 * ENOTDIR when a component is not a directory).
 */
struct erofs_inode *erofs_tree_lookup(struct erofs_tree *t, const char *path);

/* the entry named @name in directory @dir, or NULL */
struct erofs_dentry *erofs_dir_find(struct erofs_inode *dir, const char *name,
				    unsigned int namelen);

/*
 * The directory at @path with every missing component created (mode
 * S_IFDIR | 0755, root-owned, @mtime); -ENOTDIR naming the component that
 * is not a directory.
 */
int erofs_tree_mkdir_p(struct erofs_tree *t, const char *path, int64_t mtime,
		       struct erofs_inode **dirp);

/*
 * Removes the entry at @path (a directory with everything below it); its
 * inodes stay owned by the tree but leave the image, and their xattrs no
 * longer count for sharing.  -ENOENT when there is nothing at @path,
 * -EINVAL for the root.
 */
int erofs_tree_remove(struct erofs_tree *t, const char *path);

/* detaches entry @i of @dir (and the subtree under it) */
void erofs_dir_remove_at(struct erofs_tree *t, struct erofs_inode *dir,
			 unsigned int i);

/* strcmp order on unsigned bytes, shorter prefix first (the kernel's) */
int erofs_name_cmp(const char *a, unsigned int alen, const char *b,
		   unsigned int blen);

#endif

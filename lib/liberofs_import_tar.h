/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The archive importer's internals, shared by its modules: import_tar.c
 * (the entry loop and file data), import_tar_path.c (paths, the path map,
 * placing entries, whiteouts) and import_tar_xattr.c (xattrs and ACLs).
 */
#ifndef LIBEROFS_IMPORT_TAR_H
#define LIBEROFS_IMPORT_TAR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <archive.h>
#include <archive_entry.h>

#include "liberofs_import.h"

/* how much of a name messages show (escaped) */
#define SHOWN_MAX 1024u

struct erofs_dstream;

/* path -> inode of every entry seen (open addressing, never shrinks) */
struct pnode {
	char *path;
	struct erofs_inode *inode;
	struct erofs_inode *parent; /* NULL: excluded, kept for links */
	bool lower;	/* found in the tree from an earlier source */
	bool opaque;	/* --aufs: ".wh..wh..opq" seen inside */
	bool whiteouts; /* --aufs: holds overlayfs whiteouts */
};

struct tar {
	struct erofs_tree *t;
	struct erofs_xattr_table *xt;
	const struct erofs_import_tar_opts *opts;
	const struct erofs_log *log;
	const char *src;       /* the archive, for messages */
	const char *name;      /* the entry for messages (escaped) */
	char shown[SHOWN_MAX]; /* the last entry's name, escaped */
	struct archive *a;     /* NULL: --tar=headerball, no libarchive */
	struct erofs_dstream *ds;
	/* --tar=headerball: the block of the stream being parsed */
	const uint8_t *hb_buf;
	size_t hb_len;
	char at[40]; /* " at offset N" of the entry, or "" */
	int spool_fd;
	uint64_t spool_end;
	const struct erofs_tar_sink *sink;
	struct erofs_tar_sink spool_sink;
	struct erofs_inode *sp_inode;
	uint64_t sp_start, sp_pos;
	bool implicit_root;	/* created here: takes the first mtime */
	bool lower;		/* the tree held entries before this import */
	uint64_t chunk_indexes; /* claimed by regular files so far */
	bool root_opaque, root_whiteouts;

	struct pnode *map;
	uint64_t map_cap;
	uint64_t map_used;
};

/*
 * Shared between the importer's modules only: hidden, never exported from
 * the library.
 */
#define TAR_INTERNAL __attribute__((visibility("hidden")))

/* import_tar.c */
/* an error of the entry being read: names the archive, the entry, where */
TAR_INTERNAL int bad_entry(struct tar *c, int err, const char *why);
/* skips the entry's body (a headerball has none) */
TAR_INTERNAL int skip_body(struct tar *c);
/* mode (of @type), owner, mtime and device number of @e */
TAR_INTERNAL void set_meta(struct erofs_inode *inode, struct archive_entry *e,
			   mode_t type);

/* import_tar_path.c */
TAR_INTERNAL int map_grow(struct tar *c);
TAR_INTERNAL void map_free(struct tar *c);
/* the node of @path (the first @len bytes), or NULL */
TAR_INTERNAL struct pnode *map_find(struct tar *c, const char *path,
				    size_t len);
/* a node for @path, created empty (inode NULL) when new; NULL: no memory */
TAR_INTERNAL struct pnode *map_get(struct tar *c, const char *path, size_t len);
/* node @n (named @base in @parent) takes over what an earlier source left */
TAR_INTERNAL void resolve_lower(struct tar *c, struct pnode *n,
				struct erofs_inode *parent, const char *base,
				mode_t type);
/* puts @inode at node @n (a path below @parent named @base) */
TAR_INTERNAL int place(struct tar *c, struct pnode *n,
		       struct erofs_inode *parent, const char *base,
		       struct erofs_inode *inode);
/* the directory at path[0, len), created with its missing parents */
TAR_INTERNAL int parent_dir(struct tar *c, const char *path, size_t len,
			    struct archive_entry *e, struct erofs_inode **dirp);
/* ".wh.NAME" and ".wh..wh..opq" (@name: what follows ".wh.") */
TAR_INTERNAL int do_whiteout(struct tar *c, struct archive_entry *e, char *path,
			     struct erofs_inode *parent, const char *name);
/* --aufs, at the end: trusted.overlay.opaque and .origin on directories */
TAR_INTERNAL int overlay_marks(struct tar *c);

/* import_tar_xattr.c */
/* xattrs and POSIX ACLs of @e; replaces whatever @inode carried */
TAR_INTERNAL int set_xattrs(struct tar *c, struct erofs_inode *inode,
			    struct archive_entry *e);

#endif

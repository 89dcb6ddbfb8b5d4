/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Importers fill the builder's inode tree from a source and stream regular
 * file data through its data path.
 */
#ifndef EROFS_IMPORT_H
#define EROFS_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "erofs/build.h"
#include "erofs/builder.h"
#include "erofs/log.h"
#include "liberofs_tree.h"
#include "liberofs_xattr.h"

struct erofs_import_dir_opts {
	bool no_xattrs;
	const struct erofs_exclude *exclude;
};

struct erofs_builder;

/*
 * Walks @srcdir (which must be a directory) in name order into the
 * builder's tree, over what earlier imports put there (a directory merges
 * into a directory, anything else replaces the entry).  Every entry is
 * opened once, relative to its directory's fd and without following
 * symlinks; a regular file's data is streamed from that fd at once.  Every
 * error names the entry: a vanished entry, an unreadable directory, a bad
 * name, a file that changed while read.  0 or -errno.
 */
int erofs_import_dir(struct erofs_builder *b, const char *srcdir,
		     const struct erofs_import_dir_opts *opts);

/*
 * Where the archive importer sends regular file data: the contract of
 * erofs_builder_data_begin/_write/_hole/_end (liberofs_builder.h), called
 * in order while the archive is read; external() for --tar=i, whose data
 * stays in the archive at byte @off of the decompressed stream (a multiple
 * of 512).
 */
struct erofs_tar_sink {
	int (*begin)(void *arg, struct erofs_inode *inode, const char *what);
	int (*write)(void *arg, const void *buf, size_t len);
	int (*hole)(void *arg, uint64_t len);
	int (*end)(void *arg);
	int (*external)(void *arg, struct erofs_inode *inode, uint64_t off);
	/* --tar=headerball: a file without data (NULL: a hole of its size) */
	int (*absent)(void *arg, struct erofs_inode *inode);
	void *arg;
	/*
	 * optional: the whole data of @inode is at byte @off of @fd, to be
	 * read from there (begin, write, hole and end in one)
	 */
	int (*data_fd)(void *arg, struct erofs_inode *inode, int fd,
		       uint64_t off, const char *what);
};

struct erofs_import_tar_opts {
	bool no_xattrs;
	const struct erofs_exclude *exclude;
	int fd; /* >= 0: read the archive from it, not @path */
	/* failing to recognise the archive says "not a directory or ..." */
	bool could_be_dir;
	/* layer semantics: .wh.* entries (erofs/builder.h) */
	enum erofs_whiteout_mode whiteouts;
	/* drop overlayfs whiteouts and trusted.overlay.* xattrs */
	bool ovlfs_strip;
	/*
	 * chunk size of the image (0: flat files): regular files may claim
	 * at most EROFS_TAR_MAX_CHUNK_INDEXES chunks in all, so a small
	 * sparse archive cannot demand gigabytes of chunk tables
	 */
	uint64_t chunksize;
	/* block size of the image: without chunks a file is 2^32 blocks at most
	 */
	unsigned int blkszbits;
	/*
	 * --tar=f (or AUTO), --tar=i (needs sink->external), --tar=headerball
	 * (ustar/GNU/pax headers without file bodies, read by tar_header.c;
	 * regular files get no data: sink->absent)
	 */
	enum erofs_tar_mode tar_mode;
	/*
	 * the time of the directories the archive only implies (its root,
	 * missing parents) when the build's time is fixed (-T,
	 * SOURCE_DATE_EPOCH), as erofs-utils gives them; otherwise they take
	 * the time of the entry that implies them (reproducible where
	 * erofs-utils uses the current time)
	 */
	bool have_dir_time;
	uint64_t dir_time;
	/* NULL: data is copied to @spool_fd (src_spooled, src_off) */
	const struct erofs_tar_sink *sink;
	/*
	 * @dump_name set: the whole decompressed stream is also written to
	 * @dump_fd (--ungzip=FILE), @dump_name in messages
	 */
	const char *dump_name;
	int dump_fd;
};

/* 256 MiB of chunk indexes: 128 GiB of files at 4 KiB chunks, 32 TiB at 1 MiB
 */
#define EROFS_TAR_MAX_CHUNK_INDEXES (1ull << 25)

/*
 * Reads the archive @path (any format and compression libarchive knows,
 * except mtree and raw) into @t and @xt.  Regular file data is appended
 * to @spool_fd (block-aligned, holes of sparse entries left as holes) and
 * the inodes point there (src_spooled, src_off).  Entry paths are
 * normalised as erofs_tar_path_normalize() does; missing parent
 * directories are created (0755, root:root, the mtime of the entry that
 * needed them); a later entry for a path replaces the earlier one, except
 * that a directory entry over a directory only updates its metadata and a
 * non-directory never replaces a non-empty directory.  Every error names
 * the archive and the entry.  0 or -errno.
 */
int erofs_import_tar(struct erofs_tree *t, struct erofs_xattr_table *xt,
		     const char *path, int spool_fd,
		     const struct erofs_import_tar_opts *opts);

/*
 * Normalises an archive member path in place: leading "./" goes,
 * "." components and repeated or trailing slashes are dropped; "" is the
 * root.  -EINVAL for a ".." component, -EXDEV for an absolute path
 * (a leading '/' before a name: members never leave the tree),
 * -ENAMETOOLONG for a component over 255 bytes.
 */
int erofs_tar_path_normalize(char *path);

/* POSIX ACL tags of the kernel's system.posix_acl_* xattr format */
enum {
	EROFS_ACL_USER_OBJ = 0x01,
	EROFS_ACL_USER = 0x02,
	EROFS_ACL_GROUP_OBJ = 0x04,
	EROFS_ACL_GROUP = 0x08,
	EROFS_ACL_MASK = 0x10,
	EROFS_ACL_OTHER = 0x20,
};
#define EROFS_ACL_XATTR_VERSION 2
#define EROFS_ACL_UNDEFINED_ID	0xffffffffu

struct erofs_acl_entry {
	uint16_t tag;  /* EROFS_ACL_* */
	uint16_t perm; /* rwx = 4|2|1 */
	uint32_t id;   /* uid/gid for USER/GROUP */
};

/*
 * Sorts @e as the kernel keeps it (by tag, then id) and encodes the xattr
 * value (4 + 8 * @n bytes) into @out.  Ids of the entries without one
 * become EROFS_ACL_UNDEFINED_ID.  -EINVAL for an ACL the kernel would
 * reject: a missing or repeated owner, group or other entry, a repeated
 * user or group id, named entries without a mask, a permission above 7.
 */
int erofs_acl_encode(struct erofs_acl_entry *e, unsigned int n, uint8_t *out,
		     size_t outsz);

/*
 * Opens @rel (relative to @rootfd) for reading without following symlinks
 * in its last component; works for paths longer than PATH_MAX.
 */
int erofs_open_rel(int rootfd, const char *rel);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The builder object every importer feeds (the contract mkfs.erofs and
 * erofs-convert are written against).
 *
 *   erofs_builder_create()        outputs opened under temporary names
 *   erofs_builder_import_*()      any number of sources into one tree;
 *                                 regular file data is chunked, deduplicated,
 *                                 hashed and written while it is read
 *   erofs_builder_tree()          the tree, for path operations between
 *                                 imports (lookup, mkdir -p, remove subtree)
 *   erofs_builder_finish()        layout, metadata, superblock checksum,
 *                                 manifest; outputs renamed into place
 *   erofs_builder_destroy()       frees; removes every temporary output of
 *                                 a builder that did not finish
 *
 * An image may have several blob devices: erofs_builder_begin_blob()
 * starts a new one, and data imported after it goes there, except chunks
 * that an earlier blob of the same builder already stores, which are
 * referenced where they are.  A blob that received no bytes is dropped at
 * finish (no device slot, no file).
 */
#ifndef EROFS_BUILDER_H
#define EROFS_BUILDER_H

#include <stdbool.h>
#include <stdint.h>

#include "erofs/build.h"

struct erofs_builder;
struct erofs_tree;

/* what to do with ".wh.NAME" / ".wh..wh..opq" entries of a layer */
enum erofs_whiteout_mode {
	EROFS_WHITEOUT_KEEP = 0, /* plain files, as in the archive */
	EROFS_WHITEOUT_OVERLAY,	 /* --aufs: overlayfs whiteouts/opaque */
	EROFS_WHITEOUT_APPLY,	 /* merge: delete from the tree */
};

struct erofs_builder_source_opts {
	enum erofs_whiteout_mode whiteouts;
	bool ovlfs_strip; /* drop overlayfs whiteouts, trusted.overlay.* */
	const char *name; /* for messages: "layer 2/5 (sha256:...)" */
};

int erofs_builder_create(struct erofs_builder **bp, const char *dest,
			 const struct erofs_build_opts *opts,
			 const struct erofs_log *log);

/* the tree the imports fill */
struct erofs_tree *erofs_builder_tree(struct erofs_builder *b);

int erofs_builder_import_dir(struct erofs_builder *b, const char *srcdir,
			     const struct erofs_builder_source_opts *so);

/*
 * Reads an archive from @fd (>= 0) or @path in one pass; compression is
 * detected; the whole stream is drained and verified (trailers, checksums)
 * before this returns 0.
 */
int erofs_builder_import_tar(struct erofs_builder *b, const char *path, int fd,
			     const struct erofs_builder_source_opts *so);

/*
 * Starts blob device number @index (1-based, in order) written to @path;
 * returns 0 or -errno.  erofs_builder_create() starts blob 1 at
 * opts->blobdev when that is set.
 */
int erofs_builder_begin_blob(struct erofs_builder *b, const char *path);

int erofs_builder_finish(struct erofs_builder *b,
			 struct erofs_build_result *res);
void erofs_builder_destroy(struct erofs_builder *b);

#endif

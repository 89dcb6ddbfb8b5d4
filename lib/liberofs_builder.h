/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The builder's side that importers use (private): the tree, the xattr
 * table and the streaming data path.  An importer creates inodes in the
 * tree and, for each regular file, hands its bytes over in order while it
 * reads them; the builder chunks, deduplicates, hashes and writes them at
 * once, so no file is ever spooled or held whole in memory.
 *
 * Tree path operations (lookup, creating parents, removing a subtree) live
 * in liberofs_tree.h.
 */
#ifndef LIBEROFS_BUILDER_H
#define LIBEROFS_BUILDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "erofs/builder.h"
#include "liberofs_tree.h"
#include "liberofs_xattr.h"

struct erofs_xattr_table *erofs_builder_xattrs(struct erofs_builder *b);
const struct erofs_build_opts *erofs_builder_opts(struct erofs_builder *b);
const struct erofs_log *erofs_builder_log(struct erofs_builder *b);

/*
 * Streams the data of regular file @inode, whose inode->size is already
 * set: _begin, then _write and _hole calls covering exactly inode->size
 * bytes in order, then _end.  One file at a time per builder.  A short or
 * long stream is an error naming the file (@what, used in messages).
 */
int erofs_builder_data_begin(struct erofs_builder *b, struct erofs_inode *inode,
			     const char *what);
int erofs_builder_data_write(struct erofs_builder *b, const void *buf,
			     size_t len);
/* @len bytes that read as zeros (a hole of a sparse entry) */
int erofs_builder_data_hole(struct erofs_builder *b, uint64_t len);
int erofs_builder_data_end(struct erofs_builder *b);

/*
 * --tar=i: the data of @inode (inode->size bytes) stays in the source
 * archive at byte @off (a multiple of 512), which is appended to the image.
 */
int erofs_builder_data_external(struct erofs_builder *b,
				struct erofs_inode *inode, uint64_t off);

/*
 * --tar=headerball: @inode (inode->size bytes) has no data at all; it
 * becomes a chunk-based file of holes (every chunk EROFS_NULL_ADDR), which
 * reads as zeros and takes no space, as erofs-utils makes it.
 */
int erofs_builder_data_absent(struct erofs_builder *b,
			      struct erofs_inode *inode);

/*
 * The whole data of @inode from @fd at byte @base, read straight into the
 * builder's buffers (begin, write, hole and end in one).  With @st0, the
 * stat taken when the file was opened: holes are found with SEEK_DATA
 * (within the size only) when it shows some, and a file whose size or mtime
 * differs at the end is an error naming it (@what).  Without (a member of
 * an archive) the bytes are read as they are.  Ending early is an error.
 */
int erofs_builder_data_fd(struct erofs_builder *b, struct erofs_inode *inode,
			  int fd, uint64_t base, const char *what,
			  const struct stat *st0);

/* importers call this after each entry: progress now and then */
void erofs_builder_tick(struct erofs_builder *b);

/* whether (@dev, @ino) is a file this builder is writing */
bool erofs_builder_is_output(struct erofs_builder *b, dev_t dev, ino_t ino);

#endif

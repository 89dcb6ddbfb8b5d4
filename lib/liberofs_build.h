/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The builder object's insides, shared by its modules:
 *
 *   build.c          options, create/destroy, imports, progress, one shot
 *   build_outputs.c  the output registry: every file the build writes is
 *                    named and checked first, written unlinked (O_TMPFILE)
 *                    or under a temporary name, and appears only at commit
 *   build_data.c     the streaming data path (staging, chunks, flat data)
 *   build_blobs.c    blob devices: starting one, finishing the writers,
 *                    dropping empty blobs and renumbering devices
 *   build_order.c    --sort=path: file data laid out in path order
 *   build_finish.c   inode overrides, layout, metadata, manifest
 */
#ifndef LIBEROFS_BUILD_H
#define LIBEROFS_BUILD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "liberofs_blob.h"
#include "liberofs_builder.h"
#include "liberofs_chunk.h"
#include "liberofs_image.h"
#include "erofs/manifest.h"
#include "erofs/util.h"

#define BLOB_QUEUE_BYTES (32u << 20)
#define FLAT_IO_SIZE	 (1u << 20)
#define MAX_OUTPUTS	 (3 + 64)

/* one output file: its name, identity and the file being written */
struct build_out {
	const char *path; /* canonical: real directory + base name */
	dev_t dev;
	ino_t ino;
	bool exists; /* a file at the path before the build */
	dev_t tdev;  /* the temporary file being written */
	ino_t tino;
	struct erofs_outfile of;
	bool open; /* created, not yet committed or removed */
	bool committed;
};

struct builder_blob {
	char *path;
	struct erofs_blob w;
	bool started;
	unsigned int out_idx; /* in outs[] */
	uint16_t new_id;      /* device id after empty blobs are dropped */
	uint64_t size;
	char sha[EROFS_SHA256_HEX_LEN + 1];
};

struct erofs_builder {
	struct erofs_build_opts o;
	const struct erofs_log *log;
	char *dest;
	unsigned int blksz;
	struct erofs_tree tree;
	struct erofs_xattr_table xt;
	uint64_t build_time;
	uint32_t build_time_nsec;
	uint8_t uuid[16];
	uint8_t boot_data_sha[EROFS_SHA256_LEN]; /* the data area, streamed */
	struct erofs_image_opts est;		 /* for the inline estimate */

	unsigned int boot_out; /* the bootstrap, in outs[] */
	int manifest_out;      /* in outs[], or -1 */
	/* --ungzip=FILE: the decompressed archive, written while it is read */
	int dump_out;		 /* in outs[], or -1 */
	bool dump_used;		 /* an archive was read (the first one only) */
	struct erofs_blob bootw; /* the bootstrap's data area */
	bool bootw_started;
	uint32_t data_start; /* first block of the data area */

	struct builder_blob **blobs; /* each fixed in memory: threads */
	unsigned int nr_blobs;
	struct erofs_chunk_store cs;
	bool cs_init;

	struct build_out outs[MAX_OUTPUTS];
	unsigned int nr_outs;

	/* the file being streamed */
	struct erofs_inode *cur;
	char *cur_what;
	uint64_t cur_pos;
	uint64_t chunk_idx;
	bool keep_tail; /* flat: the tail stays in memory */
	uint8_t *sbuf;	/* staging: one chunk, or FLAT_IO_SIZE */
	size_t sbuf_len;
	size_t sbuf_size;

	uint64_t flat_bytes, flat_zero, flat_stored;
	uint64_t bytes_in;
	uint64_t last_entries, last_bytes;
	uint64_t relaid, relay_total; /* --sort=path copy, when under way */
	unsigned int source;
	bool failed;
};

/* build.c */
void erofs_build_report(struct erofs_builder *b, bool done);
/* the UUID is derived from the content at the end (no -U, no epoch) */
static inline bool
erofs_build_uuid_from_content(const struct erofs_build_opts *o)
{
	return o->uuid_mode == EROFS_UUID_DERIVED && !o->have_epoch;
}
/* --sort=path: @bytes more laid out again; a report now and then */
void erofs_builder_relay_tick(struct erofs_builder *b, uint64_t bytes);

/* build_outputs.c */
/*
 * Names output @path (@what for messages) after checking it is a file name
 * and not the same file as an output named before; *@idx gets its slot.
 * Nothing is created yet.
 */
int erofs_build_out_add(struct erofs_builder *b, const char *path,
			const char *what, unsigned int *idx);
/*
 * Creates the file of output @idx, @path as it was given (unlinked, or
 * under a temporary name next to it)
 */
int erofs_build_out_open(struct erofs_builder *b, unsigned int idx,
			 const char *path);
static inline int erofs_build_out_fd(const struct erofs_builder *b,
				     unsigned int idx)
{
	return b->outs[idx].of.fd;
}
/*
 * Creates a new file for open output @idx in the place of the one being
 * written, which *@old gets (to read, then erofs_outfile_abort())
 */
int erofs_build_out_replace(struct erofs_builder *b, unsigned int idx,
			    struct erofs_outfile *old);
/* names every open output; all or none appear */
int erofs_build_out_commit_all(struct erofs_builder *b);
/* removes every output not committed, frees the registry */
void erofs_build_out_free(struct erofs_builder *b);
/* a source (@fd >= 0, or @path) must not be an output */
int erofs_build_check_source(struct erofs_builder *b, int fd, const char *path);
/*
 * How the manifest names output @out: relative to the manifest's
 * directory when below it, absolute otherwise; as given without one.
 */
char *erofs_build_manifest_name(const char *manifest, const char *out);

/* build_data.c */
/* frees the staging buffer of a stream that did not end */
void erofs_build_data_abort(struct erofs_builder *b);

/* build_blobs.c */
/*
 * Waits for every writer; blobs that got no bytes are dropped and the
 * chunks of the others renumbered.  *@nr_kept: blobs kept.
 */
int erofs_build_finish_writers(struct erofs_builder *b, unsigned int *nr_kept);
void erofs_build_blobs_free(struct erofs_builder *b);

/* build_order.c */
/*
 * After the writers finished and the tree was finalized: lays the data of
 * every device out in path order (copying a device only when its data is
 * not in that order yet) and rewrites the addresses; the devices' sizes
 * and digests are updated.
 */
int erofs_build_order_data(struct erofs_builder *b);

/* build_finish.c */
/*
 * -T, SOURCE_DATE_EPOCH, --all-root, --force-uid/gid, --uid/gid-offset
 * applied to @inode.  @log NULL: an estimate, errors are not reported.
 */
int erofs_build_override_inode(const struct erofs_build_opts *o,
			       uint64_t build_time, const struct erofs_tree *t,
			       const struct erofs_log *log,
			       struct erofs_inode *inode);

#endif

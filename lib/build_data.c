// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The builder's streaming data path.  An importer hands a regular file's
 * bytes over in order (begin, write/hole, end, or a whole descriptor);
 * they are staged in buffers from the blob writer's pool and leave as soon
 * as a unit is complete:
 *
 *   chunked files   one chunk at a time to the chunk store, which
 *                   deduplicates it and appends it to the current blob
 *                   (writer thread); whole-chunk holes share one zero
 *                   extent
 *   flat files      whole blocks to the bootstrap's data area, right after
 *                   the superblock, in FLAT_IO_SIZE batches; whole-block
 *                   holes stay holes; a tail that fits beside the inode
 *                   stays in memory until the layout
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "liberofs_build.h"

static void drop_stage(struct erofs_builder *b, struct erofs_blob *w)
{
	if (b->sbuf)
		erofs_blob_release(w, b->sbuf);
	b->sbuf = NULL;
	b->sbuf_len = 0;
}

static struct erofs_blob *stage_owner(struct erofs_builder *b)
{
	return b->cur && b->cur->datalayout == EROFS_INODE_CHUNK_BASED
		   ? b->cs.blob
		   : &b->bootw;
}

static int data_fail(struct erofs_builder *b, int err)
{
	drop_stage(b, stage_owner(b));
	b->cur = NULL;
	b->failed = true;
	return err;
}

int erofs_builder_data_begin(struct erofs_builder *b, struct erofs_inode *inode,
			     const char *what)
{
	uint64_t tail, blocks;

	if (b->cur)
		return erofs_fail(b->log, -EBUSY,
				  "%s: another file is being streamed", what);
	if (b->failed)
		return -ECANCELED;
	if (!S_ISREG(inode->mode))
		return erofs_fail(b->log, -EINVAL, "%s: not a regular file",
				  what);
	free(b->cur_what);
	b->cur_what = strdup(what);
	if (!b->cur_what)
		return -ENOMEM;
	erofs_inode_free_chunks(inode);
	free(inode->inline_data);
	inode->inline_data = NULL;
	inode->nr_blocks = 0;
	inode->inline_size = 0;
	inode->data_state = EROFS_DATA_NONE;
	b->cur = inode;
	b->cur_pos = 0;
	b->chunk_idx = 0;
	b->sbuf_len = 0;
	b->keep_tail = false;
	if (!inode->size) {
		inode->datalayout = EROFS_INODE_FLAT_PLAIN;
		return 0;
	}
	if (b->o.chunksize) {
		inode->datalayout = EROFS_INODE_CHUNK_BASED;
		if (erofs_inode_set_chunks(
			inode, erofs_div_round_up(inode->size, b->o.chunksize)))
			return data_fail(b, -ENOMEM);
		b->sbuf_size = b->o.chunksize;
		return 0;
	}
	/* flat: whole blocks to the data area, the tail inline if it fits */
	inode->datalayout = EROFS_INODE_FLAT_PLAIN;
	blocks = inode->size / b->blksz;
	if (blocks >= EROFS_NULL_ADDR)
		return data_fail(b, erofs_fail(b->log, -EFBIG,
					       "%s: too big for a flat file",
					       what));
	inode->raw_blkaddr = b->data_start + b->bootw.size / b->blksz;
	inode->nr_blocks = blocks;
	tail = inode->size % b->blksz;
	if (tail && !b->o.no_inline_data) {
		struct erofs_inode est = *inode;
		unsigned int isize;

		erofs_build_override_inode(&b->o, b->build_time, &b->tree, NULL,
					   &est);
		erofs_xattr_size_inode(inode);
		isize = erofs_inode_core_size(
			    erofs_image_inode_extended(&b->est, &est)) +
			inode->xattr_isize;
		/* small files: decided at layout, where the tail may move */
		b->keep_tail = !inode->nr_blocks || isize + tail <= b->blksz;
	}
	if (tail && !b->keep_tail)
		inode->nr_blocks++;
	if ((uint64_t)inode->raw_blkaddr + inode->nr_blocks >= EROFS_NULL_ADDR)
		return data_fail(b, erofs_fail(b->log, -EFBIG,
					       "%s: image exceeds 2^32 blocks",
					       what));
	/* small files: a buffer of their size, big ones: pooled */
	b->sbuf_size = inode->size >= FLAT_IO_SIZE
			   ? FLAT_IO_SIZE
			   : erofs_round_up(inode->size, b->blksz);
	return 0;
}

/* appends the staged whole blocks of a flat file */
static int flush_flat(struct erofs_builder *b)
{
	uint64_t off;
	int err;

	if (!b->sbuf_len)
		return 0;
	err = erofs_blob_append(&b->bootw, b->sbuf, b->sbuf_len, b->sbuf_size,
				&off);
	b->flat_stored += b->sbuf_len;
	b->sbuf = NULL;
	b->sbuf_len = 0;
	return err;
}

/* stores the staged chunk (@len bytes of it) */
static int flush_chunk(struct erofs_builder *b, size_t len)
{
	int err = erofs_chunk_put(&b->cs, b->sbuf, b->sbuf_size, len,
				  &erofs_inode_chunks(b->cur)[b->chunk_idx]);

	b->sbuf = NULL;
	b->sbuf_len = 0;
	b->chunk_idx++;
	return err;
}

/*
 * Where the next bytes go: *@room bytes at the returned pointer (never past
 * the current chunk or staging buffer, nor past the file's size).
 */
static void *stage_space(struct erofs_builder *b, size_t *room)
{
	uint64_t left = b->cur->size - b->cur_pos;

	if (!b->sbuf) {
		b->sbuf = erofs_blob_alloc(stage_owner(b), b->sbuf_size);
		if (!b->sbuf)
			return NULL;
		b->sbuf_len = 0;
	}
	*room = b->sbuf_size - b->sbuf_len;
	if (*room > left)
		*room = left;
	return b->sbuf + b->sbuf_len;
}

/* @n bytes were placed at stage_space(): flush what is complete */
static int stage_commit(struct erofs_builder *b, size_t n)
{
	b->sbuf_len += n;
	b->cur_pos += n;
	if (b->sbuf_len < b->sbuf_size)
		return 0;
	if (b->cur->datalayout == EROFS_INODE_CHUNK_BASED)
		return flush_chunk(b, b->sbuf_len);
	return flush_flat(b);
}

static int too_long(struct erofs_builder *b)
{
	return erofs_fail(b->log, -EFBIG, "%s: more data than its size %llu",
			  b->cur_what, (unsigned long long)b->cur->size);
}

int erofs_builder_data_write(struct erofs_builder *b, const void *buf,
			     size_t len)
{
	const uint8_t *p = buf;

	if (!b->cur)
		return -EINVAL;
	if (len > b->cur->size - b->cur_pos)
		return data_fail(b, too_long(b));
	while (len) {
		size_t room;
		void *dst = stage_space(b, &room);
		int err;

		if (!dst)
			return data_fail(b, -ENOMEM);
		if (room > len)
			room = len;
		memcpy(dst, p, room);
		err = stage_commit(b, room);
		if (err)
			return data_fail(b, err);
		p += room;
		len -= room;
	}
	b->bytes_in += p - (const uint8_t *)buf;
	erofs_builder_tick(b);
	return 0;
}

int erofs_builder_data_hole(struct erofs_builder *b, uint64_t len)
{
	struct erofs_inode *inode = b->cur;
	int err;

	if (!inode)
		return -EINVAL;
	if (len > inode->size - b->cur_pos)
		return data_fail(b, too_long(b));
	b->bytes_in += len;
	while (len) {
		size_t room;
		void *dst;

		if (!b->sbuf_len &&
		    inode->datalayout == EROFS_INODE_CHUNK_BASED) {
			/* whole chunks of a hole: the shared zero extent */
			uint64_t clen = inode->size - b->cur_pos;

			if (clen > b->o.chunksize)
				clen = b->o.chunksize;
			if (len >= clen) {
				err = erofs_chunk_zero(
				    &b->cs, clen,
				    erofs_inode_chunks(inode) + b->chunk_idx++);
				if (err)
					return data_fail(b, err);
				b->cur_pos += clen;
				len -= clen;
				continue;
			}
		} else if (!(b->sbuf_len % b->blksz) &&
			   inode->datalayout != EROFS_INODE_CHUNK_BASED) {
			/* whole blocks of a hole: a hole of the image */
			uint64_t whole_end =
			    (inode->size / b->blksz) * b->blksz;
			uint64_t n = len / b->blksz * b->blksz, off;

			if (b->cur_pos + n > whole_end)
				n = whole_end > b->cur_pos
					? whole_end - b->cur_pos
					: 0;
			if (n >= b->blksz) {
				err = flush_flat(b);
				if (!err)
					err = erofs_blob_append_hole(&b->bootw,
								     n, &off);
				if (err)
					return data_fail(b, err);
				b->flat_zero += n;
				b->cur_pos += n;
				len -= n;
				continue;
			}
		}
		dst = stage_space(b, &room);
		if (!dst)
			return data_fail(b, -ENOMEM);
		if (room > len)
			room = len;
		/* up to the next block boundary, so whole blocks stay holes */
		if (inode->datalayout != EROFS_INODE_CHUNK_BASED &&
		    b->sbuf_len % b->blksz &&
		    room > b->blksz - b->sbuf_len % b->blksz)
			room = b->blksz - b->sbuf_len % b->blksz;
		memset(dst, 0, room);
		err = stage_commit(b, room);
		if (err)
			return data_fail(b, err);
		len -= room;
	}
	erofs_builder_tick(b);
	return 0;
}

int erofs_builder_data_end(struct erofs_builder *b)
{
	struct erofs_inode *inode = b->cur;
	int err = 0;

	if (!inode)
		return -EINVAL;
	if (b->cur_pos != inode->size)
		return data_fail(
		    b, erofs_fail(b->log, -EIO, "%s: %llu bytes of %llu",
				  b->cur_what, (unsigned long long)b->cur_pos,
				  (unsigned long long)inode->size));
	if (inode->datalayout == EROFS_INODE_CHUNK_BASED) {
		if (b->sbuf_len)
			err = flush_chunk(b, b->sbuf_len);
		if (!err && b->chunk_idx != inode->nr_chunks)
			err = erofs_fail(b->log, -EFAULT,
					 "%s: %llu chunks of %llu", b->cur_what,
					 (unsigned long long)b->chunk_idx,
					 (unsigned long long)inode->nr_chunks);
	} else if (inode->size) {
		size_t whole = b->sbuf_len / b->blksz * b->blksz;
		size_t tail = b->sbuf_len - whole;

		if (tail && b->keep_tail) {
			inode->inline_data = malloc(tail);
			if (!inode->inline_data)
				return data_fail(b, -ENOMEM);
			memcpy(inode->inline_data, b->sbuf + whole, tail);
			inode->inline_size = tail;
			b->sbuf_len = whole;
		} else if (tail) {
			memset(b->sbuf + b->sbuf_len, 0, b->blksz - tail);
			b->sbuf_len = whole + b->blksz;
		}
		if (b->sbuf_len)
			err = flush_flat(b);
		else
			drop_stage(b, &b->bootw);
		b->flat_bytes += inode->size;
	}
	if (err)
		return data_fail(b, err);
	inode->data_state = EROFS_DATA_STREAMED;
	b->cur = NULL;
	return 0;
}

int erofs_builder_data_external(struct erofs_builder *b,
				struct erofs_inode *inode, uint64_t off)
{
	if (off % b->blksz)
		return erofs_fail(b->log, -EINVAL,
				  "archive data at byte %llu is not aligned to "
				  "the %u-byte block size",
				  (unsigned long long)off, b->blksz);
	inode->datalayout = EROFS_INODE_FLAT_PLAIN;
	inode->data_state = EROFS_DATA_EXTERNAL;
	inode->src_off = off;
	return 0;
}

int erofs_builder_data_absent(struct erofs_builder *b,
			      struct erofs_inode *inode)
{
	unsigned int bits =
	    erofs_image_chunkbits(b->o.blkszbits, b->o.chunksize, inode->size);
	uint64_t n = inode->size ? ((inode->size - 1) >> bits) + 1 : 0;
	struct erofs_chunk_ref *refs;
	int err;

	erofs_inode_free_chunks(inode);
	inode->nr_blocks = 0;
	inode->inline_size = 0;
	inode->datalayout = EROFS_INODE_FLAT_PLAIN;
	inode->data_state = EROFS_DATA_STREAMED;
	if (!n)
		return 0;
	err = erofs_inode_set_chunks(inode, n);
	if (err)
		return err;
	refs = erofs_inode_chunks(inode);
	for (uint64_t i = 0; i < n; i++)
		refs[i] = (struct erofs_chunk_ref){
		    .device_id = 0,
		    .blkaddr = EROFS_NULL_ADDR,
		};
	inode->datalayout = EROFS_INODE_CHUNK_BASED;
	return 0;
}

/*
 * The bytes [@base, @base + inode->size) of @fd, read straight into the
 * staging buffers; holes (SEEK_DATA, looked for only within the size) are
 * not read.  A file that ends early is an error; with @st0 (the stat the
 * walk saw), so is one whose size or mtime changed by the end.
 */
int erofs_builder_data_fd(struct erofs_builder *b, struct erofs_inode *inode,
			  int fd, uint64_t base, const char *what,
			  const struct stat *st0)
{
	uint64_t size = inode->size, pos = 0, next_data = 0;
	bool sparse = st0 && (uint64_t)st0->st_blocks * 512 < size;
	struct stat st;
	int err;

	err = erofs_builder_data_begin(b, inode, what);
	if (err)
		return err;
	while (pos < size) {
		size_t room;
		ssize_t n;
		void *dst;

		if (sparse && next_data <= pos) {
			off_t d = lseek(fd, base + pos, SEEK_DATA);

			if (d < 0 && errno == ENXIO)
				next_data = size; /* hole to the end */
			else if (d < 0)
				sparse = false; /* cannot tell */
			else
				next_data = (uint64_t)d - base > size
						? size
						: (uint64_t)d - base;
			if (next_data > pos) {
				err =
				    erofs_builder_data_hole(b, next_data - pos);
				if (err)
					return err;
				pos = next_data;
				continue;
			}
			/* data from here: look again after a while */
			next_data = pos + (b->o.chunksize ? b->o.chunksize
							  : FLAT_IO_SIZE);
		}
		dst = stage_space(b, &room);
		if (!dst)
			return data_fail(b, -ENOMEM);
		n = erofs_pread_all(fd, dst, room, base + pos);
		if (n < 0)
			return data_fail(
			    b, erofs_err(b->log, n, "%s: read error at %llu",
					 what, (unsigned long long)pos));
		if ((size_t)n < room && st0) {
			err = erofs_fail(b->log, -EAGAIN,
					 "%s: shrank while it was read (%llu "
					 "bytes, expected %llu)",
					 what, (unsigned long long)(pos + n),
					 (unsigned long long)size);
			return data_fail(b, err);
		}
		if ((size_t)n < room) {
			err = erofs_fail(b->log, -EIO,
					 "%s: truncated: %llu of %llu bytes",
					 what, (unsigned long long)(pos + n),
					 (unsigned long long)size);
			return data_fail(b, err);
		}
		err = stage_commit(b, n);
		if (err)
			return data_fail(b, err);
		pos += n;
		b->bytes_in += n;
		erofs_builder_tick(b);
	}
	if (st0) {
		if (fstat(fd, &st) < 0)
			return data_fail(b, erofs_err(b->log, -errno,
						      "%s: cannot stat", what));
		if (st.st_size != st0->st_size ||
		    st.st_mtim.tv_sec != st0->st_mtim.tv_sec ||
		    st.st_mtim.tv_nsec != st0->st_mtim.tv_nsec) {
			err = erofs_fail(
			    b->log, -EAGAIN,
			    "%s: changed while it was read (size %llu -> %llu)",
			    what, (unsigned long long)st0->st_size,
			    (unsigned long long)st.st_size);
			return data_fail(b, err);
		}
	}
	return erofs_builder_data_end(b);
}

void erofs_build_data_abort(struct erofs_builder *b)
{
	if (b->cur)
		drop_stage(b, stage_owner(b));
}

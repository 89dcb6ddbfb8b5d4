// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Path order (mkfs.erofs --sort=path), applied when the writers are done.
 * File data is laid out the way erofs-utils writes it: a depth-first walk
 * of the tree where each directory's other entries come first, by name
 * (byte order), then its subdirectories, each in turn.  A file's data
 * follows the previous file's; a hard-linked file's lies at its first name
 * in that walk, a deduplicated chunk where it is first referenced; data
 * that nothing references any more (entries an archive replaced) is
 * dropped.
 *
 * Data is streamed as it arrives.  A device (the bootstrap's data area, a
 * blob) whose data is in path order already -- a directory walk reads it
 * in that order -- stays as it is.  Any other is copied extent by extent
 * into a new file that takes its place in the output registry, hashed as
 * it is written; then the chunk addresses and flat files' first blocks are
 * rewritten.  A failure leaves both files to the registry, which removes
 * them.  Blobs are not hashed while they are streamed (most are copied):
 * one that stays is hashed here.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "liberofs_build.h"

struct order_dev {
	struct erofs_blob *w; /* the finished writer: fd, base, size */
	uint32_t blk_base;    /* block address of the device's byte 0 */
	uint64_t blocks;      /* streamed */
	uint64_t next;	      /* dry run: blocks in path order so far */
	bool keep;	      /* in path order already */
	uint32_t *map;	      /* old block -> new block + 1 */
	unsigned int out_idx;
	struct erofs_blob nw; /* the new file's writer */
	bool nw_started;
	struct erofs_outfile old;
	bool have_old;
	uint8_t *buf; /* blocks gathered for the new writer */
	size_t buf_len;
};

struct order_ctx {
	struct erofs_builder *b;
	struct order_dev *devs;
	unsigned int nr_devs;
	bool dry;
};

static bool is_zero(const uint8_t *p, size_t len)
{
	return !len || (!p[0] && !memcmp(p, p + 1, len - 1));
}

/* hands the gathered blocks to the new writer (a hole when all zeros) */
static int flush_buf(struct order_ctx *c, struct order_dev *d)
{
	uint64_t off;
	int err;

	if (!d->buf_len)
		return 0;
	if (is_zero(d->buf, d->buf_len)) {
		err = erofs_blob_append_hole(&d->nw, d->buf_len, &off);
		erofs_blob_release(&d->nw, d->buf);
	} else {
		err = erofs_blob_append(&d->nw, d->buf, d->buf_len,
					FLAT_IO_SIZE, &off);
	}
	(void)c;
	d->buf = NULL;
	d->buf_len = 0;
	return err;
}

/* appends @nblk blocks at block @old of the streamed file to the new one */
static int copy_extent(struct order_ctx *c, struct order_dev *d, uint64_t old,
		       uint64_t nblk)
{
	unsigned int blksz = c->b->blksz;
	uint64_t from = d->w->base + old * blksz, left = nblk * blksz;

	while (left) {
		size_t n;
		ssize_t got;

		if (!d->buf) {
			d->buf = erofs_blob_alloc(&d->nw, FLAT_IO_SIZE);
			if (!d->buf)
				return -ENOMEM;
			d->buf_len = 0;
		}
		n = FLAT_IO_SIZE - d->buf_len;
		if (n > left)
			n = left;
		got = erofs_pread_all(d->w->fd, d->buf + d->buf_len, n, from);
		if (got < 0)
			return erofs_err(c->b->log, got,
					 "%s: cannot read back data at %llu",
					 d->w->name, (unsigned long long)from);
		/* a hole at the end of the streamed file */
		if ((size_t)got < n)
			memset(d->buf + d->buf_len + got, 0, n - got);
		d->buf_len += n;
		from += n;
		left -= n;
		erofs_builder_relay_tick(c->b, n);
		if (d->buf_len == FLAT_IO_SIZE) {
			int err = flush_buf(c, d);

			if (err)
				return err;
		}
	}
	return 0;
}

/* one extent of file data, in path order */
static int extent(struct order_ctx *c, const struct erofs_inode *inode,
		  unsigned int dev, uint32_t blkaddr, uint64_t nblk)
{
	struct erofs_builder *b = c->b;
	struct order_dev *d;
	uint64_t old;
	char path[512];

	if (dev >= c->nr_devs || blkaddr < c->devs[dev].blk_base ||
	    blkaddr - c->devs[dev].blk_base + nblk > c->devs[dev].blocks)
		return erofs_fail(
		    b->log, -EFAULT,
		    "%s: data at block %u of device %u lies outside what was "
		    "stored",
		    erofs_image_inode_path(&b->tree, inode, path, sizeof(path)),
		    blkaddr, dev);
	d = &c->devs[dev];
	old = blkaddr - d->blk_base;
	if (c->dry) {
		if (old == d->next)
			d->next += nblk;
		else if (old > d->next)
			d->keep = false;
		return 0;
	}
	if (d->keep || d->map[old])
		return 0;
	d->map[old] = d->nw.size / b->blksz + d->buf_len / b->blksz + 1;
	return copy_extent(c, d, old, nblk);
}

/* the stored blocks of chunk @i of @inode */
static uint64_t chunk_blocks(const struct erofs_builder *b,
			     const struct erofs_inode *inode, uint64_t i,
			     const struct erofs_chunk_ref *ref)
{
	uint64_t len = inode->size - i * b->o.chunksize;

	/* one whole-chunk extent serves every all-zero chunk */
	if (b->cs_init && b->cs.have_zero &&
	    ref->device_id == b->cs.zero.device_id &&
	    ref->blkaddr == b->cs.zero.blkaddr)
		len = b->o.chunksize;
	if (len > b->o.chunksize)
		len = b->o.chunksize;
	return erofs_div_round_up(len, b->blksz);
}

static int file_extents(struct order_ctx *c, struct erofs_inode *inode)
{
	struct erofs_builder *b = c->b;
	int err;

	if (!S_ISREG(inode->mode) || inode->data_state != EROFS_DATA_STREAMED)
		return 0;
	if (inode->datalayout == EROFS_INODE_CHUNK_BASED) {
		struct erofs_chunk_ref *ch = erofs_inode_chunks(inode);

		for (uint64_t i = 0; i < inode->nr_chunks; i++) {
			if (ch[i].blkaddr == EROFS_NULL_ADDR)
				continue;
			err = extent(c, inode, ch[i].device_id, ch[i].blkaddr,
				     chunk_blocks(b, inode, i, &ch[i]));
			if (err)
				return err;
		}
		return 0;
	}
	if (!inode->nr_blocks)
		return 0;
	return extent(c, inode, 0, inode->raw_blkaddr, inode->nr_blocks);
}

/* every regular file, in path order */
static int walk(struct order_ctx *c)
{
	struct erofs_tree *t = &c->b->tree;
	struct erofs_inode **stack;
	size_t n = 0, cap = 64;
	int err = 0;

	if (!t->root)
		return 0;
	stack = malloc(cap * sizeof(*stack));
	if (!stack)
		return -ENOMEM;
	stack[n++] = t->root;
	while (n && !err) {
		struct erofs_inode *dir = stack[--n];
		size_t top = n;

		for (unsigned int k = 0; k < dir->nr_children && !err; k++) {
			struct erofs_inode *in = dir->children[k].inode;

			if (!S_ISDIR(in->mode)) {
				err = file_extents(c, in);
				continue;
			}
			if (n == cap) {
				void *p =
				    realloc(stack, (cap *= 2) * sizeof(*stack));

				if (!p) {
					err = -ENOMEM;
					break;
				}
				stack = p;
			}
			stack[n++] = in;
		}
		/* the subdirectories, first name on top */
		for (size_t i = top, j = n; i + 1 < j; i++, j--) {
			struct erofs_inode *x = stack[i];

			stack[i] = stack[j - 1];
			stack[j - 1] = x;
		}
	}
	free(stack);
	return err;
}

/* the new address of a block streamed at @blkaddr on device @dev */
static int remap(struct order_ctx *c, unsigned int dev, uint32_t *blkaddr)
{
	struct order_dev *d = &c->devs[dev];
	uint32_t v;

	if (d->keep)
		return 0;
	v = d->map[*blkaddr - d->blk_base];
	if (!v)
		return erofs_fail(c->b->log, -EFAULT,
				  "block %u of device %u was not placed",
				  *blkaddr, dev);
	*blkaddr = d->blk_base + v - 1;
	return 0;
}

static int rewrite(struct order_ctx *c)
{
	struct erofs_tree *t = &c->b->tree;
	int err = 0;

	for (uint64_t i = 0; i < t->nr_inodes && !err; i++) {
		struct erofs_inode *inode = t->inodes[i];

		if (!S_ISREG(inode->mode) ||
		    inode->data_state != EROFS_DATA_STREAMED)
			continue;
		if (inode->datalayout == EROFS_INODE_CHUNK_BASED) {
			struct erofs_chunk_ref *ch = erofs_inode_chunks(inode);

			for (uint64_t k = 0; k < inode->nr_chunks && !err; k++)
				if (ch[k].blkaddr != EROFS_NULL_ADDR)
					err = remap(c, ch[k].device_id,
						    &ch[k].blkaddr);
		} else if (inode->nr_blocks) {
			err = remap(c, 0, &inode->raw_blkaddr);
		}
	}
	return err;
}

/* the digest of blob @bl, which keeps its streamed file */
static int hash_kept(struct order_ctx *c, struct order_dev *d,
		     struct builder_blob *bl)
{
	uint8_t md[EROFS_SHA256_LEN];
	int err = erofs_sha256_fd(d->w->fd, bl->size, md);

	if (err)
		return erofs_err(c->b->log, err, "%s: cannot hash", bl->path);
	erofs_hex(bl->sha, md, EROFS_SHA256_LEN);
	return 0;
}

/* a new file in the place of device @d's, and its writer */
static int start_copy(struct order_ctx *c, struct order_dev *d, bool hashing)
{
	struct erofs_builder *b = c->b;
	int err;

	d->map = calloc(d->blocks ? d->blocks : 1, sizeof(*d->map));
	if (!d->map)
		return -ENOMEM;
	err = erofs_build_out_replace(b, d->out_idx, &d->old);
	if (err)
		return err;
	d->have_old = true;
	err = erofs_blob_init(&d->nw, erofs_build_out_fd(b, d->out_idx),
			      d->w->base, b->blksz, hashing, BLOB_QUEUE_BYTES,
			      d->w->name, b->log);
	if (err)
		return err;
	d->nw_started = true;
	return erofs_blob_set_pool(&d->nw, FLAT_IO_SIZE);
}

int erofs_build_order_data(struct erofs_builder *b)
{
	struct order_ctx c = {.b = b, .nr_devs = b->nr_blobs + 1};
	uint8_t md[EROFS_SHA256_LEN];
	bool all_kept = true;
	int err = 0, e;

	c.devs = calloc(c.nr_devs, sizeof(*c.devs));
	if (!c.devs)
		return -ENOMEM;
	for (unsigned int i = 0; i < c.nr_devs; i++) {
		struct order_dev *d = &c.devs[i];

		d->w = i ? &b->blobs[i - 1]->w : &b->bootw;
		d->blk_base = i ? 0 : b->data_start;
		d->blocks = d->w->size / b->blksz;
		d->out_idx = i ? b->blobs[i - 1]->out_idx : b->boot_out;
		d->keep = true;
	}
	c.dry = true;
	err = walk(&c);
	for (unsigned int i = 0; i < c.nr_devs && !err; i++) {
		struct order_dev *d = &c.devs[i];

		d->keep = d->keep && d->next == d->blocks;
		if (!d->keep) {
			all_kept = false;
			b->relay_total += d->blocks * b->blksz;
			err = start_copy(&c, d, i != 0);
		}
	}
	if (!err && !all_kept) {
		erofs_info(b->log, "laying file data out in path order");
		c.dry = false;
		err = walk(&c);
	}
	for (unsigned int i = 0; i < c.nr_devs; i++) {
		struct order_dev *d = &c.devs[i];

		if (!err && d->buf)
			err = flush_buf(&c, d);
		if (d->buf)
			erofs_blob_release(&d->nw, d->buf);
		d->buf = NULL;
		if (!d->nw_started) {
			if (!err && i)
				err = hash_kept(&c, d, b->blobs[i - 1]);
			continue;
		}
		e = erofs_blob_finish(&d->nw, md);
		if (e && !err)
			err = e;
		if (err)
			continue;
		/* the new sizes and digests */
		if (i) {
			struct builder_blob *bl = b->blobs[i - 1];

			bl->size = d->nw.size;
			erofs_hex(bl->sha, md, EROFS_SHA256_LEN);
		} else {
			b->bootw.size = d->nw.size;
		}
	}
	if (!err && !all_kept)
		err = rewrite(&c);
	b->relaid = b->relay_total = 0;
	for (unsigned int i = 0; i < c.nr_devs; i++) {
		if (c.devs[i].have_old)
			erofs_outfile_abort(&c.devs[i].old);
		free(c.devs[i].map);
	}
	free(c.devs);
	return err;
}

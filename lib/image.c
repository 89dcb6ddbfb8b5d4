// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Image writer: layout pass and metadata encoding.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "erofs/build.h"
#include "liberofs_dir.h"
#include "liberofs_image.h"
#include "erofs/util.h"

#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((uint64_t)(a)-1))

/* newer erofs-utils mark prefixes stored outside any inode; 6.12 ignores it */
#define COMPAT_PLAIN_XATTR_PFX 0x00000010u
/* i_u.rdev = minor[7:0] | major << 8 | minor[19:8] << 20 */
#define RDEV_MAJOR_MAX 0xfffu
#define RDEV_MINOR_MAX 0xfffffu

int erofs_image_init(struct erofs_image_writer *img, struct erofs_tree *t,
		     struct erofs_xattr_table *xt,
		     const struct erofs_image_opts *opts,
		     const struct erofs_log *log)
{
	memset(img, 0, sizeof(*img));
	img->tree = t;
	img->xt = xt;
	img->opts = *opts;
	img->log = log;
	if (opts->chunk_blockmap && opts->nr_devices)
		return erofs_fail(
		    log, -EINVAL,
		    "a chunk block map cannot address blob devices");
	if (opts->nr_devices) {
		img->devices = calloc(opts->nr_devices, sizeof(*img->devices));
		if (!img->devices)
			return -ENOMEM;
	}
	return 0;
}

void erofs_image_free(struct erofs_image_writer *img)
{
	free(img->devices);
	img->devices = NULL;
}

bool erofs_image_inode_extended(const struct erofs_image_opts *opts,
				const struct erofs_inode *inode)
{
	return inode->uid > UINT16_MAX || inode->gid > UINT16_MAX ||
	       inode->nlink > UINT16_MAX || inode->size > UINT32_MAX ||
	       (!opts->ignore_mtime &&
		((uint64_t)inode->mtime != opts->build_time ||
		 inode->mtime_nsec != opts->build_time_nsec));
}

static bool needs_extended(const struct erofs_image_writer *img,
			   const struct erofs_inode *inode)
{
	return erofs_image_inode_extended(&img->opts, inode);
}

const char *erofs_image_inode_path(const struct erofs_tree *t,
				   const struct erofs_inode *inode, char *buf,
				   size_t size)
{
	const struct erofs_inode *cur = inode;
	size_t pos = size - 1;

	if (!size)
		return buf;
	buf[pos] = '\0';
	while (cur != t->root) {
		const struct erofs_dentry *d = NULL;
		const struct erofs_inode *dir = NULL;

		/* the directory holding @cur */
		for (uint64_t i = 0; i < t->nr_all && !d; i++) {
			const struct erofs_inode *c = erofs_tree_inode(t, i);

			if (!S_ISDIR(c->mode) ||
			    (S_ISDIR(cur->mode) && c != cur->parent))
				continue;
			for (unsigned int k = 0; k < c->nr_children; k++)
				if (c->children[k].inode == cur) {
					d = &c->children[k];
					dir = c;
					break;
				}
		}
		if (!d || d->namelen + 1 > pos)
			break;
		pos -= d->namelen;
		memcpy(buf + pos, d->name, d->namelen);
		buf[--pos] = '/';
		cur = dir;
	}
	if (pos == size - 1)
		buf[--pos] = '/';
	return buf + pos;
}

/* compact or extended, as -E force-inode-* and --ignore-mtime ask */
static int choose_form(struct erofs_image_writer *img,
		       struct erofs_inode *inode)
{
	char path[512];

	switch (img->opts.inode_form) {
	case EROFS_FORM_EXTENDED:
		inode->extended = true;
		return 0;
	case EROFS_FORM_COMPACT:
		inode->extended = false;
		if (!needs_extended(img, inode))
			return 0;
		return erofs_fail(img->log, -EINVAL,
				  "%s: cannot be a compact inode (owner, "
				  "group, link count or size too large)",
				  erofs_image_inode_path(img->tree, inode, path,
							 sizeof(path)));
	default:
		inode->extended = needs_extended(img, inode);
		return 0;
	}
}

/*
 * What the format cannot hold is refused, naming the file: xattrs beyond
 * the 16-bit count, device numbers beyond 12-bit major / 20-bit minor.
 */
static int check_encodable(struct erofs_image_writer *img,
			   struct erofs_inode *inode)
{
	char path[512];

	if (erofs_xattr_size_inode(inode))
		return erofs_fail(
		    img->log, -E2BIG,
		    "%s: extended attributes exceed what an EROFS inode holds",
		    erofs_image_inode_path(img->tree, inode, path,
					   sizeof(path)));
	if ((S_ISCHR(inode->mode) || S_ISBLK(inode->mode)) &&
	    (inode->rdev_major > RDEV_MAJOR_MAX ||
	     inode->rdev_minor > RDEV_MINOR_MAX))
		return erofs_fail(img->log, -ERANGE,
				  "%s: device number %u:%u does not fit EROFS "
				  "(major up to %u, minor up to %u)",
				  erofs_image_inode_path(img->tree, inode, path,
							 sizeof(path)),
				  inode->rdev_major, inode->rdev_minor,
				  RDEV_MAJOR_MAX, RDEV_MINOR_MAX);
	return 0;
}

/* bytes of one chunk table entry: 8-byte indexes or a 4-byte block map */
static unsigned int chunk_unit(const struct erofs_image_writer *img)
{
	return img->opts.chunk_blockmap ? EROFS_BLOCK_MAP_ENTRY_SIZE
					: EROFS_CHUNK_INDEX_SIZE;
}

/*
 * Chooses the data layout of a flat inode of @size bytes: whole blocks plus
 * a tail that goes inline when it fits next to the inode in one block.
 */
static void plan_flat(struct erofs_inode *inode, uint64_t size,
		      unsigned int blksz, bool may_inline, uint64_t *pos)
{
	unsigned int isize =
	    erofs_inode_core_size(inode->extended) + inode->xattr_isize;
	unsigned int tail = size % blksz;

	inode->nr_blocks = size / blksz;
	inode->inline_size = 0;
	inode->datalayout = EROFS_INODE_FLAT_PLAIN;
	if (tail && !may_inline) {
		inode->nr_blocks++;
	} else if (tail) {
		uint64_t need = isize + tail;

		if ((*pos % blksz) + need <= blksz) {
			inode->datalayout = EROFS_INODE_FLAT_INLINE;
		} else if (need <= blksz) {
			*pos = ALIGN_UP(*pos, blksz);
			inode->datalayout = EROFS_INODE_FLAT_INLINE;
		} else {
			inode->nr_blocks++;
		}
		if (inode->datalayout == EROFS_INODE_FLAT_INLINE)
			inode->inline_size = tail;
	}
}

/*
 * A regular file whose whole blocks the builder streamed to the data area
 * (raw_blkaddr, nr_blocks) and whose tail (inline_size bytes) it kept in
 * memory: the tail goes inline when it fits; otherwise the file moves to
 * the area after the metadata, where its blocks and the tail block can sit
 * together (relocate).
 */
static void plan_streamed(struct erofs_inode *inode, unsigned int blksz,
			  uint64_t *pos)
{
	unsigned int isize =
	    erofs_inode_core_size(inode->extended) + inode->xattr_isize;
	uint64_t need = isize + inode->inline_size;

	inode->relocate = false;
	if (!inode->inline_size) {
		inode->datalayout = EROFS_INODE_FLAT_PLAIN;
		return;
	}
	if (need <= blksz) {
		if ((*pos % blksz) + need > blksz)
			*pos = ALIGN_UP(*pos, blksz);
		inode->datalayout = EROFS_INODE_FLAT_INLINE;
		return;
	}
	inode->datalayout = EROFS_INODE_FLAT_PLAIN;
	inode->relocate = true;
	inode->old_blkaddr = inode->raw_blkaddr;
}

int erofs_image_layout(struct erofs_image_writer *img)
{
	struct erofs_tree *t = img->tree;
	unsigned int blksz = 1u << img->opts.blkszbits;
	uint64_t pos, blk, devt_end;

	devt_end = EROFS_SUPER_OFFSET + EROFS_SB_SIZE +
		   (uint64_t)img->opts.nr_devices * EROFS_DEVT_SLOT_SIZE;
	if (img->opts.data_blocks) {
		/* data first: the metadata follows the streamed data */
		if (devt_end > (uint64_t)img->opts.data_start * blksz)
			return erofs_fail(img->log, -E2BIG,
					  "%u blob devices do not fit before "
					  "the data in the bootstrap",
					  img->opts.nr_devices);
		img->meta_blkaddr =
		    img->opts.data_start + img->opts.data_blocks;
		pos = (uint64_t)img->meta_blkaddr * blksz;
	} else {
		img->meta_blkaddr = 0;
		pos = devt_end;
	}
	img->meta_base = (uint64_t)img->meta_blkaddr * blksz;
	/* long xattr name prefixes open the metadata area */
	img->prefix_start = ALIGN_UP(pos, 4);
	pos = img->prefix_start + erofs_xattr_prefix_table_size(img->xt);
	pos = ALIGN_UP(pos, EROFS_SLOT_SIZE);
	img->meta_start = pos;

	for (uint64_t i = 0; i < t->nr_inodes; i++) {
		struct erofs_inode *inode = t->inodes[i];
		unsigned int isize;

		int err = check_encodable(img, inode);

		if (err)
			return err;
		if (S_ISDIR(inode->mode)) {
			inode->size = erofs_dir_size(inode, blksz);
			if (!inode->size)
				return -ENOMEM;
		}
		err = choose_form(img, inode);
		if (err)
			return err;
		isize =
		    erofs_inode_core_size(inode->extended) + inode->xattr_isize;
		if (S_ISREG(inode->mode) &&
		    inode->datalayout == EROFS_INODE_CHUNK_BASED) {
			img->has_chunks = true;
		} else if (S_ISREG(inode->mode) &&
			   inode->data_state == EROFS_DATA_STREAMED) {
			plan_streamed(inode, blksz, &pos);
		} else if (S_ISREG(inode->mode) &&
			   inode->data_state == EROFS_DATA_EXTERNAL) {
			uint64_t n = erofs_div_round_up(inode->size, blksz);

			if (n >= EROFS_NULL_ADDR)
				return erofs_fail(
				    img->log, -EFBIG,
				    "a file of %llu bytes: too many blocks",
				    (unsigned long long)inode->size);
			inode->datalayout = EROFS_INODE_FLAT_PLAIN;
			inode->nr_blocks = n;
			inode->inline_size = 0;
		} else if (S_ISDIR(inode->mode) || S_ISLNK(inode->mode)) {
			plan_flat(inode, inode->size, blksz, true, &pos);
		} else {
			inode->datalayout = EROFS_INODE_FLAT_PLAIN;
			inode->nr_blocks = 0;
			inode->inline_size = 0;
		}
		inode->nid = (pos - img->meta_base) / EROFS_SLOT_SIZE;
		if (inode->datalayout == EROFS_INODE_CHUNK_BASED)
			pos += ALIGN_UP(isize, chunk_unit(img)) +
			       (uint64_t)inode->nr_chunks * chunk_unit(img);
		else
			pos += isize +
			       (inode->datalayout == EROFS_INODE_FLAT_INLINE
				    ? inode->inline_size
				    : 0);
		pos = ALIGN_UP(pos, EROFS_SLOT_SIZE);
	}
	if (t->root->nid > UINT16_MAX)
		return erofs_fail(
		    img->log, -E2BIG,
		    "the root nid %llu does not fit the superblock",
		    (unsigned long long)t->root->nid);
	img->meta_end = pos;

	blk = erofs_div_round_up(pos, blksz);
	img->xattr_blkaddr = img->xt->shared_size ? blk : 0;
	blk += erofs_div_round_up(img->xt->shared_size, blksz);
	img->data_blkaddr = blk;
	for (uint64_t i = 0; i < t->nr_inodes; i++) {
		struct erofs_inode *inode = t->inodes[i];

		if (inode->datalayout == EROFS_INODE_CHUNK_BASED ||
		    inode->data_state == EROFS_DATA_EXTERNAL)
			continue;
		if (S_ISREG(inode->mode) && !inode->relocate) {
			/* streamed: in the data area already */
			if (!inode->nr_blocks)
				inode->raw_blkaddr =
				    inode->inline_size ? EROFS_NULL_ADDR : 0;
			continue;
		}
		if (inode->relocate) {
			inode->nr_blocks++;
		} else if (!inode->nr_blocks) {
			/* all inline or empty: the address is never used */
			inode->raw_blkaddr =
			    inode->inline_size ? EROFS_NULL_ADDR : 0;
			continue;
		}
		inode->raw_blkaddr = blk;
		blk += inode->nr_blocks;
		if (blk >= EROFS_NULL_ADDR)
			return erofs_fail(img->log, -EFBIG,
					  "image exceeds 2^32 blocks");
	}
	img->data_end = blk;
	img->total_blocks = blk;
	/* --tar=i: the archive follows the image */
	for (uint64_t i = 0; i < t->nr_inodes; i++) {
		struct erofs_inode *inode = t->inodes[i];
		uint64_t a;

		if (!S_ISREG(inode->mode) ||
		    inode->data_state != EROFS_DATA_EXTERNAL)
			continue;
		a = blk + inode->src_off / blksz;
		if (a + inode->nr_blocks >= EROFS_NULL_ADDR)
			return erofs_fail(img->log, -EFBIG,
					  "archive data beyond 2^32 blocks");
		inode->raw_blkaddr = inode->nr_blocks ? a : 0;
	}
	return 0;
}

/* moves a streamed file's blocks and its tail block after the metadata */
static int erofs_image_relocate(struct erofs_image_writer *img, int fd,
				struct erofs_inode *inode, uint8_t **bufp,
				size_t *cap)
{
	unsigned int blksz = 1u << img->opts.blkszbits;
	uint64_t whole = (uint64_t)(inode->nr_blocks - 1) * blksz;
	uint64_t from = (uint64_t)inode->old_blkaddr * blksz;
	uint64_t to = (uint64_t)inode->raw_blkaddr * blksz;
	const size_t step = 1u << 20;
	int err;

	if (*cap < step) {
		void *p = realloc(*bufp, step);

		if (!p)
			return -ENOMEM;
		*bufp = p;
		*cap = step;
	}
	for (uint64_t d = 0; d < whole; d += step) {
		size_t n = whole - d < step ? whole - d : step;
		ssize_t got = erofs_pread_all(fd, *bufp, n, from + d);

		if (got >= 0 && (size_t)got < n)
			memset(*bufp + got, 0, n - got); /* a hole */
		if (got < 0)
			return erofs_err(img->log, got,
					 "cannot read back data");
		err = erofs_pwrite_all(fd, *bufp, n, to + d);
		if (err)
			return erofs_err(img->log, err, "cannot write data");
	}
	memset(*bufp, 0, blksz);
	memcpy(*bufp, inode->inline_data, inode->inline_size);
	err = erofs_pwrite_all(fd, *bufp, blksz, to + whole);
	if (err)
		return erofs_err(img->log, err, "cannot write data");
	inode->inline_size = 0;
	return 0;
}

int erofs_image_write_dir_data(struct erofs_image_writer *img, int fd)
{
	struct erofs_tree *t = img->tree;
	unsigned int blksz = 1u << img->opts.blkszbits;
	uint8_t *buf = NULL;
	size_t cap = 0;
	int err = 0;

	for (uint64_t i = 0; i < t->nr_inodes && !err; i++) {
		struct erofs_inode *inode = t->inodes[i];
		size_t len = ALIGN_UP(inode->size, blksz);

		if (S_ISREG(inode->mode) && inode->relocate) {
			err = erofs_image_relocate(img, fd, inode, &buf, &cap);
			continue;
		}
		if (!S_ISDIR(inode->mode) && !S_ISLNK(inode->mode))
			continue;
		if (len > cap) {
			void *p = realloc(buf, len);

			if (!p) {
				err = -ENOMEM;
				break;
			}
			buf = p;
			cap = len;
		}
		if (S_ISDIR(inode->mode)) {
			err = erofs_dir_encode(inode, blksz, buf);
		} else {
			memset(buf, 0, len);
			memcpy(buf, inode->link_target, inode->size);
		}
		if (err)
			break;
		if (inode->inline_size) {
			free(inode->inline_data);
			inode->inline_data = malloc(inode->inline_size);
			if (!inode->inline_data) {
				err = -ENOMEM;
				break;
			}
			memcpy(inode->inline_data,
			       buf + inode->nr_blocks * blksz,
			       inode->inline_size);
		}
		if (inode->nr_blocks) {
			err = erofs_pwrite_all(
			    fd, buf, inode->nr_blocks * (size_t)blksz,
			    (uint64_t)inode->raw_blkaddr * blksz);
			if (err)
				err = erofs_err(img->log, err,
						"cannot write directory data");
		}
	}
	free(buf);
	return err;
}

static uint32_t inode_i_u(const struct erofs_image_writer *img,
			  const struct erofs_inode *inode)
{
	switch (inode->mode & S_IFMT) {
	case S_IFCHR:
	case S_IFBLK:
		return erofs_rdev_encode(inode->rdev_major, inode->rdev_minor);
	case S_IFIFO:
	case S_IFSOCK:
		return 0;
	}
	if (inode->datalayout == EROFS_INODE_CHUNK_BASED)
		return (img->opts.chunk_blockmap ? 0
						 : EROFS_CHUNK_FORMAT_INDEXES) |
		       (erofs_image_chunkbits(img->opts.blkszbits,
					      img->opts.chunksize,
					      inode->size) -
			img->opts.blkszbits);
	return inode->raw_blkaddr;
}

/* encodes @inode at @p, its slot */
static void encode_inode(const struct erofs_image_writer *img,
			 const struct erofs_inode *inode, uint8_t *p)
{
	struct erofs_dinode di = {
	    .extended = inode->extended,
	    .datalayout = inode->datalayout,
	    .xattr_icount = inode->xattr_icount,
	    .mode = inode->mode,
	    .size = inode->size,
	    .i_u = inode_i_u(img, inode),
	    .ino = inode->order,
	    .uid = inode->uid,
	    .gid = inode->gid,
	    .mtime = inode->mtime,
	    .mtime_nsec = inode->mtime_nsec,
	    .nlink = inode->nlink,
	};
	unsigned int isize = erofs_inode_core_size(inode->extended);

	erofs_inode_encode(&di, p);
	erofs_xattr_encode_ibody(inode, img->opts.xattr_filter, p + isize);
	isize += inode->xattr_isize;
	if (inode->datalayout == EROFS_INODE_FLAT_INLINE && inode->inline_size)
		memcpy(p + isize, inode->inline_data, inode->inline_size);
	if (inode->datalayout == EROFS_INODE_CHUNK_BASED) {
		uint8_t *tab = p + ALIGN_UP(isize, chunk_unit(img));
		const struct erofs_chunk_ref *ch =
		    inode->nr_chunks == 1 ? &inode->chunk : inode->chunks;

		for (uint64_t c = 0; c < inode->nr_chunks; c++)
			if (img->opts.chunk_blockmap)
				erofs_put_le32(tab + c * 4, ch[c].blkaddr);
			else
				erofs_chunk_index_encode(
				    tab + c * EROFS_CHUNK_INDEX_SIZE,
				    ch[c].device_id, ch[c].blkaddr);
	}
}

/*
 * The metadata is written through a window of META_WINDOW bytes (more when
 * one inode needs it), moved forward at inode boundaries: memory does not
 * grow with the number of inodes.  Bytes never written are holes, which
 * read as the zeros they stand for.
 */
#define META_WINDOW (4u << 20)

struct meta_win {
	uint8_t *buf;
	uint64_t base; /* file offset of buf[0] */
	uint64_t cap;
	uint8_t *head; /* from block 0: kept to the end */
	uint64_t head_len;
	int fd;
};

/* writes [base, @upto) and copies what lies in the head into it */
static int win_flush(struct meta_win *w, uint64_t upto)
{
	uint64_t n = upto - w->base;

	if (w->base < w->head_len)
		memcpy(w->head + w->base, w->buf,
		       (upto < w->head_len ? upto : w->head_len) - w->base);
	return n ? erofs_pwrite_all(w->fd, w->buf, n, w->base) : 0;
}

/* makes [@start, @end) part of the window; the window's bytes before
 * @start are written first when it has to move */
static int win_reach(struct meta_win *w, uint64_t start, uint64_t end)
{
	int err;

	if (end <= w->base + w->cap)
		return 0;
	err = win_flush(w, start);
	if (err)
		return err;
	memset(w->buf, 0, w->cap);
	w->base = start;
	if (end - start > w->cap) {
		void *p = realloc(w->buf, end - start);

		if (!p)
			return -ENOMEM;
		memset((uint8_t *)p + w->cap, 0, end - start - w->cap);
		w->buf = p;
		w->cap = end - start;
	}
	return 0;
}

int erofs_image_write_meta(struct erofs_image_writer *img, int fd)
{
	unsigned int blksz = 1u << img->opts.blkszbits;
	/*
	 * The metadata: [meta_base, data_blkaddr) -- inodes, inline data,
	 * chunk tables, shared xattrs.  The head -- superblock and device
	 * table, [0, data_start blocks) -- is written separately when
	 * streamed data lies in between; when the metadata starts at block
	 * 0, the head is its first blocks, kept in memory so that the
	 * superblock and its checksum, which covers block 0, come last.
	 */
	struct meta_win w = {
	    .base = img->meta_base,
	    .cap = META_WINDOW,
	    .head_len = img->meta_base ? (uint64_t)img->opts.data_start * blksz
				       : ALIGN_UP(img->meta_start, blksz),
	    .fd = fd,
	};
	struct erofs_tree *t = img->tree;
	struct erofs_sb sb = {0};
	uint8_t *shared = NULL;
	int err = 0;

	if (w.cap < img->meta_start - img->meta_base)
		w.cap = img->meta_start - img->meta_base;
	w.buf = calloc(1, w.cap);
	w.head = calloc(1, w.head_len);
	if (!w.buf || !w.head) {
		err = -ENOMEM;
		goto out;
	}
	if (img->xt->nr_prefixes) {
		erofs_xattr_encode_prefixes(img->xt,
					    w.buf + img->prefix_start - w.base);
		sb.feature_incompat |= EROFS_FEATURE_INCOMPAT_XATTR_PREFIXES;
		sb.feature_compat |= COMPAT_PLAIN_XATTR_PFX;
		sb.xattr_prefix_count = img->xt->nr_prefixes;
		sb.xattr_prefix_start = img->prefix_start / 4;
	}
	for (uint64_t i = 0; i < t->nr_inodes && !err; i++) {
		const struct erofs_inode *inode = t->inodes[i];
		uint64_t start = img->meta_base + inode->nid * EROFS_SLOT_SIZE;
		uint64_t end = i + 1 < t->nr_inodes
				   ? img->meta_base +
					 t->inodes[i + 1]->nid * EROFS_SLOT_SIZE
				   : img->meta_end;

		err = win_reach(&w, start, end);
		if (!err)
			encode_inode(img, inode, w.buf + (start - w.base));
	}
	if (!err)
		err = win_flush(&w, img->meta_end > w.base ? img->meta_end
							   : w.base);
	if (!err && img->xt->shared_size) {
		shared = calloc(1, img->xt->shared_size);
		if (!shared) {
			err = -ENOMEM;
			goto out;
		}
		erofs_xattr_encode_shared(img->xt, shared);
		err = erofs_pwrite_all(fd, shared, img->xt->shared_size,
				       (uint64_t)img->xattr_blkaddr * blksz);
	}
	if (err)
		goto out;
	for (unsigned int d = 0; d < img->opts.nr_devices; d++)
		erofs_devslot_encode(&img->devices[d],
				     w.head + EROFS_SUPER_OFFSET +
					 EROFS_SB_SIZE +
					 d * EROFS_DEVT_SLOT_SIZE);

	sb.feature_compat |= EROFS_FEATURE_COMPAT_MTIME;
	if (!img->opts.no_sbcrc)
		sb.feature_compat |= EROFS_FEATURE_COMPAT_SB_CHKSUM;
	if (img->opts.xattr_filter)
		sb.feature_compat |= EROFS_FEATURE_COMPAT_XATTR_FILTER;
	if (img->has_chunks)
		sb.feature_incompat |= EROFS_FEATURE_INCOMPAT_CHUNKED_FILE;
	if (img->opts.nr_devices) {
		sb.feature_incompat |= EROFS_FEATURE_INCOMPAT_DEVICE_TABLE;
		sb.extra_devices = img->opts.nr_devices;
		sb.devt_slotoff =
		    (EROFS_SUPER_OFFSET + EROFS_SB_SIZE) / EROFS_DEVT_SLOT_SIZE;
	}
	sb.blkszbits = img->opts.blkszbits;
	sb.root_nid = t->root->nid;
	sb.inos = t->nr_inodes;
	sb.build_time = img->opts.build_time;
	sb.build_time_nsec = img->opts.build_time_nsec;
	sb.blocks = img->total_blocks;
	sb.meta_blkaddr = img->meta_blkaddr;
	sb.xattr_blkaddr = img->xattr_blkaddr;
	memcpy(sb.uuid, img->opts.uuid, 16);
	memcpy(sb.volume_name, img->opts.volume_name, EROFS_VOLNAME_LEN);
	erofs_sb_encode(&sb, w.head + EROFS_SUPER_OFFSET);
	/* last: the checksum covers everything else in block 0 */
	if (!img->opts.no_sbcrc)
		erofs_put_le32(w.head + EROFS_SUPER_OFFSET + 4,
			       erofs_sb_checksum(w.head, img->opts.blkszbits));
	err = erofs_pwrite_all(fd, w.head, w.head_len, 0);
out:
	free(w.buf);
	free(w.head);
	free(shared);
	if (err)
		return erofs_err(img->log, err, "cannot write metadata");
	return 0;
}

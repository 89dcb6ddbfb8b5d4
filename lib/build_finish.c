// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Finishing a build: the options that rewrite inodes (time, owners), hard
 * links split by --hard-dereference, the tree finalized, the writers
 * drained, the layout and metadata written after the data, the manifest
 * filled, and every output committed at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "liberofs_build.h"

static int sha256_file(int fd, uint64_t size, char *hex)
{
	uint8_t md[EROFS_SHA256_LEN];
	int err = erofs_sha256_fd(fd, size, md);

	if (!err)
		erofs_hex(hex, md, EROFS_SHA256_LEN);
	return err;
}

/* adds a --uid-offset/--gid-offset to an id; -ERANGE outside 32 bits */
static int offset_id(const struct erofs_tree *t, const struct erofs_log *log,
		     struct erofs_inode *inode, uint32_t *id, int64_t off,
		     const char *what)
{
	int64_t v = (int64_t)*id + off;

	if (v < 0 || v > UINT32_MAX) {
		char path[512];

		if (!log)
			return -ERANGE;
		return erofs_fail(
		    log, -ERANGE, "%s: %s %u%+lld is outside 0..4294967295",
		    erofs_image_inode_path(t, inode, path, sizeof(path)), what,
		    *id, (long long)off);
	}
	*id = v;
	return 0;
}

int erofs_build_override_inode(const struct erofs_build_opts *o,
			       uint64_t build_time, const struct erofs_tree *t,
			       const struct erofs_log *log,
			       struct erofs_inode *inode)
{
	int err = 0;

	if (o->all_root)
		inode->uid = inode->gid = 0;
	if (o->force_uid >= 0)
		inode->uid = o->force_uid;
	if (o->force_gid >= 0)
		inode->gid = o->force_gid;
	if (o->uid_offset)
		err =
		    offset_id(t, log, inode, &inode->uid, o->uid_offset, "uid");
	if (o->gid_offset && !err)
		err =
		    offset_id(t, log, inode, &inode->gid, o->gid_offset, "gid");
	if (err || o->mkfs_time_only)
		return err;
	if (o->fixed_time) {
		inode->mtime = build_time;
		inode->mtime_nsec = 0;
	} else if (o->have_epoch && inode->mtime > (int64_t)o->epoch) {
		/* reproducible-builds clamping */
		inode->mtime = o->epoch;
		inode->mtime_nsec = 0;
	}
	return 0;
}

/* --hard-dereference: every extra link of a file becomes a copy of it */
static int split_hard_links(struct erofs_tree *t)
{
	uint64_t n = t->nr_all;

	for (uint64_t i = 0; i < n; i++) {
		struct erofs_inode *dir = erofs_tree_inode(t, i);

		if (!S_ISDIR(dir->mode))
			continue;
		for (unsigned int k = 0; k < dir->nr_children; k++) {
			struct erofs_inode *o = dir->children[k].inode, *c;

			if (S_ISDIR(o->mode) || o->nlink < 2)
				continue;
			c = erofs_tree_new_inode(t);
			if (!c)
				return -ENOMEM;
			*c = *o;
			c->nlink = 1;
			c->src_path = o->src_path ? strdup(o->src_path) : NULL;
			if (S_ISLNK(o->mode))
				c->link_target = NULL;
			c->xattrs = NULL;
			c->inline_data = NULL;
			/* stored data is shared by the copies, not copied */
			if (o->nr_chunks > 1) {
				c->chunks =
				    malloc(o->nr_chunks * sizeof(*c->chunks));
				if (!c->chunks) {
					c->nr_chunks = 0;
					return -ENOMEM;
				}
				memcpy(c->chunks, o->chunks,
				       o->nr_chunks * sizeof(*c->chunks));
			}
			if (o->inline_data) {
				c->inline_data = malloc(o->inline_size);
				if (!c->inline_data)
					return -ENOMEM;
				memcpy(c->inline_data, o->inline_data,
				       o->inline_size);
			}
			if (S_ISLNK(o->mode) && o->link_target) {
				c->link_target = malloc(o->size + 1);
				if (c->link_target)
					memcpy(c->link_target, o->link_target,
					       o->size + 1);
			}
			if (o->nr_xattrs)
				c->xattrs =
				    malloc(o->nr_xattrs * sizeof(*c->xattrs));
			if ((o->src_path && !c->src_path) ||
			    (S_ISLNK(o->mode) && o->link_target &&
			     !c->link_target) ||
			    (o->nr_xattrs && !c->xattrs))
				return -ENOMEM;
			for (unsigned int x = 0; x < o->nr_xattrs; x++) {
				c->xattrs[x] = o->xattrs[x];
				c->xattrs[x]->refcount++;
			}
			o->nlink--;
			dir->children[k].inode = c;
		}
	}
	return 0;
}

static int fill_manifest(struct erofs_builder *b, uint64_t boot_size,
			 uint64_t regular_files, unsigned int nr_kept,
			 struct erofs_manifest *m)
{
	const struct erofs_chunk_stats *st = &b->cs.st;
	unsigned int k = 0;
	int err;

	memset(m, 0, sizeof(*m));
	m->bootstrap_path = erofs_build_manifest_name(b->o.manifest, b->dest);
	if (!m->bootstrap_path)
		return -ENOMEM;
	m->bootstrap_size = boot_size;
	err = sha256_file(erofs_build_out_fd(b, b->boot_out), boot_size,
			  m->bootstrap_sha256);
	if (err)
		return erofs_err(b->log, err, "%s: cannot hash", b->dest);
	m->block_size = b->blksz;
	m->chunk_size = b->o.chunksize;
	if (b->o.fsid && !(m->fsid = strdup(b->o.fsid)))
		return -ENOMEM;
	if (b->o.domain_id && !(m->domain_id = strdup(b->o.domain_id)))
		return -ENOMEM;
	if (nr_kept) {
		m->blobs = calloc(nr_kept, sizeof(*m->blobs));
		if (!m->blobs)
			return -ENOMEM;
		m->nr_blobs = nr_kept;
	}
	for (unsigned int i = 0; i < b->nr_blobs; i++) {
		struct builder_blob *bl = b->blobs[i];
		struct erofs_manifest_blob *mb;

		if (!bl->new_id)
			continue;
		mb = &m->blobs[k++];
		mb->device_id = bl->new_id;
		strcpy(mb->tag, bl->sha);
		strcpy(mb->sha256, bl->sha);
		mb->size = bl->size;
		mb->blocks = bl->size / b->blksz;
		mb->path = erofs_build_manifest_name(b->o.manifest, bl->path);
		if (!mb->path)
			return -ENOMEM;
	}
	m->counts.inodes = b->tree.nr_inodes;
	m->counts.regular_files = regular_files;
	m->counts.chunks = st->chunks;
	m->counts.unique_chunks = st->unique;
	m->counts.zero_chunks = st->zero;
	m->counts.bytes_in = st->bytes_in + b->flat_bytes;
	m->counts.bytes_stored = st->bytes_stored + b->flat_stored;
	m->counts.bytes_deduplicated = st->bytes_dedup;
	m->counts.bytes_zero = st->bytes_zero + b->flat_zero;
	return 0;
}

/* feeds [@from, @to) of @fd to @ctx, its superblock checksum as zeros */
static int hash_range(EVP_MD_CTX *ctx, int fd, uint8_t *buf, size_t cap,
		      uint64_t from, uint64_t to)
{
	const uint64_t crc_at = EROFS_SUPER_OFFSET + 4;

	for (uint64_t off = from; off < to;) {
		size_t n = to - off < cap ? to - off : cap;
		ssize_t got = erofs_pread_all(fd, buf, n, off);

		if (got < 0)
			return got;
		if ((size_t)got != n)
			return -EIO;
		/* the checksum changes with the UUID: it counts as zero */
		if (off <= crc_at && crc_at + 4 <= off + n)
			memset(buf + (crc_at - off), 0, 4);
		EVP_DigestUpdate(ctx, buf, n);
		off += n;
	}
	return 0;
}

/*
 * The default UUID (no -U, no SOURCE_DATE_EPOCH), once the bootstrap is
 * written with a zero UUID: the SHA-256 of the bootstrap but its checksum
 * -- the head and metadata read back, the data area by the 128-bit XXH3
 * fingerprint taken as it was streamed -- which takes in the blobs'
 * digests from the device table.  The superblock is then written again.
 */
static int derive_uuid(struct erofs_builder *b, int fd, uint64_t size)
{
	uint64_t data_from = (uint64_t)b->data_start * b->blksz;
	uint64_t data_to = data_from + b->bootw.size;
	size_t head_len = EROFS_SUPER_OFFSET + b->blksz, cap = 1u << 20;
	uint8_t md[EROFS_SHA256_LEN], *buf = malloc(cap);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ssize_t got;
	int err;

	if (!buf || !ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		err = -ENOMEM;
		goto out;
	}
	if (data_from > size)
		data_from = size;
	if (data_to > size)
		data_to = size;
	err = hash_range(ctx, fd, buf, cap, 0, data_from);
	if (err)
		goto out;
	/* the data area, even an empty one, by its fingerprint */
	EVP_DigestUpdate(ctx, b->boot_data_sha, sizeof(b->boot_data_sha));
	err = hash_range(ctx, fd, buf, cap, data_to, size);
	if (err)
		goto out;
	EVP_DigestFinal_ex(ctx, md, NULL);
	/* RFC 9562 version 8 (a SHA-256 name-based UUID), variant 10 */
	md[6] = (md[6] & 0x0f) | 0x80;
	md[8] = (md[8] & 0x3f) | 0x80;
	memcpy(b->uuid, md, 16);
	if (head_len > size)
		head_len = size;
	got = erofs_pread_all(fd, buf, head_len, 0);
	if (got < 0 || (size_t)got != head_len) {
		err = got < 0 ? got : -EIO;
		goto out;
	}
	memcpy(buf + EROFS_SUPER_OFFSET + 48, b->uuid, 16);
	if (!b->o.no_sbcrc)
		erofs_put_le32(buf + EROFS_SUPER_OFFSET + 4,
			       erofs_sb_checksum(buf, b->o.blkszbits));
	err =
	    erofs_pwrite_all(fd, buf + EROFS_SUPER_OFFSET,
			     head_len - EROFS_SUPER_OFFSET, EROFS_SUPER_OFFSET);
out:
	free(buf);
	EVP_MD_CTX_free(ctx);
	if (err)
		return erofs_err(b->log, err, "%s: cannot derive the UUID",
				 b->dest);
	return 0;
}

int erofs_builder_finish(struct erofs_builder *b,
			 struct erofs_build_result *res)
{
	struct erofs_image_writer img = {0};
	struct erofs_image_opts imo = {0};
	uint64_t boot_size, regular_files = 0;
	unsigned int nr_kept = 0;
	int boot_fd;
	int err;

	memset(res, 0, sizeof(*res));
	if (b->failed || b->cur)
		return b->cur
			   ? erofs_fail(b->log, -EBUSY,
					"%s: its data never ended", b->cur_what)
			   : -ECANCELED;
	b->failed = true; /* until it succeeded */
	if (!b->tree.root)
		return erofs_fail(b->log, -EINVAL, "nothing was imported");
	err = b->o.hard_dereference ? split_hard_links(&b->tree) : 0;
	for (uint64_t i = 0; i < b->tree.nr_all && !err; i++)
		err = erofs_build_override_inode(&b->o, b->build_time, &b->tree,
						 b->log,
						 erofs_tree_inode(&b->tree, i));
	if (!err)
		err = erofs_tree_finalize(&b->tree);
	if (err)
		return err;
	for (uint64_t i = 0; i < b->tree.nr_inodes; i++) {
		struct erofs_inode *inode = b->tree.inodes[i];

		if (!S_ISREG(inode->mode))
			continue;
		regular_files++;
		if (inode->data_state == EROFS_DATA_NONE && inode->size)
			return erofs_fail(
			    b->log, -EINVAL,
			    "a regular file of %llu bytes got no data",
			    (unsigned long long)inode->size);
		if (inode->data_state == EROFS_DATA_NONE)
			inode->datalayout = EROFS_INODE_FLAT_PLAIN;
	}
	erofs_info(b->log, "read %llu entries",
		   (unsigned long long)b->tree.nr_all);
	err = erofs_xattr_select_shared(&b->xt, b->o.xattr_tolerance);
	if (!err)
		err = erofs_build_finish_writers(b, &nr_kept);
	if (err)
		return err;
	/* --sort=path may have put a new file in the bootstrap's place */
	boot_fd = erofs_build_out_fd(b, b->boot_out);

	imo.blkszbits = b->o.blkszbits;
	imo.chunksize = b->o.chunksize;
	imo.xattr_filter = b->o.xattr_filter;
	imo.build_time = b->build_time;
	imo.build_time_nsec = b->build_time_nsec;
	memcpy(imo.uuid, b->uuid, 16);
	memcpy(imo.volume_name, b->o.label, sizeof(imo.volume_name));
	imo.nr_devices = nr_kept;
	imo.data_start = b->data_start;
	imo.data_blocks = b->bootw.size / b->blksz;
	imo.inode_form = b->o.inode_form;
	imo.ignore_mtime = b->o.ignore_mtime;
	imo.no_inline_data = b->o.no_inline_data;
	imo.chunk_blockmap = b->o.force_blockmap;
	imo.no_sbcrc = b->o.no_sbcrc;
	err = erofs_image_init(&img, &b->tree, &b->xt, &imo, b->log);
	if (err)
		goto out;
	for (unsigned int i = 0; i < b->nr_blobs; i++) {
		struct builder_blob *bl = b->blobs[i];

		if (!bl->new_id)
			continue;
		memcpy(img.devices[bl->new_id - 1].tag, bl->sha, EROFS_TAG_LEN);
		img.devices[bl->new_id - 1].blocks = bl->size / b->blksz;
		if (ftruncate(erofs_build_out_fd(b, bl->out_idx), bl->size) <
		    0) {
			err = erofs_err(b->log, -errno, "%s: cannot size",
					bl->path);
			goto out;
		}
	}
	err = erofs_image_layout(&img);
	if (err)
		goto out;
	erofs_info(
	    b->log,
	    "laid out %llu inodes, %llu shared xattrs, metadata at block %u",
	    (unsigned long long)b->tree.nr_inodes,
	    (unsigned long long)b->xt.nr_shared, img.meta_blkaddr);
	err = erofs_image_write_dir_data(&img, boot_fd);
	if (!err)
		err = erofs_image_write_meta(&img, boot_fd);
	if (err)
		goto out;
	boot_size = (uint64_t)img.total_blocks * b->blksz;
	if (ftruncate(boot_fd, boot_size) < 0) {
		err = erofs_err(b->log, -errno, "%s: cannot size", b->dest);
		goto out;
	}
	if (erofs_build_uuid_from_content(&b->o)) {
		err = derive_uuid(b, boot_fd, boot_size);
		if (err)
			goto out;
	}
	err =
	    fill_manifest(b, boot_size, regular_files, nr_kept, &res->manifest);
	if (err)
		goto out;
	if (b->manifest_out >= 0) {
		int fd = erofs_build_out_fd(b, b->manifest_out);

		err = erofs_manifest_write(&res->manifest, fd, b->o.manifest,
					   b->log);
		if (err)
			goto out;
	}
	/* a blob that got no bytes never appears */
	for (unsigned int i = 0; i < b->nr_blobs; i++) {
		struct build_out *o = &b->outs[b->blobs[i]->out_idx];

		if (!b->blobs[i]->new_id && o->open) {
			erofs_outfile_abort(&o->of);
			o->open = false;
		}
	}
	err = erofs_build_out_commit_all(b);
	if (!err) {
		b->failed = false;
		erofs_build_report(b, true);
	}
out:
	erofs_image_free(&img);
	if (err)
		erofs_build_result_free(res);
	return err;
}

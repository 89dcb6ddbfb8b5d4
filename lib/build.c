// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The builder: importers fill its tree and stream regular file data into
 * it as they read; erofs_builder_finish() lays out and writes the
 * metadata.
 *
 *   data      chunked files: chunk store -> current blob (writer thread);
 *             flat files (chunksize 0) and chunks without a blob: the
 *             bootstrap's data area, right after the superblock, as they
 *             arrive; inline tails stay in memory until the layout
 *   metadata  after the data (meta_blkaddr), then shared xattrs, then
 *             directory and symlink blocks; superblock checksum last
 *
 * Outputs are created at erofs_builder_create() unlinked (or under
 * temporary names) and appear at their names only when finish succeeds.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "liberofs_blob.h"
#include "liberofs_builder.h"
#include "liberofs_chunk.h"
#include "liberofs_image.h"
#include "liberofs_import.h"
#include "erofs/builder.h"
#include "erofs/cookie.h"
#include "erofs/util.h"

#define BLOB_QUEUE_BYTES	(32u << 20)
#define FLAT_IO_SIZE		(1u << 20)
#define PROGRESS_ENTRIES	4096
#define PROGRESS_BYTES		(64ull << 20)
#define MAX_OUTPUTS		(3 + 64)

void erofs_build_opts_init(struct erofs_build_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->blkszbits = 12;
	o->xattr_tolerance = 1;
	o->force_uid = -1;
	o->force_gid = -1;
}

int erofs_uuid_parse(const char *s, uint8_t uuid[16])
{
	char hex[33];
	int n = 0;

	for (const char *p = s; *p; p++) {
		if (*p == '-')
			continue;
		if (n == 32)
			return -EINVAL;
		hex[n++] = *p;
	}
	hex[n] = '\0';
	if (n != 32 || strlen(s) != 36 || s[8] != '-' || s[13] != '-' ||
	    s[18] != '-' || s[23] != '-')
		return -EINVAL;
	return erofs_unhex(uuid, hex, 16);
}

static int choose_uuid(const struct erofs_build_opts *o, uint8_t uuid[16])
{
	switch (o->uuid_mode) {
	case EROFS_UUID_CLEAR:
		memset(uuid, 0, 16);
		return 0;
	case EROFS_UUID_GIVEN:
		memcpy(uuid, o->uuid, 16);
		return 0;
	case EROFS_UUID_RANDOM:
		break;
	}
	if (o->have_epoch) {
		/* reproducible without -U: derived from the epoch */
		uint8_t md[EROFS_SHA256_LEN];
		char seed[64];
		int n = snprintf(seed, sizeof(seed), "erofs-ondemand:%llu",
				 (unsigned long long)o->epoch);

		EVP_Digest(seed, n, md, NULL, EVP_sha256(), NULL);
		memcpy(uuid, md, 16);
	} else if (getrandom(uuid, 16, 0) != 16) {
		return -errno;
	}
	uuid[6] = (uuid[6] & 0x0f) | 0x40;	/* version 4 */
	uuid[8] = (uuid[8] & 0x3f) | 0x80;	/* RFC 4122 variant */
	return 0;
}

static int sha256_file(int fd, uint64_t size, char *hex)
{
	uint8_t md[EROFS_SHA256_LEN];
	int err = erofs_sha256_fd(fd, size, md);

	if (!err)
		erofs_hex(hex, md, EROFS_SHA256_LEN);
	return err;
}

/* the canonical directory holding @path (which need not exist yet) */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real;

	if (!slash)
		return realpath(".", NULL);
	if (slash == path)
		return strdup("/");
	dir = strndup(path, slash - path);
	real = dir ? realpath(dir, NULL) : NULL;
	free(dir);
	return real;
}

/*
 * How the manifest names an output: relative to the manifest's directory
 * when the output lies below it (so the directory can be moved or served
 * as a whole), absolute otherwise; as given when there is no manifest.
 */
static char *manifest_path(const char *manifest, const char *out)
{
	const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
	char *mdir, *odir, *ret = NULL;
	size_t mlen;
	int n = 0;

	if (!manifest)
		return strdup(out);
	mdir = dir_of(manifest);
	odir = dir_of(out);
	if (mdir && odir) {
		mlen = strlen(mdir);
		if (!strcmp(odir, mdir))
			ret = strdup(base);
		else if (!strncmp(odir, mdir, mlen) && odir[mlen] == '/' &&
			 mlen > 1)
			n = asprintf(&ret, "%s/%s", odir + mlen + 1, base);
		else
			n = asprintf(&ret, "%s/%s",
				     strcmp(odir, "/") ? odir : "", base);
		if (n < 0)
			ret = NULL;
	}
	free(mdir);
	free(odir);
	return ret;
}

static int validate_opts(const struct erofs_build_opts *o,
			 const struct erofs_log *log)
{
	if (o->blkszbits < EROFS_MIN_BLKSZBITS ||
	    o->blkszbits > EROFS_MAX_BLKSZBITS)
		return erofs_fail(log, -EINVAL,
				 "block size must be a power of two from 512 to 65536");
	if (o->chunksize &&
	    (!erofs_is_pow2(o->chunksize) ||
	     o->chunksize < (1ull << o->blkszbits) ||
	     erofs_ilog2(o->chunksize) - o->blkszbits >
		     EROFS_CHUNK_FORMAT_BLKBITS_MASK ||
	     o->chunksize > (1ull << 30)))
		return erofs_fail(log, -EINVAL,
				 "chunk size %llu must be a power of two between the block size and 1 GiB",
				 (unsigned long long)o->chunksize);
	if (o->blobdev && !o->chunksize)
		return erofs_fail(log, -EINVAL, "--blobdev needs --chunksize");
	if (o->domain_id && !o->fsid)
		return erofs_fail(log, -EINVAL, "--domain-id needs --fsid");
	if (o->fsid) {
		struct erofs_cookie_volume vol;
		int err = erofs_cookie_volume_init(&vol, o->fsid, o->domain_id,
						   log);

		if (err)
			return err;
	}
	return 0;
}



struct builder_blob {
	char *path;
	struct erofs_outfile of;
	bool open;
	struct erofs_blob w;
	bool started;
	unsigned int out_idx;	/* in outs[] */
	uint16_t new_id;	/* device id after empty blobs are dropped */
	uint64_t size;
	char sha[EROFS_SHA256_HEX_LEN + 1];
};

/* an output's identity, to refuse a source or output that is the same */
struct out_id {
	const char *path;
	dev_t dev;
	ino_t ino;
	bool exists;		/* a file at the path before the build */
	dev_t tdev;		/* the temporary file being written */
	ino_t tino;
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
	struct erofs_image_opts est;	/* for the inline estimate */

	struct erofs_outfile boot;
	bool boot_open;
	/* --ungzip=FILE: the decompressed archive, written while it is read */
	struct erofs_outfile dump;
	bool dump_open;		/* being written */
	bool dump_used;		/* an archive was read (the first one only) */
	unsigned int dump_idx;	/* in outs[] */
	struct erofs_blob bootw;	/* the bootstrap's data area */
	bool bootw_started;
	uint32_t data_start;		/* first block of the data area */

	struct builder_blob **blobs;	/* each fixed in memory: threads */
	unsigned int nr_blobs;
	struct erofs_chunk_store cs;
	bool cs_init;

	struct out_id outs[MAX_OUTPUTS];
	unsigned int nr_outs;

	/* the file being streamed */
	struct erofs_inode *cur;
	char *cur_what;
	uint64_t cur_pos;
	uint64_t chunk_idx;
	bool keep_tail;		/* flat: the tail stays in memory */
	uint8_t *sbuf;		/* staging: one chunk, or FLAT_IO_SIZE */
	size_t sbuf_len;
	size_t sbuf_size;

	uint64_t flat_bytes, flat_zero, flat_stored;
	uint64_t bytes_in;
	uint64_t last_entries, last_bytes;
	unsigned int source;
	bool failed;
};

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
		return erofs_fail(log, -ERANGE,
				  "%s: %s %u%+lld is outside 0..4294967295",
				  erofs_image_inode_path(t, inode, path,
							 sizeof(path)),
				  what, *id, (long long)off);
	}
	*id = v;
	return 0;
}

/*
 * -T, SOURCE_DATE_EPOCH, --all-root, --force-uid/gid, --uid/gid-offset.
 * @log NULL: an estimate, errors are not reported.
 */
static int override_inode(const struct erofs_build_opts *o,
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
		err = offset_id(t, log, inode, &inode->uid, o->uid_offset,
				"uid");
	if (o->gid_offset && !err)
		err = offset_id(t, log, inode, &inode->gid, o->gid_offset,
				"gid");
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
		struct erofs_inode *dir = t->all[i];

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
			c->link_target = NULL;
			c->xattrs = NULL;
			c->inline_data = NULL;
			c->chunks = NULL;
			/* stored data is shared by the copies, not copied */
			if (o->chunks) {
				c->chunks = malloc(o->nr_chunks *
						   sizeof(*c->chunks));
				if (!c->chunks)
					return -ENOMEM;
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
			if (o->link_target) {
				c->link_target = malloc(o->size + 1);
				if (c->link_target)
					memcpy(c->link_target, o->link_target,
					       o->size + 1);
			}
			if (o->nr_xattrs)
				c->xattrs = malloc(o->nr_xattrs *
						   sizeof(*c->xattrs));
			if ((o->src_path && !c->src_path) ||
			    (o->link_target && !c->link_target) ||
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

struct erofs_tree *erofs_builder_tree(struct erofs_builder *b)
{
	return &b->tree;
}

struct erofs_xattr_table *erofs_builder_xattrs(struct erofs_builder *b)
{
	return &b->xt;
}

const struct erofs_build_opts *erofs_builder_opts(struct erofs_builder *b)
{
	return &b->o;
}

const struct erofs_log *erofs_builder_log(struct erofs_builder *b)
{
	return b->log;
}

static void report(struct erofs_builder *b, bool done)
{
	struct erofs_build_progress p = {
		.entries = b->tree.nr_all,
		.bytes_in = b->bytes_in,
		.bytes_stored = b->bootw.size + b->cs.st.bytes_stored,
		.source = b->source,
		.done = done,
	};

	if (!b->o.progress)
		return;
	if (b->cs_init)
		p.bytes_stored = b->flat_stored + b->cs.st.bytes_stored;
	else
		p.bytes_stored = b->flat_stored;
	b->last_entries = p.entries;
	b->last_bytes = p.bytes_in;
	b->o.progress(b->o.progress_arg, &p);
}

void erofs_builder_tick(struct erofs_builder *b)
{
	/* the first entry too, so even a short build shows where it is */
	if (b->o.progress &&
	    (!b->last_entries ||
	     b->tree.nr_all - b->last_entries >= PROGRESS_ENTRIES ||
	     b->bytes_in - b->last_bytes >= PROGRESS_BYTES))
		report(b, false);
}

bool erofs_builder_is_output(struct erofs_builder *b, dev_t dev, ino_t ino)
{
	for (unsigned int i = 0; i < b->nr_outs; i++) {
		const struct out_id *o = &b->outs[i];

		if (o->tdev == dev && o->tino == ino)
			return true;
	}
	return false;
}

/*
 * Item 7 of the hardening list: two outputs, or an output and a source,
 * must never be the same file.  Outputs are compared by name (their
 * canonical directory and base name) and, when they exist already, by
 * device and inode.
 */
static int add_output(struct erofs_builder *b, const char *path,
		      const char *what)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct out_id *o;
	char *dir, *canon;
	struct stat st;

	if (b->nr_outs == MAX_OUTPUTS)
		return erofs_fail(b->log, -E2BIG, "too many outputs");
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return erofs_fail(b->log, -EISDIR, "%s %s: not a file name",
				  what, path);
	if (strlen(base) > NAME_MAX)
		return erofs_fail(b->log, -ENAMETOOLONG,
				  "%s %s: file name longer than %d bytes",
				  what, path, NAME_MAX);
	if (strlen(path) >= EROFS_TMPNAME_LEN - 16)
		return erofs_fail(b->log, -ENAMETOOLONG,
				  "%s %s: path too long", what, path);
	dir = dir_of(path);
	if (!dir)
		return erofs_err(b->log, -errno,
				 "%s %s: cannot find its directory", what,
				 path);
	if (asprintf(&canon, "%s/%s", strcmp(dir, "/") ? dir : "", base) < 0) {
		free(dir);
		return -ENOMEM;
	}
	free(dir);
	o = &b->outs[b->nr_outs];
	memset(o, 0, sizeof(*o));
	o->path = canon;
	if (!stat(path, &st)) {
		if (S_ISDIR(st.st_mode)) {
			free(canon);
			return erofs_fail(b->log, -EISDIR,
					  "%s %s is a directory", what, path);
		}
		o->exists = true;
		o->dev = st.st_dev;
		o->ino = st.st_ino;
	}
	for (unsigned int i = 0; i < b->nr_outs; i++) {
		const struct out_id *p = &b->outs[i];

		if (!strcmp(p->path, o->path) ||
		    (p->exists && o->exists && p->dev == o->dev &&
		     p->ino == o->ino)) {
			free(canon);
			return erofs_fail(b->log, -EINVAL,
					  "%s %s is the same file as output %s",
					  what, path, p->path);
		}
	}
	b->nr_outs++;
	return 0;
}

/* records the identity of the file being written for output @i */
static void note_tmp(struct erofs_builder *b, unsigned int i, int fd)
{
	struct stat st;

	if (!fstat(fd, &st)) {
		b->outs[i].tdev = st.st_dev;
		b->outs[i].tino = st.st_ino;
	}
}

/* a source (@fd >= 0, or @path) must not be an output */
static int check_source(struct erofs_builder *b, int fd, const char *path)
{
	struct stat st;

	if ((fd >= 0 ? fstat(fd, &st) : stat(path, &st)) < 0)
		return erofs_err(b->log, -errno, "%s: cannot open source",
				 path);
	for (unsigned int i = 0; i < b->nr_outs; i++) {
		const struct out_id *o = &b->outs[i];

		if ((o->exists && o->dev == st.st_dev && o->ino == st.st_ino) ||
		    (o->tdev == st.st_dev && o->tino == st.st_ino))
			return erofs_fail(b->log, -EINVAL,
					  "source %s is the same file as output %s",
					  path, o->path);
	}
	return 0;
}

static int choose_build_time(struct erofs_builder *b)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	if (b->o.fixed_time) {
		b->build_time = b->o.timestamp;
	} else if (b->o.have_epoch) {
		b->build_time = b->o.epoch;
	} else {
		b->build_time = now.tv_sec;
		b->build_time_nsec = now.tv_nsec;
	}
	return choose_uuid(&b->o, b->uuid);
}

int erofs_builder_create(struct erofs_builder **bp, const char *dest,
			 const struct erofs_build_opts *opts,
			 const struct erofs_log *log)
{
	struct erofs_builder *b;
	int err;

	*bp = NULL;
	err = validate_opts(opts, log);
	if (err)
		return err;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->o = *opts;
	b->log = log;
	b->blksz = 1u << opts->blkszbits;
	erofs_tree_init(&b->tree, log);
	erofs_xattr_table_init(&b->xt, log);
	b->dest = strdup(dest);
	if (!b->dest) {
		free(b);
		return -ENOMEM;
	}
	/* every name first: nothing is created when one is refused */
	err = add_output(b, dest, "output");
	if (!err && opts->blobdev)
		err = add_output(b, opts->blobdev, "--blobdev");
	if (!err && opts->manifest)
		err = add_output(b, opts->manifest, "--manifest");
	if (!err && opts->tar_dump) {
		err = add_output(b, opts->tar_dump, "--ungzip/--unxz FILE");
		b->dump_idx = b->nr_outs - 1;
	}
	if (!err)
		err = choose_build_time(b);
	if (!err)
		err = erofs_xattr_set_prefixes(&b->xt, opts->xattr_prefixes,
					       opts->nr_xattr_prefixes);
	if (err)
		goto fail;
	b->est.blkszbits = opts->blkszbits;
	b->est.build_time = b->build_time;
	b->est.build_time_nsec = b->build_time_nsec;
	b->est.ignore_mtime = opts->ignore_mtime;

	/* room for the superblock and a few device slots before the data */
	b->data_start = erofs_div_round_up(EROFS_SUPER_OFFSET + EROFS_SB_SIZE +
						   EROFS_DEVT_SLOT_SIZE,
					   b->blksz);
	err = erofs_outfile_open_reg(&b->boot, dest, opts->tmpnames, log);
	if (err)
		goto fail;
	b->boot_open = true;
	note_tmp(b, 0, b->boot.fd);
	err = erofs_blob_init(&b->bootw, b->boot.fd,
			      (uint64_t)b->data_start * b->blksz, b->blksz,
			      false, BLOB_QUEUE_BYTES, dest, log);
	if (err)
		goto fail;
	b->bootw_started = true;
	if (!opts->chunksize)
		err = erofs_blob_set_pool(&b->bootw, FLAT_IO_SIZE);
	if (err)
		goto fail;
	if (opts->chunksize) {
		err = erofs_chunk_store_init(&b->cs, opts->blkszbits,
					     opts->chunksize, 0,
					     b->data_start, &b->bootw, log);
		if (err)
			goto fail;
		b->cs_init = true;
	}
	if (opts->blobdev) {
		err = erofs_builder_begin_blob(b, opts->blobdev);
		if (err)
			goto fail;
	}
	*bp = b;
	return 0;
fail:
	erofs_builder_destroy(b);
	return err;
}

int erofs_builder_begin_blob(struct erofs_builder *b, const char *path)
{
	struct builder_blob *bl;
	unsigned int out_idx;
	void *p;
	int err;

	if (!b->o.chunksize)
		return erofs_fail(b->log, -EINVAL,
				  "blob devices need a chunk size");
	if (b->cur)
		return erofs_fail(b->log, -EBUSY,
				  "%s: a file is being streamed", path);
	if (b->nr_blobs >= MAX_OUTPUTS - 3)
		return erofs_fail(b->log, -E2BIG, "too many blob devices");
	/* blob 1 of opts->blobdev was checked with the other names */
	if (b->nr_blobs == 0 && b->o.blobdev && path == b->o.blobdev) {
		out_idx = 1;
	} else {
		err = add_output(b, path, "blob");
		if (err)
			return err;
		out_idx = b->nr_outs - 1;
	}
	p = realloc(b->blobs, (b->nr_blobs + 1) * sizeof(*b->blobs));
	if (!p)
		return -ENOMEM;
	b->blobs = p;
	bl = calloc(1, sizeof(*bl));
	if (!bl)
		return -ENOMEM;
	bl->path = strdup(path);
	if (!bl->path) {
		free(bl);
		return -ENOMEM;
	}
	b->blobs[b->nr_blobs] = bl;
	bl->out_idx = out_idx;
	b->nr_blobs++;
	err = erofs_outfile_open_reg(&bl->of, path, b->o.tmpnames, b->log);
	if (err)
		return err;
	bl->open = true;
	note_tmp(b, bl->out_idx, bl->of.fd);
	err = erofs_blob_init(&bl->w, bl->of.fd, 0, b->blksz, true,
			      BLOB_QUEUE_BYTES, bl->path, b->log);
	if (err)
		return err;
	bl->started = true;
	return erofs_chunk_store_switch(&b->cs, &bl->w, b->nr_blobs, 0);
}

/* ------------------------------------------------------------ data path */

static void drop_stage(struct erofs_builder *b, struct erofs_blob *w)
{
	if (b->sbuf)
		erofs_blob_release(w, b->sbuf, b->sbuf_size);
	b->sbuf = NULL;
	b->sbuf_len = 0;
}

static struct erofs_blob *stage_owner(struct erofs_builder *b)
{
	return b->cur && b->cur->datalayout == EROFS_INODE_CHUNK_BASED ?
		       b->cs.blob :
		       &b->bootw;
}

static int data_fail(struct erofs_builder *b, int err)
{
	drop_stage(b, stage_owner(b));
	b->cur = NULL;
	b->failed = true;
	return err;
}

int erofs_builder_data_begin(struct erofs_builder *b,
			     struct erofs_inode *inode, const char *what)
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
	free(inode->chunks);
	inode->chunks = NULL;
	free(inode->inline_data);
	inode->inline_data = NULL;
	inode->nr_chunks = 0;
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
		inode->nr_chunks = erofs_div_round_up(inode->size,
						      b->o.chunksize);
		inode->chunks = calloc(inode->nr_chunks,
				       sizeof(*inode->chunks));
		if (!inode->chunks)
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

		override_inode(&b->o, b->build_time, &b->tree, NULL, &est);
		erofs_xattr_size_inode(inode);
		isize = erofs_inode_core_size(
				erofs_image_inode_extended(&b->est, &est)) +
			inode->xattr_isize;
		/* small files: decided at layout, where the tail may move */
		b->keep_tail = !inode->nr_blocks || isize + tail <= b->blksz;
	}
	if (tail && !b->keep_tail)
		inode->nr_blocks++;
	if ((uint64_t)inode->raw_blkaddr + inode->nr_blocks >=
	    EROFS_NULL_ADDR)
		return data_fail(b, erofs_fail(b->log, -EFBIG,
					       "%s: image exceeds 2^32 blocks",
					       what));
	/* small files: a buffer of their size, big ones: pooled */
	b->sbuf_size = inode->size >= FLAT_IO_SIZE ?
			       FLAT_IO_SIZE :
			       erofs_round_up(inode->size, b->blksz);
	return 0;
}

/* appends the staged whole blocks of a flat file */
static int flush_flat(struct erofs_builder *b)
{
	uint64_t off;
	int err;

	if (!b->sbuf_len)
		return 0;
	err = erofs_blob_append(&b->bootw, b->sbuf, b->sbuf_len,
				b->sbuf_size, &off);
	b->flat_stored += b->sbuf_len;
	b->sbuf = NULL;
	b->sbuf_len = 0;
	return err;
}

/* stores the staged chunk (@len bytes of it) */
static int flush_chunk(struct erofs_builder *b, size_t len)
{
	int err = erofs_chunk_put(&b->cs, b->sbuf, b->sbuf_size, len,
				  &b->cur->chunks[b->chunk_idx]);

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

		if (!b->sbuf_len && inode->datalayout ==
					    EROFS_INODE_CHUNK_BASED) {
			/* whole chunks of a hole: the shared zero extent */
			uint64_t clen = inode->size - b->cur_pos;

			if (clen > b->o.chunksize)
				clen = b->o.chunksize;
			if (len >= clen) {
				err = erofs_chunk_zero(&b->cs, clen,
					&inode->chunks[b->chunk_idx++]);
				if (err)
					return data_fail(b, err);
				b->cur_pos += clen;
				len -= clen;
				continue;
			}
		} else if (!(b->sbuf_len % b->blksz) &&
			   inode->datalayout != EROFS_INODE_CHUNK_BASED) {
			/* whole blocks of a hole: a hole of the image */
			uint64_t whole_end = (inode->size / b->blksz) *
					     b->blksz;
			uint64_t n = len / b->blksz * b->blksz, off;

			if (b->cur_pos + n > whole_end)
				n = whole_end > b->cur_pos ?
					    whole_end - b->cur_pos : 0;
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
		return data_fail(b, erofs_fail(b->log, -EIO,
					       "%s: %llu bytes of %llu",
					       b->cur_what,
					       (unsigned long long)b->cur_pos,
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
				  "archive data at byte %llu is not aligned to the %u-byte block size",
				  (unsigned long long)off, b->blksz);
	inode->datalayout = EROFS_INODE_FLAT_PLAIN;
	inode->data_state = EROFS_DATA_EXTERNAL;
	inode->src_off = off;
	return 0;
}

int erofs_builder_data_absent(struct erofs_builder *b,
			      struct erofs_inode *inode)
{
	unsigned int bits = erofs_image_chunkbits(b->o.blkszbits,
						  b->o.chunksize, inode->size);
	uint64_t n = inode->size ? ((inode->size - 1) >> bits) + 1 : 0;

	free(inode->chunks);
	inode->chunks = NULL;
	inode->nr_chunks = 0;
	inode->nr_blocks = 0;
	inode->inline_size = 0;
	inode->datalayout = EROFS_INODE_FLAT_PLAIN;
	inode->data_state = EROFS_DATA_STREAMED;
	if (!n)
		return 0;
	inode->chunks = malloc(n * sizeof(*inode->chunks));
	if (!inode->chunks)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++)
		inode->chunks[i] = (struct erofs_chunk_ref){
			.device_id = 0, .blkaddr = EROFS_NULL_ADDR,
		};
	inode->nr_chunks = n;
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
	bool sparse = !st0 || (uint64_t)st0->st_blocks * 512 < size;
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
				next_data = size;	/* hole to the end */
			else if (d < 0)
				sparse = false;		/* cannot tell */
			else
				next_data = (uint64_t)d - base > size ?
						    size :
						    (uint64_t)d - base;
			if (next_data > pos) {
				err = erofs_builder_data_hole(b,
							      next_data - pos);
				if (err)
					return err;
				pos = next_data;
				continue;
			}
			/* data from here: look again after a while */
			next_data = pos + (b->o.chunksize ? b->o.chunksize :
							    FLAT_IO_SIZE);
		}
		dst = stage_space(b, &room);
		if (!dst)
			return data_fail(b, -ENOMEM);
		n = erofs_pread_all(fd, dst, room, base + pos);
		if (n < 0)
			return data_fail(b, erofs_err(b->log, n,
						      "%s: read error at %llu",
						      what,
						      (unsigned long long)pos));
		if ((size_t)n < room) {
			err = erofs_fail(b->log, -EAGAIN,
					 "%s: shrank while it was read (%llu bytes, expected %llu)",
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
			err = erofs_fail(b->log, -EAGAIN,
					 "%s: changed while it was read (size %llu -> %llu)",
					 what, (unsigned long long)st0->st_size,
					 (unsigned long long)st.st_size);
			return data_fail(b, err);
		}
	}
	return erofs_builder_data_end(b);
}

/* ------------------------------------------------------------ importers */

int erofs_builder_import_dir(struct erofs_builder *b, const char *srcdir,
			     const struct erofs_builder_source_opts *so)
{
	struct erofs_import_dir_opts io = {
		.no_xattrs = b->o.xattr_tolerance < 0,
		.exclude = &b->o.exclude,
	};
	int fd, err;

	(void)so;
	if (b->failed || b->cur)
		return -ECANCELED;
	b->source++;
	fd = open(srcdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOTDIR)
			return erofs_fail(b->log, -ENOTDIR,
					  "%s: source is not a directory",
					  srcdir);
		return erofs_err(b->log, -errno, "%s: cannot open source",
				 srcdir);
	}
	err = check_source(b, fd, srcdir);
	close(fd);
	if (!err)
		err = erofs_import_dir(b, srcdir, &io);
	if (err)
		b->failed = true;
	return err;
}

static int sink_begin(void *arg, struct erofs_inode *inode, const char *what)
{
	return erofs_builder_data_begin(arg, inode, what);
}

static int sink_write(void *arg, const void *buf, size_t len)
{
	return erofs_builder_data_write(arg, buf, len);
}

static int sink_hole(void *arg, uint64_t len)
{
	return erofs_builder_data_hole(arg, len);
}

static int sink_end(void *arg)
{
	return erofs_builder_data_end(arg);
}

static int sink_external(void *arg, struct erofs_inode *inode, uint64_t off)
{
	return erofs_builder_data_external(arg, inode, off);
}

static int sink_absent(void *arg, struct erofs_inode *inode)
{
	return erofs_builder_data_absent(arg, inode);
}

/*
 * Archives stream: the importer hands every regular file's bytes to the
 * data path as it reads them (begin, write/hole, end), or with --tar=i the
 * offset of the data inside the archive.
 */
int erofs_builder_import_tar(struct erofs_builder *b, const char *path,
			     int fd, const struct erofs_builder_source_opts *so)
{
	const struct erofs_tar_sink sink = {
		.begin = sink_begin,
		.write = sink_write,
		.hole = sink_hole,
		.end = sink_end,
		.external = sink_external,
		.absent = sink_absent,
		.arg = b,
	};
	struct erofs_import_tar_opts to = {
		.no_xattrs = b->o.xattr_tolerance < 0,
		.exclude = &b->o.exclude,
		.fd = fd,
		.could_be_dir = fd < 0,
		.whiteouts = so ? so->whiteouts :
			     b->o.aufs ? EROFS_WHITEOUT_OVERLAY :
					 EROFS_WHITEOUT_KEEP,
		.ovlfs_strip = so ? so->ovlfs_strip : b->o.ovlfs_strip,
		.chunksize = b->o.chunksize,
		.blkszbits = b->o.blkszbits,
		.tar_mode = b->o.tar_mode,
		.sink = &sink,
	};
	const char *name = path ? path : "-";
	int err;

	if (b->failed || b->cur)
		return -ECANCELED;
	b->source++;
	err = check_source(b, fd, name);
	if (!err && b->o.tar_dump && !b->dump_used) {
		/* erofs-utils' --ungzip=FILE: the one archive it reads */
		b->dump_used = true;
		err = erofs_outfile_open_reg(&b->dump, b->o.tar_dump,
					     b->o.tmpnames, b->log);
		if (!err) {
			b->dump_open = true;
			note_tmp(b, b->dump_idx, b->dump.fd);
			to.dump_name = b->o.tar_dump;
			to.dump_fd = b->dump.fd;
		}
	}
	if (!err)
		err = erofs_import_tar(&b->tree, &b->xt, name, -1, &to);
	if (err)
		b->failed = true;
	return err;
}

/* ------------------------------------------------------------ finish */

static int fill_manifest(struct erofs_builder *b, uint64_t boot_size,
			 uint64_t regular_files, unsigned int nr_kept,
			 struct erofs_manifest *m)
{
	const struct erofs_chunk_stats *st = &b->cs.st;
	unsigned int k = 0;
	int err;

	memset(m, 0, sizeof(*m));
	m->bootstrap_path = manifest_path(b->o.manifest, b->dest);
	if (!m->bootstrap_path)
		return -ENOMEM;
	m->bootstrap_size = boot_size;
	err = sha256_file(b->boot.fd, boot_size, m->bootstrap_sha256);
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
		mb->path = manifest_path(b->o.manifest, bl->path);
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

/* waits for every writer; drops blobs that got no bytes */
static int finish_writers(struct erofs_builder *b, unsigned int *nr_kept)
{
	uint8_t md[EROFS_SHA256_LEN];
	uint16_t *map;
	int err = 0, e;

	b->bootw_started = false;
	err = erofs_blob_finish(&b->bootw, NULL);
	*nr_kept = 0;
	for (unsigned int i = 0; i < b->nr_blobs; i++) {
		struct builder_blob *bl = b->blobs[i];

		bl->started = false;
		e = erofs_blob_finish(&bl->w, md);
		if (e && !err)
			err = e;
		if (e)
			continue;
		bl->size = bl->w.size;
		erofs_hex(bl->sha, md, EROFS_SHA256_LEN);
		if (bl->size)
			bl->new_id = ++*nr_kept;
	}
	if (err || *nr_kept == b->nr_blobs)
		return err;
	/* renumber the devices of chunks after dropped blobs */
	map = calloc(b->nr_blobs + 1, sizeof(*map));
	if (!map)
		return -ENOMEM;
	for (unsigned int i = 0; i < b->nr_blobs; i++)
		map[i + 1] = b->blobs[i]->new_id;
	for (uint64_t i = 0; i < b->tree.nr_inodes; i++) {
		struct erofs_inode *inode = b->tree.inodes[i];

		if (inode->datalayout != EROFS_INODE_CHUNK_BASED)
			continue;
		for (uint64_t c = 0; c < inode->nr_chunks; c++)
			if (inode->chunks[c].device_id)
				inode->chunks[c].device_id =
					map[inode->chunks[c].device_id];
	}
	free(map);
	return 0;
}

int erofs_builder_finish(struct erofs_builder *b,
			 struct erofs_build_result *res)
{
	struct erofs_image_writer img = { 0 };
	struct erofs_image_opts imo = { 0 };
	uint64_t boot_size, regular_files = 0;
	unsigned int nr_kept = 0;
	bool manifest_saved = false, dump_committed = false;
	int err;

	memset(res, 0, sizeof(*res));
	if (b->failed || b->cur)
		return b->cur ? erofs_fail(b->log, -EBUSY,
					   "%s: its data never ended",
					   b->cur_what) :
				-ECANCELED;
	b->failed = true;	/* until it succeeded */
	if (!b->tree.root)
		return erofs_fail(b->log, -EINVAL, "nothing was imported");
	err = b->o.hard_dereference ? split_hard_links(&b->tree) : 0;
	for (uint64_t i = 0; i < b->tree.nr_all && !err; i++)
		err = override_inode(&b->o, b->build_time, &b->tree, b->log,
				     b->tree.all[i]);
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
			return erofs_fail(b->log, -EINVAL,
					  "a regular file of %llu bytes got no data",
					  (unsigned long long)inode->size);
		if (inode->data_state == EROFS_DATA_NONE)
			inode->datalayout = EROFS_INODE_FLAT_PLAIN;
	}
	erofs_info(b->log, "read %llu entries",
		   (unsigned long long)b->tree.nr_all);
	err = erofs_xattr_select_shared(&b->xt, b->o.xattr_tolerance);
	if (!err)
		err = finish_writers(b, &nr_kept);
	if (err)
		return err;

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
		memcpy(img.devices[bl->new_id - 1].tag, bl->sha,
		       EROFS_TAG_LEN);
		img.devices[bl->new_id - 1].blocks = bl->size / b->blksz;
		if (ftruncate(bl->of.fd, bl->size) < 0) {
			err = erofs_err(b->log, -errno, "%s: cannot size",
					bl->path);
			goto out;
		}
	}
	err = erofs_image_layout(&img);
	if (err)
		goto out;
	erofs_info(b->log,
		   "laid out %llu inodes, %llu shared xattrs, metadata at block %u",
		   (unsigned long long)b->tree.nr_inodes,
		   (unsigned long long)b->xt.nr_shared, img.meta_blkaddr);
	err = erofs_image_write_dir_data(&img, b->boot.fd);
	if (!err)
		err = erofs_image_write_meta(&img, b->boot.fd);
	if (err)
		goto out;
	boot_size = (uint64_t)img.total_blocks * b->blksz;
	if (ftruncate(b->boot.fd, boot_size) < 0) {
		err = erofs_err(b->log, -errno, "%s: cannot size", b->dest);
		goto out;
	}
	err = fill_manifest(b, boot_size, regular_files, nr_kept,
			    &res->manifest);
	if (err)
		goto out;
	if (b->o.manifest) {
		err = erofs_manifest_save(&res->manifest, b->o.manifest,
					  b->log);
		if (err)
			goto out;
		manifest_saved = true;
	}
	for (unsigned int i = 0; i < b->nr_blobs && !err; i++) {
		struct builder_blob *bl = b->blobs[i];

		if (!bl->new_id)
			continue;	/* removed by destroy */
		bl->open = false;
		err = erofs_outfile_commit(&bl->of, b->log);
		if (err)
			bl->new_id = 0;
	}
	if (!err && b->dump_open) {
		b->dump_open = false;
		err = erofs_outfile_commit(&b->dump, b->log);
		dump_committed = !err;
	}
	if (!err) {
		b->boot_open = false;
		err = erofs_outfile_commit(&b->boot, b->log);
	}
	if (err) {
		/* take back what was committed already */
		for (unsigned int i = 0; i < b->nr_blobs; i++)
			if (b->blobs[i]->new_id && !b->blobs[i]->open)
				unlink(b->blobs[i]->path);
		if (dump_committed)
			unlink(b->o.tar_dump);
	} else {
		b->failed = false;
		report(b, true);
	}
out:
	if (err && manifest_saved)
		unlink(b->o.manifest);
	erofs_image_free(&img);
	if (err)
		erofs_build_result_free(res);
	return err;
}

void erofs_builder_destroy(struct erofs_builder *b)
{
	if (!b)
		return;
	if (b->cur)
		drop_stage(b, stage_owner(b));
	if (b->bootw_started)
		erofs_blob_finish(&b->bootw, NULL);
	for (unsigned int i = 0; i < b->nr_blobs; i++) {
		struct builder_blob *bl = b->blobs[i];

		if (bl->started)
			erofs_blob_finish(&bl->w, NULL);
		if (bl->open)
			erofs_outfile_abort(&bl->of);
		free(bl->path);
		free(bl);
	}
	free(b->blobs);
	if (b->boot_open)
		erofs_outfile_abort(&b->boot);
	if (b->dump_open)
		erofs_outfile_abort(&b->dump);
	if (b->cs_init)
		erofs_chunk_store_free(&b->cs);
	for (unsigned int i = 0; i < b->nr_outs; i++)
		free((char *)b->outs[i].path);
	erofs_xattr_table_free(&b->xt);
	erofs_tree_free(&b->tree);
	free(b->cur_what);
	free(b->dest);
	free(b);
}

/* ------------------------------------------------------------ one shot */

int erofs_build_dir(const char *dest, const char *srcdir,
		    const struct erofs_build_opts *o,
		    struct erofs_build_result *res,
		    const struct erofs_log *log)
{
	return erofs_build(dest, srcdir, o, res, log);
}

int erofs_build(const char *dest, const char *src,
		const struct erofs_build_opts *o,
		struct erofs_build_result *res, const struct erofs_log *log)
{
	struct erofs_builder_source_opts so = {
		.whiteouts = o->aufs ? EROFS_WHITEOUT_OVERLAY :
				       EROFS_WHITEOUT_KEEP,
		.ovlfs_strip = o->ovlfs_strip,
		.name = src,
	};
	struct erofs_builder *b;
	struct stat st;
	int err;

	memset(res, 0, sizeof(*res));
	if (strcmp(src, "-") && stat(src, &st) < 0)
		return erofs_err(log, -errno, "%s: cannot open source", src);
	if (strcmp(src, "-") && !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) &&
	    !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode))
		return erofs_fail(log, -EINVAL,
				  "%s: source is not a directory or an archive file",
				  src);
	if (o->tar_dump && strcmp(src, "-") && S_ISDIR(st.st_mode))
		return erofs_fail(log, -EINVAL,
				  "%s: a directory: --ungzip/--unxz=FILE needs an archive",
				  src);
	err = erofs_builder_create(&b, dest, o, log);
	if (err)
		return err;
	if (!strcmp(src, "-"))
		err = erofs_builder_import_tar(b, NULL, STDIN_FILENO, &so);
	else if (S_ISDIR(st.st_mode))
		err = erofs_builder_import_dir(b, src, &so);
	else
		err = erofs_builder_import_tar(b, src, -1, &so);
	if (!err)
		err = erofs_builder_finish(b, res);
	erofs_builder_destroy(b);
	return err;
}

void erofs_build_result_free(struct erofs_build_result *res)
{
	erofs_manifest_free(&res->manifest);
}

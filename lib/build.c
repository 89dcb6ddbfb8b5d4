// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The builder: importers fill its tree and stream regular file data into
 * it as they read; erofs_builder_finish() lays out and writes the
 * metadata.  This module holds the object's life (options, create,
 * destroy), the imports and progress; its other parts are listed in
 * liberofs_build.h.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "liberofs_build.h"
#include "liberofs_import.h"
#include "erofs/builder.h"
#include "erofs/cookie.h"

#define PROGRESS_ENTRIES 4096
#define PROGRESS_BYTES	 (64ull << 20)

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
	case EROFS_UUID_DERIVED:
		/* without an epoch: from the content, at the end */
		if (!o->have_epoch) {
			memset(uuid, 0, 16);
			return 0;
		}
		break;
	}
	if (o->uuid_mode == EROFS_UUID_DERIVED) {
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
	uuid[6] = (uuid[6] & 0x0f) | 0x40; /* version 4 */
	uuid[8] = (uuid[8] & 0x3f) | 0x80; /* RFC 4122 variant */
	return 0;
}

static int validate_opts(const struct erofs_build_opts *o,
			 const struct erofs_log *log)
{
	if (o->blkszbits < EROFS_MIN_BLKSZBITS ||
	    o->blkszbits > EROFS_MAX_BLKSZBITS)
		return erofs_fail(
		    log, -EINVAL,
		    "block size must be a power of two from 512 to 65536");
	if (o->chunksize && (!erofs_is_pow2(o->chunksize) ||
			     o->chunksize < (1ull << o->blkszbits) ||
			     erofs_ilog2(o->chunksize) - o->blkszbits >
				 EROFS_CHUNK_FORMAT_BLKBITS_MASK ||
			     o->chunksize > (1ull << 30)))
		return erofs_fail(log, -EINVAL,
				  "chunk size %llu must be a power of two "
				  "between the block size and 1 GiB",
				  (unsigned long long)o->chunksize);
	if (o->blobdev && !o->chunksize)
		return erofs_fail(log, -EINVAL, "--blobdev needs --chunksize");
	if (o->domain_id && !o->fsid)
		return erofs_fail(log, -EINVAL, "--domain-id needs --fsid");
	if (o->fsid) {
		struct erofs_cookie_volume vol;
		int err =
		    erofs_cookie_volume_init(&vol, o->fsid, o->domain_id, log);

		if (err)
			return err;
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

void erofs_build_report(struct erofs_builder *b, bool done)
{
	struct erofs_build_progress p = {
	    .entries = b->tree.nr_all,
	    .bytes_in = b->bytes_in,
	    .bytes_stored = b->bootw.size + b->cs.st.bytes_stored,
	    .source = b->source,
	    .relaid = b->relaid,
	    .relay_total = b->relay_total,
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

void erofs_builder_relay_tick(struct erofs_builder *b, uint64_t bytes)
{
	uint64_t before = b->relaid;

	b->relaid += bytes;
	if (b->o.progress &&
	    (!before || b->relaid / PROGRESS_BYTES != before / PROGRESS_BYTES))
		erofs_build_report(b, false);
}

void erofs_builder_tick(struct erofs_builder *b)
{
	/* the first entry too, so even a short build shows where it is */
	if (b->o.progress &&
	    (!b->last_entries ||
	     b->tree.nr_all - b->last_entries >= PROGRESS_ENTRIES ||
	     b->bytes_in - b->last_bytes >= PROGRESS_BYTES))
		erofs_build_report(b, false);
}

static int choose_build_time(struct erofs_builder *b)
{
	if (b->o.fixed_time) {
		b->build_time = b->o.timestamp;
	} else if (b->o.have_epoch) {
		b->build_time = b->o.epoch;
	} else {
		/*
		 * Not the current time, unlike erofs-utils: the same input
		 * and options give the same bytes (-T or SOURCE_DATE_EPOCH
		 * sets one)
		 */
		b->build_time = 0;
		b->build_time_nsec = 0;
	}
	return choose_uuid(&b->o, b->uuid);
}

int erofs_builder_create(struct erofs_builder **bp, const char *dest,
			 const struct erofs_build_opts *opts,
			 const struct erofs_log *log)
{
	struct erofs_builder *b;
	unsigned int idx;
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
	b->manifest_out = -1;
	b->dump_out = -1;
	erofs_tree_init(&b->tree, log);
	erofs_xattr_table_init(&b->xt, log);
	b->dest = strdup(dest);
	if (!b->dest) {
		free(b);
		return -ENOMEM;
	}
	/* every name first: nothing is created when one is refused */
	err = erofs_build_out_add(b, dest, "output", &b->boot_out);
	if (!err && opts->blobdev)
		err = erofs_build_out_add(b, opts->blobdev, "--blobdev", &idx);
	if (!err && opts->manifest) {
		err =
		    erofs_build_out_add(b, opts->manifest, "--manifest", &idx);
		b->manifest_out = err ? -1 : (int)idx;
	}
	if (!err && opts->tar_dump) {
		err = erofs_build_out_add(b, opts->tar_dump,
					  "--ungzip/--unxz FILE", &idx);
		b->dump_out = err ? -1 : (int)idx;
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
	err = erofs_build_out_open(b, b->boot_out, dest);
	if (!err && b->manifest_out >= 0)
		err = erofs_build_out_open(b, b->manifest_out, opts->manifest);
	if (err)
		goto fail;
	/* a UUID derived from the content covers the data area too */
	/* (by a fingerprint: SHA-256 would cost a flat build 8% more) */
	err = erofs_blob_init(&b->bootw, erofs_build_out_fd(b, b->boot_out),
			      (uint64_t)b->data_start * b->blksz, b->blksz,
			      erofs_build_uuid_from_content(&b->o),
			      BLOB_QUEUE_BYTES, dest, log);
	if (err)
		goto fail;
	b->bootw_started = true;
	if (erofs_build_uuid_from_content(&b->o))
		err = erofs_blob_fingerprint_only(&b->bootw);
	if (!err && !opts->chunksize)
		err = erofs_blob_set_pool(&b->bootw, FLAT_IO_SIZE);
	if (err)
		goto fail;
	if (opts->chunksize) {
		err = erofs_chunk_store_init(&b->cs, opts->blkszbits,
					     opts->chunksize, 0, b->data_start,
					     &b->bootw, log);
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
	err = erofs_build_check_source(b, fd, srcdir);
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

static int sink_data_fd(void *arg, struct erofs_inode *inode, int fd,
			uint64_t off, const char *what)
{
	return erofs_builder_data_fd(arg, inode, fd, off, what, NULL);
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
int erofs_builder_import_tar(struct erofs_builder *b, const char *path, int fd,
			     const struct erofs_builder_source_opts *so)
{
	const struct erofs_tar_sink sink = {
	    .begin = sink_begin,
	    .write = sink_write,
	    .hole = sink_hole,
	    .end = sink_end,
	    .external = sink_external,
	    .absent = sink_absent,
	    .data_fd = sink_data_fd,
	    .arg = b,
	};
	struct erofs_import_tar_opts to = {
	    .no_xattrs = b->o.xattr_tolerance < 0,
	    .exclude = &b->o.exclude,
	    .fd = fd,
	    .could_be_dir = fd < 0,
	    .whiteouts = so	     ? so->whiteouts
			 : b->o.aufs ? EROFS_WHITEOUT_OVERLAY
				     : EROFS_WHITEOUT_KEEP,
	    .ovlfs_strip = so ? so->ovlfs_strip : b->o.ovlfs_strip,
	    .chunksize = b->o.chunksize,
	    .blkszbits = b->o.blkszbits,
	    .tar_mode = b->o.tar_mode,
	    .have_dir_time = b->o.fixed_time || b->o.have_epoch,
	    .dir_time = b->build_time,
	    .sink = &sink,
	};
	const char *name = path ? path : "-";
	int err;

	if (b->failed || b->cur)
		return -ECANCELED;
	b->source++;
	err = erofs_build_check_source(b, fd, name);
	if (!err && b->dump_out >= 0 && !b->dump_used) {
		/* erofs-utils' --ungzip=FILE: the one archive it reads */
		b->dump_used = true;
		err = erofs_build_out_open(b, b->dump_out, b->o.tar_dump);
		if (!err) {
			to.dump_name = b->o.tar_dump;
			to.dump_fd = erofs_build_out_fd(b, b->dump_out);
		}
	}
	if (!err)
		err = erofs_import_tar(&b->tree, &b->xt, name, -1, &to);
	if (err)
		b->failed = true;
	return err;
}

void erofs_builder_destroy(struct erofs_builder *b)
{
	if (!b)
		return;
	erofs_build_data_abort(b);
	if (b->bootw_started)
		erofs_blob_finish(&b->bootw, NULL);
	erofs_build_blobs_free(b);
	erofs_build_out_free(b);
	if (b->cs_init)
		erofs_chunk_store_free(&b->cs);
	erofs_xattr_table_free(&b->xt);
	erofs_tree_free(&b->tree);
	free(b->cur_what);
	free(b->dest);
	free(b);
}

/* ------------------------------------------------------------ one shot */

int erofs_build_dir(const char *dest, const char *srcdir,
		    const struct erofs_build_opts *o,
		    struct erofs_build_result *res, const struct erofs_log *log)
{
	return erofs_build(dest, srcdir, o, res, log);
}

int erofs_build(const char *dest, const char *src,
		const struct erofs_build_opts *o,
		struct erofs_build_result *res, const struct erofs_log *log)
{
	struct erofs_builder_source_opts so = {
	    .whiteouts = o->aufs ? EROFS_WHITEOUT_OVERLAY : EROFS_WHITEOUT_KEEP,
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
		return erofs_fail(
		    log, -EINVAL,
		    "%s: source is not a directory or an archive file", src);
	if (o->tar_dump && strcmp(src, "-") && S_ISDIR(st.st_mode))
		return erofs_fail(
		    log, -EINVAL,
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

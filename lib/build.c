// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The build pipeline for a directory or archive source.
 *
 *   pass 1  walk metadata and xattrs (an archive's file data goes to an
 *           unlinked spool file next to DEST), pick shared xattrs, lay out
 *           the image
 *   pass 2  stream file data once: flat files into the bootstrap, chunked
 *           files through the chunk store into the blob (writer thread)
 *   pass 3  encode the metadata, device table and superblock checksum
 *
 * Outputs are temporary files until everything succeeded.
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

#include "liberofs_blob.h"
#include "erofs/build.h"
#include "liberofs_import.h"
#include "liberofs_chunk.h"
#include "erofs/cookie.h"
#include "liberofs_image.h"
#include "erofs/util.h"

#define BLOB_QUEUE_BYTES	(32u << 20)
#define FLAT_IO_SIZE		(1u << 20)

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

struct build {
	const struct erofs_build_opts *o;
	const struct erofs_log *log;
	const char *srcdir;
	bool archive;		/* srcdir is an archive, data in spool_fd */
	int spool_fd;
	struct erofs_tree tree;
	struct erofs_xattr_table xt;
	struct erofs_image_writer img;
	struct erofs_outfile boot;
	struct erofs_outfile blob;
	bool have_blob;
	struct erofs_blob writer;
	bool writer_started;
	struct erofs_chunk_store cs;
	unsigned int blksz;
	void *iobuf;
	uint64_t regular_files;
	uint64_t flat_bytes;	/* file bytes of flat files */
	uint64_t flat_zero;	/* ... in holes or all-zero blocks */
	uint64_t flat_stored;	/* ... written to the image */
};

/* -T, SOURCE_DATE_EPOCH, --all-root, --force-uid/gid */
static void apply_overrides(struct build *b, uint64_t build_time)
{
	const struct erofs_build_opts *o = b->o;

	for (uint64_t i = 0; i < b->tree.nr_all; i++) {
		struct erofs_inode *inode = b->tree.all[i];

		if (o->all_root)
			inode->uid = inode->gid = 0;
		if (o->force_uid >= 0)
			inode->uid = o->force_uid;
		if (o->force_gid >= 0)
			inode->gid = o->force_gid;
		if (o->mkfs_time_only)
			continue;
		if (o->fixed_time) {
			inode->mtime = build_time;
			inode->mtime_nsec = 0;
		} else if (o->have_epoch &&
			   inode->mtime > (int64_t)o->epoch) {
			/* reproducible-builds clamping */
			inode->mtime = o->epoch;
			inode->mtime_nsec = 0;
		}
	}
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

static bool range_is_zero(const uint8_t *p, size_t len)
{
	/* every byte equals its successor and the first is zero */
	return !len || (!p[0] && !memcmp(p, p + 1, len - 1));
}

/*
 * Whole blocks go to raw_blkaddr (holes of a sparse source are skipped and
 * all-zero blocks stay holes of the sparse output); the tail of a
 * FLAT_INLINE file is kept for the inode.
 */
static int write_flat(struct build *b, struct erofs_inode *inode, int fd,
		      uint64_t base, const char *path)
{
	uint64_t in_blocks = inode->size - inode->inline_size;
	uint64_t dst = (uint64_t)inode->raw_blkaddr * b->blksz;
	uint8_t *buf = b->iobuf;
	uint64_t done = 0;

	while (done < inode->size) {
		off_t data = lseek(fd, base + done, SEEK_DATA);
		size_t want, span;
		ssize_t n;

		if (data < 0 && errno == ENXIO)
			data = base + inode->size;	/* a hole to the end */
		if (data >= 0)
			data -= base;
		if (data > (off_t)done) {
			/* skip whole blocks of the hole, never the tail */
			uint64_t to = (uint64_t)data / b->blksz * b->blksz;

			if (to > in_blocks)
				to = in_blocks;
			if (to > done) {
				b->flat_zero += to - done;
				done = to;
				continue;
			}
		}
		want = inode->size - done < FLAT_IO_SIZE ? inode->size - done :
							     FLAT_IO_SIZE;
		n = erofs_pread_all(fd, buf, want, base + done);
		if (n < 0)
			return erofs_err(b->log, n, "%s: read error at %llu",
					 path, (unsigned long long)done);
		if ((size_t)n != want)
			return erofs_fail(b->log, -EAGAIN,
					  "%s: file shrank during the build",
					  path);
		span = done + want <= in_blocks ? want : in_blocks - done;
		for (size_t o = 0; o < span; o += b->blksz) {
			size_t len = span - o < b->blksz ? span - o : b->blksz;
			int err;

			if (range_is_zero(buf + o, len)) {
				b->flat_zero += len;
				continue;
			}
			err = erofs_pwrite_all(b->boot.fd, buf + o, len,
					       dst + done + o);
			if (err)
				return erofs_err(b->log, err,
						 "%s: write error",
						 b->boot.path);
			b->flat_stored += erofs_round_up(len, b->blksz);
		}
		if (span < want) {
			inode->inline_data = malloc(inode->inline_size);
			if (!inode->inline_data)
				return -ENOMEM;
			memcpy(inode->inline_data, buf + span,
			       inode->inline_size);
			b->flat_stored += inode->inline_size;
		}
		done += want;
	}
	if (inode->inline_size && !inode->inline_data) {
		/* the tail lay in a hole */
		inode->inline_data = calloc(1, inode->inline_size);
		if (!inode->inline_data)
			return -ENOMEM;
	}
	b->flat_bytes += inode->size;
	return 0;
}

/*
 * Opens a regular file of the source for the data pass.  Files come in
 * layout order, so consecutive ones usually share their directory, whose fd
 * is kept in *@dirfd (named *@dirname).
 */
static int open_source(struct build *b, int rootfd, const char *rel,
		       int *dirfd, char **dirname)
{
	const char *slash = strrchr(rel, '/');
	size_t dlen = slash ? (size_t)(slash - rel) : 0;

	if (!slash)
		return openat(rootfd, rel,
			      O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (*dirfd < 0 || strlen(*dirname) != dlen ||
	    memcmp(*dirname, rel, dlen)) {
		char *d = strndup(rel, dlen);
		int fd;

		if (!d) {
			errno = ENOMEM;
			return -1;
		}
		fd = erofs_open_rel(rootfd, d);
		if (fd < 0) {
			free(d);
			return -1;
		}
		if (*dirfd >= 0)
			close(*dirfd);
		free(*dirname);
		*dirfd = fd;
		*dirname = d;
	}
	return openat(*dirfd, slash + 1,
		      O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
}

/* regular files of an archive: from the spool, named "ARCHIVE:path" */
static int data_pass_spool(struct build *b)
{
	char *shown = NULL;
	int err = 0;

	for (uint64_t i = 0; i < b->tree.nr_inodes && !err; i++) {
		struct erofs_inode *inode = b->tree.inodes[i];

		if (!S_ISREG(inode->mode))
			continue;
		b->regular_files++;
		if (!inode->size)
			continue;
		free(shown);
		if (asprintf(&shown, "%s:%s", b->srcdir,
			     inode->src_path ? inode->src_path : "?") < 0) {
			shown = NULL;
			err = -ENOMEM;
			break;
		}
		if (!inode->src_spooled) {
			err = erofs_fail(b->log, -EINVAL,
					 "%s: no data recorded", shown);
			break;
		}
		if (inode->datalayout == EROFS_INODE_CHUNK_BASED)
			err = erofs_chunk_file_at(&b->cs, b->spool_fd,
						  inode->src_off, shown,
						  inode->size, inode->chunks);
		else
			err = write_flat(b, inode, b->spool_fd, inode->src_off,
					 shown);
	}
	free(shown);
	return err;
}

static int data_pass(struct build *b)
{
	int rootfd;
	char *shown = NULL, *dirname = NULL;
	int dirfd = -1, err = 0;

	if (b->archive)
		return data_pass_spool(b);
	rootfd = open(b->srcdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return erofs_err(b->log, -errno, "%s: cannot open", b->srcdir);
	for (uint64_t i = 0; i < b->tree.nr_inodes && !err; i++) {
		struct erofs_inode *inode = b->tree.inodes[i];
		struct stat st;
		int fd;

		if (!S_ISREG(inode->mode))
			continue;
		b->regular_files++;
		if (!inode->size)
			continue;
		/* messages name the file as the user knows it */
		free(shown);
		if (asprintf(&shown, "%s/%s", b->srcdir, inode->src_path) < 0) {
			shown = NULL;
			err = -ENOMEM;
			break;
		}
		fd = open_source(b, rootfd, inode->src_path, &dirfd, &dirname);
		if (fd < 0) {
			err = erofs_err(b->log, -errno, "%s: cannot open%s",
					shown,
					errno == ENOENT ?
						", vanished during the build" :
						"");
			break;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
		    (uint64_t)st.st_size != inode->size) {
			err = erofs_fail(b->log, -EAGAIN,
					 "%s: changed during the build", shown);
			close(fd);
			break;
		}
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		if (inode->datalayout == EROFS_INODE_CHUNK_BASED)
			err = erofs_chunk_file(&b->cs, fd, shown, inode->size,
					       inode->chunks);
		else
			err = write_flat(b, inode, fd, 0, shown);
		close(fd);
	}
	close(rootfd);
	if (dirfd >= 0)
		close(dirfd);
	free(dirname);
	free(shown);
	return err;
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

static int fill_manifest(struct build *b, const char *dest, uint64_t boot_size,
			 uint64_t blob_size, const char *blob_sha,
			 struct erofs_manifest *m)
{
	const struct erofs_chunk_stats *st = &b->cs.st;
	int err;

	memset(m, 0, sizeof(*m));
	m->bootstrap_path = manifest_path(b->o->manifest, dest);
	if (!m->bootstrap_path)
		return -ENOMEM;
	m->bootstrap_size = boot_size;
	err = sha256_file(b->boot.fd, boot_size, m->bootstrap_sha256);
	if (err)
		return erofs_err(b->log, err, "%s: cannot hash", dest);
	m->block_size = b->blksz;
	m->chunk_size = b->o->chunksize;
	if (b->o->fsid && !(m->fsid = strdup(b->o->fsid)))
		return -ENOMEM;
	if (b->o->domain_id && !(m->domain_id = strdup(b->o->domain_id)))
		return -ENOMEM;
	if (b->have_blob) {
		m->blobs = calloc(1, sizeof(*m->blobs));
		if (!m->blobs)
			return -ENOMEM;
		m->nr_blobs = 1;
		m->blobs[0].device_id = 1;
		strcpy(m->blobs[0].tag, blob_sha);
		strcpy(m->blobs[0].sha256, blob_sha);
		m->blobs[0].size = blob_size;
		m->blobs[0].blocks = blob_size / b->blksz;
		m->blobs[0].path = manifest_path(b->o->manifest, b->o->blobdev);
		if (!m->blobs[0].path)
			return -ENOMEM;
	}
	m->counts.inodes = b->tree.nr_inodes;
	m->counts.regular_files = b->regular_files;
	m->counts.chunks = st->chunks;
	m->counts.unique_chunks = st->unique;
	m->counts.zero_chunks = st->zero;
	m->counts.bytes_in = st->bytes_in + b->flat_bytes;
	m->counts.bytes_stored = st->bytes_stored + b->flat_stored;
	m->counts.bytes_deduplicated = st->bytes_dedup;
	m->counts.bytes_zero = st->bytes_zero + b->flat_zero;
	return 0;
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

/*
 * An unlinked temporary file in DEST's directory for an archive's file
 * data: on the output's file system, and gone whatever happens.
 */
static int open_spool(const char *dest, const struct erofs_log *log)
{
	char *dir = dir_of(dest), *tmpl = NULL;
	int fd;

	if (!dir)
		return erofs_err(log, -errno, "%s: cannot find its directory",
				 dest);
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR ||
		       errno == EINVAL)) {
		/* no O_TMPFILE here: a named file, unlinked at once */
		if (asprintf(&tmpl, "%s/.mkfs-spool.XXXXXX", dir) < 0) {
			free(dir);
			return -ENOMEM;
		}
		fd = mkostemp(tmpl, O_CLOEXEC);
		if (fd >= 0)
			unlink(tmpl);
	}
	if (fd < 0)
		fd = erofs_err(log, -errno,
			       "%s: cannot create a spool file for the archive's data",
			       dir);
	free(tmpl);
	free(dir);
	return fd;
}

/* pass 1 for the source: a directory, an archive file, or "-" (stdin) */
static int import_source(struct build *b, const char *dest)
{
	const struct erofs_build_opts *o = b->o;
	struct erofs_import_tar_opts to = {
		.no_xattrs = o->xattr_tolerance < 0,
		.exclude = &o->exclude,
		.fd = -1,
		.could_be_dir = true,
		.whiteouts = o->aufs ? EROFS_WHITEOUT_OVERLAY :
				       EROFS_WHITEOUT_KEEP,
		.ovlfs_strip = o->ovlfs_strip,
		.chunksize = o->chunksize,
		.blkszbits = o->blkszbits,
	};
	struct erofs_import_dir_opts io = {
		.no_xattrs = o->xattr_tolerance < 0,
		.exclude = &o->exclude,
	};
	struct stat st;

	if (!strcmp(b->srcdir, "-")) {
		to.fd = STDIN_FILENO;
		to.could_be_dir = false;
	} else if (stat(b->srcdir, &st) < 0) {
		return erofs_err(b->log, -errno, "%s: cannot open source",
				 b->srcdir);
	} else if (S_ISDIR(st.st_mode)) {
		return erofs_import_dir(&b->tree, &b->xt, b->srcdir, &io);
	} else if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode) &&
		   !S_ISCHR(st.st_mode)) {
		return erofs_fail(b->log, -EINVAL,
				  "%s: source is not a directory or an archive file",
				  b->srcdir);
	}
	b->archive = true;
	b->spool_fd = open_spool(dest, b->log);
	if (b->spool_fd < 0)
		return b->spool_fd;
	return erofs_import_tar(&b->tree, &b->xt, b->srcdir, b->spool_fd, &to);
}

int erofs_build_dir(const char *dest, const char *srcdir,
		    const struct erofs_build_opts *o,
		    struct erofs_build_result *res,
		    const struct erofs_log *log)
{
	return erofs_build(dest, srcdir, o, res, log);
}

int erofs_build(const char *dest, const char *srcdir,
		const struct erofs_build_opts *o,
		struct erofs_build_result *res, const struct erofs_log *log)
{
	struct build b = {
		.o = o, .log = log, .srcdir = srcdir, .spool_fd = -1,
	};
	struct erofs_image_opts imo = { 0 };
	uint8_t blob_md[EROFS_SHA256_LEN];
	char blob_hex[EROFS_SHA256_HEX_LEN + 1] = "";
	uint64_t blob_size = 0, boot_size;
	bool boot_open = false, blob_open = false, manifest_saved = false;
	struct timespec now;
	int err;

	memset(res, 0, sizeof(*res));
	err = validate_opts(o, log);
	if (err)
		return err;
	b.blksz = 1u << o->blkszbits;
	erofs_tree_init(&b.tree, log);
	erofs_xattr_table_init(&b.xt, log);

	/* pass 1 */
	err = import_source(&b, dest);
	if (err)
		goto out;
	erofs_info(log, "%s: read %llu entries", srcdir,
		   (unsigned long long)b.tree.nr_all);
	clock_gettime(CLOCK_REALTIME, &now);
	imo.blkszbits = o->blkszbits;
	imo.chunksize = o->chunksize;
	imo.xattr_filter = o->xattr_filter;
	if (o->fixed_time) {
		imo.build_time = o->timestamp;
	} else if (o->have_epoch) {
		imo.build_time = o->epoch;
	} else {
		imo.build_time = now.tv_sec;
		imo.build_time_nsec = now.tv_nsec;
	}
	err = choose_uuid(o, imo.uuid);
	if (err)
		goto out;
	memcpy(imo.volume_name, o->label, sizeof(imo.volume_name));
	imo.nr_devices = o->blobdev ? 1 : 0;
	apply_overrides(&b, imo.build_time);
	err = erofs_tree_finalize(&b.tree);
	if (!err)
		err = erofs_xattr_select_shared(&b.xt, o->xattr_tolerance);
	if (!err)
		err = erofs_image_init(&b.img, &b.tree, &b.xt, &imo, log);
	if (!err)
		err = erofs_image_layout(&b.img);
	if (err)
		goto out;
	erofs_info(log, "laid out %llu inodes, %llu shared xattrs, %u metadata blocks",
		   (unsigned long long)b.tree.nr_inodes,
		   (unsigned long long)b.xt.nr_shared, b.img.data_blkaddr);

	err = erofs_outfile_open(&b.boot, dest, log);
	if (err)
		goto out;
	boot_open = true;
	if (o->blobdev) {
		err = erofs_outfile_open(&b.blob, o->blobdev, log);
		if (err)
			goto out;
		blob_open = b.have_blob = true;
	}
	b.iobuf = malloc(FLAT_IO_SIZE + b.blksz);
	if (!b.iobuf) {
		err = -ENOMEM;
		goto out;
	}
	err = erofs_image_write_dir_data(&b.img, b.boot.fd);
	if (err)
		goto out;

	/* pass 2 */
	if (b.have_blob)
		err = erofs_blob_init(&b.writer, b.blob.fd, 0, b.blksz, true,
				      BLOB_QUEUE_BYTES, o->blobdev, log);
	else
		err = erofs_blob_init(&b.writer, b.boot.fd,
				      (uint64_t)b.img.data_end * b.blksz,
				      b.blksz, false, BLOB_QUEUE_BYTES, dest,
				      log);
	if (err)
		goto out;
	b.writer_started = true;
	err = erofs_chunk_store_init(&b.cs, o->blkszbits,
				     o->chunksize ? o->chunksize : b.blksz,
				     b.have_blob ? 1 : 0,
				     b.have_blob ? 0 : b.img.data_end,
				     &b.writer, log);
	if (!err)
		err = data_pass(&b);
	b.writer_started = false;
	if (err) {
		erofs_blob_finish(&b.writer, NULL);
		goto out;
	}
	err = erofs_blob_finish(&b.writer, blob_md);
	if (err)
		goto out;
	erofs_info(log, "stored %llu data bytes", (unsigned long long)b.writer.size);

	/* pass 3 */
	if (b.have_blob) {
		blob_size = b.writer.size;
		erofs_hex(blob_hex, blob_md, EROFS_SHA256_LEN);
		if (ftruncate(b.blob.fd, blob_size) < 0) {
			err = erofs_err(log, -errno, "%s: cannot size",
					o->blobdev);
			goto out;
		}
		memcpy(b.img.devices[0].tag, blob_hex, EROFS_TAG_LEN);
		b.img.devices[0].blocks = blob_size / b.blksz;
	} else {
		b.img.total_blocks += b.writer.size / b.blksz;
	}
	err = erofs_image_write_meta(&b.img, b.boot.fd);
	if (err)
		goto out;
	boot_size = (uint64_t)b.img.total_blocks * b.blksz;
	if (ftruncate(b.boot.fd, boot_size) < 0) {
		err = erofs_err(log, -errno, "%s: cannot size", dest);
		goto out;
	}
	err = fill_manifest(&b, dest, boot_size, blob_size, blob_hex,
			    &res->manifest);
	if (err)
		goto out;
	if (o->manifest) {
		err = erofs_manifest_save(&res->manifest, o->manifest, log);
		if (err)
			goto out;
		manifest_saved = true;
	}
	if (b.have_blob) {
		err = erofs_outfile_commit(&b.blob, log);
		blob_open = false;
		if (err)
			goto out;
	}
	err = erofs_outfile_commit(&b.boot, log);
	boot_open = false;
	if (err && o->blobdev)
		unlink(o->blobdev);
out:
	if (err && manifest_saved)
		unlink(o->manifest);
	if (b.writer_started)
		erofs_blob_finish(&b.writer, NULL);
	if (blob_open)
		erofs_outfile_abort(&b.blob);
	if (boot_open)
		erofs_outfile_abort(&b.boot);
	erofs_chunk_store_free(&b.cs);
	erofs_image_free(&b.img);
	erofs_xattr_table_free(&b.xt);
	erofs_tree_free(&b.tree);
	free(b.iobuf);
	if (b.spool_fd >= 0)
		close(b.spool_fd);
	if (err)
		erofs_build_result_free(res);
	return err;
}

void erofs_build_result_free(struct erofs_build_result *res)
{
	erofs_manifest_free(&res->manifest);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Archive importer: tar (and every other format libarchive reads, through
 * any of its decompression filters) into the inode tree.  Metadata goes to
 * the tree as the entries stream by; regular file data goes to the sink
 * (the builder's data path, or a spool file the data pass reads later).
 * This is the entry loop, for libarchive's entries and for the headerball
 * reader's (tar_header.c); paths and whiteouts are import_tar_path.c's,
 * xattrs and ACLs import_tar_xattr.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "liberofs_decompress.h"
#include "liberofs_import_tar.h"
#include "liberofs_tar_header.h"
#include "erofs/ondisk.h"
#include "erofs/util.h"

/* spooled files start block-aligned, so holes stay holes */
#define SPOOL_ALIGN 4096u
#define SYMLINK_MAX 4095u
/* members from this size up are read in place from a plain archive file */
#define IN_PLACE_MIN (64u << 10)
/* what erofs_rdev_encode() can hold: 12 bits of major, 20 of minor */
#define RDEV_MAJOR_MAX 0xfffu
#define RDEV_MINOR_MAX 0xfffffu

/* the entry currently read, for messages */
int bad_entry(struct tar *c, int err, const char *why)
{
	return erofs_fail(c->log, err, "%s: entry \"%s\"%s: %s", c->src,
			  c->name, c->at, why);
}

static int archive_failure(struct tar *c, const char *what)
{
	int e = archive_errno(c->a);
	const char *msg = archive_error_string(c->a);

	return erofs_fail(c->log, e > 0 ? -e : -EIO, "%s: entry \"%s\": %s: %s",
			  c->src, c->name, what,
			  msg ? msg : "unknown libarchive error");
}

/* skips the entry's body (a headerball has none) */
int skip_body(struct tar *c)
{
	if (!c->a || archive_read_data_skip(c->a) == ARCHIVE_OK)
		return 0;
	return archive_failure(c, "cannot skip");
}

static bool excluded(const struct tar *c, char *path)
{
	const struct erofs_exclude *ex = c->opts->exclude;
	bool hit = false;

	if (!ex || (!ex->nr_paths && !ex->nr_regexes))
		return false;
	/* an excluded directory takes everything below it along */
	for (char *p = path; !hit; p++) {
		if (*p != '/' && *p)
			continue;
		char saved = *p;

		*p = '\0';
		hit = erofs_exclude_match(ex, path);
		*p = saved;
		if (!saved)
			break;
	}
	return hit;
}

void set_meta(struct erofs_inode *inode, struct archive_entry *e, mode_t type)
{
	inode->mode = type | (archive_entry_perm(e) & 07777);
	inode->uid = archive_entry_uid(e);
	inode->gid = archive_entry_gid(e);
	if (archive_entry_mtime_is_set(e)) {
		inode->mtime = archive_entry_mtime(e);
		inode->mtime_nsec = archive_entry_mtime_nsec(e);
	} else {
		inode->mtime = 0;
		inode->mtime_nsec = 0;
	}
	if (S_ISCHR(type) || S_ISBLK(type)) {
		inode->rdev_major = archive_entry_rdevmajor(e);
		inode->rdev_minor = archive_entry_rdevminor(e);
	}
}

static mode_t entry_type(struct archive_entry *e);

static int check_meta(struct tar *c, struct archive_entry *e)
{
	int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);

	if (uid < 0 || uid > UINT32_MAX || gid < 0 || gid > UINT32_MAX)
		return bad_entry(c, -EINVAL, "owner or group out of range");
	if (archive_entry_mtime_nsec(e) < 0 ||
	    archive_entry_mtime_nsec(e) > 999999999)
		return bad_entry(c, -EINVAL, "bad nanoseconds of mtime");
	if ((entry_type(e) == S_IFCHR || entry_type(e) == S_IFBLK) &&
	    !archive_entry_hardlink(e) &&
	    (archive_entry_rdevmajor(e) > RDEV_MAJOR_MAX ||
	     archive_entry_rdevminor(e) > RDEV_MINOR_MAX)) {
		erofs_fail(c->log, -EOVERFLOW,
			   "%s: entry \"%s\": device number %llu:%llu does not "
			   "fit EROFS (major up to %u, minor up to %u)",
			   c->src, c->name,
			   (unsigned long long)archive_entry_rdevmajor(e),
			   (unsigned long long)archive_entry_rdevminor(e),
			   RDEV_MAJOR_MAX, RDEV_MINOR_MAX);
		return -EOVERFLOW;
	}
	return 0;
}

/* the spool sink: data copied to the spool file, holes left as holes */
static int spool_begin(void *arg, struct erofs_inode *inode, const char *what)
{
	struct tar *c = arg;

	(void)what;
	c->sp_inode = inode;
	c->sp_start = erofs_round_up(c->spool_end, SPOOL_ALIGN);
	c->sp_pos = 0;
	return 0;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	return !len || (!p[0] && !memcmp(p, p + 1, len - 1));
}

/*
 * Runs of all-zero spool blocks are not written: the spool is a fresh
 * region of a sparse file, so they stay holes (a layer of zeros costs no
 * temporary space).
 */
static int spool_write(void *arg, const void *buf, size_t len)
{
	struct tar *c = arg;
	const uint8_t *p = buf;
	size_t done = 0;

	while (done < len) {
		uint64_t at = c->sp_start + c->sp_pos + done;
		size_t run = SPOOL_ALIGN - at % SPOOL_ALIGN;
		bool zero;

		if (run > len - done)
			run = len - done;
		zero = all_zero(p + done, run);
		while (done + run < len) {
			size_t m = len - done - run < SPOOL_ALIGN
				       ? len - done - run
				       : SPOOL_ALIGN;

			if (all_zero(p + done + run, m) != zero)
				break;
			run += m;
		}
		if (!zero) {
			int err =
			    erofs_pwrite_all(c->spool_fd, p + done, run, at);

			if (err)
				return erofs_err(c->log, err,
						 "%s: entry \"%s\": cannot "
						 "write the spool file",
						 c->src, c->name);
		}
		done += run;
	}
	c->sp_pos += len;
	return 0;
}

static int spool_hole(void *arg, uint64_t len)
{
	struct tar *c = arg;

	c->sp_pos += len;
	return 0;
}

static int spool_finish(void *arg)
{
	struct tar *c = arg;

	c->sp_inode->src_off = c->sp_start;
	c->sp_inode->src_spooled = true;
	if (c->sp_start + c->sp_pos > c->spool_end)
		c->spool_end = c->sp_start + c->sp_pos;
	return 0;
}

/*
 * Whether the entry's data is read in place from the archive file (one
 * copy less than through libarchive's buffers): a tar member, stored whole
 * (not sparse) at a 512-byte boundary of an uncompressed regular file, and
 * big enough that reading it again costs less than the copy it saves.
 */
static bool in_place(struct tar *c, struct archive_entry *e, int64_t size)
{
	uint64_t base;
	int64_t off;

	if (!c->sink->data_fd || size < IN_PLACE_MIN ||
	    erofs_dstream_file_fd(c->ds, &base) < 0 ||
	    (archive_format(c->a) & ARCHIVE_FORMAT_BASE_MASK) !=
		ARCHIVE_FORMAT_TAR ||
	    archive_entry_sparse_count(e) > 0)
		return false;
	off = archive_filter_bytes(c->a, 0);
	return off >= 0 && !(off % 512);
}

/*
 * Streams the entry's data to the sink in order (holes of sparse entries
 * as holes), or with --tar=i hands over where it lies in the archive.
 * inode->size is set from the header first.
 */
static int stream_data(struct tar *c, struct archive_entry *e,
		       struct erofs_inode *inode)
{
	const struct erofs_tar_sink *sk = c->sink;
	int64_t decl = archive_entry_size(e);
	uint64_t pos = 0;
	char *what;
	int err;

	if (!archive_entry_size_is_set(e))
		return bad_entry(c, -EINVAL,
				 "the size is not recorded before the data");
	if (decl < 0)
		return bad_entry(c, -EINVAL, "negative size");
	inode->size = decl;
	if (!c->a) {
		/* a headerball: the data is not there, the file reads zeros */
		if (sk->absent && decl)
			return sk->absent(sk->arg, inode);
		if (asprintf(&what, "%s: entry \"%s\"", c->src, c->name) < 0)
			return -ENOMEM;
		err = sk->begin(sk->arg, inode, what);
		if (!err && decl)
			err = sk->hole(sk->arg, decl);
		if (!err)
			err = sk->end(sk->arg);
		free(what);
		return err;
	}
	if (c->opts->tar_mode == EROFS_TAR_INDEX && sk->external) {
		int64_t off = archive_filter_bytes(c->a, 0);

		if (archive_entry_sparse_count(e) > 0)
			return bad_entry(c, -EOPNOTSUPP,
					 "a sparse entry cannot stay in the "
					 "archive (--tar=i)");
		if (off < 0 || off % 512)
			return bad_entry(
			    c, -EINVAL,
			    "data not at a 512-byte boundary of the archive");
		err = sk->external(sk->arg, inode, off);
		if (err)
			return err;
		return archive_read_data_skip(c->a) == ARCHIVE_OK
			   ? 0
			   : archive_failure(c, "cannot read data");
	}
	if (asprintf(&what, "%s: entry \"%s\"", c->src, c->name) < 0)
		return -ENOMEM;
	if (in_place(c, e, decl)) {
		uint64_t base;
		int fd = erofs_dstream_file_fd(c->ds, &base);

		err = sk->data_fd(sk->arg, inode, fd,
				  base + archive_filter_bytes(c->a, 0), what);
		free(what);
		if (err)
			return err;
		return archive_read_data_skip(c->a) == ARCHIVE_OK
			   ? 0
			   : archive_failure(c, "cannot read data");
	}
	err = sk->begin(sk->arg, inode, what);
	while (!err) {
		const void *buf;
		size_t len;
		la_int64_t off;
		int r = archive_read_data_block(c->a, &buf, &len, &off);

		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			err = archive_failure(c, "cannot read data");
			break;
		}
		if (off < 0 || (uint64_t)off < pos ||
		    (uint64_t)off + len > (uint64_t)decl) {
			err = bad_entry(
			    c, -EINVAL,
			    "data beyond the entry's size or out of order");
			break;
		}
		if ((uint64_t)off > pos)
			err = sk->hole(sk->arg, off - pos);
		if (!err && len)
			err = sk->write(sk->arg, buf, len);
		pos = off + len;
	}
	if (!err && pos < (uint64_t)decl)
		err = sk->hole(sk->arg, decl - pos);
	if (!err)
		err = sk->end(sk->arg);
	free(what);
	return err;
}

static mode_t entry_type(struct archive_entry *e)
{
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
		return S_IFREG;
	case AE_IFDIR:
		return S_IFDIR;
	case AE_IFLNK:
		return S_IFLNK;
	case AE_IFCHR:
		return S_IFCHR;
	case AE_IFBLK:
		return S_IFBLK;
	case AE_IFIFO:
		return S_IFIFO;
	case AE_IFSOCK:
		return S_IFSOCK;
	default:
		return 0;
	}
}

/* a hard link entry: another name of an inode already read */
static int do_hardlink(struct tar *c, struct archive_entry *e, struct pnode *n,
		       struct erofs_inode *parent, const char *base)
{
	char raw[SHOWN_MAX];
	char *target = strdup(archive_entry_hardlink(e));
	struct pnode *tn;
	int err;

	if (!target)
		return -ENOMEM;
	erofs_escape(raw, sizeof(raw), target);
	err = erofs_tar_path_normalize(target);
	if (err) {
		erofs_fail(c->log, err,
			   "%s: entry \"%s\": hard link target \"%s\" %s",
			   c->src, c->name, raw,
			   err == -EINVAL  ? "has a \"..\" component"
			   : err == -EXDEV ? "is absolute"
					   : "has a component over 255 bytes");
		goto out;
	}
	tn = map_find(c, target, strlen(target));
	if (!tn || !tn->inode) {
		err = erofs_fail(c->log, -ENOENT,
				 "%s: entry \"%s\": hard link to \"%s\", which "
				 "is not in the archive before it",
				 c->src, c->name, raw);
		goto out;
	}
	if (S_ISDIR(tn->inode->mode)) {
		err = erofs_fail(
		    c->log, -EPERM,
		    "%s: entry \"%s\": hard link to the directory \"%s\"",
		    c->src, c->name, raw);
		goto out;
	}
	/* some formats (cpio, pax) may carry the data with a later link */
	if (S_ISREG(tn->inode->mode) && archive_entry_size_is_set(e) &&
	    archive_entry_size(e) > 0) {
		err = stream_data(c, e, tn->inode);
		if (err)
			goto out;
	}
	err = place(c, n, parent, base, tn->inode);
out:
	free(target);
	return err;
}

/* the chunk indexes the entry's size needs count against the limit */
static int claim_chunks(struct tar *c, struct archive_entry *e)
{
	uint64_t cs = c->opts->chunksize, size, n;
	unsigned int bits = c->opts->blkszbits;

	if (!archive_entry_size_is_set(e) || archive_entry_size(e) <= 0)
		return 0;
	size = archive_entry_size(e);
	if (!cs && bits && bits < 32 && (size - 1) >> bits >= UINT32_MAX) {
		erofs_fail(c->log, -EFBIG,
			   "%s: entry \"%s\"%s: %llu bytes do not fit a %s of "
			   "%u-byte blocks%s",
			   c->src, c->name, c->at, (unsigned long long)size,
			   c->a ? "flat file" : "file", 1u << bits,
			   c->a ? " (use --chunksize)" : "");
		return -EFBIG;
	}
	if (!cs)
		return 0;
	n = size / cs + !!(size % cs);
	if (n > EROFS_TAR_MAX_CHUNK_INDEXES - c->chunk_indexes) {
		erofs_fail(c->log, -EFBIG,
			   "%s: entry \"%s\": %llu bytes take the image over "
			   "%llu chunk indexes (the limit; use a larger "
			   "--chunksize than %llu)",
			   c->src, c->name, (unsigned long long)size,
			   (unsigned long long)EROFS_TAR_MAX_CHUNK_INDEXES,
			   (unsigned long long)cs);
		return -EFBIG;
	}
	c->chunk_indexes += n;
	return 0;
}

static int do_entry(struct tar *c, struct archive_entry *e, char *path)
{
	char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	struct erofs_inode *parent = NULL, *inode;
	bool skip = excluded(c, path);
	struct pnode *n;
	mode_t type;
	int err;

	if (archive_entry_hardlink(e) && !archive_entry_symlink(e)) {
		type = 0;
	} else {
		type = entry_type(e);
		if (!type)
			return bad_entry(c, -EINVAL, "unsupported entry type");
	}
	err = check_meta(c, e);
	if (err)
		return err;
	if (skip) {
		erofs_dbg(c->log, "%s: entry \"%s\": excluded", c->src,
			  c->name);
		/* directories go; other inodes stay reachable for links */
		if (S_ISDIR(type))
			return skip_body(c);
	} else {
		err = parent_dir(c, path, slash ? (size_t)(slash - path) : 0, e,
				 &parent);
		if (err)
			return err;
	}
	if (!skip && c->opts->whiteouts != EROFS_WHITEOUT_KEEP &&
	    !strncmp(base, ".wh.", 4))
		return do_whiteout(c, e, path, parent, base + 4);
	if (!skip && c->opts->ovlfs_strip && S_ISCHR(type) &&
	    !archive_entry_rdevmajor(e) && !archive_entry_rdevminor(e)) {
		/* an overlayfs whiteout, dropped by --ovlfs-strip */
		return 0;
	}
	n = map_get(c, path, strlen(path));
	if (!n)
		return -ENOMEM;
	resolve_lower(c, n, parent, base, type);
	if (!type)
		return do_hardlink(c, e, n, parent, base);

	if (S_ISDIR(type) && n->inode && n->parent && S_ISDIR(n->inode->mode)) {
		/* a directory again (or after its implicit creation) */
		inode = n->inode;
	} else {
		inode = erofs_tree_new_inode(c->t);
		if (!inode)
			return -ENOMEM;
	}
	set_meta(inode, e, type);
	err = set_xattrs(c, inode, e);
	if (err)
		return err;
	switch (type) {
	case S_IFREG:
		err = claim_chunks(c, e);
		if (err)
			return err;
		err = stream_data(c, e, inode);
		if (err)
			return err;
		inode->src_path = strdup(path);
		if (!inode->src_path)
			return -ENOMEM;
		break;
	case S_IFLNK: {
		const char *target = archive_entry_symlink(e);
		size_t len = target ? strlen(target) : 0;

		if (!len)
			return bad_entry(c, -EINVAL, "empty symlink target");
		if (len > SYMLINK_MAX)
			return bad_entry(c, -ENAMETOOLONG,
					 "symlink target over 4095 bytes");
		inode->link_target = strdup(target);
		if (!inode->link_target)
			return -ENOMEM;
		inode->size = len;
		break;
	}
	default:
		break;
	}
	return place(c, n, parent, base, inode);
}

/*
 * The formats: libarchive's "all" minus mtree (it reads host files) and
 * raw.  No filters: the stream arrives decompressed (decompress.c).
 */
static void support_formats(struct archive *a)
{
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_zip(a);
	archive_read_support_format_7zip(a);
	archive_read_support_format_ar(a);
	archive_read_support_format_cab(a);
	archive_read_support_format_iso9660(a);
	archive_read_support_format_lha(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	archive_read_support_format_xar(a);
	archive_read_support_format_warc(a);
	archive_read_support_format_empty(a);
}

/*
 * One entry, whichever reader found it (libarchive, or the headerball
 * reader through an entry it filled): the path checks, the root, and the
 * entry into the tree.  @nr counts the entries so far, this one included.
 */
static int import_entry(struct tar *c, struct archive_entry *e, const char *raw,
			uint64_t nr)
{
	char *path;
	int err;

	if (!raw || !*raw)
		return erofs_fail(c->log, -EINVAL,
				  "%s: entry %llu%s has no name", c->src,
				  (unsigned long long)nr, c->at);
	c->name = erofs_escape(c->shown, sizeof(c->shown), raw);
	path = strdup(raw);
	if (!path)
		return -ENOMEM;
	err = erofs_tar_path_normalize(path);
	if (err == -EINVAL) {
		err = bad_entry(c, err, "path has a \"..\" component");
	} else if (err == -EXDEV) {
		err = bad_entry(c, -EINVAL, "path is absolute");
	} else if (err) {
		err = bad_entry(c, err, "path has a component over 255 bytes");
	} else if (!*path) {
		/* the root ("./" or "/") */
		if (entry_type(e) != S_IFDIR || archive_entry_hardlink(e)) {
			err = bad_entry(c, -EINVAL,
					"the root is not a directory");
		} else {
			set_meta(c->t->root, e, S_IFDIR);
			err = check_meta(c, e);
			if (!err)
				err = set_xattrs(c, c->t->root, e);
		}
	} else {
		if (nr == 1 && c->implicit_root && !c->opts->have_dir_time &&
		    archive_entry_mtime_is_set(e)) {
			c->t->root->mtime = archive_entry_mtime(e);
			c->t->root->mtime_nsec = archive_entry_mtime_nsec(e);
		}
		err = do_entry(c, e, path);
	}
	free(path);
	return err;
}

static int read_all(struct tar *c)
{
	struct archive_entry *e;
	uint64_t nr = 0;
	int r, err = 0;

	for (;;) {
		const char *raw;

		c->name = "(header)";
		r = archive_read_next_header(c->a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			const char *msg = archive_error_string(c->a);

			if (erofs_dstream_error(c->ds))
				msg = erofs_dstream_error(c->ds);
			if (!nr && !erofs_dstream_error(c->ds))
				return erofs_fail(
				    c->log, -EINVAL,
				    "%s: not %sa readable archive: %s", c->src,
				    c->opts->could_be_dir ? "a directory or "
							  : "",
				    msg ? msg : "unknown format");
			if (!nr)
				return erofs_fail(c->log, -EINVAL, "%s: %s",
						  c->src, msg);
			return erofs_fail(c->log, -EINVAL,
					  "%s: damaged archive after entry "
					  "\"%s\" (%llu entries): %s",
					  c->src, c->shown,
					  (unsigned long long)nr,
					  msg ? msg : "truncated or corrupt");
		}
		nr++;
		raw = archive_entry_pathname(e);
		if (!raw)
			raw = archive_entry_pathname_utf8(e);
		if (r == ARCHIVE_WARN && raw && *raw) {
			const char *msg = archive_error_string(c->a);
			char shown[SHOWN_MAX];

			erofs_warn(c->log, "%s: entry \"%s\": %s", c->src,
				   erofs_escape(shown, sizeof(shown), raw),
				   msg ? msg : "libarchive warning");
		}
		err = import_entry(c, e, raw, nr);
		if (err)
			break;
	}
	if (!err && !nr && archive_format(c->a) == ARCHIVE_FORMAT_EMPTY)
		err = erofs_fail(
		    c->log, -EINVAL, "%s: not %sa readable archive: empty file",
		    c->src, c->opts->could_be_dir ? "a directory or " : "");
	return err;
}

/* the headerball reader's input: the decompressed blocks */
static ssize_t hb_read(void *arg, void *buf, size_t len)
{
	struct tar *c = arg;

	if (!c->hb_len) {
		const void *p;
		ssize_t n = erofs_dstream_read(c->ds, &p);

		if (n < 0) {
			const char *msg = erofs_dstream_error(c->ds);

			return erofs_fail(c->log, (int)n, "%s: %s", c->src,
					  msg ? msg : "read error");
		}
		c->hb_buf = p;
		c->hb_len = n;
		if (!n)
			return 0;
	}
	if (len > c->hb_len)
		len = c->hb_len;
	memcpy(buf, c->hb_buf, len);
	c->hb_buf += len;
	c->hb_len -= len;
	return len;
}

/* a headerball entry as the libarchive entry the import logic takes */
static int hb_entry(const struct erofs_tar_hdr *h, struct archive_entry *e)
{
	static const mode_t types[] = {
	    ['0'] = AE_IFREG, ['2'] = AE_IFLNK, ['3'] = AE_IFCHR,
	    ['4'] = AE_IFBLK, ['5'] = AE_IFDIR, ['6'] = AE_IFIFO,
	};

	archive_entry_clear(e);
	archive_entry_copy_pathname(e, h->path);
	archive_entry_set_perm(e, h->mode);
	archive_entry_set_uid(e, h->uid > INT64_MAX ? -1 : (int64_t)h->uid);
	archive_entry_set_gid(e, h->gid > INT64_MAX ? -1 : (int64_t)h->gid);
	archive_entry_set_mtime(e, h->mtime, h->mtime_nsec);
	if (h->type == '1') {
		archive_entry_copy_hardlink(e, h->linkpath);
	} else {
		archive_entry_set_filetype(e, types[(unsigned char)h->type]);
		archive_entry_set_size(e, h->size);
	}
	if (h->type == '2')
		archive_entry_copy_symlink(e, h->linkpath);
	if (h->type == '3' || h->type == '4') {
		archive_entry_set_rdevmajor(e, h->devmajor);
		archive_entry_set_rdevminor(e, h->devminor);
	}
	for (unsigned int i = 0; i < h->nr_xattrs; i++)
		archive_entry_xattr_add_entry(
		    e, h->xattrs[i].name, h->xattrs[i].value, h->xattrs[i].len);
	return 0;
}

/*
 * --tar=headerball: tar headers whose regular files have no body, read
 * with our own header reader; the entries then go the way libarchive's
 * do, their data a hole of the recorded size.
 */
static int read_headerball(struct tar *c)
{
	struct erofs_tar_reader r;
	struct erofs_tar_hdr h = {0};
	struct archive_entry *e = archive_entry_new();
	uint64_t nr = 0;
	int err;

	if (!e)
		return -ENOMEM;
	erofs_tar_reader_init(&r, hb_read, c, c->src, true, c->log);
	while ((err = erofs_tar_next(&r, &h)) > 0) {
		snprintf(c->at, sizeof(c->at), " at offset %llu",
			 (unsigned long long)h.offset);
		err = hb_entry(&h, e);
		if (!err)
			err = import_entry(c, e, h.path, ++nr);
		if (err)
			break;
	}
	c->at[0] = '\0';
	erofs_tar_hdr_free(&h);
	erofs_tar_reader_free(&r);
	archive_entry_free(e);
	return err;
}

/* libarchive's input: the decompressed blocks */
static la_ssize_t tar_read(struct archive *a, void *arg, const void **buf)
{
	struct tar *c = arg;
	ssize_t n = erofs_dstream_read(c->ds, buf);

	if (n < 0) {
		const char *msg = erofs_dstream_error(c->ds);

		archive_set_error(a, (int)-n, "%s", msg ? msg : "read error");
		return -1;
	}
	return n;
}

/* libarchive passing over bytes (data it was not asked for) */
static la_int64_t tar_skip(struct archive *a, void *arg, la_int64_t len)
{
	struct tar *c = arg;

	(void)a;
	return erofs_dstream_skip(c->ds, len);
}

int erofs_import_tar(struct erofs_tree *t, struct erofs_xattr_table *xt,
		     const char *path, int spool_fd,
		     const struct erofs_import_tar_opts *opts)
{
	struct tar c = {
	    .t = t,
	    .xt = xt,
	    .opts = opts,
	    .log = t->log,
	    .src = path,
	    .name = "",
	    .spool_fd = spool_fd,
	};
	locale_t utf8, old = (locale_t)0;
	struct stat st;
	int fd = opts->fd, err;

	if (opts->tar_mode == EROFS_TAR_INDEX &&
	    (!opts->sink || !opts->sink->external))
		return erofs_fail(t->log, -EOPNOTSUPP,
				  "%s: --tar=i needs the streaming builder",
				  path);
	c.spool_sink = (struct erofs_tar_sink){
	    .begin = spool_begin,
	    .write = spool_write,
	    .hole = spool_hole,
	    .end = spool_finish,
	    .arg = &c,
	};
	c.sink = opts->sink ? opts->sink : &c.spool_sink;
	if (!opts->sink) {
		if (fstat(spool_fd, &st) < 0)
			return erofs_err(t->log, -errno, "%s: spool file",
					 path);
		c.spool_end = st.st_size; /* append after earlier imports */
	}
	if (fd < 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return erofs_err(t->log, -errno, "%s: cannot open",
					 path);
	}
	if (!t->root) {
		t->root = erofs_tree_new_inode(t);
		if (!t->root) {
			err = -ENOMEM;
			goto out_fd;
		}
		/* no "./" entry: 0777 root:root, as erofs-utils makes it */
		t->root->mode = S_IFDIR | 0777;
		if (opts->have_dir_time)
			t->root->mtime = opts->dir_time;
		c.implicit_root = true;
	} else {
		c.lower = t->root->nr_children > 0;
	}
	if (map_grow(&c)) {
		err = -ENOMEM;
		goto out;
	}
	if (opts->tar_mode != EROFS_TAR_HEADERBALL) {
		c.a = archive_read_new();
		if (!c.a) {
			err = -ENOMEM;
			goto out;
		}
		support_formats(c.a);
	}
	/*
	 * pax names are UTF-8; read them in a UTF-8 locale (for this thread
	 * only) so libarchive hands over the bytes without complaint.
	 */
	utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (utf8)
		old = uselocale(utf8);
	err = erofs_dstream_open(&c.ds, fd, path, t->log);
	if (err)
		goto out_locale;
	if (opts->dump_name)
		erofs_dstream_set_dump(c.ds, opts->dump_fd, opts->dump_name);
	if (!c.a) {
		err = read_headerball(&c);
	} else if (archive_read_open2(c.a, &c, NULL, tar_read, tar_skip,
				      NULL) != ARCHIVE_OK) {
		const char *msg = archive_error_string(c.a);

		if (erofs_dstream_error(c.ds))
			err = erofs_fail(t->log, -EINVAL, "%s: %s", path,
					 erofs_dstream_error(c.ds));
		else
			err = erofs_fail(
			    t->log, -EINVAL, "%s: not %sa readable archive: %s",
			    path, opts->could_be_dir ? "a directory or " : "",
			    msg ? msg : "cannot open");
	} else {
		err = read_all(&c);
	}
	/* the whole stream: trailers and checksums after the end marker */
	if (!err)
		err = erofs_dstream_drain(c.ds);
	if (!err && opts->whiteouts == EROFS_WHITEOUT_OVERLAY &&
	    !opts->ovlfs_strip)
		err = overlay_marks(&c);
out_locale:
	if (utf8) {
		uselocale(old);
		freelocale(utf8);
	}
	if (!err && !opts->sink && ftruncate(spool_fd, c.spool_end) < 0)
		err = erofs_err(t->log, -errno,
				"%s: cannot size the spool file", path);
	if (!err) {
		/* inodes that left the tree no longer count for sharing */
		for (uint64_t i = 0; i < t->nr_all; i++) {
			struct erofs_inode *inode = erofs_tree_inode(t, i);

			if (inode != t->root && !inode->nlink)
				erofs_xattr_drop_inode(inode);
		}
	}
out:
	if (c.a)
		archive_read_free(c.a);
	erofs_dstream_close(c.ds);
	map_free(&c);
out_fd:
	if (opts->fd < 0)
		close(fd);
	return err;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Archive importer: tar (and every other format libarchive reads, through
 * any of its decompression filters) into the inode tree.  Metadata goes to
 * the tree as the entries stream by; regular file data is copied to a
 * spool file the data pass reads later.
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
#include <xxhash.h>

#include "liberofs_decompress.h"
#include "liberofs_import.h"
#include "erofs/ondisk.h"
#include "erofs/util.h"

/* spooled files start block-aligned, so holes stay holes */
#define SPOOL_ALIGN		4096u
#define SYMLINK_MAX		4095u
#define ACL_MAX_ENTRIES		1024u
/* what erofs_rdev_encode() can hold: 12 bits of major, 20 of minor */
#define RDEV_MAJOR_MAX		0xfffu
#define RDEV_MINOR_MAX		0xfffffu
/* how much of a name messages show (escaped) */
#define SHOWN_MAX		1024u

int erofs_tar_path_normalize(char *path)
{
	char *in = path, *out = path;
	bool absolute = *path == '/';

	while (*in) {
		char *end;
		size_t len;

		while (*in == '/')
			in++;
		if (!*in)
			break;
		end = strchr(in, '/');
		len = end ? (size_t)(end - in) : strlen(in);
		if (len == 1 && in[0] == '.') {
			in += len;
			continue;
		}
		if (len == 2 && in[0] == '.' && in[1] == '.')
			return -EINVAL;
		if (len > EROFS_NAME_LEN)
			return -ENAMETOOLONG;
		if (absolute)
			return -EXDEV;
		if (out != path)
			*out++ = '/';
		memmove(out, in, len);
		out += len;
		in += len;
	}
	*out = '\0';
	return 0;
}

static int acl_entry_cmp(const void *a, const void *b)
{
	const struct erofs_acl_entry *x = a, *y = b;

	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int erofs_acl_encode(struct erofs_acl_entry *e, unsigned int n,
		     uint8_t *out, size_t outsz)
{
	unsigned int user_obj = 0, group_obj = 0, other = 0, mask = 0;
	unsigned int named = 0;

	if (outsz < 4 + 8 * (size_t)n)
		return -ENOSPC;
	for (unsigned int i = 0; i < n; i++) {
		if (e[i].perm > 7)
			return -EINVAL;
		switch (e[i].tag) {
		case EROFS_ACL_USER_OBJ:
			user_obj++;
			break;
		case EROFS_ACL_GROUP_OBJ:
			group_obj++;
			break;
		case EROFS_ACL_OTHER:
			other++;
			break;
		case EROFS_ACL_MASK:
			mask++;
			break;
		case EROFS_ACL_USER:
		case EROFS_ACL_GROUP:
			named++;
			continue;
		default:
			return -EINVAL;
		}
		e[i].id = EROFS_ACL_UNDEFINED_ID;
	}
	if (user_obj != 1 || group_obj != 1 || other != 1 || mask > 1 ||
	    (named && !mask))
		return -EINVAL;
	qsort(e, n, sizeof(*e), acl_entry_cmp);
	for (unsigned int i = 1; i < n; i++)
		if (e[i].tag == e[i - 1].tag && e[i].id == e[i - 1].id)
			return -EINVAL;
	erofs_put_le32(out, EROFS_ACL_XATTR_VERSION);
	for (unsigned int i = 0; i < n; i++) {
		erofs_put_le16(out + 4 + 8 * i, e[i].tag);
		erofs_put_le16(out + 6 + 8 * i, e[i].perm);
		erofs_put_le32(out + 8 + 8 * i, e[i].id);
	}
	return 4 + 8 * n;
}

/* path -> inode of every entry seen (open addressing, never shrinks) */
struct pnode {
	char *path;
	struct erofs_inode *inode;
	struct erofs_inode *parent;	/* NULL: excluded, kept for links */
	bool lower;		/* found in the tree from an earlier source */
	bool opaque;		/* --aufs: ".wh..wh..opq" seen inside */
	bool whiteouts;		/* --aufs: holds overlayfs whiteouts */
};

struct tar {
	struct erofs_tree *t;
	struct erofs_xattr_table *xt;
	const struct erofs_import_tar_opts *opts;
	const struct erofs_log *log;
	const char *src;	/* the archive, for messages */
	const char *name;	/* the entry for messages (escaped) */
	char shown[SHOWN_MAX];	/* the last entry's name, escaped */
	struct archive *a;
	struct erofs_dstream *ds;
	int spool_fd;
	uint64_t spool_end;
	const struct erofs_tar_sink *sink;
	struct erofs_tar_sink spool_sink;
	struct erofs_inode *sp_inode;
	uint64_t sp_start, sp_pos;
	bool implicit_root;	/* created here: takes the first mtime */
	bool lower;		/* the tree held entries before this import */
	uint64_t chunk_indexes;	/* claimed by regular files so far */
	bool root_opaque, root_whiteouts;

	struct pnode *map;
	uint64_t map_cap;
	uint64_t map_used;
};

static uint64_t path_hash(const char *p, size_t len)
{
	return XXH3_64bits(p, len);
}

static struct pnode *map_slot(struct tar *c, const char *path, size_t len)
{
	uint64_t i = path_hash(path, len) & (c->map_cap - 1);

	for (;; i = (i + 1) & (c->map_cap - 1)) {
		struct pnode *n = &c->map[i];

		if (!n->path || (!strncmp(n->path, path, len) && !n->path[len]))
			return n;
	}
}

/* the node of @path (the first @len bytes), or NULL */
static struct pnode *map_find(struct tar *c, const char *path, size_t len)
{
	struct pnode *n = map_slot(c, path, len);

	return n->path ? n : NULL;
}

static int map_grow(struct tar *c)
{
	uint64_t cap = c->map_cap ? c->map_cap * 2 : 1024;
	struct pnode *old = c->map;
	uint64_t ocap = c->map_cap;

	c->map = calloc(cap, sizeof(*c->map));
	if (!c->map) {
		c->map = old;
		return -ENOMEM;
	}
	c->map_cap = cap;
	for (uint64_t i = 0; i < ocap; i++)
		if (old[i].path)
			*map_slot(c, old[i].path, strlen(old[i].path)) = old[i];
	free(old);
	return 0;
}

/* a node for @path, created empty (inode NULL) when new */
static struct pnode *map_get(struct tar *c, const char *path, size_t len)
{
	struct pnode *n;

	if ((c->map_used + 1) * 2 > c->map_cap && map_grow(c))
		return NULL;
	n = map_slot(c, path, len);
	if (!n->path) {
		n->path = strndup(path, len);
		if (!n->path)
			return NULL;
		n->inode = NULL;
		n->parent = NULL;
		n->lower = n->opaque = n->whiteouts = false;
		c->map_used++;
	}
	return n;
}

static void map_free(struct tar *c)
{
	for (uint64_t i = 0; i < c->map_cap; i++)
		free(c->map[i].path);
	free(c->map);
	c->map = NULL;
}

/* the entry currently read, for messages */
static int bad_entry(struct tar *c, int err, const char *why)
{
	return erofs_fail(c->log, err, "%s: entry \"%s\": %s", c->src, c->name,
			  why);
}

static int archive_failure(struct tar *c, const char *what)
{
	int e = archive_errno(c->a);
	const char *msg = archive_error_string(c->a);

	return erofs_fail(c->log, e > 0 ? -e : -EIO,
			  "%s: entry \"%s\": %s: %s", c->src, c->name, what,
			  msg ? msg : "unknown libarchive error");
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

static void set_meta(struct erofs_inode *inode, struct archive_entry *e,
		     mode_t type)
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
			   "%s: entry \"%s\": device number %llu:%llu does not fit EROFS (major up to %u, minor up to %u)",
			   c->src, c->name,
			   (unsigned long long)archive_entry_rdevmajor(e),
			   (unsigned long long)archive_entry_rdevminor(e),
			   RDEV_MAJOR_MAX, RDEV_MINOR_MAX);
		return -EOVERFLOW;
	}
	return 0;
}

/* one POSIX ACL type of @e into an xattr value; 0 bytes when it has none */
static int encode_acl(struct tar *c, struct archive_entry *e, int type,
		      uint32_t *mode, uint8_t *out, size_t outsz)
{
	struct erofs_acl_entry ents[ACL_MAX_ENTRIES];
	char shown[SHOWN_MAX];
	unsigned int n = 0;
	bool named = false;
	int etype, perm, tag, id, len;
	const char *name;

	if (archive_entry_acl_reset(e, type) <= 0)
		return 0;
	while (archive_entry_acl_next(e, type, &etype, &perm, &tag, &id,
				      &name) == ARCHIVE_OK) {
		struct erofs_acl_entry *a = &ents[n];

		if (n == ACL_MAX_ENTRIES)
			return bad_entry(c, -E2BIG, "too many ACL entries");
		a->perm = perm & 7;
		a->id = EROFS_ACL_UNDEFINED_ID;
		switch (tag) {
		case ARCHIVE_ENTRY_ACL_USER_OBJ:
			a->tag = EROFS_ACL_USER_OBJ;
			break;
		case ARCHIVE_ENTRY_ACL_GROUP_OBJ:
			a->tag = EROFS_ACL_GROUP_OBJ;
			break;
		case ARCHIVE_ENTRY_ACL_MASK:
			a->tag = EROFS_ACL_MASK;
			break;
		case ARCHIVE_ENTRY_ACL_OTHER:
			a->tag = EROFS_ACL_OTHER;
			break;
		case ARCHIVE_ENTRY_ACL_USER:
		case ARCHIVE_ENTRY_ACL_GROUP:
			a->tag = tag == ARCHIVE_ENTRY_ACL_USER ? EROFS_ACL_USER :
								  EROFS_ACL_GROUP;
			if (id < 0) {
				erofs_fail(c->log, -EINVAL,
					   "%s: entry \"%s\": ACL entry for %s \"%s\" has no numeric id",
					   c->src, c->name,
					   tag == ARCHIVE_ENTRY_ACL_USER ?
						   "user" : "group",
					   erofs_escape(shown, sizeof(shown),
							name ? name : "?"));
				return -EINVAL;
			}
			a->id = id;
			named = true;
			break;
		default:
			return bad_entry(c, -EINVAL, "unknown ACL entry tag");
		}
		n++;
	}
	/* an access ACL of the three mode entries is no ACL at all */
	if (type == ARCHIVE_ENTRY_ACL_TYPE_ACCESS && !named) {
		bool has_mask = false;

		for (unsigned int i = 0; i < n; i++)
			has_mask |= ents[i].tag == EROFS_ACL_MASK;
		if (!has_mask)
			return 0;
	}
	if (type == ARCHIVE_ENTRY_ACL_TYPE_ACCESS) {
		/*
		 * libarchive folds the owner, group and other entries into
		 * the mode (the group bits become the owning group's
		 * permissions); with a mask the kernel keeps the mask there.
		 */
		for (unsigned int i = 0; i < n; i++) {
			unsigned int shift;

			switch (ents[i].tag) {
			case EROFS_ACL_USER_OBJ:
				shift = 6;
				break;
			case EROFS_ACL_MASK:
				shift = 3;
				break;
			case EROFS_ACL_OTHER:
				shift = 0;
				break;
			default:
				continue;
			}
			*mode = (*mode & ~(7u << shift)) |
				((uint32_t)ents[i].perm << shift);
		}
	}
	len = erofs_acl_encode(ents, n, out, outsz);
	if (len < 0)
		return bad_entry(c, -EINVAL,
				 type == ARCHIVE_ENTRY_ACL_TYPE_ACCESS ?
					 "invalid access ACL" :
					 "invalid default ACL");
	return len;
}

static int add_xattr(struct tar *c, struct erofs_inode *inode,
		     const char *name, const void *value, size_t len)
{
	char what[PATH_MAX + 64];
	int err;

	snprintf(what, sizeof(what), "%s: entry \"%s\"", c->src, c->name);
	err = erofs_xattr_add(c->xt, inode, name, value, len, what);
	if (err == -EOPNOTSUPP || err == -EINVAL) {
		erofs_warn(c->log, "%s: xattr %s has no EROFS namespace, skipped",
			   what, name);
		err = 0;
	}
	return err;
}

struct raw_xattr {
	const char *name;
	const void *value;
	size_t len;
	size_t seq;
};

static int raw_xattr_cmp(const void *a, const void *b)
{
	const struct raw_xattr *x = a, *y = b;
	int r = strcmp(x->name, y->name);

	if (r)
		return r;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * A raw system.posix_acl_* value (SCHILY.xattr.system.posix_acl_access):
 * checked and stored as the kernel keeps it, like a parsed ACL.
 */
static int raw_acl(struct tar *c, const char *name, const uint8_t *v,
		   size_t len, uint8_t *out, size_t outsz)
{
	struct erofs_acl_entry *ents;
	size_t n = len >= 4 ? (len - 4) / 8 : 0;
	int ret;

	if (len < 4 || (len - 4) % 8 || n > ACL_MAX_ENTRIES ||
	    erofs_get_le32(v) != EROFS_ACL_XATTR_VERSION) {
		erofs_fail(c->log, -EINVAL,
			   "%s: entry \"%s\": xattr %s is not a POSIX ACL (%zu bytes)",
			   c->src, c->name, name, len);
		return -EINVAL;
	}
	ents = calloc(n ? n : 1, sizeof(*ents));
	if (!ents)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		ents[i].tag = erofs_get_le16(v + 4 + 8 * i);
		ents[i].perm = erofs_get_le16(v + 6 + 8 * i);
		ents[i].id = erofs_get_le32(v + 8 + 8 * i);
	}
	ret = erofs_acl_encode(ents, n, out, outsz);
	free(ents);
	if (ret < 0) {
		erofs_fail(c->log, -EINVAL,
			   "%s: entry \"%s\": xattr %s holds an invalid POSIX ACL",
			   c->src, c->name, name);
		return -EINVAL;
	}
	return ret;
}

/*
 * The entry's xattrs (pax SCHILY.xattr.*, LIBARCHIVE.xattr.*): a name
 * given twice counts once, with its last value.
 */
static int add_raw_xattrs(struct tar *c, struct erofs_inode *inode,
			  struct archive_entry *e, bool have_access,
			  bool have_default)
{
	size_t n = 0, cap = archive_entry_xattr_reset(e);
	struct raw_xattr *x;
	const char *name;
	const void *value;
	size_t len;
	uint8_t *acl = NULL;
	int err = 0;

	if (!cap)
		return 0;
	x = calloc(cap, sizeof(*x));
	if (!x)
		return -ENOMEM;
	while (n < cap &&
	       archive_entry_xattr_next(e, &name, &value, &len) == ARCHIVE_OK) {
		if (!name || !*name)
			continue;
		x[n] = (struct raw_xattr){ name, value ? value : "", len, n };
		n++;
	}
	qsort(x, n, sizeof(*x), raw_xattr_cmp);
	for (size_t i = 0; i < n && !err; i++) {
		bool is_access, is_default;

		/*
		 * libarchive lists an entry's xattrs newest first: the first
		 * of a name (the archive's last) wins
		 */
		if (i && !strcmp(x[i].name, x[i - 1].name))
			continue;
		is_access = !strcmp(x[i].name, "system.posix_acl_access");
		is_default = !strcmp(x[i].name, "system.posix_acl_default");
		/* the parsed ACL (e.g. SCHILY.acl.*) wins over a raw copy */
		if ((is_access && have_access) || (is_default && have_default))
			continue;
		if (c->opts->ovlfs_strip &&
		    !strncmp(x[i].name, "trusted.overlay.", 16))
			continue;
		if (is_access || is_default) {
			static const size_t acl_max = 4 + 8 * ACL_MAX_ENTRIES;
			int alen;

			if (!acl && !(acl = malloc(acl_max))) {
				err = -ENOMEM;
				break;
			}
			alen = raw_acl(c, x[i].name, x[i].value, x[i].len, acl,
				       acl_max);
			if (alen < 0) {
				err = alen;
				break;
			}
			err = add_xattr(c, inode, x[i].name, acl, alen);
			continue;
		}
		err = add_xattr(c, inode, x[i].name, x[i].value, x[i].len);
	}
	free(acl);
	free(x);
	return err;
}

/* xattrs and POSIX ACLs of @e; replaces whatever @inode carried */
static int set_xattrs(struct tar *c, struct erofs_inode *inode,
		      struct archive_entry *e)
{
	static const size_t acl_max = 4 + 8 * ACL_MAX_ENTRIES;
	uint8_t *acl;
	int access_len, default_len, err = 0;

	erofs_xattr_drop_inode(inode);
	if (c->opts->no_xattrs)
		return 0;
	if (archive_entry_acl_types(e) & ARCHIVE_ENTRY_ACL_TYPE_NFS4)
		erofs_warn(c->log,
			   "%s: entry \"%s\": NFSv4 ACL has no EROFS form, skipped",
			   c->src, c->name);
	acl = malloc(2 * acl_max);
	if (!acl)
		return -ENOMEM;
	access_len = encode_acl(c, e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS,
				&inode->mode, acl, acl_max);
	default_len = access_len < 0 ? 0 :
		      encode_acl(c, e, ARCHIVE_ENTRY_ACL_TYPE_DEFAULT,
				 &inode->mode, acl + acl_max, acl_max);
	if (access_len < 0 || default_len < 0) {
		err = access_len < 0 ? access_len : default_len;
		goto out;
	}
	if (default_len && !S_ISDIR(inode->mode)) {
		erofs_warn(c->log,
			   "%s: entry \"%s\": default ACL on a non-directory, skipped",
			   c->src, c->name);
		default_len = 0;
	}
	if (access_len)
		err = add_xattr(c, inode, "system.posix_acl_access", acl,
				access_len);
	if (!err && default_len)
		err = add_xattr(c, inode, "system.posix_acl_default",
				acl + acl_max, default_len);
	if (!err)
		err = add_raw_xattrs(c, inode, e, access_len > 0,
				     default_len > 0);
out:
	free(acl);
	return err;
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
			size_t m = len - done - run < SPOOL_ALIGN ?
					   len - done - run : SPOOL_ALIGN;

			if (all_zero(p + done + run, m) != zero)
				break;
			run += m;
		}
		if (!zero) {
			int err = erofs_pwrite_all(c->spool_fd, p + done, run,
						   at);

			if (err)
				return erofs_err(c->log, err,
						 "%s: entry \"%s\": cannot write the spool file",
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
	if (c->opts->tar_mode == EROFS_TAR_INDEX && sk->external) {
		int64_t off = archive_filter_bytes(c->a, 0);

		if (archive_entry_sparse_count(e) > 0)
			return bad_entry(c, -EOPNOTSUPP,
					 "a sparse entry cannot stay in the archive (--tar=i)");
		if (off < 0 || off % 512)
			return bad_entry(c, -EINVAL,
					 "data not at a 512-byte boundary of the archive");
		err = sk->external(sk->arg, inode, off);
		if (err)
			return err;
		return archive_read_data_skip(c->a) == ARCHIVE_OK ?
			       0 : archive_failure(c, "cannot read data");
	}
	if (asprintf(&what, "%s: entry \"%s\"", c->src, c->name) < 0)
		return -ENOMEM;
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
			err = bad_entry(c, -EINVAL,
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

/* the index of @child's dentry in @dir */
static unsigned int dentry_of(struct erofs_inode *dir,
			      const struct erofs_inode *child,
			      const char *name)
{
	unsigned int i;

	for (i = 0; i < dir->nr_children; i++)
		if (dir->children[i].inode == child &&
		    !strcmp(dir->children[i].name, name))
			break;
	return i;
}

/* the entry @name of @dir in the tree, or NULL; *@idx its index */
static struct erofs_inode *tree_child(struct erofs_inode *dir,
				      const char *name, size_t len,
				      unsigned int *idx)
{
	for (unsigned int i = 0; i < dir->nr_children; i++) {
		struct erofs_dentry *d = &dir->children[i];

		if (d->namelen == len && !memcmp(d->name, name, len)) {
			if (idx)
				*idx = i;
			return d->inode;
		}
	}
	return NULL;
}

/* an inode leaving the tree, with everything below it */
static void unlink_subtree(struct erofs_inode *inode)
{
	inode->nlink--;
	if (!S_ISDIR(inode->mode))
		return;
	for (unsigned int i = 0; i < inode->nr_children; i++)
		unlink_subtree(inode->children[i].inode);
	inode->nr_children = 0;
}

/* removes entry @idx of @dir and its subtree from the tree */
static void remove_child(struct erofs_inode *dir, unsigned int idx)
{
	struct erofs_dentry *d = &dir->children[idx];

	unlink_subtree(d->inode);
	*d = dir->children[--dir->nr_children];
}

/*
 * Node @n (named @base in @parent) not seen in this archive yet: when an
 * earlier source put an entry there, the node takes it over, so this
 * archive's entry replaces or (a directory) updates it.  A lower
 * directory about to be replaced by a non-directory goes with its subtree
 * (a layer replaces what lies below it).
 */
static void resolve_lower(struct tar *c, struct pnode *n,
			  struct erofs_inode *parent, const char *base,
			  mode_t type)
{
	struct erofs_inode *old;
	unsigned int idx;

	if (!c->lower || n->inode || !parent)
		return;
	old = tree_child(parent, base, strlen(base), &idx);
	if (!old)
		return;
	if (S_ISDIR(old->mode) && type && !S_ISDIR(type)) {
		remove_child(parent, idx);
		return;
	}
	n->inode = old;
	n->parent = parent;
	n->lower = true;
}

/* puts @inode at node @n (a path below @parent named @base) */
static int place(struct tar *c, struct pnode *n, struct erofs_inode *parent,
		 const char *base, struct erofs_inode *inode)
{
	struct erofs_inode *old = n->inode;
	int err;

	if (old == inode && n->parent == parent)
		return 0;
	if (old && n->parent) {
		unsigned int i = dentry_of(n->parent, old, base);

		if (S_ISDIR(old->mode) && old->nr_children)
			return bad_entry(c, -EEXIST,
					 "would replace a non-empty directory");
		if (i == n->parent->nr_children)
			return bad_entry(c, -EFAULT, "lost its directory entry");
		if (!parent) {
			/* excluded now: drop the old entry */
			struct erofs_inode *dir = n->parent;

			dir->children[i] = dir->children[--dir->nr_children];
		} else {
			n->parent->children[i].inode = inode;
			inode->nlink++;
			if (S_ISDIR(inode->mode))
				inode->parent = parent;
		}
		old->nlink--;
		n->inode = inode;
		n->parent = parent;
		return 0;
	}
	n->inode = inode;
	n->parent = parent;
	if (!parent)
		return 0;
	err = erofs_dir_add(c->t, parent, base, inode);
	if (err == -EINVAL)
		return bad_entry(c, -EINVAL, "invalid file name");
	return err;
}

/*
 * The directory at path[0, len), created (0755, root:root, the current
 * entry's mtime) with its missing parents.
 */
static int parent_dir(struct tar *c, const char *path, size_t len,
		      struct archive_entry *e, struct erofs_inode **dirp)
{
	struct erofs_inode *dir = c->t->root;
	size_t pos = 0;

	while (pos < len) {
		const char *slash = memchr(path + pos, '/', len - pos);
		size_t end = slash ? (size_t)(slash - path) : len;
		struct pnode *n = map_get(c, path, end);
		int err;

		if (!n)
			return -ENOMEM;
		if (!n->inode) {
			const char *b = strrchr(n->path, '/');

			resolve_lower(c, n, dir, b ? b + 1 : n->path, 0);
		}
		if (n->inode && n->parent && !S_ISDIR(n->inode->mode)) {
			char shown[SHOWN_MAX];

			/* never followed, even when it is a symlink */
			erofs_fail(c->log, -ENOTDIR,
				   "%s: entry \"%s\": \"%s\" is not a directory",
				   c->src, c->name,
				   erofs_escape(shown, sizeof(shown), n->path));
			return -ENOTDIR;
		}
		if (!n->inode || !n->parent) {
			struct erofs_inode *d = erofs_tree_new_inode(c->t);
			const char *base = strrchr(n->path, '/');

			if (!d)
				return -ENOMEM;
			d->mode = S_IFDIR | 0755;
			if (archive_entry_mtime_is_set(e)) {
				d->mtime = archive_entry_mtime(e);
				d->mtime_nsec = archive_entry_mtime_nsec(e);
			}
			err = place(c, n, dir, base ? base + 1 : n->path, d);
			if (err)
				return err;
		}
		dir = n->inode;
		pos = end + 1;
	}
	*dirp = dir;
	return 0;
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
static int do_hardlink(struct tar *c, struct archive_entry *e,
		       struct pnode *n, struct erofs_inode *parent,
		       const char *base)
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
			   err == -EINVAL ? "has a \"..\" component" :
			   err == -EXDEV ? "is absolute" :
					   "has a component over 255 bytes");
		goto out;
	}
	tn = map_find(c, target, strlen(target));
	if (!tn || !tn->inode) {
		err = erofs_fail(c->log, -ENOENT,
				 "%s: entry \"%s\": hard link to \"%s\", which is not in the archive before it",
				 c->src, c->name, raw);
		goto out;
	}
	if (S_ISDIR(tn->inode->mode)) {
		err = erofs_fail(c->log, -EPERM,
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

/* the node of the directory holding @path (root: NULL) */
static struct pnode *dir_node(struct tar *c, const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? map_find(c, path, slash - path) : NULL;
}

/*
 * ".wh.NAME" and ".wh..wh..opq" of a layer (@name: what follows ".wh."),
 * in @parent: overlayfs metadata (--aufs), nothing (--ovlfs-strip), or
 * applied to the entries earlier sources left in the tree.
 */
static int do_whiteout(struct tar *c, struct archive_entry *e, char *path,
		       struct erofs_inode *parent, const char *name)
{
	bool opq = !strcmp(name, ".wh..opq");
	enum erofs_whiteout_mode mode = c->opts->whiteouts;
	struct pnode *dn = dir_node(c, path), *n;
	struct erofs_inode *inode;
	char *slash = strrchr(path, '/');
	size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
	char *target;
	int err;

	if (archive_read_data_skip(c->a) != ARCHIVE_OK)
		return archive_failure(c, "cannot skip");
	if (!opq && (!*name || !strcmp(name, ".") || !strcmp(name, "..") ||
		     strlen(name) > EROFS_NAME_LEN))
		return bad_entry(c, -EINVAL, "whiteout of an invalid name");
	if (mode == EROFS_WHITEOUT_OVERLAY && c->opts->ovlfs_strip)
		return 0;
	if (mode == EROFS_WHITEOUT_OVERLAY && opq) {
		if (dn)
			dn->opaque = true;
		else
			c->root_opaque = true;
		return 0;
	}
	if (mode == EROFS_WHITEOUT_APPLY && opq) {
		/* every entry of an earlier source in this directory goes */
		for (unsigned int i = 0; i < parent->nr_children;) {
			struct erofs_dentry *d = &parent->children[i];
			char *p;
			struct pnode *cn;

			if (asprintf(&p, "%.*s%s", (int)dlen, path, d->name) < 0)
				return -ENOMEM;
			cn = map_find(c, p, strlen(p));
			free(p);
			if (cn && cn->parent == parent && !cn->lower) {
				i++;
				continue;
			}
			if (cn) {
				cn->inode = NULL;
				cn->parent = NULL;
				cn->lower = false;
			}
			remove_child(parent, i);
		}
		return 0;
	}
	if (asprintf(&target, "%.*s%s", (int)dlen, path, name) < 0)
		return -ENOMEM;
	n = map_get(c, target, strlen(target));
	free(target);
	if (!n)
		return -ENOMEM;
	if (mode == EROFS_WHITEOUT_APPLY) {
		unsigned int idx;

		/* only what earlier sources left: this layer's own stays */
		if (n->inode && n->parent && !n->lower)
			return 0;
		if (n->inode && n->parent == parent &&
		    tree_child(parent, name, strlen(name), &idx) == n->inode)
			remove_child(parent, idx);
		else if (!n->inode &&
			 tree_child(parent, name, strlen(name), &idx))
			remove_child(parent, idx);
		n->inode = NULL;
		n->parent = NULL;
		n->lower = false;
		return 0;
	}
	/* --aufs: a character device 0:0 named NAME */
	resolve_lower(c, n, parent, name, S_IFCHR);
	inode = erofs_tree_new_inode(c->t);
	if (!inode)
		return -ENOMEM;
	set_meta(inode, e, S_IFCHR);
	inode->rdev_major = inode->rdev_minor = 0;
	err = place(c, n, parent, name, inode);
	if (err)
		return err;
	if (dn)
		dn->whiteouts = true;
	else
		c->root_whiteouts = true;
	return 0;
}

/*
 * --aufs, at the end of the archive (a directory entry after its marker
 * would have dropped them): trusted.overlay.opaque="y" on opaque
 * directories; an empty trusted.overlay.origin on directories holding
 * whiteouts, so overlayfs filters them even from a single lower layer
 * (no direct iteration for such directories, Linux commit b79e05aaa166).
 */
static int overlay_marks(struct tar *c)
{
	int err = 0;

	for (uint64_t i = 0; i <= c->map_cap && !err; i++) {
		struct pnode *n = i < c->map_cap ? &c->map[i] : NULL;
		bool opaque = n ? n->opaque : c->root_opaque;
		bool wh = n ? n->whiteouts : c->root_whiteouts;
		struct erofs_inode *dir = n ? n->inode : c->t->root;
		char what[SHOWN_MAX + 64];

		if ((!opaque && !wh) || !dir || (n && !n->parent) ||
		    !S_ISDIR(dir->mode))
			continue;
		snprintf(what, sizeof(what), "%s: directory \"%s\"", c->src,
			 n ? erofs_escape(c->shown, sizeof(c->shown), n->path) :
			     "/");
		if (opaque)
			err = erofs_xattr_add(c->xt, dir, "trusted.overlay.opaque",
					      "y", 1, what);
		if (wh && !err)
			err = erofs_xattr_add(c->xt, dir, "trusted.overlay.origin",
					      "", 0, what);
	}
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
			   "%s: entry \"%s\": %llu bytes do not fit a flat file of %u-byte blocks (use --chunksize)",
			   c->src, c->name, (unsigned long long)size, 1u << bits);
		return -EFBIG;
	}
	if (!cs)
		return 0;
	n = size / cs + !!(size % cs);
	if (n > EROFS_TAR_MAX_CHUNK_INDEXES - c->chunk_indexes) {
		erofs_fail(c->log, -EFBIG,
			   "%s: entry \"%s\": %llu bytes take the image over %llu chunk indexes (the limit; use a larger --chunksize than %llu)",
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
		erofs_dbg(c->log, "%s: entry \"%s\": excluded", c->src, c->name);
		/* directories go; other inodes stay reachable for links */
		if (S_ISDIR(type))
			return archive_read_data_skip(c->a) == ARCHIVE_OK ?
				       0 : archive_failure(c, "cannot skip");
	} else {
		err = parent_dir(c, path, slash ? (size_t)(slash - path) : 0,
				 e, &parent);
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

	if (S_ISDIR(type) && n->inode && n->parent &&
	    S_ISDIR(n->inode->mode)) {
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

static int read_all(struct tar *c)
{
	struct archive_entry *e;
	char *path = NULL;
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
				return erofs_fail(c->log, -EINVAL,
						  "%s: not %sa readable archive: %s",
						  c->src,
						  c->opts->could_be_dir ?
							  "a directory or " : "",
						  msg ? msg : "unknown format");
			if (!nr)
				err = erofs_fail(c->log, -EINVAL, "%s: %s",
						 c->src, msg);
			else
				err = erofs_fail(c->log, -EINVAL,
						 "%s: damaged archive after entry \"%s\" (%llu entries): %s",
						 c->src, c->shown,
						 (unsigned long long)nr,
						 msg ? msg : "truncated or corrupt");
			free(path);
			return err;
		}
		nr++;
		raw = archive_entry_pathname(e);
		if (!raw)
			raw = archive_entry_pathname_utf8(e);
		if (!raw || !*raw) {
			free(path);
			return erofs_fail(c->log, -EINVAL,
					  "%s: entry %llu has no name", c->src,
					  (unsigned long long)nr);
		}
		c->name = erofs_escape(c->shown, sizeof(c->shown), raw);
		if (r == ARCHIVE_WARN) {
			const char *msg = archive_error_string(c->a);

			erofs_warn(c->log, "%s: entry \"%s\": %s", c->src,
				   c->name, msg ? msg : "libarchive warning");
		}
		free(path);
		path = strdup(raw);
		if (!path)
			return -ENOMEM;
		err = erofs_tar_path_normalize(path);
		if (err == -EINVAL) {
			err = bad_entry(c, err, "path has a \"..\" component");
			break;
		}
		if (err == -EXDEV) {
			err = bad_entry(c, -EINVAL, "path is absolute");
			break;
		}
		if (err) {
			err = bad_entry(c, err,
					"path has a component over 255 bytes");
			break;
		}
		if (!*path) {
			/* the root ("./" or "/") */
			if (entry_type(e) != S_IFDIR ||
			    archive_entry_hardlink(e)) {
				err = bad_entry(c, -EINVAL,
						"the root is not a directory");
				break;
			}
			set_meta(c->t->root, e, S_IFDIR);
			err = check_meta(c, e);
			if (!err)
				err = set_xattrs(c, c->t->root, e);
		} else {
			if (nr == 1 && c->implicit_root &&
			    archive_entry_mtime_is_set(e)) {
				c->t->root->mtime = archive_entry_mtime(e);
				c->t->root->mtime_nsec =
					archive_entry_mtime_nsec(e);
			}
			err = do_entry(c, e, path);
		}
		if (err)
			break;
	}
	free(path);
	if (!err && !nr && archive_format(c->a) == ARCHIVE_FORMAT_EMPTY)
		err = erofs_fail(c->log, -EINVAL,
				 "%s: not %sa readable archive: empty file",
				 c->src,
				 c->opts->could_be_dir ? "a directory or " : "");
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

int erofs_import_tar(struct erofs_tree *t, struct erofs_xattr_table *xt,
		     const char *path, int spool_fd,
		     const struct erofs_import_tar_opts *opts)
{
	struct tar c = {
		.t = t, .xt = xt, .opts = opts, .log = t->log, .src = path,
		.name = "", .spool_fd = spool_fd,
	};
	locale_t utf8, old = (locale_t)0;
	struct stat st;
	int fd = opts->fd, err;

	if (opts->tar_mode == EROFS_TAR_HEADERBALL)
		return erofs_fail(t->log, -EOPNOTSUPP,
				  "%s: --tar=headerball is not supported", path);
	if (opts->tar_mode == EROFS_TAR_INDEX &&
	    (!opts->sink || !opts->sink->external))
		return erofs_fail(t->log, -EOPNOTSUPP,
				  "%s: --tar=i needs the streaming builder", path);
	c.spool_sink = (struct erofs_tar_sink){
		.begin = spool_begin, .write = spool_write,
		.hole = spool_hole, .end = spool_finish, .arg = &c,
	};
	c.sink = opts->sink ? opts->sink : &c.spool_sink;
	if (!opts->sink) {
		if (fstat(spool_fd, &st) < 0)
			return erofs_err(t->log, -errno, "%s: spool file",
					 path);
		c.spool_end = st.st_size;  /* append after earlier imports */
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
		t->root->mode = S_IFDIR | 0755;
		c.implicit_root = true;
	} else {
		c.lower = t->root->nr_children > 0;
	}
	c.a = archive_read_new();
	if (!c.a || map_grow(&c)) {
		err = -ENOMEM;
		goto out;
	}
	support_formats(c.a);
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
	if (archive_read_open(c.a, &c, NULL, tar_read, NULL) != ARCHIVE_OK) {
		const char *msg = archive_error_string(c.a);

		if (erofs_dstream_error(c.ds))
			err = erofs_fail(t->log, -EINVAL, "%s: %s", path,
					 erofs_dstream_error(c.ds));
		else
			err = erofs_fail(t->log, -EINVAL,
				 "%s: not %sa readable archive: %s", path,
				 opts->could_be_dir ? "a directory or " : "",
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
		err = erofs_err(t->log, -errno, "%s: cannot size the spool file",
				path);
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

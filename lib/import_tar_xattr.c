// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Archive importer, xattrs: an entry's POSIX ACLs (parsed by libarchive,
 * or raw system.posix_acl_* values) in the kernel's xattr encoding, and
 * its pax xattrs (SCHILY.xattr.*, LIBARCHIVE.xattr.*), into the xattr
 * table.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "liberofs_import_tar.h"
#include "erofs/util.h"

#define ACL_MAX_ENTRIES 1024u

static int acl_entry_cmp(const void *a, const void *b)
{
	const struct erofs_acl_entry *x = a, *y = b;

	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int erofs_acl_encode(struct erofs_acl_entry *e, unsigned int n, uint8_t *out,
		     size_t outsz)
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
			a->tag = tag == ARCHIVE_ENTRY_ACL_USER
				     ? EROFS_ACL_USER
				     : EROFS_ACL_GROUP;
			if (id < 0) {
				erofs_fail(c->log, -EINVAL,
					   "%s: entry \"%s\": ACL entry for %s "
					   "\"%s\" has no numeric id",
					   c->src, c->name,
					   tag == ARCHIVE_ENTRY_ACL_USER
					       ? "user"
					       : "group",
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
				 type == ARCHIVE_ENTRY_ACL_TYPE_ACCESS
				     ? "invalid access ACL"
				     : "invalid default ACL");
	return len;
}

static int add_xattr(struct tar *c, struct erofs_inode *inode, const char *name,
		     const void *value, size_t len)
{
	char what[PATH_MAX + 64];
	int err;

	snprintf(what, sizeof(what), "%s: entry \"%s\"", c->src, c->name);
	err = erofs_xattr_add(c->xt, inode, name, value, len, what);
	if (err == -EOPNOTSUPP || err == -EINVAL) {
		erofs_warn(c->log,
			   "%s: xattr %s has no EROFS namespace, skipped", what,
			   name);
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
		erofs_fail(
		    c->log, -EINVAL,
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
		erofs_fail(
		    c->log, -EINVAL,
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
		x[n] = (struct raw_xattr){name, value ? value : "", len, n};
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
int set_xattrs(struct tar *c, struct erofs_inode *inode,
	       struct archive_entry *e)
{
	static const size_t acl_max = 4 + 8 * ACL_MAX_ENTRIES;
	uint8_t *acl;
	int access_len, default_len, err = 0;

	erofs_xattr_drop_inode(inode);
	if (c->opts->no_xattrs)
		return 0;
	if (archive_entry_acl_types(e) & ARCHIVE_ENTRY_ACL_TYPE_NFS4)
		erofs_warn(
		    c->log,
		    "%s: entry \"%s\": NFSv4 ACL has no EROFS form, skipped",
		    c->src, c->name);
	acl = malloc(2 * acl_max);
	if (!acl)
		return -ENOMEM;
	access_len = encode_acl(c, e, ARCHIVE_ENTRY_ACL_TYPE_ACCESS,
				&inode->mode, acl, acl_max);
	default_len = access_len < 0
			  ? 0
			  : encode_acl(c, e, ARCHIVE_ENTRY_ACL_TYPE_DEFAULT,
				       &inode->mode, acl + acl_max, acl_max);
	if (access_len < 0 || default_len < 0) {
		err = access_len < 0 ? access_len : default_len;
		goto out;
	}
	if (default_len && !S_ISDIR(inode->mode)) {
		erofs_warn(
		    c->log,
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

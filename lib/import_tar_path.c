// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Archive importer, paths: member path normalisation, the map from every
 * path seen to its inode, parent directories, putting an entry in its
 * place over what this archive or an earlier source left there, and
 * layer whiteouts (--aufs, --ovlfs-strip, applied).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <xxhash.h>

#include "liberofs_import_tar.h"
#include "erofs/ondisk.h"

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
struct pnode *map_find(struct tar *c, const char *path, size_t len)
{
	struct pnode *n = map_slot(c, path, len);

	return n->path ? n : NULL;
}

int map_grow(struct tar *c)
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
struct pnode *map_get(struct tar *c, const char *path, size_t len)
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

void map_free(struct tar *c)
{
	for (uint64_t i = 0; i < c->map_cap; i++)
		free(c->map[i].path);
	free(c->map);
	c->map = NULL;
}

/* the index of @child's dentry in @dir */
static unsigned int dentry_of(struct erofs_inode *dir,
			      const struct erofs_inode *child, const char *name)
{
	unsigned int i;

	for (i = 0; i < dir->nr_children; i++)
		if (dir->children[i].inode == child &&
		    !strcmp(dir->children[i].name, name))
			break;
	return i;
}

/* the entry @name of @dir in the tree (tree.c), or NULL; *@idx its index */
static struct erofs_inode *child_at(struct erofs_inode *dir, const char *name,
				    unsigned int *idx)
{
	struct erofs_dentry *d = erofs_dir_find(dir, name, strlen(name));

	if (!d)
		return NULL;
	*idx = d - dir->children;
	return d->inode;
}

/*
 * Node @n (named @base in @parent) not seen in this archive yet: when an
 * earlier source put an entry there, the node takes it over, so this
 * archive's entry replaces or (a directory) updates it.  A lower
 * directory about to be replaced by a non-directory goes with its subtree
 * (a layer replaces what lies below it).
 */
void resolve_lower(struct tar *c, struct pnode *n, struct erofs_inode *parent,
		   const char *base, mode_t type)
{
	struct erofs_inode *old;
	unsigned int idx = 0;

	if (!c->lower || n->inode || !parent)
		return;
	old = child_at(parent, base, &idx);
	if (!old)
		return;
	if (S_ISDIR(old->mode) && type && !S_ISDIR(type)) {
		erofs_dir_remove_at(c->t, parent, idx);
		return;
	}
	n->inode = old;
	n->parent = parent;
	n->lower = true;
}

/* puts @inode at node @n (a path below @parent named @base) */
int place(struct tar *c, struct pnode *n, struct erofs_inode *parent,
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
			return bad_entry(c, -EFAULT,
					 "lost its directory entry");
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
 * The directory at path[0, len), created with its missing parents as
 * erofs-utils creates them: 0777, root:root, the build's fixed time (or
 * the current entry's mtime: see have_dir_time).
 */
int parent_dir(struct tar *c, const char *path, size_t len,
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
			erofs_fail(
			    c->log, -ENOTDIR,
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
			d->mode = S_IFDIR | 0777;
			if (c->opts->have_dir_time) {
				d->mtime = c->opts->dir_time;
			} else if (archive_entry_mtime_is_set(e)) {
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
int do_whiteout(struct tar *c, struct archive_entry *e, char *path,
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

	err = skip_body(c);
	if (err)
		return err;
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

			if (asprintf(&p, "%.*s%s", (int)dlen, path, d->name) <
			    0)
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
			erofs_dir_remove_at(c->t, parent, i);
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
		unsigned int idx = 0;

		/* only what earlier sources left: this layer's own stays */
		if (n->inode && n->parent && !n->lower)
			return 0;
		if (n->inode && n->parent == parent &&
		    child_at(parent, name, &idx) == n->inode)
			erofs_dir_remove_at(c->t, parent, idx);
		else if (!n->inode && child_at(parent, name, &idx))
			erofs_dir_remove_at(c->t, parent, idx);
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
	/* no permission bits, whatever the marker had (as erofs-utils) */
	inode->mode = S_IFCHR;
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
int overlay_marks(struct tar *c)
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
			 n ? erofs_escape(c->shown, sizeof(c->shown), n->path)
			   : "/");
		if (opaque)
			err = erofs_xattr_add(
			    c->xt, dir, "trusted.overlay.opaque", "y", 1, what);
		if (wh && !err)
			err = erofs_xattr_add(
			    c->xt, dir, "trusted.overlay.origin", "", 0, what);
	}
	return err;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Inode tree: directories, hard-link identity, and the layout order.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "erofs/ondisk.h"
#include "liberofs_tree.h"
#include "liberofs_xattr.h"

#define INODE_SLAB	1024

void erofs_tree_init(struct erofs_tree *t, const struct erofs_log *log)
{
	memset(t, 0, sizeof(*t));
	t->log = log;
}

static void erofs_inode_free(struct erofs_inode *inode)
{
	for (unsigned int i = 0; i < inode->nr_children; i++)
		free(inode->children[i].name);
	free(inode->children);
	free(inode->xattrs);
	free(inode->src_path);
	free(inode->link_target);
	free(inode->inline_data);
	free(inode->chunks);
}

void erofs_tree_free(struct erofs_tree *t)
{
	for (uint64_t i = 0; i < t->nr_all; i++)
		erofs_inode_free(t->all[i]);
	for (uint64_t i = 0; i < t->nr_slabs; i++)
		free(t->slabs[i]);
	free(t->slabs);
	free(t->all);
	free(t->inodes);
	free(t->links);
	memset(t, 0, sizeof(*t));
}

struct erofs_inode *erofs_tree_new_inode(struct erofs_tree *t)
{
	struct erofs_inode *inode;

	if (t->nr_all == t->all_cap) {
		uint64_t cap = t->all_cap ? t->all_cap * 2 : 1024;
		void *p = realloc(t->all, cap * sizeof(*t->all));

		if (!p)
			return NULL;
		t->all = p;
		t->all_cap = cap;
	}
	/* slabs: no allocator overhead per inode */
	if (!t->nr_slabs || t->slab_used == INODE_SLAB) {
		void *p = realloc(t->slabs,
				  (t->nr_slabs + 1) * sizeof(*t->slabs));

		if (!p)
			return NULL;
		t->slabs = p;
		t->slabs[t->nr_slabs] = calloc(INODE_SLAB, sizeof(*inode));
		if (!t->slabs[t->nr_slabs])
			return NULL;
		t->nr_slabs++;
		t->slab_used = 0;
	}
	inode = &t->slabs[t->nr_slabs - 1][t->slab_used++];
	t->all[t->nr_all++] = inode;
	return inode;
}

int erofs_name_cmp(const char *a, unsigned int alen, const char *b,
		   unsigned int blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r)
		return r;
	return alen < blen ? -1 : alen > blen;
}

int erofs_dir_add(struct erofs_tree *t, struct erofs_inode *dir,
		  const char *name, struct erofs_inode *child)
{
	size_t len = strlen(name);

	if (!len || len > EROFS_NAME_LEN || memchr(name, '/', len))
		return erofs_fail(t->log, -EINVAL, "invalid file name \"%s\"",
				 name);
	if (dir->nr_children == dir->children_cap) {
		unsigned int cap = dir->children_cap ? dir->children_cap * 2
						     : 8;
		void *p = realloc(dir->children, cap * sizeof(*dir->children));

		if (!p)
			return -ENOMEM;
		dir->children = p;
		dir->children_cap = cap;
	}
	dir->children[dir->nr_children].name = strdup(name);
	if (!dir->children[dir->nr_children].name)
		return -ENOMEM;
	dir->children[dir->nr_children].namelen = len;
	dir->children[dir->nr_children].inode = child;
	dir->nr_children++;
	/* a count of links; erofs_tree_finalize() recomputes it */
	child->nlink++;
	if (S_ISDIR(child->mode))
		child->parent = dir;
	return 0;
}

static uint64_t link_hash(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull;

	return h ^ ((uint64_t)dev * 0xC2B2AE3D27D4EB4Full) ^ (h >> 29);
}

struct erofs_inode *erofs_tree_find_link(struct erofs_tree *t, dev_t dev,
					 ino_t ino)
{
	if (!t->links_cap)
		return NULL;
	for (uint64_t i = link_hash(dev, ino) & (t->links_cap - 1);;
	     i = (i + 1) & (t->links_cap - 1)) {
		struct erofs_inode *e = t->links[i];

		if (!e)
			return NULL;
		if (e->src_dev == dev && e->src_ino == ino)
			return e;
	}
}

int erofs_tree_remember(struct erofs_tree *t, struct erofs_inode *inode)
{
	if ((t->links_used + 1) * 2 > t->links_cap) {
		uint64_t cap = t->links_cap ? t->links_cap * 2 : 1024;
		struct erofs_inode **tab = calloc(cap, sizeof(*tab));

		if (!tab)
			return -ENOMEM;
		for (uint64_t i = 0; i < t->links_cap; i++) {
			struct erofs_inode *e = t->links[i];
			uint64_t j;

			if (!e)
				continue;
			for (j = link_hash(e->src_dev, e->src_ino) & (cap - 1);
			     tab[j]; j = (j + 1) & (cap - 1))
				;
			tab[j] = e;
		}
		free(t->links);
		t->links = tab;
		t->links_cap = cap;
	}
	for (uint64_t i = link_hash(inode->src_dev, inode->src_ino) &
			  (t->links_cap - 1);;
	     i = (i + 1) & (t->links_cap - 1)) {
		if (!t->links[i]) {
			t->links[i] = inode;
			t->links_used++;
			return 0;
		}
	}
}

static int dentry_cmp(const void *a, const void *b)
{
	const struct erofs_dentry *x = a, *y = b;

	return erofs_name_cmp(x->name, x->namelen, y->name, y->namelen);
}

static int push_inode(struct erofs_tree *t, struct erofs_inode *inode)
{
	if (t->nr_inodes == t->inodes_cap) {
		uint64_t cap = t->inodes_cap ? t->inodes_cap * 2 : 1024;
		void *p = realloc(t->inodes, cap * sizeof(*t->inodes));

		if (!p)
			return -ENOMEM;
		t->inodes = p;
		t->inodes_cap = cap;
	}
	t->inodes[t->nr_inodes++] = inode;
	inode->order = t->nr_inodes;
	return 0;
}

int erofs_tree_finalize(struct erofs_tree *t)
{
	int err;

	if (!t->root || !S_ISDIR(t->root->mode))
		return erofs_fail(t->log, -EINVAL, "the root is not a directory");
	t->root->parent = t->root;
	t->nr_inodes = 0;
	/* breadth first: the queue is t->inodes itself */
	err = push_inode(t, t->root);
	if (err)
		return err;
	t->root->nlink = 2;
	for (uint64_t q = 0; q < t->nr_inodes; q++) {
		struct erofs_inode *dir = t->inodes[q];

		if (!S_ISDIR(dir->mode))
			continue;
		if (dir->nr_children > 1)
			qsort(dir->children, dir->nr_children,
			      sizeof(*dir->children), dentry_cmp);
		dir->nr_subdirs = 0;
		for (unsigned int i = 0; i < dir->nr_children; i++) {
			struct erofs_dentry *d = &dir->children[i];
			struct erofs_inode *c = d->inode;

			if (i && !dentry_cmp(d - 1, d))
				return erofs_fail(t->log, -EEXIST,
						 "duplicate entry \"%s\"",
						 d->name);
			if (S_ISDIR(c->mode)) {
				dir->nr_subdirs++;
				c->nlink = 2;
			} else if (!c->order) {
				c->nlink = 1;
			} else {
				c->nlink++;
				continue;
			}
			err = push_inode(t, c);
			if (err)
				return err;
		}
		dir->nlink = 2 + dir->nr_subdirs;
	}
	for (uint64_t i = 0; i < t->nr_inodes; i++)
		erofs_xattr_sort(t->inodes[i]);
	return 0;
}

struct erofs_dentry *erofs_dir_find(struct erofs_inode *dir, const char *name,
				    unsigned int namelen)
{
	for (unsigned int i = 0; i < dir->nr_children; i++) {
		struct erofs_dentry *d = &dir->children[i];

		if (d->namelen == namelen && !memcmp(d->name, name, namelen))
			return d;
	}
	return NULL;
}

/* the next component of *@p: its start and length; false at the end */
static bool next_comp(const char **p, const char **comp, unsigned int *len)
{
	const char *s = *p, *e;

	while (*s == '/')
		s++;
	if (!*s)
		return false;
	e = strchrnul(s, '/');
	*comp = s;
	*len = e - s;
	*p = e;
	return true;
}

struct erofs_inode *erofs_tree_lookup(struct erofs_tree *t, const char *path)
{
	struct erofs_inode *cur = t->root;
	const char *p = path, *comp;
	unsigned int len;

	if (!cur) {
		errno = ENOENT;
		return NULL;
	}
	while (next_comp(&p, &comp, &len)) {
		struct erofs_dentry *d;

		if (!S_ISDIR(cur->mode)) {
			errno = ENOTDIR;
			return NULL;
		}
		d = erofs_dir_find(cur, comp, len);
		if (!d) {
			errno = ENOENT;
			return NULL;
		}
		cur = d->inode;
	}
	return cur;
}

int erofs_tree_mkdir_p(struct erofs_tree *t, const char *path, int64_t mtime,
		       struct erofs_inode **dirp)
{
	const char *p = path, *comp;
	struct erofs_inode *cur;
	unsigned int len;
	int err;

	if (!t->root) {
		t->root = erofs_tree_new_inode(t);
		if (!t->root)
			return -ENOMEM;
		t->root->mode = S_IFDIR | 0755;
		t->root->mtime = mtime;
	}
	cur = t->root;
	while (next_comp(&p, &comp, &len)) {
		struct erofs_dentry *d = erofs_dir_find(cur, comp, len);
		char name[EROFS_NAME_LEN + 1];
		struct erofs_inode *n;

		if (d) {
			if (!S_ISDIR(d->inode->mode))
				return erofs_fail(t->log, -ENOTDIR,
						  "%.*s: not a directory",
						  (int)(comp + len - path),
						  path);
			cur = d->inode;
			continue;
		}
		if (len > EROFS_NAME_LEN)
			return erofs_fail(t->log, -ENAMETOOLONG,
					  "%.*s: name over 255 bytes",
					  (int)(comp + len - path), path);
		n = erofs_tree_new_inode(t);
		if (!n)
			return -ENOMEM;
		n->mode = S_IFDIR | 0755;
		n->mtime = mtime;
		memcpy(name, comp, len);
		name[len] = '\0';
		err = erofs_dir_add(t, cur, name, n);
		if (err)
			return err;
		cur = n;
	}
	*dirp = cur;
	return 0;
}

/* one link of @inode went away */
static void unlink_inode(struct erofs_tree *t, struct erofs_inode *inode)
{
	if (inode->nlink)
		inode->nlink--;
	if (inode->nlink)
		return;
	if (S_ISDIR(inode->mode)) {
		while (inode->nr_children)
			erofs_dir_remove_at(t, inode, inode->nr_children - 1);
	}
	erofs_xattr_drop_inode(inode);
}

void erofs_dir_remove_at(struct erofs_tree *t, struct erofs_inode *dir,
			 unsigned int i)
{
	struct erofs_inode *child = dir->children[i].inode;

	free(dir->children[i].name);
	dir->children[i] = dir->children[--dir->nr_children];
	unlink_inode(t, child);
}

int erofs_tree_remove(struct erofs_tree *t, const char *path)
{
	const char *slash;
	struct erofs_inode *dir;
	struct erofs_dentry *d;
	char *parent;
	size_t plen;

	while (*path == '/')
		path++;
	plen = strlen(path);
	while (plen && path[plen - 1] == '/')
		plen--;
	if (!plen)
		return erofs_fail(t->log, -EINVAL, "cannot remove the root");
	slash = memrchr(path, '/', plen);
	parent = strndup(path, slash ? (size_t)(slash - path) : 0);
	if (!parent)
		return -ENOMEM;
	dir = erofs_tree_lookup(t, parent);
	free(parent);
	if (!dir || !S_ISDIR(dir->mode))
		return -ENOENT;
	d = erofs_dir_find(dir, slash ? slash + 1 : path,
			   plen - (slash ? slash + 1 - path : 0));
	if (!d)
		return -ENOENT;
	erofs_dir_remove_at(t, dir, d - dir->children);
	return 0;
}

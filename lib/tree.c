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
	free(inode);
}

void erofs_tree_free(struct erofs_tree *t)
{
	for (uint64_t i = 0; i < t->nr_all; i++)
		erofs_inode_free(t->all[i]);
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
	inode = calloc(1, sizeof(*inode));
	if (inode)
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

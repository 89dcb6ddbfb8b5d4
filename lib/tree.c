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

#define NAME_BLOCK (64u << 10)

void erofs_tree_init(struct erofs_tree *t, const struct erofs_log *log)
{
	memset(t, 0, sizeof(*t));
	t->log = log;
}

int erofs_inode_set_chunks(struct erofs_inode *inode, uint64_t nr)
{
	erofs_inode_free_chunks(inode);
	if (nr > UINT32_MAX)
		return -EFBIG;
	if (nr > 1) {
		inode->chunks = calloc(nr, sizeof(*inode->chunks));
		if (!inode->chunks)
			return -ENOMEM;
	}
	inode->nr_chunks = nr;
	return 0;
}

void erofs_inode_free_chunks(struct erofs_inode *inode)
{
	if (inode->nr_chunks > 1)
		free(inode->chunks);
	memset(&inode->chunk, 0, sizeof(inode->chunk));
	inode->chunks = NULL;
	inode->nr_chunks = 0;
}

static void erofs_inode_free(struct erofs_inode *inode)
{
	free(inode->children);
	free(inode->xattrs);
	free(inode->src_path);
	if (S_ISLNK(inode->mode))
		free(inode->link_target);
	free(inode->inline_data);
	erofs_inode_free_chunks(inode);
}

void erofs_tree_free(struct erofs_tree *t)
{
	for (uint64_t i = 0; i < t->nr_all; i++)
		erofs_inode_free(erofs_tree_inode(t, i));
	for (uint64_t i = 0; i < t->nr_slabs; i++)
		free(t->slabs[i]);
	free(t->slabs);
	for (uint64_t i = 0; i < t->nr_name_blocks; i++)
		free(t->name_blocks[i]);
	free(t->name_blocks);
	free(t->inodes);
	free(t->links);
	memset(t, 0, sizeof(*t));
}

struct erofs_inode *erofs_tree_new_inode(struct erofs_tree *t)
{
	struct erofs_inode *inode;

	/* slabs: no allocator overhead per inode */
	if (!t->nr_slabs || t->slab_used == EROFS_INODE_SLAB) {
		void *p =
		    realloc(t->slabs, (t->nr_slabs + 1) * sizeof(*t->slabs));

		if (!p)
			return NULL;
		t->slabs = p;
		t->slabs[t->nr_slabs] =
		    calloc(EROFS_INODE_SLAB, sizeof(*inode));
		if (!t->slabs[t->nr_slabs])
			return NULL;
		t->nr_slabs++;
		t->slab_used = 0;
	}
	inode = &t->slabs[t->nr_slabs - 1][t->slab_used++];
	t->nr_all++;
	return inode;
}

/* a copy of @name (@len bytes and a NUL) in the name arena */
static char *name_copy(struct erofs_tree *t, const char *name, size_t len)
{
	char *p;

	if (!t->nr_name_blocks || t->name_used + len + 1 > NAME_BLOCK) {
		size_t n = (t->nr_name_blocks + 1) * sizeof(*t->name_blocks);
		void *v = realloc(t->name_blocks, n);

		if (!v)
			return NULL;
		t->name_blocks = v;
		t->name_blocks[t->nr_name_blocks] = malloc(NAME_BLOCK);
		if (!t->name_blocks[t->nr_name_blocks])
			return NULL;
		t->nr_name_blocks++;
		t->name_used = 0;
	}
	p = t->name_blocks[t->nr_name_blocks - 1] + t->name_used;
	memcpy(p, name, len);
	p[len] = '\0';
	t->name_used += len + 1;
	return p;
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
	/*
	 * Room for max(8, the power of two >= nr_children) entries, so no
	 * capacity is stored: grow at 8, 16, 32...  (removals only lower
	 * nr_children, leaving more room than that)
	 */
	if (!dir->children || (dir->nr_children >= 8 &&
			       !(dir->nr_children & (dir->nr_children - 1)))) {
		unsigned int cap =
		    dir->nr_children < 8 ? 8 : dir->nr_children * 2;
		void *p = realloc(dir->children, cap * sizeof(*dir->children));

		if (!p)
			return -ENOMEM;
		dir->children = p;
	}
	dir->children[dir->nr_children].name = name_copy(t, name, len);
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
		const struct erofs_tree_link *e = &t->links[i];

		if (!e->inode)
			return NULL;
		if (e->dev == dev && e->ino == ino)
			return e->inode;
	}
}

int erofs_tree_remember(struct erofs_tree *t, dev_t dev, ino_t ino,
			struct erofs_inode *inode)
{
	uint64_t i;

	if ((t->links_used + 1) * 2 > t->links_cap) {
		uint64_t cap = t->links_cap ? t->links_cap * 2 : 1024;
		struct erofs_tree_link *tab = calloc(cap, sizeof(*tab));

		if (!tab)
			return -ENOMEM;
		for (i = 0; i < t->links_cap; i++) {
			const struct erofs_tree_link *e = &t->links[i];
			uint64_t j;

			if (!e->inode)
				continue;
			for (j = link_hash(e->dev, e->ino) & (cap - 1);
			     tab[j].inode; j = (j + 1) & (cap - 1))
				;
			tab[j] = *e;
		}
		free(t->links);
		t->links = tab;
		t->links_cap = cap;
	}
	for (i = link_hash(dev, ino) & (t->links_cap - 1); t->links[i].inode;
	     i = (i + 1) & (t->links_cap - 1))
		;
	t->links[i].dev = dev;
	t->links[i].ino = ino;
	t->links[i].inode = inode;
	t->links_used++;
	return 0;
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
		return erofs_fail(t->log, -EINVAL,
				  "the root is not a directory");
	t->root->parent = t->root;
	t->nr_inodes = 0;
	/* breadth first: the queue is t->inodes itself */
	err = push_inode(t, t->root);
	if (err)
		return err;
	t->root->nlink = 2;
	for (uint64_t q = 0; q < t->nr_inodes; q++) {
		struct erofs_inode *dir = t->inodes[q];
		unsigned int nr_subdirs = 0;

		if (!S_ISDIR(dir->mode))
			continue;
		if (dir->nr_children > 1)
			qsort(dir->children, dir->nr_children,
			      sizeof(*dir->children), dentry_cmp);
		for (unsigned int i = 0; i < dir->nr_children; i++) {
			struct erofs_dentry *d = &dir->children[i];
			struct erofs_inode *c = d->inode;

			if (i && !dentry_cmp(d - 1, d))
				return erofs_fail(t->log, -EEXIST,
						  "duplicate entry \"%s\"",
						  d->name);
			if (S_ISDIR(c->mode)) {
				nr_subdirs++;
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
		dir->nlink = 2 + nr_subdirs;
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
				return erofs_fail(
				    t->log, -ENOTDIR, "%.*s: not a directory",
				    (int)(comp + len - path), path);
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

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Directory blocks: dirent arrays followed by names, never spanning blocks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "liberofs_dir.h"
#include "erofs/ondisk.h"
#include "liberofs_tree.h"

struct dent {
	const char *name;
	unsigned int len;
	const struct erofs_inode *inode;
};

/* children are sorted already; merge "." and ".." in at their places */
static struct dent *sorted_entries(const struct erofs_inode *dir,
				   unsigned int *nr)
{
	struct dent *v = malloc((dir->nr_children + 2) * sizeof(*v));
	const struct dent dots[2] = {{".", 1, dir}, {"..", 2, dir->parent}};
	unsigned int i = 0, d = 0, n = 0;

	if (!v)
		return NULL;
	while (i < dir->nr_children || d < 2) {
		const struct erofs_dentry *c =
		    i < dir->nr_children ? &dir->children[i] : NULL;

		if (d < 2 && (!c || erofs_name_cmp(dots[d].name, dots[d].len,
						   c->name, c->namelen) < 0)) {
			v[n++] = dots[d++];
		} else {
			v[n].name = c->name;
			v[n].len = c->namelen;
			v[n].inode = c->inode;
			n++;
			i++;
		}
	}
	*nr = n;
	return v;
}

/*
 * Walks the packing: calls back with each block's [first, last) entries.
 * Returns the directory size.
 */
static uint64_t pack(const struct dent *v, unsigned int n, unsigned int blksz,
		     uint8_t *out)
{
	uint64_t size = 0;
	unsigned int first = 0;

	while (first < n) {
		unsigned int used = 0, last = first;

		while (last < n &&
		       used + EROFS_DIRENT_SIZE + v[last].len <= blksz) {
			used += EROFS_DIRENT_SIZE + v[last].len;
			last++;
		}
		if (out) {
			uint8_t *blk = out + size;
			unsigned int nameoff =
			    (last - first) * EROFS_DIRENT_SIZE;

			for (unsigned int k = first; k < last; k++) {
				erofs_dirent_encode(
				    blk + (k - first) * EROFS_DIRENT_SIZE,
				    v[k].inode->nid, nameoff,
				    erofs_mode_to_ftype(v[k].inode->mode));
				memcpy(blk + nameoff, v[k].name, v[k].len);
				nameoff += v[k].len;
			}
		}
		first = last;
		size += first < n ? blksz : used;
	}
	return size;
}

uint64_t erofs_dir_size(const struct erofs_inode *dir, unsigned int blksz)
{
	unsigned int n;
	struct dent *v = sorted_entries(dir, &n);
	uint64_t size;

	if (!v)
		return 0;
	size = pack(v, n, blksz, NULL);
	free(v);
	return size;
}

int erofs_dir_encode(const struct erofs_inode *dir, unsigned int blksz,
		     uint8_t *out)
{
	unsigned int n;
	struct dent *v = sorted_entries(dir, &n);
	uint64_t size;

	if (!v)
		return -ENOMEM;
	/* everything after the last name of a block stays zero */
	size = pack(v, n, blksz, NULL);
	memset(out, 0, (size + blksz - 1) / blksz * blksz);
	pack(v, n, blksz, out);
	free(v);
	return 0;
}

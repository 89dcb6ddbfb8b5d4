/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Importers fill an inode tree from a source.  The directory importer reads
 * metadata and xattrs only; file data is read later by the data pass.
 */
#ifndef EROFS_IMPORT_H
#define EROFS_IMPORT_H

#include <regex.h>
#include <stdbool.h>

#include "erofs/log.h"
#include "erofs/tree.h"
#include "erofs/xattr.h"

/* --exclude-path / --exclude-regex, matched on paths relative to the root */
struct erofs_exclude {
	char **paths;
	unsigned int nr_paths;
	regex_t *regexes;
	unsigned int nr_regexes;
};

int erofs_exclude_add_path(struct erofs_exclude *ex, const char *path);
/* compiles @re (POSIX extended); -EINVAL with a message when it is bad */
int erofs_exclude_add_regex(struct erofs_exclude *ex, const char *re,
			    const struct erofs_log *log);
/* @rel has no leading '/' ("a/b/c") */
bool erofs_exclude_match(const struct erofs_exclude *ex, const char *rel);
void erofs_exclude_free(struct erofs_exclude *ex);

struct erofs_import_dir_opts {
	bool no_xattrs;
	const struct erofs_exclude *exclude;
};

/*
 * Walks @srcdir (which must be a directory) in name order and builds
 * @t->root.  Every error names the entry: a vanished entry, an unreadable
 * directory, a bad name.  0 or -errno.
 */
int erofs_import_dir(struct erofs_tree *t, struct erofs_xattr_table *xt,
		     const char *srcdir,
		     const struct erofs_import_dir_opts *opts);

/*
 * Opens @rel (relative to @rootfd) for reading without following symlinks
 * in its last component; works for paths longer than PATH_MAX.
 */
int erofs_open_rel(int rootfd, const char *rel);

#endif

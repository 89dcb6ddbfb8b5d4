// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Directory importer: a sorted, fd-relative walk of a source tree, in
 * path order (erofs-utils' data order): a directory's entries by name, its
 * subdirectories' contents only after all of them, in turn.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "liberofs_builder.h"
#include "liberofs_import.h"
#include "erofs/ondisk.h"

int erofs_exclude_add_path(struct erofs_exclude *ex, const char *path)
{
	char **p = realloc(ex->paths, (ex->nr_paths + 1) * sizeof(*p));
	size_t len;

	if (!p)
		return -ENOMEM;
	ex->paths = p;
	while (*path == '/' || (path[0] == '.' && path[1] == '/'))
		path += *path == '/' ? 1 : 2;
	p[ex->nr_paths] = strdup(path);
	if (!p[ex->nr_paths])
		return -ENOMEM;
	/* "a/b/" matches "a/b" */
	len = strlen(p[ex->nr_paths]);
	while (len && p[ex->nr_paths][len - 1] == '/')
		p[ex->nr_paths][--len] = '\0';
	ex->nr_paths++;
	return 0;
}

int erofs_exclude_add_regex(struct erofs_exclude *ex, const char *re,
			    const struct erofs_log *log)
{
	regex_t *r = realloc(ex->regexes, (ex->nr_regexes + 1) * sizeof(*r));
	int rc;

	if (!r)
		return -ENOMEM;
	ex->regexes = r;
	rc = regcomp(&r[ex->nr_regexes], re, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char msg[256];

		regerror(rc, &r[ex->nr_regexes], msg, sizeof(msg));
		return erofs_fail(log, -EINVAL,
				  "bad --exclude-regex \"%s\": %s", re, msg);
	}
	ex->nr_regexes++;
	return 0;
}

bool erofs_exclude_match(const struct erofs_exclude *ex, const char *rel)
{
	if (!ex)
		return false;
	for (unsigned int i = 0; i < ex->nr_paths; i++)
		if (!strcmp(ex->paths[i], rel))
			return true;
	for (unsigned int i = 0; i < ex->nr_regexes; i++)
		if (!regexec(&ex->regexes[i], rel, 0, NULL, 0))
			return true;
	return false;
}

void erofs_exclude_free(struct erofs_exclude *ex)
{
	for (unsigned int i = 0; i < ex->nr_paths; i++)
		free(ex->paths[i]);
	for (unsigned int i = 0; i < ex->nr_regexes; i++)
		regfree(&ex->regexes[i]);
	free(ex->paths);
	free(ex->regexes);
	memset(ex, 0, sizeof(*ex));
}

int erofs_open_rel(int rootfd, const char *rel)
{
	char *copy, *comp, *next;
	int fd, dfd;

	if (strlen(rel) < PATH_MAX)
		return openat(rootfd, rel,
			      O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	/* too long for one call: descend a component at a time */
	copy = strdup(rel);
	if (!copy) {
		errno = ENOMEM;
		return -1;
	}
	dfd = dup(rootfd);
	fd = -1;
	for (comp = copy; dfd >= 0 && comp; comp = next) {
		next = strchr(comp, '/');
		if (next)
			*next++ = '\0';
		fd = openat(dfd, comp,
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
				(next ? O_DIRECTORY : 0));
		close(dfd);
		dfd = next ? fd : -1;
	}
	free(copy);
	return fd;
}

struct walk {
	struct erofs_builder *b;
	bool merge; /* the tree had entries before this import */
	char *full; /* "SRCDIR/rel" for messages about data */
	size_t full_cap;
	struct erofs_tree *t;
	struct erofs_xattr_table *xt;
	const struct erofs_import_dir_opts *opts;
	const struct erofs_log *log;
	const char *srcdir;
	char *rel; /* current relative path buffer */
	size_t rel_cap;
	char *buf; /* xattr name list / values */
	size_t buf_cap;
};

static int grow(char **p, size_t *cap, size_t need)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 4096;

	while (n < need)
		n *= 2;
	char *q = realloc(*p, n);

	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

/* a displayable path of the entry being visited */
static const char *shown(const struct walk *w)
{
	return w->rel[0] ? w->rel : ".";
}

/*
 * Where xattrs are read from: an fd opened for reading (regular files and
 * directories), or an O_PATH fd through its /proc link, which reaches the
 * inode itself for symlinks and special files and has no PATH_MAX limit.
 */
struct xsrc {
	int fd;
	bool direct;
	char proc[64];
};

static ssize_t x_list(const struct xsrc *x, char *buf, size_t size)
{
	return x->direct ? flistxattr(x->fd, buf, size)
			 : listxattr(x->proc, buf, size);
}

static ssize_t x_get(const struct xsrc *x, const char *name, void *buf,
		     size_t size)
{
	return x->direct ? fgetxattr(x->fd, name, buf, size)
			 : getxattr(x->proc, name, buf, size);
}

static int read_xattrs(struct walk *w, int fd, bool direct,
		       struct erofs_inode *inode)
{
	struct xsrc x = {.fd = fd, .direct = direct};
	char *names = NULL;
	ssize_t len;
	size_t cap = 0;
	int err = 0;

	if (!direct)
		snprintf(x.proc, sizeof(x.proc), "/proc/self/fd/%d", fd);
	for (;;) {
		len = x_list(&x, NULL, 0);
		if (len < 0) {
			if (errno == ENOTSUP)
				return 0;
			return erofs_err(w->log, -errno,
					 "%s: cannot list xattrs", shown(w));
		}
		if (!len)
			return 0;
		if (grow(&names, &cap, len + 1))
			return -ENOMEM;
		len = x_list(&x, names, cap);
		if (len >= 0)
			break;
		if (errno != ERANGE) {
			free(names);
			return erofs_err(w->log, -errno,
					 "%s: cannot list xattrs", shown(w));
		}
	}
	for (char *n = names; n < names + len; n += strlen(n) + 1) {
		ssize_t vlen;

		for (;;) {
			vlen = x_get(&x, n, w->buf, w->buf_cap);
			if (vlen >= 0)
				break;
			if (errno == ERANGE) {
				vlen = x_get(&x, n, NULL, 0);
				if (vlen >= 0 &&
				    !grow(&w->buf, &w->buf_cap, vlen + 1))
					continue;
			}
			err =
			    erofs_err(w->log, -errno,
				      "%s: cannot read xattr %s", shown(w), n);
			goto out;
		}
		err = erofs_xattr_add(w->xt, inode, n, w->buf, vlen, shown(w));
		if (err == -EOPNOTSUPP || err == -EINVAL) {
			erofs_warn(
			    w->log,
			    "%s: xattr %s has no EROFS namespace, skipped",
			    shown(w), n);
			err = 0;
		} else if (err) {
			goto out;
		}
	}
out:
	free(names);
	return err;
}

/* directory entries are kept as "<d_type byte><name>" */
static int name_cmp_p(const void *a, const void *b)
{
	const char *x = *(char *const *)a + 1, *y = *(char *const *)b + 1;

	return erofs_name_cmp(x, strlen(x), y, strlen(y));
}

static void fill_meta(struct erofs_inode *inode, const struct stat *st)
{
	inode->mode = st->st_mode;
	inode->uid = st->st_uid;
	inode->gid = st->st_gid;
	inode->mtime = st->st_mtim.tv_sec;
	inode->mtime_nsec = st->st_mtim.tv_nsec;
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		inode->rdev_major = major(st->st_rdev);
		inode->rdev_minor = minor(st->st_rdev);
	}
	if (S_ISREG(st->st_mode) || S_ISLNK(st->st_mode))
		inode->size = st->st_size;
}

static int walk_dir(struct walk *w, int dfd, struct erofs_inode *dir);

/* a subdirectory whose walk waits until its parent's entries are done */
struct subdir {
	size_t name; /* index in the parent's names */
	struct erofs_inode *inode;
	dev_t dev;
	ino_t ino;
};

/*
 * Opens @name in @dfd again with @flags (when the first open could not
 * read it) and checks it is the very inode the walk saw.
 */
static int reopen_same(struct walk *w, int dfd, const char *name, int flags,
		       const struct stat *st)
{
	struct stat st2;
	int fd = openat(dfd, name, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);

	/* O_NOATIME only for the owner (or CAP_FOWNER) */
	if (fd < 0 && errno == EPERM && (flags & O_NOATIME))
		fd = openat(dfd, name,
			    (flags & ~O_NOATIME) | O_NOFOLLOW | O_CLOEXEC |
				O_NOCTTY);
	if (fd < 0)
		return erofs_err(w->log, -errno, "%s: cannot open", shown(w));
	if (fstat(fd, &st2) < 0 || st2.st_dev != st->st_dev ||
	    st2.st_ino != st->st_ino) {
		close(fd);
		return erofs_fail(w->log, -EAGAIN,
				  "%s: replaced during the walk", shown(w));
	}
	return fd;
}

/* the file's name as the user knows it: SRCDIR/rel */
static const char *full_name(struct walk *w)
{
	size_t sl = strlen(w->srcdir), rl = strlen(w->rel);

	if (grow(&w->full, &w->full_cap, sl + rl + 2))
		return shown(w);
	memcpy(w->full, w->srcdir, sl);
	w->full[sl] = '/';
	memcpy(w->full + sl + 1, w->rel, rl + 1);
	return w->full;
}

static int read_data(struct walk *w, int dfd, const char *name, int fd,
		     bool direct, struct erofs_inode *inode,
		     const struct stat *st)
{
	int rfd = fd, err;

	if (!direct) {
		rfd = reopen_same(w, dfd, name, O_RDONLY | O_NONBLOCK, st);
		if (rfd < 0)
			return rfd;
	}
	err = erofs_builder_data_fd(w->b, inode, rfd, 0, full_name(w), st);
	if (!direct)
		close(rfd);
	return err;
}

/*
 * Adds entry @name of @dir; a directory's walk is left to the caller,
 * which gets it in *@sub (sub->inode NULL for other entries)
 */
static int visit(struct walk *w, int dfd, struct erofs_inode *dir,
		 const char *name, unsigned char d_type, struct subdir *sub)
{
	struct erofs_inode *inode = NULL;
	struct erofs_dentry *old = NULL;
	struct stat st;
	bool direct = false, merged = false;
	int fd = -1, err = 0;

	/* files and directories are opened for reading: cheaper xattrs */
	if (d_type == DT_REG || d_type == DT_DIR) {
		int fl =
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;

		fd = openat(dfd, name, fl | O_NOATIME);
		if (fd < 0 && errno == EPERM)
			fd = openat(dfd, name, fl);
		direct = fd >= 0;
	}
	if (fd < 0)
		fd = openat(dfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return erofs_fail(w->log, -ENOENT,
					  "%s: vanished during the walk",
					  shown(w));
		return erofs_err(w->log, -errno, "%s: cannot open", shown(w));
	}
	if (fstat(fd, &st) < 0) {
		err = erofs_err(w->log, -errno, "%s: cannot stat", shown(w));
		goto out;
	}
	/* the image being written, when DEST lies in SOURCE */
	if (S_ISREG(st.st_mode) &&
	    erofs_builder_is_output(w->b, st.st_dev, st.st_ino)) {
		erofs_dbg(w->log, "%s: an output of this build, skipped",
			  shown(w));
		goto out;
	}
	if (w->merge) {
		old = erofs_dir_find(dir, name, strlen(name));
		if (old && S_ISDIR(old->inode->mode) && S_ISDIR(st.st_mode)) {
			/* a directory over a directory: merge */
			inode = old->inode;
			erofs_xattr_drop_inode(inode);
			merged = true;
		} else if (old) {
			erofs_dir_remove_at(w->t, dir, old - dir->children);
		}
	}
	if (!merged && !S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		inode = erofs_tree_find_link(w->t, st.st_dev, st.st_ino);
		if (inode) {
			err = erofs_dir_add(w->t, dir, name, inode);
			goto out;
		}
	}
	if (!merged) {
		inode = erofs_tree_new_inode(w->t);
		if (!inode) {
			err = -ENOMEM;
			goto out;
		}
	}
	fill_meta(inode, &st);
	if (!merged)
		err = erofs_dir_add(w->t, dir, name, inode);
	if (!err && !merged && !S_ISDIR(st.st_mode) && st.st_nlink > 1)
		err = erofs_tree_remember(w->t, st.st_dev, st.st_ino, inode);
	if (!err && !w->opts->no_xattrs)
		err = read_xattrs(
		    w, fd,
		    direct && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)),
		    inode);
	if (err)
		goto out;
	switch (st.st_mode & S_IFMT) {
	case S_IFREG:
		err = read_data(w, dfd, name, fd, direct, inode, &st);
		break;
	case S_IFLNK: {
		ssize_t n;

		inode->link_target = malloc(st.st_size + 1);
		if (!inode->link_target) {
			err = -ENOMEM;
			break;
		}
		n = readlinkat(fd, "", inode->link_target, st.st_size + 1);
		if (n < 0)
			err = erofs_err(w->log, -errno,
					"%s: cannot read symlink", shown(w));
		else if (n != st.st_size)
			err = erofs_fail(w->log, -EAGAIN,
					 "%s: symlink changed during the walk",
					 shown(w));
		break;
	}
	case S_IFDIR:
		sub->inode = inode;
		sub->dev = st.st_dev;
		sub->ino = st.st_ino;
		break;
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	default:
		err = erofs_fail(w->log, -EINVAL, "%s: unknown file type %o",
				 shown(w), st.st_mode & S_IFMT);
	}
	erofs_builder_tick(w->b);
out:
	close(fd);
	return err;
}

static int walk_dir(struct walk *w, int dfd, struct erofs_inode *dir)
{
	size_t base = strlen(w->rel);
	char **names = NULL;
	size_t n = 0, cap = 0, nsub = 0, subcap = 0;
	struct subdir *subs = NULL, sub;
	struct dirent *de;
	DIR *d;
	int dup_fd, err = 0;

	dup_fd = dup(dfd);
	d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		return erofs_err(w->log, -errno, "%s: cannot read directory",
				 shown(w));
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			if (errno)
				err = erofs_err(w->log, -errno,
						"%s: cannot read directory",
						shown(w));
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			void *p = realloc(names, (cap = cap ? cap * 2 : 64) *
						     sizeof(*names));
			if (!p) {
				err = -ENOMEM;
				break;
			}
			names = p;
		}
		if (asprintf(&names[n], "%c%s", de->d_type ? de->d_type : '?',
			     de->d_name) < 0)
			names[n] = NULL;
		if (!names[n]) {
			err = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (!err && n > 1)
		qsort(names, n, sizeof(*names), name_cmp_p);
	/* every entry (files' data) first, then the subdirectories' */
	for (size_t i = 0; !err && i < n; i++) {
		const char *name = names[i] + 1;
		size_t nl = strlen(name);

		err = grow(&w->rel, &w->rel_cap, base + nl + 2);
		if (err)
			break;
		if (base)
			w->rel[base] = '/';
		memcpy(w->rel + base + !!base, name, nl + 1);
		if (erofs_exclude_match(w->opts->exclude, w->rel)) {
			erofs_dbg(w->log, "%s: excluded", w->rel);
			w->rel[base] = '\0';
			continue;
		}
		sub.inode = NULL;
		sub.name = i;
		err =
		    visit(w, dfd, dir, name, (unsigned char)names[i][0], &sub);
		w->rel[base] = '\0';
		if (err || !sub.inode)
			continue;
		/* only the subdirectories are remembered: little memory */
		if (nsub == subcap) {
			void *p =
			    realloc(subs, (subcap = subcap ? subcap * 2 : 16) *
					      sizeof(*subs));

			if (!p) {
				err = -ENOMEM;
				break;
			}
			subs = p;
		}
		subs[nsub++] = sub;
	}
	for (size_t k = 0; !err && k < nsub; k++) {
		const char *name = names[subs[k].name] + 1;
		struct stat st = {.st_dev = subs[k].dev, .st_ino = subs[k].ino};
		int sfd;

		if (base)
			w->rel[base] = '/';
		strcpy(w->rel + base + !!base, name);
		sfd = reopen_same(w, dfd, name,
				  O_RDONLY | O_DIRECTORY | O_NOATIME, &st);
		if (sfd < 0) {
			err = sfd;
		} else {
			err = walk_dir(w, sfd, subs[k].inode);
			close(sfd);
		}
		w->rel[base] = '\0';
	}
	free(subs);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return err;
}

int erofs_import_dir(struct erofs_builder *b, const char *srcdir,
		     const struct erofs_import_dir_opts *opts)
{
	struct erofs_tree *t = erofs_builder_tree(b);
	struct walk w = {
	    .b = b,
	    .t = t,
	    .xt = erofs_builder_xattrs(b),
	    .opts = opts,
	    .log = t->log,
	    .srcdir = srcdir,
	    .merge = t->root != NULL,
	};
	struct erofs_inode *root;
	struct stat st;
	int fd, err;

	fd = open(srcdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOTDIR)
			return erofs_fail(t->log, -ENOTDIR,
					  "%s: source is not a directory",
					  srcdir);
		return erofs_err(t->log, -errno, "%s: cannot open source",
				 srcdir);
	}
	if (fstat(fd, &st) < 0) {
		err = erofs_err(t->log, -errno, "%s: cannot stat", srcdir);
		close(fd);
		return err;
	}
	root = t->root ? t->root : erofs_tree_new_inode(t);
	/* a zero-sized getxattr() buffer would only report sizes */
	if (!root || grow(&w.rel, &w.rel_cap, 256) ||
	    grow(&w.buf, &w.buf_cap, 65536)) {
		close(fd);
		free(w.rel);
		free(w.buf);
		return -ENOMEM;
	}
	w.rel[0] = '\0';
	if (t->root)
		erofs_xattr_drop_inode(root);
	fill_meta(root, &st);
	t->root = root;
	err = 0;
	if (!opts->no_xattrs) {
		err = read_xattrs(&w, fd, true, root);
	}
	if (!err)
		err = walk_dir(&w, fd, root);
	close(fd);
	free(w.rel);
	free(w.buf);
	free(w.full);
	return err;
}

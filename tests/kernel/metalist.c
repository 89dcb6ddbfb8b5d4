// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * metalist: print every entry below a directory with all the metadata an
 * EROFS image must keep, one line per entry sorted by path, so that a
 * listing made on the host from the source tree and one made in the guest
 * from the mounted image can be compared with diff.  Static test fixture
 * for the kernel suite: busybox has no getfattr and its stat cannot show
 * every field.
 *
 *   metalist DIR
 *
 * Line: PATH TYPE MODE UID GID SIZE MTIME RDEV NLINK LINKGROUP TARGET XATTRS
 *   PATH       relative to DIR ("." for DIR itself), escaped (see esc())
 *   TYPE       f d l c b p s
 *   MODE       permission bits with setuid/setgid/sticky, octal
 *   SIZE       "-" for directories (their size is filesystem specific)
 *   MTIME      seconds.nanoseconds
 *   RDEV       MAJOR:MINOR for devices, else "-"
 *   LINKGROUP  for a non-directory with more than one link: the first path
 *              (in sort order) of the same inode, else "-"
 *   TARGET     escaped symlink target, else "-"
 *   XATTRS     NAME=HEXVALUE pairs sorted by name, joined by ",", or "-"
 *
 * Reads no file data: only lstat, readlink and the xattr calls, so a walk
 * over an on-demand mount must not touch the blob devices.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

struct ent {
	char *path; /* relative, unescaped */
	char *line; /* everything after PATH except LINKGROUP */
	char *tail; /* TARGET XATTRS */
	struct stat st;
	const char *group;
};

struct list {
	struct ent *v;
	size_t n, cap;
	size_t rootlen;
};

/* nftw has no user argument; the walk's state lives here for its duration */
static struct list *walk_list;

static void die(const char *what)
{
	fprintf(stderr, "metalist: %s: %s\n", what, strerror(errno));
	exit(2);
}

/* printable ASCII except space and backslash as is, the rest as \xHH */
static char *esc(const char *s, size_t len)
{
	char *out = malloc(len * 4 + 2), *p = out;

	if (!out)
		die("malloc");
	if (!len)
		*p++ = '"', *p++ = '"';
	for (size_t i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c > 0x20 && c < 0x7f && c != '\\')
			*p++ = c;
		else
			p += sprintf(p, "\\x%02x", c);
	}
	*p = 0;
	return out;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *xattrs_of(const char *path)
{
	ssize_t n = llistxattr(path, NULL, 0), total = 0;
	char *names, **v, *out, *p;
	size_t cnt = 0, cap;

	if (n < 0)
		die(path);
	if (!n)
		return strdup("-");
	names = malloc(n);
	if (!names)
		die("malloc");
	n = llistxattr(path, names, n);
	if (n < 0)
		die(path);
	/* overlayfs counts the names it hides (trusted.overlay.*) in the
	 * size it first gives, and then lists none */
	if (!n) {
		free(names);
		return strdup("-");
	}
	for (ssize_t i = 0; i < n; i += strlen(names + i) + 1)
		cnt++;
	v = calloc(cnt, sizeof(*v));
	if (!v)
		die("malloc");
	cnt = 0;
	for (ssize_t i = 0; i < n; i += strlen(names + i) + 1) {
		const char *name = names + i;
		ssize_t vl = lgetxattr(path, name, NULL, 0);
		char *val, *e;

		if (vl < 0)
			die(path);
		val = malloc(vl + 1);
		if (!val)
			die("malloc");
		vl = lgetxattr(path, name, val, vl);
		if (vl < 0)
			die(path);
		e = esc(name, strlen(name));
		v[cnt] = malloc(strlen(e) + 2 * vl + 3);
		if (!v[cnt])
			die("malloc");
		p = v[cnt] + sprintf(v[cnt], "%s=", e);
		for (ssize_t k = 0; k < vl; k++)
			p += sprintf(p, "%02x", (unsigned char)val[k]);
		total += strlen(v[cnt]) + 1;
		free(e);
		free(val);
		cnt++;
	}
	qsort(v, cnt, sizeof(*v), cmp_str);
	cap = total + 1;
	out = malloc(cap);
	if (!out)
		die("malloc");
	p = out;
	for (size_t i = 0; i < cnt; i++) {
		p += sprintf(p, "%s%s", i ? "," : "", v[i]);
		free(v[i]);
	}
	free(v);
	free(names);
	return out;
}

static int visit(const char *fpath, const struct stat *st, int flag,
		 struct FTW *ftw)
{
	struct list *l = walk_list;
	const char *rel = fpath + l->rootlen;
	char type, size[32], rdev[32], *target, *xa;
	struct ent *e;

	(void)ftw;
	if (flag == FTW_NS || flag == FTW_DNR) {
		errno = EACCES;
		die(fpath);
	}
	while (*rel == '/')
		rel++;
	if (!*rel)
		rel = ".";
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 1024;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		if (!l->v)
			die("realloc");
	}
	e = &l->v[l->n++];
	memset(e, 0, sizeof(*e));
	e->st = *st;
	e->path = strdup(rel);
	switch (st->st_mode & S_IFMT) {
	case S_IFREG:
		type = 'f';
		break;
	case S_IFDIR:
		type = 'd';
		break;
	case S_IFLNK:
		type = 'l';
		break;
	case S_IFCHR:
		type = 'c';
		break;
	case S_IFBLK:
		type = 'b';
		break;
	case S_IFIFO:
		type = 'p';
		break;
	case S_IFSOCK:
		type = 's';
		break;
	default:
		type = '?';
		break;
	}
	if (type == 'd')
		strcpy(size, "-");
	else
		snprintf(size, sizeof(size), "%lld", (long long)st->st_size);
	if (type == 'c' || type == 'b')
		snprintf(rdev, sizeof(rdev), "%u:%u", major(st->st_rdev),
			 minor(st->st_rdev));
	else
		strcpy(rdev, "-");
	if (type == 'l') {
		char buf[8192];
		ssize_t n = readlink(fpath, buf, sizeof(buf));

		if (n < 0)
			die(fpath);
		target = esc(buf, n);
	} else {
		target = strdup("-");
	}
	xa = xattrs_of(fpath);
	if (asprintf(&e->line, "%c %04o %u %u %s %lld.%09ld %s %lu", type,
		     (unsigned int)(st->st_mode & 07777), st->st_uid,
		     st->st_gid, size, (long long)st->st_mtim.tv_sec,
		     st->st_mtim.tv_nsec, rdev,
		     (unsigned long)st->st_nlink) < 0 ||
	    asprintf(&e->tail, "%s %s", target, xa) < 0)
		die("asprintf");
	free(target);
	free(xa);
	return 0;
}

static int cmp_path(const void *a, const void *b)
{
	return strcmp(((const struct ent *)a)->path,
		      ((const struct ent *)b)->path);
}

/* by inode, then path: the first of each inode run is its group name */
static int cmp_ino(const void *a, const void *b)
{
	const struct ent *x = *(struct ent *const *)a;
	const struct ent *y = *(struct ent *const *)b;

	if (x->st.st_ino != y->st.st_ino)
		return x->st.st_ino < y->st.st_ino ? -1 : 1;
	return strcmp(x->path, y->path);
}

int main(int argc, char **argv)
{
	struct list l = {0};
	struct ent **byino;

	if (argc != 2) {
		fprintf(stderr, "usage: metalist DIR\n");
		return 2;
	}
	l.rootlen = strlen(argv[1]);
	walk_list = &l;
	if (nftw(argv[1], visit, 64, FTW_PHYS) < 0)
		die(argv[1]);
	qsort(l.v, l.n, sizeof(*l.v), cmp_path);
	byino = calloc(l.n ? l.n : 1, sizeof(*byino));
	if (!byino)
		die("calloc");
	for (size_t i = 0; i < l.n; i++)
		byino[i] = &l.v[i];
	qsort(byino, l.n, sizeof(*byino), cmp_ino);
	for (size_t i = 0; i < l.n; i++) {
		struct ent *e = byino[i];

		if (S_ISDIR(e->st.st_mode) || e->st.st_nlink < 2)
			e->group = NULL;
		else if (i && byino[i - 1]->st.st_ino == e->st.st_ino)
			e->group = byino[i - 1]->group;
		else
			e->group = e->path;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct ent *e = &l.v[i];
		char *p = esc(e->path, strlen(e->path));
		char *g =
		    e->group ? esc(e->group, strlen(e->group)) : strdup("-");

		printf("%s %s %s %s\n", p, e->line, g, e->tail);
		free(p);
		free(g);
	}
	return fflush(stdout) ? 2 : 0;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The builder's output registry.  Every file a build writes (bootstrap,
 * blob devices, manifest) is named here first: two outputs, or an output
 * and a source, must never be the same file (item 7 of the hardening
 * list), compared by name (canonical directory and base name) and, when
 * they exist already, by device and inode.  Each is then created unlinked
 * (O_TMPFILE) or under a temporary name recorded for the signal handler,
 * and all of them appear at their names together at commit; a build that
 * fails or is destroyed leaves none behind.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "liberofs_build.h"

/* the canonical directory holding @path (which need not exist yet) */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir, *real;

	if (!slash)
		return realpath(".", NULL);
	if (slash == path)
		return strdup("/");
	dir = strndup(path, slash - path);
	real = dir ? realpath(dir, NULL) : NULL;
	free(dir);
	return real;
}

char *erofs_build_manifest_name(const char *manifest, const char *out)
{
	const char *base = strrchr(out, '/') ? strrchr(out, '/') + 1 : out;
	char *mdir, *odir, *ret = NULL;
	size_t mlen;
	int n = 0;

	if (!manifest)
		return strdup(out);
	mdir = dir_of(manifest);
	odir = dir_of(out);
	if (mdir && odir) {
		mlen = strlen(mdir);
		if (!strcmp(odir, mdir))
			ret = strdup(base);
		else if (!strncmp(odir, mdir, mlen) && odir[mlen] == '/' &&
			 mlen > 1)
			n = asprintf(&ret, "%s/%s", odir + mlen + 1, base);
		else
			n = asprintf(&ret, "%s/%s",
				     strcmp(odir, "/") ? odir : "", base);
		if (n < 0)
			ret = NULL;
	}
	free(mdir);
	free(odir);
	return ret;
}

int erofs_build_out_add(struct erofs_builder *b, const char *path,
			const char *what, unsigned int *idx)
{
	const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	struct build_out *o;
	char *dir, *canon;
	struct stat st;

	if (b->nr_outs == MAX_OUTPUTS)
		return erofs_fail(b->log, -E2BIG, "too many outputs");
	if (!*base || !strcmp(base, ".") || !strcmp(base, ".."))
		return erofs_fail(b->log, -EISDIR, "%s %s: not a file name",
				  what, path);
	if (strlen(base) > NAME_MAX)
		return erofs_fail(b->log, -ENAMETOOLONG,
				  "%s %s: file name longer than %d bytes", what,
				  path, NAME_MAX);
	if (strlen(path) >= EROFS_TMPNAME_LEN - 16)
		return erofs_fail(b->log, -ENAMETOOLONG, "%s %s: path too long",
				  what, path);
	dir = dir_of(path);
	if (!dir)
		return erofs_err(b->log, -errno,
				 "%s %s: cannot find its directory", what,
				 path);
	if (asprintf(&canon, "%s/%s", strcmp(dir, "/") ? dir : "", base) < 0) {
		free(dir);
		return -ENOMEM;
	}
	free(dir);
	o = &b->outs[b->nr_outs];
	memset(o, 0, sizeof(*o));
	o->of.fd = -1;
	o->path = canon;
	if (!stat(path, &st)) {
		if (S_ISDIR(st.st_mode)) {
			free(canon);
			return erofs_fail(b->log, -EISDIR,
					  "%s %s is a directory", what, path);
		}
		o->exists = true;
		o->dev = st.st_dev;
		o->ino = st.st_ino;
	}
	for (unsigned int i = 0; i < b->nr_outs; i++) {
		const struct build_out *p = &b->outs[i];

		if (!strcmp(p->path, o->path) ||
		    (p->exists && o->exists && p->dev == o->dev &&
		     p->ino == o->ino)) {
			free(canon);
			return erofs_fail(b->log, -EINVAL,
					  "%s %s is the same file as output %s",
					  what, path, p->path);
		}
	}
	*idx = b->nr_outs++;
	return 0;
}

int erofs_build_out_open(struct erofs_builder *b, unsigned int idx,
			 const char *path)
{
	struct build_out *o = &b->outs[idx];
	struct stat st;
	int err;

	err = erofs_outfile_open_reg(&o->of, path, b->o.tmpnames, b->log);
	if (err)
		return err;
	o->open = true;
	/* its identity, so that it is never read as a source */
	if (!fstat(o->of.fd, &st)) {
		o->tdev = st.st_dev;
		o->tino = st.st_ino;
	}
	return 0;
}

int erofs_build_out_replace(struct erofs_builder *b, unsigned int idx,
			    struct erofs_outfile *old)
{
	struct build_out *o = &b->outs[idx];
	struct erofs_outfile nf;
	struct stat st;
	int err;

	if (!o->open)
		return -EINVAL;
	err = erofs_outfile_open_reg(&nf, o->of.path, b->o.tmpnames, b->log);
	if (err)
		return err;
	*old = o->of;
	o->of = nf;
	if (!fstat(nf.fd, &st)) {
		o->tdev = st.st_dev;
		o->tino = st.st_ino;
	}
	return 0;
}

int erofs_build_out_commit_all(struct erofs_builder *b)
{
	int err = 0;

	/* the bootstrap last: once it is there, everything it needs is */
	for (unsigned int n = 0; n < b->nr_outs && !err; n++) {
		unsigned int i = (b->boot_out + 1 + n) % b->nr_outs;
		struct build_out *o = &b->outs[i];

		if (!o->open)
			continue;
		o->open = false;
		err = erofs_outfile_commit(&o->of, b->log);
		o->committed = !err;
	}
	if (!err)
		return 0;
	/* take back what was committed already */
	for (unsigned int i = 0; i < b->nr_outs; i++) {
		if (b->outs[i].committed)
			unlink(b->outs[i].path);
		b->outs[i].committed = false;
	}
	return err;
}

void erofs_build_out_free(struct erofs_builder *b)
{
	for (unsigned int i = 0; i < b->nr_outs; i++) {
		struct build_out *o = &b->outs[i];

		if (o->open)
			erofs_outfile_abort(&o->of);
		o->open = false;
		free((char *)o->path);
	}
	b->nr_outs = 0;
}

bool erofs_builder_is_output(struct erofs_builder *b, dev_t dev, ino_t ino)
{
	for (unsigned int i = 0; i < b->nr_outs; i++) {
		const struct build_out *o = &b->outs[i];

		if (o->tdev == dev && o->tino == ino)
			return true;
	}
	return false;
}

int erofs_build_check_source(struct erofs_builder *b, int fd, const char *path)
{
	struct stat st;

	if ((fd >= 0 ? fstat(fd, &st) : stat(path, &st)) < 0)
		return erofs_err(b->log, -errno, "%s: cannot open source",
				 path);
	for (unsigned int i = 0; i < b->nr_outs; i++) {
		const struct build_out *o = &b->outs[i];

		if ((o->exists && o->dev == st.st_dev && o->ino == st.st_ino) ||
		    (o->tdev == st.st_dev && o->tino == st.st_ino))
			return erofs_fail(
			    b->log, -EINVAL,
			    "source %s is the same file as output %s", path,
			    o->path);
	}
	return 0;
}

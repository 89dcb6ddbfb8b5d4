// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * erofs-mount: the erofs-fetchd client (start or reuse, add, del,
 * prefetch through the control socket) and the chunk ranges of a
 * --prefetch-list.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "erofs/fetchd.h"
#include "erofs/manifest.h"
#include "erofs/mount.h"
#include "erofs/reader.h"
#include "liberofs_mount.h"

static char *find_fetchd(const struct erofs_mount_opts *o)
{
	char self[PATH_MAX], *p;
	ssize_t n;

	if (o->fetchd)
		return strdup(o->fetchd);
	n = readlink("/proc/self/exe", self, sizeof(self) - 32);
	if (n > 0) {
		self[n] = '\0';
		p = strrchr(self, '/');
		strcpy(p + 1, "erofs-fetchd");
		if (!access(self, X_OK))
			return strdup(self);
	}
	return strdup("erofs-fetchd");
}

static int ctl(struct mount_job *j, const char *req, char **reply)
{
	return erofs_fetchd_ctl_call(j->cache_dir, req, reply, j->log);
}

/* a daemon serving the cache dir with our backend, started if needed */
int erofs_mount_ensure_daemon(struct mount_job *j)
{
	char *reply = NULL, *fetchd, *logpath;
	pid_t pid;
	int status, err = ctl(j, "list", &reply);

	free(reply);
	if (!err) {
		fprintf(j->out, "erofs-mount: reusing the erofs-fetchd of %s\n",
			j->cache_dir);
		return 0;
	}
	fetchd = find_fetchd(j->o);
	if (!fetchd ||
	    asprintf(&logpath, "%s/erofs-fetchd.log", j->cache_dir) < 0) {
		free(fetchd);
		return erofs_err(j->log, -ENOMEM, "daemon");
	}
	pid = fork();
	if (pid < 0) {
		err = erofs_err(j->log, -errno, "fork");
	} else if (!pid) {
		/* a grandchild in a session of its own: not our child */
		int fd;

		if (fork())
			_exit(0);
		setsid();
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		if (chdir("/")) {
			/* the daemon never depends on its cwd */
		}
		execlp(fetchd, fetchd, "--supervise", "--backend",
		       erofs_mount_backend_names[j->backend], "--cache-dir",
		       j->cache_dir, "--control", "--exit-when-idle",
		       (char *)NULL);
		_exit(127);
	} else {
		waitpid(pid, &status, 0);
		err = -ETIMEDOUT;
		/* up to 20 s for its control socket */
		for (int i = 0; i < 200 && err; i++) {
			struct timespec ts = {0, 100000000};

			err = ctl(j, "list", &reply);
			free(reply);
			reply = NULL;
			if (err)
				nanosleep(&ts, NULL);
		}
		if (err)
			erofs_fail(j->log, err,
				   "erofs-fetchd (%s) did not come up for "
				   "%s: see %s",
				   fetchd, j->cache_dir, logpath);
		else
			fprintf(j->out,
				"erofs-mount: started erofs-fetchd for %s "
				"(log %s)\n",
				j->cache_dir, logpath);
	}
	free(fetchd);
	free(logpath);
	return err;
}

/* "ok..." → 0; "err N text" → -N with the text logged */
static int ctl_result(struct mount_job *j, const char *what, char *reply)
{
	int e;

	if (!strncmp(reply, "ok", 2))
		return 0;
	e = atoi(reply + 4 > reply + strlen(reply) ? "" : reply + 4);
	erofs_fail(j->log, e > 0 ? -e : -EIO, "%s: %s", what, reply);
	return e > 0 ? -e : -EIO;
}

int erofs_mount_ctl_fmt(struct mount_job *j, const char *what, const char *fmt,
			...)
{
	char *req, *reply;
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vasprintf(&req, fmt, ap);
	va_end(ap);
	if (err < 0)
		return erofs_err(j->log, -ENOMEM, "%s", what);
	err = ctl(j, req, &reply);
	free(req);
	if (err)
		return erofs_err(j->log, err, "%s", what);
	err = ctl_result(j, what, reply);
	free(reply);
	return err;
}

int erofs_mount_add_image(struct mount_job *j)
{
	char *id = erofs_fetchd_ctl_quote(j->mnt);
	char *man = erofs_fetchd_ctl_quote(j->manifest_path);
	char req[EROFS_FETCHD_CTL_MAX];
	size_t n;
	int err;

	if (!id || !man) {
		free(id);
		free(man);
		return erofs_err(j->log, -ENOMEM, "request");
	}
	n = snprintf(req, sizeof(req), "add %s %s", id, man);
	free(id);
	free(man);
	if (j->boot_src) {
		char *s = erofs_fetchd_ctl_quote(j->boot_src);

		if (!s)
			return erofs_err(j->log, -ENOMEM, "request");
		n += snprintf(req + n, sizeof(req) - n, " %s", s);
		free(s);
	}
	for (unsigned int i = 0; i < j->nr_srcs && n < sizeof(req); i++) {
		char *s = erofs_fetchd_ctl_quote(j->srcs[i]);

		if (!s)
			return erofs_err(j->log, -ENOMEM, "request");
		n += snprintf(req + n, sizeof(req) - n, " %s", s);
		free(s);
	}
	if (n >= sizeof(req))
		return erofs_err(j->log, -E2BIG, "request");
	err = erofs_mount_ctl_fmt(j, "registering the image with erofs-fetchd",
				  "%s", req);
	return err;
}

void erofs_mount_del_image(struct mount_job *j)
{
	char *id = erofs_fetchd_ctl_quote(j->mnt);

	if (id)
		erofs_mount_ctl_fmt(j, "releasing the image", "del %s", id);
	free(id);
}

int erofs_mount_tune_readahead(struct mount_job *j, const char *dir,
			       const char *blob)
{
	const struct erofs_mount_opts *o = j->o;
	char bdi[EROFS_BDI_NAME_MAX], *id;
	uint64_t old;
	int err;

	if (!o->kernel_readahead || j->backend == MB_CACHEFILES ||
	    (j->backend == MB_FULL && !o->kernel_readahead_given))
		return 0;
	err = erofs_mount_set_readahead(dir, o->kernel_readahead, bdi,
					sizeof(bdi), &old, j->log);
	if (err == -EOPNOTSUPP)
		return 0; /* the kernel cannot say which window is ours */
	if (err || j->backend == MB_FULL)
		return err;
	/* the daemon puts the kernel's window back once @blob is complete */
	id = erofs_fetchd_ctl_quote(j->mnt);
	if (!id)
		return erofs_err(j->log, -ENOMEM, "request");
	err = erofs_mount_ctl_fmt(j, "handing the read-ahead to erofs-fetchd",
				  "readahead %s %s %" PRIu64 "%s%s", id, bdi,
				  old, blob ? " " : "", blob ? blob : "");
	free(id);
	return err;
}

/* ------------------------------------------------------------------ */
/* prefetch list: chunk ranges of the files named                      */

struct lookup {
	const char *name;
	size_t len;
	uint64_t nid;
	bool found;
};

static int lookup_cb(void *arg, const char *name, unsigned int namelen,
		     uint64_t nid, unsigned int file_type)
{
	struct lookup *l = arg;

	if (namelen == l->len && !memcmp(name, l->name, namelen)) {
		l->nid = nid;
		l->found = true;
		return 1;
	}
	return 0;
}

int erofs_mount_resolve_path(const struct erofs_image *img, const char *path,
			     struct erofs_rinode *ri)
{
	uint64_t nid = img->sb.root_nid;
	const char *p = path;
	int err = erofs_image_read_inode(img, nid, ri);

	while (!err && *p) {
		struct lookup l;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		l.name = p;
		l.len = strcspn(p, "/");
		l.found = false;
		p += l.len;
		if (!S_ISDIR(ri->di.mode))
			return -ENOTDIR;
		err = erofs_image_iterate_dir(img, ri, lookup_cb, &l);
		if (err < 0)
			return err;
		if (!l.found)
			return -ENOENT;
		err = erofs_image_read_inode(img, l.nid, ri);
	}
	return err;
}

void erofs_mount_prefetch_start(struct mount_prefetch_req *r, const char *id)
{
	r->n = snprintf(r->buf, sizeof(r->buf), "prefetch %s", id);
	r->empty = r->n;
}

int erofs_mount_prefetch_flush(struct mount_job *j,
			       struct mount_prefetch_req *r)
{
	int err = 0;

	if (r->n > r->empty)
		err = erofs_mount_ctl_fmt(j, "prefetch", "%s", r->buf);
	r->n = r->empty;
	r->buf[r->n] = '\0';
	return err;
}

int erofs_mount_prefetch_add(struct mount_job *j, struct mount_prefetch_req *r,
			     const char *tag, uint64_t off, uint64_t len)
{
	/* a tag is 64 hex digits, each number at most 20 digits */
	if (r->n > sizeof(r->buf) - 200) {
		int err = erofs_mount_prefetch_flush(j, r);

		if (err)
			return err;
	}
	r->n += snprintf(r->buf + r->n, sizeof(r->buf) - r->n,
			 " %s %" PRIu64 " %" PRIu64, tag, off, len);
	return 0;
}

int erofs_mount_prefetch_said(struct mount_job *j, unsigned int files, int err)
{
	if (!err)
		fprintf(j->out,
			"erofs-mount: prefetching %u listed files first\n",
			files);
	return err;
}

int erofs_mount_prefetch_list(struct mount_job *j)
{
	struct erofs_image img;
	char line[PATH_MAX + 2], *id;
	FILE *f = fopen(j->o->prefetch_list, "r");
	unsigned int files = 0;
	int err;

	if (!f)
		return erofs_err(j->log, -errno, "--prefetch-list %s",
				 j->o->prefetch_list);
	err = erofs_image_open(&img, j->bootstrap, j->log);
	if (err) {
		fclose(f);
		return err;
	}
	id = erofs_fetchd_ctl_quote(j->mnt);
	while (!err && id && fgets(line, sizeof(line), f)) {
		const struct erofs_manifest_blob *pb = NULL;
		struct mount_prefetch_req req;
		struct erofs_rinode ri;
		uint64_t csz, poff = 0, plen = 0;

		line[strcspn(line, "\n")] = '\0';
		if (!*line)
			continue;
		if (erofs_mount_resolve_path(&img, line, &ri) ||
		    !S_ISREG(ri.di.mode) ||
		    ri.di.datalayout != EROFS_INODE_CHUNK_BASED) {
			erofs_warn(j->log,
				   "--prefetch-list: %s: no chunked "
				   "file of the image; skipped",
				   line);
			continue;
		}
		csz = 1ull << ri.chunkbits;
		erofs_mount_prefetch_start(&req, id);

		for (uint64_t c = 0; c <= ri.nr_chunks && !err; c++) {
			struct erofs_chunk_idx ci;
			const struct erofs_manifest_blob *b = NULL;
			uint64_t len = ri.di.size - c * csz;

			if (c < ri.nr_chunks &&
			    !erofs_image_read_chunk(&img, &ri, c, &ci) &&
			    ci.blkaddr != EROFS_NULL_ADDR)
				for (unsigned int k = 0; k < j->m.nr_blobs; k++)
					if (j->m.blobs[k].device_id ==
					    ci.device_id)
						b = &j->m.blobs[k];
			if (len > csz)
				len = csz;
			/* one range for chunks that follow each other */
			if (b && b == pb &&
			    (uint64_t)ci.blkaddr * img.blksz == poff + plen) {
				plen += len;
				continue;
			}
			if (pb)
				err = erofs_mount_prefetch_add(j, &req, pb->tag,
							       poff, plen);
			pb = b;
			if (b) {
				poff = (uint64_t)ci.blkaddr * img.blksz;
				plen = len;
			}
		}
		if (!err)
			err = erofs_mount_prefetch_flush(j, &req);
		files++;
	}
	free(id);
	fclose(f);
	erofs_image_close(&img);
	return erofs_mount_prefetch_said(j, files, err);
}

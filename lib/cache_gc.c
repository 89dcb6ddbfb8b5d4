// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Cache garbage collection for the cachefiles layout (see erofs/cache_gc.h).
 * The walk is done below directory fds without following symlinks; the
 * only cwd change is a fchdir() in the pass's own thread after
 * unshare(CLONE_FS), which gives that thread a private cwd.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "erofs/cache_gc.h"

struct gc_pass {
	const char *cache_dir;
	uint64_t age_s;
	time_t now;
	const struct erofs_cache_gc_ops *ops;
	void *arg;
	const struct erofs_log *log;
	int result;
};

static int rm_tree_at(int pfd, const char *name, int depth)
{
	struct stat st;
	int fd, err = 0;
	DIR *d;
	struct dirent *de;

	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(pfd, name, 0) < 0 ? -errno : 0;
	if (depth > 16)
		return -ELOOP;
	fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		err = rm_tree_at(dirfd(d), de->d_name, depth + 1);
		if (err)
			break;
	}
	closedir(d);
	if (!err && unlinkat(pfd, name, AT_REMOVEDIR) < 0)
		err = -errno;
	return err;
}

static bool cmd_name_ok(const char *s)
{
	if (strlen(s) > 1000)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return false;
	return true;
}

static time_t last_use(struct gc_pass *p, int dfd, const char *where,
		       const char *vol, const char *name, const struct stat *st)
{
	time_t last = st->st_atime > st->st_mtime ? st->st_atime : st->st_mtime;
	time_t closed =
	    p->ops->last_close ? p->ops->last_close(p->arg, vol, name) : 0;

	if (closed > last) {
		struct timespec ts[2] = {{closed, 0}, {0, UTIME_OMIT}};

		last = closed;
		if (utimensat(dfd, name, ts, AT_SYMLINK_NOFOLLOW))
			erofs_warn(p->log, "%s/%s: cannot set atime: %s", where,
				   name, strerror(errno));
	}
	return last;
}

/* one fan-out directory: inuse/cull every old regular file */
static int cull_fanout(struct gc_pass *p, int fd, const char *where,
		       const char *vol)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int culled = 0;

	if (!d) {
		close(fd);
		return 0;
	}
	/* this thread's own cwd (CLONE_FS unshared) */
	if (fchdir(dirfd(d)) < 0) {
		erofs_err(p->log, -errno, "cull: chdir %s", where);
		closedir(d);
		return 0;
	}
	while ((de = readdir(d))) {
		struct stat st;
		time_t last;
		int err;

		if (de->d_name[0] == '.' ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    !S_ISREG(st.st_mode) || !cmd_name_ok(de->d_name))
			continue;
		last = last_use(p, dirfd(d), where, vol, de->d_name, &st);
		if (last > p->now || (uint64_t)(p->now - last) < p->age_s)
			continue;
		err = p->ops->inuse(p->arg, de->d_name);
		if (err == -EBUSY) {
			erofs_dbg(p->log, "%s/%s: in use", where, de->d_name);
			continue;
		}
		if (err) {
			erofs_err(p->log, err,
				  "cachefiles command \"inuse %s\"",
				  de->d_name);
			continue;
		}
		if (!p->ops->cull(p->arg, de->d_name)) {
			erofs_info(
			    p->log, "culled %s/%s (unused for %" PRIu64 " s)",
			    where, de->d_name, (uint64_t)(p->now - last));
			culled++;
		}
	}
	closedir(d);
	return culled;
}

static void empty_graveyard(struct gc_pass *p)
{
	char path[4096];
	struct dirent *de;
	int cfd;
	DIR *g;

	snprintf(path, sizeof(path), "%s/graveyard", p->cache_dir);
	cfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cfd < 0)
		return;
	g = fdopendir(cfd);
	if (!g) {
		close(cfd);
		return;
	}
	while ((de = readdir(g))) {
		int err;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		err = rm_tree_at(dirfd(g), de->d_name, 0);
		if (err)
			erofs_warn(p->log, "%s/%s: cannot remove: %s", path,
				   de->d_name, strerror(-err));
	}
	closedir(g);
}

static int gc_walk(struct gc_pass *p)
{
	char path[4096];
	struct dirent *de;
	int cfd, culled = 0;
	DIR *cd;

	/* the graveyard is never emptied by the kernel */
	empty_graveyard(p);
	snprintf(path, sizeof(path), "%s/cache", p->cache_dir);
	cfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (cfd < 0) {
		if (errno == ENOENT)
			return 0;
		return erofs_err(p->log, -errno, "cull: %s", path);
	}
	cd = fdopendir(cfd);
	if (!cd) {
		close(cfd);
		return erofs_err(p->log, -errno, "cull: %s", path);
	}
	while ((de = readdir(cd))) {
		struct dirent *fe;
		int vfd;
		DIR *vd;

		if (de->d_name[0] != 'I')
			continue;
		vfd = openat(dirfd(cd), de->d_name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (vfd < 0)
			continue;
		vd = fdopendir(vfd);
		if (!vd) {
			close(vfd);
			continue;
		}
		while ((fe = readdir(vd))) {
			char where[4096 + 2 * 256 + 4];
			int ffd;

			if (fe->d_name[0] != '@')
				continue;
			ffd = openat(dirfd(vd), fe->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					 O_CLOEXEC);
			if (ffd < 0)
				continue;
			snprintf(where, sizeof(where), "%s/%s/%s", path,
				 de->d_name, fe->d_name);
			culled += cull_fanout(p, ffd, where, de->d_name);
		}
		closedir(vd);
	}
	closedir(cd);
	return culled;
}

static void *gc_thread(void *arg)
{
	struct gc_pass *p = arg;

	if (unshare(CLONE_FS)) {
		p->result =
		    erofs_err(p->log, -errno, "cull: cannot get a private cwd");
		return NULL;
	}
	p->result = gc_walk(p);
	return NULL;
}

int erofs_cache_gc(const char *cache_dir, uint64_t age_s, time_t now,
		   const struct erofs_cache_gc_ops *ops, void *arg,
		   const struct erofs_log *log)
{
	struct gc_pass p = {cache_dir, age_s, now, ops, arg, log, 0};
	pthread_t t;
	int err = pthread_create(&t, NULL, gc_thread, &p);

	if (err)
		return erofs_err(log, -err, "cull: starting its thread");
	pthread_join(t, NULL);
	return p.result;
}

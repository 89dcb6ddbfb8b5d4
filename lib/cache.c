// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The cachefiles cache directory of an image: check what is there, detect a
 * live cache bound to it, and seed it offline so that a mount needs no READ.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <json-c/json.h>

#include "erofs/cookie.h"
#include "erofs/ondisk.h"
#include "erofs/util.h"

#define COPY_BUF_SIZE (1u << 20)
/* cache files are sized as off_t; larger sizes are refused, not rounded */
#define EROFS_CACHE_MAX_OBJECT ((uint64_t)INT64_MAX - EROFS_CACHE_DIO_BLOCK)

static const char *const xattr_state_names[] = {
    [EROFS_CACHE_XATTR_OK] = "ok",
    [EROFS_CACHE_XATTR_MISSING] = "missing",
    [EROFS_CACHE_XATTR_BAD] = "bad",
    [EROFS_CACHE_XATTR_SIZE_MISMATCH] = "size-mismatch",
    [EROFS_CACHE_XATTR_UNCHECKED] = "unchecked",
};

static int join(char *out, size_t len, const char *a, const char *b)
{
	if ((size_t)snprintf(out, len, "%s/%s", a, b) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/*
 * Directory @name below @dfd, never through a symbolic link: an fd, or
 * -ENOENT (silently when @quiet_missing), -ELOOP for a symlink, -ENOTDIR
 * for another file type, each with a message naming @shown.  @create makes
 * it first (mode 0700) when missing.
 */
static int open_dir_at(int dfd, const char *name, const char *shown,
		       bool create, bool quiet_missing,
		       const struct erofs_log *log)
{
	struct stat sb;
	int fd, e;

	if (create && mkdirat(dfd, name, 0700) < 0 && errno != EEXIST)
		return erofs_err(log, -errno, "cannot create directory %s",
				 shown);
	fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	e = errno;
	if (!fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) &&
	    S_ISLNK(sb.st_mode))
		return erofs_err(log, -ELOOP,
				 "%s is a symbolic link; refusing to follow it "
				 "out of the cache directory",
				 shown);
	if (e == ENOENT && quiet_missing)
		return -ENOENT;
	if (e == ENOTDIR || e == ELOOP)
		return erofs_err(log, -ENOTDIR,
				 "%s exists and is not a directory", shown);
	return erofs_err(log, -e, "%s", shown);
}

/*
 * The volume directory of @t below @root (an fd): cache/, then "I<key>",
 * without following symlinks; created when @create.
 */
static int open_volume(int root, const char *cache_dir,
		       const struct erofs_cookie_table *t, bool create,
		       const struct erofs_log *log)
{
	char shown[PATH_MAX];
	int cfd, vfd;

	snprintf(shown, sizeof(shown), "%s/cache", cache_dir);
	cfd = open_dir_at(root, "cache", shown, create, !create, log);
	if (cfd < 0)
		return cfd;
	snprintf(shown, sizeof(shown), "%s/cache/%s", cache_dir, t->vol.dir);
	vfd = open_dir_at(cfd, t->vol.dir, shown, create, !create, log);
	close(cfd);
	return vfd;
}

/* the volume directory: must hold exactly the 4-byte all-zero xattr */
static enum erofs_cache_xattr_state check_volume_xattr(int vfd)
{
	uint8_t want[EROFS_CACHE_VOL_XATTR_SIZE], buf[64];
	ssize_t n = fgetxattr(vfd, EROFS_CACHE_XATTR, buf, sizeof(buf));

	erofs_cookie_volume_xattr(want);
	if (n < 0)
		return errno == ENODATA ? EROFS_CACHE_XATTR_MISSING
					: EROFS_CACHE_XATTR_BAD;
	if (n != EROFS_CACHE_VOL_XATTR_SIZE || memcmp(buf, want, n))
		return EROFS_CACHE_XATTR_BAD;
	return EROFS_CACHE_XATTR_OK;
}

/* bytes of data (not holes) in [0, end) of @fd */
static int count_present(int fd, uint64_t end, uint64_t *present)
{
	uint64_t pos = 0;

	*present = 0;
	while (pos < end) {
		off_t d = lseek(fd, pos, SEEK_DATA), h;

		if (d < 0)
			return errno == ENXIO ? 0 : -errno;
		if ((uint64_t)d >= end)
			break;
		h = lseek(fd, d, SEEK_HOLE);
		if (h < 0)
			return -errno;
		if ((uint64_t)h > end)
			h = end;
		*present += h - d;
		pos = h;
	}
	return 0;
}

static int check_object(const char *root, int vfd,
			const struct erofs_cookie_table *t,
			const struct erofs_cookie *ck,
			struct erofs_cache_status *st,
			const struct erofs_log *log)
{
	uint8_t buf[64];
	char path[PATH_MAX];
	struct stat sb;
	uint64_t size = ck->object_size;
	ssize_t n;
	int fd, ffd, err;

	memset(st, 0, sizeof(*st));
	st->xattr = EROFS_CACHE_XATTR_UNCHECKED;
	if (join(path, sizeof(path), root, ck->path))
		return erofs_err(log, -ENAMETOOLONG, "%s/%s", root, ck->path);
	if (vfd < 0)
		goto sized;
	ffd = open_dir_at(vfd, ck->fanout, path, false, true, log);
	if (ffd == -ENOENT)
		goto sized;
	if (ffd < 0)
		return ffd;
	fd = openat(ffd, ck->name,
		    O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	close(ffd);
	if (fd < 0) {
		if (errno == ENOENT)
			goto sized;
		if (errno == ELOOP)
			return erofs_err(log, -ELOOP,
					 "%s is a symbolic link; refusing to "
					 "follow it",
					 path);
		return erofs_err(log, -errno, "cannot open %s", path);
	}
	if (fstat(fd, &sb) < 0) {
		err = erofs_err(log, -errno, "%s: stat", path);
		close(fd);
		return err;
	}
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		goto sized;
	}
	st->exists = 1;
	st->file_size = sb.st_size;
	n = fgetxattr(fd, EROFS_CACHE_XATTR, buf, sizeof(buf));
	if (n < 0 && errno != ENODATA && errno != ERANGE &&
	    errno != EOPNOTSUPP) {
		err = erofs_err(log, -errno, "%s: reading %s", path,
				EROFS_CACHE_XATTR);
		close(fd);
		return err;
	}
	if (n < 0) {
		st->xattr = errno == ENODATA ? EROFS_CACHE_XATTR_MISSING
					     : EROFS_CACHE_XATTR_BAD;
	} else if (n != EROFS_CACHE_DATA_XATTR_SIZE ||
		   buf[16] != EROFS_CACHE_XATTR_TYPE_DATA ||
		   buf[17] == EROFS_CACHE_CONTENT_DIRTY) {
		/* what cachefiles_check_auxdata() rejects for erofs */
		st->xattr = EROFS_CACHE_XATTR_BAD;
	} else {
		st->xattr_size = erofs_get_be64(buf);
		if (size == EROFS_COOKIE_SIZE_UNKNOWN)
			size = st->xattr_size;
		/* a size the device table contradicts is not the object */
		st->xattr = st->xattr_size == size &&
				    erofs_cookie_size_fits(t, ck, size) &&
				    size <= EROFS_CACHE_MAX_OBJECT
				? EROFS_CACHE_XATTR_OK
				: EROFS_CACHE_XATTR_SIZE_MISMATCH;
		if (size > EROFS_CACHE_MAX_OBJECT)
			size = EROFS_COOKIE_SIZE_UNKNOWN;
	}
	if (size != EROFS_COOKIE_SIZE_UNKNOWN) {
		st->needed = erofs_cookie_cache_file_size(size);
		err = count_present(fd, st->needed, &st->present);
		if (err) {
			close(fd);
			return erofs_err(log, err, "%s: SEEK_DATA/SEEK_HOLE",
					 path);
		}
	}
	close(fd);
	st->complete =
	    st->xattr == EROFS_CACHE_XATTR_OK && st->present == st->needed;
	return 0;
sized:
	if (size != EROFS_COOKIE_SIZE_UNKNOWN && size <= EROFS_CACHE_MAX_OBJECT)
		st->needed = erofs_cookie_cache_file_size(size);
	return 0;
}

int erofs_cache_check(const char *cache_dir, const struct erofs_cookie_table *t,
		      struct erofs_cache_report *rep,
		      const struct erofs_log *log)
{
	int root, vfd, err = 0;

	memset(rep, 0, sizeof(*rep));
	root = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return erofs_err(log, errno == ENOTDIR ? -ENOTDIR : -errno,
				 "cache directory %s", cache_dir);
	rep->volume_xattr = EROFS_CACHE_XATTR_UNCHECKED;
	vfd = open_volume(root, cache_dir, t, false, log);
	close(root);
	if (vfd < 0 && vfd != -ENOENT)
		return vfd;
	if (vfd >= 0) {
		rep->volume_exists = 1;
		rep->volume_xattr = check_volume_xattr(vfd);
	}
	rep->st = calloc(t->nr ? t->nr : 1, sizeof(*rep->st));
	if (!rep->st) {
		if (vfd >= 0)
			close(vfd);
		return erofs_err(log, -ENOMEM, "cache report");
	}
	rep->nr = t->nr;
	rep->complete = rep->volume_xattr == EROFS_CACHE_XATTR_OK;
	for (unsigned int i = 0; i < t->nr && !err; i++) {
		err = check_object(cache_dir, vfd, t, &t->cookies[i],
				   &rep->st[i], log);
		if (!rep->st[i].complete)
			rep->complete = 0;
	}
	if (vfd >= 0)
		close(vfd);
	if (err)
		erofs_cache_report_free(rep);
	return err;
}

void erofs_cache_report_free(struct erofs_cache_report *rep)
{
	free(rep->st);
	rep->st = NULL;
	rep->nr = 0;
}

static int jadd(struct json_object *o, const char *k, struct json_object *v)
{
	if (json_object_object_add(o, k, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static struct json_object *jsize(uint64_t v)
{
	return v == EROFS_COOKIE_SIZE_UNKNOWN ? NULL
					      : json_object_new_uint64(v);
}

int erofs_cache_report_to_json(const char *cache_dir,
			       const struct erofs_cookie_table *t,
			       const struct erofs_cache_report *rep,
			       struct json_object **out,
			       const struct erofs_log *log)
{
	struct json_object *o = json_object_new_object();
	struct json_object *vol = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	char rel[EROFS_COOKIE_PATH_MAX + 1];
	int err = 0;

	*out = NULL;
	if (!o || !vol || !arr) {
		json_object_put(o);
		json_object_put(vol);
		json_object_put(arr);
		return erofs_err(log, -ENOMEM, "cache report");
	}
	snprintf(rel, sizeof(rel), "cache/%s", t->vol.dir);
	err |= jadd(vol, "path", json_object_new_string(rel));
	err |= jadd(vol, "exists", json_object_new_boolean(rep->volume_exists));
	err |=
	    jadd(vol, "xattr",
		 json_object_new_string(xattr_state_names[rep->volume_xattr]));
	for (unsigned int i = 0; i < rep->nr && !err; i++) {
		const struct erofs_cookie *ck = &t->cookies[i];
		const struct erofs_cache_status *st = &rep->st[i];
		struct json_object *c = json_object_new_object();

		if (!c) {
			err = -ENOMEM;
			break;
		}
		err |= jadd(c, "device_id", json_object_new_int(ck->device_id));
		err |= jadd(c, "role",
			    json_object_new_string(
				ck->device_id ? "blob" : "bootstrap"));
		err |= jadd(c, "cache_path", json_object_new_string(ck->path));
		err |= jadd(c, "exists", json_object_new_boolean(st->exists));
		err |=
		    jadd(c, "xattr",
			 json_object_new_string(xattr_state_names[st->xattr]));
		err |= jadd(c, "xattr_object_size",
			    st->xattr == EROFS_CACHE_XATTR_OK ||
				    st->xattr == EROFS_CACHE_XATTR_SIZE_MISMATCH
				? json_object_new_uint64(st->xattr_size)
				: NULL);
		err |= jadd(c, "object_size", jsize(ck->object_size));
		err |= jadd(c, "file_size",
			    st->exists ? json_object_new_uint64(st->file_size)
				       : NULL);
		err |=
		    jadd(c, "bytes_needed", json_object_new_uint64(st->needed));
		err |= jadd(c, "bytes_present",
			    json_object_new_uint64(st->present));
		err |=
		    jadd(c, "complete", json_object_new_boolean(st->complete));
		if (json_object_array_add(arr, c)) {
			json_object_put(c);
			err = -ENOMEM;
		}
	}
	err |= jadd(o, "cache_dir", json_object_new_string(cache_dir));
	err |= jadd(o, "volume", vol);
	err |= jadd(o, "cookies", arr);
	err |= jadd(o, "complete", json_object_new_boolean(rep->complete));
	if (err) {
		json_object_put(o);
		return erofs_err(log, -ENOMEM, "cache report");
	}
	*out = o;
	return 0;
}

/*
 * Layer 1: cachefiles marks "cache/" and "graveyard/" S_KERNEL_FILE at bind
 * and clears the mark at unbind; vfs_rmdir() refuses such a directory with
 * EBUSY before it looks at its contents.  rmdir() of a non-empty unmarked
 * directory fails with ENOTEMPTY and changes nothing; an empty one is
 * removed and recreated at once with its mode and owner.
 */
static int probe_kernel_mark(const char *root, const char *name,
			     const struct erofs_log *log)
{
	char path[PATH_MAX];
	struct stat sb, rsb;

	if (join(path, sizeof(path), root, name))
		return erofs_err(log, -ENAMETOOLONG, "%s/%s", root, name);
	if (lstat(path, &sb) < 0) {
		if (errno == ENOENT)
			return 0;
		return erofs_err(log, -errno, "%s", path);
	}
	if (S_ISLNK(sb.st_mode))
		return erofs_err(log, -ELOOP,
				 "%s is a symbolic link; refusing to follow it "
				 "out of the cache directory",
				 path);
	if (!S_ISDIR(sb.st_mode))
		return erofs_err(log, -ENOTDIR,
				 "%s exists and is not a directory", path);
	if (!rmdir(path)) {
		if (mkdir(path, sb.st_mode & 07777) < 0 ||
		    chown(path, sb.st_uid, sb.st_gid) < 0 ||
		    chmod(path, sb.st_mode & 07777) < 0)
			return erofs_err(log, -errno, "cannot recreate %s",
					 path);
		return 0;
	}
	if (errno == ENOTEMPTY || errno == EEXIST)
		return 0;
	if (errno != EBUSY)
		return erofs_err(log, -errno, "%s: probing with rmdir", path);
	if (stat(root, &rsb) == 0 && rsb.st_dev != sb.st_dev)
		return erofs_err(log, -EBUSY,
				 "%s is a mount point; refusing to seed", path);
	return erofs_err(log, -EBUSY,
			 "%s is in use by the kernel (rmdir gives EBUSY: "
			 "cachefiles marks it while a cache is bound); "
			 "unbind the cache (stop its daemon) before seeding",
			 path);
}

/*
 * Layer 2: a daemon that has opened /dev/cachefiles and whose working
 * directory is the cache root (the usual setup, so that "cull" and "inuse"
 * work) may be about to bind it even before "cache/" exists.
 */
static int probe_daemons(const char *root, const struct erofs_log *log)
{
	struct stat rsb;
	DIR *proc;
	struct dirent *pe;
	int err = 0;

	if (stat(root, &rsb) < 0)
		return 0;
	proc = opendir("/proc");
	if (!proc)
		return 0;
	while (!err && (pe = readdir(proc))) {
		char fddir[64], lnk[PATH_MAX], tgt[64], cwd[64];
		struct dirent *fe;
		struct stat csb;
		DIR *fds;
		int holds = 0;

		if (pe->d_name[0] < '1' || pe->d_name[0] > '9')
			continue;
		snprintf(fddir, sizeof(fddir), "/proc/%.20s/fd", pe->d_name);
		fds = opendir(fddir);
		if (!fds)
			continue;
		while (!holds && (fe = readdir(fds))) {
			ssize_t n;

			if (fe->d_name[0] == '.')
				continue;
			if ((size_t)snprintf(lnk, sizeof(lnk), "%s/%s", fddir,
					     fe->d_name) >= sizeof(lnk))
				continue;
			n = readlink(lnk, tgt, sizeof(tgt) - 1);
			if (n < 0)
				continue;
			tgt[n] = '\0';
			holds = !strcmp(tgt, "/dev/cachefiles");
		}
		closedir(fds);
		if (!holds)
			continue;
		snprintf(cwd, sizeof(cwd), "/proc/%.20s/cwd", pe->d_name);
		if (!stat(cwd, &csb) && csb.st_dev == rsb.st_dev &&
		    csb.st_ino == rsb.st_ino)
			err = erofs_err(log, -EBUSY,
					"process %s has /dev/cachefiles open "
					"and works in %s; refusing to seed a "
					"cache its daemon may bind",
					pe->d_name, root);
		else
			erofs_info(log,
				   "process %s has /dev/cachefiles open (its "
				   "cache is not %s)",
				   pe->d_name, root);
	}
	closedir(proc);
	return err;
}

int erofs_cache_probe_bound(const char *cache_dir, const struct erofs_log *log)
{
	int err = probe_kernel_mark(cache_dir, "cache", log);

	if (!err)
		err = probe_kernel_mark(cache_dir, "graveyard", log);
	if (!err)
		err = probe_daemons(cache_dir, log);
	return err;
}

static int make_dir(const char *path, const struct erofs_log *log)
{
	struct stat sb;

	if (!mkdir(path, 0700))
		return 0;
	if (errno == EEXIST && !stat(path, &sb) && S_ISDIR(sb.st_mode))
		return 0;
	return erofs_err(log, errno == EEXIST ? -ENOTDIR : -errno,
			 "cannot create directory %s", path);
}

static int sync_fd(int fd, const char *shown, const struct erofs_log *log)
{
	if (fsync(fd) < 0)
		return erofs_err(log, -errno, "%s: sync", shown);
	return 0;
}

/*
 * cache/, graveyard/, the volume directory with its xattr and the 256
 * fan-out directories, all below @root and none through a symlink.
 * Returns the volume directory's fd or -errno.
 */
static int seed_layout(int root, const char *cache_dir,
		       const struct erofs_cookie_table *t,
		       const struct erofs_log *log)
{
	char shown[PATH_MAX];
	uint8_t vx[EROFS_CACHE_VOL_XATTR_SIZE];
	int fd, vfd;

	snprintf(shown, sizeof(shown), "%s/graveyard", cache_dir);
	fd = open_dir_at(root, "graveyard", shown, true, false, log);
	if (fd < 0)
		return fd;
	close(fd);
	vfd = open_volume(root, cache_dir, t, true, log);
	if (vfd < 0)
		return vfd;
	snprintf(shown, sizeof(shown), "%s/cache/%s", cache_dir, t->vol.dir);
	erofs_cookie_volume_xattr(vx);
	if (fsetxattr(vfd, EROFS_CACHE_XATTR, vx, sizeof(vx), 0) < 0) {
		int err = erofs_err(log, -errno,
				    "%s: cannot set %s (does the filesystem "
				    "support user xattrs?)",
				    shown, EROFS_CACHE_XATTR);

		close(vfd);
		return err;
	}
	for (unsigned int i = 0; i < EROFS_CACHE_FANOUT; i++) {
		char fan[8], fshown[PATH_MAX + 8];

		snprintf(fan, sizeof(fan), "@%02x", i);
		snprintf(fshown, sizeof(fshown), "%s/%s", shown, fan);
		fd = open_dir_at(vfd, fan, fshown, true, false, log);
		if (fd < 0) {
			close(vfd);
			return fd;
		}
		close(fd);
	}
	return vfd;
}

static int copy_object(int dfd, int sfd, uint64_t size, const char *src,
		       const char *tmp, const struct erofs_log *log)
{
	uint64_t end = erofs_cookie_cache_file_size(size), off = 0;
	char *buf = malloc(COPY_BUF_SIZE);
	int err = 0;

	if (!buf)
		return erofs_err(log, -ENOMEM, "%s", src);
	while (off < end) {
		size_t want =
		    end - off < COPY_BUF_SIZE ? end - off : COPY_BUF_SIZE;
		size_t got = 0;

		if (off < size) {
			size_t rd = size - off < want ? size - off : want;
			ssize_t n = erofs_pread_all(sfd, buf, rd, off);

			if (n < 0) {
				err = erofs_err(log, (int)n, "%s: read", src);
				break;
			}
			if ((size_t)n != rd) {
				err = erofs_err(
				    log, -EIO, "%s: shrank while copying", src);
				break;
			}
			got = n;
		}
		/* the padding is written as real zeros, never left a hole */
		memset(buf + got, 0, want - got);
		err = erofs_pwrite_all(dfd, buf, want, off);
		if (err) {
			err = erofs_err(log, err, "%s: write", tmp);
			break;
		}
		off += want;
	}
	free(buf);
	return err;
}

/* a new file below @dfd named like "<prefix>.seed.<random>" */
static int create_temp_at(int dfd, char *name, size_t size)
{
	for (unsigned int tries = 0; tries < 100; tries++) {
		unsigned int r;
		int fd;

		if (getentropy(&r, sizeof(r)))
			r = (unsigned int)getpid() * 2654435761u + tries;
		snprintf(name, size, ".seed.%08x", r);
		fd = openat(dfd, name,
			    O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd >= 0 || errno != EEXIST)
			return fd < 0 ? -errno : fd;
	}
	return -EEXIST;
}

static int seed_object(const char *root, int vfd,
		       const struct erofs_cookie_table *t,
		       const struct erofs_cookie *ck, const char *src,
		       const struct erofs_log *log)
{
	char final[PATH_MAX], tmp[32];
	uint8_t xattr[EROFS_CACHE_DATA_XATTR_SIZE];
	struct stat sb;
	int sfd, dfd, ffd, err;

	if (join(final, sizeof(final), root, ck->path))
		return erofs_err(log, -ENAMETOOLONG, "%s/%s", root, ck->path);
	/* O_NONBLOCK: a FIFO must be refused, not waited on */
	sfd = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (sfd < 0)
		return erofs_err(log, -errno, "cannot open %s", src);
	if (fstat(sfd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		err = erofs_err(log, -EINVAL, "%s: not a regular file", src);
		close(sfd);
		return err;
	}
	if ((uint64_t)sb.st_size != ck->object_size) {
		close(sfd);
		return erofs_err(log, -ESTALE,
				 "%s: %" PRIu64 " bytes, expected %" PRIu64,
				 src, (uint64_t)sb.st_size, ck->object_size);
	}
	if (!erofs_cookie_size_fits(t, ck, ck->object_size)) {
		close(sfd);
		return erofs_err(log, -EINVAL,
				 "%s: %" PRIu64 " bytes, but the device table "
				 "gives device %u %" PRIu32
				 " blocks of %" PRIu32,
				 src, ck->object_size, ck->device_id,
				 ck->device_blocks, t->blksz);
	}
	ffd = open_dir_at(vfd, ck->fanout, final, false, false, log);
	if (ffd < 0) {
		close(sfd);
		return ffd;
	}
	/* a short temporary name: cooked names may already be 255 bytes */
	dfd = create_temp_at(ffd, tmp, sizeof(tmp));
	if (dfd < 0) {
		err = erofs_err(log, dfd, "cannot create a file in %.*s",
				(int)(strrchr(final, '/') - final), final);
		close(sfd);
		close(ffd);
		return err;
	}
	err = copy_object(dfd, sfd, ck->object_size, src, tmp, log);
	close(sfd);
	erofs_cookie_data_xattr(ck->object_size, xattr);
	if (!err && fsetxattr(dfd, EROFS_CACHE_XATTR, xattr, sizeof(xattr), 0))
		err = erofs_err(log, -errno, "%s: cannot set %s", tmp,
				EROFS_CACHE_XATTR);
	if (!err && fchmod(dfd, 0600) < 0)
		err = erofs_err(log, -errno, "%s: chmod", tmp);
	if (!err && fsync(dfd) < 0)
		err = erofs_err(log, -errno, "%s: sync", tmp);
	if (close(dfd) < 0 && !err)
		err = erofs_err(log, -errno, "%s: close", tmp);
	/* renameat replaces whatever has the name, a symlink included */
	if (!err && renameat(ffd, tmp, ffd, ck->name) < 0)
		err = erofs_err(log, -errno, "cannot rename %s to %s", tmp,
				final);
	if (err)
		unlinkat(ffd, tmp, 0);
	else
		err = sync_fd(ffd, final, log);
	close(ffd);
	if (!err)
		erofs_info(log, "seeded %s (%" PRIu64 " bytes) from %s",
			   ck->path, ck->object_size, src);
	return err;
}

int erofs_cache_seed(const char *cache_dir, const struct erofs_cookie_table *t,
		     const char *const *sources, const struct erofs_log *log)
{
	int root, vfd, err;

	for (unsigned int i = 0; i < t->nr; i++) {
		if (!sources[i])
			return erofs_err(log, -EINVAL,
					 "device %u: no source file", i);
		if (t->cookies[i].object_size == EROFS_COOKIE_SIZE_UNKNOWN)
			return erofs_err(log, -EINVAL,
					 "device %u: object size unknown", i);
		if (t->cookies[i].object_size > EROFS_CACHE_MAX_OBJECT)
			return erofs_err(log, -EFBIG,
					 "device %u: %" PRIu64 " bytes is too "
					 "large",
					 i, t->cookies[i].object_size);
	}
	err = erofs_cache_probe_bound(cache_dir, log);
	if (err)
		return err;
	err = make_dir(cache_dir, log);
	if (err)
		return err;
	root = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return erofs_err(log, -errno, "cache directory %s", cache_dir);
	vfd = seed_layout(root, cache_dir, t, log);
	close(root);
	if (vfd < 0)
		return vfd;
	for (unsigned int i = 0; !err && i < t->nr; i++)
		err = seed_object(cache_dir, vfd, t, &t->cookies[i], sources[i],
				  log);
	/* make the new names durable: fan-out dirs (above), the volume dir */
	if (!err)
		err = sync_fd(vfd, t->vol.dir, log);
	close(vfd);
	return err;
}

void erofs_cache_report_print(FILE *f, const char *cache_dir,
			      const struct erofs_cookie_table *t,
			      const struct erofs_cache_report *rep)
{
	fprintf(f, "cache dir:  %s\n", cache_dir);
	fprintf(f, "volume dir: cache/%s (%s, xattr %s)\n", t->vol.dir,
		rep->volume_exists ? "present" : "missing",
		xattr_state_names[rep->volume_xattr]);
	fprintf(f, "%-4s %-9s %-7s %-13s %-14s %-14s %-7s %s\n", "DEV", "ROLE",
		"FILE", "XATTR", "PRESENT", "NEEDED", "PCT", "CACHE_PATH");
	for (unsigned int i = 0; i < rep->nr; i++) {
		const struct erofs_cache_status *st = &rep->st[i];
		const struct erofs_cookie *ck = &t->cookies[i];
		char pct[16] = "-";

		if (st->needed)
			snprintf(pct, sizeof(pct), "%.1f%%",
				 100.0 * st->present / st->needed);
		else if (st->complete)
			snprintf(pct, sizeof(pct), "100.0%%");
		fprintf(f,
			"%-4u %-9s %-7s %-13s %-14" PRIu64 " %-14" PRIu64
			" %-7s %s\n",
			ck->device_id, ck->device_id ? "blob" : "bootstrap",
			st->exists ? "yes" : "no", xattr_state_names[st->xattr],
			st->present, st->needed, pct, ck->path);
	}
	fprintf(f, "status: %s\n",
		rep->complete ? "fully cached" : "NOT fully cached");
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * A local blob directory as a fetch source: object path P is the file DIR/P.
 * Paths are resolved below a directory fd (never through the process cwd,
 * which the daemon changes for cachefiles' cull/inuse commands).
 *
 * What is copied out is dropped from the source file's page cache: the
 * cache file it went to is the copy that will be read, and keeping both
 * would hold every fetched byte in memory twice (for a cold 1 GiB blob,
 * a third more page-cache churn than a plain mount of it).  Pages that are
 * mapped somewhere stay (posix_fadvise(2) leaves those alone).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "erofs/fetch.h"

struct source_dir {
	int dirfd;
};

/*
 * A regular file below the directory, opened without blocking (a FIFO
 * would hang the open, and a read of it would wait forever); anything
 * else is refused naming it.  The fd, or -errno.
 */
static int dir_open(struct erofs_source *src, const char *path, uint64_t *size)
{
	struct source_dir *sd = src->priv;
	struct stat st;
	int fd, err;

	if (!*path || path[0] == '/' || strstr(path, "../") ||
	    !strcmp(path, "..") ||
	    (strlen(path) >= 3 && !strcmp(path + strlen(path) - 3, "/..")))
		return -ENOENT;
	fd = openat(sd->dirfd, path,
		    O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = erofs_err(src->log, -errno, "%s/%s", src->desc, path);
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return erofs_err(src->log, -EINVAL, "%s/%s: not a regular file",
				 src->desc, path);
	}
	*size = st.st_size;
	return fd;
}

static int dir_size(struct erofs_source *src, const char *path, uint64_t *size)
{
	int fd = dir_open(src, path, size);

	if (fd < 0)
		return fd;
	close(fd);
	return 0;
}

static void drop_cached(int fd, uint64_t off, size_t len)
{
	/* advice only: nothing to do when it is not taken */
	posix_fadvise(fd, off, len, POSIX_FADV_DONTNEED);
}

static int dir_read(struct erofs_source *src, const char *path, uint64_t off,
		    size_t len, void *buf)
{
	uint64_t size;
	int fd = dir_open(src, path, &size);
	ssize_t n;

	if (fd < 0)
		return fd;
	n = erofs_pread_all(fd, buf, len, off);
	if (n > 0)
		drop_cached(fd, off, n);
	close(fd);
	if (n < 0)
		return n;
	if ((size_t)n != len) {
		erofs_warn(src->log,
			   "%s/%s: short read at %" PRIu64 ": %zd of %zu bytes",
			   src->desc, path, off, n, len);
		return -EIO;
	}
	return 0;
}

static int dir_copy(struct erofs_source *src, const char *path, uint64_t off,
		    size_t len, int dst)
{
	uint64_t size;
	int fd = dir_open(src, path, &size), err = 0;
	loff_t in = off, out = off;
	size_t left = len;

	if (fd < 0)
		return fd;
	if (off > size || len > size - off) {
		erofs_warn(src->log,
			   "%s/%s: short read at %" PRIu64 ": %" PRIu64
			   " bytes there, %zu asked",
			   src->desc, path, off, off > size ? 0 : size - off,
			   len);
		close(fd);
		return -EIO;
	}
	while (left) {
		ssize_t n = copy_file_range(fd, &in, dst, &out, left, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = -errno;
			/* not for these two files: the caller reads */
			if (err == -EXDEV || err == -EINVAL ||
			    err == -EOPNOTSUPP || err == -ENOSYS ||
			    err == -EBADF)
				err = -EOPNOTSUPP;
			break;
		}
		if (!n) {
			erofs_warn(src->log,
				   "%s/%s: short read at %" PRIu64
				   ": the file shrank",
				   src->desc, path, (uint64_t)in);
			err = -EIO;
			break;
		}
		left -= n;
	}
	if (!err)
		drop_cached(fd, off, len);
	close(fd);
	return err;
}

static void dir_destroy(struct erofs_source *src)
{
	struct source_dir *sd = src->priv;

	close(sd->dirfd);
	free(sd);
	free(src->desc);
	free(src);
}

static const struct erofs_source_ops dir_ops = {
    .size = dir_size,
    .read = dir_read,
    .copy = dir_copy,
    .destroy = dir_destroy,
};

int erofs_source_dir_create(const char *dir, const struct erofs_log *log,
			    struct erofs_source **out)
{
	struct erofs_source *src = calloc(1, sizeof(*src));
	struct source_dir *sd = calloc(1, sizeof(*sd));

	if (!src || !sd || !(src->desc = strdup(dir))) {
		free(src);
		free(sd);
		return erofs_err(log, -ENOMEM, "source %s", dir);
	}
	sd->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sd->dirfd < 0) {
		int err = -errno;

		free(src->desc);
		free(src);
		free(sd);
		return erofs_err(log, err, "source directory %s", dir);
	}
	src->ops = &dir_ops;
	src->local = true;
	src->log = log;
	src->priv = sd;
	*out = src;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel's read-ahead window for one mounted EROFS file system.
 *
 * A file-backed EROFS mount has a backing-device info of its own
 * (/sys/class/bdi/erofs-N), and its read_ahead_kb bounds how much a
 * sequential reader asks of the blob files in one go.  On a lazy mount each
 * such request of a blob still being filled costs one fanotify round trip
 * through the daemon, so a wider window means fewer, larger requests.  Once
 * the blobs are complete there are no round trips left, and the daemon puts
 * the kernel's own window back: from then on the mount reads like a plain
 * one.  The kernel names the mount's sysfs directory after that bdi, and
 * FS_IOC_GETFSSYSFSPATH (Linux 6.10+) tells which it is: no guessing from
 * what appeared in sysfs around mount(2).  The N of "erofs-N" comes from a
 * counter that only grows while the kernel runs, so a bdi name never stands
 * for two mounts in one boot.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/fs.h>

#include "erofs/mount.h"
#include "erofs/util.h"

#ifndef FS_IOC_GETFSSYSFSPATH
struct fs_sysfs_path {
	__u8 len;
	__u8 name[128];
};
#define FS_IOC_GETFSSYSFSPATH _IOR(0x15, 1, struct fs_sysfs_path)
#endif

bool erofs_bdi_name_ok(const char *bdi)
{
	size_t n = strlen(bdi);

	for (const char *p = bdi; *p; p++)
		if (*p <= ' ' || *p == '/' || *p == 0x7f)
			return false;
	return n && n < EROFS_BDI_NAME_MAX && strcmp(bdi, ".") &&
	       strcmp(bdi, "..");
}

int erofs_mount_bdi(const char *mnt, char *name, size_t size,
		    const struct erofs_log *log)
{
	struct fs_sysfs_path p = {0};
	const char *s;
	int fd, err = 0;

	fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return erofs_err(log, -errno, "%s", mnt);
	if (ioctl(fd, FS_IOC_GETFSSYSFSPATH, &p) < 0)
		err = -errno;
	close(fd);
	if (err == -ENOTTY || err == -EINVAL || err == -EOPNOTSUPP)
		return -EOPNOTSUPP; /* before 6.10 */
	if (err)
		return erofs_err(log, err, "%s: FS_IOC_GETFSSYSFSPATH", mnt);
	if (!p.len || p.len >= sizeof(p.name))
		return erofs_err(log, -EPROTO,
				 "%s: the kernel's sysfs path has length %u",
				 mnt, p.len);
	p.name[p.len] = '\0';
	/* "erofs/NAME": NAME is one path component */
	s = strchr((char *)p.name, '/');
	s = s ? s + 1 : (char *)p.name;
	if (!erofs_bdi_name_ok(s) || strlen(s) >= size)
		return erofs_err(log, -EPROTO, "%s: odd sysfs path \"%s\"", mnt,
				 (char *)p.name);
	strcpy(name, s);
	return 0;
}

static int bdi_ra_open(const char *bdi, int flags, const struct erofs_log *log)
{
	char path[PATH_MAX];
	int fd;

	if (!erofs_bdi_name_ok(bdi))
		return erofs_err(log, -EINVAL, "bdi name \"%s\"", bdi);
	snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", bdi);
	fd = open(path, flags | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	/*
	 * A mount whose sysfs name is not its bdi (fscache mode names it
	 * after the fsid), or one that is gone: nothing to do here.
	 */
	if (errno == ENOENT)
		return -ENOENT;
	return erofs_err(log, -errno, "%s", path);
}

int erofs_bdi_get_readahead(const char *bdi, uint64_t *bytes,
			    const struct erofs_log *log)
{
	char val[32];
	uint64_t kb;
	ssize_t n;
	int fd = bdi_ra_open(bdi, O_RDONLY, log);

	if (fd < 0)
		return fd;
	n = read(fd, val, sizeof(val) - 1);
	close(fd);
	if (n <= 0)
		return erofs_err(log, n < 0 ? -errno : -EIO,
				 "/sys/class/bdi/%s/read_ahead_kb", bdi);
	val[n] = '\0';
	val[strcspn(val, "\n")] = '\0';
	if (erofs_parse_u64(val, UINT64_MAX >> 10, &kb))
		return erofs_err(log, -EPROTO,
				 "/sys/class/bdi/%s/read_ahead_kb: \"%s\"", bdi,
				 val);
	*bytes = kb << 10;
	return 0;
}

int erofs_bdi_set_readahead(const char *bdi, uint64_t bytes,
			    const struct erofs_log *log)
{
	char val[32];
	ssize_t w;
	int n, err = 0, fd = bdi_ra_open(bdi, O_WRONLY, log);

	if (fd < 0)
		return fd;
	n = snprintf(val, sizeof(val), "%llu",
		     (unsigned long long)(bytes >> 10));
	w = write(fd, val, n);
	if (w != n)
		err = erofs_err(log, w < 0 ? -errno : -EIO,
				"/sys/class/bdi/%s/read_ahead_kb: writing %s",
				bdi, val);
	close(fd);
	return err;
}

int erofs_mount_set_readahead(const char *mnt, uint64_t bytes, char *bdi,
			      size_t bdi_size, uint64_t *old,
			      const struct erofs_log *log)
{
	char name[EROFS_BDI_NAME_MAX];
	uint64_t was;
	int err = erofs_mount_bdi(mnt, name, sizeof(name), log);

	if (!err)
		err = erofs_bdi_get_readahead(name, &was, log);
	if (!err)
		err = erofs_bdi_set_readahead(name, bytes, log);
	if (err == -ENOENT)
		return -EOPNOTSUPP;
	if (err)
		return err;
	erofs_dbg(log, "%s: read_ahead_kb %llu (%s), was %llu", mnt,
		  (unsigned long long)(bytes >> 10), name,
		  (unsigned long long)(was >> 10));
	if (bdi && (size_t)snprintf(bdi, bdi_size, "%s", name) >= bdi_size)
		return -ENAMETOOLONG;
	if (old)
		*old = was;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel's read-ahead window for one mounted EROFS file system.
 *
 * A file-backed EROFS mount has a backing-device info of its own
 * (/sys/class/bdi/erofs-N), and its read_ahead_kb bounds how much a
 * sequential reader asks of the blob files in one go.  On a lazy mount each
 * such request of a blob still being filled costs one fanotify round trip
 * through the daemon, so a wider window means fewer, larger requests.  The
 * kernel names the mount's sysfs directory after that bdi, and
 * FS_IOC_GETFSSYSFSPATH (Linux 6.10+) tells which it is: no guessing from
 * what appeared in sysfs around mount(2).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
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

/* the bdi name of the EROFS mount at @mnt into @name */
static int mount_bdi_name(const char *mnt, char *name, size_t size,
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
	if (!*s || strchr(s, '/') || !strcmp(s, ".") || !strcmp(s, "..") ||
	    strlen(s) >= size)
		return erofs_err(log, -EPROTO, "%s: odd sysfs path \"%s\"", mnt,
				 (char *)p.name);
	strcpy(name, s);
	return 0;
}

int erofs_mount_set_readahead(const char *mnt, uint64_t bytes,
			      const struct erofs_log *log)
{
	char name[128], path[PATH_MAX], val[32];
	ssize_t w;
	int fd, n, err;

	err = mount_bdi_name(mnt, name, sizeof(name), log);
	if (err)
		return err;
	snprintf(path, sizeof(path), "/sys/class/bdi/%s/read_ahead_kb", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		/*
		 * Mounts whose sysfs name is not their bdi (fscache mode
		 * names it after the fsid): nothing to set here.
		 */
		if (errno == ENOENT)
			return -EOPNOTSUPP;
		return erofs_err(log, -errno, "%s", path);
	}
	n = snprintf(val, sizeof(val), "%llu",
		     (unsigned long long)(bytes >> 10));
	w = write(fd, val, n);
	if (w != n)
		err = erofs_err(log, w < 0 ? -errno : -EIO, "%s: writing %s",
				path, val);
	close(fd);
	if (!err)
		erofs_dbg(log, "%s: read_ahead_kb %s (%s)", mnt, val, name);
	return err;
}

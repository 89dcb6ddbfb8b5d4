// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fanotify pre-content helpers shared by the backend, the supervisor and
 * erofs-mount: feature probe, group creation, the filesystem check of
 * rule 2 (only ext4, xfs and btrfs take pre-content marks), and the table
 * of read-but-unanswered events a supervisor answers after a crash, with
 * the sweep that finds those a daemon read but did not record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/statfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "liberofs_fanotify.h"

bool erofs_fanotify_supported(void)
{
	struct utsname u;
	unsigned int major = 0, minor = 0;
	int fd;

	/* the class exists since 2.6.37; FAN_PRE_ACCESS since 6.14 */
	if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2 ||
	    major < 6 || (major == 6 && minor < 14))
		return false;
	fd = fanotify_init(FAN_CLASS_PRE_CONTENT | FAN_CLOEXEC,
			   O_RDWR | O_LARGEFILE | O_CLOEXEC);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int erofs_fanotify_group(bool inherit, const struct erofs_log *log)
{
	int fd =
	    fanotify_init(FAN_CLASS_PRE_CONTENT | FAN_UNLIMITED_QUEUE |
			      FAN_NONBLOCK | (inherit ? 0 : FAN_CLOEXEC),
			  O_RDWR | O_LARGEFILE | (inherit ? 0 : O_CLOEXEC));

	if (fd < 0)
		return erofs_err(log, -errno,
				 "fanotify_init (pre-content class, "
				 "unlimited queue; needs CAP_SYS_ADMIN)");
	return fd;
}

static const struct {
	unsigned long magic;
	const char *name;
	bool ok;
} fs_names[] = {
    {0xEF53, "ext4", true},	      {0x58465342, "xfs", true},
    {0x9123683E, "btrfs", true},      {0x01021994, "tmpfs", false},
    {0x858458f6, "ramfs", false},     {0x9fa0, "proc", false},
    {0x62656572, "sysfs", false},     {0xE0F5E1E2, "erofs", false},
    {0x794c7630, "overlayfs", false}, {0x6969, "nfs", false},
    {0x65735546, "fuse", false},      {0x73717368, "squashfs", false},
    {0xF2F52010, "f2fs", false},      {0x2fc12fc1, "zfs", false},
    {0x4d44, "vfat", false},
};

int erofs_fanotify_check_fs(int fd, const char *path,
			    const struct erofs_log *log)
{
	struct statfs sf;

	if (fstatfs(fd, &sf))
		return erofs_err(log, -errno, "%s", path);
	for (unsigned int i = 0; i < sizeof(fs_names) / sizeof(fs_names[0]);
	     i++) {
		if ((unsigned long)sf.f_type != fs_names[i].magic)
			continue;
		if (fs_names[i].ok)
			return 0;
		return erofs_fail(log, -EOPNOTSUPP,
				  "%s is on %s, which does not allow "
				  "fanotify pre-content marks: put the cache "
				  "directory on ext4, xfs or btrfs",
				  path, fs_names[i].name);
	}
	return erofs_fail(log, -EOPNOTSUPP,
			  "%s is on a filesystem of type 0x%lx, which is not "
			  "known to allow fanotify pre-content marks: put the "
			  "cache directory on ext4, xfs or btrfs",
			  path, (unsigned long)sf.f_type);
}

int erofs_fan_pending_create(const struct erofs_log *log)
{
	int fd = memfd_create("erofs-fetchd-pending", 0);

	if (fd < 0)
		return erofs_err(log, -errno, "memfd_create");
	if (ftruncate(fd, EROFS_FAN_PENDING_SIZE)) {
		int err = erofs_err(log, -errno, "pending-event table");

		close(fd);
		return err;
	}
	return fd;
}

uint64_t *erofs_fan_pending_map(int fd, const struct erofs_log *log)
{
	void *p = mmap(NULL, EROFS_FAN_PENDING_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, fd, 0);

	if (p == MAP_FAILED) {
		erofs_err(log, -errno, "pending-event table (fd %d)", fd);
		return NULL;
	}
	return p;
}

void erofs_fan_pending_unmap(uint64_t *map)
{
	if (map)
		munmap(map, EROFS_FAN_PENDING_SIZE);
}

void erofs_fan_pending_set(uint64_t *map, int fd)
{
	if (map && fd >= 0 && (unsigned int)fd < EROFS_FAN_PENDING_FDS)
		__atomic_fetch_or(&map[fd / 64], 1ull << (fd % 64),
				  __ATOMIC_SEQ_CST);
}

void erofs_fan_pending_clear(uint64_t *map, int fd)
{
	if (map && fd >= 0 && (unsigned int)fd < EROFS_FAN_PENDING_FDS)
		__atomic_fetch_and(&map[fd / 64], ~(1ull << (fd % 64)),
				   __ATOMIC_SEQ_CST);
}

int erofs_fan_respond(int groupfd, int fd, uint32_t response)
{
	struct fanotify_response r = {.fd = fd, .response = response};
	ssize_t n;

	do {
		n = write(groupfd, &r, sizeof(r));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(r) ? 0 : -EIO;
}

unsigned int erofs_fan_pending_fail_all(uint64_t *map, int groupfd)
{
	unsigned int n = 0;

	for (unsigned int w = 0; w < EROFS_FAN_PENDING_FDS / 64; w++) {
		uint64_t bits =
		    __atomic_exchange_n(&map[w], 0, __ATOMIC_SEQ_CST);

		while (bits) {
			int b = __builtin_ctzll(bits);

			bits &= bits - 1;
			if (!erofs_fan_respond(groupfd, w * 64 + b,
					       FAN_DENY_ERRNO(EIO)))
				n++;
		}
	}
	return n;
}

/*
 * A permission event a reader has read waits on the group's access list
 * under the event fd number the reader got, until a response names that
 * number or the group is released; the reader's death closes the fd but
 * neither answers nor forgets the event, and any holder of the group may
 * answer it by number (a number with no such event is -ENOENT).  Event fd
 * numbers are below the reader's RLIMIT_NOFILE hard limit, which our
 * daemons never change and inherit from their supervisor (docs/
 * kernel-facts.md §32).  So once the reader is dead and
 * before a successor reads, trying every number below the hard limit (at
 * most EROFS_FAN_PENDING_FDS) answers exactly the events it left, recorded
 * or not.
 */
unsigned int erofs_fan_pending_sweep(int groupfd)
{
	struct rlimit rl;
	unsigned int n = 0, limit = EROFS_FAN_PENDING_FDS;

	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max < limit)
		limit = rl.rlim_max;
	for (unsigned int fd = 0; fd < limit; fd++)
		if (!erofs_fan_respond(groupfd, fd, FAN_DENY_ERRNO(EIO)))
			n++;
	return n;
}

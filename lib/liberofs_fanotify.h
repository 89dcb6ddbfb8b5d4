/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fanotify pre-content hooks (Linux 6.14+): the uapi constants Debian 12's
 * installed headers (6.1) lack, defined here and nowhere else, checked
 * against include/uapi/linux/fanotify.h of Linux 6.14+:
 *   FAN_PRE_ACCESS 0x00100000, FAN_EVENT_INFO_TYPE_RANGE 6,
 *   struct fanotify_event_info_range {hdr; __u32 pad; __u64 offset;
 *   __u64 count;}, FAN_DENY_ERRNO(err) = FAN_DENY | (err & 0xff) << 24.
 * Plus the helpers the backend, the supervisor and erofs-mount share.
 */
#ifndef LIBEROFS_FANOTIFY_H
#define LIBEROFS_FANOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/fanotify.h>

#include "erofs/log.h"

#ifndef FAN_PRE_ACCESS
#define FAN_PRE_ACCESS 0x00100000
#endif
#ifndef FAN_EVENT_INFO_TYPE_RANGE
#define FAN_EVENT_INFO_TYPE_RANGE 6
#endif
#ifndef FAN_ERRNO_BITS
#define FAN_ERRNO_BITS	8
#define FAN_ERRNO_SHIFT (32 - FAN_ERRNO_BITS)
#define FAN_ERRNO_MASK	((1 << FAN_ERRNO_BITS) - 1)
#define FAN_DENY_ERRNO(err)                                                    \
	(FAN_DENY | ((((uint32_t)(err)) & FAN_ERRNO_MASK) << FAN_ERRNO_SHIFT))
#endif

struct erofs_fan_range {
	struct fanotify_event_info_header hdr;
	uint32_t pad;
	uint64_t offset;
	uint64_t count;
};

/* the running kernel is 6.14+ and gives us a pre-content group */
bool erofs_fanotify_supported(void);

/* a new pre-content group with an unlimited queue; the fd or -errno
 * (logged).  @inherit: no close-on-exec (the supervisor's copy) */
int erofs_fanotify_group(bool inherit, const struct erofs_log *log);

/*
 * 0 when files in the directory of @fd may carry pre-content marks (ext4,
 * xfs, btrfs), else -EOPNOTSUPP with a message naming the filesystem.
 */
int erofs_fanotify_check_fs(int fd, const char *path,
			    const struct erofs_log *log);

/*
 * The table of events read but not answered yet, shared by a daemon and its
 * supervisor through a memfd: one bit per event fd number.  A daemon sets
 * the bit right after read() and clears it after its answer; when it dies,
 * the supervisor answers what is left with EIO, and what it had read but
 * not recorded yet through erofs_fan_pending_sweep().
 */
#define EROFS_FAN_PENDING_FDS  (1u << 20)
#define EROFS_FAN_PENDING_SIZE (EROFS_FAN_PENDING_FDS / 8)

int erofs_fan_pending_create(const struct erofs_log *log);
uint64_t *erofs_fan_pending_map(int fd, const struct erofs_log *log);
void erofs_fan_pending_unmap(uint64_t *map);
void erofs_fan_pending_set(uint64_t *map, int fd);
void erofs_fan_pending_clear(uint64_t *map, int fd);
/* answer every pending event with FAN_DENY_ERRNO(EIO); how many */
unsigned int erofs_fan_pending_fail_all(uint64_t *map, int groupfd);
/*
 * After the group's reader died and before another reads: answer with
 * FAN_DENY_ERRNO(EIO) every event it read and left, also those it had not
 * recorded in the table yet (every event fd number it could have had is
 * tried); how many.
 */
unsigned int erofs_fan_pending_sweep(int groupfd);

/* answer one event */
int erofs_fan_respond(int groupfd, int fd, uint32_t response);

#endif

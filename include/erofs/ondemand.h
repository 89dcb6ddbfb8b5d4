/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cachefiles on-demand protocol (Linux 5.19+, failover 6.8+) as a thin
 * adapter over the fetch core: message parsing and validation, the OPEN /
 * READ / CLOSE handlers, the object table, device commands (dir, tag, bind,
 * copen, restore, inuse, cull) and cache garbage collection.
 *
 * Everything talks to the device through struct erofs_od_dev_ops, so unit
 * tests drive the handlers with a simulated device; erofs_od_kdev_ops is the
 * real /dev/cachefiles.
 */
#ifndef EROFS_ONDEMAND_H
#define EROFS_ONDEMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "erofs/fetch.h"
#include "erofs/log.h"

/* include/uapi/linux/cachefiles.h; all message fields are host-endian */
#define EROFS_OD_OP_OPEN	   0u
#define EROFS_OD_OP_CLOSE	   1u
#define EROFS_OD_OP_READ	   2u
#define EROFS_OD_MSG_HDR_SIZE	   16u	       /* struct cachefiles_msg */
#define EROFS_OD_OPEN_HDR_SIZE	   16u	       /* struct cachefiles_open */
#define EROFS_OD_READ_SIZE	   16u	       /* struct cachefiles_read */
#define EROFS_OD_MSG_MAX_SIZE	   1024u       /* CACHEFILES_MSG_MAX_SIZE */
#define EROFS_OD_MSG_GROW_LIMIT	   65536u      /* largest buffer on EMSGSIZE */
#define EROFS_OD_IOC_READ_COMPLETE 0x40049801u /* _IOW(0x98, 1, int) */
#define EROFS_OD_KEY_MAX	   255u
#define EROFS_OD_CMD_MAX	   4095u /* PAGE_SIZE - 1 */

struct erofs_od_msg {
	uint32_t msg_id;
	uint32_t opcode;
	uint32_t len;
	uint32_t object_id;
	union {
		struct {
			uint32_t volume_key_size; /* incl. the NUL */
			uint32_t cookie_key_size;
			uint32_t fd;
			uint32_t flags;
			const char *volume_key;	   /* NUL-terminated */
			const uint8_t *cookie_key; /* not terminated */
		} open;
		struct {
			uint64_t off;
			uint64_t len;
		} read;
	};
};

/*
 * Parse and validate one message of @n bytes.  0, or -EBADMSG (malformed:
 * short, length field mismatch, bad key sizes, volume key without its NUL,
 * bad READ range) or -EOPNOTSUPP (unknown opcode), each with a log line
 * naming msg_id, opcode and length.  Whatever header fields could be read
 * are filled in even on failure; *@has_fd tells whether msg->open.fd is an
 * fd the kernel installed that the caller must close.
 */
int erofs_od_parse(const void *buf, size_t n, struct erofs_od_msg *msg,
		   bool *has_fd, const struct erofs_log *log);

struct erofs_od_dev_ops {
	/* one message: bytes, 0 when none is pending, or -errno (-EMSGSIZE
	 * when @size is too small: the message stays queued) */
	ssize_t (*read_msg)(void *dev, void *buf, size_t size);
	/* one command (no NUL, no newline needed); 0 or -errno */
	int (*write_cmd)(void *dev, const char *cmd);
	/* READ_COMPLETE ioctl on an object's fd; 0 or -errno.  Called from
	 * worker threads. */
	int (*complete_read)(void *dev, int fd, uint32_t msg_id);
	/* close an fd the kernel gave us that no object took over */
	void (*close_fd)(void *dev, int fd);
};

/* the real device: @dev points to a struct erofs_od_kdev */
struct erofs_od_kdev {
	int fd;
};
extern const struct erofs_od_dev_ops erofs_od_kdev_ops;

/*
 * Which fetch core serves object @name, and where from: 0, or -ENOENT when
 * no image has it.  Without one, the core given to erofs_od_create() is
 * asked.
 */
typedef int (*erofs_od_resolve_fn)(void *arg, const char *name,
				   struct erofs_fetch **fetch,
				   struct erofs_fetch_info *info);

struct erofs_od_config {
	const struct erofs_log *log;
	bool prefetch; /* erofs_fetch_prefetch() after each OPEN */
	erofs_od_resolve_fn resolve; /* NULL: the fetch core given */
	void *resolve_arg;
};

struct erofs_od_stats {
	uint64_t msgs, opens, opens_failed, reads, reads_failed, closes;
	uint64_t malformed, unknown_object;
};

struct erofs_od;

int erofs_od_create(const struct erofs_od_config *cfg,
		    const struct erofs_od_dev_ops *ops, void *dev,
		    struct erofs_fetch *fetch, struct erofs_od **out);
/* drains the fetch core (queued READs are served and completed), then
 * closes every object; call it before erofs_fetch_destroy() */
void erofs_od_destroy(struct erofs_od *od);

/*
 * Read and handle one message: 1 when one was handled (also a malformed
 * one, which is logged and dropped), 0 when none is pending, -errno when
 * the device failed (fatal).  -EMSGSIZE grows the buffer up to
 * EROFS_OD_MSG_GROW_LIMIT and retries.
 */
int erofs_od_process(struct erofs_od *od);
/* handle one message already read */
void erofs_od_handle(struct erofs_od *od, const void *buf, size_t n);

/* "dir DIR", "tag TAG" (when given), "bind ondemand" */
int erofs_od_bind(struct erofs_od *od, const char *cache_dir, const char *tag);
/* "restore": re-deliver requests a previous daemon read (6.8+) */
int erofs_od_restore(struct erofs_od *od);
/* format and send one command; 0 or -errno, logged */
__attribute__((format(printf, 2, 3))) int erofs_od_cmd(struct erofs_od *od,
						       const char *fmt, ...);

unsigned int erofs_od_nr_objects(const struct erofs_od *od);
void erofs_od_get_stats(struct erofs_od *od, struct erofs_od_stats *s);
void erofs_od_log_stats(struct erofs_od *od, const char *when);

/*
 * Garbage collection: under CACHE_DIR/cache/I* /@xx/, every data file whose
 * last use is older than @age_s seconds before @now is checked with
 * "inuse NAME" (EBUSY: skipped) and removed with "cull NAME", from a thread
 * whose private cwd is that directory, as cachefiles requires.
 * The last use is the later of the file's atime and mtime and, once a pass
 * has run, the CLOSE of its object seen by this daemon (which the pass then
 * writes to the file's atime: under relatime the kernel's own update at
 * lookup can be a day old).  Entries in CACHE_DIR/graveyard/ are deleted.
 * Returns the number of files culled, or -errno.
 */
int erofs_od_cull_old(struct erofs_od *od, const char *cache_dir,
		      uint64_t age_s, time_t now);

#endif

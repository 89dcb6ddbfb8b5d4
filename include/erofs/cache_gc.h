/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Garbage collection of a cachefiles cache directory: CACHE_DIR/cache/I<vol>
 * /@xx/<file> data files unused for longer than an age are checked with the
 * daemon's "inuse NAME" and removed with "cull NAME"; CACHE_DIR/graveyard/
 * is emptied.  cachefiles resolves those names against the working
 * directory of the writing task, so a pass runs in a thread of its own with
 * an unshared filesystem context (unshare(CLONE_FS)): the process's working
 * directory is never changed.
 */
#ifndef EROFS_CACHE_GC_H
#define EROFS_CACHE_GC_H

#include <stdint.h>
#include <time.h>

#include "erofs/log.h"

struct erofs_cache_gc_ops {
	/* "inuse NAME" relative to the cwd: 0 unused, -EBUSY in use,
	 * else -errno */
	int (*inuse)(void *arg, const char *name);
	/* "cull NAME": 0 or -errno (logged by the callee) */
	int (*cull)(void *arg, const char *name);
	/* the last use the daemon saw of file @name of volume dir @vol
	 * (its CLOSE), or 0; may be NULL */
	time_t (*last_close)(void *arg, const char *vol, const char *name);
};

/*
 * One pass.  The last use of a file is the later of its atime, its mtime
 * and last_close(); when last_close() is the latest it is written to the
 * file's atime, so that it outlives the daemon.  Returns the number of
 * files culled, or -errno (logged).  The callbacks run in the pass's own
 * thread while the caller waits.
 */
int erofs_cache_gc(const char *cache_dir, uint64_t age_s, time_t now,
		   const struct erofs_cache_gc_ops *ops, void *arg,
		   const struct erofs_log *log);

#endif

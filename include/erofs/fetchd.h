/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The cachefiles on-demand daemon as a library: open (or inherit) the
 * device, bind the cache or restore a previous binding, and serve OPEN, READ
 * and CLOSE from blob sources through the fetch core until SIGTERM, SIGINT
 * or SIGHUP; SIGUSR1 logs statistics.  Also the supervisor that holds the
 * device open and restarts a crashed daemon, and a kernel-free fetch test.
 *
 * erofs-fetchd is a thin front end of this; erofs-mount starts the same
 * daemon either in-process (erofs_fetchd_run) or as a child.
 */
#ifndef EROFS_FETCHD_H
#define EROFS_FETCHD_H

#include <stdbool.h>
#include <stdint.h>

#include "erofs/fetch.h"
#include "erofs/log.h"

#define EROFS_FETCHD_MAX_SOURCES       16u
#define EROFS_FETCHD_DEFAULT_DEVICE    "/dev/cachefiles"
#define EROFS_FETCHD_DEFAULT_CULL_INTV 600u
#define EROFS_FETCHD_DEFAULT_RESTARTS  10u

/* the strings are borrowed: they must outlive the call they are passed to */
struct erofs_fetchd_opts {
	const char *cache_dir; /* made absolute by run/supervise */
	const char *tag;       /* NULL: the kernel's default */
	const char *sources[EROFS_FETCHD_MAX_SOURCES]; /* tried in order */
	unsigned int nr_sources;
	const char *manifest; /* NULL: sizes from the sources */
	const char *fsid;     /* the manifest's bootstrap object name */
	uint64_t unit;	      /* 0: the fetch core's default */
	unsigned int workers; /* 0: EROFS_FETCH_DEFAULT_WORKERS */
	bool prefetch;	      /* fill each blob in the background after OPEN */
	uint64_t stats_interval; /* seconds; 0: no periodic statistics */
	uint64_t cull_age;	 /* seconds; 0: no garbage collection */
	uint64_t cull_interval;	 /* seconds between culls; > 0 */
	bool restore;		 /* send "restore" instead of binding */
	int devfd;		 /* inherited device fd; -1: open @device */
	const char *device;
	struct erofs_http_opts http;
	const char *pidfile;	   /* NULL: none */
	unsigned int max_restarts; /* supervisor only */
};

void erofs_fetchd_opts_init(struct erofs_fetchd_opts *o);

/* add one source; -EINVAL (logged) past EROFS_FETCHD_MAX_SOURCES */
int erofs_fetchd_add_source(struct erofs_fetchd_opts *o, const char *src,
			    const struct erofs_log *log);

/*
 * Run the daemon in the calling process until a stop signal.  Blocks
 * SIGTERM, SIGINT, SIGHUP and SIGUSR1 in the calling thread (they are read
 * through a signalfd) and ignores SIGPIPE.  0 after a clean stop, else a
 * negative errno (already logged).  The pidfile, when asked for, is written
 * once the cache is bound and removed after a clean stop.
 */
int erofs_fetchd_run(const struct erofs_fetchd_opts *o,
		     const struct erofs_log *log);

/*
 * The supervisor: open @o->device (kept open and inherited), bind the cache,
 * write the pidfile, then run the daemon as a child process and restart it
 * (at most @o->max_restarts times) whenever it dies other than by a clean
 * exit.  @argv is the daemon's erofs-fetchd command line (without the
 * supervisor's --supervise, --max-restarts and --pidfile): the child runs
 * it with "--devfd N --restore" appended, as execv(@exec_path) (NULL:
 * @argv[0]) and
 * failing that execvp(@argv[0]).  Stop signals are forwarded to the child
 * and end supervision; SIGUSR1 is forwarded.  0 after a clean stop, else a
 * negative errno (logged).
 */
int erofs_fetchd_supervise(const struct erofs_fetchd_opts *o,
			   const char *exec_path, char *const argv[],
			   const struct erofs_log *log);

/*
 * Fetch object @name through the sources and the fetch core into the file
 * @out (written as a temporary, renamed on success), without a kernel: the
 * whole object when @length is 0, else [@offset, @offset + @length).  The
 * number of bytes written is returned in @fetched.  0 or a negative errno
 * (logged).
 */
int erofs_fetchd_fetch_test(const struct erofs_fetchd_opts *o, const char *name,
			    const char *out, uint64_t offset, uint64_t length,
			    uint64_t *fetched, const struct erofs_log *log);

#endif

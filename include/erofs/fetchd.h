/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The on-demand daemon as a library: one serving core with a stop handle,
 * two kernel backends behind one interface (cachefiles on-demand mode,
 * Linux 5.19+; fanotify pre-content hooks on file-backed mounts, Linux
 * 6.14+), the images it serves (a manifest or a blob directory, each with
 * its own sources and fetch core), a control socket through which
 * erofs-mount adds and removes images, the supervisor that holds the kernel
 * handle and restarts a crashed daemon, and a kernel-free fetch test.
 *
 * The library never touches signal dispositions or the working directory:
 * a program installs its own handlers and calls erofs_fetchd_stop() /
 * erofs_fetchd_poke_stats() (both async-signal-safe) from them.
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
/* the control socket below the cache directory */
#define EROFS_FETCHD_CONTROL_NAME ".erofs-fetchd.sock"
/* where the fanotify backend keeps its sparse blobs, below the cache dir */
#define EROFS_FETCHD_BLOB_DIR "blobs"

enum erofs_fetchd_backend {
	EROFS_FETCHD_AUTO = 0,	 /* fanotify when the kernel has it */
	EROFS_FETCHD_CACHEFILES, /* /dev/cachefiles on-demand mode */
	EROFS_FETCHD_FANOTIFY,	 /* pre-content hooks, file-backed mounts */
};

/* "auto", "cachefiles", "fanotify"; -EINVAL for anything else */
int erofs_fetchd_parse_backend(const char *s, enum erofs_fetchd_backend *out);
const char *erofs_fetchd_backend_name(enum erofs_fetchd_backend b);
/*
 * What @b resolves to on the running kernel: AUTO becomes FANOTIFY when a
 * pre-content fanotify group can be created, else CACHEFILES when
 * /dev/cachefiles exists, else -EOPNOTSUPP.
 */
int erofs_fetchd_resolve_backend(enum erofs_fetchd_backend b,
				 const char *device,
				 enum erofs_fetchd_backend *out);

/* the strings are borrowed: they must outlive the call they are passed to */
struct erofs_fetchd_opts {
	enum erofs_fetchd_backend backend;
	const char *cache_dir; /* made absolute by the core */
	const char *sources[EROFS_FETCHD_MAX_SOURCES]; /* tried in order */
	unsigned int nr_sources; /* 0: no image at start (erofs-mount) */
	const char *manifest;	 /* NULL: sizes from the sources */
	const char *fsid;	 /* the manifest's bootstrap object name */
	uint64_t unit;		 /* 0: the fetch core's default */
	unsigned int workers;	 /* 0: EROFS_FETCH_DEFAULT_WORKERS */
	bool prefetch;		 /* fill each blob in the background */
	uint64_t readahead;	 /* largest read-ahead window; 0: default */
	bool no_readahead;	 /* --readahead 0 */
	uint64_t stats_interval; /* seconds; 0: no periodic statistics */
	bool control;		 /* listen on CACHE_DIR/.erofs-fetchd.sock */
	bool exit_when_idle;	 /* stop once the last image is removed */
	struct erofs_http_opts http;
	const char *pidfile;	   /* NULL: none */
	unsigned int max_restarts; /* supervisor only */

	struct {
		const char *tag;	/* NULL: the kernel's default */
		uint64_t cull_age;	/* seconds; 0: no garbage collection */
		uint64_t cull_interval; /* seconds between culls; > 0 */
		bool restore;		/* send "restore" instead of binding */
		int devfd;		/* inherited device fd; -1: open */
		const char *device;
	} cachefiles;
	struct {
		int groupfd;   /* inherited group fd; -1: create one */
		int pendingfd; /* the supervisor's table of events read */
		/* the supervisor answered what a dead predecessor left: no
		 * sweep of the inherited group at start */
		bool answered;
	} fanotify;
};

void erofs_fetchd_opts_init(struct erofs_fetchd_opts *o);

/* add one source; -EINVAL (logged) past EROFS_FETCHD_MAX_SOURCES */
int erofs_fetchd_add_source(struct erofs_fetchd_opts *o, const char *src,
			    const struct erofs_log *log);

struct erofs_fetchd;

/*
 * Set up the serving core: resolve the backend, open the sources and the
 * manifest (the image given by the options, if any), open or inherit the
 * kernel handle and bind (cachefiles) or mark the blobs (fanotify), open the
 * control socket, write the pidfile.  Threads are started (the fetch
 * workers); nothing process-wide is changed.  0 or a negative errno (logged).
 */
int erofs_fetchd_create(const struct erofs_fetchd_opts *o,
			const struct erofs_log *log, struct erofs_fetchd **out);
/* serve until erofs_fetchd_stop(); 0, or the fatal error (logged) */
int erofs_fetchd_serve(struct erofs_fetchd *d);
/* async-signal-safe: make erofs_fetchd_serve() return 0 */
void erofs_fetchd_stop(struct erofs_fetchd *d);
/* async-signal-safe: log statistics from the serving thread */
void erofs_fetchd_poke_stats(struct erofs_fetchd *d);
/* the backend in use (AUTO resolved) */
enum erofs_fetchd_backend erofs_fetchd_backend(const struct erofs_fetchd *d);
/*
 * The kernel handle (cachefiles device or fanotify group) and, for
 * fanotify, the pending-event table: what a service manager keeps in its
 * file-descriptor store so that a restarted daemon can take over (-1 when
 * there is none).
 */
int erofs_fetchd_kernel_fd(const struct erofs_fetchd *d);
int erofs_fetchd_pending_fd(const struct erofs_fetchd *d);
/* finishes queued work, logs the exit statistics, releases everything;
 * the pidfile goes after a clean stop */
void erofs_fetchd_destroy(struct erofs_fetchd *d);

/*
 * The supervisor: opens the kernel handle (cachefiles: the device, bound;
 * fanotify: the group), keeps it, then runs the daemon command @argv as a
 * child process (execv(@exec_path), failing that execvp(@argv[0])) with the
 * handle appended ("--devfd N --restore" or "--fanotify-fd N
 * --pending-fd M") and restarts it, at most @o->max_restarts times, whenever
 * it dies other than by a clean exit.  With the fanotify backend it answers
 * the events a dead daemon had read but not answered with EIO (never
 * allowed: that would show zeros).  Children are watched through a pidfd,
 * so no SIGCHLD disposition is needed.
 */
struct erofs_fetchd_supervisor;

int erofs_fetchd_supervisor_create(const struct erofs_fetchd_opts *o,
				   const char *exec_path, char *const argv[],
				   const struct erofs_log *log,
				   struct erofs_fetchd_supervisor **out);
/* until stopped or given up: 0 after a clean stop, else -errno (logged) */
int erofs_fetchd_supervisor_run(struct erofs_fetchd_supervisor *s);
/* async-signal-safe: forward @signo to the child; SIGUSR1 only forwards,
 * any other signal also ends supervision */
void erofs_fetchd_supervisor_signal(struct erofs_fetchd_supervisor *s,
				    int signo);
void erofs_fetchd_supervisor_destroy(struct erofs_fetchd_supervisor *s);

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

/* ------------------------------------------------------------------ */
/* Control socket (erofs-mount talks to a running daemon through it)   */

/*
 * One request, one reply, over a SOCK_SEQPACKET socket.  Requests are
 * single lines of space-separated, percent-encoded fields:
 *   add ID MANIFEST SOURCE [SOURCE...]   register an image; the reply comes
 *                                        after its blobs are marked
 *   del ID                               forget it (after its unmount)
 *   list                                 one line per image
 *   prefetch ID all | prefetch ID BLOB OFF LEN [BLOB OFF LEN...]
 *   readahead ID BDI BYTES [BLOB...]     once these blobs of ID (none: all
 *                                        of them) are complete, write
 *                                        BYTES back as the read-ahead
 *                                        window of bdi BDI (fanotify)
 *   stop                                 stop the daemon
 * Replies begin with "ok" or "err ERRNO MESSAGE".
 */
#define EROFS_FETCHD_CTL_MAX 65536u

/* send @req to the daemon of @cache_dir; the reply (malloc'ed) in @reply.
 * 0, -ECONNREFUSED / -ENOENT when no daemon listens, or -errno */
int erofs_fetchd_ctl_call(const char *cache_dir, const char *req, char **reply,
			  const struct erofs_log *log);
/* percent-encode @s (space, '%' and control bytes) into a new string */
char *erofs_fetchd_ctl_quote(const char *s);

#endif

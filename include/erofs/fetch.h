/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fetch core: blob sources behind one interface, per-object filled-range
 * tracking, widening of requests to a fetch unit, a worker pool that serves
 * different ranges in parallel and coalesces equal ones, background prefetch
 * and statistics.  The kernel-facing backends (cachefiles on-demand,
 * fanotify) are thin adapters over it.
 *
 * An "object" is one blob (the bootstrap or a data blob) as the kernel names
 * it: its cookie key.  Data is written into a caller-supplied fd (the
 * cachefiles anonymous fd, or any regular file) with direct-I/O friendly
 * writes: 4096-aligned buffers, page-aligned offsets, whole pages, and zeros
 * past the end of the blob.
 */
#ifndef EROFS_FETCH_H
#define EROFS_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "erofs/log.h"
#include "erofs/util.h"

#define EROFS_FETCH_PAGE	    4096u
#define EROFS_FETCH_DEFAULT_UNIT    (1u << 20)
#define EROFS_FETCH_MAX_UNIT	    (64u << 20)
#define EROFS_FETCH_DEFAULT_WORKERS 4u
/* the default when every source is a local directory (see fetch.c) */
#define EROFS_FETCH_LOCAL_WORKERS 1u
#define EROFS_FETCH_MAX_WORKERS	    64u
/* the largest read-ahead window of a sequential reader, by default */
#define EROFS_FETCH_DEFAULT_RA (16u << 20)
#define EROFS_FETCH_MAX_RA     (1u << 30)
/*
 * The largest object served: 2^32 blocks of 4 KiB, what the device table
 * addresses at the usual block size.  Its page bitmap is 512 MiB of
 * (lazily touched) memory; anything larger is refused with -EFBIG.
 */
#define EROFS_FETCH_MAX_SIZE (1ull << 44)

/* ------------------------------------------------------------------ */
/* Sources                                                             */

struct erofs_source;

struct erofs_source_ops {
	/* size of @path in bytes; -ENOENT when the source does not have it */
	int (*size)(struct erofs_source *src, const char *path, uint64_t *size);
	/*
	 * exactly @len bytes of @path at @off into @buf (the caller never asks
	 * past the size it was told); 0 or -errno (-ENOENT, -EIO, ...).
	 * Called concurrently from several threads.
	 */
	int (*read)(struct erofs_source *src, const char *path, uint64_t off,
		    size_t len, void *buf);
	/*
	 * Optional: the same bytes written into @fd at @off without passing
	 * through user space (copy_file_range).  -EOPNOTSUPP when that cannot
	 * be done for this pair of files (the caller reads instead; part of
	 * the range may have been written, with the right bytes); another
	 * -errno as read() would return it.
	 */
	int (*copy)(struct erofs_source *src, const char *path, uint64_t off,
		    size_t len, int fd);
	void (*destroy)(struct erofs_source *src);
};

struct erofs_source {
	const struct erofs_source_ops *ops;
	char *desc; /* for log lines: the dir or base URL */
	bool local; /* a local file system: a fetch costs CPU, not latency */
	const struct erofs_log *log;
	void *priv;
};

/* a local blob directory: object path P is the file DIR/P */
int erofs_source_dir_create(const char *dir, const struct erofs_log *log,
			    struct erofs_source **out);

struct erofs_http_opts {
	long connect_timeout_ms; /* 0: 10 s */
	long low_speed_time_s;	 /* abort a transfer stalled this long;
				  * 0: 30 s */
	long timeout_ms;	 /* whole transfer; 0: 300 s */
	unsigned int retries;	 /* extra attempts after a failure */
	long retry_delay_ms;	 /* first backoff, doubled each time */
};

void erofs_http_opts_default(struct erofs_http_opts *opts);

/* BASE_URL/P over http:// or https:// with Range requests (libcurl) */
int erofs_source_http_create(const char *base_url,
			     const struct erofs_http_opts *opts,
			     const struct erofs_log *log,
			     struct erofs_source **out);

/* "http://..." / "https://..." → HTTP source, anything else → directory */
int erofs_source_open(const char *spec, const struct erofs_http_opts *opts,
		      const struct erofs_log *log, struct erofs_source **out);

void erofs_source_destroy(struct erofs_source *src);

/* ------------------------------------------------------------------ */
/* Catalog: the objects a manifest names                               */

struct erofs_manifest;

struct erofs_fetch_entry {
	char *name; /* cookie key: fsid for the bootstrap, tag */
	char *path; /* path relative to a source */
	uint64_t size;
};

struct erofs_fetch_catalog {
	struct erofs_fetch_entry *v; /* bootstrap first, then slot order */
	unsigned int nr;
	unsigned int *by_name; /* indexes into v sorted by name */
};

/*
 * The bootstrap (named @fsid, else the manifest's cookie fsid; left out when
 * neither is known: the caller says whether that matters) and every blob
 * (named by its tag).  A
 * manifest path that is relative and has no ".." is used as is below each
 * source, anything else by its last component.
 */
int erofs_fetch_catalog_from_manifest(const struct erofs_manifest *m,
				      const char *fsid,
				      const struct erofs_log *log,
				      struct erofs_fetch_catalog *c);
void erofs_fetch_catalog_free(struct erofs_fetch_catalog *c);
const struct erofs_fetch_entry *
erofs_fetch_catalog_find(const struct erofs_fetch_catalog *c, const char *name);

/* ------------------------------------------------------------------ */
/* Fetch core                                                          */

struct erofs_fetch_config {
	unsigned int workers; /* 0: EROFS_FETCH_LOCAL_WORKERS when every
			       * source is local, else
			       * EROFS_FETCH_DEFAULT_WORKERS */
	uint64_t unit;	      /* 0: 1 MiB; a power of two, 4 KiB..64 MiB */
	bool prefetch;	      /* fill every object in the background */
	/*
	 * Adaptive read-ahead (see erofs_fetch_obj_access): the largest
	 * window, rounded up to whole units; 0: EROFS_FETCH_DEFAULT_RA.
	 */
	uint64_t readahead;
	bool no_readahead; /* no read-ahead at all */
	const struct erofs_log *log;
};

struct erofs_fetch;
struct erofs_fetch_obj;

struct erofs_fetch_info {
	char path[512]; /* what to ask the sources for */
	uint64_t size;
};

/*
 * @srcs are tried in order (the core does not own them); @catalog may be
 * NULL and must outlive the core.
 */
int erofs_fetch_create(const struct erofs_fetch_config *cfg,
		       struct erofs_source *const *srcs, unsigned int nr_srcs,
		       const struct erofs_fetch_catalog *catalog,
		       struct erofs_fetch **out);
/*
 * Shutdown, step 1: drop queued prefetch and accept no more, then wait until
 * every queued request has run and its completion returned.  Objects stay
 * valid.
 */
void erofs_fetch_drain(struct erofs_fetch *f);
/* drains, stops the workers, frees; every object must be closed first */
void erofs_fetch_destroy(struct erofs_fetch *f);

/*
 * Where object @name comes from and how big it is: the catalog when there is
 * one (then only its objects exist), else the first source that has a
 * file of that name.  0, -ENOENT, -EFBIG (larger than EROFS_FETCH_MAX_SIZE)
 * or another -errno.
 */
int erofs_fetch_lookup(struct erofs_fetch *f, const char *name,
		       struct erofs_fetch_info *info);

/*
 * A live object writing into @fd, which the object owns from now on (closed
 * when the last reference goes, also on failure); -EFBIG when @info->size
 * exceeds EROFS_FETCH_MAX_SIZE.  Filled ranges are seeded
 * from SEEK_DATA/SEEK_HOLE of @fd, so data left by an earlier run is not
 * fetched again.
 */
int erofs_fetch_obj_open(struct erofs_fetch *f, const char *name,
			 const struct erofs_fetch_info *info, int fd,
			 struct erofs_fetch_obj **out);
/* stops its prefetch and drops the caller's reference */
void erofs_fetch_obj_close(struct erofs_fetch_obj *o);
int erofs_fetch_obj_fd(const struct erofs_fetch_obj *o);
const char *erofs_fetch_obj_name(const struct erofs_fetch_obj *o);
uint64_t erofs_fetch_obj_size(const struct erofs_fetch_obj *o);
/* pages [0, round_up(size)) not yet written */
uint64_t erofs_fetch_obj_missing(struct erofs_fetch_obj *o);

/*
 * Called once, from the worker thread whose fill wrote an object's last
 * missing page, whatever asked for that fill (a request, the read-ahead, a
 * prefetch); not for an object that was complete when opened, nor after
 * erofs_fetch_obj_close().
 */
typedef void (*erofs_fetch_complete_fn)(void *arg, struct erofs_fetch_obj *o);
void erofs_fetch_obj_on_complete(struct erofs_fetch_obj *o,
				 erofs_fetch_complete_fn fn, void *arg);

/*
 * Called once per submitted request, from a worker thread, after every page
 * of [off, off + len) has been written (err == 0) or the fetch failed
 * (err < 0; then some pages may be missing).
 */
typedef void (*erofs_fetch_done_fn)(void *arg, struct erofs_fetch_obj *o,
				    int err);

/* queue [off, off + len); 0 or -errno (then @done is not called) */
int erofs_fetch_submit(struct erofs_fetch_obj *o, uint64_t off, uint64_t len,
		       erofs_fetch_done_fn done, void *arg);
/* the same, done in the calling thread */
int erofs_fetch_range_sync(struct erofs_fetch_obj *o, uint64_t off,
			   uint64_t len);
/*
 * A reader (the kernel) asked for [off, off + len) of @o: the request is
 * noted for the adaptive read-ahead, which queues background fetches of the
 * units ahead of a sequential reader (see erofs_fetch_ra_step).  True when
 * every page of the range is present already, so that the caller can
 * answer at once; false when the range must be submitted.
 */
bool erofs_fetch_obj_access(struct erofs_fetch_obj *o, uint64_t off,
			    uint64_t len);

/* per-object state of the adaptive read-ahead */
struct erofs_fetch_ra {
	uint64_t next;	 /* where the last access ended (0: none yet) */
	uint64_t end;	 /* read ahead up to here */
	uint64_t window; /* 0: the reader is not sequential */
};

/*
 * The adaptive read-ahead, a pure function: a reader of an object of
 * @size bytes accessed [off, off + len).  The access is sequential when it
 * ends past where the previous one ended and starts no later than what
 * that one covered (its fetch unit, or what was read ahead).  The first
 * sequential access opens a window of two units (@unit) beyond the unit it
 * ends in; once the reader moves into the window, it doubles (up to @max,
 * at least one unit) and is topped up to its size ahead of the reader,
 * in whole units (except at the end of the object); anything else closes
 * it.  The range to fetch ahead comes back in [*from, *to), from unit
 * aligned, to clamped to @size; from == to when there is none.  @max 0: no
 * read-ahead.
 */
void erofs_fetch_ra_step(struct erofs_fetch_ra *ra, uint64_t unit, uint64_t max,
			 uint64_t size, uint64_t off, uint64_t len,
			 uint64_t *from, uint64_t *to);

/* queue a background fill of the whole object (no-op when complete) */
void erofs_fetch_prefetch(struct erofs_fetch_obj *o);
/* wait until no request or prefetch is queued or running */
void erofs_fetch_quiesce(struct erofs_fetch *f);

/*
 * The byte range written for a request [off, off + len) of an object of
 * @size bytes: outward to @unit alignment, the end clamped to
 * round_up(size, 4096) but never below the page-rounded request end.
 */
void erofs_fetch_widen(uint64_t off, uint64_t len, uint64_t unit, uint64_t size,
		       uint64_t *start, uint64_t *end);

/* latency histogram: log2 octaves of microseconds, 8 steps each */
#define EROFS_FETCH_LAT_BUCKETS (62 * 8)

struct erofs_fetch_stats {
	uint64_t requests;	  /* submitted requests */
	uint64_t failed;	  /* completed with an error */
	uint64_t bytes_requested; /* sum of request lengths */
	uint64_t bytes_fetched;	  /* from sources */
	uint64_t bytes_written;	  /* to object fds incl. padding */
	uint64_t units_fetched;
	uint64_t units_hit;	  /* already present, not fetched */
	uint64_t units_coalesced; /* waited for another worker */
	uint64_t prefetch_units;
	uint64_t readahead_units; /* fetched ahead of a sequential reader */
	uint64_t source_errors;
	uint64_t lat_count;
	uint64_t lat_max_us;
	uint64_t lat_buckets[EROFS_FETCH_LAT_BUCKETS];
};

void erofs_fetch_get_stats(struct erofs_fetch *f, struct erofs_fetch_stats *s);
/* microseconds below which @pct percent of the requests completed */
uint64_t erofs_fetch_stats_percentile(const struct erofs_fetch_stats *s,
				      double pct);
void erofs_fetch_stats_record(struct erofs_fetch_stats *s, uint64_t us);
/* one info line with counts, bytes and p50/p90/p99/max */
void erofs_fetch_log_stats(struct erofs_fetch *f, const char *when);

#endif

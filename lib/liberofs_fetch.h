/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the fetch core: the core, object and job structures and the small
 * helpers that fetch.c (objects, fill, worker pool), fetch_readahead.c and
 * fetch_stats.c share, plus the object path check of fetch_catalog.c.
 * Private to liberofs: the public interface is include/erofs/fetch.h.
 */
#ifndef LIBEROFS_FETCH_H
#define LIBEROFS_FETCH_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "erofs/fetch.h"

struct fetch_job {
	struct fetch_job *next;
	struct erofs_fetch_obj *obj;
	uint64_t off, len;
	erofs_fetch_done_fn done;
	void *arg;
	bool prefetch;
	bool readahead;		 /* ahead of a sequential reader */
	uint64_t cursor;	 /* prefetch: next unit index */
	unsigned int seed_waits; /* prefetch: waits for the cache file */
	struct timespec t0;
};

struct erofs_fetch_obj {
	struct erofs_fetch *f;
	char *name;
	char path[sizeof(((struct erofs_fetch_info *)0)->path)];
	uint64_t size;
	int fd;
	unsigned int refs;
	bool closing;
	bool prefetch_queued;
	uint64_t npages; /* round_up(size, 4096) / 4096 */
	uint64_t nunits;
	uint64_t missing; /* pages not yet written */
	bool seeded;	  /* filled[] reflects the cache file */
	uint64_t *filled; /* one bit per page */
	uint64_t *busy;	  /* one bit per unit being fetched */
	uint64_t *failed; /* one bit per unit whose last fetch
			   * failed */
	struct erofs_fetch_ra ra;
	bool no_copy; /* atomic: copy_file_range refused for this fd */
	erofs_fetch_complete_fn on_complete;
	void *complete_arg;
};

struct erofs_fetch {
	const struct erofs_log *log;
	unsigned int nworkers;
	uint64_t unit;
	uint64_t ra_max; /* 0: no read-ahead */
	bool prefetch;
	struct erofs_source *const *srcs;
	unsigned int nr_srcs;
	const struct erofs_fetch_catalog *catalog;

	pthread_mutex_t lock;
	pthread_cond_t work_cond; /* a job was queued, or stop */
	pthread_cond_t idle_cond; /* a job finished */
	pthread_cond_t unit_cond; /* a busy unit finished */
	/* requests; read-ahead; whole-object prefetch */
	struct fetch_job *hi_head, *hi_tail, *ra_head, *ra_tail, *lo_head,
	    *lo_tail;
	unsigned int running, running_prefetch;
	bool stop;
	bool no_prefetch; /* draining: no new prefetch work */
	pthread_t *threads;
	unsigned int nthreads;
	struct erofs_fetch_stats stats;
};

static inline bool fetch_bit_test(const uint64_t *map, uint64_t i)
{
	return map[i / 64] >> (i % 64) & 1;
}

static inline void fetch_bit_set(uint64_t *map, uint64_t i)
{
	map[i / 64] |= 1ull << (i % 64);
}

static inline void fetch_bit_clear(uint64_t *map, uint64_t i)
{
	map[i / 64] &= ~(1ull << (i % 64));
}

static inline bool fetch_pages_filled(const struct erofs_fetch_obj *o,
				      uint64_t start, uint64_t end)
{
	for (uint64_t pg = start / EROFS_FETCH_PAGE;
	     pg < erofs_div_round_up(end, EROFS_FETCH_PAGE); pg++)
		if (!fetch_bit_test(o->filled, pg))
			return false;
	return true;
}

/* under f->lock */
static inline void fetch_obj_get(struct erofs_fetch_obj *o)
{
	o->refs++;
}

/*
 * Marks the pages the cache file already holds.  False when the kernel has
 * not attached the backing file to the anonymous fd yet (fetch.c).
 */
bool fetch_seed_filled(struct erofs_fetch_obj *o);

/* under f->lock: seed the filled pages once the backing file exists */
static inline void fetch_ensure_seeded(struct erofs_fetch_obj *o)
{
	if (!o->seeded)
		o->seeded = fetch_seed_filled(o);
}

/* under f->lock: append @j to its queue and wake a worker (fetch.c) */
void fetch_queue_job(struct erofs_fetch *f, struct fetch_job *j);

/*
 * A relative object path below a source: not empty, no control character,
 * no ".." component, shorter than erofs_fetch_info.path (fetch_catalog.c)
 */
bool fetch_path_ok(const char *p);

#endif

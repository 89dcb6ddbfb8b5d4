// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The adaptive read-ahead of the fetch core: the window of a sequential
 * reader (erofs_fetch_ra_step, a pure function), and, for every access a
 * kernel backend reports, the presence check and the read-ahead jobs it
 * queues for the worker pool of fetch.c, which fills them in the
 * background.
 */
#include <pthread.h>
#include <stdlib.h>

#include "liberofs_fetch.h"

void erofs_fetch_ra_step(struct erofs_fetch_ra *ra, uint64_t unit, uint64_t max,
			 uint64_t size, uint64_t off, uint64_t len,
			 uint64_t *from, uint64_t *to)
{
	uint64_t end, covered, base, target;
	bool seq;

	*from = *to = 0;
	if (!max || !len || off >= size)
		return;
	if (max < unit)
		max = unit;
	end = len > size - off ? size : off + len;
	/* what the previous access made present: its unit, the read-ahead */
	/* size <= EROFS_FETCH_MAX_SIZE: no rounding here wraps */
	covered = erofs_round_up(ra->next, unit);
	if (covered > size)
		covered = size;
	if (covered < ra->end)
		covered = ra->end;
	seq = ra->next && off <= covered && end > ra->next;
	ra->next = end;
	if (!seq) {
		ra->window = 0;
		ra->end = 0;
		return;
	}
	base = erofs_round_up(end, unit);
	if (base > size)
		base = size;
	if (ra->end < base)
		ra->end = base;
	if (!ra->window) {
		ra->window = 2 * unit < max ? 2 * unit : max;
	} else {
		/* still a whole window ahead of the reader */
		if (ra->end - base >= ra->window)
			return;
		/* the reader moved into it: double it */
		ra->window = ra->window > max / 2 ? max : 2 * ra->window;
	}
	target = ra->window > size - base ? size : base + ra->window;
	/* enough queued already; or less than a unit more, not at the end */
	if (target <= ra->end || (target - ra->end < unit && target < size))
		return;
	*from = ra->end;
	*to = target;
	ra->end = target;
}

/* under f->lock: queue the units of [from, to) that are neither present
 * nor being fetched as read-ahead jobs */
static void queue_readahead(struct erofs_fetch_obj *o, uint64_t from,
			    uint64_t to)
{
	struct erofs_fetch *f = o->f;
	uint64_t tracked_end = o->npages * EROFS_FETCH_PAGE;

	for (uint64_t s = from; s < to; s += f->unit) {
		uint64_t e =
		    s + f->unit < tracked_end ? s + f->unit : tracked_end;
		struct fetch_job *j;

		if (s >= tracked_end)
			break;
		if (fetch_bit_test(o->busy, s / f->unit) ||
		    fetch_pages_filled(o, s, e))
			continue;
		j = calloc(1, sizeof(*j));
		if (!j)
			return; /* read-ahead is best effort */
		j->obj = o;
		j->off = s;
		j->len = e - s;
		j->readahead = true;
		fetch_obj_get(o);
		fetch_queue_job(f, j);
	}
}

bool erofs_fetch_obj_access(struct erofs_fetch_obj *o, uint64_t off,
			    uint64_t len)
{
	struct erofs_fetch *f = o->f;
	uint64_t from, to, end;
	bool present;

	if (!len || off >= o->size)
		return false;
	end = len > o->size - off ? o->size : off + len;
	pthread_mutex_lock(&f->lock);
	fetch_ensure_seeded(o);
	/*
	 * Pages past the object's last one (a cachefiles READ may reach
	 * there) are written only by a request: not present.
	 */
	present = o->seeded && len <= o->npages * EROFS_FETCH_PAGE - off &&
		  fetch_pages_filled(o, off, end);
	erofs_fetch_ra_step(&o->ra, f->unit, f->ra_max, o->size, off, len,
			    &from, &to);
	/* without knowing what the cache file holds, no read-ahead */
	if (from < to && o->seeded && !o->closing && !f->no_prefetch &&
	    !f->stop)
		queue_readahead(o, from, to);
	pthread_mutex_unlock(&f->lock);
	return present;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Statistics of the fetch core: the request latency histogram (log2
 * octaves of microseconds, 8 steps each) and its percentiles, a core's
 * counters as a snapshot and as one log line.  The counters themselves are
 * kept by fetch.c under the core's lock.
 */
#include <inttypes.h>
#include <pthread.h>

#include "liberofs_fetch.h"

static unsigned int lat_bucket(uint64_t us)
{
	unsigned int e, idx;

	if (us < 8)
		return us;
	e = erofs_ilog2(us);
	idx = (e - 2) * 8 + ((us >> (e - 3)) & 7);
	return idx < EROFS_FETCH_LAT_BUCKETS ? idx
					     : EROFS_FETCH_LAT_BUCKETS - 1;
}

static uint64_t lat_bucket_upper(unsigned int idx)
{
	unsigned int e, sub;

	if (idx < 8)
		return idx;
	e = idx / 8 + 2;
	sub = idx % 8;
	return ((8ull + sub) << (e - 3)) + (1ull << (e - 3)) - 1;
}

void erofs_fetch_stats_record(struct erofs_fetch_stats *s, uint64_t us)
{
	s->lat_buckets[lat_bucket(us)]++;
	s->lat_count++;
	if (us > s->lat_max_us)
		s->lat_max_us = us;
}

uint64_t erofs_fetch_stats_percentile(const struct erofs_fetch_stats *s,
				      double pct)
{
	uint64_t rank, seen = 0;

	if (!s->lat_count)
		return 0;
	if (pct <= 0)
		pct = 0.0001;
	if (pct > 100)
		pct = 100;
	rank = (uint64_t)(pct / 100.0 * s->lat_count + 0.999999);
	if (rank < 1)
		rank = 1;
	for (unsigned int i = 0; i < EROFS_FETCH_LAT_BUCKETS; i++) {
		seen += s->lat_buckets[i];
		if (seen >= rank) {
			uint64_t up = lat_bucket_upper(i);

			if (i == EROFS_FETCH_LAT_BUCKETS - 1)
				return s->lat_max_us;

			return up < s->lat_max_us ? up : s->lat_max_us;
		}
	}
	return s->lat_max_us;
}

void erofs_fetch_get_stats(struct erofs_fetch *f, struct erofs_fetch_stats *s)
{
	pthread_mutex_lock(&f->lock);
	*s = f->stats;
	pthread_mutex_unlock(&f->lock);
}

void erofs_fetch_log_stats(struct erofs_fetch *f, const char *when)
{
	struct erofs_fetch_stats s;

	erofs_fetch_get_stats(f, &s);
	erofs_msg(
	    f->log, EROFS_LOG_INFO, 0,
	    "stats (%s): requests %" PRIu64 " failed %" PRIu64
	    " requested %" PRIu64 " B fetched %" PRIu64 " B written %" PRIu64
	    " B units fetched %" PRIu64 " hit %" PRIu64 " coalesced %" PRIu64
	    " prefetched %" PRIu64 " read ahead %" PRIu64
	    " source errors %" PRIu64 " latency us p50 %" PRIu64 " p90 %" PRIu64
	    " p99 %" PRIu64 " max %" PRIu64,
	    when, s.requests, s.failed, s.bytes_requested, s.bytes_fetched,
	    s.bytes_written, s.units_fetched, s.units_hit, s.units_coalesced,
	    s.prefetch_units, s.readahead_units, s.source_errors,
	    erofs_fetch_stats_percentile(&s, 50),
	    erofs_fetch_stats_percentile(&s, 90),
	    erofs_fetch_stats_percentile(&s, 99), s.lat_max_us);
}

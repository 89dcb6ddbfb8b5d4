// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel-free fetch test of erofs-fetchd: one object fetched through the
 * sources and the fetch core into a file, in several parallel requests, the
 * way a backend would ask for it.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "liberofs_fetchd.h"

struct test_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int pending;
	int err;
};

static void test_done(void *arg, struct erofs_fetch_obj *o, int err)
{
	struct test_wait *w = arg;

	(void)o;
	pthread_mutex_lock(&w->lock);
	if (err && !w->err)
		w->err = err;
	w->pending--;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static int fetch_into(struct erofs_fetch *fetch, const char *name,
		      const char *out, uint64_t offset, uint64_t length,
		      uint64_t *fetched, const struct erofs_log *log)
{
	struct test_wait w = {PTHREAD_MUTEX_INITIALIZER,
			      PTHREAD_COND_INITIALIZER, 0, 0};
	struct erofs_fetch_info info;
	struct erofs_fetch_obj *obj = NULL;
	struct erofs_outfile of;
	uint64_t off, end, piece = 128 << 10;
	bool ranged = length != 0;
	int err, fd;

	err = erofs_fetch_lookup(fetch, name, &info);
	if (err)
		return erofs_err(log, err, "object %s", name);
	err = erofs_outfile_open(&of, out, log);
	if (err)
		return err;
	fd = dup(of.fd);
	if (fd < 0) {
		err = erofs_err(log, -errno, "%s", out);
		erofs_outfile_abort(&of);
		return err;
	}
	err = erofs_fetch_obj_open(fetch, name, &info, fd, &obj);
	if (err) {
		erofs_outfile_abort(&of);
		return err;
	}
	off = ranged ? offset : 0;
	end = ranged ? offset + length : info.size;
	/* several requests, so the worker pool serves them in parallel */
	for (; off < end; off += piece) {
		uint64_t len = end - off < piece ? end - off : piece;

		pthread_mutex_lock(&w.lock);
		w.pending++;
		pthread_mutex_unlock(&w.lock);
		err = erofs_fetch_submit(obj, off, len, test_done, &w);
		if (err) {
			pthread_mutex_lock(&w.lock);
			w.pending--;
			pthread_mutex_unlock(&w.lock);
			break;
		}
	}
	pthread_mutex_lock(&w.lock);
	while (w.pending)
		pthread_cond_wait(&w.cond, &w.lock);
	if (!err)
		err = w.err;
	pthread_mutex_unlock(&w.lock);
	erofs_fetch_obj_close(obj);
	/* the core pads to whole pages; the test output is the blob */
	if (!err && !ranged && ftruncate(of.fd, info.size) < 0)
		err = erofs_err(log, -errno, "%s", out);
	if (err) {
		erofs_err(log, err, "fetch of %s failed", name);
		erofs_outfile_abort(&of);
		return err;
	}
	err = erofs_outfile_commit(&of, log);
	if (!err) {
		erofs_fetch_log_stats(fetch, "fetch-test");
		*fetched = ranged ? length : info.size;
	}
	return err;
}

int erofs_fetchd_fetch_test(const struct erofs_fetchd_opts *o, const char *name,
			    const char *out, uint64_t offset, uint64_t length,
			    uint64_t *fetched, const struct erofs_log *log)
{
	struct erofs_fetch_config cfg = {
	    .workers = o->workers,
	    .unit = o->unit,
	    .log = log,
	};
	struct fetchd_sources srcs = {.nr = 0};
	struct erofs_manifest manifest;
	struct erofs_fetch_catalog catalog = {NULL, 0};
	struct erofs_fetch *fetch = NULL;
	bool have_manifest = false;
	int err;

	*fetched = 0;
	if (length && offset > UINT64_MAX - length)
		return erofs_err(log, -EINVAL,
				 "object %s: range %" PRIu64 "+%" PRIu64
				 " overflows",
				 name, offset, length);
	err = fetchd_sources_open(&srcs, o->sources, o->nr_sources, &o->http,
				  log);
	if (err)
		return err;
	if (o->manifest) {
		err = erofs_manifest_load(&manifest, o->manifest, log);
		if (err)
			goto out;
		have_manifest = true;
		err = fetchd_catalog_open(&manifest, o->fsid, true, log,
					  &catalog);
		if (err)
			goto out;
	}
	err = erofs_fetch_create(&cfg, srcs.v, srcs.nr,
				 o->manifest ? &catalog : NULL, &fetch);
	if (!err)
		err =
		    fetch_into(fetch, name, out, offset, length, fetched, log);
out:
	erofs_fetch_destroy(fetch);
	if (catalog.v)
		erofs_fetch_catalog_free(&catalog);
	if (have_manifest)
		erofs_manifest_free(&manifest);
	fetchd_sources_close(&srcs);
	return err;
}

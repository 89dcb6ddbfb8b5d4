// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The cachefiles backend of the serving core: /dev/cachefiles opened (or
 * inherited from the supervisor), bound in on-demand mode (or "restore"d
 * after a crash), its messages handed to the protocol handlers of
 * lib/ondemand.c, and the periodic cache garbage collection.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "erofs/ondemand.h"
#include "liberofs_fetchd.h"

struct cf_backend {
	struct erofs_od_kdev kdev;
	struct erofs_od *od;
	uint64_t next_cull;
};

static uint64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static int cf_resolve(void *arg, const char *name, struct erofs_fetch **fetch,
		      struct erofs_fetch_info *info)
{
	struct erofs_fetchd *d = arg;
	struct fetchd_image *img;
	int err = fetchd_images_lookup(&d->images, name, &img, info);

	if (!err)
		*fetch = img->fetch;
	return err;
}

static int cf_open_device(struct erofs_fetchd *d, struct cf_backend *b)
{
	const struct erofs_fetchd_opts *o = d->o;

	if (o->cachefiles.devfd >= 0) {
		b->kdev.fd = o->cachefiles.devfd;
		if (fcntl(b->kdev.fd, F_GETFD) < 0) {
			b->kdev.fd = -1;
			return erofs_err(d->log, -errno, "--devfd %d",
					 o->cachefiles.devfd);
		}
		/* not passed on to anything we might run */
		fcntl(b->kdev.fd, F_SETFD, FD_CLOEXEC);
		return 0;
	}
	b->kdev.fd = open(o->cachefiles.device, O_RDWR | O_CLOEXEC);
	if (b->kdev.fd < 0)
		return erofs_err(d->log, -errno, "cannot open %s%s",
				 o->cachefiles.device,
				 errno == EBUSY	   ? " (another daemon has it)"
				 : errno == ENOENT ? " (no cachefiles?)"
						   : "");
	return 0;
}

static int cf_start(struct erofs_fetchd *d)
{
	const struct erofs_fetchd_opts *o = d->o;
	struct erofs_od_config ocfg = {
	    .log = d->log,
	    .prefetch = o->prefetch,
	    .resolve = cf_resolve,
	    .resolve_arg = d,
	};
	struct cf_backend *b = calloc(1, sizeof(*b));
	int err;

	if (!b)
		return erofs_err(d->log, -ENOMEM, "cachefiles backend");
	b->kdev.fd = -1;
	d->bpriv = b;
	err = cf_open_device(d, b);
	if (err)
		return err;
	err =
	    erofs_od_create(&ocfg, &erofs_od_kdev_ops, &b->kdev, NULL, &b->od);
	if (err)
		return err;
	if (o->cachefiles.restore) {
		err = erofs_od_restore(b->od);
		if (err)
			return err;
		erofs_info(d->log, "restored on %s (fd %d)",
			   o->cachefiles.device, b->kdev.fd);
	} else {
		err = erofs_od_bind(b->od, d->cache_dir, o->cachefiles.tag);
		if (err)
			return err;
		erofs_info(d->log, "bound %s in on-demand mode", d->cache_dir);
	}
	b->next_cull = mono_s();
	return 0;
}

static int cf_pollfd(struct erofs_fetchd *d)
{
	return ((struct cf_backend *)d->bpriv)->kdev.fd;
}

static int cf_process(struct erofs_fetchd *d)
{
	struct cf_backend *b = d->bpriv;
	int handled = 0;

	/* a read after POLLIN may still find nothing */
	for (int i = 0; i < 256; i++) {
		int r = erofs_od_process(b->od);

		if (r < 0)
			return r;
		if (!r)
			break;
		handled++;
	}
	/* never spin on a device that says POLLIN with nothing to read */
	if (!handled) {
		struct timespec ts = {0, 2000000};

		nanosleep(&ts, NULL);
	}
	return 0;
}

static int cf_timers(struct erofs_fetchd *d)
{
	const struct erofs_fetchd_opts *o = d->o;
	struct cf_backend *b = d->bpriv;
	uint64_t now = mono_s();

	if (!o->cachefiles.cull_age)
		return -1;
	if (now >= b->next_cull) {
		int culled = erofs_od_cull_old(
		    b->od, d->cache_dir, o->cachefiles.cull_age, time(NULL));

		if (culled > 0)
			erofs_info(d->log, "culled %d cache files", culled);
		b->next_cull = now + o->cachefiles.cull_interval;
	}
	return (b->next_cull - now) * 1000;
}

static int cf_image_added(struct erofs_fetchd *d, struct fetchd_image *img)
{
	return 0;
}

static void cf_image_removing(struct erofs_fetchd *d, struct fetchd_image *img)
{
	/* its objects are closed by the kernel's CLOSE after the unmount */
}

static int cf_prefetch(struct erofs_fetchd *d, struct fetchd_image *img,
		       const char *blob, uint64_t off, uint64_t len)
{
	/* objects exist only once the kernel opened them: --prefetch */
	return -EOPNOTSUPP;
}

static int64_t cf_present(struct erofs_fetchd *d, struct fetchd_image *img)
{
	struct erofs_fetch_stats s;

	erofs_fetch_get_stats(img->fetch, &s);
	return s.bytes_fetched;
}

static void cf_log_stats(struct erofs_fetchd *d, const char *when)
{
	struct cf_backend *b = d->bpriv;

	if (b && b->od)
		erofs_od_log_stats(b->od, when);
}

static void cf_stop(struct erofs_fetchd *d)
{
	struct cf_backend *b = d->bpriv;

	if (!b)
		return;
	/* finish the queued READs (and their completions), then close */
	for (unsigned int i = 0; i < d->images.nr; i++)
		erofs_fetch_drain(d->images.v[i]->fetch);
	erofs_od_destroy(b->od);
	if (b->kdev.fd >= 0)
		close(b->kdev.fd);
	free(b);
	d->bpriv = NULL;
}

static int cf_kernel_fd(const struct erofs_fetchd *d)
{
	return ((struct cf_backend *)d->bpriv)->kdev.fd;
}

static int cf_pending_fd(const struct erofs_fetchd *d)
{
	return -1;
}

const struct fetchd_backend_ops fetchd_cachefiles_ops = {
    .kernel_fd = cf_kernel_fd,
    .pending_fd = cf_pending_fd,
    .name = "cachefiles",
    .start = cf_start,
    .pollfd = cf_pollfd,
    .process = cf_process,
    .timers = cf_timers,
    .image_added = cf_image_added,
    .image_removing = cf_image_removing,
    .prefetch = cf_prefetch,
    .present = cf_present,
    .log_stats = cf_log_stats,
    .stop = cf_stop,
};

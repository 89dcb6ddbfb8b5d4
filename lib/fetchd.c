// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The serving core of the on-demand daemon: one poll loop over the stop
 * handle, the backend's kernel fd and the control socket; the images it
 * serves; periodic statistics.  Backends (fetchd_cachefiles.c, fanotify.c)
 * turn kernel requests into fetch-core requests of the image that owns the
 * object.  No signal disposition, signal mask or working directory is
 * touched here: the stop handle is a pipe a signal handler may write to.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "liberofs_fanotify.h"
#include "liberofs_fetchd.h"

void erofs_fetchd_opts_init(struct erofs_fetchd_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->backend = EROFS_FETCHD_AUTO;
	o->max_restarts = EROFS_FETCHD_DEFAULT_RESTARTS;
	o->cachefiles.devfd = -1;
	o->cachefiles.device = EROFS_FETCHD_DEFAULT_DEVICE;
	o->cachefiles.cull_interval = EROFS_FETCHD_DEFAULT_CULL_INTV;
	o->fanotify.groupfd = -1;
	o->fanotify.pendingfd = -1;
	erofs_http_opts_default(&o->http);
}

int erofs_fetchd_add_source(struct erofs_fetchd_opts *o, const char *src,
			    const struct erofs_log *log)
{
	if (o->nr_sources >= EROFS_FETCHD_MAX_SOURCES)
		return erofs_err(log, -EINVAL, "at most %u sources",
				 EROFS_FETCHD_MAX_SOURCES);
	o->sources[o->nr_sources++] = src;
	return 0;
}

static const char *const backend_names[] = {
    [EROFS_FETCHD_AUTO] = "auto",
    [EROFS_FETCHD_CACHEFILES] = "cachefiles",
    [EROFS_FETCHD_FANOTIFY] = "fanotify",
};

int erofs_fetchd_parse_backend(const char *s, enum erofs_fetchd_backend *out)
{
	for (unsigned int i = 0; i < 3; i++) {
		if (!strcmp(s, backend_names[i])) {
			*out = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *erofs_fetchd_backend_name(enum erofs_fetchd_backend b)
{
	return b <= EROFS_FETCHD_FANOTIFY ? backend_names[b] : "?";
}

int erofs_fetchd_resolve_backend(enum erofs_fetchd_backend b,
				 const char *device,
				 enum erofs_fetchd_backend *out)
{
	if (b != EROFS_FETCHD_AUTO) {
		*out = b;
		return 0;
	}
	if (erofs_fanotify_supported()) {
		*out = EROFS_FETCHD_FANOTIFY;
		return 0;
	}
	if (!access(device ? device : EROFS_FETCHD_DEFAULT_DEVICE, F_OK)) {
		*out = EROFS_FETCHD_CACHEFILES;
		return 0;
	}
	return -EOPNOTSUPP;
}

/* ------------------------------------------------------------------ */

int fetchd_write_pidfile(const char *path, const struct erofs_log *log)
{
	struct erofs_outfile of;
	char buf[32];
	int n, err = erofs_outfile_open(&of, path, log);

	if (err)
		return err;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	err = erofs_write_all(of.fd, buf, n);
	if (err) {
		erofs_outfile_abort(&of);
		return erofs_err(log, err, "%s", path);
	}
	return erofs_outfile_commit(&of, log);
}

static uint64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

int fetchd_add_image(struct erofs_fetchd *d, struct fetchd_image *img)
{
	int err;

	if (fetchd_images_get(&d->images, img->id))
		return erofs_err(d->log, -EEXIST, "image %s is already served",
				 img->id);
	err = fetchd_images_add(&d->images, img);
	if (err)
		return erofs_err(d->log, err, "image %s", img->id);
	err = d->bops->image_added(d, img);
	if (err) {
		fetchd_images_remove(&d->images, img);
		return err;
	}
	return 0;
}

void fetchd_remove_image(struct erofs_fetchd *d, struct fetchd_image *img)
{
	fetchd_images_remove(&d->images, img);
	erofs_fetch_drain(img->fetch);
	d->bops->image_removing(d, img);
	fetchd_image_destroy(img);
}

static void log_all_stats(struct erofs_fetchd *d, const char *when)
{
	for (unsigned int i = 0; i < d->images.nr; i++) {
		struct fetchd_image *img = d->images.v[i];
		char w[512];

		if (d->images.nr == 1 && !*img->id)
			snprintf(w, sizeof(w), "%s", when);
		else
			snprintf(w, sizeof(w), "%s, image %s", when,
				 *img->id ? img->id : "-");
		erofs_fetch_log_stats(img->fetch, w);
	}
	if (!d->images.nr)
		erofs_info(d->log, "stats (%s): no image served", when);
	d->bops->log_stats(d, when);
}

int erofs_fetchd_create(const struct erofs_fetchd_opts *o,
			const struct erofs_log *log, struct erofs_fetchd **out)
{
	struct erofs_fetchd *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return erofs_err(log, -ENOMEM, "daemon");
	d->o = o;
	d->log = log;
	d->ctlfd = -1;
	d->wake[0] = d->wake[1] = -1;
	*out = d;
	if (!o->cache_dir)
		return erofs_err(log, -EINVAL, "no cache directory given");
	d->cache_dir = realpath(o->cache_dir, NULL);
	if (!d->cache_dir)
		return erofs_err(log, -errno, "--cache-dir %s", o->cache_dir);
	if (pipe2(d->wake, O_CLOEXEC | O_NONBLOCK))
		return erofs_err(log, -errno, "stop handle");
	err = erofs_fetchd_resolve_backend(o->backend, o->cachefiles.device,
					   &d->backend);
	if (err)
		return erofs_fail(log, err,
				  "this kernel offers neither fanotify "
				  "pre-content hooks (6.14+) nor %s",
				  o->cachefiles.device);
	d->bops = d->backend == EROFS_FETCHD_FANOTIFY ? &fetchd_fanotify_ops
						      : &fetchd_cachefiles_ops;
	erofs_info(log, "backend %s, cache %s", d->bops->name, d->cache_dir);
	err = d->bops->start(d);
	if (err)
		return err;
	if (o->nr_sources) {
		struct fetchd_image *img;

		err = fetchd_image_create(d, "", o->manifest, o->sources,
					  o->nr_sources, &img);
		if (err)
			return err;
		err = fetchd_add_image(d, img);
		if (err) {
			fetchd_image_destroy(img);
			return err;
		}
	}
	if (o->control) {
		fetchd_images_restore(d);
		err = fetchd_control_open(d);
		if (err)
			return err;
	}
	if (o->stats_interval)
		d->next_stats = mono_s() + o->stats_interval;
	if (o->pidfile) {
		err = fetchd_write_pidfile(o->pidfile, log);
		if (err)
			return err;
		d->pidfile_written = true;
	}
	return 0;
}

int erofs_fetchd_kernel_fd(const struct erofs_fetchd *d)
{
	return d->bpriv ? d->bops->kernel_fd(d) : -1;
}

int erofs_fetchd_pending_fd(const struct erofs_fetchd *d)
{
	return d->bpriv ? d->bops->pending_fd(d) : -1;
}

enum erofs_fetchd_backend erofs_fetchd_backend(const struct erofs_fetchd *d)
{
	return d->backend;
}

/*
 * One byte into the wake pipe, from any thread or a signal handler: a full
 * pipe means the serving thread has that much to read anyway.
 */
static void poke(struct erofs_fetchd *d, char c)
{
	int saved = errno;

	if (write(d->wake[1], &c, 1) < 0) {
		/* full: it wakes up regardless */
	}
	errno = saved;
}

void erofs_fetchd_stop(struct erofs_fetchd *d)
{
	poke(d, 's');
}

void erofs_fetchd_poke_stats(struct erofs_fetchd *d)
{
	poke(d, 'u');
}

void fetchd_note_complete(struct erofs_fetchd *d)
{
	poke(d, 'c');
}

/* what the stop handle says: true to stop */
static bool read_wake(struct erofs_fetchd *d)
{
	char buf[64];
	bool stop = false, stats = false, complete = false;
	ssize_t n;

	while ((n = read(d->wake[0], buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == 's')
				stop = true;
			else if (buf[i] == 'c')
				complete = true;
			else
				stats = true;
		}
	if (complete)
		fetchd_ra_check_all(d);
	if (stats)
		log_all_stats(d, "SIGUSR1");
	if (stop)
		erofs_info(d->log, "stop requested");
	return stop;
}

/* periodic work due now; the poll timeout until the next (ms) */
static int run_timers(struct erofs_fetchd *d)
{
	uint64_t now = mono_s();
	int t = d->bops->timers(d), s = -1;

	if (d->o->stats_interval) {
		if (now >= d->next_stats) {
			log_all_stats(d, "periodic");
			d->next_stats = now + d->o->stats_interval;
		}
		s = (d->next_stats - now) * 1000;
	}
	if (t < 0 || (s >= 0 && s < t))
		t = s;
	/* wake at least once a minute */
	if (t < 0 || t > 60000)
		t = 60000;
	return t;
}

int erofs_fetchd_serve(struct erofs_fetchd *d)
{
	for (;;) {
		struct pollfd pfd[3] = {
		    {.fd = d->wake[0], .events = POLLIN},
		    {.fd = d->bops->pollfd(d), .events = POLLIN},
		    {.fd = d->ctlfd, .events = POLLIN},
		};
		int n, err, timeout = run_timers(d);

		if (d->stopping)
			return 0;
		n = poll(pfd, d->ctlfd >= 0 ? 3 : 2, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return erofs_err(d->log, -errno, "poll");
		}
		if ((pfd[0].revents & POLLIN) && read_wake(d))
			return 0;
		if (pfd[1].revents & (POLLERR | POLLNVAL))
			return erofs_err(d->log, -EIO, "%s: poll error",
					 d->bops->name);
		if (pfd[1].revents & POLLIN) {
			err = d->bops->process(d);
			if (err)
				return err;
		}
		if (d->ctlfd >= 0 && (pfd[2].revents & POLLIN))
			fetchd_control_serve(d);
	}
}

void erofs_fetchd_destroy(struct erofs_fetchd *d)
{
	if (!d)
		return;
	fetchd_control_close(d);
	if (d->bops && d->bpriv)
		log_all_stats(d, "exit");
	if (d->bops)
		d->bops->stop(d);
	while (d->images.nr) {
		struct fetchd_image *img = d->images.v[d->images.nr - 1];

		fetchd_images_remove(&d->images, img);
		fetchd_image_destroy(img);
	}
	free(d->images.v);
	if (d->pidfile_written)
		unlink(d->o->pidfile);
	if (d->wake[0] >= 0)
		close(d->wake[0]);
	if (d->wake[1] >= 0)
		close(d->wake[1]);
	free(d->ctl_path);
	free(d->cache_dir);
	free(d);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The cachefiles on-demand daemon: sources + fetch core + on-demand
 * protocol handler driven by one poll loop, the supervisor that restarts it
 * with the device it keeps open, and a kernel-free fetch test.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "erofs/fetchd.h"
#include "erofs/manifest.h"
#include "erofs/ondemand.h"
#include "erofs/util.h"

void erofs_fetchd_opts_init(struct erofs_fetchd_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->devfd = -1;
	o->device = EROFS_FETCHD_DEFAULT_DEVICE;
	o->max_restarts = EROFS_FETCHD_DEFAULT_RESTARTS;
	o->cull_interval = EROFS_FETCHD_DEFAULT_CULL_INTV;
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

/* ------------------------------------------------------------------ */
/* sources, manifest and fetch core, shared by all modes               */

struct fetchd_serve {
	struct erofs_source *srcs[EROFS_FETCHD_MAX_SOURCES];
	unsigned int nr_srcs;
	struct erofs_manifest manifest;
	bool have_manifest;
	struct erofs_fetch_catalog catalog;
	struct erofs_fetch *fetch;
};

static int serve_setup(struct fetchd_serve *s,
		       const struct erofs_fetchd_opts *o,
		       const struct erofs_log *log)
{
	struct erofs_fetch_config cfg = {
	    .workers = o->workers,
	    .unit = o->unit,
	    .prefetch = o->prefetch,
	    .log = log,
	};
	int err;

	memset(s, 0, sizeof(*s));
	if (!o->nr_sources || o->nr_sources > EROFS_FETCHD_MAX_SOURCES)
		return erofs_err(log, -EINVAL, "%u sources: 1..%u needed",
				 o->nr_sources, EROFS_FETCHD_MAX_SOURCES);
	for (unsigned int i = 0; i < o->nr_sources; i++) {
		err = erofs_source_open(o->sources[i], &o->http, log,
					&s->srcs[i]);
		if (err)
			return err;
		s->nr_srcs++;
	}
	if (o->manifest) {
		err = erofs_manifest_load(&s->manifest, o->manifest, log);
		if (err)
			return err;
		s->have_manifest = true;
		err = erofs_fetch_catalog_from_manifest(&s->manifest, o->fsid,
							log, &s->catalog);
		if (err)
			return err;
	}
	return erofs_fetch_create(&cfg, s->srcs, s->nr_srcs,
				  o->manifest ? &s->catalog : NULL, &s->fetch);
}

static void serve_teardown(struct fetchd_serve *s)
{
	erofs_fetch_destroy(s->fetch);
	s->fetch = NULL;
	if (s->have_manifest) {
		erofs_fetch_catalog_free(&s->catalog);
		erofs_manifest_free(&s->manifest);
		s->have_manifest = false;
	}
	for (unsigned int i = 0; i < s->nr_srcs; i++)
		erofs_source_destroy(s->srcs[i]);
	s->nr_srcs = 0;
}

/* ------------------------------------------------------------------ */
/* fetch test                                                          */

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

int erofs_fetchd_fetch_test(const struct erofs_fetchd_opts *o, const char *name,
			    const char *out, uint64_t offset, uint64_t length,
			    uint64_t *fetched, const struct erofs_log *log)
{
	struct test_wait w = {PTHREAD_MUTEX_INITIALIZER,
			      PTHREAD_COND_INITIALIZER, 0, 0};
	struct erofs_fetch_info info;
	struct erofs_fetch_obj *obj = NULL;
	struct erofs_outfile of;
	struct fetchd_serve s;
	uint64_t off, end, piece = 128 << 10;
	bool ranged = length != 0;
	int err, fd;

	*fetched = 0;
	if (ranged && offset > UINT64_MAX - length)
		return erofs_err(log, -EINVAL,
				 "object %s: range %" PRIu64 "+%" PRIu64
				 " overflows",
				 name, offset, length);
	err = serve_setup(&s, o, log);
	if (err)
		goto out;
	err = erofs_fetch_lookup(s.fetch, name, &info);
	if (err) {
		erofs_err(log, err, "object %s", name);
		goto out;
	}
	err = erofs_outfile_open(&of, out, log);
	if (err)
		goto out;
	fd = dup(of.fd);
	if (fd < 0) {
		err = erofs_err(log, -errno, "%s", out);
		erofs_outfile_abort(&of);
		goto out;
	}
	err = erofs_fetch_obj_open(s.fetch, name, &info, fd, &obj);
	if (err) {
		erofs_outfile_abort(&of);
		goto out;
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
	} else {
		err = erofs_outfile_commit(&of, log);
	}
	if (!err) {
		erofs_fetch_log_stats(s.fetch, "fetch-test");
		*fetched = ranged ? length : info.size;
	}
out:
	serve_teardown(&s);
	return err;
}

/* ------------------------------------------------------------------ */
/* daemon                                                              */

static int write_pidfile(const char *path, const struct erofs_log *log)
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

static int block_signals(sigset_t *mask, bool with_child)
{
	sigemptyset(mask);
	sigaddset(mask, SIGTERM);
	sigaddset(mask, SIGINT);
	sigaddset(mask, SIGHUP);
	sigaddset(mask, SIGUSR1);
	if (with_child)
		sigaddset(mask, SIGCHLD);
	signal(SIGPIPE, SIG_IGN);
	/* before any thread starts, so workers inherit the mask */
	return pthread_sigmask(SIG_BLOCK, mask, NULL) ? -EINVAL : 0;
}

static uint64_t mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/* the absolute cache directory (malloc'ed), or NULL (logged) */
static char *abs_cache_dir(const struct erofs_fetchd_opts *o,
			   const struct erofs_log *log)
{
	char *dir;

	if (!o->cache_dir) {
		erofs_err(log, -EINVAL, "no cache directory given");
		return NULL;
	}
	dir = realpath(o->cache_dir, NULL);
	if (!dir)
		erofs_err(log, -errno, "--cache-dir %s", o->cache_dir);
	return dir;
}

struct fetchd_daemon {
	const struct erofs_fetchd_opts *o;
	const struct erofs_log *log;
	const char *cache_dir;
	struct erofs_od_kdev kdev;
	struct erofs_od *od;
	struct fetchd_serve s;
	int sfd;
	uint64_t next_stats, next_cull;
};

static void log_all_stats(struct fetchd_daemon *d, const char *when)
{
	erofs_fetch_log_stats(d->s.fetch, when);
	erofs_od_log_stats(d->od, when);
}

/* the device: inherited (--devfd) or opened */
static int daemon_open_device(struct fetchd_daemon *d)
{
	const struct erofs_fetchd_opts *o = d->o;

	if (o->devfd >= 0) {
		d->kdev.fd = o->devfd;
		if (fcntl(d->kdev.fd, F_GETFD) < 0) {
			d->kdev.fd = -1;
			return erofs_err(d->log, -errno, "--devfd %d",
					 o->devfd);
		}
		/* not passed on to anything we might run */
		fcntl(d->kdev.fd, F_SETFD, FD_CLOEXEC);
		return 0;
	}
	d->kdev.fd = open(o->device, O_RDWR | O_CLOEXEC);
	if (d->kdev.fd < 0)
		return erofs_err(d->log, -errno, "cannot open %s%s", o->device,
				 errno == EBUSY	   ? " (another daemon has it)"
				 : errno == ENOENT ? " (no cachefiles?)"
						   : "");
	return 0;
}

/* the periodic work due now; the poll timeout until the next (ms) */
static int daemon_timers(struct fetchd_daemon *d)
{
	const struct erofs_fetchd_opts *o = d->o;
	uint64_t now = mono_s(), wait_s = 60;

	if (o->cull_age && now >= d->next_cull) {
		int culled = erofs_od_cull_old(d->od, d->cache_dir, o->cull_age,
					       time(NULL));

		if (culled > 0)
			erofs_info(d->log, "culled %d cache files", culled);
		d->next_cull = now + o->cull_interval;
	}
	if (o->stats_interval && now >= d->next_stats) {
		log_all_stats(d, "periodic");
		d->next_stats = now + o->stats_interval;
	}
	if (!o->cull_age && !o->stats_interval)
		return -1;
	/* wake at least once a minute; never overflow */
	if (o->cull_age && d->next_cull - now < wait_s)
		wait_s = d->next_cull - now;
	if (o->stats_interval && d->next_stats - now < wait_s)
		wait_s = d->next_stats - now;
	return wait_s * 1000;
}

/* read pending signals: true when one asks to stop */
static bool daemon_signals(struct fetchd_daemon *d)
{
	struct signalfd_siginfo si;
	bool stop = false;

	while (read(d->sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			log_all_stats(d, "SIGUSR1");
		} else {
			erofs_info(d->log, "signal %u: stopping", si.ssi_signo);
			stop = true;
		}
	}
	return stop;
}

/* serve what the device has; 0 or the fatal device error */
static int daemon_serve(struct fetchd_daemon *d)
{
	int handled = 0;

	/* a read after POLLIN may still find nothing */
	for (int i = 0; i < 256; i++) {
		int r = erofs_od_process(d->od);

		if (r < 0)
			return r;
		if (!r)
			break;
		handled++;
	}
	/* never spin on a device that keeps saying POLLIN with nothing to
	 * read */
	if (!handled) {
		struct timespec ts = {0, 2000000};

		nanosleep(&ts, NULL);
	}
	return 0;
}

static int daemon_loop(struct fetchd_daemon *d)
{
	const struct erofs_fetchd_opts *o = d->o;

	if (o->stats_interval)
		d->next_stats = mono_s() + o->stats_interval;
	if (o->cull_age)
		d->next_cull = mono_s();
	for (;;) {
		struct pollfd pfd[2] = {
		    {.fd = d->kdev.fd, .events = POLLIN},
		    {.fd = d->sfd, .events = POLLIN},
		};
		int n, err, timeout = daemon_timers(d);

		n = poll(pfd, 2, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return erofs_err(d->log, -errno, "poll");
		}
		if ((pfd[1].revents & POLLIN) && daemon_signals(d))
			return 0;
		if (pfd[0].revents & (POLLERR | POLLNVAL))
			return erofs_err(d->log, -EIO, "%s: poll error",
					 o->device);
		if (pfd[0].revents & POLLIN) {
			err = daemon_serve(d);
			if (err)
				return err;
		}
	}
}

static int daemon_start(struct fetchd_daemon *d)
{
	const struct erofs_fetchd_opts *o = d->o;
	struct erofs_od_config ocfg = {.log = d->log, .prefetch = o->prefetch};
	sigset_t mask;
	int err;

	if (block_signals(&mask, false))
		return erofs_err(d->log, -EINVAL, "blocking signals");
	d->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sfd < 0)
		return erofs_err(d->log, -errno, "signalfd");
	err = daemon_open_device(d);
	if (err)
		return err;
	err = serve_setup(&d->s, o, d->log);
	if (err)
		return err;
	err = erofs_od_create(&ocfg, &erofs_od_kdev_ops, &d->kdev, d->s.fetch,
			      &d->od);
	if (err)
		return err;
	if (o->restore) {
		err = erofs_od_restore(d->od);
		if (err)
			return err;
		erofs_info(d->log, "restored on %s (fd %d)", o->device,
			   d->kdev.fd);
	} else {
		err = erofs_od_bind(d->od, d->cache_dir, o->tag);
		if (err)
			return err;
		erofs_info(d->log, "bound %s in on-demand mode", d->cache_dir);
	}
	if (o->pidfile)
		return write_pidfile(o->pidfile, d->log);
	return 0;
}

int erofs_fetchd_run(const struct erofs_fetchd_opts *o,
		     const struct erofs_log *log)
{
	struct fetchd_daemon d = {
	    .o = o,
	    .log = log,
	    .kdev = {.fd = -1},
	    .sfd = -1,
	};
	char *cache_dir = abs_cache_dir(o, log);
	int err;

	if (!cache_dir)
		return -EINVAL;
	d.cache_dir = cache_dir;
	/* sources are opened by fd at start, so the cwd changes of
	 * cull/inuse do not affect them */
	err = daemon_start(&d);
	if (!err)
		err = daemon_loop(&d);
	/* finish the queued READs (and their completions), then close */
	if (d.s.fetch && d.od)
		log_all_stats(&d, "exit");
	erofs_od_destroy(d.od);
	serve_teardown(&d.s);
	if (o->pidfile && !err)
		unlink(o->pidfile);
	if (d.kdev.fd >= 0)
		close(d.kdev.fd);
	if (d.sfd >= 0)
		close(d.sfd);
	free(cache_dir);
	return err;
}

/* ------------------------------------------------------------------ */
/* supervisor                                                          */

/* run the child until it exits; *stopping when a stop signal came */
static int supervise_child(pid_t pid, int sfd, bool *stopping)
{
	int status = 0;

	for (;;) {
		struct signalfd_siginfo si;
		ssize_t n = read(sfd, &si, sizeof(si));

		if (n != sizeof(si)) {
			if (n < 0 && errno == EINTR)
				continue;
			break;
		}
		if (si.ssi_signo == SIGCHLD) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				break;
			continue;
		}
		if (si.ssi_signo != SIGUSR1)
			*stopping = true;
		kill(pid, si.ssi_signo);
	}
	return status;
}

static int supervise_loop(const struct erofs_fetchd_opts *o,
			  const char *exec_path, char **cargv, int sfd,
			  const struct erofs_log *log)
{
	unsigned int restarts = 0;
	bool stopping = false;

	for (;;) {
		pid_t pid = fork();
		int status;

		if (pid < 0)
			return erofs_err(log, -errno, "fork"), 0;
		if (!pid) {
			sigset_t none;

			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			execv(exec_path, cargv);
			execvp(cargv[0], cargv);
			_exit(127);
		}
		erofs_info(log, "supervisor: started daemon pid %ld",
			   (long)pid);
		status = supervise_child(pid, sfd, &stopping);
		if (stopping || (WIFEXITED(status) && !WEXITSTATUS(status))) {
			erofs_info(log,
				   "supervisor: daemon exited (status "
				   "%d); stopping",
				   status);
			return 0;
		}
		if (restarts >= o->max_restarts) {
			erofs_err(log, 0,
				  "supervisor: daemon died %u times; "
				  "giving up",
				  restarts + 1);
			return -ECHILD;
		}
		restarts++;
		erofs_warn(log,
			   "supervisor: daemon %s %d; restart %u with "
			   "restore",
			   WIFSIGNALED(status) ? "killed by signal"
					       : "exited with",
			   WIFSIGNALED(status) ? WTERMSIG(status)
					       : WEXITSTATUS(status),
			   restarts);
		sleep(1);
	}
}

/* open the device (inheritable) and bind the cache; the fd or -errno */
static int supervise_bind(const struct erofs_fetchd_opts *o,
			  const char *cache_dir, const struct erofs_log *log)
{
	struct erofs_od_config ocfg = {.log = log};
	struct erofs_od_kdev kdev;
	struct erofs_od *od = NULL;
	int err;

	kdev.fd = open(o->device, O_RDWR); /* inherited by children */
	if (kdev.fd < 0)
		return erofs_err(log, -errno, "cannot open %s", o->device);
	err = erofs_od_create(&ocfg, &erofs_od_kdev_ops, &kdev, NULL, &od);
	if (!err)
		err = erofs_od_bind(od, cache_dir, o->tag);
	erofs_od_destroy(od);
	if (err) {
		close(kdev.fd);
		return err;
	}
	erofs_info(log, "supervisor: bound %s, device fd %d", cache_dir,
		   kdev.fd);
	return kdev.fd;
}

int erofs_fetchd_supervise(const struct erofs_fetchd_opts *o,
			   const char *exec_path, char *const argv[],
			   const struct erofs_log *log)
{
	char fdarg[16], **cargv = NULL, *cache_dir;
	sigset_t mask;
	int argc = 0, cargc = 0, devfd, sfd = -1, err;

	if (!argv || !argv[0])
		return erofs_err(log, -EINVAL, "supervisor: no daemon command");
	cache_dir = abs_cache_dir(o, log);
	if (!cache_dir)
		return -EINVAL;
	devfd = supervise_bind(o, cache_dir, log);
	free(cache_dir);
	if (devfd < 0)
		return devfd;
	if (o->pidfile) {
		err = write_pidfile(o->pidfile, log);
		if (err)
			goto out_dev;
	}

	/* the child's command line: the daemon's, plus --devfd N --restore */
	while (argv[argc])
		argc++;
	cargv = calloc(argc + 4, sizeof(*cargv));
	if (!cargv) {
		err = erofs_err(log, -ENOMEM, "supervisor");
		goto out_dev;
	}
	for (int i = 0; i < argc; i++)
		cargv[cargc++] = argv[i];
	snprintf(fdarg, sizeof(fdarg), "%d", devfd);
	cargv[cargc++] = "--devfd";
	cargv[cargc++] = fdarg;
	cargv[cargc++] = "--restore";
	cargv[cargc] = NULL;

	err = block_signals(&mask, true);
	if (err)
		goto out_dev;
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0) {
		err = erofs_err(log, -errno, "signalfd");
		goto out_dev;
	}
	err =
	    supervise_loop(o, exec_path ? exec_path : argv[0], cargv, sfd, log);
	close(sfd);
	if (!err && o->pidfile)
		unlink(o->pidfile);
out_dev:
	free(cargv);
	close(devfd);
	return err;
}

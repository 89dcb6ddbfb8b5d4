// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * erofs-fetchd: the cachefiles on-demand daemon.  Opens /dev/cachefiles (or
 * takes an inherited fd), binds the cache in on-demand mode and serves OPEN,
 * READ and CLOSE from blob sources through the fetch core.  Also: a
 * supervisor mode that keeps the device open and restarts the daemon after
 * a crash (6.8+ "restore"), cache garbage collection, and a --fetch-test
 * path that exercises the sources without a kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "erofs/fetch.h"
#include "erofs/log.h"
#include "erofs/manifest.h"
#include "erofs/ondemand.h"
#include "erofs/util.h"

#define MAX_SOURCES 16

struct options {
	const char *cache_dir;
	const char *tag;
	const char *sources[MAX_SOURCES];
	unsigned int nr_sources;
	const char *manifest;
	const char *fsid;
	const char *pidfile;
	const char *device;
	uint64_t unit;
	uint64_t workers;
	bool prefetch;
	uint64_t stats_interval;
	uint64_t cull_age;
	uint64_t cull_interval;
	bool restore;
	int devfd;
	bool supervise;
	uint64_t max_restarts;
	struct erofs_http_opts http;
	/* --fetch-test */
	const char *fetch_test;
	const char *out;
	uint64_t offset, length;
	bool has_range;
};

enum {
	OPT_CACHE_DIR = 256,
	OPT_TAG,
	OPT_SOURCE,
	OPT_MANIFEST,
	OPT_FSID,
	OPT_UNIT,
	OPT_WORKERS,
	OPT_PREFETCH,
	OPT_LOG_LEVEL,
	OPT_FOREGROUND,
	OPT_PIDFILE,
	OPT_STATS_INTERVAL,
	OPT_CULL_AGE,
	OPT_CULL_INTERVAL,
	OPT_RESTORE,
	OPT_DEVFD,
	OPT_DEVICE,
	OPT_SUPERVISE,
	OPT_MAX_RESTARTS,
	OPT_HTTP_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_HTTP_RETRIES,
	OPT_FETCH_TEST,
	OPT_OUT,
	OPT_OFFSET,
	OPT_LENGTH,
	OPT_HELP,
	OPT_VERSION,
};

static const struct option longopts[] = {
    {"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
    {"tag", required_argument, NULL, OPT_TAG},
    {"source", required_argument, NULL, OPT_SOURCE},
    {"manifest", required_argument, NULL, OPT_MANIFEST},
    {"fsid", required_argument, NULL, OPT_FSID},
    {"fetch-unit", required_argument, NULL, OPT_UNIT},
    {"workers", required_argument, NULL, OPT_WORKERS},
    {"prefetch", no_argument, NULL, OPT_PREFETCH},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"verbose", no_argument, NULL, 'v'},
    {"quiet", no_argument, NULL, 'q'},
    {"foreground", no_argument, NULL, OPT_FOREGROUND},
    {"pidfile", required_argument, NULL, OPT_PIDFILE},
    {"stats-interval", required_argument, NULL, OPT_STATS_INTERVAL},
    {"cull-age", required_argument, NULL, OPT_CULL_AGE},
    {"cull-interval", required_argument, NULL, OPT_CULL_INTERVAL},
    {"restore", no_argument, NULL, OPT_RESTORE},
    {"devfd", required_argument, NULL, OPT_DEVFD},
    {"device", required_argument, NULL, OPT_DEVICE},
    {"supervise", no_argument, NULL, OPT_SUPERVISE},
    {"max-restarts", required_argument, NULL, OPT_MAX_RESTARTS},
    {"http-timeout", required_argument, NULL, OPT_HTTP_TIMEOUT},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"http-retries", required_argument, NULL, OPT_HTTP_RETRIES},
    {"fetch-test", required_argument, NULL, OPT_FETCH_TEST},
    {"out", required_argument, NULL, OPT_OUT},
    {"offset", required_argument, NULL, OPT_OFFSET},
    {"length", required_argument, NULL, OPT_LENGTH},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: erofs-fetchd --cache-dir DIR --source SRC [--source "
	    "SRC...] [options]\n"
	    "       erofs-fetchd --supervise --cache-dir DIR --source SRC "
	    "[options]\n"
	    "       erofs-fetchd --fetch-test NAME --source SRC --out FILE "
	    "[options]\n"
	    "\n"
	    "Serve EROFS blobs to the kernel through the cachefiles on-demand "
	    "protocol.\n"
	    "\n"
	    "  --cache-dir DIR        cachefiles cache directory (absolute or "
	    "made so)\n"
	    "  --tag NAME             cache tag (default: the kernel's "
	    "\"CacheFiles\")\n"
	    "  --source SRC           blob directory or http(s):// base URL; "
	    "repeatable,\n"
	    "                         tried in order\n"
	    "  --manifest FILE        serve exactly the objects of this "
	    "manifest, with\n"
	    "                         its sizes (no HEAD requests)\n"
	    "  --fsid NAME            object name of the manifest's bootstrap\n"
	    "  --fetch-unit SIZE      fetch granularity, power of two (default "
	    "1M)\n"
	    "  --workers N            fetch threads (default %u)\n"
	    "  --prefetch             fill each blob in the background after "
	    "OPEN\n"
	    "  --stats-interval SEC   log statistics every SEC seconds (0: "
	    "off)\n"
	    "  --cull-age SEC         cull cache files unused for SEC seconds\n"
	    "  --cull-interval SEC    how often to look (default 600)\n"
	    "  --pidfile FILE         write the daemon's pid\n"
	    "  --device PATH          the device (default /dev/cachefiles)\n"
	    "  --devfd N              use inherited device fd N instead of "
	    "opening it\n"
	    "  --restore              the device is already bound: send "
	    "\"restore\"\n"
	    "                         instead of dir/tag/bind (after a crash, "
	    "6.8+)\n"
	    "  --supervise            keep the device open and (re)start the "
	    "daemon\n"
	    "                         with --devfd/--restore when it dies\n"
	    "  --max-restarts N       give up after N restarts (default 10)\n"
	    "  --http-timeout SEC     whole-transfer timeout (default 300)\n"
	    "  --connect-timeout SEC  connect timeout (default 10)\n"
	    "  --http-retries N       retries of a failed request (default 3)\n"
	    "  --fetch-test NAME      fetch object NAME into --out FILE "
	    "(whole, or\n"
	    "                         --offset/--length) through the fetch "
	    "core, exit\n"
	    "  -v, --verbose          more log output; -q, --quiet: less\n"
	    "  --log-level N          0 error, 1 warning, 2 info (default), 3 "
	    "debug\n"
	    "  --foreground           accepted; the daemon always runs in the "
	    "foreground\n"
	    "\n"
	    "Signals: SIGTERM/SIGINT stop cleanly, SIGUSR1 logs statistics.\n",
	    EROFS_FETCH_DEFAULT_WORKERS);
}

static int parse_num(const struct erofs_log *log, const char *opt,
		     const char *arg, uint64_t max, uint64_t *out)
{
	if (erofs_parse_u64(arg, max, out))
		return erofs_err(log, -EINVAL, "%s: bad value \"%s\"", opt,
				 arg);
	return 0;
}

static int parse_args(int argc, char **argv, struct options *o,
		      struct erofs_log *log)
{
	uint64_t v;
	int c;

	memset(o, 0, sizeof(*o));
	o->devfd = -1;
	o->device = "/dev/cachefiles";
	o->max_restarts = 10;
	o->cull_interval = 600;
	erofs_http_opts_default(&o->http);
	while ((c = getopt_long(argc, argv, "vqh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_CACHE_DIR:
			o->cache_dir = optarg;
			break;
		case OPT_TAG:
			o->tag = optarg;
			break;
		case OPT_SOURCE:
			if (o->nr_sources == MAX_SOURCES)
				return erofs_err(log, -EINVAL,
						 "at most %d sources",
						 MAX_SOURCES);
			o->sources[o->nr_sources++] = optarg;
			break;
		case OPT_MANIFEST:
			o->manifest = optarg;
			break;
		case OPT_FSID:
			o->fsid = optarg;
			break;
		case OPT_UNIT:
			if (erofs_parse_size(optarg, &o->unit) ||
			    !erofs_is_pow2(o->unit) ||
			    o->unit < EROFS_FETCH_PAGE ||
			    o->unit > EROFS_FETCH_MAX_UNIT)
				return erofs_err(log, -EINVAL,
						 "--fetch-unit %s: a power of "
						 "two from 4K to 64M",
						 optarg);
			break;
		case OPT_WORKERS:
			if (parse_num(log, "--workers", optarg,
				      EROFS_FETCH_MAX_WORKERS, &o->workers) ||
			    !o->workers)
				return erofs_err(log, -EINVAL,
						 "--workers: 1..%u",
						 EROFS_FETCH_MAX_WORKERS);
			break;
		case OPT_PREFETCH:
			o->prefetch = true;
			break;
		case OPT_LOG_LEVEL:
			if (parse_num(log, "--log-level", optarg, 3, &v))
				return -EINVAL;
			log->level = v;
			break;
		case 'v':
			if (log->level < EROFS_LOG_DEBUG)
				log->level++;
			break;
		case 'q':
			if (log->level > EROFS_LOG_ERR)
				log->level--;
			break;
		case OPT_FOREGROUND:
			break;
		case OPT_PIDFILE:
			o->pidfile = optarg;
			break;
		case OPT_STATS_INTERVAL:
			if (parse_num(log, "--stats-interval", optarg,
				      86400 * 365, &o->stats_interval))
				return -EINVAL;
			break;
		case OPT_CULL_AGE:
			if (parse_num(log, "--cull-age", optarg, UINT32_MAX,
				      &o->cull_age))
				return -EINVAL;
			break;
		case OPT_CULL_INTERVAL:
			if (parse_num(log, "--cull-interval", optarg,
				      86400 * 365, &o->cull_interval) ||
			    !o->cull_interval)
				return erofs_err(log, -EINVAL,
						 "--cull-interval: > 0");
			break;
		case OPT_RESTORE:
			o->restore = true;
			break;
		case OPT_DEVFD:
			if (parse_num(log, "--devfd", optarg, INT_MAX, &v))
				return -EINVAL;
			o->devfd = v;
			break;
		case OPT_DEVICE:
			o->device = optarg;
			break;
		case OPT_SUPERVISE:
			o->supervise = true;
			break;
		case OPT_MAX_RESTARTS:
			if (parse_num(log, "--max-restarts", optarg, 1000000,
				      &o->max_restarts))
				return -EINVAL;
			break;
		case OPT_HTTP_TIMEOUT:
			if (parse_num(log, "--http-timeout", optarg, 86400,
				      &v) ||
			    !v)
				return erofs_err(log, -EINVAL,
						 "--http-timeout: 1..86400");
			o->http.timeout_ms = v * 1000;
			if (o->http.low_speed_time_s > (long)v)
				o->http.low_speed_time_s = v;
			break;
		case OPT_CONNECT_TIMEOUT:
			if (parse_num(log, "--connect-timeout", optarg, 3600,
				      &v) ||
			    !v)
				return erofs_err(log, -EINVAL,
						 "--connect-timeout: 1..3600");
			o->http.connect_timeout_ms = v * 1000;
			break;
		case OPT_HTTP_RETRIES:
			if (parse_num(log, "--http-retries", optarg, 20, &v))
				return -EINVAL;
			o->http.retries = v;
			break;
		case OPT_FETCH_TEST:
			o->fetch_test = optarg;
			break;
		case OPT_OUT:
			o->out = optarg;
			break;
		case OPT_OFFSET:
			if (erofs_parse_size(optarg, &o->offset))
				return erofs_err(log, -EINVAL, "--offset %s",
						 optarg);
			o->has_range = true;
			break;
		case OPT_LENGTH:
			if (erofs_parse_size(optarg, &o->length) || !o->length)
				return erofs_err(log, -EINVAL, "--length %s",
						 optarg);
			o->has_range = true;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			exit(0);
		case OPT_VERSION:
			printf("erofs-fetchd (erofs-ondemand) 0.1.0\n");
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc)
		return erofs_err(log, -EINVAL, "unexpected argument \"%s\"",
				 argv[optind]);
	if (!o->nr_sources)
		return erofs_err(log, -EINVAL, "no --source given");
	if (o->fetch_test) {
		if (!o->out)
			return erofs_err(log, -EINVAL,
					 "--fetch-test needs --out FILE");
		if (o->has_range && !o->length)
			return erofs_err(log, -EINVAL,
					 "--offset needs --length");
		return 0;
	}
	if (!o->cache_dir)
		return erofs_err(log, -EINVAL, "no --cache-dir given");
	if (o->supervise && (o->devfd >= 0 || o->restore))
		return erofs_err(log, -EINVAL,
				 "--supervise passes --devfd/--restore itself");
	return 0;
}

/* ------------------------------------------------------------------ */
/* shared setup: sources, manifest, fetch core                          */

struct serve {
	struct erofs_source *srcs[MAX_SOURCES];
	unsigned int nr_srcs;
	struct erofs_manifest manifest;
	bool have_manifest;
	struct erofs_fetch_catalog catalog;
	struct erofs_fetch *fetch;
};

static int serve_setup(struct serve *s, const struct options *o,
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

static void serve_teardown(struct serve *s)
{
	erofs_fetch_destroy(s->fetch);
	s->fetch = NULL;
	if (s->have_manifest) {
		erofs_fetch_catalog_free(&s->catalog);
		erofs_manifest_free(&s->manifest);
	}
	for (unsigned int i = 0; i < s->nr_srcs; i++)
		erofs_source_destroy(s->srcs[i]);
	s->nr_srcs = 0;
}

/* ------------------------------------------------------------------ */
/* --fetch-test                                                        */

struct test_wait {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int pending;
	int err;
};

static void test_done(void *arg, struct erofs_fetch_obj *o, int err)
{
	struct test_wait *w = arg;

	pthread_mutex_lock(&w->lock);
	if (err && !w->err)
		w->err = err;
	w->pending--;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

static int fetch_test(const struct options *o, const struct erofs_log *log)
{
	struct test_wait w = {PTHREAD_MUTEX_INITIALIZER,
			      PTHREAD_COND_INITIALIZER, 0, 0};
	struct erofs_fetch_info info;
	struct erofs_fetch_obj *obj = NULL;
	struct erofs_outfile of;
	struct serve s;
	uint64_t off, end, piece = 128 << 10;
	int err, fd;

	err = serve_setup(&s, o, log);
	if (err)
		goto out;
	err = erofs_fetch_lookup(s.fetch, o->fetch_test, &info);
	if (err) {
		erofs_err(log, err, "object %s", o->fetch_test);
		goto out;
	}
	err = erofs_outfile_open(&of, o->out, log);
	if (err)
		goto out;
	fd = dup(of.fd);
	if (fd < 0) {
		err = erofs_err(log, -errno, "%s", o->out);
		erofs_outfile_abort(&of);
		goto out;
	}
	err = erofs_fetch_obj_open(s.fetch, o->fetch_test, &info, fd, &obj);
	if (err) {
		erofs_outfile_abort(&of);
		goto out;
	}
	off = o->has_range ? o->offset : 0;
	end = o->has_range ? o->offset + o->length : info.size;
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
	if (!err && !o->has_range && ftruncate(of.fd, info.size) < 0)
		err = erofs_err(log, -errno, "%s", o->out);
	if (err) {
		erofs_err(log, err, "fetch of %s failed", o->fetch_test);
		erofs_outfile_abort(&of);
	} else {
		err = erofs_outfile_commit(&of, log);
	}
	if (!err) {
		erofs_fetch_log_stats(s.fetch, "fetch-test");
		printf("fetched %s: %" PRIu64 " bytes\n", o->fetch_test,
		       o->has_range ? o->length : info.size);
	}
out:
	serve_teardown(&s);
	return err ? 1 : 0;
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

static void log_all_stats(struct serve *s, struct erofs_od *od,
			  const char *when)
{
	erofs_fetch_log_stats(s->fetch, when);
	erofs_od_log_stats(od, when);
}

static int run_daemon(const struct options *o, const char *cache_dir,
		      struct erofs_log *log)
{
	struct erofs_od_config ocfg = {.log = log, .prefetch = o->prefetch};
	struct erofs_od_kdev kdev = {.fd = -1};
	struct erofs_od *od = NULL;
	struct serve s;
	sigset_t mask;
	uint64_t next_stats = 0, next_cull = 0;
	bool stop = false;
	int sfd = -1, err, ret = 1;

	if (block_signals(&mask, false))
		return erofs_err(log, -EINVAL, "blocking signals");
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return erofs_err(log, -errno, "signalfd");

	if (o->devfd >= 0) {
		kdev.fd = o->devfd;
		if (fcntl(kdev.fd, F_GETFD) < 0) {
			erofs_err(log, -errno, "--devfd %d", o->devfd);
			close(sfd);
			return 1;
		}
		/* not passed on to anything we might run */
		fcntl(kdev.fd, F_SETFD, FD_CLOEXEC);
	} else {
		kdev.fd = open(o->device, O_RDWR | O_CLOEXEC);
		if (kdev.fd < 0) {
			erofs_err(log, -errno, "cannot open %s%s", o->device,
				  errno == EBUSY    ? " (another daemon has it)"
				  : errno == ENOENT ? " (no cachefiles?)"
						    : "");
			close(sfd);
			return 1;
		}
	}

	err = serve_setup(&s, o, log);
	if (err)
		goto out;
	err = erofs_od_create(&ocfg, &erofs_od_kdev_ops, &kdev, s.fetch, &od);
	if (err)
		goto out;
	if (o->restore) {
		err = erofs_od_restore(od);
		if (err)
			goto out;
		erofs_info(log, "restored on %s (fd %d)", o->device, kdev.fd);
	} else {
		err = erofs_od_bind(od, cache_dir, o->tag);
		if (err)
			goto out;
		erofs_info(log, "bound %s in on-demand mode", cache_dir);
	}
	if (o->pidfile && write_pidfile(o->pidfile, log))
		goto out;
	if (o->stats_interval)
		next_stats = mono_s() + o->stats_interval;
	if (o->cull_age)
		next_cull = mono_s();

	while (!stop) {
		struct pollfd pfd[2] = {
		    {.fd = kdev.fd, .events = POLLIN},
		    {.fd = sfd, .events = POLLIN},
		};
		int timeout = -1, n;
		uint64_t now = mono_s();

		if (o->cull_age && now >= next_cull) {
			int culled = erofs_od_cull_old(od, cache_dir,
						       o->cull_age, time(NULL));

			if (culled > 0)
				erofs_info(log, "culled %d cache files",
					   culled);
			next_cull = now + o->cull_interval;
		}
		if (o->stats_interval && now >= next_stats) {
			log_all_stats(&s, od, "periodic");
			next_stats = now + o->stats_interval;
		}
		if (o->cull_age || o->stats_interval) {
			/* wake at least once a minute; never overflow */
			uint64_t wait_s = 60;

			if (o->cull_age && next_cull - now < wait_s)
				wait_s = next_cull - now;
			if (o->stats_interval && next_stats - now < wait_s)
				wait_s = next_stats - now;
			timeout = wait_s * 1000;
		}

		n = poll(pfd, 2, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			erofs_err(log, -errno, "poll");
			goto out;
		}
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGUSR1) {
					log_all_stats(&s, od, "SIGUSR1");
				} else {
					erofs_info(log, "signal %u: stopping",
						   si.ssi_signo);
					stop = true;
				}
			}
		}
		if (stop)
			break;
		if (pfd[0].revents & (POLLERR | POLLNVAL)) {
			erofs_err(log, -EIO, "%s: poll error", o->device);
			goto out;
		}
		if (pfd[0].revents & POLLIN) {
			int handled = 0;

			/* a read after POLLIN may still find nothing */
			for (int i = 0; i < 256; i++) {
				int r = erofs_od_process(od);

				if (r < 0)
					goto out;
				if (!r)
					break;
				handled++;
			}
			/* never spin on a device that keeps saying POLLIN
			 * with nothing to read */
			if (!handled) {
				struct timespec ts = {0, 2000000};

				nanosleep(&ts, NULL);
			}
		}
	}
	ret = 0;
out:
	/* finish the queued READs (and their completions), then close */
	if (s.fetch && od)
		log_all_stats(&s, od, "exit");
	erofs_od_destroy(od);
	serve_teardown(&s);
	if (o->pidfile && !ret)
		unlink(o->pidfile);
	if (kdev.fd >= 0)
		close(kdev.fd);
	close(sfd);
	return ret;
}

/* ------------------------------------------------------------------ */
/* supervisor                                                          */

static int supervise(int argc, char **argv, const struct options *o,
		     const char *cache_dir, struct erofs_log *log)
{
	struct erofs_od_config ocfg = {.log = log};
	struct erofs_od_kdev kdev;
	struct erofs_od *od;
	char fdarg[16], **cargv;
	sigset_t mask;
	unsigned int restarts = 0;
	int sfd, cargc = 0, err;
	bool stopping = false;

	kdev.fd = open(o->device, O_RDWR); /* inherited by children */
	if (kdev.fd < 0)
		return erofs_err(log, -errno, "cannot open %s", o->device), 1;
	err = erofs_od_create(&ocfg, &erofs_od_kdev_ops, &kdev, NULL, &od);
	if (!err)
		err = erofs_od_bind(od, cache_dir, o->tag);
	erofs_od_destroy(od);
	if (err) {
		close(kdev.fd);
		return 1;
	}
	erofs_info(log, "supervisor: bound %s, device fd %d", cache_dir,
		   kdev.fd);
	if (o->pidfile && write_pidfile(o->pidfile, log))
		return 1;

	/* the child's command line: ours minus --supervise & co, plus
	 * --devfd N --restore */
	cargv = calloc(argc + 4, sizeof(*cargv));
	if (!cargv)
		return erofs_err(log, -ENOMEM, "supervisor"), 1;
	snprintf(fdarg, sizeof(fdarg), "%d", kdev.fd);
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--supervise") ||
		    !strncmp(argv[i], "--max-restarts=", 15) ||
		    !strncmp(argv[i], "--pidfile=", 10))
			continue;
		if ((!strcmp(argv[i], "--max-restarts") ||
		     !strcmp(argv[i], "--pidfile")) &&
		    i + 1 < argc) {
			i++;
			continue;
		}
		cargv[cargc++] = argv[i];
	}
	cargv[cargc++] = "--devfd";
	cargv[cargc++] = fdarg;
	cargv[cargc++] = "--restore";
	cargv[cargc] = NULL;

	if (block_signals(&mask, true))
		return 1;
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);
	if (sfd < 0)
		return erofs_err(log, -errno, "signalfd"), 1;

	for (;;) {
		pid_t pid = fork();
		int status = 0;

		if (pid < 0) {
			erofs_err(log, -errno, "fork");
			break;
		}
		if (!pid) {
			sigset_t none;

			sigemptyset(&none);
			sigprocmask(SIG_SETMASK, &none, NULL);
			execv("/proc/self/exe", cargv);
			execvp(argv[0], cargv);
			_exit(127);
		}
		erofs_info(log, "supervisor: started daemon pid %ld",
			   (long)pid);
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
				stopping = true;
			kill(pid, si.ssi_signo);
		}
		if (stopping || (WIFEXITED(status) && !WEXITSTATUS(status))) {
			erofs_info(log,
				   "supervisor: daemon exited (status "
				   "%d); stopping",
				   status);
			break;
		}
		if (restarts >= o->max_restarts) {
			erofs_err(log, 0,
				  "supervisor: daemon died %u times; "
				  "giving up",
				  restarts + 1);
			free(cargv);
			close(sfd);
			return 1;
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
	free(cargv);
	close(sfd);
	if (o->pidfile)
		unlink(o->pidfile);
	close(kdev.fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct erofs_log log;
	struct options o;
	char *cache_dir = NULL;
	int ret;

	erofs_log_init(&log, "erofs-fetchd");
	log.level = EROFS_LOG_INFO;
	if (parse_args(argc, argv, &o, &log))
		return 2;
	if (o.fetch_test)
		return fetch_test(&o, &log);

	cache_dir = realpath(o.cache_dir, NULL);
	if (!cache_dir) {
		erofs_err(&log, -errno, "--cache-dir %s", o.cache_dir);
		return 1;
	}
	if (o.supervise) {
		ret = supervise(argc, argv, &o, cache_dir, &log);
	} else {
		/* sources are opened by fd at start, so the cwd changes of
		 * cull/inuse do not affect them */
		ret = run_daemon(&o, cache_dir, &log);
	}
	free(cache_dir);
	return ret;
}

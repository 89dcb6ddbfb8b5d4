// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * erofs-fetchd: the on-demand daemon (cachefiles or fanotify backend).  The
 * serving core, the backends, the supervisor that restarts it after a
 * crash, cache garbage collection and the kernel-free --fetch-test all live
 * in liberofs (erofs/fetchd.h); this turns the command line into options
 * and owns the process-wide parts: the signal handlers, which only call the
 * library's async-signal-safe stop handles.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#include "erofs/fetchd.h"
#include "erofs/log.h"
#include "erofs/util.h"

struct cli {
	struct erofs_fetchd_opts d;
	bool supervise;
	bool supervised;	      /* --child-of-supervisor */
	const char *fetch_test, *out; /* --fetch-test */
	uint64_t offset, length;
	bool has_range;
	char **daemon_argv; /* for --supervise: the child's options */
};

/* long options only: their codes are not in the short option string */
// clang-format off
#define A(name, code) {name, required_argument, NULL, code}
#define F(name, code) {name, no_argument, NULL, code}
static const struct option longopts[] = {
	A("cache-dir", 'C'), A("tag", 'T'), A("source", 'S'),
	A("manifest", 'M'), A("fsid", 'F'), A("fetch-unit", 'U'),
	A("workers", 'W'), F("prefetch", 'P'), A("log-level", 'L'),
	F("verbose", 'v'), F("quiet", 'q'), F("foreground", 'f'),
	A("pidfile", 'p'), A("stats-interval", 's'), A("cull-age", 'a'),
	A("cull-interval", 'i'), F("restore", 'R'), A("devfd", 'd'),
	A("device", 'D'), F("supervise", 'X'), A("max-restarts", 'm'),
	A("http-timeout", 't'), A("connect-timeout", 'c'),
	A("http-retries", 'r'), A("fetch-test", 'e'), A("out", 'o'),
	A("offset", 'O'), A("length", 'l'), F("help", 'h'), F("version", 'V'),
	A("backend", 'B'), A("fanotify-fd", 'g'), A("pending-fd", 'G'),
	F("control", 'K'), F("exit-when-idle", 'E'), A("readahead", 'A'),
	F("child-of-supervisor", 'Y'),
	{NULL, 0, NULL, 0},
};
#undef A
#undef F
// clang-format on

/* user-visible lines are not split, so they can be grepped for */
static void usage(FILE *out)
{
	// clang-format off
	fprintf(out,
		"usage: erofs-fetchd --cache-dir DIR --source SRC [--source SRC...] [options]\n"
		"       erofs-fetchd --supervise --cache-dir DIR --source SRC [options]\n"
		"       erofs-fetchd --fetch-test NAME --source SRC --out FILE [options]\n"
		"\n"
		"Serve EROFS blobs to the kernel on demand: through the cachefiles on-demand\n"
		"protocol, or through fanotify pre-content hooks on file-backed mounts.\n"
		"\n"
		"  --backend B            fanotify, cachefiles or auto (default: fanotify\n"
		"                         on Linux 6.14+, else cachefiles)\n"
		"  --cache-dir DIR        cache directory (cachefiles: the bound cache;\n"
		"                         fanotify: sparse blobs in DIR/blobs, on ext4,\n"
		"                         xfs or btrfs)\n"
		"  --tag NAME             cache tag (default: the kernel's \"CacheFiles\")\n"
		"  --source SRC           blob directory or http(s):// base URL; repeatable,\n"
		"                         tried in order\n"
		"  --manifest FILE        serve exactly the objects of this manifest, with\n"
		"                         its sizes (no HEAD requests)\n"
		"  --fsid NAME            object name of the manifest's bootstrap\n"
		"  --fetch-unit SIZE      fetch granularity, power of two (default 1M)\n"
		"  --workers N            fetch threads (default %u; %u when every\n"
		"                         source is a local directory)\n"
		"  --readahead SIZE       largest read-ahead window of a sequential reader\n"
		"                         (default 16M; 0: no read-ahead)\n"
		"  --prefetch             fill each blob in the background\n"
		"  --control              serve the control socket DIR/.erofs-fetchd.sock\n"
		"                         (erofs-mount adds and removes images through it)\n"
		"  --exit-when-idle       stop once the last image is removed\n"
		"  --fanotify-fd N        use inherited fanotify group fd N\n"
		"  --pending-fd N         the supervisor's table of unanswered events\n"
		"  --child-of-supervisor  (given by --supervise to its daemon) a stop\n"
		"                         signal from another process exits with status\n"
		"                         128+SIGNAL, so the supervisor restarts it\n"
		"  --stats-interval SEC   log statistics every SEC seconds (0: off)\n"
		"  --cull-age SEC         cull cache files unused for SEC seconds\n"
		"  --cull-interval SEC    how often to look (default 600)\n"
		"  --pidfile FILE         write the daemon's pid\n"
		"  --device PATH          the device (default /dev/cachefiles)\n"
		"  --devfd N              use inherited device fd N instead of opening it\n"
		"  --restore              cachefiles: the device is bound: send \"restore\"\n"
		"                         instead of dir/tag/bind (after a crash, 6.8+)\n"
		"  --supervise            keep the device or fanotify group open and\n"
		"                         (re)start the daemon with it when it dies\n"
		"  --max-restarts N       give up after N restarts (default 10)\n"
		"  --http-timeout SEC     whole-transfer timeout (default 300)\n"
		"  --connect-timeout SEC  connect timeout (default 10)\n"
		"  --http-retries N       retries of a failed request (default 3)\n"
		"  --fetch-test NAME      fetch object NAME into --out FILE (whole, or\n"
		"                         --offset/--length) through the fetch core, exit\n"
		"  -v, --verbose          more log output; -q, --quiet: less\n"
		"  --log-level N          0 error, 1 warning, 2 info (default), 3 debug\n"
		"  --foreground           accepted; the daemon always runs in the foreground\n"
		"\n"
		"Signals: SIGTERM/SIGINT stop cleanly, SIGUSR1 logs statistics.  A\n"
		"supervised daemon stops for good only through its supervisor, the\n"
		"control socket or --exit-when-idle: a stop signal sent to it by anyone\n"
		"else ends it like a crash, and it is restarted.\n",
		EROFS_FETCH_DEFAULT_WORKERS, EROFS_FETCH_LOCAL_WORKERS);
	// clang-format on
}

/* @arg as a number in [@min, @max]; -EINVAL (logged) otherwise */
static int num(const struct erofs_log *log, const char *opt, const char *arg,
	       uint64_t min, uint64_t max, uint64_t *out)
{
	int err = 0;

	if (erofs_parse_u64(arg, max, out))
		err = erofs_err(log, -EINVAL, "%s: bad value \"%s\"", opt, arg);
	if (min && (err || *out < min))
		err = erofs_err(log, -EINVAL, "%s: %" PRIu64 "..%" PRIu64, opt,
				min, max);
	return err;
}

static int parse_opt(int c, struct cli *o, struct erofs_log *log)
{
	struct erofs_fetchd_opts *d = &o->d;
	uint64_t v;

	switch (c) {
	case 'S':
		return erofs_fetchd_add_source(d, optarg, log);
	case 'U':
		if (erofs_parse_size(optarg, &d->unit) ||
		    !erofs_is_pow2(d->unit) || d->unit < EROFS_FETCH_PAGE ||
		    d->unit > EROFS_FETCH_MAX_UNIT)
			return erofs_err(log, -EINVAL,
					 "--fetch-unit %s: a power of two "
					 "from 4K to 64M",
					 optarg);
		break;
	case 'A':
		if (erofs_parse_size(optarg, &d->readahead) ||
		    d->readahead > EROFS_FETCH_MAX_RA)
			return erofs_err(log, -EINVAL,
					 "--readahead %s: a size up to 1G "
					 "(0: none)",
					 optarg);
		d->no_readahead = !d->readahead;
		break;
	case 'W':
		if (num(log, "--workers", optarg, 1, EROFS_FETCH_MAX_WORKERS,
			&v))
			return -EINVAL;
		d->workers = v;
		break;
	case 'L':
		if (num(log, "--log-level", optarg, 0, EROFS_LOG_DEBUG, &v))
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
	case 's':
		return num(log, "--stats-interval", optarg, 0, 86400 * 365,
			   &d->stats_interval);
	case 'a':
		return num(log, "--cull-age", optarg, 0, UINT32_MAX,
			   &d->cachefiles.cull_age);
	case 'i':
		if (num(log, "--cull-interval", optarg, 0, 86400 * 365,
			&d->cachefiles.cull_interval) ||
		    !d->cachefiles.cull_interval)
			return erofs_err(log, -EINVAL, "--cull-interval: > 0");
		break;
	case 'd':
		if (num(log, "--devfd", optarg, 0, INT_MAX, &v))
			return -EINVAL;
		d->cachefiles.devfd = v;
		break;
	case 'g':
		if (num(log, "--fanotify-fd", optarg, 0, INT_MAX, &v))
			return -EINVAL;
		d->fanotify.groupfd = v;
		break;
	case 'G':
		if (num(log, "--pending-fd", optarg, 0, INT_MAX, &v))
			return -EINVAL;
		d->fanotify.pendingfd = v;
		break;
	case 'B':
		if (erofs_fetchd_parse_backend(optarg, &d->backend))
			return erofs_err(log, -EINVAL,
					 "--backend %s: fanotify, cachefiles "
					 "or auto",
					 optarg);
		break;
	case 'm':
		if (num(log, "--max-restarts", optarg, 0, 1000000, &v))
			return -EINVAL;
		d->max_restarts = v;
		break;
	case 't':
		if (num(log, "--http-timeout", optarg, 1, 86400, &v))
			return -EINVAL;
		d->http.timeout_ms = v * 1000;
		if (d->http.low_speed_time_s > (long)v)
			d->http.low_speed_time_s = v;
		break;
	case 'c':
		if (num(log, "--connect-timeout", optarg, 1, 3600, &v))
			return -EINVAL;
		d->http.connect_timeout_ms = v * 1000;
		break;
	case 'r':
		if (num(log, "--http-retries", optarg, 0, 20, &v))
			return -EINVAL;
		d->http.retries = v;
		break;
	case 'O':
		o->has_range = true;
		if (erofs_parse_size(optarg, &o->offset))
			return erofs_err(log, -EINVAL, "--offset %s", optarg);
		break;
	case 'l':
		o->has_range = true;
		if (erofs_parse_size(optarg, &o->length) || !o->length)
			return erofs_err(log, -EINVAL, "--length %s", optarg);
		break;
	case 'h':
		usage(stdout);
		exit(0);
	case 'V':
		printf("erofs-fetchd (erofs-ondemand) 0.1.0\n");
		exit(0);
	default:
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static int parse_args(int argc, char **argv, struct cli *o,
		      struct erofs_log *log)
{
	/* the options that only store their argument or set a flag */
	const char **strs[128] = {
	    ['C'] = &o->d.cache_dir, ['T'] = &o->d.cachefiles.tag,
	    ['M'] = &o->d.manifest,  ['F'] = &o->d.fsid,
	    ['p'] = &o->d.pidfile,   ['D'] = &o->d.cachefiles.device,
	    ['e'] = &o->fetch_test,  ['o'] = &o->out,
	};
	bool foreground; /* accepted: the daemon always is */
	bool *flags[128] = {
	    ['P'] = &o->d.prefetch, ['R'] = &o->d.cachefiles.restore,
	    ['X'] = &o->supervise,  ['f'] = &foreground,
	    ['K'] = &o->d.control,  ['E'] = &o->d.exit_when_idle,
	    ['Y'] = &o->supervised,
	};
	int c, n = 0;

	memset(o, 0, sizeof(*o));
	erofs_fetchd_opts_init(&o->d);
	o->daemon_argv = calloc(argc + 1, sizeof(*o->daemon_argv));
	if (!o->daemon_argv)
		return erofs_err(log, -ENOMEM, "options");
	o->daemon_argv[n++] = argv[0];
	for (;;) {
		int at = optind;

		c = getopt_long(argc, argv, "vqh", longopts, NULL);
		if (c == -1)
			break;
		/*
		 * A supervised daemon gets our command line without the
		 * supervisor's own options, however they were spelled
		 * ("--super", "--pidfile=F").  getopt moves on to the next
		 * element only after the last option of a "-vq" bundle, so
		 * every element is copied once.
		 */
		if (c != 'X' && c != 'm' && c != 'p')
			for (int k = at; k < optind; k++)
				o->daemon_argv[n++] = argv[k];
		if (c > 0 && c < 128 && strs[c])
			*strs[c] = optarg;
		else if (c > 0 && c < 128 && flags[c])
			*flags[c] = true;
		else if (parse_opt(c, o, log))
			return -EINVAL;
	}
	if (optind < argc)
		return erofs_err(log, -EINVAL, "unexpected argument \"%s\"",
				 argv[optind]);
	if (!o->d.nr_sources && (o->fetch_test || !o->d.control))
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
	if (!o->d.cache_dir)
		return erofs_err(log, -EINVAL, "no --cache-dir given");
	/* our supervisor sweeps the group before it starts us */
	o->d.fanotify.answered = o->supervised;
	if (o->supervise &&
	    (o->d.cachefiles.devfd >= 0 || o->d.cachefiles.restore ||
	     o->d.fanotify.groupfd >= 0 || o->d.fanotify.pendingfd >= 0))
		return erofs_err(log, -EINVAL,
				 "--supervise passes --devfd/--restore/"
				 "--fanotify-fd itself");
	return 0;
}

/*
 * systemd's file-descriptor store (no libsystemd): the kernel handle is
 * sent with "FDSTORE=1" over $NOTIFY_SOCKET once the daemon is up, and a
 * restarted daemon gets it back as $LISTEN_FDS, named by $LISTEN_FDNAMES.
 * The service manager then holds the fanotify group (or /dev/cachefiles)
 * across crashes and restarts, as a supervisor would.
 */
#define FDNAME_GROUP	  "erofs-fanotify-group"
#define FDNAME_PENDING	  "erofs-fanotify-pending"
#define FDNAME_CACHEFILES "erofs-cachefiles"

static void sd_take_fds(struct erofs_fetchd_opts *d, struct erofs_log *log)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	char *copy, *save = NULL, *name;
	int fd = 3;

	if (!pid || !n || !names || atol(pid) != (long)getpid())
		return;
	copy = strdup(names);
	for (name = copy ? strtok_r(copy, ":", &save) : NULL;
	     name && fd < 3 + atoi(n);
	     name = strtok_r(NULL, ":", &save), fd++) {
		if (!strcmp(name, FDNAME_GROUP)) {
			d->fanotify.groupfd = fd;
			d->backend = EROFS_FETCHD_FANOTIFY;
		} else if (!strcmp(name, FDNAME_PENDING)) {
			d->fanotify.pendingfd = fd;
		} else if (!strcmp(name, FDNAME_CACHEFILES)) {
			d->cachefiles.devfd = fd;
			d->cachefiles.restore = true;
			d->backend = EROFS_FETCHD_CACHEFILES;
		}
	}
	if (d->fanotify.groupfd >= 0 || d->cachefiles.devfd >= 0)
		erofs_info(log, "took the kernel handle back from the service "
				"manager's fd store");
	free(copy);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

static void sd_send(const char *msg, int fd, struct erofs_log *log)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct iovec iov = {(void *)msg, strlen(msg)};
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct msghdr mh = {.msg_name = &sa, .msg_iov = &iov, .msg_iovlen = 1};
	socklen_t len;
	int s;

	if (!path || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sa.sun_path))
		return;
	strcpy(sa.sun_path, path);
	len = offsetof(struct sockaddr_un, sun_path) + strlen(path);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	mh.msg_namelen = len;
	if (fd >= 0) {
		struct cmsghdr *c;

		mh.msg_control = cbuf;
		mh.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || sendmsg(s, &mh, MSG_NOSIGNAL) < 0)
		erofs_warn(log, "notify socket %s: %s", path, strerror(errno));
	if (s >= 0)
		close(s);
}

static void sd_store_fds(struct erofs_fetchd *d, struct erofs_log *log)
{
	int k = erofs_fetchd_kernel_fd(d), p = erofs_fetchd_pending_fd(d);
	bool fan = erofs_fetchd_backend(d) == EROFS_FETCHD_FANOTIFY;

	if (!getenv("NOTIFY_SOCKET"))
		return;
	if (k >= 0)
		sd_send(fan ? "FDSTORE=1\nFDNAME=" FDNAME_GROUP
			    : "FDSTORE=1\nFDNAME=" FDNAME_CACHEFILES,
			k, log);
	if (fan && p >= 0)
		sd_send("FDSTORE=1\nFDNAME=" FDNAME_PENDING, p, log);
	sd_send("READY=1", -1, log);
}

/* the process-wide part: signal handlers that call the stop handles */
static struct erofs_fetchd *the_daemon;
static struct erofs_fetchd_supervisor *the_supervisor;
/* the first stop signal the daemon got, and who sent it */
static volatile sig_atomic_t stop_signo;
static volatile sig_atomic_t stop_sender;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	if (the_supervisor) {
		erofs_fetchd_supervisor_signal(the_supervisor, sig);
	} else if (the_daemon && sig == SIGUSR1) {
		erofs_fetchd_poke_stats(the_daemon);
	} else if (the_daemon) {
		if (!stop_signo) {
			stop_sender = si ? si->si_pid : 0;
			stop_signo = sig;
		}
		erofs_fetchd_stop(the_daemon);
	}
}

/*
 * A supervised daemon stopped by a signal its supervisor did not send
 * (kill(1) on the worker, the OOM killer's SIGTERM, ...) exits like a
 * crash, with 128+SIGNAL, so that the supervisor restarts it: only the
 * supervisor (which forwards its own stop signals), the control socket
 * ("stop", or the last image removed with --exit-when-idle) end a
 * supervised service.
 */
static int stop_status(const struct cli *o, const struct erofs_log *log)
{
	if (!o->supervised || !stop_signo || stop_sender == getppid())
		return 0;
	erofs_warn(log,
		   "stopped by signal %d from pid %d, not by the supervisor: "
		   "exiting with status %d to be restarted",
		   (int)stop_signo, (int)stop_sender, 128 + (int)stop_signo);
	return 128 + stop_signo;
}

static void install_handlers(void)
{
	struct sigaction sa = {.sa_sigaction = on_signal,
			       .sa_flags = SA_RESTART | SA_SIGINFO};
	const int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};

	sigemptyset(&sa.sa_mask);
	for (unsigned int i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	struct erofs_log log;
	struct cli o;
	uint64_t fetched;
	int err;

	erofs_log_init(&log, "erofs-fetchd");
	log.level = EROFS_LOG_INFO;
	if (parse_args(argc, argv, &o, &log)) {
		free(o.daemon_argv);
		return 2;
	}
	if (o.fetch_test) {
		err =
		    erofs_fetchd_fetch_test(&o.d, o.fetch_test, o.out, o.offset,
					    o.length, &fetched, &log);
		if (!err)
			printf("fetched %s: %" PRIu64 " bytes\n", o.fetch_test,
			       fetched);
	} else if (o.supervise) {
		struct erofs_fetchd_supervisor *s;

		err = erofs_fetchd_supervisor_create(&o.d, "/proc/self/exe",
						     o.daemon_argv, &log, &s);
		if (!err) {
			the_supervisor = s;
			install_handlers();
			err = erofs_fetchd_supervisor_run(s);
		}
		the_supervisor = NULL;
		erofs_fetchd_supervisor_destroy(s);
	} else {
		struct erofs_fetchd *d;

		sd_take_fds(&o.d, &log);
		err = erofs_fetchd_create(&o.d, &log, &d);
		if (!err) {
			sd_store_fds(d, &log);
			the_daemon = d;
			install_handlers();
			err = erofs_fetchd_serve(d);
		}
		the_daemon = NULL;
		erofs_fetchd_destroy(d);
		if (!err) {
			free(o.daemon_argv);
			return stop_status(&o, &log);
		}
	}
	free(o.daemon_argv);
	return err ? 1 : 0;
}

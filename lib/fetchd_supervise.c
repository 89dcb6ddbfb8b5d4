// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The supervisor of erofs-fetchd: it opens the kernel handle once and keeps
 * it for the whole service life, so a crash of the daemon never ends it:
 *  - cachefiles: /dev/cachefiles, bound; a restarted daemon gets it with
 *    --devfd N --restore and the kernel re-sends what was pending (6.8+);
 *  - fanotify: the group; a restarted daemon gets it with --fanotify-fd N
 *    and finds the marks in place.  Events the dead daemon had read but not
 *    answered are answered here with EIO (the pending table it shared with
 *    us says which, and a sweep of every event fd number it could have
 *    had finds those it read but had not recorded yet): a reader gets an
 *    error it can retry, never zeros.
 * The daemon runs with --child-of-supervisor: a stop signal anyone else
 * sends it ends it with 128+SIGNAL, which is restarted like a crash; only a
 * stop signal sent to the supervisor (forwarded), or the daemon's own clean
 * exit (control socket "stop", --exit-when-idle) ends the service.
 * The child is watched through a pidfd and signals reach us through a pipe
 * a program's handler writes to, so no disposition or mask is changed.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "erofs/ondemand.h"
#include "liberofs_fanotify.h"
#include "liberofs_fetchd.h"

struct erofs_fetchd_supervisor {
	const struct erofs_fetchd_opts *o;
	const struct erofs_log *log;
	enum erofs_fetchd_backend backend;
	const char *exec_path;
	char **cargv;
	char fdarg[16], pendarg[16];
	int handle;    /* device or group fd, inherited by children */
	int pendingfd; /* fanotify: the pending table */
	uint64_t *pending;
	int wake[2];
	bool pidfile_written;
};

/* open the device (inheritable) and bind the cache; the fd or -errno */
static int bind_device(const struct erofs_fetchd_opts *o, const char *cache_dir,
		       const struct erofs_log *log)
{
	struct erofs_od_config ocfg = {.log = log};
	struct erofs_od_kdev kdev;
	struct erofs_od *od = NULL;
	int err;

	kdev.fd = open(o->cachefiles.device, O_RDWR); /* inherited */
	if (kdev.fd < 0)
		return erofs_err(log, -errno, "cannot open %s",
				 o->cachefiles.device);
	err = erofs_od_create(&ocfg, &erofs_od_kdev_ops, &kdev, NULL, &od);
	if (!err)
		err = erofs_od_bind(od, cache_dir, o->cachefiles.tag);
	erofs_od_destroy(od);
	if (err) {
		close(kdev.fd);
		return err;
	}
	erofs_info(log, "supervisor: bound %s, device fd %d", cache_dir,
		   kdev.fd);
	return kdev.fd;
}

int erofs_fetchd_supervisor_create(const struct erofs_fetchd_opts *o,
				   const char *exec_path, char *const argv[],
				   const struct erofs_log *log,
				   struct erofs_fetchd_supervisor **out)
{
	struct erofs_fetchd_supervisor *s = calloc(1, sizeof(*s));
	char *cache_dir = NULL;
	int argc = 0, n = 0, err;

	*out = s;
	if (!s)
		return erofs_err(log, -ENOMEM, "supervisor");
	s->o = o;
	s->log = log;
	s->handle = s->pendingfd = -1;
	s->wake[0] = s->wake[1] = -1;
	if (!argv || !argv[0])
		return erofs_err(log, -EINVAL, "supervisor: no daemon command");
	s->exec_path = exec_path ? exec_path : argv[0];
	if (pipe2(s->wake, O_CLOEXEC | O_NONBLOCK))
		return erofs_err(log, -errno, "supervisor: pipe");
	err = erofs_fetchd_resolve_backend(o->backend, o->cachefiles.device,
					   &s->backend);
	if (err)
		return erofs_fail(log, err,
				  "supervisor: no on-demand backend on this "
				  "kernel");
	if (!o->cache_dir)
		return erofs_err(log, -EINVAL, "no cache directory given");
	cache_dir = realpath(o->cache_dir, NULL);
	if (!cache_dir)
		return erofs_err(log, -errno, "--cache-dir %s", o->cache_dir);
	if (s->backend == EROFS_FETCHD_CACHEFILES) {
		s->handle = bind_device(o, cache_dir, log);
	} else {
		s->handle = erofs_fanotify_group(true, log);
		if (s->handle >= 0) {
			s->pendingfd = erofs_fan_pending_create(log);
			if (s->pendingfd >= 0)
				s->pending =
				    erofs_fan_pending_map(s->pendingfd, log);
			if (!s->pending)
				err = -ENOMEM;
		}
		if (s->handle >= 0)
			erofs_info(log, "supervisor: fanotify group fd %d",
				   s->handle);
	}
	free(cache_dir);
	if (s->handle < 0)
		return s->handle;
	if (err)
		return err;
	if (o->pidfile) {
		err = fetchd_write_pidfile(o->pidfile, log);
		if (err)
			return err;
		s->pidfile_written = true;
	}

	/* the child's command line: the daemon's, plus the handle */
	while (argv[argc])
		argc++;
	s->cargv = calloc(argc + 8, sizeof(*s->cargv));
	if (!s->cargv)
		return erofs_err(log, -ENOMEM, "supervisor");
	for (int i = 0; i < argc; i++)
		s->cargv[n++] = argv[i];
	snprintf(s->fdarg, sizeof(s->fdarg), "%d", s->handle);
	snprintf(s->pendarg, sizeof(s->pendarg), "%d", s->pendingfd);
	s->cargv[n++] = "--backend";
	s->cargv[n++] = (char *)erofs_fetchd_backend_name(s->backend);
	if (s->backend == EROFS_FETCHD_CACHEFILES) {
		s->cargv[n++] = "--devfd";
		s->cargv[n++] = s->fdarg;
		s->cargv[n++] = "--restore";
	} else {
		s->cargv[n++] = "--fanotify-fd";
		s->cargv[n++] = s->fdarg;
		s->cargv[n++] = "--pending-fd";
		s->cargv[n++] = s->pendarg;
	}
	s->cargv[n++] = "--child-of-supervisor";
	s->cargv[n] = NULL;
	return 0;
}

void erofs_fetchd_supervisor_signal(struct erofs_fetchd_supervisor *s,
				    int signo)
{
	unsigned char c = signo;
	int saved = errno;

	if (write(s->wake[1], &c, 1) < 0) {
		/* a full pipe already holds a stop */
	}
	errno = saved;
}

static int pidfd_open_(pid_t pid)
{
	return syscall(SYS_pidfd_open, pid, 0);
}

/* run the child until it exits; *stopping when a stop signal came */
static int watch_child(struct erofs_fetchd_supervisor *s, pid_t pid,
		       bool *stopping)
{
	int pfd = pidfd_open_(pid), status = 0;

	if (pfd < 0) {
		erofs_err(s->log, -errno, "supervisor: pidfd_open");
		kill(pid, SIGTERM);
		waitpid(pid, &status, 0);
		*stopping = true;
		return status;
	}
	for (;;) {
		struct pollfd p[2] = {{.fd = s->wake[0], .events = POLLIN},
				      {.fd = pfd, .events = POLLIN}};
		unsigned char sig[64];
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		/*
		 * A stop signal that reached us too (a terminal's ^C goes to
		 * the whole process group) is read even when the child is
		 * gone already: it was for the service, not a crash.
		 */
		n = read(s->wake[0], sig, sizeof(sig));
		for (ssize_t i = 0; i < n; i++) {
			if (sig[i] != SIGUSR1)
				*stopping = true;
			if (!(p[1].revents & POLLIN))
				kill(pid, sig[i]);
		}
		if (p[1].revents & POLLIN)
			break;
	}
	close(pfd);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return status;
}

int erofs_fetchd_supervisor_run(struct erofs_fetchd_supervisor *s)
{
	unsigned int restarts = 0;
	bool stopping = false;

	for (;;) {
		pid_t pid = fork();
		int status;

		if (pid < 0)
			return erofs_err(s->log, -errno, "supervisor: fork");
		if (!pid) {
			execv(s->exec_path, s->cargv);
			execvp(s->cargv[0], s->cargv);
			_exit(127);
		}
		erofs_info(s->log, "supervisor: started daemon pid %ld",
			   (long)pid);
		status = watch_child(s, pid, &stopping);
		if (s->pending) {
			unsigned int n =
			    erofs_fan_pending_fail_all(s->pending, s->handle);
			unsigned int u = erofs_fan_pending_sweep(s->handle);

			if (n + u)
				erofs_warn(s->log,
					   "supervisor: answered %u events "
					   "the daemon left with EIO (%u read "
					   "but not recorded yet)",
					   n + u, u);
		}
		if (stopping || (WIFEXITED(status) && !WEXITSTATUS(status))) {
			erofs_info(s->log,
				   "supervisor: daemon exited (status %d); "
				   "stopping",
				   status);
			if (s->pidfile_written)
				unlink(s->o->pidfile);
			s->pidfile_written = false;
			return 0;
		}
		if (restarts >= s->o->max_restarts) {
			erofs_err(s->log, 0,
				  "supervisor: daemon died %u times; giving up",
				  restarts + 1);
			return -ECHILD;
		}
		restarts++;
		erofs_warn(
		    s->log, "supervisor: daemon %s %d; restart %u with %s",
		    WIFSIGNALED(status)		? "killed by signal"
		    : WEXITSTATUS(status) > 128 ? "stopped by someone else's "
						  "signal, status"
						: "exited with",
		    WIFSIGNALED(status) ? WTERMSIG(status)
					: WEXITSTATUS(status),
		    restarts,
		    s->backend == EROFS_FETCHD_CACHEFILES
			? "restore"
			: "the fanotify group");
		sleep(1);
	}
}

void erofs_fetchd_supervisor_destroy(struct erofs_fetchd_supervisor *s)
{
	if (!s)
		return;
	erofs_fan_pending_unmap(s->pending);
	if (s->pendingfd >= 0)
		close(s->pendingfd);
	if (s->handle >= 0)
		close(s->handle);
	if (s->wake[0] >= 0)
		close(s->wake[0]);
	if (s->wake[1] >= 0)
		close(s->wake[1]);
	free(s->cargv);
	free(s);
}

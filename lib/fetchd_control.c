// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The control socket of the serving core, CACHE_DIR/.erofs-fetchd.sock
 * (SOCK_SEQPACKET, root only): one request and one reply per connection,
 * see erofs/fetchd.h.  Also the client side erofs-mount uses.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "erofs/util.h"
#include "liberofs_fetchd.h"

#define MAX_FIELDS 1024

static int sock_addr(const char *cache_dir, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if ((size_t)snprintf(sa->sun_path, sizeof(sa->sun_path), "%s/%s",
			     cache_dir,
			     EROFS_FETCHD_CONTROL_NAME) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	return 0;
}

int fetchd_control_open(struct erofs_fetchd *d)
{
	struct sockaddr_un sa;
	int fd, err = sock_addr(d->cache_dir, &sa);

	if (err)
		return erofs_err(d->log, err, "control socket below %s",
				 d->cache_dir);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return erofs_err(d->log, -errno, "control socket");
	if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return erofs_fail(d->log, -EADDRINUSE,
				  "another erofs-fetchd serves %s (%s)",
				  d->cache_dir, sa.sun_path);
	}
	close(fd);
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return erofs_err(d->log, -errno, "control socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    chmod(sa.sun_path, 0600) || listen(fd, 16)) {
		err =
		    erofs_err(d->log, -errno, "control socket %s", sa.sun_path);
		close(fd);
		return err;
	}
	d->ctlfd = fd;
	d->ctl_path = strdup(sa.sun_path);
	erofs_info(d->log, "control socket %s", sa.sun_path);
	return 0;
}

void fetchd_control_close(struct erofs_fetchd *d)
{
	if (d->ctlfd < 0)
		return;
	close(d->ctlfd);
	d->ctlfd = -1;
	if (d->ctl_path)
		unlink(d->ctl_path);
}

struct reply {
	char *buf;
	size_t len, cap;
};

__attribute__((format(printf, 2, 3))) static void rprintf(struct reply *r,
							  const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->len, r->cap - r->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		r->len += (size_t)n < r->cap - r->len ? (size_t)n
						      : r->cap - r->len - 1;
}

static void cmd_add(struct erofs_fetchd *d, char **f, int n, struct reply *r)
{
	struct fetchd_image *img;
	int err;

	if (n < 4) {
		rprintf(r, "err %d usage: add ID MANIFEST SOURCE...", EINVAL);
		return;
	}
	if (!*f[1] || fetchd_images_get(&d->images, f[1])) {
		rprintf(r, "err %d image %s is already served", EEXIST, f[1]);
		return;
	}
	err = fetchd_image_create(d, f[1], f[2], (const char *const *)f + 3,
				  n - 3, &img);
	if (!err) {
		err = fetchd_add_image(d, img);
		if (err)
			fetchd_image_destroy(img);
	}
	if (!err) {
		err = fetchd_images_persist(d, img);
		if (err)
			fetchd_remove_image(d, img);
	}
	if (err) {
		rprintf(r, "err %d image %s: %s (see the daemon's log)", -err,
			f[1], strerror(-err));
		return;
	}
	erofs_info(d->log, "image %s added: %s from %s", f[1], f[2], f[3]);
	rprintf(r, "ok");
}

static void cmd_del(struct erofs_fetchd *d, char **f, int n, struct reply *r)
{
	struct fetchd_image *img =
	    n == 2 ? fetchd_images_get(&d->images, f[1]) : NULL;

	if (!img || !*f[1]) {
		rprintf(r, "err %d no image %s", ENOENT, n == 2 ? f[1] : "");
		return;
	}
	fetchd_images_unpersist(d, img);
	fetchd_remove_image(d, img);
	erofs_info(d->log, "image %s removed", f[1]);
	rprintf(r, "ok %u", d->images.nr);
	if (!d->images.nr && d->o->exit_when_idle) {
		erofs_info(d->log, "no image left: stopping");
		d->stopping = true;
	}
}

static void cmd_list(struct erofs_fetchd *d, struct reply *r)
{
	rprintf(r, "ok %u\n", d->images.nr);
	for (unsigned int i = 0; i < d->images.nr; i++) {
		struct fetchd_image *img = d->images.v[i];
		char *id = erofs_fetchd_ctl_quote(*img->id ? img->id : "-");
		char *src = erofs_fetchd_ctl_quote(img->source_desc);

		rprintf(r, "%s %s %s %" PRId64 " %" PRIu64 "\n", id ? id : "?",
			d->bops->name, src ? src : "?",
			d->bops->present(d, img), fetchd_image_total(img));
		free(id);
		free(src);
	}
}

static void cmd_prefetch(struct erofs_fetchd *d, char **f, int n,
			 struct reply *r)
{
	struct fetchd_image *img =
	    n >= 3 ? fetchd_images_get(&d->images, f[1]) : NULL;
	int err = 0;

	if (!img) {
		rprintf(r, "err %d no image %s", ENOENT, n >= 2 ? f[1] : "");
		return;
	}
	if (n == 3 && !strcmp(f[2], "all")) {
		err = d->bops->prefetch(d, img, NULL, 0, 0);
	} else if ((n - 2) % 3) {
		rprintf(r, "err %d usage: prefetch ID BLOB OFF LEN...", EINVAL);
		return;
	} else {
		for (int i = 2; !err && i < n; i += 3) {
			uint64_t off, len;

			if (erofs_parse_u64(f[i + 1], UINT64_MAX, &off) ||
			    erofs_parse_u64(f[i + 2], UINT64_MAX, &len)) {
				rprintf(r, "err %d bad range", EINVAL);
				return;
			}
			err = d->bops->prefetch(d, img, f[i], off, len);
		}
	}
	if (err)
		rprintf(r, "err %d %s", -err, strerror(-err));
	else
		rprintf(r, "ok");
}

static void cmd_readahead(struct erofs_fetchd *d, char **f, int n,
			  struct reply *r)
{
	struct fetchd_image *img =
	    n >= 4 ? fetchd_images_get(&d->images, f[1]) : NULL;
	uint64_t bytes;
	int err;

	if (n < 4) {
		rprintf(r, "err %d usage: readahead ID BDI BYTES [BLOB...]",
			EINVAL);
		return;
	}
	if (!img) {
		rprintf(r, "err %d no image %s", ENOENT, f[1]);
		return;
	}
	if (erofs_parse_u64(f[3], UINT64_MAX, &bytes)) {
		rprintf(r, "err %d bad size %s", EINVAL, f[3]);
		return;
	}
	err = fetchd_ra_add(d, img, NULL, f[2], bytes,
			    (const char *const *)f + 4, n - 4);
	if (err)
		rprintf(r, "err %d %s", -err, strerror(-err));
	else
		rprintf(r, "ok");
}

void fetchd_control_serve(struct erofs_fetchd *d)
{
	struct timeval tv = {2, 0};
	char *req = malloc(EROFS_FETCHD_CTL_MAX + 1);
	char **f = calloc(MAX_FIELDS, sizeof(*f));
	struct reply r = {malloc(EROFS_FETCHD_CTL_MAX), 0,
			  EROFS_FETCHD_CTL_MAX};
	int c = accept4(d->ctlfd, NULL, NULL, SOCK_CLOEXEC), n;
	ssize_t len;

	if (c < 0 || !req || !r.buf || !f)
		goto out;
	r.buf[0] = '\0';
	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	len = recv(c, req, EROFS_FETCHD_CTL_MAX, 0);
	if (len <= 0)
		goto out;
	req[len] = '\0';
	n = strlen(req) == (size_t)len ? fetchd_ctl_split(req, f, MAX_FIELDS)
				       : -1;
	if (n <= 0)
		rprintf(&r, "err %d malformed request", EINVAL);
	else if (!strcmp(f[0], "add"))
		cmd_add(d, f, n, &r);
	else if (!strcmp(f[0], "del"))
		cmd_del(d, f, n, &r);
	else if (!strcmp(f[0], "list"))
		cmd_list(d, &r);
	else if (!strcmp(f[0], "prefetch"))
		cmd_prefetch(d, f, n, &r);
	else if (!strcmp(f[0], "readahead"))
		cmd_readahead(d, f, n, &r);
	else if (!strcmp(f[0], "stop")) {
		d->stopping = true;
		rprintf(&r, "ok");
	} else
		rprintf(&r, "err %d unknown request %s", EINVAL, f[0]);
	if (send(c, r.buf, r.len, MSG_NOSIGNAL) < 0)
		erofs_warn(d->log, "control: reply lost: %s", strerror(errno));
out:
	if (c >= 0)
		close(c);
	free(req);
	free(f);
	free(r.buf);
}

int erofs_fetchd_ctl_call(const char *cache_dir, const char *req, char **reply,
			  const struct erofs_log *log)
{
	struct sockaddr_un sa;
	char *buf;
	ssize_t n;
	int fd, err = sock_addr(cache_dir, &sa);

	*reply = NULL;
	if (err)
		return erofs_err(log, err, "control socket below %s",
				 cache_dir);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return erofs_err(log, -errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
		err = erofs_err(log, -errno, "%s", sa.sun_path);
		close(fd);
		return err;
	}
	buf = malloc(EROFS_FETCHD_CTL_MAX + 1);
	if (!buf) {
		close(fd);
		return erofs_err(log, -ENOMEM, "reply");
	}
	n = recv(fd, buf, EROFS_FETCHD_CTL_MAX, 0);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (n <= 0) {
		free(buf);
		return erofs_err(log, err ? err : -ECONNRESET, "%s: no reply",
				 sa.sun_path);
	}
	buf[n] = '\0';
	*reply = buf;
	return 0;
}

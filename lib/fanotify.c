// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fanotify backend of the serving core (Linux 6.14+): each blob of an
 * image is a sparse file of the blob's size in CACHE_DIR/blobs/, marked
 * for FAN_PRE_ACCESS before anything mounts it; a read of a range that is
 * not there yet raises an event, whose range goes to the image's fetch core
 * (widened to the fetch unit, parallel, coalesced) and is answered
 * FAN_ALLOW once every byte is written, or FAN_DENY_ERRNO(EIO) when the
 * fetch failed, so a reader gets the right bytes or EIO, never zeros.
 *
 * Data is written through an fd opened before the mark, or through a dup
 * of an event fd (which raises no events): never through an fd opened
 * after the mark, whose writes would raise events of their own.  Every
 * event feeds the fetch core's adaptive read-ahead (a sequential reader's
 * next units are fetched in the background); an event whose range is
 * present already is answered at once.  A blob whose last byte
 * arrived loses its mark, so it costs nothing any more.  Filled ranges are
 * what SEEK_DATA/SEEK_HOLE say when the fetch object is opened, so they
 * survive drop_caches and restarts.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "liberofs_fanotify.h"
#include "liberofs_fetchd.h"

struct fan_backend;

struct fan_blob {
	struct fan_backend *b;
	struct fetchd_image *img; /* whose fetch core serves it */
	unsigned int users;	  /* images that name it */
	char *name;
	char *path;
	uint64_t size;
	dev_t dev;
	ino_t ino;
	struct erofs_fetch_obj *obj; /* NULL until opened */
	int unmarked;		     /* atomic: mark removed */
};

struct fan_stats {
	uint64_t events, present, fetched, denied, own, unknown;
	uint64_t bytes_asked;
	uint64_t marks_removed;
};

struct fan_backend {
	struct erofs_fetchd *d;
	int groupfd;
	bool inherited;
	int pendingfd; /* ours to offer a service manager, or -1 */
	uint64_t *pending;
	uint64_t unit;
	char *blobdir;
	int blobdirfd;
	struct fan_blob **blobs;
	unsigned int nr_blobs;
	pthread_mutex_t stats_lock;
	struct fan_stats stats;
	const struct erofs_log *log;
	char *buf;
};

struct fan_event {
	struct fan_backend *b;
	struct fan_blob *blob;
	int fd;
	uint64_t off, len;
};

#define COUNT(b, field, n)                                                     \
	do {                                                                   \
		pthread_mutex_lock(&(b)->stats_lock);                          \
		(b)->stats.field += (n);                                       \
		pthread_mutex_unlock(&(b)->stats_lock);                        \
	} while (0)

static void answer(struct fan_backend *b, int fd, uint32_t response)
{
	int err = erofs_fan_respond(b->groupfd, fd, response);

	if (err)
		erofs_err(b->log, err, "fanotify: answering event fd %d", fd);
	erofs_fan_pending_clear(b->pending, fd);
	close(fd);
}

static int fan_start(struct erofs_fetchd *d)
{
	const struct erofs_fetchd_opts *o = d->o;
	struct fan_backend *b = calloc(1, sizeof(*b));
	int err;

	if (!b)
		return erofs_err(d->log, -ENOMEM, "fanotify backend");
	d->bpriv = b;
	b->d = d;
	b->log = d->log;
	b->groupfd = -1;
	b->pendingfd = -1;
	b->blobdirfd = -1;
	pthread_mutex_init(&b->stats_lock, NULL);
	b->unit = o->unit ? o->unit : EROFS_FETCH_DEFAULT_UNIT;
	b->buf = malloc(EROFS_FETCHD_CTL_MAX);
	if (!b->buf)
		return erofs_err(d->log, -ENOMEM, "fanotify backend");
	if (asprintf(&b->blobdir, "%s/%s", d->cache_dir,
		     EROFS_FETCHD_BLOB_DIR) < 0) {
		b->blobdir = NULL;
		return erofs_err(d->log, -ENOMEM, "fanotify backend");
	}
	if (mkdir(b->blobdir, 0755) && errno != EEXIST)
		return erofs_err(d->log, -errno, "%s", b->blobdir);
	b->blobdirfd = open(b->blobdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (b->blobdirfd < 0)
		return erofs_err(d->log, -errno, "%s", b->blobdir);
	err = erofs_fanotify_check_fs(b->blobdirfd, b->blobdir, d->log);
	if (err)
		return err;
	if (o->fanotify.groupfd >= 0) {
		b->groupfd = o->fanotify.groupfd;
		b->inherited = true;
		if (fcntl(b->groupfd, F_GETFD) < 0) {
			b->groupfd = -1;
			return erofs_err(d->log, -errno, "--fanotify-fd %d",
					 o->fanotify.groupfd);
		}
		fcntl(b->groupfd, F_SETFD, FD_CLOEXEC);
		fcntl(b->groupfd, F_SETFL,
		      fcntl(b->groupfd, F_GETFL) | O_NONBLOCK);
		erofs_info(d->log, "fanotify: took over group fd %d",
			   b->groupfd);
	} else {
		b->groupfd = erofs_fanotify_group(false, d->log);
		if (b->groupfd < 0)
			return b->groupfd;
	}
	if (o->fanotify.pendingfd >= 0) {
		b->pendingfd = o->fanotify.pendingfd;
		fcntl(b->pendingfd, F_SETFD, FD_CLOEXEC);
	} else {
		b->pendingfd = erofs_fan_pending_create(d->log);
		if (b->pendingfd < 0)
			return b->pendingfd;
		fcntl(b->pendingfd, F_SETFD, FD_CLOEXEC);
	}
	b->pending = erofs_fan_pending_map(b->pendingfd, d->log);
	if (!b->pending)
		return -EINVAL;
	if (b->inherited) {
		/*
		 * What a dead predecessor read and never answered, recorded
		 * or not (we have not read anything yet)
		 */
		unsigned int n =
		    erofs_fan_pending_fail_all(b->pending, b->groupfd);
		unsigned int u = o->fanotify.answered
				     ? 0
				     : erofs_fan_pending_sweep(b->groupfd);

		if (n + u)
			erofs_warn(d->log,
				   "fanotify: answered %u events the previous "
				   "daemon left with EIO (%u read but not "
				   "recorded)",
				   n + u, u);
	}
	return 0;
}

static int fan_pollfd(struct erofs_fetchd *d)
{
	return ((struct fan_backend *)d->bpriv)->groupfd;
}

static struct fan_blob *find_blob_by_name(struct fan_backend *b,
					  const char *name)
{
	for (unsigned int i = 0; i < b->nr_blobs; i++)
		if (!strcmp(b->blobs[i]->name, name))
			return b->blobs[i];
	return NULL;
}

static struct fan_blob *find_blob_by_ino(struct fan_backend *b, dev_t dev,
					 ino_t ino)
{
	for (unsigned int i = 0; i < b->nr_blobs; i++)
		if (b->blobs[i]->dev == dev && b->blobs[i]->ino == ino)
			return b->blobs[i];
	return NULL;
}

/* the blob is complete: its mark goes (from any thread) */
static void maybe_unmark(struct fan_backend *b, struct fan_blob *blob)
{
	int expected = 0;

	if (!blob->obj || erofs_fetch_obj_missing(blob->obj))
		return;
	if (!__atomic_compare_exchange_n(&blob->unmarked, &expected, 1, false,
					 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return;
	if (fanotify_mark(b->groupfd, FAN_MARK_REMOVE, FAN_PRE_ACCESS, AT_FDCWD,
			  blob->path) &&
	    errno != ENOENT) {
		erofs_warn(b->log, "%s: removing its mark: %s", blob->path,
			   strerror(errno));
		return;
	}
	COUNT(b, marks_removed, 1);
	erofs_info(b->log, "blob %s complete (%" PRIu64 " bytes): mark removed",
		   blob->name, blob->size);
	fetchd_note_complete(b->d);
}

/* the fetch core wrote the blob's last missing byte (a worker thread) */
static void obj_completed(void *arg, struct erofs_fetch_obj *obj)
{
	struct fan_blob *blob = arg;

	maybe_unmark(blob->b, blob);
}

/* the fetch object of @blob writing into @fd (taken over) */
static int open_obj(struct fan_backend *b, struct fan_blob *blob, int fd)
{
	struct erofs_fetch_info info;
	int err = erofs_fetch_lookup(blob->img->fetch, blob->name, &info);

	if (err) {
		close(fd);
		return erofs_err(b->log, err, "blob %s", blob->name);
	}
	err = erofs_fetch_obj_open(blob->img->fetch, blob->name, &info, fd,
				   &blob->obj);
	if (!err)
		erofs_fetch_obj_on_complete(blob->obj, obj_completed, blob);
	return err;
}

/*
 * Every byte of blob file @name is data (no hole).  Looking needs no read,
 * so it raises no event, marked or not.
 */
static bool file_complete(struct fan_backend *b, const char *name,
			  uint64_t size)
{
	int fd = openat(b->blobdirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	off_t hole;

	if (fd < 0)
		return false;
	hole = lseek(fd, 0, SEEK_HOLE);
	close(fd);
	return hole >= 0 && (uint64_t)hole >= size;
}

/*
 * Create (or find) the sparse blob file, open it, then mark it: in that
 * order, so the fd we fill through raises no events.  A file we may have
 * marked already (inherited group, or a blob another image shares) is not
 * opened here: its fetch object is made from the first event's fd.
 */
static int add_blob(struct erofs_fetchd *d, struct fetchd_image *img,
		    const char *name, uint64_t size)
{
	struct fan_backend *b = d->bpriv;
	struct fan_blob *blob = find_blob_by_name(b, name), **v;
	struct stat st;
	int fd = -1, err;
	bool existed;

	if (blob) {
		if (blob->size != size)
			return erofs_fail(d->log, -EINVAL,
					  "blob %s: %" PRIu64 " bytes in image "
					  "%s, %" PRIu64 " in another",
					  name, size, img->id, blob->size);
		blob->users++;
		return 0;
	}
	blob = calloc(1, sizeof(*blob));
	v = realloc(b->blobs, (b->nr_blobs + 1) * sizeof(*v));
	if (!blob || !v) {
		free(blob);
		return erofs_err(d->log, -ENOMEM, "blob %s", name);
	}
	b->blobs = v;
	blob->b = b;
	blob->img = img;
	blob->users = 1;
	blob->size = size;
	blob->name = strdup(name);
	if (!blob->name ||
	    asprintf(&blob->path, "%s/%s", b->blobdir, name) < 0) {
		free(blob->name);
		free(blob);
		return erofs_err(d->log, -ENOMEM, "blob %s", name);
	}
	existed = !fstatat(b->blobdirfd, name, &st, AT_SYMLINK_NOFOLLOW);
	if (existed && (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)) {
		err = erofs_fail(d->log, -EEXIST,
				 "%s exists and is not a blob of %" PRIu64
				 " bytes",
				 blob->path, size);
		goto fail;
	}
	if (!existed || !b->inherited) {
		fd = openat(b->blobdirfd, name,
			    O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0) {
			err = erofs_err(d->log, -errno, "%s", blob->path);
			goto fail;
		}
		if (!existed && ftruncate(fd, size)) {
			err = erofs_err(d->log, -errno, "%s", blob->path);
			close(fd);
			goto fail;
		}
		if (fstat(fd, &st)) {
			err = erofs_err(d->log, -errno, "%s", blob->path);
			close(fd);
			goto fail;
		}
		err = open_obj(b, blob, fd);
		if (err)
			goto fail;
	}
	blob->dev = st.st_dev;
	blob->ino = st.st_ino;
	if (!blob->obj && existed && file_complete(b, name, size)) {
		/* a predecessor filled it: a mark it left goes too */
		if (fanotify_mark(b->groupfd, FAN_MARK_REMOVE, FAN_PRE_ACCESS,
				  AT_FDCWD, blob->path) &&
		    errno != ENOENT)
			erofs_warn(d->log, "%s: removing its mark: %s",
				   blob->path, strerror(errno));
		blob->unmarked = 1;
		erofs_info(d->log, "blob %s: complete, not marked", name);
	} else if (blob->obj && !erofs_fetch_obj_missing(blob->obj)) {
		blob->unmarked = 1;
		erofs_info(d->log, "blob %s: complete, not marked", name);
	} else if (fanotify_mark(b->groupfd, FAN_MARK_ADD, FAN_PRE_ACCESS,
				 AT_FDCWD, blob->path)) {
		err = -errno;
		if (err == -EOPNOTSUPP || err == -EINVAL)
			erofs_fail(d->log, err,
				   "%s: the filesystem refuses fanotify "
				   "pre-content marks (%s)",
				   blob->path, strerror(-err));
		else
			erofs_err(d->log, err, "fanotify_mark %s", blob->path);
		goto fail;
	} else {
		erofs_info(d->log,
			   "blob %s: %" PRIu64 " bytes, %" PRIu64
			   " missing, marked",
			   name, size,
			   blob->obj ? erofs_fetch_obj_missing(blob->obj) *
					   EROFS_FETCH_PAGE
				     : size);
	}
	b->blobs[b->nr_blobs++] = blob;
	return 0;
fail:
	if (blob->obj)
		erofs_fetch_obj_close(blob->obj);
	free(blob->path);
	free(blob->name);
	free(blob);
	return err;
}

static void put_blob(struct fan_backend *b, struct fan_blob *blob,
		     struct fetchd_image *img)
{
	if (--blob->users) {
		if (blob->img == img) {
			/* another image serves it from now on; the object
			 * comes back with the next event's fd */
			if (blob->obj)
				erofs_fetch_obj_close(blob->obj);
			blob->obj = NULL;
			blob->img = NULL;
		}
		return;
	}
	if (!blob->unmarked &&
	    fanotify_mark(b->groupfd, FAN_MARK_REMOVE, FAN_PRE_ACCESS, AT_FDCWD,
			  blob->path) &&
	    errno != ENOENT)
		erofs_warn(b->log, "%s: removing its mark: %s", blob->path,
			   strerror(errno));
	if (blob->obj)
		erofs_fetch_obj_close(blob->obj);
	for (unsigned int i = 0; i < b->nr_blobs; i++) {
		if (b->blobs[i] == blob) {
			b->blobs[i] = b->blobs[--b->nr_blobs];
			break;
		}
	}
	free(blob->path);
	free(blob->name);
	free(blob);
}

static int fan_image_added(struct erofs_fetchd *d, struct fetchd_image *img)
{
	struct fan_backend *b = d->bpriv;
	int err = 0;
	unsigned int i;

	if (!img->have_manifest)
		return erofs_fail(d->log, -EINVAL,
				  "image %s: the fanotify backend needs a "
				  "manifest (blob names and sizes)",
				  *img->id ? img->id : "-");
	for (i = 0; i < img->manifest.nr_blobs; i++) {
		err = add_blob(d, img, img->manifest.blobs[i].tag,
			       img->manifest.blobs[i].size);
		if (err)
			break;
	}
	if (err) {
		while (i--) {
			struct fan_blob *blob =
			    find_blob_by_name(b, img->manifest.blobs[i].tag);

			if (blob)
				put_blob(b, blob, img);
		}
		return err;
	}
	/* a blob another image served before may need this image now */
	for (i = 0; i < b->nr_blobs; i++)
		if (!b->blobs[i]->img)
			b->blobs[i]->img = img;
	if (d->o->prefetch)
		for (i = 0; i < b->nr_blobs; i++)
			if (b->blobs[i]->img == img && b->blobs[i]->obj)
				erofs_fetch_prefetch(b->blobs[i]->obj);
	return 0;
}

static void fan_image_removing(struct erofs_fetchd *d, struct fetchd_image *img)
{
	struct fan_backend *b = d->bpriv;

	if (!img->have_manifest)
		return;
	for (unsigned int i = 0; i < img->manifest.nr_blobs; i++) {
		struct fan_blob *blob =
		    find_blob_by_name(b, img->manifest.blobs[i].tag);

		if (blob)
			put_blob(b, blob, img);
	}
	/* a shared blob whose image went: hand it to one that names it */
	for (unsigned int i = 0; i < b->nr_blobs; i++) {
		struct fan_blob *blob = b->blobs[i];

		for (unsigned int k = 0; !blob->img && k < d->images.nr; k++) {
			struct fetchd_image *m = d->images.v[k];

			for (unsigned int j = 0;
			     m->have_manifest && j < m->manifest.nr_blobs; j++)
				if (!strcmp(m->manifest.blobs[j].tag,
					    blob->name) &&
				    m != img)
					blob->img = m;
		}
	}
}

static void event_done(void *arg, struct erofs_fetch_obj *obj, int err)
{
	struct fan_event *ev = arg;
	struct fan_backend *b = ev->b;

	if (err) {
		erofs_err(b->log, err,
			  "blob %s [%" PRIu64 ", +%" PRIu64
			  "): fetch failed, the reader gets EIO",
			  ev->blob->name, ev->off, ev->len);
		COUNT(b, denied, 1);
		answer(b, ev->fd, FAN_DENY_ERRNO(EIO));
	} else {
		answer(b, ev->fd, FAN_ALLOW);
		maybe_unmark(b, ev->blob);
	}
	free(ev);
}

static void ra_done(void *arg, struct erofs_fetch_obj *obj, int err)
{
	struct fan_event *ev = arg;

	if (!err)
		maybe_unmark(ev->b, ev->blob);
	free(ev);
}

/* queue [from, to) of @blob in fetch units, answered by nobody */
static void queue_background(struct fan_backend *b, struct fan_blob *blob,
			     uint64_t from, uint64_t to)
{
	if (to > blob->size)
		to = blob->size;
	from &= ~(b->unit - 1);
	while (from < to) {
		struct fan_event *ev = calloc(1, sizeof(*ev));
		uint64_t n = to - from < b->unit ? to - from : b->unit;

		if (!ev)
			return;
		*ev = (struct fan_event){b, blob, -1, from, n};
		if (erofs_fetch_submit(blob->obj, from, n, ra_done, ev)) {
			free(ev);
			return;
		}
		from += n;
	}
}

static void handle_event(struct erofs_fetchd *d,
			 const struct fanotify_event_metadata *m)
{
	struct fan_backend *b = d->bpriv;
	const struct erofs_fan_range *range = NULL;
	const char *p = (const char *)m + m->metadata_len;
	const char *end = (const char *)m + m->event_len;
	struct fan_blob *blob;
	struct fan_event *ev;
	uint64_t off = 0, len = UINT64_MAX;
	struct stat st;
	int err;

	COUNT(b, events, 1);
	if (m->pid == getpid()) {
		/* our own write through an fd opened after a mark */
		COUNT(b, own, 1);
		answer(b, m->fd, FAN_ALLOW);
		return;
	}
	while (p + sizeof(struct fanotify_event_info_header) <= end) {
		const struct fanotify_event_info_header *h = (const void *)p;

		if (h->len < sizeof(*h) || p + h->len > end)
			break;
		if (h->info_type == FAN_EVENT_INFO_TYPE_RANGE &&
		    h->len >= sizeof(*range))
			range = (const void *)p;
		p += h->len;
	}
	if (range) {
		off = range->offset;
		len = range->count;
	}
	if (fstat(m->fd, &st) ||
	    !(blob = find_blob_by_ino(b, st.st_dev, st.st_ino)) || !blob->img) {
		/* never allow what we cannot fill: that reads zeros */
		COUNT(b, unknown, 1);
		erofs_err(d->log, -ENOENT,
			  "fanotify event (pid %d) on a file that is no "
			  "blob of a served image: EIO",
			  m->pid);
		answer(b, m->fd, FAN_DENY_ERRNO(EIO));
		return;
	}
	if (off >= blob->size || !len) {
		answer(b, m->fd, FAN_ALLOW);
		return;
	}
	if (len > blob->size - off)
		len = blob->size - off;
	COUNT(b, bytes_asked, len);
	if (!blob->obj) {
		int fd = dup(m->fd); /* an event fd raises no events */

		if (fd < 0 || open_obj(b, blob, fd)) {
			if (fd < 0)
				erofs_err(d->log, -errno, "dup");
			COUNT(b, denied, 1);
			answer(b, m->fd, FAN_DENY_ERRNO(EIO));
			return;
		}
		if (d->o->prefetch)
			erofs_fetch_prefetch(blob->obj);
	}
	if (!erofs_fetch_obj_missing(blob->obj)) {
		COUNT(b, present, 1);
		answer(b, m->fd, FAN_ALLOW);
		maybe_unmark(b, blob);
		return;
	}
	/* read-ahead; every page of the range written already: allow */
	if (erofs_fetch_obj_access(blob->obj, off, len)) {
		COUNT(b, present, 1);
		answer(b, m->fd, FAN_ALLOW);
		return;
	}
	ev = malloc(sizeof(*ev));
	if (!ev) {
		err = -ENOMEM;
	} else {
		*ev = (struct fan_event){b, blob, m->fd, off, len};
		err = erofs_fetch_submit(blob->obj, off, len, event_done, ev);
	}
	if (err) {
		free(ev);
		erofs_err(d->log, err, "blob %s: cannot queue a fetch: EIO",
			  blob->name);
		COUNT(b, denied, 1);
		answer(b, m->fd, FAN_DENY_ERRNO(EIO));
		return;
	}
	COUNT(b, fetched, 1);
	erofs_dbg(d->log, "event pid %d blob %s [%" PRIu64 ", +%" PRIu64 ")",
		  m->pid, blob->name, off, len);
}

static int fan_process(struct erofs_fetchd *d)
{
	struct fan_backend *b = d->bpriv;

	for (int round = 0; round < 64; round++) {
		ssize_t n = read(b->groupfd, b->buf, EROFS_FETCHD_CTL_MAX);
		const struct fanotify_event_metadata *m = (const void *)b->buf;

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			return erofs_err(d->log, -errno, "reading fanotify");
		}
		ssize_t left = n;

		/* every fd of this read is ours to answer from here on */
		for (const struct fanotify_event_metadata *q = m;
		     FAN_EVENT_OK(q, left); q = FAN_EVENT_NEXT(q, left))
			erofs_fan_pending_set(b->pending, q->fd);
		for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
			if (m->vers != FANOTIFY_METADATA_VERSION) {
				erofs_err(d->log, -EPROTO,
					  "fanotify metadata version %u",
					  m->vers);
				if (m->fd >= 0)
					answer(b, m->fd, FAN_DENY_ERRNO(EIO));
				continue;
			}
			if (m->fd < 0)
				continue; /* queue overflow: not with an
					   * unlimited queue */
			if (!(m->mask & FAN_PRE_ACCESS)) {
				answer(b, m->fd, FAN_ALLOW);
				continue;
			}
			handle_event(d, m);
		}
	}
	return 0;
}

static int fan_timers(struct erofs_fetchd *d)
{
	return -1;
}

static int fan_prefetch(struct erofs_fetchd *d, struct fetchd_image *img,
			const char *name, uint64_t off, uint64_t len)
{
	struct fan_backend *b = d->bpriv;

	for (unsigned int i = 0; i < b->nr_blobs; i++) {
		struct fan_blob *blob = b->blobs[i];

		if (blob->img != img || !blob->obj ||
		    (name && strcmp(name, blob->name)))
			continue;
		if (!name) {
			erofs_fetch_prefetch(blob->obj);
			continue;
		}
		if (off >= blob->size)
			return 0;
		if (len > blob->size - off)
			len = blob->size - off;
		queue_background(b, blob, off, off + len);
		return 0;
	}
	return name ? erofs_fail(d->log, -ENOENT, "image %s: no open blob %s",
				 img->id, name)
		    : 0;
}

static bool fan_blob_complete(struct erofs_fetchd *d, const char *name)
{
	struct fan_blob *blob = find_blob_by_name(d->bpriv, name);

	if (!blob)
		return false;
	return __atomic_load_n(&blob->unmarked, __ATOMIC_SEQ_CST) ||
	       (blob->obj && !erofs_fetch_obj_missing(blob->obj));
}

static int64_t fan_present(struct erofs_fetchd *d, struct fetchd_image *img)
{
	struct fan_backend *b = d->bpriv;
	int64_t t = 0;

	for (unsigned int i = 0;
	     img->have_manifest && i < img->manifest.nr_blobs; i++) {
		struct fan_blob *blob =
		    find_blob_by_name(b, img->manifest.blobs[i].tag);
		uint64_t miss;

		if (!blob)
			continue;
		if (!blob->obj) {
			/* not opened since a restart: ask the file */
			int fd = openat(b->blobdirfd, blob->name,
					O_RDONLY | O_CLOEXEC);
			off_t pos = 0, dpos, hpos;

			while (fd >= 0 &&
			       (dpos = lseek(fd, pos, SEEK_DATA)) >= 0) {
				hpos = lseek(fd, dpos, SEEK_HOLE);
				if (hpos < 0)
					break;
				t += hpos - dpos;
				pos = hpos;
			}
			if (fd >= 0)
				close(fd);
			continue;
		}
		miss = erofs_fetch_obj_missing(blob->obj) * EROFS_FETCH_PAGE;
		t += miss >= blob->size ? 0 : blob->size - miss;
	}
	return t;
}

static void fan_log_stats(struct erofs_fetchd *d, const char *when)
{
	struct fan_backend *b = d->bpriv;
	struct fan_stats s;

	if (!b)
		return;
	pthread_mutex_lock(&b->stats_lock);
	s = b->stats;
	pthread_mutex_unlock(&b->stats_lock);
	erofs_info(d->log,
		   "fanotify (%s): events %" PRIu64 " present %" PRIu64
		   " fetched %" PRIu64 " denied %" PRIu64 " own %" PRIu64
		   " unknown %" PRIu64 " asked %" PRIu64 " B (%" PRIu64
		   " B/event) blobs %u complete %" PRIu64,
		   when, s.events, s.present, s.fetched, s.denied, s.own,
		   s.unknown, s.bytes_asked,
		   s.events ? s.bytes_asked / s.events : 0, b->nr_blobs,
		   s.marks_removed);
}

static void fan_stop(struct erofs_fetchd *d)
{
	struct fan_backend *b = d->bpriv;

	if (!b)
		return;
	/* answer what is queued (completions write to the group) */
	for (unsigned int i = 0; i < d->images.nr; i++)
		erofs_fetch_drain(d->images.v[i]->fetch);
	for (unsigned int i = 0; i < b->nr_blobs; i++) {
		if (b->blobs[i]->obj)
			erofs_fetch_obj_close(b->blobs[i]->obj);
		free(b->blobs[i]->path);
		free(b->blobs[i]->name);
		free(b->blobs[i]);
	}
	free(b->blobs);
	/*
	 * Without a second holder (supervisor, service manager) this is
	 * the group's end: the kernel then allows whatever is pending.
	 */
	if (b->groupfd >= 0)
		close(b->groupfd);
	if (b->blobdirfd >= 0)
		close(b->blobdirfd);
	erofs_fan_pending_unmap(b->pending);
	if (b->pendingfd >= 0)
		close(b->pendingfd);
	pthread_mutex_destroy(&b->stats_lock);
	free(b->blobdir);
	free(b->buf);
	free(b);
	d->bpriv = NULL;
}

static int fan_kernel_fd(const struct erofs_fetchd *d)
{
	return ((struct fan_backend *)d->bpriv)->groupfd;
}

static int fan_pending_fd(const struct erofs_fetchd *d)
{
	return ((struct fan_backend *)d->bpriv)->pendingfd;
}

const struct fetchd_backend_ops fetchd_fanotify_ops = {
    .kernel_fd = fan_kernel_fd,
    .pending_fd = fan_pending_fd,
    .name = "fanotify",
    .start = fan_start,
    .pollfd = fan_pollfd,
    .process = fan_process,
    .timers = fan_timers,
    .image_added = fan_image_added,
    .image_removing = fan_image_removing,
    .prefetch = fan_prefetch,
    .blob_complete = fan_blob_complete,
    .present = fan_present,
    .log_stats = fan_log_stats,
    .stop = fan_stop,
};

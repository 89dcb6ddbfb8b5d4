// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cachefiles on-demand protocol handlers.
 *
 * The main thread reads messages and owns the object table (keyed by the
 * kernel's object_id); READs go to the fetch core's workers, which write
 * the data through the object's anonymous fd and then complete the READ
 * with the ioctl.  A READ that cannot be served is completed without data,
 * so the reader gets EIO instead of waiting forever.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "erofs/cache_gc.h"
#include "erofs/cookie.h"
#include "erofs/ondemand.h"

struct od_object {
	uint32_t object_id;
	struct erofs_fetch_obj *obj;
	char *gc_name; /* "I<volume key>/<file name>" or NULL */
};

/*
 * The last use of a closed object, kept until a GC pass has put it on the
 * cache file's atime: the kernel's own atime update when it looks an object
 * up is subject to relatime (at most once a day after the first), so the
 * file's times alone can make an object unmounted a second ago look old.
 */
struct od_used {
	char *gc_name;
	time_t at;
};

struct erofs_od {
	const struct erofs_log *log;
	const struct erofs_od_dev_ops *ops;
	void *dev;
	struct erofs_fetch *fetch;
	erofs_od_resolve_fn resolve;
	void *resolve_arg;
	bool prefetch;
	unsigned char *buf;
	size_t bufsz;
	struct od_object *objs; /* main thread only */
	unsigned int nr_objs, cap_objs;
	pthread_mutex_t stats_lock; /* completions run in workers */
	struct erofs_od_stats stats;
	/* main thread only; CLOSEs are noted once erofs_od_cull_old() ran */
	bool gc_on;
	struct od_used *used;
	unsigned int nr_used, cap_used;
};

struct od_read {
	struct erofs_od *od;
	uint32_t msg_id;
	uint32_t object_id;
};

static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static const char *opname(uint32_t op)
{
	switch (op) {
	case EROFS_OD_OP_OPEN:
		return "OPEN";
	case EROFS_OD_OP_CLOSE:
		return "CLOSE";
	case EROFS_OD_OP_READ:
		return "READ";
	default:
		return "unknown";
	}
}

#define BAD(fmt, ...)                                                          \
	erofs_err(                                                             \
	    log, -EBADMSG,                                                     \
	    "malformed message msg_id %u opcode %u (%s) length %zu: " fmt,     \
	    msg->msg_id, msg->opcode, opname(msg->opcode), n, ##__VA_ARGS__)

int erofs_od_parse(const void *buf, size_t n, struct erofs_od_msg *msg,
		   bool *has_fd, const struct erofs_log *log)
{
	const unsigned char *p = buf;
	uint64_t vks, cks;

	memset(msg, 0, sizeof(*msg));
	*has_fd = false;
	if (n < EROFS_OD_MSG_HDR_SIZE)
		return erofs_err(log, -EBADMSG,
				 "malformed message: %zu bytes, shorter than "
				 "the %u-byte header",
				 n, EROFS_OD_MSG_HDR_SIZE);
	msg->msg_id = get_u32(p);
	msg->opcode = get_u32(p + 4);
	msg->len = get_u32(p + 8);
	msg->object_id = get_u32(p + 12);
	p += EROFS_OD_MSG_HDR_SIZE;

	if (msg->opcode == EROFS_OD_OP_OPEN &&
	    n >= EROFS_OD_MSG_HDR_SIZE + EROFS_OD_OPEN_HDR_SIZE) {
		msg->open.volume_key_size = get_u32(p);
		msg->open.cookie_key_size = get_u32(p + 4);
		msg->open.fd = get_u32(p + 8);
		msg->open.flags = get_u32(p + 12);
		/* the kernel installed this fd whatever else is wrong */
		*has_fd = msg->open.fd <= INT32_MAX;
	}
	if (msg->len != n)
		return BAD("length field says %u", msg->len);

	switch (msg->opcode) {
	case EROFS_OD_OP_OPEN:
		if (n < EROFS_OD_MSG_HDR_SIZE + EROFS_OD_OPEN_HDR_SIZE)
			return BAD("shorter than the OPEN header");
		vks = msg->open.volume_key_size;
		cks = msg->open.cookie_key_size;
		if (vks + cks !=
		    n - EROFS_OD_MSG_HDR_SIZE - EROFS_OD_OPEN_HDR_SIZE)
			return BAD("key sizes %" PRIu64 " + %" PRIu64
				   " do not match the payload",
				   vks, cks);
		if (vks < 2 || vks > EROFS_OD_KEY_MAX + 1)
			return BAD("volume key size %" PRIu64, vks);
		if (cks < 1 || cks > EROFS_OD_KEY_MAX)
			return BAD("cookie key size %" PRIu64, cks);
		msg->open.volume_key = (const char *)p + EROFS_OD_OPEN_HDR_SIZE;
		msg->open.cookie_key = p + EROFS_OD_OPEN_HDR_SIZE + vks;
		if (msg->open.volume_key[vks - 1] != '\0' ||
		    strlen(msg->open.volume_key) != vks - 1)
			return BAD("volume key is not one NUL-terminated "
				   "string of %" PRIu64 " bytes",
				   vks);
		if (!*has_fd)
			return BAD("fd %u", msg->open.fd);
		return 0;
	case EROFS_OD_OP_READ:
		if (n != EROFS_OD_MSG_HDR_SIZE + EROFS_OD_READ_SIZE)
			return BAD("READ payload must be %u bytes",
				   EROFS_OD_READ_SIZE);
		msg->read.off = get_u64(p);
		msg->read.len = get_u64(p + 8);
		if (!msg->read.len || msg->read.off > INT64_MAX ||
		    msg->read.len > INT64_MAX - msg->read.off)
			return BAD("bad range off %" PRIu64 " len %" PRIu64,
				   msg->read.off, msg->read.len);
		return 0;
	case EROFS_OD_OP_CLOSE:
		if (n != EROFS_OD_MSG_HDR_SIZE)
			return BAD("CLOSE has no payload");
		return 0;
	default:
		return erofs_err(log, -EOPNOTSUPP,
				 "message msg_id %u object %u length %zu: "
				 "unknown opcode %u, ignored",
				 msg->msg_id, msg->object_id, n, msg->opcode);
	}
}

#undef BAD

/* ------------------------------------------------------------------ */

int erofs_od_create(const struct erofs_od_config *cfg,
		    const struct erofs_od_dev_ops *ops, void *dev,
		    struct erofs_fetch *fetch, struct erofs_od **out)
{
	struct erofs_od *od = calloc(1, sizeof(*od));

	if (!od || !(od->buf = malloc(EROFS_OD_MSG_MAX_SIZE))) {
		free(od);
		return erofs_err(cfg->log, -ENOMEM, "on-demand state");
	}
	od->bufsz = EROFS_OD_MSG_MAX_SIZE;
	od->log = cfg->log;
	od->ops = ops;
	od->dev = dev;
	od->fetch = fetch;
	od->prefetch = cfg->prefetch;
	od->resolve = cfg->resolve;
	od->resolve_arg = cfg->resolve_arg;
	pthread_mutex_init(&od->stats_lock, NULL);
	*out = od;
	return 0;
}

void erofs_od_destroy(struct erofs_od *od)
{
	if (!od)
		return;
	if (od->fetch)
		erofs_fetch_drain(od->fetch);
	for (unsigned int i = 0; i < od->nr_objs; i++) {
		erofs_fetch_obj_close(od->objs[i].obj);
		free(od->objs[i].gc_name);
	}
	for (unsigned int i = 0; i < od->nr_used; i++)
		free(od->used[i].gc_name);
	free(od->used);
	free(od->objs);
	free(od->buf);
	pthread_mutex_destroy(&od->stats_lock);
	free(od);
}

static void count(struct erofs_od *od, uint64_t *field)
{
	pthread_mutex_lock(&od->stats_lock);
	(*field)++;
	pthread_mutex_unlock(&od->stats_lock);
}

int erofs_od_cmd(struct erofs_od *od, const char *fmt, ...)
{
	char cmd[EROFS_OD_CMD_MAX + 1];
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(cmd))
		return erofs_err(od->log, -ENAMETOOLONG,
				 "cachefiles command too long: %.40s...", cmd);
	if (strchr(cmd, '\n'))
		return erofs_err(od->log, -EINVAL,
				 "cachefiles command with a newline: %s", cmd);
	err = od->ops->write_cmd(od->dev, cmd);
	if (err)
		return erofs_err(od->log, err, "cachefiles command \"%s\"",
				 cmd);
	erofs_dbg(od->log, "sent \"%s\"", cmd);
	return 0;
}

int erofs_od_bind(struct erofs_od *od, const char *cache_dir, const char *tag)
{
	int err;

	if (cache_dir[0] != '/')
		return erofs_err(od->log, -EINVAL,
				 "cache dir %s: must be an absolute path",
				 cache_dir);
	err = erofs_od_cmd(od, "dir %s", cache_dir);
	if (!err && tag)
		err = erofs_od_cmd(od, "tag %s", tag);
	if (!err)
		err = erofs_od_cmd(od, "bind ondemand");
	return err;
}

int erofs_od_restore(struct erofs_od *od)
{
	return erofs_od_cmd(od, "restore");
}

static struct od_object *find_object(struct erofs_od *od, uint32_t id)
{
	for (unsigned int i = 0; i < od->nr_objs; i++)
		if (od->objs[i].object_id == id)
			return &od->objs[i];
	return NULL;
}

static void remove_object(struct erofs_od *od, struct od_object *oo)
{
	struct erofs_fetch_obj *obj = oo->obj;

	free(oo->gc_name);
	*oo = od->objs[--od->nr_objs];
	erofs_fetch_obj_close(obj);
}

unsigned int erofs_od_nr_objects(const struct erofs_od *od)
{
	return od->nr_objs;
}

/* the cookie key as an object name: printable, no '/' */
static bool cookie_name(const struct erofs_od_msg *msg, char *name)
{
	uint32_t n = msg->open.cookie_key_size;

	for (uint32_t i = 0; i < n; i++) {
		unsigned char c = msg->open.cookie_key[i];

		if (c <= 0x20 || c >= 0x7f || c == '/')
			return false;
	}
	memcpy(name, msg->open.cookie_key, n);
	name[n] = '\0';
	return true;
}

/* the object's cache file as a GC pass sees it: volume dir / file name */
static char *gc_name(const char *volume_key, const char *key)
{
	char cooked[EROFS_COOKIE_NAME_MAX + 1], *s;
	size_t n;

	if (erofs_cookie_cook_key(key, strlen(key), cooked) < 0)
		return NULL;
	n = strlen(volume_key) + strlen(cooked) + 3;
	s = malloc(n);
	if (s)
		snprintf(s, n, "I%s/%s", volume_key, cooked);
	return s;
}

static int find_used(const struct erofs_od *od, const char *name)
{
	for (unsigned int i = 0; i < od->nr_used; i++)
		if (!strcmp(od->used[i].gc_name, name))
			return i;
	return -1;
}

/* remember that the object named @name was in use until @at */
static void note_used(struct erofs_od *od, const char *name, time_t at)
{
	struct od_used *u;
	int i = find_used(od, name);

	if (i >= 0) {
		od->used[i].at = at;
		return;
	}
	if (od->nr_used == od->cap_used) {
		unsigned int ncap = od->cap_used ? od->cap_used * 2 : 16;

		u = realloc(od->used, ncap * sizeof(*u));
		if (!u)
			goto nomem;
		od->used = u;
		od->cap_used = ncap;
	}
	u = &od->used[od->nr_used];
	u->gc_name = strdup(name);
	if (!u->gc_name)
		goto nomem;
	u->at = at;
	od->nr_used++;
	return;
nomem:
	erofs_warn(od->log, "%s: cannot note its last use: %s", name,
		   strerror(ENOMEM));
}

static void drop_used(struct erofs_od *od, unsigned int i)
{
	free(od->used[i].gc_name);
	od->used[i] = od->used[--od->nr_used];
}

static void handle_open(struct erofs_od *od, const struct erofs_od_msg *msg)
{
	char name[EROFS_OD_KEY_MAX + 1];
	struct erofs_fetch_info info;
	struct erofs_fetch *fetch;
	struct erofs_fetch_obj *obj;
	struct od_object *oo;
	int fd = msg->open.fd, err, i;

	count(od, &od->stats.opens);
	if (!cookie_name(msg, name)) {
		erofs_err(od->log, -ENOENT,
			  "OPEN msg_id %u object %u: volume \"%s\": cookie key "
			  "of %u bytes is not a printable name",
			  msg->msg_id, msg->object_id, msg->open.volume_key,
			  msg->open.cookie_key_size);
		err = -ENOENT;
		goto fail;
	}
	if (strncmp(msg->open.volume_key, "erofs,", 6)) {
		erofs_err(od->log, -ENOENT,
			  "OPEN msg_id %u object %u: volume \"%s\" cookie "
			  "\"%s\": not an erofs volume",
			  msg->msg_id, msg->object_id, msg->open.volume_key,
			  name);
		err = -ENOENT;
		goto fail;
	}
	fetch = od->fetch;
	if (od->resolve)
		err = od->resolve(od->resolve_arg, name, &fetch, &info);
	else
		err = erofs_fetch_lookup(fetch, name, &info);
	if (err) {
		erofs_err(od->log, err,
			  "OPEN msg_id %u object %u: volume \"%s\" cookie "
			  "\"%s\": unknown object",
			  msg->msg_id, msg->object_id, msg->open.volume_key,
			  name);
		goto fail;
	}
	if (info.size > INT64_MAX) {
		err = erofs_err(od->log, -EFBIG, "OPEN msg_id %u: %s: size",
				msg->msg_id, name);
		goto fail;
	}
	oo = find_object(od, msg->object_id);
	if (oo) {
		erofs_warn(od->log,
			   "OPEN msg_id %u: object %u (%s) was "
			   "still open; closing it",
			   msg->msg_id, msg->object_id,
			   erofs_fetch_obj_name(oo->obj));
		remove_object(od, oo);
	}
	if (od->nr_objs == od->cap_objs) {
		unsigned int ncap = od->cap_objs ? od->cap_objs * 2 : 16;
		struct od_object *n = realloc(od->objs, ncap * sizeof(*n));

		if (!n) {
			err = erofs_err(od->log, -ENOMEM, "OPEN msg_id %u",
					msg->msg_id);
			goto fail;
		}
		od->objs = n;
		od->cap_objs = ncap;
	}
	/* decimal: copen is parsed with base 0, so no leading zeros */
	err = erofs_od_cmd(od, "copen %u,%" PRIu64, msg->msg_id, info.size);
	if (err) {
		od->ops->close_fd(od->dev, fd);
		count(od, &od->stats.opens_failed);
		return;
	}
	err = erofs_fetch_obj_open(fetch, name, &info, fd, &obj);
	if (err) {
		/* the fd is closed: later READs reopen or fail with EIO */
		count(od, &od->stats.opens_failed);
		return;
	}
	oo = &od->objs[od->nr_objs++];
	*oo =
	    (struct od_object){.object_id = msg->object_id,
			       .obj = obj,
			       .gc_name = gc_name(msg->open.volume_key, name)};
	/* in use again ("inuse" guards it): its next CLOSE is noted anew */
	if (oo->gc_name && (i = find_used(od, oo->gc_name)) >= 0)
		drop_used(od, i);
	erofs_info(
	    od->log, "OPEN msg_id %u object %u: %s (%s), %" PRIu64 " bytes",
	    msg->msg_id, msg->object_id, name, msg->open.volume_key, info.size);
	if (od->prefetch)
		erofs_fetch_prefetch(obj);
	return;
fail:
	count(od, &od->stats.opens_failed);
	erofs_od_cmd(od, "copen %u,-%d", msg->msg_id, -err);
	od->ops->close_fd(od->dev, fd);
}

static void read_done(void *arg, struct erofs_fetch_obj *obj, int err)
{
	struct od_read *r = arg;
	struct erofs_od *od = r->od;
	int ret;

	if (err) {
		erofs_err(od->log, err,
			  "READ msg_id %u object %u (%s): "
			  "completing without data",
			  r->msg_id, r->object_id, erofs_fetch_obj_name(obj));
		count(od, &od->stats.reads_failed);
	}
	ret =
	    od->ops->complete_read(od->dev, erofs_fetch_obj_fd(obj), r->msg_id);
	if (ret)
		erofs_err(od->log, ret,
			  "READ msg_id %u object %u (%s): "
			  "READ_COMPLETE",
			  r->msg_id, r->object_id, erofs_fetch_obj_name(obj));
	free(r);
}

static void handle_read(struct erofs_od *od, const struct erofs_od_msg *msg)
{
	struct od_object *oo = find_object(od, msg->object_id);
	struct od_read *r;
	uint64_t size;
	int err;

	count(od, &od->stats.reads);
	if (!oo) {
		/* no fd to complete it with; the kernel flushes it when the
		 * object goes */
		erofs_err(od->log, -ENOENT, "READ msg_id %u: unknown object %u",
			  msg->msg_id, msg->object_id);
		count(od, &od->stats.unknown_object);
		return;
	}
	erofs_dbg(od->log,
		  "READ msg_id %u object %u (%s): off %" PRIu64 " len %" PRIu64,
		  msg->msg_id, msg->object_id, erofs_fetch_obj_name(oo->obj),
		  msg->read.off, msg->read.len);
	r = malloc(sizeof(*r));
	/*
	 * The kernel asks within the object it was told the size of (and
	 * its last page); past that, zeros would be written without bound.
	 */
	size = erofs_round_up(erofs_fetch_obj_size(oo->obj), 65536);
	if (msg->read.off >= size || msg->read.len > size - msg->read.off) {
		erofs_err(od->log, -EINVAL,
			  "READ msg_id %u object %u (%s): [%" PRIu64
			  ", +%" PRIu64 ") is past its end",
			  msg->msg_id, msg->object_id,
			  erofs_fetch_obj_name(oo->obj), msg->read.off,
			  msg->read.len);
		free(r);
		r = NULL;
		err = -EINVAL;
	} else if (!r) {
		err = -ENOMEM;
	} else {
		*r = (struct od_read){od, msg->msg_id, msg->object_id};
		/* read-ahead; a range written meanwhile is complete now */
		if (erofs_fetch_obj_access(oo->obj, msg->read.off,
					   msg->read.len)) {
			read_done(r, oo->obj, 0);
			return;
		}
		err = erofs_fetch_submit(oo->obj, msg->read.off, msg->read.len,
					 read_done, r);
	}
	if (err) {
		free(r);
		erofs_err(od->log, err,
			  "READ msg_id %u object %u: cannot "
			  "queue; completing without data",
			  msg->msg_id, msg->object_id);
		count(od, &od->stats.reads_failed);
		od->ops->complete_read(od->dev, erofs_fetch_obj_fd(oo->obj),
				       msg->msg_id);
	}
}

static void handle_close(struct erofs_od *od, const struct erofs_od_msg *msg)
{
	struct od_object *oo = find_object(od, msg->object_id);

	count(od, &od->stats.closes);
	if (!oo) {
		erofs_warn(od->log, "CLOSE msg_id %u: unknown object %u",
			   msg->msg_id, msg->object_id);
		count(od, &od->stats.unknown_object);
		return;
	}
	erofs_info(od->log, "CLOSE msg_id %u object %u: %s", msg->msg_id,
		   msg->object_id, erofs_fetch_obj_name(oo->obj));
	if (od->gc_on && oo->gc_name)
		note_used(od, oo->gc_name, time(NULL));
	remove_object(od, oo);
}

void erofs_od_handle(struct erofs_od *od, const void *buf, size_t n)
{
	struct erofs_od_msg msg;
	bool has_fd;
	int err;

	count(od, &od->stats.msgs);
	err = erofs_od_parse(buf, n, &msg, &has_fd, od->log);
	if (err) {
		count(od, &od->stats.malformed);
		if (msg.opcode == EROFS_OD_OP_OPEN &&
		    n >= EROFS_OD_MSG_HDR_SIZE) {
			/* the request waits for an answer */
			erofs_od_cmd(od, "copen %u,-%d", msg.msg_id, EINVAL);
		}
		if (has_fd)
			od->ops->close_fd(od->dev, (int)msg.open.fd);
		return;
	}
	switch (msg.opcode) {
	case EROFS_OD_OP_OPEN:
		handle_open(od, &msg);
		break;
	case EROFS_OD_OP_READ:
		handle_read(od, &msg);
		break;
	case EROFS_OD_OP_CLOSE:
		handle_close(od, &msg);
		break;
	}
}

int erofs_od_process(struct erofs_od *od)
{
	for (;;) {
		ssize_t n = od->ops->read_msg(od->dev, od->buf, od->bufsz);

		if (n == -EMSGSIZE) {
			size_t nsz = od->bufsz * 2;
			unsigned char *nb;

			if (nsz > EROFS_OD_MSG_GROW_LIMIT)
				return erofs_err(od->log, -EMSGSIZE,
						 "cachefiles message larger "
						 "than %u bytes",
						 EROFS_OD_MSG_GROW_LIMIT);
			erofs_warn(od->log,
				   "cachefiles message larger than "
				   "%zu bytes; retrying with %zu",
				   od->bufsz, nsz);
			nb = realloc(od->buf, nsz);
			if (!nb)
				return erofs_err(od->log, -ENOMEM,
						 "message buffer");
			od->buf = nb;
			od->bufsz = nsz;
			continue;
		}
		if (n == -EINTR || n == -EAGAIN)
			return 0;
		if (n < 0)
			return erofs_err(od->log, (int)n,
					 "reading /dev/cachefiles");
		if (n == 0)
			return 0;
		if ((size_t)n > od->bufsz)
			return erofs_err(od->log, -EIO,
					 "device returned %zd bytes for a "
					 "%zu-byte buffer",
					 n, od->bufsz);
		erofs_od_handle(od, od->buf, n);
		return 1;
	}
}

void erofs_od_get_stats(struct erofs_od *od, struct erofs_od_stats *s)
{
	pthread_mutex_lock(&od->stats_lock);
	*s = od->stats;
	pthread_mutex_unlock(&od->stats_lock);
}

void erofs_od_log_stats(struct erofs_od *od, const char *when)
{
	struct erofs_od_stats s;

	erofs_od_get_stats(od, &s);
	erofs_msg(od->log, EROFS_LOG_INFO, 0,
		  "protocol (%s): messages %" PRIu64 " OPEN %" PRIu64
		  " (failed %" PRIu64 ") READ %" PRIu64 " (failed %" PRIu64
		  ") CLOSE %" PRIu64 " malformed %" PRIu64
		  " unknown object %" PRIu64 " open objects %u",
		  when, s.msgs, s.opens, s.opens_failed, s.reads,
		  s.reads_failed, s.closes, s.malformed, s.unknown_object,
		  od->nr_objs);
}

/* ------------------------------------------------------------------ */
/* garbage collection (the walk is lib/cache_gc.c)                     */

static int gc_inuse(void *arg, const char *name)
{
	struct erofs_od *od = arg;
	char cmd[EROFS_OD_CMD_MAX + 1];

	if ((size_t)snprintf(cmd, sizeof(cmd), "inuse %s", name) >= sizeof(cmd))
		return -ENAMETOOLONG;
	return od->ops->write_cmd(od->dev, cmd);
}

static int gc_cull(void *arg, const char *name)
{
	return erofs_od_cmd(arg, "cull %s", name);
}

static time_t gc_last_close(void *arg, const char *vol, const char *name)
{
	struct erofs_od *od = arg;
	size_t vlen = strlen(vol);

	for (unsigned int i = 0; i < od->nr_used; i++) {
		const char *u = od->used[i].gc_name;
		time_t at = od->used[i].at;

		if (strncmp(u, vol, vlen) || u[vlen] != '/' ||
		    strcmp(u + vlen + 1, name))
			continue;
		/* it goes onto the file's atime now */
		drop_used(od, i);
		return at;
	}
	return 0;
}

static const struct erofs_cache_gc_ops od_gc_ops = {
    .inuse = gc_inuse,
    .cull = gc_cull,
    .last_close = gc_last_close,
};

int erofs_od_cull_old(struct erofs_od *od, const char *cache_dir,
		      uint64_t age_s, time_t now)
{
	/* from now on CLOSEs are noted; a use older than the age no longer
	 * keeps anything */
	od->gc_on = true;
	for (unsigned int i = 0; i < od->nr_used;) {
		if (od->used[i].at <= now &&
		    (uint64_t)(now - od->used[i].at) >= age_s)
			drop_used(od, i);
		else
			i++;
	}
	return erofs_cache_gc(cache_dir, age_s, now, &od_gc_ops, od, od->log);
}

/* ------------------------------------------------------------------ */
/* the real device                                                     */

static ssize_t kdev_read(void *dev, void *buf, size_t size)
{
	struct erofs_od_kdev *k = dev;
	ssize_t n = read(k->fd, buf, size);

	return n < 0 ? -errno : n;
}

static int kdev_write(void *dev, const char *cmd)
{
	struct erofs_od_kdev *k = dev;
	size_t len = strlen(cmd);
	ssize_t n;

	do {
		n = write(k->fd, cmd, len);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

static int kdev_complete(void *dev, int fd, uint32_t msg_id)
{
	int ret;

	do {
		ret = ioctl(fd, EROFS_OD_IOC_READ_COMPLETE,
			    (unsigned long)msg_id);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

static void kdev_close(void *dev, int fd)
{
	struct erofs_od_kdev *k = dev;

	if (fd > 2 && fd != k->fd)
		close(fd);
}

const struct erofs_od_dev_ops erofs_od_kdev_ops = {
    .read_msg = kdev_read,
    .write_cmd = kdev_write,
    .complete_read = kdev_complete,
    .close_fd = kdev_close,
};

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Blob writer thread: ordered appends, SHA-256 as the bytes go out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "liberofs_blob.h"

struct erofs_blob_req {
	struct erofs_blob_req *next;
	void *buf;
	size_t len;
	size_t size;		/* allocation size of buf */
	uint64_t off;
};

int erofs_blob_set_pool(struct erofs_blob *b, size_t bufsz)
{
	b->pool_bufsz = bufsz;
	/*
	 * Free buffers kept for reuse: half of what can be queued is enough to
	 * refill the queue without malloc while bounding idle memory.
	 */
	b->pool_max = b->max_queued / bufsz / 2 + 4;
	b->pool = calloc(b->pool_max, sizeof(*b->pool));
	return b->pool ? 0 : -ENOMEM;
}

void *erofs_blob_alloc(struct erofs_blob *b, size_t size)
{
	void *buf = NULL;

	if (size == b->pool_bufsz) {
		pthread_mutex_lock(&b->lock);
		if (b->pool_nr)
			buf = b->pool[--b->pool_nr];
		pthread_mutex_unlock(&b->lock);
	}
	return buf ? buf : malloc(size);
}

/* with the lock held */
static void release_locked(struct erofs_blob *b, void *buf, size_t size)
{
	if (size == b->pool_bufsz && b->pool_nr < b->pool_max)
		b->pool[b->pool_nr++] = buf;
	else
		free(buf);
}

void erofs_blob_release(struct erofs_blob *b, void *buf, size_t size)
{
	pthread_mutex_lock(&b->lock);
	release_locked(b, buf, size);
	pthread_mutex_unlock(&b->lock);
}

static bool all_zero(const void *p, size_t len)
{
	const uint8_t *c = p;

	return !c[0] && !memcmp(c, c + 1, len - 1);
}

/* writes a request, leaving whole zero blocks as holes */
static int write_req(struct erofs_blob *b, const struct erofs_blob_req *r)
{
	const char *p = r->buf;
	size_t done = 0;

	while (done < r->len) {
		bool zero = all_zero(p + done, b->blksz);
		size_t run = b->blksz;

		while (done + run < r->len &&
		       all_zero(p + done + run, b->blksz) == zero &&
		       run < (8u << 20))
			run += b->blksz;
		if (!zero) {
			int err = erofs_pwrite_all(b->fd, p + done, run,
						   b->base + r->off + done);
			if (err)
				return err;
		}
		done += run;
	}
	return 0;
}

static void *writer_main(void *arg)
{
	struct erofs_blob *b = arg;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		struct erofs_blob_req *r = b->head;
		int err = 0;

		if (!r) {
			if (b->closing)
				break;
			b->writer_waits = true;
			pthread_cond_wait(&b->to_writer, &b->lock);
			b->writer_waits = false;
			continue;
		}
		pthread_mutex_unlock(&b->lock);
		if (!r->buf) {
			/* a hole: nothing to write */
			static const uint8_t zero[4096];

			for (size_t d = 0; b->hashing && d < r->len;
			     d += sizeof(zero))
				EVP_DigestUpdate(b->sha, zero,
						 r->len - d < sizeof(zero) ?
							 r->len - d :
							 sizeof(zero));
		} else {
			if (b->hashing)
				EVP_DigestUpdate(b->sha, r->buf, r->len);
			if (!b->err)
				err = write_req(b, r);
		}
		pthread_mutex_lock(&b->lock);
		if (err && !b->err)
			b->err = err;
		b->head = r->next;
		if (!b->head)
			b->tail = NULL;
		b->queued -= r->size;
		b->written = r->off + r->len;
		if (b->callers_waiting)
			pthread_cond_broadcast(&b->to_caller);
		release_locked(b, r->buf, r->size);
		free(r);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

int erofs_blob_init(struct erofs_blob *b, int fd, uint64_t base,
		    unsigned int blksz, bool hashing, uint64_t max_queued,
		    const char *name, const struct erofs_log *log)
{
	memset(b, 0, sizeof(*b));
	b->fd = fd;
	b->base = base;
	b->blksz = blksz;
	b->hashing = hashing;
	b->max_queued = max_queued;
	b->name = name;
	b->log = log;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->to_writer, NULL);
	pthread_cond_init(&b->to_caller, NULL);
	if (hashing) {
		b->sha = EVP_MD_CTX_new();
		if (!b->sha || !EVP_DigestInit_ex(b->sha, EVP_sha256(), NULL))
			return -ENOMEM;
	}
	if (pthread_create(&b->thread, NULL, writer_main, b))
		return erofs_err(log, -EAGAIN, "%s: cannot start writer",
				 name);
	b->thread_started = true;
	return 0;
}

int erofs_blob_append(struct erofs_blob *b, void *buf, size_t len,
		      size_t size, uint64_t *off)
{
	struct erofs_blob_req *r = malloc(sizeof(*r));
	int err;

	if (!r) {
		erofs_blob_release(b, buf, size);
		return -ENOMEM;
	}
	r->buf = buf;
	r->len = len;
	r->size = size;
	r->next = NULL;
	pthread_mutex_lock(&b->lock);
	while (b->queued && b->queued + size > b->max_queued && !b->err) {
		b->callers_waiting++;
		pthread_cond_wait(&b->to_caller, &b->lock);
		b->callers_waiting--;
	}
	err = b->err;
	if (err) {
		bool first = !b->reported;

		b->reported = true;
		release_locked(b, buf, size);
		pthread_mutex_unlock(&b->lock);
		free(r);
		return first ? erofs_err(b->log, err, "%s: write failed",
					 b->name) :
			       err;
	}
	r->off = b->size;
	*off = b->size;
	b->size += len;
	b->queued += size;
	if (b->tail)
		b->tail->next = r;
	else
		b->head = r;
	b->tail = r;
	if (b->writer_waits)
		pthread_cond_signal(&b->to_writer);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int erofs_blob_append_hole(struct erofs_blob *b, uint64_t len, uint64_t *off)
{
	return erofs_blob_append(b, NULL, len, 0, off);
}

int erofs_blob_pread(struct erofs_blob *b, void *buf, size_t len,
		     uint64_t off)
{
	ssize_t n;
	int err;

	pthread_mutex_lock(&b->lock);
	while (b->written < off + len && !b->err) {
		b->callers_waiting++;
		pthread_cond_wait(&b->to_caller, &b->lock);
		b->callers_waiting--;
	}
	err = b->err;
	if (err && !b->reported) {
		b->reported = true;
		pthread_mutex_unlock(&b->lock);
		return erofs_err(b->log, err, "%s: write failed", b->name);
	}
	pthread_mutex_unlock(&b->lock);
	if (err)
		return err;
	n = erofs_pread_all(b->fd, buf, len, b->base + off);
	if (n < 0)
		return erofs_err(b->log, n, "%s: read back at %llu", b->name,
				 (unsigned long long)off);
	/* the tail of a sparse file past its size reads as zeros */
	if ((size_t)n < len)
		memset((char *)buf + n, 0, len - n);
	return 0;
}

int erofs_blob_compare(struct erofs_blob *b, const void *buf, size_t len,
		       uint64_t off, void *tmp)
{
	const struct erofs_blob_req *r;
	int ret = -EAGAIN;

	pthread_mutex_lock(&b->lock);
	if (b->written < off + len) {
		/* appends are whole chunks: the range is one queued request */
		for (r = b->head; r; r = r->next) {
			if (off >= r->off && off + len <= r->off + r->len &&
			    r->buf) {
				ret = memcmp((const char *)r->buf +
						     (off - r->off),
					     buf, len) ?
					      1 :
					      0;
				break;
			}
		}
	}
	pthread_mutex_unlock(&b->lock);
	if (ret != -EAGAIN)
		return ret;
	/* written already (or spanning requests): read it back */
	ret = erofs_blob_pread(b, tmp, len, off);
	if (ret)
		return ret;
	return memcmp(tmp, buf, len) ? 1 : 0;
}

int erofs_blob_finish(struct erofs_blob *b, uint8_t sha[EROFS_SHA256_LEN])
{
	int err;

	if (b->thread_started) {
		pthread_mutex_lock(&b->lock);
		b->closing = true;
		pthread_cond_signal(&b->to_writer);
		pthread_mutex_unlock(&b->lock);
		pthread_join(b->thread, NULL);
		b->thread_started = false;
	}
	err = b->err;
	if (err && !b->reported)
		erofs_err(b->log, err, "%s: write failed", b->name);
	b->reported = true;
	if (b->sha) {
		if (!err && sha)
			EVP_DigestFinal_ex(b->sha, sha, NULL);
		EVP_MD_CTX_free(b->sha);
		b->sha = NULL;
	}
	for (unsigned int i = 0; i < b->pool_nr; i++)
		free(b->pool[i]);
	free(b->pool);
	b->pool = NULL;
	b->pool_nr = 0;
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->to_writer);
	pthread_cond_destroy(&b->to_caller);
	return err;
}

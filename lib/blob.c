// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Blob writer thread: ordered appends, SHA-256 as the bytes go out.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "erofs/blob.h"

struct erofs_blob_req {
	struct erofs_blob_req *next;
	void *buf;
	size_t len;
	uint64_t off;
};

static bool all_zero(const void *p, size_t len)
{
	const uint64_t *w = p;

	for (size_t i = 0; i < len / 8; i++)
		if (w[i])
			return false;
	return true;
}

/* writes a request, leaving whole zero blocks as holes */
static int write_req(struct erofs_blob *b, const struct erofs_blob_req *r)
{
	const char *p = r->buf;
	size_t done = 0;

	while (done < r->len) {
		size_t run = 0;
		bool zero = all_zero(p + done, b->blksz);

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
			pthread_cond_wait(&b->cond, &b->lock);
			continue;
		}
		pthread_mutex_unlock(&b->lock);
		if (b->hashing)
			EVP_DigestUpdate(b->sha, r->buf, r->len);
		if (!b->err)
			err = write_req(b, r);
		pthread_mutex_lock(&b->lock);
		if (err && !b->err)
			b->err = err;
		b->head = r->next;
		if (!b->head)
			b->tail = NULL;
		b->queued -= r->len;
		b->written = r->off + r->len;
		pthread_cond_broadcast(&b->cond);
		free(r->buf);
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
	pthread_cond_init(&b->cond, NULL);
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
		      uint64_t *off)
{
	struct erofs_blob_req *r = malloc(sizeof(*r));
	int err;

	if (!r) {
		free(buf);
		return -ENOMEM;
	}
	r->buf = buf;
	r->len = len;
	r->next = NULL;
	pthread_mutex_lock(&b->lock);
	while (b->queued && b->queued + len > b->max_queued && !b->err)
		pthread_cond_wait(&b->cond, &b->lock);
	err = b->err;
	if (err) {
		bool first = !b->reported;

		b->reported = true;
		pthread_mutex_unlock(&b->lock);
		free(buf);
		free(r);
		return first ? erofs_err(b->log, err, "%s: write failed",
					 b->name) :
			       err;
	}
	r->off = b->size;
	*off = b->size;
	b->size += len;
	b->queued += len;
	if (b->tail)
		b->tail->next = r;
	else
		b->head = r;
	b->tail = r;
	pthread_cond_broadcast(&b->cond);
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int erofs_blob_pread(struct erofs_blob *b, void *buf, size_t len,
		     uint64_t off)
{
	ssize_t n;
	int err;

	pthread_mutex_lock(&b->lock);
	while (b->written < off + len && !b->err)
		pthread_cond_wait(&b->cond, &b->lock);
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

int erofs_blob_finish(struct erofs_blob *b, uint8_t sha[EROFS_SHA256_LEN])
{
	int err;

	if (b->thread_started) {
		pthread_mutex_lock(&b->lock);
		b->closing = true;
		pthread_cond_broadcast(&b->cond);
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
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->cond);
	return err;
}

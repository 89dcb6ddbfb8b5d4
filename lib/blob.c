// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Blob writer: ordered appends stored by a writer thread and hashed with
 * SHA-256 by a hasher thread, side by side.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include <openssl/evp.h>
#include <xxhash.h>

#include "liberofs_blob.h"

struct erofs_blob_req {
	struct erofs_blob_req *next;
	void *buf;
	size_t len;
	size_t size; /* allocation size of buf */
	uint64_t off;
	unsigned int done; /* consumers (writer, hasher) through with it */
};

#define BATCH_BYTES (1u << 20)
#define BATCH_REQS  64
#define CACHE_MAX   16

struct erofs_blob_arena {
	struct erofs_blob_arena *next;
	char *p;
	size_t size;
};

#define HUGE_PAGE (2u << 20)

static bool in_arena(const char *p, size_t size, const void *buf)
{
	return p && (const char *)buf >= p && (const char *)buf < p + size;
}

static void unmap_arena(char *p, size_t size)
{
	if (p)
		munmap(p, size);
}

int erofs_blob_set_pool(struct erofs_blob *b, size_t bufsz)
{
	unsigned int nbuf;

	if (b->pool && b->pool_bufsz == bufsz)
		return 0;
	if (!b->cache)
		b->cache = calloc(CACHE_MAX, sizeof(*b->cache));
	if (!b->cache)
		return -ENOMEM;
	/*
	 * Enough buffers for a full queue, the batch being gathered and both
	 * threads' caches; more are malloc()ed and freed.
	 */
	nbuf = b->max_queued / bufsz + 2 * CACHE_MAX +
	       (BATCH_BYTES / bufsz + 1 < BATCH_REQS ? BATCH_BYTES / bufsz + 1
						     : BATCH_REQS);
	pthread_mutex_lock(&b->lock);
	if (b->arena) {
		/* a new size (another chunk store): the old arena retires */
		struct erofs_blob_arena *a = malloc(sizeof(*a));

		if (!a) {
			pthread_mutex_unlock(&b->lock);
			return -ENOMEM;
		}
		a->p = b->arena;
		a->size = b->arena_size;
		a->next = b->retired;
		b->retired = a;
		b->arena = NULL;
	}
	free(b->pool);
	b->cache_nr = 0;
	b->pool_nr = 0;
	b->pool_bufsz = bufsz;
	b->pool_max = nbuf;
	b->pool = calloc(nbuf, sizeof(*b->pool));
	pthread_mutex_unlock(&b->lock);
	return b->pool ? 0 : -ENOMEM;
}

/* maps the arena and fills the pool from it; with the lock held */
static void map_arena_locked(struct erofs_blob *b)
{
	size_t size =
	    erofs_round_up((uint64_t)b->pool_max * b->pool_bufsz, HUGE_PAGE);
	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		/* no arena: plain malloc() buffers, never pooled */
		b->pool_max = 0;
		return;
	}
	/* a hint: without huge pages the arena still works */
	madvise(p, size, MADV_HUGEPAGE);
	b->arena = p;
	b->arena_size = size;
	for (unsigned int i = b->pool_max; i--;)
		b->pool[b->pool_nr++] = p + (size_t)i * b->pool_bufsz;
}

void *erofs_blob_alloc(struct erofs_blob *b, size_t size)
{
	if (size == b->pool_bufsz && b->cache && b->pool_max) {
		if (!b->cache_nr) {
			/* refill the caller's cache in one go */
			pthread_mutex_lock(&b->lock);
			if (!b->arena)
				map_arena_locked(b);
			while (b->pool_nr && b->cache_nr < CACHE_MAX)
				b->cache[b->cache_nr++] = b->pool[--b->pool_nr];
			pthread_mutex_unlock(&b->lock);
		}
		if (b->cache_nr)
			return b->cache[--b->cache_nr];
	}
	return malloc(size);
}

/* a buffer of a retired arena: stays mapped until erofs_blob_finish() */
static bool retired(const struct erofs_blob *b, const void *buf)
{
	for (const struct erofs_blob_arena *a = b->retired; a; a = a->next)
		if (in_arena(a->p, a->size, buf))
			return true;
	return false;
}

/* with the lock held */
static void release_locked(struct erofs_blob *b, void *buf)
{
	if (in_arena(b->arena, b->arena_size, buf))
		b->pool[b->pool_nr++] = buf;
	else if (!retired(b, buf))
		free(buf);
}

void erofs_blob_release(struct erofs_blob *b, void *buf)
{
	if (!buf)
		return;
	/* the caller's own cache first: no lock */
	if (in_arena(b->arena, b->arena_size, buf) && b->cache_nr < CACHE_MAX) {
		b->cache[b->cache_nr++] = buf;
		return;
	}
	pthread_mutex_lock(&b->lock);
	release_locked(b, buf);
	pthread_mutex_unlock(&b->lock);
}

static bool all_zero(const void *p, size_t len)
{
	const uint8_t *c = p;

	return !c[0] && !memcmp(c, c + 1, len - 1);
}

/* consecutive runs of data gathered for one pwritev() */
#define GATHER_MAX 64

struct gather {
	struct iovec iov[GATHER_MAX];
	int nr;
	uint64_t start; /* file offset of iov[0] */
	uint64_t len;
};

static int gather_flush(struct erofs_blob *b, struct gather *g)
{
	int i = 0;
	uint64_t off = g->start;

	while (i < g->nr) {
		ssize_t n = pwritev(b->fd, g->iov + i, g->nr - i, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!n)
			return -EIO;
		off += n;
		/* a short write: skip what went out */
		while (i < g->nr && (size_t)n >= g->iov[i].iov_len) {
			n -= g->iov[i].iov_len;
			i++;
		}
		if (i < g->nr) {
			g->iov[i].iov_base = (char *)g->iov[i].iov_base + n;
			g->iov[i].iov_len -= n;
		}
	}
	g->nr = 0;
	g->len = 0;
	return 0;
}

static int gather_add(struct erofs_blob *b, struct gather *g, const void *p,
		      size_t len, uint64_t off)
{
	int err;

	if (g->nr && (g->start + g->len != off || g->nr == GATHER_MAX)) {
		err = gather_flush(b, g);
		if (err)
			return err;
	}
	if (!g->nr)
		g->start = off;
	g->iov[g->nr].iov_base = (void *)p;
	g->iov[g->nr].iov_len = len;
	g->nr++;
	g->len += len;
	return 0;
}

/* gathers a request's data runs, leaving whole zero blocks as holes */
static int write_req(struct erofs_blob *b, const struct erofs_blob_req *r,
		     struct gather *g)
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
			int err = gather_add(b, g, p + done, run,
					     b->base + r->off + done);
			if (err)
				return err;
		}
		done += run;
	}
	return 0;
}

/* hashes one request (outside the lock) */
static void hash_req(struct erofs_blob *b, const struct erofs_blob_req *r)
{
	static const uint8_t zero[4096];

	if (r->buf) {
		if (b->xxh)
			XXH3_128bits_update(b->xxh, r->buf, r->len);
		else
			EVP_DigestUpdate(b->sha, r->buf, r->len);
		return;
	}
	/* a hole reads as zeros */
	for (size_t d = 0; d < r->len; d += sizeof(zero)) {
		size_t n =
		    r->len - d < sizeof(zero) ? r->len - d : sizeof(zero);

		if (b->xxh)
			XXH3_128bits_update(b->xxh, zero, n);
		else
			EVP_DigestUpdate(b->sha, zero, n);
	}
}

int erofs_blob_fingerprint_only(struct erofs_blob *b)
{
	if (!b->hashing || b->size)
		return -EINVAL;
	b->xxh = XXH3_createState();
	if (!b->xxh || XXH3_128bits_reset(b->xxh) != XXH_OK)
		return -ENOMEM;
	/* the SHA-256 context erofs_blob_init() made goes unused */
	EVP_MD_CTX_free(b->sha);
	b->sha = NULL;
	return 0;
}

/*
 * Frees the requests at the head of the queue every consumer is through
 * with, waking callers waiting for room; with the lock held.
 */
static void pop_done_locked(struct erofs_blob *b)
{
	unsigned int need = b->hashing ? 2 : 1;
	uint64_t freed = 0;

	while (b->head && b->head->done == need) {
		struct erofs_blob_req *r = b->head;

		b->head = r->next;
		freed += r->size;
		if (r->buf)
			release_locked(b, r->buf);
		free(r);
	}
	if (!b->head)
		b->tail = NULL;
	b->queued -= freed;
}

/*
 * The two consumers of the queue run side by side, each on its own thread:
 * the writer stores the bytes (whole zero blocks left as holes), the hasher
 * feeds them to SHA-256.  A request is freed once both are through with it,
 * so on two cores hashing no longer waits for the page cache copy.
 */
static void *consumer_main(struct erofs_blob *b, bool writer)
{
	struct erofs_blob_req **next = writer ? &b->w_next : &b->h_next;
	pthread_cond_t *wake = writer ? &b->to_writer : &b->to_hasher;
	bool *waits = writer ? &b->writer_waits : &b->hasher_waits;

	pthread_mutex_lock(&b->lock);
	for (;;) {
		struct erofs_blob_req *r = *next, *last = b->tail, *q;
		struct gather g = {.nr = 0};
		uint64_t end = 0;
		int err = 0;

		if (!r) {
			if (b->closing)
				break;
			*waits = true;
			pthread_cond_wait(wake, &b->lock);
			*waits = false;
			continue;
		}
		/* all that is queued, as one batch (still visible to compare) */
		*next = NULL;
		pthread_mutex_unlock(&b->lock);
		for (q = r;; q = q->next) {
			if (!writer)
				hash_req(b, q);
			else if (!err && q->buf && !b->err)
				err = write_req(b, q, &g);
			end = q->off + q->len;
			if (q == last)
				break;
		}
		if (!err && g.nr)
			err = gather_flush(b, &g);
		pthread_mutex_lock(&b->lock);
		if (err && !b->err)
			b->err = err;
		for (q = r;; q = q->next) {
			q->done++;
			if (q == last)
				break;
		}
		if (writer)
			b->written = end;
		pop_done_locked(b);
		if (b->callers_waiting)
			pthread_cond_broadcast(&b->to_caller);
	}
	pthread_mutex_unlock(&b->lock);
	return NULL;
}

static void *writer_main(void *arg)
{
	return consumer_main(arg, true);
}

static void *hasher_main(void *arg)
{
	return consumer_main(arg, false);
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
	pthread_cond_init(&b->to_hasher, NULL);
	pthread_cond_init(&b->to_caller, NULL);
	if (hashing) {
		b->sha = EVP_MD_CTX_new();
		if (!b->sha || !EVP_DigestInit_ex(b->sha, EVP_sha256(), NULL))
			return -ENOMEM;
	}
	if (pthread_create(&b->thread, NULL, writer_main, b))
		return erofs_err(log, -EAGAIN, "%s: cannot start writer", name);
	b->thread_started = true;
	if (hashing) {
		if (pthread_create(&b->hasher, NULL, hasher_main, b))
			return erofs_err(log, -EAGAIN,
					 "%s: cannot start hasher", name);
		b->hasher_started = true;
	}
	return 0;
}

/* hands the pending appends to the writer; 0 or the write error */
static int flush_pending(struct erofs_blob *b)
{
	int err;

	pthread_mutex_lock(&b->lock);
	while (b->pend_head && b->queued &&
	       b->queued + b->pend_size > b->max_queued && !b->err) {
		b->callers_waiting++;
		pthread_cond_wait(&b->to_caller, &b->lock);
		b->callers_waiting--;
	}
	err = b->err;
	if (!err && b->pend_head) {
		if (b->tail)
			b->tail->next = b->pend_head;
		else
			b->head = b->pend_head;
		b->tail = b->pend_tail;
		if (!b->w_next)
			b->w_next = b->pend_head;
		if (b->hashing && !b->h_next)
			b->h_next = b->pend_head;
		b->queued += b->pend_size;
		b->pend_head = b->pend_tail = NULL;
		b->pend_size = 0;
		b->pend_nr = 0;
		if (b->writer_waits)
			pthread_cond_signal(&b->to_writer);
		if (b->hasher_waits)
			pthread_cond_signal(&b->to_hasher);
	}
	if (err) {
		bool first = !b->reported;

		b->reported = true;
		pthread_mutex_unlock(&b->lock);
		return first
			   ? erofs_err(b->log, err, "%s: write failed", b->name)
			   : err;
	}
	pthread_mutex_unlock(&b->lock);
	return 0;
}

int erofs_blob_append(struct erofs_blob *b, void *buf, size_t len, size_t size,
		      uint64_t *off)
{
	struct erofs_blob_req *r = malloc(sizeof(*r));

	if (!r) {
		if (buf)
			erofs_blob_release(b, buf);
		return -ENOMEM;
	}
	r->buf = buf;
	r->len = len;
	r->size = size;
	r->next = NULL;
	r->off = b->size;
	r->done = 0;
	*off = b->size;
	b->size += len;
	if (b->pend_tail)
		b->pend_tail->next = r;
	else
		b->pend_head = r;
	b->pend_tail = r;
	b->pend_size += size;
	b->pend_nr++;
	if (b->pend_size >= BATCH_BYTES || b->pend_nr >= BATCH_REQS)
		return flush_pending(b);
	return 0;
}

int erofs_blob_append_hole(struct erofs_blob *b, uint64_t len, uint64_t *off)
{
	return erofs_blob_append(b, NULL, len, 0, off);
}

int erofs_blob_pread(struct erofs_blob *b, void *buf, size_t len, uint64_t off)
{
	ssize_t n;
	int err;

	err = flush_pending(b);
	if (err)
		return err;
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

	/* appends not handed over yet: the caller's own */
	for (r = b->pend_head; r; r = r->next)
		if (off >= r->off && off + len <= r->off + r->len && r->buf)
			return memcmp((const char *)r->buf + (off - r->off),
				      buf, len)
				   ? 1
				   : 0;
	pthread_mutex_lock(&b->lock);
	if (b->written < off + len) {
		/* appends are whole chunks: the range is one queued request */
		for (r = b->head; r; r = r->next) {
			if (off >= r->off && off + len <= r->off + r->len &&
			    r->buf) {
				ret = memcmp((const char *)r->buf +
						 (off - r->off),
					     buf, len)
					  ? 1
					  : 0;
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
		flush_pending(b);
		pthread_mutex_lock(&b->lock);
		b->closing = true;
		pthread_cond_signal(&b->to_writer);
		pthread_cond_signal(&b->to_hasher);
		pthread_mutex_unlock(&b->lock);
		pthread_join(b->thread, NULL);
		b->thread_started = false;
	}
	if (b->hasher_started) {
		pthread_join(b->hasher, NULL);
		b->hasher_started = false;
	}
	err = b->err;
	if (err && !b->reported)
		erofs_err(b->log, err, "%s: write failed", b->name);
	b->reported = true;
	if (b->xxh) {
		if (!err && sha) {
			XXH128_canonical_t c;

			XXH128_canonicalFromHash(&c,
						 XXH3_128bits_digest(b->xxh));
			memset(sha, 0, EROFS_SHA256_LEN);
			memcpy(sha, c.digest, sizeof(c.digest));
		}
		XXH3_freeState(b->xxh);
		b->xxh = NULL;
	} else if (b->sha && !err && sha) {
		EVP_DigestFinal_ex(b->sha, sha, NULL);
	}
	if (b->sha) {
		EVP_MD_CTX_free(b->sha);
		b->sha = NULL;
	}
	/* the writer is gone: release_locked() needs no lock now */
	for (struct erofs_blob_req *r = b->pend_head, *n; r; r = n) {
		n = r->next;
		if (r->buf)
			release_locked(b, r->buf);
		free(r);
	}
	b->pend_head = b->pend_tail = NULL;
	for (struct erofs_blob_req *r = b->head, *n; r; r = n) {
		n = r->next;
		if (r->buf)
			release_locked(b, r->buf);
		free(r);
	}
	b->head = b->tail = NULL;
	free(b->cache);
	b->cache = NULL;
	b->cache_nr = 0;
	free(b->pool);
	b->pool = NULL;
	b->pool_nr = 0;
	b->pool_max = 0;
	unmap_arena(b->arena, b->arena_size);
	b->arena = NULL;
	while (b->retired) {
		struct erofs_blob_arena *a = b->retired;

		b->retired = a->next;
		unmap_arena(a->p, a->size);
		free(a);
	}
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->to_writer);
	pthread_cond_destroy(&b->to_hasher);
	pthread_cond_destroy(&b->to_caller);
	return err;
}

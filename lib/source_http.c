// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * HTTP(S) fetch source over libcurl: BASE_URL/PATH, sizes by HEAD
 * (Content-Length) when there is no manifest, data by Range GETs.
 *
 * Handles are kept in a small idle pool: a worker takes one per request and
 * gives it back, so keep-alive connections are reused across requests and
 * no handle is ever used by two threads at once.  Transient failures
 * (connection errors, timeouts, 5xx, 429, short bodies) are retried a
 * bounded number of times with doubling backoff; 404/410 are final.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "erofs/fetch.h"

struct http_src {
	char *base; /* without the trailing '/' */
	struct erofs_http_opts opts;
	pthread_mutex_t lock;
	CURL **idle;
	unsigned int nidle, cap;
};

struct xfer {
	char *buf;
	size_t len, got;
	uint64_t skip; /* bytes to drop before buf (200) */
	bool have_range;
	uint64_t range_start;
};

void erofs_http_opts_default(struct erofs_http_opts *opts)
{
	opts->connect_timeout_ms = 10000;
	opts->low_speed_time_s = 30;
	opts->timeout_ms = 300000;
	opts->retries = 3;
	opts->retry_delay_ms = 200;
}

static CURL *handle_get(struct http_src *hs)
{
	CURL *c = NULL;

	pthread_mutex_lock(&hs->lock);
	if (hs->nidle)
		c = hs->idle[--hs->nidle];
	pthread_mutex_unlock(&hs->lock);
	return c ? c : curl_easy_init();
}

static void handle_put(struct http_src *hs, CURL *c)
{
	pthread_mutex_lock(&hs->lock);
	if (hs->nidle == hs->cap) {
		unsigned int ncap = hs->cap ? hs->cap * 2 : 8;
		CURL **n = realloc(hs->idle, ncap * sizeof(*n));

		if (!n) {
			pthread_mutex_unlock(&hs->lock);
			curl_easy_cleanup(c);
			return;
		}
		hs->idle = n;
		hs->cap = ncap;
	}
	hs->idle[hs->nidle++] = c;
	pthread_mutex_unlock(&hs->lock);
}

/* BASE/PATH with every byte outside the URL-safe set %-encoded */
static char *make_url(const struct http_src *hs, const char *path)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t bl = strlen(hs->base), pl = strlen(path);
	char *url = malloc(bl + 1 + 3 * pl + 1), *p;

	if (!url)
		return NULL;
	memcpy(url, hs->base, bl);
	p = url + bl;
	*p++ = '/';
	for (const unsigned char *s = (const unsigned char *)path; *s; s++) {
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-._~/,=+@", *s)) {
			*p++ = *s;
		} else {
			*p++ = '%';
			*p++ = hexd[*s >> 4];
			*p++ = hexd[*s & 15];
		}
	}
	*p = '\0';
	return url;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb, take;

	if (x->skip) {
		size_t s = n < x->skip ? n : x->skip;

		x->skip -= s;
		ptr += s;
		n -= s;
		if (!n)
			return size * nmemb;
	}
	if (x->got >= x->len)
		return 0; /* more than asked for: stop the transfer */
	take = n < x->len - x->got ? n : x->len - x->got;
	memcpy(x->buf + x->got, ptr, take);
	x->got += take;
	return size * nmemb;
}

static size_t header_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;
	char line[256];
	unsigned long long a;

	if (n > 14 && n < sizeof(line) &&
	    !strncasecmp(ptr, "content-range:", 14)) {
		memcpy(line, ptr, n);
		line[n] = '\0';
		if (sscanf(line + 14, " bytes %llu-", &a) == 1) {
			x->have_range = true;
			x->range_start = a;
		}
	}
	/* a new response (redirect, 100-continue) resets the body */
	if (n >= 5 && !strncmp(ptr, "HTTP/", 5)) {
		x->got = 0;
		x->have_range = false;
	}
	return n;
}

static void setup(CURL *c, const struct http_src *hs, const char *url)
{
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
			 hs->opts.connect_timeout_ms);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, hs->opts.timeout_ms);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, hs->opts.low_speed_time_s);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "erofs-fetchd");
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
}

static int curl_errno(CURLcode rc)
{
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
		return -EHOSTUNREACH;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	default:
		return -EIO;
	}
}

static bool transient(int err, long status)
{
	if (status == 404 || status == 410)
		return false;
	if (status >= 400 && status < 500 && status != 408 && status != 429)
		return false;
	return err != -ENOMEM && err != -ENOENT;
}

static void backoff(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* one attempt; @status gets the HTTP status (0 when none) */
static int http_once(struct erofs_source *src, CURL *c, const char *url,
		     const char *path, bool head, uint64_t off, size_t len,
		     void *buf, uint64_t *size, long *status)
{
	struct http_src *hs = src->priv;
	struct xfer x = {.buf = buf, .len = len};
	char range[64];
	CURLcode rc;

	setup(c, hs, url);
	*status = 0;
	if (head) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else {
		snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, off,
			 off + len - 1);
		curl_easy_setopt(c, CURLOPT_RANGE, range);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
		curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
		curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (rc == CURLE_WRITE_ERROR && x.got == len && *status == 200)
		rc = CURLE_OK; /* we stopped a full-body 200 ourselves */
	if (rc != CURLE_OK) {
		int err = curl_errno(rc);

		erofs_dbg(src->log, "%s: %s", url, curl_easy_strerror(rc));
		return err;
	}
	if (*status == 404 || *status == 410)
		return -ENOENT;
	if (head) {
		curl_off_t cl = -1;

		if (*status != 200)
			return -EIO;
		curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
		if (cl < 0) {
			erofs_warn(src->log, "%s: no Content-Length", url);
			return -EIO;
		}
		*size = cl;
		return 0;
	}
	if (*status == 206) {
		if (x.have_range && x.range_start != off) {
			erofs_warn(src->log,
				   "%s: asked for %" PRIu64
				   ", got Content-Range from %" PRIu64,
				   url, off, x.range_start);
			return -EIO;
		}
	} else if (*status == 200) {
		/*
		 * The server ignored Range and sent the whole file; the
		 * offset was skipped only if we knew to, so redo with skip.
		 */
		if (off) {
			erofs_dbg(src->log, "%s: server ignores Range", url);
			x = (struct xfer){.buf = buf, .len = len, .skip = off};
			setup(c, hs, url);
			curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
			curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
			rc = curl_easy_perform(c);
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
			if (rc == CURLE_WRITE_ERROR && x.got == len)
				rc = CURLE_OK;
			if (rc != CURLE_OK)
				return curl_errno(rc);
			if (*status != 200)
				return -EIO;
		}
	} else {
		erofs_dbg(src->log, "%s: HTTP status %ld", url, *status);
		return -EIO;
	}
	if (x.got != len) {
		erofs_warn(src->log,
			   "%s: short body at %" PRIu64 ": %zu of %zu bytes",
			   url, off, x.got, len);
		return -EIO;
	}
	(void)path;
	return 0;
}

static int http_do(struct erofs_source *src, const char *path, bool head,
		   uint64_t off, size_t len, void *buf, uint64_t *size)
{
	struct http_src *hs = src->priv;
	long delay = hs->opts.retry_delay_ms, status = 0;
	char *url = make_url(hs, path);
	CURL *c;
	int err = -EIO;

	if (!url)
		return -ENOMEM;
	c = handle_get(hs);
	if (!c) {
		free(url);
		return -ENOMEM;
	}
	for (unsigned int attempt = 0; attempt <= hs->opts.retries; attempt++) {
		if (attempt) {
			erofs_warn(
			    src->log, "%s: %s (HTTP %ld), retry %u of %u", url,
			    strerror(-err), status, attempt, hs->opts.retries);
			backoff(delay);
			delay = delay * 2 > 5000 ? 5000 : delay * 2;
		}
		err = http_once(src, c, url, path, head, off, len, buf, size,
				&status);
		if (!err || !transient(err, status))
			break;
	}
	if (err && err != -ENOENT)
		erofs_err(src->log, err, "%s: %s [%" PRIu64 ", +%zu) failed",
			  url, head ? "HEAD" : "GET", off, len);
	handle_put(hs, c);
	free(url);
	return err;
}

static int http_size(struct erofs_source *src, const char *path, uint64_t *size)
{
	return http_do(src, path, true, 0, 0, NULL, size);
}

static int http_read(struct erofs_source *src, const char *path, uint64_t off,
		     size_t len, void *buf)
{
	if (!len)
		return 0;
	return http_do(src, path, false, off, len, buf, NULL);
}

static void http_destroy(struct erofs_source *src)
{
	struct http_src *hs = src->priv;

	for (unsigned int i = 0; i < hs->nidle; i++)
		curl_easy_cleanup(hs->idle[i]);
	free(hs->idle);
	pthread_mutex_destroy(&hs->lock);
	free(hs->base);
	free(hs);
	free(src->desc);
	free(src);
	curl_global_cleanup();
}

static const struct erofs_source_ops http_ops = {
    .size = http_size,
    .read = http_read,
    .destroy = http_destroy,
};

int erofs_source_http_create(const char *base_url,
			     const struct erofs_http_opts *opts,
			     const struct erofs_log *log,
			     struct erofs_source **out)
{
	struct erofs_source *src;
	struct http_src *hs;
	size_t n = strlen(base_url);

	if (strncmp(base_url, "http://", 7) && strncmp(base_url, "https://", 8))
		return erofs_err(log, -EINVAL, "source %s: not an http(s) URL",
				 base_url);
	/* not thread-safe: called from the main thread before any worker */
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return erofs_err(log, -EIO, "source %s: libcurl init failed",
				 base_url);
	src = calloc(1, sizeof(*src));
	hs = calloc(1, sizeof(*hs));
	if (!src || !hs || !(src->desc = strdup(base_url)) ||
	    !(hs->base = strdup(base_url))) {
		if (src)
			free(src->desc);
		if (hs)
			free(hs->base);
		free(src);
		free(hs);
		curl_global_cleanup();
		return erofs_err(log, -ENOMEM, "source %s", base_url);
	}
	while (n > 0 && hs->base[n - 1] == '/')
		hs->base[--n] = '\0';
	if (opts)
		hs->opts = *opts;
	else
		erofs_http_opts_default(&hs->opts);
	if (hs->opts.connect_timeout_ms <= 0)
		hs->opts.connect_timeout_ms = 10000;
	if (hs->opts.low_speed_time_s <= 0)
		hs->opts.low_speed_time_s = 30;
	if (hs->opts.timeout_ms <= 0)
		hs->opts.timeout_ms = 300000;
	if (hs->opts.retry_delay_ms <= 0)
		hs->opts.retry_delay_ms = 200;
	if (hs->opts.retries > 20)
		hs->opts.retries = 20;
	pthread_mutex_init(&hs->lock, NULL);
	src->ops = &http_ops;
	src->log = log;
	src->priv = hs;
	*out = src;
	return 0;
}

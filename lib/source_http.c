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
#include "liberofs_http.h"

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
	uint64_t off;
	bool head;
	struct erofs_http_resp resp;
	bool checked;	    /* the final response's headers were judged */
	bool stopped;	    /* we ended a 200 after the first len bytes */
	bool ignores_range; /* a 200 to a request not starting at 0 */
	const char *bad;    /* why the 206 cannot be trusted */
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

/*
 * Judges the final response once, at its first body byte (or after the
 * transfer when it had none): only a 206 with exactly the range asked for,
 * or a 200 to a request starting at 0 (the server ignores Range; its first
 * bytes are the ones asked for) delivers data into the buffer.
 */
static void judge(struct xfer *x)
{
	if (x->checked)
		return;
	x->checked = true;
	if (x->resp.status == 206)
		erofs_http_resp_check_range(&x->resp, x->off, x->len, &x->bad);
	else if (x->resp.status == 200 && x->off)
		x->ignores_range = true;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb, take;

	if (x->head)
		return 0; /* no body wanted (FTP would send one) */
	if (x->resp.status != 200 && x->resp.status != 206)
		return n; /* an error page: dropped, the status decides */
	judge(x);
	if (x->bad || x->ignores_range)
		return 0; /* abort now: nothing of this body is usable */
	if (x->got >= x->len) {
		/* more than asked for: stop the transfer */
		x->stopped = x->resp.status == 200;
		return 0;
	}
	take = n < x->len - x->got ? n : x->len - x->got;
	memcpy(x->buf + x->got, ptr, take);
	x->got += take;
	if (take < n) {
		x->stopped = x->resp.status == 200;
		return 0;
	}
	return n;
}

static size_t header_cb(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct xfer *x = ud;
	size_t n = size * nmemb;

	erofs_http_resp_line(&x->resp, ptr, n);
	/* a new response (redirect, 100-continue) resets the body */
	if (x->resp.responses && n >= 5 && !memcmp(ptr, "HTTP/", 5)) {
		x->got = 0;
		x->checked = false;
		x->bad = NULL;
		x->ignores_range = false;
		x->stopped = false;
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
	/* http and https only, also after a redirect (never ftp://, file://) */
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS,
			 (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS,
			 (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
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

/* the server's behaviour, not a passing failure; http_once said why */
static bool server_refused(int err)
{
	return err == -EOPNOTSUPP || err == -EPROTO || err == -EFBIG ||
	       err == -EPROTONOSUPPORT;
}

static bool transient(int err, long status)
{
	if (server_refused(err))
		return false;
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
		     bool head, uint64_t off, size_t len, void *buf,
		     uint64_t *size, long *status)
{
	struct http_src *hs = src->priv;
	struct xfer x = {.buf = buf, .len = len, .off = off, .head = head};
	char range[64];
	CURLcode rc;

	setup(c, hs, url);
	*status = 0;
	/* always our callbacks: nothing a server sends reaches stdout */
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &x);
	if (head) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else {
		snprintf(range, sizeof(range), "%" PRIu64 "-%" PRIu64, off,
			 off + len - 1);
		curl_easy_setopt(c, CURLOPT_RANGE, range);
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	if (!head && rc == CURLE_OK)
		judge(&x);
	if (x.ignores_range)
		return erofs_err(src->log, -EOPNOTSUPP,
				 "%s: the server ignores Range (HTTP 200 to a "
				 "request for [%" PRIu64 ", +%zu)); reading "
				 "from offset %" PRIu64 " would download "
				 "everything before it",
				 url, off, len, off);
	if (x.bad)
		return erofs_err(src->log, -EPROTO,
				 "%s: [%" PRIu64 ", +%zu): %s", url, off, len,
				 x.bad);
	if (rc == CURLE_WRITE_ERROR && x.stopped && x.got == len)
		rc = CURLE_OK; /* we stopped a full-body 200 ourselves */
	if (rc != CURLE_OK) {
		int err = curl_errno(rc);

		if (rc == CURLE_UNSUPPORTED_PROTOCOL)
			return erofs_err(src->log, -EPROTONOSUPPORT,
					 "%s: %s (only http and https are "
					 "used, also after a redirect)",
					 url, curl_easy_strerror(rc));
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
		if ((uint64_t)cl > EROFS_FETCH_MAX_SIZE)
			return erofs_err(src->log, -EFBIG,
					 "%s: Content-Length %" PRIu64
					 " is larger than the largest object "
					 "served (%" PRIu64 " bytes)",
					 url, (uint64_t)cl,
					 (uint64_t)EROFS_FETCH_MAX_SIZE);
		*size = cl;
		return 0;
	}
	if (*status != 200 && *status != 206) {
		erofs_dbg(src->log, "%s: HTTP status %ld", url, *status);
		return -EIO;
	}
	if (x.got != len) {
		erofs_warn(src->log,
			   "%s: short body at %" PRIu64 ": %zu of %zu bytes",
			   url, off, x.got, len);
		return -EIO;
	}
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
		err =
		    http_once(src, c, url, head, off, len, buf, size, &status);
		if (!err || !transient(err, status))
			break;
	}
	if (err && err != -ENOENT && !server_refused(err))
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

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The verifying layer stream.  A thread reads a layer as stored (a layout
 * blob, an archive member or a file), hashes those bytes with SHA-256 (the
 * descriptor's digest), decompresses them with libarchive (gzip, zstd,
 * xz, bzip2, lz4 or none), hashes the uncompressed bytes (the config's
 * diff_id) and writes them to a pipe the archive importer reads.  gzip,
 * the usual layer compression, is inflated with ISA-L's igzip (CRC-32 and
 * size of every member checked), the others with libarchive's filters.  So the
 * importer sees exactly the bytes the diff_id covers, decompression and
 * hashing run on another core than the import, and the digests are
 * compared once the importer has drained the stream: a layer that does
 * not match fails the conversion, whose output is then never committed.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <isa-l/igzip_lib.h>
#include <openssl/evp.h>

#include "liberofs_oci.h"

#define INBUF	(1u << 20)
#define OUTBUF	(1u << 20)
#define PIPE_SZ (1u << 20)

struct erofs_oci_stream {
	struct erofs_oci_src src;
	struct erofs_oci_verify v;
	char *name;
	const struct erofs_log *log;
	int wfd;
	pthread_t thread;
	EVP_MD_CTX *in_md, *tar_md;
	char *inbuf;
	uint64_t bytes_read; /* atomic */
	uint64_t bytes_tar;  /* atomic */
	size_t pending;	     /* bytes of inbuf read but not yet decoded */
	int src_err;
	int err; /* of the thread */
	uint8_t digest[EROFS_SHA256_LEN];
	uint8_t diff_id[EROFS_SHA256_LEN];
};

static ssize_t src_read(struct erofs_oci_stream *s, void *buf, size_t len)
{
	ssize_t n = s->src.read(s->src.ctx, buf, len);

	if (n < 0) {
		s->src_err = (int)n;
		return n;
	}
	if (n > 0) {
		EVP_DigestUpdate(s->in_md, buf, n);
		__atomic_fetch_add(&s->bytes_read, (uint64_t)n,
				   __ATOMIC_RELAXED);
	}
	return n;
}

static la_ssize_t la_read(struct archive *a, void *arg, const void **buf)
{
	struct erofs_oci_stream *s = arg;
	ssize_t n;

	*buf = s->inbuf;
	if (s->pending) {
		n = s->pending;
		s->pending = 0;
		return n;
	}
	n = src_read(s, s->inbuf, INBUF);
	if (n < 0) {
		archive_set_error(a, -(int)n, "read error");
		return -1;
	}
	return n;
}

static const char *comp_name(enum erofs_oci_comp c)
{
	switch (c) {
	case EROFS_OCI_COMP_NONE:
		return "uncompressed";
	case EROFS_OCI_COMP_GZIP:
		return "gzip";
	case EROFS_OCI_COMP_ZSTD:
		return "zstd";
	default:
		return "any";
	}
}

static bool filter_ok(enum erofs_oci_comp want, int code)
{
	switch (want) {
	case EROFS_OCI_COMP_NONE:
		return code == ARCHIVE_FILTER_NONE;
	case EROFS_OCI_COMP_GZIP:
		return code == ARCHIVE_FILTER_GZIP;
	case EROFS_OCI_COMP_ZSTD:
		return code == ARCHIVE_FILTER_ZSTD;
	default:
		return true;
	}
}

static int write_out(struct erofs_oci_stream *s, const void *buf, size_t len)
{
	int err = erofs_write_all(s->wfd, buf, len);

	if (err == -EPIPE) {
		/* the importer stopped reading; take our SIGPIPE back */
		sigset_t set;
		struct timespec zero = {0, 0};

		sigemptyset(&set);
		sigaddset(&set, SIGPIPE);
		sigtimedwait(&set, NULL, &zero);
	}
	return err;
}

static int pump(struct erofs_oci_stream *s)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	int r, err = 0, code;

	if (!a)
		return -ENOMEM;
	/* the compressions layers use, never an external program */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_lz4(a);
	archive_read_support_format_raw(a);
	if (archive_read_open(a, s, NULL, la_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK) {
		if (s->src_err)
			err =
			    erofs_err(s->log, s->src_err, "%s: read", s->name);
		else if (!__atomic_load_n(&s->bytes_read, __ATOMIC_RELAXED))
			err = erofs_fail(s->log, -EINVAL,
					 "%s: the layer is empty", s->name);
		else
			err = erofs_fail(s->log, -EINVAL,
					 "%s: unreadable layer: %s", s->name,
					 archive_error_string(a));
		goto out;
	}
	code = archive_filter_code(a, 0);
	if (!filter_ok(s->v.comp, code)) {
		err = erofs_fail(s->log, -EINVAL,
				 "%s: its media type says %s, the blob is %s",
				 s->name, comp_name(s->v.comp),
				 code == ARCHIVE_FILTER_NONE
				     ? "uncompressed"
				     : archive_filter_name(a, 0));
		goto out;
	}
	for (;;) {
		const void *buf;
		size_t len;
		la_int64_t off;

		r = archive_read_data_block(a, &buf, &len, &off);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
			if (s->src_err)
				err = erofs_err(s->log, s->src_err, "%s: read",
						s->name);
			else
				err = erofs_fail(
				    s->log, -EINVAL,
				    "%s: corrupt or truncated %s stream at "
				    "uncompressed byte %llu: %s",
				    s->name,
				    code == ARCHIVE_FILTER_NONE
					? "tar"
					: archive_filter_name(a, 0),
				    (unsigned long long)s->bytes_tar,
				    archive_error_string(a));
			goto out;
		}
		if ((uint64_t)off != s->bytes_tar) {
			err = erofs_fail(
			    s->log, -EINVAL,
			    "%s: unexpected gap in the stream at byte %llu",
			    s->name, (unsigned long long)s->bytes_tar);
			goto out;
		}
		EVP_DigestUpdate(s->tar_md, buf, len);
		__atomic_fetch_add(&s->bytes_tar, (uint64_t)len,
				   __ATOMIC_RELAXED);
		err = write_out(s, buf, len);
		if (err)
			goto out;
	}
	/* whatever follows the compressed stream belongs to the blob too */
	for (;;) {
		ssize_t n = src_read(s, s->inbuf, INBUF);

		if (n < 0) {
			err = erofs_err(s->log, (int)n, "%s: read", s->name);
			goto out;
		}
		if (!n)
			break;
	}
out:
	archive_read_free(a);
	return err;
}

static const char *isal_error(int r)
{
	switch (r) {
	case ISAL_INVALID_BLOCK:
		return "invalid deflate block";
	case ISAL_INVALID_SYMBOL:
		return "invalid deflate symbol";
	case ISAL_INVALID_LOOKBACK:
		return "invalid deflate distance";
	case ISAL_INVALID_WRAPPER:
		return "bad gzip header";
	case ISAL_UNSUPPORTED_METHOD:
		return "unsupported compression method";
	case ISAL_INCORRECT_CHECKSUM:
		return "CRC-32 or size does not match";
	default:
		return "inflate error";
	}
}

/* gzip (one or more members) with igzip; the first bytes are pending */
static int pump_gzip(struct erofs_oci_stream *s)
{
	struct inflate_state *st = malloc(sizeof(*st));
	uint8_t *out = malloc(OUTBUF);
	bool eof = false;
	int err = 0;

	if (!st || !out) {
		err = -ENOMEM;
		goto out;
	}
	if (!filter_ok(s->v.comp, ARCHIVE_FILTER_GZIP)) {
		err = erofs_fail(s->log, -EINVAL,
				 "%s: its media type says %s, the blob is gzip",
				 s->name, comp_name(s->v.comp));
		goto out;
	}
	isal_inflate_init(st);
	st->crc_flag = ISAL_GZIP;
	st->next_in = (uint8_t *)s->inbuf;
	st->avail_in = s->pending;
	s->pending = 0;
	for (;;) {
		size_t produced;
		int r;

		if (!st->avail_in && !eof) {
			ssize_t n = src_read(s, s->inbuf, INBUF);

			if (n < 0) {
				err = erofs_err(s->log, (int)n, "%s: read",
						s->name);
				goto out;
			}
			eof = !n;
			st->next_in = (uint8_t *)s->inbuf;
			st->avail_in = n;
		}
		st->next_out = out;
		st->avail_out = OUTBUF;
		r = isal_inflate(st);
		if (r != ISAL_DECOMP_OK) {
			err = erofs_fail(s->log, -EINVAL,
					 "%s: corrupt gzip stream at "
					 "uncompressed byte %llu: %s",
					 s->name,
					 (unsigned long long)s->bytes_tar,
					 isal_error(r));
			goto out;
		}
		produced = OUTBUF - st->avail_out;
		if (produced) {
			EVP_DigestUpdate(s->tar_md, out, produced);
			__atomic_fetch_add(&s->bytes_tar, (uint64_t)produced,
					   __ATOMIC_RELAXED);
			err = write_out(s, out, produced);
			if (err)
				goto out;
		}
		if (st->block_state == ISAL_BLOCK_FINISH) {
			if (!st->avail_in && !eof) {
				ssize_t n = src_read(s, s->inbuf, INBUF);

				if (n < 0) {
					err = erofs_err(s->log, (int)n,
							"%s: read", s->name);
					goto out;
				}
				eof = !n;
				st->next_in = (uint8_t *)s->inbuf;
				st->avail_in = n;
			}
			/* zeros padding the end, as gzip(1) accepts them */
			while (st->avail_in && !*st->next_in) {
				st->next_in++;
				st->avail_in--;
				if (!st->avail_in && !eof) {
					ssize_t n =
					    src_read(s, s->inbuf, INBUF);

					if (n < 0) {
						err = erofs_err(s->log, (int)n,
								"%s: read",
								s->name);
						goto out;
					}
					eof = !n;
					st->next_in = (uint8_t *)s->inbuf;
					st->avail_in = n;
				}
			}
			if (!st->avail_in)
				break;
			/* another member, or something that is not gzip */
			if (st->next_in[0] != 0x1f) {
				err = erofs_fail(
				    s->log, -EINVAL,
				    "%s: data after the end of the gzip stream",
				    s->name);
				goto out;
			}
			{
				/* init clears the input pointers too */
				uint8_t *in = st->next_in;
				uint32_t avail = st->avail_in;

				isal_inflate_init(st);
				st->next_in = in;
				st->avail_in = avail;
				st->crc_flag = ISAL_GZIP;
			}
		} else if (eof && !st->avail_in && !produced) {
			err = erofs_fail(
			    s->log, -EINVAL,
			    "%s: corrupt or truncated gzip stream at "
			    "uncompressed byte %llu: truncated gzip input",
			    s->name, (unsigned long long)s->bytes_tar);
			goto out;
		}
	}
out:
	free(st);
	free(out);
	return err;
}

static void *stream_thread(void *arg)
{
	struct erofs_oci_stream *s = arg;
	sigset_t set;
	ssize_t n;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* the first bytes tell gzip from the rest */
	n = src_read(s, s->inbuf, INBUF);
	if (n < 0) {
		s->err = erofs_err(s->log, (int)n, "%s: read", s->name);
	} else {
		s->pending = n;
		if (n >= 2 && (uint8_t)s->inbuf[0] == 0x1f &&
		    (uint8_t)s->inbuf[1] == 0x8b)
			s->err = pump_gzip(s);
		else
			s->err = pump(s);
	}
	close(s->wfd);
	s->wfd = -1;
	return NULL;
}

static void stream_free(struct erofs_oci_stream *s)
{
	if (s->src.close)
		s->src.close(s->src.ctx);
	EVP_MD_CTX_free(s->in_md);
	EVP_MD_CTX_free(s->tar_md);
	free(s->inbuf);
	free(s->name);
	free(s);
}

int erofs_oci_stream_start(struct erofs_oci_stream **sp,
			   struct erofs_oci_src *src,
			   const struct erofs_oci_verify *v, int *rfd,
			   const struct erofs_log *log)
{
	struct erofs_oci_stream *s = calloc(1, sizeof(*s));
	int p[2], err;

	*rfd = -1;
	if (!s) {
		src->close(src->ctx);
		return -ENOMEM;
	}
	s->src = *src;
	s->v = *v;
	s->log = log;
	s->wfd = -1;
	s->name = strdup(v->name ? v->name : "layer");
	s->in_md = EVP_MD_CTX_new();
	s->tar_md = EVP_MD_CTX_new();
	s->inbuf = malloc(INBUF);
	if (!s->name || !s->in_md || !s->tar_md || !s->inbuf ||
	    !EVP_DigestInit_ex(s->in_md, EVP_sha256(), NULL) ||
	    !EVP_DigestInit_ex(s->tar_md, EVP_sha256(), NULL)) {
		stream_free(s);
		return -ENOMEM;
	}
	if (pipe2(p, O_CLOEXEC) < 0) {
		err = erofs_err(log, -errno, "%s: pipe", s->name);
		stream_free(s);
		return err;
	}
	/* fewer, bigger hand-overs; the default size is fine too */
	(void)fcntl(p[1], F_SETPIPE_SZ, PIPE_SZ);
	s->wfd = p[1];
	err = -pthread_create(&s->thread, NULL, stream_thread, s);
	if (err) {
		close(p[0]);
		close(p[1]);
		stream_free(s);
		return erofs_err(log, err, "thread");
	}
	*rfd = p[0];
	*sp = s;
	return 0;
}

void erofs_oci_stream_counts(struct erofs_oci_stream *s, uint64_t *read,
			     uint64_t *tar)
{
	*read = __atomic_load_n(&s->bytes_read, __ATOMIC_RELAXED);
	*tar = __atomic_load_n(&s->bytes_tar, __ATOMIC_RELAXED);
}

int erofs_oci_stream_finish(struct erofs_oci_stream *s, int rfd, bool consumed,
			    struct erofs_oci_stream_stats *st)
{
	char ds[EROFS_OCI_DIGEST_LEN + 1], got[EROFS_OCI_DIGEST_LEN + 1];
	int err;

	if (consumed) {
		/* bytes after the end of the tar still count for diff_id */
		char buf[65536];
		ssize_t n;

		do {
			n = read(rfd, buf, sizeof(buf));
		} while (n > 0 || (n < 0 && errno == EINTR));
	}
	close(rfd);
	pthread_join(s->thread, NULL);
	err = s->err;
	if (!err) {
		EVP_DigestFinal_ex(s->in_md, s->digest, NULL);
		EVP_DigestFinal_ex(s->tar_md, s->diff_id, NULL);
	}
	if (!err && s->v.check_digest && s->bytes_read != s->v.size)
		err = erofs_fail(
		    s->log, -EINVAL,
		    "%s: blob has %llu bytes, its descriptor says %llu",
		    s->name, (unsigned long long)s->bytes_read,
		    (unsigned long long)s->v.size);
	if (!err && s->v.check_digest &&
	    memcmp(s->digest, s->v.digest, EROFS_SHA256_LEN)) {
		erofs_oci_digest_str(ds, s->v.digest);
		erofs_oci_digest_str(got, s->digest);
		err = erofs_fail(
		    s->log, -EINVAL,
		    "%s: digest mismatch: expected %s, the blob has %s",
		    s->name, ds, got);
	}
	if (!err && s->v.check_diff_id &&
	    memcmp(s->diff_id, s->v.diff_id, EROFS_SHA256_LEN)) {
		erofs_oci_digest_str(ds, s->v.diff_id);
		erofs_oci_digest_str(got, s->diff_id);
		err = erofs_fail(s->log, -EINVAL,
				 "%s: diff_id mismatch: the config says %s, "
				 "the uncompressed layer is %s",
				 s->name, ds, got);
	}
	if (st) {
		st->bytes_read = s->bytes_read;
		st->bytes_tar = s->bytes_tar;
		memcpy(st->digest, s->digest, EROFS_SHA256_LEN);
		memcpy(st->diff_id, s->diff_id, EROFS_SHA256_LEN);
	}
	stream_free(s);
	return err;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Decompressing reader on a second thread (see liberofs_decompress.h).
 *
 * The thread fills a ring of NR_BLOCKS blocks; the consumer holds one
 * block at a time, so the two meet once per BLOCK_SIZE bytes.  Waiting for
 * input is done with poll() on the source and an eventfd, so closing the
 * reader never hangs on a pipe that stays silent.
 */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <isa-l/igzip_lib.h>

#include "liberofs_decompress.h"
#include "erofs/util.h"

#define NR_BLOCKS  4
#define BLOCK_SIZE (1u << 20)
/* a plain file's read size: small, as most of its bytes are skipped */
#define FILE_BLOCK_SIZE (128u << 10)
#define IN_SIZE		(256u << 10)

enum dmode {
	DMODE_NONE,    /* pass through */
	DMODE_GZIP,    /* ISA-L */
	DMODE_ARCHIVE, /* a libarchive filter, "raw" format */
};

struct erofs_dstream {
	int fd;
	const char *name;
	const struct erofs_log *log;
	int wakefd;
	pthread_t thread;
	bool started;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	uint8_t *blk[NR_BLOCKS];
	size_t len[NR_BLOCKS];
	unsigned int head;  /* the block the consumer holds or gets next */
	unsigned int count; /* filled blocks, the held one included */
	bool held;
	bool done; /* the thread finished: end of stream or err */
	bool stop;
	int err;
	char msg[320];
	char comp[16];
	uint64_t in; /* compressed bytes read */
	int dump_fd; /* >= 0: every block handed out also goes here */
	const char *dump_name;

	/* the thread's own */
	enum dmode mode;
	uint8_t *inbuf;
	size_t first_len; /* bytes read for detection, not yet handed */
	bool eos;
	struct inflate_state *gz;
	unsigned int members; /* gzip members finished */
	bool member_done;
	struct archive *ra;
	/*
	 * What libarchive read while it chose its filters, kept to be read
	 * again when it stacked a second one (see open_archive())
	 */
	uint8_t *rec;
	size_t rec_len, rec_cap, replay_off;
	bool recording, replaying;

	/* an uncompressed regular file, read by the consumer (no thread) */
	bool file;
	uint64_t start, pos, file_end; /* file offsets */
};

static __attribute__((format(printf, 3, 4))) int
set_error(struct erofs_dstream *d, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pthread_mutex_lock(&d->lock);
	if (!d->err) {
		d->err = err;
		vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	}
	pthread_mutex_unlock(&d->lock);
	va_end(ap);
	return err;
}

/* reads up to @cap bytes into @buf: the count, 0 at EOF or -errno */
static ssize_t read_input(struct erofs_dstream *d, void *buf, size_t cap)
{
	for (;;) {
		struct pollfd p[2] = {
		    {.fd = d->fd, .events = POLLIN},
		    {.fd = d->wakefd, .events = POLLIN},
		};
		ssize_t n;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return set_error(d, -errno, "cannot wait for input: %s",
					 strerror(errno));
		}
		if (p[1].revents)
			return set_error(d, -ECANCELED, "reading stopped");
		n = read(d->fd, buf, cap);
		if (n >= 0) {
			__atomic_add_fetch(&d->in, n, __ATOMIC_RELAXED);
			return n;
		}
		if (errno != EINTR && errno != EAGAIN)
			return set_error(d, -errno, "read error: %s",
					 strerror(errno));
	}
}

static ssize_t none_produce(struct erofs_dstream *d, uint8_t *out, size_t cap)
{
	size_t got = 0;

	if (d->first_len) {
		memcpy(out, d->inbuf, d->first_len);
		got = d->first_len;
		d->first_len = 0;
	}
	while (got < cap) {
		ssize_t n = read_input(d, out + got, cap - got);

		if (n < 0)
			return n;
		if (!n) {
			d->eos = true;
			break;
		}
		got += n;
	}
	return got;
}

static const char *isal_strerror(int ret)
{
	switch (ret) {
	case ISAL_INCORRECT_CHECKSUM:
		return "CRC-32 or length in the trailer does not match the "
		       "data (corrupt stream)";
	case ISAL_INVALID_WRAPPER:
		return "invalid gzip header";
	case ISAL_UNSUPPORTED_METHOD:
		return "unsupported compression method in the gzip header";
	case ISAL_NEED_DICT:
		return "stream needs a preset dictionary";
	default:
		return "corrupt deflate data";
	}
}

/* where the compressed stream is, for messages */
static unsigned long long gz_pos(struct erofs_dstream *d)
{
	return __atomic_load_n(&d->in, __ATOMIC_RELAXED) - d->gz->avail_in;
}

/* between members: the next one, zero padding, the end, or garbage */
static int gz_next_member(struct erofs_dstream *d)
{
	struct inflate_state *s = d->gz;

	for (;;) {
		if (!s->avail_in) {
			ssize_t n = read_input(d, d->inbuf, IN_SIZE);

			if (n < 0)
				return n;
			if (!n) {
				d->eos = true;
				return 0;
			}
			s->next_in = d->inbuf;
			s->avail_in = n;
		}
		while (s->avail_in && !*s->next_in) {
			s->next_in++;
			s->avail_in--;
		}
		if (!s->avail_in)
			continue;
		if (*s->next_in != 0x1f)
			return set_error(d, -EINVAL,
					 "gzip: garbage after member %u at "
					 "compressed byte %llu",
					 d->members, gz_pos(d));
		uint8_t *in = s->next_in;
		uint32_t avail = s->avail_in;

		isal_inflate_reset(s);
		s->next_in = in;
		s->avail_in = avail;
		s->crc_flag = ISAL_GZIP;
		d->member_done = false;
		return 0;
	}
}

static ssize_t gz_produce(struct erofs_dstream *d, uint8_t *out, size_t cap)
{
	struct inflate_state *s = d->gz;

	s->next_out = out;
	s->avail_out = cap;
	if (d->first_len) {
		s->next_in = d->inbuf;
		s->avail_in = d->first_len;
		d->first_len = 0;
	}
	while (s->avail_out && !d->eos) {
		int ret;

		if (d->member_done) {
			ret = gz_next_member(d);
			if (ret < 0)
				return ret;
			continue;
		}
		if (!s->avail_in) {
			ssize_t n = read_input(d, d->inbuf, IN_SIZE);

			if (n < 0)
				return n;
			if (!n) {
				bool trailer =
				    s->block_state == ISAL_BLOCK_INPUT_DONE ||
				    s->block_state == ISAL_CHECKSUM_CHECK;

				return set_error(
				    d, -EINVAL,
				    "gzip: truncated: the input ends %s at "
				    "compressed byte %llu",
				    trailer ? "inside the trailer (CRC-32 and "
					      "length)"
					    : "inside the compressed data",
				    gz_pos(d));
			}
			s->next_in = d->inbuf;
			s->avail_in = n;
		}
		ret = isal_inflate(s);
		if (ret < 0)
			return set_error(d, -EINVAL,
					 "gzip: %s at compressed byte %llu",
					 isal_strerror(ret), gz_pos(d));
		if (s->block_state == ISAL_BLOCK_FINISH) {
			d->members++;
			d->member_done = true;
		}
	}
	return cap - s->avail_out;
}

static la_ssize_t raw_read(struct archive *a, void *arg, const void **buf)
{
	struct erofs_dstream *d = arg;
	ssize_t n;

	if (d->replaying) {
		if (d->replay_off < d->rec_len) {
			*buf = d->rec + d->replay_off;
			n = d->rec_len - d->replay_off;
			d->replay_off = d->rec_len;
			return n;
		}
		/* libarchive is done with the replayed bytes */
		d->replaying = false;
		free(d->rec);
		d->rec = NULL;
	}
	*buf = d->inbuf;
	if (d->first_len) {
		n = d->first_len;
		d->first_len = 0;
	} else {
		n = read_input(d, d->inbuf, IN_SIZE);
	}
	if (n < 0) {
		archive_set_error(a, -n, "%s", d->msg);
		return -1;
	}
	if (d->recording && n > 0) {
		if (d->rec_len + n > d->rec_cap) {
			size_t cap = (d->rec_len + n) * 2;
			uint8_t *r = realloc(d->rec, cap);

			if (!r) {
				archive_set_error(a, ENOMEM, "out of memory");
				return -1;
			}
			d->rec = r;
			d->rec_cap = cap;
		}
		memcpy(d->rec + d->rec_len, d->inbuf, n);
		d->rec_len += n;
	}
	return n;
}

/* the streams libarchive's filters decode, by their magic */
static const struct {
	const char *magic;
	size_t len;
	int code;
} filters[] = {
    {"\x28\xb5\x2f\xfd", 4, ARCHIVE_FILTER_ZSTD},
    {"\xfd"
     "7zXZ\0",
     6, ARCHIVE_FILTER_XZ},
    {"BZh", 3, ARCHIVE_FILTER_BZIP2},
    {"\x04\x22\x4d\x18", 4, ARCHIVE_FILTER_LZ4},
    {"\x02\x21\x4c\x18", 4, ARCHIVE_FILTER_LZ4}, /* legacy */
    {"LZIP", 4, ARCHIVE_FILTER_LZIP},
    {"\x1f\x9d", 2, ARCHIVE_FILTER_COMPRESS},
    {"\x5d\0\0", 3, ARCHIVE_FILTER_LZMA},
};

/*
 * Opens the libarchive reader on the source with the filter @code (a
 * library filter: nothing that runs an external program).  Only that
 * filter bids: were all of them registered, libarchive would bid again on
 * the decompressed bytes and stack a second filter when they start like
 * another compressed stream (an xz'ed tar whose first member is named
 * "BZh91AY&SY"), failing on a valid input or decompressing twice.  The
 * same filter can still stack on itself, so the bytes read while it
 * chooses are kept: when it stacked, or failed after its bid took the
 * stream, the reader is opened again with exactly that one filter (no
 * bidding) and reads them again first.  A stream its bid refuses passes
 * through unchanged, as before.
 */
static int open_archive(struct erofs_dstream *d, int code)
{
	int n;

	d->ra = archive_read_new();
	if (!d->ra)
		return -ENOMEM;
	archive_read_support_filter_by_code(d->ra, code);
	archive_read_support_format_raw(d->ra);
	d->recording = true;
	n = archive_read_open(d->ra, d, NULL, raw_read, NULL) == ARCHIVE_OK
		? archive_filter_count(d->ra)
		: -1;
	d->recording = false;
	if (n == 1 || n == 2) {
		free(d->rec);
		d->rec = NULL;
		return 0;
	}
	archive_read_free(d->ra);
	d->ra = NULL;
	/*
	 * libarchive 3.6's compress(1) reader, appended without a bid,
	 * crashes on a header of over 16 bits of code or on a stream that
	 * ends after its header (found by fuzz_decompress).  A .Z stream
	 * whose bid failed to decode, or a .Z in a .Z, is refused instead.
	 */
	if (code == ARCHIVE_FILTER_COMPRESS)
		return -EBADMSG;
	d->ra = archive_read_new();
	if (!d->ra)
		return -ENOMEM;
	archive_read_support_format_raw(d->ra);
	d->replaying = true;
	d->replay_off = 0;
	if (archive_read_append_filter(d->ra, code) != ARCHIVE_OK ||
	    archive_read_open(d->ra, d, NULL, raw_read, NULL) != ARCHIVE_OK)
		return -EINVAL;
	return 0;
}

static ssize_t archive_produce(struct erofs_dstream *d, uint8_t *out,
			       size_t cap)
{
	size_t got = 0;

	while (got < cap) {
		la_ssize_t n = archive_read_data(d->ra, out + got, cap - got);

		if (n < 0) {
			const char *msg = archive_error_string(d->ra);

			return set_error(d, -EINVAL, "%s: %s", d->comp,
					 msg ? msg
					     : "corrupt or truncated stream");
		}
		if (!n) {
			d->eos = true;
			break;
		}
		got += n;
	}
	return got;
}

static bool magic(const uint8_t *p, size_t len, const char *m, size_t mlen)
{
	return len >= mlen && !memcmp(p, m, mlen);
}

/* reads the first bytes and picks the decoder */
static int detect(struct erofs_dstream *d)
{
	int err;
	size_t len = 0, filter;
	const uint8_t *p = d->inbuf;

	while (len < 16) {
		ssize_t n = read_input(d, d->inbuf + len, IN_SIZE - len);

		if (n < 0)
			return n;
		if (!n)
			break;
		len += n;
	}
	d->first_len = len;
	if (magic(p, len, "\x1f\x8b", 2)) {
		d->mode = DMODE_GZIP;
		d->gz = calloc(1, sizeof(*d->gz));
		if (!d->gz)
			return set_error(d, -ENOMEM, "out of memory");
		isal_inflate_init(d->gz);
		d->gz->crc_flag = ISAL_GZIP;
		strcpy(d->comp, "gzip");
		return 0;
	}
	for (filter = 0; filter < sizeof(filters) / sizeof(*filters); filter++)
		if (magic(p, len, filters[filter].magic, filters[filter].len))
			break;
	if (filter == sizeof(filters) / sizeof(*filters)) {
		d->mode = DMODE_NONE;
		strcpy(d->comp, "none");
		return 0;
	}
	d->mode = DMODE_ARCHIVE;
	err = open_archive(d, filters[filter].code);
	if (err == -ENOMEM)
		return set_error(d, -ENOMEM, "out of memory");
	if (err == -EBADMSG)
		return set_error(d, -EINVAL,
				 "compress (.Z): corrupt, cut short, or "
				 "compressed twice");
	if (err) {
		const char *msg = archive_error_string(d->ra);

		return set_error(d, -EINVAL, "cannot read: %s",
				 msg ? msg : "unknown compression");
	}
	snprintf(d->comp, sizeof(d->comp), "%s", archive_filter_name(d->ra, 0));
	struct archive_entry *e;
	int r = archive_read_next_header(d->ra, &e);

	if (r == ARCHIVE_EOF) {
		d->eos = true;
	} else if (r != ARCHIVE_OK) {
		const char *msg = archive_error_string(d->ra);

		return set_error(d, -EINVAL, "%s: %s", d->comp,
				 msg ? msg : "corrupt stream");
	}
	return 0;
}

static void *thread_main(void *arg)
{
	struct erofs_dstream *d = arg;
	int err = detect(d);

	while (!err && !d->eos) {
		unsigned int idx;
		ssize_t n;

		pthread_mutex_lock(&d->lock);
		while (d->count == NR_BLOCKS && !d->stop)
			pthread_cond_wait(&d->cond, &d->lock);
		if (d->stop) {
			pthread_mutex_unlock(&d->lock);
			break;
		}
		idx = (d->head + d->count) % NR_BLOCKS;
		pthread_mutex_unlock(&d->lock);

		switch (d->mode) {
		case DMODE_GZIP:
			n = gz_produce(d, d->blk[idx], BLOCK_SIZE);
			break;
		case DMODE_ARCHIVE:
			n = archive_produce(d, d->blk[idx], BLOCK_SIZE);
			break;
		default:
			n = none_produce(d, d->blk[idx], BLOCK_SIZE);
			break;
		}
		if (n < 0)
			break;
		if (!n)
			continue;
		pthread_mutex_lock(&d->lock);
		d->len[idx] = n;
		d->count++;
		pthread_cond_broadcast(&d->cond);
		pthread_mutex_unlock(&d->lock);
	}
	pthread_mutex_lock(&d->lock);
	d->done = true;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/*
 * An uncompressed regular file (by the same magic numbers detect() knows)
 * is read in place: true, with d->pos at the fd's offset.
 */
static bool plain_file(struct erofs_dstream *d)
{
	uint8_t p[16];
	struct stat st;
	off_t cur;
	ssize_t len;

	if (fstat(d->fd, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	cur = lseek(d->fd, 0, SEEK_CUR);
	if (cur < 0)
		return false;
	len = erofs_pread_all(d->fd, p, sizeof(p), cur);
	if (len < 0 || magic(p, len, "\x1f\x8b", 2))
		return false;
	for (size_t i = 0; i < sizeof(filters) / sizeof(*filters); i++)
		if (magic(p, len, filters[i].magic, filters[i].len))
			return false;
	d->start = d->pos = cur;
	d->file_end = st.st_size;
	return true;
}

int erofs_dstream_open(struct erofs_dstream **dp, int fd, const char *name,
		       const struct erofs_log *log)
{
	struct erofs_dstream *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return -ENOMEM;
	d->fd = fd;
	d->name = name;
	d->log = log;
	d->wakefd = -1;
	d->dump_fd = -1;
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
	strcpy(d->comp, "none");
	d->inbuf = malloc(IN_SIZE);
	err = d->inbuf ? 0 : -ENOMEM;
	for (unsigned int i = 0; i < NR_BLOCKS && !err; i++) {
		d->blk[i] = malloc(BLOCK_SIZE);
		if (!d->blk[i])
			err = -ENOMEM;
	}
	if (!err)
		d->file = plain_file(d);
	if (!err && !d->file) {
		d->wakefd = eventfd(0, EFD_CLOEXEC);
		if (d->wakefd < 0)
			err = -errno;
	}
	if (!err && !d->file) {
		err = -pthread_create(&d->thread, NULL, thread_main, d);
		d->started = !err;
	}
	if (err) {
		erofs_err(log, err, "%s: cannot start reading", name);
		erofs_dstream_close(d);
		return err;
	}
	*dp = d;
	return 0;
}

/* the next bytes of a plain file, in the consumer's thread */
static ssize_t file_read(struct erofs_dstream *d, const void **buf)
{
	ssize_t n;

	if (d->err) {
		*buf = NULL;
		return d->err;
	}
	n = erofs_pread_all(d->fd, d->blk[0], FILE_BLOCK_SIZE, d->pos);
	if (n < 0)
		return set_error(d, (int)n, "read error at %llu: %s",
				 (unsigned long long)d->pos, strerror(-n));
	d->pos += n;
	__atomic_add_fetch(&d->in, n, __ATOMIC_RELAXED);
	*buf = d->blk[0];
	return n;
}

ssize_t erofs_dstream_read(struct erofs_dstream *d, const void **buf)
{
	ssize_t n;

	if (d->file) {
		n = file_read(d, buf);
		goto dump;
	}
	pthread_mutex_lock(&d->lock);
	if (d->held) {
		d->held = false;
		d->head = (d->head + 1) % NR_BLOCKS;
		d->count--;
		pthread_cond_broadcast(&d->cond);
	}
	while (!d->count && !d->done)
		pthread_cond_wait(&d->cond, &d->lock);
	if (d->count) {
		d->held = true;
		*buf = d->blk[d->head];
		n = d->len[d->head];
	} else {
		*buf = NULL;
		n = d->err;
	}
	pthread_mutex_unlock(&d->lock);
dump:
	if (n > 0 && d->dump_fd >= 0) {
		int err = erofs_write_all(d->dump_fd, *buf, n);

		if (err) {
			set_error(d, err, "cannot write the stream to %s: %s",
				  d->dump_name, strerror(-err));
			*buf = NULL;
			n = err;
		}
	}
	return n;
}

int64_t erofs_dstream_skip(struct erofs_dstream *d, int64_t len)
{
	/* what is skipped is not read: nothing to decode, check or dump */
	if (!d->file || d->dump_fd >= 0 || d->err || len <= 0)
		return 0;
	if ((uint64_t)len > d->file_end - d->pos)
		len = d->file_end > d->pos ? d->file_end - d->pos : 0;
	d->pos += len;
	__atomic_add_fetch(&d->in, len, __ATOMIC_RELAXED);
	return len;
}

int erofs_dstream_file_fd(const struct erofs_dstream *d, uint64_t *base)
{
	if (!d->file || d->dump_fd >= 0)
		return -1;
	*base = d->start;
	return d->fd;
}

void erofs_dstream_set_dump(struct erofs_dstream *d, int fd, const char *name)
{
	d->dump_fd = fd;
	d->dump_name = name;
}

const char *erofs_dstream_error(const struct erofs_dstream *d)
{
	const char *msg;

	pthread_mutex_lock((pthread_mutex_t *)&d->lock);
	msg = d->err ? d->msg : NULL;
	pthread_mutex_unlock((pthread_mutex_t *)&d->lock);
	return msg;
}

int erofs_dstream_drain(struct erofs_dstream *d)
{
	const void *buf;
	ssize_t n;

	while ((n = erofs_dstream_read(d, &buf)) > 0)
		;
	if (n < 0)
		return erofs_fail(d->log, (int)n, "%s: %s", d->name, d->msg);
	return 0;
}

const char *erofs_dstream_compression(const struct erofs_dstream *d)
{
	return d->comp;
}

uint64_t erofs_dstream_bytes_in(const struct erofs_dstream *d)
{
	return __atomic_load_n(&d->in, __ATOMIC_RELAXED);
}

void erofs_dstream_close(struct erofs_dstream *d)
{
	if (!d)
		return;
	if (d->started) {
		uint64_t one = 1;

		pthread_mutex_lock(&d->lock);
		d->stop = true;
		pthread_cond_broadcast(&d->cond);
		pthread_mutex_unlock(&d->lock);
		if (write(d->wakefd, &one, sizeof(one)) < 0)
			erofs_dbg(d->log, "%s: cannot wake the reader",
				  d->name);
		pthread_join(d->thread, NULL);
	}
	if (d->wakefd >= 0)
		close(d->wakefd);
	if (d->ra)
		archive_read_free(d->ra);
	free(d->rec);
	free(d->gz);
	for (unsigned int i = 0; i < NR_BLOCKS; i++)
		free(d->blk[i]);
	free(d->inbuf);
	pthread_cond_destroy(&d->cond);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

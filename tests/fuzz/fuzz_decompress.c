// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target over the decompressing reader (lib/decompress.c): its
 * thread, the block ring, ISA-L's igzip for gzip with the member loop
 * (zero padding, garbage, truncation) and libarchive's filters for the
 * other compressions.  The first byte picks what the rest becomes:
 *
 *   0  the stream itself (detection, every decoder on mutated bytes; the
 *      seeds are real gzip, zstd, xz, bzip2, lz4, lzip and compress files)
 *   1  compressed by zlib as one gzip member: the reader must give the
 *      rest back exactly
 *   2  two gzip members with zero padding between them (the split and
 *      the padding from the next bytes): the concatenation exactly
 *   3  compressed by libarchive's zstd, xz, bzip2 or lz4 writer: exactly
 *      the rest again
 *   4  like 1, then one byte flipped: an error, or (where the flip is in
 *      a header field the format ignores) exactly the rest
 *
 * A mismatch, or an error on a valid stream, aborts.  ISA-L comes from
 * the fuzz-libs line below (run-fuzz.sh links it for this target).
 *
 * Seeds (corpus/decompress/): a byte 0 followed by `gzip -9n`, two
 * `gzip -n` members with three zero bytes between, `zstd`, `xz`,
 * `xz --format=lzma`, `bzip2` and `lz4` of eight lines of text, or the
 * text itself ("none"); bytes 1 to 4 and 8 followed by the text (mode8 is
 * mode 3 with xz); xz-of-lzma-lookalike, which this target found: data
 * starting like an lzma stream, xz'ed, was decompressed twice.
 */
// fuzz-sources: lib/decompress.c lib/log.c lib/util.c
// fuzz-libs: libisal
// fuzz-options: -max_len=65536
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>
#include <zlib.h>

#include "liberofs_decompress.h"

/* more output than this is a bomb as far as the target cares */
#define OUT_MAX (64u << 20)

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2 + 64;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			abort();
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void gzip_member(struct buf *out, const uint8_t *in, size_t len,
			int level)
{
	z_stream z = {0};
	uint8_t tmp[4096];
	int ret;

	if (deflateInit2(&z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY))
		abort();
	z.next_in = (uint8_t *)in;
	z.avail_in = len;
	do {
		z.next_out = tmp;
		z.avail_out = sizeof(tmp);
		ret = deflate(&z, Z_FINISH);
		put(out, tmp, sizeof(tmp) - z.avail_out);
	} while (ret == Z_OK);
	if (ret != Z_STREAM_END)
		abort();
	deflateEnd(&z);
}

static la_ssize_t arch_write(struct archive *a, void *arg, const void *p,
			     size_t n)
{
	(void)a;
	put(arg, p, n);
	return n;
}

/* the rest compressed by a libarchive writer filter; false if none */
static bool archive_compress(struct buf *out, int which, const uint8_t *in,
			     size_t len)
{
	struct archive *a = archive_write_new();
	struct archive_entry *e = archive_entry_new();
	bool ok = false;
	int r;

	switch (which % 4) {
	case 0:
		r = archive_write_add_filter_zstd(a);
		break;
	case 1:
		r = archive_write_add_filter_xz(a);
		break;
	case 2:
		r = archive_write_add_filter_bzip2(a);
		break;
	default:
		r = archive_write_add_filter_lz4(a);
		break;
	}
	if (r != ARCHIVE_OK)
		goto out;
	archive_write_set_filter_option(a, NULL, "compression-level", "1");
	/* one write per block keeps the output as it is */
	archive_write_set_bytes_per_block(a, 0);
	if (archive_write_set_format_raw(a) != ARCHIVE_OK ||
	    archive_write_open(a, out, NULL, arch_write, NULL) != ARCHIVE_OK)
		goto out;
	archive_entry_set_pathname(e, "data");
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_size(e, len);
	if (archive_write_header(a, e) != ARCHIVE_OK ||
	    (len && archive_write_data(a, in, len) != (la_ssize_t)len) ||
	    archive_write_close(a) != ARCHIVE_OK)
		goto out;
	ok = true;
out:
	archive_entry_free(e);
	archive_write_free(a);
	return ok;
}

/* reads @in through the decompressing reader; 0 or the error */
static int run(const uint8_t *in, size_t len, struct buf *got)
{
	struct erofs_log log;
	struct erofs_dstream *d;
	const void *p;
	ssize_t n;
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	int err;

	if (fd < 0)
		abort();
	if (len && write(fd, in, len) != (ssize_t)len)
		abort();
	lseek(fd, 0, SEEK_SET);
	erofs_log_init(&log, "fuzz");
	log.level = -1;
	err = erofs_dstream_open(&d, fd, "input", &log);
	if (err)
		abort();
	while ((n = erofs_dstream_read(d, &p)) > 0) {
		if (got->len + n > OUT_MAX)
			break;
		put(got, p, n);
	}
	if (n < 0 && !erofs_dstream_error(d))
		abort(); /* an error has a message */
	if (n > 0)
		n = 0; /* a bomb: stopped reading */
	else if (!n)
		n = erofs_dstream_drain(d);
	erofs_dstream_close(d);
	close(fd);
	return (int)n;
}

static void expect_same(int err, const struct buf *got, const uint8_t *want,
			size_t len)
{
	if (err) {
		fprintf(stderr, "a valid stream failed: %d\n", err);
		abort();
	}
	if (got->len != len || (len && memcmp(got->p, want, len))) {
		fprintf(stderr, "wrong output: %zu bytes, expected %zu\n",
			got->len, len);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf s = {0}, got = {0};
	const uint8_t *rest = data + 1;
	size_t len = size ? size - 1 : 0;
	int mode = size ? data[0] % 5 : 0;
	int err;

	switch (mode) {
	case 0:
		run(rest, len, &got);
		break;
	case 1:
		gzip_member(&s, rest, len, (data[0] / 5) % 10);
		expect_same(run(s.p, s.len, &got), &got, rest, len);
		break;
	case 2: {
		size_t split = len ? (data[0] * 131u) % (len + 1) : 0;
		size_t pad = len ? rest[0] % 9 : 0;
		static const uint8_t zeros[8];

		gzip_member(&s, rest, split, 6);
		put(&s, zeros, pad);
		gzip_member(&s, rest + split, len - split, 1);
		expect_same(run(s.p, s.len, &got), &got, rest, len);
		break;
	}
	case 3:
		/*
		 * Not for nothing: libarchive 3.6's lz4 writer crashes on
		 * an empty input, and its raw reader needs a byte to
		 * recognise, so a stream of nothing is refused (an error,
		 * never wrong data)
		 */
		if (len && archive_compress(&s, data[0] / 5, rest, len))
			expect_same(run(s.p, s.len, &got), &got, rest, len);
		break;
	default: {
		size_t at;

		gzip_member(&s, rest, len, 6);
		at = len >= 2 ? ((size_t)rest[0] << 8 | rest[1]) % s.len : 0;
		s.p[at] ^= (uint8_t)(data[0] | 1);
		err = run(s.p, s.len, &got);
		/* without the gzip magic it is passed through as it is */
		if (at >= 2 && !err &&
		    (got.len != len || (len && memcmp(got.p, rest, len)))) {
			fprintf(stderr,
				"byte %zu flipped: wrong data, no error\n", at);
			abort();
		}
		break;
	}
	}
	free(s.p);
	free(got.p);
	return 0;
}

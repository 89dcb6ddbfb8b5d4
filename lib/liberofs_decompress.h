/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The decompressing reader under the archive importer: a second thread
 * reads the source, detects its compression and decompresses it into a
 * small ring of blocks the importer consumes, so decompression and the
 * hashing behind the importer run on different cores.
 *
 * gzip goes through ISA-L's igzip (several times zlib's speed), with the
 * CRC-32 and size of every member checked; zstd, xz, lzma, lzip, bzip2,
 * lz4 and compress(1) go through libarchive's filters, which check their
 * own frames and checksums; anything else passes through unchanged.
 *
 * The whole stream is verified: after the consumer has what it needs it
 * calls erofs_dstream_drain(), which decodes to the very end, so a trailer
 * that is cut or a checksum that does not match is an error even when the
 * archive's end marker came first.
 */
#ifndef LIBEROFS_DECOMPRESS_H
#define LIBEROFS_DECOMPRESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "erofs/log.h"

struct erofs_dstream;

/*
 * Starts reading @fd (not closed here) for the source named @name in
 * messages.  0 or -errno.
 */
int erofs_dstream_open(struct erofs_dstream **dp, int fd, const char *name,
		       const struct erofs_log *log);

/*
 * The next block of decompressed bytes in *@buf, valid until the next call:
 * returns its length, 0 at the end of the stream, or -errno after a
 * failure, whose text erofs_dstream_error() gives (nothing is logged).
 */
ssize_t erofs_dstream_read(struct erofs_dstream *d, const void **buf);

/*
 * From now on every block erofs_dstream_read() hands out (and so every
 * byte erofs_dstream_drain() reads) is also written to @fd, the
 * decompressed stream as a whole (--ungzip=FILE); a failed write fails
 * the stream, naming @name.  Call it before the first read.
 */
void erofs_dstream_set_dump(struct erofs_dstream *d, int fd, const char *name);

/*
 * Why the stream failed, e.g. "gzip: CRC-32 ... does not match", or NULL
 * while it did not.
 */
const char *erofs_dstream_error(const struct erofs_dstream *d);

/*
 * Reads and checks the rest of the stream, dropping the bytes.  0, or an
 * error logged naming the source.
 */
int erofs_dstream_drain(struct erofs_dstream *d);

/*
 * Moves on by up to @len bytes without reading them: how many, 0 when the
 * stream cannot (it is decompressed, a pipe, or dumped).
 */
int64_t erofs_dstream_skip(struct erofs_dstream *d, int64_t len);

/*
 * The fd to pread() the stream's bytes from in place (byte N of the stream
 * is at *@base + N), or -1 when there is none: only an uncompressed
 * regular file that is not being dumped has one.
 */
int erofs_dstream_file_fd(const struct erofs_dstream *d, uint64_t *base);

/* "gzip", "zstd", ..., or "none"; known once the first block was read */
const char *erofs_dstream_compression(const struct erofs_dstream *d);

/* compressed bytes read from the source so far */
uint64_t erofs_dstream_bytes_in(const struct erofs_dstream *d);

/* stops the thread (at once, even when it waits for input) and frees */
void erofs_dstream_close(struct erofs_dstream *d);

#endif

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target over the strict tar header reader (lib/tar_header.c)
 * behind --tar=headerball.  The first byte picks headerball mode (no
 * bodies) or full mode (bodies skipped); the rest is the stream, read in
 * pieces of varying size.  Every entry returned must be well-formed: a
 * path, a known type, permission bits only, nanoseconds below 10^9, a
 * target for links, xattrs with names.
 *
 * Seeds (tests/fuzz/corpus/tar_header/): headerballs and small archives
 * written by Python's tarfile in ustar, GNU and pax formats.
 */
// fuzz-sources: lib/tar_header.c lib/log.c lib/util.c
// fuzz-options: -max_len=16384
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liberofs_tar_header.h"

struct in {
	const uint8_t *p;
	size_t len, pos;
	unsigned int step;
};

static ssize_t in_read(void *arg, void *buf, size_t len)
{
	struct in *in = arg;
	size_t n = in->len - in->pos;

	if (n > len)
		n = len;
	/* pieces of 1..512 bytes, so reads are resumed mid-block */
	in->step = in->step * 1103515245u + 12345u;
	if (n > 1 + (in->step >> 16) % 512)
		n = 1 + (in->step >> 16) % 512;
	memcpy(buf, in->p + in->pos, n);
	in->pos += n;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	struct erofs_log log;
	struct erofs_tar_reader r;
	struct erofs_tar_hdr h = {0};
	struct in in;
	int ret, n = 0;

	if (!size)
		return 0;
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	erofs_log_init(&log, "fuzz");
	log.out = devnull;
	in = (struct in){data + 1, size - 1, 0, data[0]};
	erofs_tar_reader_init(&r, in_read, &in, "fuzz.tar", !(data[0] & 1),
			      &log);
	while ((ret = erofs_tar_next(&r, &h)) > 0) {
		if (!h.path || !strchr("0123456", h.type) || !h.type ||
		    h.mode > 07777 || h.mtime_nsec > 999999999 ||
		    ((h.type == '1' || h.type == '2') && !h.linkpath) ||
		    h.size > INT64_MAX)
			abort();
		for (unsigned int i = 0; i < h.nr_xattrs; i++)
			if (!h.xattrs[i].name || !*h.xattrs[i].name ||
			    (!h.xattrs[i].value && h.xattrs[i].len))
				abort();
		if (++n > 100000)
			abort();
	}
	if (ret < -4095)
		abort();
	/* after the end, it stays at the end */
	if (!ret && erofs_tar_next(&r, &h) != 0)
		abort();
	erofs_tar_hdr_free(&h);
	erofs_tar_reader_free(&r);
	return 0;
}

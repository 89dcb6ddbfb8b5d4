// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-sources: lib/ondemand.c lib/cache_gc.c lib/source_dir.c
// fuzz-sources: lib/fetch.c lib/fetch_stats.c lib/fetch_readahead.c
// fuzz-sources: lib/fetch_catalog.c
// fuzz-sources: lib/source_http.c lib/manifest.c lib/cookie.c lib/ondisk.c
// fuzz-sources: lib/http_header.c lib/source.c
// fuzz-sources: lib/reader.c lib/log.c lib/util.c
/*
 * libFuzzer target over the cachefiles message handler: parsing and the
 * OPEN / READ / CLOSE handlers with a simulated device, a fetch core and a
 * real blob directory.  The input is a sequence of messages, each preceded
 * by its length as 2 little-endian bytes.  The fd field of an OPEN is
 * replaced by a fresh temporary file (as the kernel would install one), so
 * the handler never closes an fd of the fuzzer itself.
 * Seeds: corpus/ondemand/ (an OPEN of a known and an unknown cookie, READs
 * in and past the blob, a CLOSE, malformed lengths and key sizes).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "erofs/fetch.h"
#include "erofs/ondemand.h"

static struct erofs_log flog = {"fuzz_ondemand", -1, NULL, 0};
static char blobdir[] = "/tmp/fuzz-ondemand.XXXXXX";
static struct erofs_source *src;
static struct erofs_fetch *fetch;

static ssize_t sim_read(void *dev, void *buf, size_t size)
{
	return 0;
}

static int sim_write(void *dev, const char *cmd)
{
	return strncmp(cmd, "copen ", 6) && strncmp(cmd, "inuse ", 6) &&
		       strncmp(cmd, "cull ", 5)
		   ? -EINVAL
		   : 0;
}

static int sim_complete(void *dev, int fd, uint32_t msg_id)
{
	return 0;
}

static void sim_close(void *dev, int fd)
{
	/* fds of OPENs are ours (replaced below); others are not closed */
	if (fd > 2 && fcntl(fd, F_GETFD) >= 0 && *(int *)dev == fd)
		close(fd);
}

static const struct erofs_od_dev_ops sim_ops = {
    .read_msg = sim_read,
    .write_cmd = sim_write,
    .complete_read = sim_complete,
    .close_fd = sim_close,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct erofs_fetch_config cfg = {
	    .workers = 2, .unit = 65536, .log = &flog};
	char path[64], buf[4096];
	int fd;

	if (!mkdtemp(blobdir))
		abort();
	snprintf(path, sizeof(path), "%s/blob", blobdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		abort();
	for (int i = 0; i < 40; i++) {
		memset(buf, 'a' + i % 26, sizeof(buf));
		if (write(fd, buf, sizeof(buf)) != sizeof(buf))
			abort();
	}
	close(fd);
	if (erofs_source_dir_create(blobdir, &flog, &src) ||
	    erofs_fetch_create(&cfg, &src, 1, NULL, &fetch))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct erofs_od_config ocfg = {.log = &flog};
	unsigned char msg[2048];
	struct erofs_od *od;
	int cur = -1;

	if (erofs_od_create(&ocfg, &sim_ops, &cur, fetch, &od))
		return 0;
	while (size >= 2) {
		size_t n = data[0] | (size_t)data[1] << 8;

		data += 2;
		size -= 2;
		if (n > size || n > sizeof(msg))
			n = size < sizeof(msg) ? size : sizeof(msg);
		memcpy(msg, data, n);
		data += n;
		size -= n;
		cur = -1;
		if (n >= 32 && msg[4] == EROFS_OD_OP_OPEN && !msg[5] &&
		    !msg[6] && !msg[7]) {
			char tmp[64];
			uint32_t fd;

			snprintf(tmp, sizeof(tmp), "%s/objXXXXXX", blobdir);
			cur = mkstemp(tmp);
			if (cur < 0)
				break;
			unlink(tmp);
			fd = cur;
			memcpy(msg + 24, &fd, 4);
		}
		erofs_od_handle(od, msg, n);
		/* an OPEN the handler refused leaves its fd to us */
		if (cur >= 0 && fcntl(cur, F_GETFD) >= 0 &&
		    erofs_od_nr_objects(od) == 0)
			close(cur);
	}
	erofs_od_destroy(od);
	return 0;
}

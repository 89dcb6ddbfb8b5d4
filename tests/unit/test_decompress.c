// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The decompressing reader (lib/decompress.c): a plain regular file is read
 * in place (its fd and base offset given out, skips that read nothing, the
 * bytes after a skip right), while a pipe, a compressed file or a dumped
 * stream go through the reading thread and skip nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "liberofs_decompress.h"

#define SIZE (3u << 20)

static struct erofs_log quiet_log;

static uint8_t *pattern(void)
{
	uint8_t *p = malloc(SIZE);

	assert_non_null(p);
	for (size_t i = 0; i < SIZE; i++)
		p[i] = (uint8_t)(i * 7 + i / 4096);
	return p;
}

/* a temporary file holding @len bytes of @p, unlinked */
static int tmpfile_of(const void *p, size_t len)
{
	char name[] = "/tmp/test_decompress.XXXXXX";
	int fd = mkstemp(name);

	assert_true(fd >= 0);
	unlink(name);
	assert_int_equal(write(fd, p, len), (ssize_t)len);
	return fd;
}

/* reads everything left into @out: the count */
static size_t read_rest(struct erofs_dstream *d, uint8_t *out, size_t cap)
{
	const void *buf;
	size_t got = 0;
	ssize_t n;

	while ((n = erofs_dstream_read(d, &buf)) > 0) {
		assert_true(got + n <= cap);
		memcpy(out + got, buf, n);
		got += n;
	}
	assert_int_equal(n, 0);
	return got;
}

static void test_plain_file_in_place(void **state)
{
	uint8_t *p = pattern(), *out = malloc(SIZE);
	struct erofs_dstream *d;
	const void *buf;
	uint64_t base = 1;
	int fd = tmpfile_of(p, SIZE);
	ssize_t n;

	(void)state;
	/* the stream starts where the fd's offset is, not at 0 */
	assert_int_equal(lseek(fd, 1000, SEEK_SET), 1000);
	assert_int_equal(erofs_dstream_open(&d, fd, "plain", &quiet_log), 0);
	assert_int_equal(erofs_dstream_file_fd(d, &base), fd);
	assert_int_equal(base, 1000);
	n = erofs_dstream_read(d, &buf);
	assert_true(n > 0 && n < (ssize_t)(SIZE - 1000));
	assert_memory_equal(buf, p + 1000, n);
	/* a skip moves on without reading */
	assert_int_equal(erofs_dstream_skip(d, 1 << 20), 1 << 20);
	{
		size_t at = 1000 + n + (1 << 20);
		ssize_t m = erofs_dstream_read(d, &buf);

		assert_true(m > 0 && (size_t)m <= SIZE - at);
		assert_memory_equal(buf, p + at, m);
	}
	erofs_dstream_close(d);

	/* from the start: a skip, then the rest, exactly */
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(erofs_dstream_open(&d, fd, "plain", &quiet_log), 0);
	n = erofs_dstream_read(d, &buf);
	assert_true(n > 0);
	assert_int_equal(erofs_dstream_skip(d, 4096), 4096);
	{
		size_t at = n + 4096, got = read_rest(d, out, SIZE);

		assert_int_equal(got, SIZE - at);
		assert_memory_equal(out, p + at, got);
	}
	/* past the end: nothing more to skip or read */
	assert_int_equal(erofs_dstream_skip(d, 10), 0);
	assert_int_equal(erofs_dstream_bytes_in(d), SIZE);
	assert_string_equal(erofs_dstream_compression(d), "none");
	erofs_dstream_close(d);
	close(fd);
	free(p);
	free(out);
}

static void test_dump_reads_everything(void **state)
{
	uint8_t *p = pattern(), *out = malloc(SIZE);
	struct erofs_dstream *d;
	uint64_t base;
	int fd = tmpfile_of(p, SIZE), dump = tmpfile_of("", 0);
	const void *buf;
	ssize_t n;

	(void)state;
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(erofs_dstream_open(&d, fd, "dumped", &quiet_log), 0);
	erofs_dstream_set_dump(d, dump, "dump");
	/* the dump must see every byte: nothing in place, nothing skipped */
	assert_int_equal(erofs_dstream_file_fd(d, &base), -1);
	n = erofs_dstream_read(d, &buf);
	assert_true(n > 0);
	assert_int_equal(erofs_dstream_skip(d, 4096), 0);
	assert_int_equal(erofs_dstream_drain(d), 0);
	erofs_dstream_close(d);
	assert_int_equal(pread(dump, out, SIZE, 0), SIZE);
	assert_memory_equal(out, p, SIZE);
	close(dump);
	close(fd);
	free(p);
	free(out);
}

static void test_pipe_and_gzip_not_in_place(void **state)
{
	/* gzip of 5 bytes "abcd\n" */
	static const uint8_t gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00,
				     0x00, 0x02, 0xff, 0x4b, 0x4c, 0x4a, 0x4e,
				     0xe1, 0x02, 0x00, 0xac, 0xa4, 0x8a, 0x58,
				     0x05, 0x00, 0x00, 0x00};
	struct erofs_dstream *d;
	uint8_t out[16];
	uint64_t base;
	int fd = tmpfile_of(gz, sizeof(gz)), pfd[2];

	(void)state;
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(erofs_dstream_open(&d, fd, "gz", &quiet_log), 0);
	assert_int_equal(erofs_dstream_file_fd(d, &base), -1);
	assert_int_equal(erofs_dstream_skip(d, 1), 0);
	assert_int_equal(read_rest(d, out, sizeof(out)), 5);
	assert_memory_equal(out, "abcd\n", 5);
	assert_string_equal(erofs_dstream_compression(d), "gzip");
	erofs_dstream_close(d);
	close(fd);

	assert_int_equal(pipe(pfd), 0);
	assert_int_equal(write(pfd[1], "hello", 5), 5);
	close(pfd[1]);
	assert_int_equal(erofs_dstream_open(&d, pfd[0], "pipe", &quiet_log), 0);
	assert_int_equal(erofs_dstream_file_fd(d, &base), -1);
	assert_int_equal(erofs_dstream_skip(d, 1), 0);
	assert_int_equal(read_rest(d, out, sizeof(out)), 5);
	assert_memory_equal(out, "hello", 5);
	erofs_dstream_close(d);
	close(pfd[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_file_in_place),
	    cmocka_unit_test(test_dump_reads_everything),
	    cmocka_unit_test(test_pipe_and_gzip_not_in_place),
	};

	erofs_log_init(&quiet_log, "test_decompress");
	quiet_log.level = EROFS_LOG_ERR;
	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the fetch catalog (lib/fetch_catalog.c) and of the manifest
 * loader it is built from (lib/manifest.c): names, paths, duplicates, sizes,
 * syntax and limits.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "erofs/fetch.h"
#include "erofs/manifest.h"
#include "erofs/util.h"
#include "fetch_test_util.h"

static struct erofs_log tlog = {"test_fetch_catalog", EROFS_LOG_ERR, NULL, 0};

static void test_catalog(void **state)
{
	struct erofs_manifest_blob blobs[2];
	struct erofs_manifest m;
	struct erofs_fetch_catalog c;
	const struct erofs_fetch_entry *e;

	memset(&m, 0, sizeof(m));
	memset(blobs, 0, sizeof(blobs));
	m.bootstrap_path = "/abs/dir/boot.img";
	m.bootstrap_size = 8192;
	m.fsid = "fromcookies";
	m.nr_blobs = 2;
	m.blobs = blobs;
	strcpy(blobs[0].tag, "aaaa");
	blobs[0].path = "blobs/aaaa.blob";
	blobs[0].size = 100;
	strcpy(blobs[1].tag, "bbbb");
	blobs[1].path = "../x/bbbb.blob";
	blobs[1].size = 200;

	assert_int_equal(
	    erofs_fetch_catalog_from_manifest(&m, "myfs", &tlog, &c), 0);
	assert_int_equal(c.nr, 3);
	e = erofs_fetch_catalog_find(&c, "myfs");
	assert_non_null(e);
	assert_string_equal(e->path, "boot.img");
	assert_int_equal(e->size, 8192);
	assert_null(erofs_fetch_catalog_find(&c, "fromcookies"));
	e = erofs_fetch_catalog_find(&c, "aaaa");
	assert_non_null(e);
	assert_string_equal(e->path, "blobs/aaaa.blob");
	e = erofs_fetch_catalog_find(&c, "bbbb");
	assert_non_null(e);
	assert_string_equal(e->path, "bbbb.blob");
	assert_int_equal(e->size, 200);
	erofs_fetch_catalog_free(&c);

	/* without --fsid the cookie table's fsid names the bootstrap */
	assert_int_equal(erofs_fetch_catalog_from_manifest(&m, NULL, &tlog, &c),
			 0);
	assert_non_null(erofs_fetch_catalog_find(&c, "fromcookies"));
	erofs_fetch_catalog_free(&c);

	/* a tag equal to the fsid is a duplicate */
	assert_int_equal(
	    erofs_fetch_catalog_from_manifest(&m, "aaaa", &tlog, &c), -EINVAL);
	/* bad name */
	assert_int_equal(
	    erofs_fetch_catalog_from_manifest(&m, "a/b", &tlog, &c), -EINVAL);
}

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static int parse(const char *text)
{
	struct erofs_manifest m;
	int err = erofs_manifest_parse(&m, text, strlen(text), "t", &tlog);

	if (!err)
		erofs_manifest_free(&m);
	return err;
}

static char *manifest_text(const char *boot_size, const char *blob_size,
			   const char *tail)
{
	char *s;

	assert_true(asprintf(&s,
			     "{\"format\":\"erofs-ondemand-manifest\","
			     "\"version\":1,\"block_size\":4096,"
			     "\"chunk_size\":65536,\"bootstrap\":{\"path\":"
			     "\"b\",\"size\":%s,\"sha256\":\"" SHA "\"},"
			     "\"blobs\":[{\"tag\":\"t1\",\"size\":%s,"
			     "\"sha256\":\"" SHA "\",\"path\":\"p\"}]}%s",
			     boot_size, blob_size, tail) > 0);
	return s;
}

static void test_manifest_sizes(void **state)
{
	static const char *const bad[] = {
	    "18446744073709551615",	  /* 2^64 - 1 */
	    "18446744073709551616",	  /* clamped by json-c */
	    "12345678901234567890123456", /* 26 digits, clamped */
	    "4611686018427387904",	  /* 2^62 */
	    "17592186040321",		  /* (2^32 - 1) * 4096 + 1 */
	    "-1",
	    "1.5",
	    "\"5\"",
	};
	struct erofs_manifest m;
	char *s;

	s = manifest_text("8192", "17592186040320", "");
	assert_int_equal(erofs_manifest_parse(&m, s, strlen(s), "t", &tlog), 0);
	assert_int_equal(m.blobs[0].size, 17592186040320ull);
	assert_int_equal(m.blobs[0].blocks, UINT32_MAX);
	erofs_manifest_free(&m);
	free(s);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		s = manifest_text("8192", bad[i], "");
		assert_true(parse(s) < 0);
		free(s);
		s = manifest_text(bad[i], "8192", "");
		assert_true(parse(s) < 0);
		free(s);
	}
}

static void test_manifest_syntax(void **state)
{
	char *s;

	/* whitespace after the object is fine, anything else is not */
	s = manifest_text("8192", "8192", " \n\t\r\n");
	assert_int_equal(parse(s), 0);
	free(s);
	s = manifest_text("8192", "8192", "x");
	assert_int_equal(parse(s), -EINVAL);
	free(s);
	s = manifest_text("8192", "8192", "{}");
	assert_int_equal(parse(s), -EINVAL);
	free(s);
	s = manifest_text("8192", "8192", "\n]");
	assert_int_equal(parse(s), -EINVAL);
	free(s);
	/* a NUL in the middle does not end the text early */
	s = manifest_text("8192", "8192", " ");
	s[strlen(s) - 1] = '\0';
	assert_int_equal(erofs_manifest_parse(&(struct erofs_manifest){0}, s,
					      strlen(s) + 1, "t", &tlog),
			 -EINVAL);
	free(s);
	assert_int_equal(parse(""), -EINVAL);
	assert_int_equal(parse("[]"), -EINVAL);
	assert_int_equal(parse("{\"format\":\"erofs-ondemand-manifest\""),
			 -EINVAL);
	/* "blocks", when given, must match the size */
	s = manifest_text("8192", "8192,\"blocks\":2", "");
	assert_int_equal(parse(s), 0);
	free(s);
	s = manifest_text("8192", "8192,\"blocks\":3", "");
	assert_int_equal(parse(s), -EINVAL);
	free(s);
}

/* a manifest of @n blobs: "{...,"blobs":[...]}" */
static char *many_blobs(unsigned int n, size_t *len)
{
	size_t cap = 256 + (size_t)n * 160, off;
	char *s = malloc(cap);

	assert_non_null(s);
	off = snprintf(s, cap,
		       "{\"format\":\"erofs-ondemand-manifest\",\"version\":1,"
		       "\"block_size\":4096,\"chunk_size\":0,\"bootstrap\":{"
		       "\"path\":\"b\",\"size\":4096,\"sha256\":\"" SHA
		       "\"},\"cookies\":{\"fsid\":\"fs\"},\"blobs\":[");
	for (unsigned int i = 0; i < n; i++)
		off += snprintf(s + off, cap - off,
				"%s{\"tag\":\"t%u\",\"size\":4096,\"sha256\":"
				"\"" SHA "\",\"path\":\"p%u\"}",
				i ? "," : "", i, i);
	off += snprintf(s + off, cap - off, "]}");
	*len = off;
	return s;
}

static void test_manifest_limits(void **state)
{
	struct erofs_manifest m;
	struct erofs_fetch_catalog c;
	const struct erofs_fetch_entry *e;
	size_t len;
	char *s;

	/* the most blobs a device table holds: loads, every one is found */
	s = many_blobs(EROFS_MANIFEST_MAX_BLOBS, &len);
	assert_int_equal(erofs_manifest_parse(&m, s, len, "t", &tlog), 0);
	free(s);
	assert_int_equal(m.nr_blobs, EROFS_MANIFEST_MAX_BLOBS);
	assert_int_equal(erofs_fetch_catalog_from_manifest(&m, NULL, &tlog, &c),
			 0);
	assert_int_equal(c.nr, EROFS_MANIFEST_MAX_BLOBS + 1);
	for (unsigned int i = 0; i < EROFS_MANIFEST_MAX_BLOBS; i += 997) {
		char tag[16];

		snprintf(tag, sizeof(tag), "t%u", i);
		e = erofs_fetch_catalog_find(&c, tag);
		assert_non_null(e);
		assert_int_equal(atoi(e->path + 1), i);
	}
	assert_non_null(erofs_fetch_catalog_find(&c, "fs"));
	assert_null(erofs_fetch_catalog_find(&c, "t65535"));
	erofs_fetch_catalog_free(&c);
	/* a duplicate tag among many is still found */
	strcpy(m.blobs[40000].tag, "t12");
	assert_int_equal(erofs_fetch_catalog_from_manifest(&m, NULL, &tlog, &c),
			 -EINVAL);
	erofs_manifest_free(&m);

	/* one more: refused */
	s = many_blobs(EROFS_MANIFEST_MAX_BLOBS + 1, &len);
	assert_int_equal(erofs_manifest_parse(&m, s, len, "t", &tlog), -E2BIG);
	free(s);

	/* 10^6 objects are refused before json-c builds any of them */
	s = malloc(1000000 * 3 + 64);
	assert_non_null(s);
	len = sprintf(s, "{\"blobs\":[{}");
	for (unsigned int i = 1; i < 1000000; i++)
		len += sprintf(s + len, ",{}");
	len += sprintf(s + len, "]}");
	assert_int_equal(erofs_manifest_parse(&m, s, len, "t", &tlog), -E2BIG);
	free(s);
}

static void test_manifest_file(void **state)
{
	struct erofs_manifest m;
	struct tmpdir t;
	char p[128];
	char *s;
	int fd;

	tmpdir_make(&t);
	/* a FIFO is refused at once, not waited on */
	snprintf(p, sizeof(p), "%s/fifo", t.path);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(erofs_manifest_load(&m, p, &tlog), -EINVAL);
	assert_int_equal(erofs_manifest_load(&m, t.path, &tlog), -EINVAL);
	/* a file over the limit is refused by its size alone */
	snprintf(p, sizeof(p), "%s/big.json", t.path);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, EROFS_MANIFEST_MAX_BYTES + 1), 0);
	close(fd);
	assert_int_equal(erofs_manifest_load(&m, p, &tlog), -EFBIG);
	/* a good one round-trips through save */
	s = manifest_text("8192", "12288", "\n");
	snprintf(p, sizeof(p), "%s/m.json", t.path);
	fd = open(p, O_WRONLY | O_CREAT, 0644);
	assert_int_equal(erofs_write_all(fd, s, strlen(s)), 0);
	close(fd);
	free(s);
	assert_int_equal(erofs_manifest_load(&m, p, &tlog), 0);
	assert_int_equal(m.bootstrap_size, 8192);
	assert_int_equal(m.blobs[0].blocks, 3);
	assert_int_equal(erofs_manifest_save(&m, p, &tlog), 0);
	erofs_manifest_free(&m);
	assert_int_equal(erofs_manifest_load(&m, p, &tlog), 0);
	assert_int_equal(m.blobs[0].size, 12288);
	erofs_manifest_free(&m);
	tmpdir_rm(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_catalog),
	    cmocka_unit_test(test_manifest_sizes),
	    cmocka_unit_test(test_manifest_syntax),
	    cmocka_unit_test(test_manifest_limits),
	    cmocka_unit_test(test_manifest_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

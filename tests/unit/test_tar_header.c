// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The strict tar header reader (lib/tar_header.c): ustar, GNU and pax
 * headers built here block by block, with and without bodies (headerball),
 * base-256 numbers, pax records (fractional mtime, xattrs of both
 * spellings, global records), GNU long names, the end marker; and every
 * corruption refused with a message naming the entry and the offset.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "liberofs_tar_header.h"

struct buf {
	uint8_t *p;
	size_t len, pos;
};

static ssize_t mem_read(void *arg, void *out, size_t len)
{
	struct buf *b = arg;

	if (len > b->len - b->pos)
		len = b->len - b->pos;
	/* short reads on purpose: the reader must loop */
	if (len > 100)
		len = 100;
	memcpy(out, b->p + b->pos, len);
	b->pos += len;
	return len;
}

static void put(struct buf *b, const void *p, size_t len)
{
	b->p = realloc(b->p, b->len + len);
	assert_non_null(b->p);
	memcpy(b->p + b->len, p, len);
	b->len += len;
}

static void pad(struct buf *b)
{
	static const uint8_t z[512];

	if (b->len % 512)
		put(b, z, 512 - b->len % 512);
}

static void seal(uint8_t *h)
{
	unsigned int sum = 0;

	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

/* a ustar (posix) or GNU header block */
static void hdr(uint8_t *h, const char *name, char type, uint64_t size,
		bool gnu)
{
	memset(h, 0, 512);
	strncpy((char *)h, name, 100);
	memcpy(h + 100, "0000644", 8);
	memcpy(h + 108, "0001750", 8);
	memcpy(h + 116, "0001751", 8);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	memcpy(h + 136, "14540000000", 12);
	h[156] = type;
	if (gnu)
		memcpy(h + 257, "ustar  ", 8);
	else
		memcpy(h + 257,
		       "ustar\0"
		       "00",
		       8);
}

static void add(struct buf *b, uint8_t *h)
{
	seal(h);
	put(b, h, 512);
}

static void add_pax(struct buf *b, char type, const char *recs, size_t len)
{
	uint8_t h[512];

	hdr(h, "PaxHeader", type, len, false);
	add(b, h);
	put(b, recs, len);
	pad(b);
}

static void end(struct buf *b)
{
	static const uint8_t z[1024];

	put(b, z, sizeof(z));
}

struct run {
	struct buf b;
	struct erofs_tar_reader r;
	struct erofs_tar_hdr h;
	struct erofs_log log;
	char *msgs;
	size_t msgs_len;
	FILE *out;
};

static void start(struct run *x, bool headerball)
{
	erofs_log_init(&x->log, "test");
	x->out = open_memstream(&x->msgs, &x->msgs_len);
	assert_non_null(x->out);
	x->log.out = x->out;
	erofs_tar_reader_init(&x->r, mem_read, &x->b, "t.tar", headerball,
			      &x->log);
}

static const char *msgs(struct run *x)
{
	fflush(x->out);
	return x->msgs ? x->msgs : "";
}

static void finish(struct run *x)
{
	erofs_tar_hdr_free(&x->h);
	erofs_tar_reader_free(&x->r);
	fclose(x->out);
	free(x->msgs);
	free(x->b.p);
}

static void test_headerball(void **state)
{
	struct run x = {0};
	uint8_t h[512];
	char pax[512];
	int n;

	(void)state;
	hdr(h, "dir/", '5', 0, false);
	add(&x.b, h);
	/* a 100-byte name and a prefix (posix only) */
	hdr(h, "", '0', 5000, false);
	memset(h, 'n', 100);
	strcpy((char *)h + 345, "pre/fix");
	add(&x.b, h);
	/* no body follows: the next header comes at once */
	n = snprintf(pax, sizeof(pax),
		     "30 mtime=1700000000.123456789\n"
		     "21 path=dir/pax name\n"
		     "25 SCHILY.xattr.user.a=1\n"
		     "40 LIBARCHIVE.xattr.user.b%%3Dc=AAECAwQ=\n"
		     "18 uid=4294967296\n");
	add_pax(&x.b, 'x', pax, n);
	hdr(h, "ignored", '0', 7, false);
	add(&x.b, h);
	/* GNU: base-256 size, long name and link */
	hdr(h, "././@LongLink", 'L', 301, true);
	add(&x.b, h);
	memset(pax, 'L', 300);
	pax[300] = '\0';
	put(&x.b, pax, 301);
	pad(&x.b);
	hdr(h, "short", '0', 0, true);
	memset(h + 124, 0, 12);
	h[124] = 0x80;
	h[131] = 0x04; /* 2^32 * 4 = 16 GiB */
	h[135] = 0x03;
	add(&x.b, h);
	hdr(h, "hard", '1', 0, true);
	strcpy((char *)h + 157, "dir/pax name");
	add(&x.b, h);
	hdr(h, "dev", '3', 0, false);
	memcpy(h + 329, "0000010", 8);
	memcpy(h + 337, "0000003", 8);
	add(&x.b, h);
	end(&x.b);

	start(&x, true);
	assert_int_equal(erofs_tar_next(&x.r, &x.h), 1);
	assert_string_equal(x.h.path, "dir/");
	assert_int_equal(x.h.type, '5');
	assert_int_equal(x.h.mode, 0644);
	assert_int_equal(x.h.uid, 01750);
	assert_int_equal(x.h.gid, 01751);
	assert_int_equal(x.h.mtime, 014540000000);
	assert_int_equal(x.h.offset, 0);

	assert_int_equal(erofs_tar_next(&x.r, &x.h), 1);
	assert_int_equal(strlen(x.h.path), 8 + 100);
	assert_memory_equal(x.h.path, "pre/fix/nnn", 11);
	assert_int_equal(x.h.size, 5000);
	assert_int_equal(x.h.offset, 512);

	assert_int_equal(erofs_tar_next(&x.r, &x.h), 1);
	assert_string_equal(x.h.path, "dir/pax name");
	assert_int_equal(x.h.mtime, 1700000000);
	assert_int_equal(x.h.mtime_nsec, 123456789);
	assert_int_equal(x.h.uid, 4294967296ull);
	assert_int_equal(x.h.size, 7);
	assert_int_equal(x.h.nr_xattrs, 2);
	assert_string_equal(x.h.xattrs[0].name, "user.a");
	assert_int_equal(x.h.xattrs[0].len, 1);
	assert_string_equal(x.h.xattrs[1].name, "user.b=c");
	assert_int_equal(x.h.xattrs[1].len, 5);
	assert_memory_equal(x.h.xattrs[1].value, "\0\1\2\3\4", 5);

	assert_int_equal(erofs_tar_next(&x.r, &x.h), 1);
	assert_int_equal(strlen(x.h.path), 300);
	assert_int_equal(x.h.size, (4ull << 32) + 3);

	assert_int_equal(erofs_tar_next(&x.r, &x.h), 1);
	assert_int_equal(x.h.type, '1');
	assert_string_equal(x.h.linkpath, "dir/pax name");

	assert_int_equal(erofs_tar_next(&x.r, &x.h), 1);
	assert_int_equal(x.h.type, '3');
	assert_int_equal(x.h.devmajor, 8);
	assert_int_equal(x.h.devminor, 3);

	assert_int_equal(erofs_tar_next(&x.r, &x.h), 0);
	assert_int_equal(erofs_tar_next(&x.r, &x.h), 0);
	assert_string_equal(msgs(&x), "");
	finish(&x);
}

/* with bodies: a regular file's data is skipped; global pax records hold */
static void test_bodies_and_global(void **state)
{
	struct run x = {0};
	uint8_t h[512];
	static const char g[] = "16 uid=12345678\n"
				"28 SCHILY.xattr.user.g=glob\n";
	static const char l[] = "28 SCHILY.xattr.user.g=locl\n"
				"15 mtime=-1.25\n";

	(void)state;
	add_pax(&x.b, 'g', g, sizeof(g) - 1);
	hdr(h, "a", '0', 700, false);
	add(&x.b, h);
	memset(h, 0x55, sizeof(h));
	put(&x.b, h, 512);
	put(&x.b, h, 188);
	pad(&x.b);
	add_pax(&x.b, 'x', l, sizeof(l) - 1);
	hdr(h, "b", '\0', 0, false);
	add(&x.b, h);
	end(&x.b);

	start(&x, false);
	assert_int_equal(erofs_tar_next(&x.r, &x.h), 1);
	assert_string_equal(x.h.path, "a");
	assert_int_equal(x.h.uid, 12345678);
	assert_int_equal(x.h.nr_xattrs, 1);
	assert_memory_equal(x.h.xattrs[0].value, "glob", 4);
	assert_int_equal(erofs_tar_next(&x.r, &x.h), 1);
	assert_string_equal(x.h.path, "b");
	assert_int_equal(x.h.type, '0');
	assert_int_equal(x.h.uid, 12345678);
	assert_int_equal(x.h.mtime, -2);
	assert_int_equal(x.h.mtime_nsec, 750000000);
	assert_int_equal(x.h.nr_xattrs, 1);
	assert_memory_equal(x.h.xattrs[0].value, "locl", 4);
	assert_int_equal(erofs_tar_next(&x.r, &x.h), 0);
	finish(&x);
}

/* one corrupt archive: refused, and the message says what and where */
static void expect_bad(struct buf *b, int nth, const char *want)
{
	struct run x = {0};
	int r = 1;

	x.b = *b;
	start(&x, true);
	for (int i = 0; i <= nth && r > 0; i++)
		r = erofs_tar_next(&x.r, &x.h);
	if (r >= 0 || !strstr(msgs(&x), want))
		fail_msg("wanted an error with \"%s\", got %d: %s", want, r,
			 msgs(&x));
	finish(&x);
}

static void test_corrupt(void **state)
{
	struct buf b = {0};
	uint8_t h[512], g[512];

	(void)state;
	/* a bad checksum of the second header */
	hdr(h, "ok", '0', 1, false);
	add(&b, h);
	hdr(g, "bad", '0', 1, false);
	seal(g);
	g[0] = 'B';
	put(&b, g, 512);
	end(&b);
	expect_bad(&b, 1, "at offset 512: header checksum does not match");

	/* a header cut short */
	b = (struct buf){0};
	hdr(h, "a", '0', 0, false);
	add(&b, h);
	put(&b, h, 300);
	expect_bad(&b, 1, "at offset 512: truncated header (300 of 512");

	/* not octal */
	b = (struct buf){0};
	hdr(h, "badmode", '0', 0, false);
	memcpy(h + 100, "00006x4", 8);
	add(&b, h);
	end(&b);
	expect_bad(&b, 0, "entry \"badmode\" at offset 0: bad mode field");

	/* a size over 2^63 in base-256 */
	b = (struct buf){0};
	hdr(h, "huge", '0', 0, true);
	memset(h + 124, 0xff, 12);
	h[124] = 0x80;
	add(&b, h);
	end(&b);
	expect_bad(&b, 0, "at offset 0: bad size field");

	/* no magic */
	b = (struct buf){0};
	hdr(h, "v7", '0', 0, false);
	memset(h + 257, 0, 8);
	add(&b, h);
	end(&b);
	expect_bad(&b, 0, "not a ustar or GNU tar header");

	/* a pax record whose length lies */
	b = (struct buf){0};
	add_pax(&b, 'x', "99 path=x\n", 10);
	hdr(h, "x", '0', 0, false);
	add(&b, h);
	end(&b);
	expect_bad(&b, 0, "malformed pax record at byte 0");

	/* a bad pax mtime, named by the path the record set */
	b = (struct buf){0};
	add_pax(&b, 'x', "12 path=abc\n13 mtime=1.x\n", 25);
	hdr(h, "x", '0', 0, false);
	add(&b, h);
	end(&b);
	expect_bad(&b, 0, "entry \"abc\" at offset 0: bad pax mtime value");

	/* bad base64 */
	b = (struct buf){0};
	add_pax(&b, 'x', "30 LIBARCHIVE.xattr.user.x=!!\n", 30);
	hdr(h, "x", '0', 0, false);
	add(&b, h);
	end(&b);
	expect_bad(&b, 0, "bad pax LIBARCHIVE.xattr value");

	/* a GNU long name over the limit */
	b = (struct buf){0};
	hdr(h, "././@LongLink", 'L', 5000, true);
	add(&b, h);
	end(&b);
	expect_bad(&b, 0, "GNU long name of 5000 bytes");

	/* data on a directory of a headerball */
	b = (struct buf){0};
	hdr(h, "d", '5', 512, false);
	add(&b, h);
	end(&b);
	expect_bad(&b, 0, "entry \"d\" at offset 0: 512 bytes of data");

	/* the stream ends after an extended header */
	b = (struct buf){0};
	add_pax(&b, 'x', "11 path=ab\n", 11);
	expect_bad(&b, 0, "ends after an extended header");

	/* a zero block and then more headers */
	b = (struct buf){0};
	memset(g, 0, sizeof(g));
	put(&b, g, 512);
	hdr(h, "late", '0', 0, false);
	add(&b, h);
	expect_bad(&b, 0, "not an end-of-archive marker");
}

/* no end marker: a warning, not an error (erofs-utils takes it too) */
static void test_no_end_marker(void **state)
{
	struct run x = {0};
	uint8_t h[512];

	(void)state;
	hdr(h, "only", '0', 9, false);
	add(&x.b, h);
	start(&x, true);
	assert_int_equal(erofs_tar_next(&x.r, &x.h), 1);
	assert_int_equal(erofs_tar_next(&x.r, &x.h), 0);
	assert_non_null(
	    strstr(msgs(&x), "no end-of-archive marker at offset 512"));
	finish(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_headerball),
	    cmocka_unit_test(test_bodies_and_global),
	    cmocka_unit_test(test_corrupt),
	    cmocka_unit_test(test_no_end_marker),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

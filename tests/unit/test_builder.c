// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The builder object against real files: the streaming data path (flat and
 * chunked, holes, short and long streams), several blob devices, tree path
 * operations, outputs that may not coincide, and sources that change while
 * they are read.  The progress callback, called at deterministic points
 * (every 4096 entries, every 64 MiB read), is where a test changes the
 * source in the middle of a build.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "erofs/builder.h"
#include "erofs/reader.h"
#include "liberofs_builder.h"

static char top[256];
static char *logbuf;
static size_t loglen;
static FILE *logfp;
static struct erofs_log log_;

static void sh(const char *fmt, ...)
{
	char cmd[4 * PATH_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(top, sizeof(top), "/tmp/test_builder.XXXXXX");
	if (!mkdtemp(top))
		return -1;
	logfp = open_memstream(&logbuf, &loglen);
	erofs_log_init(&log_, "test");
	log_.out = logfp;
	log_.level = EROFS_LOG_WARN;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf '%s'", top);
	fclose(logfp);
	free(logbuf);
	return 0;
}

static const char *logged(void)
{
	fflush(logfp);
	return logbuf ? logbuf : "";
}

/* the number of names in @dir */
static int count_files(const char *dir)
{
	char cmd[PATH_MAX + 64];
	FILE *p;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "ls -A '%s' | wc -l", dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", &n), 1);
	pclose(p);
	return n;
}

struct found {
	const char *name;
	uint64_t nid;
	bool seen;
};

static int find_cb(void *arg, const char *name, unsigned int len, uint64_t nid,
		   unsigned int type)
{
	struct found *f = arg;

	(void)type;
	if (strlen(f->name) == len && !memcmp(f->name, name, len)) {
		f->nid = nid;
		f->seen = true;
		return 1;
	}
	return 0;
}

/* the inode at @path of image @img (components under the root) */
static bool image_lookup(const struct erofs_image *img, const char *path,
			 struct erofs_rinode *ri)
{
	char buf[PATH_MAX], *save = NULL;

	assert_int_equal(erofs_image_read_inode(img, img->sb.root_nid, ri), 0);
	strcpy(buf, path);
	for (char *c = strtok_r(buf, "/", &save); c;
	     c = strtok_r(NULL, "/", &save)) {
		struct found f = {.name = c};

		erofs_image_iterate_dir(img, ri, find_cb, &f);
		if (!f.seen)
			return false;
		assert_int_equal(erofs_image_read_inode(img, f.nid, ri), 0);
	}
	return true;
}

/* ---------------------------------------------------------------- item 1 */

struct swap_ctx {
	char src[PATH_MAX];
	char outside[PATH_MAX];
	int calls;
};

static void swap_progress(void *arg, const struct erofs_build_progress *p)
{
	struct swap_ctx *c = arg;
	char x[PATH_MAX + 8];

	if (p->done || c->calls++)
		return;
	/* after the walk has started: x/ becomes a symlink to outside/ */
	snprintf(x, sizeof(x), "%s/x", c->src);
	sh("rm -rf '%s' && ln -s '%s' '%s'", x, c->outside, x);
}

/*
 * Hardening item 1: a directory swapped for a symlink during the build never
 * makes the builder read outside SOURCE.  The old data pass reopened files
 * by path after the walk and followed the symlink; now every file is read
 * from the fd the walk opened, relative to its directory's fd with
 * O_NOFOLLOW, so the swapped entry is seen as the symlink it is.
 */
static void test_swap_symlink(void **state)
{
	struct swap_ctx c = {0};
	struct erofs_build_opts o;
	struct erofs_build_result res;
	struct erofs_builder *b;
	struct erofs_image img;
	struct erofs_rinode ri;
	char dest[PATH_MAX + 16];

	(void)state;
	snprintf(c.src, sizeof(c.src), "%s/swap-src", top);
	snprintf(c.outside, sizeof(c.outside), "%s/outside", top);
	snprintf(dest, sizeof(dest), "%s/swap.img", top);
	/* 4200 entries under a/ come before x/ in name order */
	sh("mkdir -p '%s/a' '%s/x/etc' '%s/etc' && cd '%s/a' && seq 4200 | "
	   "xargs touch"
	   " && echo inside-secret >'%s/x/etc/secret'"
	   " && echo OUTSIDE-SECRT >'%s/etc/secret'",
	   c.src, c.src, c.outside, c.src, c.src, c.outside);
	erofs_build_opts_init(&o);
	o.fixed_time = true;
	o.progress = swap_progress;
	o.progress_arg = &c;
	assert_int_equal(erofs_builder_create(&b, dest, &o, &log_), 0);
	assert_int_equal(erofs_builder_import_dir(b, c.src, NULL), 0);
	assert_true(c.calls >= 1);
	assert_int_equal(erofs_builder_finish(b, &res), 0);
	erofs_builder_destroy(b);
	erofs_build_result_free(&res);

	assert_int_equal(erofs_image_open(&img, dest, &log_), 0);
	assert_true(image_lookup(&img, "x", &ri));
	/* what SOURCE holds at the time: the symlink itself */
	assert_true(S_ISLNK(ri.di.mode));
	assert_false(image_lookup(&img, "x/etc/secret", &ri));
	erofs_image_close(&img);
}

/* ---------------------------------------------------------------- item 3 */

struct shrink_ctx {
	char file[PATH_MAX];
	off_t to;
	int calls;
};

static void shrink_progress(void *arg, const struct erofs_build_progress *p)
{
	struct shrink_ctx *c = arg;

	/* once, inside the hole (the first call comes at the first entry) */
	if (p->done || c->calls || p->bytes_in < (32u << 20))
		return;
	c->calls++;
	assert_int_equal(truncate(c->file, c->to), 0);
}

/*
 * Hardening item 3: a file truncated while it is read is an error naming
 * it, never zeros.  The 100 MiB file has data in its first and last MiB;
 * after 64 MiB (inside the hole) the progress callback truncates it.  The
 * old code took "no data after here" (SEEK_DATA: ENXIO) as a hole to the
 * announced size and stored 99 MiB of zeros with exit 0.
 */
static void shrink_case(uint64_t chunksize, off_t to)
{
	struct shrink_ctx c = {.to = to};
	struct erofs_build_opts o;
	struct erofs_builder *b;
	char src[512], dest[PATH_MAX + 16];
	int err;

	snprintf(src, sizeof(src), "%s/shrink-src", top);
	snprintf(c.file, sizeof(c.file), "%s/big", src);
	snprintf(dest, sizeof(dest), "%s/shrink-out/x.img", top);
	sh("rm -rf '%s' '%s/shrink-out' && mkdir -p '%s' '%s/shrink-out'"
	   " && head -c 1M /dev/urandom >'%s'"
	   " && truncate -s 99M '%s'"
	   " && head -c 1M /dev/urandom >>'%s'",
	   src, top, src, top, c.file, c.file, c.file);
	erofs_build_opts_init(&o);
	o.chunksize = chunksize;
	o.progress = shrink_progress;
	o.progress_arg = &c;
	assert_int_equal(erofs_builder_create(&b, dest, &o, &log_), 0);
	err = erofs_builder_import_dir(b, src, NULL);
	assert_int_equal(err, -EAGAIN);
	assert_int_equal(c.calls, 1);
	assert_non_null(strstr(logged(), c.file));
	erofs_builder_destroy(b);
	/* nothing left at the output's directory */
	snprintf(src, sizeof(src), "%s/shrink-out", top);
	assert_int_equal(count_files(src), 0);
}

static void test_shrink_flat(void **state)
{
	(void)state;
	shrink_case(0, 1 << 20); /* into the hole: ENXIO */
}

static void test_shrink_chunked(void **state)
{
	(void)state;
	shrink_case(65536, 1 << 20);
}

static void test_shrink_short_read(void **state)
{
	(void)state;
	/* inside the last data MiB: a short read */
	shrink_case(65536, (99 << 20) + 12345);
}

/* ---------------------------------------------------------------- item 7 */

static void expect_refused(const char *dest, const char *blob,
			   const char *manifest, const char *want)
{
	struct erofs_build_opts o;
	struct erofs_builder *b = NULL;
	char dir[PATH_MAX + 16];

	erofs_build_opts_init(&o);
	if (blob) {
		o.chunksize = 4096;
		o.blobdev = blob;
	}
	o.manifest = manifest;
	fflush(logfp);
	assert_int_not_equal(erofs_builder_create(&b, dest, &o, &log_), 0);
	assert_null(b);
	assert_non_null(strstr(logged(), want));
	snprintf(dir, sizeof(dir), "%s/out7", top);
	/* only the files the test made */
	assert_int_equal(count_files(dir), 2);
}

static void test_outputs_coincide(void **state)
{
	char a[PATH_MAX + 16], alias[PATH_MAX + 32], hl[PATH_MAX + 16];
	char longname[PATH_MAX + 300];

	(void)state;
	snprintf(a, sizeof(a), "%s/out7/a.img", top);
	snprintf(alias, sizeof(alias), "%s/out7/../out7/./a.img", top);
	snprintf(hl, sizeof(hl), "%s/out7/hl.img", top);
	/* out7 holds a.img and its hard link hl.img */
	sh("mkdir -p '%s/out7' && echo old >'%s' && ln '%s' '%s'", top, a, a,
	   hl);
	expect_refused(a, a, NULL, "same file");
	expect_refused(a, NULL, alias, "same file");
	expect_refused(a, hl, NULL, "same file");
	/* the manifest equal to the blob */
	snprintf(alias, sizeof(alias), "%s/out7/b.blob", top);
	expect_refused(a, alias, alias, "same file");
	/* DEST a directory */
	snprintf(alias, sizeof(alias), "%s/out7", top);
	expect_refused(alias, NULL, NULL, "is a directory");
	/* a name too long for the file system, refused before any work */
	memset(longname, 0, sizeof(longname));
	snprintf(longname, sizeof(longname), "%s/out7/", top);
	memset(longname + strlen(longname), 'n', 256);
	expect_refused(longname, NULL, NULL, "longer than");
	/* the old file is untouched */
	sh("grep -q old '%s'", a);
}

/* a source that is one of the outputs: refused before reading it */
static void test_source_is_output(void **state)
{
	struct erofs_build_opts o;
	struct erofs_builder *b;
	char tarf[PATH_MAX + 16], blob[PATH_MAX + 16], dest[PATH_MAX + 16];

	(void)state;
	snprintf(tarf, sizeof(tarf), "%s/src7.tar", top);
	snprintf(blob, sizeof(blob), "%s/src7.tar", top);
	snprintf(dest, sizeof(dest), "%s/src7.img", top);
	sh("cd '%s' && mkdir -p t7 && echo hi >t7/f && tar -cf src7.tar t7",
	   top);
	erofs_build_opts_init(&o);
	o.chunksize = 4096;
	o.blobdev = blob;
	assert_int_equal(erofs_builder_create(&b, dest, &o, &log_), 0);
	assert_int_equal(erofs_builder_import_tar(b, tarf, -1, NULL), -EINVAL);
	assert_non_null(strstr(logged(), "is the same file as output"));
	erofs_builder_destroy(b);
	/* the archive is intact and no image appeared */
	sh("tar -tf '%s' >/dev/null", tarf);
	assert_int_equal(access(dest, F_OK), -1);
}

/* --------------------------------------------------- data path and blobs */

/*
 * Files fed through the data path (write and hole calls of odd sizes)
 * read back exactly: a flat image with inline tails and the bootstrap's
 * data area before the metadata.
 */
static void test_stream_flat(void **state)
{
	static const uint64_t sizes[] = {
	    0, 1, 4095, 4096, 4097, 70000, 3 * 4096 + 4000, (1 << 21) + 5};
	struct erofs_build_opts o;
	struct erofs_build_result res;
	struct erofs_builder *b;
	struct erofs_tree *t;
	struct erofs_image img;
	char dest[PATH_MAX + 16];
	uint8_t *buf = malloc(3 << 20), *back = malloc(3 << 20);

	(void)state;
	assert_non_null(buf);
	assert_non_null(back);
	for (size_t i = 0; i < (3 << 20); i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 12));
	snprintf(dest, sizeof(dest), "%s/flat.img", top);
	erofs_build_opts_init(&o);
	assert_int_equal(erofs_builder_create(&b, dest, &o, &log_), 0);
	t = erofs_builder_tree(b);
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		struct erofs_inode *dir, *f = erofs_tree_new_inode(t);
		char name[32];
		uint64_t pos = 0;

		assert_int_equal(erofs_tree_mkdir_p(t, "d/e", 0, &dir), 0);
		f->mode = S_IFREG | 0644;
		f->size = sizes[i];
		snprintf(name, sizeof(name), "f%u", i);
		assert_int_equal(erofs_dir_add(t, dir, name, f), 0);
		assert_int_equal(erofs_builder_data_begin(b, f, name), 0);
		while (pos < f->size) {
			uint64_t n = f->size - pos;

			if (n > 9000)
				n = 9000;

			/* every third piece a hole (zeros in the source) */
			if ((pos / 9000) % 3 == 2) {
				memset(buf + pos, 0, n);
				assert_int_equal(erofs_builder_data_hole(b, n),
						 0);
			} else {
				assert_int_equal(
				    erofs_builder_data_write(b, buf + pos, n),
				    0);
			}
			pos += n;
		}
		assert_int_equal(erofs_builder_data_end(b), 0);
	}
	assert_non_null(erofs_tree_lookup(t, "d/e/f3"));
	assert_int_equal(erofs_builder_finish(b, &res), 0);
	erofs_builder_destroy(b);
	erofs_build_result_free(&res);

	assert_int_equal(erofs_image_open(&img, dest, &log_), 0);
	assert_true(img.sb.meta_blkaddr > 0); /* data first */
	for (unsigned int i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		struct erofs_rinode ri;
		char path[32];

		snprintf(path, sizeof(path), "d/e/f%u", i);
		assert_true(image_lookup(&img, path, &ri));
		assert_int_equal(ri.di.size, sizes[i]);
		if (!sizes[i])
			continue;
		assert_int_equal(
		    erofs_image_read_data(&img, &ri, back, sizes[i], 0), 0);
		/* the pieces the loop zeroed are zero in buf too */
		assert_memory_equal(back, buf, sizes[i]);
	}
	erofs_image_close(&img);
	free(buf);
	free(back);
}

/* a stream shorter or longer than the size is an error naming the file */
static void test_stream_wrong_length(void **state)
{
	struct erofs_build_opts o;
	struct erofs_builder *b;
	struct erofs_tree *t;
	struct erofs_inode *f;
	char dest[PATH_MAX + 16];

	(void)state;
	snprintf(dest, sizeof(dest), "%s/len.img", top);
	erofs_build_opts_init(&o);
	o.chunksize = 4096;
	assert_int_equal(erofs_builder_create(&b, dest, &o, &log_), 0);
	t = erofs_builder_tree(b);
	assert_int_equal(erofs_tree_mkdir_p(t, "", 0, &f), 0);
	f = erofs_tree_new_inode(t);
	f->mode = S_IFREG | 0644;
	f->size = 10;
	assert_int_equal(erofs_dir_add(t, t->root, "short", f), 0);
	assert_int_equal(erofs_builder_data_begin(b, f, "short-one"), 0);
	assert_int_equal(erofs_builder_data_write(b, "12345", 5), 0);
	assert_int_not_equal(erofs_builder_data_end(b), 0);
	assert_non_null(strstr(logged(), "short-one"));
	/* the builder refuses to finish after a failed stream */
	{
		struct erofs_build_result res;

		assert_int_not_equal(erofs_builder_finish(b, &res), 0);
	}
	erofs_builder_destroy(b);
	assert_int_equal(access(dest, F_OK), -1);
}

/*
 * Several blob devices: a chunk an earlier blob holds is referenced there,
 * a blob that received nothing is dropped (no slot, no file), and the
 * manifest lists every blob kept.
 */
static void test_blobs(void **state)
{
	struct erofs_build_opts o;
	struct erofs_build_result res;
	struct erofs_builder *b;
	struct erofs_tree *t;
	struct erofs_image img;
	char dest[PATH_MAX + 16], b1[PATH_MAX + 16], b2[PATH_MAX + 16];
	char b3[PATH_MAX + 16], b4[PATH_MAX + 16];
	uint8_t *c1 = malloc(8192), *c2 = malloc(8192);
	struct erofs_inode *f[3];

	(void)state;
	for (int i = 0; i < 8192; i++) {
		c1[i] = (uint8_t)(i * 13 + 1);
		c2[i] = (uint8_t)(i * 17 + 5);
	}
	snprintf(dest, sizeof(dest), "%s/multi.img", top);
	snprintf(b1, sizeof(b1), "%s/multi.1", top);
	snprintf(b2, sizeof(b2), "%s/multi.2", top);
	snprintf(b3, sizeof(b3), "%s/multi.3", top);
	snprintf(b4, sizeof(b4), "%s/multi.4", top);
	erofs_build_opts_init(&o);
	o.chunksize = 8192;
	o.blobdev = b1;
	assert_int_equal(erofs_builder_create(&b, dest, &o, &log_), 0);
	t = erofs_builder_tree(b);
	{
		struct erofs_inode *root;

		assert_int_equal(erofs_tree_mkdir_p(t, "", 0, &root), 0);
	}
	for (int i = 0; i < 3; i++) {
		char name[8];

		f[i] = erofs_tree_new_inode(t);
		f[i]->mode = S_IFREG | 0600;
		f[i]->size = 8192;
		snprintf(name, sizeof(name), "f%d", i);
		assert_int_equal(erofs_dir_add(t, t->root, name, f[i]), 0);
	}
	/* f0: c1 into blob 1 */
	assert_int_equal(erofs_builder_data_begin(b, f[0], "f0"), 0);
	assert_int_equal(erofs_builder_data_write(b, c1, 8192), 0);
	assert_int_equal(erofs_builder_data_end(b), 0);
	/* blob 2 gets nothing: dropped */
	assert_int_equal(erofs_builder_begin_blob(b, b2), 0);
	assert_int_equal(erofs_builder_begin_blob(b, b3), 0);
	/* f1: c1 again, stays on blob 1; f2: c2 goes to blob 3 */
	assert_int_equal(erofs_builder_data_begin(b, f[1], "f1"), 0);
	assert_int_equal(erofs_builder_data_write(b, c1, 8192), 0);
	assert_int_equal(erofs_builder_data_end(b), 0);
	assert_int_equal(erofs_builder_data_begin(b, f[2], "f2"), 0);
	assert_int_equal(erofs_builder_data_write(b, c2, 8192), 0);
	assert_int_equal(erofs_builder_data_end(b), 0);
	/* the same name twice is refused */
	assert_int_not_equal(erofs_builder_begin_blob(b, b1), 0);
	assert_int_equal(erofs_builder_begin_blob(b, b4), 0);
	assert_int_equal(erofs_builder_finish(b, &res), 0);
	erofs_builder_destroy(b);

	assert_int_equal(res.manifest.nr_blobs, 2);
	assert_int_equal(res.manifest.blobs[0].device_id, 1);
	assert_int_equal(res.manifest.blobs[1].device_id, 2);
	assert_non_null(strstr(res.manifest.blobs[1].path, "multi.3"));
	erofs_build_result_free(&res);
	assert_int_equal(access(b2, F_OK), -1);
	assert_int_equal(access(b4, F_OK), -1);
	assert_int_equal(access(b3, F_OK), 0);

	assert_int_equal(erofs_image_open(&img, dest, &log_), 0);
	assert_int_equal(img.nr_devices, 2);
	{
		struct erofs_rinode ri;
		struct erofs_chunk_idx ci;

		assert_true(image_lookup(&img, "f1", &ri));
		assert_int_equal(erofs_image_read_chunk(&img, &ri, 0, &ci), 0);
		assert_int_equal(ci.device_id, 1);
		assert_true(image_lookup(&img, "f2", &ri));
		assert_int_equal(erofs_image_read_chunk(&img, &ri, 0, &ci), 0);
		assert_int_equal(ci.device_id, 2);
	}
	erofs_image_close(&img);
	free(c1);
	free(c2);
}

/* ------------------------------------------------------------ --sort=path */

/* a regular file at @path (its directory made) streamed from @data */
static struct erofs_inode *sorted_file(struct erofs_builder *b, const char *dir,
				       const char *name, const uint8_t *data,
				       size_t len)
{
	struct erofs_tree *t = erofs_builder_tree(b);
	struct erofs_inode *d, *f = erofs_tree_new_inode(t);

	assert_non_null(f);
	assert_int_equal(erofs_tree_mkdir_p(t, dir, 0, &d), 0);
	f->mode = S_IFREG | 0644;
	f->size = len;
	assert_int_equal(erofs_dir_add(t, d, name, f), 0);
	assert_int_equal(erofs_builder_data_begin(b, f, name), 0);
	assert_int_equal(erofs_builder_data_write(b, data, len), 0);
	assert_int_equal(erofs_builder_data_end(b), 0);
	return f;
}

/* chunk @i of @path is on device @dev at block @blk */
static void expect_chunk(const struct erofs_image *img, const char *path,
			 uint64_t i, unsigned int dev, uint32_t blk)
{
	struct erofs_rinode ri;
	struct erofs_chunk_idx ci;

	assert_true(image_lookup(img, path, &ri));
	assert_int_equal(erofs_image_read_chunk(img, &ri, i, &ci), 0);
	assert_int_equal(ci.device_id, dev);
	assert_int_equal(ci.blkaddr, blk);
}

/* @n 4 KiB blocks filled with the letters of @s, one block each */
static uint8_t *letters(const char *s)
{
	size_t n = strlen(s);
	uint8_t *p = malloc(n * 4096);

	assert_non_null(p);
	for (size_t i = 0; i < n; i++)
		memset(p + i * 4096, s[i], 4096);
	return p;
}

/* the letters of @path's blocks, one per block, in file order */
static void expect_blocks(const char *path, const char *s)
{
	size_t n = strlen(s);
	uint8_t *p = malloc(n * 4096 + 1);
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_non_null(p);
	assert_int_equal(pread(fd, p, n * 4096 + 1, 0), n * 4096);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(p[i * 4096], s[i]);
		assert_int_equal(p[i * 4096 + 4095], s[i]);
	}
	close(fd);
	free(p);
}

/*
 * Chunks streamed out of path order onto three blobs: each blob is laid
 * out again in path order (a directory's files, then its subdirectories),
 * a deduplicated chunk where it is first referenced; the data of a file
 * removed before the finish is dropped, and a blob left with nothing is
 * dropped too (the later blobs renumbered); the manifest's digests are
 * the final files'.
 */
static void test_sort_path_blobs(void **state)
{
	struct erofs_build_opts o;
	struct erofs_build_result res;
	struct erofs_builder *b;
	struct erofs_image img;
	char dest[PATH_MAX + 16], b1[PATH_MAX + 16], b2[PATH_MAX + 16];
	char b3[PATH_MAX + 16];
	uint8_t *xy = letters("XY"), *yw = letters("YW"), *v = letters("V");
	uint8_t *xu = letters("XU"), *t = letters("T"), *x = letters("X");
	uint8_t md[EROFS_SHA256_LEN];
	char hex[EROFS_SHA256_HEX_LEN + 1];
	int fd;

	(void)state;
	snprintf(dest, sizeof(dest), "%s/sort.img", top);
	snprintf(b1, sizeof(b1), "%s/sort.1", top);
	snprintf(b2, sizeof(b2), "%s/sort.2", top);
	snprintf(b3, sizeof(b3), "%s/sort.3", top);
	erofs_build_opts_init(&o);
	o.chunksize = 4096;
	o.blobdev = b1;
	o.sort_path = true;
	assert_int_equal(erofs_builder_create(&b, dest, &o, &log_), 0);
	sorted_file(b, "z", "f", xy, 2 * 4096);
	sorted_file(b, "a", "g", yw, 2 * 4096);
	sorted_file(b, "", "r", v, 4096);
	/* the first blob that gets a file later removed, then the one kept */
	assert_int_equal(erofs_builder_begin_blob(b, b2), 0);
	sorted_file(b, "a/old", "gone", t, 4096);
	assert_int_equal(erofs_builder_begin_blob(b, b3), 0);
	sorted_file(b, "", "s", xu, 2 * 4096);
	sorted_file(b, "a", "h", x, 4096);
	assert_int_equal(erofs_tree_remove(erofs_builder_tree(b), "a/old"), 0);
	assert_int_equal(erofs_builder_finish(b, &res), 0);
	erofs_builder_destroy(b);

	/* r, s (X, U), a/g (Y, W), a/h (X), z/f (X, Y) */
	expect_blocks(b1, "VXYW");
	expect_blocks(b3, "U");
	assert_int_equal(access(b2, F_OK), -1);
	assert_int_equal(res.manifest.nr_blobs, 2);
	assert_int_equal(res.manifest.blobs[0].size, 4 * 4096);
	assert_int_equal(res.manifest.blobs[1].device_id, 2);
	fd = open(b1, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(erofs_sha256_fd(fd, 4 * 4096, md), 0);
	close(fd);
	erofs_hex(hex, md, EROFS_SHA256_LEN);
	assert_string_equal(res.manifest.blobs[0].sha256, hex);
	erofs_build_result_free(&res);

	assert_int_equal(erofs_image_open(&img, dest, &log_), 0);
	assert_int_equal(img.nr_devices, 2);
	expect_chunk(&img, "r", 0, 1, 0);
	expect_chunk(&img, "s", 0, 1, 1);
	expect_chunk(&img, "s", 1, 2, 0);
	expect_chunk(&img, "a/g", 0, 1, 2);
	expect_chunk(&img, "a/g", 1, 1, 3);
	expect_chunk(&img, "a/h", 0, 1, 1);
	expect_chunk(&img, "z/f", 0, 1, 1);
	expect_chunk(&img, "z/f", 1, 1, 2);
	erofs_image_close(&img);
	free(xy);
	free(yw);
	free(v);
	free(xu);
	free(t);
	free(x);
}

/*
 * Flat files in the bootstrap, streamed out of path order, one of them
 * hard-linked: the data area in path order (the link's data at its first
 * name), and the files read back.
 */
static void test_sort_path_flat(void **state)
{
	struct erofs_build_opts o;
	struct erofs_build_result res;
	struct erofs_builder *b;
	struct erofs_tree *t;
	struct erofs_image img;
	struct erofs_inode *f, *d;
	char dest[PATH_MAX + 16];
	uint8_t *pq = letters("PQ"), *r = letters("R"), *s = letters("S");
	uint8_t back[2 * 4096];
	static const struct {
		const char *path;
		const char *data;
	} want[] = {{"b", "S"}, {"d/a", "R"}, {"d/e/z", "PQ"}, {"y/l", "PQ"}};
	uint32_t addr[4];

	(void)state;
	snprintf(dest, sizeof(dest), "%s/sortflat.img", top);
	erofs_build_opts_init(&o);
	o.no_inline_data = true;
	o.sort_path = true;
	assert_int_equal(erofs_builder_create(&b, dest, &o, &log_), 0);
	t = erofs_builder_tree(b);
	f = sorted_file(b, "y", "l", pq, 2 * 4096);
	sorted_file(b, "d", "a", r, 4096);
	sorted_file(b, "", "b", s, 4096);
	assert_int_equal(erofs_tree_mkdir_p(t, "d/e", 0, &d), 0);
	assert_int_equal(erofs_dir_add(t, d, "z", f), 0);
	assert_int_equal(erofs_builder_finish(b, &res), 0);
	erofs_builder_destroy(b);
	erofs_build_result_free(&res);

	assert_int_equal(erofs_image_open(&img, dest, &log_), 0);
	for (unsigned int i = 0; i < 4; i++) {
		struct erofs_rinode ri;
		size_t len = strlen(want[i].data) * 4096;
		uint8_t *exp = letters(want[i].data);

		assert_true(image_lookup(&img, want[i].path, &ri));
		addr[i] = ri.di.i_u;
		assert_int_equal(erofs_image_read_data(&img, &ri, back, len, 0),
				 0);
		assert_memory_equal(back, exp, len);
		free(exp);
	}
	erofs_image_close(&img);
	/* b, then d's a, then d/e's z (the link), y/l is z */
	assert_int_equal(addr[1], addr[0] + 1);
	assert_int_equal(addr[2], addr[1] + 1);
	assert_int_equal(addr[3], addr[2]);
	free(pq);
	free(r);
	free(s);
}

/* lookup, mkdir -p and removing a subtree */
static void test_tree_paths(void **state)
{
	struct erofs_log quiet = {.prog = "t", .level = -1};
	struct erofs_tree t;
	struct erofs_inode *d, *f;

	(void)state;
	erofs_tree_init(&t, &quiet);
	assert_int_equal(erofs_tree_mkdir_p(&t, "a/b/c", 5, &d), 0);
	assert_ptr_equal(erofs_tree_lookup(&t, "/a//b/c/"), d);
	assert_int_equal(d->mtime, 5);
	f = erofs_tree_new_inode(&t);
	f->mode = S_IFREG | 0644;
	assert_int_equal(erofs_dir_add(&t, d, "f", f), 0);
	assert_ptr_equal(erofs_tree_lookup(&t, "a/b/c/f"), f);
	assert_null(erofs_tree_lookup(&t, "a/b/c/f/g"));
	assert_int_equal(errno, ENOTDIR);
	assert_null(erofs_tree_lookup(&t, "a/x"));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(erofs_tree_mkdir_p(&t, "a/b/c/f/g", 0, &d), -ENOTDIR);
	assert_int_equal(erofs_tree_remove(&t, "a/b"), 0);
	assert_null(erofs_tree_lookup(&t, "a/b/c/f"));
	assert_int_equal(f->nlink, 0);
	assert_non_null(erofs_tree_lookup(&t, "a"));
	assert_int_equal(erofs_tree_remove(&t, "a/b"), -ENOENT);
	assert_int_equal(erofs_tree_remove(&t, "/"), -EINVAL);
	erofs_tree_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree_paths),
	    cmocka_unit_test(test_stream_flat),
	    cmocka_unit_test(test_stream_wrong_length),
	    cmocka_unit_test(test_blobs),
	    cmocka_unit_test(test_sort_path_blobs),
	    cmocka_unit_test(test_sort_path_flat),
	    cmocka_unit_test(test_outputs_coincide),
	    cmocka_unit_test(test_source_is_output),
	    cmocka_unit_test(test_swap_symlink),
	    cmocka_unit_test(test_shrink_flat),
	    cmocka_unit_test(test_shrink_chunked),
	    cmocka_unit_test(test_shrink_short_read),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

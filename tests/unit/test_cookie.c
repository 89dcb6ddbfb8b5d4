// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the cookie layout: docs/kernel-facts.md §28's example, the
 * three public paths, all four file-name encodings, key and volume-key
 * length limits, name validation, xattrs, the manifest table, and a
 * seed/check round trip in a scratch directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "erofs/cookie.h"
#include "erofs/log.h"

static struct erofs_log quiet_log = {.prog = "test", .level = -1};

/*
 * Reference fscache_hash written from docs/kernel-facts.md §25, word by word
 * with explicit byte assembly, to cross-check the library on many keys.
 */
static uint32_t ref_hash(uint32_t salt, const uint8_t *d, size_t len)
{
	uint32_t x = 0, y = salt;
	size_t i;

	for (i = 0; i + 4 <= len; i += 4) {
		uint32_t a = (uint32_t)d[i] + ((uint32_t)d[i + 1] << 8) +
			     ((uint32_t)d[i + 2] << 16) +
			     ((uint32_t)d[i + 3] << 24);

		x ^= a;
		y ^= x;
		x = (x << 7) | (x >> 25);
		x += y;
		y = (y << 20) | (y >> 12);
		y = y * 9u;
	}
	x = x * 0x61C88647u;
	return (y ^ x) * 0x61C88647u;
}

static void test_spec_worked_example(void **state)
{
	struct erofs_cookie_volume vol;
	struct erofs_cookie ck;
	const uint8_t vbuf[12] = {0x0a, 'e', 'r', 'o', 'f', 's',
				  ',',	't', 'e', 's', 't', 0};

	assert_int_equal(
	    erofs_cookie_volume_init(&vol, "test", NULL, &quiet_log), 0);
	assert_string_equal(vol.key, "erofs,test");
	assert_string_equal(vol.dir, "Ierofs,test");
	assert_string_equal(vol.mount_options, "fsid=test");
	/* the 12-byte volume key buffer of docs/kernel-facts.md §28 */
	assert_int_equal(erofs_fscache_hash(0, vbuf, sizeof(vbuf)),
			 0x6c5d5056u);
	assert_int_equal(vol.hash, 0x6c5d5056u);
	assert_int_equal(
	    erofs_cookie_init(&ck, &vol, 0, "test.img", 8, 4096, &quiet_log),
	    0);
	assert_int_equal(ck.hash, 0xa9e00f73u);
	assert_string_equal(ck.fanout, "@73");
	assert_string_equal(ck.name, "Dtest.img");
	assert_string_equal(ck.path, "cache/Ierofs,test/@73/Dtest.img");
}

static void check_public_path(const char *fsid, const char *key,
			      const char *fanout)
{
	struct erofs_cookie_volume vol;
	struct erofs_cookie ck;
	char want[512];

	assert_int_equal(erofs_cookie_volume_init(&vol, fsid, NULL, &quiet_log),
			 0);
	assert_int_equal(erofs_cookie_init(&ck, &vol, 1, key, strlen(key),
					   EROFS_COOKIE_SIZE_UNKNOWN,
					   &quiet_log),
			 0);
	assert_string_equal(ck.fanout, fanout);
	snprintf(want, sizeof(want), "cache/Ierofs,%s/%s/D%s", fsid, fanout,
		 key);
	assert_string_equal(ck.path, want);
}

static void test_public_paths(void **state)
{
	check_public_path("styxtest9dbeb96981e633e3", "_slab_0", "@0e");
	check_public_path("styxtestbf4a1ed3c4d64dd8", "_slab_0", "@1d");
	check_public_path("styxtest9dbeb96981e633e3", "_slabimg_0", "@fb");
}

static void test_encodings(void **state)
{
	const uint8_t s_key[12] = {0, 0, 0x1a, 0x2b, 0, 0, 0, 0, 0, 0, 0, 0xff};
	const uint8_t t_key[12] = {0xff, 0, 0, 0, 0, 0, 0, 0, 0x2b, 0x1a, 0, 0};
	char out[EROFS_COOKIE_NAME_MAX + 1];

	assert_int_equal(erofs_cookie_cook_key("abc~!.", 6, out), 7);
	assert_string_equal(out, "Dabc~!.");
	/* DEL (127) is still "printable" to cachefiles */
	assert_int_equal(erofs_cookie_cook_key("a\x7f", 2, out), 3);
	assert_int_equal(erofs_cookie_cook_key(s_key, 12, out), 9);
	assert_string_equal(out, "S1a2b,,ff");
	assert_int_equal(erofs_cookie_cook_key(t_key, 12, out), 9);
	assert_string_equal(out, "Tff,,1a2b");
	assert_int_equal(erofs_cookie_cook_key("my blob", 7, out), 14);
	assert_string_equal(out, "E2JB78yNSry100");
	/* '/' and ' ' are not file-name characters: encoded, not 'D' */
	assert_int_equal(erofs_cookie_cook_key("a/b", 3, out) > 0, 1);
	assert_int_not_equal(out[0], 'D');
	assert_int_equal(erofs_cookie_cook_key("a b", 3, out) > 0, 1);
	assert_int_not_equal(out[0], 'D');
}

static void test_key_lengths(void **state)
{
	static const size_t ok_lens[] = {1, 3, 4, 5, 16, 17, 252};
	struct erofs_cookie_volume vol;
	struct erofs_cookie ck;
	uint8_t key[300], padded[300];
	char out[EROFS_COOKIE_NAME_MAX + 1];

	assert_int_equal(
	    erofs_cookie_volume_init(&vol, "lens", NULL, &quiet_log), 0);
	for (size_t i = 0; i < sizeof(ok_lens) / sizeof(ok_lens[0]); i++) {
		size_t n = ok_lens[i];

		for (size_t j = 0; j < n; j++)
			key[j] = 'a' + (j * 7 + n) % 26;
		assert_int_equal(
		    erofs_cookie_init(&ck, &vol, 1, key, n, 1, &quiet_log), 0);
		assert_int_equal(strlen(ck.name), n + 1);
		assert_memory_equal(ck.name + 1, key, n);
		/* the hash covers the key zero-padded to whole words */
		memset(padded, 0, sizeof(padded));
		memcpy(padded, key, n);
		assert_int_equal(ck.hash,
				 ref_hash(vol.hash, padded, (n + 3) & ~3u));
		assert_int_equal(ck.hash, erofs_fscache_hash(vol.hash, padded,
							     (n + 3) & ~3u));
	}
	memset(key, 'k', sizeof(key));
	assert_int_equal(
	    erofs_cookie_init(&ck, &vol, 1, key, 253, 1, &quiet_log), -EINVAL);
	assert_int_equal(erofs_cookie_cook_key(key, 253, out), -EINVAL);
	assert_int_equal(erofs_cookie_init(&ck, &vol, 1, key, 0, 1, &quiet_log),
			 -EINVAL);
	/* non-printable keys: base64 fits NAME_MAX up to 189 bytes */
	memset(key, 1, sizeof(key));
	assert_int_equal(erofs_cookie_cook_key(key, 189, out), 254);
	assert_int_equal(out[0], 'E');
	assert_int_equal(erofs_cookie_cook_key(key, 190, out), -ENAMETOOLONG);
	assert_int_equal(
	    erofs_cookie_init(&ck, &vol, 1, key, 190, 1, &quiet_log),
	    -ENAMETOOLONG);
}

static void test_hash_matches_reference(void **state)
{
	uint8_t buf[256];
	unsigned int seed = 12345;

	for (int round = 0; round < 2000; round++) {
		size_t len = 4 * (1 + round % 63);
		uint32_t salt;

		for (size_t i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			buf[i] = seed >> 16;
		}
		salt = seed ^ (uint32_t)round;
		assert_int_equal(erofs_fscache_hash(salt, buf, len),
				 ref_hash(salt, buf, len));
	}
}

static void test_volume_limits(void **state)
{
	struct erofs_cookie_volume vol;
	char name[300];

	memset(name, 'v', sizeof(name));
	name[248] = '\0';
	assert_int_equal(erofs_cookie_volume_init(&vol, name, NULL, &quiet_log),
			 0);
	assert_int_equal(strlen(vol.key), 254);
	assert_int_equal(strlen(vol.dir), 255);
	name[248] = 'v';
	name[249] = '\0';
	assert_int_equal(erofs_cookie_volume_init(&vol, name, NULL, &quiet_log),
			 -ENAMETOOLONG);
	/* the domain names the volume; the fsid is then only a cookie key */
	assert_int_equal(
	    erofs_cookie_volume_init(&vol, "short", name, &quiet_log),
	    -ENAMETOOLONG);
	name[248] = '\0';
	assert_int_equal(
	    erofs_cookie_volume_init(&vol, "short", name, &quiet_log), 0);
	assert_int_equal(erofs_cookie_volume_init(&vol, "f", "dom", &quiet_log),
			 0);
	assert_string_equal(vol.key, "erofs,dom");
	assert_string_equal(vol.mount_options, "fsid=f,domain_id=dom");
}

static void test_name_rejection(void **state)
{
	struct erofs_cookie_volume vol;
	struct erofs_cookie ck;

	assert_int_equal(
	    erofs_cookie_volume_init(&vol, "a/b", NULL, &quiet_log), -EINVAL);
	assert_int_equal(
	    erofs_cookie_volume_init(&vol, "a,b", NULL, &quiet_log), -EINVAL);
	assert_int_equal(erofs_cookie_volume_init(&vol, "", NULL, &quiet_log),
			 -EINVAL);
	assert_int_equal(
	    erofs_cookie_volume_init(&vol, "ok", "d,x", &quiet_log), -EINVAL);
	assert_int_equal(
	    erofs_cookie_volume_init(&vol, "ok", "d/x", &quiet_log), -EINVAL);
	assert_int_equal(erofs_cookie_volume_init(&vol, "ok", NULL, &quiet_log),
			 0);
	/* an embedded NUL would be cut by the kernel */
	assert_int_equal(
	    erofs_cookie_init(&ck, &vol, 1, "ab\0c", 4, 1, &quiet_log),
	    -EINVAL);
	assert_int_equal(
	    erofs_cookie_check_name("device=", "a,b", 0, &quiet_log), -EINVAL);
}

static void test_xattrs(void **state)
{
	uint8_t x[EROFS_CACHE_DATA_XATTR_SIZE], v[EROFS_CACHE_VOL_XATTR_SIZE];
	const uint8_t want[18] = {0, 0, 0, 0, 0, 0x01, 0x23, 0x45, 0,
				  0, 0, 0, 0, 0, 0,    0,    1,	   0};

	erofs_cookie_data_xattr(0x12345, x);
	assert_memory_equal(x, want, 18);
	memset(v, 0xff, sizeof(v));
	erofs_cookie_volume_xattr(v);
	assert_memory_equal(v, "\0\0\0\0", 4);
	assert_int_equal(erofs_cookie_cache_file_size(0), 0);
	assert_int_equal(erofs_cookie_cache_file_size(1), 4096);
	assert_int_equal(erofs_cookie_cache_file_size(4096), 4096);
	assert_int_equal(erofs_cookie_cache_file_size(4097), 8192);
}

static const char *jstr(struct json_object *o, const char *k)
{
	struct json_object *v;

	assert_true(json_object_object_get_ex(o, k, &v));
	return json_object_get_string(v);
}

static void test_table_json(void **state)
{
	const char *tags[] = {"blobA", "blobB"};
	const uint64_t sizes[] = {1048576, 12345};
	struct json_object *j, *arr, *c, *v;
	struct erofs_cookie_volume vol;
	struct erofs_cookie ck;

	assert_int_equal(erofs_cookie_table_json("img", NULL, 8192, 2, tags,
						 sizes, &j, &quiet_log),
			 0);
	assert_string_equal(jstr(j, "volume_key"), "erofs,img");
	assert_string_equal(jstr(j, "volume_dir"), "Ierofs,img");
	assert_string_equal(jstr(j, "mount_options"), "fsid=img");
	assert_true(json_object_object_get_ex(j, "cookies", &arr));
	assert_int_equal(json_object_array_length(arr), 3);
	erofs_cookie_volume_init(&vol, "img", NULL, &quiet_log);
	for (int i = 0; i < 3; i++) {
		const char *key = i ? tags[i - 1] : "img";
		uint64_t size = i ? sizes[i - 1] : 8192;

		c = json_object_array_get_idx(arr, i);
		assert_true(json_object_object_get_ex(c, "device_id", &v));
		assert_int_equal(json_object_get_int(v), i);
		assert_string_equal(jstr(c, "role"), i ? "blob" : "bootstrap");
		assert_string_equal(jstr(c, "cookie_key"), key);
		assert_true(json_object_object_get_ex(c, "object_size", &v));
		assert_int_equal(json_object_get_uint64(v), size);
		erofs_cookie_init(&ck, &vol, i, key, strlen(key), size,
				  &quiet_log);
		assert_string_equal(jstr(c, "fanout"), ck.fanout);
		assert_string_equal(jstr(c, "cache_path"), ck.path);
	}
	json_object_put(j);

	/* unknown sizes are null; the domain shows in the options */
	assert_int_equal(erofs_cookie_table_json("img", "dom", 1, 1, tags, NULL,
						 &j, &quiet_log),
			 0);
	assert_string_equal(jstr(j, "mount_options"), "fsid=img,domain_id=dom");
	assert_true(json_object_object_get_ex(j, "cookies", &arr));
	c = json_object_array_get_idx(arr, 1);
	assert_true(json_object_object_get_ex(c, "object_size", &v));
	assert_null(v);
	json_object_put(j);

	/* duplicates, a tag equal to the fsid, empty tags */
	{
		const char *dup[] = {"x", "x"};
		const char *same[] = {"img"};
		const char *empty[] = {""};

		assert_int_equal(erofs_cookie_table_json("img", NULL, 1, 2, dup,
							 NULL, &j, &quiet_log),
				 -EEXIST);
		assert_null(j);
		assert_int_equal(erofs_cookie_table_json("img", NULL, 1, 1,
							 same, NULL, &j,
							 &quiet_log),
				 -EEXIST);
		assert_int_equal(erofs_cookie_table_json("img", NULL, 1, 1,
							 empty, NULL, &j,
							 &quiet_log),
				 -EINVAL);
	}
}

static int write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

static void test_seed_and_check(void **state)
{
	char tmpl[] = "/tmp/test_cookie.XXXXXX";
	char *dir = mkdtemp(tmpl), cache[256], src0[256], src1[256], p[1024];
	const char *tags[] = {"blob1"};
	uint64_t sizes[1] = {5000};
	struct erofs_cookie_table t;
	struct erofs_cache_report rep;
	const char *srcs[2] = {src0, src1};
	uint8_t data[5000], back[8192], x[32];
	struct stat st;

	assert_non_null(dir);
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = i * 31 + 7;
	snprintf(cache, sizeof(cache), "%s/cache-root", dir);
	snprintf(src0, sizeof(src0), "%s/boot", dir);
	snprintf(src1, sizeof(src1), "%s/blob1", dir);
	assert_int_equal(write_file(src0, data, 3000), 0);
	assert_int_equal(write_file(src1, data, 5000), 0);
	assert_int_equal(erofs_cookie_table_build(&t, "fs", NULL, 3000, 1, tags,
						  sizes, &quiet_log),
			 0);
	/* nothing there yet */
	assert_int_equal(mkdir(cache, 0700), 0);
	assert_int_equal(erofs_cache_check(cache, &t, &rep, &quiet_log), 0);
	assert_false(rep.complete);
	assert_false(rep.st[0].exists);
	assert_int_equal(rep.st[1].needed, 8192);
	erofs_cache_report_free(&rep);

	if (erofs_cache_seed(cache, &t, srcs, &quiet_log)) {
		/* only a filesystem without user xattrs may refuse */
		assert_int_equal(setxattr(cache, "user.x", "1", 1, 0), -1);
		skip();
	}
	snprintf(p, sizeof(p), "%s/%s", cache, t.cookies[1].path);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_size, 8192);
	assert_int_equal(getxattr(p, EROFS_CACHE_XATTR, x, sizeof(x)), 18);
	assert_int_equal(x[7], 5000 & 0xff);
	{
		int fd = open(p, O_RDONLY);

		assert_true(fd >= 0);
		assert_int_equal(read(fd, back, sizeof(back)), 8192);
		close(fd);
		assert_memory_equal(back, data, 5000);
		for (int i = 5000; i < 8192; i++)
			assert_int_equal(back[i], 0);
	}
	for (int i = 0; i < 256; i++) {
		snprintf(p, sizeof(p), "%s/cache/%s/@%02x", cache, t.vol.dir,
			 i);
		assert_int_equal(stat(p, &st), 0);
		assert_true(S_ISDIR(st.st_mode));
	}
	assert_int_equal(erofs_cache_check(cache, &t, &rep, &quiet_log), 0);
	assert_true(rep.complete);
	assert_int_equal(rep.st[0].present, 4096);
	assert_int_equal(rep.st[1].present, 8192);
	erofs_cache_report_free(&rep);

	/* a hole in the blob: incomplete, and the count drops by a block */
	snprintf(p, sizeof(p), "%s/%s", cache, t.cookies[1].path);
	{
		int fd = open(p, O_RDWR);

		assert_true(fd >= 0);
		if (fallocate(fd, 0x02 | 0x01, 4096, 4096) < 0) {
			close(fd);
			skip();
		}
		close(fd);
	}
	assert_int_equal(erofs_cache_check(cache, &t, &rep, &quiet_log), 0);
	assert_false(rep.complete);
	assert_int_equal(rep.st[1].present, 4096);
	assert_true(rep.st[0].complete);
	erofs_cache_report_free(&rep);

	/* a different copen size makes the xattr stale */
	t.cookies[0].object_size = 2999;
	assert_int_equal(erofs_cache_check(cache, &t, &rep, &quiet_log), 0);
	assert_int_equal(rep.st[0].xattr, EROFS_CACHE_XATTR_SIZE_MISMATCH);
	erofs_cache_report_free(&rep);
	erofs_cookie_table_free(&t);
	snprintf(p, sizeof(p), "rm -rf '%s'", dir);
	assert_int_equal(system(p), 0);
}

/* a scratch tree: dir/, dir/cache-root, dir/outside, boot and blob1 */
struct seedenv {
	char tmpl[32];
	char *dir;
	char cache[256], outside[256], src0[256], src1[256];
	const char *srcs[2];
	struct erofs_cookie_table t;
};

static void seedenv_init(struct seedenv *e, uint64_t blob_size)
{
	const char *tags[] = {"blob1"};
	uint64_t sizes[1] = {blob_size};
	static uint8_t data[16384];

	snprintf(e->tmpl, sizeof(e->tmpl), "/tmp/test_cookie.XXXXXX");
	e->dir = mkdtemp(e->tmpl);
	assert_non_null(e->dir);
	snprintf(e->cache, sizeof(e->cache), "%s/cache-root", e->dir);
	snprintf(e->outside, sizeof(e->outside), "%s/outside", e->dir);
	snprintf(e->src0, sizeof(e->src0), "%s/boot", e->dir);
	snprintf(e->src1, sizeof(e->src1), "%s/blob1", e->dir);
	e->srcs[0] = e->src0;
	e->srcs[1] = e->src1;
	memset(data, 0x5a, sizeof(data));
	assert_int_equal(write_file(e->src0, data, 3000), 0);
	assert_true(blob_size <= sizeof(data));
	assert_int_equal(write_file(e->src1, data, blob_size), 0);
	assert_int_equal(mkdir(e->outside, 0700), 0);
	assert_int_equal(erofs_cookie_table_build(&e->t, "fs", NULL, 3000, 1,
						  tags, sizes, &quiet_log),
			 0);
}

static void seedenv_free(struct seedenv *e)
{
	char cmd[320];

	erofs_cookie_table_free(&e->t);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", e->dir);
	assert_int_equal(system(cmd), 0);
}

static int dir_entries(const char *path)
{
	char cmd[320];
	FILE *f;
	int n = -1;

	snprintf(cmd, sizeof(cmd), "find '%s' -mindepth 1 | wc -l", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_int_equal(fscanf(f, "%d", &n), 1);
	pclose(f);
	return n;
}

/* what a log into @f said since the last call, to check the reason given */
static char last_msg[4096];

static void take_msgs(FILE *f)
{
	size_t n;

	fflush(f);
	rewind(f);
	n = fread(last_msg, 1, sizeof(last_msg) - 1, f);
	last_msg[n] = '\0';
	assert_int_equal(ftruncate(fileno(f), 0), 0);
	rewind(f);
}

static void test_seed_refuses_symlinks(void **state)
{
	FILE *mf = tmpfile();
	struct erofs_log klog = {
	    .prog = "test", .level = EROFS_LOG_ERR, .out = mf};
	struct erofs_cache_report rep;
	struct seedenv e;
	char p[1024];

	/* a symlinked fan-out directory pointing outside the cache */
	seedenv_init(&e, 5000);
	if (erofs_cache_seed(e.cache, &e.t, e.srcs, &quiet_log)) {
		assert_int_equal(setxattr(e.dir, "user.x", "1", 1, 0), -1);
		seedenv_free(&e);
		skip();
	}
	snprintf(p, sizeof(p), "rm -rf '%s/cache/%s/%s'", e.cache, e.t.vol.dir,
		 e.t.cookies[1].fanout);
	assert_int_equal(system(p), 0);
	snprintf(p, sizeof(p), "%s/cache/%s/%s", e.cache, e.t.vol.dir,
		 e.t.cookies[1].fanout);
	assert_int_equal(symlink(e.outside, p), 0);
	assert_non_null(mf);
	take_msgs(mf);
	assert_int_equal(erofs_cache_seed(e.cache, &e.t, e.srcs, &klog),
			 -ELOOP);
	take_msgs(mf);
	assert_non_null(strstr(last_msg, "symbolic link"));
	assert_non_null(strstr(last_msg, e.t.cookies[1].fanout));
	assert_int_equal(dir_entries(e.outside), 0);
	/* check does not look through it either */
	assert_int_equal(erofs_cache_check(e.cache, &e.t, &rep, &quiet_log),
			 -ELOOP);
	seedenv_free(&e);

	/* a symlinked volume directory: refused as a symlink */
	seedenv_init(&e, 5000);
	snprintf(p, sizeof(p), "%s/cache", e.cache);
	assert_int_equal(mkdir(e.cache, 0700), 0);
	assert_int_equal(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/cache/%s", e.cache, e.t.vol.dir);
	assert_int_equal(symlink(e.outside, p), 0);
	assert_int_equal(erofs_cache_seed(e.cache, &e.t, e.srcs, &klog),
			 -ELOOP);
	take_msgs(mf);
	assert_non_null(strstr(last_msg, "symbolic link"));
	assert_null(strstr(last_msg, "xattr"));
	assert_int_equal(dir_entries(e.outside), 0);
	seedenv_free(&e);
	fclose(mf);
}

static void test_seed_refuses_fifo(void **state)
{
	struct erofs_cache_report rep;
	struct seedenv e;

	seedenv_init(&e, 5000);
	assert_int_equal(unlink(e.src1), 0);
	assert_int_equal(mkfifo(e.src1, 0600), 0);
	/* O_NONBLOCK: refused at once, not blocked in open() */
	assert_int_equal(erofs_cache_seed(e.cache, &e.t, e.srcs, &quiet_log),
			 -EINVAL);
	assert_int_equal(erofs_cache_check(e.cache, &e.t, &rep, &quiet_log), 0);
	assert_false(rep.complete);
	erofs_cache_report_free(&rep);
	seedenv_free(&e);
}

static void test_device_table_size(void **state)
{
	struct erofs_cache_report rep;
	struct seedenv e;
	char p[1024];

	/* the device table says 4 blocks of 4096: 100 bytes contradict it */
	seedenv_init(&e, 100);
	e.t.blksz = 4096;
	e.t.cookies[1].device_blocks = 4;
	assert_false(erofs_cookie_size_fits(&e.t, &e.t.cookies[1], 100));
	assert_false(erofs_cookie_size_fits(&e.t, &e.t.cookies[1], 12288));
	assert_true(erofs_cookie_size_fits(&e.t, &e.t.cookies[1], 12289));
	assert_true(erofs_cookie_size_fits(&e.t, &e.t.cookies[1], 16384));
	assert_false(erofs_cookie_size_fits(&e.t, &e.t.cookies[1], 16385));
	assert_int_equal(erofs_cache_seed(e.cache, &e.t, e.srcs, &quiet_log),
			 -EINVAL);
	snprintf(p, sizeof(p), "%s/%s", e.cache, e.t.cookies[1].path);
	assert_int_equal(access(p, F_OK), -1);

	/* seeded while nothing was known, checked against the table */
	e.t.cookies[1].device_blocks = 0;
	if (erofs_cache_seed(e.cache, &e.t, e.srcs, &quiet_log)) {
		seedenv_free(&e);
		skip();
	}
	e.t.cookies[1].object_size = EROFS_COOKIE_SIZE_UNKNOWN;
	assert_int_equal(erofs_cache_check(e.cache, &e.t, &rep, &quiet_log), 0);
	assert_true(rep.complete);
	erofs_cache_report_free(&rep);
	e.t.cookies[1].device_blocks = 4;
	assert_int_equal(erofs_cache_check(e.cache, &e.t, &rep, &quiet_log), 0);
	assert_false(rep.complete);
	assert_int_equal(rep.st[1].xattr, EROFS_CACHE_XATTR_SIZE_MISMATCH);
	erofs_cache_report_free(&rep);
	seedenv_free(&e);
}

static void test_big_table(void **state)
{
	enum { N = 65535 };
	static char names[N][16];
	static const char *tags[N];
	FILE *mf = tmpfile();
	struct erofs_log klog = {
	    .prog = "test", .level = EROFS_LOG_ERR, .out = mf};
	struct erofs_cookie_table t;

	assert_non_null(mf);
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "blob%d", i);
		tags[i] = names[i];
	}
	/* every slot a device table holds: built, no quadratic check */
	assert_int_equal(erofs_cookie_table_build(&t, "fs", NULL, 4096, N, tags,
						  NULL, &quiet_log),
			 0);
	assert_int_equal(t.nr, N + 1);
	assert_string_equal((const char *)t.cookies[N].key, "blob65534");
	erofs_cookie_table_free(&t);
	/* three equal keys: the first later device is named */
	tags[50000] = "blob7";
	tags[30000] = "blob7";
	take_msgs(mf);
	assert_int_equal(erofs_cookie_table_build(&t, "fs", NULL, 4096, N, tags,
						  NULL, &klog),
			 -EEXIST);
	take_msgs(mf);
	assert_non_null(strstr(last_msg, "device 30001: cookie key \"blob7\" "
					 "already used by device 8"));
	fclose(mf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec_worked_example),
	    cmocka_unit_test(test_public_paths),
	    cmocka_unit_test(test_encodings),
	    cmocka_unit_test(test_key_lengths),
	    cmocka_unit_test(test_hash_matches_reference),
	    cmocka_unit_test(test_volume_limits),
	    cmocka_unit_test(test_name_rejection),
	    cmocka_unit_test(test_xattrs),
	    cmocka_unit_test(test_table_json),
	    cmocka_unit_test(test_seed_and_check),
	    cmocka_unit_test(test_seed_refuses_symlinks),
	    cmocka_unit_test(test_seed_refuses_fifo),
	    cmocka_unit_test(test_device_table_size),
	    cmocka_unit_test(test_big_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

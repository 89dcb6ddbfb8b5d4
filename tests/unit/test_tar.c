// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Archive importer: member path normalisation, the kernel's POSIX ACL
 * xattr encoding, message escaping, and whole archives (written here,
 * ustar with pax records) imported into a tree: layer semantics (--aufs
 * whiteouts, --ovlfs-strip, whiteouts applied over an earlier source),
 * limits of device numbers, raw ACL values, repeated xattrs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "liberofs_import.h"
#include "erofs/ondisk.h"
#include "erofs/log.h"

static void expect_path(const char *in, const char *want)
{
	char *p = strdup(in);

	assert_non_null(p);
	assert_int_equal(erofs_tar_path_normalize(p), 0);
	assert_string_equal(p, want);
	free(p);
}

static void expect_path_err(const char *in, int err)
{
	char *p = strdup(in);

	assert_non_null(p);
	assert_int_equal(erofs_tar_path_normalize(p), err);
	free(p);
}

static void test_normalize(void **state)
{
	(void)state;
	expect_path("a", "a");
	expect_path("./a", "a");
	expect_path(".//a//b///c", "a/b/c");
	expect_path("./a/./b/.", "a/b");
	expect_path("a/b/", "a/b");
	expect_path("././x", "x");
	expect_path(".//.//y/", "y");
	/* the root, however it is spelt */
	expect_path("./", "");
	expect_path(".", "");
	expect_path("/", "");
	expect_path("//./", "");
	/* dots inside names are names */
	expect_path("...", "...");
	expect_path(".a/..b/b..", ".a/..b/b..");
	expect_path("a/.hidden", "a/.hidden");
	/* bytes other than '/' pass unchanged */
	expect_path("caf\xc3\xa9/bad-\xff\xfe/new\nline",
		    "caf\xc3\xa9/bad-\xff\xfe/new\nline");
}

static void test_normalize_reject(void **state)
{
	char name[300];

	(void)state;
	expect_path_err("..", -EINVAL);
	expect_path_err("../x", -EINVAL);
	expect_path_err("a/../b", -EINVAL);
	expect_path_err("a/..", -EINVAL);
	expect_path_err("/../etc/passwd", -EINVAL);
	expect_path_err("/a/b", -EXDEV);
	expect_path_err("///a//b///c", -EXDEV);
	expect_path_err("/./etc", -EXDEV);
	expect_path_err("./a/./../../b", -EINVAL);
	/* 255 bytes is the limit of one component */
	memset(name, 'n', 255);
	strcpy(name + 255, "/x");
	expect_path(name, name);
	memset(name, 'n', 256);
	strcpy(name + 256, "/x");
	expect_path_err(name, -ENAMETOOLONG);
	memset(name, 'n', 256);
	name[256] = '\0';
	expect_path_err(name, -ENAMETOOLONG);
}

/*
 * getfattr -e hex -n system.posix_acl_access on a file after
 * "chmod 644 f; setfacl -m u:1234:rwx,g:55:r f" (Linux 6.18, ext4):
 * user::rw- user:1234:rwx group::r-- group:55:r-- mask::rwx other::r--
 */
static const char real_access_hex[] =
    "0200000001000600ffffffff02000700d204000004000400ffffffff"
    "080004003700000010000700ffffffff20000400ffffffff";

static void unhex(const char *hex, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned int v;

		assert_int_equal(sscanf(hex + 2 * i, "%2x", &v), 1);
		out[i] = v;
	}
}

static void test_acl_real_file(void **state)
{
	/* in libarchive's order, not the kernel's */
	struct erofs_acl_entry e[] = {
	    {EROFS_ACL_OTHER, 4, 0},
	    {EROFS_ACL_GROUP, 4, 55},
	    {EROFS_ACL_USER, 7, 1234},
	    {EROFS_ACL_MASK, 7, 12345}, /* id ignored */
	    {EROFS_ACL_GROUP_OBJ, 4, 0},
	    {EROFS_ACL_USER_OBJ, 6, 0},
	};
	uint8_t out[64], want[52];

	(void)state;
	unhex(real_access_hex, want, sizeof(want));
	assert_int_equal(erofs_acl_encode(e, 6, out, sizeof(out)), 52);
	assert_memory_equal(out, want, sizeof(want));
}

static void test_acl_sorting(void **state)
{
	struct erofs_acl_entry e[] = {
	    {EROFS_ACL_GROUP, 1, 70000}, {EROFS_ACL_USER, 2, 4000000000u},
	    {EROFS_ACL_USER, 4, 5},	 {EROFS_ACL_OTHER, 0, 0},
	    {EROFS_ACL_GROUP, 3, 9},	 {EROFS_ACL_MASK, 7, 0},
	    {EROFS_ACL_USER_OBJ, 7, 0},	 {EROFS_ACL_GROUP_OBJ, 5, 0},
	};
	static const struct {
		uint16_t tag, perm;
		uint32_t id;
	} want[] = {
	    {0x01, 7, 0xffffffff},  {0x02, 4, 5},
	    {0x02, 2, 4000000000u}, {0x04, 5, 0xffffffff},
	    {0x08, 3, 9},	    {0x08, 1, 70000},
	    {0x10, 7, 0xffffffff},  {0x20, 0, 0xffffffff},
	};
	uint8_t out[4 + 8 * 8];

	(void)state;
	assert_int_equal(erofs_acl_encode(e, 8, out, sizeof(out)),
			 (int)sizeof(out));
	assert_int_equal(erofs_get_le32(out), 2);
	for (unsigned int i = 0; i < 8; i++) {
		assert_int_equal(erofs_get_le16(out + 4 + 8 * i), want[i].tag);
		assert_int_equal(erofs_get_le16(out + 6 + 8 * i), want[i].perm);
		assert_int_equal(erofs_get_le32(out + 8 + 8 * i), want[i].id);
	}
}

static void test_acl_minimal(void **state)
{
	/* a default ACL of the three base entries is valid */
	struct erofs_acl_entry e[] = {
	    {EROFS_ACL_GROUP_OBJ, 5, 0},
	    {EROFS_ACL_OTHER, 5, 0},
	    {EROFS_ACL_USER_OBJ, 7, 0},
	};
	uint8_t out[28];
	static const uint8_t want[28] = {
	    2,	  0,	0, 0, 1,    0,	  7,	0,    0xff, 0xff,
	    0xff, 0xff, 4, 0, 5,    0,	  0xff, 0xff, 0xff, 0xff,
	    0x20, 0,	5, 0, 0xff, 0xff, 0xff, 0xff,
	};

	(void)state;
	assert_int_equal(erofs_acl_encode(e, 3, out, sizeof(out)), 28);
	assert_memory_equal(out, want, sizeof(want));
}

static void test_acl_invalid(void **state)
{
	uint8_t out[256];

	(void)state;
	{ /* named entry without a mask */
		struct erofs_acl_entry e[] = {
		    {EROFS_ACL_USER_OBJ, 6, 0},
		    {EROFS_ACL_USER, 6, 1},
		    {EROFS_ACL_GROUP_OBJ, 4, 0},
		    {EROFS_ACL_OTHER, 4, 0},
		};
		assert_int_equal(erofs_acl_encode(e, 4, out, sizeof(out)),
				 -EINVAL);
	}
	{ /* no owner entry */
		struct erofs_acl_entry e[] = {
		    {EROFS_ACL_GROUP_OBJ, 4, 0},
		    {EROFS_ACL_OTHER, 4, 0},
		};
		assert_int_equal(erofs_acl_encode(e, 2, out, sizeof(out)),
				 -EINVAL);
	}
	{ /* two other entries */
		struct erofs_acl_entry e[] = {
		    {EROFS_ACL_USER_OBJ, 6, 0},
		    {EROFS_ACL_GROUP_OBJ, 4, 0},
		    {EROFS_ACL_OTHER, 4, 0},
		    {EROFS_ACL_OTHER, 0, 0},
		};
		assert_int_equal(erofs_acl_encode(e, 4, out, sizeof(out)),
				 -EINVAL);
	}
	{ /* the same user twice */
		struct erofs_acl_entry e[] = {
		    {EROFS_ACL_USER_OBJ, 6, 0}, {EROFS_ACL_USER, 6, 7},
		    {EROFS_ACL_USER, 4, 7},	{EROFS_ACL_GROUP_OBJ, 4, 0},
		    {EROFS_ACL_MASK, 6, 0},	{EROFS_ACL_OTHER, 4, 0},
		};
		assert_int_equal(erofs_acl_encode(e, 6, out, sizeof(out)),
				 -EINVAL);
	}
	{ /* permission bits beyond rwx, an unknown tag */
		struct erofs_acl_entry e[] = {
		    {EROFS_ACL_USER_OBJ, 8, 0},
		    {EROFS_ACL_GROUP_OBJ, 4, 0},
		    {EROFS_ACL_OTHER, 4, 0},
		};
		assert_int_equal(erofs_acl_encode(e, 3, out, sizeof(out)),
				 -EINVAL);
		e[0].perm = 6;
		e[1].tag = 0x40;
		assert_int_equal(erofs_acl_encode(e, 3, out, sizeof(out)),
				 -EINVAL);
	}
	{ /* output too small */
		struct erofs_acl_entry e[] = {
		    {EROFS_ACL_USER_OBJ, 6, 0},
		    {EROFS_ACL_GROUP_OBJ, 4, 0},
		    {EROFS_ACL_OTHER, 4, 0},
		};
		assert_int_equal(erofs_acl_encode(e, 3, out, 27), -ENOSPC);
	}
}

/* ------------------------------------------------------- archive import */
struct tw {
	int fd;
};

static void tw_put(struct tw *w, const void *p, size_t n)
{
	assert_int_equal(write(w->fd, p, n), (ssize_t)n);
}

static void tw_header(struct tw *w, const char *name, char type, uint64_t size,
		      unsigned int mode, unsigned int major, unsigned int minor,
		      const char *link)
{
	uint8_t h[512] = {0};
	unsigned int sum = 0;

	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", mode);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	snprintf((char *)h + 136, 12, "%011o", 1000);
	h[156] = type;
	if (link)
		snprintf((char *)h + 157, 100, "%s", link);
	memcpy(h + 257,
	       "ustar\0"
	       "00",
	       8);
	snprintf((char *)h + 329, 8, "%07o", major);
	snprintf((char *)h + 337, 8, "%07o", minor);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	tw_put(w, h, 512);
}

static void tw_data(struct tw *w, const void *p, size_t n)
{
	static const uint8_t zeros[512];

	tw_put(w, p, n);
	if (n % 512)
		tw_put(w, zeros, 512 - n % 512);
}

/* a pax 'x' header of @recs ("key=value" strings) for the next entry */
static void tw_pax(struct tw *w, const char *const *recs, unsigned int nr)
{
	char body[4096];
	size_t len = 0;

	for (unsigned int i = 0; i < nr; i++) {
		size_t r = strlen(recs[i]) + 2, n = r + 1;

		while (n != r + snprintf(NULL, 0, "%zu", n))
			n = r + snprintf(NULL, 0, "%zu", n);
		len += snprintf(body + len, sizeof(body) - len, "%zu %s\n", n,
				recs[i]);
	}
	tw_header(w, "PaxHeader", 'x', len, 0644, 0, 0, NULL);
	tw_data(w, body, len);
}

static void tw_file(struct tw *w, const char *name, const char *data)
{
	tw_header(w, name, '0', strlen(data), 0644, 0, 0, NULL);
	tw_data(w, data, strlen(data));
}

static void tw_end(struct tw *w)
{
	static const uint8_t zeros[1024];

	tw_put(w, zeros, sizeof(zeros));
	assert_int_equal(lseek(w->fd, 0, SEEK_SET), 0);
}

static void tw_begin(struct tw *w)
{
	w->fd = memfd_create("tar", 0);
	assert_true(w->fd >= 0);
}

struct imp {
	struct erofs_log log;
	struct erofs_tree t;
	struct erofs_xattr_table xt;
	int spool;
};

static void imp_init(struct imp *m)
{
	erofs_log_init(&m->log, "test_tar");
	m->log.level = -1; /* the failures are expected */
	erofs_tree_init(&m->t, &m->log);
	erofs_xattr_table_init(&m->xt, &m->log);
	m->spool = memfd_create("spool", 0);
	assert_true(m->spool >= 0);
}

static void imp_free(struct imp *m)
{
	erofs_xattr_table_free(&m->xt);
	erofs_tree_free(&m->t);
	close(m->spool);
}

static int imp_run(struct imp *m, struct tw *w, enum erofs_whiteout_mode wh,
		   bool strip)
{
	struct erofs_import_tar_opts o = {
	    .fd = w->fd,
	    .whiteouts = wh,
	    .ovlfs_strip = strip,
	};
	int err = erofs_import_tar(&m->t, &m->xt, "test.tar", m->spool, &o);

	close(w->fd);
	return err;
}

/* the inode at @path ("a/b") of the tree, or NULL */
static struct erofs_inode *at(struct imp *m, const char *path)
{
	struct erofs_inode *dir = m->t.root;
	char *p = strdup(path), *save = NULL;

	for (char *tok = strtok_r(p, "/", &save); tok && dir;
	     tok = strtok_r(NULL, "/", &save)) {
		struct erofs_inode *next = NULL;

		for (unsigned int i = 0; i < dir->nr_children; i++)
			if (!strcmp(dir->children[i].name, tok))
				next = dir->children[i].inode;
		dir = next;
	}
	free(p);
	return dir;
}

static bool has_xattr(struct erofs_inode *inode, uint8_t index,
		      const char *name, const char *value)
{
	for (unsigned int i = 0; i < inode->nr_xattrs; i++) {
		struct erofs_xattr_item *it = inode->xattrs[i];

		if (it->index == index && !strcmp(it->name, name) &&
		    it->value_len == strlen(value) &&
		    !memcmp(it->value, value, it->value_len))
			return true;
	}
	return false;
}

static void layer_aufs(struct tw *w)
{
	tw_begin(w);
	tw_header(w, "d/", '5', 0, 0755, 0, 0, NULL);
	tw_file(w, "d/keep", "k");
	tw_header(w, "d/.wh.gone", '0', 0, 0644, 0, 0, NULL);
	tw_header(w, "o/", '5', 0, 0755, 0, 0, NULL);
	tw_header(w, "o/.wh..wh..opq", '0', 0, 0644, 0, 0, NULL);
	tw_file(w, "o/new", "n");
	tw_end(w);
}

static void test_whiteouts_overlay(void **state)
{
	struct imp m;
	struct tw w;
	struct erofs_inode *wh;

	(void)state;
	imp_init(&m);
	layer_aufs(&w);
	assert_int_equal(imp_run(&m, &w, EROFS_WHITEOUT_OVERLAY, false), 0);
	wh = at(&m, "d/gone");
	assert_non_null(wh);
	assert_true(S_ISCHR(wh->mode));
	assert_int_equal(wh->rdev_major, 0);
	assert_int_equal(wh->rdev_minor, 0);
	assert_null(at(&m, "d/.wh.gone"));
	assert_null(at(&m, "o/.wh..wh..opq"));
	assert_non_null(at(&m, "o/new"));
	/* trusted.* is index 4 in EROFS */
	assert_true(has_xattr(at(&m, "o"), 4, "overlay.opaque", "y"));
	assert_true(has_xattr(at(&m, "d"), 4, "overlay.origin", ""));
	imp_free(&m);

	/* --ovlfs-strip: neither whiteouts nor overlay xattrs */
	imp_init(&m);
	layer_aufs(&w);
	assert_int_equal(imp_run(&m, &w, EROFS_WHITEOUT_OVERLAY, true), 0);
	assert_null(at(&m, "d/gone"));
	assert_int_equal(at(&m, "o")->nr_xattrs, 0);
	assert_int_equal(at(&m, "d")->nr_xattrs, 0);
	imp_free(&m);

	/* plain files when layer semantics are off */
	imp_init(&m);
	layer_aufs(&w);
	assert_int_equal(imp_run(&m, &w, EROFS_WHITEOUT_KEEP, false), 0);
	assert_non_null(at(&m, "d/.wh.gone"));
	assert_non_null(at(&m, "o/.wh..wh..opq"));
	imp_free(&m);
}

static void test_whiteouts_apply(void **state)
{
	struct imp m;
	struct tw w;

	(void)state;
	imp_init(&m);
	tw_begin(&w);
	tw_file(&w, "d/gone", "old");
	tw_file(&w, "d/sub/deep", "old");
	tw_file(&w, "d/stays", "old");
	tw_file(&w, "o/lower1", "old");
	tw_file(&w, "o/lower2/x", "old");
	tw_file(&w, "f", "lower file");
	tw_end(&w);
	assert_int_equal(imp_run(&m, &w, EROFS_WHITEOUT_APPLY, false), 0);

	tw_begin(&w);
	tw_header(&w, "d/.wh.gone", '0', 0, 0644, 0, 0, NULL);
	tw_header(&w, "d/.wh.sub", '0', 0, 0644, 0, 0, NULL);
	tw_file(&w, "o/mine", "upper");
	tw_header(&w, "o/.wh..wh..opq", '0', 0, 0644, 0, 0, NULL);
	tw_file(&w, "o/later", "upper");
	tw_file(&w, "f", "upper file");
	tw_end(&w);
	assert_int_equal(imp_run(&m, &w, EROFS_WHITEOUT_APPLY, false), 0);

	assert_null(at(&m, "d/gone"));
	assert_null(at(&m, "d/sub"));
	assert_null(at(&m, "d/.wh.gone"));
	assert_non_null(at(&m, "d/stays"));
	assert_null(at(&m, "o/lower1"));
	assert_null(at(&m, "o/lower2"));
	assert_non_null(at(&m, "o/mine"));
	assert_non_null(at(&m, "o/later"));
	assert_null(at(&m, "o/.wh..wh..opq"));
	/* replaced, not doubled */
	assert_int_equal(at(&m, "f")->size, strlen("upper file"));
	assert_int_equal(m.t.root->nr_children, 3);
	assert_int_equal(erofs_tree_finalize(&m.t), 0);
	imp_free(&m);
}

static void test_hostile_entries(void **state)
{
	static const char *const dup[] = {
	    "SCHILY.xattr.user.a=one",
	    "SCHILY.xattr.user.a=two",
	};
	static const char *const bigdev[] = {
	    "SCHILY.devmajor=5000",
	    "SCHILY.devminor=3000000",
	};
	static const char *const badacl[] = {
	    "SCHILY.xattr.system.posix_acl_access=garbage",
	};
	struct imp m;
	struct tw w;

	(void)state;
	/* a repeated pax xattr: once, with the last value */
	imp_init(&m);
	tw_begin(&w);
	tw_pax(&w, dup, 2);
	tw_file(&w, "x", "1");
	tw_end(&w);
	assert_int_equal(imp_run(&m, &w, EROFS_WHITEOUT_KEEP, false), 0);
	assert_int_equal(at(&m, "x")->nr_xattrs, 1);
	/* user.* is index 1 */
	assert_true(has_xattr(at(&m, "x"), 1, "a", "two"));
	imp_free(&m);

	/* device numbers beyond 12/20 bits */
	imp_init(&m);
	tw_begin(&w);
	tw_pax(&w, bigdev, 2);
	tw_header(&w, "dev", '3', 0, 0600, 0, 0, NULL);
	tw_end(&w);
	assert_int_equal(imp_run(&m, &w, EROFS_WHITEOUT_KEEP, false),
			 -EOVERFLOW);
	imp_free(&m);

	/* the largest that fits */
	imp_init(&m);
	tw_begin(&w);
	tw_header(&w, "dev", '3', 0, 0600, 4095, 1048575, NULL);
	tw_end(&w);
	assert_int_equal(imp_run(&m, &w, EROFS_WHITEOUT_KEEP, false), 0);
	assert_int_equal(at(&m, "dev")->rdev_major, 4095);
	assert_int_equal(at(&m, "dev")->rdev_minor, 1048575);
	imp_free(&m);

	/* a raw ACL value that is no ACL */
	imp_init(&m);
	tw_begin(&w);
	tw_pax(&w, badacl, 1);
	tw_file(&w, "f", "1");
	tw_end(&w);
	assert_int_equal(imp_run(&m, &w, EROFS_WHITEOUT_KEEP, false), -EINVAL);
	imp_free(&m);

	/* a symlink on the path of a later entry is never followed */
	imp_init(&m);
	tw_begin(&w);
	tw_header(&w, "l", '2', 0, 0777, 0, 0, "/etc");
	tw_file(&w, "l/passwd", "x");
	tw_end(&w);
	assert_int_equal(imp_run(&m, &w, EROFS_WHITEOUT_KEEP, false), -ENOTDIR);
	imp_free(&m);

	/* a hard link to a later entry */
	imp_init(&m);
	tw_begin(&w);
	tw_header(&w, "h", '1', 0, 0644, 0, 0, "later");
	tw_file(&w, "later", "x");
	tw_end(&w);
	assert_int_equal(imp_run(&m, &w, EROFS_WHITEOUT_KEEP, false), -ENOENT);
	imp_free(&m);
}

/* a sink recording what the importer streams */
struct rec {
	char log[4096];
	size_t len;
	uint64_t off[8];
	unsigned int nr_off;
	uint64_t sum;
};

static int rec_begin(void *arg, struct erofs_inode *inode, const char *what)
{
	struct rec *r = arg;

	(void)what;
	r->len += snprintf(r->log + r->len, sizeof(r->log) - r->len, "B%llu ",
			   (unsigned long long)inode->size);
	return 0;
}

static int rec_write(void *arg, const void *buf, size_t len)
{
	struct rec *r = arg;

	for (size_t i = 0; i < len; i++)
		r->sum += ((const uint8_t *)buf)[i];
	r->len +=
	    snprintf(r->log + r->len, sizeof(r->log) - r->len, "W%zu ", len);
	return 0;
}

static int rec_hole(void *arg, uint64_t len)
{
	struct rec *r = arg;

	r->len += snprintf(r->log + r->len, sizeof(r->log) - r->len, "H%llu ",
			   (unsigned long long)len);
	return 0;
}

static int rec_end(void *arg)
{
	struct rec *r = arg;

	r->len += snprintf(r->log + r->len, sizeof(r->log) - r->len, "E ");
	return 0;
}

static int rec_external(void *arg, struct erofs_inode *inode, uint64_t off)
{
	struct rec *r = arg;

	(void)inode;
	if (r->nr_off < 8)
		r->off[r->nr_off++] = off;
	return 0;
}

static void test_sink_stream_and_index(void **state)
{
	static const char *const longname[] = {
	    "path=a/very/long/name/that/needs/a/pax/record",
	};
	struct rec r = {.len = 0};
	struct erofs_tar_sink sk = {
	    rec_begin, rec_write, rec_hole, rec_end, rec_external, NULL, &r,
	};
	struct erofs_import_tar_opts o = {.sink = &sk};
	struct imp m;
	struct tw w;
	uint64_t want[2];
	int err;

	(void)state;
	/* --tar=f: begin, the bytes, end; an empty file streams nothing */
	imp_init(&m);
	tw_begin(&w);
	tw_file(&w, "a", "hello");
	tw_file(&w, "e", "");
	tw_end(&w);
	o.fd = w.fd;
	err = erofs_import_tar(&m.t, &m.xt, "t.tar", -1, &o);
	close(w.fd);
	assert_int_equal(err, 0);
	assert_string_equal(r.log, "B5 W5 E B0 E ");
	assert_int_equal(r.sum, 'h' + 'e' + 'l' + 'l' + 'o');
	imp_free(&m);

	/* --tar=i: where the data lies, pax records and all */
	imp_init(&m);
	tw_begin(&w);
	tw_file(&w, "first", "1234");
	want[0] = 512;
	tw_pax(&w, longname, 1);
	tw_header(&w, "short", '0', 3, 0644, 0, 0, NULL);
	want[1] = lseek(w.fd, 0, SEEK_CUR);
	tw_data(&w, "xyz", 3);
	tw_end(&w);
	r.len = 0;
	r.log[0] = '\0';
	o.fd = w.fd;
	o.tar_mode = EROFS_TAR_INDEX;
	err = erofs_import_tar(&m.t, &m.xt, "t.tar", -1, &o);
	close(w.fd);
	assert_int_equal(err, 0);
	assert_int_equal(r.nr_off, 2);
	assert_int_equal(r.off[0], want[0]);
	assert_int_equal(r.off[1], want[1]);
	assert_string_equal(r.log, "");
	assert_non_null(at(&m, "a/very/long/name/that/needs/a/pax/record"));
	imp_free(&m);
}

static void test_escape(void **state)
{
	char out[32];

	(void)state;
	assert_string_equal(erofs_escape(out, sizeof(out), "plain/name"),
			    "plain/name");
	assert_string_equal(erofs_escape(out, sizeof(out), "a\x1b[31m\nb"),
			    "a\\x1b[31m\\x0ab");
	assert_string_equal(erofs_escape(out, sizeof(out), "q\"\\\x7f"),
			    "q\\\"\\\\\\x7f");
	assert_string_equal(erofs_escape(out, 8, "abcdefghijkl"), "abcd...");
	assert_string_equal(erofs_escape(out, 8, "abcdefg"), "abcdefg");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_normalize),
	    cmocka_unit_test(test_normalize_reject),
	    cmocka_unit_test(test_acl_real_file),
	    cmocka_unit_test(test_acl_sorting),
	    cmocka_unit_test(test_acl_minimal),
	    cmocka_unit_test(test_acl_invalid),
	    cmocka_unit_test(test_whiteouts_overlay),
	    cmocka_unit_test(test_whiteouts_apply),
	    cmocka_unit_test(test_hostile_entries),
	    cmocka_unit_test(test_sink_stream_and_index),
	    cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

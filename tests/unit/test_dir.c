// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Directory writer: global sort order with "." and "..", block splitting,
 * nameoff rules, zero fill.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "liberofs_dir.h"
#include "erofs/ondisk.h"
#include "liberofs_tree.h"

struct fixture {
	struct erofs_tree t;
	struct erofs_inode *dir;
};

static struct erofs_inode *mk(struct erofs_tree *t, uint32_t mode, uint64_t nid)
{
	struct erofs_inode *i = erofs_tree_new_inode(t);

	assert_non_null(i);
	i->mode = mode;
	i->nid = nid;
	return i;
}

static void setup_dir(struct fixture *f, unsigned int n, unsigned int namelen)
{
	char name[256];

	erofs_tree_init(&f->t, NULL);
	f->dir = mk(&f->t, S_IFDIR | 0755, 100);
	f->t.root = f->dir;
	f->dir->parent = f->dir;
	for (unsigned int i = 0; i < n; i++) {
		int len = snprintf(name, sizeof(name), "%0*u", namelen, i);

		assert_int_equal(len, namelen);
		assert_int_equal(
		    erofs_dir_add(&f->t, f->dir, name,
				  mk(&f->t, S_IFREG | 0644, 1000 + i)),
		    0);
	}
	assert_int_equal(erofs_tree_finalize(&f->t), 0);
}

/* checks every block the way the kernel's readdir and lookup do */
static unsigned int verify_blocks(const uint8_t *buf, uint64_t size,
				  unsigned int blksz, char last[256],
				  unsigned int *lastlen)
{
	unsigned int total = 0;

	for (uint64_t b = 0; b < size; b += blksz) {
		const uint8_t *blk = buf + b;
		unsigned int maxsize = size - b < blksz ? size - b : blksz;
		unsigned int nameoff0 = erofs_get_le16(blk + 8);
		unsigned int n = nameoff0 / EROFS_DIRENT_SIZE;

		assert_true(nameoff0 && nameoff0 < blksz);
		assert_int_equal(nameoff0 % EROFS_DIRENT_SIZE, 0);
		for (unsigned int k = 0; k < n; k++) {
			unsigned int off = erofs_get_le16(blk + 12 * k + 8);
			unsigned int end =
			    k + 1 < n ? erofs_get_le16(blk + 12 * (k + 1) + 8)
				      : maxsize;
			unsigned int len;

			if (k + 1 == n) {
				/* the last name ends at a NUL or maxsize */
				len = strnlen((const char *)blk + off,
					      maxsize - off);
				end = off + len;
			}
			len = end - off;
			assert_true(len >= 1 && len <= 255);
			assert_true(off + len <= maxsize);
			/* strictly increasing across the whole directory */
			if (*lastlen) {
				unsigned int m =
				    len < *lastlen ? len : *lastlen;
				int r = memcmp(last, blk + off, m);

				assert_true(r < 0 ||
					    (r == 0 && *lastlen < len));
			}
			memcpy(last, blk + off, len);
			*lastlen = len;
			total++;
		}
		/* zero-filled after the last name up to the block end */
		for (unsigned int z =
			 *lastlen + erofs_get_le16(blk + 12 * (n - 1) + 8);
		     z < blksz; z++)
			assert_int_equal(blk[z], 0);
	}
	return total;
}

static void check_dir(unsigned int n, unsigned int namelen, unsigned int blksz)
{
	struct fixture f;
	char last[256];
	unsigned int lastlen = 0;
	uint64_t size;
	uint8_t *buf;

	setup_dir(&f, n, namelen);
	size = erofs_dir_size(f.dir, blksz);
	assert_true(size > 0);
	buf = malloc((size + blksz - 1) / blksz * blksz);
	assert_non_null(buf);
	assert_int_equal(erofs_dir_encode(f.dir, blksz, buf), 0);
	assert_int_equal(verify_blocks(buf, size, blksz, last, &lastlen),
			 n + 2);
	free(buf);
	erofs_tree_free(&f.t);
}

static void test_small_dir(void **state)
{
	check_dir(3, 5, 4096);
}

static void test_many_blocks(void **state)
{
	/* > 10,000 entries across many blocks, also with 512-byte blocks */
	check_dir(10050, 12, 4096);
	check_dir(2000, 200, 4096);
	check_dir(300, 255, 512);
}

static void test_dots_sorted_in(void **state)
{
	struct erofs_tree t;
	struct erofs_inode *dir, *sub;
	const char *names[] = {"a.bin", "-dash", ".hidden", "Zcap"};
	uint8_t buf[4096];
	uint64_t size;

	erofs_tree_init(&t, NULL);
	dir = mk(&t, S_IFDIR | 0755, 40);
	t.root = dir;
	for (int i = 0; i < 4; i++)
		assert_int_equal(
		    erofs_dir_add(&t, dir, names[i], mk(&t, S_IFREG, 50 + i)),
		    0);
	sub = mk(&t, S_IFDIR | 0700, 77);
	assert_int_equal(erofs_dir_add(&t, dir, "sub", sub), 0);
	assert_int_equal(erofs_tree_finalize(&t), 0);
	assert_int_equal(dir->nlink, 3);
	assert_int_equal(sub->nlink, 2);
	size = erofs_dir_size(dir, 4096);
	assert_int_equal(size, 7 * 12 + 5 + 1 + 2 + 7 + 4 + 5 + 3);
	assert_int_equal(erofs_dir_encode(dir, 4096, buf), 0);
	/* -dash < . < .. < .hidden < Zcap < a.bin < sub */
	assert_memory_equal(buf + erofs_get_le16(buf + 8), "-dash", 5);
	assert_int_equal(erofs_get_le64(buf + 12), 40); /* "." */
	assert_int_equal(erofs_get_le64(buf + 24), 40); /* root ".." */
	assert_int_equal(buf[12 + 10], EROFS_FT_DIR);
	assert_int_equal(erofs_get_le64(buf + 72), 77);
	assert_int_equal(buf[72 + 10], EROFS_FT_DIR);
	assert_memory_equal(buf + erofs_get_le16(buf + 72 + 8), "sub", 3);
	erofs_tree_free(&t);
}

static void test_bad_names(void **state)
{
	struct erofs_tree t;
	struct erofs_inode *dir;
	char longname[257];

	erofs_tree_init(&t, NULL);
	dir = mk(&t, S_IFDIR, 1);
	memset(longname, 'x', 256);
	longname[256] = 0;
	assert_int_equal(erofs_dir_add(&t, dir, longname, mk(&t, S_IFREG, 2)),
			 -22);
	assert_int_equal(erofs_dir_add(&t, dir, "a/b", mk(&t, S_IFREG, 3)),
			 -22);
	assert_int_equal(erofs_dir_add(&t, dir, "", mk(&t, S_IFREG, 4)), -22);
	longname[255] = 0;
	assert_int_equal(erofs_dir_add(&t, dir, longname, mk(&t, S_IFREG, 5)),
			 0);
	erofs_tree_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_small_dir),
	    cmocka_unit_test(test_many_blocks),
	    cmocka_unit_test(test_dots_sorted_in),
	    cmocka_unit_test(test_bad_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

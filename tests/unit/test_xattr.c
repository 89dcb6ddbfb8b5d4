// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Xattrs: namespaces, interning, shared selection, inode bodies, the name
 * filter.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "erofs/ondisk.h"
#include "liberofs_tree.h"
#include "liberofs_xattr.h"

static void test_split(void **state)
{
	uint8_t idx;
	const char *sfx;

	assert_int_equal(erofs_xattr_split_name("user.mime", &idx, &sfx), 0);
	assert_int_equal(idx, EROFS_XATTR_INDEX_USER);
	assert_string_equal(sfx, "mime");
	assert_int_equal(erofs_xattr_split_name("trusted.overlay.opaque", &idx,
						&sfx),
			 0);
	assert_int_equal(idx, EROFS_XATTR_INDEX_TRUSTED);
	assert_int_equal(erofs_xattr_split_name("security.capability", &idx,
						&sfx),
			 0);
	assert_int_equal(idx, EROFS_XATTR_INDEX_SECURITY);
	assert_string_equal(sfx, "capability");
	assert_int_equal(erofs_xattr_split_name("system.posix_acl_access",
						&idx, &sfx),
			 0);
	assert_int_equal(idx, EROFS_XATTR_INDEX_POSIX_ACL_ACCESS);
	assert_string_equal(sfx, "");
	assert_int_equal(erofs_xattr_split_name("system.posix_acl_default",
						&idx, &sfx),
			 0);
	assert_int_equal(idx, EROFS_XATTR_INDEX_POSIX_ACL_DEFAULT);
	assert_int_equal(erofs_xattr_split_name("system.posix_acl_accessX",
						&idx, &sfx),
			 -EOPNOTSUPP);
	assert_int_equal(erofs_xattr_split_name("system.foo", &idx, &sfx),
			 -EOPNOTSUPP);
	assert_int_equal(erofs_xattr_split_name("user.", &idx, &sfx), -EINVAL);
}

static void test_shared_and_ibody(void **state)
{
	struct erofs_xattr_table xt;
	struct erofs_tree t;
	struct erofs_inode *a, *b;
	uint8_t body[256];
	uint32_t filter, bit;

	erofs_tree_init(&t, NULL);
	erofs_xattr_table_init(&xt, NULL);
	a = erofs_tree_new_inode(&t);
	b = erofs_tree_new_inode(&t);
	/* one value on both inodes, one only on a */
	assert_int_equal(erofs_xattr_add(&xt, a, "user.z", "1", 1, "a"), 0);
	assert_int_equal(erofs_xattr_add(&xt, a, "user.common", "shared", 6,
					 "a"),
			 0);
	assert_int_equal(erofs_xattr_add(&xt, b, "user.common", "shared", 6,
					 "b"),
			 0);
	assert_int_equal(xt.used, 2);
	erofs_xattr_sort(a);
	assert_int_equal(erofs_xattr_select_shared(&xt, 1), 0);
	assert_int_equal(xt.nr_shared, 1);
	/* 4 + 6 + 6 = 16 bytes */
	assert_int_equal(xt.shared_size, 16);
	erofs_xattr_size_inode(a);
	erofs_xattr_size_inode(b);
	/* a: header 12 + one id 4 + entry (4 + 1 + 1 -> 8) */
	assert_int_equal(a->xattr_isize, 24);
	assert_int_equal(a->xattr_isize, erofs_xattr_ibody_size(a->xattr_icount));
	assert_int_equal(b->xattr_isize, 16);
	assert_int_not_equal(b->xattr_icount, 1);

	erofs_xattr_encode_ibody(a, true, body);
	assert_int_equal(body[4], 1);		/* shared count */
	assert_int_equal(erofs_get_le32(body + 12), 0);	/* shared id 0 */
	assert_int_equal(body[16], 1);		/* e_name_len */
	assert_int_equal(body[17], EROFS_XATTR_INDEX_USER);
	assert_int_equal(erofs_get_le16(body + 18), 1);
	assert_memory_equal(body + 20, "z1", 2);
	assert_int_equal(body[22] | body[23], 0);	/* padding */
	/* the filter clears exactly the bits of present names */
	filter = erofs_get_le32(body);
	bit = erofs_xattr_filter_bit(EROFS_XATTR_INDEX_USER, "z", 1);
	assert_false(filter & (1u << bit));
	bit = erofs_xattr_filter_bit(EROFS_XATTR_INDEX_USER, "common", 6);
	assert_false(filter & (1u << bit));
	assert_true(__builtin_popcount(~filter) <= 2);
	/* without the filter option the field is 0 (no filtering) */
	erofs_xattr_encode_ibody(a, false, body);
	assert_int_equal(erofs_get_le32(body), 0);

	/* tolerance -1 disables sharing */
	assert_int_equal(erofs_xattr_select_shared(&xt, -1), 0);
	assert_int_equal(xt.nr_shared, 0);
	erofs_xattr_table_free(&xt);
	erofs_tree_free(&t);
}

static void test_filter_bit_depends_on_index(void **state)
{
	/* same suffix, different namespace: a different seed */
	unsigned int diff = 0;
	char name[8];

	for (int i = 0; i < 64; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		diff += erofs_xattr_filter_bit(1, name, strlen(name)) !=
			erofs_xattr_filter_bit(4, name, strlen(name));
		assert_true(erofs_xattr_filter_bit(6, name, strlen(name)) < 32);
	}
	assert_true(diff > 32);
}

static void test_limits(void **state)
{
	struct erofs_xattr_table xt;
	struct erofs_tree t;
	struct erofs_inode *a;
	static char big[70000];
	char name[300] = "user.";

	erofs_tree_init(&t, NULL);
	erofs_xattr_table_init(&xt, NULL);
	a = erofs_tree_new_inode(&t);
	memset(name + 5, 'n', 256);
	assert_int_equal(erofs_xattr_add(&xt, a, name, "v", 1, "a"), -E2BIG);
	name[5 + 255] = 0;
	assert_int_equal(erofs_xattr_add(&xt, a, name, "v", 1, "a"), 0);
	assert_int_equal(erofs_xattr_add(&xt, a, "user.big", big, 65536, "a"),
			 -E2BIG);
	assert_int_equal(erofs_xattr_add(&xt, a, "user.big", big, 65535, "a"),
			 0);
	erofs_xattr_table_free(&xt);
	erofs_tree_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_shared_and_ibody),
		cmocka_unit_test(test_filter_bit_depends_on_index),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

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
	assert_int_equal(
	    erofs_xattr_split_name("trusted.overlay.opaque", &idx, &sfx), 0);
	assert_int_equal(idx, EROFS_XATTR_INDEX_TRUSTED);
	assert_int_equal(
	    erofs_xattr_split_name("security.capability", &idx, &sfx), 0);
	assert_int_equal(idx, EROFS_XATTR_INDEX_SECURITY);
	assert_string_equal(sfx, "capability");
	assert_int_equal(
	    erofs_xattr_split_name("system.posix_acl_access", &idx, &sfx), 0);
	assert_int_equal(idx, EROFS_XATTR_INDEX_POSIX_ACL_ACCESS);
	assert_string_equal(sfx, "");
	assert_int_equal(
	    erofs_xattr_split_name("system.posix_acl_default", &idx, &sfx), 0);
	assert_int_equal(idx, EROFS_XATTR_INDEX_POSIX_ACL_DEFAULT);
	assert_int_equal(
	    erofs_xattr_split_name("system.posix_acl_accessX", &idx, &sfx),
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
	assert_int_equal(
	    erofs_xattr_add(&xt, a, "user.common", "shared", 6, "a"), 0);
	assert_int_equal(
	    erofs_xattr_add(&xt, b, "user.common", "shared", 6, "b"), 0);
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
	assert_int_equal(a->xattr_isize,
			 erofs_xattr_ibody_size(a->xattr_icount));
	assert_int_equal(b->xattr_isize, 16);
	assert_int_not_equal(b->xattr_icount, 1);

	erofs_xattr_encode_ibody(a, true, body);
	assert_int_equal(body[4], 1);			/* shared count */
	assert_int_equal(erofs_get_le32(body + 12), 0); /* shared id 0 */
	assert_int_equal(body[16], 1);			/* e_name_len */
	assert_int_equal(body[17], EROFS_XATTR_INDEX_USER);
	assert_int_equal(erofs_get_le16(body + 18), 1);
	assert_memory_equal(body + 20, "z1", 2);
	assert_int_equal(body[22] | body[23], 0); /* padding */
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

/* a name given twice keeps the last value, once */
static void test_duplicate_name(void **state)
{
	struct erofs_xattr_table xt;
	struct erofs_tree t;
	struct erofs_inode *a;
	struct erofs_xattr_item *first;

	erofs_tree_init(&t, NULL);
	erofs_xattr_table_init(&xt, NULL);
	a = erofs_tree_new_inode(&t);
	assert_int_equal(erofs_xattr_add(&xt, a, "user.a", "first", 5, "a"), 0);
	first = a->xattrs[0];
	assert_int_equal(erofs_xattr_add(&xt, a, "user.b", "b", 1, "a"), 0);
	assert_int_equal(erofs_xattr_add(&xt, a, "user.a", "last", 4, "a"), 0);
	assert_int_equal(a->nr_xattrs, 2);
	assert_int_equal(a->xattrs[0]->value_len, 4);
	assert_memory_equal(a->xattrs[0]->value, "last", 4);
	/* the replaced value no longer counts towards sharing */
	assert_int_equal(first->refcount, 0);
	assert_int_equal(a->xattrs[0]->refcount, 1);
	erofs_xattr_table_free(&xt);
	erofs_tree_free(&t);
}

/* i_xattr_icount is 16 bits: at most 12 + 4 * 65534 bytes inline */
static void test_ibody_limit(void **state)
{
	struct erofs_xattr_table xt;
	struct erofs_tree t;
	struct erofs_inode *a;
	static char big[65535];

	erofs_tree_init(&t, NULL);
	erofs_xattr_table_init(&xt, NULL);
	a = erofs_tree_new_inode(&t);
	assert_int_equal(EROFS_XATTR_MAX_IBODY, 12 + 4 * 65534);
	assert_int_equal(erofs_xattr_add(&xt, a, "trusted.b1", big, 65535, "a"),
			 0);
	assert_int_equal(erofs_xattr_add(&xt, a, "trusted.b2", big, 65535, "a"),
			 0);
	assert_int_equal(erofs_xattr_add(&xt, a, "trusted.b3", big, 65535, "a"),
			 0);
	/* 12 + 4 * 65544 > 262148 */
	assert_int_equal(erofs_xattr_add(&xt, a, "trusted.b4", big, 65535, "a"),
			 -E2BIG);
	assert_int_equal(a->nr_xattrs, 3);
	/* replacing a value does not count the old one */
	big[0] = 'x';
	assert_int_equal(erofs_xattr_add(&xt, a, "trusted.b1", big, 65535, "a"),
			 0);
	assert_int_equal(a->nr_xattrs, 3);
	assert_int_equal(erofs_xattr_size_inode(a), 0);
	assert_true(a->xattr_icount < 65535);
	assert_int_equal(a->xattr_isize, 12 + 3 * 65544);
	erofs_xattr_table_free(&xt);
	erofs_tree_free(&t);
}

/* one ACL entry: tag, perm, id */
static uint8_t *acl_entry(uint8_t *p, unsigned int tag, unsigned int perm,
			  uint32_t id)
{
	erofs_put_le16(p, tag);
	erofs_put_le16(p + 2, perm);
	erofs_put_le32(p + 4, id);
	return p + 8;
}

static size_t acl(uint8_t *buf, const unsigned int (*e)[3], unsigned int n)
{
	uint8_t *p = buf + 4;

	erofs_put_le32(buf, 2);
	for (unsigned int i = 0; i < n; i++)
		p = acl_entry(p, e[i][0], e[i][1], e[i][2]);
	return p - buf;
}

static void test_acl(void **state)
{
	static const unsigned int minimal[][3] = {
	    {1, 6, -1u}, {4, 4, -1u}, {0x20, 4, -1u}};
	static const unsigned int named[][3] = {
	    {1, 6, -1u}, {2, 7, 1000},	 {2, 5, 1001},	{4, 4, -1u},
	    {8, 4, 50},	 {0x10, 7, -1u}, {0x20, 0, -1u}};
	static const unsigned int no_mask[][3] = {
	    {1, 6, -1u}, {2, 7, 1000}, {4, 4, -1u}, {0x20, 4, -1u}};
	static const unsigned int disorder[][3] = {
	    {4, 4, -1u}, {1, 6, -1u}, {0x20, 4, -1u}};
	static const unsigned int twice[][3] = {
	    {1, 6, -1u}, {1, 6, -1u}, {4, 4, -1u}, {0x20, 4, -1u}};
	static const unsigned int no_other[][3] = {{1, 6, -1u}, {4, 4, -1u}};
	static const unsigned int bad_tag[][3] = {
	    {1, 6, -1u}, {4, 4, -1u}, {0x40, 4, -1u}};
	static const unsigned int bad_perm[][3] = {
	    {1, 8, -1u}, {4, 4, -1u}, {0x20, 4, -1u}};
	static const unsigned int nobody[][3] = {{1, 6, -1u},
						 {2, 7, -1u},
						 {4, 4, -1u},
						 {0x10, 7, -1u},
						 {0x20, 4, -1u}};
	struct erofs_xattr_table xt;
	struct erofs_tree t;
	struct erofs_inode *a;
	uint8_t buf[128];
	size_t n;

	n = acl(buf, minimal, 3);
	assert_int_equal(erofs_xattr_check_acl(buf, n), 0);
	assert_int_equal(erofs_xattr_check_acl(buf, 4), 0);
	assert_int_equal(erofs_xattr_check_acl(buf, n - 1), -EINVAL);
	assert_int_equal(erofs_xattr_check_acl(buf, 3), -EINVAL);
	assert_int_equal(erofs_xattr_check_acl("garbage!", 8), -EINVAL);
	n = acl(buf, named, 7);
	assert_int_equal(erofs_xattr_check_acl(buf, n), 0);
	buf[0] = 1; /* version */
	assert_int_equal(erofs_xattr_check_acl(buf, n), -EINVAL);
	n = acl(buf, no_mask, 4);
	assert_int_equal(erofs_xattr_check_acl(buf, n), -EINVAL);
	n = acl(buf, disorder, 3);
	assert_int_equal(erofs_xattr_check_acl(buf, n), -EINVAL);
	n = acl(buf, twice, 4);
	assert_int_equal(erofs_xattr_check_acl(buf, n), -EINVAL);
	n = acl(buf, no_other, 2);
	assert_int_equal(erofs_xattr_check_acl(buf, n), -EINVAL);
	n = acl(buf, bad_tag, 3);
	assert_int_equal(erofs_xattr_check_acl(buf, n), -EINVAL);
	n = acl(buf, bad_perm, 3);
	assert_int_equal(erofs_xattr_check_acl(buf, n), -EINVAL);
	n = acl(buf, nobody, 5);
	assert_int_equal(erofs_xattr_check_acl(buf, n), -EINVAL);

	/* erofs_xattr_add() refuses a bad ACL value, keeps a good one */
	erofs_tree_init(&t, NULL);
	erofs_xattr_table_init(&xt, NULL);
	a = erofs_tree_new_inode(&t);
	assert_int_equal(erofs_xattr_add(&xt, a, "system.posix_acl_access",
					 "garbage!", 8, "a"),
			 -EBADMSG);
	n = acl(buf, minimal, 3);
	assert_int_equal(
	    erofs_xattr_add(&xt, a, "system.posix_acl_default", buf, n, "a"),
	    0);
	assert_int_equal(a->nr_xattrs, 1);
	erofs_xattr_table_free(&xt);
	erofs_tree_free(&t);
}

static void test_long_prefixes(void **state)
{
	char *good[] = {"trusted.overlay.", "user.long."};
	char *bad[][1] = {
	    {"system.posix_acl_access"}, {"trusted."}, {"foo.bar."}, {"user"}};
	struct erofs_xattr_table xt;
	struct erofs_tree t;
	struct erofs_inode *a;
	struct erofs_xattr_item *it;
	uint8_t out[64];
	char name[64];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		erofs_xattr_table_init(&xt, NULL);
		assert_int_equal(erofs_xattr_set_prefixes(&xt, bad[i], 1),
				 -EINVAL);
		erofs_xattr_table_free(&xt);
	}
	erofs_tree_init(&t, NULL);
	erofs_xattr_table_init(&xt, NULL);
	assert_int_equal(erofs_xattr_set_prefixes(&xt, good, 2), 0);
	a = erofs_tree_new_inode(&t);
	assert_int_equal(
	    erofs_xattr_add(&xt, a, "trusted.overlay.opaque", "y", 1, "a"), 0);
	assert_int_equal(erofs_xattr_add(&xt, a, "user.long.x", "1", 1, "a"),
			 0);
	/* equal to a prefix, or another namespace: the short form */
	assert_int_equal(erofs_xattr_add(&xt, a, "user.long.", "2", 1, "a"), 0);
	assert_int_equal(
	    erofs_xattr_add(&xt, a, "security.overlay.x", "3", 1, "a"), 0);
	it = a->xattrs[0];
	assert_int_equal(it->index, 0x80);
	assert_int_equal(it->name_len, 6);
	assert_memory_equal(it->name, "opaque", 6);
	assert_int_equal(it->entry_size, 12);
	/* the filter bit is that of the full name after "trusted." */
	assert_int_equal(it->filter_bit,
			 erofs_xattr_filter_bit(EROFS_XATTR_INDEX_TRUSTED,
						"overlay.opaque", 14));
	erofs_xattr_full_name(it, name, sizeof(name));
	assert_string_equal(name, "trusted.overlay.opaque");
	assert_int_equal(a->xattrs[1]->index, 0x81);
	assert_memory_equal(a->xattrs[1]->name, "x", 1);
	assert_int_equal(a->xattrs[2]->index, EROFS_XATTR_INDEX_USER);
	assert_int_equal(a->xattrs[3]->index, EROFS_XATTR_INDEX_SECURITY);
	/* records: le16 len, base index, infix; each 4-aligned */
	assert_int_equal(erofs_xattr_prefix_table_size(&xt), 12 + 8);
	memset(out, 0xee, sizeof(out));
	erofs_xattr_encode_prefixes(&xt, out);
	assert_memory_equal(out, "\x09\x00\x04overlay.\x00", 12);
	assert_memory_equal(out + 12, "\x06\x00\x01long.", 8);
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
	    cmocka_unit_test(test_duplicate_name),
	    cmocka_unit_test(test_ibody_limit),
	    cmocka_unit_test(test_acl),
	    cmocka_unit_test(test_long_prefixes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Archive importer: member path normalisation and the kernel's POSIX ACL
 * xattr encoding.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "liberofs_import.h"
#include "erofs/ondisk.h"

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
	expect_path("/a/b", "a/b");
	expect_path("///a//b///c", "a/b/c");
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
		{ EROFS_ACL_OTHER, 4, 0 },
		{ EROFS_ACL_GROUP, 4, 55 },
		{ EROFS_ACL_USER, 7, 1234 },
		{ EROFS_ACL_MASK, 7, 12345 },	/* id ignored */
		{ EROFS_ACL_GROUP_OBJ, 4, 0 },
		{ EROFS_ACL_USER_OBJ, 6, 0 },
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
		{ EROFS_ACL_GROUP, 1, 70000 },
		{ EROFS_ACL_USER, 2, 4000000000u },
		{ EROFS_ACL_USER, 4, 5 },
		{ EROFS_ACL_OTHER, 0, 0 },
		{ EROFS_ACL_GROUP, 3, 9 },
		{ EROFS_ACL_MASK, 7, 0 },
		{ EROFS_ACL_USER_OBJ, 7, 0 },
		{ EROFS_ACL_GROUP_OBJ, 5, 0 },
	};
	static const struct {
		uint16_t tag, perm;
		uint32_t id;
	} want[] = {
		{ 0x01, 7, 0xffffffff }, { 0x02, 4, 5 },
		{ 0x02, 2, 4000000000u }, { 0x04, 5, 0xffffffff },
		{ 0x08, 3, 9 }, { 0x08, 1, 70000 },
		{ 0x10, 7, 0xffffffff }, { 0x20, 0, 0xffffffff },
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
		{ EROFS_ACL_GROUP_OBJ, 5, 0 },
		{ EROFS_ACL_OTHER, 5, 0 },
		{ EROFS_ACL_USER_OBJ, 7, 0 },
	};
	uint8_t out[28];
	static const uint8_t want[28] = {
		2, 0, 0, 0,
		1, 0, 7, 0, 0xff, 0xff, 0xff, 0xff,
		4, 0, 5, 0, 0xff, 0xff, 0xff, 0xff,
		0x20, 0, 5, 0, 0xff, 0xff, 0xff, 0xff,
	};

	(void)state;
	assert_int_equal(erofs_acl_encode(e, 3, out, sizeof(out)), 28);
	assert_memory_equal(out, want, sizeof(want));
}

static void test_acl_invalid(void **state)
{
	uint8_t out[256];

	(void)state;
	{	/* named entry without a mask */
		struct erofs_acl_entry e[] = {
			{ EROFS_ACL_USER_OBJ, 6, 0 }, { EROFS_ACL_USER, 6, 1 },
			{ EROFS_ACL_GROUP_OBJ, 4, 0 }, { EROFS_ACL_OTHER, 4, 0 },
		};
		assert_int_equal(erofs_acl_encode(e, 4, out, sizeof(out)),
				 -EINVAL);
	}
	{	/* no owner entry */
		struct erofs_acl_entry e[] = {
			{ EROFS_ACL_GROUP_OBJ, 4, 0 }, { EROFS_ACL_OTHER, 4, 0 },
		};
		assert_int_equal(erofs_acl_encode(e, 2, out, sizeof(out)),
				 -EINVAL);
	}
	{	/* two other entries */
		struct erofs_acl_entry e[] = {
			{ EROFS_ACL_USER_OBJ, 6, 0 }, { EROFS_ACL_GROUP_OBJ, 4, 0 },
			{ EROFS_ACL_OTHER, 4, 0 }, { EROFS_ACL_OTHER, 0, 0 },
		};
		assert_int_equal(erofs_acl_encode(e, 4, out, sizeof(out)),
				 -EINVAL);
	}
	{	/* the same user twice */
		struct erofs_acl_entry e[] = {
			{ EROFS_ACL_USER_OBJ, 6, 0 }, { EROFS_ACL_USER, 6, 7 },
			{ EROFS_ACL_USER, 4, 7 }, { EROFS_ACL_GROUP_OBJ, 4, 0 },
			{ EROFS_ACL_MASK, 6, 0 }, { EROFS_ACL_OTHER, 4, 0 },
		};
		assert_int_equal(erofs_acl_encode(e, 6, out, sizeof(out)),
				 -EINVAL);
	}
	{	/* permission bits beyond rwx, an unknown tag */
		struct erofs_acl_entry e[] = {
			{ EROFS_ACL_USER_OBJ, 8, 0 }, { EROFS_ACL_GROUP_OBJ, 4, 0 },
			{ EROFS_ACL_OTHER, 4, 0 },
		};
		assert_int_equal(erofs_acl_encode(e, 3, out, sizeof(out)),
				 -EINVAL);
		e[0].perm = 6;
		e[1].tag = 0x40;
		assert_int_equal(erofs_acl_encode(e, 3, out, sizeof(out)),
				 -EINVAL);
	}
	{	/* output too small */
		struct erofs_acl_entry e[] = {
			{ EROFS_ACL_USER_OBJ, 6, 0 }, { EROFS_ACL_GROUP_OBJ, 4, 0 },
			{ EROFS_ACL_OTHER, 4, 0 },
		};
		assert_int_equal(erofs_acl_encode(e, 3, out, 27), -ENOSPC);
	}
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the on-disk encoders: superblock and its checksum, both inode
 * forms, dirents, device slots, chunk indexes, rdev.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "erofs/ondisk.h"

static void test_crc32c_vector(void **state)
{
	/* textbook CRC-32C("123456789") = 0xE3069283; the kernel omits the
	 * final xor, so it sees the complement */
	assert_int_equal(erofs_crc32c(~0u, "123456789", 9), ~0xE3069283u);
	assert_int_equal(erofs_crc32c(~0u, "", 0), ~0u);
}

static void test_sb_roundtrip(void **state)
{
	struct erofs_sb sb = {0}, back;
	uint8_t raw[EROFS_SB_SIZE];

	sb.feature_compat = EROFS_FEATURE_COMPAT_SB_CHKSUM;
	sb.blkszbits = 12;
	sb.root_nid = 0xBEEF;
	sb.inos = 0x123456789ull;
	sb.build_time = 1700000000;
	sb.build_time_nsec = 999999999;
	sb.blocks = 77;
	sb.xattr_blkaddr = 9;
	memset(sb.uuid, 0xA5, 16);
	strcpy(sb.volume_name, "fifteen-chars15");
	sb.feature_incompat = EROFS_FEATURE_INCOMPAT_CHUNKED_FILE |
			      EROFS_FEATURE_INCOMPAT_DEVICE_TABLE;
	sb.extra_devices = 3;
	sb.devt_slotoff = 9;
	erofs_sb_encode(&sb, raw);
	assert_int_equal(erofs_get_le32(raw), EROFS_SUPER_MAGIC);
	assert_int_equal(raw[12], 12);
	assert_int_equal(erofs_get_le16(raw + 14), 0xBEEF);
	assert_int_equal(erofs_get_le16(raw + 86), 3);
	assert_int_equal(erofs_get_le16(raw + 88), 9);
	/* volume name keeps its NUL within 16 bytes */
	assert_int_equal(raw[64 + 15], 0);
	assert_memory_equal(raw + 64, "fifteen-chars15", 15);
	assert_int_equal(erofs_sb_decode(raw, &back), 0);
	assert_int_equal(back.inos, sb.inos);
	assert_int_equal(back.build_time_nsec, sb.build_time_nsec);
	assert_int_equal(back.feature_incompat, sb.feature_incompat);
	assert_memory_equal(back.uuid, sb.uuid, 16);
	raw[0] ^= 1;
	assert_int_equal(erofs_sb_decode(raw, &back), -22);
}

static void test_sb_checksum_covers_block0(void **state)
{
	static uint8_t img[8192];
	uint32_t a, b;

	memset(img, 0x5a, sizeof(img));
	a = erofs_sb_checksum(img, 12);
	/* the checksum field does not take part */
	memset(img + EROFS_SUPER_OFFSET + 4, 0, 4);
	assert_int_equal(erofs_sb_checksum(img, 12), a);
	/* the last byte of block 0 does */
	img[4095] ^= 1;
	b = erofs_sb_checksum(img, 12);
	assert_int_not_equal(a, b);
	/* bytes of block 1 and of the first KiB do not */
	img[4096] ^= 1;
	img[10] ^= 1;
	assert_int_equal(erofs_sb_checksum(img, 12), b);
	/* 512-byte blocks: 512 bytes from 1024 */
	a = erofs_sb_checksum(img, 9);
	img[1024 + 600] ^= 1;
	assert_int_equal(erofs_sb_checksum(img, 9), a);
	img[1024 + 500] ^= 1;
	assert_int_not_equal(erofs_sb_checksum(img, 9), a);
}

static void test_inode_compact(void **state)
{
	struct erofs_dinode di = {0}, back;
	uint8_t raw[64];

	di.datalayout = EROFS_INODE_FLAT_INLINE;
	di.xattr_icount = 5;
	di.mode = S_IFREG | 04755;
	di.nlink = 3;
	di.size = 4097;
	di.i_u = 0x1234;
	di.uid = 65535;
	di.gid = 7;
	erofs_inode_encode(&di, raw);
	assert_int_equal(erofs_get_le16(raw), 2 << 1);
	assert_int_equal(erofs_get_le16(raw + 6), 3);
	assert_int_equal(erofs_get_le32(raw + 8), 4097);
	assert_int_equal(erofs_get_le16(raw + 24), 65535);
	erofs_inode_decode(raw, &back);
	assert_int_equal(back.extended, 0);
	assert_int_equal(back.datalayout, EROFS_INODE_FLAT_INLINE);
	assert_int_equal(back.mode, di.mode);
	assert_int_equal(back.size, di.size);
	assert_int_equal(back.xattr_icount, 5);
	assert_int_equal(erofs_xattr_ibody_size(5), 28);
	assert_int_equal(erofs_xattr_ibody_size(0), 0);
}

static void test_inode_extended(void **state)
{
	struct erofs_dinode di = {0}, back;
	uint8_t raw[64];

	di.extended = 1;
	di.datalayout = EROFS_INODE_CHUNK_BASED;
	di.mode = S_IFREG | 0644;
	di.nlink = 70000;
	di.size = 5ull << 30;
	di.i_u = EROFS_CHUNK_FORMAT_INDEXES | 4;
	di.uid = 100000;
	di.gid = 200000;
	di.mtime = 0x1FFFFFFFFull;
	di.mtime_nsec = 123456789;
	erofs_inode_encode(&di, raw);
	assert_int_equal(erofs_get_le16(raw), 1 | (4 << 1));
	assert_int_equal(erofs_get_le64(raw + 8), 5ull << 30);
	assert_int_equal(erofs_get_le32(raw + 44), 70000);
	assert_int_equal(erofs_get_le32(raw + 40), 123456789);
	erofs_inode_decode(raw, &back);
	assert_int_equal(back.extended, 1);
	assert_int_equal(back.uid, 100000);
	assert_int_equal(back.gid, 200000);
	assert_int_equal(back.mtime, di.mtime);
	assert_int_equal(back.nlink, 70000);
	assert_int_equal(back.i_u, di.i_u);
}

static void test_dirent_devslot_chunk(void **state)
{
	uint8_t de[12], slot[128], ci[8];
	struct erofs_devslot ds = {0}, back;
	struct erofs_chunk_idx idx;

	erofs_dirent_encode(de, 0x0102030405060708ull, 36, EROFS_FT_SYMLINK);
	assert_int_equal(erofs_get_le64(de), 0x0102030405060708ull);
	assert_int_equal(erofs_get_le16(de + 8), 36);
	assert_int_equal(de[10], 7);
	assert_int_equal(de[11], 0);

	memset(ds.tag, 'a', 64);
	ds.blocks = 1000;
	erofs_devslot_encode(&ds, slot);
	assert_memory_equal(slot, ds.tag, 64);
	assert_int_equal(erofs_get_le32(slot + 64), 1000);
	assert_int_equal(erofs_get_le32(slot + 68), 0);
	erofs_devslot_decode(slot, &back);
	assert_int_equal(strlen(back.tag), 64);
	assert_int_equal(back.blocks, 1000);

	erofs_chunk_index_encode(ci, 1, 0xABCDEF);
	assert_int_equal(erofs_get_le16(ci), 0);
	assert_int_equal(erofs_get_le16(ci + 2), 1);
	erofs_chunk_index_decode(ci, &idx);
	assert_int_equal(idx.blkaddr, 0xABCDEF);
	assert_int_equal(idx.device_id, 1);
}

static void test_rdev(void **state)
{
	unsigned int maj, min;

	assert_int_equal(erofs_rdev_encode(8, 1), 0x801);
	erofs_rdev_decode(erofs_rdev_encode(259, 0x12345), &maj, &min);
	assert_int_equal(maj, 259);
	assert_int_equal(min, 0x12345);
	assert_int_equal(erofs_mode_to_ftype(S_IFSOCK | 0777), EROFS_FT_SOCK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_crc32c_vector),
	    cmocka_unit_test(test_sb_roundtrip),
	    cmocka_unit_test(test_sb_checksum_covers_block0),
	    cmocka_unit_test(test_inode_compact),
	    cmocka_unit_test(test_inode_extended),
	    cmocka_unit_test(test_dirent_devslot_chunk),
	    cmocka_unit_test(test_rdev),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the image reader over images synthesised with the ondisk.h
 * encoders: a valid image parses (superblock, device table, root directory,
 * chunk table), and each kind of damage is rejected with its errno.
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

#include <cmocka.h>

#include "erofs/cookie.h"
#include "erofs/ondisk.h"
#include "erofs/reader.h"

#define IMG_SIZE  8192
#define ROOT_NID  48	/* byte 1536 */
#define FILE_NID  52	/* byte 1664 */
#define FILE_SIZE 10000 /* 3 chunks of 4096 */

static struct erofs_log quiet_log = {.prog = "test", .level = -1};

struct img_params {
	uint8_t blkszbits;
	uint16_t extra_devices;
	uint16_t devt_slotoff;
	uint32_t incompat;
	uint8_t dirblkbits;
	uint8_t extslots;
	int full_volname;
	uint16_t root_mode;
	uint16_t chunk_dev[3];
};

static void default_params(struct img_params *p)
{
	memset(p, 0, sizeof(*p));
	p->blkszbits = 12;
	p->extra_devices = 2;
	p->devt_slotoff = 9;
	p->incompat = EROFS_FEATURE_INCOMPAT_CHUNKED_FILE |
		      EROFS_FEATURE_INCOMPAT_DEVICE_TABLE;
	p->root_mode = S_IFDIR | 0755;
	p->chunk_dev[0] = 1;
	p->chunk_dev[1] = 2;
	p->chunk_dev[2] = 1;
}

static void put_dirents(uint8_t *d)
{
	static const char *const names[] = {".", "..", "file"};
	static const uint64_t nids[] = {ROOT_NID, ROOT_NID, FILE_NID};
	static const uint8_t types[] = {EROFS_FT_DIR, EROFS_FT_DIR,
					EROFS_FT_REG_FILE};
	unsigned int off = 3 * EROFS_DIRENT_SIZE;

	for (int i = 0; i < 3; i++) {
		erofs_dirent_encode(d + i * EROFS_DIRENT_SIZE, nids[i], off,
				    types[i]);
		memcpy(d + off, names[i], strlen(names[i]));
		off += strlen(names[i]);
	}
}

/* builds the image into @img (IMG_SIZE bytes) and sets the checksum */
static void build(uint8_t *img, const struct img_params *p)
{
	struct erofs_sb sb = {0};
	struct erofs_dinode di = {0};
	struct erofs_devslot ds = {0};
	uint8_t *sbp = img + EROFS_SUPER_OFFSET;

	memset(img, 0, IMG_SIZE);
	sb.feature_compat = EROFS_FEATURE_COMPAT_SB_CHKSUM;
	sb.blkszbits = p->blkszbits;
	sb.sb_extslots = p->extslots;
	sb.root_nid = ROOT_NID;
	sb.inos = 2;
	sb.blocks = 2;
	strcpy(sb.volume_name, "testvol");
	sb.feature_incompat = p->incompat;
	sb.extra_devices = p->extra_devices;
	sb.devt_slotoff = p->devt_slotoff;
	sb.dirblkbits = p->dirblkbits;
	erofs_sb_encode(&sb, sbp);
	if (p->full_volname)
		memset(sbp + 64, 'V', 16);

	for (unsigned int i = 0; i < 2; i++) {
		snprintf(ds.tag, sizeof(ds.tag), "blob%u", i + 1);
		ds.blocks = 10 + i;
		if ((unsigned int)p->devt_slotoff * 128 >=
			EROFS_SUPER_OFFSET + EROFS_SB_SIZE &&
		    (unsigned int)p->devt_slotoff * 128 + (i + 1) * 128 <=
			IMG_SIZE)
			erofs_devslot_encode(&ds, img + p->devt_slotoff * 128 +
						      i * 128);
	}

	/* root: compact, FLAT_INLINE, 3 dirents inline */
	di.datalayout = EROFS_INODE_FLAT_INLINE;
	di.mode = p->root_mode;
	di.size = 3 * EROFS_DIRENT_SIZE + 1 + 2 + 4;
	di.i_u = EROFS_NULL_ADDR;
	di.nlink = 2;
	erofs_inode_encode(&di, img + ROOT_NID * 32);
	put_dirents(img + ROOT_NID * 32 + 32);

	/* file: compact, CHUNK_BASED with 8-byte indexes, chunk = block */
	memset(&di, 0, sizeof(di));
	di.datalayout = EROFS_INODE_CHUNK_BASED;
	di.mode = S_IFREG | 0644;
	di.size = FILE_SIZE;
	di.i_u = EROFS_CHUNK_FORMAT_INDEXES;
	di.nlink = 1;
	erofs_inode_encode(&di, img + FILE_NID * 32);
	for (int i = 0; i < 3; i++)
		erofs_chunk_index_encode(img + FILE_NID * 32 + 32 + 8 * i,
					 p->chunk_dev[i], i == 2 ? 7 : i);

	if (p->blkszbits >= 9 && p->blkszbits <= 16)
		erofs_put_le32(sbp + 4, erofs_sb_checksum(img, p->blkszbits));
}

static int open_params(const struct img_params *p, size_t len)
{
	uint8_t *img = malloc(IMG_SIZE);
	struct erofs_image im;
	int err;

	build(img, p);
	err = erofs_image_open_mem(&im, img, len, "synthetic", &quiet_log);
	if (!err)
		erofs_image_close(&im);
	free(img);
	return err;
}

struct walk {
	int n;
	char names[8][16];
	uint64_t nids[8];
	unsigned int types[8];
};

static int walk_cb(void *arg, const char *name, unsigned int len, uint64_t nid,
		   unsigned int type)
{
	struct walk *w = arg;

	if (w->n >= 8 || len >= 16)
		return -E2BIG;
	memcpy(w->names[w->n], name, len);
	w->names[w->n][len] = '\0';
	w->nids[w->n] = nid;
	w->types[w->n] = type;
	w->n++;
	return 0;
}

static void test_valid_image(void **state)
{
	struct img_params p;
	uint8_t *img = malloc(IMG_SIZE);
	struct erofs_image im;
	struct erofs_rinode root, file;
	struct erofs_chunk_idx ci;
	struct walk w = {0};

	default_params(&p);
	build(img, &p);
	assert_int_equal(
	    erofs_image_open_mem(&im, img, IMG_SIZE, "valid", &quiet_log), 0);
	assert_int_equal(im.blksz, 4096);
	assert_int_equal(im.nr_devices, 2);
	assert_string_equal(im.devs[0].tag, "blob1");
	assert_string_equal(im.devs[1].tag, "blob2");
	assert_int_equal(im.devs[1].blocks, 11);
	assert_string_equal(im.sb.volume_name, "testvol");

	assert_int_equal(erofs_image_read_inode(&im, ROOT_NID, &root), 0);
	assert_true(S_ISDIR(root.di.mode));
	assert_int_equal(erofs_image_iterate_dir(&im, &root, walk_cb, &w), 0);
	assert_int_equal(w.n, 3);
	assert_string_equal(w.names[0], ".");
	assert_string_equal(w.names[1], "..");
	assert_string_equal(w.names[2], "file");
	assert_int_equal(w.nids[2], FILE_NID);
	assert_int_equal(w.types[2], EROFS_FT_REG_FILE);

	assert_int_equal(erofs_image_read_inode(&im, FILE_NID, &file), 0);
	assert_int_equal(file.nr_chunks, 3);
	assert_int_equal(file.chunk_unit, 8);
	assert_int_equal(file.chunk_table, FILE_NID * 32 + 32);
	assert_int_equal(erofs_image_read_chunk(&im, &file, 1, &ci), 0);
	assert_int_equal(ci.device_id, 2);
	assert_int_equal(ci.blkaddr, 1);
	assert_int_equal(erofs_image_read_chunk(&im, &file, 2, &ci), 0);
	assert_int_equal(ci.blkaddr, 7);
	assert_int_equal(erofs_image_read_chunk(&im, &file, 3, &ci), -EINVAL);
	/* a chunk-based file's data is not in the bootstrap */
	assert_int_equal(erofs_image_read_data(&im, &file, &ci, 1, 0),
			 -EOPNOTSUPP);

	/* the cookie table of the image uses the slot tags */
	{
		struct erofs_cookie_table t;

		assert_int_equal(
		    erofs_cookie_table_from_image(&t, &im, "fs", NULL, NULL, 0,
						  IMG_SIZE, NULL, &quiet_log),
		    0);
		assert_int_equal(t.nr, 3);
		assert_string_equal((char *)t.cookies[2].key, "blob2");
		assert_int_equal(t.cookies[2].object_size,
				 EROFS_COOKIE_SIZE_UNKNOWN);
		erofs_cookie_table_free(&t);
		/* device= overrides must match the device count */
		assert_int_equal(erofs_cookie_table_from_image(
				     &t, &im, "fs", NULL, (const char *[]){"x"},
				     1, IMG_SIZE, NULL, &quiet_log),
				 -EINVAL);
	}
	erofs_image_close(&im);
	free(img);
}

static void test_open_file(void **state)
{
	char path[] = "/tmp/test_reader.XXXXXX";
	int fd = mkstemp(path);
	struct img_params p;
	uint8_t *img = malloc(IMG_SIZE);
	struct erofs_image im;

	assert_true(fd >= 0);
	default_params(&p);
	build(img, &p);
	assert_int_equal(write(fd, img, IMG_SIZE), IMG_SIZE);
	close(fd);
	assert_int_equal(erofs_image_open(&im, path, &quiet_log), 0);
	assert_int_equal(im.size, IMG_SIZE);
	assert_int_equal(im.nr_devices, 2);
	erofs_image_close(&im);
	assert_int_equal(truncate(path, 1000), 0);
	assert_int_equal(erofs_image_open(&im, path, &quiet_log),
			 -EFSCORRUPTED);
	unlink(path);
	assert_int_equal(erofs_image_open(&im, path, &quiet_log), -ENOENT);
	free(img);
}

static void test_truncated(void **state)
{
	struct img_params p;

	default_params(&p);
	assert_int_equal(open_params(&p, 0), -EFSCORRUPTED);
	assert_int_equal(open_params(&p, 1100), -EFSCORRUPTED);
	/* superblock complete but the checksummed block is not */
	assert_int_equal(open_params(&p, 2000), -EFSCORRUPTED);
	assert_int_equal(open_params(&p, 4096), 0);
}

static void test_bad_magic(void **state)
{
	uint8_t *img = malloc(IMG_SIZE);
	struct img_params p;
	struct erofs_image im;

	default_params(&p);
	build(img, &p);
	img[EROFS_SUPER_OFFSET] ^= 0xff;
	assert_int_equal(
	    erofs_image_open_mem(&im, img, IMG_SIZE, "m", &quiet_log), -EINVAL);
	free(img);
}

static void test_bad_checksum(void **state)
{
	uint8_t *img = malloc(IMG_SIZE);
	struct img_params p;
	struct erofs_image im;

	default_params(&p);
	build(img, &p);
	/* a byte of a device tag: inside the checksummed range */
	img[9 * 128 + 3] ^= 1;
	assert_int_equal(
	    erofs_image_open_mem(&im, img, IMG_SIZE, "c", &quiet_log),
	    -EBADMSG);
	/* outside block 0 the checksum does not look */
	build(img, &p);
	img[5000] ^= 1;
	assert_int_equal(
	    erofs_image_open_mem(&im, img, IMG_SIZE, "c", &quiet_log), 0);
	erofs_image_close(&im);
	free(img);
}

static void test_device_table_bounds(void **state)
{
	struct img_params p;

	default_params(&p);
	p.devt_slotoff = IMG_SIZE / 128; /* starts at the end */
	assert_int_equal(open_params(&p, IMG_SIZE), -EFSCORRUPTED);
	default_params(&p);
	p.devt_slotoff = 8; /* overlaps the superblock */
	assert_int_equal(open_params(&p, IMG_SIZE), -EFSCORRUPTED);
	default_params(&p);
	p.extra_devices = 1000; /* too many: table runs past the end */
	assert_int_equal(open_params(&p, IMG_SIZE), -EFSCORRUPTED);
	default_params(&p);
	p.extra_devices = 65535;
	assert_int_equal(open_params(&p, IMG_SIZE), -EFSCORRUPTED);
	/* without the DEVICE_TABLE feature the table is not read at all */
	default_params(&p);
	p.extra_devices = 65535;
	p.incompat = EROFS_FEATURE_INCOMPAT_CHUNKED_FILE;
	assert_int_equal(open_params(&p, IMG_SIZE), 0);
}

static void test_superblock_fields(void **state)
{
	struct img_params p;

	default_params(&p);
	p.blkszbits = 8;
	assert_int_equal(open_params(&p, IMG_SIZE), -EINVAL);
	p.blkszbits = 17;
	assert_int_equal(open_params(&p, IMG_SIZE), -EINVAL);
	default_params(&p);
	p.incompat |= 0x80;
	assert_int_equal(open_params(&p, IMG_SIZE), -EINVAL);
	default_params(&p);
	p.dirblkbits = 1;
	assert_int_equal(open_params(&p, IMG_SIZE), -EINVAL);
	default_params(&p);
	p.extslots = EROFS_SB_MAX_EXTSLOTS + 1;
	assert_int_equal(open_params(&p, IMG_SIZE), -EINVAL);
	default_params(&p);
	p.full_volname = 1;
	assert_int_equal(open_params(&p, IMG_SIZE), -EFSCORRUPTED);
	default_params(&p);
	p.root_mode = S_IFREG | 0644;
	assert_int_equal(open_params(&p, IMG_SIZE), -EINVAL);
}

static void test_bad_chunk_device(void **state)
{
	uint8_t *img = malloc(IMG_SIZE);
	struct img_params p;
	struct erofs_image im;
	struct erofs_rinode file;
	struct erofs_chunk_idx ci;

	default_params(&p);
	p.chunk_dev[0] = 3; /* mask 3 keeps it: beyond 2 devices */
	build(img, &p);
	assert_int_equal(
	    erofs_image_open_mem(&im, img, IMG_SIZE, "d", &quiet_log), 0);
	assert_int_equal(erofs_image_read_inode(&im, FILE_NID, &file), 0);
	assert_int_equal(erofs_image_read_chunk(&im, &file, 0, &ci),
			 -EFSCORRUPTED);
	/* nids beyond the image */
	assert_int_equal(erofs_image_read_inode(&im, IMG_SIZE / 32, &file),
			 -EFSCORRUPTED);
	assert_int_equal(erofs_image_read_inode(&im, UINT64_MAX, &file),
			 -EFSCORRUPTED);
	erofs_image_close(&im);
	free(img);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_valid_image),
	    cmocka_unit_test(test_open_file),
	    cmocka_unit_test(test_truncated),
	    cmocka_unit_test(test_bad_magic),
	    cmocka_unit_test(test_bad_checksum),
	    cmocka_unit_test(test_device_table_bounds),
	    cmocka_unit_test(test_superblock_fields),
	    cmocka_unit_test(test_bad_chunk_device),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

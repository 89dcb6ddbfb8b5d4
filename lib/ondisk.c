// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Encoding and decoding of EROFS on-disk records through byte buffers.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "erofs/ondisk.h"

void erofs_sb_encode(const struct erofs_sb *sb, uint8_t out[EROFS_SB_SIZE])
{
	memset(out, 0, EROFS_SB_SIZE);
	erofs_put_le32(out + 0, EROFS_SUPER_MAGIC);
	erofs_put_le32(out + 4, sb->checksum);
	erofs_put_le32(out + 8, sb->feature_compat);
	out[12] = sb->blkszbits;
	out[13] = sb->sb_extslots;
	erofs_put_le16(out + 14, sb->root_nid);
	erofs_put_le64(out + 16, sb->inos);
	erofs_put_le64(out + 24, sb->build_time);
	erofs_put_le32(out + 32, sb->build_time_nsec);
	erofs_put_le32(out + 36, sb->blocks);
	erofs_put_le32(out + 40, sb->meta_blkaddr);
	erofs_put_le32(out + 44, sb->xattr_blkaddr);
	memcpy(out + 48, sb->uuid, 16);
	/* at most 15 characters: the kernel needs a NUL within 16 bytes */
	memcpy(out + 64, sb->volume_name,
	       strnlen(sb->volume_name, EROFS_VOLNAME_LEN - 1));
	erofs_put_le32(out + 80, sb->feature_incompat);
	erofs_put_le16(out + 84, sb->u1);
	erofs_put_le16(out + 86, sb->extra_devices);
	erofs_put_le16(out + 88, sb->devt_slotoff);
	out[90] = sb->dirblkbits;
	out[91] = sb->xattr_prefix_count;
	erofs_put_le32(out + 92, sb->xattr_prefix_start);
	erofs_put_le64(out + 96, sb->packed_nid);
	out[104] = sb->xattr_filter_reserved;
}

int erofs_sb_decode(const uint8_t in[EROFS_SB_SIZE], struct erofs_sb *sb)
{
	memset(sb, 0, sizeof(*sb));
	if (erofs_get_le32(in) != EROFS_SUPER_MAGIC)
		return -EINVAL;
	sb->checksum = erofs_get_le32(in + 4);
	sb->feature_compat = erofs_get_le32(in + 8);
	sb->blkszbits = in[12];
	sb->sb_extslots = in[13];
	sb->root_nid = erofs_get_le16(in + 14);
	sb->inos = erofs_get_le64(in + 16);
	sb->build_time = erofs_get_le64(in + 24);
	sb->build_time_nsec = erofs_get_le32(in + 32);
	sb->blocks = erofs_get_le32(in + 36);
	sb->meta_blkaddr = erofs_get_le32(in + 40);
	sb->xattr_blkaddr = erofs_get_le32(in + 44);
	memcpy(sb->uuid, in + 48, 16);
	/* copy without assuming termination; the caller validates */
	memcpy(sb->volume_name, in + 64, EROFS_VOLNAME_LEN);
	sb->feature_incompat = erofs_get_le32(in + 80);
	sb->u1 = erofs_get_le16(in + 84);
	sb->extra_devices = erofs_get_le16(in + 86);
	sb->devt_slotoff = erofs_get_le16(in + 88);
	sb->dirblkbits = in[90];
	sb->xattr_prefix_count = in[91];
	sb->xattr_prefix_start = erofs_get_le32(in + 92);
	sb->packed_nid = erofs_get_le64(in + 96);
	sb->xattr_filter_reserved = in[104];
	return 0;
}

void erofs_inode_encode(const struct erofs_dinode *di, uint8_t *out)
{
	uint16_t fmt = (di->extended ? 1 : 0) |
		       (di->datalayout << EROFS_I_DATALAYOUT_SHIFT);

	memset(out, 0, erofs_inode_core_size(di->extended));
	erofs_put_le16(out + 0, fmt);
	erofs_put_le16(out + 2, di->xattr_icount);
	erofs_put_le16(out + 4, di->mode);
	if (!di->extended) {
		erofs_put_le16(out + 6, (uint16_t)di->nlink);
		erofs_put_le32(out + 8, (uint32_t)di->size);
		erofs_put_le32(out + 16, di->i_u);
		erofs_put_le32(out + 20, di->ino);
		erofs_put_le16(out + 24, (uint16_t)di->uid);
		erofs_put_le16(out + 26, (uint16_t)di->gid);
		return;
	}
	erofs_put_le64(out + 8, di->size);
	erofs_put_le32(out + 16, di->i_u);
	erofs_put_le32(out + 20, di->ino);
	erofs_put_le32(out + 24, di->uid);
	erofs_put_le32(out + 28, di->gid);
	erofs_put_le64(out + 32, di->mtime);
	erofs_put_le32(out + 40, di->mtime_nsec);
	erofs_put_le32(out + 44, di->nlink);
}

void erofs_inode_decode(const uint8_t *in, struct erofs_dinode *di)
{
	uint16_t fmt = erofs_get_le16(in);

	memset(di, 0, sizeof(*di));
	di->extended = fmt & EROFS_I_VERSION_MASK;
	di->datalayout =
	    (fmt >> EROFS_I_DATALAYOUT_SHIFT) & EROFS_I_DATALAYOUT_MASK;
	di->xattr_icount = erofs_get_le16(in + 2);
	di->mode = erofs_get_le16(in + 4);
	di->i_u = erofs_get_le32(in + 16);
	di->ino = erofs_get_le32(in + 20);
	if (!di->extended) {
		di->nlink = erofs_get_le16(in + 6);
		di->size = erofs_get_le32(in + 8);
		di->uid = erofs_get_le16(in + 24);
		di->gid = erofs_get_le16(in + 26);
		return;
	}
	di->size = erofs_get_le64(in + 8);
	di->uid = erofs_get_le32(in + 24);
	di->gid = erofs_get_le32(in + 28);
	di->mtime = erofs_get_le64(in + 32);
	di->mtime_nsec = erofs_get_le32(in + 40);
	di->nlink = erofs_get_le32(in + 44);
}

void erofs_dirent_encode(uint8_t *out, uint64_t nid, uint16_t nameoff,
			 uint8_t file_type)
{
	erofs_put_le64(out, nid);
	erofs_put_le16(out + 8, nameoff);
	out[10] = file_type;
	out[11] = 0;
}

void erofs_devslot_encode(const struct erofs_devslot *ds,
			  uint8_t out[EROFS_DEVT_SLOT_SIZE])
{
	memset(out, 0, EROFS_DEVT_SLOT_SIZE);
	memcpy(out, ds->tag, strnlen(ds->tag, EROFS_TAG_LEN));
	erofs_put_le32(out + 64, ds->blocks);
	erofs_put_le32(out + 68, ds->mapped_blkaddr);
}

void erofs_devslot_decode(const uint8_t in[EROFS_DEVT_SLOT_SIZE],
			  struct erofs_devslot *ds)
{
	memset(ds, 0, sizeof(*ds));
	memcpy(ds->tag, in, EROFS_TAG_LEN);
	ds->tag[EROFS_TAG_LEN] = '\0';
	ds->blocks = erofs_get_le32(in + 64);
	ds->mapped_blkaddr = erofs_get_le32(in + 68);
}

void erofs_chunk_index_encode(uint8_t out[EROFS_CHUNK_INDEX_SIZE],
			      uint16_t device_id, uint32_t blkaddr)
{
	erofs_put_le16(out, 0);
	erofs_put_le16(out + 2, device_id);
	erofs_put_le32(out + 4, blkaddr);
}

void erofs_chunk_index_decode(const uint8_t in[EROFS_CHUNK_INDEX_SIZE],
			      struct erofs_chunk_idx *ci)
{
	ci->device_id = erofs_get_le16(in + 2);
	ci->blkaddr = erofs_get_le32(in + 4);
}

uint32_t erofs_rdev_encode(unsigned int major, unsigned int minor)
{
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

void erofs_rdev_decode(uint32_t v, unsigned int *major, unsigned int *minor)
{
	*major = (v & 0xfff00) >> 8;
	*minor = (v & 0xff) | ((v >> 12) & 0xfff00);
}

uint8_t erofs_mode_to_ftype(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return EROFS_FT_REG_FILE;
	case S_IFDIR:
		return EROFS_FT_DIR;
	case S_IFCHR:
		return EROFS_FT_CHRDEV;
	case S_IFBLK:
		return EROFS_FT_BLKDEV;
	case S_IFIFO:
		return EROFS_FT_FIFO;
	case S_IFSOCK:
		return EROFS_FT_SOCK;
	case S_IFLNK:
		return EROFS_FT_SYMLINK;
	default:
		return EROFS_FT_UNKNOWN;
	}
}

/* table for the reflected Castagnoli polynomial, built on first use */
static void crc32c_table(uint32_t t[256])
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & -(c & 1));
		t[i] = c;
	}
}

uint32_t erofs_crc32c(uint32_t crc, const void *data, size_t len)
{
	uint32_t t[256];
	const uint8_t *p = data;

	crc32c_table(t);
	while (len--)
		crc = t[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

uint32_t erofs_sb_checksum(const uint8_t *img, unsigned int blkszbits)
{
	size_t len = (size_t)1 << blkszbits;
	uint8_t zero[4] = {0};
	uint32_t crc;

	if (len > EROFS_SUPER_OFFSET)
		len -= EROFS_SUPER_OFFSET;
	/* the checksum field itself counts as zero */
	crc = erofs_crc32c(~0u, img + EROFS_SUPER_OFFSET, 4);
	crc = erofs_crc32c(crc, zero, 4);
	return erofs_crc32c(crc, img + EROFS_SUPER_OFFSET + 8, len - 8);
}

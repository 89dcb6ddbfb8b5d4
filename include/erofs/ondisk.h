/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * EROFS on-disk format, as read by Linux 6.12 and later.
 *
 * The packed structs below document the layout and carry size assertions;
 * they are never written to disk raw.  Encoding and decoding go through the
 * little-endian helpers and the erofs_*_encode()/decode() functions in
 * lib/ondisk.c, which work on byte buffers.
 */
#ifndef EROFS_ONDISK_H
#define EROFS_ONDISK_H

#include <stddef.h>
#include <stdint.h>

#define EROFS_SUPER_MAGIC    0xE0F5E1E2u
#define EROFS_SUPER_OFFSET   1024
#define EROFS_SB_SIZE	     128
#define EROFS_SLOT_SIZE	     32 /* nid granularity: 1 << 5 */
#define EROFS_ISLOTBITS	     5
#define EROFS_DEVT_SLOT_SIZE 128
#define EROFS_NULL_ADDR	     0xFFFFFFFFu
#define EROFS_NAME_LEN	     255
#define EROFS_MIN_BLKSZBITS  9
#define EROFS_MAX_BLKSZBITS  16
#define EROFS_TAG_LEN	     64
#define EROFS_VOLNAME_LEN    16

/* feature_compat */
#define EROFS_FEATURE_COMPAT_SB_CHKSUM	  0x00000001u
#define EROFS_FEATURE_COMPAT_MTIME	  0x00000002u
#define EROFS_FEATURE_COMPAT_XATTR_FILTER 0x00000004u
/* feature_incompat: only what 6.12 knows (mask 0x7F) */
#define EROFS_FEATURE_INCOMPAT_ZERO_PADDING   0x00000001u
#define EROFS_FEATURE_INCOMPAT_COMPR_CFGS     0x00000002u
#define EROFS_FEATURE_INCOMPAT_CHUNKED_FILE   0x00000004u
#define EROFS_FEATURE_INCOMPAT_DEVICE_TABLE   0x00000008u
#define EROFS_FEATURE_INCOMPAT_ZTAILPACKING   0x00000010u
#define EROFS_FEATURE_INCOMPAT_FRAGMENTS      0x00000020u
#define EROFS_FEATURE_INCOMPAT_XATTR_PREFIXES 0x00000040u
#define EROFS_FEATURE_INCOMPAT_ALL_612	      0x0000007Fu

/* i_format */
#define EROFS_INODE_LAYOUT_COMPACT  0
#define EROFS_INODE_LAYOUT_EXTENDED 1
#define EROFS_I_VERSION_MASK	    0x1
#define EROFS_I_DATALAYOUT_SHIFT    1
#define EROFS_I_DATALAYOUT_MASK	    0x7
#define EROFS_I_ALL_612		    0xF

enum erofs_datalayout {
	EROFS_INODE_FLAT_PLAIN = 0,
	EROFS_INODE_COMPRESSED_FULL = 1,
	EROFS_INODE_FLAT_INLINE = 2,
	EROFS_INODE_COMPRESSED_COMPACT = 3,
	EROFS_INODE_CHUNK_BASED = 4,
	EROFS_INODE_DATALAYOUT_MAX
};

/* i_u.c.format of chunk-based inodes */
#define EROFS_CHUNK_FORMAT_BLKBITS_MASK 0x001F
#define EROFS_CHUNK_FORMAT_INDEXES	0x0020
#define EROFS_CHUNK_FORMAT_ALL_612	0x003F
#define EROFS_CHUNK_INDEX_SIZE		8
#define EROFS_BLOCK_MAP_ENTRY_SIZE	4

/* dirent file types (FT_*) */
enum erofs_ftype {
	EROFS_FT_UNKNOWN = 0,
	EROFS_FT_REG_FILE = 1,
	EROFS_FT_DIR = 2,
	EROFS_FT_CHRDEV = 3,
	EROFS_FT_BLKDEV = 4,
	EROFS_FT_FIFO = 5,
	EROFS_FT_SOCK = 6,
	EROFS_FT_SYMLINK = 7,
};

/* xattr name indexes */
enum erofs_xattr_index {
	EROFS_XATTR_INDEX_USER = 1,
	EROFS_XATTR_INDEX_POSIX_ACL_ACCESS = 2,
	EROFS_XATTR_INDEX_POSIX_ACL_DEFAULT = 3,
	EROFS_XATTR_INDEX_TRUSTED = 4,
	EROFS_XATTR_INDEX_LUSTRE = 5,
	EROFS_XATTR_INDEX_SECURITY = 6,
};
#define EROFS_XATTR_FILTER_SEED	   0x25BBE08Fu
#define EROFS_XATTR_FILTER_BITS	   32
#define EROFS_XATTR_IBODY_HDR_SIZE 12
#define EROFS_XATTR_ENTRY_HDR_SIZE 4
#define EROFS_XATTR_ALIGN(x)	   (((x) + 3) & ~(size_t)3)
#define EROFS_XATTR_MAX_SHARED	   255

/* ---- layout documentation with size checks (never written raw) ---- */

struct erofs_super_block_layout {
	uint32_t magic;
	uint32_t checksum;
	uint32_t feature_compat;
	uint8_t blkszbits;
	uint8_t sb_extslots;
	uint16_t root_nid;
	uint64_t inos;
	uint64_t build_time;
	uint32_t build_time_nsec;
	uint32_t blocks;
	uint32_t meta_blkaddr;
	uint32_t xattr_blkaddr;
	uint8_t uuid[16];
	uint8_t volume_name[16];
	uint32_t feature_incompat;
	uint16_t u1;
	uint16_t extra_devices;
	uint16_t devt_slotoff;
	uint8_t dirblkbits;
	uint8_t xattr_prefix_count;
	uint32_t xattr_prefix_start;
	uint64_t packed_nid;
	uint8_t xattr_filter_reserved;
	uint8_t reserved2[23];
} __attribute__((packed));

struct erofs_inode_compact_layout {
	uint16_t i_format;
	uint16_t i_xattr_icount;
	uint16_t i_mode;
	uint16_t i_nlink;
	uint32_t i_size;
	uint32_t i_reserved;
	uint32_t i_u;
	uint32_t i_ino;
	uint16_t i_uid;
	uint16_t i_gid;
	uint32_t i_reserved2;
} __attribute__((packed));

struct erofs_inode_extended_layout {
	uint16_t i_format;
	uint16_t i_xattr_icount;
	uint16_t i_mode;
	uint16_t i_reserved;
	uint64_t i_size;
	uint32_t i_u;
	uint32_t i_ino;
	uint32_t i_uid;
	uint32_t i_gid;
	uint64_t i_mtime;
	uint32_t i_mtime_nsec;
	uint32_t i_nlink;
	uint8_t i_reserved2[16];
} __attribute__((packed));

struct erofs_dirent_layout {
	uint64_t nid;
	uint16_t nameoff;
	uint8_t file_type;
	uint8_t reserved;
} __attribute__((packed));

struct erofs_deviceslot_layout {
	uint8_t tag[64];
	uint32_t blocks;
	uint32_t mapped_blkaddr;
	uint8_t reserved[56];
} __attribute__((packed));

struct erofs_chunk_index_layout {
	uint16_t advise;
	uint16_t device_id;
	uint32_t blkaddr;
} __attribute__((packed));

struct erofs_xattr_ibody_header_layout {
	uint32_t h_name_filter;
	uint8_t h_shared_count;
	uint8_t h_reserved2[7];
} __attribute__((packed));

struct erofs_xattr_entry_layout {
	uint8_t e_name_len;
	uint8_t e_name_index;
	uint16_t e_value_size;
} __attribute__((packed));

_Static_assert(sizeof(struct erofs_super_block_layout) == EROFS_SB_SIZE,
	       "superblock is 128 bytes");
_Static_assert(sizeof(struct erofs_inode_compact_layout) == 32,
	       "compact inode is 32 bytes");
_Static_assert(sizeof(struct erofs_inode_extended_layout) == 64,
	       "extended inode is 64 bytes");
_Static_assert(sizeof(struct erofs_dirent_layout) == 12, "dirent is 12 bytes");
_Static_assert(sizeof(struct erofs_deviceslot_layout) == EROFS_DEVT_SLOT_SIZE,
	       "device slot is 128 bytes");
_Static_assert(sizeof(struct erofs_chunk_index_layout) ==
		   EROFS_CHUNK_INDEX_SIZE,
	       "chunk index is 8 bytes");
_Static_assert(sizeof(struct erofs_xattr_ibody_header_layout) ==
		   EROFS_XATTR_IBODY_HDR_SIZE,
	       "xattr ibody header is 12 bytes");
_Static_assert(sizeof(struct erofs_xattr_entry_layout) ==
		   EROFS_XATTR_ENTRY_HDR_SIZE,
	       "xattr entry header is 4 bytes");
_Static_assert(offsetof(struct erofs_super_block_layout, extra_devices) == 86,
	       "extra_devices offset");
_Static_assert(offsetof(struct erofs_super_block_layout, packed_nid) == 96,
	       "packed_nid offset");
_Static_assert(offsetof(struct erofs_inode_extended_layout, i_nlink) == 44,
	       "extended i_nlink offset");

#define EROFS_DIRENT_SIZE sizeof(struct erofs_dirent_layout)

/* ---- little-endian helpers ---- */

static inline void erofs_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = v;
	p[1] = v >> 8;
}

static inline void erofs_put_le32(uint8_t *p, uint32_t v)
{
	erofs_put_le16(p, v);
	erofs_put_le16(p + 2, v >> 16);
}

static inline void erofs_put_le64(uint8_t *p, uint64_t v)
{
	erofs_put_le32(p, (uint32_t)v);
	erofs_put_le32(p + 4, (uint32_t)(v >> 32));
}

static inline uint16_t erofs_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t erofs_get_le32(const uint8_t *p)
{
	return erofs_get_le16(p) | ((uint32_t)erofs_get_le16(p + 2) << 16);
}

static inline uint64_t erofs_get_le64(const uint8_t *p)
{
	return erofs_get_le32(p) | ((uint64_t)erofs_get_le32(p + 4) << 32);
}

static inline void erofs_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static inline void erofs_put_be64(uint8_t *p, uint64_t v)
{
	erofs_put_be32(p, (uint32_t)(v >> 32));
	erofs_put_be32(p + 4, (uint32_t)v);
}

static inline uint32_t erofs_get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	       ((uint32_t)p[2] << 8) | p[3];
}

static inline uint64_t erofs_get_be64(const uint8_t *p)
{
	return ((uint64_t)erofs_get_be32(p) << 32) | erofs_get_be32(p + 4);
}

/* ---- host-side views, encoded/decoded by lib/ondisk.c ---- */

struct erofs_sb {
	uint32_t checksum;
	uint32_t feature_compat;
	uint8_t blkszbits;
	uint8_t sb_extslots;
	uint16_t root_nid;
	uint64_t inos;
	uint64_t build_time;
	uint32_t build_time_nsec;
	uint32_t blocks;
	uint32_t meta_blkaddr;
	uint32_t xattr_blkaddr;
	uint8_t uuid[16];
	char volume_name[EROFS_VOLNAME_LEN];
	uint32_t feature_incompat;
	uint16_t u1;
	uint16_t extra_devices;
	uint16_t devt_slotoff;
	uint8_t dirblkbits;
	uint8_t xattr_prefix_count;
	uint32_t xattr_prefix_start;
	uint64_t packed_nid;
	uint8_t xattr_filter_reserved;
};

struct erofs_dinode {
	int extended; /* 0: compact (32 B), 1: extended (64 B) */
	uint8_t datalayout;
	uint16_t xattr_icount;
	uint16_t mode;
	uint64_t size;
	uint32_t i_u; /* raw_blkaddr, rdev or chunk info */
	uint32_t ino;
	uint32_t uid;
	uint32_t gid;
	uint64_t mtime;	     /* extended only */
	uint32_t mtime_nsec; /* extended only */
	uint32_t nlink;
};

struct erofs_devslot {
	char tag[EROFS_TAG_LEN + 1]; /* NUL-terminated copy */
	uint32_t blocks;
	uint32_t mapped_blkaddr;
};

struct erofs_chunk_idx {
	uint16_t device_id;
	uint32_t blkaddr;
};

/* superblock, 128 bytes at EROFS_SUPER_OFFSET */
void erofs_sb_encode(const struct erofs_sb *sb, uint8_t out[EROFS_SB_SIZE]);
/* returns 0, or -EINVAL if the magic is wrong */
int erofs_sb_decode(const uint8_t in[EROFS_SB_SIZE], struct erofs_sb *sb);

/* inode core: 32 or 64 bytes */
static inline unsigned int erofs_inode_core_size(int extended)
{
	return extended ? 64 : 32;
}
void erofs_inode_encode(const struct erofs_dinode *di, uint8_t *out);
/* needs 64 readable bytes when bit 0 of the first byte says extended */
void erofs_inode_decode(const uint8_t *in, struct erofs_dinode *di);

void erofs_dirent_encode(uint8_t *out, uint64_t nid, uint16_t nameoff,
			 uint8_t file_type);

void erofs_devslot_encode(const struct erofs_devslot *ds,
			  uint8_t out[EROFS_DEVT_SLOT_SIZE]);
void erofs_devslot_decode(const uint8_t in[EROFS_DEVT_SLOT_SIZE],
			  struct erofs_devslot *ds);

void erofs_chunk_index_encode(uint8_t out[EROFS_CHUNK_INDEX_SIZE],
			      uint16_t device_id, uint32_t blkaddr);
void erofs_chunk_index_decode(const uint8_t in[EROFS_CHUNK_INDEX_SIZE],
			      struct erofs_chunk_idx *ci);

/* xattr body size in bytes for an i_xattr_icount */
static inline unsigned int erofs_xattr_ibody_size(uint16_t icount)
{
	return icount ? EROFS_XATTR_IBODY_HDR_SIZE + 4 * (icount - 1) : 0;
}

/* new_encode_dev()/new_decode_dev() of the kernel */
uint32_t erofs_rdev_encode(unsigned int major, unsigned int minor);
void erofs_rdev_decode(uint32_t v, unsigned int *major, unsigned int *minor);

uint8_t erofs_mode_to_ftype(uint32_t mode);

/*
 * crc32c as the kernel's erofs_superblock_csum_verify() computes it:
 * reflected Castagnoli, seed given by the caller, no final xor.
 */
uint32_t erofs_crc32c(uint32_t crc, const void *data, size_t len);

/*
 * The superblock checksum of an image whose first block is @blk0 (at least
 * blksz bytes, or 1024 + blksz for blksz <= 1024).  The checksum field is
 * taken as zero.
 */
uint32_t erofs_sb_checksum(const uint8_t *img, unsigned int blkszbits);

#endif

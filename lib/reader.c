// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Image reader: validates a bootstrap the way the 6.12 kernel does and gives
 * bounds-checked access to its superblock, device table, inodes, directory
 * entries and chunk tables.  Nothing read from the image is trusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "erofs/reader.h"
#include "erofs/util.h"

int erofs_image_pread(const struct erofs_image *img, void *buf, size_t len,
		      uint64_t off, const char *what)
{
	ssize_t n;

	if (off > img->size || len > img->size - off)
		return erofs_err(img->log, -EFSCORRUPTED,
				 "%s: %s at byte %" PRIu64 " (+%zu) lies "
				 "outside the image (%" PRIu64 " bytes)",
				 img->name, what, off, len, img->size);
	if (!len)
		return 0;
	if (img->mem) {
		memcpy(buf, img->mem + off, len);
		return 0;
	}
	n = erofs_pread_all(img->fd, buf, len, off);
	if (n < 0)
		return erofs_err(img->log, (int)n,
				 "%s: reading %s at byte %" PRIu64, img->name,
				 what, off);
	if ((size_t)n != len)
		return erofs_err(
		    img->log, -EFSCORRUPTED,
		    "%s: image shrank while reading %s at byte %" PRIu64,
		    img->name, what, off);
	return 0;
}

static int check_superblock(struct erofs_image *img)
{
	const struct erofs_sb *sb = &img->sb;
	unsigned int sb_size;
	uint8_t raw[EROFS_SB_SIZE];
	int err;

	if (img->size < EROFS_SUPER_OFFSET + EROFS_SB_SIZE)
		return erofs_err(img->log, -EFSCORRUPTED,
				 "%s: truncated image (%" PRIu64 " bytes); the "
				 "superblock needs %u",
				 img->name, img->size,
				 EROFS_SUPER_OFFSET + EROFS_SB_SIZE);
	err = erofs_image_pread(img, raw, sizeof(raw), EROFS_SUPER_OFFSET,
				"superblock");
	if (err)
		return err;
	if (erofs_sb_decode(raw, &img->sb))
		return erofs_err(img->log, -EINVAL,
				 "%s: bad magic 0x%08x at byte %u: not an "
				 "EROFS image",
				 img->name, erofs_get_le32(raw),
				 EROFS_SUPER_OFFSET);
	if (sb->blkszbits < EROFS_MIN_BLKSZBITS ||
	    sb->blkszbits > EROFS_MAX_BLKSZBITS)
		return erofs_err(img->log, -EINVAL,
				 "%s: blkszbits %u outside [%u, %u]", img->name,
				 sb->blkszbits, EROFS_MIN_BLKSZBITS,
				 EROFS_MAX_BLKSZBITS);
	img->blkszbits = sb->blkszbits;
	img->blksz = 1u << sb->blkszbits;
	if (sb->sb_extslots > EROFS_SB_MAX_EXTSLOTS)
		return erofs_err(img->log, -EINVAL,
				 "%s: sb_extslots %u: superblock larger than "
				 "%u bytes",
				 img->name, sb->sb_extslots,
				 4096 - EROFS_SUPER_OFFSET);
	sb_size = EROFS_SB_SIZE + 16 * sb->sb_extslots;
	if (img->size < EROFS_SUPER_OFFSET + sb_size)
		return erofs_err(img->log, -EFSCORRUPTED,
				 "%s: truncated image: the %u-byte superblock "
				 "ends past %" PRIu64 " bytes",
				 img->name, sb_size, img->size);
	if (!memchr(sb->volume_name, '\0', EROFS_VOLNAME_LEN))
		return erofs_err(img->log, -EFSCORRUPTED,
				 "%s: volume name has no NUL terminator",
				 img->name);
	if (sb->feature_incompat & ~EROFS_FEATURE_INCOMPAT_ALL_612)
		return erofs_err(
		    img->log, -EINVAL, "%s: unknown incompatible features 0x%x",
		    img->name,
		    sb->feature_incompat & ~EROFS_FEATURE_INCOMPAT_ALL_612);
	if (sb->dirblkbits)
		return erofs_err(img->log, -EINVAL,
				 "%s: dirblkbits %u is not supported",
				 img->name, sb->dirblkbits);
	if (sb->feature_compat & EROFS_FEATURE_COMPAT_SB_CHKSUM) {
		/* erofs_sb_checksum() reads up to the end of this range */
		size_t span = img->blksz > EROFS_SUPER_OFFSET
				  ? img->blksz
				  : EROFS_SUPER_OFFSET + img->blksz;
		uint8_t *blk;
		uint32_t crc;

		if (img->size < span)
			return erofs_err(img->log, -EFSCORRUPTED,
					 "%s: truncated image (%" PRIu64
					 " bytes): the checksummed range ends "
					 "at %zu",
					 img->name, img->size, span);
		blk = malloc(span);
		if (!blk)
			return erofs_err(img->log, -ENOMEM, "%s", img->name);
		err = erofs_image_pread(img, blk, span, 0, "first block");
		if (err) {
			free(blk);
			return err;
		}
		crc = erofs_sb_checksum(blk, img->blkszbits);
		free(blk);
		if (crc != sb->checksum)
			return erofs_err(img->log, -EBADMSG,
					 "%s: superblock checksum 0x%08x, "
					 "computed 0x%08x",
					 img->name, sb->checksum, crc);
	}
	return 0;
}

static int read_device_table(struct erofs_image *img)
{
	const struct erofs_sb *sb = &img->sb;
	uint64_t off = (uint64_t)sb->devt_slotoff * EROFS_DEVT_SLOT_SIZE;
	uint64_t len;
	uint64_t sb_end =
	    EROFS_SUPER_OFFSET + EROFS_SB_SIZE + 16 * (uint64_t)sb->sb_extslots;
	uint8_t slot[EROFS_DEVT_SLOT_SIZE];

	img->nr_devices = 0;
	if (!(sb->feature_incompat & EROFS_FEATURE_INCOMPAT_DEVICE_TABLE)) {
		if (sb->extra_devices)
			erofs_dbg(img->log,
				  "%s: extra_devices %u ignored: no "
				  "DEVICE_TABLE feature",
				  img->name, sb->extra_devices);
		return 0;
	}
	if (!sb->extra_devices)
		return 0;
	len = (uint64_t)sb->extra_devices * EROFS_DEVT_SLOT_SIZE;
	if (off < sb_end && off + len > EROFS_SUPER_OFFSET)
		return erofs_err(img->log, -EFSCORRUPTED,
				 "%s: device table at byte %" PRIu64
				 " (devt_slotoff %u) overlaps the superblock",
				 img->name, off, sb->devt_slotoff);
	if (off > img->size || len > img->size - off)
		return erofs_err(img->log, -EFSCORRUPTED,
				 "%s: device table of %u slots at byte %" PRIu64
				 " ends past the end of the image (%" PRIu64
				 " bytes)",
				 img->name, sb->extra_devices, off, img->size);
	img->devs = calloc(sb->extra_devices, sizeof(*img->devs));
	if (!img->devs)
		return erofs_err(img->log, -ENOMEM, "%s: device table",
				 img->name);
	for (unsigned int i = 0; i < sb->extra_devices; i++) {
		int err = erofs_image_pread(img, slot, sizeof(slot),
					    off + (uint64_t)i * sizeof(slot),
					    "device slot");

		if (err)
			return err;
		erofs_devslot_decode(slot, &img->devs[i]);
	}
	img->nr_devices = sb->extra_devices;
	return 0;
}

static int image_setup(struct erofs_image *img)
{
	struct erofs_rinode root;
	int err;

	err = check_superblock(img);
	if (!err)
		err = read_device_table(img);
	if (!err)
		err = erofs_image_read_inode(img, img->sb.root_nid, &root);
	if (!err && !S_ISDIR(root.di.mode))
		err = erofs_err(img->log, -EINVAL,
				"%s: root inode (nid %u) is not a directory",
				img->name, img->sb.root_nid);
	if (err)
		erofs_image_close(img);
	return err;
}

int erofs_image_open(struct erofs_image *img, const char *path,
		     const struct erofs_log *log)
{
	struct stat st;
	off_t end;
	int err;

	memset(img, 0, sizeof(*img));
	img->name = path;
	img->log = log;
	/* O_NONBLOCK: a FIFO is refused below instead of hanging here */
	img->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (img->fd < 0)
		return erofs_err(log, -errno, "cannot open %s", path);
	if (fstat(img->fd, &st) < 0)
		st.st_mode = 0;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		err = erofs_err(log, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL,
				"%s: not a regular file or block device", path);
		erofs_image_close(img);
		return err;
	}
	end = lseek(img->fd, 0, SEEK_END);
	if (end < 0) {
		err = erofs_err(log, -errno, "%s: cannot find its size", path);
		erofs_image_close(img);
		return err;
	}
	img->size = end;
	return image_setup(img);
}

int erofs_image_open_mem(struct erofs_image *img, const void *buf, size_t len,
			 const char *name, const struct erofs_log *log)
{
	static const uint8_t empty[1];

	memset(img, 0, sizeof(*img));
	img->name = name ? name : "<memory>";
	img->log = log;
	img->fd = -1;
	img->mem = buf ? buf : empty;
	img->size = buf ? len : 0;
	return image_setup(img);
}

void erofs_image_close(struct erofs_image *img)
{
	if (img->fd >= 0)
		close(img->fd);
	img->fd = -1;
	free(img->devs);
	img->devs = NULL;
	img->nr_devices = 0;
}

static int inode_err(const struct erofs_image *img, uint64_t nid, int err,
		     const char *what)
{
	return erofs_err(img->log, err, "%s: inode nid %" PRIu64 ": %s",
			 img->name, nid, what);
}

static int check_chunks(const struct erofs_image *img, struct erofs_rinode *ri)
{
	uint16_t format = (uint16_t)ri->di.i_u;
	uint64_t mask;

	if (format & ~EROFS_CHUNK_FORMAT_ALL_612)
		return inode_err(img, ri->nid, -EOPNOTSUPP,
				 "unsupported chunk format");
	ri->chunkbits =
	    img->blkszbits + (format & EROFS_CHUNK_FORMAT_BLKBITS_MASK);
	ri->chunk_unit = (format & EROFS_CHUNK_FORMAT_INDEXES)
			     ? EROFS_CHUNK_INDEX_SIZE
			     : EROFS_BLOCK_MAP_ENTRY_SIZE;
	mask = ((uint64_t)1 << ri->chunkbits) - 1;
	ri->nr_chunks = (ri->di.size >> ri->chunkbits) + !!(ri->di.size & mask);
	ri->chunk_table = erofs_round_up(ri->iloc + ri->isize + ri->xattr_isize,
					 (uint64_t)ri->chunk_unit);
	if (ri->chunk_table > img->size ||
	    ri->nr_chunks > (img->size - ri->chunk_table) / ri->chunk_unit)
		return inode_err(img, ri->nid, -EFSCORRUPTED,
				 "chunk table runs past the end of the image");
	return 0;
}

static int check_inline_tail(const struct erofs_image *img,
			     const struct erofs_rinode *ri)
{
	uint64_t size = ri->di.size;
	uint64_t tail, pos;

	if (!size)
		return 0;
	tail = size & (img->blksz - 1);
	if (!tail)
		tail = img->blksz;
	pos = ri->iloc + ri->isize + ri->xattr_isize;
	if ((pos & (img->blksz - 1)) + tail > img->blksz)
		return inode_err(img, ri->nid, -EFSCORRUPTED,
				 "inline data crosses a block boundary");
	if (pos + tail > img->size)
		return inode_err(img, ri->nid, -EFSCORRUPTED,
				 "inline data runs past the end of the image");
	return 0;
}

int erofs_image_read_inode(const struct erofs_image *img, uint64_t nid,
			   struct erofs_rinode *ri)
{
	uint64_t base = (uint64_t)img->sb.meta_blkaddr << img->blkszbits;
	uint8_t raw[64];
	uint16_t fmt;
	int err;

	memset(ri, 0, sizeof(*ri));
	ri->nid = nid;
	if (nid > (UINT64_MAX - base) >> EROFS_ISLOTBITS)
		return inode_err(img, nid, -EFSCORRUPTED, "nid out of range");
	ri->iloc = base + (nid << EROFS_ISLOTBITS);
	err = erofs_image_pread(img, raw, 32, ri->iloc, "inode");
	if (err)
		return err;
	fmt = erofs_get_le16(raw);
	if (fmt & ~EROFS_I_ALL_612)
		return inode_err(img, nid, -EOPNOTSUPP,
				 "unsupported i_format bits");
	if (fmt & EROFS_I_VERSION_MASK) {
		err = erofs_image_pread(img, raw + 32, 32, ri->iloc + 32,
					"extended inode");
		if (err)
			return err;
	}
	erofs_inode_decode(raw, &ri->di);
	ri->isize = erofs_inode_core_size(ri->di.extended);
	if (ri->di.datalayout >= EROFS_INODE_DATALAYOUT_MAX)
		return inode_err(img, nid, -EOPNOTSUPP,
				 "unsupported data layout");
	if (ri->di.size >> 63)
		return inode_err(img, nid, -EFSCORRUPTED, "negative size");
	switch (ri->di.mode & S_IFMT) {
	case S_IFREG:
	case S_IFDIR:
	case S_IFLNK:
	case S_IFCHR:
	case S_IFBLK:
	case S_IFIFO:
	case S_IFSOCK:
		break;
	default:
		return inode_err(img, nid, -EFSCORRUPTED, "bogus i_mode");
	}
	ri->xattr_isize = erofs_xattr_ibody_size(ri->di.xattr_icount);
	if (ri->iloc + ri->isize + ri->xattr_isize > img->size)
		return inode_err(img, nid, -EFSCORRUPTED,
				 "xattrs run past the end of the image");
	if (!S_ISREG(ri->di.mode) && !S_ISDIR(ri->di.mode) &&
	    !S_ISLNK(ri->di.mode))
		return 0;
	if (ri->di.datalayout == EROFS_INODE_CHUNK_BASED)
		return check_chunks(img, ri);
	if (ri->di.datalayout == EROFS_INODE_FLAT_INLINE)
		return check_inline_tail(img, ri);
	return 0;
}

int erofs_image_read_data(const struct erofs_image *img,
			  const struct erofs_rinode *ri, void *buf, size_t len,
			  uint64_t off)
{
	uint8_t *p = buf;
	uint64_t nblks, lastblk;
	int inl = ri->di.datalayout == EROFS_INODE_FLAT_INLINE;

	if (ri->di.datalayout != EROFS_INODE_FLAT_PLAIN && !inl)
		return inode_err(img, ri->nid, -EOPNOTSUPP,
				 "data is not stored flat in the bootstrap");
	if (off > ri->di.size || len > ri->di.size - off)
		return inode_err(img, ri->nid, -EINVAL, "read past i_size");
	nblks = erofs_div_round_up(ri->di.size, (uint64_t)img->blksz);
	lastblk = inl ? nblks - 1 : nblks;
	while (len) {
		uint64_t blk = off >> img->blkszbits;
		uint64_t inblk = off & (img->blksz - 1);
		size_t n = img->blksz - inblk;
		uint64_t pa;
		int err;

		if (n > len)
			n = len;
		if (blk < lastblk)
			pa = ((uint64_t)ri->di.i_u << img->blkszbits) +
			     (blk << img->blkszbits) + inblk;
		else
			pa = ri->iloc + ri->isize + ri->xattr_isize + inblk;
		err = erofs_image_pread(img, p, n, pa, "file data");
		if (err)
			return err;
		p += n;
		off += n;
		len -= n;
	}
	return 0;
}

int erofs_image_read_chunk(const struct erofs_image *img,
			   const struct erofs_rinode *ri, uint64_t idx,
			   struct erofs_chunk_idx *ci)
{
	uint8_t raw[EROFS_CHUNK_INDEX_SIZE];
	unsigned int mask;
	int err;

	if (ri->di.datalayout != EROFS_INODE_CHUNK_BASED)
		return inode_err(img, ri->nid, -EINVAL, "not chunk-based");
	if (idx >= ri->nr_chunks)
		return inode_err(img, ri->nid, -EINVAL,
				 "chunk index beyond i_size");
	err = erofs_image_pread(img, raw, ri->chunk_unit,
				ri->chunk_table + idx * ri->chunk_unit,
				"chunk table entry");
	if (err)
		return err;
	if (ri->chunk_unit == EROFS_BLOCK_MAP_ENTRY_SIZE) {
		ci->device_id = 0;
		ci->blkaddr = erofs_get_le32(raw);
		return 0;
	}
	erofs_chunk_index_decode(raw, ci);
	/* the kernel masks ids with roundup_pow_of_two(devices + 1) - 1 */
	mask = 0;
	while (mask < img->nr_devices)
		mask = mask << 1 | 1;
	ci->device_id &= mask;
	if (ci->blkaddr != EROFS_NULL_ADDR && ci->device_id > img->nr_devices)
		return erofs_err(img->log, -EFSCORRUPTED,
				 "%s: inode nid %" PRIu64 " chunk %" PRIu64
				 ": device id %u beyond the %u extra devices",
				 img->name, ri->nid, idx, ci->device_id,
				 img->nr_devices);
	return 0;
}

static int dir_err(const struct erofs_image *img, uint64_t nid, uint64_t blk,
		   const char *what)
{
	return erofs_err(img->log, -EFSCORRUPTED,
			 "%s: directory nid %" PRIu64 " block %" PRIu64 ": %s",
			 img->name, nid, blk, what);
}

int erofs_image_iterate_dir(const struct erofs_image *img,
			    const struct erofs_rinode *dir, erofs_dirent_cb cb,
			    void *arg)
{
	uint64_t nblks, blk;
	uint8_t *buf;
	int err = 0;

	if (!S_ISDIR(dir->di.mode))
		return inode_err(img, dir->nid, -ENOTDIR, "not a directory");
	buf = malloc(img->blksz);
	if (!buf)
		return erofs_err(img->log, -ENOMEM, "%s", img->name);
	nblks = erofs_div_round_up(dir->di.size, (uint64_t)img->blksz);
	for (blk = 0; blk < nblks && !err; blk++) {
		uint64_t start = blk << img->blkszbits;
		unsigned int maxsize = dir->di.size - start < img->blksz
					   ? dir->di.size - start
					   : img->blksz;
		unsigned int nameoff0, ndirents;

		err = erofs_image_read_data(img, dir, buf, maxsize, start);
		if (err)
			break;
		if (maxsize < EROFS_DIRENT_SIZE) {
			err = dir_err(img, dir->nid, blk, "block too short");
			break;
		}
		nameoff0 = erofs_get_le16(buf + 8);
		if (!nameoff0 || nameoff0 % EROFS_DIRENT_SIZE ||
		    nameoff0 >= maxsize) {
			err = dir_err(img, dir->nid, blk,
				      "invalid de[0].nameoff");
			break;
		}
		ndirents = nameoff0 / EROFS_DIRENT_SIZE;
		for (unsigned int i = 0; i < ndirents; i++) {
			const uint8_t *de = buf + i * EROFS_DIRENT_SIZE;
			unsigned int nameoff = erofs_get_le16(de + 8);
			unsigned int end;

			if (nameoff < nameoff0 || nameoff >= maxsize) {
				err = dir_err(img, dir->nid, blk,
					      "bogus dirent name offset");
				break;
			}
			if (i + 1 < ndirents)
				end =
				    erofs_get_le16(de + EROFS_DIRENT_SIZE + 8);
			else
				end = nameoff + strnlen((char *)buf + nameoff,
							maxsize - nameoff);
			if (end <= nameoff || end > maxsize ||
			    end - nameoff > EROFS_NAME_LEN) {
				err = dir_err(img, dir->nid, blk,
					      "bogus dirent name length");
				break;
			}
			err = cb(arg, (const char *)buf + nameoff,
				 end - nameoff, erofs_get_le64(de), de[10]);
			if (err)
				break;
		}
	}
	free(buf);
	return err;
}

static void print_tag(FILE *f, const char *tag)
{
	if (!*tag) {
		fputs("(empty)", f);
		return;
	}
	for (const unsigned char *p = (const unsigned char *)tag; *p; p++)
		fprintf(f, *p >= 0x20 && *p < 0x7f ? "%c" : "\\x%02x", *p);
}

void erofs_image_print(FILE *f, const struct erofs_image *img)
{
	fprintf(f, "bootstrap:     %s (%" PRIu64 " bytes)\n", img->name,
		img->size);
	fprintf(f, "block size:    %u%s\n", img->blksz,
		img->blksz == 4096 ? "" : " (fscache mode needs 4096)");
	fprintf(f, "features:      compat 0x%x incompat 0x%x\n",
		img->sb.feature_compat, img->sb.feature_incompat);
	fprintf(f, "extra devices: %u\n", img->nr_devices);
	if (!img->nr_devices)
		return;
	fprintf(f, "%-4s %-10s %-14s %s\n", "DEV", "BLOCKS", "MAPPED_BLKADDR",
		"TAG");
	for (unsigned int i = 0; i < img->nr_devices; i++) {
		fprintf(f, "%-4u %-10" PRIu32 " %-14" PRIu32 " ", i + 1,
			img->devs[i].blocks, img->devs[i].mapped_blkaddr);
		print_tag(f, img->devs[i].tag);
		fputc('\n', f);
	}
}

static int jput(struct json_object *o, const char *k, struct json_object *v)
{
	if (!v || json_object_object_add(o, k, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

int erofs_image_to_json(const struct erofs_image *img, struct json_object **out)
{
	struct json_object *o = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	char hex[2 * EROFS_TAG_LEN + 1];
	int err = 0;

	*out = NULL;
	if (!o || !arr) {
		json_object_put(o);
		json_object_put(arr);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < img->nr_devices && !err; i++) {
		const struct erofs_devslot *d = &img->devs[i];
		struct json_object *s = json_object_new_object();
		int text = 1;

		if (!s) {
			err = -ENOMEM;
			break;
		}
		for (const char *p = d->tag; *p; p++)
			text &= *p >= 0x20 && *p < 0x7f;
		erofs_hex(hex, (const uint8_t *)d->tag, strlen(d->tag));
		err |= jput(s, "device_id", json_object_new_int(i + 1));
		if (text)
			err |= jput(s, "tag", json_object_new_string(d->tag));
		else
			json_object_object_add(s, "tag", NULL);
		err |= jput(s, "tag_hex", json_object_new_string(hex));
		err |= jput(s, "blocks", json_object_new_int64(d->blocks));
		err |= jput(s, "mapped_blkaddr",
			    json_object_new_int64(d->mapped_blkaddr));
		if (json_object_array_add(arr, s)) {
			json_object_put(s);
			err = -ENOMEM;
		}
	}
	err |= jput(o, "bootstrap", json_object_new_string(img->name));
	err |= jput(o, "size", json_object_new_uint64(img->size));
	err |= jput(o, "block_size", json_object_new_int(img->blksz));
	err |= jput(o, "feature_compat",
		    json_object_new_int64(img->sb.feature_compat));
	err |= jput(o, "feature_incompat",
		    json_object_new_int64(img->sb.feature_incompat));
	err |= jput(o, "root_nid", json_object_new_int(img->sb.root_nid));
	err |= jput(o, "devices", arr);
	if (err) {
		json_object_put(o);
		return -ENOMEM;
	}
	*out = o;
	return 0;
}

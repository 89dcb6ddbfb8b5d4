/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Cookie layout: where the cachefiles cache of a 6.12 kernel keeps the
 * objects of an EROFS image mounted in fscache mode.
 *
 * Volume key "erofs,<domain_id or fsid>", directory "I<volume key>"; one
 * cookie per object: the bootstrap (key = fsid) and each blob device (key =
 * its device-table tag or a device= mount option).  The fan-out directory is
 * "@%02x" of the low byte of fscache_hash(volume_hash, key), the file name is
 * the key cooked as cachefiles_cook_key() does, and cachefiles keeps an
 * xattr "user.CacheFiles.cache" on the volume directory and on each file.
 *
 * Also: checking a cache directory and seeding one offline (lib/cache.c).
 */
#ifndef EROFS_COOKIE_H
#define EROFS_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "erofs/log.h"

struct json_object;
struct erofs_image;

#define EROFS_COOKIE_NAME_MAX 255 /* NAME_MAX of the cache fs */
/* "I" + volume key must be a file name */
#define EROFS_COOKIE_VOLKEY_MAX	   (EROFS_COOKIE_NAME_MAX - 1)
#define EROFS_COOKIE_VOLKEY_PREFIX "erofs,"
/* fsid or domain_id: "erofs," + name must fit the volume key (248) */
#define EROFS_COOKIE_FSID_MAX                                                  \
	(EROFS_COOKIE_VOLKEY_MAX - (sizeof(EROFS_COOKIE_VOLKEY_PREFIX) - 1))
/* cachefiles_cook_key() BUG()s on longer keys */
#define EROFS_COOKIE_KEY_MAX (EROFS_COOKIE_NAME_MAX - 3)
/* "cache/" + "I" vk + "/@xx/" + name */
#define EROFS_COOKIE_PATH_MAX                                                  \
	(6 + 1 + EROFS_COOKIE_VOLKEY_MAX + 5 + EROFS_COOKIE_NAME_MAX)

#define EROFS_CACHE_XATTR	    "user.CacheFiles.cache"
#define EROFS_CACHE_DATA_XATTR_SIZE 18
#define EROFS_CACHE_VOL_XATTR_SIZE  4
#define EROFS_CACHE_XATTR_TYPE_DATA 1
#define EROFS_CACHE_CONTENT_NO_DATA 0
#define EROFS_CACHE_CONTENT_DIRTY   4
/* cache files are truncated to multiples of CACHEFILES_DIO_BLOCK_SIZE */
#define EROFS_CACHE_DIO_BLOCK 4096
#define EROFS_CACHE_FANOUT    256

/* object size not known (JSON null, printed as "-") */
#define EROFS_COOKIE_SIZE_UNKNOWN UINT64_MAX

/* fscache_hash(): @len must be a multiple of 4; words are little-endian */
uint32_t erofs_fscache_hash(uint32_t salt, const void *data, size_t len);

/*
 * Checks a mount option value (fsid=, domain_id=, device=): non-empty and
 * without ',' (the option separator).  With @volume set it also becomes the
 * volume key: at most EROFS_COOKIE_FSID_MAX bytes and no '/' (the volume
 * directory is "I" + key).  @what names the option in the message.
 */
int erofs_cookie_check_name(const char *what, const char *name, int volume,
			    const struct erofs_log *log);

/*
 * Checks a cookie key of @len bytes: 1..EROFS_COOKIE_KEY_MAX bytes and no
 * NUL (tags are cut at the first NUL by the kernel).  '/' and ',' are fine
 * in a key: cachefiles encodes such keys ('S', 'T' or 'E' names).
 */
int erofs_cookie_check_key(const char *what, const void *key, size_t len,
			   const struct erofs_log *log);

/*
 * cachefiles_cook_key(): writes the NUL-terminated file name of @key into
 * @out (EROFS_COOKIE_NAME_MAX + 1 bytes).  Returns its length, -EINVAL for a
 * key length outside 1..252, or -ENAMETOOLONG when the cooked name would not
 * fit a file name (long non-printable keys).
 */
int erofs_cookie_cook_key(const void *key, size_t len, char *out);

struct erofs_cookie_volume {
	char key[EROFS_COOKIE_VOLKEY_MAX + 1]; /* "erofs,<name>" */
	char dir[EROFS_COOKIE_VOLKEY_MAX + 2]; /* "I" + key */
	uint32_t hash;			       /* volume key_hash */
	char mount_options[2 * EROFS_COOKIE_FSID_MAX + 32];
};

/* validates @fsid and @domain_id (may be NULL) and computes the volume */
int erofs_cookie_volume_init(struct erofs_cookie_volume *vol, const char *fsid,
			     const char *domain_id,
			     const struct erofs_log *log);

struct erofs_cookie {
	unsigned int device_id;		       /* 0 = bootstrap */
	uint8_t key[EROFS_COOKIE_KEY_MAX + 1]; /* raw key, NUL added */
	size_t keylen;
	uint32_t hash;			      /* cookie key_hash */
	char fanout[4];			      /* "@xx" */
	char name[EROFS_COOKIE_NAME_MAX + 1]; /* cooked file name */
	char path[EROFS_COOKIE_PATH_MAX + 1]; /* relative to the cache root */
	uint64_t object_size;		      /* copen size or SIZE_UNKNOWN */
	uint32_t device_blocks; /* device table's count; 0 = not known */
};

int erofs_cookie_init(struct erofs_cookie *ck,
		      const struct erofs_cookie_volume *vol,
		      unsigned int device_id, const void *key, size_t keylen,
		      uint64_t object_size, const struct erofs_log *log);

/* the 18-byte data-file xattr cachefiles writes for a copen size */
void erofs_cookie_data_xattr(uint64_t object_size,
			     uint8_t out[EROFS_CACHE_DATA_XATTR_SIZE]);
/* the 4-byte volume-directory xattr (all zero for erofs) */
void erofs_cookie_volume_xattr(uint8_t out[EROFS_CACHE_VOL_XATTR_SIZE]);
/* size of the cache file the kernel allocates for an object */
static inline uint64_t erofs_cookie_cache_file_size(uint64_t object_size)
{
	return (object_size + EROFS_CACHE_DIO_BLOCK - 1) &
	       ~(uint64_t)(EROFS_CACHE_DIO_BLOCK - 1);
}

/* every object of one image, bootstrap first, then blobs in slot order */
struct erofs_cookie_table {
	struct erofs_cookie_volume vol;
	unsigned int nr; /* 1 + number of blobs */
	struct erofs_cookie *cookies;
	uint32_t blksz; /* image block size; 0 = not known */
};

/*
 * Does an object of @size bytes agree with the device table?  A blob of a
 * device of N blocks holds more than N - 1 and at most N blocks; true when
 * the table does not say (no image, or a device of 0 blocks as old
 * builders write).
 */
bool erofs_cookie_size_fits(const struct erofs_cookie_table *t,
			    const struct erofs_cookie *ck, uint64_t size);

/*
 * Builds the table.  @blob_tags[i] is the cookie key of device i + 1;
 * @blob_sizes may be NULL (sizes unknown).  Duplicate keys are rejected
 * with -EEXIST: the kernel refuses a duplicate cookie in one volume.
 */
int erofs_cookie_table_build(struct erofs_cookie_table *t, const char *fsid,
			     const char *domain_id, uint64_t bootstrap_size,
			     unsigned int nr_blobs,
			     const char *const *blob_tags,
			     const uint64_t *blob_sizes,
			     const struct erofs_log *log);
void erofs_cookie_table_free(struct erofs_cookie_table *t);

/*
 * As a json-c object:
 * {"volume_key", "volume_dir", "volume_hash", "mount_options",
 *  "cookies": [{"device_id", "role", "cookie_key", "cookie_key_hex",
 *               "key_hash", "object_size", "fanout", "cooked_name",
 *               "cache_path"}]}
 * object_size is null when unknown; cookie_key is null unless the key is
 * printable ASCII (cookie_key_hex always holds it).
 */
int erofs_cookie_table_to_json(const struct erofs_cookie_table *t,
			       struct json_object **out,
			       const struct erofs_log *log);

/* human-readable table */
void erofs_cookie_table_print(FILE *f, const struct erofs_cookie_table *t);

/* the builders' entry point: build + to_json in one call */
int erofs_cookie_table_json(const char *fsid, const char *domain_id,
			    uint64_t bootstrap_size, unsigned int nr_blobs,
			    const char *const *blob_tags,
			    const uint64_t *blob_sizes,
			    struct json_object **out,
			    const struct erofs_log *log);

/*
 * The table of a bootstrap already opened with erofs_image_open().  Keys of
 * the blobs are the slot tags unless @devices (mount option device=, in slot
 * order, @nr_devices of them; must equal the image's extra devices) is given.
 * Sizes: @bootstrap_size for the bootstrap; for a blob the size of
 * <blob_dir>/<key> when @blob_dir is set and the file exists, otherwise
 * unknown.  A blob file whose size contradicts the device table is refused
 * (-EINVAL, naming it); the table keeps the block counts so that sizes
 * found later (cache xattrs) are checked too.
 */
int erofs_cookie_table_from_image(struct erofs_cookie_table *t,
				  const struct erofs_image *img,
				  const char *fsid, const char *domain_id,
				  const char *const *devices,
				  unsigned int nr_devices,
				  uint64_t bootstrap_size, const char *blob_dir,
				  const struct erofs_log *log);

/* ---- lib/cache.c: the cache directory itself ---- */

enum erofs_cache_xattr_state {
	EROFS_CACHE_XATTR_OK = 0,
	EROFS_CACHE_XATTR_MISSING,	 /* no xattr (ENODATA) */
	EROFS_CACHE_XATTR_BAD,		 /* wrong length/type/content */
	EROFS_CACHE_XATTR_SIZE_MISMATCH, /* object_size != copen size */
	EROFS_CACHE_XATTR_UNCHECKED,	 /* file missing or size unknown */
};

struct erofs_cache_status {
	int exists; /* regular file at the path */
	enum erofs_cache_xattr_state xattr;
	uint64_t xattr_size; /* object_size in the xattr, if any */
	uint64_t file_size;  /* st_size of the cache file */
	uint64_t needed;     /* round_up(object size, 4096) */
	uint64_t present;    /* data bytes in [0, needed) */
	int complete;	     /* exists, xattr ok, present == needed */
};

struct erofs_cache_report {
	int volume_exists;
	enum erofs_cache_xattr_state volume_xattr;
	unsigned int nr;
	struct erofs_cache_status *st; /* one per cookie of the table */
	int complete;		       /* every object complete */
};

/*
 * Examines @cache_dir (the directory given to cachefiles' "dir" command, or
 * a copy of it) for every object of @t.  When an object size is unknown,
 * the size in the file's xattr is used to measure presence (an xattr size
 * the device table contradicts is a SIZE_MISMATCH).  Read-only; the path
 * below @cache_dir is walked without following symbolic links (-ELOOP).
 */
int erofs_cache_check(const char *cache_dir, const struct erofs_cookie_table *t,
		      struct erofs_cache_report *rep,
		      const struct erofs_log *log);
void erofs_cache_report_free(struct erofs_cache_report *rep);
void erofs_cache_report_print(FILE *f, const char *cache_dir,
			      const struct erofs_cookie_table *t,
			      const struct erofs_cache_report *rep);
int erofs_cache_report_to_json(const char *cache_dir,
			       const struct erofs_cookie_table *t,
			       const struct erofs_cache_report *rep,
			       struct json_object **out,
			       const struct erofs_log *log);

/*
 * Is @cache_dir bound by a live cachefiles cache?  Returns 0 when it is
 * not, -EBUSY (with a message saying how it was detected) when it is, or
 * another -errno.  See erofs-cookies(1) for the method.
 */
int erofs_cache_probe_bound(const char *cache_dir, const struct erofs_log *log);

/*
 * Fills @cache_dir so that a mount finds every object complete: cache/,
 * graveyard/, the volume directory with its xattr, all 256 fan-out
 * directories, and each object copied from @sources[i] (a path per cookie
 * of @t, whose sizes must all be known), zero-padded with written data to
 * a multiple of 4096, given the data xattr, and renamed into place.
 * Refuses a bound cache directory, a symbolic link anywhere below
 * @cache_dir on the way to an object (-ELOOP), a source that is not a
 * regular file (opened without blocking) and one whose size differs from
 * the table or contradicts the device table.
 */
int erofs_cache_seed(const char *cache_dir, const struct erofs_cookie_table *t,
		     const char *const *sources, const struct erofs_log *log);

#endif

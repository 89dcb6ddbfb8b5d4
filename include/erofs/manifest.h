/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The JSON manifest every builder writes next to its outputs and every
 * consumer (fetchd, mount, cookies) reads: the bootstrap and each blob with
 * size and SHA-256, build counts, and the cookie table.
 */
#ifndef EROFS_MANIFEST_H
#define EROFS_MANIFEST_H

#include <stddef.h>
#include <stdint.h>

#include "erofs/log.h"
#include "erofs/util.h"

struct json_object;

#define EROFS_MANIFEST_FORMAT  "erofs-ondemand-manifest"
#define EROFS_MANIFEST_VERSION 1

/*
 * Limits of what a reader accepts (erofs-fetchd(1) documents them): blobs
 * are device slots 1..65535; the file size and the JSON objects and values
 * bound the memory a manifest costs before any of it is looked at.  Our
 * builders write 2 objects and 17 values per blob.
 */
#define EROFS_MANIFEST_MAX_BLOBS      65535u
#define EROFS_MANIFEST_MAX_BYTES      (128u << 20)
#define EROFS_MANIFEST_MAX_CONTAINERS (4u * (EROFS_MANIFEST_MAX_BLOBS + 1))
#define EROFS_MANIFEST_MAX_VALUES     (32u * (EROFS_MANIFEST_MAX_BLOBS + 1))

struct erofs_manifest_blob {
	unsigned int device_id; /* 1-based slot order */
	char tag[EROFS_SHA256_HEX_LEN + 1];
	uint64_t size;
	uint64_t blocks;
	char sha256[EROFS_SHA256_HEX_LEN + 1];
	char *path;
};

struct erofs_manifest_counts {
	uint64_t inodes;
	uint64_t regular_files;
	uint64_t chunks;
	uint64_t unique_chunks;
	uint64_t zero_chunks;
	uint64_t bytes_in;
	uint64_t bytes_stored;
	uint64_t bytes_deduplicated;
	uint64_t bytes_zero;
};

struct erofs_manifest {
	char *bootstrap_path;
	uint64_t bootstrap_size;
	char bootstrap_sha256[EROFS_SHA256_HEX_LEN + 1];
	unsigned int block_size;
	uint64_t chunk_size;
	char *fsid;	 /* optional */
	char *domain_id; /* optional */
	unsigned int nr_blobs;
	struct erofs_manifest_blob *blobs;
	struct erofs_manifest_counts counts;
};

/* the manifest as JSON; *out is a new object the caller puts */
int erofs_manifest_to_json(const struct erofs_manifest *m,
			   struct json_object **out,
			   const struct erofs_log *log);

/* writes @m to @path atomically */
int erofs_manifest_save(const struct erofs_manifest *m, const char *path,
			const struct erofs_log *log);

/*
 * Writes @m as text to @fd, a new empty file (@path names it in
 * messages); the caller gives it its name.
 */
int erofs_manifest_write(const struct erofs_manifest *m, int fd,
			 const char *path, const struct erofs_log *log);

/*
 * Parses and validates a manifest file (a regular file; a FIFO or device is
 * refused without blocking); 0 or -errno with a message.  Sizes are at most
 * 2^32 - 1 blocks (what the device table holds), the whole text must be one
 * JSON object, and the limits above hold.
 */
int erofs_manifest_load(struct erofs_manifest *m, const char *path,
			const struct erofs_log *log);
/* the same over @len bytes of text; @path names it in messages */
int erofs_manifest_parse(struct erofs_manifest *m, const char *text, size_t len,
			 const char *path, const struct erofs_log *log);

void erofs_manifest_free(struct erofs_manifest *m);

#endif

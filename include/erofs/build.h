/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The builder: importer -> inode tree -> chunk store -> blob writer, and
 * the image writer for the bootstrap, with every output written under a
 * temporary name and renamed only when the whole build succeeded.
 */
#ifndef EROFS_BUILD_H
#define EROFS_BUILD_H

#include <stdbool.h>
#include <stdint.h>

#include "erofs/import.h"
#include "erofs/log.h"
#include "erofs/manifest.h"

enum erofs_uuid_mode {
	EROFS_UUID_RANDOM = 0,
	EROFS_UUID_CLEAR,
	EROFS_UUID_GIVEN,
};

struct erofs_build_opts {
	unsigned int blkszbits;
	uint64_t chunksize;		/* 0: flat files */
	const char *blobdev;		/* NULL: chunks stay in the image */
	const char *manifest;		/* NULL: no manifest */
	bool xattr_filter;
	int xattr_tolerance;		/* < 0: no xattrs */

	bool fixed_time;		/* -T */
	uint64_t timestamp;
	bool have_epoch;		/* SOURCE_DATE_EPOCH */
	uint64_t epoch;
	bool mkfs_time_only;		/* --mkfs-time */

	enum erofs_uuid_mode uuid_mode;
	uint8_t uuid[16];
	char label[16];

	bool all_root;
	int64_t force_uid;		/* -1: keep */
	int64_t force_gid;

	struct erofs_exclude exclude;
	const char *fsid;		/* cookie table in the manifest */
	const char *domain_id;
};

void erofs_build_opts_init(struct erofs_build_opts *o);

struct erofs_build_result {
	struct erofs_manifest manifest;
};

/*
 * Builds @dest (and opts->blobdev, opts->manifest) from @src: a directory,
 * an archive file libarchive reads (tar with any compression, cpio, zip...;
 * also a pipe or character device), or "-" for an archive on stdin.  An
 * archive's file data is spooled to an unlinked file in @dest's directory.
 * On failure nothing is left at any output path.
 */
int erofs_build(const char *dest, const char *src,
		const struct erofs_build_opts *opts,
		struct erofs_build_result *res, const struct erofs_log *log);

/* the same (the name from when only directories were read) */
int erofs_build_dir(const char *dest, const char *srcdir,
		    const struct erofs_build_opts *opts,
		    struct erofs_build_result *res,
		    const struct erofs_log *log);

void erofs_build_result_free(struct erofs_build_result *res);

/* parses "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"; 0 or -EINVAL */
int erofs_uuid_parse(const char *s, uint8_t uuid[16]);

#endif

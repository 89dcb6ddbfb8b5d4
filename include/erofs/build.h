/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The builder: importer -> inode tree -> chunk store -> blob writer, and
 * the image writer for the bootstrap, with every output written under a
 * temporary name and renamed only when the whole build succeeded.
 */
#ifndef EROFS_BUILD_H
#define EROFS_BUILD_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>

#include "erofs/log.h"
#include "erofs/manifest.h"
#include "erofs/util.h"

/* --exclude-path / --exclude-regex, matched on paths relative to the root */
struct erofs_exclude {
	char **paths;
	unsigned int nr_paths;
	regex_t *regexes;
	unsigned int nr_regexes;
};

int erofs_exclude_add_path(struct erofs_exclude *ex, const char *path);
/* compiles @re (POSIX extended); -EINVAL with a message when it is bad */
int erofs_exclude_add_regex(struct erofs_exclude *ex, const char *re,
			    const struct erofs_log *log);
/* @rel has no leading '/' ("a/b/c") */
bool erofs_exclude_match(const struct erofs_exclude *ex, const char *rel);
void erofs_exclude_free(struct erofs_exclude *ex);

enum erofs_uuid_mode {
	/*
	 * derived: from SOURCE_DATE_EPOCH when set, else from the image's
	 * content (a digest of everything in the bootstrap but the UUID and
	 * the checksum, and of the blobs' digests), so that a build is
	 * reproducible by default
	 */
	EROFS_UUID_DERIVED = 0,
	EROFS_UUID_RANDOM, /* -U random */
	EROFS_UUID_CLEAR,
	EROFS_UUID_GIVEN,
};

enum erofs_tar_mode {
	EROFS_TAR_AUTO = 0,   /* SOURCE a directory or an archive */
	EROFS_TAR_FULL,	      /* --tar=f: file data into the image/blob */
	EROFS_TAR_INDEX,      /* --tar=i: data stays in the (appended) tar */
	EROFS_TAR_HEADERBALL, /* --tar=headerball: headers, no bodies */
};

enum erofs_inode_form {
	EROFS_FORM_AUTO = 0, /* compact where the fields fit */
	EROFS_FORM_COMPACT,  /* -E force-inode-compact */
	EROFS_FORM_EXTENDED, /* -E force-inode-extended */
};

struct erofs_build_progress {
	uint64_t entries;      /* entries imported so far */
	uint64_t bytes_in;     /* source bytes read so far */
	uint64_t bytes_stored; /* bytes written to blobs and image */
	unsigned int source;   /* 1-based index of the source being read */
	/*
	 * --sort=path on an archive, at the end: bytes of data laid out again
	 * in path order so far, of relay_total (both 0 in other phases)
	 */
	uint64_t relaid;
	uint64_t relay_total;
	bool done; /* last call */
};

struct erofs_build_opts {
	unsigned int blkszbits;
	uint64_t chunksize;   /* 0: flat files */
	const char *blobdev;  /* NULL: chunks stay in the image */
	const char *manifest; /* NULL: no manifest */
	bool xattr_filter;
	int xattr_tolerance; /* < 0: no xattrs */

	bool fixed_time; /* -T */
	uint64_t timestamp;
	bool have_epoch; /* SOURCE_DATE_EPOCH */
	uint64_t epoch;
	bool mkfs_time_only; /* --mkfs-time */

	enum erofs_uuid_mode uuid_mode;
	uint8_t uuid[16];
	char label[16];

	bool all_root;
	int64_t force_uid; /* -1: keep */
	int64_t force_gid;

	struct erofs_exclude exclude;
	const char *fsid; /* cookie table in the manifest */
	const char *domain_id;

	/* erofs-utils compatible choices (mkfs.erofs -E, --tar, ...) */
	enum erofs_tar_mode tar_mode;	  /* --tar=f|i|headerball */
	bool aufs;			  /* --aufs */
	bool ovlfs_strip;		  /* --ovlfs-strip=1 */
	bool no_inline_data;		  /* -E noinline_data */
	enum erofs_inode_form inode_form; /* -E force-inode-* */
	bool force_blockmap;		  /* -E force-inode-blockmap */
	bool force_chunk_indexes;	  /* -E force-chunk-indexes */
	bool no_sbcrc;			  /* -E nosbcrc */
	bool ignore_mtime;		  /* --ignore-mtime */
	/*
	 * --sort=path: file data in path order (see erofs_build()); false:
	 * in the order it is read
	 */
	bool sort_path;
	/*
	 * --ungzip=FILE, --unxz=FILE: the decompressed archive also goes to
	 * this file, which appears only when the build succeeds
	 */
	const char *tar_dump;
	bool hard_dereference; /* --hard-dereference */
	int64_t uid_offset;    /* --uid-offset */
	int64_t gid_offset;    /* --gid-offset */
	char **xattr_prefixes; /* --xattr-prefix, long name prefixes */
	unsigned int nr_xattr_prefixes;

	/*
	 * temporary output names are recorded here while they exist (NULL:
	 * nowhere), for the program's signal handler; see erofs/util.h
	 */
	struct erofs_tmpnames *tmpnames;

	/* called now and then during a build (NULL: never) */
	void (*progress)(void *arg, const struct erofs_build_progress *p);
	void *progress_arg;
};

void erofs_build_opts_init(struct erofs_build_opts *o);

struct erofs_build_result {
	struct erofs_manifest manifest;
};

/*
 * Builds @dest (and opts->blobdev, opts->manifest) from @src: a directory,
 * an archive file libarchive reads (tar with any compression, cpio, zip...;
 * also a pipe or character device), or "-" for an archive on stdin.
 * File data is written as it is read: a directory is walked in path order
 * (each directory's files by name, then its subdirectories, in turn, as
 * erofs-utils lays data out); an archive in its own order, which
 * opts->sort_path turns into path order when the build finishes (the data
 * is copied once more, and what the archive replaced is dropped).
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

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A strict reader of tar headers (POSIX ustar, GNU and pax) for streams
 * libarchive cannot read: --tar=headerball, where regular files carry
 * their header but no body.  It validates every field it uses: header
 * checksums, magic, octal and base-256 numbers, pax records, GNU long
 * names; each failure is logged naming the entry and the archive offset.
 */
#ifndef LIBEROFS_TAR_HEADER_H
#define LIBEROFS_TAR_HEADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "erofs/log.h"

/* the longest GNU long name (L/K) and pax path accepted */
#define EROFS_TAR_PATH_MAX 4096u
/* the largest pax extended header accepted */
#define EROFS_TAR_PAX_MAX (8u << 20)

struct erofs_tar_xattr {
	char *name;
	uint8_t *value;
	size_t len;
};

/* one entry: everything its headers (pax, GNU long names, ustar) said */
struct erofs_tar_hdr {
	uint64_t offset; /* of the entry's ustar header block */
	char type;	 /* '0' (also for '\0' and '7'), '1'...'6' */
	char *path;	 /* as recorded, NUL-terminated */
	char *linkpath;	 /* '1', '2': the target; else NULL */
	uint32_t mode;	 /* permission bits (07777) */
	uint64_t uid, gid;
	int64_t mtime;
	uint32_t mtime_nsec;
	uint64_t size; /* of the body (absent in a headerball) */
	uint32_t devmajor, devminor;
	struct erofs_tar_xattr *xattrs; /* pax SCHILY./LIBARCHIVE.xattr.* */
	unsigned int nr_xattrs;
};

/* reads up to @len bytes: fewer only at the end, or -errno */
typedef ssize_t (*erofs_tar_read_fn)(void *arg, void *buf, size_t len);

struct erofs_tar_pax;

struct erofs_tar_reader {
	erofs_tar_read_fn read;
	void *arg;
	const struct erofs_log *log;
	const char *src; /* the archive, for messages */
	/* regular files and hard links carry no body (--tar=headerball) */
	bool headerball;
	uint64_t offset;	      /* bytes consumed so far */
	uint64_t skip;		      /* body of the last entry, still unread */
	struct erofs_tar_pax *global; /* pax 'g' records in force */
	bool ended;
};

void erofs_tar_reader_init(struct erofs_tar_reader *r, erofs_tar_read_fn rd,
			   void *arg, const char *src, bool headerball,
			   const struct erofs_log *log);
void erofs_tar_reader_free(struct erofs_tar_reader *r);

/*
 * The next entry into @h (freed first with erofs_tar_hdr_free(), so it
 * may be reused): 1, 0 at the end-of-archive marker (or a clean end of
 * the stream at a block boundary, with a warning), or -errno logged.
 * Without headerball, the body of the previous regular file is skipped
 * first (it is not returned).
 */
int erofs_tar_next(struct erofs_tar_reader *r, struct erofs_tar_hdr *h);

void erofs_tar_hdr_free(struct erofs_tar_hdr *h);

#endif

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Small helpers shared by every tool: full reads/writes, hex, sizes, and
 * output files that appear at their final name only when complete.
 */
#ifndef EROFS_UTIL_H
#define EROFS_UTIL_H

#include <stddef.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "erofs/log.h"

#define EROFS_SHA256_LEN     32
#define EROFS_SHA256_HEX_LEN 64

#define erofs_round_up(x, a)	 ((((x) + (a)-1) / (a)) * (a))
#define erofs_div_round_up(x, a) (((x) + (a)-1) / (a))

/*
 * Temporary output names a program removes when a fatal signal ends it.
 * The library records a name here while it exists on disk (outputs are
 * created unlinked where the file system allows, so usually none is), and
 * a temporary directory (erofs-convert's layout) with everything in it;
 * the program owns the object, typically in static storage, and calls
 * erofs_tmpnames_unlink() from its SIGINT/SIGTERM/SIGHUP handler.  The
 * library installs no signal handler itself.
 */
#define EROFS_TMPNAMES_MAX 8
#define EROFS_TMPNAME_LEN  4096

struct erofs_tmpnames {
	/* 0: free, EROFS_TMPNAME_FILE or EROFS_TMPNAME_TREE */
	volatile sig_atomic_t used[EROFS_TMPNAMES_MAX];
	char path[EROFS_TMPNAMES_MAX][EROFS_TMPNAME_LEN];
};

enum {
	EROFS_TMPNAME_FILE = 1,
	EROFS_TMPNAME_TREE, /* a directory and what it holds */
};

/*
 * Records @path as @kind in a free slot of @t (may be NULL); the slot, or
 * -1 when there is none (the name is then not removed on a signal).
 */
int erofs_tmpnames_add(struct erofs_tmpnames *t, const char *path, int kind);
/* the name in @slot is gone or kept; a no-op for a NULL @t or slot -1 */
void erofs_tmpnames_forget(struct erofs_tmpnames *t, int slot);
/*
 * Async-signal-safe: unlinks every recorded file and removes every
 * recorded directory tree (a few levels deep, as the library makes them).
 */
void erofs_tmpnames_unlink(struct erofs_tmpnames *t);

/*
 * An output file that appears at @path only when erofs_outfile_commit()
 * succeeds.  It is created unlinked (O_TMPFILE) in @path's directory where
 * the file system allows, else under a temporary name next to @path,
 * recorded in @reg (may be NULL).  erofs_outfile_abort() removes
 * everything; nothing is ever left at @path on failure, and an existing
 * file there stays untouched until the commit replaces it atomically.
 */
struct erofs_outfile {
	char *path;
	char *tmppath; /* the temporary name, when there is one */
	int fd;
	bool unlinked; /* O_TMPFILE */
	int slot;      /* in reg, or -1 */
	struct erofs_tmpnames *reg;
};

int erofs_outfile_open(struct erofs_outfile *of, const char *path,
		       const struct erofs_log *log);
int erofs_outfile_open_reg(struct erofs_outfile *of, const char *path,
			   struct erofs_tmpnames *reg,
			   const struct erofs_log *log);
int erofs_outfile_commit(struct erofs_outfile *of, const struct erofs_log *log);
void erofs_outfile_abort(struct erofs_outfile *of);

/* 0 or -errno; EINTR and short writes are retried */
int erofs_pwrite_all(int fd, const void *buf, size_t len, off_t off);
int erofs_write_all(int fd, const void *buf, size_t len);
/* bytes read (short only at end of file) or -errno */
ssize_t erofs_pread_all(int fd, void *buf, size_t len, off_t off);

/* the value of the hex digit @c (either case), or -1 */
int erofs_hexval(char c);
/* lowercase hex of @n bytes into @out (2n + 1 bytes) */
void erofs_hex(char *out, const uint8_t *in, size_t n);
/* 0, or -EINVAL when @hex is not 2n lowercase/uppercase hex digits */
int erofs_unhex(uint8_t *out, const char *hex, size_t n);

/* "4096", "64k", "1M", "2G" (powers of 1024); 0 or -EINVAL/-ERANGE */
int erofs_parse_size(const char *s, uint64_t *out);
/* a base-10 unsigned integer that fits in @max; 0 or -EINVAL/-ERANGE */
int erofs_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* SHA-256 of [0, size) of @fd; 0 or -errno */
int erofs_sha256_fd(int fd, uint64_t size, uint8_t out[EROFS_SHA256_LEN]);

static inline int erofs_is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

static inline unsigned int erofs_ilog2(uint64_t v)
{
	return 63 - __builtin_clzll(v);
}

#endif

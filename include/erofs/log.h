/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The single logging path of liberofs.  A struct erofs_log is set up by the
 * program and handed to every library call that may report something; there
 * is no global logger.  Errors are negative errno values; the message names
 * the file, entry or offset concerned.
 */
#ifndef EROFS_LOG_H
#define EROFS_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

enum erofs_log_level {
	EROFS_LOG_ERR = 0,
	EROFS_LOG_WARN = 1,
	EROFS_LOG_INFO = 2,
	EROFS_LOG_DEBUG = 3,
};

struct erofs_log {
	const char *prog; /* prefix of every line, e.g. "mkfs.erofs" */
	int level;	  /* messages above this level are dropped */
	FILE *out;	  /* NULL means stderr */
	int timestamps;	  /* prefix lines with a monotonic time */
};

void erofs_log_init(struct erofs_log *log, const char *prog);

void erofs_vmsg(const struct erofs_log *log, int level, int err,
		const char *fmt, va_list ap);

__attribute__((format(printf, 4, 5))) void
erofs_msg(const struct erofs_log *log, int level, int err, const char *fmt,
	  ...);

/*
 * erofs_err(log, err, fmt, ...): reports and returns @err (a negative errno,
 * or 0 when there is no errno to append), so callers can write
 * "return erofs_err(log, -EIO, "%s: short read", path);".
 */
__attribute__((format(printf, 3, 4))) int
erofs_err(const struct erofs_log *log, int err, const char *fmt, ...);

/*
 * erofs_fail(log, err, fmt, ...): like erofs_err() for problems the message
 * explains fully (bad input, a changed file): no strerror text appended.
 */
__attribute__((format(printf, 3, 4))) int
erofs_fail(const struct erofs_log *log, int err, const char *fmt, ...);

/*
 * Copies @in into @out (@size bytes, NUL included) for a message: control
 * characters, DEL, '\\' and '"' become \xNN, \\ and \" escapes, so a
 * hostile name cannot drive the terminal or fake a line.  A name that does
 * not fit ends in "...".  Returns @out.
 */
char *erofs_escape(char *out, size_t size, const char *in);

#define erofs_warn(log, ...) erofs_msg(log, EROFS_LOG_WARN, 0, __VA_ARGS__)
#define erofs_info(log, ...) erofs_msg(log, EROFS_LOG_INFO, 0, __VA_ARGS__)
#define erofs_dbg(log, ...)  erofs_msg(log, EROFS_LOG_DEBUG, 0, __VA_ARGS__)

#endif

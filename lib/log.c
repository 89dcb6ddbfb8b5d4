// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The one logging path: "<prog>: <level>: <message>[: <strerror>]".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "erofs/log.h"

static const char *const level_names[] = { "error", "warning", "info",
					   "debug" };

void erofs_log_init(struct erofs_log *log, const char *prog)
{
	log->prog = prog;
	log->level = EROFS_LOG_WARN;
	log->out = NULL;
	log->timestamps = 0;
}

void erofs_vmsg(const struct erofs_log *log, int level, int err,
		const char *fmt, va_list ap)
{
	char line[2048];
	int n = 0;
	FILE *out;

	if (log && level > log->level)
		return;
	out = (log && log->out) ? log->out : stderr;
	if (log && log->timestamps) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		n += snprintf(line + n, sizeof(line) - n, "[%ld.%06ld] ",
			      (long)ts.tv_sec, ts.tv_nsec / 1000);
	}
	n += snprintf(line + n, sizeof(line) - n, "%s: %s: ",
		      log && log->prog ? log->prog : "erofs",
		      level_names[level < 0 ? 0 : level > 3 ? 3 : level]);
	if (n < (int)sizeof(line))
		n += vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	if (err < 0 && n < (int)sizeof(line))
		n += snprintf(line + n, sizeof(line) - n, ": %s",
			      strerror(-err));
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	/* one write per line so concurrent threads do not interleave */
	fprintf(out, "%.*s\n", n, line);
	fflush(out);
}

void erofs_msg(const struct erofs_log *log, int level, int err,
	       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	erofs_vmsg(log, level, err, fmt, ap);
	va_end(ap);
}

int erofs_err(const struct erofs_log *log, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	erofs_vmsg(log, EROFS_LOG_ERR, err, fmt, ap);
	va_end(ap);
	return err;
}

int erofs_fail(const struct erofs_log *log, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	erofs_vmsg(log, EROFS_LOG_ERR, 0, fmt, ap);
	va_end(ap);
	return err;
}

char *erofs_escape(char *out, size_t size, const char *in)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	if (!size)
		return out;
	for (; *in; in++) {
		unsigned char ch = *in;
		char esc[5];
		size_t len = 0;

		if (ch < 0x20 || ch == 0x7f) {
			esc[len++] = '\\';
			esc[len++] = 'x';
			esc[len++] = hex[ch >> 4];
			esc[len++] = hex[ch & 15];
		} else if (ch == '\\' || ch == '"') {
			esc[len++] = '\\';
			esc[len++] = ch;
		} else {
			esc[len++] = ch;
		}
		/* room for this, and for "..." should more follow */
		if (n + len + (in[1] ? 3 : 0) >= size) {
			if (n + 3 < size) {
				memcpy(out + n, "...", 3);
				n += 3;
			}
			break;
		}
		memcpy(out + n, esc, len);
		n += len;
	}
	out[n] = '\0';
	return out;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The one logging path: "<prog>: <level>: <message>[: <strerror>]".
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "erofs/log.h"

static const char *const level_names[] = {"error", "warning", "info", "debug"};

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
	n += snprintf(line + n, sizeof(line) - n,
		      "%s: %s: ", log && log->prog ? log->prog : "erofs",
		      level_names[level < 0   ? 0
				  : level > 3 ? 3
					      : level]);
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

void erofs_msg(const struct erofs_log *log, int level, int err, const char *fmt,
	       ...)
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

/* the escaped form of @ch in @esc; its length */
static size_t escape_char(unsigned char ch, char esc[4])
{
	static const char hex[] = "0123456789abcdef";

	if (ch < 0x20 || ch == 0x7f) {
		esc[0] = '\\';
		esc[1] = 'x';
		esc[2] = hex[ch >> 4];
		esc[3] = hex[ch & 15];
		return 4;
	}
	if (ch == '\\' || ch == '"') {
		esc[0] = '\\';
		esc[1] = ch;
		return 2;
	}
	esc[0] = ch;
	return 1;
}

char *erofs_escape(char *out, size_t size, const char *in)
{
	size_t total = 0, n = 0, limit;
	char esc[4];

	if (!size)
		return out;
	for (const char *p = in; *p; p++)
		total += escape_char(*p, esc);
	/* all of it, or as much as leaves room for "..." */
	limit = total < size ? total : (size > 3 ? size - 4 : 0);
	for (; *in; in++) {
		size_t len = escape_char(*in, esc);

		if (n + len > limit)
			break;
		memcpy(out + n, esc, len);
		n += len;
	}
	if (total >= size && n + 3 < size) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

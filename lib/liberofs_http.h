/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * HTTP response headers as the HTTP source needs them: the status line of
 * each response (redirects and 1xx answers come first) and the
 * Content-Range of the last one.  Pure functions over one header line as
 * libcurl hands it over (not NUL-terminated, CRLF included, any length), so
 * they can be unit-tested and fuzzed without a server.
 */
#ifndef LIBEROFS_HTTP_H
#define LIBEROFS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "Content-Range: bytes FIRST-LAST/TOTAL" (TOTAL may be "*") */
struct erofs_http_range {
	uint64_t first, last;
	uint64_t total;
	bool total_known;
};

enum erofs_http_range_state {
	EROFS_HTTP_RANGE_NONE = 0, /* no Content-Range in this response */
	EROFS_HTTP_RANGE_OK,	   /* exactly one, well formed */
	EROFS_HTTP_RANGE_BAD,	   /* malformed, unsatisfied or repeated */
};

/* what the headers of the current (last) response said */
struct erofs_http_resp {
	long status; /* 0 until a status line was seen */
	unsigned int responses;
	enum erofs_http_range_state range_state;
	struct erofs_http_range range;
};

/*
 * "HTTP/<version> <3 digits>[ <reason>]": 1 and *status when @line is a
 * status line, 0 when it is not one, -EINVAL when it starts with "HTTP/"
 * but is malformed.
 */
int erofs_http_parse_status(const char *line, size_t len, long *status);

/*
 * 1 and *r when @line is a well-formed "Content-Range: bytes A-B/N" header
 * (N may be "*": length unknown) with A <= B < N, 0 when it is another
 * header, -EINVAL when it is a Content-Range that is malformed, of another
 * unit, or the unsatisfied form (a "*" where the range should be).
 */
int erofs_http_parse_content_range(const char *line, size_t len,
				   struct erofs_http_range *r);

/* feeds one header line; a status line starts a new response */
void erofs_http_resp_line(struct erofs_http_resp *resp, const char *line,
			  size_t len);

/*
 * 0 when the response is a 206 whose Content-Range is exactly
 * [off, off + len), else -EIO; @why (when not NULL) says what was wrong.
 */
int erofs_http_resp_check_range(const struct erofs_http_resp *resp,
				uint64_t off, uint64_t len, const char **why);

#endif

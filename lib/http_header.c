// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Parsing of the HTTP response header lines the HTTP source relies on: a
 * 206 is only trusted when its Content-Range names exactly the bytes that
 * were asked for (RFC 9110, section 14.4).  Every input is bounded by the
 * length given; nothing here allocates or keeps state beyond the caller's
 * struct.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "liberofs_http.h"

static bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* strips the line terminator (CRLF or LF) and trailing whitespace */
static size_t trim_end(const char *line, size_t len)
{
	while (len && (line[len - 1] == '\n' || line[len - 1] == '\r' ||
		       is_ows(line[len - 1])))
		len--;
	return len;
}

/* decimal digits at *pos; false on none or on overflow */
static bool take_u64(const char *s, size_t len, size_t *pos, uint64_t *v)
{
	size_t p = *pos;
	uint64_t n = 0;

	if (p >= len || !is_digit(s[p]))
		return false;
	for (; p < len && is_digit(s[p]); p++) {
		unsigned int d = s[p] - '0';

		if (n > (UINT64_MAX - d) / 10)
			return false;
		n = n * 10 + d;
	}
	*pos = p;
	*v = n;
	return true;
}

int erofs_http_parse_status(const char *line, size_t len, long *status)
{
	size_t p = 5;
	long code = 0;

	if (len < 5 || memcmp(line, "HTTP/", 5))
		return 0;
	len = trim_end(line, len);
	/* version: digits with an optional ".digits" */
	if (p >= len || !is_digit(line[p]))
		return -EINVAL;
	while (p < len && is_digit(line[p]))
		p++;
	if (p < len && line[p] == '.') {
		p++;
		if (p >= len || !is_digit(line[p]))
			return -EINVAL;
		while (p < len && is_digit(line[p]))
			p++;
	}
	if (p >= len || line[p] != ' ')
		return -EINVAL;
	p++;
	for (int i = 0; i < 3; i++, p++) {
		if (p >= len || !is_digit(line[p]))
			return -EINVAL;
		code = code * 10 + (line[p] - '0');
	}
	if (p < len && line[p] != ' ')
		return -EINVAL;
	if (code < 100)
		return -EINVAL;
	*status = code;
	return 1;
}

int erofs_http_parse_content_range(const char *line, size_t len,
				   struct erofs_http_range *r)
{
	static const char name[] = "content-range";
	const size_t nl = sizeof(name) - 1;
	struct erofs_http_range v = {0};
	size_t p;

	if (len < nl || strncasecmp(line, name, nl))
		return 0;
	p = nl;
	len = trim_end(line, len);
	/* "Content-Range-Foo:" is another header */
	if (p < len && line[p] != ':' && !is_ows(line[p]))
		return 0;
	while (p < len && is_ows(line[p]))
		p++;
	if (p >= len || line[p] != ':')
		return -EINVAL;
	p++;
	while (p < len && is_ows(line[p]))
		p++;
	if (len - p < 6 || strncasecmp(line + p, "bytes", 5) ||
	    line[p + 5] != ' ')
		return -EINVAL;
	p += 6;
	while (p < len && line[p] == ' ')
		p++;
	/* the unsatisfied form ("*" for the range) fails here */
	if (!take_u64(line, len, &p, &v.first))
		return -EINVAL;
	if (p >= len || line[p] != '-')
		return -EINVAL;
	p++;
	if (!take_u64(line, len, &p, &v.last))
		return -EINVAL;
	if (p >= len || line[p] != '/')
		return -EINVAL;
	p++;
	if (p < len && line[p] == '*') {
		p++;
	} else {
		if (!take_u64(line, len, &p, &v.total))
			return -EINVAL;
		v.total_known = true;
	}
	if (p != len || v.first > v.last ||
	    (v.total_known && v.last >= v.total))
		return -EINVAL;
	*r = v;
	return 1;
}

void erofs_http_resp_line(struct erofs_http_resp *resp, const char *line,
			  size_t len)
{
	struct erofs_http_range r;
	long status;
	int ret = erofs_http_parse_status(line, len, &status);

	if (ret) {
		/* a new response: what came before does not describe it */
		resp->status = ret > 0 ? status : -1;
		resp->responses++;
		resp->range_state = EROFS_HTTP_RANGE_NONE;
		memset(&resp->range, 0, sizeof(resp->range));
		return;
	}
	ret = erofs_http_parse_content_range(line, len, &r);
	if (!ret)
		return;
	if (ret < 0 || resp->range_state != EROFS_HTTP_RANGE_NONE) {
		resp->range_state = EROFS_HTTP_RANGE_BAD;
		return;
	}
	resp->range_state = EROFS_HTTP_RANGE_OK;
	resp->range = r;
}

int erofs_http_resp_check_range(const struct erofs_http_resp *resp,
				uint64_t off, uint64_t len, const char **why)
{
	const char *w = NULL;

	if (resp->status != 206)
		w = "not a 206 response";
	else if (resp->range_state == EROFS_HTTP_RANGE_NONE)
		w = "206 without Content-Range";
	else if (resp->range_state == EROFS_HTTP_RANGE_BAD)
		w = "206 with a malformed or repeated Content-Range";
	else if (!len || off > UINT64_MAX - (len - 1))
		w = "bad request range";
	else if (resp->range.first != off ||
		 resp->range.last != off + (len - 1))
		w = "206 with a Content-Range other than the range asked for";
	if (why)
		*why = w;
	return w ? -EIO : 0;
}

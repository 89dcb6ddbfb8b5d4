// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-sources: lib/http_header.c
/*
 * libFuzzer target over the HTTP response header parsing the HTTP source
 * trusts: the input is a header block, split into lines as libcurl hands
 * them over (terminator included, any length); each line goes through the
 * status-line and Content-Range parsers and the per-response state, and
 * the first 16 bytes choose a request range for the 206 check.  Built by
 * run-fuzz.sh; seeds in corpus/http_header/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "liberofs_http.h"

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct erofs_http_resp resp = {0};
	uint64_t off = 0, len = 4096;
	const char *why;
	size_t pos = 0;

	if (size >= 16) {
		off = get64(data);
		len = get64(data + 8);
	}
	while (pos < size) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t n = nl ? (size_t)(nl - (data + pos)) + 1 : size - pos;
		/* a copy of exactly the line: reads past it are caught */
		char *line = malloc(n ? n : 1);
		struct erofs_http_range r;
		long status;
		int ret;

		if (!line)
			return 0;
		memcpy(line, data + pos, n);
		ret = erofs_http_parse_status(line, n, &status);
		if (ret > 0 && (status < 100 || status > 999))
			abort();
		ret = erofs_http_parse_content_range(line, n, &r);
		if (ret > 0 &&
		    (r.first > r.last || (r.total_known && r.last >= r.total)))
			abort();
		erofs_http_resp_line(&resp, line, n);
		free(line);
		pos += n;
	}
	if (!erofs_http_resp_check_range(&resp, off, len, &why)) {
		if (resp.status != 206 ||
		    resp.range_state != EROFS_HTTP_RANGE_OK ||
		    resp.range.first != off || !len ||
		    resp.range.last - resp.range.first != len - 1)
			abort();
	} else if (!why) {
		abort();
	}
	return 0;
}

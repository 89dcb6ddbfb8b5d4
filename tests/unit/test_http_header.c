// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the HTTP header parsing (lib/http_header.c): status lines,
 * Content-Range in every form a server may send (good, unsatisfied, other
 * units, overflowing numbers, lines longer than any fixed buffer), the
 * per-response state across redirects, and the 206 range check.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "liberofs_http.h"

static int cr(const char *line, struct erofs_http_range *r)
{
	return erofs_http_parse_content_range(line, strlen(line), r);
}

static void feed(struct erofs_http_resp *resp, const char *line)
{
	erofs_http_resp_line(resp, line, strlen(line));
}

static void test_status(void **state)
{
	long st = 0;

	(void)state;
	assert_int_equal(erofs_http_parse_status("HTTP/1.1 206 Partial "
						 "Content\r\n",
						 29, &st),
			 1);
	assert_int_equal(st, 206);
	assert_int_equal(erofs_http_parse_status("HTTP/2 200\r\n", 12, &st), 1);
	assert_int_equal(st, 200);
	assert_int_equal(erofs_http_parse_status("HTTP/1.0 404\n", 13, &st), 1);
	assert_int_equal(st, 404);
	assert_int_equal(
	    erofs_http_parse_status("Content-Length: 3\r\n", 19, &st), 0);
	assert_int_equal(erofs_http_parse_status("HTTP/", 5, &st), -EINVAL);
	assert_int_equal(erofs_http_parse_status("HTTP/1.1 20\r\n", 13, &st),
			 -EINVAL);
	assert_int_equal(erofs_http_parse_status("HTTP/1.1 2000\r\n", 15, &st),
			 -EINVAL);
	assert_int_equal(erofs_http_parse_status("HTTP/1.1 099\r\n", 14, &st),
			 -EINVAL);
	assert_int_equal(erofs_http_parse_status("HTTP/x 200\r\n", 12, &st),
			 -EINVAL);
	/* the length is what counts, not a NUL */
	assert_int_equal(erofs_http_parse_status("HTTP/1.1 206", 10, &st),
			 -EINVAL);
}

static void test_content_range(void **state)
{
	struct erofs_http_range r;
	char line[1024];

	(void)state;
	assert_int_equal(cr("Content-Range: bytes 0-99/1000\r\n", &r), 1);
	assert_int_equal(r.first, 0);
	assert_int_equal(r.last, 99);
	assert_int_equal(r.total, 1000);
	assert_true(r.total_known);
	assert_int_equal(cr("content-range:bytes 5-5/*\r\n", &r), 1);
	assert_int_equal(r.first, 5);
	assert_false(r.total_known);
	assert_int_equal(cr("CONTENT-RANGE: BYTES 1-2/3", &r), 1);
	assert_int_equal(cr("Content-Range \t: bytes 1-2/3 \t\r\n", &r), 1);
	/* the largest values fit, one more does not */
	assert_int_equal(cr("Content-Range: bytes 0-18446744073709551614/"
			    "18446744073709551615\r\n",
			    &r),
			 1);
	assert_int_equal(r.last, UINT64_MAX - 1);
	assert_int_equal(
	    cr("Content-Range: bytes 0-18446744073709551616/*\r\n", &r),
	    -EINVAL);
	assert_int_equal(cr("Content-Range: bytes "
			    "00000000000000000000000000000000000001-2/3\r\n",
			    &r),
			 1);

	/* other headers */
	assert_int_equal(cr("Content-Length: 100\r\n", &r), 0);
	assert_int_equal(cr("Content-Ranges: bytes 1-2/3\r\n", &r), 0);
	assert_int_equal(cr("X-Content-Range: bytes 1-2/3\r\n", &r), 0);
	assert_int_equal(cr("\r\n", &r), 0);

	/* malformed, unsatisfied, other units */
	assert_int_equal(cr("Content-Range: bytes */1000\r\n", &r), -EINVAL);
	assert_int_equal(cr("Content-Range: items 0-99/1000\r\n", &r), -EINVAL);
	assert_int_equal(cr("Content-Range: bytes=0-99/1000\r\n", &r), -EINVAL);
	assert_int_equal(cr("Content-Range: 0-99/1000\r\n", &r), -EINVAL);
	assert_int_equal(cr("Content-Range: bytes 0-99\r\n", &r), -EINVAL);
	assert_int_equal(cr("Content-Range: bytes 0-/1000\r\n", &r), -EINVAL);
	assert_int_equal(cr("Content-Range: bytes -99/1000\r\n", &r), -EINVAL);
	assert_int_equal(cr("Content-Range: bytes 99-0/1000\r\n", &r), -EINVAL);
	assert_int_equal(cr("Content-Range: bytes 0-1000/1000\r\n", &r),
			 -EINVAL);
	assert_int_equal(cr("Content-Range: bytes 0-99/1000x\r\n", &r),
			 -EINVAL);
	assert_int_equal(cr("Content-Range: bytes 0-99/1000, 5-6/1000\r\n", &r),
			 -EINVAL);
	assert_int_equal(cr("Content-Range: bytes +1-2/3\r\n", &r), -EINVAL);
	assert_int_equal(cr("Content-Range\r\n", &r), -EINVAL);
	assert_int_equal(cr("Content-Range: \r\n", &r), -EINVAL);

	/* a line of 256 bytes and more is parsed like any other */
	snprintf(line, sizeof(line),
		 "Content-Range: bytes 4096-8191/9000%*s\r\n", 400, "");
	assert_true(strlen(line) > 400);
	assert_int_equal(cr(line, &r), 1);
	assert_int_equal(r.first, 4096);
	snprintf(line, sizeof(line),
		 "Content-Range: bytes 4096-8191/9000%*sx\r\n", 400, "");
	assert_int_equal(cr(line, &r), -EINVAL);
}

static void test_response_state(void **state)
{
	struct erofs_http_resp resp = {0};
	char line[600];
	const char *why;

	(void)state;
	/* a redirect's headers do not describe the final response */
	feed(&resp, "HTTP/1.1 302 Found\r\n");
	feed(&resp, "Content-Range: bytes 0-9/100\r\n");
	feed(&resp, "Location: /x\r\n");
	feed(&resp, "\r\n");
	feed(&resp, "HTTP/1.1 206 Partial Content\r\n");
	assert_int_equal(resp.status, 206);
	assert_int_equal(resp.range_state, EROFS_HTTP_RANGE_NONE);
	assert_int_equal(erofs_http_resp_check_range(&resp, 0, 10, &why), -EIO);
	assert_non_null(strstr(why, "without Content-Range"));
	feed(&resp, "Content-Range: bytes 4096-8191/100000\r\n");
	assert_int_equal(erofs_http_resp_check_range(&resp, 4096, 4096, &why),
			 0);
	assert_null(why);
	/* another range than asked for */
	assert_int_equal(erofs_http_resp_check_range(&resp, 0, 4096, &why),
			 -EIO);
	assert_int_equal(erofs_http_resp_check_range(&resp, 4096, 4095, NULL),
			 -EIO);
	/* a second Content-Range makes it untrustworthy */
	feed(&resp, "Content-Range: bytes 4096-8191/100000\r\n");
	assert_int_equal(resp.range_state, EROFS_HTTP_RANGE_BAD);
	assert_int_equal(erofs_http_resp_check_range(&resp, 4096, 4096, &why),
			 -EIO);

	/* a malformed one too, however long the line */
	memset(&resp, 0, sizeof(resp));
	feed(&resp, "HTTP/1.1 206 Partial Content\r\n");
	snprintf(line, sizeof(line), "Content-Range: bytes 0-4095/%0300d\r\n",
		 -1);
	feed(&resp, line);
	assert_int_equal(resp.range_state, EROFS_HTTP_RANGE_BAD);
	assert_int_equal(erofs_http_resp_check_range(&resp, 0, 4096, NULL),
			 -EIO);

	/* a 200 never passes the 206 check */
	memset(&resp, 0, sizeof(resp));
	feed(&resp, "HTTP/1.1 200 OK\r\n");
	feed(&resp, "Content-Range: bytes 0-4095/5000\r\n");
	assert_int_equal(erofs_http_resp_check_range(&resp, 0, 4096, NULL),
			 -EIO);
	/* a malformed status line is no status */
	feed(&resp, "HTTP/1.1 2x6\r\n");
	assert_int_equal(resp.status, -1);
	/* ranges at the very end of the number space */
	memset(&resp, 0, sizeof(resp));
	feed(&resp, "HTTP/1.1 206 Partial Content\r\n");
	feed(&resp, "Content-Range: bytes 18446744073709551614-"
		    "18446744073709551614/*\r\n");
	assert_int_equal(
	    erofs_http_resp_check_range(&resp, UINT64_MAX - 1, 1, NULL), 0);
	assert_int_equal(
	    erofs_http_resp_check_range(&resp, UINT64_MAX - 1, 2, NULL), -EIO);
	assert_int_equal(erofs_http_resp_check_range(&resp, 0, 0, NULL), -EIO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_content_range),
	    cmocka_unit_test(test_response_state),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

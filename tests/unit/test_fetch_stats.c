// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the fetch core's statistics (lib/fetch_stats.c): the
 * latency histogram and its percentiles.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "erofs/fetch.h"

static void test_percentiles(void **state)
{
	struct erofs_fetch_stats s;

	memset(&s, 0, sizeof(s));
	assert_int_equal(erofs_fetch_stats_percentile(&s, 50), 0);
	for (uint64_t v = 1; v <= 1000; v++)
		erofs_fetch_stats_record(&s, v);
	assert_int_equal(s.lat_count, 1000);
	assert_int_equal(s.lat_max_us, 1000);
	/* buckets are 1/8 octave wide: never below the true value, at most
	 * 12.5% above */
	for (int pct = 10; pct <= 100; pct += 10) {
		uint64_t p = erofs_fetch_stats_percentile(&s, pct);
		uint64_t truth = pct * 10;

		assert_true(p >= truth);
		assert_true(p * 8 <= truth * 9);
	}
	assert_int_equal(erofs_fetch_stats_percentile(&s, 100), 1000);
	/* small values are exact */
	memset(&s, 0, sizeof(s));
	erofs_fetch_stats_record(&s, 3);
	erofs_fetch_stats_record(&s, 5);
	assert_int_equal(erofs_fetch_stats_percentile(&s, 50), 3);
	assert_int_equal(erofs_fetch_stats_percentile(&s, 99), 5);
	/* huge values do not overflow the table */
	erofs_fetch_stats_record(&s, UINT64_MAX / 2);
	assert_int_equal(erofs_fetch_stats_percentile(&s, 100), UINT64_MAX / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_percentiles),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

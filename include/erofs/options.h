/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What every tool's option parsing does the same way: the message for a
 * bad value, the -d message level, SOURCE_DATE_EPOCH and power-of-two
 * sizes.  Helpers for the front ends; they parse and log, nothing else.
 */
#ifndef EROFS_OPTIONS_H
#define EROFS_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "erofs/log.h"

/* the exit status of a command line the tool cannot take */
#define EROFS_EXIT_USAGE 2

/*
 * Logs 'invalid value "VALUE" for OPT' and returns EROFS_EXIT_USAGE, so
 * a front end can write "return erofs_opt_bad(log, "-b", optarg);".
 */
int erofs_opt_bad(const struct erofs_log *log, const char *opt,
		  const char *value);

/*
 * -d LEVEL: a number from 0 to @max sets @log's level (levels above
 * debug mean debug); 0, or EROFS_EXIT_USAGE after erofs_opt_bad().
 */
int erofs_opt_log_level(struct erofs_log *log, const char *opt, const char *arg,
			unsigned int max);

/*
 * SOURCE_DATE_EPOCH: when set and not empty, *@have becomes true and
 * *@epoch its value; 0, or EROFS_EXIT_USAGE after erofs_opt_bad() when it
 * is not a number of seconds.
 */
int erofs_opt_epoch(const struct erofs_log *log, bool *have, uint64_t *epoch);

/* a size ("64k", "1M"...) that is a power of two in [@min, @max]; 0/-EINVAL */
int erofs_opt_pow2(const char *arg, uint64_t min, uint64_t max, uint64_t *out);

#endif

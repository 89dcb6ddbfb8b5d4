// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Option parsing the tools share (see erofs/options.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "erofs/options.h"
#include "erofs/util.h"

int erofs_opt_bad(const struct erofs_log *log, const char *opt,
		  const char *value)
{
	erofs_err(log, 0, "invalid value \"%s\" for %s", value, opt);
	return EROFS_EXIT_USAGE;
}

int erofs_opt_log_level(struct erofs_log *log, const char *opt, const char *arg,
			unsigned int max)
{
	uint64_t v;

	if (erofs_parse_u64(arg, max, &v))
		return erofs_opt_bad(log, opt, arg);
	log->level = v > EROFS_LOG_DEBUG ? EROFS_LOG_DEBUG : (int)v;
	return 0;
}

int erofs_opt_epoch(const struct erofs_log *log, bool *have, uint64_t *epoch)
{
	const char *env = getenv("SOURCE_DATE_EPOCH");

	if (!env || !*env)
		return 0;
	if (erofs_parse_u64(env, INT64_MAX, epoch))
		return erofs_opt_bad(log, "SOURCE_DATE_EPOCH", env);
	*have = true;
	return 0;
}

int erofs_opt_pow2(const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (erofs_parse_size(arg, &v) || !erofs_is_pow2(v) || v < min ||
	    v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Sources by their spec: an http:// or https:// base URL is an HTTP source
 * (source_http.c), anything else a blob directory (source_dir.c).  Kept
 * apart from the fetch core, which only calls a source's ops.
 */
#include <string.h>

#include "erofs/fetch.h"

int erofs_source_open(const char *spec, const struct erofs_http_opts *opts,
		      const struct erofs_log *log, struct erofs_source **out)
{
	if (!strncmp(spec, "http://", 7) || !strncmp(spec, "https://", 8))
		return erofs_source_http_create(spec, opts, log, out);
	return erofs_source_dir_create(spec, log, out);
}

void erofs_source_destroy(struct erofs_source *src)
{
	if (src)
		src->ops->destroy(src);
}

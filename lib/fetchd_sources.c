// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The source factory of the serving core: an image's source specs (blob
 * directories, http(s) base URLs) opened into erofs_source objects, tried in
 * order by the image's fetch core.
 */
#include <errno.h>

#include "liberofs_fetchd.h"

int fetchd_sources_open(struct fetchd_sources *s, const char *const *specs,
			unsigned int nr, const struct erofs_http_opts *http,
			const struct erofs_log *log)
{
	s->nr = 0;
	if (!nr || nr > EROFS_FETCHD_MAX_SOURCES)
		return erofs_err(log, -EINVAL, "%u sources: 1..%u needed", nr,
				 EROFS_FETCHD_MAX_SOURCES);
	for (unsigned int i = 0; i < nr; i++) {
		int err = erofs_source_open(specs[i], http, log, &s->v[i]);

		if (err) {
			fetchd_sources_close(s);
			return err;
		}
		s->nr++;
	}
	return 0;
}

void fetchd_sources_close(struct fetchd_sources *s)
{
	for (unsigned int i = 0; i < s->nr; i++)
		erofs_source_destroy(s->v[i]);
	s->nr = 0;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * TEMPORARY (branch convert only): weak stand-ins for the builder API of
 * erofs/builder.h so that liberofs links until the builder lands; they
 * fail with -ENOSYS.  Removed when the builder is merged.
 */
#include <errno.h>
#include <stddef.h>

#include "erofs/builder.h"

__attribute__((weak)) int erofs_builder_create(struct erofs_builder **bp,
					       const char *dest,
					       const struct erofs_build_opts *opts,
					       const struct erofs_log *log)
{
	*bp = NULL;
	return erofs_fail(log, -ENOSYS, "%s: the builder is not there yet",
			  dest);
}

__attribute__((weak)) int
erofs_builder_import_tar(struct erofs_builder *b, const char *path, int fd,
			 const struct erofs_builder_source_opts *so)
{
	return -ENOSYS;
}

__attribute__((weak)) int erofs_builder_begin_blob(struct erofs_builder *b,
						   const char *path)
{
	return -ENOSYS;
}

__attribute__((weak)) int
erofs_builder_finish(struct erofs_builder *b, struct erofs_build_result *res)
{
	return -ENOSYS;
}

__attribute__((weak)) void erofs_builder_destroy(struct erofs_builder *b)
{
}

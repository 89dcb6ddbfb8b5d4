// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-sources: lib/manifest.c lib/fetch_catalog.c lib/cookie.c
// fuzz-sources: lib/log.c lib/util.c
/*
 * libFuzzer target over the manifest loader: limits and pre-count, JSON
 * syntax (trailing data), every field's validation, then what a consumer
 * does with an accepted manifest: the fetch catalog (names, paths, the
 * sorted index and lookups) and writing it back as JSON.  Built by
 * run-fuzz.sh; seeds in corpus/manifest/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "erofs/fetch.h"
#include "erofs/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct erofs_log quiet = {"fuzz", -1, NULL, 0};
	struct erofs_manifest m;
	struct erofs_fetch_catalog c;
	struct json_object *j;

	if (erofs_manifest_parse(&m, (const char *)data, size, "fuzz", &quiet))
		return 0;
	/* what the loader promises */
	if (m.nr_blobs > EROFS_MANIFEST_MAX_BLOBS || m.block_size < 512 ||
	    m.block_size > 65536 ||
	    m.bootstrap_size > (uint64_t)UINT32_MAX * m.block_size)
		abort();
	for (unsigned int i = 0; i < m.nr_blobs; i++)
		if (m.blobs[i].size > (uint64_t)UINT32_MAX * m.block_size ||
		    !m.blobs[i].tag[0] || !m.blobs[i].path)
			abort();
	if (!erofs_fetch_catalog_from_manifest(&m, NULL, &quiet, &c)) {
		for (unsigned int i = 0; i < c.nr; i++)
			if (erofs_fetch_catalog_find(&c, c.v[i].name) == NULL ||
			    c.v[i].size > (uint64_t)UINT32_MAX * m.block_size)
				abort();
		erofs_fetch_catalog_find(&c, "");
		erofs_fetch_catalog_free(&c);
	}
	if (!erofs_manifest_to_json(&m, &j, &quiet))
		json_object_put(j);
	erofs_manifest_free(&m);
	return 0;
}

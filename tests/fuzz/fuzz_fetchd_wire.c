// SPDX-License-Identifier: GPL-2.0-or-later
// fuzz-sources: lib/fetchd_wire.c lib/log.c lib/util.c
/*
 * libFuzzer target over the serving core's text formats (lib/fetchd_wire.c):
 * the first byte picks one.  Even: the rest is a control request, split
 * into fields, each field quoted again and split back, which must give the
 * same field.  Odd: the rest is an image registration file, read through
 * fmemopen(3), and each of its "readahead" lines is parsed.  Seeds in
 * corpus/fetchd_wire/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "liberofs_fetchd.h"

#define MAX_F 64

static void request(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), *f[MAX_F];
	int n;

	if (!line)
		return;
	memcpy(line, data, size);
	line[size] = '\0';
	n = fetchd_ctl_split(line, f, MAX_F);
	for (int i = 0; i < n; i++) {
		char *q = erofs_fetchd_ctl_quote(f[i]), *g[2];

		if (!q)
			break;
		/* a quoted field is one field, and unquotes to itself */
		if (!*f[i]) {
			free(q);
			continue;
		}
		if (fetchd_ctl_split(q, g, 2) != 1 || strcmp(g[0], f[i]))
			abort();
		free(q);
	}
	free(line);
}

static void registration(const uint8_t *data, size_t size)
{
	FILE *f = size ? fmemopen((void *)data, size, "r") : NULL;
	struct fetchd_reg r;

	if (!f)
		return;
	if (!fetchd_reg_parse(f, &r)) {
		if (!r.id || !r.nr_specs)
			abort();
		for (unsigned int i = 0; i < r.nr_ra; i++) {
			struct fetchd_ra_line l;

			if (!fetchd_ra_line_parse(r.ra[i], &l) &&
			    (!*l.boot_id || !*l.bdi ||
			     l.nr_blobs > FETCHD_RA_MAX_BLOBS))
				abort();
		}
		fetchd_reg_free(&r);
	}
	fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!size)
		return 0;
	if (data[0] & 1)
		registration(data + 1, size - 1);
	else
		request(data + 1, size - 1);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The serving core's two text formats, parsed without side effects (and
 * fuzzed: tests/fuzz/fuzz_fetchd_wire.c):
 *
 *  - a control request: one line of space-separated fields, each
 *    percent-encoded (bytes up to space, '%' and DEL as %XX; %00 refused);
 *  - an image registration below CACHE_DIR/.erofs-fetchd/images/: lines
 *    "id ID", "manifest PATH", "source SPEC" (repeated) and "readahead
 *    BOOT_ID BDI BYTES [BLOB...]" (repeated), one field per line except the
 *    last; unknown keys are skipped so that older daemons read newer files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "erofs/util.h"
#include "liberofs_fetchd.h"

char *erofs_fetchd_ctl_quote(const char *s)
{
	char *out = malloc(strlen(s) * 3 + 1), *p = out;

	if (!out)
		return NULL;
	for (; *s; s++) {
		unsigned char c = *s;

		if (c <= 0x20 || c == '%' || c == 0x7f)
			p += sprintf(p, "%%%02X", c);
		else
			*p++ = c;
	}
	*p = '\0';
	return out;
}

/* in place; false on a bad escape or a NUL */
static bool unquote(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '%') {
			int h = erofs_hexval(s[1]);
			int l = h < 0 ? -1 : erofs_hexval(s[2]);

			if (l < 0 || (h == 0 && l == 0))
				return false;
			*w++ = h * 16 + l;
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return true;
}

int fetchd_ctl_split(char *line, char **f, int max)
{
	char *save = NULL;
	int n = 0;

	for (char *t = strtok_r(line, " \n", &save); t;
	     t = strtok_r(NULL, " \n", &save)) {
		if (n == max || !unquote(t))
			return -1;
		f[n++] = t;
	}
	return n;
}

void fetchd_reg_free(struct fetchd_reg *r)
{
	free(r->id);
	free(r->manifest);
	for (unsigned int i = 0; i < r->nr_specs; i++)
		free(r->specs[i]);
	for (unsigned int i = 0; i < r->nr_ra; i++)
		free(r->ra[i]);
	memset(r, 0, sizeof(*r));
}

int fetchd_reg_parse(FILE *f, struct fetchd_reg *r)
{
	char line[4200];

	memset(r, 0, sizeof(*r));
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ' '), **slot = NULL;

		line[strcspn(line, "\n")] = '\0';
		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "id") && !r->id)
			slot = &r->id;
		else if (!strcmp(line, "manifest") && !r->manifest)
			slot = &r->manifest;
		else if (!strcmp(line, "source") &&
			 r->nr_specs < EROFS_FETCHD_MAX_SOURCES)
			slot = &r->specs[r->nr_specs++];
		else if (!strcmp(line, "readahead") &&
			 r->nr_ra < FETCHD_REG_MAX_RA)
			slot = &r->ra[r->nr_ra++];
		if (slot && !(*slot = strdup(v))) {
			fetchd_reg_free(r);
			return -ENOMEM;
		}
	}
	if (!r->id || !r->nr_specs) {
		fetchd_reg_free(r);
		return -EINVAL;
	}
	return 0;
}

int fetchd_ra_line_parse(char *v, struct fetchd_ra_line *out)
{
	char *f[3 + FETCHD_RA_MAX_BLOBS], *save = NULL;
	unsigned int n = 0;

	for (char *t = strtok_r(v, " ", &save); t;
	     t = strtok_r(NULL, " ", &save)) {
		if (n == 3 + FETCHD_RA_MAX_BLOBS)
			return -E2BIG;
		f[n++] = t;
	}
	if (n < 3 || erofs_parse_u64(f[2], UINT64_MAX, &out->bytes))
		return -EINVAL;
	out->boot_id = f[0];
	out->bdi = f[1];
	out->nr_blobs = n - 3;
	for (unsigned int i = 0; i < out->nr_blobs; i++)
		out->blobs[i] = f[3 + i];
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target over the bootstrap parser: superblock, device table,
 * inodes, directories and chunk tables reachable from the root, and the
 * cookie table built from the device tags.  Built by run-fuzz.sh.
 */
// fuzz-sources: lib/reader.c lib/cookie.c lib/ondisk.c lib/log.c lib/util.c
// fuzz-options: -max_len=65536
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "erofs/cookie.h"
#include "erofs/reader.h"

#define MAX_VISITS 256
#define MAX_DEPTH  8
#define MAX_CHUNKS 4096

struct walk {
	const struct erofs_image *img;
	int visits;
	int depth;
};

static int visit(struct walk *w, uint64_t nid);

static int dirent_cb(void *arg, const char *name, unsigned int len,
		     uint64_t nid, unsigned int type)
{
	struct walk *w = arg;

	if ((len == 1 && name[0] == '.') ||
	    (len == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (w->visits >= MAX_VISITS)
		return 1;
	visit(w, nid);
	return 0;
}

static int visit(struct walk *w, uint64_t nid)
{
	struct erofs_rinode ri;
	struct erofs_chunk_idx ci;
	uint8_t buf[256];

	w->visits++;
	if (erofs_image_read_inode(w->img, nid, &ri))
		return 0;
	if (S_ISDIR(ri.di.mode) && w->depth < MAX_DEPTH) {
		w->depth++;
		erofs_image_iterate_dir(w->img, &ri, dirent_cb, w);
		w->depth--;
	} else if (ri.di.datalayout == EROFS_INODE_CHUNK_BASED) {
		for (uint64_t i = 0; i < ri.nr_chunks && i < MAX_CHUNKS; i++)
			if (erofs_image_read_chunk(w->img, &ri, i, &ci))
				break;
	} else {
		size_t n = ri.di.size < sizeof(buf) ? ri.di.size : sizeof(buf);

		erofs_image_read_data(w->img, &ri, buf, n, 0);
		if (ri.di.size > n)
			erofs_image_read_data(w->img, &ri, buf, n,
					      ri.di.size - n);
	}
	return 0;
}

static void cookie_tables(const struct erofs_image *img,
			  const struct erofs_log *log)
{
	static const char *const domains[] = {NULL, "dom"};

	for (int d = 0; d < 2; d++) {
		struct erofs_cookie_table t;
		struct json_object *j;

		if (erofs_cookie_table_from_image(&t, img, "fuzz", domains[d],
						  NULL, 0, img->size, NULL,
						  log))
			continue;
		if (!erofs_cookie_table_to_json(&t, &j, log)) {
			json_object_to_json_string(j);
			json_object_put(j);
		}
		erofs_cookie_table_free(&t);
	}
}

/*
 * Mutations inside block 0 nearly always break the superblock checksum,
 * which would stop the parser early.  Unless bit 0 of byte 0 (in the unused
 * first KiB) is set, a copy of the input gets a correct checksum.
 */
static uint8_t *fix_checksum(const uint8_t *data, size_t size)
{
	uint8_t *copy;
	unsigned int bits;
	size_t span;

	if (size < EROFS_SUPER_OFFSET + EROFS_SB_SIZE || (data[0] & 1))
		return NULL;
	bits = data[EROFS_SUPER_OFFSET + 12];
	if (bits < EROFS_MIN_BLKSZBITS || bits > EROFS_MAX_BLKSZBITS)
		return NULL;
	span = (1u << bits) > EROFS_SUPER_OFFSET
		   ? (1u << bits)
		   : EROFS_SUPER_OFFSET + (1u << bits);
	if (size < span)
		return NULL;
	copy = malloc(size);
	if (!copy)
		return NULL;
	memcpy(copy, data, size);
	erofs_put_le32(copy + EROFS_SUPER_OFFSET + 4,
		       erofs_sb_checksum(copy, bits));
	return copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct erofs_log log = {.prog = "fuzz", .level = -1};
	struct erofs_image img;
	struct json_object *j;
	char name[EROFS_COOKIE_NAME_MAX + 1];
	struct walk w = {0};
	uint8_t *fixed;
	int err;

	/* the key encoder on raw bytes too */
	erofs_cookie_cook_key(data, size < 300 ? size : 300, name);

	fixed = fix_checksum(data, size);
	err = erofs_image_open_mem(&img, fixed ? fixed : data, size, "fuzz",
				   &log);
	if (err) {
		free(fixed);
		return 0;
	}
	if (!erofs_image_to_json(&img, &j)) {
		json_object_to_json_string(j);
		json_object_put(j);
	}
	cookie_tables(&img, &log);
	w.img = &img;
	visit(&w, img.sb.root_nid);
	erofs_image_close(&img);
	free(fixed);
	return 0;
}

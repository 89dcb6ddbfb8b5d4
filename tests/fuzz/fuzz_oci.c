// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target over erofs-convert's image document parsers: bounded
 * JSON, image index (with tag and platform selection), image manifest,
 * image config and docker-archive manifest.json.  Every input goes
 * through all of them.  Built by run-fuzz.sh.
 *
 * Seeds (corpus/oci/): index.json, a manifest and a config of an image
 * made by umoci 0.4 (umoci init/new/repack), an image index of two
 * platforms with an attestation entry, and the manifest.json and config
 * of a docker-archive written by skopeo 1.9 from that image.
 */
// fuzz-sources: lib/oci_json.c lib/log.c lib/util.c
// fuzz-options: -max_len=65536
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "liberofs_oci.h"

static const struct erofs_log quiet = {.prog = "fuzz", .level = -1};

static void try_index(struct json_object *o)
{
	struct erofs_oci_platform plat = {
	    .os = "linux", .arch = "arm64", .variant = "v8"};
	struct erofs_oci_desc *d;
	unsigned int nr, idx;

	if (erofs_oci_parse_index(o, "index", &d, &nr, &quiet))
		return;
	if (!erofs_oci_select(d, nr, NULL, &plat, "index", &idx, &quiet) &&
	    idx >= nr)
		abort();
	if (!erofs_oci_select(d, nr, "latest", NULL, "index", &idx, &quiet) &&
	    (idx >= nr || !d[idx].ref_name ||
	     strcmp(d[idx].ref_name, "latest")))
		abort();
	erofs_oci_descs_free(d, nr);
}

static void try_manifest_config(struct json_object *o)
{
	struct erofs_oci_image img;
	struct erofs_oci_desc cfg;

	erofs_oci_image_init(&img);
	if (!erofs_oci_parse_manifest(o, "manifest", &cfg, &img, &quiet)) {
		erofs_oci_desc_free(&cfg);
		/* the same document as a config of those layers */
		erofs_oci_parse_config(o, "config", false, &img, &quiet);
	}
	erofs_oci_image_free(&img);
	erofs_oci_image_init(&img);
	erofs_oci_parse_config(o, "config", true, &img, &quiet);
	erofs_oci_image_free(&img);
}

static void try_docker(struct json_object *o)
{
	struct erofs_oci_image img;
	char *cfg = NULL;

	erofs_oci_image_init(&img);
	if (!erofs_oci_parse_docker_manifest(o, NULL, &cfg, &img, &quiet))
		erofs_oci_check_duplicates(&img, &quiet);
	free(cfg);
	erofs_oci_image_free(&img);
	erofs_oci_image_init(&img);
	cfg = NULL;
	erofs_oci_parse_docker_manifest(o, "busybox:latest", &cfg, &img,
					&quiet);
	free(cfg);
	erofs_oci_image_free(&img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_object *o;
	struct erofs_oci_platform p;
	char *s;

	if (!erofs_oci_json_parse((const char *)data, size, false, "doc", &o,
				  &quiet)) {
		try_index(o);
		try_manifest_config(o);
		json_object_put(o);
	}
	if (!erofs_oci_json_parse((const char *)data, size, true, "doc", &o,
				  &quiet)) {
		try_docker(o);
		json_object_put(o);
	}
	/* the string parsers, on the input as text */
	s = strndup((const char *)data, size < 256 ? size : 256);
	if (s) {
		uint8_t d[EROFS_SHA256_LEN];
		int64_t t;

		erofs_oci_digest_parse(s, d);
		erofs_oci_parse_time(s, &t);
		if (!erofs_oci_platform_parse(s, &p))
			erofs_oci_platform_free(&p);
		free(s);
	}
	return 0;
}

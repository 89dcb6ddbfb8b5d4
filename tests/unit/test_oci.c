// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Container image parsing for erofs-convert: digests, platforms, times,
 * bounded JSON, image index selection, manifests, configs, docker-archive
 * manifest.json, an OCI layout on disk (missing and corrupt blobs), the
 * verifying layer stream (gzip, digests, diff_ids) and the output layout
 * (atomic, nothing left on abort).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "liberofs_oci.h"

static char *logbuf;
static size_t loglen;
static struct erofs_log tlog = {.prog = "test", .level = 0};

static void log_reset(void)
{
	if (tlog.out)
		fclose(tlog.out);
	free(logbuf);
	logbuf = NULL;
	tlog.out = open_memstream(&logbuf, &loglen);
}

static const char *logged(void)
{
	fflush(tlog.out);
	return logbuf ? logbuf : "";
}

#define assert_logged(s)                                                       \
	do {                                                                   \
		if (!strstr(logged(), (s)))                                    \
			fail_msg("log \"%s\" lacks \"%s\"", logged(), (s));    \
	} while (0)

static int setup(void **state)
{
	log_reset();
	return 0;
}

static const char HEX_A[] =
    "a3f1c2d4e5b60718293a4b5c6d7e8f90112233445566778899aabbccddeeff00";

static void sha(const void *buf, size_t len, uint8_t out[32])
{
	EVP_Digest(buf, len, out, NULL, EVP_sha256(), NULL);
}

static void digest_of(const void *buf, size_t len, char out[72])
{
	uint8_t d[32];

	sha(buf, len, d);
	erofs_oci_digest_str(out, d);
}

static void test_digest(void **state)
{
	uint8_t d[32];
	char s[80], back[72];

	snprintf(s, sizeof(s), "sha256:%s", HEX_A);
	assert_int_equal(erofs_oci_digest_parse(s, d), 0);
	erofs_oci_digest_str(back, d);
	assert_string_equal(back, s);
	/* upper case hex is no file name in blobs/sha256 */
	s[10] = 'F';
	assert_int_equal(erofs_oci_digest_parse(s, d), -EINVAL);
	assert_int_equal(erofs_oci_digest_parse("sha512:abcd", d), -ENOTSUP);
	assert_int_equal(erofs_oci_digest_parse("sha256:abcd", d), -EINVAL);
	assert_int_equal(erofs_oci_digest_parse("sha256", d), -EINVAL);
	assert_int_equal(erofs_oci_digest_parse(":abcd", d), -EINVAL);
	assert_int_equal(erofs_oci_digest_parse("sha256:../../etc/passwd", d),
			 -EINVAL);
}

static void test_platform(void **state)
{
	struct erofs_oci_platform p, h = {0};

	assert_int_equal(erofs_oci_platform_parse("linux/arm64/v8", &p), 0);
	assert_string_equal(p.os, "linux");
	assert_string_equal(p.arch, "arm64");
	assert_string_equal(p.variant, "v8");
	h.os = "linux";
	h.arch = "arm64";
	/* arm64 entries often omit v8 */
	assert_true(erofs_oci_platform_match(&p, &h));
	h.variant = "v9";
	assert_false(erofs_oci_platform_match(&p, &h));
	erofs_oci_platform_free(&p);

	assert_int_equal(erofs_oci_platform_parse("linux/amd64", &p), 0);
	assert_null(p.variant);
	h.arch = "amd64";
	h.variant = "v3";
	assert_true(erofs_oci_platform_match(&p, &h));
	h.os = "windows";
	assert_false(erofs_oci_platform_match(&p, &h));
	erofs_oci_platform_free(&p);

	assert_int_equal(erofs_oci_platform_parse("linux", &p), -EINVAL);
	assert_int_equal(erofs_oci_platform_parse("linux/", &p), -EINVAL);
	assert_int_equal(erofs_oci_platform_parse("/amd64", &p), -EINVAL);
	assert_int_equal(erofs_oci_platform_parse("linux/arm/v7/x", &p),
			 -EINVAL);
	assert_int_equal(erofs_oci_platform_parse("linux/am d64", &p), -EINVAL);

	assert_int_equal(erofs_oci_platform_host(&p), 0);
	assert_string_equal(p.os, "linux");
	assert_non_null(p.arch);
	erofs_oci_platform_free(&p);
}

static void test_time(void **state)
{
	int64_t t;

	assert_int_equal(erofs_oci_parse_time("1970-01-01T00:00:00Z", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(erofs_oci_parse_time("2024-02-29T12:34:56.789Z", &t),
			 0);
	assert_int_equal(t, 1709210096);
	assert_int_equal(erofs_oci_parse_time("2024-02-29T14:34:56+02:00", &t),
			 0);
	assert_int_equal(t, 1709210096);
	assert_int_equal(erofs_oci_parse_time("2024-02-29", &t), -EINVAL);
	assert_int_equal(erofs_oci_parse_time("2024-02-29T12:34:56", &t),
			 -EINVAL);
	assert_int_equal(erofs_oci_parse_time("2024-13-01T00:00:00Z", &t),
			 -EINVAL);
	assert_int_equal(erofs_oci_parse_time("2024-01-01T00:00:00Zjunk", &t),
			 -EINVAL);
}

static int parse(const char *s, bool array, struct json_object **o)
{
	return erofs_oci_json_parse(s, strlen(s), array, "doc", o, &tlog);
}

static void test_json_limits(void **state)
{
	struct json_object *o;
	char *big, *deep;
	size_t n;

	assert_int_equal(parse("{\"a\": [1, 2]}\n \t", false, &o), 0);
	json_object_put(o);
	assert_int_equal(parse("[1]", true, &o), 0);
	json_object_put(o);

	assert_int_equal(parse("{\"a\": ", false, &o), -EINVAL);
	assert_logged("doc: malformed JSON");
	assert_int_equal(parse("{\"a\": 1} {}", false, &o), -EINVAL);
	assert_logged("doc: malformed JSON");
	assert_int_equal(parse("[1]", false, &o), -EINVAL);
	assert_logged("not a JSON object");
	assert_int_equal(
	    erofs_oci_json_parse("{\"a\":\"\0\"}", 9, false, "doc", &o, &tlog),
	    -EINVAL);
	assert_null(o);

	/* deeper than the limit */
	n = 2 * (EROFS_OCI_JSON_DEPTH + 8);
	deep = malloc(n + 1);
	assert_non_null(deep);
	for (size_t i = 0; i < n / 2; i++) {
		deep[i] = '[';
		deep[n - 1 - i] = ']';
	}
	deep[n] = '\0';
	assert_int_equal(parse(deep, true, &o), -EINVAL);
	free(deep);

	/* bigger than the limit, refused before parsing */
	n = EROFS_OCI_JSON_MAX + 1;
	big = malloc(n);
	assert_non_null(big);
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	log_reset();
	assert_int_equal(erofs_oci_json_parse(big, n, false, "big", &o, &tlog),
			 -EFBIG);
	assert_logged("more than the");
	free(big);
}

static const char *index_doc =
    "{\"schemaVersion\":2,\"mediaType\":\"application/"
    "vnd.oci.image.index.v1+json\","
    "\"manifests\":["
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
    "\"sha256:"
    "1111111111111111111111111111111111111111111111111111111111111111\","
    "\"size\":10,\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
    "\"sha256:"
    "2222222222222222222222222222222222222222222222222222222222222222\","
    "\"size\":11,\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\","
    "\"variant\":\"v8\"}},"
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
    "\"sha256:"
    "3333333333333333333333333333333333333333333333333333333333333333\","
    "\"size\":12,\"platform\":{\"os\":\"unknown\",\"architecture\":\"unknown\"}"
    "}"
    "]}";

static void test_index_platform(void **state)
{
	struct erofs_oci_platform p;
	struct erofs_oci_desc *d;
	struct json_object *o;
	unsigned int nr, idx;

	assert_int_equal(parse(index_doc, false, &o), 0);
	assert_int_equal(erofs_oci_parse_index(o, "idx", &d, &nr, &tlog), 0);
	json_object_put(o);
	assert_int_equal(nr, 3);
	assert_int_equal(d[1].size, 11);
	assert_true(d[1].has_platform);

	assert_int_equal(erofs_oci_platform_parse("linux/arm64", &p), 0);
	assert_int_equal(erofs_oci_select(d, nr, NULL, &p, "idx", &idx, &tlog),
			 0);
	assert_int_equal(idx, 1);
	erofs_oci_platform_free(&p);
	assert_int_equal(erofs_oci_platform_parse("linux/amd64", &p), 0);
	assert_int_equal(erofs_oci_select(d, nr, NULL, &p, "idx", &idx, &tlog),
			 0);
	assert_int_equal(idx, 0);
	erofs_oci_platform_free(&p);
	/* attestation manifests (unknown/unknown) are never picked */
	assert_int_equal(erofs_oci_platform_parse("unknown/unknown", &p), 0);
	assert_int_equal(erofs_oci_select(d, nr, NULL, &p, "idx", &idx, &tlog),
			 -ENOENT);
	erofs_oci_platform_free(&p);
	assert_int_equal(erofs_oci_platform_parse("linux/s390x", &p), 0);
	log_reset();
	assert_int_equal(erofs_oci_select(d, nr, NULL, &p, "idx", &idx, &tlog),
			 -ENOENT);
	assert_logged("no image for platform linux/s390x");
	assert_logged("linux/arm64/v8");
	erofs_oci_platform_free(&p);
	erofs_oci_descs_free(d, nr);
}

static const char *tagged_index =
    "{\"schemaVersion\":2,\"manifests\":["
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
    "\"sha256:"
    "1111111111111111111111111111111111111111111111111111111111111111\","
    "\"size\":10,\"annotations\":{\"org.opencontainers.image.ref.name\":\"v1\"}"
    "},"
    "{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
    "\"sha256:"
    "2222222222222222222222222222222222222222222222222222222222222222\","
    "\"size\":11,\"annotations\":{\"org.opencontainers.image.ref.name\":\"v2\"}"
    "}"
    "]}";

static void test_index_ref(void **state)
{
	struct erofs_oci_desc *d;
	struct json_object *o;
	unsigned int nr, idx;

	assert_int_equal(parse(tagged_index, false, &o), 0);
	assert_int_equal(erofs_oci_parse_index(o, "idx", &d, &nr, &tlog), 0);
	json_object_put(o);
	assert_int_equal(
	    erofs_oci_select(d, nr, "v2", NULL, "idx", &idx, &tlog), 0);
	assert_int_equal(idx, 1);
	assert_string_equal(d[idx].ref_name, "v2");
	assert_int_equal(
	    erofs_oci_select(d, nr, "v3", NULL, "idx", &idx, &tlog), -ENOENT);
	assert_logged("no image named \"v3\" (there is: v1, v2)");
	log_reset();
	assert_int_equal(
	    erofs_oci_select(d, nr, NULL, NULL, "idx", &idx, &tlog), -EINVAL);
	assert_logged("2 images, name one");
	erofs_oci_descs_free(d, nr);
}

static void test_index_bad(void **state)
{
	static const char *bad[] = {
	    "{\"manifests\":[]}",
	    "{\"schemaVersion\":1,\"manifests\":[]}",
	    "{\"schemaVersion\":2}",
	    "{\"schemaVersion\":2,\"manifests\":{}}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
	    "\"application/"
	    "vnd.oci.image.manifest.v1+json\",\"digest\":\"sha256:11\","
	    "\"size\":1}]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
	    "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
	    "\"sha256:"
	    "1111111111111111111111111111111111111111111111111111111111111111\""
	    ","
	    "\"size\":-1}]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
	    "\"application/x-unknown\",\"digest\":"
	    "\"sha256:"
	    "1111111111111111111111111111111111111111111111111111111111111111\""
	    ","
	    "\"size\":1}]}",
	    "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
	    "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
	    "\"sha256:"
	    "1111111111111111111111111111111111111111111111111111111111111111\""
	    ","
	    "\"size\":\"1\"}]}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct erofs_oci_desc *d = (void *)1;
		struct json_object *o;
		unsigned int nr = 7;

		assert_int_equal(parse(bad[i], false, &o), 0);
		assert_int_not_equal(
		    erofs_oci_parse_index(o, "idx", &d, &nr, &tlog), 0);
		assert_null(d);
		assert_int_equal(nr, 0);
		json_object_put(o);
	}
}

static char *manifest_doc(const char *layer_mt, const char *d1, const char *d2)
{
	char *s;

	assert_true(
	    asprintf(
		&s,
		"{\"schemaVersion\":2,\"mediaType\":\"application/"
		"vnd.oci.image.manifest.v1+json\","
		"\"config\":{\"mediaType\":\"application/"
		"vnd.oci.image.config.v1+json\","
		"\"digest\":\"sha256:%s\",\"size\":100},"
		"\"layers\":[{\"mediaType\":\"%s\",\"digest\":\"sha256:%s\","
		"\"size\":5},"
		"{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\","
		"\"digest\":\"sha256:%s\",\"size\":6}]}",
		HEX_A, layer_mt, d1, d2) > 0);
	return s;
}

static void test_manifest(void **state)
{
	static const char h1[] =
	    "1111111111111111111111111111111111111111111111111111111111111111";
	static const char h2[] =
	    "2222222222222222222222222222222222222222222222222222222222222222";
	struct erofs_oci_image img;
	struct erofs_oci_desc cfg;
	struct json_object *o;
	char *s;

	erofs_oci_image_init(&img);
	s = manifest_doc("application/vnd.oci.image.layer.v1.tar+gzip", h1, h2);
	assert_int_equal(parse(s, false, &o), 0);
	free(s);
	assert_int_equal(erofs_oci_parse_manifest(o, "m", &cfg, &img, &tlog),
			 0);
	json_object_put(o);
	assert_int_equal(img.nr_layers, 2);
	assert_int_equal(img.layers[0].comp, EROFS_OCI_COMP_GZIP);
	assert_int_equal(img.layers[1].comp, EROFS_OCI_COMP_NONE);
	assert_int_equal(img.layers[1].desc.size, 6);
	assert_int_equal(cfg.size, 100);
	erofs_oci_desc_free(&cfg);
	erofs_oci_image_free(&img);

	/* unknown layer media type */
	s = manifest_doc("application/vnd.example.layer.v1.squashfs", h1, h2);
	assert_int_equal(parse(s, false, &o), 0);
	free(s);
	log_reset();
	assert_int_equal(erofs_oci_parse_manifest(o, "m", &cfg, &img, &tlog),
			 -ENOTSUP);
	assert_logged("m: layer 1: unknown media type application/vnd.example");
	assert_int_equal(img.nr_layers, 0);
	json_object_put(o);

	/* the same layer twice */
	s = manifest_doc("application/vnd.oci.image.layer.v1.tar", h1, h1);
	assert_int_equal(parse(s, false, &o), 0);
	free(s);
	log_reset();
	assert_int_equal(erofs_oci_parse_manifest(o, "m", &cfg, &img, &tlog),
			 -EINVAL);
	assert_logged("is listed twice (layers 1 and 2)");
	json_object_put(o);
	erofs_oci_image_free(&img);
}

static void test_config(void **state)
{
	struct erofs_oci_image img;
	struct json_object *o;
	char doc[1024];

	erofs_oci_image_init(&img);
	img.layers = calloc(2, sizeof(*img.layers));
	img.nr_layers = 2;
	snprintf(
	    doc, sizeof(doc),
	    "{\"created\":\"2020-01-01T00:00:00Z\",\"architecture\":\"amd64\","
	    "\"os\":\"linux\",\"config\":{\"Env\":[\"A=1\"]},"
	    "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\","
	    "\"sha256:%.63s1\"]}}",
	    HEX_A, HEX_A);
	assert_int_equal(parse(doc, false, &o), 0);
	assert_int_equal(erofs_oci_parse_config(o, "c", false, &img, &tlog), 0);
	json_object_put(o);
	assert_true(img.have_created);
	assert_int_equal(img.created, 1577836800);
	assert_true(img.layers[1].have_diff_id);
	assert_non_null(img.config);

	/* one diff_id for two layers */
	snprintf(
	    doc, sizeof(doc),
	    "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}",
	    HEX_A);
	assert_int_equal(parse(doc, false, &o), 0);
	log_reset();
	assert_int_equal(erofs_oci_parse_config(o, "c", false, &img, &tlog),
			 -EINVAL);
	assert_logged("1 diff_ids for 2 layers");
	json_object_put(o);

	/* the same diff_id twice */
	snprintf(doc, sizeof(doc),
		 "{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\","
		 "\"sha256:%s\"]}}",
		 HEX_A, HEX_A);
	assert_int_equal(parse(doc, false, &o), 0);
	assert_int_equal(erofs_oci_parse_config(o, "c", false, &img, &tlog),
			 -EINVAL);
	json_object_put(o);

	assert_int_equal(
	    parse("{\"rootfs\":{\"type\":\"squash\",\"diff_ids\":[]}}", false,
		  &o),
	    0);
	assert_int_equal(erofs_oci_parse_config(o, "c", false, &img, &tlog),
			 -EINVAL);
	json_object_put(o);
	assert_int_equal(
	    parse("{\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[1, 2]}}",
		  false, &o),
	    0);
	assert_int_equal(erofs_oci_parse_config(o, "c", false, &img, &tlog),
			 -EINVAL);
	json_object_put(o);
	erofs_oci_image_free(&img);
}

static void test_docker_manifest(void **state)
{
	static const char *doc =
	    "[{\"Config\":\"aa.json\",\"RepoTags\":[\"busybox:latest\"],"
	    "\"Layers\":[\"l1/layer.tar\",\"l2/layer.tar\"]},"
	    "{\"Config\":\"bb.json\",\"RepoTags\":[\"alpine:3\"],"
	    "\"Layers\":[\"l3/layer.tar\"]}]";
	struct erofs_oci_image img;
	struct json_object *o;
	char *cfg;

	erofs_oci_image_init(&img);
	assert_int_equal(parse(doc, true, &o), 0);
	assert_int_equal(
	    erofs_oci_parse_docker_manifest(o, "alpine:3", &cfg, &img, &tlog),
	    0);
	assert_string_equal(cfg, "bb.json");
	assert_int_equal(img.nr_layers, 1);
	assert_string_equal(img.layers[0].path, "l3/layer.tar");
	free(cfg);
	erofs_oci_image_free(&img);
	assert_int_equal(
	    erofs_oci_parse_docker_manifest(o, NULL, &cfg, &img, &tlog),
	    -EINVAL);
	assert_int_equal(
	    erofs_oci_parse_docker_manifest(o, "nope:1", &cfg, &img, &tlog),
	    -ENOENT);
	erofs_oci_image_free(&img);
	json_object_put(o);
}

/* ---- on disk ---- */

static char tmpdir[64];

static void put(const char *rel, const void *buf, size_t len)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

static void put_blob(const void *buf, size_t len, char digest[72])
{
	char rel[128];

	digest_of(buf, len, digest);
	snprintf(rel, sizeof(rel), "blobs/sha256/%s", digest + 7);
	put(rel, buf, len);
}

static void rm_rf(const char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static size_t gz(const void *in, size_t len, void *out, size_t cap)
{
	z_stream z = {0};

	assert_int_equal(
	    deflateInit2(&z, 6, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = (void *)in;
	z.avail_in = len;
	z.next_out = out;
	z.avail_out = cap;
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	deflateEnd(&z);
	return z.total_out;
}

/* a layout with one gzip layer; returns the layer's compressed bytes */
static size_t make_layout(uint8_t *tar, size_t tarlen, uint8_t *gzbuf,
			  bool write_layer, const char *diff_override)
{
	char ld[72], dd[72], cd[72], md[72], doc[2048];
	size_t glen = gz(tar, tarlen, gzbuf, 65536);

	strcpy(tmpdir, "/tmp/test_oci.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(doc, sizeof(doc), "%s/blobs", tmpdir);
	mkdir(doc, 0755);
	snprintf(doc, sizeof(doc), "%s/blobs/sha256", tmpdir);
	mkdir(doc, 0755);
	put("oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	if (write_layer)
		put_blob(gzbuf, glen, ld);
	else
		digest_of(gzbuf, glen, ld);
	digest_of(tar, tarlen, dd);
	snprintf(doc, sizeof(doc),
		 "{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":"
		 "{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
		 diff_override ? diff_override : dd);
	put_blob(doc, strlen(doc), cd);
	{
		size_t clen = strlen(doc);

		snprintf(
		    doc, sizeof(doc),
		    "{\"schemaVersion\":2,\"config\":{\"mediaType\":"
		    "\"application/vnd.oci.image.config.v1+json\",\"digest\":"
		    "\"%s\",\"size\":%zu},\"layers\":[{\"mediaType\":"
		    "\"application/vnd.oci.image.layer.v1.tar+gzip\","
		    "\"digest\":\"%s\",\"size\":%zu}]}",
		    cd, clen, ld, glen);
	}
	put_blob(doc, strlen(doc), md);
	snprintf(doc + 1024, 1024,
		 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":"
		 "\"application/vnd.oci.image.manifest.v1+json\",\"digest\":"
		 "\"%s\",\"size\":%zu,\"annotations\":"
		 "{\"org.opencontainers.image.ref.name\":\"t1\"}}]}",
		 md, strlen(doc));
	put("index.json", doc + 1024, strlen(doc + 1024));
	return glen;
}

static void fill_tar(uint8_t *tar, size_t len)
{
	/* any bytes: the stream does not parse the tar */
	for (size_t i = 0; i < len; i++)
		tar[i] = (uint8_t)(i * 7 + (i >> 9));
}

/* runs layer 0 of @img through the stream as an importer would */
static int run_stream(struct erofs_oci_image *img, bool diff_id,
		      struct erofs_oci_stream_stats *st)
{
	struct erofs_oci_layer *l = &img->layers[0];
	struct erofs_oci_verify v = {
	    .name = "layer 1/1",
	    .check_digest = l->have_digest,
	    .size = l->desc.size,
	    .check_diff_id = diff_id,
	    .comp = l->comp,
	};
	struct erofs_oci_stream *s;
	struct erofs_oci_src src;
	char buf[4096];
	int rfd;

	memcpy(v.digest, l->desc.digest, 32);
	memcpy(v.diff_id, l->diff_id, 32);
	assert_int_equal(erofs_oci_layer_open(img, 0, &src, &tlog), 0);
	assert_int_equal(erofs_oci_stream_start(&s, &src, &v, &rfd, &tlog), 0);
	/* the importer reads a part (nothing when the stream failed early);
	 * the finish drains the rest */
	(void)!read(rfd, buf, sizeof(buf));
	return erofs_oci_stream_finish(s, rfd, true, st);
}

static void test_layout_stream(void **state)
{
	static uint8_t tar[200000], gzbuf[65536 * 4];
	struct erofs_oci_stream_stats st;
	struct erofs_oci_image img;
	uint8_t want[32];
	size_t glen;

	fill_tar(tar, sizeof(tar));
	glen = make_layout(tar, sizeof(tar), gzbuf, true, NULL);
	erofs_oci_image_init(&img);
	assert_int_equal(erofs_oci_layout_open(tmpdir, "t1", NULL, &img, &tlog),
			 0);
	assert_string_equal(img.ref, "t1");
	assert_int_equal(img.nr_layers, 1);
	assert_int_equal(img.layers[0].desc.size, glen);
	assert_int_equal(run_stream(&img, true, &st), 0);
	assert_int_equal(st.bytes_read, glen);
	assert_int_equal(st.bytes_tar, sizeof(tar));
	sha(tar, sizeof(tar), want);
	assert_memory_equal(st.diff_id, want, 32);

	/* declared gzip, but the blob is not */
	img.layers[0].comp = EROFS_OCI_COMP_ZSTD;
	log_reset();
	assert_int_not_equal(run_stream(&img, true, &st), 0);
	assert_logged("layer 1/1: its media type says zstd, the blob is gzip");
	img.layers[0].comp = EROFS_OCI_COMP_GZIP;

	/* a wrong diff_id */
	img.layers[0].diff_id[5] ^= 1;
	log_reset();
	assert_int_equal(run_stream(&img, true, &st), -EINVAL);
	assert_logged("layer 1/1: diff_id mismatch");
	img.layers[0].diff_id[5] ^= 1;
	erofs_oci_image_free(&img);

	/* the layer blob changes after it was listed: digest mismatch */
	{
		char rel[128], ds[72];

		digest_of(gzbuf, glen, ds);
		snprintf(rel, sizeof(rel), "blobs/sha256/%s", ds + 7);
		gzbuf[glen / 2] ^= 0x55;
		put(rel, gzbuf, glen);
		erofs_oci_image_init(&img);
		assert_int_equal(
		    erofs_oci_layout_open(tmpdir, NULL, NULL, &img, &tlog), 0);
		log_reset();
		assert_int_not_equal(run_stream(&img, true, &st), 0);
		assert_logged("layer 1/1: ");
		erofs_oci_image_free(&img);
	}
	rm_rf(tmpdir);
}

static void file_image(struct erofs_oci_image *img, const char *path)
{
	erofs_oci_image_init(img);
	img->layers = calloc(1, sizeof(*img->layers));
	assert_non_null(img->layers);
	img->nr_layers = 1;
	img->layers[0].path = strdup(path);
}

static void write_file(const char *path, const void *a, size_t alen,
		       const void *b, size_t blen)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, a, alen), (ssize_t)alen);
	if (blen)
		assert_int_equal(write(fd, b, blen), (ssize_t)blen);
	close(fd);
}

/* gzip members back to back, trailing junk, a bad CRC, a cut stream */
static void test_gzip_members(void **state)
{
	static uint8_t tar[300000], g1[150000], g2[150000];
	struct erofs_oci_stream_stats st;
	struct erofs_oci_image img;
	char path[] = "/tmp/test_oci_gz.XXXXXX";
	uint8_t want[32];
	size_t l1, l2;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	fill_tar(tar, sizeof(tar));
	l1 = gz(tar, 100000, g1, sizeof(g1));
	l2 = gz(tar + 100000, sizeof(tar) - 100000, g2, sizeof(g2));

	write_file(path, g1, l1, g2, l2);
	file_image(&img, path);
	if (run_stream(&img, false, &st))
		fail_msg("%s", logged());
	sha(tar, sizeof(tar), want);
	assert_memory_equal(st.diff_id, want, 32);
	assert_int_equal(st.bytes_tar, sizeof(tar));
	assert_int_equal(st.bytes_read, l1 + l2);

	write_file(path, g1, l1, "junk", 4);
	log_reset();
	assert_int_equal(run_stream(&img, false, &st), -EINVAL);
	assert_logged("data after the end of the gzip stream");

	g1[l1 - 6] ^= 1; /* the CRC-32 in the trailer */
	write_file(path, g1, l1, NULL, 0);
	log_reset();
	assert_int_equal(run_stream(&img, false, &st), -EINVAL);
	assert_logged("CRC-32");
	g1[l1 - 6] ^= 1;

	write_file(path, g1, l1 / 2, NULL, 0);
	log_reset();
	assert_int_equal(run_stream(&img, false, &st), -EINVAL);
	assert_logged("layer 1/1: corrupt or truncated gzip stream");
	erofs_oci_image_free(&img);
	unlink(path);
}

static void test_layout_bad(void **state)
{
	static uint8_t tar[5000], gzbuf[65536];
	struct erofs_oci_image img;
	char p[256];

	fill_tar(tar, sizeof(tar));
	make_layout(tar, sizeof(tar), gzbuf, false, NULL);
	erofs_oci_image_init(&img);
	log_reset();
	assert_int_equal(erofs_oci_layout_open(tmpdir, NULL, NULL, &img, &tlog),
			 -ENOENT);
	assert_logged("layer 1/1 (sha256:");
	assert_logged("blob is missing");
	erofs_oci_image_free(&img);

	/* a corrupted index.json */
	put("index.json", "{\"schemaVersion\":2,\"manifests\":[", 32);
	erofs_oci_image_init(&img);
	log_reset();
	assert_int_equal(erofs_oci_layout_open(tmpdir, NULL, NULL, &img, &tlog),
			 -EINVAL);
	assert_logged("index.json: malformed JSON");
	erofs_oci_image_free(&img);

	/* not a layout at all */
	snprintf(p, sizeof(p), "%s/oci-layout", tmpdir);
	unlink(p);
	erofs_oci_image_init(&img);
	assert_int_equal(erofs_oci_layout_open(tmpdir, NULL, NULL, &img, &tlog),
			 -ENOENT);
	erofs_oci_image_free(&img);
	rm_rf(tmpdir);
}

static void test_out_atomic(void **state)
{
	struct erofs_oci_out *o;
	uint8_t d[32];
	char dir[64], out[128], *tmp;
	struct stat st;
	int fd;

	strcpy(dir, "/tmp/test_oci_out.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/out", dir);

	/* aborted: nothing left next to OUTDIR or at it */
	assert_int_equal(erofs_oci_out_create(&o, out, NULL, &tlog), 0);
	tmp = erofs_oci_out_tmpname(o, "layer-1");
	fd = open(tmp, O_WRONLY | O_CREAT, 0644);
	assert_true(fd >= 0);
	close(fd);
	free(tmp);
	assert_int_equal(erofs_oci_out_blob(o, "{}", 2, d), 0);
	erofs_oci_out_destroy(o);
	assert_int_equal(rmdir(dir), 0); /* empty */
	assert_int_equal(mkdir(dir, 0755), 0);

	/* committed, over an empty directory */
	assert_int_equal(mkdir(out, 0755), 0);
	assert_int_equal(erofs_oci_out_create(&o, out, NULL, &tlog), 0);
	assert_int_equal(erofs_oci_out_blob(o, "{}", 2, d), 0);
	assert_int_equal(erofs_oci_out_commit(o, d, 2, "t"), 0);
	erofs_oci_out_destroy(o);
	snprintf(out, sizeof(out), "%s/out/index.json", dir);
	assert_int_equal(stat(out, &st), 0);
	snprintf(
	    out, sizeof(out),
	    "%s/out/blobs/sha256/"
	    "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a",
	    dir);
	assert_int_equal(stat(out, &st), 0);

	/* a non-empty OUTDIR is refused */
	snprintf(out, sizeof(out), "%s/out", dir);
	log_reset();
	assert_int_equal(erofs_oci_out_create(&o, out, NULL, &tlog), -EEXIST);
	assert_logged("not an empty directory");
	rm_rf(dir);
}

/*
 * What a program's fatal-signal handler does: erofs_tmpnames_unlink()
 * removes the recorded temporary layout with everything in it (a blob,
 * a builder's temporary file, many entries to list); after a commit
 * nothing is recorded any more.
 */
static void test_out_tmpnames(void **state)
{
	static struct erofs_tmpnames reg;
	struct erofs_oci_out *o;
	uint8_t d[32];
	char dir[64], out[128], name[32], *tmp;
	struct stat st;
	int fd;

	strcpy(dir, "/tmp/test_oci_sig.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(out, sizeof(out), "%s/out", dir);
	assert_int_equal(erofs_oci_out_create(&o, out, &reg, &tlog), 0);
	assert_int_equal(reg.used[0], EROFS_TMPNAME_TREE);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "layer-%d", i);
		tmp = erofs_oci_out_tmpname(o, name);
		fd = open(tmp, O_WRONLY | O_CREAT, 0644);
		assert_true(fd >= 0);
		close(fd);
		free(tmp);
	}
	assert_int_equal(erofs_oci_out_blob(o, "{}", 2, d), 0);
	erofs_tmpnames_unlink(&reg);
	assert_int_equal(rmdir(dir), 0); /* nothing left */
	erofs_oci_out_destroy(o);	 /* copes with that */
	assert_int_equal(reg.used[0], 0);

	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(erofs_oci_out_create(&o, out, &reg, &tlog), 0);
	assert_int_equal(erofs_oci_out_blob(o, "{}", 2, d), 0);
	assert_int_equal(erofs_oci_out_commit(o, d, 2, "t"), 0);
	for (int i = 0; i < EROFS_TMPNAMES_MAX; i++)
		assert_int_equal(reg.used[i], 0);
	erofs_tmpnames_unlink(&reg);
	erofs_oci_out_destroy(o);
	snprintf(out, sizeof(out), "%s/out/index.json", dir);
	assert_int_equal(stat(out, &st), 0);
	rm_rf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup(test_digest, setup),
	    cmocka_unit_test_setup(test_platform, setup),
	    cmocka_unit_test_setup(test_time, setup),
	    cmocka_unit_test_setup(test_json_limits, setup),
	    cmocka_unit_test_setup(test_index_platform, setup),
	    cmocka_unit_test_setup(test_index_ref, setup),
	    cmocka_unit_test_setup(test_index_bad, setup),
	    cmocka_unit_test_setup(test_manifest, setup),
	    cmocka_unit_test_setup(test_config, setup),
	    cmocka_unit_test_setup(test_docker_manifest, setup),
	    cmocka_unit_test_setup(test_layout_stream, setup),
	    cmocka_unit_test_setup(test_gzip_members, setup),
	    cmocka_unit_test_setup(test_layout_bad, setup),
	    cmocka_unit_test_setup(test_out_atomic, setup),
	    cmocka_unit_test_setup(test_out_tmpnames, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * OCI and Docker image documents: bounded JSON parsing, descriptors,
 * image indexes (with platform selection), image manifests, image configs
 * and docker-archive manifest.json.  Pure functions over buffers, so they
 * are unit-tested and fuzzed on their own.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "liberofs_oci.h"

void erofs_oci_platform_free(struct erofs_oci_platform *p)
{
	free(p->os);
	free(p->arch);
	free(p->variant);
	p->os = p->arch = p->variant = NULL;
}

void erofs_oci_desc_free(struct erofs_oci_desc *d)
{
	free(d->media_type);
	free(d->ref_name);
	erofs_oci_platform_free(&d->platform);
	memset(d, 0, sizeof(*d));
}

void erofs_oci_descs_free(struct erofs_oci_desc *descs, unsigned int nr)
{
	for (unsigned int i = 0; i < nr; i++)
		erofs_oci_desc_free(&descs[i]);
	free(descs);
}

void erofs_oci_image_init(struct erofs_oci_image *img)
{
	memset(img, 0, sizeof(*img));
	img->layout_fd = -1;
}

void erofs_oci_image_free(struct erofs_oci_image *img)
{
	erofs_oci_desc_free(&img->manifest);
	json_object_put(img->config);
	for (unsigned int i = 0; i < img->nr_layers; i++) {
		erofs_oci_desc_free(&img->layers[i].desc);
		free(img->layers[i].path);
	}
	free(img->layers);
	free(img->ref);
	free(img->archive);
	if (img->layout_fd >= 0)
		close(img->layout_fd);
	erofs_oci_image_init(img);
}

int erofs_oci_digest_parse(const char *s, uint8_t out[EROFS_SHA256_LEN])
{
	const char *colon = strchr(s, ':');

	if (!colon || colon == s)
		return -EINVAL;
	if (colon - s != 6 || memcmp(s, "sha256", 6)) {
		/* a well-formed digest of another algorithm */
		for (const char *p = s; p < colon; p++)
			if (!islower((unsigned char)*p) &&
			    !isdigit((unsigned char)*p) && !strchr("+._-", *p))
				return -EINVAL;
		return -ENOTSUP;
	}
	/* lowercase only: the hex is a file name in blobs/sha256/ */
	for (const char *p = colon + 1; *p; p++)
		if (!isdigit((unsigned char)*p) && (*p < 'a' || *p > 'f'))
			return -EINVAL;
	return erofs_unhex(out, colon + 1, EROFS_SHA256_LEN);
}

void erofs_oci_digest_str(char out[EROFS_OCI_DIGEST_LEN + 1],
			  const uint8_t d[EROFS_SHA256_LEN])
{
	memcpy(out, "sha256:", 7);
	erofs_hex(out + 7, d, EROFS_SHA256_LEN);
}

static bool platform_word(const char *s, size_t n)
{
	if (!n || n > 64)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

int erofs_oci_platform_parse(const char *s, struct erofs_oci_platform *p)
{
	const char *a = strchr(s, '/'), *v;

	memset(p, 0, sizeof(*p));
	if (!a)
		return -EINVAL;
	v = strchr(a + 1, '/');
	if (!platform_word(s, a - s) ||
	    !platform_word(a + 1, v ? (size_t)(v - a - 1) : strlen(a + 1)) ||
	    (v && !platform_word(v + 1, strlen(v + 1))))
		return -EINVAL;
	p->os = strndup(s, a - s);
	p->arch = v ? strndup(a + 1, v - a - 1) : strdup(a + 1);
	p->variant = v ? strdup(v + 1) : NULL;
	if (!p->os || !p->arch || (v && !p->variant)) {
		erofs_oci_platform_free(p);
		return -ENOMEM;
	}
	return 0;
}

int erofs_oci_platform_host(struct erofs_oci_platform *p)
{
	static const struct {
		const char *machine, *arch, *variant;
	} map[] = {
	    {"x86_64", "amd64", NULL},
	    {"aarch64", "arm64", "v8"},
	    {"armv7l", "arm", "v7"},
	    {"armv6l", "arm", "v6"},
	    {"i686", "386", NULL},
	    {"i386", "386", NULL},
	    {"ppc64le", "ppc64le", NULL},
	    {"s390x", "s390x", NULL},
	    {"riscv64", "riscv64", NULL},
	    {"mips64", "mips64", NULL},
	    {"loongarch64", "loong64", NULL},
	};
	struct utsname u;
	const char *arch = NULL, *variant = NULL;

	memset(p, 0, sizeof(*p));
	if (uname(&u) < 0)
		return -errno;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (!strcmp(u.machine, map[i].machine)) {
			arch = map[i].arch;
			variant = map[i].variant;
			break;
		}
	}
	p->os = strdup("linux");
	p->arch = strdup(arch ? arch : u.machine);
	p->variant = variant ? strdup(variant) : NULL;
	if (!p->os || !p->arch || (variant && !p->variant)) {
		erofs_oci_platform_free(p);
		return -ENOMEM;
	}
	return 0;
}

bool erofs_oci_platform_match(const struct erofs_oci_platform *want,
			      const struct erofs_oci_platform *have)
{
	if (!have->os || !have->arch || strcmp(want->os, have->os) ||
	    strcmp(want->arch, have->arch))
		return false;
	if (!want->variant)
		return true;
	if (have->variant)
		return !strcmp(want->variant, have->variant);
	/* arm64 images often leave out the only variant there is */
	return !strcmp(want->arch, "arm64") && !strcmp(want->variant, "v8");
}

static int digits(const char **s, int n, int *out)
{
	int v = 0;

	for (int i = 0; i < n; i++, (*s)++) {
		if (!isdigit((unsigned char)**s))
			return -EINVAL;
		v = v * 10 + (**s - '0');
	}
	*out = v;
	return 0;
}

int erofs_oci_parse_time(const char *s, int64_t *out)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	time_t t;

	if (digits(&s, 4, &y) || *s++ != '-' || digits(&s, 2, &mo) ||
	    *s++ != '-' || digits(&s, 2, &d) ||
	    (*s != 'T' && *s != 't' && *s != ' '))
		return -EINVAL;
	s++;
	if (digits(&s, 2, &h) || *s++ != ':' || digits(&s, 2, &mi) ||
	    *s++ != ':' || digits(&s, 2, &sec))
		return -EINVAL;
	if (*s == '.') {
		s++;
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '-' ? -1 : 1;
		if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om))
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || oh > 23 || om > 59)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*out = (int64_t)t - sign * (oh * 3600 + om * 60);
	return 0;
}

int erofs_oci_json_parse(const char *buf, size_t len, bool array,
			 const char *what, struct json_object **out,
			 const struct erofs_log *log)
{
	struct json_tokener *tok;
	struct json_object *o;
	enum json_tokener_error jerr;
	size_t end;

	*out = NULL;
	if (len > EROFS_OCI_JSON_MAX)
		return erofs_fail(
		    log, -EFBIG,
		    "%s: %zu bytes of JSON, more than the %u allowed", what,
		    len, EROFS_OCI_JSON_MAX);
	if (memchr(buf, '\0', len))
		return erofs_fail(log, -EINVAL, "%s: NUL byte in JSON", what);
	tok = json_tokener_new_ex(EROFS_OCI_JSON_DEPTH);
	if (!tok)
		return erofs_err(log, -ENOMEM, "%s", what);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, buf, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (!o && jerr == json_tokener_continue)
		jerr = json_tokener_error_parse_eof;
	json_tokener_free(tok);
	if (!o || jerr != json_tokener_success) {
		json_object_put(o);
		return erofs_fail(log, -EINVAL, "%s: malformed JSON: %s", what,
				  json_tokener_error_desc(jerr));
	}
	for (; end < len; end++) {
		if (!strchr(" \t\r\n", buf[end])) {
			json_object_put(o);
			return erofs_fail(log, -EINVAL,
					  "%s: malformed JSON: data after the "
					  "document at byte %zu",
					  what, end);
		}
	}
	if (!json_object_is_type(o,
				 array ? json_type_array : json_type_object)) {
		json_object_put(o);
		return erofs_fail(log, -EINVAL, "%s: not a JSON %s", what,
				  array ? "array" : "object");
	}
	*out = o;
	return 0;
}

/* a string member or NULL; -EINVAL when present but not a string */
static int get_str(struct json_object *o, const char *key, const char **out,
		   bool required, const char *what, const struct erofs_log *log)
{
	struct json_object *f;

	*out = NULL;
	if (!json_object_object_get_ex(o, key, &f) ||
	    json_object_is_type(f, json_type_null)) {
		if (required)
			return erofs_fail(log, -EINVAL, "%s: no \"%s\"", what,
					  key);
		return 0;
	}
	if (!json_object_is_type(f, json_type_string))
		return erofs_fail(log, -EINVAL, "%s: \"%s\" is not a string",
				  what, key);
	*out = json_object_get_string(f);
	if (memchr(*out, '\0', json_object_get_string_len(f)))
		return erofs_fail(log, -EINVAL, "%s: NUL byte in \"%s\"", what,
				  key);
	return 0;
}

static int dup_str(struct json_object *o, const char *key, char **out,
		   bool required, const char *what, const struct erofs_log *log)
{
	const char *s;
	int err = get_str(o, key, &s, required, what, log);

	*out = NULL;
	if (err || !s)
		return err;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

int erofs_oci_parse_desc(struct json_object *o, const char *what,
			 struct erofs_oci_desc *d, const struct erofs_log *log)
{
	struct json_object *f, *ann, *plat;
	const char *dg;
	int64_t size;
	int err;

	memset(d, 0, sizeof(*d));
	if (!json_object_is_type(o, json_type_object))
		return erofs_fail(log, -EINVAL, "%s: not a descriptor object",
				  what);
	err = dup_str(o, "mediaType", &d->media_type, false, what, log);
	if (!err)
		err = get_str(o, "digest", &dg, true, what, log);
	if (err)
		goto fail;
	err = erofs_oci_digest_parse(dg, d->digest);
	if (err == -ENOTSUP) {
		erofs_fail(log, err,
			   "%s: digest %.80s: only sha256 is supported", what,
			   dg);
		goto fail;
	}
	if (err) {
		erofs_fail(log, err, "%s: bad digest \"%.80s\"", what, dg);
		goto fail;
	}
	if (!json_object_object_get_ex(o, "size", &f) ||
	    !json_object_is_type(f, json_type_int)) {
		err = erofs_fail(log, -EINVAL, "%s: no integer \"size\"", what);
		goto fail;
	}
	errno = 0;
	size = json_object_get_int64(f);
	if (size < 0 || errno) {
		err = erofs_fail(log, -EINVAL, "%s: bad size", what);
		goto fail;
	}
	d->size = size;
	if (json_object_object_get_ex(o, "annotations", &ann) &&
	    !json_object_is_type(ann, json_type_null)) {
		if (!json_object_is_type(ann, json_type_object)) {
			err = erofs_fail(log, -EINVAL,
					 "%s: \"annotations\" is not an object",
					 what);
			goto fail;
		}
		err = dup_str(ann, EROFS_OCI_REF_ANNOTATION, &d->ref_name,
			      false, what, log);
		if (err)
			goto fail;
	}
	if (json_object_object_get_ex(o, "platform", &plat) &&
	    !json_object_is_type(plat, json_type_null)) {
		if (!json_object_is_type(plat, json_type_object)) {
			err = erofs_fail(log, -EINVAL,
					 "%s: \"platform\" is not an object",
					 what);
			goto fail;
		}
		err = dup_str(plat, "os", &d->platform.os, true, what, log);
		if (!err)
			err = dup_str(plat, "architecture", &d->platform.arch,
				      true, what, log);
		if (!err)
			err = dup_str(plat, "variant", &d->platform.variant,
				      false, what, log);
		if (err)
			goto fail;
		d->has_platform = true;
	}
	return 0;
fail:
	erofs_oci_desc_free(d);
	return err;
}

bool erofs_oci_is_index_type(const char *mt)
{
	return mt && (!strcmp(mt, EROFS_MT_OCI_INDEX) ||
		      !strcmp(mt, EROFS_MT_DOCKER_LIST));
}

bool erofs_oci_is_manifest_type(const char *mt)
{
	return mt && (!strcmp(mt, EROFS_MT_OCI_MANIFEST) ||
		      !strcmp(mt, EROFS_MT_DOCKER_MANIFEST));
}

int erofs_oci_layer_type(const char *mt, enum erofs_oci_comp *comp)
{
	static const struct {
		const char *mt;
		enum erofs_oci_comp comp;
	} types[] = {
	    {"application/vnd.oci.image.layer.v1.tar", EROFS_OCI_COMP_NONE},
	    {"application/vnd.oci.image.layer.v1.tar+gzip",
	     EROFS_OCI_COMP_GZIP},
	    {"application/vnd.oci.image.layer.v1.tar+zstd",
	     EROFS_OCI_COMP_ZSTD},
	    {"application/vnd.oci.image.layer.nondistributable.v1.tar",
	     EROFS_OCI_COMP_NONE},
	    {"application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
	     EROFS_OCI_COMP_GZIP},
	    {"application/vnd.oci.image.layer.nondistributable.v1.tar+zstd",
	     EROFS_OCI_COMP_ZSTD},
	    {"application/vnd.docker.image.rootfs.diff.tar",
	     EROFS_OCI_COMP_NONE},
	    {"application/vnd.docker.image.rootfs.diff.tar.gzip",
	     EROFS_OCI_COMP_GZIP},
	    {"application/vnd.docker.image.rootfs.diff.tar.zstd",
	     EROFS_OCI_COMP_ZSTD},
	    {"application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
	     EROFS_OCI_COMP_GZIP},
	};

	for (size_t i = 0; mt && i < sizeof(types) / sizeof(types[0]); i++) {
		if (!strcmp(mt, types[i].mt)) {
			*comp = types[i].comp;
			return 0;
		}
	}
	return -ENOTSUP;
}

int erofs_oci_check_schema(struct json_object *root, const char *what,
			   const struct erofs_log *log)
{
	struct json_object *sv;

	if (!json_object_object_get_ex(root, "schemaVersion", &sv) ||
	    !json_object_is_type(sv, json_type_int) ||
	    json_object_get_int64(sv) != 2)
		return erofs_fail(log, -EINVAL, "%s: schemaVersion is not 2",
				  what);
	return 0;
}

int erofs_oci_parse_index(struct json_object *root, const char *what,
			  struct erofs_oci_desc **descs, unsigned int *nr,
			  const struct erofs_log *log)
{
	struct json_object *ms;
	const char *mt;
	struct erofs_oci_desc *d;
	size_t n;
	int err;

	*descs = NULL;
	*nr = 0;
	err = erofs_oci_check_schema(root, what, log);
	if (err)
		return err;
	err = get_str(root, "mediaType", &mt, false, what, log);
	if (err)
		return err;
	if (mt && !erofs_oci_is_index_type(mt))
		return erofs_fail(log, -EINVAL,
				  "%s: media type %.100s is not an image index",
				  what, mt);
	if (!json_object_object_get_ex(root, "manifests", &ms) ||
	    !json_object_is_type(ms, json_type_array))
		return erofs_fail(log, -EINVAL, "%s: no \"manifests\" array",
				  what);
	n = json_object_array_length(ms);
	if (n > EROFS_OCI_MAX_ENTRIES)
		return erofs_fail(log, -E2BIG,
				  "%s: %zu manifests, more than %u", what, n,
				  EROFS_OCI_MAX_ENTRIES);
	d = calloc(n ? n : 1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char w[256];

		snprintf(w, sizeof(w), "%s: manifests[%zu]", what, i);
		err = erofs_oci_parse_desc(json_object_array_get_idx(ms, i), w,
					   &d[i], log);
		if (!err && !erofs_oci_is_index_type(d[i].media_type) &&
		    !erofs_oci_is_manifest_type(d[i].media_type))
			err = erofs_fail(
			    log, -ENOTSUP, "%s: unknown media type %.100s", w,
			    d[i].media_type ? d[i].media_type : "(none)");
		if (err) {
			erofs_oci_descs_free(d, i + 1);
			return err;
		}
	}
	*descs = d;
	*nr = n;
	return 0;
}

static bool plat_unknown(const struct erofs_oci_desc *d)
{
	return d->has_platform && (!strcmp(d->platform.os, "unknown") ||
				   !strcmp(d->platform.arch, "unknown"));
}

static void list_refs(const struct erofs_oci_desc *descs, unsigned int nr,
		      char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned int i = 0; i < nr && used + 1 < size; i++) {
		const struct erofs_oci_desc *d = &descs[i];
		int n;

		if (d->ref_name)
			n = snprintf(buf + used, size - used, "%s%.60s",
				     used ? ", " : "", d->ref_name);
		else if (d->has_platform)
			n = snprintf(
			    buf + used, size - used, "%s%.20s/%.20s%s%.20s",
			    used ? ", " : "", d->platform.os, d->platform.arch,
			    d->platform.variant ? "/" : "",
			    d->platform.variant ? d->platform.variant : "");
		else
			continue;
		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (used >= size)
		strcpy(buf + size - 4, "...");
}

int erofs_oci_select(const struct erofs_oci_desc *descs, unsigned int nr,
		     const char *ref, const struct erofs_oci_platform *plat,
		     const char *what, unsigned int *idx,
		     const struct erofs_log *log)
{
	unsigned int cand = 0, first = 0, nplat = 0, pick = 0;
	char list[512];

	for (unsigned int i = 0; i < nr; i++) {
		if (ref &&
		    (!descs[i].ref_name || strcmp(descs[i].ref_name, ref)))
			continue;
		if (plat_unknown(&descs[i]))
			continue;
		if (!cand++)
			first = i;
		if (plat && descs[i].has_platform &&
		    erofs_oci_platform_match(plat, &descs[i].platform) &&
		    !nplat++)
			pick = i;
	}
	if (!cand) {
		list_refs(descs, nr, list, sizeof(list));
		if (ref)
			return erofs_fail(
			    log, -ENOENT,
			    "%s: no image named \"%s\" (there is: %s)", what,
			    ref, *list ? list : "none");
		return erofs_fail(log, -ENOENT, "%s: no image", what);
	}
	if (cand == 1 && (!plat || !descs[first].has_platform)) {
		*idx = first;
		return 0;
	}
	if (nplat) {
		*idx = pick;
		return 0;
	}
	list_refs(descs, nr, list, sizeof(list));
	if (plat && (cand == 1 || descs[first].has_platform))
		return erofs_fail(
		    log, -ENOENT,
		    "%s: no image for platform %s/%s%s%s (there is: %s)", what,
		    plat->os, plat->arch, plat->variant ? "/" : "",
		    plat->variant ? plat->variant : "", list);
	return erofs_fail(
	    log, -EINVAL,
	    "%s: %u images, name one with oci:DIR:REF (there is: %s)", what,
	    cand, *list ? list : "no names");
}

int erofs_oci_check_duplicates(const struct erofs_oci_image *img,
			       const struct erofs_log *log)
{
	for (unsigned int i = 0; i < img->nr_layers; i++) {
		const struct erofs_oci_layer *a = &img->layers[i];

		for (unsigned int j = 0; j < i; j++) {
			const struct erofs_oci_layer *b = &img->layers[j];
			char s[EROFS_OCI_DIGEST_LEN + 1];

			if (a->have_digest && b->have_digest &&
			    !memcmp(a->desc.digest, b->desc.digest,
				    EROFS_SHA256_LEN)) {
				erofs_oci_digest_str(s, a->desc.digest);
				return erofs_fail(log, -EINVAL,
						  "layer %s is listed twice "
						  "(layers %u and %u)",
						  s, j + 1, i + 1);
			}
			if (a->have_diff_id && b->have_diff_id &&
			    !memcmp(a->diff_id, b->diff_id, EROFS_SHA256_LEN)) {
				erofs_oci_digest_str(s, a->diff_id);
				return erofs_fail(
				    log, -EINVAL,
				    "layer with diff_id %s is listed twice "
				    "(layers %u and %u)",
				    s, j + 1, i + 1);
			}
			if (a->path && b->path && !strcmp(a->path, b->path))
				return erofs_fail(log, -EINVAL,
						  "layer %.200s is listed "
						  "twice (layers %u and %u)",
						  a->path, j + 1, i + 1);
		}
	}
	return 0;
}

int erofs_oci_parse_manifest(struct json_object *root, const char *what,
			     struct erofs_oci_desc *config,
			     struct erofs_oci_image *img,
			     const struct erofs_log *log)
{
	struct json_object *cf, *ls;
	const char *mt;
	size_t n;
	int err;

	memset(config, 0, sizeof(*config));
	err = erofs_oci_check_schema(root, what, log);
	if (err)
		return err;
	err = get_str(root, "mediaType", &mt, false, what, log);
	if (err)
		return err;
	if (mt && !erofs_oci_is_manifest_type(mt))
		return erofs_fail(
		    log, -ENOTSUP,
		    "%s: media type %.100s is not an image manifest", what, mt);
	if (!json_object_object_get_ex(root, "config", &cf))
		return erofs_fail(log, -EINVAL, "%s: no \"config\"", what);
	{
		char w[256];

		snprintf(w, sizeof(w), "%s: config", what);
		err = erofs_oci_parse_desc(cf, w, config, log);
		if (err)
			return err;
		if (!config->media_type ||
		    (strcmp(config->media_type, EROFS_MT_OCI_CONFIG) &&
		     strcmp(config->media_type, EROFS_MT_DOCKER_CONFIG))) {
			err = erofs_fail(
			    log, -ENOTSUP, "%s: unknown media type %.100s", w,
			    config->media_type ? config->media_type : "(none)");
			goto fail;
		}
	}
	if (!json_object_object_get_ex(root, "layers", &ls) ||
	    !json_object_is_type(ls, json_type_array)) {
		err = erofs_fail(log, -EINVAL, "%s: no \"layers\" array", what);
		goto fail;
	}
	n = json_object_array_length(ls);
	if (!n || n > EROFS_OCI_MAX_LAYERS) {
		err = erofs_fail(log, -EINVAL,
				 "%s: %zu layers (1 to %u are converted)", what,
				 n, EROFS_OCI_MAX_LAYERS);
		goto fail;
	}
	img->layers = calloc(n, sizeof(*img->layers));
	if (!img->layers) {
		err = -ENOMEM;
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		struct erofs_oci_layer *l = &img->layers[i];
		char w[256];

		snprintf(w, sizeof(w), "%s: layer %zu", what, i + 1);
		err = erofs_oci_parse_desc(json_object_array_get_idx(ls, i), w,
					   &l->desc, log);
		if (err)
			goto fail;
		img->nr_layers = i + 1;
		l->have_digest = true;
		if (erofs_oci_layer_type(l->desc.media_type, &l->comp)) {
			err = erofs_fail(
			    log, -ENOTSUP, "%s: unknown media type %.100s", w,
			    l->desc.media_type ? l->desc.media_type : "(none)");
			goto fail;
		}
	}
	err = erofs_oci_check_duplicates(img, log);
	if (!err)
		return 0;
fail:
	erofs_oci_desc_free(config);
	for (unsigned int i = 0; i < img->nr_layers; i++)
		erofs_oci_desc_free(&img->layers[i].desc);
	free(img->layers);
	img->layers = NULL;
	img->nr_layers = 0;
	return err;
}

int erofs_oci_parse_config(struct json_object *root, const char *what,
			   bool make_layers, struct erofs_oci_image *img,
			   const struct erofs_log *log)
{
	struct json_object *rootfs, *ids;
	const char *type, *created;
	size_t n;
	int err;

	if (!json_object_object_get_ex(root, "rootfs", &rootfs) ||
	    !json_object_is_type(rootfs, json_type_object))
		return erofs_fail(log, -EINVAL, "%s: no \"rootfs\" object",
				  what);
	err = get_str(rootfs, "type", &type, true, what, log);
	if (err)
		return err;
	if (strcmp(type, "layers"))
		return erofs_fail(log, -EINVAL,
				  "%s: rootfs type \"%.40s\" is not \"layers\"",
				  what, type);
	if (!json_object_object_get_ex(rootfs, "diff_ids", &ids) ||
	    !json_object_is_type(ids, json_type_array))
		return erofs_fail(log, -EINVAL,
				  "%s: no \"rootfs.diff_ids\" array", what);
	n = json_object_array_length(ids);
	if (make_layers && !img->nr_layers) {
		if (!n || n > EROFS_OCI_MAX_LAYERS)
			return erofs_fail(
			    log, -EINVAL,
			    "%s: %zu diff_ids (1 to %u are converted)", what, n,
			    EROFS_OCI_MAX_LAYERS);
		img->layers = calloc(n, sizeof(*img->layers));
		if (!img->layers)
			return -ENOMEM;
		img->nr_layers = n;
	}
	if (n != img->nr_layers)
		return erofs_fail(log, -EINVAL,
				  "%s: %zu diff_ids for %u layers", what, n,
				  img->nr_layers);
	for (size_t i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(ids, i);
		const char *s = json_object_get_string(e);

		if (!json_object_is_type(e, json_type_string))
			return erofs_fail(log, -EINVAL,
					  "%s: diff_ids[%zu] is not a string",
					  what, i);
		err = erofs_oci_digest_parse(s, img->layers[i].diff_id);
		if (err)
			return erofs_fail(log, -EINVAL,
					  "%s: diff_ids[%zu] \"%.80s\" is not "
					  "a sha256 digest",
					  what, i, s);
		img->layers[i].have_diff_id = true;
	}
	err = erofs_oci_check_duplicates(img, log);
	if (err)
		return err;
	err = get_str(root, "created", &created, false, what, log);
	if (err)
		return err;
	img->have_created = false;
	if (created) {
		if (erofs_oci_parse_time(created, &img->created))
			return erofs_fail(
			    log, -EINVAL,
			    "%s: \"created\" \"%.60s\" is not an RFC 3339 time",
			    what, created);
		img->have_created = true;
	}
	json_object_put(img->config);
	img->config = json_object_get(root);
	return 0;
}

/* "busybox:1" names "docker.io/library/busybox:1" too */
static bool same_repo_tag(const char *tag, const char *ref)
{
	static const char *const prefixes[] = {"", "docker.io/",
					       "docker.io/library/"};

	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);

		if (!strncmp(tag, prefixes[i], n) && !strcmp(tag + n, ref))
			return true;
	}
	return false;
}

int erofs_oci_parse_docker_manifest(struct json_object *root, const char *ref,
				    char **config, struct erofs_oci_image *img,
				    const struct erofs_log *log)
{
	const char *what = "manifest.json";
	size_t n = json_object_array_length(root);
	struct json_object *e = NULL, *ls;
	const char *cfg;
	size_t nl;
	int err;

	*config = NULL;
	if (!n)
		return erofs_fail(log, -EINVAL, "%s: no image", what);
	if (n > EROFS_OCI_MAX_ENTRIES)
		return erofs_fail(log, -E2BIG, "%s: %zu images", what, n);
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(root, i), *t;

		if (!json_object_is_type(c, json_type_object))
			return erofs_fail(log, -EINVAL,
					  "%s: entry %zu is not an object",
					  what, i);
		if (!ref)
			continue;
		if (!json_object_object_get_ex(c, "RepoTags", &t) ||
		    !json_object_is_type(t, json_type_array))
			continue;
		for (size_t k = 0; k < json_object_array_length(t); k++) {
			struct json_object *s = json_object_array_get_idx(t, k);

			if (json_object_is_type(s, json_type_string) &&
			    same_repo_tag(json_object_get_string(s), ref)) {
				e = c;
				break;
			}
		}
		if (e)
			break;
	}
	if (!ref) {
		if (n > 1)
			return erofs_fail(log, -EINVAL,
					  "%s: %zu images, name one with "
					  "docker-archive:FILE:REF",
					  what, n);
		e = json_object_array_get_idx(root, 0);
	}
	if (!e)
		return erofs_fail(log, -ENOENT, "%s: no image tagged \"%s\"",
				  what, ref);
	err = get_str(e, "Config", &cfg, true, what, log);
	if (err)
		return err;
	if (!json_object_object_get_ex(e, "Layers", &ls) ||
	    !json_object_is_type(ls, json_type_array))
		return erofs_fail(log, -EINVAL, "%s: no \"Layers\" array",
				  what);
	nl = json_object_array_length(ls);
	if (!nl || nl > EROFS_OCI_MAX_LAYERS)
		return erofs_fail(log, -EINVAL,
				  "%s: %zu layers (1 to %u are converted)",
				  what, nl, EROFS_OCI_MAX_LAYERS);
	img->layers = calloc(nl, sizeof(*img->layers));
	if (!img->layers)
		return -ENOMEM;
	img->nr_layers = nl;
	for (size_t i = 0; i < nl; i++) {
		struct json_object *s = json_object_array_get_idx(ls, i);

		if (!json_object_is_type(s, json_type_string) ||
		    !json_object_get_string_len(s))
			return erofs_fail(log, -EINVAL,
					  "%s: Layers[%zu] is not a name", what,
					  i);
		img->layers[i].path = strdup(json_object_get_string(s));
		if (!img->layers[i].path)
			return -ENOMEM;
	}
	*config = strdup(cfg);
	if (!*config)
		return -ENOMEM;
	if (ref) {
		img->ref = strdup(ref);
		if (!img->ref)
			return -ENOMEM;
	}
	return 0;
}

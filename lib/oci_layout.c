// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading an OCI image layout: oci-layout, index.json, nested image
 * indexes picked by tag and platform, the manifest and the config, each
 * verified against its descriptor before it is parsed; then the layer
 * blobs, which must all be there with their declared sizes before a
 * conversion starts.  Also the byte sources a layer is read from, and an
 * image erofs-convert wrote picked the same way for erofs-mount.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "erofs/convert.h"
#include "liberofs_oci.h"

#define MAX_NESTING 4

static int blob_name(char *out, size_t size, const struct erofs_oci_desc *d)
{
	char hex[EROFS_SHA256_HEX_LEN + 1];

	erofs_hex(hex, d->digest, EROFS_SHA256_LEN);
	return snprintf(out, size, "blobs/sha256/%s", hex) >= (int)size
		   ? -ENAMETOOLONG
		   : 0;
}

/* a regular file below @dirfd, read whole if it has at most @max bytes */
static int read_at(int dirfd, const char *name, size_t max, const char *what,
		   char **buf, size_t *len, const struct erofs_log *log)
{
	struct stat st;
	ssize_t n;
	char *p;
	int fd, err;

	*buf = NULL;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT)
			return erofs_fail(log, -ENOENT, "%s: %s is missing",
					  what, name);
		return erofs_err(log, -errno, "%s: cannot open %s", what, name);
	}
	if (fstat(fd, &st) < 0) {
		err = erofs_err(log, -errno, "%s: %s", what, name);
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return erofs_fail(log, -EINVAL, "%s: %s is not a regular file",
				  what, name);
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return erofs_fail(
		    log, -EFBIG,
		    "%s: %s has %lld bytes, more than the %zu allowed", what,
		    name, (long long)st.st_size, max);
	}
	p = malloc(st.st_size + 1);
	if (!p) {
		close(fd);
		return -ENOMEM;
	}
	n = erofs_pread_all(fd, p, st.st_size + 1, 0);
	close(fd);
	if (n < 0) {
		free(p);
		return erofs_err(log, (int)n, "%s: cannot read %s", what, name);
	}
	if (n != st.st_size) {
		free(p);
		return erofs_fail(log, -EIO, "%s: %s changed while read", what,
				  name);
	}
	p[n] = '\0';
	*buf = p;
	*len = n;
	return 0;
}

int erofs_oci_layout_read_blob(int dirfd, const struct erofs_oci_desc *d,
			       size_t max, const char *what, char **buf,
			       const struct erofs_log *log)
{
	char name[128], ds[EROFS_OCI_DIGEST_LEN + 1];
	uint8_t md[EROFS_SHA256_LEN];
	size_t len;
	int err;

	*buf = NULL;
	erofs_oci_digest_str(ds, d->digest);
	if (d->size > max)
		return erofs_fail(log, -EFBIG,
				  "%s: %llu bytes, more than the %zu allowed",
				  what, (unsigned long long)d->size, max);
	err = blob_name(name, sizeof(name), d);
	if (err)
		return err;
	err = read_at(dirfd, name, max, what, buf, &len, log);
	if (err)
		return err;
	if (len != d->size) {
		err = erofs_fail(
		    log, -EINVAL,
		    "%s: blob has %zu bytes, its descriptor says %llu", what,
		    len, (unsigned long long)d->size);
	} else if (!EVP_Digest(*buf, len, md, NULL, EVP_sha256(), NULL)) {
		err = erofs_err(log, -EIO, "%s: sha256", what);
	} else if (memcmp(md, d->digest, EROFS_SHA256_LEN)) {
		char got[EROFS_OCI_DIGEST_LEN + 1];

		erofs_oci_digest_str(got, md);
		err = erofs_fail(log, -EINVAL,
				 "%s: digest mismatch: blob %s has digest %s",
				 what, ds, got);
	}
	if (err) {
		free(*buf);
		*buf = NULL;
	}
	return err;
}

static int read_json_blob(int dirfd, const struct erofs_oci_desc *d, bool array,
			  const char *what, struct json_object **out,
			  const struct erofs_log *log)
{
	char *buf;
	int err;

	err = erofs_oci_layout_read_blob(dirfd, d, EROFS_OCI_JSON_MAX, what,
					 &buf, log);
	if (err)
		return err;
	err = erofs_oci_json_parse(buf, d->size, array, what, out, log);
	free(buf);
	return err;
}

static int check_layout_file(int dirfd, const char *dir,
			     const struct erofs_log *log)
{
	struct json_object *o, *v;
	char what[300], *buf;
	size_t len;
	int err;

	snprintf(what, sizeof(what), "%.250s/oci-layout", dir);
	err = read_at(dirfd, "oci-layout", EROFS_OCI_JSON_MAX, what, &buf, &len,
		      log);
	if (err == -ENOENT)
		return erofs_fail(
		    log, -ENOENT,
		    "%s: not an OCI image layout (no oci-layout file)", dir);
	if (err)
		return err;
	err = erofs_oci_json_parse(buf, len, false, what, &o, log);
	free(buf);
	if (err)
		return err;
	if (!json_object_object_get_ex(o, "imageLayoutVersion", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strncmp(json_object_get_string(v), "1.", 2))
		err = erofs_fail(log, -ENOTSUP,
				 "%s: imageLayoutVersion is not 1.x", what);
	json_object_put(o);
	return err;
}

/* each layer blob is there, a regular file of the declared size */
static int check_layers(int dirfd, const char *dir,
			const struct erofs_oci_image *img,
			const struct erofs_log *log)
{
	for (unsigned int i = 0; i < img->nr_layers; i++) {
		const struct erofs_oci_desc *d = &img->layers[i].desc;
		char name[128], ds[EROFS_OCI_DIGEST_LEN + 1];
		struct stat st;

		erofs_oci_digest_str(ds, d->digest);
		blob_name(name, sizeof(name), d);
		if (fstatat(dirfd, name, &st, 0) < 0) {
			if (errno == ENOENT)
				return erofs_fail(
				    log, -ENOENT,
				    "%s: layer %u/%u (%s): blob is missing",
				    dir, i + 1, img->nr_layers, ds);
			return erofs_err(log, -errno, "%s: layer %u (%s)", dir,
					 i + 1, ds);
		}
		if (!S_ISREG(st.st_mode))
			return erofs_fail(
			    log, -EINVAL,
			    "%s: layer %u/%u (%s): blob is not a regular file",
			    dir, i + 1, img->nr_layers, ds);
		if ((uint64_t)st.st_size != d->size)
			return erofs_fail(log, -EINVAL,
					  "%s: layer %u/%u (%s): blob has %lld "
					  "bytes, its descriptor says %llu",
					  dir, i + 1, img->nr_layers, ds,
					  (long long)st.st_size,
					  (unsigned long long)d->size);
	}
	return 0;
}

/*
 * index.json, then nested image indexes down to one image manifest: *cur
 * is its descriptor, *root its parsed document, *refname (when not NULL)
 * the tag index.json gave it; @what names it afterwards.
 */
static int resolve_manifest(int dirfd, const char *dir, const char *ref,
			    const struct erofs_oci_platform *plat,
			    struct erofs_oci_desc *cur,
			    struct json_object **rootp, char **refname,
			    char *what, size_t whatsz,
			    const struct erofs_log *log)
{
	struct json_object *root = NULL;
	char *buf = NULL;
	size_t len;
	int err;

	memset(cur, 0, sizeof(*cur));
	*rootp = NULL;
	err = check_layout_file(dirfd, dir, log);
	if (err)
		return err;
	snprintf(what, whatsz, "%.250s/index.json", dir);
	err = read_at(dirfd, "index.json", EROFS_OCI_JSON_MAX, what, &buf, &len,
		      log);
	if (!err)
		err = erofs_oci_json_parse(buf, len, false, what, &root, log);
	free(buf);
	for (int depth = 0; !err; depth++) {
		struct erofs_oci_desc *descs;
		unsigned int nr, idx;

		err = erofs_oci_parse_index(root, what, &descs, &nr, log);
		if (err)
			break;
		err = erofs_oci_select(descs, nr, depth ? NULL : ref, plat,
				       what, &idx, log);
		if (!err) {
			erofs_oci_desc_free(cur);
			*cur = descs[idx];
			memset(&descs[idx], 0, sizeof(descs[idx]));
			if (!depth && cur->ref_name && refname) {
				free(*refname);
				*refname = strdup(cur->ref_name);
			}
		}
		erofs_oci_descs_free(descs, nr);
		json_object_put(root);
		root = NULL;
		if (err)
			break;
		{
			char ds[EROFS_OCI_DIGEST_LEN + 1];

			erofs_oci_digest_str(ds, cur->digest);
			snprintf(what, whatsz, "%.150s: %s %s", dir,
				 erofs_oci_is_index_type(cur->media_type)
				     ? "image index"
				     : "manifest",
				 ds);
		}
		err = read_json_blob(dirfd, cur, false, what, &root, log);
		if (err || !erofs_oci_is_index_type(cur->media_type))
			break;
		if (depth + 1 >= MAX_NESTING)
			err = erofs_fail(
			    log, -ELOOP,
			    "%s: image indexes nested deeper than %d", what,
			    MAX_NESTING);
	}
	if (err) {
		json_object_put(root);
		erofs_oci_desc_free(cur);
		return err;
	}
	*rootp = root;
	return 0;
}

int erofs_oci_layout_open(const char *dir, const char *ref,
			  const struct erofs_oci_platform *plat,
			  struct erofs_oci_image *img,
			  const struct erofs_log *log)
{
	struct erofs_oci_desc cur, cfg;
	struct json_object *root = NULL;
	char what[300];
	int dirfd, err;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return erofs_err(log, -errno, "%s", dir);
	img->layout_fd = dirfd;
	err = resolve_manifest(dirfd, dir, ref, plat, &cur, &root, &img->ref,
			       what, sizeof(what), log);
	if (err)
		return err;
	err = erofs_oci_parse_manifest(root, what, &cfg, img, log);
	json_object_put(root);
	root = NULL;
	if (err) {
		erofs_oci_desc_free(&cur);
		return err;
	}
	img->manifest = cur;
	img->have_manifest = true;
	{
		char ds[EROFS_OCI_DIGEST_LEN + 1];

		erofs_oci_digest_str(ds, cfg.digest);
		snprintf(what, sizeof(what), "%.200s: config %s", dir, ds);
	}
	err = read_json_blob(dirfd, &cfg, false, what, &root, log);
	erofs_oci_desc_free(&cfg);
	if (!err)
		err = erofs_oci_parse_config(root, what, false, img, log);
	json_object_put(root);
	if (!err)
		err = check_layers(dirfd, dir, img, log);
	return err;
}

/* ---- an image erofs-convert wrote, to be mounted ---- */

void erofs_oci_erofs_free(struct erofs_oci_erofs *e)
{
	erofs_oci_desc_free(&e->manifest);
	erofs_oci_desc_free(&e->bootstrap);
	erofs_oci_descs_free(e->parts, e->nr_parts);
	free(e->ref);
	free(e->fsid);
	free(e->domain_id);
	memset(e, 0, sizeof(*e));
}

/* annotation @key of descriptor object @o, or NULL */
static const char *annotation(struct json_object *o, const char *key)
{
	struct json_object *ann, *v;

	if (!json_object_object_get_ex(o, "annotations", &ann) ||
	    !json_object_is_type(ann, json_type_object) ||
	    !json_object_object_get_ex(ann, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool ann_is_uint(struct json_object *o, const char *key,
			unsigned long long want)
{
	const char *s = annotation(o, key);
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu", want);
	return s && !strcmp(s, buf);
}

static int dup_ann(struct json_object *o, const char *key, char **out)
{
	const char *s = annotation(o, key);

	*out = NULL;
	if (!s)
		return 0;
	*out = strdup(s);
	return *out ? 0 : -ENOMEM;
}

/* the manifest's layers as erofs-convert writes them, into @e */
static int parse_erofs_manifest(struct json_object *root, const char *what,
				struct erofs_oci_erofs *e,
				const struct erofs_log *log)
{
	struct json_object *ls;
	const char *fmt = annotation(root, EROFS_ANN_FORMAT);
	const char *want;
	size_t n;
	int err;

	err = erofs_oci_check_schema(root, what, log);
	if (err)
		return err;
	if (!json_object_object_get_ex(root, "layers", &ls) ||
	    !json_object_is_type(ls, json_type_array) ||
	    !(n = json_object_array_length(ls)))
		return erofs_fail(log, -EINVAL, "%s: no \"layers\"", what);
	if (!fmt)
		return erofs_fail(log, -EMEDIUMTYPE,
				  "%s: not an image erofs-convert wrote (no %s "
				  "annotation): convert it with erofs-convert "
				  "first",
				  what, EROFS_ANN_FORMAT);
	if (!strcmp(fmt, "merged"))
		e->merged = true;
	else if (strcmp(fmt, "layers"))
		return erofs_fail(log, -EMEDIUMTYPE,
				  "%s: %s \"%.40s\" is neither \"merged\" "
				  "nor \"layers\"",
				  what, EROFS_ANN_FORMAT, fmt);
	if (n > EROFS_OCI_MAX_LAYERS + 1)
		return erofs_fail(log, -EINVAL, "%s: %zu layers", what, n);
	e->nr_parts = e->merged ? n - 1 : n;
	e->parts = calloc(e->nr_parts + 1, sizeof(*e->parts));
	if (!e->parts)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct json_object *lo = json_object_array_get_idx(ls, i);
		bool boot = e->merged && i == n - 1;
		struct erofs_oci_desc *d = boot ? &e->bootstrap : &e->parts[i];
		char w[256];

		snprintf(w, sizeof(w), "%.200s: layer %zu", what, i + 1);
		err = erofs_oci_parse_desc(lo, w, d, log);
		if (err)
			return err;
		want = !e->merged ? EROFS_MT_LAYER
		       : boot	  ? EROFS_MT_BOOTSTRAP
				  : EROFS_MT_BLOB;
		if (!d->media_type || strcmp(d->media_type, want))
			return erofs_fail(
			    log, -EMEDIUMTYPE,
			    "%s: media type %.100s, an image "
			    "erofs-convert wrote (%s) has %s "
			    "there",
			    w, d->media_type ? d->media_type : "(none)", fmt,
			    want);
		if (e->merged && !boot &&
		    !ann_is_uint(lo, EROFS_ANN_DEVICE_ID, i + 1))
			return erofs_fail(log, -EINVAL, "%s: %s is not %zu", w,
					  EROFS_ANN_DEVICE_ID, i + 1);
		if (boot) {
			const char *bs = annotation(lo, EROFS_ANN_BLOCK_SIZE);

			if (!ann_is_uint(lo, EROFS_ANN_DEVICES, n - 1))
				return erofs_fail(log, -EINVAL,
						  "%s: %s is not %zu", w,
						  EROFS_ANN_DEVICES, n - 1);
			e->block_size = bs ? strtoul(bs, NULL, 10) : 4096;
			err = dup_ann(lo, EROFS_ANN_FSID, &e->fsid);
			if (!err)
				err = dup_ann(lo, EROFS_ANN_DOMAIN_ID,
					      &e->domain_id);
			if (err)
				return err;
		}
	}
	return 0;
}

int erofs_oci_layout_open_erofs(const char *dir, const char *ref,
				const struct erofs_oci_platform *plat,
				struct erofs_oci_erofs *e,
				const struct erofs_log *log)
{
	struct json_object *root = NULL;
	char what[300];
	int dirfd, err;

	memset(e, 0, sizeof(*e));
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return erofs_err(log, -errno, "%s", dir);
	err = resolve_manifest(dirfd, dir, ref, plat, &e->manifest, &root,
			       &e->ref, what, sizeof(what), log);
	close(dirfd);
	if (err)
		return err;
	err = parse_erofs_manifest(root, what, e, log);
	json_object_put(root);
	if (err)
		erofs_oci_erofs_free(e);
	return err;
}

/* ---- byte sources ---- */

static ssize_t fd_read(void *ctx, void *buf, size_t len)
{
	int fd = (int)(intptr_t)ctx;

	for (;;) {
		ssize_t n = read(fd, buf, len);

		if (n >= 0)
			return n;
		if (errno != EINTR)
			return -errno;
	}
}

static void fd_close(void *ctx)
{
	close((int)(intptr_t)ctx);
}

void erofs_oci_src_fd(struct erofs_oci_src *src, int fd)
{
	src->read = fd_read;
	src->close = fd_close;
	src->ctx = (void *)(intptr_t)fd;
}

int erofs_oci_layer_open(const struct erofs_oci_image *img, unsigned int i,
			 struct erofs_oci_src *src, const struct erofs_log *log)
{
	const struct erofs_oci_layer *l = &img->layers[i];
	char name[128];
	int fd;

	if (img->archive)
		return erofs_oci_archive_member(img->archive, l->path, src,
						log);
	if (img->layout_fd >= 0) {
		blob_name(name, sizeof(name), &l->desc);
		fd = openat(img->layout_fd, name,
			    O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return erofs_err(log, -errno, "layer %u: %s", i + 1,
					 name);
	} else {
		fd = open(l->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return erofs_err(log, -errno, "layer %u: %s", i + 1,
					 l->path);
	}
	erofs_oci_src_fd(src, fd);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * erofs-convert: opens the source image (OCI layout, docker archive or
 * layer files), streams each layer through the verifying reader into the
 * builder (one builder with a blob per layer and whiteouts applied for the
 * merged form, one builder per layer with overlayfs whiteouts for
 * --no-merge), and writes the converted image as an OCI layout.  The
 * UUIDs and the build time come from the input (or SOURCE_DATE_EPOCH), so
 * the same input gives the same bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "erofs/builder.h"
#include "erofs/convert.h"
#include "liberofs_oci.h"

#define DEFAULT_CHUNKSIZE (1u << 20)

struct conv {
	const struct erofs_convert_opts *o;
	const struct erofs_log *log;
	struct erofs_oci_image img;
	struct erofs_oci_platform plat;
	struct erofs_oci_out *out;
	struct erofs_convert_result *res;

	struct erofs_oci_stream *stream;	 /* the layer being read */
	unsigned int layer;			 /* 1-based */
	uint64_t entries;			 /* last progress report */
	char **names;				 /* per layer, for messages */
	char **tmps;				 /* per layer: output path */
	uint8_t (*out_digest)[EROFS_SHA256_LEN]; /* per output layer */
	uint64_t *out_size;
	unsigned int *out_src; /* its source layer */
	unsigned int nr_out;
};

void erofs_convert_opts_init(struct erofs_convert_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->blkszbits = 12;
}

static void report(struct conv *c, bool done)
{
	struct erofs_convert_progress p = {
	    .layer = c->layer,
	    .nr_layers = c->img.nr_layers,
	    .entries = c->entries,
	    .done = done,
	};

	if (!c->o->progress)
		return;
	if (c->stream)
		erofs_oci_stream_counts(c->stream, &p.bytes_read, &p.bytes_tar);
	c->o->progress(c->o->progress_arg, &p);
}

static void build_progress(void *arg, const struct erofs_build_progress *p)
{
	struct conv *c = arg;

	c->entries = p->entries;
	report(c, false);
}

/* RFC 4122 version 5 (SHA-1, name-based) UUID in the URL namespace */
static void uuid_v5(const char *name, uint8_t uuid[16])
{
	static const uint8_t ns_url[16] = {
	    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
	    0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
	};
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t h[20];

	memset(h, 0, sizeof(h));
	if (md && EVP_DigestInit_ex(md, EVP_sha1(), NULL)) {
		EVP_DigestUpdate(md, ns_url, sizeof(ns_url));
		EVP_DigestUpdate(md, name, strlen(name));
		EVP_DigestFinal_ex(md, h, NULL);
	}
	EVP_MD_CTX_free(md);
	memcpy(uuid, h, 16);
	uuid[6] = (uuid[6] & 0x0f) | 0x50;
	uuid[8] = (uuid[8] & 0x3f) | 0x80;
}

/* what identifies layer @i's content: its digest, else its diff_id */
static void layer_id(const struct erofs_oci_layer *l,
		     char out[EROFS_OCI_DIGEST_LEN + 1])
{
	erofs_oci_digest_str(out, l->have_digest ? l->desc.digest : l->diff_id);
}

static int open_source(struct conv *c)
{
	const struct erofs_convert_opts *o = c->o;
	const char *src = o->source;
	char *path = NULL, *ref = NULL;
	bool layout;
	struct stat st;
	int err;

	if (o->nr_layers) {
		c->img.layers = calloc(o->nr_layers, sizeof(*c->img.layers));
		if (!c->img.layers)
			return -ENOMEM;
		c->img.nr_layers = o->nr_layers;
		for (unsigned int i = 0; i < o->nr_layers; i++) {
			c->img.layers[i].path = strdup(o->layers[i]);
			if (!c->img.layers[i].path)
				return -ENOMEM;
		}
		return 0;
	}
	if (!src)
		return erofs_fail(c->log, -EINVAL, "no source image");
	if (!strncmp(src, "oci:", 4) || !strncmp(src, "docker-archive:", 15)) {
		const char *rest = strchr(src, ':') + 1, *colon;

		layout = src[0] == 'o';
		colon = strchr(rest, ':');
		path = colon ? strndup(rest, colon - rest) : strdup(rest);
		if (colon && colon[1])
			ref = strdup(colon + 1);
		if (!path || (colon && colon[1] && !ref)) {
			free(path);
			return -ENOMEM;
		}
	} else {
		path = strdup(src);
		if (!path)
			return -ENOMEM;
		if (stat(path, &st) < 0) {
			err = erofs_err(c->log, -errno, "%s", path);
			free(path);
			return err;
		}
		layout = S_ISDIR(st.st_mode);
	}
	if (layout)
		err =
		    erofs_oci_layout_open(path, ref, &c->plat, &c->img, c->log);
	else
		err = erofs_oci_archive_open(path, ref, &c->img, c->log);
	free(path);
	free(ref);
	return err;
}

/* --layers: the digest of each file as stored, for UUIDs and checks */
static int hash_layer_files(struct conv *c)
{
	char *buf = malloc(1u << 20);
	int err = 0;

	if (!buf)
		return -ENOMEM;
	for (unsigned int i = 0; !err && i < c->img.nr_layers; i++) {
		struct erofs_oci_layer *l = &c->img.layers[i];
		int fd = open(l->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		EVP_MD_CTX *md;
		struct stat st;
		ssize_t n;

		if (fd < 0) {
			err = erofs_err(c->log, -errno, "layer %u: %s", i + 1,
					l->path);
			break;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			close(fd);
			err = erofs_fail(c->log, -EINVAL,
					 "layer %u: %s is not a regular file",
					 i + 1, l->path);
			break;
		}
		md = EVP_MD_CTX_new();
		if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL)) {
			EVP_MD_CTX_free(md);
			close(fd);
			err = -ENOMEM;
			break;
		}
		l->desc.size = 0;
		while ((n = read(fd, buf, 1u << 20)) > 0) {
			EVP_DigestUpdate(md, buf, n);
			l->desc.size += n;
		}
		if (n < 0)
			err = erofs_err(c->log, -errno, "layer %u: %s", i + 1,
					l->path);
		EVP_DigestFinal_ex(md, l->desc.digest, NULL);
		EVP_MD_CTX_free(md);
		close(fd);
		l->have_digest = true;
	}
	free(buf);
	return err ? err : erofs_oci_check_duplicates(&c->img, c->log);
}

static int make_names(struct conv *c)
{
	unsigned int n = c->img.nr_layers;

	c->names = calloc(n, sizeof(*c->names));
	c->tmps = calloc(n, sizeof(*c->tmps));
	c->out_digest = calloc(n + 1, sizeof(*c->out_digest));
	c->out_size = calloc(n + 1, sizeof(*c->out_size));
	c->out_src = calloc(n + 1, sizeof(*c->out_src));
	c->res->layers = calloc(n, sizeof(*c->res->layers));
	if (!c->names || !c->tmps || !c->out_digest || !c->out_size ||
	    !c->out_src || !c->res->layers)
		return -ENOMEM;
	c->res->nr_layers = n;
	for (unsigned int i = 0; i < n; i++) {
		const struct erofs_oci_layer *l = &c->img.layers[i];
		char id[EROFS_OCI_DIGEST_LEN + 1], t[32];
		int r;

		if (l->have_digest || l->have_diff_id)
			layer_id(l, id);
		if (c->img.layout_fd < 0 && l->path)
			r = asprintf(&c->names[i], "layer %u/%u (%s)", i + 1, n,
				     l->path);
		else
			r = asprintf(&c->names[i], "layer %u/%u (%s)", i + 1, n,
				     id);
		if (r < 0) {
			c->names[i] = NULL;
			return -ENOMEM;
		}
		snprintf(t, sizeof(t), "layer-%u", i + 1);
		c->tmps[i] = erofs_oci_out_tmpname(c->out, t);
		if (!c->tmps[i])
			return -ENOMEM;
	}
	return 0;
}

static void base_opts(struct conv *c, struct erofs_build_opts *bo)
{
	const struct erofs_convert_opts *o = c->o;

	erofs_build_opts_init(bo);
	bo->blkszbits = o->blkszbits ? o->blkszbits : 12;
	bo->fixed_time = true;
	bo->mkfs_time_only = true;
	if (o->have_epoch)
		bo->timestamp = o->epoch;
	else if (c->img.have_created && c->img.created > 0)
		bo->timestamp = c->img.created;
	bo->uuid_mode = EROFS_UUID_GIVEN;
	bo->fsid = o->fsid;
	bo->domain_id = o->domain_id;
	bo->progress = build_progress;
	bo->progress_arg = c;
}

/* streams layer @i into @b; 0 or -errno after a message */
static int import_layer(struct conv *c, struct erofs_builder *b, unsigned int i,
			enum erofs_whiteout_mode wh)
{
	const struct erofs_oci_layer *l = &c->img.layers[i];
	struct erofs_convert_layer_result *lr = &c->res->layers[i];
	struct erofs_builder_source_opts so = {
	    .whiteouts = wh,
	    .name = c->names[i],
	};
	struct erofs_oci_verify v = {
	    .name = c->names[i],
	    .check_digest = l->have_digest,
	    .size = l->desc.size,
	    .check_diff_id = l->have_diff_id,
	    .comp = l->comp,
	};
	struct erofs_oci_stream_stats st;
	struct erofs_oci_src src;
	uint64_t entries0 = c->entries;
	int rfd, err, serr;

	memcpy(v.digest, l->desc.digest, EROFS_SHA256_LEN);
	memcpy(v.diff_id, l->diff_id, EROFS_SHA256_LEN);
	c->layer = i + 1;
	err = erofs_oci_layer_open(&c->img, i, &src, c->log);
	if (err)
		return err;
	err = erofs_oci_stream_start(&c->stream, &src, &v, &rfd, c->log);
	if (err)
		return err;
	report(c, false);
	/* the name as path too: it is what the importer's messages show */
	err = erofs_builder_import_tar(b, c->names[i], rfd, &so);
	report(c, false);
	{
		struct erofs_oci_stream *s = c->stream;

		c->stream = NULL;
		serr = erofs_oci_stream_finish(s, rfd, !err, &st);
	}
	/* a broken stream explains a failed import better than the import */
	if (serr && serr != -EPIPE)
		err = serr;
	else if (!err)
		err = serr;
	if (err)
		return err;
	lr->bytes_read = st.bytes_read;
	lr->bytes_tar = st.bytes_tar;
	lr->entries = c->entries - entries0;
	if (l->have_digest)
		erofs_oci_digest_str(lr->source_digest, l->desc.digest);
	erofs_oci_digest_str(lr->diff_id, st.diff_id);
	c->res->bytes_read += st.bytes_read;
	c->res->bytes_tar += st.bytes_tar;
	/* --layers and docker archives: the diff_id we now know */
	if (!l->have_diff_id) {
		memcpy(c->img.layers[i].diff_id, st.diff_id, EROFS_SHA256_LEN);
		c->img.layers[i].have_diff_id = true;
	}
	return 0;
}

static void add_counts(struct erofs_convert_result *r,
		       const struct erofs_manifest *m)
{
	r->bytes_data += m->counts.bytes_in;
	r->bytes_deduplicated += m->counts.bytes_deduplicated;
	r->bytes_zero += m->counts.bytes_zero;
}

static int convert_merged(struct conv *c)
{
	const struct erofs_convert_opts *o = c->o;
	struct erofs_build_opts bo;
	struct erofs_build_result br;
	struct erofs_builder *b = NULL;
	char *boot = erofs_oci_out_tmpname(c->out, "bootstrap"), *name = NULL;
	size_t nlen = 0;
	FILE *ns;
	int err;

	if (!boot)
		return -ENOMEM;
	/* the UUID names the layers' contents */
	ns = open_memstream(&name, &nlen);
	if (!ns) {
		free(boot);
		return -ENOMEM;
	}
	/* by diff_id: the same layers compressed otherwise, same image */
	fputs("erofs:merged/", ns);
	for (unsigned int i = 0; i < c->img.nr_layers; i++) {
		const struct erofs_oci_layer *l = &c->img.layers[i];
		char id[EROFS_OCI_DIGEST_LEN + 1];

		if (l->have_diff_id)
			erofs_oci_digest_str(id, l->diff_id);
		else
			layer_id(l, id);
		fprintf(ns, "%s%s", i ? "," : "", id);
	}
	fclose(ns);
	base_opts(c, &bo);
	uuid_v5(name, bo.uuid);
	free(name);
	bo.chunksize = o->chunksize ? o->chunksize : DEFAULT_CHUNKSIZE;
	bo.blobdev = c->tmps[0];

	memset(&br, 0, sizeof(br));
	err = erofs_builder_create(&b, boot, &bo, c->log);
	for (unsigned int i = 0; !err && i < c->img.nr_layers; i++) {
		if (i)
			err = erofs_builder_begin_blob(b, c->tmps[i]);
		if (!err)
			err = import_layer(c, b, i, EROFS_WHITEOUT_APPLY);
	}
	if (!err)
		err = erofs_builder_finish(b, &br);
	if (b)
		erofs_builder_destroy(b);
	if (err)
		goto out;
	add_counts(c->res, &br.manifest);
	/* the kept blobs in device order, then the bootstrap */
	for (unsigned int d = 1; d <= br.manifest.nr_blobs; d++) {
		const struct erofs_manifest_blob *mb = NULL;
		unsigned int src = c->img.nr_layers;

		for (unsigned int k = 0; k < br.manifest.nr_blobs; k++)
			if (br.manifest.blobs[k].device_id == d)
				mb = &br.manifest.blobs[k];
		for (unsigned int i = 0; mb && i < c->img.nr_layers; i++)
			if (!strcmp(mb->path, c->tmps[i]))
				src = i;
		if (!mb || src == c->img.nr_layers) {
			err = erofs_fail(
			    c->log, -EIO,
			    "the builder reported an unknown blob device %u",
			    d);
			goto out;
		}
		err = erofs_unhex(c->out_digest[c->nr_out], mb->sha256,
				  EROFS_SHA256_LEN);
		if (!err)
			err = erofs_oci_out_adopt(c->out, c->tmps[src],
						  c->out_digest[c->nr_out]);
		if (err)
			goto out;
		c->out_size[c->nr_out] = mb->size;
		c->out_src[c->nr_out] = src;
		c->res->layers[src].bytes_stored = mb->size;
		erofs_oci_digest_str(c->res->layers[src].output_digest,
				     c->out_digest[c->nr_out]);
		c->res->bytes_stored += mb->size;
		c->nr_out++;
	}
	err = erofs_unhex(c->out_digest[c->nr_out],
			  br.manifest.bootstrap_sha256, EROFS_SHA256_LEN);
	if (!err)
		err =
		    erofs_oci_out_adopt(c->out, boot, c->out_digest[c->nr_out]);
	if (err)
		goto out;
	c->out_size[c->nr_out] = br.manifest.bootstrap_size;
	c->out_src[c->nr_out] = c->img.nr_layers;
	c->res->bootstrap_size = br.manifest.bootstrap_size;
	erofs_oci_digest_str(c->res->bootstrap_digest,
			     c->out_digest[c->nr_out]);
	c->res->bytes_stored += br.manifest.bootstrap_size;
	c->nr_out++;
	/* a blob that got no bytes must not stay behind as a stray file */
	for (unsigned int i = 0; i < c->img.nr_layers; i++)
		unlink(c->tmps[i]);
out:
	erofs_build_result_free(&br);
	free(boot);
	return err;
}

static int convert_layers(struct conv *c)
{
	const struct erofs_convert_opts *o = c->o;
	int err = 0;

	for (unsigned int i = 0; !err && i < c->img.nr_layers; i++) {
		struct erofs_build_opts bo;
		struct erofs_build_result br;
		struct erofs_builder *b = NULL;
		char id[EROFS_OCI_DIGEST_LEN + 1], *name;

		layer_id(&c->img.layers[i], id);
		/* the name containerd gives a layer's UUID */
		if (asprintf(&name, "erofs:blobs/%s", id) < 0)
			return -ENOMEM;
		base_opts(c, &bo);
		uuid_v5(name, bo.uuid);
		free(name);
		bo.chunksize = o->chunksize;
		bo.aufs = true;
		c->entries = 0;
		memset(&br, 0, sizeof(br));
		err = erofs_builder_create(&b, c->tmps[i], &bo, c->log);
		if (!err)
			err = import_layer(c, b, i, EROFS_WHITEOUT_OVERLAY);
		if (!err)
			err = erofs_builder_finish(b, &br);
		if (b)
			erofs_builder_destroy(b);
		if (!err)
			err = erofs_unhex(c->out_digest[i],
					  br.manifest.bootstrap_sha256,
					  EROFS_SHA256_LEN);
		if (!err)
			err = erofs_oci_out_adopt(c->out, c->tmps[i],
						  c->out_digest[i]);
		if (!err) {
			c->out_size[i] = br.manifest.bootstrap_size;
			c->out_src[i] = i;
			c->res->layers[i].bytes_stored = c->out_size[i];
			erofs_oci_digest_str(c->res->layers[i].output_digest,
					     c->out_digest[i]);
			c->res->bytes_stored += c->out_size[i];
			add_counts(c->res, &br.manifest);
			c->nr_out++;
		}
		erofs_build_result_free(&br);
	}
	return err;
}

static int add(struct json_object *o, const char *k, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	json_object_object_add(o, k, v);
	return 0;
}

static int add_s(struct json_object *o, const char *k, const char *v)
{
	return add(o, k, json_object_new_string(v));
}

static struct json_object *descriptor(const char *mt,
				      const uint8_t digest[EROFS_SHA256_LEN],
				      uint64_t size, struct json_object *ann)
{
	struct json_object *d = json_object_new_object();
	char ds[EROFS_OCI_DIGEST_LEN + 1];
	int err;

	if (!d) {
		json_object_put(ann);
		return NULL;
	}
	erofs_oci_digest_str(ds, digest);
	err = add_s(d, "mediaType", mt);
	err |= add_s(d, "digest", ds);
	err |= add(d, "size", json_object_new_int64((int64_t)size));
	if (ann)
		json_object_object_add(d, "annotations", ann);
	if (err) {
		json_object_put(d);
		return NULL;
	}
	return d;
}

static struct json_object *layer_annotations(struct conv *c, unsigned int i)
{
	const struct erofs_oci_layer *l = &c->img.layers[i];
	struct json_object *a = json_object_new_object();
	char ds[EROFS_OCI_DIGEST_LEN + 1];

	if (!a)
		return NULL;
	if (l->have_digest) {
		erofs_oci_digest_str(ds, l->desc.digest);
		add_s(a, EROFS_ANN_SRC_LAYER, ds);
	}
	erofs_oci_digest_str(ds, l->diff_id);
	add_s(a, EROFS_ANN_SRC_DIFF_ID, ds);
	return a;
}

static int write_image(struct conv *c)
{
	const struct erofs_convert_opts *o = c->o;
	bool merged = !o->no_merge;
	struct json_object *cfg = NULL, *m = NULL, *layers, *ann;
	char **created_by = NULL;
	uint8_t cfg_digest[EROFS_SHA256_LEN], man_digest[EROFS_SHA256_LEN];
	const char *text, *tag;
	size_t len, cfg_len;
	char buf[64];
	int err = -ENOMEM;

	if (merged) {
		created_by = calloc(c->nr_out, sizeof(*created_by));
		if (!created_by)
			return -ENOMEM;
		for (unsigned int k = 0; k < c->nr_out; k++) {
			unsigned int s = c->out_src[k];
			char id[EROFS_OCI_DIGEST_LEN + 1];
			int r;

			if (s == c->img.nr_layers) {
				r = asprintf(
				    &created_by[k],
				    "erofs-convert: bootstrap of %u layers",
				    c->img.nr_layers);
			} else {
				erofs_oci_digest_str(id,
						     c->img.layers[s].diff_id);
				r = asprintf(
				    &created_by[k],
				    "erofs-convert: blob of layer %u (%s)",
				    s + 1, id);
			}
			if (r < 0) {
				created_by[k] = NULL;
				goto out;
			}
		}
	}
	err = erofs_oci_out_config(
	    &c->img, &c->plat,
	    (const uint8_t(*)[EROFS_SHA256_LEN])c->out_digest, created_by,
	    c->nr_out, merged, &cfg, c->log);
	if (err)
		goto out;
	text = erofs_oci_json_text(cfg, &cfg_len);
	err = erofs_oci_out_blob(c->out, text, cfg_len, cfg_digest);
	if (err)
		goto out;

	err = -ENOMEM;
	m = json_object_new_object();
	layers = json_object_new_array();
	if (!m || !layers) {
		json_object_put(layers);
		goto out;
	}
	json_object_object_add(m, "schemaVersion", json_object_new_int(2));
	add_s(m, "mediaType", EROFS_MT_OCI_MANIFEST);
	json_object_object_add(
	    m, "config",
	    descriptor(EROFS_MT_OCI_CONFIG, cfg_digest, cfg_len, NULL));
	for (unsigned int k = 0; k < c->nr_out; k++) {
		unsigned int s = c->out_src[k];
		const char *mt;

		if (!merged) {
			mt = EROFS_MT_LAYER;
			ann = layer_annotations(c, s);
		} else if (s < c->img.nr_layers) {
			mt = EROFS_MT_BLOB;
			ann = layer_annotations(c, s);
			snprintf(buf, sizeof(buf), "%u", k + 1);
			if (ann)
				add_s(ann, EROFS_ANN_DEVICE_ID, buf);
		} else {
			mt = EROFS_MT_BOOTSTRAP;
			ann = json_object_new_object();
			if (ann) {
				snprintf(buf, sizeof(buf), "%u", k);
				add_s(ann, EROFS_ANN_DEVICES, buf);
				snprintf(buf, sizeof(buf), "%" PRIu64,
					 o->chunksize ? o->chunksize
						      : DEFAULT_CHUNKSIZE);
				add_s(ann, EROFS_ANN_CHUNK_SIZE, buf);
				snprintf(
				    buf, sizeof(buf), "%u",
				    1u << (o->blkszbits ? o->blkszbits : 12));
				add_s(ann, EROFS_ANN_BLOCK_SIZE, buf);
				if (o->fsid)
					add_s(ann, EROFS_ANN_FSID, o->fsid);
				if (o->domain_id)
					add_s(ann, EROFS_ANN_DOMAIN_ID,
					      o->domain_id);
			}
		}
		json_object_array_add(layers, descriptor(mt, c->out_digest[k],
							 c->out_size[k], ann));
	}
	json_object_object_add(m, "layers", layers);
	ann = json_object_new_object();
	if (!ann)
		goto out;
	add_s(ann, EROFS_ANN_FORMAT, merged ? "merged" : "layers");
	if (c->img.have_manifest) {
		char ds[EROFS_OCI_DIGEST_LEN + 1];

		erofs_oci_digest_str(ds, c->img.manifest.digest);
		add_s(ann, EROFS_ANN_SRC_MANIFEST, ds);
	}
	json_object_object_add(m, "annotations", ann);
	text = erofs_oci_json_text(m, &len);
	err = erofs_oci_out_blob(c->out, text, len, man_digest);
	if (err)
		goto out;
	erofs_oci_digest_str(c->res->manifest_digest, man_digest);
	tag = o->tag ? o->tag : c->img.ref ? c->img.ref : "latest";
	err = erofs_oci_out_commit(c->out, man_digest, len, tag);
out:
	for (unsigned int k = 0; created_by && k < c->nr_out; k++)
		free(created_by[k]);
	free(created_by);
	json_object_put(cfg);
	json_object_put(m);
	return err;
}

int erofs_convert(const struct erofs_convert_opts *o,
		  struct erofs_convert_result *res, const struct erofs_log *log)
{
	struct conv c = {.o = o, .log = log, .res = res};
	int err;

	memset(res, 0, sizeof(*res));
	erofs_oci_image_init(&c.img);
	if (!o->outdir)
		return erofs_fail(log, -EINVAL, "no output directory");
	if (o->platform) {
		err = erofs_oci_platform_parse(o->platform, &c.plat);
		if (err)
			return erofs_fail(
			    log, -EINVAL,
			    "bad platform \"%s\" (os/arch[/variant])",
			    o->platform);
	} else {
		err = erofs_oci_platform_host(&c.plat);
		if (err)
			return erofs_err(log, err, "host platform");
	}
	err = open_source(&c);
	if (!err && o->nr_layers)
		err = hash_layer_files(&c);
	if (!err)
		err = erofs_oci_out_create(&c.out, o->outdir, o->tmpnames, log);
	if (!err)
		err = make_names(&c);
	if (!err)
		err = o->no_merge ? convert_layers(&c) : convert_merged(&c);
	if (!err)
		err = write_image(&c);
	if (!err) {
		c.layer = c.img.nr_layers;
		report(&c, true);
	}
	erofs_oci_out_destroy(c.out);
	for (unsigned int i = 0; i < c.img.nr_layers; i++) {
		if (c.names)
			free(c.names[i]);
		if (c.tmps)
			free(c.tmps[i]);
	}
	free(c.names);
	free(c.tmps);
	free(c.out_digest);
	free(c.out_size);
	free(c.out_src);
	erofs_oci_image_free(&c.img);
	erofs_oci_platform_free(&c.plat);
	return err;
}

char *erofs_convert_result_json(const struct erofs_convert_result *r)
{
	struct json_object *o = json_object_new_object();
	struct json_object *ls = json_object_new_array();
	const char *text;
	char *ret = NULL;

	if (!o || !ls) {
		json_object_put(o);
		json_object_put(ls);
		return NULL;
	}
	add_s(o, "manifest", r->manifest_digest);
	if (r->bootstrap_digest[0]) {
		struct json_object *b = json_object_new_object();

		if (b) {
			add_s(b, "digest", r->bootstrap_digest);
			add(b, "size",
			    json_object_new_uint64(r->bootstrap_size));
			json_object_object_add(o, "bootstrap", b);
		}
	}
	add(o, "bytes_read", json_object_new_uint64(r->bytes_read));
	add(o, "bytes_tar", json_object_new_uint64(r->bytes_tar));
	add(o, "bytes_data", json_object_new_uint64(r->bytes_data));
	add(o, "bytes_stored", json_object_new_uint64(r->bytes_stored));
	add(o, "bytes_deduplicated",
	    json_object_new_uint64(r->bytes_deduplicated));
	add(o, "bytes_zero", json_object_new_uint64(r->bytes_zero));
	for (unsigned int i = 0; i < r->nr_layers; i++) {
		const struct erofs_convert_layer_result *l = &r->layers[i];
		struct json_object *e = json_object_new_object();

		if (!e)
			continue;
		if (l->source_digest[0])
			add_s(e, "source", l->source_digest);
		add_s(e, "diff_id", l->diff_id);
		add(e, "bytes_read", json_object_new_uint64(l->bytes_read));
		add(e, "bytes_tar", json_object_new_uint64(l->bytes_tar));
		add(e, "entries", json_object_new_uint64(l->entries));
		add(e, "bytes_stored", json_object_new_uint64(l->bytes_stored));
		if (l->output_digest[0])
			add_s(e, "output", l->output_digest);
		else
			json_object_object_add(e, "output", NULL);
		json_object_array_add(ls, e);
	}
	json_object_object_add(o, "layers", ls);
	text = json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		   JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text)
		ret = strdup(text);
	json_object_put(o);
	return ret;
}

void erofs_convert_result_free(struct erofs_convert_result *res)
{
	free(res->layers);
	memset(res, 0, sizeof(*res));
}

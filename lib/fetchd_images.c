// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The daemon's served images (not one manifest's objects: fetch_catalog.c).
 *
 * Each image is a manifest (or a bare blob directory) with its own sources,
 * fetch catalog and fetch core; a kernel object name is looked up across
 * them, images with a manifest first.  Images added through the control
 * socket are also written to CACHE_DIR/.erofs-fetchd/images/, one small
 * file each, so that a daemon restarted by its supervisor serves them again
 * before it answers the first event.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "erofs/util.h"
#include "liberofs_fetchd.h"

#define REG_DIR ".erofs-fetchd/images"

int fetchd_catalog_open(const struct erofs_manifest *m, const char *fsid,
			bool serve_bootstrap, const struct erofs_log *log,
			struct erofs_fetch_catalog *out)
{
	int err = erofs_fetch_catalog_from_manifest(m, fsid, log, out);

	if (!err && serve_bootstrap && !fsid && !m->fsid)
		erofs_warn(log, "manifest has no fsid and none was given: "
				"the bootstrap is not served");
	return err;
}

int fetchd_image_create(struct erofs_fetchd *d, const char *id,
			const char *manifest, const char *const *specs,
			unsigned int nr_specs, struct fetchd_image **out)
{
	const struct erofs_fetchd_opts *o = d->o;
	struct erofs_fetch_config cfg = {
	    .workers = o->workers,
	    .unit = o->unit,
	    .prefetch = o->prefetch,
	    .readahead = o->readahead,
	    .no_readahead = o->no_readahead,
	    .log = d->log,
	};
	struct fetchd_image *img = calloc(1, sizeof(*img));
	int err = -ENOMEM;

	if (!img)
		return erofs_err(d->log, -ENOMEM, "image %s", id);
	img->id = strdup(id);
	if (manifest)
		img->manifest_path = realpath(manifest, NULL);
	if (!img->id || (manifest && !img->manifest_path)) {
		err = erofs_err(d->log, manifest ? -errno : -ENOMEM,
				"image %s: manifest %s", id,
				manifest ? manifest : "");
		goto fail;
	}
	if (!nr_specs || nr_specs > EROFS_FETCHD_MAX_SOURCES) {
		err = erofs_err(d->log, -EINVAL,
				"image %s: %u sources: 1..%u needed", id,
				nr_specs, EROFS_FETCHD_MAX_SOURCES);
		goto fail;
	}
	for (unsigned int i = 0; i < nr_specs; i++) {
		img->specs[i] = strdup(specs[i]);
		if (!img->specs[i])
			goto fail;
		img->nr_specs++;
	}
	img->source_desc = img->specs[0];
	err =
	    fetchd_sources_open(&img->srcs, specs, nr_specs, &o->http, d->log);
	if (err)
		goto fail;
	if (manifest) {
		err = erofs_manifest_load(&img->manifest, img->manifest_path,
					  d->log);
		if (err)
			goto fail;
		img->have_manifest = true;
		const char *fsid = *id ? NULL : o->fsid;

		/* fanotify mounts read the bootstrap from a local file */
		err = fetchd_catalog_open(&img->manifest, fsid,
					  d->backend == EROFS_FETCHD_CACHEFILES,
					  d->log, &img->catalog);
		if (err)
			goto fail;
	}
	err = erofs_fetch_create(&cfg, img->srcs.v, img->srcs.nr,
				 manifest ? &img->catalog : NULL, &img->fetch);
	if (err)
		goto fail;
	*out = img;
	return 0;
fail:
	if (err == -ENOMEM)
		erofs_err(d->log, err, "image %s", id);
	fetchd_image_destroy(img);
	return err;
}

void fetchd_image_destroy(struct fetchd_image *img)
{
	if (!img)
		return;
	erofs_fetch_destroy(img->fetch);
	if (img->have_manifest) {
		erofs_fetch_catalog_free(&img->catalog);
		erofs_manifest_free(&img->manifest);
	}
	fetchd_sources_close(&img->srcs);
	fetchd_ra_free(img);
	for (unsigned int i = 0; i < img->nr_specs; i++)
		free(img->specs[i]);
	free(img->manifest_path);
	free(img->id);
	free(img);
}

int fetchd_images_add(struct fetchd_images *c, struct fetchd_image *img)
{
	struct fetchd_image **v = realloc(c->v, (c->nr + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	c->v = v;
	c->v[c->nr++] = img;
	return 0;
}

struct fetchd_image *fetchd_images_get(const struct fetchd_images *c,
				       const char *id)
{
	for (unsigned int i = 0; i < c->nr; i++)
		if (!strcmp(c->v[i]->id, id))
			return c->v[i];
	return NULL;
}

void fetchd_images_remove(struct fetchd_images *c, struct fetchd_image *img)
{
	for (unsigned int i = 0; i < c->nr; i++) {
		if (c->v[i] == img) {
			memmove(&c->v[i], &c->v[i + 1],
				(c->nr - i - 1) * sizeof(*c->v));
			c->nr--;
			return;
		}
	}
}

int fetchd_images_lookup(const struct fetchd_images *c, const char *name,
			 struct fetchd_image **img,
			 struct erofs_fetch_info *info)
{
	int err = -ENOENT;

	/* images with a manifest first: they answer without I/O */
	for (int pass = 0; pass < 2; pass++) {
		for (unsigned int i = 0; i < c->nr; i++) {
			struct fetchd_image *m = c->v[i];

			if (m->have_manifest != !pass)
				continue;
			err = erofs_fetch_lookup(m->fetch, name, info);
			if (!err) {
				*img = m;
				return 0;
			}
		}
	}
	return -ENOENT;
}

uint64_t fetchd_image_total(const struct fetchd_image *img)
{
	uint64_t t = 0;

	if (!img->have_manifest)
		return 0;
	for (unsigned int i = 0; i < img->manifest.nr_blobs; i++)
		t += img->manifest.blobs[i].size;
	return t;
}

/* ------------------------------------------------------------------ */
/* persisted registrations                                             */

static int reg_path(struct erofs_fetchd *d, const char *id, char *out,
		    size_t len)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char hex[2 * SHA256_DIGEST_LENGTH + 1];

	SHA256((const unsigned char *)id, strlen(id), md);
	erofs_hex(hex, md, sizeof(md));
	if ((size_t)snprintf(out, len, "%s/%s/%s", d->cache_dir, REG_DIR,
			     hex) >= len)
		return -ENAMETOOLONG;
	return 0;
}

/* no newline in any field: the file is one field per line */
static bool one_line(const char *s)
{
	return !strchr(s, '\n');
}

int fetchd_images_persist(struct erofs_fetchd *d,
			  const struct fetchd_image *img)
{
	char path[4096], dir[4096];
	struct erofs_outfile of;
	FILE *f;
	int err;

	if (!one_line(img->id) ||
	    (img->manifest_path && !one_line(img->manifest_path)))
		return erofs_err(d->log, -EINVAL, "image %s: newline in a name",
				 img->id);
	for (unsigned int i = 0; i < img->nr_specs; i++)
		if (!one_line(img->specs[i]))
			return erofs_err(d->log, -EINVAL,
					 "image %s: newline in a source",
					 img->id);
	snprintf(dir, sizeof(dir), "%s/.erofs-fetchd", d->cache_dir);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return erofs_err(d->log, -errno, "%s", dir);
	snprintf(dir, sizeof(dir), "%s/%s", d->cache_dir, REG_DIR);
	if (mkdir(dir, 0700) && errno != EEXIST)
		return erofs_err(d->log, -errno, "%s", dir);
	err = reg_path(d, img->id, path, sizeof(path));
	if (err)
		return erofs_err(d->log, err, "image %s", img->id);
	err = erofs_outfile_open(&of, path, d->log);
	if (err)
		return err;
	f = fdopen(dup(of.fd), "w");
	if (!f) {
		erofs_outfile_abort(&of);
		return erofs_err(d->log, -errno, "%s", path);
	}
	fprintf(f, "id %s\n", img->id);
	if (img->manifest_path)
		fprintf(f, "manifest %s\n", img->manifest_path);
	for (unsigned int i = 0; i < img->nr_specs; i++)
		fprintf(f, "source %s\n", img->specs[i]);
	for (unsigned int i = 0; i < img->nr_ra; i++) {
		const struct fetchd_ra_restore *r = &img->ra[i];

		fprintf(f, "readahead %s %s %" PRIu64, r->boot_id, r->bdi,
			r->bytes);
		for (unsigned int k = 0; k < r->nr_blobs; k++)
			fprintf(f, " %s", r->blobs[k]);
		fputc('\n', f);
	}
	if (fclose(f)) {
		erofs_outfile_abort(&of);
		return erofs_err(d->log, -EIO, "%s", path);
	}
	return erofs_outfile_commit(&of, d->log);
}

void fetchd_images_unpersist(struct erofs_fetchd *d,
			     const struct fetchd_image *img)
{
	char path[4096];

	if (!reg_path(d, img->id, path, sizeof(path)))
		unlink(path);
}

static void restore_one(struct erofs_fetchd *d, int dfd, const char *name)
{
	int fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	struct fetchd_image *img;
	struct fetchd_reg r;
	int err;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	err = fetchd_reg_parse(f, &r);
	fclose(f);
	if (err) {
		erofs_warn(d->log, "%s/%s: %s", REG_DIR, name,
			   err == -ENOMEM ? "no memory" : "not a registration");
		return;
	}
	if (!fetchd_images_get(&d->images, r.id) &&
	    !fetchd_image_create(d, r.id, r.manifest,
				 (const char *const *)r.specs, r.nr_specs,
				 &img)) {
		if (fetchd_add_image(d, img)) {
			fetchd_image_destroy(img);
		} else {
			erofs_info(d->log, "image %s: served again", r.id);
			for (unsigned int i = 0; i < r.nr_ra; i++) {
				struct fetchd_ra_line l;

				if (fetchd_ra_line_parse(r.ra[i], &l))
					erofs_warn(d->log,
						   "image %s: a bad readahead "
						   "line dropped",
						   r.id);
				else
					fetchd_ra_add(d, img, l.boot_id, l.bdi,
						      l.bytes, l.blobs,
						      l.nr_blobs);
			}
			/* once: without what was done or was stale */
			if (r.nr_ra)
				fetchd_images_persist(d, img);
		}
	}
	fetchd_reg_free(&r);
}

void fetchd_images_restore(struct erofs_fetchd *d)
{
	char dir[4096];
	struct dirent *de;
	DIR *dd;

	snprintf(dir, sizeof(dir), "%s/%s", d->cache_dir, REG_DIR);
	dd = opendir(dir);
	if (!dd)
		return;
	while ((de = readdir(dd)))
		if (de->d_name[0] != '.')
			restore_one(d, dirfd(dd), de->d_name);
	closedir(dd);
}

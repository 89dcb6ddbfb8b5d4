// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * erofs-mount: what IMAGE is (a manifest, a bootstrap, an OCI layout
 * erofs-convert wrote) turned into the manifest the daemon loads; a
 * merged OCI image's bootstrap checked against its manifest.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "erofs/manifest.h"
#include "erofs/reader.h"
#include "erofs/util.h"
#include "liberofs_mount.h"
#include "liberofs_oci.h"

static bool is_hex64(const char *s)
{
	if (strlen(s) != 64)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}

/* j->m into the cache dir, where the daemon loads it from */
int erofs_mount_save_manifest(struct mount_job *j)
{
	char *hash = erofs_mount_hash_name(j->mnt), *out;
	int err;

	if (!hash ||
	    asprintf(&out, "%s/images/%s.json", j->cache_dir, hash) < 0) {
		free(hash);
		return erofs_err(j->log, -ENOMEM, "manifest");
	}
	free(hash);
	j->manifest_path = out;
	err = erofs_mount_mkdir_p(dirname(strdupa(out)), j->log);
	if (!err)
		err = erofs_manifest_save(&j->m, out, j->log);
	return err;
}

/*
 * The cachefiles backend with a bootstrap as IMAGE: the kernel reads the
 * bootstrap through the daemon too, as the object named by the fsid.  The
 * fsid is the bootstrap's SHA-256 (the same image always gets the same
 * volume, so its cache is reused); the daemon serves a checked copy from
 * CACHE/bootstrap/, a source of its own put before the blob sources, so
 * that the blob sources need not have it.
 */
static int serve_bootstrap(struct mount_job *j, const char *path)
{
	char *abs = realpath(path, NULL), *dir = NULL, *name = NULL;
	const char *src[1];
	char *dest = NULL;
	int err;

	if (!abs)
		return erofs_err(j->log, -errno, "%s", path);
	j->m.fsid = strdup(j->m.bootstrap_sha256);
	dir = strdup(abs);
	name = strdup(abs);
	if (asprintf(&j->boot_src, "%s/bootstrap", j->cache_dir) < 0)
		j->boot_src = NULL;
	else if (asprintf(&dest, "%s/%s.img", j->boot_src,
			  j->m.bootstrap_sha256) < 0)
		dest = NULL;
	if (!j->m.fsid || !dir || !name || !dest) {
		err = erofs_err(j->log, -ENOMEM, "%s", path);
		goto out;
	}
	src[0] = dirname(dir);
	err = erofs_mount_mkdir_p(j->boot_src, j->log);
	if (!err)
		err = erofs_mount_fetch_whole(j, src, 1, basename(name),
					      j->m.bootstrap_size,
					      j->m.bootstrap_sha256, dest);
	if (err)
		goto out;
	free(j->m.bootstrap_path);
	j->m.bootstrap_path = strdup(strrchr(dest, '/') + 1);
	if (!j->m.bootstrap_path)
		err = erofs_err(j->log, -ENOMEM, "%s", path);
	j->bootstrap = dest;
	dest = NULL;
out:
	free(dest);
	free(dir);
	free(name);
	free(abs);
	return err;
}

/* a bootstrap given as IMAGE: a manifest made from its device table */
static int manifest_from_bootstrap(struct mount_job *j, const char *path)
{
	struct erofs_image img;
	uint8_t md[EROFS_SHA256_LEN];
	int fd, err = erofs_image_open(&img, path, j->log);

	if (err)
		return err;
	memset(&j->m, 0, sizeof(j->m));
	j->m.bootstrap_path = realpath(path, NULL);
	j->m.bootstrap_size = img.size;
	j->m.block_size = img.blksz;
	j->m.nr_blobs = img.nr_devices;
	j->m.blobs = calloc(img.nr_devices + 1, sizeof(*j->m.blobs));
	j->have_m = true;
	if (!j->m.bootstrap_path || !j->m.blobs) {
		erofs_image_close(&img);
		return erofs_err(j->log, -ENOMEM, "%s", path);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	err = fd < 0 ? -errno : erofs_sha256_fd(fd, img.size, md);
	if (fd >= 0)
		close(fd);
	if (err) {
		erofs_image_close(&img);
		return erofs_err(j->log, err, "%s", path);
	}
	erofs_hex(j->m.bootstrap_sha256, md, sizeof(md));
	for (unsigned int i = 0; i < img.nr_devices; i++) {
		struct erofs_manifest_blob *b = &j->m.blobs[i];

		if (!is_hex64(img.devs[i].tag)) {
			erofs_image_close(&img);
			return erofs_fail(j->log, -EINVAL,
					  "%s: device %u has no SHA-256 tag "
					  "(\"%s\"): give the manifest instead",
					  path, i + 1, img.devs[i].tag);
		}
		b->device_id = i + 1;
		memcpy(b->tag, img.devs[i].tag, 65);
		memcpy(b->sha256, img.devs[i].tag, 65);
		b->blocks = img.devs[i].blocks;
		b->size = (uint64_t)img.devs[i].blocks * img.blksz;
		b->path = strdup(b->tag);
		if (!b->path) {
			erofs_image_close(&img);
			return erofs_err(j->log, -ENOMEM, "%s", path);
		}
	}
	erofs_image_close(&img);
	/* the backend is chosen: cachefiles reads the bootstrap through the
	 * daemon, the others mount it where it is */
	if (j->backend == MB_CACHEFILES)
		err = serve_bootstrap(j, path);
	else if (!(j->bootstrap = strdup(j->m.bootstrap_path)))
		err = erofs_err(j->log, -ENOMEM, "%s", path);
	return err ? err : erofs_mount_save_manifest(j);
}

/*
 * An OCI layout erofs-convert wrote: the image picked by @ref and the
 * platform, its manifest checked to be erofs-convert's.  Merged: a
 * manifest naming the bootstrap and the blobs by their SHA-256 (checked
 * against the bootstrap once it is here, erofs_mount_oci_finish()); --no-merge:
 * a manifest naming the layers (mount_stack.c).
 */
static int load_oci(struct mount_job *j, const char *dir, const char *ref)
{
	struct erofs_oci_platform plat = {0};
	struct erofs_manifest *m = &j->m;
	char hex[EROFS_SHA256_HEX_LEN + 1], *abs;
	int err;

	if (j->o->platform) {
		err = erofs_oci_platform_parse(j->o->platform, &plat);
		if (err) {
			erofs_oci_platform_free(&plat);
			return erofs_fail(
			    j->log, -EINVAL,
			    "--platform %s: not os/arch[/variant]",
			    j->o->platform);
		}
	} else {
		err = erofs_oci_platform_host(&plat);
		if (err)
			return erofs_err(j->log, err, "the host's platform");
	}
	err = erofs_oci_layout_open_erofs(dir, ref, &plat, &j->oci, j->log);
	erofs_oci_platform_free(&plat);
	if (err)
		return err;
	j->is_oci = true;
	abs = realpath(dir, NULL);
	if (!abs || asprintf(&j->oci_blobdir, "%s/blobs/sha256", abs) < 0) {
		j->oci_blobdir = NULL;
		free(abs);
		return erofs_err(j->log, -ENOMEM, "%s", dir);
	}
	free(abs);
	j->default_src = strdup(j->oci_blobdir);
	if (!j->default_src)
		return erofs_err(j->log, -ENOMEM, "%s", dir);
	if (!j->oci.merged) {
		j->stack = true;
		return erofs_mount_stack_manifest(j);
	}
	memset(m, 0, sizeof(*m));
	j->have_m = true;
	erofs_hex(hex, j->oci.bootstrap.digest, EROFS_SHA256_LEN);
	m->bootstrap_path = strdup(hex);
	m->bootstrap_size = j->oci.bootstrap.size;
	memcpy(m->bootstrap_sha256, hex, sizeof(hex));
	m->block_size = j->oci.block_size;
	/* erofs-convert(1): the bootstrap's hex digest is its fsid */
	m->fsid = strdup(j->oci.fsid ? j->oci.fsid : hex);
	if (j->oci.domain_id)
		m->domain_id = strdup(j->oci.domain_id);
	m->nr_blobs = j->oci.nr_parts;
	m->blobs = calloc(m->nr_blobs + 1, sizeof(*m->blobs));
	if (!m->bootstrap_path || !m->fsid || !m->blobs ||
	    (j->oci.domain_id && !m->domain_id))
		return erofs_err(j->log, -ENOMEM, "%s", dir);
	for (unsigned int i = 0; i < m->nr_blobs; i++) {
		struct erofs_manifest_blob *b = &m->blobs[i];

		erofs_hex(hex, j->oci.parts[i].digest, EROFS_SHA256_LEN);
		b->device_id = i + 1;
		memcpy(b->tag, hex, sizeof(hex));
		memcpy(b->sha256, hex, sizeof(hex));
		b->size = j->oci.parts[i].size;
		b->path = strdup(hex);
		if (!b->path)
			return erofs_err(j->log, -ENOMEM, "%s", dir);
	}
	return 0;
}

/*
 * The merged OCI image's bootstrap is here and verified: its device table
 * must name the manifest's blobs in order with their sizes; without
 * --source every blob must be in the layout.  Then the manifest for the
 * daemon is written.
 */
int erofs_mount_oci_finish(struct mount_job *j)
{
	struct erofs_image img;
	int err = erofs_image_open(&img, j->bootstrap, j->log);

	if (err)
		return err;
	if (img.nr_devices != j->m.nr_blobs)
		err = erofs_fail(j->log, -EINVAL,
				 "%s: the bootstrap has %u devices, its "
				 "manifest lists %u blobs",
				 j->o->image, img.nr_devices, j->m.nr_blobs);
	for (unsigned int i = 0; !err && i < img.nr_devices; i++) {
		struct erofs_manifest_blob *b = &j->m.blobs[i];

		b->blocks = img.devs[i].blocks;
		if (strcmp(img.devs[i].tag, b->tag))
			err = erofs_fail(j->log, -EINVAL,
					 "%s: device %u of the bootstrap is "
					 "\"%s\", the manifest says blob "
					 "sha256:%s",
					 j->o->image, i + 1, img.devs[i].tag,
					 b->tag);
		else if (b->size != b->blocks * img.blksz)
			err = erofs_fail(j->log, -EINVAL,
					 "%s: blob sha256:%s has %" PRIu64
					 " bytes, the bootstrap's device "
					 "table says %" PRIu64 " blocks of %u",
					 j->o->image, b->tag, b->size,
					 b->blocks, img.blksz);
	}
	j->m.block_size = img.blksz;
	erofs_image_close(&img);
	for (unsigned int i = 0; !err && !j->o->nr_sources && i < j->m.nr_blobs;
	     i++) {
		const struct erofs_manifest_blob *b = &j->m.blobs[i];
		char path[PATH_MAX];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", j->oci_blobdir, b->tag);
		if (stat(path, &st))
			err = erofs_fail(j->log, -errno,
					 "%s: blob %u/%u (sha256:%s) is not "
					 "in the layout (%s); give --source "
					 "where it is",
					 j->o->image, i + 1, j->m.nr_blobs,
					 b->tag, strerror(errno));
		else if (!S_ISREG(st.st_mode) ||
			 (uint64_t)st.st_size != b->size)
			err = erofs_fail(j->log, -EINVAL,
					 "%s: blob sha256:%s in the layout is "
					 "not a file of %" PRIu64 " bytes",
					 j->o->image, b->tag, b->size);
	}
	return err ? err : erofs_mount_save_manifest(j);
}

/* "oci:DIR[:REF]", or a directory holding oci-layout */
int erofs_mount_load_image(struct mount_job *j)
{
	const char *image = j->o->image;
	struct stat st;
	char head[1];
	int fd, err;

	if (!strncmp(image, "oci:", 4)) {
		const char *colon = strchr(image + 4, ':');
		char *dir = colon ? strndup(image + 4, colon - image - 4)
				  : strdup(image + 4);

		if (!dir)
			return erofs_err(j->log, -ENOMEM, "%s", image);
		err = load_oci(j, dir, colon && colon[1] ? colon + 1 : NULL);
		free(dir);
		return err;
	}
	if (!stat(image, &st) && S_ISDIR(st.st_mode)) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/oci-layout", image);
		if (access(path, F_OK))
			return erofs_fail(j->log, -EISDIR,
					  "%s: a directory but not an OCI "
					  "layout (no oci-layout file)",
					  image);
		return load_oci(j, image, NULL);
	}
	fd = open(image, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return erofs_err(j->log, -errno, "%s", image);
	err = read(fd, head, 1) == 1 ? 0 : -EINVAL;
	close(fd);
	if (err)
		return erofs_fail(j->log, err, "%s: empty", image);
	j->default_src = realpath(image, NULL);
	if (!j->default_src)
		return erofs_err(j->log, -errno, "%s", image);
	j->default_src = dirname(j->default_src);
	if (head[0] != '{')
		return manifest_from_bootstrap(j, image);
	err = erofs_manifest_load(&j->m, image, j->log);
	if (err)
		return err;
	j->have_m = true;
	j->manifest_path = realpath(image, NULL);
	return j->manifest_path ? 0 : erofs_err(j->log, -errno, "%s", image);
}

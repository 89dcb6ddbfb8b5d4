// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The kernel's own read-ahead window, put back on a lazy mount once the
 * blobs it reads are complete.
 *
 * erofs-mount widens a fanotify mount's window (mount_readahead.c) so that
 * a sequential reader raises one event per window instead of one per 128
 * KiB, and then tells the daemon which bdi it widened, what the window was
 * and which blobs the mount reads ("readahead" on the control socket).
 * When the last of those blobs is complete the mount has no events left,
 * and the wide window has no use: the daemon writes the old one back, so a
 * complete lazy mount reads exactly like a plain mount of the same blobs.
 * A backend tells the core that a blob became complete through
 * fetchd_note_complete() (fetchd.c), from any thread.
 *
 * The requests are kept with the image's registration, so a restarted
 * daemon still carries them out; with the boot they were made in, because
 * bdi names ("erofs-N") count from 1 again after a reboot.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "erofs/mount.h"
#include "erofs/util.h"
#include "liberofs_fetchd.h"

int fetchd_boot_id(char *out, size_t size)
{
	int fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, out, size - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	out[n] = '\0';
	out[strcspn(out, "\n")] = '\0';
	return 0;
}

static void ra_free_one(struct fetchd_ra_restore *r)
{
	for (unsigned int i = 0; i < r->nr_blobs; i++)
		free(r->blobs[i]);
	free(r->blobs);
}

void fetchd_ra_free(struct fetchd_image *img)
{
	for (unsigned int i = 0; i < img->nr_ra; i++)
		ra_free_one(&img->ra[i]);
	free(img->ra);
	img->ra = NULL;
	img->nr_ra = 0;
}

static bool image_has_blob(const struct fetchd_image *img, const char *name)
{
	for (unsigned int i = 0; i < img->manifest.nr_blobs; i++)
		if (!strcmp(img->manifest.blobs[i].tag, name))
			return true;
	return false;
}

static bool ra_due(struct erofs_fetchd *d, const struct fetchd_image *img,
		   const struct fetchd_ra_restore *r)
{
	/* no blobs named: all of the image's */
	unsigned int n = r->nr_blobs ? r->nr_blobs : img->manifest.nr_blobs;

	for (unsigned int i = 0; i < n; i++)
		if (!d->bops->blob_complete(
			d,
			r->nr_blobs ? r->blobs[i] : img->manifest.blobs[i].tag))
			return false;
	return true;
}

/* put back what is due for @img; true when something was done */
static bool ra_check_image(struct erofs_fetchd *d, struct fetchd_image *img)
{
	bool changed = false;

	for (unsigned int i = 0; i < img->nr_ra;) {
		struct fetchd_ra_restore *r = &img->ra[i];
		int err;

		if (!ra_due(d, img, r)) {
			i++;
			continue;
		}
		err = erofs_bdi_set_readahead(r->bdi, r->bytes, d->log);
		if (!err)
			erofs_info(d->log,
				   "image %s: blobs complete, read-ahead of "
				   "%s back to %" PRIu64 " KiB",
				   img->id, r->bdi, r->bytes >> 10);
		else if (err == -ENOENT)
			erofs_dbg(d->log, "image %s: %s is unmounted", img->id,
				  r->bdi);
		/* done, or not doable: either way it goes */
		ra_free_one(r);
		memmove(r, r + 1, (img->nr_ra - i - 1) * sizeof(*r));
		img->nr_ra--;
		changed = true;
	}
	return changed;
}

static void ra_check(struct erofs_fetchd *d, struct fetchd_image *img)
{
	if (ra_check_image(d, img) && *img->id)
		fetchd_images_persist(d, img);
}

void fetchd_ra_check_all(struct erofs_fetchd *d)
{
	for (unsigned int i = 0; i < d->images.nr; i++)
		ra_check(d, d->images.v[i]);
}

int fetchd_ra_add(struct erofs_fetchd *d, struct fetchd_image *img,
		  const char *boot_id, const char *bdi, uint64_t bytes,
		  const char *const *blobs, unsigned int nr_blobs)
{
	struct fetchd_ra_restore *v, *r;
	char now[40];

	if (!d->bops->blob_complete)
		return erofs_err(d->log, -EOPNOTSUPP,
				 "image %s: the %s backend sets no read-ahead",
				 img->id, d->bops->name);
	if (!img->have_manifest)
		return erofs_err(d->log, -EINVAL,
				 "image %s: no manifest names its blobs",
				 img->id);
	if (!erofs_bdi_name_ok(bdi))
		return erofs_err(d->log, -EINVAL, "image %s: bdi name \"%s\"",
				 img->id, bdi);
	if (bytes > (1ull << 30))
		return erofs_err(d->log, -EINVAL,
				 "image %s: read-ahead %" PRIu64 " bytes",
				 img->id, bytes);
	for (unsigned int i = 0; i < nr_blobs; i++)
		if (!image_has_blob(img, blobs[i]))
			return erofs_err(d->log, -ENOENT,
					 "image %s: no blob %s", img->id,
					 blobs[i]);
	if (fetchd_boot_id(now, sizeof(now)))
		return erofs_err(d->log, -EIO, "the kernel's boot id");
	if (boot_id && strcmp(boot_id, now)) {
		erofs_dbg(d->log, "image %s: %s is from another boot", img->id,
			  bdi);
		return 0;
	}
	v = realloc(img->ra, (img->nr_ra + 1) * sizeof(*v));
	if (!v)
		return erofs_err(d->log, -ENOMEM, "image %s", img->id);
	img->ra = v;
	r = &v[img->nr_ra];
	memset(r, 0, sizeof(*r));
	snprintf(r->bdi, sizeof(r->bdi), "%s", bdi);
	snprintf(r->boot_id, sizeof(r->boot_id), "%s", now);
	r->bytes = bytes;
	if (nr_blobs) {
		r->blobs = calloc(nr_blobs, sizeof(*r->blobs));
		if (!r->blobs)
			return erofs_err(d->log, -ENOMEM, "image %s", img->id);
		for (unsigned int i = 0; i < nr_blobs; i++) {
			r->blobs[i] = strdup(blobs[i]);
			if (!r->blobs[i]) {
				ra_free_one(r);
				return erofs_err(d->log, -ENOMEM, "image %s",
						 img->id);
			}
			r->nr_blobs++;
		}
	}
	img->nr_ra++;
	erofs_dbg(d->log,
		  "image %s: read-ahead of %s back to %" PRIu64
		  " KiB once %u blob(s) are complete",
		  img->id, bdi, bytes >> 10,
		  nr_blobs ? nr_blobs : img->manifest.nr_blobs);
	/* complete already: at once */
	ra_check_image(d, img);
	/* a request restored from the registration is in it already */
	return *img->id && !boot_id ? fetchd_images_persist(d, img) : 0;
}

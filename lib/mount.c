// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * erofs-mount: backend choice and the mount sequence (image, bootstrap,
 * daemon, mount(2) in the right order, prefetch), see erofs/mount.h; the
 * parts are in mount_*.c (lib/liberofs_mount.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <linux/magic.h>

#include <openssl/sha.h>

#include "erofs/fetchd.h"
#include "erofs/manifest.h"
#include "erofs/mount.h"
#include "erofs/util.h"
#include "liberofs_fanotify.h"
#include "liberofs_mount.h"
#include "liberofs_oci.h"

const char *const erofs_mount_backend_names[] = {"fanotify", "cachefiles",
						 "full"};

void erofs_mount_opts_init(struct erofs_mount_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->backend = "auto";
	o->kernel_readahead = EROFS_MOUNT_DEFAULT_KERNEL_RA;
	erofs_http_opts_default(&o->http);
}

char *erofs_mount_hash_name(const char *s)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char *hex = malloc(2 * SHA256_DIGEST_LENGTH + 1);

	if (!hex)
		return NULL;
	SHA256((const unsigned char *)s, strlen(s), md);
	erofs_hex(hex, md, sizeof(md));
	return hex;
}

int erofs_mount_mkdir_p(const char *dir, const struct erofs_log *log)
{
	char buf[PATH_MAX];

	if ((size_t)snprintf(buf, sizeof(buf), "%s", dir) >= sizeof(buf))
		return erofs_err(log, -ENAMETOOLONG, "%s", dir);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return erofs_err(log, -errno, "%s", buf);
		*p = '/';
	}
	if (mkdir(buf, 0755) && errno != EEXIST)
		return erofs_err(log, -errno, "%s", buf);
	return 0;
}

/* ------------------------------------------------------------------ */

/*
 * cachefiles binds only to a cache directory on a filesystem with xattrs,
 * O_TMPFILE, statfs and sync_fs (fs/cachefiles/cache.c): tmpfs and ramfs
 * have no sync_fs and are refused with EOPNOTSUPP.  Said here, before a
 * daemon is started for nothing.
 */
static int cachefiles_check_fs(struct mount_job *j)
{
	struct statfs sf;

	if (statfs(j->cache_dir, &sf))
		return erofs_err(j->log, -errno, "%s", j->cache_dir);
	if (sf.f_type == TMPFS_MAGIC || sf.f_type == RAMFS_MAGIC)
		return erofs_fail(j->log, -EOPNOTSUPP,
				  "--cache-dir %s is on %s: the cachefiles "
				  "backend needs a disk filesystem (ext4, "
				  "xfs, btrfs: the kernel's cachefiles "
				  "refuses a filesystem without sync_fs)",
				  j->cache_dir,
				  sf.f_type == TMPFS_MAGIC ? "tmpfs" : "ramfs");
	return 0;
}

/* before the image is loaded: what it becomes depends on the backend */
static int choose_backend(struct mount_job *j, const char **whyp)
{
	const char *b = j->o->backend ? j->o->backend : "auto";
	const char *why;

	if (!strcmp(b, "fanotify")) {
		j->backend = MB_FANOTIFY;
		why = "forced";
	} else if (!strcmp(b, "cachefiles")) {
		j->backend = MB_CACHEFILES;
		why = "forced";
	} else if (!strcmp(b, "full")) {
		j->backend = MB_FULL;
		why = "forced";
	} else if (strcmp(b, "auto")) {
		return erofs_fail(j->log, -EINVAL,
				  "--backend %s: auto, fanotify, cachefiles "
				  "or full",
				  b);
	} else if (erofs_fanotify_supported()) {
		j->backend = MB_FANOTIFY;
		why = "fanotify pre-content hooks (Linux 6.14+)";
	} else if (!access(EROFS_FETCHD_DEFAULT_DEVICE, F_OK)) {
		j->backend = MB_CACHEFILES;
		why = "cachefiles on-demand mode";
	} else {
		j->backend = MB_FULL;
		why = "no on-demand support in this kernel: fetching "
		      "everything first";
	}
	*whyp = why;
	return 0;
}

static void report_backend(struct mount_job *j, const char *why)
{
	fprintf(j->out, "erofs-mount: backend %s (%s)\n",
		erofs_mount_backend_names[j->backend], why);
	if (j->stack)
		fprintf(j->out,
			"erofs-mount: %u standalone layers (erofs-convert "
			"--no-merge), each mounted, stacked by overlayfs\n",
			j->oci.nr_parts);
}

static int do_mount(struct mount_job *j)
{
	char *data = NULL;
	size_t n = 0;
	int err = 0;

	if (j->backend == MB_CACHEFILES) {
		if (!j->m.fsid)
			return erofs_fail(j->log, -EINVAL,
					  "%s: no fsid in the manifest "
					  "(mkfs.erofs --fsid): the cachefiles "
					  "backend needs one",
					  j->o->image);
		if (asprintf(&data, "fsid=%s%s%s", j->m.fsid,
			     j->m.domain_id ? ",domain_id=" : "",
			     j->m.domain_id ? j->m.domain_id : "") < 0)
			return erofs_err(j->log, -ENOMEM, "mount options");
		if (mount("erofs", j->mnt, "erofs", MS_RDONLY, data))
			err = erofs_err(j->log, -errno, "mount %s on %s (%s)",
					j->o->image, j->mnt, data);
		free(data);
		return err;
	}
	data = calloc(1, j->m.nr_blobs * (PATH_MAX + 8) + 1);
	if (!data)
		return erofs_err(j->log, -ENOMEM, "mount options");
	for (unsigned int id = 1; id <= j->m.nr_blobs; id++)
		for (unsigned int i = 0; i < j->m.nr_blobs; i++)
			if (j->m.blobs[i].device_id == id)
				n += sprintf(data + n, "%sdevice=%s/%s/%s",
					     n ? "," : "", j->cache_dir,
					     EROFS_FETCHD_BLOB_DIR,
					     j->m.blobs[i].tag);
	if (mount(j->bootstrap, j->mnt, "erofs", MS_RDONLY, n ? data : NULL))
		err = erofs_err(j->log, -errno, "mount %s on %s", j->bootstrap,
				j->mnt);
	free(data);
	return err;
}

int erofs_mount(const struct erofs_mount_opts *o, const struct erofs_log *log)
{
	struct mount_job j = {
	    .o = o, .log = log, .out = o->out ? o->out : stdout};
	const char *cache =
	    o->cache_dir ? o->cache_dir : EROFS_MOUNT_DEFAULT_CACHE;
	const char *why = NULL;
	bool added = false;
	int err;

	if (!o->image || !o->mountpoint)
		return erofs_err(log, -EINVAL, "IMAGE and MOUNTPOINT needed");
	j.mnt = realpath(o->mountpoint, NULL);
	if (!j.mnt)
		return erofs_err(log, -errno, "mount point %s", o->mountpoint);
	err = erofs_mount_mkdir_p(cache, log);
	if (err)
		goto out;
	j.cache_dir = realpath(cache, NULL);
	if (!j.cache_dir) {
		err = erofs_err(log, -errno, "--cache-dir %s", cache);
		goto out;
	}
	err = choose_backend(&j, &why);
	if (!err)
		err = erofs_mount_load_image(&j);
	if (err)
		goto out;
	report_backend(&j, why);
	for (unsigned int i = 0; i < o->nr_sources; i++)
		j.srcs[j.nr_srcs++] = o->sources[i];
	if (!j.nr_srcs)
		j.srcs[j.nr_srcs++] = j.default_src;
	if (j.backend == MB_FANOTIFY) {
		int fd = open(j.cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		err = fd < 0 ? erofs_err(log, -errno, "%s", j.cache_dir)
			     : erofs_fanotify_check_fs(fd, j.cache_dir, log);
		if (fd >= 0)
			close(fd);
		if (err)
			goto out;
	}
	if (j.backend == MB_CACHEFILES) {
		err = cachefiles_check_fs(&j);
		if (err)
			goto out;
	}
	/* the bootstrap first: it must be complete before the mount */
	if (!j.stack && (j.backend != MB_CACHEFILES || j.is_oci)) {
		err = erofs_mount_fetch_bootstrap(&j);
		if (!err && j.is_oci)
			err = erofs_mount_oci_finish(&j);
		if (err)
			goto out;
	}
	if (j.backend == MB_FULL) {
		/* a stack's layers are fetched whole as they are mounted */
		err = j.stack ? 0 : erofs_mount_full_fetch(&j);
	} else {
		err = erofs_mount_ensure_daemon(&j);
		if (!err)
			err = erofs_mount_add_image(&j);
		added = !err;
		/* the metadata of each layer local before EROFS reads it */
		if (!err && j.stack && j.backend == MB_FANOTIFY)
			err = erofs_mount_stack_prime(&j);
	}
	/* marks are in place: now EROFS may open the blobs */
	if (!err)
		err = j.stack ? erofs_mount_stack(&j) : do_mount(&j);
	/* fewer, larger requests of the blobs: a tuning, never fatal */
	if (!err && !j.stack && erofs_mount_tune_readahead(&j, j.mnt, NULL))
		erofs_warn(log,
			   "%s: the kernel's read-ahead window is left "
			   "as it was",
			   j.mnt);
	if (!err) {
		added = false; /* mounted: never released under the mount */
		err = erofs_mount_save_state(&j);
		if (err)
			erofs_warn(log,
				   "%s is mounted but not recorded: "
				   "unmount it with umount(8) first",
				   j.mnt);
	}
	if (err)
		goto out;
	/*
	 * Mounted: from here on the image must stay registered whatever
	 * fails, or its blobs would lose their marks under a mount.
	 */
	added = false;
	fprintf(j.out, "erofs-mount: mounted %s on %s (backend %s)\n", o->image,
		j.mnt, erofs_mount_backend_names[j.backend]);
	if (j.backend != MB_FULL && o->prefetch_list &&
	    (j.stack ? erofs_mount_stack_prefetch_list(&j)
		     : erofs_mount_prefetch_list(&j)))
		erofs_warn(log,
			   "%s: --prefetch-list failed; the mount "
			   "works, filled on demand",
			   j.mnt);
	if (j.backend != MB_FULL && o->prefetch) {
		char *id = erofs_fetchd_ctl_quote(j.mnt);

		err = id ? erofs_mount_ctl_fmt(&j, "prefetch",
					       "prefetch %s all", id)
			 : -ENOMEM;
		free(id);
		if (!err)
			fprintf(j.out, "erofs-mount: prefetching everything in "
				       "the background\n");
	}
	/* a failed prefetch leaves a working lazy mount */
	err = 0;
out:
	if (err && added)
		erofs_mount_del_image(&j);
	if (j.have_m)
		erofs_manifest_free(&j.m);
	if (j.is_oci)
		erofs_oci_erofs_free(&j.oci);
	free(j.oci_blobdir);
	free(j.manifest_path);
	free(j.bootstrap);
	free(j.default_src);
	free(j.boot_src);
	free(j.stackdir);
	free(j.cache_dir);
	free(j.mnt);
	return err;
}

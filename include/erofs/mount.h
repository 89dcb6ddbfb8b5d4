/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * erofs-mount as a library: mount a lazily pulled EROFS image with whatever
 * the running kernel offers (fanotify pre-content hooks on a file-backed
 * mount, Linux 6.14+; the cachefiles on-demand mode; or, as a last resort,
 * a full fetch and a plain file-backed mount), starting an erofs-fetchd for
 * the cache directory or reusing the one already serving it; unmount; list.
 *
 * Order on the fanotify backend (a mark must exist before EROFS opens the
 * blob, and the bootstrap must be complete): bootstrap fetched and its
 * SHA-256 checked, the daemon marks the sparse blobs, then mount(2).  On
 * unmount the mount goes first, then the daemon lets go of the image, and
 * it exits (and with it the fanotify group) only when no image is left:
 * the group never ends under a mounted image, where readers would get
 * zeros.
 */
#ifndef EROFS_MOUNT_H
#define EROFS_MOUNT_H

#include <stdbool.h>
#include <stdio.h>

#include "erofs/fetch.h"
#include "erofs/log.h"

#define EROFS_MOUNT_DEFAULT_CACHE "/var/cache/erofs-mount"
#define EROFS_MOUNT_DEFAULT_STATE "/run/erofs-mount"
#define EROFS_MOUNT_MAX_SOURCES	  16u
/* the kernel read-ahead window of file-backed lazy mounts */
#define EROFS_MOUNT_DEFAULT_KERNEL_RA (1ull << 20)

struct erofs_mount_opts {
	const char *image; /* manifest, bootstrap, oci:DIR[:REF] or DIR */
	const char *mountpoint;
	const char *sources[EROFS_MOUNT_MAX_SOURCES]; /* default: IMAGE's dir */
	unsigned int nr_sources;
	const char *cache_dir;	     /* default EROFS_MOUNT_DEFAULT_CACHE */
	const char *state_dir;	     /* default EROFS_MOUNT_DEFAULT_STATE */
	const char *backend;	     /* auto, fanotify, cachefiles, full */
	const char *fetchd;	     /* the erofs-fetchd program; NULL: found */
	bool prefetch;		     /* fill everything in the background */
	const char *prefetch_list;   /* paths whose chunks go first */
	uint64_t kernel_readahead;   /* bytes (file-backed lazy mounts, while
				      * their blobs are being filled); 0:
				      * leave the kernel's default */
	bool kernel_readahead_given; /* also for --backend full */
	const char *platform;	     /* OCI index: os/arch[/variant]; NULL:
				      * the host's */
	struct erofs_http_opts http;
	FILE *out; /* what was chosen and done; NULL: stdout */
};

void erofs_mount_opts_init(struct erofs_mount_opts *o);

/* longest bdi name kept ("erofs-N") */
#define EROFS_BDI_NAME_MAX 64

/*
 * The kernel read-ahead window of a file-backed EROFS mount, which lives in
 * the mount's backing-device info (/sys/class/bdi/NAME).
 *
 * erofs_mount_set_readahead() sets the window of the mount at @mnt to
 * @bytes (rounded down to KiB); the bdi's name goes to @bdi and the
 * window it replaced to @old (either may be NULL).  -EOPNOTSUPP, unlogged,
 * where the kernel cannot say which window is the mount's (before 6.10,
 * fscache mode).  erofs_bdi_set_readahead() sets it by bdi name: -ENOENT,
 * unlogged, once that mount is gone.
 */
int erofs_mount_set_readahead(const char *mnt, uint64_t bytes, char *bdi,
			      size_t bdi_size, uint64_t *old,
			      const struct erofs_log *log);
int erofs_mount_bdi(const char *mnt, char *name, size_t size,
		    const struct erofs_log *log);
bool erofs_bdi_name_ok(const char *bdi);
int erofs_bdi_get_readahead(const char *bdi, uint64_t *bytes,
			    const struct erofs_log *log);
int erofs_bdi_set_readahead(const char *bdi, uint64_t bytes,
			    const struct erofs_log *log);

int erofs_mount(const struct erofs_mount_opts *o, const struct erofs_log *log);
/* unmount, then release the image in its daemon */
int erofs_umount(const char *mountpoint, const char *state_dir,
		 const struct erofs_log *log);
/* one line per mount: mountpoint, backend, source, bytes present/total */
int erofs_mount_list(FILE *out, const char *state_dir,
		     const struct erofs_log *log);

#endif

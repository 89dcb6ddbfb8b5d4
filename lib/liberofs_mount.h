/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * erofs-mount, the private side:
 *   mount.c        backend choice and the mount sequence (erofs_mount)
 *   mount_image.c  IMAGE (manifest, bootstrap, OCI layout) to the manifest
 *                  the daemon loads
 *   mount_fetch.c  whole objects fetched with their SHA-256 checked
 *   mount_daemon.c the erofs-fetchd client, --prefetch-list ranges
 *   mount_state.c  the record of each mount, -u and --list
 *   mount_stack.c  an OCI layout of standalone layers (erofs-convert
 *                  --no-merge): one daemon image naming every layer, the
 *                  layers mounted and stacked read-only by overlayfs
 */
#ifndef LIBEROFS_MOUNT_H
#define LIBEROFS_MOUNT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "erofs/manifest.h"
#include "erofs/mount.h"
#include "erofs/reader.h"
#include "liberofs_oci.h"

enum mount_backend { MB_FANOTIFY, MB_CACHEFILES, MB_FULL };

struct mount_job {
	const struct erofs_mount_opts *o;
	const struct erofs_log *log;
	FILE *out;
	char *cache_dir;
	char *mnt;	     /* absolute: the image id in the daemon */
	char *manifest_path; /* what the daemon loads */
	struct erofs_manifest m;
	bool have_m;
	const char *srcs[EROFS_MOUNT_MAX_SOURCES];
	unsigned int nr_srcs;
	char *default_src;
	char *boot_src;	 /* cachefiles, bootstrap as IMAGE: its copy's dir */
	char *bootstrap; /* local, complete, checked */
	enum mount_backend backend;
	/* IMAGE is an OCI layout erofs-convert wrote */
	bool is_oci;
	struct erofs_oci_erofs oci;
	char *oci_blobdir; /* its blobs/sha256, absolute */
	/* --no-merge: j->m names every layer as a blob, bottom first */
	bool stack;
	char *stackdir; /* where the layers are mounted (2+ layers) */
};

extern const char *const erofs_mount_backend_names[];

/* mount.c */
int erofs_mount_mkdir_p(const char *dir, const struct erofs_log *log);
/* the hex SHA-256 of @s (a file name for a mount point) */
char *erofs_mount_hash_name(const char *s);

/* mount_image.c */
/* IMAGE (j->o->image) into j->m, the manifest saved unless a merged OCI
 * image's, which erofs_mount_oci_finish() checks and saves */
int erofs_mount_load_image(struct mount_job *j);
int erofs_mount_oci_finish(struct mount_job *j);
/* j->m into the cache dir, where the daemon loads it from */
int erofs_mount_save_manifest(struct mount_job *j);

/*
 * mount_daemon.c: widen the kernel read-ahead window of the mount at @dir
 * (see mount_readahead.c) and have the daemon put the old one back once
 * @blob (NULL: every blob of the image) is complete; --backend full only
 * with an explicit --kernel-readahead.  A tuning: callers warn at most.
 */
int erofs_mount_tune_readahead(struct mount_job *j, const char *dir,
			       const char *blob);

/* mount_fetch.c */
int erofs_mount_fetch_whole(struct mount_job *j, const char *const *srcs,
			    unsigned int nr_srcs, const char *path,
			    uint64_t size, const char *sha256,
			    const char *dest);
unsigned int erofs_mount_oci_srcs(struct mount_job *j, const char *hex,
				  const char **srcs);
/* the bootstrap into the cache, checked (unless IMAGE was it) */
int erofs_mount_fetch_bootstrap(struct mount_job *j);
/* every blob into the cache, checked (the full backend) */
int erofs_mount_full_fetch(struct mount_job *j);

/* mount_daemon.c */
/* a daemon serving the cache dir with our backend, started if needed */
int erofs_mount_ensure_daemon(struct mount_job *j);
int erofs_mount_add_image(struct mount_job *j);
void erofs_mount_del_image(struct mount_job *j);
int erofs_mount_prefetch_list(struct mount_job *j);
/* after a --prefetch-list: says how many files went first; returns @err */
int erofs_mount_prefetch_said(struct mount_job *j, unsigned int files, int err);
int erofs_mount_ctl_fmt(struct mount_job *j, const char *what, const char *fmt,
			...) __attribute__((format(printf, 3, 4)));

/*
 * One "prefetch ID TAG OFF LEN..." control request being filled: ranges
 * are added one by one, the request goes to the daemon whenever it is
 * nearly full, and the rest with erofs_mount_prefetch_flush().
 */
struct mount_prefetch_req {
	char buf[8192];
	size_t n;
	size_t empty; /* n with no range yet */
};

void erofs_mount_prefetch_start(struct mount_prefetch_req *r, const char *id);
int erofs_mount_prefetch_add(struct mount_job *j, struct mount_prefetch_req *r,
			     const char *tag, uint64_t off, uint64_t len);
int erofs_mount_prefetch_flush(struct mount_job *j,
			       struct mount_prefetch_req *r);
int erofs_mount_resolve_path(const struct erofs_image *img, const char *path,
			     struct erofs_rinode *ri);

/* mount_state.c */
int erofs_mount_save_state(struct mount_job *j);

/* mount_stack.c */
/* the manifest the daemon serves the layers by (blob i = layer i + 1) */
int erofs_mount_stack_manifest(struct mount_job *j);
/* fanotify: every byte of each layer but its files' data present */
int erofs_mount_stack_prime(struct mount_job *j);
/* the layers (fetched whole first on MB_FULL) and the overlay on j->mnt;
 * on failure nothing of it stays mounted */
int erofs_mount_stack(struct mount_job *j);
/* unmount the layers of a stack (after its overlay), remove @stackdir */
int erofs_mount_stack_release(const char *stackdir, unsigned int nr_layers,
			      const struct erofs_log *log);
/* --prefetch-list on a stack: each path from the layer providing it */
int erofs_mount_stack_prefetch_list(struct mount_job *j);

#endif

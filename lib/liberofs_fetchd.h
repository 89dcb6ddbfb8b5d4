/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Inside the serving core: the images it serves, the source
 * factory, and the interface a kernel backend implements.  Everything here
 * runs in the serving thread unless a comment says otherwise.
 */
#ifndef LIBEROFS_FETCHD_H
#define LIBEROFS_FETCHD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "erofs/fetch.h"
#include "erofs/fetchd.h"
#include "erofs/manifest.h"
#include "erofs/mount.h"

/* ------------------------------------------------------------------ */
/* source factory (fetchd_sources.c)                                   */

struct fetchd_sources {
	struct erofs_source *v[EROFS_FETCHD_MAX_SOURCES];
	unsigned int nr;
};

/* open each spec ("http(s)://..." or a directory); all or nothing */
int fetchd_sources_open(struct fetchd_sources *s, const char *const *specs,
			unsigned int nr, const struct erofs_http_opts *http,
			const struct erofs_log *log);
void fetchd_sources_close(struct fetchd_sources *s);

/* ------------------------------------------------------------------ */
/* the images served (fetchd_images.c)                                */

/* a mount's read-ahead window to put back (fetchd_ra_restore.c) */
struct fetchd_ra_restore {
	char bdi[EROFS_BDI_NAME_MAX];
	char boot_id[40];
	uint64_t bytes;
	char **blobs; /* once these are complete; none: all the image's */
	unsigned int nr_blobs;
};

struct fetchd_image {
	char *id;	     /* "" for the image given on the command line */
	char *manifest_path; /* NULL: objects found by name */
	char *source_desc;   /* the first source, for --list */
	char *specs[EROFS_FETCHD_MAX_SOURCES];
	unsigned int nr_specs;
	struct erofs_manifest manifest;
	bool have_manifest;
	struct erofs_fetch_catalog catalog;
	struct fetchd_sources srcs;
	struct erofs_fetch *fetch;
	void *bpriv; /* the backend's per-image state */
	struct fetchd_ra_restore *ra;
	unsigned int nr_ra;
};

struct fetchd_images {
	struct fetchd_image **v;
	unsigned int nr;
};

struct erofs_fetchd;

/*
 * The fetch catalog of manifest @m, with the bootstrap as object @fsid (NULL:
 * the manifest's own fsid); a warning when the bootstrap is to be served
 * (@serve_bootstrap: cachefiles, --fetch-test) but has no name.
 */
int fetchd_catalog_open(const struct erofs_manifest *m, const char *fsid,
			bool serve_bootstrap, const struct erofs_log *log,
			struct erofs_fetch_catalog *out);
/* a new image with its sources, manifest and fetch core; not yet listed */
int fetchd_image_create(struct erofs_fetchd *d, const char *id,
			const char *manifest, const char *const *specs,
			unsigned int nr_specs, struct fetchd_image **out);
/* drains and frees (the backend must have let go of it) */
void fetchd_image_destroy(struct fetchd_image *img);

int fetchd_images_add(struct fetchd_images *c, struct fetchd_image *img);
struct fetchd_image *fetchd_images_get(const struct fetchd_images *c,
				       const char *id);
/* unlist @img (not freed) */
void fetchd_images_remove(struct fetchd_images *c, struct fetchd_image *img);
/* the image serving object @name and where its data comes from */
int fetchd_images_lookup(const struct fetchd_images *c, const char *name,
			 struct fetchd_image **img,
			 struct erofs_fetch_info *info);
/* total bytes of an image's objects (catalog), 0 when unknown */
uint64_t fetchd_image_total(const struct fetchd_image *img);

/* registrations of images added through the control socket, kept below
 * the cache dir so that a restarted daemon serves them again */
int fetchd_images_persist(struct erofs_fetchd *d,
			  const struct fetchd_image *img);
void fetchd_images_unpersist(struct erofs_fetchd *d,
			     const struct fetchd_image *img);
/* re-create every persisted image (errors logged, image skipped) */
void fetchd_images_restore(struct erofs_fetchd *d);

/* ------------------------------------------------------------------ */
/* backends                                                            */

struct fetchd_backend_ops {
	const char *name;
	/* open or inherit the kernel handle, bind or restore */
	int (*start)(struct erofs_fetchd *d);
	/* the fd to poll for POLLIN */
	int (*pollfd)(struct erofs_fetchd *d);
	/* serve what is pending; 0, or a fatal -errno */
	int (*process)(struct erofs_fetchd *d);
	/* periodic work; ms until the next, or -1 */
	int (*timers)(struct erofs_fetchd *d);
	/* a new image: fanotify creates and marks its blobs (before the
	 * mount), cachefiles has nothing to do */
	int (*image_added)(struct erofs_fetchd *d, struct fetchd_image *img);
	/* the image goes: let go of its objects (its fetch core drained) */
	void (*image_removing)(struct erofs_fetchd *d,
			       struct fetchd_image *img);
	/* queue a background fill of @blob (NULL: every blob) */
	int (*prefetch)(struct erofs_fetchd *d, struct fetchd_image *img,
			const char *blob, uint64_t off, uint64_t len);
	/* every byte of blob @name is present (NULL: the backend widens
	 * no read-ahead window) */
	bool (*blob_complete)(struct erofs_fetchd *d, const char *name);
	/* bytes present of @img's blobs; -1 when unknown */
	int64_t (*present)(struct erofs_fetchd *d, struct fetchd_image *img);
	void (*log_stats)(struct erofs_fetchd *d, const char *when);
	/* the kernel handle and the pending table (-1: none) */
	int (*kernel_fd)(const struct erofs_fetchd *d);
	int (*pending_fd)(const struct erofs_fetchd *d);
	/* drain and release everything */
	void (*stop)(struct erofs_fetchd *d);
};

extern const struct fetchd_backend_ops fetchd_cachefiles_ops;
extern const struct fetchd_backend_ops fetchd_fanotify_ops;

struct erofs_fetchd {
	const struct erofs_fetchd_opts *o;
	const struct erofs_log *log;
	char *cache_dir; /* absolute */
	enum erofs_fetchd_backend backend;
	const struct fetchd_backend_ops *bops;
	void *bpriv;
	struct fetchd_images images;
	int wake[2]; /* 's' stop, 'u' statistics, 'c' a blob completed */
	int ctlfd;   /* listening control socket, or -1 */
	char *ctl_path;
	bool pidfile_written;
	bool stopping;
	uint64_t next_stats;
};

/* the text formats (fetchd_wire.c) */
/* a control request into at most @max unquoted fields: how many, or -1 */
int fetchd_ctl_split(char *line, char **f, int max);

#define FETCHD_REG_MAX_RA 256
/* an image registration file, as read */
struct fetchd_reg {
	char *id, *manifest; /* manifest NULL: objects found by name */
	char *specs[EROFS_FETCHD_MAX_SOURCES];
	unsigned int nr_specs;
	char *ra[FETCHD_REG_MAX_RA]; /* "readahead" lines, unparsed */
	unsigned int nr_ra;
};
/* 0, -EINVAL without an id or a source, -ENOMEM */
int fetchd_reg_parse(FILE *f, struct fetchd_reg *r);
void fetchd_reg_free(struct fetchd_reg *r);

#define FETCHD_RA_MAX_BLOBS 64
/* a "readahead" line's value, split in place */
struct fetchd_ra_line {
	const char *boot_id, *bdi;
	uint64_t bytes;
	const char *blobs[FETCHD_RA_MAX_BLOBS];
	unsigned int nr_blobs;
};
int fetchd_ra_line_parse(char *v, struct fetchd_ra_line *out);

/* the control socket (fetchd_control.c) */
int fetchd_control_open(struct erofs_fetchd *d);
void fetchd_control_close(struct erofs_fetchd *d);
/* accept and answer one connection */
void fetchd_control_serve(struct erofs_fetchd *d);

/* read-ahead windows put back (fetchd_ra_restore.c) */
/* @boot_id NULL: a control request, persisted; else one read back from the
 * registration (dropped when from another boot; the caller persists) */
int fetchd_ra_add(struct erofs_fetchd *d, struct fetchd_image *img,
		  const char *boot_id, const char *bdi, uint64_t bytes,
		  const char *const *blobs, unsigned int nr_blobs);
void fetchd_ra_check_all(struct erofs_fetchd *d);
void fetchd_ra_free(struct fetchd_image *img);
int fetchd_boot_id(char *out, size_t size);

/* core services for backends and the control socket (fetchd.c) */
/* a blob became complete: from any thread */
void fetchd_note_complete(struct erofs_fetchd *d);
int fetchd_add_image(struct erofs_fetchd *d, struct fetchd_image *img);
void fetchd_remove_image(struct erofs_fetchd *d, struct fetchd_image *img);
/* our pid into @path, atomically */
int fetchd_write_pidfile(const char *path, const struct erofs_log *log);

#endif

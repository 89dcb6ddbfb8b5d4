/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * erofs-convert: a container image (an OCI image layout, a docker-archive
 * tarball or a list of layer tarballs) becomes an OCI image layout holding
 * the original config, one EROFS bootstrap and one chunk blob per layer
 * (the merged form), or one standalone EROFS image per layer (--no-merge).
 * Every input blob is verified against its digest and every uncompressed
 * layer against the config's rootfs.diff_ids while it is read.  The output
 * directory appears whole or not at all.
 */
#ifndef EROFS_CONVERT_H
#define EROFS_CONVERT_H

#include <stdbool.h>
#include <stdint.h>

#include "erofs/log.h"
#include "erofs/util.h"

/* media types of what erofs-convert writes (see man erofs-convert) */
#define EROFS_MT_BOOTSTRAP "application/vnd.erofs.bootstrap.v1"
#define EROFS_MT_BLOB	   "application/vnd.erofs.blob.v1"
#define EROFS_MT_LAYER	   "application/vnd.erofs.layer.v1"

/* annotations on the descriptors erofs-convert writes */
#define EROFS_ANN_PREFIX       "org.erofs."
#define EROFS_ANN_DEVICE_ID    "org.erofs.device-id"
#define EROFS_ANN_DEVICES      "org.erofs.devices"
#define EROFS_ANN_SRC_LAYER    "org.erofs.source.layer"
#define EROFS_ANN_SRC_DIFF_ID  "org.erofs.source.diff-id"
#define EROFS_ANN_SRC_MANIFEST "org.erofs.source.manifest"
#define EROFS_ANN_CHUNK_SIZE   "org.erofs.chunk-size"
#define EROFS_ANN_BLOCK_SIZE   "org.erofs.block-size"
#define EROFS_ANN_FSID	       "org.erofs.fsid"
#define EROFS_ANN_DOMAIN_ID    "org.erofs.domain-id"
#define EROFS_ANN_FORMAT       "org.erofs.format"

struct erofs_convert_progress {
	unsigned int layer; /* 1-based */
	unsigned int nr_layers;
	uint64_t entries;    /* archive entries imported so far */
	uint64_t bytes_read; /* input bytes read (as stored) */
	uint64_t bytes_tar;  /* uncompressed layer bytes */
	bool done;
};

struct erofs_convert_opts {
	/*
	 * DIR or oci:DIR[:REF] (an OCI image layout), FILE or
	 * docker-archive:FILE[:REF] (a docker-archive tarball); NULL when
	 * @layers is used.
	 */
	const char *source;
	const char *const *layers; /* --layers: tarballs in order */
	unsigned int nr_layers;
	const char *outdir;

	const char *platform;	/* "os/arch[/variant]"; NULL: host */
	const char *tag;	/* output ref name (NULL: source's) */
	bool no_merge;		/* one standalone image per layer */
	unsigned int blkszbits; /* 12 unless set */
	uint64_t chunksize;	/* 0: the default (see the man page) */
	const char *fsid;
	const char *domain_id;
	bool have_epoch; /* SOURCE_DATE_EPOCH */
	uint64_t epoch;

	void (*progress)(void *arg, const struct erofs_convert_progress *p);
	void *progress_arg;
	/*
	 * Where the temporary layout directory next to @outdir is recorded
	 * while it exists, for the program to remove on a fatal signal
	 * (erofs_tmpnames_unlink() in erofs/util.h); NULL: not recorded.
	 */
	struct erofs_tmpnames *tmpnames;
};

void erofs_convert_opts_init(struct erofs_convert_opts *o);

struct erofs_convert_layer_result {
	char source_digest[72]; /* "sha256:..." of the input blob, or "" */
	char diff_id[72];	/* of the uncompressed layer */
	uint64_t bytes_read;	/* input bytes as stored */
	uint64_t bytes_tar;	/* uncompressed layer bytes */
	uint64_t entries;
	uint64_t bytes_stored;	/* its blob or image; 0: no blob */
	char output_digest[72]; /* its blob or image, or "" */
};

struct erofs_convert_result {
	unsigned int nr_layers;
	struct erofs_convert_layer_result *layers;
	char manifest_digest[72];  /* the output manifest */
	char bootstrap_digest[72]; /* merged form only */
	uint64_t bootstrap_size;
	uint64_t bytes_read;
	uint64_t bytes_tar;
	uint64_t bytes_data;   /* regular file data in the layers */
	uint64_t bytes_stored; /* bootstrap and blobs (or images) */
	uint64_t bytes_deduplicated;
	uint64_t bytes_zero;
};

/*
 * Converts opts->source (or opts->layers) into the OCI image layout
 * opts->outdir, which must not exist or be an empty directory.  0 or
 * -errno after a message naming the layer and entry; on failure nothing
 * is left at opts->outdir.
 */
int erofs_convert(const struct erofs_convert_opts *opts,
		  struct erofs_convert_result *res,
		  const struct erofs_log *log);

/* the summary as a JSON text (malloc'ed, no trailing newline) */
char *erofs_convert_result_json(const struct erofs_convert_result *res);

void erofs_convert_result_free(struct erofs_convert_result *res);

#endif

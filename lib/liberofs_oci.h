/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Container images, the private side of erofs-convert:
 *   oci_json.c     bounded JSON, and the parsers of OCI index, manifest,
 *                  config and docker-archive manifest.json documents
 *   oci_layout.c   reading an OCI image layout directory
 *   oci_archive.c  reading a docker-archive tarball
 *   oci_digest.c   the verifying layer stream (digest, diff_id, inflate)
 *   oci_write.c    writing the output OCI image layout
 */
#ifndef LIBEROFS_OCI_H
#define LIBEROFS_OCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "erofs/log.h"
#include "erofs/util.h"

struct json_object;

#define EROFS_OCI_JSON_MAX    (4u << 20) /* bytes of one JSON document */
#define EROFS_OCI_JSON_DEPTH  64
#define EROFS_OCI_MAX_LAYERS  1024
#define EROFS_OCI_MAX_ENTRIES 4096			 /* index entries */
#define EROFS_OCI_DIGEST_LEN  (7 + EROFS_SHA256_HEX_LEN) /* sha256:… */

#define EROFS_OCI_REF_ANNOTATION "org.opencontainers.image.ref.name"

#define EROFS_MT_OCI_INDEX    "application/vnd.oci.image.index.v1+json"
#define EROFS_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define EROFS_MT_OCI_CONFIG   "application/vnd.oci.image.config.v1+json"
#define EROFS_MT_DOCKER_LIST                                                   \
	"application/vnd.docker.distribution.manifest.list.v2+json"
#define EROFS_MT_DOCKER_MANIFEST                                               \
	"application/vnd.docker.distribution.manifest.v2+json"
#define EROFS_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"

enum erofs_oci_comp {
	EROFS_OCI_COMP_ANY = 0, /* not declared: detect */
	EROFS_OCI_COMP_NONE,
	EROFS_OCI_COMP_GZIP,
	EROFS_OCI_COMP_ZSTD,
};

struct erofs_oci_platform {
	char *os;
	char *arch;
	char *variant; /* NULL: none */
};

struct erofs_oci_desc {
	char *media_type; /* NULL when the document had none */
	uint8_t digest[EROFS_SHA256_LEN];
	uint64_t size;
	char *ref_name; /* org.opencontainers.image.ref.name */
	bool has_platform;
	struct erofs_oci_platform platform;
};

struct erofs_oci_layer {
	struct erofs_oci_desc desc;
	bool have_digest; /* desc.digest and desc.size are known */
	enum erofs_oci_comp comp;
	bool have_diff_id;
	uint8_t diff_id[EROFS_SHA256_LEN];
	char *path; /* a file (--layers) or archive member */
};

struct erofs_oci_image {
	bool have_manifest;
	struct erofs_oci_desc manifest; /* of the source manifest */
	struct json_object *config;	/* NULL: none (--layers) */
	unsigned int nr_layers;
	struct erofs_oci_layer *layers;
	char *ref; /* the source's tag, or NULL */
	bool have_created;
	int64_t created; /* config "created", seconds */

	/* where the layers are read from */
	int layout_fd; /* an OCI layout directory, or -1 */
	char *archive; /* a docker-archive tarball, or NULL */
};

void erofs_oci_image_init(struct erofs_oci_image *img);
void erofs_oci_image_free(struct erofs_oci_image *img);
void erofs_oci_desc_free(struct erofs_oci_desc *d);
void erofs_oci_platform_free(struct erofs_oci_platform *p);

/* ---- oci_json.c: documents (pure: buffers in, structures out) ---- */

/* "sha256:<64 lowercase hex>"; other algorithms are -ENOTSUP */
int erofs_oci_digest_parse(const char *s, uint8_t out[EROFS_SHA256_LEN]);
void erofs_oci_digest_str(char out[EROFS_OCI_DIGEST_LEN + 1],
			  const uint8_t d[EROFS_SHA256_LEN]);

/* "os/arch[/variant]" */
int erofs_oci_platform_parse(const char *s, struct erofs_oci_platform *p);
/* the platform this program runs on, Go's names (linux/amd64, arm64/v8) */
int erofs_oci_platform_host(struct erofs_oci_platform *p);
/* @want matches @have (a missing wanted variant matches any) */
bool erofs_oci_platform_match(const struct erofs_oci_platform *want,
			      const struct erofs_oci_platform *have);

/* RFC 3339 ("2024-01-02T03:04:05.123Z", "+02:00") to seconds */
int erofs_oci_parse_time(const char *s, int64_t *out);

/*
 * One JSON document of @len bytes (at most EROFS_OCI_JSON_MAX, nesting at
 * most EROFS_OCI_JSON_DEPTH, nothing but white space after it, no NUL);
 * @what names it in messages.  *out is an object, or an array when
 * @array.
 */
int erofs_oci_json_parse(const char *buf, size_t len, bool array,
			 const char *what, struct json_object **out,
			 const struct erofs_log *log);

/* a descriptor object; @what names it in messages */
int erofs_oci_parse_desc(struct json_object *o, const char *what,
			 struct erofs_oci_desc *d, const struct erofs_log *log);

bool erofs_oci_is_index_type(const char *mt);
bool erofs_oci_is_manifest_type(const char *mt);
/* a layer media type we read; 0 and its compression, or -ENOTSUP */
int erofs_oci_layer_type(const char *mt, enum erofs_oci_comp *comp);

/* "schemaVersion" is 2 (an image index or manifest), or -EINVAL */
int erofs_oci_check_schema(struct json_object *root, const char *what,
			   const struct erofs_log *log);

/* the "manifests" of an image index (or index.json) */
int erofs_oci_parse_index(struct json_object *root, const char *what,
			  struct erofs_oci_desc **descs, unsigned int *nr,
			  const struct erofs_log *log);
void erofs_oci_descs_free(struct erofs_oci_desc *descs, unsigned int nr);

/*
 * Picks one of @descs: those tagged @ref when it is set, then the one for
 * @plat among several (index entries with a platform; "unknown" ones, such
 * as attestations, are never picked).  *idx or -ENOENT/-EINVAL after a
 * message listing what there is.
 */
int erofs_oci_select(const struct erofs_oci_desc *descs, unsigned int nr,
		     const char *ref, const struct erofs_oci_platform *plat,
		     const char *what, unsigned int *idx,
		     const struct erofs_log *log);

/* an image manifest: its config descriptor and layers into @img */
int erofs_oci_parse_manifest(struct json_object *root, const char *what,
			     struct erofs_oci_desc *config,
			     struct erofs_oci_image *img,
			     const struct erofs_log *log);

/*
 * An image config: rootfs.diff_ids (as many as @img has layers, or it
 * sets them when @img has none yet and @make_layers), "created"; takes a
 * reference to @root in img->config.
 */
int erofs_oci_parse_config(struct json_object *root, const char *what,
			   bool make_layers, struct erofs_oci_image *img,
			   const struct erofs_log *log);

/*
 * docker-archive manifest.json: the entry tagged @ref (a RepoTags value),
 * or the only one; *config and img->layers[].path are member names.
 */
int erofs_oci_parse_docker_manifest(struct json_object *root, const char *ref,
				    char **config, struct erofs_oci_image *img,
				    const struct erofs_log *log);

/* a layer twice (same digest or diff_id or member): -EINVAL, message */
int erofs_oci_check_duplicates(const struct erofs_oci_image *img,
			       const struct erofs_log *log);

/* ---- oci_layout.c ---- */

/*
 * Opens the OCI image layout @dir and picks the image @ref (or the only
 * one) for @plat: index.json, nested indexes, the manifest and config
 * (each verified against its descriptor); every layer blob must exist
 * with its descriptor's size.
 */
int erofs_oci_layout_open(const char *dir, const char *ref,
			  const struct erofs_oci_platform *plat,
			  struct erofs_oci_image *img,
			  const struct erofs_log *log);

/* reads the blob of @d in @dirfd (at most @max bytes), verified */
int erofs_oci_layout_read_blob(int dirfd, const struct erofs_oci_desc *d,
			       size_t max, const char *what, char **buf,
			       const struct erofs_log *log);

/*
 * An image erofs-convert wrote (see erofs-convert(1), OUTPUT), picked in
 * the layout @dir like erofs_oci_layout_open() picks one, its manifest
 * verified; nothing else is read.  A manifest of another kind (no
 * org.erofs.format annotation, other media types) is -EMEDIUMTYPE after
 * a message.
 */
struct erofs_oci_erofs {
	bool merged; /* else one image per layer */
	struct erofs_oci_desc manifest;
	char *ref;			 /* its tag in index.json, or NULL */
	struct erofs_oci_desc bootstrap; /* merged only */
	/* merged: the blobs in device order; else the layers, bottom first */
	unsigned int nr_parts;
	struct erofs_oci_desc *parts;
	unsigned int block_size; /* merged: the annotation's */
	char *fsid, *domain_id;	 /* merged: annotations, or NULL */
};

int erofs_oci_layout_open_erofs(const char *dir, const char *ref,
				const struct erofs_oci_platform *plat,
				struct erofs_oci_erofs *e,
				const struct erofs_log *log);
void erofs_oci_erofs_free(struct erofs_oci_erofs *e);

/* ---- the byte sources a layer stream reads ---- */

struct erofs_oci_src {
	/* bytes read, 0 at the end, or -errno */
	ssize_t (*read)(void *ctx, void *buf, size_t len);
	void (*close)(void *ctx);
	void *ctx;
};

/* an open file descriptor (closed by src.close) */
void erofs_oci_src_fd(struct erofs_oci_src *src, int fd);

/* layer @i of @img (layout blob, archive member or file) */
int erofs_oci_layer_open(const struct erofs_oci_image *img, unsigned int i,
			 struct erofs_oci_src *src,
			 const struct erofs_log *log);

/* ---- oci_archive.c ---- */

int erofs_oci_archive_open(const char *path, const char *ref,
			   struct erofs_oci_image *img,
			   const struct erofs_log *log);
/* a reader of member @name of the docker-archive @path */
int erofs_oci_archive_member(const char *path, const char *name,
			     struct erofs_oci_src *src,
			     const struct erofs_log *log);

/* ---- oci_digest.c: the verifying layer stream ---- */

struct erofs_oci_verify {
	const char *name;  /* "layer 2/5 (sha256:…)" */
	bool check_digest; /* the input bytes: size and digest */
	uint8_t digest[EROFS_SHA256_LEN];
	uint64_t size;
	bool check_diff_id; /* the uncompressed stream */
	uint8_t diff_id[EROFS_SHA256_LEN];
	enum erofs_oci_comp comp; /* declared compression */
};

struct erofs_oci_stream_stats {
	uint64_t bytes_read;
	uint64_t bytes_tar;
	uint8_t digest[EROFS_SHA256_LEN];
	uint8_t diff_id[EROFS_SHA256_LEN];
};

struct erofs_oci_stream;

/*
 * Starts a thread that reads @src (taking it over), hashes what it reads,
 * decompresses it (gzip, zstd, xz, bzip2, lz4 or none), hashes the
 * uncompressed bytes and writes them to a pipe whose read end is *rfd,
 * the plain tar stream for the importer.
 */
int erofs_oci_stream_start(struct erofs_oci_stream **sp,
			   struct erofs_oci_src *src,
			   const struct erofs_oci_verify *v, int *rfd,
			   const struct erofs_log *log);
/* bytes read from the source and written to the pipe so far */
void erofs_oci_stream_counts(struct erofs_oci_stream *s, uint64_t *read,
			     uint64_t *tar);
/*
 * Ends the stream after the importer is done with *rfd: when @consumed
 * (the import succeeded) the rest of the pipe is drained so the whole
 * layer is hashed; closes rfd, joins the thread, and checks sizes and
 * digests.  0 or -errno after a message naming the layer.  Frees @s.
 */
int erofs_oci_stream_finish(struct erofs_oci_stream *s, int rfd, bool consumed,
			    struct erofs_oci_stream_stats *st);

/* ---- oci_write.c: the output layout ---- */

struct erofs_oci_out;

/*
 * A temporary directory next to @outdir (which must not exist or be
 * empty), recorded in @reg (may be NULL) until it is renamed or removed.
 */
int erofs_oci_out_create(struct erofs_oci_out **op, const char *outdir,
			 struct erofs_tmpnames *reg,
			 const struct erofs_log *log);
/* "TMP/blobs/sha256/.NAME": where a builder writes an output (malloc'ed) */
char *erofs_oci_out_tmpname(struct erofs_oci_out *o, const char *name);
/*
 * Renames the finished file @tmp (from erofs_oci_out_tmpname) to the blob
 * named by @digest; a blob already there with that digest stays.
 */
int erofs_oci_out_adopt(struct erofs_oci_out *o, const char *tmp,
			const uint8_t digest[EROFS_SHA256_LEN]);
/* writes @len bytes of @buf as a blob; its digest into @digest */
int erofs_oci_out_blob(struct erofs_oci_out *o, const void *buf, size_t len,
		       uint8_t digest[EROFS_SHA256_LEN]);
/*
 * Writes oci-layout and index.json (one manifest, tagged @tag when set)
 * and renames the directory into place.
 */
int erofs_oci_out_commit(struct erofs_oci_out *o,
			 const uint8_t manifest[EROFS_SHA256_LEN],
			 uint64_t manifest_size, const char *tag);
/* removes the temporary directory (when not committed) and frees */
void erofs_oci_out_destroy(struct erofs_oci_out *o);

/* a JSON value as the compact, deterministic text blobs hold */
const char *erofs_oci_json_text(struct json_object *o, size_t *len);

/*
 * The config of the converted image: a copy of @img's (or a minimal one
 * for --layers, for @plat) with rootfs.diff_ids set to @diff_ids and one
 * history entry per output layer appended (@created_by each), the old
 * ones marked empty_layer when @hide_history.
 */
int erofs_oci_out_config(const struct erofs_oci_image *img,
			 const struct erofs_oci_platform *plat,
			 const uint8_t (*diff_ids)[EROFS_SHA256_LEN],
			 char *const *created_by, unsigned int nr,
			 bool hide_history, struct json_object **out,
			 const struct erofs_log *log);

#endif

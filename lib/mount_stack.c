// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * erofs-mount of an OCI layout of standalone layers (erofs-convert
 * --no-merge): each layer is one EROFS image holding its metadata and its
 * file data.  The daemon serves every layer as a blob of one image (one
 * daemon image per stack, named by the mount point); each layer is mounted
 * on CACHE/stacks/ID/N and the layers are stacked read-only by overlayfs
 * (lowerdir given as paths, which every kernel with file-backed or
 * cachefiles EROFS takes).  A stack of one layer is that layer's mount.
 *
 * cachefiles: the layer is the primary device of an fsid=LAYER-DIGEST
 * mount; the kernel reads its metadata and data through the daemon.
 *
 * fanotify: EROFS reads metadata through the backing file's page cache,
 * which raises no pre-content event (a sparse image would read zeros), and
 * data through read_iter, which does.  So before the mount every byte of
 * the layer that is not a regular file's data is read through the marked
 * file (the daemon fills it); what stays missing is file data only.
 *
 * full: each layer fetched whole and its SHA-256 checked, then mounted.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "erofs/fetchd.h"
#include "erofs/util.h"
#include "liberofs_mount.h"

/* block size the manifest states; a layer's own may differ (unused) */
#define STACK_MANIFEST_BLKSZ 4096u

/* without --source, layer @i must be in the layout, whole */
static int layer_in_layout(struct mount_job *j, unsigned int i)
{
	const struct erofs_manifest_blob *b = &j->m.blobs[i];
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", j->oci_blobdir, b->tag);
	if (stat(path, &st))
		return erofs_fail(j->log, -errno,
				  "%s: layer %u/%u (sha256:%s) is not in the "
				  "layout (%s); give --source where it is",
				  j->o->image, i + 1, j->m.nr_blobs, b->tag,
				  strerror(errno));
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != b->size)
		return erofs_fail(j->log, -EINVAL,
				  "%s: layer sha256:%s in the layout is not a "
				  "file of %" PRIu64 " bytes",
				  j->o->image, b->tag, b->size);
	return 0;
}

int erofs_mount_stack_manifest(struct mount_job *j)
{
	struct erofs_manifest *m = &j->m;
	char hex[EROFS_SHA256_HEX_LEN + 1];

	if (!j->oci.nr_parts)
		return erofs_fail(j->log, -EINVAL, "%s: no layers",
				  j->o->image);
	memset(m, 0, sizeof(*m));
	j->have_m = true;
	/*
	 * No fsid: no bootstrap is served, every layer is a blob, looked up
	 * by its digest (the cachefiles fsid of its mount, or the name of
	 * its sparse file in CACHE/blobs/).  The bottom layer stands in as
	 * the bootstrap the manifest format wants.
	 */
	erofs_hex(hex, j->oci.parts[0].digest, EROFS_SHA256_LEN);
	m->bootstrap_path = strdup(hex);
	m->bootstrap_size = j->oci.parts[0].size;
	memcpy(m->bootstrap_sha256, hex, sizeof(hex));
	m->block_size = STACK_MANIFEST_BLKSZ;
	m->nr_blobs = j->oci.nr_parts;
	m->blobs = calloc(m->nr_blobs + 1, sizeof(*m->blobs));
	if (!m->bootstrap_path || !m->blobs)
		return erofs_err(j->log, -ENOMEM, "%s", j->o->image);
	for (unsigned int i = 0; i < m->nr_blobs; i++) {
		struct erofs_manifest_blob *b = &m->blobs[i];

		erofs_hex(hex, j->oci.parts[i].digest, EROFS_SHA256_LEN);
		for (unsigned int k = 0; k < i; k++)
			if (!strcmp(m->blobs[k].tag, hex))
				return erofs_fail(
				    j->log, -EINVAL,
				    "%s: layers %u and %u are the same "
				    "image (sha256:%s): a stack cannot mount "
				    "it twice",
				    j->o->image, k + 1, i + 1, hex);
		b->device_id = i + 1;
		memcpy(b->tag, hex, sizeof(hex));
		memcpy(b->sha256, hex, sizeof(hex));
		b->size = j->oci.parts[i].size;
		b->blocks = erofs_div_round_up(b->size, STACK_MANIFEST_BLKSZ);
		b->path = strdup(hex);
		if (!b->path)
			return erofs_err(j->log, -ENOMEM, "%s", j->o->image);
		if (!j->o->nr_sources) {
			int err = layer_in_layout(j, i);

			if (err)
				return err;
		}
	}
	return erofs_mount_save_manifest(j);
}

/* ------------------------------------------------------------------ */
/* file data extents of a standalone image                             */

struct extents {
	struct {
		uint64_t start, end;
	} * v;
	size_t nr, cap;
	bool whole; /* a layout we do not map: prime everything */
};

static int ext_add(struct extents *e, uint64_t start, uint64_t len)
{
	if (!len)
		return 0;
	if (e->nr == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 256;
		void *v = realloc(e->v, cap * sizeof(*e->v));

		if (!v)
			return -ENOMEM;
		e->v = v;
		e->cap = cap;
	}
	e->v[e->nr].start = start;
	e->v[e->nr].end = start + len;
	e->nr++;
	return 0;
}

/*
 * The byte ranges of the image that hold regular file @ri's data, read by
 * EROFS through read_iter (an inline tail is metadata: not among them).
 */
static int file_extents(const struct erofs_image *img,
			const struct erofs_rinode *ri, struct extents *e)
{
	uint64_t size = ri->di.size, bs = img->blksz;
	uint64_t nblk = erofs_div_round_up(size, bs);

	if (!size)
		return 0;
	switch (ri->di.datalayout) {
	case EROFS_INODE_FLAT_PLAIN:
		return ext_add(e, (uint64_t)ri->di.i_u * bs, nblk * bs);
	case EROFS_INODE_FLAT_INLINE:
		return nblk > 1 ? ext_add(e, (uint64_t)ri->di.i_u * bs,
					  (nblk - 1) * bs)
				: 0;
	case EROFS_INODE_CHUNK_BASED: {
		uint64_t csz = 1ull << ri->chunkbits;

		for (uint64_t c = 0; c < ri->nr_chunks; c++) {
			struct erofs_chunk_idx ci;
			uint64_t len = size - c * csz;
			int err = erofs_image_read_chunk(img, ri, c, &ci);

			if (err)
				return err;
			if (ci.blkaddr == EROFS_NULL_ADDR)
				continue;
			if (ci.device_id)
				return -EINVAL; /* not standalone */
			if (len > csz)
				len = csz;
			err = ext_add(e, (uint64_t)ci.blkaddr * bs,
				      erofs_div_round_up(len, bs) * bs);
			if (err)
				return err;
		}
		return 0;
	}
	default:
		e->whole = true;
		return 0;
	}
}

struct walk {
	const struct erofs_image *img;
	uint64_t *stack; /* nids still to visit */
	size_t nr, cap;
	uint8_t *seen; /* a bit per nid */
	uint64_t max_nid;
};

static int walk_cb(void *arg, const char *name, unsigned int namelen,
		   uint64_t nid, unsigned int file_type)
{
	struct walk *w = arg;

	if ((namelen == 1 && name[0] == '.') ||
	    (namelen == 2 && name[0] == '.' && name[1] == '.'))
		return 0;
	if (nid >= w->max_nid)
		return -EFSCORRUPTED;
	if (w->seen[nid >> 3] & (1u << (nid & 7)))
		return 0;
	w->seen[nid >> 3] |= 1u << (nid & 7);
	if (w->nr == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 1024;
		uint64_t *v = realloc(w->stack, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		w->stack = v;
		w->cap = cap;
	}
	w->stack[w->nr++] = nid;
	return 0;
}

/* every inode reachable from the root: the data extents of its files */
static int image_extents(const struct erofs_image *img, struct extents *e)
{
	struct walk w = {.img = img};
	int err;

	w.max_nid = img->size / 32 + 1;
	w.seen = calloc(w.max_nid / 8 + 1, 1);
	if (!w.seen)
		return -ENOMEM;
	err = walk_cb(&w, "/", 1, img->sb.root_nid, 0);
	while (!err && w.nr && !e->whole) {
		struct erofs_rinode ri;

		err = erofs_image_read_inode(img, w.stack[--w.nr], &ri);
		if (err)
			break;
		if (S_ISDIR(ri.di.mode)) {
			err = erofs_image_iterate_dir(img, &ri, walk_cb, &w);
			if (err > 0)
				err = 0;
		} else if (S_ISREG(ri.di.mode)) {
			err = file_extents(img, &ri, e);
		}
	}
	free(w.stack);
	free(w.seen);
	return err;
}

static int ext_cmp(const void *a, const void *b)
{
	const uint64_t *x = a, *y = b;

	return *x < *y ? -1 : *x > *y;
}

/* read [start, end) of @fd: the daemon fills what is missing */
static int read_range(int fd, uint64_t start, uint64_t end, char *buf,
		      size_t bufsz)
{
	while (start < end) {
		size_t n = end - start < bufsz ? end - start : bufsz;
		ssize_t r = pread(fd, buf, n, start);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r < 0 ? -errno : -EIO;
		start += r;
	}
	return 0;
}

static int prime_layer(struct mount_job *j, unsigned int i, const char *path)
{
	struct extents e = {0};
	struct erofs_image img;
	size_t bufsz = 1 << 20;
	char *buf = malloc(bufsz);
	uint64_t pos = 0, primed = 0;
	int fd = -1, err;

	if (!buf)
		return erofs_err(j->log, -ENOMEM, "%s", path);
	err = erofs_image_open(&img, path, j->log);
	if (err) {
		free(buf);
		return err;
	}
	if (img.nr_devices)
		err = erofs_fail(j->log, -EINVAL,
				 "%s: layer %u has %u blob devices: not a "
				 "standalone layer",
				 j->o->image, i + 1, img.nr_devices);
	if (!err) {
		err = image_extents(&img, &e);
		if (err)
			err = erofs_err(j->log, err, "%s: layer %u (%s)",
					j->o->image, i + 1, path);
	}
	if (!err && e.whole) {
		e.nr = 0;
		erofs_warn(j->log,
			   "%s: layer %u has files of a layout not mapped "
			   "here (compressed?): fetched whole",
			   j->o->image, i + 1);
	}
	if (!err) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			err = erofs_err(j->log, -errno, "%s", path);
	}
	if (!err)
		qsort(e.v, e.nr, sizeof(*e.v), ext_cmp);
	/* everything between the extents */
	for (size_t k = 0; !err && k <= e.nr; k++) {
		uint64_t end = k < e.nr ? e.v[k].start : img.size;

		if (end > img.size)
			end = img.size;
		if (end > pos) {
			err = read_range(fd, pos, end, buf, bufsz);
			if (err)
				err = erofs_err(j->log, err,
						"%s: reading the metadata of "
						"layer %u",
						path, i + 1);
			primed += end - pos;
		}
		if (k < e.nr && e.v[k].end > pos)
			pos = e.v[k].end;
	}
	if (fd >= 0)
		close(fd);
	erofs_image_close(&img);
	free(e.v);
	free(buf);
	return err;
}

int erofs_mount_stack_prime(struct mount_job *j)
{
	for (unsigned int i = 0; i < j->m.nr_blobs; i++) {
		char path[PATH_MAX];
		int err;

		snprintf(path, sizeof(path), "%s/%s/%s", j->cache_dir,
			 EROFS_FETCHD_BLOB_DIR, j->m.blobs[i].tag);
		err = prime_layer(j, i, path);
		if (err)
			return err;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* the mounts                                                          */

static int mount_layer(struct mount_job *j, unsigned int i, const char *dir)
{
	const struct erofs_manifest_blob *b = &j->m.blobs[i];
	char src[PATH_MAX + 80], *data = NULL;
	int err = 0;

	switch (j->backend) {
	case MB_CACHEFILES:
		if (asprintf(&data, "fsid=%s", b->tag) < 0)
			return erofs_err(j->log, -ENOMEM, "mount options");
		snprintf(src, sizeof(src), "erofs");
		break;
	case MB_FANOTIFY:
		snprintf(src, sizeof(src), "%s/%s/%s", j->cache_dir,
			 EROFS_FETCHD_BLOB_DIR, b->tag);
		break;
	case MB_FULL: {
		const char *srcs[EROFS_MOUNT_MAX_SOURCES];
		unsigned int nr = erofs_mount_oci_srcs(j, b->tag, srcs);

		snprintf(src, sizeof(src), "%s/layers", j->cache_dir);
		err = erofs_mount_mkdir_p(src, j->log);
		snprintf(src, sizeof(src), "%s/layers/%s.img", j->cache_dir,
			 b->tag);
		if (!err)
			err = erofs_mount_fetch_whole(j, srcs, nr, b->path,
						      b->size, b->sha256, src);
		if (err)
			return err;
		break;
	}
	}
	if (mount(src, dir, "erofs", MS_RDONLY, data))
		err = erofs_err(j->log, -errno,
				"mount layer %u/%u (sha256:%s) "
				"on %s",
				i + 1, j->m.nr_blobs, b->tag, dir);
	else if (erofs_mount_tune_readahead(j, dir, b->tag))
		/* a tuning, never fatal */
		erofs_warn(j->log,
			   "%s: the kernel's read-ahead window is "
			   "left as it was",
			   dir);
	free(data);
	return err;
}

int erofs_mount_stack_release(const char *stackdir, unsigned int nr_layers,
			      const struct erofs_log *log)
{
	char dir[PATH_MAX];
	int err = 0;

	for (unsigned int i = nr_layers; i-- > 0;) {
		snprintf(dir, sizeof(dir), "%s/%u", stackdir, i + 1);
		if (umount2(dir, 0) && errno != EINVAL && errno != ENOENT) {
			err = erofs_err(log, -errno, "umount layer %u (%s)%s",
					i + 1, dir,
					errno == EBUSY ? ": still in use" : "");
			continue;
		}
		rmdir(dir);
	}
	if (!err && rmdir(stackdir) && errno != ENOENT)
		err = erofs_err(log, -errno, "%s", stackdir);
	return err;
}

/* "lowerdir=TOP:...:BOTTOM" of the layer mounts */
static char *overlay_options(struct mount_job *j)
{
	size_t cap = 64 + (size_t)j->m.nr_blobs * (strlen(j->stackdir) + 16);
	char *data = malloc(cap);
	size_t n;

	if (!data)
		return NULL;
	n = snprintf(data, cap, "lowerdir=");
	for (unsigned int i = j->m.nr_blobs; i-- > 0;)
		n += snprintf(data + n, cap - n, "%s%s/%u",
			      i + 1 == j->m.nr_blobs ? "" : ":", j->stackdir,
			      i + 1);
	/* inode numbers of different layers never collide */
	snprintf(data + n, cap - n, ",xino=on");
	return data;
}

int erofs_mount_stack(struct mount_job *j)
{
	unsigned int n = j->m.nr_blobs, done = 0;
	char *h = erofs_mount_hash_name(j->mnt), *data = NULL;
	long pagesz = sysconf(_SC_PAGESIZE);
	int err = 0;

	if (!h)
		return erofs_err(j->log, -ENOMEM, "stack");
	if (n == 1) {
		/* one layer: its mount is the stack */
		free(h);
		return mount_layer(j, 0, j->mnt);
	}
	if (strpbrk(j->cache_dir, ":,\\")) {
		free(h);
		return erofs_fail(j->log, -EINVAL,
				  "--cache-dir %s: a stack of layers needs a "
				  "path without ':', ',' or '\\' (overlayfs "
				  "options name the layers)",
				  j->cache_dir);
	}
	h[16] = '\0';
	if (asprintf(&j->stackdir, "%s/stacks/%s", j->cache_dir, h) < 0)
		j->stackdir = NULL;
	free(h);
	if (!j->stackdir)
		return erofs_err(j->log, -ENOMEM, "stack");
	data = overlay_options(j);
	if (!data)
		return erofs_err(j->log, -ENOMEM, "stack");
	if (strlen(data) >= (size_t)(pagesz > 0 ? pagesz : 4096)) {
		err = erofs_fail(j->log, -E2BIG,
				 "%s: %u layers under %s make overlayfs "
				 "options longer than a page",
				 j->o->image, n, j->cache_dir);
		free(data);
		return err;
	}
	for (; !err && done < n; done++) {
		char dir[PATH_MAX];

		snprintf(dir, sizeof(dir), "%s/%u", j->stackdir, done + 1);
		err = erofs_mount_mkdir_p(dir, j->log);
		if (!err)
			err = mount_layer(j, done, dir);
		if (err)
			rmdir(dir);
	}
	if (!err && mount("erofs-mount", j->mnt, "overlay", MS_RDONLY, data))
		err = erofs_err(j->log, -errno, "overlayfs of %u layers on %s",
				n, j->mnt);
	free(data);
	/* on failure what was mounted goes: nothing of the stack stays */
	if (err)
		erofs_mount_stack_release(j->stackdir, done, j->log);
	return err;
}

/* ------------------------------------------------------------------ */
/* --prefetch-list: the layer that provides a path                     */

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && !major(st->st_rdev) &&
	       !minor(st->st_rdev);
}

static bool is_opaque(const char *path)
{
	char v[2];

	return lgetxattr(path, "trusted.overlay.opaque", v, sizeof(v)) == 1 &&
	       v[0] == 'y';
}

/*
 * The layer (0-based) whose regular file @rel is, as overlayfs shows it:
 * the topmost layer having it, a whiteout or an opaque directory on the
 * way hiding what is below; -ENOENT when none.
 */
static int provider(struct mount_job *j, const char *rel)
{
	for (unsigned int i = j->m.nr_blobs; i-- > 0;) {
		char path[PATH_MAX];
		size_t root;
		const char *p = rel;
		struct stat st;
		bool opaque = false;

		if (j->m.nr_blobs == 1)
			root = snprintf(path, sizeof(path), "%s", j->mnt);
		else
			root = snprintf(path, sizeof(path), "%s/%u",
					j->stackdir, i + 1);
		if (root >= sizeof(path))
			return -ENAMETOOLONG;
		/* each component in turn */
		for (;;) {
			size_t len;

			while (*p == '/')
				p++;
			if (!*p)
				break;
			len = strcspn(p, "/");
			if (root + 1 + len >= sizeof(path))
				return -ENAMETOOLONG;
			path[root++] = '/';
			memcpy(path + root, p, len);
			root += len;
			path[root] = '\0';
			p += len;
			if (lstat(path, &st)) {
				if (errno != ENOENT)
					return -errno;
				/* not in this layer; below, unless hidden */
				if (opaque)
					return -ENOENT;
				goto next;
			}
			if (is_whiteout(&st))
				return -ENOENT;
			while (*p == '/')
				p++;
			if (!*p)
				return S_ISREG(st.st_mode) ? (int)i : -ENOENT;
			if (!S_ISDIR(st.st_mode))
				return -ENOENT;
			if (is_opaque(path))
				opaque = true;
		}
		return -ENOENT; /* the root itself */
	next:;
	}
	return -ENOENT;
}

int erofs_mount_stack_prefetch_list(struct mount_job *j)
{
	char line[PATH_MAX + 2], *id;
	FILE *f;
	unsigned int files = 0;
	int err = 0;

	if (j->backend != MB_FANOTIFY) {
		erofs_warn(j->log,
			   "--prefetch-list: a stack of layers maps paths to "
			   "ranges on the fanotify backend only; ignored");
		return 0;
	}
	f = fopen(j->o->prefetch_list, "r");
	if (!f)
		return erofs_err(j->log, -errno, "--prefetch-list %s",
				 j->o->prefetch_list);
	id = erofs_fetchd_ctl_quote(j->mnt);
	while (!err && id && fgets(line, sizeof(line), f)) {
		const struct erofs_manifest_blob *b;
		struct erofs_image img;
		struct erofs_rinode ri;
		struct extents e = {0};
		struct mount_prefetch_req req;
		char path[PATH_MAX];
		int k;

		line[strcspn(line, "\n")] = '\0';
		if (!*line)
			continue;
		k = provider(j, line);
		if (k < 0) {
			erofs_warn(j->log,
				   "--prefetch-list: %s: no regular file of "
				   "the stack; skipped",
				   line);
			continue;
		}
		b = &j->m.blobs[k];
		snprintf(path, sizeof(path), "%s/%s/%s", j->cache_dir,
			 EROFS_FETCHD_BLOB_DIR, b->tag);
		err = erofs_image_open(&img, path, j->log);
		if (err)
			break;
		if (erofs_mount_resolve_path(&img, line, &ri) ||
		    !S_ISREG(ri.di.mode) || file_extents(&img, &ri, &e) ||
		    e.whole) {
			erofs_warn(j->log,
				   "--prefetch-list: %s: not mapped in layer "
				   "%d; skipped",
				   line, k + 1);
			erofs_image_close(&img);
			free(e.v);
			continue;
		}
		erofs_image_close(&img);
		erofs_mount_prefetch_start(&req, id);
		for (size_t x = 0; !err && x < e.nr; x++)
			err = erofs_mount_prefetch_add(
			    j, &req, b->tag, e.v[x].start,
			    e.v[x].end - e.v[x].start);
		if (!err)
			err = erofs_mount_prefetch_flush(j, &req);
		free(e.v);
		files++;
	}
	free(id);
	fclose(f);
	return erofs_mount_prefetch_said(j, files, err);
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * erofs-mount: image resolution (manifest, bootstrap, an OCI layout
 * erofs-convert wrote), bootstrap fetch with its SHA-256 checked, backend
 * choice, daemon start or reuse through its control socket, mount(2) in the
 * right order, --no-merge layers stacked by overlayfs, unmount, listing,
 * and the chunk ranges of a prefetch list.  See erofs/mount.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "erofs/fetchd.h"
#include "erofs/manifest.h"
#include "erofs/mount.h"
#include "erofs/reader.h"
#include "erofs/util.h"
#include "liberofs_fanotify.h"
#include "liberofs_mount.h"
#include "liberofs_oci.h"

const char *const erofs_mount_backend_names[] = {"fanotify", "cachefiles",
						 "full"};
#define mb_names erofs_mount_backend_names

void erofs_mount_opts_init(struct erofs_mount_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->backend = "auto";
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
/* image                                                               */

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
 * against the bootstrap once it is here, oci_finish()); --no-merge: a
 * manifest naming the layers (mount_stack.c).
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
static int oci_finish(struct mount_job *j)
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
static int load_image(struct mount_job *j)
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

/* ------------------------------------------------------------------ */
/* fetching whole objects (bootstrap, or every blob for a full fetch)  */

int erofs_mount_fetch_whole(struct mount_job *j, const char *const *srcs,
			    unsigned int nr_srcs, const char *path,
			    uint64_t size, const char *sha256, const char *dest)
{
	uint8_t md[EROFS_SHA256_LEN];
	char hex[EROFS_SHA256_HEX_LEN + 1];
	size_t bufsz = 1 << 20;
	char *buf = malloc(bufsz);
	int err = -ENOENT;

	if (!buf)
		return erofs_err(j->log, -ENOMEM, "%s", dest);
	/* already here and right? */
	{
		int fd = open(dest, O_RDONLY | O_CLOEXEC);
		struct stat st;

		if (fd >= 0 && !fstat(fd, &st) &&
		    (uint64_t)st.st_size == size &&
		    !erofs_sha256_fd(fd, size, md)) {
			erofs_hex(hex, md, sizeof(md));
			if (!strcmp(hex, sha256)) {
				close(fd);
				free(buf);
				return 0;
			}
		}
		if (fd >= 0)
			close(fd);
	}
	for (unsigned int s = 0; s < nr_srcs && err; s++) {
		struct erofs_source *src;
		struct erofs_outfile of;
		EVP_MD_CTX *ctx;
		uint64_t off = 0;

		err = erofs_source_open(srcs[s], &j->o->http, j->log, &src);
		if (err)
			continue;
		err = erofs_outfile_open(&of, dest, j->log);
		if (err) {
			erofs_source_destroy(src);
			break;
		}
		ctx = EVP_MD_CTX_new();
		EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
		while (!err && off < size) {
			size_t n = size - off < bufsz ? size - off : bufsz;

			err = src->ops->read(src, path, off, n, buf);
			if (!err)
				err = erofs_write_all(of.fd, buf, n);
			EVP_DigestUpdate(ctx, buf, n);
			off += n;
		}
		EVP_DigestFinal_ex(ctx, md, NULL);
		EVP_MD_CTX_free(ctx);
		erofs_hex(hex, md, sizeof(md));
		if (!err && strcmp(hex, sha256))
			err = erofs_fail(j->log, -EBADMSG,
					 "%s from %s: SHA-256 %s, the manifest "
					 "says %s",
					 path, srcs[s], hex, sha256);
		if (err) {
			erofs_outfile_abort(&of);
			if (err != -EBADMSG)
				erofs_err(j->log, err, "%s from %s", path,
					  srcs[s]);
		} else {
			err = erofs_outfile_commit(&of, j->log);
		}
		erofs_source_destroy(src);
	}
	free(buf);
	return err;
}

/*
 * An OCI layout's own blobs directory when it holds @hex (the layout is
 * local: no point asking a server for what is next to its index), else
 * the sources.
 */
unsigned int erofs_mount_oci_srcs(struct mount_job *j, const char *hex,
				  const char **srcs)
{
	char path[PATH_MAX];

	if (j->is_oci &&
	    (size_t)snprintf(path, sizeof(path), "%s/%s", j->oci_blobdir, hex) <
		sizeof(path) &&
	    !access(path, F_OK)) {
		srcs[0] = j->oci_blobdir;
		return 1;
	}
	memcpy(srcs, j->srcs, j->nr_srcs * sizeof(*srcs));
	return j->nr_srcs;
}

static int fetch_bootstrap(struct mount_job *j)
{
	const char *srcs[EROFS_MOUNT_MAX_SOURCES];
	unsigned int nr;
	char *dest;
	int err;

	if (j->bootstrap)
		return 0; /* given as IMAGE: local already */
	nr = erofs_mount_oci_srcs(j, j->m.bootstrap_sha256, srcs);
	if (asprintf(&dest, "%s/bootstrap/%s.img", j->cache_dir,
		     j->m.bootstrap_sha256) < 0)
		return erofs_err(j->log, -ENOMEM, "bootstrap");
	err = erofs_mount_mkdir_p(dirname(strdupa(dest)), j->log);
	if (!err)
		err = erofs_mount_fetch_whole(j, srcs, nr, j->m.bootstrap_path,
					      j->m.bootstrap_size,
					      j->m.bootstrap_sha256, dest);
	if (err) {
		free(dest);
		return err;
	}
	j->bootstrap = dest;
	return 0;
}

/* ------------------------------------------------------------------ */
/* the daemon                                                          */

static char *find_fetchd(const struct erofs_mount_opts *o)
{
	char self[PATH_MAX], *p;
	ssize_t n;

	if (o->fetchd)
		return strdup(o->fetchd);
	n = readlink("/proc/self/exe", self, sizeof(self) - 32);
	if (n > 0) {
		self[n] = '\0';
		p = strrchr(self, '/');
		strcpy(p + 1, "erofs-fetchd");
		if (!access(self, X_OK))
			return strdup(self);
	}
	return strdup("erofs-fetchd");
}

static int ctl(struct mount_job *j, const char *req, char **reply)
{
	return erofs_fetchd_ctl_call(j->cache_dir, req, reply, j->log);
}

/* a daemon serving the cache dir with our backend, started if needed */
static int ensure_daemon(struct mount_job *j)
{
	char *reply = NULL, *fetchd, *logpath;
	pid_t pid;
	int status, err = ctl(j, "list", &reply);

	free(reply);
	if (!err) {
		fprintf(j->out, "erofs-mount: reusing the erofs-fetchd of %s\n",
			j->cache_dir);
		return 0;
	}
	fetchd = find_fetchd(j->o);
	if (!fetchd ||
	    asprintf(&logpath, "%s/erofs-fetchd.log", j->cache_dir) < 0) {
		free(fetchd);
		return erofs_err(j->log, -ENOMEM, "daemon");
	}
	pid = fork();
	if (pid < 0) {
		err = erofs_err(j->log, -errno, "fork");
	} else if (!pid) {
		/* a grandchild in a session of its own: not our child */
		int fd;

		if (fork())
			_exit(0);
		setsid();
		fd = open("/dev/null", O_RDONLY);
		dup2(fd, 0);
		fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		if (chdir("/")) {
			/* the daemon never depends on its cwd */
		}
		execlp(fetchd, fetchd, "--supervise", "--backend",
		       mb_names[j->backend], "--cache-dir", j->cache_dir,
		       "--control", "--exit-when-idle", (char *)NULL);
		_exit(127);
	} else {
		waitpid(pid, &status, 0);
		err = -ETIMEDOUT;
		/* up to 20 s for its control socket */
		for (int i = 0; i < 200 && err; i++) {
			struct timespec ts = {0, 100000000};

			err = ctl(j, "list", &reply);
			free(reply);
			reply = NULL;
			if (err)
				nanosleep(&ts, NULL);
		}
		if (err)
			erofs_fail(j->log, err,
				   "erofs-fetchd (%s) did not come up for "
				   "%s: see %s",
				   fetchd, j->cache_dir, logpath);
		else
			fprintf(j->out,
				"erofs-mount: started erofs-fetchd for %s "
				"(log %s)\n",
				j->cache_dir, logpath);
	}
	free(fetchd);
	free(logpath);
	return err;
}

/* "ok..." → 0; "err N text" → -N with the text logged */
static int ctl_result(struct mount_job *j, const char *what, char *reply)
{
	int e;

	if (!strncmp(reply, "ok", 2))
		return 0;
	e = atoi(reply + 4 > reply + strlen(reply) ? "" : reply + 4);
	erofs_fail(j->log, e > 0 ? -e : -EIO, "%s: %s", what, reply);
	return e > 0 ? -e : -EIO;
}

int erofs_mount_ctl_fmt(struct mount_job *j, const char *what, const char *fmt,
			...)
{
	char *req, *reply;
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = vasprintf(&req, fmt, ap);
	va_end(ap);
	if (err < 0)
		return erofs_err(j->log, -ENOMEM, "%s", what);
	err = ctl(j, req, &reply);
	free(req);
	if (err)
		return erofs_err(j->log, err, "%s", what);
	err = ctl_result(j, what, reply);
	free(reply);
	return err;
}

static int add_image(struct mount_job *j)
{
	char *id = erofs_fetchd_ctl_quote(j->mnt);
	char *man = erofs_fetchd_ctl_quote(j->manifest_path);
	char req[EROFS_FETCHD_CTL_MAX];
	size_t n;
	int err;

	if (!id || !man) {
		free(id);
		free(man);
		return erofs_err(j->log, -ENOMEM, "request");
	}
	n = snprintf(req, sizeof(req), "add %s %s", id, man);
	free(id);
	free(man);
	if (j->boot_src) {
		char *s = erofs_fetchd_ctl_quote(j->boot_src);

		if (!s)
			return erofs_err(j->log, -ENOMEM, "request");
		n += snprintf(req + n, sizeof(req) - n, " %s", s);
		free(s);
	}
	for (unsigned int i = 0; i < j->nr_srcs && n < sizeof(req); i++) {
		char *s = erofs_fetchd_ctl_quote(j->srcs[i]);

		if (!s)
			return erofs_err(j->log, -ENOMEM, "request");
		n += snprintf(req + n, sizeof(req) - n, " %s", s);
		free(s);
	}
	if (n >= sizeof(req))
		return erofs_err(j->log, -E2BIG, "request");
	err = erofs_mount_ctl_fmt(j, "registering the image with erofs-fetchd",
				  "%s", req);
	return err;
}

static void del_image(struct mount_job *j)
{
	char *id = erofs_fetchd_ctl_quote(j->mnt);

	if (id)
		erofs_mount_ctl_fmt(j, "releasing the image", "del %s", id);
	free(id);
}

/* ------------------------------------------------------------------ */
/* prefetch list: chunk ranges of the files named                      */

struct lookup {
	const char *name;
	size_t len;
	uint64_t nid;
	bool found;
};

static int lookup_cb(void *arg, const char *name, unsigned int namelen,
		     uint64_t nid, unsigned int file_type)
{
	struct lookup *l = arg;

	if (namelen == l->len && !memcmp(name, l->name, namelen)) {
		l->nid = nid;
		l->found = true;
		return 1;
	}
	return 0;
}

int erofs_mount_resolve_path(const struct erofs_image *img, const char *path,
			     struct erofs_rinode *ri)
{
	uint64_t nid = img->sb.root_nid;
	const char *p = path;
	int err = erofs_image_read_inode(img, nid, ri);

	while (!err && *p) {
		struct lookup l;

		while (*p == '/')
			p++;
		if (!*p)
			break;
		l.name = p;
		l.len = strcspn(p, "/");
		l.found = false;
		p += l.len;
		if (!S_ISDIR(ri->di.mode))
			return -ENOTDIR;
		err = erofs_image_iterate_dir(img, ri, lookup_cb, &l);
		if (err < 0)
			return err;
		if (!l.found)
			return -ENOENT;
		err = erofs_image_read_inode(img, l.nid, ri);
	}
	return err;
}

static int prefetch_list(struct mount_job *j)
{
	struct erofs_image img;
	char line[PATH_MAX + 2], *id;
	FILE *f = fopen(j->o->prefetch_list, "r");
	unsigned int files = 0;
	int err;

	if (!f)
		return erofs_err(j->log, -errno, "--prefetch-list %s",
				 j->o->prefetch_list);
	err = erofs_image_open(&img, j->bootstrap, j->log);
	if (err) {
		fclose(f);
		return err;
	}
	id = erofs_fetchd_ctl_quote(j->mnt);
	while (!err && id && fgets(line, sizeof(line), f)) {
		struct erofs_rinode ri;
		char req[8192];
		size_t n;
		uint64_t csz;

		line[strcspn(line, "\n")] = '\0';
		if (!*line)
			continue;
		if (erofs_mount_resolve_path(&img, line, &ri) ||
		    !S_ISREG(ri.di.mode) ||
		    ri.di.datalayout != EROFS_INODE_CHUNK_BASED) {
			erofs_warn(j->log,
				   "--prefetch-list: %s: no chunked "
				   "file of the image; skipped",
				   line);
			continue;
		}
		csz = 1ull << ri.chunkbits;
		n = snprintf(req, sizeof(req), "prefetch %s", id);
		const struct erofs_manifest_blob *pb = NULL;
		uint64_t poff = 0, plen = 0;

		for (uint64_t c = 0; c <= ri.nr_chunks && !err; c++) {
			struct erofs_chunk_idx ci;
			const struct erofs_manifest_blob *b = NULL;
			uint64_t len = ri.di.size - c * csz;

			if (c < ri.nr_chunks &&
			    !erofs_image_read_chunk(&img, &ri, c, &ci) &&
			    ci.blkaddr != EROFS_NULL_ADDR)
				for (unsigned int k = 0; k < j->m.nr_blobs; k++)
					if (j->m.blobs[k].device_id ==
					    ci.device_id)
						b = &j->m.blobs[k];
			if (len > csz)
				len = csz;
			/* one range for chunks that follow each other */
			if (b && b == pb &&
			    (uint64_t)ci.blkaddr * img.blksz == poff + plen) {
				plen += len;
				continue;
			}
			if (pb)
				n += snprintf(req + n, sizeof(req) - n,
					      " %s %" PRIu64 " %" PRIu64,
					      pb->tag, poff, plen);
			pb = b;
			if (b) {
				poff = (uint64_t)ci.blkaddr * img.blksz;
				plen = len;
			}
			if (n > sizeof(req) - 200) {
				err = erofs_mount_ctl_fmt(j, "prefetch", "%s",
							  req);
				n = snprintf(req, sizeof(req), "prefetch %s",
					     id);
			}
		}
		if (!err && n > strlen("prefetch ") + strlen(id))
			err = erofs_mount_ctl_fmt(j, "prefetch", "%s", req);
		files++;
	}
	free(id);
	fclose(f);
	erofs_image_close(&img);
	if (!err)
		fprintf(j->out,
			"erofs-mount: prefetching %u listed files "
			"first\n",
			files);
	return err;
}

/* ------------------------------------------------------------------ */
/* state: what -u and --list need to know about a mount                */

static char *state_path(const char *state_dir, const char *mnt)
{
	char *h = erofs_mount_hash_name(mnt), *p = NULL;

	if (h && asprintf(&p, "%s/%s", state_dir, h) < 0)
		p = NULL;
	free(h);
	return p;
}

static int save_state(struct mount_job *j)
{
	const char *dir =
	    j->o->state_dir ? j->o->state_dir : EROFS_MOUNT_DEFAULT_STATE;
	char *p = state_path(dir, j->mnt);
	struct erofs_outfile of;
	uint64_t total = 0;
	FILE *f;
	int err;

	if (!p)
		return erofs_err(j->log, -ENOMEM, "state");
	err = erofs_mount_mkdir_p(dir, j->log);
	if (!err)
		err = erofs_outfile_open(&of, p, j->log);
	free(p);
	if (err)
		return err;
	for (unsigned int i = 0; i < j->m.nr_blobs; i++)
		total += j->m.blobs[i].size;
	/* the daemon serves (and counts) the bootstrap too */
	if (j->backend == MB_CACHEFILES && !j->stack)
		total += j->m.bootstrap_size;
	f = fdopen(dup(of.fd), "w");
	if (!f) {
		erofs_outfile_abort(&of);
		return erofs_err(j->log, -errno, "state");
	}
	fprintf(f,
		"mountpoint %s\nbackend %s\ncache %s\nsource %s\n"
		"image %s\ntotal %" PRIu64 "\n",
		j->mnt, mb_names[j->backend], j->cache_dir, j->srcs[0],
		j->o->image, total);
	if (j->stack)
		fprintf(f, "layers %u\nstackdir %s\n", j->oci.nr_parts,
			j->stackdir ? j->stackdir : "-");
	fclose(f);
	return erofs_outfile_commit(&of, j->log);
}

struct state {
	char mnt[PATH_MAX], backend[32], cache[PATH_MAX], source[PATH_MAX];
	char stackdir[PATH_MAX];
	unsigned int layers; /* 0: not a stack */
	uint64_t total;
};

static int load_state(const char *path, struct state *s)
{
	char line[PATH_MAX + 32];
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	memset(s, 0, sizeof(*s));
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ' ');

		if (!v)
			continue;
		*v++ = '\0';
		v[strcspn(v, "\n")] = '\0';
		if (!strcmp(line, "mountpoint"))
			snprintf(s->mnt, sizeof(s->mnt), "%s", v);
		else if (!strcmp(line, "backend"))
			snprintf(s->backend, sizeof(s->backend), "%s", v);
		else if (!strcmp(line, "cache"))
			snprintf(s->cache, sizeof(s->cache), "%s", v);
		else if (!strcmp(line, "source"))
			snprintf(s->source, sizeof(s->source), "%s", v);
		else if (!strcmp(line, "total"))
			s->total = strtoull(v, NULL, 10);
		else if (!strcmp(line, "layers"))
			s->layers = strtoul(v, NULL, 10);
		else if (!strcmp(line, "stackdir") && strcmp(v, "-"))
			snprintf(s->stackdir, sizeof(s->stackdir), "%s", v);
	}
	fclose(f);
	return s->mnt[0] ? 0 : -EINVAL;
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
	fprintf(j->out, "erofs-mount: backend %s (%s)\n", mb_names[j->backend],
		why);
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

static int full_fetch(struct mount_job *j)
{
	char dir[PATH_MAX];
	int err;

	snprintf(dir, sizeof(dir), "%s/%s", j->cache_dir,
		 EROFS_FETCHD_BLOB_DIR);
	err = erofs_mount_mkdir_p(dir, j->log);
	for (unsigned int i = 0; !err && i < j->m.nr_blobs; i++) {
		const struct erofs_manifest_blob *b = &j->m.blobs[i];
		char dest[PATH_MAX + 80];

		snprintf(dest, sizeof(dest), "%s/%s", dir, b->tag);
		err = erofs_mount_fetch_whole(j, j->srcs, j->nr_srcs, b->path,
					      b->size, b->sha256, dest);
	}
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
		err = load_image(&j);
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
		err = fetch_bootstrap(&j);
		if (!err && j.is_oci)
			err = oci_finish(&j);
		if (err)
			goto out;
	}
	if (j.backend == MB_FULL) {
		/* a stack's layers are fetched whole as they are mounted */
		err = j.stack ? 0 : full_fetch(&j);
	} else {
		err = ensure_daemon(&j);
		if (!err)
			err = add_image(&j);
		added = !err;
		/* the metadata of each layer local before EROFS reads it */
		if (!err && j.stack && j.backend == MB_FANOTIFY)
			err = erofs_mount_stack_prime(&j);
	}
	/* marks are in place: now EROFS may open the blobs */
	if (!err)
		err = j.stack ? erofs_mount_stack(&j) : do_mount(&j);
	if (!err) {
		added = false; /* mounted: never released under the mount */
		err = save_state(&j);
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
		j.mnt, mb_names[j.backend]);
	if (j.backend != MB_FULL && o->prefetch_list &&
	    (j.stack ? erofs_mount_stack_prefetch_list(&j) : prefetch_list(&j)))
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
		del_image(&j);
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

int erofs_umount(const char *mountpoint, const char *state_dir,
		 const struct erofs_log *log)
{
	const char *dir = state_dir ? state_dir : EROFS_MOUNT_DEFAULT_STATE;
	char *mnt = realpath(mountpoint, NULL), *sp, *id, *reply = NULL;
	struct state s;
	int err;

	if (!mnt)
		return erofs_err(log, -errno, "%s", mountpoint);
	sp = state_path(dir, mnt);
	if (!sp || load_state(sp, &s)) {
		err = erofs_fail(log, -ENOENT, "%s: not mounted by erofs-mount",
				 mnt);
		goto out;
	}
	/* the mount goes first: the daemon keeps serving until then */
	if (umount2(mnt, 0)) {
		err = erofs_err(log, -errno, "umount %s%s", mnt,
				errno == EBUSY ? " (still in use)" : "");
		if (err != -EINVAL)
			goto out;
		erofs_warn(log, "%s was not mounted; forgetting it", mnt);
	}
	/* a stack: its layers next, each still served until it is gone */
	err = s.stackdir[0]
		  ? erofs_mount_stack_release(s.stackdir, s.layers, log)
		  : 0;
	if (err)
		goto out;
	if (strcmp(s.backend, "full")) {
		id = erofs_fetchd_ctl_quote(mnt);
		if (id) {
			char *req;

			if (asprintf(&req, "del %s", id) >= 0) {
				if (erofs_fetchd_ctl_call(s.cache, req, &reply,
							  log))
					erofs_warn(log,
						   "%s: its daemon is "
						   "gone",
						   mnt);
				free(req);
			}
		}
		free(id);
		free(reply);
	}
	unlink(sp);
out:
	free(sp);
	free(mnt);
	return err;
}

int erofs_mount_list(FILE *out, const char *state_dir,
		     const struct erofs_log *log)
{
	const char *dir = state_dir ? state_dir : EROFS_MOUNT_DEFAULT_STATE;
	DIR *d = opendir(dir);
	struct dirent *de;

	fprintf(out, "%-30s %-10s %-30s %s\n", "MOUNTPOINT", "BACKEND",
		"SOURCE", "FETCHED/TOTAL");
	if (!d)
		return errno == ENOENT ? 0 : erofs_err(log, -errno, "%s", dir);
	while ((de = readdir(d))) {
		char path[PATH_MAX], *reply = NULL;
		int64_t present = -1;
		uint64_t total;
		struct state s;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (load_state(path, &s))
			continue;
		total = s.total;
		if (!strcmp(s.backend, "full")) {
			present = total;
		} else if (!erofs_fetchd_ctl_call(s.cache, "list", &reply,
						  log)) {
			char *id = erofs_fetchd_ctl_quote(s.mnt);

			for (char *l = strtok(reply, "\n"); id && l;
			     l = strtok(NULL, "\n")) {
				size_t n = strlen(id);

				if (!strncmp(l, id, n) && l[n] == ' ') {
					char b[32], src[PATH_MAX];
					long long p;

					if (sscanf(l + n, " %31s %4095s %lld",
						   b, src, &p) == 3)
						present = p;
				}
			}
			free(id);
		}
		free(reply);
		if (present < 0)
			fprintf(out,
				"%-30s %-10s %-30s ?/%" PRIu64
				" (daemon not running)",
				s.mnt, s.backend, s.source, total);
		else
			fprintf(out,
				"%-30s %-10s %-30s %" PRId64 "/%" PRIu64
				" (%.1f%%)",
				s.mnt, s.backend, s.source, present, total,
				total ? 100.0 * present / total : 100.0);
		/* a stack: the bytes are those of all its layers */
		if (s.layers)
			fprintf(out, ", %u layers stacked by overlayfs",
				s.layers);
		fputc('\n', out);
	}
	closedir(d);
	return 0;
}

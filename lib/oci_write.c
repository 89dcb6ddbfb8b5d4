// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Writing the output OCI image layout.  Everything goes into a temporary
 * directory next to OUTDIR (".NAME.tmpXXXXXX"), reached only through its
 * directory descriptors, and is renamed to OUTDIR in one step once the
 * index is written; an aborted conversion removes the temporary directory,
 * so OUTDIR either appears whole or not at all.  Blobs are named by their
 * SHA-256; JSON is written compact, in a fixed key order.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/evp.h>

#include "liberofs_oci.h"

struct erofs_oci_out {
	const struct erofs_log *log;
	char *outdir;
	char *tmp; /* the temporary layout directory */
	int tmpfd;
	int blobfd; /* tmp/blobs/sha256 */
	bool committed;
	struct erofs_tmpnames *reg; /* where tmp is recorded, in slot */
	int slot;
};

const char *erofs_oci_json_text(struct json_object *o, size_t *len)
{
	return json_object_to_json_string_length(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, len);
}

static int empty_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;
	int ret = 1;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -ENOMEM;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

int erofs_oci_out_create(struct erofs_oci_out **op, const char *outdir,
			 struct erofs_tmpnames *reg,
			 const struct erofs_log *log)
{
	struct erofs_oci_out *o = calloc(1, sizeof(*o));
	const char *base;
	struct stat st;
	size_t len;
	int err;

	*op = NULL;
	if (!o)
		return -ENOMEM;
	o->log = log;
	o->tmpfd = o->blobfd = -1;
	o->slot = -1;
	o->outdir = strdup(outdir);
	if (!o->outdir)
		goto nomem;
	len = strlen(o->outdir);
	while (len > 1 && o->outdir[len - 1] == '/')
		o->outdir[--len] = '\0';
	base = strrchr(o->outdir, '/');
	base = base ? base + 1 : o->outdir;
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		err =
		    erofs_fail(log, -EINVAL,
			       "%s: name the output directory itself", outdir);
		goto fail;
	}
	if (lstat(o->outdir, &st) == 0) {
		if (!S_ISDIR(st.st_mode) || empty_dir(o->outdir) != 1) {
			err = erofs_fail(
			    log, -EEXIST,
			    "%s exists and is not an empty directory",
			    o->outdir);
			goto fail;
		}
	} else if (errno != ENOENT) {
		err = erofs_err(log, -errno, "%s", o->outdir);
		goto fail;
	}
	if (asprintf(&o->tmp, "%.*s.%s.tmpXXXXXX", (int)(base - o->outdir),
		     o->outdir, base) < 0) {
		o->tmp = NULL;
		goto nomem;
	}
	if (!mkdtemp(o->tmp)) {
		err = erofs_err(log, -errno,
				"cannot create a directory next to %s",
				o->outdir);
		free(o->tmp);
		o->tmp = NULL;
		goto fail;
	}
	/* the program removes it if a signal ends the conversion */
	o->reg = reg;
	o->slot = erofs_tmpnames_add(reg, o->tmp, EROFS_TMPNAME_TREE);
	o->tmpfd =
	    open(o->tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (o->tmpfd < 0 || fchmod(o->tmpfd, 0755) < 0 ||
	    mkdirat(o->tmpfd, "blobs", 0755) < 0 ||
	    mkdirat(o->tmpfd, "blobs/sha256", 0755) < 0) {
		err = erofs_err(log, -errno, "%s", o->tmp);
		goto fail;
	}
	o->blobfd = openat(o->tmpfd, "blobs/sha256",
			   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (o->blobfd < 0) {
		err = erofs_err(log, -errno, "%s/blobs/sha256", o->tmp);
		goto fail;
	}
	*op = o;
	return 0;
nomem:
	err = -ENOMEM;
fail:
	erofs_oci_out_destroy(o);
	return err;
}

char *erofs_oci_out_tmpname(struct erofs_oci_out *o, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/blobs/sha256/.%s", o->tmp, name) < 0)
		return NULL;
	return p;
}

int erofs_oci_out_adopt(struct erofs_oci_out *o, const char *tmp,
			const uint8_t digest[EROFS_SHA256_LEN])
{
	const char *base = strrchr(tmp, '/');
	char hex[EROFS_SHA256_HEX_LEN + 1];
	struct stat st;

	base = base ? base + 1 : tmp;
	erofs_hex(hex, digest, EROFS_SHA256_LEN);
	if (fstatat(o->blobfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* the same bytes are there already */
		unlinkat(o->blobfd, base, 0);
		return 0;
	}
	if (renameat(o->blobfd, base, o->blobfd, hex) < 0)
		return erofs_err(o->log, -errno, "cannot rename %s to %s", tmp,
				 hex);
	return 0;
}

static int write_new(int dirfd, const char *name, const void *buf, size_t len,
		     const struct erofs_log *log)
{
	int fd =
	    openat(dirfd, name,
		   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	int err;

	if (fd < 0)
		return erofs_err(log, -errno, "cannot create %s", name);
	err = erofs_write_all(fd, buf, len);
	if (close(fd) < 0 && !err)
		err = -errno;
	if (err)
		return erofs_err(log, err, "cannot write %s", name);
	return 0;
}

int erofs_oci_out_blob(struct erofs_oci_out *o, const void *buf, size_t len,
		       uint8_t digest[EROFS_SHA256_LEN])
{
	char hex[EROFS_SHA256_HEX_LEN + 1];
	struct stat st;

	if (!EVP_Digest(buf, len, digest, NULL, EVP_sha256(), NULL))
		return -EIO;
	erofs_hex(hex, digest, EROFS_SHA256_LEN);
	if (fstatat(o->blobfd, hex, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	return write_new(o->blobfd, hex, buf, len, o->log);
}

static int add_str(struct json_object *o, const char *k, const char *v)
{
	struct json_object *s = json_object_new_string(v);

	if (!s)
		return -ENOMEM;
	json_object_object_add(o, k, s);
	return 0;
}

int erofs_oci_out_commit(struct erofs_oci_out *o,
			 const uint8_t manifest[EROFS_SHA256_LEN],
			 uint64_t manifest_size, const char *tag)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	struct json_object *idx = json_object_new_object();
	struct json_object *ms = json_object_new_array();
	struct json_object *d = json_object_new_object();
	char ds[EROFS_OCI_DIGEST_LEN + 1];
	const char *text;
	size_t len;
	int err = 0;

	if (!idx || !ms || !d) {
		json_object_put(idx);
		json_object_put(ms);
		json_object_put(d);
		return -ENOMEM;
	}
	erofs_oci_digest_str(ds, manifest);
	json_object_object_add(idx, "schemaVersion", json_object_new_int(2));
	err |= add_str(idx, "mediaType", EROFS_MT_OCI_INDEX);
	err |= add_str(d, "mediaType", EROFS_MT_OCI_MANIFEST);
	err |= add_str(d, "digest", ds);
	json_object_object_add(d, "size",
			       json_object_new_int64((int64_t)manifest_size));
	if (tag) {
		struct json_object *ann = json_object_new_object();

		if (!ann)
			err = -ENOMEM;
		else
			json_object_object_add(d, "annotations", ann);
		if (ann)
			err |= add_str(ann, EROFS_OCI_REF_ANNOTATION, tag);
	}
	json_object_array_add(ms, d);
	json_object_object_add(idx, "manifests", ms);
	if (err) {
		json_object_put(idx);
		return -ENOMEM;
	}
	text = erofs_oci_json_text(idx, &len);
	err = write_new(o->tmpfd, "oci-layout", layout, sizeof(layout) - 1,
			o->log);
	if (!err)
		err = write_new(o->tmpfd, "index.json", text, len, o->log);
	json_object_put(idx);
	if (err)
		return err;
	if (rename(o->tmp, o->outdir) < 0)
		return erofs_err(o->log, -errno, "cannot rename %s to %s",
				 o->tmp, o->outdir);
	o->committed = true;
	erofs_tmpnames_forget(o->reg, o->slot);
	o->slot = -1;
	return 0;
}

/* removes what is in @dirfd: files and, @depth levels down, directories */
static void remove_in(int dirfd, int depth)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;

	if (!d) {
		close(dirfd);
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (unlinkat(dirfd, de->d_name, 0) == 0 || errno != EISDIR)
			continue;
		if (depth > 0) {
			int fd = openat(dirfd, de->d_name,
					O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					    O_CLOEXEC);

			if (fd >= 0)
				remove_in(fd, depth - 1);
		}
		unlinkat(dirfd, de->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

void erofs_oci_out_destroy(struct erofs_oci_out *o)
{
	if (!o)
		return;
	if (o->blobfd >= 0)
		close(o->blobfd);
	if (o->tmpfd >= 0) {
		if (!o->committed) {
			int fd = dup(o->tmpfd);

			if (fd >= 0)
				remove_in(fd, 4);
		}
		close(o->tmpfd);
	}
	if (o->tmp && !o->committed)
		rmdir(o->tmp);
	erofs_tmpnames_forget(o->reg, o->slot);
	free(o->tmp);
	free(o->outdir);
	free(o);
}

static struct json_object *digest_obj(const uint8_t d[EROFS_SHA256_LEN])
{
	char s[EROFS_OCI_DIGEST_LEN + 1];

	erofs_oci_digest_str(s, d);
	return json_object_new_string(s);
}

int erofs_oci_out_config(const struct erofs_oci_image *img,
			 const struct erofs_oci_platform *plat,
			 const uint8_t (*diff_ids)[EROFS_SHA256_LEN],
			 char *const *created_by, unsigned int nr,
			 bool hide_history, struct json_object **out,
			 const struct erofs_log *log)
{
	struct json_object *c = NULL, *rootfs, *ids, *hist, *created = NULL;
	int err = -ENOMEM;

	*out = NULL;
	if (img->config) {
		if (json_object_deep_copy(img->config, &c, NULL) < 0)
			return -ENOMEM;
	} else {
		c = json_object_new_object();
		if (!c || add_str(c, "architecture", plat->arch) ||
		    add_str(c, "os", plat->os) ||
		    (plat->variant && add_str(c, "variant", plat->variant)))
			goto fail;
		json_object_object_add(c, "config", json_object_new_object());
	}
	rootfs = json_object_new_object();
	ids = json_object_new_array();
	if (!rootfs || !ids) {
		json_object_put(rootfs);
		json_object_put(ids);
		goto fail;
	}
	add_str(rootfs, "type", "layers");
	for (unsigned int i = 0; i < nr; i++)
		json_object_array_add(ids, digest_obj(diff_ids[i]));
	json_object_object_add(rootfs, "diff_ids", ids);
	json_object_object_add(c, "rootfs", rootfs);
	if (!created_by) {
		*out = c;
		return 0;
	}
	if (!json_object_object_get_ex(c, "history", &hist) ||
	    !json_object_is_type(hist, json_type_array)) {
		hist = json_object_new_array();
		if (!hist)
			goto fail;
		json_object_object_add(c, "history", hist);
	}
	if (hide_history) {
		for (size_t i = 0; i < json_object_array_length(hist); i++) {
			struct json_object *h;

			h = json_object_array_get_idx(hist, i);

			if (json_object_is_type(h, json_type_object))
				json_object_object_add(
				    h, "empty_layer",
				    json_object_new_boolean(1));
		}
	}
	json_object_object_get_ex(c, "created", &created);
	for (unsigned int i = 0; i < nr; i++) {
		struct json_object *h = json_object_new_object();

		if (!h)
			goto fail;
		if (created && json_object_is_type(created, json_type_string))
			add_str(h, "created", json_object_get_string(created));
		add_str(h, "created_by", created_by[i]);
		add_str(h, "comment", "erofs-convert");
		json_object_array_add(hist, h);
	}
	*out = c;
	return 0;
fail:
	json_object_put(c);
	return erofs_err(log, err, "config");
}

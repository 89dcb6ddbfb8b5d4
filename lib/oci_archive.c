// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Reading a docker-archive tarball (docker save, skopeo copy ...
 * docker-archive:): manifest.json names the config and the layers as
 * members of the tarball, which may be symbolic or hard links to other
 * members (older docker save); member names are only ever compared, never
 * used as file system paths.  Read with libarchive; a layer is streamed
 * straight out of the tarball.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <json-c/json.h>
#include <openssl/evp.h>

#include "liberofs_oci.h"

#define MAX_MEMBERS 65536
#define MAX_LINKS   8
#define BLOCK	    (1u << 20)

struct member {
	char *name;
	char *link; /* symlink target (relative) or hard link */
	bool symlink;
	bool regular;
	uint64_t size;
};

struct members {
	struct member *m;
	unsigned int nr;
};

static void members_free(struct members *ms)
{
	for (unsigned int i = 0; i < ms->nr; i++) {
		free(ms->m[i].name);
		free(ms->m[i].link);
	}
	free(ms->m);
	ms->m = NULL;
	ms->nr = 0;
}

/* "./a//b/../c" -> "a/c"; -EINVAL when ".." leaves the top */
static int normalize(const char *in, char **out)
{
	size_t len = strlen(in), o = 0;
	char *p = malloc(len + 1);

	*out = NULL;
	if (!p)
		return -ENOMEM;
	for (const char *s = in; *s;) {
		const char *e = strchrnul(s, '/');
		size_t n = e - s;

		if (!n || (n == 1 && s[0] == '.')) {
			/* nothing */
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (!o) {
				free(p);
				return -EINVAL;
			}
			while (o && p[o - 1] != '/')
				o--;
			if (o)
				o--;
		} else {
			if (o)
				p[o++] = '/';
			memcpy(p + o, s, n);
			o += n;
		}
		s = *e ? e + 1 : e;
	}
	p[o] = '\0';
	*out = p;
	return 0;
}

static struct archive *open_archive(const char *path,
				    const struct erofs_log *log)
{
	struct archive *a = archive_read_new();

	if (!a)
		return NULL;
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	/* docker save | gzip and the like; no external programs */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_bzip2(a);
	if (archive_read_open_filename(a, path, BLOCK) != ARCHIVE_OK) {
		erofs_fail(log, -EINVAL, "%s: %s", path,
			   archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* reads the current member whole, at most @max bytes */
static int read_member(struct archive *a, const char *path, const char *name,
		       uint64_t size, size_t max, char **buf,
		       const struct erofs_log *log)
{
	char *p;
	la_ssize_t n;

	*buf = NULL;
	if (size > max)
		return erofs_fail(
		    log, -EFBIG,
		    "%s: %s: %llu bytes, more than the %zu allowed", path, name,
		    (unsigned long long)size, max);
	p = malloc(size + 1);
	if (!p)
		return -ENOMEM;
	n = archive_read_data(a, p, size + 1);
	if (n < 0 || (uint64_t)n != size) {
		free(p);
		return erofs_fail(log, -EIO, "%s: %s: %s", path, name,
				  n < 0 ? archive_error_string(a)
					: "truncated member");
	}
	p[size] = '\0';
	*buf = p;
	return 0;
}

/* pass 1: every member's name and type, and manifest.json's text */
static int scan(const char *path, struct members *ms, char **manifest,
		size_t *mlen, const struct erofs_log *log)
{
	struct archive *a = open_archive(path, log);
	struct archive_entry *e;
	int r, err = 0;

	*manifest = NULL;
	if (!a)
		return -EINVAL;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		struct member *m;
		const char *hl = archive_entry_hardlink(e);
		const char *sl = archive_entry_symlink(e);

		if (ms->nr >= MAX_MEMBERS) {
			err =
			    erofs_fail(log, -E2BIG, "%s: more than %u members",
				       path, MAX_MEMBERS);
			break;
		}
		if (!(ms->nr & (ms->nr - 1))) {
			void *n = realloc(ms->m, (ms->nr ? 2 * ms->nr : 1) *
						     sizeof(*ms->m));

			if (!n) {
				err = -ENOMEM;
				break;
			}
			ms->m = n;
		}
		m = &ms->m[ms->nr];
		memset(m, 0, sizeof(*m));
		if (!archive_entry_pathname(e) ||
		    normalize(archive_entry_pathname(e), &m->name)) {
			err = erofs_fail(log, -EINVAL,
					 "%s: bad member name \"%.200s\"", path,
					 archive_entry_pathname(e) ?: "");
			break;
		}
		ms->nr++;
		if (hl) {
			m->link = strdup(hl);
		} else if (archive_entry_filetype(e) == AE_IFLNK && sl) {
			m->link = strdup(sl);
			m->symlink = true;
		} else if (archive_entry_filetype(e) == AE_IFREG) {
			m->regular = true;
			m->size = archive_entry_size(e);
		}
		if ((hl || m->symlink) && !m->link) {
			err = -ENOMEM;
			break;
		}
		if (m->regular && !strcmp(m->name, "manifest.json")) {
			free(*manifest);
			*mlen = m->size;
			err = read_member(a, path, m->name, m->size,
					  EROFS_OCI_JSON_MAX, manifest, log);
			if (err)
				break;
		}
	}
	if (!err && r != ARCHIVE_EOF)
		err = erofs_fail(log, -EIO, "%s: %s", path,
				 archive_error_string(a));
	archive_read_free(a);
	if (!err && !*manifest)
		err = erofs_fail(log, -EINVAL,
				 "%s: not a docker archive (no manifest.json)",
				 path);
	if (err) {
		free(*manifest);
		*manifest = NULL;
	}
	return err;
}

/* the member called @name: -1 when there is none, -2 when several */
static int lookup(const struct members *ms, const char *name)
{
	int found = -1;

	for (unsigned int i = 0; i < ms->nr; i++) {
		if (strcmp(ms->m[i].name, name))
			continue;
		if (found >= 0)
			return -2;
		found = (int)i;
	}
	return found;
}

/* follows links to a regular member; its index, or -ENOENT/-ELOOP */
static int resolve(const struct members *ms, const char *name)
{
	char *cur;
	int idx = -ENOENT;

	if (normalize(name, &cur))
		return -ENOENT;
	for (int hops = 0; hops <= MAX_LINKS; hops++) {
		const struct member *m;
		char *next, *joined;
		int i = lookup(ms, cur);

		if (i < 0) {
			if (i == -2)
				idx = -EEXIST;
			break;
		}
		m = &ms->m[i];
		if (m->regular) {
			idx = i;
			break;
		}
		if (!m->link)
			break;
		if (m->symlink && m->link[0] != '/') {
			const char *slash = strrchr(m->name, '/');

			if (asprintf(&joined, "%.*s%s%s",
				     slash ? (int)(slash - m->name) : 0,
				     m->name, slash ? "/" : "", m->link) < 0)
				break;
		} else {
			joined = strdup(m->link);
			if (!joined)
				break;
		}
		if (normalize(joined, &next)) {
			free(joined);
			break;
		}
		free(joined);
		free(cur);
		cur = next;
		idx = -ELOOP;
	}
	free(cur);
	return idx;
}

/* a member named by its digest ("blobs/sha256/HEX", "HEX.json") */
static bool digest_name(const char *name, const char *suffix,
			uint8_t out[EROFS_SHA256_LEN])
{
	const char *base = strrchr(name, '/');
	char hex[EROFS_SHA256_HEX_LEN + 1];
	size_t sl = strlen(suffix);

	base = base ? base + 1 : name;
	if (strlen(base) != EROFS_SHA256_HEX_LEN + sl ||
	    strcmp(base + EROFS_SHA256_HEX_LEN, suffix))
		return false;
	memcpy(hex, base, EROFS_SHA256_HEX_LEN);
	hex[EROFS_SHA256_HEX_LEN] = '\0';
	for (int i = 0; i < EROFS_SHA256_HEX_LEN; i++)
		if (!strchr("0123456789abcdef", hex[i]))
			return false;
	return !erofs_unhex(out, hex, EROFS_SHA256_LEN);
}

static int read_named(const char *path, const char *name, uint64_t size,
		      char **buf, const struct erofs_log *log)
{
	struct archive *a = open_archive(path, log);
	struct archive_entry *e;
	int r, err = -ENOENT;

	*buf = NULL;
	if (!a)
		return -EINVAL;
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		char *n;

		if (normalize(archive_entry_pathname(e) ?: "", &n))
			continue;
		if (!strcmp(n, name) && archive_entry_filetype(e) == AE_IFREG) {
			free(n);
			err = read_member(a, path, name, size,
					  EROFS_OCI_JSON_MAX, buf, log);
			break;
		}
		free(n);
	}
	if (err == -ENOENT)
		err = erofs_fail(log, -ENOENT, "%s: %s is missing", path, name);
	else if (r != ARCHIVE_EOF && r != ARCHIVE_OK)
		err = erofs_fail(log, -EIO, "%s: %s", path,
				 archive_error_string(a));
	archive_read_free(a);
	return err;
}

int erofs_oci_archive_open(const char *path, const char *ref,
			   struct erofs_oci_image *img,
			   const struct erofs_log *log)
{
	struct members ms = {0};
	struct json_object *root = NULL;
	char *manifest = NULL, *config = NULL, *buf = NULL, what[300];
	size_t mlen = 0;
	int err, ci;

	img->archive = strdup(path);
	if (!img->archive)
		return -ENOMEM;
	err = scan(path, &ms, &manifest, &mlen, log);
	if (err)
		return err;
	snprintf(what, sizeof(what), "%.250s: manifest.json", path);
	err = erofs_oci_json_parse(manifest, mlen, true, what, &root, log);
	free(manifest);
	if (!err)
		err = erofs_oci_parse_docker_manifest(root, ref, &config, img,
						      log);
	json_object_put(root);
	root = NULL;
	if (err)
		goto out;
	ci = resolve(&ms, config);
	if (ci < 0) {
		err = erofs_fail(log, ci == -EEXIST ? -EINVAL : -ENOENT,
				 "%s: config %.200s is %s", path, config,
				 ci == -EEXIST ? "in the archive twice"
					       : "missing");
		goto out;
	}
	snprintf(what, sizeof(what), "%.150s: config %.120s", path, config);
	err = read_named(path, ms.m[ci].name, ms.m[ci].size, &buf, log);
	if (err)
		goto out;
	{
		uint8_t want[EROFS_SHA256_LEN], md[EROFS_SHA256_LEN];

		if ((digest_name(ms.m[ci].name, ".json", want) ||
		     digest_name(ms.m[ci].name, "", want)) &&
		    (!EVP_Digest(buf, ms.m[ci].size, md, NULL, EVP_sha256(),
				 NULL) ||
		     memcmp(md, want, EROFS_SHA256_LEN))) {
			err = erofs_fail(log, -EINVAL,
					 "%s: digest mismatch: the config's "
					 "sha256 is not its name",
					 what);
			goto out;
		}
	}
	err = erofs_oci_json_parse(buf, ms.m[ci].size, false, what, &root, log);
	if (!err)
		err = erofs_oci_parse_config(root, what, false, img, log);
	json_object_put(root);
	if (err)
		goto out;
	for (unsigned int i = 0; i < img->nr_layers; i++) {
		struct erofs_oci_layer *l = &img->layers[i];
		int li = resolve(&ms, l->path);

		if (li < 0) {
			err = erofs_fail(log, li == -EEXIST ? -EINVAL : -ENOENT,
					 "%s: layer %u/%u (%.200s) is %s", path,
					 i + 1, img->nr_layers, l->path,
					 li == -EEXIST ? "in the archive twice"
						       : "missing");
			goto out;
		}
		free(l->path);
		l->path = strdup(ms.m[li].name);
		if (!l->path) {
			err = -ENOMEM;
			goto out;
		}
		l->comp = EROFS_OCI_COMP_ANY;
		if (digest_name(l->path, "", l->desc.digest)) {
			l->have_digest = true;
			l->desc.size = ms.m[li].size;
		}
	}
	err = erofs_oci_check_duplicates(img, log);
out:
	free(config);
	free(buf);
	members_free(&ms);
	return err;
}

struct member_src {
	struct archive *a;
};

static ssize_t member_read(void *ctx, void *buf, size_t len)
{
	struct member_src *m = ctx;
	la_ssize_t n = archive_read_data(m->a, buf, len);

	return n < 0 ? -EIO : n;
}

static void member_close(void *ctx)
{
	struct member_src *m = ctx;

	archive_read_free(m->a);
	free(m);
}

int erofs_oci_archive_member(const char *path, const char *name,
			     struct erofs_oci_src *src,
			     const struct erofs_log *log)
{
	struct archive_entry *e;
	struct member_src *m;
	int r;

	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->a = open_archive(path, log);
	if (!m->a) {
		free(m);
		return -EINVAL;
	}
	/* resolve() made sure there is one member of that name */
	while ((r = archive_read_next_header(m->a, &e)) == ARCHIVE_OK) {
		char *n;
		bool hit;

		if (normalize(archive_entry_pathname(e) ?: "", &n))
			continue;
		hit = !strcmp(n, name) && archive_entry_filetype(e) == AE_IFREG;
		free(n);
		if (hit) {
			src->read = member_read;
			src->close = member_close;
			src->ctx = m;
			return 0;
		}
	}
	erofs_fail(log, r == ARCHIVE_EOF ? -ENOENT : -EIO, "%s: %s: %s", path,
		   name,
		   r == ARCHIVE_EOF ? "member is missing"
				    : archive_error_string(m->a));
	member_close(m);
	return r == ARCHIVE_EOF ? -ENOENT : -EIO;
}

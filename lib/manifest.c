// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Manifest: JSON written by builders, validated when read.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "erofs/cookie.h"
#include "erofs/manifest.h"

static struct json_object *u64_obj(uint64_t v)
{
	return json_object_new_uint64(v);
}

int erofs_manifest_to_json(const struct erofs_manifest *m,
			   struct json_object **out,
			   const struct erofs_log *log)
{
	struct json_object *root = json_object_new_object();
	struct json_object *bs = json_object_new_object();
	struct json_object *blobs = json_object_new_array();
	struct json_object *counts = json_object_new_object();

	if (!root || !bs || !blobs || !counts) {
		json_object_put(root);
		json_object_put(bs);
		json_object_put(blobs);
		json_object_put(counts);
		return -ENOMEM;
	}
	json_object_object_add(root, "format",
			       json_object_new_string(EROFS_MANIFEST_FORMAT));
	json_object_object_add(root, "version",
			       json_object_new_int(EROFS_MANIFEST_VERSION));
	json_object_object_add(root, "block_size",
			       json_object_new_int(m->block_size));
	json_object_object_add(root, "chunk_size", u64_obj(m->chunk_size));
	json_object_object_add(bs, "path",
			       json_object_new_string(m->bootstrap_path));
	json_object_object_add(bs, "size", u64_obj(m->bootstrap_size));
	json_object_object_add(bs, "sha256",
			       json_object_new_string(m->bootstrap_sha256));
	json_object_object_add(root, "bootstrap", bs);
	for (unsigned int i = 0; i < m->nr_blobs; i++) {
		const struct erofs_manifest_blob *b = &m->blobs[i];
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "device_id",
				       json_object_new_int(b->device_id));
		json_object_object_add(o, "tag",
				       json_object_new_string(b->tag));
		json_object_object_add(o, "size", u64_obj(b->size));
		json_object_object_add(o, "blocks", u64_obj(b->blocks));
		json_object_object_add(o, "sha256",
				       json_object_new_string(b->sha256));
		json_object_object_add(o, "path",
				       json_object_new_string(b->path));
		json_object_array_add(blobs, o);
	}
	json_object_object_add(root, "blobs", blobs);
	json_object_object_add(counts, "inodes", u64_obj(m->counts.inodes));
	json_object_object_add(counts, "regular_files",
			       u64_obj(m->counts.regular_files));
	json_object_object_add(counts, "chunks", u64_obj(m->counts.chunks));
	json_object_object_add(counts, "unique_chunks",
			       u64_obj(m->counts.unique_chunks));
	json_object_object_add(counts, "zero_chunks",
			       u64_obj(m->counts.zero_chunks));
	json_object_object_add(counts, "bytes_in", u64_obj(m->counts.bytes_in));
	json_object_object_add(counts, "bytes_stored",
			       u64_obj(m->counts.bytes_stored));
	json_object_object_add(counts, "bytes_deduplicated",
			       u64_obj(m->counts.bytes_deduplicated));
	json_object_object_add(counts, "bytes_zero",
			       u64_obj(m->counts.bytes_zero));
	json_object_object_add(root, "counts", counts);
	if (m->fsid) {
		struct json_object *ck;
		const char **tags = calloc(m->nr_blobs + 1, sizeof(*tags));
		uint64_t *sizes = calloc(m->nr_blobs + 1, sizeof(*sizes));
		int err = tags && sizes ? 0 : -ENOMEM;

		for (unsigned int i = 0; !err && i < m->nr_blobs; i++) {
			tags[i] = m->blobs[i].tag;
			sizes[i] = m->blobs[i].size;
		}
		if (!err)
			err = erofs_cookie_table_json(
			    m->fsid, m->domain_id, m->bootstrap_size,
			    m->nr_blobs, tags, sizes, &ck, log);
		free(tags);
		free(sizes);
		if (err) {
			json_object_put(root);
			return err;
		}
		json_object_object_add(ck, "fsid",
				       json_object_new_string(m->fsid));
		if (m->domain_id)
			json_object_object_add(
			    ck, "domain_id",
			    json_object_new_string(m->domain_id));
		json_object_object_add(root, "cookies", ck);
	}
	*out = root;
	return 0;
}

int erofs_manifest_write(const struct erofs_manifest *m, int fd,
			 const char *path, const struct erofs_log *log)
{
	struct json_object *root;
	const char *text;
	int err;

	err = erofs_manifest_to_json(m, &root, log);
	if (err)
		return err;
	text = json_object_to_json_string_ext(
	    root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
		      JSON_C_TO_STRING_NOSLASHESCAPE);
	err = erofs_write_all(fd, text, strlen(text));
	if (!err)
		err = erofs_write_all(fd, "\n", 1);
	if (err)
		erofs_err(log, err, "%s: cannot write", path);
	json_object_put(root);
	return err;
}

int erofs_manifest_save(const struct erofs_manifest *m, const char *path,
			const struct erofs_log *log)
{
	struct erofs_outfile of;
	int err;

	err = erofs_outfile_open(&of, path, log);
	if (err)
		return err;
	err = erofs_manifest_write(m, of.fd, path, log);
	if (err) {
		erofs_outfile_abort(&of);
		return err;
	}
	return erofs_outfile_commit(&of, log);
}

/*
 * An integer in [0, @max].  json-c clamps numbers it cannot hold to
 * UINT64_MAX (a 26-digit size reads as 2^64 - 1), so @max < UINT64_MAX
 * refuses those too.
 */
static int get_u64(struct json_object *o, const char *key, uint64_t *v,
		   uint64_t max, const char *path, const struct erofs_log *log)
{
	struct json_object *f;
	uint64_t x;

	if (!json_object_object_get_ex(o, key, &f) ||
	    !json_object_is_type(f, json_type_int) ||
	    json_object_get_int64(f) < 0)
		return erofs_fail(log, -EINVAL,
				  "%s: \"%s\" is missing or not a size", path,
				  key);
	x = json_object_get_uint64(f);
	if (x > max)
		return erofs_fail(
		    log, -ERANGE, "%s: \"%s\" %llu is larger than %llu", path,
		    key, (unsigned long long)x, (unsigned long long)max);
	*v = x;
	return 0;
}

static int get_str(struct json_object *o, const char *key, const char **v,
		   bool optional, const char *path, const struct erofs_log *log)
{
	struct json_object *f;

	if (!json_object_object_get_ex(o, key, &f)) {
		if (optional) {
			*v = NULL;
			return 0;
		}
		return erofs_fail(log, -EINVAL, "%s: \"%s\" is missing", path,
				  key);
	}
	if (!json_object_is_type(f, json_type_string))
		return erofs_fail(log, -EINVAL, "%s: \"%s\" is not a string",
				  path, key);
	*v = json_object_get_string(f);
	return 0;
}

static int get_hex(struct json_object *o, const char *key, char *out,
		   const char *path, const struct erofs_log *log)
{
	uint8_t raw[EROFS_SHA256_LEN];
	const char *s;
	int err = get_str(o, key, &s, false, path, log);

	if (err)
		return err;
	if (erofs_unhex(raw, s, EROFS_SHA256_LEN))
		return erofs_fail(log, -EINVAL,
				  "%s: \"%s\" is not a hex SHA-256", path, key);
	erofs_hex(out, raw, EROFS_SHA256_LEN);
	return 0;
}

/*
 * Containers and values outside strings, counted before json-c builds
 * anything: its memory is about proportional to them, so a hostile or
 * oversized manifest is refused with the text as the only allocation.
 */
static int prescan(const char *text, size_t len, const char *path,
		   const struct erofs_log *log)
{
	uint64_t containers = 0, values = 1;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[')
			containers++, values++;
		else if (c == ',')
			values++;
	}
	if (containers > EROFS_MANIFEST_MAX_CONTAINERS ||
	    values > EROFS_MANIFEST_MAX_VALUES)
		return erofs_fail(log, -E2BIG,
				  "%s: more than %u JSON objects or %u values; "
				  "a manifest describes at most %u blobs",
				  path, EROFS_MANIFEST_MAX_CONTAINERS,
				  EROFS_MANIFEST_MAX_VALUES,
				  EROFS_MANIFEST_MAX_BLOBS);
	return 0;
}

/* the whole text must be one JSON object, whitespace around it */
static struct json_object *parse_json(const char *text, size_t len,
				      const char *path,
				      const struct erofs_log *log)
{
	struct json_tokener *tok;
	struct json_object *root;
	enum json_tokener_error jerr;
	size_t end;

	if (len > INT_MAX)
		return NULL;
	tok = json_tokener_new();
	if (!tok) {
		erofs_err(log, -ENOMEM, "%s", path);
		return NULL;
	}
	root = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (!root || jerr != json_tokener_success) {
		json_object_put(root);
		erofs_fail(log, -EINVAL, "%s: not JSON at byte %zu: %s", path,
			   end,
			   jerr == json_tokener_continue
			       ? "unexpected end of file"
			       : json_tokener_error_desc(jerr));
		return NULL;
	}
	while (end < len && strchr(" \t\r\n", text[end]) && text[end])
		end++;
	if (end != len) {
		json_object_put(root);
		erofs_fail(log, -EINVAL,
			   "%s: trailing data after the JSON object at byte "
			   "%zu",
			   path, end);
		return NULL;
	}
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		erofs_fail(log, -EINVAL, "%s: not a JSON object", path);
		return NULL;
	}
	return root;
}

int erofs_manifest_parse(struct erofs_manifest *m, const char *text, size_t len,
			 const char *path, const struct erofs_log *log)
{
	struct json_object *root, *bs, *blobs, *cookies, *f;
	const char *s;
	uint64_t v, max_size;
	size_t n;
	int err = -EINVAL;

	memset(m, 0, sizeof(*m));
	if (len > EROFS_MANIFEST_MAX_BYTES)
		return erofs_fail(log, -EFBIG,
				  "%s: %zu bytes; a manifest is at most %u",
				  path, len, EROFS_MANIFEST_MAX_BYTES);
	err = prescan(text, len, path, log);
	if (err)
		return err;
	err = -EINVAL;
	root = parse_json(text, len, path, log);
	if (!root)
		return -EINVAL;
	if (get_str(root, "format", &s, false, path, log))
		goto out;
	if (strcmp(s, EROFS_MANIFEST_FORMAT)) {
		erofs_fail(log, -EINVAL, "%s: not an erofs-ondemand manifest",
			   path);
		goto out;
	}
	if (get_u64(root, "block_size", &v, 65536, path, log))
		goto out;
	if (v < 512 || !erofs_is_pow2(v)) {
		erofs_fail(log, -EINVAL, "%s: bad block_size %llu", path,
			   (unsigned long long)v);
		goto out;
	}
	m->block_size = v;
	/* the device table and the superblock count blocks in 32 bits */
	max_size = (uint64_t)UINT32_MAX * m->block_size;
	/* chunkbits = blkszbits + a 5-bit field of the chunk format */
	if (get_u64(root, "chunk_size", &m->chunk_size,
		    (uint64_t)m->block_size << 31, path, log))
		goto out;
	if (m->chunk_size &&
	    (!erofs_is_pow2(m->chunk_size) || m->chunk_size < m->block_size)) {
		erofs_fail(log, -EINVAL, "%s: bad chunk_size %llu", path,
			   (unsigned long long)m->chunk_size);
		goto out;
	}
	if (!json_object_object_get_ex(root, "bootstrap", &bs) ||
	    !json_object_is_type(bs, json_type_object)) {
		erofs_fail(log, -EINVAL, "%s: \"bootstrap\" is missing", path);
		goto out;
	}
	if (get_str(bs, "path", &s, false, path, log))
		goto out;
	if (!(m->bootstrap_path = strdup(s))) {
		err = -ENOMEM;
		goto out;
	}
	if (get_u64(bs, "size", &m->bootstrap_size, max_size, path, log) ||
	    get_hex(bs, "sha256", m->bootstrap_sha256, path, log))
		goto out;
	if (!json_object_object_get_ex(root, "blobs", &blobs) ||
	    !json_object_is_type(blobs, json_type_array)) {
		erofs_fail(log, -EINVAL, "%s: \"blobs\" is missing", path);
		goto out;
	}
	n = json_object_array_length(blobs);
	if (n > EROFS_MANIFEST_MAX_BLOBS) {
		err = erofs_fail(log, -E2BIG, "%s: %zu blobs; at most %u", path,
				 n, EROFS_MANIFEST_MAX_BLOBS);
		goto out;
	}
	m->nr_blobs = n;
	m->blobs = calloc(m->nr_blobs ? m->nr_blobs : 1, sizeof(*m->blobs));
	if (!m->blobs) {
		err = -ENOMEM;
		goto out;
	}
	for (unsigned int i = 0; i < m->nr_blobs; i++) {
		struct json_object *o = json_object_array_get_idx(blobs, i);
		struct erofs_manifest_blob *b = &m->blobs[i];
		const char *tag;

		if (!json_object_is_type(o, json_type_object)) {
			erofs_fail(log, -EINVAL, "%s: blob %u is not an object",
				   path, i);
			goto out;
		}
		b->device_id = i + 1;
		if (get_str(o, "tag", &tag, false, path, log) ||
		    get_u64(o, "size", &b->size, max_size, path, log) ||
		    get_hex(o, "sha256", b->sha256, path, log) ||
		    get_str(o, "path", &s, false, path, log))
			goto out;
		if (!*tag || strlen(tag) > EROFS_SHA256_HEX_LEN ||
		    strchr(tag, '/')) {
			erofs_fail(log, -EINVAL, "%s: blob %u has a bad tag",
				   path, i);
			goto out;
		}
		strcpy(b->tag, tag);
		b->blocks = erofs_div_round_up(b->size, m->block_size);
		/* when given, the device table's count must agree */
		if (json_object_object_get_ex(o, "blocks", &f) &&
		    (get_u64(o, "blocks", &v, UINT32_MAX, path, log) ||
		     (v != b->blocks && v != b->size / m->block_size))) {
			erofs_fail(log, -EINVAL,
				   "%s: blob %u: \"blocks\" does not match "
				   "its size %llu",
				   path, i, (unsigned long long)b->size);
			goto out;
		}
		b->path = strdup(s);
		if (!b->path) {
			err = -ENOMEM;
			goto out;
		}
	}
	if (json_object_object_get_ex(root, "cookies", &cookies) &&
	    json_object_is_type(cookies, json_type_object)) {
		if (json_object_object_get_ex(cookies, "fsid", &f) &&
		    json_object_is_type(f, json_type_string) &&
		    !(m->fsid = strdup(json_object_get_string(f)))) {
			err = -ENOMEM;
			goto out;
		}
		if (json_object_object_get_ex(cookies, "domain_id", &f) &&
		    json_object_is_type(f, json_type_string) &&
		    !(m->domain_id = strdup(json_object_get_string(f)))) {
			err = -ENOMEM;
			goto out;
		}
	}
	err = 0;
out:
	json_object_put(root);
	if (err == -ENOMEM)
		erofs_err(log, err, "%s", path);
	if (err)
		erofs_manifest_free(m);
	return err;
}

int erofs_manifest_load(struct erofs_manifest *m, const char *path,
			const struct erofs_log *log)
{
	struct stat st;
	char *text;
	ssize_t n;
	int fd, err;

	memset(m, 0, sizeof(*m));
	/* O_NONBLOCK: a FIFO must not hang the open */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return erofs_fail(log, -errno, "cannot open manifest %s", path);
	if (fstat(fd, &st) < 0) {
		err = erofs_fail(log, -errno, "%s: stat", path);
		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return erofs_fail(log, -EINVAL,
				  "manifest %s is not a regular file", path);
	}
	if ((uint64_t)st.st_size > EROFS_MANIFEST_MAX_BYTES) {
		close(fd);
		return erofs_fail(log, -EFBIG,
				  "%s: %llu bytes; a manifest is at most %u",
				  path, (unsigned long long)st.st_size,
				  EROFS_MANIFEST_MAX_BYTES);
	}
	text = malloc(st.st_size + 1);
	if (!text) {
		close(fd);
		return erofs_err(log, -ENOMEM, "%s", path);
	}
	n = erofs_pread_all(fd, text, st.st_size, 0);
	close(fd);
	if (n != st.st_size) {
		free(text);
		return erofs_fail(log, n < 0 ? (int)n : -EIO, "%s: cannot read",
				  path);
	}
	text[n] = '\0';
	err = erofs_manifest_parse(m, text, n, path, log);
	free(text);
	return err;
}

void erofs_manifest_free(struct erofs_manifest *m)
{
	for (unsigned int i = 0; m->blobs && i < m->nr_blobs; i++)
		free(m->blobs[i].path);
	free(m->blobs);
	free(m->bootstrap_path);
	free(m->fsid);
	free(m->domain_id);
	memset(m, 0, sizeof(*m));
}

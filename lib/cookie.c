// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Cookie layout of a 6.12 kernel: volume and cookie keys, fscache hashing,
 * fan-out directories, cooked file names and the cachefiles xattrs.  See
 * include/erofs/cookie.h and docs/kernel-facts.md §24-§28.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "erofs/cookie.h"
#include "erofs/reader.h"
#include "erofs/util.h"

static inline uint32_t rol32(uint32_t v, unsigned int s)
{
	return (v << s) | (v >> (32 - s));
}

#define FSCACHE_GOLDEN_RATIO_32 0x61C88647u

uint32_t erofs_fscache_hash(uint32_t salt, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t x = 0, y = salt;

	for (size_t n = len / 4; n; n--, p += 4) {
		x ^= erofs_get_le32(p);
		y ^= x;
		x = rol32(x, 7);
		x += y;
		y = rol32(y, 20);
		y *= 9;
	}
	return (y ^ (x * FSCACHE_GOLDEN_RATIO_32)) * FSCACHE_GOLDEN_RATIO_32;
}

int erofs_cookie_check_name(const char *what, const char *name, int volume,
			    const struct erofs_log *log)
{
	size_t len;

	if (!name || !*name)
		return erofs_err(log, -EINVAL, "%s: empty name", what);
	len = strlen(name);
	if (strchr(name, ','))
		return erofs_err(log, -EINVAL,
				 "%s \"%s\": ',' cannot appear in a mount "
				 "option value",
				 what, name);
	if (!volume)
		return 0;
	if (len > EROFS_COOKIE_FSID_MAX)
		return erofs_err(log, -ENAMETOOLONG,
				 "%s: %zu bytes; at most %zu fit in the volume "
				 "directory name \"I" EROFS_COOKIE_VOLKEY_PREFIX
				 "<name>\"",
				 what, len, (size_t)EROFS_COOKIE_FSID_MAX);
	if (strchr(name, '/'))
		return erofs_err(log, -EINVAL,
				 "%s \"%s\": '/' cannot appear in the volume "
				 "directory name",
				 what, name);
	return 0;
}

int erofs_cookie_check_key(const char *what, const void *key, size_t len,
			   const struct erofs_log *log)
{
	if (!len)
		return erofs_err(log, -EINVAL, "%s: empty cookie key", what);
	if (len > EROFS_COOKIE_KEY_MAX)
		return erofs_err(log, -EINVAL,
				 "%s: cookie key of %zu bytes; cachefiles "
				 "accepts at most %d",
				 what, len, EROFS_COOKIE_KEY_MAX);
	if (memchr(key, '\0', len))
		return erofs_err(log, -EINVAL,
				 "%s: cookie key contains a NUL byte (the "
				 "kernel would cut it there)",
				 what);
	return 0;
}

/* cachefiles_filecharmap: '!'..'.' and '0'..DEL render as themselves */
static int key_char_printable(uint8_t c)
{
	return (c >= 33 && c <= 46) || (c >= 48 && c <= 127);
}

static unsigned int hex_digits(uint32_t v)
{
	unsigned int n = 0;

	while (v) {
		n++;
		v >>= 4;
	}
	return n;
}

int erofs_cookie_cook_key(const void *key, size_t len, char *out)
{
	static const char charmap[64] = "0123456789"
					"abcdefghijklmnopqrstuvwxyz"
					"ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					"_-";
	const uint8_t *k = key;
	uint8_t padded[EROFS_COOKIE_KEY_MAX + 4] = {0};
	unsigned int nbe = 0, nle = 0, groups, pad, b64len, n;
	size_t i, o;
	int print = 1;

	if (!len || len > EROFS_COOKIE_KEY_MAX)
		return -EINVAL;
	for (i = 0; i < len; i++)
		print &= key_char_printable(k[i]);
	if (print) {
		out[0] = 'D';
		memcpy(out + 1, k, len);
		out[len + 1] = '\0';
		return len + 1;
	}

	/* the kernel hashes and encodes the key zero-padded to whole words */
	memcpy(padded, k, len);
	n = erofs_round_up(len, 4);
	for (i = 0; i < n; i += 4) {
		nbe += 1 + hex_digits(erofs_get_be32(padded + i));
		nle += 1 + hex_digits(erofs_get_le32(padded + i));
	}
	groups = erofs_div_round_up(len, 3);
	pad = groups * 3 - len;
	b64len = 2 + groups * 4;
	if (nbe < b64len || nle < b64len) {
		int be = nbe <= nle;
		char sep = be ? 'S' : 'T';

		if ((be ? nbe : nle) > EROFS_COOKIE_NAME_MAX)
			return -ENAMETOOLONG;
		o = 0;
		for (i = 0; i < n; i += 4) {
			uint32_t w = be ? erofs_get_be32(padded + i)
					: erofs_get_le32(padded + i);

			out[o++] = sep;
			if (w)
				o += sprintf(out + o, "%x", w);
			sep = ',';
		}
		out[o] = '\0';
		return o;
	}
	if (b64len > EROFS_COOKIE_NAME_MAX)
		return -ENAMETOOLONG;
	out[0] = 'E';
	out[1] = '0' + pad;
	o = 2;
	for (i = 0; i < len; i += 3) {
		uint32_t acc = padded[i] | padded[i + 1] << 8 |
			       (uint32_t)padded[i + 2] << 16;

		for (int c = 0; c < 4; c++, acc >>= 6)
			out[o++] = charmap[acc & 63];
	}
	out[o] = '\0';
	return o;
}

int erofs_cookie_volume_init(struct erofs_cookie_volume *vol, const char *fsid,
			     const char *domain_id, const struct erofs_log *log)
{
	const char *name = domain_id ? domain_id : fsid;
	uint8_t buf[EROFS_COOKIE_VOLKEY_MAX + 8] = {0};
	size_t klen, hlen;
	int err;

	memset(vol, 0, sizeof(*vol));
	err = erofs_cookie_check_name("fsid", fsid, !domain_id, log);
	if (!err && domain_id)
		err = erofs_cookie_check_name("domain_id", domain_id, 1, log);
	if (err)
		return err;
	snprintf(vol->key, sizeof(vol->key), EROFS_COOKIE_VOLKEY_PREFIX "%s",
		 name);
	snprintf(vol->dir, sizeof(vol->dir), "I%s", vol->key);
	if (domain_id)
		snprintf(vol->mount_options, sizeof(vol->mount_options),
			 "fsid=%s,domain_id=%s", fsid, domain_id);
	else
		snprintf(vol->mount_options, sizeof(vol->mount_options),
			 "fsid=%s", fsid);
	/* fscache_alloc_volume(): length byte, key, NUL padding to a word */
	klen = strlen(vol->key);
	hlen = erofs_round_up(1 + klen + 1, 4);
	buf[0] = (uint8_t)klen;
	memcpy(buf + 1, vol->key, klen);
	vol->hash = erofs_fscache_hash(0, buf, hlen);
	return 0;
}

int erofs_cookie_init(struct erofs_cookie *ck,
		      const struct erofs_cookie_volume *vol,
		      unsigned int device_id, const void *key, size_t keylen,
		      uint64_t object_size, const struct erofs_log *log)
{
	uint8_t padded[EROFS_COOKIE_KEY_MAX + 4] = {0};
	char what[32];
	int n;

	memset(ck, 0, sizeof(*ck));
	snprintf(what, sizeof(what), "device %u", device_id);
	n = erofs_cookie_check_key(what, key, keylen, log);
	if (n)
		return n;
	ck->device_id = device_id;
	memcpy(ck->key, key, keylen);
	ck->keylen = keylen;
	ck->object_size = object_size;
	/* fscache_set_key(): no length word, zero padding to a word */
	memcpy(padded, key, keylen);
	ck->hash =
	    erofs_fscache_hash(vol->hash, padded, erofs_round_up(keylen, 4));
	snprintf(ck->fanout, sizeof(ck->fanout), "@%02x", ck->hash & 0xff);
	n = erofs_cookie_cook_key(key, keylen, ck->name);
	if (n < 0)
		return erofs_err(log, n,
				 "%s: the %zu-byte cookie key cooks to a file "
				 "name longer than %d bytes",
				 what, keylen, EROFS_COOKIE_NAME_MAX);
	snprintf(ck->path, sizeof(ck->path), "cache/%s/%s/%s", vol->dir,
		 ck->fanout, ck->name);
	return 0;
}

void erofs_cookie_data_xattr(uint64_t object_size,
			     uint8_t out[EROFS_CACHE_DATA_XATTR_SIZE])
{
	erofs_put_be64(out, object_size);
	erofs_put_be64(out + 8, 0); /* zero_point */
	out[16] = EROFS_CACHE_XATTR_TYPE_DATA;
	out[17] = EROFS_CACHE_CONTENT_NO_DATA;
}

void erofs_cookie_volume_xattr(uint8_t out[EROFS_CACHE_VOL_XATTR_SIZE])
{
	memset(out, 0, EROFS_CACHE_VOL_XATTR_SIZE);
}

bool erofs_cookie_size_fits(const struct erofs_cookie_table *t,
			    const struct erofs_cookie *ck, uint64_t size)
{
	if (!t->blksz || !ck->device_blocks)
		return true;
	return erofs_div_round_up(size, t->blksz) == ck->device_blocks;
}

void erofs_cookie_table_free(struct erofs_cookie_table *t)
{
	free(t->cookies);
	t->cookies = NULL;
	t->nr = 0;
}

static int table_add(struct erofs_cookie_table *t, const void *key,
		     size_t keylen, uint64_t size, const struct erofs_log *log)
{
	struct erofs_cookie *ck = &t->cookies[t->nr];
	int err;

	err = erofs_cookie_init(ck, &t->vol, t->nr, key, keylen, size, log);
	if (err)
		return err;
	t->nr++;
	return 0;
}

static int key_cmp(const void *a, const void *b, void *arg)
{
	const struct erofs_cookie *v = arg;
	const struct erofs_cookie *x = &v[*(const unsigned int *)a];
	const struct erofs_cookie *y = &v[*(const unsigned int *)b];
	int r;

	if (x->keylen != y->keylen)
		return x->keylen < y->keylen ? -1 : 1;
	r = memcmp(x->key, y->key, x->keylen);
	if (r)
		return r;
	return x->device_id < y->device_id ? -1 : x->device_id > y->device_id;
}

/*
 * Duplicate keys, found by sorting (a table may have 65536 cookies): the
 * first device in slot order whose key an earlier device already has.
 */
static int check_duplicates(const struct erofs_cookie_table *t,
			    const struct erofs_log *log)
{
	unsigned int *idx = malloc((t->nr ? t->nr : 1) * sizeof(*idx));
	unsigned int dup = UINT_MAX, first = 0;

	if (!idx)
		return erofs_err(log, -ENOMEM, "cookie table");
	for (unsigned int i = 0; i < t->nr; i++)
		idx[i] = i;
	qsort_r(idx, t->nr, sizeof(*idx), key_cmp, t->cookies);
	for (unsigned int i = 1, g = 0; i < t->nr; i++) {
		const struct erofs_cookie *a = &t->cookies[idx[g]];
		const struct erofs_cookie *b = &t->cookies[idx[i]];

		if (a->keylen != b->keylen ||
		    memcmp(a->key, b->key, a->keylen)) {
			g = i;
			continue;
		}
		/* idx[g] is the group's first device, idx[i] a later one */
		if (idx[i] < dup) {
			dup = idx[i];
			first = idx[g];
		}
	}
	free(idx);
	if (dup == UINT_MAX)
		return 0;
	return erofs_err(log, -EEXIST,
			 "device %u: cookie key \"%s\" already used by device "
			 "%u; the kernel refuses duplicate cookies",
			 dup, t->cookies[dup].key, first);
}

int erofs_cookie_table_build(struct erofs_cookie_table *t, const char *fsid,
			     const char *domain_id, uint64_t bootstrap_size,
			     unsigned int nr_blobs,
			     const char *const *blob_tags,
			     const uint64_t *blob_sizes,
			     const struct erofs_log *log)
{
	int err;

	memset(t, 0, sizeof(*t));
	err = erofs_cookie_volume_init(&t->vol, fsid, domain_id, log);
	if (err)
		return err;
	t->cookies = calloc((size_t)nr_blobs + 1, sizeof(*t->cookies));
	if (!t->cookies)
		return erofs_err(log, -ENOMEM, "cookie table");
	err = table_add(t, fsid, strlen(fsid), bootstrap_size, log);
	for (unsigned int i = 0; !err && i < nr_blobs; i++) {
		const char *tag = blob_tags ? blob_tags[i] : NULL;

		if (!tag || !*tag)
			err = erofs_err(log, -EINVAL,
					"device %u: empty device tag; the "
					"kernel needs a tag or a device= "
					"option to find the blob",
					i + 1);
		else
			err = table_add(t, tag, strlen(tag),
					blob_sizes ? blob_sizes[i]
						   : EROFS_COOKIE_SIZE_UNKNOWN,
					log);
	}
	if (!err)
		err = check_duplicates(t, log);
	if (err)
		erofs_cookie_table_free(t);
	return err;
}

static struct json_object *json_size(uint64_t v)
{
	if (v == EROFS_COOKIE_SIZE_UNKNOWN)
		return NULL;
	return json_object_new_uint64(v);
}

static int json_add(struct json_object *o, const char *k, struct json_object *v,
		    int nullable)
{
	if (!v && !nullable)
		return -ENOMEM;
	if (json_object_object_add(o, k, v)) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static struct json_object *json_hex32(uint32_t v)
{
	char s[16];

	snprintf(s, sizeof(s), "0x%08" PRIx32, v);
	return json_object_new_string(s);
}

/* printable ASCII keys appear as text; others only in hex */
static int key_is_text(const struct erofs_cookie *ck)
{
	for (size_t i = 0; i < ck->keylen; i++)
		if (ck->key[i] < 0x20 || ck->key[i] > 0x7e)
			return 0;
	return 1;
}

static struct json_object *cookie_json(const struct erofs_cookie *ck)
{
	struct json_object *o = json_object_new_object();
	char hex[2 * EROFS_COOKIE_KEY_MAX + 1];
	int err = 0;

	if (!o)
		return NULL;
	err |= json_add(o, "device_id", json_object_new_int(ck->device_id), 0);
	err |= json_add(
	    o, "role",
	    json_object_new_string(ck->device_id ? "blob" : "bootstrap"), 0);
	erofs_hex(hex, ck->key, ck->keylen);
	err |= json_add(o, "cookie_key",
			key_is_text(ck)
			    ? json_object_new_string((const char *)ck->key)
			    : NULL,
			1);
	err |= json_add(o, "cookie_key_hex", json_object_new_string(hex), 0);
	err |= json_add(o, "key_hash", json_hex32(ck->hash), 0);
	err |= json_add(o, "object_size", json_size(ck->object_size), 1);
	err |= json_add(o, "fanout", json_object_new_string(ck->fanout), 0);
	err |= json_add(o, "cooked_name", json_object_new_string(ck->name), 0);
	err |= json_add(o, "cache_path", json_object_new_string(ck->path), 0);
	if (err) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

int erofs_cookie_table_to_json(const struct erofs_cookie_table *t,
			       struct json_object **out,
			       const struct erofs_log *log)
{
	struct json_object *o = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	int err = 0;

	*out = NULL;
	if (!o || !arr) {
		json_object_put(o);
		json_object_put(arr);
		return erofs_err(log, -ENOMEM, "cookie table");
	}
	for (unsigned int i = 0; i < t->nr && !err; i++) {
		struct json_object *c = cookie_json(&t->cookies[i]);

		if (!c || json_object_array_add(arr, c)) {
			json_object_put(c);
			err = -ENOMEM;
		}
	}
	if (err) {
		json_object_put(arr);
	} else {
		err |= json_add(o, "volume_key",
				json_object_new_string(t->vol.key), 0);
		err |= json_add(o, "volume_dir",
				json_object_new_string(t->vol.dir), 0);
		err |= json_add(o, "volume_hash", json_hex32(t->vol.hash), 0);
		err |=
		    json_add(o, "mount_options",
			     json_object_new_string(t->vol.mount_options), 0);
		err |= json_add(o, "cookies", arr, 0);
	}
	if (err) {
		json_object_put(o);
		return erofs_err(log, -ENOMEM, "cookie table");
	}
	*out = o;
	return 0;
}

int erofs_cookie_table_json(const char *fsid, const char *domain_id,
			    uint64_t bootstrap_size, unsigned int nr_blobs,
			    const char *const *blob_tags,
			    const uint64_t *blob_sizes,
			    struct json_object **out,
			    const struct erofs_log *log)
{
	struct erofs_cookie_table t;
	int err;

	*out = NULL;
	err = erofs_cookie_table_build(&t, fsid, domain_id, bootstrap_size,
				       nr_blobs, blob_tags, blob_sizes, log);
	if (err)
		return err;
	err = erofs_cookie_table_to_json(&t, out, log);
	erofs_cookie_table_free(&t);
	return err;
}

/* size of <dir>/<key>, or SIZE_UNKNOWN when there is no such file */
static uint64_t blob_file_size(const char *dir, const char *key,
			       const struct erofs_log *log)
{
	char path[4096];
	struct stat st;

	if (!dir || strchr(key, '/') || !strcmp(key, ".") || !strcmp(key, ".."))
		return EROFS_COOKIE_SIZE_UNKNOWN;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, key) >=
	    sizeof(path))
		return EROFS_COOKIE_SIZE_UNKNOWN;
	if (stat(path, &st) || !S_ISREG(st.st_mode)) {
		erofs_dbg(log, "%s: no blob file", path);
		return EROFS_COOKIE_SIZE_UNKNOWN;
	}
	return st.st_size;
}

int erofs_cookie_table_from_image(struct erofs_cookie_table *t,
				  const struct erofs_image *img,
				  const char *fsid, const char *domain_id,
				  const char *const *devices,
				  unsigned int nr_devices,
				  uint64_t bootstrap_size, const char *blob_dir,
				  const struct erofs_log *log)
{
	unsigned int n = img->nr_devices;
	const char **tags;
	uint64_t *sizes;
	int err = 0;

	if (devices && nr_devices != n)
		return erofs_err(log, -EINVAL,
				 "%s: %u device= keys given but the image has "
				 "%u extra devices",
				 img->name, nr_devices, n);
	tags = calloc(n + 1, sizeof(*tags));
	sizes = calloc(n + 1, sizeof(*sizes));
	if (!tags || !sizes) {
		err = erofs_err(log, -ENOMEM, "cookie table");
		goto out;
	}
	for (unsigned int i = 0; i < n && !err; i++) {
		if (devices)
			err = erofs_cookie_check_name("device=", devices[i], 0,
						      log);
		tags[i] = devices ? devices[i] : img->devs[i].tag;
		if (!tags[i][0])
			err = erofs_err(log, -EINVAL,
					"%s: device %u has an empty tag; give "
					"its cookie key with --device (as the "
					"mount option device=)",
					img->name, i + 1);
		sizes[i] = blob_file_size(blob_dir, tags[i], log);
	}
	if (!err)
		err = erofs_cookie_table_build(
		    t, fsid, domain_id, bootstrap_size, n, tags, sizes, log);
	if (!err) {
		t->blksz = img->blksz;
		for (unsigned int i = 0; i < n; i++)
			t->cookies[i + 1].device_blocks = img->devs[i].blocks;
		for (unsigned int i = 1; !err && i < t->nr; i++) {
			const struct erofs_cookie *ck = &t->cookies[i];

			if (ck->object_size == EROFS_COOKIE_SIZE_UNKNOWN ||
			    erofs_cookie_size_fits(t, ck, ck->object_size))
				continue;
			err = erofs_err(log, -EINVAL,
					"%s/%s: %" PRIu64 " bytes, but the "
					"device table of %s gives device %u "
					"%" PRIu32 " blocks of %" PRIu32,
					blob_dir, tags[i - 1], ck->object_size,
					img->name, i, ck->device_blocks,
					t->blksz);
		}
		if (err)
			erofs_cookie_table_free(t);
	}
out:
	free(tags);
	free(sizes);
	return err;
}

static void print_key(FILE *f, const struct erofs_cookie *ck)
{
	if (key_is_text(ck)) {
		fputs((const char *)ck->key, f);
		return;
	}
	fputs("hex:", f);
	for (size_t i = 0; i < ck->keylen; i++)
		fprintf(f, "%02x", ck->key[i]);
}

void erofs_cookie_table_print(FILE *f, const struct erofs_cookie_table *t)
{
	fprintf(f, "volume key:    %s (hash 0x%08" PRIx32 ")\n", t->vol.key,
		t->vol.hash);
	fprintf(f, "volume dir:    cache/%s\n", t->vol.dir);
	fprintf(f, "mount options: %s\n", t->vol.mount_options);
	fprintf(f, "%-4s %-9s %-14s %-6s %-10s %s\n", "DEV", "ROLE",
		"OBJECT_SIZE", "FANOUT", "KEY_HASH", "COOKIE_KEY / CACHE_PATH");
	for (unsigned int i = 0; i < t->nr; i++) {
		const struct erofs_cookie *ck = &t->cookies[i];
		char size[24] = "-";

		if (ck->object_size != EROFS_COOKIE_SIZE_UNKNOWN)
			snprintf(size, sizeof(size), "%" PRIu64,
				 ck->object_size);
		fprintf(f, "%-4u %-9s %-14s %-6s 0x%08" PRIx32 " ",
			ck->device_id, ck->device_id ? "blob" : "bootstrap",
			size, ck->fanout, ck->hash);
		print_key(f, ck);
		fprintf(f, "\n%47s%s\n", "", ck->path);
	}
}

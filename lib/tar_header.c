// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Strict tar header reader: ustar, GNU (long names L/K, base-256
 * numbers) and pax (local 'x' and global 'g' records).  It exists for
 * --tar=headerball, a stream libarchive refuses because its regular
 * files have headers but no bodies; full archives go through libarchive.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "erofs/util.h"
#include "liberofs_tar_header.h"

#define BLOCK	  512u
#define SHOWN_MAX 512u

/* what pax records said: a local 'x' header or the global 'g' ones */
struct erofs_tar_pax {
	char *path, *linkpath;
	bool has_size, has_mtime, has_uid, has_gid;
	uint64_t size, uid, gid;
	int64_t mtime;
	uint32_t mtime_nsec;
	struct erofs_tar_xattr *xattrs;
	unsigned int nr_xattrs;
};

/* the header fields (offset, length) */
enum {
	F_NAME = 0,
	F_MODE = 100,
	F_UID = 108,
	F_GID = 116,
	F_SIZE = 124,
	F_MTIME = 136,
	F_CHKSUM = 148,
	F_TYPE = 156,
	F_LINK = 157,
	F_MAGIC = 257,
	F_VERSION = 263,
	F_DEVMAJOR = 329,
	F_DEVMINOR = 337,
	F_PREFIX = 345,
};

static void pax_free(struct erofs_tar_pax *p)
{
	if (!p)
		return;
	free(p->path);
	free(p->linkpath);
	for (unsigned int i = 0; i < p->nr_xattrs; i++) {
		free(p->xattrs[i].name);
		free(p->xattrs[i].value);
	}
	free(p->xattrs);
	memset(p, 0, sizeof(*p));
}

void erofs_tar_hdr_free(struct erofs_tar_hdr *h)
{
	free(h->path);
	free(h->linkpath);
	for (unsigned int i = 0; i < h->nr_xattrs; i++) {
		free(h->xattrs[i].name);
		free(h->xattrs[i].value);
	}
	free(h->xattrs);
	memset(h, 0, sizeof(*h));
}

void erofs_tar_reader_init(struct erofs_tar_reader *r, erofs_tar_read_fn rd,
			   void *arg, const char *src, bool headerball,
			   const struct erofs_log *log)
{
	memset(r, 0, sizeof(*r));
	r->read = rd;
	r->arg = arg;
	r->src = src;
	r->headerball = headerball;
	r->log = log;
}

void erofs_tar_reader_free(struct erofs_tar_reader *r)
{
	pax_free(r->global);
	free(r->global);
	r->global = NULL;
}

/* a corrupt or unsupported header: names the entry and where it is */
static int __attribute__((format(printf, 5, 6)))
bad(struct erofs_tar_reader *r, int err, const char *name, uint64_t off,
    const char *fmt, ...)
{
	char why[256], shown[SHOWN_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (name && *name)
		erofs_escape(shown, sizeof(shown), name);
	else
		strcpy(shown, "(unnamed)");
	return erofs_fail(r->log, err, "%s: entry \"%s\" at offset %llu: %s",
			  r->src, shown, (unsigned long long)off, why);
}

/* bytes read (fewer only at the end) or -errno */
static ssize_t read_full(struct erofs_tar_reader *r, void *buf, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = r->read(r->arg, (char *)buf + done, len - done);

		if (n < 0)
			return n;
		if (!n)
			break;
		done += n;
	}
	r->offset += done;
	return done;
}

/* drops @len bytes; -EIO when the stream ends first */
static int skip(struct erofs_tar_reader *r, uint64_t len)
{
	char buf[4096];

	while (len) {
		size_t n = len < sizeof(buf) ? len : sizeof(buf);
		ssize_t got = read_full(r, buf, n);

		if (got < 0)
			return got;
		if ((size_t)got < n)
			return -EIO;
		len -= n;
	}
	return 0;
}

static uint64_t padded(uint64_t len)
{
	return (len + BLOCK - 1) / BLOCK * BLOCK;
}

static bool all_zero(const uint8_t *p, size_t len)
{
	return !p[0] && !memcmp(p, p + 1, len - 1);
}

/*
 * A numeric field: octal digits after optional spaces, ended by a space
 * or NUL with nothing but spaces and NULs after; or GNU base-256 (first
 * byte 0x80 positive, 0xff negative two's complement).  An all-blank
 * field is 0 when @blank_ok.
 */
static int parse_num(const uint8_t *f, size_t len, bool blank_ok, int64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] == 0x80 || f[0] == 0xff) {
		bool neg = f[0] == 0xff;

		/* what does not fit 63 bits must be sign extension */
		for (i = 1; i + 8 < len; i++)
			if (f[i] != (neg ? 0xff : 0))
				return -ERANGE;
		for (; i < len; i++)
			v = v << 8 | f[i];
		if (neg ? !(v >> 63) : (v >> 63))
			return -ERANGE;
		*out = (int64_t)v;
		return 0;
	}
	while (i < len && f[i] == ' ')
		i++;
	if (i == len || !f[i] || f[i] == ' ') {
		for (; i < len; i++)
			if (f[i] && f[i] != ' ')
				return -EINVAL;
		if (!blank_ok)
			return -EINVAL;
		*out = 0;
		return 0;
	}
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -ERANGE;
		v = v << 3 | (f[i] - '0');
	}
	for (; i < len; i++)
		if (f[i] && f[i] != ' ')
			return -EINVAL;
	*out = v;
	return 0;
}

static int checksum_ok(const uint8_t *b, int64_t want)
{
	int64_t u = 0, s = 0;

	for (unsigned int i = 0; i < BLOCK; i++) {
		bool in = i >= F_CHKSUM && i < F_CHKSUM + 8;

		u += in ? ' ' : b[i];
		s += in ? ' ' : (signed char)b[i];
	}
	return want == u || want == s;
}

/* a decimal number of a pax record, the whole value */
static int pax_u64(const char *v, size_t len, uint64_t *out)
{
	uint64_t n = 0;

	if (!len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -EINVAL;
		if (n > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		n = n * 10 + (v[i] - '0');
	}
	*out = n;
	return 0;
}

/* "[-]SECONDS[.FRACTION]"; a fraction below ns is cut */
static int pax_time(const char *v, size_t len, int64_t *sec, uint32_t *nsec)
{
	bool neg = len && v[0] == '-';
	const char *dot = memchr(v, '.', len);
	size_t ilen = (dot ? (size_t)(dot - v) : len) - neg;
	uint64_t s, ns = 0;
	unsigned int digits = 0;
	int err = pax_u64(v + neg, ilen, &s);

	if (err)
		return err;
	if (s > INT64_MAX)
		return -ERANGE;
	if (dot) {
		const char *f = dot + 1;
		size_t flen = v + len - f;

		if (!flen)
			return -EINVAL;
		for (size_t i = 0; i < flen; i++) {
			if (f[i] < '0' || f[i] > '9')
				return -EINVAL;
			if (digits < 9) {
				ns = ns * 10 + (f[i] - '0');
				digits++;
			}
		}
		for (; digits < 9; digits++)
			ns *= 10;
	}
	if (neg && ns) {
		/* -1.25 is 1.25 s before the epoch: -2 s + 0.75 s */
		if (s == (uint64_t)INT64_MAX)
			return -ERANGE;
		*sec = -(int64_t)s - 1;
		*nsec = 1000000000 - ns;
	} else {
		*sec = neg ? -(int64_t)s : (int64_t)s;
		*nsec = ns;
	}
	return 0;
}

/*
 * %XX escapes of a LIBARCHIVE.xattr name (a '%' without two hex digits
 * stays as it is); NULL with -EINVAL in *@err for a name holding a NUL
 */
static char *url_decode(const char *s, size_t len, int *err)
{
	char *out = malloc(len + 1), *d = out;

	*err = -ENOMEM;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && erofs_hexval(s[i + 1]) >= 0 &&
		    erofs_hexval(s[i + 2]) >= 0) {
			*d++ = erofs_hexval(s[i + 1]) << 4 |
			       erofs_hexval(s[i + 2]);
			i += 2;
			continue;
		}
		*d++ = s[i];
	}
	*d = '\0';
	if (d == out || strlen(out) != (size_t)(d - out)) {
		free(out);
		*err = -EINVAL;
		return NULL;
	}
	return out;
}

/* base64 (padding optional) through libcrypto; -EINVAL when malformed */
static int base64_decode(const char *s, size_t len, uint8_t **out,
			 size_t *outlen)
{
	size_t plen, pads = 0;
	unsigned char *in, *o;
	int n;

	while (len && s[len - 1] == '=') {
		len--;
		pads++;
	}
	if (pads > 2 || len % 4 == 1)
		return -EINVAL;
	plen = (len + 3) / 4 * 4;
	in = malloc(plen + 1);
	o = malloc(plen / 4 * 3 + 1);
	if (!in || !o) {
		free(in);
		free(o);
		return -ENOMEM;
	}
	memcpy(in, s, len);
	memset(in + len, '=', plen - len);
	n = plen ? EVP_DecodeBlock(o, in, plen) : 0;
	free(in);
	if (n < 0) {
		free(o);
		return -EINVAL;
	}
	*out = o;
	*outlen = n - (plen - len);
	return 0;
}

/* sets (replaces) xattr @name; takes @name and @value */
static int xattr_put(struct erofs_tar_xattr **xs, unsigned int *nr, char *name,
		     uint8_t *value, size_t len)
{
	struct erofs_tar_xattr *p;

	for (unsigned int i = 0; i < *nr; i++) {
		if (strcmp((*xs)[i].name, name))
			continue;
		free((*xs)[i].value);
		free(name);
		(*xs)[i].value = value;
		(*xs)[i].len = len;
		return 0;
	}
	p = realloc(*xs, (*nr + 1) * sizeof(*p));
	if (!p) {
		free(name);
		free(value);
		return -ENOMEM;
	}
	*xs = p;
	p[*nr] = (struct erofs_tar_xattr){name, value, len};
	(*nr)++;
	return 0;
}

static int set_str(char **dst, const char *v, size_t len)
{
	free(*dst);
	*dst = NULL;
	if (!len)
		return 0; /* an empty value cancels */
	if (memchr(v, '\0', len))
		return -EINVAL;
	*dst = strndup(v, len);
	return *dst ? 0 : -ENOMEM;
}

/* one "KEY=VALUE" record */
static int pax_record(struct erofs_tar_reader *r, struct erofs_tar_pax *p,
		      const char *key, size_t klen, const char *v, size_t vlen,
		      uint64_t off, const char **what)
{
	int err;

#define KEY(s)	  (klen == sizeof(s) - 1 && !memcmp(key, s, klen))
#define PREFIX(s) (klen > sizeof(s) - 1 && !memcmp(key, s, sizeof(s) - 1))
	*what = NULL;
	if (KEY("path")) {
		*what = "path";
		return set_str(&p->path, v, vlen);
	}
	if (KEY("linkpath")) {
		*what = "linkpath";
		return set_str(&p->linkpath, v, vlen);
	}
	if (KEY("size")) {
		*what = "size";
		p->has_size = vlen > 0;
		err = vlen ? pax_u64(v, vlen, &p->size) : 0;
		if (!err && p->size > INT64_MAX)
			err = -ERANGE;
		return err;
	}
	if (KEY("mtime")) {
		*what = "mtime";
		p->has_mtime = vlen > 0;
		return vlen ? pax_time(v, vlen, &p->mtime, &p->mtime_nsec) : 0;
	}
	if (KEY("uid") || KEY("gid")) {
		bool uid = key[0] == 'u';

		*what = uid ? "uid" : "gid";
		if (uid)
			p->has_uid = vlen > 0;
		else
			p->has_gid = vlen > 0;
		return vlen ? pax_u64(v, vlen, uid ? &p->uid : &p->gid) : 0;
	}
	if (PREFIX("SCHILY.xattr.")) {
		char *name = strndup(key + 13, klen - 13);
		uint8_t *val = malloc(vlen ? vlen : 1);

		*what = "SCHILY.xattr";
		if (!name || !val) {
			free(name);
			free(val);
			return -ENOMEM;
		}
		memcpy(val, v, vlen);
		return xattr_put(&p->xattrs, &p->nr_xattrs, name, val, vlen);
	}
	if (PREFIX("LIBARCHIVE.xattr.")) {
		char *name = url_decode(key + 17, klen - 17, &err);
		uint8_t *val;
		size_t len;

		*what = "LIBARCHIVE.xattr";
		if (!name)
			return err;
		err = base64_decode(v, vlen, &val, &len);
		if (err) {
			free(name);
			return err;
		}
		return xattr_put(&p->xattrs, &p->nr_xattrs, name, val, len);
	}
#undef KEY
#undef PREFIX
	/* uname, gname, atime, ctime, comment, charset...: not kept */
	erofs_dbg(r->log, "%s: pax keyword \"%.*s\" at offset %llu ignored",
		  r->src, (int)(klen > 64 ? 64 : klen), key,
		  (unsigned long long)off);
	return 0;
}

/* the records "LEN KEY=VALUE\n" of a pax header body */
static int pax_parse(struct erofs_tar_reader *r, struct erofs_tar_pax *p,
		     const char *buf, size_t size, uint64_t off)
{
	size_t pos = 0;

	while (pos < size) {
		const char *rec = buf + pos, *kv, *eq;
		size_t len = 0, i = 0;
		const char *what;
		int err;

		for (; pos + i < size && rec[i] >= '0' && rec[i] <= '9'; i++) {
			if (len > size)
				break;
			len = len * 10 + (rec[i] - '0');
		}
		if (!i || pos + i >= size || rec[i] != ' ' || len <= i + 1 ||
		    len > size - pos || rec[len - 1] != '\n')
			return bad(r, -EINVAL, NULL, off,
				   "malformed pax record at byte %zu of the "
				   "extended header",
				   pos);
		kv = rec + i + 1;
		eq = memchr(kv, '=', rec + len - 1 - kv);
		if (!eq || eq == kv || memchr(kv, '\0', eq - kv))
			return bad(r, -EINVAL, NULL, off,
				   "pax record without a keyword at byte %zu "
				   "of the extended header",
				   pos);
		err = pax_record(r, p, kv, eq - kv, eq + 1,
				 rec + len - 1 - (eq + 1), off, &what);
		if (err == -ENOMEM)
			return err;
		if (err)
			return bad(r, err, p->path, off, "bad pax %s value",
				   what ? what : "record");
		pos += len;
	}
	return 0;
}

/* reads a body of @size bytes (and its padding) into a new buffer */
static int read_body(struct erofs_tar_reader *r, uint64_t size, char **out,
		     const char *name, uint64_t off)
{
	char *buf = malloc(size + 1);
	ssize_t n;

	if (!buf)
		return -ENOMEM;
	n = read_full(r, buf, size);
	if (n >= 0 && (uint64_t)n == size && !skip(r, padded(size) - size)) {
		buf[size] = '\0';
		*out = buf;
		return 0;
	}
	free(buf);
	if (n < 0)
		return n;
	return bad(r, -EIO, name, off, "the archive ends inside the entry");
}

static int merge_xattrs(struct erofs_tar_hdr *h, const struct erofs_tar_pax *p)
{
	for (unsigned int i = 0; p && i < p->nr_xattrs; i++) {
		const struct erofs_tar_xattr *x = &p->xattrs[i];
		char *name = strdup(x->name);
		uint8_t *v = malloc(x->len ? x->len : 1);
		int err;

		if (!name || !v) {
			free(name);
			free(v);
			return -ENOMEM;
		}
		memcpy(v, x->value, x->len);
		err = xattr_put(&h->xattrs, &h->nr_xattrs, name, v, x->len);
		if (err)
			return err;
	}
	return 0;
}

/* the ustar name: prefix "/" name (POSIX magic only), or the GNU name */
static char *ustar_path(const uint8_t *b, bool posix)
{
	size_t nlen = strnlen((const char *)b + F_NAME, 100);
	size_t plen = posix ? strnlen((const char *)b + F_PREFIX, 155) : 0;
	char *p = malloc(plen + 1 + nlen + 1);

	if (!p)
		return NULL;
	if (plen) {
		memcpy(p, b + F_PREFIX, plen);
		p[plen++] = '/';
	}
	memcpy(p + plen, b + F_NAME, nlen);
	p[plen + nlen] = '\0';
	return p;
}

/* the entry of ustar header @b at @off, with what pax and L/K said */
static int make_entry(struct erofs_tar_reader *r, const uint8_t *b,
		      uint64_t off, bool posix, struct erofs_tar_pax *lp,
		      char **lname, char **llink, struct erofs_tar_hdr *h)
{
	const struct erofs_tar_pax *g = r->global;
	int64_t v;
	int err;

	h->offset = off;
	h->type = b[F_TYPE] == '\0' || b[F_TYPE] == '7' ? '0' : b[F_TYPE];
	if (lp->path) {
		h->path = lp->path;
		lp->path = NULL;
	} else if (g && g->path) {
		h->path = strdup(g->path);
	} else if (*lname) {
		h->path = *lname;
		*lname = NULL;
	} else {
		h->path = ustar_path(b, posix);
	}
	if (!h->path)
		return -ENOMEM;
#define NUM(field, len, blank, what)                                           \
	do {                                                                   \
		err = parse_num(b + (field), (len), (blank), &v);              \
		if (err)                                                       \
			return bad(r, err, h->path, off, "bad %s field",       \
				   what);                                      \
	} while (0)
	NUM(F_MODE, 8, true, "mode");
	if (v < 0)
		return bad(r, -EINVAL, h->path, off, "negative mode");
	h->mode = v & 07777;
	if (lp->has_uid || (g && g->has_uid)) {
		h->uid = lp->has_uid ? lp->uid : g->uid;
	} else {
		NUM(F_UID, 8, true, "uid");
		if (v < 0)
			return bad(r, -EINVAL, h->path, off, "negative uid");
		h->uid = v;
	}
	if (lp->has_gid || (g && g->has_gid)) {
		h->gid = lp->has_gid ? lp->gid : g->gid;
	} else {
		NUM(F_GID, 8, true, "gid");
		if (v < 0)
			return bad(r, -EINVAL, h->path, off, "negative gid");
		h->gid = v;
	}
	if (lp->has_mtime || (g && g->has_mtime)) {
		h->mtime = lp->has_mtime ? lp->mtime : g->mtime;
		h->mtime_nsec = lp->has_mtime ? lp->mtime_nsec : g->mtime_nsec;
	} else {
		NUM(F_MTIME, 12, true, "mtime");
		h->mtime = v;
	}
	if (lp->has_size || (g && g->has_size)) {
		h->size = lp->has_size ? lp->size : g->size;
	} else {
		NUM(F_SIZE, 12, false, "size");
		if (v < 0)
			return bad(r, -EINVAL, h->path, off, "negative size");
		h->size = v;
	}
	if (h->type == '3' || h->type == '4') {
		NUM(F_DEVMAJOR, 8, true, "device major");
		if (v < 0 || v > UINT32_MAX)
			return bad(r, -ERANGE, h->path, off,
				   "device major out of range");
		h->devmajor = v;
		NUM(F_DEVMINOR, 8, true, "device minor");
		if (v < 0 || v > UINT32_MAX)
			return bad(r, -ERANGE, h->path, off,
				   "device minor out of range");
		h->devminor = v;
	}
#undef NUM
	if (h->type == '1' || h->type == '2') {
		if (lp->linkpath) {
			h->linkpath = lp->linkpath;
			lp->linkpath = NULL;
		} else if (g && g->linkpath) {
			h->linkpath = strdup(g->linkpath);
		} else if (*llink) {
			h->linkpath = *llink;
			*llink = NULL;
		} else {
			h->linkpath =
			    strndup((const char *)b + F_LINK,
				    strnlen((const char *)b + F_LINK, 100));
		}
		if (!h->linkpath)
			return -ENOMEM;
	}
	err = merge_xattrs(h, g);
	if (!err)
		err = merge_xattrs(h, lp);
	return err;
}

/* the block after a zero block: another zero block or the end */
static int end_marker(struct erofs_tar_reader *r, uint64_t off, bool pending)
{
	uint8_t b[BLOCK];
	ssize_t n;

	if (pending)
		return bad(r, -EINVAL, NULL, off,
			   "the archive ends after an extended header");
	n = read_full(r, b, BLOCK);
	if (n < 0)
		return n;
	if (n && (n < (ssize_t)BLOCK || !all_zero(b, BLOCK)))
		return bad(r, -EINVAL, NULL, off,
			   "a zero block followed by more data (not an "
			   "end-of-archive marker)");
	r->ended = true;
	return 0;
}

int erofs_tar_next(struct erofs_tar_reader *r, struct erofs_tar_hdr *h)
{
	struct erofs_tar_pax lp = {0};
	char *lname = NULL, *llink = NULL;
	uint8_t b[BLOCK];
	int err = 0;

	erofs_tar_hdr_free(h);
	if (r->ended)
		return 0;
	if (r->skip) {
		uint64_t at = r->offset;

		err = skip(r, r->skip);
		r->skip = 0;
		if (err)
			return err == -EIO ? bad(r, -EIO, NULL, at,
						 "the archive ends inside a "
						 "file's data")
					   : err;
	}
	for (;;) {
		uint64_t off = r->offset, size;
		bool pending = lp.path || lp.linkpath || lp.nr_xattrs ||
			       lp.has_size || lp.has_mtime || lp.has_uid ||
			       lp.has_gid || lname || llink;
		ssize_t n = read_full(r, b, BLOCK);
		bool posix;
		int64_t v;
		char *body;

		if (n < 0) {
			err = n;
			break;
		}
		if (!n) {
			if (pending) {
				err = bad(r, -EINVAL, NULL, off,
					  "the archive ends after an extended "
					  "header");
				break;
			}
			erofs_warn(
			    r->log,
			    "%s: no end-of-archive marker at offset %llu",
			    r->src, (unsigned long long)off);
			r->ended = true;
			break;
		}
		if (n < (ssize_t)BLOCK) {
			err = bad(r, -EIO, NULL, off,
				  "truncated header (%zd of 512 bytes)", n);
			break;
		}
		if (all_zero(b, BLOCK)) {
			err = end_marker(r, off, pending);
			break;
		}
		err = parse_num(b + F_CHKSUM, 8, false, &v);
		if (err || !checksum_ok(b, v)) {
			err = bad(r, -EINVAL, NULL, off,
				  "header checksum does not match");
			break;
		}
		posix = !memcmp(b + F_MAGIC, "ustar\0", 6) &&
			!memcmp(b + F_VERSION, "00", 2);
		if (!posix && memcmp(b + F_MAGIC, "ustar  \0", 8)) {
			err = bad(r, -EINVAL, NULL, off,
				  "not a ustar or GNU tar header");
			break;
		}
		err = parse_num(b + F_SIZE, 12, false, &v);
		if (err || v < 0) {
			err = bad(r, err ? err : -EINVAL, NULL, off,
				  "bad size field");
			break;
		}
		size = v;
		switch (b[F_TYPE]) {
		case 'x':
		case 'g':
			if (size > EROFS_TAR_PAX_MAX) {
				err = bad(r, -EFBIG, NULL, off,
					  "extended header of %llu bytes (at "
					  "most %u)",
					  (unsigned long long)size,
					  EROFS_TAR_PAX_MAX);
				break;
			}
			err = read_body(r, size, &body, NULL, off);
			if (err)
				break;
			if (b[F_TYPE] == 'g' && !r->global) {
				r->global = calloc(1, sizeof(*r->global));
				if (!r->global) {
					free(body);
					err = -ENOMEM;
					break;
				}
			}
			err = pax_parse(r, b[F_TYPE] == 'x' ? &lp : r->global,
					body, size, off);
			free(body);
			break;
		case 'L':
		case 'K':
			if (!size || size > EROFS_TAR_PATH_MAX) {
				err = bad(r, -ENAMETOOLONG, NULL, off,
					  "GNU long %s of %llu bytes",
					  b[F_TYPE] == 'L' ? "name" : "link",
					  (unsigned long long)size);
				break;
			}
			err = read_body(r, size, &body, NULL, off);
			if (err)
				break;
			free(b[F_TYPE] == 'L' ? lname : llink);
			if (b[F_TYPE] == 'L')
				lname = body;
			else
				llink = body;
			break;
		case '\0':
		case '0':
		case '7':
		case '1':
		case '2':
		case '3':
		case '4':
		case '5':
		case '6':
			err = make_entry(r, b, off, posix, &lp, &lname, &llink,
					 h);
			if (err)
				break;
			if (h->type == '0' || h->type == '1') {
				if (!r->headerball)
					r->skip = padded(h->size);
			} else if (h->size && r->headerball) {
				err = bad(r, -EINVAL, h->path, off,
					  "%llu bytes of data on an entry of "
					  "type '%c'",
					  (unsigned long long)h->size, h->type);
			} else {
				r->skip = padded(h->size);
			}
			if (!err) {
				pax_free(&lp);
				free(lname);
				free(llink);
				return 1;
			}
			break;
		default:
			/* volume labels, GNU sparse/multivolume...: skipped */
			erofs_warn(
			    r->log,
			    "%s: entry of type '%c' at offset %llu skipped",
			    r->src,
			    b[F_TYPE] >= ' ' && b[F_TYPE] < 127 ? b[F_TYPE]
								: '?',
			    (unsigned long long)off);
			err = skip(r, padded(size));
			if (err == -EIO)
				err = bad(r, -EIO, NULL, off,
					  "the archive ends inside the entry");
			pax_free(&lp);
			free(lname);
			free(llink);
			lname = llink = NULL;
			break;
		}
		if (err)
			break;
	}
	pax_free(&lp);
	free(lname);
	free(llink);
	if (err)
		erofs_tar_hdr_free(h);
	return err;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target over the archive importer (lib/import_tar.c) with a
 * structure-aware generator: the input is read as a program that writes a
 * tar archive (ustar headers with valid checksums, pax records for xattrs,
 * ACLs, sizes, sparse maps and device numbers, GNU long names, hard links,
 * symlinks, whiteouts and opaque markers, names from a small vocabulary
 * with "..", "/", "." and control characters), so most inputs get past the
 * checksum and reach the importer's semantics; one input in eight is
 * handed over as raw bytes instead (libarchive's format detection and
 * every parser behind it).  The first byte picks the layer semantics
 * (keep, --aufs, --aufs --ovlfs-strip, apply) and whether the archive is
 * imported twice into one tree (a second layer over the first).
 *
 * After a successful import the tree must finalize (no duplicate names,
 * the root a directory): a failure there is a bug and aborts.
 *
 * The archive is read undecompressed: the decompressing reader
 * (lib/decompress.c, ISA-L) is replaced by a plain reader below, so this
 * target links nothing beyond what run-fuzz.sh provides.
 *
 * Seeds (tests/fuzz/corpus/tar/): generator programs written by hand, one
 * per feature (see the names), each under 200 bytes.
 */
// fuzz-sources: lib/import_tar.c lib/import_tar_path.c lib/import_tar_xattr.c
// fuzz-sources: lib/tar_header.c lib/import_dir.c lib/tree.c
// fuzz-sources: lib/xattr.c lib/build_outputs.c lib/build_data.c
// fuzz-sources: lib/build_blobs.c lib/build_finish.c lib/build_order.c
// fuzz-sources: lib/log.c lib/util.c lib/ondisk.c lib/build.c lib/chunk.c
// fuzz-sources: lib/blob.c lib/image.c lib/dir.c lib/manifest.c lib/cookie.c
// fuzz-options: -max_len=4096
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "liberofs_decompress.h"
#include "liberofs_import.h"

#define OUT_MAX (1u << 20)

/* ------------------------------------------------ a plain stream reader */
struct erofs_dstream {
	int fd;
	uint8_t buf[65536];
	uint64_t in;
	char msg[64];
	int err;
};

int erofs_dstream_open(struct erofs_dstream **dp, int fd, const char *name,
		       const struct erofs_log *log)
{
	(void)name;
	(void)log;
	*dp = calloc(1, sizeof(**dp));
	if (!*dp)
		return -ENOMEM;
	(*dp)->fd = fd;
	return 0;
}

ssize_t erofs_dstream_read(struct erofs_dstream *d, const void **buf)
{
	ssize_t n = read(d->fd, d->buf, sizeof(d->buf));

	*buf = d->buf;
	if (n < 0) {
		d->err = -errno;
		snprintf(d->msg, sizeof(d->msg), "read error");
		return d->err;
	}
	d->in += n;
	return n;
}

/* as the real reader does for a plain file: move on without reading */
int64_t erofs_dstream_skip(struct erofs_dstream *d, int64_t len)
{
	struct stat st;
	off_t cur = lseek(d->fd, 0, SEEK_CUR);

	if (len <= 0 || cur < 0 || fstat(d->fd, &st) < 0)
		return 0;
	if (len > st.st_size - cur)
		len = st.st_size > cur ? st.st_size - cur : 0;
	if (lseek(d->fd, len, SEEK_CUR) < 0)
		return 0;
	d->in += len;
	return len;
}

int erofs_dstream_file_fd(const struct erofs_dstream *d, uint64_t *base)
{
	*base = 0;
	return d->fd;
}

void erofs_dstream_set_dump(struct erofs_dstream *d, int fd, const char *name)
{
	(void)d;
	(void)fd;
	(void)name;
}

const char *erofs_dstream_error(const struct erofs_dstream *d)
{
	return d->err ? d->msg : NULL;
}

int erofs_dstream_drain(struct erofs_dstream *d)
{
	const void *buf;
	ssize_t n;

	while ((n = erofs_dstream_read(d, &buf)) > 0)
		;
	return n;
}

const char *erofs_dstream_compression(const struct erofs_dstream *d)
{
	(void)d;
	return "none";
}

uint64_t erofs_dstream_bytes_in(const struct erofs_dstream *d)
{
	return d->in;
}

void erofs_dstream_close(struct erofs_dstream *d)
{
	free(d);
}

/* ------------------------------------------------------- the generator */
struct gen {
	const uint8_t *p;
	size_t left;
	uint8_t *out;
	size_t len;
};

static unsigned int take(struct gen *g)
{
	if (!g->left)
		return 0;
	g->left--;
	return *g->p++;
}

static void put(struct gen *g, const void *p, size_t n)
{
	if (g->len + n > OUT_MAX)
		n = OUT_MAX - g->len;
	memcpy(g->out + g->len, p, n);
	g->len += n;
}

static void pad(struct gen *g)
{
	static const uint8_t zeros[512];

	if (g->len % 512)
		put(g, zeros, 512 - g->len % 512);
}

static const char *const words[] = {
    "a",    "b",    "d",	   "..",	 ".",	  "",
    "x/y",  "/abs", "l",	   "h",		 ".wh.a", ".wh..wh..opq",
    ".wh.", "d/",   "caf\xc3\xa9", "n\x1b[1m\n",
};

/* a path of 1..4 components from the vocabulary (or raw bytes) */
static void gen_name(struct gen *g, char *name, size_t size)
{
	unsigned int n = 1 + take(g) % 4;
	size_t len = 0;

	name[0] = '\0';
	for (unsigned int i = 0; i < n && len + 40 < size; i++) {
		unsigned int w = take(g);

		if (i)
			name[len++] = '/';
		if (w >= 240) {
			/* raw bytes, NUL-free */
			for (unsigned int k = w - 239; k && len + 2 < size;
			     k--) {
				unsigned int ch = take(g);

				name[len++] = ch ? ch : 'z';
			}
		} else {
			len += snprintf(name + len, size - len, "%s",
					words[w % 16]);
		}
		name[len] = '\0';
	}
}

static void header(struct gen *g, const char *name, char type, uint64_t size,
		   unsigned int mode, const char *link, unsigned int major,
		   unsigned int minor)
{
	uint8_t h[512] = {0};
	unsigned int sum = 0;

	memcpy(h, name, strnlen(name, 100));
	snprintf((char *)h + 100, 8, "%07o", mode & 07777);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011llo",
		 (unsigned long long)(size & 077777777777ull));
	snprintf((char *)h + 136, 12, "%011o", 1234);
	h[156] = type;
	if (link)
		memcpy(h + 157, link, strnlen(link, 100));
	memcpy(h + 257,
	       "ustar\0"
	       "00",
	       8);
	snprintf((char *)h + 329, 8, "%07o", major & 07777777);
	snprintf((char *)h + 337, 8, "%07o", minor & 07777777);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	put(g, h, 512);
}

static void pax_record(char *body, size_t *len, size_t size, const char *kv)
{
	size_t r = strlen(kv) + 2, n = r + 1;

	while (n != r + snprintf(NULL, 0, "%zu", n))
		n = r + snprintf(NULL, 0, "%zu", n);
	if (*len + n < size)
		*len += snprintf(body + *len, size - *len, "%zu %s\n", n, kv);
}

static const char *const pax_keys[] = {
    "SCHILY.xattr.user.a=1",
    "SCHILY.xattr.user.a=2",
    "SCHILY.xattr.trusted.overlay.opaque=y",
    "SCHILY.xattr.system.posix_acl_access=\x02\x00\x00\x00",
    "SCHILY.xattr.security.capability=xx",
    "SCHILY.devmajor=5000",
    "SCHILY.devminor=3000000",
    "size=99999999999999",
    "size=-1",
    "mtime=1.5",
    "mtime=-3.999999999",
    "uid=4294967296",
    "GNU.sparse.major=1",
    "GNU.sparse.minor=0",
    "GNU.sparse.realsize=1099511627776",
    "SCHILY.acl.access=user::rw-,group::r--,other::r--,user:7:rwx,mask::rwx",
    "SCHILY.acl.default=user::rwx,group::r-x,other::---",
    "path=p/../q",
    "linkpath=d",
    "SCHILY.xattr.=empty",
};

static void gen_entry(struct gen *g)
{
	char name[256], link[128];
	unsigned int op = take(g), size = take(g) | (take(g) & 3) << 8;
	uint8_t data[1024];

	gen_name(g, name, sizeof(name));
	switch (op % 12) {
	case 0:
	case 1: /* a file with data */
		header(g, name, '0', size, take(g) << 3 | 4, NULL, 0, 0);
		for (unsigned int i = 0; i < size; i++)
			data[i] = take(g);
		put(g, data, size);
		pad(g);
		break;
	case 2:
		header(g, name, '5', 0, 0755, NULL, 0, 0);
		break;
	case 3:
		gen_name(g, link, sizeof(link));
		header(g, name, '2', 0, 0777, link, 0, 0);
		break;
	case 4:
		gen_name(g, link, sizeof(link));
		header(g, name, '1', 0, 0644, link, 0, 0);
		break;
	case 5:
		header(g, name, '3' + take(g) % 4, 0, 0600, NULL, take(g),
		       take(g) << 12 | take(g));
		break;
	case 6: { /* pax records for the next entry */
		char body[2048];
		size_t len = 0;
		unsigned int n = 1 + take(g) % 4;

		for (unsigned int i = 0; i < n; i++)
			pax_record(body, &len, sizeof(body),
				   pax_keys[take(g) % 20]);
		header(g, "PaxHeader", take(g) & 1 ? 'x' : 'g', len, 0644, NULL,
		       0, 0);
		put(g, body, len);
		pad(g);
		break;
	}
	case 7: { /* GNU long name */
		char longname[600];
		unsigned int n = take(g) * 2;

		memset(longname, 'L', n);
		longname[n] = '\0';
		header(g, "././@LongLink", 'L', n + 1, 0644, NULL, 0, 0);
		put(g, longname, n + 1);
		pad(g);
		break;
	}
	case 8: /* a file that claims more than it carries */
		header(g, name, '0', size + 512 * (take(g) + 1), 0644, NULL, 0,
		       0);
		break;
	case 9: { /* a header with a broken checksum */
		size_t at = g->len;

		header(g, name, '0', 0, 0644, NULL, 0, 0);
		if (g->len == at + 512)
			g->out[at + 148 + take(g) % 8] ^= 1 + take(g) % 255;
		break;
	}
	case 10: /* the end marker, then more */
		header(g, "", 0, 0, 0, NULL, 0, 0);
		memset(g->out + g->len - 512, 0, 512);
		break;
	default: /* truncation: stop here */
		g->left = 0;
		break;
	}
}

static int import(struct erofs_tree *t, struct erofs_xattr_table *xt,
		  const uint8_t *tar, size_t len, unsigned int mode)
{
	struct erofs_import_tar_opts o = {
	    .whiteouts = (enum erofs_whiteout_mode)(mode % 3),
	    .ovlfs_strip = mode == 3,
	    .chunksize = 4096,
	};
	int fd = memfd_create("tar", 0), spool = memfd_create("spool", 0);
	int err = -EIO;

	if (mode == 3)
		o.whiteouts = EROFS_WHITEOUT_OVERLAY;
	if (fd >= 0 && spool >= 0 && write(fd, tar, len) == (ssize_t)len &&
	    !lseek(fd, 0, SEEK_SET)) {
		o.fd = fd;
		err = erofs_import_tar(t, xt, "fuzz.tar", spool, &o);
	}
	if (fd >= 0)
		close(fd);
	if (spool >= 0)
		close(spool);
	return err;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gen g = {.p = data + 1, .left = size ? size - 1 : 0};
	struct erofs_log log;
	struct erofs_tree t;
	struct erofs_xattr_table xt;
	unsigned int ctl = size ? data[0] : 0;
	int err;

	if (!size)
		return 0;
	g.out = malloc(OUT_MAX);
	if (!g.out)
		return 0;
	if ((ctl & 0x70) == 0x70) {
		put(&g, data + 1, size - 1); /* raw bytes */
	} else {
		while (g.left && g.len + 4096 < OUT_MAX)
			gen_entry(&g);
		if (!(ctl & 0x80))
			put(&g, (uint8_t[1024]){0}, 1024);
	}
	erofs_log_init(&log, "fuzz_tar");
	log.level = -1;
	erofs_tree_init(&t, &log);
	erofs_xattr_table_init(&xt, &log);
	err = import(&t, &xt, g.out, g.len, ctl & 3);
	if (!err && (ctl & 4))
		err = import(&t, &xt, g.out, g.len, ctl & 3);
	if (!err && erofs_tree_finalize(&t)) {
		fprintf(stderr, "fuzz_tar: imported, but the tree is broken\n");
		abort();
	}
	erofs_xattr_table_free(&xt);
	erofs_tree_free(&t);
	free(g.out);
	return 0;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Shared helpers: atomic output files, full I/O, hex, size parsing.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "erofs/util.h"

int erofs_outfile_open(struct erofs_outfile *of, const char *path,
		       const struct erofs_log *log)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path + 1) : 0;

	of->fd = -1;
	of->path = strdup(path);
	if (!of->path ||
	    asprintf(&of->tmppath, "%.*s.%s.tmpXXXXXX", dirlen, path, base) < 0) {
		free(of->path);
		of->path = of->tmppath = NULL;
		return erofs_err(log, -ENOMEM, "%s", path);
	}
	of->fd = mkostemp(of->tmppath, O_CLOEXEC);
	if (of->fd < 0) {
		int err = -errno;

		free(of->path);
		free(of->tmppath);
		of->path = of->tmppath = NULL;
		return erofs_err(log, err, "cannot create output next to %s",
				 path);
	}
	/* mkostemp creates 0600; outputs are ordinary readable files */
	fchmod(of->fd, 0644);
	return 0;
}

int erofs_outfile_commit(struct erofs_outfile *of,
			 const struct erofs_log *log)
{
	int err = 0;

	/*
	 * No fsync: the rename makes the output appear whole to readers; a
	 * build is repeated after a crash rather than trusted half-synced.
	 */
	if (close(of->fd) < 0)
		err = erofs_err(log, -errno, "%s: close", of->tmppath);
	of->fd = -1;
	if (!err && rename(of->tmppath, of->path) < 0)
		err = erofs_err(log, -errno, "cannot rename %s to %s",
				of->tmppath, of->path);
	if (err)
		unlink(of->tmppath);
	free(of->path);
	free(of->tmppath);
	of->path = of->tmppath = NULL;
	return err;
}

void erofs_outfile_abort(struct erofs_outfile *of)
{
	if (of->fd >= 0)
		close(of->fd);
	if (of->tmppath)
		unlink(of->tmppath);
	free(of->path);
	free(of->tmppath);
	of->path = of->tmppath = NULL;
	of->fd = -1;
}

int erofs_pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;

	while (len) {
		ssize_t n = pwrite(fd, p, len, off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= n;
		off += n;
	}
	return 0;
}

int erofs_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

ssize_t erofs_pread_all(int fd, void *buf, size_t len, off_t off)
{
	char *p = buf;
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, p + done, len - done, off + done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += n;
	}
	return done;
}

void erofs_hex(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int erofs_unhex(uint8_t *out, const char *hex, size_t n)
{
	if (strlen(hex) != 2 * n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = hi << 4 | lo;
	}
	return 0;
}

int erofs_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int erofs_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	if (!s || !*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno == ERANGE)
		return errno == ERANGE ? -ERANGE : -EINVAL;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1] && strcmp(end + 1, "iB") && strcmp(end + 1, "B"))
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int erofs_sha256_fd(int fd, uint64_t size, uint8_t out[EROFS_SHA256_LEN])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t bufsz = 1 << 20;
	char *buf = malloc(bufsz), *zero = calloc(1, bufsz);
	uint64_t off = 0;
	int err = 0;

	if (!ctx || !buf || !zero ||
	    !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		err = -ENOMEM;
		goto out;
	}
	while (off < size) {
		size_t want = size - off < bufsz ? size - off : bufsz;
		off_t data = lseek(fd, off, SEEK_DATA);
		ssize_t n;

		/* holes hash as zeros without being read */
		if ((data < 0 && errno == ENXIO) || (data >= 0 &&
						     (uint64_t)data > off)) {
			uint64_t hole = data < 0 ? size - off : data - off;

			if (hole < want)
				want = hole;
			EVP_DigestUpdate(ctx, zero, want);
			off += want;
			continue;
		}
		n = erofs_pread_all(fd, buf, want, off);
		if (n < 0) {
			err = n;
			goto out;
		}
		if ((size_t)n != want) {
			err = -EIO;
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, n);
		off += n;
	}
	EVP_DigestFinal_ex(ctx, out, NULL);
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	free(zero);
	return err;
}

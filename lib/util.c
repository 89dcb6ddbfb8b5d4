// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Shared helpers: atomic output files, full I/O, hex, size parsing.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "erofs/util.h"

struct dirent64_raw {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/*
 * Empties the directory @fd, @depth levels of subdirectories down, and
 * closes it.  Only async-signal-safe calls (getdents64 through syscall(),
 * no DIR stream); entries removed while listing may hide others, so the
 * listing restarts until a pass removes nothing.
 */
static void empty_dir_fd(int fd, int depth)
{
	char buf[2048] __attribute__((aligned(8)));
	bool again = true;

	while (again) {
		long n;

		again = false;
		if (lseek(fd, 0, SEEK_SET) < 0)
			break;
		while ((n = syscall(SYS_getdents64, fd, buf, sizeof(buf))) >
		       0) {
			for (long off = 0; off < n;) {
				struct dirent64_raw *de = (void *)(buf + off);
				const char *name = de->d_name;
				int sub;

				off += de->d_reclen;
				if (name[0] == '.' &&
				    (!name[1] || (name[1] == '.' && !name[2])))
					continue;
				if (!unlinkat(fd, name, 0)) {
					again = true;
					continue;
				}
				if (errno != EISDIR || depth <= 0)
					continue;
				sub = openat(fd, name,
					     O_RDONLY | O_DIRECTORY |
						 O_NOFOLLOW | O_CLOEXEC);
				if (sub >= 0)
					empty_dir_fd(sub, depth - 1);
				if (!unlinkat(fd, name, AT_REMOVEDIR))
					again = true;
			}
		}
	}
	close(fd);
}

void erofs_tmpnames_unlink(struct erofs_tmpnames *t)
{
	int saved = errno;

	if (!t)
		return;
	for (int i = 0; i < EROFS_TMPNAMES_MAX; i++) {
		int fd;

		if (t->used[i] == EROFS_TMPNAME_FILE) {
			unlink(t->path[i]);
		} else if (t->used[i] == EROFS_TMPNAME_TREE) {
			fd = open(t->path[i], O_RDONLY | O_DIRECTORY |
						  O_NOFOLLOW | O_CLOEXEC);
			if (fd >= 0)
				empty_dir_fd(fd, 8);
			rmdir(t->path[i]);
		}
	}
	errno = saved;
}

int erofs_tmpnames_add(struct erofs_tmpnames *reg, const char *path, int kind)
{
	size_t len = strlen(path);

	if (!reg || len >= EROFS_TMPNAME_LEN)
		return -1;
	for (int i = 0; i < EROFS_TMPNAMES_MAX; i++) {
		if (reg->used[i])
			continue;
		memcpy(reg->path[i], path, len + 1);
		/* the name is complete before a handler can see the slot */
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		reg->used[i] = kind;
		return i;
	}
	return -1;
}

void erofs_tmpnames_forget(struct erofs_tmpnames *reg, int slot)
{
	if (reg && slot >= 0 && slot < EROFS_TMPNAMES_MAX)
		reg->used[slot] = 0;
}

static void tmpname_forget(struct erofs_outfile *of)
{
	erofs_tmpnames_forget(of->reg, of->slot);
	of->slot = -1;
}

/*
 * A temporary name next to @path: ".NAME.tmpXXXXXX", or a shorter
 * ".erofs.tmpXXXXXX" when NAME is too long for that.
 */
static char *tmp_template(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	char *t;

	if (strlen(base) + 11 <= NAME_MAX) {
		if (asprintf(&t, "%.*s.%s.tmpXXXXXX", dirlen, path, base) < 0)
			return NULL;
	} else if (asprintf(&t, "%.*s.erofs.tmpXXXXXX", dirlen, path) < 0) {
		return NULL;
	}
	return t;
}

/* the directory of @path, for O_TMPFILE */
static char *dir_part(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		return strdup(".");
	if (slash == path)
		return strdup("/");
	return strndup(path, slash - path);
}

int erofs_outfile_open_reg(struct erofs_outfile *of, const char *path,
			   struct erofs_tmpnames *reg,
			   const struct erofs_log *log)
{
	const char *no_tmpfile = getenv("EROFS_NO_O_TMPFILE");
	char *dir;
	int err;

	memset(of, 0, sizeof(*of));
	of->fd = -1;
	of->slot = -1;
	of->reg = reg;
	of->path = strdup(path);
	dir = dir_part(path);
	if (!of->path || !dir) {
		free(dir);
		free(of->path);
		of->path = NULL;
		return erofs_err(log, -ENOMEM, "%s", path);
	}
	/* unlinked until the commit: a killed build leaves nothing */
	if (!no_tmpfile || !*no_tmpfile || !strcmp(no_tmpfile, "0")) {
		of->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
		if (of->fd >= 0) {
			of->unlinked = true;
		} else if (errno != EOPNOTSUPP && errno != EISDIR &&
			   errno != EINVAL && errno != ENOENT) {
			err = -errno;
			free(dir);
			free(of->path);
			of->path = NULL;
			return erofs_err(
			    log, err, "cannot create output next to %s", path);
		}
	}
	free(dir);
	if (of->fd < 0) {
		of->tmppath = tmp_template(path);
		if (!of->tmppath) {
			free(of->path);
			of->path = NULL;
			return erofs_err(log, -ENOMEM, "%s", path);
		}
		of->fd = mkostemp(of->tmppath, O_CLOEXEC);
		if (of->fd < 0) {
			err = -errno;
			free(of->path);
			free(of->tmppath);
			of->path = of->tmppath = NULL;
			return erofs_err(
			    log, err, "cannot create output next to %s", path);
		}
		of->slot =
		    erofs_tmpnames_add(reg, of->tmppath, EROFS_TMPNAME_FILE);
	}
	/* outputs are ordinary readable files, whatever the umask */
	fchmod(of->fd, 0644);
	return 0;
}

int erofs_outfile_open(struct erofs_outfile *of, const char *path,
		       const struct erofs_log *log)
{
	return erofs_outfile_open_reg(of, path, NULL, log);
}

/* gives the unlinked file @of->fd the name @name (which must not exist) */
static int link_unlinked(int fd, const char *name)
{
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (!linkat(AT_FDCWD, proc, AT_FDCWD, name, AT_SYMLINK_FOLLOW))
		return 0;
	if (errno == ENOENT && access("/proc/self/fd", F_OK) < 0 &&
	    !linkat(fd, "", AT_FDCWD, name, AT_EMPTY_PATH))
		return 0;
	return -errno;
}

/* names an O_TMPFILE output: at once, or via a temporary name + rename */
static int commit_unlinked(struct erofs_outfile *of,
			   const struct erofs_log *log)
{
	int err = link_unlinked(of->fd, of->path);

	if (err != -EEXIST)
		return err ? erofs_err(log, err, "cannot create %s", of->path)
			   : 0;
	/* replace the existing file atomically */
	for (int tries = 0; tries < 100; tries++) {
		char *t = tmp_template(of->path);
		int fd;

		if (!t)
			return -ENOMEM;
		/* pick a free name with mkstemp, then link over it */
		fd = mkostemp(t, O_CLOEXEC);
		if (fd < 0) {
			err = erofs_err(log, -errno,
					"cannot create a name next to %s",
					of->path);
			free(t);
			return err;
		}
		close(fd);
		of->slot = erofs_tmpnames_add(of->reg, t, EROFS_TMPNAME_FILE);
		unlink(t);
		err = link_unlinked(of->fd, t);
		if (err == -EEXIST) {
			tmpname_forget(of);
			free(t);
			continue;
		}
		if (!err && rename(t, of->path) < 0) {
			err = -errno;
			unlink(t);
		}
		tmpname_forget(of);
		free(t);
		if (err)
			return erofs_err(log, err, "cannot create %s",
					 of->path);
		return 0;
	}
	return erofs_err(log, -EEXIST, "cannot create %s", of->path);
}

int erofs_outfile_commit(struct erofs_outfile *of, const struct erofs_log *log)
{
	int err = 0;

	/*
	 * No fsync: the rename makes the output appear whole to readers; a
	 * build is repeated after a crash rather than trusted half-synced.
	 */
	if (of->unlinked) {
		err = commit_unlinked(of, log);
		close(of->fd);
	} else {
		if (close(of->fd) < 0)
			err = erofs_err(log, -errno, "%s: close", of->tmppath);
		if (!err && rename(of->tmppath, of->path) < 0)
			err = erofs_err(log, -errno, "cannot rename %s to %s",
					of->tmppath, of->path);
		if (err)
			unlink(of->tmppath);
		tmpname_forget(of);
	}
	of->fd = -1;
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
	tmpname_forget(of);
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

int erofs_hexval(char c)
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
		int hi = erofs_hexval(hex[2 * i]);
		int lo = erofs_hexval(hex[2 * i + 1]);

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
		if ((data < 0 && errno == ENXIO) ||
		    (data >= 0 && (uint64_t)data > off)) {
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

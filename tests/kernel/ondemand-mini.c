// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ondemand-mini: the smallest useful cachefiles on-demand daemon, a test
 * fixture for the kernel suite (tests/kernel/).  It serves every cookie from
 * a file of the same name in one directory and logs one line per message, so
 * guest scripts can count READs.  It is deliberately independent of liberofs
 * and erofs-fetchd: it proves the kernel side works (and shows kernel bugs)
 * even while the real daemon is being written.  Built statically by
 * tests/kernel/run.sh.
 *
 *   ondemand-mini [-t TAG] CACHEDIR BLOBDIR
 *
 * Log lines on stdout:
 *   bound dir=CACHEDIR
 *   OPEN msg=ID obj=OBJ vol=VOLUMEKEY key=COOKIEKEY size=N|err=-E
 *   READ msg=ID obj=OBJ key=COOKIEKEY off=OFF len=LEN [failed]
 *   CLOSE obj=OBJ key=COOKIEKEY
 * A READ is failed on purpose (completed without data, so the reader sees
 * EIO) while a file BLOBDIR/COOKIEKEY.fail exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define MSG_MAX		  1024
#define OP_OPEN		  0
#define OP_CLOSE	  1
#define OP_READ		  2
#define IOC_READ_COMPLETE 0x40049801UL /* _IOW(0x98, 1, int) */
#define PIECE		  (1UL << 20)

struct object {
	uint32_t id;
	int anon_fd;
	int blob_fd;
	long long size;
	char key[256];
	char failpath[PATH_MAX];
};

struct daemon {
	int dev;
	int blobdir;
	struct object *objs;
	size_t nobjs;
	void *buf;
};

static uint32_t get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t get64(const unsigned char *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static int command(struct daemon *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int command(struct daemon *d, const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd))
		return -EINVAL;
	if (write(d->dev, cmd, n) != n)
		return -errno;
	return 0;
}

static struct object *find_object(struct daemon *d, uint32_t id)
{
	for (size_t i = 0; i < d->nobjs; i++)
		if (d->objs[i].id == id)
			return &d->objs[i];
	return NULL;
}

static void drop_object(struct daemon *d, struct object *o)
{
	close(o->anon_fd);
	close(o->blob_fd);
	*o = d->objs[--d->nobjs];
}

static int key_ok(const char *key, size_t len)
{
	if (!len || key[0] == '.')
		return 0;
	for (size_t i = 0; i < len; i++)
		if (key[i] == '/' || (unsigned char)key[i] <= ' ' ||
		    (unsigned char)key[i] >= 127)
			return 0;
	return 1;
}

static void on_open(struct daemon *d, uint32_t msg_id, uint32_t obj,
		    const unsigned char *p, size_t plen)
{
	uint32_t vlen, klen, fd;
	char vol[256] = "", key[256] = "";
	struct object *o;
	struct stat st;
	int bfd = -1, err = 0;

	if (plen < 16) {
		printf("bad OPEN msg=%u: %zu bytes\n", msg_id, plen);
		return;
	}
	vlen = get32(p);
	klen = get32(p + 4);
	fd = get32(p + 8);
	if (vlen == 0 || vlen > 255 || klen > 255 || 16 + vlen + klen > plen) {
		err = -EINVAL;
	} else {
		memcpy(vol, p + 16, vlen - 1);
		memcpy(key, p + 16 + vlen, klen);
		if (!key_ok(key, klen))
			err = -EINVAL;
	}
	if (!err) {
		bfd = openat(d->blobdir, key, O_RDONLY | O_CLOEXEC);
		if (bfd < 0 || fstat(bfd, &st) < 0)
			err = -errno;
	}
	if (!err) {
		struct object *n =
		    realloc(d->objs, (d->nobjs + 1) * sizeof(*n));

		if (!n) {
			err = -ENOMEM;
		} else {
			d->objs = n;
			o = &d->objs[d->nobjs++];
			memset(o, 0, sizeof(*o));
			o->id = obj;
			o->anon_fd = fd;
			o->blob_fd = bfd;
			o->size = st.st_size;
			strcpy(o->key, key);
			snprintf(o->failpath, sizeof(o->failpath), "%s.fail",
				 key);
		}
	}
	if (err) {
		printf("OPEN msg=%u obj=%u vol=%s key=%s err=%d\n", msg_id, obj,
		       vol, key, err);
		command(d, "copen %u,%d", msg_id, err);
		if (bfd >= 0)
			close(bfd);
		close(fd);
		return;
	}
	printf("OPEN msg=%u obj=%u vol=%s key=%s size=%lld\n", msg_id, obj, vol,
	       key, (long long)st.st_size);
	err = command(d, "copen %u,%lld", msg_id, (long long)st.st_size);
	if (err) {
		printf("copen msg=%u failed: %s\n", msg_id, strerror(-err));
		drop_object(d, &d->objs[d->nobjs - 1]);
	}
}

static int fill(struct daemon *d, struct object *o, uint64_t off, uint64_t len)
{
	while (len) {
		size_t n = len < PIECE ? len : PIECE;
		size_t want = n, got = 0;

		memset(d->buf, 0, n);
		if ((long long)off < o->size) {
			if ((long long)(off + want) > o->size)
				want = o->size - off;
			while (got < want) {
				ssize_t r =
				    pread(o->blob_fd, (char *)d->buf + got,
					  want - got, off + got);

				if (r < 0)
					return -errno;
				if (r == 0)
					break;
				got += r;
			}
		}
		/* whole pages at page-aligned offsets; the tail stays zero */
		n = (n + 4095) & ~4095UL;
		if (pwrite(o->anon_fd, d->buf, n, off) != (ssize_t)n)
			return -errno;
		off += n;
		len = len > n ? len - n : 0;
	}
	return 0;
}

static void on_read(struct daemon *d, uint32_t msg_id, uint32_t obj,
		    const unsigned char *p, size_t plen)
{
	struct object *o = find_object(d, obj);
	uint64_t off, len;
	int err = 0, failing;

	if (!o || plen < 16) {
		printf("bad READ msg=%u obj=%u\n", msg_id, obj);
		return;
	}
	off = get64(p);
	len = get64(p + 8);
	failing = faccessat(d->blobdir, o->failpath, F_OK, 0) == 0;
	printf("READ msg=%u obj=%u key=%s off=%llu len=%llu%s\n", msg_id, obj,
	       o->key, (unsigned long long)off, (unsigned long long)len,
	       failing ? " failed" : "");
	if (!failing)
		err = fill(d, o, off, len);
	if (err)
		printf("write obj=%u off=%llu: %s\n", obj,
		       (unsigned long long)off, strerror(-err));
	if (ioctl(o->anon_fd, IOC_READ_COMPLETE, msg_id) < 0)
		printf("READ_COMPLETE msg=%u: %s\n", msg_id, strerror(errno));
}

static int serve(struct daemon *d)
{
	unsigned char msg[MSG_MAX];

	for (;;) {
		struct pollfd pfd = {.fd = d->dev, .events = POLLIN};
		uint32_t msg_id, opcode, len, obj;
		struct object *o;
		ssize_t n;

		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		n = read(d->dev, msg, sizeof(msg));
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (n == 0)
			continue;
		if (n < 16) {
			printf("short message (%zd bytes)\n", n);
			continue;
		}
		msg_id = get32(msg);
		opcode = get32(msg + 4);
		len = get32(msg + 8);
		obj = get32(msg + 12);
		if (len != (uint32_t)n) {
			printf("message %u: length %u but read %zd\n", msg_id,
			       len, n);
			continue;
		}
		switch (opcode) {
		case OP_OPEN:
			on_open(d, msg_id, obj, msg + 16, n - 16);
			break;
		case OP_READ:
			on_read(d, msg_id, obj, msg + 16, n - 16);
			break;
		case OP_CLOSE:
			o = find_object(d, obj);
			printf("CLOSE obj=%u key=%s\n", obj, o ? o->key : "?");
			if (o)
				drop_object(d, o);
			break;
		default:
			printf("unknown opcode %u (msg %u)\n", opcode, msg_id);
		}
	}
}

int main(int argc, char **argv)
{
	struct daemon d = {.dev = -1};
	const char *tag = "ondemand-mini";
	int opt, err;

	while ((opt = getopt(argc, argv, "t:")) != -1) {
		if (opt != 't') {
			fprintf(
			    stderr,
			    "usage: ondemand-mini [-t TAG] CACHEDIR BLOBDIR\n");
			return 2;
		}
		tag = optarg;
	}
	if (argc - optind != 2) {
		fprintf(stderr,
			"usage: ondemand-mini [-t TAG] CACHEDIR BLOBDIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (posix_memalign(&d.buf, 4096, PIECE)) {
		fprintf(stderr, "ondemand-mini: out of memory\n");
		return 1;
	}
	d.blobdir = open(argv[optind + 1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d.blobdir < 0) {
		fprintf(stderr, "ondemand-mini: %s: %s\n", argv[optind + 1],
			strerror(errno));
		return 1;
	}
	d.dev = open("/dev/cachefiles", O_RDWR | O_CLOEXEC);
	if (d.dev < 0) {
		fprintf(stderr, "ondemand-mini: /dev/cachefiles: %s\n",
			strerror(errno));
		return 1;
	}
	err = command(&d, "dir %s", argv[optind]);
	if (!err)
		err = command(&d, "tag %s", tag);
	if (!err)
		err = command(&d, "bind ondemand");
	if (err) {
		fprintf(stderr, "ondemand-mini: binding cache %s: %s\n",
			argv[optind], strerror(-err));
		return 1;
	}
	printf("bound dir=%s\n", argv[optind]);
	err = serve(&d);
	fprintf(stderr, "ondemand-mini: %s\n", strerror(-err));
	return 1;
}

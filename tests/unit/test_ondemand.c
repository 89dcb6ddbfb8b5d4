// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the cachefiles on-demand handlers against a simulated
 * device: a queue of crafted messages that behaves like the kernel's read()
 * (one message per call, 0 when empty, EMSGSIZE leaves the message queued),
 * a log of the commands written, and regular temporary files standing in
 * for the anonymous fds.  Data comes from a real blob directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "erofs/fetch.h"
#include "erofs/ondemand.h"

#define MIB  (1u << 20)
#define MAXQ 128
#define MAXC 512

static struct erofs_log tlog = {"test_ondemand", EROFS_LOG_ERR, NULL, 0};

/* ------------------------------------------------------------------ */
/* the simulated device                                                */

struct simdev {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned char *q[MAXQ];
	size_t qlen[MAXQ];
	unsigned int qh, qt;
	char *cmds[MAXC];
	char *cmd_cwd[MAXC];
	unsigned int ncmds;
	int cfd[MAXC];
	uint32_t cid[MAXC];
	unsigned int ncomplete;
	int closed[MAXC];
	unsigned int nclosed;
	const char *busy_name; /* "inuse NAME" → EBUSY */
	int fail_cmds;	       /* every command fails with this */
};

static void sim_init(struct simdev *d)
{
	memset(d, 0, sizeof(*d));
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->cond, NULL);
}

static void sim_free(struct simdev *d)
{
	for (unsigned int i = d->qh; i < d->qt; i++)
		free(d->q[i]);
	for (unsigned int i = 0; i < d->ncmds; i++) {
		free(d->cmds[i]);
		free(d->cmd_cwd[i]);
	}
}

static void sim_push(struct simdev *d, const void *msg, size_t len)
{
	assert_true(d->qt < MAXQ);
	d->q[d->qt] = malloc(len ? len : 1);
	memcpy(d->q[d->qt], msg, len);
	d->qlen[d->qt++] = len;
}

static ssize_t sim_read(void *dev, void *buf, size_t size)
{
	struct simdev *d = dev;
	size_t n;

	if (d->qh == d->qt)
		return 0;
	n = d->qlen[d->qh];
	if (n > size)
		return -EMSGSIZE;
	memcpy(buf, d->q[d->qh], n);
	free(d->q[d->qh]);
	d->qh++;
	return n;
}

static int sim_write(void *dev, const char *cmd)
{
	struct simdev *d = dev;
	char cwd[4096];
	int ret = 0;

	pthread_mutex_lock(&d->lock);
	assert_true(d->ncmds < MAXC);
	d->cmds[d->ncmds] = strdup(cmd);
	d->cmd_cwd[d->ncmds] = strdup(getcwd(cwd, sizeof(cwd)) ? cwd : "?");
	d->ncmds++;
	if (d->fail_cmds)
		ret = d->fail_cmds;
	else if (d->busy_name && !strncmp(cmd, "inuse ", 6) &&
		 !strcmp(cmd + 6, d->busy_name))
		ret = -EBUSY;
	pthread_mutex_unlock(&d->lock);
	return ret;
}

static int sim_complete(void *dev, int fd, uint32_t msg_id)
{
	struct simdev *d = dev;

	pthread_mutex_lock(&d->lock);
	assert_true(d->ncomplete < MAXC);
	d->cfd[d->ncomplete] = fd;
	d->cid[d->ncomplete] = msg_id;
	d->ncomplete++;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

static void sim_close(void *dev, int fd)
{
	struct simdev *d = dev;

	pthread_mutex_lock(&d->lock);
	d->closed[d->nclosed++] = fd;
	pthread_mutex_unlock(&d->lock);
	close(fd);
}

static const struct erofs_od_dev_ops sim_ops = {
    .read_msg = sim_read,
    .write_cmd = sim_write,
    .complete_read = sim_complete,
    .close_fd = sim_close,
};

static void sim_wait_complete(struct simdev *d, unsigned int n)
{
	struct timespec dl;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 120; /* only a hang guard */
	pthread_mutex_lock(&d->lock);
	while (d->ncomplete < n) {
		if (pthread_cond_timedwait(&d->cond, &d->lock, &dl) ==
		    ETIMEDOUT) {
			pthread_mutex_unlock(&d->lock);
			fail_msg("hang: %u of %u READs completed", d->ncomplete,
				 n);
		}
	}
	pthread_mutex_unlock(&d->lock);
}

static const char *last_cmd(struct simdev *d)
{
	return d->ncmds ? d->cmds[d->ncmds - 1] : "";
}

/* ------------------------------------------------------------------ */
/* messages, host-endian like the kernel's                             */

static size_t put32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, 4);
	return 4;
}

static size_t put64(unsigned char *p, uint64_t v)
{
	memcpy(p, &v, 8);
	return 8;
}

static size_t mk_hdr(unsigned char *b, uint32_t id, uint32_t op, uint32_t len,
		     uint32_t obj)
{
	put32(b, id);
	put32(b + 4, op);
	put32(b + 8, len);
	put32(b + 12, obj);
	return 16;
}

static size_t mk_open(unsigned char *b, uint32_t id, uint32_t obj,
		      const char *vkey, const char *ckey, int fd)
{
	size_t vks = strlen(vkey) + 1, cks = strlen(ckey);
	size_t len = 32 + vks + cks;

	mk_hdr(b, id, EROFS_OD_OP_OPEN, len, obj);
	put32(b + 16, vks);
	put32(b + 20, cks);
	put32(b + 24, fd);
	put32(b + 28, 0);
	memcpy(b + 32, vkey, vks);
	memcpy(b + 32 + vks, ckey, cks);
	return len;
}

static size_t mk_read(unsigned char *b, uint32_t id, uint32_t obj, uint64_t off,
		      uint64_t len)
{
	mk_hdr(b, id, EROFS_OD_OP_READ, 32, obj);
	put64(b + 16, off);
	put64(b + 24, len);
	return 32;
}

static size_t mk_close(unsigned char *b, uint32_t id, uint32_t obj)
{
	return mk_hdr(b, id, EROFS_OD_OP_CLOSE, 16, obj);
}

/* ------------------------------------------------------------------ */
/* fixture: blob dir + fetch core + od over the simulated device       */

struct fx {
	char dir[64];
	struct erofs_source *src;
	struct erofs_fetch *fetch;
	struct erofs_od *od;
	struct simdev dev;
	unsigned char *data;
	uint64_t size;
};

static void fill_pattern(unsigned char *p, size_t n, uint32_t seed)
{
	uint32_t x = seed * 2654435761u + 7;

	for (size_t i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = x;
	}
}

static void fx_setup(struct fx *fx, bool prefetch, unsigned int workers)
{
	struct erofs_fetch_config fcfg = {
	    .workers = workers, .unit = MIB, .log = &tlog};
	struct erofs_od_config ocfg = {.log = &tlog, .prefetch = prefetch};
	char path[128];
	int fd;

	memset(fx, 0, sizeof(*fx));
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/test_ondemand.XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	/* a blob whose size is not a page multiple */
	fx->size = 4 * MIB + 5000;
	fx->data = malloc(fx->size);
	assert_non_null(fx->data);
	fill_pattern(fx->data, fx->size, 42);
	snprintf(path, sizeof(path), "%s/blobtag", fx->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(erofs_pwrite_all(fd, fx->data, fx->size, 0), 0);
	close(fd);
	snprintf(path, sizeof(path), "%s/cache", fx->dir);
	assert_int_equal(mkdir(path, 0755), 0);

	sim_init(&fx->dev);
	assert_int_equal(erofs_source_dir_create(fx->dir, &tlog, &fx->src), 0);
	assert_int_equal(
	    erofs_fetch_create(&fcfg, &fx->src, 1, NULL, &fx->fetch), 0);
	assert_int_equal(
	    erofs_od_create(&ocfg, &sim_ops, &fx->dev, fx->fetch, &fx->od), 0);
}

static void fx_teardown(struct fx *fx)
{
	char cmd[128];

	erofs_od_destroy(fx->od);
	erofs_fetch_destroy(fx->fetch);
	erofs_source_destroy(fx->src);
	sim_free(&fx->dev);
	free(fx->data);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
	assert_int_equal(system(cmd), 0);
}

/* a fresh "anonymous fd" (the od takes it); *chk reads the same file */
static int anon_fd(struct fx *fx, const char *name, int *chk)
{
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "%s/cache/%s", fx->dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	*chk = open(path, O_RDONLY);
	assert_true(*chk >= 0);
	return fd;
}

static bool fd_is_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static void push_and_process(struct fx *fx, const void *m, size_t n)
{
	sim_push(&fx->dev, m, n);
	assert_int_equal(erofs_od_process(fx->od), 1);
}

static void open_blob(struct fx *fx, uint32_t msg_id, uint32_t obj, int fd)
{
	unsigned char m[600] = {0};
	char want[64];

	push_and_process(fx, m,
			 mk_open(m, msg_id, obj, "erofs,myfs", "blobtag", fd));
	snprintf(want, sizeof(want), "copen %u,%llu", msg_id,
		 (unsigned long long)fx->size);
	assert_string_equal(last_cmd(&fx->dev), want);
}

static void check_range(struct fx *fx, int chk, uint64_t from, uint64_t to)
{
	unsigned char *buf = malloc(to - from);

	assert_non_null(buf);
	assert_int_equal(erofs_pread_all(chk, buf, to - from, from), to - from);
	for (uint64_t i = from; i < to; i++) {
		unsigned char want = i < fx->size ? fx->data[i] : 0;

		if (buf[i - from] != want)
			fail_msg("byte %llu is %u, want %u",
				 (unsigned long long)i, buf[i - from], want);
	}
	free(buf);
}

/* ------------------------------------------------------------------ */

static void test_parse_open(void **state)
{
	unsigned char m[600] = {0};
	struct erofs_od_msg msg;
	bool has_fd;
	size_t n = mk_open(m, 9, 3, "erofs,dom", "tag1", 17);

	assert_int_equal(erofs_od_parse(m, n, &msg, &has_fd, &tlog), 0);
	assert_int_equal(msg.msg_id, 9);
	assert_int_equal(msg.object_id, 3);
	assert_int_equal(msg.open.volume_key_size, 10);
	assert_int_equal(msg.open.cookie_key_size, 4);
	assert_int_equal(msg.open.fd, 17);
	assert_true(has_fd);
	assert_string_equal(msg.open.volume_key, "erofs,dom");
	assert_memory_equal(msg.open.cookie_key, "tag1", 4);

	/* volume key whose NUL is not its last byte */
	put32(m + 16, 9);
	put32(m + 20, 5);
	assert_int_equal(erofs_od_parse(m, n, &msg, &has_fd, &tlog), -EBADMSG);
	assert_true(has_fd);
	/* key sizes not adding up */
	put32(m + 16, 10);
	put32(m + 20, 5);
	assert_int_equal(erofs_od_parse(m, n, &msg, &has_fd, &tlog), -EBADMSG);
	/* zero-length cookie key */
	put32(m + 16, 14);
	put32(m + 20, 0);
	assert_int_equal(erofs_od_parse(m, n, &msg, &has_fd, &tlog), -EBADMSG);
	/* truncated OPEN header: no fd to trust */
	mk_hdr(m, 1, EROFS_OD_OP_OPEN, 24, 1);
	assert_int_equal(erofs_od_parse(m, 24, &msg, &has_fd, &tlog), -EBADMSG);
	assert_false(has_fd);
}

static void test_parse_read_close(void **state)
{
	unsigned char m[64] = {0};
	struct erofs_od_msg msg;
	bool has_fd;

	assert_int_equal(erofs_od_parse(m, mk_read(m, 4, 2, 8192, 4096), &msg,
					&has_fd, &tlog),
			 0);
	assert_int_equal(msg.read.off, 8192);
	assert_int_equal(msg.read.len, 4096);
	assert_false(has_fd);
	/* zero length, overflowing range */
	assert_int_equal(
	    erofs_od_parse(m, mk_read(m, 4, 2, 0, 0), &msg, &has_fd, &tlog),
	    -EBADMSG);
	assert_int_equal(erofs_od_parse(m,
					mk_read(m, 4, 2, UINT64_MAX - 10, 4096),
					&msg, &has_fd, &tlog),
			 -EBADMSG);
	/* READ with a short payload */
	mk_hdr(m, 4, EROFS_OD_OP_READ, 24, 2);
	assert_int_equal(erofs_od_parse(m, 24, &msg, &has_fd, &tlog), -EBADMSG);
	assert_int_equal(
	    erofs_od_parse(m, mk_close(m, 5, 2), &msg, &has_fd, &tlog), 0);
	assert_int_equal(msg.opcode, EROFS_OD_OP_CLOSE);
	/* CLOSE with a payload */
	mk_hdr(m, 5, EROFS_OD_OP_CLOSE, 20, 2);
	assert_int_equal(erofs_od_parse(m, 20, &msg, &has_fd, &tlog), -EBADMSG);
	/* length field disagreeing with what was read */
	mk_read(m, 4, 2, 0, 4096);
	assert_int_equal(erofs_od_parse(m, 31, &msg, &has_fd, &tlog), -EBADMSG);
	/* shorter than a header */
	assert_int_equal(erofs_od_parse(m, 15, &msg, &has_fd, &tlog), -EBADMSG);
	/* unknown opcode */
	mk_hdr(m, 6, 7, 16, 2);
	assert_int_equal(erofs_od_parse(m, 16, &msg, &has_fd, &tlog),
			 -EOPNOTSUPP);
}

static void test_malformed_messages(void **state)
{
	struct fx fx;
	struct erofs_od_stats st;
	unsigned char m[600] = {0};
	size_t n;
	int chk, fd;

	fx_setup(&fx, false, 2);
	/* short, unknown opcode, bad READ: dropped, nothing written */
	push_and_process(&fx, "\1\0\0\0\2\0\0", 7);
	mk_hdr(m, 2, 99, 16, 1);
	push_and_process(&fx, m, 16);
	mk_hdr(m, 3, EROFS_OD_OP_READ, 40, 1);
	push_and_process(&fx, m, 40);
	assert_int_equal(fx.dev.ncmds, 0);
	assert_int_equal(fx.dev.ncomplete, 0);

	/* malformed OPEN: failed with -EINVAL, and its fd is closed */
	fd = anon_fd(&fx, "bad", &chk);
	n = mk_open(m, 4, 1, "erofs,myfs", "blobtag", fd);
	put32(m + 20, 3); /* cookie key size disagrees */
	push_and_process(&fx, m, n);
	assert_string_equal(last_cmd(&fx.dev), "copen 4,-22");
	assert_false(fd_is_open(fd));
	close(chk);

	erofs_od_get_stats(fx.od, &st);
	assert_int_equal(st.msgs, 4);
	assert_int_equal(st.malformed, 4);
	assert_int_equal(st.opens, 0);
	assert_int_equal(erofs_od_process(fx.od), 0); /* queue empty */
	fx_teardown(&fx);
}

static void test_emsgsize(void **state)
{
	struct fx fx;
	struct erofs_od_stats st;
	unsigned char *big = calloc(1, 70000);

	assert_non_null(big);
	fx_setup(&fx, false, 2);
	/* larger than the 1024-byte buffer: the buffer grows, the message is
	 * then read (and rejected as a malformed READ), not left stuck */
	mk_hdr(big, 11, EROFS_OD_OP_READ, 1500, 1);
	sim_push(&fx.dev, big, 1500);
	assert_int_equal(erofs_od_process(fx.od), 1);
	assert_int_equal(fx.dev.qh, fx.dev.qt);
	erofs_od_get_stats(fx.od, &st);
	assert_int_equal(st.malformed, 1);
	/* beyond the growth limit: a fatal error, the message stays */
	mk_hdr(big, 12, EROFS_OD_OP_READ, 70000, 1);
	sim_push(&fx.dev, big, 70000);
	assert_int_equal(erofs_od_process(fx.od), -EMSGSIZE);
	assert_int_equal(fx.dev.qt - fx.dev.qh, 1);
	free(big);
	fx_teardown(&fx);
}

static void test_open_unknown(void **state)
{
	struct fx fx;
	unsigned char m[600] = {0};
	int chk, fd;

	fx_setup(&fx, false, 2);
	fd = anon_fd(&fx, "a", &chk);
	push_and_process(&fx, m, mk_open(m, 21, 1, "erofs,myfs", "nosuch", fd));
	assert_string_equal(last_cmd(&fx.dev), "copen 21,-2");
	assert_false(fd_is_open(fd));
	close(chk);
	/* not an erofs volume */
	fd = anon_fd(&fx, "b", &chk);
	push_and_process(&fx, m, mk_open(m, 22, 2, "nfs,x", "blobtag", fd));
	assert_string_equal(last_cmd(&fx.dev), "copen 22,-2");
	assert_false(fd_is_open(fd));
	close(chk);
	/* a cookie key that is not a name (binary) */
	fd = anon_fd(&fx, "c", &chk);
	push_and_process(&fx, m,
			 mk_open(m, 23, 3, "erofs,myfs", "bl\x01g", fd));
	assert_string_equal(last_cmd(&fx.dev), "copen 23,-2");
	close(chk);
	assert_int_equal(erofs_od_nr_objects(fx.od), 0);
	fx_teardown(&fx);
}

static void test_open_read_close(void **state)
{
	struct fx fx;
	struct erofs_od_stats st;
	unsigned char m[64] = {0};
	struct stat sb;
	uint64_t last_page;
	int chk, fd;

	fx_setup(&fx, false, 2);
	fd = anon_fd(&fx, "obj", &chk);
	open_blob(&fx, 10, 5, fd);
	assert_int_equal(erofs_od_nr_objects(fx.od), 1);
	assert_true(fd_is_open(fd));

	/* READ of the last (partial) page: written whole, zero-padded */
	last_page = fx.size & ~4095ull;
	push_and_process(&fx, m, mk_read(m, 11, 5, last_page, 4096));
	sim_wait_complete(&fx.dev, 1);
	assert_int_equal(fx.dev.cid[0], 11);
	assert_int_equal(fx.dev.cfd[0], fd);
	/* the widened unit [4 MiB, round_up(size)) is there, zeros at the
	 * end, and nothing was written past the page-rounded size */
	check_range(&fx, chk, 4 * MIB, erofs_round_up(fx.size, 4096));
	assert_int_equal(fstat(chk, &sb), 0);
	assert_int_equal(sb.st_size, erofs_round_up(fx.size, 4096));

	/* READ at the start: the whole first unit */
	push_and_process(&fx, m, mk_read(m, 12, 5, 0, 4096));
	sim_wait_complete(&fx.dev, 2);
	assert_int_equal(fx.dev.cid[1], 12);
	check_range(&fx, chk, 0, MIB);

	/* READ for an object nobody opened: logged, not completed */
	push_and_process(&fx, m, mk_read(m, 13, 77, 0, 4096));
	erofs_fetch_quiesce(fx.fetch);
	assert_int_equal(fx.dev.ncomplete, 2);

	/* CLOSE drops the object; the fd is closed once nothing uses it */
	push_and_process(&fx, m, mk_close(m, 14, 5));
	erofs_fetch_quiesce(fx.fetch);
	assert_int_equal(erofs_od_nr_objects(fx.od), 0);
	assert_false(fd_is_open(fd));
	/* CLOSE of an unknown object */
	push_and_process(&fx, m, mk_close(m, 15, 5));

	erofs_od_get_stats(fx.od, &st);
	assert_int_equal(st.opens, 1);
	assert_int_equal(st.reads, 3);
	assert_int_equal(st.reads_failed, 0);
	assert_int_equal(st.closes, 2);
	assert_int_equal(st.unknown_object, 2);
	close(chk);
	fx_teardown(&fx);
}

static void test_read_failing_source(void **state)
{
	struct fx fx;
	struct erofs_od_stats st;
	unsigned char m[64] = {0};
	char path[128];
	struct stat sb;
	int chk, fd;

	fx_setup(&fx, false, 2);
	fd = anon_fd(&fx, "obj", &chk);
	open_blob(&fx, 1, 1, fd);
	/* the blob disappears after OPEN: the READ is completed anyway,
	 * without data, so the kernel returns EIO instead of hanging */
	snprintf(path, sizeof(path), "%s/blobtag", fx.dir);
	assert_int_equal(unlink(path), 0);
	push_and_process(&fx, m, mk_read(m, 2, 1, 8192, 4096));
	sim_wait_complete(&fx.dev, 1);
	assert_int_equal(fx.dev.cid[0], 2);
	assert_int_equal(fstat(chk, &sb), 0);
	assert_int_equal(sb.st_size, 0);
	erofs_fetch_quiesce(fx.fetch);
	erofs_od_get_stats(fx.od, &st);
	assert_int_equal(st.reads_failed, 1);
	close(chk);
	fx_teardown(&fx);
}

static void test_concurrent_reads(void **state)
{
	struct fx fx;
	struct erofs_fetch_stats fst;
	unsigned char m[64] = {0};
	bool seen[64] = {false};
	int chk, fd, nreq = 0;

	fx_setup(&fx, false, 4);
	fd = anon_fd(&fx, "obj", &chk);
	open_blob(&fx, 1, 9, fd);
	/* 40 READs over units 0..3, many in the same unit, some equal */
	for (int i = 0; i < 40; i++) {
		uint64_t off = (uint64_t)(i % 4) * MIB + (i / 4) * 32768;

		sim_push(&fx.dev, m, mk_read(m, 100 + i, 9, off, 8192));
		nreq++;
	}
	for (int i = 0; i < nreq; i++)
		assert_int_equal(erofs_od_process(fx.od), 1);
	sim_wait_complete(&fx.dev, nreq);
	erofs_fetch_quiesce(fx.fetch);
	/* every READ completed exactly once, on the right fd */
	assert_int_equal(fx.dev.ncomplete, nreq);
	for (unsigned int i = 0; i < fx.dev.ncomplete; i++) {
		uint32_t id = fx.dev.cid[i];

		assert_true(id >= 100 && id < 100 + (uint32_t)nreq);
		assert_false(seen[id - 100]);
		seen[id - 100] = true;
		assert_int_equal(fx.dev.cfd[i], fd);
	}
	/*
	 * Each unit was fetched once, however many READs hit it: units 0..3,
	 * and unit 4, which READs at 0, 1M, 2M look like a sequential
	 * reader's next (read-ahead)
	 */
	erofs_fetch_get_stats(fx.fetch, &fst);
	assert_int_equal(fst.units_fetched, 5);
	assert_int_equal(fst.bytes_fetched, fx.size);
	assert_int_equal(fst.failed, 0);
	check_range(&fx, chk, 0, 4 * MIB);
	close(chk);
	fx_teardown(&fx);
}

static void test_prefetch_after_open(void **state)
{
	struct fx fx;
	int chk, fd;

	fx_setup(&fx, true, 3);
	fd = anon_fd(&fx, "obj", &chk);
	open_blob(&fx, 1, 1, fd);
	erofs_fetch_quiesce(fx.fetch);
	check_range(&fx, chk, 0, erofs_round_up(fx.size, 4096));
	assert_int_equal(fx.dev.ncomplete, 0);
	close(chk);
	fx_teardown(&fx);
}

static void test_copen_failure_closes_fd(void **state)
{
	struct fx fx;
	unsigned char m[600] = {0};
	int chk, fd;

	fx_setup(&fx, false, 2);
	fd = anon_fd(&fx, "obj", &chk);
	fx.dev.fail_cmds = -EINVAL;
	push_and_process(&fx, m, mk_open(m, 3, 1, "erofs,myfs", "blobtag", fd));
	assert_int_equal(erofs_od_nr_objects(fx.od), 0);
	assert_false(fd_is_open(fd));
	close(chk);
	fx_teardown(&fx);
}

static void test_bind_restore(void **state)
{
	struct fx fx;

	fx_setup(&fx, false, 1);
	assert_int_equal(erofs_od_bind(fx.od, "relative/dir", NULL), -EINVAL);
	assert_int_equal(fx.dev.ncmds, 0);
	assert_int_equal(erofs_od_bind(fx.od, "/var/cache/x", "mytag"), 0);
	assert_int_equal(fx.dev.ncmds, 3);
	assert_string_equal(fx.dev.cmds[0], "dir /var/cache/x");
	assert_string_equal(fx.dev.cmds[1], "tag mytag");
	assert_string_equal(fx.dev.cmds[2], "bind ondemand");
	assert_int_equal(erofs_od_restore(fx.od), 0);
	assert_string_equal(last_cmd(&fx.dev), "restore");
	/* a newline would end the command early */
	assert_int_equal(erofs_od_bind(fx.od, "/a\nbind", NULL), -EINVAL);
	assert_int_equal(fx.dev.ncmds, 4);
	fx_teardown(&fx);
}

static void touch_old(const char *path, time_t when)
{
	struct timespec ts[2] = {{when, 0}, {when, 0}};
	int fd = open(path, O_WRONLY | O_CREAT, 0600);

	assert_true(fd >= 0);
	assert_int_equal(futimens(fd, ts), 0);
	close(fd);
}

static void test_cull(void **state)
{
	struct fx fx;
	char cache[128], fan[256], p[1024], cwd_before[4096], cwd_after[4096];
	time_t now = time(NULL);
	int culled, inuse_old = -1, cull_old = -1;

	fx_setup(&fx, false, 1);
	snprintf(cache, sizeof(cache), "%s/cachedir", fx.dir);
	snprintf(fan, sizeof(fan), "%s/cache/Ierofs,myfs/@3a", cache);
	snprintf(p, sizeof(p), "mkdir -p '%s' '%s/graveyard/x1/y'", fan, cache);
	assert_int_equal(system(p), 0);
	snprintf(p, sizeof(p), "%s/Dold", fan);
	touch_old(p, now - 1000);
	snprintf(p, sizeof(p), "%s/Dbusy", fan);
	touch_old(p, now - 1000);
	snprintf(p, sizeof(p), "%s/Dnew", fan);
	touch_old(p, now - 10);
	snprintf(p, sizeof(p), "%s/graveyard/x1/y/z", cache);
	touch_old(p, now);
	fx.dev.busy_name = "Dbusy";

	assert_non_null(getcwd(cwd_before, sizeof(cwd_before)));
	culled = erofs_od_cull_old(fx.od, cache, 100, now);
	assert_non_null(getcwd(cwd_after, sizeof(cwd_after)));
	assert_string_equal(cwd_before, cwd_after);
	assert_int_equal(culled, 1);
	for (unsigned int i = 0; i < fx.dev.ncmds; i++) {
		const char *c = fx.dev.cmds[i];

		if (!strcmp(c, "inuse Dold"))
			inuse_old = i;
		if (!strcmp(c, "cull Dold")) {
			cull_old = i;
			/* cull acts on the daemon's cwd */
			assert_string_equal(fx.dev.cmd_cwd[i], fan);
		}
		assert_string_not_equal(c, "cull Dbusy");
		assert_null(strstr(c, "Dnew"));
	}
	assert_true(inuse_old >= 0);
	assert_true(cull_old > inuse_old);
	/* the graveyard is emptied */
	snprintf(p, sizeof(p), "%s/graveyard/x1", cache);
	assert_int_equal(access(p, F_OK), -1);
	/* a cache dir without cache/ is fine */
	assert_int_equal(erofs_od_cull_old(fx.od, fx.dir, 100, now), 0);
	fx_teardown(&fx);
}

/*
 * An object closed a moment ago is not culled although its cache file's
 * times are old (the kernel's atime update at lookup obeys relatime); its
 * CLOSE goes onto the file's atime, and once that is older than the age the
 * file is culled.
 */
static void test_cull_after_close(void **state)
{
	struct fx fx;
	unsigned char m[600] = {0};
	char cache[128], fan[256], p[1024];
	struct stat st;
	time_t before;
	int chk;

	fx_setup(&fx, false, 1);
	snprintf(cache, sizeof(cache), "%s/cachedir", fx.dir);
	/* the first pass turns the noting of CLOSEs on */
	assert_int_equal(erofs_od_cull_old(fx.od, cache, 100, time(NULL)), 0);
	open_blob(&fx, 1, 5, anon_fd(&fx, "anon", &chk));
	close(chk);
	before = time(NULL);
	push_and_process(&fx, m, mk_close(m, 2, 5));
	/* cachefiles puts it at cache/I<volume key>/@xx/D<key>; the fan-out
	 * is the cookie hash's, any works here */
	snprintf(fan, sizeof(fan), "%s/cache/Ierofs,myfs/@c4", cache);
	snprintf(p, sizeof(p), "mkdir -p '%s'", fan);
	assert_int_equal(system(p), 0);
	snprintf(p, sizeof(p), "%s/Dblobtag", fan);
	touch_old(p, before - 1000);
	/* a CLOSE of another volume's object with the same key */
	snprintf(p, sizeof(p), "mkdir -p '%s/cache/Ierofs,other/@c4'", cache);
	assert_int_equal(system(p), 0);
	snprintf(p, sizeof(p), "%s/cache/Ierofs,other/@c4/Dblobtag", cache);
	touch_old(p, before - 1000);

	assert_int_equal(erofs_od_cull_old(fx.od, cache, 100, time(NULL)), 1);
	for (unsigned int i = 0; i < fx.dev.ncmds; i++) {
		if (!strcmp(fx.dev.cmds[i], "cull Dblobtag"))
			assert_null(strstr(fx.dev.cmd_cwd[i], "Ierofs,myfs"));
	}
	snprintf(p, sizeof(p), "%s/Dblobtag", fan);
	assert_int_equal(stat(p, &st), 0);
	assert_true(st.st_atime >= before);
	/* the simulated cull leaves the file: do what the kernel does */
	snprintf(p, sizeof(p), "%s/cache/Ierofs,other/@c4/Dblobtag", cache);
	assert_int_equal(unlink(p), 0);
	/* the CLOSE is on the file now: it is culled once that is old */
	assert_int_equal(
	    erofs_od_cull_old(fx.od, cache, 100, st.st_atime + 100), 1);
	assert_string_equal(last_cmd(&fx.dev), "cull Dblobtag");
	assert_string_equal(fx.dev.cmd_cwd[fx.dev.ncmds - 1], fan);

	/* opened again, the CLOSE before no longer counts: while open,
	 * "inuse" guards the object (here the device never says EBUSY) */
	open_blob(&fx, 3, 6, anon_fd(&fx, "anon2", &chk));
	close(chk);
	push_and_process(&fx, m, mk_close(m, 4, 6));
	open_blob(&fx, 5, 7, anon_fd(&fx, "anon3", &chk));
	close(chk);
	snprintf(p, sizeof(p), "%s/Dblobtag", fan);
	touch_old(p, time(NULL) - 1000);
	assert_int_equal(erofs_od_cull_old(fx.od, cache, 100, time(NULL)), 1);
	assert_string_equal(last_cmd(&fx.dev), "cull Dblobtag");
	fx_teardown(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_open),
	    cmocka_unit_test(test_parse_read_close),
	    cmocka_unit_test(test_malformed_messages),
	    cmocka_unit_test(test_emsgsize),
	    cmocka_unit_test(test_open_unknown),
	    cmocka_unit_test(test_open_read_close),
	    cmocka_unit_test(test_read_failing_source),
	    cmocka_unit_test(test_concurrent_reads),
	    cmocka_unit_test(test_prefetch_after_open),
	    cmocka_unit_test(test_copen_failure_closes_fd),
	    cmocka_unit_test(test_bind_restore),
	    cmocka_unit_test(test_cull),
	    cmocka_unit_test(test_cull_after_close),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

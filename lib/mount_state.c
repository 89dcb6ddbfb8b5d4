// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * erofs-mount: the record of each mount for -u and --list, unmount and
 * listing.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "erofs/fetchd.h"
#include "erofs/mount.h"
#include "erofs/util.h"
#include "liberofs_mount.h"

static char *state_path(const char *state_dir, const char *mnt)
{
	char *h = erofs_mount_hash_name(mnt), *p = NULL;

	if (h && asprintf(&p, "%s/%s", state_dir, h) < 0)
		p = NULL;
	free(h);
	return p;
}

int erofs_mount_save_state(struct mount_job *j)
{
	const char *dir =
	    j->o->state_dir ? j->o->state_dir : EROFS_MOUNT_DEFAULT_STATE;
	char *p = state_path(dir, j->mnt);
	struct erofs_outfile of;
	uint64_t total = 0;
	FILE *f;
	int err;

	if (!p)
		return erofs_err(j->log, -ENOMEM, "state");
	err = erofs_mount_mkdir_p(dir, j->log);
	if (!err)
		err = erofs_outfile_open(&of, p, j->log);
	free(p);
	if (err)
		return err;
	for (unsigned int i = 0; i < j->m.nr_blobs; i++)
		total += j->m.blobs[i].size;
	/* the daemon serves (and counts) the bootstrap too */
	if (j->backend == MB_CACHEFILES && !j->stack)
		total += j->m.bootstrap_size;
	f = fdopen(dup(of.fd), "w");
	if (!f) {
		erofs_outfile_abort(&of);
		return erofs_err(j->log, -errno, "state");
	}
	fprintf(f,
		"mountpoint %s\nbackend %s\ncache %s\nsource %s\n"
		"image %s\ntotal %" PRIu64 "\n",
		j->mnt, erofs_mount_backend_names[j->backend], j->cache_dir,
		j->srcs[0], j->o->image, total);
	if (j->stack)
		fprintf(f, "layers %u\nstackdir %s\n", j->oci.nr_parts,
			j->stackdir ? j->stackdir : "-");
	fclose(f);
	return erofs_outfile_commit(&of, j->log);
}

struct state {
	char mnt[PATH_MAX], backend[32], cache[PATH_MAX], source[PATH_MAX];
	char stackdir[PATH_MAX];
	unsigned int layers; /* 0: not a stack */
	uint64_t total;
};

static int load_state(const char *path, struct state *s)
{
	char line[PATH_MAX + 32];
	FILE *f = fopen(path, "r");

	if (!f)
		return -errno;
	memset(s, 0, sizeof(*s));
	while (fgets(line, sizeof(line), f)) {
		char *v = strchr(line, ' ');

		if (!v)
			continue;
		*v++ = '\0';
		v[strcspn(v, "\n")] = '\0';
		if (!strcmp(line, "mountpoint"))
			snprintf(s->mnt, sizeof(s->mnt), "%s", v);
		else if (!strcmp(line, "backend"))
			snprintf(s->backend, sizeof(s->backend), "%s", v);
		else if (!strcmp(line, "cache"))
			snprintf(s->cache, sizeof(s->cache), "%s", v);
		else if (!strcmp(line, "source"))
			snprintf(s->source, sizeof(s->source), "%s", v);
		else if (!strcmp(line, "total"))
			s->total = strtoull(v, NULL, 10);
		else if (!strcmp(line, "layers"))
			s->layers = strtoul(v, NULL, 10);
		else if (!strcmp(line, "stackdir") && strcmp(v, "-"))
			snprintf(s->stackdir, sizeof(s->stackdir), "%s", v);
	}
	fclose(f);
	return s->mnt[0] ? 0 : -EINVAL;
}

int erofs_umount(const char *mountpoint, const char *state_dir,
		 const struct erofs_log *log)
{
	const char *dir = state_dir ? state_dir : EROFS_MOUNT_DEFAULT_STATE;
	char *mnt = realpath(mountpoint, NULL), *sp, *id, *reply = NULL;
	struct state s;
	int err;

	if (!mnt)
		return erofs_err(log, -errno, "%s", mountpoint);
	sp = state_path(dir, mnt);
	if (!sp || load_state(sp, &s)) {
		err = erofs_fail(log, -ENOENT, "%s: not mounted by erofs-mount",
				 mnt);
		goto out;
	}
	/* the mount goes first: the daemon keeps serving until then */
	if (umount2(mnt, 0)) {
		err = erofs_err(log, -errno, "umount %s%s", mnt,
				errno == EBUSY ? " (still in use)" : "");
		if (err != -EINVAL)
			goto out;
		erofs_warn(log, "%s was not mounted; forgetting it", mnt);
	}
	/* a stack: its layers next, each still served until it is gone */
	err = s.stackdir[0]
		  ? erofs_mount_stack_release(s.stackdir, s.layers, log)
		  : 0;
	if (err)
		goto out;
	if (strcmp(s.backend, "full")) {
		id = erofs_fetchd_ctl_quote(mnt);
		if (id) {
			char *req;

			if (asprintf(&req, "del %s", id) >= 0) {
				if (erofs_fetchd_ctl_call(s.cache, req, &reply,
							  log))
					erofs_warn(log,
						   "%s: its daemon is "
						   "gone",
						   mnt);
				free(req);
			}
		}
		free(id);
		free(reply);
	}
	unlink(sp);
out:
	free(sp);
	free(mnt);
	return err;
}

int erofs_mount_list(FILE *out, const char *state_dir,
		     const struct erofs_log *log)
{
	const char *dir = state_dir ? state_dir : EROFS_MOUNT_DEFAULT_STATE;
	DIR *d = opendir(dir);
	struct dirent *de;

	fprintf(out, "%-30s %-10s %-30s %s\n", "MOUNTPOINT", "BACKEND",
		"SOURCE", "FETCHED/TOTAL");
	if (!d)
		return errno == ENOENT ? 0 : erofs_err(log, -errno, "%s", dir);
	while ((de = readdir(d))) {
		char path[PATH_MAX], *reply = NULL;
		int64_t present = -1;
		uint64_t total;
		struct state s;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (load_state(path, &s))
			continue;
		total = s.total;
		if (!strcmp(s.backend, "full")) {
			present = total;
		} else if (!erofs_fetchd_ctl_call(s.cache, "list", &reply,
						  log)) {
			char *id = erofs_fetchd_ctl_quote(s.mnt);

			for (char *l = strtok(reply, "\n"); id && l;
			     l = strtok(NULL, "\n")) {
				size_t n = strlen(id);

				if (!strncmp(l, id, n) && l[n] == ' ') {
					char b[32], src[PATH_MAX];
					long long p;

					if (sscanf(l + n, " %31s %4095s %lld",
						   b, src, &p) == 3)
						present = p;
				}
			}
			free(id);
		}
		free(reply);
		if (present < 0)
			fprintf(out,
				"%-30s %-10s %-30s ?/%" PRIu64
				" (daemon not running)",
				s.mnt, s.backend, s.source, total);
		else
			fprintf(out,
				"%-30s %-10s %-30s %" PRId64 "/%" PRIu64
				" (%.1f%%)",
				s.mnt, s.backend, s.source, present, total,
				total ? 100.0 * present / total : 100.0);
		/* a stack: the bytes are those of all its layers */
		if (s.layers)
			fprintf(out, ", %u layers stacked by overlayfs",
				s.layers);
		fputc('\n', out);
	}
	closedir(d);
	return 0;
}

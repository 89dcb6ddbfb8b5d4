// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One manifest's objects by name (not the daemon's images: fetchd_images.c).
 *
 * The fetch catalog: the bootstrap and blobs one manifest names, each with
 * its cookie key, its path below a source and its size, indexed by name for
 * erofs_fetch_lookup of the fetch core the catalog belongs to.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "erofs/manifest.h"
#include "liberofs_fetch.h"

bool fetch_path_ok(const char *p)
{
	size_t n = strlen(p);

	if (!n || p[0] == '/' ||
	    n >= sizeof(((struct erofs_fetch_info *)0)->path))
		return false;
	for (const char *s = p; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	/* no ".." path component */
	for (const char *s = p; (s = strstr(s, "..")); s += 2)
		if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
			return false;
	return true;
}

static bool name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 252)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '/')
			return false;
	return true;
}

static int catalog_add(struct erofs_fetch_catalog *c, const char *name,
		       const char *path, uint64_t size,
		       const struct erofs_log *log)
{
	struct erofs_fetch_entry *e = &c->v[c->nr];
	const char *slash = strrchr(path, '/');

	if (!name_ok(name))
		return erofs_err(log, -EINVAL,
				 "manifest: bad object name "
				 "\"%s\"",
				 name);
	if (!fetch_path_ok(path) && slash)
		path = slash + 1;
	if (!fetch_path_ok(path))
		return erofs_err(log, -EINVAL,
				 "manifest: object %s: bad path "
				 "\"%s\"",
				 name, path);
	e->name = strdup(name);
	e->path = strdup(path);
	e->size = size;
	c->nr++;
	if (!e->name || !e->path)
		return erofs_err(log, -ENOMEM, "manifest");
	return 0;
}

static int by_name_cmp(const void *a, const void *b, void *arg)
{
	const struct erofs_fetch_catalog *c = arg;

	return strcmp(c->v[*(const unsigned int *)a].name,
		      c->v[*(const unsigned int *)b].name);
}

/* the name index, sorted once: lookups and the duplicate check in log n */
static int catalog_index(struct erofs_fetch_catalog *c,
			 const struct erofs_log *log)
{
	c->by_name = malloc((c->nr ? c->nr : 1) * sizeof(*c->by_name));
	if (!c->by_name)
		return erofs_err(log, -ENOMEM, "manifest");
	for (unsigned int i = 0; i < c->nr; i++)
		c->by_name[i] = i;
	qsort_r(c->by_name, c->nr, sizeof(*c->by_name), by_name_cmp, c);
	for (unsigned int i = 1; i < c->nr; i++)
		if (!strcmp(c->v[c->by_name[i - 1]].name,
			    c->v[c->by_name[i]].name))
			return erofs_err(log, -EINVAL,
					 "manifest: duplicate object name "
					 "\"%s\"",
					 c->v[c->by_name[i]].name);
	return 0;
}

int erofs_fetch_catalog_from_manifest(const struct erofs_manifest *m,
				      const char *fsid,
				      const struct erofs_log *log,
				      struct erofs_fetch_catalog *c)
{
	int err = 0;

	c->nr = 0;
	c->by_name = NULL;
	c->v = calloc((size_t)m->nr_blobs + 1, sizeof(*c->v));
	if (!c->v)
		return erofs_err(log, -ENOMEM, "manifest");
	if (!fsid)
		fsid = m->fsid;
	if (fsid)
		err = catalog_add(c, fsid, m->bootstrap_path, m->bootstrap_size,
				  log);
	for (unsigned int i = 0; !err && i < m->nr_blobs; i++)
		err = catalog_add(c, m->blobs[i].tag, m->blobs[i].path,
				  m->blobs[i].size, log);
	if (!err)
		err = catalog_index(c, log);
	if (err)
		erofs_fetch_catalog_free(c);
	return err;
}

void erofs_fetch_catalog_free(struct erofs_fetch_catalog *c)
{
	for (unsigned int i = 0; i < c->nr; i++) {
		free(c->v[i].name);
		free(c->v[i].path);
	}
	free(c->v);
	free(c->by_name);
	c->v = NULL;
	c->by_name = NULL;
	c->nr = 0;
}

const struct erofs_fetch_entry *
erofs_fetch_catalog_find(const struct erofs_fetch_catalog *c, const char *name)
{
	unsigned int lo = 0, hi = c->nr;

	if (!c->by_name) {
		for (unsigned int i = 0; i < c->nr; i++)
			if (c->v[i].name && !strcmp(c->v[i].name, name))
				return &c->v[i];
		return NULL;
	}
	while (lo < hi) {
		unsigned int mid = lo + (hi - lo) / 2;
		int r = strcmp(c->v[c->by_name[mid]].name, name);

		if (!r)
			return &c->v[c->by_name[mid]];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * erofs-mount: whole objects fetched from the sources with their SHA-256
 * checked (the bootstrap, every blob for the full backend).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "erofs/fetchd.h"
#include "erofs/manifest.h"
#include "erofs/util.h"
#include "liberofs_mount.h"

int erofs_mount_fetch_whole(struct mount_job *j, const char *const *srcs,
			    unsigned int nr_srcs, const char *path,
			    uint64_t size, const char *sha256, const char *dest)
{
	uint8_t md[EROFS_SHA256_LEN];
	char hex[EROFS_SHA256_HEX_LEN + 1];
	size_t bufsz = 1 << 20;
	char *buf = malloc(bufsz);
	int err = -ENOENT;

	if (!buf)
		return erofs_err(j->log, -ENOMEM, "%s", dest);
	/* already here and right? */
	{
		int fd = open(dest, O_RDONLY | O_CLOEXEC);
		struct stat st;

		if (fd >= 0 && !fstat(fd, &st) &&
		    (uint64_t)st.st_size == size &&
		    !erofs_sha256_fd(fd, size, md)) {
			erofs_hex(hex, md, sizeof(md));
			if (!strcmp(hex, sha256)) {
				close(fd);
				free(buf);
				return 0;
			}
		}
		if (fd >= 0)
			close(fd);
	}
	for (unsigned int s = 0; s < nr_srcs && err; s++) {
		struct erofs_source *src;
		struct erofs_outfile of;
		EVP_MD_CTX *ctx;
		uint64_t off = 0;

		err = erofs_source_open(srcs[s], &j->o->http, j->log, &src);
		if (err)
			continue;
		err = erofs_outfile_open(&of, dest, j->log);
		if (err) {
			erofs_source_destroy(src);
			break;
		}
		ctx = EVP_MD_CTX_new();
		EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
		while (!err && off < size) {
			size_t n = size - off < bufsz ? size - off : bufsz;

			err = src->ops->read(src, path, off, n, buf);
			if (!err)
				err = erofs_write_all(of.fd, buf, n);
			EVP_DigestUpdate(ctx, buf, n);
			off += n;
		}
		EVP_DigestFinal_ex(ctx, md, NULL);
		EVP_MD_CTX_free(ctx);
		erofs_hex(hex, md, sizeof(md));
		if (!err && strcmp(hex, sha256))
			err = erofs_fail(j->log, -EBADMSG,
					 "%s from %s: SHA-256 %s, the manifest "
					 "says %s",
					 path, srcs[s], hex, sha256);
		if (err) {
			erofs_outfile_abort(&of);
			if (err != -EBADMSG)
				erofs_err(j->log, err, "%s from %s", path,
					  srcs[s]);
		} else {
			err = erofs_outfile_commit(&of, j->log);
		}
		erofs_source_destroy(src);
	}
	free(buf);
	return err;
}

/*
 * An OCI layout's own blobs directory when it holds @hex (the layout is
 * local: no point asking a server for what is next to its index), else
 * the sources.
 */
unsigned int erofs_mount_oci_srcs(struct mount_job *j, const char *hex,
				  const char **srcs)
{
	char path[PATH_MAX];

	if (j->is_oci &&
	    (size_t)snprintf(path, sizeof(path), "%s/%s", j->oci_blobdir, hex) <
		sizeof(path) &&
	    !access(path, F_OK)) {
		srcs[0] = j->oci_blobdir;
		return 1;
	}
	memcpy(srcs, j->srcs, j->nr_srcs * sizeof(*srcs));
	return j->nr_srcs;
}

int erofs_mount_fetch_bootstrap(struct mount_job *j)
{
	const char *srcs[EROFS_MOUNT_MAX_SOURCES];
	unsigned int nr;
	char *dest;
	int err;

	if (j->bootstrap)
		return 0; /* given as IMAGE: local already */
	nr = erofs_mount_oci_srcs(j, j->m.bootstrap_sha256, srcs);
	if (asprintf(&dest, "%s/bootstrap/%s.img", j->cache_dir,
		     j->m.bootstrap_sha256) < 0)
		return erofs_err(j->log, -ENOMEM, "bootstrap");
	err = erofs_mount_mkdir_p(dirname(strdupa(dest)), j->log);
	if (!err)
		err = erofs_mount_fetch_whole(j, srcs, nr, j->m.bootstrap_path,
					      j->m.bootstrap_size,
					      j->m.bootstrap_sha256, dest);
	if (err) {
		free(dest);
		return err;
	}
	j->bootstrap = dest;
	return 0;
}

int erofs_mount_full_fetch(struct mount_job *j)
{
	char dir[PATH_MAX];
	int err;

	snprintf(dir, sizeof(dir), "%s/%s", j->cache_dir,
		 EROFS_FETCHD_BLOB_DIR);
	err = erofs_mount_mkdir_p(dir, j->log);
	for (unsigned int i = 0; !err && i < j->m.nr_blobs; i++) {
		const struct erofs_manifest_blob *b = &j->m.blobs[i];
		char dest[PATH_MAX + 80];

		snprintf(dest, sizeof(dest), "%s/%s", dir, b->tag);
		err = erofs_mount_fetch_whole(j, j->srcs, j->nr_srcs, b->path,
					      b->size, b->sha256, dest);
	}
	return err;
}

/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Directory writer: globally sorted dirents (with "." and ".."), packed into
 * self-contained blocks as the kernel's lookup and readdir expect.
 */
#ifndef EROFS_DIR_H
#define EROFS_DIR_H

#include <stdint.h>

struct erofs_inode;

/* the directory's i_size in bytes (last block partial) */
uint64_t erofs_dir_size(const struct erofs_inode *dir, unsigned int blksz);

/*
 * Encodes the directory's data (erofs_dir_size() bytes, rounded up to a
 * block, zero-filled) into @out.  Child nids must be assigned.
 */
int erofs_dir_encode(const struct erofs_inode *dir, unsigned int blksz,
		     uint8_t *out);

#endif

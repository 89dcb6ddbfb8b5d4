// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Extended attributes: interning, shared area, inode bodies, name filter.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#include "erofs/ondisk.h"
#include "liberofs_tree.h"
#include "liberofs_xattr.h"

static const struct {
	const char *prefix;
	uint8_t index;
	bool exact;	/* the whole name is the prefix (ACLs) */
} prefixes[] = {
	{ "user.", EROFS_XATTR_INDEX_USER, false },
	{ "system.posix_acl_access", EROFS_XATTR_INDEX_POSIX_ACL_ACCESS, true },
	{ "system.posix_acl_default", EROFS_XATTR_INDEX_POSIX_ACL_DEFAULT,
	  true },
	{ "trusted.", EROFS_XATTR_INDEX_TRUSTED, false },
	{ "security.", EROFS_XATTR_INDEX_SECURITY, false },
};

void erofs_xattr_table_init(struct erofs_xattr_table *tbl,
			    const struct erofs_log *log)
{
	memset(tbl, 0, sizeof(*tbl));
	tbl->log = log;
}

void erofs_xattr_table_free(struct erofs_xattr_table *tbl)
{
	for (uint64_t i = 0; i < tbl->cap; i++) {
		struct erofs_xattr_item *it = tbl->tab[i];

		if (!it)
			continue;
		free(it->name);
		free(it->value);
		free(it);
	}
	free(tbl->tab);
	free(tbl->shared);
	memset(tbl, 0, sizeof(*tbl));
}

int erofs_xattr_split_name(const char *full, uint8_t *index,
			   const char **suffix)
{
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i].prefix);

		if (strncmp(full, prefixes[i].prefix, n))
			continue;
		if (prefixes[i].exact && full[n])
			continue;
		/* "user." alone has no suffix: not a valid name */
		if (!prefixes[i].exact && !full[n])
			return -EINVAL;
		*index = prefixes[i].index;
		*suffix = full + n;
		return 0;
	}
	return -EOPNOTSUPP;
}

size_t erofs_xattr_full_name(const struct erofs_xattr_item *it, char *buf,
			     size_t bufsz)
{
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (prefixes[i].index == it->index)
			return snprintf(buf, bufsz, "%s%.*s",
					prefixes[i].prefix, it->name_len,
					it->name);
	return snprintf(buf, bufsz, "?%u.%.*s", it->index, it->name_len,
			it->name);
}

static uint64_t item_hash(uint8_t index, const char *name, size_t nlen,
			  const void *value, size_t vlen)
{
	XXH3_state_t st;

	XXH3_64bits_reset_withSeed(&st, index);
	XXH3_64bits_update(&st, &nlen, sizeof(nlen));
	XXH3_64bits_update(&st, name, nlen);
	XXH3_64bits_update(&st, value, vlen);
	return XXH3_64bits_digest(&st);
}

static int table_grow(struct erofs_xattr_table *tbl)
{
	uint64_t cap = tbl->cap ? tbl->cap * 2 : 256;
	struct erofs_xattr_item **tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (uint64_t i = 0; i < tbl->cap; i++) {
		struct erofs_xattr_item *it = tbl->tab[i];
		uint64_t j;

		if (!it)
			continue;
		for (j = it->hash & (cap - 1); tab[j]; j = (j + 1) & (cap - 1))
			;
		tab[j] = it;
	}
	free(tbl->tab);
	tbl->tab = tab;
	tbl->cap = cap;
	return 0;
}

int erofs_xattr_add(struct erofs_xattr_table *tbl, struct erofs_inode *inode,
		    const char *fullname, const void *value, size_t len,
		    const char *what)
{
	struct erofs_xattr_item *it;
	const char *suffix;
	uint8_t index;
	size_t nlen;
	uint64_t h, i;
	void *p;
	int err;

	err = erofs_xattr_split_name(fullname, &index, &suffix);
	if (err)
		return err;
	nlen = strlen(suffix);
	if (nlen > 255)
		return erofs_fail(tbl->log, -E2BIG,
				 "%s: xattr name %s is too long", what,
				 fullname);
	if (len > UINT16_MAX)
		return erofs_fail(tbl->log, -E2BIG,
				 "%s: xattr %s value of %zu bytes exceeds 65535",
				 what, fullname, len);
	if ((tbl->used + 1) * 2 > tbl->cap) {
		err = table_grow(tbl);
		if (err)
			return err;
	}
	h = item_hash(index, suffix, nlen, value, len);
	for (i = h & (tbl->cap - 1); (it = tbl->tab[i]);
	     i = (i + 1) & (tbl->cap - 1)) {
		if (it->hash == h && it->index == index &&
		    it->name_len == nlen && it->value_len == len &&
		    !memcmp(it->name, suffix, nlen) &&
		    !memcmp(it->value, value, len))
			break;
	}
	if (!it) {
		it = calloc(1, sizeof(*it));
		if (!it)
			return -ENOMEM;
		it->index = index;
		it->name_len = nlen;
		it->value_len = len;
		it->name = malloc(nlen + 1);
		it->value = malloc(len + 1);
		if (!it->name || !it->value) {
			free(it->name);
			free(it->value);
			free(it);
			return -ENOMEM;
		}
		memcpy(it->name, suffix, nlen + 1);
		memcpy(it->value, value, len);
		it->hash = h;
		it->shared_id = -1;
		it->entry_size = EROFS_XATTR_ALIGN(EROFS_XATTR_ENTRY_HDR_SIZE +
						   nlen + len);
		tbl->tab[i] = it;
		tbl->used++;
	}
	p = realloc(inode->xattrs, (inode->nr_xattrs + 1) * sizeof(it));
	if (!p)
		return -ENOMEM;
	inode->xattrs = p;
	inode->xattrs[inode->nr_xattrs++] = it;
	it->refcount++;
	return 0;
}

void erofs_xattr_drop_inode(struct erofs_inode *inode)
{
	for (unsigned int i = 0; i < inode->nr_xattrs; i++)
		inode->xattrs[i]->refcount--;
	free(inode->xattrs);
	inode->xattrs = NULL;
	inode->nr_xattrs = 0;
}

static int item_cmp(const struct erofs_xattr_item *a,
		    const struct erofs_xattr_item *b)
{
	unsigned int n;
	int r;

	if (a->index != b->index)
		return a->index < b->index ? -1 : 1;
	n = a->name_len < b->name_len ? a->name_len : b->name_len;
	r = memcmp(a->name, b->name, n);
	if (r || a->name_len != b->name_len)
		return r ? r : (a->name_len < b->name_len ? -1 : 1);
	n = a->value_len < b->value_len ? a->value_len : b->value_len;
	r = memcmp(a->value, b->value, n);
	if (r || a->value_len != b->value_len)
		return r ? r : (a->value_len < b->value_len ? -1 : 1);
	return 0;
}

static int item_pcmp(const void *a, const void *b)
{
	return item_cmp(*(struct erofs_xattr_item *const *)a,
			*(struct erofs_xattr_item *const *)b);
}

void erofs_xattr_sort(struct erofs_inode *inode)
{
	if (inode->nr_xattrs > 1)
		qsort(inode->xattrs, inode->nr_xattrs, sizeof(*inode->xattrs),
		      item_pcmp);
}

int erofs_xattr_select_shared(struct erofs_xattr_table *tbl, int tolerance)
{
	uint64_t n = 0, off = 0;

	free(tbl->shared);
	tbl->shared = NULL;
	tbl->nr_shared = 0;
	tbl->shared_size = 0;
	if (tolerance < 0)
		return 0;
	for (uint64_t i = 0; i < tbl->cap; i++)
		if (tbl->tab[i] && tbl->tab[i]->refcount > (unsigned)tolerance)
			n++;
	if (!n)
		return 0;
	tbl->shared = malloc(n * sizeof(*tbl->shared));
	if (!tbl->shared)
		return -ENOMEM;
	for (uint64_t i = 0; i < tbl->cap; i++)
		if (tbl->tab[i] && tbl->tab[i]->refcount > (unsigned)tolerance)
			tbl->shared[tbl->nr_shared++] = tbl->tab[i];
	/* deterministic: the hash table order depends on insertion */
	qsort(tbl->shared, n, sizeof(*tbl->shared), item_pcmp);
	for (uint64_t i = 0; i < n; i++) {
		tbl->shared[i]->shared_id = off / 4;
		off += tbl->shared[i]->entry_size;
	}
	tbl->shared_size = off;
	return 0;
}

void erofs_xattr_size_inode(struct erofs_inode *inode)
{
	unsigned int size = 0, shared = 0;

	for (unsigned int i = 0; i < inode->nr_xattrs; i++) {
		const struct erofs_xattr_item *it = inode->xattrs[i];

		if (it->shared_id >= 0 && shared < EROFS_XATTR_MAX_SHARED) {
			shared++;
			size += 4;
		} else {
			size += it->entry_size;
		}
	}
	inode->nr_shared = shared;
	if (!inode->nr_xattrs) {
		inode->xattr_icount = 0;
		inode->xattr_isize = 0;
		return;
	}
	/* size >= 4, so icount >= 2: never the header-only icount 1 */
	inode->xattr_isize = EROFS_XATTR_IBODY_HDR_SIZE + size;
	inode->xattr_icount = 1 + size / 4;
}

unsigned int erofs_xattr_filter_bit(uint8_t index, const char *name,
				    size_t len)
{
	return XXH32(name, len, EROFS_XATTR_FILTER_SEED + index) &
	       (EROFS_XATTR_FILTER_BITS - 1);
}

unsigned int erofs_xattr_encode_entry(const struct erofs_xattr_item *it,
				      uint8_t *out)
{
	out[0] = it->name_len;
	out[1] = it->index;
	erofs_put_le16(out + 2, it->value_len);
	memcpy(out + 4, it->name, it->name_len);
	memcpy(out + 4 + it->name_len, it->value, it->value_len);
	memset(out + 4 + it->name_len + it->value_len, 0,
	       it->entry_size - 4 - it->name_len - it->value_len);
	return it->entry_size;
}

void erofs_xattr_encode_ibody(const struct erofs_inode *inode, bool filter,
			      uint8_t *out)
{
	uint32_t bits = 0;
	unsigned int shared = 0, off;

	if (!inode->xattr_isize)
		return;
	memset(out, 0, EROFS_XATTR_IBODY_HDR_SIZE);
	off = EROFS_XATTR_IBODY_HDR_SIZE;
	/* shared ids first, then the inline entries, both in sorted order */
	for (unsigned int i = 0; i < inode->nr_xattrs; i++) {
		const struct erofs_xattr_item *it = inode->xattrs[i];

		bits |= 1u << erofs_xattr_filter_bit(it->index, it->name,
						     it->name_len);
		if (it->shared_id >= 0 && shared < inode->nr_shared) {
			erofs_put_le32(out + off, (uint32_t)it->shared_id);
			off += 4;
			shared++;
		}
	}
	out[4] = shared;
	shared = 0;
	for (unsigned int i = 0; i < inode->nr_xattrs; i++) {
		const struct erofs_xattr_item *it = inode->xattrs[i];

		if (it->shared_id >= 0 && shared < inode->nr_shared) {
			shared++;
			continue;
		}
		off += erofs_xattr_encode_entry(it, out + off);
	}
	erofs_put_le32(out, filter ? ~bits : 0);
}

void erofs_xattr_encode_shared(const struct erofs_xattr_table *tbl,
			       uint8_t *out)
{
	uint64_t off = 0;

	for (uint64_t i = 0; i < tbl->nr_shared; i++)
		off += erofs_xattr_encode_entry(tbl->shared[i], out + off);
}

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
	bool exact; /* the whole name is the prefix (ACLs) */
} prefixes[] = {
    {"user.", EROFS_XATTR_INDEX_USER, false},
    {"system.posix_acl_access", EROFS_XATTR_INDEX_POSIX_ACL_ACCESS, true},
    {"system.posix_acl_default", EROFS_XATTR_INDEX_POSIX_ACL_DEFAULT, true},
    {"trusted.", EROFS_XATTR_INDEX_TRUSTED, false},
    {"security.", EROFS_XATTR_INDEX_SECURITY, false},
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
	for (unsigned int i = 0; i < tbl->nr_prefixes; i++)
		free(tbl->prefixes[i].full);
	free(tbl->prefixes);
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

int erofs_xattr_set_prefixes(struct erofs_xattr_table *tbl, char *const *names,
			     unsigned int nr)
{
	if (nr > EROFS_XATTR_MAX_LONG_PREFIXES)
		return erofs_fail(
		    tbl->log, -EINVAL,
		    "%u xattr name prefixes: at most %u fit the format", nr,
		    EROFS_XATTR_MAX_LONG_PREFIXES);
	if (!nr)
		return 0;
	tbl->prefixes = calloc(nr, sizeof(*tbl->prefixes));
	if (!tbl->prefixes)
		return -ENOMEM;
	for (unsigned int i = 0; i < nr; i++) {
		struct erofs_xattr_long_prefix *p = &tbl->prefixes[i];
		const char *infix;
		uint8_t index;

		if (erofs_xattr_split_name(names[i], &index, &infix) ||
		    index == EROFS_XATTR_INDEX_POSIX_ACL_ACCESS ||
		    index == EROFS_XATTR_INDEX_POSIX_ACL_DEFAULT)
			return erofs_fail(
			    tbl->log, -EINVAL,
			    "xattr name prefix \"%s\" must start with user., "
			    "trusted. or security. and go on",
			    names[i]);
		if (strlen(infix) > EROFS_NAME_LEN)
			return erofs_fail(
			    tbl->log, -EINVAL,
			    "xattr name prefix \"%s\" is too long", names[i]);
		p->full = strdup(names[i]);
		if (!p->full)
			return -ENOMEM;
		p->base_index = index;
		p->infix = p->full + (infix - names[i]);
		p->infix_len = strlen(infix);
		tbl->nr_prefixes = i + 1;
	}
	return 0;
}

unsigned int erofs_xattr_prefix_table_size(const struct erofs_xattr_table *tbl)
{
	unsigned int size = 0;

	/* le16 length, base index byte, infix; each record 4-aligned */
	for (unsigned int i = 0; i < tbl->nr_prefixes; i++)
		size += EROFS_XATTR_ALIGN(2 + 1 + tbl->prefixes[i].infix_len);
	return size;
}

void erofs_xattr_encode_prefixes(const struct erofs_xattr_table *tbl,
				 uint8_t *out)
{
	for (unsigned int i = 0; i < tbl->nr_prefixes; i++) {
		const struct erofs_xattr_long_prefix *p = &tbl->prefixes[i];
		unsigned int len = 1 + p->infix_len;

		erofs_put_le16(out, len);
		out[2] = p->base_index;
		memcpy(out + 3, p->infix, p->infix_len);
		memset(out + 2 + len, 0, EROFS_XATTR_ALIGN(2 + len) - 2 - len);
		out += EROFS_XATTR_ALIGN(2 + len);
	}
}

/* linux/posix_acl_xattr.h and posix_acl.h */
#define ACL_XATTR_VERSION 2
#define ACL_USER_OBJ	  0x01
#define ACL_USER	  0x02
#define ACL_GROUP_OBJ	  0x04
#define ACL_GROUP	  0x08
#define ACL_MASK	  0x10
#define ACL_OTHER	  0x20

int erofs_xattr_check_acl(const void *value, size_t len)
{
	const uint8_t *p = value;
	unsigned int state = 0, named = 0, mask = 0;

	if (len < 4 || (len - 4) % 8 || erofs_get_le32(p) != ACL_XATTR_VERSION)
		return -EINVAL;
	/* an empty ACL (header only) is valid: it removes the ACL */
	if (len == 4)
		return 0;
	/*
	 * tags must come in the order USER_OBJ, USER..., GROUP_OBJ, GROUP...,
	 * MASK, OTHER; state is the position reached
	 */
	for (size_t off = 4; off < len; off += 8) {
		unsigned int tag = erofs_get_le16(p + off);
		unsigned int perm = erofs_get_le16(p + off + 2);
		uint32_t id = erofs_get_le32(p + off + 4);
		unsigned int next;

		if (perm & ~7u)
			return -EINVAL;
		switch (tag) {
		case ACL_USER_OBJ:
			next = 1;
			break;
		case ACL_USER:
			next = 2;
			break;
		case ACL_GROUP_OBJ:
			next = 3;
			break;
		case ACL_GROUP:
			next = 4;
			break;
		case ACL_MASK:
			next = 5;
			break;
		case ACL_OTHER:
			next = 6;
			break;
		default:
			return -EINVAL;
		}
		/* USER and GROUP repeat; everything else appears once */
		if (next < state || (next == state && next != 2 && next != 4))
			return -EINVAL;
		/* USER_OBJ first, GROUP_OBJ before GROUP/MASK/OTHER */
		if ((next > 1 && state < 1) || (next > 3 && state < 3))
			return -EINVAL;
		if (next == 2 || next == 4) {
			/* (uid_t)-1 is no valid id */
			if (id == UINT32_MAX)
				return -EINVAL;
			named++;
		}
		mask += next == 5;
		state = next;
	}
	if (state != 6 || (named && !mask))
		return -EINVAL;
	return 0;
}

/* the long prefix @full starts with, or NULL; *rest is what follows it */
static const struct erofs_xattr_long_prefix *
match_long_prefix(const struct erofs_xattr_table *tbl, uint8_t index,
		  const char *suffix, unsigned int *nr)
{
	for (unsigned int i = 0; i < tbl->nr_prefixes; i++) {
		const struct erofs_xattr_long_prefix *p = &tbl->prefixes[i];

		/* a name equal to the prefix keeps its short form */
		if (p->base_index == index &&
		    !strncmp(suffix, p->infix, p->infix_len) &&
		    suffix[p->infix_len]) {
			*nr = i;
			return p;
		}
	}
	return NULL;
}

size_t erofs_xattr_full_name(const struct erofs_xattr_item *it, char *buf,
			     size_t bufsz)
{
	if (it->lprefix)
		return snprintf(buf, bufsz, "%s%.*s", it->lprefix, it->name_len,
				it->name);
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

/* bytes the inode's xattrs take when all are inline */
static size_t inline_bytes(const struct erofs_inode *inode)
{
	size_t n = EROFS_XATTR_IBODY_HDR_SIZE;

	for (unsigned int i = 0; i < inode->nr_xattrs; i++)
		n += inode->xattrs[i]->entry_size;
	return n;
}

int erofs_xattr_add(struct erofs_xattr_table *tbl, struct erofs_inode *inode,
		    const char *fullname, const void *value, size_t len,
		    const char *what)
{
	const struct erofs_xattr_long_prefix *lp;
	struct erofs_xattr_item *it, **slot = NULL;
	const char *suffix, *name;
	uint8_t index, base;
	unsigned int pnr = 0;
	size_t nlen, size;
	uint64_t h, i;
	void *p;
	int err;

	err = erofs_xattr_split_name(fullname, &base, &suffix);
	if (err)
		return err;
	index = base;
	name = suffix;
	lp = match_long_prefix(tbl, base, suffix, &pnr);
	if (lp) {
		index = EROFS_XATTR_LONG_PREFIX | pnr;
		name = suffix + lp->infix_len;
	}
	nlen = strlen(name);
	if (nlen > 255)
		return erofs_fail(tbl->log, -E2BIG,
				  "%s: xattr name %s is too long", what,
				  fullname);
	if (len > UINT16_MAX)
		return erofs_fail(
		    tbl->log, -E2BIG,
		    "%s: xattr %s value of %zu bytes exceeds 65535", what,
		    fullname, len);
	if ((base == EROFS_XATTR_INDEX_POSIX_ACL_ACCESS ||
	     base == EROFS_XATTR_INDEX_POSIX_ACL_DEFAULT) &&
	    erofs_xattr_check_acl(value, len))
		return erofs_fail(tbl->log, -EBADMSG,
				  "%s: xattr %s is not a valid POSIX ACL", what,
				  fullname);
	/* a name set twice keeps the last value, once */
	for (unsigned int k = 0; k < inode->nr_xattrs; k++) {
		it = inode->xattrs[k];
		if (it->index == index && it->name_len == nlen &&
		    !memcmp(it->name, name, nlen)) {
			slot = &inode->xattrs[k];
			break;
		}
	}
	size = inline_bytes(inode) - (slot ? (*slot)->entry_size : 0) +
	       EROFS_XATTR_ALIGN(EROFS_XATTR_ENTRY_HDR_SIZE + nlen + len);
	if (size > EROFS_XATTR_MAX_IBODY)
		return erofs_fail(tbl->log, -E2BIG,
				  "%s: extended attributes of %zu bytes exceed "
				  "the %u an EROFS inode holds",
				  what, size, EROFS_XATTR_MAX_IBODY);
	if ((tbl->used + 1) * 2 > tbl->cap) {
		err = table_grow(tbl);
		if (err)
			return err;
	}
	h = item_hash(index, name, nlen, value, len);
	for (i = h & (tbl->cap - 1); (it = tbl->tab[i]);
	     i = (i + 1) & (tbl->cap - 1)) {
		if (it->hash == h && it->index == index &&
		    it->name_len == nlen && it->value_len == len &&
		    !memcmp(it->name, name, nlen) &&
		    !memcmp(it->value, value, len))
			break;
	}
	if (!it) {
		it = calloc(1, sizeof(*it));
		if (!it)
			return -ENOMEM;
		it->index = index;
		it->base_index = base;
		it->lprefix = lp ? lp->full : NULL;
		it->filter_bit =
		    erofs_xattr_filter_bit(base, suffix, strlen(suffix));
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
		memcpy(it->name, name, nlen + 1);
		memcpy(it->value, value, len);
		it->hash = h;
		it->shared_id = -1;
		it->entry_size =
		    EROFS_XATTR_ALIGN(EROFS_XATTR_ENTRY_HDR_SIZE + nlen + len);
		tbl->tab[i] = it;
		tbl->used++;
	}
	if (slot) {
		(*slot)->refcount--;
		*slot = it;
		it->refcount++;
		return 0;
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

int erofs_xattr_size_inode(struct erofs_inode *inode)
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
		return 0;
	}
	if (EROFS_XATTR_IBODY_HDR_SIZE + size > EROFS_XATTR_MAX_IBODY)
		return -E2BIG;
	/* size >= 4, so icount >= 2: never the header-only icount 1 */
	inode->xattr_isize = EROFS_XATTR_IBODY_HDR_SIZE + size;
	inode->xattr_icount = 1 + size / 4;
	return 0;
}

unsigned int erofs_xattr_filter_bit(uint8_t index, const char *name, size_t len)
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

		bits |= 1u << it->filter_bit;
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

// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Chunk store: dedup index, zero extent, hole-aware file chunking.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <xxhash.h>

#include "liberofs_chunk.h"
#include "erofs/ondisk.h"
#include "erofs/util.h"

/*
 * 16 bytes: 56 bits of the chunk's XXH3-64 and its device id in one word
 * (the writer and blob offset follow from the device).  The hash only
 * proposes a match; the stored bytes decide, so a short key costs at most
 * a comparison, never a wrong reference.
 */
struct erofs_chunk_entry {
	uint64_t key; /* hash << 8 | device id */
	uint32_t len; /* 0 marks a free slot */
	uint32_t blkaddr;
};

#define KEY_HASH(k) ((k) >> 8)
#define KEY_DEV(k)  ((uint16_t)((k)&0xff))

/* where device @id's chunks are: its writer and block 0 */
static int dev_note(struct erofs_chunk_store *cs, uint16_t id,
		    struct erofs_blob *blob, uint32_t blk_base)
{
	if (id > 0xff)
		return erofs_fail(cs->log, -E2BIG, "too many blob devices");
	if (id >= cs->nr_devs) {
		void *p = realloc(cs->devs, (id + 1) * sizeof(*cs->devs));

		if (!p)
			return -ENOMEM;
		cs->devs = p;
		memset(cs->devs + cs->nr_devs, 0,
		       (id + 1 - cs->nr_devs) * sizeof(*cs->devs));
		cs->nr_devs = id + 1;
	}
	cs->devs[id].blob = blob;
	cs->devs[id].blk_base = blk_base;
	return 0;
}

int erofs_chunk_store_init(struct erofs_chunk_store *cs, unsigned int blkszbits,
			   uint64_t chunksize, uint16_t device_id,
			   uint32_t blk_base, struct erofs_blob *blob,
			   const struct erofs_log *log)
{
	memset(cs, 0, sizeof(*cs));
	cs->blkszbits = blkszbits;
	cs->chunksize = chunksize;
	cs->device_id = device_id;
	cs->blk_base = blk_base;
	cs->blob = blob;
	cs->log = log;
	cs->cap = 4096;
	cs->tab = calloc(cs->cap, sizeof(*cs->tab));
	cs->cmpbuf = malloc(chunksize);
	if (!cs->tab || !cs->cmpbuf || dev_note(cs, device_id, blob, blk_base))
		return -ENOMEM;
	/* chunk sizes are block multiples: one buffer size fits them all */
	return erofs_blob_set_pool(blob, chunksize);
}

int erofs_chunk_store_switch(struct erofs_chunk_store *cs,
			     struct erofs_blob *blob, uint16_t device_id,
			     uint32_t blk_base)
{
	cs->blob = blob;
	cs->device_id = device_id;
	cs->blk_base = blk_base;
	if (dev_note(cs, device_id, blob, blk_base))
		return -ENOMEM;
	return erofs_blob_set_pool(blob, cs->chunksize);
}

void erofs_chunk_store_free(struct erofs_chunk_store *cs)
{
	free(cs->tab);
	free(cs->cmpbuf);
	free(cs->devs);
	cs->devs = NULL;
	cs->nr_devs = 0;
	cs->tab = NULL;
	cs->cmpbuf = NULL;
}

static uint64_t slot_of(uint64_t hash, uint64_t cap)
{
	return hash & (cap - 1);
}

static int index_grow(struct erofs_chunk_store *cs)
{
	uint64_t cap = cs->cap * 2;
	struct erofs_chunk_entry *tab = calloc(cap, sizeof(*tab));

	if (!tab)
		return -ENOMEM;
	for (uint64_t i = 0; i < cs->cap; i++) {
		uint64_t j;

		if (!cs->tab[i].len)
			continue;
		for (j = slot_of(KEY_HASH(cs->tab[i].key), cap); tab[j].len;
		     j = (j + 1) & (cap - 1))
			;
		tab[j] = cs->tab[i];
	}
	free(cs->tab);
	cs->tab = tab;
	cs->cap = cap;
	return 0;
}

static bool is_zero(const void *p, size_t len)
{
	const uint64_t *w = p;
	const uint8_t *b = p;
	size_t i;

	for (i = 0; i < len / 8; i++)
		if (w[i])
			return false;
	for (i *= 8; i < len; i++)
		if (b[i])
			return false;
	return true;
}

static size_t stored_len(const struct erofs_chunk_store *cs, size_t len)
{
	size_t blksz = (size_t)1 << cs->blkszbits;

	return erofs_round_up(len, blksz);
}

/* appends @buf (ownership passes to the blob) and returns its ref */
static int store_new(struct erofs_chunk_store *cs, void *buf, size_t size,
		     size_t len, uint64_t *blob_off,
		     struct erofs_chunk_ref *ref)
{
	size_t slen = stored_len(cs, len);
	uint64_t off;
	int err;

	memset((char *)buf + len, 0, slen - len);
	err = erofs_blob_append(cs->blob, buf, slen, size, &off);
	if (err)
		return err;
	if ((off >> cs->blkszbits) + cs->blk_base >= EROFS_NULL_ADDR)
		return erofs_fail(cs->log, -EFBIG, "%s: more than 2^32 blocks",
				  cs->blob->name);
	ref->device_id = cs->device_id;
	ref->blkaddr = cs->blk_base + (off >> cs->blkszbits);
	*blob_off = off;
	cs->st.unique++;
	cs->st.bytes_stored += slen;
	return 0;
}

static int zero_ref(struct erofs_chunk_store *cs, size_t len,
		    struct erofs_chunk_ref *ref);

int erofs_chunk_zero(struct erofs_chunk_store *cs, size_t len,
		     struct erofs_chunk_ref *ref)
{
	cs->st.chunks++;
	cs->st.bytes_in += len;
	return zero_ref(cs, len, ref);
}

static int zero_ref(struct erofs_chunk_store *cs, size_t len,
		    struct erofs_chunk_ref *ref)
{
	cs->st.zero++;
	cs->st.bytes_zero += len;
	if (!cs->have_zero) {
		/* one extent of a whole chunk serves every zero chunk */
		void *z = calloc(1, cs->chunksize);
		uint64_t off;
		int err;

		if (!z)
			return -ENOMEM;
		err = store_new(cs, z, cs->chunksize, cs->chunksize, &off,
				&cs->zero);
		if (err)
			return err;
		cs->st.unique--;
		cs->have_zero = true;
	}
	*ref = cs->zero;
	return 0;
}

int erofs_chunk_put(struct erofs_chunk_store *cs, void *buf, size_t size,
		    size_t len, struct erofs_chunk_ref *ref)
{
	uint64_t h, i, off;
	const struct erofs_chunk_dev *d;
	int err;

	cs->st.chunks++;
	cs->st.bytes_in += len;
	if (is_zero(buf, len)) {
		erofs_blob_release(cs->blob, buf);
		return zero_ref(cs, len, ref);
	}
	h = XXH3_64bits(buf, len) >> 8;
	for (i = slot_of(h, cs->cap); cs->tab[i].len;
	     i = (i + 1) & (cs->cap - 1)) {
		struct erofs_chunk_entry *e = &cs->tab[i];

		if (e->len != len || KEY_HASH(e->key) != h)
			continue;
		/* a fast hash only proposes; the stored bytes decide */
		d = &cs->devs[KEY_DEV(e->key)];
		err = erofs_blob_compare(d->blob, buf, len,
					 (uint64_t)(e->blkaddr - d->blk_base)
					     << cs->blkszbits,
					 cs->cmpbuf);
		if (err < 0) {
			erofs_blob_release(cs->blob, buf);
			return err;
		}
		if (err) {
			cs->st.hash_collisions++;
			continue;
		}
		erofs_blob_release(cs->blob, buf);
		ref->device_id = KEY_DEV(e->key);
		ref->blkaddr = e->blkaddr;
		cs->st.dedup_hits++;
		cs->st.bytes_dedup += len;
		return 0;
	}
	err = store_new(cs, buf, size, len, &off, ref);
	if (err)
		return err;
	if ((cs->used + 1) * 4 > cs->cap * 3) {
		err = index_grow(cs);
		if (err)
			return err;
		for (i = slot_of(h, cs->cap); cs->tab[i].len;
		     i = (i + 1) & (cs->cap - 1))
			;
	}
	cs->tab[i].key = h << 8 | ref->device_id;
	cs->tab[i].len = len;
	cs->tab[i].blkaddr = ref->blkaddr;
	cs->used++;
	return 0;
}

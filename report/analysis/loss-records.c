/*
 * loss-records.c - memcheck's loss records from a leak analysis (see
 * loss-records.h): blocks grouped by kind and stack, what each definitely
 * lost record owns grouped by where it was allocated, largest first.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "loss-records.h"
#include "site-names.h"

struct keyed {
	uint64_t key;		/* kind << 32 | stack, or record << 32 | stack */
	uint64_t size;
	uint32_t block;
};

static int by_key(const void *x, const void *y)
{
	const struct keyed *a = x, *b = y;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return a->block < b->block ? -1 : a->block > b->block;
}

static int by_total(const void *x, const void *y)
{
	const struct loss_record *a = x, *b = y;
	uint64_t ta = a->bytes + a->owned_bytes, tb = b->bytes + b->owned_bytes;

	if (ta != tb)
		return ta > tb ? -1 : 1;
	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return a->stack < b->stack ? -1 : a->stack > b->stack;
}

static int by_owned(const void *x, const void *y)
{
	const struct loss_owned *a = x, *b = y;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return a->stack < b->stack ? -1 : a->stack > b->stack;
}

/* Two grouping frames that print the same (one line, two calls on it). */
static int same_place(const struct profile *p, uint32_t a, uint32_t b)
{
	const struct profile_frame *x, *y;

	if (a == b)
		return 1;
	if (a == PROFILE_NONE || b == PROFILE_NONE)
		return 0;
	x = &p->frames[a];
	y = &p->frames[b];
	return x->function && x->function == y->function && x->file == y->file && x->line == y->line;
}

static void merge_same_places(const struct profile *p, struct loss_record *rec)
{
	size_t n = 0;

	for (size_t i = 0; i < rec->nowned; i++) {
		uint32_t fi = site_frame(p, rec->owned[i].stack);
		size_t k;

		for (k = 0; k < n; k++)
			if (same_place(p, site_frame(p, rec->owned[k].stack), fi))
				break;
		if (k < n) {
			rec->owned[k].blocks += rec->owned[i].blocks;
			rec->owned[k].bytes += rec->owned[i].bytes;
		} else {
			rec->owned[n++] = rec->owned[i];
		}
	}
	rec->nowned = n;
}

void loss_records_release(struct loss_records *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->items[i].owned);
	free(rs->items);
}

/*
 * What each definitely lost record owns, by where it was allocated: the
 * indirectly lost blocks whose owner is in a record, grouped by record
 * and site. keys has room for every block. Returns 0 or -ENOMEM.
 */
static int add_owned(const struct profile *p, const struct leak_analysis *a, const uint32_t *record_of,
		     struct keyed *keys, struct loss_records *rs)
{
	const struct profile_snapshot *s = a->snapshot;
	size_t nowned = 0;

	for (uint32_t i = 0; i < s->nblocks; i++) {
		uint32_t o = a->owner[i];

		if (a->kind[i] == LEAK_INDIRECT && !a->suppressed[i] && o != LEAK_NONE && record_of[o] != LEAK_NONE)
			keys[nowned++] = (struct keyed){ (uint64_t)record_of[o] << 32 |
							 site_frame(p, s->blocks[i].stack),
							 s->blocks[i].size, i };
	}
	qsort(keys, nowned, sizeof(*keys), by_key);
	for (size_t i = 0; i < nowned;) {
		struct loss_record *rec = &rs->items[keys[i].key >> 32];
		size_t j = i, groups = 0;

		while (j < nowned && keys[j].key >> 32 == keys[i].key >> 32) {
			if (j == i || keys[j].key != keys[j - 1].key)
				groups++;
			j++;
		}
		rec->owned = calloc(groups, sizeof(*rec->owned));
		if (!rec->owned)
			return -ENOMEM;
		for (size_t k = i; k < j; k++) {
			struct profile_weight w = profile_block_weight(s->sample_rate, &s->blocks[keys[k].block]);

			if (k == i || keys[k].key != keys[k - 1].key)
				rec->owned[rec->nowned++].stack = s->blocks[keys[k].block].stack;
			rec->owned[rec->nowned - 1].blocks += w.blocks;
			rec->owned[rec->nowned - 1].bytes += w.bytes;
			rec->owned_blocks += w.blocks;
			rec->owned_bytes += w.bytes;
		}
		merge_same_places(p, rec);
		qsort(rec->owned, rec->nowned, sizeof(*rec->owned), by_owned);
		i = j;
	}
	return 0;
}

int loss_records_make(const struct profile *p, const struct leak_analysis *a, unsigned kinds, size_t limit,
		      struct loss_records *rs)
{
	const struct profile_snapshot *s = a->snapshot;
	struct keyed *keys = malloc((s->nblocks + 1) * sizeof(*keys));
	uint32_t *record_of = malloc((s->nblocks + 1) * sizeof(*record_of));
	size_t n = 0;
	int ret = -ENOMEM;

	rs->items = NULL;
	rs->n = 0;
	if (!keys || !record_of)
		goto out;
	for (uint32_t i = 0; i < s->nblocks; i++) {
		record_of[i] = LEAK_NONE;
		if (!a->suppressed[i] && (kinds & (1u << a->kind[i])))
			keys[n++] = (struct keyed){ (uint64_t)a->kind[i] << 32 | s->blocks[i].stack,
						    s->blocks[i].size, i };
	}
	qsort(keys, n, sizeof(*keys), by_key);
	rs->items = calloc(n + 1, sizeof(*rs->items));
	if (!rs->items)
		goto out;
	for (size_t i = 0; i < n; i++) {
		struct profile_weight w;
		struct loss_record *rec;

		if (!i || keys[i].key != keys[i - 1].key)
			rs->items[rs->n++] = (struct loss_record){ (enum leak_kind)(keys[i].key >> 32),
							      (uint32_t)keys[i].key, 0, 0, 0, 0, NULL, 0, SIZE_MAX };
		rec = &rs->items[rs->n - 1];
		w = profile_block_weight(s->sample_rate, &s->blocks[keys[i].block]);
		rec->blocks += w.blocks;
		rec->bytes += w.bytes;
		record_of[keys[i].block] = (uint32_t)(rs->n - 1);
		if (a->cycle_of[keys[i].block] != LEAK_NONE && a->cycle_of[keys[i].block] < rec->first_cycle)
			rec->first_cycle = a->cycle_of[keys[i].block];
	}

	if (add_owned(p, a, record_of, keys, rs) < 0)
		goto out;
	qsort(rs->items, rs->n, sizeof(*rs->items), by_total);
	if (limit && rs->n > limit) {
		for (size_t i = limit; i < rs->n; i++)
			free(rs->items[i].owned);
		rs->n = limit;
	}
	ret = 0;
out:
	if (ret < 0)
		loss_records_release(rs);
	free(keys);
	free(record_of);
	return ret;
}


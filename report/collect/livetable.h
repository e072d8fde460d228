/*
 * livetable.h - the set of live blocks, keyed by address.
 *
 * Open addressing with linear probing and backward-shift deletion, so
 * removals leave no tombstones and the table stays fast under the
 * malloc/free churn of a real program. Slots are found by multiply-shift
 * hashing onto any capacity, so a large table grows by half at 70% load
 * instead of doubling: a heap of millions of blocks costs about 24 bytes
 * per block over 0.5-0.7 of load; a small one (a segment under 1 MiB) is
 * kept at most half full, doubling, for short probes. The table is 64
 * segments, picked by the hash's top bits and grown one at a time, so a
 * growth never holds the old and the new copy of the whole table at once
 * (that was 2.5 times the table). A segment below a fifth of its load
 * shrinks back to half of it (10% to 25% small, 20% to 50% large).
 */
#ifndef HEAPWISE_LIVETABLE_H
#define HEAPWISE_LIVETABLE_H

#include <stddef.h>
#include <stdint.h>

/* 24 bytes: the table holds millions of these. */
struct live_block {
	uint64_t addr;		/* 0 marks an empty slot (no block lives at 0) */
	uint64_t stamp;		/* stamp of the allocation */
	uint64_t size : 43;	/* bytes requested, up to LIVE_MAX_SIZE */
	uint64_t stack : 21;	/* stack id, up to LIVE_MAX_STACK */
};

#define LIVE_MAX_SIZE	((1ull << 43) - 1)	/* 8 TiB */
#define LIVE_MAX_STACK	((1u << 21) - 1)

#define LIVETABLE_SEGMENTS	64

struct livetable_segment {
	struct live_block *slots;	/* capacity entries */
	size_t capacity;		/* any size */
	size_t count;			/* live entries */
};

struct livetable {
	struct livetable_segment segments[LIVETABLE_SEGMENTS];
	size_t count;			/* live entries in all */
};

#define LIVETABLE_INIT { .count = 0 }

/* Add b (b->addr != 0). Returns 0, -EEXIST if the address is live already
 * (the old entry is left in place), -ENOMEM. */
int livetable_insert(struct livetable *t, const struct live_block *b);

/* Remove the block at addr and copy it to *out. Returns 0 or -ENOENT. */
int livetable_remove(struct livetable *t, uint64_t addr, struct live_block *out);

/* The block at addr, or NULL. The pointer lasts until the next change. */
struct live_block *livetable_find(struct livetable *t, uint64_t addr);

/* Start loading the slot where addr lives (or would), ahead of a lookup. */
void livetable_prefetch(struct livetable *t, uint64_t addr);

void livetable_clear(struct livetable *t);
void livetable_release(struct livetable *t);

/* Iterate: for (i = 0; (b = livetable_next(t, &i)); ) ... */
struct live_block *livetable_next(struct livetable *t, size_t *pos);

#endif

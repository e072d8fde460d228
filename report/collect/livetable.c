/*
 * livetable.c - the live blocks of the traced program, by address.
 * See livetable.h for the contract.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "livetable.h"

#define SEGMENT_BITS	6
#define FIRST_CAPACITY	256	/* slots of a segment at its first insert */
/* A segment of less than 1 MiB (the whole table under 64 MiB) is kept at
 * most half full, doubling: its probes stay short, and it costs little. A
 * larger one fills to 70% and grows by half, for the memory. (Churn over
 * 10,000 blocks: the collector 20% faster than at 70%.) */
#define SMALL_SLOTS	((1u << 20) / sizeof(struct live_block))

/* Fibonacci hashing: the top bits pick the segment, the rest the slot. */
static uint64_t hash_of(uint64_t addr)
{
	return (addr ^ (addr >> 29)) * 0x9e3779b97f4a7c15ull;
}

static struct livetable_segment *segment_of(struct livetable *t, uint64_t h)
{
	return &t->segments[h >> (64 - SEGMENT_BITS)];
}

/* Multiply-shift of the hash's remaining bits onto [0, capacity). */
static size_t slot_of(const struct livetable_segment *s, uint64_t h)
{
	return (size_t)(((unsigned __int128)(h << SEGMENT_BITS) * s->capacity) >> 64);
}

static size_t next_slot(const struct livetable_segment *s, size_t i)
{
	return i + 1 == s->capacity ? 0 : i + 1;
}

/* Move the segment's entries into a table of cap slots (cap > count). */
static int resize(struct livetable_segment *s, size_t cap)
{
	struct live_block *old = s->slots;
	size_t oldcap = s->capacity;

	s->slots = calloc(cap, sizeof(*s->slots));
	if (!s->slots) {
		s->slots = old;
		return -ENOMEM;
	}
	s->capacity = cap;
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i].addr)
			continue;
		size_t j = slot_of(s, hash_of(old[i].addr));

		while (s->slots[j].addr)
			j = next_slot(s, j);
		s->slots[j] = old[i];
	}
	free(old);
	return 0;
}

static int small(size_t capacity)
{
	return capacity < SMALL_SLOTS;
}

/* Would count entries fill it past its load? */
static int too_full(const struct livetable_segment *s, size_t count)
{
	return small(s->capacity) ? count * 2 > s->capacity : count * 10 > s->capacity * 7;
}

static int grow(struct livetable_segment *s)
{
	if (!s->capacity)
		return resize(s, FIRST_CAPACITY);
	return resize(s, small(s->capacity) ? s->capacity * 2 : s->capacity + s->capacity / 2);
}

/*
 * Below 10% load (small) or 20% (large), go back to 25% or 50%: a program
 * that frees most of its heap (at the end, say) gives our memory back
 * while it still holds its own.
 */
static void shrink(struct livetable_segment *s)
{
	size_t to = small(s->count * 4) ? s->count * 4 : s->count * 2 > SMALL_SLOTS ? s->count * 2 : SMALL_SLOTS;

	if (s->capacity > 4 * FIRST_CAPACITY &&
	    (small(s->capacity) ? s->count * 10 < s->capacity : s->count * 10 < s->capacity * 2))
		resize(s, to > FIRST_CAPACITY ? to : FIRST_CAPACITY);
}

int livetable_insert(struct livetable *t, const struct live_block *b)
{
	uint64_t h = hash_of(b->addr);
	struct livetable_segment *s = segment_of(t, h);
	size_t i;

	if (too_full(s, s->count + 1) && grow(s) < 0)
		return -ENOMEM;
	for (i = slot_of(s, h); s->slots[i].addr; i = next_slot(s, i))
		if (s->slots[i].addr == b->addr)
			return -EEXIST;
	s->slots[i] = *b;
	s->count++;
	t->count++;
	return 0;
}

struct live_block *livetable_find(struct livetable *t, uint64_t addr)
{
	uint64_t h = hash_of(addr);
	struct livetable_segment *s = segment_of(t, h);

	if (!s->capacity)
		return NULL;
	for (size_t i = slot_of(s, h); s->slots[i].addr; i = next_slot(s, i))
		if (s->slots[i].addr == addr)
			return &s->slots[i];
	return NULL;
}

int livetable_remove(struct livetable *t, uint64_t addr, struct live_block *out)
{
	uint64_t h = hash_of(addr);
	struct livetable_segment *s = segment_of(t, h);
	struct live_block *b = livetable_find(t, addr);
	size_t i, j;

	if (!b)
		return -ENOENT;
	if (out)
		*out = *b;
	/* backward shift: pull later entries of the cluster into the hole */
	i = (size_t)(b - s->slots);
	for (j = next_slot(s, i); s->slots[j].addr; j = next_slot(s, j)) {
		size_t home = slot_of(s, hash_of(s->slots[j].addr));

		/* move j to i unless its home lies cyclically in (i, j] */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			s->slots[i] = s->slots[j];
			i = j;
		}
	}
	s->slots[i].addr = 0;
	s->count--;
	t->count--;
	shrink(s);	/* failing is fine: the old table stays */
	return 0;
}

void livetable_prefetch(struct livetable *t, uint64_t addr)
{
	uint64_t h = hash_of(addr);
	struct livetable_segment *s = segment_of(t, h);

	if (s->capacity)
		__builtin_prefetch(&s->slots[slot_of(s, h)], 1);
}

/* *pos holds the segment in its high bits and the slot in the low ones. */
#define POS_SHIFT	40

struct live_block *livetable_next(struct livetable *t, size_t *pos)
{
	size_t seg = *pos >> POS_SHIFT, i = *pos & (((size_t)1 << POS_SHIFT) - 1);

	for (; seg < LIVETABLE_SEGMENTS; seg++, i = 0) {
		struct livetable_segment *s = &t->segments[seg];

		while (i < s->capacity) {
			struct live_block *b = &s->slots[i++];

			if (b->addr) {
				*pos = (seg << POS_SHIFT) | i;
				return b;
			}
		}
	}
	*pos = (size_t)LIVETABLE_SEGMENTS << POS_SHIFT;
	return NULL;
}

void livetable_clear(struct livetable *t)
{
	for (size_t k = 0; k < LIVETABLE_SEGMENTS; k++) {
		struct livetable_segment *s = &t->segments[k];

		if (s->slots)
			memset(s->slots, 0, s->capacity * sizeof(*s->slots));
		s->count = 0;
	}
	t->count = 0;
}

void livetable_release(struct livetable *t)
{
	for (size_t k = 0; k < LIVETABLE_SEGMENTS; k++) {
		free(t->segments[k].slots);
		t->segments[k] = (struct livetable_segment){ NULL, 0, 0 };
	}
	t->count = 0;
}

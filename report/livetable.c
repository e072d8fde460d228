/*
 * livetable.c - the live blocks of the traced program, by address.
 * See livetable.h for the contract.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "livetable.h"

/* Fibonacci hashing, then multiply-shift onto [0, capacity). */
static size_t slot_of(const struct livetable *t, uint64_t addr)
{
	uint64_t h = (addr ^ (addr >> 29)) * 0x9e3779b97f4a7c15ull;

	return (size_t)(((unsigned __int128)h * t->capacity) >> 64);
}

static size_t next_slot(const struct livetable *t, size_t i)
{
	return i + 1 == t->capacity ? 0 : i + 1;
}

static int grow(struct livetable *t)
{
	size_t cap = t->capacity ? t->capacity + t->capacity / 2 : 4096;
	struct live_block *old = t->slots;
	size_t oldcap = t->capacity;

	t->slots = calloc(cap, sizeof(*t->slots));
	if (!t->slots) {
		t->slots = old;
		return -ENOMEM;
	}
	t->capacity = cap;
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i].addr)
			continue;
		size_t j = slot_of(t, old[i].addr);

		while (t->slots[j].addr)
			j = next_slot(t, j);
		t->slots[j] = old[i];
	}
	free(old);
	return 0;
}

int livetable_insert(struct livetable *t, const struct live_block *b)
{
	size_t i;

	if ((t->count + 1) * 10 > t->capacity * 7 && grow(t) < 0)
		return -ENOMEM;
	for (i = slot_of(t, b->addr); t->slots[i].addr; i = next_slot(t, i))
		if (t->slots[i].addr == b->addr)
			return -EEXIST;
	t->slots[i] = *b;
	t->count++;
	return 0;
}

struct live_block *livetable_find(struct livetable *t, uint64_t addr)
{
	if (!t->capacity)
		return NULL;
	for (size_t i = slot_of(t, addr); t->slots[i].addr; i = next_slot(t, i))
		if (t->slots[i].addr == addr)
			return &t->slots[i];
	return NULL;
}

int livetable_remove(struct livetable *t, uint64_t addr, struct live_block *out)
{
	struct live_block *b = livetable_find(t, addr);
	size_t i, j;

	if (!b)
		return -ENOENT;
	if (out)
		*out = *b;
	/* backward shift: pull later entries of the cluster into the hole */
	i = (size_t)(b - t->slots);
	for (j = next_slot(t, i); t->slots[j].addr; j = next_slot(t, j)) {
		size_t home = slot_of(t, t->slots[j].addr);

		/* move j to i unless its home lies cyclically in (i, j] */
		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			t->slots[i] = t->slots[j];
			i = j;
		}
	}
	t->slots[i].addr = 0;
	t->count--;
	return 0;
}

void livetable_prefetch(const struct livetable *t, uint64_t addr)
{
	if (t->capacity)
		__builtin_prefetch(&t->slots[slot_of(t, addr)], 1);
}

struct live_block *livetable_next(struct livetable *t, size_t *pos)
{
	while (*pos < t->capacity) {
		struct live_block *b = &t->slots[(*pos)++];

		if (b->addr)
			return b;
	}
	return NULL;
}

void livetable_clear(struct livetable *t)
{
	if (t->slots)
		memset(t->slots, 0, t->capacity * sizeof(*t->slots));
	t->count = 0;
}

void livetable_release(struct livetable *t)
{
	free(t->slots);
	t->slots = NULL;
	t->capacity = t->count = 0;
}

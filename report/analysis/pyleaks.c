/*
 * pyleaks.c - uncollected cycles and leaked references (see pyleaks.h).
 *
 * A lost structure is named by its definitely lost block (leaks.h: the
 * owner of the indirectly lost blocks it holds). It is an uncollected
 * cycle when that block is in a lost cycle that holds a Python object,
 * and a leaked reference when it is an object in no cycle; its owned
 * blocks count with it either way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pyleaks.h"

enum { NONE, CYCLE, REFERENCE };

/* Does cycle c hold a Python object? */
static int cycle_has_object(const struct leak_analysis *a, uint32_t c)
{
	const struct leak_cycle *cy = &a->cycles[c];

	for (size_t i = 0; i < cy->n; i++)
		if (a->snapshot->types[cy->members[i]])
			return 1;
	return 0;
}

/* What the lost structure named by definitely lost block d is. */
static int structure_of(const struct leak_analysis *a, uint32_t d)
{
	if (a->cycle_of[d] != LEAK_NONE)
		return cycle_has_object(a, a->cycle_of[d]) ? CYCLE : NONE;
	return a->snapshot->types[d] ? REFERENCE : NONE;
}

static int count_type(struct pyleak_group *g, uint32_t name, uint64_t objects)
{
	struct pyleak_type *t;
	size_t i;

	for (i = 0; i < g->ntypes && g->types[i].name != name; i++)
		;
	if (i == g->ntypes) {
		t = realloc(g->types, (g->ntypes + 1) * sizeof(*t));
		if (!t)
			return -ENOMEM;
		g->types = t;
		g->types[g->ntypes++] = (struct pyleak_type){ name, 0 };
	}
	g->types[i].objects += objects;
	return 0;
}

/* Block i, in the structure named by its owner, into that structure's group. */
static int add_block(const struct leak_analysis *a, const uint8_t *what, struct pyleaks *out, uint32_t i,
		     uint32_t named_by)
{
	const struct profile_snapshot *s = a->snapshot;
	struct pyleak_group *g = what[named_by] == CYCLE ? &out->cycles : &out->references;
	struct profile_weight w = profile_block_weight(s->sample_rate, &s->blocks[i]);

	g->blocks += w.blocks;
	g->bytes += w.bytes;
	if (!s->types[i])
		return 0;
	g->objects += w.blocks;	/* an object is a block: sampled, it stands for as many */
	return count_type(g, s->types[i], w.blocks);
}

static int by_objects(const void *x, const void *y)
{
	const struct pyleak_type *a = x, *b = y;

	return a->objects != b->objects ? (a->objects > b->objects ? -1 : 1) : (a->name > b->name) - (a->name < b->name);
}

int pyleaks_find(const struct leak_analysis *a, struct pyleaks *out)
{
	const struct profile_snapshot *s = a->snapshot;
	uint8_t *what, *counted;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (!s->types)
		return -ENOENT;
	what = calloc(s->nblocks + 1, 1);
	counted = calloc(a->ncycles + 1, 1);
	if (!what || !counted) {
		free(what);
		free(counted);
		return -ENOMEM;
	}
	for (uint64_t i = 0; i < s->nblocks; i++) {
		if (a->kind[i] != LEAK_DEFINITE || (a->suppressed && a->suppressed[i]))
			continue;
		what[i] = (uint8_t)structure_of(a, (uint32_t)i);
		if (what[i] == REFERENCE)
			out->references.count++;
		else if (what[i] == CYCLE && !counted[a->cycle_of[i]]++)
			out->cycles.count++;
	}
	for (uint64_t i = 0; i < s->nblocks && ret == 0; i++) {
		uint32_t named_by = a->kind[i] == LEAK_DEFINITE ? (uint32_t)i :
				    a->kind[i] == LEAK_INDIRECT ? a->owner[i] : LEAK_NONE;

		if (named_by != LEAK_NONE && named_by < s->nblocks && what[named_by] != NONE &&
		    !(a->suppressed && a->suppressed[i]))
			ret = add_block(a, what, out, (uint32_t)i, named_by);
	}
	free(what);
	free(counted);
	if (ret < 0) {
		pyleaks_release(out);
		return ret;
	}
	qsort(out->cycles.types, out->cycles.ntypes, sizeof(*out->cycles.types), by_objects);
	qsort(out->references.types, out->references.ntypes, sizeof(*out->references.types), by_objects);
	return 0;
}

void pyleaks_release(struct pyleaks *l)
{
	free(l->cycles.types);
	free(l->references.types);
	memset(l, 0, sizeof(*l));
}

/*
 * scopes.c - per compile unit, the address ranges of its functions and
 * inlined calls, walked once (see scopes.h).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <dwarf.h>

#include "../util/array.h"
#include "scopes.h"

struct scope_range {
	Dwarf_Addr low, high;	/* [low, high) */
	uint32_t die;		/* index into the unit's dies */
	uint32_t depth;		/* functions and inlined calls around it */
};

struct unit_scopes {
	void *cu;		/* the unit's identity: Dwarf_Die.cu */
	Dwarf_Die *dies;
	size_t ndies, dies_cap;
	struct scope_range *ranges;
	size_t nranges, ranges_cap;
};

struct scope_cache {
	struct unit_scopes *units;
	size_t nunits, cap;
	size_t last;		/* the unit used last: addresses come in runs */
};

struct scope_cache *scope_cache_new(void)
{
	return calloc(1, sizeof(struct scope_cache));
}

void scope_cache_free(struct scope_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nunits; i++) {
		free(c->units[i].dies);
		free(c->units[i].ranges);
	}
	free(c->units);
	free(c);
}

static int is_function(int tag)
{
	return tag == DW_TAG_subprogram || tag == DW_TAG_inlined_subroutine ||
	       tag == DW_TAG_entry_point;
}

/* Record die's ranges; returns 0 or -ENOMEM. */
static int add_function(struct unit_scopes *u, Dwarf_Die *die, uint32_t depth)
{
	Dwarf_Addr base, low, high;
	ptrdiff_t off = 0;
	uint32_t index = (uint32_t)u->ndies;
	int any = 0;

	while ((off = dwarf_ranges(die, off, &base, &low, &high)) > 0) {
		if (array_grow((void **)&u->ranges, &u->ranges_cap, u->nranges + 1, sizeof(*u->ranges)) < 0)
			return -ENOMEM;
		u->ranges[u->nranges++] = (struct scope_range){ low, high, index, depth };
		any = 1;
	}
	if (!any)
		return 0;	/* a declaration, or code that was dropped */
	if (array_grow((void **)&u->dies, &u->dies_cap, u->ndies + 1, sizeof(*u->dies)) < 0)
		return -ENOMEM;
	u->dies[u->ndies++] = *die;
	return 0;
}

/* Walk die and its siblings, and everything below them. */
static int walk(struct unit_scopes *u, Dwarf_Die *first, uint32_t depth)
{
	Dwarf_Die die = *first, child;

	do {
		uint32_t inner = depth;

		if (is_function(dwarf_tag(&die))) {
			if (add_function(u, &die, depth) < 0)
				return -ENOMEM;
			inner++;
		}
		if (dwarf_haschildren(&die) && dwarf_child(&die, &child) == 0 &&
		    walk(u, &child, inner) < 0)
			return -ENOMEM;
	} while (dwarf_siblingof(&die, &die) == 0);
	return 0;
}

static struct unit_scopes *unit_for(struct scope_cache *c, Dwarf_Die *cudie)
{
	struct unit_scopes *u;
	Dwarf_Die child;

	if (c->last < c->nunits && c->units[c->last].cu == cudie->cu)
		return &c->units[c->last];
	for (size_t i = 0; i < c->nunits; i++)
		if (c->units[i].cu == cudie->cu) {
			c->last = i;
			return &c->units[i];
		}
	if (array_grow((void **)&c->units, &c->cap, c->nunits + 1, sizeof(*c->units)) < 0)
		return NULL;
	u = &c->units[c->nunits];
	*u = (struct unit_scopes){ .cu = cudie->cu };
	if (dwarf_child(cudie, &child) == 0 && walk(u, &child, 0) < 0) {
		free(u->dies);
		free(u->ranges);
		return NULL;
	}
	c->last = c->nunits++;
	return u;
}

int scope_cache_lookup(struct scope_cache *c, Dwarf_Die *cudie, Dwarf_Addr pc,
		       Dwarf_Die *out, int max)
{
	struct unit_scopes *u = unit_for(c, cudie);
	struct scope_range *hit[64];
	int n = 0;

	if (!u)
		return -1;
	for (size_t i = 0; i < u->nranges && n < 64; i++)
		if (pc >= u->ranges[i].low && pc < u->ranges[i].high)
			hit[n++] = &u->ranges[i];
	/* innermost first: deepest nesting first (insertion sort, n is tiny) */
	for (int i = 1; i < n; i++)
		for (int j = i; j > 0 && hit[j]->depth > hit[j - 1]->depth; j--) {
			struct scope_range *t = hit[j];

			hit[j] = hit[j - 1];
			hit[j - 1] = t;
		}
	if (n > max)
		n = max;
	for (int i = 0; i < n; i++)
		out[i] = u->dies[hit[i]->die];
	return n;
}

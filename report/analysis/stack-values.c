/*
 * stack-values.c - one number for every stack of a profile (see
 * stack-values.h).
 */
#include <errno.h>
#include <stdlib.h>

#include "leaks.h"
#include "stack-values.h"

const char *stack_value_name(enum stack_value v)
{
	static const char *const names[] = { "live-bytes", "live-blocks", "allocated", "allocations", "leaked" };

	return names[v];
}

const char *stack_value_unit(enum stack_value v)
{
	return v == VALUE_LIVE_BLOCKS || v == VALUE_ALLOCATIONS ? "blocks" : "bytes";
}

int stack_values(const struct profile *p, const struct profile_snapshot *s, enum stack_value value,
		 uint64_t **out)
{
	uint64_t *v = calloc(p->nstacks + 1, sizeof(*v));
	uint64_t rate = profile_sample_rate(p);	/* sampled: what the blocks stand for */
	struct leak_analysis a;

	if (!v)
		return -ENOMEM;
	switch (value) {
	case VALUE_LIVE_BYTES:
	case VALUE_LIVE_BLOCKS:
		for (uint64_t i = 0; i < s->nblocks; i++) {
			struct profile_weight w = profile_block_weight(rate, &s->blocks[i]);

			v[s->blocks[i].stack] += value == VALUE_LIVE_BYTES ? w.bytes : w.blocks;
		}
		break;
	case VALUE_ALLOCATED:
	case VALUE_ALLOCATIONS:
		for (size_t i = 0; i < p->nsites; i++)
			v[p->sites[i].stack] += value == VALUE_ALLOCATED ? p->sites[i].bytes_allocated
									  : p->sites[i].allocations;
		break;
	case VALUE_LEAKED:
		if (!s->scan) {
			free(v);
			return -ENOENT;
		}
		if (leaks_analyze(s, &a) < 0) {
			free(v);
			return -ENOMEM;
		}
		for (uint64_t i = 0; i < s->nblocks; i++)
			if (a.kind[i] == LEAK_DEFINITE || a.kind[i] == LEAK_INDIRECT)
				v[s->blocks[i].stack] += profile_block_weight(rate, &s->blocks[i]).bytes;
		leaks_release(&a);
		break;
	}
	*out = v;
	return 0;
}

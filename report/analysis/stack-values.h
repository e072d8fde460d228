/*
 * stack-values.h - one number for every stack of a profile, the way an
 * export or a flame graph weighs it: the bytes or blocks of a snapshot,
 * what the run allocated there, or what it leaked.
 */
#ifndef HEAPWISE_STACK_VALUES_H
#define HEAPWISE_STACK_VALUES_H

#include <stdint.h>

#include "../profile/profile.h"

enum stack_value {
	VALUE_LIVE_BYTES,	/* bytes of the snapshot's blocks */
	VALUE_LIVE_BLOCKS,
	VALUE_ALLOCATED,	/* bytes allocated over the run */
	VALUE_ALLOCATIONS,
	VALUE_LEAKED,		/* bytes definitely or indirectly lost (a scanned snapshot) */
};

/* The value of every stack of p (p->nstacks entries, malloc'ed) from
 * snapshot s. Returns 0, -ENOENT for leaked when s has no scan, -ENOMEM. */
int stack_values(const struct profile *p, const struct profile_snapshot *s, enum stack_value value,
		 uint64_t **values);

const char *stack_value_name(enum stack_value v);	/* "live-bytes", ... */
const char *stack_value_unit(enum stack_value v);	/* "bytes" or "blocks" */

#endif

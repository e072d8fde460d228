/*
 * refs-dot.h - the referrer graph of `heapwise refs --format dot`.
 */
#ifndef HEAPWISE_REFS_DOT_H
#define HEAPWISE_REFS_DOT_H

#include <stddef.h>
#include <stdint.h>

#include "../report/analysis/leaks.h"

/* The referrers of blocks chosen[0..nchosen) of scanned snapshot s, depth
 * levels up, fan_in per block at most, as a DOT digraph on stdout.
 * Returns 0, or -1 when out of memory. */
int refs_print_dot(const struct profile *p, const struct profile_snapshot *s, const struct leak_analysis *a,
		   const uint32_t *chosen, size_t nchosen, unsigned depth, unsigned fan_in);

#endif

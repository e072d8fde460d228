/*
 * stats.h - group a snapshot's blocks, or a run's sites, by where they were
 * allocated.
 *
 * The grouping frame of a stack is its first frame outside the allocator's
 * own wrappers (operator new, strdup, ... : see stats.c), so a block made
 * by `new Foo` is charged to the line that said `new`, not to libstdc++.
 */
#ifndef HEAPWISE_STATS_H
#define HEAPWISE_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "../profile/profile.h"

/* One group of blocks or sites with the same grouping location. */
struct stats_row {
	uint32_t frame;		/* the grouping frame, PROFILE_NONE when the stack is empty */
	uint64_t blocks;	/* live blocks (snapshot) */
	uint64_t bytes;		/* live bytes (snapshot) */
	uint64_t allocations;	/* over the run (sites) */
	uint64_t bytes_allocated;
	uint64_t temporary;
	uint64_t peak_bytes;
};

/* Is function one of the allocator's wrappers, or matched by one of the
 * extra fnmatch patterns (the user's own: xmalloc, g_malloc, ...)? */
int stats_is_alloc_wrapper(const char *function, const char *const *extra, size_t nextra);

/* The position in the stack of its first frame outside allocator wrappers
 * (the last frame when all are wrappers); 0 for an empty stack. */
uint32_t stats_grouping_index(const struct profile *p, uint32_t stack, const char *const *extra,
			      size_t nextra);

/* The first frame of a stack outside allocator wrappers; PROFILE_NONE if empty. */
uint32_t stats_grouping_frame(const struct profile *p, uint32_t stack);

/*
 * Group the blocks of snapshot s by grouping location (function, file,
 * line), adding the run-wide site counters of the same locations, and
 * sort by live bytes, largest first. *rows is malloc'ed. Returns 0 or
 * -ENOMEM.
 */
int stats_by_location(const struct profile *p, const struct profile_snapshot *s,
		      struct stats_row **rows, size_t *nrows);

/* "function file:line", "function", or "module+0xoff" / "0xaddr". */
void stats_describe_frame(const struct profile *p, uint32_t frame, char *buf, size_t len);

#endif

/*
 * timeline.h - figures read off a run's timeline (the heap and RSS
 * samples): how far the program's resident memory stood above its live
 * heap, the memory malloc keeps and does not give back.
 */
#ifndef HEAPWISE_TIMELINE_H
#define HEAPWISE_TIMELINE_H

#include <stdint.h>

#include "../profile/profile.h"

/* The moment the program's RSS was furthest above its live heap. */
struct rss_gap {
	int known;
	uint64_t t_ns, rss, heap;	/* at the largest gap */
	uint64_t end_rss, end_heap;	/* at the last sample */
};

/* RSS above the heap, 0 when it is not above. */
uint64_t rss_gap_bytes(uint64_t rss, uint64_t heap);

/* The largest gap of p's samples, and the last; g->known is 0 when the
 * run was too short to say (fewer than two samples while it ran). */
void timeline_rss_gap(const struct profile *p, struct rss_gap *g);

#endif

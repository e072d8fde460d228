/*
 * leaks.h - leak kinds, owners and cycles from a snapshot's heap graph.
 *
 * The kinds are memcheck's, with memcheck's definitions (mc_leakcheck.c):
 *  - still reachable: a chain of start pointers (or interior pointers that
 *    one of memcheck's heuristics accepts) leads to it from a root;
 *  - possibly lost: reached from a root, but only through some interior
 *    pointer;
 *  - definitely lost: not reached, and no other lost block points to it
 *    (of a leaked cycle, the block at the lowest address, as in memcheck);
 *  - indirectly lost: not reached, but pointed to by a lost block.
 * Beyond memcheck: each indirectly lost block has an owner (the definitely
 * lost block whose structure holds it), and the strongly connected sets of
 * lost blocks are found as cycles.
 */
#ifndef HEAPWISE_LEAKS_H
#define HEAPWISE_LEAKS_H

#include <stddef.h>
#include <stdint.h>

#include "../profile/leak-kinds.h"
#include "../profile/profile.h"

#define LEAK_NONE	UINT32_MAX

struct leak_cycle {
	uint32_t *members;	/* blocks, in address order */
	size_t n;
	uint64_t bytes;
};

struct leak_analysis {
	const struct profile_snapshot *snapshot;
	uint8_t *kind;			/* per block: enum leak_kind */
	uint8_t *suppressed;		/* per block: 1 when a suppression covers it */
	uint32_t *owner;		/* per indirectly lost block: its definitely lost owner */
	uint64_t *owned_bytes;		/* per definitely lost block: bytes it owns */
	uint64_t *owned_blocks;
	uint32_t *cycle_of;		/* per block: index in cycles, or LEAK_NONE */
	struct leak_cycle *cycles;	/* largest first */
	size_t ncycles;
	/* the graph, both ways: edges (indices into scan->edges) of block i
	 * are out[out_first[i] .. out_first[i + 1]) and likewise in */
	uint32_t *out_first, *out;
	uint32_t *in_first;		/* the scan's edges are sorted by target */
	struct leak_count totals[LEAK_KINDS];	/* not counting suppressed blocks */
	struct leak_count suppressed_total;
};

/* Classify the blocks of a scanned snapshot. Returns 0, -ENOENT when it
 * has no scan, -ENOMEM. */
int leaks_analyze(const struct profile_snapshot *s, struct leak_analysis *a);
void leaks_release(struct leak_analysis *a);

/* Only the totals of each kind, as leaks_analyze counts them (a dashboard's
 * scan). Returns 0, -ENOENT when s has no scan, -ENOMEM. */
int leaks_count(const struct profile_snapshot *s, struct leak_count kinds[LEAK_KINDS]);

/*
 * Mark lost blocks (definite, indirect, possible) as suppressed where
 * is_suppressed(stack) says so, with the indirectly lost blocks their
 * suppressed owners hold; recount the totals.
 */
void leaks_suppress(struct leak_analysis *a, int (*is_suppressed)(uint32_t stack, void *arg), void *arg);

/* Call fn for each pointer from member b of cycle c to another member. */
void leaks_cycle_links(const struct leak_analysis *a, uint32_t b, uint32_t c,
		       void (*fn)(const struct profile_edge *e, void *arg), void *arg);

const char *leak_kind_name(enum leak_kind k);		/* "definitely lost", ... */
const char *leak_kind_keyword(enum leak_kind k);	/* "definite", ... */

/* Parse "definite,indirect,possible,reachable" ("all" too) into a mask of
 * 1 << kind. Returns 0, or -1 naming the bad word in *bad. */
int leak_kinds_parse(const char *s, unsigned *mask, const char **bad, size_t *badlen);

#endif

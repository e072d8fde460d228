/*
 * referrers.h - who keeps a block alive, from a scanned snapshot's heap
 * graph: the blocks an address or a site names, the roots by name, the
 * shortest chain of pointers from a root (objgraph's find_backref_chain)
 * and the referrer graph level by level (objgraph's show_backrefs).
 * The referrers of one block are the scan's edges into it, in
 * leak_analysis's in_first order.
 */
#ifndef HEAPWISE_REFERRERS_H
#define HEAPWISE_REFERRERS_H

#include <stddef.h>
#include <stdint.h>

#include "../profile/profile.h"
#include "leaks.h"

/* The root kind's word in JSON: "global", "stack", "register", "tls",
 * "mapping", "loader" ("?" for another). */
const char *referrers_root_type(uint32_t kind);

/* "global g_keep+8 in reach", "register r12 of thread 42", ... */
void referrers_describe_root(const struct profile *p, const struct profile_root *r, char *buf, size_t len);

/* The edge's pointer as Python names it ("dict['user']", "dict[42]",
 * "list[3]", "tuple[0]", "a dict's key") into buf, from the scan's names
 * and the snapshot's types; "" when it has none. */
void referrers_python_name(const struct profile *p, const struct profile_snapshot *s, const struct profile_edge *e,
			   char *buf, size_t len);

/* The index of the block of s that holds addr (its start or inside it), or -1. */
long referrers_block_at(const struct profile_snapshot *s, uint64_t addr);

/* The blocks of s allocated at site (site_name_matches) into out, room for
 * s->nblocks; returns how many. */
size_t referrers_blocks_at(const struct profile *p, const struct profile_snapshot *s, const char *site,
			   uint32_t *out);

/*
 * The shortest chain of pointers from a root to block target (breadth first
 * over a's edges), of start pointers if there is one, else of any: the
 * indices in s->scan->edges of its edges, the root's first and the one
 * into target last, into *chain (malloc'ed; free it). Returns the length,
 * 0 when no root reaches the block, -ENOMEM.
 */
long referrers_chain(const struct profile_snapshot *s, const struct leak_analysis *a, uint32_t target,
		     uint32_t **chain);

/* One block of the referrer graph. */
struct refs_node {
	uint32_t block;
	uint32_t level;		/* 0: one of the chosen blocks, 1: its referrers, ... */
	uint32_t first;		/* its referrers shown: edges first .. first + shown */
	uint32_t shown;
	uint32_t more;		/* referrers left out past fan_in */
};

struct refs_graph {
	struct refs_node *nodes;	/* in breadth-first order, the chosen first */
	size_t n;
};

/*
 * The referrers of the chosen blocks, level by level: a block of level
 * below depth lists its first fan_in referrers (the rest counted in more),
 * and each block among them is a node of the next level (once). Returns 0
 * or -ENOMEM.
 */
int referrers_graph(const struct profile_snapshot *s, const struct leak_analysis *a, const uint32_t *chosen,
		    size_t nchosen, unsigned depth, unsigned fan_in, struct refs_graph *g);
void refs_graph_release(struct refs_graph *g);

#endif

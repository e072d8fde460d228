/*
 * heap-graph.h - for the unit tests that build heap graphs by hand: a
 * scan with nroots roots and these edges, kept sorted by target as
 * profiles keep them (leak_analysis relies on it).
 */
#ifndef HEAPWISE_TEST_HEAP_GRAPH_H
#define HEAPWISE_TEST_HEAP_GRAPH_H

#include <stdlib.h>
#include <string.h>

#include "../../report/profile/profile.h"

#define ROOT(i)	(PROFILE_EDGE_ROOT | (i))

static inline struct profile_scan *heap_graph_scan(size_t nroots, const struct profile_edge *edges, size_t nedges)
{
	struct profile_scan *sc = calloc(1, sizeof(*sc));

	sc->nroots = nroots;
	sc->roots = calloc(nroots + 1, sizeof(*sc->roots));
	sc->nedges = nedges;
	sc->edges = calloc(nedges + 1, sizeof(*sc->edges));
	if (nedges)
		memcpy(sc->edges, edges, nedges * sizeof(*edges));
	/* insertion sort: stable, so edges into one block keep their order */
	for (size_t i = 1; i < nedges; i++)
		for (size_t k = i; k > 0 && sc->edges[k].to < sc->edges[k - 1].to; k--) {
			struct profile_edge t = sc->edges[k];

			sc->edges[k] = sc->edges[k - 1];
			sc->edges[k - 1] = t;
		}
	return sc;
}

#endif

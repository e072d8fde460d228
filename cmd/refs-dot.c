/*
 * refs-dot.c - `heapwise refs --format dot`: the referrer graph of the
 * chosen blocks for Graphviz (objgraph's show_backrefs): blocks as boxes,
 * roots as ellipses, each pointer an edge labelled with its offset.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "../report/analysis/referrers.h"
#include "../report/analysis/site-names.h"
#include "refs-dot.h"

static void dot_escape(const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			putchar('\\');
		putchar(*s);
	}
}

int refs_print_dot(const struct profile *p, const struct profile_snapshot *s, const struct leak_analysis *a,
		   const uint32_t *chosen, size_t nchosen, unsigned depth, unsigned fan_in)
{
	const struct profile_scan *sc = s->scan;
	struct refs_graph g;
	uint8_t *root_done = calloc(sc->nroots + 1, 1);
	char what[1024], site[4096], name[160];

	if (!root_done || referrers_graph(s, a, chosen, nchosen, depth, fan_in, &g) < 0) {
		free(root_done);
		return -1;
	}
	printf("digraph referrers {\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n"
	       "  edge [fontname=\"monospace\", fontsize=9];\n");
	for (size_t i = 0; i < g.n; i++) {
		const struct refs_node *node = &g.nodes[i];
		uint32_t b = node->block;
		const struct profile_block *blk = &s->blocks[b];

		site_name(p, site_frame(p, blk->stack), site, sizeof(site));
		printf("  b%u [label=\"0x%" PRIx64 "\\n%" PRIu64 " bytes, %s\\n", b, blk->addr, blk->size,
		       leak_kind_name(a->kind[b]));
		dot_escape(site);
		printf("\"%s];\n", node->level == 0 ? ", style=filled, fillcolor=\"#ffd27f\", penwidth=2" : "");
		for (uint32_t k = node->first; k < node->first + node->shown; k++) {
			const struct profile_edge *e = &sc->edges[k];

			if (e->from & PROFILE_EDGE_ROOT) {
				uint32_t root = e->from & ~PROFILE_EDGE_ROOT;

				if (!root_done[root]) {
					root_done[root] = 1;
					referrers_describe_root(p, &sc->roots[root], what, sizeof(what));
					printf("  r%u [label=\"", root);
					dot_escape(what);
					printf("\", shape=ellipse, style=filled, fillcolor=\"#cfe8ff\"];\n");
				}
				printf("  r%u -> b%u", root, b);
			} else {
				/* the pointer's place in the referrer (and its Python name)
				 * at the middle, how far into the target it points at the
				 * target's end */
				referrers_python_name(p, s, e, name, sizeof(name));
				printf("  b%u -> b%u [label=\"+%u", e->from, b, e->offset);
				if (*name) {
					printf("\\n");
					dot_escape(name);
				}
				printf("\"");
				if (e->target)
					printf(", style=dashed, headlabel=\"%u in\"", e->target);
				printf("]");
			}
			printf(";\n");
		}
		if (node->more)
			printf("  more%u [label=\"%u more\", shape=ellipse, style=dashed];\n  more%u -> b%u;\n",
			       b, node->more, b, b);
	}
	printf("}\n");
	refs_graph_release(&g);
	free(root_done);
	return 0;
}

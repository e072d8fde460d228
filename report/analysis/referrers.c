/*
 * referrers.c - blocks by address or site, roots by name, chains and the
 * referrer graph (see referrers.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "referrers.h"
#include "site-names.h"

const char *referrers_root_type(uint32_t kind)
{
	static const char *const names[PROFILE_ROOT_KINDS] = {
		"?", "global", "stack", "register", "tls", "mapping", "loader",
	};
	return kind < PROFILE_ROOT_KINDS ? names[kind] : "?";
}

void referrers_describe_root(const struct profile *p, const struct profile_root *r, char *buf, size_t len)
{
	const char *name = profile_str(p, r->name);
	int64_t off = (int64_t)r->offset;
	size_t at = 0;

	if (r->python) {
		/* Python's words first: the module's global that holds it */
		at = (size_t)snprintf(buf, len, "%s, in ", profile_str(p, r->python));
		if (at >= len)
			return;
		buf += at;
		len -= at;
	}

	switch (r->kind) {
	case PROFILE_ROOT_GLOBAL:
		if (*name)
			snprintf(buf, len, "global %s+%" PRId64 " in %s", name, off, site_module_name(p, r->module));
		else
			snprintf(buf, len, "global data at %s+0x%" PRIx64, site_module_name(p, r->module), r->offset);
		break;
	case PROFILE_ROOT_STACK:
		snprintf(buf, len, "stack of thread %u, frame #%u %s, at sp%c%" PRId64, r->tid, r->frame,
			 *name ? name : "??", off < 0 ? '-' : '+', off < 0 ? -off : off);
		break;
	case PROFILE_ROOT_REGISTER:
		snprintf(buf, len, "register %s of thread %u", name, r->tid);
		break;
	case PROFILE_ROOT_TLS:
		snprintf(buf, len, "thread-local storage of thread %u, at tp%c%" PRId64, r->tid,
			 off < 0 ? '-' : '+', off < 0 ? -off : off);
		break;
	case PROFILE_ROOT_MAPPING:
		snprintf(buf, len, "mapped memory %s at 0x%" PRIx64, *name ? name : "(anonymous)", r->addr);
		break;
	case PROFILE_ROOT_LOADER:
		snprintf(buf, len, "the dynamic loader (a block it made counts as reachable)");
		break;
	default:
		snprintf(buf, len, "?");
	}
}

long referrers_block_at(const struct profile_snapshot *s, uint64_t addr)
{
	size_t lo = 0, hi = s->nblocks;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->blocks[mid].addr + (s->blocks[mid].size ? s->blocks[mid].size : 1) <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < s->nblocks && s->blocks[lo].addr <= addr ? (long)lo : -1;
}

size_t referrers_blocks_at(const struct profile *p, const struct profile_snapshot *s, const char *site,
			   uint32_t *out)
{
	/* a block's site is its stack's: each stack is named and matched once
	 * (1 + whether it matches; 0 not yet), and looked up for each block
	 * when there is no memory for that */
	uint8_t *match = calloc(p->nstacks + 1, 1);
	size_t n = 0;

	for (size_t i = 0; i < s->nblocks; i++) {
		uint32_t stack = s->blocks[i].stack;
		int is = match && match[stack] ? match[stack] - 1 : site_name_matches(p, site_frame(p, stack), site);

		if (match)
			match[stack] = (uint8_t)(1 + is);
		if (is)
			out[n++] = (uint32_t)i;
	}
	free(match);
	return n;
}

/*
 * The shortest chain from a root to target, backwards from it (breadth
 * first over the edges into each block), of start pointers only when
 * starts_only: the chain that makes a block still reachable is one of
 * start pointers, and a shorter one through an interior pointer (a stale
 * word in malloc's own state, say) would explain nothing.
 */
static long shortest_chain(const struct profile_snapshot *s, const struct leak_analysis *a, uint32_t target,
			   int starts_only, uint32_t **chain)
{
	const struct profile_scan *sc = s->scan;
	size_t n = s->nblocks, head = 0, tail = 0;
	uint32_t *queue = malloc((n + 1) * sizeof(*queue));
	uint32_t *via = malloc((n + 1) * sizeof(*via));	/* the edge from b one step towards target */
	long found = -1, len = 0;

	*chain = NULL;
	if (!queue || !via) {
		len = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		via[i] = LEAK_NONE;
	via[target] = UINT32_MAX - 1;	/* visited, the end */
	queue[tail++] = target;
	while (head < tail && found < 0) {
		uint32_t b = queue[head++];

		for (uint32_t k = a->in_first[b]; k < a->in_first[b + 1]; k++) {
			const struct profile_edge *e = &sc->edges[k];

			if (starts_only && !profile_edge_starts(e))
				continue;
			if (e->from & PROFILE_EDGE_ROOT) {
				found = (long)k;
				break;
			}
			if (via[e->from] == LEAK_NONE) {
				via[e->from] = k;
				queue[tail++] = e->from;
			}
		}
	}
	if (found < 0)
		goto out;
	/* from the root edge along via to the target: at most one edge a block */
	*chain = malloc((n + 1) * sizeof(**chain));
	if (!*chain) {
		len = -ENOMEM;
		goto out;
	}
	for (uint32_t k = (uint32_t)found;;) {
		uint32_t at = sc->edges[k].to;

		(*chain)[len++] = k;
		if (at == target || via[at] >= UINT32_MAX - 1)
			break;
		k = via[at];
	}
out:
	free(queue);
	free(via);
	return len;
}

long referrers_chain(const struct profile_snapshot *s, const struct leak_analysis *a, uint32_t target,
		     uint32_t **chain)
{
	long len = shortest_chain(s, a, target, 1, chain);

	return len == 0 ? shortest_chain(s, a, target, 0, chain) : len;
}

int referrers_graph(const struct profile_snapshot *s, const struct leak_analysis *a, const uint32_t *chosen,
		    size_t nchosen, unsigned depth, unsigned fan_in, struct refs_graph *g)
{
	size_t n = s->nblocks;
	uint32_t *level = malloc((n + 1) * sizeof(*level));

	g->n = 0;
	g->nodes = malloc((n + 1) * sizeof(*g->nodes));
	if (!level || !g->nodes) {
		free(level);
		refs_graph_release(g);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		level[i] = LEAK_NONE;
	for (size_t i = 0; i < nchosen; i++)
		if (level[chosen[i]] == LEAK_NONE) {
			level[chosen[i]] = 0;
			g->nodes[g->n++] = (struct refs_node){ .block = chosen[i] };
		}
	/* the node list is the breadth-first queue */
	for (size_t head = 0; head < g->n; head++) {
		struct refs_node *node = &g->nodes[head];
		uint32_t first = a->in_first[node->block], last = a->in_first[node->block + 1];

		node->first = first;
		if (node->level >= depth)
			continue;
		node->shown = last - first < fan_in ? last - first : fan_in;
		node->more = last - first - node->shown;
		for (uint32_t k = first; k < first + node->shown; k++) {
			const struct profile_edge *e = &s->scan->edges[k];

			if (e->from & PROFILE_EDGE_ROOT || level[e->from] != LEAK_NONE)
				continue;
			level[e->from] = node->level + 1;
			g->nodes[g->n++] = (struct refs_node){ .block = e->from, .level = node->level + 1 };
			node = &g->nodes[head];
		}
	}
	free(level);
	return 0;
}

void refs_graph_release(struct refs_graph *g)
{
	free(g->nodes);
	g->nodes = NULL;
	g->n = 0;
}

/* A tuple's items follow its PyGC_Head (16 bytes) and its head (24). */
#define TUPLE_ITEMS	40

void referrers_python_name(const struct profile *p, const struct profile_snapshot *s, const struct profile_edge *e,
			   char *buf, size_t len)
{
	const struct profile_scan *sc = s->scan;
	const struct profile_edge_name *n, *block;
	const char *text;

	buf[0] = '\0';
	if (!sc)
		return;
	if (e->from & PROFILE_EDGE_ROOT)
		return;	/* a root says its Python name itself (referrers_describe_root) */
	n = profile_edge_name_of(sc, e->from, e->offset);
	block = profile_edge_name_of(sc, e->from, 0);
	if (block && block->kind == PROFILE_NAME_LIST) {
		if (e->offset / 8 < block->number)	/* past the length: a stale slot */
			snprintf(buf, len, "list[%u]", e->offset / 8);
		return;
	}
	if (!n) {
		/* a tuple's items are where its type puts them */
		if (s->types && e->from < s->nblocks && strcmp(profile_str(p, s->types[e->from]), "tuple") == 0 &&
		    e->offset >= TUPLE_ITEMS && e->offset % 8 == 0)
			snprintf(buf, len, "tuple[%u]", (e->offset - TUPLE_ITEMS) / 8);
		return;
	}
	text = profile_str(p, n->text);
	switch (n->kind) {
	case PROFILE_NAME_STR_KEY: {
		size_t at = (size_t)snprintf(buf, len, "dict['");

		/* the key as Python writes it: ' and \ escaped */
		for (; *text && at + 4 < len; text++) {
			if (*text == '\'' || *text == '\\')
				buf[at++] = '\\';
			buf[at++] = *text;
		}
		snprintf(buf + at, len - at, "']");
		break;
	}
	case PROFILE_NAME_INT_KEY:
		snprintf(buf, len, "dict[%" PRId64 "]", n->number);
		break;
	case PROFILE_NAME_OTHER_KEY:
		snprintf(buf, len, *text ? "dict[<a %s>]" : "dict[<a key>]", text);
		break;
	case PROFILE_NAME_KEY:
		snprintf(buf, len, "a dict's key");
		break;
	case PROFILE_NAME_ATTRIBUTE:
		snprintf(buf, len, ".%s", text);
		break;
	case PROFILE_NAME_GLOBAL:
		snprintf(buf, len, "%s", text);
		break;
	}
}

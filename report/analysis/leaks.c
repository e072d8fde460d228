/*
 * leaks.c - memcheck's leak kinds from a heap graph, plus owners and cycles.
 *
 * Marking follows mc_leakcheck.c. From every root edge, a block reached by
 * a start pointer (or an interior pointer a heuristic accepts) from a
 * definite source (a root or a reachable block) becomes reachable; reached
 * any other way it becomes possibly lost; blocks are rescanned when their
 * state improves. Then every block still unreached, in address order,
 * leads a clique: all unreached blocks it points to, through any pointer,
 * become indirectly lost and join it (a leader reached by a later clique
 * joins that one). The leaders left are definitely lost.
 *
 * Cycles are Tarjan's strongly connected components of the lost blocks,
 * iteratively, so a long leaked list cannot overflow our stack.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../util/array.h"
#include "leaks.h"

enum state { UNREACHED, POSSIBLE, REACHABLE, INDIRECT };

struct marker {
	struct leak_analysis *a;
	const struct profile_scan *sc;
	uint8_t *state;
	uint8_t *pending;
	uint32_t *stack;
	size_t top;
};

static void push(struct marker *m, uint32_t b)
{
	if (!m->pending[b]) {
		m->pending[b] = 1;
		m->stack[m->top++] = b;
	}
}

/* memcheck's lc_push_without_clique_if_a_chunk_ptr */
static void reach(struct marker *m, const struct profile_edge *e, int prior_definite)
{
	uint8_t *st = &m->state[e->to];

	if (*st == REACHABLE)
		return;
	if (profile_edge_starts(e) && prior_definite) {
		*st = REACHABLE;
		push(m, e->to);
	} else if (*st == UNREACHED) {
		*st = POSSIBLE;
		push(m, e->to);
	}
}

static void mark_from_roots(struct marker *m)
{
	const struct profile_scan *sc = m->sc;
	const struct leak_analysis *a = m->a;

	for (uint64_t i = 0; i < sc->nedges; i++)
		if (sc->edges[i].from & PROFILE_EDGE_ROOT)
			reach(m, &sc->edges[i], 1);
	while (m->top) {
		uint32_t b = m->stack[--m->top];
		int definite = m->state[b] != POSSIBLE;

		m->pending[b] = 0;
		for (uint32_t k = a->out_first[b]; k < a->out_first[b + 1]; k++)
			reach(m, &sc->edges[a->out[k]], definite);
	}
}

/* memcheck's clique pass; parent[] remembers who pulled each block in. */
static void mark_cliques(struct marker *m, uint32_t *parent)
{
	const struct profile_snapshot *s = m->a->snapshot;
	struct leak_analysis *a = m->a;

	for (uint32_t leader = 0; leader < s->nblocks; leader++) {
		if (m->state[leader] != UNREACHED || a->kind[leader] == LEAK_UNSCANNED)
			continue;
		push(m, leader);
		while (m->top) {
			uint32_t b = m->stack[--m->top];

			m->pending[b] = 0;
			for (uint32_t k = a->out_first[b]; k < a->out_first[b + 1]; k++) {
				uint32_t to = m->sc->edges[a->out[k]].to;

				if (m->state[to] != UNREACHED || to == leader || a->kind[to] == LEAK_UNSCANNED)
					continue;
				push(m, to);
				m->state[to] = INDIRECT;
				parent[to] = b;
			}
		}
	}
}

/* The definitely lost block at the top of b's chain of parents. */
static uint32_t find_owner(struct leak_analysis *a, uint32_t *parent, uint32_t b)
{
	uint32_t top = b, next;

	while (a->kind[top] == LEAK_INDIRECT && parent[top] != LEAK_NONE && parent[top] != top)
		top = parent[top];
	while (b != top && a->kind[b] == LEAK_INDIRECT) {
		next = parent[b];
		parent[b] = top;	/* path compression */
		b = next;
	}
	return top;
}

static int is_lost(const struct leak_analysis *a, uint32_t b)
{
	return a->kind[b] == LEAK_DEFINITE || a->kind[b] == LEAK_INDIRECT;
}

static int by_size(const void *x, const void *y)
{
	const struct leak_cycle *a = x, *b = y;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes ? -1 : 1;
	return a->members[0] < b->members[0] ? -1 : 1;
}

static int by_index(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;

	return a < b ? -1 : a > b;
}

/* Tarjan's algorithm over the lost blocks, with an explicit call stack.
 * Long: the recursion unrolled into a loop (a heap's chains are deeper than
 * a thread's stack) reads best as one piece. */
static int find_cycles(struct leak_analysis *a)
{
	const struct profile_snapshot *s = a->snapshot;
	const struct profile_scan *sc = s->scan;
	size_t n = s->nblocks, depth = 0, ntarjan = 0, cap = 0;
	uint32_t *index = malloc((n + 1) * sizeof(*index)), *low = malloc((n + 1) * sizeof(*low));
	uint32_t *tstack = malloc((n + 1) * sizeof(*tstack));
	uint8_t *on = calloc(n + 1, 1);
	struct { uint32_t b, k; } *calls = malloc((n + 1) * sizeof(*calls));
	uint32_t next_index = 0;
	int ret = -ENOMEM;

	if (!index || !low || !tstack || !on || !calls)
		goto out;
	for (size_t i = 0; i < n; i++)
		index[i] = LEAK_NONE;
	for (uint32_t root = 0; root < n; root++) {
		if (!is_lost(a, root) || index[root] != LEAK_NONE)
			continue;
		calls[depth++] = (typeof(*calls)){ root, a->out_first[root] };
		index[root] = low[root] = next_index++;
		tstack[ntarjan++] = root;
		on[root] = 1;
		while (depth) {
			uint32_t b = calls[depth - 1].b;
			uint32_t k = calls[depth - 1].k;

			if (k < a->out_first[b + 1]) {
				uint32_t to = sc->edges[a->out[k]].to;

				calls[depth - 1].k++;
				if (!is_lost(a, to))
					continue;
				if (index[to] == LEAK_NONE) {
					index[to] = low[to] = next_index++;
					tstack[ntarjan++] = to;
					on[to] = 1;
					calls[depth++] = (typeof(*calls)){ to, a->out_first[to] };
				} else if (on[to] && index[to] < low[b]) {
					low[b] = index[to];
				}
				continue;
			}
			/* b is done */
			depth--;
			if (depth && low[b] < low[calls[depth - 1].b])
				low[calls[depth - 1].b] = low[b];
			if (low[b] != index[b])
				continue;
			{
				size_t start = ntarjan;
				int self = 0;

				do
					on[tstack[--start]] = 0;
				while (tstack[start] != b);
				for (uint32_t e = a->out_first[b]; e < a->out_first[b + 1]; e++)
					self |= sc->edges[a->out[e]].to == b;
				if (ntarjan - start > 1 || self) {
					struct leak_cycle *c;

					if (array_grow((void **)&a->cycles, &cap, a->ncycles + 1, sizeof(*c)) < 0)
						goto out;
					c = &a->cycles[a->ncycles];
					c->n = ntarjan - start;
					c->members = malloc(c->n * sizeof(*c->members));
					if (!c->members)
						goto out;
					memcpy(c->members, tstack + start, c->n * sizeof(*c->members));
					qsort(c->members, c->n, sizeof(*c->members), by_index);
					c->bytes = 0;
					for (size_t i = 0; i < c->n; i++)
						c->bytes += s->blocks[c->members[i]].size;
					a->ncycles++;
				}
				ntarjan = start;
			}
		}
	}
	if (a->ncycles)
		qsort(a->cycles, a->ncycles, sizeof(*a->cycles), by_size);
	for (size_t c = 0; c < a->ncycles; c++)
		for (size_t i = 0; i < a->cycles[c].n; i++)
			a->cycle_of[a->cycles[c].members[i]] = (uint32_t)c;
	ret = 0;
out:
	free(index);
	free(low);
	free(tstack);
	free(on);
	free(calls);
	return ret;
}

/* Forward and backward adjacency over the block-to-block edges. */
static int build_graph(struct leak_analysis *a)
{
	const struct profile_snapshot *s = a->snapshot;
	const struct profile_scan *sc = s->scan;
	size_t n = s->nblocks;

	a->out_first = calloc(n + 2, sizeof(*a->out_first));
	a->in_first = calloc(n + 2, sizeof(*a->in_first));
	a->out = malloc((sc->nedges + 1) * sizeof(*a->out));
	if (!a->out_first || !a->in_first || !a->out)
		return -ENOMEM;
	for (uint64_t i = 0; i < sc->nedges; i++) {
		a->in_first[sc->edges[i].to + 1]++;
		if (!(sc->edges[i].from & PROFILE_EDGE_ROOT))
			a->out_first[sc->edges[i].from + 2]++;
	}
	for (size_t i = 1; i <= n; i++) {
		a->in_first[i] += a->in_first[i - 1];
		a->out_first[i + 1] += a->out_first[i];
	}
	a->in_first[n + 1] = a->in_first[n];
	for (uint64_t i = 0; i < sc->nedges; i++)
		if (!(sc->edges[i].from & PROFILE_EDGE_ROOT))
			a->out[a->out_first[sc->edges[i].from + 1]++] = (uint32_t)i;
	return 0;
}

static void count(struct leak_analysis *a)
{
	const struct profile_snapshot *s = a->snapshot;

	memset(a->totals, 0, sizeof(a->totals));
	memset(&a->suppressed_total, 0, sizeof(a->suppressed_total));
	for (size_t i = 0; i < s->nblocks; i++) {
		struct leak_count *c = a->suppressed[i] ? &a->suppressed_total : &a->totals[a->kind[i]];
		struct profile_weight w = profile_block_weight(s->sample_rate, &s->blocks[i]);

		c->blocks += w.blocks;
		c->bytes += w.bytes;
	}
}

int leaks_analyze(const struct profile_snapshot *s, struct leak_analysis *a)
{
	const struct profile_scan *sc = s->scan;
	struct marker m = { .a = a, .sc = sc };
	uint32_t *parent = NULL;
	size_t n = s->nblocks;
	int ret = -ENOMEM;

	memset(a, 0, sizeof(*a));
	a->snapshot = s;
	if (!sc)
		return -ENOENT;
	a->kind = calloc(n + 1, 1);
	a->suppressed = calloc(n + 1, 1);
	a->owner = malloc((n + 1) * sizeof(*a->owner));
	a->owned_bytes = calloc(n + 1, sizeof(*a->owned_bytes));
	a->owned_blocks = calloc(n + 1, sizeof(*a->owned_blocks));
	a->cycle_of = malloc((n + 1) * sizeof(*a->cycle_of));
	parent = malloc((n + 1) * sizeof(*parent));
	m.state = calloc(n + 1, 1);
	m.pending = calloc(n + 1, 1);
	m.stack = malloc((n + 1) * sizeof(*m.stack));
	if (!a->kind || !a->suppressed || !a->owner || !a->owned_bytes || !a->owned_blocks ||
	    !a->cycle_of || !parent || !m.state || !m.pending || !m.stack || build_graph(a) < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		a->owner[i] = a->cycle_of[i] = parent[i] = LEAK_NONE;
		a->kind[i] = LEAK_DEFINITE;
	}
	for (uint64_t i = 0; i < sc->nunscanned; i++)
		a->kind[sc->unscanned[i]] = LEAK_UNSCANNED;

	mark_from_roots(&m);
	mark_cliques(&m, parent);
	for (size_t i = 0; i < n; i++) {
		if (a->kind[i] == LEAK_UNSCANNED)
			continue;
		a->kind[i] = m.state[i] == REACHABLE ? LEAK_REACHABLE : m.state[i] == POSSIBLE ? LEAK_POSSIBLE
			   : m.state[i] == INDIRECT ? LEAK_INDIRECT : LEAK_DEFINITE;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct profile_weight w;
		uint32_t o;

		if (a->kind[i] != LEAK_INDIRECT)
			continue;
		o = find_owner(a, parent, i);
		if (a->kind[o] != LEAK_DEFINITE)
			continue;
		a->owner[i] = o;
		w = profile_block_weight(s->sample_rate, &s->blocks[i]);
		a->owned_bytes[o] += w.bytes;
		a->owned_blocks[o] += w.blocks;
	}
	if (find_cycles(a) < 0)
		goto out;
	count(a);
	ret = 0;
out:
	free(parent);
	free(m.state);
	free(m.pending);
	free(m.stack);
	if (ret < 0)
		leaks_release(a);
	return ret;
}

void leaks_suppress(struct leak_analysis *a, int (*is_suppressed)(uint32_t stack, void *arg), void *arg)
{
	const struct profile_snapshot *s = a->snapshot;

	for (size_t i = 0; i < s->nblocks; i++) {
		enum leak_kind k = a->kind[i];

		if (k == LEAK_DEFINITE || k == LEAK_INDIRECT || k == LEAK_POSSIBLE)
			a->suppressed[i] = (uint8_t)(is_suppressed(s->blocks[i].stack, arg) != 0);
	}
	/* what a suppressed owner holds goes with it */
	for (size_t i = 0; i < s->nblocks; i++)
		if (a->kind[i] == LEAK_INDIRECT && a->owner[i] != LEAK_NONE && a->suppressed[a->owner[i]])
			a->suppressed[i] = 1;
	count(a);
}

void leaks_release(struct leak_analysis *a)
{
	free(a->kind);
	free(a->suppressed);
	free(a->owner);
	free(a->owned_bytes);
	free(a->owned_blocks);
	free(a->cycle_of);
	for (size_t i = 0; i < a->ncycles; i++)
		free(a->cycles[i].members);
	free(a->cycles);
	free(a->out_first);
	free(a->out);
	free(a->in_first);
	memset(a, 0, sizeof(*a));
}

int leaks_count(const struct profile_snapshot *s, struct leak_count kinds[LEAK_KINDS])
{
	struct leak_analysis a;
	int ret = leaks_analyze(s, &a);

	if (ret == 0) {
		memcpy(kinds, a.totals, sizeof(a.totals));
		leaks_release(&a);
	}
	return ret;
}

static const char *const kind_names[LEAK_KINDS] = {
	"definitely lost", "indirectly lost", "possibly lost", "still reachable", "not scanned",
};
static const char *const kind_keywords[LEAK_KINDS] = {
	"definite", "indirect", "possible", "reachable", "unscanned",
};

const char *leak_kind_name(enum leak_kind k)
{
	return k < LEAK_KINDS ? kind_names[k] : "?";
}

const char *leak_kind_keyword(enum leak_kind k)
{
	return k < LEAK_KINDS ? kind_keywords[k] : "?";
}

int leak_kinds_parse(const char *s, unsigned *mask, const char **bad, size_t *badlen)
{
	*mask = 0;
	while (*s) {
		size_t len = strcspn(s, ",");
		int found = 0;

		if (len == 3 && strncmp(s, "all", 3) == 0) {
			*mask |= (1u << LEAK_DEFINITE) | (1u << LEAK_INDIRECT) | (1u << LEAK_POSSIBLE) |
				 (1u << LEAK_REACHABLE);
			found = 1;
		}
		for (int k = 0; k < LEAK_REACHABLE + 1 && !found; k++)
			if (strlen(kind_keywords[k]) == len && strncmp(s, kind_keywords[k], len) == 0) {
				*mask |= 1u << k;
				found = 1;
			}
		if (!found) {
			*bad = s;
			*badlen = len;
			return -1;
		}
		s += len;
		if (*s == ',')
			s++;
	}
	return *mask ? 0 : -1;
}

/* The pointers from member b to other members of its cycle. */
void leaks_cycle_links(const struct leak_analysis *a, uint32_t b, uint32_t c,
			void (*fn)(const struct profile_edge *e, void *arg), void *arg)
{
	const struct profile_scan *sc = a->snapshot->scan;

	for (uint32_t k = a->out_first[b]; k < a->out_first[b + 1]; k++) {
		const struct profile_edge *e = &sc->edges[a->out[k]];

		if (a->cycle_of[e->to] == c)
			fn(e, arg);
	}
}

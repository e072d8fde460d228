/*
 * test-leaks.c - memcheck's leak kinds on small heap graphs built by hand:
 * start and interior pointers, possibly lost propagation, heuristics,
 * cliques and their owners, cycles, suppressions, unscanned blocks; and
 * a Python heap's uncollected cycles and leaked references.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "heap-graph.h"

#include "../../report/analysis/leaks.h"
#include "../../report/analysis/pyleaks.h"

/* A snapshot of n blocks of 16 * (i + 1) bytes, stack i + 1, with these edges. */
static struct profile_snapshot *graph(size_t n, const struct profile_edge *edges, size_t nedges)
{
	struct profile_snapshot *s = calloc(1, sizeof(*s));

	s->nblocks = n;
	s->blocks = calloc(n, sizeof(*s->blocks));
	for (size_t i = 0; i < n; i++)
		s->blocks[i] = (struct profile_block){ 0x1000 * (i + 1), 16 * (i + 1), i + 1, (uint32_t)i + 1, 0 };
	s->scan = heap_graph_scan(4, edges, nedges);
	return s;
}

static void drop(struct profile_snapshot *s, struct leak_analysis *a)
{
	leaks_release(a);
	free(s->blocks);
	profile_scan_free(s->scan);
	free(s);
}

static void expect_kinds(const struct leak_analysis *a, const char *want)
{
	char got[64];
	size_t i;

	for (i = 0; i < a->snapshot->nblocks; i++)
		got[i] = "DIPRU"[a->kind[i]];
	got[i] = '\0';
	assert_string_equal(got, want);
}

/* root -> A, A -(interior)-> B, B -> C: C is only possibly lost, as in memcheck,
 * because the block it is reached from is. */
static void interior_makes_possible(void **state)
{
	const struct profile_edge e[] = {
		{ ROOT(0), 0, 0, 0, 0 }, { 0, 1, 8, 24, 0 }, { 1, 2, 0, 0, 0 },
	};
	struct profile_snapshot *s = graph(4, e, 3);
	struct leak_analysis a;

	(void)state;
	assert_int_equal(leaks_analyze(s, &a), 0);
	expect_kinds(&a, "RPPD");
	assert_int_equal(a.totals[LEAK_POSSIBLE].blocks, 2);
	assert_int_equal(a.totals[LEAK_POSSIBLE].bytes, 32 + 48);
	assert_int_equal(a.totals[LEAK_DEFINITE].bytes, 64);
	drop(s, &a);
}

/* A start pointer after an interior one still makes the block reachable,
 * and so does an interior pointer a heuristic accepted. */
static void start_wins_and_heuristics_count(void **state)
{
	const struct profile_edge e[] = {
		{ ROOT(0), 0, 0, 8, 0 }, { ROOT(1), 0, 0, 0, 0 }, { 0, 1, 0, 0, 0 },
		{ ROOT(2), 2, 0, 8, PROFILE_HEUR_LENGTH64 }, { 2, 3, 0, 0, 0 },
	};
	struct profile_snapshot *s = graph(4, e, 5);
	struct leak_analysis a;

	(void)state;
	assert_int_equal(leaks_analyze(s, &a), 0);
	expect_kinds(&a, "RRRR");
	drop(s, &a);
}

/* A lost tree: one owner, its leaves indirectly lost and owned by it. */
static void tree_has_an_owner(void **state)
{
	const struct profile_edge e[] = { { 0, 1, 0, 0, 0 }, { 0, 2, 8, 0, 0 }, { 2, 3, 0, 0, 0 } };
	struct profile_snapshot *s = graph(4, e, 3);
	struct leak_analysis a;

	(void)state;
	assert_int_equal(leaks_analyze(s, &a), 0);
	expect_kinds(&a, "DIII");
	for (int i = 1; i < 4; i++)
		assert_int_equal(a.owner[i], 0);
	assert_int_equal(a.owned_blocks[0], 3);
	assert_int_equal(a.owned_bytes[0], 32 + 48 + 64);
	assert_int_equal(a.ncycles, 0);
	drop(s, &a);
}

/* A cycle of three: the lowest address leads (memcheck), and it is a cycle. */
static void cycle_of_three(void **state)
{
	const struct profile_edge e[] = { { 1, 2, 16, 0, 0 }, { 2, 3, 16, 0, 0 }, { 3, 1, 16, 0, 0 } };
	struct profile_snapshot *s = graph(4, e, 3);
	struct leak_analysis a;

	(void)state;
	assert_int_equal(leaks_analyze(s, &a), 0);
	expect_kinds(&a, "DDII");
	assert_int_equal(a.owner[2], 1);
	assert_int_equal(a.owner[3], 1);
	assert_int_equal(a.ncycles, 1);
	assert_int_equal(a.cycles[0].n, 3);
	assert_int_equal(a.cycles[0].bytes, 32 + 48 + 64);
	assert_int_equal(a.cycles[0].members[0], 1);
	assert_int_equal(a.cycle_of[0], LEAK_NONE);
	assert_int_equal(a.cycle_of[3], 0);
	drop(s, &a);
}

/* A leader met later by another clique joins it, with what it owned. */
static void clique_is_absorbed(void **state)
{
	const struct profile_edge e[] = { { 0, 1, 0, 0, 0 }, { 2, 0, 0, 0, 0 }, { 3, 3, 0, 0, 0 } };
	struct profile_snapshot *s = graph(4, e, 3);
	struct leak_analysis a;

	(void)state;
	assert_int_equal(leaks_analyze(s, &a), 0);
	expect_kinds(&a, "IIDD");
	assert_int_equal(a.owner[0], 2);
	assert_int_equal(a.owner[1], 2);
	assert_int_equal(a.owned_bytes[2], 16 + 32);
	/* a block pointing at itself is a cycle of one */
	assert_int_equal(a.ncycles, 1);
	assert_int_equal(a.cycles[0].members[0], 3);
	drop(s, &a);
}

static int suppress_stack_3(uint32_t stack, void *arg)
{
	(void)arg;
	return stack == 3;
}

/* Suppressing an owner suppresses what it owns; reachable blocks never are. */
static void suppression_takes_owned_along(void **state)
{
	const struct profile_edge e[] = { { 2, 0, 0, 0, 0 }, { ROOT(0), 1, 0, 0, 0 } };
	struct profile_snapshot *s = graph(3, e, 2);
	struct leak_analysis a;

	(void)state;
	assert_int_equal(leaks_analyze(s, &a), 0);
	expect_kinds(&a, "IRD");
	leaks_suppress(&a, suppress_stack_3, NULL);
	assert_int_equal(a.suppressed[0], 1);
	assert_int_equal(a.suppressed[2], 1);
	assert_int_equal(a.suppressed_total.blocks, 2);
	assert_int_equal(a.suppressed_total.bytes, 16 + 48);
	assert_int_equal(a.totals[LEAK_DEFINITE].blocks, 0);
	assert_int_equal(a.totals[LEAK_INDIRECT].blocks, 0);
	assert_int_equal(a.totals[LEAK_REACHABLE].blocks, 1);
	drop(s, &a);
}

/* A block made after the scan is neither lost nor reachable. */
static void unscanned_blocks(void **state)
{
	const struct profile_edge e[] = { { ROOT(0), 0, 0, 0, 0 } };
	struct profile_snapshot *s = graph(2, e, 1);
	struct leak_analysis a;

	(void)state;
	s->scan->unscanned = calloc(1, sizeof(uint32_t));
	s->scan->unscanned[0] = 1;
	s->scan->nunscanned = 1;
	assert_int_equal(leaks_analyze(s, &a), 0);
	expect_kinds(&a, "RU");
	assert_int_equal(a.totals[LEAK_UNSCANNED].bytes, 32);
	drop(s, &a);
}

static void kinds_parse(void **state)
{
	const char *bad;
	size_t badlen;
	unsigned mask;

	(void)state;
	assert_int_equal(leak_kinds_parse("definite,possible", &mask, &bad, &badlen), 0);
	assert_int_equal(mask, (1u << LEAK_DEFINITE) | (1u << LEAK_POSSIBLE));
	assert_int_equal(leak_kinds_parse("all", &mask, &bad, &badlen), 0);
	assert_int_equal(mask, 15);
	assert_int_equal(leak_kinds_parse("definite,lost", &mask, &bad, &badlen), -1);
	assert_int_equal(badlen, 4);
	assert_memory_equal(bad, "lost", 4);
	assert_int_equal(leak_kinds_parse("", &mask, &bad, &badlen), -1);
}

/*
 * Python: A <-> B a lost cycle of objects (type 1) owning C, a buffer (no
 * object); D a lost object (type 2) in no cycle owning E, an object (type
 * 1); F a lost buffer alone (no Python kind); G an object the root holds.
 */
static void python_kinds(void **state)
{
	const struct profile_edge e[] = {
		{ 0, 1, 0, 0, 0 }, { 1, 0, 0, 0, 0 }, { 0, 2, 8, 0, 0 },
		{ 3, 4, 0, 0, 0 }, { ROOT(0), 6, 0, 0, 0 },
	};
	struct profile_snapshot *s = graph(7, e, 5);
	uint32_t types[7] = { 1, 1, 0, 2, 1, 0, 1 };
	struct leak_analysis a;
	struct pyleaks py;

	(void)state;
	assert_int_equal(leaks_analyze(s, &a), 0);
	assert_int_equal(pyleaks_find(&a, &py), -ENOENT);	/* no types: not a Python heap */
	s->types = types;
	assert_int_equal(pyleaks_find(&a, &py), 0);
	assert_int_equal(py.cycles.count, 1);
	assert_int_equal(py.cycles.objects, 2);
	assert_int_equal(py.cycles.blocks, 3);
	assert_int_equal(py.cycles.bytes, 16 + 32 + 48);
	assert_int_equal(py.cycles.ntypes, 1);
	assert_int_equal(py.cycles.types[0].name, 1);
	assert_int_equal(py.cycles.types[0].objects, 2);
	assert_int_equal(py.references.count, 1);
	assert_int_equal(py.references.objects, 2);
	assert_int_equal(py.references.blocks, 2);
	assert_int_equal(py.references.bytes, 64 + 80);
	assert_int_equal(py.references.ntypes, 2);
	pyleaks_release(&py);
	s->types = NULL;
	drop(s, &a);
}

/* No scan, no analysis. */
static void no_scan(void **state)
{
	struct profile_snapshot s = { 0 };
	struct leak_analysis a;

	(void)state;
	assert_int_equal(leaks_analyze(&s, &a), -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(interior_makes_possible),
		cmocka_unit_test(start_wins_and_heuristics_count),
		cmocka_unit_test(tree_has_an_owner),
		cmocka_unit_test(cycle_of_three),
		cmocka_unit_test(clique_is_absorbed),
		cmocka_unit_test(suppression_takes_owned_along),
		cmocka_unit_test(unscanned_blocks),
		cmocka_unit_test(kinds_parse),
		cmocka_unit_test(python_kinds),
		cmocka_unit_test(no_scan),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

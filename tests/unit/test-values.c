/*
 * test-values.c - the numbers exports and `heapwise stats` read off a
 * profile: a value for every stack (live bytes and blocks, allocated,
 * leaked) and the RSS standing above the live heap on the timeline.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../report/analysis/stack-values.h"
#include "../../report/analysis/timeline.h"

/* Stacks 1 and 2; blocks 10 and 20 B at stack 1, 40 B at stack 2 (lost,
 * nothing points to it; a root points at the first, which holds the second). */
static void make(struct profile *p)
{
	struct profile_snapshot *s;

	assert_int_equal(profile_init(p), 0);
	p->stacks = calloc(3, sizeof(*p->stacks));
	p->nstacks = 3;
	p->sites = calloc(2, sizeof(*p->sites));
	p->sites[0] = (struct profile_site){ .stack = 1, .allocations = 5, .bytes_allocated = 500 };
	p->sites[1] = (struct profile_site){ .stack = 2, .allocations = 1, .bytes_allocated = 40 };
	p->nsites = 2;
	p->snapshots = s = calloc(1, sizeof(*s));
	p->nsnapshots = 1;
	s->nblocks = 3;
	s->blocks = calloc(3, sizeof(*s->blocks));
	s->blocks[0] = (struct profile_block){ .addr = 0x1000, .size = 10, .stack = 1 };
	s->blocks[1] = (struct profile_block){ .addr = 0x2000, .size = 20, .stack = 1 };
	s->blocks[2] = (struct profile_block){ .addr = 0x3000, .size = 40, .stack = 2 };
}

static void values_of_stacks(void **state)
{
	struct profile p;
	uint64_t *v;
	struct profile_scan *sc;

	(void)state;
	make(&p);
	assert_int_equal(stack_values(&p, &p.snapshots[0], VALUE_LIVE_BYTES, &v), 0);
	assert_int_equal(v[0], 0);
	assert_int_equal(v[1], 30);
	assert_int_equal(v[2], 40);
	free(v);
	assert_int_equal(stack_values(&p, &p.snapshots[0], VALUE_LIVE_BLOCKS, &v), 0);
	assert_int_equal(v[1], 2);
	free(v);
	assert_int_equal(stack_values(&p, &p.snapshots[0], VALUE_ALLOCATED, &v), 0);
	assert_int_equal(v[1], 500);
	assert_int_equal(v[2], 40);
	free(v);
	assert_int_equal(stack_values(&p, &p.snapshots[0], VALUE_ALLOCATIONS, &v), 0);
	assert_int_equal(v[1], 5);
	free(v);
	assert_int_equal(stack_values(&p, &p.snapshots[0], VALUE_LEAKED, &v), -ENOENT);

	/* root -> block 0 -> block 1; block 2 lost */
	p.snapshots[0].scan = sc = calloc(1, sizeof(*sc));
	sc->nroots = 1;
	sc->roots = calloc(1, sizeof(*sc->roots));
	sc->nedges = 2;
	sc->edges = calloc(2, sizeof(*sc->edges));
	sc->edges[0] = (struct profile_edge){ PROFILE_EDGE_ROOT, 0, 0, 0, 0 };
	sc->edges[1] = (struct profile_edge){ 0, 1, 0, 0, 0 };
	assert_int_equal(stack_values(&p, &p.snapshots[0], VALUE_LEAKED, &v), 0);
	assert_int_equal(v[1], 0);
	assert_int_equal(v[2], 40);
	free(v);
	assert_string_equal(stack_value_name(VALUE_ALLOCATED), "allocated");
	assert_string_equal(stack_value_unit(VALUE_LIVE_BLOCKS), "blocks");
	assert_string_equal(stack_value_unit(VALUE_LEAKED), "bytes");
	profile_release(&p);
}

/* The largest gap, not the largest RSS; the last sample (after the end) left out. */
static void rss_above_the_heap(void **state)
{
	const struct profile_sample samples[] = {
		{ .t_ns = 0, .heap_bytes = 0, .rss_bytes = 100 },
		{ .t_ns = 10, .heap_bytes = 900, .rss_bytes = 1000 },
		{ .t_ns = 20, .heap_bytes = 100, .rss_bytes = 800 },
		{ .t_ns = 30, .heap_bytes = 50, .rss_bytes = 0 },	/* unreadable: skipped */
		{ .t_ns = 40, .heap_bytes = 60, .rss_bytes = 300 },
		{ .t_ns = 50, .heap_bytes = 0, .rss_bytes = 5000 },	/* after the end */
	};
	struct profile p;
	struct rss_gap g;

	(void)state;
	assert_int_equal(profile_init(&p), 0);
	p.samples = malloc(sizeof(samples));
	memcpy(p.samples, samples, sizeof(samples));
	p.nsamples = 6;
	timeline_rss_gap(&p, &g);
	assert_true(g.known);
	assert_int_equal(g.t_ns, 20);
	assert_int_equal(rss_gap_bytes(g.rss, g.heap), 700);
	assert_int_equal(g.end_rss, 300);
	assert_int_equal(g.end_heap, 60);
	assert_int_equal(rss_gap_bytes(10, 20), 0);
	/* too short a run to say */
	p.nsamples = 2;
	timeline_rss_gap(&p, &g);
	assert_false(g.known);
	profile_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values_of_stacks),
		cmocka_unit_test(rss_above_the_heap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

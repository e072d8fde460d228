/*
 * test-referrers.c - the analysis `heapwise leaks` and `heapwise refs`
 * print, on heap graphs built by hand: loss records with what they own,
 * the shortest chain from a root, the referrer graph's levels and fan-in,
 * and finding blocks by address and by site.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "heap-graph.h"

#include "../../report/analysis/leaks.h"
#include "../../report/analysis/loss-records.h"
#include "../../report/analysis/referrers.h"

/*
 * A profile of n blocks: block i is 16 * (i + 1) bytes at 0x1000 * (i + 1),
 * allocated at stack stacks[i] (1-based); stack k is the one frame
 * "fnK" at k.c:k. Edges as given, kept sorted by target.
 */
static void make(struct profile *p, size_t n, const uint32_t *stacks, uint32_t nstacks,
		 const struct profile_edge *edges, size_t nedges)
{
	struct profile_snapshot *s;
	char name[16];

	assert_int_equal(profile_init(p), 0);
	p->frames = calloc(nstacks + 1, sizeof(*p->frames));
	p->stack_frames = calloc(nstacks + 1, sizeof(uint32_t));
	p->stacks = calloc(nstacks + 1, sizeof(*p->stacks));
	for (uint32_t k = 1; k <= nstacks; k++) {
		snprintf(name, sizeof(name), "fn%u", k);
		p->frames[k - 1] = (struct profile_frame){ .ip = 0x400000 + k, .module = PROFILE_NONE,
							   .function = profile_intern(p, name) };
		snprintf(name, sizeof(name), "%u.c", k);
		p->frames[k - 1].file = profile_intern(p, name);
		p->frames[k - 1].line = k;
		p->stack_frames[k - 1] = k - 1;
		p->stacks[k] = (struct profile_stack){ k - 1, 1 };
	}
	p->nframes = p->nstack_frames = nstacks;
	p->nstacks = nstacks + 1;
	p->snapshots = s = calloc(1, sizeof(*s));
	p->nsnapshots = 1;
	s->nblocks = n;
	s->blocks = calloc(n, sizeof(*s->blocks));
	for (size_t i = 0; i < n; i++)
		s->blocks[i] = (struct profile_block){ 0x1000 * (i + 1), 16 * (i + 1), i + 1, stacks[i], 0 };
	s->scan = heap_graph_scan(4, edges, nedges);
}

/*
 * Two trees lost from stack 1 (blocks 0 and 1), each owning blocks of
 * stacks 2 and 3; one lost block of stack 4 on its own; a reachable one.
 * Records: the two stack-1 blocks are one record owning their four, by
 * place (stack 2: two blocks, stack 3: two), largest first.
 */
static void loss_records_group_and_own(void **state)
{
	const uint32_t stacks[] = { 1, 1, 2, 3, 2, 3, 4, 5 };
	const struct profile_edge e[] = {
		{ 0, 2, 0, 0, 0 }, { 0, 3, 8, 0, 0 }, { 1, 4, 0, 0, 0 }, { 1, 5, 8, 0, 0 }, { ROOT(0), 7, 0, 0, 0 },
	};
	struct profile p;
	struct leak_analysis a;
	struct loss_records rs;

	(void)state;
	make(&p, 8, stacks, 5, e, 5);
	assert_int_equal(leaks_analyze(&p.snapshots[0], &a), 0);
	assert_int_equal(loss_records_make(&p, &a, 1u << LEAK_DEFINITE, 0, &rs), 0);
	assert_int_equal(rs.n, 2);
	/* stack 1: blocks of 16 + 32 bytes owning 48 + 64 + 80 + 96 */
	assert_int_equal(rs.items[0].stack, 1);
	assert_int_equal(rs.items[0].blocks, 2);
	assert_int_equal(rs.items[0].bytes, 48);
	assert_int_equal(rs.items[0].owned_blocks, 4);
	assert_int_equal(rs.items[0].owned_bytes, 48 + 64 + 80 + 96);
	assert_int_equal(rs.items[0].nowned, 2);
	assert_int_equal(rs.items[0].owned[0].bytes, 64 + 96);	/* stack 3's, the larger */
	assert_int_equal(rs.items[0].owned[0].blocks, 2);
	assert_int_equal(rs.items[0].owned[1].bytes, 48 + 80);
	/* then stack 4's lone block */
	assert_int_equal(rs.items[1].stack, 4);
	assert_int_equal(rs.items[1].bytes, 112);
	assert_int_equal(rs.items[1].nowned, 0);
	loss_records_release(&rs);
	/* the reachable block is a record only when asked for; --limit cuts */
	assert_int_equal(loss_records_make(&p, &a, 1u << LEAK_REACHABLE, 0, &rs), 0);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.items[0].kind, LEAK_REACHABLE);
	loss_records_release(&rs);
	assert_int_equal(loss_records_make(&p, &a, (1u << LEAK_DEFINITE) | (1u << LEAK_REACHABLE), 1, &rs), 0);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.items[0].stack, 1);
	loss_records_release(&rs);
	leaks_release(&a);
	profile_release(&p);
}

/* A suppressed block is in no record, and neither is what it owns. */
static int suppress_stack_1(uint32_t stack, void *arg)
{
	(void)arg;
	return stack == 1;
}

static void loss_records_leave_out_suppressed(void **state)
{
	const uint32_t stacks[] = { 1, 2, 3 };
	const struct profile_edge e[] = { { 0, 1, 0, 0, 0 } };
	struct profile p;
	struct leak_analysis a;
	struct loss_records rs;

	(void)state;
	make(&p, 3, stacks, 3, e, 1);
	assert_int_equal(leaks_analyze(&p.snapshots[0], &a), 0);
	leaks_suppress(&a, suppress_stack_1, NULL);
	assert_int_equal(loss_records_make(&p, &a, (1u << LEAK_DEFINITE) | (1u << LEAK_INDIRECT), 0, &rs), 0);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.items[0].stack, 3);
	loss_records_release(&rs);
	leaks_release(&a);
	profile_release(&p);
}

/*
 * Two ways from roots to block 4: root 0 -> 0 -> 1 -> 2 -> 4 and
 * root 1 -> 3 -> 4. The chain is the shorter, root edge first.
 */
static void chain_is_the_shortest(void **state)
{
	const uint32_t stacks[] = { 1, 1, 1, 1, 1, 1 };
	const struct profile_edge e[] = {
		{ ROOT(0), 0, 0, 0, 0 }, { 0, 1, 8, 0, 0 }, { 1, 2, 8, 0, 0 }, { 2, 4, 8, 0, 0 },
		{ ROOT(1), 3, 0, 0, 0 }, { 3, 4, 24, 0, 0 },
	};
	struct profile p;
	struct leak_analysis a;
	const struct profile_edge *edges;
	uint32_t *chain;
	long n;

	(void)state;
	make(&p, 6, stacks, 1, e, 6);
	edges = p.snapshots[0].scan->edges;
	assert_int_equal(leaks_analyze(&p.snapshots[0], &a), 0);
	n = referrers_chain(&p.snapshots[0], &a, 4, &chain);
	assert_int_equal(n, 2);
	assert_int_equal(edges[chain[0]].from, ROOT(1));
	assert_int_equal(edges[chain[0]].to, 3);
	assert_int_equal(edges[chain[1]].from, 3);
	assert_int_equal(edges[chain[1]].to, 4);
	assert_int_equal(edges[chain[1]].offset, 24);
	free(chain);
	/* a block a root points at: one edge */
	assert_int_equal(referrers_chain(&p.snapshots[0], &a, 0, &chain), 1);
	assert_int_equal(edges[chain[0]].from, ROOT(0));
	free(chain);
	/* nothing reaches block 5 */
	assert_int_equal(referrers_chain(&p.snapshots[0], &a, 5, &chain), 0);
	assert_null(chain);
	leaks_release(&a);
	profile_release(&p);
}

/* A chain through a cycle still ends: 0 <-> 1, root -> 0. */
static void chain_through_a_cycle(void **state)
{
	const uint32_t stacks[] = { 1, 1 };
	const struct profile_edge e[] = { { ROOT(0), 0, 0, 0, 0 }, { 0, 1, 0, 0, 0 }, { 1, 0, 0, 0, 0 } };
	struct profile p;
	struct leak_analysis a;
	uint32_t *chain;

	(void)state;
	make(&p, 2, stacks, 1, e, 3);
	assert_int_equal(leaks_analyze(&p.snapshots[0], &a), 0);
	assert_int_equal(referrers_chain(&p.snapshots[0], &a, 1, &chain), 2);
	free(chain);
	leaks_release(&a);
	profile_release(&p);
}

/*
 * Block 0 has referrers 1, 2, 3 and then root 0; block 1 has referrer 4,
 * which has referrer 5. With depth 2 and fan-in 3: level 0 is block 0,
 * showing 3 of its 4 referrers (the root is the 1 more); level 1 is
 * blocks 1, 2 and 3; level 2 is block 4, listed but not expanded, so 5 is
 * not in the graph.
 */
static void graph_levels_and_fan_in(void **state)
{
	const uint32_t stacks[] = { 1, 1, 1, 1, 1, 1 };
	const struct profile_edge e[] = {
		{ 1, 0, 0, 0, 0 }, { 2, 0, 8, 0, 0 }, { 3, 0, 16, 0, 0 }, { ROOT(0), 0, 0, 0, 0 },
		{ 4, 1, 0, 0, 0 }, { 5, 4, 0, 0, 0 },
	};
	const uint32_t chosen[] = { 0 };
	struct profile p;
	struct leak_analysis a;
	struct refs_graph g;

	(void)state;
	make(&p, 6, stacks, 1, e, 6);
	assert_int_equal(leaks_analyze(&p.snapshots[0], &a), 0);
	assert_int_equal(referrers_graph(&p.snapshots[0], &a, chosen, 1, 2, 3, &g), 0);
	assert_int_equal(g.n, 5);
	assert_int_equal(g.nodes[0].block, 0);
	assert_int_equal(g.nodes[0].level, 0);
	assert_int_equal(g.nodes[0].shown, 3);
	assert_int_equal(g.nodes[0].more, 1);
	for (int i = 1; i <= 3; i++) {
		assert_int_equal(g.nodes[i].block, i);
		assert_int_equal(g.nodes[i].level, 1);
	}
	assert_int_equal(g.nodes[1].shown, 1);
	assert_int_equal(g.nodes[4].block, 4);
	assert_int_equal(g.nodes[4].level, 2);
	assert_int_equal(g.nodes[4].shown, 0);	/* at the depth: not expanded */
	assert_int_equal(g.nodes[4].more, 0);
	refs_graph_release(&g);
	leaks_release(&a);
	profile_release(&p);
}

static void blocks_by_address_and_site(void **state)
{
	const uint32_t stacks[] = { 1, 2, 2 };
	struct profile p;
	uint32_t out[3];

	(void)state;
	make(&p, 3, stacks, 2, NULL, 0);
	/* blocks at 0x1000 (16 B), 0x2000 (32 B), 0x3000 (48 B) */
	assert_int_equal(referrers_block_at(&p.snapshots[0], 0x1000), 0);
	assert_int_equal(referrers_block_at(&p.snapshots[0], 0x100f), 0);
	assert_int_equal(referrers_block_at(&p.snapshots[0], 0x1010), -1);
	assert_int_equal(referrers_block_at(&p.snapshots[0], 0x302f), 2);
	assert_int_equal(referrers_block_at(&p.snapshots[0], 0xfff), -1);
	assert_int_equal(referrers_blocks_at(&p, &p.snapshots[0], "fn2", out), 2);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 2);
	assert_int_equal(referrers_blocks_at(&p, &p.snapshots[0], "1.c:1", out), 1);
	assert_int_equal(referrers_blocks_at(&p, &p.snapshots[0], "fn1 1.c:1", out), 1);
	assert_int_equal(referrers_blocks_at(&p, &p.snapshots[0], "fn3", out), 0);
	profile_release(&p);
}

static void roots_by_name(void **state)
{
	struct profile p;
	struct profile_root r = { .kind = PROFILE_ROOT_STACK, .tid = 42, .frame = 1, .offset = (uint64_t)-64 };
	char buf[128];

	(void)state;
	assert_int_equal(profile_init(&p), 0);
	r.name = profile_intern(&p, "main");
	referrers_describe_root(&p, &r, buf, sizeof(buf));
	assert_string_equal(buf, "stack of thread 42, frame #1 main, at sp-64");
	r.offset = 8;
	referrers_describe_root(&p, &r, buf, sizeof(buf));
	assert_string_equal(buf, "stack of thread 42, frame #1 main, at sp+8");
	r = (struct profile_root){ .kind = PROFILE_ROOT_REGISTER, .tid = 7, .name = profile_intern(&p, "r12") };
	referrers_describe_root(&p, &r, buf, sizeof(buf));
	assert_string_equal(buf, "register r12 of thread 7");
	assert_string_equal(referrers_root_type(PROFILE_ROOT_TLS), "tls");
	assert_string_equal(referrers_root_type(99), "?");
	profile_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loss_records_group_and_own),
		cmocka_unit_test(loss_records_leave_out_suppressed),
		cmocka_unit_test(chain_is_the_shortest),
		cmocka_unit_test(chain_through_a_cycle),
		cmocka_unit_test(graph_levels_and_fan_in),
		cmocka_unit_test(blocks_by_address_and_site),
		cmocka_unit_test(roots_by_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test-runload.c - run snapshots kept as changes, made whole again: a
 * model heap of 100,000 blocks churned between forty snapshots (frees,
 * new blocks at freed addresses, now and then a whole one), each made
 * from its changes and checked block for block, generations included,
 * read forwards (each from the one before) and backwards (each from the
 * last whole one).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "../../report/collect/runload.h"

enum { SLOTS = 100000, SNAPSHOTS = 40, STACKS = 64 };

struct model {
	struct live_block live[SLOTS];	/* addr 0: free slot */
	uint64_t stamp;			/* the last one given */
	uint64_t cut;			/* the last snapshot's last stamp */
	struct live_block *gone;	/* blocks of the last snapshot freed since */
	size_t ngone;
	unsigned seed;
};

static uint64_t addr_of(unsigned slot)
{
	return 0x7f0000000000ull + (uint64_t)slot * 48;
}

static void model_free(struct model *m, unsigned slot)
{
	if (m->live[slot].stamp <= m->cut)
		m->gone[m->ngone++] = m->live[slot];
	m->live[slot].addr = 0;
}

static void model_alloc(struct model *m, unsigned slot)
{
	m->live[slot] = (struct live_block){ addr_of(slot), ++m->stamp,
					     16 + (unsigned)rand_r(&m->seed) % 200,
					     1 + (unsigned)rand_r(&m->seed) % (STACKS - 1) };
}

/* The run snapshot the collector would keep now. */
static void cut(struct model *m, struct run_snapshot *rs, int whole)
{
	memset(rs, 0, sizeof(*rs));
	rs->whole = whole;
	rs->born = calloc(SLOTS, sizeof(*rs->born));
	assert_non_null(rs->born);
	for (unsigned i = 0; i < SLOTS; i++) {
		if (!m->live[i].addr)
			continue;
		rs->nblocks++;
		if (whole || m->live[i].stamp > m->cut)
			rs->born[rs->nborn++] = m->live[i];
	}
	/* the collector's order: the live table's, not by address */
	for (size_t i = rs->nborn; i > 1; i--) {
		size_t j = (size_t)rand_r(&m->seed) % i;
		struct live_block t = rs->born[i - 1];

		rs->born[i - 1] = rs->born[j];
		rs->born[j] = t;
	}
	if (!whole) {
		rs->gone = m->gone;
		rs->ngone = m->ngone;
	} else {
		free(m->gone);
	}
	m->gone = calloc(SLOTS, sizeof(*m->gone));
	assert_non_null(m->gone);
	m->ngone = 0;
	m->cut = m->stamp;
}

static void check(const struct profile_snapshot *s, const struct live_block *expect, size_t n,
		  const uint64_t *gen_stamps, size_t ngen, const uint32_t *stack_map)
{
	assert_int_equal(s->unread, 0);
	assert_int_equal(s->nblocks, n);
	for (size_t i = 0; i < n; i++) {
		uint32_t gen = 0;

		for (size_t k = 0; k < ngen; k++)
			gen += gen_stamps[k] >= expect[i].stamp;
		assert_int_equal(s->blocks[i].addr, expect[i].addr);
		assert_int_equal(s->blocks[i].size, expect[i].size);
		assert_int_equal(s->blocks[i].stamp, expect[i].stamp);
		assert_int_equal(s->blocks[i].stack, stack_map[expect[i].stack]);
		assert_int_equal(s->blocks[i].generation, gen);
	}
}

static void churned_heap(void **state)
{
	struct model *m = calloc(1, sizeof(*m));
	struct run_loader *r = run_loader_new();
	struct live_block *expect[SNAPSHOTS];
	size_t nexpect[SNAPSHOTS], index[SNAPSHOTS];
	uint64_t gen_stamps[SNAPSHOTS];
	uint32_t stack_map[STACKS];
	struct profile p;
	char err[PROFILE_ERRLEN];

	(void)state;
	assert_non_null(m);
	assert_non_null(r);
	assert_int_equal(profile_init(&p), 0);
	m->seed = 2026;
	m->gone = calloc(SLOTS, sizeof(*m->gone));
	for (unsigned i = 0; i < STACKS; i++)
		stack_map[i] = 3 * i + 1;
	for (unsigned i = 0; i < SLOTS; i++)
		if (rand_r(&m->seed) % 10)
			model_alloc(m, i);
	/* profile snapshots: the run's, with an eager one (a peak, a scan) now and then between */
	p.snapshots = calloc(2 * SNAPSHOTS, sizeof(*p.snapshots));
	assert_non_null(p.snapshots);
	for (size_t k = 0; k < SNAPSHOTS; k++) {
		struct run_snapshot rs;
		size_t n = 0;

		/* churn: a few frees, some addresses taken again at once */
		for (unsigned j = 0; j < 2000 + 500 * (k % 7); j++) {
			unsigned slot = (unsigned)rand_r(&m->seed) % SLOTS;

			if (m->live[slot].addr)
				model_free(m, slot);
			if (rand_r(&m->seed) % 3)
				model_alloc(m, slot);
		}
		cut(m, &rs, k % 13 == 6);
		expect[k] = calloc(SLOTS, sizeof(*expect[k]));
		for (unsigned i = 0; i < SLOTS; i++)
			if (m->live[i].addr)
				expect[k][n++] = m->live[i];	/* by address: slots are */
		nexpect[k] = n;
		if (k % 5 == 2)
			p.snapshots[p.nsnapshots++] = (struct profile_snapshot){ .blocks = calloc(1, 1) };
		index[k] = p.nsnapshots;
		p.snapshots[p.nsnapshots++] = (struct profile_snapshot){ .nblocks = rs.nblocks, .unread = 1 };
		assert_int_equal(run_loader_add(r, index[k], &rs, k), 0);
		assert_null(rs.born);
		gen_stamps[k] = m->cut;
	}
	assert_int_equal(run_loader_install(r, &p, stack_map, STACKS, gen_stamps, SNAPSHOTS), 0);

	for (size_t k = 0; k < SNAPSHOTS; k++) {
		struct profile_snapshot *s = &p.snapshots[index[k]];

		assert_int_equal(profile_load_snapshot(&p, s, err), 0);
		check(s, expect[k], nexpect[k], gen_stamps, k, stack_map);
		profile_unload_snapshot(&p, s);
		assert_int_equal(s->unread, 1);
		assert_null(s->blocks);
	}
	for (size_t k = SNAPSHOTS; k-- > 0;) {
		struct profile_snapshot *s = &p.snapshots[index[k]];

		assert_int_equal(profile_load_snapshot(&p, s, err), 0);
		check(s, expect[k], nexpect[k], gen_stamps, k, stack_map);
	}
	/* an eager snapshot is not the loader's to let go */
	profile_unload_snapshot(&p, &p.snapshots[index[2] - 1]);
	assert_non_null(p.snapshots[index[2] - 1].blocks);

	for (size_t k = 0; k < SNAPSHOTS; k++)
		free(expect[k]);
	free(m->gone);
	free(m);
	profile_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(churned_heap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test-group.c - size formatting, sites (the first frame outside allocator
 * wrappers) and their names, and grouping snapshots by place.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../report/analysis/group.h"
#include "../../report/analysis/site-names.h"
#include "../../report/profile/profile.h"
#include "../../report/util/format.h"

static void sizes(void **state)
{
	char buf[32];

	(void)state;
	format_bytes(0, buf, sizeof(buf));
	assert_string_equal(buf, "0 B");
	format_bytes(1023, buf, sizeof(buf));
	assert_string_equal(buf, "1023 B");
	format_bytes(1024, buf, sizeof(buf));
	assert_string_equal(buf, "1.0 KiB");
	format_bytes(1258291, buf, sizeof(buf));
	assert_string_equal(buf, "1.2 MiB");
	format_duration(12000000, buf, sizeof(buf));
	assert_string_equal(buf, "12 ms");
	format_duration(1234000000, buf, sizeof(buf));
	assert_string_equal(buf, "1.234 s");
}

/* Two stacks: new -> parse.c:10 and strdup -> parse.c:10 group together;
 * malloc -> main.c:5 is its own group. */
static void three_stacks(struct profile *pp)
{
	struct profile p;
	const char *names[] = { "operator new(unsigned long)", "parse", "strdup", "main" };
	const char *files[] = { "", "parse.c", "", "main.c" };
	uint32_t lines[] = { 0, 10, 0, 5 };

	assert_int_equal(profile_init(&p), 0);
	p.frames = calloc(4, sizeof(*p.frames));
	for (int i = 0; i < 4; i++)
		p.frames[i] = (struct profile_frame){ .ip = 0x1000u + (unsigned)i, .module = PROFILE_NONE,
						      .function = profile_intern(&p, names[i]),
						      .file = profile_intern(&p, files[i]), .line = lines[i] };
	p.nframes = 4;
	p.stack_frames = calloc(5, sizeof(uint32_t));
	memcpy(p.stack_frames, (uint32_t[]){ 0, 1, 2, 1, 3 }, 5 * sizeof(uint32_t));
	p.nstack_frames = 5;
	p.stacks = calloc(4, sizeof(*p.stacks));
	p.stacks[1] = (struct profile_stack){ 0, 2 };	/* new, parse */
	p.stacks[2] = (struct profile_stack){ 2, 2 };	/* strdup, parse */
	p.stacks[3] = (struct profile_stack){ 4, 1 };	/* main */
	p.nstacks = 4;
	p.snapshots = calloc(1, sizeof(*p.snapshots));
	p.snapshots[0].nblocks = 3;
	p.snapshots[0].blocks = calloc(3, sizeof(struct profile_block));
	p.snapshots[0].blocks[0] = (struct profile_block){ .addr = 1, .size = 100, .stack = 1 };
	p.snapshots[0].blocks[1] = (struct profile_block){ .addr = 2, .size = 50, .stack = 2 };
	p.snapshots[0].blocks[2] = (struct profile_block){ .addr = 3, .size = 120, .stack = 3 };
	p.nsnapshots = 1;
	*pp = p;
}

static void grouping_skips_wrappers(void **state)
{
	struct group_options o = GROUP_OPTIONS_INIT;
	struct group_table t;
	char name[64];
	struct profile p;

	(void)state;
	three_stacks(&p);
	assert_int_equal(site_frame(&p, 1), 1);
	assert_int_equal(site_frame(&p, 2), 1);
	assert_int_equal(site_frame(&p, 0), PROFILE_NONE);
	/* glibc's internal aliases are the functions they name */
	assert_true(site_is_alloc_wrapper("__GI___strdup"));
	assert_true(site_is_alloc_wrapper("__GI_strndup"));
	assert_true(site_is_alloc_wrapper("xcalloc"));
	assert_true(site_is_alloc_wrapper("__GI__IO_file_doallocate"));
	assert_true(site_is_alloc_wrapper("__vfprintf_internal"));
	assert_false(site_is_alloc_wrapper("main"));
	assert_false(site_is_alloc_wrapper("print_report"));
	assert_int_equal(group_snapshot(&p, &p.snapshots[0], &o, &t), 0);
	assert_int_equal(group_sort(&t, SORT_SIZE), 0);
	assert_int_equal(t.n, 3);	/* with the empty stack's row, holding nothing */
	assert_int_equal(t.rows[2].frame, PROFILE_NONE);
	assert_int_equal(t.rows[2].size, 0);
	assert_int_equal(t.rows[0].size, 150);
	assert_int_equal(t.rows[0].count, 2);
	assert_int_equal(t.rows[0].frame, 1);
	assert_int_equal(t.rows[1].size, 120);
	group_describe(&t, &t.rows[0], GROUP_LINENO, name, sizeof(name));
	assert_string_equal(name, "parse.c:10");
	group_release(&t);
	profile_release(&p);
}

/* Every report names a frame one way, and takes any of those names back. */
static void site_names(void **state)
{
	struct profile p;
	char name[64];

	(void)state;
	three_stacks(&p);
	p.frames[1].file = profile_intern(&p, "src/lib/parse.c");
	site_name(&p, 1, name, sizeof(name));
	assert_string_equal(name, "parse src/lib/parse.c:10");
	site_name(&p, 0, name, sizeof(name));
	assert_string_equal(name, "operator new(unsigned long)");
	site_name(&p, PROFILE_NONE, name, sizeof(name));
	assert_string_equal(name, "<unknown stack>");
	p.frames[2].function = p.frames[2].file = 0;
	site_name(&p, 2, name, sizeof(name));
	assert_string_equal(name, "0x1002");
	assert_true(site_name_matches(&p, 2, "0x1002"));
	assert_true(site_name_matches(&p, 1, "parse src/lib/parse.c:10"));
	assert_true(site_name_matches(&p, 1, "parse"));
	assert_true(site_name_matches(&p, 1, "src/lib/parse.c:10"));
	assert_true(site_name_matches(&p, 1, "parse.c:10"));
	assert_true(site_name_matches(&p, 1, "lib/parse.c:10"));
	assert_false(site_name_matches(&p, 1, "arse.c:10"));
	assert_false(site_name_matches(&p, 1, "parse.c:11"));
	assert_false(site_name_matches(&p, 1, "main"));
	assert_false(site_name_matches(&p, PROFILE_NONE, "parse"));

	/* a wrapper of the user's is kept in the profile (once), and every
	 * site found from then on is past it: parse <- main becomes main */
	p.stacks[3] = (struct profile_stack){ 3, 2 };
	assert_int_equal(site_index(&p, 3), 0);
	assert_int_equal(site_add_alloc_fn(&p, "pars?"), 0);
	assert_int_equal(site_add_alloc_fn(&p, "pars?"), 0);
	assert_int_equal(p.nmeta, 1);
	assert_string_equal(profile_get_meta(&p, "alloc-fn"), "pars?");
	assert_int_equal(site_index(&p, 3), 1);
	assert_int_equal(site_frame(&p, 3), 3);
	/* a stack of nothing but wrappers keeps its last frame */
	assert_int_equal(site_index(&p, 1), 1);
	profile_release(&p);
}

/* Without a snapshot (a live profile), the sites' own live counters are
 * grouped; group_row_stacks names the stacks behind a row. */
static void grouping_live_sites(void **state)
{
	struct group_options o = GROUP_OPTIONS_INIT;
	struct group_table t;
	const struct group_row *parse = NULL, *other = NULL;
	uint32_t stacks[4];

	struct profile p;

	(void)state;
	three_stacks(&p);
	p.sites = calloc(3, sizeof(*p.sites));
	p.sites[0] = (struct profile_site){ .stack = 1, .allocations = 5, .live_blocks = 2, .live_bytes = 200 };
	p.sites[1] = (struct profile_site){ .stack = 2, .allocations = 7, .live_blocks = 1, .live_bytes = 30 };
	p.sites[2] = (struct profile_site){ .stack = 3, .allocations = 1, .live_blocks = 1, .live_bytes = 8 };
	p.nsites = 3;
	assert_int_equal(group_snapshot(&p, NULL, &o, &t), 0);
	assert_int_equal(t.size, 238);
	assert_int_equal(t.count, 4);
	for (size_t i = 0; i < t.n; i++)
		if (t.rows[i].frame == 1)
			parse = &t.rows[i];
		else if (t.rows[i].frame == 3)
			other = &t.rows[i];
	assert_non_null(parse);
	assert_non_null(other);
	assert_int_equal(parse->size, 230);
	assert_int_equal(parse->count, 3);
	assert_int_equal(parse->allocations, 12);
	assert_int_equal(other->size, 8);
	assert_int_equal(group_row_stacks(&t, parse, stacks, 4), 2);
	assert_int_equal(stacks[0], 1);
	assert_int_equal(stacks[1], 2);
	assert_int_equal(group_row_stacks(&t, other, stacks, 4), 1);
	assert_int_equal(stacks[0], 3);
	assert_int_equal(group_row_stacks(&t, parse, NULL, 0), 2);
	group_release(&t);
	profile_release(&p);
}

/*
 * 100,000 places, as a big real profile has: sorting them must index every
 * row again in a table large enough for all of them (it once rehashed into
 * 256 slots and probed for ever), and the rows of each stack must follow
 * their rows to where the sort put them.
 */
static void sorting_many_groups(void **state)
{
	enum { N = 100000 };
	struct group_options o = GROUP_OPTIONS_INIT;
	struct group_table t;
	struct profile p;
	struct profile_snapshot *s;
	uint32_t stack;
	char name[32];

	(void)state;
	assert_int_equal(profile_init(&p), 0);
	p.frames = calloc(N, sizeof(*p.frames));
	p.stack_frames = calloc(N, sizeof(uint32_t));
	p.stacks = calloc(N, sizeof(*p.stacks));
	p.snapshots = s = calloc(1, sizeof(*p.snapshots));
	s->blocks = calloc(N, sizeof(struct profile_block));
	for (uint32_t i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "site%u", i);
		p.frames[i] = (struct profile_frame){ .ip = 0x1000u + i, .module = PROFILE_NONE,
						      .function = profile_intern(&p, name),
						      .file = profile_intern(&p, "many.c"), .line = i + 1 };
		p.stack_frames[i] = i;
		p.stacks[i] = (struct profile_stack){ i, 1 };
		/* sizes in no order the stacks have: 7919 is prime to N */
		s->blocks[i] = (struct profile_block){ .addr = i + 1, .size = (uint64_t)(i * 7919u % N) + 1,
						      .stack = i };
	}
	p.nframes = p.nstack_frames = p.nstacks = N;
	s->nblocks = N;
	p.nsnapshots = 1;
	assert_int_equal(group_snapshot(&p, s, &o, &t), 0);
	assert_int_equal(t.n, N);
	assert_int_equal(group_sort(&t, SORT_SIZE), 0);
	for (size_t i = 0; i < t.n; i++) {
		assert_int_equal(t.rows[i].size, N - i);
		assert_ptr_equal(group_find(&t, t.rows[i].key), &t.rows[i]);
	}
	/* the largest block is stack i with i * 7919 % N == N - 1 */
	assert_int_equal(group_row_stacks(&t, &t.rows[0], &stack, 1), 1);
	assert_int_equal(s->blocks[stack].size, N);
	assert_int_equal(group_row_stacks(&t, &t.rows[N - 1], &stack, 1), 1);
	assert_int_equal(s->blocks[stack].size, 1);
	assert_int_equal(group_sort(&t, SORT_COUNT), 0);
	assert_ptr_equal(group_find(&t, t.rows[N / 2].key), &t.rows[N / 2]);
	group_release(&t);
	profile_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes),
		cmocka_unit_test(grouping_skips_wrappers),
		cmocka_unit_test(site_names),
		cmocka_unit_test(grouping_live_sites),
		cmocka_unit_test(sorting_many_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

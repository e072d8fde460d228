/*
 * test-diff.c - what `heapwise diff` and `heapwise leaks` decide, away
 * from their printing: compare_to's rows and order, the --fail-if gate's
 * parser and verdicts, LeakSanitizer suppressions, and the JSON writer's
 * escaping.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../report/analysis/diff.h"
#include "../../report/analysis/gate.h"
#include "../../report/analysis/suppress.h"
#include "../../report/util/json.h"

/*
 * A profile of one snapshot: block i of sizes[i] bytes at stack stacks[i];
 * stack k (1..3) is the frame "fnK" at k.c:k.
 */
static void make(struct profile *p, const uint64_t *sizes, const uint32_t *stacks, size_t n)
{
	char name[16];

	assert_int_equal(profile_init(p), 0);
	p->frames = calloc(3, sizeof(*p->frames));
	p->stack_frames = calloc(3, sizeof(uint32_t));
	p->stacks = calloc(4, sizeof(*p->stacks));
	for (uint32_t k = 1; k <= 3; k++) {
		snprintf(name, sizeof(name), "fn%u", k);
		p->frames[k - 1] = (struct profile_frame){ .ip = 0x400000 + k, .module = PROFILE_NONE,
							   .function = profile_intern(p, name), .line = k };
		snprintf(name, sizeof(name), "%u.c", k);
		p->frames[k - 1].file = profile_intern(p, name);
		p->stack_frames[k - 1] = k - 1;
		p->stacks[k] = (struct profile_stack){ k - 1, 1 };
	}
	p->nframes = p->nstack_frames = 3;
	p->nstacks = 4;
	p->snapshots = calloc(1, sizeof(*p->snapshots));
	p->nsnapshots = 1;
	p->snapshots[0].nblocks = n;
	p->snapshots[0].blocks = calloc(n + 1, sizeof(struct profile_block));
	for (size_t i = 0; i < n; i++)
		p->snapshots[0].blocks[i] = (struct profile_block){ .addr = 0x1000 * (i + 1), .size = sizes[i],
								    .stack = stacks[i] };
}

/*
 * Old: fn1 100 B in 1 block, fn2 300 B in 3. New: fn1 1000 B in 2, fn3
 * 50 B in 1 (fn2 is gone). Rows by |size_diff|: fn1 +900, fn2 -300, fn3 +50;
 * the total 1050 (+650), 3 blocks (-1).
 */
static void compare_like_tracemalloc(void **state)
{
	const uint64_t osize[] = { 100, 100, 100, 100 }, nsize[] = { 500, 500, 50 };
	const uint32_t ostack[] = { 1, 2, 2, 2 }, nstack[] = { 1, 1, 3 };
	struct group_options o = GROUP_OPTIONS_INIT;
	struct profile po, pn;
	struct diff d = { 0 };
	char name[64];

	(void)state;
	make(&po, osize, ostack, 4);
	make(&pn, nsize, nstack, 3);
	assert_int_equal(group_snapshot(&po, &po.snapshots[0], &o, &d.old), 0);
	assert_int_equal(group_snapshot(&pn, &pn.snapshots[0], &o, &d.new), 0);
	assert_int_equal(diff_compare(&d), 0);
	assert_int_equal(d.n, 3);
	assert_int_equal(d.rows[0].v.size, 1000);
	assert_int_equal(d.rows[0].v.size_diff, 900);
	assert_int_equal(d.rows[0].v.count_diff, 1);
	assert_ptr_equal(d.rows[0].table, &d.new);
	assert_int_equal(d.rows[1].v.size, 0);
	assert_int_equal(d.rows[1].v.size_diff, -300);
	assert_int_equal(d.rows[1].v.count_diff, -3);
	group_describe(d.rows[1].table, d.rows[1].row, GROUP_LINENO, name, sizeof(name));
	assert_string_equal(name, "2.c:2");
	assert_int_equal(d.rows[2].v.size_diff, 50);
	assert_int_equal(d.total.size, 1050);
	assert_int_equal(d.total.size_diff, 650);
	assert_int_equal(d.total.count, 3);
	assert_int_equal(d.total.count_diff, -1);

	/* gates: the total grew more than 512 B; no site lost more than 300 */
	d.gates = calloc(2, sizeof(*d.gates));
	d.tripped = calloc(2, sizeof(*d.tripped));
	d.ngates = 2;
	assert_int_equal(gate_parse("total.size_diff > 512B", &d.gates[0], NULL, 0), 0);
	assert_int_equal(gate_parse("site.size_diff < -300", &d.gates[1], NULL, 0), 0);
	assert_int_equal(diff_check_gates(&d), 1);
	assert_int_equal(d.tripped[0], 1);
	assert_int_equal(d.tripped[1], 0);
	diff_release(&d);
	profile_release(&po);
	profile_release(&pn);
}

static void gate_parser(void **state)
{
	struct gate g;
	char why[256];
	const struct gate_values v = { 2048, 1024, 10, -2 };

	(void)state;
	assert_int_equal(gate_parse("total.size_diff > 1MiB", &g, why, sizeof(why)), 0);
	assert_int_equal(g.scope, GATE_TOTAL);
	assert_int_equal(g.field, GATE_SIZE_DIFF);
	assert_int_equal(g.op, GATE_GT);
	assert_int_equal(g.value, 1 << 20);
	assert_int_equal(gate_parse("  site.count>=1000 ", &g, why, sizeof(why)), 0);
	assert_int_equal(g.scope, GATE_SITE);
	assert_int_equal(g.field, GATE_COUNT);
	assert_int_equal(g.op, GATE_GE);
	assert_int_equal(g.value, 1000);
	assert_int_equal(gate_parse("total.size != 2 kB", &g, why, sizeof(why)), 0);
	assert_int_equal(g.value, 2000);
	assert_int_equal(g.op, GATE_NE);
	assert_true(gate_holds(&g, &v));
	assert_int_equal(gate_parse("total.count_diff <= -2", &g, why, sizeof(why)), 0);
	assert_true(gate_holds(&g, &v));
	assert_int_equal(gate_field_value(&g, &v), -2);
	assert_int_equal(gate_parse("total.size == 2KiB", &g, why, sizeof(why)), 0);
	assert_true(gate_holds(&g, &v));
	/* what is not a gate, and why */
	assert_int_equal(gate_parse("totals.size > 1", &g, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "SCOPE.FIELD OP VALUE"));
	assert_int_equal(gate_parse("total.sizes > 1", &g, why, sizeof(why)), -1);
	assert_int_equal(gate_parse("total.size ~ 1", &g, why, sizeof(why)), -1);
	assert_int_equal(gate_parse("total.size > many", &g, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not a number"));
	assert_int_equal(gate_parse("total.size > 1 parsecs", &g, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "unknown unit"));
	assert_int_equal(gate_parse("total.size > 9000000000000 GiB", &g, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "too large"));
}

static void suppression_lines_and_patterns(void **state)
{
	struct suppressions s = { 0 };
	char err[PROFILE_ERRLEN], line[64];

	(void)state;
	strcpy(line, "  # a comment\n");
	assert_int_equal(suppressions_add_line(&s, line, err), 0);
	strcpy(line, "race:not_ours\n");
	assert_int_equal(suppressions_add_line(&s, line, err), 0);
	strcpy(line, " leak : ^libfoo.so$ \r\n");
	assert_int_equal(suppressions_add_line(&s, line, err), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.patterns[0], "^libfoo.so$");
	strcpy(line, "just_a_word");
	assert_int_equal(suppressions_add_line(&s, line, err), -EINVAL);
	assert_non_null(strstr(err, "TYPE:PATTERN"));
	strcpy(line, "leak:   ");
	assert_int_equal(suppressions_add_line(&s, line, err), -EINVAL);
	assert_string_equal(err, "leak: needs a pattern");
	suppressions_release(&s);

	/* LeakSanitizer's TemplateMatch: anywhere unless anchored; * for anything */
	assert_true(suppression_pattern_match("parse", "json_parse_value"));
	assert_true(suppression_pattern_match("^json", "json_parse_value"));
	assert_false(suppression_pattern_match("^parse", "json_parse_value"));
	assert_true(suppression_pattern_match("value$", "json_parse_value"));
	assert_false(suppression_pattern_match("parse$", "json_parse_value"));
	assert_true(suppression_pattern_match("^json*value$", "json_parse_value"));
	assert_false(suppression_pattern_match("^json*parse$", "json_parse_value"));
	assert_true(suppression_pattern_match("^json_parse_value$", "json_parse_value"));
	assert_false(suppression_pattern_match("x", ""));
	assert_false(suppression_pattern_match("x", NULL));
}

static void json_escapes(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	struct json j = JSON_INIT(f);

	(void)state;
	json_open(&j, '{');
	json_key(&j, "s");
	json_string(&j, "a\"b\\c\nd\te\r\x01\x1f/é");
	json_key(&j, "n");
	json_i64(&j, -5);
	json_key(&j, "list");
	json_open(&j, '[');
	json_u64(&j, 18446744073709551615ull);
	json_null(&j);
	json_bool(&j, 1);
	json_close(&j, ']');
	json_close(&j, '}');
	fclose(f);
	assert_string_equal(text, "{\n  \"s\": \"a\\\"b\\\\c\\nd\\te\\r\\u0001\\u001f/é\",\n  \"n\": -5,\n"
				  "  \"list\": [\n    18446744073709551615,\n    null,\n    true\n  ]\n}\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(compare_like_tracemalloc),
		cmocka_unit_test(gate_parser),
		cmocka_unit_test(suppression_lines_and_patterns),
		cmocka_unit_test(json_escapes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

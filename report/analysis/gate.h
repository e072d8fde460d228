/*
 * gate.h - `diff --fail-if EXPR`: conditions on a diff that fail a CI job.
 *
 * EXPR is SCOPE.FIELD OP VALUE, e.g. "total.size_diff > 1MiB" or
 * "site.count_diff >= 1000". SCOPE is total (the whole snapshot) or site
 * (true when any one place satisfies it); FIELD is size, size_diff, count
 * or count_diff; OP is >, >=, <, <=, == or !=; VALUE is an integer with
 * an optional sign and unit: B, KiB, MiB, GiB (1024s), kB, KB, MB, GB
 * (1000s).
 */
#ifndef HEAPWISE_GATE_H
#define HEAPWISE_GATE_H

#include <stdint.h>


enum gate_scope { GATE_TOTAL, GATE_SITE };
enum gate_field { GATE_SIZE, GATE_SIZE_DIFF, GATE_COUNT, GATE_COUNT_DIFF };
enum gate_op { GATE_GT, GATE_GE, GATE_LT, GATE_LE, GATE_EQ, GATE_NE };

struct gate {
	const char *text;	/* as the user wrote it */
	enum gate_scope scope;
	enum gate_field field;
	enum gate_op op;
	int64_t value;
};

/* The values a condition is checked against. */
struct gate_values {
	int64_t size, size_diff, count, count_diff;
};

/* Parse text into g; 0, or -1 with a reason in why. */
int gate_parse(const char *text, struct gate *g, char *why, size_t len);

/* Does the condition hold for these values? */
int gate_holds(const struct gate *g, const struct gate_values *v);

/* The value of g's field in v. */
int64_t gate_field_value(const struct gate *g, const struct gate_values *v);

#endif

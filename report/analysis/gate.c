/*
 * gate.c - parse and check --fail-if conditions (see gate.h).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"
#include "../util/format.h"

static const char *skip_space(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

/* Take `word` at *s if it is there (whole word); 1 if taken. */
static int take(const char **s, const char *word)
{
	size_t n = strlen(word);

	if (strncmp(*s, word, n) != 0 || isalnum((unsigned char)(*s)[n]) || (*s)[n] == '_')
		return 0;
	*s += n;
	return 1;
}

int gate_parse(const char *text, struct gate *g, char *why, size_t len)
{
	static const struct { const char *name; enum gate_field field; } fields[] = {
		{ "size_diff", GATE_SIZE_DIFF }, { "count_diff", GATE_COUNT_DIFF },
		{ "size", GATE_SIZE }, { "count", GATE_COUNT },
	};
	static const struct { const char *op; enum gate_op value; } ops[] = {
		{ ">=", GATE_GE }, { "<=", GATE_LE }, { "==", GATE_EQ }, { "!=", GATE_NE },
		{ ">", GATE_GT }, { "<", GATE_LT },
	};
	const char *s = skip_space(text);
	size_t i;

	g->text = text;
	if (take(&s, "total"))
		g->scope = GATE_TOTAL;
	else if (take(&s, "site"))
		g->scope = GATE_SITE;
	else
		goto bad;
	if (*s++ != '.')
		goto bad;
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (take(&s, fields[i].name))
			break;
	if (i == sizeof(fields) / sizeof(fields[0]))
		goto bad;
	g->field = fields[i].field;
	s = skip_space(s);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (strncmp(s, ops[i].op, strlen(ops[i].op)) == 0)
			break;
	if (i == sizeof(ops) / sizeof(ops[0]))
		goto bad;
	g->op = ops[i].value;
	s = skip_space(s + strlen(ops[i].op));
	return format_parse_bytes(s, &g->value, why, len);
bad:
	snprintf(why, len, "'%s' is not SCOPE.FIELD OP VALUE (e.g. 'total.size_diff > 1MiB'; scope total "
		 "or site, field size, size_diff, count or count_diff)", text);
	return -1;
}

int64_t gate_field_value(const struct gate *g, const struct gate_values *v)
{
	switch (g->field) {
	case GATE_SIZE:
		return v->size;
	case GATE_SIZE_DIFF:
		return v->size_diff;
	case GATE_COUNT:
		return v->count;
	default:
		return v->count_diff;
	}
}

int gate_holds(const struct gate *g, const struct gate_values *v)
{
	int64_t x = gate_field_value(g, v);

	switch (g->op) {
	case GATE_GT:
		return x > g->value;
	case GATE_GE:
		return x >= g->value;
	case GATE_LT:
		return x < g->value;
	case GATE_LE:
		return x <= g->value;
	case GATE_EQ:
		return x == g->value;
	default:
		return x != g->value;
	}
}

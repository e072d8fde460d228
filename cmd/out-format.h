/*
 * out-format.h - the one --format parser: every command says which of the
 * formats it writes, and a name outside those is refused with the list of
 * the ones it takes ("--format takes text, json or dot, not 'xml'").
 */
#ifndef HEAPWISE_OUT_FORMAT_H
#define HEAPWISE_OUT_FORMAT_H

#include <stddef.h>

enum out_format {
	OUT_TEXT,
	OUT_JSON,
	OUT_CSV,
	OUT_MARKDOWN,
	OUT_DOT,	/* Graphviz */
	OUT_FOLDED,	/* Brendan Gregg's folded stacks */
	OUT_SVG,
	OUT_PPROF,
	OUT_MASSIF,
	OUT_FORMATS
};

#define OUT(f)	(1u << (f))

/* The format called name, if allowed has it: 0, or -1 with why filled
 * (the formats allowed, in the order of the enum). */
int out_format_parse(const char *name, unsigned allowed, enum out_format *out, char *why, size_t len);

/* "json", ... */
const char *out_format_name(enum out_format f);

#endif

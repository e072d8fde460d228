/*
 * export.h - `heapwise export`: a profile in the formats other tools read.
 *
 * export-folded.c  Brendan Gregg's folded
 *                  stacks (flamegraph.pl, inferno, speedscope)
 * export-svg.c     a self-contained interactive flame graph, and the
 *                  heap/RSS timeline
 * export-pprof.c   gzipped perftools.profiles.Profile protobuf (go tool pprof)
 * export-massif.c  massif's text format (ms_print, massif-visualizer)
 * export-table.c   every site with its numbers and frames, as JSON or CSV
 */
#ifndef HEAPWISE_EXPORT_H
#define HEAPWISE_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "../report/analysis/stack-values.h"
#include "../report/profile/profile.h"

struct export_ctx {
	const struct profile *p;
	const struct profile_snapshot *s;
	enum stack_value value;
	FILE *out;
	const uint8_t *images;	/* --program: a flag per image number, NULL for every program */
	uint32_t nimages;
};

/* Is stack one --program keeps (every stack without it)? */
int export_stack_kept(const struct export_ctx *x, uint32_t stack);

/* A frame as a flame graph names it, whole, to out: its function, or
 * module+0xoffset; never a ';' (the folded format's separator). */
void export_frame_name(const struct profile *p, uint32_t frame, FILE *out);

/* One line of folded stacks: frames root first, joined by ';'. */
struct folded_line {
	char *stack;
	uint64_t value;
};

/* "root;...;leaf" of a stack ("[unknown]" for the empty one), malloc'ed; NULL without memory. */
char *export_fold_stack(const struct profile *p, uint32_t stack);
/* The same with each frame's place, "name (file:line)" ("" for the empty
 * stack): stacks that differ only in a line differ here. */
char *export_traceback(const struct profile *p, uint32_t stack);

/* The folded lines of the stacks with a value, merged and sorted by stack. */
int export_folded_lines(const struct profile *p, const uint64_t *values, struct folded_line **lines, size_t *n);

/* The same for the value x asks for (export_stack_values, then folded). */
int export_folded_values(const struct export_ctx *x, struct folded_line **lines, size_t *n);
void export_folded_free(struct folded_line *lines, size_t n);

int export_folded(const struct export_ctx *x);
int export_flamegraph(const struct export_ctx *x, const char *title);
int export_timeline(const struct export_ctx *x, const char *title);
int export_pprof(const struct export_ctx *x);
int export_massif(const struct export_ctx *x);
int export_json(const struct export_ctx *x);
int export_csv(const struct export_ctx *x);

#endif

/*
 * report-args.h - what `top` and `diff` share: the grouping options, the
 * output format, and how a place and a snapshot are written in JSON.
 */
#ifndef HEAPWISE_REPORT_ARGS_H
#define HEAPWISE_REPORT_ARGS_H

#include "../report/group.h"
#include "json.h"

enum report_format { REPORT_TEXT, REPORT_JSON, REPORT_CSV, REPORT_MARKDOWN };

struct report_args {
	struct group_options group;
	enum report_format format;
	const char **alloc_fns, **include, **exclude;	/* owned arrays, not strings */
};

/* The short options these take (each also has a long form). */
#define REPORT_SHORT_OPTIONS	"b:ci:x:g:f:"
#define REPORT_OPT_ALLOC_FN	256
#define REPORT_OPT_ALL_FRAMES	257

void report_args_init(struct report_args *r);
void report_args_release(struct report_args *r);

/* Take one option; 0, or EXIT_USAGE after saying what is wrong. */
int report_args_parse(struct report_args *r, const char *usage, int opt, const char *arg);

const char *report_group_name(enum group_by by);

/* A place's fields as a group keyed by `by` has them (the others empty). */
struct report_place {
	const char *function, *file, *module;
	unsigned line;
};

void report_place_of(const struct profile *p, uint32_t frame, enum group_by by, struct report_place *out);

/* "function", "file", "line", "module" keys of a place, into an open object. */
void report_json_place(struct json *j, const struct profile *p, uint32_t frame, enum group_by by);

/* "snapshot": {name, time_ns, blocks, bytes}, into an open object. */
void report_json_snapshot(struct json *j, const struct profile *p, const struct profile_snapshot *s);

#endif

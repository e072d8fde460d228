/*
 * report-args.h - what `top` and `diff` share: the grouping options, the
 * output format, and how a place and a snapshot are written in JSON.
 */
#ifndef HEAPWISE_REPORT_ARGS_H
#define HEAPWISE_REPORT_ARGS_H

#include "../report/analysis/group.h"
#include "../report/util/json.h"
#include "alloc-fns.h"
#include "out-format.h"


struct report_args {
	struct group_options group;
	enum out_format format;
	unsigned formats;		/* OUT(...) the command writes */
	struct alloc_fns alloc_fns;	/* --alloc-fn */
	const char **include, **exclude;	/* owned arrays, not strings */
	const char *program;		/* --program WHICH, NULL: every program */
};

/* The short options these take (each also has a long form). */
#define REPORT_SHORT_OPTIONS	"b:ci:x:g:f:"
#define REPORT_OPT_ALLOC_FN	256
#define REPORT_OPT_ALL_FRAMES	257
#define REPORT_OPT_NATIVE	258
#define REPORT_OPT_PROGRAM	259

/* Their help lines and long options, for a command's usage text and table. */
#define REPORT_BY_HELP \
	"  -b, --by KIND            lineno (default), function, file, module, traceback, or type\n" \
	"                           (a Python program's objects by type, in a scanned snapshot)\n"
#define REPORT_GROUPING_HELP \
	"  -c, --cumulative         count every frame of a stack, once per block\n" \
	ALLOC_FN_HELP \
	NATIVE_HELP \
	"  -i, --include PATTERN    keep only blocks whose file, function or module matches; repeatable\n" \
	"  -x, --exclude PATTERN    drop blocks whose file, function or module matches; repeatable\n" \
	"      --all-frames         match --include/--exclude against every frame\n" \
	"      --program WHICH      only what one program allocated, when an exec started others (a pyenv\n" \
	"                           shim's bash, env): its number in the run's summary, or a pattern\n" \
	"                           matched against its path (python3*)\n" \
	"  -g, --generation N       only blocks that survived N earlier snapshots (2 means 2 or more)\n"
#define REPORT_FORMAT_HELP \
	"  -f, --format FORMAT      text (default), json, csv or markdown\n"
#define REPORT_LONG_OPTIONS \
	{ "by", required_argument, NULL, 'b' }, \
	{ "cumulative", no_argument, NULL, 'c' }, \
	{ ALLOC_FN_OPTION, required_argument, NULL, REPORT_OPT_ALLOC_FN }, \
	{ NATIVE_OPTION, no_argument, NULL, REPORT_OPT_NATIVE }, \
	{ "include", required_argument, NULL, 'i' }, \
	{ "exclude", required_argument, NULL, 'x' }, \
	{ "all-frames", no_argument, NULL, REPORT_OPT_ALL_FRAMES }, \
	{ "program", required_argument, NULL, REPORT_OPT_PROGRAM }, \
	{ "generation", required_argument, NULL, 'g' }, \
	{ "format", required_argument, NULL, 'f' }

/* Grouping by line, formats text, json, csv and markdown (a command may
 * allow more in r->formats). */
void report_args_init(struct report_args *r);
void report_args_release(struct report_args *r);

/* Take one option; 0, or EXIT_USAGE after saying what is wrong (EXIT_ERROR
 * out of memory). */
int report_args_parse(struct report_args *r, const char *usage, int opt, const char *arg);

const char *report_group_name(enum group_by by);

/* g is r's grouping options for profile p (read from file): with
 * --program, the images it picks go into g->images (free them with
 * report_args_drop_program). 0, or the exit status after saying that no
 * program of file matches. */
int report_args_pick_program(const struct report_args *r, const struct profile *p, const char *file,
			     struct group_options *g);
void report_args_drop_program(struct group_options *g);

/* A place's fields as a group keyed by `by` has them (the others empty). */
struct report_place {
	const char *function, *file, *module;
	unsigned line;
};

void report_place_of(const struct profile *p, uint32_t frame, enum group_by by, struct report_place *out);

/* --by type on snapshot s of p, which has no types: say why; the exit status. */
int report_no_types(const struct profile *p, const struct profile_snapshot *s);

/* "function", "file", "line", "module" keys of a place, into an open object. */
void report_json_place(struct json *j, const struct profile *p, uint32_t frame, enum group_by by);

/* One frame of a traceback on stdout: "  function file:line" (inlined).
 * arg is unused: the shape group_frames calls. */
void report_print_frame(const struct profile *p, uint32_t frame, void *arg);

/* One frame of a traceback as a JSON object, into the open array arg (a
 * struct json): its place, its address and its offset in its module. */
void report_json_frame(const struct profile *p, uint32_t frame, void *arg);

/* "snapshot": {name, time_ns, blocks, bytes}, into an open object. */
void report_json_snapshot(struct json *j, const struct profile *p, const struct profile_snapshot *s);

/* The same object alone, as a value (of an array). */
void report_json_snapshot_object(struct json *j, const struct profile *p, const struct profile_snapshot *s);
/* A site keeping mostly free pymalloc arenas: its frame, its blocks in them. */
struct report_pin {
	uint32_t frame;
	uint64_t blocks, bytes;
};

/* pins' stacks merged by the place they are named after (site_name),
 * most blocks first, into out; returns how many. */
size_t report_pins_by_site(const struct profile *p, const struct profile_pins *pins,
			   struct report_pin out[PROFILE_PINS_MAX]);

/* A scanned snapshot's resident set parts as keys of the open object: rss,
 * live_heap, pymalloc_free, allocator_free, other (bytes), and for Python
 * pymalloc_arenas (count, mostly_free, kept_by: the sites). */
void report_json_rss_parts(struct json *j, const struct profile *p, const struct profile_snapshot *s);

#endif

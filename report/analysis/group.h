/*
 * group.h - tracemalloc's Snapshot.statistics for a heapwise snapshot:
 * group its blocks by line, function, file, module or whole traceback,
 * with filters, and give every group a key that names the same place in
 * another profile (another run, another build), for diffs.
 *
 * A key is built from the module's file name (not its directory), the
 * function, the source file and, unless ignore_lines, the line; frames
 * without symbols are keyed by their offset in the module. So a site
 * matches across machines and rebuilds, and with ignore_lines also when
 * lines above it moved.
 */
#ifndef HEAPWISE_GROUP_H
#define HEAPWISE_GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "../profile/profile.h"

enum group_by {
	GROUP_LINENO,
	GROUP_FUNCTION,
	GROUP_FILE,
	GROUP_MODULE,
	GROUP_TRACEBACK,
	GROUP_TYPE,		/* the Python type a block holds (a snapshot with types) */
};

enum group_sort {
	SORT_SIZE,		/* live bytes in the snapshot */
	SORT_COUNT,		/* live blocks in the snapshot */
	SORT_ALLOCATED,		/* bytes allocated over the run */
	SORT_ALLOCATIONS,	/* allocations over the run */
	SORT_TEMPORARY,		/* temporary allocations over the run */
	SORT_PEAK,		/* bytes live at the heap peak */
};

struct group_options {
	enum group_by by;
	int cumulative;			/* every frame of a stack, once per block */
	int all_frames;			/* filters look at every frame, not the grouping one */
	int ignore_lines;		/* keys without line numbers */
	int generation;			/* only blocks of this generation (2 = 2+), -1 = all */
	const char *const *include;	/* keep only blocks matching one of these */
	size_t ninclude;
	const char *const *exclude;	/* drop blocks matching one of these */
	size_t nexclude;
	const uint8_t *images;		/* keep only stacks of image i where images[i] */
	uint32_t nimages;		/* (images_select); 0: every image */
};

#define GROUP_OPTIONS_INIT { .by = GROUP_LINENO, .generation = -1 }

struct group_row {
	char *key;		/* the place, comparable across profiles */
	uint32_t frame;		/* frame to show it by; PROFILE_NONE: unknown stack */
	uint32_t stack;		/* a stack of the group (for tracebacks) */
	uint32_t depth_from;	/* first frame of that stack shown (wrappers skipped) */
	uint64_t size, count;	/* live in the snapshot */
	uint64_t old_size;	/* of that, bytes in generation 1 or older */
	uint64_t allocations, bytes_allocated, temporary, peak_bytes;	/* over the run */
};

struct group_table {
	const struct profile *profile;
	struct group_row *rows;
	size_t n, cap;
	uint32_t *slots;	/* hash of keys: row index + 1, 0 = empty */
	size_t nslots;
	uint64_t size, count;	/* totals of the blocks grouped (each once) */
	uint32_t *stack_first, *stack_count, *stack_rows;	/* the rows of stack i are
				 * stack_rows[stack_first[i] ..][.. stack_count[i]] */
};

/* Group snapshot s of p. With s NULL the live sizes and counts are the
 * sites' own live counters (at exit, or now in a live profile). By type,
 * s must have types (group_has_types): each row is a type, its frame
 * PROFILE_NONE, blocks without an object under GROUP_NOT_AN_OBJECT; the
 * counters over the run are 0. Returns 0 or -ENOMEM; free with
 * group_release even on failure. */
int group_snapshot(const struct profile *p, const struct profile_snapshot *s,
		   const struct group_options *o, struct group_table *t);
void group_release(struct group_table *t);

#define GROUP_NOT_AN_OBJECT	PROFILE_NOT_AN_OBJECT

/* Can snapshot s be grouped by type (a scanned snapshot of a Python program)? */
static inline int group_has_types(const struct profile_snapshot *s)
{
	return s && s->types;
}

/* The row with that key, or NULL. */
struct group_row *group_find(const struct group_table *t, const char *key);

/* The counter a sort key orders by. */
uint64_t group_sort_value(const struct group_row *r, enum group_sort by);

/* Largest first by the given counter; ties by size, count, then key.
 * group_find and group_row_stacks follow the rows to their new places.
 * Returns 0, or -ENOMEM with the rows as they were (or, if only the key
 * index could not be rebuilt, sorted with group_find finding nothing). */
int group_sort(struct group_table *t, enum group_sort by);

/* "parse.c:118", "parse", "parse.c", "libfoo.so", "libfoo.so+0x1234",
 * "<unknown stack>": the group's name in text reports. */
void group_describe(const struct group_table *t, const struct group_row *r, enum group_by by,
		    char *buf, size_t len);

/* The stacks grouped into row r, in stack order: the first max go to
 * out; returns how many there are. */
size_t group_row_stacks(const struct group_table *t, const struct group_row *r, uint32_t *out, size_t max);

/* The frames of a traceback row, outermost first unless most_recent_first:
 * calls fn(frame, arg) for each. */
void group_frames(const struct group_table *t, const struct group_row *r, int most_recent_first,
		  void (*fn)(const struct profile *p, uint32_t frame, void *arg), void *arg);

#endif

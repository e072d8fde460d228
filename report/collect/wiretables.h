/*
 * wiretables.h - the one reader of the tracer's stack table, frame pool and
 * module log (tracer/wire.h), for everything on the collector's side that
 * needs a stack's frames or the objects the program mapped: the profile
 * builds, the scan and the symbols' warming thread.
 *
 * The region is the program's to write, so nothing here trusts it: the
 * layout (offsets and capacities) is the collector's own copy, taken when it
 * laid the region out, never re-read from shared memory; every count and
 * index read from the region is clamped to it; and what callers get is a
 * copy (a module's path ends in a NUL whatever the program wrote). Entries
 * are read only once the tracer marked them ready (acquire), as wire.h's
 * ordering rules say.
 */
#ifndef HEAPWISE_WIRETABLES_H
#define HEAPWISE_WIRETABLES_H

#include <stdint.h>

#include "../../tracer/wire.h"

struct wiretables {
	const struct wire_header *hdr;		/* the shared region */
	const struct wire_stack *stacks;	/* stack_slots of them */
	const uint64_t *frames;			/* frame_capacity of them */
	const struct wire_module *modules;	/* module_capacity of them */
	const char *codes;			/* the Python code log, code_capacity bytes */
	uint64_t code_capacity;
	uint32_t stack_slots;
	uint32_t module_capacity;
	uint64_t frame_capacity;
};

/* A module log entry, copied out. */
struct wiretables_module {
	char path[WIRE_PATH_MAX];	/* NUL-terminated */
	uint64_t bias, start, end;
	uint32_t image;
};

/* The tables of region h, laid out as the collector made it. */
void wiretables_init(struct wiretables *t, const struct wire_header *h);

/* How many stack ids there can be (ids run from 1 to this). */
static inline uint32_t wiretables_stack_slots(const struct wiretables *t)
{
	return t->stack_slots;
}

/* Entries of the module log written or being written, clamped to its capacity. */
uint32_t wiretables_modules_used(const struct wiretables *t);

/* Entry i of the module log into *m: 1 when it is ready, 0 when it is not
 * written yet (or i is past the log). */
int wiretables_module(const struct wiretables *t, uint32_t i, struct wiretables_module *m);

/*
 * The frames of stack id (1-based), innermost first, as the tracer wrote
 * them: *frames points into the pool (valid as long as the region is
 * mapped; the program could still rewrite them) and *image is the image
 * number's low bits, 0 when the slot did not say. Returns the depth (at
 * most WIRE_MAX_DEPTH), 0 when id is 0, out of range, not ready, or names
 * frames outside the pool.
 */
uint32_t wiretables_stack(const struct wiretables *t, uint32_t id, const uint64_t **frames,
			  uint32_t *image);

/* Was stack id cut at max_depth (deeper than the frames it has)? */
int wiretables_stack_cut(const struct wiretables *t, uint32_t id);

/* A code log entry, copied out: strings NUL-terminated, the line table
 * as long as the entry said, up to WIRE_CODE_TABLE_MAX. */
struct wiretables_code {
	char qualname[WIRE_CODE_TEXT_MAX + 1];
	char filename[WIRE_CODE_TEXT_MAX + 1];
	uint8_t linetable[WIRE_CODE_TABLE_MAX];
	uint32_t linetable_len;
	int32_t first_line;
};

/* The code log entry a Python frame names (WIRE_PY_CODE_REF) into *c: 1,
 * or 0 when ref is 0, past the log, not written yet or does not hold
 * together. */
int wiretables_code(const struct wiretables *t, uint32_t ref, struct wiretables_code *c);

/* Frames of the pool reserved so far, clamped to its capacity. */
uint64_t wiretables_frames_used(const struct wiretables *t);

/* Frame i of the pool; 0 when it is not written yet (no return address is 0). */
uint64_t wiretables_frame(const struct wiretables *t, uint64_t i);

/* The image the tracer attached last (exec makes a new one). */
uint32_t wiretables_image(const struct wiretables *t);

/*
 * A reader that follows the module log and the frame pool as they grow,
 * each entry once, in order, stopping at the first one not written yet.
 */
struct wiretables_cursor {
	const struct wiretables *t;
	uint32_t modules_done;		/* log entries before this one were given */
	uint64_t frames_done;		/* pool entries before this one were given */
	struct wiretables_module module;	/* the last one given */
};

/* The next ready module log entry: 1 with *m pointing at its copy (valid
 * until the next call), 0 when none is ready yet. */
int wiretables_next_module(struct wiretables_cursor *cur, const struct wiretables_module **m);

/* The next written frame of the pool, with the image the tracer attached
 * last (the pool does not say which image a frame is of; the newest is
 * nearly always right): 1, or 0 when none is written yet. A stack reserves
 * its frames before writing them, so a 0 means "not yet": the cursor
 * stops there and comes back. */
int wiretables_next_frame(struct wiretables_cursor *cur, uint32_t *image, uint64_t *ip);

#endif

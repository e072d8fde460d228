/*
 * pymeta.h - what a profile says of a Python program in its meta entries
 * (see heapwise-format(5)): the interpreter the tracer found, the cycle
 * collector's state, and, in the live profile the dashboard reads, the
 * object census of the last snapshot that has types.
 */
#ifndef HEAPWISE_PYMETA_H
#define HEAPWISE_PYMETA_H

#include "../profile/profile.h"
#include "collector-internal.h"

/* "python": "3.11.7 (libpython3.11.so.1.0): Python frames on, pymalloc
 * traced", or nothing for a program without an interpreter. */
void pymeta_interpreter(const struct collector *c, struct profile *p);

/* "python-gc-enabled", "-count", "-threshold", "-collections",
 * "-collected", "-uncollectable": one number, or one per generation. */
void pymeta_gc(const struct python_gc *g, struct profile *p);

/*
 * "python-types": the last run snapshot with types, as "NAME T_NS" and
 * then, each after a ';', "COUNT BYTES TYPE" per type, most bytes first
 * (blocks without an object as "<not a Python object>"; a ';' in a name
 * becomes ','): meta values are one printable line. Counted once per
 * snapshot: *cache keeps the text. Nothing when no snapshot has types.
 * Returns 0 or -ENOMEM.
 */
struct pymeta_cache {
	char name[64];
	uint64_t stamp;
	char *text;
};

int pymeta_types(const struct collector *c, struct profile *p, struct pymeta_cache *cache);
void pymeta_cache_release(struct pymeta_cache *cache);

#endif

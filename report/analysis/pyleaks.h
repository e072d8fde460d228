/*
 * pyleaks.h - a Python program's leaks in Python's words, from a leak
 * analysis of a snapshot with types (leaks.h, and heapwise-leaks(1) for
 * how the scan reads a Python heap):
 *  - uncollected cycles: lost cycles of objects, with what they own,
 *    garbage that gc.collect() would free (the collector is off, or has
 *    not come round to them);
 *  - leaked references: lost objects in no cycle. Nothing points at them
 *    and they are still allocated, so their reference count is above zero
 *    with no reference to explain it: a C extension's missing Py_DECREF.
 * Each counts its objects by type.
 */
#ifndef HEAPWISE_PYLEAKS_H
#define HEAPWISE_PYLEAKS_H

#include <stddef.h>
#include <stdint.h>

#include "leaks.h"

struct pyleak_type {
	uint32_t name;		/* string offset of the type's name */
	uint64_t objects;
};

struct pyleak_group {
	uint64_t count;		/* cycles, or leaked objects */
	uint64_t objects;	/* Python objects in them, with what they own */
	uint64_t blocks, bytes;	/* every block, objects or not (values arrays, buffers) */
	struct pyleak_type *types;	/* most objects first */
	size_t ntypes;
};

struct pyleaks {
	struct pyleak_group cycles, references;
};

/* From a's snapshot, which must have types (-ENOENT otherwise). Blocks a
 * suppression covers are left out. Returns 0, -ENOENT, -ENOMEM. */
int pyleaks_find(const struct leak_analysis *a, struct pyleaks *out);
void pyleaks_release(struct pyleaks *l);

#endif

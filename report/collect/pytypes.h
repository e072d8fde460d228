/*
 * pytypes.h - the Python object each block of a snapshot holds, and its
 * type, read from the stopped program: the census objgraph takes with
 * gc.get_objects(), but counting what gc does not track too (str, int,
 * float, bytes, untracked tuples and dicts).
 *
 * A block holds an object when, at 0, 16 or 32 bytes in, it has a
 * plausible reference count and a type pointer, the type is a type (its
 * own type is PyType_Type, or a metatype whose type is), the offset is
 * the pre-header that type's flags imply (16 for a GC type, 16 more for a
 * managed dict or weakref) and the block can hold the type's basic size.
 * The program's memory and the header's numbers are only read (through
 * process_vm_readv), never trusted.
 */
#ifndef HEAPWISE_PYTYPES_H
#define HEAPWISE_PYTYPES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../tracer/wire.h"
#include "livetable.h"

/* How a block holds its object (pytypes.layout), for the heap graph. */
#define PYTYPES_OFFSET(l)	(((l) & 3u) * 16)	/* the object's offset in its block */
#define PYTYPES_GC		4u	/* a GC type's: its PyGC_Head is the 16 bytes before it */
#define PYTYPES_WEAKREF		8u	/* a weak reference: its referent is no reference */

struct pytypes {
	uint32_t *of_block;	/* per block: 1 + its type's index in names, 0 for none */
	uint8_t *layout;	/* per block with an object: PYTYPES_OFFSET bits | PYTYPES_* */
	char **names;		/* the types' names */
	size_t nnames;
};

/* Type the n blocks of the stopped program pid (sorted by address) with
 * what header h says of its interpreter. 0, or -ENOMEM (out is then
 * empty); a block that cannot be read is untyped. */
int pytypes_read(pid_t pid, const struct wire_header *h, const struct live_block *blocks, size_t n,
		 struct pytypes *out);

void pytypes_release(struct pytypes *t);

#endif

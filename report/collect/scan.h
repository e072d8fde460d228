/*
 * scan.h - read a stopped program's memory and build its heap graph.
 *
 * Given the live blocks (from the collector's table, so their bounds are
 * exact) and a world of stopped threads, find every aligned word that
 * points into a block: in the roots (data of loaded objects, each
 * thread's registers, stack from its stack pointer and static TLS, other
 * memory the program mapped, blocks the dynamic loader made) and in the
 * blocks themselves. Each such word is an edge, with the byte offset of
 * the pointer and how far into its block it points. Memory is read with
 * process_vm_readv; nothing in the program is written.
 */
#ifndef HEAPWISE_SCAN_H
#define HEAPWISE_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "../profile/profile.h"
#include "world.h"

#define SCAN_ERRLEN	256

struct scan_block {
	uint64_t addr;
	uint64_t size;
};

/* A loaded object of the program: its data segments are roots. */
struct scan_module {
	const char *path;
	uint64_t bias;
	uint32_t id;		/* the caller's name for it, given back in roots */
	int skip;		/* not the program's (heapwise's tracer): no roots */
};

struct scan_range {
	uint64_t lo, hi;
};

/* A dead object (pystale.h): the block that holds it is read for nothing
 * but the one word at keep (if keep is not 0); if no block holds it,
 * [lo, hi) is stale memory (none if equal). */
struct scan_dead {
	uint64_t object;
	uint64_t keep;
	uint64_t lo, hi;
};

struct scan_input {
	const struct world *world;
	const struct scan_block *blocks;	/* sorted by address, disjoint */
	size_t nblocks;
	const uint8_t *loader;			/* per block: 1 = made by the dynamic loader */
	const struct scan_module *modules;
	size_t nmodules;
	uint64_t static_tls_size;		/* static TLS below the thread pointer, 0 unknown */
	int32_t exit_tid;			/* the thread inside exit(), 0 if none: its stack
						 * is scanned from exit()'s caller up */
	const struct scan_block *inherited;	/* a forked child's parent's blocks, sorted:
						 * roots (a mapping named SCAN_INHERITED) */
	size_t ninherited;
	/* A Python program's: how each block holds its object (pytypes.h's
	 * layout), NULL for a program without one, and where its cycle
	 * collector's generation heads are ([gc_lo, gc_hi), none if equal).
	 * gc's own links (each PyGC_Head, the heads) and a weak reference's
	 * referent are not references that keep an object alive; a pointer
	 * to an object past its pre-header is a start pointer. */
	const uint8_t *py_layout;
	uint64_t py_gc_lo, py_gc_hi;
	/* ... and what in its memory that is no block is stale, no roots:
	 * its free lists' slots past their counts, its threads' stacks of
	 * frames above their tops; [lo, hi) each */
	const struct scan_range *py_stale;
	size_t npy_stale;
	/* ... and the objects it keeps to reuse, whose blocks hold no reference */
	const struct scan_dead *py_dead;
	size_t npy_dead;
	/* Only some blocks were recorded (run --sample-rate): the others live
	 * unseen in malloc's own heaps, which are then scanned as roots around
	 * the recorded blocks, so that a block held through unrecorded ones
	 * is not called lost. (A leak held by an unrecorded lost block is then
	 * reachable: sampled, "definitely lost" is sure, "reachable" is not.) */
	int sampled;
};

#define SCAN_INHERITED	"[blocks inherited at fork]"

/* A root before naming: build.c turns it into a profile_root. */
struct scan_root {
	uint32_t kind;		/* enum profile_root_kind */
	int32_t tid;
	uint64_t addr;		/* where the pointer is; 0 for a register */
	uint64_t base;		/* stack: the frame's stack pointer; TLS: the thread
				 * pointer; mapping: its start */
	uint64_t ip;		/* stack: the frame's return address (pc + 1 for frame 0) */
	uint32_t index;		/* global: module id; stack: frame number; register:
				 * scan_register_name's number; mapping: path number;
				 * loader: the block */
	uint32_t pad;
};

struct scan_result {
	struct scan_root *roots;
	size_t nroots;
	struct profile_edge *edges;	/* in no particular order */
	size_t nedges;
	char **paths;			/* of mapping roots */
	size_t npaths;
	uint64_t root_bytes, heap_bytes, unreadable_bytes;
	uint32_t threads;
};

/*
 * Scan. Returns 0, -ESRCH when the program vanished under us, -ENOMEM;
 * err says why on failure.
 */
int scan_program(const struct scan_input *in, struct scan_result *out, char err[SCAN_ERRLEN]);
void scan_result_release(struct scan_result *r);

/* The name of register number index ("rbx", "xmm3", ...). */
void scan_register_name(uint32_t index, char *buf, size_t len);

#endif

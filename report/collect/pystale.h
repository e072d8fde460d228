/*
 * pystale.h - what a stopped Python program holds but does not use, read
 * for its scan (collector-scan.c): pointers there are stale, left from
 * objects freed or reused since, and must keep nothing alive.
 *
 * Stale memory that is no block is no root: the slots of the
 * interpreter's free lists past their counts, each thread's stack of
 * frames above its top. Dead objects are the ones on the free lists,
 * kept for reuse: what they hold is stale, no reference, except the word
 * that links a free list of tuples on (their first item). A dead object
 * that is no block (made before the tracer) is a stale range too.
 * wire.h says where all of it is; the program can write all of it, so
 * what does not hold together is left out and every list is bounded.
 */
#ifndef HEAPWISE_PYSTALE_H
#define HEAPWISE_PYSTALE_H

#include <stddef.h>
#include <sys/types.h>

#include "../../tracer/wire.h"
#include "scan.h"

struct py_stale {
	struct scan_range *stale;	/* sorted by nothing; the scan claims each */
	size_t nstale, stale_cap;
	struct scan_dead *dead;
	size_t ndead, dead_cap;
};

/* Read them from pid as h says. 0, or -ENOMEM (then *out holds what was
 * read so far; release it either way). */
int pystale_read(pid_t pid, const struct wire_header *h, struct py_stale *out);

void pystale_release(struct py_stale *s);

#endif

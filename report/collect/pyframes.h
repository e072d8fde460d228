/*
 * pyframes.h - a running Python program's frames and their locals, read
 * from the stopped program for its scan, so that a root that is a local's
 * value is named as Python names it: frame work, local 'session'. The
 * frames live in each thread's stack of frames (memory that is no block:
 * roots), where wire.h's python_frames says.
 */
#ifndef HEAPWISE_PYFRAMES_H
#define HEAPWISE_PYFRAMES_H

#include <stdint.h>
#include <sys/types.h>

#include "../../tracer/wire.h"
#include "pyglobals.h"

#define PYTHREADS_MAX	4096	/* thread states followed at most */

/* The interpreter's thread states, from the head of their list through
 * each one's next, PYTHREADS_MAX at most, into out: how many. */
size_t pyframes_threads(pid_t pid, const struct wire_header *h, uint64_t out[PYTHREADS_MAX]);

/* Add each local's place and name to g (as its value slots: see
 * pyglobals_root), kept sorted. 0, or -ENOMEM. */
int pyframes_read(pid_t pid, uint32_t version, const struct wire_header *h, struct py_globals *g);

#endif

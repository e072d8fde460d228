/*
 * symwarm.h - read the program's symbols while it runs.
 *
 * Opening an object's DWARF (finding it, reading it, decompressing it: libc's
 * separate debug file takes 50 ms) does not depend on what the program
 * allocates, only on which objects its stacks pass through. A thread of
 * low priority follows the module log and the stack frames in the shared
 * region and does that work for each such object as it appears, on a core
 * the program leaves idle, instead of after the program ended, when the
 * user waits for the profile.
 */
#ifndef HEAPWISE_SYMWARM_H
#define HEAPWISE_SYMWARM_H

struct wire_header;
struct symbolizer;
struct symwarm;

/* Start following h's module log. NULL when the thread could not start
 * (then the profile's build reads the symbols itself). */
struct symwarm *symwarm_start(struct wire_header *h);

/* Stop (the object being read is finished first) and hand over the
 * symbolizer, which holds every module seen; NULL when there was none. */
struct symbolizer *symwarm_finish(struct symwarm *w);

#endif

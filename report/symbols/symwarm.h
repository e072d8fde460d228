/*
 * symwarm.h - read the program's symbols while it runs.
 *
 * Opening an object's DWARF (finding it, reading it, decompressing it: libc's
 * separate debug file takes 50 ms) does not depend on what the program
 * allocates, only on which objects its stacks pass through. A thread of
 * low priority follows the objects the program maps and the frames of its
 * stacks, as the collector hands them over (struct symwarm_source), and does
 * that work for each such object as it appears, on a core
 * the program leaves idle, instead of after the program ended, when the
 * user waits for the profile.
 */
#ifndef HEAPWISE_SYMWARM_H
#define HEAPWISE_SYMWARM_H

#include <stdint.h>

struct symbolizer;
struct symwarm;

/* An object the program mapped. */
struct symwarm_module {
	const char *path;	/* valid until the next call of next_module */
	uint32_t image;
	uint64_t bias, start, end;
};

/*
 * What the thread follows. The collector gives it, being the one reader of
 * the program's shared memory; both are called on the thread only, each
 * entry once, in the order the program wrote them.
 */
struct symwarm_source {
	/* The next object the program mapped into *m: 1, or 0 when there is
	 * none yet (ask again later). */
	int (*next_module)(void *arg, struct symwarm_module *m);
	/* The next return address a stack holds and the image it is most
	 * likely of: 1, or 0 when there is none yet. */
	int (*next_ip)(void *arg, uint32_t *image, uint64_t *ip);
	void *arg;
};

/* Start following src (copied; arg must live until symwarm_finish). NULL
 * when the thread could not start (then the profile's build reads the
 * symbols itself). */
struct symwarm *symwarm_start(const struct symwarm_source *src);

/* Stop (the object being read is finished first) and hand over the
 * symbolizer, which holds every module seen; NULL when there was none. */
struct symbolizer *symwarm_finish(struct symwarm *w);

#endif

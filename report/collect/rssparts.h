/*
 * rssparts.h - a program's resident set in parts: live heap blocks, free
 * space malloc holds, free space in pymalloc's arenas, other; read while
 * it is stopped (a scan) or as it runs (any other snapshot).
 */
#ifndef HEAPWISE_RSSPARTS_H
#define HEAPWISE_RSSPARTS_H

#include <stddef.h>
#include <sys/types.h>

#include "../profile/profile.h"
#include "livetable.h"

/*
 * The parts of pid's resident set, with blocks (the live set, sorted by
 * address) as its heap. An anonymous mapping that holds blocks but is
 * none of malloc's heaps is pymalloc's arenas when python is set, else
 * some allocator's (counted as malloc's). For Python, *pins gets its
 * arenas (their stacks as live_block.stack); pins->arenas stays 0 when
 * none are found. Returns 0 or -errno (the process is gone, out of memory).
 */
int rssparts_read(pid_t pid, const struct live_block *blocks, size_t nblocks, int python,
		  struct profile_rss_parts *out, struct profile_pins *pins);

/* The same, while the program runs, with t's blocks as its heap (in no
 * order; nothing of pymalloc's arenas read but their resident pages, so
 * no pins): the parts as they are now, for a snapshot cut now. */
int rssparts_read_live(pid_t pid, struct livetable *t, int python, struct profile_rss_parts *out);

#endif

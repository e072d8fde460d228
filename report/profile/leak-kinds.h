/*
 * leak-kinds.h - the names of memcheck's leak kinds and a count of each:
 * the words a scanned snapshot is told in. analysis/leaks.h says which
 * block is of which kind; the dashboards' channel carries the counts.
 */
#ifndef HEAPWISE_LEAK_KINDS_H
#define HEAPWISE_LEAK_KINDS_H

#include <stdint.h>

enum leak_kind {
	LEAK_DEFINITE = 0,
	LEAK_INDIRECT = 1,
	LEAK_POSSIBLE = 2,
	LEAK_REACHABLE = 3,
	LEAK_UNSCANNED = 4,	/* born after the scan: not in the graph */
	LEAK_KINDS
};

struct leak_count {
	uint64_t blocks;
	uint64_t bytes;
};

#endif

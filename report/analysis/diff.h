/*
 * diff.h - what changed between two snapshots, of one run or of two, with
 * tracemalloc's compare_to semantics and order (largest absolute size
 * difference first), and the CI gate's verdict on it.
 */
#ifndef HEAPWISE_DIFF_H
#define HEAPWISE_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "gate.h"
#include "group.h"

/* One place in either snapshot. */
struct diff_row {
	const struct group_table *table;	/* the side it is described from */
	const struct group_row *row;
	struct gate_values v;
};

/* The caller groups old and new (group_snapshot, same options) and sets
 * the gates and room for tripped (one int per gate). */
struct diff {
	struct group_table old, new;
	struct diff_row *rows;
	size_t n;
	struct gate_values total;
	struct gate *gates;
	size_t ngates;
	int *tripped;		/* per gate */
};

/* Fill rows (places with live blocks on either side, in tracemalloc's
 * order) and total. Returns 0 or -ENOMEM. */
int diff_compare(struct diff *d);

/* Check every gate against the rows and total, setting tripped; returns
 * how many held. */
size_t diff_check_gates(struct diff *d);

/* Free the tables, rows, gates and tripped. */
void diff_release(struct diff *d);

#endif

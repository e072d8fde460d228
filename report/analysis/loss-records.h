/*
 * loss-records.h - memcheck's loss records: the blocks of one leak kind
 * allocated at one stack, listed largest first (their own bytes and those
 * they own). A definitely lost record lists what its blocks own, grouped
 * by where it was allocated, instead of a record for every indirect leak.
 * Suppressed blocks are in no record.
 */
#ifndef HEAPWISE_LOSS_RECORDS_H
#define HEAPWISE_LOSS_RECORDS_H

#include <stddef.h>
#include <stdint.h>

#include "../profile/profile.h"
#include "leaks.h"

/* Indirectly lost blocks one record owns, from one place. */
struct loss_owned {
	uint32_t stack;		/* one of them: they share the grouping frame */
	uint64_t blocks, bytes;
};

/* One loss record. */
struct loss_record {
	enum leak_kind kind;
	uint32_t stack;
	uint64_t blocks, bytes;		/* the record's own blocks */
	uint64_t owned_blocks, owned_bytes;
	struct loss_owned *owned;		/* largest first */
	size_t nowned;
	size_t first_cycle;		/* a cycle one of its blocks is in, or SIZE_MAX */
};

struct loss_records {
	struct loss_record *items;
	size_t n;
};

/*
 * The loss records of the kinds in mask kinds (1 << enum leak_kind) of
 * analysis a of a snapshot of p, largest first, the first limit of them
 * (0: all). Returns 0 or -ENOMEM (then *rs is empty).
 */
int loss_records_make(const struct profile *p, const struct leak_analysis *a, unsigned kinds, size_t limit,
		      struct loss_records *rs);
void loss_records_release(struct loss_records *rs);

#endif

/*
 * runload.h - the run's snapshots that were kept as changes (struct
 * run_snapshot), made whole again only when the profile needs them: when
 * it is written, or a report of the run reads one. The profile holds them
 * unread, with their counts; its loader (profile.h) makes each from the
 * one made before it, so that at most a few are in memory at once.
 */
#ifndef HEAPWISE_RUNLOAD_H
#define HEAPWISE_RUNLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "../profile/profile.h"
#include "collector-internal.h"

struct run_loader;

/* An empty loader; NULL when out of memory. */
struct run_loader *run_loader_new(void);

/*
 * Profile snapshot k is run snapshot rs, the next of the chain, after
 * ngen snapshots that count for its blocks' generations: its changes move
 * into the loader (rs keeps its counts). 0 or -ENOMEM (rs is left as it
 * was).
 */
int run_loader_add(struct run_loader *r, size_t k, struct run_snapshot *rs, size_t ngen);

/*
 * Hand the loader to p, which releases it: stack_map (the collector's
 * stack ids, nslots of them, to p's stacks) and gen_stamps (the stamps of
 * the snapshots that count for generations, in order) are copied. 0, or
 * -ENOMEM after freeing the loader.
 */
int run_loader_install(struct run_loader *r, struct profile *p, const uint32_t *stack_map, size_t nslots,
		       const uint64_t *gen_stamps, size_t ngen);

void run_loader_free(struct run_loader *r);

#endif

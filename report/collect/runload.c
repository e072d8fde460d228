/*
 * runload.c - make the run's snapshots kept as changes whole again, one at
 * a time, when the profile asks (see runload.h).
 *
 * The chain: each step is a run snapshot, whole (its live set) or the
 * changes since the step before (born and gone). The loader keeps the
 * live set of the step it made last, sorted by address, and makes the
 * next from it: the blocks of that set less the gone ones, merged with
 * the born, by address. Asked for a step out of order (a report reading
 * snapshots backwards), it starts again from the last whole step before.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/addrsort.h"
#include "../util/array.h"
#include "runload.h"

#define NO_STEP ((size_t)-1)

struct chain_step {
	struct live_block *born, *gone;	/* owned; sorted by address once used */
	size_t nborn, ngone;
	size_t nblocks;			/* its live set's size */
	int whole;
	int sorted;
	size_t ngen;			/* snapshots before it that count for generations */
};

struct run_loader {
	struct profile_loader l;	/* first: the profile calls through it */
	struct chain_step *steps;
	size_t nsteps, cap;
	size_t *step_of;		/* profile snapshot -> step, NO_STEP for none */
	size_t nprofile, step_of_cap;
	uint32_t *stack_map;		/* the collector's stack ids -> the profile's */
	size_t nslots;
	uint64_t *gen_stamps;
	struct live_block *cur;		/* the live set of step `at`, by address */
	size_t ncur, at;		/* at: NO_STEP when none is made */
	/* memory let go, for the next to reuse: a step's live set, and a
	 * profile snapshot's blocks (fresh pages for each cost more than
	 * the merge itself) */
	struct live_block *spare;
	size_t spare_cap, cur_cap;
	struct profile_block *spare_blocks;
	size_t spare_blocks_cap;
};

static int sort_step(struct chain_step *s)
{
	if (s->sorted)
		return 0;
	if (sort_by_addr(s->born, s->nborn, sizeof(*s->born)) < 0 ||
	    sort_by_addr(s->gone, s->ngone, sizeof(*s->gone)) < 0)
		return -ENOMEM;
	s->sorted = 1;
	return 0;
}

/* Make step s's live set from the current one (the step before it). */
static int apply(struct run_loader *r, struct chain_step *s)
{
	struct live_block *next;
	size_t i = 0, g = 0, b = 0, n = 0, cap = s->nblocks;

	if (sort_step(s) < 0)
		return -ENOMEM;
	if (r->spare && r->spare_cap >= s->nblocks) {
		next = r->spare;
		cap = r->spare_cap;
		r->spare = NULL;
	} else if (!(next = malloc((s->nblocks + 1) * sizeof(*next)))) {
		return -ENOMEM;
	}
	if (!s->whole) {
		while (i < r->ncur) {
			const struct live_block *old = &r->cur[i];

			while (g < s->ngone && s->gone[g].addr < old->addr)
				g++;	/* not in the set: nothing to take out */
			if (g < s->ngone && s->gone[g].addr == old->addr && s->gone[g].stamp == old->stamp) {
				i++, g++;
				continue;
			}
			while (b < s->nborn && s->born[b].addr < old->addr && n < s->nblocks)
				next[n++] = s->born[b++];
			if (n == s->nblocks)
				break;
			next[n++] = *old;
			i++;
		}
	}
	while (b < s->nborn && n < s->nblocks)
		next[n++] = s->born[b++];
	free(r->spare);
	r->spare = r->cur;
	r->spare_cap = r->cur_cap;
	r->cur = next;
	r->cur_cap = cap;
	r->ncur = n;
	return 0;
}

static int fail(char err[PROFILE_ERRLEN], int ret, size_t k)
{
	if (ret == -ENOMEM)
		snprintf(err, PROFILE_ERRLEN, "out of memory making snapshot %zu of the run", k);
	else
		snprintf(err, PROFILE_ERRLEN, "snapshot %zu of the run was not kept", k);
	return ret;
}

/* The last whole step at or before step. */
static size_t whole_before(const struct run_loader *r, size_t step)
{
	while (step > 0 && !r->steps[step].whole)
		step--;
	return step;
}

static int load(struct profile_loader *l, struct profile *p, size_t k, char err[PROFILE_ERRLEN])
{
	struct run_loader *r = (struct run_loader *)l;
	struct profile_snapshot *s = &p->snapshots[k];
	size_t step = k < r->nprofile ? r->step_of[k] : NO_STEP, from;
	const struct chain_step *st;

	if (step == NO_STEP)
		return fail(err, -EINVAL, k);
	from = whole_before(r, step);
	if (r->at != NO_STEP && r->at >= from && r->at <= step)
		from = r->at + 1;	/* on from the one made last */
	for (size_t j = from; j <= step; j++) {
		if (apply(r, &r->steps[j]) < 0) {
			r->at = NO_STEP;
			return fail(err, -ENOMEM, k);
		}
		r->at = j;
	}
	st = &r->steps[step];
	if (r->spare_blocks && r->spare_blocks_cap >= r->ncur) {
		s->blocks = r->spare_blocks;
		r->spare_blocks = NULL;
	} else if (!(s->blocks = malloc((r->ncur + 1) * sizeof(*s->blocks)))) {
		return fail(err, -ENOMEM, k);
	}
	for (size_t i = 0; i < r->ncur; i++) {
		const struct live_block *b = &r->cur[i];

		s->blocks[i] = (struct profile_block){ b->addr, b->size, b->stamp,
						       b->stack < r->nslots ? r->stack_map[b->stack] : 0,
						       snapshot_generation(r->gen_stamps, st->ngen, b->stamp) };
	}
	s->nblocks = r->ncur;
	s->unread = 0;
	return 0;
}

static void unload(struct profile_loader *l, struct profile *p, size_t k)
{
	struct run_loader *r = (struct run_loader *)l;
	struct profile_snapshot *s = &p->snapshots[k];

	if (k >= r->nprofile || r->step_of[k] == NO_STEP)
		return;	/* not made here: nothing could make it again */
	if (!r->spare_blocks || s->nblocks > r->spare_blocks_cap) {
		free(r->spare_blocks);
		r->spare_blocks = s->blocks;
		r->spare_blocks_cap = s->nblocks;
	} else {
		free(s->blocks);
	}
	s->blocks = NULL;
	s->unread = 1;
}

static void release(struct profile_loader *l)
{
	run_loader_free((struct run_loader *)l);
}

struct run_loader *run_loader_new(void)
{
	struct run_loader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->l = (struct profile_loader){ load, unload, release };
	r->at = NO_STEP;
	return r;
}

int run_loader_add(struct run_loader *r, size_t k, struct run_snapshot *rs, size_t ngen)
{
	if (array_grow((void **)&r->steps, &r->cap, r->nsteps + 1, sizeof(*r->steps)) < 0 ||
	    array_grow((void **)&r->step_of, &r->step_of_cap, k + 1, sizeof(*r->step_of)) < 0)
		return -ENOMEM;
	for (; r->nprofile <= k; r->nprofile++)
		r->step_of[r->nprofile] = NO_STEP;
	r->steps[r->nsteps] = (struct chain_step){ rs->born, rs->gone, rs->nborn, rs->ngone, rs->nblocks,
						    rs->whole || r->nsteps == 0, 0, ngen };
	r->step_of[k] = r->nsteps++;
	rs->born = rs->gone = NULL;
	return 0;
}

int run_loader_install(struct run_loader *r, struct profile *p, const uint32_t *stack_map, size_t nslots,
		       const uint64_t *gen_stamps, size_t ngen)
{
	r->stack_map = malloc((nslots + 1) * sizeof(*r->stack_map));
	r->gen_stamps = malloc((ngen + 1) * sizeof(*r->gen_stamps));
	if (!r->stack_map || !r->gen_stamps) {
		run_loader_free(r);
		return -ENOMEM;
	}
	memcpy(r->stack_map, stack_map, nslots * sizeof(*r->stack_map));
	memcpy(r->gen_stamps, gen_stamps, ngen * sizeof(*r->gen_stamps));
	r->nslots = nslots;
	p->loader = &r->l;
	return 0;
}

void run_loader_free(struct run_loader *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nsteps; i++) {
		free(r->steps[i].born);
		free(r->steps[i].gone);
	}
	free(r->steps);
	free(r->step_of);
	free(r->stack_map);
	free(r->gen_stamps);
	free(r->cur);
	free(r->spare);
	free(r->spare_blocks);
	free(r);
}

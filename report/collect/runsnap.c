/*
 * runsnap.c - snapshots cut while the program runs: the live set copied at
 * a stamp once replay has reached it, periodic ones (--snapshot-every),
 * and freeing them. Asked for by collector.c and kept for build.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../tracer/wire.h"
#include "../util/clock.h"
#include "collector-internal.h"
#include "collector.h"
#include "rssparts.h"

/* What each site allocated since the last snapshot kept, into s; the
 * sites learn it only when s is kept (collector_keep_snapshot), so a
 * snapshot dropped on the way leaves its allocations to the next. */
static int count_allocated(struct collector *c, struct run_snapshot *s)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nsites; i++)
		n += c->sites[i].allocations != c->sites[i].kept_allocations;
	s->nallocated = 0;
	s->allocated = malloc((n + 1) * sizeof(*s->allocated));
	if (!s->allocated)
		return -ENOMEM;
	for (size_t i = 0; i < c->nsites; i++) {
		const struct site_counters *site = &c->sites[i];

		if (site->allocations != site->kept_allocations)
			s->allocated[s->nallocated++] = (struct site_count){
				.site = (uint32_t)i,
				.allocations = site->allocations - site->kept_allocations,
				.bytes = site->bytes_allocated - site->kept_bytes,
			};
	}
	return 0;
}

int collector_copy_live(struct collector *c, struct run_snapshot *s)
{
	struct live_block *b;
	size_t pos = 0;

	s->blocks = malloc((c->live.count + 1) * sizeof(*s->blocks));
	if (!s->blocks || count_allocated(c, s) < 0)
		return -ENOMEM;
	s->nblocks = 0;
	s->bytes = s->est_blocks = 0;
	while ((b = livetable_next(&c->live, &pos))) {
		struct profile_weight w = collector_weight(c, b->size);

		s->blocks[s->nblocks++] = *b;
		s->bytes += w.bytes;
		s->est_blocks += w.blocks;
	}
	return 0;
}

/*
 * The live set as changes since the last snapshot kept so (see struct
 * run_snapshot): the blocks born after its cut, and those of it gone
 * since; or whole. Every stamp below window.base has been replayed, so the
 * next cut's base ends there.
 */
static int copy_changes(struct collector *c, struct run_snapshot *s)
{
	struct live_block *b;
	size_t pos = 0;

	s->whole = c->cut_whole;
	s->born = malloc((c->live.count + 1) * sizeof(*s->born));
	if (!s->born)
		return -ENOMEM;
	if (count_allocated(c, s) < 0) {
		free(s->born);
		s->born = NULL;
		return -ENOMEM;
	}
	while ((b = livetable_next(&c->live, &pos)))
		if (s->whole || b->stamp > c->cut_stamp)
			s->born[s->nborn++] = *b;
	if (s->nborn < c->live.count / 2) {
		struct live_block *fit = realloc(s->born, (s->nborn + 1) * sizeof(*fit));

		s->born = fit ? fit : s->born;
	}
	if (!s->whole) {
		s->gone = c->gone_since_cut.items;
		s->ngone = c->gone_since_cut.len;
		c->gone_since_cut = (struct block_list){ NULL, 0, 0 };
	}
	c->gone_since_cut.len = 0;
	c->cut_stamp = c->window.base - 1;
	c->cut_whole = 0;
	s->nblocks = c->live.count;
	s->bytes = c->heap_bytes;
	s->est_blocks = c->heap_blocks;
	return 0;
}

struct run_snapshot *collector_keep_snapshot(struct collector *c, const struct run_snapshot *s)
{
	struct run_snapshot *all = realloc(c->snapshots, (c->nsnapshots + 1) * sizeof(*all));

	if (!all)
		return NULL;
	c->snapshots = all;
	all[c->nsnapshots] = *s;
	for (size_t i = 0; i < s->nallocated; i++) {
		struct site_counters *site = &c->sites[s->allocated[i].site];

		site->kept_allocations += s->allocated[i].allocations;
		site->kept_bytes += s->allocated[i].bytes;
	}
	return &all[c->nsnapshots++];
}

/*
 * The resident set in parts of the running program, as it is now (not
 * for a sample, whose blocks are a few of the heap's); replay is at the
 * snapshot's stamp, the program a little past it. Reading smaps walks the
 * program's page tables with its memory map locked for reading, which
 * holds up its mmap and brk: 11 ms for 2 GiB resident. So after a read
 * that took t, the next waits 20 t: at most 5% of the program's time.
 */
static void read_running_parts(struct collector *c, struct run_snapshot *snap)
{
	uint64_t t0 = monotonic_ns();

	if (c->opt.sample_rate || c->program_reaped || t0 < c->rss_parts_after_ns)
		return;
	snap->has_rss_parts = rssparts_read_live(c->pid, &c->live,
						 __atomic_load_n(&c->hdr->python_state, __ATOMIC_ACQUIRE) ==
							 WIRE_PYTHON_ON, &snap->rss_parts) == 0;
	c->rss_parts_after_ns = t0 + 21 * (monotonic_ns() - t0);
}

/* Copy the live set as it is now (replay has reached the pending stamp). */
static void cut_snapshot(struct collector *c)
{
	struct run_snapshot snap = { .t_ns = c->pending_ns, .stamp = c->pending_stamp }, *kept = NULL;

	memcpy(snap.name, c->pending_name, sizeof(snap.name));
	read_running_parts(c, &snap);
	if (copy_changes(c, &snap) == 0 && !(kept = collector_keep_snapshot(c, &snap))) {
		free(snap.born);
		free(snap.gone);
		free(snap.allocated);
		c->cut_whole = 1;	/* the chain is broken: start again */
	}
	if (!kept)
		c->lost_internal++;	/* the snapshot is missing from the profile */
	c->pending = 0;
}

/* Wait for replay to reach every event so far, then cut a snapshot. */
void collector_schedule_snapshot(struct collector *c)
{
	c->pending = 1;
	c->pending_stamp = __atomic_load_n(&c->hdr->stamp, __ATOMIC_ACQUIRE) - 1;
	c->pending_ns = c->now_ns - c->start_ns;
}

/* Take up a due periodic snapshot; cut the pending one once replay has
 * caught up with it (or at the end, final). */
void collector_snapshot_tick(struct collector *c, int final)
{
	if (!c->pending && c->opt.snapshot_every_ns && c->now_ns >= c->next_snapshot_ns && !final) {
		snprintf(c->pending_name, sizeof(c->pending_name), "auto-%zu", c->nsnapshots + 1);
		c->next_snapshot_ns = c->now_ns + c->opt.snapshot_every_ns;
		collector_schedule_snapshot(c);
	}
	if (c->pending && (final || c->window.base > c->pending_stamp))
		cut_snapshot(c);
}

/* Replay until the pending snapshot's stamp is reached, at most until
 * deadline, and cut it: a stamp still in flight is waited for as long as
 * replay itself would. */
void collector_finish_pending(struct collector *c, uint64_t deadline)
{
	while (c->window.base <= c->pending_stamp && monotonic_ns() < deadline) {
		if (!collector_drain(c, 0)) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	cut_snapshot(c);
}

void run_snapshot_release(struct run_snapshot *s)
{
	free(s->blocks);
	s->blocks = NULL;
	free(s->born);
	free(s->gone);
	s->born = s->gone = NULL;
	free(s->allocated);
	s->allocated = NULL;
	s->nallocated = 0;
	pynames_release(&s->names);
	pyglobals_release(&s->globals);
	if (s->scan) {
		scan_result_release(s->scan);
		free(s->scan);
		s->scan = NULL;
	}
	if (s->types) {
		pytypes_release(s->types);
		free(s->types);
		s->types = NULL;
	}
}

void run_snapshots_release(struct collector *c)
{
	for (size_t i = 0; i < c->nsnapshots; i++)
		run_snapshot_release(&c->snapshots[i]);
	free(c->snapshots);
	if (c->exit_scan) {
		run_snapshot_release(c->exit_scan);
		free(c->exit_scan);
	}
}

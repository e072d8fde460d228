/*
 * collector-internal.h - the collector's state, shared by the files of
 * collect/ that make it: collector.c (its life), replay.c (draining,
 * replaying), samples.c (the timeline), runsnap.c (snapshots during the
 * run), collector-scan.c
 * (reachability scans) and build.c (turning it into a profile). Nothing
 * outside collect/ includes it.
 */
#ifndef HEAPWISE_COLLECTOR_INTERNAL_H
#define HEAPWISE_COLLECTOR_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "../../tracer/wire.h"
#include "collector.h"
#include "livetable.h"
#include "pyglobals.h"
#include "pynames.h"
#include "pytypes.h"
#include "scan.h"
#include "wiretables.h"

struct wire_header;

/* What one stack id did so far. */
struct site_counters {
	uint32_t stack;			/* the stack id these count */
	uint32_t pad;
	uint64_t allocations;
	uint64_t bytes_allocated;
	uint64_t frees;
	uint64_t temporary;
	uint64_t live_blocks;
	uint64_t live_bytes;
	/* allocated up to the last snapshot kept (runsnap.c), and since peak
	 * number peak_epoch (stale when the collector's is newer) */
	uint64_t kept_allocations, kept_bytes;
	uint64_t peak_epoch, after_peak_allocations, after_peak_bytes;
};

/* A timeline sample whose moment has come (samples.c): when, the stamp
 * counter then (replay takes the heap once every stamp below it is in)
 * and the RSS read then. */
struct due_sample {
	uint64_t t_ns;			/* since the start */
	uint64_t stamp;
	uint64_t rss_bytes;
};

/* What one site allocated between two moments (a run snapshot's). */
struct site_count {
	uint32_t site;			/* index in collector.sites */
	uint32_t pad;
	uint64_t allocations, bytes;
};

/* Records waiting for their stamp's turn; slot i holds stamp s when
 * s & (capacity - 1) == i and slot.stamp == s (0 = empty). */
struct reorder {
	struct wire_record *slots;
	size_t capacity;	/* a power of two */
	uint64_t base;		/* the next stamp to replay */
	uint64_t pending;	/* records in the window */
	uint64_t gap_since_ns;	/* when base was first found missing, 0 if not */
};

struct block_list {
	struct live_block *items;
	size_t len, cap;
};

/*
 * A snapshot cut while the program ran. A scanned one holds its live set
 * in blocks, sorted by address (the order the scan's edges use). Any other
 * holds only what changed since the one cut before it that was not
 * scanned (its base): born, the blocks allocated since and still live,
 * and gone, the base's blocks that left, both unsorted; or, when it is
 * whole (no base, or events came out of order since), its live set in
 * born. Thirty snapshots of a steady heap then cost little more than one;
 * build.c puts each together again when the profile is written.
 */
struct run_snapshot {
	char name[LIVE_LABEL_MAX];
	uint64_t t_ns;		/* since the start */
	uint64_t stamp;		/* events up to this stamp are in it */
	struct live_block *blocks;	/* scanned: its live set */
	size_t nblocks;		/* its live blocks, however they are kept */
	uint64_t bytes;		/* what they stand for (estimates, sampled) */
	uint64_t est_blocks;
	struct live_block *born, *gone;	/* not scanned: see above */
	size_t nborn, ngone;
	int whole;			/* born is the live set */
	struct scan_result *scan;	/* the heap graph, when scanned */
	struct pytypes *types;		/* a Python program's: the objects in the blocks, or NULL */
	uint64_t scan_stop_ns;		/* how long the program was stopped */
	uint32_t scan_image;		/* the image the scan saw */
	struct py_names names;		/* scanned, Python: its pointers in Python's words */
	struct py_globals globals;	/* ... and its modules' globals, that name roots */
	struct profile_rss_parts rss_parts;	/* scanned, not sampled: the resident set */
	int has_rss_parts;
	struct profile_pins pins;	/* ... and a Python program's arenas (stacks: wire ids) */
	struct site_count *allocated;	/* what each site allocated since the
					 * snapshot kept before (none: nothing) */
	size_t nallocated;
	size_t profile_index;		/* build.c: where it went in the profile */
};

/*
 * A block's generation in a snapshot: how many of the ngen snapshots
 * before it that count (gen_stamps, in order: the run's, not the peak)
 * were taken after the block was born, at or after its stamp.
 */
static inline uint32_t snapshot_generation(const uint64_t *gen_stamps, size_t ngen, uint64_t stamp)
{
	size_t lo = 0, hi = ngen;

	if (hi && gen_stamps[0] >= stamp)
		return (uint32_t)ngen;	/* older than the first: every one */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (gen_stamps[mid] < stamp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (uint32_t)(ngen - lo);
}

/* Records copied out of the rings, waiting for replay. */
struct chunk {
	struct chunk *next;
	size_t n;			/* records used */
	uint64_t since_ns;		/* when its first record was pulled */
	struct wire_record recs[8192];
};

/* What the collector last saw of a ring, to notice idle ones, and its
 * own count of what it consumed (the ring's tail in shared memory is for
 * the producer to read: the program can write it). */
struct ring_seen {
	uint64_t head;
	uint64_t since_ns;	/* when head last moved */
	uint64_t tail;		/* records consumed */
};

/* The rings as the collector laid them out: its own copy, so that no
 * index or count the program can overwrite in the header is ever used. */
struct ring_layout {
	struct wire_ring *rings;
	struct wire_record *records;	/* ring i's are records + i * per_ring */
	uint32_t count;
	uint64_t per_ring;		/* a power of two */
};

/* The cycle collector's state, as read from the interpreter. */
struct python_gc {
	int read;			/* 1 once read */
	int32_t enabled, threshold[3], count[3];
	int64_t collections[3], collected[3], uncollectable[3];
};

struct collector {
	struct collector_options opt;
	struct wire_header *hdr;	/* the shared region */
	struct ring_layout rings;	/* its rings, as we made them */
	struct wiretables tables;	/* its stacks, frames and modules, read safely */
	struct wiretables_cursor warm_cursor;	/* what symwarm has been given */
	uint64_t size;			/* its size */
	int memfd;
	int statm_fd;			/* /proc/PID/statm of the program */
	pid_t pid;

	uint64_t start_ns, now_ns, end_ns;	/* CLOCK_MONOTONIC */
	uint64_t start_unix;			/* wall clock at start, seconds */
	uint64_t next_sample_ns, interval_ns;
	uint64_t last_reclaim_ns;		/* drain side: rings last reclaimed */
	int wait_status;

	/* The drain thread moves records from the rings into chunks; the
	 * caller's thread replays them. Only the drain thread touches ring
	 * tails while it runs. */
	pthread_t drainer;
	int draining;			/* the drain thread runs */
	int stop_draining;		/* atomic: asks it to stop */
	pthread_mutex_t queue_lock;	/* guards the fields below */
	struct chunk *queue_head, *queue_tail;	/* full chunks, oldest first */
	struct chunk *spare;		/* replayed chunks, for reuse */
	size_t nspare;
	uint64_t queued;		/* chunks in the queue */
	struct chunk *filling;		/* the chunk being filled (drainer's) */
	uint64_t pull_ns;		/* when the current pull began (drainer's) */

	struct reorder window;
	struct livetable live;
	uint32_t *site_of_stack;		/* stack id -> index in sites, 0 = none yet */
	struct site_counters *sites;	/* dense; sites[0] is the unknown stack */
	size_t nsites, sites_cap;
	struct ring_seen *ring_seen;	/* indexed by ring */
	uint32_t image;			/* image of the last EXEC replayed */

	/* With --sample-rate these are estimates: each block counts its
	 * profile_sample_weight(); alloc_events counts the records. */
	uint64_t allocations, frees, bytes_allocated, bytes_freed;
	uint64_t alloc_events;		/* allocation records replayed */
	struct profile_size_bucket sizes[PROFILE_SIZE_BUCKETS];	/* allocations by size */
	uint64_t heap_bytes;		/* live bytes now */
	uint64_t heap_blocks;		/* live blocks now */
	uint64_t peak_bytes, peak_blocks, peak_stamp;	/* its time: samples_time_of */
	uint64_t peak_epoch;		/* new peaks so far (site_counters.peak_epoch) */
	struct block_list freed_since_peak;	/* freed after the peak, allocated before */
	/* The chain of run snapshots kept as changes (runsnap.c): the last
	 * one's replayed stamps end at cut_stamp; the blocks it holds that
	 * left since are in gone_since_cut. cut_whole: the next one is whole
	 * (no chain yet, a late record or no memory for gone_since_cut). */
	uint64_t cut_stamp;
	struct block_list gone_since_cut;
	int cut_whole;
	uint64_t temporary;
	uint64_t *recent_stamps;	/* of the last temporary_threshold + 1 allocations */
	uint64_t recent_next;		/* alloc_events % (temporary_threshold + 1), kept
					 * without a division per event */
	uint64_t unknown_frees;		/* frees of addresses never seen allocated */
	uint64_t stale_blocks;		/* live blocks whose address came back: free lost */
	uint64_t skipped_stamps;	/* stamps that never arrived */
	uint64_t late_events;		/* records that came after we gave up on them */
	uint64_t lost_internal;		/* records the collector could not keep (memory) */
	uint64_t exec_released_blocks, exec_released_bytes;
	uint64_t rings_reclaimed;
	uint64_t peak_rss;

	struct profile_sample *samples;
	size_t nsamples, samples_cap;
	/* samples.c: samples whose moment has come, waiting for replay to
	 * reach it: a ring of ndue from due_head; due_stamp is the oldest's
	 * stamp (UINT64_MAX when none), which replay compares with base */
	struct due_sample *due;
	size_t due_head, ndue;
	uint64_t due_stamp;

	struct run_snapshot *snapshots;	/* taken during the run, in order */
	size_t nsnapshots;
	uint64_t next_snapshot_ns;	/* the next --snapshot-every one */
	int pending;			/* a snapshot waits for replay to reach its stamp */
	char pending_name[LIVE_LABEL_MAX];
	uint64_t pending_stamp, pending_ns;

	/* Reachability (collector-scan.c). */
	struct run_snapshot *exit_scan;	/* the scan when the program exited */
	int exit_scan_served;		/* the tracer's request was answered */
	int py_exit_served;		/* and its Python exit snapshot's */
	struct python_gc py_gc;		/* the cycle collector's state at py-exit */
	char scan_error[PROFILE_ERRLEN];	/* why the last scan failed, "" if none */
	int program_reaped;		/* the program ended while stopped: we have its status */
	uint64_t rss_parts_after_ns;	/* a running program's parts read again from then on */
	int program_status;

	struct live_build *live_build;	/* build.c: the live profile's symbols, kept between calls */
	struct collector_build_times build_times;	/* of build.c's last profile */
	char untraced_exec[WIRE_PATH_MAX];	/* what an exec went to, untraced; "" if none */
	struct symwarm *symwarm;	/* reads symbols while the program runs, NULL if not */

	/* The program wrote over what it must not (replay.c): said once by
	 * the caller, kept in the profile; tracing stopped there. */
	int corrupt;			/* atomic: 1 once corrupt_what is written */
	char corrupt_what[PROFILE_ERRLEN];
	uint64_t stamp_limit;		/* the stamp counter when this replay began */

	/* --follow-fork (follow.c): the blocks a forked child started with,
	 * its parent's; sorted by address. Its scans read them as roots. */
	struct scan_block *inherited;
	size_t ninherited;
};

/*
 * Who calls whom, bottom up (no circles: tools/layering.py checks):
 *   samples.c         the timeline; calls none of the others
 *   replay.c          drain and replay; samples on time, taken as their stamps pass
 *   runsnap.c         run snapshots; waits on replay
 *   runload.c         run snapshots made whole again; calls none of the others
 *   collector-scan.c  scans; stops replay's drain thread, keeps run snapshots
 *   build.c           profiles; reads run snapshots
 *   follow.c          the fork table; replays the parent of a child
 *   collector.c       the lifecycle over all of them
 */

/* replay.c: the rest of its work is collector.h's collector_drain and
 * collector_{start,stop}_draining. */
/* Free the chunks, the window, the live table and the sites. */
void replay_release(struct collector *c);
/* Tell the tracer we are alive and drain (the heartbeat), unless the
 * region was found corrupt: then we are stopped for good and say so by
 * not beating. */
void collector_beat(struct collector *c, uint64_t now_ns);
/* The image exec'd: its blocks are gone with it (counted as released). */
void collector_release_image(struct collector *c);
/* What a block of size counts for (its --sample-rate weight). */
static inline struct profile_weight collector_weight(const struct collector *c, uint64_t size)
{
	if (!c->opt.sample_rate)	/* every block recorded: itself, without a call per event */
		return (struct profile_weight){ size, 1 };
	return profile_sample_weight(c->opt.sample_rate, size);
}

/* samples.c */
/* When a sample is due (every interval): read the stamp counter and RSS,
 * and take the heap once replay has every stamp below it (at once, if it
 * has). */
void samples_tick(struct collector *c, uint64_t now_ns);
/* Take the due samples replay has reached (replay.c calls it when
 * window.base reaches due_stamp). */
void samples_take_due(struct collector *c);
/* At the end: the due samples whose stamps never came, then the last one. */
void samples_take_last(struct collector *c, uint64_t now_ns);
/* When stamp was issued (ns since the start), from the samples around it:
 * the peak's time. */
uint64_t samples_time_of(const struct collector *c, uint64_t stamp, uint64_t now_ns);

/* runsnap.c */
/* Copy the live table into s (blocks, nblocks, bytes). Returns 0 or -ENOMEM. */
int collector_copy_live(struct collector *c, struct run_snapshot *s);
/* Append *s to c->snapshots; the copy kept there, or NULL without memory. */
struct run_snapshot *collector_keep_snapshot(struct collector *c, const struct run_snapshot *s);
/* Cut a snapshot named c->pending_name once replay reaches every event so far. */
void collector_schedule_snapshot(struct collector *c);
/* Take up a due periodic snapshot; cut the pending one once replay has
 * caught up with it (or at the end, final). */
void collector_snapshot_tick(struct collector *c, int final);
/* Replay until the pending snapshot's stamp, at most until deadline, and cut it. */
void collector_finish_pending(struct collector *c, uint64_t deadline);
/* Free what a run snapshot holds (not the struct). */
void run_snapshot_release(struct run_snapshot *s);
/* Free every run snapshot, the exit scan's too. */
void run_snapshots_release(struct collector *c);

/* collector-scan.c */
/*
 * Stop the program, catch replay up with it, cut a snapshot of the live
 * blocks and scan them: the heap graph when graph is set, a Python
 * program's objects by type either way. Returns the snapshot (appended to
 * c->snapshots, or kept as c->exit_scan when at_exit), or NULL with
 * c->scan_error set.
 * Called on the thread that started the program (ptrace wants its
 * tracer to be one thread).
 */
struct run_snapshot *collector_scan(struct collector *c, const char *name, int at_exit, int graph);

/* Answer the tracer's request for the exit scan. */
void collector_scan_tick(struct collector *c);
/* The cycle collector's state now, into *out (out->read stays 0 when it
 * cannot be read); the program need not be stopped: only numbers. */
void collector_read_python_gc(const struct collector *c, struct python_gc *out);

/* build.c */
/* Free what collector_write_live keeps between calls. */
void collector_live_release(struct collector *c);
/* Classify the blocks of a scanned run snapshot, each weighed as a sampled
 * run's block stands for (sample_rate 0: itself); 0, or -ENOMEM. */
int collector_scan_kinds(const struct run_snapshot *rs, uint64_t sample_rate, collector_count_kinds_fn *count,
			 struct leak_count kinds[LEAK_KINDS]);

/* How many rings to look at: the tracer's high-water mark, never past the end. */
static inline uint32_t rings_in_use(const struct collector *c)
{
	uint32_t used = __atomic_load_n(&c->hdr->rings_used, __ATOMIC_ACQUIRE);

	return used < c->rings.count ? used : c->rings.count;
}

static inline struct wire_ring *ring_at(const struct collector *c, uint32_t i)
{
	return &c->rings.rings[i < c->rings.count ? i : 0];
}

static inline struct wire_record *ring_records_at(const struct collector *c, uint32_t i)
{
	return c->rings.records + (uint64_t)(i < c->rings.count ? i : 0) * c->rings.per_ring;
}

/* replay.c: the program corrupted the region. The first call keeps what
 * (printf-like), stops the collector for good (the tracer then stops
 * tracing: collector_done) and its draining. */
void collector_corrupted(struct collector *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));


#endif

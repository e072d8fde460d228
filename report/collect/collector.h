/*
 * collector.h - the consumer side of the tracer's shared memory.
 *
 * A collector owns the memfd region the tracer writes into. While the
 * traced program runs, the caller drains it often (collector_drain) and
 * ticks it (collector_tick: heartbeat, timeline, reclaiming rings of dead
 * threads); at the end it turns what it saw into a profile.
 *
 * Events are replayed in the order of their stamps, not in the order the
 * rings deliver them, so a block freed on one thread and reused at once on
 * another is matched exactly (see tracer/wire.h).
 */
#ifndef HEAPWISE_COLLECTOR_H
#define HEAPWISE_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../profile/leak-kinds.h"
#include "../profile/live-channel.h"
#include "../profile/profile.h"

/* Counts a scanned snapshot's blocks by leak kind (analysis/leaks.h's
 * leaks_count): the collector scans but does not judge. */
typedef int collector_count_kinds_fn(const struct profile_snapshot *s, struct leak_count kinds[LEAK_KINDS]);

#define COLLECTOR_MAX_DEPTH	256	/* the most frames a stack can keep */

struct collector_options {
	unsigned max_depth;		/* frames kept per stack, 1..COLLECTOR_MAX_DEPTH */
	unsigned temporary_threshold;	/* "temporary": freed with at most this many allocations between */
	uint64_t sample_interval_ns;	/* timeline period */
	uint64_t snapshot_every_ns;	/* take a snapshot this often, 0 = never */
	int scan_at_exit;		/* scan the heap for leaks when the program exits */
	collector_count_kinds_fn *count_kinds;	/* kinds of a dashboard's scan; NULL: not counted */
	int python_off;			/* --python=off: a Python program is traced as native code */
	int python_native;		/* --native: the Python allocator's events get native frames too */
	uint64_t sample_rate;		/* --sample-rate: mean bytes between recorded allocations, 0 all */
};

#define COLLECTOR_OPTIONS_INIT { COLLECTOR_MAX_DEPTH, 1, 10 * 1000000ull, 0, 1, NULL, 0, 0, 0 }

struct collector;

/* Create the region. Returns 0, or -errno with err filled. */
int collector_new(struct collector **out, const struct collector_options *opt,
		  char err[PROFILE_ERRLEN]);
void collector_free(struct collector *c);

/*
 * In the child, after fork and before exec: this process is the one to
 * trace, and the tracer finds the region through the environment it
 * execs with (HEAPWISE_SHM naming our fd, the parent being the collector).
 * Returns 0 or -ENOMEM. Async-signal-safe but for setenv.
 */
int collector_prepare_child(struct collector *c);

/* The program started (its pid; now, CLOCK_MONOTONIC ns). */
void collector_start(struct collector *c, pid_t pid, uint64_t now_ns);

/*
 * Start the drain thread: from now on it moves records out of the rings
 * (and keeps the heartbeat, and hands rings of exited threads back), so the
 * program never waits on replay. Returns 0 or -errno.
 */
int collector_start_draining(struct collector *c);
void collector_stop_draining(struct collector *c);

/*
 * Replay the records drained so far whose turn has come (without a drain
 * thread, pull them from the rings first). With final set the program is
 * gone: replay everything and count stamps that will never arrive as
 * lost. Returns records replayed.
 */
size_t collector_drain(struct collector *c, int final);

/* Timeline sample when due. */
void collector_tick(struct collector *c, uint64_t now_ns);

/*
 * A scan stops the program with ptrace; if the program ended meanwhile,
 * its wait status was collected there. Returns 1 with *status set then.
 */
int collector_reaped(const struct collector *c, int *status);

/* What the program overwrote that it must not have (tracing stopped
 * there, the program runs on), or NULL: for the caller to say once. */
const char *collector_corruption(const struct collector *c);

/* Why the last scan could not be made, or NULL. */
const char *collector_scan_error(const struct collector *c);

/*
 * Take a snapshot now, named name (NULL or "": snapshot-N), into the
 * profile; with scan, stop the program and scan it for leaks too. Replays
 * until the snapshot is cut (at most a few seconds). Call it on the thread
 * that started the program. Returns 0 with *info filled, -EBUSY when
 * another snapshot is being taken, or another -errno; err says why.
 */
int collector_snapshot_now(struct collector *c, const char *name, int scan,
			   struct live_snapshot_info *info, char err[PROFILE_ERRLEN]);

/*
 * Write the profile as it is now into fd (a fresh memfd) for a dashboard:
 * totals, sites with live counters, the timeline (at most 1024 points),
 * no snapshots; meta is NULL or key, value, ..., NULL. Call it before
 * collector_build_profile. Returns 0 or -errno with err filled.
 */
int collector_write_live(struct collector *c, int fd, const char *const *meta, char err[PROFILE_ERRLEN]);

/* The program's pid; its wait status once collector_finish was called. */
pid_t collector_pid(const struct collector *c);
int collector_wait_status(const struct collector *c);

/* Did the tracer ever attach? How many images did (exec adds one)? */
int collector_attached(const struct collector *c);
unsigned collector_images(const struct collector *c);
/* Why an image could not map the region (an errno; ENOMEM: its
 * address-space limit), or 0. */
int collector_attach_errno(const struct collector *c);

/*
 * Did the program exec an image heapwise could not trace (static,
 * set-user-ID, or started without LD_PRELOAD, as `env -i` does)? Then 1,
 * with what it exec'd in buf (as the program named it); else 0. Known
 * once collector_finish was called, which then also releases the blocks of
 * the image that exec'd.
 */
int collector_untraced_exec(const struct collector *c, char *buf, size_t len);

/*
 * --follow-fork (follow.c). The first collector's region holds the fork
 * table, where every other process of the tree that is to be traced asks
 * for a region of its own (tracer/wire.h); the caller makes each one a
 * collector of its own.
 */
void collector_follow_forks(struct collector *c);

struct collector_child_request {
	unsigned slot;		/* in the fork table */
	pid_t pid, ppid;
	uint64_t fork_stamp;	/* the parent region's stamp at the fork; 0: an exec'd image */
};

/* The next process waiting in c's fork table, checked: a live descendant
 * of ancestor that no other slot names (requests that fail are refused
 * here). 1 with *req filled, 0 when none waits. */
int collector_next_child(struct collector *c, pid_t ancestor, struct collector_child_request *req);

/* child (collector_new'd) is to trace pid, which is not our child and finds
 * the region through the fork table. */
void collector_adopt(struct collector *child, pid_t pid);

/* A forked child starts with its parent's heap: replay parent up to the
 * fork (at most a second) and keep the blocks it had then as the child's
 * inheritance, roots of its scans. Returns 0 or -ENOMEM. */
int collector_inherit(struct collector *child, struct collector *parent, uint64_t fork_stamp);

/* Hand the waiting process child's region, or refuse it (child NULL).
 * Returns 0, or -1 when it stopped waiting (child is then not in use). */
int collector_answer_child(struct collector *c, const struct collector_child_request *req,
			   struct collector *child);

/* The process of a slot is gone: the slot is free again. */
void collector_release_child(struct collector *c, unsigned slot);

/* Processes that found the fork table full and ran untraced. */
unsigned collector_children_refused(const struct collector *c);

/* Stop for good: a tracer still waiting for ring space gives up at once. */
void collector_done(struct collector *c);

/* The program ended (wait status, peak RSS from rusage in bytes, now). */
void collector_finish(struct collector *c, int wait_status, uint64_t maxrss_bytes, uint64_t now_ns);

/* Where collector_build_profile's time went (for HEAPWISE_DEBUG). */
struct collector_build_times {
	size_t frames;			/* frames symbolized */
	uint64_t symbolize_ns;		/* symbolizing the stacks */
	uint64_t snapshots_ns;		/* cutting the peak and exit snapshots */
	int side_by_side;		/* the two ran on two threads */
};

/* What the last collector_build_profile took. */
void collector_build_times(const struct collector *c, struct collector_build_times *t);

/* Fill p (profile_init'ed by the caller) with totals, symbolized stacks,
 * sites, timeline and the peak and exit snapshots. It uses up the live set
 * (released once copied out, to keep heapwise small): call it once, last. */
int collector_build_profile(struct collector *c, struct profile *p, char err[PROFILE_ERRLEN]);

#endif

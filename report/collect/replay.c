/*
 * replay.c - drain the tracer's rings and replay events in stamp order.
 *
 * Overview. Each traced thread writes records into its own ring. A drain
 * thread copies every delivered record out at once into chunks (so
 * producers never wait on our processing, however long a replay step
 * takes); the caller's thread moves chunks into a reorder window indexed
 * by stamp, then replays the window from the lowest stamp not yet replayed
 * for as long as stamps are contiguous. A missing stamp is an event some thread stamped
 * but has not published yet; we wait for it, up to GAP_TIMEOUT_NS, and at
 * the end of the run (final drain) we count it as lost.
 *
 * Replaying maintains the live table, per-stack counters, the heap peak,
 * and what is needed to rebuild the live set at the peak without copying it
 * each time the peak moves: every block freed after the peak that was
 * allocated before it is remembered ("freed since peak"); a new peak
 * forgets them. The peak snapshot is then the live blocks allocated before
 * the peak plus that list.
 *
 * This file does not print.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>

#include "../../tracer/wire.h"
#include "../util/clock.h"
#include "../util/thread.h"
#include "collector-internal.h"
#include "collector.h"

#define GAP_TIMEOUT_NS		(2ull * 1000000000ull)
#define RECLAIM_PERIOD_NS	(50ull * 1000000ull)
#define IDLE_PROBE_NS		(500ull * 1000000ull)
#define MAX_QUEUED		64		/* chunks waiting for replay before we stop pulling */
#define MAX_SPARE		16		/* replayed chunks kept for reuse */
#define PARTIAL_AGE_NS		(20ull * 1000000ull)	/* a part-filled chunk waits at most this */
#define FREED_KEEP		65536		/* entries of the freed-since-peak list kept over a new peak */
#define DRAIN_BUSY		16384		/* records per pull above which we pull again at once */
#define DRAIN_NAP_NS		1000000		/* between pulls: a quarter of a ring at 16M events/s */
#define WINDOW_MAX		(1u << 24)	/* records the reorder window holds at most (512 MiB) */
#define STAMP_AHEAD_MAX		(1ull << 32)	/* no run has this many events in flight at once */

/* ------------------------------------------------------------------ */
/* The program wrote where it must not                                 */
/* ------------------------------------------------------------------ */

void collector_corrupted(struct collector *c, const char *fmt, ...)
{
	static pthread_mutex_t once = PTHREAD_MUTEX_INITIALIZER;
	va_list ap;

	pthread_mutex_lock(&once);
	if (!__atomic_load_n(&c->corrupt, __ATOMIC_ACQUIRE)) {
		va_start(ap, fmt);
		vsnprintf(c->corrupt_what, sizeof(c->corrupt_what), fmt, ap);
		va_end(ap);
		__atomic_store_n(&c->corrupt, 1, __ATOMIC_RELEASE);
		/* the tracer sees us gone at its next wait and stops tracing */
		__atomic_store_n(&c->hdr->collector_done, 1, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&once);
}

const char *collector_corruption(const struct collector *c)
{
	return __atomic_load_n(&c->corrupt, __ATOMIC_ACQUIRE) ? c->corrupt_what : NULL;
}

/* ------------------------------------------------------------------ */
/* Replaying events                                                    */
/* ------------------------------------------------------------------ */

static int remember(struct block_list *l, const struct live_block *b)
{
	if (l->len == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		struct live_block *n = realloc(l->items, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->items = n;
		l->cap = cap;
	}
	l->items[l->len++] = *b;
	return 0;
}

/*
 * A new peak: the blocks freed since the old one count no more. A large
 * list gives its memory back: the new peak is when the program holds the
 * most, so that is when ours should be least.
 */
static void forget_freed(struct block_list *l)
{
	if (l->cap > FREED_KEEP) {
		free(l->items);
		*l = (struct block_list){ NULL, 0, 0 };
	}
	l->len = 0;
}

/* The counters of a stack id, created on its first allocation; NULL
 * only when out of memory. */
static struct site_counters *site_for(struct collector *c, uint32_t stack)
{
	uint32_t i = c->site_of_stack[stack];

	if (i || stack == 0)
		return &c->sites[i];
	if (c->nsites == c->sites_cap) {
		struct site_counters *n = realloc(c->sites, c->sites_cap * 2 * sizeof(*n));

		if (!n)
			return NULL;
		c->sites = n;
		c->sites_cap *= 2;
	}
	i = (uint32_t)c->nsites++;
	memset(&c->sites[i], 0, sizeof(c->sites[i]));
	c->sites[i].stack = stack;
	c->site_of_stack[stack] = i;
	return &c->sites[i];
}

/* A block leaves the live set (freed, or dropped at exec). */
static void block_gone(struct collector *c, const struct live_block *b)
{
	struct site_counters *s = &c->sites[c->site_of_stack[b->stack]];
	struct profile_weight w = collector_weight(c, b->size);

	s->live_blocks -= w.blocks;
	s->live_bytes -= w.bytes;
	c->heap_bytes -= w.bytes;
	c->heap_blocks -= w.blocks;
	if (b->stamp <= c->peak_stamp && remember(&c->freed_since_peak, b) < 0)
		c->lost_internal++;
	/* in the last run snapshot kept as changes: the next one says it left */
	if (!c->cut_whole && b->stamp <= c->cut_stamp && remember(&c->gone_since_cut, b) < 0)
		c->cut_whole = 1;
}

static void replay_alloc(struct collector *c, const struct wire_record *r)
{
	struct live_block b = {
		.addr = r->addr, .size = r->size, .stamp = r->stamp,
		.stack = r->stack <= wiretables_stack_slots(&c->tables) ? r->stack : 0,
	};
	unsigned bucket = profile_size_bucket(r->size);
	struct profile_weight w;
	struct site_counters *s;
	int ret;

	if (r->size > LIVE_MAX_SIZE) {
		/* larger than the table records: a 8 TiB block, say so */
		c->lost_internal++;
		return;
	}
	s = site_for(c, b.stack);
	ret = s ? livetable_insert(&c->live, &b) : -ENOMEM;
	if (ret == -EEXIST) {
		/* its free never came (lost): the address is reused, so it is gone */
		struct live_block *old = livetable_find(&c->live, b.addr);

		block_gone(c, old);
		c->stale_blocks++;
		*old = b;
	} else if (ret < 0) {
		c->lost_internal++;
		return;
	}
	w = collector_weight(c, b.size);
	s->allocations += w.blocks;
	s->bytes_allocated += w.bytes;
	if (s->peak_epoch != c->peak_epoch) {
		s->peak_epoch = c->peak_epoch;
		s->after_peak_allocations = s->after_peak_bytes = 0;
	}
	s->after_peak_allocations += w.blocks;
	s->after_peak_bytes += w.bytes;
	s->live_blocks += w.blocks;
	s->live_bytes += w.bytes;
	c->recent_stamps[c->recent_next] = b.stamp;
	c->recent_next = c->recent_next == c->opt.temporary_threshold ? 0 : c->recent_next + 1;
	c->sizes[bucket].count += w.blocks;
	c->sizes[bucket].bytes += w.bytes;
	c->alloc_events++;
	c->allocations += w.blocks;
	c->bytes_allocated += w.bytes;
	c->heap_bytes += w.bytes;
	c->heap_blocks += w.blocks;
	/* the most bytes; of equal bytes, the most blocks (malloc(0) has a peak) */
	if (c->heap_bytes > c->peak_bytes || (c->heap_bytes == c->peak_bytes && c->heap_blocks > c->peak_blocks)) {
		c->peak_bytes = c->heap_bytes;
		c->peak_blocks = c->heap_blocks;
		c->peak_stamp = b.stamp;
		c->peak_epoch++;	/* every site's after-peak counts start again */
		forget_freed(&c->freed_since_peak);
	}
}

/*
 * Freed with at most temporary_threshold allocations after it? The last
 * threshold + 1 allocation stamps are kept; the block qualifies when it is
 * no older than the first of them, the one the next allocation replaces.
 */
static int is_temporary(const struct collector *c, const struct live_block *b)
{
	if (c->alloc_events <= (uint64_t)c->opt.temporary_threshold + 1)
		return 1;
	return b->stamp >= c->recent_stamps[c->recent_next];
}

static void replay_free(struct collector *c, const struct wire_record *r)
{
	struct site_counters *site;
	struct profile_weight w;
	struct live_block b;

	if (livetable_remove(&c->live, r->addr, &b) < 0) {
		c->unknown_frees++;
		return;
	}
	w = collector_weight(c, b.size);
	c->frees += w.blocks;
	c->bytes_freed += w.bytes;
	site = &c->sites[c->site_of_stack[b.stack]];
	site->frees += w.blocks;
	if (!c->opt.sample_rate && is_temporary(c, &b)) {	/* unknowable from a sample */
		c->temporary += w.blocks;
		site->temporary += w.blocks;
	}
	block_gone(c, &b);
}

/* A new image replaced the old one: the old heap is gone with it. */
static void replay_exec(struct collector *c, const struct wire_record *r)
{
	c->image = (uint32_t)r->addr;
	if (c->image > 1)
		collector_release_image(c);
}

void collector_release_image(struct collector *c)
{
	struct live_block *b;
	size_t pos = 0;

	while ((b = livetable_next(&c->live, &pos))) {
		struct profile_weight w = collector_weight(c, b->size);

		c->exec_released_blocks += w.blocks;
		c->exec_released_bytes += w.bytes;
		block_gone(c, b);
	}
	livetable_clear(&c->live);
}

static void replay(struct collector *c, const struct wire_record *r)
{
	switch (r->kind) {
	case WIRE_REC_ALLOC:
		replay_alloc(c, r);
		break;
	case WIRE_REC_FREE:
		replay_free(c, r);
		break;
	case WIRE_REC_EXEC:
		replay_exec(c, r);
		break;
	default:
		break;	/* NOP, or a kind this collector does not know */
	}
}

/* ------------------------------------------------------------------ */
/* The reorder window                                                  */
/* ------------------------------------------------------------------ */

/*
 * Move the window's base to `base`, replaying in order what it holds below
 * and counting the stamps it lacks there as lost: a stamp too far ahead
 * for the window means the ones behind will not come in time.
 */
static void window_skip_to(struct collector *c, uint64_t base)
{
	struct reorder *w = &c->window;

	for (size_t n = 0; w->base < base && w->pending && n < w->capacity; n++) {
		struct wire_record *slot = &w->slots[w->base & (w->capacity - 1)];

		if (slot->stamp == w->base) {
			replay(c, slot);
			slot->stamp = 0;
			w->pending--;
		} else {
			c->skipped_stamps++;
		}
		w->base++;
	}
	if (w->base < base) {
		c->skipped_stamps += base - w->base;
		w->base = base;
	}
	w->gap_since_ns = 0;
}

/* Make the window hold stamps up to `stamp`, growing it up to WINDOW_MAX. */
static int window_reserve(struct collector *c, uint64_t stamp)
{
	struct reorder *w = &c->window;
	size_t cap = w->capacity ? w->capacity : 65536;
	struct wire_record *slots;

	if (stamp - w->base < w->capacity)
		return 0;
	while (stamp - w->base >= cap && cap < WINDOW_MAX)
		cap *= 2;
	if (stamp - w->base >= cap)
		window_skip_to(c, stamp - cap + 1);
	if (cap == w->capacity)
		return 0;
	slots = calloc(cap, sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < w->capacity; i++)
		if (w->slots[i].stamp)
			slots[w->slots[i].stamp & (cap - 1)] = w->slots[i];
	free(w->slots);
	w->slots = slots;
	w->capacity = cap;
	return 0;
}

static void window_put(struct collector *c, const struct wire_record *r)
{
	struct reorder *w = &c->window;
	struct wire_record *slot;

	if (r->stamp == 0 || r->stamp >= c->stamp_limit) {
		/* every stamp was taken from the counter before its record was published */
		collector_corrupted(c, "a record carries stamp %llu, the counter was at %llu",
				    (unsigned long long)r->stamp, (unsigned long long)c->stamp_limit);
		return;
	}
	if (r->stamp >= w->base && r->stamp - w->base > STAMP_AHEAD_MAX) {
		collector_corrupted(c, "a record carries stamp %llu, %llu past the last replayed",
				    (unsigned long long)r->stamp, (unsigned long long)(r->stamp - w->base));
		return;
	}
	if (r->stamp < w->base) {
		/* arrived after we gave up waiting for it, and counted it
		 * skipped: it is not lost, only replayed out of order */
		c->late_events++;
		if (c->skipped_stamps)
			c->skipped_stamps--;
		c->cut_whole = 1;	/* behind the last cut: the next one cannot be told as changes */
		replay(c, r);
		return;
	}
	if (window_reserve(c, r->stamp) < 0) {
		c->lost_internal++;
		return;
	}
	slot = &w->slots[r->stamp & (w->capacity - 1)];
	if (slot->stamp == r->stamp) {
		collector_corrupted(c, "two records carry stamp %llu", (unsigned long long)r->stamp);
		return;
	}
	*slot = *r;
	w->pending++;
}

/* How far ahead of replay the live-table slots are prefetched: the table is
 * far larger than the caches, and each lookup would otherwise wait on memory. */
#define PREFETCH_AHEAD	12

/* Replay contiguous stamps; on a gap wait, or skip it when final or stale. */
static void window_replay(struct collector *c, int final)
{
	struct reorder *w = &c->window;

	while (w->pending) {
		struct wire_record *slot = &w->slots[w->base & (w->capacity - 1)];
		struct wire_record *ahead = &w->slots[(w->base + PREFETCH_AHEAD) & (w->capacity - 1)];

		if (ahead->stamp == w->base + PREFETCH_AHEAD) {
			livetable_prefetch(&c->live, ahead->addr);
			if (ahead->kind == WIRE_REC_ALLOC && ahead->stack <= wiretables_stack_slots(&c->tables))
				__builtin_prefetch(&c->site_of_stack[ahead->stack]);
		}
		if (slot->stamp == w->base) {
			replay(c, slot);
			slot->stamp = 0;
			w->base++;
			w->pending--;
			w->gap_since_ns = 0;
			if (w->base >= c->due_stamp)
				samples_take_due(c);
			continue;
		}
		/* stamp w->base is still in flight. The clock is read here, not
		 * taken from c->now_ns: that is the caller's loop's, and can be
		 * seconds old after a long replay or a snapshot, which would time
		 * the gap out the moment it is seen. */
		if (!final) {
			uint64_t now = monotonic_ns();

			if (!w->gap_since_ns)
				w->gap_since_ns = now;
			if (now - w->gap_since_ns < GAP_TIMEOUT_NS)
				return;
		}
		c->skipped_stamps++;
		w->base++;
		if (w->base >= c->due_stamp)
			samples_take_due(c);
	}
}

/* ------------------------------------------------------------------ */
/* Draining                                                            */
/* ------------------------------------------------------------------ */

static void drain_step(struct collector *c, uint64_t now, size_t *pulled);

/* A chunk to fill: a spare one if any. NULL when out of memory. */
static struct chunk *get_chunk(struct collector *c)
{
	struct chunk *k;

	pthread_mutex_lock(&c->queue_lock);
	k = c->spare;
	if (k) {
		c->spare = k->next;
		c->nspare--;
	}
	pthread_mutex_unlock(&c->queue_lock);
	if (!k)
		k = malloc(sizeof(*k));
	if (k) {
		k->next = NULL;
		k->n = 0;
		k->since_ns = 0;
	}
	return k;
}

static void queue_chunk(struct collector *c, struct chunk *k)
{
	pthread_mutex_lock(&c->queue_lock);
	if (c->queue_tail)
		c->queue_tail->next = k;
	else
		c->queue_head = k;
	c->queue_tail = k;
	c->queued++;
	pthread_mutex_unlock(&c->queue_lock);
}

/* Copy what ring i published into chunks and hand the space back. */
static size_t pull_ring(struct collector *c, uint32_t i)
{
	struct wire_ring *r = ring_at(c, i);
	struct wire_record *recs = ring_records_at(c, i);
	uint64_t size = c->rings.per_ring, mask = size - 1;
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	uint64_t tail = c->ring_seen[i].tail;
	uint64_t t = tail;

	if (head - tail > size) {
		/* never read past the ring, nor wait on a head that cannot be */
		collector_corrupted(c, "ring %u's head is %llu, %llu records past what it holds", i,
				    (unsigned long long)head, (unsigned long long)(head - tail - size));
		return 0;
	}
	while (t < head) {
		struct chunk *k = c->filling;
		uint64_t n = head - t, room, first;

		if (!k || k->n == sizeof(k->recs) / sizeof(k->recs[0])) {
			if (k)
				queue_chunk(c, k);
			k = c->filling = get_chunk(c);
			if (!k)
				break;	/* leave the rest in the ring: the producer waits */
		}
		if (!k->n)
			k->since_ns = c->pull_ns;
		room = sizeof(k->recs) / sizeof(k->recs[0]) - k->n;
		if (n > room)
			n = room;
		first = t & mask;
		if (n > size - first)
			n = size - first;	/* up to the ring's end; the rest next turn */
		memcpy(&k->recs[k->n], &recs[first], n * sizeof(*recs));
		k->n += n;
		t += n;
	}
	c->ring_seen[i].tail = t;
	__atomic_store_n(&r->tail, t, __ATOMIC_SEQ_CST);
	if (t != tail && __atomic_load_n(&r->waiting, __ATOMIC_SEQ_CST)) {
		/* its producer sleeps until we made room */
		__atomic_add_fetch(&r->wake, 1, __ATOMIC_RELEASE);
		syscall(SYS_futex, &r->wake, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
	}
	return (size_t)(t - tail);
}

/*
 * Pull every ring once and queue the chunks filled. A part-filled chunk
 * is queued too when asked (flush), when the rings were idle, or when it
 * has waited PARTIAL_AGE_NS; otherwise it fills on: queuing a chunk per
 * pull would spend a chunk's memory on a few records. Returns records
 * pulled.
 */
static size_t pull_rings(struct collector *c, uint64_t now, int flush)
{
	uint32_t used = rings_in_use(c);
	struct chunk *k;
	size_t n = 0;

	c->pull_ns = now;
	for (uint32_t i = 0; i < used && !__atomic_load_n(&c->corrupt, __ATOMIC_RELAXED); i++) {
		struct wire_ring *r = ring_at(c, i);

		if (__atomic_load_n(&r->state, __ATOMIC_ACQUIRE) != WIRE_RING_FREE)
			n += pull_ring(c, i);
	}
	k = c->filling;
	if (k && k->n && (flush || !n || now - k->since_ns >= PARTIAL_AGE_NS)) {
		queue_chunk(c, k);
		c->filling = NULL;
	}
	return n;
}

size_t collector_drain(struct collector *c, int final)
{
	struct chunk *list, *k;
	size_t n = 0;

	if (!c->draining)
		drain_step(c, c->now_ns, NULL);	/* no drain thread: its work is ours */
	pthread_mutex_lock(&c->queue_lock);
	list = c->queue_head;
	c->queue_head = c->queue_tail = NULL;
	c->queued = 0;
	pthread_mutex_unlock(&c->queue_lock);
	/* every record in the list was stamped below the counter as it is now;
	 * read before taking the list, the drain thread could queue records
	 * stamped since (a false "corrupted") */
	c->stamp_limit = __atomic_load_n(&c->hdr->stamp, __ATOMIC_ACQUIRE);

	for (k = list; k; k = k->next) {
		/* what was pulled is kept, the records found bad left out */
		for (size_t i = 0; i < k->n; i++)
			window_put(c, &k->recs[i]);
		n += k->n;
		/* replay as we go, so the window stays small; a long replay
		 * still samples the timeline on time */
		window_replay(c, 0);
		samples_tick(c, monotonic_ns());
	}
	window_replay(c, final);
	while ((k = list)) {
		list = k->next;
		pthread_mutex_lock(&c->queue_lock);
		if (c->nspare < MAX_SPARE) {
			k->next = c->spare;
			c->spare = k;
			c->nspare++;
			k = NULL;
		}
		pthread_mutex_unlock(&c->queue_lock);
		free(k);
	}
	return n;
}

/* ------------------------------------------------------------------ */
/* Threads gone, rings back                                            */
/* ------------------------------------------------------------------ */

static int thread_gone(const struct collector *c, int tid)
{
	return tid > 0 && syscall(SYS_tgkill, c->pid, tid, 0) < 0 && errno == ESRCH;
}

/* Hand rings of exited threads (or of an image exec replaced) back. */
static void reclaim_rings(struct collector *c, uint64_t now)
{
	uint32_t image = __atomic_load_n(&c->hdr->image, __ATOMIC_ACQUIRE);
	uint32_t used = rings_in_use(c);

	for (uint32_t i = 1; i < used; i++) {
		struct wire_ring *r = ring_at(c, i);
		struct ring_seen *seen = &c->ring_seen[i];
		uint32_t state = __atomic_load_n(&r->state, __ATOMIC_ACQUIRE);
		uint64_t head;
		int gone = 0;

		if (state != WIRE_RING_OWNED && state != WIRE_RING_EXITING)
			continue;
		head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
		if (head != seen->head) {
			seen->head = head;
			seen->since_ns = now;
		}
		if (r->image < image)
			gone = 1;
		else if (state == WIRE_RING_EXITING ||
			 now - seen->since_ns > IDLE_PROBE_NS)
			gone = thread_gone(c, r->tid);
		if (!gone)
			continue;
		pull_ring(c, i);	/* whatever it published before dying */
		__atomic_store_n(&r->head, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&r->tail, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&r->waiting, 0, __ATOMIC_RELAXED);
		seen->head = seen->tail = 0;
		__atomic_store_n(&r->state, WIRE_RING_FREE, __ATOMIC_RELEASE);
		c->rings_reclaimed++;
	}
}

/* ------------------------------------------------------------------ */
/* The drain thread                                                    */
/* ------------------------------------------------------------------ */

void collector_beat(struct collector *c, uint64_t now_ns)
{
	if (!__atomic_load_n(&c->corrupt, __ATOMIC_ACQUIRE))
		__atomic_store_n(&c->hdr->heartbeat_ns, now_ns, __ATOMIC_RELEASE);
}

/*
 * One round of the drain thread's work: beat, pull (unless too much waits
 * for replay, so that a slow replay turns into backpressure instead of
 * unbounded memory), and now and then reclaim rings. *pulled, if given,
 * gets the records pulled.
 */
static void drain_step(struct collector *c, uint64_t now, size_t *pulled)
{
	size_t n = 0;
	int full;

	if (__atomic_load_n(&c->corrupt, __ATOMIC_ACQUIRE)) {
		/* stopped for good: no heartbeat, nothing pulled; what was pulled is kept */
		if (c->filling && c->filling->n) {
			queue_chunk(c, c->filling);
			c->filling = NULL;
		}
		if (pulled)
			*pulled = 0;
		return;
	}
	collector_beat(c, now);
	pthread_mutex_lock(&c->queue_lock);
	full = c->queued >= MAX_QUEUED;
	pthread_mutex_unlock(&c->queue_lock);
	if (!full)
		n = pull_rings(c, now, !c->draining);
	if (now - c->last_reclaim_ns >= RECLAIM_PERIOD_NS) {
		reclaim_rings(c, now);
		c->last_reclaim_ns = now;
	}
	if (pulled)
		*pulled = n;
}

/*
 * The drain thread: drain_step, then nap. It pauses between pulls so
 * that it reads the rings in batches (chasing each record as it is written
 * would pull the producer's cache lines away on every write), and long
 * enough that its wake-ups are rare: when every core is busy, each one
 * takes a core from the program or from replay (waking every 200 us cost
 * make bench's workload (a) 8% of its time on two cores).
 */
static void *drain_thread(void *arg)
{
	struct collector *c = arg;

	while (!__atomic_load_n(&c->stop_draining, __ATOMIC_ACQUIRE)) {
		struct timespec nap;
		size_t n;

		drain_step(c, monotonic_ns(), &n);
		if (n >= DRAIN_BUSY)
			continue;
		nap = (struct timespec){ 0, DRAIN_NAP_NS };
		nanosleep(&nap, NULL);
	}
	return NULL;
}

int collector_start_draining(struct collector *c)
{
	int ret;

	if (c->draining)
		return 0;
	__atomic_store_n(&c->stop_draining, 0, __ATOMIC_RELEASE);	/* it may run again after a scan */
	ret = thread_start_quiet(&c->drainer, drain_thread, c);
	if (ret)
		return -ret;
	c->draining = 1;
	return 0;
}

void collector_stop_draining(struct collector *c)
{
	if (!c->draining)
		return;
	__atomic_store_n(&c->stop_draining, 1, __ATOMIC_RELEASE);
	pthread_join(c->drainer, NULL);
	c->draining = 0;
}

static void free_chunks(struct chunk *k)
{
	while (k) {
		struct chunk *next = k->next;

		free(k);
		k = next;
	}
}

void replay_release(struct collector *c)
{
	free_chunks(c->queue_head);
	free_chunks(c->spare);
	free(c->filling);
	pthread_mutex_destroy(&c->queue_lock);
	livetable_release(&c->live);
	free(c->window.slots);
	free(c->freed_since_peak.items);
	free(c->gone_since_cut.items);
	free(c->site_of_stack);
	free(c->sites);
	free(c->recent_stamps);
}

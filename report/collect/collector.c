/*
 * collector.c - drain the tracer's rings and replay events in stamp order.
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
 * This file does not print; the profile is built in build.c.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include "../../tracer/wire.h"
#include "../symbols/symbols.h"
#include "../symbols/symwarm.h"
#include "../util/clock.h"
#include "../util/thread.h"
#include "collector-internal.h"
#include "collector.h"

#define RING_COUNT		512
#define RING_RECORDS		65536		/* 2 MiB per ring, touched only as used */
#define STACK_SLOTS		(1u << 20)	/* ids 1..STACK_SLOTS must fit LIVE_MAX_STACK */
#define FRAME_CAPACITY		(1ull << 23)
#define MODULE_CAPACITY		4096
#define GAP_TIMEOUT_NS		(2ull * 1000000000ull)
#define RECLAIM_PERIOD_NS	(50ull * 1000000ull)
#define IDLE_PROBE_NS		(500ull * 1000000ull)
#define MAX_SAMPLES		20000
#define MAX_QUEUED		64		/* chunks waiting for replay before we stop pulling */
#define MAX_SPARE		16		/* replayed chunks kept for reuse */
#define PARTIAL_AGE_NS		(20ull * 1000000ull)	/* a part-filled chunk waits at most this */
#define FREED_KEEP		65536		/* entries of the freed-since-peak list kept over a new peak */
#define DRAIN_BUSY		16384		/* records per pull above which we pull again at once */
#define DRAIN_NAP_NS		1000000		/* between pulls: a quarter of a ring at 16M events/s */

_Static_assert(STACK_SLOTS <= LIVE_MAX_STACK, "stack ids must fit a live_block");

static int fail(char err[PROFILE_ERRLEN], int ret, const char *what)
{
	snprintf(err, PROFILE_ERRLEN, "%s: %s", what, strerror(-ret));
	return ret;
}

/* ------------------------------------------------------------------ */
/* The region                                                          */
/* ------------------------------------------------------------------ */

int collector_new(struct collector **out, const struct collector_options *opt,
		  char err[PROFILE_ERRLEN])
{
	struct collector *c = calloc(1, sizeof(*c));
	struct wire_header *h;
	uint64_t rings_off, records_off;
	int ret;

	if (!c)
		return fail(err, -ENOMEM, "cannot set up the collector");
	c->opt = *opt;
	c->memfd = -1;
	c->statm_fd = -1;

	rings_off = 4096;
	records_off = rings_off + RING_COUNT * sizeof(struct wire_ring);
	records_off = (records_off + 4095) & ~4095ull;
	c->size = records_off + (uint64_t)RING_COUNT * RING_RECORDS * sizeof(struct wire_record);
	uint64_t stacks_off = c->size;
	c->size += (uint64_t)STACK_SLOTS * sizeof(struct wire_stack);
	uint64_t frames_off = c->size;
	c->size += FRAME_CAPACITY * sizeof(uint64_t);
	uint64_t modules_off = c->size;
	c->size += (uint64_t)MODULE_CAPACITY * sizeof(struct wire_module);
	c->size = (c->size + 4095) & ~4095ull;

	c->memfd = memfd_create("heapwise", MFD_CLOEXEC);
	if (c->memfd < 0) {
		ret = fail(err, -errno, "cannot create shared memory (memfd_create)");
		goto fail;
	}
	if (ftruncate(c->memfd, (off_t)c->size) < 0) {
		ret = fail(err, -errno, "cannot size shared memory");
		goto fail;
	}
	c->hdr = mmap(NULL, c->size, PROT_READ | PROT_WRITE, MAP_SHARED, c->memfd, 0);
	if (c->hdr == MAP_FAILED) {
		c->hdr = NULL;
		ret = fail(err, -errno, "cannot map shared memory");
		goto fail;
	}
	h = c->hdr;
	h->version = WIRE_VERSION;
	h->max_depth = opt->max_depth;
	h->total_size = c->size;
	h->ring_count = RING_COUNT;
	h->ring_records = RING_RECORDS;
	h->rings_offset = rings_off;
	h->records_offset = records_off;
	h->stacks_offset = stacks_off;
	h->stack_slots = STACK_SLOTS;
	h->frames_offset = frames_off;
	h->frame_capacity = FRAME_CAPACITY;
	h->modules_offset = modules_off;
	h->module_capacity = MODULE_CAPACITY;
	h->collector_pid = getpid();
	h->scan_at_exit = opt->scan_at_exit ? 1 : 0;
	h->traced_pid = -1;
	h->stamp = 1;
	wire_ring_at(h, 0)->state = WIRE_RING_OWNED;	/* the shared ring is never claimed */
	h->rings_used = 1;
	__atomic_store_n(&h->magic, WIRE_MAGIC, __ATOMIC_RELEASE);

	c->ring_seen = calloc(RING_COUNT, sizeof(*c->ring_seen));
	c->site_of_stack = calloc(STACK_SLOTS + 1, sizeof(*c->site_of_stack));
	c->sites_cap = 1024;
	c->sites = calloc(c->sites_cap, sizeof(*c->sites));
	c->nsites = 1;		/* sites[0]: allocations with no stack */
	c->recent_stamps = calloc((size_t)c->opt.temporary_threshold + 1, sizeof(*c->recent_stamps));
	if (!c->ring_seen || !c->site_of_stack || !c->sites || !c->recent_stamps) {
		ret = fail(err, -ENOMEM, "cannot set up the collector");
		goto fail;
	}
	c->window.base = 1;
	pthread_mutex_init(&c->queue_lock, NULL);
	*out = c;
	return 0;
fail:
	collector_free(c);
	return ret;
}

static void free_chunks(struct chunk *k)
{
	while (k) {
		struct chunk *next = k->next;

		free(k);
		k = next;
	}
}

void collector_free(struct collector *c)
{
	if (!c)
		return;
	collector_stop_draining(c);
	free_chunks(c->queue_head);
	free_chunks(c->spare);
	free(c->filling);
	pthread_mutex_destroy(&c->queue_lock);
	if (c->hdr)
		munmap(c->hdr, c->size);
	if (c->memfd >= 0)
		close(c->memfd);
	if (c->statm_fd >= 0)
		close(c->statm_fd);
	collector_live_release(c);
	symbolizer_free(symwarm_finish(c->symwarm));
	livetable_release(&c->live);
	free(c->window.slots);
	free(c->freed_since_peak.items);
	free(c->samples);
	free(c->ring_seen);
	free(c->site_of_stack);
	free(c->sites);
	free(c->recent_stamps);
	for (size_t i = 0; i < c->nsnapshots; i++)
		run_snapshot_release(&c->snapshots[i]);
	free(c->snapshots);
	if (c->exit_scan) {
		run_snapshot_release(c->exit_scan);
		free(c->exit_scan);
	}
	free(c);
}

int collector_fd(const struct collector *c)
{
	return c->memfd;
}

void collector_mark_traced(struct collector *c, pid_t pid)
{
	__atomic_store_n(&c->hdr->traced_pid, pid, __ATOMIC_RELEASE);
}

void collector_start(struct collector *c, pid_t pid, uint64_t now_ns)
{
	char path[64];

	c->pid = pid;
	c->start_ns = now_ns;
	c->start_unix = (uint64_t)time(NULL);
	c->now_ns = now_ns;
	c->next_sample_ns = now_ns;
	c->interval_ns = c->opt.sample_interval_ns;
	c->next_snapshot_ns = now_ns + c->opt.snapshot_every_ns;
	snprintf(path, sizeof(path), "/proc/%d/statm", (int)pid);
	c->statm_fd = open(path, O_RDONLY | O_CLOEXEC);
	__atomic_store_n(&c->hdr->heartbeat_ns, now_ns, __ATOMIC_RELEASE);
	if (!c->symwarm)
		c->symwarm = symwarm_start(c->hdr);
}

int collector_attached(const struct collector *c)
{
	return __atomic_load_n(&c->hdr->image, __ATOMIC_ACQUIRE) > 0;
}

void collector_done(struct collector *c)
{
	__atomic_store_n(&c->hdr->collector_done, 1, __ATOMIC_RELEASE);
}

/* ------------------------------------------------------------------ */
/* Replaying events                                                    */
/* ------------------------------------------------------------------ */

static int remember_freed(struct collector *c, const struct live_block *b)
{
	struct block_list *l = &c->freed_since_peak;

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

	s->live_blocks--;
	s->live_bytes -= b->size;
	c->heap_bytes -= b->size;
	if (b->stamp <= c->peak_stamp && remember_freed(c, b) < 0)
		c->lost_internal++;
}

static void replay_alloc(struct collector *c, const struct wire_record *r)
{
	struct live_block b = {
		.addr = r->addr, .size = r->size, .stamp = r->stamp,
		.stack = r->stack <= STACK_SLOTS ? r->stack : 0,
	};
	unsigned bucket = profile_size_bucket(r->size);
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
	s->allocations++;
	s->bytes_allocated += b.size;
	s->live_blocks++;
	s->live_bytes += b.size;
	c->recent_stamps[c->allocations % (c->opt.temporary_threshold + 1)] = b.stamp;
	c->sizes[bucket].count++;
	c->sizes[bucket].bytes += b.size;
	c->allocations++;
	c->bytes_allocated += b.size;
	c->heap_bytes += b.size;
	if (c->heap_bytes > c->peak_bytes) {
		c->peak_bytes = c->heap_bytes;
		c->peak_blocks = c->live.count;
		c->peak_stamp = b.stamp;
		c->peak_ns = c->now_ns - c->start_ns;
		forget_freed(&c->freed_since_peak);
	}
}

/*
 * Freed with at most temporary_threshold allocations after it? The last
 * threshold + 1 allocation stamps are kept; the block qualifies when it is
 * no older than the first of them.
 */
static int is_temporary(const struct collector *c, const struct live_block *b)
{
	uint64_t window = (uint64_t)c->opt.temporary_threshold + 1;

	if (c->allocations <= window)
		return 1;
	return b->stamp >= c->recent_stamps[(c->allocations - window) % window];
}

static void replay_free(struct collector *c, const struct wire_record *r)
{
	struct site_counters *site;
	struct live_block b;

	if (livetable_remove(&c->live, r->addr, &b) < 0) {
		c->unknown_frees++;
		return;
	}
	c->frees++;
	c->bytes_freed += b.size;
	site = &c->sites[c->site_of_stack[b.stack]];
	site->frees++;
	if (is_temporary(c, &b)) {
		c->temporary++;
		site->temporary++;
	}
	block_gone(c, &b);
}

/* A new image replaced the old one: the old heap is gone with it. */
static void replay_exec(struct collector *c, const struct wire_record *r)
{
	struct live_block *b;
	size_t pos = 0;

	c->image = (uint32_t)r->addr;
	if (c->image <= 1)
		return;
	while ((b = livetable_next(&c->live, &pos))) {
		c->exec_released_blocks++;
		c->exec_released_bytes += b->size;
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

/* Make the window hold stamps up to `stamp`. */
static int window_reserve(struct reorder *w, uint64_t stamp)
{
	size_t cap = w->capacity ? w->capacity : 65536;
	struct wire_record *slots;

	if (stamp - w->base < w->capacity)
		return 0;
	while (stamp - w->base >= cap)
		cap *= 2;
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

	if (r->stamp < w->base) {
		/* arrived after we gave up waiting for it: replay out of order */
		c->late_events++;
		replay(c, r);
		return;
	}
	if (window_reserve(w, r->stamp) < 0) {
		c->lost_internal++;
		return;
	}
	w->slots[r->stamp & (w->capacity - 1)] = *r;
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
			if (ahead->kind == WIRE_REC_ALLOC && ahead->stack <= STACK_SLOTS)
				__builtin_prefetch(&c->site_of_stack[ahead->stack]);
		}
		if (slot->stamp == w->base) {
			replay(c, slot);
			slot->stamp = 0;
			w->base++;
			w->pending--;
			w->gap_since_ns = 0;
			continue;
		}
		/* stamp w->base is still in flight */
		if (!final) {
			if (!w->gap_since_ns)
				w->gap_since_ns = c->now_ns;
			if (c->now_ns - w->gap_since_ns < GAP_TIMEOUT_NS)
				return;
		}
		c->skipped_stamps++;
		w->base++;
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
	struct wire_ring *r = wire_ring_at(c->hdr, i);
	struct wire_record *recs = wire_ring_records(c->hdr, i);
	uint64_t size = c->hdr->ring_records, mask = size - 1;
	uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
	uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_RELAXED);
	uint64_t t = tail;

	if (head - tail > size)
		return 0;	/* a corrupt head: never read past the ring */
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
	__atomic_store_n(&r->tail, t, __ATOMIC_RELEASE);
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
	struct wire_header *h = c->hdr;
	uint32_t used = rings_in_use(h);
	struct chunk *k;
	size_t n = 0;

	c->pull_ns = now;
	for (uint32_t i = 0; i < used; i++) {
		struct wire_ring *r = wire_ring_at(h, i);

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

	for (k = list; k; k = k->next) {
		for (size_t i = 0; i < k->n; i++)
			window_put(c, &k->recs[i]);
		n += k->n;
		/* replay as we go, so the window stays small */
		window_replay(c, 0);
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
/* Ticks                                                               */
/* ------------------------------------------------------------------ */

static int thread_gone(const struct collector *c, int tid)
{
	return tid > 0 && syscall(SYS_tgkill, c->pid, tid, 0) < 0 && errno == ESRCH;
}

/* Hand rings of exited threads (or of an image exec replaced) back. */
static void reclaim_rings(struct collector *c, uint64_t now)
{
	struct wire_header *h = c->hdr;
	uint32_t image = __atomic_load_n(&h->image, __ATOMIC_ACQUIRE);
	uint32_t used = rings_in_use(h);

	for (uint32_t i = 1; i < used; i++) {
		struct wire_ring *r = wire_ring_at(h, i);
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
		seen->head = 0;
		__atomic_store_n(&r->state, WIRE_RING_FREE, __ATOMIC_RELEASE);
		c->rings_reclaimed++;
	}
}

static uint64_t read_rss(struct collector *c)
{
	char buf[128];
	unsigned long pages_total, pages_rss;
	ssize_t n;

	if (c->statm_fd < 0)
		return 0;
	n = pread(c->statm_fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%lu %lu", &pages_total, &pages_rss) != 2)
		return 0;
	return (uint64_t)pages_rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void take_sample(struct collector *c)
{
	struct profile_sample *s;

	if (c->nsamples == MAX_SAMPLES) {
		/* halve the resolution rather than grow without bound */
		for (size_t i = 0; i < c->nsamples / 2; i++)
			c->samples[i] = c->samples[2 * i + 1];
		c->nsamples /= 2;
		c->interval_ns *= 2;
	}
	if (c->nsamples == c->samples_cap) {
		size_t cap = c->samples_cap ? c->samples_cap * 2 : 1024;

		s = realloc(c->samples, cap * sizeof(*s));
		if (!s)
			return;
		c->samples = s;
		c->samples_cap = cap;
	}
	s = &c->samples[c->nsamples++];
	s->t_ns = c->now_ns - c->start_ns;
	s->stamp = c->window.base - 1;
	s->heap_bytes = c->heap_bytes;
	s->rss_bytes = read_rss(c);
	if (!s->rss_bytes && c->nsamples > 1)
		s->rss_bytes = s[-1].rss_bytes;	/* the program is gone: last known */
	s->allocations = c->allocations;
	s->frees = c->frees;
	if (s->rss_bytes > c->peak_rss)
		c->peak_rss = s->rss_bytes;
}

/* ------------------------------------------------------------------ */
/* Snapshots during the run                                            */
/* ------------------------------------------------------------------ */

int collector_copy_live(struct collector *c, struct run_snapshot *s)
{
	struct live_block *b;
	size_t pos = 0;

	s->blocks = malloc((c->live.count + 1) * sizeof(*s->blocks));
	if (!s->blocks)
		return -ENOMEM;
	s->nblocks = 0;
	s->bytes = 0;
	while ((b = livetable_next(&c->live, &pos))) {
		s->blocks[s->nblocks++] = *b;
		s->bytes += b->size;
	}
	return 0;
}

struct run_snapshot *collector_keep_snapshot(struct collector *c, const struct run_snapshot *s)
{
	struct run_snapshot *all = realloc(c->snapshots, (c->nsnapshots + 1) * sizeof(*all));

	if (!all)
		return NULL;
	c->snapshots = all;
	all[c->nsnapshots] = *s;
	return &all[c->nsnapshots++];
}

/* Copy the live set as it is now (replay has reached the pending stamp). */
static void cut_snapshot(struct collector *c)
{
	struct run_snapshot snap = { .t_ns = c->pending_ns, .stamp = c->pending_stamp }, *kept = NULL;

	memcpy(snap.name, c->pending_name, sizeof(snap.name));
	if (collector_copy_live(c, &snap) == 0 && !(kept = collector_keep_snapshot(c, &snap)))
		free(snap.blocks);
	if (!kept)
		c->lost_internal++;	/* the snapshot is missing from the profile */
	c->pending = 0;
}

/* Wait for replay to reach every event so far, then cut a snapshot. */
static void schedule_snapshot(struct collector *c)
{
	c->pending = 1;
	c->pending_stamp = __atomic_load_n(&c->hdr->stamp, __ATOMIC_ACQUIRE) - 1;
	c->pending_ns = c->now_ns - c->start_ns;
}

/* Take up a due periodic snapshot; cut the pending one once replay has
 * caught up with it (or at the end, final). */
static void snapshot_tick(struct collector *c, int final)
{
	if (!c->pending && c->opt.snapshot_every_ns && c->now_ns >= c->next_snapshot_ns && !final) {
		snprintf(c->pending_name, sizeof(c->pending_name), "auto-%zu", c->nsnapshots + 1);
		c->next_snapshot_ns = c->now_ns + c->opt.snapshot_every_ns;
		schedule_snapshot(c);
	}
	if (c->pending && (final || c->window.base > c->pending_stamp))
		cut_snapshot(c);
}

/* Replay until the pending snapshot's stamp is reached, at most until
 * deadline, and cut it: a stamp still in flight is waited for as long as
 * replay itself would. */
static void finish_pending(struct collector *c, uint64_t deadline)
{
	while (c->window.base <= c->pending_stamp && monotonic_ns() < deadline) {
		if (!collector_drain(c, 0)) {
			struct timespec ts = { 0, 1000000 };

			nanosleep(&ts, NULL);
		}
	}
	cut_snapshot(c);
}

void collector_tick(struct collector *c, uint64_t now_ns)
{
	c->now_ns = now_ns;
	if (now_ns >= c->next_sample_ns) {
		take_sample(c);
		c->next_sample_ns = now_ns + c->interval_ns;
	}
	collector_scan_tick(c);
	snapshot_tick(c, 0);
}

int collector_snapshot_now(struct collector *c, const char *name, int scan,
			   struct live_snapshot_info *info, char err[PROFILE_ERRLEN])
{
	const struct run_snapshot *s;
	size_t before;

	memset(info, 0, sizeof(*info));
	/* a periodic snapshot on its way is cut first, so the two keep their order */
	if (c->pending)
		finish_pending(c, monotonic_ns() + 5000000000ull);
	before = c->nsnapshots;
	if (name && *name)
		snprintf(info->name, sizeof(info->name), "%s", name);
	else
		snprintf(info->name, sizeof(info->name), "snapshot-%zu", c->nsnapshots + 1);
	if (scan) {
		s = collector_scan(c, info->name, 0);
		if (!s) {
			snprintf(err, PROFILE_ERRLEN, "%s", c->scan_error[0] ? c->scan_error : "the scan failed");
			return -EIO;
		}
		info->scanned = 1;
		info->stop_ns = s->scan_stop_ns;
		if (c->opt.count_kinds && collector_scan_kinds(s, c->opt.count_kinds, info->kinds) < 0) {
			snprintf(err, PROFILE_ERRLEN, "out of memory while classifying the scan");
			return -ENOMEM;
		}
	} else {
		memcpy(c->pending_name, info->name, sizeof(c->pending_name));
		schedule_snapshot(c);
		finish_pending(c, monotonic_ns() + 5000000000ull);
		if (c->nsnapshots == before) {
			snprintf(err, PROFILE_ERRLEN, "out of memory while taking the snapshot");
			return -ENOMEM;
		}
		s = &c->snapshots[c->nsnapshots - 1];
	}
	info->t_ns = s->t_ns;
	info->blocks = s->nblocks;
	info->bytes = s->bytes;
	return 0;
}

pid_t collector_pid(const struct collector *c)
{
	return c->pid;
}

int collector_wait_status(const struct collector *c)
{
	return c->wait_status;
}

int collector_reaped(const struct collector *c, int *status)
{
	if (c->program_reaped)
		*status = c->program_status;
	return c->program_reaped;
}

const char *collector_scan_error(const struct collector *c)
{
	return c->scan_error[0] ? c->scan_error : NULL;
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

	__atomic_store_n(&c->hdr->heartbeat_ns, now, __ATOMIC_RELEASE);
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

void collector_finish(struct collector *c, int wait_status, uint64_t maxrss_bytes, uint64_t now_ns)
{
	c->now_ns = now_ns;
	collector_stop_draining(c);
	collector_drain(c, 1);
	snapshot_tick(c, 1);
	take_sample(c);
	collector_done(c);
	c->wait_status = wait_status;
	c->end_ns = now_ns;
	if (maxrss_bytes > c->peak_rss)
		c->peak_rss = maxrss_bytes;
}

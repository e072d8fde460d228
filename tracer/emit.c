/*
 * emit.c - turn one allocator event into a stamped record in a ring.
 *
 * The hot path of the tracer: unwind (libunwind's unw_backtrace with its
 * per-thread trace cache), intern the stack in the shared table, reserve a
 * slot in the calling thread's own ring, take a stamp, write, publish. No
 * lock is taken unless the thread found no ring of its own (ring 0), no
 * stdio, no allocation through the hooked allocator.
 *
 * Terms: a thread "claims" a ring by CAS on its state; "reserving" n slots
 * means waiting, boundedly, until the collector has drained enough; a
 * "stamp" is the next value of the global counter hdr->stamp (see wire.h).
 */
#define _GNU_SOURCE
#define UNW_LOCAL_ONLY
#include <errno.h>
#include <stdlib.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <libunwind.h>

#include "tracer.h"

#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)

#define WAIT_LIMIT_NS	(1000ull * 1000000ull)	/* a heartbeat still this long, and the collector stopped (T) */
#define WAIT_STILL_NS	(5000ull * 1000000ull)	/* or still this long, whatever its state */
#define WAIT_MAX_NS	(10ull * 1000000000ull)	/* the longest a thread waits for ring space at all */
#define WAIT_NAP_NS	(10 * 1000000)		/* one futex sleep at most, in case a wake-up is missed */
#define STALE_NS	(200ull * 1000000ull)	/* heartbeat age that makes us look closer */
#define STACK_PROBES	256			/* linear probes before giving up on a stack */
#define PREFETCH_RECORDS 8			/* how far ahead in the ring to fetch for writing */

__thread struct thread_state hw_thread __attribute__((tls_model("initial-exec"))) = THREAD_STATE_INIT;

static pthread_key_t exit_key;		/* its destructor marks our ring EXITING */
static int exit_key_ok;			/* 1 once exit_key exists */

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Bring a line into cache for writing (prefetchw; a no-op on CPUs without it). */
static inline void prefetch_for_write(const void *p)
{
#if defined(__x86_64__)
	__asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1, 3);
#endif
}

static uint64_t take_stamp(void)
{
	return __atomic_fetch_add(&hw_hdr->stamp, 1, __ATOMIC_SEQ_CST);
}

static void count_lost(uint64_t n)
{
	__atomic_fetch_add(&hw_hdr->lost_events, n, __ATOMIC_RELAXED);
}

/*
 * The collector's scheduler state from /proc/PID/stat ('R', 'S', 'T' for
 * stopped, 'Z' for a zombie...), or 0 when it cannot be read (gone).
 */
static char collector_state(void)
{
	char path[64], buf[256];
	const char *p;

	hw_proc_path(path, hw_layout.collector_pid, "stat");
	if (hw_read_small(path, buf, sizeof(buf)) < 0)
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/*
 * Is the collector gone for good? Called only when a ring stays full: a
 * fresh heartbeat says no at once; a stale one is confirmed from
 * /proc/PID/stat (a killed collector may linger as a zombie, which kill(0)
 * would still call alive).
 */
int hw_collector_gone(void)
{
	uint64_t beat = __atomic_load_n(&hw_hdr->heartbeat_ns, __ATOMIC_ACQUIRE);
	char state;

	if (__atomic_load_n(&hw_hdr->collector_done, __ATOMIC_ACQUIRE))
		return 1;
	if (now_ns() - beat < STALE_NS)
		return 0;
	state = collector_state();
	return !state || state == 'Z' || state == 'X';
}

/*
 * Has a collector whose heartbeat stood still for still_ns stopped
 * draining? A second is enough when it is stopped (SIGSTOP, a debugger);
 * a collector that is merely starved of CPU on a busy machine (its drain
 * thread not run for a second) gets WAIT_STILL_NS, so that it is not
 * taken for stopped and events are not lost for nothing.
 */
int hw_collector_frozen(uint64_t still_ns)
{
	char state;

	if (still_ns <= WAIT_LIMIT_NS)
		return 0;
	if (still_ns > WAIT_STILL_NS)
		return 1;
	state = collector_state();
	return state == 'T' || state == 't';
}

static void disable_tracing(void)
{
	__atomic_store_n(&hw_hdr->tracer_state, WIRE_TRACER_DISABLED, __ATOMIC_RELEASE);
	hw_active = 0;
	hw_debug("collector gone: tracing stopped, the program runs on");
}

/* ------------------------------------------------------------------ */
/* Rings                                                               */
/* ------------------------------------------------------------------ */

/* Raise the high-water mark the collector stops looking at rings at. */
static void note_ring_used(uint32_t i)
{
	uint32_t used = __atomic_load_n(&hw_hdr->rings_used, __ATOMIC_RELAXED);

	while (used <= i &&
	       !__atomic_compare_exchange_n(&hw_hdr->rings_used, &used, i + 1, 0,
					    __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

/*
 * Claim a free ring for this thread, the lowest-numbered one, so that rings
 * (and their resident pages) freed by exited threads are reused first.
 * NULL when every ring is taken; its index in *index otherwise.
 */
static struct wire_ring *ring_claim(uint32_t *index)
{
	for (uint32_t i = 1; i < hw_layout.ring_count; i++) {
		struct wire_ring *r = &hw_layout.rings[i];
		uint32_t expect = WIRE_RING_FREE;

		if (__atomic_load_n(&r->state, __ATOMIC_RELAXED) != WIRE_RING_FREE)
			continue;
		/* tid and image first, so the collector never sees an owner-less ring */
		if (!__atomic_compare_exchange_n(&r->state, &expect, WIRE_RING_CLAIMING, 0,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		r->tid = (int32_t)syscall(SYS_gettid);
		r->image = hw_image;
		note_ring_used(i);
		__atomic_store_n(&r->state, WIRE_RING_OWNED, __ATOMIC_RELEASE);
		*index = i;
		return r;
	}
	return NULL;
}

/*
 * Whose state this is: our tid and the bounds of our stack, so that a
 * thread sharing this TLS (clone without CLONE_SETTLS) can be told apart.
 * May allocate (glibc reads the main thread's stack from /proc); the guard
 * is set.
 */
static void own_stack(struct thread_state *t)
{
	pthread_attr_t attr;
	void *lo;
	size_t size;

	t->tid = (int32_t)syscall(SYS_gettid);
	if (pthread_getattr_np(pthread_self(), &attr) != 0)
		return;	/* anywhere, as before */
	if (pthread_attr_getstack(&attr, &lo, &size) == 0 && size) {
		t->stack_lo = (uintptr_t)lo;
		t->stack_span = size;
	}
	pthread_attr_destroy(&attr);
}

#define OFF_STACK_SLACK	(256u * 1024)	/* taken in around an alternate stack pointer of our own */

int hw_foreign_thread(void)
{
	struct thread_state *t = &hw_thread;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0), lo, hi;

	if (!t->ring || (int32_t)syscall(SYS_gettid) != t->tid)
		return t->ring != NULL;
	/* our own thread on another stack: take it in, so it costs no more */
	lo = sp > OFF_STACK_SLACK ? sp - OFF_STACK_SLACK : 0;
	hi = sp + OFF_STACK_SLACK;
	if (t->stack_lo + t->stack_span > hi)
		hi = t->stack_lo + t->stack_span;
	if (t->stack_lo < lo)
		lo = t->stack_lo;
	t->stack_lo = lo;
	t->stack_span = hi - lo;
	return 0;
}

/* Find this thread's ring, claiming one on its first event. */
static struct wire_ring *thread_ring(struct thread_state *t)
{
	struct wire_ring *r;
	uint32_t i;

	if (likely(t->ring))
		return t->ring;
	__atomic_fetch_add(&hw_hdr->threads_seen, 1, __ATOMIC_RELAXED);
	t->mask = hw_layout.ring_records - 1;
	r = ring_claim(&i);
	if (r && !(t->records = hw_ring_records(i))) {
		/* no room to map its records (RLIMIT_AS): back to the pool, and share ring 0 */
		__atomic_store_n(&r->state, WIRE_RING_FREE, __ATOMIC_RELEASE);
		r = NULL;
	}
	if (!r) {
		t->shared = 1;
		t->records = hw_ring_records(0);
		t->ring = &hw_layout.rings[0];
		return t->ring;
	}
	t->ring = r;
	t->head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
	t->tail_seen = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	own_stack(t);
	if (exit_key_ok && !t->registered) {
		/* may allocate; the guard is set */
		if (pthread_setspecific(exit_key, r) == 0)
			t->registered = 1;
	}
	return r;
}

/*
 * A collector that let a wait run out (stopped, or descheduled for long)
 * is "stalled": its heartbeat then. While the heartbeat stays there,
 * events that find their ring full are counted lost at once instead of
 * waiting again, so a stopped collector holds the program up once, for
 * WAIT_LIMIT_NS; when it beats again, delivery is lossless again.
 */
static uint64_t stalled_beat;		/* 0: not stalled */

int hw_collector_stalled(void)
{
	uint64_t stalled = __atomic_load_n(&stalled_beat, __ATOMIC_RELAXED);

	if (!stalled)
		return 0;
	if (__atomic_load_n(&hw_hdr->heartbeat_ns, __ATOMIC_ACQUIRE) == stalled)
		return 1;
	__atomic_store_n(&stalled_beat, 0, __ATOMIC_RELAXED);	/* it drains again */
	return 0;
}

/*
 * Make room for n records after *head in ring r: the collector is alive
 * and draining, so wait for it, without taking the CPU it needs (a futex
 * it wakes when it moves the tail). Returns 0 when there is room, -1 (the
 * caller counts the loss) when it is gone, when its heartbeat stood still
 * (hw_collector_frozen: it is stalled from now on), or after
 * WAIT_MAX_NS in all.
 */
static int ring_wait(struct wire_ring *r, uint64_t head, uint64_t *tail_seen, unsigned n)
{
	uint64_t cap = hw_layout.ring_records, start = 0, beat_since = 0, beat = 0;
	int ret = -1;

	__atomic_fetch_add(&hw_hdr->ring_waits, 1, __ATOMIC_RELAXED);
	for (unsigned spins = 0;; spins++) {
		uint32_t wake = __atomic_load_n(&r->wake, __ATOMIC_ACQUIRE);
		struct timespec nap = { 0, WAIT_NAP_NS };
		uint64_t now, b;

		*tail_seen = __atomic_load_n(&r->tail, __ATOMIC_SEQ_CST);
		if (head - *tail_seen + n <= cap) {
			ret = 0;
			break;
		}
		if (!hw_active || hw_collector_stalled())
			break;
		if (spins < 4) {
			sched_yield();
			continue;
		}
		now = now_ns();
		b = __atomic_load_n(&hw_hdr->heartbeat_ns, __ATOMIC_ACQUIRE);
		if (!start || b != beat) {
			start = start ? start : now;
			beat = b;
			beat_since = now;
		}
		if ((spins & 15) == 0 && hw_collector_gone()) {
			disable_tracing();
			break;
		}
		if (hw_collector_frozen(now - beat_since)) {
			__atomic_store_n(&stalled_beat, b ? b : 1, __ATOMIC_RELAXED);
			break;
		}
		if (now - start > WAIT_MAX_NS)
			break;
		/* tell the collector, then look once more before sleeping */
		__atomic_store_n(&r->waiting, 1, __ATOMIC_SEQ_CST);
		*tail_seen = __atomic_load_n(&r->tail, __ATOMIC_SEQ_CST);
		if (head - *tail_seen + n <= cap) {
			ret = 0;
			break;
		}
		syscall(SYS_futex, &r->wake, FUTEX_WAIT, wake, &nap, NULL, 0);
	}
	if (start)
		__atomic_store_n(&r->waiting, 0, __ATOMIC_RELAXED);
	return ret;
}

static void shared_lock(struct wire_ring *r)
{
	while (__atomic_exchange_n(&r->lock, 1, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void shared_unlock(struct wire_ring *r)
{
	__atomic_store_n(&r->lock, 0, __ATOMIC_RELEASE);
}

/*
 * Reserve n slots in the calling thread's ring. For ring 0 the lock is
 * taken and stays held until ring_commit(). Returns the ring, or NULL when
 * the events must be counted lost.
 */
static struct wire_ring *ring_reserve(struct thread_state *t, unsigned n)
{
	struct wire_ring *r = thread_ring(t);

	if (unlikely(t->shared)) {
		shared_lock(r);
		t->head = __atomic_load_n(&r->head, __ATOMIC_RELAXED);
	}
	if (likely(t->head - t->tail_seen + n <= hw_layout.ring_records))
		return r;
	if (ring_wait(r, t->head, &t->tail_seen, n) == 0)
		return r;
	if (t->shared)
		shared_unlock(r);
	return NULL;
}

/*
 * Write one record at head. The fields are stored one by one, straight
 * into the slot (a record built on the stack and copied whole is read back
 * across two stores, which stalls store forwarding), and the line a few
 * records on is fetched for writing now, so that the stores of later
 * events find it in cache: the stamp's locked add waits for earlier stores
 * to drain, and a store missing the cache would hold it.
 */
static inline void ring_put(struct thread_state *t, uint64_t stamp, uint64_t addr,
			    uint64_t size, uint32_t stack, uint16_t kind, uint16_t fn)
{
	struct wire_record *slot = &t->records[t->head & t->mask];

	slot->stamp = stamp;
	slot->addr = addr;
	slot->size = size;
	slot->stack = stack;
	slot->kind = kind;
	slot->fn = fn;
	t->head++;
	prefetch_for_write(&t->records[(t->head + PREFETCH_RECORDS) & t->mask]);
}

static void ring_commit(struct thread_state *t, struct wire_ring *r)
{
	__atomic_store_n(&r->head, t->head, __ATOMIC_RELEASE);
	if (unlikely(t->shared))
		shared_unlock(r);
}

/* ------------------------------------------------------------------ */
/* Stacks                                                              */
/* ------------------------------------------------------------------ */

/*
 * Return the id of this stack in the shared table, adding it if new; 0 when
 * the table or the frame pool is full (counted in stacks_dropped). A cut
 * stack (the walk went on past max_depth) is marked so, and is a stack of
 * its own.
 */
static uint32_t stack_intern(const uint64_t *frames, unsigned depth, uint64_t h, int cut)
{
	struct wire_stack *slots = hw_layout.stacks;
	uint32_t mask = hw_layout.stack_slots - 1;
	uint32_t i;

	if (cut)	/* a cut stack is not the whole one its frames would be */
		h = hw_hash_frame(h, WIRE_STACK_CUT);
	h = h ? h : 1;	/* 0 marks an empty slot */
	i = (uint32_t)h & mask;

	for (unsigned probe = 0; probe < STACK_PROBES; probe++, i = (i + 1) & mask) {
		uint64_t k = __atomic_load_n(&slots[i].hash, __ATOMIC_ACQUIRE);
		uint64_t expect = 0, first, *dst;

		if (k == h)
			return i + 1;
		if (k != 0)
			continue;
		if (!__atomic_compare_exchange_n(&slots[i].hash, &expect, h, 0,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			if (expect == h)
				return i + 1;
			continue;
		}
		first = __atomic_fetch_add(&hw_hdr->frames_used, depth, __ATOMIC_RELAXED);
		dst = hw_frames_at(first, depth);
		if (!dst && depth && first < hw_layout.frame_capacity) {
			/* it crossed into the next chunk of the pool: take the room there */
			first = __atomic_fetch_add(&hw_hdr->frames_used, depth, __ATOMIC_RELAXED);
			dst = hw_frames_at(first, depth);
		}
		if (!dst) {
			if (depth)	/* the pool is full, or no room to map it */
				__atomic_fetch_add(&hw_hdr->stacks_dropped, 1, __ATOMIC_RELAXED);
			depth = 0;
			first = 0;
		} else {
			memcpy(dst, frames, depth * sizeof(*frames));
		}
		slots[i].first = (uint32_t)first;
		slots[i].depth = (uint16_t)depth;
		slots[i].image = (uint8_t)hw_image;
		__atomic_store_n(&slots[i].ready, 1 | (cut ? WIRE_STACK_CUT : 0), __ATOMIC_RELEASE);
		hw_check_modules(frames, depth);	/* a new stack: any new object in it? */
		return i + 1;
	}
	__atomic_fetch_add(&hw_hdr->stacks_dropped, 1, __ATOMIC_RELAXED);
	return 0;
}

/* With HEAPWISE_UNWIND_CHECK set, every fast walk is compared with unw_backtrace's. */
static int unwind_check;

/*
 * Our own frames on top of a walk (the hook, this file): at most this
 * many. A walk asks for one frame more than that and max_depth, to tell
 * a stack that was cut.
 */
#define OWN_FRAMES	5

/* How many of a walk's first frames are our own. */
static unsigned own_frames(const uint64_t *ips, unsigned n)
{
	unsigned skip = 0;

	while (skip < n && skip < OWN_FRAMES && hw_own_frame(ips[skip]))
		skip++;
	return skip;
}

/*
 * A walk's frames, native then Python, in thread-local memory rather than
 * on the stack: the hook's frame stays as small as it was, so the stale
 * words the program's own frames hold later (which the leak scan reads,
 * as memcheck does) are the same with Python frames as without.
 */
static __thread uint64_t walk_ips[HW_UNWIND_FRAMES + WIRE_MAX_DEPTH] __attribute__((tls_model("initial-exec")));
static __thread uint64_t walk_py[WIRE_MAX_DEPTH] __attribute__((tls_model("initial-exec")));

/* The thread's Python frames of one walk (none when Python is off). */
struct py_part {
	uint64_t *frames;
	unsigned n;
	uint64_t hash;
	int cut;
};

/* Into buf, as many as fit beside `native` native frames (cut at max_depth). */
static void python_part(struct py_part *py, uint64_t *buf, unsigned native)
{
	unsigned want = hw_layout.max_depth;
	unsigned room = WIRE_MAX_DEPTH - (native < want ? native : want);

	py->frames = buf;
	py->cut = 0;
	py->hash = 0;
	py->n = hw_py_on ? hw_py_frames(buf, room < want ? room : want, &py->hash, &py->cut) : 0;
}

/*
 * Cut at max_depth (counted when asked), put the Python frames after the
 * native ones, intern. frames has room for them; hash is the native
 * frames' hash when the walk knows it, 0 otherwise.
 */
static uint32_t intern_caller_frames(struct thread_state *t, uint64_t *frames, unsigned depth,
				     uint64_t hash, const struct py_part *py, int count_cut)
{
	unsigned want = hw_layout.max_depth;
	int cut = depth > want;

	if (cut) {
		depth = want;
		hash = 0;
	}
	if (!hash)
		hash = hw_hash_frames(frames, depth);
	t->last_py_hash = py->hash;
	if (py->n) {
		/* what the user reads are the Python frames: a cut in the native
		 * ones only makes the collector keep fewer of those (build.c) */
		memmove(frames + depth, py->frames, py->n * sizeof(*frames));
		depth += py->n;
		hash = hw_hash_frame(hash, py->hash);
		cut = py->cut;
	}
	t->last_truncated = (uint8_t)cut;
	if (cut && count_cut)
		__atomic_fetch_add(&hw_hdr->truncated_stacks, 1, __ATOMIC_RELAXED);
	t->last_hash = hash;
	return t->last_stack = stack_intern(frames, depth, hash, cut);
}

/*
 * An event of the Python allocator, unless native frames were asked for
 * (heapwise run --native): its Python frames alone. The native ones are
 * the interpreter's own (PyUnicode_New, dict resizing, the loop) and cost
 * most of the walk; an extension's malloc still gets its native frames.
 * 0 when the thread has no Python frame: walk it natively.
 */
static uint32_t python_stack(struct thread_state *t)
{
	struct py_part py;

	python_part(&py, walk_ips, 0);
	if (!py.n)
		return 0;
	if (py.hash == t->last_hash && t->last_stack) {
		if (t->last_truncated)
			__atomic_fetch_add(&hw_hdr->truncated_stacks, 1, __ATOMIC_RELAXED);
		return t->last_stack;
	}
	t->last_truncated = (uint8_t)py.cut;
	if (py.cut)
		__atomic_fetch_add(&hw_hdr->truncated_stacks, 1, __ATOMIC_RELAXED);
	t->last_hash = py.hash;
	t->last_py_hash = 0;	/* the native shortcut must not take it */
	return t->last_stack = stack_intern(walk_ips, py.n, py.hash, py.cut);
}

/* The slow way, with its own buffer: the fast path's frame stays small. */
static __attribute__((noinline)) uint32_t stack_by_libunwind(struct thread_state *t, int count_cut)
{
	uint64_t buf[WIRE_MAX_DEPTH + OWN_FRAMES + 1], *py_buf = walk_py;
	int got = unw_backtrace((void **)buf, (int)(hw_layout.max_depth + OWN_FRAMES + 1));
	struct py_part py;
	unsigned skip;

	if (got < 0)
		got = 0;
	skip = own_frames(buf, (unsigned)got);
	python_part(&py, py_buf, (unsigned)got - skip);
	return intern_caller_frames(t, buf + skip, (unsigned)got - skip, 0, &py, count_cut);
}

/* Equal frames intern to the same id: compare the ids. */
static __attribute__((noinline)) void check_walk(uint32_t fast, uint32_t slow)
{
	const char *msg = "heapwise: unwind check: the fast walk and unw_backtrace differ\n";

	if (fast != slow && write(STDERR_FILENO, msg, strlen(msg)) < 0)
		return;
}

/*
 * The registers of the calling frame, for hw_unwind: the address of the
 * next instruction, RSP and RBP, all as the unwind tables describe them
 * at that instruction.
 */
#define CURRENT_FRAME(ip, sp, bp)						\
	__asm__ volatile("lea 0(%%rip), %0\n\tmov %%rsp, %1\n\tmov %%rbp, %2"	\
			 : "=r"(ip), "=r"(sp), "=r"(bp))

/*
 * The id of the caller's stack, our own frames left out. When the walk
 * says its frames are the last walk's, and the Python frames hash as the
 * last ones did, it is the last stack.
 */

static uint32_t current_stack(struct thread_state *t)
{
	const struct hw_frame *f;
	uint64_t *ips = walk_ips;
	uint64_t ip, sp, bp;
	struct py_part py;
	unsigned skip, depth, want, ask;
	uint32_t id;
	int same, got;

	if (t->py_api && !hw_py_native && (id = python_stack(t)))
		return id;
	CURRENT_FRAME(ip, sp, bp);
	/* the fast walk goes HW_UNWIND_FRAMES deep: a stack deeper than that,
	 * when more frames are wanted, is walked again by libunwind (only
	 * those pay for it) */
	want = hw_layout.max_depth + OWN_FRAMES + 1;
	ask = want < HW_UNWIND_FRAMES ? want : HW_UNWIND_FRAMES;
	got = hw_unwind(ip, sp, bp, ask, &f, &same);
	if (got < 0 || ((unsigned)got == ask && ask < want))
		return stack_by_libunwind(t, 1);
	python_part(&py, ips + HW_UNWIND_FRAMES, (unsigned)got);
	if (same && !unwind_check && py.hash == t->last_py_hash) {
		if (t->last_truncated)
			__atomic_fetch_add(&hw_hdr->truncated_stacks, 1, __ATOMIC_RELAXED);
		return t->last_stack;
	}
	for (int i = 0; i < got; i++)
		ips[i] = f[i].ip;
	skip = own_frames(ips, (unsigned)got);
	depth = (unsigned)got - skip;
	id = intern_caller_frames(t, ips + skip, depth, depth ? f[skip].hash : 0, &py, 1);
	if (unlikely(unwind_check) && id)
		check_walk(id, stack_by_libunwind(t, 0));
	return id;
}

/* ------------------------------------------------------------------ */
/* Events                                                              */
/* ------------------------------------------------------------------ */

/* One record into t's ring, or counted lost. */
static inline void emit_one(struct thread_state *t, uint64_t addr, uint64_t size, uint32_t stack,
			    uint16_t kind, uint16_t fn)
{
	struct wire_ring *r = ring_reserve(t, 1);

	if (r) {
		ring_put(t, take_stamp(), addr, size, stack, kind, fn);
		ring_commit(t, r);
	} else {
		count_lost(1);
	}
}

/* Sampling (--sample-rate): is this allocation recorded? Remembered if so. */
static inline int recorded_alloc(struct thread_state *t, void *p, size_t size)
{
	if (__builtin_expect(!hw_layout.sample_rate, 1))
		return 1;
	if (!hw_sample_pick(t, size))
		return 0;
	hw_sample_keep((uintptr_t)p);
	return 1;
}

/* And is this free one to send (of a recorded block)? */
static inline int recorded_free(void *p)
{
	return __builtin_expect(!hw_layout.sample_rate, 1) || hw_sample_forget((uintptr_t)p);
}

void hw_emit_recorded_alloc(void *p, size_t size, int fn)
{
	struct thread_state *t = &hw_thread;
	int saved;

	if (hw_layout.sample_rate)
		hw_sample_keep((uintptr_t)p);	/* picked (hw_emit_alloc): its free is to be sent */
	saved = errno;
	t->guard = 1;
	if (unlikely(hw_modules_dirty))
		hw_log_modules();
	emit_one(t, (uintptr_t)p, size, current_stack(t), WIRE_REC_ALLOC, (uint16_t)fn);
	t->guard = 0;
	errno = saved;
}

void hw_emit_recorded_free(void *p, int fn)
{
	struct thread_state *t = &hw_thread;
	int saved;

	if (!recorded_free(p))
		return;
	saved = errno;
	t->guard = 1;
	emit_one(t, (uintptr_t)p, 0, 0, WIRE_REC_FREE, (uint16_t)fn);
	t->guard = 0;
	errno = saved;
}

void hw_emit_exec(uint32_t image)
{
	struct thread_state *t = &hw_thread;

	t->guard = 1;
	emit_one(t, image, 0, 0, WIRE_REC_EXEC, 0);
	t->guard = 0;
}

/*
 * realloc, into t's ring (with the new block's stack when stacked). The
 * old block's stamp is taken before the real call (so a thread that gets
 * the address back at once is ordered after us) and the new block's after
 * it. realloc(p, 0) frees p in glibc and returns NULL; a failed realloc
 * leaves p alone and its stamp is delivered as a NOP. When sampling, the
 * old block's free is sent only if it was recorded (else a NOP), the new
 * block only if it is to be; with neither, the call is all there is.
 */
static void *libc_realloc(void *ctx, void *p, size_t size)
{
	(void)ctx;
	return hw_real.realloc(p, size);
}

/* Sampling: a failed realloc left p as it was, so recorded still. */
static inline void keep_if_failed(int old_recorded, void *p, void *q, size_t size)
{
	if (hw_layout.sample_rate && old_recorded && !q && size != 0)
		hw_sample_keep((uintptr_t)p);
}

static void *realloc_into(struct thread_state *t, hw_realloc_fn *call, void *ctx, void *p, size_t size,
			  int fn, int stacked)
{
	struct wire_ring *r;
	uint64_t free_stamp;
	int old_recorded = 1, new_recorded = 1;
	void *q;
	int saved;

	if (hw_layout.sample_rate) {
		old_recorded = hw_sample_forget((uintptr_t)p);
		new_recorded = hw_sample_pick(t, size);
		if (!old_recorded && !new_recorded)
			return call(ctx, p, size);
	}
	r = ring_reserve(t, 2);
	if (!r) {
		q = call(ctx, p, size);
		keep_if_failed(old_recorded, p, q, size);
		count_lost(q || size == 0 ? 2 : 0);
		return q;
	}
	free_stamp = take_stamp();
	q = call(ctx, p, size);
	saved = errno;

	ring_put(t, free_stamp, (uintptr_t)p, 0, 0,
		 !old_recorded || (!q && size != 0) ? WIRE_REC_NOP : WIRE_REC_FREE, (uint16_t)fn);
	keep_if_failed(old_recorded, p, q, size);
	if (q && new_recorded) {
		uint32_t stack = 0;

		if (hw_layout.sample_rate)
			hw_sample_keep((uintptr_t)q);
		if (stacked) {
			if (unlikely(hw_modules_dirty))
				hw_log_modules();
			stack = current_stack(t);
		}
		ring_put(t, take_stamp(), (uintptr_t)q, size, stack, WIRE_REC_ALLOC, (uint16_t)fn);
	}
	ring_commit(t, r);
	errno = saved;
	return q;
}

/* The guard stays set across the real call so that a signal handler
 * allocating on this thread cannot write into the ring between our two
 * records; such nested calls pass through untraced. */
void *hw_traced_realloc(void *p, size_t size, int fn)
{
	return hw_traced_realloc_by(libc_realloc, NULL, p, size, fn);
}

void *hw_traced_realloc_by(hw_realloc_fn *call, void *ctx, void *p, size_t size, int fn)
{
	struct thread_state *t = &hw_thread;
	void *q;

	t->guard = 1;
	q = realloc_into(t, call, ctx, p, size, fn, 1);
	t->guard = 0;
	return q;
}

/*
 * Events of a thread that shares another's TLS: ring 0, under its lock,
 * through a state of their own (the shared one belongs to the other
 * thread, which may be using it this moment), and no stack (the unwinder's
 * caches are per-TLS too).
 */
static struct thread_state foreign = THREAD_STATE_INIT;

static struct thread_state *foreign_state(void)
{
	if (!foreign.ring) {
		foreign.records = hw_ring_records(0);
		foreign.mask = hw_layout.ring_records - 1;
		foreign.shared = 1;
		__atomic_store_n(&foreign.ring, &hw_layout.rings[0], __ATOMIC_RELEASE);
	}
	return &foreign;
}

void hw_emit_foreign(void *p, size_t size, int fn, int kind)
{
	int saved;

	if (kind == WIRE_REC_FREE ? !recorded_free(p) : !recorded_alloc(foreign_state(), p, size))
		return;
	saved = errno;
	emit_one(foreign_state(), (uintptr_t)p, size, 0, (uint16_t)kind, (uint16_t)fn);
	errno = saved;
}

void *hw_foreign_realloc(void *p, size_t size, int fn)
{
	return realloc_into(foreign_state(), libc_realloc, NULL, p, size, fn, 0);
}

/*
 * pthread key destructor: the thread is exiting. It may still free things
 * (TLS of other libraries, glibc's own), so it keeps its ring; the
 * collector frees the ring once the thread id is gone and the ring drained.
 */
void hw_thread_exit(void *ring)
{
	struct wire_ring *r = ring;

	if (hw_hdr && r)
		__atomic_store_n(&r->state, WIRE_RING_EXITING, __ATOMIC_RELEASE);
}

void hw_emit_forget_ring(void)
{
	struct thread_state *t = &hw_thread;

	if (exit_key_ok && t->registered)
		pthread_setspecific(exit_key, NULL);
	t->ring = NULL;
	t->records = NULL;
	t->mask = 0;
	t->head = t->tail_seen = 0;
	t->shared = t->registered = t->last_truncated = 0;
	t->last_stack = 0;
	t->last_py_hash = 0;
	t->last_hash = 0;
	t->tid = 0;
	t->stack_lo = 0;
	t->stack_span = UINTPTR_MAX;
}

void hw_emit_init(void)
{
	uint64_t buf[8];

	/* a forked child that attaches anew has the key already */
	if (!exit_key_ok && pthread_key_create(&exit_key, hw_thread_exit) == 0)
		exit_key_ok = 1;
	unwind_check = getenv("HEAPWISE_UNWIND_CHECK") != NULL;
	hw_unwind_init();
	hw_sample_init();
	/* libunwind's first call per process allocates; do it now, guarded */
	unw_backtrace((void **)buf, 8);
}

/*
 * tracer.h - what the pieces of the preloaded tracer share with each other.
 *
 * hooks.c holds the allocator entry points, emit.c turns one event into a
 * stamped record in the calling thread's ring, attach.c finds the real
 * allocator, attaches to the collector (and, with --follow-fork, gets a
 * forked child its own region) and keeps the module log, region.c maps the
 * region piece by piece, unwind.c walks stacks, exec.c tells the collector
 * about execs, deepbind.c keeps RTLD_DEEPBIND libraries bound to us. Nothing
 * here is exported from libheapwise.so: the shim is built with hidden
 * visibility and only the allocator symbols are public.
 */
#ifndef HEAPWISE_TRACER_H
#define HEAPWISE_TRACER_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

/* The allocator we stand in front of, found with dlsym(RTLD_NEXT). */
struct real_allocator {
	void *(*malloc)(size_t);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void (*free)(void *);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	int (*dlclose)(void *);
};

/*
 * Per-thread state. initial-exec TLS, trivially destructible, so reading it
 * never allocates and thread teardown never runs code of ours on it.
 */
struct thread_state {
	struct wire_ring *ring;	/* our ring, or NULL before the first event */
	struct wire_record *records;	/* its records */
	uint64_t mask;		/* ring_records - 1 */
	uint64_t head;		/* records written to ring (mirror of ring->head) */
	uint64_t tail_seen;	/* last ring->tail we read */
	uint8_t guard;		/* set while inside the tracer: nested calls pass through */
	uint8_t shared;		/* 1: we found no free ring and use ring 0 */
	uint8_t registered;	/* 1: the exit destructor is armed */
	uint8_t last_truncated;	/* the last stack was cut at max_depth */
	uint8_t py_api;		/* 1 while an event of the Python allocator is emitted */
	uint32_t last_stack;	/* id of the last stack interned */
	uint64_t last_py_hash;	/* hash of its Python frames, 0 for none */
	uint64_t last_hash;	/* its hash */
	int64_t sample_left;	/* --sample-rate: bytes until the next recorded allocation */
	uint64_t sample_rng;	/* its random state, 0 until the first draw */
	/* Whose this state is: the thread that claimed the ring (its kernel
	 * tid) and the stack it runs on. A thread made by clone(CLONE_VM)
	 * without a TLS of its own shares this state; off that stack, the
	 * tid tells it apart (see hw_foreign_thread). */
	int32_t tid;
	uintptr_t stack_lo, stack_span;	/* span UINTPTR_MAX: anywhere, until claimed */
};

#define THREAD_STATE_INIT { .stack_span = UINTPTR_MAX }

/*
 * The region's layout, copied from its header once, when attaching, and
 * checked (region.c): the program can overwrite the header, and nothing
 * the tracer indexes with may come from it after. Rings' records and the
 * frame pool are mapped piece by piece (hw_ring_records, hw_frames_at).
 */
struct region_layout {
	struct wire_ring *rings;
	struct wire_stack *stacks;
	struct wire_module *modules;
	uint32_t ring_count;
	uint32_t stack_slots;		/* a power of two */
	uint64_t ring_records;		/* a power of two */
	uint64_t frame_capacity;
	uint32_t module_capacity;
	uint32_t max_depth;
	uint64_t code_capacity;		/* bytes of the Python code log */
	uint64_t sample_rate;		/* mean bytes between recorded allocations, 0: all */
	int32_t collector_pid;
	int32_t traced_pid;
};

extern struct real_allocator hw_real;
extern struct wire_header *hw_hdr;	/* the mapped region, NULL when not attached */
extern struct region_layout hw_layout;	/* its layout, as it was when we attached */
extern int hw_active;			/* 1 while events are recorded */
extern uint32_t hw_image;		/* our image number */
extern int hw_modules_dirty;		/* set by dlopen: log modules at the next event */
extern int hw_attach_tried;		/* attaching was tried in this image */
extern __thread struct thread_state hw_thread __attribute__((tls_model("initial-exec")));

/* attach.c */
void hw_bootstrap(void);		/* resolve hw_real; safe to call repeatedly */
/* Attach to the collector, once per image: from the first allocator call,
 * which other libraries' constructors make before ours runs, or from our
 * constructor. Called with the guard clear. */
void hw_attach_once(void);
#define HW_BOOTSTRAP_POOL	(64 * 1024)
extern char hw_bootstrap_pool[HW_BOOTSTRAP_POOL];	/* memory handed out before hw_real existed */
static inline int hw_in_bootstrap_pool(const void *p)
{
	return (uintptr_t)p - (uintptr_t)hw_bootstrap_pool < HW_BOOTSTRAP_POOL;
}
void *hw_bootstrap_alloc(size_t size);
void hw_log_modules(void);		/* append new objects to the module log */
/* A new stack: if one of its frames lies in no object logged yet and the
 * loader has loaded something since, log the objects again. dlopen maps
 * its object after its own first allocation (when dlopen's mark makes us
 * log), so the object it opened is seen here, at its first stack. */
void hw_check_modules(const uint64_t *frames, unsigned depth);
void hw_debug(const char *msg);		/* one line to stderr when HEAPWISE_DEBUG is set */
int hw_own_frame(uint64_t ip);		/* is ip inside libheapwise.so? */
void hw_proc_path(char buf[64], int pid, const char *leaf);	/* "/proc/PID/leaf", no stdio */
/* A small file (a /proc one) into buf, NUL-terminated, without stdio: 0,
 * or -1 when it cannot be opened or holds nothing. */
int hw_read_small(const char *path, char *buf, size_t len);

/* deepbind.c: the dlopen hook's way for RTLD_DEEPBIND. May the library be
 * opened from here rather than by its caller? Then open it so, and bind
 * what it loaded to our hooks. */
int hw_deepbind_from_here(const char *file, void *caller);
void *hw_deepbind_dlopen(const char *file, int mode);

/* region.c */
/* Map the region open on fd (path names it, for pieces mapped later)
 * whose header h is, unmapping one mapped before: the header and the rings'
 * heads (hw_hdr), ring 0, the stack table, the module log, the first frames.
 * 0, -EINVAL when h does not hold together, or -errno (ENOMEM: RLIMIT_AS). */
int hw_region_map(int fd, const char *path, const struct wire_header *h);
void hw_region_unmap(void);
/* Ring i's records, mapped on first use; NULL if they cannot be. */
struct wire_record *hw_ring_records(uint32_t i);
/* Where frames [first, first + depth) of the pool go, mapped on first use;
 * NULL if they cross a chunk of the pool or cannot be mapped. */
uint64_t *hw_frames_at(uint64_t first, unsigned depth);
/* The Python code log (code_capacity bytes), mapped on first use; NULL if it cannot be. */
void *hw_code_log(void);

/* emit.c */
/* A forked child: the ring this thread had is its parent's. Forget it (and
 * the thread-exit mark that would name it). */
void hw_emit_forget_ring(void);
/*
 * Each emit function is called with hw_active set and hw_thread.guard clear;
 * it sets the guard, preserves errno, and never fails visibly: an event that
 * cannot be delivered is counted in hdr->lost_events.
 */
void hw_emit_recorded_alloc(void *p, size_t size, int fn);	/* chosen to be recorded (or all are) */
void hw_emit_recorded_free(void *p, int fn);	/* of a block perhaps recorded */
/* The same for a thread that shares another's TLS (hw_foreign_thread):
 * through ring 0, under its lock, without a stack; nothing of the shared
 * state is touched. */
void hw_emit_foreign(void *p, size_t size, int fn, int kind);
void *hw_foreign_realloc(void *p, size_t size, int fn);
/* Slow path of the hooks, when the stack pointer is off the state's own
 * stack: a signal handler's alternate stack or a coroutine's (the same
 * thread: the bounds grow to take it in), or another thread with this
 * TLS (1: its events go through hw_emit_foreign). */
int hw_foreign_thread(void);

/* Is this thread off the stack of the thread whose state it reads? */
static inline int hw_off_own_stack(void)
{
	uintptr_t sp;

	/* the stack pointer itself: __builtin_frame_address would make every
	 * hook set up a frame pointer */
	__asm__("mov %%rsp, %0" : "=r"(sp));
	return sp - hw_thread.stack_lo >= hw_thread.stack_span;
}
/*
 * Does tracing apply to this call? Attached, and not nested inside the
 * tracer (HW_TRACED); or made by a thread that shares another's TLS, whose
 * guard says nothing of us (HW_FOREIGN, asked before the guard). The first
 * call of the image attaches (see attach.c).
 */
enum { HW_NOT_TRACED, HW_TRACED, HW_FOREIGN };

static inline int hw_tracing(void)
{
	if (__builtin_expect(!hw_attach_tried, 0) && !hw_thread.guard && hw_real.free)
		hw_attach_once();
	if (!hw_active)
		return HW_NOT_TRACED;
	if (__builtin_expect(hw_off_own_stack(), 0) && hw_foreign_thread())
		return HW_FOREIGN;
	return hw_thread.guard ? HW_NOT_TRACED : HW_TRACED;
}

void hw_emit_exec(uint32_t image);
void *hw_traced_realloc(void *p, size_t size, int fn);	/* the whole realloc, traced */
/* The same through another allocator's realloc (Python's domains). */
typedef void *hw_realloc_fn(void *ctx, void *p, size_t size);
void *hw_traced_realloc_by(hw_realloc_fn *call, void *ctx, void *p, size_t size, int fn);
/* sample.c: run --sample-rate. Is this allocation of t's to be recorded?
 * (The countdown inline; crossing it draws the next.) */
int hw_sample_cross(struct thread_state *t, size_t size);
static inline int hw_sample_pick(struct thread_state *t, size_t size)
{
	t->sample_left -= (int64_t)size;
	return __builtin_expect(t->sample_left > 0, 1) ? 0 : hw_sample_cross(t, size);
}
void hw_sample_keep(uint64_t addr);	/* a recorded block: its free is to be sent */
int hw_sample_forget(uint64_t addr);	/* is the block being freed one to send? */
void hw_sample_init(void);		/* at attach, when sampling */

/* What sample.c lets the hooks see, so that the common case (an
 * allocation not recorded, a free of a block never recorded) is decided
 * inline: the table (NULL: none, every free sent), whether it gave up,
 * and the count of recorded blocks per stretch of it. */
#define HW_SAMPLED_BITS	18
#define HW_FILTER_BITS	11
extern uint64_t *hw_sampled;
extern int hw_sampled_full;
extern uint32_t hw_sample_filter[1u << HW_FILTER_BITS];

static inline uint32_t hw_sample_slot(uint64_t addr)
{
	return (uint32_t)(((addr >> 4) * 0x9e3779b97f4a7c15ull) >> (64 - HW_SAMPLED_BITS));
}

/* Is this free surely of a block never recorded? (No recorded block in
 * its stretch of the table.) */
static inline int hw_sample_surely_unrecorded(uint64_t addr)
{
	return hw_sampled && !__atomic_load_n(&hw_sampled_full, __ATOMIC_ACQUIRE) &&
	       !__atomic_load_n(&hw_sample_filter[hw_sample_slot(addr) >> (HW_SAMPLED_BITS - HW_FILTER_BITS)],
				__ATOMIC_ACQUIRE);
}

/* A block came into being, or goes: with --sample-rate, most are decided
 * here, without a call; the rest are emit.c's. */
static inline void hw_emit_alloc(void *p, size_t size, int fn)
{
	if (__builtin_expect(hw_layout.sample_rate != 0, 0) && !hw_sample_pick(&hw_thread, size))
		return;
	hw_emit_recorded_alloc(p, size, fn);
}

static inline void hw_emit_free(void *p, int fn)
{
	if (__builtin_expect(hw_layout.sample_rate != 0, 0) && hw_sample_surely_unrecorded((uintptr_t)p))
		return;
	hw_emit_recorded_free(p, fn);
}

void hw_thread_exit(void *ring);	/* pthread key destructor */
void hw_emit_init(void);		/* once, at attach: key, unwinder priming */
int hw_collector_gone(void);		/* heapwise exited or stopped draining for good */
int hw_collector_frozen(uint64_t still_ns);	/* a heartbeat still this long: it stopped draining */
int hw_collector_stalled(void);		/* a wait for it ran out, and it has not beaten since */

/* unwind.c */
#define HW_UNWIND_FRAMES 72	/* deepest walk unwind.c takes on; deeper ones use unw_backtrace */

/* One frame of a walk (see unwind.c). */
struct hw_frame {
	uint64_t ip;		/* return address (the first frame's: where the walk began) */
	uint64_t sp;		/* the frame's RSP */
	uint64_t bp;		/* its RBP, xor HW_HIDDEN */
	uint64_t bp_slot;	/* where the step to the next frame read RBP; 0: it did not */
	uint64_t hash;		/* hw_hash_frames of the ips from this frame outward */
};

/*
 * RBP often holds a heap address, and a walk is kept after it is done. So
 * it is kept xor this, which makes it no user-space address: the leak
 * scan, which reads our thread-local memory too, must not see a pointer.
 */
#define HW_HIDDEN	0xa5a5000000000000ull

void hw_unwind_init(void);	/* once, at attach */
void hw_unwind_forget(void);	/* code may have been unmapped (dlclose) */
/*
 * The stack from the frame whose registers are (ip, sp, bp) up, at most
 * max frames, that frame first: their count, with *frames pointing at them
 * until this thread's next walk; or -1 when unw_backtrace must do it.
 * *same is set when they are the very frames this thread's last walk
 * returned.
 */
int hw_unwind(uint64_t ip, uint64_t sp, uint64_t bp, unsigned max,
	      const struct hw_frame **frames, int *same);

/*
 * The hash of a stack, built from its outermost frame in, so that a walk
 * has the hash of every frame's way out as it goes; stacks of different
 * images never share one.
 */
static inline uint64_t hw_hash_frame(uint64_t outer, uint64_t ip)
{
	uint64_t h = (outer ^ ip) * 0xff51afd7ed558ccdull;

	return h ^ (h >> 32);
}

static inline uint64_t hw_hash_seed(void)
{
	return 0x9e3779b97f4a7c15ull ^ ((uint64_t)hw_image << 32);
}

static inline uint64_t hw_hash_frames(const uint64_t *ips, unsigned n)
{
	uint64_t h = hw_hash_seed();

	while (n)
		h = hw_hash_frame(h, ips[--n]);
	return h;
}

/* python.c */
extern int hw_py_pending;	/* an interpreter was found: wrap its allocator once it runs */
extern int hw_py_on;		/* its allocator is ours: events carry Python frames */
extern int hw_py_native;	/* run --native: its allocator's events get native frames too */
/* Is there an interpreter in the loaded objects? Called with the module log
 * (attach, dlopen), guard set. */
void hw_py_find(void);
/* A region was mapped in place of another (a forked child's): code objects
 * forget their entries, which are the old region's. */
void hw_py_new_region(void);
/* From a traced hook (guard clear): once the interpreter is initialised and
 * this thread holds its lock, wrap its MEM and OBJ allocators. */
void hw_py_install(void);
/*
 * The calling thread's Python frames, innermost first, as wire words (see
 * WIRE_PY_FRAME), at most max: their count, their hash in *hash (0 for
 * none), *cut set when there were more.
 */
unsigned hw_py_frames(uint64_t *out, unsigned max, uint64_t *hash, int *cut);

/* attach.c: the program is exiting; let the collector scan it first. */
void hw_exit_scan(void);
/* Ask for the scan that *state (a wire_scan_state of the header) stands
 * for, with this thread's id in *tid, and wait, boundedly, until it is done. */
void hw_ask_scan(uint32_t *state, int32_t *tid);

#endif

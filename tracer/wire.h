/*
 * wire.h - the shared-memory layout between the tracer and the collector.
 *
 * This is the one header report/collect/ includes from tracer/. The collector
 * (`heapwise run`) creates a memfd, lays this layout into it and hands its
 * path to the traced program; the preloaded tracer maps it and writes into it.
 * Nothing here allocates or links code: it is types, constants and the rules
 * each side must follow.
 *
 * The region, in order:
 *
 *   struct wire_header                  counters, geometry, the global stamp
 *   struct wire_ring    x ring_count    the rings' heads and tails, side by
 *                                       side, so that looking at every ring
 *                                       touches a few pages, not one each
 *   struct wire_record  x ring_records  the records of each ring in turn:
 *                       x ring_count    per-thread single-producer rings;
 *                                       ring 0 is shared, behind a spin lock,
 *                                       for threads that found no free ring
 *   struct wire_stack   x stack_slots   lock-free hash table of stacks
 *   uint64_t            x frame_capacity  the frames the stacks point into
 *   struct wire_module  x module_capacity append-only log of loaded objects
 *
 * Ordering rules (what makes the collector exact):
 *
 *  - Every record carries a stamp from one global counter (hdr->stamp), and
 *    every stamp taken is delivered in exactly one record (a realloc that
 *    fails still delivers its stamp as WIRE_REC_NOP). The collector can thus
 *    replay events in the order stamps were taken and knows when one is
 *    still in flight.
 *  - A free takes its stamp before the real free; an allocation takes its
 *    stamp after the real allocator returned. So when one thread frees an
 *    address and another gets it back at once, the free's stamp is lower.
 *  - A ring is single-producer: only its owning thread advances head, only
 *    the collector advances tail. Records are written, then head is stored
 *    with release; the collector loads head with acquire.
 *  - A thread raises rings_used past its ring's index before it marks the
 *    ring OWNED, so the collector, looking at rings below rings_used only,
 *    misses no ring that holds records.
 *  - A stack slot is claimed by CAS on its hash; its frames are written and
 *    then `ready` is stored with release. A record naming a stack id is
 *    published after the slot was claimed, and the collector reads frames
 *    only once it has seen `ready`.
 */
#ifndef HEAPWISE_WIRE_H
#define HEAPWISE_WIRE_H

#include <stdint.h>

#define WIRE_MAGIC		0x3165726977776875ULL	/* "uhwwire1" */
#define WIRE_VERSION		11

#define WIRE_ENV_SHM		"HEAPWISE_SHM"	/* path the tracer opens: /proc/PID/fd/N */
#define WIRE_ENV_DEBUG		"HEAPWISE_DEBUG"	/* set: the tracer says why it did not attach */

#define WIRE_CACHELINE		64
#define WIRE_MAX_DEPTH		256	/* hard cap on recorded frames per stack */
#define WIRE_MAX_SAMPLE_RATE	(1ull << 40)	/* --sample-rate at most 1 TiB */
#define WIRE_PATH_MAX		512	/* module paths longer than this are cut */
#define WIRE_MAX_CHILDREN	64	/* --follow-fork: processes traced at once besides the first */
#define WIRE_MAX_RINGS		4096	/* the most rings a region may have */
#define WIRE_MAX_FRAMES		(1ull << 26)	/* the most frames its pool may hold */

/* Record kinds. */
enum wire_rec_kind {
	WIRE_REC_ALLOC = 1,	/* addr, size, stack: a block came into being */
	WIRE_REC_FREE = 2,	/* addr: a block was handed back */
	WIRE_REC_NOP = 3,	/* a stamp that turned out to deliver nothing */
	WIRE_REC_EXEC = 4,	/* a new image attached; addr = its image number */
};

/* The entry point that produced a record (wire_record.fn). */
enum wire_fn {
	WIRE_FN_MALLOC = 1,
	WIRE_FN_CALLOC,
	WIRE_FN_REALLOC,
	WIRE_FN_REALLOCARRAY,
	WIRE_FN_POSIX_MEMALIGN,
	WIRE_FN_ALIGNED_ALLOC,
	WIRE_FN_MEMALIGN,
	WIRE_FN_VALLOC,
	WIRE_FN_PVALLOC,
	WIRE_FN_FREE,
	/* Python's MEM and OBJ domains (tracer/python.c) */
	WIRE_FN_PY_MALLOC,
	WIRE_FN_PY_CALLOC,
	WIRE_FN_PY_REALLOC,
	WIRE_FN_PY_FREE,
	WIRE_FN_COUNT
};

/* One event, 32 bytes; rings hold a power-of-two number of them. */
struct wire_record {
	uint64_t stamp;		/* from wire_header.stamp, unique, never 0 */
	uint64_t addr;		/* block address */
	uint64_t size;		/* requested size (ALLOC), 0 otherwise */
	uint32_t stack;		/* stack id (ALLOC), 0 = unknown */
	uint16_t kind;		/* enum wire_rec_kind */
	uint16_t fn;		/* enum wire_fn */
};

/* Ring states (wire_ring.state). */
enum wire_ring_state {
	WIRE_RING_FREE = 0,	/* nobody owns it; a thread may claim it by CAS */
	WIRE_RING_OWNED = 1,	/* a live thread writes into it */
	WIRE_RING_EXITING = 2,	/* its thread ran its exit destructors */
	WIRE_RING_CLAIMING = 3,	/* a thread is filling in tid and image */
};

struct wire_ring {
	/* written by the claiming thread, read by the collector */
	uint32_t state;		/* enum wire_ring_state, atomic */
	int32_t tid;		/* owner thread id */
	uint32_t image;		/* image number of the owner (see WIRE_REC_EXEC) */
	uint32_t lock;		/* ring 0 only: spin lock between producers */
	char pad0[WIRE_CACHELINE - 16];
	uint64_t head;		/* producer: records written (atomic, release) */
	char pad1[WIRE_CACHELINE - 8];
	uint64_t tail;		/* collector: records consumed (atomic, release) */
	/* A producer that found the ring full sets waiting and sleeps on
	 * wake (futex, shared); the collector, having moved tail, bumps wake
	 * and wakes it if waiting is set (both sides fence between their
	 * store and their load, so no wake-up is lost). */
	uint32_t waiting;
	uint32_t wake;
	char pad2[WIRE_CACHELINE - 16];
};

/* One slot of the stack table; id = slot index + 1. */
struct wire_stack {
	uint64_t hash;		/* 0 = empty; claimed by CAS */
	uint32_t first;		/* index of the first frame in the frame pool */
	uint16_t depth;		/* number of frames */
	uint8_t image;		/* image number (low bits) the frames belong to */
	uint8_t ready;		/* 1 once first/depth/frames are written (release), | WIRE_STACK_CUT */
};

#define WIRE_STACK_CUT		2	/* in ready: the walk went on past max_depth; frames were cut */

/* One entry of the module log: an object mapped into the traced image. */
struct wire_module {
	uint64_t bias;		/* load bias (l_addr) */
	uint64_t start;		/* lowest mapped address of its PT_LOAD segments */
	uint64_t end;		/* one past the highest */
	uint32_t image;		/* image number it was seen in */
	uint32_t ready;		/* 1 once written (release) */
	char path[WIRE_PATH_MAX];
};

#define WIRE_PY_FREELISTS	5	/* lists, dicts, keys tables, async generators' values and asends */
#define WIRE_PY_FREELIST_SLOTS	80
#define WIRE_PY_TUPLE_SIZES	20	/* free lists of tuples, one per size */
#define WIRE_PY_TUPLE_MAX	2000	/* tuples on each at most */

struct wire_header {
	uint64_t magic;		/* WIRE_MAGIC */
	uint32_t version;	/* WIRE_VERSION */
	uint32_t max_depth;	/* frames kept per stack, <= WIRE_MAX_DEPTH */
	uint64_t total_size;	/* bytes in the whole region */
	uint32_t ring_count;	/* rings, ring 0 being the shared one */
	uint32_t ring_records;	/* records per ring, a power of two */
	uint64_t rings_offset;	/* offsets from the start of the region */
	uint64_t records_offset;	/* ring i's records start at i * ring_records */
	uint64_t stacks_offset;
	uint32_t stack_slots;	/* a power of two */
	uint32_t module_capacity;
	uint64_t frames_offset;
	uint64_t frame_capacity;
	uint64_t modules_offset;
	int32_t collector_pid;	/* heapwise, to tell whether it still lives */
	int32_t traced_pid;	/* the process to trace; others leave the region alone */
	char pad0[WIRE_CACHELINE - 8];

	/* Hot, shared by all producers: alone on its line. */
	uint64_t stamp;		/* next stamp (atomic fetch-add); starts at 1 */
	char pad1[WIRE_CACHELINE - 8];

	/* Rarely written. All atomic. */
	uint64_t frames_used;	/* frame pool cursor */
	uint64_t lost_events;	/* events the tracer could not deliver */
	uint64_t truncated_stacks;	/* stacks cut at max_depth */
	uint64_t stacks_dropped;	/* allocations whose stack found no room */
	uint64_t heartbeat_ns;	/* CLOCK_MONOTONIC of the collector's last loop */
	uint32_t modules_used;	/* module log cursor */
	uint32_t image;		/* images attached so far (exec bumps it) */
	uint32_t tracer_state;	/* enum wire_tracer_state */
	uint32_t threads_seen;	/* threads that claimed a ring or used ring 0 */
	uint32_t collector_done;	/* the collector stopped draining for good */
	uint32_t rings_used;	/* 1 + the highest ring index ever claimed (atomic) */
	uint64_t ring_waits;	/* times a thread found its ring full and waited */

	/*
	 * Reachability scans. The collector sets scan_at_exit; the tracer,
	 * when the program exits, sets exit_scan to WIRE_SCAN_REQUESTED and
	 * waits (futex on exit_scan) until the collector stored
	 * WIRE_SCAN_DONE, or the collector is gone. (`heapwise snapshot`
	 * asks heapwise run over its dashboards' socket, not through here.)
	 */
	uint32_t scan_at_exit;
	uint32_t exit_scan;		/* enum wire_scan_state */
	int32_t exit_scan_tid;		/* the thread waiting in exit */
	int32_t attach_errno;		/* why an image could not map the region (ENOMEM: RLIMIT_AS) */
	uint64_t static_tls_size;	/* static TLS in use below the thread pointer; 0 unknown */
	/* --sample-rate: the mean bytes allocated between two recorded
	 * allocations (a Poisson process over bytes, tracer/sample.c); 0
	 * records every one. Only the frees of recorded blocks are sent. */
	uint64_t sample_rate;

	/*
	 * An exec the traced process is making (tracer/exec.c): written just
	 * before the real exec, cleared when it returns (failed). A newer
	 * image attaching means the exec'd program is traced; none means it
	 * went untraced, and exec_path says what it was.
	 */
	uint32_t exec_from_image;	/* the image that exec'd, 0 when none is pending */
	uint32_t pad5;
	char exec_path[WIRE_PATH_MAX];	/* NUL-terminated (the collector checks) */

	/*
	 * --follow-fork, in the first region only: every process of the tree
	 * finds it through HEAPWISE_SHM. A process to be traced that has no
	 * region of its own (a forked child of a traced process, in its fork
	 * handler; or an image exec'd by a process that is not traced yet, as
	 * posix_spawn's children are) claims a slot by CAS of pid from 0 to
	 * its pid, writes fork_stamp, stores WIRE_CHILD_REQUESTED and waits
	 * (futex on state, bounded). The collector checks that the pid is a
	 * live descendant of the traced program, makes it a region and stores
	 * fd (its descriptor for it: the process opens /proc/COLLECTOR/fd/FD)
	 * and WIRE_CHILD_READY, or WIRE_CHILD_REFUSED. A process that stops
	 * waiting moves REQUESTED to ABANDONED by CAS. The slot stays the
	 * process's while it lives (an image it execs finds its region there);
	 * the collector frees it when the process is gone.
	 */
	uint32_t follow_fork;		/* 1: children are to be traced */
	uint32_t children_refused;	/* processes that found no slot (atomic) */
	struct wire_child {
		int32_t pid;		/* 0 = free; claimed by CAS */
		uint32_t state;		/* enum wire_child_state, atomic */
		int32_t fd;		/* the collector's descriptor of its region */
		uint32_t pad;
		uint64_t fork_stamp;	/* the parent region's stamp at the fork; 0 after an exec */
	} children[WIRE_MAX_CHILDREN];

	/*
	 * Python (tracer/python.c). The collector sets python_off; the tracer
	 * of the image that holds an interpreter says what it found, and
	 * fills the code log.
	 */
	uint32_t python_off;		/* 1: --python=off */
	uint32_t python_native;		/* 1: run --native: the Python allocator's events get native frames */
	uint32_t python_state;		/* enum wire_python_state */
	uint32_t python_version;	/* Py_Version (0x030b07f0 is 3.11.7), 0 unknown */
	uint32_t python_image;		/* the image it is in */
	uint32_t pad6;
	char python_object[128];	/* the object that holds it: "libpython3.11.so.1.0" */
	/* The Python exit snapshot: after the program's threads are joined and
	 * before the interpreter frees its objects (an atexit callback), the
	 * tracer asks for a scanned snapshot named "py-exit", as it asks for
	 * the exit scan (enum wire_scan_state, futex on it). */
	uint32_t py_exit_scan;
	int32_t py_exit_tid;
	/* Where the main interpreter keeps its cycle collector's state, for
	 * the collector to read at py-exit (0: unknown): `enabled` (an int),
	 * the 3 generations (24 bytes each: a list head, then the threshold
	 * and the count, ints, at 16 and 20) and their statistics (24 bytes
	 * each: collections, collected, uncollectable, 64-bit). */
	uint64_t python_gc_enabled;
	uint64_t python_gc_generations;
	uint64_t python_gc_stats;
	/* What the collector needs to tell a block's Python object and its
	 * type (0: unknown): PyType_Type's address, where a type keeps its
	 * tp_name, tp_basicsize and tp_flags, and the tp_flags that put a
	 * 16-byte pre-header before an object (managed dict, managed weakref;
	 * a GC type has one more, its PyGC_Head). */
	uint64_t python_type_type;
	uint32_t python_tp_name, python_tp_basicsize, python_tp_flags;
	uint32_t python_preheader_flags;
	uint64_t python_modules;	/* sys.modules, a dict (0: unknown), whose modules' globals name roots */
	/* The interpreter's free lists of objects to reuse, each an array of
	 * WIRE_PY_FREELIST_SLOTS pointers and the count (an int) of those in
	 * use: the slots past it hold what was reused since, no references
	 * (0: unknown). */
	struct {
		uint64_t items, count;
	} python_freelists[WIRE_PY_FREELISTS];
	/* Its free lists of tuples, one for each size below
	 * WIRE_PY_TUPLE_SIZES: an array of heads, each tuple's first item the
	 * next, and an array of their counts (ints). The objects on all these
	 * lists are dead: what they hold is stale, no references. */
	struct {
		uint64_t heads, counts;
	} python_tuples;
	/* The interpreter's threads: where the head of their list is (0:
	 * unknown), where a thread state keeps the next, its stack of frames'
	 * chunk in use ({previous, size, ...}) and that stack's top. Above
	 * the top are frames gone, stale, no roots. */
	uint64_t python_threads;
	uint32_t python_tstate_next, python_tstate_chunk, python_tstate_top;
	uint32_t pad7;
	/* And each thread's frames, for a scan while the program runs: from a
	 * thread state (through its _PyCFrame at tstate_cframe, -1 for none) to
	 * the innermost frame, each frame's previous, code object (of type
	 * code_type: its locals' count, their names' tuple, its qualname) and
	 * owner (owner_cstack, -1 for none: a frame of no code), and its locals'
	 * values, each pointer a root named by its local. Offsets in bytes. */
	struct wire_py_frames {
		uint64_t code_type;
		int32_t tstate_cframe;
		uint32_t current_frame, previous, code, owner;
		int32_t owner_cstack;
		uint32_t localsplus, nlocalsplus, localsplusnames, qualname;
	} python_frames;
	uint64_t codes_offset;		/* the code log: code_capacity bytes */
	uint64_t code_capacity;
	uint64_t codes_used;		/* bytes reserved (atomic) */
};

/*
 * Python frames. A stack's frames are its native return addresses,
 * innermost first, then the Python frames of the thread's interpreter,
 * innermost first, each one word: WIRE_PY_FRAME, WIRE_PY_ENTRY on the
 * outermost frame of each run of the interpreter loop (the frames one
 * native _PyEval_EvalFrameDefault ran), the code object's entry in the
 * code log (WIRE_PY_CODE_REF, in 8-byte units from the log's start, 0 =
 * not logged), and the instruction it is at (code units from the start of
 * its bytecode). No return address has the top bit set.
 */
#define WIRE_PY_FRAME		(1ull << 63)
#define WIRE_PY_ENTRY		(1ull << 62)
#define WIRE_PY_CODE_REF(v)	(((v) >> 32) & ((1ull << 30) - 1))
#define WIRE_PY_INSTR(v)	((uint32_t)(v))
#define WIRE_PY_CODE_MAX	(1ull << 30)	/* refs fit 30 bits */

/*
 * One entry of the code log: what a Python frame needs of its code object,
 * copied once while the object lives (co_extra remembers the entry, so a
 * new code object at a dead one's address gets its own). The tracer
 * reserves size bytes (codes_used, atomic), writes the strings and the line
 * table after the header, and stores size last (release); 0 = not written.
 */
struct wire_code {
	uint32_t size;		/* bytes of the entry, header included, a multiple of 8 */
	int32_t first_line;	/* co_firstlineno */
	uint32_t qualname_len;	/* bytes of co_qualname (UTF-8), then ... */
	uint32_t filename_len;	/* ... of co_filename, then ... */
	uint32_t linetable_len;	/* ... of co_linetable (3.11's location table) */
	uint32_t pad;
};

#define WIRE_CODE_TEXT_MAX	4096		/* a name or file name longer than this is cut */
#define WIRE_CODE_TABLE_MAX	(256u * 1024)	/* a longer line table is left out */

enum wire_python_state {
	WIRE_PYTHON_NONE = 0,		/* no interpreter seen */
	WIRE_PYTHON_ON = 1,		/* Python frames on, its allocator traced */
	WIRE_PYTHON_UNSUPPORTED = 2,	/* a version we cannot read: native frames only */
	WIRE_PYTHON_FREE_THREADED = 3,	/* a free-threaded build: native frames only */
	WIRE_PYTHON_OFF = 4,		/* --python=off */
	WIRE_PYTHON_FAILED = 5,		/* it would not take our allocator: native frames only */
};

enum wire_child_state {
	WIRE_CHILD_FREE = 0,
	WIRE_CHILD_REQUESTED = 1,	/* the process waits for its region */
	WIRE_CHILD_READY = 2,		/* fd names its region */
	WIRE_CHILD_REFUSED = 3,		/* no region for it: it runs untraced */
	WIRE_CHILD_ABANDONED = 4,	/* it stopped waiting */
};

enum wire_scan_state {
	WIRE_SCAN_NONE = 0,
	WIRE_SCAN_REQUESTED = 1,	/* the tracer waits in exit */
	WIRE_SCAN_DONE = 2,		/* scanned (or given up): go on exiting */
	WIRE_SCAN_ABANDONED = 3,	/* the tracer stopped waiting (the collector was stopped) */
};

enum wire_tracer_state {
	WIRE_TRACER_WAITING = 0,	/* nobody attached yet */
	WIRE_TRACER_ATTACHED = 1,	/* tracing */
	WIRE_TRACER_DISABLED = 2,	/* gave up (collector gone): no more events */
};

static inline struct wire_ring *wire_ring_at(struct wire_header *h, uint32_t i)
{
	return (struct wire_ring *)((char *)h + h->rings_offset) + i;
}

static inline struct wire_record *wire_ring_records(struct wire_header *h, uint32_t i)
{
	return (struct wire_record *)((char *)h + h->records_offset) + (uint64_t)i * h->ring_records;
}

static inline struct wire_stack *wire_stacks(struct wire_header *h)
{
	return (struct wire_stack *)((char *)h + h->stacks_offset);
}

static inline uint64_t *wire_frames(struct wire_header *h)
{
	return (uint64_t *)((char *)h + h->frames_offset);
}

static inline struct wire_module *wire_modules(struct wire_header *h)
{
	return (struct wire_module *)((char *)h + h->modules_offset);
}

_Static_assert(sizeof(struct wire_record) == 32, "wire_record is 32 bytes");
_Static_assert(sizeof(struct wire_ring) == 3 * WIRE_CACHELINE, "ring header is 3 lines");
_Static_assert(sizeof(struct wire_stack) == 16, "wire_stack is 16 bytes");
_Static_assert(sizeof(struct wire_code) == 24, "wire_code is 24 bytes");
_Static_assert(sizeof(struct wire_header) <= 4096, "the header fits before the first ring");

#endif

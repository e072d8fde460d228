/*
 * profile.h - a heapwise profile in memory, and the .hws file that holds it.
 *
 * The collector fills one at the end of a run; profile_read() rebuilds one
 * from a file. Everything a report needs is here, symbolized: a profile can
 * be read on a machine that never saw the binaries. The file layout is
 * described in man/heapwise-format.5; this header is its reference.
 *
 * Invariants of a profile that profile_read() returned (it checks them all,
 * so reports may rely on them):
 *  - every string offset is < strings_len, and strings[0] == '\0';
 *  - every frame's module is < nmodules or PROFILE_NONE;
 *  - every stack's frames lie inside stack_frames[], every index < nframes;
 *  - every site's and block's stack is < nstacks (stack 0 is the empty stack).
 */
#ifndef HEAPWISE_PROFILE_H
#define HEAPWISE_PROFILE_H

#include <stddef.h>
#include <stdint.h>

#define PROFILE_ERRLEN		256
#define PROFILE_NONE		UINT32_MAX
#define PROFILE_VERSION		3	/* written: snapshot deltas, zstd sections */
#define PROFILE_OLDEST_VERSION	1	/* read: fixed 32-byte snapshot blocks */

#define PROFILE_FRAME_INLINED	1	/* an inlined call inside the next frame */
#define PROFILE_FRAME_PYTHON	2	/* a Python frame: function = qualname, file = co_filename */
#define PROFILE_FRAME_PY_ENTRY	4	/* the outermost Python frame one interpreter loop ran */
#define PROFILE_FRAME_TRUNCATED	8	/* "[truncated]", outermost: the stack was cut at max_depth */

/* A typed snapshot's name for blocks that hold no Python object. */
#define PROFILE_NOT_AN_OBJECT	"<not a Python object>"

struct profile_module {
	uint32_t path;		/* string offset */
	uint32_t build_id;	/* string offset: hex, "" when none */
	uint64_t bias;
	uint64_t start, end;
	uint32_t image;
	uint32_t pad;
};

struct profile_frame {
	uint64_t ip;		/* return address as recorded (not adjusted) */
	uint32_t module;	/* index, or PROFILE_NONE */
	uint32_t function;	/* string offset, 0 when unknown */
	uint32_t file;		/* string offset, 0 when unknown */
	uint32_t line;		/* 0 when unknown */
	uint32_t flags;		/* PROFILE_FRAME_* */
	uint32_t pad;
};

/* Where a frame's source is, beside it (frame_sources[i] is frames[i]'s):
 * what pprof's -list needs from any directory. */
struct profile_frame_source {
	uint32_t dir;		/* string offset: the compilation directory a relative
				 * file is relative to; 0 when absolute or unknown */
	uint32_t start_line;	/* the function's first line, 0 when unknown */
};

struct profile_stack {
	uint32_t first;		/* index into stack_frames */
	uint32_t depth;		/* frames, innermost first */
};

/* What one stack did over the run. */
/* What a reader accepts: a block of at most 8 TiB (the collector's own
 * limit), and at most 2^62 bytes or blocks in a snapshot and in any
 * counter summed over the sites, so reports can add and subtract them. */
#define PROFILE_MAX_BLOCK_SIZE	((1ull << 43) - 1)
#define PROFILE_MAX_BYTES	(1ull << 62)

struct profile_site {
	uint32_t stack;
	uint32_t pad;
	uint64_t allocations;	/* blocks allocated over the run */
	uint64_t bytes_allocated;
	uint64_t frees;		/* of those, freed */
	uint64_t temporary;	/* freed almost at once (see totals.temporary_threshold) */
	uint64_t live_blocks;	/* still allocated at exit */
	uint64_t live_bytes;
	uint64_t peak_blocks;	/* allocated at the moment of the heap peak */
	uint64_t peak_bytes;
};

struct profile_sample {
	uint64_t t_ns;		/* since the program started */
	uint64_t stamp;		/* events replayed by then */
	uint64_t heap_bytes;	/* live heap */
	uint64_t rss_bytes;	/* resident set of the program */
	uint64_t allocations;	/* allocations so far */
	uint64_t frees;
};

struct profile_block {
	uint64_t addr;
	uint64_t size;
	uint64_t stamp;		/* when it was allocated */
	uint32_t stack;
	uint32_t generation;	/* earlier snapshots it was already live in */
};

/*
 * Reachability: what a scan of the stopped program found pointing at the
 * blocks of a snapshot (see heapwise-leaks(1)). A root is one word outside
 * the heap that holds a pointer to a block; an edge is one pointer.
 */
enum profile_root_kind {
	PROFILE_ROOT_GLOBAL = 1,	/* data of a loaded object: name = symbol, module set */
	PROFILE_ROOT_STACK = 2,		/* a thread's stack: name = the frame's function */
	PROFILE_ROOT_REGISTER = 3,	/* a thread's register: name = the register */
	PROFILE_ROOT_TLS = 4,		/* a thread's static TLS or thread descriptor */
	PROFILE_ROOT_MAPPING = 5,	/* other memory the program mapped: name = path, "" if anonymous */
	PROFILE_ROOT_LOADER = 6,	/* a block the dynamic loader made: reachable by rule */
	PROFILE_ROOT_KINDS
};

struct profile_root {
	uint32_t kind;		/* enum profile_root_kind */
	uint32_t tid;		/* stack, register, TLS: the thread */
	uint64_t addr;		/* where the pointer is stored; 0 for a register */
	uint64_t offset;	/* of the pointer inside what name names: the symbol, the
				 * frame (from its stack pointer), the TLS (from the thread
				 * pointer), the mapping, the register file */
	uint32_t name;		/* string offset, 0 when unknown */
	uint32_t module;	/* global: the module, else PROFILE_NONE */
	uint32_t frame;		/* stack: frame number, 0 innermost */
	uint32_t python;	/* string offset: in Python's words, the module's
				 * global that holds it ("module M .__dict__['K']"),
				 * 0 when none (and in profiles before it) */
};

/* memcheck's heuristics: an interior pointer that counts as a start pointer. */
enum profile_heuristic {
	PROFILE_HEUR_NONE = 0,
	PROFILE_HEUR_STDSTRING = 1,	/* libstdc++'s old COW std::string */
	PROFILE_HEUR_LENGTH64 = 2,	/* a 64-bit length before the data (sqlite) */
	PROFILE_HEUR_NEWARRAY = 3,	/* new T[] with an element count before it */
	PROFILE_HEUR_MULTIPLE_INHERITANCE = 4,	/* a base-class subobject with its own vtable */
	PROFILE_HEUR_PYOBJECT = 5,	/* a Python object, past its pre-header (PyGC_Head, managed dict) */
	PROFILE_HEUR_PYVALUES = 6,	/* CPython 3.11-3.12's dict values, past their prefix */
	PROFILE_HEURISTICS
};

#define PROFILE_EDGE_ROOT	0x80000000u	/* edge.from is a root index, not a block */
#define PROFILE_TARGET_MAX	((1u << 28) - 1)	/* edge.target saturates here */

struct profile_edge {
	uint32_t from;		/* block index in the snapshot, or PROFILE_EDGE_ROOT | root */
	uint32_t to;		/* block index */
	uint32_t offset;	/* of the pointer inside a block (saturated at UINT32_MAX) */
	uint32_t target : 28;	/* how far into `to` it points: 0 = a start pointer */
	uint32_t heuristic : 4;	/* enum profile_heuristic, for an interior pointer */
};

/* Does e count as a start pointer (memcheck's rule: at the block's start,
 * or inside it where a heuristic accepts it)? */
static inline int profile_edge_starts(const struct profile_edge *e)
{
	return e->target == 0 || e->heuristic != PROFILE_HEUR_NONE;
}

/* What a pointer is in Python's words (a Python program's scan). */
enum profile_name_kind {
	PROFILE_NAME_STR_KEY = 1,	/* a dict's value, its key a str: dict['text'] */
	PROFILE_NAME_INT_KEY = 2,	/* a dict's value, its key an int: dict[number] */
	PROFILE_NAME_OTHER_KEY = 3,	/* a dict's value, its key of type text (0: unknown) */
	PROFILE_NAME_KEY = 4,		/* a dict's key */
	PROFILE_NAME_LIST = 5,		/* at offset 0, for all of block from: a list's
					 * items, the pointer at offset o item o / 8 if
					 * below number, the list's length (past it:
					 * spare room, no item) */
	PROFILE_NAME_ATTRIBUTE = 6,	/* an instance's attribute named text */
	PROFILE_NAME_GLOBAL = 7,	/* a module's global: text is its whole name,
					 * "module M .__dict__['K']" */
	PROFILE_NAME_KINDS
};

/* The name of the pointer at offset in block from (an edge's from and offset). */
struct profile_edge_name {
	uint32_t from;
	uint32_t offset;
	uint32_t kind;		/* enum profile_name_kind */
	uint32_t text;		/* string offset: a str key, a key's type name; 0: none */
	int64_t number;		/* an int key */
};

struct profile_scan {
	uint64_t stop_ns;		/* how long the program was stopped */
	uint64_t threads;		/* threads stopped and scanned */
	uint64_t root_bytes;		/* bytes of roots read */
	uint64_t heap_bytes;		/* bytes of blocks read */
	uint64_t unreadable_bytes;	/* bytes that could not be read */
	uint64_t nroots, nedges, nunscanned;
	struct profile_root *roots;
	struct profile_edge *edges;	/* sorted by to, then from */
	uint32_t *unscanned;		/* blocks born after the scan (not in the graph) */
	struct profile_edge_name *names;	/* sorted by from, then offset; NULL: none */
	uint64_t nnames;
};

/* The Python name recorded for the pointer at offset in block from, or
 * NULL (a list's items have one name, at offset 0). */
const struct profile_edge_name *profile_edge_name_of(const struct profile_scan *sc, uint32_t from,
						     uint32_t offset);

/* What one stack allocated between two moments of the run (a snapshot's
 * and another, as the snapshot's allocated_kind says). */
struct profile_alloc_count {
	uint32_t stack;
	uint32_t pad;
	uint64_t allocations;
	uint64_t bytes;
};

enum profile_allocated_kind {
	PROFILE_ALLOCATED_UNKNOWN = 0,	/* only the run's totals are known (the
					 * exit, and older files) */
	PROFILE_ALLOCATED_SINCE = 1,	/* since the snapshot before that has counts
					 * of this kind (from the start for the first) */
	PROFILE_ALLOCATED_AFTER = 2,	/* after this snapshot, to the end (the peak) */
};

/* What the resident set was made of when a snapshot was scanned, in
 * bytes; the parts add up to rss. */
struct profile_rss_parts {
	uint64_t rss;
	uint64_t live_heap;		/* the live blocks (their resident part) */
	uint64_t pymalloc_free;		/* free space in pymalloc's arenas */
	uint64_t allocator_free;	/* free space malloc holds in its heaps */
	uint64_t other;			/* code, stacks, other mappings */
};

/* pymalloc's arenas where a Python program was scanned: how many, how many
 * mostly free (under a quarter of their pools' bytes live), and the sites
 * of the blocks that keep those from going back, most blocks first. */
#define PROFILE_PINS_MAX	5
struct profile_pin {
	uint32_t stack;
	uint32_t pad;
	uint64_t blocks, bytes;
};
struct profile_pins {
	uint64_t arenas, mostly_free, n;
	struct profile_pin top[PROFILE_PINS_MAX];
};

struct profile_snapshot {
	uint32_t name;		/* string offset: "exit", "peak", a label */
	uint32_t flags;
	uint64_t t_ns;
	uint64_t stamp;		/* taken after this many events */
	uint64_t nblocks;
	struct profile_block *blocks;	/* sorted by address */
	uint64_t bytes;		/* sum of the blocks' sizes, or of their weights when
				 * sampled (derived) */
	struct profile_scan *scan;	/* NULL when not scanned */
	uint32_t *types;	/* per block: string offset of its Python object's type
				 * name, 0 for a block that holds none; NULL: not typed */
	uint64_t sample_rate;	/* the profile's --sample-rate, 0 when exact (derived):
				 * what each block counts for, profile_block_weight */
	int unread;		/* read lazily: blocks is NULL until profile_load_snapshot;
				 * nblocks and bytes are known */
	uint64_t est_blocks;	/* sampled: the blocks its recorded ones stand for; else nblocks */
	int est_known;		/* est_blocks is known (not for an older file's unread snapshot) */
	int has_rss_parts;	/* scanned, not sampled: rss_parts holds its resident set */
	struct profile_rss_parts rss_parts;
	int has_pins;		/* a Python program's: pins holds its arenas */
	struct profile_pins pins;
	uint32_t allocated_kind;	/* PROFILE_ALLOCATED_*: what allocated holds */
	struct profile_alloc_count *allocated;	/* by stack, those that allocated */
	uint64_t nallocated;
};

/* Allocations over the run by size: bucket 0 holds size 0, bucket k sizes
 * from 2^(k-1) to 2^k - 1. */
#define PROFILE_SIZE_BUCKETS	65

struct profile_size_bucket {
	uint64_t count;
	uint64_t bytes;
};

/* Run-wide counters. Stored as a list of u64 in this order. */
struct profile_totals {
	uint64_t allocations;
	uint64_t frees;
	uint64_t bytes_allocated;
	uint64_t bytes_freed;
	uint64_t peak_bytes;
	uint64_t peak_blocks;
	uint64_t peak_t_ns;
	uint64_t live_blocks;		/* at exit */
	uint64_t live_bytes;
	uint64_t lost_events;		/* events the tracer or the collector lost */
	uint64_t unknown_frees;		/* frees of blocks never seen allocated */
	uint64_t truncated_stacks;	/* stacks cut at max_depth */
	uint64_t stacks_dropped;	/* allocations recorded without a stack */
	uint64_t temporary;		/* allocations freed almost at once */
	uint64_t temporary_threshold;	/* "almost": at most this many allocations in between */
	uint64_t exec_released_blocks;	/* blocks dropped because the image exec'd */
	uint64_t exec_released_bytes;
	uint64_t images;		/* images traced (exec adds one) */
	uint64_t threads;		/* threads that allocated or freed */
	uint64_t duration_ns;		/* wall time of the program */
	uint64_t max_depth;		/* frames kept per stack */
	uint64_t exit_code;		/* exit status, or 128+signal */
	uint64_t term_signal;		/* signal that ended it, 0 if none */
	uint64_t peak_rss_bytes;
	uint64_t pid;
	uint64_t start_unix;		/* wall-clock start, seconds */
	uint64_t ring_waits;		/* times the program waited for the collector */
};

#define PROFILE_TOTALS_COUNT (sizeof(struct profile_totals) / sizeof(uint64_t))

struct profile_meta {
	uint32_t key;		/* string offsets */
	uint32_t value;
};

struct profile {
	char *strings;			/* NUL-separated; offset 0 is "" */
	size_t strings_len, strings_cap;
	struct profile_meta *meta;
	size_t nmeta;
	struct profile_totals totals;
	struct profile_module *modules;
	size_t nmodules;
	struct profile_frame *frames;
	size_t nframes;
	struct profile_frame_source *frame_sources;	/* nframes of them, or NULL (older files) */
	struct profile_stack *stacks;
	size_t nstacks;
	uint32_t *stack_frames;
	size_t nstack_frames;
	struct profile_site *sites;
	size_t nsites;
	struct profile_sample *samples;
	size_t nsamples;
	struct profile_snapshot *snapshots;
	size_t nsnapshots;
	struct profile_size_bucket sizes[PROFILE_SIZE_BUCKETS];
	int has_sizes;			/* the file had the histogram (older ones do not) */
	void *intern;			/* string dedup while building (not stored) */
	void *source;			/* read lazily: the file its unread snapshots are in */
	void (*source_free)(void *source);	/* how profile_release lets it go */
	struct profile_loader *loader;	/* built with snapshots made when asked for, or NULL */
};

/*
 * A profile built in memory whose unread snapshots are made only when they
 * are needed (the collector's, from the changes it kept: a run's thirty
 * snapshots need not all be in memory at once, not even while the file is
 * written). profile_load_snapshot and profile_unload_snapshot go through
 * it; profile_release calls release. Embed it in what it needs.
 */
struct profile_loader {
	/* Fill snapshot k's blocks (unread: nblocks and bytes are known);
	 * 0 or -errno with err filled. */
	int (*load)(struct profile_loader *l, struct profile *p, size_t k, char err[PROFILE_ERRLEN]);
	/* Let snapshot k's blocks go (setting it unread again) when it can
	 * make them again; else leave them. */
	void (*unload)(struct profile_loader *l, struct profile *p, size_t k);
	void (*release)(struct profile_loader *l);
};

/* The histogram bucket of an allocation of that size. */
static inline unsigned profile_size_bucket(uint64_t size)
{
	return size ? 64 - (unsigned)__builtin_clzll(size) : 0;
}

/*
 * run --sample-rate R recorded a block of size s with probability
 * p = 1 - exp(-s / R) (tracer/sample.c), and stores R as the meta
 * "sample-rate". The block then stands for s / p bytes in 1 / p blocks,
 * an unbiased estimate; every counter of a sampled profile sums these.
 * With R = 0 (every allocation recorded) a block is itself: s bytes, 1.
 */
struct profile_weight {
	uint64_t bytes;
	uint64_t blocks;
};

#define PROFILE_META_SAMPLE_RATE "sample-rate"
/* CPU time (user + system, ns) of the traced program (its whole tree) and of
 * heapwise run itself (collector, scans, the profile's build), as decimals */
#define PROFILE_META_PROGRAM_CPU "program-cpu-ns"
#define PROFILE_META_HEAPWISE_CPU "heapwise-cpu-ns"
/* events that came more than the collector waits for them after the one
 * before, and were replayed out of order (not lost), as a decimal */
#define PROFILE_META_LATE_EVENTS "late-events"
#define PROFILE_MAX_SAMPLE_RATE	(1ull << 40)	/* 1 TiB: what run takes and the tracer accepts */

struct profile_weight profile_sample_weight(uint64_t rate, uint64_t size);

/* The profile's sample rate, 0 when every allocation was recorded. */
uint64_t profile_sample_rate(const struct profile *p);

/* A snapshot block's weight in p. */
static inline struct profile_weight profile_block_weight(uint64_t rate, const struct profile_block *b)
{
	if (!rate)
		return (struct profile_weight){ b->size, 1 };
	return profile_sample_weight(rate, b->size);
}

/* A sampled profile's snapshots' bytes, as estimates, and each snapshot's
 * sample_rate (profile_read does it). NULL, or why a snapshot cannot be
 * weighed: its estimates pass 2^62, so a report's sums could wrap. */
const char *profile_weigh_snapshots(struct profile *p);

/* An empty profile with strings[0] == "". Returns 0 or -ENOMEM. */
int profile_init(struct profile *p);
void profile_release(struct profile *p);

/* Add a string (deduplicated); returns its offset, 0 on failure. */
uint32_t profile_intern(struct profile *p, const char *s);
static inline const char *profile_str(const struct profile *p, uint32_t off)
{
	return p->strings + off;
}

int profile_set_meta(struct profile *p, const char *key, const char *value);
int profile_set_meta_u64(struct profile *p, const char *key, uint64_t value);	/* as a decimal */
const char *profile_get_meta(const struct profile *p, const char *key);	/* NULL if absent */
/* A meta value that is a decimal number: 0, -ENOENT (absent or not a
 * number), -EINVAL (out of range or trailing text). */
int profile_meta_u64(const struct profile *p, const char *key, uint64_t *out);

_Static_assert(offsetof(struct profile_scan, roots) == 8 * sizeof(uint64_t),
	       "the scan header is the eight counters written as they are");

/* Free a scan and everything it holds (NULL is fine). */
void profile_scan_free(struct profile_scan *scan);

/* Write p to path (atomically: a temporary file renamed into place). */
int profile_write(const struct profile *p, const char *path, char err[PROFILE_ERRLEN]);

/* Write p into fd (a seekable file, from offset 0; a memfd will do); name
 * is what messages call it. */
int profile_write_fd(const struct profile *p, int fd, const char *name, char err[PROFILE_ERRLEN]);

/* Read and check a file. On failure *p is left empty and err says why. */
int profile_read(struct profile *p, const char *path, char err[PROFILE_ERRLEN]);

/* The same from an open regular file (read with pread: its offset stays). */
int profile_read_fd(struct profile *p, int fd, const char *name, char err[PROFILE_ERRLEN]);

/*
 * Read and check a file but leave its snapshots' blocks in it (version 3;
 * older files are read whole): each snapshot's name, time, nblocks and
 * bytes are there, its blocks NULL and unread set until
 * profile_load_snapshot(). Every checksum is checked now; the blocks'
 * contents when they are loaded. The file stays open until
 * profile_release(). What a report that reads one snapshot of a long run
 * wants: the others cost nothing.
 */
int profile_read_lazy(struct profile *p, const char *path, char err[PROFILE_ERRLEN]);

/* The same without the snapshots' reachability scans (scan NULL in every
 * one, their sections not even read): for a report of the heap alone,
 * which never follows a pointer (top, diff); a scan is most of a scanned
 * snapshot's bytes, 38 MB of edges for 2.4M blocks. */
int profile_read_lazy_unscanned(struct profile *p, const char *path, char err[PROFILE_ERRLEN]);

/* A snapshot's blocks read and checked, if they are not in memory yet. */
int profile_load_snapshot(struct profile *p, struct profile_snapshot *s, char err[PROFILE_ERRLEN]);

/* Let a snapshot's blocks go again, when they can be read again (a lazily
 * read profile, or one its loader can make again); else nothing. */
void profile_unload_snapshot(struct profile *p, struct profile_snapshot *s);

/*
 * What each stack had allocated by the moment of snapshot k (pprof's
 * alloc_objects and alloc_space are cumulative to the profile's time):
 * allocations[stack] and bytes[stack], arrays of nstacks the caller zeroed.
 * A snapshot without counts (the exit, older files) gets the run's.
 */
void profile_allocated_until(const struct profile *p, size_t k, uint64_t *allocations, uint64_t *bytes);

/* The main program of image (exec makes a new one): the first module
 * logged for it, or PROFILE_NONE. */
uint32_t profile_image_program(const struct profile *p, uint32_t image);

/* The snapshot called name ("exit", "peak", a label, or a 1-based number); NULL if none. */
struct profile_snapshot *profile_find_snapshot(struct profile *p, const char *name);

#endif

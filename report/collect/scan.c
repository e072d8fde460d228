/*
 * scan.c - the heap graph of a stopped program: which words point where.
 *
 * Overview. A pointer lookup is the inner loop (a 100 MB heap is 12.5
 * million words), so the sorted blocks are split into clusters (runs of
 * blocks less than CLUSTER_GAP apart: malloc's heaps, big mmapped blocks)
 * and each cluster gets a table from every 2^shift bytes of its range to
 * the first block that ends past them; a lookup is one range check, a
 * short search among few clusters, one table load and a step or two.
 *
 * Roots are scanned first, each word at most once, in this order: each
 * thread's static TLS and thread descriptor, its stack from the stack
 * pointer (less the 128-byte red zone below it) to the top, its registers;
 * the writable segments of every loaded object; then other memory the
 * program mapped, except malloc's own heaps (they hold freed chunks with
 * stale pointers) and stacks of threads that are gone (behind a guard
 * page); a mapping that holds live blocks is scanned around them (the
 * blocks are read block by block).
 * Blocks are read READ_CHUNK at a time in one process_vm_readv call, whose
 * up to BATCH_BLOCKS pieces are spans of blocks: blocks at most SPAN_GAP
 * apart (malloc's chunk headers between them) are one piece, for the
 * kernel pins each piece's pages on its own (2.4M small blocks, a piece
 * each, kept the program stopped 5.4 s, mostly in the kernel).
 *
 * Interior pointers then get a second look, as memcheck gives them:
 * memcheck's four heuristics (std::string, length64, new[], multiple
 * inheritance) can make one count as a start pointer; and a pointer to the
 * exact place where glibc's next chunk header begins is malloc's own
 * bookkeeping (bins and the top chunk live in libc's data), not the
 * program's, and is dropped.
 *
 * In a Python program (its blocks' objects known, pytypes.h), a pointer to
 * an object past its pre-header is a start pointer, and what is no
 * reference is left out: each object's PyGC_Head and the generation heads
 * (the cycle collector's lists link every object it tracks, garbage
 * included) and a weak reference's referent.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/uio.h>
#include <elfutils/libdwfl.h>

#include "../util/array.h"
#include "procmaps.h"
#include "pytypes.h"
#include "scan.h"

#define CLUSTER_GAP	(1ull << 20)	/* blocks further apart start a new cluster */
#define LINES_MAX	(1ull << 24)	/* table entries per cluster at most */
#define READ_CHUNK	(4u << 20)	/* bytes read at once */
/* pymalloc's pools (see pool_free_slots) */
#define PYPOOL_SIZE	16384
#define PYPOOL_HEAD	48
#define PYPOOL_UNIT	16	/* pymalloc's alignment: the grain of scan.dead */
#define BATCH_BLOCKS	1024		/* IOV_MAX */
#define SPAN_GAP	256		/* blocks this close are read as one piece */
#define RED_ZONE	128		/* below the stack pointer, x86-64 ABI */
#define TCB_SCAN	4096		/* bytes scanned above the thread pointer */
#define MAX_FRAMES	256
#define GP_REGISTERS	(sizeof(struct user_regs_struct) / sizeof(uint64_t))
#define XSTATE_REGISTER	1000		/* register numbers from here: xstate byte offset */
#define PRESENT_SCAN_MIN (1ull << 20)	/* mappings larger than this: read present pages only */
#define VTABLE_WORDS	20
#define HEAD_WORDS	5	/* of a block an interior pointer reaches, read for the heuristics */
#define VTABLE_MEMO	1024	/* answers is_vtable keeps (a power of two) */
#define PAGEMAP_BATCH	512		/* pagemap entries read at once: 2 MiB of memory */

struct cluster {
	uint64_t lo, hi;	/* [lo, hi): from the first block to the end of the last */
	size_t first, last;	/* blocks [first, last) */
	unsigned shift;
	uint32_t *line_first;	/* per 2^shift bytes: first block ending past the line start */
};

struct frame {
	uint64_t pc, sp;
	int activation;
};

struct thread_frames {
	struct frame *frames;	/* innermost first: sp ascending */
	size_t n, cap;
	uint64_t scan_from;	/* the exiting thread: exit()'s caller's sp; else 0 */
};

struct range {
	uint64_t lo, hi;
};

/* What a root word is, before we know it points anywhere. */
struct root_kind {
	uint32_t kind;
	int32_t tid;
	uint64_t base;
	uint32_t index;
	const struct thread_frames *frames;	/* stack roots */
};

struct scan {
	const struct scan_input *in;
	pid_t pid;
	struct scan_result *out;
	struct proc_maps maps;
	struct cluster *clusters;
	size_t nclusters;
	uint64_t lo, hi;		/* of all blocks */
	size_t roots_cap, edges_cap, paths_cap;
	struct range *claimed;		/* root ranges scanned already, sorted */
	size_t nclaimed, claimed_cap;
	struct thread_frames *frames;	/* per thread of the world */
	uint8_t *buf;			/* READ_CHUNK bytes */
	uint8_t *dead;			/* per 16 bytes of buf: a pymalloc slot that is free */
	uint32_t *dead_block;		/* per block, NULL if none: 0 alive, else it holds a
					 * dead object (scan_dead): 1 + the offset of the one
					 * word to read, DEAD_ALL for none */
	int pagemap_fd;
	int error;			/* -ENOMEM or -ESRCH: stop */
	struct vtable_seen {		/* is_vtable's answers, by address (a few hundred in a program) */
		uint64_t addr;		/* 0: empty */
		int yes;
	} vtables[VTABLE_MEMO];
};

/* ------------------------------------------------------------------ */
/* Finding the block a word points into                                */
/* ------------------------------------------------------------------ */

static uint64_t block_end(const struct scan_block *b)
{
	return b->addr + (b->size ? b->size : 1);	/* malloc(0) still has an address */
}

static int build_clusters(struct scan *s)
{
	const struct scan_block *b = s->in->blocks;
	size_t n = s->in->nblocks, cap = 0;

	for (size_t i = 0; i < n;) {
		struct cluster *c;
		size_t j = i + 1;
		uint64_t nlines;

		while (j < n && b[j].addr - block_end(&b[j - 1]) < CLUSTER_GAP)
			j++;
		if (array_grow((void **)&s->clusters, &cap, s->nclusters + 1, sizeof(*c)) < 0)
			return -ENOMEM;
		c = &s->clusters[s->nclusters++];
		*c = (struct cluster){ b[i].addr, block_end(&b[j - 1]), i, j, 8, NULL };
		while (((c->hi - c->lo) >> c->shift) >= LINES_MAX)
			c->shift++;
		nlines = ((c->hi - c->lo) >> c->shift) + 1;
		c->line_first = malloc(nlines * sizeof(*c->line_first));
		if (!c->line_first)
			return -ENOMEM;
		for (uint64_t k = 0, at = i; k < nlines; k++) {
			uint64_t start = c->lo + (k << c->shift);

			while (at < j && block_end(&b[at]) <= start)
				at++;
			c->line_first[k] = (uint32_t)at;
		}
		i = j;
	}
	if (n) {
		s->lo = b[0].addr;
		s->hi = block_end(&b[n - 1]);
	}
	return 0;
}

/* The block v points into, or -1. */
static long find_block(const struct scan *s, uint64_t v)
{
	const struct scan_block *b = s->in->blocks;
	const struct cluster *c;
	size_t lo = 0, hi = s->nclusters, at;

	if (v - s->lo >= s->hi - s->lo)
		return -1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->clusters[mid].hi <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == s->nclusters || v < s->clusters[lo].lo)
		return -1;
	c = &s->clusters[lo];
	for (at = c->line_first[(v - c->lo) >> c->shift]; at < c->last && b[at].addr <= v; at++)
		if (v < block_end(&b[at]))
			return (long)at;
	return -1;
}

/* ------------------------------------------------------------------ */
/* Results                                                             */
/* ------------------------------------------------------------------ */

static void add_edge(struct scan *s, uint32_t from, uint32_t to, uint64_t offset, uint64_t target)
{
	struct scan_result *r = s->out;

	if (array_grow((void **)&r->edges, &s->edges_cap, r->nedges + 1, sizeof(*r->edges)) < 0) {
		s->error = -ENOMEM;
		return;
	}
	r->edges[r->nedges++] = (struct profile_edge){
		.from = from, .to = to,
		.offset = offset > UINT32_MAX ? UINT32_MAX : (uint32_t)offset,
		.target = target > PROFILE_TARGET_MAX ? PROFILE_TARGET_MAX : (uint32_t)target,
	};
}

static long add_root(struct scan *s, const struct scan_root *root)
{
	struct scan_result *r = s->out;

	if (r->nroots >= PROFILE_EDGE_ROOT ||
	    array_grow((void **)&r->roots, &s->roots_cap, r->nroots + 1, sizeof(*r->roots)) < 0) {
		s->error = -ENOMEM;
		return -1;
	}
	r->roots[r->nroots] = *root;
	return (long)r->nroots++;
}

/* The frame of a thread whose stack holds address a. */
static uint32_t frame_of(const struct thread_frames *f, uint64_t a)
{
	size_t lo = 0, hi = f->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (f->frames[mid].sp <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo ? (uint32_t)(lo - 1) : 0;
}

/* A root word at `where` holds v: if v points into a block, keep both. */
static void root_word(struct scan *s, const struct root_kind *k, uint64_t where, uint64_t v)
{
	long to = find_block(s, v);
	struct scan_root root;
	long at;

	if (to < 0 || (where >= s->in->py_gc_lo && where < s->in->py_gc_hi))
		return;	/* (the cycle collector's list heads hold no object alive) */
	root = (struct scan_root){ .kind = k->kind, .tid = k->tid, .addr = where,
				   .base = k->base, .index = k->index };
	if (k->kind == PROFILE_ROOT_STACK && k->frames && k->frames->n) {
		const struct frame *f;

		root.index = frame_of(k->frames, where);
		f = &k->frames->frames[root.index];
		root.base = f->sp;
		root.ip = f->activation ? f->pc + 1 : f->pc;
	}
	at = add_root(s, &root);
	if (at >= 0)
		add_edge(s, PROFILE_EDGE_ROOT | (uint32_t)at, (uint32_t)to,
			 k->kind == PROFILE_ROOT_REGISTER ? 0 : where - root.base,
			 v - s->in->blocks[to].addr);
}

/* ------------------------------------------------------------------ */
/* Reading the program's memory                                        */
/* ------------------------------------------------------------------ */

/*
 * Read [addr, addr+len) into dst. What cannot be read (an unmapped or
 * PROT_NONE page) is zero-filled and counted. Returns 0, or -ESRCH when
 * the program is gone.
 */
static int read_memory(struct scan *s, uint64_t addr, size_t len, uint8_t *dst)
{
	size_t done = 0;

	while (done < len) {
		struct iovec local = { dst + done, len - done };
		struct iovec remote = { (void *)(addr + done), len - done };
		ssize_t n = process_vm_readv(s->pid, &local, 1, &remote, 1, 0);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == ESRCH)
			return s->error = -ESRCH;
		/* skip to the next page */
		size_t skip = 4096 - ((addr + done) & 4095);

		if (skip > len - done)
			skip = len - done;
		memset(dst + done, 0, skip);
		s->out->unreadable_bytes += skip;
		done += skip;
	}
	return 0;
}

/* Scan [lo, hi) as roots of kind k, reading it in chunks. */
static void scan_words(struct scan *s, const struct root_kind *k, uint64_t lo, uint64_t hi)
{
	lo = (lo + 7) & ~7ull;
	hi &= ~7ull;
	while (lo < hi && !s->error) {
		size_t len = hi - lo > READ_CHUNK ? READ_CHUNK : (size_t)(hi - lo);
		const uint64_t *w = (const uint64_t *)s->buf;

		if (read_memory(s, lo, len, s->buf) < 0)
			return;
		s->out->root_bytes += len;
		for (size_t i = 0; i < len / 8; i++)
			if (w[i] - s->lo < s->hi - s->lo)
				root_word(s, k, lo + i * 8, w[i]);
		lo += len;
	}
}

/*
 * Scan [lo, hi) as roots; with present_only, only the pages that are in
 * memory or swapped out (from /proc/PID/pagemap, PAGEMAP_BATCH pages at a
 * time): a large reservation the program never touched costs nothing.
 */
static void scan_root_range(struct scan *s, const struct root_kind *k, uint64_t lo, uint64_t hi,
			    int present_only)
{
	uint64_t entries[PAGEMAP_BATCH];

	if (!present_only || s->pagemap_fd < 0) {
		scan_words(s, k, lo, hi);
		return;
	}
	while (lo < hi && !s->error) {
		uint64_t page = lo / 4096, last = (hi - 1) / 4096, n = last - page + 1, run = 0;
		ssize_t got;

		if (n > PAGEMAP_BATCH)
			n = PAGEMAP_BATCH;
		got = pread(s->pagemap_fd, entries, n * 8, (off_t)(page * 8));
		if (got < 8) {
			scan_words(s, k, lo, hi);	/* no pagemap after all: everything */
			return;
		}
		n = (uint64_t)got / 8;
		for (uint64_t i = 0; i <= n; i++) {
			/* bit 63: in memory, bit 62: swapped */
			if (i < n && (entries[i] >> 62)) {
				run++;
				continue;
			}
			if (run) {
				uint64_t a = (page + i - run) * 4096, b = (page + i) * 4096;

				scan_words(s, k, a > lo ? a : lo, b < hi ? b : hi);
				run = 0;
			}
		}
		lo = (page + n) * 4096;
	}
}

/* Scan the parts of [lo, hi) no earlier root range covered, and claim it. */
/* The first claimed range that ends at or past addr (the list is sorted and disjoint). */
static size_t first_claim_from(const struct scan *s, uint64_t addr)
{
	size_t a = 0, z = s->nclaimed;

	while (a < z) {
		size_t mid = (a + z) / 2;

		if (s->claimed[mid].hi < addr)
			a = mid + 1;
		else
			z = mid;
	}
	return a;
}

static void claim(struct scan *s, uint64_t lo, uint64_t hi);

static void scan_unclaimed(struct scan *s, const struct root_kind *k, uint64_t lo, uint64_t hi,
			   int present_only)
{
	uint64_t at = lo;
	size_t i;

	if (lo >= hi)
		return;
	for (i = first_claim_from(s, lo); i < s->nclaimed && at < hi; i++) {
		const struct range *c = &s->claimed[i];

		if (c->hi <= at)
			continue;
		if (c->lo >= hi)
			break;
		if (c->lo > at)
			scan_root_range(s, k, at, c->lo, present_only);
		if (c->hi > at)
			at = c->hi;
	}
	if (at < hi)
		scan_root_range(s, k, at, hi, present_only);
	claim(s, lo, hi);
}

/* Claim [lo, hi) as scanned, merged with the ranges it overlaps or
 * touches, so that the list stays sorted and disjoint and is searched in
 * log time. */
static void claim(struct scan *s, uint64_t lo, uint64_t hi)
{
	size_t first, last;

	first = first_claim_from(s, lo);
	for (last = first; last < s->nclaimed && s->claimed[last].lo <= hi; last++) {
		if (s->claimed[last].lo < lo)
			lo = s->claimed[last].lo;
		if (s->claimed[last].hi > hi)
			hi = s->claimed[last].hi;
	}
	if (last > first) {
		s->claimed[first] = (struct range){ lo, hi };
		memmove(s->claimed + first + 1, s->claimed + last, (s->nclaimed - last) * sizeof(*s->claimed));
		s->nclaimed -= last - first - 1;
		return;
	}
	if (array_grow((void **)&s->claimed, &s->claimed_cap, s->nclaimed + 1, sizeof(*s->claimed)) < 0) {
		s->error = -ENOMEM;
		return;
	}
	memmove(s->claimed + first + 1, s->claimed + first, (s->nclaimed - first) * sizeof(*s->claimed));
	s->claimed[first] = (struct range){ lo, hi };
	s->nclaimed++;
}

/* Scan [lo, hi) clipped to readable mappings. */
static void scan_mapped(struct scan *s, const struct root_kind *k, uint64_t lo, uint64_t hi)
{
	for (size_t i = 0; i < s->maps.n && !s->error; i++) {
		const struct proc_mapping *m = &s->maps.items[i];
		uint64_t a = m->start > lo ? m->start : lo, b = m->end < hi ? m->end : hi;

		if (a < b && (m->perms & MAP_PERM_READ))
			scan_unclaimed(s, k, a, b, 0);
	}
}

/* ------------------------------------------------------------------ */
/* Roots                                                               */
/* ------------------------------------------------------------------ */

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct thread_frames *f = arg;
	Dwarf_Addr pc;
	Dwarf_Word sp;
	bool activation;

	if (!dwfl_frame_pc(state, &pc, &activation) || dwfl_frame_reg(state, 7, &sp) != 0)
		return DWARF_CB_ABORT;	/* 7: the stack pointer on x86-64 */
	if (f->n && sp < f->frames[f->n - 1].sp)
		return DWARF_CB_ABORT;	/* a confused unwind: keep what is sure */
	if (array_grow((void **)&f->frames, &f->cap, f->n + 1, sizeof(*f->frames)) < 0)
		return DWARF_CB_ABORT;
	f->frames[f->n++] = (struct frame){ pc, sp, activation };
	return f->n < MAX_FRAMES ? DWARF_CB_OK : DWARF_CB_ABORT;
}

/* Is name one of the functions a program leaves by (exit, _exit, ...),
 * under any of glibc's names for it? */
static int is_exit_function(const char *name)
{
	static const char *const names[] = { "exit", "_exit", "_Exit", "quick_exit" };

	if (!name)
		return 0;
	if (strncmp(name, "__GI_", 5) == 0)
		name += 5;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/*
 * The thread inside exit(): exit's frames, and those of the exit handlers
 * and destructors it runs (the loader's _dl_fini, our tracer's wait), lie
 * over stack the program's own frames last wrote, so a pointer the program
 * dropped just before returning from main still sits there. The program's
 * stack is what lies above exit()'s caller's stack pointer: scan from
 * there (LeakSanitizer's exit_atexit_stale_stack). Without a frame named
 * exit, the whole stack is scanned as before.
 */
static void find_exit_caller(Dwfl *dwfl, struct thread_frames *f)
{
	for (size_t k = 0; k + 1 < f->n; k++) {
		Dwarf_Addr pc = f->frames[k].pc - (f->frames[k].activation ? 0 : 1);
		Dwfl_Module *m = dwfl_addrmodule(dwfl, pc);

		if (m && is_exit_function(dwfl_module_addrname(m, pc))) {
			f->scan_from = f->frames[k + 1].sp;
			return;
		}
	}
}

/* The frames of every stopped thread, to name the stack roots. Without
 * them (no unwind info) stack roots are named by thread only. */
static void unwind_threads(struct scan *s)
{
	static char *debuginfo_path;
	static const Dwfl_Callbacks callbacks = {
		.find_elf = dwfl_linux_proc_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.debuginfo_path = &debuginfo_path,
	};
	Dwfl *dwfl = dwfl_begin(&callbacks);

	if (!dwfl)
		return;
	if (dwfl_linux_proc_report(dwfl, s->pid) == 0 && dwfl_report_end(dwfl, NULL, NULL) == 0 &&
	    dwfl_linux_proc_attach(dwfl, s->pid, true) == 0)
		for (size_t i = 0; i < s->in->world->n; i++) {
			dwfl_getthread_frames(dwfl, s->in->world->threads[i].tid, frame_cb, &s->frames[i]);
			if (s->in->exit_tid && s->in->world->threads[i].tid == s->in->exit_tid)
				find_exit_caller(dwfl, &s->frames[i]);
		}
	dwfl_end(dwfl);
}

static void scan_threads(struct scan *s)
{
	const struct world *w = s->in->world;

	for (size_t i = 0; i < w->n && !s->error; i++) {
		const struct world_thread *t = &w->threads[i];
		const struct proc_mapping *m;
		uint64_t fs = t->regs.fs_base, sp = t->regs.rsp;
		uint64_t below = s->in->static_tls_size ? s->in->static_tls_size : 4096;
		struct root_kind tls = { PROFILE_ROOT_TLS, t->tid, fs, 0, NULL };
		struct root_kind stack = { PROFILE_ROOT_STACK, t->tid, sp, 0, &s->frames[i] };
		struct root_kind reg = { PROFILE_ROOT_REGISTER, t->tid, 0, 0, NULL };
		const uint64_t *gp = (const uint64_t *)&t->regs;

		/* static TLS lies below the thread pointer, the descriptor above */
		if (fs && (m = procmaps_find(&s->maps, fs)) && (m->perms & MAP_PERM_READ))
			scan_unclaimed(s, &tls, fs - below > m->start && fs - below < fs ? fs - below : m->start,
				       fs + TCB_SCAN < m->end ? fs + TCB_SCAN : m->end, 0);
		m = sp ? procmaps_find(&s->maps, sp) : NULL;
		if (m && (m->perms & MAP_PERM_READ)) {
			uint64_t from = sp - RED_ZONE > m->start ? sp - RED_ZONE : m->start;

			/* the thread in exit(): from its caller's frame up */
			if (s->frames[i].scan_from > sp && s->frames[i].scan_from < m->end)
				from = s->frames[i].scan_from;
			scan_unclaimed(s, &stack, from, m->end, 0);
		}
		for (uint32_t r = 0; r < GP_REGISTERS; r++) {
			reg.index = r;
			root_word(s, &reg, 0, gp[r]);
		}
		for (size_t off = 0; off + 8 <= t->xstate_len; off += 8) {
			uint64_t v;

			memcpy(&v, t->xstate + off, sizeof(v));
			reg.index = XSTATE_REGISTER + (uint32_t)off;
			root_word(s, &reg, 0, v);
		}
		s->out->root_bytes += sizeof(t->regs) + t->xstate_len;
	}
}

/* The writable PT_LOAD segments of one object, as roots. */
static void scan_module(struct scan *s, const struct scan_module *mod)
{
	struct root_kind global = { PROFILE_ROOT_GLOBAL, 0, 0, mod->id, NULL };
	Elf64_Ehdr eh;
	int fd = open(mod->path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (pread(fd, &eh, sizeof(eh), 0) == (ssize_t)sizeof(eh) && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64) {
		for (unsigned i = 0; i < eh.e_phnum && !s->error; i++) {
			Elf64_Phdr ph;

			if (pread(fd, &ph, sizeof(ph), (off_t)(eh.e_phoff + (uint64_t)i * eh.e_phentsize)) !=
			    (ssize_t)sizeof(ph))
				break;
			if (ph.p_type == PT_LOAD && (ph.p_flags & PF_W))
				scan_mapped(s, &global, mod->bias + ph.p_vaddr, mod->bias + ph.p_vaddr + ph.p_memsz);
		}
	}
	close(fd);
}

static int is_module_path(const struct scan *s, const char *path)
{
	for (size_t i = 0; i < s->in->nmodules; i++)
		if (strcmp(s->in->modules[i].path, path) == 0)
			return 1;
	return 0;
}

static int holds_stack_pointer(const struct scan *s, const struct proc_mapping *m)
{
	for (size_t i = 0; i < s->in->world->n; i++) {
		uint64_t sp = s->in->world->threads[i].regs.rsp;

		if (sp >= m->start && sp < m->end)
			return 1;
	}
	return 0;
}

static int no_access(const struct proc_mapping *m)
{
	return !(m->perms & (MAP_PERM_READ | MAP_PERM_WRITE | MAP_PERM_EXEC));
}

static int read_word(struct scan *s, uint64_t addr, uint64_t *v);

/* The most a thread stack's guard takes; a PROT_NONE mapping larger than
 * this before memory is a reservation (a GC's, a JIT's), not a guard. */
#define GUARD_MAX	(1ull << 20)

/*
 * Is mapping i one of malloc's arena heaps? Their shape (procmaps.h), and
 * starting with glibc's heap_info, whose fourth word (mprotect_size) is
 * the size of the writable part, and whose third (size) is no more. A
 * program's own 64 MiB-aligned reservation (a GC's) fails the last test
 * and is scanned.
 */
static int is_arena_heap(struct scan *s, size_t i)
{
	const struct proc_mapping *m = &s->maps.items[i];
	uint64_t size, mprotect_size;

	if (!procmaps_arena_heap_shape(&s->maps, i))
		return 0;
	if (read_word(s, m->start + 16, &size) < 0 || read_word(s, m->start + 24, &mprotect_size) < 0)
		return 1;	/* unreadable: as before, not scanned */
	return mprotect_size == m->end - m->start && size <= mprotect_size;
}

/*
 * Is this other memory the program mapped, to scan as a root? Not:
 * objects (their data is scanned from the program headers), the kernel's
 * pages, our own shared memory, malloc's heaps (brk, and arena heaps),
 * stacks (a guard page before them: a live thread's stack is scanned from
 * its stack pointer, a gone thread's not at all). A mapping that holds
 * live blocks (the kernel merges a program's mapping with a big block's)
 * is scanned around them: scan_mappings skips the blocks.
 */
static int is_program_mapping(struct scan *s, size_t i)
{
	const struct proc_mapping *m = &s->maps.items[i];
	const struct proc_mapping *prev = i ? &s->maps.items[i - 1] : NULL;
	const char *p = m->path;

	if ((m->perms & (MAP_PERM_READ | MAP_PERM_WRITE)) != (MAP_PERM_READ | MAP_PERM_WRITE))
		return 0;
	if (s->in->sampled && (strcmp(p, "[heap]") == 0 || is_arena_heap(s, i)))
		return 1;	/* unrecorded blocks live there: see scan_input.sampled */
	if (strcmp(p, "[heap]") == 0 || strcmp(p, "[stack]") == 0 || strcmp(p, "[vvar]") == 0 ||
	    strcmp(p, "[vdso]") == 0 || strcmp(p, "[vsyscall]") == 0 || strncmp(p, "/memfd:heapwise", 15) == 0)
		return 0;
	if (p[0] == '/' && is_module_path(s, p))
		return 0;
	if (!p[0] && prev && prev->end == m->start && no_access(prev) && prev->end - prev->start <= GUARD_MAX)
		return 0;	/* behind a guard page: a thread stack */
	if (is_arena_heap(s, i))
		return 0;
	if (holds_stack_pointer(s, m))
		return 0;
	return 1;
}

/*
 * A stretch of a mapping read at once (scan_around_blocks): [lo, hi), at
 * most READ_CHUNK, page-aligned at lo, into s->buf; present[i] says page i
 * was read (with present_only, pages never touched are not).
 */
struct window {
	uint64_t lo, hi;
	uint8_t present[READ_CHUNK / 4096];
	const uint8_t *dead;	/* NULL, or s->dead for this window (free_slots) */
};

static void read_window(struct scan *s, struct window *w, int present_only)
{
	size_t pages = (size_t)((w->hi - w->lo + 4095) / 4096);

	memset(w->present, 1, pages);
	if (present_only && s->pagemap_fd >= 0) {
		uint64_t entries[PAGEMAP_BATCH];

		for (size_t at = 0; at < pages; at += PAGEMAP_BATCH) {
			size_t n = pages - at < PAGEMAP_BATCH ? pages - at : PAGEMAP_BATCH;
			ssize_t got = pread(s->pagemap_fd, entries, n * 8, (off_t)((w->lo / 4096 + at) * 8));

			/* bit 63: in memory, bit 62: swapped; no pagemap: read it all */
			for (size_t i = 0; got == (ssize_t)(n * 8) && i < n; i++)
				w->present[at + i] = (entries[i] >> 62) != 0;
		}
	}
	for (size_t i = 0; i < pages && !s->error;) {
		size_t run = 0;

		while (i + run < pages && w->present[i + run])
			run++;
		if (run) {
			uint64_t a = w->lo + i * 4096, b = a + run * 4096 < w->hi ? a + run * 4096 : w->hi;

			read_memory(s, a, (size_t)(b - a), s->buf + (a - w->lo));
		}
		i += run + 1;
	}
}

/* The words of [lo, hi) (inside w, no claimed range) as roots, from w. */
static void window_words(struct scan *s, const struct root_kind *k, const struct window *w, uint64_t lo,
			 uint64_t hi)
{
	lo = (lo + 7) & ~7ull;
	hi &= ~7ull;
	for (uint64_t a = lo; a < hi; a += 8) {
		uint64_t v;

		if (!w->present[(a - w->lo) / 4096]) {
			a = ((a - w->lo) / 4096 + 1) * 4096 + w->lo - 8;	/* the next page */
			continue;
		}
		if (w->dead && w->dead[(a - w->lo) / PYPOOL_UNIT])
			continue;	/* a free pymalloc slot: what it holds is stale */
		memcpy(&v, s->buf + (a - w->lo), 8);
		s->out->root_bytes += 8;
		if (v - s->lo < s->hi - s->lo)
			root_word(s, k, a, v);
	}
}

/* The gap [lo, hi) of w, less the ranges scanned as roots already. */
static void window_gap(struct scan *s, const struct root_kind *k, const struct window *w, uint64_t lo, uint64_t hi)
{
	lo = lo > w->lo ? lo : w->lo;
	hi = hi < w->hi ? hi : w->hi;
	for (size_t i = first_claim_from(s, lo); i < s->nclaimed && lo < hi; i++) {
		const struct range *c = &s->claimed[i];

		if (c->lo >= hi)
			break;
		if (c->lo > lo)
			window_words(s, k, w, lo, c->lo);
		if (c->hi > lo)
			lo = c->hi;
	}
	if (lo < hi)
		window_words(s, k, w, lo, hi);
}

/*
 * A Python program's pymalloc arenas: their 16 KiB pools, each with its
 * 48-byte header (ref.count u32 at 0, freeblock at 8, szidx u32 at 36,
 * nextoffset u32 at 40, maxnextoffset u32 at 44), hold objects of one
 * size, (szidx + 1) * 16 bytes. What is free in a pool held an object
 * once and still holds its pointers: the slots on the freeblock list, the
 * slots from nextoffset on (never carved since the pool took this size, or
 * of a size it had before), all of an empty pool (count 0). Those are no
 * roots. The objects pymalloc made before the tracer are in neither, and
 * stay roots. A header is taken for one only if it is exactly what
 * pymalloc writes, and the list is followed only inside its pool.
 */

static void mark_dead(uint8_t *dead, const struct window *w, uint64_t lo, uint64_t hi)
{
	memset(dead + (lo - w->lo) / PYPOOL_UNIT, 1, (size_t)((hi - lo) / PYPOOL_UNIT));
}

static int pool_free_slots(const struct window *w, const uint8_t *buf, uint64_t pool, uint8_t *dead)
{
	const uint8_t *h = buf + (pool - w->lo);
	uint32_t count, szidx, next, maxnext, size;
	uint64_t f;

	memcpy(&count, h, 4);
	memcpy(&szidx, h + 36, 4);
	memcpy(&next, h + 40, 4);
	memcpy(&maxnext, h + 44, 4);
	size = (szidx + 1) * PYPOOL_UNIT;
	if (szidx >= 64 || maxnext != PYPOOL_SIZE - size || next < PYPOOL_HEAD || (next - PYPOOL_HEAD) % size ||
	    next > maxnext + size || count > (next - PYPOOL_HEAD) / size)
		return 0;
	if (!count) {
		mark_dead(dead, w, pool + PYPOOL_HEAD, pool + PYPOOL_SIZE);
		return 1;
	}
	mark_dead(dead, w, pool + next, pool + PYPOOL_SIZE);
	memcpy(&f, h + 8, 8);
	for (unsigned n = 0; f && n < PYPOOL_SIZE / PYPOOL_UNIT; n++) {
		if (f < pool + PYPOOL_HEAD || f >= pool + next || (f - pool - PYPOOL_HEAD) % size ||
		    !w->present[(f - w->lo) / 4096] || dead[(f - w->lo) / PYPOOL_UNIT])
			break;	/* not pymalloc's list, or round again */
		mark_dead(dead, w, f, f + size);
		memcpy(&f, buf + (f - w->lo), 8);
	}
	return 1;
}

/* Mark the free slots of every pool wholly in w; 1 if w holds a pool. */
static int free_slots(struct scan *s, struct window *w)
{
	int any = 0;

	if (!s->dead && !(s->dead = malloc(READ_CHUNK / PYPOOL_UNIT))) {
		s->error = -ENOMEM;
		return 0;
	}
	memset(s->dead, 0, (size_t)((w->hi - w->lo + PYPOOL_UNIT - 1) / PYPOOL_UNIT));
	for (uint64_t pool = (w->lo + PYPOOL_SIZE - 1) & ~(uint64_t)(PYPOOL_SIZE - 1); pool + PYPOOL_SIZE <= w->hi;
	     pool += PYPOOL_SIZE)
		if (w->present[(pool - w->lo) / 4096])
			any |= pool_free_slots(w, s->buf, pool, s->dead);
	return any;
}

/*
 * Scan [lo, hi) of a mapping as roots, but not the live blocks in it. It
 * is read READ_CHUNK at a time, not gap by gap: a pymalloc arena's gaps
 * between objects are a few bytes each, and a million of them would be a
 * million system calls. Then the whole range is claimed.
 */
static void scan_around_blocks(struct scan *s, const struct root_kind *k, uint64_t lo, uint64_t hi, int present_only,
			       int arenas)
{
	const struct scan_block *b = s->in->blocks;
	size_t a = 0, z = s->in->nblocks;
	uint64_t start = lo;
	struct window w;

	while (a < z) {
		size_t mid = (a + z) / 2;

		if (block_end(&b[mid]) <= lo)
			a = mid + 1;
		else
			z = mid;
	}
	for (w.lo = lo & ~4095ull; w.lo < hi && !s->error; w.lo = w.hi) {
		uint64_t at = lo > w.lo ? lo : w.lo;

		w.hi = w.lo + READ_CHUNK < hi ? w.lo + READ_CHUNK : hi;
		read_window(s, &w, present_only);
		w.dead = arenas && free_slots(s, &w) ? s->dead : NULL;
		/* the gaps before each block that starts in this window */
		for (; a < s->in->nblocks && b[a].addr < w.hi && !s->error; a++) {
			if (b[a].addr > at)
				window_gap(s, k, &w, at, b[a].addr);
			if (block_end(&b[a]) > at)
				at = block_end(&b[a]);
			if (at >= w.hi)
				break;
		}
		if (a < s->in->nblocks && b[a].addr < w.hi)
			a++;	/* it runs past this window: at says where it ends */
		if (at < w.hi)
			window_gap(s, k, &w, at, w.hi);
		lo = at > w.hi ? at : w.hi;
	}
	claim(s, start, hi);
}

static long add_path(struct scan *s, const char *path)
{
	struct scan_result *r = s->out;

	for (size_t i = 0; i < r->npaths; i++)
		if (strcmp(r->paths[i], path) == 0)
			return (long)i;
	if (array_grow((void **)&r->paths, &s->paths_cap, r->npaths + 1, sizeof(*r->paths)) < 0 ||
	    !(r->paths[r->npaths] = strdup(path))) {
		s->error = -ENOMEM;
		return -1;
	}
	return (long)r->npaths++;
}

static void scan_mappings(struct scan *s)
{
	for (size_t i = 0; i < s->maps.n && !s->error; i++) {
		const struct proc_mapping *m = &s->maps.items[i];
		struct root_kind k = { PROFILE_ROOT_MAPPING, 0, m->start, 0, NULL };
		long path;

		if (!is_program_mapping(s, i))
			continue;
		path = add_path(s, m->path);
		if (path < 0)
			return;
		k.index = (uint32_t)path;
		/* anonymous memory of a Python program: perhaps pymalloc's arenas */
		scan_around_blocks(s, &k, m->start, m->end, m->end - m->start > PRESENT_SCAN_MIN && !m->path[0],
				   s->in->py_layout && !m->path[0]);
	}
}

/* A forked child's inheritance: its parent's blocks, but not the child's
 * own blocks that took the place of one it freed. */
static void scan_inherited(struct scan *s)
{
	struct root_kind k = { PROFILE_ROOT_MAPPING, 0, 0, 0, NULL };
	long path;

	if (!s->in->ninherited)
		return;
	path = add_path(s, SCAN_INHERITED);
	if (path < 0)
		return;
	k.index = (uint32_t)path;
	for (size_t i = 0; i < s->in->ninherited && !s->error; i++) {
		const struct scan_block *b = &s->in->inherited[i];

		k.base = b->addr;
		scan_around_blocks(s, &k, b->addr, b->addr + b->size, 0, 0);
	}
}

static void add_loader_roots(struct scan *s)
{
	for (size_t i = 0; s->in->loader && i < s->in->nblocks && !s->error; i++) {
		struct scan_root root = { .kind = PROFILE_ROOT_LOADER, .addr = s->in->blocks[i].addr,
					  .index = (uint32_t)i };
		long at;

		if (!s->in->loader[i])
			continue;
		at = add_root(s, &root);
		if (at >= 0)
			add_edge(s, PROFILE_EDGE_ROOT | (uint32_t)at, (uint32_t)i, 0, 0);
	}
}

/* ------------------------------------------------------------------ */
/* Blocks                                                              */
/* ------------------------------------------------------------------ */

/* Where block i's PyGC_Head is (the 16 bytes before a GC object), into
 * *at; 0 for a block that has none (no object, not a GC type, no Python). */
static int gc_head(const struct scan *s, size_t i, uint64_t *at)
{
	uint8_t l = s->in->py_layout ? s->in->py_layout[i] : 0;

	if (!(l & PYTYPES_GC) || PYTYPES_OFFSET(l) < 16)
		return 0;
	*at = PYTYPES_OFFSET(l) - 16;
	return 1;
}

/*
 * The words of a Python object's block that are no reference: its
 * PyGC_Head (the cycle collector's list links) and a weak reference's
 * referent (wr_object, 16 bytes in), as block offsets [*gc_lo, *gc_hi)
 * and *weak (~0: none).
 */
static void python_skips(const struct scan *s, size_t i, uint64_t *gc_lo, uint64_t *gc_hi, uint64_t *weak)
{
	uint8_t l = s->in->py_layout ? s->in->py_layout[i] : 0;

	*gc_lo = *gc_hi = 0;
	*weak = ~0ull;
	if (gc_head(s, i, gc_lo))
		*gc_hi = *gc_lo + 16;
	if (l & PYTYPES_WEAKREF)
		*weak = PYTYPES_OFFSET(l) + 16;
}

static void scan_block_words(struct scan *s, size_t i, uint64_t addr, const uint8_t *data, size_t len)
{
	const struct scan_block *b = &s->in->blocks[i];
	uint64_t first = (addr + 7) & ~7ull;
	uint64_t end = b->addr + b->size, gc_lo, gc_hi, weak;
	uint32_t dead = s->dead_block ? s->dead_block[i] : 0;

	python_skips(s, i, &gc_lo, &gc_hi, &weak);
	for (uint64_t a = first; a + 8 <= addr + len && a + 8 <= end; a += 8) {
		uint64_t v, off = a - b->addr;
		long to;

		if (dead && off + 1 != dead)
			continue;	/* a dead object's stale word */
		memcpy(&v, data + (a - addr), sizeof(v));
		if (v - s->lo >= s->hi - s->lo || (off >= gc_lo && off < gc_hi) || off == weak ||
		    (to = find_block(s, v)) < 0)
			continue;
		add_edge(s, (uint32_t)i, (uint32_t)to, off, v - s->in->blocks[to].addr);
	}
	s->out->heap_bytes += len;
}

/* A block too large for one read: in pieces. */
static void scan_large_block(struct scan *s, size_t i)
{
	const struct scan_block *b = &s->in->blocks[i];

	for (uint64_t off = 0; off < b->size && !s->error; off += READ_CHUNK) {
		size_t len = b->size - off > READ_CHUNK ? READ_CHUNK : (size_t)(b->size - off);

		if (read_memory(s, b->addr + off, len, s->buf) < 0)
			return;
		scan_block_words(s, i, b->addr + off, s->buf, len);
	}
}

/*
 * Blocks i.. that fit in one read, as pieces (remote): nearby blocks share
 * a piece, the bytes between them read along. Returns the blocks taken;
 * *npieces and *total say what to read.
 */
static size_t plan_read(const struct scan *s, size_t i, struct iovec *remote, size_t *npieces, size_t *total)
{
	const struct scan_block *b = s->in->blocks;
	size_t n = s->in->nblocks, count = 0, pieces = 0, bytes = 0;

	while (i + count < n && b[i + count].size <= READ_CHUNK) {
		const struct scan_block *x = &b[i + count];
		uint64_t end = pieces ? (uint64_t)remote[pieces - 1].iov_base + remote[pieces - 1].iov_len : 0;

		if (pieces && x->addr >= end && x->addr - end <= SPAN_GAP) {
			size_t grow = (size_t)(x->addr + x->size - end);

			if (bytes + grow > READ_CHUNK)
				break;
			remote[pieces - 1].iov_len += grow;
			bytes += grow;
		} else {
			if (pieces == BATCH_BLOCKS || bytes + x->size > READ_CHUNK)
				break;
			remote[pieces++] = (struct iovec){ (void *)x->addr, x->size };
			bytes += x->size;
		}
		count++;
	}
	*npieces = pieces;
	*total = bytes;
	return count;
}

/*
 * What is stale in a Python program (scan_input.py_stale, py_dead): memory
 * that is no block claimed before the interpreter's data and the mappings
 * are scanned, so that it is skipped; each block that holds a dead object
 * marked, to be read for its one live word at most.
 */
#define DEAD_ALL	UINT32_MAX

static int by_lo(const void *a, const void *b)
{
	const struct scan_range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static void python_stale(struct scan *s)
{
	const struct scan_input *in = s->in;
	struct scan_range *claims = malloc((in->npy_stale + in->npy_dead + 1) * sizeof(*claims));
	size_t n = 0;

	if (!claims || (in->npy_dead && !(s->dead_block = calloc(in->nblocks + 1, sizeof(*s->dead_block))))) {
		free(claims);
		s->error = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < in->npy_stale; i++)
		claims[n++] = in->py_stale[i];
	for (size_t i = 0; i < in->npy_dead; i++) {
		const struct scan_dead *d = &in->py_dead[i];
		long b = d->object - s->lo < s->hi - s->lo ? find_block(s, d->object) : -1;
		uint64_t keep;

		if (b < 0) {
			if (d->hi - d->lo <= 1u << 20)
				claims[n++] = (struct scan_range){ d->lo, d->hi };
		} else if (!s->dead_block[b]) {
			keep = d->keep - in->blocks[b].addr;
			s->dead_block[b] = d->keep && keep < in->blocks[b].size && keep < DEAD_ALL - 1 ? (uint32_t)keep + 1
												      : DEAD_ALL;
		}
	}
	/* in order: each claim then goes at the end, or before a few stacks */
	qsort(claims, n, sizeof(*claims), by_lo);
	for (size_t i = 0; i < n && !s->error; i++)
		if (claims[i].lo < claims[i].hi)
			claim(s, claims[i].lo, claims[i].hi);
	free(claims);
}

static void scan_blocks(struct scan *s)
{
	const struct scan_block *b = s->in->blocks;
	size_t n = s->in->nblocks;
	struct iovec remote[BATCH_BLOCKS];

	for (size_t i = 0; i < n && !s->error;) {
		struct iovec local = { s->buf, 0 };
		size_t count, pieces, total, piece = 0, piece_at = 0;
		ssize_t got;

		if (b[i].size > READ_CHUNK) {
			scan_large_block(s, i++);
			continue;
		}
		count = plan_read(s, i, remote, &pieces, &total);
		local.iov_len = total;
		got = total ? process_vm_readv(s->pid, &local, 1, remote, pieces, 0) : 0;
		if (got < 0 && errno == ESRCH) {
			s->error = -ESRCH;
			return;
		}
		if (got != (ssize_t)total) {
			/* some piece is not readable as a whole: page by page */
			for (size_t k = 0, at = 0; k < pieces; at += remote[k].iov_len, k++)
				if (read_memory(s, (uint64_t)remote[k].iov_base, remote[k].iov_len, s->buf + at) < 0)
					return;
		}
		for (size_t k = 0; k < count; k++) {
			const struct scan_block *x = &b[i + k];

			/* its piece: the last one that starts at or before it */
			while (piece + 1 < pieces && (uint64_t)remote[piece + 1].iov_base <= x->addr)
				piece_at += remote[piece++].iov_len;
			scan_block_words(s, i + k, x->addr,
					 s->buf + piece_at + (x->addr - (uint64_t)remote[piece].iov_base), x->size);
		}
		i += count;
	}
}

/* ------------------------------------------------------------------ */
/* A second look at interior pointers                                  */
/* ------------------------------------------------------------------ */

/* The first words of a block that interior pointers reach, and the
 * malloc chunk header before it. */
struct head {
	uint64_t chunk;		/* glibc's size field, at addr - 8 */
	uint64_t w[HEAD_WORDS];
	int valid;
};

/*
 * CPython 3.11 and 3.12 allocate a managed dict's values array with a
 * prefix and point past it, to values[0]; the prefix's last byte is its
 * own length (new_values()). 3.12 stores the pointer less one, as a tag
 * (PyDictOrValues). Such an interior pointer is a start pointer.
 */
static int is_dict_values(const struct scan_block *b, const struct head *h, uint64_t target)
{
	uint64_t prefix = (target & 7) == 7 ? target + 1 : target, at = prefix - 1;

	if ((prefix & 7) || prefix < 8 || prefix > 8 * HEAD_WORDS || prefix > b->size)
		return 0;
	return (uint8_t)(h->w[at / 8] >> (8 * (at % 8))) == prefix;
}

static int read_word(struct scan *s, uint64_t addr, uint64_t *v)
{
	struct iovec local = { v, 8 }, remote = { (void *)addr, 8 };

	return process_vm_readv(s->pid, &local, 1, &remote, 1, 0) == 8 ? 0 : -1;
}

/*
 * memcheck's test for a vtable: in a file mapping, with at least two
 * pointers into executable file mappings (and nothing else but NULL)
 * among its first VTABLE_WORDS + 1 words.
 */
static int vtable_test(struct scan *s, uint64_t addr)
{
	const struct proc_mapping *m = procmaps_find(&s->maps, addr);
	uint64_t words[VTABLE_WORDS + 1];
	size_t n, fns = 0;

	if (!m || m->path[0] != '/' || !(m->perms & MAP_PERM_READ))
		return 0;
	n = (m->end - addr) / 8;
	if (n > VTABLE_WORDS + 1)
		n = VTABLE_WORDS + 1;
	if (n == 0 || read_memory(s, addr, n * 8, (uint8_t *)words) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		const struct proc_mapping *f;

		if (!words[i])
			continue;
		f = procmaps_find(&s->maps, words[i]);
		if (!f || f->path[0] != '/' || !(f->perms & MAP_PERM_EXEC))
			return 0;
		if (++fns == 2)
			return 1;
	}
	return 0;
}

/* is_vtable, asked once per address: a program has a few hundred vtables,
 * and millions of interior pointers may ask about them. */
static int is_vtable(struct scan *s, uint64_t addr)
{
	struct vtable_seen *v;

	if ((addr & 7) || addr < 4096)
		return 0;
	v = &s->vtables[(addr >> 3) * 0x9e3779b97f4a7c15ull >> 54 & (VTABLE_MEMO - 1)];
	if (v->addr != addr) {
		v->yes = vtable_test(s, addr);
		v->addr = addr;
	}
	return v->yes;
}

/* The cheap tests first: the word read from the target block (a system
 * call) only when its first word is a vtable already. */
static unsigned heuristic(struct scan *s, const struct scan_block *b, const struct head *h, uint64_t target)
{
	uint64_t inner;

	if (target == 24 && b->size >= 16 && 24 + h->w[1] + 1 == b->size && h->w[0] <= h->w[1])
		return PROFILE_HEUR_STDSTRING;
	if (target == 8 && b->size >= 8 && h->w[0] > 0 && b->size - 8 == h->w[0])
		return PROFILE_HEUR_LENGTH64;
	if (target == 8 && b->size >= 8 && h->w[0] > 0 && (b->size - 8) % h->w[0] == 0)
		return PROFILE_HEUR_NEWARRAY;
	if ((target & 7) == 0 && target + 8 <= b->size && b->size >= 8 && is_vtable(s, h->w[0]) &&
	    read_word(s, b->addr + target, &inner) == 0 && is_vtable(s, inner))
		return PROFILE_HEUR_MULTIPLE_INHERITANCE;
	return PROFILE_HEUR_NONE;
}

/* What Python's rules make of an edge to a block that holds an object. */
enum python_edge {
	PYTHON_EDGE_NONE,	/* no rule applies: a pointer like any other */
	PYTHON_EDGE_GC_LINK,	/* to its PyGC_Head (flag bits and all): a gc list link */
	PYTHON_EDGE_OBJECT,	/* to the object past its pre-header: a start pointer */
};

static enum python_edge python_edge(const struct scan *s, const struct profile_edge *e)
{
	uint64_t head;

	if (!s->in->py_layout || !s->in->py_layout[e->to])
		return PYTHON_EDGE_NONE;
	if (gc_head(s, e->to, &head) && e->target - head < 4)
		return PYTHON_EDGE_GC_LINK;
	if (e->target != 0 && e->target == PYTYPES_OFFSET(s->in->py_layout[e->to]))
		return PYTHON_EDGE_OBJECT;
	return PYTHON_EDGE_NONE;
}

/* Does edge e need the head of the block it reaches (an interior pointer
 * no Python rule settles)? */
static int needs_head(const struct scan *s, const struct profile_edge *e)
{
	return e->target != 0 && python_edge(s, e) == PYTHON_EDGE_NONE;
}

/* The bytes of a block's head: its chunk header and first words. */
static size_t head_bytes(const struct scan_block *b)
{
	return 8 * (1 + (b->size / 8 < HEAD_WORDS ? b->size / 8 : HEAD_WORDS));
}

/*
 * The heads review_interior needs, read BATCH_BLOCKS at a time (a
 * process_vm_readv per block was the scan's largest cost on a Python heap,
 * whose 330,000 objects each have a managed dict's values reached past
 * their prefix). A batch the program does not let us read whole is left
 * to the reader one at a time.
 */
static void read_heads(struct scan *s, struct head *heads, const uint8_t *wanted)
{
	const struct scan_block *b = s->in->blocks;
	struct iovec local[BATCH_BLOCKS], remote[BATCH_BLOCKS];
	uint64_t words[BATCH_BLOCKS][1 + HEAD_WORDS];
	size_t at[BATCH_BLOCKS];

	for (size_t i = 0; i < s->in->nblocks && !s->error;) {
		size_t n = 0, total = 0;
		ssize_t got;

		for (; i < s->in->nblocks && n < BATCH_BLOCKS; i++) {
			size_t len;

			if (!wanted[i])
				continue;
			len = head_bytes(&b[i]);
			memset(words[n], 0, sizeof(words[n]));
			local[n] = (struct iovec){ words[n], len };
			remote[n] = (struct iovec){ (void *)(b[i].addr - 8), len };
			at[n++] = i;
			total += len;
		}
		got = n ? process_vm_readv(s->pid, local, n, remote, n, 0) : 0;
		if (got < 0 && errno == ESRCH) {
			s->error = -ESRCH;
			return;
		}
		if (got != (ssize_t)total)
			continue;	/* not whole: review_interior reads these one by one */
		for (size_t k = 0; k < n; k++) {
			struct head *h = &heads[at[k]];

			h->chunk = words[k][0];
			memcpy(h->w, words[k] + 1, sizeof(h->w));
			h->valid = 1;
		}
	}
}

static void review_interior(struct scan *s)
{
	struct scan_result *r = s->out;
	const struct scan_block *b = s->in->blocks;
	struct head *heads = NULL;
	uint8_t *wanted;
	size_t kept = 0;

	if (!r->nedges)
		return;
	heads = calloc(s->in->nblocks, sizeof(*heads));
	wanted = calloc(s->in->nblocks + 1, 1);
	if (!heads || !wanted) {
		free(heads);
		free(wanted);
		s->error = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < r->nedges; i++)
		if (needs_head(s, &r->edges[i]))
			wanted[r->edges[i].to] = 1;
	read_heads(s, heads, wanted);
	free(wanted);
	for (size_t i = 0; i < r->nedges; i++) {
		struct profile_edge e = r->edges[i];
		const struct scan_block *t = &b[e.to];
		struct head *h = &heads[e.to];

		switch (python_edge(s, &e)) {
		case PYTHON_EDGE_GC_LINK:
			continue;	/* no reference */
		case PYTHON_EDGE_OBJECT:
			e.heuristic = PROFILE_HEUR_PYOBJECT;	/* no read needed */
			r->edges[kept++] = e;
			continue;
		case PYTHON_EDGE_NONE:
			break;
		}
		if (e.target != 0 && !h->valid) {
			uint64_t words[1 + HEAD_WORDS] = { 0 };

			read_memory(s, t->addr - 8, head_bytes(t), (uint8_t *)words);
			h->chunk = words[0];
			memcpy(h->w, words + 1, sizeof(h->w));
			h->valid = 1;
			if (s->error == -ESRCH)
				break;
		}
		if (e.target != 0) {
			uint64_t chunk = h->chunk & ~7ull;

			/* a pointer to the next chunk's header: malloc's bin or top pointer */
			if (!(h->chunk & 2) && chunk >= 32 && e.target == chunk - 16)
				continue;
			e.heuristic = heuristic(s, t, h, e.target) & 15;
			if (e.heuristic == PROFILE_HEUR_NONE && s->in->py_layout && is_dict_values(t, h, e.target))
				e.heuristic = PROFILE_HEUR_PYVALUES;
		}
		r->edges[kept++] = e;
	}
	r->nedges = kept;
	free(heads);
}

/* ------------------------------------------------------------------ */
/* The scan                                                            */
/* ------------------------------------------------------------------ */

int scan_program(const struct scan_input *in, struct scan_result *out, char err[SCAN_ERRLEN])
{
	struct scan s = { .in = in, .pid = in->world->pid, .out = out, .pagemap_fd = -1 };
	char path[64];
	int ret;

	memset(out, 0, sizeof(*out));
	out->threads = (uint32_t)in->world->n;
	ret = procmaps_read(&s.maps, s.pid);
	if (ret < 0) {
		snprintf(err, SCAN_ERRLEN, ret == -ESRCH ? "the program ended" : "cannot read the program's memory map: %s",
			 strerror(-ret));
		return ret;
	}
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)s.pid);
	s.pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	s.buf = malloc(READ_CHUNK);
	s.frames = calloc(in->world->n + 1, sizeof(*s.frames));
	if (!s.buf || !s.frames || build_clusters(&s) < 0)
		s.error = -ENOMEM;
	if (!s.error)
		unwind_threads(&s);
	if (!s.error)
		add_loader_roots(&s);
	if (!s.error)
		scan_threads(&s);
	if (!s.error)
		python_stale(&s);
	for (size_t i = 0; i < in->nmodules && !s.error; i++)
		if (!in->modules[i].skip)
			scan_module(&s, &in->modules[i]);
	if (!s.error)
		scan_mappings(&s);
	if (!s.error)
		scan_inherited(&s);
	if (!s.error)
		scan_blocks(&s);
	if (!s.error)
		review_interior(&s);

	ret = s.error;
	if (ret == -ESRCH)
		snprintf(err, SCAN_ERRLEN, "the program ended during the scan");
	else if (ret < 0)
		snprintf(err, SCAN_ERRLEN, "out of memory during the scan");
	if (ret < 0)
		scan_result_release(out);
	for (size_t i = 0; i < s.nclusters; i++)
		free(s.clusters[i].line_first);
	free(s.clusters);
	for (size_t i = 0; s.frames && i < in->world->n; i++)
		free(s.frames[i].frames);
	free(s.frames);
	free(s.claimed);
	free(s.buf);
	free(s.dead);
	free(s.dead_block);
	if (s.pagemap_fd >= 0)
		close(s.pagemap_fd);
	procmaps_release(&s.maps);
	return ret;
}

void scan_result_release(struct scan_result *r)
{
	free(r->roots);
	free(r->edges);
	for (size_t i = 0; i < r->npaths; i++)
		free(r->paths[i]);
	free(r->paths);
	memset(r, 0, sizeof(*r));
}

void scan_register_name(uint32_t index, char *buf, size_t len)
{
	static const char *const gp[] = {
		"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
		"rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
		"rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
	};
	uint32_t off = index - XSTATE_REGISTER;

	if (index < sizeof(gp) / sizeof(gp[0]))
		snprintf(buf, len, "%s", gp[index]);
	else if (index < XSTATE_REGISTER)
		snprintf(buf, len, "register %u", index);
	else if (off >= 160 && off < 416)	/* the FXSAVE area's xmm0-15 */
		snprintf(buf, len, "xmm%u", (off - 160) / 16);
	else if (off >= 32 && off < 160)
		snprintf(buf, len, "st%u", (off - 32) / 16);
	else if (off >= 576 && off < 832)	/* XSAVE component 2: upper halves of ymm0-15 */
		snprintf(buf, len, "ymm%u (upper half)", (off - 576) / 16);
	else
		snprintf(buf, len, "xstate+%u", off);
}

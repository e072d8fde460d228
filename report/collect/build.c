/*
 * build.c - turn what the collector saw into a profile: read the module
 * log and the stack table out of shared memory, symbolize every frame that
 * a recorded stack uses (while the binaries are still on disk), and cut
 * the peak and exit snapshots.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>

#include "../../tracer/wire.h"
#include "../symbols/symbols.h"
#include "../symbols/symwarm.h"
#include "../util/addrsort.h"
#include "../util/array.h"
#include "../util/clock.h"
#include "../util/format.h"
#include "../symbols/pylines.h"
#include "collector-internal.h"
#include "pymeta.h"
#include "runload.h"

#define MAX_INLINE	32	/* frames one return address may expand into */

/* (image, ip) -> the profile frames it expands to. */
struct frame_key {
	uint64_t ip;
	uint32_t image;
	uint32_t first;		/* into the expansion list */
	uint32_t count;		/* 0 = empty slot */
	uint32_t pad;
};

struct builder {
	struct collector *c;
	struct profile *p;
	struct symbolizer *sym;
	uint32_t *module_of_log;	/* log index -> profile module */
	uint32_t module_log_len;	/* entries module_of_log holds */
	uint32_t modules_done;		/* log entries before this one are all added */
	size_t modules_cap;		/* capacity of p->modules */
	size_t frames_cap;		/* capacity of p->frames */
	size_t sources_cap;		/* of p->frame_sources, beside them */
	uint32_t truncated_frame;	/* 1 + the "[truncated]" frame, 0 until a cut stack needs it */
	struct frame_key *cache;
	size_t cache_cap, cache_count;
	uint32_t *expansion;		/* frame indices, by runs */
	size_t nexpansion, expansion_cap;
	uint32_t *stack_map;		/* wire stack id -> profile stack, 0 = not yet */
	size_t stacks_cap, stack_frames_cap;	/* of p->stacks, p->stack_frames (live) */
	size_t sites_done;		/* collector sites whose stacks are numbered (live) */
	uint32_t peak_name, exit_name;	/* interned snapshot names */
	uint32_t *run_names;		/* of the snapshots taken during the run */
	uint64_t *gen_stamps;		/* stamps of the snapshots added that count for generations */
	size_t ngen_stamps;
	struct run_loader *loader;	/* the run snapshots kept as changes, NULL if none */
	int snapshot_ret;		/* add_snapshots' result */
	uint64_t snapshot_ns;		/* how long they took */
	struct wiretables_code *code;	/* the code log entry read last (Python frames) */
	uint32_t code_ref;		/* its ref, 0 = none read */
	int code_ok;			/* it could be read */
};

/* ------------------------------------------------------------------ */
/* Modules                                                             */
/* ------------------------------------------------------------------ */

/*
 * Add the modules the log holds that are not added yet. The live profile
 * calls this again and again: an entry not ready yet is taken up next time.
 */
static int add_modules(struct builder *b)
{
	const struct wiretables *t = &b->c->tables;
	uint32_t used = wiretables_modules_used(t);
	uint32_t first_unready = UINT32_MAX;

	if (used + 1 > b->module_log_len) {
		uint32_t *m = realloc(b->module_of_log, (used + 1) * sizeof(*m));

		if (!m)
			return -ENOMEM;
		for (uint32_t i = b->module_log_len; i <= used; i++)
			m[i] = PROFILE_NONE;
		b->module_of_log = m;
		b->module_log_len = used + 1;
	}
	for (uint32_t i = b->modules_done; i < used; i++) {
		struct wiretables_module m;
		struct profile_module *pm;
		size_t k;

		if (!wiretables_module(t, i, &m)) {
			if (first_unready == UINT32_MAX)
				first_unready = i;
			continue;
		}
		if (b->module_of_log[i] != PROFILE_NONE)
			continue;
		for (k = 0; k < b->p->nmodules; k++) {
			pm = &b->p->modules[k];
			if (pm->image == m.image && pm->bias == m.bias && pm->start == m.start)
				break;
		}
		b->module_of_log[i] = (uint32_t)k;
		if (k < b->p->nmodules)
			continue;
		if (array_grow((void **)&b->p->modules, &b->modules_cap, k + 1, sizeof(*pm)) < 0)
			return -ENOMEM;
		pm = &b->p->modules[k];
		*pm = (struct profile_module){
			.path = profile_intern(b->p, m.path),
			.bias = m.bias, .start = m.start, .end = m.end, .image = m.image,
		};
		b->p->nmodules++;
		if (symbolizer_add_module(b->sym, m.image, (int)k, m.path, m.bias, m.start, m.end) == 0)
			pm->build_id = profile_intern(b->p, symbolizer_build_id(b->sym, m.image, (int)k));
	}
	b->modules_done = first_unready == UINT32_MAX ? used : first_unready;
	return 0;
}

/* The module of that image whose range holds ip, or PROFILE_NONE. */
static uint32_t module_by_range(const struct profile *p, uint32_t image, uint64_t ip)
{
	for (size_t i = 0; i < p->nmodules; i++)
		if (p->modules[i].image == image && ip >= p->modules[i].start && ip < p->modules[i].end)
			return (uint32_t)i;
	return PROFILE_NONE;
}

/* ------------------------------------------------------------------ */
/* Frames and stacks                                                   */
/* ------------------------------------------------------------------ */

static struct frame_key *cache_slot(struct builder *b, uint32_t image, uint64_t ip)
{
	uint64_t h = (ip ^ ((uint64_t)image << 48)) * 0x9e3779b97f4a7c15ull;
	size_t i = (size_t)(h >> 16) & (b->cache_cap - 1);

	while (b->cache[i].count && (b->cache[i].ip != ip || b->cache[i].image != image))
		i = (i + 1) & (b->cache_cap - 1);
	return &b->cache[i];
}

static int cache_grow(struct builder *b)
{
	struct frame_key *old = b->cache;
	size_t oldcap = b->cache_cap;

	b->cache_cap = oldcap ? oldcap * 2 : 4096;
	b->cache = calloc(b->cache_cap, sizeof(*b->cache));
	if (!b->cache)
		return -ENOMEM;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].count)
			*cache_slot(b, old[i].image, old[i].ip) = old[i];
	free(old);
	return 0;
}

/* Room for n more frames and their sources. */
static int frames_room(struct builder *b, size_t n)
{
	struct profile *p = b->p;

	if (array_grow((void **)&p->frames, &b->frames_cap, p->nframes + n, sizeof(*p->frames)) < 0 ||
	    array_grow((void **)&p->frame_sources, &b->sources_cap, p->nframes + n,
		       sizeof(*p->frame_sources)) < 0)
		return -ENOMEM;
	return 0;
}

/* A Python frame's function, file and line, from the code log (and its
 * first line into *start); its module is the program the interpreter runs in. */
static struct profile_frame python_frame(struct builder *b, uint32_t image, uint64_t word,
					 uint32_t *start)
{
	uint32_t ref = (uint32_t)WIRE_PY_CODE_REF(word);
	struct profile_frame f = {
		.ip = word, .module = profile_image_program(b->p, image),
		.flags = PROFILE_FRAME_PYTHON | (word & WIRE_PY_ENTRY ? PROFILE_FRAME_PY_ENTRY : 0),
	};

	if (!b->code && !(b->code = malloc(sizeof(*b->code))))
		return f;
	if (ref != b->code_ref) {
		b->code_ref = ref;
		b->code_ok = wiretables_code(&b->c->tables, ref, b->code);
	}
	if (!b->code_ok) {
		f.function = profile_intern(b->p, "<unknown code>");
		return f;
	}
	f.function = profile_intern(b->p, b->code->qualname);
	f.file = profile_intern(b->p, b->code->filename);
	*start = b->code->first_line > 0 ? (uint32_t)b->code->first_line : 0;
	f.line = pylines_line(b->code->linetable, b->code->linetable_len, b->code->first_line,
			      WIRE_PY_INSTR(word));
	return f;
}

/* The run of profile frames one return address (or Python frame) expands to. */
static struct frame_key *resolve_ip(struct builder *b, uint32_t image, uint64_t ip)
{
	struct sym_frame out[MAX_INLINE];
	struct profile *p = b->p;
	struct frame_key *k;
	int n;

	if ((b->cache_count + 1) * 2 > b->cache_cap && cache_grow(b) < 0)
		return NULL;
	k = cache_slot(b, image, ip);
	if (k->count)
		return k;

	n = ip & WIRE_PY_FRAME ? 1 : symbolizer_resolve(b->sym, image, ip, out, MAX_INLINE);
	if (frames_room(b, (size_t)n) < 0 ||
	    array_grow((void **)&b->expansion, &b->expansion_cap, b->nexpansion + (size_t)n,
		       sizeof(*b->expansion)) < 0)
		return NULL;
	k->ip = ip;
	k->image = image;
	k->first = (uint32_t)b->nexpansion;
	k->count = (uint32_t)n;
	b->cache_count++;
	if (ip & WIRE_PY_FRAME) {
		p->frame_sources[p->nframes] = (struct profile_frame_source){ 0 };
		p->frames[p->nframes] = python_frame(b, image, ip, &p->frame_sources[p->nframes].start_line);
		b->expansion[b->nexpansion++] = (uint32_t)p->nframes++;
		return k;
	}
	for (int i = 0; i < n; i++) {
		struct profile_frame *f = &p->frames[p->nframes];

		*f = (struct profile_frame){
			.ip = ip,
			.module = out[i].module >= 0 ? (uint32_t)out[i].module
						     : module_by_range(p, image, ip),
			.function = profile_intern(p, out[i].function),
			.file = profile_intern(p, out[i].file),
			.line = out[i].line,
			.flags = out[i].inlined ? PROFILE_FRAME_INLINED : 0,
		};
		p->frame_sources[p->nframes] = (struct profile_frame_source){
			.dir = profile_intern(p, out[i].dir),
			.start_line = out[i].start_line,
		};
		b->expansion[b->nexpansion++] = (uint32_t)p->nframes++;
	}
	return k;
}

/* Profile stack ids for every wire stack a site uses, in site order:
 * the snapshots need only these, not the frames. */
static int number_stacks(struct builder *b)
{
	struct collector *c = b->c;
	struct profile *p = b->p;

	p->nstacks = 1;	/* stack 0 of the profile is the empty stack (unknown) */
	for (size_t i = 1; i < c->nsites; i++) {
		uint32_t id = c->sites[i].stack;

		if (id && !b->stack_map[id])
			b->stack_map[id] = (uint32_t)p->nstacks++;
	}
	p->stacks = calloc(p->nstacks, sizeof(*p->stacks));
	return p->stacks ? 0 : -ENOMEM;
}

/* Append the frames k expands to to the profile stack being built. */
static int put_frames(struct builder *b, const struct frame_key *k, size_t *sf_cap)
{
	struct profile *p = b->p;

	if (array_grow((void **)&p->stack_frames, sf_cap, p->nstack_frames + k->count, sizeof(uint32_t)) < 0)
		return -ENOMEM;
	memcpy(p->stack_frames + p->nstack_frames, b->expansion + k->first, k->count * sizeof(uint32_t));
	p->nstack_frames += k->count;
	return 0;
}

/* Does a native frame run the interpreter loop (one of its expansion's
 * functions is _PyEval_EvalFrameDefault, or a part of it)? */
static int runs_python(const struct builder *b, const struct frame_key *k)
{
	for (uint32_t i = 0; i < k->count; i++) {
		const char *fn = profile_str(b->p, b->p->frames[b->expansion[k->first + i]].function);

		if (strncmp(fn, "_PyEval_EvalFrameDefault", 24) == 0)
			return 1;
	}
	return 0;
}

/*
 * A stack with Python frames (natives first, then the Python frames): each
 * native frame that runs the interpreter loop is replaced by the Python
 * frames it ran, innermost first, as memray and py-spy do. When the two do
 * not pair up (a stack cut short, a part of the loop without a symbol),
 * the native frames inside the innermost Python frame are kept, then the
 * Python frames: fewer frames, never wrong ones.
 */
static int merge_python(struct builder *b, uint32_t image, const uint64_t *frames, uint32_t native,
			uint32_t n, size_t *sf_cap)
{
	struct frame_key keys[WIRE_MAX_DEPTH];	/* copies: the cache moves as it grows */
	uint32_t loops = 0, runs = 0, first_loop = native, py = native;

	for (uint32_t i = 0; i < n; i++) {
		const struct frame_key *k = resolve_ip(b, image, frames[i]);

		if (!k)
			return -ENOMEM;
		keys[i] = *k;
		if (i < native && runs_python(b, &keys[i]) && loops++ == 0)
			first_loop = i;
		if (i >= native && (frames[i] & WIRE_PY_ENTRY))
			runs++;
	}
	if (loops != runs || !(frames[n - 1] & WIRE_PY_ENTRY)) {
		for (uint32_t i = 0; i < n; i++)
			if ((i < first_loop || i >= native) && put_frames(b, &keys[i], sf_cap) < 0)
				return -ENOMEM;
		return 0;
	}
	for (uint32_t i = 0; i < native; i++) {
		if (!runs_python(b, &keys[i])) {
			if (put_frames(b, &keys[i], sf_cap) < 0)
				return -ENOMEM;
			continue;
		}
		do {
			if (put_frames(b, &keys[py], sf_cap) < 0)
				return -ENOMEM;
		} while (!(frames[py++] & WIRE_PY_ENTRY));
	}
	return 0;
}

/* A cut stack's root: one "[truncated]" frame, made once, for every cut stack. */
static int put_truncated(struct builder *b, size_t *sf_cap)
{
	struct profile *p = b->p;

	if (!b->truncated_frame) {
		if (frames_room(b, 1) < 0)
			return -ENOMEM;
		p->frame_sources[p->nframes] = (struct profile_frame_source){ 0 };
		p->frames[p->nframes] = (struct profile_frame){
			.module = PROFILE_NONE, .function = profile_intern(p, "[truncated]"),
			.flags = PROFILE_FRAME_TRUNCATED,
		};
		b->truncated_frame = (uint32_t)p->nframes++ + 1;
	}
	if (array_grow((void **)&p->stack_frames, sf_cap, p->nstack_frames + 1, sizeof(uint32_t)) < 0)
		return -ENOMEM;
	p->stack_frames[p->nstack_frames++] = b->truncated_frame - 1;
	return 0;
}

/* The frames of wire stack id, symbolized, as its profile stack; a cut
 * one ends in "[truncated]" (what a flame graph shows as its root). */
static int symbolize_stack(struct builder *b, uint32_t id, size_t *sf_cap)
{
	struct profile *p = b->p;
	const uint64_t *frames;
	uint32_t first, n, native, image;

	if (id == 0)
		return 0;
	first = (uint32_t)p->nstack_frames;
	n = wiretables_stack(&b->c->tables, id, &frames, &image);
	/* the slot keeps only the image's low bits; images are few */
	if (!image)
		image = b->c->image;
	for (native = 0; native < n && !(frames[native] & WIRE_PY_FRAME); native++)
		;
	if (native < n) {
		if (merge_python(b, image, frames, native, n, sf_cap) < 0)
			return -ENOMEM;
	} else {
		for (uint32_t i = 0; i < n; i++) {
			struct frame_key *k = resolve_ip(b, image, frames[i]);

			if (!k || put_frames(b, k, sf_cap) < 0)
				return -ENOMEM;
		}
	}
	if (wiretables_stack_cut(&b->c->tables, id) && put_truncated(b, sf_cap) < 0)
		return -ENOMEM;
	p->stacks[b->stack_map[id]] = (struct profile_stack){ first, (uint32_t)(p->nstack_frames - first) };
	return 0;
}

static int symbolize_stacks(struct builder *b)
{
	size_t sf_cap = 0;

	for (size_t i = 1; i < b->c->nsites; i++)
		if (symbolize_stack(b, b->c->sites[i].stack, &sf_cap) < 0)
			return -ENOMEM;
	return 0;
}

/* Add what a collector site counted to the profile site of its stack;
 * sites[] is indexed by profile stack. */
static void add_site(const struct builder *b, struct profile_site *sites, const struct site_counters *s)
{
	struct profile_site *ps = &sites[b->stack_map[s->stack]];

	ps->stack = b->stack_map[s->stack];
	ps->allocations += s->allocations;
	ps->bytes_allocated += s->bytes_allocated;
	ps->frees += s->frees;
	ps->temporary += s->temporary;
	ps->live_blocks += s->live_blocks;
	ps->live_bytes += s->live_bytes;
}

/* ------------------------------------------------------------------ */
/* Snapshots                                                           */
/* ------------------------------------------------------------------ */

/*
 * Add a snapshot (in stamp order). A block's generation is how many of the
 * snapshots before it were taken after the block was born: the ones taken
 * during the run, not the peak, which is a moment found afterwards.
 */
static int add_snapshot(struct builder *b, uint32_t name, uint64_t t_ns, uint64_t stamp,
			struct profile_block *blocks, size_t n, int is_peak)
{
	struct profile *p = b->p;
	struct profile_snapshot *s = realloc(p->snapshots, (p->nsnapshots + 1) * sizeof(*s));

	if (!s) {
		free(blocks);
		return -ENOMEM;
	}
	p->snapshots = s;
	if (sort_by_addr(blocks, n, sizeof(*blocks)) < 0) {
		free(blocks);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		blocks[i].generation = snapshot_generation(b->gen_stamps, b->ngen_stamps, blocks[i].stamp);
	if (!is_peak)
		b->gen_stamps[b->ngen_stamps++] = stamp;
	s = &s[p->nsnapshots++];
	*s = (struct profile_snapshot){
		.name = name, .t_ns = t_ns, .stamp = stamp,
		.nblocks = n, .blocks = blocks,
	};
	for (size_t i = 0; i < n; i++)
		s->bytes += blocks[i].size;
	return 0;
}

/* A run snapshot kept as changes: unread in the profile, its counts known,
 * its blocks made when they are needed (runload.h). */
static int add_kept_snapshot(struct builder *b, uint32_t name, uint64_t t_ns, uint64_t stamp,
			     struct run_snapshot *rs)
{
	struct profile *p = b->p;
	struct profile_snapshot *s = realloc(p->snapshots, (p->nsnapshots + 1) * sizeof(*s));

	if (!s)
		return -ENOMEM;
	p->snapshots = s;
	if (!b->loader && !(b->loader = run_loader_new()))
		return -ENOMEM;
	if (run_loader_add(b->loader, p->nsnapshots, rs, b->ngen_stamps) < 0)
		return -ENOMEM;
	b->gen_stamps[b->ngen_stamps++] = stamp;
	s[p->nsnapshots++] = (struct profile_snapshot){
		.name = name, .t_ns = t_ns, .stamp = stamp,
		.nblocks = rs->nblocks, .bytes = rs->bytes, .unread = 1,
		.rss_parts = rs->rss_parts, .has_rss_parts = rs->has_rss_parts,
	};
	return 0;
}

/* A run snapshot's counts of what each site allocated since the one
 * before, by profile stack, into the profile's snapshot k. */
static int add_allocated_since(struct builder *b, size_t k, const struct run_snapshot *rs)
{
	struct profile_snapshot *s = &b->p->snapshots[k];

	s->allocated = malloc((rs->nallocated + 1) * sizeof(*s->allocated));
	if (!s->allocated)
		return -ENOMEM;
	for (size_t i = 0; i < rs->nallocated; i++)
		s->allocated[i] = (struct profile_alloc_count){
			.stack = b->stack_map[b->c->sites[rs->allocated[i].site].stack],
			.allocations = rs->allocated[i].allocations,
			.bytes = rs->allocated[i].bytes,
		};
	s->nallocated = rs->nallocated;
	s->allocated_kind = PROFILE_ALLOCATED_SINCE;
	return 0;
}

/* The peak's counts: what each site allocated after it. */
static int add_allocated_after_peak(struct builder *b, size_t k)
{
	struct collector *c = b->c;
	struct profile_snapshot *s = &b->p->snapshots[k];

	s->allocated = malloc((c->nsites + 1) * sizeof(*s->allocated));
	if (!s->allocated)
		return -ENOMEM;
	for (size_t i = 0; i < c->nsites; i++) {
		const struct site_counters *site = &c->sites[i];

		if (site->peak_epoch == c->peak_epoch && site->after_peak_allocations)
			s->allocated[s->nallocated++] = (struct profile_alloc_count){
				.stack = b->stack_map[site->stack],
				.allocations = site->after_peak_allocations,
				.bytes = site->after_peak_bytes,
			};
	}
	s->allocated_kind = PROFILE_ALLOCATED_AFTER;
	return 0;
}

static struct profile_block to_block(struct builder *b, const struct live_block *l)
{
	return (struct profile_block){ l->addr, l->size, l->stamp, b->stack_map[l->stack], 0 };
}

/* A snapshot to add, from wherever its blocks are. */
struct pending_snapshot {
	uint32_t name;
	uint64_t t_ns, stamp;
	struct profile_block *blocks;	/* peak and exit: made already */
	size_t n;
	int is_peak;
	struct run_snapshot *run;	/* one taken during the run: converted when added */
};

static int by_stamp(const void *a, const void *b)
{
	const struct pending_snapshot *x = a, *y = b;

	return x->stamp < y->stamp ? -1 : x->stamp > y->stamp;
}

/* Add each snapshot of all, in order, with its counts of what was
 * allocated; the blocks made for them are the profile's, also on failure. */
static int add_pending(struct builder *b, struct pending_snapshot *all, size_t nall)
{
	int ret = 0;

	for (size_t i = 0; i < nall; i++) {
		struct pending_snapshot *s = &all[i];

		if (s->run && !s->run->blocks) {
			/* kept as changes (not scanned) */
			if (ret == 0 && (add_kept_snapshot(b, s->name, s->t_ns, s->stamp, s->run) < 0 ||
					 add_allocated_since(b, b->p->nsnapshots - 1, s->run) < 0))
				ret = -ENOMEM;
			continue;
		}
		if (s->run) {
			/* scanned: it keeps its blocks for attach_scans */
			s->n = s->run->nblocks;
			s->blocks = malloc((s->n + 1) * sizeof(*s->blocks));
			for (size_t k = 0; s->blocks && k < s->n; k++)
				s->blocks[k] = to_block(b, &s->run->blocks[k]);
			s->run->profile_index = b->p->nsnapshots;
		}
		/* add_snapshot owns the blocks, also on failure */
		if (ret == 0 && (!s->blocks || add_snapshot(b, s->name, s->t_ns, s->stamp, s->blocks, s->n, s->is_peak) < 0))
			ret = -ENOMEM;
		else if (ret < 0)
			free(s->blocks);
		else if ((s->run && add_allocated_since(b, b->p->nsnapshots - 1, s->run) < 0) ||
			 (s->is_peak && add_allocated_after_peak(b, b->p->nsnapshots - 1) < 0))
			ret = -ENOMEM;
	}
	return ret;
}

/*
 * All snapshots, in the order they were taken: those cut during the run,
 * the peak and the exit. The live table and the list of blocks freed since
 * the peak are released as soon as peak and exit are copied out, before
 * the sorting: they are the largest things the collector holds.
 */
static int add_snapshots(struct builder *b)
{
	struct collector *c = b->c;
	size_t npeak = 0, nexit = 0, pos = 0, nall = 0;
	struct profile_block *peak = NULL, *exit_blocks;
	struct pending_snapshot *all;
	struct live_block *l;
	int ret = -ENOMEM;

	all = calloc(c->nsnapshots + 2, sizeof(*all));
	b->gen_stamps = calloc(c->nsnapshots + 2, sizeof(*b->gen_stamps));
	exit_blocks = malloc((c->live.count + 1) * sizeof(*exit_blocks));
	/* a peak needs something live: bytes, or blocks of size 0 */
	if (c->peak_blocks > 0)
		peak = malloc((c->live.count + c->freed_since_peak.len + 1) * sizeof(*peak));
	if (!all || !b->gen_stamps || !exit_blocks || (c->peak_blocks > 0 && !peak))
		goto out;
	while ((l = livetable_next(&c->live, &pos))) {
		exit_blocks[nexit++] = to_block(b, l);
		if (peak && l->stamp <= c->peak_stamp)
			peak[npeak++] = to_block(b, l);
	}
	for (size_t i = 0; peak && i < c->freed_since_peak.len; i++)
		peak[npeak++] = to_block(b, &c->freed_since_peak.items[i]);
	livetable_release(&c->live);
	free(c->freed_since_peak.items);
	c->freed_since_peak = (struct block_list){ NULL, 0, 0 };

	for (size_t i = 0; i < npeak; i++) {
		struct profile_site *site = &b->p->sites[peak[i].stack];

		struct profile_weight w = collector_weight(c, peak[i].size);

		site->peak_blocks += w.blocks;
		site->peak_bytes += w.bytes;
	}
	for (size_t i = 0; i < c->nsnapshots; i++)
		all[nall++] = (struct pending_snapshot){ b->run_names[i], c->snapshots[i].t_ns,
			c->snapshots[i].stamp, NULL, 0, 0, &c->snapshots[i] };
	if (peak)
		all[nall++] = (struct pending_snapshot){ b->peak_name, samples_time_of(c, c->peak_stamp, c->now_ns),
			c->peak_stamp, peak, npeak, 1, NULL };
	peak = NULL;
	/* the exit is last even when no event came after the last snapshot */
	qsort(all, nall, sizeof(*all), by_stamp);
	all[nall++] = (struct pending_snapshot){ b->exit_name, c->end_ns - c->start_ns, c->window.base - 1,
		exit_blocks, nexit, 0, NULL };
	exit_blocks = NULL;

	ret = add_pending(b, all, nall);
out:
	free(all);
	free(peak);
	free(exit_blocks);
	return ret;
}

/* ------------------------------------------------------------------ */
/* Scans                                                               */
/* ------------------------------------------------------------------ */

/* Name a root: the symbol, frame function, register or mapping. */
static struct profile_root name_root(struct builder *b, const struct run_snapshot *rs,
				     const struct scan_root *sr, uint32_t image)
{
	const struct scan_result *r = rs->scan;
	/* memory that is no block, holding a pointer: perhaps a Python
	 * object made before the tracer, that a module's global holds */
	const char *global = sr->kind == PROFILE_ROOT_GLOBAL || sr->kind == PROFILE_ROOT_MAPPING
				     ? pyglobals_root(&rs->globals, sr->addr) : NULL;
	struct profile *p = b->p;
	struct profile_root out = { .kind = sr->kind, .tid = (uint32_t)sr->tid, .addr = sr->addr,
				    .module = PROFILE_NONE };
	char buf[64];

	switch (sr->kind) {
	case PROFILE_ROOT_GLOBAL: {
		uint64_t off = 0;
		const char *sym = symbolizer_symbol(b->sym, image, sr->addr, &off);

		if (sr->index < b->module_log_len && b->module_of_log[sr->index] != PROFILE_NONE)
			out.module = b->module_of_log[sr->index];
		if (sym) {
			out.name = profile_intern(p, sym);
			out.offset = off;
		} else if (out.module != PROFILE_NONE) {
			out.offset = sr->addr - p->modules[out.module].bias;
		}
		break;
	}
	case PROFILE_ROOT_STACK: {
		struct frame_key *k = sr->ip ? resolve_ip(b, image, sr->ip) : NULL;

		out.frame = sr->index;
		out.offset = sr->addr - sr->base;
		if (k && k->count) {
			/* the frame's own function: the last of its inline chain */
			const struct profile_frame *f = &p->frames[b->expansion[k->first + k->count - 1]];

			out.name = f->function;
			out.module = f->module;
		}
		break;
	}
	case PROFILE_ROOT_REGISTER:
		scan_register_name(sr->index, buf, sizeof(buf));
		out.name = profile_intern(p, buf);
		break;
	case PROFILE_ROOT_TLS:
		out.offset = sr->addr - sr->base;	/* from the thread pointer, may be negative */
		break;
	case PROFILE_ROOT_MAPPING:
		out.name = sr->index < r->npaths ? profile_intern(p, r->paths[sr->index]) : 0;
		out.offset = sr->addr - sr->base;
		break;
	default:
		break;
	}
	if (global)
		out.python = profile_intern(p, global);
	return out;
}

static int by_target(const void *a, const void *b)
{
	const struct profile_edge *x = a, *y = b;

	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/*
 * Sort edges as by_target does, every `to` below nblocks. A scan finds
 * its edges in the order of their sources, so a stable counting sort on
 * the target is nearly always the whole job: O(edges + blocks) where qsort
 * was a third of a perl run's profile build (millions of interior pointers
 * into a few thousand arenas). A bucket left out of order is sorted on its own.
 */
static void sort_by_target(struct profile_edge *edges, size_t n, size_t nblocks)
{
	size_t *start = calloc(nblocks + 1, sizeof(*start));
	struct profile_edge *out = malloc((n + 1) * sizeof(*out));

	if (!start || !out) {
		free(start);
		free(out);
		qsort(edges, n, sizeof(*edges), by_target);	/* no room: the slow way */
		return;
	}
	for (size_t i = 0; i < n; i++)
		start[edges[i].to + 1]++;
	for (size_t t = 0; t < nblocks; t++)
		start[t + 1] += start[t];
	for (size_t i = 0; i < n; i++)
		out[start[edges[i].to]++] = edges[i];
	/* start[t] is now the end of bucket t */
	for (size_t t = 0, lo = 0; t < nblocks; lo = start[t++])
		for (size_t i = lo + 1; i < start[t]; i++)
			if (by_target(&out[i - 1], &out[i]) > 0) {
				qsort(out + lo, start[t] - lo, sizeof(*out), by_target);
				break;
			}
	memcpy(edges, out, n * sizeof(*edges));
	free(start);
	free(out);
}

/*
 * Give profile snapshot ps the heap graph of run snapshot rs. Their
 * blocks are matched by address and birth stamp: for a snapshot cut at
 * the scan they are the same, for the exit snapshot some blocks may have
 * been freed or made after the exit scan (by destructors that ran after
 * ours); edges of the freed go, the new ones are listed as not scanned.
 */
/* Each run snapshot block's profile block (same address, same birth), or
 * PROFILE_NONE; seen[j] set for each profile block so found. */
static void map_blocks(const struct profile_snapshot *ps, const struct run_snapshot *rs, uint32_t *map,
		       uint8_t *seen)
{
	for (size_t i = 0, j = 0; i < rs->nblocks; i++) {
		while (j < ps->nblocks && ps->blocks[j].addr < rs->blocks[i].addr)
			j++;
		map[i] = PROFILE_NONE;
		if (j < ps->nblocks && ps->blocks[j].addr == rs->blocks[i].addr &&
		    ps->blocks[j].stamp == rs->blocks[i].stamp) {
			map[i] = (uint32_t)j;
			seen[j] = 1;
		}
	}
}

/* A Python scan's pointer names, by the profile's block numbers. */
static int attach_names(struct builder *b, struct profile_scan *sc, const struct run_snapshot *rs,
			const uint32_t *map)
{
	const struct py_names *names = &rs->names;

	if (!names->n)
		return 0;
	sc->names = malloc(names->n * sizeof(*sc->names));
	if (!sc->names)
		return -ENOMEM;
	for (size_t k = 0; k < names->n; k++) {
		const struct py_name *n = &names->items[k];

		if (n->from >= rs->nblocks || map[n->from] == PROFILE_NONE)
			continue;
		sc->names[sc->nnames++] = (struct profile_edge_name){
			.from = map[n->from], .offset = n->offset, .kind = n->kind,
			.text = profile_intern(b->p, n->text), .number = n->number,
		};
	}
	/* the block numbers keep their order: both snapshots are by address */
	return 0;
}

/* A Python program's objects: each block's type name, through map (run
 * snapshot block -> profile block, PROFILE_NONE for none). */
static int attach_types(struct builder *b, struct profile_snapshot *ps, const struct run_snapshot *rs,
			const uint32_t *map)
{
	uint32_t *names = calloc(rs->types->nnames + 1, sizeof(*names));

	ps->types = calloc(ps->nblocks + 1, sizeof(*ps->types));
	if (!names || !ps->types) {
		free(names);
		return -ENOMEM;
	}
	for (size_t i = 0; i < rs->types->nnames; i++)
		if (!(names[i] = profile_intern(b->p, rs->types->names[i]))) {
			free(names);
			return -ENOMEM;
		}
	for (size_t i = 0; i < rs->nblocks; i++) {
		uint32_t t = rs->types->of_block[i];

		if (t && t <= rs->types->nnames && map[i] != PROFILE_NONE)
			ps->types[map[i]] = names[t - 1];
	}
	free(names);
	return 0;
}

static int attach_scan(struct builder *b, struct profile_snapshot *ps, struct run_snapshot *rs)
{
	const struct scan_result *r = rs->scan;
	struct profile_scan *sc = calloc(1, sizeof(*sc));
	uint32_t *map = malloc((rs->nblocks + 1) * sizeof(*map));
	uint8_t *seen = calloc(ps->nblocks + 1, 1);
	int ret = -ENOMEM;

	if (!sc || !map || !seen)
		goto out;
	map_blocks(ps, rs, map, seen);
	ps->rss_parts = rs->rss_parts;
	ps->has_rss_parts = rs->has_rss_parts;
	ps->pins = rs->pins;
	ps->has_pins = rs->has_rss_parts && rs->pins.arenas;
	for (uint64_t k = 0; k < ps->pins.n; k++)
		ps->pins.top[k].stack = b->stack_map[rs->pins.top[k].stack];
	*sc = (struct profile_scan){
		.stop_ns = rs->scan_stop_ns, .threads = r->threads, .root_bytes = r->root_bytes,
		.heap_bytes = r->heap_bytes, .unreadable_bytes = r->unreadable_bytes,
	};
	sc->roots = malloc((r->nroots + 1) * sizeof(*sc->roots));
	sc->edges = malloc((r->nedges + 1) * sizeof(*sc->edges));
	sc->unscanned = malloc((ps->nblocks + 1) * sizeof(*sc->unscanned));
	if (!sc->roots || !sc->edges || !sc->unscanned)
		goto out;
	for (size_t k = 0; k < r->nroots; k++)
		sc->roots[sc->nroots++] = name_root(b, rs, &r->roots[k], rs->scan_image);
	for (size_t k = 0; k < r->nedges; k++) {
		struct profile_edge e = r->edges[k];

		if (e.to >= rs->nblocks || map[e.to] == PROFILE_NONE)
			continue;
		e.to = map[e.to];
		if (e.from & PROFILE_EDGE_ROOT) {
			/* where in the root the pointer is: the root's own offset */
			uint64_t off = sc->roots[e.from & ~PROFILE_EDGE_ROOT].offset;

			e.offset = off > UINT32_MAX ? UINT32_MAX : (uint32_t)off;
		} else {
			if (e.from >= rs->nblocks || map[e.from] == PROFILE_NONE)
				continue;
			e.from = map[e.from];
		}
		sc->edges[sc->nedges++] = e;
	}
	sort_by_target(sc->edges, sc->nedges, ps->nblocks);
	for (size_t k = 0; k < ps->nblocks; k++)
		if (!seen[k])
			sc->unscanned[sc->nunscanned++] = (uint32_t)k;
	if ((rs->types && attach_types(b, ps, rs, map) < 0) || attach_names(b, sc, rs, map) < 0)
		goto out;
	ps->scan = sc;
	sc = NULL;
	ret = 0;
out:
	profile_scan_free(sc);
	free(map);
	free(seen);
	return ret;
}

/* The types of a snapshot cut without its heap graph (py-exit). */
static int attach_types_only(struct builder *b, struct profile_snapshot *ps, const struct run_snapshot *rs)
{
	uint32_t *map = malloc((rs->nblocks + 1) * sizeof(*map));
	uint8_t *seen = calloc(ps->nblocks + 1, 1);
	int ret = -ENOMEM;

	if (map && seen) {
		map_blocks(ps, rs, map, seen);
		ret = attach_types(b, ps, rs, map);
	}
	free(map);
	free(seen);
	return ret;
}

/* Every scan to the snapshot it belongs to; the exit scan to "exit". */
static int attach_scans(struct builder *b)
{
	struct collector *c = b->c;
	struct profile *p = b->p;

	for (size_t i = 0; i < c->nsnapshots; i++) {
		struct run_snapshot *rs = &c->snapshots[i];

		if (rs->scan && rs->blocks && rs->profile_index < p->nsnapshots &&
		    attach_scan(b, &p->snapshots[rs->profile_index], rs) < 0)
			return -ENOMEM;
		if (!rs->scan && rs->types && rs->blocks && rs->profile_index < p->nsnapshots &&
		    attach_types_only(b, &p->snapshots[rs->profile_index], rs) < 0)
			return -ENOMEM;
		run_snapshot_release(rs);
	}
	if (c->exit_scan && p->nsnapshots && attach_scan(b, &p->snapshots[p->nsnapshots - 1], c->exit_scan) < 0)
		return -ENOMEM;
	return 0;
}

/* The snapshots are cut on a thread of their own while the frames are
 * symbolized: the two take about as long, and touch disjoint data. */
static void *snapshot_thread(void *arg)
{
	struct builder *b = arg;
	uint64_t t0 = monotonic_ns();

	b->snapshot_ret = add_snapshots(b);
	b->snapshot_ns = monotonic_ns() - t0;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The whole profile                                                   */
/* ------------------------------------------------------------------ */

/* --sample-rate, for reports to know their numbers are estimates. */
static int sample_meta(const struct collector *c, struct profile *p)
{
	return c->opt.sample_rate ? profile_set_meta_u64(p, PROFILE_META_SAMPLE_RATE, c->opt.sample_rate) : 0;
}

static void fill_totals(struct collector *c, struct profile_totals *t)
{
	struct wire_header *h = c->hdr;
	int st = c->wait_status;

	t->allocations = c->allocations;
	t->frees = c->frees;
	t->bytes_allocated = c->bytes_allocated;
	t->bytes_freed = c->bytes_freed;
	t->peak_bytes = c->peak_bytes;
	t->peak_blocks = c->peak_blocks;
	t->peak_t_ns = samples_time_of(c, c->peak_stamp, c->now_ns);
	t->live_blocks = c->heap_blocks;
	t->live_bytes = c->heap_bytes;
	t->lost_events = __atomic_load_n(&h->lost_events, __ATOMIC_ACQUIRE) +
			 c->skipped_stamps + c->lost_internal;
	t->unknown_frees = c->unknown_frees;
	t->truncated_stacks = __atomic_load_n(&h->truncated_stacks, __ATOMIC_ACQUIRE);
	t->stacks_dropped = __atomic_load_n(&h->stacks_dropped, __ATOMIC_ACQUIRE);
	t->temporary = c->temporary;
	t->temporary_threshold = c->opt.temporary_threshold;
	t->exec_released_blocks = c->exec_released_blocks;
	t->exec_released_bytes = c->exec_released_bytes;
	t->images = __atomic_load_n(&h->image, __ATOMIC_ACQUIRE);
	t->threads = __atomic_load_n(&h->threads_seen, __ATOMIC_ACQUIRE);
	t->duration_ns = c->end_ns - c->start_ns;
	t->max_depth = c->opt.max_depth;
	if (WIFSIGNALED(st)) {
		t->term_signal = (uint64_t)WTERMSIG(st);
		t->exit_code = 128 + t->term_signal;
	} else {
		t->exit_code = (uint64_t)WEXITSTATUS(st);
	}
	t->peak_rss_bytes = c->peak_rss;
	t->pid = (uint64_t)c->pid;
	t->start_unix = c->start_unix;
	t->ring_waits = __atomic_load_n(&h->ring_waits, __ATOMIC_ACQUIRE);
}

void collector_build_times(const struct collector *c, struct collector_build_times *t)
{
	*t = c->build_times;
}

/* Long: the steps of the build in their order, with the snapshots cut on
 * a second thread between the fork and the join; collector.h says what it
 * fills. */
int collector_build_profile(struct collector *c, struct profile *p, char err[PROFILE_ERRLEN])
{
	struct builder b = { .c = c, .p = p };
	size_t nsites = 0;
	uint32_t nslots = wiretables_stack_slots(&c->tables);
	pthread_t snapshots;
	uint64_t t0, t1;
	int threaded = 0, ret = -ENOMEM;

	b.stack_map = calloc((size_t)nslots + 1, sizeof(*b.stack_map));
	if (!b.stack_map || number_stacks(&b) < 0)
		goto out;
	p->sites = calloc(p->nstacks, sizeof(*p->sites));
	if (!p->sites)
		goto out;
	for (size_t i = 0; i < c->nsites; i++) {
		struct site_counters *s = &c->sites[i];

		if (s->allocations)
			add_site(&b, p->sites, s);
	}
	p->nsites = p->nstacks;
	fill_totals(c, &p->totals);	/* before the snapshots release the live set */
	memcpy(p->sizes, c->sizes, sizeof(p->sizes));
	p->has_sizes = 1;
	b.peak_name = profile_intern(p, "peak");
	b.exit_name = profile_intern(p, "exit");
	b.run_names = calloc(c->nsnapshots + 1, sizeof(*b.run_names));
	if (!b.peak_name || !b.exit_name || !b.run_names)
		goto out;
	for (size_t i = 0; i < c->nsnapshots; i++)
		if (!(b.run_names[i] = profile_intern(p, c->snapshots[i].name)))
			goto out;

	/* from here until the join, the snapshot side owns p->snapshots and
	 * p->sites, this side everything else */
	threaded = pthread_create(&snapshots, NULL, snapshot_thread, &b) == 0;
	if (!threaded)
		snapshot_thread(&b);
	t0 = monotonic_ns();
	/* the symbols read while the program ran, if any */
	b.sym = symwarm_finish(c->symwarm);
	c->symwarm = NULL;
	if ((b.sym || symbolizer_new(&b.sym) == 0) && add_modules(&b) == 0 && symbolize_stacks(&b) == 0)
		ret = 0;
	t1 = monotonic_ns();
	if (threaded)
		pthread_join(snapshots, NULL);
	c->build_times = (struct collector_build_times){ p->nframes, t1 - t0, b.snapshot_ns, threaded };
	if (ret < 0 || b.snapshot_ret < 0 || attach_scans(&b) < 0) {
		ret = -ENOMEM;
		goto out;
	}
	if (b.loader) {
		struct run_loader *l = b.loader;

		b.loader = NULL;	/* p's now, or freed */
		if (run_loader_install(l, p, b.stack_map, (size_t)nslots + 1, b.gen_stamps, b.ngen_stamps) < 0) {
			ret = -ENOMEM;
			goto out;
		}
	}
	if (sample_meta(c, p) < 0) {
		ret = -ENOMEM;
		goto out;
	}
	profile_weigh_snapshots(p);
	if (c->scan_error[0])
		profile_set_meta(p, "scan-error", c->scan_error);
	if (collector_corruption(c))
		profile_set_meta(p, "corrupted", collector_corruption(c));
	if (c->late_events)
		profile_set_meta_u64(p, PROFILE_META_LATE_EVENTS, c->late_events);
	pymeta_interpreter(c, p);
	if (c->py_gc.read)
		pymeta_gc(&c->py_gc, p);

	/* keep only stacks that allocated (site 0 may be empty) */
	for (size_t i = 0; i < p->nsites; i++)
		if (p->sites[i].allocations)
			p->sites[nsites++] = p->sites[i];
	p->nsites = nsites;

	if (c->nsamples) {
		ret = -ENOMEM;
		p->samples = malloc(c->nsamples * sizeof(*p->samples));
		if (!p->samples)
			goto out;
		memcpy(p->samples, c->samples, c->nsamples * sizeof(*p->samples));
		p->nsamples = c->nsamples;
	}
	ret = 0;
out:
	if (ret < 0)
		snprintf(err, PROFILE_ERRLEN, "out of memory while building the profile");
	symbolizer_free(b.sym);
	free(b.module_of_log);
	free(b.cache);
	free(b.expansion);
	free(b.code);
	free(b.stack_map);
	free(b.run_names);
	free(b.gen_stamps);
	run_loader_free(b.loader);
	return ret;
}

/* ------------------------------------------------------------------ */
/* The live profile                                                    */
/* ------------------------------------------------------------------ */

/*
 * While the program runs, a dashboard asks for the profile as it is now:
 * totals, the sites with their live counters, and the timeline, without
 * snapshots. Symbols are resolved once per return address and kept, in a
 * builder that lives as long as the collector, so each call only adds
 * what is new since the last.
 */

#define LIVE_SAMPLES	1024	/* timeline points sent, at most */

struct live_build {
	struct builder b;
	struct profile p;
	struct pymeta_cache types;	/* the census of the last snapshot with types */
};

void collector_live_release(struct collector *c)
{
	struct live_build *lb = c->live_build;

	if (!lb)
		return;
	symbolizer_free(lb->b.sym);
	pymeta_cache_release(&lb->types);
	free(lb->b.module_of_log);
	free(lb->b.cache);
	free(lb->b.expansion);
	free(lb->b.code);
	free(lb->b.stack_map);
	profile_release(&lb->p);
	free(lb);
	c->live_build = NULL;
}

static struct live_build *live_build_new(struct collector *c)
{
	struct live_build *lb = calloc(1, sizeof(*lb));

	if (!lb)
		return NULL;
	c->live_build = lb;
	lb->b.c = c;
	lb->b.p = &lb->p;
	lb->b.stack_map = calloc((size_t)wiretables_stack_slots(&c->tables) + 1, sizeof(*lb->b.stack_map));
	if (profile_init(&lb->p) < 0 || !lb->b.stack_map || symbolizer_new(&lb->b.sym) < 0 ||
	    array_grow((void **)&lb->p.stacks, &lb->b.stacks_cap, 1, sizeof(*lb->p.stacks)) < 0) {
		collector_live_release(c);
		return NULL;
	}
	lb->p.stacks[0] = (struct profile_stack){ 0, 0 };	/* the unknown stack */
	lb->p.nstacks = 1;
	return lb;
}

/* Number and symbolize the stacks of sites that appeared since last time. */
static int add_new_stacks(struct builder *b)
{
	struct collector *c = b->c;
	struct profile *p = b->p;

	for (; b->sites_done < c->nsites; b->sites_done++) {
		uint32_t id = c->sites[b->sites_done].stack;

		if (!id || b->stack_map[id])
			continue;
		if (array_grow((void **)&p->stacks, &b->stacks_cap, p->nstacks + 1, sizeof(*p->stacks)) < 0)
			return -ENOMEM;
		b->stack_map[id] = (uint32_t)p->nstacks++;
		if (symbolize_stack(b, id, &b->stack_frames_cap) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The sites as they are now, one per profile stack that allocated. */
static int live_sites(struct builder *b)
{
	struct collector *c = b->c;
	struct profile *p = b->p;
	struct profile_site *all = calloc(p->nstacks, sizeof(*all));
	size_t n = 0;

	if (!all)
		return -ENOMEM;
	for (size_t i = 0; i < c->nsites; i++)
		add_site(b, all, &c->sites[i]);
	for (size_t i = 0; i < p->nstacks; i++)
		if (all[i].allocations)
			all[n++] = all[i];
	free(p->sites);
	p->sites = all;
	p->nsites = n;
	return 0;
}

/* The timeline in at most LIVE_SAMPLES points: the highest heap of each
 * stretch, and the latest sample last (its RSS is "now"). */
static int live_samples(struct collector *c, struct profile *p)
{
	size_t n = c->nsamples, out = n <= LIVE_SAMPLES ? n : LIVE_SAMPLES;
	struct profile_sample *s = malloc((out + 1) * sizeof(*s));

	if (!s)
		return -ENOMEM;
	if (n <= LIVE_SAMPLES) {
		memcpy(s, c->samples, n * sizeof(*s));
	} else {
		for (size_t k = 0; k + 1 < out; k++) {
			size_t from = k * (n - 1) / (out - 1), to = (k + 1) * (n - 1) / (out - 1);

			s[k] = c->samples[from];
			for (size_t i = from + 1; i < to; i++)
				if (c->samples[i].heap_bytes > s[k].heap_bytes)
					s[k] = c->samples[i];
		}
		s[out - 1] = c->samples[n - 1];
	}
	free(p->samples);
	p->samples = s;
	p->nsamples = out;
	return 0;
}

/* A Python program's part of the live profile: its interpreter, its
 * cycle collector now (read while it runs), the last census of types. */
static int live_python(struct collector *c, struct live_build *lb)
{
	struct python_gc gc = { 0 };

	if (__atomic_load_n(&c->hdr->python_state, __ATOMIC_ACQUIRE) != WIRE_PYTHON_ON)
		return 0;
	pymeta_interpreter(c, &lb->p);
	collector_read_python_gc(c, &gc);
	if (!gc.read)
		gc = c->py_gc;	/* it is gone (or going): what py-exit read, if anything */
	if (gc.read)
		pymeta_gc(&gc, &lb->p);
	return pymeta_types(c, &lb->p, &lb->types);
}

int collector_write_live(struct collector *c, int fd, const char *const *meta, char err[PROFILE_ERRLEN])
{
	struct live_build *lb = c->live_build ? c->live_build : live_build_new(c);
	struct profile *p;

	if (!lb || add_modules(&lb->b) < 0 || add_new_stacks(&lb->b) < 0 || live_sites(&lb->b) < 0 ||
	    live_samples(c, &lb->p) < 0) {
		snprintf(err, PROFILE_ERRLEN, "out of memory while building the live profile");
		return -ENOMEM;
	}
	p = &lb->p;
	fill_totals(c, &p->totals);
	if (!c->end_ns)
		p->totals.duration_ns = c->now_ns > c->start_ns ? c->now_ns - c->start_ns : 0;
	memcpy(p->sizes, c->sizes, sizeof(p->sizes));
	p->has_sizes = 1;
	free(p->meta);
	p->meta = NULL;
	p->nmeta = 0;
	for (size_t i = 0; meta && meta[i] && meta[i + 1]; i += 2)
		if (profile_set_meta(p, meta[i], meta[i + 1]) < 0) {
			snprintf(err, PROFILE_ERRLEN, "out of memory while building the live profile");
			return -ENOMEM;
		}
	if (sample_meta(c, p) < 0 || live_python(c, lb) < 0) {
		snprintf(err, PROFILE_ERRLEN, "out of memory while building the live profile");
		return -ENOMEM;
	}
	return profile_write_fd(p, fd, "the live profile", err);
}

/*
 * How a scan classifies its blocks, as count says (memcheck's way, by
 * analysis/leaks.h), without building a profile: the blocks and edges as a
 * snapshot of their own.
 */
int collector_scan_kinds(const struct run_snapshot *rs, uint64_t sample_rate, collector_count_kinds_fn *count,
			 struct leak_count kinds[LEAK_KINDS])
{
	const struct scan_result *r = rs->scan;
	struct profile_scan sc = { .nroots = r->nroots };
	struct profile_snapshot s = { .nblocks = rs->nblocks, .sample_rate = sample_rate };
	int ret = -ENOMEM;

	s.blocks = calloc(rs->nblocks + 1, sizeof(*s.blocks));
	sc.edges = malloc((r->nedges + 1) * sizeof(*sc.edges));
	if (!s.blocks || !sc.edges)
		goto out;
	for (size_t i = 0; i < rs->nblocks; i++)
		s.blocks[i] = (struct profile_block){ rs->blocks[i].addr, rs->blocks[i].size,
						      rs->blocks[i].stamp, 0, 0 };
	for (size_t i = 0; i < r->nedges; i++)
		if (r->edges[i].to < rs->nblocks)
			sc.edges[sc.nedges++] = r->edges[i];
	sort_by_target(sc.edges, sc.nedges, rs->nblocks);
	s.scan = &sc;
	ret = count(&s, kinds);
out:
	free(s.blocks);
	free(sc.edges);
	return ret;
}

/*
 * collector-scan.c - reachability scans, seen from the collector.
 *
 * A scan stops every thread of the program (world.c), stops our drain
 * thread and replays everything the program published before it stopped,
 * so the live table is the heap as it is; then it cuts a snapshot of the
 * live blocks, scans the program's memory for pointers into them (scan.c)
 * and lets the program go. The program is stopped from the first ptrace
 * stop to the last detach; that time is kept with the snapshot.
 *
 * If a thread was stopped between taking a stamp and publishing its
 * record, replay cannot pass that stamp; the program is then let go for a
 * moment and stopped again, a few times, before the scan goes ahead with
 * the events replayed so far.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#include "../../tracer/wire.h"
#include "../util/addrsort.h"
#include "../util/clock.h"
#include "collector-internal.h"
#include "pyframes.h"
#include "pystale.h"
#include "rssparts.h"
#include "world.h"

#define CATCH_UP_TRIES	10

static int rings_empty(const struct collector *c)
{
	uint32_t used = rings_in_use(c);

	if (__atomic_load_n(&c->corrupt, __ATOMIC_ACQUIRE))
		return 1;	/* nothing more is pulled */
	for (uint32_t i = 0; i < used; i++)
		if (__atomic_load_n(&ring_at(c, i)->head, __ATOMIC_ACQUIRE) != c->ring_seen[i].tail)
			return 0;
	return 1;
}

/* Replay all that the stopped program published. Returns 1 when replay
 * reached every stamp taken, 0 when one is still in a stopped thread. */
static int catch_up(struct collector *c)
{
	do
		collector_drain(c, 0);
	while (!rings_empty(c));
	collector_drain(c, 0);
	return c->window.pending == 0 &&
	       c->window.base == __atomic_load_n(&c->hdr->stamp, __ATOMIC_ACQUIRE);
}

/* Which blocks did the dynamic loader make (its code called malloc)? */
static uint8_t *loader_blocks(struct collector *c, const struct live_block *blocks, size_t n)
{
	const struct wiretables *t = &c->tables;
	uint32_t used = wiretables_modules_used(t);
	uint64_t lo = 0, hi = 0;
	uint8_t *loader = calloc(n + 1, 1);

	if (!loader)
		return NULL;
	for (uint32_t i = 0; i < used; i++) {
		struct wiretables_module m;
		const char *base;

		if (!wiretables_module(t, i, &m) || m.image != c->image)
			continue;
		base = strrchr(m.path, '/');
		if (strncmp(base ? base + 1 : m.path, "ld-linux", 8) == 0) {
			lo = m.start;
			hi = m.end;
		}
	}
	for (size_t i = 0; hi && i < n; i++) {
		const uint64_t *frames;
		uint32_t image;

		if (wiretables_stack(t, blocks[i].stack, &frames, &image))
			loader[i] = frames[0] >= lo && frames[0] < hi;
	}
	return loader;
}

/* The loaded objects of the current image; heapwise's own tracer is not
 * the program's and its data is not a root. Each path is a copy: free the
 * array with free_scan_modules. */
static struct scan_module *scan_modules(struct collector *c, size_t *n)
{
	const struct wiretables *t = &c->tables;
	uint32_t used = wiretables_modules_used(t);
	struct scan_module *mods = calloc(used + 1, sizeof(*mods));

	*n = 0;
	for (uint32_t i = 0; mods && i < used; i++) {
		struct wiretables_module m;
		const char *base;
		char *path;

		if (!wiretables_module(t, i, &m) || m.image != c->image)
			continue;
		if (!(path = strdup(m.path)))
			continue;
		base = strrchr(path, '/');
		mods[*n] = (struct scan_module){ path, m.bias, i,
			strcmp(base ? base + 1 : path, "libheapwise.so") == 0 };
		(*n)++;
	}
	return mods;
}

static void free_scan_modules(struct scan_module *mods, size_t n)
{
	for (size_t i = 0; mods && i < n; i++)
		free((char *)mods[i].path);
	free(mods);
}

/*
 * Where the interpreter's cycle collector keeps its generation heads: from
 * its generations (three, 24 bytes each) through generation0 and the
 * permanent generation, up to its statistics, which follow them (the same
 * in 3.11 to 3.13: tests/py/layout.c checks both offsets). The header is
 * the program's to write: a range longer than that is none.
 */
static void python_gc_heads(const struct collector *c, uint64_t *lo, uint64_t *hi)
{
	uint64_t from = c->hdr->python_gc_generations, to = c->hdr->python_gc_stats;

	*lo = *hi = 0;
	if (from && to > from && to - from <= 128) {
		*lo = from;
		*hi = to;
	}
}

/* What a Python program's scan needs of it besides its objects: where gc's
 * heads are, what is stale and what is dead (pystale.h; *st to release). */
static void python_rules(const struct collector *c, struct scan_input *in, struct py_stale *st)
{
	python_gc_heads(c, &in->py_gc_lo, &in->py_gc_hi);
	if (pystale_read(c->pid, c->hdr, st) == 0) {
		in->py_stale = st->stale;
		in->npy_stale = st->nstale;
		in->py_dead = st->dead;
		in->npy_dead = st->ndead;
	}
}

/* The Python objects in s's blocks, when the program runs Python now
 * (then 1; the types stay NULL if they cannot be read). */
static int read_types(struct collector *c, struct run_snapshot *s)
{
	if (__atomic_load_n(&c->hdr->python_state, __ATOMIC_ACQUIRE) != WIRE_PYTHON_ON)
		return 0;
	if ((s->types = calloc(1, sizeof(*s->types))) &&
	    pytypes_read(c->pid, c->hdr, s->blocks, s->nblocks, s->types) < 0) {
		free(s->types);
		s->types = NULL;
	}
	return 1;
}

/* A dict's value that a module's globals table holds is that module's
 * global: module M .__dict__['K'], not dict['K']. */
static void name_globals(struct run_snapshot *s)
{
	for (size_t k = 0; k < s->names.n; k++) {
		struct py_name *n = &s->names.items[k];
		const char *global;

		if (n->kind == PROFILE_NAME_STR_KEY && n->from < s->nblocks &&
		    (global = pyglobals_slot(&s->globals, s->blocks[n->from].addr + n->offset))) {
			n->kind = PROFILE_NAME_GLOBAL;
			n->text = global;	/* s->globals lives as long as s->names */
		}
	}
}

/* After the scan, what only the stopped program can tell: what its
 * resident set holds (not for a sample, whose blocks are a few of the
 * heap's), and its pointers in Python's words while the keys are there. */
static void read_while_stopped(struct collector *c, struct run_snapshot *s, int python, int python_rules)
{
	if (!c->opt.sample_rate)
		s->has_rss_parts = rssparts_read(c->pid, s->blocks, s->nblocks, python, &s->rss_parts,
						 python ? &s->pins : NULL) == 0;
	if (python_rules) {
		uint32_t version = __atomic_load_n(&c->hdr->python_version, __ATOMIC_ACQUIRE);

		if (pynames_read(c->pid, version, s->blocks, s->nblocks, s->types, s->scan, &s->names) == 0)
			pynames_drop_stale(&s->names, s->scan);
		if (pyglobals_read(c->pid, version, __atomic_load_n(&c->hdr->python_modules, __ATOMIC_ACQUIRE),
				   &s->globals) == 0)
			pyframes_read(c->pid, version, c->hdr, &s->globals);
		name_globals(s);
	}
}

/* Cut the live table into a snapshot sorted by address, and scan it (the
 * heap graph when graph is set; a Python program's objects either way). */
static struct run_snapshot *cut_and_scan(struct collector *c, const struct world *w, const char *name,
					 int at_exit, int graph)
{
	struct run_snapshot *s = calloc(1, sizeof(*s));
	struct scan_block *blocks = NULL;
	struct py_stale stale = { 0 };
	struct scan_module *mods = NULL;
	uint8_t *loader = NULL;
	size_t n, nmods = 0;
	char err[SCAN_ERRLEN];
	int ret = -ENOMEM, python;

	if (!s)
		goto out;
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->t_ns = c->now_ns - c->start_ns;
	s->stamp = c->window.base - 1;
	s->scan_image = c->image;
	s->scan = graph ? calloc(1, sizeof(*s->scan)) : NULL;
	if ((graph && !s->scan) || collector_copy_live(c, s) < 0)
		goto out;
	n = s->nblocks;
	if (sort_by_addr(s->blocks, n, sizeof(*s->blocks)) < 0)
		goto out;
	/* a Python program's objects first: the heap graph reads them so */
	python = read_types(c, s);
	if (!graph) {
		ret = 0;
		goto out;
	}
	blocks = malloc((n + 1) * sizeof(*blocks));
	if (!blocks)
		goto out;
	for (size_t i = 0; i < n; i++)
		blocks[i] = (struct scan_block){ s->blocks[i].addr, s->blocks[i].size };
	loader = loader_blocks(c, s->blocks, n);
	mods = scan_modules(c, &nmods);
	if (!loader || !mods)
		goto out;
	{
		struct scan_input in = {
			.world = w, .blocks = blocks, .nblocks = n, .loader = loader,
			.modules = mods, .nmodules = nmods,
			.static_tls_size = __atomic_load_n(&c->hdr->static_tls_size, __ATOMIC_ACQUIRE),
			/* the thread in exit(): its exit frames are not the program's */
			.exit_tid = at_exit ? __atomic_load_n(&c->hdr->exit_scan_tid, __ATOMIC_ACQUIRE) : 0,
			.inherited = c->inherited, .ninherited = c->ninherited,
			/* Python's rules while it runs; after Py_Finalize (at exit) its
			 * lists are torn down and what is left is C's, read as C */
			.py_layout = s->types && !at_exit ? s->types->layout : NULL,
			.sampled = c->opt.sample_rate != 0,
		};

		if (in.py_layout)
			python_rules(c, &in, &stale);

		ret = scan_program(&in, s->scan, err);
		if (ret < 0)
			snprintf(c->scan_error, sizeof(c->scan_error), "%s", err);
		else
			read_while_stopped(c, s, python, in.py_layout != NULL);
	}
out:
	if (ret == -ENOMEM)
		snprintf(c->scan_error, sizeof(c->scan_error), "out of memory for the scan");
	free(blocks);
	free(loader);
	pystale_release(&stale);
	free_scan_modules(mods, nmods);
	if (ret < 0 && s) {
		free(s->blocks);
		free(s->scan);	/* scan_program released what it held */
		if (s->types)
			pytypes_release(s->types);
		free(s->types);
		free(s);
		s = NULL;
	}
	return s;
}

struct run_snapshot *collector_scan(struct collector *c, const char *name, int at_exit, int graph)
{
	struct run_snapshot *s = NULL;
	struct world w;
	char err[WORLD_ERRLEN];
	uint64_t t0 = 0, stopped = 0;
	int caught_up = 0, ret = 0;

	c->scan_error[0] = '\0';
	collector_stop_draining(c);
	for (int try = 0; try < CATCH_UP_TRIES; try++) {
		t0 = monotonic_ns();
		ret = world_stop(&w, c->pid, err);
		if (ret < 0)
			break;
		caught_up = catch_up(c);
		if (caught_up || try == CATCH_UP_TRIES - 1)
			break;
		stopped += monotonic_ns() - t0;
		collector_beat(c, monotonic_ns());
		world_resume(&w);
		nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
	}
	if (ret < 0) {
		snprintf(c->scan_error, sizeof(c->scan_error), "cannot stop the program: %.200s", err);
	} else {
		c->now_ns = monotonic_ns();
		s = cut_and_scan(c, &w, name, at_exit, graph);
		/* beat before the program runs again: its threads measure how
		 * long we were still, and the scan (no drain) must not count */
		collector_beat(c, monotonic_ns());
		world_resume(&w);
		stopped += monotonic_ns() - t0;
	}
	if (w.program_ended) {
		c->program_reaped = 1;
		c->program_status = w.program_status;
	}
	if (collector_start_draining(c) < 0)
		collector_drain(c, 0);	/* replay goes on from the caller's loop */
	if (!s)
		return NULL;
	s->scan_stop_ns = stopped;
	if (!caught_up)
		c->lost_internal++;	/* a stamp in flight: the scan may miss its block */
	if (at_exit) {
		c->exit_scan = s;
		return s;
	}
	{
		struct run_snapshot *kept = collector_keep_snapshot(c, s);

		if (!kept) {
			snprintf(c->scan_error, sizeof(c->scan_error), "out of memory for the scan");
			run_snapshot_release(s);
		}
		free(s);
		return kept;
	}
}


/*
 * The cycle collector's state, read at the addresses the tracer
 * published: at py-exit while the program's exit callback waits for us
 * (holding the interpreter's lock, so it holds still), or while it runs,
 * for the dashboard (then the numbers are a moment's, and may be a
 * collection apart). Nothing is kept when a read fails; what is read is
 * only numbers, whatever the program wrote.
 */
void collector_read_python_gc(const struct collector *c, struct python_gc *out)
{
	const struct wire_header *h = c->hdr;
	uint64_t at[3] = { h->python_gc_enabled, h->python_gc_generations, h->python_gc_stats };
	unsigned char buf[3][72];
	size_t len[3] = { 4, 72, 72 };

	for (int i = 0; i < 3; i++) {
		struct iovec local = { buf[i], len[i] }, remote = { (void *)(uintptr_t)at[i], len[i] };

		if (!at[i] || process_vm_readv(c->pid, &local, 1, &remote, 1, 0) != (ssize_t)len[i])
			return;
	}
	memcpy(&out->enabled, buf[0], 4);
	for (int g = 0; g < 3; g++) {
		memcpy(&out->threshold[g], buf[1] + 24 * g + 16, 4);
		memcpy(&out->count[g], buf[1] + 24 * g + 20, 4);
		memcpy(&out->collections[g], buf[2] + 24 * g, 8);
		memcpy(&out->collected[g], buf[2] + 24 * g + 8, 8);
		memcpy(&out->uncollectable[g], buf[2] + 24 * g + 16, 8);
	}
	out->read = 1;
}

/* Blocks at py-exit up to which its heap graph is scanned too: a million
 * objects (1.4 million blocks) stop the program 0.4 to 0.7 s here; see
 * heapwise-run(1). */
#define PY_EXIT_GRAPH_MAX	1500000

void collector_scan_tick(struct collector *c)
{
	struct wire_header *h = c->hdr;

	if (!c->exit_scan_served && __atomic_load_n(&h->exit_scan, __ATOMIC_ACQUIRE) == WIRE_SCAN_ABANDONED) {
		c->exit_scan_served = 1;
		snprintf(c->scan_error, sizeof(c->scan_error),
			 "the program stopped waiting for it: heapwise was stopped or too slow to answer");
	}
	if (!c->py_exit_served && !__atomic_load_n(&c->corrupt, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&h->py_exit_scan, __ATOMIC_ACQUIRE) == WIRE_SCAN_REQUESTED) {
		/* a Python program before it frees its objects: its objects by type,
		 * and its heap graph (Python's leak kinds) when it is small enough to
		 * cost a second at most; the leak check after finalization is
		 * the one that finds C's leaks */
		collector_scan(c, "py-exit", 0, c->live.count <= PY_EXIT_GRAPH_MAX);
		collector_read_python_gc(c, &c->py_gc);
		c->py_exit_served = 1;
		__atomic_store_n(&h->py_exit_scan, WIRE_SCAN_DONE, __ATOMIC_RELEASE);
		syscall(SYS_futex, &h->py_exit_scan, FUTEX_WAKE, 1, NULL, NULL, 0);
	}
	if (!c->exit_scan_served && !__atomic_load_n(&c->corrupt, __ATOMIC_ACQUIRE) &&
	    __atomic_load_n(&h->exit_scan, __ATOMIC_ACQUIRE) == WIRE_SCAN_REQUESTED) {
		collector_scan(c, "exit", 1, 1);
		c->exit_scan_served = 1;
		__atomic_store_n(&h->exit_scan, WIRE_SCAN_DONE, __ATOMIC_RELEASE);
		syscall(SYS_futex, &h->exit_scan, FUTEX_WAKE, 1, NULL, NULL, 0);
	}
}

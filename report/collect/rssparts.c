/*
 * rssparts.c - what a stopped program's resident set is made of: its live
 * heap blocks, the free space malloc holds resident in its heaps, the free
 * space inside pymalloc's arenas (a Python program's "del and gc.collect()
 * gave nothing back"), and the rest (code, stacks, other mappings). Each
 * mapping's resident bytes come from /proc/PID/smaps, the blocks from the
 * snapshot being scanned; called by collector-scan.c while the program is
 * stopped, so the two agree.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "procmaps.h"
#include "remoteread.h"
#include "rssparts.h"

#define MMAP_CHUNK_HEAD	16		/* glibc's header before an mmap'd block */

enum region { REGION_OTHER, REGION_MALLOC, REGION_POOL };

/*
 * pymalloc's pools are 16 KiB, aligned, each starting with its header:
 * ref.count (u32 at 0), ..., arenaindex (u32 at 32), szidx (36),
 * nextoffset (40), maxnextoffset (44). The pools of one arena share its
 * index; that groups them, and the blocks in them, by arena.
 */
#define POOL_SIZE	16384
#define POOL_HEAD	48

struct pool {
	uint64_t addr;
	uint32_t arena;		/* its index among the arenas found (not CPython's) */
	uint64_t live;		/* bytes of blocks in it */
};

struct arena {
	uint32_t index;		/* CPython's arenaindex */
	uint64_t pools, live;
};

static int by_arena_index(const void *a, const void *b)
{
	const struct arena *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/* The pools in [start, end) whose headers read as pymalloc's. */
static int read_pools(pid_t pid, uint64_t start, uint64_t end, struct pool **pools, size_t *n, size_t *cap)
{
	uint64_t first = (start + POOL_SIZE - 1) & ~(uint64_t)(POOL_SIZE - 1);
	size_t count = first + POOL_SIZE <= end ? (end - first) / POOL_SIZE : 0;
	struct remote_piece *p = calloc(count + 1, sizeof(*p));
	uint32_t (*heads)[POOL_HEAD / 4] = calloc(count + 1, sizeof(*heads));
	int ret = -ENOMEM;

	if (!p || !heads)
		goto out;
	for (size_t k = 0; k < count; k++)
		p[k] = (struct remote_piece){ first + k * POOL_SIZE, POOL_HEAD, (uint8_t *)heads[k], 0 };
	if ((ret = remote_read(pid, p, count)) < 0)
		goto out;
	for (size_t k = 0; k < count; k++) {
		const uint32_t *h = heads[k];

		/* a header pymalloc wrote: its size class, its offsets in the pool */
		if (!p[k].ok || h[9] >= 64 || h[10] < POOL_HEAD || h[10] > POOL_SIZE || h[11] > POOL_SIZE ||
		    h[0] > POOL_SIZE / 8)
			continue;
		if (*n == *cap) {
			struct pool *grown = realloc(*pools, (*cap = *cap ? *cap * 2 : 1024) * sizeof(**pools));

			if (!grown) {
				ret = -ENOMEM;
				goto out;
			}
			*pools = grown;
		}
		(*pools)[(*n)++] = (struct pool){ p[k].addr, h[8], 0 };
	}
	ret = 0;
out:
	free(p);
	free(heads);
	return ret;
}

struct pin_count {
	uint32_t stack;
	uint64_t blocks, bytes;
};

static int by_stack(const void *a, const void *b)
{
	const struct pin_count *x = a, *y = b;

	return x->stack < y->stack ? -1 : x->stack > y->stack;
}

static int by_blocks(const void *a, const void *b)
{
	const struct pin_count *x = a, *y = b;

	return x->blocks > y->blocks ? -1 : x->blocks < y->blocks;
}

/* The arenas of the pools, and the sites of the blocks in those mostly free. */
static int count_pins(struct pool *pools, size_t npools, const struct live_block *blocks, size_t nblocks,
		      struct profile_pins *pins)
{
	struct arena *arenas = malloc((npools + 1) * sizeof(*arenas));
	struct pin_count *counts = NULL;
	size_t narenas = 0, ncounts = 0, b = 0;
	int ret = -ENOMEM;

	if (!arenas)
		return -ENOMEM;
	/* each pool's live bytes (pools and blocks both by address) */
	for (size_t i = 0; i < npools; i++) {
		while (b < nblocks && blocks[b].addr < pools[i].addr)
			b++;
		for (size_t k = b; k < nblocks && blocks[k].addr < pools[i].addr + POOL_SIZE; k++)
			pools[i].live += blocks[k].size;
		arenas[i] = (struct arena){ pools[i].arena, 0, 0 };
	}
	qsort(arenas, npools, sizeof(*arenas), by_arena_index);
	for (size_t i = 0; i < npools; i++)
		if (!narenas || arenas[narenas - 1].index != arenas[i].index)
			arenas[narenas++] = arenas[i];
	for (size_t i = 0; i < npools; i++) {
		struct arena key = { pools[i].arena, 0, 0 };
		struct arena *a = bsearch(&key, arenas, narenas, sizeof(*arenas), by_arena_index);

		a->pools++;
		a->live += pools[i].live;
		pools[i].arena = (uint32_t)(a - arenas);
	}
	pins->arenas = narenas;
	for (size_t i = 0; i < narenas; i++)
		pins->mostly_free += arenas[i].live < arenas[i].pools * POOL_SIZE / 4;
	counts = malloc((nblocks + 1) * sizeof(*counts));
	if (!counts)
		goto out;
	b = 0;
	for (size_t i = 0; i < npools; i++) {
		const struct arena *a = &arenas[pools[i].arena];

		if (a->live >= a->pools * POOL_SIZE / 4)
			continue;
		while (b < nblocks && blocks[b].addr < pools[i].addr)
			b++;
		for (; b < nblocks && blocks[b].addr < pools[i].addr + POOL_SIZE; b++)
			counts[ncounts++] = (struct pin_count){ blocks[b].stack, 1, blocks[b].size };
	}
	qsort(counts, ncounts, sizeof(*counts), by_stack);
	{
		size_t kept = 0;

		for (size_t i = 0; i < ncounts; i++) {
			if (kept && counts[kept - 1].stack == counts[i].stack) {
				counts[kept - 1].blocks++;
				counts[kept - 1].bytes += counts[i].bytes;
			} else {
				counts[kept++] = counts[i];
			}
		}
		ncounts = kept;
	}
	qsort(counts, ncounts, sizeof(*counts), by_blocks);
	for (size_t i = 0; i < ncounts && pins->n < PROFILE_PINS_MAX; i++)
		pins->top[pins->n++] = (struct profile_pin){ counts[i].stack, 0, counts[i].blocks, counts[i].bytes };
	ret = 0;
out:
	free(arenas);
	free(counts);
	return ret;
}

/* One mapping's part, from the live bytes and blocks in it (count, the
 * lowest at first): which region it is, what of it is live and free. */
static enum region add_mapping(const struct proc_maps *maps, size_t i, uint64_t live, uint64_t count, uint64_t first,
			       int python, struct profile_rss_parts *out)
{
	const struct proc_mapping *m = &maps->items[i];
	enum region kind = REGION_OTHER;

	out->rss += m->rss;
	/* [heap], or an arena heap (a ---p one has nothing resident) */
	if (strcmp(m->path, "[heap]") == 0 ||
	    ((m->perms & (MAP_PERM_READ | MAP_PERM_WRITE | MAP_PERM_EXEC)) && procmaps_arena_heap_shape(maps, i)))
		kind = REGION_MALLOC;
	else if (count == 1 && first == m->start + MMAP_CHUNK_HEAD)
		kind = REGION_MALLOC;	/* one block malloc mapped on its own */
	else if (count && !m->path[0])
		kind = python ? REGION_POOL : REGION_MALLOC;	/* an allocator's arenas */
	if (kind == REGION_OTHER)
		return kind;
	/* a block's untouched pages are not resident: at most the mapping's */
	if (live > m->rss)
		live = m->rss;
	out->live_heap += live;
	if (kind == REGION_POOL)
		out->pymalloc_free += m->rss - live;
	else
		out->allocator_free += m->rss - live;
	return kind;
}

int rssparts_read(pid_t pid, const struct live_block *blocks, size_t nblocks, int python,
		  struct profile_rss_parts *out, struct profile_pins *pins)
{
	struct pool *pools = NULL;
	size_t npools = 0, pools_cap = 0, b = 0;
	struct proc_maps maps;
	int ret = procmaps_read_resident(&maps, pid);

	memset(out, 0, sizeof(*out));
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < maps.n; i++) {
		const struct proc_mapping *m = &maps.items[i];
		uint64_t live = 0, count = 0, first = 0;

		while (b < nblocks && blocks[b].addr < m->start)
			b++;
		for (; b < nblocks && blocks[b].addr < m->end; b++) {
			if (!count++)
				first = blocks[b].addr;
			live += blocks[b].size;
		}
		if (add_mapping(&maps, i, live, count, first, python, out) == REGION_POOL && pins &&
		    (ret = read_pools(pid, m->start, m->end, &pools, &npools, &pools_cap)) < 0)
			break;
	}
	out->other = out->rss - out->live_heap - out->pymalloc_free - out->allocator_free;
	if (pins) {
		memset(pins, 0, sizeof(*pins));
		if (ret == 0 && npools)
			ret = count_pins(pools, npools, blocks, nblocks, pins);
	}
	free(pools);
	procmaps_release(&maps);
	return ret;
}

int rssparts_read_live(pid_t pid, struct livetable *t, int python, struct profile_rss_parts *out)
{
	struct proc_maps maps;
	struct { uint64_t live, count, first; } *per;
	struct live_block *b;
	size_t pos = 0;
	int ret = procmaps_read_resident(&maps, pid);

	memset(out, 0, sizeof(*out));
	if (ret < 0)
		return ret;
	if (!(per = calloc(maps.n + 1, sizeof(*per)))) {
		procmaps_release(&maps);
		return -ENOMEM;
	}
	while ((b = livetable_next(t, &pos))) {
		const struct proc_mapping *m = procmaps_find(&maps, b->addr);
		size_t i = m ? (size_t)(m - maps.items) : maps.n;	/* per[maps.n]: in none */

		if (!per[i].count++ || b->addr < per[i].first)
			per[i].first = b->addr;
		per[i].live += b->size;
	}
	for (size_t i = 0; i < maps.n; i++)
		add_mapping(&maps, i, per[i].live, per[i].count, per[i].first, python, out);
	out->other = out->rss - out->live_heap - out->pymalloc_free - out->allocator_free;
	free(per);
	procmaps_release(&maps);
	return 0;
}

/*
 * rssparts.c - what a stopped program's resident set is made of: its live
 * heap blocks, the free space malloc holds resident in its heaps, the free
 * space inside pymalloc's arenas (a Python program's "del and gc.collect()
 * gave nothing back"), and the rest (code, stacks, other mappings). Each
 * mapping's resident bytes come from /proc/PID/smaps, the blocks from the
 * snapshot being scanned; called by collector-scan.c while the program is
 * stopped, so the two agree.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "rssparts.h"

#define ARENA_HEAP	(64ull << 20)	/* glibc's HEAP_MAX_SIZE on 64-bit */
#define MMAP_CHUNK_HEAD	16		/* glibc's header before an mmap'd block */

enum region { REGION_OTHER, REGION_MALLOC, REGION_POOL };

struct mapping {
	uint64_t start, end, rss;
	int heap;		/* [heap], or a 64 MiB-aligned arena heap */
	int noaccess;		/* ---p: an arena heap's reserve after it */
	int anonymous;
};

/* The rw-p and ---p mappings of pid with their resident bytes, in address order. */
static int read_smaps(pid_t pid, struct mapping **out, size_t *n)
{
	char path[64], line[4096];
	struct mapping *m = NULL, *grown;
	size_t cap = 0;
	FILE *f;

	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long start, end, kb;
		char perms[8] = "", name[4096] = "";

		if (sscanf(line, "%llx-%llx %7s %*s %*s %*s %4095[^\n]", &start, &end, perms, name) >= 3) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 256;
				grown = realloc(m, cap * sizeof(*m));
				if (!grown) {
					fclose(f);
					free(m);
					return -ENOMEM;
				}
				m = grown;
			}
			m[(*n)++] = (struct mapping){
				.start = start, .end = end,
				.heap = strcmp(name, "[heap]") == 0,
				.noaccess = strncmp(perms, "---", 3) == 0,
				.anonymous = name[0] == '\0',
			};
		} else if (*n && sscanf(line, "Rss: %llu kB", &kb) == 1) {
			m[*n - 1].rss = kb * 1024;
		}
	}
	fclose(f);
	/* an arena heap: anonymous, 64 MiB-aligned, its reserve right after */
	for (size_t i = 0; i + 1 < *n; i++)
		if (m[i].anonymous && !m[i].noaccess && !(m[i].start & (ARENA_HEAP - 1)) &&
		    m[i + 1].start == m[i].end && m[i + 1].noaccess)
			m[i].heap = 1;
	*out = m;
	return 0;
}

/*
 * pymalloc's pools are 16 KiB, aligned, each starting with its header:
 * ref.count (u32 at 0), ..., arenaindex (u32 at 32), szidx (36),
 * nextoffset (40), maxnextoffset (44). The pools of one arena share its
 * index; that groups them, and the blocks in them, by arena.
 */
#define POOL_SIZE	16384
#define POOL_HEAD	48
#define POOL_BATCH	256

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
	uint32_t heads[POOL_BATCH][POOL_HEAD / 4];
	struct iovec local[POOL_BATCH], remote[POOL_BATCH];

	for (uint64_t a = (start + POOL_SIZE - 1) & ~(uint64_t)(POOL_SIZE - 1); a + POOL_SIZE <= end;) {
		size_t k = 0;
		ssize_t got;

		for (; k < POOL_BATCH && a + POOL_SIZE <= end; k++, a += POOL_SIZE) {
			local[k] = (struct iovec){ heads[k], POOL_HEAD };
			remote[k] = (struct iovec){ (void *)(uintptr_t)a, POOL_HEAD };
		}
		got = process_vm_readv(pid, local, k, remote, k, 0);
		if (got < 0)
			return errno == ESRCH ? -ESRCH : 0;
		for (size_t j = 0; j < k && (size_t)got >= (j + 1) * POOL_HEAD; j++) {
			const uint32_t *h = heads[j];

			/* a header pymalloc wrote: its size class, its offsets in the pool */
			if (h[9] >= 64 || h[10] < POOL_HEAD || h[10] > POOL_SIZE || h[11] > POOL_SIZE || h[0] > POOL_SIZE / 8)
				continue;
			if (*n == *cap) {
				struct pool *grown = realloc(*pools, (*cap = *cap ? *cap * 2 : 1024) * sizeof(**pools));

				if (!grown)
					return -ENOMEM;
				*pools = grown;
			}
			(*pools)[(*n)++] = (struct pool){ a - (k - j) * POOL_SIZE, h[8], 0 };
		}
	}
	return 0;
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

int rssparts_read(pid_t pid, const struct live_block *blocks, size_t nblocks, int python,
		  struct profile_rss_parts *out, struct profile_pins *pins)
{
	struct pool *pools = NULL;
	size_t npools = 0, pools_cap = 0;
	struct mapping *m;
	size_t n, b = 0;
	int ret = read_smaps(pid, &m, &n);

	memset(out, 0, sizeof(*out));
	if (ret < 0)
		return ret;
	for (size_t i = 0; i < n; i++) {
		uint64_t live = 0, count = 0, first = 0;
		enum region kind = REGION_OTHER;

		out->rss += m[i].rss;
		while (b < nblocks && blocks[b].addr < m[i].start)
			b++;
		for (; b < nblocks && blocks[b].addr < m[i].end; b++) {
			if (!count++)
				first = blocks[b].addr;
			live += blocks[b].size;
		}
		if (m[i].heap)
			kind = REGION_MALLOC;
		else if (count == 1 && first == m[i].start + MMAP_CHUNK_HEAD)
			kind = REGION_MALLOC;	/* one block malloc mapped on its own */
		else if (count && m[i].anonymous)
			kind = python ? REGION_POOL : REGION_MALLOC;	/* an allocator's arenas */
		if (kind == REGION_OTHER)
			continue;
		/* a block's untouched pages are not resident: at most the mapping's */
		if (live > m[i].rss)
			live = m[i].rss;
		out->live_heap += live;
		if (kind == REGION_POOL)
			out->pymalloc_free += m[i].rss - live;
		else
			out->allocator_free += m[i].rss - live;
		if (kind == REGION_POOL && pins && (ret = read_pools(pid, m[i].start, m[i].end, &pools, &npools,
								   &pools_cap)) < 0)
			break;
	}
	out->other = out->rss - out->live_heap - out->pymalloc_free - out->allocator_free;
	if (pins) {
		memset(pins, 0, sizeof(*pins));
		if (ret == 0 && npools)
			ret = count_pins(pools, npools, blocks, nblocks, pins);
	}
	free(pools);
	free(m);
	return ret;
}

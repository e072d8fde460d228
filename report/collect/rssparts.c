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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int rssparts_read(pid_t pid, const struct live_block *blocks, size_t nblocks, int python,
		  struct profile_rss_parts *out)
{
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
	}
	out->other = out->rss - out->live_heap - out->pymalloc_free - out->allocator_free;
	free(m);
	return 0;
}

/*
 * procmaps.c - read /proc/PID/maps (or smaps, with each mapping's
 * resident bytes) into a sorted array of mappings.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/array.h"
#include "procmaps.h"

static unsigned parse_perms(const char *p)
{
	return (p[0] == 'r' ? MAP_PERM_READ : 0) | (p[1] == 'w' ? MAP_PERM_WRITE : 0) |
	       (p[2] == 'x' ? MAP_PERM_EXEC : 0) | (p[3] == 's' ? MAP_PERM_SHARED : 0);
}

/* maps, or smaps: the same head line per mapping, then its fields
 * (Rss: the resident bytes). */
static int read_map_file(struct proc_maps *m, pid_t pid, const char *file)
{
	char path[64], *line = NULL;
	size_t linecap = 0, cap = 0;
	FILE *f;
	int ret = 0;

	m->items = NULL;
	m->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	f = fopen(path, "re");
	if (!f)
		return errno == ENOENT ? -ESRCH : -errno;
	while (getline(&line, &linecap, f) > 0) {
		struct proc_mapping *pm;
		char perms[8];
		uint64_t start, end, offset, inode, kb;
		int name_at = 0;

		if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*x:%*x %" SCNu64 " %n",
			   &start, &end, perms, &offset, &inode, &name_at) < 5) {
			if (m->n && sscanf(line, "Rss: %" SCNu64 " kB", &kb) == 1)
				m->items[m->n - 1].rss = kb * 1024;
			continue;
		}
		if (array_grow((void **)&m->items, &cap, m->n + 1, sizeof(*m->items)) < 0) {
			ret = -ENOMEM;
			break;
		}
		line[strcspn(line, "\n")] = '\0';
		pm = &m->items[m->n];
		*pm = (struct proc_mapping){ start, end, offset, inode, parse_perms(perms),
					     strdup(name_at ? line + name_at : ""), 0 };
		if (!pm->path) {
			ret = -ENOMEM;
			break;
		}
		m->n++;
	}
	free(line);
	fclose(f);
	if (ret == 0 && m->n == 0)
		ret = -ESRCH;	/* a zombie has no map */
	if (ret < 0)
		procmaps_release(m);
	return ret;
}

int procmaps_read(struct proc_maps *m, pid_t pid)
{
	return read_map_file(m, pid, "maps");
}

int procmaps_read_resident(struct proc_maps *m, pid_t pid)
{
	return read_map_file(m, pid, "smaps");
}

int procmaps_arena_heap_shape(const struct proc_maps *m, size_t i)
{
	const struct proc_mapping *h = &m->items[i], *next = i + 1 < m->n ? &m->items[i + 1] : NULL;

	return !h->path[0] && !(h->start & (PROCMAPS_ARENA_HEAP - 1)) && next && next->start == h->end &&
	       !(next->perms & (MAP_PERM_READ | MAP_PERM_WRITE | MAP_PERM_EXEC));
}

void procmaps_release(struct proc_maps *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->items[i].path);
	free(m->items);
	m->items = NULL;
	m->n = 0;
}

const struct proc_mapping *procmaps_find(const struct proc_maps *m, uint64_t addr)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (m->items[mid].end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < m->n && m->items[lo].start <= addr ? &m->items[lo] : NULL;
}

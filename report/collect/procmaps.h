/*
 * procmaps.h - the memory map of another process, from /proc/PID/maps.
 *
 * The reachability scan needs to know which ranges are stacks, loaded
 * objects, malloc's own heaps and the program's other mappings, and which
 * of them can be read at all.
 */
#ifndef HEAPWISE_PROCMAPS_H
#define HEAPWISE_PROCMAPS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MAP_PERM_READ		1
#define MAP_PERM_WRITE		2
#define MAP_PERM_EXEC		4
#define MAP_PERM_SHARED		8

struct proc_mapping {
	uint64_t start, end;
	uint64_t offset;	/* into the file */
	uint64_t inode;
	unsigned perms;		/* MAP_PERM_* */
	char *path;		/* "" for anonymous memory, "[stack]", "[heap]", a file */
	uint64_t rss;		/* resident bytes (procmaps_read_resident only, else 0) */
};

struct proc_maps {
	struct proc_mapping *items;	/* sorted by address, as the kernel lists them */
	size_t n;
};

/* Read the map of pid. Returns 0 or -errno (-ESRCH: the process is gone). */
int procmaps_read(struct proc_maps *m, pid_t pid);

/* The same from /proc/PID/smaps, each mapping with its resident bytes. */
int procmaps_read_resident(struct proc_maps *m, pid_t pid);

#define PROCMAPS_ARENA_HEAP	(64ull << 20)	/* glibc's HEAP_MAX_SIZE on 64-bit */

/* Has mapping i the shape of one of malloc's arena heaps: anonymous,
 * PROCMAPS_ARENA_HEAP-aligned, its PROT_NONE reserve right after it? */
int procmaps_arena_heap_shape(const struct proc_maps *m, size_t i);
void procmaps_release(struct proc_maps *m);

/* The mapping holding addr, or NULL. */
const struct proc_mapping *procmaps_find(const struct proc_maps *m, uint64_t addr);

#endif

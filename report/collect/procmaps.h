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
};

struct proc_maps {
	struct proc_mapping *items;	/* sorted by address, as the kernel lists them */
	size_t n;
};

/* Read the map of pid. Returns 0 or -errno (-ESRCH: the process is gone). */
int procmaps_read(struct proc_maps *m, pid_t pid);
void procmaps_release(struct proc_maps *m);

/* The mapping holding addr, or NULL. */
const struct proc_mapping *procmaps_find(const struct proc_maps *m, uint64_t addr);

#endif

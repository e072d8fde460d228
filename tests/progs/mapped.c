/*
 * mapped.c - pointers kept only in memory the program mapped itself, in
 * the shapes that are easy to skip as roots:
 *  - an anonymous mapping right below a big block's (malloc mmaps blocks
 *    of 256 KiB), which the kernel merges with it into one mapping:
 *    it holds the only pointer to a 1111-byte block;
 *  - the writable half of a PROT_NONE reservation, after its reserved
 *    half (as a GC reserves, and as a thread stack's guard looks):
 *    the only pointer to a 2222-byte block;
 *  - a 64 MiB-aligned reservation writable at its start (as malloc's
 *    arena heaps look, without being one): the only pointer to a
 *    3333-byte block.
 * All three blocks are still reachable (memcheck says so); the big block
 * too, from a global.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MiB (1ul << 20)

static void *big;	/* the 256 KiB block */

static void **merged(void)
{
	char *chunk;
	void *below;

	big = malloc(256 * 1024);
	chunk = (char *)big - 16;	/* malloc's mmapped chunk starts its mapping */
	below = mmap(chunk - 65536, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
		     -1, 0);
	return below == MAP_FAILED ? NULL : below;
}

static void **reserved_upper_half(void)
{
	char *r = mmap(NULL, 16 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (r == MAP_FAILED || mprotect(r + 8 * MiB, 8 * MiB, PROT_READ | PROT_WRITE) < 0)
		return NULL;
	return (void **)(r + 8 * MiB);
}

static void **aligned_reservation(void)
{
	char *r = mmap(NULL, 128 * MiB, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	char *at;

	if (r == MAP_FAILED)
		return NULL;
	at = (char *)(((uintptr_t)r + 64 * MiB - 1) & ~(64 * MiB - 1));
	if (mprotect(at, MiB, PROT_READ | PROT_WRITE) < 0)
		return NULL;
	return (void **)(at + 4096);	/* past the words an arena heap would start with */
}

int main(void)
{
	void **a = merged(), **b = reserved_upper_half(), **c = aligned_reservation();

	if (!a || !b || !c) {
		fprintf(stderr, "mapped: cannot lay out the mappings\n");
		return 1;
	}
	a[100] = malloc(1111);
	b[100] = malloc(2222);
	c[100] = malloc(3333);
	memset(a[100], 1, 1111);
	memset(b[100], 2, 2222);
	memset(c[100], 3, 3333);
	a = b = c = NULL;
	return 0;
}

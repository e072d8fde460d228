/*
 * entry.c - every allocator entry point once or more, with a known result.
 *
 * Allocations (requested bytes):
 *   malloc 100, calloc 10x20=200, realloc(NULL,50)=50, realloc grow to 500
 *   (old 50 freed), realloc(p,0) frees it, reallocarray 4x25=100,
 *   posix_memalign 256, aligned_alloc 128, memalign 64, valloc 1000,
 *   pvalloc 1 (rounded to one page), free(NULL) (not an event).
 * Live at exit: the malloc(100) and the valloc(1000) blocks.
 * `entry no-pvalloc` skips pvalloc, which valgrind 3.19 refuses to run.
 */
#define _GNU_SOURCE
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	void *keep1 = malloc(100);
	void *c = calloc(10, 20);
	void *r = realloc(NULL, 50);
	void *ra, *pm, *aa, *ma, *keep2, *pv;

	r = realloc(r, 500);
	if (realloc(r, 0) != NULL)		/* glibc frees r, returns NULL */
		return 1;
	ra = reallocarray(NULL, 4, 25);
	if (posix_memalign(&pm, 64, 256) != 0)
		return 1;
	aa = aligned_alloc(64, 128);
	ma = memalign(32, 64);
	keep2 = valloc(1000);
	pv = argc > 1 && strcmp(argv[1], "no-pvalloc") == 0 ? NULL : pvalloc(1);
	free(NULL);
	free(c);
	free(ra);
	free(pm);
	free(aa);
	free(ma);
	free(pv);
	printf("%p %p\n", keep1 ? (void *)1 : NULL, keep2 ? (void *)1 : NULL);
	return 0;
}

/*
 * array.h - grow a malloc'ed array by doubling, the one way report/ does it.
 */
#ifndef HEAPWISE_ARRAY_H
#define HEAPWISE_ARRAY_H

#include <errno.h>
#include <stdlib.h>

/* Make *arr (holding *cap elements of size bytes) hold at least need.
 * Returns 0, or -ENOMEM with *arr and *cap unchanged. */
static inline int array_grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t n = *cap ? *cap : 64;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*arr, n * size);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = n;
	return 0;
}

#endif

/*
 * array.h - grow a malloc'ed array by doubling, the one way report/ does
 * it; and a byte buffer built on it.
 */
#ifndef HEAPWISE_ARRAY_H
#define HEAPWISE_ARRAY_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/* Bytes appended one piece after another (a key, a protobuf message).
 * Running out of memory sticks: later appends do nothing. */
struct buffer {
	char *data;
	size_t len, cap;
	int failed;		/* out of memory once: data is incomplete */
};

/* Append n bytes, and keep a NUL after them, so text reads as a string. */
static inline void buffer_add(struct buffer *b, const void *data, size_t n)
{
	if (b->failed)
		return;
	if (array_grow((void **)&b->data, &b->cap, b->len + n + 1, 1) < 0) {
		b->failed = 1;
		return;
	}
	if (n)
		memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
}

#endif

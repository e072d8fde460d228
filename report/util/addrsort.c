/*
 * addrsort.c - LSD radix sort of records keyed by a leading uint64_t.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addrsort.h"

static uint64_t key_at(const char *base, size_t i, size_t size)
{
	uint64_t k;

	memcpy(&k, base + i * size, sizeof(k));
	return k;
}

/* Are they in order already? (A snapshot cut from a scan is: sorting it
 * again would cost four passes over memory for nothing.) */
static int sorted(const char *base, size_t n, size_t size)
{
	for (size_t i = 1; i < n; i++)
		if (key_at(base, i - 1, size) > key_at(base, i, size))
			return 0;
	return 1;
}

int sort_by_addr(void *records, size_t n, size_t size)
{
	char *tmp, *src = records, *dst;
	size_t *count;

	if (sorted(records, n, size))
		return 0;
	tmp = malloc(n ? n * size : 1);
	dst = tmp;
	count = calloc(65536, sizeof(*count));
	if (!tmp || !count) {
		free(tmp);
		free(count);
		return -ENOMEM;
	}
	for (int shift = 0; shift < 64; shift += 16) {
		size_t sum = 0;

		memset(count, 0, 65536 * sizeof(*count));
		for (size_t i = 0; i < n; i++)
			count[(key_at(src, i, size) >> shift) & 0xffff]++;
		if (n && count[(key_at(src, 0, size) >> shift) & 0xffff] == n)
			continue;	/* all equal in this digit */
		for (size_t d = 0; d < 65536; d++) {
			size_t c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			memcpy(dst + count[(key_at(src, i, size) >> shift) & 0xffff]++ * size, src + i * size, size);
		char *t = src;

		src = dst;
		dst = t;
	}
	if (src != (char *)records)
		memcpy(records, src, n * size);
	free(tmp);
	free(count);
	return 0;
}

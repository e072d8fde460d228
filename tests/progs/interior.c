/*
 * interior.c - a heap of interior pointers: N blocks of 8 KiB (argv[1],
 * default 2000), every word of each pointing into the middle of another
 * block, all reachable from a global array. The exit scan must judge 2M
 * interior pointers without a system call for each.
 */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>

#define WORDS (8192 / sizeof(uintptr_t))

static uintptr_t **blocks;

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000;
	uint64_t x = 88172645463325252ull;

	blocks = malloc((size_t)n * sizeof(*blocks));
	for (long i = 0; i < n; i++)
		blocks[i] = malloc(WORDS * sizeof(uintptr_t));
	for (long i = 0; i < n; i++)
		for (size_t w = 0; w < WORDS; w++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			blocks[i][w] = (uintptr_t)blocks[x % (uint64_t)n] + 8 * (1 + x % (WORDS - 2));
		}
	printf("%ld blocks\n", n);
	return 0;
}

/*
 * deepalloc.c - workload (c) of `make bench`: OPS malloc/free pairs made
 * 16 to 32 frames deep, over a live working set of 10,000 blocks.
 *   deepalloc OPS
 */
#include <stdint.h>
#include <stdlib.h>

#define WORKING_SET 10000

static void *set[WORKING_SET];

/*
 * The volatile read after the call keeps every level's frame: without it
 * gcc -O2 turns the recursion into a loop and the stacks are 4 deep.
 */
__attribute__((noinline)) static int descend(int depth, uint64_t x)
{
	volatile int level = depth;

	if (depth == 0) {
		size_t k = (size_t)(x % WORKING_SET);

		free(set[k]);
		set[k] = malloc(16 + x % 500);
		return 1;
	}
	return descend(depth - 1, x) + (level & 1);
}

int main(int argc, char **argv)
{
	long ops = argc > 1 ? atol(argv[1]) : 500000;
	uint64_t x = 88172645463325252ull;
	long sum = 0;

	for (long i = 0; i < ops; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		sum += descend(14 + (int)(x % 17), x);	/* plus main and libc: 16-32 deep */
	}
	for (size_t k = 0; k < WORKING_SET; k++)
		free(set[k]);
	return sum == 0;
}

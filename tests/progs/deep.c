/*
 * deep.c - allocations made `depth` frames deep (default 40): 10 blocks
 * of 64 bytes at the bottom of a recursion, all leaked.
 */
#include <stdlib.h>

static void *kept[10];

__attribute__((noinline)) static int descend(int depth, int i)
{
	if (depth == 0) {
		kept[i] = malloc(64);
		return 0;
	}
	return descend(depth - 1, i) + 1;
}

int main(int argc, char **argv)
{
	int depth = argc > 1 ? atoi(argv[1]) : 40;

	for (int i = 0; i < 10; i++)
		descend(depth, i);
	return 0;
}

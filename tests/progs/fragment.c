/*
 * fragment.c - memory the allocator keeps but the program does not use:
 * 200,000 blocks of 256 B (about 50 MiB), all freed but every 100th, so
 * the heap cannot shrink; then it stays alive 0.3 s for samples to see it.
 */
#include <stdlib.h>
#include <time.h>

#define N 200000

static void *blocks[N];

int main(void)
{
	struct timespec nap = { 0, 300000000 };

	for (int i = 0; i < N; i++)
		blocks[i] = malloc(256);
	for (int i = 0; i < N; i++)
		if (i % 100)
			free(blocks[i]);
	nanosleep(&nap, NULL);
	return 0;
}

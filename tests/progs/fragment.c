/*
 * fragment.c - memory the allocator keeps but the program does not use:
 * 200,000 blocks of 256 B (about 50 MiB), all freed but every 100th, so
 * the heap cannot shrink; then it stays alive 0.3 s for samples to see it.
 * With "info" it then writes glibc's own count of the free bytes it holds
 * (mallinfo2's fordblks) on stdout, without allocating.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N 200000

static void *blocks[N];

int main(int argc, char **argv)
{
	struct timespec nap = { 0, 300000000 };

	for (int i = 0; i < N; i++)
		blocks[i] = malloc(256);
	for (int i = 0; i < N; i++)
		if (i % 100)
			free(blocks[i]);
	nanosleep(&nap, NULL);
	if (argc > 1 && strcmp(argv[1], "info") == 0) {
		char line[64];
		int n = snprintf(line, sizeof(line), "fordblks %zu\n", mallinfo2().fordblks);

		if (write(1, line, (size_t)n) != n)
			return 1;
	}
	return 0;
}

/*
 * steady.c - a program that runs for a while: every 10 ms for `rounds`
 * rounds it allocates and frees 2000 blocks and prints one line; ends with
 * exit code 3. Used to kill the collector mid-run.
 *   steady [rounds]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 100;
	struct timespec ten_ms = { 0, 10000000 };
	void *b[2000];

	for (int r = 0; r < rounds; r++) {
		for (int i = 0; i < 2000; i++)
			b[i] = malloc((size_t)(8 + i % 100));
		for (int i = 0; i < 2000; i++)
			free(b[i]);
		printf("round %d\n", r);
		fflush(stdout);
		nanosleep(&ten_ms, NULL);
	}
	return 3;
}

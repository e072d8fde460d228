/*
 * manythreads.c - hundreds of short-lived threads, a few alive at a time.
 * Each thread makes 100 blocks of 32 bytes, frees 99, and leaks one 77-byte
 * block into a global array (so it stays reachable). Threads are created
 * in waves of WAVE and joined after each wave.
 *   manythreads [threads]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define WAVE 16

static void *kept[4096];

static void *work(void *arg)
{
	long id = (long)arg;
	void *blocks[100];

	for (int i = 0; i < 100; i++)
		blocks[i] = malloc(32);
	for (int i = 0; i < 99; i++)
		free(blocks[i]);
	free(blocks[99]);
	kept[id] = malloc(77);
	return NULL;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 400;
	pthread_t t[WAVE];

	if (n > 4096)
		n = 4096;
	for (long done = 0; done < n; done += WAVE) {
		long k = n - done < WAVE ? n - done : WAVE;

		for (long i = 0; i < k; i++)
			pthread_create(&t[i], NULL, work, (void *)(done + i));
		for (long i = 0; i < k; i++)
			pthread_join(t[i], NULL);
	}
	printf("%ld threads\n", n);
	return 0;
}

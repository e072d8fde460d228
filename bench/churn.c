/*
 * churn.c - workloads (a) and (b) of `make bench`: OPS malloc/free pairs
 * per thread over a live working set of 10,000 blocks of mixed sizes
 * (16 B to 4 KiB, small ones most often).
 *   churn THREADS OPS
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define WORKING_SET 10000

static long ops = 1000000;

static size_t mixed_size(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	switch (*x % 10) {
	case 0: return 1024 + *x % 3072;	/* 10%: 1-4 KiB */
	case 1: case 2: return 256 + *x % 768;	/* 20%: 256 B - 1 KiB */
	default: return 16 + *x % 240;		/* 70%: 16-256 B */
	}
}

static void *work(void *arg)
{
	void **set = calloc(WORKING_SET, sizeof(*set));
	uint64_t x = 88172645463325252ull + (uintptr_t)arg;

	for (long i = 0; i < ops; i++) {
		size_t k = (size_t)(x % WORKING_SET);

		free(set[k]);
		set[k] = malloc(mixed_size(&x));
	}
	for (size_t k = 0; k < WORKING_SET; k++)
		free(set[k]);
	free(set);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 1;
	pthread_t t[16];

	if (argc > 2)
		ops = atol(argv[2]);
	if (threads < 1 || threads > 16)
		return 2;
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, work, (void *)(uintptr_t)i);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	return 0;
}

/*
 * sampled.c - sites of known sizes for run --sample-rate: many small
 * blocks, medium ones, large ones, a few huge ones kept (leaked), a tiny
 * site, and reallocs and a second thread, so that sampled estimates can be
 * held against the exact run.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *keep;

static __attribute__((noinline)) void small_blocks(void)
{
	for (int i = 0; i < 4000000; i++) {
		char *p = malloc(32);

		p[0] = (char)i;
		keep = p;
		free(p);
	}
}

static __attribute__((noinline)) void medium_blocks(void)
{
	for (int i = 0; i < 300000; i++) {
		char *p = malloc(512);

		p[0] = (char)i;
		keep = p;
		free(p);
	}
}

static __attribute__((noinline)) void large_blocks(void)
{
	for (int i = 0; i < 12000; i++) {
		char *p = calloc(1, 16384);

		keep = p;
		free(p);
	}
}

static __attribute__((noinline)) void grown_blocks(void)
{
	for (int i = 0; i < 50000; i++) {
		char *p = malloc(256);

		p = realloc(p, 2048);
		keep = p;
		free(p);
	}
}

static __attribute__((noinline)) void tiny_site(void)
{
	for (int i = 0; i < 1000; i++)
		free(malloc(64));
}

static void *worker(void *arg)
{
	(void)arg;
	medium_blocks();
	return NULL;
}

int main(void)
{
	pthread_t t;

	if (pthread_create(&t, NULL, worker, NULL) != 0)
		return 1;
	small_blocks();
	pthread_join(t, NULL);
	large_blocks();
	grown_blocks();
	tiny_site();
	for (int i = 0; i < 8; i++) {
		keep = malloc(4 << 20);	/* each overwritten by the next: definitely lost */
		memset(keep, 1, 64);
	}
	keep = NULL;
	puts("sampled done");
	return 0;
}

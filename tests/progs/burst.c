/*
 * burst.c - many threads at once: N threads (argv[1], default 100) wait
 * on a barrier, then each makes M allocations of 32 bytes (argv[2],
 * default 100000), freeing each at once but every 1000th (with argv[3]
 * "keep", freeing none until all are made), and ends. Untraced it takes
 * well under a second; traced, every event must arrive.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_barrier_t start;
static long per_thread = 100000;
static int keep_all;

static void *work(void *arg)
{
	void **kept = arg;
	long n = 0;

	pthread_barrier_wait(&start);
	for (long i = 0; i < per_thread; i++) {
		void *p = malloc(32);

		if (keep_all || i % 1000 == 0)
			kept[n++] = p;
		else
			free(p);
	}
	for (long i = 0; i < n; i++)
		free(kept[i]);
	return NULL;
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 100;
	pthread_t *t;
	void ***kept;

	if (argc > 2)
		per_thread = atol(argv[2]);
	keep_all = argc > 3 && argv[3][0] == 'k';
	t = calloc((size_t)threads, sizeof(*t));
	kept = calloc((size_t)threads, sizeof(*kept));
	pthread_barrier_init(&start, NULL, (unsigned)threads);
	for (int i = 0; i < threads; i++) {
		kept[i] = calloc((size_t)(keep_all ? per_thread : per_thread / 1000 + 1), sizeof(void *));
		pthread_create(&t[i], NULL, work, kept[i]);
	}
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	printf("done\n");
	return 0;
}

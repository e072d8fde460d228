/*
 * threads.c - blocks allocated on producer threads and freed on consumer
 * threads through a shared queue, so freed addresses are reused at once by
 * other threads. PRODUCERS x PER_PRODUCER blocks, all freed; sizes cycle
 * through 16..(16+SIZES-1)*16 bytes, so the byte total is known.
 *   threads [producers consumers per_producer]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define QUEUE 1024

static void *queue[QUEUE];
static size_t qhead, qtail;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER, not_full = PTHREAD_COND_INITIALIZER;
static long per_producer = 100000;

static void push(void *p)
{
	pthread_mutex_lock(&lock);
	while (qhead - qtail == QUEUE)
		pthread_cond_wait(&not_full, &lock);
	queue[qhead++ % QUEUE] = p;
	pthread_cond_signal(&not_empty);
	pthread_mutex_unlock(&lock);
}

static void *pop(void)
{
	void *p;

	pthread_mutex_lock(&lock);
	while (qhead == qtail)
		pthread_cond_wait(&not_empty, &lock);
	p = queue[qtail++ % QUEUE];
	pthread_cond_signal(&not_full);
	pthread_mutex_unlock(&lock);
	return p;
}

static void *produce(void *arg)
{
	(void)arg;
	for (long i = 0; i < per_producer; i++)
		push(malloc((size_t)(16 * (1 + i % 8))));
	return NULL;
}

static void *consume(void *arg)
{
	for (;;) {
		void *p = pop();

		if (p == arg)	/* the stop marker */
			return NULL;
		free(p);
	}
}

int main(int argc, char **argv)
{
	int producers = argc > 1 ? atoi(argv[1]) : 4;
	int consumers = argc > 2 ? atoi(argv[2]) : 3;
	pthread_t pt[64], ct[64];
	static char stop;

	if (argc > 3)
		per_producer = atol(argv[3]);
	for (int i = 0; i < consumers; i++)
		pthread_create(&ct[i], NULL, consume, &stop);
	for (int i = 0; i < producers; i++)
		pthread_create(&pt[i], NULL, produce, NULL);
	for (int i = 0; i < producers; i++)
		pthread_join(pt[i], NULL);
	for (int i = 0; i < consumers; i++)
		push(&stop);
	for (int i = 0; i < consumers; i++)
		pthread_join(ct[i], NULL);
	printf("done\n");
	return 0;
}

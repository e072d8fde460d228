/*
 * thread.h - start a helper thread of heapwise's own.
 */
#ifndef HEAPWISE_THREAD_H
#define HEAPWISE_THREAD_H

#include <pthread.h>
#include <signal.h>

/*
 * Start fn(arg) on a thread with every signal blocked: a signal meant for
 * heapwise (forwarded to the program, or ending the run) must never land
 * on a helper. Returns 0 or an errno value, as pthread_create.
 */
static inline int thread_start_quiet(pthread_t *thread, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int ret;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(thread, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return ret;
}

#endif

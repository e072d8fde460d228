/*
 * clonevm.c - a thread made with raw clone(CLONE_VM | CLONE_THREAD ...)
 * and no CLONE_SETTLS: it runs on a stack of its own but shares the
 * thread-local storage of the thread that made it (glibc's and the
 * tracer's). It and the main thread make N allocations each (argv[1],
 * default 100000), freeing each at once. By default they take turns; with
 * argv[2] "together" they run at the same time, which glibc's malloc
 * survives only without its per-TLS tcache (GLIBC_TUNABLES=
 * glibc.malloc.tcache_count=0) and once a pthread has made the process
 * multi-threaded (so that its arenas lock): both are done here or asked.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>

static int done;

static void churn(long n)
{
	for (long i = 0; i < n; i++) {
		void *volatile p = malloc(64);

		free(p);
	}
}

static int child(void *arg)
{
	churn((long)arg);
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &done, FUTEX_WAKE, 1, NULL, NULL, 0);
	syscall(SYS_exit, 0);
	return 0;
}

static void *nothing(void *arg)
{
	return arg;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	int together = argc > 2 && strcmp(argv[2], "together") == 0;
	char *stack = malloc(1 << 20);
	pthread_t t;

	/* glibc locks its arenas only once a second thread was made */
	if (pthread_create(&t, NULL, nothing, NULL) != 0 || pthread_join(t, NULL) != 0)
		return 1;

	if (!stack || clone(child, stack + (1 << 20), CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			    CLONE_THREAD | CLONE_SYSVSEM, (void *)n) < 0)
		return 1;
	if (together)
		churn(n);
	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, &done, FUTEX_WAIT, 0, NULL, NULL, 0);
	usleep(10000);	/* the child has left the kernel's exit path */
	if (!together)
		churn(n);
	printf("done\n");
	return 0;
}

/*
 * clonevm.c - a thread made with raw clone(CLONE_VM | CLONE_THREAD ...)
 * and no CLONE_SETTLS: it runs on a stack of its own but shares the
 * thread-local storage of the thread that made it (glibc's and the
 * tracer's). It makes N allocations (argv[1], default 100000), freeing
 * each, and ends; then the main thread does the same. They take turns:
 * glibc's own malloc is not safe for two threads sharing one TLS at once
 * (its tcache and arena pointer live there), untraced or not.
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
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

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 100000;
	char *stack = malloc(1 << 20);

	if (!stack || clone(child, stack + (1 << 20), CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
			    CLONE_THREAD | CLONE_SYSVSEM, (void *)n) < 0)
		return 1;
	while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, &done, FUTEX_WAIT, 0, NULL, NULL, 0);
	usleep(10000);	/* the child has left the kernel's exit path */
	churn(n);
	printf("done\n");
	return 0;
}

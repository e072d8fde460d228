/*
 * aslimit.c - a program that limits its own address space: it sets
 * RLIMIT_AS to argv[1] MiB (default 200), then takes 1 MiB blocks until
 * malloc fails and prints how many it got (freeing them all). With
 * argv[2] "exec" it execs itself after setting the limit, so that a new
 * image attaches under it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

int main(int argc, char **argv)
{
	long mib = argc > 1 ? atol(argv[1]) : 200;
	struct rlimit rl = { (rlim_t)mib << 20, (rlim_t)mib << 20 };
	static void *blocks[100000];
	long n = 0;

	if (argc > 2 && strcmp(argv[2], "exec") == 0) {
		if (setrlimit(RLIMIT_AS, &rl) < 0)
			return 2;
		execl("/proc/self/exe", argv[0], argv[1], "limited", (char *)NULL);
		return 127;
	}
	if (!(argc > 2 && strcmp(argv[2], "limited") == 0) && setrlimit(RLIMIT_AS, &rl) < 0)
		return 2;
	while (n < 100000 && (blocks[n] = malloc(1 << 20)))
		n++;
	printf("got %ld MiB\n", n);
	while (n > 0)
		free(blocks[--n]);
	return 0;
}

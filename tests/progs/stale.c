/*
 * stale.c - a leak whose last pointer is dropped just before the program
 * leaves, as LeakSanitizer's exit_atexit_stale_stack test does: hold()
 * keeps a 1337-byte block in its frame and returns, so the address stays
 * in stack below main that exit()'s own frames later lie over. The block
 * is definitely lost (memcheck and LeakSanitizer say so).
 *
 * With "exit", the program leaves by exit() from leave(), whose frame
 * still holds a 4242-byte block: that one is the program's, and stays
 * reachable. Without, main returns.
 */
#include <stdlib.h>
#include <string.h>

static __attribute__((noinline)) void hold(void)
{
	void *volatile kept = malloc(1337);

	memset((void *)kept, 1, 1337);
}

static __attribute__((noinline)) void leave(void)
{
	void *volatile live = malloc(4242);

	memset((void *)live, 2, 4242);
	exit(0);
}

int main(int argc, char **argv)
{
	hold();
	if (argc > 1 && strcmp(argv[1], "exit") == 0)
		leave();
	return 0;
}

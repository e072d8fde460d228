/*
 * watched.c - a program for the live dashboard's tests: its heap changes
 * in steps a test controls from stdin, while one site churns all along.
 *
 *   phase 1: big_few 10 x 100000 B, small_many 5000 x 16 B, and lose
 *            3 x 64 B (lose_some drops the pointers); writes "ready 1"
 *   phase 2: after a line on stdin, grower +500 x 1000 B; writes "ready 2"
 *   end:     after another line, exit without freeing
 *
 * churn() allocates and frees 64 B, 200 times every millisecond or so, the
 * whole time. End of input counts as a line. No stdio: libc must not
 * allocate behind the program's back.
 */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *big[10], *small[5000], *grown[500];

__attribute__((noinline)) static void *big_few(void)
{
	return malloc(100000);
}

__attribute__((noinline)) static void *small_many(void)
{
	return malloc(16);
}

__attribute__((noinline)) static void *grower(void)
{
	return malloc(1000);
}

__attribute__((noinline)) static void lose_some(void)
{
	for (int i = 0; i < 3; i++) {
		char *volatile p = malloc(64);

		memset(p, 1, 64);
		p = NULL;
	}
}

/* Overwrite the dead stack below us, where lose_some's pointers were. */
__attribute__((noinline)) static void scrub_stack(void)
{
	volatile char junk[8192];

	memset((char *)junk, 0, sizeof(junk));
}

__attribute__((noinline)) static void churn(void)
{
	for (int i = 0; i < 200; i++) {
		char *volatile p = malloc(64);

		free(p);
	}
}

static void say(const char *msg)
{
	if (write(1, msg, strlen(msg)) < 0)
		_exit(1);
}

/* Churn until a line (or the end) comes on stdin. */
static void churn_until_line(void)
{
	static int eof;
	char c;

	while (!eof) {
		struct pollfd pfd = { 0, POLLIN, 0 };

		churn();
		if (poll(&pfd, 1, 1) <= 0)
			continue;
		for (;;) {
			ssize_t n = read(0, &c, 1);

			if (n <= 0) {
				eof = 1;
				return;
			}
			if (c == '\n')
				return;
		}
	}
}

int main(void)
{
	for (int i = 0; i < 10; i++)
		big[i] = big_few();
	for (int i = 0; i < 5000; i++)
		small[i] = small_many();
	lose_some();
	scrub_stack();
	say("ready 1\n");
	churn_until_line();
	for (int i = 0; i < 500; i++)
		grown[i] = grower();
	say("ready 2\n");
	churn_until_line();
	return 0;
}

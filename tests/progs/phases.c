/*
 * phases.c - a program whose heap changes by known amounts in four phases,
 * for snapshots, top, diff and growth. After each of the first three it
 * writes "ready N" and waits for a line on stdin (EOF: go on at once),
 * so a test can take a snapshot at exactly that point.
 *   phases [N]   N blocks of 1000 B at site A in phase 4 (default 100)
 *
 *   phase 1: A +100 x 1000 B, B +50 x 200 B
 *   phase 2: A +100, B all freed, C +30 x 4096 B
 *   phase 3: A +100, C the first 10 freed
 *   phase 4: A +N, then exit without freeing
 * No stdio: libc must not allocate behind the program's back.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void *site_a(void)
{
	return malloc(1000);
}

static void *site_b(void)
{
	return malloc(200);
}

static void *site_c(void)
{
	return malloc(4096);
}

static void *keep[1024];
static int nkeep;

static void ready(const char *msg)
{
	char c;

	if (write(1, msg, strlen(msg)) < 0)
		_exit(1);
	while (read(0, &c, 1) == 1 && c != '\n')
		;
}

int main(int argc, char **argv)
{
	void *b[50], *c[30];
	int extra = argc > 1 ? atoi(argv[1]) : 100;

	for (int i = 0; i < 100; i++)
		keep[nkeep++] = site_a();
	for (int i = 0; i < 50; i++)
		b[i] = site_b();
	ready("ready 1\n");

	for (int i = 0; i < 100; i++)
		keep[nkeep++] = site_a();
	for (int i = 0; i < 50; i++)
		free(b[i]);
	for (int i = 0; i < 30; i++)
		c[i] = site_c();
	ready("ready 2\n");

	for (int i = 0; i < 100; i++)
		keep[nkeep++] = site_a();
	for (int i = 0; i < 10; i++)
		free(c[i]);
	ready("ready 3\n");

	for (int i = 0; i < extra && nkeep < 1024; i++)
		keep[nkeep++] = site_a();
	return keep[0] && c[29] ? 0 : 1;
}

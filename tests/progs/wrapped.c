/*
 * wrapped.c - allocations made through wrappers: the program's own
 * pool_alloc (no one knows it), an xmalloc (the GNU name, known), and
 * strdup (glibc's, named __GI___strdup with libc6-dbg). Blocks are kept
 * and lost in known numbers so every command can be asked where they came
 * from: 10 of 100 bytes from load_config through pool_alloc, 5 of 200
 * from parse_args through pool_alloc, 3 of 64 from main through xmalloc,
 * and one strdup of "wrapped" from main, all lost at exit.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *pool_alloc(size_t n)
{
	void *p = malloc(n);

	if (!p)
		abort();
	return p;
}

static void *xmalloc(size_t n)
{
	return pool_alloc(n);
}

static void **keep;

static void load_config(void)
{
	for (int i = 0; i < 10; i++)
		keep[i] = pool_alloc(100);
}

static void parse_args(void)
{
	for (int i = 0; i < 5; i++)
		keep[10 + i] = pool_alloc(200);
}

int main(void)
{
	char *name;

	keep = calloc(32, sizeof(*keep));
	load_config();
	parse_args();
	for (int i = 0; i < 3; i++)
		keep[15 + i] = xmalloc(64);
	name = strdup("wrapped");
	keep[18] = name;
	printf("%s\n", name);
	keep = NULL;	/* everything lost */
	return 0;
}

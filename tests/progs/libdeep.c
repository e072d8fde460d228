/*
 * libdeep.c - a library that tests/progs/deepbind.c opens with
 * RTLD_DEEPBIND, so its malloc and free bind to libc's, not to whatever
 * was preloaded: deep_make() allocates 35 bytes, deep_free() frees any
 * block, its own or the program's (heaptrack's RTLD_DEEPBIND test).
 */
#include <stdlib.h>
#include <string.h>

void *deep_make(void);
void deep_free(void *p);

void *deep_make(void)
{
	char *p = malloc(35);

	strcpy(p, "made in a deep-bound library");
	return p;
}

void deep_free(void *p)
{
	free(p);
}

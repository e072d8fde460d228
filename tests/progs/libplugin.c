/*
 * libplugin.c - a library loaded with dlopen by tests/progs/dlopener.c.
 * Its constructor allocates 111 bytes (kept), plugin_work() allocates
 * 222 bytes n times (kept by the caller).
 */
#include <stdlib.h>

static void *made_at_load;

__attribute__((constructor)) static void plugin_init(void)
{
	made_at_load = malloc(111);
}

void *plugin_work(void);
void *plugin_work(void)
{
	return malloc(222);
}

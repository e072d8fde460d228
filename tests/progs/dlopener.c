/*
 * dlopener.c - dlopen build/progs/libplugin.so (path in argv[1]), call
 * plugin_work() 5 times, keep the blocks, dlclose, then load it again and
 * call it 3 more times. Heap at exit: 2 x 111 (constructors) + 8 x 222.
 *
 * With "once": load it once, the last library the program opens, and call
 * it 3 times without closing it. Heap at exit: 111 + 3 x 222.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static void *kept[8];

static int round_trip(const char *path, int calls, int at)
{
	void *h = dlopen(path, RTLD_NOW);
	void *(*work)(void);

	if (!h) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return -1;
	}
	work = (void *(*)(void))dlsym(h, "plugin_work");
	for (int i = 0; i < calls; i++)
		kept[at + i] = work();
	dlclose(h);
	return 0;
}

static int once(const char *path)
{
	void *h = dlopen(path, RTLD_NOW);
	void *(*work)(void);

	if (!h)
		return -1;
	work = (void *(*)(void))dlsym(h, "plugin_work");
	for (int i = 0; i < 3; i++)
		kept[i] = work();
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 2 && argv[2][0] == 'o') {
		if (once(argv[1]) < 0)
			return 1;
	} else if (argc < 2 || round_trip(argv[1], 5, 0) < 0 || round_trip(argv[1], 3, 5) < 0) {
		return 1;
	}
	printf("ok\n");
	return 0;
}

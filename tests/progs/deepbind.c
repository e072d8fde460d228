/*
 * deepbind.c - open build/progs/libdeep.so (argv[1]) with RTLD_DEEPBIND,
 * make a block there, and have the library free it and one of ours: both
 * are freed, and nothing leaks (the loader's own blocks stay reachable).
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	void *h = argc > 1 ? dlopen(argv[1], RTLD_NOW | RTLD_DEEPBIND) : NULL;
	void *(*make)(void);
	void (*release)(void *);
	void *mine, *theirs;

	if (!h) {
		fprintf(stderr, "deepbind: %s\n", dlerror());
		return 1;
	}
	make = (void *(*)(void))dlsym(h, "deep_make");
	release = (void (*)(void *))dlsym(h, "deep_free");
	mine = malloc(35);
	theirs = make();
	release(mine);
	release(theirs);
	printf("ok\n");
	return 0;
}

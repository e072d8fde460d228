/*
 * libregistry.c - a library that allocates in its constructor, as
 * libstdc++ (its emergency exception pool), GnuTLS and libtasn1 do: a
 * registry of 8 entries of 48 bytes, each holding a 100-byte name, kept
 * from a global. Its constructor runs before libheapwise.so's, so the 17
 * blocks are only seen when tracing starts at the first allocator call.
 * tests/progs/ctorreg.c links against it.
 */
#include <stdlib.h>
#include <string.h>

struct entry {
	char *name;
	struct entry *next;
	char pad[32];
};

static struct entry *registry;	/* every entry reachable from here */
static void *scratch;		/* the constructor's own buffer, freed in main's time */

__attribute__((constructor)) static void registry_init(void)
{
	for (int i = 0; i < 8; i++) {
		struct entry *e = malloc(sizeof(*e));

		e->name = malloc(100);
		memset(e->name, 'a' + i, 99);
		e->name[99] = '\0';
		e->next = registry;
		registry = e;
	}
	scratch = malloc(4000);
}

int registry_size(void);
int registry_size(void)
{
	int n = 0;

	free(scratch);
	scratch = NULL;
	for (struct entry *e = registry; e; e = e->next)
		n++;
	return n;
}

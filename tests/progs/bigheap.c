/*
 * bigheap.c - a large heap for the scan's speed: `bigheap N [wait]`.
 *
 * N blocks of 80 to 136 bytes (about 100 MB for a million), linked in one
 * list from a global, every tenth also held by a malloc'ed index, except
 * a lost tail: the last N/100 blocks form a list nothing points to (one
 * definitely lost block owning the others). With `wait` it says "ready"
 * on stdout and waits for a line on stdin before it exits.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct node {
	struct node *next;
	struct node *index_hint;
	unsigned long payload[];
};

static struct node *g_list;
static struct node **g_index;

static __attribute__((noinline)) void build(long n)
{
	long lost = n / 100, kept = n - lost;
	struct node *prev = NULL, *lost_head = NULL;

	g_index = malloc((size_t)(kept / 10 + 1) * sizeof(*g_index));
	for (long i = 0; i < n; i++) {
		size_t size = 80 + (size_t)(i % 8) * 8;
		struct node *node = malloc(size);

		memset(node, 0, size);
		node->payload[0] = (unsigned long)i * 2654435761u;	/* not a pointer */
		if (i < kept) {
			node->next = prev;
			prev = node;
			if (i % 10 == 0)
				g_index[i / 10] = node;
		} else {
			node->next = lost_head;
			lost_head = node;
		}
	}
	g_list = prev;
}

/* Wipe the stack below us, so no stale copy of a pointer survives. */
static __attribute__((noinline)) void scrub_stack(void)
{
	volatile char junk[16384];

	memset((char *)junk, 0, sizeof(junk));
}

int main(int argc, char **argv)
{
	char c;

	build(argc > 1 ? atol(argv[1]) : 1000000);
	scrub_stack();
	if (argc > 2 && strcmp(argv[2], "wait") == 0) {
		if (write(1, "ready\n", 6) != 6 || read(0, &c, 1) < 0)
			return 1;
	}
	return g_list ? 0 : 1;
}
